/* Check suite for the Prometheus endpoint (gateway/daemon/gw-metrics.c):
 * the text format from a sample, the call table's totals read off its ng
 * statistics reply, and the HTTP server scraped with libsoup's client over
 * loopback, with a real relay and a real or a stub call table. */
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

static GwMetricsSample
numbered_sample (void)
{
  GwMetricsSample s = { 0 };

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
  s.calls.calls = 11;
  s.calls.offers = 12;
  s.calls.answers = 13;
  s.calls.deletes = 14;
  s.calls.expired = 15;
  s.calls.streams[GW_NEG_PLAN_DIRECT] = 16;
  s.calls.streams[GW_NEG_PLAN_DIRECT_REVERSED] = 17;
  s.calls.streams[GW_NEG_PLAN_RELAY] = 18;
  s.calls.streams[GW_NEG_PLAN_REJECTED] = 19;
  s.requests[GW_NG_COMMAND_OFFER] = 20;
  s.requests[GW_NG_COMMAND_STATISTICS] = 21;
  s.has_control = TRUE;
  s.control.requests = 22;
  s.control.retransmissions = 23;
  s.control.errors = 24;
  return s;
}

static const char *const expected_lines[] = {
  "msrpedge_up 1",
  "msrpedge_build_info{version=\"1.2.3\"} 1",
  "msrpedge_uptime_seconds 12.500",
  "msrpedge_connections 3",
  "msrpedge_sessions 4",
  "msrpedge_bytes_total{direction=\"in\"} 1000",
  "msrpedge_bytes_total{direction=\"out\"} 2000",
  "msrpedge_messages_total 5",
  "msrpedge_queued_bytes 6",
  "msrpedge_frames_in_flight 7",
  "msrpedge_frames_waiting 8",
  "msrpedge_readers_paused 9",
  "msrpedge_pending_transactions 10",
  "msrpedge_calls 11",
  "msrpedge_commands_total{command=\"offer\"} 12",
  "msrpedge_commands_total{command=\"answer\"} 13",
  "msrpedge_commands_total{command=\"delete\"} 14",
  "msrpedge_expired_calls_total 15",
  "msrpedge_streams_total{plan=\"direct\"} 16",
  "msrpedge_streams_total{plan=\"direct-reversed\"} 17",
  "msrpedge_streams_total{plan=\"relay\"} 18",
  "msrpedge_streams_total{plan=\"rejected\"} 19",
  "msrpedge_requests_total{request=\"offer\"} 20",
  "msrpedge_requests_total{request=\"answer\"} 0",
  "msrpedge_requests_total{request=\"statistics\"} 21",
  "msrpedge_control_requests_total 22",
  "msrpedge_control_retransmissions_total 23",
  "msrpedge_control_errors_total 24",
};

static gboolean
has_line (const char *text, const char *line)
{
  g_autofree char *needle = g_strdup_printf ("\n%s\n", line);
  g_autofree char *framed = g_strdup_printf ("\n%s", text);

  return strstr (framed, needle) != NULL;
}

START_TEST (test_render_values)
{
  GwMetricsSample s = numbered_sample ();
  g_autoptr (GString) out = g_string_new (NULL);

  gw_metrics_render (&s, out);
  ck_assert_msg (has_line (out->str, expected_lines[_i]),
                 "no line '%s' in\n%s", expected_lines[_i], out->str);
}
END_TEST

/* Each family: one HELP and one TYPE line before its samples, the samples
 * together, counters named _total and gauges not; a sample line is NAME,
 * optional {labels}, a space and a number. */
