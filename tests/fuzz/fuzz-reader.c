/* fuzz-reader.c: libFuzzer target for msrp/msrp-reader.c.
 *
 * Input: the layout of fuzz-parser (so that its corpus seeds this one):
 * 3 control bytes, then the byte stream of a connection.
 *   byte 0, bits 0-1: how the second run splits the stream
 *                     (0 byte by byte, 1 in two at a position, 2 in pieces
 *                     of 1..64 bytes, 3 in pieces of 1..4096 bytes, with
 *                     calls without bytes between some pieces)
 *   byte 0, bit 2:    small limits (to reach every limit with short inputs)
 *   byte 0, bit 3:    the second run moves the rest of its input to a new
 *                     allocation after every event, as a caller that stops
 *                     and sets its input aside does
 *   bytes 1-2:        split position, or seed of the piece lengths
 *
 * The stream is read three times: whole and split as chosen through
 * MsrpReader, and whole through MsrpParser and MsrpHead by hand, as callers
 * did before the reader (the reference: a head per frame, every header
 * offered to it, the first refusal or finish() complaint kept as the head
 * error, the body of such a frame dropped, the phase kept in a flag).  Each
 * piece sits in its own allocation of exactly its size, freed after its
 * feed, so that AddressSanitizer catches any read outside it and any
 * pointer the reader keeps into it.  Checked on every call: *consumed <=
 * len; NEED_MORE consumes everything; one head object from HEAD to END, and
 * its transaction id still readable at END; body pieces not empty, no BODY
 * after a head error, pieces inside the piece fed (or, marked held, short
 * and outside it); END's body_len counts the body seen; get_head and
 * in_body follow the frame; the buffer stays within the limits; messages
 * are printable; after an error every call fails the same way, with the
 * same head.  Then the three runs must tell the same story: the same heads
 * (every header kept), head errors, body bytes, ends, and the same fatal
 * error with the same head, paths and phase. */
#include "msrp-reader.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(expr)                                                           \
  do                                                                          \
    {                                                                         \
      if (!(expr))                                                            \
        abort ();                                                             \
    }                                                                         \
  while (0)

static void
check_message (const GError *error, GQuark domain)
{
  CHECK (error != NULL && error->domain == domain);
  CHECK (error->message[0] != '\0');
  CHECK (g_utf8_validate (error->message, -1, NULL));
  for (const char *c = error->message; *c != '\0'; c = g_utf8_next_char (c))
    CHECK (!g_unichar_iscntrl (g_utf8_get_char (c)));
}

/* ---------------------------------------------------------------------------
 * The trace both kinds of run write
 * ------------------------------------------------------------------------- */

static void
trace_head (GString *t, MsrpHead *h, const GError *head_error)
{
  g_string_append_printf (t, "\nHEAD %s ", msrp_head_get_transaction_id (h));
  if (msrp_head_is_request (h))
    g_string_append (t, msrp_head_get_method (h));
  else
    g_string_append_printf (
        t, "%03u %s", msrp_head_get_status_code (h),
        msrp_head_get_comment (h) != NULL ? msrp_head_get_comment (h) : "-");
  g_string_append (t, msrp_head_has_body (h) ? " body" : " nobody");
  for (guint i = 0; i < msrp_head_get_n_headers (h); i++)
    {
      MsrpHeaderId id;
      const char *name, *value;

      msrp_head_get_header (h, i, &id, &name, &value);
      g_string_append_printf (t, "\n  %d %s: %s", id, name, value);
    }
  if (head_error != NULL)
    g_string_append_printf (t, "\n  !%d %s", head_error->code,
                            head_error->message);
}

static void
trace_body (GString *t, const guint8 *data, gsize len)
{
  /* Body bytes are concatenated: pieces differ between the runs. */
  if (t->len == 0 || t->str[t->len - 1] != '\x01')
    g_string_append (t, "\nBODY ");
  else
    g_string_truncate (t, t->len - 1);
  g_string_append_len (t, (const char *) data, (gssize) len);
  g_string_append_c (t, '\x01');
}

