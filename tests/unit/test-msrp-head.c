/* Check suite for msrp-head: frames parsed by msrp-parser, collected into
 * an MsrpHead, values checked.  Inputs sit against a guard page. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "msrp-head.h"
#include "msrp-status.h"
#include "msrp-writer.h"

/* Parse one frame's head from @text; returns the head or NULL with the
 * error message in *@err (owned by the caller).  @lenient: as msrp-reader
 * does, a header refused is noted (the first error in *@err) and the head
 * is collected to the end of its block and returned all the same. */
static MsrpHead *
parse_head_full (const char *text, gboolean lenient, char **err)
{
  g_autoptr (MsrpParser) p = msrp_parser_new ();
  g_autoptr (MsrpHead) head = NULL;
  g_autoptr (GError) error = NULL;
  GuardBuf buf;
  const guint8 *data;
  gsize len;
  MsrpHead *result = NULL;

  guard_buf_init (&buf, text, strlen (text));
  data = buf.data;
  len = buf.len;
  *err = NULL;
  while (TRUE)
    {
      MsrpParserEvent ev;
      gsize used = 0;
      MsrpParseStatus st = msrp_parser_feed (p, data, len, &used, &ev, &error);

      data += used;
      len -= used;
      if (st == MSRP_PARSE_NEED_MORE)
        {
          *err = g_strdup ("incomplete");
          break;
        }
      if (st == MSRP_PARSE_ERROR)
        {
          *err = g_strdup (error->message);
          break;
        }
      if (ev.type == MSRP_PARSER_EVENT_REQUEST ||
          ev.type == MSRP_PARSER_EVENT_RESPONSE)
        head = msrp_head_new_from_event (&ev);
      else if (ev.type == MSRP_PARSER_EVENT_HEADER)
        {
          if (!msrp_head_add_header (head, &ev, &error))
            {
              ck_assert_int_eq (error->domain, MSRP_HEAD_ERROR);
              if (*err == NULL)
                *err = g_strdup (error->message);
              if (!lenient)
                break;
              g_clear_error (&error);
            }
        }
      else if (ev.type == MSRP_PARSER_EVENT_HEADERS_END)
        {
          if (!msrp_head_finish (head, ev.has_body, &error) && !lenient)
            {
              *err = g_strdup (error->message);
              break;
            }
          result = g_steal_pointer (&head);
          break;
        }
    }
  guard_buf_clear (&buf);
  return result;
}

static MsrpHead *
parse_head (const char *text, char **err)
{
  return parse_head_full (text, FALSE, err);
}

#define TP                                                                    \
  "To-Path: msrp://relay.example.net:2855/abcd1234;tcp "                      \
  "msrp://Bob.example.com:8888/9di4;tcp\r\n"
#define FP "From-Path: msrp://alice.example.com:7777/iau39;tcp\r\n"

static const struct
{
  const char *name;
  const char *text;
  const char *error_part; /* NULL: valid */
} cases[] = {
  { "send",
    "MSRP a786hjs2 SEND\r\n" TP FP "Message-ID: 87652491\r\n"
    "Byte-Range: 1-25/25\r\nFailure-Report: no\r\nSuccess-Report: yes\r\n"
    "X-Custom: kept as is\r\nContent-Type: text/plain\r\n\r\n",
    NULL },
  { "response", "MSRP a786hjs2 200 OK\r\n" TP FP "-------a786hjs2$\r\n",
    NULL },
  { "auth", "MSRP 49fh AUTH\r\n" TP FP "Expires: 900\r\n-------49fh$\r\n",
    NULL },
  { "auth 200",
    "MSRP 49fh 200 OK\r\n" TP FP
    "Use-Path: msrps://relay.example.net:2855/jui787s2f;tcp\r\n"
    "Expires: 900\r\n-------49fh$\r\n",
    NULL },
  { "send without message-id",
    "MSRP a786hjs2 SEND\r\n" TP FP
    "Byte-Range: 1-25/25\r\n-------a786hjs2$\r\n",
    "without Message-ID" },
  { "report without status",
    "MSRP a786hjs2 REPORT\r\n" TP FP
    "Message-ID: 87652491\r\n-------a786hjs2$\r\n",
    "without Status" },
  { "bad byte-range",
    "MSRP a786hjs2 SEND\r\n" TP FP "Message-ID: 87652491\r\n"
    "Byte-Range: 0-25/25\r\n-------a786hjs2$\r\n",
    "Byte-Range" },
  { "bad to-path",
    "MSRP a786hjs2 SEND\r\nTo-Path: http://x/;tcp\r\n" FP
    "Message-ID: 87652491\r\n-------a786hjs2$\r\n",
    "To-Path" },
  { "bad failure-report",
    "MSRP a786hjs2 SEND\r\n" TP FP
    "Message-ID: 87652491\r\nFailure-Report: maybe\r\n-------a786hjs2$\r\n",
    "Failure-Report" },
  { "bad expires",
    "MSRP 49fh AUTH\r\n" TP FP "Expires: 99999999999\r\n"
    "-------49fh$\r\n",
    "Expires" },
  /* Found by fuzz-head: the error quoted U+0089, a C1 control, into a
   * message meant for the log. */
  { "c1 control in success-report",
    "MSRP a786hjs2 SEND\r\n" TP FP
    "Message-ID: 87652491\r\nSuccess-Report: ye\xc2\x89s\r\n"
    "-------a786hjs2$\r\n",
    "Success-Report: a 5-byte value is not one of" },
  { "bad content-type",
    "MSRP a786hjs2 SEND\r\n" TP FP "Message-ID: 8765\r\n"
    "Content-Type: text\r\n\r\nx\r\n-------a786hjs2$\r\n",
    "Content-Type" },
};

