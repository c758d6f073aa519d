#include "mc-receiver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "mc-util.h"
#include "msrp-reassembly.h"
#include "msrp-status.h"

/* Messages streamed to files at once (reassembly has its own bound). */
#define MAX_STREAMED_MESSAGES 64
/* Message-IDs remembered after delivery (duplicates) and after refusal. */
#define REMEMBERED_IDS 4096
/* Bytes of a message's start kept to spot a benchmark timestamp. */
#define BENCH_PREFIX "msrpcat-bench "
#define HEAD_KEEP 96
/* Read-back piece when a streamed message moves to reassembly. */
#define READ_BACK (64 * 1024)

typedef struct
{
  char *id;
  char *content_type; /* of its first chunk */
  gboolean via_reassembly;
  /* Streaming to --output-dir: bytes 1..written are in part_path. */
  int fd;
  char *part_path;
  guint64 written;
  gboolean stream_open; /* a chunk is being streamed now */
  gboolean total_known;
  guint64 total;
  guint acked;       /* chunks answered 200 */
  guint64 acked_end; /* the last byte those chunks carried */
  GByteArray *head;  /* its first bytes, up to HEAD_KEEP */
} InMsg;

typedef struct
{
  McLink *link;
  MsrpHead *head;
  char *id;
  gboolean stream;
  MsrpReassemblyChunk *chunk;
  guint64 start;
  guint64 limit; /* most body bytes the Byte-Range allows */
  guint64 got;
  guint code; /* the failure so far, 0: none */
  char *comment;
} InReq;

struct _McReceiver
{
  McSession *session;
  const McConfig *config;
  McReceiverCallbacks cb;
  gpointer user_data;
  MsrpReassembler *reassembler;
  GHashTable *msgs; /* id -> InMsg */
  McIdSet *done;    /* delivered */
  McIdSet *gone;    /* refused (413) or aborted ('#') */
};

static void
in_msg_free (gpointer p)
{
  InMsg *m = p;

  if (m->fd >= 0)
    close (m->fd);
  if (m->part_path != NULL)
    g_unlink (m->part_path); /* incomplete: no half files left behind */
  g_free (m->part_path);
  g_free (m->id);
  g_free (m->content_type);
  if (m->head != NULL)
    g_byte_array_unref (m->head);
  g_free (m);
}

static void
in_req_free (InReq *req)
{
  if (req == NULL)
    return;
  msrp_reassembly_chunk_free (req->chunk);
  mc_link_unref (req->link);
  msrp_head_unref (req->head);
  g_free (req->id);
  g_free (req->comment);
  g_free (req);
}

McReceiver *
mc_receiver_new (McSession *session, const McReceiverCallbacks *callbacks,
                 gpointer user_data, GError **error)
{
  const McConfig *c = session->config;
  McReceiver *r;

  if (c->output_dir != NULL && g_mkdir_with_parents (c->output_dir, 0755) != 0)
    {
      int err = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   "cannot make output directory %s: %s", c->output_dir,
                   g_strerror (err));
      return NULL;
    }
  r = g_new0 (McReceiver, 1);
  r->session = session;
  r->config = c;
  r->cb = *callbacks;
  r->user_data = user_data;
  r->reassembler = msrp_reassembler_new (c->max_buffer);
  if (c->max_size > 0)
    msrp_reassembler_set_max_message_size (r->reassembler, c->max_size);
  r->msgs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, in_msg_free);
  r->done = mc_id_set_new (REMEMBERED_IDS);
  r->gone = mc_id_set_new (REMEMBERED_IDS);
  return r;
}

void
mc_receiver_free (McReceiver *r)
{
  if (r == NULL)
    return;
  if (g_hash_table_size (r->msgs) > 0 && !r->config->quiet)
    fprintf (stderr, "msrpcat: %u incomplete message%s dropped\n",
             g_hash_table_size (r->msgs),
             g_hash_table_size (r->msgs) == 1 ? "" : "s");
  g_hash_table_unref (r->msgs);
  msrp_reassembler_unref (r->reassembler);
  mc_id_set_free (r->done);
  mc_id_set_free (r->gone);
  g_free (r);
}

