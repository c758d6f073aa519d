/* gw-negotiator.c: see gw-negotiator.h; the table is in README.md. */
#include "gw-negotiator.h"

#include <string.h>

static const char *const policy_names[] = { "auto", "always", "never" };
static const char *const plan_names[] = { "direct", "direct-reversed",
                                          "relay",  "rejected",
                                          "cema",   "cema-fallback" };

const char *
gw_neg_policy_to_string (GwNegPolicy policy)
{
  return (guint) policy < G_N_ELEMENTS (policy_names) ? policy_names[policy]
                                                      : NULL;
}

gboolean
gw_neg_policy_from_string (const char *text, GwNegPolicy *policy)
{
  for (guint i = 0; i < G_N_ELEMENTS (policy_names); i++)
    {
      if (g_ascii_strcasecmp (text, policy_names[i]) == 0)
        {
          *policy = (GwNegPolicy) i;
          return TRUE;
        }
    }
  return FALSE;
}

const char *
gw_neg_plan_to_string (GwNegPlan plan)
{
  G_STATIC_ASSERT (G_N_ELEMENTS (plan_names) == GW_NEG_N_PLANS);
  return (guint) plan < G_N_ELEMENTS (plan_names) ? plan_names[plan] : NULL;
}

void
gw_neg_party_clear (GwNegParty *party)
{
  g_clear_pointer (&party->detail, g_free);
}

void
gw_neg_offer_decision_clear (GwNegOfferDecision *d)
{
  g_clear_pointer (&d->reason, g_free);
  g_clear_pointer (&d->warning, g_free);
}

void
gw_neg_answer_decision_clear (GwNegAnswerDecision *d)
{
  g_clear_pointer (&d->reason, g_free);
  g_clear_pointer (&d->warning, g_free);
}

/* --- addresses ------------------------------------------------------------
 */

typedef struct
{
  const char *net;
  guint prefix;
  const char *what;
} Range;

/* Addresses behind which a party cannot be reached from the public side. */
static const Range private_ranges[] = {
  { "10.0.0.0", 8, "private (RFC 1918)" },
  { "172.16.0.0", 12, "private (RFC 1918)" },
  { "192.168.0.0", 16, "private (RFC 1918)" },
  { "100.64.0.0", 10, "carrier-grade NAT shared space (RFC 6598)" },
  { "169.254.0.0", 16, "link-local (RFC 3927)" },
  { "0.0.0.0", 8, "unspecified" },
  { "fc00::", 7, "unique local (RFC 4193)" },
  { "fe80::", 10, "link-local (RFC 4291)" },
  { "::", 128, "unspecified" },
};

static gboolean
in_range (GInetAddress *addr, const Range *r)
{
  g_autoptr (GInetAddress) net = g_inet_address_new_from_string (r->net);
  g_autoptr (GInetAddressMask) mask =
      g_inet_address_mask_new (net, r->prefix, NULL);

  return mask != NULL &&
         g_inet_address_get_family (addr) == g_inet_address_get_family (net) &&
         g_inet_address_mask_matches (mask, addr);
}

gboolean
gw_neg_address_is_public (GInetAddress *addr)
{
  for (guint i = 0; i < G_N_ELEMENTS (private_ranges); i++)
    if (in_range (addr, &private_ranges[i]))
      return FALSE;
  return TRUE;
}

/* An IP literal from an SDP address or URI host ("[::1]" has brackets). */
static GInetAddress *
literal (const char *host)
{
  g_autofree char *bare = NULL;
  gsize len = strlen (host);

  if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
    bare = g_strndup (host + 1, len - 2);
  return g_inet_address_new_from_string (bare != NULL ? bare : host);
}

GInetAddress *
gw_neg_stream_address (MsrpSdpStream *stream)
{
  return literal (msrp_sdp_stream_get_address (stream, NULL));
}

/* Classify one address the party gave (@where: "c=", "a=path"); on
 * anything but PUBLIC, *@detail gets the words. */
