/* ice/ice-leg.c: one ICE-TCP leg on a libnice agent (RFC 8445, RFC 6544).
 *
 * Life of a leg: new (agent, stream, credentials) -> gather (host, and
 * srflx where a STUN server is set, TCP candidates; on_gathered) ->
 * set_remote (credentials and candidates, checks and timeout start) ->
 * on_ready with the selected pair's stream, or on_failed.
 *
 * libnice processes the agent's sockets (STUN checks, accepts on the
 * tcp-passive listeners) only when the component's input is read: it reads
 * them on a private main context that nice_agent_recv* iterate.  So from
 * gathering until ready the leg reads the input stream itself, from a
 * pollable source on its main context ("the pump"); bytes that arrive
 * before the leg sees READY are kept and handed out first (ice-stream.c).
 * After ready the owner reads the stream.
 *
 * Callbacks are delivered from an idle source ("notify"), never from
 * inside libnice or an ice_leg_*() call, which is what makes ice_leg_free
 * () safe inside them. */
#include "ice-leg.h"
#include "ice-stream.h"

#include <string.h>
#include <nice/agent.h>

GQuark
ice_leg_error_quark (void)
{
  return g_quark_from_static_string ("ice-leg-error-quark");
}

#define COMPONENT 1
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_STUN_PORT 3478
/* Bytes a peer may send before our side of the checks is complete; more
 * is not a peer doing ICE. */
#define MAX_EARLY_BYTES (1024 * 1024)

typedef enum
{
  LEG_NEW,
  LEG_GATHERING,
  LEG_CHECKING,
  LEG_READY,
  LEG_FAILED,
} LegState;

struct _IceLeg
{
  NiceAgent *agent;
  guint stream_id;
  GMainContext *context;
  IceCallbacks callbacks;
  gpointer user_data;
  gboolean controlling;
  gboolean has_turn;
  guint timeout_ms;
  LegState state;
  gboolean gathered;
  gboolean remote_set;
  char *ufrag, *pwd;

  GIOStream *nice_stream; /* libnice's, from gathering on */
  GSource *pump;          /* reads nice_stream until ready */
  GByteArray *early;      /* what the pump read */
  GSource *timeout;
  GSource *notify;
  GIOStream *stream; /* IceStream, from ready on */
  IcePair *pair;

  /* Events to deliver, in this order. */
  gboolean gathered_pending, ready_pending, failed_pending;
  char *failed_reason, *failed_tried;
};

/* ---- IcePair ---- */

IcePair *
ice_pair_copy (const IcePair *pair)
{
  IcePair *c;

  g_return_val_if_fail (pair != NULL, NULL);
  c = g_new0 (IcePair, 1);
  c->local_type = g_strdup (pair->local_type);
  c->remote_type = g_strdup (pair->remote_type);
  c->local_tcptype = g_strdup (pair->local_tcptype);
  c->remote_tcptype = g_strdup (pair->remote_tcptype);
  c->local_address = g_strdup (pair->local_address);
  c->remote_address = g_strdup (pair->remote_address);
  return c;
}

void
ice_pair_free (IcePair *pair)
{
  if (pair == NULL)
    return;
  g_free (pair->local_type);
  g_free (pair->remote_type);
  g_free (pair->local_tcptype);
  g_free (pair->remote_tcptype);
  g_free (pair->local_address);
  g_free (pair->remote_address);
  g_free (pair);
}

/* ---- candidates ---- */

/* RFC 8445 section 5.1.1: the SDP names of the candidate types. */
static const char *
type_name (NiceCandidateType type)
{
  switch (type)
    {
    case NICE_CANDIDATE_TYPE_HOST:
      return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
      return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
      return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED:
      return "relay";
    default:
      return "unknown";
    }
}

static MsrpSdpTcpType
tcptype_of (NiceCandidateTransport transport)
{
  switch (transport)
    {
    case NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE:
      return MSRP_SDP_TCPTYPE_ACTIVE;
    case NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE:
      return MSRP_SDP_TCPTYPE_PASSIVE;
    case NICE_CANDIDATE_TRANSPORT_TCP_SO:
      return MSRP_SDP_TCPTYPE_SO;
    case NICE_CANDIDATE_TRANSPORT_UDP:
    default:
      return MSRP_SDP_TCPTYPE_NONE;
    }
}

