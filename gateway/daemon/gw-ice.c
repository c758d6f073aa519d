/* gw-ice.c: see gw-ice.h. */
#include "gw-ice.h"

#include <string.h>

#include "net-addr.h"
#include "gw-log.h"
#include "gw-negotiator.h"

/* How long a probe of a party's passive candidate may take. */
#define PROBE_TIMEOUT_S 3

struct _GwIce
{
  GwRelay *relay;
  GwIceStats *stats; /* the owner's */
  IceLeg *leg;
  char *call_id;
  char *party;
  GwIceCallbacks cb;
  gpointer data;
  NetConnOptions conn_options;
  gboolean gathered;
  gboolean started;
  gboolean ready;
  NetConn *conn; /* the pair's connection, relayed */
  /* the party's side, from its SDP */
  char *ufrag;
  char *pwd;
  GPtrArray *candidates; /* MsrpSdpCandidate */
  GCancellable *probes;
};

gboolean
gw_ice_stream_has_ice (MsrpSdpStream *stream)
{
  GPtrArray *cands = msrp_sdp_stream_get_candidates (stream);

  if (msrp_sdp_stream_get_ice_ufrag (stream) == NULL ||
      msrp_sdp_stream_get_ice_pwd (stream) == NULL)
    return FALSE;
  for (guint i = 0; i < cands->len; i++)
    {
      const MsrpSdpCandidate *c = cands->pdata[i];

      if (g_ascii_strcasecmp (c->transport, "TCP") == 0 &&
          c->tcptype != MSRP_SDP_TCPTYPE_NONE)
        return TRUE;
    }
  return FALSE;
}

static char *
describe (const char *type, const char *tcptype, const char *address)
{
  return g_strdup_printf ("%s tcp-%s %s", type, tcptype, address);
}

static void log_ice (GwIce *ice, GLogLevelFlags level, const char *event,
                     const char *key, const char *value, const char *format,
                     ...) G_GNUC_PRINTF (6, 7);

static void
log_ice (GwIce *ice, GLogLevelFlags level, const char *event, const char *key,
         const char *value, const char *format, ...)
{
  g_autoptr (GwLogEvent) ev = gw_log_event_new (level, event);
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (ice->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", ice->call_id);
  gw_log_event_add_str (ev, "party", ice->party);
  if (key != NULL)
    gw_log_event_add_str (ev, key, value);
  gw_log_event_emit (ev, "%s", msg);
}

/* --- the probe of the party's passive candidates --------------------------
 */

typedef struct
{
  GwIce *ice; /* valid unless the probe was cancelled */
  GInetAddress *address;
  GCancellable *cancel;
} Probe;

static void
on_probe (GObject *source, GAsyncResult *res, gpointer data)
{
  Probe *p = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) conn =
      g_socket_client_connect_finish (G_SOCKET_CLIENT (source), res, &error);

  if (!g_cancellable_is_cancelled (p->cancel))
    {
      GwIce *ice = p->ice;

      if (conn != NULL)
        {
          g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
          if (ice->cb.on_fact != NULL)
            ice->cb.on_fact (ice, p->address, TRUE,
                             "tcp probe of an ICE "
                             "tcp-passive candidate",
                             ice->data);
        }
      else if (!g_error_matches (error, G_IO_ERROR,
                                 G_IO_ERROR_CONNECTION_REFUSED))
        {
          /* Timed out, or no route: nothing lets it in.  A refusal proves
           * nothing (a NAT answers for its outside address). */
          if (ice->cb.on_fact != NULL)
            ice->cb.on_fact (ice, p->address, FALSE,
                             "tcp probe of an ICE "
                             "tcp-passive candidate",
                             ice->data);
        }
    }
  g_object_unref (p->cancel);
  g_object_unref (p->address);
  g_free (p);
}

/* The pair does not show whether the party accepts inbound connections:
 * connect to its passive candidates with public addresses and see.
 * Returns how many probes went out. */