START_TEST (test_render_format)
{
  GwMetricsSample s = numbered_sample ();
  g_autoptr (GString) out = g_string_new (NULL);
  g_auto (GStrv) lines = NULL;
  g_autoptr (GHashTable) done =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GRegex) sample_re =
      g_regex_new ("^(msrpedge_[a-z_]+)(\\{[a-z_]+=\"[^\"\\\\\\n]*\"\\})? "
                   "[0-9]+(\\.[0-9]+)?$",
                   0, 0, NULL);
  g_autofree char *current = NULL;
  g_autofree char *type = NULL;
  guint samples = 0;

  gw_metrics_render (&s, out);
  ck_assert (g_str_has_suffix (out->str, "\n"));
  lines = g_strsplit (out->str, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      const char *l = lines[i];
      g_autoptr (GMatchInfo) mi = NULL;

      if (g_str_has_prefix (l, "# HELP "))
        {
          g_auto (GStrv) w = g_strsplit (l, " ", 4);

          ck_assert_msg (!g_hash_table_contains (done, w[2]),
                         "family %s twice", w[2]);
          g_hash_table_add (done, g_strdup (w[2]));
          g_free (current);
          current = g_strdup (w[2]);
          ck_assert_msg (w[3] != NULL && w[3][0] != '\0', "%s: no help", l);
          continue;
        }
      if (g_str_has_prefix (l, "# TYPE "))
        {
          g_auto (GStrv) w = g_strsplit (l, " ", 4);

          ck_assert_str_eq (w[2], current);
          g_free (type);
          type = g_strdup (w[3]);
          ck_assert_msg (strcmp (type, "counter") == 0 ||
                             strcmp (type, "gauge") == 0,
                         "%s", l);
          ck_assert_msg (g_str_has_suffix (current, "_total") ==
                             (strcmp (type, "counter") == 0),
                         "%s: counters end in _total, nothing else does",
                         current);
          continue;
        }
      ck_assert_msg (g_regex_match (sample_re, l, 0, &mi), "bad line '%s'", l);
      {
        g_autofree char *name = g_match_info_fetch (mi, 1);

        ck_assert_msg (current != NULL && strcmp (name, current) == 0,
                       "sample %s outside its family (%s)", name, current);
      }
      samples++;
    }
  ck_assert_uint_ge (samples, G_N_ELEMENTS (expected_lines));
}
END_TEST

START_TEST (test_render_escapes_labels)
{
  GwMetricsSample s = numbered_sample ();
  g_autoptr (GString) out = g_string_new (NULL);

  s.version = "1\"2\\3\n";
  gw_metrics_render (&s, out);
  ck_assert (has_line (out->str,
                       "msrpedge_build_info{version=\"1\\\"2\\\\3\\n\"} 1"));
}
END_TEST

/* Without a control server its own counters are left out. */
START_TEST (test_render_without_control)
{
  GwMetricsSample s = numbered_sample ();
  g_autoptr (GString) out = g_string_new (NULL);

  s.has_control = FALSE;
  gw_metrics_render (&s, out);
  ck_assert_ptr_null (strstr (out->str, "msrpedge_control_"));
  ck_assert (
      has_line (out->str, "msrpedge_requests_total{request=\"offer\"} 20"));
}
END_TEST

/* --- the call table's statistics reply ----------------------------------- */

static GwBencode *
statistics_reply (const char *skip)
{
  GwBencode *reply = gw_bencode_new_dict ();
  GwBencode *cur = gw_bencode_new_dict ();
  GwBencode *tot = gw_bencode_new_dict ();
  const char *const totals[] = {
    "offers",          "answers",          "deletes",
    "timeoutsessions", "streams-direct",   "streams-direct-reversed",
    "streams-relay",   "streams-rejected",
  };

  gw_bencode_dict_set_int (cur, "sessionsown", 2);
  for (guint i = 0; i < G_N_ELEMENTS (totals); i++)
    if (skip == NULL || strcmp (skip, totals[i]) != 0)
      gw_bencode_dict_set_int (tot, totals[i], 100 + i);
  gw_bencode_dict_take (reply, "currentstatistics", cur);
  gw_bencode_dict_take (reply, "totalstatistics", tot);
  return reply;
}

