/* gw-metrics.h: the Prometheus endpoint ([listen] http).
 *
 * An HTTP server (libsoup 3) on the addresses of [listen] http answers
 *
 *   GET /metrics   the Prometheus text exposition format (version 0.0.4),
 *                  names in rtpengine's style with the prefix msrp_edge_
 *                  (README.md "Metrics" lists them);
 *   GET /ping      "pong", for load balancers and liveness probes;
 *
 * and 404 to any other path, 405 to any method but GET and HEAD.
 *
 * A scrape reads, at that moment, the C accessors of the modules that own
 * the numbers -- the same ones the `stats` log event and the ng
 * `statistics` reply read, so the three agree:
 *
 *   - the relay's (connections, sessions, bytes, messages, frames, queues,
 *     AUTH outcomes): gw_relay_get_stats(); the codes of the errors it
 *     answered and the REPORTs it sent: gw_relay_get_error_counts(),
 *     gw_relay_get_report_counts();
 *   - the call table's (calls, offers, answers, deletes, expired calls,
 *     streams by plan, ICE legs): gw_calls_get_stats();
 *   - the ng control server's (requests by command, their latency,
 *     retransmissions, errors): gw_ng_server_get_stats().
 *
 * Nothing is counted here and nothing is parsed: a scrape costs one pass
 * over the relay's connections and the text, on the thread-default main
 * context of the thread that made the endpoint.
 *
 * Log events: metrics_up (one per address bound).
 */
#pragma once

#include <gio/gio.h>

#include "gw-calls.h"
#include "gw-ng.h"
#include "gw-relay.h"

G_BEGIN_DECLS

typedef struct _GwMetrics GwMetrics;

/* An endpoint on every address of @addresses (GSocketAddress, e.g.
 * GwConfig.listen_http; port 0 picks one) reading @relay and @calls (not
 * owned; both must outlive the endpoint).
 * Returns: (transfer full) (nullable): NULL with @error (G_IO_ERROR)
 * naming the address when one cannot be bound; nothing stays open then. */
G_GNUC_WARN_UNUSED_RESULT
GwMetrics *gw_metrics_new (GPtrArray *addresses, GwRelay *relay,
                           GwCalls *calls, GError **error);
void gw_metrics_free (GwMetrics *metrics);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwMetrics, gw_metrics_free)

/* The bound addresses, in the order given, with the ports picked.
 * (transfer none): GPtrArray of GSocketAddress. */
GPtrArray *gw_metrics_get_addresses (GwMetrics *metrics);

/* The ng control server whose counters the endpoint shows (not owned).
 * Before it is freed (at shutdown), set NULL: its counters are kept as
 * they were then, so that they neither vanish nor go back to zero while
 * the daemon drains.  Without one ever, no ng families are shown. */
void gw_metrics_set_control (GwMetrics *metrics, GwNgServer *control);

/* --- what a scrape shows; the text, for the unit suite --------------- */

typedef struct
{
  const char *version;
  double uptime_s;
  GwRelayStats relay;
  GArray *errors;  /* GwRelayCodeCount, by code; NULL: none */
  GArray *reports; /* likewise */
  GwCallsStats calls;
  gboolean has_ng; /* FALSE: no control server (no [listen] control) */
  GwNgStats ng;
} GwMetricsSample;

/* Append @sample in the Prometheus text format to @out. */
void gw_metrics_render (const GwMetricsSample *sample, GString *out);

G_END_DECLS