/* A candidate's port as SDP writes it: RFC 6544 section 4.5, a tcp-active
 * candidate's port is 9 (libnice keeps 0 until the connection exists). */
static guint
sdp_port (const NiceCandidate *c)
{
  guint port = nice_address_get_port (&c->addr);

  if (c->transport == NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE && port == 0)
    port = 9;
  return port;
}

static char *
address_string (const NiceAddress *addr, guint port)
{
  char ip[NICE_ADDRESS_STRING_LEN];

  nice_address_to_string (addr, ip);
  if (nice_address_ip_version (addr) == 6)
    return g_strdup_printf ("[%s]:%u", ip, port);
  return g_strdup_printf ("%s:%u", ip, port);
}

/* NiceCandidate -> MsrpSdpCandidate, or NULL for a UDP candidate. */
static MsrpSdpCandidate *
candidate_from_nice (const NiceCandidate *nc)
{
  MsrpSdpCandidate *c;
  char ip[NICE_ADDRESS_STRING_LEN];

  if (tcptype_of (nc->transport) == MSRP_SDP_TCPTYPE_NONE)
    return NULL;

  c = g_new0 (MsrpSdpCandidate, 1);
  c->foundation = g_strdup (nc->foundation);
  c->component = nc->component_id;
  c->transport = g_strdup ("TCP");
  c->priority = nc->priority;
  nice_address_to_string (&nc->addr, ip);
  c->address = g_strdup (ip);
  c->port = (guint16) sdp_port (nc);
  c->type = g_strdup (type_name (nc->type));
  c->rport = -1;
  /* RFC 8839 section 5.1: rel-addr and rel-port for the reflexive and
   * relayed candidates: their base. */
  if (nc->type != NICE_CANDIDATE_TYPE_HOST &&
      nice_address_is_valid (&nc->base_addr))
    {
      nice_address_to_string (&nc->base_addr, ip);
      c->raddr = g_strdup (ip);
      c->rport = (gint) nice_address_get_port (&nc->base_addr);
      if (nc->transport == NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE &&
          c->rport == 0)
        c->rport = 9;
    }
  c->tcptype = tcptype_of (nc->transport);
  return c;
}

