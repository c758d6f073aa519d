/* test-msrp-headers.c: header values (msrp/msrp-headers.c).
 *
 * Every case is table-driven and every parser input sits against an
 * unreadable guard page (guard.h), so reading one byte past the value the
 * parser was given crashes the test. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "msrp-headers.h"

/* A value with explicit length, so NUL bytes and empty values fit. */
#define S(lit) (lit), (sizeof (lit) - 1)

static void
check_error (const GError *error, gint code, const char *substr)
{
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (error->domain == MSRP_HEADER_ERROR, "wrong domain: %s",
                 g_quark_to_string (error->domain));
  ck_assert_msg (error->code == code, "code %d, expected %d (%s)", error->code,
                 code, error->message);
  if (substr != NULL)
    ck_assert_msg (strstr (error->message, substr) != NULL,
                   "message \"%s\" lacks \"%s\"", error->message, substr);
}

/* ---------------------------------------------------------------------------
 * Header names
 * ------------------------------------------------------------------------- */

static const struct
{
  const char *name;
  gsize len;
  MsrpHeaderId id;
} name_cases[] = {
  { S ("To-Path"), MSRP_HEADER_TO_PATH },
  { S ("to-path"), MSRP_HEADER_TO_PATH },
  { S ("TO-PATH"), MSRP_HEADER_TO_PATH },
  { S ("From-Path"), MSRP_HEADER_FROM_PATH },
  { S ("Message-ID"), MSRP_HEADER_MESSAGE_ID },
  { S ("message-id"), MSRP_HEADER_MESSAGE_ID },
  { S ("Success-Report"), MSRP_HEADER_SUCCESS_REPORT },
  { S ("Failure-Report"), MSRP_HEADER_FAILURE_REPORT },
  { S ("Byte-Range"), MSRP_HEADER_BYTE_RANGE },
  { S ("Status"), MSRP_HEADER_STATUS },
  { S ("Content-Type"), MSRP_HEADER_CONTENT_TYPE },
  { S ("Content-ID"), MSRP_HEADER_CONTENT_ID },
  { S ("Content-Description"), MSRP_HEADER_CONTENT_DESCRIPTION },
  { S ("Content-Disposition"), MSRP_HEADER_CONTENT_DISPOSITION },
  { S ("Use-Path"), MSRP_HEADER_USE_PATH },
  { S ("Expires"), MSRP_HEADER_EXPIRES },
  { S ("Min-Expires"), MSRP_HEADER_MIN_EXPIRES },
  { S ("Max-Expires"), MSRP_HEADER_MAX_EXPIRES },
  { S ("WWW-Authenticate"), MSRP_HEADER_WWW_AUTHENTICATE },
  { S ("Authorization"), MSRP_HEADER_AUTHORIZATION },
  { S ("Authentication-Info"), MSRP_HEADER_AUTHENTICATION_INFO },
  /* not known */
  { S (""), MSRP_HEADER_OTHER },
  { S ("To-Pat"), MSRP_HEADER_OTHER },
  { S ("To-PathX"), MSRP_HEADER_OTHER },
  { S ("To-Path "), MSRP_HEADER_OTHER },
  { S (" To-Path"), MSRP_HEADER_OTHER },
  { S ("To-Path:"), MSRP_HEADER_OTHER },
  { S ("To_Path"), MSRP_HEADER_OTHER },
  { S ("To-Path\0"), MSRP_HEADER_OTHER },
  { S ("X-Custom"), MSRP_HEADER_OTHER },
  { S ("Expire"), MSRP_HEADER_OTHER },
  { S ("Stat\xc3\xbcs"), MSRP_HEADER_OTHER },
};

START_TEST (test_name_from)
{
  GuardBuf buf;

  guard_buf_init (&buf, name_cases[_i].name, name_cases[_i].len);
  ck_assert_int_eq (
      msrp_header_id_from_name ((const char *) buf.data, buf.len),
      name_cases[_i].id);
  guard_buf_clear (&buf);
}
END_TEST

START_TEST (test_name_round_trip)
{
  /* Every known id has a name that maps back to it. */
  for (int id = MSRP_HEADER_TO_PATH; id <= MSRP_HEADER_AUTHENTICATION_INFO;
       id++)
    {
      const char *name = msrp_header_id_to_name ((MsrpHeaderId) id);

      ck_assert_ptr_nonnull (name);
      ck_assert_int_eq (msrp_header_id_from_name (name, strlen (name)), id);
    }
  ck_assert_ptr_null (msrp_header_id_to_name (MSRP_HEADER_OTHER));
  ck_assert_ptr_null (msrp_header_id_to_name ((MsrpHeaderId) 1000));
  ck_assert_str_eq (msrp_header_id_to_name (MSRP_HEADER_BYTE_RANGE),
                    "Byte-Range");
}
END_TEST

/* ---------------------------------------------------------------------------
 * Header order
 * ------------------------------------------------------------------------- */

#define END_IDS (-1)
#define T MSRP_HEADER_TO_PATH
#define F MSRP_HEADER_FROM_PATH
#define O MSRP_HEADER_OTHER

static const struct
{
  const char *what;
  int ids[8];  /* terminated by END_IDS */
  int fail_at; /* index whose check() fails, -1 for none */
  gint check_code;
  const char *check_msg;
  gboolean finish_ok; /* when no check() failed */
  const char *finish_msg;
} order_cases[] = {
  { "response: paths only", { T, F, END_IDS }, -1, 0, NULL, TRUE, NULL },
  { "SEND",
    { T, F, MSRP_HEADER_MESSAGE_ID, MSRP_HEADER_BYTE_RANGE,
      MSRP_HEADER_CONTENT_TYPE, END_IDS },
    -1,
    0,
    NULL,
    TRUE,
    NULL },
  { "REPORT",
    { T, F, MSRP_HEADER_MESSAGE_ID, MSRP_HEADER_BYTE_RANGE, MSRP_HEADER_STATUS,
      END_IDS },
    -1,
    0,
    NULL,
    TRUE,
    NULL },
  { "AUTH 200",
    { T, F, MSRP_HEADER_USE_PATH, MSRP_HEADER_EXPIRES,
      MSRP_HEADER_AUTHENTICATION_INFO, END_IDS },
    -1,
    0,
    NULL,
    TRUE,
    NULL },
  { "extension headers repeat",
    { T, F, O, O, O, MSRP_HEADER_MESSAGE_ID, O, END_IDS },
    -1,
    0,
    NULL,
    TRUE,
    NULL },
  { "empty block", { END_IDS }, -1, 0, NULL, FALSE, "To-Path: mandatory" },
  { "only To-Path",
    { T, END_IDS },
    -1,
    0,
    NULL,
    FALSE,
    "From-Path: mandatory" },
  { "From-Path first",
    { F, T, END_IDS },
    0,
    MSRP_HEADER_ERROR_ORDER,
    "header 1 is From-Path, but To-Path must be the first",
    FALSE,
    NULL },
  { "To-Path second",
    { MSRP_HEADER_MESSAGE_ID, T, F, END_IDS },
    0,
    MSRP_HEADER_ERROR_ORDER,
    "header 1 is Message-ID",
    FALSE,
    NULL },
  { "extension first",
    { O, T, F, END_IDS },
    0,
    MSRP_HEADER_ERROR_ORDER,
    "header 1 is an extension header",
    FALSE,
    NULL },
  { "From-Path missing",
    { T, MSRP_HEADER_MESSAGE_ID, END_IDS },
    1,
    MSRP_HEADER_ERROR_ORDER,
    "header 2 is Message-ID, but From-Path must be the second",
    FALSE,
    NULL },
  { "From-Path third",
    { T, O, F, END_IDS },
    1,
    MSRP_HEADER_ERROR_ORDER,
    "header 2 is an extension header",
    FALSE,
    NULL },
  { "To-Path twice at start",
    { T, T, F, END_IDS },
    1,
    MSRP_HEADER_ERROR_DUPLICATE,
    "To-Path: header appears more than once",
    FALSE,
    NULL },
  { "To-Path again later",
    { T, F, MSRP_HEADER_MESSAGE_ID, T, END_IDS },
    3,
    MSRP_HEADER_ERROR_DUPLICATE,
    "To-Path: header appears more than once "
    "(again as header 4)",
    FALSE,
    NULL },
  { "From-Path again",
    { T, F, F, END_IDS },
    2,
    MSRP_HEADER_ERROR_DUPLICATE,
    "From-Path: header appears",
    FALSE,
    NULL },
  { "Message-ID twice",
    { T, F, MSRP_HEADER_MESSAGE_ID, O, MSRP_HEADER_MESSAGE_ID, END_IDS },
    4,
    MSRP_HEADER_ERROR_DUPLICATE,
    "Message-ID: header appears",
    FALSE,
    NULL },
  { "Byte-Range twice",
    { T, F, MSRP_HEADER_BYTE_RANGE, MSRP_HEADER_BYTE_RANGE, END_IDS },
    3,
    MSRP_HEADER_ERROR_DUPLICATE,
    "Byte-Range",
    FALSE,
    NULL },
  { "Content-Type twice",
    { T, F, MSRP_HEADER_CONTENT_TYPE, MSRP_HEADER_CONTENT_TYPE, END_IDS },
    3,
    MSRP_HEADER_ERROR_DUPLICATE,
    "Content-Type",
    FALSE,
    NULL },
  { "Authentication-Info twice",
    { T, F, MSRP_HEADER_AUTHENTICATION_INFO, MSRP_HEADER_AUTHENTICATION_INFO,
      END_IDS },
    3,
    MSRP_HEADER_ERROR_DUPLICATE,
    "Authentication-Info",
    FALSE,
    NULL },
};

