/* Check suite for finding where an MSRP URI's authority is
 * (gateway/net/net-resolve.c): the RFC 2782 order against tables of draws,
 * and the lookups (RFC 4975 section 6.2, RFC 4976 section 8) through a
 * GResolver of the test's own, set as GLib's default, so that no DNS
 * server is needed and every query made is written down. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net-addr.h"
#include "net-resolve.h"
#include "testloop.h"
#include "testresolver.h"

/* --- a scripted random source -------------------------------------------- */

typedef struct
{
  const guint32 *draws; /* what to return, in turn */
  guint n_draws;
  guint used;
  GString *bounds; /* the bounds asked for, "3 2 " */
} Script;

static guint32
scripted (guint32 bound, gpointer user_data)
{
  Script *s = user_data;
  guint32 v;

  g_string_append_printf (s->bounds, "%u ", bound);
  ck_assert_msg (s->used < s->n_draws,
                 "draw %u asked for (bound %u), "
                 "the table has %u",
                 s->used + 1, bound, s->n_draws);
  v = s->draws[s->used++];
  ck_assert_msg (v < bound, "the table draws %u, bound %u", v, bound);
  return v;
}

/* --- RFC 2782 order against tables --------------------------------------- */

#define MAX_T 6
#define MAX_D 4

/* The sets of records the cases order. */
static const NetSrvTarget by_priority[] = { { "a", 10, 0, 1 },
                                            { "b", 0, 0, 1 },
                                            { "c", 5, 0, 1 } };
/* RFC 4976 section 8's example. */
static const NetSrvTarget rfc4976[] = { { "server1", 0, 1, 9000 },
                                        { "server2", 0, 2, 9000 } };
static const NetSrvTarget with_zero[] = { { "x", 0, 3, 1 }, { "z", 0, 0, 1 } };
static const NetSrvTarget all_zero[] = { { "a", 0, 0, 1 },
                                         { "b", 0, 0, 1 },
                                         { "c", 0, 0, 1 } };
static const NetSrvTarget tens[] = { { "a", 0, 10, 1 },
                                     { "b", 0, 20, 1 },
                                     { "c", 0, 70, 1 } };
static const NetSrvTarget ones[] = {
  { "a", 0, 1, 1 }, { "b", 0, 1, 1 }, { "c", 0, 1, 1 }, { "d", 0, 1, 1 }
};
static const NetSrvTarget mixed[] = { { "p1a", 1, 5, 1 },
                                      { "p0z", 0, 0, 1 },
                                      { "p1z", 1, 0, 1 },
                                      { "p0w", 0, 5, 1 },
                                      { "p2", 2, 1, 1 } };
static const NetSrvTarget interleaved[] = {
  { "b1", 1, 1, 1 }, { "a0", 0, 1, 1 }, { "b2", 1, 3, 1 }, { "a1", 0, 1, 1 }
};

#define SET(set) set, G_N_ELEMENTS (set)

