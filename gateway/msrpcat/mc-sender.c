#include "mc-sender.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib-unix.h>

#include "mc-util.h"
#include "msrp-status.h"
#include "msrp-writer.h"

/* Body bytes read and queued at once. */
#define PIECE (64 * 1024)

typedef enum
{
  SRC_TEXT, /* --message */
  SRC_FILE, /* --file */
  SRC_STDIN,
  SRC_BENCH, /* --bench-chat: a timestamped chat message */
} SourceKind;

typedef struct
{
  SourceKind kind;
  const char *text; /* SRC_TEXT; owned by the config */
} Template;

typedef struct
{
  char *message_id;
  char *label; /* for messages: "message 2", "file x.bin" */
  SourceKind kind;
  GBytes *data; /* SRC_TEXT, SRC_BENCH */
  int fd;       /* SRC_FILE, SRC_STDIN; -1 */
  gboolean own_fd;
  gboolean stream; /* total unknown: read until end of input */
  guint64 base;    /* file offset of the first body byte */
  guint64 total;   /* when !stream */
  guint64 offset;  /* body bytes written */
  GByteArray *buf; /* stream: read ahead, at most chunk_size + 1 */
  gboolean eof;
  MsrpWriterChunker *chunker;
  gboolean in_chunk;
  guint64 chunk_len;
  guint64 chunk_left;
  char *tid;      /* the open chunk's */
  guint awaiting; /* chunk responses due */
  guint chunks;
  gboolean all_sent;
  gboolean want_success;
  McRanges *reported; /* bytes confirmed by Success REPORTs */
  gboolean success_done;
} OutMsg;

/* A transaction sent and not answered yet. */
typedef struct
{
  char *message_id; /* NULL for the empty SEND */
  guint64 start;
  guint64 len;
  gint64 sent_time; /* end-line written; 0 before */
  gboolean awaited; /* a response is due (Failure-Report yes) */
} Pending;

struct _McSender
{
  McSession *session;
  const McConfig *config;
  McSenderCallbacks cb;
  gpointer user_data;
  McLink *link;

  GArray *templates; /* Template */
  guint64 planned;   /* messages in all */
  guint64 next_index;
  gint64 interval_us;
  gint64 t0;

  gboolean bind;
  gboolean bind_sent;
  gboolean bind_done;
  gboolean bind_wait;

  OutMsg *cur;          /* the message being written */
  GHashTable *messages; /* message_id -> OutMsg, until confirmed */
  GHashTable *pending;  /* tid -> Pending */
  guint awaiting;       /* Pending with awaited */

  guint timer_id;
  guint stdin_watch;
  int stdin_flags; /* to restore; -1: untouched */

  gboolean started;
  gboolean pumping;
  gboolean stopped;
  gboolean failed;
  gboolean done;
};

static void pump (McSender *s);

static void
out_msg_free (gpointer p)
{
  OutMsg *m = p;

  g_free (m->message_id);
  g_free (m->label);
  g_clear_pointer (&m->data, g_bytes_unref);
  if (m->own_fd && m->fd >= 0)
    close (m->fd);
  g_clear_pointer (&m->buf, g_byte_array_unref);
  g_clear_pointer (&m->chunker, msrp_writer_chunker_free);
  g_free (m->tid);
  mc_ranges_free (m->reported);
  g_free (m);
}

static void
pending_free (gpointer p)
{
  Pending *pd = p;

  g_free (pd->message_id);
  g_free (pd);
}

