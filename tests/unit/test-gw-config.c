/* Check suite for the configuration loader (gateway/gw-config.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gw-config.h"

static const struct
{
  const char *name;
  const char *text;
  const char *error_part; /* NULL: must load */
} cases[] = {
  { "empty file keeps defaults", "", NULL },
  { "all groups",
    "[gateway]\npublic-host=edge.example.net\nname=edge1\n"
    "[listen]\nmsrp=127.0.0.1:2855;[::1]:2855\ncontrol=127.0.0.1:2223\n"
    "[relay]\nexpires-min=10\nexpires-default=20\nexpires-max=30\n"
    "[limits]\nmax-header-bytes=4096\n[log]\nformat=text\nlevel=debug\n",
    NULL },
  { "unknown group", "[relays]\nprobation=3\n", "unknown group [relays]" },
  { "unknown key", "[relay]\nexpire-max=3\n",
    "[relay] expire-max: unknown key" },
  { "not a number", "[relay]\nprobation=soon\n",
    "[relay] probation: 'soon' is not a whole number from 1 to 3600" },
  { "zero", "[limits]\nidle-timeout=0\n", "[limits] idle-timeout: '0'" },
  { "negative", "[limits]\nmax-connections=-1\n",
    "[limits] max-connections: '-1'" },
  { "min above max",
    "[relay]\nexpires-min=100\nexpires-max=50\n"
    "expires-default=70\n",
    "[relay] expires-max: 50 is less than expires-min" },
  { "default outside", "[relay]\nexpires-default=5\n",
    "[relay] expires-default: 5 is outside" },
  { "bad listen", "[listen]\nmsrp=::1:2855\n", "[listen] msrp: '::1:2855'" },
  { "no listener", "[listen]\nmsrp=\n", "no msrp and no msrps listener" },
  { "tls without cert", "[listen]\nmsrps=127.0.0.1:2856\n",
    "[listen] msrps: TLS listeners need" },
  { "missing file", "[tls]\ncertificate=/nonexistent/cert.pem\n",
    "[tls] certificate: '/nonexistent/cert.pem' is not a readable file" },
  { "bad bool", "[tls]\nverify-relays=maybe\n",
    "[tls] verify-relays: 'maybe' is not true or false" },
  { "bad log format", "[log]\nformat=xml\n",
    "[log] format: log format 'xml'" },
  { "empty name", "[gateway]\nname=\n", "[gateway] name: must not be empty" },
  { "per-ip above total",
    "[limits]\nmax-connections=5\n"
    "max-connections-per-ip=6\n",
    "max-connections-per-ip: 6 is more" },
  { "not a key file", "this is not ini\n", "test.conf:" },
  { "negotiator",
    "[negotiator]\npolicy=Always\ncall-timeout=60\n"
    "reachability-ttl=0\n",
    NULL },
  { "bad policy", "[negotiator]\npolicy=sometimes\n",
    "[negotiator] policy: 'sometimes' is not auto, always or never" },
  { "ice",
    "[ice]\nenabled=false\naddresses=203.0.113.1; 2001:db8::1\n"
    "port-min=50000\nport-max=50100\nstun-server=203.0.113.9:3478\n"
    "timeout=5\n",
    NULL },
  { "ice address with a port", "[ice]\naddresses=203.0.113.1:50000\n",
    "[ice] addresses: '203.0.113.1:50000' is not an IP address" },
  { "ice ports upside down", "[ice]\nport-min=6000\nport-max=5000\n",
    "[ice] port-max: 5000 is less than port-min (6000)" },
  { "cema",
    "[cema]\nenabled=false\naddresses=203.0.113.1; 2001:db8::1\n"
    "port-min=40000\n"
    "port-max=40999\n",
    NULL },
  { "cema address with a port", "[cema]\naddresses=203.0.113.1:40000\n",
    "[cema] addresses: '203.0.113.1:40000' is not an IP address" },
  { "cema ports upside down", "[cema]\nport-min=41000\nport-max=40000\n",
    "[cema] port-max: 40000 is less than port-min (41000)" },
  { "cema port-min 0 with a port-max", "[cema]\nport-max=40000\n",
    "[cema] port-min: 0 goes with port-max 0" },
  { "turn without credentials", "[ice]\nturn-server=203.0.113.9:3478\n",
    "[ice] turn-server: needs turn-username and turn-password" },
  { "metrics listeners", "[listen]\nhttp=127.0.0.1:9275;[::1]:9275\n", NULL },
  { "bad metrics listener", "[listen]\nhttp=localhost\n",
    "[listen] http: 'localhost'" },
  { "zero call-timeout", "[negotiator]\ncall-timeout=0\n",
    "[negotiator] call-timeout: '0' is not a whole number from 1" },
  { "call limits", "[limits]\nmax-calls=2\ndrain-timeout=0\n", NULL },
  { "zero max-calls", "[limits]\nmax-calls=0\n",
    "[limits] max-calls: '0' is not a whole number from 1 to 10000000" },
  { "drain-timeout too long", "[limits]\ndrain-timeout=604801\n",
    "[limits] drain-timeout: '604801' is not a whole number from 0" },
  { "connect policy lists",
    "[negotiator]\nconnect-allow=127.0.0.0/8; ::1\nconnect-deny=\n"
    "[relay]\nnext-hop-allow=203.0.113.0/24\n"
    "next-hop-deny=10.0.0.0/8,192.168.0.0/16\n",
    NULL },
  { "connect-allow not a range", "[negotiator]\nconnect-allow=localhost\n",
    "[negotiator] connect-allow: 'localhost' is not an address range: not "
    "an IP address" },
  { "next-hop-deny host bits", "[relay]\nnext-hop-deny=10.1.2.3/8\n",
    "[relay] next-hop-deny: '10.1.2.3/8' is not an address range: bits are "
    "set after the prefix" },
  { "next-hop-allow long prefix", "[relay]\nnext-hop-allow=::1/129\n",
    "[relay] next-hop-allow: '::1/129' is not an address range: the prefix "
    "length 129 is longer than 128" },
  { "auth throttle",
    "[auth]\nthrottle-address-failures=0\nthrottle-user-failures=3\n"
    "throttle-window=60\nthrottle-backoff-max=60\nthrottle-entries=10\n",
    NULL },
  { "throttle back-off beyond its window",
    "[auth]\nthrottle-window=30\nthrottle-backoff-max=31\n",
    "[auth] throttle-backoff-max: 31 is more than throttle-window (30)" },
  { "zero throttle window", "[auth]\nthrottle-window=0\n",
    "[auth] throttle-window: '0' is not a whole number from 1" },
  { "zero throttle entries", "[auth]\nthrottle-entries=0\n",
    "[auth] throttle-entries: '0' is not a whole number from 1" },
  { "first request", "[limits]\nfirst-request-timeout=3600\n", NULL },
  { "zero first request", "[limits]\nfirst-request-timeout=0\n",
    "[limits] first-request-timeout: '0' is not a whole number from 1 to "
    "3600" },
  { "keep-alives",
    "[keepalive]\ntcp-idle=0\ntcp-interval=600\ntcp-count=127\n"
    "msrp-interval=3600\n",
    NULL },
  { "tcp-idle beyond two hours", "[keepalive]\ntcp-idle=7201\n",
    "[keepalive] tcp-idle: '7201' is not a whole number from 0 to 7200" },
  { "zero tcp-interval", "[keepalive]\ntcp-interval=0\n",
    "[keepalive] tcp-interval: '0' is not a whole number from 1 to 600" },
  { "tcp-count beyond the kernel's", "[keepalive]\ntcp-count=128\n",
    "[keepalive] tcp-count: '128' is not a whole number from 1 to 127" },
  { "zero msrp-interval", "[keepalive]\nmsrp-interval=0\n",
    "[keepalive] msrp-interval: '0' is not a whole number from 1 to 3600" },
};

