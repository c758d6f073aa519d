/* ice/ice-leg.h: one ICE-TCP leg (RFC 8445, RFC 6544) on a libnice agent.
 *
 * A leg is one party's MSRP stream reached through ICE: the gateway gathers
 * its own TCP candidates, takes the party's credentials and candidates from
 * the SDP, runs the connectivity checks and hands the selected pair's
 * reliable byte stream to its owner.  Everything runs on the thread-default
 * main context of the thread that made the leg, and nothing blocks.
 *
 * libnice 0.1.21 frames every ICE-TCP packet with an RFC 4571 length prefix;
 * the stream handed out carries the MSRP bytes only (the agent runs in
 * bytestream-tcp mode, so reads of any size return the bytes in order).
 */
#pragma once

#include <gio/gio.h>

#include "msrp-sdp.h"

G_BEGIN_DECLS

#define ICE_LEG_ERROR (ice_leg_error_quark ())
GQuark ice_leg_error_quark (void);

typedef enum
{
  ICE_LEG_ERROR_INVALID, /* a setting or a remote line is unusable */
  ICE_LEG_ERROR_FAILED,  /* libnice refused the operation */
} IceLegError;

/* What a leg gathers on and how long its checks may take.  The caller owns
 * it; ice_leg_new () copies what it keeps. */
typedef struct
{
  /* GInetAddress to gather host candidates on (IPv4 or IPv6).  libnice
   * skips loopback addresses when it enumerates the interfaces itself, so
   * tests add 127.0.0.1 (or namespace addresses) here.  NULL or empty:
   * every non-loopback address libnice finds. */
  GPtrArray *addresses;
  /* Local TCP port range for the tcp-passive listeners, both inclusive;
   * 0/0: any port. */
  guint port_min, port_max;
  /* (nullable) STUN server as an IP literal (libnice does not resolve
   * names); port 0: 3478. */
  char *stun_server;
  guint stun_port;
  /* (nullable) TURN server as an IP literal, with its credentials, for
   * relayed candidates.  libnice 0.1.21 has no RFC 6062 TCP allocations:
   * its relays are UDP allocations, which an ICE-TCP-only agent does not
   * pair with TCP candidates (see ice_leg_new ()).  Port 0: 3478. */
  char *turn_server;
  guint turn_port;
  char *turn_username;
  char *turn_password;
  /* Connectivity checks that have not succeeded this many milliseconds after
   * ice_leg_set_remote () fail the leg; 0: 10000. */
  guint timeout_ms;
} IceSettings;

/* The selected candidate pair, as libnice reports it.  The local candidate
 * of a pair where this side connected (tcp-active) is the peer-reflexive
 * candidate libnice learns for the connection's real source port, so its
 * type is "prflx" and its address carries that port, not 9. */
typedef struct
{
  char *local_type, *remote_type;       /* "host", "srflx", "prflx", "relay" */
  char *local_tcptype, *remote_tcptype; /* "active", "passive", "so" */
  char *local_address, *remote_address; /* "ip:port", "[ip6]:port" */
} IcePair;

G_GNUC_WARN_UNUSED_RESULT
IcePair *ice_pair_copy (const IcePair *pair);
void ice_pair_free (IcePair *pair);

typedef struct _IceLeg IceLeg;

/* Every callback is called from an idle source on the leg's main context,
 * never from inside an ice_leg_*() call or from inside libnice, so a
 * callback may call ice_leg_free () on its own leg (and nothing on the leg
 * after that).  Each callback may be NULL. */
typedef struct
{
  /* Local candidates are ready: ice_leg_get_local_candidates (). */
  void (*on_gathered) (IceLeg *leg, gpointer user_data);
  /* The selected pair is ready: MSRP bytes flow on @stream, a GIOStream
   * whose input and output streams are GPollableInputStream and
   * GPollableOutputStream (use them non-blocking, with their sources on the
   * leg's main context).  (transfer none): valid until ice_leg_free ().
   * The owner must keep reading it: libnice only processes the pair's
   * STUN traffic and notices a dead connection while the input stream is
   * read.  Closing @stream drops the TCP connection: the peer sees its pair
   * fail (ICE-TCP through libnice has no half-close).  @pair: (transfer
   * none), valid during the call.  Called at most once. */
  void (*on_ready) (IceLeg *leg, GIOStream *stream, const IcePair *pair,
                    gpointer user_data);
  /* Checks failed or timed out before ready, or the selected pair failed
   * later.  @reason: plain words.  @tried: the candidate pairs libnice
   * formed, e.g. "127.0.0.1:9 (host tcp-active) -> 203.0.113.7:50000 (host
   * tcp-passive), ...", or "no candidate pair" when there was none.  Called
   * at most once, and no callback follows it. */
  void (*on_failed) (IceLeg *leg, const char *reason, const char *tried,
                     gpointer user_data);
} IceCallbacks;

/* A leg with its agent: RFC 5245/8445 mode, ICE-TCP only (no UDP
 * candidates: MSRP is TCP), reliable, bytestream-tcp, the role given by
 * @controlling, one stream with one component.  Nothing is sent yet.
 * Returns: (transfer full): NULL with @error (ICE_LEG_ERROR_INVALID) when a
 * setting is unusable (a port range upside down, a server that is not an
 * IP literal, an address libnice cannot use). */
G_GNUC_WARN_UNUSED_RESULT
IceLeg *ice_leg_new (const IceSettings *settings, gboolean controlling,
                     const IceCallbacks *callbacks, gpointer user_data,
                     GError **error);

/* Start gathering the local candidates; on_gathered follows.  Call once.
 * Returns: FALSE with @error when libnice cannot gather (no address, no
 * port free in the range). */
gboolean ice_leg_gather (IceLeg *leg, GError **error);

/* (transfer none): the leg's a=ice-ufrag and a=ice-pwd values, valid until
 * ice_leg_free (); known from ice_leg_new () on. */
const char *ice_leg_get_ufrag (IceLeg *leg);
const char *ice_leg_get_pwd (IceLeg *leg);

/* (transfer full): the local candidates gathered so far as
 * MsrpSdpCandidate, TCP only, each with its RFC 6544 tcptype; tcp-active
 * candidates carry port 9 (RFC 6544 section 4.5). */
GPtrArray *ice_leg_get_local_candidates (IceLeg *leg);

/* The party's a=ice-ufrag, a=ice-pwd and a=candidate lines (@candidates:
 * MsrpSdpCandidate).  Candidates that are not TCP with a tcptype (UDP ones:
 * MSRP is TCP), not component 1, or whose address is not an IP literal are
 * skipped.  Starts the checks and the timeout.  Call once, after
 * ice_leg_gather ().
 * Returns: FALSE with @error (ICE_LEG_ERROR_INVALID) when the ufrag or the
 * password is not as RFC 8839 section 5.4 says (4..256 and 22..256
 * ice-chars) or no candidate is usable; the leg is then unchanged. */
gboolean ice_leg_set_remote (IceLeg *leg, const char *ufrag, const char *pwd,
                             GPtrArray *candidates, GError **error);

/* The role this leg asked for.  libnice 0.1.21 resolves role conflicts
 * (RFC 8445 section 7.3.1.1) inside the agent and keeps reporting the
 * configured role: the role it switched to is not visible through its
 * API, so this is the configured role even after a conflict. */
gboolean ice_leg_is_controlling (IceLeg *leg);

/* Closes the stream and the agent's sockets; safe from inside the leg's
 * own callbacks.  NULL is ignored. */
void ice_leg_free (IceLeg *leg);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (IcePair, ice_pair_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (IceLeg, ice_leg_free)

G_END_DECLS
