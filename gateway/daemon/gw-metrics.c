#include "msrp-edge-config.h"

#include "gw-metrics.h"

#include <libsoup/soup.h>
#include <netinet/in.h>
#include <string.h>

#include "gw-log.h"
#include "net-addr.h"

/* How long a scrape waits for the call table's statistics reply.  It is
 * answered within the same call in practice (a datagram on loopback, read
 * by a source of our own context); the bound only keeps a broken socket
 * from hanging the main loop. */
#define STATS_TIMEOUT_MS 1000

struct _GwMetrics
{
  SoupServer *server;
  GPtrArray *addresses; /* GSocketAddress, as bound */
  GwRelay *relay;
  GwNgHandler calls_handler;
  gpointer calls;
  /* The call table's function for each command (NULL for ping). */
  void (*pass[GW_NG_COMMAND_STATISTICS + 1]) (GwNgRequest *, gpointer);
  GwNgServer *control; /* not owned */
  guint64 requests[GW_NG_COMMAND_STATISTICS + 1];
  gint64 started; /* monotonic, microseconds */

  /* The call table's statistics-only ng server, on a main context of its
   * own that a scrape iterates while it waits for the reply. */
  GMainContext *stats_context;
  GwNgServer *stats_server;
  GSocket *stats_client;
  guint64 stats_seq;
};

/* --- the ng handler that counts --------------------------------------- */

static void
count_and_pass (GwNgRequest *req, gpointer data)
{
  GwMetrics *m = data;
  GwNgCommand command = gw_ng_request_get_command (req);

  m->requests[command]++;
  if (m->pass[command] == NULL)
    {
      /* What the server answers for a NULL function, so that counting
       * changes no reply. */
      gw_ng_request_reply_error (req, "command '%s' is not supported",
                                 gw_ng_command_to_string (command));
      return;
    }
  m->pass[command](req, m->calls);
}

static const GwNgHandler counting_handler = {
  .offer = count_and_pass,
  .answer = count_and_pass,
  .delete = count_and_pass,
  .query = count_and_pass,
  .list = count_and_pass,
  .statistics = count_and_pass,
};

const GwNgHandler *
gw_metrics_get_ng_handler (void)
{
  return &counting_handler;
}

void
gw_metrics_set_control (GwMetrics *m, GwNgServer *control)
{
  g_return_if_fail (m != NULL);
  m->control = control;
}

/* --- the text format ----------------------------------------------------
 *
 * https://prometheus.io/docs/instrumenting/exposition_formats/: one HELP
 * and one TYPE line per family, then its samples; counters end in _total.
 * Every label value written here is one of our own names, escaped all the
 * same (backslash, double quote, newline). */

#define PREFIX "msrpedge_"

static void
family (GString *out, const char *name, const char *type, const char *help)
{
  g_string_append_printf (out,
                          "# HELP " PREFIX "%s %s\n"
                          "# TYPE " PREFIX "%s %s\n",
                          name, help, name, type);
}

static void
append_label (GString *out, const char *label, const char *value)
{
  g_string_append_printf (out, "{%s=\"", label);
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '\\' || *p == '"')
        g_string_append_c (out, '\\');
      if (*p == '\n')
        g_string_append (out, "\\n");
      else
        g_string_append_c (out, *p);
    }
  g_string_append (out, "\"}");
}

/* One sample; @label NULL: none. */
static void
sample (GString *out, const char *name, const char *label, const char *value,
        guint64 v)
{
  g_string_append (out, PREFIX);
  g_string_append (out, name);
  if (label != NULL)
    append_label (out, label, value);
  g_string_append_printf (out, " %" G_GUINT64_FORMAT "\n", v);
}

/* A family of one sample without labels. */
static void
single (GString *out, const char *name, const char *type, const char *help,
        guint64 v)
{
  family (out, name, type, help);
  sample (out, name, NULL, NULL, v);
}

static void
render_relay (const GwRelayStats *r, GString *out)
{
  single (out, "connections", "gauge",
          "Open MSRP connections, inbound and outbound (stats connections)",
          r->connections);
  single (out, "sessions", "gauge",
          "Relay session URIs valid now (stats sessions)", r->sessions);
  family (out, "bytes_total", "counter",
          "Bytes received and sent on every MSRP connection (stats "
          "bytes_in, bytes_out)");
  sample (out, "bytes_total", "direction", "in", r->bytes_in);
  sample (out, "bytes_total", "direction", "out", r->bytes_out);
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
}

