/* Check suite for msrpcat's pure helpers (gateway/mc-util.c): byte range
 * coverage, the bounded id set, percentiles, JSON strings and the command
 * line value parsers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mc-util.h"

/* --- McRanges ---------------------------------------------------------- */

#define MAX_ADDS 6

static const struct
{
  const char *name;
  guint64 adds[MAX_ADDS][2]; /* {start, end}; {0, 0} ends the list */
  guint n;                   /* separate ranges after merging */
  guint64 covered;
  guint64 q_start, q_end; /* a query... */
  gboolean q_covered;     /* ...and its answer */
} range_cases[] = {
  { "empty", { { 0 } }, 0, 0, 1, 1, FALSE },
  { "empty span always covered", { { 0 } }, 0, 0, 5, 4, TRUE },
  { "one", { { 1, 10 } }, 1, 10, 1, 10, TRUE },
  { "one, query past end", { { 1, 10 } }, 1, 10, 1, 11, FALSE },
  { "adjacent merge", { { 1, 10 }, { 11, 20 } }, 1, 20, 1, 20, TRUE },
  { "adjacent reversed", { { 11, 20 }, { 1, 10 } }, 1, 20, 5, 15, TRUE },
  { "gap stays", { { 1, 10 }, { 12, 20 } }, 2, 19, 1, 20, FALSE },
  { "gap filled", { { 1, 10 }, { 12, 20 }, { 11, 11 } }, 1, 20, 1, 20, TRUE },
  { "overlap counted once", { { 1, 10 }, { 5, 15 } }, 1, 15, 1, 15, TRUE },
  { "contained", { { 1, 100 }, { 20, 30 } }, 1, 100, 20, 30, TRUE },
  { "bridge three",
    { { 1, 2 }, { 10, 12 }, { 20, 22 }, { 2, 21 } },
    1,
    22,
    1,
    22,
    TRUE },
  { "insert before all", { { 50, 60 }, { 10, 20 } }, 2, 22, 10, 20, TRUE },
  { "insert between",
    { { 1, 5 }, { 50, 60 }, { 20, 30 } },
    3,
    27,
    20,
    30,
    TRUE },
  { "query spans a gap", { { 1, 5 }, { 7, 9 } }, 2, 8, 4, 8, FALSE },
  { "top of range",
    { { G_MAXUINT64 - 1, G_MAXUINT64 }, { 1, 1 } },
    2,
    3,
    G_MAXUINT64 - 1,
    G_MAXUINT64,
    TRUE },
  { "whole 64-bit range",
    { { 1, G_MAXUINT64 - 1 }, { G_MAXUINT64, G_MAXUINT64 } },
    1,
    G_MAXUINT64,
    1,
    G_MAXUINT64,
    TRUE },
};

START_TEST (test_ranges)
{
  g_autoptr (McRanges) r = mc_ranges_new ();

  for (guint i = 0; i < MAX_ADDS && range_cases[_i].adds[i][0] != 0; i++)
    mc_ranges_add (r, range_cases[_i].adds[i][0], range_cases[_i].adds[i][1]);
  ck_assert_msg (mc_ranges_get_n (r) == range_cases[_i].n, "%s: %u ranges",
                 range_cases[_i].name, mc_ranges_get_n (r));
  ck_assert_msg (mc_ranges_get_covered (r) == range_cases[_i].covered,
                 "%s: %" G_GUINT64_FORMAT " covered", range_cases[_i].name,
                 mc_ranges_get_covered (r));
  ck_assert_msg (
      mc_ranges_covers (r, range_cases[_i].q_start, range_cases[_i].q_end) ==
          range_cases[_i].q_covered,
      "%s: query", range_cases[_i].name);
}
END_TEST

/* --- McIdSet ----------------------------------------------------------- */

