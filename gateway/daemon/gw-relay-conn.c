/* gw-relay-conn.c: a connection's life in the relay (Conn).
 *
 * Responsible for: making and referencing a Conn; accepting one within
 * [limits] max-connections and max-connections-per-ip (the listener filter
 * runs before a NetConn exists), closing one that has not succeeded to make
 * room near max-connections; attaching its NetConn and the NetConn
 * callbacks; the first-request deadline; probation (RFC 4976 section 6.1);
 * detaching it from all the relay holds when it goes, in the order that
 * matters; closing it with a reason for the log (connection_closed, one line
 * per connection).
 *
 * Not here: what is read from it or written to it (gw-relay-stream.c),
 * an outbound connection's addresses and the pool (gw-relay-pool.c), what
 * each concern releases when it goes (their *_gone()).
 */
#include "gw-relay-priv.h"

#include "net-addr.h"

static const char *const transport_names[] = {
  [GW_RELAY_TRANSPORT_TCP] = "tcp",
  [GW_RELAY_TRANSPORT_TLS] = "tls",
  [GW_RELAY_TRANSPORT_ICE_TCP] = "ice-tcp",
};

const char *
gw_relay_transport_to_string (GwRelayTransport transport)
{
  g_return_val_if_fail ((guint) transport < GW_RELAY_N_TRANSPORTS, "unknown");
  return transport_names[transport];
}

const char *
gw_relay_direction_to_string (GwRelayDirection direction)
{
  g_return_val_if_fail ((guint) direction < GW_RELAY_N_DIRECTIONS, "unknown");
  return direction == GW_RELAY_INBOUND ? "inbound" : "outbound";
}

/* @c's transport, from the name its NetConn gives the log stream's
 * `transport` (anything else, such as the unit suites' in-memory
 * connections, counts as tcp); an outbound connection still resolving
 * has none yet: its URI's scheme says. */
GwRelayTransport
gw_relay_conn_transport (Conn *c)
{
  const char *name;

  if (c->gw == NULL)
    return c->scheme == MSRP_SCHEME_MSRPS ? GW_RELAY_TRANSPORT_TLS
                                          : GW_RELAY_TRANSPORT_TCP;
  name = net_conn_get_transport_name (c->gw);
  if (g_strcmp0 (name, "tls") == 0)
    return GW_RELAY_TRANSPORT_TLS;
  if (g_strcmp0 (name, "ice-tcp") == 0)
    return GW_RELAY_TRANSPORT_ICE_TCP;
  return GW_RELAY_TRANSPORT_TCP;
}

/* @c's peer for the log: "ip:port", or the next hop's "host:port". */
const char *
gw_relay_conn_peer (Conn *c)
{
  /* The NetConn knows its peer; before there is one, the next hop's
   * "host:port" stands in (one copy per connection, not two). */
  if (c->gw != NULL)
    return net_conn_get_peer_address (c->gw);
  return c->peer != NULL ? c->peer : "";
}

/* Can frames be written on @c now (connected, handshake done, not
 * going)? */
gboolean
gw_relay_conn_is_open (Conn *c)
{
  return c->gw != NULL && !c->detached &&
         net_conn_get_state (c->gw) == NET_CONN_STATE_OPEN;
}

/* A new Conn of @r, not yet on a NetConn, with the reference its NetConn
 * will stand for (released when the NetConn is). */
Conn *
gw_relay_conn_new (GwRelay *r)
{
  Conn *c = g_new0 (Conn, 1);

  c->ref = 1;
  c->relay = r;
  c->created = gw_relay_now (r);

  c->sessions = g_ptr_array_new ();
  c->peer_keys = g_ptr_array_new_with_free_func (g_free);
  g_queue_init (&c->waiters);
  g_queue_init (&c->ctrl);
  g_hash_table_add (r->conns, c);
  return c;
}

/* Conns are referenced by whoever may outlive their NetConn: the frames
 * waiting for them, transactions, kicks, timers. */
Conn *
gw_relay_conn_ref (Conn *c)
{
  c->ref++;
  return c;
}