static void
trace_end (GString *t, MsrpHead *h, char flag, guint64 body_len)
{
  g_string_append_printf (t, "\nEND %s%c %" G_GUINT64_FORMAT,
                          msrp_head_get_transaction_id (h), flag, body_len);
}

static void
trace_error (GString *t, const GError *error, MsrpHead *h, gboolean in_body)
{
  g_string_append_printf (t, "\nERR %d %s", error->code, error->message);
  if (h == NULL)
    g_string_append (t, " / no head");
  else
    g_string_append_printf (t, " / %s paths %d body %d",
                            msrp_head_get_transaction_id (h),
                            msrp_head_get_to_path (h) != NULL &&
                                msrp_head_get_from_path (h) != NULL,
                            in_body);
  CHECK (h != NULL || !in_body);
}

/* ---------------------------------------------------------------------------
 * Through MsrpReader
 * ------------------------------------------------------------------------- */

typedef struct
{
  MsrpReader *reader;
  GString *trace;
  gsize max_buffer;
  gboolean move_rest;
  MsrpHead *head; /* from HEAD to END (the reader's) */
  const GError *head_error;
  guint64 frame_body;
  gboolean failed;
} Run;

/* get_head and in_body between calls: inside a frame (HEAD came, END not
 * yet) its head and TRUE; otherwise FALSE and no head, or the head of a
 * frame whose header block is being read. */
static void
check_position (Run *r)
{
  MsrpHead *now = msrp_reader_get_head (r->reader);

  if (r->head != NULL)
    {
      CHECK (now == r->head);
      CHECK (msrp_reader_in_body (r->reader));
    }
  else
    {
      CHECK (!msrp_reader_in_body (r->reader));
      CHECK (now == NULL || msrp_head_get_transaction_id (now) != NULL);
    }
}

static void
record (Run *r, const MsrpReaderEvent *ev, const guint8 *piece, gsize len)
{
  switch (ev->type)
    {
    case MSRP_READER_EVENT_HEAD:
      CHECK (r->head == NULL);
      CHECK (ev->head != NULL);
      CHECK (ev->data == NULL && ev->data_len == 0);
      CHECK (msrp_reader_get_head (r->reader) == ev->head);
      CHECK (msrp_reader_in_body (r->reader));
      if (ev->head_error != NULL)
        check_message (ev->head_error, MSRP_HEAD_ERROR);
      else
        {
          CHECK (msrp_head_get_to_path (ev->head) != NULL);
          CHECK (msrp_head_get_to_path (ev->head)->len > 0);
          CHECK (msrp_head_get_from_path (ev->head) != NULL);
          CHECK (msrp_head_get_from_path (ev->head)->len > 0);
        }
      r->head = ev->head;
      r->head_error = ev->head_error;
      r->frame_body = 0;
      trace_head (r->trace, ev->head, ev->head_error);
      break;
    case MSRP_READER_EVENT_BODY:
      CHECK (r->head != NULL && ev->head == r->head);
      CHECK (r->head_error == NULL && ev->head_error == NULL);
      CHECK (msrp_head_has_body (ev->head));
      CHECK (ev->data_len > 0);
      if (ev->held)
        {
          CHECK (ev->data_len <= MSRP_PARSER_MAX_END_LINE);
          CHECK (ev->data + ev->data_len <= piece || ev->data >= piece + len);
        }
      else
        {
          CHECK (ev->data >= piece);
          CHECK (ev->data + ev->data_len <= piece + len);
        }
      r->frame_body += ev->data_len;
      trace_body (r->trace, ev->data, ev->data_len);
      break;
    case MSRP_READER_EVENT_END:
      CHECK (r->head != NULL && ev->head == r->head);
      CHECK (ev->head_error == r->head_error);
      CHECK (ev->data == NULL && ev->data_len == 0);
      CHECK (ev->continuation == '$' || ev->continuation == '+' ||
             ev->continuation == '#');
      if (r->head_error == NULL)
        CHECK (ev->body_len == r->frame_body);
      if (!msrp_head_has_body (ev->head))
        CHECK (ev->body_len == 0);
      CHECK (msrp_reader_get_head (r->reader) == NULL);
      CHECK (!msrp_reader_in_body (r->reader));
      trace_end (r->trace, ev->head, ev->continuation, ev->body_len);
      r->head = NULL;
      r->head_error = NULL;
      break;
    default:
      abort ();
    }
}

