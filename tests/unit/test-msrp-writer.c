/* test-msrp-writer.c: frame writer, ids and chunker (msrp/msrp-writer.c).
 *
 * Built frames are compared byte for byte with expected text, most of it
 * taken from the examples of RFC 4975 section 11, RFC 4976 section 5.1 and
 * RFC 7701 section 9.  Bodies handed to the writer sit against an unreadable
 * guard page (guard.h), so a scan past their end crashes the test. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "msrp-parser.h"
#include "msrp-writer.h"

#define ALICE "msrp://alicepc.example.com:7777/iau39soe2843z;tcp"
#define BOB "msrp://bob.example.com:8888/9di4eae923wzd;tcp"
#define RELAY "msrp://relay.example.net:2855/r3l4y;tcp"

static GPtrArray *
path (const char *text)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *uris = msrp_uri_list_parse (text, -1, &error);

  ck_assert_msg (uris != NULL, "test path \"%s\": %s", text,
                 error ? error->message : "?");
  return uris;
}

static void
check_error (const GError *error, GQuark domain, gint code, const char *substr)
{
  ck_assert_msg (error != NULL, "no error; expected \"%s\"", substr);
  ck_assert_msg (error->domain == domain, "wrong domain %s (%s)",
                 g_quark_to_string (error->domain), error->message);
  ck_assert_msg (error->code == code, "code %d, expected %d (%s)", error->code,
                 code, error->message);
  if (substr != NULL)
    ck_assert_msg (strstr (error->message, substr) != NULL,
                   "message \"%s\" lacks \"%s\"", error->message, substr);
}

static void
check_bytes (GBytes *got, const char *expected)
{
  gsize len;
  const char *data;
  g_autofree char *text = NULL;

  ck_assert_ptr_nonnull (got);
  data = g_bytes_get_data (got, &len);
  /* (bounded: Check cannot carry a long message) */
  text = g_strndup (data, MIN (len, 1500));
  ck_assert_msg (len == strlen (expected) && memcmp (data, expected, len) == 0,
                 "got:\n%s\nexpected:\n%.1500s", text, expected);
}

/* ---------------------------------------------------------------------------
 * Whole frames
 * ------------------------------------------------------------------------- */

typedef struct
{
  const char *name;
  gboolean response;
  const char *tid;
  const char *method; /* requests */
  guint code;         /* responses */
  const char *comment;
  const char *to_path; /* NULL: not set */
  const char *from_path;
  const char *headers[16];  /* name, value, ..., NULL */
  const char *content_type; /* NULL: no body */
  const char *body;         /* with content_type; NULL: empty */
  gsize body_repeat;        /* > 0: body is this many 'x' */
  char flag;
  /* either the frame ... */
  const char *expected;
  /* ... or the error */
  GQuark (*domain) (void);
  gint code_err;
  const char *err;
} FrameCase;

static const FrameCase frame_cases[] = {
  { "RFC 4975 11.1 (4) SEND",
    FALSE,
    "d93kswow",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "12339sdqwer", "Byte-Range", "1-16/16", NULL },
    "text/plain",
    "Hi, I'm Alice!",
    0,
    '$',
    "MSRP d93kswow SEND\r\n"
    "To-Path: " BOB "\r\n"
    "From-Path: " ALICE "\r\n"
    "Message-ID: 12339sdqwer\r\n"
    "Byte-Range: 1-16/16\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "Hi, I'm Alice!\r\n"
    "-------d93kswow$\r\n" },
  { "RFC 4975 11.1 (5) 200 OK",
    TRUE,
    "d93kswow",
    NULL,
    200,
    "OK",
    ALICE,
    BOB,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    "MSRP d93kswow 200 OK\r\n"
    "To-Path: " ALICE "\r\n"
    "From-Path: " BOB "\r\n"
    "-------d93kswow$\r\n" },
  { "RFC 4975 11.5 system message",
    FALSE,
    "d93kswow",
    "SEND",
    0,
    NULL,
    "msrp://alicepc.example.com:8888/9di4eae923wzd;tcp",
    "msrp://example.com:7777/iau39soe2843z;tcp",
    { "Message-ID", "12339sdqwer", "Byte-Range", "1-38/38", "Failure-Report",
      "no", "Success-Report", "no", NULL },
    "text/plain",
    "This conference will end in 5 minutes",
    0,
    '$',
    "MSRP d93kswow SEND\r\n"
    "To-Path: msrp://alicepc.example.com:8888/9di4eae923wzd;tcp\r\n"
    "From-Path: msrp://example.com:7777/iau39soe2843z;tcp\r\n"
    "Message-ID: 12339sdqwer\r\n"
    "Byte-Range: 1-38/38\r\n"
    "Failure-Report: no\r\n"
    "Success-Report: no\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "This conference will end in 5 minutes\r\n"
    "-------d93kswow$\r\n" },
  { "RFC 4975 11.4 first chunk, '+'",
    FALSE,
    "d93kswow",
    "SEND",
    0,
    NULL,
    "msrp://bobpc.example.com:8888/9di4eae923wzd;tcp",
    "msrp://alicepc.example.com:7654/iau39soe2843z;tcp",
    { "Message-ID", "12339sdqwer", "Byte-Range", "1-137/148", NULL },
    "message/cpim",
    "To: Bob <sip:bob@example.com>\r\n",
    0,
    '+',
    "MSRP d93kswow SEND\r\n"
    "To-Path: msrp://bobpc.example.com:8888/9di4eae923wzd;tcp\r\n"
    "From-Path: msrp://alicepc.example.com:7654/iau39soe2843z;tcp\r\n"
    "Message-ID: 12339sdqwer\r\n"
    "Byte-Range: 1-137/148\r\n"
    "Content-Type: message/cpim\r\n"
    "\r\n"
    "To: Bob <sip:bob@example.com>\r\n"
    "\r\n"
    "-------d93kswow+\r\n" },
  { "RFC 4976 5.1 AUTH, no body",
    FALSE,
    "49fh",
    "AUTH",
    0,
    NULL,
    "msrps://alice@intra.example.com;tcp",
    "msrps://alice.example.com:9892/98cjs;tcp",
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    "MSRP 49fh AUTH\r\n"
    "To-Path: msrps://alice@intra.example.com;tcp\r\n"
    "From-Path: msrps://alice.example.com:9892/98cjs;tcp\r\n"
    "-------49fh$\r\n" },
  { "RFC 4976 5.1 401 with WWW-Authenticate",
    TRUE,
    "49fh",
    NULL,
    401,
    "Unauthorized",
    "msrps://alice.example.com:9892/98cjs;tcp",
    "msrps://alice@intra.example.com;tcp",
    { "WWW-Authenticate",
      "Digest realm=\"intra.example.com\", qop=\"auth\", "
      "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\"",
      NULL },
    NULL,
    NULL,
    0,
    '$',
    "MSRP 49fh 401 Unauthorized\r\n"
    "To-Path: msrps://alice.example.com:9892/98cjs;tcp\r\n"
    "From-Path: msrps://alice@intra.example.com;tcp\r\n"
    "WWW-Authenticate: Digest realm=\"intra.example.com\", qop=\"auth\", "
    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\"\r\n"
    "-------49fh$\r\n" },
  { "RFC 4976 5.1 200 with Use-Path (lower-case name canonicalised)",
    TRUE,
    "49fi",
    NULL,
    200,
    "OK",
    "msrps://alice.example.com:9892/98cjs;tcp",
    "msrps://alice@intra.example.com;tcp",
    { "use-path", "msrps://intra.example.com:9000/jui787s2f;tcp", NULL },
    NULL,
    NULL,
    0,
    '$',
    "MSRP 49fi 200 OK\r\n"
    "To-Path: msrps://alice.example.com:9892/98cjs;tcp\r\n"
    "From-Path: msrps://alice@intra.example.com;tcp\r\n"
    "Use-Path: msrps://intra.example.com:9000/jui787s2f;tcp\r\n"
    "-------49fi$\r\n" },
  { "RFC 7701 9 NICKNAME (extension method, extension header)",
    FALSE,
    "d93kswow",
    "NICKNAME",
    0,
    NULL,
    "msrp://chat.example.com:12763/kjhd37s2s20w2a;tcp",
    "msrp://client.atlanta.example.com:7654/jshA7weztas;tcp",
    { "Use-Nickname", "\"Alice the great\"", NULL },
    NULL,
    NULL,
    0,
    '$',
    "MSRP d93kswow NICKNAME\r\n"
    "To-Path: msrp://chat.example.com:12763/kjhd37s2s20w2a;tcp\r\n"
    "From-Path: msrp://client.atlanta.example.com:7654/jshA7weztas;tcp\r\n"
    "Use-Nickname: \"Alice the great\"\r\n"
    "-------d93kswow$\r\n" },
  { "RFC 7701 9 425 with a long comment",
    TRUE,
    "d93kswow",
    NULL,
    425,
    "Nickname reserved or already in use",
    "msrp://client.atlanta.example.com:7654/jshA7weztas;tcp",
    "msrp://chat.example.com:12763/kjhd37s2s20w2a;tcp",
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    "MSRP d93kswow 425 Nickname reserved or already in use\r\n"
    "To-Path: msrp://client.atlanta.example.com:7654/jshA7weztas;tcp\r\n"
    "From-Path: msrp://chat.example.com:12763/kjhd37s2s20w2a;tcp\r\n"
    "-------d93kswow$\r\n" },
  { "response without comment",
    TRUE,
    "abcd",
    NULL,
    200,
    NULL,
    ALICE,
    BOB,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    "MSRP abcd 200\r\n"
    "To-Path: " ALICE "\r\n"
    "From-Path: " BOB "\r\n"
    "-------abcd$\r\n" },
  { "multi-URI paths, relay first",
    FALSE,
    "tx01",
    "SEND",
    0,
    NULL,
    RELAY " " BOB,
    ALICE,
    { "Message-ID", "m001", NULL },
    NULL,
    NULL,
    0,
    '$',
    "MSRP tx01 SEND\r\n"
    "To-Path: " RELAY " " BOB "\r\n"
    "From-Path: " ALICE "\r\n"
    "Message-ID: m001\r\n"
    "-------tx01$\r\n" },
  { "MIME headers go last, before Content-Type; UTF-8 value",
    FALSE,
    "tx02",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "Content-Disposition",
      "attachment; filename=\"r\xc3\xa9sum\xc3\xa9.txt\"", "Message-ID",
      "m002", "X-Extension", "a\tb", "Content-ID", "<1@example.com>",
      "Byte-Range", "1-3/3", NULL },
    "text/plain; charset=utf-8",
    "abc",
    0,
    '$',
    "MSRP tx02 SEND\r\n"
    "To-Path: " BOB "\r\n"
    "From-Path: " ALICE "\r\n"
    "Message-ID: m002\r\n"
    "X-Extension: a\tb\r\n"
    "Byte-Range: 1-3/3\r\n"
    "Content-Disposition: attachment; "
    "filename=\"r\xc3\xa9sum\xc3\xa9.txt\"\r\n"
    "Content-ID: <1@example.com>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "abc\r\n"
    "-------tx02$\r\n" },
  { "empty body is not no body",
    FALSE,
    "tx03",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "m003", "Byte-Range", "1-0/0", NULL },
    "text/plain",
    NULL,
    0,
    '$',
    "MSRP tx03 SEND\r\n"
    "To-Path: " BOB "\r\n"
    "From-Path: " ALICE "\r\n"
    "Message-ID: m003\r\n"
    "Byte-Range: 1-0/0\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "\r\n"
    "-------tx03$\r\n" },
  { "aborted chunk '#'",
    FALSE,
    "tx04",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "m004", "Byte-Range", "1-*/100", NULL },
    "application/octet-stream",
    "partial",
    0,
    '#',
    "MSRP tx04 SEND\r\n"
    "To-Path: " BOB "\r\n"
    "From-Path: " ALICE "\r\n"
    "Message-ID: m004\r\n"
    "Byte-Range: 1-*/100\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "partial\r\n"
    "-------tx04#\r\n" },
  { "REPORT with body at the 10240 limit",
    FALSE,
    "tx05",
    "REPORT",
    0,
    NULL,
    ALICE,
    BOB,
    { "Message-ID", "m005", "Status", "000 200 OK", NULL },
    "text/plain",
    NULL,
    10240,
    '$',
    NULL /* checked by length below */ },
  { "tid with every ident-char",
    FALSE,
    "a.-+%=Z9",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "0.-+%=", NULL },
    NULL,
    NULL,
    0,
    '$',
    "MSRP a.-+%=Z9 SEND\r\n"
    "To-Path: " BOB "\r\n"
    "From-Path: " ALICE "\r\n"
    "Message-ID: 0.-+%=\r\n"
    "-------a.-+%=Z9$\r\n" },
};