void
gw_relay_conn_unref (Conn *c)
{
  if (--c->ref > 0)
    return;
  g_assert (c->detached && c->keepalive == NULL);
  gw_relay_stream_rx_clear (&c->rx);
  g_clear_pointer (&c->reader, msrp_reader_free);
  g_clear_pointer (&c->pending, g_bytes_unref);
  g_clear_pointer (&c->gw, net_conn_unref);
  g_list_free_full (c->addresses, g_object_unref);
  g_clear_object (&c->resolving);
  g_clear_pointer (&c->open_msgs, g_hash_table_unref);
  g_clear_pointer (&c->txns, g_hash_table_unref);
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

/* Take @c out of the deadline queue @q, where *@link holds its place (NULL:
 * not in it). */
static void
deadline_leave (Conn *c, GQueue *q, GList **link)
{
  if (*link == NULL)
    return;
  g_queue_delete_link (q, *link);
  *link = NULL;
  gw_relay_timer_update (c->relay);
}

/* @c is no longer on probation, whatever the reason. */
static void
probation_end (Conn *c)
{
  deadline_leave (c, &c->relay->probation, &c->probation_link);
}

/* @c no longer waits for its first request. */
static void
first_request_end (Conn *c)
{
  deadline_leave (c, &c->relay->first_requests, &c->first_request_link);
}

/* The head of a request is in on @c: it speaks MSRP, and the
 * first-request deadline is met.  The head, not the whole request: a
 * first SEND may carry a chunk of megabytes over a slow uplink, and what
 * is slow after the head is probation's business. */
void
gw_relay_conn_note_request (Conn *c)
{
  first_request_end (c);
}

/* A successful request: probation passed (RFC 4976 section 6.1). */
void
gw_relay_conn_note_success (Conn *c)
{
  c->succeeded = TRUE;
  probation_end (c);
  first_request_end (c);
}

/* An unsuccessful request.  Returns FALSE when the connection was closed
 * for it. */
gboolean
gw_relay_conn_note_failure (Conn *c)
{
  g_autofree char *detail = NULL;

  if (c->succeeded || !c->inbound || c->detached)
    return !c->detached;
  if (++c->failures < GW_RELAY_MAX_PROBATION_FAILURES)
    return TRUE;
  detail = g_strdup_printf ("%u unsuccessful requests and no successful one",
                            c->failures);
  gw_relay_conn_drop (c, "probation_failures", detail, TRUE);
  return FALSE;
}

/* The connections still on probation at @now: closed (RFC 4976 section
 * 6.1). */
void
gw_relay_conn_expire_probation (GwRelay *r, gint64 now)
{
  Conn *c;

  while ((c = g_queue_peek_head (&r->probation)) != NULL &&
         c->probation_deadline <= now)
    {
      g_autofree char *detail = g_strdup_printf (
          "no successful request within %" G_GINT64_FORMAT " s",
          r->probation_us / G_USEC_PER_SEC);

      gw_relay_conn_drop (c, "probation_timeout", detail, TRUE);
    }
}

/* The connections accepted by a listener that have not sent the head of
 * a request by @now ([limits] first-request-timeout): closed at once.
 * RFC 4976 section 6.1: the relay "waits for up to 30 seconds to receive
 * an MSRP request over the channel"; up to, and a client has no reason to
 * take long: "the active endpoint MUST immediately issue a SEND request"
 * (RFC 4975 section 5.4), a client of a relay AUTHs first (RFC 4976
 * section 5.1).  Probation (no successful request within 30 s) stays as
 * it is; this frees sooner what does not speak MSRP at all, each such
 * connection holding a slot of max-connections.  Nothing is owed to it,
 * so it is not closed gracefully: its descriptor goes now. */
void
gw_relay_conn_expire_first_requests (GwRelay *r, gint64 now)
{
  Conn *c;

  while ((c = g_queue_peek_head (&r->first_requests)) != NULL &&
         c->first_request_deadline <= now)
    {
      g_autofree char *detail =
          g_strdup_printf ("no request within %" G_GINT64_FORMAT " s",
                           r->first_request_us / G_USEC_PER_SEC);

      gw_relay_conn_drop (c, "first_request_timeout", detail, FALSE);
    }
}

/* connection_closed: one line per connection, when it has ended. */
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
  gw_log_event_add_str (ev, "peer", gw_relay_conn_peer (c));
  gw_log_event_add_str (ev, "direction", c->inbound ? "inbound" : "outbound");
  gw_log_event_add_int (ev, "bytes_in", (gint64) in);
  gw_log_event_add_int (ev, "bytes_out", (gint64) out);
  gw_log_event_add_int (ev, "duration_ms",
                        (gw_relay_now (c->relay) - c->created) / 1000);
  gw_log_event_add_str (ev, "reason", reason);
  gw_log_event_emit (ev,
                     "connection %" G_GUINT64_FORMAT " with %s closed: "
                     "%s",
                     c->id, gw_relay_conn_peer (c),
                     detail != NULL ? detail : reason);
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
  gw_relay_conn_ref (c);
  gw_relay_stream_reader_gone (c);
  gw_relay_route_unhold (c);
  c->detached = TRUE;
  g_hash_table_remove (r->conns, c);
  gw_relay_txn_sender_gone (c);
  gw_relay_stream_rx_clear (&c->rx);
  gw_relay_stream_writer_gone (c);
  gw_relay_txn_next_hop_gone (c);
  gw_relay_session_conn_gone (c);
  gw_relay_keepalive_update (c);
  gw_relay_pool_forget (c);
  gw_relay_route_forget_peers (c);
  probation_end (c);
  first_request_end (c);
  limits_release (c);
  if (c->resolving != NULL)
    g_cancellable_cancel (c->resolving);
  g_clear_pointer (&c->pending, g_bytes_unref);
  gw_relay_conn_unref (c);
}

