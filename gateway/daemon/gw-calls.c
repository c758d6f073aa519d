/* gw-calls.c: see gw-calls.h. */
#include "gw-calls.h"

#include <string.h>

#include "gw-ice.h"
#include "gw-log.h"
#include "gw-negotiator.h"
#include "net-loop.h"
#include "msrp-sdp.h"

/* How often calls are checked for expiry, at most. */
#define SWEEP_MAX_S 10
/* How long an offer or answer waits for the gateway's ICE candidates
 * before it is answered without them. */
#define GATHER_TIMEOUT_S 5

typedef struct _Call Call;
typedef struct _Stream Stream;

/* What an ICE leg's callbacks need to find their way back. */
typedef struct
{
  Call *call;
  Stream *stream;
  guint k; /* which leg */
} IceHook;

/* One side of a stream: the party's own URI and, in the relay plan, the
 * gateway's session for it. */
typedef struct
{
  MsrpUri *party;
  MsrpUri *session;
  GInetAddress *addr; /* its c= address, when an IP literal */
  gboolean borrowed;  /* the session belongs to an older call
                       * object until a re-offer succeeds */
  GwIce *ice;         /* the ICE-TCP leg to the party, or NULL */
  IceHook *hook;
} Leg;

struct _Stream
{
  guint media; /* index of the m= line */
  MsrpScheme scheme;
  GwNegParty offerer; /* as the offer said */
  GwNegOfferDecision offer;
  GwNegAnswerDecision answer;
  gboolean answered;
  MsrpSdpSetup setup_to_offerer; /* in the answer it received */
  Leg leg[2];                    /* [0] the offerer's, [1] the answerer's */
};

struct _Call
{
  GwCalls *calls;
  char *call_id;
  char *from_tag; /* the offerer's tag of the last offer */
  char *to_tag;
  gint64 created;       /* wall clock, seconds */
  gint64 last_signal;   /* wall clock, seconds */
  gint64 last_activity; /* the loop's clock, microseconds */
  guint64 last_bytes;   /* relayed bytes at the last check */
  GPtrArray *streams;   /* Stream */
  gboolean answered;
  guint refs;    /* the call and pending connects */
  gboolean gone; /* removed from the table */
  /* An offer or answer waiting for the gateway's ICE candidates. */
  GwNgRequest *pending;
  MsrpSdp *pending_sdp;
  GString *pending_warning;
  gboolean pending_answer;
  NetTimer pending_timer; /* the gathering may take GATHER_TIMEOUT_S */
};

typedef struct
{
  GwNegFact fact;
  gint64 measured; /* the loop's clock, microseconds */
} Fact;

struct _GwCalls
{
  GwRelay *relay;
  char *public_host;
  gboolean has_msrps;
  GwNegPolicy policy;
  guint call_timeout;
  guint reachability_ttl;
  guint max_calls;
  gboolean draining;
  GHashTable *calls; /* call-id -> Call */
  GHashTable *facts; /* IP text -> Fact */
  NetLoop *loop;     /* clock and timers (a reference) */
  NetTimer sweep;
  gboolean ice_enabled;
  IceSettings ice;
  guint idle_timeout_ms;
  /* totals for statistics */
  guint64 offers, answers, deletes, expired;
  guint64 refused[GW_CALLS_N_REFUSALS];
  guint64 plans[GW_NEG_PLAN_REJECTED + 1];
  GwIceStats ice_stats; /* every ICE leg of every call counts here */
};

/* --- streams and calls ----------------------------------------------------
 */

static void pending_abort (Call *c, const char *why);

static void
leg_ice_free (Leg *leg)
{
  g_clear_pointer (&leg->ice, gw_ice_free);
  g_clear_pointer (&leg->hook, g_free);
}

/* Drop a leg without closing its session or its ICE leg (someone else
 * owns them). */
static void
leg_forget (Leg *leg)
{
  g_clear_pointer (&leg->session, msrp_uri_unref);
  g_clear_pointer (&leg->party, msrp_uri_unref);
  g_clear_object (&leg->addr);
  leg->ice = NULL;
  leg->hook = NULL;
  leg->borrowed = FALSE;
}

static void
leg_clear (GwCalls *calls, Leg *leg, const char *reason)
{
  if (leg->borrowed)
    {
      leg_forget (leg);
      return;
    }
  /* The relay closes the connection first, then the ICE leg under it. */
  if (leg->session != NULL)
    gw_relay_close_session (calls->relay, leg->session, reason);
  leg_ice_free (leg);
  leg_forget (leg);
}

static void
stream_free (Stream *s)
{
  gw_neg_party_clear (&s->offerer);
  gw_neg_offer_decision_clear (&s->offer);
  gw_neg_answer_decision_clear (&s->answer);
  g_free (s);
}

static void
stream_close (GwCalls *calls, Stream *s, const char *reason)
{
  leg_clear (calls, &s->leg[0], reason);
  leg_clear (calls, &s->leg[1], reason);
}

static void
call_unref (Call *c)
{
  if (--c->refs > 0)
    return;
  g_assert (c->pending == NULL);
  g_ptr_array_unref (c->streams);
  g_free (c->call_id);
  g_free (c->from_tag);
  g_free (c->to_tag);
  g_free (c);
}

static void on_pending_timeout (NetLoop *loop, NetTimer *timer, gpointer data);

static Call *
call_new (GwCalls *calls, const char *call_id)
{
  Call *c = g_new0 (Call, 1);

  c->calls = calls;
  c->call_id = g_strdup (call_id);
  c->created = g_get_real_time () / G_USEC_PER_SEC;
  c->streams = g_ptr_array_new_with_free_func ((GDestroyNotify) stream_free);
  c->refs = 1;
  net_timer_init (&c->pending_timer, on_pending_timeout, c);
  return c;
}

typedef struct
{
  guint64 bytes_offerer; /* relayed from the offerer's leg */
  guint64 bytes_answerer;
  guint64 messages;
} Counters;

static void
call_counters (Call *c, Counters *n)
{
  memset (n, 0, sizeof *n);
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];

      for (guint k = 0; k < 2; k++)
        {
          GwRelaySessionInfo info;

          if (s->leg[k].session == NULL ||
              !gw_relay_get_session_info (c->calls->relay, s->leg[k].session,
                                          &info))
            continue;
          if (k == 0)
            n->bytes_offerer += info.bytes_from;
          else
            n->bytes_answerer += info.bytes_from;
          n->messages += info.messages_from;
        }
    }
}

/* Log @event with the call's counters, close its sessions and forget it. */
static void
call_remove (Call *c, const char *event, const char *reason)
{
  GwCalls *calls = c->calls;
  g_autoptr (GwLogEvent) ev = gw_log_event_new (G_LOG_LEVEL_INFO, event);
  Counters n;

  pending_abort (c, "the call ended before its reply was ready");
  call_counters (c, &n);
  gw_log_event_add_str (ev, "call_id", c->call_id);
  gw_log_event_add_int (ev, "streams", c->streams->len);
  gw_log_event_add_int (ev, "relay_bytes",
                        (gint64) (n.bytes_offerer + n.bytes_answerer));
  gw_log_event_add_int (ev, "relay_bytes_offerer", (gint64) n.bytes_offerer);
  gw_log_event_add_int (ev, "relay_bytes_answerer", (gint64) n.bytes_answerer);
  gw_log_event_add_int (ev, "relay_messages", (gint64) n.messages);
  gw_log_event_add_int (ev, "duration",
                        g_get_real_time () / G_USEC_PER_SEC - c->created);
  gw_log_event_emit (ev, "call %s %s: %" G_GUINT64_FORMAT " bytes relayed",
                     c->call_id, reason, n.bytes_offerer + n.bytes_answerer);
  for (guint i = 0; i < c->streams->len; i++)
    stream_close (calls, c->streams->pdata[i], reason);
  c->gone = TRUE;
  g_hash_table_remove (calls->calls, c->call_id);
}

