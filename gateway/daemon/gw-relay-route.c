/* gw-relay-route.c: where a request goes (RFC 4976 sections 6.2, 6.4).
 *
 * Responsible for: whether a URI is one of ours, the walk over our
 * session URIs at the front of To-Path, the three cases of a hop (toward
 * a pre-authorised session's party, from the owner's side to the next hop,
 * toward the owner), the rewritten head of every relayed frame, request or
 * response (gw_relay_route_forward_head()), peers reached back over their
 * own connection (RFC 4975 section 5.4, RFC 5923), and frames held until a
 * paired party connects.
 *
 * Not here: the session table (gw-relay-session.c), opening next hops
 * (gw-relay-pool.c), streaming a frame once routed (gw-relay-stream.c).
 */
#include "gw-relay-priv.h"

#include "msrp-status.h"

/* Peer URIs remembered per inbound connection (the oldest goes first). */
#define MAX_PEERS_PER_CONN 64

/* Is @u one of this relay's URIs: scheme, host and port of a listener
 * (RFC 4976 section 6.2)?  Host compared as RFC 4975 section 6.1 says
 * (both in canonical form); an absent port is the default 2855 (RFC 4975
 * section 15.4), so "msrps://relay.example.net;tcp" names a listener on
 * 2855.  The session-id is not looked at here. */
gboolean
gw_relay_route_uri_is_ours (GwRelay *r, MsrpUri *u)
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
GBytes *
gw_relay_route_forward_head (MsrpHead *h, const char *tid, guint n_ours,
                             MsrpUri *last_as)
{
  GPtrArray *to = msrp_head_get_to_path (h);
  GPtrArray *from = msrp_head_get_from_path (h);
  GString *s = g_string_sized_new (512);
  guint n = msrp_head_get_n_headers (h);
  const char *comment = msrp_head_get_comment (h);

  /* Appends, not printf: a head is written for every relayed frame. */
  g_string_append (s, "MSRP ");
  g_string_append (s, tid);
  g_string_append_c (s, ' ');
  if (msrp_head_is_request (h))
    {
      g_string_append (s, msrp_head_get_method (h));
    }
  else
    {
      guint code = msrp_head_get_status_code (h);

      g_string_append_c (s, (char) ('0' + code / 100 % 10));
      g_string_append_c (s, (char) ('0' + code / 10 % 10));
      g_string_append_c (s, (char) ('0' + code % 10));
      if (comment != NULL)
        {
          g_string_append_c (s, ' ');
          g_string_append (s, comment);
        }
    }
  g_string_append (s, "\r\n");
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
      g_string_append (s, name);
      g_string_append (s, ": ");
      g_string_append (s, value);
      g_string_append (s, "\r\n");
    }
  if (msrp_head_has_body (h))
    g_string_append (s, "\r\n");
  return g_string_free_to_bytes (s);
}

/* Hold @c's frame, and @c by not reading it, until a pre-authorised
 * session it goes toward is paired and its party bound
 * (gw_relay_session_bind() and gw_relay_pair_sessions() end the wait), for up
 * to report-timeout from the first try.  FALSE when that time is up. */
static gboolean
hold_for_party (Conn *c)
{
  GwRelay *r = c->relay;
  Rx *rx = &c->rx;
  gint64 now = gw_relay_now (r);

  if (rx->party_deadline == 0)
    rx->party_deadline = now + r->report_timeout_us;
  if (now >= rx->party_deadline)
    return FALSE;
  rx->block = BLOCK_PARTY;
  g_queue_push_tail (&r->party_waiters, gw_relay_conn_ref (c));
  c->party_link = r->party_waiters.tail;
  gw_relay_timer_update (r);
  return TRUE;
}

/* @c no longer waits for a paired party: out of the queue. */
void
gw_relay_route_unhold (Conn *c)
{
  if (c->party_link == NULL)
    return;
  g_queue_delete_link (&c->relay->party_waiters, c->party_link);
  c->party_link = NULL;
  gw_relay_conn_unref (c);
}

/* @c stops waiting for a paired party (it connected, or the wait ran
 * out): out of the queue, and kicked to route its frame again. */
static void
party_wait_end (Conn *c)
{
  if (c->party_link == NULL)
    return;
  gw_relay_stream_kick (c);
  gw_relay_route_unhold (c);
}

/* A pre-authorised session was paired or bound: every frame held for a
 * party tries again (those still waiting wait on with their deadlines). */
