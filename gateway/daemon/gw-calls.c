/* gw-calls.c: see gw-calls.h. */
#include "gw-calls.h"

#include <string.h>

#include "gw-anchor.h"
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

/* What an ICE leg's callbacks need to find their way back: the call that
 * owns the leg (a re-offer moves the leg to its new call). */
typedef struct
{
  Call *call;
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
  gboolean bind_on_ice; /* the party is passive over its ICE leg: the
                         * gateway sends the first SEND on the pair */
} Leg;

/* The offer's side of one MSRP stream, which every branch of a forked
 * call shares: what the offer said, the plan it got, the offerer's leg. */
typedef struct
{
  guint media; /* index of the m= line */
  MsrpScheme scheme;
  GwNegParty offerer; /* as the offer said */
  GwNegOfferDecision offer;
  Leg offerer_leg; /* the offerer's */
  /* The ICE leg whose candidates the offer carried toward the answerers,
   * until a branch's answer takes it up (its ice and hook only). */
  Leg offered;
  /* Plan cema (RFC 6714): the stream's anchor, shared by the branches:
   * its answerer is the branch's that answered last with a plan that
   * uses it.  Borrowed from the call a re-offer replaces until the
   * re-offer succeeds. */
  GwAnchor *anchor;
  gboolean anchor_borrowed;
  GInetAddress *offer_rf; /* where the offer's signalling came from */
  guint16 offer_port;     /* the offer's m= port */
} Stream;

/* One branch's answer to one stream. */
typedef struct
{
  gboolean answered;
  GwNegAnswerDecision answer;
  MsrpSdpSetup setup_to_offerer; /* in the answer it received */
  Leg leg;                       /* the answerer's */
} Answer;

/* What a party saw of the SDPs written for it, for RFC 3264 section 8:
 * "the version in the origin field MUST increment by one from the
 * previous SDP", and stays when the SDP is the same.  Per party and per
 * dialog: the offerer sees each branch's answers as that dialog's. */
typedef struct
{
  gboolean known;    /* it saw one */
  guint64 last;      /* the o= version of the last it saw */
  guint64 high;      /* the highest it ever saw */
  guint8 digest[32]; /* SHA-256 of the last, as it was before the gateway
                      * set its version (so the originator's) */
} SdpSeen;

/* The o= version a party sent last. */
typedef struct
{
  gboolean known;
  guint64 version;
} SdpSent;

/* A branch of the call: one answerer, known by the to-tag of its answers
 * (RFC 3261 section 12: a dialog), with its answer to each stream. */
typedef struct
{
  char *to_tag;
  gint64 created;      /* wall clock, seconds */
  gboolean answered;   /* an answer of it went out */
  GPtrArray *answers;  /* Answer, one per Stream of the call, same index */
  SdpSeen to_answerer; /* what its answerer saw: offers */
  SdpSeen to_offerer;  /* what the offerer saw in this dialog: answers */
  SdpSent answerer;    /* its answerer's last SDP */
} Branch;

struct _Call
{
  GwCalls *calls;
  char *call_id;
  char *from_tag;       /* the offerer's tag of the last offer */
  gint64 created;       /* wall clock, seconds */
  gint64 last_signal;   /* wall clock, seconds */
  gint64 last_activity; /* the loop's clock, microseconds */
  guint64 last_bytes;   /* relayed bytes at the last check */
  GPtrArray *streams;   /* Stream */
  GPtrArray *branches;  /* Branch, in the order they answered */
  Branch *current;      /* the branch answered last, or NULL */
  Branch *reoffered;    /* the dialog a re-offer continues, until its
                         * answer */
  SdpSeen offer_seen;   /* what the answerers saw of the (forked) offer;
                         * a new branch starts from it */
  SdpSent offerer;      /* the offerer's last SDP */
  guint refs;           /* the call and pending connects */
  gboolean gone;        /* removed from the table */
  /* An offer or answer waiting for the gateway's ICE candidates. */
  GwNgRequest *pending;
  MsrpSdp *pending_sdp;
  GString *pending_warning;
  Branch *pending_branch; /* the branch an answer is for; NULL: an offer */
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
  GwAnchorPool *anchors; /* nullable, not owned: plan cema */
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
  guint64 plans[GW_NEG_N_PLANS];
  GwIceStats ice_stats; /* every ICE leg of every call counts here */
};

/* --- legs -----------------------------------------------------------------
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

/* Whether @a and @b hold the same session, or (without sessions) the same
 * ICE leg: a borrowed leg and the one it was borrowed from. */
static gboolean
leg_same (const Leg *a, const Leg *b)
{
  if (a->session != NULL || b->session != NULL)
    return a->session != NULL && b->session != NULL &&
           msrp_uri_equal (a->session, b->session);
  return a->ice != NULL && a->ice == b->ice;
}

/* --- streams, branches, calls ---------------------------------------------
 */

static void
stream_free (Stream *s)
{
  g_assert (s->anchor == NULL || s->anchor_borrowed);
  g_clear_object (&s->offer_rf);
  gw_neg_party_clear (&s->offerer);
  gw_neg_offer_decision_clear (&s->offer);
  g_free (s);
}

static void
answer_free (Answer *a)
{
  gw_neg_answer_decision_clear (&a->answer);
  g_free (a);
}

static Branch *
branch_new (const char *to_tag, guint n_streams)
{
  Branch *b = g_new0 (Branch, 1);

  b->to_tag = g_strdup (to_tag != NULL ? to_tag : "");
  b->created = g_get_real_time () / G_USEC_PER_SEC;
  b->answers = g_ptr_array_new_with_free_func ((GDestroyNotify) answer_free);
  for (guint i = 0; i < n_streams; i++)
    g_ptr_array_add (b->answers, g_new0 (Answer, 1));
  return b;
}

static void
branch_free (Branch *b)
{
  g_ptr_array_unref (b->answers);
  g_free (b->to_tag);
  g_free (b);
}

static Answer *
branch_answer (Branch *b, guint i)
{
  return b->answers->pdata[i];
}

/* What to do with each leg of a call: @offerer tells the offerer's from
 * the answerers'. */
typedef void (*LegFunc) (Leg *leg, gboolean offerer, gpointer data);

/* Every leg of @c: the offer's (the offerer's and the one offered to the
 * answerers) and every branch's. */
static void
call_foreach_leg (Call *c, LegFunc fn, gpointer data)
{
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];

      fn (&s->offerer_leg, TRUE, data);
      fn (&s->offered, FALSE, data);
    }
  for (guint b = 0; b < c->branches->len; b++)
    {
      Branch *br = c->branches->pdata[b];

      for (guint i = 0; i < br->answers->len; i++)
        fn (&branch_answer (br, i)->leg, FALSE, data);
    }
}

typedef struct
{
  GwCalls *calls;
  const char *reason;
} Closing;

static void
close_leg (Leg *leg, gboolean offerer, gpointer data)
{
  Closing *cl = data;

  leg_clear (cl->calls, leg, cl->reason);
}

/* Close every session and ICE leg of @c (borrowed ones stay their
 * owner's). */
static void
call_close_legs (Call *c, const char *reason)
{
  Closing cl = { c->calls, reason };

  call_foreach_leg (c, close_leg, &cl);
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];

      if (s->anchor != NULL && !s->anchor_borrowed)
        {
          gw_anchor_close (s->anchor, reason);
          g_clear_pointer (&s->anchor, gw_anchor_free);
        }
    }
}

static void
branch_close (GwCalls *calls, Branch *b, const char *reason)
{
  for (guint i = 0; i < b->answers->len; i++)
    leg_clear (calls, &branch_answer (b, i)->leg, reason);
}

static void
call_unref (Call *c)
{
  if (--c->refs > 0)
    return;
  g_assert (c->pending == NULL);
  g_ptr_array_unref (c->branches);
  g_ptr_array_unref (c->streams);
  g_free (c->call_id);
  g_free (c->from_tag);
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
  c->branches = g_ptr_array_new_with_free_func ((GDestroyNotify) branch_free);
  c->refs = 1;
  net_timer_init (&c->pending_timer, on_pending_timeout, c);
  return c;
}

/* A stream of the offer, and its place in every branch. */
static Stream *
call_add_stream (Call *c)
{
  Stream *s = g_new0 (Stream, 1);

  g_ptr_array_add (c->streams, s);
  for (guint b = 0; b < c->branches->len; b++)
    g_ptr_array_add (((Branch *) c->branches->pdata[b])->answers,
                     g_new0 (Answer, 1));
  return s;
}

typedef struct
{
  GwCalls *calls;
  guint64 bytes_offerer; /* relayed from the offerer's leg */
  guint64 bytes_answerer;
  guint64 messages;
  guint64 anchored; /* passed through the streams' anchors, both ways */
} Counters;

static void
count_leg (Leg *leg, gboolean offerer, gpointer data)
{
  Counters *n = data;
  GwRelaySessionInfo info;

  if (leg->session == NULL ||
      !gw_relay_get_session_info (n->calls->relay, leg->session, &info))
    return;
  if (offerer)
    n->bytes_offerer += info.bytes_from;
  else
    n->bytes_answerer += info.bytes_from;
  n->messages += info.messages_from;
}