#define E(dom, c, msg) NULL, dom, c, msg
static const FrameCase frame_error_cases[] = {
  { "tid too short",
    FALSE,
    "abc",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "transaction id \"abc\" is 3 characters long, not 4 to 32") },
  { "tid too long",
    FALSE,
    "a234567890123456789012345678901234",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "is 34 characters long, not 4 to 32") },
  { "short tid with CR: not quoted in the message",
    FALSE,
    "ab\r",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "transaction id is 3 characters long, not 4 to 32") },
  { "tid starts with '-'",
    FALSE,
    "-abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "transaction id starts with '-', not a letter or digit") },
  { "tid with a space",
    FALSE,
    "ab cd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "transaction id has 0x20 at offset 2, not an ident-char") },
  { "tid with CR",
    FALSE,
    "abcd\r",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "transaction id has 0x0d at offset 4") },
  { "response tid bad",
    TRUE,
    "ab/cd",
    NULL,
    200,
    "OK",
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "transaction id has '/' at offset 2") },
  { "method lower case",
    FALSE,
    "abcd",
    "Send",
    0,
    NULL,
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "method has 'e' at offset 1, not an upper-case letter A-Z") },
  { "method empty",
    FALSE,
    "abcd",
    "",
    0,
    NULL,
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "method is empty") },
  { "method with space",
    FALSE,
    "abcd",
    "SE ND",
    0,
    NULL,
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "method has 0x20 at offset 2") },
  { "code 99",
    TRUE,
    "abcd",
    NULL,
    99,
    NULL,
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "status code 99 is not a 3-digit code 100..999") },
  { "code 1000",
    TRUE,
    "abcd",
    NULL,
    1000,
    NULL,
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "status code 1000 is not") },
  { "comment with CRLF",
    TRUE,
    "abcd",
    NULL,
    200,
    "OK\r\nX-Evil: 1",
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "response comment has control character 0x0d at offset 2") },
  { "header name with space",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "X Foo", "1", NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "header name has 0x20 at offset 1, not a token character") },
  { "header name with colon",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "X:Foo", "1", NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "header name has ':' at offset 1") },
  { "header name starts with digit",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "1X", "1", NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "header name starts with '1', not a letter") },
  { "header name empty",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "", "1", NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "header name is empty") },
  { "header value with CRLF (injection)",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "X-Foo", "a\r\nTo-Path: evil", NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "header X-Foo value has control character 0x0d at offset 1") },
  { "header value with LF",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "abcd\n", NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "header Message-ID value has control character 0x0a at offset 4") },
  { "header value with DEL",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "X-Foo", "a\x7f", NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "control character 0x7f at offset 1") },
  { "header value bad UTF-8",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "X-Foo", "ab\xc3(", NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "header X-Foo value is not valid UTF-8 at offset 2") },
  { "To-Path via add_header",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "to-path", BOB, NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "To-Path is not an extra header here") },
  { "Content-Type via add_header",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "Content-Type", "text/plain", NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "Content-Type is not an extra header here") },
  { "Message-ID twice",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "m001", "MESSAGE-ID", "m002", NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_DUPLICATE,
       "Message-ID given twice; it may appear once") },
  { "MIME header without body",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "m001", "Content-ID", "<x>", NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "Content-ID given but the request has no body") },
  { "SEND without Message-ID",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_MISSING,
       "SEND has no Message-ID") },
  { "no To-Path",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    NULL,
    ALICE,
    { "Message-ID", "m001", NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_MISSING,
       "SEND has no To-Path") },
  { "response without From-Path",
    TRUE,
    "abcd",
    NULL,
    200,
    "OK",
    BOB,
    NULL,
    { NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_MISSING,
       "response has no From-Path") },
  { "REPORT without Status",
    FALSE,
    "abcd",
    "REPORT",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "m001", NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_MISSING,
       "REPORT has no Status") },
  { "REPORT without Message-ID",
    FALSE,
    "abcd",
    "REPORT",
    0,
    NULL,
    BOB,
    ALICE,
    { "Status", "000 200 OK", NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_MISSING,
       "REPORT has no Message-ID") },
  { "REPORT with Success-Report",
    FALSE,
    "abcd",
    "REPORT",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "m001", "Status", "000 200 OK", "Success-Report", "yes",
      NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "REPORT has Success-Report; REPORT requests MUST NOT include") },
  { "REPORT with Failure-Report",
    FALSE,
    "abcd",
    "REPORT",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "m001", "Status", "000 200 OK", "Failure-Report", "no",
      NULL },
    NULL,
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "REPORT has Failure-Report") },
  { "response with Content-Type",
    TRUE,
    "abcd",
    NULL,
    200,
    "OK",
    BOB,
    ALICE,
    { NULL },
    "text/plain",
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "Content-Type: a response carries no body") },
  { "Content-Type not a media-type",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "m001", NULL },
    "text",
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "Content-Type \"text\" is not a media-type") },
  { "Content-Type with CRLF",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "m001", NULL },
    "text/plain\r\nX: y",
    NULL,
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "Content-Type has control character 0x0d at offset 10") },
  { "response flag '+'",
    TRUE,
    "abcd",
    NULL,
    200,
    "OK",
    BOB,
    ALICE,
    { NULL },
    NULL,
    NULL,
    0,
    '+',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "end-line flag '+' in a response; a response always ends with '$'") },
  { "flag 'x'",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "m001", NULL },
    NULL,
    NULL,
    0,
    'x',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "end-line flag 'x' is not '$', '+' or '#'") },
  { "body contains the end-line",
    FALSE,
    "abcd",
    "SEND",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "m001", NULL },
    "text/plain",
    "see\r\n-------abcd$\r\n",
    0,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_INVALID,
       "the body contains the end-line \"-------abcd\"; choose another "
       "transaction id") },
  { "non-SEND body over 10240",
    FALSE,
    "abcd",
    "REPORT",
    0,
    NULL,
    BOB,
    ALICE,
    { "Message-ID", "m001", "Status", "000 200 OK", NULL },
    "text/plain",
    NULL,
    10241,
    '$',
    E (msrp_writer_error_quark, MSRP_WRITER_ERROR_RANGE,
       "REPORT body of 10241 bytes; non-SEND request bodies MUST NOT be "
       "larger than 10240 octets") },
};

/* A body that is not there: to_bytes() refuses it without Content-Type. */
static const char body_without_type[] = "hello";

/* Builds the frame of @c; returns NULL with @error at the first failure. */
static GBytes *
build_frame (const FrameCase *c, GBytes *body, MsrpWriter **out_writer,
             GError **error)
{
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GPtrArray) to = NULL;
  g_autoptr (GPtrArray) from = NULL;
  GBytes *frame;
  guint i;

  if (c->response)
    w = msrp_writer_new_response (c->tid, c->code, c->comment, error);
  else
    w = msrp_writer_new_request (c->tid, c->method, error);
  if (w == NULL)
    return NULL;
  if (c->to_path != NULL)
    {
      to = path (c->to_path);
      if (!msrp_writer_set_to_path (w, to, error))
        return NULL;
    }
  if (c->from_path != NULL)
    {
      from = path (c->from_path);
      if (!msrp_writer_set_from_path (w, from, error))
        return NULL;
    }
  for (i = 0; c->headers[i] != NULL; i += 2)
    if (!msrp_writer_add_header (w, c->headers[i], c->headers[i + 1], error))
      return NULL;
  if (c->content_type != NULL &&
      !msrp_writer_set_content_type (w, c->content_type, error))
    return NULL;
  frame = msrp_writer_to_bytes (w, body, c->flag, error);
  if (frame != NULL && out_writer != NULL)
    *out_writer = g_steal_pointer (&w);
  return frame;
}

/* The body of @c against a guard page (or NULL). */
static GBytes *
case_body (const FrameCase *c, GuardBuf *guard)
{
  g_autofree char *text = NULL;
  gsize len;

  memset (guard, 0, sizeof *guard);
  if (c->body_repeat > 0)
    {
      text = g_malloc (c->body_repeat);
      memset (text, 'x', c->body_repeat);
      len = c->body_repeat;
    }
  else if (c->body != NULL)
    {
      text = g_strdup (c->body);
      len = strlen (c->body);
    }
  else
    return NULL;
  guard_buf_init (guard, text, len);
  return g_bytes_new_static (guard->data, guard->len);
}