static guint
probe_passive (GwIce *ice)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GHashTable) seen =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  guint n = 0;

  g_socket_client_set_timeout (client, PROBE_TIMEOUT_S);
  for (guint i = 0; i < ice->candidates->len; i++)
    {
      const MsrpSdpCandidate *c = ice->candidates->pdata[i];
      g_autoptr (GInetAddress) addr = NULL;
      g_autoptr (GSocketAddress) sa = NULL;
      Probe *p;

      if (c->tcptype != MSRP_SDP_TCPTYPE_PASSIVE &&
          c->tcptype != MSRP_SDP_TCPTYPE_SO)
        continue;
      addr = g_inet_address_new_from_string (c->address);
      if (addr == NULL || !gw_neg_address_is_public (addr) ||
          g_hash_table_contains (seen, c->address))
        continue;
      g_hash_table_add (seen, g_strdup (c->address));
      sa = g_inet_socket_address_new (addr, c->port);
      p = g_new0 (Probe, 1);
      p->ice = ice;
      p->address = g_object_ref (addr);
      p->cancel = g_object_ref (ice->probes);
      g_socket_client_connect_async (client, G_SOCKET_CONNECTABLE (sa),
                                     ice->probes, on_probe, p);
      n++;
    }
  return n;
}

/* "ip:port" or "[ip6]:port" (an IcePair address) -> the address. */
static GInetAddress *
address_of (const char *hostport)
{
  g_autoptr (GSocketAddress) sa = net_addr_parse (hostport, NULL);

  return sa != NULL ? g_object_ref (g_inet_socket_address_get_address (
                          G_INET_SOCKET_ADDRESS (sa)))
                    : NULL;
}

/* --- the leg's callbacks --------------------------------------------------
 */

static void
on_gathered (IceLeg *leg, gpointer data)
{
  GwIce *ice = data;
  g_autoptr (GPtrArray) cands = ice_leg_get_local_candidates (leg);
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_INFO, "ice_gathered");

  ice->gathered = TRUE;
  ice->stats->gathered++;
  if (ice->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", ice->call_id);
  gw_log_event_add_str (ev, "party", ice->party);
  gw_log_event_add_int (ev, "candidates", cands->len);
  gw_log_event_emit (ev, "ICE leg to the %s: %u TCP candidates gathered",
                     ice->party, cands->len);
  if (ice->cb.on_gathered != NULL)
    ice->cb.on_gathered (ice, ice->data);
}