static void
call_counters (Call *c, Counters *n)
{
  memset (n, 0, sizeof *n);
  n->calls = c->calls;
  call_foreach_leg (c, count_leg, n);
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];
      GwAnchorInfo info;

      if (s->anchor == NULL)
        continue;
      gw_anchor_get_info (s->anchor, &info);
      n->anchored += info.bytes_from[GW_ANCHOR_OFFERER] +
                     info.bytes_from[GW_ANCHOR_ANSWERER];
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
  gw_log_event_add_int (ev, "anchored_bytes", (gint64) n.anchored);
  gw_log_event_add_int (ev, "duration",
                        g_get_real_time () / G_USEC_PER_SEC - c->created);
  gw_log_event_emit (ev, "call %s %s: %" G_GUINT64_FORMAT " bytes relayed",
                     c->call_id, reason, n.bytes_offerer + n.bytes_answerer);
  call_close_legs (c, reason);
  c->gone = TRUE;
  g_hash_table_remove (calls->calls, c->call_id);
}

static void sweep_schedule (GwCalls *calls);

/* The ICE legs @c's offer carried to the answerers that no branch took up
 * go once the offerer is bound to its relay session: it has gone on with
 * one dialog, and an ICE agent with its listening socket is not held for
 * the rest of a long call on the chance of a later branch. */
static void
call_trim_offered (Call *c)
{
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];
      GwRelaySessionInfo info;

      if (s->offered.ice != NULL && s->offerer_leg.session != NULL &&
          gw_relay_get_session_info (c->calls->relay, s->offerer_leg.session,
                                     &info) &&
          info.bound)
        leg_ice_free (&s->offered);
    }
}

/* Every few seconds: calls without a command or a relayed byte for
 * call-timeout expire, the others let go of ICE legs nobody took up;
 * measured facts older than reachability-ttl go. */
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

      call_trim_offered (c);
      call_counters (c, &n);
      if (n.bytes_offerer + n.bytes_answerer + n.anchored != c->last_bytes)
        {
          c->last_bytes = n.bytes_offerer + n.bytes_answerer + n.anchored;
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
      call_close_legs (c, "shutdown");
      c->gone = TRUE;
    }
  g_hash_table_unref (calls->calls);
  g_hash_table_unref (calls->facts);
  gw_ice_settings_clear (&calls->ice);
  g_free (calls->public_host);
  net_loop_unref (calls->loop);
  g_free (calls);
}

void
gw_calls_set_anchor_pool (GwCalls *calls, GwAnchorPool *pool)
{
  g_return_if_fail (calls != NULL);
  calls->anchors = pool;
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
  if (calls->anchors != NULL)
    {
      GwAnchorPoolStats as;

      gw_anchor_pool_get_stats (calls->anchors, &as);
      stats->anchors = as.anchors;
      stats->anchored_bytes = as.bytes;
    }
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

/* The flag msrp-keepalive of an offer (@b NULL) or of branch @b's answer
 * asks for MSRP keep-alives toward the party that sent that SDP, on each
 * of its relayed legs; without it, none (README.md "Standing
 * connections"). */
static void
legs_keepalive (Call *c, Branch *b, GwNgRequest *req)
{
  gboolean on = flag (req, "msrp-keepalive");

  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];
      Leg *leg = b != NULL ? &branch_answer (b, i)->leg : &s->offerer_leg;

      if (leg->session != NULL)
        gw_relay_set_session_keepalive (c->calls->relay, leg->session, on);
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

/* --- o= versions (RFC 3264 section 8) -------------------------------------
 */

static void
sdp_sent_read (SdpSent *sent, MsrpSdp *sdp)
{
  sent->known = msrp_sdp_get_origin_version (sdp, &sent->version, NULL);
}

static void
seen_record (SdpSeen *seen, guint64 version, const guint8 *digest)
{
  seen->high = seen->known ? MAX (seen->high, version) : version;
  seen->known = TRUE;
  seen->last = version;
  memcpy (seen->digest, digest, sizeof seen->digest);
}

static void
sdp_digest (const char *text, gsize len, guint8 *digest)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize n = 32;

  g_checksum_update (sum, (const guchar *) text, (gssize) len);
  g_checksum_get_digest (sum, digest, &n);
}

static void
version_warning (GString *warning, const GError *error)
{
  g_string_append_printf (warning,
                          "%sthe o= version is left as the originator "
                          "wrote it: %s",
                          warning->len > 0 ? "; " : "", error->message);
}

/* Set the o= version of @sdp, about to go to a party that saw @seen (as
 * rtpengine's replace: SDP-version): an SDP passed as the request had it
 * (@in) stays as it is; a rewritten one keeps its originator's version
 * the first time the party sees one, the version the party saw last when
 * it is the same SDP again (RFC 3264 section 8: then the version "MUST
 * NOT" change), else one more than the highest it saw, so that a peer
 * never sees a changed SDP under a version it knows, whether the change is
 * the originator's or the gateway's.  A warning when o= cannot be read or
 * set. */
static void
sdp_version_apply (MsrpSdp *sdp, const char *in, gsize in_len, SdpSeen *seen,
                   GString *warning)
{
  gsize len;
  g_autofree char *out = msrp_sdp_to_string (sdp, &len);
  g_autoptr (GError) error = NULL;
  gboolean same = len == in_len && memcmp (out, in, len) == 0;
  guint8 digest[32];
  guint64 version, want;

  if (!msrp_sdp_get_origin_version (sdp, &version, &error))
    {
      if (!same)
        version_warning (warning, error);
      return;
    }
  sdp_digest (out, len, digest);
  if (same || !seen->known)
    want = version;
  else if (memcmp (digest, seen->digest, sizeof digest) == 0)
    want = seen->last;
  else
    want = seen->high + 1;
  if (want != version && !msrp_sdp_set_origin_version (sdp, want, &error))
    {
      version_warning (warning, error);
      want = version;
    }
  seen_record (seen, want, digest);
}

/* --- ICE legs, and replies that wait for their candidates -----------------
 */

static void connect_listening_parties (Call *c, Branch *b);

/* The leg whose candidates go into stream @i of the pending reply: toward
 * the offerer (an answer) the offerer's; toward the answerer (an offer)
 * the one of the dialog a re-offer continues when it has ICE, else the one
 * offered. */
static Leg *
reply_leg (Call *c, guint i)
{
  Stream *s = c->streams->pdata[i];

  if (c->pending_branch != NULL)
    return &s->offerer_leg;
  if (c->branches->len > 0)
    {
      Leg *l = &branch_answer (c->branches->pdata[0], i)->leg;

      if (l->ice != NULL)
        return l;
    }
  return &s->offered;
}

static gboolean
pending_ready (Call *c)
{
  for (guint i = 0; i < c->streams->len; i++)
    {
      Leg *l = reply_leg (c, i);

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
  c->pending_branch = NULL;
}

/* The pending reply goes out with its o= version in step with what its
 * receiver saw: the offerer, in the dialog of the answering branch; the
 * answerers of an offer (the dialog a re-offer continues), which a branch
 * answering later starts from. */
static void
reply_versioned (Call *c)
{
  SdpSeen *seen;
  gsize len;
  const char *in = gw_ng_request_get_sdp (c->pending, &len);

  if (c->pending_branch != NULL)
    seen = &c->pending_branch->to_offerer;
  else if (c->branches->len > 0)
    seen = &((Branch *) c->branches->pdata[0])->to_answerer;
  else
    seen = &c->offer_seen;
  sdp_version_apply (c->pending_sdp, in, len, seen, c->pending_warning);
  if (c->pending_branch == NULL)
    c->offer_seen = *seen;
  reply_sdp (c->pending, c->pending_sdp, c->pending_warning);
}

/* The candidates are in (or will not come): write them into the SDP the
 * party will see, answer, and after an answer start the legs' checks and
 * connect to the parties that only listen. */
static void
pending_finish (Call *c)
{
  Branch *answered = c->pending_branch;

  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];
      Leg *l = reply_leg (c, i);
      MsrpSdpStream *st;
      g_autoptr (GError) error = NULL;

      if (l->ice == NULL)
        continue;
      st = msrp_sdp_get_media_stream (c->pending_sdp, s->media);
      if (st == NULL || !gw_ice_write_sdp (l->ice, st, &error))
        {
          g_autofree char *w = g_strdup_printf (
              "no ICE toward the %s: %s",
              answered != NULL ? "offerer" : "answerer",
              error != NULL ? error->message : "the stream is gone");

          add_warning (c->pending_warning, s->media, w);
          leg_ice_free (l);
        }
    }
  reply_versioned (c);
  pending_clear (c);
  if (answered != NULL)
    connect_listening_parties (c, answered);
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
      Leg *l = reply_leg (c, i);

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
 * the ICE legs whose candidates go into it have gathered; @answered: the
 * branch of an answer, NULL for an offer. */