START_TEST (test_read_statistics)
{
  g_autoptr (GwBencode) reply = statistics_reply (NULL);
  g_autoptr (GwBencode) partial = statistics_reply ("streams-relay");
  g_autoptr (GwBencode) not_dict = gw_bencode_new_int (3);
  GwMetricsCallTotals t = { 0 };

  ck_assert (gw_metrics_read_statistics (reply, &t));
  ck_assert_uint_eq (t.calls, 2);
  ck_assert_uint_eq (t.offers, 100);
  ck_assert_uint_eq (t.answers, 101);
  ck_assert_uint_eq (t.deletes, 102);
  ck_assert_uint_eq (t.expired, 103);
  ck_assert_uint_eq (t.streams[GW_NEG_PLAN_DIRECT], 104);
  ck_assert_uint_eq (t.streams[GW_NEG_PLAN_DIRECT_REVERSED], 105);
  ck_assert_uint_eq (t.streams[GW_NEG_PLAN_RELAY], 106);
  ck_assert_uint_eq (t.streams[GW_NEG_PLAN_REJECTED], 107);
  ck_assert (!gw_metrics_read_statistics (partial, &t));
  ck_assert (!gw_metrics_read_statistics (not_dict, &t));
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

static GwMetrics *
metrics_on_loopback (const GwNgHandler *handler, gpointer calls)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) at = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GwMetrics *m;

  /* Port 0: the configuration never says it, a test may. */
  g_ptr_array_add (at, g_inet_socket_address_new (lo, 0));
  m = gw_metrics_new (at, relay, handler, calls, &error);
  ck_assert_msg (m != NULL, "%s", error ? error->message : "");
  return m;
}

START_TEST (test_scrape_real_call_table)
{
  g_autoptr (GwCalls) calls = gw_calls_new (config, relay);
  g_autoptr (GwMetrics) m =
      metrics_on_loopback (gw_calls_get_ng_handler (), calls);
  Response r = { 0 };

  ck_assert_uint_eq (
      logtap_count ("metrics_up", "\"addr\":\"127.0.0.1:", NULL), 1);
  fetch (m, "GET", "/metrics", &r);
  ck_assert_uint_eq (r.status, 200);
  ck_assert_str_eq (r.content_type, "text/plain");
  ck_assert (has_line (r.body, "msrpedge_calls 0"));
  ck_assert (has_line (r.body, "msrpedge_streams_total{plan=\"relay\"} 0"));
  ck_assert (has_line (r.body, "msrpedge_up 1"));
  /* No control server was given: none of its counters. */
  ck_assert_ptr_null (strstr (r.body, "msrpedge_control_"));

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

/* A stub call table: its statistics answer with fixed numbers (or never,
 * when @hold), list answers ok. */
typedef struct
{
  gboolean hold;
  GPtrArray *held;
  guint lists;
} Stub;

static void
stub_statistics (GwNgRequest *req, gpointer data)
{
  Stub *stub = data;

  if (stub->hold)
    {
      g_ptr_array_add (stub->held, gw_ng_request_ref (req));
      return;
    }
  gw_ng_request_reply (req, statistics_reply (NULL));
}

static void
stub_list (GwNgRequest *req, gpointer data)
{
  ((Stub *) data)->lists++;
  gw_ng_request_reply (req, NULL);
}

static const GwNgHandler stub_handler = {
  .statistics = stub_statistics,
  .list = stub_list,
};

START_TEST (test_scrape_reads_statistics_reply)
{
  Stub stub = { 0 };
  g_autoptr (GwMetrics) m = metrics_on_loopback (&stub_handler, &stub);
  Response r = { 0 };

  fetch (m, "GET", "/metrics", &r);
  ck_assert_uint_eq (r.status, 200);
  ck_assert (has_line (r.body, "msrpedge_calls 2"));
  ck_assert (
      has_line (r.body, "msrpedge_commands_total{command=\"offer\"} 100"));
  ck_assert (has_line (r.body, "msrpedge_expired_calls_total 103"));
  ck_assert (
      has_line (r.body, "msrpedge_streams_total{plan=\"rejected\"} 107"));
  /* Asking for them is not counted as a request of the control plane. */
  ck_assert (
      has_line (r.body, "msrpedge_requests_total{request=\"statistics\"} 0"));
  response_clear (&r);
}
END_TEST

/* A call table that does not answer: the scrape fails (503) within the
 * bound instead of hanging the loop, and the next one works. */
START_TEST (test_scrape_statistics_timeout)
{
  Stub stub = { .hold = TRUE };
  g_autoptr (GwMetrics) m = NULL;
  Response r = { 0 };
  gint64 start;

  stub.held =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gw_ng_request_unref);
  m = metrics_on_loopback (&stub_handler, &stub);
  start = g_get_monotonic_time ();
  fetch (m, "GET", "/metrics", &r);
  ck_assert_uint_eq (r.status, 503);
  ck_assert_ptr_nonnull (strstr (r.body, "no statistics reply"));
  ck_assert_int_lt (g_get_monotonic_time () - start, 3000000);
  stub.hold = FALSE;
  g_ptr_array_set_size (stub.held, 0);
  fetch (m, "GET", "/metrics", &r);
  ck_assert_uint_eq (r.status, 200);
  ck_assert (has_line (r.body, "msrpedge_calls 2"));
  response_clear (&r);
  g_ptr_array_unref (stub.held);
}
END_TEST

