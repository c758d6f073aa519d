/* gw-relay.c: the RFC 4976 relay engine.
 *
 * Objects and who holds whom:
 *
 *   GwRelay     the session table (id -> Session), every connection (Conn),
 *               the next-hop pool (scheme://host:port -> outbound Conn), the
 *               peers reached back over their own inbound connection
 *               (session + peer URI -> inbound Conn), and
 *               three deadline queues under one timer source: forwarded
 *               transactions awaiting a response (all report-timeout long, so
 *               a FIFO), connections on probation (all probation long: a
 *               FIFO), sessions by expiry (a GSequence).
 *   Conn        one NetConn (or a next hop still being resolved), with its
 *               MsrpParser and the frame coming in (Rx), and as a writer: the
 *               frame in flight on it (owner_conn), the connections waiting
 *               to start a frame on it (FIFO), the small frames the relay
 *               made that wait for the frame in flight to end (ctrl), and the
 *               transactions forwarded on it (out tid -> Txn).
 *   Txn         a request forwarded on one hop (RFC 4976 section 6.4: a new
 *               transaction id per hop): where it came from, what to report.
 *   Msg         one SEND message (all its chunks) for the one
 *               message_relayed line, counted across its chunks' Txns.
 *
 * Streaming: the head of a forwarded frame is written once its headers are
 * in, then every BODY piece as it arrives (copied once into a GBytes), then
 * the end-line with the sender's flag.  A connection's writer carries one
 * frame at a time: a frame that wants a busy, congested or unconnected
 * writer pauses its reader, sets the unread input aside (at most one read)
 * and queues in the writer's FIFO; the writer hands itself to the next in
 * line when its frame ends or its queue drains.  So memory per relayed
 * stream is bounded by the write queue's high watermark plus one read,
 * whatever the message size.
 *
 * Re-entrancy: NetConn never calls back from inside net_conn_*(), and the
 * relay never resumes a paused reader from inside another connection's
 * callback: it queues a kick that an idle source runs.
 */
#include "gw-relay.h"

#include <string.h>

#include "net-addr.h"
#include "gw-log.h"
#include "msrp-digest.h"
#include "msrp-head.h"
#include "msrp-parser.h"
#include "msrp-status.h"
#include "msrp-writer.h"

GQuark
gw_relay_error_quark (void)
{
  return g_quark_from_static_string ("gw-relay-error-quark");
}

/* Generated frames queued on a connection behind a frame in flight, above
 * which the connection's own reader waits (its requests make responses). */
#define CTRL_LIMIT (64 * 1024)
/* Forwarded transactions awaiting a response, per originating connection,
 * above which its reader waits. */
#define MAX_ORIGIN_TXNS 1024
/* Messages with chunks still to come, per connection. */
#define MAX_OPEN_MSGS 256
/* Peer URIs remembered per inbound connection (the oldest goes first). */
#define MAX_PEERS_PER_CONN 64
#define STATS_INTERVAL_S 60
#define END_LINE_MAX (2 + 7 + MSRP_WRITER_ID_LEN + 1 + 2 + 1)

typedef struct _Conn Conn;
typedef struct _Session Session;
typedef struct _Txn Txn;
typedef struct _Msg Msg;

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

/* A GwRelayConnectFunc call waiting for the work source. */
typedef struct
{
  GwRelayConnectFunc func;
  gpointer data;
  MsrpUri *uri;
  GwRelayConnectResult result;
  guint64 conn;
  char *detail;
} Completion;

static const char *const kind_names[] = { "client", "relay", "preauth" };

struct _Session
{
  GwRelay *relay;
  char *id;
  SessionKind kind;
  MsrpUri *uri;
  char *user;            /* Digest user, relay subject; NULL (preauth) */
  Conn *conn;            /* CLIENT: weak; conn->sessions links back */
  MsrpUri *party;        /* PREAUTH: the party's own URI */
  char *call_id;         /* PREAUTH: the negotiator's label (nullable) */
  Session *paired;       /* PREAUTH: the other party's (weak, mutual) */
  Connect *connect;      /* PREAUTH: gw_relay_connect_session() pending */
  gboolean bound_logged; /* PREAUTH: session_bound was logged */
  char *relay_host;      /* RELAY: host its certificate was checked for */
  gint64 expires_at;     /* monotonic; G_MAXINT64: never (PREAUTH) */
  GSequenceIter *expiry; /* NULL when it never expires */
  guint64 messages;
  guint64 bytes;
  /* PREAUTH, per direction (GwRelaySessionInfo) */
  guint64 messages_from, bytes_from, messages_to, bytes_to;
};

typedef enum
{
  RX_IDLE,
  RX_HEADERS,
  RX_BODY,
} RxPhase;

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
  RxPhase phase;
  MsrpHead *head;
  char *head_error; /* a header value was invalid: 400 */
  RxAction action;
  RxBlock block;
  guint code;       /* ACT_DISCARD: the response due at the end */
  char *comment;    /* ... and its comment (nullable) */
  Conn *out;        /* ACT_FORWARD: the writer (a reference) */
  gboolean started; /* the head went to rx.out */
  GBytes *out_head; /* the rewritten head until then */
  char out_tid[MSRP_WRITER_ID_BUF_SIZE];
  Txn *txn; /* the transaction, while the frame streams */
  gboolean has_body;
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
  GwRelay *relay;
  NetConn *gw; /* NULL while a next hop is resolved */
  guint64 id;
  gboolean inbound;
  MsrpScheme scheme;  /* our listener's (inbound), the next hop's */
  guint16 local_port; /* inbound: the listener's port */
  char *peer_ip;      /* inbound: key of relay->per_ip */
  char *peer;         /* "ip:port", or the next hop "host:port" */
  char *pool_key;     /* outbound */
  char *peer_host;    /* outbound: the URI's host (TLS peer name) */
  guint16 peer_port;
  GList *addresses; /* outbound: GInetSocketAddress left to try */
  GCancellable *resolving;
  gint64 created;
  gboolean detached;  /* relay state released; waits for on_closed */
  char *close_reason; /* ours, when the relay closed it */
  char *close_detail;
  gboolean net_closed;          /* the NetConn closed it (on_closed) ... */
  NetConnCloseReason net_close; /* ... for this reason */

  /* reading */
  MsrpParser *parser;
  Rx rx;
  GBytes *pending; /* input set aside while paused (the NetConn's reading
                    * is paused: net_conn_is_reading_paused()) */
  gboolean kick_queued;
  guint auth_failures;
  guint failures;     /* unsuccessful requests, on probation */
  gboolean succeeded; /* probation passed */
  GList *probation_link;
  gint64 probation_deadline;
  GHashTable *open_msgs; /* Message-ID -> Msg, more chunks to come */
  guint n_origin_txns;

  /* writing */
  Conn *owner_conn;  /* whose frame is in flight here */
  GQueue waiters;    /* Conn (references), BLOCK_START on us */
  GList *party_link; /* in relay->party_waiters (BLOCK_PARTY) */
  GQueue ctrl;       /* GBytes behind the frame in flight */
  gsize ctrl_bytes;
  GHashTable *txns;     /* out tid -> Txn (owned) */
  GPtrArray *sessions;  /* CLIENT sessions bound here (weak) */
  GPtrArray *peer_keys; /* inbound: its keys in relay->peers (char *) */
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

typedef struct
{
  GSource source;
  GwRelay *relay;
} RelaySource;

struct _GwRelay
{
  GMainContext *context;
  char *public_host;
  char *realm;
  guint expires_min, expires_default, expires_max;
  gint64 report_timeout_us;
  gint64 probation_us;
  guint max_sessions_per_conn;
  guint max_sessions_per_user;
  guint max_connections;
  guint max_connections_per_ip;
  MsrpParserLimits limits;
  NetConnOptions conn_options;
  GwUsers *users;
  NetTls *client_tls;
  MsrpDigestServer *digest;
  GwRelayClockFunc clock;
  gpointer clock_data;
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
  GSequence *expiry;         /* Session, by expires_at */
  GQueue bind_timers;        /* Session with a Connect, by deadline */
  GQueue party_waiters;      /* Conn (references) in BLOCK_PARTY, by
                              * deadline */
  GQueue completions;        /* Completion, for the work source */
  GQueue txn_timers;         /* Txn, by deadline */
  GQueue probation;          /* Conn, by probation_deadline */
  GSource *timer;
  GSource *work;
  GQueue kicks; /* Conn (references) to resume */
  GSource *stats_source;

  guint64 closed_bytes_in;
  guint64 closed_bytes_out;
  guint64 messages;
  GHashTable *errors; /* code -> count of error answers we made */
  guint frames_in_flight;
  guint n_txns;
};

static void conn_unref (Conn *c);
static void conn_drop (Conn *c, const char *reason, const char *detail,
                       gboolean graceful);
static void rx_dispatch (Conn *c);
static void conn_resume (Conn *c);
static void peers_forget (Conn *c);
static void pool_forget (Conn *c);
static void kick (Conn *c);
static void out_pump (Conn *out);
static void timer_update (GwRelay *r);
static void txn_free (Txn *txn);
static void msg_unref (Msg *msg);
static void session_remove (Session *s, const char *event, const char *reason);
static void bind_failed (Session *s, const char *detail);
static void txns_expire (GwRelay *r, gint64 now);
static void probation_expire (GwRelay *r, gint64 now);
static void holds_expire (GwRelay *r, gint64 now);
static void sessions_expire (GwRelay *r, gint64 now);
static void kicks_run (GwRelay *r);
static void completions_run (GwRelay *r);

/* --- small helpers ---------------------------------------------------- */

static gint64
real_clock (gpointer data)
{
  return g_get_real_time ();
}

static gint64
now_real (GwRelay *r)
{
  return r->clock (r->clock_data);
}

static gboolean
is_method (MsrpHead *h, const char *method)
{
  return g_strcmp0 (msrp_head_get_method (h), method) == 0;
}

/* Is @u one of this relay's URIs: scheme, host and port of a listener
 * (RFC 4976 section 6.2)?  Host compared as RFC 4975 section 6.1 says
 * (both in canonical form); an absent port is the default 2855 (RFC 4975
 * section 15.4), so "msrps://relay.example.net;tcp" names a listener on
 * 2855.  The session-id is not looked at here. */
static gboolean
uri_is_ours (GwRelay *r, MsrpUri *u)
{
  guint16 port = msrp_uri_get_effective_port (u);

  if (g_ascii_strcasecmp (msrp_uri_get_transport (u), "tcp") != 0)
    return FALSE;
  for (guint i = 0; i < r->listeners->len; i++)
    {
      Listener *l = r->listeners->pdata[i];

      if (l->scheme == msrp_uri_get_scheme (u) && l->port == port &&
          g_ascii_strcasecmp (msrp_uri_get_host (u), r->public_host) == 0)
        return TRUE;
    }
  return FALSE;
}

static Session *
session_find (GwRelay *r, MsrpUri *u)
{
  const char *id = msrp_uri_get_session_id (u);
  Session *s;

  if (id == NULL || !uri_is_ours (r, u))
    return NULL;
  s = g_hash_table_lookup (r->sessions, id);
  if (s == NULL || s->expires_at <= g_get_monotonic_time ())
    return NULL;
  return s;
}

/* When @u names a paired pre-authorised session: its pair's URI (what the
 * party behind @u was given as the other party's path); else NULL. */
static MsrpUri *
paired_uri (GwRelay *r, MsrpUri *u)
{
  Session *s = session_find (r, u);

  if (s == NULL || s->kind != SESSION_PREAUTH || s->paired == NULL)
    return NULL;
  return s->paired->uri;
}

static void
count_error (GwRelay *r, guint code)
{
  gpointer key = GUINT_TO_POINTER (code);

  if (code < 300)
    return;
  g_hash_table_insert (
      r->errors, key,
      GSIZE_TO_POINTER (
          GPOINTER_TO_SIZE (g_hash_table_lookup (r->errors, key)) + 1));
}

static const char *
conn_peer (Conn *c)
{
  return c->peer != NULL ? c->peer : "";
}

static gboolean
conn_open (Conn *c)
{
  return c->gw != NULL && !c->detached &&
         net_conn_get_state (c->gw) == NET_CONN_STATE_OPEN;
}

/* Append the texts (as received: peers compare paths as strings) of
 * @path[@from..] separated by spaces. */
static void
append_uris (GString *s, GPtrArray *path, guint from)
{
  for (guint i = from; i < path->len; i++)
    {
      if (i > from)
        g_string_append_c (s, ' ');
      g_string_append (s, msrp_uri_get_text (path->pdata[i]));
    }
}

/* The head of a frame passed on, request or response: the start line with
 * this hop's transaction id @tid (RFC 4976 section 6.4: new on every hop
 * for a request; a response takes its request's), then To-Path without its
 * first @n_ours URIs, From-Path with those in front (the last one first:
 * each relay hop inserts its URI before the others, RFC 4976 section
 * 6.4.1), every other header as received and in order, and the blank line
 * when a body follows.  @last_as (nullable) goes into From-Path in place of
 * the last of ours: toward a paired party, the paired session's URI, so
 * that the party sees the path it was given in SDP. */
static GBytes *
forward_head (MsrpHead *h, const char *tid, guint n_ours, MsrpUri *last_as)
{
  GPtrArray *to = msrp_head_get_to_path (h);
  GPtrArray *from = msrp_head_get_from_path (h);
  GString *s = g_string_sized_new (512);
  guint n = msrp_head_get_n_headers (h);
  const char *comment = msrp_head_get_comment (h);

  if (msrp_head_is_request (h))
    g_string_append_printf (s, "MSRP %s %s\r\n", tid,
                            msrp_head_get_method (h));
  else
    g_string_append_printf (
        s, "MSRP %s %03u%s%s\r\n", tid, msrp_head_get_status_code (h),
        comment != NULL ? " " : "", comment != NULL ? comment : "");
  g_string_append (s, "To-Path: ");
  append_uris (s, to, n_ours);
  g_string_append (s, "\r\nFrom-Path: ");
  for (guint i = n_ours; i > 0; i--)
    {
      MsrpUri *u =
          (i == n_ours && last_as != NULL) ? last_as : to->pdata[i - 1];

      g_string_append (s, msrp_uri_get_text (u));
      g_string_append_c (s, ' ');
    }
  append_uris (s, from, 0);
  g_string_append (s, "\r\n");
  for (guint i = 0; i < n; i++)
    {
      MsrpHeaderId id;
      const char *name, *value;

      msrp_head_get_header (h, i, &id, &name, &value);
      if (id == MSRP_HEADER_TO_PATH || id == MSRP_HEADER_FROM_PATH)
        continue;
      g_string_append_printf (s, "%s: %s\r\n", name, value);
    }
  if (msrp_head_has_body (h))
    g_string_append (s, "\r\n");
  return g_string_free_to_bytes (s);
}

static GBytes *
end_line (const char *tid, gboolean has_body, char flag)
{
  return g_bytes_new_take (
      g_strdup_printf ("%s-------%s%c\r\n", has_body ? "\r\n" : "", tid, flag),
      (has_body ? 2 : 0) + 7 + strlen (tid) + 3);
}

/* --- Conn references -------------------------------------------------- */

static Conn *
conn_ref (Conn *c)
{
  c->ref++;
  return c;
}

static void
rx_clear (Rx *rx)
{
  g_clear_pointer (&rx->head, msrp_head_unref);
  g_clear_pointer (&rx->head_error, g_free);
  g_clear_pointer (&rx->comment, g_free);
  g_clear_pointer (&rx->out, conn_unref);
  g_clear_pointer (&rx->out_head, g_bytes_unref);
  g_clear_pointer (&rx->msg, msg_unref);
  g_clear_pointer (&rx->session_id, g_free);
  g_clear_pointer (&rx->from_sid, g_free);
  g_clear_pointer (&rx->to_sid, g_free);
  memset (rx, 0, sizeof *rx);
}

static void
conn_unref (Conn *c)
{
  if (--c->ref > 0)
    return;
  g_assert (c->detached);
  rx_clear (&c->rx);
  g_clear_pointer (&c->parser, msrp_parser_free);
  g_clear_pointer (&c->pending, g_bytes_unref);
  g_clear_pointer (&c->gw, net_conn_unref);
  g_list_free_full (c->addresses, g_object_unref);
  g_clear_object (&c->resolving);
  g_hash_table_unref (c->open_msgs);
  g_hash_table_unref (c->txns);
  g_ptr_array_unref (c->sessions);
  g_ptr_array_unref (c->peer_keys);
  g_free (c->peer_ip);
  g_free (c->peer);
  g_free (c->pool_key);
  g_free (c->peer_host);
  g_free (c->close_reason);
  g_free (c->close_detail);
  g_free (c);
}

/* --- writing ------------------------------------------------------------ */

static gboolean
out_writable (Conn *out)
{
  return conn_open (out) && !net_conn_is_congested (out->gw);
}

static void
write_bytes (Conn *c, GBytes *b)
{
  if (c->gw != NULL && !c->detached)
    net_conn_write (c->gw, b);
}

/* Write the small frames queued on @c behind the frame in flight, if its
 * connection is open (they stay queued while it connects).  Also while @c
 * is being detached: a last response (a 401 before closing) is still owed
 * to the peer. */
static void
flush_ctrl (Conn *c)
{
  GBytes *b;

  if (c->gw == NULL || net_conn_get_state (c->gw) != NET_CONN_STATE_OPEN)
    return;
  while ((b = g_queue_pop_head (&c->ctrl)) != NULL)
    {
      net_conn_write (c->gw, b);
      g_bytes_unref (b);
    }
  c->ctrl_bytes = 0;
}

/* A frame the relay made (a response or a REPORT): written now, or after
 * the frame in flight on @c. */
