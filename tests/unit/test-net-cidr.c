/* Check suite for CIDR lists (gateway/net/net-cidr.c): parsing with the
 * errors an operator sees, the canonical form, matching at the edges of a
 * range, IPv4-mapped IPv6 addresses matched as IPv4, and the limits. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "net-cidr.h"

static const struct
{
  const char *text;
  const char *canonical;  /* NULL: must fail */
  const char *error_part; /* substring of the error when it fails */
} parse_cases[] = {
  { "", "", NULL },
  { " ; ;, ", "", NULL },
  { "127.0.0.0/8", "127.0.0.0/8", NULL },
  { "127.0.0.1", "127.0.0.1/32", NULL },
  { "::1", "::1/128", NULL },
  { " 10.0.0.0/8 ; fe80::/10,203.0.113.0/24 ",
    "10.0.0.0/8; fe80::/10; 203.0.113.0/24", NULL },
  { "0.0.0.0/0", "0.0.0.0/0", NULL },
  { "::/0", "::/0", NULL },
  { "2001:DB8::/32", "2001:db8::/32", NULL },
  /* Inside ::ffff:0:0/96: the IPv4 range it covers. */
  { "::ffff:127.0.0.0/104", "127.0.0.0/8", NULL },
  { "::ffff:10.1.2.3", "10.1.2.3/32", NULL },
  { "::ffff:0.0.0.0/96", "0.0.0.0/0", NULL },
  { "::/64", "::/64", NULL },
  { "10.1.2.3/8", NULL, "bits are set after the prefix" },
  { "fe80::1/10", NULL, "bits are set after the prefix" },
  { "10.0.0.0/33", NULL, "longer than 32" },
  { "::/129", NULL, "longer than 128" },
  { "10.0.0.0/", NULL, "prefix length is missing" },
  { "10.0.0.0/+8", NULL, "not a number" },
  { "10.0.0.0/0x8", NULL, "not a number" },
  { "10.0.0.0/ 8", NULL, "not a number" },
  { "10.0.0.0/0008", NULL, "more than 3 digits" },
  { "10.0.0.0/8/8", NULL, "not a number" },
  { "10.0.0", NULL, "not an IP address" },
  { "localhost", NULL, "not an IP address" },
  { "10.0.0.0/8; nonsense", NULL, "'nonsense'" },
  { "fe80::1%eth0", NULL, "zone identifier" },
  { "/8", NULL, "not an IP address" },
  /* fuzz-cidr found raw bytes in the message: quoted now. */
  { "127.0.\xd3\xd1\xcf\xd0"
    "8; ::1",
    NULL, "'127.0.\\xd3\\xd1\\xcf\\xd08' is not an address range" },
  { "10.0.0.0\\8", NULL, "'10.0.0.0\\x5c8'" },
};

START_TEST (test_parse)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NetCidrList) l =
      net_cidr_list_parse (parse_cases[_i].text, &error);

  if (parse_cases[_i].canonical != NULL)
    {
      g_autofree char *s = NULL;
      g_autoptr (NetCidrList) again = NULL;
      g_autofree char *s2 = NULL;

      ck_assert_msg (l != NULL, "'%s': %s", parse_cases[_i].text,
                     error ? error->message : "");
      s = net_cidr_list_to_string (l);
      ck_assert_str_eq (s, parse_cases[_i].canonical);
      /* The canonical text reads back to the same list. */
      again = net_cidr_list_parse (s, &error);
      ck_assert_ptr_nonnull (again);
      s2 = net_cidr_list_to_string (again);
      ck_assert_str_eq (s2, s);
    }
  else
    {
      ck_assert_msg (l == NULL, "'%s' parsed", parse_cases[_i].text);
      ck_assert_msg (
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT),
          "%s", error->message);
      ck_assert_msg (strstr (error->message, parse_cases[_i].error_part) !=
                         NULL,
                     "'%s': error '%s' lacks '%s'", parse_cases[_i].text,
                     error->message, parse_cases[_i].error_part);
    }
}
END_TEST

