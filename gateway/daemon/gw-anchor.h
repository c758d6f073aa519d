/* gw-anchor.h: CEMA anchoring (RFC 6714): one MSRP stream carried at the
 * transport layer through a port of the gateway's own.
 *
 * With CEMA both parties take the c=/m= address of the SDP they receive as
 * where to connect (RFC 6714 sections 4.2, 4.3), and a=path passes
 * untouched, so a middlebox anchors the stream the way it anchors RTP: it
 * rewrites c= and m= to an address:port of its own and relays bytes.  It
 * never parses or rewrites the MSRP inside, and with TLS the handshake and
 * everything after it stay end to end (section 6.5): the gateway holds no
 * key and sees ciphertext.  Section 6.3 is why each stream has a port of
 * its own: a middlebox that does not parse MSRP can only tell streams
 * apart by the local address:port a connection arrives at.
 *
 * A GwAnchorPool owns the port range and the addresses; a GwAnchor is one
 * stream, with a listening socket on one port (one socket per pool address,
 * the same port on each), its two parties, and the pump between their two
 * connections.
 *
 * Who connects.  Each party of a stream is either
 *   - inbound: it is active (RFC 6135) and connects to the stream's port;
 *     its connection must come from one of the party's expected source
 *     addresses (none given: any), or
 *   - outbound: it is passive, so it waits for a connection at its own c=
 *     and m= (section 4.2: "If the offerer becomes 'passive', it will wait
 *     for the answerer to establish the TCP connection"); the gateway
 *     connects to it once the other party's connection has been accepted,
 *     from an ephemeral port of the pool's address (section 6.3 needs the
 *     unique port on the gateway's side only: the passive party matches the
 *     connection by the session-id of the first SEND, as RFC 4975 section
 *     5.4 says, whatever port it comes from).
 * Inbound and inbound works for TCP/MSRP: each party believes it is the
 * active one and sends its first SEND, which MSRP allows.  It cannot work
 * for TCP/TLS/MSRP: the active party is the TLS client (RFC 6135 section 6,
 * RFC 8122 section 6.2), and two TLS clients never complete a handshake,
 * so a TLS stream needs one outbound party, and gw_anchor_new() refuses
 * two inbound ones.  Outbound and outbound never works (nobody sends the
 * first SEND, nobody is the TLS client) and is refused too.
 *
 * What is checked before a connection joins the stream (everything else is
 * refused with a TCP RST and logged as anchor_refused):
 *   1. it comes while an inbound party of the stream has no connection yet
 *      (RFC 4975 section 5.4: a session is never in use on two
 *      connections), and its source address is one the party is expected
 *      from;
 *   2. TCP/MSRP: the first request, read with MSG_PEEK so that the pump
 *      still finds it in the socket, is a SEND whose From-Path ends in the
 *      sending party's URI and whose To-Path ends in the other party's, by
 *      session-id (RFC 6714 section 4.4 leaves a=path alone, so the URIs
 *      are those of the SDP; the session-id carries the 80 bits of
 *      randomness RFC 4975 section 14.1 makes the secret of a session).
 *      This is also what tells the two parties apart when they come from
 *      one address (one NAT);
 *   3. TCP/TLS/MSRP: nothing inside can be read, so the source address is
 *      all there is to check, plus that the first bytes are a TLS
 *      handshake record (a ClientHello's record header, RFC 8446 section
 *      5.1, RFC 5246 section 6.2.1: content type 22, major version 3); the
 *      rest is the parties' own business: with a=fingerprint each end
 *      checks the other's certificate (RFC 8122 section 6.2), so a
 *      stranger who passes 1 still cannot complete the handshake;
 *   4. the first bytes arrive within the pool's probation time.
 *
 * The pump.  Once both connections are there, bytes move between them with
 * splice(2) through one pipe per direction: from the socket into the pipe
 * and out of the pipe into the other socket, without entering user space
 * (HAProxy forwards plain TCP the same way), for TCP and TLS alike.  The
 * sockets are watches of the data plane's loop (net-loop.h, level
 * triggered).  Backpressure: a direction whose pipe holds bytes its writer
 * could not take stops reading until the writer drains, so the kernel's
 * receive window closes toward the sender; the pipe is the only buffer of
 * ours, and it is bounded.  Half-close: an end of stream one way passes on
 * as shutdown(SHUT_WR) once the pipe is empty, and the other direction goes
 * on; when both ways have ended the stream is over.  A reset (or a write
 * error) one way is passed on as a RST to the other side and ends the
 * stream.  No byte either way for the idle time (counted from the first
 * connection) ends it too.
 *
 * Cost per stream: up to 8 descriptors (a listening socket per pool
 * address until every inbound party has connected, two connections, two
 * pipes) and 650 bytes of ours (and 128 a listening socket); each pipe holds
 * at most its capacity in kernel pages.  Per chunk of bytes: two splice()
 * calls.
 *
 * Everything runs on the loop of the thread-default main context of the
 * thread that made the pool; nothing blocks.  What happens is told in the
 * log stream (anchor_created, anchor_accepted, anchor_refused,
 * anchor_connecting, anchor_ready, anchor_closed: README.md "Log
 * stream"). */