static GwNegAddr
classify (const char *host, const char *where, GInetAddress *received_from,
          gboolean trust, char **detail)
{
  g_autoptr (GInetAddress) addr = literal (host);

  if (addr == NULL)
    {
      *detail = g_strdup_printf ("%s %s is a name, which cannot be checked",
                                 where, host);
      return GW_NEG_ADDR_NAME;
    }
  for (guint i = 0; i < G_N_ELEMENTS (private_ranges); i++)
    {
      if (in_range (addr, &private_ranges[i]))
        {
          *detail = g_strdup_printf ("%s %s is %s", where, host,
                                     private_ranges[i].what);
          return GW_NEG_ADDR_PRIVATE;
        }
    }
  if (!trust && received_from != NULL &&
      !g_inet_address_equal (addr, received_from))
    {
      g_autofree char *rf = g_inet_address_to_string (received_from);

      *detail = g_strdup_printf ("%s %s differs from the signalling source %s",
                                 where, host, rf);
      return GW_NEG_ADDR_MISMATCH;
    }
  return GW_NEG_ADDR_PUBLIC;
}

void
gw_neg_party_from_stream (GwNegParty *party, MsrpSdpStream *stream,
                          GInetAddress *received_from, gboolean trust_address)
{
  GPtrArray *path = msrp_sdp_stream_get_path (stream);
  const char *c = msrp_sdp_stream_get_address (stream, NULL);

  memset (party, 0, sizeof *party);
  party->setup = msrp_sdp_stream_get_setup (stream);
  if (party->setup == MSRP_SDP_SETUP_HOLDCONN)
    party->setup = MSRP_SDP_SETUP_ABSENT;
  party->via_relay = path != NULL && path->len > 1;
  party->cema = msrp_sdp_stream_get_cema (stream);
  party->addr =
      classify (c, "c=", received_from, trust_address, &party->detail);
  if (party->addr == GW_NEG_ADDR_PUBLIC && path != NULL && path->len > 0)
    {
      MsrpUri *own = path->pdata[path->len - 1];

      party->addr = classify (msrp_uri_get_host (own), "a=path", received_from,
                              trust_address, &party->detail);
    }
  if (party->addr == GW_NEG_ADDR_PUBLIC)
    party->detail = g_strdup_printf ("%s is public", c);
}

gboolean
gw_neg_party_accepts (const GwNegParty *p, gboolean is_answer, char **why)
{
  gboolean listens;
  const char *setup = msrp_sdp_setup_to_string (p->setup);
  g_autofree char *words = NULL;
  gboolean ok;

  /* RFC 6135 section 4.2.2; RFC 4975 section 5.4: without a=setup the
   * offerer connects and the answerer listens. */
  switch (p->setup)
    {
    case MSRP_SDP_SETUP_ACTPASS:
    case MSRP_SDP_SETUP_PASSIVE:
      listens = TRUE;
      break;
    case MSRP_SDP_SETUP_ABSENT:
    case MSRP_SDP_SETUP_HOLDCONN:
      listens = is_answer;
      setup = is_answer ? "no a=setup (passive, RFC 4975)"
                        : "no a=setup (active, RFC 4975)";
      break;
    default:
      listens = FALSE;
      break;
    }
  if (!listens)
    {
      words = g_strdup_printf (
          "it will not accept connections (%s%s)",
          p->setup == MSRP_SDP_SETUP_ACTIVE ? "a=setup:" : "", setup);
      ok = FALSE;
    }
  else if (p->via_relay)
    {
      words = g_strdup ("it is reached through its own relay (a=path)");
      ok = TRUE;
    }
  else if (p->fact != GW_NEG_FACT_UNKNOWN)
    {
      ok = p->fact == GW_NEG_FACT_REACHABLE;
      words =
          g_strdup_printf ("measured %s %" G_GINT64_FORMAT " s ago",
                           ok ? "reachable" : "unreachable", p->fact_age_s);
    }
  else
    {
      ok = p->addr == GW_NEG_ADDR_PUBLIC;
      words = g_strdup (p->detail != NULL ? p->detail : "");
    }
  if (why != NULL)
    *why = g_steal_pointer (&words);
  return ok;
}

/* --- the offer step -------------------------------------------------------
 */

/* Whether the offer's stream goes through the gateway, policy "never"
 * aside: one row of the decision table per branch, its reason (and a
 * warning, for an offerer passive and unreachable) into @out. */
