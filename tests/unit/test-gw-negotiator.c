/* Unit tests of gateway/gw-negotiator.c.
 *
 * `rows` is the decision table of README.md ("Decision table"), one row
 * each, in the same order and with the same numbers: an offerer, the policy
 * and flags, an answerer, and what each step must decide.  `parties` checks
 * how an SDP stream and the signalling source become a GwNegParty. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gw-negotiator.h"

#define ABSENT MSRP_SDP_SETUP_ABSENT
#define ACTIVE MSRP_SDP_SETUP_ACTIVE
#define PASSIVE MSRP_SDP_SETUP_PASSIVE
#define ACTPASS MSRP_SDP_SETUP_ACTPASS
#define PUB GW_NEG_ADDR_PUBLIC
#define PRIV GW_NEG_ADDR_PRIVATE
#define MISM GW_NEG_ADDR_MISMATCH
#define NAME GW_NEG_ADDR_NAME
#define DIRECT GW_NEG_PLAN_DIRECT
#define REVERSED GW_NEG_PLAN_DIRECT_REVERSED
#define RELAY GW_NEG_PLAN_RELAY
#define REJECTED GW_NEG_PLAN_REJECTED
#define C_NONE GW_NEG_CONNECT_NONE
#define C_OFF GW_NEG_CONNECT_OFFERER
#define C_ANS GW_NEG_CONNECT_ANSWERER

typedef struct
{
  MsrpSdpSetup setup;
  GwNegAddr addr;
  GwNegFact fact;
  gboolean via_relay;
  gboolean ice;
} P;

typedef struct
{
  const char *row;
  /* offer step */
  P offerer;
  GwNegPolicy policy;
  gboolean callee_reachable;
  gboolean can_anchor;
  GwNegPlan offer_plan;
  MsrpSdpSetup to_answerer; /* ABSENT: left as offered */
  gboolean offer_warning;
  /* answer step */
  P answerer;
  gboolean rejected;
  GwNegPlan plan;
  MsrpSdpSetup to_offerer; /* ABSENT: left as answered */
  GwNegConnect connect;
  gboolean answer_warning;
  gboolean relayed; /* a re-offer of a stream relayed now */
} Row;

#define AUTO GW_NEG_POLICY_AUTO
#define ALWAYS GW_NEG_POLICY_ALWAYS
#define NEVER GW_NEG_POLICY_NEVER
#define UNK GW_NEG_FACT_UNKNOWN
#define MREACH GW_NEG_FACT_REACHABLE
#define MUNREACH GW_NEG_FACT_UNREACHABLE

