/* gw-relay-pool.c: outbound connections.
 *
 * Responsible for: the next-hop pool (one connection per scheme, host and
 * port, shared by every session: RFC 4975 section 6.1, RFC 5923), making
 * an outbound connection (pooled, or dedicated to one session), finding a
 * name's addresses without blocking (net-resolve.h: an msrps host without
 * a port by SRV, RFC 4976 section 8), and trying each address in turn
 * that the connect policy allows (gw-connect-policy.h).
 *
 * Not here: the connection once it is made (gw-relay-conn.c), what goes
 * over it (gw-relay-stream.c).
 */
#include "gw-relay-priv.h"

#include "net-addr.h"
#include "net-resolve.h"

/* The pool's key for the next hop @u: "scheme://host:port", or
 * "scheme://host" without a port: RFC 4975 section 6.1 rule 3, an
 * explicit port never equals an absent one, and the two are found
 * differently (an msrps host without a port by SRV). */
static char *
pool_key (MsrpUri *u)
{
  gboolean v6 = msrp_uri_get_host_type (u) == MSRP_HOST_IPV6;
  const char *scheme =
      msrp_uri_get_scheme (u) == MSRP_SCHEME_MSRPS ? "msrps" : "msrp";

  if (msrp_uri_get_port (u) == 0)
    return g_strdup_printf ("%s://%s", scheme, msrp_uri_get_host (u));
  return g_strdup_printf ("%s://%s%s%s:%u", scheme, v6 ? "[" : "",
                          msrp_uri_get_host (u), v6 ? "]" : "",
                          msrp_uri_get_port (u));
}

/* May @c connect to @sa?  A refusal is logged here, where it is handled
 * (connect_refused; the sender's answer is the 408 of a next hop that
 * cannot be reached), and said in @last_error. */
static gboolean
policy_allows (Conn *c, GSocketAddress *sa, GError **last_error)
{
  /* A pooled connection is a next hop; a dedicated one was opened by
   * gw_relay_connect_session() for a negotiator party. */
  GwConnectKind kind =
      c->pool_key != NULL ? GW_CONNECT_NEXT_HOP : GW_CONNECT_PARTY;
  GInetSocketAddress *isa = G_INET_SOCKET_ADDRESS (sa);
  g_autofree char *rule = NULL;
  g_autofree char *address = NULL;
  g_autoptr (GwLogEvent) ev = NULL;

  if (gw_connect_policy_allows (c->relay->policy, kind,
                                g_inet_socket_address_get_address (isa),
                                g_inet_socket_address_get_port (isa), &rule))
    return TRUE;
  address = net_addr_to_string (sa);
  ev = gw_log_event_new (G_LOG_LEVEL_MESSAGE, "connect_refused");
  gw_log_event_add_str (ev, "to", gw_connect_kind_to_string (kind));
  gw_log_event_add_str (ev, "peer", c->peer);
  gw_log_event_add_str (ev, "address", address);
  gw_log_event_add_str (ev, "rule", rule);
  gw_log_event_emit (ev, "not connecting to %s (%s): %s", c->peer, address,
                     rule);
  g_clear_error (last_error);
  g_set_error (last_error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID,
               "%s is refused by the connect policy: %s", address, rule);
  return FALSE;
}

/* Try the next resolved address the policy allows; FALSE when none is
 * left. */
static gboolean
connect_next (Conn *c, GError **last_error)
{
  GwRelay *r = c->relay;

  while (c->addresses != NULL)
    {
      g_autoptr (GSocketAddress) sa = c->addresses->data;
      g_autoptr (GError) error = NULL;
      NetConn *gw;

      c->addresses = g_list_delete_link (c->addresses, c->addresses);
      /* Checked per address after the name resolved: what a name stands
       * for is only known now, and each address is judged alone. */
      if (!policy_allows (c, sa, last_error))
        continue;
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
      gw_relay_conn_attach (c, gw);
      gw_relay_session_log_bindings (c);
      return TRUE;
    }
  return FALSE;
}

/* @c could not be connected: it goes (connection_closed). */
static void
outbound_failed (Conn *c, const char *detail)
{
  gw_relay_conn_drop (c, "connect_failed", detail, FALSE);
}

/* The name of @data's next hop resolved (or not): connect to each
 * address in turn. */