static gboolean
offer_wants_relay (const GwNegParty *offerer, const GwNegOfferInput *in,
                   GwNegOfferDecision *out)
{
  g_autofree char *why = NULL;
  gboolean reachable = gw_neg_party_accepts (offerer, FALSE, &why);

  if (in->policy == GW_NEG_POLICY_ALWAYS)
    {
      out->reason = g_strdup ("policy always relays");
      return TRUE;
    }
  if (in->relayed)
    {
      /* A re-INVITE or session refresh (RFC 3264 section 8) of a relayed
       * stream: new facts about the parties do not move it, because going
       * direct now would close the connections both parties have to the
       * gateway in the middle of the session. */
      out->reason = g_strdup_printf ("a re-offer of a relayed stream stays "
                                     "relayed (offerer: %s)",
                                     why);
      return TRUE;
    }
  if (offerer->ice && offerer->fact != GW_NEG_FACT_REACHABLE)
    {
      /* Its checks will measure what the addresses only suggest. */
      out->reason = g_strdup_printf ("the offerer offers ICE-TCP and is not "
                                     "measured reachable (%s): an ICE leg to "
                                     "the gateway",
                                     why);
      return TRUE;
    }
  if (reachable)
    {
      out->reason = g_strdup_printf ("offerer reachable: %s", why);
      return FALSE;
    }
  if (in->callee_reachable && offerer->setup != MSRP_SDP_SETUP_PASSIVE)
    {
      /* RFC 4145 section 4: an offer of active makes the answerer passive,
       * so the offerer connects to the reachable callee. */
      out->setup_to_answerer = MSRP_SDP_SETUP_ACTIVE;
      out->reason = g_strdup_printf ("offerer not reachable (%s), callee "
                                     "reachable: the offerer connects",
                                     why);
      return FALSE;
    }
  out->reason = g_strdup_printf ("offerer not reachable: %s", why);
  if (offerer->setup == MSRP_SDP_SETUP_PASSIVE)
    out->warning = g_strdup_printf ("the offerer insists on a=setup:passive "
                                    "but looks unreachable (%s); "
                                    "the gateway will try to connect to it",
                                    offerer->detail);
  return TRUE;
}

void
gw_neg_decide_offer (const GwNegParty *offerer, const GwNegOfferInput *in,
                     GwNegOfferDecision *out)
{
  gboolean relay;

  memset (out, 0, sizeof *out);
  out->setup_to_answerer = MSRP_SDP_SETUP_ABSENT;
  out->tls = in->tls;

  if (in->policy == GW_NEG_POLICY_NEVER)
    {
      out->plan = GW_NEG_PLAN_DIRECT;
      out->reason = g_strdup ("policy never relays; the SDP passes unchanged");
      return;
    }
  if (offerer->cema && in->can_cema && !in->relayed)
    {
      /* RFC 6714 sections 4.2 and 6.3: a CEMA offerer connects to c= and
       * m=, so the gateway anchors the stream at a port of its own by
       * rewriting them alone; a=path and a=setup pass as offered (a CEMA
       * offerer without a relay offers actpass, section 4.2).  TLS stays
       * end to end (section 6.5), a=fingerprint streams too. */
      out->plan = GW_NEG_PLAN_CEMA;
      out->reason = g_strdup ("the offer carries a=msrp-cema: anchored at a "
                              "port of the gateway's, c= and m= rewritten, "
                              "a=path untouched (RFC 6714 section 6.3)");
      return;
    }
  relay = offer_wants_relay (offerer, in, out);
  if (relay && !in->can_anchor)
    {
      out->plan = GW_NEG_PLAN_DIRECT;
      g_free (out->warning);
      out->warning = g_strdup_printf (
          "the gateway cannot relay this stream "
          "(%s); it passes unchanged although %s",
          in->cannot_anchor_why != NULL ? in->cannot_anchor_why : "no reason",
          out->reason);
      return;
    }
  out->plan = relay ? GW_NEG_PLAN_RELAY : GW_NEG_PLAN_DIRECT;
  /* The answerer sees the gateway first in a=path; it may connect to it
   * or let the gateway connect (RFC 6135 section 4.2.2).  When the offerer
   * uses ICE the gateway offers the answerer ICE too, actpass all the
   * same: RFC 6135 section 4.2.2 says an offer "MUST NOT use ...
   * passive", and with ICE a=setup still says who is the MSRP active
   * side (RFC 6544 section 4.5: "as if ICE were not in use"); an answerer
   * that answers passive gets the first SEND from the gateway, over its
   * ICE pair or over TCP. */
  if (relay)
    out->setup_to_answerer = MSRP_SDP_SETUP_ACTPASS;
}