static void sweep_schedule (GwCalls *calls);

/* Every few seconds: calls without a command or a relayed byte for
 * call-timeout expire; measured facts older than reachability-ttl go. */
static void
sweep (NetLoop *loop, NetTimer *timer, gpointer data)
{
  GwCalls *calls = data;
  gint64 now = net_loop_now (loop);
  g_autoptr (GPtrArray) old = g_ptr_array_new ();
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, calls->calls);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Call *c = value;
      Counters n;

      call_counters (c, &n);
      if (n.bytes_offerer + n.bytes_answerer != c->last_bytes)
        {
          c->last_bytes = n.bytes_offerer + n.bytes_answerer;
          c->last_activity = now;
        }
      if (now - c->last_activity >=
          (gint64) calls->call_timeout * G_USEC_PER_SEC)
        g_ptr_array_add (old, c);
    }
  for (guint i = 0; i < old->len; i++)
    {
      calls->expired++;
      call_remove (old->pdata[i], "call_expired", "expired");
    }
  g_hash_table_iter_init (&it, calls->facts);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Fact *f = value;

      if (now - f->measured >=
          (gint64) calls->reachability_ttl * G_USEC_PER_SEC)
        g_hash_table_iter_remove (&it);
    }
  sweep_schedule (calls);
}

static void
sweep_schedule (GwCalls *calls)
{
  net_timer_schedule (calls->loop, &calls->sweep,
                      net_loop_now (calls->loop) +
                          (gint64) MIN (SWEEP_MAX_S, calls->call_timeout) *
                              G_USEC_PER_SEC);
}

GwCalls *
gw_calls_new (const GwConfig *config, GwRelay *relay)
{
  GwCalls *calls = g_new0 (GwCalls, 1);

  calls->relay = relay;
  calls->public_host = g_strdup (config->public_host);
  calls->has_msrps = config->listen_msrps->len > 0;
  calls->policy = config->neg_policy;
  calls->call_timeout = config->call_timeout;
  calls->reachability_ttl = config->reachability_ttl;
  calls->max_calls = config->max_calls;
  calls->ice_enabled = config->ice_enabled;
  gw_ice_settings_from_config (&calls->ice, config);
  calls->idle_timeout_ms = config->idle_timeout * 1000;
  calls->calls = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                        (GDestroyNotify) call_unref);
  calls->facts =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  /* On the thread-default context's loop, like the relay and the ng
   * server. */
  calls->loop = net_loop_ref (net_loop_get_default ());
  net_timer_init (&calls->sweep, sweep, calls);
  sweep_schedule (calls);
  return calls;
}

void
gw_calls_free (GwCalls *calls)
{
  GHashTableIter it;
  gpointer value;

  if (calls == NULL)
    return;
  net_timer_cancel (calls->loop, &calls->sweep);
  g_hash_table_iter_init (&it, calls->calls);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Call *c = value;

      pending_abort (c, "msrp-edge is shutting down");
      for (guint i = 0; i < c->streams->len; i++)
        stream_close (calls, c->streams->pdata[i], "shutdown");
      c->gone = TRUE;
    }
  g_hash_table_unref (calls->calls);
  g_hash_table_unref (calls->facts);
  gw_ice_settings_clear (&calls->ice);
  g_free (calls->public_host);
  net_loop_unref (calls->loop);
  g_free (calls);
}

static const char *const refusal_names[] = { "max-calls", "draining" };

const char *
gw_calls_refusal_to_string (GwCallsRefusal refusal)
{
  G_STATIC_ASSERT (G_N_ELEMENTS (refusal_names) == GW_CALLS_N_REFUSALS);
  return (guint) refusal < G_N_ELEMENTS (refusal_names)
             ? refusal_names[refusal]
             : NULL;
}

void
gw_calls_set_draining (GwCalls *calls, gboolean draining)
{
  g_return_if_fail (calls != NULL);
  calls->draining = draining;
}

gboolean
gw_calls_is_draining (GwCalls *calls)
{
  g_return_val_if_fail (calls != NULL, FALSE);
  return calls->draining;
}

/* An offer for a call-id not in the table: may it become a call?  When
 * not, answer `load limit` (rtpengine's answer, on which the proxy tries
 * the next node) and log call_refused, here where it is decided. */
static gboolean
admit_new_call (GwCalls *calls, GwNgRequest *req, const char *call_id)
{
  GwCallsRefusal why;
  const char *message;
  g_autoptr (GwLogEvent) ev = NULL;

  if (calls->draining)
    {
      why = GW_CALLS_REFUSED_DRAINING;
      message = "Shutting down: no new calls";
    }
  else if (g_hash_table_size (calls->calls) >= calls->max_calls)
    {
      why = GW_CALLS_REFUSED_MAX_CALLS;
      /* rtpengine's words for its max-sessions (magic_load_limit_strings),
       * which Kamailio's module shows in its "trying next one" line. */
      message = "Parallel session limit reached";
    }
  else
    {
      return TRUE;
    }
  calls->refused[why]++;
  ev = gw_log_event_new (G_LOG_LEVEL_MESSAGE, "call_refused");
  gw_log_event_add_str (ev, "call_id", call_id);
  gw_log_event_add_str (ev, "reason", gw_calls_refusal_to_string (why));
  gw_log_event_add_int (ev, "calls", g_hash_table_size (calls->calls));
  gw_log_event_add_int (ev, "max_calls", calls->max_calls);
  gw_log_event_add_str (ev, "from", gw_ng_request_get_peer_string (req));
  gw_log_event_emit (ev, "call %s refused with load limit: %s (%u calls)",
                     call_id, gw_calls_refusal_to_string (why),
                     g_hash_table_size (calls->calls));
  gw_ng_request_reply_load_limit (req, message);
  return FALSE;
}

guint
gw_calls_get_n_calls (GwCalls *calls)
{
  return g_hash_table_size (calls->calls);
}

void
gw_calls_get_stats (GwCalls *calls, GwCallsStats *stats)
{
  g_return_if_fail (calls != NULL && stats != NULL);
  memset (stats, 0, sizeof *stats);
  stats->calls = g_hash_table_size (calls->calls);
  stats->offers = calls->offers;
  stats->answers = calls->answers;
  stats->deletes = calls->deletes;
  stats->expired = calls->expired;
  G_STATIC_ASSERT (sizeof stats->refused == sizeof calls->refused);
  memcpy (stats->refused, calls->refused, sizeof stats->refused);
  G_STATIC_ASSERT (sizeof stats->streams == sizeof calls->plans);
  memcpy (stats->streams, calls->plans, sizeof stats->streams);
  stats->ice = calls->ice_stats;
}

/* --- measured reachability ------------------------------------------------
 */

static void
fact_lookup (GwCalls *calls, GInetAddress *addr, GwNegParty *party)
{
  g_autofree char *key = NULL;
  Fact *f;

  if (addr == NULL || calls->reachability_ttl == 0 ||
      party->fact != GW_NEG_FACT_UNKNOWN)
    return;
  key = g_inet_address_to_string (addr);
  f = g_hash_table_lookup (calls->facts, key);
  if (f == NULL)
    return;
  party->fact = f->fact;
  party->fact_age_s =
      (net_loop_now (calls->loop) - f->measured) / G_USEC_PER_SEC;
}

