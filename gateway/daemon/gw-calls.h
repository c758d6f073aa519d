/* gw-calls.h: the call table behind the ng control plane (gw-ng.h).
 *
 * A GwCalls implements the ng commands offer, answer, delete, query, list
 * and statistics: it reads each MSRP stream of the SDP (msrp-sdp.h), asks
 * the negotiator for the plan (gw-negotiator.h), rewrites the SDP
 * accordingly and, for the relay plan, makes the relay sessions
 * (gw-relay.h): at the offer the offerer's, whose URI goes first in the
 * a=path the answerer sees; at the answer the answerer's, paired with it,
 * whose URI goes first in the a=path the offerer sees; then, where a party
 * only listens, the gateway connects to it.  A party that offers ICE-TCP
 * candidates gets an ICE leg to the gateway (gw-ice.h) unless it is
 * measured reachable; a reply whose SDP carries the gateway's candidates
 * waits for them to be gathered (at most 5 s).  Either the whole SDP is
 * rewritten or the request gets an error and nothing is kept.
 *
 * A forked call (RFC 3261 section 16.7) gets answers from several
 * branches, each with its own to-tag: the offer's side of each stream
 * (its plan, the offerer's session and ICE leg) is shared, and each
 * to-tag's answer gets its own (plan, answerer's session paired with the
 * offerer's as a branch, gw_relay_pair_branch(), and ICE leg).  A delete
 * naming one branch's tag drops that branch (branch_deleted) while others
 * are up; the last branch's, the offerer's, or none ends the call (as
 * rtpengine's call_delete_branch()).  A re-offer continues one branch.
 *
 * Calls are keyed by call-id, at most [limits] max-calls of them: an offer
 * for a new call-id beyond, or while the instance drains, is answered
 * `load limit` as rtpengine does (call_refused), so that the SIP proxy
 * takes the next node of its set; a known call-id (a re-INVITE) is served
 * still.  A call with no control command and no
 * relayed byte for [negotiator] call-timeout seconds expires (its relay
 * sessions close), so a lost BYE does not leak.  A new offer for a known
 * call (a re-INVITE, e.g. a session refresh) keeps the relay sessions of
 * each stream whose parties kept their URIs, so relayed connections
 * survive it.
 *
 * A stream whose offer carries a=msrp-cema (RFC 6714) gets the plan cema
 * when the table has an anchor pool (gw_calls_set_anchor_pool()): a
 * GwAnchor (gw-anchor.h) per stream, made at the offer and given both
 * parties at the answer; only c= and m= are rewritten, toward the anchor's
 * port.  The anchor belongs to the offer's stream and follows the branch
 * answered last that uses it; it goes with the call, on a re-offer
 * without a=msrp-cema, and when no answered branch uses it.  Relay plans
 * drop a=msrp-cema (section 6.2).  README.md "CEMA anchoring" has the
 * rows.
 *
 * What the gateway learns about a party's address, by connecting to it
 * itself or through an ICE leg's checks, is kept per IP address for
 * [negotiator] reachability-ttl seconds and overrides the guess from
 * addresses for the next calls (gw-negotiator.h).
 *
 * Log events: call_offered, call_answered, plan_decided, call_deleted,
 * call_expired (with per-call counters), branch_deleted, call_refused,
 * reachability_measured, party_connect_failed, connect_refused; README.md
 * lists the fields.
 */
#pragma once

#include "gw-anchor.h"
#include "gw-config.h"
#include "gw-ice.h"
#include "gw-negotiator.h"
#include "gw-ng.h"
#include "gw-relay.h"

G_BEGIN_DECLS

typedef struct _GwCalls GwCalls;

/* A call table with @config's [gateway] and [negotiator] values (copied)
 * relaying through @relay (not owned; it must outlive the table). */
G_GNUC_WARN_UNUSED_RESULT
GwCalls *gw_calls_new (const GwConfig *config, GwRelay *relay);

/* Close every call's relay sessions (no log per call) and free. */
void gw_calls_free (GwCalls *calls);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwCalls, gw_calls_free)

/* Anchor the streams of CEMA offers (RFC 6714; plan cema, gw-anchor.h) in
 * @pool (nullable: none, and such offers get the other plans).  Not
 * owned: it must outlive the table, and be set before the first offer.
 * gw-main.c passes the pool of [cema]; tests one on loopback. */
void gw_calls_set_anchor_pool (GwCalls *calls, GwAnchorPool *pool);

/* The GwNgHandler whose user_data is a GwCalls. */
const GwNgHandler *gw_calls_get_ng_handler (void);

/* Calls in the table now. */
guint gw_calls_get_n_calls (GwCalls *calls);

/* The call table's numbers, as its ng `statistics` reply gives them (the
 * reply's key in brackets) and the metrics show them. */
/* Set or clear draining (SIGTERM): offers for call-ids not in the table
 * get `load limit` (gw_ng_request_reply_load_limit()); the calls in it go
 * on, re-offers, answers, deletes and queries included. */
void gw_calls_set_draining (GwCalls *calls, gboolean draining);
gboolean gw_calls_is_draining (GwCalls *calls);

/* Why an offer for a new call-id was refused with `load limit`. */
typedef enum
{
  GW_CALLS_REFUSED_MAX_CALLS, /* [limits] max-calls calls in the table */
  GW_CALLS_REFUSED_DRAINING,  /* the instance is draining */
  GW_CALLS_N_REFUSALS
} GwCallsRefusal;

/* "max-calls", "draining": the call_refused event's and the metric's. */
const char *gw_calls_refusal_to_string (GwCallsRefusal refusal);

typedef struct
{
  guint calls;     /* in the table now (currentstatistics.sessionsown) */
  guint64 offers;  /* offers carried out, re-offers too (offers) */
  guint64 answers; /* answers carried out (answers) */
  guint64 deletes; /* deletes carried out, each closing a call or one
                    * branch of it (deletes) */
  guint64 expired; /* calls expired after call-timeout (timeoutsessions) */
  /* offers for new call-ids answered `load limit`, by why
   * (rejectedsessions, their sum) */
  guint64 refused[GW_CALLS_N_REFUSALS];
  /* MSRP streams answered, by the plan of the answer (streams-<plan>) */
  guint64 streams[GW_NEG_N_PLANS];
  GwIceStats ice;         /* the ICE legs of parties (gw-ice.h) */
  guint anchors;          /* CEMA anchors now (anchors) */
  guint64 anchored_bytes; /* passed through anchors, both ways, since the
                           * start (anchored-bytes) */
} GwCallsStats;

void gw_calls_get_stats (GwCalls *calls, GwCallsStats *stats);

G_END_DECLS
