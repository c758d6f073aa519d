/* gw-relay-session.c: sessions (RFC 4976 section 6.3) and the relay
 * fallback's pre-authorised ones (RFC 6135 section 4.2.2).
 *
 * Responsible for: the session table and its URIs (about 95 random bits),
 * expiry, sessions per user, binding a session to a connection (client
 * sessions at AUTH; pre-authorised ones by the party's first SEND or by
 * the gateway connecting to the party), pairing, gw_relay_connect_session()
 * with its binding SEND, timer and completion (run by the work source),
 * the per-direction counters, and the session_* log events.
 *
 * Not here: AUTH (gw-relay-auth.c), opening the connection
 * (gw-relay-pool.c), routing by session (gw-relay-route.c).
 */
#include "gw-relay-priv.h"

#include <string.h>

#include "msrp-status.h"

static const char *const kind_names[] = { "client", "relay", "preauth" };

/* The public kinds are the private ones, named once (kind_names). */
G_STATIC_ASSERT ((int) SESSION_CLIENT == GW_RELAY_SESSION_CLIENT);
G_STATIC_ASSERT ((int) SESSION_RELAY == GW_RELAY_SESSION_RELAY);
G_STATIC_ASSERT ((int) SESSION_PREAUTH == GW_RELAY_SESSION_PREAUTH);
G_STATIC_ASSERT (G_N_ELEMENTS (kind_names) == GW_RELAY_N_SESSION_KINDS);

const char *
gw_relay_session_kind_to_string (GwRelaySessionKind kind)
{
  g_return_val_if_fail ((guint) kind < GW_RELAY_N_SESSION_KINDS, "unknown");
  return kind_names[kind];
}

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

/* The live session @u names, when @u is one of our URIs; else NULL. */
Session *
gw_relay_session_find (GwRelay *r, MsrpUri *u)
{
  const char *id = msrp_uri_get_session_id (u);
  Session *s;

  if (id == NULL || !gw_relay_route_uri_is_ours (r, u))
    return NULL;
  s = g_hash_table_lookup (r->sessions, id);
  if (s == NULL || s->expires_at <= gw_relay_now (r))
    return NULL;
  return s;
}

/* Is @s paired: with one session, or (shared) with at least one branch? */
gboolean
gw_relay_session_is_paired (Session *s)
{
  return s->paired != NULL || (s->branches != NULL && s->branches->len > 0);
}

/* The session paired with @s whose party is on @c: its pair, or the branch
 * bound to @c when @s is shared; NULL when none is. */
Session *
gw_relay_session_peer_on (Session *s, Conn *c)
{
  if (s->paired != NULL)
    return s->paired->conn == c ? s->paired : NULL;
  for (guint i = 0; s->branches != NULL && i < s->branches->len; i++)
    {
      Session *b = s->branches->pdata[i];

      if (b->conn == c)
        return b;
    }
  return NULL;
}

/* The session paired with @s that the gateway speaks for toward @s's
 * party when it binds it itself: its pair, or the branch paired last (the
 * answer that went out last; gw_relay_connect_session() runs after it). */
Session *
gw_relay_session_peer (Session *s)
{
  if (s->paired != NULL)
    return s->paired;
  if (s->branches != NULL && s->branches->len > 0)
    return s->branches->pdata[s->branches->len - 1];
  return NULL;
}

/* When @u names a paired pre-authorised session: the URI of the session
 * paired with it whose party sent on @from (a response's connection),
 * which the party behind @u was given as the other party's path; else
 * NULL. */
MsrpUri *
gw_relay_session_paired_uri (GwRelay *r, MsrpUri *u, Conn *from)
{
  Session *s = gw_relay_session_find (r, u);
  Session *peer;

  if (s == NULL || s->kind != SESSION_PREAUTH)
    return NULL;
  peer = from != NULL ? gw_relay_session_peer_on (s, from) : NULL;
  if (peer == NULL)
    peer = s->paired;
  return peer != NULL ? peer->uri : NULL;
}

/* @branch goes from @shared's branches; with the last one gone @shared is
 * a session like any other again, unpaired. */
