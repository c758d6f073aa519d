/* test-msrp-status.c: status codes, report decisions, responses and REPORTs
 * (msrp/msrp-status.c).  Built frames are compared byte for byte, the
 * REPORT of RFC 4975 section 11.6 among them. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "msrp-status.h"

#define ALICE "msrp://alicepc.example.com:7777/iau39soe2843z;tcp"
#define BOB "msrp://bob.example.com:8888/9di4eae923wzd;tcp"
#define R1 "msrp://r1.example.net:2855/aa11;tcp"
#define R2 "msrps://r2.example.org:2856/bb22;tcp"

static GPtrArray *
path (const char *text)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *uris;

  if (text == NULL)
    return NULL;
  if (*text == '\0')
    return g_ptr_array_new ();
  uris = msrp_uri_list_parse (text, -1, &error);
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
  ck_assert_msg (strstr (error->message, substr) != NULL,
                 "message \"%s\" lacks \"%s\"", error->message, substr);
}

static void
check_frame (MsrpWriter *w, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) frame = msrp_writer_to_bytes (w, NULL, '$', &error);
  gsize len;
  const char *data;

  ck_assert_msg (frame != NULL, "%s", error ? error->message : "?");
  data = g_bytes_get_data (frame, &len);
  ck_assert_msg (len == strlen (expected) && memcmp (data, expected, len) == 0,
                 "got:\n%.*s\nexpected:\n%s", (int) len, data, expected);
}

/* ---------------------------------------------------------------------------
 * Reason phrases
 * ------------------------------------------------------------------------- */

static const struct
{
  guint code;
  const char *reason; /* NULL: not a known code */
  gboolean success;
} reason_cases[] = {
  { 200, "OK", TRUE },
  { 400, "Bad Request", FALSE },
  { 401, "Unauthorized", FALSE },
  { 403, "Forbidden", FALSE },
  { 408, "Request Timeout", FALSE },
  { 413, "Stop Sending Message", FALSE },
  { 415, "Unsupported Media Type", FALSE },
  { 423, "Interval Out-of-Bounds", FALSE },
  { 481, "Session Does Not Exist", FALSE },
  { 501, "Not Implemented", FALSE },
  { 506, "Session Already Bound", FALSE },
  /* not defined by RFC 4975 / 4976 */
  { 0, NULL, FALSE },
  { 100, NULL, FALSE },
  { 199, NULL, FALSE },
  { 202, NULL, TRUE },
  { 299, NULL, TRUE },
  { 300, NULL, FALSE },
  { 404, NULL, FALSE },
  { 425, NULL, FALSE }, /* RFC 7701's, not in this table */
  { 500, NULL, FALSE },
  { 999, NULL, FALSE },
  { 1000, NULL, FALSE },
  { G_MAXUINT, NULL, FALSE },
};

START_TEST (test_reason)
{
  guint code = reason_cases[_i].code;
  const char *reason = reason_cases[_i].reason;

  if (reason != NULL)
    {
      ck_assert_ptr_nonnull (msrp_status_reason (code));
      ck_assert_str_eq (msrp_status_reason (code), reason);
      ck_assert (msrp_status_is_known (code));
    }
  else
    {
      ck_assert_ptr_null (msrp_status_reason (code));
      ck_assert (!msrp_status_is_known (code));
    }
  ck_assert (msrp_status_is_success (code) == reason_cases[_i].success);
}
END_TEST

/* The enum and the table agree, and there are exactly 11 known codes. */
START_TEST (test_reason_count)
{
  static const MsrpStatusCode all[] = {
    MSRP_STATUS_OK,
    MSRP_STATUS_BAD_REQUEST,
    MSRP_STATUS_UNAUTHORIZED,
    MSRP_STATUS_FORBIDDEN,
    MSRP_STATUS_REQUEST_TIMEOUT,
    MSRP_STATUS_STOP_SENDING,
    MSRP_STATUS_UNSUPPORTED_MEDIA_TYPE,
    MSRP_STATUS_INTERVAL_OUT_OF_BOUNDS,
    MSRP_STATUS_SESSION_DOES_NOT_EXIST,
    MSRP_STATUS_NOT_IMPLEMENTED,
    MSRP_STATUS_SESSION_ALREADY_BOUND,
  };
  guint code, n = 0;
  gsize i;

  for (code = 0; code <= 1000; code++)
    if (msrp_status_is_known (code))
      n++;
  ck_assert_uint_eq (n, G_N_ELEMENTS (all));
  for (i = 0; i < G_N_ELEMENTS (all); i++)
    ck_assert (msrp_status_is_known (all[i]));
}
END_TEST

