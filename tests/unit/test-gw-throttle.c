/* Check suite for gw-throttle: failures per key over a window, back-off,
 * trusted tags, expiry and the cap.  Time is passed in, so every case is
 * exact. */
#include <check.h>

#include "gw-throttle.h"

#define S G_USEC_PER_SEC
/* Any start: the clock is the caller's. */
#define T0 ((gint64) 1000 * S)

/* Five free failures, a 600 s window, back-off up to 60 s, 8 entries. */
static GwThrottle *
make (void)
{
  return gw_throttle_new (5, 600 * S, 60 * S, 8);
}

/* The free failures pass; then each failure judged doubles the back-off
 * from 1 s up to the maximum, and nothing is judged while it lasts: at
 * most one failure per back-off, however often the key tries. */
START_TEST (test_backoff)
{
  g_autoptr (GwThrottle) t = make ();
  static const gint64 want[] = { 1, 2, 4, 8, 16, 32, 60, 60 };
  gint64 now = T0;
  guint failures = 0;

  for (guint i = 0; i < 5; i++)
    {
      ck_assert_int_eq (gw_throttle_wait (t, "192.0.2.1", now), 0);
      ck_assert_int_eq (
          gw_throttle_fail (t, "192.0.2.1", now, &failures, NULL), 0);
      ck_assert_uint_eq (failures, i + 1);
    }
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      gint64 backoff;

      ck_assert_int_eq (gw_throttle_wait (t, "192.0.2.1", now), 0);
      backoff = gw_throttle_fail (t, "192.0.2.1", now, &failures, NULL);
      ck_assert_int_eq (backoff, want[i] * S);
      ck_assert_uint_eq (failures, 6 + i);
      /* Waiting, up to the last microsecond. */
      ck_assert_int_eq (gw_throttle_wait (t, "192.0.2.1", now), backoff);
      ck_assert_int_eq (gw_throttle_wait (t, "192.0.2.1", now + backoff - 1),
                        1);
      now += backoff;
    }
  /* Another key is not affected. */
  ck_assert_int_eq (gw_throttle_wait (t, "192.0.2.2", now - 1), 0);
}
END_TEST

/* A key that hammers: over 10 s of attempts every millisecond, the
 * attempts judged stay a handful (5 free, then 1 s, 2 s, 4 s back-offs). */
START_TEST (test_judged_per_second)
{
  g_autoptr (GwThrottle) t = make ();
  guint judged = 0, refused = 0, last_refused = 0, reported = 0;

  for (gint64 now = T0; now < T0 + 10 * S; now += 1000)
    {
      if (gw_throttle_wait (t, "198.51.100.7", now) > 0)
        {
          last_refused = gw_throttle_refuse (t, "198.51.100.7");
          refused++;
          continue;
        }
      judged++;
      gw_throttle_fail (t, "198.51.100.7", now, NULL, &last_refused);
      reported += last_refused;
    }
  /* 5 free + at 0 s, 1 s, 3 s, 7 s. */
  ck_assert_uint_eq (judged, 9);
  ck_assert_uint_eq (refused, 10000 - 9);
  /* Each refusal is reported once, with the failure after it. */
  ck_assert_uint_eq (reported + last_refused, refused);
}
END_TEST

/* The window: a key that has not failed for a window starts afresh, and
 * its entry goes. */
START_TEST (test_window)
{
  g_autoptr (GwThrottle) t = make ();
  guint failures = 0;

  for (guint i = 0; i < 7; i++)
    gw_throttle_fail (t, "k", T0 + i * 60 * S, &failures, NULL);
  ck_assert_uint_eq (failures, 7);
  ck_assert_uint_eq (gw_throttle_size (t, T0 + 6 * 60 * S), 1);
  /* 600 s after the last failure: forgotten. */
  ck_assert_uint_eq (gw_throttle_size (t, T0 + 16 * 60 * S - 1), 1);
  ck_assert_uint_eq (gw_throttle_size (t, T0 + 16 * 60 * S), 0);
  ck_assert_int_eq (
      gw_throttle_fail (t, "k", T0 + 16 * 60 * S, &failures, NULL), 0);
  ck_assert_uint_eq (failures, 1);
}
END_TEST

/* A tag trusted by a key passes the key's back-off; others do not.  Trust
 * leaves the failures as they were, and keeps the entry alive a window
 * longer. */