static void
pending_start (Call *c, GwNgRequest *req, MsrpSdp *sdp, GString *warning,
               Branch *answered)
{
  c->pending = gw_ng_request_ref (req);
  c->pending_sdp = sdp;
  c->pending_warning = warning;
  c->pending_branch = answered;
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

typedef struct
{
  GwIce *ice;
  Leg *leg;
  guint k;
} IceFind;

static void
find_ice_leg (Leg *leg, gboolean offerer, gpointer data)
{
  IceFind *f = data;

  if (leg->ice == f->ice)
    {
      f->leg = leg;
      f->k = offerer ? 0 : 1;
    }
}

static void connect_leg (Call *c, Leg *leg, guint k, gboolean ice);

/* A leg's pair is up: a party that is passive over it gets the gateway's
 * binding SEND there (connect_party()). */
static void
on_ice_ready (GwIce *ice, gpointer data)
{
  IceHook *h = data;
  IceFind f = { ice, NULL, 0 };
  GwRelaySessionInfo info;

  call_foreach_leg (h->call, find_ice_leg, &f);
  if (f.leg == NULL || !f.leg->bind_on_ice || f.leg->session == NULL ||
      !gw_relay_get_session_info (h->call->calls->relay, f.leg->session,
                                  &info) ||
      info.bound)
    return;
  connect_leg (h->call, f.leg, f.k, TRUE);
}

static const GwIceCallbacks ice_callbacks = {
  .on_gathered = on_ice_gathered,
  .on_fact = on_ice_fact,
  .on_ready = on_ice_ready,
};

/* An ICE leg to the offerer (@offerer) or to the answerers, in @leg (the
 * gateway controls the leg it offers, RFC 8445 section 6.1.1); on failure
 * a warning about stream @media, and none. */
static void
leg_ice_new (Call *c, Leg *leg, gboolean offerer, guint media,
             GString *warning)
{
  g_autoptr (GError) error = NULL;
  IceHook *hook = g_new0 (IceHook, 1);
  const char *who = offerer ? "offerer" : "answerer";
  GwIce *ice;

  hook->call = c;
  ice = gw_ice_new (&c->calls->ice, c->calls->idle_timeout_ms, c->calls->relay,
                    &c->calls->ice_stats, !offerer, c->call_id, who,
                    &ice_callbacks, hook, &error);
  if (ice == NULL)
    {
      g_autofree char *w =
          g_strdup_printf ("no ICE leg to the %s: %s", who, error->message);

      add_warning (warning, media, w);
      g_free (hook);
      return;
    }
  leg->ice = ice;
  leg->hook = hook;
}

/* --- re-offers ------------------------------------------------------------
 */

static void
forget_in_old (Leg *old_leg, gboolean offerer, gpointer data)
{
  if (leg_same (old_leg, data))
    leg_forget (old_leg);
}

typedef struct
{
  Call *c;
  Call *old;
} Settle;

static void
settle_leg (Leg *leg, gboolean offerer, gpointer data)
{
  Settle *st = data;

  if (!leg->borrowed)
    return;
  if (st->old != NULL)
    call_foreach_leg (st->old, forget_in_old, leg);
  if (leg->hook != NULL)
    leg->hook->call = st->c;
  leg->borrowed = FALSE;
}

/* The re-offer succeeded: the sessions and ICE legs @c borrowed from @old
 * are @c's now. */
static void
legs_settle (Call *c, Call *old)
{
  Settle st = { c, old };

  call_foreach_leg (c, settle_leg, &st);
}

static Branch *
find_branch (Call *c, const char *to_tag)
{
  for (guint i = 0; to_tag != NULL && i < c->branches->len; i++)
    {
      Branch *b = c->branches->pdata[i];

      if (strcmp (b->to_tag, to_tag) == 0)
        return b;
    }
  return NULL;
}

/* The branch of @old a re-offer @req continues (RFC 3261 section 14: a
 * re-INVITE belongs to one dialog): the one whose to-tag is the request's
 * from-tag (its answerer re-offers) or to-tag, else the one answered last;
 * NULL before any answer. */
static Branch *
reoffer_dialog (Call *old, GwNgRequest *req)
{
  Branch *b;

  if (old == NULL)
    return NULL;
  b = find_branch (old, gw_ng_request_get_from_tag (req));
  if (b == NULL)
    b = find_branch (old, gw_ng_request_get_to_tag (req));
  return b != NULL ? b : old->current;
}

/* Whether the party re-offering in @sdp is @dialog's answerer (the roles
 * turn): its from-tag is the branch's to-tag, or one of its streams has
 * the answerer's URI rather than the offerer's. */
static gboolean
reoffer_reversed (Call *old, Branch *dialog, MsrpSdp *sdp, const char *from)
{
  if (g_strcmp0 (dialog->to_tag, from) == 0)
    return TRUE;
  for (guint i = 0; i < old->streams->len; i++)
    {
      Stream *s = old->streams->pdata[i];
      Leg *a = &branch_answer (dialog, i)->leg;
      MsrpSdpStream *st = s->media < msrp_sdp_get_n_media (sdp)
                              ? msrp_sdp_get_media_stream (sdp, s->media)
                              : NULL;
      g_autoptr (MsrpUri) party = st != NULL ? own_uri (st) : NULL;

      if (party != NULL && a->session != NULL &&
          msrp_uri_equal (party, a->party) &&
          !(s->offerer_leg.party != NULL &&
            msrp_uri_equal (party, s->offerer_leg.party)))
        return TRUE;
    }
  return FALSE;
}

/* --- CEMA anchors (RFC 6714) ---------------------------------------------
 */

static GInetAddress *party_target (MsrpUri *party, guint16 *port);

/* One party of an anchor as the SDP and the signalling have it
 * (gw-anchor.h): it connects from its c= address or from where its
 * signalling came from, or the gateway connects to it. */
typedef struct
{
  GPtrArray *sources;
  GSocketAddress *target;
  MsrpUri *uri;
  GwAnchorPartySettings set;
} AnchorParty;

/* @c: its c= address; @rf: its signalling's source (both nullable); a
 * party behind a NAT connects from an address its SDP cannot know, so
 * without @rf a c= that is not public checks nothing.  @to and @port:
 * where it waits, when @outbound. */
static void
anchor_party_init (AnchorParty *p, gboolean outbound, GInetAddress *c,
                   GInetAddress *rf, GInetAddress *to, guint16 port,
                   MsrpUri *uri)
{
  memset (p, 0, sizeof *p);
  p->sources = g_ptr_array_new_with_free_func (g_object_unref);
  if (rf != NULL)
    g_ptr_array_add (p->sources, g_object_ref (rf));
  if (c != NULL && (rf != NULL || gw_neg_address_is_public (c)) &&
      !(rf != NULL && g_inet_address_equal (c, rf)))
    g_ptr_array_add (p->sources, g_object_ref (c));
  if (outbound && to != NULL)
    p->target = g_inet_socket_address_new (to, port);
  p->uri = uri != NULL ? msrp_uri_ref (uri) : NULL;
  p->set.outbound = outbound;
  p->set.sources = p->sources;
  p->set.target = p->target;
  p->set.uri = p->uri;
}

static void
anchor_party_clear (AnchorParty *p)
{
  g_clear_pointer (&p->sources, g_ptr_array_unref);
  g_clear_object (&p->target);
  g_clear_pointer (&p->uri, msrp_uri_unref);
}

/* The offerer of @s: the gateway connects to it at its c= and m= when
 * @outbound (RFC 6714 section 4.2: a passive CEMA offerer waits there). */
static void
offerer_anchor_party (Stream *s, gboolean outbound, AnchorParty *p)
{
  anchor_party_init (p, outbound, s->offerer_leg.addr, s->offer_rf,
                     s->offerer_leg.addr, s->offer_port, s->offerer_leg.party);
}

/* The answerer in @st, its answer: the gateway connects to it at its c=
 * and m= (a CEMA answerer, section 4.3) or, @by_path, at its a=path URI
 * (RFC 4975 section 8.1: where a non-CEMA endpoint listens). */
static void
answerer_anchor_party (MsrpSdpStream *st, GInetAddress *rf, gboolean outbound,
                       gboolean by_path, AnchorParty *p)
{
  g_autoptr (GInetAddress) c = gw_neg_stream_address (st);
  g_autoptr (MsrpUri) uri = own_uri (st);
  guint16 port = 0;
  g_autoptr (GInetAddress) to = by_path ? party_target (uri, &port) : NULL;

  if (to == NULL)
    {
      to = c != NULL ? g_object_ref (c) : NULL;
      port = msrp_sdp_stream_get_port (st);
    }
  anchor_party_init (p, outbound, c, rf, to, port, uri);
}

/* Write @anchor's host and port into @st's c= and m= (RFC 6714 section
 * 6.3), and nothing else: a=path passes untouched (section 4.4), and
 * a=msrp-cema stays.  ICE lines go: they name the party's own
 * addresses, which nobody is to connect to now.  The host is of the
 * family of @reader, the address of the party that will read @st (NULL:
 * not known yet, the family of @st's own c= is the guess). */
static gboolean
anchor_rewrite (GwAnchor *anchor, MsrpSdpStream *st, GInetAddress *reader,
                GError **error)
{
  g_autoptr (GInetAddress) c = gw_neg_stream_address (st);
  GInetAddress *by = reader != NULL ? reader : c;
  GSocketFamily family =
      by != NULL && g_inet_address_get_family (by) == G_SOCKET_FAMILY_IPV6
          ? G_SOCKET_FAMILY_IPV6
          : G_SOCKET_FAMILY_IPV4;
  const char *host = gw_anchor_get_sdp_host (anchor, family);

  if (host == NULL)
    host = gw_anchor_get_sdp_host (anchor, family == G_SOCKET_FAMILY_IPV6
                                               ? G_SOCKET_FAMILY_IPV4
                                               : G_SOCKET_FAMILY_IPV6);
  if (host == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "the CEMA anchor has no address to write into c=");
      return FALSE;
    }
  if (!msrp_sdp_stream_set_address (st, host, error) ||
      !msrp_sdp_stream_set_port (st, gw_anchor_get_port (anchor), error))
    return FALSE;
  msrp_sdp_stream_remove_ice (st);
  return TRUE;
}

