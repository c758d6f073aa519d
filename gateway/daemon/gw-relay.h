/* gw-relay.h: the RFC 4976 relay engine.
 *
 * A GwRelay takes the connections its listeners accept and relays MSRP
 * (RFC 4975) between them and outbound connections to next hops:
 *
 *   AUTH (RFC 4976 sections 5.1, 6.3)  Digest against the users file (MD5
 *       and SHA-256); a 200 hands out a session URI
 *       msrp[s]://PUBLIC-HOST:PORT/ID;tcp in Use-Path, valid on the
 *       client's connection, or on any connection to the previous relay
 *       when that relay authenticated with mutual TLS.
 *   Forwarding (6.2, 6.4)  by To-Path: our URI moves from the front of
 *       To-Path to the front of From-Path, every hop gets a new transaction
 *       id, all other headers pass unchanged; bodies stream through piece
 *       by piece, never held whole, with backpressure.
 *   Hop-by-hop responses and REPORTs (6.4.1, 6.4.3), responses to non-SEND
 *       requests routed back, probation (6.1), limits.
 *
 * Everything runs on the thread-default main context of the thread that
 * made the relay; nothing here blocks.  What happens is told in the log
 * stream (gw-log.h); README.md lists the events.
 */
#pragma once

#include <gio/gio.h>

#include "gw-config.h"
#include "gw-connect-policy.h"
#include "net-conn.h"
#include "net-listener.h"
#include "net-tls.h"
#include "gw-users.h"
#include "msrp-uri.h"

G_BEGIN_DECLS

#define GW_RELAY_ERROR (gw_relay_error_quark ())
GQuark gw_relay_error_quark (void);

typedef enum
{
  GW_RELAY_ERROR_NO_LISTENER, /* no listener of the scheme asked for */
  GW_RELAY_ERROR_INVALID,     /* an argument cannot be used */
  GW_RELAY_ERROR_RANDOM,      /* RAND_bytes failed */
} GwRelayError;

/* Failed AUTHs (with credentials, not stale) on one connection without a
 * success, after which it is closed (RFC 4976 section 6.3: "several"). */
#define GW_RELAY_MAX_AUTH_FAILURES 3
/* Unsuccessful requests on a connection on probation (no successful request
 * yet) after which it is closed (RFC 4976 section 6.1). */
#define GW_RELAY_MAX_PROBATION_FAILURES 5
/* Lifetime of a Digest nonce; an older one gets stale=true. */
#define GW_RELAY_NONCE_LIFETIME_S 300
/* Nonces whose last accepted nonce-count is remembered (about 150 bytes
 * each); when full, the oldest is forgotten and every nonce issued before
 * it counts as stale, so nothing is ever accepted twice. */
#define GW_RELAY_REPLAY_CAPACITY 65536

typedef struct _GwRelay GwRelay;

/* A relay with @config's [gateway], [auth], [relay] and [limits] values
 * (copied), @users (a reference is taken; NULL: nobody can AUTH with
 * Digest) and @client_tls for outbound msrps connections (a reference;
 * NULL: msrps next hops fail).
 * Returns: (transfer full) (nullable): NULL with @error when no Digest
 * secret could be drawn. */
G_GNUC_WARN_UNUSED_RESULT
GwRelay *gw_relay_new (const GwConfig *config, GwUsers *users,
                       NetTls *client_tls, GError **error);

/* Closes every connection at once (no on_closed), logging each, and frees
 * the relay.  Listeners it was given are released. */
void gw_relay_free (GwRelay *relay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwRelay, gw_relay_free)

/* Serve @listener (a reference is taken; its callbacks are replaced): its
 * connections are relayed, and PUBLIC-HOST with its port and @scheme (msrp
 * for TCP, msrps for TLS) becomes one of the relay's URIs. */
void gw_relay_add_listener (GwRelay *relay, NetListener *listener,
                            MsrpScheme scheme);