static void
record_failure (Run *r, GError *error, const guint8 *p, gsize left)
{
  MsrpHead *head = msrp_reader_get_head (r->reader);
  gboolean in_body = msrp_reader_in_body (r->reader);
  MsrpReaderEvent ev;
  gsize used = 99;
  GError *again = NULL;

  check_message (error, MSRP_PARSER_ERROR);
  trace_error (r->trace, error, head, in_body);
  /* Failed stays failed, with the same head. */
  CHECK (msrp_reader_feed (r->reader, p, left, &used, &ev, &again) ==
         MSRP_PARSE_ERROR);
  CHECK (used == 0);
  CHECK (again != NULL && again->code == error->code);
  CHECK (strcmp (again->message, error->message) == 0);
  g_error_free (again);
  CHECK (msrp_reader_get_head (r->reader) == head);
  CHECK (msrp_reader_in_body (r->reader) == in_body);
  r->failed = TRUE;
}

/* Feed one piece, from its own allocation of exactly @len bytes. */
static void
feed_piece (Run *r, const guint8 *src, gsize len)
{
  guint8 *piece = g_malloc (len > 0 ? len : 1);
  gsize piece_len = len;
  const guint8 *p = piece;
  gsize left = len;

  memcpy (piece, src, len);
  while (!r->failed)
    {
      MsrpReaderEvent ev;
      gsize used = G_MAXSIZE;
      GError *error = NULL;
      MsrpParseStatus st;

      check_position (r);
      st = msrp_reader_feed (r->reader, p, left, &used, &ev, &error);
      CHECK (used <= left);
      CHECK (msrp_reader_get_buffer_size (r->reader) <= r->max_buffer);
      if (st == MSRP_PARSE_ERROR)
        {
          record_failure (r, error, p, left);
          g_error_free (error);
          break;
        }
      CHECK (error == NULL);
      if (st == MSRP_PARSE_NEED_MORE)
        {
          CHECK (used == left);
          check_position (r);
          break;
        }
      CHECK (st == MSRP_PARSE_EVENT);
      record (r, &ev, piece, piece_len);
      p += used;
      left -= used;
      if (r->move_rest)
        {
          /* Set the rest aside in a new allocation: nothing may point
           * into the old one now. */
          guint8 *rest = g_malloc (left > 0 ? left : 1);

          memcpy (rest, p, left);
          g_free (piece);
          piece = rest;
          piece_len = left;
          p = piece;
        }
    }
  g_free (piece);
}

static GString *
run_reader (const MsrpParserLimits *limits, const guint8 *data, gsize size,
            int mode, guint seed, gboolean move_rest)
{
  Run r = {
    0,
  };
  gsize off = 0;

  r.reader = msrp_reader_new (limits);
  r.trace = g_string_new (NULL);
  r.max_buffer = MAX (limits->max_start_line, limits->max_header_bytes);
  r.move_rest = move_rest;

  switch (mode)
    {
    case -1: /* whole */
      feed_piece (&r, data, size);
      break;
    case 0: /* byte by byte */
      for (off = 0; off < size && !r.failed; off++)
        feed_piece (&r, data + off, 1);
      break;
    case 1: /* in two */
      off = size > 0 ? seed % (size + 1) : 0;
      feed_piece (&r, data, off);
      if (!r.failed)
        feed_piece (&r, data + off, size - off);
      break;
    default: /* pieces of pseudo-random length */
      {
        guint32 x = seed * 2654435761u + 1;
        guint32 max = mode == 2 ? 64 : 4096;

        while (off < size && !r.failed)
          {
            gsize n;

            x = x * 1103515245u + 12345u;
            n = MIN ((gsize) (x >> 8) % max + 1, size - off);
            feed_piece (&r, data + off, n);
            off += n;
            /* A call without bytes changes nothing. */
            if (!r.failed && (x & 0x100))
              feed_piece (&r, data + off, 0);
          }
      }
      break;
    }
  /* A call without bytes changes nothing but may give a pending END. */
  if (!r.failed)
    feed_piece (&r, data, 0);

  msrp_reader_free (r.reader);
  return r.trace;
}