static void
render_calls (const GwMetricsCallTotals *c, GString *out)
{
  single (out, "calls", "gauge", "Calls in the call table (ng sessionsown)",
          c->calls);
  family (out, "commands_total", "counter",
          "ng offers, answers and deletes carried out (ng offers, answers, "
          "deletes)");
  sample (out, "commands_total", "command", "offer", c->offers);
  sample (out, "commands_total", "command", "answer", c->answers);
  sample (out, "commands_total", "command", "delete", c->deletes);
  single (out, "expired_calls_total", "counter",
          "Calls expired after [negotiator] call-timeout (ng "
          "timeoutsessions)",
          c->expired);
  family (out, "streams_total", "counter",
          "MSRP streams answered, by plan (ng streams-<plan>)");
  for (guint p = 0; p <= GW_NEG_PLAN_REJECTED; p++)
    sample (out, "streams_total", "plan", gw_neg_plan_to_string (p),
            c->streams[p]);
}

static void
render_control (const GwMetricsSample *s, GString *out)
{
  family (out, "requests_total", "counter",
          "ng requests handed to the call table, by command, whatever "
          "their outcome");
  for (guint c = GW_NG_COMMAND_OFFER; c <= GW_NG_COMMAND_STATISTICS; c++)
    sample (out, "requests_total", "request", gw_ng_command_to_string (c),
            s->requests[c]);
  if (!s->has_control)
    return;
  single (out, "control_requests_total", "counter",
          "ng requests read, ping included", s->control.requests);
  single (out, "control_retransmissions_total", "counter",
          "ng requests answered again from the reply cache",
          s->control.retransmissions);
  single (out, "control_errors_total", "counter", "ng error replies sent",
          s->control.errors);
}

void
gw_metrics_render (const GwMetricsSample *s, GString *out)
{
  char uptime[G_ASCII_DTOSTR_BUF_SIZE];

  g_return_if_fail (s != NULL && out != NULL);
  single (out, "up", "gauge", "1 while msrp-edge answers", 1);
  family (out, "build_info", "gauge", "The version of msrp-edge running");
  sample (out, "build_info", "version", s->version, 1);
  family (out, "uptime_seconds", "gauge", "Seconds since msrp-edge started");
  g_string_append_printf (
      out, PREFIX "uptime_seconds %s\n",
      g_ascii_formatd (uptime, sizeof uptime, "%.3f", s->uptime_s));
  render_relay (&s->relay, out);
  render_calls (&s->calls, out);
  render_control (s, out);
}

/* --- the call table's statistics --------------------------------------- */

static gboolean
read_int (GwBencode *dict, const char *key, guint64 *out)
{
  GwBencode *v = dict != NULL ? gw_bencode_dict_lookup (dict, key) : NULL;

  if (v == NULL || gw_bencode_get_type (v) != GW_BENCODE_INTEGER ||
      gw_bencode_get_int (v) < 0)
    return FALSE;
  *out = (guint64) gw_bencode_get_int (v);
  return TRUE;
}

gboolean
gw_metrics_read_statistics (GwBencode *reply, GwMetricsCallTotals *t)
{
  GwBencode *cur, *tot;

  g_return_val_if_fail (reply != NULL && t != NULL, FALSE);
  if (gw_bencode_get_type (reply) != GW_BENCODE_DICT)
    return FALSE;
  cur = gw_bencode_dict_lookup (reply, "currentstatistics");
  tot = gw_bencode_dict_lookup (reply, "totalstatistics");
  if (cur == NULL || tot == NULL ||
      gw_bencode_get_type (cur) != GW_BENCODE_DICT ||
      gw_bencode_get_type (tot) != GW_BENCODE_DICT)
    return FALSE;
  if (!read_int (cur, "sessionsown", &t->calls) ||
      !read_int (tot, "offers", &t->offers) ||
      !read_int (tot, "answers", &t->answers) ||
      !read_int (tot, "deletes", &t->deletes) ||
      !read_int (tot, "timeoutsessions", &t->expired))
    return FALSE;
  for (guint p = 0; p <= GW_NEG_PLAN_REJECTED; p++)
    {
      g_autofree char *key =
          g_strdup_printf ("streams-%s", gw_neg_plan_to_string (p));

      if (!read_int (tot, key, &t->streams[p]))
        return FALSE;
    }
  return TRUE;
}

/* The reply to @cookie's request, once it is in @buf (@n bytes): FALSE
 * for a reply to another (an earlier request that timed out). */
static gboolean
is_reply_to (const char *buf, gssize n, const char *cookie)
{
  gsize len = strlen (cookie);

  return (gsize) n > len && memcmp (buf, cookie, len) == 0 && buf[len] == ' ';
}

/* Ask the statistics-only server and wait for its answer, iterating its
 * context meanwhile. */
