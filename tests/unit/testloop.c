/* testloop.c: see testloop.h. */
#include "testloop.h"

#include "net-loop.h"

/* The fake clock's start: far from 0, so that "no deadline" (-1 or 0)
 * never looks due. */
#define FAKE_T0 ((gint64) 1000000 * G_USEC_PER_SEC)
/* How long a virtual wait blocks when no fake deadline is due. */
#define REAL_SLICE_MS 10

static GMainContext *ctx;
static GSource *tick;
static NetLoop *loop; /* virtual: the context's loop */

static gboolean
keep_ticking (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

GMainContext *
testloop_start (void)
{
  ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  tick = g_timeout_source_new (REAL_SLICE_MS);
  g_source_set_callback (tick, keep_ticking, NULL, NULL);
  g_source_attach (tick, ctx);
  return ctx;
}

GMainContext *
testloop_start_virtual (void)
{
  ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  loop = net_loop_get_default ();
  net_loop_set_fake_time (loop, FAKE_T0);
  net_loop_set_virtual_network (loop);
  return ctx;
}

void
testloop_stop (void)
{
  if (tick != NULL)
    g_source_destroy (tick);
  g_clear_pointer (&tick, g_source_unref);
  while (g_main_context_iteration (ctx, FALSE))
    ;
  loop = NULL;
  g_main_context_pop_thread_default (ctx);
  g_clear_pointer (&ctx, g_main_context_unref);
}

gint64
testloop_now (void)
{
  return loop != NULL ? net_loop_now (loop) : g_get_monotonic_time ();
}

static gboolean
stop_waiting (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
testloop_step (gint64 until)
{
  gint64 next, now;

  if (loop == NULL)
    {
      g_main_context_iteration (ctx, TRUE);
      return;
    }
  if (g_main_context_iteration (ctx, FALSE))
    return;
  /* Nothing ready: time passes, to the next deadline at most. */
  now = net_loop_now (loop);
  next = net_loop_get_next_deadline (loop);
  if (next > now && (until < 0 || next <= until))
    {
      net_loop_advance (loop, next - now);
      return;
    }
  /* No fake deadline before @until: give GLib's own sources some wall
   * time, and move the fake clock as much. */
  {
    gboolean done = FALSE;
    GSource *slice = g_timeout_source_new (REAL_SLICE_MS);
    gint64 step = (gint64) REAL_SLICE_MS * 1000;

    g_source_set_callback (slice, stop_waiting, &done, NULL);
    g_source_attach (slice, ctx);
    while (!done)
      g_main_context_iteration (ctx, TRUE);
    g_source_destroy (slice);
    g_source_unref (slice);
    if (until >= 0 && now + step > until)
      step = MAX (until - now, 0);
    net_loop_advance (loop, step);
  }
}

void
testloop_iterate (void)
{
  testloop_step (-1);
}

static void
horizon_reached (NetLoop *l, NetTimer *timer, gpointer data)
{
}

void
testloop_run_for (guint ms)
{
  gint64 end = testloop_now () + (gint64) ms * 1000;
  NetTimer horizon;

  /* Virtual: a deadline at the end, so that a wait with nothing to do
   * jumps there instead of creeping in wall-time slices. */
  if (loop != NULL)
    {
      net_timer_init (&horizon, horizon_reached, NULL);
      net_timer_schedule (loop, &horizon, end);
    }
  while (testloop_now () < end)
    testloop_step (end);
  if (loop != NULL)
    net_timer_cancel (loop, &horizon);
}
