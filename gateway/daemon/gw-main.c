/* msrp-edge: the daemon's entry point.
 *
 * With no arguments it runs on the embedded default: MSRP over TCP on
 * 127.0.0.1:2855, no TLS; --config FILE runs on a GKeyFile instead.  It
 * listens for msrp (TCP) and msrps (TLS 1.2 and later) on every address of
 * [listen], IPv4 and IPv6, and relays what comes in (gw-relay.h).  The
 * ng control protocol (gw-ng.h) on [listen] control drives the negotiator
 * (gw-calls.h), which decides each MSRP stream's plan and makes the relay
 * sessions of the relay fallback.  [listen] http serves Prometheus metrics
 * (gw-metrics.h).
 *
 * Signals:
 *   SIGTERM, SIGINT  with calls in the call table, drain first: new calls
 *                    get ng `load limit`, live ones go on (listeners and
 *                    the control server stay) until none is left or
 *                    [limits] drain-timeout has passed; then stop
 *                    accepting; frames in flight may finish for up to
 *                    SHUTDOWN_GRACE_S seconds; then close everything and
 *                    exit 0.  A second signal stops at once.
 *   SIGHUP           read the users file and the TLS certificate, key and
 *                    CA file again; on success new AUTHs and new
 *                    connections use them, live connections are kept; on
 *                    error the old ones stay (log: config_reloaded or
 *                    reload_failed).
 *
 * Under systemd (Type=notify, gw-notify.h) it says READY=1 once every
 * listener is up, RELOADING=1 and READY=1 around a SIGHUP, STOPPING=1 on
 * the first SIGTERM, a STATUS= line with what it carries, and pings the
 * watchdog from the main loop.
 */
#include "msrp-edge-config.h"

#include <glib-unix.h>
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>

#include "net-addr.h"
#include "gw-calls.h"
#include "gw-config.h"
#include "net-conn.h"
#include "net-listener.h"
#include "net-loop.h"
#include "gw-log.h"
#include "gw-metrics.h"
#include "gw-ng.h"
#include "gw-notify.h"
#include "gw-relay.h"
#include "net-tls.h"
#include "gw-users.h"

/* How long SIGTERM waits for frames in flight. */
#define SHUTDOWN_GRACE_S 10
#define SHUTDOWN_POLL_MS 100
/* While draining, how often the log says how many calls are left. */
#define DRAIN_LOG_S 10

typedef struct
{
  GMainLoop *loop;
  GwConfig *config;
  GwRelay *relay;
  GwCalls *calls;           /* the negotiator's call table */
  GwAnchorPool *anchors;    /* CEMA anchors; NULL when [cema] is off */
  GwNgServer *control;      /* ng on [listen] control; NULL when empty */
  GwMetrics *metrics;       /* [listen] http; NULL when empty */
  NetTls *tls;              /* NULL without [tls] certificate / ca-file */
  GPtrArray *tls_listeners; /* NetListener, to swap reloaded TLS in */
  GwNotify *notify;         /* sd_notify: readiness, status, watchdog */
  gboolean stopping;
  gboolean draining;   /* SIGTERM: live calls go on, new ones are refused */
  gint64 drain_start;  /* monotonic, microseconds */
  gint64 drain_logged; /* the last draining line */
  gint64 stop_deadline;
  int exit_status;
} Daemon;

static void
log_failure (const char *event, const char *reason)
{
  g_autoptr (GwLogEvent) ev = gw_log_event_new (G_LOG_LEVEL_CRITICAL, event);

  gw_log_event_add_str (ev, "reason", reason);
  gw_log_event_emit (ev, "%s", reason);
}

/* The TLS contexts of [tls]: a server context for msrps listeners (peer
 * certificates asked for and checked when verify-relays, RFC 4976 section
 * 6.1) and a client context for msrps next hops.  NULL, without error,
 * when there is nothing to build from. */
static NetTls *
make_tls (GwConfig *c, GError **error)
{
  NetTlsSettings settings = {
    .certificate = c->tls_certificate,
    .private_key = c->tls_private_key,
    .ca_file = c->tls_ca_file,
    .peer_verify = c->tls_verify_relays ? NET_TLS_PEER_VERIFY_OPTIONAL
                                        : NET_TLS_PEER_VERIFY_NONE,
  };

  return net_tls_new (&settings, error);
}