static void
send_small (Conn *c, GBytes *b)
{
  if (c->detached || c->relay->freeing)
    return;
  if (c->owner_conn == NULL && conn_open (c))
    {
      net_conn_write (c->gw, b);
      return;
    }
  g_queue_push_tail (&c->ctrl, g_bytes_ref (b));
  c->ctrl_bytes += g_bytes_get_size (b);
}

/* The frame in flight on @out has ended (or was cut). */
static void
out_frame_done (Conn *out)
{
  out->owner_conn = NULL;
  out->relay->frames_in_flight--;
  flush_ctrl (out);
  out_pump (out);
  /* The writer's own reader may wait for its generated frames to go. */
  if (out->rx.block == BLOCK_SELF)
    kick (out);
}

/* --- messages (one message_relayed line each) ------------------------- */

static Msg *
msg_ref (Msg *m)
{
  m->ref++;
  return m;
}

static void
msg_unref (Msg *m)
{
  if (m == NULL || --m->ref > 0)
    return;
  g_free (m->key);
  g_free (m->message_id);
  g_free (m->session_id);
  g_free (m->call_id);
  g_free (m->reason);
  g_free (m);
}

static void
msg_interrupt (Msg *m, const char *reason)
{
  if (m->interrupted)
    return;
  m->interrupted = TRUE;
  g_free (m->reason);
  m->reason = g_strdup (reason);
}

static void
msg_maybe_log (Msg *m)
{
  GwRelay *r = m->relay;
  g_autoptr (GwLogEvent) ev = NULL;
  g_autofree char *outcome = NULL;
  Session *s;

  if (m->logged || !m->final || m->pending > 0)
    return;
  m->logged = TRUE;
  if (m->fail_code != 0)
    outcome = g_strdup_printf ("failed:%03u", m->fail_code);
  else if (m->timeout)
    outcome = g_strdup ("timeout");
  else if (m->interrupted)
    outcome = g_strdup ("interrupted");
  else
    outcome = g_strdup ("delivered");
  r->messages++;
  s = g_hash_table_lookup (r->sessions, m->session_id);
  if (s != NULL)
    {
      s->messages++;
      s->bytes += m->bytes;
    }
  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "message_relayed");
  gw_log_event_add_str (ev, "session", m->session_id);
  if (m->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", m->call_id);
  gw_log_event_add_str (ev, "message_id", m->message_id);
  gw_log_event_add_int (ev, "conn", (gint64) m->conn_id);
  gw_log_event_add_int (ev, "bytes", (gint64) m->bytes);
  gw_log_event_add_int (ev, "chunks", m->chunks);
  gw_log_event_add_str (ev, "outcome", outcome);
  gw_log_event_add_bool (ev, "acknowledged", m->acknowledged);
  if (m->reason != NULL && g_strcmp0 (outcome, "delivered") != 0)
    gw_log_event_add_str (ev, "reason", m->reason);
  gw_log_event_emit (ev,
                     "message %s: %" G_GUINT64_FORMAT " bytes in %u "
                     "chunks, %s",
                     m->message_id, m->bytes, m->chunks, outcome);
}

/* The Msg of a SEND from @c, made on its first chunk. */
static Msg *
msg_for (Conn *c, const char *message_id, const char *session_id)
{
  /* Message-IDs are unique per sender; a connection from a relay carries
   * many senders' messages, told apart by their session. */
  g_autofree char *key = g_strconcat (session_id, " ", message_id, NULL);
  Msg *m = g_hash_table_lookup (c->open_msgs, key);

  if (m != NULL)
    return msg_ref (m);
  if (g_hash_table_size (c->open_msgs) >= MAX_OPEN_MSGS)
    {
      GHashTableIter it;
      gpointer value;

      /* Too many unfinished messages: give up on one. */
      g_hash_table_iter_init (&it, c->open_msgs);
      if (g_hash_table_iter_next (&it, NULL, &value))
        {
          Msg *old = msg_ref (value);

          g_hash_table_iter_remove (&it);
          old->final = TRUE;
          msg_interrupt (old,
                         "too many unfinished messages on the connection");
          msg_maybe_log (old);
          msg_unref (old);
        }
    }
  m = g_new0 (Msg, 1);
  m->ref = 1;
  m->relay = c->relay;
  m->key = g_steal_pointer (&key);
  m->message_id = g_strdup (message_id);
  m->session_id = g_strdup (session_id);
  m->conn_id = c->id;
  m->acknowledged = TRUE;
  g_hash_table_insert (c->open_msgs, m->key, msg_ref (m));
  return m;
}

/* The last chunk of @m came from @c: no more will. */
static void
msg_end (Conn *c, Msg *m)
{
  m->final = TRUE;
  g_hash_table_remove (c->open_msgs, m->key);
  msg_maybe_log (m);
}

/* The Msg of the SEND chunk @h from @c toward the session @first,
 * counted. */
static Msg *
msg_chunk (Conn *c, MsrpHead *h, Session *first)
{
  Msg *m = msg_for (c, msrp_head_get_message_id (h), first->id);

  if (m->call_id == NULL)
    m->call_id = g_strdup (first->call_id);
  m->chunks++;
  /* Acknowledged only when every chunk gets a 200 back (RFC 4975 section
   * 7.1.4: only Failure-Report yes, or none, has one). */
  if (msrp_head_get_failure_report (h) != MSRP_REPORT_YES)
    m->acknowledged = FALSE;
  return m;
}

/* --- responses and REPORTs the relay makes ------------------------------ */

/* Send the relay's response to a request that came on @c: the request's
 * @method and @tid, @to_path and @from_path as received (RFC 4975 section
 * 7.2: to the previous hop for a SEND, the whole way back otherwise), and
 * @extra (nullable) header pairs (name, value, ..., NULL; a NULL value
 * skips its pair).  Every response the relay makes itself is built here;
 * responses it relays keep the next hop's bytes (forward_head()). */
static void
send_response (Conn *c, const char *method, const char *tid,
               GPtrArray *to_path, GPtrArray *from_path, guint code,
               const char *comment, va_list *extra)
{
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GBytes) b = NULL;
  g_autoptr (GError) error = NULL;
  const char *name;

  if (c->detached)
    return;
  w = msrp_status_build_response (method, tid, to_path, from_path, code,
                                  comment, &error);
  while (w != NULL && extra != NULL &&
         (name = va_arg (*extra, const char *)) != NULL)
    {
      const char *value = va_arg (*extra, const char *);

      if (value != NULL && !msrp_writer_add_header (w, name, value, &error))
        g_clear_pointer (&w, msrp_writer_free);
    }
  if (w != NULL)
    b = msrp_writer_to_bytes (w, NULL, '$', &error);
  if (b == NULL)
    {
      g_autoptr (GwLogEvent) ev =
          gw_log_event_new (G_LOG_LEVEL_WARNING, "response_failed");

      gw_log_event_add_int (ev, "conn", (gint64) c->id);
      gw_log_event_add_int (ev, "code", code);
      gw_log_event_add_str (ev, "reason", error->message);
      gw_log_event_emit (ev, "cannot answer %u: %s", code, error->message);
      return;
    }
  count_error (c->relay, code);
  send_small (c, b);
}

/* The response to the request @h received on @c, with extra header pairs
 * (name, value, ..., NULL). */
static void respond (Conn *c, MsrpHead *h, guint code, const char *comment,
                     ...) G_GNUC_NULL_TERMINATED;

static void
respond (Conn *c, MsrpHead *h, guint code, const char *comment, ...)
{
  va_list ap;

  if (msrp_head_get_to_path (h) == NULL || msrp_head_get_from_path (h) == NULL)
    return;
  va_start (ap, comment);
  send_response (c, msrp_head_get_method (h), msrp_head_get_transaction_id (h),
                 msrp_head_get_to_path (h), msrp_head_get_from_path (h), code,
                 comment, &ap);
  va_end (ap);
}

static void
respond_if_due (Conn *c, MsrpHead *h, guint code, const char *comment)
{
  if (msrp_status_response_due (msrp_head_get_method (h),
                                msrp_head_get_failure_report (h), code))
    respond (c, h, code, comment, NULL);
}

/* A failure REPORT (RFC 4975 section 7.1.2, RFC 4976 section 6.4.1) to the
 * sender of a SEND, through @via (the connection it came on): To-Path the
 * received From-Path, From-Path our URI that received it. */
static void
send_report (Conn *via, MsrpUri *self_uri, GPtrArray *from_path,
             const char *message_id, gboolean has_range,
             const MsrpByteRange *range, guint64 body_len, guint code,
             const char *comment)
{
  g_autoptr (GPtrArray) to = g_ptr_array_new ();
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GBytes) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GwLogEvent) ev = NULL;
  MsrpByteRange br = { 0 };
  const char *sender;

  if (via == NULL || via->detached || via->relay->freeing ||
      message_id == NULL)
    return;
  /* s.7.1.4: the range-end comes from the body actually seen. */
  br.start = has_range ? range->start : 1;
  br.total = has_range ? range->total : body_len;
  br.total_unknown = has_range && range->total_unknown;
  br.end = br.start + body_len - 1;
  g_ptr_array_add (to, self_uri);
  w = msrp_status_build_report (to, from_path, NULL, message_id,
                                (body_len > 0 || br.start == 1) ? &br : NULL,
                                code, comment, &error);
  if (w != NULL)
    b = msrp_writer_to_bytes (w, NULL, '$', &error);
  sender = msrp_uri_get_text (from_path->pdata[from_path->len - 1]);
  if (b == NULL)
    {
      ev = gw_log_event_new (G_LOG_LEVEL_WARNING, "report_failed");
      gw_log_event_add_str (ev, "message_id", message_id);
      gw_log_event_add_str (ev, "reason", error->message);
      gw_log_event_emit (ev, "cannot make a %u REPORT for %s: %s", code,
                         message_id, error->message);
      return;
    }
  count_error (via->relay, code);
  send_small (via, b);
  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "report_generated");
  gw_log_event_add_int (ev, "code", code);
  gw_log_event_add_str (ev, "message_id", message_id);
  gw_log_event_add_str (ev, "to", sender);
  gw_log_event_add_int (ev, "conn", (gint64) via->id);
  if (comment != NULL)
    gw_log_event_add_str (ev, "reason", comment);
  gw_log_event_emit (ev, "REPORT %03u for message %s to %s", code, message_id,
                     sender);
}

/* --- transactions ----------------------------------------------------------
 */

static Txn *
txn_new (Conn *in, Conn *out, MsrpHead *h, const char *out_tid, Msg *msg)
{
  Txn *t = g_new0 (Txn, 1);
  const MsrpByteRange *range = msrp_head_get_byte_range (h);

  t->relay = in->relay;
  t->out = out;
  g_strlcpy (t->out_tid, out_tid, sizeof t->out_tid);
  t->in = conn_ref (in);
  t->in_tid = g_strdup (msrp_head_get_transaction_id (h));
  t->method = g_strdup (msrp_head_get_method (h));
  t->failure_report = msrp_head_get_failure_report (h);
  t->message_id = g_strdup (msrp_head_get_message_id (h));
  if (range != NULL)
    {
      t->has_range = TRUE;
      t->range = *range;
    }
  t->self_uri = msrp_uri_ref (msrp_head_get_to_path (h)->pdata[0]);
  t->from_path = g_ptr_array_ref (msrp_head_get_from_path (h));
  t->frame_open = TRUE;
  t->auth_with_credentials =
      is_method (h, "AUTH") &&
      msrp_head_find (h, MSRP_HEADER_AUTHORIZATION, NULL) != NULL;
  if (msg != NULL)
    {
      t->msg = msg_ref (msg);
      msg->pending++;
    }
  in->n_origin_txns++;
  in->relay->n_txns++;
  g_hash_table_insert (out->txns, t->out_tid, t);
  return t;
}

/* Called by out->txns when the Txn is removed. */
static void
txn_free (Txn *t)
{
  GwRelay *r = t->relay;

  if (t->timer_link != NULL)
    {
      g_queue_delete_link (&r->txn_timers, t->timer_link);
      t->timer_link = NULL;
    }
  if (--t->in->n_origin_txns == MAX_ORIGIN_TXNS - 1 &&
      t->in->rx.block == BLOCK_SELF)
    kick (t->in);
  r->n_txns--;
  conn_unref (t->in);
  if (t->msg != NULL)
    {
      t->msg->pending--;
      msg_maybe_log (t->msg);
      msg_unref (t->msg);
    }
  g_free (t->in_tid);
  g_free (t->method);
  g_free (t->message_id);
  msrp_uri_unref (t->self_uri);
  g_ptr_array_unref (t->from_path);
  g_free (t);
}

static void
txn_finish (Txn *t)
{
  g_hash_table_remove (t->out->txns, t->out_tid);
}

/* The request went out whole: start the report-timeout (RFC 4976 section
 * 6.4.1: "The timer starts when the last byte of the message has been sent
 * to the next hop"; here: queued to it). */
static void
txn_frame_ended (Txn *t)
{
  GwRelay *r = t->relay;

  t->frame_open = FALSE;
  if (t->answered)
    {
      txn_finish (t);
      return;
    }
  t->deadline = g_get_monotonic_time () + r->report_timeout_us;
  g_queue_push_tail (&r->txn_timers, t);
  t->timer_link = r->txn_timers.tail;
  timer_update (r);
}

/* No response will come (timeout, or the next hop's connection closed):
 * what the sender is owed. */
static void
txn_unanswered (Txn *t, gboolean timed_out)
{
  const char *why = timed_out ? "no response from the next hop within "
                                "report-timeout"
                              : "next hop connection closed before it "
                                "answered";

  if (g_strcmp0 (t->method, "SEND") == 0)
    {
      /* s.6.4.1: only "yes" runs the timer; "partial" wants errors only, and
       * silence is not one. */
      if (t->failure_report == MSRP_REPORT_YES)
        {
          send_report (t->in, t->self_uri, t->from_path, t->message_id,
                       t->has_range, &t->range, t->body_len,
                       MSRP_STATUS_REQUEST_TIMEOUT, why);
          if (t->msg != NULL)
            {
              t->msg->acknowledged = FALSE;
              if (timed_out)
                t->msg->timeout = TRUE;
              else
                msg_interrupt (t->msg, why);
            }
        }
    }
  else if (msrp_status_response_due (t->method, t->failure_report,
                                     MSRP_STATUS_REQUEST_TIMEOUT) &&
           !t->in->detached)
    {
      /* An end-to-end request (AUTH, NICKNAME, ...) routed through us: its
       * sender waits for a response.  Only the first To-Path URI counts
       * for building it (the responder). */
      g_autoptr (GPtrArray) to = g_ptr_array_new ();

      g_ptr_array_add (to, t->self_uri);
      send_response (t->in, t->method, t->in_tid, to, t->from_path,
                     MSRP_STATUS_REQUEST_TIMEOUT, why, NULL);
    }
}

/* The transactions whose report-timeout ran out by @now. */
static void
txns_expire (GwRelay *r, gint64 now)
{
  Txn *t;

  while ((t = g_queue_peek_head (&r->txn_timers)) != NULL &&
         t->deadline <= now)
    {
      g_queue_pop_head (&r->txn_timers);
      t->timer_link = NULL;
      txn_unanswered (t, TRUE);
      txn_finish (t);
    }
}

/* --- the deadline timer and the work queue ----------------------------- */

static gboolean
timer_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  GwRelay *r = ((RelaySource *) source)->relay;
  gint64 now = g_get_monotonic_time ();

  txns_expire (r, now);
  probation_expire (r, now);
  holds_expire (r, now);
  sessions_expire (r, now);
  timer_update (r);
  return G_SOURCE_CONTINUE;
}

static void
timer_update (GwRelay *r)
{
  gint64 next = -1;
  Txn *t = g_queue_peek_head (&r->txn_timers);
  Conn *c = g_queue_peek_head (&r->probation);
  Session *bs = g_queue_peek_head (&r->bind_timers);
  Conn *pw = g_queue_peek_head (&r->party_waiters);

  if (t != NULL)
    next = t->deadline;
  if (pw != NULL && (next < 0 || pw->rx.party_deadline < next))
    next = pw->rx.party_deadline;
  if (c != NULL && (next < 0 || c->probation_deadline < next))
    next = c->probation_deadline;
  if (bs != NULL && (next < 0 || bs->connect->deadline < next))
    next = bs->connect->deadline;
  if (g_sequence_get_length (r->expiry) > 0)
    {
      Session *s = g_sequence_get (g_sequence_get_begin_iter (r->expiry));

      if (next < 0 || s->expires_at < next)
        next = s->expires_at;
    }
  g_source_set_ready_time (r->timer, next);
}

static gboolean
work_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  GwRelay *r = ((RelaySource *) source)->relay;

  g_source_set_ready_time (source, -1);
  kicks_run (r);
  completions_run (r);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_source_funcs = {
  .dispatch = timer_dispatch,
};

static GSourceFuncs work_source_funcs = {
  .dispatch = work_dispatch,
};

static GSource *
relay_source_new (GwRelay *r, GSourceFuncs *funcs, const char *name)
{
  GSource *s = g_source_new (funcs, sizeof (RelaySource));

  ((RelaySource *) s)->relay = r;
  g_source_set_name (s, name);
  g_source_set_ready_time (s, -1);
  g_source_attach (s, r->context);
  return s;
}

static void
kick (Conn *c)
{
  GwRelay *r = c->relay;

  if (c->kick_queued || c->detached)
    return;
  c->kick_queued = TRUE;
  g_queue_push_tail (&r->kicks, conn_ref (c));
  g_source_set_ready_time (r->work, 0);
}

/* Resume the connections kicked so far; kicks made meanwhile go to the
 * next run. */
