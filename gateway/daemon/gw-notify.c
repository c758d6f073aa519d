#include "gw-notify.h"

#include <systemd/sd-daemon.h>

#include "gw-log.h"

struct _GwNotify
{
  GwNotifyStatusFunc status;
  gpointer user_data;
  gboolean enabled;        /* NOTIFY_SOCKET is set */
  gboolean failed;         /* a send failed: logged once */
  guint64 watchdog_usec;   /* 0: no watchdog asked for */
  GSource *watchdog_timer; /* WATCHDOG=1 at half the interval */
  GSource *status_timer;   /* STATUS= every GW_NOTIFY_STATUS_INTERVAL_S */
};

/* Send @text (newline-separated assignments); a failure is logged the first
 * time only. */
static void
notify_send (GwNotify *n, const char *text)
{
  int r;

  if (!n->enabled)
    return;
  r = sd_notify (0, text);
  if (r >= 0 || n->failed)
    return;
  n->failed = TRUE;
  {
    g_autoptr (GwLogEvent) ev =
        gw_log_event_new (G_LOG_LEVEL_WARNING, "notify_failed");

    gw_log_event_add_str (ev, "reason", g_strerror (-r));
    gw_log_event_emit (ev, "cannot notify the service manager: %s",
                       g_strerror (-r));
  }
}

/* "STATUS=text" with @prefix lines first (each ending in a newline). */
static void
send_with_status (GwNotify *n, const char *prefix)
{
  g_autofree char *status = NULL;
  g_autofree char *text = NULL;

  if (!n->enabled)
    return;
  status = n->status (n->user_data);
  /* STATUS= is one line: a newline would start another assignment. */
  g_strdelimit (status, "\n", ' ');
  text = g_strconcat (prefix, "STATUS=", status, NULL);
  notify_send (n, text);
}

static gboolean
on_watchdog (gpointer data)
{
  notify_send (data, "WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_status (gpointer data)
{
  send_with_status (data, "");
  return G_SOURCE_CONTINUE;
}

static GSource *
timer_start (guint interval_ms, GSourceFunc func, GwNotify *n,
             const char *name)
{
  GSource *s = g_timeout_source_new (interval_ms);

  g_source_set_callback (s, func, n, NULL);
  g_source_set_static_name (s, name);
  g_source_attach (s, g_main_context_get_thread_default ());
  return s;
}

static void
timer_stop (GSource **s)
{
  if (*s == NULL)
    return;
  g_source_destroy (*s);
  g_clear_pointer (s, g_source_unref);
}

GwNotify *
gw_notify_new (GwNotifyStatusFunc status, gpointer user_data)
{
  GwNotify *n = g_new0 (GwNotify, 1);
  uint64_t usec = 0;

  g_return_val_if_fail (status != NULL, NULL);
  n->status = status;
  n->user_data = user_data;
  n->enabled = g_getenv ("NOTIFY_SOCKET") != NULL;
  /* sd_watchdog_enabled() checks WATCHDOG_PID against our pid too, so a
   * watchdog meant for a parent is not taken for ours. */
  if (n->enabled && sd_watchdog_enabled (0, &usec) > 0 && usec > 0)
    {
      n->watchdog_usec = usec;
      /* Half the interval, as sd_watchdog_enabled(3) advises: one late
       * turn of the loop is not yet a kill. */
      n->watchdog_timer = timer_start ((guint) MAX (usec / 2000, 1),
                                       on_watchdog, n, "gw-notify watchdog");
    }
  return n;
}

void
gw_notify_free (GwNotify *n)
{
  if (n == NULL)
    return;
  timer_stop (&n->watchdog_timer);
  timer_stop (&n->status_timer);
  g_free (n);
}

void
gw_notify_ready (GwNotify *n)
{
  g_return_if_fail (n != NULL);
  send_with_status (n, "READY=1\n");
  if (n->enabled && n->status_timer == NULL)
    n->status_timer = timer_start (GW_NOTIFY_STATUS_INTERVAL_S * 1000,
                                   on_status, n, "gw-notify status");
}

void
gw_notify_reloading (GwNotify *n)
{
  g_autofree char *text = NULL;

  g_return_if_fail (n != NULL);
  /* CLOCK_MONOTONIC, which g_get_monotonic_time() reads on Linux. */
  text = g_strdup_printf ("RELOADING=1\nMONOTONIC_USEC=%" G_GINT64_FORMAT
                          "\nSTATUS=reloading",
                          g_get_monotonic_time ());
  notify_send (n, text);
}

void
gw_notify_stopping (GwNotify *n)
{
  g_return_if_fail (n != NULL);
  timer_stop (&n->status_timer);
  send_with_status (n, "STOPPING=1\n");
}

gboolean
gw_notify_is_enabled (GwNotify *n)
{
  g_return_val_if_fail (n != NULL, FALSE);
  return n->enabled;
}

guint64
gw_notify_get_watchdog_usec (GwNotify *n)
{
  g_return_val_if_fail (n != NULL, 0);
  return n->watchdog_usec;
}