static void
branch_remove (Session *shared, Session *branch)
{
  g_ptr_array_remove (shared->branches, branch);
  if (shared->branches->len > 0)
    return;
  g_clear_pointer (&shared->branches, g_ptr_array_unref);
  shared->chosen = FALSE;
}

/* Log session_unpaired for @s, which was paired with @from. */
static void
log_unpaired (Session *s, Session *from, const char *reason)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_INFO, "session_unpaired");

  gw_log_event_add_str (ev, "session", s->id);
  gw_log_event_add_str (ev, "was_paired", from->id);
  if (s->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", s->call_id);
  gw_log_event_add_str (ev, "reason", reason);
  gw_log_event_emit (ev, "session %s no longer paired with %s: %s", s->id,
                     from->id, reason);
}

/* The party of a shared session sent a request toward @branch: the call's
 * other branches lose their pairing (RFC 3261 section 13.2.2.4: the
 * offerer's session continues with one answerer), so none of them can
 * reach that party any more. */
void
gw_relay_session_choose (Session *branch)
{
  Session *shared = branch->paired;
  g_autofree char *reason = NULL;

  if (shared == NULL || shared->branches == NULL || shared->chosen)
    return;
  shared->chosen = TRUE;
  reason =
      g_strdup_printf ("its party chose the branch of session %s", branch->id);
  for (guint i = shared->branches->len; i-- > 0;)
    {
      Session *b = shared->branches->pdata[i];

      if (b == branch)
        continue;
      b->paired = NULL;
      g_ptr_array_remove_index (shared->branches, i);
      log_unpaired (b, shared, reason);
    }
}

static void session_remove (Session *s, const char *event, const char *reason);

/* The Expires a session was granted ran out (RFC 4976 section 6.3). */
static void
on_expired (NetLoop *loop, NetTimer *timer, gpointer data)
{
  session_remove (data, "session_expired", "expired");
}

/* A new session of @kind with a fresh id, its URI on our @scheme and
 * @port, expiring in @expires_s seconds (0: never). */
Session *
gw_relay_session_new (GwRelay *r, SessionKind kind, MsrpScheme scheme,
                      guint16 port, guint expires_s, GError **error)
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
  net_timer_init (&s->expiry, on_expired, s);
  s->relay = r;
  s->id = g_strdup (id);
  s->kind = kind;
  s->uri = uri;
  g_hash_table_insert (r->sessions, s->id, s);
  r->n_sessions[kind]++;
  if (expires_s == 0)
    {
      s->expires_at = G_MAXINT64;
      return s;
    }
  s->expires_at = gw_relay_now (r) + (gint64) expires_s * G_USEC_PER_SEC;
  net_timer_schedule (r->loop, &s->expiry, s->expires_at);
  return s;
}

/* Count @delta more sessions for @user (RFC 4976 section 6.3 sessions
 * obtained by Digest; [relay] max-sessions-per-user bounds them). */
void
gw_relay_session_count_user (GwRelay *r, const char *user, int delta)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (r->user_sessions, user));

  n += delta;
  if (n == 0)
    g_hash_table_remove (r->user_sessions, user);
  else
    g_hash_table_insert (r->user_sessions, g_strdup (user),
                         GUINT_TO_POINTER (n));
}

/* The client sessions bound to @c (RFC 4976 section 6.3: they are valid
 * on that connection only). */
guint
gw_relay_session_n_client (Conn *c)
{
  guint n = 0;

  for (guint i = 0; i < c->sessions->len; i++)
    n += ((Session *) c->sessions->pdata[i])->kind == SESSION_CLIENT;
  return n;
}

/* Log @event (session_created, session_expired, session_closed) for @s,
 * with its counters; @reason (nullable) says why. */
