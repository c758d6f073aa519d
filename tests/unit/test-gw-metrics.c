/* Check suite for the Prometheus endpoint (gateway/daemon/gw-metrics.c):
 * the text format from a sample (every family's type and labels, the
 * values, the histograms), and the HTTP server scraped with libsoup's
 * client over loopback, reading a real relay (an AUTH over a real TCP
 * connection, pre-authorised sessions), a real call table and a real ng
 * control server. */
#include <check.h>
#include <libsoup/soup.h>
#include <string.h>

#include "gw-calls.h"
#include "gw-config.h"
#include "gw-metrics.h"
#include "logtap.h"
#include "net-addr.h"
#include "testloop.h"

static GwConfig *config;
static GwRelay *relay;

static void
setup (void)
{
  g_autoptr (GError) error = NULL;

  testloop_start ();
  logtap_start ();
  config = gw_config_new_default ();
  relay = gw_relay_new (config, NULL, NULL, &error);
  ck_assert_msg (relay != NULL, "%s", error ? error->message : "");
}

static void
teardown (void)
{
  g_clear_pointer (&relay, gw_relay_free);
  g_clear_pointer (&config, gw_config_free);
  testloop_stop ();
  logtap_stop ();
}

/* --- the text ------------------------------------------------------------ */

/* Every family, its type and its labels in order (README.md "Metrics"
 * lists the same). */
static const struct
{
  const char *name;
  const char *type;
  const char *labels; /* comma-separated; "" for none */
} families[] = {
  { "up", "gauge", "" },
  { "build_info", "gauge", "version" },
  { "uptime_seconds", "gauge", "" },
  { "connections", "gauge", "transport,direction" },
  { "connections_total", "counter", "transport,direction" },
  { "sessions", "gauge", "kind" },
  { "bytes_total", "counter", "direction" },
  { "messages_total", "counter", "" },
  { "frames_in_flight", "gauge", "" },
  { "frames_waiting", "gauge", "" },
  { "queued_bytes", "gauge", "" },
  { "readers_paused", "gauge", "" },
  { "pending_transactions", "gauge", "" },
  { "errors_total", "counter", "code" },
  { "reports_total", "counter", "code" },
  { "auth_requests_total", "counter", "outcome" },
  { "keepalive_failures_total", "counter", "probe" },
  { "calls", "gauge", "" },
  { "call_commands_total", "counter", "command" },
  { "expired_calls_total", "counter", "" },
  { "refused_calls_total", "counter", "reason" },
  { "streams_total", "counter", "plan" },
  { "anchors", "gauge", "" },
  { "anchored_bytes_total", "counter", "" },
  { "ice_legs", "gauge", "" },
  { "ice_legs_total", "counter", "state" },
  { "ng_requests_total", "counter", "command" },
  { "ng_request_duration_seconds", "histogram", "command" },
  { "ng_retransmissions_total", "counter", "" },
  { "ng_errors_total", "counter", "" },
  { "ng_dropped_total", "counter", "" },
};

static const GwRelayCodeCount sample_errors[] = { { 401, 2 }, { 481, 3 } };
static const GwRelayCodeCount sample_reports[] = { { 481, 1 } };

/* A sample whose every number is different (and the code arrays, which
 * the caller frees with sample_clear()). */