/* Release the NetConn and the reference it stood for. */
static void
conn_release_gw (Conn *c)
{
  if (c->gw != NULL)
    net_conn_set_callbacks (c->gw, NULL, NULL, NULL);
  g_clear_pointer (&c->gw, net_conn_unref);
  gw_relay_conn_unref (c);
}

/* The relay closes @c: @reason (stable, snake_case) goes to the log.
 * @graceful: flush what is queued (a last response) and close with FIN;
 * on_closed logs it.  Otherwise close at once. */
void
gw_relay_conn_drop (Conn *c, const char *reason, const char *detail,
                    gboolean graceful)
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

static void
on_connected (NetConn *gw, gpointer data)
{
  Conn *c = data;

  if (c->detached)
    return;
  gw_relay_session_conn_up (c);
  if (!c->inbound)
    {
      g_autoptr (GwLogEvent) ev =
          gw_log_event_new (G_LOG_LEVEL_INFO, "connection_opened");

      gw_log_event_add_int (ev, "conn", (gint64) c->id);
      gw_log_event_add_str (ev, "peer", gw_relay_conn_peer (c));
      gw_log_event_add_str (ev, "local", net_conn_get_local_address (gw));
      gw_log_event_add_str (ev, "transport", net_conn_get_transport_name (gw));
      gw_log_event_emit (ev, "connected to next hop %s",
                         gw_relay_conn_peer (c));
      c->relay->opened[gw_relay_conn_transport (c)][GW_RELAY_OUTBOUND]++;
    }
  gw_relay_stream_flush_ctrl (c);
  gw_relay_stream_pump (c);
}

static void
on_data (NetConn *gw, const guint8 *data, gsize len, gpointer user_data)
{
  Conn *c = user_data;

  if (c->detached)
    return;
  gw_relay_conn_ref (c);
  gw_relay_stream_feed (c, data, len);
  gw_relay_conn_unref (c);
}

static void
on_drained (NetConn *gw, gpointer data)
{
  Conn *c = data;

  if (c->detached)
    return;
  if (c->owner_conn != NULL && c->owner_conn->rx.block == BLOCK_DRAIN)
    gw_relay_stream_kick (c->owner_conn);
  if (c->rx.block == BLOCK_SELF)
    gw_relay_stream_kick (c);
  gw_relay_stream_pump (c);
}

/* The NetConn closed (or failed to connect): another address of a next
 * hop may be tried; otherwise @c goes, and its closing is logged. */
