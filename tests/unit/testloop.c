/* testloop.c: see testloop.h. */
#include "testloop.h"

static GMainContext *ctx;
static GSource *tick;

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
  tick = g_timeout_source_new (10);
  g_source_set_callback (tick, keep_ticking, NULL, NULL);
  g_source_attach (tick, ctx);
  return ctx;
}

void
testloop_stop (void)
{
  g_source_destroy (tick);
  g_clear_pointer (&tick, g_source_unref);
  while (g_main_context_iteration (ctx, FALSE))
    ;
  g_main_context_pop_thread_default (ctx);
  g_clear_pointer (&ctx, g_main_context_unref);
}

void
testloop_iterate (void)
{
  g_main_context_iteration (ctx, TRUE);
}

void
testloop_run_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (ctx, TRUE);
}