static GwAnchorState
anchor_state (GwAnchor *anchor)
{
  GwAnchorInfo info;

  gw_anchor_get_info (anchor, &info);
  return info.state;
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

/* An offer while its streams are decided. */
typedef struct
{
  GwCalls *calls;
  GwNgRequest *req;
  MsrpSdp *sdp;
  Call *c;        /* the call it makes */
  Call *old;      /* the call it re-offers, or NULL */
  Branch *dialog; /* @old's branch it continues, or NULL */
  Branch *kept;   /* @c's branch for @dialog, or NULL */
  GInetAddress *rf;
  gboolean trust;
  GwNegOfferInput in;
  GString *warning;
} Offer;

/* What a re-offer keeps of @old's stream: the re-offering party's leg
 * (@own) and the other side's (@other: the dialog's answerer, or before
 * any answer the ICE leg offered to the answerers). */
typedef struct
{
  Leg *own;
  Leg *other;
} Prev;

/* A re-offer (a re-INVITE, a session refresh) keeps the relay sessions of
 * a stream whose re-offering party kept its URI, whichever side it is on
 * (RFC 3264 section 8: either party may re-offer).  FALSE when nothing is
 * kept. */
static gboolean
find_prev (Offer *o, guint media, MsrpUri *party, Prev *p)
{
  Call *old = o->old;

  for (guint i = 0; old != NULL && i < old->streams->len; i++)
    {
      Stream *s = old->streams->pdata[i];
      Leg *answerer =
          o->dialog != NULL ? &branch_answer (o->dialog, i)->leg : NULL;

      if (s->media != media)
        continue;
      if (s->offerer_leg.session != NULL &&
          msrp_uri_equal (s->offerer_leg.party, party))
        {
          p->own = &s->offerer_leg;
          p->other = answerer != NULL ? answerer : &s->offered;
          return TRUE;
        }
      if (answerer != NULL && answerer->session != NULL &&
          msrp_uri_equal (answerer->party, party))
        {
          p->own = answerer;
          p->other = &s->offerer_leg;
          return TRUE;
        }
    }
  return FALSE;
}

/* Whether the gateway can relay stream @st of @s, into @o->in. */
static void
offer_can_anchor (Offer *o, Stream *s, MsrpSdpStream *st)
{
  o->in.can_anchor = TRUE;
  o->in.cannot_anchor_why = NULL;
  if (s->scheme == MSRP_SCHEME_MSRPS && !o->calls->has_msrps)
    {
      o->in.can_anchor = FALSE;
      o->in.cannot_anchor_why = "a TCP/TLS/MSRP stream and no msrps listener";
    }
  else if (msrp_sdp_stream_get_fingerprints (st)->len > 0)
    {
      o->in.can_anchor = FALSE;
      o->in.cannot_anchor_why = "a=fingerprint ties the TLS connection to the "
                                "party's own certificate (RFC 8122)";
    }
}

/* Plan cema at the offer: the stream's anchor, a re-offer's (RFC 3264
 * section 8) so that its connections live on, else a new one.  Neither
 * party is given to it before the answer: only the answer makes the roles
 * final (an actpass offerer may end up connected to), and a TLS anchor
 * tells its parties apart by source address alone, so an answerer that
 * connects from the offerer's address (one NAT, one host) before its
 * answer has been read would pass for an inbound offerer.  Until the
 * answer a connection waits, unread (gw-anchor.h). */
static gboolean
offer_anchor (Offer *o, Stream *s, GError **error)
{
  Call *old = o->old;
  GwAnchorSettings set = { .call_id = o->c->call_id,
                           .tls = s->scheme == MSRP_SCHEME_MSRPS };

  for (guint i = 0; old != NULL && i < old->streams->len; i++)
    {
      Stream *prev = old->streams->pdata[i];
      Leg *ans = o->dialog != NULL ? &branch_answer (o->dialog, i)->leg : NULL;
      MsrpUri *party = s->offerer_leg.party;

      /* A stream that ended (its parties closed their connections) has
       * no listener left, one of the other transport checks the wrong
       * things, and a party that re-offers with a new URI (a new session,
       * a new address) would be refused by the joined legs: the re-offer
       * gets a new anchor. */
      if (prev->media == s->media && prev->anchor != NULL &&
          prev->scheme == s->scheme &&
          anchor_state (prev->anchor) != GW_ANCHOR_STATE_CLOSED &&
          ((prev->offerer_leg.party != NULL &&
            msrp_uri_equal (prev->offerer_leg.party, party)) ||
           (ans != NULL && ans->party != NULL &&
            msrp_uri_equal (ans->party, party))))
        {
          s->anchor = prev->anchor;
          s->anchor_borrowed = TRUE;
          return TRUE;
        }
    }
  s->anchor = gw_anchor_new (o->calls->anchors, &set, error);
  return s->anchor != NULL;
}

/* The anchors @c borrowed from @old, the call a re-offer replaces, are
 * @c's now. */
static void
anchors_settle (Call *c, Call *old)
{
  for (guint i = 0; old != NULL && i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];

      if (!s->anchor_borrowed)
        continue;
      for (guint j = 0; j < old->streams->len; j++)
        {
          Stream *prev = old->streams->pdata[j];

          if (prev->anchor == s->anchor)
            prev->anchor = NULL;
        }
      s->anchor_borrowed = FALSE;
    }
}

/* A new relay session for the offerer of @s and, when it offers ICE, an
 * ICE leg to it (its candidates kept for the checks, which start at the
 * answer) and one offered to the answerers. */
static gboolean
offer_new_legs (Offer *o, Stream *s, MsrpSdpStream *st, GError **error)
{
  Call *c = o->c;
  g_autoptr (GError) ice_error = NULL;

  s->offerer_leg.session = gw_relay_preauthorize_session (
      o->calls->relay, s->scheme, s->offerer_leg.party, c->call_id, error);
  if (s->offerer_leg.session == NULL)
    return FALSE;
  if (!s->offerer.ice)
    return TRUE;
  leg_ice_new (c, &s->offerer_leg, TRUE, s->media, o->warning);
  if (s->offerer_leg.ice != NULL &&
      !gw_ice_set_party (s->offerer_leg.ice, st, &ice_error))
    {
      add_warning (o->warning, s->media, ice_error->message);
      leg_ice_free (&s->offerer_leg);
    }
  if (s->offerer_leg.ice == NULL)
    s->offerer.ice = FALSE;
  else
    leg_ice_new (c, &s->offered, FALSE, s->media, o->warning);
  return TRUE;
}

/* The relay plan for @s: the sessions (a re-offer's kept ones, or new),
 * and the gateway first in the stream the answerer will see. */
static gboolean
offer_relay (Offer *o, Stream *s, MsrpSdpStream *st, GError **error)
{
  Prev prev;
  gboolean kept = find_prev (o, s->media, s->offerer_leg.party, &prev);

  /* An ICE party keeps its leg and selected pair while it keeps its
   * credentials; new ones (an ICE restart, RFC 8445 section 9) or a party
   * new to ICE start over. */
  if (kept && s->offerer.ice &&
      (prev.own->ice == NULL || !gw_ice_same_party (prev.own->ice, st)))
    kept = FALSE;
  if (kept)
    {
      Leg *other = o->kept != NULL
                       ? &branch_answer (o->kept, o->c->streams->len - 1)->leg
                       : &s->offered;

      leg_forget (&s->offerer_leg);
      leg_borrow (&s->offerer_leg, prev.own);
      leg_borrow (other, prev.other);
    }
  else if (!offer_new_legs (o, s, st, error))
    {
      g_prefix_error (error, "no relay session: ");
      return FALSE;
    }
  /* The gateway is the MSRP B2BUA of RFC 6714 section 6.2 here: it does
   * not pass a=msrp-cema on. */
  return insert_gateway (o->calls, st, s->offerer_leg.session,
                         s->offer.setup_to_answerer, error) &&
         msrp_sdp_stream_set_cema (st, FALSE, error);
}

/* The offer's plan for @s, applied to @st (the stream the answerer will
 * see): the relay (sessions, the gateway in the path), or a=setup alone
 * when the decision says so. */
static gboolean
offer_apply (Offer *o, Stream *s, MsrpSdpStream *st, GError **error)
{
  switch (s->offer.plan)
    {
    case GW_NEG_PLAN_RELAY:
      return offer_relay (o, s, st, error);
    case GW_NEG_PLAN_CEMA:
      return anchor_rewrite (s->anchor, st, NULL, error);
    default:
      return s->offer.setup_to_answerer == MSRP_SDP_SETUP_ABSENT ||
             msrp_sdp_stream_set_setup (st, s->offer.setup_to_answerer, error);
    }
}

/* The offer's plan for @s; for plan cema its anchor.  A stream that cannot
 * have one (no port left, no socket) gets the other plans, with a
 * warning. */
static void
offer_decide (Offer *o, Stream *s)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *w = NULL;

  o->in.tls = s->scheme == MSRP_SCHEME_MSRPS;
  o->in.can_cema = o->calls->anchors != NULL;
  gw_neg_decide_offer (&s->offerer, &o->in, &s->offer);
  if (s->offer.plan != GW_NEG_PLAN_CEMA || offer_anchor (o, s, &error))
    return;
  w = g_strdup_printf ("no CEMA anchor (%s): the stream gets the other "
                       "plans",
                       error->message);
  add_warning (o->warning, s->media, w);
  o->in.can_cema = FALSE;
  gw_neg_offer_decision_clear (&s->offer);
  gw_neg_decide_offer (&s->offerer, &o->in, &s->offer);
}

/* Read, decide and rewrite MSRP stream @i of the offer, @st.  FALSE with
 * @error (the reply's words) when it cannot be. */
