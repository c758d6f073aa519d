/* gw-relay-priv.h: what the relay's modules share (gw-relay*.c only).
 *
 * The relay is one object in nine files, one concern each:
 *
 *   gw-relay.c          the object, its public API, the timer and work
 *                       sources
 *   gw-relay-conn.c     a connection's life: accept and limits, NetConn
 *                       callbacks, probation, detach and close
 *   gw-relay-stream.c   reading and streaming with backpressure
 *   gw-relay-route.c    where a request goes (RFC 4976 6.2, 6.4)
 *   gw-relay-auth.c     AUTH (RFC 4976 5.1, 6.3)
 *   gw-relay-txn.c      transactions, responses, REPORTs, messages
 *   gw-relay-session.c  sessions, pre-authorised ones, connect_session
 *   gw-relay-pool.c     outbound connections and the next-hop pool
 *   gw-relay-keepalive.c  standing connections: a live call's connection
 *                       exempt from the idle timeout, MSRP keep-alives,
 *                       connections found dead
 *
 * A function one module calls in another is declared here and named
 * after its module (gw_relay_conn_* is in gw-relay-conn.c); helpers used
 * in one file are static there and carry no prefix.
 *
 * Objects and who holds whom:
 *
 *   GwRelay     the session table (id -> Session), every connection (Conn),
 *               the next-hop pool (scheme://host:port -> outbound Conn), the
 *               peers reached back over their own inbound connection
 *               (session + peer URI -> inbound Conn), and five deadline
 *               queues under one timer source: forwarded transactions
 *               awaiting a response (all report-timeout long, so a FIFO),
 *               connections on probation (all probation long: a FIFO),
 *               connections without a request yet (first-request-timeout:
 *               a FIFO),
 *               frames held for a party (report-timeout: a FIFO), binding
 *               SENDs awaiting their 200 (report-timeout: a FIFO); each
 *               expiring session has a timer of its own on the loop.
 *   Conn        one NetConn (or a next hop still being resolved), with its
 *               MsrpReader and the frame coming in (Rx), and as a writer: the
 *               frame in flight on it (owner_conn), the connections waiting
 *               to start a frame on it (FIFO), the small frames the relay
 *               made that wait for the frame in flight to end (ctrl), and the
 *               transactions forwarded on it (out tid -> Txn).
 *   Session     a session URI handed out: a client's, a peer relay's, or
 *               one the negotiator pre-authorised for a party.
 *   Txn         a request forwarded on one hop (RFC 4976 section 6.4: a new
 *               transaction id per hop): where it came from, what to report.
 *   Msg         one SEND message (all its chunks) for the one
 *               message_relayed line, counted across its chunks' Txns.
 */
#pragma once

#include "gw-relay.h"

#include "gw-connect-policy.h"
#include "gw-log.h"
#include "gw-throttle.h"
#include "net-loop.h"
#include "msrp-digest.h"
#include "msrp-head.h"
#include "msrp-parser.h"
#include "msrp-reader.h"
#include "msrp-writer.h"

G_BEGIN_DECLS

/* Forwarded transactions awaiting a response, per originating connection,
 * above which its reader waits. */
#define MAX_ORIGIN_TXNS 1024

typedef struct _Conn Conn;
typedef struct _Session Session;
typedef struct _Txn Txn;
typedef struct _Msg Msg;
typedef struct _KeepAlive KeepAlive;

typedef enum
{
  SESSION_CLIENT,  /* valid on the connection that obtained it */
  SESSION_RELAY,   /* a peer relay's, by mutual TLS: any connection */
  SESSION_PREAUTH, /* made by the negotiator; bound once paired */
} SessionKind;

/* A gw_relay_connect_session() under way: the binding SEND is out (or
 * waits for the connection) and its 200 is awaited. */
typedef struct
{
  GwRelayConnectFunc func;
  gpointer data;
  char tid[MSRP_WRITER_ID_BUF_SIZE]; /* the binding SEND's */
  gint64 deadline;                   /* once the connection is up */
  GList *timer_link;                 /* in relay->bind_timers */
  gboolean reached;                  /* the connection is (was) up */
} Connect;