static const struct
{
  const char *list;
  const char *addr;
  const char *matched; /* NULL: no match */
} match_cases[] = {
  { "127.0.0.0/8", "127.0.0.0", "127.0.0.0/8" },
  { "127.0.0.0/8", "127.255.255.255", "127.0.0.0/8" },
  { "127.0.0.0/8", "128.0.0.0", NULL },
  { "127.0.0.0/8", "126.255.255.255", NULL },
  { "10.0.0.0/9", "10.127.255.255", "10.0.0.0/9" },
  { "10.0.0.0/9", "10.128.0.0", NULL },
  { "203.0.113.7", "203.0.113.7", "203.0.113.7/32" },
  { "203.0.113.7", "203.0.113.8", NULL },
  { "0.0.0.0/0", "8.8.8.8", "0.0.0.0/0" },
  /* Families never cross, but for mapped addresses. */
  { "0.0.0.0/0", "::1", NULL },
  { "::/0", "10.0.0.1", NULL },
  { "127.0.0.0/8", "::ffff:127.0.0.1", "127.0.0.0/8" },
  { "::ffff:127.0.0.0/104", "127.9.9.9", "127.0.0.0/8" },
  { "::/0", "::ffff:127.0.0.1", NULL },
  { "fe80::/10", "fe80::1", "fe80::/10" },
  { "fe80::/10", "febf:ffff::1", "fe80::/10" },
  { "fe80::/10", "fec0::1", NULL },
  { "::1", "::1", "::1/128" },
  { "::1", "::", NULL },
  { "2001:db8::/33", "2001:db8:7fff::1", "2001:db8::/33" },
  { "2001:db8::/33", "2001:db8:8000::1", NULL },
  /* The first range that matches is named. */
  { "10.0.0.0/8; 10.1.0.0/16", "10.1.2.3", "10.0.0.0/8" },
  { "", "10.1.2.3", NULL },
};

START_TEST (test_match)
{
  g_autoptr (NetCidrList) l = net_cidr_list_parse (match_cases[_i].list, NULL);
  g_autoptr (GInetAddress) a =
      g_inet_address_new_from_string (match_cases[_i].addr);
  const char *matched = NULL;
  gboolean hit;

  ck_assert_ptr_nonnull (l);
  ck_assert_ptr_nonnull (a);
  hit = net_cidr_list_match (l, a, &matched);
  if (match_cases[_i].matched == NULL)
    {
      ck_assert_msg (!hit, "%s matched %s (%s)", match_cases[_i].addr,
                     match_cases[_i].list, matched);
    }
  else
    {
      ck_assert_msg (hit, "%s did not match %s", match_cases[_i].addr,
                     match_cases[_i].list);
      ck_assert_str_eq (matched, match_cases[_i].matched);
    }
  ck_assert_int_eq (net_cidr_list_match (l, a, NULL), hit);
}
END_TEST

START_TEST (test_unmap)
{
  g_autoptr (GInetAddress) m =
      g_inet_address_new_from_string ("::ffff:192.0.2.1");
  g_autoptr (GInetAddress) v6 = g_inet_address_new_from_string ("::1");
  g_autoptr (GInetAddress) um = net_cidr_unmap (m);
  g_autoptr (GInetAddress) u6 = net_cidr_unmap (v6);
  g_autofree char *t = g_inet_address_to_string (um);

  ck_assert_int_eq (g_inet_address_get_family (um), G_SOCKET_FAMILY_IPV4);
  ck_assert_str_eq (t, "192.0.2.1");
  ck_assert (g_inet_address_equal (u6, v6));
}
END_TEST

START_TEST (test_limits)
{
  g_autoptr (GString) many = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (NetCidrList) full = NULL;
  g_autoptr (NetCidrList) over = NULL;
  g_autoptr (NetCidrList) copy = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  char long_item[NET_CIDR_ITEM_MAX + 2];

  for (guint i = 0; i < NET_CIDR_MAX_ITEMS; i++)
    g_string_append_printf (many, "10.%u.%u.0/24;", i / 256, i % 256);
  full = net_cidr_list_parse (many->str, &error);
  ck_assert_msg (full != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (net_cidr_list_get_length (full), NET_CIDR_MAX_ITEMS);
  g_string_append (many, "192.0.2.0/24");
  over = net_cidr_list_parse (many->str, &error);
  ck_assert_ptr_null (over);
  ck_assert_ptr_nonnull (strstr (error->message, "more than 1024"));
  g_clear_error (&error);

  memset (long_item, ' ', sizeof long_item - 1);
  long_item[sizeof long_item - 1] = '\0';
  memcpy (long_item, "10.0.0.0/8", 10);
  ck_assert (!net_cidr_list_add (full, long_item, &error));
  ck_assert_ptr_nonnull (strstr (error->message, "longer than 64"));

  copy = net_cidr_list_copy (full);
  a = net_cidr_list_to_string (full);
  b = net_cidr_list_to_string (copy);
  ck_assert_str_eq (a, b);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("net-cidr");
  TCase *tc = tcase_create ("cidr");
  SRunner *sr;
  int failed;

  tcase_add_loop_test (tc, test_parse, 0, G_N_ELEMENTS (parse_cases));
  tcase_add_loop_test (tc, test_match, 0, G_N_ELEMENTS (match_cases));
  tcase_add_test (tc, test_unmap);
  tcase_add_test (tc, test_limits);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
