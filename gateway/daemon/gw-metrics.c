#include "msrp-edge-config.h"

#include "gw-metrics.h"

#include <libsoup/soup.h>
#include <netinet/in.h>
#include <string.h>

#include "gw-log.h"
#include "net-addr.h"

struct _GwMetrics
{
  SoupServer *server;
  GPtrArray *addresses; /* GSocketAddress, as bound */
  GwRelay *relay;
  GwCalls *calls;
  GwNgServer *control; /* not owned */
  /* The control server's counters when it went (gw_metrics_set_control ()
   * with NULL): shown from then on. */
  gboolean has_ng_frozen;
  GwNgStats ng_frozen;
  gint64 started; /* monotonic, microseconds */
};

void
gw_metrics_set_control (GwMetrics *m, GwNgServer *control)
{
  g_return_if_fail (m != NULL);
  if (m->control != NULL && control == NULL)
    {
      gw_ng_server_get_stats (m->control, &m->ng_frozen);
      /* Gauges of a server that is gone: nothing is pending or cached. */
      m->ng_frozen.pending = 0;
      m->ng_frozen.cache_entries = 0;
      m->ng_frozen.cache_bytes = 0;
      m->has_ng_frozen = TRUE;
    }
  m->control = control;
}

/* --- the text format ----------------------------------------------------
 *
 * https://prometheus.io/docs/instrumenting/exposition_formats/: one HELP
 * and one TYPE line per family, then its samples; counters end in _total,
 * units are in the names (_bytes, _seconds), dimensions are labels, as
 * rtpengine's are (rtpengine_sessions{type="own"},
 * rtpengine_requests_total{request="offer"}).  Every label value written
 * here is escaped all the same (backslash, double quote, newline). */

#define PREFIX "msrp_edge_"

static void
family (GString *out, const char *name, const char *type, const char *help)
{
  g_string_append_printf (out,
                          "# HELP " PREFIX "%s %s\n"
                          "# TYPE " PREFIX "%s %s\n",
                          name, help, name, type);
}

static void
append_escaped (GString *out, const char *value)
{
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '\\' || *p == '"')
        g_string_append_c (out, '\\');
      if (*p == '\n')
        g_string_append (out, "\\n");
      else
        g_string_append_c (out, *p);
    }
}

/* PREFIX @name{k="v",...} with @labels: name, value, ..., NULL (NULL or
 * empty: no braces); the caller appends " VALUE\n". */
static void
begin_sample (GString *out, const char *name, const char *const *labels)
{
  g_string_append (out, PREFIX);
  g_string_append (out, name);
  if (labels == NULL || labels[0] == NULL)
    return;
  g_string_append_c (out, '{');
  for (guint i = 0; labels[i] != NULL && labels[i + 1] != NULL; i += 2)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append_printf (out, "%s=\"", labels[i]);
      append_escaped (out, labels[i + 1]);
      g_string_append_c (out, '"');
    }
  g_string_append_c (out, '}');
}

static void
sample (GString *out, const char *name, const char *const *labels, guint64 v)
{
  begin_sample (out, name, labels);
  g_string_append_printf (out, " %" G_GUINT64_FORMAT "\n", v);
}

/* A sample with one label, @label="@value". */
static void
sample1 (GString *out, const char *name, const char *label, const char *value,
         guint64 v)
{
  const char *const labels[] = { label, value, NULL };

  sample (out, name, labels, v);
}

/* A family of one sample without labels. */
static void
single (GString *out, const char *name, const char *type, const char *help,
        guint64 v)
{
  family (out, name, type, help);
  sample (out, name, NULL, v);
}

/* Seconds as a sample value: microseconds exactly, in the C locale. */
static void
append_seconds (GString *out, double seconds)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (out, " %s\n",
                          g_ascii_formatd (buf, sizeof buf, "%.6f", seconds));
}