struct _Session
{
  GwRelay *relay;
  char *id;
  SessionKind kind;
  /* Flags in the padding after kind (an idle session's size counts). */
  guint chosen : 1;       /* shared: its party sent toward one branch,
                           * the others were unpaired */
  guint bound_logged : 1; /* PREAUTH: session_bound was logged */
  guint keepalive : 1;    /* PREAUTH: MSRP keep-alives toward the party */
  guint via_relay : 1;    /* PREAUTH: bound by a SEND whose From-Path had
                           * relays before the party: the connection is
                           * its relay's, not the party's */
  MsrpUri *uri;
  char *user;          /* Digest user, relay subject; NULL (preauth) */
  Conn *conn;          /* CLIENT: weak; conn->sessions links back */
  MsrpUri *party;      /* PREAUTH: the party's own URI */
  char *call_id;       /* PREAUTH: the negotiator's label (nullable) */
  Session *paired;     /* PREAUTH: the other party's (weak, mutual), or
                        * for a branch session (gw_relay_pair_branch())
                        * the shared one */
  GPtrArray *branches; /* PREAUTH shared by the branches of a forked
                        * call: their sessions (weak; each has ->paired
                        * set to this one), in pairing order; NULL when
                        * not shared */
  Connect *connect;    /* PREAUTH: gw_relay_connect_session() pending */
  char *relay_host;    /* RELAY: host its certificate was checked for */
  gint64 expires_at;   /* monotonic; G_MAXINT64: never (PREAUTH) */
  NetTimer expiry;     /* at expires_at, unless it never expires */
  guint64 messages;
  guint64 bytes;
  /* PREAUTH, per direction (GwRelaySessionInfo) */
  guint64 messages_from, bytes_from, messages_to, bytes_to;
};

typedef enum
{
  ACT_NONE,
  ACT_FORWARD,  /* stream to rx.out */
  ACT_DISCARD,  /* drop the body; answer rx.code at the end when due */
  ACT_AUTH,     /* an AUTH to this relay, answered at the end */
  ACT_RESPONSE, /* a response, handled at the end */
} RxAction;

typedef enum
{
  BLOCK_NONE,
  BLOCK_SELF,  /* this connection's own writer is full */
  BLOCK_START, /* in rx.out's FIFO, waiting to start the frame */
  BLOCK_DRAIN, /* rx.out is congested mid-frame */
  BLOCK_PARTY, /* toward a paired party that has not connected yet */
} RxBlock;

typedef struct
{
  MsrpHead *head;
  char *head_error; /* a header value was invalid: 400 */
  RxAction action;
  RxBlock block;
  guint code;        /* ACT_DISCARD: the response due at the end */
  char *comment;     /* ... and its comment (nullable) */
  Conn *out;         /* ACT_FORWARD: the writer (a reference) */
  guint started : 1; /* the head went to rx.out */
  GBytes *out_head;  /* the rewritten head until then */
  char out_tid[MSRP_WRITER_ID_BUF_SIZE];
  Txn *txn; /* the transaction, while the frame streams */
  guint has_body : 1;
  guint64 body_len;
  Msg *msg;              /* SEND: the message (a reference) */
  char *session_id;      /* first session of the path, for the log */
  char *from_sid;        /* toward a paired party: the sender's session */
  char *to_sid;          /* ... and the receiver's, for their counters */
  gint64 party_deadline; /* BLOCK_PARTY: until when to wait, 0: not */
} Rx;

struct _Conn
{
  gint ref;
  guint16 local_port; /* inbound: the listener's port (here: no padding) */
  GwRelay *relay;
  NetConn *gw; /* NULL while a next hop is resolved */
  guint64 id;
  guint inbound : 1;
  guint listened : 1; /* inbound, by a listener (not adopted): anyone's,
                       * so the first-request deadline and eviction apply */
  MsrpScheme scheme;  /* our listener's (inbound), the next hop's */
  char *peer_ip;      /* inbound: key of relay->per_ip */
  char *peer;         /* outbound: the next hop's "host:port" (the NetConn's
                       * peer address once there is one: gw_relay_conn_peer()) */
  char *pool_key;     /* outbound */
  char *peer_host;    /* outbound: the URI's host (TLS peer name) */
  guint16 peer_port;  /* outbound: the URI's port, or 2855 */
  guint16 uri_port;   /* outbound: the URI's port as written, 0: none */
  GList *addresses;   /* outbound: GInetSocketAddress left to try, in order */
  GCancellable *resolving;
  gint64 created;
  guint detached : 1; /* relay state released; waits for on_closed */
  char *close_reason; /* ours, when the relay closed it */
  char *close_detail;
  guint net_closed : 1;         /* the NetConn closed it (on_closed) ... */
  NetConnCloseReason net_close; /* ... for this reason */