static GwMetricsSample
numbered_sample (void)
{
  GwMetricsSample s = { 0 };
  GwNgCommandStats *offer = &s.ng.commands[GW_NG_COMMAND_OFFER];

  s.version = "1.2.3";
  s.uptime_s = 12.5;
  s.relay.connections = 3;
  s.relay.sessions = 4;
  s.relay.bytes_in = 1000;
  s.relay.bytes_out = 2000;
  s.relay.messages = 5;
  s.relay.queued_bytes = 6;
  s.relay.frames_in_flight = 7;
  s.relay.frames_waiting = 8;
  s.relay.readers_paused = 9;
  s.relay.pending_transactions = 10;
  s.relay.open[GW_RELAY_TRANSPORT_TCP][GW_RELAY_INBOUND] = 1;
  s.relay.open[GW_RELAY_TRANSPORT_TLS][GW_RELAY_OUTBOUND] = 2;
  s.relay.opened[GW_RELAY_TRANSPORT_ICE_TCP][GW_RELAY_INBOUND] = 30;
  s.relay.opened[GW_RELAY_TRANSPORT_TCP][GW_RELAY_OUTBOUND] = 31;
  s.relay.sessions_by_kind[GW_RELAY_SESSION_CLIENT] = 1;
  s.relay.sessions_by_kind[GW_RELAY_SESSION_PREAUTH] = 3;
  s.relay.auth[GW_RELAY_AUTH_OK] = 40;
  s.relay.auth[GW_RELAY_AUTH_SESSION_LIMIT] = 41;
  s.relay.dead[GW_RELAY_PROBE_TCP] = 42;
  s.relay.dead[GW_RELAY_PROBE_MSRP] = 43;
  s.errors = g_array_new (FALSE, FALSE, sizeof (GwRelayCodeCount));
  g_array_append_vals (s.errors, sample_errors, G_N_ELEMENTS (sample_errors));
  s.reports = g_array_new (FALSE, FALSE, sizeof (GwRelayCodeCount));
  g_array_append_vals (s.reports, sample_reports,
                       G_N_ELEMENTS (sample_reports));
  s.calls.calls = 11;
  s.calls.offers = 12;
  s.calls.answers = 13;
  s.calls.deletes = 14;
  s.calls.expired = 15;
  s.calls.streams[GW_NEG_PLAN_DIRECT] = 16;
  s.calls.streams[GW_NEG_PLAN_DIRECT_REVERSED] = 17;
  s.calls.streams[GW_NEG_PLAN_RELAY] = 18;
  s.calls.streams[GW_NEG_PLAN_REJECTED] = 19;
  s.calls.streams[GW_NEG_PLAN_CEMA] = 54;
  s.calls.streams[GW_NEG_PLAN_CEMA_FALLBACK] = 55;
  s.calls.anchors = 3;
  s.calls.anchored_bytes = 4096;
  s.calls.ice.legs = 2;
  s.calls.ice.gathered = 50;
  s.calls.ice.ready = 51;
  s.calls.ice.failed = 52;
  s.calls.ice.ended = 53;
  s.has_ng = TRUE;
  s.ng.commands[GW_NG_COMMAND_PING].requests = 5;
  s.ng.commands[GW_NG_COMMAND_STATISTICS].requests = 21;
  /* 20 offers: 18 answered, 1 within 1 ms, 17 more within 10 s, in all
   * 1.5 s. */
  offer->requests = 20;
  offer->answered = 18;
  offer->sum_us = 1500000;
  for (guint i = 0; i < GW_NG_LATENCY_BUCKETS; i++)
    offer->le[i] = gw_ng_latency_bounds_us[i] < 1000       ? 0
                   : gw_ng_latency_bounds_us[i] < 10000000 ? 1
                                                           : 18;
  s.ng.retransmissions = 23;
  s.ng.errors = 24;
  s.ng.dropped = 25;
  return s;
}

static void
sample_clear (GwMetricsSample *s)
{
  g_clear_pointer (&s->errors, g_array_unref);
  g_clear_pointer (&s->reports, g_array_unref);
}