static const Row rows[] = {
  /* Direct: the offerer accepts connections. */
  { "1 both public, answerer passive",
    { ACTPASS, PUB, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    DIRECT,
    ABSENT,
    FALSE,
    { PASSIVE, PUB, UNK, FALSE },
    FALSE,
    DIRECT,
    ABSENT,
    C_NONE,
    FALSE },
  { "2 offerer public, NATed answerer active (reversed)",
    { ACTPASS, PUB, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    DIRECT,
    ABSENT,
    FALSE,
    { ACTIVE, PRIV, UNK, FALSE },
    FALSE,
    REVERSED,
    ABSENT,
    C_NONE,
    FALSE },
  { "3 offerer public, legacy public answerer",
    { ACTPASS, PUB, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    DIRECT,
    ABSENT,
    FALSE,
    { ABSENT, PUB, UNK, FALSE },
    FALSE,
    DIRECT,
    ABSENT,
    C_NONE,
    FALSE },
  { "4 offerer public, NATed answerer picks passive",
    { ACTPASS, PUB, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    DIRECT,
    ABSENT,
    FALSE,
    { PASSIVE, PRIV, UNK, FALSE },
    FALSE,
    DIRECT,
    ABSENT,
    C_NONE,
    TRUE },
  { "5 offerer public passive, answerer passive too",
    { PASSIVE, PUB, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    DIRECT,
    ABSENT,
    FALSE,
    { PASSIVE, PUB, UNK, FALSE },
    FALSE,
    DIRECT,
    ABSENT,
    C_NONE,
    TRUE },
  { "6 offerer public passive, answerer active",
    { PASSIVE, PUB, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    DIRECT,
    ABSENT,
    FALSE,
    { ACTIVE, PRIV, UNK, FALSE },
    FALSE,
    REVERSED,
    ABSENT,
    C_NONE,
    FALSE },
  { "7 offerer behind its own relay",
    { ACTPASS, PRIV, UNK, TRUE },
    AUTO,
    FALSE,
    TRUE,
    DIRECT,
    ABSENT,
    FALSE,
    { ACTIVE, PRIV, UNK, FALSE },
    FALSE,
    REVERSED,
    ABSENT,
    C_NONE,
    FALSE },
  { "8 offerer private but measured reachable",
    { ACTPASS, PRIV, MREACH, FALSE },
    AUTO,
    FALSE,
    TRUE,
    DIRECT,
    ABSENT,
    FALSE,
    { ACTIVE, PRIV, UNK, FALSE },
    FALSE,
    REVERSED,
    ABSENT,
    C_NONE,
    FALSE },
  { "9 answerer answers actpass (invalid), taken as passive",
    { ACTPASS, PUB, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    DIRECT,
    ABSENT,
    FALSE,
    { ACTPASS, PUB, UNK, FALSE },
    FALSE,
    DIRECT,
    ABSENT,
    C_NONE,
    FALSE },
  /* Callee known reachable: the NATed offerer connects. */
  { "10 NATed offerer, callee-reachable, public passive answerer",
    { ACTPASS, PRIV, UNK, FALSE },
    AUTO,
    TRUE,
    TRUE,
    DIRECT,
    ACTIVE,
    FALSE,
    { PASSIVE, PUB, UNK, FALSE },
    FALSE,
    DIRECT,
    ABSENT,
    C_NONE,
    FALSE },
  { "11 NATed active offerer, callee-reachable, legacy public answerer",
    { ACTIVE, PRIV, UNK, FALSE },
    AUTO,
    TRUE,
    TRUE,
    DIRECT,
    ACTIVE,
    FALSE,
    { ABSENT, PUB, UNK, FALSE },
    FALSE,
    DIRECT,
    ABSENT,
    C_NONE,
    FALSE },
  { "12 callee-reachable was wrong: answerer private",
    { ACTPASS, PRIV, UNK, FALSE },
    AUTO,
    TRUE,
    TRUE,
    DIRECT,
    ACTIVE,
    FALSE,
    { PASSIVE, PRIV, UNK, FALSE },
    FALSE,
    DIRECT,
    ABSENT,
    C_NONE,
    TRUE },
  { "13 callee-reachable, answerer answers active to active",
    { ACTPASS, PRIV, UNK, FALSE },
    AUTO,
    TRUE,
    TRUE,
    DIRECT,
    ACTIVE,
    FALSE,
    { ACTIVE, PUB, UNK, FALSE },
    FALSE,
    REVERSED,
    ABSENT,
    C_NONE,
    TRUE },
  /* Relay: the offerer cannot accept connections. */
  { "14 both NATed, answerer active",
    { ACTPASS, PRIV, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { ACTIVE, PRIV, UNK, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_NONE,
    FALSE },
  { "15 NATed offerer, public answerer passive: gateway connects",
    { ACTPASS, PRIV, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { PASSIVE, PUB, UNK, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_ANS,
    FALSE },
  { "16 both NATed, legacy answerer (no a=setup)",
    { ACTPASS, PRIV, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { ABSENT, PRIV, UNK, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_ANS,
    TRUE },
  { "17 both NATed, answerer picks passive",
    { ACTPASS, PRIV, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { PASSIVE, PRIV, UNK, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_ANS,
    TRUE },
  { "18 public offerer says active",
    { ACTIVE, PUB, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { PASSIVE, PUB, UNK, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_ANS,
    FALSE },
  { "19 legacy public offerer (no a=setup: active)",
    { ABSENT, PUB, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { ACTIVE, PRIV, UNK, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_NONE,
    FALSE },
  { "20 offerer address differs from the signalling source",
    { ACTPASS, MISM, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { ACTIVE, PUB, UNK, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_NONE,
    FALSE },
  { "21 offerer address is a name",
    { ACTPASS, NAME, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { ACTIVE, PUB, UNK, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_NONE,
    FALSE },
  { "22 public offerer measured unreachable",
    { ACTPASS, PUB, MUNREACH, FALSE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { ACTIVE, PRIV, UNK, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_NONE,
    FALSE },
  { "23 NATed offerer insists on passive",
    { PASSIVE, PRIV, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    TRUE,
    { ACTIVE, PRIV, UNK, FALSE },
    FALSE,
    RELAY,
    ACTIVE,
    C_OFF,
    TRUE },
  { "24 NATed passive offerer, callee-reachable does not help",
    { PASSIVE, PRIV, UNK, FALSE },
    AUTO,
    TRUE,
    TRUE,
    RELAY,
    ACTPASS,
    TRUE,
    { PASSIVE, PUB, UNK, FALSE },
    FALSE,
    RELAY,
    ACTIVE,
    C_OFF | C_ANS,
    TRUE },
  { "25 NATed answerer measured reachable, passive",
    { ACTPASS, PRIV, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { PASSIVE, PRIV, MREACH, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_ANS,
    FALSE },
  /* Policy and limits. */
  { "26 policy always, both public",
    { ACTPASS, PUB, UNK, FALSE },
    ALWAYS,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { PASSIVE, PUB, UNK, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_ANS,
    FALSE },
  { "27 policy never, both NATed",
    { ACTPASS, PRIV, UNK, FALSE },
    NEVER,
    FALSE,
    TRUE,
    DIRECT,
    ABSENT,
    FALSE,
    { ACTIVE, PRIV, UNK, FALSE },
    FALSE,
    REVERSED,
    ABSENT,
    C_NONE,
    TRUE },
  { "28 NATed offerer, stream cannot be relayed",
    { ACTPASS, PRIV, UNK, FALSE },
    AUTO,
    FALSE,
    FALSE,
    DIRECT,
    ABSENT,
    TRUE,
    { PASSIVE, PUB, UNK, FALSE },
    FALSE,
    DIRECT,
    ABSENT,
    C_NONE,
    FALSE },
  { "29 answer rejects the stream",
    { ACTPASS, PRIV, UNK, FALSE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { PASSIVE, PUB, UNK, FALSE },
    TRUE,
    REJECTED,
    ABSENT,
    C_NONE,
    FALSE },
  /* ICE-TCP (issue 5): an ICE leg to the gateway unless measured. */
  { "30 both with ICE behind NAT",
    { ACTPASS, PRIV, UNK, FALSE, TRUE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { ACTIVE, PRIV, UNK, FALSE, TRUE },
    FALSE,
    RELAY,
    PASSIVE,
    C_NONE,
    FALSE },
  { "31 ICE offerer on a public address, not measured yet",
    { ACTPASS, PUB, UNK, FALSE, TRUE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { ACTIVE, PUB, UNK, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_NONE,
    FALSE },
  { "32 ICE offerer measured reachable",
    { ACTPASS, PUB, MREACH, FALSE, TRUE },
    AUTO,
    FALSE,
    TRUE,
    DIRECT,
    ABSENT,
    FALSE,
    { PASSIVE, PUB, UNK, FALSE },
    FALSE,
    DIRECT,
    ABSENT,
    C_NONE,
    FALSE },
  { "33 ICE offerer, legacy public answerer (no a=setup)",
    { ACTPASS, PRIV, UNK, FALSE, TRUE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { ABSENT, PUB, UNK, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_ANS,
    FALSE },
  { "34 ICE offerer, answerer without ICE connects over TCP",
    { ACTPASS, PRIV, UNK, FALSE, TRUE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { ACTIVE, PRIV, UNK, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_NONE,
    FALSE },
  { "35 ICE answerer answers passive: the gateway sends first on its pair",
    { ACTPASS, PRIV, UNK, FALSE, TRUE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { PASSIVE, PRIV, UNK, FALSE, TRUE },
    FALSE,
    RELAY,
    PASSIVE,
    C_ANS,
    FALSE },
  { "36 ICE offerer measured unreachable, policy never",
    { ACTPASS, PRIV, MUNREACH, FALSE, TRUE },
    NEVER,
    FALSE,
    TRUE,
    DIRECT,
    ABSENT,
    FALSE,
    { ACTIVE, PUB, UNK, FALSE },
    FALSE,
    REVERSED,
    ABSENT,
    C_NONE,
    TRUE },
  /* Re-offers. */
  { "37 re-offer of a relayed stream, offerer now measured reachable",
    { ACTPASS, PUB, MREACH, FALSE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { ACTIVE, PRIV, UNK, FALSE },
    FALSE,
    RELAY,
    PASSIVE,
    C_NONE,
    FALSE,
    TRUE },
  { "38 ICE offerer insists on passive: the gateway sends first on its pair",
    { PASSIVE, PRIV, UNK, FALSE, TRUE },
    AUTO,
    FALSE,
    TRUE,
    RELAY,
    ACTPASS,
    FALSE,
    { ACTIVE, PRIV, UNK, FALSE, TRUE },
    FALSE,
    RELAY,
    ACTIVE,
    C_OFF,
    FALSE },
};

static GwNegParty
party (const P *p)
{
  GwNegParty party = { 0 };

  party.setup = p->setup;
  party.addr = p->addr;
  party.fact = p->fact;
  party.via_relay = p->via_relay;
  party.ice = p->ice;
  party.detail = g_strdup (p->addr == PUB ? "203.0.113.10 is public"
                                          : "10.0.1.2 (c=) is private");
  return party;
}

START_TEST (test_row)
{
  const Row *r = &rows[_i];
  g_auto (GwNegParty) o = party (&r->offerer);
  g_auto (GwNegParty) a = party (&r->answerer);
  g_auto (GwNegOfferDecision) offer = { 0 };
  g_auto (GwNegAnswerDecision) answer = { 0 };
  GwNegOfferInput in = {
    .policy = r->policy,
    .callee_reachable = r->callee_reachable,
    .can_anchor = r->can_anchor,
    .cannot_anchor_why = r->can_anchor ? NULL : "no msrps listener",
    .relayed = r->relayed,
  };

  gw_neg_decide_offer (&o, &in, &offer);
  ck_assert_msg (offer.plan == r->offer_plan, "row %s: offer plan %s", r->row,
                 gw_neg_plan_to_string (offer.plan));
  ck_assert_msg (offer.setup_to_answerer == r->to_answerer,
                 "row %s: a=setup to the answerer %d", r->row,
                 offer.setup_to_answerer);
  ck_assert_msg ((offer.warning != NULL) == r->offer_warning,
                 "row %s: offer warning %s", r->row,
                 offer.warning != NULL ? offer.warning : "(none)");
  ck_assert_msg (offer.reason != NULL && offer.reason[0] != '\0',
                 "row %s: no reason", r->row);

  gw_neg_decide_answer (&offer, &o, &a, r->rejected, &answer);
  ck_assert_msg (answer.plan == r->plan, "row %s: plan %s", r->row,
                 gw_neg_plan_to_string (answer.plan));
  ck_assert_msg (answer.setup_to_offerer == r->to_offerer,
                 "row %s: a=setup to the offerer %d", r->row,
                 answer.setup_to_offerer);
  ck_assert_msg (answer.connect == r->connect, "row %s: connect %d", r->row,
                 answer.connect);
  ck_assert_msg ((answer.warning != NULL) == r->answer_warning,
                 "row %s: answer warning %s", r->row,
                 answer.warning != NULL ? answer.warning : "(none)");
  ck_assert_msg (answer.reason != NULL && strchr (answer.reason, '\n') == NULL,
                 "row %s: reason must be one line", r->row);
}
END_TEST

/* --- from SDP and signalling to a party ---------------------------------- */

typedef struct
{
  const char *name;
  const char *c;             /* c= address */
  const char *path;          /* a=path value */
  const char *setup;         /* a=setup value, or NULL */
  const char *received_from; /* or NULL */
  gboolean trust;
  GwNegAddr addr;
  MsrpSdpSetup want_setup;
  gboolean via_relay;
  const char *detail_has; /* substring of the detail */
} PartyCase;

static const PartyCase parties[] = {
  { "public, matching", "203.0.113.10", "msrp://203.0.113.10:7000/a;tcp",
    "actpass", "203.0.113.10", FALSE, PUB, ACTPASS, FALSE, "public" },
  { "public, no received-from", "203.0.113.10",
    "msrp://203.0.113.10:7000/a;tcp", "passive", NULL, FALSE, PUB, PASSIVE,
    FALSE, "public" },
  { "RFC 1918 10/8", "10.0.1.2", "msrp://10.0.1.2:7000/a;tcp", "actpass",
    "203.0.113.20", FALSE, PRIV, ACTPASS, FALSE, "RFC 1918" },
  { "RFC 1918 172.16/12", "172.31.255.1", "msrp://172.31.255.1:7000/a;tcp",
    NULL, NULL, FALSE, PRIV, ABSENT, FALSE, "RFC 1918" },
  { "172.32 is public", "172.32.0.1", "msrp://172.32.0.1:7000/a;tcp", NULL,
    NULL, FALSE, PUB, ABSENT, FALSE, "public" },
  { "RFC 1918 192.168/16", "192.168.1.9", "msrp://192.168.1.9:7000/a;tcp",
    "active", NULL, FALSE, PRIV, ACTIVE, FALSE, "RFC 1918" },
  { "RFC 6598 shared space", "100.64.3.4", "msrp://100.64.3.4:7000/a;tcp",
    "actpass", NULL, FALSE, PRIV, ACTPASS, FALSE, "RFC 6598" },
  { "100.128 is public", "100.128.0.1", "msrp://100.128.0.1:7000/a;tcp",
    "actpass", NULL, FALSE, PUB, ACTPASS, FALSE, "public" },
  { "link-local v4", "169.254.7.7", "msrp://169.254.7.7:7000/a;tcp", "actpass",
    NULL, FALSE, PRIV, ACTPASS, FALSE, "link-local" },
  { "ULA", "fd00::5", "msrp://[fd00::5]:7000/a;tcp", "actpass", NULL, FALSE,
    PRIV, ACTPASS, FALSE, "RFC 4193" },
  { "link-local v6", "fe80::1", "msrp://[fe80::1]:7000/a;tcp", "actpass", NULL,
    FALSE, PRIV, ACTPASS, FALSE, "link-local" },
  { "public v6 matching", "2001:db8::7", "msrp://[2001:db8::7]:7000/a;tcp",
    "actpass", "2001:db8::7", FALSE, PUB, ACTPASS, FALSE, "public" },
  { "c= differs from the source", "203.0.113.10",
    "msrp://203.0.113.10:7000/a;tcp", "actpass", "203.0.113.20", FALSE, MISM,
    ACTPASS, FALSE, "differs from the signalling source 203.0.113.20" },
  { "trust-address skips the comparison", "203.0.113.10",
    "msrp://203.0.113.10:7000/a;tcp", "actpass", "203.0.113.20", TRUE, PUB,
    ACTPASS, FALSE, "public" },
  { "trust-address still sees private", "10.0.1.2",
    "msrp://10.0.1.2:7000/a;tcp", "actpass", "203.0.113.20", TRUE, PRIV,
    ACTPASS, FALSE, "RFC 1918" },
  { "a=path host private, c= public", "203.0.113.10",
    "msrp://10.0.1.2:7000/a;tcp", "actpass", NULL, FALSE, PRIV, ACTPASS, FALSE,
    "a=path 10.0.1.2" },
  { "a=path host a name", "203.0.113.10",
    "msrp://alice.example.com:7000/a;tcp", "actpass", NULL, FALSE, NAME,
    ACTPASS, FALSE, "name" },
  { "c= a name", "pc.example.com", "msrp://203.0.113.10:7000/a;tcp", "actpass",
    NULL, FALSE, NAME, ACTPASS, FALSE, "name" },
  { "holdconn counts as absent", "203.0.113.10",
    "msrp://203.0.113.10:7000/a;tcp", "holdconn", NULL, FALSE, PUB, ABSENT,
    FALSE, "public" },
  { "own relay in a=path", "10.0.1.2",
    "msrp://relay.example.net:2855/r;tcp msrp://10.0.1.2:7000/a;tcp", "active",
    NULL, FALSE, PRIV, ACTIVE, TRUE, "RFC 1918" },
};

START_TEST (test_party)
{
  const PartyCase *pc = &parties[_i];
  g_autofree char *text = g_strdup_printf (
      "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"
      "m=message 7000 TCP/MSRP *\r\na=path:%s\r\n%s%s%s",
      strchr (pc->c, ':') != NULL ? "IP6" : "IP4", pc->c, pc->path,
      pc->setup != NULL ? "a=setup:" : "", pc->setup != NULL ? pc->setup : "",
      pc->setup != NULL ? "\r\n" : "");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp = msrp_sdp_parse (text, strlen (text), &error);
  g_autoptr (GInetAddress) rf =
      pc->received_from != NULL
          ? g_inet_address_new_from_string (pc->received_from)
          : NULL;
  g_auto (GwNegParty) p = { 0 };

  ck_assert_msg (sdp != NULL, "%s: %s", pc->name, error->message);
  gw_neg_party_from_stream (&p, msrp_sdp_get_stream (sdp, 0), rf, pc->trust);
  ck_assert_msg (p.addr == pc->addr, "%s: addr %d (%s)", pc->name, p.addr,
                 p.detail);
  ck_assert_msg (p.setup == pc->want_setup, "%s: setup %d", pc->name, p.setup);
  ck_assert_msg (p.via_relay == pc->via_relay, "%s: via_relay", pc->name);
  ck_assert_msg (p.detail != NULL && strstr (p.detail, pc->detail_has),
                 "%s: detail '%s' lacks '%s'", pc->name, p.detail,
                 pc->detail_has);
}
END_TEST

/* Measured facts win over the address guess, but not over a=setup. */
START_TEST (test_accepts)
{
  GwNegParty p = {
    .setup = ACTIVE, .addr = PUB, .fact = MREACH, .fact_age_s = 5
  };
  g_autofree char *why = NULL;
  g_autofree char *why2 = NULL;
  g_autofree char *why3 = NULL;

  ck_assert (!gw_neg_party_accepts (&p, FALSE, &why));
  ck_assert_ptr_nonnull (strstr (why, "a=setup:active"));
  p.setup = PASSIVE;
  ck_assert (gw_neg_party_accepts (&p, TRUE, &why2));
  ck_assert_ptr_nonnull (strstr (why2, "measured reachable 5 s ago"));
  p.setup = ABSENT;
  p.fact = UNK;
  ck_assert (!gw_neg_party_accepts (&p, FALSE, NULL));
  ck_assert (gw_neg_party_accepts (&p, TRUE, &why3));
}
END_TEST

START_TEST (test_names)
{
  GwNegPolicy policy = GW_NEG_POLICY_AUTO;

  ck_assert (gw_neg_policy_from_string ("Always", &policy));
  ck_assert_int_eq (policy, GW_NEG_POLICY_ALWAYS);
  ck_assert (!gw_neg_policy_from_string ("sometimes", &policy));
  ck_assert_int_eq (policy, GW_NEG_POLICY_ALWAYS);
  ck_assert_str_eq (gw_neg_policy_to_string (GW_NEG_POLICY_NEVER), "never");
  ck_assert_str_eq (gw_neg_plan_to_string (REVERSED), "direct-reversed");
  ck_assert_ptr_null (gw_neg_plan_to_string ((GwNegPlan) 99));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("gw-negotiator");
  TCase *tc = tcase_create ("table");
  SRunner *sr;
  int failed;

  tcase_add_loop_test (tc, test_row, 0, G_N_ELEMENTS (rows));
  tcase_add_loop_test (tc, test_party, 0, G_N_ELEMENTS (parties));
  tcase_add_test (tc, test_accepts);
  tcase_add_test (tc, test_names);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
