/* testloop.h: the main context a unit test runs the code under test on.
 *
 * testloop_start() makes a new context, pushes it as the thread default
 * (where the code under test attaches its sources) and attaches a 10 ms
 * tick, so that RUN_UNTIL() sees its deadline even when nothing else
 * happens; testloop_stop() dispatches what is left and drops it again. */
#pragma once

#include <check.h>
#include <glib.h>

/* Returns: (transfer none): the context, valid until testloop_stop(). */
GMainContext *testloop_start (void);
void testloop_stop (void);

/* One blocking iteration of the context. */
void testloop_iterate (void);

/* Iterate for @ms whatever happens. */
void testloop_run_for (guint ms);

/* Iterate until @cond holds; fail the test after @ms. */
#define RUN_UNTIL(cond, ms)                                                   \
  do                                                                          \
    {                                                                         \
      gint64 run_until_end = g_get_monotonic_time () + (gint64) (ms) *1000;   \
      while (!(cond))                                                         \
        {                                                                     \
          ck_assert_msg (g_get_monotonic_time () < run_until_end,             \
                         "waited %d ms in vain for: %s", (int) (ms), #cond);  \
          testloop_iterate ();                                                \
        }                                                                     \
    }                                                                         \
  while (0)