static const char *const expected_lines[] = {
  "msrp_edge_up 1",
  "msrp_edge_build_info{version=\"1.2.3\"} 1",
  "msrp_edge_uptime_seconds 12.500000",
  "msrp_edge_connections{transport=\"tcp\",direction=\"inbound\"} 1",
  "msrp_edge_connections{transport=\"tls\",direction=\"outbound\"} 2",
  "msrp_edge_connections{transport=\"ice-tcp\",direction=\"inbound\"} 0",
  "msrp_edge_connections_total{transport=\"ice-tcp\",direction=\"inbound\"} "
  "30",
  "msrp_edge_connections_total{transport=\"tcp\",direction=\"outbound\"} 31",
  "msrp_edge_connections_total{transport=\"tls\",direction=\"inbound\"} 0",
  "msrp_edge_sessions{kind=\"client\"} 1",
  "msrp_edge_sessions{kind=\"relay\"} 0",
  "msrp_edge_sessions{kind=\"preauth\"} 3",
  "msrp_edge_bytes_total{direction=\"in\"} 1000",
  "msrp_edge_bytes_total{direction=\"out\"} 2000",
  "msrp_edge_messages_total 5",
  "msrp_edge_queued_bytes 6",
  "msrp_edge_frames_in_flight 7",
  "msrp_edge_frames_waiting 8",
  "msrp_edge_readers_paused 9",
  "msrp_edge_pending_transactions 10",
  "msrp_edge_errors_total{code=\"401\"} 2",
  "msrp_edge_errors_total{code=\"481\"} 3",
  "msrp_edge_reports_total{code=\"481\"} 1",
  "msrp_edge_auth_requests_total{outcome=\"ok\"} 40",
  "msrp_edge_auth_requests_total{outcome=\"challenge\"} 0",
  "msrp_edge_auth_requests_total{outcome=\"stale\"} 0",
  "msrp_edge_auth_requests_total{outcome=\"failed\"} 0",
  "msrp_edge_auth_requests_total{outcome=\"replay\"} 0",
  "msrp_edge_auth_requests_total{outcome=\"locked\"} 0",
  "msrp_edge_auth_requests_total{outcome=\"bad_expires\"} 0",
  "msrp_edge_auth_requests_total{outcome=\"session_limit\"} 41",
  "msrp_edge_auth_requests_total{outcome=\"error\"} 0",
  "msrp_edge_auth_requests_total{outcome=\"throttled\"} 0",
  "msrp_edge_keepalive_failures_total{probe=\"tcp\"} 42",
  "msrp_edge_keepalive_failures_total{probe=\"msrp\"} 43",
  "msrp_edge_calls 11",
  "msrp_edge_call_commands_total{command=\"offer\"} 12",
  "msrp_edge_call_commands_total{command=\"answer\"} 13",
  "msrp_edge_call_commands_total{command=\"delete\"} 14",
  "msrp_edge_expired_calls_total 15",
  "msrp_edge_streams_total{plan=\"direct\"} 16",
  "msrp_edge_streams_total{plan=\"direct-reversed\"} 17",
  "msrp_edge_streams_total{plan=\"relay\"} 18",
  "msrp_edge_streams_total{plan=\"rejected\"} 19",
  "msrp_edge_streams_total{plan=\"cema\"} 54",
  "msrp_edge_streams_total{plan=\"cema-fallback\"} 55",
  "msrp_edge_anchors 3",
  "msrp_edge_anchored_bytes_total 4096",
  "msrp_edge_ice_legs 2",
  "msrp_edge_ice_legs_total{state=\"gathered\"} 50",
  "msrp_edge_ice_legs_total{state=\"ready\"} 51",
  "msrp_edge_ice_legs_total{state=\"failed\"} 52",
  "msrp_edge_ice_legs_total{state=\"ended\"} 53",
  "msrp_edge_ng_requests_total{command=\"ping\"} 5",
  "msrp_edge_ng_requests_total{command=\"offer\"} 20",
  "msrp_edge_ng_requests_total{command=\"answer\"} 0",
  "msrp_edge_ng_requests_total{command=\"statistics\"} 21",
  "msrp_edge_ng_request_duration_seconds_bucket{command=\"offer\","
  "le=\"0.0005\"} 0",
  "msrp_edge_ng_request_duration_seconds_bucket{command=\"offer\","
  "le=\"0.001\"} 1",
  "msrp_edge_ng_request_duration_seconds_bucket{command=\"offer\","
  "le=\"5\"} 1",
  "msrp_edge_ng_request_duration_seconds_bucket{command=\"offer\","
  "le=\"10\"} 18",
  "msrp_edge_ng_request_duration_seconds_bucket{command=\"offer\","
  "le=\"+Inf\"} 18",
  "msrp_edge_ng_request_duration_seconds_sum{command=\"offer\"} 1.500000",
  "msrp_edge_ng_request_duration_seconds_count{command=\"offer\"} 18",
  "msrp_edge_ng_request_duration_seconds_count{command=\"ping\"} 0",
  "msrp_edge_ng_retransmissions_total 23",
  "msrp_edge_ng_errors_total 24",
  "msrp_edge_ng_dropped_total 25",
};

static gboolean
has_line (const char *text, const char *line)
{
  g_autofree char *needle = g_strdup_printf ("\n%s\n", line);
  g_autofree char *framed = g_strdup_printf ("\n%s", text);

  return strstr (framed, needle) != NULL;
}

static char *
render (const GwMetricsSample *s)
{
  GString *out = g_string_new (NULL);

  gw_metrics_render (s, out);
  return g_string_free (out, FALSE);
}

START_TEST (test_render_values)
{
  GwMetricsSample s = numbered_sample ();
  g_autofree char *text = render (&s);

  ck_assert_msg (has_line (text, expected_lines[_i]), "no line '%s' in\n%s",
                 expected_lines[_i], text);
  sample_clear (&s);
}
END_TEST

/* The family @name of the table, or -1. */
static int
family_index (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (families); i++)
    if (strcmp (families[i].name, name) == 0)
      return (int) i;
  return -1;
}