START_TEST (test_order)
{
  MsrpHeaderOrder order;
  g_autoptr (GError) error = NULL;
  int i;

  msrp_header_order_init (&order);
  for (i = 0; order_cases[_i].ids[i] != END_IDS; i++)
    {
      gboolean ok = msrp_header_order_check (
          &order, (MsrpHeaderId) order_cases[_i].ids[i], &error);

      if (i == order_cases[_i].fail_at)
        {
          ck_assert_msg (!ok, "%s: header %d accepted", order_cases[_i].what,
                         i + 1);
          check_error (error, order_cases[_i].check_code,
                       order_cases[_i].check_msg);
          return;
        }
      ck_assert_msg (ok, "%s: header %d refused: %s", order_cases[_i].what,
                     i + 1, error ? error->message : "");
    }
  ck_assert_int_eq (order_cases[_i].fail_at, -1);
  if (order_cases[_i].finish_ok)
    ck_assert_msg (msrp_header_order_finish (&order, &error), "%s: %s",
                   order_cases[_i].what, error ? error->message : "");
  else
    {
      ck_assert (!msrp_header_order_finish (&order, &error));
      check_error (error, MSRP_HEADER_ERROR_MISSING,
                   order_cases[_i].finish_msg);
    }
}
END_TEST

START_TEST (test_order_every_known_once)
{
  /* Each known header once after the paths is fine; each a second time is a
   * duplicate; extension headers never are. */
  for (int dup = MSRP_HEADER_MESSAGE_ID;
       dup <= MSRP_HEADER_AUTHENTICATION_INFO; dup++)
    {
      MsrpHeaderOrder order;
      g_autoptr (GError) error = NULL;

      msrp_header_order_init (&order);
      ck_assert (msrp_header_order_check (&order, T, NULL));
      ck_assert (msrp_header_order_check (&order, F, NULL));
      for (int id = MSRP_HEADER_MESSAGE_ID;
           id <= MSRP_HEADER_AUTHENTICATION_INFO; id++)
        {
          ck_assert (
              msrp_header_order_check (&order, (MsrpHeaderId) id, NULL));
          ck_assert (msrp_header_order_check (&order, O, NULL));
        }
      if (dup == MSRP_HEADER_WWW_AUTHENTICATE)
        {
          /* One challenge per field, one field per algorithm (RFC 4976
           * section 7, RFC 7616 section 3.7). */
          ck_assert (
              msrp_header_order_check (&order, (MsrpHeaderId) dup, NULL));
          ck_assert (msrp_header_order_finish (&order, NULL));
          continue;
        }
      ck_assert (
          !msrp_header_order_check (&order, (MsrpHeaderId) dup, &error));
      check_error (error, MSRP_HEADER_ERROR_DUPLICATE,
                   msrp_header_id_to_name ((MsrpHeaderId) dup));
      ck_assert (msrp_header_order_finish (&order, NULL));
    }
}
END_TEST

#undef T
#undef F
#undef O

/* ---------------------------------------------------------------------------
 * Byte-Range
 * ------------------------------------------------------------------------- */

#define MAX64 G_MAXUINT64
#define E_STAR 1 /* range-end is "*" */
#define T_STAR 2 /* total is "*" */