void
gw_relay_session_log (Session *s, const char *event, const char *reason)
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
      if (net_timer_is_scheduled (&s->expiry))
        gw_log_event_add_int (
            ev, "expires",
            (s->expires_at - gw_relay_now (s->relay) + G_USEC_PER_SEC / 2) /
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

/* Bind @s to @c: requests toward its party or client go on @c; a frame
 * held for a party may go now. */
void
gw_relay_session_bind (Session *s, Conn *c)
{
  GwRelay *r = s->relay;

  s->conn = c;
  g_ptr_array_add (c->sessions, s);
  gw_relay_keepalive_update (c);
  if (s->kind == SESSION_PREAUTH)
    gw_relay_route_release_holds (r);
}

/* An @event about the pre-authorised session @s and the connection @conn
 * of its party, with the fields they all have.
 * Returns: (transfer full) */
static GwLogEvent *
binding_event (Session *s, const char *event, guint64 conn)
{
  GwLogEvent *ev = gw_log_event_new (G_LOG_LEVEL_INFO, event);

  gw_log_event_add_str (ev, "session", s->id);
  if (s->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", s->call_id);
  gw_log_event_add_int (ev, "conn", (gint64) conn);
  gw_log_event_add_str (ev, "party", msrp_uri_get_text (s->party));
  return ev;
}

/* A pre-authorised session bound to @c (RFC 6135 section 4.2.2): by the
 * party's SEND on a connection it made (inbound), or by our connecting to
 * the party (outbound). */
static void
session_log_bound (Session *s, Conn *c)
{
  g_autoptr (GwLogEvent) ev = binding_event (s, "session_bound", c->id);
  const char *direction = c->inbound ? "inbound" : "outbound";

  s->bound_logged = TRUE;
  gw_log_event_add_str (ev, "direction", direction);
  gw_log_event_add_str (ev, "peer", gw_relay_conn_peer (c));
  gw_log_event_emit (ev,
                     "session %s bound to %s connection %" G_GUINT64_FORMAT
                     " with %s for %s",
                     s->id, direction, c->id, gw_relay_conn_peer (c),
                     msrp_uri_get_text (s->party));
}

/* Bind @s to @c; an outbound connection's binding is logged once the
 * connection has its id and address (gw_relay_session_log_bindings()). */
static void
session_bind_preauth (Session *s, Conn *c)
{
  gw_relay_session_bind (s, c);
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
  gw_relay_wake_work (r);
}

/* Call one connect's callback, and free what was kept for it. */
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
void
gw_relay_session_run_completions (GwRelay *r)
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
      gw_relay_timer_update (r);
    }
  if (result == GW_RELAY_CONNECT_OK)
    {
      g_autoptr (GwLogEvent) ev = binding_event (s, "session_connected", conn);

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
  s->via_relay = FALSE;
  gw_relay_keepalive_update (c);
  if (!s->bound_logged)
    return;
  s->bound_logged = FALSE;
  ev = binding_event (s, "session_unbound", c->id);
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
  gw_relay_session_log (s, event, reason);
  if (s->conn != NULL)
    {
      g_ptr_array_remove_fast (s->conn->sessions, s);
      gw_relay_keepalive_update (s->conn);
    }
  if (s->paired != NULL && s->paired->branches != NULL)
    branch_remove (s->paired, s);
  else if (s->paired != NULL)
    s->paired->paired = NULL;
  for (guint i = 0; s->branches != NULL && i < s->branches->len; i++)
    ((Session *) s->branches->pdata[i])->paired = NULL;
  g_clear_pointer (&s->branches, g_ptr_array_unref);
  if (s->user != NULL)
    gw_relay_session_count_user (r, s->user, -1);
  net_timer_cancel (r->loop, &s->expiry);
  g_hash_table_steal (r->sessions, s->id);
  r->n_sessions[s->kind]--;
  msrp_uri_unref (s->uri);
  g_clear_pointer (&s->party, msrp_uri_unref);
  g_free (s->call_id);
  g_free (s->user);
  g_free (s->relay_host);
  g_free (s->id);
  g_free (s);
  gw_relay_timer_update (r);
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
    gw_relay_conn_drop (c, "bind_failed", detail, TRUE);
}

/* Is a request on @c coming from the side of the party that obtained @s
 * (RFC 4976 section 6.4, case 2: "the previous hop was the correct previous
 * hop coming from the client")? */
gboolean
gw_relay_session_from_owner (Session *s, Conn *c)
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
void
gw_relay_session_expire (GwRelay *r, gint64 now)
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
}