#pragma once

#include <gio/gio.h>

#include "gw-config.h"
#include "gw-connect-policy.h"
#include "msrp-uri.h"

G_BEGIN_DECLS

#define GW_ANCHOR_ERROR (gw_anchor_error_quark ())
GQuark gw_anchor_error_quark (void);

typedef enum
{
  GW_ANCHOR_ERROR_INVALID, /* settings that cannot work (see above) */
  GW_ANCHOR_ERROR_NO_PORT, /* every port of the range is taken */
  GW_ANCHOR_ERROR_SOCKET,  /* a socket or pipe could not be made */
  GW_ANCHOR_ERROR_REFUSED, /* the connect policy refuses the outbound
                            * party's address, or it is one of the
                            * pool's own ports */
} GwAnchorError;

/* Defaults of GwAnchorPoolSettings. */
#define GW_ANCHOR_DEFAULT_PROBATION_MS 30000
#define GW_ANCHOR_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define GW_ANCHOR_DEFAULT_IDLE_TIMEOUT_MS (300 * 1000)
#define GW_ANCHOR_DEFAULT_PIPE_SIZE (256 * 1024)
/* The most a first request may take before its To-Path and From-Path are
 * known: the relay's default max-header-bytes. */
#define GW_ANCHOR_PEEK_MAX 16384
/* Connections accepted and not judged yet, per stream: beyond it a new one
 * is refused at once (a stream has two parties). */
#define GW_ANCHOR_MAX_PENDING 4

typedef struct _GwAnchorPool GwAnchorPool;
typedef struct _GwAnchor GwAnchor;

typedef struct
{
  /* GInetAddress each, at least one: where every stream's port is bound
   * (one listening socket per address, the same port on all).  The array
   * is referenced. */
  GPtrArray *addresses;
  /* The c= host written for a party when the address of its family is a
   * wildcard (0.0.0.0, ::): [gateway] public-host, a name or an IP
   * literal (RFC 6714 section 4.4 resolves a name in c=).  Nullable: then
   * a wildcard address cannot be written into SDP. */
  const char *advertise;
  /* Ports to take each stream's port from; 0 and 0: a port the kernel
   * picks. */
  guint port_min, port_max;
  guint probation_ms;       /* first bytes of a connection; 0: default */
  guint connect_timeout_ms; /* outbound party; 0: default */
  guint idle_timeout_ms;    /* 0: default */
  gsize pipe_size;          /* per direction; 0: default */
  /* Where the gateway may connect (nullable: anywhere but the pool's own
   * ports).  Not referenced: it must outlive the pool. */
  GwConnectPolicy *policy;
} GwAnchorPoolSettings;

/* A pool with @settings (copied).
 * Returns: (transfer full) (nullable): NULL with GW_ANCHOR_ERROR_INVALID
 * when there is no address or the port range is reversed. */
G_GNUC_WARN_UNUSED_RESULT
GwAnchorPool *gw_anchor_pool_new (const GwAnchorPoolSettings *settings,
                                  GError **error);

/* A pool as the daemon configures it: [cema] addresses (empty: the hosts
 * of the [listen] msrp listeners, else of the msrps ones), [cema]
 * port-min and port-max, [gateway] public-host as the advertised name of a
 * wildcard address, [relay] probation, [limits] idle-timeout, and
 * @policy (nullable). */