/* The label names of a sample's {...} (NULL: none), comma-separated. */
static char *
label_names (const char *braces)
{
  g_autoptr (GRegex) re =
      g_regex_new ("([a-z_]+)=\"(?:[^\"\\\\]|\\\\.)*\"", 0, 0, NULL);
  g_autoptr (GMatchInfo) mi = NULL;
  GString *names = g_string_new (NULL);

  if (braces == NULL || braces[0] == '\0')
    return g_string_free (names, FALSE);
  g_regex_match (re, braces, 0, &mi);
  while (g_match_info_matches (mi))
    {
      g_autofree char *n = g_match_info_fetch (mi, 1);

      if (names->len > 0)
        g_string_append_c (names, ',');
      g_string_append (names, n);
      g_match_info_next (mi, NULL);
    }
  return g_string_free (names, FALSE);
}

/* Each family of the table, and no other: one HELP and one TYPE line
 * before its samples, the samples together, the type the table says
 * (counters named _total, nothing else), the labels it says, in order
 * (histogram buckets add le); a sample line is NAME, optional {labels}, a
 * space and a number. */
START_TEST (test_render_families)
{
  GwMetricsSample s = numbered_sample ();
  g_autofree char *text = render (&s);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gboolean seen[G_N_ELEMENTS (families)] = { FALSE };
  g_autoptr (GRegex) sample_re = g_regex_new (
      "^msrp_edge_([a-z_]+)(\\{[^}]*\\})? (\\+Inf|[0-9]+(\\.[0-9]+)?)$", 0, 0,
      NULL);
  int current = -1;
  guint samples = 0;

  ck_assert (g_str_has_suffix (text, "\n"));
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      const char *l = lines[i];
      g_autoptr (GMatchInfo) mi = NULL;

      if (g_str_has_prefix (l, "# HELP "))
        {
          g_auto (GStrv) w = g_strsplit (l, " ", 4);

          ck_assert_msg (g_str_has_prefix (w[2], "msrp_edge_"), "%s", l);
          current = family_index (w[2] + strlen ("msrp_edge_"));
          ck_assert_msg (current >= 0, "family %s is not in the table", w[2]);
          ck_assert_msg (!seen[current], "family %s twice", w[2]);
          seen[current] = TRUE;
          ck_assert_msg (w[3] != NULL && w[3][0] != '\0', "%s: no help", l);
          continue;
        }
      if (g_str_has_prefix (l, "# TYPE "))
        {
          g_auto (GStrv) w = g_strsplit (l, " ", 4);

          ck_assert_int_ge (current, 0);
          ck_assert_str_eq (w[2] + strlen ("msrp_edge_"),
                            families[current].name);
          ck_assert_str_eq (w[3], families[current].type);
          ck_assert_msg (g_str_has_suffix (w[2], "_total") ==
                             (strcmp (w[3], "counter") == 0),
                         "%s: counters end in _total, nothing else does", l);
          continue;
        }
      ck_assert_msg (g_regex_match (sample_re, l, 0, &mi), "bad line '%s'", l);
      {
        g_autofree char *name = g_match_info_fetch (mi, 1);
        g_autofree char *braces = g_match_info_fetch (mi, 2);
        g_autofree char *labels = label_names (braces);
        const char *fam = current >= 0 ? families[current].name : "";
        const char *suffix = g_str_has_prefix (name, fam)
                                 ? name + strlen (fam)
                                 : "not of the family";
        gboolean histogram =
            current >= 0 && strcmp (families[current].type, "histogram") == 0;

        if (histogram && strcmp (suffix, "_bucket") == 0)
          {
            g_autofree char *want =
                g_strconcat (families[current].labels, ",le", NULL);

            ck_assert_str_eq (labels, want);
          }
        else
          {
            ck_assert_msg ((histogram && (strcmp (suffix, "_sum") == 0 ||
                                          strcmp (suffix, "_count") == 0)) ||
                               suffix[0] == '\0',
                           "sample %s outside its family (%s)", name, fam);
            ck_assert_msg (strcmp (labels, families[current].labels) == 0,
                           "%s: labels '%s', not '%s'", l, labels,
                           families[current].labels);
          }
      }
      samples++;
    }
  for (guint i = 0; i < G_N_ELEMENTS (families); i++)
    ck_assert_msg (seen[i], "no family %s", families[i].name);
  ck_assert_uint_ge (samples, G_N_ELEMENTS (expected_lines));
  sample_clear (&s);
}
END_TEST

/* Each command's buckets: one per bound and +Inf, in order, never
 * decreasing, +Inf equal to the count. */