/* ---------------------------------------------------------------------------
 * Decisions: every Success-Report x Failure-Report x outcome for SEND, and
 * the rules for REPORT and other methods.
 * ------------------------------------------------------------------------- */

#define NO MSRP_REPORT_NO
#define YES MSRP_REPORT_YES
#define PARTIAL MSRP_REPORT_PARTIAL

typedef struct
{
  const char *method;
  MsrpReportMode sr, fr;
  guint code;
  gboolean complete;
  /* expected */
  gboolean response, success_report, failure_report;
} DecisionCase;

static const DecisionCase decision_cases[] = {
  /* SEND, 200, message complete */
  { "SEND", NO, NO, 200, TRUE, FALSE, FALSE, FALSE },
  { "SEND", NO, YES, 200, TRUE, TRUE, FALSE, FALSE },
  { "SEND", NO, PARTIAL, 200, TRUE, FALSE, FALSE, FALSE },
  { "SEND", YES, NO, 200, TRUE, FALSE, TRUE, FALSE },
  { "SEND", YES, YES, 200, TRUE, TRUE, TRUE, FALSE },
  { "SEND", YES, PARTIAL, 200, TRUE, FALSE, TRUE, FALSE },
  /* SEND, 200, message not complete yet: no success report yet */
  { "SEND", NO, NO, 200, FALSE, FALSE, FALSE, FALSE },
  { "SEND", NO, YES, 200, FALSE, TRUE, FALSE, FALSE },
  { "SEND", NO, PARTIAL, 200, FALSE, FALSE, FALSE, FALSE },
  { "SEND", YES, NO, 200, FALSE, FALSE, FALSE, FALSE },
  { "SEND", YES, YES, 200, FALSE, TRUE, FALSE, FALSE },
  { "SEND", YES, PARTIAL, 200, FALSE, FALSE, FALSE, FALSE },
  /* SEND, a failure (400 stands for every non-2xx, checked below) */
  { "SEND", NO, NO, 400, TRUE, FALSE, FALSE, FALSE },
  { "SEND", NO, YES, 400, TRUE, TRUE, FALSE, TRUE },
  { "SEND", NO, PARTIAL, 400, TRUE, TRUE, FALSE, TRUE },
  { "SEND", YES, NO, 400, TRUE, FALSE, FALSE, FALSE },
  { "SEND", YES, YES, 400, TRUE, TRUE, FALSE, TRUE },
  { "SEND", YES, PARTIAL, 400, TRUE, TRUE, FALSE, TRUE },
  { "SEND", NO, NO, 400, FALSE, FALSE, FALSE, FALSE },
  { "SEND", NO, YES, 400, FALSE, TRUE, FALSE, TRUE },
  { "SEND", NO, PARTIAL, 400, FALSE, TRUE, FALSE, TRUE },
  { "SEND", YES, NO, 400, FALSE, FALSE, FALSE, FALSE },
  { "SEND", YES, YES, 400, FALSE, TRUE, FALSE, TRUE },
  { "SEND", YES, PARTIAL, 400, FALSE, TRUE, FALSE, TRUE },
  /* a relay's timeout and a 5xx behave the same */
  { "SEND", YES, YES, 408, TRUE, TRUE, FALSE, TRUE },
  { "SEND", NO, PARTIAL, 408, TRUE, TRUE, FALSE, TRUE },
  { "SEND", NO, NO, 408, TRUE, FALSE, FALSE, FALSE },
  { "SEND", YES, YES, 501, TRUE, TRUE, FALSE, TRUE },
  /* other 2xx count as success */
  { "SEND", YES, YES, 202, TRUE, TRUE, TRUE, FALSE },
  { "SEND", YES, PARTIAL, 202, TRUE, FALSE, TRUE, FALSE },
  /* Success-Report "partial" is not a value: never a report */
  { "SEND", PARTIAL, YES, 200, TRUE, TRUE, FALSE, FALSE },
  /* REPORT: never a response, never a report (s.7.1.2) */
  { "REPORT", NO, YES, 200, TRUE, FALSE, FALSE, FALSE },
  { "REPORT", YES, YES, 200, TRUE, FALSE, FALSE, FALSE },
  { "REPORT", NO, YES, 400, TRUE, FALSE, FALSE, FALSE },
  { "REPORT", YES, PARTIAL, 481, TRUE, FALSE, FALSE, FALSE },
  { "REPORT", NO, NO, 481, TRUE, FALSE, FALSE, FALSE },
  /* AUTH and extension methods: responses as Failure-Report says, reports
   * only for SEND */
  { "AUTH", NO, YES, 200, TRUE, TRUE, FALSE, FALSE },
  { "AUTH", NO, YES, 401, TRUE, TRUE, FALSE, FALSE },
  { "AUTH", YES, YES, 200, TRUE, TRUE, FALSE, FALSE },
  { "NICKNAME", NO, YES, 200, TRUE, TRUE, FALSE, FALSE },
  { "NICKNAME", NO, PARTIAL, 200, TRUE, FALSE, FALSE, FALSE },
  { "NICKNAME", NO, PARTIAL, 403, TRUE, TRUE, FALSE, FALSE },
  { "NICKNAME", NO, NO, 403, TRUE, FALSE, FALSE, FALSE },
  /* methods are case-sensitive: "send" is an unknown (invalid) method */
  { "send", YES, YES, 200, TRUE, TRUE, FALSE, FALSE },
  { "report", NO, YES, 200, TRUE, TRUE, FALSE, FALSE },
};