/* A family of one sample per transport and direction. */
static void
by_transport (GString *out, const char *name, const char *type,
              const char *help,
              guint64 v[GW_RELAY_N_TRANSPORTS][GW_RELAY_N_DIRECTIONS])
{
  family (out, name, type, help);
  for (guint t = 0; t < GW_RELAY_N_TRANSPORTS; t++)
    for (guint d = 0; d < GW_RELAY_N_DIRECTIONS; d++)
      {
        const char *const labels[] = {
          "transport", gw_relay_transport_to_string (t),
          "direction", gw_relay_direction_to_string (d),
          NULL,
        };

        sample (out, name, labels, v[t][d]);
      }
}

static void
render_connections (const GwRelayStats *r, GString *out)
{
  guint64 open[GW_RELAY_N_TRANSPORTS][GW_RELAY_N_DIRECTIONS];
  guint64 opened[GW_RELAY_N_TRANSPORTS][GW_RELAY_N_DIRECTIONS];

  for (guint t = 0; t < GW_RELAY_N_TRANSPORTS; t++)
    for (guint d = 0; d < GW_RELAY_N_DIRECTIONS; d++)
      {
        open[t][d] = r->open[t][d];
        opened[t][d] = r->opened[t][d];
      }
  by_transport (out, "connections", "gauge",
                "Open MSRP connections by transport and direction (stats "
                "connections, ng connections: their sum)",
                open);
  by_transport (out, "connections_total", "counter",
                "MSRP connections accepted (inbound) or opened (outbound) by "
                "transport",
                opened);
}

/* A counter family of error codes, one sample per code seen. */
static void
render_codes (GString *out, const char *name, const char *help,
              const GArray *codes)
{
  family (out, name, "counter", help);
  for (guint i = 0; codes != NULL && i < codes->len; i++)
    {
      const GwRelayCodeCount *cc = &g_array_index (codes, GwRelayCodeCount, i);
      char code[16];

      g_snprintf (code, sizeof code, "%03u", cc->code);
      sample1 (out, name, "code", code, cc->count);
    }
}

static void
render_relay (const GwMetricsSample *s, GString *out)
{
  const GwRelayStats *r = &s->relay;

  render_connections (r, out);
  family (out, "sessions", "gauge",
          "Relay session URIs valid now, by kind (stats sessions, ng "
          "relaysessions: their sum)");
  for (guint k = 0; k < GW_RELAY_N_SESSION_KINDS; k++)
    sample1 (out, "sessions", "kind", gw_relay_session_kind_to_string (k),
             r->sessions_by_kind[k]);
  family (out, "bytes_total", "counter",
          "Bytes received and sent on every MSRP connection (stats "
          "bytes_in, bytes_out)");
  sample1 (out, "bytes_total", "direction", "in", r->bytes_in);
  sample1 (out, "bytes_total", "direction", "out", r->bytes_out);
  single (out, "messages_total", "counter",
          "SEND messages relayed to their end (stats messages)", r->messages);
  single (out, "frames_in_flight", "gauge",
          "Frames being streamed through now (stats frames_in_flight)",
          r->frames_in_flight);
  single (out, "frames_waiting", "gauge",
          "Frames waiting for a busy writer or for a party to connect",
          r->frames_waiting);
  single (out, "queued_bytes", "gauge",
          "Bytes held in write queues and paused input (stats queued_bytes)",
          r->queued_bytes);
  single (out, "readers_paused", "gauge",
          "Connections not read for backpressure", r->readers_paused);
  single (out, "pending_transactions", "gauge",
          "Forwarded requests awaiting a response (stats "
          "pending_transactions)",
          r->pending_transactions);
  render_codes (out, "errors_total",
                "Error responses and failure REPORTs the relay made, by "
                "status code (stats err_NNN)",
                s->errors);
  render_codes (out, "reports_total",
                "Failure REPORTs the relay sent, by status code "
                "(report_generated)",
                s->reports);
  family (out, "auth_requests_total", "counter",
          "AUTH requests to the relay answered, by outcome");
  for (guint o = 0; o < GW_RELAY_N_AUTH_OUTCOMES; o++)
    sample1 (out, "auth_requests_total", "outcome",
             gw_relay_auth_outcome_to_string (o), r->auth[o]);
  family (out, "keepalive_failures_total", "counter",
          "Connections found dead by keep-alives (connection_dead), by "
          "probe: tcp (the kernel's keep-alive probes or user timeout), "
          "msrp (a bodiless SEND unanswered)");
  for (guint p = 0; p < GW_RELAY_N_PROBES; p++)
    sample1 (out, "keepalive_failures_total", "probe",
             gw_relay_probe_to_string (p), r->dead[p]);
}