static void
on_ready (IceLeg *leg, GIOStream *stream, const IcePair *pair, gpointer data)
{
  GwIce *ice = data;
  g_autofree char *local =
      describe (pair->local_type, pair->local_tcptype, pair->local_address);
  g_autofree char *remote =
      describe (pair->remote_type, pair->remote_tcptype, pair->remote_address);
  const char *const fields[] = { "ice_local", local, "ice_remote", remote,
                                 NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (NetConn) conn = NULL;
  g_autoptr (GwLogEvent) ev = NULL;

  conn = net_conn_new_from_stream (stream, "ice-tcp", pair->remote_address,
                                   pair->local_address, &ice->conn_options,
                                   &error);
  if (conn == NULL || !gw_relay_adopt_connection (
                          ice->relay, conn, MSRP_SCHEME_MSRP, fields, &error))
    {
      ice->stats->failed++;
      log_ice (ice, G_LOG_LEVEL_WARNING, "ice_failed", "reason",
               error->message,
               "ICE leg to the %s: the selected pair cannot "
               "be relayed: %s",
               ice->party, error->message);
      g_clear_pointer (&ice->leg, ice_leg_free);
      return;
    }
  ice->ready = TRUE;
  ice->stats->ready++;
  ice->conn = net_conn_ref (conn);
  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "ice_ready");
  if (ice->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", ice->call_id);
  gw_log_event_add_str (ev, "party", ice->party);
  gw_log_event_add_int (ev, "conn", (gint64) net_conn_get_id (conn));
  gw_log_event_add_str (ev, "transport", "ice-tcp");
  gw_log_event_add_str (ev, "local_type", pair->local_type);
  gw_log_event_add_str (ev, "local_tcptype", pair->local_tcptype);
  gw_log_event_add_str (ev, "local_address", pair->local_address);
  gw_log_event_add_str (ev, "remote_type", pair->remote_type);
  gw_log_event_add_str (ev, "remote_tcptype", pair->remote_tcptype);
  gw_log_event_add_str (ev, "remote_address", pair->remote_address);
  gw_log_event_emit (ev, "ICE leg to the %s ready: %s -> %s", ice->party,
                     local, remote);

  /* RFC 6544: a check from our tcp-active candidate to the party's
   * tcp-passive one succeeded: its address accepts connections. */
  if (strcmp (pair->local_tcptype, "active") == 0 &&
      strcmp (pair->remote_tcptype, "passive") == 0)
    {
      g_autoptr (GInetAddress) addr = address_of (pair->remote_address);

      if (addr != NULL && ice->cb.on_fact != NULL)
        ice->cb.on_fact (ice, addr, TRUE,
                         "ICE check to its tcp-passive "
                         "candidate",
                         ice->data);
    }
  else if (probe_passive (ice) == 0)
    {
      /* Only its tcp-active candidates got through, and it has no public
       * passive one: the address it comes from takes no connections. */
      g_autoptr (GInetAddress) addr = address_of (pair->remote_address);

      if (addr != NULL && ice->cb.on_fact != NULL)
        ice->cb.on_fact (ice, addr, FALSE,
                         "only its tcp-active candidates "
                         "got through",
                         ice->data);
    }
  if (ice->cb.on_ready != NULL)
    ice->cb.on_ready (ice, ice->data);
}

static void
on_failed (IceLeg *leg, const char *reason, const char *tried, gpointer data)
{
  GwIce *ice = data;
  /* After ready, the selected pair ending is how a party that hangs up
   * looks from here, as well as a pair that dies: not a failure of ICE. */
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (ice->ready ? G_LOG_LEVEL_INFO : G_LOG_LEVEL_WARNING,
                        ice->ready ? "ice_ended" : "ice_failed");

  if (ice->ready)
    ice->stats->ended++;
  else
    ice->stats->failed++;
  if (ice->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", ice->call_id);
  gw_log_event_add_str (ev, "party", ice->party);
  gw_log_event_add_str (ev, "reason", reason);
  if (ice->ready)
    {
      gw_log_event_emit (ev, "ICE leg to the %s ended: %s", ice->party,
                         reason);
    }
  else
    {
      gw_log_event_add_str (ev, "tried", tried);
      gw_log_event_emit (ev, "ICE leg to the %s failed: %s; tried %s",
                         ice->party, reason, tried);
    }
  /* The relay hears on_closed, as for a TCP connection that ends, and
   * sends its Failure REPORTs for what was in flight. */
  if (ice->conn != NULL)
    net_conn_close (ice->conn);
  g_clear_pointer (&ice->leg, ice_leg_free);
}

static const IceCallbacks leg_callbacks = {
  .on_gathered = on_gathered,
  .on_ready = on_ready,
  .on_failed = on_failed,
};

/* --- public ---------------------------------------------------------------
 */

static char *
server_host (GPtrArray *servers, guint *port)
{
  GInetSocketAddress *sa;

  if (servers->len == 0)
    return NULL;
  sa = G_INET_SOCKET_ADDRESS (servers->pdata[0]);
  *port = g_inet_socket_address_get_port (sa);
  return g_inet_address_to_string (g_inet_socket_address_get_address (sa));
}

void
gw_ice_settings_from_config (IceSettings *s, const GwConfig *config)
{
  memset (s, 0, sizeof *s);
  s->addresses = g_ptr_array_ref (config->ice_addresses);
  s->port_min = config->ice_port_min;
  s->port_max = config->ice_port_max;
  s->stun_server = server_host (config->ice_stun_server, &s->stun_port);
  s->turn_server = server_host (config->ice_turn_server, &s->turn_port);
  s->turn_username = g_strdup (config->ice_turn_username);
  s->turn_password = g_strdup (config->ice_turn_password);
  s->timeout_ms = config->ice_timeout * 1000;
}

void
gw_ice_settings_clear (IceSettings *s)
{
  g_clear_pointer (&s->addresses, g_ptr_array_unref);
  g_clear_pointer (&s->stun_server, g_free);
  g_clear_pointer (&s->turn_server, g_free);
  g_clear_pointer (&s->turn_username, g_free);
  g_clear_pointer (&s->turn_password, g_free);
}

GwIce *
gw_ice_new (const IceSettings *settings, guint idle_timeout_ms, GwRelay *relay,
            GwIceStats *stats, gboolean controlling, const char *call_id,
            const char *party, const GwIceCallbacks *callbacks,
            gpointer user_data, GError **error)
{
  GwIce *ice;

  g_return_val_if_fail (stats != NULL, NULL);
  ice = g_new0 (GwIce, 1);
  ice->relay = relay;
  /* Counted from here: gw_ice_free() uncounts it, also on failure below. */
  ice->stats = stats;
  stats->legs++;
  ice->call_id = g_strdup (call_id);
  ice->party = g_strdup (party);
  ice->cb = *callbacks;
  ice->data = user_data;
  ice->conn_options.idle_timeout_ms = idle_timeout_ms;
  ice->candidates = g_ptr_array_new_with_free_func (
      (GDestroyNotify) msrp_sdp_candidate_free);
  ice->probes = g_cancellable_new ();
  ice->leg = ice_leg_new (settings, controlling, &leg_callbacks, ice, error);
  if (ice->leg == NULL || !ice_leg_gather (ice->leg, error))
    {
      gw_ice_free (ice);
      return NULL;
    }
  return ice;
}

gboolean
gw_ice_is_gathered (GwIce *ice)
{
  return ice->gathered || ice->leg == NULL;
}

gboolean
gw_ice_is_ready (GwIce *ice)
{
  return ice->ready;
}

NetConn *
gw_ice_get_conn (GwIce *ice)
{
  return ice->ready && ice->leg != NULL ? ice->conn : NULL;
}

/* The default candidate among @cands (RFC 8839 section 4.2.1.1: the one c=
 * and m= name, "most likely to work" with a peer that does not do ICE;
 * RFC 6544 section 4.3): the tcp-passive one of highest priority, where a
 * peer can connect; else a tcp-active one, whose port is written 9 (RFC
 * 6544 section 4.5), for want of any other. */
static const MsrpSdpCandidate *
default_candidate (GPtrArray *cands)
{
  const MsrpSdpCandidate *best = NULL;

  for (guint i = 0; i < cands->len; i++)
    {
      const MsrpSdpCandidate *c = cands->pdata[i];
      gboolean passive = c->tcptype == MSRP_SDP_TCPTYPE_PASSIVE;

      if (best == NULL ||
          (passive && best->tcptype != MSRP_SDP_TCPTYPE_PASSIVE) ||
          (passive == (best->tcptype == MSRP_SDP_TCPTYPE_PASSIVE) &&
           c->priority > best->priority))
        best = c;
    }
  return best;
}

/* The ICE lines of @cands, with the default candidate in c= and m=. */
static gboolean
write_ice_lines (GwIce *ice, GPtrArray *cands, MsrpSdpStream *stream,
                 GError **error)
{
  const MsrpSdpCandidate *def = default_candidate (cands);

  msrp_sdp_stream_remove_ice (stream);
  if (!msrp_sdp_stream_set_ice_credentials (stream,
                                            ice_leg_get_ufrag (ice->leg),
                                            ice_leg_get_pwd (ice->leg), error))
    return FALSE;
  for (guint i = 0; i < cands->len; i++)
    if (!msrp_sdp_stream_add_candidate (stream, cands->pdata[i], error))
      return FALSE;
  /* All candidates are in: no trickle (RFC 8840 section 8.2).  A strict
   * ICE agent whose peer's c= and m= name none of its candidates takes it
   * for a middlebox that rewrote them and does no ICE (RFC 8839 section
   * 4.2.1.1, ice-mismatch); MSRP parties connect to a=path, not to c= and
   * m= (RFC 4975 section 8.1), so naming a candidate costs them nothing. */
  return msrp_sdp_stream_set_end_of_candidates (stream, TRUE, error) &&
         msrp_sdp_stream_set_address (stream, def->address, error) &&
         msrp_sdp_stream_set_port (
             stream, def->tcptype == MSRP_SDP_TCPTYPE_ACTIVE ? 9 : def->port,
             error);
}

gboolean
gw_ice_write_sdp (GwIce *ice, MsrpSdpStream *stream, GError **error)
{
  g_autoptr (GPtrArray) cands = NULL;
  g_autofree char *address = NULL;
  guint16 port;

  if (ice->leg == NULL || !ice->gathered)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "the ICE leg to the "
                   "%s has no candidates",
                   ice->party);
      return FALSE;
    }
  cands = ice_leg_get_local_candidates (ice->leg);
  if (cands->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "the ICE leg to the "
                   "%s gathered no TCP candidate",
                   ice->party);
      return FALSE;
    }
  address = g_strdup (msrp_sdp_stream_get_address (stream, NULL));
  port = msrp_sdp_stream_get_port (stream);
  if (write_ice_lines (ice, cands, stream, error))
    return TRUE;
  /* All or nothing: no ICE lines, c= and m= as they were. */
  msrp_sdp_stream_remove_ice (stream);
  if (!msrp_sdp_stream_set_address (stream, address, NULL) ||
      !msrp_sdp_stream_set_port (stream, port, NULL))
    g_warn_if_reached ();
  return FALSE;
}