static void
fact_record (GwCalls *calls, GInetAddress *addr, gboolean reachable,
             const char *call_id, const char *how, const char *detail)
{
  g_autofree char *key = NULL;
  g_autoptr (GwLogEvent) ev = NULL;
  Fact *f;

  if (addr == NULL || calls->reachability_ttl == 0)
    return;
  /* Issue 13 finding 4: nothing is learnt about an address the gateway
   * may not connect to (a probe there proves nothing the negotiator may
   * act on, and a planted "127.0.0.1 reachable" would steer later calls). */
  if (!gw_connect_policy_allows (gw_relay_get_connect_policy (calls->relay),
                                 GW_CONNECT_PARTY, addr, 0, NULL))
    return;
  key = g_inet_address_to_string (addr);
  f = g_new0 (Fact, 1);
  f->fact = reachable ? GW_NEG_FACT_REACHABLE : GW_NEG_FACT_UNREACHABLE;
  f->measured = net_loop_now (calls->loop);
  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "reachability_measured");
  gw_log_event_add_str (ev, "call_id", call_id);
  gw_log_event_add_str (ev, "address", key);
  gw_log_event_add_bool (ev, "reachable", reachable);
  gw_log_event_add_str (ev, "how", how);
  if (detail != NULL)
    gw_log_event_add_str (ev, "detail", detail);
  gw_log_event_emit (ev, "measured: %s %s inbound connections", key,
                     reachable ? "accepts" : "does not accept");
  g_hash_table_replace (calls->facts, g_steal_pointer (&key), f);
}

typedef struct
{
  Call *call;
  guint leg;
  GInetAddress *addr;
  MsrpUri *party; /* the leg's party URI, for the log */
} Connect;

/* What a connection attempt of the gateway proves about the party's
 * address: one that accepted a TCP connection is reachable; one that
 * could not be reached at all (timeout, no route) is not.  A refused
 * connection proves nothing: a NAT box answers for its outside address
 * with a RST as readily as a public host without a listener.  No
 * connection for another reason (a name that did not resolve, a failed
 * TLS handshake) counts as not reachable: the gateway then relays, which
 * costs it bytes, where a wrong "reachable" would cost the call. */
static void
on_connected (GwRelay *relay, MsrpUri *session, GwRelayConnectResult result,
              guint64 conn, const char *detail, gpointer data)
{
  Connect *cn = data;
  Call *c = cn->call;

  (void) relay;
  if (!c->gone && result != GW_RELAY_CONNECT_CANCELLED)
    {
      if (result != GW_RELAY_CONNECT_OK)
        {
          /* Handled here, so logged here, once (the relay logs only the
           * connection's connection_closed). */
          g_autoptr (GwLogEvent) ev =
              gw_log_event_new (G_LOG_LEVEL_WARNING, "party_connect_failed");

          gw_log_event_add_str (ev, "call_id", c->call_id);
          gw_log_event_add_str (ev, "session",
                                msrp_uri_get_session_id (session));
          if (conn != 0)
            gw_log_event_add_int (ev, "conn", (gint64) conn);
          gw_log_event_add_str (ev, "party",
                                cn->leg == 0 ? "offerer" : "answerer");
          if (cn->party != NULL)
            gw_log_event_add_str (ev, "party_uri",
                                  msrp_uri_get_text (cn->party));
          gw_log_event_add_str (ev, "reason", detail);
          gw_log_event_emit (ev,
                             "call %s: the gateway could not connect to the "
                             "%s: %s",
                             c->call_id, cn->leg == 0 ? "offerer" : "answerer",
                             detail);
        }
      switch (result)
        {
        case GW_RELAY_CONNECT_OK:
          fact_record (c->calls, cn->addr, TRUE, c->call_id,
                       "gateway connection", "the binding SEND got its 200");
          break;
        case GW_RELAY_CONNECT_BIND_FAILED:
          fact_record (c->calls, cn->addr, TRUE, c->call_id,
                       "gateway connection", detail);
          break;
        case GW_RELAY_CONNECT_UNREACHABLE:
        case GW_RELAY_CONNECT_NO_CONNECTION:
          fact_record (c->calls, cn->addr, FALSE, c->call_id,
                       "gateway connection", detail);
          break;
        case GW_RELAY_CONNECT_REFUSED:
        case GW_RELAY_CONNECT_CANCELLED:
        default:
          break;
        }
    }
  g_clear_object (&cn->addr);
  g_clear_pointer (&cn->party, msrp_uri_unref);
  call_unref (c);
  g_free (cn);
}

/* --- SDP ------------------------------------------------------------------
 */

static const char *
setup_name (MsrpSdpSetup setup)
{
  const char *s = msrp_sdp_setup_to_string (setup);

  return s != NULL ? s : "absent";
}

/* Put the gateway first in @stream (RFC 4976 section 6.4 as if the party
 * had done AUTH): @session before its a=path, the gateway's address and
 * port in c= and m= (RFC 4975 section 8.1; RFC 6714 CEMA endpoints connect
 * there), and its ICE lines gone (they name the party's own addresses). */
static gboolean
insert_gateway (GwCalls *calls, MsrpSdpStream *stream, MsrpUri *session,
                MsrpSdpSetup setup, GError **error)
{
  if (!msrp_sdp_stream_prepend_path (stream, session, error) ||
      !msrp_sdp_stream_set_address (stream, calls->public_host, error) ||
      !msrp_sdp_stream_set_port (stream, msrp_uri_get_port (session), error) ||
      !msrp_sdp_stream_set_setup (stream, setup, error))
    return FALSE;
  msrp_sdp_stream_remove_ice (stream);
  return TRUE;
}

static MsrpUri *
own_uri (MsrpSdpStream *stream)
{
  GPtrArray *path = msrp_sdp_stream_get_path (stream);

  return path != NULL && path->len > 0
             ? msrp_uri_ref (path->pdata[path->len - 1])
             : NULL;
}

static void
log_plan (Call *c, Stream *s, const char *step, GwNegPlan plan,
          const char *to_offerer, const char *to_answerer, const char *reason,
          const char *warning)
{
  g_autoptr (GwLogEvent) ev = gw_log_event_new (
      warning != NULL ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_INFO,
      "plan_decided");

  gw_log_event_add_str (ev, "call_id", c->call_id);
  gw_log_event_add_int (ev, "media", s->media);
  gw_log_event_add_str (ev, "step", step);
  gw_log_event_add_str (ev, "plan", gw_neg_plan_to_string (plan));
  if (to_offerer != NULL)
    gw_log_event_add_str (ev, "setup_to_offerer", to_offerer);
  gw_log_event_add_str (ev, "setup_to_answerer", to_answerer);
  gw_log_event_add_str (ev, "reason", reason);
  if (warning != NULL)
    gw_log_event_add_str (ev, "warning", warning);
  gw_log_event_emit (ev, "call %s stream %u (%s): %s: %s", c->call_id,
                     s->media, step, gw_neg_plan_to_string (plan), reason);
}

static void
add_warning (GString *w, guint media, const char *text)
{
  if (text == NULL)
    return;
  g_string_append_printf (w, "%sMSRP stream %u: %s", w->len > 0 ? "; " : "",
                          media, text);
}

/* A per-call flag: in `flags`, or a key of its own as rtpengine-ng-client
 * writes some ("trust address": 1). */