static gboolean
ask_call_table (GwMetrics *m, GwMetricsCallTotals *t, GError **error)
{
  GSocketAddress *to = gw_ng_server_get_addresses (m->stats_server)->pdata[0];
  g_autofree char *cookie =
      g_strdup_printf ("metrics%" G_GUINT64_FORMAT, ++m->stats_seq);
  g_autofree char *request =
      g_strconcat (cookie, " d7:command10:statisticse", NULL);
  g_autofree char *buf = g_malloc (GW_NG_REPLY_MAX);
  gint64 deadline = g_get_monotonic_time () + STATS_TIMEOUT_MS * 1000;

  if (g_socket_send_to (m->stats_client, to, request, strlen (request), NULL,
                        error) < 0)
    return FALSE;
  for (;;)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (GwBencode) reply = NULL;
      gsize len = strlen (cookie) + 1;
      gssize n;

      while (g_main_context_iteration (m->stats_context, FALSE))
        ;
      n = g_socket_receive (m->stats_client, buf, GW_NG_REPLY_MAX, NULL,
                            &local);
      if (n < 0 &&
          !g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (n >= 0 && is_reply_to (buf, n, cookie))
        {
          reply = gw_bencode_decode (buf + len, (gsize) n - len, NULL, NULL,
                                     error);
          if (reply == NULL)
            return FALSE;
          if (gw_metrics_read_statistics (reply, t))
            return TRUE;
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "the call table's statistics reply lacks a total");
          return FALSE;
        }
      if (g_get_monotonic_time () >= deadline)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "no statistics reply from the call table within "
                       "%d ms",
                       STATS_TIMEOUT_MS);
          return FALSE;
        }
      g_socket_condition_timed_wait (m->stats_client, G_IO_IN, 1000, NULL,
                                     NULL);
    }
}

static gboolean
stats_link_start (GwMetrics *m, GError **error)
{
  GwNgHandler statistics_only = {
    .statistics = m->calls_handler.statistics,
  };
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GPtrArray) at = g_ptr_array_new_with_free_func (g_object_unref);

  /* Port 0: a free one, for the server and for our end. */
  g_ptr_array_add (at, g_inet_socket_address_new (lo, 0));
  m->stats_context = g_main_context_new ();
  /* gw-ng attaches its sources to the thread-default context. */
  g_main_context_push_thread_default (m->stats_context);
  m->stats_server =
      gw_ng_server_new (at, NULL, &statistics_only, m->calls, NULL, error);
  g_main_context_pop_thread_default (m->stats_context);
  if (m->stats_server == NULL)
    return FALSE;
  m->stats_client = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                  G_SOCKET_PROTOCOL_UDP, error);
  if (m->stats_client == NULL ||
      !g_socket_bind (m->stats_client, at->pdata[0], FALSE, error))
    return FALSE;
  g_socket_set_blocking (m->stats_client, FALSE);
  return TRUE;
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
  g_autoptr (GError) error = NULL;
  GwMetricsSample s = { 0 };
  GString *out;

  s.version = MSRP_EDGE_VERSION;
  s.uptime_s = (double) (g_get_monotonic_time () - m->started) / 1e6;
  gw_relay_get_stats (m->relay, &s.relay);
  memcpy (s.requests, m->requests, sizeof s.requests);
  s.has_control = m->control != NULL;
  if (m->control != NULL)
    gw_ng_server_get_stats (m->control, &s.control);
  if (!ask_call_table (m, &s.calls, &error))
    {
      /* A scrape without the call table's numbers fails as a whole:
       * Prometheus marks it down rather than showing gaps.  The answer
       * says why; nothing is logged, a scraper retries on its own. */
      reply_text (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, TEXT_PLAIN,
                  g_strdup_printf ("%s\n", error->message));
      return;
    }
  out = g_string_sized_new (4096);
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
gw_metrics_new (GPtrArray *addresses, GwRelay *relay,
                const GwNgHandler *calls_handler, gpointer calls,
                GError **error)
{
  g_autoptr (GwMetrics) m = g_new0 (GwMetrics, 1);

  g_return_val_if_fail (addresses != NULL && relay != NULL, NULL);
  g_return_val_if_fail (calls_handler != NULL, NULL);
  g_return_val_if_fail (calls_handler->statistics != NULL, NULL);
  m->relay = relay;
  m->calls_handler = *calls_handler;
  m->calls = calls;
  m->pass[GW_NG_COMMAND_OFFER] = calls_handler->offer;
  m->pass[GW_NG_COMMAND_ANSWER] = calls_handler->answer;
  m->pass[GW_NG_COMMAND_DELETE] = calls_handler->delete;
  m->pass[GW_NG_COMMAND_QUERY] = calls_handler->query;
  m->pass[GW_NG_COMMAND_LIST] = calls_handler->list;
  m->pass[GW_NG_COMMAND_STATISTICS] = calls_handler->statistics;
  m->started = g_get_monotonic_time ();
  m->addresses = g_ptr_array_new_with_free_func (g_object_unref);
  m->server = soup_server_new ("server-header", "msrp-edge", NULL);
  soup_server_add_handler (m->server, NULL, on_request, m, NULL);
  if (!stats_link_start (m, error))
    return NULL;
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
  g_clear_pointer (&m->stats_server, gw_ng_server_free);
  g_clear_object (&m->stats_client);
  g_clear_pointer (&m->stats_context, g_main_context_unref);
  g_free (m);
}

GPtrArray *
gw_metrics_get_addresses (GwMetrics *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  return m->addresses;
}