static void
kicks_run (GwRelay *r)
{
  GQueue batch = r->kicks;
  Conn *c;

  g_queue_init (&r->kicks);
  while ((c = g_queue_pop_head (&batch)) != NULL)
    {
      c->kick_queued = FALSE;
      if (!c->detached)
        conn_resume (c);
      conn_unref (c);
    }
}

/* @c no longer waits for a paired party: out of the queue. */
static void
party_wait_leave (Conn *c)
{
  if (c->party_link == NULL)
    return;
  g_queue_delete_link (&c->relay->party_waiters, c->party_link);
  c->party_link = NULL;
  conn_unref (c);
}

/* @c stops waiting for a paired party (it connected, or the wait ran
 * out): out of the queue, and kicked to route its frame again. */
static void
party_wait_end (Conn *c)
{
  if (c->party_link == NULL)
    return;
  kick (c);
  party_wait_leave (c);
}

/* A pre-authorised session was paired or bound: every frame held for a
 * party tries again (those still waiting wait on with their deadlines). */
static void
party_waits_end (GwRelay *r)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new ();

  for (GList *l = r->party_waiters.head; l != NULL; l = l->next)
    g_ptr_array_add (all, l->data);
  for (guint i = 0; i < all->len; i++)
    party_wait_end (all->pdata[i]);
}

/* The frames held for a party whose wait ran out by @now: kicked, so that
 * route_request() answers them 481 now. */
static void
holds_expire (GwRelay *r, gint64 now)
{
  Conn *c;

  while ((c = g_queue_peek_head (&r->party_waiters)) != NULL &&
         c->rx.party_deadline <= now)
    party_wait_end (c);
}

/* --- sessions ------------------------------------------------------------ */

static gint
expiry_cmp (gconstpointer a, gconstpointer b, gpointer data)
{
  const Session *x = a, *y = b;

  if (x->expires_at != y->expires_at)
    return x->expires_at < y->expires_at ? -1 : 1;
  return x < y ? -1 : (x > y ? 1 : 0);
}

static Session *
session_new (GwRelay *r, SessionKind kind, MsrpScheme scheme, guint16 port,
             guint expires_s, GError **error)
{
  /* @expires_s 0: never expires. */
  char id[MSRP_WRITER_ID_BUF_SIZE];
  Session *s;
  MsrpUri *uri;

  /* 16 base62 characters from RAND_bytes: about 95 random bits (RFC 4976
   * section 6.3 asks for 64). */
  do
    {
      if (!msrp_writer_fill_message_id (id, sizeof id, error))
        return NULL;
    }
  while (g_hash_table_contains (r->sessions, id));
  uri = msrp_uri_new (scheme, NULL, r->public_host, port, id, "tcp", error);
  if (uri == NULL)
    return NULL;
  s = g_new0 (Session, 1);
  s->relay = r;
  s->id = g_strdup (id);
  s->kind = kind;
  s->uri = uri;
  g_hash_table_insert (r->sessions, s->id, s);
  if (expires_s == 0)
    {
      s->expires_at = G_MAXINT64;
      return s;
    }
  s->expires_at =
      g_get_monotonic_time () + (gint64) expires_s * G_USEC_PER_SEC;
  s->expiry = g_sequence_insert_sorted (r->expiry, s, expiry_cmp, NULL);
  timer_update (r);
  return s;
}

/* Count @delta more sessions for @user (RFC 4976 section 6.3 sessions
 * obtained by Digest; [relay] max-sessions-per-user bounds them). */
static void
user_sessions_add (GwRelay *r, const char *user, int delta)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (r->user_sessions, user));

  n += delta;
  if (n == 0)
    g_hash_table_remove (r->user_sessions, user);
  else
    g_hash_table_insert (r->user_sessions, g_strdup (user),
                         GUINT_TO_POINTER (n));
}

static guint
conn_client_sessions (Conn *c)
{
  guint n = 0;

  for (guint i = 0; i < c->sessions->len; i++)
    n += ((Session *) c->sessions->pdata[i])->kind == SESSION_CLIENT;
  return n;
}

static void
session_log (Session *s, const char *event, const char *reason)
{
  g_autoptr (GwLogEvent) ev = gw_log_event_new (G_LOG_LEVEL_INFO, event);

  gw_log_event_add_str (ev, "session", s->id);
  gw_log_event_add_str (ev, "kind", kind_names[s->kind]);
  if (s->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", s->call_id);
  if (s->party != NULL)
    gw_log_event_add_str (ev, "party", msrp_uri_get_text (s->party));
  if (s->user != NULL)
    gw_log_event_add_str (ev, "user", s->user);
  if (s->relay_host != NULL)
    gw_log_event_add_str (ev, "relay", s->relay_host);
  if (s->conn != NULL)
    gw_log_event_add_int (ev, "conn", (gint64) s->conn->id);
  if (g_strcmp0 (event, "session_created") == 0)
    {
      gw_log_event_add_str (ev, "uri", msrp_uri_get_text (s->uri));
      if (s->expiry != NULL)
        gw_log_event_add_int (
            ev, "expires",
            (s->expires_at - g_get_monotonic_time () + G_USEC_PER_SEC / 2) /
                G_USEC_PER_SEC);
      gw_log_event_emit (ev, "session %s (%s) created", s->id,
                         kind_names[s->kind]);
      return;
    }
  gw_log_event_add_int (ev, "messages", (gint64) s->messages);
  gw_log_event_add_int (ev, "bytes", (gint64) s->bytes);
  if (s->kind == SESSION_PREAUTH)
    {
      gw_log_event_add_int (ev, "messages_from", (gint64) s->messages_from);
      gw_log_event_add_int (ev, "bytes_from", (gint64) s->bytes_from);
      gw_log_event_add_int (ev, "messages_to", (gint64) s->messages_to);
      gw_log_event_add_int (ev, "bytes_to", (gint64) s->bytes_to);
    }
  if (reason != NULL)
    gw_log_event_add_str (ev, "reason", reason);
  gw_log_event_emit (ev, "session %s %s", s->id,
                     reason != NULL ? reason : "closed");
}

static void
session_bind (Session *s, Conn *c)
{
  GwRelay *r = s->relay;

  s->conn = c;
  g_ptr_array_add (c->sessions, s);
  if (s->kind == SESSION_PREAUTH)
    party_waits_end (r);
}

/* A pre-authorised session bound to @c (RFC 6135 section 4.2.2): by the
 * party's SEND on a connection it made (inbound), or by our connecting to
 * the party (outbound). */
static void
session_log_bound (Session *s, Conn *c)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_INFO, "session_bound");
  const char *direction = c->inbound ? "inbound" : "outbound";

  s->bound_logged = TRUE;
  gw_log_event_add_str (ev, "session", s->id);
  if (s->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", s->call_id);
  gw_log_event_add_int (ev, "conn", (gint64) c->id);
  gw_log_event_add_str (ev, "party", msrp_uri_get_text (s->party));
  gw_log_event_add_str (ev, "direction", direction);
  gw_log_event_add_str (ev, "peer", conn_peer (c));
  gw_log_event_emit (
      ev,
      "session %s bound to %s connection %" G_GUINT64_FORMAT " with %s for %s",
      s->id, direction, c->id, conn_peer (c), msrp_uri_get_text (s->party));
}

/* Bind @s to @c; an outbound connection's binding is logged once the
 * connection has its id and address (connect_next()). */
static void
session_bind_preauth (Session *s, Conn *c)
{
  session_bind (s, c);
  if (c->gw != NULL)
    session_log_bound (s, c);
}

/* Tell @func how a connect ended, from the work source (never from inside
 * the caller's gw_relay_*() call). */
static void
completion_queue (GwRelay *r, GwRelayConnectFunc func, gpointer data,
                  MsrpUri *uri, GwRelayConnectResult result, guint64 conn,
                  const char *detail)
{
  Completion *cp;

  if (func == NULL)
    return;
  cp = g_new0 (Completion, 1);
  cp->func = func;
  cp->data = data;
  cp->uri = msrp_uri_ref (uri);
  cp->result = result;
  cp->conn = conn;
  cp->detail = g_strdup (detail);
  g_queue_push_tail (&r->completions, cp);
  g_source_set_ready_time (r->work, 0);
}

static void
completion_run (GwRelay *r, Completion *cp)
{
  cp->func (r, cp->uri, cp->result, cp->conn, cp->detail, cp->data);
  msrp_uri_unref (cp->uri);
  g_free (cp->detail);
  g_free (cp);
}

/* Tell every connect that has ended, one at a time: a callback may queue
 * more (close_session, connect). */
static void
completions_run (GwRelay *r)
{
  Completion *cp;

  while ((cp = g_queue_pop_head (&r->completions)) != NULL)
    completion_run (r, cp);
}

/* The gw_relay_connect_session() of @s has ended.  Success is logged here
 * (session_connected); a failure is the caller's to handle and to log
 * (the negotiator's party_connect_failed), and the connection's own end is
 * its connection_closed line: one line each. */
static void
connect_finish (Session *s, GwRelayConnectResult result, const char *detail)
{
  GwRelay *r = s->relay;
  Connect *cn = g_steal_pointer (&s->connect);
  guint64 conn = s->conn != NULL ? s->conn->id : 0;

  if (cn == NULL)
    return;
  if (cn->timer_link != NULL)
    {
      g_queue_delete_link (&r->bind_timers, cn->timer_link);
      timer_update (r);
    }
  if (result == GW_RELAY_CONNECT_OK)
    {
      g_autoptr (GwLogEvent) ev =
          gw_log_event_new (G_LOG_LEVEL_INFO, "session_connected");

      gw_log_event_add_str (ev, "session", s->id);
      if (s->call_id != NULL)
        gw_log_event_add_str (ev, "call_id", s->call_id);
      gw_log_event_add_int (ev, "conn", (gint64) conn);
      gw_log_event_add_str (ev, "party", msrp_uri_get_text (s->party));
      gw_log_event_emit (ev, "session %s: %s accepted the binding SEND", s->id,
                         msrp_uri_get_text (s->party));
    }
  completion_queue (r, cn->func, cn->data, s->uri, result, conn, detail);
  g_free (cn);
}

/* How the connect of @s ended when its connection @c closed: once the
 * connection was up, the binding SEND failed; before, what the NetConn
 * said of the address (a RST to the connect is an answer from it; no
 * route or no answer is not), or nothing about it when the relay gave up
 * by itself (no address, shutdown). */
static GwRelayConnectResult
connect_result_at_close (Session *s, Conn *c)
{
  if (s->connect->reached)
    return GW_RELAY_CONNECT_BIND_FAILED;
  if (!c->net_closed)
    return GW_RELAY_CONNECT_NO_CONNECTION;
  switch (c->net_close)
    {
    case NET_CONN_CLOSED_REFUSED:
      return GW_RELAY_CONNECT_REFUSED;
    case NET_CONN_CLOSED_CONNECT_FAILED:
    case NET_CONN_CLOSED_TIMEOUT:
      return GW_RELAY_CONNECT_UNREACHABLE;
    default:
      return GW_RELAY_CONNECT_NO_CONNECTION;
    }
}

/* A pre-authorised session loses its connection: unbound again, to be
 * bound by a later SEND or connect. */
static void
session_unbind (Session *s, const char *reason)
{
  Conn *c = s->conn;
  g_autoptr (GwLogEvent) ev = NULL;

  if (c == NULL)
    return;
  g_ptr_array_remove_fast (c->sessions, s);
  s->conn = NULL;
  if (!s->bound_logged)
    return;
  s->bound_logged = FALSE;
  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "session_unbound");
  gw_log_event_add_str (ev, "session", s->id);
  if (s->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", s->call_id);
  gw_log_event_add_int (ev, "conn", (gint64) c->id);
  gw_log_event_add_str (ev, "party", msrp_uri_get_text (s->party));
  gw_log_event_add_str (ev, "reason", reason);
  gw_log_event_emit (
      ev, "session %s unbound from connection %" G_GUINT64_FORMAT ": %s",
      s->id, c->id, reason);
}

/* Log @event and forget @s. */
static void
session_remove (Session *s, const char *event, const char *reason)
{
  GwRelay *r = s->relay;

  if (s->connect != NULL)
    connect_finish (s, GW_RELAY_CONNECT_CANCELLED, "session closed");
  session_log (s, event, reason);
  if (s->conn != NULL)
    g_ptr_array_remove_fast (s->conn->sessions, s);
  if (s->paired != NULL)
    s->paired->paired = NULL;
  if (s->user != NULL)
    user_sessions_add (r, s->user, -1);
  if (s->expiry != NULL)
    g_sequence_remove (s->expiry);
  g_hash_table_steal (r->sessions, s->id);
  msrp_uri_unref (s->uri);
  g_clear_pointer (&s->party, msrp_uri_unref);
  g_free (s->call_id);
  g_free (s->user);
  g_free (s->relay_host);
  g_free (s->id);
  g_free (s);
  timer_update (r);
}

/* The gw_relay_connect_session() of @s failed: unbind it and close its
 * dedicated connection. */
static void
bind_failed (Session *s, const char *detail)
{
  Conn *c = s->conn;

  connect_finish (s, GW_RELAY_CONNECT_BIND_FAILED, detail);
  session_unbind (s, "binding failed");
  if (c != NULL && c->sessions->len == 0)
    conn_drop (c, "bind_failed", detail, TRUE);
}

/* Is a request on @c coming from the side of the party that obtained @s
 * (RFC 4976 section 6.4, case 2: "the previous hop was the correct previous
 * hop coming from the client")? */
static gboolean
session_from_owner (Session *s, Conn *c)
{
  switch (s->kind)
    {
    case SESSION_CLIENT:
    case SESSION_PREAUTH:
      return s->conn == c;
    case SESSION_RELAY:
      return c->gw != NULL &&
             net_conn_peer_certificate_matches (c->gw, s->relay_host);
    default:
      return FALSE;
    }
}

/* The connects whose binding SEND got no answer by @now, and the sessions
 * whose Expires ran out. */
static void
sessions_expire (GwRelay *r, gint64 now)
{
  Session *s;

  while ((s = g_queue_peek_head (&r->bind_timers)) != NULL &&
         s->connect->deadline <= now)
    {
      g_autofree char *detail =
          g_strdup_printf ("no response to the binding SEND within "
                           "report-timeout (%" G_GINT64_FORMAT " s)",
                           r->report_timeout_us / G_USEC_PER_SEC);

      g_queue_pop_head (&r->bind_timers);
      s->connect->timer_link = NULL;
      bind_failed (s, detail);
    }
  while (g_sequence_get_length (r->expiry) > 0)
    {
      s = g_sequence_get (g_sequence_get_begin_iter (r->expiry));
      if (s->expires_at > now)
        break;
      session_remove (s, "session_expired", "expired");
    }
}

/* Every session goes (the relay is freed). */
static void
sessions_close_all (GwRelay *r)
{
  for (;;)
    {
      GHashTableIter it;
      gpointer value;

      g_hash_table_iter_init (&it, r->sessions);
      if (!g_hash_table_iter_next (&it, NULL, &value))
        break;
      session_remove (value, "session_closed", "relay shutdown");
    }
}

/* The session whose gw_relay_connect_session() runs on @c, if any. */
static Session *
conn_connecting_session (Conn *c)
{
  for (guint i = 0; i < c->sessions->len; i++)
    {
      Session *s = c->sessions->pdata[i];

      if (s->connect != NULL)
        return s;
    }
  return NULL;
}

/* @c is up: the binding SEND of a connect on it goes out now, and its
 * report-timeout starts (RFC 4976 section 6.4.1). */
static void
session_conn_up (Conn *c)
{
  GwRelay *r = c->relay;
  Session *s = conn_connecting_session (c);

  if (s == NULL || s->connect->timer_link != NULL)
    return;
  s->connect->reached = TRUE;
  s->connect->deadline = g_get_monotonic_time () + r->report_timeout_us;
  g_queue_push_tail (&r->bind_timers, s);
  s->connect->timer_link = r->bind_timers.tail;
  timer_update (r);
}

/* The outbound @c now has its id and address: log the bindings of the
 * pre-authorised sessions bound to it before (session_bind_preauth()). */
static void
session_log_bindings (Conn *c)
{
  for (guint i = 0; i < c->sessions->len; i++)
    {
      Session *s = c->sessions->pdata[i];

      if (s->kind == SESSION_PREAUTH && !s->bound_logged)
        session_log_bound (s, c);
    }
}

/* --- probation (RFC 4976 section 6.1) ------------------------------------ */

static void
probation_end (Conn *c)
{
  GwRelay *r = c->relay;

  if (c->probation_link != NULL)
    {
      g_queue_delete_link (&r->probation, c->probation_link);
      c->probation_link = NULL;
      timer_update (r);
    }
}

static void
note_success (Conn *c)
{
  c->succeeded = TRUE;
  probation_end (c);
}

/* An unsuccessful request.  Returns FALSE when the connection was closed
 * for it. */
static gboolean
note_failure (Conn *c)
{
  g_autofree char *detail = NULL;

  if (c->succeeded || !c->inbound || c->detached)
    return !c->detached;
  if (++c->failures < GW_RELAY_MAX_PROBATION_FAILURES)
    return TRUE;
  detail = g_strdup_printf ("%u unsuccessful requests and no successful one",
                            c->failures);
  conn_drop (c, "probation_failures", detail, TRUE);
  return FALSE;
}

/* The connections still on probation at @now: closed (RFC 4976 section
 * 6.1). */
static void
probation_expire (GwRelay *r, gint64 now)
{
  Conn *c;

  while ((c = g_queue_peek_head (&r->probation)) != NULL &&
         c->probation_deadline <= now)
    {
      g_autofree char *detail = g_strdup_printf (
          "no successful request within %" G_GINT64_FORMAT " s",
          r->probation_us / G_USEC_PER_SEC);

      conn_drop (c, "probation_timeout", detail, TRUE);
    }
}