G_GNUC_WARN_UNUSED_RESULT
GwAnchorPool *gw_anchor_pool_new_from_config (const GwConfig *config,
                                              GwConnectPolicy *policy,
                                              GError **error);

/* Every anchor of the pool must have been freed first. */
void gw_anchor_pool_free (GwAnchorPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwAnchorPool, gw_anchor_pool_free)

/* Why connections were refused (anchor_refused's "reason"). */
typedef enum
{
  GW_ANCHOR_REFUSED_NO_PARTY, /* no inbound party is waiting for one */
  GW_ANCHOR_REFUSED_SOURCE,   /* not from an expected source address */
  GW_ANCHOR_REFUSED_SESSION,  /* first SEND of another session */
  GW_ANCHOR_REFUSED_PROTOCOL, /* not an MSRP SEND / not a TLS handshake */
  GW_ANCHOR_REFUSED_TIMEOUT,  /* no first bytes within probation */
  GW_ANCHOR_REFUSED_CLOSED,   /* closed before its first bytes */
  GW_ANCHOR_REFUSED_BUSY,     /* GW_ANCHOR_MAX_PENDING reached */
  GW_ANCHOR_N_REFUSED
} GwAnchorRefused;

/* How a stream ended (anchor_closed's "reason"). */
typedef enum
{
  GW_ANCHOR_CLOSED_NONE = 0,        /* not closed */
  GW_ANCHOR_CLOSED_PEER,            /* both ways ended with a FIN */
  GW_ANCHOR_CLOSED_RESET,           /* a party reset its connection (or a
                                     * write to it failed); the other got a
                                     * RST */
  GW_ANCHOR_CLOSED_IDLE,            /* no byte for the idle time */
  GW_ANCHOR_CLOSED_CONNECT_REFUSED, /* the outbound party answered with a
                                     * RST: nobody listens there (or a
                                     * firewall answers for it) */
  GW_ANCHOR_CLOSED_CONNECT_FAILED,  /* no answer: unreachable, timed out */
  GW_ANCHOR_CLOSED_LOCAL,           /* gw_anchor_close() or _free() */
  GW_ANCHOR_N_CLOSED
} GwAnchorClosed;

/* "no_party", "source", "session", "protocol", "timeout", "closed",
 * "busy"; "none", "peer_closed", "reset", "idle", "connect_refused",
 * "connect_failed", "local". */
const char *gw_anchor_refused_to_string (GwAnchorRefused why);
const char *gw_anchor_closed_to_string (GwAnchorClosed why);

typedef struct
{
  guint anchors;         /* live (not freed) */
  guint pumping;         /* both connections there, bytes moving */
  guint64 anchors_total; /* made since the start */
  guint64 bytes;         /* passed on, both ways, every stream */
  guint64 refused[GW_ANCHOR_N_REFUSED];
  guint64 closed[GW_ANCHOR_N_CLOSED];
} GwAnchorPoolStats;

void gw_anchor_pool_get_stats (GwAnchorPool *pool, GwAnchorPoolStats *stats);

/* The two parties; the names are the log stream's "leg". */
typedef enum
{
  GW_ANCHOR_OFFERER,
  GW_ANCHOR_ANSWERER,
  GW_ANCHOR_N_PARTIES
} GwAnchorParty;

/* "offerer", "answerer". */
const char *gw_anchor_party_to_string (GwAnchorParty party);

typedef struct
{
  /* FALSE: the party connects to the stream's port; TRUE: the gateway
   * connects to @target. */
  gboolean outbound;
  /* Inbound: GInetAddress each, the addresses its connection may come
   * from (its c= address, the address its signalling came from); NULL or
   * empty: any. */
  GPtrArray *sources;
  /* Outbound: a GInetSocketAddress, the party's c= address and m= port
   * (an IP literal: names are the negotiator's to resolve). */
  GSocketAddress *target;
  /* The party's own URI (the last of its a=path): the session-id the
   * first SEND of a TCP/MSRP stream is checked against (nullable: not
   * checked). */
  MsrpUri *uri;
} GwAnchorPartySettings;

