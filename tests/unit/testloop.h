/* testloop.h: the main context a unit test runs the code under test on.
 *
 * testloop_start() makes a new context, pushes it as the thread default
 * (where the code under test attaches its sources and its NetLoop) and
 * attaches a 10 ms tick, so that RUN_UNTIL() sees its deadline even when
 * nothing else happens; testloop_stop() dispatches what is left and drops
 * it again.
 *
 * testloop_start_virtual() runs the code under test on the data plane
 * loop's virtual network and fake clock instead (net-loop.h): listeners
 * bind no socket, connections are in memory, and time moves only while
 * the test waits (RUN_UNTIL(), testloop_run_for()): when nothing is ready,
 * the fake clock jumps to the next deadline.  A 30 s report-timeout then
 * takes no wall time at all, and a loaded machine cannot make a deadline
 * come early or late.  GLib's own sources (a resolver thread, libnice)
 * still run on the wall clock: when no fake deadline is due the wait
 * blocks for up to 10 ms of wall time, and the fake clock moves as much. */
#pragma once

#include <check.h>
#include <glib.h>

/* Returns: (transfer none): the context, valid until testloop_stop(). */
GMainContext *testloop_start (void);
GMainContext *testloop_start_virtual (void);
void testloop_stop (void);

/* The clock RUN_UNTIL() and testloop_run_for() count with: the loop's
 * (fake after testloop_start_virtual()), in microseconds. */
gint64 testloop_now (void);

/* One step: a dispatch of the context (blocking on a real one; on a
 * virtual one, the fake clock moves to the next deadline, no further than
 * @until, when nothing is ready). */
void testloop_step (gint64 until);
/* One blocking iteration of the context (testloop_step () without a
 * bound). */
void testloop_iterate (void);

/* Iterate for @ms (of the loop's clock) whatever happens; on a virtual
 * one, a wait with nothing due jumps to the end. */
void testloop_run_for (guint ms);

/* Iterate until @cond holds; fail the test after @ms (of the loop's
 * clock). */
#define RUN_UNTIL(cond, ms)                                                   \
  do                                                                          \
    {                                                                         \
      gint64 run_until_end = testloop_now () + (gint64) (ms) *1000;           \
      while (!(cond))                                                         \
        {                                                                     \
          ck_assert_msg (testloop_now () < run_until_end,                     \
                         "waited %d ms in vain for: %s", (int) (ms), #cond);  \
          testloop_step (run_until_end);                                      \
        }                                                                     \
    }                                                                         \
  while (0)