/* --- connection teardown --------------------------------------------------
 */

/* The frame @src streams to @out cannot reach it: the writer closed, or
 * could not be reached.  RFC 4976 section 6.4.1: a SEND that already went
 * partly out gets a failure REPORT (Failure-Report yes or partial), and a
 * 200 at its end when that is due, since it was received; one that never
 * started gets an error response at its end instead. */
static void
forward_failed (Conn *src, guint code, const char *why)
{
  Rx *rx = &src->rx;
  MsrpHead *h = rx->head;

  if (rx->action != ACT_FORWARD)
    return;
  if (rx->started && is_method (h, "SEND"))
    {
      if (msrp_status_failure_report_due (
              "SEND", msrp_head_get_failure_report (h), code))
        send_report (src, msrp_head_get_to_path (h)->pdata[0],
                     msrp_head_get_from_path (h), msrp_head_get_message_id (h),
                     msrp_head_get_byte_range (h) != NULL,
                     msrp_head_get_byte_range (h), rx->body_len, code, why);
      rx->code = MSRP_STATUS_OK;
    }
  else
    {
      rx->code = code;
      g_free (rx->comment);
      rx->comment = g_strdup (why);
    }
  if (rx->msg != NULL)
    {
      rx->msg->acknowledged = FALSE;
      msg_interrupt (rx->msg, why);
    }
  rx->action = ACT_DISCARD;
  rx->txn = NULL;
  g_clear_pointer (&rx->out, conn_unref);
  g_clear_pointer (&rx->out_head, g_bytes_unref);
  if (rx->block != BLOCK_NONE)
    {
      rx->block = BLOCK_NONE;
      kick (src);
    }
}

static void
conn_log_closed (Conn *c, const char *reason, const char *detail)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_INFO, "connection_closed");
  guint64 in = c->gw != NULL ? net_conn_get_bytes_in (c->gw) : 0;
  guint64 out = c->gw != NULL ? net_conn_get_bytes_out (c->gw) : 0;

  c->relay->closed_bytes_in += in;
  c->relay->closed_bytes_out += out;
  gw_log_event_add_int (ev, "conn", (gint64) c->id);
  gw_log_event_add_str (ev, "peer", conn_peer (c));
  gw_log_event_add_str (ev, "direction", c->inbound ? "inbound" : "outbound");
  gw_log_event_add_int (ev, "bytes_in", (gint64) in);
  gw_log_event_add_int (ev, "bytes_out", (gint64) out);
  gw_log_event_add_int (ev, "duration_ms",
                        (g_get_monotonic_time () - c->created) / 1000);
  gw_log_event_add_str (ev, "reason", reason);
  gw_log_event_emit (ev,
                     "connection %" G_GUINT64_FORMAT " with %s closed: "
                     "%s",
                     c->id, conn_peer (c), detail != NULL ? detail : reason);
}

/* @c, a reader, is going: its frame in flight ends with '#' on the next
 * hop (interrupted, RFC 4975 section 7.1), and nobody is left to tell what
 * the next hop answers; a frame still waiting for a writer leaves its
 * FIFO. */
static void
reader_gone (Conn *c)
{
  Rx *rx = &c->rx;
  Conn *out = rx->out;

  if (rx->action != ACT_FORWARD || out == NULL)
    return;
  if (rx->started && out->owner_conn == c)
    {
      g_autoptr (GBytes) end = end_line (rx->out_tid, rx->has_body, '#');

      write_bytes (out, end);
      if (rx->txn != NULL)
        {
          rx->txn->answered = TRUE;
          txn_finish (rx->txn);
          rx->txn = NULL;
        }
      out_frame_done (out);
    }
  else if (rx->block == BLOCK_START)
    {
      if (g_queue_remove (&out->waiters, c))
        conn_unref (c);
    }
}

/* @c, a sender, is gone: its messages with chunks still to come will not
 * get them. */
static void
messages_gone (Conn *c)
{
  GHashTableIter it;
  gpointer value;

  if (c->rx.msg != NULL)
    msg_interrupt (c->rx.msg, "sender connection closed mid-message");
  g_hash_table_iter_init (&it, c->open_msgs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Msg *m = value;

      m->final = TRUE;
      msg_interrupt (m, "sender connection closed mid-message");
      msg_maybe_log (m);
    }
  g_hash_table_remove_all (c->open_msgs);
}

/* @c, a writer, is going: the frame in flight toward it ends with '#'
 * while the connection is still open, and its sender learns it failed;
 * the small frames still owed go out (a 401 before closing); the frames
 * waiting for it fail. */
static void
writer_gone (Conn *c)
{
  Conn *src = c->owner_conn;
  Conn *w;

  if (src != NULL)
    {
      if (c->gw != NULL && net_conn_get_state (c->gw) == NET_CONN_STATE_OPEN)
        {
          g_autoptr (GBytes) end =
              end_line (src->rx.out_tid, src->rx.has_body, '#');

          net_conn_write (c->gw, end);
        }
      c->owner_conn = NULL;
      c->relay->frames_in_flight--;
      if (src->rx.txn != NULL)
        {
          g_hash_table_steal (c->txns, src->rx.txn->out_tid);
          txn_free (src->rx.txn);
          src->rx.txn = NULL;
        }
      forward_failed (src, MSRP_STATUS_REQUEST_TIMEOUT,
                      "next hop connection closed mid-message");
    }
  flush_ctrl (c);
  g_queue_clear_full (&c->ctrl, (GDestroyNotify) g_bytes_unref);
  c->ctrl_bytes = 0;
  while ((w = g_queue_pop_head (&c->waiters)) != NULL)
    {
      if (!w->detached && w->rx.block == BLOCK_START && w->rx.out == c)
        forward_failed (w, MSRP_STATUS_REQUEST_TIMEOUT,
                        "next hop connection closed");
      conn_unref (w);
    }
}

/* The transactions forwarded on @c will get no response from its peer:
 * what their senders are owed (RFC 4976 section 6.4.1). */
static void
txns_gone (Conn *c)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, c->txns);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Txn *t = value;

      g_hash_table_iter_steal (&it);
      if (!t->answered)
        txn_unanswered (t, FALSE);
      txn_free (t);
    }
}

/* The sessions bound to @c: client sessions die with their connection (RFC
 * 4976 section 6.3); pre-authorised ones belong to the negotiator: they
 * are unbound, and a connect under way on @c has failed. */
static void
sessions_gone (Conn *c)
{
  while (c->sessions->len > 0)
    {
      Session *s = c->sessions->pdata[c->sessions->len - 1];

      if (s->kind != SESSION_PREAUTH)
        {
          session_remove (s, "session_closed", "connection closed");
          continue;
        }
      if (s->connect != NULL)
        connect_finish (s, connect_result_at_close (s, c),
                        c->close_detail != NULL ? c->close_detail
                                                : "connection closed");
      session_unbind (s, c->close_reason != NULL ? c->close_reason
                                                 : "connection closed");
    }
}

/* The inbound @c no longer counts toward the connection limits. */
static void
limits_release (Conn *c)
{
  GwRelay *r = c->relay;
  guint n;

  if (!c->inbound || c->peer_ip == NULL)
    return;
  n = GPOINTER_TO_UINT (g_hash_table_lookup (r->per_ip, c->peer_ip));
  if (n <= 1)
    g_hash_table_remove (r->per_ip, c->peer_ip);
  else
    g_hash_table_insert (r->per_ip, g_strdup (c->peer_ip),
                         GUINT_TO_POINTER (n - 1));
  r->n_inbound--;
}

/* Release everything the relay keeps about @c (its frames, waits,
 * transactions and sessions); the NetConn itself is the caller's.  The
 * order matters: what @c was sending ends before @c is marked detached
 * (the writers it used go on with others), what was sent toward it after
 * (its senders must see it gone). */
static void
conn_detach (Conn *c)
{
  GwRelay *r = c->relay;

  if (c->detached)
    return;
  conn_ref (c);
  reader_gone (c);
  party_wait_leave (c);
  c->detached = TRUE;
  g_hash_table_remove (r->conns, c);
  messages_gone (c);
  rx_clear (&c->rx);
  writer_gone (c);
  txns_gone (c);
  sessions_gone (c);
  pool_forget (c);
  peers_forget (c);
  probation_end (c);
  limits_release (c);
  if (c->resolving != NULL)
    g_cancellable_cancel (c->resolving);
  g_clear_pointer (&c->pending, g_bytes_unref);
  conn_unref (c);
}

/* Release the NetConn and the reference it stood for. */
static void
conn_release_gw (Conn *c)
{
  if (c->gw != NULL)
    net_conn_set_callbacks (c->gw, NULL, NULL, NULL);
  g_clear_pointer (&c->gw, net_conn_unref);
  conn_unref (c);
}

/* The relay closes @c: @reason (stable, snake_case) goes to the log.
 * @graceful: flush what is queued (a last response) and close with FIN;
 * on_closed logs it.  Otherwise close at once. */
static void
conn_drop (Conn *c, const char *reason, const char *detail, gboolean graceful)
{
  if (c->detached)
    return;
  g_free (c->close_reason);
  c->close_reason = g_strdup (reason);
  g_free (c->close_detail);
  c->close_detail = g_strdup (detail);
  conn_detach (c);
  if (graceful && c->gw != NULL &&
      net_conn_get_state (c->gw) != NET_CONN_STATE_CLOSED)
    {
      /* on_closed comes once the queue is flushed; the relay aborts it if it
       * goes first. */
      g_hash_table_add (c->relay->closing, c);
      net_conn_close (c->gw);
      return;
    }
  conn_log_closed (c, reason, detail);
  if (c->gw != NULL)
    net_conn_abort (c->gw, FALSE);
  conn_release_gw (c);
}

/* --- peers reached over their own connection ---------------------------- */

/* RFC 4975 section 5.4 (and RFC 6135 section 4.2.2): the connection a peer
 * opened carries the session both ways.  So a peer that connects to us to
 * reach a session of ours (an a=setup:active party, whose SDP port is 9) is
 * reached back over that connection while it lives: the session's owner
 * names the peer as the next hop, and we would otherwise connect to its
 * URI.  The key holds what section 6.1 compares, and nothing else: the
 * scheme, the host (canonical: case and percent-encoding normalised,
 * addresses by value, a name never equal to an address), the port only
 * when one is written (rule 3), the session-id (case-sensitive, absent !=
 * empty), the transport (lower-case); not the userinfo, nor parameters.
 * It is scoped to our session, so one party's connection is never used for
 * another session's traffic. */
static char *
peer_key (Session *s, MsrpUri *u)
{
  const char *sid = msrp_uri_get_session_id (u);

  return g_strdup_printf (
      "%s %s %d %s %u %s%s %s", s->id,
      msrp_uri_get_scheme (u) == MSRP_SCHEME_MSRPS ? "msrps" : "msrp",
      (int) msrp_uri_get_host_type (u), msrp_uri_get_host (u),
      msrp_uri_get_port (u), sid != NULL ? "/" : "-", sid != NULL ? sid : "",
      msrp_uri_get_transport (u));
}

/* Has @c proven that the peer at its other end is the one @u names?  Only
 * a TLS connection whose peer certificate verified and is valid for @u's
 * host: RFC 5923 section 5 lets a connection carry requests backwards only
 * when both ends were authenticated by TLS.  Anyone can write any URI
 * into From-Path, so a plain TCP connection proves nothing, and the relay
 * connects to the URI as RFC 4975 section 6.1 says.  (A negotiator
 * party's connection is vouched for by signalling instead: it is bound to
 * its pre-authorised session, not learnt here.) */
static gboolean
conn_speaks_for (Conn *c, MsrpUri *u)
{
  return c->gw != NULL &&
         net_conn_peer_certificate_matches (c->gw, msrp_uri_get_host (u));
}

/* A request toward @s came in on @c from the peer @u (its From-Path, of
 * one URI).  The first connection to claim a peer keeps it while it lives:
 * a later one cannot take the peer's traffic over. */
static void
peers_learn (Conn *c, Session *s, MsrpUri *u)
{
  GwRelay *r = c->relay;
  g_autofree char *key = peer_key (s, u);
  Conn *old = g_hash_table_lookup (r->peers, key);

  if (old == c || (old != NULL && conn_open (old)))
    return;
  if (c->peer_keys->len >= MAX_PEERS_PER_CONN)
    {
      const char *oldest = c->peer_keys->pdata[0];

      if (g_hash_table_lookup (r->peers, oldest) == c)
        g_hash_table_remove (r->peers, oldest);
      g_ptr_array_remove_index (c->peer_keys, 0);
    }
  g_hash_table_replace (r->peers, g_strdup (key), c);
  g_ptr_array_add (c->peer_keys, g_steal_pointer (&key));
}

/* The open connection over which the peer @u of @s reached us, or NULL. */
static Conn *
peers_find (GwRelay *r, Session *s, MsrpUri *u)
{
  g_autofree char *key = peer_key (s, u);
  Conn *c = g_hash_table_lookup (r->peers, key);

  return c != NULL && conn_open (c) ? c : NULL;
}

static void
peers_forget (Conn *c)
{
  for (guint i = 0; i < c->peer_keys->len; i++)
    {
      const char *key = c->peer_keys->pdata[i];

      if (g_hash_table_lookup (c->relay->peers, key) == c)
        g_hash_table_remove (c->relay->peers, key);
    }
  g_ptr_array_set_size (c->peer_keys, 0);
}

/* --- outbound connections (the next-hop pool) ---------------------------- */

static const NetConnCallbacks conn_callbacks;

static char *
pool_key (MsrpUri *u)
{
  gboolean v6 = msrp_uri_get_host_type (u) == MSRP_HOST_IPV6;

  return g_strdup_printf (
      "%s://%s%s%s:%u",
      msrp_uri_get_scheme (u) == MSRP_SCHEME_MSRPS ? "msrps" : "msrp",
      v6 ? "[" : "", msrp_uri_get_host (u), v6 ? "]" : "",
      msrp_uri_get_effective_port (u));
}

static Conn *
conn_alloc (GwRelay *r)
{
  Conn *c = g_new0 (Conn, 1);

  c->ref = 1; /* the connection's own, released with the NetConn */
  c->relay = r;
  c->created = g_get_monotonic_time ();
  c->parser = msrp_parser_new_full (&r->limits);
  c->open_msgs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                        (GDestroyNotify) msg_unref);
  c->txns = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                   (GDestroyNotify) txn_free);
  c->sessions = g_ptr_array_new ();
  c->peer_keys = g_ptr_array_new_with_free_func (g_free);
  g_queue_init (&c->waiters);
  g_queue_init (&c->ctrl);
  g_hash_table_add (r->conns, c);
  return c;
}

/* @c runs on @gw (transfer full) from now on, in place of the NetConn it
 * had: its id, and its callbacks. */
static void
conn_attach (Conn *c, NetConn *gw)
{
  g_clear_pointer (&c->gw, net_conn_unref);
  c->gw = gw;
  c->id = net_conn_get_id (gw);
  net_conn_set_callbacks (gw, &conn_callbacks, c, NULL);
}

/* Try the next resolved address; FALSE when none is left. */
static gboolean
connect_next (Conn *c, GError **last_error)
{
  GwRelay *r = c->relay;

  while (c->addresses != NULL)
    {
      g_autoptr (GSocketAddress) sa = NULL;
      GInetAddress *ia = c->addresses->data;
      g_autoptr (GError) error = NULL;
      NetConn *gw;

      c->addresses = g_list_delete_link (c->addresses, c->addresses);
      sa = g_inet_socket_address_new (ia, c->peer_port);
      g_object_unref (ia);
      if (c->scheme == MSRP_SCHEME_MSRPS && r->client_tls == NULL)
        {
          g_set_error (last_error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
                       "no TLS context for msrps next hops");
          return FALSE;
        }
      gw = net_conn_connect (
          sa, c->scheme == MSRP_SCHEME_MSRPS ? r->client_tls : NULL,
          c->peer_host, &r->conn_options, &error);
      if (gw == NULL)
        {
          g_clear_error (last_error);
          g_propagate_error (last_error, g_steal_pointer (&error));
          continue;
        }
      conn_attach (c, gw);
      g_free (c->peer);
      c->peer = net_addr_to_string (sa);
      session_log_bindings (c);
      return TRUE;
    }
  return FALSE;
}

static void
outbound_failed (Conn *c, const char *detail)
{
  conn_drop (c, "connect_failed", detail, FALSE);
}

static void
on_resolved (GObject *source, GAsyncResult *res, gpointer data)
{
  Conn *c = data;
  g_autoptr (GError) error = NULL;
  GList *addrs =
      g_resolver_lookup_by_name_finish (G_RESOLVER (source), res, &error);

  if (!c->detached)
    {
      g_clear_object (&c->resolving);
      if (addrs == NULL)
        {
          g_autofree char *detail = g_strdup_printf (
              "cannot resolve %s: %s", c->peer_host, error->message);

          outbound_failed (c, detail);
        }
      else
        {
          c->addresses = g_steal_pointer (&addrs);
          if (!connect_next (c, &error))
            {
              g_autofree char *detail = g_strdup_printf (
                  "cannot connect to %s: %s", c->peer_host,
                  error != NULL ? error->message : "no address");

              outbound_failed (c, detail);
            }
        }
    }
  g_resolver_free_addresses (addrs);
  conn_unref (c);
}

/* A new outbound connection to @u's host and port with @u's scheme, not
 * connecting yet (outbound_start()): first what is known of it, so that a
 * session can be bound to it and a frame queued on it before the connect
 * can fail.  @dedicated (nullable): the session it is made for, named in
 * the log; NULL for the next-hop pool. */