guint
mc_receiver_get_n_pending (McReceiver *r)
{
  return g_hash_table_size (r->msgs);
}

/* --- answers ----------------------------------------------------------- */

static void
respond (McReceiver *r, McLink *link, MsrpHead *head, guint code,
         const char *comment)
{
  if (mc_link_respond (link, head, code, comment) && code < 1000)
    r->session->stats.responses_out[code]++;
}

/* Forget @id's message, and remember that it is not to be accepted again
 * (413 and '#': RFC 4975 section 10.5, "stop sending the message"). */
static void
drop (McReceiver *r, const char *id, gboolean refuse_later)
{
  if (refuse_later)
    mc_id_set_add (r->gone, id);
  msrp_reassembler_abandon (r->reassembler, id, NULL);
  g_hash_table_remove (r->msgs, id);
}

static void
send_report (McReceiver *r, McLink *link, MsrpHead *head, const char *id,
             guint64 bytes, gboolean total_known, guint64 total, guint code,
             const char *comment)
{
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *safe =
      comment != NULL ? mc_link_sanitize_comment (comment) : NULL;
  MsrpByteRange range = {
    .start = 1,
    .end = bytes,
    .total = total,
    .end_unknown = FALSE,
    .total_unknown = !total_known,
  };

  w = msrp_status_build_report (msrp_head_get_to_path (head),
                                msrp_head_get_from_path (head), NULL, id,
                                &range, code, safe, &error);
  if (w == NULL || !mc_link_send (link, w, NULL, '$', &error))
    {
      fprintf (stderr, "msrpcat: cannot send a REPORT for message %s: %s\n",
               id, error->message);
      return;
    }
  if (msrp_status_is_success (code))
    r->session->stats.success_reports_out++;
  else
    r->session->stats.failure_reports_out++;
}

/* --- delivery ---------------------------------------------------------- */

static gboolean open_part (McReceiver *r, InMsg *m, GError **error);

static gboolean
write_all (int fd, const guint8 *data, gsize len, GError **error)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int err = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "%s",
                       g_strerror (err));
          return FALSE;
        }
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

static void
keep_head (InMsg *m, guint64 pos, const guint8 *data, gsize len)
{
  /* Only the message's first bytes, in order. */
  if (m->head == NULL)
    m->head = g_byte_array_new ();
  if (pos != m->head->len || m->head->len >= HEAD_KEEP)
    return;
  g_byte_array_append (m->head, data,
                       (guint) MIN (len, HEAD_KEEP - m->head->len));
}

/* A message sent by `msrpcat --bench-chat` carries its send time. */
static void
note_bench (McReceiver *r, const guint8 *data, gsize len)
{
  gsize plen = strlen (BENCH_PREFIX);
  g_autofree char *text = NULL;
  const char *t;
  gint64 sent, latency;

  if (len < plen || memcmp (data, BENCH_PREFIX, plen) != 0)
    return;
  text = g_strndup ((const char *) data, MIN (len, HEAD_KEEP));
  t = strstr (text, " t=");
  if (t == NULL)
    return;
  sent = g_ascii_strtoll (t + 3, NULL, 10);
  latency = g_get_monotonic_time () - sent;
  if (sent > 0 && latency >= 0)
    g_array_append_val (r->session->stats.arrival_latency_us, latency);
}

static gboolean
is_text (const char *content_type)
{
  return content_type != NULL &&
         g_ascii_strncasecmp (content_type, "text/", 5) == 0;
}

/* The whole message @m into its file in --output-dir, @final_path: from
 * @body when it went through reassembly, otherwise already in its part
 * file.  On failure the session fails and the message is dropped. */