void
gw_relay_route_release_holds (GwRelay *r)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new ();

  for (GList *l = r->party_waiters.head; l != NULL; l = l->next)
    g_ptr_array_add (all, l->data);
  for (guint i = 0; i < all->len; i++)
    party_wait_end (all->pdata[i]);
}

/* The frames held for a party whose wait ran out by @now: kicked, so that
 * gw_relay_route_request() answers them 481 now. */
void
gw_relay_route_expire_holds (GwRelay *r, gint64 now)
{
  Conn *c;

  while ((c = g_queue_peek_head (&r->party_waiters)) != NULL &&
         c->rx.party_deadline <= now)
    party_wait_end (c);
}

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

  if (old == c || (old != NULL && gw_relay_conn_is_open (old)))
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

  return c != NULL && gw_relay_conn_is_open (c) ? c : NULL;
}

/* @c is going: the peers it reached us for are no longer reached over
 * it. */
void
gw_relay_route_forget_peers (Conn *c)
{
  for (guint i = 0; i < c->peer_keys->len; i++)
    {
      const char *key = c->peer_keys->pdata[i];

      if (g_hash_table_lookup (c->relay->peers, key) == c)
        g_hash_table_remove (c->relay->peers, key);
    }
  g_ptr_array_set_size (c->peer_keys, 0);
}

/* Where a request goes: to @target, with the first @n URIs of its To-Path
 * ours, and @last_as (nullable) in place of the last of ours in From-Path
 * (gw_relay_route_forward_head()). */
typedef struct
{
  Conn *target;
  guint n;
  MsrpUri *last_as;
} Route;

/* The session paired with @s (a pre-authorised one) whose party is on @c,
 * the sender of @c's request toward @s's party; NULL when the frame was
 * refused or held instead. */
static Session *
sender_peer (Conn *c, Session *s)
{
  Session *peer;

  /* An answerer that answered active may connect before the SIP proxy has
   * handed its answer to the negotiator, which pairs the sessions (in a
   * forked call, each branch's answerer with the offerer's shared session,
   * until the offerer has chosen a branch): hold its frame until then. */
  if (gw_relay_session_is_paired (s) && s->conn == c)
    {
      gw_relay_stream_discard (
          c, MSRP_STATUS_FORBIDDEN,
          "a pre-authorised session relays only toward its own party");
      return NULL;
    }
  peer =
      gw_relay_session_is_paired (s) ? gw_relay_session_peer_on (s, c) : NULL;
  if (peer != NULL)
    return peer;
  if (!gw_relay_session_is_paired (s) || (s->branches != NULL && !s->chosen))
    {
      if (!hold_for_party (c))
        gw_relay_stream_discard (
            c, MSRP_STATUS_SESSION_DOES_NOT_EXIST,
            "the session was not paired within report-timeout");
      return NULL;
    }
  gw_relay_stream_discard (c, MSRP_STATUS_FORBIDDEN,
                           "not the connection of the session's paired party");
  return NULL;
}

/* Toward the party of the pre-authorised session @s (relay fallback): only
 * from the connection of a party paired with it, and held while the party
 * has not connected.  FALSE when the frame was refused or held instead. */
static gboolean
route_toward_party (Conn *c, Session *s, Route *rt)
{
  Rx *rx = &c->rx;
  gboolean is_send = gw_relay_is_method (rx->head, "SEND");
  Session *peer = sender_peer (c, s);

  if (peer == NULL)
    return FALSE;
  /* The party of a forked call's shared session talks to this branch:
   * the others are done with (gw_relay_pair_branch()). */
  if (peer->branches != NULL)
    gw_relay_session_choose (s);
  if (s->conn == NULL)
    {
      /* Its peer's binding SEND (bodiless) has done its job. */
      if (is_send && !rx->has_body)
        {
          gw_relay_stream_discard (c, MSRP_STATUS_OK, NULL);
          gw_relay_conn_note_success (c);
          return FALSE;
        }
      /* Both parties connect once they have the SDP, in no set order (RFC
       * 6135 section 4.2.2): hold the frame until the party binds. */
      if (!hold_for_party (c))
        gw_relay_stream_discard (
            c, MSRP_STATUS_SESSION_DOES_NOT_EXIST,
            "the party did not connect within report-timeout");
      return FALSE;
    }
  rt->target = s->conn;
  rt->last_as = peer->uri;
  if (is_send)
    {
      rx->from_sid = g_strdup (peer->id);
      rx->to_sid = g_strdup (s->id);
    }
  return TRUE;
}