static Conn *
outbound_new (GwRelay *r, MsrpUri *u, Session *dedicated)
{
  Conn *c = conn_alloc (r);
  gboolean v6 = msrp_uri_get_host_type (u) == MSRP_HOST_IPV6;
  g_autoptr (GwLogEvent) ev = NULL;

  c->inbound = FALSE;
  c->succeeded = TRUE;
  c->scheme = msrp_uri_get_scheme (u);
  c->peer_host = g_strdup (msrp_uri_get_host (u));
  c->peer_port = msrp_uri_get_effective_port (u);
  c->peer = g_strdup_printf ("%s%s%s:%u", v6 ? "[" : "", c->peer_host,
                             v6 ? "]" : "", c->peer_port);

  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "connection_opening");
  gw_log_event_add_str (ev, "peer", c->peer);
  gw_log_event_add_str (ev, "transport",
                        c->scheme == MSRP_SCHEME_MSRPS ? "tls" : "tcp");
  if (dedicated == NULL)
    {
      g_autofree char *key = pool_key (u);

      gw_log_event_emit (ev, "connecting to next hop %s", key);
      return c;
    }
  gw_log_event_add_str (ev, "session", dedicated->id);
  if (dedicated->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", dedicated->call_id);
  gw_log_event_emit (ev, "connecting to party %s of session %s",
                     msrp_uri_get_text (u), dedicated->id);
  return c;
}

/* Connect the outbound @c: at once to an IP literal, after resolving a
 * name without blocking; each address in turn (connect_next()).  FALSE
 * when it failed at once: @c is dropped (connection_closed, and a connect
 * of a session bound to it ends). */
static gboolean
outbound_start (Conn *c)
{
  g_autoptr (GInetAddress) ia = g_inet_address_new_from_string (c->peer_host);

  if (ia != NULL)
    {
      g_autoptr (GError) error = NULL;

      c->addresses = g_list_append (NULL, g_steal_pointer (&ia));
      if (!connect_next (c, &error))
        {
          outbound_failed (c, error != NULL ? error->message : "no address");
          return FALSE;
        }
    }
  else
    {
      g_autoptr (GResolver) resolver = g_resolver_get_default ();

      c->resolving = g_cancellable_new ();
      g_resolver_lookup_by_name_async (resolver, c->peer_host, c->resolving,
                                       on_resolved, conn_ref (c));
    }
  return TRUE;
}

/* The pooled connection to the next hop @u (RFC 4975 section 6.1, RFC 5923:
 * one connection per scheme, host and port, shared by every session),
 * made when there is none.  NULL when it failed at once. */
static Conn *
pool_get (GwRelay *r, MsrpUri *u)
{
  g_autofree char *key = pool_key (u);
  Conn *c = g_hash_table_lookup (r->pool, key);

  if (c != NULL)
    return c;
  c = outbound_new (r, u, NULL);
  c->pool_key = g_strdup (key);
  g_hash_table_insert (r->pool, g_steal_pointer (&key), c);
  if (!outbound_start (c))
    return NULL;
  return c;
}

/* The outbound @c failed to connect for @reason: TRUE when another
 * address of the next hop is being tried (it may answer). */
static gboolean
pool_try_next (Conn *c, NetConnCloseReason reason)
{
  g_autoptr (GError) error = NULL;

  if (c->inbound || c->owner_conn != NULL || c->addresses == NULL ||
      (reason != NET_CONN_CLOSED_CONNECT_FAILED &&
       reason != NET_CONN_CLOSED_REFUSED))
    return FALSE;
  return connect_next (c, &error);
}

/* @c is going: no longer the pooled connection to its next hop. */
static void
pool_forget (Conn *c)
{
  GwRelay *r = c->relay;

  if (c->pool_key != NULL && g_hash_table_lookup (r->pool, c->pool_key) == c)
    g_hash_table_remove (r->pool, c->pool_key);
}

/* --- NetConn callbacks ------------------------------------------------------
 */

static void conn_feed (Conn *c, const guint8 *data, gsize len);

static void
on_connected (NetConn *gw, gpointer data)
{
  Conn *c = data;

  if (c->detached)
    return;
  session_conn_up (c);
  if (!c->inbound)
    {
      g_autoptr (GwLogEvent) ev =
          gw_log_event_new (G_LOG_LEVEL_INFO, "connection_opened");

      gw_log_event_add_int (ev, "conn", (gint64) c->id);
      gw_log_event_add_str (ev, "peer", c->peer);
      gw_log_event_add_str (ev, "local", net_conn_get_local_address (gw));
      gw_log_event_add_str (ev, "transport", net_conn_get_transport_name (gw));
      gw_log_event_emit (ev, "connected to next hop %s", c->peer);
    }
  flush_ctrl (c);
  out_pump (c);
}

static void
on_data (NetConn *gw, const guint8 *data, gsize len, gpointer user_data)
{
  Conn *c = user_data;

  if (c->detached)
    return;
  conn_ref (c);
  conn_feed (c, data, len);
  conn_unref (c);
}

static void
on_drained (NetConn *gw, gpointer data)
{
  Conn *c = data;

  if (c->detached)
    return;
  if (c->owner_conn != NULL && c->owner_conn->rx.block == BLOCK_DRAIN)
    kick (c->owner_conn);
  if (c->rx.block == BLOCK_SELF)
    kick (c);
  out_pump (c);
}

static void
on_closed (NetConn *gw, NetConnCloseReason reason, const GError *error,
           gpointer data)
{
  Conn *c = data;

  if (!c->detached && pool_try_next (c, reason))
    return;
  if (!c->detached)
    {
      c->net_closed = TRUE;
      c->net_close = reason;
      g_free (c->close_reason);
      c->close_reason = g_strdup (net_conn_close_reason_to_string (reason));
      g_free (c->close_detail);
      c->close_detail = g_strdup (error->message);
      conn_detach (c);
    }
  g_hash_table_remove (c->relay->closing, c);
  conn_log_closed (c, c->close_reason, c->close_detail);
  conn_release_gw (c);
}

static const NetConnCallbacks conn_callbacks = {
  .on_connected = on_connected,
  .on_data = on_data,
  .on_drained = on_drained,
  .on_closed = on_closed,
};

/* --- reading: AUTH ------------------------------------------------------ */

static void
auth_failed_log (Conn *c, const char *user, const char *reason)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_MESSAGE, "auth_failed");

  gw_log_event_add_int (ev, "conn", (gint64) c->id);
  gw_log_event_add_str (ev, "peer", conn_peer (c));
  if (user != NULL)
    gw_log_event_add_str (ev, "user", user);
  gw_log_event_add_str (ev, "reason", reason);
  gw_log_event_add_int (ev, "failures", c->auth_failures);
  gw_log_event_emit (ev, "AUTH from %s failed%s%s: %s", conn_peer (c),
                     user != NULL ? " for " : "", user != NULL ? user : "",
                     reason);
}

/* 401 with one Digest challenge per algorithm, SHA-256 first (RFC 7616
 * section 3.7: most preferred first), or only @only when it is not
 * MSRP_DIGEST_ALGORITHM_UNKNOWN. */
static void
send_challenge (Conn *c, MsrpHead *h, gboolean stale, MsrpDigestAlgorithm only)
{
  GwRelay *r = c->relay;
  gint64 now = now_real (r);
  g_autoptr (GError) error = NULL;
  g_autofree char *sha = NULL;
  g_autofree char *md5 = NULL;

  if (only != MSRP_DIGEST_ALGORITHM_MD5)
    sha = msrp_digest_server_challenge (r->digest, r->realm,
                                        MSRP_DIGEST_ALGORITHM_SHA256, stale,
                                        NULL, now, &error);
  if (only != MSRP_DIGEST_ALGORITHM_SHA256 && error == NULL)
    md5 = msrp_digest_server_challenge (r->digest, r->realm,
                                        MSRP_DIGEST_ALGORITHM_MD5, stale, NULL,
                                        now, &error);
  if (error != NULL)
    {
      auth_failed_log (c, NULL, error->message);
      respond (c, h, 500, "cannot make a Digest challenge", NULL);
      return;
    }
  respond (c, h, MSRP_STATUS_UNAUTHORIZED, NULL, "WWW-Authenticate",
           sha != NULL ? sha : md5, "WWW-Authenticate",
           sha != NULL ? md5 : NULL, NULL);
}

/* One session per successful AUTH, within the caps: more would let one
 * password (or one connection) hold the relay's memory.  TRUE when a cap
 * is reached: then a 403 went back (section 6.3: "If the client is not
 * authorized, the relay returns a 403") and session_limit is logged. */
static gboolean
session_cap_reached (Conn *c, MsrpHead *h, SessionKind kind, const char *user)
{
  GwRelay *r = c->relay;
  g_autoptr (GwLogEvent) ev = NULL;
  g_autofree char *comment = NULL;
  const char *limit = NULL;

  if (kind == SESSION_CLIENT &&
      conn_client_sessions (c) >= r->max_sessions_per_conn)
    limit = "max-sessions-per-connection";
  else if (GPOINTER_TO_UINT (g_hash_table_lookup (r->user_sessions, user)) >=
           r->max_sessions_per_user)
    limit = "max-sessions-per-user";
  if (limit == NULL)
    return FALSE;
  ev = gw_log_event_new (G_LOG_LEVEL_MESSAGE, "session_limit");
  gw_log_event_add_int (ev, "conn", (gint64) c->id);
  gw_log_event_add_str (ev, "peer", conn_peer (c));
  gw_log_event_add_str (ev, "user", user);
  gw_log_event_add_str (ev, "limit", limit);
  gw_log_event_emit (ev, "%s authenticated, but has too many sessions (%s)",
                     user, limit);
  comment = g_strdup_printf ("too many sessions (%s)", limit);
  respond (c, h, MSRP_STATUS_FORBIDDEN, comment, NULL);
  return TRUE;
}

/* The Use-Path of a session @s granted to the AUTH @h: the relays between
 * the client and us, nearest the client first, then ours (RFC 4976 section
 * 5.1: "B C" for client A behind B and C). */
static char *
use_path (MsrpHead *h, Session *s)
{
  GPtrArray *from = msrp_head_get_from_path (h);
  GString *path = g_string_new (NULL);

  for (guint i = from->len - 1; i > 0; i--)
    {
      g_string_append (path, msrp_uri_get_text (from->pdata[i - 1]));
      g_string_append_c (path, ' ');
    }
  g_string_append (path, msrp_uri_get_text (s->uri));
  return g_string_free (path, FALSE);
}

/* Grant a session to the AUTH @h on @c: 200 with Use-Path, Expires and
 * (Digest) Authentication-Info (RFC 4976 sections 5.1 and 6.3). */
static void
grant (Conn *c, MsrpHead *h, SessionKind kind, const char *user,
       const char *relay_host, guint expires, const char *auth_info)
{
  GwRelay *r = c->relay;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *expires_text = g_strdup_printf ("%u", expires);
  g_autoptr (GwLogEvent) ev = NULL;
  MsrpScheme scheme = c->scheme;
  guint16 port = c->local_port;
  Session *s;

  if (session_cap_reached (c, h, kind, user))
    return;
  if (!c->inbound)
    {
      /* An AUTH on a connection we opened: name our first listener. */
      Listener *l = r->listeners->len > 0 ? r->listeners->pdata[0] : NULL;

      scheme = l != NULL ? l->scheme : MSRP_SCHEME_MSRP;
      port = l != NULL ? l->port : MSRP_DEFAULT_PORT;
    }
  s = session_new (r, kind, scheme, port, expires, &error);
  if (s == NULL)
    {
      respond (c, h, 500, "cannot make a session", NULL);
      return;
    }
  s->user = g_strdup (user);
  user_sessions_add (r, user, 1);
  s->relay_host = g_strdup (relay_host);
  if (kind == SESSION_CLIENT)
    session_bind (s, c);
  path = use_path (h, s);
  respond (c, h, MSRP_STATUS_OK, NULL, "Use-Path", path, "Authentication-Info",
           auth_info, "Expires", expires_text, NULL);
  note_success (c);
  c->auth_failures = 0;

  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "auth_ok");
  gw_log_event_add_int (ev, "conn", (gint64) c->id);
  gw_log_event_add_str (ev, "user", user);
  gw_log_event_add_str (ev, "session", s->id);
  gw_log_event_add_int (ev, "expires", expires);
  gw_log_event_add_str (ev, "method",
                        kind == SESSION_RELAY ? "tls" : "digest");
  gw_log_event_emit (ev, "%s authenticated, session %s for %u s", user, s->id,
                     expires);
  session_log (s, "session_created", NULL);
}

/* A Digest failure: 401 again, and close the connection after
 * GW_RELAY_MAX_AUTH_FAILURES (RFC 4976 section 6.3: "If a relay receives
 * several unsuccessful AUTH requests from a client ... the relay SHOULD
 * terminate the corresponding connection"). */
static void
auth_failure (Conn *c, MsrpHead *h, const char *user, const char *reason,
              guint code)
{
  /* Counted only where the previous hop is the client itself: "a relay
   * SHOULD NOT use excessive AUTH request failures as a reason to terminate
   * a connection with another relay". */
  gboolean from_client = msrp_head_get_from_path (h)->len == 1;

  if (from_client)
    c->auth_failures++;
  auth_failed_log (c, user, reason);
  if (code == MSRP_STATUS_UNAUTHORIZED)
    send_challenge (c, h, FALSE, MSRP_DIGEST_ALGORITHM_UNKNOWN);
  else
    respond (c, h, code, NULL, NULL);
  if (from_client && c->auth_failures >= GW_RELAY_MAX_AUTH_FAILURES &&
      !c->succeeded)
    {
      g_autofree char *detail =
          g_strdup_printf ("%u failed AUTH requests", c->auth_failures);

      conn_drop (c, "auth_failed", detail, TRUE);
      return;
    }
  note_failure (c);
}

/* The Expires to grant to the authenticated AUTH @h: the one asked for
 * within [expires-min, expires-max], expires-default without one.  FALSE
 * after a 423 with Min-Expires or Max-Expires (RFC 4976 sections 4.6 and
 * 6.3: "return an error containing a Min-Expires or Max-Expires header, as
 * appropriate"). */
static gboolean
auth_expires (Conn *c, MsrpHead *h, guint *expires)
{
  GwRelay *r = c->relay;
  guint32 asked = 0;
  g_autofree char *bound = NULL;
  gboolean low;

  if (!msrp_head_get_expires (h, MSRP_HEADER_EXPIRES, &asked))
    {
      *expires = r->expires_default;
      return TRUE;
    }
  if (asked >= r->expires_min && asked <= r->expires_max)
    {
      *expires = asked;
      return TRUE;
    }
  low = asked < r->expires_min;
  bound = g_strdup_printf ("%u", low ? r->expires_min : r->expires_max);
  respond (c, h, MSRP_STATUS_INTERVAL_OUT_OF_BOUNDS, NULL,
           low ? "Min-Expires" : "Max-Expires", bound, NULL);
  note_failure (c);
  return FALSE;
}

/* The host of the relay the AUTH @h on @c comes through, when that relay
 * authenticated with mutual TLS, else NULL.  Section 6.3: "the first thing
 * it does is to authenticate and authorize the previous hop and the client
 * at the far end".  A previous hop that is a relay authenticates with a
 * certificate that verified and matches the host of the first From-Path
 * URI; the client behind it still answers our Digest challenge, which
 * travels back through that relay (section 5.1, the AUTH to
 * extra.example.com).  Its session is then a relay session, valid on any
 * connection to that relay. */
static const char *
auth_relay_host (Conn *c, MsrpHead *h)
{
  GPtrArray *from = msrp_head_get_from_path (h);

  if (from->len >= 2 && c->gw != NULL &&
      net_conn_get_peer_subject (c->gw) != NULL &&
      net_conn_peer_certificate_matches (c->gw,
                                         msrp_uri_get_host (from->pdata[0])))
    return msrp_uri_get_host (from->pdata[0]);
  return NULL;
}

/* The credentials @creds of the AUTH @h did not verify (@result): a new
 * challenge for the other algorithm, or a failure. */
static void
auth_not_verified (Conn *c, MsrpHead *h, MsrpDigestCredentials *creds,
                   const char *ha1, MsrpDigestResult result)
{
  GwRelay *r = c->relay;
  const char *user = msrp_digest_credentials_get_username (creds);
  MsrpDigestAlgorithm used = msrp_digest_credentials_get_algorithm (creds);
  MsrpDigestAlgorithm other = used == MSRP_DIGEST_ALGORITHM_MD5
                                  ? MSRP_DIGEST_ALGORITHM_SHA256
                                  : MSRP_DIGEST_ALGORITHM_MD5;
  g_autofree char *reason = NULL;

  /* A user provisioned for the other algorithm only (an htdigest file has
   * MD5 lines only, and clients take the first challenge they can,
   * SHA-256): challenge again with that one alone.  No password was
   * checked, so it is not a failure, and stale=true says so to the client
   * ("retry ... without reprompting the user", RFC 7616 section 3.3) and to
   * relays before us, which count a 401 without it as a failure (RFC 4976
   * section 6.3). */
  if (ha1 == NULL && r->users != NULL &&
      used != MSRP_DIGEST_ALGORITHM_UNKNOWN &&
      gw_users_lookup (r->users, user, r->realm, other, NULL) != NULL)
    {
      send_challenge (c, h, TRUE, other);
      return;
    }
  reason = g_strdup_printf (
      "%s%s", msrp_digest_result_to_string (result),
      ha1 == NULL ? " (no such user for this realm and algorithm)" : "");
  auth_failure (c, h, user, reason, MSRP_STATUS_UNAUTHORIZED);
}