/* The control server runs the endpoint's handler: requests are counted by
 * command and reach the call table; the server's own counters show. */
START_TEST (test_requests_counted)
{
  Stub stub = { 0 };
  g_autoptr (GwMetrics) m = metrics_on_loopback (&stub_handler, &stub);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) at = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GwNgServer) control = NULL;
  g_autoptr (GSocket) client = NULL;
  const char *const requests[] = {
    "c1 d7:command4:liste",
    "c2 d7:command4:liste",
    "c3 d7:command4:pinge",
    "c4 d7:command6:delete7:call-id1:xe",
  };
  Response r = { 0 };

  g_ptr_array_add (at, g_inet_socket_address_new (lo, 0));
  control = gw_ng_server_new (at, NULL, gw_metrics_get_ng_handler (), m, NULL,
                              &error);
  ck_assert_msg (control != NULL, "%s", error ? error->message : "");
  gw_metrics_set_control (m, control);
  client = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    ck_assert_int_gt (
        g_socket_send_to (client,
                          gw_ng_server_get_addresses (control)->pdata[0],
                          requests[i], strlen (requests[i]), NULL, NULL),
        0);
  RUN_UNTIL (stub.lists == 2, 5000);
  testloop_run_for (100);

  fetch (m, "GET", "/metrics", &r);
  ck_assert (has_line (r.body, "msrpedge_requests_total{request=\"list\"} 2"));
  /* delete has no function in the stub: counted, answered "not
   * supported" as the server would, and an error reply. */
  ck_assert (
      has_line (r.body, "msrpedge_requests_total{request=\"delete\"} 1"));
  ck_assert (has_line (r.body, "msrpedge_control_requests_total 4"));
  ck_assert (has_line (r.body, "msrpedge_control_errors_total 1"));
  gw_metrics_set_control (m, NULL);
  fetch (m, "GET", "/metrics", &r);
  ck_assert_ptr_null (strstr (r.body, "msrpedge_control_"));
  response_clear (&r);
}
END_TEST

START_TEST (test_bind_error)
{
  g_autoptr (GwMetrics) first = metrics_on_loopback (&stub_handler, NULL);
  g_autoptr (GwMetrics) second = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *taken =
      net_addr_to_string (gw_metrics_get_addresses (first)->pdata[0]);
  g_autoptr (GPtrArray) at = net_addr_list_parse (taken, NULL);

  second = gw_metrics_new (at, relay, &stub_handler, NULL, &error);
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
  tcase_add_test (text, test_render_format);
  tcase_add_test (text, test_render_escapes_labels);
  tcase_add_test (text, test_render_without_control);
  tcase_add_test (text, test_read_statistics);
  suite_add_tcase (s, text);
  tcase_add_checked_fixture (server, setup, teardown);
  tcase_set_timeout (server, 30);
  tcase_add_test (server, test_scrape_real_call_table);
  tcase_add_test (server, test_scrape_reads_statistics_reply);
  tcase_add_test (server, test_scrape_statistics_timeout);
  tcase_add_test (server, test_requests_counted);
  tcase_add_test (server, test_bind_error);
  suite_add_tcase (s, server);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