START_TEST (test_load)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GwConfig) c =
      gw_config_load_data (cases[_i].text, (gsize) -1, "test.conf", &error);

  if (cases[_i].error_part == NULL)
    {
      ck_assert_msg (c != NULL, "%s: %s", cases[_i].name, error->message);
    }
  else
    {
      ck_assert_msg (c == NULL, "%s: loaded", cases[_i].name);
      ck_assert_msg (strstr (error->message, cases[_i].error_part) != NULL,
                     "%s: '%s' lacks '%s'", cases[_i].name, error->message,
                     cases[_i].error_part);
      ck_assert_msg (g_str_has_prefix (error->message, "test.conf: "),
                     "%s: '%s' does not name the file", cases[_i].name,
                     error->message);
    }
}
END_TEST

START_TEST (test_values)
{
  const char *text =
      "[gateway]\npublic-host=edge.example.net\n"
      "[listen]\nmsrp=127.0.0.1:2855;[::1]:2857\n[relay]\nprobation=7\n"
      "[log]\nformat=text\nlevel=warning\n";
  g_autoptr (GwConfig) c =
      gw_config_load_data (text, strlen (text), "t", NULL);
  g_autoptr (GwConfig) d = gw_config_new_default ();

  ck_assert_ptr_nonnull (c);
  ck_assert_str_eq (c->public_host, "edge.example.net");
  ck_assert_str_eq (c->auth_realm, "edge.example.net");
  ck_assert_uint_eq (c->listen_msrp->len, 2);
  ck_assert_uint_eq (c->probation, 7);
  ck_assert_uint_eq (c->report_timeout, 30);
  ck_assert_int_eq (c->log_format, GW_LOG_FORMAT_TEXT);
  ck_assert_int_eq (c->log_level, G_LOG_LEVEL_WARNING);
  ck_assert_str_eq (c->source, "t");

  /* The throttle's documented defaults (packaging/msrp-edge.conf). */
  ck_assert_uint_eq (d->auth_throttle_address_failures, 5);
  ck_assert_uint_eq (d->auth_throttle_user_failures, 20);
  ck_assert_uint_eq (d->auth_throttle_window, 600);
  ck_assert_uint_eq (d->auth_throttle_backoff_max, 60);
  ck_assert_uint_eq (d->auth_throttle_entries, 16384);
  ck_assert_uint_eq (d->first_request_timeout, 5);
  ck_assert_str_eq (d->source, "embedded default");
  ck_assert_uint_eq (d->listen_msrp->len, 1);
  ck_assert_uint_eq (d->listen_msrps->len, 0);
  ck_assert_uint_eq (d->listen_control->len, 1);
  /* [cema]: the msrp listeners' addresses, ports the kernel picks. */
  ck_assert (d->cema_enabled);
  ck_assert_uint_eq (d->cema_addresses->len, 0);
  ck_assert_uint_eq (d->cema_port_min, 0);
  ck_assert_uint_eq (d->cema_port_max, 0);
  ck_assert_uint_eq (d->max_calls, 10000);
  ck_assert_uint_eq (d->drain_timeout, 60);
  /* The connect policy's lists are empty by default. */
  ck_assert_uint_eq (net_cidr_list_get_length (d->connect_allow), 0);
  ck_assert_uint_eq (net_cidr_list_get_length (d->connect_deny), 0);
  ck_assert_uint_eq (net_cidr_list_get_length (d->next_hop_allow), 0);
  ck_assert_uint_eq (net_cidr_list_get_length (d->next_hop_deny), 0);
}
END_TEST