static gboolean
save_file (McReceiver *r, InMsg *m, GBytes *body, const char *final_path)
{
  g_autoptr (GError) error = NULL;

  if (body != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (body, &len);

      if (m->fd >= 0)
        {
          close (m->fd);
          m->fd = -1;
        }
      /* Reassembled in memory: the part file is written anew. */
      if (!open_part (r, m, &error) || !write_all (m->fd, data, len, &error))
        {
          mc_session_fail (r->session, MC_EXIT_PROTOCOL,
                           "cannot write "
                           "message %s: %s",
                           m->id, error->message);
          drop (r, m->id, TRUE);
          return FALSE;
        }
    }
  if (m->fd >= 0 && close (m->fd) != 0)
    {
      m->fd = -1;
      mc_session_fail (r->session, MC_EXIT_PROTOCOL, "cannot write %s: %s",
                       m->part_path, g_strerror (errno));
      drop (r, m->id, TRUE);
      return FALSE;
    }
  m->fd = -1;
  if (g_rename (m->part_path, final_path) != 0)
    {
      mc_session_fail (r->session, MC_EXIT_PROTOCOL,
                       "cannot rename %s to "
                       "%s: %s",
                       m->part_path, final_path, g_strerror (errno));
      drop (r, m->id, TRUE);
      return FALSE;
    }
  g_clear_pointer (&m->part_path, g_free);
  return TRUE;
}

/* The whole message @m, reassembled in @body, to standard output. */
static void
print_body (McReceiver *r, const InMsg *m, GBytes *body)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (body, &len);

  mc_session_write_stdout (r->session, data, len);
  /* Chat messages read as lines; binary bodies stay byte-exact. */
  if (is_text (m->content_type) && len > 0 && data[len - 1] != '\n')
    mc_session_write_stdout (r->session, "\n", 1);
  fflush (stdout);
}

/* Counts the delivered message @m, @size bytes (saved as @final_path, or
 * NULL), in the statistics and the summary, and says so on stderr. */
static void
count_received (McReceiver *r, const InMsg *m, guint64 size,
                const char *final_path)
{
  McStats *st = &r->session->stats;
  McReceived *rec;

  st->messages_received++;
  st->bytes_received += size;
  if (st->received->len < MC_SUMMARY_MESSAGES_MAX)
    {
      rec = g_new0 (McReceived, 1);
      rec->message_id = g_strdup (m->id);
      rec->content_type = g_strdup (m->content_type);
      rec->bytes = size;
      rec->file = g_strdup (final_path);
      g_ptr_array_add (st->received, rec);
    }
  else
    {
      st->received_truncated = TRUE;
    }
  if (!r->config->quiet)
    fprintf (stderr,
             "msrpcat: received message %s: %" G_GUINT64_FORMAT
             " bytes of %s%s%s\n",
             m->id, size,
             m->content_type != NULL ? m->content_type : "no type",
             final_path != NULL ? ", saved as " : "",
             final_path != NULL ? final_path : "");
}

/* The message @m is whole: @body holds it when it went through reassembly,
 * otherwise it is in its part file. */