START_TEST (test_render_histogram)
{
  GwMetricsSample s = numbered_sample ();
  g_autofree char *text = render (&s);

  for (guint c = 0; c < GW_NG_N_COMMANDS; c++)
    {
      const char *command = gw_ng_command_to_string (c);
      g_autofree char *prefix = g_strdup_printf (
          "msrp_edge_ng_request_duration_seconds_bucket{command=\"%s\",le=\"",
          command);
      g_autofree char *count_line = g_strdup_printf (
          "msrp_edge_ng_request_duration_seconds_count{command=\"%s\"} "
          "%" G_GUINT64_FORMAT,
          command, s.ng.commands[c].answered);
      const char *p = text;
      guint64 last = 0;
      guint n = 0;

      while ((p = strstr (p, prefix)) != NULL)
        {
          const char *le = p + strlen (prefix);
          const char *value = strstr (le, "} ") + 2;
          guint64 v = g_ascii_strtoull (value, NULL, 10);

          ck_assert_uint_ge (v, last);
          last = v;
          if (n < GW_NG_LATENCY_BUCKETS)
            ck_assert_double_eq_tol (g_ascii_strtod (le, NULL),
                                     gw_ng_latency_bounds_us[n] / 1e6, 1e-9);
          else
            ck_assert (g_str_has_prefix (le, "+Inf\""));
          n++;
          p = value;
        }
      ck_assert_uint_eq (n, GW_NG_LATENCY_BUCKETS + 1);
      ck_assert_uint_eq (last, s.ng.commands[c].answered);
      ck_assert_msg (has_line (text, count_line), "no '%s'", count_line);
    }
  sample_clear (&s);
}
END_TEST

START_TEST (test_render_escapes_labels)
{
  GwMetricsSample s = numbered_sample ();
  g_autofree char *text = NULL;

  s.version = "1\"2\\3\n";
  text = render (&s);
  ck_assert (
      has_line (text, "msrp_edge_build_info{version=\"1\\\"2\\\\3\\n\"} 1"));
  sample_clear (&s);
}
END_TEST

/* Without a control server no ng family; no error code seen yet: the
 * families are there, without samples. */
START_TEST (test_render_without_ng)
{
  GwMetricsSample s = numbered_sample ();
  g_autofree char *text = NULL;

  s.has_ng = FALSE;
  sample_clear (&s);
  text = render (&s);
  ck_assert_ptr_null (strstr (text, "msrp_edge_ng_"));
  ck_assert_ptr_nonnull (strstr (text, "# TYPE msrp_edge_errors_total "));
  ck_assert_ptr_null (strstr (text, "msrp_edge_errors_total{"));
  ck_assert (has_line (text, "msrp_edge_calls 11"));
}
END_TEST

/* --- the server ---------------------------------------------------------- */

typedef struct
{
  gboolean done;
  guint status;
  char *content_type;
  char *body;
} Response;

static void
response_clear (Response *r)
{
  g_free (r->content_type);
  g_free (r->body);
  memset (r, 0, sizeof *r);
}

static void
on_response (GObject *source, GAsyncResult *res, gpointer data)
{
  Response *r = data;
  SoupMessage *msg =
      soup_session_get_async_result_message (SOUP_SESSION (source), res);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body =
      soup_session_send_and_read_finish (SOUP_SESSION (source), res, &error);

  ck_assert_msg (body != NULL, "%s", error ? error->message : "");
  r->status = soup_message_get_status (msg);
  r->content_type = g_strdup (soup_message_headers_get_content_type (
      soup_message_get_response_headers (msg), NULL));
  /* An empty body has no data pointer. */
  r->body =
      g_bytes_get_size (body) > 0
          ? g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body))
          : g_strdup ("");
  r->done = TRUE;
}

/* METHOD http://ADDR PATH through libsoup's client, the loop running. */
static void
fetch (GwMetrics *m, const char *method, const char *path, Response *r)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *addr =
      net_addr_to_string (gw_metrics_get_addresses (m)->pdata[0]);
  g_autofree char *uri = g_strdup_printf ("http://%s%s", addr, path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, uri);

  response_clear (r);
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL,
                                    on_response, r);
  RUN_UNTIL (r->done, 5000);
}

/* GET /metrics, which must answer 200. */
static void
scrape (GwMetrics *m, Response *r)
{
  fetch (m, "GET", "/metrics", r);
  ck_assert_uint_eq (r->status, 200);
}

/* The value of the sample @line_start ("name{labels}") in @text. */
static guint64
value_of (const char *text, const char *line_start)
{
  g_autofree char *needle = g_strdup_printf ("\n%s ", line_start);
  g_autofree char *framed = g_strdup_printf ("\n%s", text);
  const char *at = strstr (framed, needle);

  ck_assert_msg (at != NULL, "no sample %s", line_start);
  return g_ascii_strtoull (at + strlen (needle), NULL, 10);
}