static const struct
{
  const char *what;
  const NetSrvTarget *in; /* target, priority, weight, port */
  gsize n;
  guint32 draws[MAX_D];
  guint n_draws;
  const char *bounds; /* asked of the source, in turn */
  const char *order;  /* targets, in the order to try */
} order_cases[] = {
  { "priorities alone: lowest first, no draw",
    SET (by_priority),
    { 0 },
    0,
    "",
    "b c a" },
  /* Weights 1 and 2, no weight 0: R from [1, 3]. */
  { "RFC 4976 example, R=1",
    SET (rfc4976),
    { 0 },
    1,
    "3 ",
    "server1 server2" },
  { "RFC 4976 example, R=2",
    SET (rfc4976),
    { 1 },
    1,
    "3 ",
    "server2 server1" },
  { "RFC 4976 example, R=3",
    SET (rfc4976),
    { 2 },
    1,
    "3 ",
    "server2 server1" },
  /* A weight-0 record left: R from [0, sum], R=0 is its chance. */
  { "weight 0 drawn at R=0", SET (with_zero), { 0 }, 1, "4 ", "z x" },
  { "weight 0 passed over at R=1", SET (with_zero), { 1 }, 1, "4 ", "x z" },
  { "all weight 0: a uniform draw",
    SET (all_zero),
    { 2, 0 },
    2,
    "3 2 ",
    "c a b" },
  { "weights 10 20 70: R=30 then R=10",
    SET (tens),
    { 29, 9 },
    2,
    "100 80 ",
    "b a c" },
  { "weights 10 20 70: R=100 then R=30",
    SET (tens),
    { 99, 29 },
    2,
    "100 30 ",
    "c b a" },
  { "records passed over keep the answer's order",
    SET (ones),
    { 3, 0, 1 },
    3,
    "4 3 2 ",
    "d a c b" },
  { "priorities and weights mixed",
    SET (mixed),
    { 5, 0 },
    2,
    "6 6 ",
    "p0w p0z p1z p1a p2" },
  { "equal priorities apart keep apart",
    SET (interleaved),
    { 0, 3 },
    2,
    "2 4 ",
    "a0 a1 b2 b1" },
};

START_TEST (test_order_table)
{
  NetSrvTarget t[MAX_T];
  Script s = { order_cases[_i].draws, order_cases[_i].n_draws, 0,
               g_string_new (NULL) };
  g_autoptr (GString) order = g_string_new (NULL);

  ck_assert_uint_le (order_cases[_i].n, MAX_T);
  memcpy (t, order_cases[_i].in, order_cases[_i].n * sizeof *t);
  net_resolve_order_srv (t, order_cases[_i].n, scripted, &s);
  for (guint i = 0; i < order_cases[_i].n; i++)
    g_string_append_printf (order, "%s%s", i > 0 ? " " : "", t[i].target);
  ck_assert_msg (strcmp (order->str, order_cases[_i].order) == 0,
                 "%s: order '%s', not '%s'", order_cases[_i].what, order->str,
                 order_cases[_i].order);
  ck_assert_msg (strcmp (s.bounds->str, order_cases[_i].bounds) == 0,
                 "%s: bounds '%s', not '%s'", order_cases[_i].what,
                 s.bounds->str, order_cases[_i].bounds);
  ck_assert_uint_eq (s.used, order_cases[_i].n_draws);
  /* The ports travel with their targets. */
  for (guint i = 0; i < order_cases[_i].n; i++)
    for (guint j = 0; j < order_cases[_i].n; j++)
      if (strcmp (t[i].target, order_cases[_i].in[j].target) == 0)
        {
          ck_assert_uint_eq (t[i].port, order_cases[_i].in[j].port);
          ck_assert_uint_eq (t[i].weight, order_cases[_i].in[j].weight);
          ck_assert_uint_eq (t[i].priority, order_cases[_i].in[j].priority);
        }
  g_string_free (s.bounds, TRUE);
}
END_TEST

static guint32
seeded (guint32 bound, gpointer user_data)
{
  return (guint32) g_rand_int_range (user_data, 0, (gint32) bound);
}

/* How often @first comes first out of 30,000 orders of @in. */
static double
share_first (const NetSrvTarget *in, guint n, const char *first)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (2782);
  guint hits = 0;

  for (guint k = 0; k < 30000; k++)
    {
      NetSrvTarget t[MAX_T];

      memcpy (t, in, n * sizeof *t);
      net_resolve_order_srv (t, n, seeded, rand);
      hits += strcmp (t[0].target, first) == 0;
    }
  return hits / 30000.0;
}

/* The shares come out as RFC 2782 means them (GLib 2.74's own order gives
 * 1/2 for the first case and 2/3 for the second). */