/* Every session goes (the relay is freed). */
void
gw_relay_session_close_all (GwRelay *r)
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
void
gw_relay_session_conn_up (Conn *c)
{
  GwRelay *r = c->relay;
  Session *s = conn_connecting_session (c);

  if (s == NULL || s->connect->timer_link != NULL)
    return;
  s->connect->reached = TRUE;
  s->connect->deadline = gw_relay_now (r) + r->report_timeout_us;
  g_queue_push_tail (&r->bind_timers, s);
  s->connect->timer_link = r->bind_timers.tail;
  gw_relay_timer_update (r);
}

/* The outbound @c now has its id and address: log the bindings of the
 * pre-authorised sessions bound to it before (session_bind_preauth()). */
void
gw_relay_session_log_bindings (Conn *c)
{
  for (guint i = 0; i < c->sessions->len; i++)
    {
      Session *s = c->sessions->pdata[i];

      if (s->kind == SESSION_PREAUTH && !s->bound_logged)
        session_log_bound (s, c);
    }
}

/* The sessions bound to @c: client sessions die with their connection (RFC
 * 4976 section 6.3); pre-authorised ones belong to the negotiator: they
 * are unbound, and a connect under way on @c has failed. */
void
gw_relay_session_conn_gone (Conn *c)
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

/* Is the response @h on @c the answer to the binding SEND of a
 * gw_relay_connect_session() (RFC 6135 section 4.2.2)?  Then that connect
 * ends with it. */
gboolean
gw_relay_session_binding_answered (Conn *c, MsrpHead *h)
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

/* The session paired with @first whose party is @party: its pair, or the
 * branch of that party when @first is shared. */
static Session *
peer_of_party (Session *first, MsrpUri *party)
{
  if (first->paired != NULL)
    return msrp_uri_equal (first->paired->party, party) ? first->paired : NULL;
  for (guint i = 0; first->branches != NULL && i < first->branches->len; i++)
    {
      Session *b = first->branches->pdata[i];

      if (msrp_uri_equal (b->party, party))
        return b;
    }
  return NULL;
}

/* The SEND on the inbound connection @c is addressed to @first: when that
 * is a paired pre-authorised session, and the SEND comes from the party
 * (the last From-Path URI) of an unbound session paired with it, bind that
 * session to @c (RFC 6135 section 4.2.2: the active party's first SEND).
 * Knowing @first's URI (random, handed out only in SDP) is what
 * authorises it; toward a shared session, the From-Path tells the branch
 * (each answerer gave its own URI in its answer). */
void
gw_relay_session_bind_by_send (Conn *c, Session *first, MsrpHead *h)
{
  GPtrArray *from = msrp_head_get_from_path (h);
  Session *s;

  if (first->kind != SESSION_PREAUTH)
    return;
  s = peer_of_party (first, from->pdata[from->len - 1]);
  if (s == NULL || s->conn != NULL)
    return;
  s->via_relay = from->len > 1;
  session_bind_preauth (s, c);
}

/* The frame from the paired party of @from_sid to that of @to_sid has
 * been passed on: counted per direction (GwRelaySessionInfo); a chunk
 * ending in '$' or '#' ends a message. */
void
gw_relay_session_count_relayed (GwRelay *r, const char *from_sid,
                                const char *to_sid, char flag,
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

MsrpUri *
gw_relay_preauthorize_session (GwRelay *relay, MsrpScheme scheme,
                               MsrpUri *party, const char *call_id,
                               GError **error)
{
  Listener *l;
  Session *s;

  g_return_val_if_fail (relay != NULL, NULL);
  g_return_val_if_fail (party != NULL, NULL);
  l = gw_relay_listener_for (relay, scheme);
  if (l == NULL)
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_NO_LISTENER,
                   "no %s listener to put in the session URI",
                   scheme == MSRP_SCHEME_MSRPS ? "msrps" : "msrp");
      return NULL;
    }
  s = gw_relay_session_new (relay, SESSION_PREAUTH, scheme, l->port, 0, error);
  if (s == NULL)
    return NULL;
  s->party = msrp_uri_ref (party);
  s->call_id = g_strdup (call_id);
  gw_relay_session_log (s, "session_created", NULL);
  return msrp_uri_ref (s->uri);
}

