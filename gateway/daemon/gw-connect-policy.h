/* gw-connect-policy.h: where the gateway may open a connection (issue 13,
 * finding 4: SSRF through the negotiator and through next hops).
 *
 * Everything that makes the gateway connect somewhere is named by someone
 * else: a party's a=path and ICE candidates in SDP (the negotiator connects
 * to a party that only listens, RFC 6135 section 4.2.2, and probes ICE
 * candidates), a To-Path URI of an authenticated relay client (the next
 * hop, RFC 4976 section 6.4).  Without a policy any of them makes the
 * gateway knock on its own loopback services, its link-local neighbours or
 * its own listeners.  One policy decides for all of them, per address and
 * port, in this order:
 *
 *   1. the kind's deny list ([negotiator] connect-deny for parties,
 *      [relay] next-hop-deny for next hops): refused;
 *   2. one of the gateway's own listeners (any [listen] address and port,
 *      msrp, msrps, control, http, as bound; a wildcard listener's port on
 *      any address of the host, and on the unspecified address, which
 *      Linux connects to the host itself): refused, always -- a connection
 *      to ourselves is a loop, whatever the lists say;
 *   3. the kind's allow list ([negotiator] connect-allow, [relay]
 *      next-hop-allow): allowed (an operator who needs loopback, a lab, the
 *      tests);
 *   4. the default denials: loopback (127.0.0.0/8, ::1), link-local
 *      (169.254.0.0/16, fe80::/10), the unspecified address (0.0.0.0/8,
 *      RFC 1122 section 3.2.1.3 "this host"; ::), multicast (224.0.0.0/4,
 *      ff00::/8) and broadcast (255.255.255.255): refused;
 *   5. anything else: allowed.
 *
 * IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry
 * (net-cidr.h).  A refusal comes with the rule that refused, in words, for
 * the caller's connect_refused event and its answer (a warning in the ng
 * reply; the relay's 408).
 */
#pragma once

#include <gio/gio.h>

#include "gw-config.h"

G_BEGIN_DECLS

typedef enum
{
  GW_CONNECT_PARTY,    /* the negotiator: a party, an ICE candidate */
  GW_CONNECT_NEXT_HOP, /* the relay: a To-Path next hop */
} GwConnectKind;

/* "party", "next-hop". */
const char *gw_connect_kind_to_string (GwConnectKind kind);

typedef struct _GwConnectPolicy GwConnectPolicy;

/* A policy with @config's four lists (copied) and no listener yet.
 * (transfer full) */
G_GNUC_WARN_UNUSED_RESULT
GwConnectPolicy *gw_connect_policy_new (const GwConfig *config);
void gw_connect_policy_free (GwConnectPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwConnectPolicy, gw_connect_policy_free)

/* @address (a GInetSocketAddress as bound; a reference is taken) is one
 * of the gateway's listeners, @what ("msrp", "msrps", "control", "http")
 * naming it in refusals. */
void gw_connect_policy_add_listener (GwConnectPolicy *policy,
                                     GSocketAddress *address,
                                     const char *what);

/* May the gateway connect to @address, @port for @kind?  @port 0 judges
 * the address alone (rules 1, 3, 4: what may be said about an address,
 * e.g. a measured reachability fact).
 * @rule: (out) (optional) (transfer full): when refused, the rule in
 * words, e.g. "loopback 127.0.0.0/8 (refused unless [relay]
 * next-hop-allow allows it)",
 * "[relay] next-hop-deny 10.0.0.0/8", "the gateway's own msrp listener
 * 127.0.0.1:2855". */
gboolean gw_connect_policy_allows (GwConnectPolicy *policy, GwConnectKind kind,
                                   GInetAddress *address, guint16 port,
                                   char **rule);

G_END_DECLS