START_TEST (test_order_shares)
{
  const NetSrvTarget zero[] = { { "z", 0, 0, 1 },
                                { "a", 0, 10, 1 },
                                { "b", 0, 10, 1 } };
  double s2 = share_first (rfc4976, 2, "server2");
  /* The first two of ones: a and b, weight 1 each. */
  double a = share_first (ones, 2, "a");
  double z = share_first (zero, 3, "z");

  ck_assert_msg (s2 > 0.65 && s2 < 0.683, "weight 2 of 3 first: %f", s2);
  ck_assert_msg (a > 0.49 && a < 0.51, "equal weights: %f", a);
  ck_assert_msg (z > 0.04 && z < 0.056, "weight 0 beside 10 and 10: %f", z);
}
END_TEST

START_TEST (test_order_empty_and_default_source)
{
  NetSrvTarget t[] = { { "b", 1, 1, 1 }, { "a", 0, 1, 1 } };

  net_resolve_order_srv (NULL, 0, NULL, NULL);
  net_resolve_order_srv (t, G_N_ELEMENTS (t), NULL, NULL);
  ck_assert_str_eq (t[0].target, "a");
  ck_assert_str_eq (t[1].target, "b");
}
END_TEST

/* --- the lookups --------------------------------------------------------- */

static TestResolver *dns;

/* The farm's SRV name in setup(); a lookup case's srv replaces its
 * answer. */
#define FARM_SRV "_msrps._tcp.farm.test"

static void
setup (void)
{
  testloop_start ();
  dns = test_resolver_install ();
  /* The farm of the integration test (tests/integration/srv.sh). */
  test_resolver_set_host (dns, "edge1.farm.test", "198.51.100.2");
  test_resolver_set_host (dns, "edge2.farm.test", "198.51.100.3 2001:db8::3");
  test_resolver_set_host (dns, "farm.test", "198.51.100.9");
  test_resolver_set_srv (
      dns, FARM_SRV, "20 0 2857 edge2.farm.test, 10 0 2856 edge1.farm.test");
}

static void
teardown (void)
{
  testloop_stop ();
  g_clear_object (&dns);
}

typedef struct
{
  gboolean done;
  guint calls;
  GPtrArray *addrs;
  GError *error;
} Outcome;

static void
on_resolved (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Outcome *o = user_data;

  (void) source;
  o->calls++;
  o->done = TRUE;
  o->addrs = net_resolve_finish (res, &o->error);
  ck_assert ((o->addrs == NULL) != (o->error == NULL));
}

/* Resolve, wait, and give the addresses as "a:p a:p" (or NULL with the
 * error in @o). */
static char *
resolve (gboolean msrps, const char *host, guint16 port, Script *script,
         Outcome *o)
{
  GString *text = g_string_new (NULL);

  net_resolve_async (msrps, host, port, script != NULL ? scripted : NULL,
                     script, NULL, on_resolved, o);
  /* Never from inside the call. */
  ck_assert (!o->done);
  RUN_UNTIL (o->done, 5000);
  if (o->addrs == NULL)
    return g_string_free (text, TRUE);
  ck_assert_uint_gt (o->addrs->len, 0);
  for (guint i = 0; i < o->addrs->len; i++)
    {
      g_autofree char *s = net_addr_to_string (o->addrs->pdata[i]);

      g_string_append_printf (text, "%s%s", i > 0 ? " " : "", s);
    }
  return g_string_free (text, FALSE);
}

static void
outcome_clear (Outcome *o)
{
  g_clear_pointer (&o->addrs, g_ptr_array_unref);
  g_clear_error (&o->error);
}