static gboolean
offer_stream (Offer *o, guint i, MsrpSdpStream *st, GError **error)
{
  GwCalls *calls = o->calls;
  Stream *s = call_add_stream (o->c);
  Prev prev;

  s->media = msrp_sdp_stream_get_media_index (st);
  s->scheme = msrp_sdp_stream_get_proto (st) == MSRP_SDP_PROTO_TCP_TLS_MSRP
                  ? MSRP_SCHEME_MSRPS
                  : MSRP_SCHEME_MSRP;
  s->offerer_leg.party = own_uri (st);
  s->offerer_leg.addr = gw_neg_stream_address (st);
  if (s->offerer_leg.party == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "MSRP stream %u (m= line %u) has no a=path (RFC 4975 "
                   "section 8.2)",
                   i, s->media + 1);
      return FALSE;
    }
  gw_neg_party_from_stream (&s->offerer, st, o->rf, o->trust);
  s->offerer.ice = calls->ice_enabled && s->scheme == MSRP_SCHEME_MSRP &&
                   gw_ice_stream_has_ice (st);
  fact_lookup (calls, s->offerer_leg.addr, &s->offerer);
  fact_lookup (calls, o->rf, &s->offerer);
  offer_can_anchor (o, s, st);
  o->in.relayed = find_prev (o, s->media, s->offerer_leg.party, &prev);
  s->offer_rf = o->rf != NULL ? g_object_ref (o->rf) : NULL;
  s->offer_port = msrp_sdp_stream_get_port (st);
  offer_decide (o, s);
  if (!offer_apply (o, s, st, error))
    {
      g_prefix_error (error, "MSRP stream %u cannot be rewritten: ", i);
      return FALSE;
    }
  add_warning (o->warning, s->media, s->offer.warning);
  return TRUE;
}

/* A re-offer in a dialog: the new call continues it in a branch of its
 * own, the answerer's (the re-offerer's peer), which keeps the dialog's
 * sessions until the answer, and what each party saw of the SDPs (when
 * the answerer re-offers, the roles turn). */
static void
offer_continue_dialog (Offer *o)
{
  const char *from = gw_ng_request_get_from_tag (o->req);
  gboolean reversed;

  o->dialog = reoffer_dialog (o->old, o->req);
  if (o->dialog == NULL)
    {
      if (o->old != NULL)
        o->c->offer_seen = o->old->offer_seen;
      return;
    }
  reversed = reoffer_reversed (o->old, o->dialog, o->sdp, from);
  o->kept = branch_new (reversed ? o->old->from_tag : o->dialog->to_tag, 0);
  o->kept->to_answerer =
      reversed ? o->dialog->to_offerer : o->dialog->to_answerer;
  o->kept->to_offerer =
      reversed ? o->dialog->to_answerer : o->dialog->to_offerer;
  o->kept->answerer = reversed ? o->old->offerer : o->dialog->answerer;
  o->c->offer_seen = o->kept->to_answerer;
  g_ptr_array_add (o->c->branches, o->kept);
  o->c->reoffered = o->kept;
}

static void
log_offered (Call *c, GInetAddress *rf, gboolean reoffer)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_INFO, "call_offered");
  g_autofree char *rf_text = rf != NULL ? g_inet_address_to_string (rf) : NULL;

  gw_log_event_add_str (ev, "call_id", c->call_id);
  gw_log_event_add_str (ev, "from_tag", c->from_tag);
  gw_log_event_add_int (ev, "streams", c->streams->len);
  if (rf_text != NULL)
    gw_log_event_add_str (ev, "received_from", rf_text);
  gw_log_event_add_bool (ev, "reoffer", reoffer);
  gw_log_event_emit (ev, "call %s offered with %u MSRP streams", c->call_id,
                     c->streams->len);
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];

      log_plan (c, s, "offer", s->offer.plan, NULL,
                setup_name (s->offer.setup_to_answerer != MSRP_SDP_SETUP_ABSENT
                                ? s->offer.setup_to_answerer
                                : s->offerer.setup),
                s->offer.reason, s->offer.warning);
    }
}

/* Decided and rewritten: the new call replaces the old one, and the reply
 * goes out once its candidates are in. */
static void
offer_commit (Offer *o, MsrpSdp *sdp)
{
  GwCalls *calls = o->calls;
  Call *c = o->c;

  legs_settle (c, o->old);
  anchors_settle (c, o->old);
  legs_keepalive (c, NULL, o->req);
  if (o->old != NULL)
    {
      /* What the new call did not take over: the old offer's ICE leg
       * nobody took up, the other branches. */
      call_close_legs (o->old, "re-offer");
      c->created = o->old->created;
      o->old->gone = TRUE;
      g_hash_table_remove (calls->calls, c->call_id);
    }
  c->last_signal = g_get_real_time () / G_USEC_PER_SEC;
  c->last_activity = net_loop_now (calls->loop);
  sdp_sent_read (&c->offerer, sdp);
  g_hash_table_insert (calls->calls, c->call_id, c);
  calls->offers++;
  log_offered (c, o->rf, o->old != NULL);
  pending_start (c, o->req, sdp, g_steal_pointer (&o->warning), NULL);
}

static void
handle_offer (GwNgRequest *req, gpointer data)
{
  GwCalls *calls = data;
  const char *call_id = gw_ng_request_get_call_id (req);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp = NULL;
  Offer o = { .calls = calls, .req = req };

  /* Before anything costs: a refused call is not worth reading. */
  o.old = g_hash_table_lookup (calls->calls, call_id);
  if (o.old == NULL && !admit_new_call (calls, req, call_id))
    return;
  sdp = request_sdp (req, &error);
  if (sdp == NULL)
    {
      gw_ng_request_reply_error (req, "the SDP cannot be read: %s",
                                 error->message);
      return;
    }
  if (o.old != NULL && o.old->pending != NULL)
    {
      gw_ng_request_reply_error (
          req,
          "the previous %s of call '%s' is still "
          "being answered",
          o.old->pending_branch != NULL ? "answer" : "offer", call_id);
      return;
    }
  o.sdp = sdp;
  o.c = call_new (calls, call_id);
  o.c->from_tag = g_strdup (gw_ng_request_get_from_tag (req));
  o.rf = gw_ng_request_get_received_from (req);
  o.trust = flag (req, "trust-address");
  o.in.policy = request_policy (calls, req);
  o.in.callee_reachable = flag (req, "callee-reachable");
  o.warning = g_string_new (NULL);
  offer_continue_dialog (&o);
  for (guint i = 0; i < msrp_sdp_get_n_streams (sdp); i++)
    {
      MsrpSdpStream *st = msrp_sdp_get_stream (sdp, i);

      /* A disabled stream (RFC 3264 section 8.2) is left alone. */
      if (msrp_sdp_stream_get_port (st) != 0 &&
          !offer_stream (&o, i, st, &error))
        {
          gw_ng_request_reply_error (req, "%s", error->message);
          /* Nothing is kept: sessions made for this offer close again;
           * borrowed ones stay with the old call, which stays as it
           * was. */
          call_close_legs (o.c, "offer failed");
          o.c->gone = TRUE;
          call_unref (o.c);
          g_string_free (o.warning, TRUE);
          return;
        }
    }
  offer_commit (&o, g_steal_pointer (&sdp));
}

/* --- answer ---------------------------------------------------------------
 */

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

/* May the gateway connect to @leg, the offerer's (@k 0) or the
 * answerer's (1) of @s?  When not, say so in the
 * warning of the reply and in connect_refused (logged here, where it is
 * handled), and the party is not connected to: it has to connect to the
 * gateway itself.  Checked before the reply goes out, so only IP
 * literals: a name would have to be resolved first (and its answer is
 * the name owner's to choose), and the reachability guess already takes a
 * name for a party that cannot be reached. */