static gboolean
flag (GwNgRequest *req, const char *name)
{
  GwBencode *dict = gw_ng_request_get_dict (req);
  g_autofree char *spaced = g_strdelimit (g_strdup (name), "-", ' ');
  GwBencode *v;

  if (gw_ng_request_has_flag (req, name))
    return TRUE;
  v = gw_bencode_dict_lookup (dict, name);
  if (v == NULL)
    v = gw_bencode_dict_lookup (dict, spaced);
  if (v == NULL)
    return FALSE;
  /* Present: true unless it says 0, "no" or "false". */
  if (gw_bencode_get_type (v) == GW_BENCODE_INTEGER)
    return gw_bencode_get_int (v) != 0;
  if (gw_bencode_get_type (v) == GW_BENCODE_STRING)
    {
      const char *text = NULL;

      if (gw_bencode_get_text (v, &text) && text != NULL)
        return g_ascii_strcasecmp (text, "no") != 0 &&
               g_ascii_strcasecmp (text, "false") != 0 &&
               strcmp (text, "0") != 0;
    }
  return TRUE;
}

/* The flag msrp-keepalive of an offer (@k 0) or an answer (@k 1) asks
 * for MSRP keep-alives toward the party that sent that SDP, on each of its
 * relayed legs; without it, none (README.md "Standing connections"). */
static void
legs_keepalive (Call *c, GwNgRequest *req, guint k)
{
  gboolean on = flag (req, "msrp-keepalive");

  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];

      if (s->leg[k].session != NULL)
        gw_relay_set_session_keepalive (c->calls->relay, s->leg[k].session,
                                        on);
    }
}

static GwNegPolicy
request_policy (GwCalls *calls, GwNgRequest *req)
{
  if (flag (req, "msrp-anchor"))
    return GW_NEG_POLICY_ALWAYS;
  if (flag (req, "msrp-no-anchor"))
    return GW_NEG_POLICY_NEVER;
  return calls->policy;
}

/* A re-offer (a re-INVITE, a session refresh) keeps the relay sessions of
 * a stream whose offerer kept its URI: the old stream whose leg belongs to
 * @party, or NULL. */
static Stream *
find_stream (Call *old, guint media, MsrpUri *party, guint *leg)
{
  if (old == NULL)
    return NULL;
  for (guint i = 0; i < old->streams->len; i++)
    {
      Stream *s = old->streams->pdata[i];

      if (s->media != media)
        continue;
      for (guint k = 0; k < 2; k++)
        {
          if (s->leg[k].session != NULL &&
              msrp_uri_equal (s->leg[k].party, party))
            {
              *leg = k;
              return s;
            }
        }
    }
  return NULL;
}

/* Copy @from into @to, sharing its session and ICE leg (borrowed until
 * the re-offer succeeds). */
static void
leg_borrow (Leg *to, const Leg *from)
{
  to->party = from->party != NULL ? msrp_uri_ref (from->party) : NULL;
  to->session = from->session != NULL ? msrp_uri_ref (from->session) : NULL;
  to->addr = from->addr != NULL ? g_object_ref (from->addr) : NULL;
  to->ice = from->ice;
  to->hook = from->hook;
  to->borrowed = TRUE;
}

/* The re-offer succeeded: the sessions and ICE legs @c borrowed from @old
 * are @c's now. */
static void
legs_settle (Call *c, Call *old)
{
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];

      for (guint k = 0; k < 2; k++)
        {
          IceHook *hook = s->leg[k].hook;

          if (!s->leg[k].borrowed)
            continue;
          for (guint j = 0; old != NULL && j < old->streams->len; j++)
            {
              Stream *o = old->streams->pdata[j];

              for (guint m = 0; m < 2; m++)
                if (o->leg[m].session != NULL &&
                    msrp_uri_equal (o->leg[m].session, s->leg[k].session))
                  leg_forget (&o->leg[m]);
            }
          if (hook != NULL)
            {
              hook->call = c;
              hook->stream = s;
              hook->k = k;
            }
          s->leg[k].borrowed = FALSE;
        }
    }
}

static void
reply_sdp (GwNgRequest *req, MsrpSdp *sdp, GString *warning)
{
  GwBencode *reply = gw_bencode_new_dict ();
  g_autofree char *text = msrp_sdp_to_string (sdp, NULL);

  gw_bencode_dict_set_string (reply, "sdp", text);
  if (warning->len > 0)
    gw_bencode_dict_set_string (reply, "warning", warning->str);
  gw_ng_request_reply (req, reply);
}

/* --- ICE legs, and replies that wait for their candidates -----------------
 */

static void connect_listening_parties (Call *c);

static gboolean
pending_ready (Call *c)
{
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];
      Leg *l = &s->leg[c->pending_answer ? 0 : 1];

      if (l->ice != NULL && !gw_ice_is_gathered (l->ice))
        return FALSE;
    }
  return TRUE;
}

static void
pending_clear (Call *c)
{
  net_timer_cancel (c->calls->loop, &c->pending_timer);
  g_clear_pointer (&c->pending, gw_ng_request_unref);
  g_clear_pointer (&c->pending_sdp, msrp_sdp_free);
  if (c->pending_warning != NULL)
    g_string_free (g_steal_pointer (&c->pending_warning), TRUE);
}

/* The candidates are in (or will not come): write them into the SDP the
 * party will see, answer, and after an answer start the legs' checks and
 * connect to the parties that only listen. */
static void
pending_finish (Call *c)
{
  gboolean answer = c->pending_answer;

  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];
      Leg *l = &s->leg[answer ? 0 : 1];
      MsrpSdpStream *st;
      g_autoptr (GError) error = NULL;

      if (l->ice == NULL)
        continue;
      st = msrp_sdp_get_media_stream (c->pending_sdp, s->media);
      if (st == NULL || !gw_ice_write_sdp (l->ice, st, &error))
        {
          g_autofree char *w = g_strdup_printf (
              "no ICE toward the %s: %s", answer ? "offerer" : "answerer",
              error != NULL ? error->message : "the stream is gone");

          add_warning (c->pending_warning, s->media, w);
          leg_ice_free (l);
        }
    }
  reply_sdp (c->pending, c->pending_sdp, c->pending_warning);
  pending_clear (c);
  if (answer)
    connect_listening_parties (c);
}

static void
pending_try (Call *c)
{
  if (c->pending != NULL && pending_ready (c))
    pending_finish (c);
}

static void
on_pending_timeout (NetLoop *loop, NetTimer *timer, gpointer data)
{
  Call *c = data;
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];
      Leg *l = &s->leg[c->pending_answer ? 0 : 1];

      if (l->ice != NULL && !gw_ice_is_gathered (l->ice))
        {
          g_autofree char *w = g_strdup_printf ("ICE candidates not gathered "
                                                "within %d s",
                                                GATHER_TIMEOUT_S);

          add_warning (c->pending_warning, s->media, w);
          leg_ice_free (l);
        }
    }
  pending_finish (c);
}

/* Answer @req with @sdp (transfer full) and @warning (transfer full) once
 * the ICE legs whose candidates go into it have gathered. */
static void
pending_start (Call *c, GwNgRequest *req, MsrpSdp *sdp, GString *warning,
               gboolean answer)
{
  c->pending = gw_ng_request_ref (req);
  c->pending_sdp = sdp;
  c->pending_warning = warning;
  c->pending_answer = answer;
  if (pending_ready (c))
    {
      pending_finish (c);
      return;
    }
  net_timer_schedule (c->calls->loop, &c->pending_timer,
                      net_loop_now (c->calls->loop) +
                          GATHER_TIMEOUT_S * G_USEC_PER_SEC);
}

