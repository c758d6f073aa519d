/* gw-relay-keepalive.c: standing connections (README.md "Standing
 * connections").
 *
 * A party behind a NAT is reached only over the connection it opened (or
 * the gateway opened to it), and only while the NAT remembers the
 * mapping; many forget an idle TCP mapping after minutes, some after 30 s.
 * Responsible for: exempting a connection bound to a live call (a
 * pre-authorised session) from [limits] idle-timeout; MSRP keep-alives on
 * it for the sessions whose call asked for them (ng flag msrp-keepalive,
 * gw_relay_set_session_keepalive()): a bodiless SEND after [keepalive]
 * msrp-interval seconds of silence both ways, its answer due within
 * [relay] report-timeout; a connection found dead, by those or by the
 * kernel's TCP keep-alives (NET_CONN_CLOSED_DEAD): its connection_dead
 * line and its count.
 *
 * Not here: the TCP keep-alive socket options (gateway/net/net-conn.c,
 * their values from gw_config_conn_options()); closing the connection and
 * what that releases (gw-relay-conn.c).
 */
#include "gw-relay-priv.h"

/* MSRP keep-alives on one connection: at most one SEND awaiting its
 * answer; one timer, at the end of the silence or at the answer's
 * deadline.  Made only for a connection that needs them: an idle
 * connection of the relay pays one pointer. */
struct _KeepAlive
{
  Conn *conn; /* weak: conn->keepalive owns this */
  NetTimer timer;
  char tid[MSRP_WRITER_ID_BUF_SIZE]; /* the SEND awaiting its answer, or
                                      * "" */
  guint64 bytes_in; /* the connection's bytes in when it was sent */
};

static const char *const probe_names[] = {
  [GW_RELAY_PROBE_TCP] = "tcp",
  [GW_RELAY_PROBE_MSRP] = "msrp",
};

const char *
gw_relay_probe_to_string (GwRelayProbe probe)
{
  g_return_val_if_fail ((guint) probe < GW_RELAY_N_PROBES, "unknown");
  return probe_names[probe];
}

/* The first pre-authorised session bound to @c (a live call's), or the
 * first that asked for MSRP keep-alives when @keepalive; NULL when none. */
static Session *
call_session (Conn *c, gboolean keepalive)
{
  for (guint i = 0; i < c->sessions->len; i++)
    {
      Session *s = c->sessions->pdata[i];

      if (s->kind == SESSION_PREAUTH && (s->keepalive || !keepalive))
        return s;
    }
  return NULL;
}

/* The first session bound to @c that asked for MSRP keep-alives and has
 * a peer to speak for (gw_relay_session_peer()); NULL when none has one
 * right now (a branch the offerer left, a re-answer's moment).  Not one
 * whose party reaches the gateway through relays of its own: the
 * keep-alive's To-Path would name the party alone, and a relay that is
 * not the first URI of a To-Path drops the connection (RFC 4976 section
 * 6.2), with every session it carries; TCP keep-alives still run there. */
static Session *
keepalive_session (Conn *c)
{
  for (guint i = 0; i < c->sessions->len; i++)
    {
      Session *s = c->sessions->pdata[i];

      if (s->kind == SESSION_PREAUTH && s->keepalive && !s->via_relay &&
          gw_relay_session_peer (s) != NULL)
        return s;
    }
  return NULL;
}

static void
schedule (KeepAlive *ka, gint64 at)
{
  net_timer_schedule (ka->conn->relay->loop, &ka->timer, at);
}

/* A keep-alive is due, or the silence is not long enough yet. */
static void
tick (KeepAlive *ka, gint64 now)
{
  Conn *c = ka->conn;
  GwRelay *r = c->relay;
  Session *s = keepalive_session (c);
  g_autoptr (GBytes) b = NULL;
  g_autoptr (GError) error = NULL;
  gint64 quiet;

  /* Not while the connection is being made, nor while a frame is in
   * flight on it (its bytes are traffic, and a SEND cannot go in the
   * middle of it), nor while bytes wait for the party's receive window
   * (the kernel's retransmissions and TCP_USER_TIMEOUT watch those); not
   * while no session that asked has a peer: no From-Path. */
  if (s == NULL || !gw_relay_conn_is_open (c) || c->owner_conn != NULL ||
      net_conn_get_queued_bytes (c->gw) > 0)
    {
      schedule (ka, now + r->keepalive_us);
      return;
    }
  quiet = net_conn_get_last_activity (c->gw);
  if (now - quiet < r->keepalive_us)
    {
      schedule (ka, quiet + r->keepalive_us);
      return;
    }
  b = gw_relay_session_empty_send (s, ka->tid, sizeof ka->tid, &error);
  if (b == NULL)
    {
      g_warning ("no MSRP keep-alive for session %s: %s", s->id,
                 error->message);
      schedule (ka, now + r->keepalive_us);
      return;
    }
  ka->bytes_in = net_conn_get_bytes_in (c->gw);
  gw_relay_stream_send_small (c, b);
  /* RFC 4975 section 7.1.1: a SEND's 200 is due within 30 s. */
  schedule (ka, now + r->report_timeout_us);
}