static void
deliver (McReceiver *r, InReq *req, InMsg *m, GBytes *body)
{
  const McConfig *c = r->config;
  g_autofree char *final_path = NULL;
  guint64 size = body != NULL ? g_bytes_get_size (body) : m->written;

  if (c->output_dir != NULL)
    {
      final_path = g_build_filename (c->output_dir, m->id, NULL);
      if (!save_file (r, m, body, final_path))
        return;
    }
  else
    {
      print_body (r, m, body);
    }

  if (body != NULL)
    note_bench (r, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  else if (m->head != NULL)
    note_bench (r, m->head->data, m->head->len);
  count_received (r, m, size, final_path);

  /* RFC 4975 section 7.1.3: one report that covers the whole message,
   * sent when the last chunk is in. */
  if (msrp_status_success_report_due ("SEND",
                                      msrp_head_get_success_report (req->head),
                                      MSRP_STATUS_OK, TRUE))
    send_report (r, req->link, req->head, m->id, size, TRUE, size,
                 MSRP_STATUS_OK, NULL);
  mc_id_set_add (r->done, m->id);
  g_hash_table_remove (r->msgs, m->id);
  if (r->cb.on_message != NULL)
    r->cb.on_message (r, r->user_data);
}

/* --- requests ---------------------------------------------------------- */

static gboolean
type_accepted (McReceiver *r, const char *content_type)
{
  g_autoptr (MsrpMediaType) mt = NULL;

  if (r->config->accept_types == NULL)
    return TRUE;
  mt = msrp_media_type_parse (content_type, strlen (content_type), NULL);
  if (mt == NULL)
    return FALSE;
  /* RFC 4975 section 8.6: "*" or type/"*" patterns, parameters ignored. */
  for (guint i = 0; r->config->accept_types[i] != NULL; i++)
    if (msrp_media_type_matches (mt, r->config->accept_types[i]))
      return TRUE;
  return FALSE;
}

/* The part file of a message streamed to --output-dir. */
static gboolean
open_part (McReceiver *r, InMsg *m, GError **error)
{
  g_autofree char *name = NULL;

  if (m->fd >= 0)
    return TRUE;
  name = g_strdup_printf (".%s.part", m->id);
  g_free (m->part_path);
  m->part_path = g_build_filename (r->config->output_dir, name, NULL);
  m->fd = open (m->part_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (m->fd < 0)
    {
      int err = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   "cannot create %s: %s", m->part_path, g_strerror (err));
      g_clear_pointer (&m->part_path, g_free);
      return FALSE;
    }
  return TRUE;
}

/* A chunk came out of order: hand what is on disk to msrp-reassembly as
 * the message's first chunk, and go on from there in memory. */
static gboolean
move_to_reassembly (McReceiver *r, InMsg *m, GError **error)
{
  g_autoptr (MsrpReassemblyChunk) chunk = NULL;
  MsrpByteRange range = {
    .start = 1,
    .end = m->written,
    .total = m->total,
    .end_unknown = FALSE,
    .total_unknown = !m->total_known,
  };
  g_autofree guint8 *buf = NULL;
  guint64 pos = 0;

  m->via_reassembly = TRUE;
  if (m->written == 0)
    return TRUE;
  chunk = msrp_reassembler_begin_chunk (r->reassembler, m->id, &range,
                                        m->content_type, error);
  if (chunk == NULL)
    return FALSE;
  buf = g_malloc (READ_BACK);
  while (pos < m->written)
    {
      gsize want = (gsize) MIN (READ_BACK, m->written - pos);
      ssize_t n = pread (m->fd, buf, want, (off_t) pos);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "cannot read back "
                       "%s: %s",
                       m->part_path,
                       n < 0 ? g_strerror (errno)
                             : "file shorter than written");
          return FALSE;
        }
      if (!msrp_reassembly_chunk_add_data (chunk, buf, (gsize) n, error))
        return FALSE;
      pos += (guint64) n;
    }
  if (msrp_reassembly_chunk_end (g_steal_pointer (&chunk), '+', NULL, NULL,
                                 NULL, error) == MSRP_REASSEMBLY_FAILED)
    return FALSE;
  return TRUE;
}

/* The answers a chunk gets before anything of it is kept: a message
 * refused or delivered before, a type not accepted, a total over
 * --max-size.  TRUE when @head is answered here. */
