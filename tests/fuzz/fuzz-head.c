/* fuzz-head.c: libFuzzer target for msrp/msrp-head.c.
 *
 * Input: the layout of fuzz-parser (so that its corpus seeds this one):
 * 3 control bytes, then the byte stream of a connection.
 *   byte 0, bits 0-1: how the stream is fed (0 whole, 1 byte by byte,
 *                     2 in pieces of 1..64 bytes, 3 of 1..4096 bytes)
 *   byte 0, bit 2:    small parser limits
 *   bytes 1-2:        seed of the piece lengths
 *
 * Each piece sits in its own allocation of exactly its size, freed after
 * its feed, so AddressSanitizer catches a head that keeps a pointer into
 * the parser's events.  Every frame the parser yields is collected into an
 * MsrpHead (new_from_event, add_header, finish), as a relay does; a header
 * the head refuses drops the frame's head, as a relay answering 400 would.
 * Checked:
 *   - the head holds what the events said (transaction id, method or
 *     status and comment, each header's id, name and value, has_body);
 *   - add_header refuses only the headers whose values it parses, and a
 *     refused header is not kept;
 *   - finish fails exactly when To-Path or From-Path is missing, a SEND
 *     lacks a Message-ID, or a REPORT a Message-ID or a Status; after it
 *     succeeds both paths are non-empty;
 *   - get_header and find agree, and the typed getters agree with find;
 *   - every error is in the MSRP_HEAD_ERROR or MSRP_PARSER_ERROR domain,
 *     with a non-empty printable (UTF-8, no control character) message;
 *   - nothing leaks (LeakSanitizer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msrp-head.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond)                                                           \
  do                                                                          \
    {                                                                         \
      if (!(cond))                                                            \
        abort ();                                                             \
    }                                                                         \
  while (0)

typedef struct
{
  MsrpParser *parser;
  MsrpHead *head;    /* the frame being collected, or NULL */
  gboolean in_frame; /* between start line and END */
  gboolean failed;   /* the parser failed: stop */
} Run;

static void
check_error (const GError *error, GQuark domain)
{
  CHECK (error != NULL);
  CHECK (error->domain == domain);
  CHECK (error->message[0] != '\0');
  CHECK (g_utf8_validate (error->message, -1, NULL));
  for (const char *c = error->message; *c != '\0'; c = g_utf8_next_char (c))
    CHECK (!g_unichar_iscntrl (g_utf8_get_char (c)));
}

static void
check_slice (const char *s, const char *slice, gsize len)
{
  CHECK (s != NULL);
  CHECK (strlen (s) == len);
  CHECK (memcmp (s, slice, len) == 0);
}

/* Does add_header parse (and so may refuse) the value of @id? */
static gboolean
is_parsed (MsrpHeaderId id)
{
  switch (id)
    {
    case MSRP_HEADER_TO_PATH:
    case MSRP_HEADER_FROM_PATH:
    case MSRP_HEADER_USE_PATH:
    case MSRP_HEADER_MESSAGE_ID:
    case MSRP_HEADER_BYTE_RANGE:
    case MSRP_HEADER_SUCCESS_REPORT:
    case MSRP_HEADER_FAILURE_REPORT:
    case MSRP_HEADER_STATUS:
    case MSRP_HEADER_CONTENT_TYPE:
    case MSRP_HEADER_EXPIRES:
    case MSRP_HEADER_MIN_EXPIRES:
    case MSRP_HEADER_MAX_EXPIRES:
      return TRUE;
    default:
      return FALSE;
    }
}

/* The value of the first header matching @id (by name for OTHER), as the
 * documentation of msrp_head_find() describes it. */
static const char *
first_value (const MsrpHead *head, MsrpHeaderId id, const char *name)
{
  for (guint i = 0; i < msrp_head_get_n_headers (head); i++)
    {
      MsrpHeaderId hid;
      const char *hname, *hvalue;

      msrp_head_get_header (head, i, &hid, &hname, &hvalue);
      if (id != MSRP_HEADER_OTHER ? hid == id
                                  : g_ascii_strcasecmp (hname, name) == 0)
        return hvalue;
    }
  return NULL;
}

static void
check_path (GPtrArray *path, const char *value, MsrpHeaderId id)
{
  GPtrArray *again;

  CHECK (path != NULL && path->len > 0);
  for (guint i = 0; i < path->len; i++)
    CHECK (g_ptr_array_index (path, i) != NULL);
  CHECK (value != NULL);
  again = msrp_path_parse (id, value, strlen (value), NULL);
  CHECK (again != NULL && again->len == path->len);
  g_ptr_array_unref (again);
}