static gboolean
start_listeners (Daemon *d, MsrpScheme scheme, GPtrArray *addrs,
                 GError **error)
{
  const char *proto = scheme == MSRP_SCHEME_MSRPS ? "msrps" : "msrp";
  NetConnOptions options;

  gw_config_conn_options (d->config, &options);
  for (guint i = 0; i < addrs->len; i++)
    {
      g_autoptr (NetListener) l = NULL;
      g_autoptr (GwLogEvent) ev = NULL;
      const char *bound;

      l = net_listener_new (addrs->pdata[i],
                            scheme == MSRP_SCHEME_MSRPS ? d->tls : NULL,
                            &options, error);
      if (l == NULL)
        {
          g_prefix_error (error, "cannot listen for %s: ", proto);
          return FALSE;
        }
      gw_relay_add_listener (d->relay, l, scheme);
      if (scheme == MSRP_SCHEME_MSRPS)
        g_ptr_array_add (d->tls_listeners, net_listener_ref (l));
      bound = net_listener_get_address_string (l);
      ev = gw_log_event_new (G_LOG_LEVEL_INFO, "listener_up");
      gw_log_event_add_str (ev, "proto", proto);
      gw_log_event_add_str (ev, "addr", bound);
      gw_log_event_emit (ev, "listening for %s on %s", proto, bound);
    }
  return TRUE;
}

/* The metrics endpoint ([listen] http) and the ng control server
 * ([listen] control), whose counters the endpoint shows. */
static gboolean
start_control (Daemon *d, GError **error)
{
  if (d->config->listen_http->len > 0)
    {
      d->metrics =
          gw_metrics_new (d->config->listen_http, d->relay, d->calls, error);
      if (d->metrics == NULL)
        return FALSE;
    }
  if (d->config->listen_control->len == 0)
    return TRUE;
  d->control =
      gw_ng_server_new (d->config->listen_control, NULL,
                        gw_calls_get_ng_handler (), d->calls, NULL, error);
  if (d->control == NULL)
    {
      g_prefix_error (error, "cannot listen for control: ");
      return FALSE;
    }
  if (d->metrics != NULL)
    gw_metrics_set_control (d->metrics, d->control);
  return TRUE;
}

static gboolean
check_stopped (gpointer data)
{
  Daemon *d = data;
  gboolean busy = gw_relay_is_busy (d->relay);

  if (busy && g_get_monotonic_time () < d->stop_deadline)
    return G_SOURCE_CONTINUE;
  if (busy)
    {
      g_autoptr (GwLogEvent) ev =
          gw_log_event_new (G_LOG_LEVEL_WARNING, "shutdown_timeout");

      gw_log_event_add_int (ev, "grace_s", SHUTDOWN_GRACE_S);
      gw_log_event_emit (ev,
                         "frames still in flight after %d s: closing "
                         "anyway",
                         SHUTDOWN_GRACE_S);
    }
  g_main_loop_quit (d->loop);
  return G_SOURCE_REMOVE;
}

/* The calls are gone, or the drain is over: stop accepting, and let the
 * frames in flight finish. */
static void
stop_accepting (Daemon *d)
{
  d->draining = FALSE;
  gw_relay_close_listeners (d->relay);
  g_ptr_array_set_size (d->tls_listeners, 0);
  /* No new calls either; live ones go on until the end.  The metrics
   * endpoint stays to the end, with the ng counters as they were now. */
  if (d->metrics != NULL)
    gw_metrics_set_control (d->metrics, NULL);
  g_clear_pointer (&d->control, gw_ng_server_free);
  d->stop_deadline =
      g_get_monotonic_time () + (gint64) SHUTDOWN_GRACE_S * G_USEC_PER_SEC;
  if (check_stopped (d) == G_SOURCE_CONTINUE)
    g_timeout_add (SHUTDOWN_POLL_MS, check_stopped, d);
}

/* Draining (issue 12 part 4): the ng server answers new call-ids with
 * load limit, so the SIP proxy takes its next node, while the live calls
 * go on -- their answers, re-INVITEs, deletes, and their parties'
 * connections, which is why the listeners stay open -- until none is
 * left or [limits] drain-timeout has passed. */