McSender *
mc_sender_new (McSession *session, const McSenderCallbacks *callbacks,
               gpointer user_data, GError **error)
{
  g_autofree McSender *s = g_new0 (McSender, 1);
  const McConfig *c = session->config;
  Template t;

  s->session = session;
  s->config = c;
  s->cb = *callbacks;
  s->user_data = user_data;
  s->stdin_flags = -1;
  s->templates = g_array_new (FALSE, FALSE, sizeof (Template));
  for (guint i = 0; c->messages != NULL && c->messages[i] != NULL; i++)
    {
      t.kind = SRC_TEXT;
      t.text = c->messages[i];
      g_array_append_val (s->templates, t);
    }
  if (c->file != NULL)
    {
      /* Fail now, before any connection, when the file cannot be read. */
      int fd = open (c->file, O_RDONLY | O_CLOEXEC);

      if (fd < 0)
        {
          int err = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                       "cannot open %s: %s", c->file, g_strerror (err));
          g_array_unref (s->templates);
          return NULL;
        }
      close (fd);
      t.kind = SRC_FILE;
      t.text = NULL;
      g_array_append_val (s->templates, t);
    }
  if (c->use_stdin)
    {
      t.kind = SRC_STDIN;
      t.text = NULL;
      g_array_append_val (s->templates, t);
    }
  if (c->bench_chat > 0)
    {
      s->planned = c->bench_chat;
      s->interval_us = c->rate > 0 ? (gint64) (1e6 / c->rate) : 0;
    }
  else
    {
      s->planned = (guint64) s->templates->len * MAX (c->count, 1);
      s->interval_us = c->interval_us;
    }
  s->bind = c->bind;
  s->messages =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, out_msg_free);
  s->pending =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, pending_free);
  return g_steal_pointer (&s);
}

void
mc_sender_free (McSender *s)
{
  if (s == NULL)
    return;
  if (s->timer_id != 0)
    g_source_remove (s->timer_id);
  if (s->stdin_watch != 0)
    g_source_remove (s->stdin_watch);
  if (s->stdin_flags != -1)
    fcntl (STDIN_FILENO, F_SETFL, s->stdin_flags);
  /* cur is in messages, or was retired. */
  g_hash_table_unref (s->messages);
  g_hash_table_unref (s->pending);
  g_array_unref (s->templates);
  g_clear_pointer (&s->link, mc_link_unref);
  g_free (s);
}

void
mc_sender_set_bind (McSender *s, gboolean bind)
{
  s->bind = bind;
}

void
mc_sender_set_bind_wait (McSender *s, gboolean wait)
{
  s->bind_wait = wait;
}

gboolean
mc_sender_has_work (McSender *s)
{
  return s->bind || s->planned > 0;
}

gboolean
mc_sender_is_started (McSender *s)
{
  return s->started;
}

gboolean
mc_sender_is_done (McSender *s)
{
  return s->done;
}

gboolean
mc_sender_is_waiting (McSender *s)
{
  /* Not while only the --interval timer runs. */
  return s->started && !s->done && !s->failed && !s->stopped &&
         (s->cur != NULL || s->awaiting > 0 ||
          g_hash_table_size (s->messages) > 0);
}

guint
mc_sender_get_awaiting (McSender *s)
{
  return s->awaiting;
}

/* --- failure ----------------------------------------------------------- */

/* RFC 4975 section 7.3.2: "the entire message corresponding to that chunk
 * SHOULD be aborted, by including the "#" character in the continuation
 * field of the end-line". */
static void
abort_current (McSender *s)
{
  OutMsg *m = s->cur;
  g_autoptr (GBytes) end = NULL;
  g_autoptr (GError) error = NULL;

  if (m == NULL)
    return;
  if (m->chunker != NULL && !msrp_writer_chunker_is_done (m->chunker))
    {
      if (msrp_writer_chunker_abort (m->chunker, m->chunk_len - m->chunk_left,
                                     &end, &error))
        {
          if (end != NULL && s->link != NULL)
            mc_link_write (s->link, end);
        }
    }
  if (m->in_chunk && s->link != NULL)
    mc_link_frame_end (s->link);
  m->in_chunk = FALSE;
  s->cur = NULL;
}

static void
fail (McSender *s)
{
  if (s->failed)
    return;
  s->failed = TRUE;
  abort_current (s);
  if (s->cb.on_failed != NULL)
    s->cb.on_failed (s, s->user_data);
}

void
mc_sender_stop (McSender *s)
{
  if (s->stopped)
    return;
  s->stopped = TRUE;
  abort_current (s);
  if (s->timer_id != 0)
    {
      g_source_remove (s->timer_id);
      s->timer_id = 0;
    }
}

/* --- bookkeeping ------------------------------------------------------- */