START_TEST (test_decision)
{
  const DecisionCase *c = &decision_cases[_i];

  ck_assert_msg (msrp_status_response_due (c->method, c->fr, c->code) ==
                     c->response,
                 "row %d: response", _i);
  ck_assert_msg (msrp_status_success_report_due (c->method, c->sr, c->code,
                                                 c->complete) ==
                     c->success_report,
                 "row %d: success report", _i);
  ck_assert_msg (msrp_status_failure_report_due (c->method, c->fr, c->code) ==
                     c->failure_report,
                 "row %d: failure report", _i);
}
END_TEST

/* Every non-2xx code of 100..999 decides like the 400 rows above, every
 * 2xx like the 200 rows, for every report mode combination. */
START_TEST (test_decision_all_codes)
{
  static const MsrpReportMode modes[] = { NO, YES, PARTIAL };
  guint code;
  gsize s, f;
  int complete;

  for (code = 100; code <= 999; code++)
    for (s = 0; s < 2; s++)
      for (f = 0; f < 3; f++)
        for (complete = 0; complete < 2; complete++)
          {
            guint ref = msrp_status_is_success (code) ? 200 : 400;

            ck_assert (msrp_status_response_due ("SEND", modes[f], code) ==
                       msrp_status_response_due ("SEND", modes[f], ref));
            ck_assert (msrp_status_success_report_due ("SEND", modes[s], code,
                                                       complete) ==
                       msrp_status_success_report_due ("SEND", modes[s], ref,
                                                       complete));
            ck_assert (
                msrp_status_failure_report_due ("SEND", modes[f], code) ==
                msrp_status_failure_report_due ("SEND", modes[f], ref));
          }
}
END_TEST

/* ---------------------------------------------------------------------------
 * REPORTs
 * ------------------------------------------------------------------------- */

typedef struct
{
  const char *name;
  const char *to_path; /* of the received request; "" = empty */
  const char *from_path;
  const char *tid;
  const char *message_id;
  gboolean has_range;
  MsrpByteRange range;
  guint code;
  const char *comment;
  const char *expected; /* or NULL: error */
  GQuark (*domain) (void);
  gint err_code;
  const char *err;
} ReportCase;