  /* reading */
  MsrpReader *reader; /* while a frame is read; NULL at rest (it is a
                       * fifth of an idle connection's memory) */
  Rx rx;
  GBytes *pending; /* input set aside while paused (the NetConn's reading
                    * is paused: net_conn_is_reading_paused()) */
  guint kick_queued : 1;
  guint auth_failures;
  guint failures;      /* unsuccessful requests, on probation */
  guint succeeded : 1; /* probation passed */
  GList *probation_link;
  gint64 probation_deadline;
  GList *first_request_link; /* in relay->first_requests until the head of
                              * a first request is in */
  gint64 first_request_deadline;
  GHashTable *open_msgs; /* Message-ID -> Msg, more chunks to come; made
                          * on first use (gw-relay-txn.c), as @txns: an
                          * idle connection holds neither, which were
                          * most of its memory */
  guint n_origin_txns;

  /* writing */
  Conn *owner_conn;  /* whose frame is in flight here */
  GQueue waiters;    /* Conn (references), BLOCK_START on us */
  GList *party_link; /* in relay->party_waiters (BLOCK_PARTY) */
  GQueue ctrl;       /* GBytes behind the frame in flight */
  gsize ctrl_bytes;
  GHashTable *txns;     /* out tid -> Txn (owned); NULL until used */
  GPtrArray *sessions;  /* CLIENT sessions bound here (weak) */
  GPtrArray *peer_keys; /* inbound: its keys in relay->peers (char *) */
  KeepAlive *keepalive; /* MSRP keep-alives, while a session bound here
                         * asks for them (gw-relay-keepalive.c) */
};

struct _Txn
{
  GwRelay *relay;
  Conn *out; /* weak: out->txns owns the Txn */
  char out_tid[MSRP_WRITER_ID_BUF_SIZE];
  Conn *in; /* a reference; may be detached */
  char *in_tid;
  char *method;
  MsrpReportMode failure_report;
  char *message_id;
  gboolean has_range;
  MsrpByteRange range;
  guint64 body_len;
  MsrpUri *self_uri;    /* the received To-Path's first URI */
  GPtrArray *from_path; /* the received From-Path */
  Msg *msg;             /* SEND: a reference */
  gboolean frame_open;  /* the request is still streaming */
  gboolean answered;
  gboolean auth_with_credentials; /* an AUTH with Authorization */
  gint64 deadline;
  GList *timer_link;
};

struct _Msg
{
  gint ref;
  GwRelay *relay;
  char *key; /* in conn->open_msgs */
  char *message_id;
  char *session_id;
  char *call_id; /* of the first session (nullable) */
  guint64 conn_id;
  guint64 bytes;
  guint chunks;
  guint pending;         /* chunk transactions not finished */
  gboolean final;        /* '$' or '#' seen, or its sender gone */
  gboolean acknowledged; /* every chunk asked for a response, got 2xx */
  guint fail_code;
  gboolean timeout;
  gboolean interrupted;
  char *reason;
  gboolean logged;
};

typedef struct
{
  GwRelay *relay;
  NetListener *listener;
  MsrpScheme scheme;
  guint16 port;
} Listener;

struct _GwRelay
{
  GMainContext *context;
  char *public_host;
  char *realm;
  guint expires_min, expires_default, expires_max;
  gint64 report_timeout_us;
  gint64 probation_us;
  gint64 first_request_us;
  gint64 keepalive_us; /* [keepalive] msrp-interval */
  guint max_sessions_per_conn;
  guint max_sessions_per_user;
  guint max_connections;
  guint max_connections_per_ip;
  MsrpParserLimits limits;
  NetConnOptions conn_options;
  GwUsers *users;
  NetTls *client_tls;
  MsrpDigestServer *digest;
  GwConnectPolicy *policy;   /* where next hops and parties may be */
  GwThrottle *throttle_addr; /* failed AUTHs per source address */
  GwThrottle *throttle_user; /* ... and per user */

  gboolean freeing;

  GPtrArray *listeners; /* Listener */
  GHashTable *conns;    /* Conn set, not detached (no references) */
  GHashTable *closing;  /* Conn set, detached, closing gracefully */
  GHashTable *per_ip;   /* ip -> count of inbound connections */
  guint n_inbound;
  GHashTable *pool;          /* key -> Conn (weak; removed at detach) */
  GHashTable *peers;         /* peer_key() -> inbound Conn (weak; removed at
                              * detach) */
  GHashTable *sessions;      /* id -> Session (owned) */
  GHashTable *user_sessions; /* Digest user -> count of her sessions */