static void
on_closed (NetConn *gw, NetConnCloseReason reason, const GError *error,
           gpointer data)
{
  Conn *c = data;

  if (!c->detached && gw_relay_pool_try_next (c, reason))
    return;
  if (!c->detached)
    {
      if (reason == NET_CONN_CLOSED_DEAD)
        gw_relay_keepalive_dead (c, GW_RELAY_PROBE_TCP, error->message);
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

/* @c runs on @gw (transfer full) from now on, in place of the NetConn it
 * had: its id, and its callbacks. */
void
gw_relay_conn_attach (Conn *c, NetConn *gw)
{
  g_clear_pointer (&c->gw, net_conn_unref);
  c->gw = gw;
  c->id = net_conn_get_id (gw);
  net_conn_set_callbacks (gw, &conn_callbacks, c, NULL);
  gw_relay_keepalive_update (c);
}

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
 * listener wrote from the address gw_relay_conn_filter() saw, or the ICE leg
 * from its pair): the text itself when it is no address. */
static char *
conn_ip_key (NetConn *gw)
{
  const char *peer = net_conn_get_peer_address (gw);
  g_autoptr (GSocketAddress) addr = net_addr_parse (peer, NULL);
  char *key = ip_key (addr);

  return key != NULL ? key : g_strdup (peer);
}

/* Slots of max-connections kept free by eviction: a hundredth (at least
 * none).  A connection closed for probation or failed AUTHs stops counting
 * at once but holds its descriptor while its last answer is flushed (up to
 * the close timeout); keeping this margin while a flood of silent
 * connections is being evicted keeps the descriptors in use under
 * max-connections, which is what the operator sized LimitNOFILE and memory
 * for. */
static guint
evict_margin (GwRelay *r)
{
  return r->max_connections / 100;
}

/* Make room for a new connection: close the oldest inbound connection
 * accepted by a listener that has not sent a request yet or, when there
 * is none, the oldest still on probation (no successful request, RFC 4976
 * section 6.1).  A connection that has succeeded is never closed for
 * another.  FALSE when there is none to close. */
static gboolean
evict_one (GwRelay *r)
{
  Conn *victim = g_queue_peek_head (&r->first_requests);
  g_autofree char *detail = NULL;

  /* Adopted connections (an ICE pair) are the negotiator's, not anyone's:
   * they are skipped; there are few. */
  for (GList *l = r->probation.head; victim == NULL && l != NULL; l = l->next)
    if (((Conn *) l->data)->listened)
      victim = l->data;
  if (victim == NULL)
    return FALSE;
  detail = g_strdup_printf (
      "closed to make room for a new connection: %u of max-connections %u "
      "in use, this one without a %s request after %" G_GINT64_FORMAT " ms",
      r->n_inbound, r->max_connections,
      victim->first_request_link != NULL ? "single" : "successful",
      (gw_relay_now (r) - victim->created) / 1000);
  gw_relay_conn_drop (victim, "evicted", detail, FALSE);
  return TRUE;
}

/* The listener filter, before a NetConn is made for @peer: refuse it
 * (with a RST) at the per-address limit or while shutting down; near
 * max-connections, make room for it by closing a connection that has not
 * succeeded yet, and refuse it only when there is none, so that a flood
 * of silent connections cannot lock out clients that speak MSRP. */
gboolean
gw_relay_conn_filter (NetListener *listener, GSocketAddress *peer,
                      gpointer data)
{
  Listener *l = data;
  GwRelay *r = l->relay;
  g_autofree char *ip = ip_key (peer);
  const char *limit = NULL;
  guint n;

  n = ip != NULL ? GPOINTER_TO_UINT (g_hash_table_lookup (r->per_ip, ip)) : 0;
  if (r->freeing)
    limit = "shutdown";
  else if (n >= r->max_connections_per_ip)
    limit = "max-connections-per-ip";
  else if (r->n_inbound + evict_margin (r) >= r->max_connections &&
           !evict_one (r) && r->n_inbound >= r->max_connections)
    limit = "max-connections";
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
void
gw_relay_conn_accept (GwRelay *r, NetConn *gw, MsrpScheme scheme, guint16 port,
                      gboolean adopted, const char *const *fields)
{
  Conn *c = gw_relay_conn_new (r);
  g_autoptr (GwLogEvent) ev = NULL;
  const char *peer = net_conn_get_peer_address (gw);
  guint n;

  gw_relay_conn_attach (c, net_conn_ref (gw));
  c->inbound = TRUE;
  c->scheme = scheme;
  c->local_port = port;
  c->peer_ip = conn_ip_key (gw);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (r->per_ip, c->peer_ip));
  g_hash_table_insert (r->per_ip, g_strdup (c->peer_ip),
                       GUINT_TO_POINTER (n + 1));
  r->n_inbound++;
  c->probation_deadline = gw_relay_now (r) + r->probation_us;
  g_queue_push_tail (&r->probation, c);
  c->probation_link = r->probation.tail;
  if (!adopted)
    {
      c->listened = TRUE;
      c->first_request_deadline = gw_relay_now (r) + r->first_request_us;
      g_queue_push_tail (&r->first_requests, c);
      c->first_request_link = r->first_requests.tail;
    }
  gw_relay_timer_update (r);

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
  r->opened[gw_relay_conn_transport (c)][GW_RELAY_INBOUND]++;
}

/* Close every connection at once (no on_closed), logging each: those the
 * relay uses, then those still flushing a last answer. */
void
gw_relay_conn_close_all (GwRelay *r)
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
      gw_relay_conn_drop (c, "shutdown", "the relay is shutting down", FALSE);
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