START_TEST (test_id_set)
{
  g_autoptr (McIdSet) s = mc_id_set_new (3);

  ck_assert (!mc_id_set_contains (s, "a"));
  ck_assert (!mc_id_set_contains (s, NULL));
  mc_id_set_add (s, "a");
  mc_id_set_add (s, "b");
  mc_id_set_add (s, "a"); /* present: no second entry */
  ck_assert_uint_eq (mc_id_set_get_size (s), 2);
  mc_id_set_add (s, "c");
  mc_id_set_add (s, "d"); /* "a", the oldest, goes */
  ck_assert_uint_eq (mc_id_set_get_size (s), 3);
  ck_assert (!mc_id_set_contains (s, "a"));
  ck_assert (mc_id_set_contains (s, "b"));
  ck_assert (mc_id_set_contains (s, "c"));
  ck_assert (mc_id_set_contains (s, "d"));
  mc_id_set_add (s, "a"); /* "b" goes */
  ck_assert (!mc_id_set_contains (s, "b"));
  ck_assert (mc_id_set_contains (s, "a"));
}
END_TEST

/* --- percentiles ------------------------------------------------------- */

static const gint64 ten[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
static const gint64 one[] = { 42 };

static const struct
{
  const gint64 *values;
  gsize n;
  double percent;
  gint64 expected;
} pct_cases[] = {
  { ten, 0, 50, 0 },    { one, 1, 50, 42 },   { one, 1, 99, 42 },
  { ten, 10, 50, 5 }, /* ceil (0.5 * 10) = 5th */
  { ten, 10, 51, 6 },   { ten, 10, 90, 9 },   { ten, 10, 99, 10 },
  { ten, 10, 100, 10 }, { ten, 10, 0, 1 },    { ten, 10, 10, 1 },
  { ten, 10, 11, 2 },   { ten, 10, 250, 10 }, /* clamped */
};

START_TEST (test_percentile)
{
  ck_assert_int_eq (mc_percentile (pct_cases[_i].values, pct_cases[_i].n,
                                   pct_cases[_i].percent),
                    pct_cases[_i].expected);
}
END_TEST

/* --- JSON -------------------------------------------------------------- */

/* --- sizes and durations ----------------------------------------------- */

static const struct
{
  const char *text;
  guint64 value;
  gboolean ok;
} size_cases[] = {
  { "0", 0, TRUE },
  { "2048", 2048, TRUE },
  { "2k", 2048, TRUE },
  { "2K", 2048, TRUE },
  { "1M", 1048576, TRUE },
  { "20MiB", 20971520, TRUE },
  { "1MB", 1048576, TRUE },
  { "3G", G_GUINT64_CONSTANT (3221225472), TRUE },
  { "100B", 100, TRUE },
  { "18446744073709551615", G_MAXUINT64, TRUE },
  { "18446744073709551616", 0, FALSE },
  { "17179869184G", 0, FALSE }, /* overflows with the suffix */
  { "", 0, FALSE },
  { "k", 0, FALSE },
  { "-1", 0, FALSE },
  { " 1", 0, FALSE },
  { "1 ", 0, FALSE },
  { "1x", 0, FALSE },
  { "1.5M", 0, FALSE },
  { "1Mi", 0, FALSE },
  { "1iB", 0, FALSE },
};

START_TEST (test_size)
{
  g_autoptr (GError) error = NULL;
  guint64 v = 7;
  gboolean ok = mc_parse_size ("--x", size_cases[_i].text, &v, &error);

  ck_assert_msg (ok == size_cases[_i].ok, "'%s'", size_cases[_i].text);
  if (ok)
    {
      ck_assert_uint_eq (v, size_cases[_i].value);
    }
  else
    {
      ck_assert_uint_eq (v, 7);
      ck_assert_ptr_nonnull (strstr (error->message, "--x: '"));
    }
}
END_TEST

static const struct
{
  const char *text;
  gint64 us;
  gboolean ok;
} duration_cases[] = {
  { "30", 30000000, TRUE },
  { "0", 0, TRUE },
  { "0.5", 500000, TRUE },
  { ".25", 250000, TRUE },
  { "250ms", 250000, TRUE },
  { "2s", 2000000, TRUE },
  { "1m", 60000000, TRUE },
  { "86400", G_GINT64_CONSTANT (86400000000), TRUE },
  { "86401", 0, FALSE },
  { "-1", 0, FALSE },
  { "", 0, FALSE },
  { "abc", 0, FALSE },
  { "1h", 0, FALSE },
  { "nan", 0, FALSE },
  { "inf", 0, FALSE },
  { "1e400", 0, FALSE },
  { "5 s", 0, FALSE },
};

START_TEST (test_duration)
{
  g_autoptr (GError) error = NULL;
  gint64 us = -7;
  gboolean ok =
      mc_parse_duration ("--t", duration_cases[_i].text, &us, &error);

  ck_assert_msg (ok == duration_cases[_i].ok, "'%s'", duration_cases[_i].text);
  if (ok)
    ck_assert_int_eq (us, duration_cases[_i].us);
  else
    ck_assert_ptr_nonnull (strstr (error->message, "is not a duration"));
}
END_TEST

/* --- listen addresses -------------------------------------------------- */

static const struct
{
  const char *text;
  const char *address; /* NULL: must fail */
  guint port;
  const char *error_part;
} listen_cases[] = {
  { "127.0.0.1:2855", "127.0.0.1", 2855, NULL },
  { "127.0.0.1:0", "127.0.0.1", 0, NULL },
  { "0.0.0.0:65535", "0.0.0.0", 65535, NULL },
  { "[::1]:0", "::1", 0, NULL },
  { "[2001:db8::2]:9", "2001:db8::2", 9, NULL },
  { "::1:2855", NULL, 0, "brackets" },
  { "127.0.0.1", NULL, 0, "host:port" },
  { "127.0.0.1:65536", NULL, 0, "0 to 65535" },
  { "127.0.0.1:", NULL, 0, "0 to 65535" },
  { "127.0.0.1:x", NULL, 0, "0 to 65535" },
  { "[::1]2855", NULL, 0, "[address]:port" },
  { "[::1", NULL, 0, "[address]:port" },
  { "localhost:1", NULL, 0, "not an IP address" },
  { "", NULL, 0, "host:port" },
};

START_TEST (test_listen)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) a =
      mc_parse_listen_address (listen_cases[_i].text, &error);

  if (listen_cases[_i].address == NULL)
    {
      ck_assert_msg (a == NULL, "'%s' parsed", listen_cases[_i].text);
      ck_assert_msg (strstr (error->message, listen_cases[_i].error_part) !=
                         NULL,
                     "'%s': %s", listen_cases[_i].text, error->message);
    }
  else
    {
      g_autofree char *host = NULL;

      ck_assert_msg (a != NULL, "'%s': %s", listen_cases[_i].text,
                     error != NULL ? error->message : "");
      host = g_inet_address_to_string (
          g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (a)));
      ck_assert_str_eq (host, listen_cases[_i].address);
      ck_assert_uint_eq (
          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (a)),
          listen_cases[_i].port);
    }
}
END_TEST