static void
check_done (McSender *s)
{
  if (s->done || s->failed || s->stopped || !s->started)
    return;
  if ((s->bind && !s->bind_done) || s->next_index < s->planned ||
      s->cur != NULL || g_hash_table_size (s->messages) > 0)
    return;
  s->done = TRUE;
  if (s->cb.on_done != NULL)
    s->cb.on_done (s, s->user_data);
}

/* A message leaves the table once nothing more is expected for it. */
static void
maybe_retire (McSender *s, OutMsg *m)
{
  gboolean confirmed;

  if (!m->all_sent || m->awaiting > 0 || (m->want_success && !m->success_done))
    return;
  confirmed = m->success_done || s->config->failure_report == MSRP_REPORT_YES;
  if (confirmed)
    s->session->stats.messages_delivered++;
  g_hash_table_remove (s->messages, m->message_id);
}

static void
check_success (OutMsg *m)
{
  if (!m->want_success || m->success_done || !m->all_sent)
    return;
  if (m->total == 0 || mc_ranges_covers (m->reported, 1, m->total))
    m->success_done = TRUE;
}

/* --- starting a message ------------------------------------------------ */

static const char *
content_type_for (McSender *s, SourceKind kind)
{
  if (s->config->content_type != NULL)
    return s->config->content_type;
  return kind == SRC_FILE ? "application/octet-stream" : "text/plain";
}

static gboolean
set_nonblocking (int fd, int *old_flags)
{
  int flags = fcntl (fd, F_GETFL);

  if (flags < 0)
    return FALSE;
  if (old_flags != NULL)
    *old_flags = flags;
  return fcntl (fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

/* Open the source of @m: a regular file is read with pread() at known
 * offsets and its size is the total; anything else (a pipe, a terminal) is
 * a stream read without blocking until its end, with the total unknown
 * (Byte-Range "*", RFC 4975 section 7.1.1). */
static gboolean
open_source (McSender *s, OutMsg *m, GError **error)
{
  struct stat st;
  int fd;

  if (m->kind == SRC_FILE)
    {
      fd = open (s->config->file, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          int err = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                       "cannot open %s: %s", s->config->file,
                       g_strerror (err));
          return FALSE;
        }
      m->own_fd = TRUE;
    }
  else
    {
      fd = STDIN_FILENO;
    }
  m->fd = fd;
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode))
    {
      off_t pos = m->kind == SRC_STDIN ? lseek (fd, 0, SEEK_CUR) : 0;

      m->base = pos > 0 ? (guint64) pos : 0;
      m->total =
          (guint64) st.st_size > m->base ? (guint64) st.st_size - m->base : 0;
      return TRUE;
    }
  m->stream = TRUE;
  m->buf = g_byte_array_new ();
  if (m->kind == SRC_STDIN)
    {
      if (s->stdin_flags == -1 && !set_nonblocking (fd, &s->stdin_flags))
        s->stdin_flags = -1;
    }
  else
    {
      set_nonblocking (fd, NULL);
    }
  return TRUE;
}

