/* net-resolve.h: where to connect for the authority of an MSRP URI: the
 * socket addresses to try, in order.
 *
 * What is looked up (the RFCs say exactly this much):
 *
 *   - an IP literal with a port: that address, no DNS (RFC 4975 section
 *     6.2); without a port it is an error (RFC 4975 section 6, RFC 4976
 *     section 8: "a port number MUST be present");
 *   - a name with a port: its A/AAAA records with that port, in the order
 *     the resolver gives (RFC 4975 section 6.2, RFC 4976 section 8);
 *   - an msrps name without a port (a relay's URI as a person types it,
 *     RFC 4976 section 8): the SRV records of _msrps._tcp.NAME ordered as
 *     RFC 2782 says (net_resolve_order_srv()), then the A/AAAA records of
 *     each target in that order, each with its record's port.  When there
 *     is no SRV record (NXDOMAIN or no data), the A/AAAA records of NAME
 *     with port 2855 (RFC 4976 section 8, RFC 4975 section 15.4).  A lone
 *     target "." means "decidedly not available" (RFC 2782): an error, no
 *     fallback.  A failed SRV lookup (server failure, timeout) is an error
 *     too: falling back to port 2855 then could reach another service;
 *   - an msrp name without a port: RFC 4976 section 8 defines no _msrp
 *     service ("AUTH requests are only sent over TLS"), so no SRV lookup:
 *     A/AAAA with port 2855.  RFC 4975 section 6 calls 2855 "not a
 *     default", as URIs in SDP always carry a port; this is msrp-edge's
 *     choice for a plain TCP relay URI typed without one.
 *
 * The certificate of an msrps hop is checked against the URI's host, not
 * against an SRV target's name (RFC 4976 section 9.2: "The
 * SubjectAltName ... MUST match the hostname part of the URI"): every
 * member of a relay farm presents a certificate for the farm's name.
 *
 * Every lookup goes through GLib's GResolver (g_resolver_get_default()):
 * the system resolver in a thread, never the caller's; a test replaces it
 * with g_resolver_set_default().  GLib's own SRV ordering
 * (g_resolver_lookup_service(), g_srv_target_list_sort()) is not used: in
 * GLib 2.74 it draws from [0, sum] even when no weight-0 record is there,
 * so the first record of a priority gets one extra share; with the
 * weights 1 and 2 of RFC 4976 section 8's example it picks each half the
 * time instead of one third and two thirds, and with weights 1 and 1 the
 * first two thirds of the time.  Its random source cannot be given
 * either, so it cannot be tested against a table.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* RFC 4975 section 15.4: MSRP's registered port. */
#define NET_RESOLVE_MSRP_PORT 2855

/* At most this many SRV records of one answer are used (a DNS message of
 * 64 KiB holds fewer than 4,000); the ordering needs their weights to sum
 * below 2^31. */
#define NET_RESOLVE_MAX_SRV_RECORDS 1024

/* At most this many SRV targets, the first in RFC 2782 order, are
 * resolved to addresses (in parallel). */
#define NET_RESOLVE_MAX_SRV_TARGETS 16

/* One SRV record (RFC 2782). */
typedef struct
{
  const char *target; /* (transfer none) */
  guint16 priority;
  guint16 weight;
  guint16 port;
} NetSrvTarget;

/* A source of randomness: a number drawn uniformly from [0, @bound), with
 * @bound at least 1. */
typedef guint32 (*NetResolveRandomFunc) (guint32 bound, gpointer user_data);

/* Put @targets (at most NET_RESOLVE_MAX_SRV_RECORDS) in the order to try
 * them, in place, as RFC 2782 says: lowest priority first; within a
 * priority, one record at a time is drawn among those left, each with a
 * chance proportional to its weight, where a weight-0 record "should have
 * a very small chance of being selected".
 *
 * RFC 2782 puts the weight-0 records first and draws R from [0, sum]:
 * R = 0 is their small chance.  Taken literally, R = 0 also falls on the
 * first record when no weight-0 record is left, giving it one share more
 * than its weight ("Larger weights SHOULD be given a proportionately
 * higher probability"); so R is drawn from [0, sum] while a weight-0
 * record is left (R = 0: the first of them), from [1, sum] otherwise.
 * Among records that are all of weight 0 the draw is uniform (RFC 2782
 * arranges them "in any order").  Records not drawn keep the order they
 * had (the order of the DNS answer), so a given sequence of draws gives
 * one order: a test replays draws from a table.
 *
 * @random (nullable): the source; NULL for GLib's (g_random_int_range()).
 * It is called once per record placed while two or more of its priority
 * are left. */
void net_resolve_order_srv (NetSrvTarget *targets, gsize n_targets,
                            NetResolveRandomFunc random, gpointer random_data);

/* Find where to connect for the authority @host (without brackets for
 * IPv6) and @port (0: the URI has none) of an msrp (@msrps FALSE) or msrps
 * URI, as the file comment says, without blocking.  @callback runs on the
 * thread-default main context of the caller, never from inside this call
 * (not even for an IP literal); then call net_resolve_finish().
 * @random, @random_data: the SRV draws (net_resolve_order_srv()); NULL for
 * GLib's. */
void net_resolve_async (gboolean msrps, const char *host, guint16 port,
                        NetResolveRandomFunc random, gpointer random_data,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data);

/* Returns: (transfer full) (element-type GInetSocketAddress): the
 * addresses to try, in order, never empty, each once; NULL with @error
 * (G_RESOLVER_ERROR from the lookups, G_IO_ERROR_INVALID_ARGUMENT for an
 * IP address without a port, G_IO_ERROR_CANCELLED), whose message names
 * what was looked up. */
G_GNUC_WARN_UNUSED_RESULT
GPtrArray *net_resolve_finish (GAsyncResult *result, GError **error);

G_END_DECLS