/* The pre-authorised session @u names, or NULL with @error. */
static Session *
preauth_lookup (GwRelay *r, MsrpUri *u, GError **error)
{
  Session *s = gw_relay_session_find (r, u);

  if (s == NULL || s->kind != SESSION_PREAUTH)
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
                   "%s is not a pre-authorised session of this relay",
                   msrp_uri_get_text (u));
      return NULL;
    }
  return s;
}

/* The two pre-authorised sessions @a and @b name, when they may be
 * paired: distinct, and @b paired with nothing; @a too unless
 * @a_may_share. */
static gboolean
pair_lookup (GwRelay *relay, MsrpUri *a, MsrpUri *b, gboolean a_may_share,
             Session **sa, Session **sb, GError **error)
{
  *sa = preauth_lookup (relay, a, error);
  if (*sa == NULL)
    return FALSE;
  *sb = preauth_lookup (relay, b, error);
  if (*sb == NULL)
    return FALSE;
  if (*sa == *sb)
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
                   "cannot pair session %s with itself", (*sa)->id);
      return FALSE;
    }
  if ((a_may_share ? (*sa)->paired != NULL
                   : gw_relay_session_is_paired (*sa)) ||
      gw_relay_session_is_paired (*sb))
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
                   "session %s is already paired",
                   gw_relay_session_is_paired (*sb) ? (*sb)->id : (*sa)->id);
      return FALSE;
    }
  return TRUE;
}

/* @a and @b are paired: frames held for either party may go, and the log
 * says so (@branches: the shared session's count, 0 for a pair). */
static void
log_paired (GwRelay *relay, Session *sa, Session *sb, guint branches)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_INFO, "session_paired");

  gw_relay_route_release_holds (relay);
  gw_log_event_add_str (ev, "session", sa->id);
  gw_log_event_add_str (ev, "paired", sb->id);
  if (sa->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", sa->call_id);
  if (branches > 0)
    gw_log_event_add_int (ev, "branches", branches);
  gw_log_event_emit (ev, "sessions %s and %s paired", sa->id, sb->id);
}

gboolean
gw_relay_pair_sessions (GwRelay *relay, MsrpUri *a, MsrpUri *b, GError **error)
{
  Session *sa, *sb;

  g_return_val_if_fail (relay != NULL && a != NULL && b != NULL, FALSE);
  if (!pair_lookup (relay, a, b, FALSE, &sa, &sb, error))
    return FALSE;
  if (sa->branches != NULL)
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
                   "session %s is shared by branches "
                   "(gw_relay_pair_branch())",
                   sa->id);
      return FALSE;
    }
  sa->paired = sb;
  sb->paired = sa;
  log_paired (relay, sa, sb, 0);
  return TRUE;
}

/* A bodiless SEND from the peer of @s (gw_relay_session_peer(), which
 * must be there) to @s's party: To-Path the party; From-Path the peer
 * session's URI, then the peer's party, the path the party was given for
 * its peer in SDP; a new Message-ID, Byte-Range 1-0/0, Failure-Report yes,
 * so that it is answered.  Its transaction id goes to @tid (@tid_size
 * bytes).  RFC 6135 section 4.2.2 binds a connection with it, RFC 4975
 * section 7.1 keeps a NAT binding alive with it.
 * Returns: (transfer full) (nullable): NULL with @error (no randomness). */