static const ReportCase report_cases[] = {
  { "RFC 4975 11.6 success report",
    BOB,
    ALICE,
    "dkei38sd",
    "12339sdqwer",
    TRUE,
    { 1, 106, 106, FALSE, FALSE },
    200,
    NULL,
    "MSRP dkei38sd REPORT\r\n"
    "To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n"
    "From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n"
    "Message-ID: 12339sdqwer\r\n"
    "Byte-Range: 1-106/106\r\n"
    "Status: 000 200 OK\r\n"
    "-------dkei38sd$\r\n" },
  { "failure report from a relay: back along the whole From-Path",
    R2 " " BOB,
    R1 " " ALICE,
    "rep00001",
    "m0001",
    TRUE,
    { 1, 2048, 10000, FALSE, FALSE },
    408,
    NULL,
    "MSRP rep00001 REPORT\r\n"
    "To-Path: " R1 " " ALICE "\r\n"
    "From-Path: " R2 "\r\n"
    "Message-ID: m0001\r\n"
    "Byte-Range: 1-2048/10000\r\n"
    "Status: 000 408 Request Timeout\r\n"
    "-------rep00001$\r\n" },
  { "own comment, unknown total",
    BOB,
    ALICE,
    "rep00002",
    "m0002",
    TRUE,
    { 5, 9, 0, FALSE, TRUE },
    413,
    "too big for me",
    "MSRP rep00002 REPORT\r\n"
    "To-Path: " ALICE "\r\n"
    "From-Path: " BOB "\r\n"
    "Message-ID: m0002\r\n"
    "Byte-Range: 5-9/*\r\n"
    "Status: 000 413 too big for me\r\n"
    "-------rep00002$\r\n" },
  { "no Byte-Range, unknown code without comment",
    BOB,
    ALICE,
    "rep00003",
    "m0003",
    FALSE,
    {
        0,
    },
    599,
    NULL,
    "MSRP rep00003 REPORT\r\n"
    "To-Path: " ALICE "\r\n"
    "From-Path: " BOB "\r\n"
    "Message-ID: m0003\r\n"
    "Status: 000 599\r\n"
    "-------rep00003$\r\n" },
  { "empty received To-Path",
    "",
    ALICE,
    NULL,
    "m0004",
    FALSE,
    {
        0,
    },
    200,
    NULL,
    NULL,
    msrp_status_error_quark,
    MSRP_STATUS_ERROR_INVALID,
    "received To-Path is empty: no URI to answer from" },
  { "no received To-Path",
    NULL,
    ALICE,
    NULL,
    "m0004",
    FALSE,
    {
        0,
    },
    200,
    NULL,
    NULL,
    msrp_status_error_quark,
    MSRP_STATUS_ERROR_INVALID,
    "received To-Path is empty" },
  { "empty received From-Path",
    BOB,
    "",
    NULL,
    "m0004",
    FALSE,
    {
        0,
    },
    200,
    NULL,
    NULL,
    msrp_status_error_quark,
    MSRP_STATUS_ERROR_INVALID,
    "received From-Path is empty: no way back to the sender" },
  { "range-end unknown",
    BOB,
    ALICE,
    NULL,
    "m0004",
    TRUE,
    { 1, 0, 10, TRUE, FALSE },
    200,
    NULL,
    NULL,
    msrp_status_error_quark,
    MSRP_STATUS_ERROR_INVALID,
    "REPORT Byte-Range: range-end \"*\"" },
  { "code not 3 digits",
    BOB,
    ALICE,
    NULL,
    "m0004",
    FALSE,
    {
        0,
    },
    1000,
    NULL,
    NULL,
    msrp_status_error_quark,
    MSRP_STATUS_ERROR_INVALID,
    "REPORT status code 1000 is not 3 digits" },
  { "bad Message-ID",
    BOB,
    ALICE,
    NULL,
    "m 4",
    FALSE,
    {
        0,
    },
    200,
    NULL,
    NULL,
    msrp_writer_error_quark,
    MSRP_WRITER_ERROR_INVALID,
    "Message-ID \"m 4\" is 3 characters long" },
  { "bad tid",
    BOB,
    ALICE,
    "t/01",
    "m0004",
    FALSE,
    {
        0,
    },
    200,
    NULL,
    NULL,
    msrp_writer_error_quark,
    MSRP_WRITER_ERROR_INVALID,
    "transaction id has '/' at offset 1" },
  { "bad Byte-Range",
    BOB,
    ALICE,
    NULL,
    "m0004",
    TRUE,
    { 0, 5, 10, FALSE, FALSE },
    200,
    NULL,
    NULL,
    msrp_writer_error_quark,
    MSRP_WRITER_ERROR_RANGE,
    "Byte-Range: range-start 0 is not >= 1" },
  { "comment with CR",
    BOB,
    ALICE,
    NULL,
    "m0004",
    FALSE,
    {
        0,
    },
    400,
    "bad\r",
    NULL,
    msrp_writer_error_quark,
    MSRP_WRITER_ERROR_INVALID,
    "Status comment has control character 0x0d at offset 3" },
};

