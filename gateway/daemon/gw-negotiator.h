/* gw-negotiator.h: the connection plan of one MSRP stream (DESIGN.md "The
 * three connection plans"), decided in two steps because at offer time only
 * the offerer is known (RFC 3264 section 5 and 6).
 *
 * This module only decides: no sockets, no relay, no SDP editing.  Its input
 * is what the SDP and the signalling say about each party (GwNegParty, made
 * from a stream by gw_neg_party_from_stream()), the policy and the per-call
 * flags; its output is the plan, the a=setup to write toward each side, who
 * the gateway must connect to, a one-line reason and, when the plan cannot
 * work, a warning in plain words.  gw-calls.c applies it.  The whole table
 * is in README.md ("Decision table") and in tests/unit/test-gw-negotiator.c,
 * one row each.
 *
 * Reachability (can the party accept an inbound TCP connection?):
 * - RFC 6135 section 4.2.2: only a party that offers actpass or passive (or,
 *   in an answer, answers passive, or leaves a=setup out, which is the RFC
 *   4975 default of a passive answerer) will accept one.  holdconn is
 *   ignored as if absent (RFC 6135 section 4.2.1).
 * - A measured fact about its address (issue 5, ICE checks; the gateway's
 *   own connection attempts) overrides the guess from addresses.
 * - Otherwise the guess: its c= address and the host of its own URI (the
 *   last of its a=path) must be IP literals that are not private (RFC 1918,
 *   RFC 6598 shared space, link-local, ULA, unspecified) and, unless the
 *   request trusts the SDP addresses, equal to where its signalling came
 *   from (`received from`).  A name cannot be checked and counts as not
 *   reachable.
 * - A party whose a=path holds more than its own URI reaches the world
 *   through its own RFC 4976 relay, which accepts connections for it: it
 *   counts as reachable.
 *
 * CEMA (RFC 6714): an offer with a=msrp-cema is anchored (plan cema) when
 * the gateway has an anchor pool; at the answer, a CEMA answerer keeps
 * it (over TCP both parties connect to the anchor, over TLS one of them
 * is connected to, since the active party is the TLS client, RFC 6135
 * section 6); a non-CEMA answerer that listens is connected to by the
 * anchor (cema-fallback, section 4.2); an active one connects along
 * a=path past it (section 4.1: direct-reversed).
 *
 * ICE-TCP (RFC 8445, RFC 6544): a party that offers ICE candidates gets an
 * ICE leg to the gateway (the relay plan) unless it is known reachable by
 * measurement, in which case the stream goes direct.  Over an ICE leg the
 * connection is made by the checks, so the gateway never connects to that
 * party itself; a=setup still says who sends the first SEND (RFC 6544
 * section 4.5: "as if ICE were not in use"): the offer toward the
 * answerer carries a=setup:actpass with the gateway's candidates (RFC
 * 6135 section 4.2.2: never passive in an offer), the answer toward the
 * offerer a=setup:passive (active when it offered passive); a party that
 * is passive over ICE gets the first SEND from the gateway, on its pair.
 */
#pragma once

#include <gio/gio.h>

#include "msrp-sdp.h"

G_BEGIN_DECLS

typedef enum
{
  GW_NEG_POLICY_AUTO = 0, /* the cheapest plan that works */
  GW_NEG_POLICY_ALWAYS,   /* always relay (anchor) */
  GW_NEG_POLICY_NEVER,    /* never relay */
} GwNegPolicy;

/* "auto", "always", "never"; NULL for an unknown value. */
const char *gw_neg_policy_to_string (GwNegPolicy policy);
gboolean gw_neg_policy_from_string (const char *text, GwNegPolicy *policy);

typedef enum
{
  GW_NEG_PLAN_DIRECT = 0,      /* the offerer connects to the answerer */
  GW_NEG_PLAN_DIRECT_REVERSED, /* the answerer connects to the offerer */
  GW_NEG_PLAN_RELAY,           /* both legs end at the gateway */
  GW_NEG_PLAN_REJECTED,        /* the answer rejected the stream (port 0) */
  GW_NEG_PLAN_CEMA,            /* anchored at a port of the gateway's (RFC
                                * 6714): both parties do CEMA */
  GW_NEG_PLAN_CEMA_FALLBACK,   /* anchored: a CEMA offerer connects to the
                                * port, the gateway to a non-CEMA answerer
                                * that listens (RFC 6714 section 4.2) */
  GW_NEG_N_PLANS
} GwNegPlan;

/* "direct", "direct-reversed", "relay", "rejected", "cema",
 * "cema-fallback". */
const char *gw_neg_plan_to_string (GwNegPlan plan);

/* What the addresses say about a party. */
typedef enum
{
  GW_NEG_ADDR_PUBLIC = 0, /* public IP literals matching the signalling */
  GW_NEG_ADDR_PRIVATE,    /* a private, shared, link-local or ULA address */
  GW_NEG_ADDR_MISMATCH,   /* differs from where the signalling came from */
  GW_NEG_ADDR_NAME,       /* a name: cannot be checked */
} GwNegAddr;

