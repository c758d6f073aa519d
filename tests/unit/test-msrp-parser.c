/* test-msrp-parser.c: Check suite for msrp/msrp-parser.c (RFC 4975 sections
 * 5.1, 7 and 9; RFC 4976 sections 3 and 5.1).
 *
 * Every case runs whole, byte by byte, and split in two at every position
 * (guard.h, each piece against an unreadable guard page).  The events are
 * written into a canonical trace and compared with the expected one:
 *
 *   REQ <tid> <method>            RESP <tid> <code>[ <comment>]
 *   H <name>: <value>             EOH body | EOH
 *   BODY <all body bytes of the frame, however they were split>
 *   END <tid><flag>
 *
 * joined by '|'.  Bytes outside printable ASCII, CR, LF and HTAB appear as
 * \xNN.  An error case also names the error code and a message substring;
 * its trace holds the events before the error.  Besides the trace, every
 * event is checked as it comes out: body pieces not empty and inside the
 * piece fed (or, when held, no longer than an end-line), END's body_len equal
 * to the bytes seen, header indexes counting up, NEED_MORE consuming all,
 * and msrp_parser_get_phase() following the events (and, after an error,
 * naming the phase the last event left). */
#include "msrp-parser.h"

#include "guard.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define N_ELEMENTS(a) ((int) G_N_ELEMENTS (a))
#define CRLF "\r\n"
#define NO_ERROR (-1)

/* For the checks made on every event and feed: Check's ck_assert() writes to
 * a pipe each time it passes, which for millions of calls costs more than
 * the parsing. */