/* The answer to the keep-alive was due by now: none, and not a byte from
 * the party since it went, and the connection is dead. */
static void
answer_due (KeepAlive *ka)
{
  Conn *c = ka->conn;
  GwRelay *r = c->relay;
  g_autofree char *detail = NULL;

  if (net_conn_get_bytes_in (c->gw) > ka->bytes_in)
    {
      /* It spoke meanwhile: the path works, whatever became of the
       * answer. */
      ka->tid[0] = '\0';
      schedule (ka, net_conn_get_last_activity (c->gw) + r->keepalive_us);
      return;
    }
  detail = g_strdup_printf (
      "no answer to the MSRP keep-alive (a bodiless SEND, transaction %s) "
      "and no byte from the party within report-timeout (%" G_GINT64_FORMAT
      " s)",
      ka->tid, r->report_timeout_us / G_USEC_PER_SEC);
  gw_relay_keepalive_dead (c, GW_RELAY_PROBE_MSRP, detail);
  /* Nothing is owed to a dead peer: closed at once, like any connection
   * that ends (Failure REPORTs, session_unbound). */
  gw_relay_conn_drop (c, "dead", detail, FALSE);
}

static void
on_timer (NetLoop *loop, NetTimer *timer, gpointer data)
{
  KeepAlive *ka = data;

  if (ka->tid[0] != '\0')
    answer_due (ka);
  else
    tick (ka, net_loop_now (loop));
}

static void
keepalive_stop (Conn *c)
{
  KeepAlive *ka = g_steal_pointer (&c->keepalive);

  if (ka == NULL)
    return;
  net_timer_cancel (c->relay->loop, &ka->timer);
  g_free (ka);
}

/* The sessions bound to @c, or its NetConn, changed: a connection of a
 * live call is exempt from the idle timeout (its silence is the call's,
 * and the keep-alives bridge it); MSRP keep-alives run while a session
 * bound to it asks for them. */
void
gw_relay_keepalive_update (Conn *c)
{
  GwRelay *r = c->relay;
  KeepAlive *ka;

  if (c->detached || call_session (c, TRUE) == NULL)
    keepalive_stop (c);
  if (c->detached)
    return;
  if (c->gw != NULL)
    net_conn_set_idle_exempt (c->gw, call_session (c, FALSE) != NULL);
  if (c->keepalive != NULL || call_session (c, TRUE) == NULL)
    return;
  ka = g_new0 (KeepAlive, 1);
  ka->conn = c;
  net_timer_init (&ka->timer, on_timer, ka);
  c->keepalive = ka;
  schedule (ka, (c->gw != NULL ? net_conn_get_last_activity (c->gw)
                               : gw_relay_now (r)) +
                    r->keepalive_us);
}

/* Is the response @h on @c the answer to its MSRP keep-alive?  Any code
 * will do: a 481 from a party that forgot the session came over the path
 * all the same.  The next keep-alive is due after the next silence. */
gboolean
gw_relay_keepalive_answered (Conn *c, MsrpHead *h)
{
  KeepAlive *ka = c->keepalive;

  if (ka == NULL || ka->tid[0] == '\0' ||
      g_strcmp0 (ka->tid, msrp_head_get_transaction_id (h)) != 0)
    return FALSE;
  ka->tid[0] = '\0';
  schedule (ka, gw_relay_now (c->relay) + c->relay->keepalive_us);
  return TRUE;
}

/* @c was found dead by @probe (@detail says how): connection_dead, with
 * the call whose party it carried, and its count.  The caller closes it. */
void
gw_relay_keepalive_dead (Conn *c, GwRelayProbe probe, const char *detail)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_MESSAGE, "connection_dead");
  Session *s = call_session (c, FALSE);
  gint64 silent = c->gw != NULL ? gw_relay_now (c->relay) -
                                      net_conn_get_last_activity (c->gw)
                                : 0;

  c->relay->dead[probe]++;
  gw_log_event_add_int (ev, "conn", (gint64) c->id);
  gw_log_event_add_str (ev, "peer", gw_relay_conn_peer (c));
  gw_log_event_add_str (ev, "direction", c->inbound ? "inbound" : "outbound");
  gw_log_event_add_str (ev, "probe", probe_names[probe]);
  gw_log_event_add_int (ev, "silent_ms", silent / 1000);
  if (s != NULL)
    {
      gw_log_event_add_str (ev, "session", s->id);
      if (s->call_id != NULL)
        gw_log_event_add_str (ev, "call_id", s->call_id);
      gw_log_event_add_str (ev, "party", msrp_uri_get_text (s->party));
    }
  gw_log_event_emit (ev,
                     "connection %" G_GUINT64_FORMAT " with %s is dead: %s",
                     c->id, gw_relay_conn_peer (c), detail);
}