/* A measured fact about the party's address (issue 5: ICE checks; the
 * gateway's own connection attempts). */
typedef enum
{
  GW_NEG_FACT_UNKNOWN = 0,
  GW_NEG_FACT_REACHABLE,   /* a connection to it succeeded */
  GW_NEG_FACT_UNREACHABLE, /* connections to it failed */
} GwNegFact;

typedef struct
{
  MsrpSdpSetup setup; /* as written; holdconn counts as absent */
  gboolean via_relay; /* its a=path has more than its own URI */
  gboolean cema;      /* a=msrp-cema (RFC 6714 section 5) */
  gboolean ice;       /* it offers (or answers) ICE-TCP and the
                       * gateway can run a leg to it (gw-ice.h) */
  GwNegAddr addr;
  GwNegFact fact;
  gint64 fact_age_s; /* how long ago the fact was measured */
  /* Words for reasons and warnings: "10.0.1.2 (c=) is private (RFC 1918)".
   * (nullable) */
  char *detail;
} GwNegParty;

void gw_neg_party_clear (GwNegParty *party);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GwNegParty, gw_neg_party_clear)

/* Fill @party from @stream: a=setup, a=path, c= and the host of the
 * party's own URI, checked against @received_from (nullable: nothing to
 * compare with) unless @trust_address.  The fact is left unknown. */
void gw_neg_party_from_stream (GwNegParty *party, MsrpSdpStream *stream,
                               GInetAddress *received_from,
                               gboolean trust_address);

/* Whether @addr is outside the private ranges above (RFC 1918, RFC 6598,
 * link-local, ULA, unspecified). */
gboolean gw_neg_address_is_public (GInetAddress *addr);

/* The address whose measured facts apply to @stream's party: the c=
 * address as an IP literal, or NULL.  (transfer full) (nullable) */
GInetAddress *gw_neg_stream_address (MsrpSdpStream *stream);

/* Whether @party will accept an inbound connection, judged as the header
 * says; @is_answer picks the meaning of an absent a=setup.  @why (optional)
 * gets the words, (transfer full). */
gboolean gw_neg_party_accepts (const GwNegParty *party, gboolean is_answer,
                               char **why);

/* Whom the gateway must bind itself (relay plan, a party that will only be
 * passive; RFC 6135 section 4.2.2: with an empty SEND): over TCP it
 * connects to the party first; over the party's ICE leg the selected pair
 * is the connection, and the SEND goes on it. */
typedef enum
{
  GW_NEG_CONNECT_NONE = 0,
  GW_NEG_CONNECT_OFFERER = 1 << 0,
  GW_NEG_CONNECT_ANSWERER = 1 << 1,
} GwNegConnect;

typedef struct
{
  GwNegPolicy policy;        /* config, or a per-call flag */
  gboolean callee_reachable; /* flag callee-reachable, or a measured fact */
  gboolean can_anchor;       /* the gateway can relay this stream (a
                              * listener of its scheme; no fingerprint) */
  const char *cannot_anchor_why; /* words when !can_anchor (nullable) */
  gboolean relayed;              /* a re-offer of a stream the gateway relays
                                  * now (its party kept its URI) */
  gboolean can_cema;             /* the gateway has a CEMA anchor pool */
  gboolean tls;                  /* TCP/TLS/MSRP */
} GwNegOfferInput;

typedef struct
{
  GwNegPlan plan;                 /* DIRECT (tentative) or RELAY */
  MsrpSdpSetup setup_to_answerer; /* written into the offer the answerer
                                   * sees; ABSENT: the line is left as is */
  gboolean tls;                   /* TCP/TLS/MSRP (the answer step's CEMA
                                   * rows need it) */
  char *reason;
  char *warning; /* (nullable) */
} GwNegOfferDecision;

void gw_neg_offer_decision_clear (GwNegOfferDecision *d);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GwNegOfferDecision,
                                  gw_neg_offer_decision_clear)

/* The offer step: @offerer as its offer says. */
void gw_neg_decide_offer (const GwNegParty *offerer,
                          const GwNegOfferInput *input,
                          GwNegOfferDecision *out);

/* For the plans cema and cema-fallback, connect names the parties the
 * anchor connects to (outbound, gw-anchor.h); the others connect to the
 * stream's port. */
typedef struct
{
  GwNegPlan plan;
  MsrpSdpSetup setup_to_offerer; /* written into the answer the offerer
                                  * sees; ABSENT: left as is */
  GwNegConnect connect;
  char *reason;
  char *warning; /* (nullable) */
} GwNegAnswerDecision;

void gw_neg_answer_decision_clear (GwNegAnswerDecision *d);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GwNegAnswerDecision,
                                  gw_neg_answer_decision_clear)

/* The answer step: @offer as decided (with the a=setup the answerer saw),
 * @offerer as its offer said, @answerer as its answer says, @rejected when
 * the answer's m= port is 0. */
void gw_neg_decide_answer (const GwNegOfferDecision *offer,
                           const GwNegParty *offerer,
                           const GwNegParty *answerer, gboolean rejected,
                           GwNegAnswerDecision *out);

G_END_DECLS