/* --- the answer step ------------------------------------------------------
 */

static void
answer_direct (const GwNegOfferDecision *offer, const GwNegParty *offerer,
               const GwNegParty *answerer, GwNegAnswerDecision *out)
{
  MsrpSdpSetup seen = offer->setup_to_answerer != MSRP_SDP_SETUP_ABSENT
                          ? offer->setup_to_answerer
                          : offerer->setup;
  g_autofree char *why = NULL;

  if (answerer->setup == MSRP_SDP_SETUP_ACTIVE)
    {
      out->plan = GW_NEG_PLAN_DIRECT_REVERSED;
      if (seen == MSRP_SDP_SETUP_ACTIVE || seen == MSRP_SDP_SETUP_ABSENT)
        {
          out->reason = g_strdup ("the answerer answered active to an offer "
                                  "that was active");
          out->warning = g_strdup ("both parties will connect and neither "
                                   "listens (RFC 4145 section 4: an active "
                                   "offer needs a passive answer)");
        }
      else if (gw_neg_party_accepts (offerer, FALSE, &why))
        {
          out->reason =
              g_strdup_printf ("the answerer connects to the offerer, "
                               "which is reachable: %s",
                               why);
        }
      else
        {
          out->reason = g_strdup ("the answerer connects to the offerer");
          out->warning =
              g_strdup_printf ("the answerer will connect to the "
                               "offerer, which looks unreachable: %s",
                               why);
        }
      return;
    }
  out->plan = GW_NEG_PLAN_DIRECT;
  if (seen == MSRP_SDP_SETUP_PASSIVE)
    {
      out->reason = g_strdup ("the answerer answered passive to a passive "
                              "offer");
      out->warning = g_strdup ("neither party will connect (RFC 4145 section "
                               "4: a passive offer needs an active answer)");
    }
  else if (gw_neg_party_accepts (answerer, TRUE, &why))
    {
      out->reason = g_strdup_printf ("the offerer connects to the answerer, "
                                     "which is reachable: %s",
                                     why);
    }
  else
    {
      out->reason = g_strdup ("the offerer connects to the answerer");
      out->warning =
          g_strdup_printf ("the answerer waits for a connection but "
                           "looks unreachable (%s); the offer went "
                           "out without the gateway",
                           why);
    }
}

/* The offerer's side of the relay plan: the a=setup it is answered, whom
 * the gateway binds, the words; into @out and @warning. */
static const char *
relay_offerer (const GwNegParty *offerer, GwNegAnswerDecision *out,
               GString *warning)
{
  g_autofree char *why = NULL;

  /* The offerer connects to the gateway and sends first unless it
   * insisted on passive (RFC 4145 section 4: then the answer is active and
   * the gateway binds it: over TCP it connects; over the offerer's ICE
   * leg the pair is the connection, and the gateway sends the first SEND
   * on it). */
  if (offerer->setup != MSRP_SDP_SETUP_PASSIVE)
    {
      out->setup_to_offerer = MSRP_SDP_SETUP_PASSIVE;
      return offerer->ice ? "the offerer reaches the gateway over ICE-TCP"
                          : "the offerer connects to the gateway";
    }
  out->setup_to_offerer = MSRP_SDP_SETUP_ACTIVE;
  out->connect |= GW_NEG_CONNECT_OFFERER;
  if (offerer->ice)
    return "the gateway sends the first SEND over the offerer's ICE-TCP "
           "pair";
  if (!gw_neg_party_accepts (offerer, FALSE, &why))
    g_string_append_printf (warning,
                            "the offerer is passive but looks "
                            "unreachable (%s)",
                            why);
  return "the gateway connects to the offerer";
}

/* The answerer's side of the relay plan: whom the gateway binds, the
 * words; into @out and @warning. */