static gboolean
check_drained (gpointer data)
{
  Daemon *d = data;
  gint64 now = g_get_monotonic_time ();
  guint left = gw_calls_get_n_calls (d->calls);
  gint64 waited_s = (now - d->drain_start) / G_USEC_PER_SEC;

  if (!d->draining)
    return G_SOURCE_REMOVE;
  if (left == 0)
    {
      g_autoptr (GwLogEvent) ev =
          gw_log_event_new (G_LOG_LEVEL_INFO, "drained");

      gw_log_event_add_int (ev, "waited_s", waited_s);
      gw_log_event_emit (ev, "no call left after %" G_GINT64_FORMAT " s",
                         waited_s);
      stop_accepting (d);
      return G_SOURCE_REMOVE;
    }
  if (waited_s >= (gint64) d->config->drain_timeout)
    {
      g_autoptr (GwLogEvent) ev =
          gw_log_event_new (G_LOG_LEVEL_WARNING, "drain_timeout");

      gw_log_event_add_int (ev, "calls", left);
      gw_log_event_add_int (ev, "drain_s", d->config->drain_timeout);
      gw_log_event_emit (ev,
                         "%u calls still live after %u s of draining: "
                         "closing them",
                         left, d->config->drain_timeout);
      stop_accepting (d);
      return G_SOURCE_REMOVE;
    }
  if (now - d->drain_logged >= (gint64) DRAIN_LOG_S * G_USEC_PER_SEC)
    {
      g_autoptr (GwLogEvent) ev =
          gw_log_event_new (G_LOG_LEVEL_INFO, "draining");

      d->drain_logged = now;
      gw_log_event_add_int (ev, "calls", left);
      gw_log_event_add_int (ev, "left_s",
                            (gint64) d->config->drain_timeout - waited_s);
      gw_log_event_emit (ev, "draining: %u calls left", left);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_quit_signal (gpointer user_data)
{
  Daemon *d = user_data;
  g_autoptr (GwLogEvent) ev = NULL;
  guint calls = gw_calls_get_n_calls (d->calls);
  gboolean drain;

  if (d->stopping)
    {
      /* A second signal: do not wait any longer. */
      g_main_loop_quit (d->loop);
      return G_SOURCE_CONTINUE;
    }
  d->stopping = TRUE;
  gw_notify_stopping (d->notify);
  drain = d->control != NULL && calls > 0 && d->config->drain_timeout > 0;
  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "stopping");
  gw_log_event_add_int (ev, "grace_s", SHUTDOWN_GRACE_S);
  gw_log_event_add_int (ev, "calls", calls);
  gw_log_event_add_int (ev, "drain_s", drain ? d->config->drain_timeout : 0);
  if (!drain)
    {
      gw_log_event_emit (ev,
                         "signal received: no new connections; waiting up "
                         "to %d s for frames in flight",
                         SHUTDOWN_GRACE_S);
      stop_accepting (d);
      return G_SOURCE_CONTINUE;
    }
  gw_log_event_emit (ev,
                     "signal received: draining %u calls for up to %u s "
                     "(new calls get load limit), then waiting up to %d s "
                     "for frames in flight",
                     calls, d->config->drain_timeout, SHUTDOWN_GRACE_S);
  d->draining = TRUE;
  d->drain_start = g_get_monotonic_time ();
  d->drain_logged = d->drain_start;
  gw_calls_set_draining (d->calls, TRUE);
  g_timeout_add (SHUTDOWN_POLL_MS, check_drained, d);
  return G_SOURCE_CONTINUE;
}

static void
log_reload_failed (const GError *error)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_WARNING, "reload_failed");

  gw_log_event_add_str (ev, "reason", error->message);
  gw_log_event_emit (ev,
                     "reload failed, keeping the old users and "
                     "certificates: %s",
                     error->message);
}

/* Read the users file and the TLS files again; swap them in only when all
 * of them loaded. */
static void
reload (Daemon *d)
{
  g_autoptr (GwUsers) users = NULL;
  g_autoptr (NetTls) tls = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GwLogEvent) ev = NULL;

  if (d->config->auth_users_file != NULL)
    {
      users = gw_users_load (d->config->auth_users_file, &error);
      if (users == NULL)
        {
          log_reload_failed (error);
          return;
        }
    }
  if (d->tls != NULL)
    {
      tls = net_tls_reload (d->tls, &error);
      if (tls == NULL)
        {
          log_reload_failed (error);
          return;
        }
    }
  if (users != NULL)
    gw_relay_set_users (d->relay, users);
  if (tls != NULL)
    {
      for (guint i = 0; i < d->tls_listeners->len; i++)
        net_listener_set_tls (d->tls_listeners->pdata[i], tls);
      gw_relay_set_client_tls (d->relay, tls);
      net_tls_unref (d->tls);
      d->tls = g_steal_pointer (&tls);
    }
  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "config_reloaded");
  if (users != NULL)
    {
      gw_log_event_add_str (ev, "users_file", gw_users_get_source (users));
      gw_log_event_add_int (ev, "users", gw_users_get_count (users));
    }
  gw_log_event_add_bool (ev, "tls", d->tls != NULL);
  gw_log_event_emit (ev, "reloaded the users file and TLS certificates");
}