static const struct
{
  const char *text;
  const char *joined; /* items joined with "|" */
} split_cases[] = {
  { "", "" },
  { "text/plain", "text/plain" },
  { "text/plain image/png", "text/plain|image/png" },
  { " text/*,, image/png  ,*", "text/*|image/png|*" },
  { "a\tb", "a|b" },
};

START_TEST (test_split)
{
  g_auto (GStrv) items = mc_split_list (split_cases[_i].text);
  g_autofree char *joined = g_strjoinv ("|", items);

  ck_assert_str_eq (joined, split_cases[_i].joined);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mc-util");
  TCase *tc = tcase_create ("util");
  SRunner *sr;
  int failed;

  tcase_add_loop_test (tc, test_ranges, 0, G_N_ELEMENTS (range_cases));
  tcase_add_test (tc, test_id_set);
  tcase_add_loop_test (tc, test_percentile, 0, G_N_ELEMENTS (pct_cases));
  tcase_add_loop_test (tc, test_size, 0, G_N_ELEMENTS (size_cases));
  tcase_add_loop_test (tc, test_duration, 0, G_N_ELEMENTS (duration_cases));
  tcase_add_loop_test (tc, test_listen, 0, G_N_ELEMENTS (listen_cases));
  tcase_add_loop_test (tc, test_split, 0, G_N_ELEMENTS (split_cases));
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