START_TEST (test_trust)
{
  g_autoptr (GwThrottle) t = make ();
  guint failures = 0;

  gw_throttle_trust (t, "alice", "192.0.2.1", T0);
  for (guint i = 0; i < 6; i++)
    gw_throttle_fail (t, "alice", T0 + i, &failures, NULL);
  ck_assert_int_gt (gw_throttle_wait (t, "alice", T0 + 6), 0);
  ck_assert (gw_throttle_is_trusted (t, "alice", "192.0.2.1", T0 + 6));
  ck_assert (!gw_throttle_is_trusted (t, "alice", "192.0.2.9", T0 + 6));
  ck_assert (!gw_throttle_is_trusted (t, "bob", "192.0.2.1", T0 + 6));
  ck_assert (!gw_throttle_is_trusted (t, "alice", NULL, T0 + 6));
  gw_throttle_trust (t, "alice", "192.0.2.1", T0 + 7);
  ck_assert_int_gt (gw_throttle_wait (t, "alice", T0 + 7), 0);
  ck_assert_uint_eq (failures, 6);
  /* At most GW_THROTTLE_MAX_TRUSTED tags: the oldest goes. */
  for (guint i = 2; i <= GW_THROTTLE_MAX_TRUSTED + 1; i++)
    {
      g_autofree char *tag = g_strdup_printf ("192.0.2.%u", i);

      gw_throttle_trust (t, "alice", tag, T0 + 8);
    }
  ck_assert (!gw_throttle_is_trusted (t, "alice", "192.0.2.1", T0 + 8));
  ck_assert (gw_throttle_is_trusted (t, "alice", "192.0.2.2", T0 + 8));
  /* A window after the last touch, the entry is gone, trust with it. */
  ck_assert (
      !gw_throttle_is_trusted (t, "alice", "192.0.2.2", T0 + 8 + 600 * S));
}
END_TEST

/* At the cap a new key pushes out the one touched longest ago, never one
 * touched since; memory stays at the cap whatever the number of keys. */
START_TEST (test_cap)
{
  g_autoptr (GwThrottle) t = make ();

  for (guint i = 0; i < 8; i++)
    {
      g_autofree char *key = g_strdup_printf ("k%u", i);

      gw_throttle_fail (t, key, T0 + i, NULL, NULL);
    }
  /* k0 is touched again: k1 is now the oldest. */
  gw_throttle_fail (t, "k0", T0 + 10, NULL, NULL);
  gw_throttle_fail (t, "new", T0 + 11, NULL, NULL);
  ck_assert_uint_eq (gw_throttle_size (t, T0 + 11), 8);
  for (guint i = 0; i < 5; i++)
    gw_throttle_fail (t, "k0", T0 + 12 + i, NULL, NULL);
  /* k0 kept its count: its sixth failure within the window backs off. */
  ck_assert_int_gt (gw_throttle_wait (t, "k0", T0 + 20), 0);
  /* k1 was forgotten: it starts afresh. */
  {
    guint failures = 0;

    gw_throttle_fail (t, "k1", T0 + 21, &failures, NULL);
    ck_assert_uint_eq (failures, 1);
  }
  for (guint i = 0; i < 10000; i++)
    {
      g_autofree char *key = g_strdup_printf ("flood%u", i);

      gw_throttle_fail (t, key, T0 + 100 + i, NULL, NULL);
    }
  ck_assert_uint_eq (gw_throttle_size (t, T0 + 20000), 8);
}
END_TEST

/* No free failures configured: the table counts, never throttles. */
START_TEST (test_off)
{
  g_autoptr (GwThrottle) t = gw_throttle_new (0, 600 * S, 60 * S, 8);

  for (guint i = 0; i < 100; i++)
    ck_assert_int_eq (gw_throttle_fail (t, "k", T0 + i, NULL, NULL), 0);
  ck_assert_int_eq (gw_throttle_wait (t, "k", T0 + 100), 0);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("gw-throttle");
  TCase *tc = tcase_create ("throttle");
  SRunner *sr;
  int failed;

  tcase_add_test (tc, test_backoff);
  tcase_add_test (tc, test_judged_per_second);
  tcase_add_test (tc, test_window);
  tcase_add_test (tc, test_trust);
  tcase_add_test (tc, test_cap);
  tcase_add_test (tc, test_off);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