static const char *
relay_answerer (const GwNegParty *answerer, GwNegAnswerDecision *out,
                GString *warning)
{
  g_autofree char *why = NULL;

  /* The answerer connects (or, over ICE, sends first on its pair) when it
   * answered active; else it waits, and the gateway binds it with an
   * empty SEND (RFC 6135 section 4.2.2): over TCP after connecting to it,
   * over ICE on the pair. */
  if (answerer->setup == MSRP_SDP_SETUP_ACTIVE)
    return answerer->ice ? "the answerer reaches the gateway over ICE-TCP"
                         : "the answerer connects to the gateway";
  out->connect |= GW_NEG_CONNECT_ANSWERER;
  if (answerer->ice)
    return "the gateway sends the first SEND over the answerer's ICE-TCP "
           "pair";
  if (!gw_neg_party_accepts (answerer, TRUE, &why))
    g_string_append_printf (warning,
                            "%sthe answerer waits for a "
                            "connection but looks unreachable (%s): a "
                            "legacy RFC 4975 answerer behind NAT cannot "
                            "take part without ICE",
                            warning->len > 0 ? "; " : "", why);
  return "the gateway connects to the answerer";
}

static void
answer_relay (const GwNegParty *offerer, const GwNegParty *answerer,
              GwNegAnswerDecision *out)
{
  g_autoptr (GString) warning = g_string_new (NULL);
  const char *offerer_how, *answerer_how;

  out->plan = GW_NEG_PLAN_RELAY;
  offerer_how = relay_offerer (offerer, out, warning);
  answerer_how = relay_answerer (answerer, out, warning);
  out->reason = g_strdup_printf ("%s; %s", offerer_how, answerer_how);
  if (warning->len > 0)
    out->warning = g_strdup (warning->str);
}

/* --- the answer step: CEMA (RFC 6714) --------------------------------------
 */

/* Both parties do CEMA: each connects to the c=/m= it received, the
 * gateway's port, unless it listens (gw-anchor.h). */
static void
answer_cema_both (const GwNegOfferDecision *offer, const GwNegParty *offerer,
                  const GwNegParty *answerer, GwNegAnswerDecision *out)
{
  g_autofree char *why = NULL;

  out->plan = GW_NEG_PLAN_CEMA;
  if (answerer->setup != MSRP_SDP_SETUP_ACTIVE)
    {
      /* It answered passive (or, as RFC 4975 has it, left a=setup out):
       * it waits at its c=/m= (section 4.3) and the gateway connects to
       * it once the offerer has connected to the port. */
      out->connect = GW_NEG_CONNECT_ANSWERER;
      out->reason = g_strdup ("both parties do CEMA: the offerer connects to "
                              "the gateway's port, the gateway to the "
                              "answerer");
      if (offerer->setup == MSRP_SDP_SETUP_PASSIVE)
        out->warning = g_strdup ("the answerer answered passive to a passive "
                                 "offer: nobody will connect to the "
                                 "gateway's port (RFC 4145 section 4)");
      else if (!gw_neg_party_accepts (answerer, TRUE, &why))
        out->warning = g_strdup_printf ("the answerer waits for a "
                                        "connection but looks unreachable "
                                        "(%s)",
                                        why);
      return;
    }
  if (!offer->tls && offerer->setup != MSRP_SDP_SETUP_PASSIVE &&
      !offerer->via_relay)
    {
      /* TCP/MSRP: both connect to the port, each sending its first SEND
       * (RFC 4975 allows it): the offerer is answered passive, so that it
       * becomes active too (RFC 6714 section 4.2: then it uses c=/m=), and
       * no party behind a NAT has to accept a connection. */
      out->setup_to_offerer = MSRP_SDP_SETUP_PASSIVE;
      out->reason = g_strdup ("both parties do CEMA and connect to the "
                              "gateway's port");
      return;
    }
  /* TLS: the active party is the TLS client (RFC 6135 section 6), and two
   * clients never complete a handshake, so the gateway connects to the
   * offerer, which is then the TLS server; likewise for an offerer that
   * insisted on passive, and for one that uses a relay: made active, it
   * would have to disable CEMA (RFC 6714 section 4.1), while its c=/m=
   * name that relay, which accepts connections. */
  out->connect = GW_NEG_CONNECT_OFFERER;
  out->reason = g_strdup (
      offerer->via_relay
          ? "both parties do CEMA, the offerer through its relay: the "
            "answerer connects to the gateway's port, the gateway to the "
            "offerer's relay (c=/m=)"
          : "both parties do CEMA: the answerer connects to the gateway's "
            "port, the gateway to the offerer");
  if (!gw_neg_party_accepts (offerer, FALSE, &why))
    out->warning = g_strdup_printf (
        "the answerer is active, so the gateway must connect to the "
        "offerer, which looks unreachable (%s)%s",
        why,
        offer->tls ? ": two TLS parties behind NATs cannot be anchored "
                     "end to end (both would be TLS clients, RFC 6135 "
                     "section 6)"
                   : "");
}