static gboolean
answered_at_once (McReceiver *r, McLink *link, MsrpHead *head,
                  const MsrpByteRange *br)
{
  McStats *st = &r->session->stats;
  const char *id = msrp_head_get_message_id (head);
  const char *ctype = msrp_head_get_content_type (head);
  guint64 max_size = r->config->max_size;

  if (mc_id_set_contains (r->gone, id))
    {
      respond (r, link, head, MSRP_STATUS_STOP_SENDING,
               "this message was refused or aborted before");
      return TRUE;
    }
  if (mc_id_set_contains (r->done, id))
    {
      /* Section 5.4: a repeated Message-ID is a duplicate; acknowledge it,
       * deliver nothing. */
      st->duplicates++;
      respond (r, link, head, MSRP_STATUS_OK, NULL);
      return TRUE;
    }
  if (ctype == NULL || !type_accepted (r, ctype))
    {
      /* Section 7.3.1: "the receiver MUST generate a response with a status
       * code of 415". */
      g_autofree char *why = g_strdup_printf ("%s is not accepted here",
                                              ctype != NULL ? ctype : "none");

      st->messages_failed++;
      respond (r, link, head, MSRP_STATUS_UNSUPPORTED_MEDIA_TYPE, why);
      return TRUE;
    }
  if (max_size > 0 && !br->total_unknown && br->total > max_size)
    {
      g_autofree char *why = g_strdup_printf (
          "message of %" G_GUINT64_FORMAT
          " bytes is over the limit of %" G_GUINT64_FORMAT " bytes",
          br->total, max_size);

      st->messages_failed++;
      respond (r, link, head, MSRP_STATUS_STOP_SENDING, why);
      drop (r, id, TRUE);
      return TRUE;
    }
  return FALSE;
}

/* The message @head's chunk belongs to, new if it is the first chunk seen,
 * with the total its Byte-Range @br gives; NULL when @head is answered
 * here. */
static InMsg *
in_msg_for (McReceiver *r, McLink *link, MsrpHead *head,
            const MsrpByteRange *br)
{
  const char *id = msrp_head_get_message_id (head);
  InMsg *m = g_hash_table_lookup (r->msgs, id);

  if (m == NULL)
    {
      if (r->config->output_dir != NULL &&
          g_hash_table_size (r->msgs) >= MAX_STREAMED_MESSAGES)
        {
          respond (r, link, head, MSRP_STATUS_STOP_SENDING,
                   "too many messages in progress");
          return NULL;
        }
      m = g_new0 (InMsg, 1);
      m->id = g_strdup (id);
      m->fd = -1;
      m->content_type = g_strdup (msrp_head_get_content_type (head));
      m->via_reassembly = r->config->output_dir == NULL;
      g_hash_table_insert (r->msgs, m->id, m);
    }
  if (!br->total_unknown)
    {
      if (m->total_known && m->total != br->total)
        {
          g_autofree char *why = g_strdup_printf (
              "total %" G_GUINT64_FORMAT " differs from %" G_GUINT64_FORMAT
              " in an earlier chunk",
              br->total, m->total);

          respond (r, link, head, MSRP_STATUS_BAD_REQUEST, why);
          return NULL;
        }
      m->total_known = TRUE;
      m->total = br->total;
    }
  return m;
}

static InReq *
in_req_new (McLink *link, MsrpHead *head, const MsrpByteRange *br)
{
  InReq *req = g_new0 (InReq, 1);

  req->link = mc_link_ref (link);
  req->head = msrp_head_ref (head);
  req->id = g_strdup (msrp_head_get_message_id (head));
  req->start = br->start;
  req->limit = br->end_unknown ? G_MAXUINT64 : br->end - br->start + 1;
  if (br->end_unknown == FALSE && br->end < br->start)
    req->limit = 0; /* "1-0/0": an empty message */
  return req;
}

/* The next chunk in order of a message streamed to --output-dir: its body
 * goes straight to the part file.  FALSE when answered here. */