START_TEST (test_cases)
{
  g_autofree char *err = NULL;
  g_autoptr (MsrpHead) head = parse_head (cases[_i].text, &err);

  if (cases[_i].error_part == NULL)
    ck_assert_msg (head != NULL, "%s: %s", cases[_i].name, err);
  else
    {
      ck_assert_msg (head == NULL, "%s: accepted", cases[_i].name);
      ck_assert_msg (strstr (err, cases[_i].error_part) != NULL,
                     "%s: '%s' lacks '%s'", cases[_i].name, err,
                     cases[_i].error_part);
    }
}
END_TEST

START_TEST (test_values)
{
  g_autofree char *err = NULL;
  g_autoptr (MsrpHead) head = parse_head (cases[0].text, &err);
  const MsrpByteRange *br;
  const char *name, *value;
  MsrpHeaderId id;
  guint32 n;

  ck_assert_ptr_nonnull (head);
  ck_assert (msrp_head_is_request (head));
  ck_assert_str_eq (msrp_head_get_transaction_id (head), "a786hjs2");
  ck_assert_str_eq (msrp_head_get_method (head), "SEND");
  ck_assert (msrp_head_has_body (head));
  ck_assert_uint_eq (msrp_head_get_to_path (head)->len, 2);
  ck_assert_str_eq (
      msrp_uri_get_text (g_ptr_array_index (msrp_head_get_to_path (head), 1)),
      "msrp://Bob.example.com:8888/9di4;tcp");
  ck_assert_uint_eq (msrp_head_get_from_path (head)->len, 1);
  ck_assert_str_eq (msrp_head_get_message_id (head), "87652491");
  br = msrp_head_get_byte_range (head);
  ck_assert_ptr_nonnull (br);
  ck_assert_uint_eq (br->start, 1);
  ck_assert_uint_eq (br->end, 25);
  ck_assert_uint_eq (br->total, 25);
  ck_assert_int_eq (msrp_head_get_failure_report (head), MSRP_REPORT_NO);
  ck_assert_int_eq (msrp_head_get_success_report (head), MSRP_REPORT_YES);
  ck_assert_str_eq (msrp_head_get_content_type (head), "text/plain");
  ck_assert_str_eq (msrp_head_find (head, MSRP_HEADER_OTHER, "x-custom"),
                    "kept as is");
  ck_assert_ptr_null (msrp_head_get_status (head));
  ck_assert (!msrp_head_get_expires (head, MSRP_HEADER_EXPIRES, &n));
  ck_assert_uint_eq (msrp_head_get_n_headers (head), 8);
  msrp_head_get_header (head, 6, &id, &name, &value);
  ck_assert_int_eq (id, MSRP_HEADER_OTHER);
  ck_assert_str_eq (name, "X-Custom");
  ck_assert_str_eq (value, "kept as is");
}
END_TEST

START_TEST (test_defaults_and_response)
{
  g_autofree char *err = NULL;
  g_autoptr (MsrpHead) r = parse_head (cases[1].text, &err);
  g_autoptr (MsrpHead) a = parse_head (cases[3].text, &err);
  guint32 n = 0;

  ck_assert_ptr_nonnull (r);
  ck_assert (!msrp_head_is_request (r));
  ck_assert_uint_eq (msrp_head_get_status_code (r), 200);
  ck_assert_str_eq (msrp_head_get_comment (r), "OK");
  ck_assert_ptr_null (msrp_head_get_method (r));
  ck_assert (!msrp_head_has_body (r));
  ck_assert_ptr_null (msrp_head_get_byte_range (r));
  /* RFC 4975 section 7.1.1 defaults */
  ck_assert_int_eq (msrp_head_get_failure_report (r), MSRP_REPORT_YES);
  ck_assert_int_eq (msrp_head_get_success_report (r), MSRP_REPORT_NO);

  ck_assert_ptr_nonnull (a);
  ck_assert (msrp_head_get_expires (a, MSRP_HEADER_EXPIRES, &n));
  ck_assert_uint_eq (n, 900);
  ck_assert (!msrp_head_get_expires (a, MSRP_HEADER_MIN_EXPIRES, &n));
  ck_assert_ptr_nonnull (msrp_head_get_use_path (a));
  ck_assert_uint_eq (msrp_head_get_use_path (a)->len, 1);
}
END_TEST