static gboolean
on_reload_signal (gpointer user_data)
{
  Daemon *d = user_data;

  /* systemd shows the unit reloading until READY=1 comes again, whether
   * the reload worked or not (the log says which). */
  gw_notify_reloading (d->notify);
  reload (d);
  gw_notify_ready (d->notify);
  return G_SOURCE_CONTINUE;
}

/* STATUS= for systemctl status: what the daemon carries now. */
static char *
notify_status (gpointer user_data)
{
  Daemon *d = user_data;
  GwRelayStats st;

  gw_relay_get_stats (d->relay, &st);
  if (d->draining)
    return g_strdup_printf ("draining: %u calls left, %u connections, %u "
                            "sessions",
                            gw_calls_get_n_calls (d->calls), st.connections,
                            st.sessions);
  return g_strdup_printf ("%s%u connections, %u sessions, %u calls",
                          d->stopping ? "stopping: " : "", st.connections,
                          st.sessions, gw_calls_get_n_calls (d->calls));
}

typedef struct
{
  gboolean version;
  char *config_path;
  char *check_path;
  char *log_format;
  char *log_level;
} Options;

static void
options_clear (Options *o)
{
  g_free (o->config_path);
  g_free (o->check_path);
  g_free (o->log_format);
  g_free (o->log_level);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

static gboolean
parse_options (Options *o, int *argc, char ***argv, GError **error)
{
  const GOptionEntry entries[] = {
    { "version", 'V', 0, G_OPTION_ARG_NONE, &o->version,
      "Print the version and exit", NULL },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config_path,
      "Run with this configuration file instead of the embedded default",
      "FILE" },
    { "check-config", 0, 0, G_OPTION_ARG_FILENAME, &o->check_path,
      "Validate FILE, print what is wrong, and exit", "FILE" },
    { "log-format", 0, 0, G_OPTION_ARG_STRING, &o->log_format,
      "Log stream format: json (default) or text", "FORMAT" },
    { "log-level", 0, 0, G_OPTION_ARG_STRING, &o->log_level,
      "Lowest level logged: error, warning, notice, info (default), debug",
      "LEVEL" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("- MSRP NAT traversal gateway");

  g_option_context_add_main_entries (ctx, entries, NULL);
  return g_option_context_parse (ctx, argc, argv, error);
}

/* --check-config: the exit status, with what is wrong on stderr. */
static int
check_config (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GwConfig) config = gw_config_load (path, &error);
  g_autoptr (GwUsers) users = NULL;

  if (config == NULL)
    {
      fprintf (stderr, "msrp-edge: %s\n", error->message);
      return 1;
    }
  if (config->auth_users_file != NULL)
    {
      users = gw_users_load (config->auth_users_file, &error);
      if (users == NULL)
        {
          fprintf (stderr, "msrp-edge: %s: [auth] users-file: %s\n", path,
                   error->message);
          return 1;
        }
    }
  printf ("%s: configuration is valid\n", path);
  return 0;
}

/* The file or the embedded default, with the command line's [log]
 * overrides; NULL with *STATUS set when it cannot be had. */
static GwConfig *
load_config (const Options *o, int *status)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GwConfig) config = o->config_path != NULL
                                    ? gw_config_load (o->config_path, &error)
                                    : gw_config_new_default ();

  if (config == NULL)
    {
      fprintf (stderr, "msrp-edge: %s\n", error->message);
      *status = 1;
      return NULL;
    }
  if ((o->log_format != NULL &&
       !gw_log_format_parse (o->log_format, &config->log_format, &error)) ||
      (o->log_level != NULL &&
       !gw_log_level_parse (o->log_level, &config->log_level, &error)))
    {
      fprintf (stderr, "msrp-edge: %s\n", error->message);
      *status = 2;
      return NULL;
    }
  return g_steal_pointer (&config);
}

static void
log_starting (const GwConfig *config)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_INFO, "config_loaded");

  gw_log_event_add_str (ev, "source", config->source);
  gw_log_event_add_str (ev, "version", MSRP_EDGE_VERSION);
  gw_log_event_add_bool (ev, "tls", config->listen_msrps->len > 0);
  gw_log_event_emit (ev, "msrp-edge %s starting on %s%s", MSRP_EDGE_VERSION,
                     config->source,
                     config->listen_msrps->len == 0 ? " (no TLS)" : "");
}

static GwUsers *
load_users (const GwConfig *config, GError **error)
{
  g_autoptr (GwLogEvent) warn = NULL;

  if (config->auth_users_file != NULL)
    return gw_users_load (config->auth_users_file, error);
  warn = gw_log_event_new (G_LOG_LEVEL_WARNING, "no_users");
  gw_log_event_emit (warn,
                     "no [auth] users-file: every AUTH will fail "
                     "(the relay fallback of the negotiator needs none)");
  return gw_users_new_empty ();
}