/* Everything a finished head offers, against its header list. */
static void
check_finished (const MsrpHead *head)
{
  static const MsrpHeaderId expires_ids[] = {
    MSRP_HEADER_EXPIRES,
    MSRP_HEADER_MIN_EXPIRES,
    MSRP_HEADER_MAX_EXPIRES,
  };
  const char *method = msrp_head_get_method (head);
  const char *mid = msrp_head_find (head, MSRP_HEADER_MESSAGE_ID, NULL);

  /* get_header and find agree. */
  for (guint i = 0; i < msrp_head_get_n_headers (head); i++)
    {
      MsrpHeaderId id = (MsrpHeaderId) -1;
      const char *name = NULL, *value = NULL;
      const char *found;

      msrp_head_get_header (head, i, &id, &name, &value);
      CHECK (name != NULL && value != NULL);
      CHECK (id == msrp_header_id_from_name (name, strlen (name)));
      found = msrp_head_find (head, id, id == MSRP_HEADER_OTHER ? name : NULL);
      CHECK (found != NULL);
      CHECK (found == first_value (head, id, name));
      /* Known headers occur once (the parser enforces it), except
       * WWW-Authenticate. */
      if (id != MSRP_HEADER_OTHER && id != MSRP_HEADER_WWW_AUTHENTICATE)
        CHECK (found == value);
    }
  CHECK (msrp_head_find (head, MSRP_HEADER_OTHER, "X-Not-Sent-\x01") == NULL);

  /* The typed getters agree with the text. */
  check_path (msrp_head_get_to_path (head),
              msrp_head_find (head, MSRP_HEADER_TO_PATH, NULL),
              MSRP_HEADER_TO_PATH);
  check_path (msrp_head_get_from_path (head),
              msrp_head_find (head, MSRP_HEADER_FROM_PATH, NULL),
              MSRP_HEADER_FROM_PATH);
  if (msrp_head_find (head, MSRP_HEADER_USE_PATH, NULL) != NULL)
    check_path (msrp_head_get_use_path (head),
                msrp_head_find (head, MSRP_HEADER_USE_PATH, NULL),
                MSRP_HEADER_USE_PATH);
  else
    CHECK (msrp_head_get_use_path (head) == NULL);
  CHECK ((msrp_head_get_message_id (head) != NULL) == (mid != NULL));
  if (mid != NULL)
    CHECK (strcmp (msrp_head_get_message_id (head), mid) == 0);
  CHECK ((msrp_head_get_byte_range (head) != NULL) ==
         (msrp_head_find (head, MSRP_HEADER_BYTE_RANGE, NULL) != NULL));
  CHECK ((msrp_head_get_status (head) != NULL) ==
         (msrp_head_find (head, MSRP_HEADER_STATUS, NULL) != NULL));
  CHECK (msrp_head_get_content_type (head) ==
         msrp_head_find (head, MSRP_HEADER_CONTENT_TYPE, NULL));
  if (msrp_head_find (head, MSRP_HEADER_SUCCESS_REPORT, NULL) == NULL)
    CHECK (msrp_head_get_success_report (head) == MSRP_SUCCESS_REPORT_DEFAULT);
  if (msrp_head_find (head, MSRP_HEADER_FAILURE_REPORT, NULL) == NULL)
    CHECK (msrp_head_get_failure_report (head) == MSRP_FAILURE_REPORT_DEFAULT);
  for (guint i = 0; i < G_N_ELEMENTS (expires_ids); i++)
    {
      guint32 n;

      CHECK (msrp_head_get_expires (head, expires_ids[i], &n) ==
             (msrp_head_find (head, expires_ids[i], NULL) != NULL));
    }

  /* What finish() promised. */
  if (msrp_head_is_request (head))
    {
      CHECK (method != NULL);
      if (strcmp (method, "SEND") == 0)
        CHECK (msrp_head_get_message_id (head) != NULL);
      if (strcmp (method, "REPORT") == 0)
        CHECK (msrp_head_get_message_id (head) != NULL &&
               msrp_head_get_status (head) != NULL);
    }
  else
    CHECK (method == NULL);
}