static const struct
{
  const char *in;
  gsize len;
  gboolean ok;
  guint64 start, end, total; /* only when ok; 0 where "*" */
  int star;                  /* E_STAR | T_STAR */
  const char *canonical;     /* to_string() of the result; NULL = input */
  gint code;
  const char *msg;
} br_cases[] = {
  { S ("1-100/100"), TRUE, 1, 100, 100, 0, NULL, 0, NULL },
  { S ("1-*/*"), TRUE, 1, 0, 0, E_STAR | T_STAR, NULL, 0, NULL },
  { S ("1-*/174"), TRUE, 1, 0, 174, E_STAR, NULL, 0, NULL },
  { S ("1-2048/*"), TRUE, 1, 2048, 0, T_STAR, NULL, 0, NULL },
  { S ("2049-4385/4385"), TRUE, 2049, 4385, 4385, 0, NULL, 0, NULL },
  { S ("5-8/8"), TRUE, 5, 8, 8, 0, NULL, 0, NULL },
  { S ("8-8/8"), TRUE, 8, 8, 8, 0, NULL, 0, NULL },
  { S ("8-*/8"), TRUE, 8, 0, 8, E_STAR, NULL, 0, NULL },
  { S ("1-0/0"), TRUE, 1, 0, 0, 0, NULL, 0, NULL }, /* empty SEND, 7.1.1 */
  { S ("1-0/*"), TRUE, 1, 0, 0, T_STAR, NULL, 0, NULL },
  { S ("1-0/10"), TRUE, 1, 0, 10, 0, NULL, 0, NULL },
  { S ("1-*/0"), TRUE, 1, 0, 0, E_STAR, NULL, 0, NULL },
  { S ("0001-0002/0003"), TRUE, 1, 2, 3, 0, "1-2/3", 0, NULL },
  { S ("1-18446744073709551615/18446744073709551615"), TRUE, 1, MAX64, MAX64,
    0, NULL, 0, NULL },
  { S ("18446744073709551615-18446744073709551615/18446744073709551615"), TRUE,
    MAX64, MAX64, MAX64, 0, NULL, 0, NULL },
  { S ("18446744073709551615-*/*"), TRUE, MAX64, 0, 0, E_STAR | T_STAR, NULL,
    0, NULL },
  { S ("1-*/00000000000000000000000018446744073709551615"), TRUE, 1, 0, MAX64,
    E_STAR, "1-*/18446744073709551615", 0, NULL },
  /* overflow */
  { S ("18446744073709551616-*/*"), FALSE, 0, 0, 0, 0, NULL,
    MSRP_HEADER_ERROR_RANGE,
    "range-start 18446744073709551616 is larger than 18446744073709551615" },
  { S ("1-18446744073709551616/*"), FALSE, 0, 0, 0, 0, NULL,
    MSRP_HEADER_ERROR_RANGE, "range-end 18446744073709551616 is larger" },
  { S ("1-*/18446744073709551616"), FALSE, 0, 0, 0, 0, NULL,
    MSRP_HEADER_ERROR_RANGE, "total 18446744073709551616 is larger" },
  { S ("1-*/99999999999999999999"), FALSE, 0, 0, 0, 0, NULL,
    MSRP_HEADER_ERROR_RANGE, "total 99999999999999999999 is larger" },
  { S ("1-*/184467440737095516150"), FALSE, 0, 0, 0, 0, NULL,
    MSRP_HEADER_ERROR_RANGE, "total 184467440737095516150 is larger" },
  { S ("1-*/1234567890123456789012345678901234567890123456789"), FALSE, 0, 0,
    0, 0, NULL, MSRP_HEADER_ERROR_RANGE,
    "total 1234567890123456789012345678901234567890... is larger" },
  /* inconsistent numbers */
  { S ("0-10/10"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_RANGE,
    "range-start 0 is not >= 1" },
  { S ("0-*/*"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_RANGE,
    "range-start 0 is not >= 1" },
  { S ("5-3/10"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_RANGE,
    "range-end 3 is before range-start 5" },
  { S ("5-4/10"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_RANGE,
    "range-end 4 is before range-start 5" },
  { S ("2-0/0"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_RANGE,
    "range-end 0 is before range-start 2" },
  { S ("1-11/10"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_RANGE,
    "range-end 11 is beyond total 10" },
  { S ("1-1/0"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_RANGE,
    "range-end 1 is beyond total 0" },
  { S ("11-*/10"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_RANGE,
    "range-start 11 is beyond total 10" },
  { S ("2-*/0"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_RANGE,
    "range-start 2 is beyond total 0" },
  /* syntax */
  { S (""), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "expected range-start (digits) at offset 0, found the end of the value" },
  { S ("*-*/*"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "expected range-start (digits) at offset 0, found '*'" },
  { S ("1"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "expected '-' after range-start at offset 1, found the end" },
  { S ("1-"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "expected range-end (digits or '*') at offset 2" },
  { S ("1-10"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "expected '/' after range-end at offset 4" },
  { S ("1-10/"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "expected total (digits or '*') at offset 5" },
  { S ("1-10/10 "), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "unexpected byte 0x20 after total at offset 7" },
  { S (" 1-10/10"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "found byte 0x20" },
  { S ("1 -10/10"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "expected '-' after range-start at offset 1" },
  { S ("1-10/10\0"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "unexpected byte 0x00 after total at offset 7" },
  { S ("1\0-10/10"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "found byte 0x00" },
  { S ("1-**/*"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "expected '/' after range-end at offset 3, found '*'" },
  { S ("1-*/**"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "unexpected '*' after total" },
  { S ("+1-10/10"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "found '+'" },
  { S ("1--10/10"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "expected range-end" },
  { S ("1-0x10/16"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "expected '/' after range-end at offset 3, found 'x'" },
  { S ("1-10/1\xd9\xa3"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "unexpected byte 0xd9" }, /* ARABIC-INDIC DIGIT THREE */
  { S ("1-10/10/10"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "unexpected '/'" },
  { S ("1-10,10"), FALSE, 0, 0, 0, 0, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "found ','" },
  /* a syntax error behind an overflowing number: overflow reported */
  { S ("99999999999999999999x-1/1"), FALSE, 0, 0, 0, 0, NULL,
    MSRP_HEADER_ERROR_RANGE, "range-start 99999999999999999999 is larger" },
};

START_TEST (test_byte_range)
{
  GuardBuf buf;
  MsrpByteRange r = { 7, 7, 7, FALSE, FALSE };
  g_autoptr (GError) error = NULL;
  gboolean ok;

  guard_buf_init (&buf, br_cases[_i].in, br_cases[_i].len);
  ok = msrp_byte_range_parse ((const char *) buf.data, buf.len, &r, &error);
  guard_buf_clear (&buf);

  if (!br_cases[_i].ok)
    {
      ck_assert_msg (!ok, "case %d accepted", _i);
      check_error (error, br_cases[_i].code, br_cases[_i].msg);
      ck_assert_msg (r.start == 7 && r.end == 7 && r.total == 7,
                     "output touched on failure");
      return;
    }
  ck_assert_msg (ok, "case %d: %s", _i, error ? error->message : "");
  ck_assert_ptr_null (error);
  ck_assert_uint_eq (r.start, br_cases[_i].start);
  ck_assert_int_eq (r.end_unknown, (br_cases[_i].star & E_STAR) != 0);
  ck_assert_int_eq (r.total_unknown, (br_cases[_i].star & T_STAR) != 0);
  if (!r.end_unknown)
    ck_assert_uint_eq (r.end, br_cases[_i].end);
  if (!r.total_unknown)
    ck_assert_uint_eq (r.total, br_cases[_i].total);

  {
    g_autofree char *text = msrp_byte_range_to_string (&r);
    const char *want =
        br_cases[_i].canonical ? br_cases[_i].canonical : br_cases[_i].in;
    MsrpByteRange again;

    ck_assert_str_eq (text, want);
    ck_assert (msrp_byte_range_parse (text, strlen (text), &again, NULL));
    ck_assert_uint_eq (again.start, r.start);
  }
}
END_TEST

/* ---------------------------------------------------------------------------
 * Success-Report / Failure-Report
 * ------------------------------------------------------------------------- */

static const struct
{
  gboolean failure; /* Failure-Report rather than Success-Report */
  const char *in;
  gsize len;
  gboolean ok;
  MsrpReportMode mode;
  const char *msg;
} report_cases[] = {
  { FALSE, S ("yes"), TRUE, MSRP_REPORT_YES, NULL },
  { FALSE, S ("no"), TRUE, MSRP_REPORT_NO, NULL },
  { FALSE, S ("YES"), TRUE, MSRP_REPORT_YES, NULL }, /* RFC 4234 s.2.3 */
  { FALSE, S ("No"), TRUE, MSRP_REPORT_NO, NULL },
  { FALSE, S ("partial"), FALSE, 0,
    "Success-Report: \"partial\" is not one of \"yes\", \"no\"" },
  { FALSE, S (""), FALSE, 0, "Success-Report: \"\" is not one of" },
  { FALSE, S ("yes "), FALSE, 0, "\"yes \" is not one of" },
  { FALSE, S (" yes"), FALSE, 0, "\" yes\" is not one of" },
  { FALSE, S ("ye"), FALSE, 0, "\"ye\"" },
  { FALSE, S ("yess"), FALSE, 0, "\"yess\"" },
  { FALSE, S ("yes\0"), FALSE, 0, "a 4-byte value" },
  /* Only printable ASCII is quoted: the message goes to logs. */
  { FALSE, S ("y\xc3\xa9s"), FALSE, 0,
    "Success-Report: a 4-byte value is not one of" },
  { FALSE, S ("ye\xc2\x89s"), FALSE, 0, /* U+0089, a C1 control */
    "Success-Report: a 5-byte value is not one of" },
  { TRUE, S ("n\xc2\x85o"), FALSE, 0, /* U+0085 NEL */
    "Failure-Report: a 4-byte value is not one of" },
  { FALSE, S ("yes\tno"), FALSE, 0, "a 6-byte value" },
  { TRUE, S ("yes"), TRUE, MSRP_REPORT_YES, NULL },
  { TRUE, S ("no"), TRUE, MSRP_REPORT_NO, NULL },
  { TRUE, S ("partial"), TRUE, MSRP_REPORT_PARTIAL, NULL },
  { TRUE, S ("Partial"), TRUE, MSRP_REPORT_PARTIAL, NULL },
  { TRUE, S (""), FALSE, 0,
    "Failure-Report: \"\" is not one of \"yes\", "
    "\"no\", \"partial\"" },
  { TRUE, S ("partial "), FALSE, 0, "\"partial \"" },
  { TRUE, S ("partia"), FALSE, 0, "\"partia\"" },
  { TRUE, S ("no\0"), FALSE, 0, "a 3-byte value" },
  { TRUE, S ("maybe"), FALSE, 0, "\"maybe\"" },
  { TRUE, S ("yesyesyesyesyesyesyesyesyesyesyesyesyesyes"), FALSE, 0,
    "a 42-byte value" },
};

START_TEST (test_report)
{
  GuardBuf buf;
  MsrpReportMode mode = 77;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  guard_buf_init (&buf, report_cases[_i].in, report_cases[_i].len);
  if (report_cases[_i].failure)
    ok = msrp_failure_report_parse ((const char *) buf.data, buf.len, &mode,
                                    &error);
  else
    ok = msrp_success_report_parse ((const char *) buf.data, buf.len, &mode,
                                    &error);
  guard_buf_clear (&buf);

  if (report_cases[_i].ok)
    {
      ck_assert_msg (ok, "case %d: %s", _i, error ? error->message : "");
      ck_assert_int_eq (mode, report_cases[_i].mode);
    }
  else
    {
      ck_assert_msg (!ok, "case %d accepted", _i);
      check_error (error, MSRP_HEADER_ERROR_SYNTAX, report_cases[_i].msg);
      ck_assert_int_eq (mode, 77);
    }
}
END_TEST

START_TEST (test_report_strings)
{
  ck_assert_str_eq (msrp_report_mode_to_string (MSRP_REPORT_NO), "no");
  ck_assert_str_eq (msrp_report_mode_to_string (MSRP_REPORT_YES), "yes");
  ck_assert_str_eq (msrp_report_mode_to_string (MSRP_REPORT_PARTIAL),
                    "partial");
  /* section 7.1.1 defaults */
  ck_assert_int_eq (MSRP_SUCCESS_REPORT_DEFAULT, MSRP_REPORT_NO);
  ck_assert_int_eq (MSRP_FAILURE_REPORT_DEFAULT, MSRP_REPORT_YES);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Message-ID
 * ------------------------------------------------------------------------- */

static const struct
{
  const char *in;
  gsize len;
  gboolean ok;
  const char *msg;
} mid_cases[] = {
  { S ("abcd"), TRUE, NULL },
  { S ("a1b2c3d4e5"), TRUE, NULL },
  { S ("12345"), TRUE, NULL },
  { S ("A.-+%="), TRUE, NULL },
  { S ("87652491"), TRUE, NULL },
  { S ("a2345678901234567890123456789012"), TRUE, NULL }, /* 32 */
  { S ("a234567890123456789012345678901="), TRUE, NULL },
  { S (""), FALSE, "ident is 0 characters long, not 4 to 32" },
  { S ("abc"), FALSE, "ident is 3 characters long" },
  { S ("a23456789012345678901234567890123"), FALSE,
    "ident is 33 characters long" },
  { S (".abcd"), FALSE, "ident starts with '.', not a letter or digit" },
  { S ("=abc"), FALSE, "starts with '='" },
  { S (" abcd"), FALSE, "starts with byte 0x20" },
  { S ("abcd "), FALSE, "byte 0x20 at offset 4 is not an ident-char" },
  { S ("ab cd"), FALSE, "byte 0x20 at offset 2" },
  { S ("abcd\0"), FALSE, "byte 0x00 at offset 4" },
  { S ("\0abcd"), FALSE, "starts with byte 0x00" },
  { S ("ab_cd"), FALSE, "'_' at offset 2 is not an ident-char" },
  { S ("ab/cd"), FALSE, "'/' at offset 2" },
  { S ("abc\xc3\xa9"), FALSE, "byte 0xc3 at offset 3" },
  { S ("\xc3\xa9"
       "abc"),
    FALSE, "starts with byte 0xc3" },
  { S ("ab!"), FALSE, "'!' at offset 2" }, /* bad char beats length */
};

START_TEST (test_message_id)
{
  GuardBuf buf;
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok, valid;

  guard_buf_init (&buf, mid_cases[_i].in, mid_cases[_i].len);
  ok = msrp_message_id_parse ((const char *) buf.data, buf.len, &out, &error);
  valid = msrp_ident_is_valid ((const char *) buf.data, buf.len);
  guard_buf_clear (&buf);

  ck_assert_int_eq (ok, valid);
  if (mid_cases[_i].ok)
    {
      ck_assert_msg (ok, "case %d: %s", _i, error ? error->message : "");
      ck_assert_str_eq (out, mid_cases[_i].in);
    }
  else
    {
      ck_assert_msg (!ok, "case %d accepted", _i);
      ck_assert_ptr_null (out);
      check_error (error, MSRP_HEADER_ERROR_SYNTAX, mid_cases[_i].msg);
    }
}
END_TEST

/* ---------------------------------------------------------------------------
 * Status
 * ------------------------------------------------------------------------- */

static const struct
{
  const char *in;
  gsize len;
  gboolean ok;
  guint ns, code;
  const char *comment; /* NULL: none */
  const char *msg;
} status_cases[] = {
  { S ("000 200 OK"), TRUE, 0, 200, "OK", NULL },
  { S ("000 200"), TRUE, 0, 200, NULL, NULL },
  { S ("000 200 "), TRUE, 0, 200, "", NULL },
  { S ("000 413 Message too large, try again"), TRUE, 0, 413,
    "Message too large, try again", NULL },
  { S ("000 481 \tsession\tdoes not exist "), TRUE, 0, 481,
    "\tsession\tdoes not exist ", NULL },
  { S ("123 999 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), TRUE, 123, 999,
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", NULL },
  { S ("000 000"), TRUE, 0, 0, NULL, NULL },
  { S ("999 099 x"), TRUE, 999, 99, "x", NULL },
  { S (""), FALSE, 0, 0, NULL, "Status: namespace is not 3 digits" },
  { S ("000"), FALSE, 0, 0, NULL,
    "expected a space after the namespace at offset 3, found the end" },
  { S ("000 "), FALSE, 0, 0, NULL, "status-code is not 3 digits" },
  { S ("00 200"), FALSE, 0, 0, NULL, "namespace is not 3 digits" },
  { S ("0000 200"), FALSE, 0, 0, NULL, "namespace is not 3 digits" },
  { S (" 000 200"), FALSE, 0, 0, NULL, "namespace is not 3 digits" },
  { S ("000  200"), FALSE, 0, 0, NULL, "status-code is not 3 digits" },
  { S ("000\t200"), FALSE, 0, 0, NULL,
    "expected a space after the namespace "
    "at offset 3, found byte 0x09" },
  { S ("000 20"), FALSE, 0, 0, NULL, "status-code is not 3 digits" },
  { S ("000 2000"), FALSE, 0, 0, NULL, "status-code is not 3 digits" },
  { S ("000 20x"), FALSE, 0, 0, NULL, "status-code is not 3 digits" },
  { S ("000 200OK"), FALSE, 0, 0, NULL,
    "expected a space before the comment at offset 7, found 'O'" },
  { S ("000 200\tOK"), FALSE, 0, 0, NULL, "found byte 0x09" },
  { S ("abc 200 OK"), FALSE, 0, 0, NULL, "namespace is not 3 digits" },
  { S ("000 200 O\0K"), FALSE, 0, 0, NULL,
    "byte 0x00 at offset 9 is not allowed in utf8text" },
  { S ("000 200 OK\r"), FALSE, 0, 0, NULL, "byte 0x0d at offset 10" },
  { S ("000 200 OK\n"), FALSE, 0, 0, NULL, "byte 0x0a at offset 10" },
  { S ("000 200 \x7f"), FALSE, 0, 0, NULL, "byte 0x7f at offset 8" },
  { S ("000 200 \xc3"), FALSE, 0, 0, NULL,
    "invalid UTF-8 sequence at offset 8" },
  { S ("000 200 \xc0\xaf"), FALSE, 0, 0, NULL, "invalid UTF-8 sequence" },
  { S ("000 200 ok \xed\xa0\x80"), FALSE, 0, 0, NULL,
    "invalid UTF-8 sequence at offset 11" },
  { S ("\xd9\xa0\xd9\xa0\xd9\xa0 200"), FALSE, 0, 0, NULL,
    "namespace is not 3 digits" },
};

START_TEST (test_status)
{
  GuardBuf buf;
  MsrpStatus st = { 5, 5, NULL };
  g_autoptr (GError) error = NULL;
  gboolean ok;

  guard_buf_init (&buf, status_cases[_i].in, status_cases[_i].len);
  ok =
      msrp_status_header_parse ((const char *) buf.data, buf.len, &st, &error);
  guard_buf_clear (&buf);

  if (!status_cases[_i].ok)
    {
      ck_assert_msg (!ok, "case %d accepted", _i);
      check_error (error, MSRP_HEADER_ERROR_SYNTAX, status_cases[_i].msg);
      ck_assert (st.namespace_ == 5 && st.code == 5 && st.comment == NULL);
      return;
    }
  ck_assert_msg (ok, "case %d: %s", _i, error ? error->message : "");
  ck_assert_uint_eq (st.namespace_, status_cases[_i].ns);
  ck_assert_uint_eq (st.code, status_cases[_i].code);
  if (status_cases[_i].comment == NULL)
    ck_assert_ptr_null (st.comment);
  else
    ck_assert_str_eq (st.comment, status_cases[_i].comment);

  {
    g_autofree char *text = msrp_status_header_to_string (&st);

    ck_assert_str_eq (text, status_cases[_i].in);
  }
  msrp_status_header_clear (&st);
  ck_assert_ptr_null (st.comment);
  ck_assert_uint_eq (st.code, 0);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Content-Type
 * ------------------------------------------------------------------------- */

static const struct
{
  const char *in;
  gsize len;
  gboolean ok;
  const char *type, *subtype;
  guint n_params;
  const char *pname, *pvalue; /* one parameter to look up, or NULL */
  const char *canonical;      /* to_string(); NULL: same as input */
  gint code;
  const char *msg;
} ct_cases[] = {
  { S ("text/plain"), TRUE, "text", "plain", 0, NULL, NULL, NULL, 0, NULL },
  { S ("Text/HTML"), TRUE, "text", "html", 0, NULL, NULL, "text/html", 0,
    NULL },
  { S ("message/cpim"), TRUE, "message", "cpim", 0, "charset", NULL, NULL, 0,
    NULL },
  { S ("text/plain;charset=utf-8"), TRUE, "text", "plain", 1, "CHARSET",
    "utf-8", NULL, 0, NULL },
  { S ("text/plain; charset=UTF-8"), TRUE, "text", "plain", 1, "charset",
    "UTF-8", "text/plain;charset=UTF-8", 0, NULL },
  { S ("text/plain ;\tcharset=utf-8"), TRUE, "text", "plain", 1, "charset",
    "utf-8", "text/plain;charset=utf-8", 0, NULL },
  { S ("multipart/related;type=\"application/sdp\";boundary=xyz"), TRUE,
    "multipart", "related", 2, "type", "application/sdp", NULL, 0, NULL },
  { S ("multipart/mixed;boundary=\"a b\\\"c\\\\d\""), TRUE, "multipart",
    "mixed", 1, "boundary", "a b\"c\\d", NULL, 0, NULL },
  { S ("text/plain;Format=Flowed;delsp"), TRUE, "text", "plain", 2, "delsp",
    "", "text/plain;format=Flowed;delsp", 0, NULL },
  { S ("text/plain;x=\"\""), TRUE, "text", "plain", 1, "x", "", "text/plain;x",
    0, NULL },
  { S ("text/plain;x=\"caf\xc3\xa9\""), TRUE, "text", "plain", 1, "x",
    "caf\xc3\xa9", NULL, 0, NULL },
  { S ("text/plain;x=\"tab\there\""), TRUE, "text", "plain", 1, "x",
    "tab\there", NULL, 0, NULL },
  { S ("text/plain;x=1;x=2"), TRUE, "text", "plain", 2, "x", "1", NULL, 0,
    NULL },
  { S ("application/vnd.3gpp.sms+xml"), TRUE, "application",
    "vnd.3gpp.sms+xml", 0, NULL, NULL, NULL, 0, NULL },
  { S ("!#$%&'*+-.^_`|~/x"), TRUE, "!#$%&'*+-.^_`|~", "x", 0, NULL, NULL, NULL,
    0, NULL },
  /* syntax */
  { S (""), FALSE, NULL, NULL, 0, NULL, NULL, NULL, MSRP_HEADER_ERROR_SYNTAX,
    "expected a type token at offset 0, found the end of the value" },
  { S ("text"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "expected '/' after the type at offset 4" },
  { S ("text/"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "expected a subtype token at offset 5" },
  { S ("/plain"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "expected a type token at offset 0, found '/'" },
  { S ("text /plain"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "expected '/' after the type at offset 4" },
  { S ("text/ plain"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "expected a subtype token at offset 5" },
  { S ("text/plain "), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX,
    "expected ';' before a parameter at offset 11, found the end" },
  { S (" text/plain"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "found byte 0x20" },
  { S ("text/plain/x"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "expected ';' before a parameter at offset 10" },
  { S ("text/plain;"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "expected a parameter name token at offset 11" },
  { S ("text/plain;;a=b"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "expected a parameter name token" },
  { S ("text/plain;a="), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "expected a parameter value at offset 13" },
  { S ("text/plain;a = b"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "expected ';' before a parameter" },
  { S ("text/plain;a=b c"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "found 'c'" },
  { S ("text/plain;a=\"open"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX,
    "quoted-string opened at offset 13 is not closed" },
  { S ("text/plain;a=\"x\\\""), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "is not closed" },
  { S ("text/plain;a=\"x\\"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "backslash at offset 15" },
  { S ("text/plain;a=\"\\n\""), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "escapes neither" },
  { S ("text/plain;a=\"x\0y\""), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "byte 0x00 at offset 15" },
  { S ("text/plain;a=\"\xff\""), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "invalid UTF-8 sequence at offset 14" },
  { S ("text/plain;a=\"\xe2\x82\""), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "invalid UTF-8 sequence at offset 14" },
  { S ("text/pl\0ain"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "found byte 0x00" },
  { S ("t\xc3\xa9xt/plain"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "found byte 0xc3" },
  { S ("text/plain;charset=\xc3\xa9"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "expected a parameter value at offset 19" },
  { S ("text/(plain)"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "found '('" },
  { S ("text/plain;a=b\r\n"), FALSE, NULL, NULL, 0, NULL, NULL, NULL,
    MSRP_HEADER_ERROR_SYNTAX, "found byte 0x0d" },
  /* too many parameters: 33 */
  { S ("a/"
       "b;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p;p"),
    FALSE, NULL, NULL, 0, NULL, NULL, NULL, MSRP_HEADER_ERROR_RANGE,
    "Content-Type: more than 32 parameters" },
};

START_TEST (test_content_type)
{
  GuardBuf buf;
  g_autoptr (MsrpMediaType) mt = NULL;
  g_autoptr (GError) error = NULL;

  guard_buf_init (&buf, ct_cases[_i].in, ct_cases[_i].len);
  mt = msrp_media_type_parse ((const char *) buf.data, buf.len, &error);
  guard_buf_clear (&buf);

  if (!ct_cases[_i].ok)
    {
      ck_assert_msg (mt == NULL, "case %d accepted", _i);
      check_error (error, ct_cases[_i].code, ct_cases[_i].msg);
      return;
    }
  ck_assert_msg (mt != NULL, "case %d: %s", _i, error ? error->message : "");
  ck_assert_str_eq (msrp_media_type_get_type (mt), ct_cases[_i].type);
  ck_assert_str_eq (msrp_media_type_get_subtype (mt), ct_cases[_i].subtype);
  ck_assert_uint_eq (msrp_media_type_get_n_params (mt), ct_cases[_i].n_params);
  if (ct_cases[_i].pname != NULL)
    {
      const char *v = msrp_media_type_get_param (mt, ct_cases[_i].pname);

      if (ct_cases[_i].pvalue == NULL)
        ck_assert_ptr_null (v);
      else
        {
          ck_assert_ptr_nonnull (v);
          ck_assert_str_eq (v, ct_cases[_i].pvalue);
        }
    }
  ck_assert_ptr_null (msrp_media_type_get_param (mt, "no-such-param"));

  {
    g_autofree char *text = msrp_media_type_to_string (mt);
    g_autoptr (MsrpMediaType) again = NULL;
    g_autofree char *text2 = NULL;

    if (ct_cases[_i].canonical != NULL)
      ck_assert_str_eq (text, ct_cases[_i].canonical);
    else
      ck_assert_str_eq (text, ct_cases[_i].in);
    again = msrp_media_type_parse (text, strlen (text), NULL);
    ck_assert_ptr_nonnull (again);
    text2 = msrp_media_type_to_string (again);
    ck_assert_str_eq (text, text2);
  }
}
END_TEST

static const struct
{
  const char *type;
  const char *pattern;
  gboolean match;
} match_cases[] = {
  { "text/plain", "*", TRUE },
  { "text/plain", "text/plain", TRUE },
  { "text/plain", "TEXT/Plain", TRUE },
  { "Text/Plain", "text/plain", TRUE },
  { "text/plain", "text/*", TRUE },
  { "text/html;charset=utf-8", "text/*", TRUE },
  { "text/plain", "text/plain;charset=utf-8", TRUE }, /* section 8.6 */
  { "text/plain;charset=utf-8", "text/plain", TRUE },
  { "message/cpim", "message/cpim", TRUE },
  { "text/plain", "text/html", FALSE },
  { "text/plain", "text/plai", FALSE },
  { "text/plain", "text/plainx", FALSE },
  { "text/plain", "tex/plain", FALSE },
  { "text/plain", "texts/*", FALSE },
  { "text/plain", "image/*", FALSE },
  { "text/plain", "*/*", FALSE },
  { "text/plain", "*/plain", FALSE },
  { "text/plain", "", FALSE },
  { "text/plain", "text", FALSE },
  { "text/plain", "text/", FALSE },
  { "text/plain", "/plain", FALSE },
  { "text/plain", "text/plain ", FALSE },
  { "text/plain", " *", FALSE },
  { "text/plain", "**", FALSE },
  { "text/plain", "text/plain/x", FALSE },
  { "text/plain", ";", FALSE },
  { "text/plain", "*;q=1", TRUE },
};

START_TEST (test_matches)
{
  g_autoptr (MsrpMediaType) mt = NULL;

  mt = msrp_media_type_parse (match_cases[_i].type,
                              strlen (match_cases[_i].type), NULL);
  ck_assert_ptr_nonnull (mt);
  ck_assert_msg (msrp_media_type_matches (mt, match_cases[_i].pattern) ==
                     match_cases[_i].match,
                 "%s vs \"%s\"", match_cases[_i].type,
                 match_cases[_i].pattern);
}
END_TEST

/* ---------------------------------------------------------------------------
 * utf8text, Content-ID, Content-Description, Content-Disposition
 * ------------------------------------------------------------------------- */

static const struct
{
  const char *in;
  gsize len;
  gboolean ok;
  const char *msg;
} utf8_cases[] = {
  { S (""), TRUE, NULL },
  { S ("plain ASCII ~!@#$%^&*()"), TRUE, NULL },
  { S ("\ttab and trailing space "), TRUE, NULL },
  { S ("<abc@example.com>"), TRUE, NULL },
  { S ("\xc2\x80 \xc2\xa9 \xdf\xbf"), TRUE, NULL }, /* 2-byte */
  { S ("\xe0\xa0\x80 \xe2\x82\xac \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf"),
    TRUE, NULL }, /* 3-byte */
  { S ("\xf0\x90\x80\x80 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"), TRUE, NULL },
  { S ("\0"), FALSE, "byte 0x00 at offset 0 is not allowed in utf8text" },
  { S ("ab\0"), FALSE, "byte 0x00 at offset 2" },
  { S ("a\rb"), FALSE, "byte 0x0d at offset 1" },
  { S ("a\nb"), FALSE, "byte 0x0a at offset 1" },
  { S ("\x1f"), FALSE, "byte 0x1f at offset 0" },
  { S ("\x7f"), FALSE, "byte 0x7f at offset 0" },
  { S ("\x80"), FALSE, "invalid UTF-8 sequence at offset 0" }, /* lone cont */
  { S ("\xbf"), FALSE, "invalid UTF-8 sequence" },
  { S ("ok\xc3"), FALSE,
    "invalid UTF-8 sequence at offset 2" }, /* truncated */
  { S ("\xe2\x82"), FALSE, "invalid UTF-8 sequence at offset 0" },
  { S ("\xf0\x9f\x98"), FALSE, "invalid UTF-8 sequence" },
  { S ("\xc3 "), FALSE, "invalid UTF-8 sequence" },
  { S ("\xc0\x80"), FALSE, "invalid UTF-8 sequence" }, /* overlong */
  { S ("\xc1\xbf"), FALSE, "invalid UTF-8 sequence" },
  { S ("\xe0\x80\xaf"), FALSE, "invalid UTF-8 sequence" },
  { S ("\xe0\x9f\xbf"), FALSE, "invalid UTF-8 sequence" },
  { S ("\xf0\x8f\xbf\xbf"), FALSE, "invalid UTF-8 sequence" },
  { S ("\xed\xa0\x80"), FALSE, "invalid UTF-8 sequence" }, /* surrogate */
  { S ("\xed\xbf\xbf"), FALSE, "invalid UTF-8 sequence" },
  { S ("\xf4\x90\x80\x80"), FALSE, "invalid UTF-8 sequence" }, /* > 10FFFF */
  { S ("\xf5\x80\x80\x80"), FALSE, "invalid UTF-8 sequence" },
  { S ("\xf8\x88\x80\x80\x80"), FALSE, "invalid UTF-8 sequence" }, /* 5-byte */
  { S ("\xfc\x84\x80\x80\x80\x80"), FALSE, "invalid UTF-8 sequence" },
  { S ("\xfe"), FALSE, "invalid UTF-8 sequence" },
  { S ("\xff"), FALSE, "invalid UTF-8 sequence" },
  { S ("\xe2\x28\xa1"), FALSE, "invalid UTF-8 sequence at offset 0" },
  { S ("\xc3\xa9\xc3"), FALSE, "invalid UTF-8 sequence at offset 2" },
};

START_TEST (test_utf8text)
{
  GuardBuf buf;
  g_autoptr (GError) error = NULL;
  gboolean valid, ok;

  guard_buf_init (&buf, utf8_cases[_i].in, utf8_cases[_i].len);
  valid = msrp_utf8text_is_valid ((const char *) buf.data, buf.len);
  ok = msrp_utf8text_check (MSRP_HEADER_CONTENT_DESCRIPTION,
                            (const char *) buf.data, buf.len, &error);
  guard_buf_clear (&buf);

  ck_assert_int_eq (valid, utf8_cases[_i].ok);
  ck_assert_int_eq (ok, utf8_cases[_i].ok);
  if (!ok)
    {
      check_error (error, MSRP_HEADER_ERROR_SYNTAX, "Content-Description: ");
      check_error (error, MSRP_HEADER_ERROR_SYNTAX, utf8_cases[_i].msg);
    }
  else
    ck_assert_ptr_null (error);
}
END_TEST

START_TEST (test_utf8text_names)
{
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;

  ck_assert (!msrp_utf8text_check (MSRP_HEADER_CONTENT_ID, "a\rb", 3, &e1));
  check_error (e1, MSRP_HEADER_ERROR_SYNTAX, "Content-ID: byte 0x0d");
  ck_assert (!msrp_utf8text_check (MSRP_HEADER_OTHER, "\x01", 1, &e2));
  check_error (e2, MSRP_HEADER_ERROR_SYNTAX, "an extension header: byte 0x01");
  ck_assert (msrp_utf8text_is_valid (NULL, 0));
}
END_TEST

static const struct
{
  const char *in;
  gsize len;
  gboolean ok;
  const char *type;
  const char *msg;
} cd_cases[] = {
  { S ("inline"), TRUE, "inline", NULL },
  { S ("Attachment"), TRUE, "attachment", NULL },
  { S ("render"), TRUE, "render", NULL },
  { S ("attachment; filename=\"caf\xc3\xa9.txt\"; size=1234"), TRUE,
    "attachment", NULL },
  { S ("attachment;filename=a.txt"), TRUE, "attachment", NULL },
  { S ("inline ;x=y"), TRUE, "inline", NULL },
  { S ("inline;"), TRUE, "inline", NULL },
  { S ("x-custom.type"), TRUE, "x-custom.type", NULL },
  { S (""), FALSE, NULL,
    "expected a disposition type token at offset 0, "
    "found the end of the value" },
  { S (" inline"), FALSE, NULL, "found byte 0x20" },
  { S (";x=y"), FALSE, NULL, "found ';'" },
  { S ("inline "), FALSE, NULL, "trailing white space at offset 6" },
  { S ("inline\t"), FALSE, NULL, "trailing white space at offset 6" },
  { S ("in line"), FALSE, NULL,
    "expected ';' after the disposition type "
    "at offset 3, found 'l'" },
  { S ("inline/x"), FALSE, NULL, "at offset 6, found '/'" },
  { S ("inline\0"), FALSE, NULL, "found byte 0x00" },
  { S ("inline;\0"), FALSE, NULL,
    "byte 0x00 at offset 7 is not allowed in utf8text" },
  { S ("inline; a=\xff"), FALSE, NULL, "invalid UTF-8 sequence at offset 10" },
  { S ("inline; a=b\r\n"), FALSE, NULL, "byte 0x0d at offset 11" },
  { S ("\xc3\xa9"), FALSE, NULL, "found byte 0xc3" },
};

START_TEST (test_content_disposition)
{
  GuardBuf buf;
  g_autofree char *type = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok, ok_null;

  guard_buf_init (&buf, cd_cases[_i].in, cd_cases[_i].len);
  ok = msrp_content_disposition_parse ((const char *) buf.data, buf.len, &type,
                                       &error);
  ok_null = msrp_content_disposition_parse ((const char *) buf.data, buf.len,
                                            NULL, NULL);
  guard_buf_clear (&buf);

  ck_assert_int_eq (ok, ok_null);
  if (cd_cases[_i].ok)
    {
      ck_assert_msg (ok, "case %d: %s", _i, error ? error->message : "");
      ck_assert_str_eq (type, cd_cases[_i].type);
    }
  else
    {
      ck_assert_msg (!ok, "case %d accepted", _i);
      ck_assert_ptr_null (type);
      check_error (error, MSRP_HEADER_ERROR_SYNTAX, "Content-Disposition: ");
      check_error (error, MSRP_HEADER_ERROR_SYNTAX, cd_cases[_i].msg);
    }
}
END_TEST

/* ---------------------------------------------------------------------------
 * Expires, Min-Expires, Max-Expires
 * ------------------------------------------------------------------------- */

static const struct
{
  MsrpHeaderId which;
  const char *in;
  gsize len;
  gboolean ok;
  guint32 value;
  gint code;
  const char *msg;
} exp_cases[] = {
  { MSRP_HEADER_EXPIRES, S ("900"), TRUE, 900, 0, NULL },
  { MSRP_HEADER_EXPIRES, S ("0"), TRUE, 0, 0, NULL },
  { MSRP_HEADER_EXPIRES, S ("000000000000000000000000001800"), TRUE, 1800, 0,
    NULL },
  { MSRP_HEADER_MIN_EXPIRES, S ("4294967295"), TRUE, G_MAXUINT32, 0, NULL },
  { MSRP_HEADER_MAX_EXPIRES, S ("4294967294"), TRUE, G_MAXUINT32 - 1, 0,
    NULL },
  { MSRP_HEADER_EXPIRES, S ("4294967296"), FALSE, 0, MSRP_HEADER_ERROR_RANGE,
    "Expires: value 4294967296 is larger than 4294967295" },
  { MSRP_HEADER_MIN_EXPIRES, S ("18446744073709551615"), FALSE, 0,
    MSRP_HEADER_ERROR_RANGE,
    "Min-Expires: value 18446744073709551615 is larger than 4294967295" },
  { MSRP_HEADER_MAX_EXPIRES, S ("18446744073709551616"), FALSE, 0,
    MSRP_HEADER_ERROR_RANGE, "Max-Expires: value 18446744073709551616 is" },
  { MSRP_HEADER_EXPIRES, S ("42949672950"), FALSE, 0, MSRP_HEADER_ERROR_RANGE,
    "value 42949672950 is larger" },
  { MSRP_HEADER_EXPIRES, S (""), FALSE, 0, MSRP_HEADER_ERROR_SYNTAX,
    "Expires: expected digits at offset 0, found the end of the value" },
  { MSRP_HEADER_EXPIRES, S (" 900"), FALSE, 0, MSRP_HEADER_ERROR_SYNTAX,
    "expected digits at offset 0, found byte 0x20" },
  { MSRP_HEADER_EXPIRES, S ("900 "), FALSE, 0, MSRP_HEADER_ERROR_SYNTAX,
    "Expires: byte 0x20 at offset 3 is not a digit" },
  { MSRP_HEADER_EXPIRES, S ("-1"), FALSE, 0, MSRP_HEADER_ERROR_SYNTAX,
    "found '-'" },
  { MSRP_HEADER_EXPIRES, S ("+1"), FALSE, 0, MSRP_HEADER_ERROR_SYNTAX,
    "found '+'" },
  { MSRP_HEADER_EXPIRES, S ("1e3"), FALSE, 0, MSRP_HEADER_ERROR_SYNTAX,
    "'e' at offset 1 is not a digit" },
  { MSRP_HEADER_EXPIRES, S ("90\0"), FALSE, 0, MSRP_HEADER_ERROR_SYNTAX,
    "byte 0x00 at offset 2" },
  { MSRP_HEADER_MAX_EXPIRES, S ("\xd9\xa1"), FALSE, 0,
    MSRP_HEADER_ERROR_SYNTAX, "Max-Expires: expected digits" },
  { MSRP_HEADER_EXPIRES, S ("99999999999x"), FALSE, 0,
    MSRP_HEADER_ERROR_SYNTAX, "'x' at offset 11 is not a digit" },
};

START_TEST (test_expires)
{
  GuardBuf buf;
  guint32 v = 12345;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  guard_buf_init (&buf, exp_cases[_i].in, exp_cases[_i].len);
  ok = msrp_expires_parse (exp_cases[_i].which, (const char *) buf.data,
                           buf.len, &v, &error);
  guard_buf_clear (&buf);

  if (exp_cases[_i].ok)
    {
      ck_assert_msg (ok, "case %d: %s", _i, error ? error->message : "");
      ck_assert_uint_eq (v, exp_cases[_i].value);
    }
  else
    {
      ck_assert_msg (!ok, "case %d accepted", _i);
      check_error (error, exp_cases[_i].code, exp_cases[_i].msg);
      ck_assert_uint_eq (v, 12345);
    }
}
END_TEST

/* ---------------------------------------------------------------------------
 * To-Path, From-Path, Use-Path (the URI grammar is msrp-uri's; here only what
 * msrp_path_parse adds: the header name, error mapping, the list)
 * ------------------------------------------------------------------------- */

static const struct
{
  MsrpHeaderId which;
  const char *in;
  gsize len;
  guint n; /* 0: error */
  const char *msg;
} path_cases[] = {
  { MSRP_HEADER_TO_PATH, S ("msrp://bob.example.com:8888/9di4eae923wzd;tcp"),
    1, NULL },
  { MSRP_HEADER_FROM_PATH,
    S ("msrp://relay.example.net/r1;tcp msrps://a.example.org:9/s;tcp"), 2,
    NULL },
  { MSRP_HEADER_USE_PATH, S ("msrps://intra.example.com:9000/jui787s2f;tcp"),
    1, NULL },
  { MSRP_HEADER_TO_PATH, S (""), 0, "To-Path: " },
  { MSRP_HEADER_FROM_PATH, S ("http://example.com/;tcp"), 0, "From-Path: " },
  { MSRP_HEADER_USE_PATH, S ("msrp://a.example.com/s;tcp\0"), 0,
    "Use-Path: " },
  { MSRP_HEADER_TO_PATH, S ("msrp://a.example.com/s;tcp "), 0, "To-Path: " },
};

START_TEST (test_path)
{
  GuardBuf buf;
  g_autoptr (GPtrArray) uris = NULL;
  g_autoptr (GError) error = NULL;

  guard_buf_init (&buf, path_cases[_i].in, path_cases[_i].len);
  uris = msrp_path_parse (path_cases[_i].which, (const char *) buf.data,
                          buf.len, &error);
  guard_buf_clear (&buf);

  if (path_cases[_i].n > 0)
    {
      ck_assert_msg (uris != NULL, "case %d: %s", _i,
                     error ? error->message : "");
      ck_assert_uint_eq (uris->len, path_cases[_i].n);
    }
  else
    {
      ck_assert_msg (uris == NULL, "case %d accepted", _i);
      check_error (error, MSRP_HEADER_ERROR_SYNTAX, path_cases[_i].msg);
    }
}
END_TEST

START_TEST (test_path_too_many)
{
  g_autoptr (GString) s = g_string_new (NULL);
  g_autoptr (GPtrArray) uris = NULL;
  g_autoptr (GError) error = NULL;
  GuardBuf buf;

  for (int i = 0; i <= MSRP_URI_LIST_MAX; i++)
    g_string_append_printf (s, "%smsrp://h%d.example.com/s;tcp", i ? " " : "",
                            i);
  guard_buf_init (&buf, s->str, s->len);
  uris = msrp_path_parse (MSRP_HEADER_TO_PATH, (const char *) buf.data,
                          buf.len, &error);
  guard_buf_clear (&buf);
  ck_assert_ptr_null (uris);
  check_error (error, MSRP_HEADER_ERROR_RANGE, "To-Path: ");
  ck_assert (g_str_has_prefix (error->message, "To-Path: "));
}
END_TEST

/* ------------------------------------------------------------------------- */

static Suite *
headers_suite (void)
{
  Suite *s = suite_create ("msrp-headers");
  TCase *tc;

#define ADD_LOOP(name, fn, table)                                             \
  tc = tcase_create (name);                                                   \
  tcase_add_loop_test (tc, fn, 0, (int) G_N_ELEMENTS (table));                \
  suite_add_tcase (s, tc)

  ADD_LOOP ("names", test_name_from, name_cases);
  tcase_add_test (tc, test_name_round_trip);
  ADD_LOOP ("order", test_order, order_cases);
  tcase_add_test (tc, test_order_every_known_once);
  ADD_LOOP ("byte-range", test_byte_range, br_cases);
  ADD_LOOP ("report", test_report, report_cases);
  tcase_add_test (tc, test_report_strings);
  ADD_LOOP ("message-id", test_message_id, mid_cases);
  ADD_LOOP ("status", test_status, status_cases);
  ADD_LOOP ("content-type", test_content_type, ct_cases);
  ADD_LOOP ("matches", test_matches, match_cases);
  ADD_LOOP ("utf8text", test_utf8text, utf8_cases);
  tcase_add_test (tc, test_utf8text_names);
  ADD_LOOP ("content-disposition", test_content_disposition, cd_cases);
  ADD_LOOP ("expires", test_expires, exp_cases);
  ADD_LOOP ("path", test_path, path_cases);
  tcase_add_test (tc, test_path_too_many);
#undef ADD_LOOP

  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (headers_suite ());
  int failed;

  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