static void
render_calls (const GwCallsStats *c, GString *out)
{
  static const char *const ice_states[] = { "gathered", "ready", "failed",
                                            "ended" };
  const guint64 ice[] = { c->ice.gathered, c->ice.ready, c->ice.failed,
                          c->ice.ended };

  G_STATIC_ASSERT (G_N_ELEMENTS (ice_states) == G_N_ELEMENTS (ice));
  single (out, "calls", "gauge", "Calls in the call table (ng sessionsown)",
          c->calls);
  family (out, "call_commands_total", "counter",
          "ng offers, answers and deletes the call table carried out (ng "
          "offers, answers, deletes)");
  sample1 (out, "call_commands_total", "command", "offer", c->offers);
  sample1 (out, "call_commands_total", "command", "answer", c->answers);
  sample1 (out, "call_commands_total", "command", "delete", c->deletes);
  single (out, "expired_calls_total", "counter",
          "Calls expired after [negotiator] call-timeout (ng "
          "timeoutsessions)",
          c->expired);
  family (out, "refused_calls_total", "counter",
          "Offers for new calls answered load limit, by why (call_refused; "
          "ng rejectedsessions is their sum)");
  for (guint r = 0; r < GW_CALLS_N_REFUSALS; r++)
    sample1 (out, "refused_calls_total", "reason",
             gw_calls_refusal_to_string (r), c->refused[r]);
  /* Every plan, cema and cema-fallback included. */
  family (out, "streams_total", "counter",
          "MSRP streams answered, by plan (ng streams-<plan>)");
  for (guint p = 0; p < GW_NEG_N_PLANS; p++)
    sample1 (out, "streams_total", "plan", gw_neg_plan_to_string (p),
             c->streams[p]);
  single (out, "anchors", "gauge",
          "CEMA anchors now, streams of plan cema (ng anchors)", c->anchors);
  single (out, "anchored_bytes_total", "counter",
          "Bytes passed through CEMA anchors, both ways (ng anchored-bytes)",
          c->anchored_bytes);
  single (out, "ice_legs", "gauge", "ICE-TCP legs to parties now",
          c->ice.legs);
  family (out, "ice_legs_total", "counter",
          "ICE-TCP legs that reached a state (ice_gathered, ice_ready, "
          "ice_failed, ice_ended)");
  for (guint i = 0; i < G_N_ELEMENTS (ice); i++)
    sample1 (out, "ice_legs_total", "state", ice_states[i], ice[i]);
}