static gboolean
start_message (McSender *s)
{
  const McConfig *c = s->config;
  g_autoptr (GPtrArray) to = mc_session_get_to_path (s->session);
  g_autoptr (GPtrArray) from = mc_session_get_from_path (s->session);
  g_autoptr (GError) error = NULL;
  OutMsg *m = g_new0 (OutMsg, 1);
  guint64 index = s->next_index++;
  g_autofree char *body = NULL;
  gsize len;

  m->fd = -1;
  m->message_id = mc_session_new_id ();
  if (c->bench_chat > 0)
    {
      m->kind = SRC_BENCH;
      m->label = g_strdup_printf ("message %" G_GUINT64_FORMAT, index + 1);
      /* The receiving msrpcat measures arrival from this timestamp
       * (CLOCK_MONOTONIC: the same clock for every process on the host). */
      body = g_strdup_printf ("msrpcat-bench seq=%" G_GUINT64_FORMAT
                              " t=%" G_GINT64_FORMAT "\n",
                              index + 1, g_get_monotonic_time ());
      len = strlen (body);
      m->data = g_bytes_new_take (g_steal_pointer (&body), len);
    }
  else
    {
      const Template *t =
          &g_array_index (s->templates, Template, index % s->templates->len);

      m->kind = t->kind;
      switch (t->kind)
        {
        case SRC_TEXT:
          m->label = g_strdup_printf ("message %" G_GUINT64_FORMAT, index + 1);
          m->data = g_bytes_new_static (t->text, strlen (t->text));
          break;
        case SRC_FILE:
          m->label = g_strdup_printf ("file %s", c->file);
          break;
        case SRC_STDIN:
        case SRC_BENCH:
          m->label = g_strdup ("standard input");
          break;
        }
    }
  if (m->data != NULL)
    m->total = g_bytes_get_size (m->data);
  else if (!open_source (s, m, &error))
    goto failed;

  m->chunker = msrp_writer_chunker_new (m->message_id, to, from,
                                        content_type_for (s, m->kind),
                                        c->chunk_size, &error);
  if (m->chunker == NULL ||
      (!m->stream &&
       !msrp_writer_chunker_set_total (m->chunker, m->total, &error)) ||
      !msrp_writer_chunker_set_reports (m->chunker, c->success_report,
                                        c->failure_report, &error))
    goto failed;
  m->want_success = c->success_report == MSRP_REPORT_YES;
  m->reported = mc_ranges_new ();
  g_hash_table_insert (s->messages, m->message_id, m);
  s->cur = m;
  if (c->verbose)
    fprintf (stderr, "msrpcat: sending %s as Message-ID %s%s\n", m->label,
             m->message_id, m->stream ? " (size unknown)" : "");
  return TRUE;

failed:
  mc_session_fail (s->session, MC_EXIT_USAGE, "%s: %s", m->label,
                   error->message);
  out_msg_free (m);
  fail (s);
  return FALSE;
}

/* --- writing ----------------------------------------------------------- */

static gboolean
on_stdin_ready (gint fd, GIOCondition cond, gpointer user_data)
{
  McSender *s = user_data;

  s->stdin_watch = 0;
  pump (s);
  return G_SOURCE_REMOVE;
}

/* Stream sources: read ahead until chunk_size + 1 bytes are held (so that
 * the last chunk is known) or the input ends.  FALSE: wait for input. */
static gboolean
fill_stream (McSender *s, OutMsg *m, GError **error)
{
  guint8 tmp[PIECE];

  while (!m->eof && m->buf->len <= s->config->chunk_size)
    {
      gsize want = MIN (sizeof tmp, s->config->chunk_size + 1 - m->buf->len);
      ssize_t n = read (m->fd, tmp, want);

      if (n > 0)
        {
          g_byte_array_append (m->buf, tmp, (guint) n);
        }
      else if (n == 0)
        {
          m->eof = TRUE;
        }
      else if (errno == EINTR)
        {
          continue;
        }
      else if (errno == EAGAIN || errno == EWOULDBLOCK)
        {
          if (s->stdin_watch == 0)
            s->stdin_watch = g_unix_fd_add (
                m->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin_ready, s);
          return FALSE;
        }
      else
        {
          int err = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                       "cannot read %s: %s", m->label, g_strerror (err));
          return FALSE;
        }
    }
  return TRUE;
}

/* The next @len body bytes of @m. */
static GBytes *
read_piece (OutMsg *m, gsize len, GError **error)
{
  guint8 *buf;
  gsize got = 0;

  if (m->data != NULL)
    return g_bytes_new_from_bytes (m->data, m->offset, len);
  if (m->stream)
    {
      GBytes *b = g_bytes_new (m->buf->data, len);

      g_byte_array_remove_range (m->buf, 0, (guint) len);
      return b;
    }
  buf = g_malloc (len);
  while (got < len)
    {
      ssize_t n = pread (m->fd, buf + got, len - got,
                         (off_t) (m->base + m->offset + got));

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int err = n < 0 ? errno : 0;

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "cannot read %s at "
                       "byte %" G_GUINT64_FORMAT ": %s",
                       m->label, m->offset + got,
                       err != 0 ? g_strerror (err)
                                : "the file became shorter while it was sent");
          g_free (buf);
          return NULL;
        }
      got += (gsize) n;
    }
  return g_bytes_new_take (buf, len);
}