/* The call goes away with a reply still due. */
static void
pending_abort (Call *c, const char *why)
{
  if (c->pending == NULL)
    return;
  gw_ng_request_reply_error (c->pending, "%s", why);
  pending_clear (c);
}

static void
on_ice_gathered (GwIce *ice, gpointer data)
{
  IceHook *h = data;

  pending_try (h->call);
}

static void
on_ice_fact (GwIce *ice, GInetAddress *address, gboolean reachable,
             const char *how, gpointer data)
{
  IceHook *h = data;

  fact_record (h->call->calls, address, reachable, h->call->call_id, how,
               NULL);
}

static const GwIceCallbacks ice_callbacks = {
  .on_gathered = on_ice_gathered,
  .on_fact = on_ice_fact,
};

/* An ICE leg to party @k of @s (the gateway controls the leg it offers,
 * RFC 8445 section 6.1.1); on failure a warning, and none. */
static void
leg_ice_new (Call *c, Stream *s, guint k, GString *warning)
{
  g_autoptr (GError) error = NULL;
  IceHook *hook = g_new0 (IceHook, 1);
  GwIce *ice;

  hook->call = c;
  hook->stream = s;
  hook->k = k;
  ice = gw_ice_new (&c->calls->ice, c->calls->idle_timeout_ms, c->calls->relay,
                    &c->calls->ice_stats, k == 1, c->call_id,
                    k == 0 ? "offerer" : "answerer", &ice_callbacks, hook,
                    &error);
  if (ice == NULL)
    {
      g_autofree char *w =
          g_strdup_printf ("no ICE leg to the %s: %s",
                           k == 0 ? "offerer" : "answerer", error->message);

      add_warning (warning, s->media, w);
      g_free (hook);
      return;
    }
  s->leg[k].ice = ice;
  s->leg[k].hook = hook;
}

/* --- offer ----------------------------------------------------------------
 */

static MsrpSdp *
request_sdp (GwNgRequest *req, GError **error)
{
  gsize len;
  const char *text = gw_ng_request_get_sdp (req, &len);

  return msrp_sdp_parse (text, len, error);
}

static void
handle_offer (GwNgRequest *req, gpointer data)
{
  GwCalls *calls = data;
  const char *call_id = gw_ng_request_get_call_id (req);
  GInetAddress *rf = gw_ng_request_get_received_from (req);
  gboolean trust = flag (req, "trust-address");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp = NULL;
  g_autoptr (GString) warning = NULL;
  Call *old = NULL;
  Call *c;
  GwNegOfferInput in = { 0 };

  /* Before anything costs: a refused call is not worth reading. */
  old = g_hash_table_lookup (calls->calls, call_id);
  if (old == NULL && !admit_new_call (calls, req, call_id))
    return;
  sdp = request_sdp (req, &error);
  if (sdp == NULL)
    {
      gw_ng_request_reply_error (req, "the SDP cannot be read: %s",
                                 error->message);
      return;
    }
  warning = g_string_new (NULL);
  if (old != NULL && old->pending != NULL)
    {
      gw_ng_request_reply_error (req,
                                 "the previous %s of call '%s' is still "
                                 "being answered",
                                 old->pending_answer ? "answer" : "offer",
                                 call_id);
      return;
    }
  c = call_new (calls, call_id);
  c->from_tag = g_strdup (gw_ng_request_get_from_tag (req));
  in.policy = request_policy (calls, req);
  in.callee_reachable = flag (req, "callee-reachable");

  for (guint i = 0; i < msrp_sdp_get_n_streams (sdp); i++)
    {
      MsrpSdpStream *st = msrp_sdp_get_stream (sdp, i);
      Stream *s, *prev;
      guint k = 0;

      if (msrp_sdp_stream_get_port (st) == 0)
        continue; /* a disabled stream (RFC 3264 section 8.2) */
      s = g_new0 (Stream, 1);
      g_ptr_array_add (c->streams, s);
      s->media = msrp_sdp_stream_get_media_index (st);
      s->scheme = msrp_sdp_stream_get_proto (st) == MSRP_SDP_PROTO_TCP_TLS_MSRP
                      ? MSRP_SCHEME_MSRPS
                      : MSRP_SCHEME_MSRP;
      s->leg[0].party = own_uri (st);
      s->leg[0].addr = gw_neg_stream_address (st);
      if (s->leg[0].party == NULL)
        {
          gw_ng_request_reply_error (req,
                                     "MSRP stream %u (m= line %u) has no "
                                     "a=path (RFC 4975 section 8.2)",
                                     i, s->media + 1);
          goto fail;
        }
      gw_neg_party_from_stream (&s->offerer, st, rf, trust);
      s->offerer.ice = calls->ice_enabled && s->scheme == MSRP_SCHEME_MSRP &&
                       gw_ice_stream_has_ice (st);
      fact_lookup (calls, s->leg[0].addr, &s->offerer);
      fact_lookup (calls, rf, &s->offerer);
      in.can_anchor = TRUE;
      in.cannot_anchor_why = NULL;
      if (s->scheme == MSRP_SCHEME_MSRPS && !calls->has_msrps)
        {
          in.can_anchor = FALSE;
          in.cannot_anchor_why = "a TCP/TLS/MSRP stream and no msrps listener";
        }
      else if (msrp_sdp_stream_get_fingerprints (st)->len > 0)
        {
          in.can_anchor = FALSE;
          in.cannot_anchor_why =
              "a=fingerprint ties the TLS connection to the "
              "party's own certificate (RFC 8122)";
        }
      prev = find_stream (old, s->media, s->leg[0].party, &k);
      in.relayed = prev != NULL;
      gw_neg_decide_offer (&s->offerer, &in, &s->offer);

      if (s->offer.plan == GW_NEG_PLAN_RELAY)
        {
          /* An ICE party keeps its leg and selected pair while it keeps its
           * credentials; new ones (an ICE restart, RFC 8445 section 9) or a
           * party new to ICE start over. */
          if (prev != NULL && s->offerer.ice &&
              (prev->leg[k].ice == NULL ||
               !gw_ice_same_party (prev->leg[k].ice, st)))
            prev = NULL;
          if (prev != NULL)
            {
              g_clear_pointer (&s->leg[0].party, msrp_uri_unref);
              g_clear_object (&s->leg[0].addr);
              leg_borrow (&s->leg[0], &prev->leg[k]);
              leg_borrow (&s->leg[1], &prev->leg[1 - k]);
            }
          else
            {
              s->leg[0].session = gw_relay_preauthorize_session (
                  calls->relay, s->scheme, s->leg[0].party, call_id, &error);
              if (s->leg[0].session == NULL)
                {
                  gw_ng_request_reply_error (
                      req,
                      "MSRP stream %u: no relay session: "
                      "%s",
                      i, error->message);
                  goto fail;
                }
              /* ICE-TCP: a leg to the offerer (its candidates kept for the
               * checks, which start at the answer), and one offered to the
               * answerer. */
              if (s->offerer.ice)
                {
                  leg_ice_new (c, s, 0, warning);
                  if (s->leg[0].ice != NULL &&
                      !gw_ice_set_party (s->leg[0].ice, st, &error))
                    {
                      add_warning (warning, s->media, error->message);
                      g_clear_error (&error);
                      leg_ice_free (&s->leg[0]);
                    }
                  if (s->leg[0].ice == NULL)
                    s->offerer.ice = FALSE;
                  else
                    leg_ice_new (c, s, 1, warning);
                }
            }
          if (!insert_gateway (calls, st, s->leg[0].session,
                               s->offer.setup_to_answerer, &error))
            {
              gw_ng_request_reply_error (req,
                                         "MSRP stream %u cannot be rewritten: "
                                         "%s",
                                         i, error->message);
              goto fail;
            }
        }
      else if (s->offer.setup_to_answerer != MSRP_SDP_SETUP_ABSENT &&
               !msrp_sdp_stream_set_setup (st, s->offer.setup_to_answerer,
                                           &error))
        {
          gw_ng_request_reply_error (req,
                                     "MSRP stream %u cannot be rewritten: "
                                     "%s",
                                     i, error->message);
          goto fail;
        }
      add_warning (warning, s->media, s->offer.warning);
    }

  /* Decided and rewritten: the new call replaces the old one. */
  legs_settle (c, old);
  legs_keepalive (c, req, 0);
  if (old != NULL)
    {
      for (guint i = 0; i < old->streams->len; i++)
        stream_close (calls, old->streams->pdata[i], "re-offer");
      c->created = old->created;
      old->gone = TRUE;
      g_hash_table_remove (calls->calls, call_id);
    }
  c->last_signal = g_get_real_time () / G_USEC_PER_SEC;
  c->last_activity = net_loop_now (calls->loop);
  g_hash_table_insert (calls->calls, c->call_id, c);
  calls->offers++;
  {
    g_autoptr (GwLogEvent) ev =
        gw_log_event_new (G_LOG_LEVEL_INFO, "call_offered");
    g_autofree char *rf_text =
        rf != NULL ? g_inet_address_to_string (rf) : NULL;

    gw_log_event_add_str (ev, "call_id", call_id);
    gw_log_event_add_str (ev, "from_tag", c->from_tag);
    gw_log_event_add_int (ev, "streams", c->streams->len);
    if (rf_text != NULL)
      gw_log_event_add_str (ev, "received_from", rf_text);
    gw_log_event_add_bool (ev, "reoffer", old != NULL);
    gw_log_event_emit (ev, "call %s offered with %u MSRP streams", call_id,
                       c->streams->len);
  }
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];

      log_plan (c, s, "offer", s->offer.plan, NULL,
                setup_name (s->offer.setup_to_answerer != MSRP_SDP_SETUP_ABSENT
                                ? s->offer.setup_to_answerer
                                : s->offerer.setup),
                s->offer.reason, s->offer.warning);
    }
  pending_start (c, req, g_steal_pointer (&sdp), g_steal_pointer (&warning),
                 FALSE);
  return;

