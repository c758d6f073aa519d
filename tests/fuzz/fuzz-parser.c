/* fuzz-parser.c: libFuzzer target for msrp/msrp-parser.c.
 *
 * Input: 3 control bytes, then the byte stream of a connection.
 *   byte 0, bits 0-1: how the second run splits the stream
 *                     (0 byte by byte, 1 in two at a position, 2 in pieces
 *                     of 1..64 bytes, 3 in pieces of 1..4096 bytes, with
 *                     calls without bytes between some pieces)
 *   byte 0, bit 2:    small limits (to reach every limit with short inputs)
 *   bytes 1-2:        split position, or seed of the piece lengths
 *
 * The stream is parsed twice: whole, and split as chosen.  Each piece sits
 * in its own allocation of exactly its size, freed after its feed, so that
 * AddressSanitizer catches any read outside it.  Checked on every call:
 * *consumed <= len; NEED_MORE consumes everything; body pieces are not empty
 * and point into the piece fed (or, marked held, are short and do not);
 * END's body_len counts the body bytes seen; the parser is idle after END;
 * the buffer stays within the limits; after an error every call fails the
 * same way; error messages are printable.  Then the two runs must tell the
 * same story: the same events, the same body bytes, the same error. */
#include "msrp-parser.h"

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

typedef struct
{
  MsrpParser *parser;
  GString *trace;
  guint64 frame_body;
  gsize max_buffer;
  gboolean failed;
} Run;

static void
record (Run *r, const MsrpParserEvent *ev, const guint8 *piece, gsize len)
{
  GString *t = r->trace;

  switch (ev->type)
    {
    case MSRP_PARSER_EVENT_REQUEST:
    case MSRP_PARSER_EVENT_RESPONSE:
      CHECK (ev->transaction_id_len >= MSRP_PARSER_MIN_TRANSACTION_ID);
      CHECK (ev->transaction_id_len <= MSRP_PARSER_MAX_TRANSACTION_ID);
      r->frame_body = 0;
      g_string_append_printf (
          t, "\n%s ", ev->type == MSRP_PARSER_EVENT_REQUEST ? "REQ" : "RESP");
      g_string_append_len (t, ev->transaction_id,
                           (gssize) ev->transaction_id_len);
      if (ev->type == MSRP_PARSER_EVENT_REQUEST)
        {
          CHECK (ev->method_len > 0);
          g_string_append_c (t, ' ');
          g_string_append_len (t, ev->method, (gssize) ev->method_len);
        }
      else
        {
          CHECK (ev->status_code <= 999);
          g_string_append_printf (t, " %03u", ev->status_code);
          if (ev->comment != NULL)
            {
              g_string_append_c (t, ' ');
              g_string_append_len (t, ev->comment, (gssize) ev->comment_len);
            }
        }
      break;
    case MSRP_PARSER_EVENT_HEADER:
      CHECK (ev->name_len > 0);
      CHECK (ev->value == ev->name + ev->name_len + 2);
      CHECK (ev->header_id ==
             msrp_header_id_from_name (ev->name, ev->name_len));
      g_string_append_printf (t, "\nH%u ", ev->header_index);
      g_string_append_len (t, ev->name, (gssize) ev->name_len);
      g_string_append (t, ": ");
      g_string_append_len (t, ev->value, (gssize) ev->value_len);
      break;
    case MSRP_PARSER_EVENT_HEADERS_END:
      g_string_append (t, ev->has_body ? "\nEOH body" : "\nEOH");
      break;
    case MSRP_PARSER_EVENT_BODY:
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
      /* Body bytes are concatenated: pieces differ between the runs. */
      if (t->len == 0 || t->str[t->len - 1] != '\x01')
        g_string_append (t, "\nBODY ");
      else
        g_string_truncate (t, t->len - 1);
      g_string_append_len (t, (const char *) ev->data, (gssize) ev->data_len);
      g_string_append_c (t, '\x01');
      break;
    case MSRP_PARSER_EVENT_END:
      CHECK (ev->body_len == r->frame_body);
      CHECK (ev->continuation == '$' || ev->continuation == '+' ||
             ev->continuation == '#');
      CHECK (msrp_parser_is_idle (r->parser));
      g_string_append (t, "\nEND ");
      g_string_append_len (t, ev->transaction_id,
                           (gssize) ev->transaction_id_len);
      g_string_append_c (t, ev->continuation);
      break;
    default:
      abort ();
    }
}

static void
record_error (Run *r, const GError *error)
{
  CHECK (error != NULL && error->domain == MSRP_PARSER_ERROR);
  CHECK (error->message[0] != '\0');
  for (const char *c = error->message; *c != '\0'; c++)
    CHECK (*c >= 0x20 && *c < 0x7f);
  g_string_append_printf (r->trace, "\nERR %d %s", error->code,
                          error->message);
}

/* Feed one piece, from its own allocation of exactly @len bytes. */
static void
feed_piece (Run *r, const guint8 *src, gsize len)
{
  guint8 *piece = g_malloc (len > 0 ? len : 1);
  const guint8 *p = piece;
  gsize left = len;
  gsize limit = MAX (msrp_parser_get_limits (r->parser)->max_start_line,
                     msrp_parser_get_limits (r->parser)->max_header_bytes);

  memcpy (piece, src, len);
  while (!r->failed)
    {
      MsrpParserEvent ev;
      gsize used = G_MAXSIZE;
      GError *error = NULL;
      MsrpParseStatus st;

      st = msrp_parser_feed (r->parser, p, left, &used, &ev, &error);
      CHECK (used <= left);
      if (st == MSRP_PARSE_ERROR)
        {
          GError *again = NULL;

          CHECK (msrp_parser_has_failed (r->parser));
          record_error (r, error);
          /* Failed stays failed. */
          CHECK (msrp_parser_feed (r->parser, p, left, &used, &ev, &again) ==
                 MSRP_PARSE_ERROR);
          CHECK (used == 0);
          CHECK (again != NULL && again->code == error->code);
          CHECK (strcmp (again->message, error->message) == 0);
          g_error_free (again);
          g_error_free (error);
          r->failed = TRUE;
          break;
        }
      CHECK (error == NULL);
      CHECK (msrp_parser_get_buffer_size (r->parser) <= limit);
      if (st == MSRP_PARSE_NEED_MORE)
        {
          CHECK (used == left);
          break;
        }
      CHECK (st == MSRP_PARSE_EVENT);
      record (r, &ev, piece, len);
      p += used;
      left -= used;
    }
  g_free (piece);
}

static GString *
run (const MsrpParserLimits *limits, const guint8 *data, gsize size, int mode,
     guint seed)
{
  Run r = {
    0,
  };
  gsize off = 0;

  r.parser = msrp_parser_new_full (limits);
  r.trace = g_string_new (NULL);

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

  msrp_parser_free (r.parser);
  return r.trace;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  MsrpParserLimits limits;
  GString *whole, *split;
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
      /* Not a power of two: the buffer must not round up past it. */
      limits.max_header_bytes = MSRP_PARSER_MIN_HEADER_BYTES + 44;
      limits.max_headers = 4;
      limits.max_non_send_body = 16;
    }
  data += 3;
  size -= 3;
  /* Byte by byte costs a feed call per byte: keep it for short inputs. */
  if (mode == 0 && size > 4096)
    mode = 2;

  whole = run (&limits, data, size, -1, 0);
  split = run (&limits, data, size, mode, seed);
  CHECK (whole->len == split->len);
  CHECK (memcmp (whole->str, split->str, whole->len) == 0);
  g_string_free (whole, TRUE);
  g_string_free (split, TRUE);
  return 0;
}