typedef struct
{
  const char *call_id; /* nullable; every event of the stream carries it */
  gboolean tls;        /* TCP/TLS/MSRP */
  /* A party not known yet (the answerer, at the offer): NULL, given later
   * with gw_anchor_set_party().  A connection that might be its waits
   * (unread) until then, within probation. */
  const GwAnchorPartySettings *parties[GW_ANCHOR_N_PARTIES];
} GwAnchorSettings;

/* Called once, from the loop and never from inside a gw_anchor_*() call,
 * when the stream ends by itself (not for gw_anchor_close() or
 * gw_anchor_free()).  @detail says why in words.  The anchor stays (its
 * counters can be read) until the owner frees it; the callback may free
 * it. */
typedef void (*GwAnchorClosedFunc) (GwAnchor *anchor, GwAnchorClosed reason,
                                    const char *detail, gpointer user_data);

/* A stream on a port of its own, listening at once (its port goes into
 * SDP before anyone connects).
 * Returns: (transfer full) (nullable): NULL with @error:
 * GW_ANCHOR_ERROR_INVALID for two outbound parties, or two inbound ones
 * with @tls, or an outbound party without a target; REFUSED for a target
 * the policy refuses; NO_PORT, SOCKET. */
G_GNUC_WARN_UNUSED_RESULT
GwAnchor *gw_anchor_new (GwAnchorPool *pool, const GwAnchorSettings *settings,
                         GError **error);

/* Set (or replace, for a re-offer) what is known of @party; it applies to
 * connections judged from now on.  Same errors as gw_anchor_new(). */
gboolean gw_anchor_set_party (GwAnchor *anchor, GwAnchorParty party,
                              const GwAnchorPartySettings *settings,
                              GError **error);

/* Both parties at once (NULL: that one stays as it is), for an answer
 * that turns the roles around, where setting one party after the other
 * would pass through settings that cannot work (two TLS clients, or
 * nobody connecting).  Same errors as gw_anchor_new(); on error nothing
 * changes. */
gboolean gw_anchor_set_parties (
    GwAnchor *anchor,
    const GwAnchorPartySettings *settings[GW_ANCHOR_N_PARTIES],
    GError **error);

void gw_anchor_set_closed_func (GwAnchor *anchor, GwAnchorClosedFunc func,
                                gpointer user_data);

/* The stream's port, as bound. */
guint16 gw_anchor_get_port (GwAnchor *anchor);
/* The host to write into the c= of a party of @family: the pool's address
 * of that family, or its advertised name for a wildcard.  (transfer none)
 * (nullable): NULL when the pool has no address of @family. */
const char *gw_anchor_get_sdp_host (GwAnchor *anchor, GSocketFamily family);
/* A number unique within the process (the log stream's "anchor"). */
guint64 gw_anchor_get_id (GwAnchor *anchor);

typedef enum
{
  GW_ANCHOR_STATE_WAITING,    /* for a party's connection */
  GW_ANCHOR_STATE_CONNECTING, /* to the outbound party */
  GW_ANCHOR_STATE_PUMPING,
  GW_ANCHOR_STATE_CLOSED,
} GwAnchorState;

/* "waiting", "connecting", "pumping", "closed". */
const char *gw_anchor_state_to_string (GwAnchorState state);

typedef struct
{
  GwAnchorState state;
  GwAnchorClosed closed; /* NONE until CLOSED */
  guint16 port;
  gboolean connected[GW_ANCHOR_N_PARTIES];
  /* Bytes received from each party and passed on to the other (TLS:
   * records, as they came). */
  guint64 bytes_from[GW_ANCHOR_N_PARTIES];
  gsize pipe_bytes[GW_ANCHOR_N_PARTIES]; /* in the pipe from each now */
  guint64 refused;                       /* connections refused */
} GwAnchorInfo;

void gw_anchor_get_info (GwAnchor *anchor, GwAnchorInfo *info);

/* End the stream now (the negotiator dropped it): both connections get a
 * FIN (a RST where unread bytes wait, as close(2) does), listeners and
 * pipes close, anchor_closed is logged with @reason (nullable).  The
 * anchor stays, CLOSED, until freed; no callback. */
void gw_anchor_close (GwAnchor *anchor, const char *reason);

/* Close (as above, "freed") if not closed, give the port back to the pool
 * and free. */
void gw_anchor_free (GwAnchor *anchor);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwAnchor, gw_anchor_free)

G_END_DECLS