static gboolean
begin_streamed (McReceiver *r, InMsg *m, InReq *req)
{
  g_autoptr (GError) error = NULL;
  const char *ctype = msrp_head_get_content_type (req->head);

  if (g_ascii_strcasecmp (m->content_type, ctype) != 0)
    {
      respond (r, req->link, req->head, MSRP_STATUS_BAD_REQUEST,
               "Content-Type differs from an earlier chunk");
      return FALSE;
    }
  if (!open_part (r, m, &error))
    {
      mc_session_fail (r->session, MC_EXIT_PROTOCOL, "%s", error->message);
      respond (r, req->link, req->head, MSRP_STATUS_STOP_SENDING,
               error->message);
      drop (r, req->id, TRUE);
      return FALSE;
    }
  req->stream = TRUE;
  m->stream_open = TRUE;
  return TRUE;
}

/* A chunk that goes through msrp-reassembly: in memory, or a streamed
 * message's chunk out of order, which moves it there.  FALSE when
 * answered here. */
static gboolean
begin_reassembled (McReceiver *r, InMsg *m, InReq *req,
                   const MsrpByteRange *br)
{
  g_autoptr (GError) error = NULL;
  const char *ctype = msrp_head_get_content_type (req->head);
  guint code;

  if (!m->via_reassembly && m->stream_open)
    {
      respond (r, req->link, req->head, MSRP_STATUS_STOP_SENDING,
               "chunks of one "
               "message on two connections at once are not supported");
      return FALSE;
    }
  if (m->via_reassembly || move_to_reassembly (r, m, &error))
    {
      req->chunk = msrp_reassembler_begin_chunk (r->reassembler, req->id, br,
                                                 ctype, &error);
      if (req->chunk != NULL)
        return TRUE;
    }
  code = msrp_reassembly_error_to_status (error);
  respond (r, req->link, req->head, code, error->message);
  if (code == MSRP_STATUS_STOP_SENDING)
    {
      r->session->stats.messages_failed++;
      drop (r, req->id, TRUE);
    }
  return FALSE;
}

gpointer
mc_receiver_request (McReceiver *r, McLink *link, MsrpHead *head)
{
  McStats *st = &r->session->stats;
  const MsrpByteRange *br = msrp_head_get_byte_range (head);
  MsrpByteRange whole = { .start = 1,
                          .end_unknown = TRUE,
                          .total_unknown = TRUE };
  gboolean started;
  InMsg *m;
  InReq *req;

  if (!msrp_head_has_body (head))
    {
      /* RFC 4975 section 5.4 / 7.1: a SEND without body binds the
       * connection (or keeps it alive); there is nothing to deliver. */
      st->binds_received++;
      respond (r, link, head, MSRP_STATUS_OK, NULL);
      return NULL;
    }
  st->chunks_received++;
  if (st->first_byte_time == 0)
    st->first_byte_time = g_get_monotonic_time ();
  if (br == NULL)
    br = &whole; /* section 7.3.1: no Byte-Range is the whole message */

  if (answered_at_once (r, link, head, br))
    return NULL;
  m = in_msg_for (r, link, head, br);
  if (m == NULL)
    return NULL;
  req = in_req_new (link, head, br);
  if (!m->via_reassembly && !m->stream_open && br->start == m->written + 1)
    started = begin_streamed (r, m, req);
  else
    started = begin_reassembled (r, m, req, br);
  if (!started)
    {
      in_req_free (req);
      return NULL;
    }
  return req;
}

/* The chunk failed: remember why; a 413 is answered at once so that the
 * sender stops (RFC 4975 section 10.5), the rest at the end-line. */
static void
req_fail (McReceiver *r, InReq *req, guint code, const char *comment)
{
  if (req->code != 0)
    return;
  req->code = code;
  req->comment = g_strdup (comment);
  if (code == MSRP_STATUS_STOP_SENDING)
    respond (r, req->link, req->head, code, comment);
}

