/* gw-relay.c: the relay object (GwRelay) and its public API.
 *
 * Responsible for: making and freeing the relay, its listeners (whose
 * scheme, public host and port make the relay's URIs), adopting
 * connections, swapping the users table and the client TLS context, the
 * stats, and what every concern shares on the data plane's loop
 * (net-loop.h): its clock, one timer for all the deadline queues, and one
 * work watch that runs kicks and connect completions outside any caller's
 * call.
 *
 * Not here: what a deadline does when it expires (each module's
 * *_expire()), a connection's life (gw-relay-conn.c), sessions and the
 * relay fallback API (gw-relay-session.c).  gw-relay-priv.h says who
 * holds whom.
 */
#include "gw-relay.h"

#include <string.h>

#include "gw-relay-priv.h"

#define STATS_INTERVAL_S 60

GQuark
gw_relay_error_quark (void)
{
  return g_quark_from_static_string ("gw-relay-error-quark");
}

gint64
gw_relay_now (GwRelay *r)
{
  return net_loop_now (r->loop);
}

/* One timer for every deadline queue: each concern expires its own. */
static void
on_deadline (NetLoop *loop, NetTimer *timer, gpointer data)
{
  GwRelay *r = data;
  gint64 now = net_loop_now (loop);

  gw_relay_txn_expire (r, now);
  gw_relay_conn_expire_probation (r, now);
  gw_relay_conn_expire_first_requests (r, now);
  gw_relay_route_expire_holds (r, now);
  gw_relay_session_expire (r, now);
  gw_relay_timer_update (r);
}

/* Set the timer to the earliest deadline of any queue; call after a
 * queue's head changed. */
void
gw_relay_timer_update (GwRelay *r)
{
  gint64 next = -1;
  Txn *t = g_queue_peek_head (&r->txn_timers);
  Conn *c = g_queue_peek_head (&r->probation);
  Conn *fr = g_queue_peek_head (&r->first_requests);
  Session *bs = g_queue_peek_head (&r->bind_timers);
  Conn *pw = g_queue_peek_head (&r->party_waiters);

  if (t != NULL)
    next = t->deadline;
  if (pw != NULL && (next < 0 || pw->rx.party_deadline < next))
    next = pw->rx.party_deadline;
  if (c != NULL && (next < 0 || c->probation_deadline < next))
    next = c->probation_deadline;
  if (fr != NULL && (next < 0 || fr->first_request_deadline < next))
    next = fr->first_request_deadline;
  if (bs != NULL && (next < 0 || bs->connect->deadline < next))
    next = bs->connect->deadline;

  if (next < 0)
    net_timer_cancel (r->loop, &r->deadlines);
  else if (!net_timer_is_scheduled (&r->deadlines) ||
           r->deadlines.deadline != next)
    net_timer_schedule (r->loop, &r->deadlines, next);
}

/* The work watch: kicked readers resume, ended connects are told. */
static void
on_work (NetLoop *loop, NetWatch *watch, guint events, gpointer data)
{
  GwRelay *r = data;

  gw_relay_stream_run_kicks (r);
  gw_relay_session_run_completions (r);
}

void
gw_relay_wake_work (GwRelay *r)
{
  net_watch_wake (r->loop, &r->work, 0);
}

static void
on_accept (NetListener *listener, NetConn *gw, gpointer data)
{
  Listener *l = data;

  gw_relay_conn_accept (l->relay, gw, l->scheme, l->port, FALSE, NULL);
}

static void
on_stats (NetLoop *loop, NetTimer *timer, gpointer data)
{
  GwRelay *r = data;

  gw_relay_log_stats (r);
  net_timer_schedule (loop, timer,
                      net_loop_now (loop) + STATS_INTERVAL_S * G_USEC_PER_SEC);
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
  r->first_request_us =
      (gint64) config->first_request_timeout * G_USEC_PER_SEC;
  r->keepalive_us = (gint64) config->keepalive_msrp_interval * G_USEC_PER_SEC;
  r->max_sessions_per_conn = config->max_sessions_per_connection;
  r->max_sessions_per_user = config->max_sessions_per_user;
  r->max_connections = config->max_connections;
  r->max_connections_per_ip = config->max_connections_per_ip;
  msrp_parser_limits_init (&r->limits);
  r->limits.max_header_bytes =
      MAX (config->max_header_bytes, MSRP_PARSER_MIN_HEADER_BYTES);
  gw_config_conn_options (config, &r->conn_options);
  r->users = users != NULL ? gw_users_ref (users) : NULL;
  r->client_tls = client_tls != NULL ? net_tls_ref (client_tls) : NULL;
  r->digest = g_steal_pointer (&digest);
  r->policy = gw_connect_policy_new (config);
  r->throttle_addr = gw_throttle_new (
      config->auth_throttle_address_failures,
      (gint64) config->auth_throttle_window * G_USEC_PER_SEC,
      (gint64) config->auth_throttle_backoff_max * G_USEC_PER_SEC,
      config->auth_throttle_entries);
  r->throttle_user = gw_throttle_new (
      config->auth_throttle_user_failures,
      (gint64) config->auth_throttle_window * G_USEC_PER_SEC,
      (gint64) config->auth_throttle_backoff_max * G_USEC_PER_SEC,
      config->auth_throttle_entries);

  r->listeners = g_ptr_array_new ();
  r->conns = g_hash_table_new (NULL, NULL);
  r->closing = g_hash_table_new (NULL, NULL);
  r->per_ip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r->pool = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r->sessions = g_hash_table_new (g_str_hash, g_str_equal);
  r->user_sessions =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  r->errors = g_hash_table_new (NULL, NULL);
  r->reports = g_hash_table_new (NULL, NULL);
  r->loop = net_loop_ref (net_loop_get_default ());
  net_timer_init (&r->deadlines, on_deadline, r);
  net_watch_init (&r->work, -1, on_work, r);
  net_timer_init (&r->stats, on_stats, r);
  net_timer_schedule (r->loop, &r->stats,
                      net_loop_now (r->loop) +
                          STATS_INTERVAL_S * G_USEC_PER_SEC);
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
  gw_connect_policy_add_listener (
      relay->policy, addr, scheme == MSRP_SCHEME_MSRPS ? "msrps" : "msrp");
  net_listener_set_callbacks (listener, gw_relay_conn_filter, on_accept, l,
                              NULL);
}