START_TEST (test_frame)
{
  const FrameCase *c = &frame_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GBytes) frame = NULL;
  g_autoptr (GBytes) head = NULL;
  g_autoptr (GBytes) end = NULL;
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GString) joined = g_string_new (NULL);
  GuardBuf guard;

  body = case_body (c, &guard);
  frame = build_frame (c, body, &w, &error);
  ck_assert_msg (frame != NULL, "%s: %s", c->name,
                 error ? error->message : "?");
  if (c->expected != NULL)
    check_bytes (frame, c->expected);
  else
    {
      /* the 10240-byte REPORT body: head, body, CRLF end-line */
      gsize len;
      const char *data = g_bytes_get_data (frame, &len);

      static const char head_text[] = "MSRP tx05 REPORT\r\n"
                                      "To-Path: " ALICE "\r\n"
                                      "From-Path: " BOB "\r\n"
                                      "Message-ID: m005\r\n"
                                      "Status: 000 200 OK\r\n"
                                      "Content-Type: text/plain\r\n"
                                      "\r\n";
      const gsize head_len = sizeof head_text - 1;
      gsize k;

      ck_assert_uint_eq (len, head_len + c->body_repeat + 16);
      ck_assert (memcmp (data, head_text, head_len) == 0);
      for (k = 0; k < c->body_repeat; k++)
        ck_assert_int_eq (data[head_len + k], 'x');
      ck_assert (memcmp (data + len - 16, "\r\n-------tx05$\r\n", 16) == 0);
    }

  /* Head + body + end-line, written apart, are the same bytes. */
  head = msrp_writer_get_head (w, &error);
  ck_assert_ptr_nonnull (head);
  end = msrp_writer_get_end_line (w, c->flag, &error);
  ck_assert_ptr_nonnull (end);
  g_string_append_len (joined, g_bytes_get_data (head, NULL),
                       (gssize) g_bytes_get_size (head));
  if (body != NULL)
    g_string_append_len (joined, g_bytes_get_data (body, NULL),
                         (gssize) g_bytes_get_size (body));
  g_string_append_len (joined, g_bytes_get_data (end, NULL),
                       (gssize) g_bytes_get_size (end));
  ck_assert_uint_eq (joined->len, g_bytes_get_size (frame));
  ck_assert (
      memcmp (joined->str, g_bytes_get_data (frame, NULL), joined->len) == 0);
  ck_assert_str_eq (msrp_writer_get_transaction_id (w), c->tid);
  ck_assert (msrp_writer_is_response (w) == c->response);
  ck_assert (msrp_writer_has_body (w) == (c->content_type != NULL));
  if (!c->response)
    ck_assert_str_eq (msrp_writer_get_method (w), c->method);
  else
    ck_assert_ptr_null (msrp_writer_get_method (w));

  g_clear_pointer (&body, g_bytes_unref);
  guard_buf_clear (&guard);
}
END_TEST

START_TEST (test_frame_error)
{
  const FrameCase *c = &frame_error_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GBytes) frame = NULL;
  GuardBuf guard;

  body = case_body (c, &guard);
  frame = build_frame (c, body, NULL, &error);
  ck_assert_msg (frame == NULL, "%s: built, expected an error", c->name);
  check_error (error, c->domain (), c->code_err, c->err);
  g_clear_pointer (&body, g_bytes_unref);
  guard_buf_clear (&guard);
}
END_TEST

/* Errors that leave the writer as it was: the head can still be written. */
START_TEST (test_frame_error_keeps_state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GPtrArray) to = path (BOB);
  g_autoptr (GPtrArray) from = path (ALICE);
  g_autoptr (GBytes) body =
      g_bytes_new_static (body_without_type, strlen (body_without_type));
  g_autoptr (GBytes) frame = NULL;
  g_autoptr (GString) out = g_string_new ("prefix");

  w = msrp_writer_new_request ("abcd", "SEND", &error);
  ck_assert_ptr_nonnull (w);
  /* head refused while incomplete; @out untouched */
  ck_assert (!msrp_writer_append_head (w, out, &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_MISSING,
               "SEND has no To-Path");
  g_clear_error (&error);
  ck_assert_str_eq (out->str, "prefix");

  ck_assert (msrp_writer_set_to_path (w, to, &error));
  ck_assert (!msrp_writer_set_to_path (w, to, &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_DUPLICATE,
               "To-Path given twice");
  g_clear_error (&error);
  ck_assert (msrp_writer_set_from_path (w, from, &error));
  ck_assert (msrp_writer_set_message_id (w, "m001", &error));
  ck_assert (!msrp_writer_add_header (w, "X-A", "bad\n", &error));
  g_clear_error (&error);

  /* a body without Content-Type */
  frame = msrp_writer_to_bytes (w, body, '$', &error);
  ck_assert_ptr_null (frame);
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "a body of 5 bytes given but no Content-Type");
  g_clear_error (&error);

  /* and the failed calls left nothing behind */
  ck_assert (msrp_writer_append_head (w, out, &error));
  ck_assert_str_eq (out->str, "prefix"
                              "MSRP abcd SEND\r\n"
                              "To-Path: " BOB "\r\n"
                              "From-Path: " ALICE "\r\n"
                              "Message-ID: m001\r\n");
  ck_assert (msrp_writer_append_end_line (w, '$', out, &error));
  ck_assert (g_str_has_suffix (out->str, "m001\r\n-------abcd$\r\n"));

  ck_assert (msrp_writer_set_content_type (w, "text/plain", &error));
  ck_assert (!msrp_writer_set_content_type (w, "text/html", &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_DUPLICATE,
               "Content-Type given twice");
}
END_TEST

/* Paths: empty, NULL element. */
START_TEST (test_path_errors)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpWriter) w = msrp_writer_new_request ("abcd", "SEND", NULL);
  g_autoptr (GPtrArray) empty = g_ptr_array_new ();
  g_autoptr (GPtrArray) with_null = path (BOB);

  ck_assert (!msrp_writer_set_to_path (w, empty, &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "To-Path: no URI given; at least one is needed");
  g_clear_error (&error);
  ck_assert (!msrp_writer_set_from_path (w, NULL, &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "From-Path: no URI given");
  g_clear_error (&error);
  g_ptr_array_add (with_null, NULL);
  ck_assert (!msrp_writer_set_from_path (w, with_null, &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "From-Path: URI 2 is NULL");
  g_ptr_array_steal_index (with_null, 1);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Typed setters
 * ------------------------------------------------------------------------- */

typedef struct
{
  MsrpByteRange range;
  const char *expected; /* header value, or NULL: error */
  const char *err;
} RangeCase;

#define R(s, e, t)                                                            \
  {                                                                           \
    s, e, t, FALSE, FALSE                                                     \
  }
#define RSTAR(s, t)                                                           \
  {                                                                           \
    s, 0, t, TRUE, FALSE                                                      \
  }
#define RSTARSTAR(s)                                                          \
  {                                                                           \
    s, 0, 0, TRUE, TRUE                                                       \
  }
#define RENDSTAR(s, e)                                                        \
  {                                                                           \
    s, e, 0, FALSE, TRUE                                                      \
  }

static const RangeCase range_cases[] = {
  { R (1, 16, 16), "1-16/16", NULL },
  { R (1, 0, 0), "1-0/0", NULL },
  { R (1, 0, 5), "1-0/5", NULL },
  { R (138, 148, 148), "138-148/148", NULL },
  { RSTAR (4, 10), "4-*/10", NULL },
  { RSTAR (1, 0), "1-*/0", NULL },
  { RSTARSTAR (1), "1-*/*", NULL },
  { RENDSTAR (5, 8), "5-8/*", NULL },
  { R (G_MAXUINT64 - 1, G_MAXUINT64, G_MAXUINT64),
    "18446744073709551614-18446744073709551615/18446744073709551615", NULL },
  { RSTARSTAR (G_MAXUINT64), "18446744073709551615-*/*", NULL },
  { R (0, 5, 10), NULL, "Byte-Range: range-start 0 is not >= 1" },
  { RSTARSTAR (0), NULL, "range-start 0 is not >= 1" },
  { R (5, 3, 10), NULL, "range-end 3 is before range-start 5" },
  { R (2, 0, 10), NULL, "range-end 0 is before range-start 2" },
  { R (1, 11, 10), NULL, "range-end 11 is beyond total 10" },
  { RSTAR (11, 10), NULL, "range-start 11 is beyond total 10" },
  { R (G_MAXUINT64, G_MAXUINT64, G_MAXUINT64 - 1), NULL,
    "range-end 18446744073709551615 is beyond total 18446744073709551614" },
};

START_TEST (test_byte_range)
{
  const RangeCase *c = &range_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GPtrArray) to = path (BOB);
  g_autoptr (GPtrArray) from = path (ALICE);
  g_autoptr (GBytes) head = NULL;
  g_autofree char *line = NULL;

  w = msrp_writer_new_request ("abcd", "SEND", &error);
  ck_assert (msrp_writer_set_to_path (w, to, &error));
  ck_assert (msrp_writer_set_from_path (w, from, &error));
  ck_assert (msrp_writer_set_message_id (w, "m001", &error));
  if (c->expected == NULL)
    {
      ck_assert (!msrp_writer_set_byte_range (w, &c->range, &error));
      check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_RANGE, c->err);
      return;
    }
  ck_assert_msg (msrp_writer_set_byte_range (w, &c->range, &error), "%s: %s",
                 c->expected, error ? error->message : "?");
  head = msrp_writer_get_head (w, &error);
  line = g_strdup_printf ("MSRP abcd SEND\r\nTo-Path: " BOB "\r\n"
                          "From-Path: " ALICE "\r\nMessage-ID: m001\r\n"
                          "Byte-Range: %s\r\n",
                          c->expected);
  check_bytes (head, line);
  /* and the header module reads it back as the same range */
  {
    MsrpByteRange back;

    ck_assert_msg (msrp_byte_range_parse (c->expected, strlen (c->expected),
                                          &back, &error),
                   "%s: %s", c->expected, error ? error->message : "?");
    ck_assert_uint_eq (back.start, c->range.start);
    ck_assert (back.end_unknown == c->range.end_unknown);
    ck_assert (back.total_unknown == c->range.total_unknown);
    if (!back.end_unknown)
      ck_assert_uint_eq (back.end, c->range.end);
    if (!back.total_unknown)
      ck_assert_uint_eq (back.total, c->range.total);
  }
}
END_TEST

typedef struct
{
  const char *what; /* "status", "success", "failure", "mid" */
  guint ns, code;
  const char *text; /* comment or message id */
  MsrpReportMode mode;
  const char *expected; /* header line, or NULL: error */
  const char *err;
} SetterCase;

static const SetterCase setter_cases[] = {
  { "status", 0, 200, "OK", 0, "Status: 000 200 OK", NULL },
  { "status", 0, 413, NULL, 0, "Status: 000 413", NULL },
  { "status", 0, 481, "", 0, "Status: 000 481 ", NULL },
  { "status", 999, 999, "x", 0, "Status: 999 999 x", NULL },
  { "status", 1000, 200, NULL, 0, NULL, "Status: namespace 1000 is not 3" },
  { "status", 0, 1000, NULL, 0, NULL, "Status: status-code 1000 is not 3" },
  { "status", 0, 200, "O\nK", 0, NULL,
    "Status comment has control character 0x0a at offset 1" },
  { "success", 0, 0, NULL, MSRP_REPORT_YES, "Success-Report: yes", NULL },
  { "success", 0, 0, NULL, MSRP_REPORT_NO, "Success-Report: no", NULL },
  { "success", 0, 0, NULL, MSRP_REPORT_PARTIAL, NULL,
    "Success-Report takes yes or no, not partial" },
  { "success", 0, 0, NULL, (MsrpReportMode) 7, NULL,
    "Success-Report takes yes or no, not an unknown mode" },
  { "failure", 0, 0, NULL, MSRP_REPORT_YES, "Failure-Report: yes", NULL },
  { "failure", 0, 0, NULL, MSRP_REPORT_NO, "Failure-Report: no", NULL },
  { "failure", 0, 0, NULL, MSRP_REPORT_PARTIAL, "Failure-Report: partial",
    NULL },
  { "failure", 0, 0, NULL, (MsrpReportMode) 7, NULL,
    "Failure-Report mode 7 is not yes, no or partial" },
  { "mid", 0, 0, "12339sdqwer", 0, "Message-ID: 12339sdqwer", NULL },
  { "mid", 0, 0, "abc", 0, NULL,
    "Message-ID \"abc\" is 3 characters long, not 4 to 32" },
  { "mid", 0, 0, ".abcd", 0, NULL,
    "Message-ID starts with '.', not a letter or digit" },
  { "mid", 0, 0, "abcd!", 0, NULL,
    "Message-ID has '!' at offset 4, not an ident-char" },
};

START_TEST (test_setter)
{
  const SetterCase *c = &setter_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpWriter) w = msrp_writer_new_request ("abcd", "EXT", NULL);
  g_autoptr (GPtrArray) to = path (BOB);
  g_autoptr (GPtrArray) from = path (ALICE);
  g_autoptr (GBytes) head = NULL;
  g_autofree char *expected = NULL;
  gboolean ok;

  ck_assert (msrp_writer_set_to_path (w, to, NULL));
  ck_assert (msrp_writer_set_from_path (w, from, NULL));
  if (strcmp (c->what, "status") == 0)
    {
      MsrpStatus st = { c->ns, c->code, (char *) c->text };

      ok = msrp_writer_set_status (w, &st, &error);
    }
  else if (strcmp (c->what, "success") == 0)
    ok = msrp_writer_set_success_report (w, c->mode, &error);
  else if (strcmp (c->what, "failure") == 0)
    ok = msrp_writer_set_failure_report (w, c->mode, &error);
  else
    ok = msrp_writer_set_message_id (w, c->text, &error);

  if (c->expected == NULL)
    {
      ck_assert (!ok);
      check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   c->err);
      return;
    }
  ck_assert_msg (ok, "%s: %s", c->expected, error ? error->message : "?");
  head = msrp_writer_get_head (w, &error);
  expected = g_strdup_printf ("MSRP abcd EXT\r\nTo-Path: " BOB "\r\n"
                              "From-Path: " ALICE "\r\n%s\r\n",
                              c->expected);
  check_bytes (head, expected);
}
END_TEST