GBytes *
gw_relay_session_empty_send (Session *s, char *tid, gsize tid_size,
                             GError **error)
{
  Session *peer = gw_relay_session_peer (s);
  g_autoptr (GPtrArray) to = g_ptr_array_new ();
  g_autoptr (GPtrArray) from = g_ptr_array_new ();
  g_autoptr (MsrpWriter) w = NULL;
  GBytes *b;

  if (peer == NULL)
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
                   "session %s is not paired", s->id);
      return NULL;
    }
  g_ptr_array_add (to, s->party);
  g_ptr_array_add (from, peer->uri);
  g_ptr_array_add (from, peer->party);
  w = msrp_writer_new_empty_send (to, from, NULL, NULL, error);
  if (w == NULL || !msrp_writer_set_failure_report (w, MSRP_REPORT_YES, error))
    return NULL;
  b = msrp_writer_to_bytes (w, NULL, '$', error);
  if (b != NULL)
    g_strlcpy (tid, msrp_writer_get_transaction_id (w), tid_size);
  return b;
}

gboolean
gw_relay_pair_branch (GwRelay *relay, MsrpUri *shared, MsrpUri *branch,
                      GError **error)
{
  Session *sa, *sb;

  g_return_val_if_fail (relay != NULL && shared != NULL && branch != NULL,
                        FALSE);
  if (!pair_lookup (relay, shared, branch, TRUE, &sa, &sb, error))
    return FALSE;
  /* A SEND toward the shared party tells its branch by its From-Path. */
  if (peer_of_party (sa, sb->party) != NULL)
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
                   "session %s already has a branch for %s", sa->id,
                   msrp_uri_get_text (sb->party));
      return FALSE;
    }
  if (sa->branches == NULL)
    sa->branches = g_ptr_array_new ();
  g_ptr_array_add (sa->branches, sb);
  sb->paired = sa;
  /* A branch answering after the choice may be the one its party takes
   * next (a 200 after another branch's early answer): it chooses again. */
  sa->chosen = FALSE;
  log_paired (relay, sa, sb, sa->branches->len);
  return TRUE;
}

gboolean
gw_relay_branch_answered (GwRelay *relay, MsrpUri *shared, MsrpUri *branch)
{
  Session *sa, *sb;

  g_return_val_if_fail (relay != NULL && shared != NULL && branch != NULL,
                        FALSE);
  sa = gw_relay_session_find (relay, shared);
  sb = gw_relay_session_find (relay, branch);
  if (sa == NULL || sa->branches == NULL || sb == NULL || sb->paired != sa ||
      !g_ptr_array_remove (sa->branches, sb))
    return FALSE;
  /* Last in line: the answer that went out last (gw_relay_session_peer()). */
  g_ptr_array_add (sa->branches, sb);
  return TRUE;
}

/* The bodiless SEND that binds @s's party to the connection it goes on
 * (RFC 6135 section 4.2.2: the active side's first request binds the
 * connection; an empty SEND when it has nothing to say, RFC 4975 section
 * 5.4): gw_relay_session_empty_send().  NULL with @error when @s cannot be
 * bound by the gateway: unpaired, bound or being bound already. */
static GBytes *
binding_send (Session *s, char *tid, gsize tid_size, GError **error)
{
  Session *peer = gw_relay_session_peer (s);

  if (peer == NULL || s->conn != NULL)
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
                   "session %s is %s", s->id,
                   peer == NULL         ? "not paired"
                   : s->connect != NULL ? "being connected already"
                                        : "bound already");
      return NULL;
    }
  return gw_relay_session_empty_send (s, tid, tid_size, error);
}

/* The pre-authorised session @session names, into *@s, and its binding
 * SEND (binding_send()); NULL with @error. */
static GBytes *
binding_prepare (GwRelay *relay, MsrpUri *session, Session **s, char *tid,
                 gsize tid_size, GError **error)
{
  *s = preauth_lookup (relay, session, error);
  return *s != NULL ? binding_send (*s, tid, tid_size, error) : NULL;
}

/* @s is bound to @c, where its binding SEND @b (transaction @tid) goes
 * first; @done hears how it ends. */
static void
binding_start (Session *s, Conn *c, GBytes *b, const char *tid,
               GwRelayConnectFunc done, gpointer user_data)
{
  s->connect = g_new0 (Connect, 1);
  s->connect->func = done;
  s->connect->data = user_data;
  g_strlcpy (s->connect->tid, tid, sizeof s->connect->tid);
  session_bind_preauth (s, c);
  gw_relay_stream_send_small (c, b); /* held until the connection is up */
}