/* ---------------------------------------------------------------------------
 * The reference: MsrpParser and MsrpHead by hand, whole input
 * ------------------------------------------------------------------------- */

static GString *
run_reference (const MsrpParserLimits *limits, const guint8 *data, gsize size)
{
  MsrpParser *parser = msrp_parser_new_full (limits);
  GString *t = g_string_new (NULL);
  MsrpHead *head = NULL; /* from the start line to END */
  GError *head_error = NULL;
  gboolean in_body = FALSE; /* HEADERS_END seen */

  while (TRUE)
    {
      MsrpParserEvent ev;
      gsize used = 0;
      GError *error = NULL;
      MsrpParseStatus st;

      st = msrp_parser_feed (parser, data, size, &used, &ev, &error);
      data += used;
      size -= used;
      if (st == MSRP_PARSE_NEED_MORE)
        break;
      if (st == MSRP_PARSE_ERROR)
        {
          trace_error (t, error, head, in_body);
          g_error_free (error);
          break;
        }
      switch (ev.type)
        {
        case MSRP_PARSER_EVENT_REQUEST:
        case MSRP_PARSER_EVENT_RESPONSE:
          CHECK (head == NULL);
          head = msrp_head_new_from_event (&ev);
          break;
        case MSRP_PARSER_EVENT_HEADER:
          msrp_head_add_header (head, &ev,
                                head_error == NULL ? &head_error : NULL);
          break;
        case MSRP_PARSER_EVENT_HEADERS_END:
          msrp_head_finish (head, ev.has_body,
                            head_error == NULL ? &head_error : NULL);
          in_body = TRUE;
          trace_head (t, head, head_error);
          break;
        case MSRP_PARSER_EVENT_BODY:
          if (head_error == NULL)
            trace_body (t, ev.data, ev.data_len);
          break;
        case MSRP_PARSER_EVENT_END:
          trace_end (t, head, ev.continuation, ev.body_len);
          g_clear_pointer (&head, msrp_head_unref);
          g_clear_error (&head_error);
          in_body = FALSE;
          break;
        default:
          abort ();
        }
    }
  g_clear_pointer (&head, msrp_head_unref);
  g_clear_error (&head_error);
  msrp_parser_free (parser);
  return t;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  MsrpParserLimits limits;
  GString *whole, *split, *reference;
  int mode;
  guint seed;
  gboolean move_rest;

  if (size < 3)
    return 0;
  mode = data[0] & 3;
  move_rest = (data[0] & 8) != 0;
  seed = (guint) data[1] << 8 | data[2];
  msrp_parser_limits_init (&limits);
  if (data[0] & 4)
    {
      limits.max_start_line = MSRP_PARSER_MIN_START_LINE;
      limits.max_header_bytes = MSRP_PARSER_MIN_HEADER_BYTES + 44;
      limits.max_headers = 4;
      limits.max_non_send_body = 16;
    }
  data += 3;
  size -= 3;
  /* Byte by byte costs a feed call per byte: keep it for short inputs. */
  if (mode == 0 && size > 4096)
    mode = 2;

  whole = run_reader (&limits, data, size, -1, 0, FALSE);
  split = run_reader (&limits, data, size, mode, seed, move_rest);
  reference = run_reference (&limits, data, size);
  CHECK (whole->len == split->len);
  CHECK (memcmp (whole->str, split->str, whole->len) == 0);
  CHECK (whole->len == reference->len);
  CHECK (memcmp (whole->str, reference->str, whole->len) == 0);
  g_string_free (whole, TRUE);
  g_string_free (split, TRUE);
  g_string_free (reference, TRUE);
  return 0;
}