/* Relay @conn (a reference is taken; its callbacks are replaced) as if a
 * listener of @scheme had accepted it: a connection that is not a socket of
 * ours, such as the selected pair of an ICE-TCP leg (net_conn_new_from_stream
 * ()).  Its sessions are bound by its requests like any inbound
 * connection's; the connection limits are not checked (the caller made it).
 * @fields: NULL-terminated key, value pairs for its connection_accepted
 * event, e.g. the ICE pair's candidate types (nullable).
 * Returns: FALSE with @error when there is no listener of @scheme (whose
 * URIs the party was given) or the relay is shutting down. */
gboolean gw_relay_adopt_connection (GwRelay *relay, NetConn *conn,
                                    MsrpScheme scheme,
                                    const char *const *fields, GError **error);

/* The policy that says where the relay's outbound connections may go
 * (gw-connect-policy.h): made from the configuration's lists, it knows
 * every listener added with gw_relay_add_listener(); the daemon adds its
 * control and http listeners, the negotiator judges parties by it.
 * (transfer none) */
GwConnectPolicy *gw_relay_get_connect_policy (GwRelay *relay);

/* Stop accepting: release every listener (their sockets close when no one
 * else holds them).  Live connections go on. */
void gw_relay_close_listeners (GwRelay *relay);

/* Swap the users table in (SIGHUP); a reference is taken.  AUTHs from now
 * on use it; sessions already granted stay. */
void gw_relay_set_users (GwRelay *relay, GwUsers *users);

/* Swap the client TLS context in; new outbound connections use it. */
void gw_relay_set_client_tls (GwRelay *relay, NetTls *tls);

/* Relay fallback (DESIGN.md, RFC 6135 section 4.2.2) ----------------------
 *
 * The negotiator makes one pre-authorised session per party of a relayed
 * stream, puts each session's URI at the front of that party's a=path as
 * the other party sees it, and pairs the two (in a forked call, the
 * offerer's one session with each branch's: gw_relay_pair_branch()).  Each
 * party is then bound to a connection: by its own first SEND on a
 * connection it made to us, or by
 * the gateway connecting to it (gw_relay_connect_session()).  A request
 * toward a party is relayed only when it comes on the connection bound to
 * the paired party; on the way its From-Path gets the paired session's URI
 * in front, the path the receiving party was given in SDP. */

/* A pre-authorised session for @party (the party's own URI, the last of its
 * a=path), labelled with @call_id (nullable; every log event of the
 * session carries it as "call_id").  @scheme picks the listener whose port
 * goes into the URI.  It has no expiry: it lives until
 * gw_relay_close_session() (the negotiator owns its lifetime); a
 * connection it was bound to closing makes it unbound again, not gone.  It
 * cannot be bound until paired (gw_relay_pair_sessions()); until bound,
 * requests toward the party get 481, except a bodiless SEND from the
 * paired party (its binding SEND), which gets a 200 and goes no further.
 * Returns: (transfer full) (nullable): the session's URI, to put at the
 * front of the party's a=path as the other party sees it; NULL with
 * @error (GW_RELAY_ERROR_NO_LISTENER when there is no listener of
 * @scheme). */
G_GNUC_WARN_UNUSED_RESULT
MsrpUri *gw_relay_preauthorize_session (GwRelay *relay, MsrpScheme scheme,
                                        MsrpUri *party, const char *call_id,
                                        GError **error);

/* Pair two pre-authorised sessions of one stream (the offerer's and the
 * answerer's).  From then on session @a is bound only by a SEND on an
 * inbound connection whose To-Path starts with @b's URI and whose
 * From-Path ends in @a's party (compared as RFC 4975 section 6.1 says),
 * and symmetrically.  Returns: FALSE with GW_RELAY_ERROR_INVALID when
 * either is unknown or not pre-authorised, when they are the same session,
 * or when either is already paired. */
gboolean gw_relay_pair_sessions (GwRelay *relay, MsrpUri *a, MsrpUri *b,
                                 GError **error);