/* An AUTH addressed to this relay (RFC 4976 section 6.3). */
static void
handle_auth (Conn *c)
{
  GwRelay *r = c->relay;
  MsrpHead *h = c->rx.head;
  GPtrArray *to = msrp_head_get_to_path (h);
  const char *digest_uri = msrp_uri_get_text (to->pdata[to->len - 1]);
  const char *relay_host = auth_relay_host (c, h);
  const char *value = msrp_head_find (h, MSRP_HEADER_AUTHORIZATION, NULL);
  g_autoptr (MsrpDigestCredentials) creds = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *auth_info = NULL;
  const char *user, *ha1 = NULL;
  gboolean locked = FALSE;
  guint expires = 0;
  MsrpDigestResult result;

  if (value == NULL)
    {
      /* Section 5.1: "In response to an AUTH request that does not contain an
       * Authorization header, a relay MUST respond with a 401".  The first
       * step of every AUTH, not a failure; a connection that never gets
       * further meets the probation deadline. */
      send_challenge (c, h, FALSE, MSRP_DIGEST_ALGORITHM_UNKNOWN);
      return;
    }
  creds = msrp_digest_credentials_parse (value, strlen (value), &error);
  if (creds == NULL)
    {
      auth_failure (c, h, NULL, error->message, MSRP_STATUS_UNAUTHORIZED);
      return;
    }
  user = msrp_digest_credentials_get_username (creds);
  if (r->users != NULL)
    ha1 = gw_users_lookup (r->users, user, r->realm,
                           msrp_digest_credentials_get_algorithm (creds),
                           &locked);
  result =
      msrp_digest_server_verify (r->digest, creds, MSRP_DIGEST_METHOD_AUTH,
                                 digest_uri, r->realm, ha1, now_real (r));
  if (result == MSRP_DIGEST_RESULT_STALE_NONCE)
    {
      /* Right password, old nonce: a new challenge, not a failure. */
      send_challenge (c, h, TRUE, MSRP_DIGEST_ALGORITHM_UNKNOWN);
      return;
    }
  if (result != MSRP_DIGEST_RESULT_OK)
    {
      auth_not_verified (c, h, creds, ha1, result);
      return;
    }
  if (locked)
    {
      /* Authenticated, but not allowed to use the relay (section 6.3: "If
       * the client is not authorized, the relay returns a 403"). */
      auth_failure (c, h, user, "user is locked in the users file",
                    MSRP_STATUS_FORBIDDEN);
      return;
    }
  if (!auth_expires (c, h, &expires))
    return;
  auth_info = msrp_digest_server_authentication_info (
      r->digest, creds, digest_uri, ha1, TRUE, now_real (r), &error);
  grant (c, h, relay_host != NULL ? SESSION_RELAY : SESSION_CLIENT, user,
         relay_host, expires, auth_info);
}

/* --- reading: responses (RFC 4976 section 6.4.3) ------------------------- */

static gboolean
challenge_is_stale (MsrpHead *h)
{
  guint n = msrp_head_get_n_headers (h);

  for (guint i = 0; i < n; i++)
    {
      MsrpHeaderId id;
      const char *value;
      g_autoptr (MsrpDigestChallenge) ch = NULL;

      msrp_head_get_header (h, i, &id, NULL, &value);
      if (id != MSRP_HEADER_WWW_AUTHENTICATE)
        continue;
      ch = msrp_digest_challenge_parse (value, strlen (value), NULL);
      if (ch != NULL && msrp_digest_challenge_get_stale (ch))
        return TRUE;
    }
  return FALSE;
}

/* Is the response @h on @c the answer to the binding SEND of a
 * gw_relay_connect_session() (RFC 6135 section 4.2.2)?  Then that connect
 * ends with it. */
static gboolean
binding_answered (Conn *c, MsrpHead *h)
{
  Session *s = conn_connecting_session (c);
  guint code = msrp_head_get_status_code (h);
  const char *comment = msrp_head_get_comment (h);
  g_autofree char *detail = NULL;

  if (s == NULL ||
      g_strcmp0 (s->connect->tid, msrp_head_get_transaction_id (h)) != 0)
    return FALSE;
  if (code == MSRP_STATUS_OK)
    {
      connect_finish (s, GW_RELAY_CONNECT_OK, NULL);
      return TRUE;
    }
  detail = g_strdup_printf (
      "the party answered the binding SEND with %03u%s%s", code,
      comment != NULL ? " " : "", comment != NULL ? comment : "");
  bind_failed (s, detail);
  return TRUE;
}

/* The next hop answered the SEND of @t with @h (hop by hop): the
 * message's outcome, and a REPORT to its sender (RFC 4976 section
 * 6.4.3). */
static void
send_answered (Txn *t, MsrpHead *h)
{
  guint code = msrp_head_get_status_code (h);

  if (t->msg != NULL && !msrp_status_is_success (code))
    {
      t->msg->acknowledged = FALSE;
      if (t->msg->fail_code == 0)
        t->msg->fail_code = code;
    }
  /* "If the response is a non 200 response, and the original request was a
   * SEND request that had a Failure-Report header with a value other than
   * "no", then the relay MUST send a REPORT". */
  if (msrp_status_failure_report_due ("SEND", t->failure_report, code))
    send_report (t->in, t->self_uri, t->from_path, t->message_id, t->has_range,
                 &t->range, t->body_len, code, msrp_head_get_comment (h));
}

/* Pass the response @h to the end-to-end request of @t back toward its
 * sender, by its To-Path (RFC 4976 section 6.4.3: "If there are additional
 * URIs in the To-Path header ... forward the response"), with the
 * transaction id @t got from the hop before us; dropped when that
 * connection has closed. */
static void
relay_response (Txn *t, MsrpHead *h)
{
  GwRelay *r = t->relay;
  GPtrArray *to = msrp_head_get_to_path (h);
  g_autoptr (GBytes) head = NULL;
  g_autoptr (GBytes) end = NULL;
  guint n_ours = 0;

  while (n_ours < to->len && uri_is_ours (r, to->pdata[n_ours]))
    n_ours++;
  if (n_ours == to->len || t->in->detached)
    return;
  head = forward_head (h, t->in_tid, n_ours,
                       paired_uri (r, to->pdata[n_ours - 1]));
  end = end_line (t->in_tid, FALSE, '$');
  send_small (t->in, head);
  send_small (t->in, end);
}

/* Count the answer @h to the AUTH of @t, which we forwarded.  Section 6.3:
 * "if a relay forwards several failed AUTH requests to the same
 * destination that originate from a client that is directly connected to
 * it ... the relay SHOULD terminate the corresponding connection", a
 * failure being a 401 without stale=TRUE to an AUTH with an Authorization
 * header; never toward another relay.  Returns: (transfer full)
 * (nullable): the client's connection, to close (auth_forwards_failed()). */
static Conn *
auth_forward_answered (Txn *t, MsrpHead *h)
{
  Conn *in = t->in;
  guint code = msrp_head_get_status_code (h);

  if (!t->auth_with_credentials || t->from_path->len != 1 || in->detached ||
      in->gw == NULL || net_conn_get_peer_subject (in->gw) != NULL)
    return NULL;
  if (msrp_status_is_success (code))
    {
      in->auth_failures = 0;
      return NULL;
    }
  if (code == MSRP_STATUS_UNAUTHORIZED && !challenge_is_stale (h) &&
      ++in->auth_failures >= GW_RELAY_MAX_AUTH_FAILURES)
    return conn_ref (in);
  return NULL;
}

/* Close @client (transfer full), which sent too many failed AUTHs to the
 * next hop @via. */
static void
auth_forwards_failed (Conn *client, Conn *via)
{
  g_autofree char *detail =
      g_strdup_printf ("%u failed AUTH requests forwarded to %s",
                       client->auth_failures, conn_peer (via));

  auth_failed_log (client, NULL, "failed AUTH requests forwarded");
  conn_drop (client, "auth_failed", detail, TRUE);
  conn_unref (client);
}

/* A response came on @c (RFC 4976 section 6.4.3). */
static void
handle_response (Conn *c)
{
  MsrpHead *h = c->rx.head;
  Txn *t;
  Conn *drop = NULL;

  /* "Relays receiving a response first verify that the first URI in the
   * To-Path corresponds to itself; if not, the response SHOULD be
   * dropped." */
  if (!uri_is_ours (c->relay, msrp_head_get_to_path (h)->pdata[0]))
    return;
  if (binding_answered (c, h))
    return;
  t = g_hash_table_lookup (c->txns, msrp_head_get_transaction_id (h));
  if (t == NULL || t->answered)
    return;
  t->answered = TRUE;
  if (g_strcmp0 (t->method, "SEND") == 0)
    {
      send_answered (t, h);
    }
  else
    {
      relay_response (t, h);
      drop = auth_forward_answered (t, h);
    }
  if (!t->frame_open)
    txn_finish (t);
  /* Last: closing it may free transactions, even this one. */
  if (drop != NULL)
    auth_forwards_failed (drop, c);
}

/* --- reading: routing a request (RFC 4976 sections 6.2 and 6.4) --------- */

/* Is the reader of @c to wait before it acts on a new frame?  Its
 * responses go back on @c, so they must not pile up. */
static gboolean
self_blocked (Conn *c)
{
  return (c->gw != NULL && net_conn_is_congested (c->gw)) ||
         c->ctrl_bytes > CTRL_LIMIT || c->n_origin_txns >= MAX_ORIGIN_TXNS;
}

/* Does @code refuse the request itself (RFC 4976 section 6.1: an
 * unsuccessful request, counted on probation), rather than report that the
 * next hop failed (408) or accept it (200)? */
static gboolean
is_refusal (guint code)
{
  return code == MSRP_STATUS_BAD_REQUEST || code == MSRP_STATUS_FORBIDDEN ||
         code == MSRP_STATUS_SESSION_DOES_NOT_EXIST;
}

static void
discard (Conn *c, guint code, const char *comment)
{
  c->rx.action = ACT_DISCARD;
  c->rx.code = code;
  g_free (c->rx.comment);
  c->rx.comment = g_strdup (comment);
}

/* The SEND on the inbound connection @c is addressed to @first: when that
 * is a paired pre-authorised session whose pair is unbound, and the SEND
 * comes from the pair's party (the last From-Path URI), bind the pair to
 * @c (RFC 6135 section 4.2.2: the active party's first SEND).  Knowing
 * @first's URI (random, handed to that party only in SDP) is what
 * authorises it. */
static void
bind_preauthorized (Conn *c, Session *first, MsrpHead *h)
{
  GPtrArray *from = msrp_head_get_from_path (h);
  Session *s = first->paired;

  if (first->kind != SESSION_PREAUTH || s == NULL || s->conn != NULL ||
      !msrp_uri_equal (s->party, from->pdata[from->len - 1]))
    return;
  session_bind_preauth (s, c);
}

/* Write the head of @c's frame to rx.out, which is free: the frame is in
 * flight from now on. */
static void
start_frame (Conn *c)
{
  Rx *rx = &c->rx;
  Conn *out = rx->out;
  MsrpHead *h = rx->head;
  const char *method = msrp_head_get_method (h);
  MsrpReportMode fr = msrp_head_get_failure_report (h);
  gboolean wants_response;

  out->owner_conn = c;
  c->relay->frames_in_flight++;
  net_conn_write (out->gw, rx->out_head);
  g_clear_pointer (&rx->out_head, g_bytes_unref);
  rx->started = TRUE;
  /* Responses to expect: a SEND's hop-by-hop one unless Failure-Report is
   * no (RFC 4975 section 7.1.4); none to a REPORT (section 7.1.2); an
   * end-to-end one to anything else (RFC 4976 section 6.4.2). */
  if (g_strcmp0 (method, "REPORT") == 0)
    wants_response = FALSE;
  else
    wants_response = fr != MSRP_REPORT_NO;
  if (wants_response)
    rx->txn = txn_new (c, out, h, rx->out_tid, rx->msg);
}

/* @c's frame is routed to rx.out: started now when that writer is free,
 * else queued in its FIFO (its reader waits meanwhile). */
static void
stream_forward (Conn *c)
{
  Conn *out = c->rx.out;

  if (out->owner_conn == NULL && g_queue_is_empty (&out->waiters) &&
      out_writable (out))
    {
      start_frame (c);
      return;
    }
  c->rx.block = BLOCK_START;
  g_queue_push_tail (&out->waiters, conn_ref (c));
}

/* Hand the free writer @out to the first frame waiting for it. */
static void
out_pump (Conn *out)
{
  Conn *w;

  while (out->owner_conn == NULL && out_writable (out) &&
         (w = g_queue_pop_head (&out->waiters)) != NULL)
    {
      if (!w->detached && w->rx.block == BLOCK_START && w->rx.out == out)
        {
          w->rx.block = BLOCK_NONE;
          start_frame (w);
          kick (w);
        }
      conn_unref (w);
    }
}

/* Hold @c's frame, and @c by not reading it, until a pre-authorised
 * session it goes toward is paired and its party bound (session_bind() and
 * gw_relay_pair_sessions() end the wait), for up to report-timeout from
 * the first try.  FALSE when that time is up. */
static gboolean
hold_for_party (Conn *c)
{
  GwRelay *r = c->relay;
  Rx *rx = &c->rx;
  gint64 now = g_get_monotonic_time ();

  if (rx->party_deadline == 0)
    rx->party_deadline = now + r->report_timeout_us;
  if (now >= rx->party_deadline)
    return FALSE;
  rx->block = BLOCK_PARTY;
  g_queue_push_tail (&r->party_waiters, conn_ref (c));
  c->party_link = r->party_waiters.tail;
  timer_update (r);
  return TRUE;
}

/* Where a request goes: to @target, with the first @n URIs of its To-Path
 * ours, and @last_as (nullable) in place of the last of ours in From-Path
 * (forward_head()). */
typedef struct
{
  Conn *target;
  guint n;
  MsrpUri *last_as;
} Route;

/* Toward the party of the pre-authorised session @s (relay fallback): only
 * from its pair's connection, and held while the party has not connected.
 * FALSE when the frame was refused or held instead. */
static gboolean
route_toward_party (Conn *c, Session *s, Route *rt)
{
  Rx *rx = &c->rx;
  gboolean is_send = is_method (rx->head, "SEND");

  if (s->paired == NULL)
    {
      /* An answerer that answered active may connect before the SIP proxy
       * has handed its answer to the negotiator, which pairs the sessions:
       * hold its frame as below until then. */
      if (!hold_for_party (c))
        discard (c, MSRP_STATUS_SESSION_DOES_NOT_EXIST,
                 "the session was not paired within report-timeout");
      return FALSE;
    }
  if (s->conn == c)
    {
      discard (c, MSRP_STATUS_FORBIDDEN,
               "a pre-authorised session relays only toward its own party");
      return FALSE;
    }
  if (s->paired->conn != c)
    {
      discard (c, MSRP_STATUS_FORBIDDEN,
               "not the connection of the session's paired party");
      return FALSE;
    }
  if (s->conn == NULL)
    {
      /* Its peer's binding SEND (bodiless) has done its job. */
      if (is_send && !rx->has_body)
        {
          discard (c, MSRP_STATUS_OK, NULL);
          note_success (c);
          return FALSE;
        }
      /* Both parties connect once they have the SDP, in no set order (RFC
       * 6135 section 4.2.2): hold the frame until the party binds. */
      if (!hold_for_party (c))
        discard (c, MSRP_STATUS_SESSION_DOES_NOT_EXIST,
                 "the party did not connect within report-timeout");
      return FALSE;
    }
  rt->target = s->conn;
  rt->last_as = s->paired->uri;
  if (is_send)
    {
      rx->from_sid = g_strdup (s->paired->id);
      rx->to_sid = g_strdup (s->id);
    }
  return TRUE;
}

/* From the side of @s's owner to @next, a next hop that is not ours: over
 * the connection that peer reached us by, when it proved it speaks for
 * @next, else the pooled one.  FALSE when the frame was refused. */
static gboolean
route_from_owner (Conn *c, Session *s, MsrpUri *next, Route *rt)
{
  rt->target = peers_find (c->relay, s, next);
  if (rt->target == NULL)
    rt->target = pool_get (c->relay, next);
  if (rt->target == NULL)
    {
      /* pool_get logged it; nothing was started */
      discard (c, MSRP_STATUS_REQUEST_TIMEOUT, "next hop unreachable");
      return FALSE;
    }
  return TRUE;
}

/* Toward the owner of @s, @next being the next To-Path URI: on the
 * client's connection, or to the relay that obtained the session.  FALSE
 * when the frame was refused. */
static gboolean
route_to_owner (Conn *c, Session *s, MsrpUri *next, Route *rt)
{
  if (s->kind != SESSION_RELAY)
    {
      rt->target = s->conn;
      return TRUE;
    }
  /* Section 6.4, case 1: the next hop must be the relay that obtained it. */
  if (g_ascii_strcasecmp (msrp_uri_get_host (next), s->relay_host) != 0)
    {
      discard (c, MSRP_STATUS_FORBIDDEN,
               "next hop is not the relay the session belongs to");
      return FALSE;
    }
  rt->target = pool_get (c->relay, next);
  if (rt->target == NULL)
    {
      discard (c, MSRP_STATUS_REQUEST_TIMEOUT, "next hop unreachable");
      return FALSE;
    }
  return TRUE;
}

/* Walk the To-Path of @c's request over the URIs of ours (section 6.4:
 * each must be a session this relay handed out; from the side of its
 * owner, the next URI is the next hop, maybe another of ours, processed
 * again; otherwise the request goes toward the owner).  FALSE when the
 * frame was refused or held instead. */