static const struct
{
  const char *what;
  const char *hosts[3]; /* "name=answer": replaces setup()'s */
  const char *srv;      /* replaces FARM_SRV's answer; NULL: kept */
  gboolean msrps;
  const char *host;
  guint16 port;
  guint32 draws[2];
  guint n_draws;
  const char *want; /* "addr:port ...", or NULL: an error, as below */
  GQuark (*domain) (void);
  gint code;
  const char *message; /* a part of the error's message */
  const char *log;     /* the queries made, in order */
} lookup_cases[] = {
  /* One row a case reads better than clang-format's one field a line. */
  /* clang-format off */
  /* RFC 4975 section 6.2: used as listed, no DNS, not even for msrps. */
  { "IPv4 literal", { NULL }, NULL,
    TRUE, "198.51.100.7", 2856, { 0 }, 0,
    "198.51.100.7:2856", NULL, 0, NULL, "" },
  { "IPv6 literal", { NULL }, NULL,
    FALSE, "2001:db8::7", 2855, { 0 }, 0,
    "[2001:db8::7]:2855", NULL, 0, NULL, "" },
  /* RFC 4975 section 6, RFC 4976 section 8: a port MUST be present. */
  { "IP literal without a port", { NULL }, NULL,
    TRUE, "198.51.100.7", 0, { 0 }, 0,
    NULL, g_io_error_quark, G_IO_ERROR_INVALID_ARGUMENT,
    "198.51.100.7 is an IP address without a port", "" },
  /* An explicit port: A/AAAA only, in the resolver's order. */
  { "name with a port", { NULL }, NULL,
    TRUE, "edge2.farm.test", 4000, { 0 }, 0,
    "198.51.100.3:4000 [2001:db8::3]:4000", NULL, 0, NULL,
    "A edge2.farm.test\n" },
  /* Priority 10 before 20, each target's addresses with its port. */
  { "SRV: a farm of two priorities", { NULL }, NULL,
    TRUE, "farm.test", 0, { 0 }, 0,
    "198.51.100.2:2856 198.51.100.3:2857 [2001:db8::3]:2857", NULL, 0, NULL,
    "SRV " FARM_SRV "\nA edge1.farm.test\nA edge2.farm.test\n" },
  /* The preferred target answers last: its addresses still come first. */
  { "SRV: the order is RFC 2782's, not the answers'",
    { "edge1.farm.test=@60 198.51.100.2" }, NULL,
    TRUE, "farm.test", 0, { 0 }, 0,
    "198.51.100.2:2856 198.51.100.3:2857 [2001:db8::3]:2857", NULL, 0, NULL,
    NULL },
  /* RFC 4976 section 8's example, with the draw R=3 of [1, 3]. */
  { "SRV: weights drawn", { NULL },
    "0 1 9000 edge1.farm.test, 0 2 9001 edge2.farm.test",
    TRUE, "farm.test", 0, { 2 }, 1,
    "198.51.100.3:9001 [2001:db8::3]:9001 198.51.100.2:9000", NULL, 0, NULL,
    NULL },
  /* RFC 4976 section 8: no SRV record, so A/AAAA with port 2855. */
  { "no SRV record: A/AAAA, port 2855", { NULL }, "!notfound",
    TRUE, "farm.test", 0, { 0 }, 0,
    "198.51.100.9:2855", NULL, 0, NULL,
    "SRV " FARM_SRV "\nA farm.test\n" },
  { "no SRV record, no address", { "farm.test=!notfound" }, "!notfound",
    TRUE, "farm.test", 0, { 0 }, 0,
    NULL, g_resolver_error_quark, G_RESOLVER_ERROR_NOT_FOUND,
    "cannot resolve farm.test: " FARM_SRV " has no SRV record, and the "
    "name itself: ",
    "SRV " FARM_SRV "\nA farm.test\n" },
  /* A failed lookup is not an absent record: no guess at port 2855. */
  { "SRV lookup failed: no fallback", { NULL }, "!temporary",
    TRUE, "farm.test", 0, { 0 }, 0,
    NULL, g_resolver_error_quark, G_RESOLVER_ERROR_TEMPORARY_FAILURE,
    "cannot resolve farm.test: SRV lookup of " FARM_SRV ": ",
    "SRV " FARM_SRV "\n" },
  /* RFC 2782: a lone target "." means "decidedly not available". */
  { "SRV target \".\"", { NULL }, "0 0 0 .",
    TRUE, "farm.test", 0, { 0 }, 0,
    NULL, g_resolver_error_quark, G_RESOLVER_ERROR_NOT_FOUND,
    "says the service is not available there", "SRV " FARM_SRV "\n" },
  /* Among others, "." and port 0 are passed over. */
  { "\".\" and port 0 among others", { NULL },
    "0 0 2856 ., 1 0 0 edge2.farm.test, 2 0 2856 edge1.farm.test",
    TRUE, "farm.test", 0, { 0 }, 0,
    "198.51.100.2:2856", NULL, 0, NULL,
    "SRV " FARM_SRV "\nA edge1.farm.test\n" },
  { "no usable SRV record", { NULL }, "0 0 2856 ., 1 0 0 edge2.farm.test",
    TRUE, "farm.test", 0, { 0 }, 0,
    NULL, g_resolver_error_quark, G_RESOLVER_ERROR_NOT_FOUND,
    FARM_SRV " has no usable SRV record", "SRV " FARM_SRV "\n" },
  /* RFC 2782: a target that does not resolve is passed over. */
  { "a target that does not resolve", { "edge1.farm.test=!notfound" }, NULL,
    TRUE, "farm.test", 0, { 0 }, 0,
    "198.51.100.3:2857 [2001:db8::3]:2857", NULL, 0, NULL, NULL },
  /* None resolves: the first one's failure, in SRV order, is named. */
  { "no target resolves",
    { "edge2.farm.test=!temporary", "edge1.farm.test=@30 !notfound" }, NULL,
    TRUE, "farm.test", 0, { 0 }, 0,
    NULL, g_resolver_error_quark, G_RESOLVER_ERROR_NOT_FOUND,
    "none of the 2 targets of " FARM_SRV " resolved (edge1.farm.test: ",
    NULL },
  /* Two records for one address and port: tried once. */
  { "an address and port twice", { "alias.farm.test=198.51.100.2" },
    "0 0 2856 edge1.farm.test, 1 0 2856 alias.farm.test, "
    "2 0 2857 alias.farm.test",
    TRUE, "farm.test", 0, { 0 }, 0,
    "198.51.100.2:2856 198.51.100.2:2857", NULL, 0, NULL, NULL },
  /* RFC 4976 section 8 defines no _msrp service: port 2855 at once. */
  { "msrp name without a port: no SRV", { NULL }, NULL,
    FALSE, "farm.test", 0, { 0 }, 0,
    "198.51.100.9:2855", NULL, 0, NULL, "A farm.test\n" },
  /* clang-format on */
};

