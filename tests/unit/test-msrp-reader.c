/* test-msrp-reader.c: Check suite for msrp/msrp-reader.c (RFC 4975 sections
 * 7 and 9; RFC 4976 section 5.1).
 *
 * Every case runs whole, byte by byte, and split in two at every position
 * (guard.h, each piece against an unreadable guard page).  The events are
 * written into a canonical trace and compared with the expected one:
 *
 *   HEAD <tid> <method>[ body] h<n>[ !<head error>]
 *   HEAD <tid> <code>[ <comment>][ body] h<n>[ !<head error>]
 *   BODY <all body bytes of the frame, however they were split>
 *   END <tid><flag> <body_len>
 *
 * joined by '|', where h<n> counts the headers the head kept.  Bytes outside
 * printable ASCII, CR, LF and HTAB appear as \xNN.  An error case also names
 * the error code and a message substring, and what msrp_reader_get_head()
 * and msrp_reader_in_body() say after it; its trace holds the events before
 * the error.  Besides the trace, every call is checked as it happens: one
 * head object from HEAD to END, BODY pieces not empty and inside the piece
 * fed (or, when held, outside it and no longer than an end-line), no BODY
 * after a head error, END's body_len equal to the bytes seen, get_head and
 * in_body following the frame, NEED_MORE consuming everything. */
#include "msrp-reader.h"

#include "msrp-status.h"

#include "guard.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define N_ELEMENTS(a) ((int) G_N_ELEMENTS (a))
#define CRLF "\r\n"

/* For the checks made on every call: Check's ck_assert() writes to a pipe
 * each time it passes, which for millions of calls costs more than the
 * reading. */
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
  MsrpReader *reader;
  GString *trace;
  GString *body;            /* body bytes of the current frame */
  guint64 frame_body;       /* same, counted */
  MsrpHead *head;           /* the frame's from HEAD to END (the reader's) */
  const GError *head_error; /* its head error */
  GError *error;
  gsize max_held; /* longest held BODY event */
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
check_message_printable (const char *message)
{
  CHECK (message != NULL);
  CHECK (strlen (message) > 0);
  for (const char *c = message; *c != '\0'; c++)
    CHECK_MSG (*c >= 0x20 && *c < 0x7f,
               "unprintable byte 0x%02x in message \"%s\"", (guint8) *c,
               message);
}

/* What get_head and in_body say between calls: inside a frame (HEAD came,
 * END not yet) its head and TRUE; otherwise FALSE, and no head or the head
 * of a frame whose header block is being read. */
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
record_head (Run *r, const MsrpReaderEvent *ev)
{
  MsrpHead *h = ev->head;

  CHECK (r->head == NULL);
  CHECK (h != NULL);
  CHECK (ev->data == NULL && ev->data_len == 0);
  r->head = h;
  r->head_error = ev->head_error;
  r->frame_body = 0;
  trace_sep (r);
  g_string_append_printf (r->trace, "HEAD %s ",
                          msrp_head_get_transaction_id (h));
  if (msrp_head_is_request (h))
    g_string_append (r->trace, msrp_head_get_method (h));
  else
    {
      CHECK (msrp_head_get_method (h) == NULL);
      g_string_append_printf (r->trace, "%03u", msrp_head_get_status_code (h));
      if (msrp_head_get_comment (h) != NULL)
        {
          g_string_append_c (r->trace, ' ');
          append_escaped (r->trace, msrp_head_get_comment (h),
                          strlen (msrp_head_get_comment (h)));
        }
    }
  if (msrp_head_has_body (h))
    g_string_append (r->trace, " body");
  g_string_append_printf (r->trace, " h%u", msrp_head_get_n_headers (h));
  if (ev->head_error != NULL)
    {
      CHECK (ev->head_error->domain == MSRP_HEAD_ERROR);
      check_message_printable (ev->head_error->message);
      g_string_append_printf (r->trace, " !%s", ev->head_error->message);
    }
  else
    {
      /* Finished without complaint: addressable. */
      CHECK (msrp_head_get_to_path (h) != NULL);
      CHECK (msrp_head_get_to_path (h)->len > 0);
      CHECK (msrp_head_get_from_path (h) != NULL);
      CHECK (msrp_head_get_from_path (h)->len > 0);
    }
}