static void
on_event (Run *r, const MsrpParserEvent *ev)
{
  switch (ev->type)
    {
    case MSRP_PARSER_EVENT_REQUEST:
    case MSRP_PARSER_EVENT_RESPONSE:
      CHECK (!r->in_frame && r->head == NULL);
      r->in_frame = TRUE;
      r->head = msrp_head_new_from_event (ev);
      CHECK (r->head != NULL);
      check_slice (msrp_head_get_transaction_id (r->head), ev->transaction_id,
                   ev->transaction_id_len);
      CHECK (msrp_head_get_n_headers (r->head) == 0);
      if (ev->type == MSRP_PARSER_EVENT_REQUEST)
        {
          CHECK (msrp_head_is_request (r->head));
          check_slice (msrp_head_get_method (r->head), ev->method,
                       ev->method_len);
        }
      else
        {
          CHECK (!msrp_head_is_request (r->head));
          CHECK (msrp_head_get_method (r->head) == NULL);
          CHECK (msrp_head_get_status_code (r->head) == ev->status_code);
          if (ev->comment != NULL)
            check_slice (msrp_head_get_comment (r->head), ev->comment,
                         ev->comment_len);
          else
            CHECK (msrp_head_get_comment (r->head) == NULL);
        }
      break;

    case MSRP_PARSER_EVENT_HEADER:
      CHECK (r->in_frame);
      if (r->head != NULL)
        {
          guint n = msrp_head_get_n_headers (r->head);
          GError *error = NULL;

          if (msrp_head_add_header (r->head, ev, &error))
            {
              MsrpHeaderId id;
              const char *name, *value;

              CHECK (error == NULL);
              CHECK (msrp_head_get_n_headers (r->head) == n + 1);
              msrp_head_get_header (r->head, n, &id, &name, &value);
              CHECK (id == ev->header_id);
              check_slice (name, ev->name, ev->name_len);
              check_slice (value, ev->value, ev->value_len);
            }
          else
            {
              check_error (error, MSRP_HEAD_ERROR);
              CHECK (error->code == MSRP_HEAD_ERROR_VALUE);
              CHECK (is_parsed (ev->header_id));
              CHECK (msrp_head_get_n_headers (r->head) == n);
              g_error_free (error);
              /* 400: the rest of the frame is skipped. */
              g_clear_pointer (&r->head, msrp_head_unref);
            }
        }
      break;

    case MSRP_PARSER_EVENT_HEADERS_END:
      CHECK (r->in_frame);
      if (r->head != NULL)
        {
          MsrpHead *head = r->head;
          const char *method = msrp_head_get_method (head);
          gboolean has_mid = msrp_head_get_message_id (head) != NULL;
          gboolean has_status = msrp_head_get_status (head) != NULL;
          gboolean expect_ok;
          GError *error = NULL;
          gboolean ok;

          expect_ok =
              msrp_head_find (head, MSRP_HEADER_TO_PATH, NULL) != NULL &&
              msrp_head_find (head, MSRP_HEADER_FROM_PATH, NULL) != NULL;
          if (method != NULL && strcmp (method, "SEND") == 0)
            expect_ok = expect_ok && has_mid;
          if (method != NULL && strcmp (method, "REPORT") == 0)
            expect_ok = expect_ok && has_mid && has_status;

          ok = msrp_head_finish (head, ev->has_body, &error);
          CHECK (ok == expect_ok);
          CHECK (msrp_head_has_body (head) == ev->has_body);
          if (ok)
            {
              CHECK (error == NULL);
              /* A reference taken around a callback, as a relay does. */
              msrp_head_ref (head);
              check_finished (head);
              msrp_head_unref (head);
            }
          else
            {
              check_error (error, MSRP_HEAD_ERROR);
              CHECK (error->code == MSRP_HEAD_ERROR_MISSING);
              g_error_free (error);
            }
          g_clear_pointer (&r->head, msrp_head_unref);
        }
      break;

    case MSRP_PARSER_EVENT_BODY:
      CHECK (r->in_frame && r->head == NULL);
      break;

    case MSRP_PARSER_EVENT_END:
      CHECK (r->in_frame && r->head == NULL);
      r->in_frame = FALSE;
      break;

    default:
      abort ();
    }
}

/* Feed one piece, from its own allocation of exactly @len bytes. */
static void
feed_piece (Run *r, const guint8 *src, gsize len)
{
  guint8 *piece = g_malloc (len > 0 ? len : 1);
  const guint8 *p = piece;
  gsize left = len;

  memcpy (piece, src, len);
  while (!r->failed)
    {
      MsrpParserEvent ev;
      gsize used = 0;
      GError *error = NULL;
      MsrpParseStatus st;

      st = msrp_parser_feed (r->parser, p, left, &used, &ev, &error);
      CHECK (used <= left);
      if (st == MSRP_PARSE_ERROR)
        {
          check_error (error, MSRP_PARSER_ERROR);
          g_error_free (error);
          r->failed = TRUE;
          break;
        }
      CHECK (error == NULL);
      if (st == MSRP_PARSE_NEED_MORE)
        break;
      on_event (r, &ev);
      p += used;
      left -= used;
    }
  g_free (piece);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  MsrpParserLimits limits;
  Run r = { 0 };
  int mode;
  guint seed;

  if (size < 3)
    return 0;
  mode = data[0] & 3;
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
  if (mode == 1 && size > 4096)
    mode = 2;

  r.parser = msrp_parser_new_full (&limits);
  if (mode == 0)
    feed_piece (&r, data, size);
  else
    {
      guint32 x = seed * 2654435761u + 1;
      guint32 max = mode == 1 ? 1 : mode == 2 ? 64 : 4096;
      gsize off = 0;

      while (off < size && !r.failed)
        {
          gsize n;

          x = x * 1103515245u + 12345u;
          n = MIN ((gsize) (x >> 8) % max + 1, size - off);
          feed_piece (&r, data + off, n);
          off += n;
        }
    }
  /* A call without bytes may give a pending END. */
  if (!r.failed)
    feed_piece (&r, data, 0);

  g_clear_pointer (&r.head, msrp_head_unref);
  msrp_parser_free (r.parser);
  return 0;
}