/* The sample @line_start in @text is @want. */
static void
assert_value (const char *text, const char *line_start, guint64 want)
{
  guint64 got = value_of (text, line_start);

  ck_assert_msg (got == want,
                 "%s is %" G_GUINT64_FORMAT ", not %" G_GUINT64_FORMAT,
                 line_start, got, want);
}

static GPtrArray *
loopback_any_port (void)
{
  GPtrArray *at = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  /* Port 0: the configuration never says it, a test may. */
  g_ptr_array_add (at, g_inet_socket_address_new (lo, 0));
  return at;
}

static GwMetrics *
metrics_on_loopback (GwCalls *calls)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) at = loopback_any_port ();
  GwMetrics *m = gw_metrics_new (at, relay, calls, &error);

  ck_assert_msg (m != NULL, "%s", error ? error->message : "");
  return m;
}

START_TEST (test_scrape_real_call_table)
{
  g_autoptr (GwCalls) calls = gw_calls_new (config, relay);
  g_autoptr (GwMetrics) m = metrics_on_loopback (calls);
  Response r = { 0 };

  ck_assert_uint_eq (
      logtap_count ("metrics_up", "\"addr\":\"127.0.0.1:", NULL), 1);
  scrape (m, &r);
  ck_assert_str_eq (r.content_type, "text/plain");
  ck_assert (has_line (r.body, "msrp_edge_calls 0"));
  ck_assert (has_line (r.body, "msrp_edge_streams_total{plan=\"relay\"} 0"));
  ck_assert (has_line (r.body, "msrp_edge_up 1"));
  /* No control server was given: no ng family. */
  ck_assert_ptr_null (strstr (r.body, "msrp_edge_ng_"));
  /* Nothing asked the call table: no control_request in the log. */
  ck_assert_uint_eq (logtap_count ("control_request", NULL), 0);

  fetch (m, "GET", "/ping", &r);
  ck_assert_uint_eq (r.status, 200);
  ck_assert_str_eq (r.body, "pong\n");
  fetch (m, "GET", "/metrics/more", &r);
  ck_assert_uint_eq (r.status, 404);
  fetch (m, "GET", "/", &r);
  ck_assert_uint_eq (r.status, 404);
  fetch (m, "POST", "/metrics", &r);
  ck_assert_uint_eq (r.status, 405);
  fetch (m, "HEAD", "/metrics", &r);
  ck_assert_uint_eq (r.status, 200);
  ck_assert_str_eq (r.body, "");
  response_clear (&r);
}
END_TEST

/* The relay's numbers as its accessors give them: an AUTH without
 * credentials over a real TCP connection (a challenge, a 401, an inbound
 * tcp connection), two pre-authorised sessions. */