fail:
  /* Nothing is kept: sessions made for this offer close again; borrowed
   * ones stay with the old call, which stays as it was. */
  for (guint i = 0; i < c->streams->len; i++)
    stream_close (calls, c->streams->pdata[i], "offer failed");
  c->gone = TRUE;
  call_unref (c);
}

/* --- answer ---------------------------------------------------------------
 */

/* The address the gateway would connect to for @party (its URI's host,
 * when an IP literal) and @port (out) (optional): the URI's port.  NULL for
 * a host name. */
static GInetAddress *
party_target (MsrpUri *party, guint16 *port)
{
  MsrpHostType type;

  if (party == NULL)
    return NULL;
  type = msrp_uri_get_host_type (party);
  if (port != NULL)
    *port = msrp_uri_get_effective_port (party);
  if (type != MSRP_HOST_IPV4 && type != MSRP_HOST_IPV6)
    return NULL;
  return g_inet_address_new_from_string (msrp_uri_get_host (party));
}

/* May the gateway connect to leg @k of @s?  When not, say so in the
 * warning of the reply and in connect_refused (logged here, where it is
 * handled), and the party is not connected to: it has to connect to the
 * gateway itself.  Checked before the reply goes out, so only IP
 * literals: a name would have to be resolved first (and its answer is
 * the name owner's to choose), and the reachability guess already takes a
 * name for a party that cannot be reached. */
static gboolean
connect_allowed (Call *c, Stream *s, guint k, GString *warning)
{
  GwConnectPolicy *policy = gw_relay_get_connect_policy (c->calls->relay);
  MsrpUri *party = s->leg[k].party;
  const char *who = k == 0 ? "offerer" : "answerer";
  guint16 port = 0;
  g_autoptr (GInetAddress) addr = party_target (party, &port);
  g_autofree char *rule = NULL;
  g_autofree char *peer = NULL;
  g_autofree char *w = NULL;
  g_autoptr (GwLogEvent) ev = NULL;

  if (party == NULL)
    return TRUE;
  if (addr != NULL &&
      gw_connect_policy_allows (policy, GW_CONNECT_PARTY, addr, port, &rule))
    return TRUE;
  if (addr == NULL)
    rule = g_strdup ("a host name (the gateway connects to parties at IP "
                     "addresses only)");
  peer = g_strdup_printf (
      "%s%s%s:%u", msrp_uri_get_host_type (party) == MSRP_HOST_IPV6 ? "[" : "",
      msrp_uri_get_host (party),
      msrp_uri_get_host_type (party) == MSRP_HOST_IPV6 ? "]" : "", port);
  ev = gw_log_event_new (G_LOG_LEVEL_MESSAGE, "connect_refused");
  gw_log_event_add_str (ev, "to",
                        gw_connect_kind_to_string (GW_CONNECT_PARTY));
  gw_log_event_add_str (ev, "call_id", c->call_id);
  gw_log_event_add_str (ev, "party", who);
  gw_log_event_add_str (ev, "peer", peer);
  gw_log_event_add_str (ev, "rule", rule);
  gw_log_event_emit (ev, "call %s: not connecting to the %s at %s: %s",
                     c->call_id, who, peer, rule);
  w = g_strdup_printf ("the gateway does not connect to the %s at %s (%s): "
                       "it must connect to the gateway itself",
                       who, peer, rule);
  add_warning (warning, s->media, w);
  return FALSE;
}

/* The gateway connects to leg @k of @s (a party that only listens). */
static void
connect_leg (Call *c, Stream *s, guint k)
{
  g_autoptr (GError) error = NULL;
  Connect *cn = g_new0 (Connect, 1);

  cn->call = c;
  cn->leg = k;
  /* What the connection proves is about the address it goes to: the
   * party URI's host (an IP literal: party_target()), not whatever c=
   * says. */
  cn->addr = party_target (s->leg[k].party, NULL);
  cn->party = s->leg[k].party != NULL ? msrp_uri_ref (s->leg[k].party) : NULL;
  c->refs++;
  if (!gw_relay_connect_session (c->calls->relay, s->leg[k].session,
                                 on_connected, cn, &error))
    {
      g_autoptr (GwLogEvent) ev =
          gw_log_event_new (G_LOG_LEVEL_WARNING, "party_connect_failed");

      gw_log_event_add_str (ev, "call_id", c->call_id);
      gw_log_event_add_str (ev, "party", k == 0 ? "offerer" : "answerer");
      gw_log_event_add_str (ev, "reason", error->message);
      gw_log_event_emit (ev, "call %s: no connection to the %s: %s",
                         c->call_id, k == 0 ? "offerer" : "answerer",
                         error->message);
      g_clear_object (&cn->addr);
      g_clear_pointer (&cn->party, msrp_uri_unref);
      c->refs--;
      g_free (cn);
    }
}

/* Apply the answer decision of @s to @st, the answerer's stream in the SDP
 * the offerer will see.  New relay sessions are made here and paired. */