/* To the next hop @next over the pooled connection.  FALSE when it could
 * not be made: 408 (gw_relay_pool_get() logged why; nothing was
 * started). */
static gboolean
route_via_pool (Conn *c, MsrpUri *next, Route *rt)
{
  rt->target = gw_relay_pool_get (c->relay, next);
  if (rt->target == NULL)
    {
      gw_relay_stream_discard (c, MSRP_STATUS_REQUEST_TIMEOUT,
                               "next hop unreachable");
      return FALSE;
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
  if (rt->target != NULL)
    return TRUE;
  return route_via_pool (c, next, rt);
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
      gw_relay_stream_discard (
          c, MSRP_STATUS_FORBIDDEN,
          "next hop is not the relay the session belongs to");
      return FALSE;
    }
  return route_via_pool (c, next, rt);
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
      Session *s = gw_relay_session_find (r, to->pdata[rt->n]);

      if (s == NULL)
        {
          gw_relay_stream_discard (c, MSRP_STATUS_SESSION_DOES_NOT_EXIST,
                                   NULL);
          return FALSE;
        }
      rt->n++;
      if (rt->n >= to->len)
        {
          gw_relay_stream_discard (c, MSRP_STATUS_BAD_REQUEST,
                                   "To-Path ends at the relay");
          return FALSE;
        }
      if (s->kind == SESSION_PREAUTH)
        return route_toward_party (c, s, rt);
      if (!gw_relay_session_from_owner (s, c))
        return route_to_owner (c, s, to->pdata[rt->n], rt);
      if (!gw_relay_route_uri_is_ours (r, to->pdata[rt->n]))
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
      !gw_relay_session_from_owner (first, c) &&
      !gw_relay_route_uri_is_ours (c->relay, from->pdata[0]) &&
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
      gw_relay_stream_discard (c, 500, error->message);
      return;
    }
  rx->out_head =
      gw_relay_route_forward_head (h, rx->out_tid, rt->n, rt->last_as);
  rx->out = gw_relay_conn_ref (target);
  rx->action = ACT_FORWARD;
  route_learn_peer (c, first);
  if (gw_relay_is_method (h, "SEND") && msrp_head_get_message_id (h) != NULL)
    rx->msg = gw_relay_txn_msg_chunk (c, h, first);
  gw_relay_conn_note_success (c);
  gw_relay_stream_forward (c);
}

/* The headers of a request are in: route it (RFC 4976 sections 6.2 and
 * 6.4).  Sets rx.action, or blocks, or drops the connection. */
void
gw_relay_route_request (Conn *c)
{
  GwRelay *r = c->relay;
  Rx *rx = &c->rx;
  MsrpHead *h = rx->head;
  GPtrArray *to = msrp_head_get_to_path (h);
  Session *first;
  Route rt = { 0 };

  /* Section 6.2: "If the request is not addressed to the relay, the relay
   * immediately drops the corresponding connection". */
  if (!gw_relay_route_uri_is_ours (r, to->pdata[0]))
    {
      g_autofree char *detail = g_strdup_printf (
          "%s request for %s, which is not this relay",
          msrp_head_get_method (h), msrp_uri_get_text (to->pdata[0]));

      gw_relay_conn_drop (c, "not_addressed_to_relay", detail, FALSE);
      return;
    }
  /* An AUTH whose To-Path is one URI of ours is for this relay (section
   * 5.1: "msrps://alice@intra.example.com;tcp"; with or without a session
   * id: the AUTH gets a new one either way). */
  if (gw_relay_is_method (h, "AUTH") && to->len == 1)
    {
      rx->action = ACT_AUTH;
      return;
    }
  /* Section 6.4: the first URI must be one this relay handed out. */
  first = gw_relay_session_find (r, to->pdata[0]);
  if (first == NULL)
    {
      gw_relay_stream_discard (c, MSRP_STATUS_SESSION_DOES_NOT_EXIST, NULL);
      return;
    }
  if (gw_relay_is_method (h, "SEND") && c->inbound)
    gw_relay_session_bind_by_send (c, first, h);
  g_free (rx->session_id);
  rx->session_id = g_strdup (first->id);
  if (!route_walk (c, &rt))
    return;
  if (rt.n + msrp_head_get_from_path (h)->len > MSRP_URI_LIST_MAX)
    {
      gw_relay_stream_discard (c, MSRP_STATUS_BAD_REQUEST,
                               "From-Path would exceed 32 URIs");
      return;
    }
  route_forward (c, first, &rt);
}