static void
send_bind (McSender *s)
{
  g_autoptr (GPtrArray) to = mc_session_get_to_path (s->session);
  g_autoptr (GPtrArray) from = mc_session_get_from_path (s->session);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpWriter) w = NULL;
  Pending *pd;

  s->bind_sent = TRUE;
  w = msrp_writer_new_empty_send (to, from, NULL, NULL, &error);
  if (w == NULL || !mc_link_send (s->link, w, NULL, '$', &error))
    {
      mc_session_fail (s->session, MC_EXIT_CONNECTION,
                       "cannot send the empty "
                       "SEND: %s",
                       error->message);
      fail (s);
      return;
    }
  pd = g_new0 (Pending, 1);
  pd->sent_time = g_get_monotonic_time ();
  pd->awaited = TRUE;
  s->awaiting++;
  g_hash_table_insert (s->pending,
                       g_strdup (msrp_writer_get_transaction_id (w)), pd);
  if (s->config->verbose)
    fprintf (stderr, "msrpcat: sent an empty SEND to bind the connection\n");
}

typedef enum
{
  STEP_MORE, /* progress made; go on */
  STEP_WAIT, /* congested, or waiting for input */
  STEP_FAILED,
} Step;

/* The chunk just begun, its transaction c->tid, answered when the
 * Failure-Report asks for it.  Section 7.1.4: with "partial" only failures
 * are answered, so nothing is awaited, but a failure is still matched. */
static void
expect_response (McSender *s, OutMsg *m)
{
  Pending *pd;

  if (s->config->failure_report == MSRP_REPORT_NO)
    return;
  pd = g_new0 (Pending, 1);
  pd->message_id = g_strdup (m->message_id);
  pd->start = m->offset + 1;
  pd->len = m->chunk_len;
  pd->awaited = s->config->failure_report == MSRP_REPORT_YES;
  if (pd->awaited)
    {
      m->awaiting++;
      s->awaiting++;
    }
  g_hash_table_insert (s->pending, g_strdup (m->tid), pd);
}

/* The next chunk's head, as long as the input allows. */
static Step
chunk_begin (McSender *s, OutMsg *m, GError **error)
{
  const McConfig *c = s->config;
  McStats *st = &s->session->stats;
  g_autoptr (GBytes) head = NULL;
  guint64 available;
  gboolean input_ends;

  /* --window counts SEND transactions, and each chunk is one (RFC 4975
   * section 5.1): a new chunk waits, like a new message, until a
   * response makes room (mc_sender_handle_response pumps again). */
  if (c->window > 0 && s->awaiting >= c->window)
    return STEP_WAIT;
  if (m->stream)
    {
      if (!fill_stream (s, m, error))
        return *error == NULL ? STEP_WAIT : STEP_FAILED;
      available = MIN ((guint64) m->buf->len, c->chunk_size);
      input_ends = m->eof && m->buf->len <= c->chunk_size;
    }
  else
    {
      available = m->total - m->offset;
      input_ends = TRUE;
    }
  head = msrp_writer_chunker_begin_chunk (m->chunker, available, input_ends,
                                          &m->chunk_len, error);
  if (head == NULL)
    return STEP_FAILED;
  if (!mc_link_write (s->link, head))
    return STEP_WAIT; /* closing: on_closed tells */
  /* Our responses and REPORTs wait for the chunk's end-line (RFC 4975
   * section 9: only the end-line ends a frame). */
  mc_link_frame_begin (s->link);
  g_free (m->tid);
  m->tid = g_strdup (msrp_writer_chunker_get_transaction_id (m->chunker));
  m->in_chunk = TRUE;
  m->chunk_left = m->chunk_len;
  if (st->first_byte_time == 0)
    st->first_byte_time = g_get_monotonic_time ();
  expect_response (s, m);
  return STEP_MORE;
}

/* The open chunk's body, piece by piece while the link takes it. */
static Step
chunk_body (McSender *s, OutMsg *m, GError **error)
{
  while (m->chunk_left > 0)
    {
      g_autoptr (GBytes) piece = NULL;
      gsize len;

      if (mc_link_is_congested (s->link))
        return STEP_WAIT;
      len = (gsize) MIN (m->chunk_left, PIECE);
      piece = read_piece (m, len, error);
      if (piece == NULL)
        return STEP_FAILED;
      if (!mc_link_write (s->link, piece))
        return STEP_WAIT;
      m->offset += len;
      m->chunk_left -= len;
      s->session->stats.bytes_sent += len;
    }
  return STEP_MORE;
}