  GQueue bind_timers;    /* Session with a Connect, by deadline */
  GQueue party_waiters;  /* Conn (references) in BLOCK_PARTY, by
                          * deadline */
  GQueue completions;    /* Completion, for the work source */
  GQueue txn_timers;     /* Txn, by deadline */
  GQueue probation;      /* Conn, by probation_deadline */
  GQueue first_requests; /* Conn (listened), by first_request_deadline */
  NetLoop *loop;         /* the clock, timers and wakes (a reference) */
  NetTimer deadlines;    /* the earliest deadline of the queues above */
  NetWatch work;         /* woken: kicks and completions to run */
  GQueue kicks;          /* Conn (references) to resume */
  NetTimer stats;

  guint64 closed_bytes_in;
  guint64 closed_bytes_out;
  guint64 messages;
  GHashTable *errors; /* code -> count of error answers we made */
  guint frames_in_flight;
  guint n_txns;

  /* Counters of the metrics (GwRelayStats, gw_relay_get_*_counts()). */
  GHashTable *reports; /* code -> count of failure REPORTs we sent */
  guint64 opened[GW_RELAY_N_TRANSPORTS][GW_RELAY_N_DIRECTIONS];
  guint n_sessions[GW_RELAY_N_SESSION_KINDS]; /* by SessionKind */
  guint64 auth[GW_RELAY_N_AUTH_OUTCOMES];
  guint64 dead[GW_RELAY_N_PROBES];
};

static inline gboolean
gw_relay_is_method (MsrpHead *h, const char *method)
{
  return g_strcmp0 (msrp_head_get_method (h), method) == 0;
}

/* gw-relay.c */
gint64 gw_relay_now (GwRelay *r);
void gw_relay_wake_work (GwRelay *r);
void gw_relay_timer_update (GwRelay *r);
Listener *gw_relay_listener_for (GwRelay *r, MsrpScheme scheme);

/* gw-relay-conn.c */
const char *gw_relay_conn_peer (Conn *c);
gboolean gw_relay_conn_is_open (Conn *c);
Conn *gw_relay_conn_ref (Conn *c);
void gw_relay_conn_unref (Conn *c);
void gw_relay_conn_note_request (Conn *c);
void gw_relay_conn_note_success (Conn *c);
gboolean gw_relay_conn_note_failure (Conn *c);
void gw_relay_conn_expire_probation (GwRelay *r, gint64 now);
void gw_relay_conn_expire_first_requests (GwRelay *r, gint64 now);
void gw_relay_conn_drop (Conn *c, const char *reason, const char *detail,
                         gboolean graceful);
Conn *gw_relay_conn_new (GwRelay *r);
void gw_relay_conn_attach (Conn *c, NetConn *gw);
gboolean gw_relay_conn_filter (NetListener *listener, GSocketAddress *peer,
                               gpointer data);
void gw_relay_conn_accept (GwRelay *r, NetConn *gw, MsrpScheme scheme,
                           guint16 port, gboolean adopted,
                           const char *const *fields);
void gw_relay_conn_close_all (GwRelay *r);
GwRelayTransport gw_relay_conn_transport (Conn *c);

/* gw-relay-stream.c */
GBytes *gw_relay_stream_end_line (const char *tid, gboolean has_body,
                                  char flag);
void gw_relay_stream_rx_clear (Rx *rx);
void gw_relay_stream_flush_ctrl (Conn *c);
void gw_relay_stream_send_small (Conn *c, GBytes *b);
void gw_relay_stream_kick (Conn *c);
void gw_relay_stream_run_kicks (GwRelay *r);
void gw_relay_stream_reader_gone (Conn *c);
void gw_relay_stream_writer_gone (Conn *c);
void gw_relay_stream_discard (Conn *c, guint code, const char *comment);
void gw_relay_stream_forward (Conn *c);
void gw_relay_stream_pump (Conn *out);
void gw_relay_stream_feed (Conn *c, const guint8 *data, gsize len);

/* gw-relay-route.c */
gboolean gw_relay_route_uri_is_ours (GwRelay *r, MsrpUri *u);
GBytes *gw_relay_route_forward_head (MsrpHead *h, const char *tid,
                                     guint n_ours, MsrpUri *last_as);
