/* Check suite for the connect policy (gateway/daemon/gw-connect-policy.c):
 * the order of its rules, the default denials, the gateway's own
 * listeners (wildcards included), IPv4-mapped addresses. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gw-connect-policy.h"

static const struct
{
  const char *conf;
  GwConnectKind kind;
  const char *addr;
  guint16 port;
  const char *rule; /* NULL: allowed; else a substring of the rule */
} cases[] = {
  /* 4: the default denials, and what is left allowed. */
  { "", GW_CONNECT_NEXT_HOP, "127.0.0.1", 22,
    "loopback 127.0.0.0/8 (refused unless [relay] next-hop-allow" },
  { "", GW_CONNECT_PARTY, "127.200.1.1", 22,
    "unless [negotiator] connect-allow" },
  { "", GW_CONNECT_PARTY, "::1", 22, "loopback ::1/128" },
  { "", GW_CONNECT_PARTY, "::ffff:127.0.0.1", 22, "loopback 127.0.0.0/8" },
  { "", GW_CONNECT_PARTY, "169.254.169.254", 80, "link-local" },
  { "", GW_CONNECT_PARTY, "fe80::1", 80, "link-local fe80::/10" },
  { "", GW_CONNECT_PARTY, "0.0.0.0", 80, "the unspecified address" },
  { "", GW_CONNECT_PARTY, "::", 80, "the unspecified address ::/128" },
  { "", GW_CONNECT_PARTY, "224.0.0.1", 80, "multicast" },
  { "", GW_CONNECT_PARTY, "ff02::1", 80, "multicast" },
  { "", GW_CONNECT_PARTY, "255.255.255.255", 80, "broadcast" },
  { "", GW_CONNECT_PARTY, "203.0.113.5", 2855, NULL },
  { "", GW_CONNECT_PARTY, "10.1.2.3", 2855, NULL },
  { "", GW_CONNECT_NEXT_HOP, "2001:db8::1", 2855, NULL },
  /* 3: the kind's allow list lifts the defaults, for its kind only. */
  { "[relay]\nnext-hop-allow=127.0.0.0/8\n", GW_CONNECT_NEXT_HOP, "127.0.0.1",
    22, NULL },
  { "[relay]\nnext-hop-allow=127.0.0.0/8\n", GW_CONNECT_PARTY, "127.0.0.1", 22,
    "loopback" },
  { "[negotiator]\nconnect-allow=::1\n", GW_CONNECT_PARTY, "::1", 22, NULL },
  /* 1: the deny list wins over the allow list. */
  { "[relay]\nnext-hop-allow=0.0.0.0/0\nnext-hop-deny=10.0.0.0/8\n",
    GW_CONNECT_NEXT_HOP, "10.9.9.9", 2855,
    "[relay] next-hop-deny 10.0.0.0/8" },
  { "[negotiator]\nconnect-deny=203.0.113.0/24\n", GW_CONNECT_PARTY,
    "::ffff:203.0.113.9", 2855, "[negotiator] connect-deny 203.0.113.0/24" },
  /* 2: the gateway's own listeners (see listen() below), whatever the
   * allow list says; another port of the same address is not one. */
  { "[relay]\nnext-hop-allow=0.0.0.0/0;::/0\n", GW_CONNECT_NEXT_HOP,
    "127.0.0.1", 2855, "the gateway's own msrp listener 127.0.0.1:2855" },
  { "[relay]\nnext-hop-allow=0.0.0.0/0;::/0\n", GW_CONNECT_NEXT_HOP,
    "::ffff:127.0.0.1", 2855, "own msrp listener" },
  { "[relay]\nnext-hop-allow=0.0.0.0/0;::/0\n", GW_CONNECT_NEXT_HOP, "0.0.0.0",
    2855, "own msrp listener" },
  { "[relay]\nnext-hop-allow=0.0.0.0/0;::/0\n", GW_CONNECT_NEXT_HOP,
    "127.0.0.1", 2856, NULL },
  { "[relay]\nnext-hop-allow=0.0.0.0/0;::/0\n", GW_CONNECT_NEXT_HOP,
    "203.0.113.1", 2855, NULL },
  /* The wildcard control listener's port on any host address, loopback
   * included. */
  { "[relay]\nnext-hop-allow=0.0.0.0/0;::/0\n", GW_CONNECT_NEXT_HOP,
    "127.0.0.2", 2223, "own control listener 0.0.0.0:2223" },
  { "[relay]\nnext-hop-allow=0.0.0.0/0;::/0\n", GW_CONNECT_NEXT_HOP, "::1",
    2223, "own control listener" },
  { "[relay]\nnext-hop-allow=0.0.0.0/0;::/0\n", GW_CONNECT_NEXT_HOP,
    "203.0.113.1", 2223, NULL },
};

static void
listen (GwConnectPolicy *p, const char *ip, guint16 port, const char *what)
{
  g_autoptr (GSocketAddress) a =
      g_inet_socket_address_new_from_string (ip, port);

  gw_connect_policy_add_listener (p, a, what);
}

START_TEST (test_rules)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GwConfig) config = gw_config_load_data (
      cases[_i].conf, strlen (cases[_i].conf), "test", &error);
  g_autoptr (GwConnectPolicy) p = NULL;
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string (cases[_i].addr);
  g_autofree char *rule = NULL;
  gboolean ok;

  ck_assert_msg (config != NULL, "%s", error ? error->message : "");
  ck_assert_ptr_nonnull (a);
  p = gw_connect_policy_new (config);
  listen (p, "127.0.0.1", 2855, "msrp");
  listen (p, "0.0.0.0", 2223, "control");
  ok = gw_connect_policy_allows (p, cases[_i].kind, a, cases[_i].port, &rule);
  if (cases[_i].rule == NULL)
    {
      ck_assert_msg (ok, "%s:%u refused: %s", cases[_i].addr, cases[_i].port,
                     rule);
      ck_assert_ptr_null (rule);
    }
  else
    {
      ck_assert_msg (!ok, "%s:%u allowed", cases[_i].addr, cases[_i].port);
      ck_assert_msg (rule != NULL && strstr (rule, cases[_i].rule) != NULL,
                     "%s:%u: rule '%s' lacks '%s'", cases[_i].addr,
                     cases[_i].port, rule, cases[_i].rule);
    }
  /* Port 0 judges the address alone: own listeners do not count. */
  if (cases[_i].rule != NULL && strstr (cases[_i].rule, "own") != NULL)
    ck_assert (gw_connect_policy_allows (p, cases[_i].kind, a, 0, NULL));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("gw-connect-policy");
  TCase *tc = tcase_create ("rules");
  SRunner *sr;
  int failed;

  tcase_add_loop_test (tc, test_rules, 0, G_N_ELEMENTS (cases));
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
