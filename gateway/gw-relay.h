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
#include "gw-conn.h"
#include "gw-tls.h"
#include "gw-users.h"
#include "msrp-uri.h"

G_BEGIN_DECLS

#define GW_RELAY_ERROR (gw_relay_error_quark ())
GQuark gw_relay_error_quark (void);

typedef enum {
  GW_RELAY_ERROR_NO_LISTENER,  /* no listener of the scheme asked for */
  GW_RELAY_ERROR_INVALID,      /* an argument cannot be used */
  GW_RELAY_ERROR_RANDOM,       /* RAND_bytes failed */
} GwRelayError;

/* Failed AUTHs (with credentials, not stale) on one connection without a
 * success, after which it is closed (RFC 4976 section 6.3: "several"). */
#define GW_RELAY_MAX_AUTH_FAILURES 3
/* Unsuccessful requests on a connection on probation (no successful request
 * yet) after which it is closed (RFC 4976 section 6.1). */
#define GW_RELAY_MAX_PROBATION_FAILURES 5
/* Lifetime of a Digest nonce; an older one gets stale=true. */
#define GW_RELAY_NONCE_LIFETIME_S 300

typedef struct _GwRelay GwRelay;

/* A relay with @config's [gateway], [auth], [relay] and [limits] values
 * (copied), @users (a reference is taken; NULL: nobody can AUTH with
 * Digest) and @client_tls for outbound msrps connections (a reference;
 * NULL: msrps next hops fail).
 * Returns: (transfer full) (nullable): NULL with @error when no Digest
 * secret could be drawn. */
G_GNUC_WARN_UNUSED_RESULT
GwRelay *gw_relay_new (const GwConfig *config, GwUsers *users,
                       GwTls *client_tls, GError **error);

/* Closes every connection at once (no on_closed), logging each, and frees
 * the relay.  Listeners it was given are released. */
void gw_relay_free (GwRelay *relay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwRelay, gw_relay_free)

/* Serve @listener (a reference is taken; its callbacks are replaced): its
 * connections are relayed, and PUBLIC-HOST with its port and @scheme (msrp
 * for TCP, msrps for TLS) becomes one of the relay's URIs. */
void gw_relay_add_listener (GwRelay *relay, GwListener *listener,
                            MsrpScheme scheme);

/* Stop accepting: release every listener (their sockets close when no one
 * else holds them).  Live connections go on. */
void gw_relay_close_listeners (GwRelay *relay);

/* Swap the users table in (SIGHUP); a reference is taken.  AUTHs from now
 * on use it; sessions already granted stay. */
void gw_relay_set_users (GwRelay *relay, GwUsers *users);

/* Swap the client TLS context in; new outbound connections use it. */
void gw_relay_set_client_tls (GwRelay *relay, GwTls *tls);

/* Create a session for the relay fallback of DESIGN.md (RFC 6135 section
 * 4.2.2): not tied to a connection yet, it is bound to the first inbound
 * connection that sends a SEND whose From-Path ends in @party (compared as
 * RFC 4975 section 6.1 says) and whose To-Path starts with one of our
 * session URIs.  From then on it is a client session of that connection,
 * invalid once the connection closes.  Until bound, requests toward the
 * party get 481, except a bodiless SEND (the binding SEND of the other
 * party), which gets a 200 and goes no further.  It expires after
 * @expires_s seconds (1 and more).
 * @scheme picks the listener whose port goes into the URI.
 * Returns: (transfer full) (nullable): the session's URI, to put at the
 * front of the party's a=path as the other party sees it; NULL with
 * @error. */
G_GNUC_WARN_UNUSED_RESULT
MsrpUri *gw_relay_preauthorize_session (GwRelay *relay, MsrpScheme scheme,
                                        MsrpUri *party, guint expires_s,
                                        GError **error);

/* The wall clock the Digest nonces are minted and checked with
 * (microseconds, g_get_real_time() by default).  Tests move it to make
 * nonces stale; timers always run on the main context's monotonic clock. */
typedef gint64 (*GwRelayClockFunc) (gpointer user_data);
void gw_relay_set_clock (GwRelay *relay, GwRelayClockFunc clock,
                         gpointer user_data);

typedef struct {
  guint connections;         /* open, inbound and outbound */
  guint sessions;            /* valid session URIs */
  guint64 bytes_in;          /* on every connection, closed ones too */
  guint64 bytes_out;
  guint64 messages;          /* SEND messages ended (message_relayed) */
  gsize queued_bytes;        /* held now: write queues of every
                              * connection, plus input set aside while a
                              * connection is paused */
  guint frames_in_flight;    /* frames being streamed through now */
  guint frames_waiting;      /* frames waiting for a busy writer */
  guint readers_paused;      /* connections not read (backpressure) */
  guint pending_transactions;/* forwarded requests awaiting a response */
} GwRelayStats;

void gw_relay_get_stats (GwRelay *relay, GwRelayStats *stats);

/* TRUE while a frame is being streamed through, or bytes wait in a write
 * queue: what a graceful shutdown waits for. */
gboolean gw_relay_is_busy (GwRelay *relay);

/* Emit the `stats` event now (it is also emitted every 60 s). */
void gw_relay_log_stats (GwRelay *relay);

G_END_DECLS