START_TEST (test_report)
{
  const ReportCase *c = &report_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) to = path (c->to_path);
  g_autoptr (GPtrArray) from = path (c->from_path);
  g_autoptr (MsrpWriter) w = NULL;

  w = msrp_status_build_report (to, from, c->tid, c->message_id,
                                c->has_range ? &c->range : NULL, c->code,
                                c->comment, &error);
  if (c->expected == NULL)
    {
      ck_assert_msg (w == NULL, "%s: built", c->name);
      check_error (error, c->domain (), c->err_code, c->err);
      return;
    }
  ck_assert_msg (w != NULL, "%s: %s", c->name, error ? error->message : "?");
  check_frame (w, c->expected);
  ck_assert_str_eq (msrp_writer_get_method (w), "REPORT");
}
END_TEST

/* Without a tid, each REPORT gets a fresh one. */
START_TEST (test_report_fresh_tid)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) to = path (BOB);
  g_autoptr (GPtrArray) from = path (ALICE);
  g_autoptr (MsrpWriter) a = NULL;
  g_autoptr (MsrpWriter) b = NULL;

  a = msrp_status_build_report (to, from, NULL, "m0001", NULL, 200, NULL,
                                &error);
  b = msrp_status_build_report (to, from, NULL, "m0001", NULL, 200, NULL,
                                &error);
  ck_assert_ptr_nonnull (a);
  ck_assert_ptr_nonnull (b);
  ck_assert_uint_eq (strlen (msrp_writer_get_transaction_id (a)),
                     MSRP_WRITER_ID_LEN);
  ck_assert_str_ne (msrp_writer_get_transaction_id (a),
                    msrp_writer_get_transaction_id (b));
}
END_TEST

/* ---------------------------------------------------------------------------
 * Responses
 * ------------------------------------------------------------------------- */

typedef struct
{
  const char *name;
  const char *method;
  const char *tid;
  const char *to_path;
  const char *from_path;
  guint code;
  const char *comment;
  const char *expected;
  gint err_domain_is_status; /* 1: MSRP_STATUS_ERROR, 0: WRITER */
  gint err_code;
  const char *err;
} ResponseCase;