static void
on_resolved (GObject *source, GAsyncResult *res, gpointer data)
{
  Conn *c = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) addrs = net_resolve_finish (res, &error);

  if (!c->detached)
    {
      g_clear_object (&c->resolving);
      if (addrs == NULL)
        {
          /* The message says what was looked up. */
          outbound_failed (c, error->message);
        }
      else
        {
          for (guint i = addrs->len; i > 0; i--)
            c->addresses = g_list_prepend (c->addresses,
                                           g_object_ref (addrs->pdata[i - 1]));
          if (!connect_next (c, &error))
            {
              g_autofree char *detail = g_strdup_printf (
                  "cannot connect to %s: %s", c->peer_host,
                  error != NULL ? error->message : "no address");

              outbound_failed (c, detail);
            }
        }
    }
  gw_relay_conn_unref (c);
}

/* A new outbound connection to @u's host and port with @u's scheme, not
 * connecting yet (gw_relay_pool_connect()): first what is known of it, so that
 * a session can be bound to it and a frame queued on it before the connect can
 * fail.  @dedicated (nullable): the session it is made for, named in the log;
 * NULL for the next-hop pool. */
Conn *
gw_relay_pool_open (GwRelay *r, MsrpUri *u, Session *dedicated)
{
  Conn *c = gw_relay_conn_new (r);
  gboolean v6 = msrp_uri_get_host_type (u) == MSRP_HOST_IPV6;
  g_autoptr (GwLogEvent) ev = NULL;

  c->inbound = FALSE;
  c->succeeded = TRUE;
  c->scheme = msrp_uri_get_scheme (u);
  c->peer_host = g_strdup (msrp_uri_get_host (u));
  c->peer_port = msrp_uri_get_effective_port (u);
  c->uri_port = msrp_uri_get_port (u);
  /* An msrps host without a port is a farm found by SRV: no port yet. */
  if (c->uri_port == 0 && c->scheme == MSRP_SCHEME_MSRPS)
    c->peer = g_strdup (c->peer_host);
  else
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

/* Connect the outbound @c: at once to an IP literal, after finding a
 * name's addresses without blocking (net_resolve_async(): SRV for an msrps
 * host without a port, A/AAAA otherwise); each address in turn
 * (connect_next()).  FALSE when it failed at once: @c is dropped
 * (connection_closed, and a connect of a session bound to it ends). */
gboolean
gw_relay_pool_connect (Conn *c)
{
  g_autoptr (GInetAddress) ia = g_inet_address_new_from_string (c->peer_host);

  if (ia != NULL)
    {
      g_autoptr (GError) error = NULL;

      c->addresses =
          g_list_append (NULL, g_inet_socket_address_new (ia, c->peer_port));
      if (!connect_next (c, &error))
        {
          outbound_failed (c, error != NULL ? error->message : "no address");
          return FALSE;
        }
    }
  else
    {
      c->resolving = g_cancellable_new ();
      net_resolve_async (c->scheme == MSRP_SCHEME_MSRPS, c->peer_host,
                         c->uri_port, NULL, NULL, c->resolving, on_resolved,
                         gw_relay_conn_ref (c));
    }
  return TRUE;
}

/* The pooled connection to the next hop @u (RFC 4975 section 6.1, RFC 5923:
 * one connection per scheme, host and port, shared by every session),
 * made when there is none.  NULL when it failed at once. */
Conn *
gw_relay_pool_get (GwRelay *r, MsrpUri *u)
{
  g_autofree char *key = pool_key (u);
  Conn *c = g_hash_table_lookup (r->pool, key);

  if (c != NULL)
    return c;
  c = gw_relay_pool_open (r, u, NULL);
  c->pool_key = g_strdup (key);
  g_hash_table_insert (r->pool, g_steal_pointer (&key), c);
  if (!gw_relay_pool_connect (c))
    return NULL;
  return c;
}

/* The outbound @c failed to connect for @reason: TRUE when another
 * address of the next hop is being tried (it may answer). */
gboolean
gw_relay_pool_try_next (Conn *c, NetConnCloseReason reason)
{
  g_autoptr (GError) error = NULL;

  if (c->inbound || c->owner_conn != NULL || c->addresses == NULL ||
      (reason != NET_CONN_CLOSED_CONNECT_FAILED &&
       reason != NET_CONN_CLOSED_REFUSED))
    return FALSE;
  return connect_next (c, &error);
}

/* @c is going: no longer the pooled connection to its next hop. */
void
gw_relay_pool_forget (Conn *c)
{
  GwRelay *r = c->relay;

  if (c->pool_key != NULL && g_hash_table_lookup (r->pool, c->pool_key) == c)
    g_hash_table_remove (r->pool, c->pool_key);
}