/* The first listener of @scheme, whose port goes into URIs of that scheme;
 * NULL when there is none. */
Listener *
gw_relay_listener_for (GwRelay *r, MsrpScheme scheme)
{
  for (guint i = 0; i < r->listeners->len; i++)
    {
      Listener *l = r->listeners->pdata[i];

      if (l->scheme == scheme)
        return l;
    }
  return NULL;
}

GwConnectPolicy *
gw_relay_get_connect_policy (GwRelay *relay)
{
  g_return_val_if_fail (relay != NULL, NULL);
  return relay->policy;
}

gboolean
gw_relay_adopt_connection (GwRelay *relay, NetConn *conn, MsrpScheme scheme,
                           const char *const *fields, GError **error)
{
  Listener *l;

  g_return_val_if_fail (relay != NULL && conn != NULL, FALSE);
  l = gw_relay_listener_for (relay, scheme);
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
  gw_relay_conn_accept (relay, conn, scheme, l->port, TRUE, fields);
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

void
gw_relay_free (GwRelay *r)
{
  Conn *c;

  if (r == NULL)
    return;
  r->freeing = TRUE;
  gw_relay_close_listeners (r);
  gw_relay_conn_close_all (r);
  while ((c = g_queue_pop_head (&r->kicks)) != NULL)
    gw_relay_conn_unref (c);
  gw_relay_session_close_all (r);
  g_assert (r->n_txns == 0);
  g_assert (g_queue_is_empty (&r->bind_timers));
  /* Every connect ends exactly once: those not told yet, now. */
  gw_relay_session_run_completions (r);
  net_timer_cancel (r->loop, &r->deadlines);
  net_watch_remove (r->loop, &r->work);
  net_timer_cancel (r->loop, &r->stats);
  net_loop_unref (r->loop);
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

  g_hash_table_unref (r->errors);
  g_hash_table_unref (r->reports);
  g_clear_pointer (&r->users, gw_users_unref);
  g_clear_pointer (&r->client_tls, net_tls_unref);
  msrp_digest_server_free (r->digest);
  gw_connect_policy_free (r->policy);
  gw_throttle_free (r->throttle_addr);
  gw_throttle_free (r->throttle_user);
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
      st->open[gw_relay_conn_transport (c)]
              [c->inbound ? GW_RELAY_INBOUND : GW_RELAY_OUTBOUND]++;
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
  memcpy (st->opened, r->opened, sizeof st->opened);
  memcpy (st->sessions_by_kind, r->n_sessions, sizeof st->sessions_by_kind);
  memcpy (st->auth, r->auth, sizeof st->auth);
  memcpy (st->dead, r->dead, sizeof st->dead);
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
code_cmp (gconstpointer a, gconstpointer b)
{
  guint x = ((const GwRelayCodeCount *) a)->code;
  guint y = ((const GwRelayCodeCount *) b)->code;

  return x < y ? -1 : (x > y ? 1 : 0);
}

/* @table (code -> count) as GwRelayCodeCount, by code. */
static GArray *
code_counts (GHashTable *table)
{
  GArray *out = g_array_sized_new (FALSE, FALSE, sizeof (GwRelayCodeCount),
                                   g_hash_table_size (table));
  GHashTableIter it;
  gpointer key, value;

  g_hash_table_iter_init (&it, table);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      GwRelayCodeCount cc = {
        .code = GPOINTER_TO_UINT (key),
        .count = GPOINTER_TO_SIZE (value),
      };

      g_array_append_val (out, cc);
    }
  g_array_sort (out, code_cmp);
  return out;
}

GArray *
gw_relay_get_error_counts (GwRelay *r)
{
  g_return_val_if_fail (r != NULL, NULL);
  return code_counts (r->errors);
}

GArray *
gw_relay_get_report_counts (GwRelay *r)
{
  g_return_val_if_fail (r != NULL, NULL);
  return code_counts (r->reports);
}

void
gw_relay_log_stats (GwRelay *r)
{
  g_autoptr (GwLogEvent) ev = gw_log_event_new (G_LOG_LEVEL_INFO, "stats");
  g_autoptr (GArray) errors = NULL;
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
  errors = gw_relay_get_error_counts (r);
  for (guint i = 0; i < errors->len; i++)
    {
      const GwRelayCodeCount *cc =
          &g_array_index (errors, GwRelayCodeCount, i);
      g_autofree char *name = g_strdup_printf ("err_%03u", cc->code);

      gw_log_event_add_int (ev, name, (gint64) cc->count);
    }
  gw_log_event_emit (
      ev, "%u connections, %u sessions, %" G_GUINT64_FORMAT " messages",
      st.connections, st.sessions, st.messages);
}