gboolean
gw_relay_connect_session (GwRelay *relay, MsrpUri *session,
                          GwRelayConnectFunc done, gpointer user_data,
                          GError **error)
{
  Session *s;
  Conn *c;
  char tid[MSRP_WRITER_ID_BUF_SIZE];
  g_autoptr (GBytes) b = NULL;

  g_return_val_if_fail (relay != NULL && session != NULL, FALSE);
  b = binding_prepare (relay, session, &s, tid, sizeof tid, error);
  if (b == NULL)
    return FALSE;
  /* A connection of its own, not the next-hop pool: it carries this
   * session only, and is closed with it. */
  c = gw_relay_pool_open (relay, s->party, s);
  binding_start (s, c, b, tid, done, user_data);
  /* A failure, even at once, is told through @done, later, like any
   * other. */
  gw_relay_pool_connect (c);
  return TRUE;
}

/* The open connection of @relay over @conn (one it accepted or adopted),
 * or NULL. */
static Conn *
conn_of (GwRelay *relay, NetConn *conn)
{
  GHashTableIter it;
  gpointer key;

  g_hash_table_iter_init (&it, relay->conns);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      Conn *c = key;

      if (c->gw == conn && !c->detached)
        return c;
    }
  return NULL;
}

gboolean
gw_relay_bind_session (GwRelay *relay, MsrpUri *session, NetConn *conn,
                       GwRelayConnectFunc done, gpointer user_data,
                       GError **error)
{
  Session *s;
  Conn *c;
  char tid[MSRP_WRITER_ID_BUF_SIZE];
  g_autoptr (GBytes) b = NULL;

  g_return_val_if_fail (relay != NULL && session != NULL && conn != NULL,
                        FALSE);
  c = conn_of (relay, conn);
  if (c == NULL)
    {
      g_set_error (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
                   "connection %" G_GUINT64_FORMAT " is not one of the "
                   "relay's",
                   net_conn_get_id (conn));
      return FALSE;
    }
  b = binding_prepare (relay, session, &s, tid, sizeof tid, error);
  if (b == NULL)
    return FALSE;
  binding_start (s, c, b, tid, done, user_data);
  /* Up already: report-timeout runs from now (RFC 4976 section 6.4.1). */
  gw_relay_session_conn_up (c);
  return TRUE;
}

void
gw_relay_set_session_keepalive (GwRelay *relay, MsrpUri *session, gboolean on)
{
  Session *s;

  g_return_if_fail (relay != NULL && session != NULL);
  s = gw_relay_session_find (relay, session);
  if (s == NULL || s->kind != SESSION_PREAUTH || s->keepalive == (on != FALSE))
    return;
  s->keepalive = on != FALSE;
  if (s->conn != NULL)
    gw_relay_keepalive_update (s->conn);
}

gboolean
gw_relay_get_session_info (GwRelay *relay, MsrpUri *session,
                           GwRelaySessionInfo *info)
{
  Session *s;

  g_return_val_if_fail (relay != NULL && session != NULL && info != NULL,
                        FALSE);
  memset (info, 0, sizeof *info);
  s = gw_relay_session_find (relay, session);
  if (s == NULL)
    return FALSE;
  info->bound = s->conn != NULL;
  info->paired = s->kind == SESSION_PREAUTH && gw_relay_session_is_paired (s);
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
  s = gw_relay_session_find (relay, session);
  if (s == NULL)
    return;
  c = s->conn;
  detail = g_strdup_printf ("session %s closed%s%s", s->id,
                            reason != NULL ? ": " : "",
                            reason != NULL ? reason : "");
  session_remove (s, "session_closed", reason);
  /* Its connection, when nothing else uses it and no frame is in flight
   * to or from it (one that is goes on, and meets the idle timeout, which
   * counts from now: gw_relay_keepalive_update()). */
  if (c != NULL && !c->detached && c->sessions->len == 0 &&
      c->owner_conn == NULL && c->rx.action != ACT_FORWARD)
    gw_relay_conn_drop (c, "session_closed", detail, TRUE);
}
