/* msrp-edge: the daemon's entry point.
 *
 * With no arguments it runs on the embedded default: MSRP over TCP on
 * 127.0.0.1:2855, no TLS; --config FILE runs on a GKeyFile instead.  The relay engine (RFC 4976) lands with the relay
 * work; until then the daemon starts its listeners, logs them, and closes
 * each accepted connection with a log line that says why. */
#include "msrp-edge-config.h"

#include <glib-unix.h>
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

#include "gw-addr.h"
#include "gw-config.h"
#include "gw-log.h"

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
start_listener (Daemon *d, const char *proto, GPtrArray *addrs,
                GError **error)
{
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
  g_autofree char *config_path = NULL;
  g_autofree char *check_path = NULL;
  g_autoptr (GwConfig) config = NULL;
  g_autofree char *log_format = NULL;
  g_autofree char *log_level = NULL;
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  Daemon d = { 0 };
  g_autoptr (GwLogEvent) ev = NULL;
  const GOptionEntry entries[] = {
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version,
      "Print the version and exit", NULL },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "Run with this configuration file instead of the embedded default",
      "FILE" },
    { "check-config", 0, 0, G_OPTION_ARG_FILENAME, &check_path,
      "Validate FILE, print what is wrong, and exit", "FILE" },
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
  if (check_path != NULL) {
    config = gw_config_load (check_path, &error);
    if (config == NULL) {
      fprintf (stderr, "msrp-edge: %s\n", error->message);
      return 1;
    }
    printf ("%s: configuration is valid\n", check_path);
    return 0;
  }
  config = config_path != NULL ? gw_config_load (config_path, &error)
                               : gw_config_new_default ();
  if (config == NULL) {
    fprintf (stderr, "msrp-edge: %s\n", error->message);
    return 1;
  }
  /* The command line overrides the file's [log] group. */
  if ((log_format != NULL &&
       !gw_log_format_parse (log_format, &config->log_format, &error)) ||
      (log_level != NULL &&
       !gw_log_level_parse (log_level, &config->log_level, &error))) {
    fprintf (stderr, "msrp-edge: %s\n", error->message);
    return 2;
  }
  gw_log_init (config->log_format, config->log_level, config->name);

  d.loop = g_main_loop_new (NULL, FALSE);
  d.msrp_service = g_socket_service_new ();
  g_signal_connect (d.msrp_service, "incoming", G_CALLBACK (on_incoming), &d);

  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "config_loaded");
  gw_log_event_add_str (ev, "source", config->source);
  gw_log_event_add_str (ev, "version", MSRP_EDGE_VERSION);
  gw_log_event_emit (ev, "msrp-edge %s starting on %s%s", MSRP_EDGE_VERSION,
                     config->source, config->listen_msrps->len == 0 ?
                     " (no TLS)" : "");

  if (config->listen_msrps->len > 0)
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                 "[listen] msrps: this build has no TLS listener yet");
  if (error != NULL ||
      !start_listener (&d, "msrp", config->listen_msrp, &error)) {
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