static gboolean
parse_type (const char *s, NiceCandidateType *type)
{
  static const struct
  {
    const char *name;
    NiceCandidateType type;
  } types[] = {
    { "host", NICE_CANDIDATE_TYPE_HOST },
    { "srflx", NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE },
    { "prflx", NICE_CANDIDATE_TYPE_PEER_REFLEXIVE },
    { "relay", NICE_CANDIDATE_TYPE_RELAYED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_ascii_strcasecmp (s, types[i].name) == 0)
      {
        *type = types[i].type;
        return TRUE;
      }
  return FALSE;
}

/* MsrpSdpCandidate -> NiceCandidate of @stream_id, or NULL with @why when
 * MSRP cannot use it. */
static NiceCandidate *
candidate_to_nice (const MsrpSdpCandidate *c, guint stream_id,
                   const char **why)
{
  NiceCandidateType type;
  NiceCandidate *nc;

  if (c->transport == NULL || g_ascii_strcasecmp (c->transport, "TCP") != 0 ||
      c->tcptype == MSRP_SDP_TCPTYPE_NONE)
    {
      *why = "not a TCP candidate with a tcptype";
      return NULL;
    }
  if (c->component != COMPONENT)
    {
      *why = "not component 1";
      return NULL;
    }
  if (c->type == NULL || !parse_type (c->type, &type))
    {
      *why = "an unknown candidate type";
      return NULL;
    }
  if (c->foundation == NULL || strlen (c->foundation) == 0 ||
      strlen (c->foundation) >= NICE_CANDIDATE_MAX_FOUNDATION)
    {
      *why = "a foundation that is not 1 to 32 characters";
      return NULL;
    }

  nc = nice_candidate_new (type);
  switch (c->tcptype)
    {
    case MSRP_SDP_TCPTYPE_ACTIVE:
      nc->transport = NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE;
      break;
    case MSRP_SDP_TCPTYPE_PASSIVE:
      nc->transport = NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE;
      break;
    case MSRP_SDP_TCPTYPE_SO:
    case MSRP_SDP_TCPTYPE_NONE:
    default:
      nc->transport = NICE_CANDIDATE_TRANSPORT_TCP_SO;
      break;
    }
  if (c->address == NULL ||
      !nice_address_set_from_string (&nc->addr, c->address))
    {
      nice_candidate_free (nc);
      *why = "an address that is not an IP literal";
      return NULL;
    }
  nice_address_set_port (&nc->addr, c->port);
  nc->base_addr = nc->addr;
  if (c->raddr != NULL &&
      nice_address_set_from_string (&nc->base_addr, c->raddr))
    nice_address_set_port (&nc->base_addr,
                           c->rport >= 0 ? (guint) c->rport : 0);
  nc->priority = c->priority;
  nc->stream_id = stream_id;
  nc->component_id = COMPONENT;
  g_strlcpy (nc->foundation, c->foundation, sizeof nc->foundation);
  return nc;
}

static const char *
tcptype_name (NiceCandidateTransport transport)
{
  const char *s = msrp_sdp_tcptype_to_string (tcptype_of (transport));

  return s != NULL ? s : "udp";
}

/* "addr:port (type tcp-tcptype)" */
static void
append_candidate (GString *s, const NiceCandidate *c)
{
  g_autofree char *a = address_string (&c->addr, sdp_port (c));

  g_string_append_printf (s, "%s (%s tcp-%s)", a, type_name (c->type),
                          tcptype_name (c->transport));
}

/* RFC 6544 section 6.2: active pairs with passive, passive with active, so
 * with so, within one address family. */
static gboolean
tcp_pairable (const NiceCandidate *l, const NiceCandidate *r)
{
  if (nice_address_ip_version (&l->addr) != nice_address_ip_version (&r->addr))
    return FALSE;
  switch (l->transport)
    {
    case NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE:
      return r->transport == NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE;
    case NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE:
      return r->transport == NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE;
    case NICE_CANDIDATE_TRANSPORT_TCP_SO:
      return r->transport == NICE_CANDIDATE_TRANSPORT_TCP_SO;
    case NICE_CANDIDATE_TRANSPORT_UDP:
    default:
      return FALSE;
    }
}

/* The pairs the checks ran on: libnice's check list is not public, so
 * rebuild it from the local and the remote candidates (peer-reflexive
 * remote ones included, as libnice learnt them) by the pairing rule. */
static char *
describe_tried (IceLeg *leg)
{
  GSList *local =
      nice_agent_get_local_candidates (leg->agent, leg->stream_id, COMPONENT);
  GSList *remote =
      nice_agent_get_remote_candidates (leg->agent, leg->stream_id, COMPONENT);
  GString *s = g_string_new (NULL);

  for (GSList *l = local; l != NULL; l = l->next)
    for (GSList *r = remote; r != NULL; r = r->next)
      {
        if (!tcp_pairable (l->data, r->data))
          continue;
        if (s->len > 0)
          g_string_append (s, ", ");
        append_candidate (s, l->data);
        g_string_append (s, " -> ");
        append_candidate (s, r->data);
      }
  g_slist_free_full (local, (GDestroyNotify) nice_candidate_free);
  g_slist_free_full (remote, (GDestroyNotify) nice_candidate_free);
  if (s->len == 0)
    g_string_append (s, "no candidate pair");
  return g_string_free (s, FALSE);
}

/* ---- events ---- */

static gboolean notify_dispatch (gpointer data);

static void
schedule_notify (IceLeg *leg)
{
  if (leg->notify != NULL)
    return;
  leg->notify = g_idle_source_new ();
  g_source_set_name (leg->notify, "IceLeg notify");
  g_source_set_callback (leg->notify, notify_dispatch, leg, NULL);
  g_source_attach (leg->notify, leg->context);
  g_source_unref (leg->notify);
}

/* Deliver one event; the leg may be freed by the callback, so nothing
 * touches it after the call. */
static gboolean
notify_dispatch (gpointer data)
{
  IceLeg *leg = data;
  gboolean more;

  if (leg->gathered_pending)
    {
      leg->gathered_pending = FALSE;
      more = leg->ready_pending || leg->failed_pending;
      if (!more)
        leg->notify = NULL;
      if (leg->callbacks.on_gathered != NULL)
        leg->callbacks.on_gathered (leg, leg->user_data);
      return more ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
    }
  if (leg->ready_pending)
    {
      g_autoptr (GBytes) early =
          g_byte_array_free_to_bytes (g_steal_pointer (&leg->early));

      leg->stream = ice_stream_new (leg->nice_stream, early);
      leg->ready_pending = FALSE;
      more = leg->failed_pending;
      if (!more)
        leg->notify = NULL;
      if (leg->callbacks.on_ready != NULL)
        leg->callbacks.on_ready (leg, leg->stream, leg->pair, leg->user_data);
      return more ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
    }
  leg->notify = NULL;
  if (leg->failed_pending)
    {
      g_autofree char *reason = g_steal_pointer (&leg->failed_reason);
      g_autofree char *tried = g_steal_pointer (&leg->failed_tried);

      leg->failed_pending = FALSE;
      if (leg->callbacks.on_failed != NULL)
        leg->callbacks.on_failed (leg, reason, tried, leg->user_data);
    }
  return G_SOURCE_REMOVE;
}

static void
stop_pump (IceLeg *leg)
{
  if (leg->pump != NULL)
    {
      g_source_destroy (leg->pump);
      g_clear_pointer (&leg->pump, g_source_unref);
    }
}

static void
stop_timeout (IceLeg *leg)
{
  if (leg->timeout != NULL)
    {
      g_source_destroy (leg->timeout);
      g_clear_pointer (&leg->timeout, g_source_unref);
    }
}

/* The leg fails: on_failed follows, and nothing else. */
static void
fail (IceLeg *leg, const char *reason)
{
  if (leg->state == LEG_FAILED)
    return;
  g_debug ("ICE leg %p failed: %s", (void *) leg, reason);
  leg->state = LEG_FAILED;
  stop_pump (leg);
  stop_timeout (leg);
  leg->gathered_pending = FALSE;
  leg->failed_pending = TRUE;
  leg->failed_reason = g_strdup (reason);
  leg->failed_tried = describe_tried (leg);
  schedule_notify (leg);
}

static void
pair_set_candidate (const NiceCandidate *c, char **type, char **tcptype,
                    char **address)
{
  *type = g_strdup (type_name (c->type));
  *tcptype = g_strdup (tcptype_name (c->transport));
  *address = address_string (&c->addr, sdp_port (c));
}

static void
become_ready (IceLeg *leg)
{
  NiceCandidate *local = NULL, *remote = NULL;

  if (!nice_agent_get_selected_pair (leg->agent, leg->stream_id, COMPONENT,
                                     &local, &remote))
    {
      fail (leg, "libnice reported ready without a selected pair");
      return;
    }
  leg->pair = g_new0 (IcePair, 1);
  pair_set_candidate (local, &leg->pair->local_type, &leg->pair->local_tcptype,
                      &leg->pair->local_address);
  pair_set_candidate (remote, &leg->pair->remote_type,
                      &leg->pair->remote_tcptype, &leg->pair->remote_address);

  /* This may run inside the pump's own read: the bytes that read returns
   * still go to leg->early, which becomes the stream's head when on_ready
   * is delivered. */
  stop_pump (leg);
  stop_timeout (leg);
  leg->state = LEG_READY;
  leg->ready_pending = TRUE;
  g_debug ("ICE leg %p ready: %s (%s tcp-%s) -> %s (%s tcp-%s)", (void *) leg,
           leg->pair->local_address, leg->pair->local_type,
           leg->pair->local_tcptype, leg->pair->remote_address,
           leg->pair->remote_type, leg->pair->remote_tcptype);
  schedule_notify (leg);
}

/* ---- libnice signals ---- */

static void
on_gathering_done (NiceAgent *agent, guint stream_id, gpointer data)
{
  IceLeg *leg = data;

  if (stream_id != leg->stream_id || leg->gathered || leg->state == LEG_FAILED)
    return;
  leg->gathered = TRUE;
  leg->gathered_pending = TRUE;
  schedule_notify (leg);
}

static void
on_state_changed (NiceAgent *agent, guint stream_id, guint component_id,
                  guint state, gpointer data)
{
  IceLeg *leg = data;

  if (stream_id != leg->stream_id || component_id != COMPONENT)
    return;
  switch (state)
    {
    case NICE_COMPONENT_STATE_READY:
      if (leg->state == LEG_CHECKING)
        become_ready (leg);
      break;
    case NICE_COMPONENT_STATE_FAILED:
      if (leg->state == LEG_READY)
        fail (leg, "the selected candidate pair failed");
      else if (leg->state == LEG_CHECKING)
        fail (leg, "every connectivity check failed");
      break;
    default:
      break;
    }
}

/* ---- the pump ---- */

static gboolean
pump_readable (GObject *pollable, gpointer data)
{
  IceLeg *leg = data;
  guint8 buf[16384];

  /* Reading makes libnice process the sockets; a state change it reports
   * while doing so may stop the pump (leg->pump cleared). */
  while (leg->pump != NULL)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_pollable_input_stream_read_nonblocking (
          G_POLLABLE_INPUT_STREAM (pollable), buf, sizeof buf, NULL, &error);

      if (n > 0)
        {
          if (leg->state == LEG_FAILED)
            return G_SOURCE_REMOVE;
          if (leg->early->len + (gsize) n > MAX_EARLY_BYTES)
            {
              fail (leg, "the peer sent more than 1 MiB before the checks "
                         "completed");
              return G_SOURCE_REMOVE;
            }
          g_byte_array_append (leg->early, buf, (guint) n);
          continue;
        }
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      /* End of stream or an error before ready: libnice reports the
       * component's state on its own; stop reading meanwhile. */
      g_debug ("ICE leg %p: read before ready: %s", (void *) leg,
               n == 0 ? "end of stream" : error->message);
      g_clear_pointer (&leg->pump, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_REMOVE;
}

static gboolean
on_timeout (gpointer data)
{
  IceLeg *leg = data;
  g_autofree char *reason = g_strdup_printf (
      "no connectivity check succeeded within %u ms", leg->timeout_ms);

  g_clear_pointer (&leg->timeout, g_source_unref);
  fail (leg, reason);
  return G_SOURCE_REMOVE;
}

/* ---- public ---- */

static gboolean
check_server (const char *what, const char *server, GError **error)
{
  g_autoptr (GInetAddress) a = NULL;

  if (server == NULL)
    return TRUE;
  a = g_inet_address_new_from_string (server);
  if (a == NULL)
    {
      g_set_error (error, ICE_LEG_ERROR, ICE_LEG_ERROR_INVALID,
                   "%s server \"%s\" is not an IP address", what, server);
      return FALSE;
    }
  return TRUE;
}

/* The settings a leg can be made with. */
static gboolean
check_settings (const IceSettings *settings, GError **error)
{
  if (settings->port_min > 65535 || settings->port_max > 65535 ||
      settings->port_min > settings->port_max ||
      (settings->port_min == 0) != (settings->port_max == 0))
    {
      g_set_error (error, ICE_LEG_ERROR, ICE_LEG_ERROR_INVALID,
                   "port range %u-%u is not 0-0 or 1..65535 with min <= max",
                   settings->port_min, settings->port_max);
      return FALSE;
    }
  if (!check_server ("STUN", settings->stun_server, error) ||
      !check_server ("TURN", settings->turn_server, error))
    return FALSE;
  if (settings->turn_server != NULL &&
      (settings->turn_username == NULL || settings->turn_password == NULL))
    {
      g_set_error (error, ICE_LEG_ERROR, ICE_LEG_ERROR_INVALID,
                   "TURN server %s has no username or password",
                   settings->turn_server);
      return FALSE;
    }
  if (settings->stun_port > 65535 || settings->turn_port > 65535)
    {
      g_set_error (error, ICE_LEG_ERROR, ICE_LEG_ERROR_INVALID,
                   "STUN port %u or TURN port %u is above 65535",
                   settings->stun_port, settings->turn_port);
      return FALSE;
    }
  return TRUE;
}

/* The leg's agent, with its STUN server and the local addresses it
 * gathers on. */
static gboolean
make_agent (IceLeg *leg, const IceSettings *settings, GError **error)
{
  /* RFC 6544 over RFC 8445 procedures; reliable with bytestream-tcp: the
   * component is a byte stream, reads of any size (without it, a read
   * shorter than an RFC 4571 frame loses the rest of the frame). */
  leg->agent = nice_agent_new_full (leg->context, NICE_COMPATIBILITY_RFC5245,
                                    NICE_AGENT_OPTION_RELIABLE |
                                        NICE_AGENT_OPTION_BYTESTREAM_TCP);
  g_object_set (leg->agent, "ice-tcp", TRUE, "ice-udp", FALSE,
                "controlling-mode", leg->controlling, "upnp", FALSE, NULL);
  if (settings->stun_server != NULL)
    g_object_set (
        leg->agent, "stun-server", settings->stun_server, "stun-server-port",
        settings->stun_port != 0 ? settings->stun_port : DEFAULT_STUN_PORT,
        NULL);

  for (guint i = 0;
       settings->addresses != NULL && i < settings->addresses->len; i++)
    {
      GInetAddress *ia = g_ptr_array_index (settings->addresses, i);
      g_autofree char *s = g_inet_address_to_string (ia);
      NiceAddress na;

      nice_address_init (&na);
      if (!nice_address_set_from_string (&na, s) ||
          !nice_agent_add_local_address (leg->agent, &na))
        {
          g_set_error (error, ICE_LEG_ERROR, ICE_LEG_ERROR_INVALID,
                       "libnice cannot gather on address %s", s);
          return FALSE;
        }
    }
  return TRUE;
}

/* The leg's one stream: its port range, its TURN relay, its local
 * credentials. */
static gboolean
add_stream (IceLeg *leg, const IceSettings *settings, GError **error)
{
  leg->stream_id = nice_agent_add_stream (leg->agent, 1);
  if (leg->stream_id == 0)
    {
      g_set_error_literal (error, ICE_LEG_ERROR, ICE_LEG_ERROR_FAILED,
                           "libnice cannot add a stream");
      return FALSE;
    }
  if (settings->port_min != 0)
    nice_agent_set_port_range (leg->agent, leg->stream_id, COMPONENT,
                               settings->port_min, settings->port_max);
  if (settings->turn_server != NULL)
    {
      if (!nice_agent_set_relay_info (
              leg->agent, leg->stream_id, COMPONENT, settings->turn_server,
              settings->turn_port != 0 ? settings->turn_port
                                       : DEFAULT_STUN_PORT,
              settings->turn_username, settings->turn_password,
              NICE_RELAY_TYPE_TURN_UDP))
        {
          g_set_error (error, ICE_LEG_ERROR, ICE_LEG_ERROR_INVALID,
                       "libnice refuses TURN server %s",
                       settings->turn_server);
          return FALSE;
        }
      leg->has_turn = TRUE;
    }
  if (!nice_agent_get_local_credentials (leg->agent, leg->stream_id,
                                         &leg->ufrag, &leg->pwd))
    {
      g_set_error_literal (error, ICE_LEG_ERROR, ICE_LEG_ERROR_FAILED,
                           "libnice has no local credentials");
      return FALSE;
    }
  return TRUE;
}

IceLeg *
ice_leg_new (const IceSettings *settings, gboolean controlling,
             const IceCallbacks *callbacks, gpointer user_data, GError **error)
{
  g_autoptr (IceLeg) leg = NULL;

  g_return_val_if_fail (settings != NULL, NULL);
  g_return_val_if_fail (callbacks != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_settings (settings, error))
    return NULL;

  leg = g_new0 (IceLeg, 1);
  leg->context = g_main_context_ref_thread_default ();
  leg->callbacks = *callbacks;
  leg->user_data = user_data;
  leg->controlling = controlling;
  leg->timeout_ms =
      settings->timeout_ms != 0 ? settings->timeout_ms : DEFAULT_TIMEOUT_MS;
  leg->state = LEG_NEW;
  leg->early = g_byte_array_new ();
  if (!make_agent (leg, settings, error) || !add_stream (leg, settings, error))
    return NULL;

  g_signal_connect (leg->agent, "candidate-gathering-done",
                    G_CALLBACK (on_gathering_done), leg);
  g_signal_connect (leg->agent, "component-state-changed",
                    G_CALLBACK (on_state_changed), leg);
  return g_steal_pointer (&leg);
}

gboolean
ice_leg_gather (IceLeg *leg, GError **error)
{
  GInputStream *in;

  g_return_val_if_fail (leg != NULL, FALSE);
  g_return_val_if_fail (leg->state == LEG_NEW, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* libnice may emit candidate-gathering-done from inside this call (host
   * candidates only): on_gathered still comes from the notify idle. */
  if (!nice_agent_gather_candidates (leg->agent, leg->stream_id))
    {
      g_set_error_literal (error, ICE_LEG_ERROR, ICE_LEG_ERROR_FAILED,
                           "libnice could not gather candidates (no usable "
                           "address, or no free port in the range)");
      return FALSE;
    }
  leg->state = LEG_GATHERING;

  leg->nice_stream =
      nice_agent_get_io_stream (leg->agent, leg->stream_id, COMPONENT);
  in = g_io_stream_get_input_stream (leg->nice_stream);
  leg->pump = g_pollable_input_stream_create_source (
      G_POLLABLE_INPUT_STREAM (in), NULL);
  g_source_set_name (leg->pump, "IceLeg pump");
  g_source_set_callback (leg->pump, G_SOURCE_FUNC (pump_readable), leg, NULL);
  g_source_attach (leg->pump, leg->context);
  return TRUE;
}

const char *
ice_leg_get_ufrag (IceLeg *leg)
{
  g_return_val_if_fail (leg != NULL, NULL);
  return leg->ufrag;
}

const char *
ice_leg_get_pwd (IceLeg *leg)
{
  g_return_val_if_fail (leg != NULL, NULL);
  return leg->pwd;
}

GPtrArray *
ice_leg_get_local_candidates (IceLeg *leg)
{
  GPtrArray *out;
  GSList *local;

  g_return_val_if_fail (leg != NULL, NULL);

  out = g_ptr_array_new_with_free_func (
      (GDestroyNotify) msrp_sdp_candidate_free);
  local =
      nice_agent_get_local_candidates (leg->agent, leg->stream_id, COMPONENT);
  for (GSList *l = local; l != NULL; l = l->next)
    {
      const NiceCandidate *nc = l->data;
      MsrpSdpCandidate *c;

      /* Peer-reflexive local candidates come from the checks; RFC 8445
       * section 5.3: they are not signalled. */
      if (nc->type == NICE_CANDIDATE_TYPE_PEER_REFLEXIVE)
        continue;
      c = candidate_from_nice (nc);
      if (c != NULL)
        g_ptr_array_add (out, c);
    }
  g_slist_free_full (local, (GDestroyNotify) nice_candidate_free);
  return out;
}

/* RFC 8839 section 5.4: ice-char = ALPHA / DIGIT / "+" / "/". */
static gboolean
check_ice_chars (const char *what, const char *s, gsize min, GError **error)
{
  gsize len = s != NULL ? strlen (s) : 0;

  if (len < min || len > 256)
    {
      g_set_error (error, ICE_LEG_ERROR, ICE_LEG_ERROR_INVALID,
                   "%s is %" G_GSIZE_FORMAT " characters, not %" G_GSIZE_FORMAT
                   " to 256",
                   what, len, min);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (s[i]) && s[i] != '+' && s[i] != '/')
      {
        g_set_error (error, ICE_LEG_ERROR, ICE_LEG_ERROR_INVALID,
                     "%s has character 0x%02x at %" G_GSIZE_FORMAT
                     ", not an ice-char",
                     what, (guint) (guchar) s[i], i);
        return FALSE;
      }
  return TRUE;
}

gboolean
ice_leg_set_remote (IceLeg *leg, const char *ufrag, const char *pwd,
                    GPtrArray *candidates, GError **error)
{
  GSList *list = NULL;
  guint n = 0;
  int added;

  g_return_val_if_fail (leg != NULL, FALSE);
  g_return_val_if_fail (candidates != NULL, FALSE);
  g_return_val_if_fail (leg->state != LEG_NEW && !leg->remote_set, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (leg->state == LEG_FAILED)
    {
      g_set_error_literal (error, ICE_LEG_ERROR, ICE_LEG_ERROR_FAILED,
                           "the leg has already failed");
      return FALSE;
    }
  if (!check_ice_chars ("ice-ufrag", ufrag, 4, error) ||
      !check_ice_chars ("ice-pwd", pwd, 22, error))
    return FALSE;

  for (guint i = 0; i < candidates->len; i++)
    {
      const MsrpSdpCandidate *c = g_ptr_array_index (candidates, i);
      const char *why = NULL;
      NiceCandidate *nc = candidate_to_nice (c, leg->stream_id, &why);

      if (nc == NULL)
        {
          g_debug ("ICE leg %p: skipping remote candidate %u: %s",
                   (void *) leg, i + 1, why);
          continue;
        }
      list = g_slist_append (list, nc);
      n++;
    }
  if (n == 0)
    {
      g_set_error (error, ICE_LEG_ERROR, ICE_LEG_ERROR_INVALID,
                   "none of the %u remote candidates is a usable TCP "
                   "candidate (RFC 6544) of component 1",
                   candidates->len);
      return FALSE;
    }

  if (!nice_agent_set_remote_credentials (leg->agent, leg->stream_id, ufrag,
                                          pwd))
    {
      g_slist_free_full (list, (GDestroyNotify) nice_candidate_free);
      g_set_error_literal (error, ICE_LEG_ERROR, ICE_LEG_ERROR_FAILED,
                           "libnice refuses the remote credentials");
      return FALSE;
    }
  added = nice_agent_set_remote_candidates (leg->agent, leg->stream_id,
                                            COMPONENT, list);
  g_slist_free_full (list, (GDestroyNotify) nice_candidate_free);
  if (added < 0)
    {
      g_set_error_literal (error, ICE_LEG_ERROR, ICE_LEG_ERROR_FAILED,
                           "libnice refuses the remote candidates");
      return FALSE;
    }

  leg->remote_set = TRUE;
  leg->state = LEG_CHECKING;
  leg->timeout = g_timeout_source_new (leg->timeout_ms);
  g_source_set_name (leg->timeout, "IceLeg timeout");
  g_source_set_callback (leg->timeout, on_timeout, leg, NULL);
  g_source_attach (leg->timeout, leg->context);
  return TRUE;
}

gboolean
ice_leg_is_controlling (IceLeg *leg)
{
  g_return_val_if_fail (leg != NULL, FALSE);
  return leg->controlling;
}

static void
agent_closed (GObject *source, GAsyncResult *result, gpointer data)
{
  g_object_unref (source);
}

void
ice_leg_free (IceLeg *leg)
{
  if (leg == NULL)
    return;

  stop_pump (leg);
  stop_timeout (leg);
  if (leg->notify != NULL)
    g_source_destroy (leg->notify);
  if (leg->agent != NULL)
    g_signal_handlers_disconnect_by_data (leg->agent, leg);
  /* The streams before the agent: libnice's holds a weak reference on it
   * and a handler on its streams-removed signal. */
  g_clear_object (&leg->stream);
  g_clear_object (&leg->nice_stream);
  if (leg->agent != NULL)
    {
      /* With a TURN server, let libnice release the allocation first
       * (nice_agent_close_async); the agent goes when that is done. */
      if (leg->has_turn)
        nice_agent_close_async (g_steal_pointer (&leg->agent), agent_closed,
                                NULL);
      else
        g_clear_object (&leg->agent);
    }
  g_clear_pointer (&leg->early, g_byte_array_unref);
  ice_pair_free (leg->pair);
  g_free (leg->failed_reason);
  g_free (leg->failed_tried);
  g_free (leg->ufrag);
  g_free (leg->pwd);
  g_main_context_unref (leg->context);
  g_free (leg);
}