static void
render_latency (const GwNgStats *ng, GString *out)
{
  const char *name = "ng_request_duration_seconds";

  family (out, name, "histogram",
          "Time from an ng request's datagram read to its reply sent, by "
          "command");
  for (guint c = 0; c < GW_NG_N_COMMANDS; c++)
    {
      const GwNgCommandStats *cs = &ng->commands[c];
      const char *command = gw_ng_command_to_string (c);
      g_autofree char *bucket = g_strconcat (name, "_bucket", NULL);
      g_autofree char *sum = g_strconcat (name, "_sum", NULL);
      g_autofree char *count = g_strconcat (name, "_count", NULL);
      const char *const labels[] = { "command", command, NULL };

      for (guint i = 0; i <= GW_NG_LATENCY_BUCKETS; i++)
        {
          char le[G_ASCII_DTOSTR_BUF_SIZE] = "+Inf";
          const char *const bucket_labels[] = { "command", command, "le", le,
                                                NULL };

          if (i < GW_NG_LATENCY_BUCKETS)
            g_ascii_formatd (le, sizeof le, "%g",
                             (double) gw_ng_latency_bounds_us[i] / 1e6);
          sample (out, bucket, bucket_labels,
                  i < GW_NG_LATENCY_BUCKETS ? cs->le[i] : cs->answered);
        }
      begin_sample (out, sum, labels);
      append_seconds (out, (double) cs->sum_us / 1e6);
      sample (out, count, labels, cs->answered);
    }
}

static void
render_ng (const GwNgStats *ng, GString *out)
{
  family (out, "ng_requests_total", "counter",
          "ng requests read whole and dispatched, by command (rtpengine's "
          "requests_total)");
  for (guint c = 0; c < GW_NG_N_COMMANDS; c++)
    sample1 (out, "ng_requests_total", "command", gw_ng_command_to_string (c),
             ng->commands[c].requests);
  render_latency (ng, out);
  single (out, "ng_retransmissions_total", "counter",
          "ng requests answered again from the reply cache",
          ng->retransmissions);
  single (out, "ng_errors_total", "counter", "ng error replies sent",
          ng->errors);
  single (out, "ng_dropped_total", "counter",
          "ng datagrams not answered: no cookie, or a retransmission of a "
          "request still in progress",
          ng->dropped);
}

void
gw_metrics_render (const GwMetricsSample *s, GString *out)
{
  g_return_if_fail (s != NULL && out != NULL);
  single (out, "up", "gauge", "1 while msrp-edge answers", 1);
  family (out, "build_info", "gauge", "The version of msrp-edge running");
  sample1 (out, "build_info", "version", s->version, 1);
  family (out, "uptime_seconds", "gauge", "Seconds since msrp-edge started");
  begin_sample (out, "uptime_seconds", NULL);
  append_seconds (out, s->uptime_s);
  render_relay (s, out);
  render_calls (&s->calls, out);
  if (s->has_ng)
    render_ng (&s->ng, out);
}

/* --- HTTP ---------------------------------------------------------------- */

#define TEXT_PLAIN "text/plain; charset=utf-8"

/* Answer @status with @body, text without NUL bytes.  (transfer full) */
static void
reply_text (SoupServerMessage *msg, guint status, const char *content_type,
            char *body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_TAKE, body,
                                    strlen (body));
}

static void
serve_metrics (GwMetrics *m, SoupServerMessage *msg)
{
  g_autoptr (GArray) errors = gw_relay_get_error_counts (m->relay);
  g_autoptr (GArray) reports = gw_relay_get_report_counts (m->relay);
  GwMetricsSample s = { 0 };
  GString *out;

  s.version = MSRP_EDGE_VERSION;
  s.uptime_s = (double) (g_get_monotonic_time () - m->started) / 1e6;
  gw_relay_get_stats (m->relay, &s.relay);
  s.errors = errors;
  s.reports = reports;
  gw_calls_get_stats (m->calls, &s.calls);
  s.has_ng = m->control != NULL || m->has_ng_frozen;
  if (m->control != NULL)
    gw_ng_server_get_stats (m->control, &s.ng);
  else
    s.ng = m->ng_frozen;
  /* About 16 KiB, most of it the ng histograms' buckets. */
  out = g_string_sized_new (20480);
  gw_metrics_render (&s, out);
  reply_text (msg, SOUP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8",
              g_string_free (out, FALSE));
}