static gboolean
answer_stream (Call *c, Stream *s, MsrpSdpStream *st, GError **error)
{
  GwCalls *calls = c->calls;
  MsrpUri *party = own_uri (st);
  Leg *b = &s->leg[1];
  gboolean same;

  if (s->answer.plan != GW_NEG_PLAN_RELAY)
    {
      msrp_uri_unref (party);
      return TRUE;
    }
  /* A re-answer with the answerer's URI unchanged keeps its session and
   * the pairing; otherwise a new session is paired with the offerer's. */
  same = b->session != NULL && b->party != NULL &&
         msrp_uri_equal (b->party, party);
  if (!same)
    {
      /* The ICE leg offered to the answerer stays: it is this answer's. */
      GwIce *ice = g_steal_pointer (&b->ice);
      IceHook *hook = g_steal_pointer (&b->hook);

      leg_clear (calls, b, "re-answer");
      b->ice = ice;
      b->hook = hook;
      b->party = party;
      party = NULL;
      b->addr = gw_neg_stream_address (st);
      b->session = gw_relay_preauthorize_session (calls->relay, s->scheme,
                                                  b->party, c->call_id, error);
      if (b->session == NULL ||
          !gw_relay_pair_sessions (calls->relay, s->leg[0].session, b->session,
                                   error))
        return FALSE;
    }
  g_clear_pointer (&party, msrp_uri_unref);
  return insert_gateway (calls, st, b->session, s->answer.setup_to_offerer,
                         error);
}

static void
handle_answer (GwNgRequest *req, gpointer data)
{
  GwCalls *calls = data;
  const char *call_id = gw_ng_request_get_call_id (req);
  GInetAddress *rf = gw_ng_request_get_received_from (req);
  gboolean trust = flag (req, "trust-address");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp = NULL;
  g_autoptr (GString) warning = g_string_new (NULL);
  Call *c = g_hash_table_lookup (calls->calls, call_id);

  if (c == NULL)
    {
      gw_ng_request_reply_error (req,
                                 "unknown call-id '%s': no offer was seen "
                                 "for it",
                                 call_id);
      return;
    }
  if (c->pending != NULL)
    {
      gw_ng_request_reply_error (req,
                                 "the %s of call '%s' is still being "
                                 "answered",
                                 c->pending_answer ? "previous "
                                                     "answer"
                                                   : "offer",
                                 call_id);
      return;
    }
  sdp = request_sdp (req, &error);
  if (sdp == NULL)
    {
      gw_ng_request_reply_error (req, "the SDP cannot be read: %s",
                                 error->message);
      return;
    }
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];
      MsrpSdpStream *st = msrp_sdp_get_media_stream (sdp, s->media);
      g_auto (GwNegParty) answerer = { 0 };
      gboolean rejected = st == NULL || msrp_sdp_stream_get_port (st) == 0;

      if (!rejected && msrp_sdp_stream_get_path (st) == NULL)
        {
          gw_ng_request_reply_error (req,
                                     "MSRP stream in m= line %u of the "
                                     "answer has no a=path (RFC 4975 section "
                                     "8.2)",
                                     s->media + 1);
          return;
        }
      if (!rejected)
        {
          g_autoptr (GInetAddress) addr = gw_neg_stream_address (st);

          gw_neg_party_from_stream (&answerer, st, rf, trust);
          fact_lookup (calls, addr, &answerer);
          fact_lookup (calls, rf, &answerer);
          /* The answerer takes up the ICE the gateway offered it, or not. */
          if (s->leg[1].ice != NULL)
            {
              if (gw_ice_stream_has_ice (st) &&
                  gw_ice_set_party (s->leg[1].ice, st, &error))
                {
                  answerer.ice = TRUE;
                }
              else
                {
                  g_clear_error (&error);
                  leg_ice_free (&s->leg[1]);
                }
            }
        }
      gw_neg_answer_decision_clear (&s->answer);
      gw_neg_decide_answer (&s->offer, &s->offerer, &answerer, rejected,
                            &s->answer);
      if (!rejected && !answer_stream (c, s, st, &error))
        {
          gw_ng_request_reply_error (req,
                                     "MSRP stream %u cannot be rewritten: "
                                     "%s",
                                     i, error->message);
          return;
        }
      add_warning (warning, s->media, s->answer.warning);
      /* Whom the gateway will connect to once the answer is out: refused
       * ones are said in this reply, and left alone. */
      for (guint k = 0; k < 2; k++)
        {
          GwNegConnect which =
              k == 0 ? GW_NEG_CONNECT_OFFERER : GW_NEG_CONNECT_ANSWERER;

          if ((s->answer.connect & which) &&
              !connect_allowed (c, s, k, warning))
            s->answer.connect &= ~which;
        }
    }

  c->answered = TRUE;
  g_free (c->to_tag);
  c->to_tag = g_strdup (gw_ng_request_get_to_tag (req));
  c->last_signal = g_get_real_time () / G_USEC_PER_SEC;
  c->last_activity = net_loop_now (calls->loop);
  calls->answers++;
  {
    g_autoptr (GwLogEvent) ev =
        gw_log_event_new (G_LOG_LEVEL_INFO, "call_answered");

    gw_log_event_add_str (ev, "call_id", call_id);
    if (c->to_tag != NULL)
      gw_log_event_add_str (ev, "to_tag", c->to_tag);
    gw_log_event_add_int (ev, "streams", c->streams->len);
    gw_log_event_emit (ev, "call %s answered", call_id);
  }
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];
      MsrpSdpStream *st = msrp_sdp_get_media_stream (sdp, s->media);
      MsrpSdpSetup to_offerer = s->answer.setup_to_offerer;

      if (to_offerer == MSRP_SDP_SETUP_ABSENT && st != NULL)
        to_offerer = msrp_sdp_stream_get_setup (st);
      s->setup_to_offerer = to_offerer;
      calls->plans[s->answer.plan]++;
      log_plan (c, s, "answer", s->answer.plan, setup_name (to_offerer),
                setup_name (s->offer.setup_to_answerer != MSRP_SDP_SETUP_ABSENT
                                ? s->offer.setup_to_answerer
                                : s->offerer.setup),
                s->answer.reason, s->answer.warning);
      if (s->answer.plan == GW_NEG_PLAN_REJECTED)
        stream_close (calls, s, "stream rejected");
    }
  legs_keepalive (c, req, 1);
  pending_start (c, req, g_steal_pointer (&sdp), g_steal_pointer (&warning),
                 TRUE);
}

/* After the answer went out the parties know the plan from their SDP: the
 * ICE legs start their checks, and the gateway connects to the parties
 * that only listen (RFC 6135 section 4.2.2). */
static void
connect_listening_parties (Call *c)
{
  GwCalls *calls = c->calls;

  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];

      if (s->answer.plan != GW_NEG_PLAN_RELAY)
        continue;
      for (guint k = 0; k < 2; k++)
        {
          GwRelaySessionInfo info;
          GwNegConnect which =
              k == 0 ? GW_NEG_CONNECT_OFFERER : GW_NEG_CONNECT_ANSWERER;
          g_autoptr (GError) error = NULL;

          if (s->leg[k].ice != NULL && !gw_ice_start (s->leg[k].ice, &error))
            {
              g_autoptr (GwLogEvent) ev =
                  gw_log_event_new (G_LOG_LEVEL_WARNING, "ice_failed");

              gw_log_event_add_str (ev, "call_id", c->call_id);
              gw_log_event_add_str (ev, "party",
                                    k == 0 ? "offerer" : "answerer");
              gw_log_event_add_str (ev, "reason", error->message);
              gw_log_event_emit (ev,
                                 "call %s: the ICE leg to the %s cannot "
                                 "start: %s",
                                 c->call_id, k == 0 ? "offerer" : "answerer",
                                 error->message);
              leg_ice_free (&s->leg[k]);
            }
          if ((s->answer.connect & which) &&
              gw_relay_get_session_info (calls->relay, s->leg[k].session,
                                         &info) &&
              !info.bound)
            connect_leg (c, s, k);
        }
    }
}