/* A CEMA offer met by an answer without a=msrp-cema (RFC 6714 section 4):
 * the answerer uses a=path, not c=/m=. */
static void
answer_cema_fallback (const GwNegParty *offerer, const GwNegParty *answerer,
                      GwNegAnswerDecision *out)
{
  g_autofree char *why = NULL;

  if (answerer->setup == MSRP_SDP_SETUP_ACTIVE)
    {
      /* Section 4.1: an active non-CEMA answerer connects to the
       * offerer's a=path URI, past the gateway's port.  The answer passes
       * unchanged, so a CEMA offerer finds c=/m= matching a=path and
       * waits as RFC 4975 says (section 4.2). */
      out->plan = GW_NEG_PLAN_DIRECT_REVERSED;
      out->reason = g_strdup ("the answerer has no a=msrp-cema and is active: "
                              "it connects along a=path to the offerer "
                              "(RFC 6714 section 4.1), the anchor is not "
                              "used");
      if (!gw_neg_party_accepts (offerer, FALSE, &why))
        out->warning = g_strdup_printf (
            "the answerer has no a=msrp-cema and connects to the offerer "
            "along a=path, but the offerer looks unreachable (%s): offer "
            "without a=msrp-cema for the gateway to relay (RFC 6714 "
            "section 6.2)",
            why);
      return;
    }
  if (answerer->via_relay)
    {
      /* Section 4.1: it cannot be assumed to put its relay in c=/m=; the
       * answer passes, and the offerer connects along a=path to that
       * relay, which accepts connections for it. */
      out->plan = GW_NEG_PLAN_DIRECT;
      out->reason = g_strdup ("the answerer has no a=msrp-cema and uses a "
                              "relay: the offerer connects to it along "
                              "a=path (RFC 6714 section 4.1), the anchor is "
                              "not used");
      return;
    }
  /* It listens at its a=path URI (RFC 4975); the CEMA offerer becomes
   * active and connects to the answer's c=/m= (section 4.2: none of the
   * criteria of a new offer holds), the gateway's port, and the gateway
   * connects on to the answerer. */
  out->plan = GW_NEG_PLAN_CEMA_FALLBACK;
  out->connect = GW_NEG_CONNECT_ANSWERER;
  out->reason = g_strdup ("the answerer has no a=msrp-cema but listens: the "
                          "offerer connects to the gateway's port (RFC 6714 "
                          "section 4.2), the gateway to the answerer's "
                          "a=path URI");
  if (offerer->setup == MSRP_SDP_SETUP_PASSIVE)
    out->warning = g_strdup ("the answerer listens and the offer was "
                             "passive: nobody will connect to the gateway's "
                             "port (RFC 4145 section 4)");
  else if (!gw_neg_party_accepts (answerer, TRUE, &why))
    out->warning = g_strdup_printf ("the answerer waits for a connection but "
                                    "looks unreachable (%s): a legacy RFC "
                                    "4975 answerer behind NAT cannot take "
                                    "part",
                                    why);
}

void
gw_neg_decide_answer (const GwNegOfferDecision *offer,
                      const GwNegParty *offerer, const GwNegParty *answerer,
                      gboolean rejected, GwNegAnswerDecision *out)
{
  memset (out, 0, sizeof *out);
  out->setup_to_offerer = MSRP_SDP_SETUP_ABSENT;
  if (rejected)
    {
      out->plan = GW_NEG_PLAN_REJECTED;
      out->reason = g_strdup ("the answer rejected the stream (m= port 0)");
      return;
    }
  if (offer->plan == GW_NEG_PLAN_CEMA && answerer->cema)
    answer_cema_both (offer, offerer, answerer, out);
  else if (offer->plan == GW_NEG_PLAN_CEMA)
    answer_cema_fallback (offerer, answerer, out);
  else if (offer->plan == GW_NEG_PLAN_RELAY)
    answer_relay (offerer, answerer, out);
  else
    answer_direct (offer, offerer, answerer, out);
}