static gboolean
route_walk (Conn *c, Route *rt)
{
  GwRelay *r = c->relay;
  GPtrArray *to = msrp_head_get_to_path (c->rx.head);

  for (;;)
    {
      Session *s = session_find (r, to->pdata[rt->n]);

      if (s == NULL)
        {
          discard (c, MSRP_STATUS_SESSION_DOES_NOT_EXIST, NULL);
          return FALSE;
        }
      rt->n++;
      if (rt->n >= to->len)
        {
          discard (c, MSRP_STATUS_BAD_REQUEST, "To-Path ends at the relay");
          return FALSE;
        }
      if (s->kind == SESSION_PREAUTH)
        return route_toward_party (c, s, rt);
      if (!session_from_owner (s, c))
        return route_to_owner (c, s, to->pdata[rt->n], rt);
      if (!uri_is_ours (r, to->pdata[rt->n]))
        return route_from_owner (c, s, to->pdata[rt->n], rt);
    }
}

/* From a peer that connected to us, toward the owner of our session
 * @first: the owner's requests to that peer go back this way, when the
 * connection has proven that it speaks for the peer's URI.  Only a
 * From-Path of one URI names the other end of the connection; behind
 * another relay the sender is not there (and relays keep their own
 * connections). */
static void
route_learn_peer (Conn *c, Session *first)
{
  GPtrArray *from = msrp_head_get_from_path (c->rx.head);

  if (c->inbound && from->len == 1 && first->kind != SESSION_PREAUTH &&
      !session_from_owner (first, c) &&
      !uri_is_ours (c->relay, from->pdata[0]) &&
      conn_speaks_for (c, from->pdata[0]))
    peers_learn (c, first, from->pdata[0]);
}

/* Forward @c's request along @rt: a new transaction id for this hop
 * (section 6.4), the head rewritten, and the frame started on the target
 * now, or queued until it is free. */
static void
route_forward (Conn *c, Session *first, const Route *rt)
{
  Rx *rx = &c->rx;
  MsrpHead *h = rx->head;
  Conn *target = rt->target;
  g_autoptr (GError) error = NULL;

  if (!msrp_writer_fill_transaction_id (rx->out_tid, sizeof rx->out_tid,
                                        &error))
    {
      discard (c, 500, error->message);
      return;
    }
  rx->out_head = forward_head (h, rx->out_tid, rt->n, rt->last_as);
  rx->out = conn_ref (target);
  rx->action = ACT_FORWARD;
  route_learn_peer (c, first);
  if (is_method (h, "SEND") && msrp_head_get_message_id (h) != NULL)
    rx->msg = msg_chunk (c, h, first);
  note_success (c);
  stream_forward (c);
}

/* The headers of a request are in: route it (RFC 4976 sections 6.2 and
 * 6.4).  Sets rx.action, or blocks, or drops the connection. */
static void
route_request (Conn *c)
{
  GwRelay *r = c->relay;
  Rx *rx = &c->rx;
  MsrpHead *h = rx->head;
  GPtrArray *to = msrp_head_get_to_path (h);
  Session *first;
  Route rt = { 0 };

  /* Section 6.2: "If the request is not addressed to the relay, the relay
   * immediately drops the corresponding connection". */
  if (!uri_is_ours (r, to->pdata[0]))
    {
      g_autofree char *detail = g_strdup_printf (
          "%s request for %s, which is not this relay",
          msrp_head_get_method (h), msrp_uri_get_text (to->pdata[0]));

      conn_drop (c, "not_addressed_to_relay", detail, FALSE);
      return;
    }
  /* An AUTH whose To-Path is one URI of ours is for this relay (section
   * 5.1: "msrps://alice@intra.example.com;tcp"; with or without a session
   * id: the AUTH gets a new one either way). */
  if (is_method (h, "AUTH") && to->len == 1)
    {
      rx->action = ACT_AUTH;
      return;
    }
  /* Section 6.4: the first URI must be one this relay handed out. */
  first = session_find (r, to->pdata[0]);
  if (first == NULL)
    {
      discard (c, MSRP_STATUS_SESSION_DOES_NOT_EXIST, NULL);
      return;
    }
  if (is_method (h, "SEND") && c->inbound)
    bind_preauthorized (c, first, h);
  g_free (rx->session_id);
  rx->session_id = g_strdup (first->id);
  if (!route_walk (c, &rt))
    return;
  if (rt.n + msrp_head_get_from_path (h)->len > MSRP_URI_LIST_MAX)
    {
      discard (c, MSRP_STATUS_BAD_REQUEST, "From-Path would exceed 32 URIs");
      return;
    }
  route_forward (c, first, &rt);
}

/* HEADERS_END: decide what to do with the frame. */
static void
rx_dispatch (Conn *c)
{
  Rx *rx = &c->rx;

  if (!msrp_head_is_request (rx->head))
    {
      /* RFC 4976 section 6.4.3: "if the message cannot be parsed, the relay
       * MUST drop the response". */
      if (rx->head_error != NULL)
        discard (c, 0, NULL);
      else
        rx->action = ACT_RESPONSE;
      return;
    }
  if (rx->head_error != NULL)
    {
      discard (c, MSRP_STATUS_BAD_REQUEST, rx->head_error);
      return;
    }
  if (self_blocked (c))
    {
      rx->block = BLOCK_SELF;
      return;
    }
  route_request (c);
}

/* The frame from the paired party of @from_sid to that of @to_sid has
 * been passed on: counted per direction (GwRelaySessionInfo); a chunk
 * ending in '$' or '#' ends a message. */
static void
parties_count (GwRelay *r, const char *from_sid, const char *to_sid, char flag,
               guint64 body_len)
{
  Session *from = g_hash_table_lookup (r->sessions, from_sid);
  Session *to = g_hash_table_lookup (r->sessions, to_sid);

  if (from != NULL)
    {
      from->bytes_from += body_len;
      from->messages_from += flag != '+';
    }
  if (to != NULL)
    {
      to->bytes_to += body_len;
      to->messages_to += flag != '+';
    }
}

/* END of a frame streamed to rx.out: its end-line with the sender's @flag
 * goes out, the writer is free, and the report-timeout starts. */
static void
forward_end (Conn *c, char flag, guint64 body_len)
{
  Rx *rx = &c->rx;
  Conn *out = rx->out;
  g_autoptr (GBytes) end = end_line (rx->out_tid, rx->has_body, flag);

  write_bytes (out, end);
  if (rx->txn != NULL)
    {
      rx->txn->body_len = body_len;
      txn_frame_ended (rx->txn);
      rx->txn = NULL;
    }
  out_frame_done (out);
  /* RFC 4976 section 6.4.1: a SEND with Failure-Report yes gets its 200 at
   * once, from this hop only. */
  if (is_method (rx->head, "SEND"))
    respond_if_due (c, rx->head, MSRP_STATUS_OK, NULL);
  if (rx->msg != NULL)
    {
      rx->msg->bytes += body_len;
      if (flag == '#')
        msg_interrupt (rx->msg, "the sender aborted the message");
    }
  if (rx->to_sid != NULL)
    parties_count (c->relay, rx->from_sid, rx->to_sid, flag, body_len);
}

/* END of a frame whose body was dropped: the response due, if any. */
static void
discard_end (Conn *c, guint64 body_len)
{
  Rx *rx = &c->rx;

  if (rx->msg != NULL)
    rx->msg->bytes += body_len;
  if (rx->code != 0)
    respond_if_due (c, rx->head, rx->code, rx->comment);
  /* The request itself was refused (not a next hop's failure): an
   * unsuccessful request for the probation. */
  if (is_refusal (rx->code))
    note_failure (c);
}

/* END: the frame is complete. */
static void
rx_end (Conn *c, char flag, guint64 body_len)
{
  Rx *rx = &c->rx;

  rx->body_len = body_len;
  switch (rx->action)
    {
    case ACT_FORWARD:
      forward_end (c, flag, body_len);
      break;
    case ACT_DISCARD:
      discard_end (c, body_len);
      break;
    case ACT_AUTH:
      handle_auth (c);
      break;
    case ACT_RESPONSE:
      handle_response (c);
      break;
    case ACT_NONE:
    default:
      break;
    }
  if (c->detached)
    return;
  /* A message ends with '$' or '#' (RFC 4975 section 7.1). */
  if (rx->msg != NULL && flag != '+')
    msg_end (c, rx->msg);
  rx_clear (rx);
}

static void
rx_event (Conn *c, const MsrpParserEvent *ev)
{
  Rx *rx = &c->rx;
  g_autoptr (GError) error = NULL;

  switch (ev->type)
    {
    case MSRP_PARSER_EVENT_REQUEST:
    case MSRP_PARSER_EVENT_RESPONSE:
      rx_clear (rx);
      rx->head = msrp_head_new_from_event (ev);
      rx->phase = RX_HEADERS;
      break;
    case MSRP_PARSER_EVENT_HEADER:
      if (rx->head_error == NULL &&
          !msrp_head_add_header (rx->head, ev, &error))
        rx->head_error = g_strdup (error->message);
      break;
    case MSRP_PARSER_EVENT_HEADERS_END:
      rx->has_body = ev->has_body;
      if (rx->head_error == NULL &&
          !msrp_head_finish (rx->head, ev->has_body, &error))
        rx->head_error = g_strdup (error->message);
      rx->phase = RX_BODY;
      rx_dispatch (c);
      break;
    case MSRP_PARSER_EVENT_BODY:
      rx->body_len += ev->data_len;
      if (rx->action == ACT_FORWARD && rx->started)
        {
          g_autoptr (GBytes) piece = g_bytes_new (ev->data, ev->data_len);

          write_bytes (rx->out, piece);
          if (rx->out->gw != NULL && net_conn_is_congested (rx->out->gw))
            rx->block = BLOCK_DRAIN;
        }
      break;
    case MSRP_PARSER_EVENT_END:
      rx_end (c, ev->continuation, ev->body_len);
      break;
    default:
      break;
    }
}

/* The stream from @c cannot be parsed: 400 if the transaction is known and
 * a response is due (RFC 4975 section 7.2), then close. */
static void
rx_parse_error (Conn *c, const GError *error)
{
  Rx *rx = &c->rx;

  if (rx->head != NULL && msrp_head_is_request (rx->head) &&
      rx->phase == RX_HEADERS && msrp_head_get_to_path (rx->head) != NULL &&
      msrp_head_get_from_path (rx->head) != NULL)
    respond_if_due (c, rx->head, MSRP_STATUS_BAD_REQUEST, error->message);
  else if (rx->head != NULL && msrp_head_is_request (rx->head) &&
           rx->phase == RX_BODY && rx->action != ACT_FORWARD)
    respond_if_due (c, rx->head, MSRP_STATUS_BAD_REQUEST, error->message);
  conn_drop (c, "parse_error", error->message, TRUE);
}

/* Parse what @c sent, acting on each event, until the input is used up,
 * the reader must wait (the rest is set aside) or @c is gone. */
static void
conn_feed (Conn *c, const guint8 *data, gsize len)
{
  while (!c->detached && c->rx.block == BLOCK_NONE)
    {
      MsrpParserEvent ev;
      gsize used = 0;
      g_autoptr (GError) error = NULL;
      MsrpParseStatus st =
          msrp_parser_feed (c->parser, data, len, &used, &ev, &error);

      data += used;
      len -= used;
      if (st == MSRP_PARSE_NEED_MORE)
        break;
      if (st == MSRP_PARSE_ERROR)
        {
          rx_parse_error (c, error);
          return;
        }
      rx_event (c, &ev);
    }
  if (c->detached)
    return;
  if (c->rx.block != BLOCK_NONE)
    {
      if (len > 0)
        {
          GBytes *rest = g_bytes_new (data, len);

          g_clear_pointer (&c->pending, g_bytes_unref);
          c->pending = rest;
        }
      /* Pausing is the NetConn's state; a next hop still being resolved
       * has none and nothing to read yet. */
      if (c->gw != NULL)
        net_conn_pause_reading (c->gw);
    }
}

/* A kick: go on if what @c waited for is there. */
static void
conn_resume (Conn *c)
{
  Rx *rx = &c->rx;

  conn_ref (c);
  switch (rx->block)
    {
    case BLOCK_SELF:
      if (self_blocked (c))
        goto out;
      rx->block = BLOCK_NONE;
      route_request (c);
      if (c->detached || rx->block != BLOCK_NONE)
        goto out;
      break;
    case BLOCK_START:
      goto out;
    case BLOCK_PARTY:
      if (c->party_link != NULL)
        goto out; /* still waiting */
      rx->block = BLOCK_NONE;
      route_request (c);
      if (c->detached || rx->block != BLOCK_NONE)
        goto out;
      break;
    case BLOCK_DRAIN:
      if (rx->out != NULL && rx->out->gw != NULL && !rx->out->detached &&
          net_conn_is_congested (rx->out->gw))
        goto out;
      rx->block = BLOCK_NONE;
      break;
    case BLOCK_NONE:
    default:
      break;
    }
  /* Feed what was set aside, or nothing: the parser may hold an event
   * still (the END of a bodiless frame follows its HEADERS_END without
   * more input). */
  {
    g_autoptr (GBytes) p = g_steal_pointer (&c->pending);
    gsize len = 0;
    const guint8 *data = p != NULL ? g_bytes_get_data (p, &len) : NULL;

    conn_feed (c, data, len);
    if (c->detached || rx->block != BLOCK_NONE)
      goto out;
  }
  if (c->gw != NULL)
    net_conn_resume_reading (c->gw);
out:
  conn_unref (c);
}

/* --- accepting ------------------------------------------------------------
 */

/* The key of relay->per_ip ([limits] max-connections-per-ip) for a peer at
 * @addr: its IP address without the port, as GLib writes it; NULL when
 * @addr is no IP address. */
static char *
ip_key (GSocketAddress *addr)
{
  if (addr == NULL || !G_IS_INET_SOCKET_ADDRESS (addr))
    return NULL;
  return g_inet_address_to_string (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (addr)));
}

/* The same for the peer of @gw, from its "ip:port" text (which the
 * listener wrote from the address on_filter() saw, or the ICE leg from its
 * pair): the text itself when it is no address. */
static char *
conn_ip_key (NetConn *gw)
{
  const char *peer = net_conn_get_peer_address (gw);
  g_autoptr (GSocketAddress) addr = net_addr_parse (peer, NULL);
  char *key = ip_key (addr);

  return key != NULL ? key : g_strdup (peer);
}

static gboolean
on_filter (NetListener *listener, GSocketAddress *peer, gpointer data)
{
  Listener *l = data;
  GwRelay *r = l->relay;
  g_autofree char *ip = ip_key (peer);
  const char *limit = NULL;
  guint n;

  n = ip != NULL ? GPOINTER_TO_UINT (g_hash_table_lookup (r->per_ip, ip)) : 0;
  if (r->freeing)
    limit = "shutdown";
  else if (r->n_inbound >= r->max_connections)
    limit = "max-connections";
  else if (n >= r->max_connections_per_ip)
    limit = "max-connections-per-ip";
  if (limit != NULL)
    {
      g_autoptr (GwLogEvent) ev =
          gw_log_event_new (G_LOG_LEVEL_MESSAGE, "connection_refused");
      g_autofree char *peer_str = net_addr_to_string (peer);

      gw_log_event_add_str (ev, "peer", peer_str);
      gw_log_event_add_str (ev, "limit", limit);
      gw_log_event_emit (ev, "refused a connection from %s: %s", peer_str,
                         limit);
      return FALSE;
    }
  return TRUE;
}

/* Take @gw as an inbound connection: its sessions are bound by its
 * requests; @port and @scheme name the listener (URI) it came in by.
 * @fields: NULL-terminated key, value pairs added to connection_accepted
 * (nullable). */
static void
accept_conn (GwRelay *r, NetConn *gw, MsrpScheme scheme, guint16 port,
             const char *const *fields)
{
  Conn *c = conn_alloc (r);
  g_autoptr (GwLogEvent) ev = NULL;
  const char *peer = net_conn_get_peer_address (gw);
  guint n;

  conn_attach (c, net_conn_ref (gw));
  c->inbound = TRUE;
  c->scheme = scheme;
  c->local_port = port;
  c->peer = g_strdup (peer);
  c->peer_ip = conn_ip_key (gw);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (r->per_ip, c->peer_ip));
  g_hash_table_insert (r->per_ip, g_strdup (c->peer_ip),
                       GUINT_TO_POINTER (n + 1));
  r->n_inbound++;
  c->probation_deadline = g_get_monotonic_time () + r->probation_us;
  g_queue_push_tail (&r->probation, c);
  c->probation_link = r->probation.tail;
  timer_update (r);

  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "connection_accepted");
  gw_log_event_add_int (ev, "conn", (gint64) c->id);
  gw_log_event_add_str (ev, "peer", peer);
  gw_log_event_add_str (ev, "local", net_conn_get_local_address (gw));
  gw_log_event_add_str (ev, "transport", net_conn_get_transport_name (gw));
  for (guint i = 0;
       fields != NULL && fields[i] != NULL && fields[i + 1] != NULL; i += 2)
    gw_log_event_add_str (ev, fields[i], fields[i + 1]);
  gw_log_event_emit (ev, "accepted connection %" G_GUINT64_FORMAT " from %s",
                     c->id, peer);
}

static void
on_accept (NetListener *listener, NetConn *gw, gpointer data)
{
  Listener *l = data;

  accept_conn (l->relay, gw, l->scheme, l->port, NULL);
}

/* --- the relay ---------------------------------------------------------- */

static gboolean
on_stats (gpointer data)
{
  gw_relay_log_stats (data);
  return G_SOURCE_CONTINUE;
}