/* A forked call (RFC 3261 section 16.7): the one offer reaches several
 * answerers, each of which answers with its own to-tag and its own
 * session URI, while all of them were given the offerer's one session URI
 * (@shared) in the same offer.  Pair @branch, the session of one such
 * answerer, with @shared, which may already be paired with the sessions of
 * other branches in the same way (not with gw_relay_pair_sessions()):
 * - a SEND toward @shared's party binds the unbound branch whose party
 *   ends its From-Path, and is relayed only from a branch's connection,
 *   with that branch's URI in front of From-Path;
 * - until @shared's party has chosen, a request toward it from a
 *   connection of no branch is held as toward an unpaired session (its
 *   answer may not have been paired yet);
 * - the first request of @shared's party toward a branch chooses it (RFC
 *   3261 section 13.2.2.4: the offerer goes on with one dialog): the other
 *   branches are unpaired (session_unpaired), and requests from them
 *   toward @shared get 403; a branch paired later (a 200 after an early
 *   answer of another) may be chosen in its turn;
 * - gw_relay_connect_session() of @shared, and its MSRP keep-alives, speak
 *   for the branch paired last (the answer that went out last; a branch
 *   still paired that answers again: gw_relay_branch_answered()).
 * Closing a branch's session unpairs it alone.  Returns: FALSE with
 * GW_RELAY_ERROR_INVALID when either is unknown or not pre-authorised,
 * they are the same session, @shared is paired with gw_relay_pair_sessions
 * () or is itself a branch, @branch is paired, or another branch of
 * @shared has @branch's party (the From-Path could not tell them apart). */
gboolean gw_relay_pair_branch (GwRelay *relay, MsrpUri *shared,
                               MsrpUri *branch, GError **error);

/* @branch, a branch of @shared still paired, answered again (a 200 after
 * its own 183): from now on the gateway speaks for it toward @shared's
 * party, as for the branch paired last.  FALSE when @branch is not a
 * paired branch of @shared. */
gboolean gw_relay_branch_answered (GwRelay *relay, MsrpUri *shared,
                                   MsrpUri *branch);

/* How a gw_relay_connect_session() ended; what it proves about the
 * party's address is the negotiator's business.  When the party's host is
 * a name with several addresses, each is tried in turn and the result is
 * that of the last one. */
typedef enum
{
  GW_RELAY_CONNECT_OK,            /* the 200 to the binding SEND arrived */
  GW_RELAY_CONNECT_REFUSED,       /* the address answered the TCP connect
                                   * with a RST (NET_CONN_CLOSED_REFUSED):
                                   * a host without a listener, or a NAT or
                                   * firewall answering for the address */
  GW_RELAY_CONNECT_UNREACHABLE,   /* the connect got no answer: no route,
                                   * host or network unreachable
                                   * (NET_CONN_CLOSED_CONNECT_FAILED), or it
                                   * timed out (NET_CONN_CLOSED_TIMEOUT; a
                                   * TLS handshake that times out is told
                                   * the same way) */
  GW_RELAY_CONNECT_NO_CONNECTION, /* no connection for a reason that is not
                                   * the address's answer: the name did not
                                   * resolve, the connect policy refused
                                   * every address (connect_refused), no TLS
                                   * context or no socket,
                                   * the TLS handshake failed, or the relay
                                   * was freed first */
  GW_RELAY_CONNECT_BIND_FAILED,   /* connected, but the binding SEND failed
                                   * (a non-200, no answer, closed) */
  GW_RELAY_CONNECT_CANCELLED,     /* the session was closed first */
} GwRelayConnectResult;

/* Called once when gw_relay_connect_session() ends; unless @result is OK,
 * @detail says why in plain words.  The relay does not log a failure: the
 * caller handles it, and logs it once with @conn.
 * @session: (transfer none): the URI given to gw_relay_connect_session().
 * @conn: the connection it was tried on (the log stream's `conn`; the last
 * one when several addresses were tried), 0 when none was made. */