void
mc_receiver_body (McReceiver *r, gpointer request, const guint8 *data,
                  gsize len)
{
  InReq *req = request;
  g_autoptr (GError) error = NULL;
  InMsg *m;
  guint64 pos;

  if (req->code != 0)
    return;
  m = g_hash_table_lookup (r->msgs, req->id);
  if (m == NULL)
    {
      req_fail (r, req, MSRP_STATUS_STOP_SENDING, "message dropped");
      return;
    }
  pos = req->start - 1 + req->got;
  if (!req->stream)
    {
      if (!msrp_reassembly_chunk_add_data (req->chunk, data, len, &error))
        {
          req_fail (r, req, msrp_reassembly_error_to_status (error),
                    error->message);
          return;
        }
      keep_head (m, pos, data, len);
      req->got += len;
      return;
    }
  if (len > req->limit - req->got)
    {
      req_fail (r, req, MSRP_STATUS_BAD_REQUEST,
                "body longer than its Byte-Range");
      return;
    }
  if (m->total_known && pos + len > m->total)
    {
      req_fail (r, req, MSRP_STATUS_BAD_REQUEST,
                "body goes past the message's total");
      return;
    }
  if (r->config->max_size > 0 && pos + len > r->config->max_size)
    {
      g_autofree char *why = g_strdup_printf (
          "message is over the limit of %" G_GUINT64_FORMAT " bytes",
          r->config->max_size);

      req_fail (r, req, MSRP_STATUS_STOP_SENDING, why);
      return;
    }
  if (!write_all (m->fd, data, len, &error))
    {
      g_autofree char *why = g_strdup_printf ("cannot write %s: %s",
                                              m->part_path, error->message);

      mc_session_fail (r->session, MC_EXIT_PROTOCOL, "%s", why);
      req_fail (r, req, MSRP_STATUS_STOP_SENDING, why);
      return;
    }
  keep_head (m, pos, data, len);
  req->got += len;
  m->written += len;
}

/* What a chunk's end-line makes of it and of its message. */
typedef struct
{
  guint code;           /* the response's; 0: 200 */
  const char *comment;  /* the response's */
  gboolean complete;    /* the message is whole */
  gboolean interrupted; /* '#': the sender gave the message up */
  gboolean duplicate;   /* of a message the reassembler delivered */
  guint64 received;     /* the message's bytes so far */
  GBytes *body;         /* the whole message, when reassembled */
  GError *error;        /* the reassembler's, which comment may point into */
  char *why;            /* a comment made here */
} ChunkEnd;

/* The end-line @flag of a chunk streamed to the part file of @m (NULL:
 * dropped meanwhile). */
static void
end_streamed (InReq *req, InMsg *m, char flag, ChunkEnd *e)
{
  guint64 end = req->start - 1 + req->got;

  e->received = m != NULL ? m->written : 0;
  if (e->code != 0)
    return;
  if (flag == '#')
    {
      e->interrupted = TRUE;
      return;
    }
  /* Section 7.3.1: "the chunk that has a termination character of "$"
   * defines the total length of the message". */
  if (flag == '$' && m->total_known && end != m->total)
    {
      e->why = g_strdup_printf ("message ends at byte %" G_GUINT64_FORMAT
                                " but its total is %" G_GUINT64_FORMAT,
                                end, m->total);
      e->code = MSRP_STATUS_BAD_REQUEST;
      e->comment = e->why;
      return;
    }
  if (flag == '$')
    {
      m->total_known = TRUE;
      m->total = end;
    }
  e->complete = m->total_known && m->written == m->total;
}