GwRelay *
gw_relay_new (const GwConfig *config, GwUsers *users, NetTls *client_tls,
              GError **error)
{
  g_autoptr (MsrpDigestServer) digest = NULL;
  GwRelay *r;

  g_return_val_if_fail (config != NULL, NULL);
  digest = msrp_digest_server_new (NULL, 0, GW_RELAY_NONCE_LIFETIME_S, error);
  if (digest == NULL)
    return NULL;
  /* RFC 7616 section 5.3: a nonce is accepted only with a nonce-count
   * above the last one accepted for it, so one Authorization header
   * obtains one session, and a captured one is worth nothing. */
  msrp_digest_server_set_replay_guard (digest, GW_RELAY_REPLAY_CAPACITY);

  r = g_new0 (GwRelay, 1);
  r->context = g_main_context_ref_thread_default ();
  r->public_host = g_strdup (config->public_host);
  r->realm = g_strdup (config->auth_realm != NULL ? config->auth_realm
                                                  : config->public_host);
  r->expires_min = config->expires_min;
  r->expires_default = config->expires_default;
  r->expires_max = config->expires_max;
  r->report_timeout_us = (gint64) config->report_timeout * G_USEC_PER_SEC;
  r->probation_us = (gint64) config->probation * G_USEC_PER_SEC;
  r->max_sessions_per_conn = config->max_sessions_per_connection;
  r->max_sessions_per_user = config->max_sessions_per_user;
  r->max_connections = config->max_connections;
  r->max_connections_per_ip = config->max_connections_per_ip;
  msrp_parser_limits_init (&r->limits);
  r->limits.max_header_bytes =
      MAX (config->max_header_bytes, MSRP_PARSER_MIN_HEADER_BYTES);
  r->conn_options.idle_timeout_ms = config->idle_timeout * 1000;
  r->users = users != NULL ? gw_users_ref (users) : NULL;
  r->client_tls = client_tls != NULL ? net_tls_ref (client_tls) : NULL;
  r->digest = g_steal_pointer (&digest);
  r->clock = real_clock;

  r->listeners = g_ptr_array_new ();
  r->conns = g_hash_table_new (NULL, NULL);
  r->closing = g_hash_table_new (NULL, NULL);
  r->per_ip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r->pool = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r->sessions = g_hash_table_new (g_str_hash, g_str_equal);
  r->user_sessions =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r->expiry = g_sequence_new (NULL);
  r->errors = g_hash_table_new (NULL, NULL);
  r->timer = relay_source_new (r, &timer_source_funcs, "gw-relay timers");
  r->work = relay_source_new (r, &work_source_funcs, "gw-relay work");
  r->stats_source = g_timeout_source_new_seconds (STATS_INTERVAL_S);
  g_source_set_callback (r->stats_source, on_stats, r, NULL);
  g_source_attach (r->stats_source, r->context);
  return r;
}

void
gw_relay_add_listener (GwRelay *relay, NetListener *listener,
                       MsrpScheme scheme)
{
  Listener *l;
  GSocketAddress *addr;

  g_return_if_fail (relay != NULL && listener != NULL);
  addr = net_listener_get_address (listener);
  l = g_new0 (Listener, 1);
  l->relay = relay;
  l->listener = net_listener_ref (listener);
  l->scheme = scheme;
  l->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (addr));
  g_ptr_array_add (relay->listeners, l);
  net_listener_set_callbacks (listener, on_filter, on_accept, l, NULL);
}

/* The first listener of @scheme, whose port goes into URIs of that scheme;
 * NULL when there is none. */
static Listener *
listener_for (GwRelay *r, MsrpScheme scheme)
{
  for (guint i = 0; i < r->listeners->len; i++)
    {
      Listener *l = r->listeners->pdata[i];

      if (l->scheme == scheme)
        return l;
    }
  return NULL;
}

gboolean
gw_relay_adopt_connection (GwRelay *relay, NetConn *conn, MsrpScheme scheme,
                           const char *const *fields, GError **error)
{
  Listener *l;

  g_return_val_if_fail (relay != NULL && conn != NULL, FALSE);
  l = listener_for (relay, scheme);
  if (l == NULL)
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_NO_LISTENER,
                   "no %s listener whose URIs the connection could use",
                   scheme == MSRP_SCHEME_MSRPS ? "msrps" : "msrp");
      return FALSE;
    }
  if (relay->freeing)
    {
      g_set_error_literal (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
                           "the relay is shutting down");
      return FALSE;
    }
  accept_conn (relay, conn, scheme, l->port, fields);
  return TRUE;
}

void
gw_relay_close_listeners (GwRelay *relay)
{
  g_return_if_fail (relay != NULL);
  /* The URIs stay ours: live sessions still name them. */
  for (guint i = 0; i < relay->listeners->len; i++)
    {
      Listener *l = relay->listeners->pdata[i];

      if (l->listener != NULL)
        {
          net_listener_set_callbacks (l->listener, NULL, NULL, NULL, NULL);
          g_clear_pointer (&l->listener, net_listener_unref);
        }
    }
}

/* Close every connection at once (no on_closed), logging each: those the
 * relay uses, then those still flushing a last answer. */
static void
close_all_conns (GwRelay *r)
{
  GHashTableIter it;
  gpointer key;
  Conn *c;

  /* Detaching one may touch others, so take them one at a time from what
   * is left. */
  for (;;)
    {
      g_hash_table_iter_init (&it, r->conns);
      if (!g_hash_table_iter_next (&it, &key, NULL))
        break;
      c = key;
      conn_drop (c, "shutdown", "the relay is shutting down", FALSE);
    }
  for (;;)
    {
      g_hash_table_iter_init (&it, r->closing);
      if (!g_hash_table_iter_next (&it, &key, NULL))
        break;
      c = key;
      g_hash_table_iter_remove (&it);
      conn_log_closed (c, c->close_reason, c->close_detail);
      net_conn_abort (c->gw, FALSE);
      conn_release_gw (c);
    }
}

void
gw_relay_free (GwRelay *r)
{
  Conn *c;

  if (r == NULL)
    return;
  r->freeing = TRUE;
  gw_relay_close_listeners (r);
  close_all_conns (r);
  while ((c = g_queue_pop_head (&r->kicks)) != NULL)
    conn_unref (c);
  sessions_close_all (r);
  g_assert (r->n_txns == 0);
  g_assert (g_queue_is_empty (&r->bind_timers));
  /* Every connect ends exactly once: those not told yet, now. */
  completions_run (r);
  g_source_destroy (r->timer);
  g_source_unref (r->timer);
  g_source_destroy (r->work);
  g_source_unref (r->work);
  g_source_destroy (r->stats_source);
  g_source_unref (r->stats_source);
  for (guint i = 0; i < r->listeners->len; i++)
    g_free (r->listeners->pdata[i]);
  g_ptr_array_unref (r->listeners);
  g_hash_table_unref (r->conns);
  g_hash_table_unref (r->closing);
  g_hash_table_unref (r->per_ip);
  g_hash_table_unref (r->pool);
  g_hash_table_unref (r->peers);
  g_hash_table_unref (r->sessions);
  g_hash_table_unref (r->user_sessions);
  g_sequence_free (r->expiry);
  g_hash_table_unref (r->errors);
  g_clear_pointer (&r->users, gw_users_unref);
  g_clear_pointer (&r->client_tls, net_tls_unref);
  msrp_digest_server_free (r->digest);
  g_main_context_unref (r->context);
  g_free (r->public_host);
  g_free (r->realm);
  g_free (r);
}

void
gw_relay_set_users (GwRelay *relay, GwUsers *users)
{
  g_return_if_fail (relay != NULL);
  if (users != NULL)
    gw_users_ref (users);
  g_clear_pointer (&relay->users, gw_users_unref);
  relay->users = users;
}

void
gw_relay_set_client_tls (GwRelay *relay, NetTls *tls)
{
  g_return_if_fail (relay != NULL);
  if (tls != NULL)
    net_tls_ref (tls);
  g_clear_pointer (&relay->client_tls, net_tls_unref);
  relay->client_tls = tls;
}

MsrpUri *
gw_relay_preauthorize_session (GwRelay *relay, MsrpScheme scheme,
                               MsrpUri *party, const char *call_id,
                               GError **error)
{
  Listener *l;
  Session *s;

  g_return_val_if_fail (relay != NULL, NULL);
  g_return_val_if_fail (party != NULL, NULL);
  l = listener_for (relay, scheme);
  if (l == NULL)
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_NO_LISTENER,
                   "no %s listener to put in the session URI",
                   scheme == MSRP_SCHEME_MSRPS ? "msrps" : "msrp");
      return NULL;
    }
  s = session_new (relay, SESSION_PREAUTH, scheme, l->port, 0, error);
  if (s == NULL)
    return NULL;
  s->party = msrp_uri_ref (party);
  s->call_id = g_strdup (call_id);
  session_log (s, "session_created", NULL);
  return msrp_uri_ref (s->uri);
}

/* The pre-authorised session @u names, or NULL with @error. */
static Session *
preauth_lookup (GwRelay *r, MsrpUri *u, GError **error)
{
  Session *s = session_find (r, u);

  if (s == NULL || s->kind != SESSION_PREAUTH)
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
                   "%s is not a pre-authorised session of this relay",
                   msrp_uri_get_text (u));
      return NULL;
    }
  return s;
}

gboolean
gw_relay_pair_sessions (GwRelay *relay, MsrpUri *a, MsrpUri *b, GError **error)
{
  Session *sa, *sb;
  g_autoptr (GwLogEvent) ev = NULL;

  g_return_val_if_fail (relay != NULL && a != NULL && b != NULL, FALSE);
  sa = preauth_lookup (relay, a, error);
  if (sa == NULL)
    return FALSE;
  sb = preauth_lookup (relay, b, error);
  if (sb == NULL)
    return FALSE;
  if (sa == sb)
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
                   "cannot pair session %s with itself", sa->id);
      return FALSE;
    }
  if (sa->paired != NULL || sb->paired != NULL)
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
                   "session %s is already paired",
                   sa->paired != NULL ? sa->id : sb->id);
      return FALSE;
    }
  sa->paired = sb;
  sb->paired = sa;
  party_waits_end (relay);
  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "session_paired");
  gw_log_event_add_str (ev, "session", sa->id);
  gw_log_event_add_str (ev, "paired", sb->id);
  if (sa->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", sa->call_id);
  gw_log_event_emit (ev, "sessions %s and %s paired", sa->id, sb->id);
  return TRUE;
}

gboolean
gw_relay_connect_session (GwRelay *relay, MsrpUri *session,
                          GwRelayConnectFunc done, gpointer user_data,
                          GError **error)
{
  Session *s;
  Conn *c;
  g_autoptr (GPtrArray) to = g_ptr_array_new ();
  g_autoptr (GPtrArray) from = g_ptr_array_new ();
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GBytes) b = NULL;

  g_return_val_if_fail (relay != NULL && session != NULL, FALSE);
  s = preauth_lookup (relay, session, error);
  if (s == NULL)
    return FALSE;
  if (s->paired == NULL || s->conn != NULL)
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
                   "session %s is %s", s->id,
                   s->paired == NULL    ? "not paired"
                   : s->connect != NULL ? "being connected already"
                                        : "bound already");
      return FALSE;
    }
  /* RFC 6135 section 4.2.2: the active side's first request binds the
   * connection; an empty SEND when it has no data (RFC 4975 section 5.4),
   * with From-Path the path the party was given for its peer. */
  g_ptr_array_add (to, s->party);
  g_ptr_array_add (from, s->paired->uri);
  g_ptr_array_add (from, s->paired->party);
  w = msrp_writer_new_empty_send (to, from, NULL, NULL, error);
  if (w == NULL || !msrp_writer_set_failure_report (w, MSRP_REPORT_YES, error))
    return FALSE;
  b = msrp_writer_to_bytes (w, NULL, '$', error);
  if (b == NULL)
    return FALSE;

  /* A connection of its own, not the next-hop pool: it carries this
   * session only, and is closed with it. */
  c = outbound_new (relay, s->party, s);
  s->connect = g_new0 (Connect, 1);
  s->connect->func = done;
  s->connect->data = user_data;
  g_strlcpy (s->connect->tid, msrp_writer_get_transaction_id (w),
             sizeof s->connect->tid);
  session_bind_preauth (s, c);
  send_small (c, b); /* held until the connection is up */
  /* A failure, even at once, is told through @done, later, like any
   * other. */
  outbound_start (c);
  return TRUE;
}

gboolean
gw_relay_get_session_info (GwRelay *relay, MsrpUri *session,
                           GwRelaySessionInfo *info)
{
  Session *s;

  g_return_val_if_fail (relay != NULL && session != NULL && info != NULL,
                        FALSE);
  memset (info, 0, sizeof *info);
  s = session_find (relay, session);
  if (s == NULL)
    return FALSE;
  info->bound = s->conn != NULL;
  info->conn = s->conn != NULL ? s->conn->id : 0;
  info->messages_from = s->messages_from;
  info->bytes_from = s->bytes_from;
  info->messages_to = s->messages_to;
  info->bytes_to = s->bytes_to;
  return TRUE;
}

void
gw_relay_close_session (GwRelay *relay, MsrpUri *session, const char *reason)
{
  Session *s;
  Conn *c;
  g_autofree char *detail = NULL;

  g_return_if_fail (relay != NULL && session != NULL);
  s = session_find (relay, session);
  if (s == NULL)
    return;
  c = s->conn;
  detail = g_strdup_printf ("session %s closed%s%s", s->id,
                            reason != NULL ? ": " : "",
                            reason != NULL ? reason : "");
  session_remove (s, "session_closed", reason);
  /* Its connection, when nothing else uses it and no frame is in flight
   * to or from it (one that is goes on, and meets the idle timeout). */
  if (c != NULL && !c->detached && c->sessions->len == 0 &&
      c->owner_conn == NULL && c->rx.action != ACT_FORWARD)
    conn_drop (c, "session_closed", detail, TRUE);
}

void
gw_relay_set_clock (GwRelay *relay, GwRelayClockFunc clock, gpointer user_data)
{
  g_return_if_fail (relay != NULL);
  relay->clock = clock != NULL ? clock : real_clock;
  relay->clock_data = user_data;
}

void
gw_relay_get_stats (GwRelay *r, GwRelayStats *st)
{
  GHashTableIter it;
  gpointer key;

  g_return_if_fail (r != NULL && st != NULL);
  memset (st, 0, sizeof *st);
  st->bytes_in = r->closed_bytes_in;
  st->bytes_out = r->closed_bytes_out;
  g_hash_table_iter_init (&it, r->conns);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      Conn *c = key;

      st->connections++;
      st->frames_waiting +=
          c->rx.block == BLOCK_START || c->rx.block == BLOCK_PARTY;
      st->readers_paused +=
          c->gw != NULL && net_conn_is_reading_paused (c->gw);
      st->queued_bytes += c->ctrl_bytes;
      if (c->pending != NULL)
        st->queued_bytes += g_bytes_get_size (c->pending);
      if (c->gw != NULL)
        {
          st->bytes_in += net_conn_get_bytes_in (c->gw);
          st->bytes_out += net_conn_get_bytes_out (c->gw);
          st->queued_bytes += net_conn_get_queued_bytes (c->gw);
        }
    }
  st->sessions = g_hash_table_size (r->sessions);
  st->messages = r->messages;
  st->frames_in_flight = r->frames_in_flight;
  st->pending_transactions = r->n_txns;
}

gboolean
gw_relay_is_busy (GwRelay *r)
{
  GwRelayStats st;

  g_return_val_if_fail (r != NULL, FALSE);
  gw_relay_get_stats (r, &st);
  return st.frames_in_flight > 0 || st.queued_bytes > 0;
}

static gint
uint_cmp (gconstpointer a, gconstpointer b)
{
  guint x = GPOINTER_TO_UINT (*(gpointer *) a);
  guint y = GPOINTER_TO_UINT (*(gpointer *) b);

  return x < y ? -1 : (x > y ? 1 : 0);
}

void
gw_relay_log_stats (GwRelay *r)
{
  g_autoptr (GwLogEvent) ev = gw_log_event_new (G_LOG_LEVEL_INFO, "stats");
  g_autoptr (GPtrArray) codes = g_ptr_array_new ();
  GHashTableIter it;
  gpointer key;
  GwRelayStats st;

  g_return_if_fail (r != NULL);
  gw_relay_get_stats (r, &st);
  gw_log_event_add_int (ev, "connections", st.connections);
  gw_log_event_add_int (ev, "sessions", st.sessions);
  gw_log_event_add_int (ev, "bytes_in", (gint64) st.bytes_in);
  gw_log_event_add_int (ev, "bytes_out", (gint64) st.bytes_out);
  gw_log_event_add_int (ev, "messages", (gint64) st.messages);
  gw_log_event_add_int (ev, "frames_in_flight", st.frames_in_flight);
  gw_log_event_add_int (ev, "pending_transactions", st.pending_transactions);
  gw_log_event_add_int (ev, "queued_bytes", (gint64) st.queued_bytes);
  g_hash_table_iter_init (&it, r->errors);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_ptr_array_add (codes, key);
  g_ptr_array_sort (codes, uint_cmp);
  for (guint i = 0; i < codes->len; i++)
    {
      guint code = GPOINTER_TO_UINT (codes->pdata[i]);
      g_autofree char *name = g_strdup_printf ("err_%03u", code);

      gw_log_event_add_int (ev, name,
                            (gint64) GPOINTER_TO_SIZE (g_hash_table_lookup (
                                r->errors, codes->pdata[i])));
    }
  gw_log_event_emit (
      ev, "%u connections, %u sessions, %" G_GUINT64_FORMAT " messages",
      st.connections, st.sessions, st.messages);
}