typedef void (*GwRelayConnectFunc) (GwRelay *relay, MsrpUri *session,
                                    GwRelayConnectResult result, guint64 conn,
                                    const char *detail, gpointer user_data);

/* The gateway connects to @session's party itself (RFC 6135 section 4.2.2,
 * where the party is passive): a new outbound connection, dedicated to the
 * session (not the shared next-hop pool), to the party URI's host:port
 * with the party URI's scheme, on which it sends a bodiless SEND (To-Path:
 * the party; From-Path: the paired session's URI, then the paired party; a
 * new Message-ID; Byte-Range: 1-0/0; Failure-Report: yes), and binds the
 * session to that connection at once: requests the party sends on it are
 * routed by To-Path like those on inbound connections, and frames toward
 * the party go on it (after the binding SEND).  The connection is closed
 * like any other (a failure, a dead peer), but not for idleness while the
 * session is bound to it (gw_relay_set_session_keepalive()).
 * @done (nullable) is called exactly once, from the relay's main context
 * and never from inside a gw_relay_*() call except gw_relay_free() (which
 * calls the pending ones with a failure): GW_RELAY_CONNECT_OK when the 200
 * to the binding SEND arrives; otherwise the GwRelayConnectResult and a
 * @detail for a connect failure, a TLS failure, a response other than 200,
 * no response within report-timeout (counted from the connection being
 * established), or the session closed first.  On failure the session is
 * unbound again (and may be bound later, by the party's SEND or another
 * connect), and the connection is closed.
 * @done must not free the relay.
 * Returns: FALSE with GW_RELAY_ERROR_INVALID when @session is unknown, not
 * pre-authorised, not paired, already bound or being connected. */
gboolean gw_relay_connect_session (GwRelay *relay, MsrpUri *session,
                                   GwRelayConnectFunc done, gpointer user_data,
                                   GError **error);

/* The same binding on a connection the relay has already, @conn: one it
 * adopted (gw_relay_adopt_connection()), the selected pair of a passive
 * party's ICE-TCP leg, where the pair is the connection whichever side
 * opened it and the party waits for the first SEND (RFC 6544 section 4.5,
 * RFC 6135 section 4.2.2).  The binding SEND goes on @conn at once, and
 * @done is called as for gw_relay_connect_session() (OK, BIND_FAILED or
 * CANCELLED; on failure the session is unbound and @conn, left with no
 * session, closed).  Returns: FALSE with GW_RELAY_ERROR_INVALID as
 * gw_relay_connect_session() does, or when @conn is not an open
 * connection of the relay. */
gboolean gw_relay_bind_session (GwRelay *relay, MsrpUri *session,
                                NetConn *conn, GwRelayConnectFunc done,
                                gpointer user_data, GError **error);

typedef struct
{
  gboolean bound;
  gboolean paired;       /* with a session, or (shared) with a branch; a branch
                          * that was not chosen is unpaired */
  guint64 conn;          /* connection id when bound, else 0 */
  guint64 messages_from; /* SEND messages received from the party and
                          * relayed: counted when the chunk that ends
                          * the message ('$' or '#') was passed on */
  guint64 bytes_from;    /* body bytes of the SEND chunks received from
                          * the party and passed on */
  guint64 messages_to;   /* the same toward the party */
  guint64 bytes_to;
} GwRelaySessionInfo;

/* MSRP keep-alives toward the party of the pre-authorised @session (the ng
 * flag msrp-keepalive; README.md "Standing connections"): from now on, the
 * connection the session is bound to, now or later, gets a bodiless SEND
 * (RFC 4975 section 7.1: "Bodiless requests may also be used ... to keep
 * Network Address Translation (NAT) bindings alive"; To-Path: the party;
 * From-Path: the paired session's URI, then the paired party, as the
 * binding SEND of gw_relay_connect_session()) after [keepalive]
 * msrp-interval seconds without a byte either way.  Any response to it,
 * whatever its code, or any byte from the party, proves the path; none
 * within [relay] report-timeout, and the connection is dead: it is closed
 * like any connection that ends (connection_dead, then connection_closed
 * reason dead, Failure REPORTs for what was in flight, session_unbound).
 * @on FALSE stops them.  Unknown or not pre-authorised: nothing happens.
 *
 * Whatever this says, a connection bound to a pre-authorised session (a
 * live call) is never closed for idleness ([limits] idle-timeout): the
 * kernel's TCP keep-alives, these, and the call's own timeout find one
 * that is dead. */