void gw_relay_route_unhold (Conn *c);
void gw_relay_route_release_holds (GwRelay *r);
void gw_relay_route_expire_holds (GwRelay *r, gint64 now);
void gw_relay_route_forget_peers (Conn *c);
void gw_relay_route_request (Conn *c);

/* gw-relay-auth.c */
void gw_relay_auth_handle (Conn *c);
Conn *gw_relay_auth_forward_answered (Txn *t, MsrpHead *h);
void gw_relay_auth_forwards_failed (Conn *client, Conn *via);

/* gw-relay-txn.c */
void gw_relay_txn_msg_unref (Msg *m);
void gw_relay_txn_msg_interrupt (Msg *m, const char *reason);
void gw_relay_txn_msg_end (Conn *c, Msg *m);
Msg *gw_relay_txn_msg_chunk (Conn *c, MsrpHead *h, Session *first);
void gw_relay_txn_respond (Conn *c, MsrpHead *h, guint code,
                           const char *comment, ...) G_GNUC_NULL_TERMINATED;
void gw_relay_txn_respond_if_due (Conn *c, MsrpHead *h, guint code,
                                  const char *comment);
void gw_relay_txn_report (Conn *via, MsrpUri *self_uri, GPtrArray *from_path,
                          const char *message_id, gboolean has_range,
                          const MsrpByteRange *range, guint64 body_len,
                          guint code, const char *comment);
Txn *gw_relay_txn_new (Conn *in, Conn *out, MsrpHead *h, const char *out_tid,
                       Msg *msg);
void gw_relay_txn_free (Txn *t);
void gw_relay_txn_finish (Txn *t);
void gw_relay_txn_frame_ended (Txn *t);
void gw_relay_txn_expire (GwRelay *r, gint64 now);
void gw_relay_txn_sender_gone (Conn *c);
void gw_relay_txn_next_hop_gone (Conn *c);
void gw_relay_txn_handle_response (Conn *c);

/* gw-relay-session.c */
Session *gw_relay_session_find (GwRelay *r, MsrpUri *u);
MsrpUri *gw_relay_session_paired_uri (GwRelay *r, MsrpUri *u, Conn *from);
gboolean gw_relay_session_is_paired (Session *s);
Session *gw_relay_session_peer_on (Session *s, Conn *c);
void gw_relay_session_choose (Session *branch);
Session *gw_relay_session_new (GwRelay *r, SessionKind kind, MsrpScheme scheme,
                               guint16 port, guint expires_s, GError **error);
void gw_relay_session_count_user (GwRelay *r, const char *user, int delta);
guint gw_relay_session_n_client (Conn *c);
void gw_relay_session_log (Session *s, const char *event, const char *reason);
void gw_relay_session_bind (Session *s, Conn *c);
void gw_relay_session_run_completions (GwRelay *r);
gboolean gw_relay_session_from_owner (Session *s, Conn *c);
void gw_relay_session_expire (GwRelay *r, gint64 now);
void gw_relay_session_close_all (GwRelay *r);
void gw_relay_session_conn_up (Conn *c);
void gw_relay_session_log_bindings (Conn *c);
void gw_relay_session_conn_gone (Conn *c);
gboolean gw_relay_session_binding_answered (Conn *c, MsrpHead *h);
void gw_relay_session_bind_by_send (Conn *c, Session *first, MsrpHead *h);
void gw_relay_session_count_relayed (GwRelay *r, const char *from_sid,
                                     const char *to_sid, char flag,
                                     guint64 body_len);
Session *gw_relay_session_peer (Session *s);
GBytes *gw_relay_session_empty_send (Session *s, char *tid, gsize tid_size,
                                     GError **error);

/* gw-relay-keepalive.c */
void gw_relay_keepalive_update (Conn *c);
gboolean gw_relay_keepalive_answered (Conn *c, MsrpHead *h);
void gw_relay_keepalive_dead (Conn *c, GwRelayProbe probe, const char *detail);

/* gw-relay-pool.c */
Conn *gw_relay_pool_open (GwRelay *r, MsrpUri *u, Session *dedicated);
gboolean gw_relay_pool_connect (Conn *c);
Conn *gw_relay_pool_get (GwRelay *r, MsrpUri *u);
gboolean gw_relay_pool_try_next (Conn *c, NetConnCloseReason reason);
void gw_relay_pool_forget (Conn *c);

G_END_DECLS
