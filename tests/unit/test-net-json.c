/* Check suite for JSON strings (gateway/net/net-json.c). */
#include <check.h>
#include <stdlib.h>

#include "net-json.h"

static const struct
{
  const char *in;
  const char *out;
} json_cases[] = {
  { NULL, "null" },
  { "", "\"\"" },
  { "plain", "\"plain\"" },
  { "q\"b\\", "\"q\\\"b\\\\\"" },
  { "a\nb\r\tc", "\"a\\nb\\r\\tc\"" },
  { "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
  { "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
  { "bad\xff"
    "x",
    "\"bad\\ufffdx\"" },
  { "cut\xc3", "\"cut\\ufffd\"" },
  { "\xe2\x82\xac/\xf0\x9f\x98\x80", "\"\xe2\x82\xac/\xf0\x9f\x98\x80\"" },
};

START_TEST (test_json)
{
  g_autoptr (GString) s = g_string_new (NULL);

  net_json_append_string (s, json_cases[_i].in);
  ck_assert_str_eq (s->str, json_cases[_i].out);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("net-json");
  TCase *tc = tcase_create ("strings");
  SRunner *sr;
  int failed;

  tcase_add_loop_test (tc, test_json, 0, G_N_ELEMENTS (json_cases));
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