void gw_relay_set_session_keepalive (GwRelay *relay, MsrpUri *session,
                                     gboolean on);

/* Fill @info for @session (the counters count for pre-authorised sessions
 * only, 0 for the others).  Returns: FALSE (and @info zeroed) when
 * @session is not one of the relay's sessions. */
gboolean gw_relay_get_session_info (GwRelay *relay, MsrpUri *session,
                                    GwRelaySessionInfo *info);

/* Forget @session (any kind): log session_closed with the counters above,
 * its call_id and @reason (nullable).  Its paired session stays, unpaired.
 * A connection it was bound to, left with no session and no frame in
 * flight either way, is closed (gracefully).  A pending
 * gw_relay_connect_session() gets @ok FALSE ("session closed").  Unknown
 * session: nothing happens. */
void gw_relay_close_session (GwRelay *relay, MsrpUri *session,
                             const char *reason);

/* What the relay's counters are broken down by (README.md "Metrics"). */

/* How a connection carries MSRP: a TCP socket, TLS (over a socket or an
 * ICE-TCP stream), or an ICE-TCP stream without TLS (gw-ice.h). */
typedef enum
{
  GW_RELAY_TRANSPORT_TCP,
  GW_RELAY_TRANSPORT_TLS,
  GW_RELAY_TRANSPORT_ICE_TCP,
  GW_RELAY_N_TRANSPORTS
} GwRelayTransport;

/* Inbound: accepted by a listener, or adopted (gw_relay_adopt_connection()
 * -- an ICE-TCP pair is inbound whichever side connected).  Outbound: a
 * next hop, or a party the gateway connects to. */
typedef enum
{
  GW_RELAY_INBOUND,
  GW_RELAY_OUTBOUND,
  GW_RELAY_N_DIRECTIONS
} GwRelayDirection;

/* The kinds of the session_created event. */
typedef enum
{
  GW_RELAY_SESSION_CLIENT,  /* a client's, by Digest AUTH */
  GW_RELAY_SESSION_RELAY,   /* a peer relay's, by mutual TLS and Digest */
  GW_RELAY_SESSION_PREAUTH, /* pre-authorised by the negotiator */
  GW_RELAY_N_SESSION_KINDS
} GwRelaySessionKind;

/* How a connection was found dead (connection_dead): by the kernel's TCP
 * keep-alive probes or TCP_USER_TIMEOUT (NET_CONN_CLOSED_DEAD), or by an
 * MSRP keep-alive without an answer (gw_relay_set_session_keepalive()). */
typedef enum
{
  GW_RELAY_PROBE_TCP,
  GW_RELAY_PROBE_MSRP,
  GW_RELAY_N_PROBES
} GwRelayProbe;

/* What the relay decided about an AUTH addressed to it (RFC 4976 section
 * 6.3), one per AUTH answered. */