/* The bodiless SEND that binds a connection (RFC 4975 5.4, RFC 6135 4.2.2) */
START_TEST (test_empty_send)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) to = path (BOB);
  g_autoptr (GPtrArray) from = path (ALICE);
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (MsrpWriter) w2 = NULL;
  g_autoptr (GBytes) frame = NULL;
  g_autoptr (GBytes) head = NULL;
  g_autoptr (GBytes) end = NULL;
  g_autoptr (GBytes) body = g_bytes_new_static ("x", 1);

  w = msrp_writer_new_empty_send (to, from, "bind0001", "mbind001", &error);
  ck_assert_ptr_nonnull (w);
  ck_assert (!msrp_writer_has_body (w));
  frame = msrp_writer_to_bytes (w, NULL, '$', &error);
  check_bytes (frame, "MSRP bind0001 SEND\r\n"
                      "To-Path: " BOB "\r\n"
                      "From-Path: " ALICE "\r\n"
                      "Message-ID: mbind001\r\n"
                      "Byte-Range: 1-0/0\r\n"
                      "-------bind0001$\r\n");
  /* head then end-line with no CRLF between: "No extra CRLF will be present
   * between the header section and the end-line" (section 7.1) */
  head = msrp_writer_get_head (w, &error);
  end = msrp_writer_get_end_line (w, '$', &error);
  check_bytes (end, "-------bind0001$\r\n");
  check_bytes (head, "MSRP bind0001 SEND\r\n"
                     "To-Path: " BOB "\r\n"
                     "From-Path: " ALICE "\r\n"
                     "Message-ID: mbind001\r\n"
                     "Byte-Range: 1-0/0\r\n");
  /* it has no body: a body is refused */
  g_clear_pointer (&frame, g_bytes_unref);
  frame = msrp_writer_to_bytes (w, body, '$', &error);
  ck_assert_ptr_null (frame);
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "no Content-Type");
  g_clear_error (&error);

  /* fresh ids */
  w2 = msrp_writer_new_empty_send (to, from, NULL, NULL, &error);
  ck_assert_ptr_nonnull (w2);
  ck_assert_uint_eq (strlen (msrp_writer_get_transaction_id (w2)),
                     MSRP_WRITER_ID_LEN);
  g_clear_pointer (&frame, g_bytes_unref);
  frame = msrp_writer_to_bytes (w2, NULL, '$', &error);
  ck_assert_ptr_nonnull (frame);
  ck_assert (g_strstr_len (g_bytes_get_data (frame, NULL),
                           (gssize) g_bytes_get_size (frame),
                           "\r\nByte-Range: 1-0/0\r\n-------") != NULL);
  g_clear_pointer (&w2, msrp_writer_free);

  /* and its errors */
  w2 = msrp_writer_new_empty_send (to, from, "x", NULL, &error);
  ck_assert_ptr_null (w2);
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "transaction id \"x\" is 1 characters long");
  g_clear_error (&error);
  w2 = msrp_writer_new_empty_send (to, from, NULL, "m 1", &error);
  ck_assert_ptr_null (w2);
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "Message-ID \"m 1\" is 3 characters long");
  g_clear_error (&error);
  w2 = msrp_writer_new_empty_send (NULL, from, NULL, NULL, &error);
  ck_assert_ptr_null (w2);
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "To-Path: no URI given");
}
END_TEST

/* ---------------------------------------------------------------------------
 * Ids
 * ------------------------------------------------------------------------- */

#define N_DRAWS 10000