/* The open chunk's end-line; after the last chunk, the message is sent. */
static Step
chunk_finish (McSender *s, OutMsg *m, GError **error)
{
  McStats *st = &s->session->stats;
  g_autoptr (GBytes) end = msrp_writer_chunker_end_chunk (m->chunker, error);
  Pending *pd;

  if (end == NULL)
    return STEP_FAILED;
  if (!mc_link_write (s->link, end))
    return STEP_WAIT;
  m->in_chunk = FALSE;
  mc_link_frame_end (s->link);
  m->chunks++;
  st->chunks_sent++;
  pd = g_hash_table_lookup (s->pending, m->tid);
  if (pd != NULL)
    pd->sent_time = g_get_monotonic_time ();
  if (msrp_writer_chunker_is_done (m->chunker))
    {
      m->all_sent = TRUE;
      m->total = m->offset;
      st->messages_sent++;
      if (m->own_fd && m->fd >= 0)
        {
          close (m->fd);
          m->fd = -1;
        }
      s->cur = NULL;
      check_success (m);
      maybe_retire (s, m);
      check_done (s);
    }
  return STEP_MORE;
}

/* As far as @m's current chunk can go now: its head if it is not begun,
 * its body, its end-line. */
static Step
step (McSender *s, OutMsg *m)
{
  g_autoptr (GError) error = NULL;
  Step r = STEP_MORE;

  if (!m->in_chunk)
    r = chunk_begin (s, m, &error);
  if (r == STEP_MORE)
    r = chunk_body (s, m, &error);
  if (r == STEP_MORE)
    r = chunk_finish (s, m, &error);
  if (r != STEP_FAILED)
    return r;
  mc_session_fail (s->session, MC_EXIT_PROTOCOL, "%s: %s", m->label,
                   error->message);
  fail (s);
  return STEP_FAILED;
}

static gboolean
on_timer (gpointer user_data)
{
  McSender *s = user_data;

  s->timer_id = 0;
  pump (s);
  return G_SOURCE_REMOVE;
}

static void
pump (McSender *s)
{
  if (s->pumping || !s->started)
    return;
  s->pumping = TRUE;
  while (!s->failed && !s->stopped && !s->done && s->link != NULL &&
         !mc_link_is_closed (s->link))
    {
      if (mc_link_is_congested (s->link))
        break; /* on_drained resumes (backpressure) */
      if (s->cur == NULL)
        {
          gint64 now, due;

          if (s->bind && !s->bind_sent)
            {
              send_bind (s);
              continue;
            }
          if (s->bind && s->bind_wait && !s->bind_done)
            break; /* its 200 resumes */
          if (s->next_index >= s->planned)
            {
              check_done (s);
              break;
            }
          if (s->config->window > 0 && s->awaiting >= s->config->window)
            break; /* a response resumes */
          now = g_get_monotonic_time ();
          due = s->t0 + (gint64) s->next_index * s->interval_us;
          if (due > now)
            {
              if (s->timer_id == 0)
                s->timer_id = g_timeout_add (
                    (guint) ((due - now + 999) / 1000), on_timer, s);
              break;
            }
          if (!start_message (s))
            break;
        }
      if (step (s, s->cur) != STEP_MORE)
        break;
    }
  s->pumping = FALSE;
}

void
mc_sender_start (McSender *s, McLink *link)
{
  g_return_if_fail (!s->started);
  s->started = TRUE;
  s->link = mc_link_ref (link);
  s->t0 = g_get_monotonic_time ();
  pump (s);
  check_done (s);
}

void
mc_sender_on_drained (McSender *s)
{
  pump (s);
}

/* --- responses and reports --------------------------------------------- */