/* May the gateway connect to @c, a candidate of the party?  Its checks
 * from the gateway's tcp-active candidates and the probes connect to the
 * party's tcp-passive and tcp-so candidates (RFC 6544 section 4.5), so
 * those are judged by the connect policy (gw-connect-policy.h), and one
 * refused is dropped before libnice sees it (connect_refused); a
 * tcp-active candidate only connects to the gateway. */
static gboolean
candidate_allowed (GwIce *ice, const MsrpSdpCandidate *c)
{
  g_autoptr (GInetAddress) addr = NULL;
  g_autofree char *rule = NULL;
  g_autofree char *peer = NULL;
  g_autoptr (GwLogEvent) ev = NULL;

  if (c->tcptype != MSRP_SDP_TCPTYPE_PASSIVE &&
      c->tcptype != MSRP_SDP_TCPTYPE_SO)
    return TRUE;
  addr = g_inet_address_new_from_string (c->address);
  if (addr == NULL)
    return TRUE; /* libnice takes IP literals only: nothing to connect to */
  if (gw_connect_policy_allows (gw_relay_get_connect_policy (ice->relay),
                                GW_CONNECT_PARTY, addr, c->port, &rule))
    return TRUE;
  peer = g_strdup_printf ("%s%s%s:%u", strchr (c->address, ':') ? "[" : "",
                          c->address, strchr (c->address, ':') ? "]" : "",
                          c->port);
  ev = gw_log_event_new (G_LOG_LEVEL_MESSAGE, "connect_refused");
  gw_log_event_add_str (ev, "to",
                        gw_connect_kind_to_string (GW_CONNECT_PARTY));
  if (ice->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", ice->call_id);
  gw_log_event_add_str (ev, "party", ice->party);
  gw_log_event_add_str (ev, "peer", peer);
  gw_log_event_add_str (ev, "candidate", "ice");
  gw_log_event_add_str (ev, "rule", rule);
  gw_log_event_emit (ev, "ICE leg to the %s: its candidate %s is left out: %s",
                     ice->party, peer, rule);
  return FALSE;
}

gboolean
gw_ice_set_party (GwIce *ice, MsrpSdpStream *stream, GError **error)
{
  GPtrArray *cands = msrp_sdp_stream_get_candidates (stream);

  if (!gw_ice_stream_has_ice (stream))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "the stream has no ICE-TCP candidates");
      return FALSE;
    }
  g_free (ice->ufrag);
  g_free (ice->pwd);
  ice->ufrag = g_strdup (msrp_sdp_stream_get_ice_ufrag (stream));
  ice->pwd = g_strdup (msrp_sdp_stream_get_ice_pwd (stream));
  g_ptr_array_set_size (ice->candidates, 0);
  for (guint i = 0; i < cands->len; i++)
    if (candidate_allowed (ice, cands->pdata[i]))
      g_ptr_array_add (ice->candidates,
                       msrp_sdp_candidate_copy (cands->pdata[i]));
  return TRUE;
}