/* --- delete, query, list, statistics --------------------------------------
 */

static void
handle_delete (GwNgRequest *req, gpointer data)
{
  GwCalls *calls = data;
  const char *call_id = gw_ng_request_get_call_id (req);
  Call *c = g_hash_table_lookup (calls->calls, call_id);

  if (c == NULL)
    {
      gw_ng_request_reply_error (req, "unknown call-id '%s'", call_id);
      return;
    }
  calls->deletes++;
  call_remove (c, "call_deleted", "deleted");
  gw_ng_request_reply (req, NULL);
}

static void
handle_query (GwNgRequest *req, gpointer data)
{
  GwCalls *calls = data;
  const char *call_id = gw_ng_request_get_call_id (req);
  Call *c = g_hash_table_lookup (calls->calls, call_id);
  GwBencode *reply, *streams;

  if (c == NULL)
    {
      gw_ng_request_reply_error (req, "unknown call-id '%s'", call_id);
      return;
    }
  reply = gw_bencode_new_dict ();
  streams = gw_bencode_new_list ();
  gw_bencode_dict_set_int (reply, "created", c->created);
  gw_bencode_dict_set_int (reply, "last signal", c->last_signal);
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];
      GwBencode *d = gw_bencode_new_dict ();
      GwNegPlan plan = c->answered ? s->answer.plan : s->offer.plan;
      guint64 bytes = 0, messages = 0;

      for (guint k = 0; k < 2; k++)
        {
          GwRelaySessionInfo info;

          if (s->leg[k].session != NULL &&
              gw_relay_get_session_info (calls->relay, s->leg[k].session,
                                         &info))
            {
              bytes += info.bytes_from;
              messages += info.messages_from;
              gw_bencode_dict_set_int (
                  d, k == 0 ? "offerer-bytes" : "answerer-bytes",
                  (gint64) info.bytes_from);
              gw_bencode_dict_set_int (
                  d, k == 0 ? "offerer-bound" : "answerer-bound", info.bound);
            }
        }
      gw_bencode_dict_set_int (d, "media", s->media);
      gw_bencode_dict_set_string (d, "plan", gw_neg_plan_to_string (plan));
      gw_bencode_dict_set_string (d, "step", c->answered ? "answer" : "offer");
      gw_bencode_dict_set_string (
          d, "setup-to-answerer",
          setup_name (s->offer.setup_to_answerer != MSRP_SDP_SETUP_ABSENT
                          ? s->offer.setup_to_answerer
                          : s->offerer.setup));
      if (c->answered)
        gw_bencode_dict_set_string (d, "setup-to-offerer",
                                    setup_name (s->setup_to_offerer));
      gw_bencode_dict_set_string (
          d, "reason", c->answered ? s->answer.reason : s->offer.reason);
      if ((c->answered ? s->answer.warning : s->offer.warning) != NULL)
        gw_bencode_dict_set_string (
            d, "warning", c->answered ? s->answer.warning : s->offer.warning);
      gw_bencode_dict_set_int (d, "relay-bytes", (gint64) bytes);
      gw_bencode_dict_set_int (d, "relay-messages", (gint64) messages);
      gw_bencode_list_take (streams, d);
    }
  gw_bencode_dict_take (reply, "streams", streams);
  gw_ng_request_reply (req, reply);
}

static void
handle_list (GwNgRequest *req, gpointer data)
{
  GwCalls *calls = data;
  GwBencode *reply = gw_bencode_new_dict ();
  GwBencode *list = gw_bencode_new_list ();
  GwBencode *limit =
      gw_bencode_dict_lookup (gw_ng_request_get_dict (req), "limit");
  gint64 max = G_MAXINT64;
  g_autoptr (GList) keys = g_hash_table_get_keys (calls->calls);

  /* rtpengine's `limit`: at most that many call-ids (default 32). */
  if (limit != NULL && gw_bencode_get_type (limit) == GW_BENCODE_INTEGER)
    max = gw_bencode_get_int (limit);
  else
    max = 32;
  keys = g_list_sort (keys, (GCompareFunc) strcmp);
  for (GList *l = keys; l != NULL && max > 0; l = l->next, max--)
    gw_bencode_list_add_string (list, l->data);
  gw_bencode_dict_take (reply, "calls", list);
  gw_ng_request_reply (req, reply);
}

static void
handle_statistics (GwNgRequest *req, gpointer data)
{
  GwCalls *calls = data;
  GwBencode *reply = gw_bencode_new_dict ();
  GwBencode *cur = gw_bencode_new_dict ();
  GwBencode *tot = gw_bencode_new_dict ();
  GwCallsStats cs;
  GwRelayStats st;

  /* The accessors the metrics read, so both say the same. */
  gw_calls_get_stats (calls, &cs);
  gw_relay_get_stats (calls->relay, &st);
  /* rtpengine's names where they mean the same. */
  gw_bencode_dict_set_int (cur, "sessionsown", cs.calls);
  gw_bencode_dict_set_int (cur, "sessionstotal", cs.calls);
  gw_bencode_dict_set_int (cur, "connections", st.connections);
  gw_bencode_dict_set_int (cur, "relaysessions", st.sessions);
  gw_bencode_dict_set_int (tot, "managedsessions", (gint64) cs.offers);
  gw_bencode_dict_set_int (tot, "offers", (gint64) cs.offers);
  gw_bencode_dict_set_int (tot, "answers", (gint64) cs.answers);
  gw_bencode_dict_set_int (tot, "deletes", (gint64) cs.deletes);
  gw_bencode_dict_set_int (tot, "timeoutsessions", (gint64) cs.expired);
  gw_bencode_dict_set_int (tot, "rejectedsessions",
                           (gint64) (cs.refused[GW_CALLS_REFUSED_MAX_CALLS] +
                                     cs.refused[GW_CALLS_REFUSED_DRAINING]));
  for (guint p = 0; p <= GW_NEG_PLAN_REJECTED; p++)
    {
      g_autofree char *key =
          g_strdup_printf ("streams-%s", gw_neg_plan_to_string (p));

      gw_bencode_dict_set_int (tot, key, (gint64) cs.streams[p]);
    }
  gw_bencode_dict_set_int (tot, "relay-bytes-in", (gint64) st.bytes_in);
  gw_bencode_dict_set_int (tot, "relay-bytes-out", (gint64) st.bytes_out);
  gw_bencode_dict_set_int (tot, "relay-messages", (gint64) st.messages);
  gw_bencode_dict_take (reply, "currentstatistics", cur);
  gw_bencode_dict_take (reply, "totalstatistics", tot);
  gw_ng_request_reply (req, reply);
}

static const GwNgHandler handler = {
  .offer = handle_offer,
  .answer = handle_answer,
  .delete = handle_delete,
  .query = handle_query,
  .list = handle_list,
  .statistics = handle_statistics,
};

const GwNgHandler *
gw_calls_get_ng_handler (void)
{
  return &handler;
}