START_TEST (test_lookup_table)
{
  Script s = { lookup_cases[_i].draws, lookup_cases[_i].n_draws, 0,
               g_string_new (NULL) };
  Outcome o = { 0 };
  g_autofree char *got = NULL;
  const char *what = lookup_cases[_i].what;

  for (guint i = 0; i < G_N_ELEMENTS (lookup_cases[_i].hosts) &&
                    lookup_cases[_i].hosts[i] != NULL;
       i++)
    {
      g_auto (GStrv) kv = g_strsplit (lookup_cases[_i].hosts[i], "=", 2);

      test_resolver_set_host (dns, kv[0], kv[1]);
    }
  if (lookup_cases[_i].srv != NULL)
    test_resolver_set_srv (dns, FARM_SRV, lookup_cases[_i].srv);

  got = resolve (lookup_cases[_i].msrps, lookup_cases[_i].host,
                 lookup_cases[_i].port, &s, &o);
  if (lookup_cases[_i].want != NULL)
    {
      ck_assert_msg (got != NULL, "%s: %s", what, o.error->message);
      ck_assert_msg (strcmp (got, lookup_cases[_i].want) == 0,
                     "%s: '%s', not '%s'", what, got, lookup_cases[_i].want);
    }
  else
    {
      ck_assert_msg (got == NULL, "%s: resolved to %s", what, got);
      ck_assert_msg (g_error_matches (o.error, lookup_cases[_i].domain (),
                                      lookup_cases[_i].code),
                     "%s: error %s %d: %s", what,
                     g_quark_to_string (o.error->domain), o.error->code,
                     o.error->message);
      ck_assert_msg (strstr (o.error->message, lookup_cases[_i].message) !=
                         NULL,
                     "%s: '%s' lacks '%s'", what, o.error->message,
                     lookup_cases[_i].message);
    }
  if (lookup_cases[_i].log != NULL)
    ck_assert_msg (
        strcmp (test_resolver_get_log (dns), lookup_cases[_i].log) == 0,
        "%s: queries '%s', not '%s'", what, test_resolver_get_log (dns),
        lookup_cases[_i].log);
  ck_assert_uint_eq (s.used, lookup_cases[_i].n_draws);
  g_string_free (s.bounds, TRUE);
  outcome_clear (&o);
}
END_TEST