gboolean
gw_ice_same_party (GwIce *ice, MsrpSdpStream *stream)
{
  return ice->ufrag != NULL &&
         g_strcmp0 (ice->ufrag, msrp_sdp_stream_get_ice_ufrag (stream)) == 0 &&
         g_strcmp0 (ice->pwd, msrp_sdp_stream_get_ice_pwd (stream)) == 0;
}

gboolean
gw_ice_start (GwIce *ice, GError **error)
{
  if (ice->started)
    return TRUE;
  if (ice->leg == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "the ICE leg to the "
                   "%s has failed",
                   ice->party);
      return FALSE;
    }
  if (!ice_leg_set_remote (ice->leg, ice->ufrag, ice->pwd, ice->candidates,
                           error))
    return FALSE;
  ice->started = TRUE;
  return TRUE;
}

void
gw_ice_free (GwIce *ice)
{
  if (ice == NULL)
    return;
  ice->stats->legs--;
  g_cancellable_cancel (ice->probes);
  g_object_unref (ice->probes);
  g_clear_pointer (&ice->conn, net_conn_unref);
  g_clear_pointer (&ice->leg, ice_leg_free);
  g_ptr_array_unref (ice->candidates);
  g_free (ice->ufrag);
  g_free (ice->pwd);
  g_free (ice->call_id);
  g_free (ice->party);
  g_free (ice);
}