gboolean
mc_sender_handle_response (McSender *s, MsrpHead *head)
{
  McStats *st = &s->session->stats;
  const char *tid = msrp_head_get_transaction_id (head);
  guint code = msrp_head_get_status_code (head);
  const char *comment = msrp_head_get_comment (head);
  Pending *pd = g_hash_table_lookup (s->pending, tid);
  OutMsg *m;

  if (pd == NULL)
    return FALSE;
  if (code < G_N_ELEMENTS (st->responses_in))
    st->responses_in[code]++;
  m = pd->message_id != NULL
          ? g_hash_table_lookup (s->messages, pd->message_id)
          : NULL;
  if (pd->awaited)
    {
      s->awaiting--;
      if (m != NULL && m->awaiting > 0)
        m->awaiting--;
    }

  if (msrp_status_is_success (code))
    {
      if (pd->sent_time > 0)
        {
          gint64 latency = g_get_monotonic_time () - pd->sent_time;

          g_array_append_val (st->latency_us, latency);
        }
      if (pd->message_id == NULL)
        s->bind_done = TRUE;
      g_hash_table_remove (s->pending, tid);
      if (m != NULL)
        maybe_retire (s, m);
      check_done (s);
      pump (s);
      return TRUE;
    }

  st->last_failure_code = code;
  if (pd->message_id == NULL)
    mc_session_fail (s->session, MC_EXIT_PROTOCOL,
                     "the empty SEND was "
                     "answered %u %s",
                     code, comment != NULL ? comment : "");
  else
    mc_session_fail (
        s->session, MC_EXIT_PROTOCOL,
        "%s was refused: %u %s "
        "(answer to the chunk of bytes %" G_GUINT64_FORMAT
        "-%" G_GUINT64_FORMAT ")%s",
        m != NULL ? m->label : pd->message_id, code,
        comment != NULL ? comment : "", pd->start, pd->start + pd->len - 1,
        code == MSRP_STATUS_STOP_SENDING ? "; stopped sending" : "");
  g_hash_table_remove (s->pending, tid);
  fail (s);
  return TRUE;
}

void
mc_sender_handle_report (McSender *s, MsrpHead *head)
{
  McStats *st = &s->session->stats;
  const char *id = msrp_head_get_message_id (head);
  const MsrpStatus *status = msrp_head_get_status (head);
  const MsrpByteRange *br = msrp_head_get_byte_range (head);
  OutMsg *m = id != NULL ? g_hash_table_lookup (s->messages, id) : NULL;
  guint64 start, end;

  if (status == NULL)
    return;
  if (status->namespace_ != 0)
    {
      if (s->config->verbose)
        fprintf (stderr,
                 "msrpcat: REPORT with unknown status namespace %03u "
                 "ignored\n",
                 status->namespace_);
      return;
    }
  /* Section 7.3.2: "interpret the report in exactly the same way it would
   * interpret an MSRP transaction response with a response code matching
   * the status-code field". */
  if (msrp_status_is_success (status->code))
    {
      st->success_reports_in++;
      if (m == NULL || !m->want_success)
        return;
      start = br != NULL ? br->start : 1;
      end = br != NULL && !br->end_unknown ? br->end : m->offset;
      if (start >= 1 && end >= start)
        mc_ranges_add (m->reported, start, end);
      check_success (m);
      maybe_retire (s, m);
      check_done (s);
      return;
    }
  st->failure_reports_in++;
  st->last_failure_code = status->code;
  mc_session_fail (s->session, MC_EXIT_PROTOCOL,
                   "failure report for %s: "
                   "%03u %s%s",
                   m != NULL    ? m->label
                   : id != NULL ? id
                                : "a message",
                   status->code,
                   status->comment != NULL ? status->comment
                   : msrp_status_reason (status->code) != NULL
                       ? msrp_status_reason (status->code)
                       : "",
                   m == NULL ? " (not a message in progress)" : "");
  fail (s);
}

void
mc_sender_link_closed (McSender *s)
{
  g_clear_pointer (&s->link, mc_link_unref);
  if (!s->started || s->done || s->failed || s->stopped)
    return;
  s->cur = NULL;
  mc_session_fail (s->session, MC_EXIT_CONNECTION,
                   "the connection closed "
                   "before everything was confirmed: %" G_GUINT64_FORMAT
                   " of %" G_GUINT64_FORMAT " messages sent, %u answers "
                   "outstanding",
                   s->session->stats.messages_sent, s->planned, s->awaiting);
  fail (s);
}