#define CHECK(expr)                                                           \
  do                                                                          \
    {                                                                         \
      if (G_UNLIKELY (!(expr)))                                               \
        ck_abort_msg ("%s:%d: check failed: %s", __FILE__, __LINE__, #expr);  \
    }                                                                         \
  while (0)
#define CHECK_MSG(expr, ...)                                                  \
  do                                                                          \
    {                                                                         \
      if (G_UNLIKELY (!(expr)))                                               \
        ck_abort_msg (__VA_ARGS__);                                           \
    }                                                                         \
  while (0)

/* ---------------------------------------------------------------------------
 * Running a case
 * ------------------------------------------------------------------------- */

typedef struct
{
  MsrpParser *parser;
  GString *trace;
  GString *body;      /* body bytes of the current frame */
  guint64 frame_body; /* same, counted */
  guint next_header;
  gboolean in_frame;
  GError *error;
  gsize max_held; /* longest held BODY event */
  guint n_events;
  MsrpParserPhase phase; /* what the events say the phase is */
} Run;

static void
trace_sep (Run *r)
{
  if (r->trace->len > 0)
    g_string_append_c (r->trace, '|');
}

static void
append_escaped (GString *out, const void *bytes, gsize n)
{
  const guint8 *s = bytes;

  gsize run = 0;

  for (gsize i = 0; i < n; i++)
    {
      if ((s[i] >= 0x20 && s[i] < 0x7f) || s[i] == '\r' || s[i] == '\n' ||
          s[i] == '\t')
        continue;
      g_string_append_len (out, (const char *) s + run, (gssize) (i - run));
      g_string_append_printf (out, "\\x%02x", s[i]);
      run = i + 1;
    }
  g_string_append_len (out, (const char *) s + run, (gssize) (n - run));
}

static void
flush_body (Run *r)
{
  if (r->body->len == 0)
    return;
  trace_sep (r);
  g_string_append (r->trace, "BODY ");
  append_escaped (r->trace, r->body->str, r->body->len);
  g_string_truncate (r->body, 0);
}

static void
record_event (Run *r, const MsrpParserEvent *ev, const guint8 *piece,
              gsize piece_len)
{
  r->n_events++;
  switch (ev->type)
    {
    case MSRP_PARSER_EVENT_REQUEST:
    case MSRP_PARSER_EVENT_RESPONSE:
      CHECK (!r->in_frame);
      CHECK (ev->transaction_id_len >= 4);
      CHECK (ev->transaction_id_len <= 32);
      r->in_frame = TRUE;
      r->next_header = 1;
      r->frame_body = 0;
      r->phase = MSRP_PARSER_PHASE_HEADERS;
      trace_sep (r);
      if (ev->type == MSRP_PARSER_EVENT_REQUEST)
        {
          CHECK (ev->method_len > 0);
          CHECK (ev->comment == NULL);
          g_string_append_printf (
              r->trace, "REQ %.*s %.*s", (int) ev->transaction_id_len,
              ev->transaction_id, (int) ev->method_len, ev->method);
        }
      else
        {
          CHECK (ev->method == NULL);
          CHECK (ev->status_code <= 999);
          g_string_append_printf (r->trace, "RESP %.*s %03u",
                                  (int) ev->transaction_id_len,
                                  ev->transaction_id, ev->status_code);
          if (ev->comment != NULL)
            {
              g_string_append_c (r->trace, ' ');
              append_escaped (r->trace, ev->comment, ev->comment_len);
            }
        }
      break;
    case MSRP_PARSER_EVENT_HEADER:
      CHECK (r->in_frame);
      CHECK (ev->header_index == r->next_header);
      r->next_header++;
      CHECK (ev->name_len > 0);
      CHECK (ev->header_id ==
             msrp_header_id_from_name (ev->name, ev->name_len));
      /* The value follows the name and ": " in the same line. */
      CHECK (ev->value == ev->name + ev->name_len + 2);
      trace_sep (r);
      g_string_append_printf (r->trace, "H %.*s: ", (int) ev->name_len,
                              ev->name);
      append_escaped (r->trace, ev->value, ev->value_len);
      break;
    case MSRP_PARSER_EVENT_HEADERS_END:
      CHECK (r->in_frame);
      r->phase = MSRP_PARSER_PHASE_BODY;
      trace_sep (r);
      g_string_append (r->trace, ev->has_body ? "EOH body" : "EOH");
      break;
    case MSRP_PARSER_EVENT_BODY:
      CHECK (r->in_frame);
      CHECK (ev->data_len > 0);
      if (ev->held)
        {
          /* Bytes carried over from an earlier feed: short, parser's own. */
          CHECK (ev->data_len <= MSRP_PARSER_MAX_END_LINE);
          CHECK (ev->data + ev->data_len <= piece ||
                 ev->data >= piece + piece_len);
          r->max_held = MAX (r->max_held, ev->data_len);
        }
      else
        {
          /* Zero-copy: inside the caller's input. */
          CHECK (ev->data >= piece);
          CHECK (ev->data + ev->data_len <= piece + piece_len);
        }
      g_string_append_len (r->body, (const char *) ev->data,
                           (gssize) ev->data_len);
      r->frame_body += ev->data_len;
      break;
    case MSRP_PARSER_EVENT_END:
      CHECK (r->in_frame);
      CHECK (ev->body_len == r->frame_body);
      CHECK (ev->continuation == '$' || ev->continuation == '+' ||
             ev->continuation == '#');
      flush_body (r);
      trace_sep (r);
      g_string_append_printf (r->trace, "END %.*s%c",
                              (int) ev->transaction_id_len, ev->transaction_id,
                              ev->continuation);
      r->in_frame = FALSE;
      r->phase = MSRP_PARSER_PHASE_START_LINE;
      break;
    default:
      ck_abort_msg ("unknown event type %d", ev->type);
    }
}

/* Feed one piece the way a connection would: event by event, re-feeding the
 * rest, until the parser needs more. */
static int
feed_piece (const unsigned char *piece, size_t len, void *user_data)
{
  Run *r = user_data;
  const guint8 *data = piece;
  gsize left = len;

  for (;;)
    {
      MsrpParserEvent ev;
      gsize used = G_MAXSIZE;
      MsrpParseStatus st;

      CHECK (msrp_parser_get_phase (r->parser) == r->phase);
      st = msrp_parser_feed (r->parser, data, left, &used, &ev, &r->error);
      CHECK (used <= left);
      if (st == MSRP_PARSE_ERROR)
        {
          CHECK (r->error != NULL);
          CHECK (msrp_parser_has_failed (r->parser));
          /* The phase the error came in: where the last event left it. */
          CHECK (msrp_parser_get_phase (r->parser) == r->phase);
          return 1;
        }
      CHECK (r->error == NULL);
      if (st == MSRP_PARSE_NEED_MORE)
        {
          CHECK (used == left);
          CHECK (msrp_parser_get_phase (r->parser) == r->phase);
          return 0;
        }
      CHECK (st == MSRP_PARSE_EVENT);
      record_event (r, &ev, piece, len);
      CHECK (msrp_parser_get_phase (r->parser) == r->phase);
      data += used;
      left -= used;
    }
}

static const char *
mode_name (SplitMode mode)
{
  switch (mode)
    {
    case SPLIT_WHOLE:
      return "whole";
    case SPLIT_BYTEWISE:
      return "bytewise";
    case SPLIT_AT:
    default:
      return "split";
    }
}

static void
check_message_printable (const char *message)
{
  CHECK (message != NULL);
  CHECK (strlen (message) > 0);
  for (const char *c = message; *c != '\0'; c++)
    CHECK_MSG (*c >= 0x20 && *c < 0x7f,
               "unprintable byte 0x%02x in message \"%s\"", (guint8) *c,
               message);
}

/* A valid frame, to show a parser works again after reset. */
static const char valid_frame[] =
    "MSRP abcd SEND" CRLF "To-Path: msrp://b.example.com:2855/s1;tcp" CRLF
    "From-Path: msrp://a.example.com:2855/s2;tcp" CRLF "-------abcd$" CRLF;

/* Run @input in one mode; check the outcome. */
static void
run_mode (const char *name, const void *input, gsize len,
          const MsrpParserLimits *limits, SplitMode mode, gsize at,
          const char *want_trace, gboolean want_idle, int want_code,
          const char *want_msg)
{
  Run r = {
    0,
  };
  int rc;

  r.parser = msrp_parser_new_full (limits);
  r.trace = g_string_new (NULL);
  r.body = g_string_new (NULL);

  rc = guard_feed (input, len, mode, at, feed_piece, &r);
  flush_body (&r);

  CHECK_MSG (strcmp (r.trace->str, want_trace) == 0,
             "%s [%s at %zu]: trace\n  got  \"%s\"\n  want \"%s\"\n"
             "  (error: %s)",
             name, mode_name (mode), at, r.trace->str, want_trace,
             r.error != NULL ? r.error->message : "none");
  if (want_msg == NULL)
    {
      CHECK_MSG (rc == 0 && r.error == NULL,
                 "%s [%s at %zu]: unexpected error: %s", name,
                 mode_name (mode), at,
                 r.error != NULL ? r.error->message : "?");
      CHECK_MSG (msrp_parser_is_idle (r.parser) == want_idle,
                 "%s [%s at %zu]: idle is %d, want %d", name, mode_name (mode),
                 at, msrp_parser_is_idle (r.parser), want_idle);
    }
  else
    {
      MsrpParserEvent ev;
      gsize used = 99;
      GError *again = NULL;
      static const guint8 more[] = "MSRP ";

      CHECK_MSG (r.error != NULL, "%s [%s at %zu]: no error, want '%s'", name,
                 mode_name (mode), at, want_msg);
      CHECK_MSG (g_error_matches (r.error, MSRP_PARSER_ERROR, want_code),
                 "%s [%s at %zu]: error code %d, want %d (%s)", name,
                 mode_name (mode), at, r.error->code, want_code,
                 r.error->message);
      CHECK_MSG (strstr (r.error->message, want_msg) != NULL,
                 "%s [%s at %zu]: message\n  got  \"%s\"\n  want \"%s\"", name,
                 mode_name (mode), at, r.error->message, want_msg);
      check_message_printable (r.error->message);
      CHECK (!msrp_parser_is_idle (r.parser));

      /* Failed stays failed, with the same error, consuming nothing. */
      CHECK (msrp_parser_feed (r.parser, more, 5, &used, &ev, &again) ==
             MSRP_PARSE_ERROR);
      CHECK (used == 0);
      CHECK (again != NULL);
      CHECK (strcmp (again->message, r.error->message) == 0);
      CHECK (again->code == r.error->code);
      g_clear_error (&again);

      /* Until reset. */
      msrp_parser_reset (r.parser);
      CHECK (!msrp_parser_has_failed (r.parser));
      CHECK (msrp_parser_get_phase (r.parser) == MSRP_PARSER_PHASE_START_LINE);
      CHECK (msrp_parser_feed (r.parser, (const guint8 *) valid_frame,
                               sizeof valid_frame - 1, &used, &ev,
                               &again) == MSRP_PARSE_EVENT);
      CHECK (ev.type == MSRP_PARSER_EVENT_REQUEST);
      g_clear_error (&r.error);
    }

  msrp_parser_free (r.parser);
  g_string_free (r.trace, TRUE);
  g_string_free (r.body, TRUE);
}

/* Whole, byte by byte, and split at every position. */
static void
run_all_modes (const char *name, const void *input, gsize len,
               const MsrpParserLimits *limits, const char *want_trace,
               gboolean want_idle, int want_code, const char *want_msg)
{
  run_mode (name, input, len, limits, SPLIT_WHOLE, 0, want_trace, want_idle,
            want_code, want_msg);
  run_mode (name, input, len, limits, SPLIT_BYTEWISE, 0, want_trace, want_idle,
            want_code, want_msg);
  for (gsize at = 0; at <= len; at++)
    run_mode (name, input, len, limits, SPLIT_AT, at, want_trace, want_idle,
              want_code, want_msg);
}

/* ---------------------------------------------------------------------------
 * RFC examples (line folding with "\" in RFC 4976 undone, as its text says)
 * ------------------------------------------------------------------------- */

/* RFC 4975 section 4, Figure 2 */
#define EX4_SEND                                                              \
  "MSRP a786hjs2 SEND" CRLF                                                   \
  "To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp" CRLF          \
  "From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp" CRLF           \
  "Message-ID: 87652491" CRLF "Byte-Range: 1-25/25" CRLF                      \
  "Content-Type: text/plain" CRLF CRLF "Hey Bob, are you there?" CRLF         \
  "-------a786hjs2$" CRLF
#define TR4_SEND                                                              \
  "REQ a786hjs2 SEND"                                                         \
  "|H To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp"            \
  "|H From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp"             \
  "|H Message-ID: 87652491"                                                   \
  "|H Byte-Range: 1-25/25"                                                    \
  "|H Content-Type: text/plain"                                               \
  "|EOH body"                                                                 \
  "|BODY Hey Bob, are you there?"                                             \
  "|END a786hjs2$"

#define EX4_200                                                               \
  "MSRP a786hjs2 200 OK" CRLF                                                 \
  "To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp" CRLF             \
  "From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp" CRLF        \
  "-------a786hjs2$" CRLF
#define TR4_200                                                               \
  "RESP a786hjs2 200 OK"                                                      \
  "|H To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp"               \
  "|H From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp"          \
  "|EOH"                                                                      \
  "|END a786hjs2$"

/* RFC 4975 section 5.1, Figure 3, with the To-Path and From-Path the figure
 * leaves out (section 9 requires them first). */
#define PATHS_51                                                              \
  "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp" CRLF               \
  "From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp" CRLF
#define TR_PATHS_51                                                           \
  "|H To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp"                 \
  "|H From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp"
#define EX51                                                                  \
  "MSRP dkei38sd SEND" CRLF PATHS_51 "Message-ID: 4564dpWd" CRLF              \
  "Byte-Range: 1-*/8" CRLF "Content-Type: text/plain" CRLF CRLF "abcd" CRLF   \
  "-------dkei38sd+" CRLF "MSRP dkei38ia SEND" CRLF PATHS_51                  \
  "Message-ID: 4564dpWd" CRLF "Byte-Range: 5-8/8" CRLF                        \
  "Content-Type: text/plain" CRLF CRLF "EFGH" CRLF "-------dkei38ia$" CRLF
#define TR51                                                                  \
  "REQ dkei38sd SEND" TR_PATHS_51                                             \
  "|H Message-ID: 4564dpWd|H Byte-Range: 1-*/8|H Content-Type: text/plain"    \
  "|EOH body|BODY abcd|END dkei38sd+"                                         \
  "|REQ dkei38ia SEND" TR_PATHS_51                                            \
  "|H Message-ID: 4564dpWd|H Byte-Range: 5-8/8|H Content-Type: text/plain"    \
  "|EOH body|BODY EFGH|END dkei38ia$"

/* RFC 4975 section 11.1, steps 4 to 7, on one connection */
#define EX111                                                                 \
  "MSRP d93kswow SEND" CRLF                                                   \
  "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp" CRLF               \
  "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp" CRLF         \
  "Message-ID: 12339sdqwer" CRLF "Byte-Range: 1-16/16" CRLF                   \
  "Content-Type: text/plain" CRLF CRLF "Hi, I'm Alice!" CRLF                  \
  "-------d93kswow$" CRLF "MSRP d93kswow 200 OK" CRLF                         \
  "To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp" CRLF           \
  "From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp" CRLF             \
  "-------d93kswow$" CRLF "MSRP dkei38sd SEND" CRLF                           \
  "To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp" CRLF           \
  "From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp" CRLF             \
  "Message-ID: 456s9wlk3" CRLF "Byte-Range: 1-21/21" CRLF                     \
  "Content-Type: text/plain" CRLF CRLF "Hi, Alice!  I'm Bob!" CRLF            \
  "-------dkei38sd$" CRLF "MSRP dkei38sd 200 OK" CRLF                         \
  "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp" CRLF               \
  "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp" CRLF         \
  "-------dkei38sd$" CRLF
#define TR111                                                                 \
  "REQ d93kswow SEND"                                                         \
  "|H To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp"                 \
  "|H From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp"           \
  "|H Message-ID: 12339sdqwer|H Byte-Range: 1-16/16"                          \
  "|H Content-Type: text/plain|EOH body|BODY Hi, I'm Alice!"                  \
  "|END d93kswow$"                                                            \
  "|RESP d93kswow 200 OK"                                                     \
  "|H To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp"             \
  "|H From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp"               \
  "|EOH|END d93kswow$"                                                        \
  "|REQ dkei38sd SEND"                                                        \
  "|H To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp"             \
  "|H From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp"               \
  "|H Message-ID: 456s9wlk3|H Byte-Range: 1-21/21"                            \
  "|H Content-Type: text/plain|EOH body|BODY Hi, Alice!  I'm Bob!"            \
  "|END dkei38sd$"                                                            \
  "|RESP dkei38sd 200 OK"                                                     \
  "|H To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp"                 \
  "|H From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp"           \
  "|EOH|END dkei38sd$"

/* RFC 4975 section 11.2, Figure 13: a multi-line body */
#define XHTML_BODY                                                            \
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" CRLF "<!DOCTYPE html" CRLF     \
  "PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\"" CRLF                          \
  "\"_http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd_\">" CRLF             \
  "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" "             \
  "lang=\"en\">" CRLF "  <head>" CRLF                                         \
  "    <title>FY2005 Results</title>" CRLF "</head>" CRLF "  <body>" CRLF     \
  "   <p>See the results at <a" CRLF                                          \
  "href=\"http://example.org/\">example.org</a>.</p>" CRLF "  </body>" CRLF   \
  "</html>"
#define EX112                                                                 \
  "MSRP dsdfoe38sd SEND" CRLF                                                 \
  "To-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp" CRLF             \
  "From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp" CRLF             \
  "Message-ID: 456so39s" CRLF "Byte-Range: 1-374/374" CRLF                    \
  "Content-Type: application/xhtml+xml" CRLF CRLF XHTML_BODY CRLF             \
  "-------dsdfoe38sd$" CRLF
#define TR112                                                                 \
  "REQ dsdfoe38sd SEND"                                                       \
  "|H To-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp"               \
  "|H From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp"               \
  "|H Message-ID: 456so39s|H Byte-Range: 1-374/374"                           \
  "|H Content-Type: application/xhtml+xml|EOH body"                           \
  "|BODY " XHTML_BODY "|END dsdfoe38sd$"

/* RFC 4975 section 11.4, Figures 14 and 15: CPIM in two chunks */
#define CPIM_BODY                                                             \
  "To: Bob <sip:bob@example.com>" CRLF                                        \
  "From: Alice <sip:alice@example.com>" CRLF                                  \
  "DateTime: 2006-05-15T15:02:31-03:00" CRLF                                  \
  "Content-Type: text/plain" CRLF CRLF "ABCD"
#define PATHS_114                                                             \
  "To-Path: msrp://bobpc.example.com:8888/9di4eae923wzd;tcp" CRLF             \
  "From-Path: msrp://alicepc.example.com:7654/iau39soe2843z;tcp" CRLF
#define TR_PATHS_114                                                          \
  "|H To-Path: msrp://bobpc.example.com:8888/9di4eae923wzd;tcp"               \
  "|H From-Path: msrp://alicepc.example.com:7654/iau39soe2843z;tcp"
#define EX114                                                                 \
  "MSRP d93kswow SEND" CRLF PATHS_114 "Message-ID: 12339sdqwer" CRLF          \
  "Byte-Range: 1-137/148" CRLF                                                \
  "Content-Type: message/cpim" CRLF CRLF CPIM_BODY CRLF                       \
  "-------d93kswow+" CRLF "MSRP op2nc9a SEND" CRLF PATHS_114                  \
  "Message-ID: 12339sdqwer" CRLF "Byte-Range: 138-148/148" CRLF               \
  "Content-Type: message/cpim" CRLF CRLF "1234567890" CRLF                    \
  "-------op2nc9a$" CRLF
#define TR114                                                                 \
  "REQ d93kswow SEND" TR_PATHS_114                                            \
  "|H Message-ID: 12339sdqwer|H Byte-Range: 1-137/148"                        \
  "|H Content-Type: message/cpim|EOH body|BODY " CPIM_BODY "|END d93kswow+"   \
  "|REQ op2nc9a SEND" TR_PATHS_114                                            \
  "|H Message-ID: 12339sdqwer|H Byte-Range: 138-148/148"                      \
  "|H Content-Type: message/cpim|EOH body|BODY 1234567890"                    \
  "|END op2nc9a$"

/* RFC 4975 section 11.5 */
#define EX115                                                                 \
  "MSRP d93kswow SEND" CRLF                                                   \
  "To-Path: msrp://alicepc.example.com:8888/9di4eae923wzd;tcp" CRLF           \
  "From-Path: msrp://example.com:7777/iau39soe2843z;tcp" CRLF                 \
  "Message-ID: 12339sdqwer" CRLF "Byte-Range: 1-38/38" CRLF                   \
  "Failure-Report: no" CRLF "Success-Report: no" CRLF                         \
  "Content-Type: text/plain" CRLF CRLF                                        \
  "This conference will end in 5 minutes" CRLF "-------d93kswow$" CRLF
#define TR115                                                                 \
  "REQ d93kswow SEND"                                                         \
  "|H To-Path: msrp://alicepc.example.com:8888/9di4eae923wzd;tcp"             \
  "|H From-Path: msrp://example.com:7777/iau39soe2843z;tcp"                   \
  "|H Message-ID: 12339sdqwer|H Byte-Range: 1-38/38"                          \
  "|H Failure-Report: no|H Success-Report: no"                                \
  "|H Content-Type: text/plain|EOH body"                                      \
  "|BODY This conference will end in 5 minutes|END d93kswow$"

/* RFC 4975 section 11.6, Figures 16 and 17 */
#define HTML_BODY                                                             \
  "<html><body>" CRLF "<p>Here is that important link..." CRLF                \
  "<a href=\"http://www.example.com/foobar\">foobar</a>" CRLF "</p>" CRLF     \
  "</body></html>"
#define EX116                                                                 \
  "MSRP d93kswow SEND" CRLF                                                   \
  "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp" CRLF               \
  "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp" CRLF         \
  "Message-ID: 12339sdqwer" CRLF "Byte-Range: 1-106/106" CRLF                 \
  "Success-Report: yes" CRLF "Failure-Report: no" CRLF                        \
  "Content-Type: text/html" CRLF CRLF HTML_BODY CRLF "-------d93kswow$" CRLF  \
  "MSRP dkei38sd REPORT" CRLF                                                 \
  "To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp" CRLF           \
  "From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp" CRLF             \
  "Message-ID: 12339sdqwer" CRLF "Byte-Range: 1-106/106" CRLF                 \
  "Status: 000 200 OK" CRLF "-------dkei38sd$" CRLF
#define TR116                                                                 \
  "REQ d93kswow SEND"                                                         \
  "|H To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp"                 \
  "|H From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp"           \
  "|H Message-ID: 12339sdqwer|H Byte-Range: 1-106/106"                        \
  "|H Success-Report: yes|H Failure-Report: no"                               \
  "|H Content-Type: text/html|EOH body|BODY " HTML_BODY "|END d93kswow$"      \
  "|REQ dkei38sd REPORT"                                                      \
  "|H To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp"             \
  "|H From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp"               \
  "|H Message-ID: 12339sdqwer|H Byte-Range: 1-106/106"                        \
  "|H Status: 000 200 OK|EOH|END dkei38sd$"

/* RFC 4976 section 3: a SEND through two relays and the REPORT back.  (The
 * RFC leaves out the end-line of "MSRP xght6 200 OK"; it is added.) */
#define FILE_BODY "Hi Bob, I'm about to send you file.mpeg"
#define A_URI "msrps://a.example.org:9000/kjfjan;tcp"
#define B_URI "msrps://b.example.net:9000/aeiug;tcp"
#define BOB_URI "msrps://bob.example.net:8145/foo;tcp"
#define ALICE_URI "msrps://alice.example.org:7965/bar;tcp"
#define EX4976_3                                                              \
  "MSRP 6aef SEND" CRLF "To-Path: " A_URI " " B_URI " " BOB_URI CRLF          \
  "From-Path: " ALICE_URI CRLF "Success-Report: yes" CRLF                     \
  "Byte-Range: 1-*/*" CRLF "Message-ID: 87652" CRLF                           \
  "Content-Type: text/plain" CRLF CRLF FILE_BODY CRLF "-------6aef$" CRLF     \
  "MSRP 6aef 200 OK" CRLF "To-Path: " ALICE_URI CRLF "From-Path: " A_URI CRLF \
  "Message-ID: 87652" CRLF "-------6aef$" CRLF "MSRP juh76 SEND" CRLF         \
  "To-Path: " B_URI " " BOB_URI CRLF "From-Path: " A_URI " " ALICE_URI CRLF   \
  "Success-Report: yes" CRLF "Message-ID: 87652" CRLF                         \
  "Byte-Range: 1-*/*" CRLF                                                    \
  "Content-Type: text/plain" CRLF CRLF FILE_BODY CRLF "-------juh76$" CRLF    \
  "MSRP juh76 200 OK" CRLF "To-Path: " A_URI CRLF "From-Path: " B_URI CRLF    \
  "Message-ID: 87652" CRLF "-------juh76$" CRLF "MSRP xght6 SEND" CRLF        \
  "To-Path: " BOB_URI CRLF "From-Path: " B_URI " " A_URI " " ALICE_URI CRLF   \
  "Success-Report: yes" CRLF "Message-ID: 87652" CRLF                         \
  "Byte-Range: 1-*/*" CRLF                                                    \
  "Content-Type: text/plain" CRLF CRLF FILE_BODY CRLF "-------xght6$" CRLF    \
  "MSRP xght6 200 OK" CRLF "To-Path: " B_URI CRLF "From-Path: " BOB_URI CRLF  \
  "Message-ID: 87652" CRLF "-------xght6$" CRLF "MSRP yh67 REPORT" CRLF       \
  "To-Path: " B_URI " " A_URI " " ALICE_URI CRLF "From-Path: " BOB_URI CRLF   \
  "Message-ID: 87652" CRLF "Byte-Range: 1-39/39" CRLF                         \
  "Status: 000 200 OK" CRLF "-------yh67$" CRLF "MSRP yh67 REPORT" CRLF       \
  "To-Path: " A_URI " " ALICE_URI CRLF "From-Path: " B_URI " " BOB_URI CRLF   \
  "Message-ID: 87652" CRLF "Byte-Range: 1-39/39" CRLF                         \
  "Status: 000 200 OK" CRLF "-------yh67$" CRLF "MSRP yh67 REPORT" CRLF       \
  "To-Path: " ALICE_URI CRLF "From-Path: " A_URI " " B_URI " " BOB_URI CRLF   \
  "Message-ID: 87652" CRLF "Byte-Range: 1-39/39" CRLF                         \
  "Status: 000 200 OK" CRLF "-------yh67$" CRLF
#define TR4976_3                                                              \
  "REQ 6aef SEND"                                                             \
  "|H To-Path: " A_URI " " B_URI " " BOB_URI "|H From-Path: " ALICE_URI       \
  "|H Success-Report: yes|H Byte-Range: 1-*/*|H Message-ID: 87652"            \
  "|H Content-Type: text/plain|EOH body|BODY " FILE_BODY "|END 6aef$"         \
  "|RESP 6aef 200 OK|H To-Path: " ALICE_URI "|H From-Path: " A_URI            \
  "|H Message-ID: 87652|EOH|END 6aef$"                                        \
  "|REQ juh76 SEND"                                                           \
  "|H To-Path: " B_URI " " BOB_URI "|H From-Path: " A_URI " " ALICE_URI       \
  "|H Success-Report: yes|H Message-ID: 87652|H Byte-Range: 1-*/*"            \
  "|H Content-Type: text/plain|EOH body|BODY " FILE_BODY "|END juh76$"        \
  "|RESP juh76 200 OK|H To-Path: " A_URI "|H From-Path: " B_URI               \
  "|H Message-ID: 87652|EOH|END juh76$"                                       \
  "|REQ xght6 SEND"                                                           \
  "|H To-Path: " BOB_URI "|H From-Path: " B_URI " " A_URI " " ALICE_URI       \
  "|H Success-Report: yes|H Message-ID: 87652|H Byte-Range: 1-*/*"            \
  "|H Content-Type: text/plain|EOH body|BODY " FILE_BODY "|END xght6$"        \
  "|RESP xght6 200 OK|H To-Path: " B_URI "|H From-Path: " BOB_URI             \
  "|H Message-ID: 87652|EOH|END xght6$"                                       \
  "|REQ yh67 REPORT"                                                          \
  "|H To-Path: " B_URI " " A_URI " " ALICE_URI "|H From-Path: " BOB_URI       \
  "|H Message-ID: 87652|H Byte-Range: 1-39/39|H Status: 000 200 OK"           \
  "|EOH|END yh67$"                                                            \
  "|REQ yh67 REPORT"                                                          \
  "|H To-Path: " A_URI " " ALICE_URI "|H From-Path: " B_URI " " BOB_URI       \
  "|H Message-ID: 87652|H Byte-Range: 1-39/39|H Status: 000 200 OK"           \
  "|EOH|END yh67$"                                                            \
  "|REQ yh67 REPORT"                                                          \
  "|H To-Path: " ALICE_URI "|H From-Path: " A_URI " " B_URI " " BOB_URI       \
  "|H Message-ID: 87652|H Byte-Range: 1-39/39|H Status: 000 200 OK"           \
  "|EOH|END yh67$"

/* RFC 4976 section 5.1: AUTH, 401 with WWW-Authenticate, AUTH with
 * Authorization, 200 with Use-Path, Authentication-Info and Expires; then the
 * AUTH to the second relay through the first. */
#define INTRA "msrps://alice@intra.example.com;tcp"
#define ALICE2 "msrps://alice.example.com:9892/98cjs;tcp"
#define INTRA_USE "msrps://intra.example.com:9000/jui787s2f;tcp"
#define EXTRA "msrps://extra.example.com;tcp"
#define EXTRA_USE "msrps://extra.example.com:9000/mywdEe1233;tcp"
#define WWW_INTRA                                                             \
  "Digest realm=\"intra.example.com\", qop=\"auth\", "                        \
  "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\""
#define AUTHZ_INTRA                                                           \
  "Digest username=\"Alice\", realm=\"intra.example.com\", "                  \
  "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", qop=auth, nc=00000001, "     \
  "cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\""
#define AINFO_INTRA                                                           \
  "nextnonce=\"40f2e879449675f288476d772627370a\", "                          \
  "rspauth=\"7327570c586207eca2afae94fc20903d\", cnonce=\"0a4f113b\", "       \
  "nc=00000001, qop=auth"
#define WWW_EXTRA                                                             \
  "Digest realm=\"extra.example.com\", qop=\"auth\", "                        \
  "nonce=\"Uumu8cAV38FGsEF31VLevIbNXj9HWO\""
#define AUTHZ_EXTRA                                                           \
  "Digest username=\"Alice\", realm=\"extra.example.com\", "                  \
  "nonce=\"Uumu8cAV38FGsEF31VLevIbNXj9HWO\", qop=auth, nc=00000001, "         \
  "cnonce=\"85a0dca8\", response=\"cb06c4a77cd90918cd7914432032e0e6\""
#define AINFO_EXTRA                                                           \
  "nextnonce=\"bz8V080GEA2sLyEDpITF2AZCq7gIkc\", "                            \
  "rspauth=\"72f109ed2755d7ed0d0a213ec653b3f2\", cnonce=\"85a0dca8\", "       \
  "nc=00000001, qop=auth"
#define EX4976_51                                                             \
  "MSRP 49fh AUTH" CRLF "To-Path: " INTRA CRLF "From-Path: " ALICE2 CRLF      \
  "-------49fh$" CRLF "MSRP 49fh 401 Unauthorized" CRLF                       \
  "To-Path: " ALICE2 CRLF "From-Path: " INTRA CRLF                            \
  "WWW-Authenticate: " WWW_INTRA CRLF "-------49fh$" CRLF                     \
  "MSRP 49fi AUTH" CRLF "To-Path: " INTRA CRLF "From-Path: " ALICE2 CRLF      \
  "Authorization: " AUTHZ_INTRA CRLF "-------49fi$" CRLF                      \
  "MSRP 49fi 200 OK" CRLF "To-Path: " ALICE2 CRLF "From-Path: " INTRA CRLF    \
  "Use-Path: " INTRA_USE CRLF "Authentication-Info: " AINFO_INTRA CRLF        \
  "Expires: 900" CRLF "-------49fi$" CRLF "MSRP mnbvw AUTH" CRLF              \
  "To-Path: " INTRA_USE " " EXTRA CRLF "From-Path: " ALICE2 CRLF              \
  "-------mnbvw$" CRLF "MSRP m2nbvw AUTH" CRLF "To-Path: " EXTRA CRLF         \
  "From-Path: " INTRA_USE " " ALICE2 CRLF "-------m2nbvw$" CRLF               \
  "MSRP m2nbvw 401 Unauthorized" CRLF "To-Path: " INTRA_USE " " ALICE2 CRLF   \
  "From-Path: " EXTRA CRLF "WWW-Authenticate: " WWW_EXTRA CRLF                \
  "-------m2nbvw$" CRLF "MSRP mnbvw 401 Unauthorized" CRLF                    \
  "To-Path: " ALICE2 CRLF "From-Path: " INTRA_USE " " EXTRA CRLF              \
  "WWW-Authenticate: " WWW_EXTRA CRLF "-------mnbvw$" CRLF                    \
  "MSRP m3nbvx AUTH" CRLF "To-Path: " INTRA_USE " " EXTRA CRLF                \
  "From-Path: " ALICE2 CRLF "Authorization: " AUTHZ_EXTRA CRLF                \
  "-------m3nbvx$" CRLF "MSRP m4nbvx AUTH" CRLF "To-Path: " EXTRA CRLF        \
  "From-Path: " INTRA_USE " " ALICE2 CRLF "Authorization: " AUTHZ_EXTRA CRLF  \
  "-------m4nbvx$" CRLF "MSRP m4nbvx 200 OK" CRLF "To-Path: " INTRA_USE       \
  " " ALICE2 CRLF "From-Path: " EXTRA CRLF "Use-Path: " INTRA_USE             \
  " " EXTRA_USE CRLF "Authentication-Info: " AINFO_EXTRA CRLF                 \
  "Expires: 1800" CRLF "-------m4nbvx$" CRLF "MSRP m3nbvx 200 OK" CRLF        \
  "To-Path: " ALICE2 CRLF "From-Path: " INTRA_USE " " EXTRA CRLF              \
  "Use-Path: " EXTRA_USE " " EXTRA_USE CRLF                                   \
  "Authentication-Info: " AINFO_EXTRA CRLF "Expires: 1800" CRLF               \
  "-------m3nbvx$" CRLF
#define TR4976_51                                                             \
  "REQ 49fh AUTH|H To-Path: " INTRA "|H From-Path: " ALICE2 "|EOH|END 49fh$"  \
  "|RESP 49fh 401 Unauthorized|H To-Path: " ALICE2 "|H From-Path: " INTRA     \
  "|H WWW-Authenticate: " WWW_INTRA "|EOH|END 49fh$"                          \
  "|REQ 49fi AUTH|H To-Path: " INTRA "|H From-Path: " ALICE2                  \
  "|H Authorization: " AUTHZ_INTRA "|EOH|END 49fi$"                           \
  "|RESP 49fi 200 OK|H To-Path: " ALICE2 "|H From-Path: " INTRA               \
  "|H Use-Path: " INTRA_USE "|H Authentication-Info: " AINFO_INTRA            \
  "|H Expires: 900|EOH|END 49fi$"                                             \
  "|REQ mnbvw AUTH|H To-Path: " INTRA_USE " " EXTRA "|H From-Path: " ALICE2   \
  "|EOH|END mnbvw$"                                                           \
  "|REQ m2nbvw AUTH|H To-Path: " EXTRA "|H From-Path: " INTRA_USE " " ALICE2  \
  "|EOH|END m2nbvw$"                                                          \
  "|RESP m2nbvw 401 Unauthorized|H To-Path: " INTRA_USE " " ALICE2            \
  "|H From-Path: " EXTRA "|H WWW-Authenticate: " WWW_EXTRA "|EOH|END m2nbvw$" \
  "|RESP mnbvw 401 Unauthorized|H To-Path: " ALICE2                           \
  "|H From-Path: " INTRA_USE " " EXTRA "|H WWW-Authenticate: " WWW_EXTRA      \
  "|EOH|END mnbvw$"                                                           \
  "|REQ m3nbvx AUTH|H To-Path: " INTRA_USE " " EXTRA "|H From-Path: " ALICE2  \
  "|H Authorization: " AUTHZ_EXTRA "|EOH|END m3nbvx$"                         \
  "|REQ m4nbvx AUTH|H To-Path: " EXTRA "|H From-Path: " INTRA_USE " " ALICE2  \
  "|H Authorization: " AUTHZ_EXTRA "|EOH|END m4nbvx$"                         \
  "|RESP m4nbvx 200 OK|H To-Path: " INTRA_USE " " ALICE2                      \
  "|H From-Path: " EXTRA "|H Use-Path: " INTRA_USE " " EXTRA_USE              \
  "|H Authentication-Info: " AINFO_EXTRA "|H Expires: 1800"                   \
  "|EOH|END m4nbvx$"                                                          \
  "|RESP m3nbvx 200 OK|H To-Path: " ALICE2 "|H From-Path: " INTRA_USE         \
  " " EXTRA "|H Use-Path: " EXTRA_USE " " EXTRA_USE                           \
  "|H Authentication-Info: " AINFO_EXTRA "|H Expires: 1800"                   \
  "|EOH|END m3nbvx$"

/* ---------------------------------------------------------------------------
 * Building blocks for the other cases
 * ------------------------------------------------------------------------- */

#define TO "To-Path: msrp://b.example.com:2855/s1;tcp"
#define FROM "From-Path: msrp://a.example.com:2855/s2;tcp"
#define TR_PATHS                                                              \
  "|H To-Path: msrp://b.example.com:2855/s1;tcp"                              \
  "|H From-Path: msrp://a.example.com:2855/s2;tcp"
#define PATHS TO CRLF FROM CRLF

/* A SEND with tid T up to the blank line; the body follows. */
#define SEND(T)                                                               \
  "MSRP " T " SEND" CRLF PATHS "Message-ID: m1234" CRLF                       \
  "Content-Type: text/plain" CRLF CRLF
#define TR_SEND(T)                                                            \
  "REQ " T " SEND" TR_PATHS                                                   \
  "|H Message-ID: m1234|H Content-Type: text/plain|EOH body"
/* A frame without body. */
#define BODILESS(T, METHOD) "MSRP " T " " METHOD CRLF PATHS
#define TR_BODILESS(T, METHOD) "REQ " T " " METHOD TR_PATHS
#define T1 "abcd1234"

typedef struct
{
  const char *name;
  const char *input;
  gsize len;
  const char *trace;
  gboolean idle; /* ends between frames */
} OkCase;

#define IN(s) (s), sizeof (s) - 1

static const OkCase ok_cases[] = {
  /* RFC 4975 */
  { "rfc4975-4-send", IN (EX4_SEND), TR4_SEND, TRUE },
  { "rfc4975-4-200", IN (EX4_200), TR4_200, TRUE },
  { "rfc4975-4-exchange", IN (EX4_SEND EX4_200), TR4_SEND "|" TR4_200, TRUE },
  { "rfc4975-5.1-chunks", IN (EX51), TR51, TRUE },
  { "rfc4975-11.1-session", IN (EX111), TR111, TRUE },
  { "rfc4975-11.2-xhtml", IN (EX112), TR112, TRUE },
  { "rfc4975-11.4-cpim-chunks", IN (EX114), TR114, TRUE },
  { "rfc4975-11.5-system", IN (EX115), TR115, TRUE },
  { "rfc4975-11.6-report", IN (EX116), TR116, TRUE },
  /* RFC 4976 */
  { "rfc4976-3-relayed", IN (EX4976_3), TR4976_3, TRUE },
  { "rfc4976-5.1-auth", IN (EX4976_51), TR4976_51, TRUE },
  /* Everything back to back on one connection. */
  { "stream-of-examples", IN (EX4_SEND EX4_200 EX111 EX4976_51 EX112 EX116),
    TR4_SEND "|" TR4_200 "|" TR111 "|" TR4976_51 "|" TR112 "|" TR116, TRUE },

  /* Nothing, or a frame cut short. */
  { "empty-input", IN (""), "", TRUE },
  { "cut-in-start-line", IN ("MSRP abcd SE"), "", FALSE },
  { "cut-in-prefix", IN ("MSR"), "", FALSE },
  { "cut-in-headers", IN ("MSRP abcd SEND" CRLF TO CRLF "From-Pa"),
    "REQ abcd SEND|H To-Path: msrp://b.example.com:2855/s1;tcp", FALSE },
  { "cut-in-body", IN (SEND (T1) "hello" CRLF "-------abcd12"),
    TR_SEND (T1) "|BODY hello", FALSE },
  { "cut-after-flag",
    IN (SEND (T1) "hi" CRLF "-------abcd1234$"
                  "\r"),
    TR_SEND (T1) "|BODY hi", FALSE },

  /* Bodies that look like end-lines and are not. */
  { "body-hyphens-only",
    IN (SEND (T1) "x" CRLF "-------y" CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY x\r\n-------y|END " T1 "$", TRUE },
  { "body-other-tid",
    IN (SEND (T1) "hello" CRLF "-------zzzz9999$" CRLF "world" CRLF
                  "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY hello\r\n-------zzzz9999$\r\nworld|END " T1 "$",
    TRUE },
  { "body-tid-prefix",
    IN (SEND (T1) "a" CRLF "-------abcd123$" CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY a\r\n-------abcd123$|END " T1 "$", TRUE },
  { "body-tid-longer",
    IN (SEND (T1) "a" CRLF "-------abcd12345$" CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY a\r\n-------abcd12345$|END " T1 "$", TRUE },
  { "body-tid-then-no-flag",
    IN (SEND (T1) "a" CRLF "-------" T1 "x" CRLF "b" CRLF "-------" T1
                  "+" CRLF),
    TR_SEND (T1) "|BODY a\r\n-------" T1 "x\r\nb|END " T1 "+", TRUE },
  { "body-flag-then-no-crlf",
    IN (SEND (T1) "a" CRLF "-------" T1 "$x" CRLF "-------" T1 "#" CRLF),
    TR_SEND (T1) "|BODY a\r\n-------" T1 "$x|END " T1 "#", TRUE },
  { "body-flag-then-cr-only",
    IN (SEND (T1) "a" CRLF "-------" T1 "$\r" CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY a\r\n-------" T1 "$\r|END " T1 "$", TRUE },
  { "body-flag-then-lf-only",
    IN (SEND (T1) "a" CRLF "-------" T1 "$\n" CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY a\r\n-------" T1 "$\n|END " T1 "$", TRUE },
  { "body-ends-in-hyphens",
    IN (SEND (T1) "abc" CRLF "-------" CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY abc\r\n-------|END " T1 "$", TRUE },
  { "body-eight-hyphens",
    IN (SEND (T1) "x" CRLF "--------" T1 "$" CRLF "y" CRLF "-------" T1
                  "$" CRLF),
    TR_SEND (T1) "|BODY x\r\n--------" T1 "$\r\ny|END " T1 "$", TRUE },
  { "body-six-hyphens",
    IN (SEND (T1) "x" CRLF "------" T1 "$" CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY x\r\n------" T1 "$|END " T1 "$", TRUE },
  { "body-end-line-without-crlf",
    IN (SEND (T1) "x-------" T1 "$" CRLF CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY x-------" T1 "$\r\n|END " T1 "$", TRUE },
  { "body-lf-before-end-line",
    IN (SEND (T1) "x\n-------" T1 "$" CRLF CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY x\n-------" T1 "$\r\n|END " T1 "$", TRUE },
  { "body-cr-before-crlf", IN (SEND (T1) "x\r" CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY x\r|END " T1 "$", TRUE },
  { "body-many-crs", IN (SEND (T1) "\r\r\r\r" CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY \r\r\r\r|END " T1 "$", TRUE },
  { "body-repeated-near-misses",
    IN (SEND (T1) CRLF "---" CRLF "-------abcd" CRLF "-------" T1 CRLF
                       "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY \r\n---\r\n-------abcd\r\n-------" T1 "|END " T1 "$",
    TRUE },
  { "body-is-crlf", IN (SEND (T1) CRLF CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY \r\n|END " T1 "$", TRUE },
  { "body-starts-like-end-line",
    IN (SEND (T1) "-------" T1 "x" CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY -------" T1 "x|END " T1 "$", TRUE },
  { "body-starts-with-hyphens",
    IN (SEND (T1) "---" CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY ---|END " T1 "$", TRUE },
  { "body-binary",
    IN (SEND (T1) "\x00\x01\xff\r\x00\n-\x80" CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|BODY \\x00\\x01\\xff\r\\x00\n-\\x80|END " T1 "$", TRUE },
  { "body-wrong-end-line-never-ends",
    IN (SEND (T1) "x" CRLF "-------wxyz5678$" CRLF),
    /* The final CRLF may yet precede the end-line: held, not body. */
    TR_SEND (T1) "|BODY x\r\n-------wxyz5678$", FALSE },
  { "body-then-next-frame",
    IN (SEND (T1) "1" CRLF "-------" T1
                  "+" CRLF SEND ("efgh5678") "2" CRLF "-------efgh5678$" CRLF),
    TR_SEND (T1) "|BODY 1|END " T1
                 "+|" TR_SEND ("efgh5678") "|BODY 2|END efgh5678$",
    TRUE },

  /* Empty bodies (section 7.1: Content-Type 2CRLF data CRLF end-line). */
  { "empty-body", IN (SEND (T1) CRLF "-------" T1 "$" CRLF),
    TR_SEND (T1) "|END " T1 "$", TRUE },
  /* The CRLF before the end-line missing: taken (see msrp-parser.c). */
  { "empty-body-without-crlf", IN (SEND (T1) "-------" T1 "$" CRLF),
    TR_SEND (T1) "|END " T1 "$", TRUE },

  /* Transaction ids */
  { "tid-min", IN (BODILESS ("a1b2", "SEND") "-------a1b2$" CRLF),
    TR_BODILESS ("a1b2", "SEND") "|EOH|END a1b2$", TRUE },
  { "tid-max",
    IN (BODILESS ("abcdefghijklmnopqrstuvwxyz012345",
                  "SEND") "-------abcdefghijklmnopqrstuvwxyz012345+" CRLF),
    TR_BODILESS ("abcdefghijklmnopqrstuvwxyz012345",
                 "SEND") "|EOH|END abcdefghijklmnopqrstuvwxyz012345+",
    TRUE },
  { "tid-all-ident-chars",
    IN (SEND ("9a.b-c+d%e=f") "x" CRLF "-------9a.b-c+d%e=g$" CRLF "y" CRLF
                              "-------9a.b-c+d%e=f$" CRLF),
    TR_SEND ("9a.b-c+d%e=f") "|BODY x\r\n-------9a.b-c+d%e=g$\r\ny"
                             "|END 9a.b-c+d%e=f$",
    TRUE },
  { "tid-case-sensitive",
    IN (SEND ("AbCd") "x" CRLF "-------abcd$" CRLF "-------AbCd$" CRLF),
    TR_SEND ("AbCd") "|BODY x\r\n-------abcd$|END AbCd$", TRUE },

  /* Requests without body (section 7.1), flags, methods */
  { "bodiless-send", IN (BODILESS (T1, "SEND") "-------" T1 "$" CRLF),
    TR_BODILESS (T1, "SEND") "|EOH|END " T1 "$", TRUE },
  { "bodiless-send-plus",
    IN (BODILESS (T1, "SEND") "Message-ID: m1" CRLF "-------" T1 "+" CRLF),
    TR_BODILESS (T1, "SEND") "|H Message-ID: m1|EOH|END " T1 "+", TRUE },
  { "bodiless-send-abort", IN (BODILESS (T1, "SEND") "-------" T1 "#" CRLF),
    TR_BODILESS (T1, "SEND") "|EOH|END " T1 "#", TRUE },
  { "extension-method", IN (BODILESS (T1, "FOO") "-------" T1 "$" CRLF),
    TR_BODILESS (T1, "FOO") "|EOH|END " T1 "$", TRUE },
  { "one-letter-method", IN (BODILESS (T1, "X") "-------" T1 "$" CRLF),
    TR_BODILESS (T1, "X") "|EOH|END " T1 "$", TRUE },
  { "report-with-body",
    IN ("MSRP " T1 " REPORT" CRLF PATHS "Message-ID: m1" CRLF
        "Status: 000 200 OK" CRLF "Content-Type: text/plain" CRLF CRLF
        "details" CRLF "-------" T1 "$" CRLF),
    "REQ " T1 " REPORT" TR_PATHS "|H Message-ID: m1|H Status: 000 200 OK"
    "|H Content-Type: text/plain|EOH body|BODY details|END " T1 "$",
    TRUE },
  { "mime-headers-before-content-type",
    IN ("MSRP " T1 " SEND" CRLF PATHS "Message-ID: m1" CRLF
        "Content-ID: <part1@example.com>" CRLF
        "Content-Description: a note" CRLF "Content-Disposition: inline" CRLF
        "Content-Type: text/plain;charset=utf-8" CRLF CRLF "hi" CRLF
        "-------" T1 "$" CRLF),
    "REQ " T1 " SEND" TR_PATHS "|H Message-ID: m1"
    "|H Content-ID: <part1@example.com>|H Content-Description: a note"
    "|H Content-Disposition: inline"
    "|H Content-Type: text/plain;charset=utf-8|EOH body|BODY hi|END " T1 "$",
    TRUE },

  /* Responses */
  { "response-no-comment",
    IN ("MSRP " T1 " 200" CRLF PATHS "-------" T1 "$" CRLF),
    "RESP " T1 " 200" TR_PATHS "|EOH|END " T1 "$", TRUE },
  { "response-empty-comment",
    IN ("MSRP " T1 " 200 " CRLF PATHS "-------" T1 "$" CRLF),
    "RESP " T1 " 200 " TR_PATHS "|EOH|END " T1 "$", TRUE },
  { "response-utf8-comment",
    IN ("MSRP " T1 " 481 Sitzung \xc3\xbc"
        "ber"
        "\tfehlt" CRLF PATHS "-------" T1 "$" CRLF),
    "RESP " T1 " 481 Sitzung \\xc3\\xbcber\tfehlt" TR_PATHS "|EOH|END " T1 "$",
    TRUE },
  { "response-code-000-999",
    IN ("MSRP " T1 " 000" CRLF PATHS "-------" T1 "$" CRLF "MSRP " T1
        " 999 x" CRLF PATHS "-------" T1 "$" CRLF),
    "RESP " T1 " 000" TR_PATHS "|EOH|END " T1 "$|RESP " T1 " 999 x" TR_PATHS
    "|EOH|END " T1 "$",
    TRUE },

  /* Header lines: only the syntax is the parser's business. */
  { "huge-byte-range",
    IN (BODILESS (T1, "SEND") "Byte-Range: 1-18446744073709551616/"
                              "99999999999999999999999999" CRLF "-------" T1
                              "$" CRLF),
    TR_BODILESS (T1, "SEND") "|H Byte-Range: 1-18446744073709551616/"
                             "99999999999999999999999999|EOH|END " T1 "$",
    TRUE },
  { "header-utf8-and-tab",
    IN (BODILESS (T1, "SEND") "Subject: caf\xc3\xa9\t\xe6\x97\xa5 "
                              "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf" CRLF
                              "-------" T1 "$" CRLF),
    TR_BODILESS (
        T1, "SEND") "|H Subject: caf\\xc3\\xa9\t\\xe6\\x97\\xa5 "
                    "\\xf0\\x9f\\x98\\x80 \\xf4\\x8f\\xbf\\xbf|EOH|END " T1
                    "$",
    TRUE },
  { "header-empty-value",
    IN (BODILESS (T1, "SEND") "X-Empty: " CRLF "-------" T1 "$" CRLF),
    TR_BODILESS (T1, "SEND") "|H X-Empty: |EOH|END " T1 "$", TRUE },
  { "header-spaces-kept",
    IN ("MSRP " T1 " SEND" CRLF
        "To-Path:   msrp://b.example.com:2855/s1;tcp  " CRLF FROM CRLF
        "-------" T1 "$" CRLF),
    "REQ " T1 " SEND|H To-Path:   msrp://b.example.com:2855/s1;tcp  "
    "|H From-Path: msrp://a.example.com:2855/s2;tcp|EOH|END " T1 "$",
    TRUE },
  { "header-colon-in-value",
    IN (BODILESS (T1, "SEND") "X-A: b: c:d" CRLF "-------" T1 "$" CRLF),
    TR_BODILESS (T1, "SEND") "|H X-A: b: c:d|EOH|END " T1 "$", TRUE },
  { "header-token-name",
    IN (BODILESS (T1, "SEND") "X!#$%&'*+-.^_`|~9: v" CRLF "-------" T1
                              "$" CRLF),
    TR_BODILESS (T1, "SEND") "|H X!#$%&'*+-.^_`|~9: v|EOH|END " T1 "$", TRUE },
  /* Header names are case-insensitive (RFC 5234 section 2.3). */
  { "header-names-lower-case",
    IN ("MSRP " T1 " SEND" CRLF
        "to-path: msrp://b.example.com:2855/s1;tcp" CRLF
        "FROM-PATH: msrp://a.example.com:2855/s2;"
        "tcp" CRLF "content-type: text/plain" CRLF CRLF "x" CRLF "-------" T1
        "$" CRLF),
    "REQ " T1 " SEND|H to-path: msrp://b.example.com:2855/s1;tcp"
    "|H FROM-PATH: msrp://a.example.com:2855/s2;tcp"
    "|H content-type: text/plain|EOH body|BODY x|END " T1 "$",
    TRUE },
};

/* ---------------------------------------------------------------------------
 * Error cases
 * ------------------------------------------------------------------------- */

typedef struct
{
  const char *name;
  const char *input;
  gsize len;
  const char *trace; /* events before the error */
  int code;
  const char *message; /* substring */
} ErrCase;

#define SYNTAX MSRP_PARSER_ERROR_SYNTAX
#define LIMIT MSRP_PARSER_ERROR_LIMIT
#define ORDER MSRP_PARSER_ERROR_ORDER
#define BODY MSRP_PARSER_ERROR_BODY

#define TR_HDR3(T) TR_BODILESS (T, "SEND")

static const ErrCase err_cases[] = {
  /* RFC 4975 section 5.1 Figure 3 as printed: no To-Path/From-Path. */
  { "rfc4975-5.1-as-printed",
    IN ("MSRP dkei38sd SEND" CRLF "Message-ID: 4564dpWd" CRLF
        "Byte-Range: 1-*/8" CRLF "Content-Type: text/plain" CRLF CRLF
        "abcd" CRLF "-------dkei38sd+" CRLF),
    "REQ dkei38sd SEND", ORDER,
    "header 1 is Message-ID, but To-Path must be the first header" },

  /* Start line */
  /* The message quotes what came, up to the first wrong byte: the same
   * however the input is split. */
  { "not-msrp-lower-case", IN ("msrp abcd SEND" CRLF), "", SYNTAX,
    "start line does not begin with 'MSRP ': got 'm'" },
  { "not-msrp-http", IN ("GET / HTTP/1.1" CRLF "Host: x" CRLF CRLF), "",
    SYNTAX, "start line does not begin with 'MSRP ': got 'G'" },
  { "not-msrp-tls", IN ("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), "",
    SYNTAX, "start line does not begin with 'MSRP ': got '\\x16'" },
  { "not-msrp-no-space", IN ("MSRPabcd SEND" CRLF), "", SYNTAX,
    "start line does not begin with 'MSRP ': got 'MSRPa'" },
  { "not-msrp-crlf-first", IN (CRLF BODILESS (T1, "SEND")), "", SYNTAX,
    "start line does not begin with 'MSRP ': got '\\r'" },
  { "not-msrp-short-line", IN ("MSR" CRLF), "", SYNTAX,
    "start line does not begin with 'MSRP ': got 'MSR\\r'" },
  { "start-line-lf-only", IN ("MSRP abcd SEND\n" PATHS), "", SYNTAX,
    "LF without CR in start line" },
  { "start-line-bare-cr", IN ("MSRP abcd SE\rND" CRLF PATHS), "", SYNTAX,
    "start line: method 'SE\\rND' is not upper-case letters only" },
  { "tid-missing", IN ("MSRP  SEND" CRLF), "", SYNTAX,
    "start line: transaction id missing" },
  { "tid-short", IN ("MSRP ab SEND" CRLF), "", SYNTAX,
    "start line: transaction id 'ab' is shorter than 4 characters" },
  { "tid-three", IN ("MSRP abc 200 OK" CRLF), "", SYNTAX,
    "start line: transaction id 'abc' is shorter than 4 characters" },
  { "tid-long", IN ("MSRP abcdefghijklmnopqrstuvwxyz0123456 SEND" CRLF), "",
    SYNTAX,
    "start line: transaction id 'abcdefghijklmnopqrstuvwxyz0123456' "
    "is longer than 32 characters" },
  { "tid-bad-char", IN ("MSRP ab_cd SEND" CRLF), "", SYNTAX,
    "start line: transaction id 'ab_cd' contains '_'" },
  { "tid-nul",
    IN ("MSRP ab\x00"
        "cd SEND" CRLF),
    "", SYNTAX, "start line: transaction id 'ab\\x00cd' contains '\\x00'" },
  { "tid-leading-hyphen", IN ("MSRP -abcd SEND" CRLF), "", SYNTAX,
    "start line: transaction id '-abcd' does not begin with a letter or "
    "digit" },
  { "tid-only", IN ("MSRP abcd" CRLF), "", SYNTAX,
    "start line: method or status code missing" },
  { "tid-space-only", IN ("MSRP abcd " CRLF), "", SYNTAX,
    "start line: method or status code missing" },
  { "method-lower-case", IN ("MSRP abcd send" CRLF), "", SYNTAX,
    "start line: method 'send' is not upper-case letters only" },
  { "method-trailing-space", IN ("MSRP abcd SEND " CRLF), "", SYNTAX,
    "start line: method 'SEND ' is not upper-case letters only" },
  { "status-two-digits", IN ("MSRP abcd 20 OK" CRLF), "", SYNTAX,
    "start line: status code '20' is not three digits" },
  { "status-four-digits", IN ("MSRP abcd 2000" CRLF), "", SYNTAX,
    "start line: status code '2000' is not three digits" },
  { "status-letters", IN ("MSRP abcd 20x OK" CRLF), "", SYNTAX,
    "start line: status code '20x' is not three digits" },
  { "status-no-space", IN ("MSRP abcd 200OK" CRLF), "", SYNTAX,
    "start line: status code '200OK' is not three digits" },
  { "comment-nul", IN ("MSRP abcd 200 O\x00K" CRLF), "", SYNTAX,
    "NUL byte in start line comment" },
  { "comment-bad-utf8", IN ("MSRP abcd 200 O\xffK" CRLF), "", SYNTAX,
    "invalid UTF-8 in start line comment (byte 0xff at offset 1)" },
  { "comment-ctl", IN ("MSRP abcd 200 O\x1bK" CRLF), "", SYNTAX,
    "control character 0x1b in start line comment" },
  { "comment-bare-cr", IN ("MSRP abcd 200 O\rK" CRLF), "", SYNTAX,
    "CR without LF in start line comment" },

  /* Header lines */
  { "header-lf-only", IN ("MSRP abcd SEND" CRLF TO "\n" FROM CRLF),
    "REQ abcd SEND", SYNTAX,
    "LF without CR in header block (line 1 after the start line)" },
  { "header-lf-only-later", IN (BODILESS ("abcd", "SEND") "Foo: x\n"),
    TR_HDR3 ("abcd"), SYNTAX,
    "LF without CR in header block (line 3 after the start line)" },
  { "header-nul",
    IN (BODILESS ("abcd", "SEND") "Foo: a\x00"
                                  "b" CRLF),
    TR_HDR3 ("abcd"), SYNTAX, "header 3: NUL byte in header 'Foo'" },
  { "header-ctl",
    IN (BODILESS ("abcd", "SEND") "Foo: a\x01"
                                  "b" CRLF),
    TR_HDR3 ("abcd"), SYNTAX,
    "header 3: control character 0x01 in header "
    "'Foo'" },
  { "header-del", IN (BODILESS ("abcd", "SEND") "Foo: a\x7f" CRLF),
    TR_HDR3 ("abcd"), SYNTAX,
    "header 3: control character 0x7f in header "
    "'Foo'" },
  { "header-bare-cr", IN (BODILESS ("abcd", "SEND") "Foo: a\rb" CRLF),
    TR_HDR3 ("abcd"), SYNTAX, "header 3: CR without LF in header 'Foo'" },
  { "header-cr-cr-lf", IN (BODILESS ("abcd", "SEND") "Foo: a\r\r\n"),
    TR_HDR3 ("abcd"), SYNTAX, "header 3: CR without LF in header 'Foo'" },
  { "header-utf8-ff", IN (BODILESS ("abcd", "SEND") "Foo: a\xff" CRLF),
    TR_HDR3 ("abcd"), SYNTAX,
    "header 3: invalid UTF-8 in header 'Foo' "
    "(byte 0xff at offset 1 of the value)" },
  { "header-utf8-overlong",
    IN (BODILESS ("abcd", "SEND") "Foo: \xc0\x80" CRLF), TR_HDR3 ("abcd"),
    SYNTAX, "invalid UTF-8 in header 'Foo' (byte 0xc0" },
  { "header-utf8-overlong3",
    IN (BODILESS ("abcd", "SEND") "Foo: \xe0\x80\xaf" CRLF), TR_HDR3 ("abcd"),
    SYNTAX, "invalid UTF-8 in header 'Foo' (byte 0xe0" },
  { "header-utf8-truncated",
    IN (BODILESS ("abcd", "SEND") "Foo: \xe2\x82" CRLF), TR_HDR3 ("abcd"),
    SYNTAX, "invalid UTF-8 in header 'Foo' (byte 0xe2" },
  { "header-utf8-lone-cont", IN (BODILESS ("abcd", "SEND") "Foo: a\x80" CRLF),
    TR_HDR3 ("abcd"), SYNTAX, "invalid UTF-8 in header 'Foo' (byte 0x80" },
  { "header-utf8-surrogate",
    IN (BODILESS ("abcd", "SEND") "Foo: \xed\xa0\x80" CRLF), TR_HDR3 ("abcd"),
    SYNTAX, "invalid UTF-8 in header 'Foo' (byte 0xed" },
  { "header-utf8-above-max",
    IN (BODILESS ("abcd", "SEND") "Foo: \xf4\x90\x80\x80" CRLF),
    TR_HDR3 ("abcd"), SYNTAX, "invalid UTF-8 in header 'Foo' (byte 0xf4" },
  { "header-utf8-f5",
    IN (BODILESS ("abcd", "SEND") "Foo: \xf5\x80\x80\x80" CRLF),
    TR_HDR3 ("abcd"), SYNTAX, "invalid UTF-8 in header 'Foo' (byte 0xf5" },
  { "header-utf8-5-byte",
    IN (BODILESS ("abcd", "SEND") "Foo: \xf8\x88\x80\x80\x80" CRLF),
    TR_HDR3 ("abcd"), SYNTAX, "invalid UTF-8 in header 'Foo' (byte 0xf8" },
  { "header-no-colon", IN (BODILESS ("abcd", "SEND") "Foo bar" CRLF),
    TR_HDR3 ("abcd"), SYNTAX, "header 3: missing ': ' after name 'Foo'" },
  { "header-no-space", IN (BODILESS ("abcd", "SEND") "Foo:bar" CRLF),
    TR_HDR3 ("abcd"), SYNTAX, "header 3: missing ': ' after name 'Foo'" },
  { "header-colon-at-end", IN (BODILESS ("abcd", "SEND") "Foo:" CRLF),
    TR_HDR3 ("abcd"), SYNTAX, "header 3: missing ': ' after name 'Foo'" },
  { "header-space-before-colon",
    IN (BODILESS ("abcd", "SEND") "Foo : bar" CRLF), TR_HDR3 ("abcd"), SYNTAX,
    "header 3: missing ': ' after name 'Foo'" },
  { "header-name-digit", IN (BODILESS ("abcd", "SEND") "1Foo: bar" CRLF),
    TR_HDR3 ("abcd"), SYNTAX,
    "header 3: name does not begin with a letter: "
    "'1Foo: bar'" },
  { "header-name-empty", IN (BODILESS ("abcd", "SEND") ": bar" CRLF),
    TR_HDR3 ("abcd"), SYNTAX, "header 3: name does not begin with a letter" },
  { "header-folded", IN (BODILESS ("abcd", "SEND") " folded" CRLF),
    TR_HDR3 ("abcd"), SYNTAX, "header 3: name does not begin with a letter" },
  /* The blank line between the headers and the body left out: the body's
   * first line is read as a header. */
  { "missing-body-separator",
    IN ("MSRP abcd SEND" CRLF PATHS "Content-Type: text/plain" CRLF
        "Hello" CRLF "-------abcd$" CRLF),
    "REQ abcd SEND" TR_PATHS "|H Content-Type: text/plain", SYNTAX,
    "header 4: missing ': ' after name 'Hello'" },

  /* Header order (RFC 4975 sections 6 and 9, via MsrpHeaderOrder) */
  { "from-path-first", IN ("MSRP abcd SEND" CRLF FROM CRLF TO CRLF),
    "REQ abcd SEND", ORDER, "To-Path must be the first header" },
  { "from-path-third",
    IN ("MSRP abcd SEND" CRLF TO CRLF "Message-ID: m1" CRLF FROM CRLF),
    "REQ abcd SEND|H To-Path: msrp://b.example.com:2855/s1;tcp", ORDER,
    "From-Path must be the second header" },
  { "from-path-missing",
    IN ("MSRP abcd SEND" CRLF TO CRLF "-------abcd$" CRLF),
    "REQ abcd SEND|H To-Path: msrp://b.example.com:2855/s1;tcp", ORDER,
    "From-Path: mandatory header is missing" },
  { "no-headers", IN ("MSRP abcd SEND" CRLF "-------abcd$" CRLF),
    "REQ abcd SEND", ORDER, "To-Path: mandatory header is missing" },
  { "no-headers-blank", IN ("MSRP abcd SEND" CRLF CRLF "x" CRLF),
    "REQ abcd SEND", ORDER, "To-Path: mandatory header is missing" },
  { "duplicate-message-id",
    IN (BODILESS ("abcd", "SEND") "Message-ID: m1" CRLF "Message-ID: m2" CRLF),
    TR_HDR3 ("abcd") "|H Message-ID: m1", ORDER,
    "Message-ID: header appears more than once" },
  { "duplicate-to-path", IN (BODILESS ("abcd", "SEND") TO CRLF),
    TR_HDR3 ("abcd"), ORDER, "To-Path: header appears more than once" },
  { "header-after-content-type",
    IN (BODILESS ("abcd", "SEND") "Content-Type: text/plain" CRLF
                                  "Message-ID: m1" CRLF CRLF "x" CRLF
                                  "-------abcd$" CRLF),
    TR_HDR3 ("abcd") "|H Content-Type: text/plain", ORDER,
    "header 4: 'Message-ID' after Content-Type, which must be the last "
    "header" },
  { "mime-header-after-content-type",
    IN (BODILESS ("abcd", "SEND") "Content-Type: text/plain" CRLF
                                  "Content-ID: <x@y>" CRLF CRLF "x" CRLF
                                  "-------abcd$" CRLF),
    TR_HDR3 ("abcd") "|H Content-Type: text/plain", ORDER,
    "header 4: 'Content-ID' after Content-Type" },

  /* Body rules (sections 7.1 and 7.2) */
  { "body-without-content-type",
    IN (BODILESS ("abcd", "SEND") "Message-ID: m1" CRLF CRLF "x" CRLF
                                  "-------abcd$" CRLF),
    TR_HDR3 ("abcd") "|H Message-ID: m1", BODY,
    "body present but no Content-Type" },
  { "body-with-only-content-id",
    IN (BODILESS ("abcd", "SEND") "Content-ID: <x@y>" CRLF CRLF "x" CRLF
                                  "-------abcd$" CRLF),
    TR_HDR3 ("abcd") "|H Content-ID: <x@y>", BODY,
    "body present but no Content-Type" },
  { "content-type-without-body",
    IN (BODILESS ("abcd", "SEND") "Content-Type: text/plain" CRLF
                                  "-------abcd$" CRLF),
    TR_HDR3 ("abcd") "|H Content-Type: text/plain", BODY,
    "Content-Type present but no body" },
  { "mime-header-without-body",
    IN (BODILESS ("abcd", "SEND") "Content-Disposition: inline" CRLF
                                  "-------abcd$" CRLF),
    TR_HDR3 ("abcd") "|H Content-Disposition: inline", BODY,
    "MIME header 'Content-Disposition' in a frame without body" },
  { "response-with-body",
    IN ("MSRP abcd 200 OK" CRLF PATHS CRLF "x" CRLF "-------abcd$" CRLF),
    "RESP abcd 200 OK" TR_PATHS, BODY, "response with a body" },
  { "response-with-content-type",
    IN ("MSRP abcd 200 OK" CRLF PATHS "Content-Type: text/plain" CRLF CRLF
        "x" CRLF "-------abcd$" CRLF),
    "RESP abcd 200 OK" TR_PATHS, BODY,
    "header 3: Content-Type in a response" },
  { "response-mime-header",
    IN ("MSRP abcd 200 OK" CRLF PATHS "Content-ID: <x@y>" CRLF
        "-------abcd$" CRLF),
    "RESP abcd 200 OK" TR_PATHS "|H Content-ID: <x@y>", BODY,
    "MIME header 'Content-ID' in a frame without body" },

  /* End-lines of frames without body */
  { "end-line-other-tid", IN (BODILESS ("abcd", "SEND") "-------wxyz$" CRLF),
    TR_HDR3 ("abcd"), SYNTAX,
    "end-line transaction id 'wxyz' does not match start line 'abcd'" },
  { "end-line-tid-prefix", IN (BODILESS ("abcde", "SEND") "-------abcd$" CRLF),
    TR_HDR3 ("abcde"), SYNTAX,
    "end-line transaction id 'abcd' does not match start line 'abcde'" },
  { "end-line-no-flag", IN (BODILESS ("abcd", "SEND") "-------abcd" CRLF),
    TR_HDR3 ("abcd"), SYNTAX,
    "end-line '-------abcd' does not end in a continuation flag" },
  { "end-line-bad-flag", IN (BODILESS ("abcd", "SEND") "-------abcd!" CRLF),
    TR_HDR3 ("abcd"), SYNTAX,
    "end-line '-------abcd!' does not end in a continuation flag" },
  { "end-line-only-hyphens", IN (BODILESS ("abcd", "SEND") "-------" CRLF),
    TR_HDR3 ("abcd"), SYNTAX,
    "end-line '-------' does not end in a continuation flag" },
  { "end-line-short-hyphens",
    IN (BODILESS ("abcd", "SEND") "------abcd$" CRLF), TR_HDR3 ("abcd"),
    SYNTAX,
    "line '------abcd$' after header 2 is neither a header nor an end-line" },
  { "end-line-trailing-space",
    IN (BODILESS ("abcd", "SEND") "-------abcd$ " CRLF), TR_HDR3 ("abcd"),
    SYNTAX, "end-line '-------abcd$ ' does not end in a continuation flag" },
  { "end-line-lf-only", IN (BODILESS ("abcd", "SEND") "-------abcd$\n"),
    TR_HDR3 ("abcd"), SYNTAX, "LF without CR in header block (line 3" },
  { "response-plus-flag",
    IN ("MSRP abcd 200 OK" CRLF PATHS "-------abcd+" CRLF),
    "RESP abcd 200 OK" TR_PATHS, SYNTAX,
    "response end-line has continuation flag '+', not '$'" },

  /* Between frames */
  { "crlf-between-frames",
    IN (BODILESS ("abcd", "SEND") "-------abcd$" CRLF CRLF BODILESS ("efgh",
                                                                     "SEND")),
    TR_HDR3 ("abcd") "|EOH|END abcd$", SYNTAX,
    "start line does not begin with 'MSRP ': got '\\r'" },
  { "garbage-after-body-frame",
    IN (SEND ("abcd") "x" CRLF "-------abcd$" CRLF "HELLO" CRLF),
    TR_SEND ("abcd") "|BODY x|END abcd$", SYNTAX,
    "start line does not begin with 'MSRP ': got 'H'" },
};

/* ---------------------------------------------------------------------------
 * Table tests
 * ------------------------------------------------------------------------- */

START_TEST (test_ok_case)
{
  const OkCase *c = &ok_cases[_i];

  run_all_modes (c->name, c->input, c->len, NULL, c->trace, c->idle, NO_ERROR,
                 NULL);
}
END_TEST

START_TEST (test_err_case)
{
  const ErrCase *c = &err_cases[_i];

  run_all_modes (c->name, c->input, c->len, NULL, c->trace, FALSE, c->code,
                 c->message);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Limits, with generated inputs
 * ------------------------------------------------------------------------- */

/* A response whose start line is exactly @n bytes, CRLF included. */
static void
start_line_of (gsize n, GString *in, GString *trace)
{
  static const char head[] = "MSRP abcd 200 ";
  gsize fill = n - (sizeof head - 1) - 2;

  g_string_append (in, head);
  g_string_append (trace, "RESP abcd 200 ");
  for (gsize i = 0; i < fill; i++)
    {
      g_string_append_c (in, 'c');
      g_string_append_c (trace, 'c');
    }
  g_string_append (in, CRLF PATHS "-------abcd$" CRLF);
  g_string_append (trace, TR_PATHS "|EOH|END abcd$");
}

START_TEST (test_limit_start_line)
{
  g_autoptr (GString) in = g_string_new (NULL);
  g_autoptr (GString) trace = g_string_new (NULL);
  MsrpParserLimits limits;

  start_line_of (MSRP_PARSER_DEFAULT_MAX_START_LINE, in, trace);
  run_all_modes ("start-line-at-limit", in->str, in->len, NULL, trace->str,
                 TRUE, NO_ERROR, NULL);

  g_string_truncate (in, 0);
  g_string_truncate (trace, 0);
  start_line_of (MSRP_PARSER_DEFAULT_MAX_START_LINE + 1, in, trace);
  run_all_modes ("start-line-over-limit", in->str, in->len, NULL, "", FALSE,
                 LIMIT, "start line longer than 512 bytes");

  /* A start line that never ends fails at the limit, not later. */
  g_string_truncate (in, 0);
  g_string_append (in, "MSRP abcd 200 ");
  while (in->len < MSRP_PARSER_DEFAULT_MAX_START_LINE)
    g_string_append_c (in, 'c');
  run_all_modes ("start-line-endless", in->str, in->len, NULL, "", FALSE,
                 LIMIT, "start line longer than 512 bytes");
  g_string_truncate (in, in->len - 1);
  run_all_modes ("start-line-endless-below", in->str, in->len, NULL, "", FALSE,
                 NO_ERROR, NULL);

  /* Own limit. */
  msrp_parser_limits_init (&limits);
  limits.max_start_line = 64;
  g_string_truncate (in, 0);
  g_string_truncate (trace, 0);
  start_line_of (64, in, trace);
  run_all_modes ("start-line-own-limit", in->str, in->len, &limits, trace->str,
                 TRUE, NO_ERROR, NULL);
  g_string_truncate (in, 0);
  g_string_truncate (trace, 0);
  start_line_of (65, in, trace);
  run_all_modes ("start-line-over-own-limit", in->str, in->len, &limits, "",
                 FALSE, LIMIT, "start line longer than 64 bytes");
}
END_TEST

/* A bodiless frame whose header block (after the start line, through the
 * end-line) is exactly @n bytes: To-Path, From-Path, X-Pad, end-line. */
static void
header_block_of (gsize n, GString *in, GString *trace)
{
  static const char fixed[] = PATHS "X-Pad: " CRLF "-------abcd$" CRLF;
  gsize fill = n - (sizeof fixed - 1);

  g_string_append (in, "MSRP abcd SEND" CRLF PATHS "X-Pad: ");
  g_string_append (trace, "REQ abcd SEND" TR_PATHS "|H X-Pad: ");
  for (gsize i = 0; i < fill; i++)
    {
      g_string_append_c (in, 'p');
      g_string_append_c (trace, 'p');
    }
  g_string_append (in, CRLF "-------abcd$" CRLF);
  g_string_append (trace, "|EOH|END abcd$");
}

START_TEST (test_limit_header_block)
{
  g_autoptr (GString) in = g_string_new (NULL);
  g_autoptr (GString) trace = g_string_new (NULL);
  MsrpParserLimits limits;

  header_block_of (MSRP_PARSER_DEFAULT_MAX_HEADER_BYTES, in, trace);
  run_all_modes ("header-block-at-limit", in->str, in->len, NULL, trace->str,
                 TRUE, NO_ERROR, NULL);

  g_string_truncate (in, 0);
  g_string_truncate (trace, 0);
  header_block_of (MSRP_PARSER_DEFAULT_MAX_HEADER_BYTES + 1, in, trace);
  /* The end-line is the byte too many: X-Pad still comes out. */
  g_string_truncate (trace, trace->len - strlen ("|EOH|END abcd$"));
  run_all_modes ("header-block-over-limit", in->str, in->len, NULL, trace->str,
                 FALSE, LIMIT, "header block longer than 16384 bytes");

  /* Own limit, and the blank line before a body counts too. */
  msrp_parser_limits_init (&limits);
  limits.max_header_bytes = 256;
  g_string_truncate (in, 0);
  g_string_truncate (trace, 0);
  header_block_of (256, in, trace);
  run_all_modes ("header-block-own-limit", in->str, in->len, &limits,
                 trace->str, TRUE, NO_ERROR, NULL);
  g_string_truncate (in, 0);
  g_string_truncate (trace, 0);
  g_string_append (in, "MSRP abcd SEND" CRLF PATHS "X-Pad: ");
  g_string_append (trace, "REQ abcd SEND" TR_PATHS "|H X-Pad: ");
  /* To-Path, From-Path, "X-Pad: " + fill + CRLF, "Content-Type: a/b" CRLF,
   * and CRLF: 257 bytes. */
  {
    gsize fixed = strlen (PATHS "X-Pad: " CRLF "Content-Type: a/b" CRLF CRLF);

    for (gsize i = 0; i < 257 - fixed; i++)
      {
        g_string_append_c (in, 'p');
        g_string_append_c (trace, 'p');
      }
  }
  g_string_append (in, CRLF "Content-Type: a/b" CRLF CRLF "x" CRLF
                            "-------abcd$" CRLF);
  g_string_append (trace, "|H Content-Type: a/b");
  run_all_modes ("header-block-blank-line-counts", in->str, in->len, &limits,
                 trace->str, FALSE, LIMIT,
                 "header block longer than 256 bytes");
}
END_TEST

static void
frame_with_headers (guint n_extra, GString *in, GString *trace)
{
  g_string_append (in, "MSRP abcd SEND" CRLF PATHS);
  g_string_append (trace, "REQ abcd SEND" TR_PATHS);
  for (guint i = 0; i < n_extra; i++)
    {
      g_string_append_printf (in, "X-H%u: v" CRLF, i);
      g_string_append_printf (trace, "|H X-H%u: v", i);
    }
  g_string_append (in, "-------abcd$" CRLF);
  g_string_append (trace, "|EOH|END abcd$");
}

START_TEST (test_limit_header_count)
{
  g_autoptr (GString) in = g_string_new (NULL);
  g_autoptr (GString) trace = g_string_new (NULL);
  MsrpParserLimits limits;

  frame_with_headers (MSRP_PARSER_DEFAULT_MAX_HEADERS - 2, in, trace);
  run_all_modes ("64-headers", in->str, in->len, NULL, trace->str, TRUE,
                 NO_ERROR, NULL);

  g_string_truncate (in, 0);
  g_string_truncate (trace, 0);
  frame_with_headers (MSRP_PARSER_DEFAULT_MAX_HEADERS - 1, in, trace);
  g_string_truncate (trace, trace->len - strlen ("|H X-H62: v|EOH|END abcd$"));
  run_all_modes ("65-headers", in->str, in->len, NULL, trace->str, FALSE,
                 LIMIT, "more than 64 headers");

  msrp_parser_limits_init (&limits);
  limits.max_headers = 3;
  g_string_truncate (in, 0);
  g_string_truncate (trace, 0);
  frame_with_headers (1, in, trace);
  run_all_modes ("3-headers-own-limit", in->str, in->len, &limits, trace->str,
                 TRUE, NO_ERROR, NULL);
  g_string_truncate (in, 0);
  g_string_truncate (trace, 0);
  frame_with_headers (2, in, trace);
  g_string_truncate (trace, trace->len - strlen ("|H X-H1: v|EOH|END abcd$"));
  run_all_modes ("4-headers-own-limit", in->str, in->len, &limits, trace->str,
                 FALSE, LIMIT, "more than 3 headers");
}
END_TEST

/* A request of @method with a body of @n bytes of 'b'. */
static void
request_with_body (const char *method, gsize n, GString *in, GString *trace,
                   gsize trace_body)
{
  g_string_append_printf (
      in, "MSRP abcd %s" CRLF PATHS "Content-Type: a/b" CRLF CRLF, method);
  g_string_append_printf (
      trace, "REQ abcd %s" TR_PATHS "|H Content-Type: a/b|EOH body", method);
  for (gsize i = 0; i < n; i++)
    g_string_append_c (in, 'b');
  if (trace_body > 0)
    {
      g_string_append (trace, "|BODY ");
      for (gsize i = 0; i < trace_body; i++)
        g_string_append_c (trace, 'b');
    }
  g_string_append (in, CRLF "-------abcd$" CRLF);
  if (trace_body == n)
    g_string_append (trace, "|END abcd$");
}

START_TEST (test_limit_non_send_body)
{
  g_autoptr (GString) in = g_string_new (NULL);
  g_autoptr (GString) trace = g_string_new (NULL);
  MsrpParserLimits limits;

  request_with_body ("REPORT", 10240, in, trace, 10240);
  run_all_modes ("report-body-at-limit", in->str, in->len, NULL, trace->str,
                 TRUE, NO_ERROR, NULL);

  /* Over: the first 10240 bytes come out, then the error. */
  g_string_truncate (in, 0);
  g_string_truncate (trace, 0);
  request_with_body ("REPORT", 10241, in, trace, 10240);
  run_all_modes ("report-body-over-limit", in->str, in->len, NULL, trace->str,
                 FALSE, LIMIT,
                 "body of a non-SEND request longer than 10240 bytes");

  /* SEND bodies are not limited. */
  g_string_truncate (in, 0);
  g_string_truncate (trace, 0);
  request_with_body ("SEND", 10241, in, trace, 10241);
  run_all_modes ("send-body-no-limit", in->str, in->len, NULL, trace->str,
                 TRUE, NO_ERROR, NULL);

  /* Own limits, with the end of the body held across feeds: a body of
   * 8 bytes "\r\n-----x" where the limit is 5. */
  msrp_parser_limits_init (&limits);
  limits.max_non_send_body = 5;
  {
    static const char held[] =
        "MSRP abcd AUTH" CRLF PATHS "Content-Type: a/b" CRLF CRLF
        "\r\n-----x" CRLF "-------abcd$" CRLF;

    run_all_modes ("auth-body-over-own-limit", held, sizeof held - 1, &limits,
                   "REQ abcd AUTH" TR_PATHS "|H Content-Type: a/b"
                   "|EOH body|BODY \r\n---",
                   FALSE, LIMIT,
                   "body of a non-SEND request longer than 5 bytes");
  }
  limits.max_non_send_body = G_MAXUINT64;
  g_string_truncate (in, 0);
  g_string_truncate (trace, 0);
  request_with_body ("REPORT", 10241, in, trace, 10241);
  run_all_modes ("report-body-unlimited", in->str, in->len, &limits,
                 trace->str, TRUE, NO_ERROR, NULL);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Streaming properties
 * ------------------------------------------------------------------------- */

static MsrpParseStatus
feed1 (MsrpParser *p, const GuardBuf *buf, gsize off, gsize *used,
       MsrpParserEvent *ev)
{
  GError *error = NULL;
  MsrpParseStatus st;

  st = msrp_parser_feed (p, buf->data + off, buf->len - off, used, ev, &error);
  ck_assert_msg (error == NULL, "unexpected error: %s",
                 error != NULL ? error->message : "");
  return st;
}

/* Feed all of @text, expecting no error and no END, discarding events. */
static void
feed_text (MsrpParser *p, const char *text)
{
  GuardBuf buf;
  gsize off = 0, used = 0;
  MsrpParserEvent ev;

  guard_buf_init (&buf, text, strlen (text));
  while (feed1 (p, &buf, off, &used, &ev) == MSRP_PARSE_EVENT)
    {
      ck_assert_int_ne (ev.type, MSRP_PARSER_EVENT_END);
      off += used;
    }
  guard_buf_clear (&buf);
}

/* 4 GiB of body in 64 KiB pieces: the parser's memory does not move, every
 * non-held piece points into the input, held pieces stay short, and the
 * byte count comes out exact.  Each piece carries decoys: a near-miss
 * end-line in the middle and a prefix of the real one at its end, which the
 * next piece's first byte refutes. */
START_TEST (test_4gib_body)
{
  static const char tid[] = "Zx4GiBbody";
  const gsize piece_len = 64 * 1024;
  const guint64 total = G_GUINT64_CONSTANT (4) << 30;
  g_autoptr (MsrpParser) p = msrp_parser_new ();
  g_autofree guint8 *piece = g_malloc (piece_len);
  g_autofree char *head = NULL;
  g_autofree char *tail = NULL;
  GuardBuf buf, end_buf;
  guint64 fed = 0, body = 0;
  gsize buffer_size, max_held = 0;
  MsrpParserEvent ev;
  gsize used, off;
  gboolean ended = FALSE;
  MsrpParseStatus st;

  head = g_strdup_printf ("MSRP %s SEND" CRLF PATHS "Message-ID: big" CRLF
                          "Byte-Range: 1-%" G_GUINT64_FORMAT
                          "/%" G_GUINT64_FORMAT CRLF
                          "Content-Type: video/mpeg" CRLF CRLF,
                          tid, total, total);
  feed_text (p, head);
  buffer_size = msrp_parser_get_buffer_size (p);
  ck_assert_uint_le (buffer_size, MSRP_PARSER_DEFAULT_MAX_HEADER_BYTES);

  memset (piece, 'v', piece_len);
  {
    g_autofree char *near = g_strdup_printf ("\r\n-------%sX\r\n", tid);
    g_autofree char *prefix = g_strdup_printf ("\r\n-------%.*s", 6, tid);

    memcpy (piece + piece_len / 2, near, strlen (near));
    memcpy (piece + piece_len - strlen (prefix), prefix, strlen (prefix));
  }
  guard_buf_init (&buf, piece, piece_len);

  while (fed < total)
    {
      off = 0;
      while ((st = feed1 (p, &buf, off, &used, &ev)) == MSRP_PARSE_EVENT)
        {
          ck_assert_int_eq (ev.type, MSRP_PARSER_EVENT_BODY);
          if (ev.held)
            max_held = MAX (max_held, ev.data_len);
          else
            {
              ck_assert (ev.data >= buf.data);
              ck_assert (ev.data + ev.data_len <= buf.data + buf.len);
            }
          body += ev.data_len;
          off += used;
        }
      ck_assert_int_eq (st, MSRP_PARSE_NEED_MORE);
      fed += piece_len;
      ck_assert_uint_eq (msrp_parser_get_buffer_size (p), buffer_size);
    }
  guard_buf_clear (&buf);

  /* The last piece ended in a held prefix of the end-line: the rest of the
   * real end-line completes it. */
  tail = g_strdup_printf ("%s$" CRLF, tid + 6);
  guard_buf_init (&end_buf, tail, strlen (tail));
  off = 0;
  while ((st = feed1 (p, &end_buf, off, &used, &ev)) == MSRP_PARSE_EVENT)
    {
      off += used;
      if (ev.type == MSRP_PARSER_EVENT_BODY)
        body += ev.data_len;
      else
        {
          ck_assert_int_eq (ev.type, MSRP_PARSER_EVENT_END);
          ck_assert_int_eq (ev.continuation, '$');
          ck_assert_uint_eq (ev.body_len, body);
          ended = TRUE;
        }
    }
  guard_buf_clear (&end_buf);
  ck_assert (ended);
  ck_assert (msrp_parser_is_idle (p));
  /* Every piece but the last gave its held "\r\n-------" and 6 tid bytes
   * back as body. */
  ck_assert_uint_eq (body, total - (2 + 7 + 6));
  ck_assert_uint_le (max_held, MSRP_PARSER_MAX_END_LINE);
  ck_assert_uint_gt (max_held, 0);
  ck_assert_uint_eq (msrp_parser_get_buffer_size (p), buffer_size);
}
END_TEST

/* Held bytes: a prefix of the end-line at the end of one feed is neither
 * emitted nor lost; refuted, it comes out marked held, then the new bytes
 * come out from the input. */
START_TEST (test_held_bytes)
{
  g_autoptr (MsrpParser) p = msrp_parser_new ();
  GuardBuf a, b;
  MsrpParserEvent ev;
  gsize used = 0;

  feed_text (p, SEND ("abcd"));
  guard_buf_init (&a, "xy\r\n---", 7);
  ck_assert_int_eq (feed1 (p, &a, 0, &used, &ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_PARSER_EVENT_BODY);
  ck_assert (!ev.held);
  ck_assert_ptr_eq (ev.data, a.data);
  ck_assert_uint_eq (ev.data_len, 2);
  ck_assert_uint_eq (used, 2);
  ck_assert_int_eq (feed1 (p, &a, 2, &used, &ev), MSRP_PARSE_NEED_MORE);
  ck_assert_uint_eq (used, 5);
  guard_buf_clear (&a);
  ck_assert (!msrp_parser_is_idle (p));

  guard_buf_init (&b, "-z", 2);
  ck_assert_int_eq (feed1 (p, &b, 0, &used, &ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_PARSER_EVENT_BODY);
  ck_assert (ev.held);
  ck_assert_uint_eq (used, 0);
  ck_assert_uint_eq (ev.data_len, 5);
  ck_assert (memcmp (ev.data, "\r\n---", 5) == 0);
  ck_assert_int_eq (feed1 (p, &b, 0, &used, &ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_PARSER_EVENT_BODY);
  ck_assert (!ev.held);
  ck_assert_ptr_eq (ev.data, b.data);
  ck_assert_uint_eq (ev.data_len, 2);
  ck_assert_uint_eq (used, 2);
  ck_assert_int_eq (feed1 (p, &b, 2, &used, &ev), MSRP_PARSE_NEED_MORE);
  guard_buf_clear (&b);
}
END_TEST

/* Header slices point into the caller's input when the line is whole in
 * it (zero-copy), into the parser's buffer when it spans feeds. */
START_TEST (test_header_slices)
{
  g_autoptr (MsrpParser) p = msrp_parser_new ();
  GuardBuf a, b;
  MsrpParserEvent ev;
  gsize used = 0;

  static const char first[] = "MSRP abcd SEND" CRLF TO CRLF "From";
  static const char second[] = "-Path: msrp://a.example.com:2855/s2;tcp" CRLF;

  guard_buf_init (&a, first, strlen (first));
  ck_assert_int_eq (feed1 (p, &a, 0, &used, &ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_PARSER_EVENT_REQUEST);
  ck_assert_ptr_eq (ev.transaction_id, (const char *) a.data + 5);
  ck_assert_uint_eq (used, 16);
  ck_assert_int_eq (feed1 (p, &a, 16, &used, &ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_PARSER_EVENT_HEADER);
  ck_assert_int_eq (ev.header_id, MSRP_HEADER_TO_PATH);
  ck_assert_ptr_eq (ev.name, (const char *) a.data + 16);
  ck_assert_int_eq (feed1 (p, &a, 16 + used, &used, &ev),
                    MSRP_PARSE_NEED_MORE);
  ck_assert_uint_eq (used, 4);
  guard_buf_clear (&a);

  guard_buf_init (&b, second, strlen (second));
  ck_assert_int_eq (feed1 (p, &b, 0, &used, &ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_PARSER_EVENT_HEADER);
  ck_assert_int_eq (ev.header_id, MSRP_HEADER_FROM_PATH);
  ck_assert_uint_eq (ev.header_index, 2);
  ck_assert (ev.name < (const char *) b.data ||
             ev.name >= (const char *) b.data + b.len);
  ck_assert (memcmp (ev.name, "From-Path", 9) == 0);
  ck_assert_uint_eq (ev.value_len,
                     strlen ("msrp://a.example.com:2855/s2;tcp"));
  guard_buf_clear (&b);
  ck_assert_uint_gt (msrp_parser_get_buffer_size (p), 0);
}
END_TEST

/* An END right after HEADERS_END needs a call with no new bytes. */
START_TEST (test_pending_end_without_input)
{
  g_autoptr (MsrpParser) p = msrp_parser_new ();
  GuardBuf a;
  MsrpParserEvent ev;
  gsize used = 0, off = 0;
  GError *error = NULL;

  ck_assert (msrp_parser_is_idle (p));
  ck_assert_int_eq (msrp_parser_feed (p, NULL, 0, &used, &ev, &error),
                    MSRP_PARSE_NEED_MORE);
  ck_assert_uint_eq (used, 0);

  guard_buf_init (&a, valid_frame, sizeof valid_frame - 1);
  while (feed1 (p, &a, off, &used, &ev) == MSRP_PARSE_EVENT &&
         ev.type != MSRP_PARSER_EVENT_HEADERS_END)
    off += used;
  off += used;
  ck_assert_int_eq (ev.type, MSRP_PARSER_EVENT_HEADERS_END);
  ck_assert (!ev.has_body);
  ck_assert_uint_eq (off, a.len);
  guard_buf_clear (&a);
  ck_assert (!msrp_parser_is_idle (p));

  ck_assert_int_eq (msrp_parser_feed (p, NULL, 0, &used, &ev, &error),
                    MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_PARSER_EVENT_END);
  ck_assert_uint_eq (ev.transaction_id_len, 4);
  ck_assert (memcmp (ev.transaction_id, "abcd", 4) == 0);
  ck_assert_uint_eq (ev.body_len, 0);
  ck_assert (msrp_parser_is_idle (p));
  ck_assert_int_eq (msrp_parser_feed (p, NULL, 0, &used, &ev, &error),
                    MSRP_PARSE_NEED_MORE);
}
END_TEST

/* Feed @text (no END expected) and return the status of the last call. */
static MsrpParseStatus
feed_until_stop (MsrpParser *p, const char *text, GError **error)
{
  GuardBuf buf;
  gsize off = 0, used = 0;
  MsrpParserEvent ev;
  MsrpParseStatus st;

  guard_buf_init (&buf, text, strlen (text));
  while ((st = msrp_parser_feed (p, buf.data + off, buf.len - off, &used, &ev,
                                 error)) == MSRP_PARSE_EVENT)
    off += used;
  guard_buf_clear (&buf);
  return st;
}

/* The phase follows the frame, and after an error names where it came:
 * in a start line, in the header block (including the checks made when it
 * ends), or in the body.  Reset goes back to the start line. */
START_TEST (test_phase)
{
  g_autoptr (MsrpParser) p = msrp_parser_new ();
  MsrpParserLimits limits;
  GError *error = NULL;

  ck_assert_int_eq (msrp_parser_get_phase (p), MSRP_PARSER_PHASE_START_LINE);
  ck_assert_int_eq (feed_until_stop (p, "MSRP ab", &error),
                    MSRP_PARSE_NEED_MORE);
  ck_assert_int_eq (msrp_parser_get_phase (p), MSRP_PARSER_PHASE_START_LINE);
  ck_assert_int_eq (feed_until_stop (p, "cd SEND" CRLF TO CRLF, &error),
                    MSRP_PARSE_NEED_MORE);
  ck_assert_int_eq (msrp_parser_get_phase (p), MSRP_PARSER_PHASE_HEADERS);
  ck_assert_int_eq (feed_until_stop (p,
                                     FROM CRLF "Message-ID: m1234" CRLF
                                               "Content-Type: a/b" CRLF CRLF
                                               "xy",
                                     &error),
                    MSRP_PARSE_NEED_MORE);
  ck_assert_int_eq (msrp_parser_get_phase (p), MSRP_PARSER_PHASE_BODY);
  ck_assert_int_eq (feed_until_stop (p, CRLF "-------abcd$" CRLF, &error),
                    MSRP_PARSE_NEED_MORE);
  ck_assert_int_eq (msrp_parser_get_phase (p), MSRP_PARSER_PHASE_START_LINE);

  /* Failed in a start line: no frame. */
  ck_assert_int_eq (feed_until_stop (p, "HTTP/1.1", &error), MSRP_PARSE_ERROR);
  g_clear_error (&error);
  ck_assert_int_eq (msrp_parser_get_phase (p), MSRP_PARSER_PHASE_START_LINE);

  /* Failed in the header block, and when it ends (Content-Type without
   * body): headers. */
  msrp_parser_reset (p);
  ck_assert_int_eq (
      feed_until_stop (p, "MSRP abcd SEND" CRLF TO CRLF "X Bad" CRLF, &error),
      MSRP_PARSE_ERROR);
  g_clear_error (&error);
  ck_assert_int_eq (msrp_parser_get_phase (p), MSRP_PARSER_PHASE_HEADERS);
  msrp_parser_reset (p);
  ck_assert_int_eq (msrp_parser_get_phase (p), MSRP_PARSER_PHASE_START_LINE);
  ck_assert_int_eq (feed_until_stop (p,
                                     "MSRP abcd SEND" CRLF PATHS
                                     "Content-Type: a/b" CRLF
                                     "-------abcd$" CRLF,
                                     &error),
                    MSRP_PARSE_ERROR);
  g_clear_error (&error);
  ck_assert_int_eq (msrp_parser_get_phase (p), MSRP_PARSER_PHASE_HEADERS);

  /* Failed in the body of a non-SEND request over its limit: body. */
  msrp_parser_limits_init (&limits);
  limits.max_non_send_body = 4;
  msrp_parser_set_limits (p, &limits);
  msrp_parser_reset (p);
  ck_assert_int_eq (feed_until_stop (p,
                                     "MSRP abcd AUTH" CRLF PATHS
                                     "Content-Type: a/b" CRLF CRLF "12345",
                                     &error),
                    MSRP_PARSE_ERROR);
  ck_assert (
      g_error_matches (error, MSRP_PARSER_ERROR, MSRP_PARSER_ERROR_LIMIT));
  g_clear_error (&error);
  ck_assert_int_eq (msrp_parser_get_phase (p), MSRP_PARSER_PHASE_BODY);
  msrp_parser_reset (p);
  ck_assert_int_eq (msrp_parser_get_phase (p), MSRP_PARSER_PHASE_START_LINE);

  /* A bodiless frame is in its body phase from HEADERS_END to END, which
   * comes without more input. */
  ck_assert_int_eq (feed_until_stop (p, BODILESS ("abcd", "SEND"), &error),
                    MSRP_PARSE_NEED_MORE);
  ck_assert_int_eq (msrp_parser_get_phase (p), MSRP_PARSER_PHASE_HEADERS);
  {
    GuardBuf buf;
    MsrpParserEvent ev;
    gsize used = 0;

    guard_buf_init (&buf, "-------abcd$" CRLF, 14);
    ck_assert_int_eq (feed1 (p, &buf, 0, &used, &ev), MSRP_PARSE_EVENT);
    ck_assert_int_eq (ev.type, MSRP_PARSER_EVENT_HEADERS_END);
    ck_assert_uint_eq (used, 14);
    guard_buf_clear (&buf);
    ck_assert_int_eq (msrp_parser_get_phase (p), MSRP_PARSER_PHASE_BODY);
    ck_assert_int_eq (msrp_parser_feed (p, NULL, 0, &used, &ev, &error),
                      MSRP_PARSE_EVENT);
    ck_assert_int_eq (ev.type, MSRP_PARSER_EVENT_END);
    ck_assert_int_eq (msrp_parser_get_phase (p), MSRP_PARSER_PHASE_START_LINE);
  }
}
END_TEST

/* Reset in the middle of a frame; limits survive; buffer reuse; shrinking
 * the limits gives back a buffer they would never fill. */
START_TEST (test_reset_and_limits)
{
  MsrpParserLimits limits;
  g_autoptr (MsrpParser) p = NULL;
  g_autoptr (GString) line =
      g_string_new ("MSRP abcd SEND" CRLF PATHS "X-Long: ");

  msrp_parser_limits_init (&limits);
  ck_assert_uint_eq (limits.max_start_line, 512);
  ck_assert_uint_eq (limits.max_header_bytes, 16384);
  ck_assert_uint_eq (limits.max_headers, 64);
  ck_assert_uint_eq (limits.max_non_send_body, 10240);
  limits.max_headers = 10;
  p = msrp_parser_new_full (&limits);
  ck_assert_uint_eq (msrp_parser_get_limits (p)->max_headers, 10);
  ck_assert_uint_eq (msrp_parser_get_buffer_size (p), 0);

  /* A 10000-byte header line arriving in two pieces is buffered: the
   * buffer grows, but not past the header limit. */
  for (int i = 0; i < 10000; i++)
    g_string_append_c (line, 'y');
  feed_text (p, line->str);
  feed_text (p, CRLF);
  ck_assert_uint_ge (msrp_parser_get_buffer_size (p), 10000);
  ck_assert_uint_le (msrp_parser_get_buffer_size (p), 16384);

  ck_assert (!msrp_parser_is_idle (p));
  msrp_parser_reset (p);
  ck_assert (msrp_parser_is_idle (p));
  ck_assert_uint_eq (msrp_parser_get_limits (p)->max_headers, 10);
  {
    GuardBuf buf;
    MsrpParserEvent ev;
    gsize off = 0, used = 0;
    guint ends = 0;

    guard_buf_init (&buf, valid_frame, sizeof valid_frame - 1);
    while (feed1 (p, &buf, off, &used, &ev) == MSRP_PARSE_EVENT)
      {
        off += used;
        if (ev.type == MSRP_PARSER_EVENT_END)
          ends++;
      }
    guard_buf_clear (&buf);
    ck_assert_uint_eq (ends, 1);
    ck_assert (msrp_parser_is_idle (p));
  }

  limits.max_header_bytes = 1024;
  msrp_parser_set_limits (p, &limits);
  ck_assert_uint_eq (msrp_parser_get_limits (p)->max_header_bytes, 1024);
  ck_assert_uint_eq (msrp_parser_get_buffer_size (p), 0);

  /* A limit that is no power of two bounds the buffer exactly: a line of
   * 1050 bytes in two pieces with a header block limit of 1050 + To-Path and
   * From-Path gets a buffer of that size, not the next power of two.  The
   * block is then full: a call without bytes is no error yet, the next byte
   * is. */
  limits.max_header_bytes = 1050 + strlen (PATHS);
  msrp_parser_set_limits (p, &limits);
  g_string_truncate (line, 0);
  g_string_append (line, "MSRP abcd SEND" CRLF PATHS "X-Long: ");
  while (line->len < strlen ("MSRP abcd SEND" CRLF PATHS) + 1048)
    g_string_append_c (line, 'y');
  feed_text (p, line->str);
  feed_text (p, CRLF);
  {
    MsrpParserEvent ev;
    gsize used = 0;
    GError *error = NULL;

    ck_assert_int_eq (msrp_parser_feed (p, NULL, 0, &used, &ev, &error),
                      MSRP_PARSE_NEED_MORE);
    ck_assert_int_eq (
        msrp_parser_feed (p, (const guint8 *) "-", 1, &used, &ev, &error),
        MSRP_PARSE_ERROR);
    ck_assert (
        g_error_matches (error, MSRP_PARSER_ERROR, MSRP_PARSER_ERROR_LIMIT));
    g_clear_error (&error);
  }
  ck_assert_uint_eq (msrp_parser_get_buffer_size (p), 1050 + strlen (PATHS));
}
END_TEST

static Suite *
parser_suite (void)
{
  Suite *s = suite_create ("msrp-parser");
  TCase *tc;

  tc = tcase_create ("ok");
  tcase_add_loop_test (tc, test_ok_case, 0, N_ELEMENTS (ok_cases));
  suite_add_tcase (s, tc);

  tc = tcase_create ("errors");
  tcase_add_loop_test (tc, test_err_case, 0, N_ELEMENTS (err_cases));
  suite_add_tcase (s, tc);

  tc = tcase_create ("limits");
  tcase_add_test (tc, test_limit_start_line);
  tcase_add_test (tc, test_limit_header_block);
  tcase_add_test (tc, test_limit_header_count);
  tcase_add_test (tc, test_limit_non_send_body);
  suite_add_tcase (s, tc);

  tc = tcase_create ("streaming");
  tcase_add_test (tc, test_4gib_body);
  tcase_add_test (tc, test_held_bytes);
  tcase_add_test (tc, test_header_slices);
  tcase_add_test (tc, test_pending_end_without_input);
  tcase_add_test (tc, test_phase);
  tcase_add_test (tc, test_reset_and_limits);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (parser_suite ());
  int failed;

  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