static gboolean
connect_allowed (Call *c, Stream *s, Leg *leg, guint k, GString *warning)
{
  GwConnectPolicy *policy = gw_relay_get_connect_policy (c->calls->relay);
  MsrpUri *party = leg->party;
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

/* The gateway binds @leg, the offerer's (@k 0) or the answerer's (1), a
 * party that only listens: over TCP it connects to it; over its ICE leg
 * (@ice) it sends the binding SEND on the selected pair (RFC 6544 section
 * 4.5: the pair is the connection, a=setup says who speaks first). */
static void
connect_leg (Call *c, Leg *leg, guint k, gboolean ice)
{
  g_autoptr (GError) error = NULL;
  Connect *cn = g_new0 (Connect, 1);
  gboolean started;

  cn->call = c;
  cn->leg = k;
  /* What a TCP connection proves is about the address it goes to: the
   * party URI's host (an IP literal: party_target()), not whatever c=
   * says.  Over ICE the leg's checks measure the party's candidates. */
  cn->addr = ice ? NULL : party_target (leg->party, NULL);
  cn->party = leg->party != NULL ? msrp_uri_ref (leg->party) : NULL;
  c->refs++;
  started = ice ? gw_relay_bind_session (c->calls->relay, leg->session,
                                         gw_ice_get_conn (leg->ice),
                                         on_connected, cn, &error)
                : gw_relay_connect_session (c->calls->relay, leg->session,
                                            on_connected, cn, &error);
  if (!started)
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

/* An answer while its streams are decided: the branch it is for. */
typedef struct
{
  GwCalls *calls;
  GwNgRequest *req;
  Call *c;
  Branch *b;
  gboolean new_branch; /* made for this answer: dropped if it fails */
  MsrpSdp *sdp;
  GInetAddress *rf;
  gboolean trust;
  GString *warning;
} AnswerIn;

/* The branch an answer is for, by its to-tag (RFC 3261 section 12.1: each
 * answerer of a forked INVITE answers with a tag of its own, and every
 * answer of one answerer carries it): a new one for a tag not seen yet.
 * An answer to a re-offer is the dialog's whatever tag it gives (a
 * re-INVITE is not forked); the dialog takes that tag. */
static Branch *
answer_branch (Call *c, GwNgRequest *req, gboolean *created)
{
  const char *to_tag = gw_ng_request_get_to_tag (req);
  Branch *b = find_branch (c, to_tag);

  *created = FALSE;
  if (b == NULL && c->reoffered != NULL)
    {
      b = c->reoffered;
      g_free (b->to_tag);
      b->to_tag = g_strdup (to_tag);
    }
  if (b != NULL)
    return b;
  *created = TRUE;
  b = branch_new (to_tag, c->streams->len);
  /* Its answerer saw the offer every branch saw. */
  b->to_answerer = c->offer_seen;
  g_ptr_array_add (c->branches, b);
  return b;
}

/* The answerer of @a takes up the ICE the gateway offered it, or not:
 * into @answerer.  A re-answer goes on with its own leg, or drops it.  The
 * leg in @s's offer goes to the first branch that answers with ICE: the
 * offer carried one set of the gateway's credentials and candidates to
 * every branch, and an ICE agent checks with one peer (RFC 8445 section
 * 5.3); until then it waits for the branches still to answer. */
static void
answer_take_ice (Stream *s, Answer *a, MsrpSdpStream *st, GwNegParty *answerer)
{
  gboolean has_ice = gw_ice_stream_has_ice (st);

  if (a->leg.ice != NULL)
    {
      if (has_ice && gw_ice_set_party (a->leg.ice, st, NULL))
        answerer->ice = TRUE;
      else
        leg_ice_free (&a->leg);
      return;
    }
  if (s->offered.ice == NULL || !has_ice ||
      !gw_ice_set_party (s->offered.ice, st, NULL))
    return;
  answerer->ice = TRUE;
  a->leg.ice = g_steal_pointer (&s->offered.ice);
  a->leg.hook = g_steal_pointer (&s->offered.hook);
}

/* The relay plan for @a: the answerer's session (a re-answer with its URI
 * unchanged keeps it and its pairing; otherwise a new one, paired with the
 * offerer's), and the gateway first in @st, the stream the offerer will
 * see. */
static gboolean
answer_relay (Call *c, Stream *s, Answer *a, MsrpSdpStream *st, GError **error)
{
  GwCalls *calls = c->calls;
  g_autoptr (MsrpUri) party = own_uri (st);
  Leg *b = &a->leg;
  GwRelaySessionInfo info;

  if (b->session == NULL || b->party == NULL ||
      !msrp_uri_equal (b->party, party))
    {
      /* The ICE leg offered to the answerer stays: it is this answer's. */
      GwIce *ice = g_steal_pointer (&b->ice);
      IceHook *hook = g_steal_pointer (&b->hook);

      leg_clear (calls, b, "re-answer");
      b->ice = ice;
      b->hook = hook;
      b->party = g_steal_pointer (&party);
      b->addr = gw_neg_stream_address (st);
      b->session = gw_relay_preauthorize_session (calls->relay, s->scheme,
                                                  b->party, c->call_id, error);
      if (b->session == NULL)
        return FALSE;
    }
  /* Paired as a branch: in a forked call the offerer's one session is each
   * answerer's peer (gw_relay_pair_branch()).  A re-answer pairs again a
   * branch the offerer left for another (its 200 after another's early
   * answer makes it the dialog, RFC 3261 section 13.2.2.4), and makes a
   * branch still paired the one the gateway speaks for toward the
   * offerer. */
  if (gw_relay_get_session_info (calls->relay, b->session, &info))
    {
      if (info.paired)
        gw_relay_branch_answered (calls->relay, s->offerer_leg.session,
                                  b->session);
      else if (!gw_relay_pair_branch (calls->relay, s->offerer_leg.session,
                                      b->session, error))
        return FALSE;
    }
  return insert_gateway (calls, st, b->session, a->answer.setup_to_offerer,
                         error) &&
         msrp_sdp_stream_set_cema (st, FALSE, error);
}

/* Plan cema or cema-fallback at the answer: the anchor takes both parties
 * as decided (who connects to its port, whom it connects to), and the
 * offerer sees the anchor in c= and m= with the a=setup decided.  An
 * anchor that cannot take them (gone, a target the connect policy
 * refuses) cannot work: the stream is rejected toward the offerer (m=
 * port 0, RFC 3264 section 6) with a warning. */
static gboolean
answer_cema (AnswerIn *x, Stream *s, Answer *a, MsrpSdpStream *st,
             GError **error)
{
  AnchorParty off, ans;
  const GwAnchorPartySettings *both[GW_ANCHOR_N_PARTIES] = { &off.set,
                                                             &ans.set };
  g_autoptr (GError) anchor_error = NULL;
  gboolean ok;

  offerer_anchor_party (s, a->answer.connect & GW_NEG_CONNECT_OFFERER, &off);
  answerer_anchor_party (st, x->rf,
                         a->answer.connect & GW_NEG_CONNECT_ANSWERER,
                         a->answer.plan == GW_NEG_PLAN_CEMA_FALLBACK, &ans);
  ok = s->anchor != NULL &&
       gw_anchor_set_parties (s->anchor, both, &anchor_error);
  anchor_party_clear (&off);
  anchor_party_clear (&ans);
  if (!ok)
    {
      g_free (a->answer.warning);
      a->answer.warning = g_strdup_printf (
          "the CEMA anchor cannot take the parties (%s): the stream is "
          "rejected toward the offerer",
          anchor_error != NULL ? anchor_error->message : "it closed");
      g_free (a->answer.reason);
      a->answer.reason = g_strdup (a->answer.warning);
      a->answer.plan = GW_NEG_PLAN_REJECTED;
      a->answer.connect = GW_NEG_CONNECT_NONE;
      a->answer.setup_to_offerer = MSRP_SDP_SETUP_ABSENT; /* not written */
      return msrp_sdp_stream_set_port (st, 0, error);
    }
  if (a->answer.setup_to_offerer != MSRP_SDP_SETUP_ABSENT &&
      !msrp_sdp_stream_set_setup (st, a->answer.setup_to_offerer, error))
    return FALSE;
  /* The offerer reads it: where its signalling came from, else its c=. */
  return anchor_rewrite (
      s->anchor, st, s->offer_rf != NULL ? s->offer_rf : s->offerer_leg.addr,
      error);
}

/* Apply the answer decision of @a to @st, the answerer's stream in the SDP
 * the offerer will see. */
static gboolean
answer_apply (AnswerIn *x, Stream *s, Answer *a, MsrpSdpStream *st,
              GError **error)
{
  switch (a->answer.plan)
    {
    case GW_NEG_PLAN_RELAY:
      return answer_relay (x->c, s, a, st, error);
    case GW_NEG_PLAN_CEMA:
    case GW_NEG_PLAN_CEMA_FALLBACK:
      return answer_cema (x, s, a, st, error);
    default:
      return TRUE;
    }
}

/* Whom the gateway will connect to once the answer is out: refused ones
 * are said in this reply, and left alone. */
static void
answer_check_connects (AnswerIn *x, Stream *s, Answer *a)
{
  /* An anchor connects to a party's c=/m=, not to its a=path URI, and
   * its pool checks that target against the same policy
   * (gw_anchor_set_parties()). */
  if (a->answer.plan == GW_NEG_PLAN_CEMA ||
      a->answer.plan == GW_NEG_PLAN_CEMA_FALLBACK)
    return;
  if ((a->answer.connect & GW_NEG_CONNECT_OFFERER) &&
      !connect_allowed (x->c, s, &s->offerer_leg, 0, x->warning))
    a->answer.connect &= ~GW_NEG_CONNECT_OFFERER;
  if ((a->answer.connect & GW_NEG_CONNECT_ANSWERER) &&
      !connect_allowed (x->c, s, &a->leg, 1, x->warning))
    a->answer.connect &= ~GW_NEG_CONNECT_ANSWERER;
}

/* Read, decide and rewrite the answer to stream @i of the call.  FALSE
 * with @error (the reply's words) when it cannot be. */
static gboolean
answer_stream (AnswerIn *x, guint i, GError **error)
{
  Stream *s = x->c->streams->pdata[i];
  Answer *a = branch_answer (x->b, i);
  MsrpSdpStream *st = s->media < msrp_sdp_get_n_media (x->sdp)
                          ? msrp_sdp_get_media_stream (x->sdp, s->media)
                          : NULL;
  g_auto (GwNegParty) answerer = { 0 };
  gboolean rejected = st == NULL || msrp_sdp_stream_get_port (st) == 0;

  if (!rejected && msrp_sdp_stream_get_path (st) == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "MSRP stream in m= line %u of the answer has no a=path "
                   "(RFC 4975 section 8.2)",
                   s->media + 1);
      return FALSE;
    }
  if (!rejected)
    {
      g_autoptr (GInetAddress) addr = gw_neg_stream_address (st);

      gw_neg_party_from_stream (&answerer, st, x->rf, x->trust);
      fact_lookup (x->calls, addr, &answerer);
      fact_lookup (x->calls, x->rf, &answerer);
      answer_take_ice (s, a, st, &answerer);
    }
  gw_neg_answer_decision_clear (&a->answer);
  gw_neg_decide_answer (&s->offer, &s->offerer, &answerer, rejected,
                        &a->answer);
  if (!rejected && !answer_apply (x, s, a, st, error))
    {
      g_prefix_error (error, "MSRP stream %u cannot be rewritten: ", i);
      return FALSE;
    }
  add_warning (x->warning, s->media, a->answer.warning);
  answer_check_connects (x, s, a);
  return TRUE;
}

static void
log_answered (Call *c, Branch *b)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_INFO, "call_answered");

  gw_log_event_add_str (ev, "call_id", c->call_id);
  gw_log_event_add_str (ev, "to_tag", b->to_tag);
  gw_log_event_add_int (ev, "streams", c->streams->len);
  gw_log_event_add_int (ev, "branches", c->branches->len);
  gw_log_event_emit (ev, "call %s answered (to-tag '%s', %u branches)",
                     c->call_id, b->to_tag, c->branches->len);
}