/* The CEMA anchor pool (RFC 6714, plan cema) unless [cema] enabled=false.
 * A pool that cannot be made (no address to bind) is not fatal: CEMA
 * offers then get the other plans, and the log says why once. */
static void
start_anchors (Daemon *d)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GwLogEvent) ev = NULL;

  if (!d->config->cema_enabled)
    return;
  d->anchors = gw_anchor_pool_new_from_config (
      d->config, gw_relay_get_connect_policy (d->relay), &error);
  if (d->anchors != NULL)
    {
      gw_calls_set_anchor_pool (d->calls, d->anchors);
      return;
    }
  ev = gw_log_event_new (G_LOG_LEVEL_WARNING, "cema_disabled");
  gw_log_event_add_str (ev, "reason", error->message);
  gw_log_event_emit (ev, "no CEMA anchoring: %s", error->message);
}

/* The relay, its listeners, the call table and the control plane. */
static gboolean
daemon_start (Daemon *d, GError **error)
{
  g_autoptr (GwUsers) users = load_users (d->config, error);

  if (users == NULL)
    return FALSE;
  /* A client context is always there (msrps next hops check servers
   * against ca-file or the system store); a server one with a
   * certificate. */
  d->tls = make_tls (d->config, error);
  if (d->tls == NULL)
    return FALSE;
  d->relay = gw_relay_new (d->config, users, d->tls, error);
  if (d->relay == NULL ||
      !start_listeners (d, MSRP_SCHEME_MSRP, d->config->listen_msrp, error) ||
      !start_listeners (d, MSRP_SCHEME_MSRPS, d->config->listen_msrps, error))
    return FALSE;
  d->calls = gw_calls_new (d->config, d->relay);
  start_anchors (d);
  return start_control (d, error);
}

static void
daemon_finish (Daemon *d)
{
  g_autoptr (GwLogEvent) bye = gw_log_event_new (G_LOG_LEVEL_INFO, "stopped");

  g_clear_pointer (&d->notify, gw_notify_free);
  g_clear_pointer (&d->control, gw_ng_server_free);
  /* Before the call table and the relay, which it reads. */
  g_clear_pointer (&d->metrics, gw_metrics_free);
  g_clear_pointer (&d->calls, gw_calls_free);
  /* After the call table, which frees every anchor. */
  g_clear_pointer (&d->anchors, gw_anchor_pool_free);
  g_clear_pointer (&d->relay, gw_relay_free);
  gw_log_event_add_int (bye, "status", d->exit_status);
  gw_log_event_emit (bye, "msrp-edge stopped");
  g_clear_pointer (&d->tls_listeners, g_ptr_array_unref);
  g_clear_pointer (&d->tls, net_tls_unref);
  g_clear_pointer (&d->loop, g_main_loop_unref);
  gw_log_flush ();
}

int
main (int argc, char **argv)
{
  g_auto (Options) o = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GwConfig) config = NULL;
  Daemon d = { 0 };
  int status = 0;

  if (!parse_options (&o, &argc, &argv, &error))
    {
      fprintf (stderr, "msrp-edge: %s\n", error->message);
      return 2;
    }
  if (o.version)
    {
      printf ("msrp-edge %s\n", MSRP_EDGE_VERSION);
      return 0;
    }
  if (o.check_path != NULL)
    return check_config (o.check_path);
  config = load_config (&o, &status);
  if (config == NULL)
    return status;

  gw_log_init (config->log_format, config->log_level, config->name);
  /* Lines leave once per turn of the data plane's loop, not once each. */
  gw_log_attach (net_loop_get_default ());
  log_starting (config);

  d.config = config;
  d.tls_listeners =
      g_ptr_array_new_with_free_func ((GDestroyNotify) net_listener_unref);
  if (!daemon_start (&d, &error))
    {
      log_failure ("startup_failed", error->message);
      d.exit_status = 1;
      daemon_finish (&d);
      return d.exit_status;
    }

  d.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_quit_signal, &d);
  g_unix_signal_add (SIGINT, on_quit_signal, &d);
  g_unix_signal_add (SIGHUP, on_reload_signal, &d);
  /* Every listener is up: the service manager may start what needs us. */
  d.notify = gw_notify_new (notify_status, &d);
  gw_notify_ready (d.notify);
  g_main_loop_run (d.loop);
  gw_relay_log_stats (d.relay);
  daemon_finish (&d);
  return d.exit_status;
}
