/* gw-metrics.h: the Prometheus endpoint ([listen] http).
 *
 * An HTTP server (libsoup 3) on the addresses of [listen] http answers
 *
 *   GET /metrics   the Prometheus text exposition format (version 0.0.4),
 *                  names in rtpengine's style with the prefix msrpedge_
 *                  (README.md "Metrics" lists them);
 *   GET /ping      "pong", for load balancers and liveness probes;
 *
 * and 404 to any other path, 405 to any method but GET and HEAD.
 *
 * The numbers are the ones the `stats` log event and the ng `statistics`
 * reply give, read the same way when a scrape comes:
 *
 *   - the relay's (connections, sessions, bytes, messages, frames, queues)
 *     from gw_relay_get_stats(), as the `stats` event reads them;
 *   - the call table's (calls, offers, answers, deletes, expired calls,
 *     streams by plan) from its ng `statistics` reply itself: gw-calls.h
 *     has no C accessor for them, so the metrics keep a statistics-only ng
 *     server of their own on a loopback port and a private main context,
 *     and ask it once per scrape (the log shows it as a control_request
 *     for statistics);
 *   - ng requests by command, counted by the handler the control server
 *     runs (gw_metrics_get_ng_handler(), which passes every request on to
 *     the call table's), and the control server's own counters.
 *
 * Everything runs on the thread-default main context of the thread that
 * made it; a scrape costs a few microseconds of that thread.
 *
 * Log events: metrics_up (one per address bound).
 */
#pragma once

#include <gio/gio.h>

#include "gw-negotiator.h"
#include "gw-ng.h"
#include "gw-relay.h"

G_BEGIN_DECLS

typedef struct _GwMetrics GwMetrics;

/* An endpoint on every address of @addresses (GSocketAddress, e.g.
 * GwConfig.listen_http; port 0 picks one) reading @relay (not owned; it
 * must outlive the endpoint) and the call table behind @calls_handler
 * (gw_calls_get_ng_handler()), whose functions get @calls as user_data.
 * Returns: (transfer full) (nullable): NULL with @error (G_IO_ERROR)
 * naming the address when one cannot be bound; nothing stays open then. */
G_GNUC_WARN_UNUSED_RESULT
GwMetrics *gw_metrics_new (GPtrArray *addresses, GwRelay *relay,
                           const GwNgHandler *calls_handler, gpointer calls,
                           GError **error);
void gw_metrics_free (GwMetrics *metrics);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwMetrics, gw_metrics_free)

/* The bound addresses, in the order given, with the ports picked.
 * (transfer none): GPtrArray of GSocketAddress. */
GPtrArray *gw_metrics_get_addresses (GwMetrics *metrics);

/* The handler to give the ng control server (with the GwMetrics as its
 * user_data): each request is counted by command, then handed to the call
 * table's handler. */
const GwNgHandler *gw_metrics_get_ng_handler (void);

/* The control server whose counters the endpoint shows (not owned; NULL
 * before it is freed). */
void gw_metrics_set_control (GwMetrics *metrics, GwNgServer *control);

/* --- what a scrape shows; the text, for the unit suite --------------- */

/* The call table's totals, as its ng `statistics` reply gives them. */
typedef struct
{
  guint64 calls; /* currentstatistics.sessionsown */
  guint64 offers, answers, deletes, expired;
  guint64 streams[GW_NEG_PLAN_REJECTED + 1]; /* streams-<plan> */
} GwMetricsCallTotals;

typedef struct
{
  const char *version;
  double uptime_s;
  GwRelayStats relay;
  GwMetricsCallTotals calls;
  /* Requests handed to the call table, by GwNgCommand (ping never is). */
  guint64 requests[GW_NG_COMMAND_STATISTICS + 1];
  gboolean has_control; /* FALSE: no control server (no [listen] control) */
  GwNgStats control;
} GwMetricsSample;

/* Append @sample in the Prometheus text format to @out. */
void gw_metrics_render (const GwMetricsSample *sample, GString *out);

/* Read the call table's totals off an ng `statistics` reply dictionary.
 * Returns: FALSE when a key is missing or not an integer. */
gboolean gw_metrics_read_statistics (GwBencode *reply,
                                     GwMetricsCallTotals *totals);

G_END_DECLS
