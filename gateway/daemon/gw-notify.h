/* gw-notify.h: telling systemd how the daemon is (sd_notify(3)).
 *
 * Under a Type=notify unit the service manager learns from these messages
 * when msrp-edge is ready (READY=1, once the listeners are up), what it is
 * doing (STATUS=, e.g. "12 connections, 4 sessions, 2 calls", refreshed
 * every GW_NOTIFY_STATUS_INTERVAL_S seconds), when it reloads (RELOADING=1,
 * then READY=1 again) and when it stops (STOPPING=1).  When the unit sets
 * WatchdogSec=, a timer on the main context sends WATCHDOG=1 at half the
 * interval: a main loop that is stuck sends nothing, and systemd kills and
 * restarts the service.
 *
 * Outside systemd (no NOTIFY_SOCKET) every call costs one comparison and no
 * timer runs.  A message that cannot be sent is logged once (notify_failed):
 * the manager that stopped listening will not start again.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How often STATUS= is sent again while the daemon runs. */
#define GW_NOTIFY_STATUS_INTERVAL_S 5

typedef struct _GwNotify GwNotify;

/* The text of STATUS=, one line: (transfer full). */
typedef char *(*GwNotifyStatusFunc) (gpointer user_data);

/* A notifier that asks @status for the STATUS= text.  Starts the watchdog
 * timer when the manager asked for one (sd_watchdog_enabled(3)), on the
 * thread-default main context.  (transfer full) */
G_GNUC_WARN_UNUSED_RESULT
GwNotify *gw_notify_new (GwNotifyStatusFunc status, gpointer user_data);
void gw_notify_free (GwNotify *notify);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwNotify, gw_notify_free)

/* READY=1 with the status; from the first call on, STATUS= is refreshed
 * periodically. */
void gw_notify_ready (GwNotify *notify);
/* RELOADING=1 (with MONOTONIC_USEC=, as systemd 253 wants it); follow with
 * gw_notify_ready() when the reload is over, whatever its outcome. */
void gw_notify_reloading (GwNotify *notify);
/* STOPPING=1, and no more periodic STATUS=; the watchdog goes on until the
 * notifier is freed (a shutdown that hangs is a hang too). */
void gw_notify_stopping (GwNotify *notify);

/* Whether a service manager listens (NOTIFY_SOCKET is set). */
gboolean gw_notify_is_enabled (GwNotify *notify);
/* The watchdog interval the manager asked for, in microseconds; 0: none. */
guint64 gw_notify_get_watchdog_usec (GwNotify *notify);

G_END_DECLS