/* The connections' options: the idle timeout, TCP keep-alives under the
 * 30 s some NATs keep an idle mapping, and a user timeout as long as the
 * keep-alives take to give up (README.md "Standing connections"); none of
 * the two with tcp-idle=0. */
START_TEST (test_conn_options)
{
  const char *off = "[keepalive]\ntcp-idle=0\n[limits]\nidle-timeout=90\n";
  g_autoptr (GwConfig) d = gw_config_new_default ();
  g_autoptr (GwConfig) c = gw_config_load_data (off, strlen (off), "t", NULL);
  NetConnOptions o;

  ck_assert_uint_eq (d->keepalive_tcp_idle, 25);
  ck_assert_uint_eq (d->keepalive_tcp_interval, 10);
  ck_assert_uint_eq (d->keepalive_tcp_count, 3);
  ck_assert_uint_eq (d->keepalive_msrp_interval, 25);
  gw_config_conn_options (d, &o);
  ck_assert_uint_eq (o.idle_timeout_ms, 300000);
  ck_assert_uint_eq (o.keepalive_idle_s, 25);
  ck_assert_uint_eq (o.keepalive_interval_s, 10);
  ck_assert_uint_eq (o.keepalive_count, 3);
  ck_assert_uint_eq (o.user_timeout_ms, 55000);
  ck_assert_uint_eq (o.high_watermark, 0);

  ck_assert_ptr_nonnull (c);
  gw_config_conn_options (c, &o);
  ck_assert_uint_eq (o.idle_timeout_ms, 90000);
  ck_assert_uint_eq (o.keepalive_idle_s, 0);
  ck_assert_uint_eq (o.user_timeout_ms, 0);
}
END_TEST

START_TEST (test_example_file)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GwConfig) c = gw_config_load (EXAMPLE_CONF, &error);

  ck_assert_msg (c != NULL, "%s", error ? error->message : "");
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("gw-config");
  TCase *tc = tcase_create ("load");
  SRunner *sr;
  int failed;

  tcase_add_loop_test (tc, test_load, 0, G_N_ELEMENTS (cases));
  tcase_add_test (tc, test_values);
  tcase_add_test (tc, test_conn_options);
  tcase_add_test (tc, test_example_file);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