/* Decided and rewritten: the branch is answered, and the reply goes out
 * once its candidates are in. */
static void
answer_commit (AnswerIn *x, MsrpSdp *sdp)
{
  Call *c = x->c;

  x->b->answered = TRUE;
  c->current = x->b;
  c->reoffered = NULL;
  sdp_sent_read (&x->b->answerer, sdp);
  c->last_signal = g_get_real_time () / G_USEC_PER_SEC;
  c->last_activity = net_loop_now (x->calls->loop);
  x->calls->answers++;
  log_answered (c, x->b);
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];
      Answer *a = branch_answer (x->b, i);
      MsrpSdpStream *st = msrp_sdp_get_media_stream (sdp, s->media);
      MsrpSdpSetup to_offerer = a->answer.setup_to_offerer;

      if (to_offerer == MSRP_SDP_SETUP_ABSENT && st != NULL)
        to_offerer = msrp_sdp_stream_get_setup (st);
      a->setup_to_offerer = to_offerer;
      a->answered = TRUE;
      x->calls->plans[a->answer.plan]++;
      log_plan (c, s, "answer", a->answer.plan, setup_name (to_offerer),
                setup_name (s->offer.setup_to_answerer != MSRP_SDP_SETUP_ABSENT
                                ? s->offer.setup_to_answerer
                                : s->offerer.setup),
                a->answer.reason, a->answer.warning);
      /* The offerer's session stays for the call's other branches. */
      if (a->answer.plan == GW_NEG_PLAN_REJECTED)
        leg_clear (x->calls, &a->leg, "stream rejected");
      /* The anchor stays when this answer does not use it: another
       * branch of a forked call may still answer with CEMA (the offer
       * every branch got names its port).  It goes with the call or a
       * re-offer without a=msrp-cema. */
    }
  legs_keepalive (c, x->b, x->req);
  pending_start (c, x->req, sdp, g_steal_pointer (&x->warning), x->b);
}

static void
handle_answer (GwNgRequest *req, gpointer data)
{
  GwCalls *calls = data;
  const char *call_id = gw_ng_request_get_call_id (req);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp = NULL;
  AnswerIn x = { .calls = calls, .req = req };

  x.c = g_hash_table_lookup (calls->calls, call_id);
  if (x.c == NULL)
    {
      gw_ng_request_reply_error (req,
                                 "unknown call-id '%s': no offer was seen "
                                 "for it",
                                 call_id);
      return;
    }
  if (x.c->pending != NULL)
    {
      gw_ng_request_reply_error (
          req, "the %s of call '%s' is still being answered",
          x.c->pending_branch != NULL ? "previous answer" : "offer", call_id);
      return;
    }
  sdp = request_sdp (req, &error);
  if (sdp == NULL)
    {
      gw_ng_request_reply_error (req, "the SDP cannot be read: %s",
                                 error->message);
      return;
    }
  x.sdp = sdp;
  x.rf = gw_ng_request_get_received_from (req);
  x.trust = flag (req, "trust-address");
  x.warning = g_string_new (NULL);
  x.b = answer_branch (x.c, req, &x.new_branch);
  for (guint i = 0; i < x.c->streams->len; i++)
    {
      if (answer_stream (&x, i, &error))
        continue;
      gw_ng_request_reply_error (req, "%s", error->message);
      if (x.new_branch)
        {
          /* Nothing is kept of a branch this answer would have made. */
          branch_close (calls, x.b, "answer failed");
          g_ptr_array_remove (x.c->branches, x.b);
        }
      g_string_free (x.warning, TRUE);
      return;
    }
  answer_commit (&x, g_steal_pointer (&sdp));
}

/* After the answer went out the parties know the plan from their SDP: the
 * ICE legs start their checks, and the gateway binds the parties that only
 * listen (RFC 6135 section 4.2.2): over TCP now; over an ICE leg once its
 * pair is up (on_ice_ready()). */
static void
connect_party (Call *c, Leg *leg, guint k, gboolean wanted)
{
  GwRelaySessionInfo info;
  g_autoptr (GError) error = NULL;
  const char *who = k == 0 ? "offerer" : "answerer";

  if (leg->ice != NULL && !gw_ice_start (leg->ice, &error))
    {
      g_autoptr (GwLogEvent) ev =
          gw_log_event_new (G_LOG_LEVEL_WARNING, "ice_failed");

      gw_log_event_add_str (ev, "call_id", c->call_id);
      gw_log_event_add_str (ev, "party", who);
      gw_log_event_add_str (ev, "reason", error->message);
      gw_log_event_emit (ev, "call %s: the ICE leg to the %s cannot start: %s",
                         c->call_id, who, error->message);
      leg_ice_free (leg);
    }
  leg->bind_on_ice = wanted && leg->ice != NULL;
  if (!wanted || leg->session == NULL ||
      !gw_relay_get_session_info (c->calls->relay, leg->session, &info) ||
      info.bound)
    return;
  if (leg->ice == NULL)
    connect_leg (c, leg, k, FALSE);
  else if (gw_ice_get_conn (leg->ice) != NULL)
    connect_leg (c, leg, k, TRUE);
}

static void
connect_listening_parties (Call *c, Branch *b)
{
  for (guint i = 0; i < c->streams->len; i++)
    {
      Stream *s = c->streams->pdata[i];
      Answer *a = branch_answer (b, i);

      if (a->answer.plan != GW_NEG_PLAN_RELAY)
        continue;
      connect_party (c, &s->offerer_leg, 0,
                     a->answer.connect & GW_NEG_CONNECT_OFFERER);
      connect_party (c, &a->leg, 1,
                     a->answer.connect & GW_NEG_CONNECT_ANSWERER);
    }
}

/* --- delete, query, list, statistics --------------------------------------
 */

/* The answerer's counters of branch @b: body bytes and messages it sent
 * that the relay passed on. */
static void
branch_counters (Call *c, Branch *b, Counters *n)
{
  memset (n, 0, sizeof *n);
  n->calls = c->calls;
  for (guint i = 0; i < b->answers->len; i++)
    count_leg (&branch_answer (b, i)->leg, FALSE, n);
}

/* The branch answered last among those left, or NULL. */
static Branch *
last_answered (Call *c)
{
  for (guint i = c->branches->len; i-- > 0;)
    {
      Branch *b = c->branches->pdata[i];

      if (b->answered)
        return b;
    }
  return NULL;
}

/* Drop branch @b of @c alone: its sessions and ICE legs close, the
 * offerer's and the other branches' go on (branch_deleted). */
static void
call_drop_branch (Call *c, Branch *b, const char *reason)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_INFO, "branch_deleted");
  Counters n;

  if (c->pending != NULL && c->pending_branch == b)
    pending_abort (c, "the branch ended before its reply was ready");
  branch_counters (c, b, &n);
  gw_log_event_add_str (ev, "call_id", c->call_id);
  gw_log_event_add_str (ev, "to_tag", b->to_tag);
  gw_log_event_add_int (ev, "relay_bytes_answerer", (gint64) n.bytes_answerer);
  gw_log_event_add_int (ev, "relay_messages", (gint64) n.messages);
  gw_log_event_add_int (ev, "branches", c->branches->len - 1);
  gw_log_event_add_str (ev, "reason", reason);
  gw_log_event_emit (ev, "call %s: branch '%s' %s, %u left", c->call_id,
                     b->to_tag, reason, c->branches->len - 1);
  branch_close (c->calls, b, reason);
  if (c->reoffered == b)
    c->reoffered = NULL;
  g_ptr_array_remove (c->branches, b);
  c->current = last_answered (c);
}

/* Delete as rtpengine's call_delete_branch() does: without a from-tag the
 * whole call; else the tag it names is the to-tag (or, without one, the
 * from-tag).  The offerer's tag (a BYE of the answerer's names it as
 * to-tag) ends the call; a branch's drops that branch, or the call when
 * it is the last (a BYE's delete names its dialog's to-tag).  A tag
 * unknown while branches are up belongs to a branch that failed without
 * ever answering with SDP: nothing of it is here, and the call goes on
 * with the others (rtpengine deletes the whole call when no branch has
 * answered yet, and so does this: the call then has nobody else). */