/* Only the first NET_RESOLVE_MAX_SRV_TARGETS targets are resolved. */
START_TEST (test_srv_targets_capped)
{
  Outcome o = { 0 };
  g_autofree char *got = NULL;
  g_autoptr (GString) many = g_string_new (NULL);
  guint a_queries = 0;

  for (guint i = 0; i < NET_RESOLVE_MAX_SRV_TARGETS + 4; i++)
    g_string_append_printf (many, "%s%u 0 %u edge1.farm.test", i ? ", " : "",
                            i, 3000 + i);
  test_resolver_set_srv (dns, FARM_SRV, many->str);
  got = resolve (TRUE, "farm.test", 0, NULL, &o);
  for (const char *p = test_resolver_get_log (dns);
       (p = strstr (p, "A edge1")) != NULL; p++)
    a_queries++;
  ck_assert_uint_eq (a_queries, NET_RESOLVE_MAX_SRV_TARGETS);
  ck_assert_uint_eq (o.addrs->len, NET_RESOLVE_MAX_SRV_TARGETS);
  ck_assert_msg (
      g_str_has_prefix (got, "198.51.100.2:3000 198.51.100.2:3001 "), "%s",
      got);
  outcome_clear (&o);
}
END_TEST

START_TEST (test_cancel)
{
  Outcome o = { 0 };
  g_autoptr (GCancellable) cancel = g_cancellable_new ();

  test_resolver_set_host (dns, "edge1.farm.test", "@50 198.51.100.2");
  net_resolve_async (TRUE, "farm.test", 0, NULL, NULL, cancel, on_resolved,
                     &o);
  /* Cancelled while the targets are being resolved. */
  RUN_UNTIL (strstr (test_resolver_get_log (dns), "A edge1") != NULL, 5000);
  g_cancellable_cancel (cancel);
  RUN_UNTIL (o.done, 5000);
  ck_assert (g_error_matches (o.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  testloop_run_for (100);
  ck_assert_uint_eq (o.calls, 1);
  outcome_clear (&o);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("net-resolve");
  TCase *order = tcase_create ("rfc2782-order");
  TCase *lookups = tcase_create ("lookups");
  SRunner *sr;
  int failed;

  tcase_add_loop_test (order, test_order_table, 0, G_N_ELEMENTS (order_cases));
  tcase_add_test (order, test_order_shares);
  tcase_add_test (order, test_order_empty_and_default_source);
  suite_add_tcase (s, order);

  tcase_add_checked_fixture (lookups, setup, teardown);
  tcase_add_loop_test (lookups, test_lookup_table, 0,
                       G_N_ELEMENTS (lookup_cases));
  tcase_add_test (lookups, test_srv_targets_capped);
  tcase_add_test (lookups, test_cancel);
  suite_add_tcase (s, lookups);

  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