static const char base62_chars[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

typedef struct
{
  const char *name;
  char *(*make) (GError **error);
  gboolean (*fill) (char *buf, gsize buf_size, GError **error);
} IdKind;

static const IdKind id_kinds[] = {
  { "transaction id", msrp_writer_new_transaction_id,
    msrp_writer_fill_transaction_id },
  { "message id", msrp_writer_new_message_id, msrp_writer_fill_message_id },
};

START_TEST (test_ids)
{
  const IdKind *k = &id_kinds[_i];
  g_autoptr (GHashTable) seen =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint counts[256] = {
    0,
  };
  guint pos_counts[MSRP_WRITER_ID_LEN][256];
  guint64 n_chars = 0;
  double chi2 = 0, entropy = 0, expected;
  guint i, j;

  memset (pos_counts, 0, sizeof pos_counts);
  for (i = 0; i < N_DRAWS; i++)
    {
      g_autoptr (GError) error = NULL;
      char buf[MSRP_WRITER_ID_BUF_SIZE + 4];
      char *id;

      if (i % 2 == 0)
        {
          id = k->make (&error);
          ck_assert_msg (id != NULL, "%s", error ? error->message : "?");
        }
      else
        {
          /* the buffer version, with a sentinel after the exact size */
          memset (buf, '@', sizeof buf);
          ck_assert (k->fill (buf, MSRP_WRITER_ID_BUF_SIZE, &error));
          ck_assert_int_eq (buf[MSRP_WRITER_ID_BUF_SIZE], '@');
          id = g_strdup (buf);
        }
      ck_assert_uint_eq (strlen (id), MSRP_WRITER_ID_LEN);
      ck_assert_msg (msrp_ident_is_valid (id, strlen (id)),
                     "%s \"%s\" is not an ident", k->name, id);
      for (j = 0; j < MSRP_WRITER_ID_LEN; j++)
        {
          ck_assert_msg (strchr (base62_chars, id[j]) != NULL,
                         "'%c' is not base62", id[j]);
          counts[(guchar) id[j]]++;
          pos_counts[j][(guchar) id[j]]++;
          n_chars++;
        }
      ck_assert_msg (!g_hash_table_contains (seen, id),
                     "%s \"%s\" drawn twice", k->name, id);
      g_hash_table_add (seen, id);
    }
  ck_assert_uint_eq (g_hash_table_size (seen), N_DRAWS);

  /* Rough uniformity: chi-square over the 62 characters (61 degrees of
   * freedom, mean 61, sd 11; 200 is beyond any honest draw, while a
   * modulo-bias of 256 % 62 or a missing character lands far above). */
  expected = (double) n_chars / 62;
  for (j = 0; j < 62; j++)
    {
      double d = counts[(guchar) base62_chars[j]] - expected;
      double p = counts[(guchar) base62_chars[j]] / (double) n_chars;

      chi2 += d * d / expected;
      ck_assert_msg (counts[(guchar) base62_chars[j]] > 0, "'%c' never drawn",
                     base62_chars[j]);
      entropy -= p * log2 (p);
    }
  ck_assert_msg (chi2 < 200, "chi-square %.1f over 61 dof", chi2);
  /* log2 (62) = 5.954 bits a character; 16 of them carry >= 95 bits */
  ck_assert_msg (entropy > 5.94, "entropy %.4f bits a character", entropy);
  ck_assert_msg (entropy * MSRP_WRITER_ID_LEN >= 80, "%.1f bits an id",
                 entropy * MSRP_WRITER_ID_LEN);
  /* every position is random too, not only the whole (first char, say) */
  for (i = 0; i < MSRP_WRITER_ID_LEN; i++)
    {
      double pchi = 0, pexp = N_DRAWS / 62.0;

      for (j = 0; j < 62; j++)
        {
          double d = pos_counts[i][(guchar) base62_chars[j]] - pexp;

          pchi += d * d / pexp;
        }
      ck_assert_msg (pchi < 200, "position %u: chi-square %.1f", i, pchi);
    }
}
END_TEST

/* ---------------------------------------------------------------------------
 * Chunker
 * ------------------------------------------------------------------------- */

typedef enum
{
  OP_END_OF_SCRIPT = 0,
  OP_BEGIN, /* a = available, b = input_ends */
  OP_END,
  OP_INTERRUPT, /* a = written */
  OP_ABORT,     /* a = written */
} ChunkOp;

typedef struct
{
  ChunkOp op;
  guint64 a;
  gboolean b;
  /* expected: */
  const char *range; /* OP_BEGIN: the Byte-Range value */
  guint64 body_len;  /* OP_BEGIN */
  char flag;         /* OP_END/INTERRUPT/ABORT: flag, 0: no end-line */
  guint64 sent;      /* get_sent () after the step */
  gboolean done;     /* is_done () after the step */
  gint err_code;     /* -1: no error */
  const char *err;
} ChunkStep;

typedef struct
{
  const char *name;
  gboolean total_known;
  guint64 total;
  guint64 chunk_size;
  gboolean interruptible;
  ChunkStep steps[12];
} ChunkCase;

#define ALL G_MAXUINT64
#define BEGIN(avail, ends, range, len, sent)                                  \
  {                                                                           \
    OP_BEGIN, avail, ends, range, len, 0, sent, FALSE, -1, NULL               \
  }
#define END(flag, sent, done)                                                 \
  {                                                                           \
    OP_END, 0, FALSE, NULL, 0, flag, sent, done, -1, NULL                     \
  }
#define INTERRUPT(w, flag, sent, done)                                        \
  {                                                                           \
    OP_INTERRUPT, w, FALSE, NULL, 0, flag, sent, done, -1, NULL               \
  }
#define ABORT(w, flag, sent)                                                  \
  {                                                                           \
    OP_ABORT, w, FALSE, NULL, 0, flag, sent, TRUE, -1, NULL                   \
  }
#define FAIL(op, a, b, sent, done, code, msg)                                 \
  {                                                                           \
    op, a, b, NULL, 0, 0, sent, done, code, msg                               \
  }

static const ChunkCase chunk_cases[] = {
  { "10 bytes in 3-byte chunks",
    TRUE,
    10,
    3,
    FALSE,
    {
        BEGIN (ALL, FALSE, "1-3/10", 3, 0),
        END ('+', 3, FALSE),
        BEGIN (ALL, FALSE, "4-6/10", 3, 3),
        END ('+', 6, FALSE),
        BEGIN (ALL, FALSE, "7-9/10", 3, 6),
        END ('+', 9, FALSE),
        BEGIN (ALL, TRUE, "10-10/10", 1, 9),
        END ('$', 10, TRUE),
        FAIL (OP_BEGIN, ALL, FALSE, 10, TRUE, MSRP_WRITER_ERROR_STATE,
              "chunk begun after the message was complete"),
        FAIL (OP_ABORT, 0, FALSE, 10, TRUE, MSRP_WRITER_ERROR_STATE,
              "message aborted after it was complete"),
    } },
  { "one chunk holds it all",
    TRUE,
    16,
    2048,
    FALSE,
    {
        BEGIN (ALL, FALSE, "1-16/16", 16, 0),
        END ('$', 16, TRUE),
    } },
  { "zero-length message: 1-0/0",
    TRUE,
    0,
    3,
    FALSE,
    {
        BEGIN (ALL, FALSE, "1-0/0", 0, 0),
        END ('$', 0, TRUE),
    } },
  { "zero-length, interruptible",
    TRUE,
    0,
    3,
    TRUE,
    {
        BEGIN (0, TRUE, "1-*/0", 0, 0),
        END ('$', 0, TRUE),
    } },
  { "unknown total, end known in advance",
    FALSE,
    0,
    4,
    FALSE,
    {
        BEGIN (10, FALSE, "1-4/*", 4, 0),
        END ('+', 4, FALSE),
        BEGIN (6, FALSE, "5-8/*", 4, 4),
        END ('+', 8, FALSE),
        BEGIN (2, TRUE, "9-10/*", 2, 8),
        END ('$', 10, TRUE),
    } },
  { "unknown total, more available than a chunk at the end",
    FALSE,
    0,
    4,
    FALSE,
    {
        BEGIN (6, TRUE, "1-4/*", 4, 0),
        END ('+', 4, FALSE),
        BEGIN (2, TRUE, "5-6/*", 2, 4),
        END ('$', 6, TRUE),
    } },
  { "unknown total, end found after a '+' chunk: empty last chunk",
    FALSE,
    0,
    4,
    FALSE,
    {
        BEGIN (4, FALSE, "1-4/*", 4, 0),
        END ('+', 4, FALSE),
        BEGIN (0, TRUE, "5-*/*", 0, 4),
        END ('$', 4, TRUE),
    } },
  { "unknown total, empty message",
    FALSE,
    0,
    4,
    FALSE,
    {
        BEGIN (0, TRUE, "1-0/*", 0, 0),
        END ('$', 0, TRUE),
    } },
  { "unknown total, nothing available",
    FALSE,
    0,
    4,
    FALSE,
    {
        FAIL (OP_BEGIN, 0, FALSE, 0, FALSE, MSRP_WRITER_ERROR_RANGE,
              "no bytes available for the next chunk and the input does not "
              "end"),
        BEGIN (1, FALSE, "1-1/*", 1, 0),
        END ('+', 1, FALSE),
    } },
  { "interrupt and resume",
    TRUE,
    10,
    4,
    TRUE,
    {
        BEGIN (ALL, FALSE, "1-*/10", 4, 0),
        INTERRUPT (2, '+', 2, FALSE),
        BEGIN (ALL, FALSE, "3-*/10", 4, 2),
        END ('+', 6, FALSE),
        BEGIN (ALL, FALSE, "7-*/10", 4, 6),
        INTERRUPT (0, '+', 6, FALSE),
        BEGIN (ALL, FALSE, "7-*/10", 4, 6),
        INTERRUPT (4, '$', 10, TRUE),
    } },
  { "interrupting a chunk with a numeric range-end is refused",
    TRUE,
    10,
    4,
    FALSE,
    {
        BEGIN (ALL, FALSE, "1-4/10", 4, 0),
        FAIL (
            OP_INTERRUPT, 2, FALSE, 0, FALSE, MSRP_WRITER_ERROR_STATE,
            "announced range-end 4; only a chunk with range-end \"*\" may be "
            "interrupted"),
        FAIL (OP_INTERRUPT, 5, FALSE, 0, FALSE, MSRP_WRITER_ERROR_RANGE,
              "interrupted after 5 bytes but it holds only 4"),
        INTERRUPT (4, '+', 4, FALSE),
        BEGIN (ALL, FALSE, "5-8/10", 4, 4),
        END ('+', 8, FALSE),
    } },
  { "chunks over 2048 bytes get range-end *",
    TRUE,
    5000,
    4096,
    FALSE,
    {
        BEGIN (ALL, FALSE, "1-*/5000", 4096, 0),
        END ('+', 4096, FALSE),
        BEGIN (ALL, FALSE, "4097-5000/5000", 904, 4096),
        END ('$', 5000, TRUE),
    } },
  { "exactly 2048 keeps a numeric end",
    TRUE,
    2049,
    2048,
    FALSE,
    {
        BEGIN (ALL, FALSE, "1-2048/2049", 2048, 0),
        END ('+', 2048, FALSE),
        BEGIN (ALL, FALSE, "2049-2049/2049", 1, 2048),
        END ('$', 2049, TRUE),
    } },
  { "total G_MAXUINT64 in two halves",
    TRUE,
    G_MAXUINT64,
    G_GUINT64_CONSTANT (9223372036854775808),
    FALSE,
    {
        BEGIN (ALL, FALSE, "1-*/18446744073709551615",
               G_GUINT64_CONSTANT (9223372036854775808), 0),
        END ('+', G_GUINT64_CONSTANT (9223372036854775808), FALSE),
        BEGIN (ALL, FALSE, "9223372036854775809-*/18446744073709551615",
               G_GUINT64_CONSTANT (9223372036854775807),
               G_GUINT64_CONSTANT (9223372036854775808)),
        END ('$', G_MAXUINT64, TRUE),
    } },
  { "last byte at G_MAXUINT64, small chunk",
    TRUE,
    G_MAXUINT64,
    2,
    FALSE,
    {
        BEGIN (ALL, FALSE, "1-2/18446744073709551615", 2, 0),
        INTERRUPT (2, '+', 2, FALSE),
    } },
  { "unknown total up to G_MAXUINT64 and no further",
    FALSE,
    0,
    G_MAXUINT64,
    FALSE,
    {
        BEGIN (ALL, FALSE, "1-*/*", G_MAXUINT64, 0),
        END ('+', G_MAXUINT64, FALSE),
        FAIL (OP_BEGIN, 1, FALSE, G_MAXUINT64, FALSE, MSRP_WRITER_ERROR_RANGE,
              "a chunk of 1 bytes after 18446744073709551615 sent would pass "
              "byte position 18446744073709551615"),
        FAIL (OP_BEGIN, 0, TRUE, G_MAXUINT64, FALSE, MSRP_WRITER_ERROR_RANGE,
              "would pass byte position"),
        ABORT (0, 0, G_MAXUINT64),
    } },
  { "abort in a chunk",
    TRUE,
    10,
    4,
    FALSE,
    {
        BEGIN (ALL, FALSE, "1-4/10", 4, 0),
        FAIL (OP_ABORT, 5, FALSE, 0, FALSE, MSRP_WRITER_ERROR_RANGE,
              "aborted after 5 bytes but it holds only 4"),
        ABORT (2, '#', 2),
        FAIL (OP_BEGIN, ALL, FALSE, 2, TRUE, MSRP_WRITER_ERROR_STATE,
              "chunk begun after the message was aborted"),
        FAIL (OP_END, 0, FALSE, 2, TRUE, MSRP_WRITER_ERROR_STATE,
              "chunk ended: no chunk is open (the message is complete)"),
        FAIL (OP_ABORT, 0, FALSE, 2, TRUE, MSRP_WRITER_ERROR_STATE,
              "message aborted after it was aborted already"),
    } },
  { "abort between chunks: nothing to send",
    TRUE,
    10,
    4,
    FALSE,
    {
        BEGIN (ALL, FALSE, "1-4/10", 4, 0),
        END ('+', 4, FALSE),
        ABORT (0, 0, 4),
    } },
  { "caller has fewer bytes than a chunk",
    TRUE,
    10,
    8,
    FALSE,
    {
        BEGIN (5, FALSE, "1-5/10", 5, 0),
        END ('+', 5, FALSE),
        FAIL (OP_BEGIN, 0, FALSE, 5, FALSE, MSRP_WRITER_ERROR_RANGE,
              "no bytes available for the next chunk; 5 of the total 10 are "
              "left"),
        BEGIN (ALL, FALSE, "6-10/10", 5, 5),
        END ('$', 10, TRUE),
    } },
  { "input shorter than the total",
    TRUE,
    10,
    8,
    FALSE,
    {
        FAIL (OP_BEGIN, 5, TRUE, 0, FALSE, MSRP_WRITER_ERROR_RANGE,
              "input ends after 5 more bytes but 10 of the total 10 are left"),
    } },
  { "calls out of order",
    TRUE,
    10,
    8,
    FALSE,
    {
        FAIL (OP_END, 0, FALSE, 0, FALSE, MSRP_WRITER_ERROR_STATE,
              "chunk ended: no chunk is open"),
        FAIL (OP_INTERRUPT, 0, FALSE, 0, FALSE, MSRP_WRITER_ERROR_STATE,
              "chunk interrupted: no chunk is open"),
        BEGIN (ALL, FALSE, "1-8/10", 8, 0),
        FAIL (OP_BEGIN, ALL, FALSE, 0, FALSE, MSRP_WRITER_ERROR_STATE,
              "is still open; end it first"),
        END ('+', 8, FALSE),
    } },
};

#define CT "text/plain"

static char *
expected_head (const char *tid, const char *mid, const char *range)
{
  return g_strdup_printf ("MSRP %s SEND\r\n"
                          "To-Path: " BOB "\r\n"
                          "From-Path: " ALICE "\r\n"
                          "Message-ID: %s\r\n"
                          "Byte-Range: %s\r\n"
                          "Content-Type: " CT "\r\n"
                          "\r\n",
                          tid, mid, range);
}

START_TEST (test_chunker)
{
  const ChunkCase *c = &chunk_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) to = path (BOB);
  g_autoptr (GPtrArray) from = path (ALICE);
  g_autoptr (MsrpWriterChunker) ch = NULL;
  g_autoptr (GHashTable) tids =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  char tid[MSRP_IDENT_MAX_LEN + 1] = "";
  guint i;

  ch =
      msrp_writer_chunker_new ("msg0001", to, from, CT, c->chunk_size, &error);
  ck_assert_msg (ch != NULL, "%s", error ? error->message : "?");
  if (c->total_known)
    ck_assert (msrp_writer_chunker_set_total (ch, c->total, &error));
  ck_assert (
      msrp_writer_chunker_set_interruptible (ch, c->interruptible, &error));
  ck_assert_str_eq (msrp_writer_chunker_get_message_id (ch), "msg0001");

  for (i = 0; c->steps[i].op != OP_END_OF_SCRIPT; i++)
    {
      const ChunkStep *s = &c->steps[i];
      g_autoptr (GBytes) out = NULL;
      guint64 body_len = 12345;
      gboolean ok = TRUE;

      switch (s->op)
        {
        case OP_BEGIN:
          out = msrp_writer_chunker_begin_chunk (ch, s->a, s->b, &body_len,
                                                 &error);
          ok = out != NULL;
          break;
        case OP_END:
          out = msrp_writer_chunker_end_chunk (ch, &error);
          ok = out != NULL;
          break;
        case OP_INTERRUPT:
          out = msrp_writer_chunker_interrupt (ch, s->a, &error);
          ok = out != NULL;
          break;
        case OP_ABORT:
          ok = msrp_writer_chunker_abort (ch, s->a, &out, &error);
          break;
        case OP_END_OF_SCRIPT:
        default:
          g_assert_not_reached ();
        }

      if (s->err_code >= 0)
        {
          ck_assert_msg (!ok, "%s, step %u: no error", c->name, i);
          ck_assert_ptr_null (out);
          check_error (error, MSRP_WRITER_ERROR, s->err_code, s->err);
          g_clear_error (&error);
        }
      else
        {
          ck_assert_msg (ok, "%s, step %u: %s", c->name, i,
                         error ? error->message : "?");
          if (s->op == OP_BEGIN)
            {
              g_autofree char *exp = NULL;
              const char *t = msrp_writer_chunker_get_transaction_id (ch);

              ck_assert_ptr_nonnull (t);
              ck_assert_uint_eq (strlen (t), MSRP_WRITER_ID_LEN);
              /* a fresh tid for every chunk */
              ck_assert_msg (!g_hash_table_contains (tids, t), "tid %s reused",
                             t);
              g_hash_table_add (tids, g_strdup (t));
              g_strlcpy (tid, t, sizeof tid);
              exp = expected_head (tid, "msg0001", s->range);
              check_bytes (out, exp);
              ck_assert_uint_eq (body_len, s->body_len);
            }
          else if (s->flag != 0)
            {
              g_autofree char *exp =
                  g_strdup_printf ("\r\n-------%s%c\r\n", tid, s->flag);

              check_bytes (out, exp);
              ck_assert_ptr_null (msrp_writer_chunker_get_transaction_id (ch));
            }
          else
            ck_assert_ptr_null (out);
        }
      ck_assert_msg (msrp_writer_chunker_get_sent (ch) == s->sent,
                     "%s, step %u: sent %" G_GUINT64_FORMAT
                     ", expected %" G_GUINT64_FORMAT,
                     c->name, i, msrp_writer_chunker_get_sent (ch), s->sent);
      ck_assert_msg (msrp_writer_chunker_is_done (ch) == s->done,
                     "%s, step %u: done %d", c->name, i,
                     msrp_writer_chunker_is_done (ch));
    }
}
END_TEST