static void
record_event (Run *r, const MsrpReaderEvent *ev, const guint8 *piece,
              gsize piece_len)
{
  switch (ev->type)
    {
    case MSRP_READER_EVENT_HEAD:
      record_head (r, ev);
      break;
    case MSRP_READER_EVENT_BODY:
      CHECK (r->head != NULL);
      CHECK (ev->head == r->head);
      /* The body of an unintelligible frame is skipped. */
      CHECK (r->head_error == NULL);
      CHECK (ev->head_error == NULL);
      CHECK (msrp_head_has_body (ev->head));
      CHECK (ev->data_len > 0);
      if (ev->held)
        {
          /* Bytes carried over from an earlier feed: short, the reader's. */
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
    case MSRP_READER_EVENT_END:
      CHECK (r->head != NULL);
      CHECK (ev->head == r->head);
      CHECK (ev->head_error == r->head_error);
      CHECK (ev->data == NULL && ev->data_len == 0);
      if (r->head_error == NULL)
        CHECK (ev->body_len == r->frame_body);
      else
        CHECK (r->frame_body == 0);
      CHECK (ev->continuation == '$' || ev->continuation == '+' ||
             ev->continuation == '#');
      flush_body (r);
      trace_sep (r);
      /* The head is still good for the END event. */
      g_string_append_printf (r->trace, "END %s%c %" G_GUINT64_FORMAT,
                              msrp_head_get_transaction_id (ev->head),
                              ev->continuation, ev->body_len);
      r->head = NULL;
      r->head_error = NULL;
      /* The frame is over: the reader is between frames. */
      CHECK (msrp_reader_get_head (r->reader) == NULL);
      CHECK (!msrp_reader_in_body (r->reader));
      break;
    default:
      ck_abort_msg ("unknown event type %d", ev->type);
    }
}

/* Feed one piece the way a connection would: event by event, re-feeding the
 * rest (possibly nothing), until the reader needs more. */
static int
feed_piece (const unsigned char *piece, size_t len, void *user_data)
{
  Run *r = user_data;
  const guint8 *data = piece;
  gsize left = len;

  for (;;)
    {
      MsrpReaderEvent ev;
      gsize used = G_MAXSIZE;
      MsrpParseStatus st;

      check_position (r);
      st = msrp_reader_feed (r->reader, data, left, &used, &ev, &r->error);
      CHECK (used <= left);
      if (st == MSRP_PARSE_ERROR)
        {
          CHECK (r->error != NULL);
          CHECK (r->error->domain == MSRP_PARSER_ERROR);
          return 1;
        }
      CHECK (r->error == NULL);
      if (st == MSRP_PARSE_NEED_MORE)
        {
          CHECK (used == left);
          check_position (r);
          return 0;
        }
      CHECK (st == MSRP_PARSE_EVENT);
      record_event (r, &ev, piece, len);
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

/* What an error case expects besides its trace. */
typedef struct
{
  int code;            /* MsrpParserError */
  const char *message; /* substring */
  const char *head;    /* tid of get_head after it, or NULL */
  gboolean paths;      /* ... with To-Path and From-Path */
  gboolean in_body;
} Failure;

static void
check_failure (const char *name, SplitMode mode, gsize at, Run *r,
               const Failure *want)
{
  MsrpHead *head = msrp_reader_get_head (r->reader);
  gboolean in_body = msrp_reader_in_body (r->reader);
  MsrpReaderEvent ev;
  gsize used = 99;
  GError *again = NULL;
  static const guint8 more[] = "MSRP ";

  CHECK_MSG (r->error != NULL, "%s [%s at %zu]: no error, want '%s'", name,
             mode_name (mode), at, want->message);
  CHECK_MSG (g_error_matches (r->error, MSRP_PARSER_ERROR, want->code),
             "%s [%s at %zu]: error code %d, want %d (%s)", name,
             mode_name (mode), at, r->error->code, want->code,
             r->error->message);
  CHECK_MSG (strstr (r->error->message, want->message) != NULL,
             "%s [%s at %zu]: message\n  got  \"%s\"\n  want \"%s\"", name,
             mode_name (mode), at, r->error->message, want->message);
  check_message_printable (r->error->message);

  if (want->head == NULL)
    CHECK_MSG (head == NULL, "%s [%s at %zu]: a head (%s) after the error",
               name, mode_name (mode), at,
               msrp_head_get_transaction_id (head));
  else
    {
      CHECK_MSG (head != NULL, "%s [%s at %zu]: no head after the error", name,
                 mode_name (mode), at);
      CHECK (strcmp (msrp_head_get_transaction_id (head), want->head) == 0);
      CHECK_MSG ((msrp_head_get_to_path (head) != NULL &&
                  msrp_head_get_from_path (head) != NULL) == want->paths,
                 "%s [%s at %zu]: paths known is %d, want %d", name,
                 mode_name (mode), at, !want->paths, want->paths);
    }
  CHECK_MSG (in_body == want->in_body, "%s [%s at %zu]: in_body %d, want %d",
             name, mode_name (mode), at, in_body, want->in_body);

  /* Failed stays failed, with the same error, the same head, nothing
   * returned. */
  CHECK (msrp_reader_feed (r->reader, more, 5, &used, &ev, &again) ==
         MSRP_PARSE_ERROR);
  CHECK (used == 0);
  CHECK (again != NULL);
  CHECK (strcmp (again->message, r->error->message) == 0);
  CHECK (again->code == r->error->code);
  g_clear_error (&again);
  CHECK (msrp_reader_feed (r->reader, NULL, 0, &used, &ev, &again) ==
         MSRP_PARSE_ERROR);
  g_clear_error (&again);
  CHECK (msrp_reader_get_head (r->reader) == head);
  CHECK (msrp_reader_in_body (r->reader) == in_body);
}

/* Run @input in one mode; check the outcome.  @fail NULL: no error, and the
 * input ends between frames when @idle. */
static void
run_mode (const char *name, const void *input, gsize len,
          const MsrpParserLimits *limits, SplitMode mode, gsize at,
          const char *want_trace, gboolean idle, const Failure *fail)
{
  Run r = {
    0,
  };
  int rc;

  r.reader = msrp_reader_new (limits);
  r.trace = g_string_new (NULL);
  r.body = g_string_new (NULL);

  rc = guard_feed (input, len, mode, at, feed_piece, &r);
  flush_body (&r);

  CHECK_MSG (strcmp (r.trace->str, want_trace) == 0,
             "%s [%s at %zu]: trace\n  got  \"%s\"\n  want \"%s\"\n"
             "  (error: %s)",
             name, mode_name (mode), at, r.trace->str, want_trace,
             r.error != NULL ? r.error->message : "none");
  if (fail == NULL)
    {
      CHECK_MSG (rc == 0 && r.error == NULL,
                 "%s [%s at %zu]: unexpected error: %s", name,
                 mode_name (mode), at,
                 r.error != NULL ? r.error->message : "?");
      CHECK_MSG ((msrp_reader_get_head (r.reader) == NULL) == idle,
                 "%s [%s at %zu]: ends %s a frame", name, mode_name (mode), at,
                 idle ? "inside" : "outside");
    }
  else
    check_failure (name, mode, at, &r, fail);

  g_clear_error (&r.error);
  msrp_reader_free (r.reader);
  g_string_free (r.trace, TRUE);
  g_string_free (r.body, TRUE);
}

/* Whole, byte by byte, and split at every position. */
static void
run_all_modes (const char *name, const void *input, gsize len,
               const MsrpParserLimits *limits, const char *want_trace,
               gboolean idle, const Failure *fail)
{
  run_mode (name, input, len, limits, SPLIT_WHOLE, 0, want_trace, idle, fail);
  run_mode (name, input, len, limits, SPLIT_BYTEWISE, 0, want_trace, idle,
            fail);
  for (gsize at = 0; at <= len; at++)
    run_mode (name, input, len, limits, SPLIT_AT, at, want_trace, idle, fail);
}

/* ---------------------------------------------------------------------------
 * Inputs
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
  "HEAD a786hjs2 SEND body h5|BODY Hey Bob, are you there?"                   \
  "|END a786hjs2$ 23"
#define EX4_200                                                               \
  "MSRP a786hjs2 200 OK" CRLF                                                 \
  "To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp" CRLF             \
  "From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp" CRLF        \
  "-------a786hjs2$" CRLF
#define TR4_200 "HEAD a786hjs2 200 OK h2|END a786hjs2$ 0"

/* RFC 4975 section 5.1, Figure 3, with the To-Path and From-Path the figure
 * leaves out (section 9 requires them first). */
#define PATHS_51                                                              \
  "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp" CRLF               \
  "From-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp" CRLF
#define EX51                                                                  \
  "MSRP dkei38sd SEND" CRLF PATHS_51 "Message-ID: 4564dpWd" CRLF              \
  "Byte-Range: 1-*/8" CRLF "Content-Type: text/plain" CRLF CRLF "abcd" CRLF   \
  "-------dkei38sd+" CRLF "MSRP dkei38ia SEND" CRLF PATHS_51                  \
  "Message-ID: 4564dpWd" CRLF "Byte-Range: 5-8/8" CRLF                        \
  "Content-Type: text/plain" CRLF CRLF "EFGH" CRLF "-------dkei38ia$" CRLF
#define TR51                                                                  \
  "HEAD dkei38sd SEND body h5|BODY abcd|END dkei38sd+ 4"                      \
  "|HEAD dkei38ia SEND body h5|BODY EFGH|END dkei38ia$ 4"

/* RFC 4975 section 11.2, Figure 13: a body of many lines */
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
/* body_len counts the bytes as sent (CRLF line ends): the Byte-Range values
 * of the RFC's figures (374 here, 106 in TR116) do not match the bodies as
 * printed. */
#define TR112                                                                 \
  "HEAD dsdfoe38sd SEND body h5|BODY " XHTML_BODY "|END dsdfoe38sd$ 384"

/* RFC 4975 section 11.6, Figures 16 and 17: a SEND and its REPORT */
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
  "HEAD d93kswow SEND body h7|BODY " HTML_BODY "|END d93kswow$ 121"           \
  "|HEAD dkei38sd REPORT h5|END dkei38sd$ 0"

/* RFC 4976 section 5.1: AUTH, 401 with WWW-Authenticate, AUTH with
 * Authorization, 200 with Use-Path and Expires. */
#define INTRA "msrps://alice@intra.example.com;tcp"
#define ALICE2 "msrps://alice.example.com:9892/98cjs;tcp"
#define EX4976_51                                                             \
  "MSRP 49fi AUTH" CRLF "To-Path: " INTRA CRLF "From-Path: " ALICE2 CRLF      \
  "-------49fi$" CRLF "MSRP 49fi 401 Unauthorized" CRLF                       \
  "To-Path: " ALICE2 CRLF "From-Path: " INTRA CRLF                            \
  "WWW-Authenticate: Digest realm=\"intra.example.com\", qop=\"auth\", "      \
  "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\"" CRLF "-------49fi$" CRLF     \
  "MSRP 49fj AUTH" CRLF "To-Path: " INTRA CRLF "From-Path: " ALICE2 CRLF      \
  "Authorization: Digest username=\"Alice\", realm=\"intra.example.com\", "   \
  "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", qop=auth, nc=00000001, "     \
  "cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\"" CRLF   \
  "-------49fj$" CRLF "MSRP 49fj 200 OK" CRLF "To-Path: " ALICE2 CRLF         \
  "From-Path: " INTRA CRLF                                                    \
  "Use-Path: msrps://intra.example.com:9000/jui787s2f;tcp" CRLF               \
  "Expires: 900" CRLF "-------49fj$" CRLF
#define TR4976_51                                                             \
  "HEAD 49fi AUTH h2|END 49fi$ 0"                                             \
  "|HEAD 49fi 401 Unauthorized h3|END 49fi$ 0"                                \
  "|HEAD 49fj AUTH h3|END 49fj$ 0"                                            \
  "|HEAD 49fj 200 OK h4|END 49fj$ 0"

#define TO "To-Path: msrp://b.example.com:2855/s1;tcp"
#define FROM "From-Path: msrp://a.example.com:2855/s2;tcp"
#define PATHS TO CRLF FROM CRLF

/* A SEND with tid T up to the blank line; the body follows. */
#define SEND(T)                                                               \
  "MSRP " T " SEND" CRLF PATHS "Message-ID: m1234" CRLF                       \
  "Content-Type: text/plain" CRLF CRLF
#define TR_SEND(T) "HEAD " T " SEND body h4"
/* A whole frame without body. */
#define BODILESS(T)                                                           \
  "MSRP " T " SEND" CRLF PATHS "Message-ID: m1234" CRLF "-------" T "$" CRLF
#define TR_BODILESS(T) "HEAD " T " SEND h3|END " T "$ 0"

#define ERR_SEND_WITHOUT_MID "SEND without Message-ID (RFC 4975 section 7.1.1)"

#define IN(s) (s), sizeof (s) - 1

typedef struct
{
  const char *name;
  const char *input;
  gsize len;
  const char *trace;
  gboolean idle; /* ends between frames */
} OkCase;

static const OkCase ok_cases[] = {
  /* RFC 4975 and RFC 4976 */
  { "rfc4975-4-exchange", IN (EX4_SEND EX4_200), TR4_SEND "|" TR4_200, TRUE },
  { "rfc4975-5.1-chunks", IN (EX51), TR51, TRUE },
  { "rfc4975-11.2-xhtml", IN (EX112), TR112, TRUE },
  { "rfc4975-11.6-report", IN (EX116), TR116, TRUE },
  { "rfc4976-5.1-auth", IN (EX4976_51), TR4976_51, TRUE },
  { "stream-of-examples", IN (EX4_SEND EX4976_51 EX112 EX4_200),
    TR4_SEND "|" TR4976_51 "|" TR112 "|" TR4_200, TRUE },

  /* Bodies */
  { "bodiless", IN (BODILESS ("abcd")), TR_BODILESS ("abcd"), TRUE },
  { "bodiless-twice", IN (BODILESS ("abcd") BODILESS ("efgh")),
    TR_BODILESS ("abcd") "|" TR_BODILESS ("efgh"), TRUE },
  { "empty-body", IN (SEND ("abcd") CRLF "-------abcd$" CRLF),
    TR_SEND ("abcd") "|END abcd$ 0", TRUE },
  { "empty-body-without-crlf", IN (SEND ("abcd") "-------abcd$" CRLF),
    TR_SEND ("abcd") "|END abcd$ 0", TRUE },
  { "aborted", IN (SEND ("abcd") "part" CRLF "-------abcd#" CRLF),
    TR_SEND ("abcd") "|BODY part|END abcd# 4", TRUE },
  { "body-like-end-lines",
    IN (SEND (
        "abcd") "\r\n-------abcd" CRLF "-------abcdX" CRLF "\r\n-------abcd$\r"
                "-------efgh$" CRLF "\r\n-------abc" CRLF "-------abcd+" CRLF),
    TR_SEND ("abcd") "|BODY \r\n-------abcd" CRLF "-------abcdX" CRLF
                     "\r\n-------abcd$\r"
                     "-------efgh$" CRLF "\r\n-------abc"
                     "|END abcd+ 70",
    TRUE },
  { "body-binary",
    IN (SEND ("abcd") "\x00\xff\r\x01\n" CRLF "-------abcd$" CRLF),
    TR_SEND ("abcd") "|BODY \\x00\\xff\r\\x01\n|END abcd$ 5", TRUE },
  { "partial-body", IN (SEND ("abcd") "so far" CRLF "---"),
    TR_SEND ("abcd") "|BODY so far", FALSE },
  { "partial-head", IN (BODILESS ("abcd") "MSRP efgh SEND" CRLF TO CRLF),
    TR_BODILESS ("abcd"), FALSE },

  /* A header value refused: the frame completes without its body, the next
   * is read as usual. */
  { "bad-byte-range",
    IN ("MSRP abcd SEND" CRLF PATHS "Message-ID: m1234" CRLF
        "Byte-Range: 1-x/5" CRLF "Content-Type: text/plain" CRLF CRLF
        "hello" CRLF "-------abcd$" CRLF BODILESS ("efgh")),
    "HEAD abcd SEND body h4 !Byte-Range: expected range-end (digits or '*') "
    "at offset 2, found 'x'|END abcd$ 5|" TR_BODILESS ("efgh"),
    TRUE },
  { "bad-to-path-in-response",
    IN ("MSRP abcd 200 OK" CRLF "To-Path: not-a-uri" CRLF FROM CRLF
        "-------abcd$" CRLF EX4_200),
    "HEAD abcd 200 OK h1 !To-Path: URI 1 of the list: no scheme: the URI "
    "must start with \"msrp://\" or \"msrps://\"|END abcd$ 0|" TR4_200,
    TRUE },
  { "send-without-message-id",
    IN ("MSRP abcd SEND" CRLF PATHS "Content-Type: text/plain" CRLF CRLF
        "x\r\n---" CRLF "-------abcd$" CRLF BODILESS ("efgh")),
    "HEAD abcd SEND body h3 !" ERR_SEND_WITHOUT_MID
    "|END abcd$ 6|" TR_BODILESS ("efgh"),
    TRUE },
  { "report-without-status",
    IN ("MSRP abcd REPORT" CRLF PATHS "Message-ID: m1234" CRLF
        "-------abcd$" CRLF),
    "HEAD abcd REPORT h3 !REPORT without Status (RFC 4975 section 7.1.2)"
    "|END abcd$ 0",
    TRUE },
  /* The first problem is the one reported; the headers after a refused one
   * are still kept. */
  { "bad-message-id-first",
    IN ("MSRP abcd SEND" CRLF PATHS "Message-ID: x" CRLF
        "Failure-Report: no" CRLF "-------abcd+" CRLF),
    "HEAD abcd SEND h3 !Message-ID: ident is 1 characters long, not 4 to 32"
    "|END abcd+ 0",
    TRUE },
  { "bad-content-type-body-skipped",
    IN ("MSRP abcd SEND" CRLF PATHS "Message-ID: m1234" CRLF
        "Content-Type: text" CRLF CRLF "\r\n-------abcd"
        "\r\n-------abcd" CRLF "-------abcd#" CRLF),
    "HEAD abcd SEND body h3 !Content-Type: expected '/' after the type at "
    "offset 4, found the end of the value|END abcd# 26",
    TRUE },
};

typedef struct
{
  const char *name;
  const char *input;
  gsize len;
  const char *trace; /* events before the error */
  Failure fail;
} ErrCase;

#define SYNTAX MSRP_PARSER_ERROR_SYNTAX
#define LIMIT MSRP_PARSER_ERROR_LIMIT
#define ORDER MSRP_PARSER_ERROR_ORDER
#define BODY MSRP_PARSER_ERROR_BODY

static const ErrCase err_cases[] = {
  /* Between frames: no head to answer. */
  { "not-msrp",
    IN ("HTTP/1.1 200 OK" CRLF),
    "",
    { SYNTAX, "start line does not begin with 'MSRP '", NULL, FALSE, FALSE } },
  { "bad-tid",
    IN ("MSRP a SEND" CRLF PATHS),
    "",
    { SYNTAX, "transaction id 'a' is shorter", NULL, FALSE, FALSE } },
  { "garbage-after-frame",
    IN (BODILESS ("abcd") "HELLO" CRLF),
    TR_BODILESS ("abcd"),
    { SYNTAX, "got 'H'", NULL, FALSE, FALSE } },
  { "crlf-after-body",
    IN (SEND ("abcd") "x" CRLF "-------abcd$" CRLF CRLF),
    TR_SEND ("abcd") "|BODY x|END abcd$ 1",
    { SYNTAX, "got '\\r'", NULL, FALSE, FALSE } },

  /* In the header block: the head as far as it got. */
  { "no-to-path",
    IN ("MSRP abcd SEND" CRLF FROM CRLF),
    "",
    { ORDER, "To-Path must be the first header", "abcd", FALSE, FALSE } },
  { "bad-header-line",
    IN ("MSRP abcd SEND" CRLF PATHS "X Bad" CRLF),
    "",
    { SYNTAX, "missing ': ' after name 'X'", "abcd", TRUE, FALSE } },
  { "bad-value-then-bad-line",
    IN ("MSRP abcd SEND" CRLF PATHS "Message-ID: x" CRLF "X Bad" CRLF),
    "",
    { SYNTAX, "missing ': ' after name 'X'", "abcd", TRUE, FALSE } },
  { "bad-to-path-then-bad-line",
    IN ("MSRP abcd SEND" CRLF "To-Path: nope" CRLF FROM CRLF "X Bad" CRLF),
    "",
    { SYNTAX, "missing ': ' after name 'X'", "abcd", FALSE, FALSE } },
  { "content-type-without-body",
    IN ("MSRP abcd SEND" CRLF PATHS "Content-Type: a/b" CRLF
        "-------abcd$" CRLF),
    "",
    { BODY, "Content-Type present but no body", "abcd", TRUE, FALSE } },
  { "response-with-body",
    IN ("MSRP abcd 200 OK" CRLF PATHS CRLF "x" CRLF "-------abcd$" CRLF),
    "",
    { BODY, "response with a body", "abcd", TRUE, FALSE } },
  { "end-line-other-tid",
    IN ("MSRP abcd SEND" CRLF PATHS "-------efgh$" CRLF),
    "",
    { SYNTAX, "end-line transaction id 'efgh' does not match", "abcd", TRUE,
      FALSE } },
  { "second-frame-broken",
    IN (EX4_SEND "MSRP abcd SEND" CRLF PATHS "Bad\x01: v" CRLF),
    TR4_SEND,
    { SYNTAX, "missing ': ' after name 'Bad'", "abcd", TRUE, FALSE } },
};

/* ---------------------------------------------------------------------------
 * Table tests
 * ------------------------------------------------------------------------- */

START_TEST (test_ok_case)
{
  const OkCase *c = &ok_cases[_i];

  run_all_modes (c->name, c->input, c->len, NULL, c->trace, c->idle, NULL);
}
END_TEST

START_TEST (test_err_case)
{
  const ErrCase *c = &err_cases[_i];

  run_all_modes (c->name, c->input, c->len, NULL, c->trace, FALSE, &c->fail);
}
END_TEST

/* The limits reach the parser; a body over max_non_send_body fails in the
 * body, with the head, after the pieces below the limit; also when the body
 * is being skipped. */
START_TEST (test_limits)
{
  MsrpParserLimits limits;
  static const char auth[] =
      "MSRP abcd AUTH" CRLF PATHS "Content-Type: a/b" CRLF CRLF "12345" CRLF
      "-------abcd$" CRLF;
  static const char bad_auth[] =
      "MSRP abcd AUTH" CRLF PATHS "Expires: soon" CRLF
      "Content-Type: a/b" CRLF CRLF "12345" CRLF "-------abcd$" CRLF;
  static const char long_start[] =
      "MSRP abcd 200 "
      "cccccccccccccccccccccccccccccccccccccccccccccccccc"
      "c" CRLF;
  const Failure body_limit = {
    LIMIT, "body of a non-SEND request longer than 4 bytes", "abcd", TRUE,
    TRUE,
  };
  const Failure start_limit = {
    LIMIT, "start line longer than 64 bytes", NULL, FALSE, FALSE,
  };

  msrp_parser_limits_init (&limits);
  run_all_modes ("auth-body", auth, sizeof auth - 1, &limits,
                 "HEAD abcd AUTH body h3|BODY 12345|END abcd$ 5", TRUE, NULL);
  limits.max_non_send_body = 4;
  run_all_modes ("auth-body-over-limit", auth, sizeof auth - 1, &limits,
                 "HEAD abcd AUTH body h3|BODY 1234", FALSE, &body_limit);
  run_all_modes ("bad-auth-body-over-limit", bad_auth, sizeof bad_auth - 1,
                 &limits,
                 "HEAD abcd AUTH body h3 !Expires: expected digits "
                 "at offset 0, found 's'",
                 FALSE, &body_limit);
  limits.max_start_line = 64;
  run_all_modes ("start-line-over-limit", long_start, sizeof long_start - 1,
                 &limits, "", FALSE, &start_limit);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Streaming properties
 * ------------------------------------------------------------------------- */

static MsrpParseStatus
feed1 (MsrpReader *r, const GuardBuf *buf, gsize off, gsize *used,
       MsrpReaderEvent *ev)
{
  GError *error = NULL;
  MsrpParseStatus st;

  st = msrp_reader_feed (r, buf->data + off, buf->len - off, used, ev, &error);
  ck_assert_msg (error == NULL, "unexpected error: %s",
                 error != NULL ? error->message : "");
  return st;
}

/* Feed all of @text; returns the last event (HEAD expected). */
static void
feed_head (MsrpReader *r, const char *text, MsrpReaderEvent *ev)
{
  GuardBuf buf;
  gsize used = 0;

  guard_buf_init (&buf, text, strlen (text));
  ck_assert_int_eq (feed1 (r, &buf, 0, &used, ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev->type, MSRP_READER_EVENT_HEAD);
  ck_assert_uint_eq (used, buf.len);
  guard_buf_clear (&buf);
}

/* A bodiless frame given whole: HEAD takes all of it, END comes from a call
 * without bytes, and the call after that needs more. */
START_TEST (test_bodiless_end_without_input)
{
  g_autoptr (MsrpReader) r = msrp_reader_new (NULL);
  MsrpReaderEvent ev;
  MsrpHead *head;
  gsize used = 99;
  GError *error = NULL;

  ck_assert_ptr_null (msrp_reader_get_head (r));
  ck_assert_int_eq (msrp_reader_feed (r, NULL, 0, &used, &ev, &error),
                    MSRP_PARSE_NEED_MORE);
  ck_assert_uint_eq (used, 0);

  feed_head (r, BODILESS ("abcd"), &ev);
  head = ev.head;
  ck_assert_ptr_nonnull (head);
  ck_assert_ptr_null (ev.head_error);
  ck_assert (!msrp_head_has_body (head));
  ck_assert_ptr_eq (msrp_reader_get_head (r), head);
  ck_assert (msrp_reader_in_body (r));

  used = 99;
  ck_assert_int_eq (msrp_reader_feed (r, NULL, 0, &used, &ev, &error),
                    MSRP_PARSE_EVENT);
  ck_assert_uint_eq (used, 0);
  ck_assert_int_eq (ev.type, MSRP_READER_EVENT_END);
  ck_assert_ptr_eq (ev.head, head);
  ck_assert_int_eq (ev.continuation, '$');
  ck_assert_uint_eq (ev.body_len, 0);
  ck_assert_str_eq (msrp_head_get_transaction_id (ev.head), "abcd");
  ck_assert_ptr_null (msrp_reader_get_head (r));
  ck_assert (!msrp_reader_in_body (r));

  ck_assert_int_eq (msrp_reader_feed (r, NULL, 0, &used, &ev, &error),
                    MSRP_PARSE_NEED_MORE);
  ck_assert_ptr_null (msrp_reader_get_head (r));
  ck_assert_ptr_null (error);
}
END_TEST

/* Body pieces point into the input; a prefix of the end-line at the end of
 * one feed is neither emitted nor lost: refuted, it comes out marked held,
 * outside the new input, then the new bytes come out from the input. */
START_TEST (test_body_pieces)
{
  g_autoptr (MsrpReader) r = msrp_reader_new (NULL);
  GuardBuf a, b, c;
  MsrpReaderEvent ev;
  MsrpHead *head;
  gsize used = 0;

  feed_head (r, SEND ("abcd"), &ev);
  head = ev.head;
  guard_buf_init (&a, "xy\r\n---", 7);
  ck_assert_int_eq (feed1 (r, &a, 0, &used, &ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_READER_EVENT_BODY);
  ck_assert_ptr_eq (ev.head, head);
  ck_assert (!ev.held);
  ck_assert_ptr_eq (ev.data, a.data);
  ck_assert_uint_eq (ev.data_len, 2);
  ck_assert_uint_eq (used, 2);
  ck_assert_int_eq (feed1 (r, &a, 2, &used, &ev), MSRP_PARSE_NEED_MORE);
  ck_assert_uint_eq (used, 5);
  guard_buf_clear (&a);

  guard_buf_init (&b, "-z", 2);
  ck_assert_int_eq (feed1 (r, &b, 0, &used, &ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_READER_EVENT_BODY);
  ck_assert (ev.held);
  ck_assert_uint_eq (used, 0);
  ck_assert_uint_eq (ev.data_len, 5);
  ck_assert (memcmp (ev.data, "\r\n---", 5) == 0);
  ck_assert (ev.data + ev.data_len <= b.data || ev.data >= b.data + b.len);
  ck_assert_int_eq (feed1 (r, &b, 0, &used, &ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_READER_EVENT_BODY);
  ck_assert (!ev.held);
  ck_assert_ptr_eq (ev.data, b.data);
  ck_assert_uint_eq (ev.data_len, 2);
  ck_assert_int_eq (feed1 (r, &b, 2, &used, &ev), MSRP_PARSE_NEED_MORE);
  guard_buf_clear (&b);

  /* The body's last byte and the end-line in one piece: the body piece
   * stops before the CRLF, END takes the rest. */
  guard_buf_init (&c, "!" CRLF "-------abcd$" CRLF, 17);
  ck_assert_int_eq (feed1 (r, &c, 0, &used, &ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_READER_EVENT_BODY);
  ck_assert_ptr_eq (ev.data, c.data);
  ck_assert_uint_eq (ev.data_len, 1);
  ck_assert_uint_eq (used, 1);
  ck_assert_int_eq (feed1 (r, &c, 1, &used, &ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_READER_EVENT_END);
  ck_assert_uint_eq (used, 16);
  ck_assert_uint_eq (ev.body_len, 2 + 5 + 2 + 1);
  guard_buf_clear (&c);
}
END_TEST

/* A header value refused: HEAD says why, with every good header kept, so
 * that whether a 400 is due can be decided (RFC 4975 section 7.2); the
 * body is skipped; the next frame has a clean head. */
START_TEST (test_head_error)
{
  g_autoptr (MsrpReader) r = msrp_reader_new (NULL);
  static const char rest[] =
      "some body" CRLF "-------abcd$" CRLF BODILESS ("efgh");
  const gsize end_at = strlen ("some body" CRLF "-------abcd$" CRLF);
  MsrpReaderEvent ev;
  MsrpHead *head;
  const GError *why;
  GuardBuf buf;
  gsize used = 0;

  feed_head (r,
             "MSRP abcd SEND" CRLF PATHS "Message-ID: x" CRLF
             "Failure-Report: no" CRLF "Content-Type: a/b" CRLF CRLF,
             &ev);
  head = ev.head;
  why = ev.head_error;
  ck_assert_ptr_nonnull (why);
  ck_assert (g_error_matches (why, MSRP_HEAD_ERROR, MSRP_HEAD_ERROR_VALUE));
  ck_assert_ptr_nonnull (strstr (why->message, "Message-ID"));
  ck_assert (msrp_head_has_body (head));
  ck_assert_ptr_nonnull (msrp_head_get_to_path (head));
  ck_assert_ptr_nonnull (msrp_head_get_from_path (head));
  ck_assert_ptr_null (msrp_head_get_message_id (head));
  ck_assert_int_eq (msrp_head_get_failure_report (head), MSRP_REPORT_NO);
  ck_assert (!msrp_status_response_due ("SEND", MSRP_REPORT_NO,
                                        MSRP_STATUS_BAD_REQUEST));
  ck_assert_ptr_nonnull (msrp_head_get_content_type (head));
  ck_assert_uint_eq (msrp_head_get_n_headers (head), 4);

  guard_buf_init (&buf, rest, sizeof rest - 1);
  ck_assert_int_eq (feed1 (r, &buf, 0, &used, &ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_READER_EVENT_END);
  ck_assert_ptr_eq (ev.head, head);
  ck_assert_ptr_eq (ev.head_error, why);
  ck_assert_uint_eq (ev.body_len, 9);
  ck_assert_uint_eq (used, end_at);
  ck_assert_int_eq (feed1 (r, &buf, end_at, &used, &ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_READER_EVENT_HEAD);
  ck_assert_ptr_null (ev.head_error);
  ck_assert_str_eq (msrp_head_get_transaction_id (ev.head), "efgh");
  guard_buf_clear (&buf);

  /* Without Failure-Report the 400 is due. */
  msrp_reader_free (r);
  r = msrp_reader_new (NULL);
  feed_head (
      r, "MSRP abcd SEND" CRLF PATHS "Message-ID: x" CRLF "-------abcd$" CRLF,
      &ev);
  ck_assert_ptr_nonnull (ev.head_error);
  ck_assert (msrp_status_response_due (msrp_head_get_method (ev.head),
                                       msrp_head_get_failure_report (ev.head),
                                       MSRP_STATUS_BAD_REQUEST));
}
END_TEST

/* The head lives from HEAD until the call after END; a reference keeps it
 * past that, unchanged by the frames that follow. */
START_TEST (test_head_lifetime)
{
  g_autoptr (MsrpReader) r = msrp_reader_new (NULL);
  g_autoptr (MsrpHead) kept = NULL;
  static const char two[] = BODILESS ("abcd") BODILESS ("efgh");
  GuardBuf buf;
  MsrpReaderEvent ev;
  gsize off = 0, used = 0;

  guard_buf_init (&buf, two, sizeof two - 1);
  ck_assert_int_eq (feed1 (r, &buf, off, &used, &ev), MSRP_PARSE_EVENT);
  off += used;
  ck_assert_int_eq (ev.type, MSRP_READER_EVENT_HEAD);
  kept = msrp_head_ref (ev.head);
  ck_assert_int_eq (feed1 (r, &buf, off, &used, &ev), MSRP_PARSE_EVENT);
  off += used;
  ck_assert_int_eq (ev.type, MSRP_READER_EVENT_END);
  ck_assert_ptr_eq (ev.head, kept);
  ck_assert_int_eq (feed1 (r, &buf, off, &used, &ev), MSRP_PARSE_EVENT);
  off += used;
  ck_assert_int_eq (ev.type, MSRP_READER_EVENT_HEAD);
  ck_assert_ptr_ne (ev.head, kept);
  ck_assert_str_eq (msrp_head_get_transaction_id (ev.head), "efgh");
  ck_assert_str_eq (msrp_head_get_transaction_id (kept), "abcd");
  ck_assert_ptr_eq (msrp_reader_get_head (r), ev.head);
  ck_assert_int_eq (feed1 (r, &buf, off, &used, &ev), MSRP_PARSE_EVENT);
  ck_assert_int_eq (ev.type, MSRP_READER_EVENT_END);
  ck_assert_int_eq (feed1 (r, &buf, off, &used, &ev), MSRP_PARSE_NEED_MORE);
  guard_buf_clear (&buf);
  ck_assert_str_eq (msrp_head_get_transaction_id (kept), "abcd");
}
END_TEST

/* @total bytes of body in 64 KiB pieces, through a reader that has read
 * @head: the reader's memory does not move, every non-held piece points
 * into the input, held pieces stay short, the count comes out exact.  Each
 * piece carries decoys: a near-miss end-line in the middle and a prefix of
 * the real one at its end, which the next piece's first byte refutes.
 * Returns the body bytes seen in BODY events; *@end_len gets END's count. */
static guint64
stream_body (MsrpReader *r, const char *tid, guint64 total, guint64 *end_len)
{
  const gsize piece_len = 64 * 1024;
  g_autofree guint8 *piece = g_malloc (piece_len);
  g_autofree char *tail = NULL;
  GuardBuf buf, end_buf;
  guint64 fed = 0, body = 0;
  gsize buffer_size = msrp_reader_get_buffer_size (r);
  gsize max_held = 0;
  MsrpReaderEvent ev;
  gsize used, off;
  gboolean ended = FALSE;
  MsrpParseStatus st;

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
      while ((st = feed1 (r, &buf, off, &used, &ev)) == MSRP_PARSE_EVENT)
        {
          ck_assert_int_eq (ev.type, MSRP_READER_EVENT_BODY);
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
      ck_assert_uint_eq (msrp_reader_get_buffer_size (r), buffer_size);
    }
  guard_buf_clear (&buf);

  tail = g_strdup_printf ("%s$" CRLF, tid + 6);
  guard_buf_init (&end_buf, tail, strlen (tail));
  off = 0;
  while ((st = feed1 (r, &end_buf, off, &used, &ev)) == MSRP_PARSE_EVENT)
    {
      off += used;
      if (ev.type == MSRP_READER_EVENT_BODY)
        body += ev.data_len;
      else
        {
          ck_assert_int_eq (ev.type, MSRP_READER_EVENT_END);
          ck_assert_int_eq (ev.continuation, '$');
          *end_len = ev.body_len;
          ended = TRUE;
        }
    }
  guard_buf_clear (&end_buf);
  ck_assert (ended);
  ck_assert_ptr_null (msrp_reader_get_head (r));
  ck_assert_uint_le (max_held, MSRP_PARSER_MAX_END_LINE);
  ck_assert_uint_eq (msrp_reader_get_buffer_size (r), buffer_size);
  return body;
}

/* 1 GiB of body streams through; so does one skipped after a head error,
 * without a BODY event. */
START_TEST (test_large_body)
{
  static const char tid[] = "Zx1GiBbody";
  const guint64 total = G_GUINT64_CONSTANT (1) << 30;
  /* Every piece but the last gives its held "\r\n-------" and 6 tid bytes
   * back as body. */
  const guint64 want = total - (2 + 7 + 6);
  g_autoptr (MsrpReader) r = msrp_reader_new (NULL);
  g_autofree char *head = NULL;
  MsrpReaderEvent ev;
  guint64 end_len = 0;

  head = g_strdup_printf ("MSRP %s SEND" CRLF PATHS "Message-ID: bigbody" CRLF
                          "Byte-Range: 1-%" G_GUINT64_FORMAT
                          "/%" G_GUINT64_FORMAT CRLF
                          "Content-Type: video/mpeg" CRLF CRLF,
                          tid, want, want);
  feed_head (r, head, &ev);
  ck_assert_ptr_null (ev.head_error);
  ck_assert_uint_le (msrp_reader_get_buffer_size (r),
                     MSRP_PARSER_DEFAULT_MAX_HEADER_BYTES);
  ck_assert_uint_eq (stream_body (r, tid, total, &end_len), want);
  ck_assert_uint_eq (end_len, want);

  g_free (head);
  head = g_strdup_printf ("MSRP %s SEND" CRLF PATHS "Message-ID: bigbody" CRLF
                          "Byte-Range: huge" CRLF
                          "Content-Type: video/mpeg" CRLF CRLF,
                          tid);
  feed_head (r, head, &ev);
  ck_assert_ptr_nonnull (ev.head_error);
  ck_assert_uint_eq (stream_body (r, tid, total / 16, &end_len), 0);
  ck_assert_uint_eq (end_len, total / 16 - (2 + 7 + 6));
}
END_TEST

static Suite *
reader_suite (void)
{
  Suite *s = suite_create ("msrp-reader");
  TCase *tc;

  tc = tcase_create ("ok");
  tcase_add_loop_test (tc, test_ok_case, 0, N_ELEMENTS (ok_cases));
  suite_add_tcase (s, tc);

  tc = tcase_create ("errors");
  tcase_add_loop_test (tc, test_err_case, 0, N_ELEMENTS (err_cases));
  tcase_add_test (tc, test_limits);
  suite_add_tcase (s, tc);

  tc = tcase_create ("streaming");
  tcase_add_test (tc, test_bodiless_end_without_input);
  tcase_add_test (tc, test_body_pieces);
  tcase_add_test (tc, test_head_error);
  tcase_add_test (tc, test_head_lifetime);
  tcase_add_test (tc, test_large_body);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (reader_suite ());
  int failed;

  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
