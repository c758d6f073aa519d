/* gw-log.h: the structured log stream (DESIGN.md "Log stream").
 *
 * One event a line: JSON by default, or text; to stderr, or to the systemd
 * journal with the same fields when stderr is connected to it.  Every event
 * carries a stable `event` name, a timestamp, a level and this instance's
 * name; callers add typed fields:
 *
 *   g_autoptr (GwLogEvent) ev = gw_log_event_new (G_LOG_LEVEL_INFO,
 *                                                 "listener_up");
 *   gw_log_event_add_str (ev, "proto", "msrp");
 *   gw_log_event_add_int (ev, "port", 2855);
 *   gw_log_event_emit (ev, "listening for msrp on %s", addr);
 *
 * Field names are lower_snake_case; in the journal they are upper-cased.
 * Message bodies are never logged above debug level.
 */
#pragma once

#include <glib.h>

#include "net-loop.h"

G_BEGIN_DECLS

typedef enum
{
  GW_LOG_FORMAT_JSON,
  GW_LOG_FORMAT_TEXT,
} GwLogFormat;

typedef enum
{
  GW_LOG_SINK_STDERR,
  GW_LOG_SINK_JOURNAL,
} GwLogSink;

/* Parse "json" / "text"; FALSE with @error naming the value otherwise. */
gboolean gw_log_format_parse (const char *text, GwLogFormat *out,
                              GError **error);
/* Parse "debug", "info", "message"/"notice", "warning", "error"/"critical". */
gboolean gw_log_level_parse (const char *text, GLogLevelFlags *out,
                             GError **error);

/* Install the stream as GLib's structured log writer.  Events below @level
 * are dropped.  The sink is the journal when stderr is connected to it. */
void gw_log_init (GwLogFormat format, GLogLevelFlags level,
                  const char *instance_name);
void gw_log_set_format (GwLogFormat format);
void gw_log_set_level (GLogLevelFlags level);
GwLogSink gw_log_get_sink (void);

/* Lines are written at once, unless the stream is attached to a loop: then
 * they are gathered and written once per turn of the loop, at its end (one
 * write(2) for every line of the turn), and at once for warnings and
 * errors.  gw_log_flush() writes what waits (before exiting: nothing is
 * lost on SIGTERM; a crash loses at most the lines of its turn). */
void gw_log_attach (NetLoop *loop);
void gw_log_flush (void);

typedef struct _GwLogEvent GwLogEvent;

/* Returns: (transfer full) (nullable): NULL when @level is not written;
 * every gw_log_event_*() call takes NULL and does nothing, so an event
 * below the level costs a comparison, and its message is never built. */
G_GNUC_WARN_UNUSED_RESULT
GwLogEvent *gw_log_event_new (GLogLevelFlags level, const char *event);
void gw_log_event_add_str (GwLogEvent *ev, const char *key, const char *value);
void gw_log_event_add_int (GwLogEvent *ev, const char *key, gint64 value);
void gw_log_event_add_bool (GwLogEvent *ev, const char *key, gboolean value);
/* Write the event with a human-readable message (printf format). */
void gw_log_event_emit (GwLogEvent *ev, const char *format, ...)
    G_GNUC_PRINTF (2, 3);
void gw_log_event_free (GwLogEvent *ev);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwLogEvent, gw_log_event_free)

/* A tap sees every event the stream writes (after the level filter), as
 * its JSON line without newline, on the thread that emits it; for tests
 * that check what the daemon logged.  @tap NULL removes it. */
typedef void (*GwLogTapFunc) (const char *event, const char *json_line,
                              gpointer user_data);
void gw_log_set_tap (GwLogTapFunc tap, gpointer user_data);

/* The line @ev would be written as (no trailing newline), with @message;
 * exposed for the unit tests of the format.  (transfer full) */
char *gw_log_event_to_line (const GwLogEvent *ev, GwLogFormat format,
                            const char *message);

G_END_DECLS