/* RFC 4975 section 11.4: two chunks of a 148-byte message/cpim, with the
 * report headers of section 11.6 and an extra and a MIME header. */
START_TEST (test_chunker_rfc_4975_11_4)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) to =
      path ("msrp://bobpc.example.com:8888/9di4eae923wzd;tcp");
  g_autoptr (GPtrArray) from =
      path ("msrp://alicepc.example.com:7654/iau39soe2843z;tcp");
  g_autoptr (MsrpWriterChunker) ch = NULL;
  g_autoptr (GBytes) head1 = NULL;
  g_autoptr (GBytes) end1 = NULL;
  g_autoptr (GBytes) head2 = NULL;
  g_autoptr (GBytes) end2 = NULL;
  g_autofree char *exp1 = NULL;
  g_autofree char *exp2 = NULL;
  char tid1[MSRP_IDENT_MAX_LEN + 1];
  guint64 len = 0;

  ch = msrp_writer_chunker_new ("12339sdqwer", to, from, "message/cpim", 137,
                                &error);
  ck_assert_ptr_nonnull (ch);
  ck_assert (msrp_writer_chunker_set_total (ch, 148, &error));
  ck_assert (msrp_writer_chunker_set_reports (ch, MSRP_REPORT_YES,
                                              MSRP_REPORT_NO, &error));
  ck_assert (msrp_writer_chunker_add_header (ch, "Content-Disposition",
                                             "inline", &error));
  ck_assert (msrp_writer_chunker_add_header (ch, "X-Trace", "1", &error));

  head1 = msrp_writer_chunker_begin_chunk (ch, ALL, FALSE, &len, &error);
  ck_assert_ptr_nonnull (head1);
  ck_assert_uint_eq (len, 137);
  g_strlcpy (tid1, msrp_writer_chunker_get_transaction_id (ch), sizeof tid1);
  exp1 = g_strdup_printf (
      "MSRP %s SEND\r\n"
      "To-Path: msrp://bobpc.example.com:8888/9di4eae923wzd;tcp\r\n"
      "From-Path: msrp://alicepc.example.com:7654/iau39soe2843z;tcp\r\n"
      "Message-ID: 12339sdqwer\r\n"
      "Byte-Range: 1-137/148\r\n"
      "Success-Report: yes\r\n"
      "Failure-Report: no\r\n"
      "X-Trace: 1\r\n"
      "Content-Disposition: inline\r\n"
      "Content-Type: message/cpim\r\n"
      "\r\n",
      tid1);
  check_bytes (head1, exp1);
  end1 = msrp_writer_chunker_end_chunk (ch, &error);
  ck_assert_ptr_nonnull (end1);

  head2 = msrp_writer_chunker_begin_chunk (ch, ALL, TRUE, &len, &error);
  ck_assert_ptr_nonnull (head2);
  ck_assert_uint_eq (len, 11);
  ck_assert_str_ne (tid1, msrp_writer_chunker_get_transaction_id (ch));
  exp2 = g_strdup_printf (
      "MSRP %s SEND\r\n"
      "To-Path: msrp://bobpc.example.com:8888/9di4eae923wzd;tcp\r\n"
      "From-Path: msrp://alicepc.example.com:7654/iau39soe2843z;tcp\r\n"
      "Message-ID: 12339sdqwer\r\n"
      "Byte-Range: 138-148/148\r\n"
      "Success-Report: yes\r\n"
      "Failure-Report: no\r\n"
      "X-Trace: 1\r\n"
      "Content-Disposition: inline\r\n"
      "Content-Type: message/cpim\r\n"
      "\r\n",
      msrp_writer_chunker_get_transaction_id (ch));
  check_bytes (head2, exp2);
  end2 = msrp_writer_chunker_end_chunk (ch, &error);
  ck_assert_ptr_nonnull (end2);
  ck_assert (msrp_writer_chunker_is_done (ch));
  ck_assert (!msrp_writer_chunker_is_aborted (ch));
}
END_TEST