static void
on_request (SoupServer *server, SoupServerMessage *msg, const char *path,
            GHashTable *query, gpointer data)
{
  GwMetrics *m = data;
  const char *method = soup_server_message_get_method (msg);

  if (strcmp (method, SOUP_METHOD_GET) != 0 &&
      strcmp (method, SOUP_METHOD_HEAD) != 0)
    {
      soup_message_headers_replace (
          soup_server_message_get_response_headers (msg), "Allow",
          "GET, HEAD");
      reply_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, TEXT_PLAIN,
                  g_strdup ("GET or HEAD\n"));
      return;
    }
  if (strcmp (path, "/metrics") == 0)
    serve_metrics (m, msg);
  else if (strcmp (path, "/ping") == 0)
    reply_text (msg, SOUP_STATUS_OK, TEXT_PLAIN, g_strdup ("pong\n"));
  else
    reply_text (msg, SOUP_STATUS_NOT_FOUND, TEXT_PLAIN,
                g_strdup ("not found: try /metrics or /ping\n"));
}

/* A listening socket of our own on @addr, handed to the server: its
 * address (the port picked) is known, and an error names it. */
static GSocketAddress *
listen_on (GwMetrics *m, GSocketAddress *addr, GError **error)
{
  g_autoptr (GSocket) sock = NULL;
  g_autofree char *where = net_addr_to_string (addr);
  GSocketFamily family = g_socket_address_get_family (addr);

  sock = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                       error);
  /* IPv6 sockets are IPv6 only, as the other listeners' are: [::] does
   * not take IPv4 too. */
  if (sock != NULL && family == G_SOCKET_FAMILY_IPV6 &&
      !g_socket_set_option (sock, IPPROTO_IPV6, IPV6_V6ONLY, 1, error))
    g_clear_object (&sock);
  if (sock == NULL || !g_socket_bind (sock, addr, TRUE, error) ||
      !g_socket_listen (sock, error) ||
      !soup_server_listen_socket (m->server, sock, 0, error))
    {
      g_prefix_error (error, "cannot listen for http on %s: ", where);
      return NULL;
    }
  return g_socket_get_local_address (sock, error);
}

GwMetrics *
gw_metrics_new (GPtrArray *addresses, GwRelay *relay, GwCalls *calls,
                GError **error)
{
  g_autoptr (GwMetrics) m = NULL;

  g_return_val_if_fail (addresses != NULL && relay != NULL, NULL);
  g_return_val_if_fail (calls != NULL, NULL);
  m = g_new0 (GwMetrics, 1);
  m->relay = relay;
  m->calls = calls;
  m->started = g_get_monotonic_time ();
  m->addresses = g_ptr_array_new_with_free_func (g_object_unref);
  m->server = soup_server_new ("server-header", "msrp-edge", NULL);
  soup_server_add_handler (m->server, NULL, on_request, m, NULL);
  for (guint i = 0; i < addresses->len; i++)
    {
      GSocketAddress *bound = listen_on (m, addresses->pdata[i], error);
      g_autofree char *text = NULL;
      g_autoptr (GwLogEvent) ev = NULL;

      if (bound == NULL)
        return NULL;
      g_ptr_array_add (m->addresses, bound);
      text = net_addr_to_string (bound);
      ev = gw_log_event_new (G_LOG_LEVEL_INFO, "metrics_up");
      gw_log_event_add_str (ev, "addr", text);
      gw_log_event_emit (ev, "serving /metrics and /ping on http://%s", text);
    }
  return g_steal_pointer (&m);
}

void
gw_metrics_free (GwMetrics *m)
{
  if (m == NULL)
    return;
  if (m->server != NULL)
    soup_server_disconnect (m->server);
  g_clear_object (&m->server);
  g_clear_pointer (&m->addresses, g_ptr_array_unref);
  g_free (m);
}

GPtrArray *
gw_metrics_get_addresses (GwMetrics *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  return m->addresses;
}