/* The end-line @flag of a chunk that went through msrp-reassembly. */
static void
end_reassembled (McReceiver *r, InReq *req, char flag, ChunkEnd *e)
{
  g_autofree char *unused_type = NULL;
  MsrpReassemblyProgress progress = { 0 };
  MsrpReassemblyResult res;

  res =
      msrp_reassembly_chunk_end (g_steal_pointer (&req->chunk), flag, &e->body,
                                 &unused_type, &progress, &e->error);
  e->received = progress.received;
  if (e->code != 0)
    return;
  switch (res)
    {
    case MSRP_REASSEMBLY_FAILED:
      e->code = msrp_reassembly_error_to_status (e->error);
      e->comment = e->error->message;
      break;
    case MSRP_REASSEMBLY_INTERRUPTED:
      e->interrupted = TRUE;
      break;
    case MSRP_REASSEMBLY_COMPLETE:
      e->complete = TRUE;
      break;
    case MSRP_REASSEMBLY_DUPLICATE:
      r->session->stats.duplicates++;
      e->duplicate = TRUE;
      break;
    case MSRP_REASSEMBLY_PENDING:
      break;
    }
}

/* After the chunk's response: the message @m (NULL: dropped) given up,
 * failed, delivered or forgotten as @e says. */
static void
settle_message (McReceiver *r, InReq *req, InMsg *m, const ChunkEnd *e)
{
  McStats *st = &r->session->stats;

  if (e->interrupted)
    {
      /* Section 7.1: '#' - the sender gave the message up. */
      st->messages_interrupted++;
      if (!r->config->quiet)
        fprintf (stderr,
                 "msrpcat: message %s was aborted by the sender after "
                 "%" G_GUINT64_FORMAT " bytes\n",
                 req->id, e->received);
      drop (r, req->id, TRUE);
    }
  else if (e->code != 0 && m != NULL)
    {
      gboolean fatal = e->code == MSRP_STATUS_STOP_SENDING;

      /* Section 7.1.4: the 200s of earlier chunks no longer hold; say so
       * with a Failure REPORT when the sender allows one. */
      if (fatal && m->acked_end > 0 &&
          msrp_status_failure_report_due (
              "SEND", msrp_head_get_failure_report (req->head), e->code))
        send_report (r, req->link, req->head, req->id, m->acked_end,
                     m->total_known && m->total >= m->acked_end, m->total,
                     e->code, e->comment);
      if (fatal)
        {
          st->messages_failed++;
          drop (r, req->id, TRUE);
        }
    }
  else if (e->complete && m != NULL)
    {
      deliver (r, req, m, e->body);
    }
  else if (e->duplicate && m != NULL && m->acked_end == 0)
    {
      /* The reassembler knew it as delivered: nothing is pending here. */
      g_hash_table_remove (r->msgs, req->id);
    }
}

void
mc_receiver_end (McReceiver *r, gpointer request, char flag)
{
  InReq *req = request;
  InMsg *m = g_hash_table_lookup (r->msgs, req->id);
  ChunkEnd e = { .code = req->code, .comment = req->comment };

  if (m != NULL && req->stream)
    m->stream_open = FALSE;
  if (m == NULL && e.code == 0)
    {
      e.code = MSRP_STATUS_STOP_SENDING;
      e.comment = "message dropped";
    }
  if (req->stream)
    end_streamed (req, m, flag, &e);
  else if (req->chunk != NULL)
    end_reassembled (r, req, flag, &e);

  if (e.code == 0)
    {
      respond (r, req->link, req->head, MSRP_STATUS_OK, NULL);
      if (m != NULL && !e.duplicate)
        {
          m->acked++;
          m->acked_end = MAX (m->acked_end, req->start - 1 + req->got);
        }
    }
  else
    {
      respond (r, req->link, req->head, e.code, e.comment);
    }
  settle_message (r, req, m, &e);

  g_clear_pointer (&e.body, g_bytes_unref);
  g_clear_error (&e.error);
  g_free (e.why);
  in_req_free (req);
}

void
mc_receiver_lost (McReceiver *r, gpointer request)
{
  InReq *req = request;
  InMsg *m = g_hash_table_lookup (r->msgs, req->id);

  if (m != NULL && req->stream)
    m->stream_open = FALSE;
  /* Section 5.1: what arrived stays; the message waits for the rest. */
  in_req_free (req);
}