START_TEST (test_scrape_relay)
{
  g_autoptr (GwCalls) calls = gw_calls_new (config, relay);
  g_autoptr (GwMetrics) m = metrics_on_loopback (calls);
  g_autoptr (GSocketAddress) any =
      g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (NetListener) listener = NULL;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpUri) party_a = NULL;
  g_autoptr (MsrpUri) party_b = NULL;
  g_autoptr (MsrpUri) sa = NULL;
  g_autoptr (MsrpUri) sb = NULL;
  g_autofree char *auth = NULL;
  char buf[2048];
  GSocket *sock;
  GwRelayStats st;
  guint16 port;
  gssize n;
  Response r = { 0 };

  listener = net_listener_new (any, NULL, NULL, &error);
  ck_assert_msg (listener != NULL, "%s", error ? error->message : "");
  gw_relay_add_listener (relay, listener, MSRP_SCHEME_MSRP);
  port = g_inet_socket_address_get_port (
      G_INET_SOCKET_ADDRESS (net_listener_get_address (listener)));

  party_a = msrp_uri_parse ("msrp://192.0.2.1:1/a;tcp", -1, NULL);
  party_b = msrp_uri_parse ("msrp://192.0.2.2:2/b;tcp", -1, NULL);
  sa = gw_relay_preauthorize_session (relay, MSRP_SCHEME_MSRP, party_a, "c1",
                                      &error);
  ck_assert_msg (sa != NULL, "%s", error ? error->message : "");
  sb = gw_relay_preauthorize_session (relay, MSRP_SCHEME_MSRP, party_b, "c1",
                                      &error);
  ck_assert_msg (sb != NULL, "%s", error ? error->message : "");

  /* Connected at once by the kernel's backlog; the loop accepts it. */
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL,
                                          &error);
  ck_assert_msg (conn != NULL, "%s", error ? error->message : "");
  sock = g_socket_connection_get_socket (conn);
  g_socket_set_blocking (sock, FALSE);
  auth = g_strdup_printf ("MSRP tid1 AUTH\r\n"
                          "To-Path: msrp://127.0.0.1:%u;tcp\r\n"
                          "From-Path: msrp://192.0.2.9:9/c;tcp\r\n"
                          "-------tid1$\r\n",
                          port);
  ck_assert_int_eq (g_socket_send (sock, auth, strlen (auth), NULL, NULL),
                    (gssize) strlen (auth));
  RUN_UNTIL (g_socket_condition_check (sock, G_IO_IN) & G_IO_IN, 5000);
  n = g_socket_receive (sock, buf, sizeof buf - 1, NULL, NULL);
  ck_assert_int_gt (n, 0);
  buf[n] = '\0';
  ck_assert_msg (g_str_has_prefix (buf, "MSRP tid1 401"), "%s", buf);

  scrape (m, &r);
  gw_relay_get_stats (relay, &st);
  ck_assert_uint_eq (st.auth[GW_RELAY_AUTH_CHALLENGE], 1);
  assert_value (r.body, "msrp_edge_auth_requests_total{outcome=\"challenge\"}",
                1);
  assert_value (r.body, "msrp_edge_auth_requests_total{outcome=\"ok\"}", 0);
  assert_value (r.body, "msrp_edge_errors_total{code=\"401\"}", 1);
  ck_assert_ptr_null (strstr (r.body, "msrp_edge_reports_total{"));
  assert_value (r.body,
                "msrp_edge_connections{transport=\"tcp\","
                "direction=\"inbound\"}",
                1);
  assert_value (r.body,
                "msrp_edge_connections_total{transport=\"tcp\","
                "direction=\"inbound\"}",
                1);
  assert_value (r.body,
                "msrp_edge_connections{transport=\"tls\","
                "direction=\"inbound\"}",
                0);
  assert_value (r.body, "msrp_edge_sessions{kind=\"preauth\"}", 2);
  assert_value (r.body, "msrp_edge_sessions{kind=\"client\"}", 0);
  ck_assert_uint_eq (st.sessions, 2);

  /* The connection goes: the gauge falls, the counter stays. */
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  gw_relay_close_session (relay, sa, NULL);
  RUN_UNTIL ((gw_relay_get_stats (relay, &st), st.connections == 0), 5000);
  scrape (m, &r);
  assert_value (r.body,
                "msrp_edge_connections{transport=\"tcp\","
                "direction=\"inbound\"}",
                0);
  assert_value (r.body,
                "msrp_edge_connections_total{transport=\"tcp\","
                "direction=\"inbound\"}",
                1);
  assert_value (r.body, "msrp_edge_sessions{kind=\"preauth\"}", 1);
  response_clear (&r);
}
END_TEST

/* ng over a real control server in front of the real call table: requests
 * counted by command in gw-ng, each answered one in its histogram, the
 * call table's numbers the same as its statistics reply; once the server
 * is gone its counters stay as they were. */