static const ResponseCase response_cases[] = {
  { "RFC 4975 11.1 (5)", "SEND", "d93kswow", BOB, ALICE, 200, NULL,
    "MSRP d93kswow 200 OK\r\n"
    "To-Path: " ALICE "\r\n"
    "From-Path: " BOB "\r\n"
    "-------d93kswow$\r\n" },
  { "SEND through relays: only the previous hop", "SEND", "t0001", R2 " " BOB,
    R1 " " ALICE, 200, NULL,
    "MSRP t0001 200 OK\r\n"
    "To-Path: " R1 "\r\n"
    "From-Path: " R2 "\r\n"
    "-------t0001$\r\n" },
  { "AUTH: the full path back", "AUTH", "49fh",
    "msrps://alice@intra.example.com;tcp",
    R1 " msrps://alice.example.com:9892/98cjs;tcp", 401, NULL,
    "MSRP 49fh 401 Unauthorized\r\n"
    "To-Path: " R1 " msrps://alice.example.com:9892/98cjs;tcp\r\n"
    "From-Path: msrps://alice@intra.example.com;tcp\r\n"
    "-------49fh$\r\n" },
  { "failure with own comment", "SEND", "t0002", BOB, ALICE, 415,
    "text/html only",
    "MSRP t0002 415 text/html only\r\n"
    "To-Path: " ALICE "\r\n"
    "From-Path: " BOB "\r\n"
    "-------t0002$\r\n" },
  { "unknown code: no comment", "NICKNAME", "t0003", BOB, ALICE, 425, NULL,
    "MSRP t0003 425\r\n"
    "To-Path: " ALICE "\r\n"
    "From-Path: " BOB "\r\n"
    "-------t0003$\r\n" },
  { "423 phrase", "AUTH", "t0004", BOB, ALICE, 423, NULL,
    "MSRP t0004 423 Interval Out-of-Bounds\r\n"
    "To-Path: " ALICE "\r\n"
    "From-Path: " BOB "\r\n"
    "-------t0004$\r\n" },
  { "response to REPORT", "REPORT", "t0005", BOB, ALICE, 200, NULL, NULL, 1,
    MSRP_STATUS_ERROR_FORBIDDEN,
    "MSRP nodes MUST NOT send MSRP responses to REPORT requests" },
  { "empty To-Path", "SEND", "t0006", "", ALICE, 200, NULL, NULL, 1,
    MSRP_STATUS_ERROR_INVALID, "received To-Path is empty" },
  { "empty From-Path", "SEND", "t0007", BOB, "", 200, NULL, NULL, 1,
    MSRP_STATUS_ERROR_INVALID, "received From-Path is empty" },
  { "bad tid", "SEND", "t", BOB, ALICE, 200, NULL, NULL, 0,
    MSRP_WRITER_ERROR_INVALID, "transaction id \"t\" is 1 characters" },
  { "bad code", "SEND", "t0008", BOB, ALICE, 42, NULL, NULL, 0,
    MSRP_WRITER_ERROR_INVALID, "status code 42 is not a 3-digit code" },
};

START_TEST (test_response)
{
  const ResponseCase *c = &response_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) to = path (c->to_path);
  g_autoptr (GPtrArray) from = path (c->from_path);
  g_autoptr (MsrpWriter) w = NULL;

  w = msrp_status_build_response (c->method, c->tid, to, from, c->code,
                                  c->comment, &error);
  if (c->expected == NULL)
    {
      ck_assert_msg (w == NULL, "%s: built", c->name);
      check_error (error,
                   c->err_domain_is_status ? MSRP_STATUS_ERROR
                                           : MSRP_WRITER_ERROR,
                   c->err_code, c->err);
      return;
    }
  ck_assert_msg (w != NULL, "%s: %s", c->name, error ? error->message : "?");
  ck_assert (msrp_writer_is_response (w));
  check_frame (w, c->expected);
}
END_TEST

static Suite *
status_suite (void)
{
  Suite *s = suite_create ("msrp-status");
  TCase *tc;

#define ADD_LOOP(name, fn, table)                                             \
  tc = tcase_create (name);                                                   \
  tcase_add_loop_test (tc, fn, 0, (int) G_N_ELEMENTS (table));                \
  suite_add_tcase (s, tc)

  ADD_LOOP ("reason", test_reason, reason_cases);
  tcase_add_test (tc, test_reason_count);
  ADD_LOOP ("decision", test_decision, decision_cases);
  tcase_add_test (tc, test_decision_all_codes);
  ADD_LOOP ("report", test_report, report_cases);
  tcase_add_test (tc, test_report_fresh_tid);
  ADD_LOOP ("response", test_response, response_cases);
#undef ADD_LOOP

  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (status_suite ());
  int failed;

  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
