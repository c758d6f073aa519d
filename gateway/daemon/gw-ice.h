/* gw-ice.h: one party's ICE-TCP leg to the gateway (DESIGN.md, plan 2).
 *
 * A GwIce runs an ice/ leg (libnice agent, RFC 8445 and RFC 6544) for one
 * party of a relayed MSRP stream: it gathers the gateway's TCP candidates
 * for the SDP that party will see, takes the party's own candidates from
 * its SDP, and when the checks select a pair it hands the pair's byte
 * stream to the relay (gw_relay_adopt_connection()), where the party binds
 * it with its first SEND like any TCP connection.  What the leg proves
 * about the party's address is reported as a fact:
 *
 *   reachable      a pair from the gateway's tcp-active candidate to the
 *                  party's tcp-passive one was selected, or a TCP
 *                  connection from the gateway to one of the party's
 *                  passive candidates (a probe made once the leg is up)
 *                  was accepted;
 *   not reachable  only the party's active candidates got through: the
 *                  probe to each of its passive candidates with a public
 *                  address timed out or found no route, or it has none
 *                  (then the fact is about the address its connection
 *                  came from, its NAT's).
 *
 * The party's tcp-passive and tcp-so candidates, which the gateway
 * connects to, are judged by the connect policy (gw-connect-policy.h); one
 * it refuses is left out (connect_refused) before libnice sees it.
 *
 * Log events: ice_gathered, ice_ready (the pair: candidate types, tcptypes
 * and addresses), ice_failed (the reason and the pairs tried), ice_ended,
 * connect_refused;
 * each is also counted in the GwIceStats the leg was given.  Everything
 * runs on the thread-default main context; nothing blocks.
 */
#pragma once

#include <gio/gio.h>

#include "gw-config.h"
#include "gw-relay.h"
#include "ice-leg.h"
#include "msrp-sdp.h"

G_BEGIN_DECLS

typedef struct _GwIce GwIce;

/* What the legs given the same GwIceStats did: their owner keeps it (the
 * call table, gw_calls_get_stats()); each leg counts in it. */
typedef struct
{
  guint legs;       /* alive now (made and not freed) */
  guint64 gathered; /* ice_gathered: the gateway's candidates ready */
  guint64 ready;    /* ice_ready: a pair selected and relayed */
  guint64 failed;   /* ice_failed: no pair, or it could not be relayed */
  guint64 ended;    /* ice_ended: the selected pair ended later */
} GwIceStats;

typedef struct
{
  /* The gateway's candidates are ready (or gathering failed: then
   * gw_ice_write_sdp() fails). */
  void (*on_gathered) (GwIce *ice, gpointer user_data);
  /* Something was measured about @address. */
  void (*on_fact) (GwIce *ice, GInetAddress *address, gboolean reachable,
                   const char *how, gpointer user_data);
  /* The selected pair's stream is relayed (gw_ice_get_conn()). */
  void (*on_ready) (GwIce *ice, gpointer user_data);
} GwIceCallbacks;

/* Whether @stream offers ICE-TCP: a=ice-ufrag, a=ice-pwd and at least one
 * TCP candidate with a tcptype (RFC 6544). */
gboolean gw_ice_stream_has_ice (MsrpSdpStream *stream);

/* @config's [ice] group as ice/ takes it, copied into @settings (free with
 * gw_ice_settings_clear()). */
void gw_ice_settings_from_config (IceSettings *settings,
                                  const GwConfig *config);
void gw_ice_settings_clear (IceSettings *settings);

/* A leg for the @party ("offerer" or "answerer") of @call_id, relaying
 * into @relay (not owned), counting in @stats (not owned; it must outlive
 * the leg), with @settings (copied where kept) and
 * connections closed after @idle_timeout_ms without a byte; gathering
 * starts at once.  @controlling: the gateway's role on this leg (RFC 8445
 * section 6.1.1: the side that sent the offer controls).  The callbacks are
 * called from the main context, never from inside a gw_ice_*() call.
 * Returns: (transfer full) (nullable): NULL with @error when libnice
 * cannot make the agent or gather. */
G_GNUC_WARN_UNUSED_RESULT
GwIce *gw_ice_new (const IceSettings *settings, guint idle_timeout_ms,
                   GwRelay *relay, GwIceStats *stats, gboolean controlling,
                   const char *call_id, const char *party,
                   const GwIceCallbacks *callbacks, gpointer user_data,
                   GError **error);

gboolean gw_ice_is_gathered (GwIce *ice);

/* Write the gateway's a=ice-ufrag, a=ice-pwd, a=candidate lines and
 * a=end-of-candidates into @stream, replacing its ICE lines, and name the
 * default candidate in c= and m= (RFC 8839 section 4.2.1.1, RFC 6544
 * section 4.3: the tcp-passive one of highest priority; a tcp-active one
 * with port 9 when there is none).  FALSE with @error, and @stream without
 * ICE lines and with c= and m= as before, when gathering failed or the SDP
 * cannot take them. */
gboolean gw_ice_write_sdp (GwIce *ice, MsrpSdpStream *stream, GError **error);

/* Keep the party's credentials and candidates from @stream (its SDP). */
gboolean gw_ice_set_party (GwIce *ice, MsrpSdpStream *stream, GError **error);

/* Whether @stream carries the credentials the party gave before: RFC 8445
 * section 9 -- a re-offer with the same ice-ufrag and ice-pwd continues the
 * ICE session (the selected pair stays), new ones restart it. */
gboolean gw_ice_same_party (GwIce *ice, MsrpSdpStream *stream);

/* Start the connectivity checks (once, after gw_ice_set_party()); the
 * timeout ([ice] timeout) runs from here.  Returns FALSE with @error when
 * libnice takes none of the party's candidates. */
gboolean gw_ice_start (GwIce *ice, GError **error);

/* TRUE once the checks selected a pair and the relay took its stream. */
gboolean gw_ice_is_ready (GwIce *ice);

/* The selected pair's connection, as the relay adopted it (for
 * gw_relay_bind_session(): the party is passive, the gateway sends first),
 * or NULL before ready or once the leg failed.  (transfer none) */
NetConn *gw_ice_get_conn (GwIce *ice);

/* Close the agent (and with it the pair's stream; the relay's connection
 * on it closes like a dead TCP connection).  NULL is ignored. */
void gw_ice_free (GwIce *ice);

G_END_DECLS