/* A fresh Message-ID when none is given; setters refused after the start. */
START_TEST (test_chunker_setup)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) to = path (BOB);
  g_autoptr (GPtrArray) from = path (ALICE);
  g_autoptr (GPtrArray) empty = g_ptr_array_new ();
  g_autoptr (MsrpWriterChunker) ch = NULL;
  g_autoptr (MsrpWriterChunker) bad = NULL;
  g_autoptr (GBytes) head = NULL;
  guint64 len;
  const char *mid;

  ch = msrp_writer_chunker_new (NULL, to, from, CT, 10, &error);
  ck_assert_ptr_nonnull (ch);
  mid = msrp_writer_chunker_get_message_id (ch);
  ck_assert_uint_eq (strlen (mid), MSRP_WRITER_ID_LEN);
  ck_assert (msrp_ident_is_valid (mid, strlen (mid)));

  /* refused extra headers */
  ck_assert (
      !msrp_writer_chunker_add_header (ch, "Byte-Range", "1-2/3", &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "Byte-Range is not an extra header here");
  g_clear_error (&error);
  ck_assert (
      !msrp_writer_chunker_add_header (ch, "Status", "000 200 OK", &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "Status is not an extra header here");
  g_clear_error (&error);
  ck_assert (!msrp_writer_chunker_add_header (ch, "X-A", "1\r\n", &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "header X-A value has control character 0x0d at offset 1");
  g_clear_error (&error);
  ck_assert (msrp_writer_chunker_add_header (ch, "Content-ID", "<a>", &error));
  ck_assert (
      !msrp_writer_chunker_add_header (ch, "content-id", "<b>", &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_DUPLICATE,
               "Content-ID given twice");
  g_clear_error (&error);
  ck_assert (!msrp_writer_chunker_set_reports (ch, MSRP_REPORT_PARTIAL,
                                               MSRP_REPORT_YES, &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "Success-Report takes yes or no, not partial");
  g_clear_error (&error);
  ck_assert (!msrp_writer_chunker_set_reports (ch, MSRP_REPORT_NO,
                                               (MsrpReportMode) 9, &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "Failure-Report mode 9 is not yes, no or partial");
  g_clear_error (&error);

  /* unknown total by default */
  head = msrp_writer_chunker_begin_chunk (ch, 3, FALSE, &len, &error);
  ck_assert_ptr_nonnull (head);
  ck_assert (g_strstr_len (g_bytes_get_data (head, NULL),
                           (gssize) g_bytes_get_size (head),
                           "\r\nByte-Range: 1-3/*\r\nContent-ID: <a>\r\n"
                           "Content-Type: text/plain\r\n\r\n") != NULL);

  /* everything is fixed once the first chunk is out */
  ck_assert (!msrp_writer_chunker_set_total (ch, 5, &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_STATE,
               "total set after the first chunk");
  g_clear_error (&error);
  ck_assert (!msrp_writer_chunker_set_reports (ch, MSRP_REPORT_YES,
                                               MSRP_REPORT_YES, &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_STATE,
               "report modes set after the first chunk");
  g_clear_error (&error);
  ck_assert (!msrp_writer_chunker_set_interruptible (ch, TRUE, &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_STATE,
               "interruptible set after the first chunk");
  g_clear_error (&error);
  ck_assert (!msrp_writer_chunker_add_header (ch, "X-B", "1", &error));
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_STATE,
               "header added after the first chunk");
  g_clear_error (&error);

  /* constructor errors */
  bad = msrp_writer_chunker_new ("m!", to, from, CT, 10, &error);
  ck_assert_ptr_null (bad);
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "Message-ID \"m!\" is 2 characters long");
  g_clear_error (&error);
  bad = msrp_writer_chunker_new ("m001", to, from, CT, 0, &error);
  ck_assert_ptr_null (bad);
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_RANGE,
               "chunk size 0; a chunk must be able to hold at least 1 byte");
  g_clear_error (&error);
  bad = msrp_writer_chunker_new ("m001", to, from, "plain", 10, &error);
  ck_assert_ptr_null (bad);
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "Content-Type \"plain\" is not a media-type");
  g_clear_error (&error);
  bad = msrp_writer_chunker_new ("m001", empty, from, CT, 10, &error);
  ck_assert_ptr_null (bad);
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "To-Path: no URI given");
  g_clear_error (&error);
  bad = msrp_writer_chunker_new ("m001", to, empty, CT, 10, &error);
  ck_assert_ptr_null (bad);
  check_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "From-Path: no URI given");
}
END_TEST

/* ---------------------------------------------------------------------------
 * Round trip through the frame parser (msrp-parser.h)
 * ------------------------------------------------------------------------- */

typedef struct
{
  GString *log; /* one line per event */
  GString *body;
  MsrpParser *parser;
  GError *error;
} ParseCtx;

static int
parse_piece (const unsigned char *piece, size_t len, void *user_data)
{
  ParseCtx *ctx = user_data;

  while (TRUE)
    {
      MsrpParserEvent ev;
      gsize used = 0;
      MsrpParseStatus st =
          msrp_parser_feed (ctx->parser, piece, len, &used, &ev, &ctx->error);

      ck_assert_uint_le (used, len);
      piece += used;
      len -= used;
      if (st == MSRP_PARSE_NEED_MORE)
        return 0;
      if (st == MSRP_PARSE_ERROR)
        return 1;
      switch (ev.type)
        {
        case MSRP_PARSER_EVENT_REQUEST:
          g_string_append_printf (
              ctx->log, "REQUEST %.*s %.*s\n", (int) ev.transaction_id_len,
              ev.transaction_id, (int) ev.method_len, ev.method);
          break;
        case MSRP_PARSER_EVENT_RESPONSE:
          g_string_append_printf (
              ctx->log, "RESPONSE %.*s %03u %.*s\n",
              (int) ev.transaction_id_len, ev.transaction_id, ev.status_code,
              (int) ev.comment_len, ev.comment ? ev.comment : "");
          break;
        case MSRP_PARSER_EVENT_HEADER:
          g_string_append_printf (ctx->log, "HEADER %.*s=%.*s\n",
                                  (int) ev.name_len, ev.name,
                                  (int) ev.value_len, ev.value);
          break;
        case MSRP_PARSER_EVENT_HEADERS_END:
          g_string_append_printf (ctx->log, "HEADERS_END body=%d\n",
                                  ev.has_body);
          break;
        case MSRP_PARSER_EVENT_BODY:
          g_string_append_len (ctx->body, (const char *) ev.data,
                               (gssize) ev.data_len);
          break;
        case MSRP_PARSER_EVENT_END:
          g_string_append_printf (
              ctx->log, "END %.*s %c %" G_GUINT64_FORMAT "\n",
              (int) ev.transaction_id_len, ev.transaction_id, ev.continuation,
              ev.body_len);
          break;
        default:
          ck_abort_msg ("unknown event %d", ev.type);
        }
    }
}

/* Parse @frame whole, byte by byte and split at every position (or, when
 * @split_at is not G_MAXSIZE, at that one position only); all must give the
 * same events, which are returned. */
static void
parse_ways (GBytes *frame, GString *log, GString *body, gsize split_at)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (frame, &len);
  gsize at;
  int mode;

  for (mode = 0; mode < 3; mode++)
    for (at = (mode == 2 && split_at != G_MAXSIZE) ? MIN (split_at, len) : 0;
         at <=
         (mode == 2 ? (split_at != G_MAXSIZE ? MIN (split_at, len) : len) : 0);
         at++)
      {
        ParseCtx ctx = { g_string_new (NULL), g_string_new (NULL),
                         msrp_parser_new (), NULL };
        int rc;

        rc = guard_feed (data, len,
                         mode == 0   ? SPLIT_WHOLE
                         : mode == 1 ? SPLIT_BYTEWISE
                                     : SPLIT_AT,
                         at, parse_piece, &ctx);
        ck_assert_msg (rc == 0, "parser: %s\nframe:\n%.*s",
                       ctx.error ? ctx.error->message : "?",
                       (int) MIN (len, 1500), (const char *) data);
        ck_assert (msrp_parser_is_idle (ctx.parser));
        if (log->len == 0 && body->len == 0)
          {
            g_string_assign (log, ctx.log->str);
            g_string_append_len (body, ctx.body->str, (gssize) ctx.body->len);
          }
        else
          {
            ck_assert_str_eq (ctx.log->str, log->str);
            ck_assert_uint_eq (ctx.body->len, body->len);
            ck_assert (memcmp (ctx.body->str, body->str, body->len) == 0);
          }
        g_string_free (ctx.log, TRUE);
        g_string_free (ctx.body, TRUE);
        msrp_parser_free (ctx.parser);
        g_clear_error (&ctx.error);
      }
}

static void
parse_all_ways (GBytes *frame, GString *log, GString *body)
{
  parse_ways (frame, log, body, G_MAXSIZE);
}

/* Every frame case, parsed back: the parser sees the same start line,
 * headers (To-Path, From-Path first), body and end-line. */
START_TEST (test_round_trip_frames)
{
  const FrameCase *c = &frame_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GBytes) frame = NULL;
  g_autoptr (GString) log = g_string_new (NULL);
  g_autoptr (GString) got_body = g_string_new (NULL);
  g_autoptr (GString) want = g_string_new (NULL);
  g_autoptr (GPtrArray) to = NULL;
  g_autoptr (GPtrArray) from = NULL;
  g_autofree char *to_text = NULL;
  g_autofree char *from_text = NULL;
  GuardBuf guard;
  gsize body_len;
  guint i;

  body = case_body (c, &guard);
  body_len = body ? g_bytes_get_size (body) : 0;
  frame = build_frame (c, body, NULL, &error);
  ck_assert_ptr_nonnull (frame);
  parse_all_ways (frame, log, got_body);

  if (c->response)
    g_string_append_printf (want, "RESPONSE %s %03u %s\n", c->tid, c->code,
                            c->comment ? c->comment : "");
  else
    g_string_append_printf (want, "REQUEST %s %s\n", c->tid, c->method);
  to = path (c->to_path);
  from = path (c->from_path);
  to_text = msrp_uri_list_to_string (to);
  from_text = msrp_uri_list_to_string (from);
  g_string_append_printf (want, "HEADER To-Path=%s\nHEADER From-Path=%s\n",
                          to_text, from_text);
  /* plain headers in order, then MIME ones, then Content-Type */
  for (i = 0; c->headers[i] != NULL; i += 2)
    if (g_ascii_strncasecmp (c->headers[i], "Content-", 8) != 0)
      {
        MsrpHeaderId id =
            msrp_header_id_from_name (c->headers[i], strlen (c->headers[i]));

        g_string_append_printf (want, "HEADER %s=%s\n",
                                id != MSRP_HEADER_OTHER
                                    ? msrp_header_id_to_name (id)
                                    : c->headers[i],
                                c->headers[i + 1]);
      }
  for (i = 0; c->headers[i] != NULL; i += 2)
    if (g_ascii_strncasecmp (c->headers[i], "Content-", 8) == 0)
      g_string_append_printf (want, "HEADER %s=%s\n", c->headers[i],
                              c->headers[i + 1]);
  if (c->content_type != NULL)
    g_string_append_printf (want, "HEADER Content-Type=%s\n", c->content_type);
  g_string_append_printf (want, "HEADERS_END body=%d\n",
                          c->content_type != NULL);
  g_string_append_printf (want, "END %s %c %" G_GSIZE_FORMAT "\n", c->tid,
                          c->flag, body_len);
  ck_assert_str_eq (log->str, want->str);
  ck_assert_uint_eq (got_body->len, body_len);
  if (body_len > 0)
    ck_assert (
        memcmp (got_body->str, g_bytes_get_data (body, NULL), body_len) == 0);
  g_clear_pointer (&body, g_bytes_unref);
  guard_buf_clear (&guard);
}
END_TEST