static void
handle_delete (GwNgRequest *req, gpointer data)
{
  GwCalls *calls = data;
  const char *call_id = gw_ng_request_get_call_id (req);
  const char *from = gw_ng_request_get_from_tag (req);
  const char *to = gw_ng_request_get_to_tag (req);
  Call *c = g_hash_table_lookup (calls->calls, call_id);
  const char *tag;
  Branch *b;

  if (c == NULL)
    {
      gw_ng_request_reply_error (req, "unknown call-id '%s'", call_id);
      return;
    }
  tag = from == NULL || from[0] == '\0' ? NULL
        : to != NULL && to[0] != '\0'   ? to
                                        : from;
  b = tag != NULL ? find_branch (c, tag) : NULL;
  if (tag != NULL && b == NULL && c->branches->len > 0 &&
      g_strcmp0 (tag, c->from_tag) != 0)
    {
      GwBencode *reply = gw_bencode_new_dict ();
      g_autofree char *w =
          g_strdup_printf ("call '%s' has no branch with tag '%s': nothing "
                           "deleted",
                           call_id, tag);

      gw_bencode_dict_set_string (reply, "warning", w);
      gw_ng_request_reply (req, reply);
      return;
    }
  calls->deletes++;
  c->last_signal = g_get_real_time () / G_USEC_PER_SEC;
  c->last_activity = net_loop_now (calls->loop);
  if (b != NULL && c->branches->len > 1)
    call_drop_branch (c, b, "deleted");
  else
    call_remove (c, "call_deleted", "deleted");
  gw_ng_request_reply (req, NULL);
}

/* Into @d, what the relay counted for @leg, the offerer's (@k 0) or the
 * answerer's (1); into *@bytes and *@messages, its part of the stream's. */
static void
query_leg (GwCalls *calls, Leg *leg, guint k, GwBencode *d, guint64 *bytes,
           guint64 *messages)
{
  GwRelaySessionInfo info;

  if (leg->session == NULL ||
      !gw_relay_get_session_info (calls->relay, leg->session, &info))
    return;
  *bytes += info.bytes_from;
  *messages += info.messages_from;
  gw_bencode_dict_set_int (d, k == 0 ? "offerer-bytes" : "answerer-bytes",
                           (gint64) info.bytes_from);
  gw_bencode_dict_set_int (d, k == 0 ? "offerer-bound" : "answerer-bound",
                           info.bound);
  /* A branch the offerer did not choose is no longer its peer. */
  gw_bencode_dict_set_int (d, k == 0 ? "offerer-paired" : "answerer-paired",
                           info.paired);
}

/* The branch whose answers query shows for the call's streams: the one
 * answered last, else (a re-offer waiting for its answer) the dialog's. */
static Branch *
call_branch_shown (Call *c)
{
  if (c->current != NULL)
    return c->current;
  return c->branches->len > 0 ? c->branches->pdata[c->branches->len - 1]
                              : NULL;
}

/* Into @d, @s's CEMA anchor (plan cema): where it listens, its state and
 * the bytes it passed on from each party. */
static void
query_anchor (Stream *s, GwBencode *d)
{
  GwAnchorInfo info;
  const char *host;

  if (s->anchor == NULL)
    return;
  gw_anchor_get_info (s->anchor, &info);
  host = gw_anchor_get_sdp_host (s->anchor, G_SOCKET_FAMILY_IPV4);
  if (host == NULL)
    host = gw_anchor_get_sdp_host (s->anchor, G_SOCKET_FAMILY_IPV6);
  gw_bencode_dict_set_int (d, "cema-port", info.port);
  if (host != NULL)
    gw_bencode_dict_set_string (d, "cema-host", host);
  gw_bencode_dict_set_string (d, "cema-state",
                              gw_anchor_state_to_string (info.state));
  gw_bencode_dict_set_int (d, "cema-offerer-bytes",
                           (gint64) info.bytes_from[GW_ANCHOR_OFFERER]);
  gw_bencode_dict_set_int (d, "cema-answerer-bytes",
                           (gint64) info.bytes_from[GW_ANCHOR_ANSWERER]);
  gw_bencode_dict_set_int (d, "cema-refused", (gint64) info.refused);
}

/* Stream @i of @c as query shows it: the offer, and the answer of @b
 * (nullable: none yet). */
static GwBencode *
query_stream (Call *c, guint i, Branch *b)
{
  Stream *s = c->streams->pdata[i];
  Answer *a = b != NULL ? branch_answer (b, i) : NULL;
  gboolean answered = a != NULL && a->answered;
  GwBencode *d = gw_bencode_new_dict ();
  const char *warning = answered ? a->answer.warning : s->offer.warning;
  guint64 bytes = 0, messages = 0;

  query_leg (c->calls, &s->offerer_leg, 0, d, &bytes, &messages);
  if (a != NULL)
    query_leg (c->calls, &a->leg, 1, d, &bytes, &messages);
  gw_bencode_dict_set_int (d, "media", s->media);
  gw_bencode_dict_set_string (
      d, "plan",
      gw_neg_plan_to_string (answered ? a->answer.plan : s->offer.plan));
  gw_bencode_dict_set_string (d, "step", answered ? "answer" : "offer");
  gw_bencode_dict_set_string (
      d, "setup-to-answerer",
      setup_name (s->offer.setup_to_answerer != MSRP_SDP_SETUP_ABSENT
                      ? s->offer.setup_to_answerer
                      : s->offerer.setup));
  if (answered)
    gw_bencode_dict_set_string (d, "setup-to-offerer",
                                setup_name (a->setup_to_offerer));
  gw_bencode_dict_set_string (d, "reason",
                              answered ? a->answer.reason : s->offer.reason);
  if (warning != NULL)
    gw_bencode_dict_set_string (d, "warning", warning);
  gw_bencode_dict_set_int (d, "relay-bytes", (gint64) bytes);
  gw_bencode_dict_set_int (d, "relay-messages", (gint64) messages);
  query_anchor (s, d);
  return d;
}

static void
query_version (GwBencode *d, const char *key, gboolean known, guint64 version)
{
  if (known)
    gw_bencode_dict_set_int (d, key, (gint64) version);
}

/* Branch @b of @c as query shows it: its to-tag, the o= versions its
 * dialog saw, and each stream with its answer. */
static GwBencode *
query_branch (Call *c, Branch *b)
{
  GwBencode *d = gw_bencode_new_dict ();
  GwBencode *streams = gw_bencode_new_list ();

  gw_bencode_dict_set_string (d, "to-tag", b->to_tag);
  gw_bencode_dict_set_int (d, "created", b->created);
  gw_bencode_dict_set_int (d, "answered", b->answered);
  query_version (d, "sdp-version-from-answerer", b->answerer.known,
                 b->answerer.version);
  query_version (d, "sdp-version-to-answerer", b->to_answerer.known,
                 b->to_answerer.last);
  query_version (d, "sdp-version-to-offerer", b->to_offerer.known,
                 b->to_offerer.last);
  for (guint i = 0; i < c->streams->len; i++)
    gw_bencode_list_take (streams, query_stream (c, i, b));
  gw_bencode_dict_take (d, "streams", streams);
  return d;
}

static void
handle_query (GwNgRequest *req, gpointer data)
{
  GwCalls *calls = data;
  const char *call_id = gw_ng_request_get_call_id (req);
  Call *c = g_hash_table_lookup (calls->calls, call_id);
  GwBencode *reply, *streams, *branches;

  if (c == NULL)
    {
      gw_ng_request_reply_error (req, "unknown call-id '%s'", call_id);
      return;
    }
  reply = gw_bencode_new_dict ();
  streams = gw_bencode_new_list ();
  branches = gw_bencode_new_list ();
  gw_bencode_dict_set_int (reply, "created", c->created);
  gw_bencode_dict_set_int (reply, "last signal", c->last_signal);
  gw_bencode_dict_set_string (reply, "from-tag", c->from_tag);
  query_version (reply, "sdp-version-from-offerer", c->offerer.known,
                 c->offerer.version);
  for (guint i = 0; i < c->streams->len; i++)
    gw_bencode_list_take (streams, query_stream (c, i, call_branch_shown (c)));
  for (guint i = 0; i < c->branches->len; i++)
    gw_bencode_list_take (branches, query_branch (c, c->branches->pdata[i]));
  gw_bencode_dict_take (reply, "streams", streams);
  gw_bencode_dict_take (reply, "branches", branches);
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
  gw_bencode_dict_set_int (cur, "anchors", cs.anchors);
  gw_bencode_dict_set_int (tot, "managedsessions", (gint64) cs.offers);
  gw_bencode_dict_set_int (tot, "offers", (gint64) cs.offers);
  gw_bencode_dict_set_int (tot, "answers", (gint64) cs.answers);
  gw_bencode_dict_set_int (tot, "deletes", (gint64) cs.deletes);
  gw_bencode_dict_set_int (tot, "timeoutsessions", (gint64) cs.expired);
  gw_bencode_dict_set_int (tot, "rejectedsessions",
                           (gint64) (cs.refused[GW_CALLS_REFUSED_MAX_CALLS] +
                                     cs.refused[GW_CALLS_REFUSED_DRAINING]));
  for (guint p = 0; p < GW_NEG_N_PLANS; p++)
    {
      g_autofree char *key =
          g_strdup_printf ("streams-%s", gw_neg_plan_to_string (p));

      gw_bencode_dict_set_int (tot, key, (gint64) cs.streams[p]);
    }
  gw_bencode_dict_set_int (tot, "relay-bytes-in", (gint64) st.bytes_in);
  gw_bencode_dict_set_int (tot, "relay-bytes-out", (gint64) st.bytes_out);
  gw_bencode_dict_set_int (tot, "relay-messages", (gint64) st.messages);
  gw_bencode_dict_set_int (tot, "anchored-bytes", (gint64) cs.anchored_bytes);
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