typedef enum
{
  GW_RELAY_AUTH_OK,            /* 200: a session granted */
  GW_RELAY_AUTH_CHALLENGE,     /* 401: no Authorization yet, the first step */
  GW_RELAY_AUTH_STALE,         /* 401 stale=true: right password, old nonce,
                                * or the user is provisioned for the other
                                * algorithm only; not a failure */
  GW_RELAY_AUTH_FAILED,        /* 401: wrong credentials, unknown user,
                                * unreadable Authorization */
  GW_RELAY_AUTH_REPLAY,        /* 401: a nonce-count accepted before */
  GW_RELAY_AUTH_LOCKED,        /* 403: the user is locked in the users file */
  GW_RELAY_AUTH_BAD_EXPIRES,   /* 423: Expires out of [expires-min, max] */
  GW_RELAY_AUTH_SESSION_LIMIT, /* 403: too many sessions (session_limit) */
  GW_RELAY_AUTH_ERROR,         /* 500: no session could be made */
  GW_RELAY_AUTH_THROTTLED,     /* 403, not judged: the source address or the
                                * user is in back-off after too many
                                * failures ([auth] throttle-*) */
  GW_RELAY_N_AUTH_OUTCOMES
} GwRelayAuthOutcome;

/* The names of the log stream and the metrics' labels: "tcp", "tls",
 * "ice-tcp"; "inbound", "outbound"; "client", "relay", "preauth"; "ok",
 * "challenge", "stale", "failed", "replay", "locked", "bad_expires",
 * "session_limit", "error", "throttled"; "tcp", "msrp". */
const char *gw_relay_transport_to_string (GwRelayTransport transport);
const char *gw_relay_direction_to_string (GwRelayDirection direction);
const char *gw_relay_session_kind_to_string (GwRelaySessionKind kind);
const char *gw_relay_auth_outcome_to_string (GwRelayAuthOutcome outcome);
const char *gw_relay_probe_to_string (GwRelayProbe probe);

typedef struct
{
  guint connections; /* open, inbound and outbound */
  guint sessions;    /* valid session URIs */
  guint64 bytes_in;  /* on every connection, closed ones too */
  guint64 bytes_out;
  guint64 messages;           /* SEND messages ended (message_relayed) */
  gsize queued_bytes;         /* held now: write queues of every
                               * connection, plus input set aside while a
                               * connection is paused */
  guint frames_in_flight;     /* frames being streamed through now */
  guint frames_waiting;       /* frames waiting for a busy writer, or for
                               * a paired party to connect */
  guint readers_paused;       /* connections not read (backpressure) */
  guint pending_transactions; /* forwarded requests awaiting a response */
  /* @connections by transport and direction */
  guint open[GW_RELAY_N_TRANSPORTS][GW_RELAY_N_DIRECTIONS];
  /* connections since the start: inbound ones when accepted (TLS: before
   * the handshake) or adopted (connection_accepted), outbound ones when
   * connected (TLS: handshake done; connection_opened) */
  guint64 opened[GW_RELAY_N_TRANSPORTS][GW_RELAY_N_DIRECTIONS];
  guint sessions_by_kind[GW_RELAY_N_SESSION_KINDS]; /* @sessions */
  guint64 auth[GW_RELAY_N_AUTH_OUTCOMES];           /* AUTHs answered */
  guint64 dead[GW_RELAY_N_PROBES];                  /* connections found dead
                                                     * (connection_dead) */
} GwRelayStats;

/* Fill @stats.  Costs one pass over the open connections. */
void gw_relay_get_stats (GwRelay *relay, GwRelayStats *stats);

typedef struct
{
  guint code;
  guint64 count;
} GwRelayCodeCount;

/* The error codes (300 and up) of the responses and failure REPORTs the
 * relay made itself, the `stats` event's err_NNN: a REPORT counts here
 * and in gw_relay_get_report_counts().
 * Returns: (transfer full): GArray of GwRelayCodeCount, by code. */
GArray *gw_relay_get_error_counts (GwRelay *relay);

/* The failure REPORTs the relay sent (report_generated), by code.
 * Returns: (transfer full): GArray of GwRelayCodeCount, by code. */
GArray *gw_relay_get_report_counts (GwRelay *relay);

/* TRUE while a frame is being streamed through, or bytes wait in a write
 * queue: what a graceful shutdown waits for. */
gboolean gw_relay_is_busy (GwRelay *relay);

/* Emit the `stats` event now (it is also emitted every 60 s). */
void gw_relay_log_stats (GwRelay *relay);

G_END_DECLS