/* A chunked message written by the chunker, with a body whose bytes look
 * like end-lines, parsed back: Byte-Ranges and flags as written, and the
 * bodies put together give the message. */
START_TEST (test_round_trip_chunks)
{
  static const char message[] =
      "-------\r\n-------x$\r\n\r\n--------+ tail of the message";
  const guint64 total = sizeof message - 1;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) to = path (RELAY " " BOB);
  g_autoptr (GPtrArray) from = path (ALICE);
  g_autoptr (MsrpWriterChunker) ch = NULL;
  g_autoptr (GString) stream = g_string_new (NULL);
  g_autoptr (GString) log = g_string_new (NULL);
  g_autoptr (GString) got = g_string_new (NULL);
  g_autoptr (GBytes) frame = NULL;
  guint n_chunks = 0;
  gboolean interrupted = FALSE;

  ch = msrp_writer_chunker_new (NULL, to, from, "application/octet-stream", 7,
                                &error);
  ck_assert_ptr_nonnull (ch);
  ck_assert (msrp_writer_chunker_set_total (ch, total, &error));
  ck_assert (msrp_writer_chunker_set_interruptible (ch, TRUE, &error));
  while (!msrp_writer_chunker_is_done (ch))
    {
      g_autoptr (GBytes) head = NULL;
      g_autoptr (GBytes) end = NULL;
      guint64 len, off = msrp_writer_chunker_get_sent (ch);

      head = msrp_writer_chunker_begin_chunk (ch, ALL, FALSE, &len, &error);
      ck_assert_ptr_nonnull (head);
      g_string_append_len (stream, g_bytes_get_data (head, NULL),
                           (gssize) g_bytes_get_size (head));
      if (n_chunks == 1)
        {
          /* interrupt the second chunk after 3 of its 7 bytes */
          ck_assert_uint_eq (len, 7);
          g_string_append_len (stream, message + off, 3);
          end = msrp_writer_chunker_interrupt (ch, 3, &error);
          interrupted = TRUE;
        }
      else
        {
          g_string_append_len (stream, message + off, (gssize) len);
          end = msrp_writer_chunker_end_chunk (ch, &error);
        }
      ck_assert_ptr_nonnull (end);
      g_string_append_len (stream, g_bytes_get_data (end, NULL),
                           (gssize) g_bytes_get_size (end));
      n_chunks++;
      ck_assert_uint_lt (n_chunks, 100);
    }
  ck_assert (interrupted);

  frame = g_string_free_to_bytes (g_steal_pointer (&stream));
  parse_all_ways (frame, log, got);
  ck_assert_uint_eq (got->len, total);
  ck_assert (memcmp (got->str, message, total) == 0);
  /* 51 bytes: 1-7, 8-10 (interrupted after 3), 11-17, ..., 46-51 */
  ck_assert_uint_eq (total, 51);
  ck_assert_uint_eq (n_chunks, 8);
  ck_assert (strstr (log->str, "HEADER Byte-Range=1-*/51\n") != NULL);
  ck_assert (strstr (log->str, "HEADER Byte-Range=8-*/51\n") != NULL);
  ck_assert (strstr (log->str, "HEADER Byte-Range=11-*/51\n") != NULL);
  ck_assert (strstr (log->str, "HEADER Byte-Range=46-*/51\n") != NULL);
  ck_assert (strstr (log->str, " + 3\n") != NULL);
  ck_assert (g_str_has_suffix (log->str, "$ 6\n"));
}
END_TEST

/* Random inputs (fixed seed): whatever the writer accepts, the parser reads
 * back as the same frame; whatever it refuses, it refuses with a writer
 * error and nothing else. */
static char *
random_text (GRand *r, guint max_len)
{
  /* mostly good characters, some that must be refused */
  static const char *const pieces[] = {
    "a",  "Z",    "7",    "-",    ".",       "+",    "%",        "=",
    "/",  ";",    " ",    "\t",   ":",       "\"",   "\xc3\xa9", "\r",
    "\n", "\x7f", "\x01", "\xff", "-------", "\r\n",
  };
  GString *s = g_string_new (NULL);
  guint n = (guint) g_rand_int_range (r, 0, (gint32) max_len + 1);
  guint i;

  for (i = 0; i < n; i++)
    {
      /* 3 in 4 from the first 10 (good ident characters) */
      gsize k = g_rand_int_range (r, 0, 4) != 0
                    ? (gsize) g_rand_int_range (r, 0, 10)
                    : (gsize) g_rand_int_range (r, 0, G_N_ELEMENTS (pieces));

      g_string_append (s, pieces[k]);
    }
  return g_string_free (s, FALSE);
}

START_TEST (test_round_trip_random)
{
  static const char *const methods[] = { "SEND", "REPORT", "AUTH", "X" };
  static const char *const names[] = {
    "X-A",        "Message-ID", "Byte-Range", "Status", "Success-Report",
    "Content-ID", "Use-Path",   "x y",        "1a",     "Content-Type",
    "To-Path",
  };
  GRand *r = g_rand_new_with_seed (4975);
  g_autoptr (GPtrArray) to = path (RELAY " " BOB);
  g_autoptr (GPtrArray) from = path (ALICE);
  guint iter, accepted = 0;

  for (iter = 0; iter < 3000; iter++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MsrpWriter) w = NULL;
      g_autoptr (GBytes) frame = NULL;
      g_autoptr (GBytes) body = NULL;
      /* half the time a good tid, so that the rest gets exercised */
      g_autofree char *tid =
          g_rand_boolean (r) ? random_text (r, 34) : g_strdup ("tid0");
      gboolean response = g_rand_int_range (r, 0, 4) == 0;
      guint n_headers = (guint) g_rand_int_range (r, 0, 4), h;
      gboolean with_body = !response && g_rand_boolean (r);
      char flag = "$+#x"[g_rand_int_range (r, 0, 4)];
      gboolean ok = TRUE;

      if (response)
        {
          g_autofree char *comment = random_text (r, 6);

          w = msrp_writer_new_response (
              tid, (guint) g_rand_int_range (r, 90, 1010),
              g_rand_boolean (r) ? comment : NULL, &error);
        }
      else
        w = msrp_writer_new_request (tid, methods[g_rand_int_range (r, 0, 4)],
                                     &error);
      ok = w != NULL;
      ok = ok && msrp_writer_set_to_path (w, to, &error);
      ok = ok && msrp_writer_set_from_path (w, from, &error);
      for (h = 0; ok && h < n_headers; h++)
        {
          g_autofree char *value = random_text (r, 8);

          ok = msrp_writer_add_header (
              w, names[g_rand_int_range (r, 0, G_N_ELEMENTS (names))], value,
              &error);
        }
      if (ok && with_body)
        {
          g_autofree char *text = random_text (r, 40);

          ok = msrp_writer_set_content_type (w, "text/plain", &error);
          body = g_bytes_new (text, strlen (text));
        }
      if (ok)
        {
          frame = msrp_writer_to_bytes (w, body, flag, &error);
          ok = frame != NULL;
        }
      if (!ok)
        {
          ck_assert_ptr_nonnull (error);
          ck_assert_msg (error->domain == MSRP_WRITER_ERROR, "%s",
                         error->message);
          continue;
        }
      accepted++;
      {
        g_autoptr (GString) log = g_string_new (NULL);
        g_autoptr (GString) got = g_string_new (NULL);
        g_autofree char *end = NULL;
        gsize body_len = body ? g_bytes_get_size (body) : 0;

        parse_ways (frame, log, got,
                    (gsize) g_rand_int_range (
                        r, 0, (gint32) g_bytes_get_size (frame) + 1));
        ck_assert (
            g_str_has_prefix (log->str, response ? "RESPONSE " : "REQUEST "));
        end = g_strdup_printf ("END %s %c %" G_GSIZE_FORMAT "\n",
                               msrp_writer_get_transaction_id (w), flag,
                               body_len);
        ck_assert_msg (g_str_has_suffix (log->str, end), "%s", log->str);
        ck_assert_uint_eq (got->len, body_len);
        if (body_len > 0)
          ck_assert (
              memcmp (got->str, g_bytes_get_data (body, NULL), body_len) == 0);
      }
    }
  /* both outcomes are exercised */
  ck_assert_uint_gt (accepted, 100);
  ck_assert_uint_lt (accepted, 2900);
  g_rand_free (r);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Suite
 * ------------------------------------------------------------------------- */

static Suite *
writer_suite (void)
{
  Suite *s = suite_create ("msrp-writer");
  TCase *tc;

#define ADD_LOOP(name, fn, table)                                             \
  tc = tcase_create (name);                                                   \
  tcase_add_loop_test (tc, fn, 0, (int) G_N_ELEMENTS (table));                \
  suite_add_tcase (s, tc)

  ADD_LOOP ("frames", test_frame, frame_cases);
  ADD_LOOP ("frame errors", test_frame_error, frame_error_cases);
  tcase_add_test (tc, test_frame_error_keeps_state);
  tcase_add_test (tc, test_path_errors);
  ADD_LOOP ("byte-range", test_byte_range, range_cases);
  ADD_LOOP ("setters", test_setter, setter_cases);
  tcase_add_test (tc, test_empty_send);
  ADD_LOOP ("ids", test_ids, id_kinds);
  ADD_LOOP ("chunker", test_chunker, chunk_cases);
  tcase_add_test (tc, test_chunker_rfc_4975_11_4);
  tcase_add_test (tc, test_chunker_setup);
  ADD_LOOP ("round trip", test_round_trip_frames, frame_cases);
  tcase_add_test (tc, test_round_trip_chunks);
  tcase_add_test (tc, test_round_trip_random);
#undef ADD_LOOP

  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (writer_suite ());
  int failed;

  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
