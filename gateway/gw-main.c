/* msrp-edge: the daemon's entry point.
 *
 * With no arguments it runs on the embedded default: MSRP over TCP on
 * 127.0.0.1:2855, no TLS.  The relay engine (RFC 4976) lands with the relay
 * work; until then the daemon starts its listeners, logs them, and closes
 * each accepted connection with a log line that says why. */
#include "msrp-edge-config.h"

#include <glib-unix.h>
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

#include "gw-addr.h"
#include "gw-log.h"

#define DEFAULT_MSRP_LISTEN "127.0.0.1:2855"

typedef struct {
  GMainLoop *loop;
  GSocketService *msrp_service;
  guint64 next_conn_id;
} Daemon;

static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection,
             GObject *source_object, gpointer user_data)
{
  Daemon *d = user_data;
  g_autoptr (GSocketAddress) peer = NULL;
  g_autofree char *peer_str = NULL;
  g_autoptr (GwLogEvent) ev = NULL;
  guint64 conn = ++d->next_conn_id;

  peer = g_socket_connection_get_remote_address (connection, NULL);
  peer_str = peer != NULL ? gw_addr_to_string (peer) : g_strdup ("unknown");

  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "connection_closed");
  gw_log_event_add_int (ev, "conn", (gint64) conn);
  gw_log_event_add_str (ev, "peer", peer_str);
  gw_log_event_add_str (ev, "reason", "relay engine not available");
  gw_log_event_emit (ev, "closed connection from %s: this build has no relay "
                     "engine yet", peer_str);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return TRUE;
}

static gboolean
start_listener (Daemon *d, const char *proto, const char *spec,
                GError **error)
{
  g_autoptr (GPtrArray) addrs = gw_addr_list_parse (spec, error);

  if (addrs == NULL)
    return FALSE;
  for (guint i = 0; i < addrs->len; i++) {
    GSocketAddress *want = addrs->pdata[i];
    g_autoptr (GSocketAddress) bound = NULL;
    g_autofree char *bound_str = NULL;
    g_autofree char *want_str = gw_addr_to_string (want);
    g_autoptr (GwLogEvent) ev = NULL;

    if (!g_socket_listener_add_address (G_SOCKET_LISTENER (d->msrp_service),
                                        want, G_SOCKET_TYPE_STREAM,
                                        G_SOCKET_PROTOCOL_TCP, NULL, &bound,
                                        error)) {
      g_prefix_error (error, "cannot listen for %s on %s: ", proto, want_str);
      return FALSE;
    }
    bound_str = gw_addr_to_string (bound);
    ev = gw_log_event_new (G_LOG_LEVEL_INFO, "listener_up");
    gw_log_event_add_str (ev, "proto", proto);
    gw_log_event_add_str (ev, "addr", bound_str);
    gw_log_event_emit (ev, "listening for %s on %s", proto, bound_str);
  }
  return TRUE;
}

static gboolean
on_quit_signal (gpointer user_data)
{
  Daemon *d = user_data;
  g_autoptr (GwLogEvent) ev = gw_log_event_new (G_LOG_LEVEL_INFO, "stopping");

  gw_log_event_emit (ev, "signal received, stopping");
  g_main_loop_quit (d->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  gboolean version = FALSE;
  g_autofree char *log_format = NULL;
  g_autofree char *log_level = NULL;
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  GwLogFormat format = GW_LOG_FORMAT_JSON;
  GLogLevelFlags level = G_LOG_LEVEL_INFO;
  Daemon d = { 0 };
  g_autoptr (GwLogEvent) ev = NULL;
  const GOptionEntry entries[] = {
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version,
      "Print the version and exit", NULL },
    { "log-format", 0, 0, G_OPTION_ARG_STRING, &log_format,
      "Log stream format: json (default) or text", "FORMAT" },
    { "log-level", 0, 0, G_OPTION_ARG_STRING, &log_level,
      "Lowest level logged: error, warning, notice, info (default), debug",
      "LEVEL" },
    { NULL }
  };

  ctx = g_option_context_new ("- MSRP NAT traversal gateway");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "msrp-edge: %s\n", error->message);
    return 2;
  }
  if (version) {
    printf ("msrp-edge %s\n", MSRP_EDGE_VERSION);
    return 0;
  }
  if ((log_format != NULL && !gw_log_format_parse (log_format, &format, &error)) ||
      (log_level != NULL && !gw_log_level_parse (log_level, &level, &error))) {
    fprintf (stderr, "msrp-edge: %s\n", error->message);
    return 2;
  }
  gw_log_init (format, level, "msrp-edge");

  d.loop = g_main_loop_new (NULL, FALSE);
  d.msrp_service = g_socket_service_new ();
  g_signal_connect (d.msrp_service, "incoming", G_CALLBACK (on_incoming), &d);

  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "config_loaded");
  gw_log_event_add_str (ev, "source", "embedded default");
  gw_log_event_add_str (ev, "version", MSRP_EDGE_VERSION);
  gw_log_event_emit (ev, "msrp-edge %s starting on the embedded default "
                     "(msrp on %s, no TLS)", MSRP_EDGE_VERSION,
                     DEFAULT_MSRP_LISTEN);

  if (!start_listener (&d, "msrp", DEFAULT_MSRP_LISTEN, &error)) {
    g_autoptr (GwLogEvent) fail = gw_log_event_new (G_LOG_LEVEL_CRITICAL,
                                                    "startup_failed");
    gw_log_event_add_str (fail, "reason", error->message);
    gw_log_event_emit (fail, "%s", error->message);
    g_object_unref (d.msrp_service);
    g_main_loop_unref (d.loop);
    return 1;
  }

  g_unix_signal_add (SIGTERM, on_quit_signal, &d);
  g_unix_signal_add (SIGINT, on_quit_signal, &d);
  g_main_loop_run (d.loop);

  g_socket_service_stop (d.msrp_service);
  g_socket_listener_close (G_SOCKET_LISTENER (d.msrp_service));
  g_object_unref (d.msrp_service);
  g_main_loop_unref (d.loop);
  return 0;
}