START_TEST (test_scrape_ng)
{
  g_autoptr (GwCalls) calls = gw_calls_new (config, relay);
  g_autoptr (GwMetrics) m = metrics_on_loopback (calls);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) at = loopback_any_port ();
  g_autoptr (GwNgServer) control = NULL;
  g_autoptr (GSocket) client = NULL;
  const char *const requests[] = {
    "c1 d7:command4:liste",        "c2 d7:command4:liste",
    "c3 d7:command4:pinge",        "c4 d7:command6:delete7:call-id1:xe",
    "c5 d7:command10:statisticse",
  };
  char buf[4096];
  gssize n = 0;
  g_autoptr (GwBencode) stats = NULL;
  GwBencode *cur, *tot;
  GwCallsStats cs;
  Response r = { 0 };

  control = gw_ng_server_new (at, NULL, gw_calls_get_ng_handler (), calls,
                              NULL, &error);
  ck_assert_msg (control != NULL, "%s", error ? error->message : "");
  gw_metrics_set_control (m, control);
  client = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, NULL);
  g_socket_set_blocking (client, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      ck_assert_int_gt (
          g_socket_send_to (client,
                            gw_ng_server_get_addresses (control)->pdata[0],
                            requests[i], strlen (requests[i]), NULL, NULL),
          0);
      /* Each reply before the next request: the last is the statistics
       * reply, read below. */
      RUN_UNTIL ((n = g_socket_receive (client, buf, sizeof buf, NULL, NULL)) >
                     0,
                 5000);
    }
  ck_assert (g_str_has_prefix (buf, "c5 "));
  stats = gw_bencode_decode (buf + 3, (gsize) n - 3, NULL, NULL, &error);
  ck_assert_msg (stats != NULL, "%s", error ? error->message : "");
  cur = gw_bencode_dict_lookup (stats, "currentstatistics");
  tot = gw_bencode_dict_lookup (stats, "totalstatistics");

  scrape (m, &r);
  assert_value (r.body, "msrp_edge_ng_requests_total{command=\"list\"}", 2);
  assert_value (r.body, "msrp_edge_ng_requests_total{command=\"ping\"}", 1);
  assert_value (r.body, "msrp_edge_ng_requests_total{command=\"delete\"}", 1);
  assert_value (r.body, "msrp_edge_ng_requests_total{command=\"offer\"}", 0);
  assert_value (r.body,
                "msrp_edge_ng_request_duration_seconds_count{"
                "command=\"list\"}",
                2);
  assert_value (r.body,
                "msrp_edge_ng_request_duration_seconds_bucket{"
                "command=\"list\",le=\"+Inf\"}",
                2);
  assert_value (r.body,
                "msrp_edge_ng_request_duration_seconds_count{"
                "command=\"statistics\"}",
                1);
  /* The delete of an unknown call: an error reply, and not carried out. */
  assert_value (r.body, "msrp_edge_ng_errors_total", 1);
  assert_value (r.body, "msrp_edge_call_commands_total{command=\"delete\"}",
                0);
  /* The statistics reply and the scrape read the same accessor. */
  gw_calls_get_stats (calls, &cs);
  assert_value (r.body, "msrp_edge_calls", cs.calls);
  ck_assert_int_eq (
      gw_bencode_get_int (gw_bencode_dict_lookup (cur, "sessionsown")),
      cs.calls);
  ck_assert_int_eq (
      gw_bencode_get_int (gw_bencode_dict_lookup (tot, "deletes")),
      (gint64) value_of (r.body,
                         "msrp_edge_call_commands_total{command=\"delete\"}"));
  ck_assert_int_eq (
      gw_bencode_get_int (gw_bencode_dict_lookup (tot, "streams-relay")),
      (gint64) value_of (r.body, "msrp_edge_streams_total{plan=\"relay\"}"));

  /* Shutdown: the server goes first, its counters stay. */
  gw_metrics_set_control (m, NULL);
  g_clear_pointer (&control, gw_ng_server_free);
  scrape (m, &r);
  assert_value (r.body, "msrp_edge_ng_requests_total{command=\"list\"}", 2);
  assert_value (r.body, "msrp_edge_ng_errors_total", 1);
  response_clear (&r);
}
END_TEST

START_TEST (test_bind_error)
{
  g_autoptr (GwCalls) calls = gw_calls_new (config, relay);
  g_autoptr (GwMetrics) first = metrics_on_loopback (calls);
  g_autoptr (GwMetrics) second = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *taken =
      net_addr_to_string (gw_metrics_get_addresses (first)->pdata[0]);
  g_autoptr (GPtrArray) at = net_addr_list_parse (taken, NULL);

  second = gw_metrics_new (at, relay, calls, &error);
  ck_assert_ptr_null (second);
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE));
  ck_assert_msg (
      g_str_has_prefix (error->message, "cannot listen for http on "), "%s",
      error->message);
  ck_assert_ptr_nonnull (strstr (error->message, taken));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("gw-metrics");
  TCase *text = tcase_create ("text");
  TCase *server = tcase_create ("server");
  SRunner *sr;
  int failed;

  tcase_add_loop_test (text, test_render_values, 0,
                       G_N_ELEMENTS (expected_lines));
  tcase_add_test (text, test_render_families);
  tcase_add_test (text, test_render_histogram);
  tcase_add_test (text, test_render_escapes_labels);
  tcase_add_test (text, test_render_without_ng);
  suite_add_tcase (s, text);
  tcase_add_checked_fixture (server, setup, teardown);
  tcase_set_timeout (server, 30);
  tcase_add_test (server, test_scrape_real_call_table);
  tcase_add_test (server, test_scrape_relay);
  tcase_add_test (server, test_scrape_ng);
  tcase_add_test (server, test_bind_error);
  suite_add_tcase (s, server);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