/* A path of @n URIs "msrp://hN.example.net:2855/s;tcp". */
static char *
long_path (guint n)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%smsrp://h%u.example.net:2855/s;tcp",
                            i > 0 ? " " : "", i);
  return g_string_free (s, FALSE);
}

static const struct
{
  const char *name;
  guint to_n, from_n; /* URIs in To-Path and From-Path (0: one bad URI) */
  const char *error;  /* part of the error */
  guint kept_to;      /* URIs the head keeps */
  guint kept_from;
  const char *to_addr; /* the 400's To-Path (NULL: cannot be addressed) */
} refused_paths[] = {
  { "to-path of 33", 33, 1, "To-Path: URI list has more than 32 URIs", 32, 1,
    "msrp://h0.example.net:2855/s;tcp" },
  { "from-path of 33", 1, 33, "From-Path: URI list has more than 32 URIs", 1,
    32, "msrp://h0.example.net:2855/s;tcp" },
  { "both of 200", 200, 200, "To-Path: URI list has more than 32 URIs", 32, 32,
    "msrp://h0.example.net:2855/s;tcp" },
  { "from-path of 380", 1, 380, "From-Path", 1, 32,
    "msrp://h0.example.net:2855/s;tcp" },
  { "first to-path uri bad", 0, 1, "To-Path", 0, 1, NULL },
};

/* A To-Path or From-Path the head refuses (33 to 380 URIs fit in the header
 * block) keeps the URIs a 400 needs, so that the request gets its answer
 * (RFC 4975 section 7.2) instead of none at all. */
START_TEST (test_refused_path_addresses_400)
{
  g_autofree char *to = refused_paths[_i].to_n > 0
                            ? long_path (refused_paths[_i].to_n)
                            : g_strdup ("http://x/;tcp");
  g_autofree char *from = long_path (refused_paths[_i].from_n);
  g_autofree char *text =
      g_strdup_printf ("MSRP pp01 SEND\r\nTo-Path: %s\r\nFrom-Path: %s\r\n"
                       "Message-ID: m1\r\n-------pp01$\r\n",
                       to, from);
  g_autofree char *err = NULL;
  g_autoptr (MsrpHead) head = parse_head_full (text, TRUE, &err);
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) b = NULL;
  g_autofree char *resp = NULL;
  g_autofree char *want = NULL;
  GPtrArray *tp = msrp_head_get_to_path (head);
  GPtrArray *fp = msrp_head_get_from_path (head);

  ck_assert_msg (err != NULL && strstr (err, refused_paths[_i].error) != NULL,
                 "%s: error '%s'", refused_paths[_i].name, err);
  ck_assert_uint_eq (tp != NULL ? tp->len : 0, refused_paths[_i].kept_to);
  ck_assert_uint_eq (fp != NULL ? fp->len : 0, refused_paths[_i].kept_from);
  /* The refused header is not among the headers: its value is not what
   * the head holds. */
  if (refused_paths[_i].to_n != 1)
    ck_assert_ptr_null (msrp_head_find (head, MSRP_HEADER_TO_PATH, NULL));
  if (refused_paths[_i].from_n != 1)
    ck_assert_ptr_null (msrp_head_find (head, MSRP_HEADER_FROM_PATH, NULL));
  if (refused_paths[_i].to_addr == NULL)
    {
      ck_assert_ptr_null (tp);
      return;
    }
  w = msrp_status_build_response ("SEND", "pp01", tp, fp, 400, err, &error);
  ck_assert_msg (w != NULL, "%s", error != NULL ? error->message : "");
  b = msrp_writer_to_bytes (w, NULL, '$', &error);
  ck_assert_ptr_nonnull (b);
  resp = g_strndup (g_bytes_get_data (b, NULL), g_bytes_get_size (b));
  want = g_strdup_printf ("MSRP pp01 400 %s\r\nTo-Path: %s\r\n"
                          "From-Path: msrp://h0.example.net:2855/s;tcp\r\n",
                          err, refused_paths[_i].to_addr);
  ck_assert_msg (g_str_has_prefix (resp, want), "%s: %s",
                 refused_paths[_i].name, resp);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("msrp-head");
  TCase *tc = tcase_create ("head");
  SRunner *sr;
  int failed;

  tcase_add_loop_test (tc, test_cases, 0, G_N_ELEMENTS (cases));
  tcase_add_test (tc, test_values);
  tcase_add_test (tc, test_defaults_and_response);
  tcase_add_loop_test (tc, test_refused_path_addresses_400, 0,
                       G_N_ELEMENTS (refused_paths));
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
