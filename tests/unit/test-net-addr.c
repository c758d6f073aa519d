/* Check suite for host:port lists (gateway/net/net-addr.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "net-addr.h"

static const struct
{
  const char *text;
  const char *canonical;  /* NULL: must fail */
  const char *error_part; /* substring of the error when it fails */
} cases[] = {
  { "127.0.0.1:2855", "127.0.0.1:2855", NULL },
  { "[::1]:2856", "[::1]:2856", NULL },
  { "[2001:db8::1]:1", "[2001:db8::1]:1", NULL },
  { "0.0.0.0:65535", "0.0.0.0:65535", NULL },
  { "::1:2855", NULL, "brackets" },
  { "127.0.0.1", NULL, "host:port" },
  { "127.0.0.1:0", NULL, "1 to 65535" },
  { "127.0.0.1:65536", NULL, "1 to 65535" },
  { "127.0.0.1:28x", NULL, "1 to 65535" },
  { "127.0.0.1:", NULL, "1 to 65535" },
  { "127.0.0.1:-5", NULL, "1 to 65535" },
  { "[::1]2855", NULL, "[address]:port" },
  { "localhost:2855", NULL, "not an IP address" },
};

START_TEST (test_parse)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) addr = net_addr_parse (cases[_i].text, &error);

  if (cases[_i].canonical != NULL)
    {
      g_autofree char *s = NULL;

      ck_assert_msg (addr != NULL, "%s: %s", cases[_i].text,
                     error ? error->message : "");
      s = net_addr_to_string (addr);
      ck_assert_str_eq (s, cases[_i].canonical);
    }
  else
    {
      ck_assert_msg (addr == NULL, "%s parsed", cases[_i].text);
      ck_assert_msg (strstr (error->message, cases[_i].error_part) != NULL,
                     "%s: error '%s' lacks '%s'", cases[_i].text,
                     error->message, cases[_i].error_part);
    }
}
END_TEST

START_TEST (test_list)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) l =
      net_addr_list_parse (" 127.0.0.1:1 ; [::1]:2;", &error);
  g_autoptr (GPtrArray) empty = net_addr_list_parse ("", NULL);
  g_autoptr (GPtrArray) bad = NULL;

  ck_assert_ptr_nonnull (l);
  ck_assert_uint_eq (l->len, 2);
  ck_assert_ptr_nonnull (empty);
  ck_assert_uint_eq (empty->len, 0);
  bad = net_addr_list_parse ("127.0.0.1:1;nonsense", &error);
  ck_assert_ptr_null (bad);
  ck_assert_ptr_nonnull (strstr (error->message, "nonsense"));
}
END_TEST

START_TEST (test_bindable)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) zero =
      net_addr_parse_bindable ("[::1]:0", &error);
  g_autoptr (GSocketAddress) strict = NULL;

  ck_assert_ptr_nonnull (zero);
  ck_assert_uint_eq (
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (zero)), 0);
  strict = net_addr_parse ("[::1]:0", &error);
  ck_assert_ptr_null (strict);
  ck_assert_ptr_nonnull (strstr (error->message, "from 1 to 65535"));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("net-addr");
  TCase *tc = tcase_create ("parse");
  SRunner *sr;
  int failed;

  tcase_add_loop_test (tc, test_parse, 0, G_N_ELEMENTS (cases));
  tcase_add_test (tc, test_list);
  tcase_add_test (tc, test_bindable);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
