/* Check suite for msrpcat's SDP mode (gateway/mc-sdp.c): the --setup values,
 * the roles of RFC 4145 section 4 / RFC 6135 section 4.2 for an offerer and
 * an answerer, the SDP it writes (checked by parsing it back with
 * msrp-sdp), what it reads from the peer's (each input against a guard
 * page), the default ICE candidate, and the files. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "guard.h"
#include "mc-sdp.h"

#define ABSENT MSRP_SDP_SETUP_ABSENT
#define ACTIVE MSRP_SDP_SETUP_ACTIVE
#define PASSIVE MSRP_SDP_SETUP_PASSIVE
#define ACTPASS MSRP_SDP_SETUP_ACTPASS
#define HOLDCONN MSRP_SDP_SETUP_HOLDCONN

/* --- --setup ------------------------------------------------------------ */

static const struct
{
  const char *text;
  gboolean ok;
  MsrpSdpSetup setup;
} setup_option_cases[] = {
  { "actpass", TRUE, ACTPASS },
  { "active", TRUE, ACTIVE },
  { "passive", TRUE, PASSIVE },
  { "none", TRUE, ABSENT },
  { "ACTIVE", TRUE, ACTIVE },
  { "holdconn", FALSE, 0 }, /* RFC 6135 4.2.1: MUST NOT send it */
  { "", FALSE, 0 },
  { "act", FALSE, 0 },
  { "active ", FALSE, 0 },
};

START_TEST (test_setup_option)
{
  MsrpSdpSetup got = HOLDCONN;
  g_autoptr (GError) error = NULL;
  gboolean ok =
      mc_sdp_parse_setup_option (setup_option_cases[_i].text, &got, &error);

  ck_assert_msg (ok == setup_option_cases[_i].ok, "'%s'",
                 setup_option_cases[_i].text);
  if (ok)
    {
      ck_assert_int_eq (got, setup_option_cases[_i].setup);
      ck_assert_msg (g_ascii_strcasecmp (mc_sdp_setup_name (got),
                                         setup_option_cases[_i].text) == 0,
                     "'%s'", setup_option_cases[_i].text);
    }
  else
    {
      ck_assert (error != NULL);
      ck_assert_msg (strstr (error->message, "--setup") != NULL, "%s",
                     error->message);
    }
}
END_TEST

/* --- roles: the offerer ------------------------------------------------- */

static const struct
{
  MsrpSdpSetup offered, answered;
  gboolean ok, active;
  const char *error; /* substring */
} offerer_cases[] = {
  /* RFC 4145 section 4: an absent a=setup is active in an offer and
   * passive in an answer. */
  { ACTPASS, ACTIVE, TRUE, FALSE, NULL },
  { ACTPASS, PASSIVE, TRUE, TRUE, NULL },
  { ACTPASS, ABSENT, TRUE, TRUE, NULL },
  { ACTPASS, HOLDCONN, TRUE, TRUE, NULL }, /* RFC 6135: as absent */
  { ACTPASS, ACTPASS, FALSE, FALSE, "only an offer" },
  { ACTIVE, PASSIVE, TRUE, TRUE, NULL },
  { ACTIVE, ABSENT, TRUE, TRUE, NULL },
  { ACTIVE, ACTIVE, FALSE, FALSE, "active too" },
  { ACTIVE, ACTPASS, FALSE, FALSE, "only an offer" },
  { PASSIVE, ACTIVE, TRUE, FALSE, NULL },
  { PASSIVE, PASSIVE, FALSE, FALSE, "passive too" },
  { PASSIVE, ABSENT, FALSE, FALSE, "passive by default" },
  { PASSIVE, HOLDCONN, FALSE, FALSE, "passive by default" },
  { ABSENT, PASSIVE, TRUE, TRUE, NULL },
  { ABSENT, ABSENT, TRUE, TRUE, NULL },
  { ABSENT, ACTIVE, FALSE, FALSE, "active by default" },
};

START_TEST (test_offerer_role)
{
  gboolean active = !offerer_cases[_i].active;
  g_autoptr (GError) error = NULL;
  gboolean ok = mc_sdp_offerer_role (
      offerer_cases[_i].offered, offerer_cases[_i].answered, &active, &error);

  ck_assert_msg (ok == offerer_cases[_i].ok, "case %d", _i);
  if (ok)
    {
      ck_assert_msg (active == offerer_cases[_i].active, "case %d", _i);
    }
  else
    {
      ck_assert_int_eq (error->code, MC_SDP_ERROR_CONFLICT);
      ck_assert_msg (strstr (error->message, offerer_cases[_i].error) != NULL,
                     "case %d: %s", _i, error->message);
    }
}
END_TEST

/* --- roles: the answerer ------------------------------------------------ */

static const struct
{
  MsrpSdpSetup offered;
  gboolean wanted_set;
  MsrpSdpSetup wanted;
  gboolean ok;
  MsrpSdpSetup answer;
  gboolean active;
  const char *error;
} answerer_cases[] = {
  /* RFC 6135 section 4.2.2: to actpass, passive unless asked. */
  { ACTPASS, FALSE, 0, TRUE, PASSIVE, FALSE, NULL },
  { ACTPASS, TRUE, ACTIVE, TRUE, ACTIVE, TRUE, NULL },
  { ACTPASS, TRUE, PASSIVE, TRUE, PASSIVE, FALSE, NULL },
  { ACTPASS, TRUE, ABSENT, TRUE, ABSENT, FALSE, NULL },
  { ACTPASS, TRUE, ACTPASS, FALSE, 0, FALSE, "is for an offer" },
  { ACTIVE, FALSE, 0, TRUE, PASSIVE, FALSE, NULL },
  { ACTIVE, TRUE, PASSIVE, TRUE, PASSIVE, FALSE, NULL },
  { ACTIVE, TRUE, ABSENT, TRUE, ABSENT, FALSE, NULL },
  { ACTIVE, TRUE, ACTIVE, FALSE, 0, FALSE, "must be passive" },
  { PASSIVE, FALSE, 0, TRUE, ACTIVE, TRUE, NULL },
  { PASSIVE, TRUE, ACTIVE, TRUE, ACTIVE, TRUE, NULL },
  { PASSIVE, TRUE, PASSIVE, FALSE, 0, FALSE, "must be active" },
  { PASSIVE, TRUE, ABSENT, FALSE, 0, FALSE, "the default of an answer" },
  /* RFC 4975: an offer without a=setup is active; holdconn is absent. */
  { ABSENT, FALSE, 0, TRUE, PASSIVE, FALSE, NULL },
  { ABSENT, TRUE, ACTIVE, FALSE, 0, FALSE, "active by default" },
  { HOLDCONN, FALSE, 0, TRUE, PASSIVE, FALSE, NULL },
  { HOLDCONN, TRUE, ACTIVE, FALSE, 0, FALSE, "must be passive" },
};

START_TEST (test_answerer_role)
{
  MsrpSdpSetup answer = HOLDCONN;
  gboolean active = !answerer_cases[_i].active;
  g_autoptr (GError) error = NULL;
  gboolean ok = mc_sdp_answerer_role (
      answerer_cases[_i].offered, answerer_cases[_i].wanted,
      answerer_cases[_i].wanted_set, &answer, &active, &error);

  ck_assert_msg (ok == answerer_cases[_i].ok, "case %d", _i);
  if (ok)
    {
      ck_assert_msg (answer == answerer_cases[_i].answer, "case %d: %d", _i,
                     answer);
      ck_assert_msg (active == answerer_cases[_i].active, "case %d", _i);
    }
  else
    {
      ck_assert_int_eq (error->code, MC_SDP_ERROR_CONFLICT);
      ck_assert_msg (strstr (error->message, answerer_cases[_i].error) != NULL,
                     "case %d: %s", _i, error->message);
    }
}
END_TEST

/* Every offer and every answer the answerer may write agree: the offerer
 * reading that answer takes the other role. */
START_TEST (test_roles_agree)
{
  static const MsrpSdpSetup offers[] = { ACTPASS, ACTIVE, PASSIVE, ABSENT };
  static const MsrpSdpSetup wants[] = { ACTPASS, ACTIVE, PASSIVE, ABSENT };

  for (guint o = 0; o < G_N_ELEMENTS (offers); o++)
    for (guint w = 0; w <= G_N_ELEMENTS (wants); w++)
      {
        MsrpSdpSetup answer;
        gboolean a_active, o_active;
        gboolean set = w < G_N_ELEMENTS (wants);

        if (!mc_sdp_answerer_role (offers[o], set ? wants[w] : 0, set, &answer,
                                   &a_active, NULL))
          continue;
        ck_assert_msg (
            mc_sdp_offerer_role (offers[o], answer, &o_active, NULL),
            "offer %d answer %d", offers[o], answer);
        ck_assert_msg (o_active != a_active, "offer %d answer %d: both %s",
                       offers[o], answer, o_active ? "active" : "passive");
      }
}
END_TEST

/* --- our SDP ------------------------------------------------------------ */

static MsrpSdpCandidate *
cand (const char *text)
{
  MsrpSdpCandidate *c = msrp_sdp_candidate_parse (text, -1, NULL);

  ck_assert_msg (c != NULL, "%s", text);
  return c;
}

static const struct
{
  const char *name;
  const char *address;
  guint16 port;
  gboolean tls;
  const char *path;
  const char *accept; /* space separated, NULL: none given */
  guint64 max_size;
  MsrpSdpSetup setup;
  gboolean ice;
  gboolean ok;
  const char *expect[8]; /* lines that must be there, in order */
  const char *absent;    /* a text that must not be there */
} build_cases[] = {
  { "actpass v4",
    "127.0.0.1",
    40000,
    FALSE,
    "msrp://127.0.0.1:40000/abc;tcp",
    NULL,
    0,
    ACTPASS,
    FALSE,
    TRUE,
    { "v=0\r\n", "IN IP4 127.0.0.1\r\n", "m=message 40000 TCP/MSRP *\r\n",
      "c=IN IP4 127.0.0.1\r\n", "a=accept-types:*\r\n",
      "a=path:msrp://127.0.0.1:40000/abc;tcp\r\n", "a=setup:actpass\r\n" },
    "a=ice" },
  { "active v6, port 9",
    "::1",
    9,
    FALSE,
    "msrp://[::1]:9/abc;tcp",
    "text/plain image/*",
    0,
    ACTIVE,
    FALSE,
    TRUE,
    { "m=message 9 TCP/MSRP *\r\n", "c=IN IP6 ::1\r\n",
      "a=accept-types:text/plain image/*\r\n",
      "a=path:msrp://[::1]:9/abc;tcp\r\n", "a=setup:active\r\n" },
    NULL },
  { "tls, max-size, no a=setup",
    "192.0.2.1",
    2856,
    TRUE,
    "msrps://192.0.2.1:2856/x1;tcp",
    NULL,
    1000,
    ABSENT,
    FALSE,
    TRUE,
    { "m=message 2856 TCP/TLS/MSRP *\r\n", "a=max-size:1000\r\n",
      "a=path:msrps://192.0.2.1:2856/x1;tcp\r\n" },
    "a=setup" },
  { "relay path",
    "127.0.0.1",
    9,
    FALSE,
    "msrp://127.0.0.1:2855/r1;tcp msrp://127.0.0.1:9/me;tcp",
    NULL,
    0,
    PASSIVE,
    FALSE,
    TRUE,
    { "a=path:msrp://127.0.0.1:2855/r1;tcp msrp://127.0.0.1:9/me;tcp\r\n",
      "a=setup:passive\r\n" },
    NULL },
  { "ice",
    "127.0.0.1",
    9,
    FALSE,
    "msrp://127.0.0.1:9/abc;tcp",
    NULL,
    0,
    ACTPASS,
    TRUE,
    TRUE,
    { "a=setup:actpass\r\n", "a=ice-ufrag:ufrA\r\n",
      "a=ice-pwd:0123456789abcdefghijkl\r\n",
      "a=candidate:1 1 TCP 2021655551 127.0.0.1 9 typ host tcptype "
      "active\r\n",
      "a=candidate:2 1 TCP 2017461247 127.0.0.1 40001 typ host tcptype "
      "passive\r\n",
      "a=end-of-candidates\r\n" },
    NULL },
  { "address with a space",
    "127.0.0.1 x",
    9,
    FALSE,
    "msrp://127.0.0.1:9/abc;tcp",
    NULL,
    0,
    ACTPASS,
    FALSE,
    FALSE,
    { NULL },
    NULL },
  { "accept type not a media type",
    "127.0.0.1",
    9,
    FALSE,
    "msrp://127.0.0.1:9/abc;tcp",
    "text",
    0,
    ACTPASS,
    FALSE,
    FALSE,
    { NULL },
    NULL },
  { "path not a URI",
    "127.0.0.1",
    9,
    FALSE,
    "nope",
    NULL,
    0,
    ACTPASS,
    FALSE,
    FALSE,
    { NULL },
    NULL },
};

START_TEST (test_build)
{
  g_autoptr (GPtrArray) cands = g_ptr_array_new_with_free_func (
      (GDestroyNotify) msrp_sdp_candidate_free);
  g_auto (GStrv) accept = build_cases[_i].accept != NULL
                              ? g_strsplit (build_cases[_i].accept, " ", -1)
                              : NULL;
  McSdpLocal l = {
    .address = build_cases[_i].address,
    .port = build_cases[_i].port,
    .tls = build_cases[_i].tls,
    .path = build_cases[_i].path,
    .accept_types = (const char *const *) accept,
    .max_size = build_cases[_i].max_size,
    .setup = build_cases[_i].setup,
    .session_id = 42,
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  const char *at;

  if (build_cases[_i].ice)
    {
      g_ptr_array_add (cands, cand ("1 1 TCP 2021655551 127.0.0.1 9 typ host "
                                    "tcptype active"));
      g_ptr_array_add (cands, cand ("2 1 TCP 2017461247 127.0.0.1 40001 typ "
                                    "host tcptype passive"));
      l.ice_ufrag = "ufrA";
      l.ice_pwd = "0123456789abcdefghijkl";
      l.candidates = cands;
    }
  text = mc_sdp_build (&l, &error);
  ck_assert_msg ((text != NULL) == build_cases[_i].ok, "%s: %s",
                 build_cases[_i].name, error != NULL ? error->message : "");
  if (text == NULL)
    {
      ck_assert_msg (strstr (error->message, "cannot write our SDP") != NULL,
                     "%s", error->message);
      return;
    }
  at = text;
  for (guint i = 0; i < G_N_ELEMENTS (build_cases[_i].expect) &&
                    build_cases[_i].expect[i] != NULL;
       i++)
    {
      const char *hit = strstr (at, build_cases[_i].expect[i]);

      ck_assert_msg (hit != NULL, "%s: '%s' not found (in order) in:\n%s",
                     build_cases[_i].name, build_cases[_i].expect[i], text);
      at = hit + strlen (build_cases[_i].expect[i]);
    }
  if (build_cases[_i].absent != NULL)
    ck_assert_msg (strstr (text, build_cases[_i].absent) == NULL, "%s",
                   build_cases[_i].name);

  /* What we write, we read: the peer's view of it. */
  {
    g_autoptr (McSdpPeer) p =
        mc_sdp_peer_parse (text, strlen (text), "ours", &error);
    g_autoptr (GPtrArray) path =
        msrp_uri_list_parse (build_cases[_i].path, -1, NULL);

    ck_assert_msg (p != NULL, "%s", error != NULL ? error->message : "");
    ck_assert_int_eq (p->setup, build_cases[_i].setup);
    ck_assert_int_eq (p->port, build_cases[_i].port);
    ck_assert_str_eq (p->address, build_cases[_i].address);
    ck_assert_int_eq (p->proto, build_cases[_i].tls
                                    ? MSRP_SDP_PROTO_TCP_TLS_MSRP
                                    : MSRP_SDP_PROTO_TCP_MSRP);
    ck_assert_uint_eq (p->path->len, path->len);
    for (guint i = 0; i < path->len; i++)
      ck_assert (msrp_uri_equal (p->path->pdata[i], path->pdata[i]));
    ck_assert (mc_sdp_peer_has_ice (p) == build_cases[_i].ice);
    ck_assert_uint_eq (p->candidates->len, build_cases[_i].ice ? 2 : 0);
  }
}
END_TEST

/* --- the peer's SDP ----------------------------------------------------- */

#define HEAD "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nt=0 0\r\n"
#define MSRP_M "m=message 7654 TCP/MSRP *\r\nc=IN IP4 192.0.2.9\r\n"
#define PATH "a=path:msrp://192.0.2.9:7654/s1;tcp\r\n"

static const struct
{
  const char *name;
  const char *text;
  gboolean ok;
  const char *error; /* substring */
  MsrpSdpSetup setup;
  const char *first_uri;
  guint path_len;
  gboolean ice;
  guint n_candidates, n_skipped;
} peer_cases[] = {
  { "plain", HEAD MSRP_M PATH "a=setup:active\r\n", TRUE, NULL, ACTIVE,
    "msrp://192.0.2.9:7654/s1;tcp", 1, FALSE, 0, 0 },
  { "no a=setup", HEAD MSRP_M PATH, TRUE, NULL, ABSENT,
    "msrp://192.0.2.9:7654/s1;tcp", 1, FALSE, 0, 0 },
  { "holdconn read as absent", HEAD MSRP_M PATH "a=setup:holdconn\r\n", TRUE,
    NULL, ABSENT, "msrp://192.0.2.9:7654/s1;tcp", 1, FALSE, 0, 0 },
  { "session-level a=setup",
    "v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nt=0 0\n"
    "a=setup:passive\nm=message 7654 TCP/MSRP *\nc=IN IP4 192.0.2.9\n"
    "a=path:msrp://192.0.2.9:7654/s1;tcp",
    TRUE, NULL, PASSIVE, "msrp://192.0.2.9:7654/s1;tcp", 1, FALSE, 0, 0 },
  { "audio first, then MSRP",
    HEAD "m=audio 4000 RTP/AVP 0\r\n"
         "c=IN IP4 192.0.2.9\r\n" MSRP_M PATH "a=setup:actpass\r\n",
    TRUE, NULL, ACTPASS, "msrp://192.0.2.9:7654/s1;tcp", 1, FALSE, 0, 0 },
  { "relay path",
    HEAD MSRP_M "a=path:msrps://relay.example:2856/r;tcp "
                "msrp://192.0.2.9:7654/s1;tcp\r\na=setup:active\r\n",
    TRUE, NULL, ACTIVE, "msrps://relay.example:2856/r;tcp", 2, FALSE, 0, 0 },
  { "ice",
    HEAD MSRP_M PATH
    "a=setup:actpass\r\na=ice-ufrag:abcd\r\n"
    "a=ice-pwd:abcdefghijklmnopqrstuv\r\n"
    "a=candidate:1 1 TCP 2021655551 192.0.2.9 9 typ host tcptype active\r\n"
    "a=candidate:2 1 UDP 2130706431 192.0.2.9 5000 typ host\r\n"
    "a=candidate:3 2 TCP 2017461247 192.0.2.9 7655 typ host tcptype "
    "passive\r\n"
    "a=candidate:4 1 TCP 2017461247 192.0.2.9 7654 typ host tcptype "
    "passive\r\na=end-of-candidates\r\n",
    TRUE, NULL, ACTPASS, "msrp://192.0.2.9:7654/s1;tcp", 1, TRUE, 2, 2 },
  { "ice credentials, UDP candidates only",
    HEAD MSRP_M PATH
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
    "a=candidate:2 1 UDP 2130706431 192.0.2.9 5000 typ host\r\n",
    TRUE, NULL, ABSENT, "msrp://192.0.2.9:7654/s1;tcp", 1, FALSE, 0, 1 },
  { "session-level ice credentials",
    "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\n"
    "s=-\r\nt=0 "
    "0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n" MSRP_M PATH
    "a=candidate:1 1 TCP 1 192.0.2.9 7654 typ host tcptype so\r\n",
    TRUE, NULL, ABSENT, "msrp://192.0.2.9:7654/s1;tcp", 1, TRUE, 1, 0 },
  { "ufrag without pwd", HEAD MSRP_M PATH "a=ice-ufrag:abcd\r\n", FALSE,
    "peer.sdp: the MSRP stream has a=ice-ufrag without a=ice-pwd" },
  { "pwd without ufrag",
    HEAD MSRP_M PATH "a=ice-pwd:abcdefghijklmnopqrstuv\r\n", FALSE,
    "a=ice-pwd without a=ice-ufrag" },
  { "no a=path", HEAD MSRP_M "a=setup:active\r\n", FALSE,
    "peer.sdp: the MSRP stream (m= line 1) has no a=path" },
  { "rejected", HEAD "m=message 0 TCP/MSRP *\r\nc=IN IP4 192.0.2.9\r\n" PATH,
    FALSE, "is rejected: its port is 0" },
  { "no MSRP stream", HEAD "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.9\r\n",
    FALSE, "peer.sdp: no MSRP media stream" },
  { "websocket MSRP is not ours",
    HEAD "m=message 443 TCP/WSS/MSRP *\r\nc=IN IP4 192.0.2.9\r\n" PATH, FALSE,
    "no MSRP media stream" },
  { "bad line", HEAD "bogus\r\n", FALSE, "peer.sdp: line 5" },
  { "not SDP", "hello", FALSE, "peer.sdp: " },
  { "empty", "", FALSE, "peer.sdp: " },
  { "truncated m=", HEAD "m=message", FALSE, "peer.sdp: line 5" },
  { "two a=setup", HEAD MSRP_M PATH "a=setup:active\r\na=setup:passive\r\n",
    FALSE, "peer.sdp: " },
  { "bad path URI", HEAD MSRP_M "a=path:http://x/y\r\n", FALSE, "peer.sdp: " },
};

START_TEST (test_peer)
{
  GuardBuf buf;
  g_autoptr (GError) error = NULL;
  g_autoptr (McSdpPeer) p = NULL;
  gsize len = strlen (peer_cases[_i].text);

  guard_buf_init (&buf, peer_cases[_i].text, len);
  p = mc_sdp_peer_parse ((const char *) buf.data, len, "peer.sdp", &error);
  guard_buf_clear (&buf);
  ck_assert_msg ((p != NULL) == peer_cases[_i].ok, "%s: %s",
                 peer_cases[_i].name, error != NULL ? error->message : "");
  if (p == NULL)
    {
      ck_assert_int_eq (error->code, MC_SDP_ERROR_INVALID);
      ck_assert_msg (strstr (error->message, peer_cases[_i].error) != NULL,
                     "%s: %s", peer_cases[_i].name, error->message);
      return;
    }
  ck_assert_int_eq (p->setup, peer_cases[_i].setup);
  ck_assert_uint_eq (p->path->len, peer_cases[_i].path_len);
  ck_assert_str_eq (msrp_uri_get_text (p->path->pdata[0]),
                    peer_cases[_i].first_uri);
  ck_assert_msg (mc_sdp_peer_has_ice (p) == peer_cases[_i].ice, "%s",
                 peer_cases[_i].name);
  ck_assert_uint_eq (p->candidates->len, peer_cases[_i].n_candidates);
  ck_assert_uint_eq (p->n_candidates_skipped, peer_cases[_i].n_skipped);
  for (guint i = 0; i < p->candidates->len; i++)
    {
      const MsrpSdpCandidate *c = p->candidates->pdata[i];

      ck_assert_uint_eq (c->component, 1);
      ck_assert (c->tcptype != MSRP_SDP_TCPTYPE_NONE);
    }
}
END_TEST

/* Every prefix of a good SDP: parsed or refused, never read past its end. */
START_TEST (test_peer_prefixes)
{
  const char *text = peer_cases[6].text; /* "ice" */

  ck_assert_str_eq (peer_cases[6].name, "ice");
  gsize len = strlen (text);

  for (gsize n = 0; n <= len; n++)
    {
      GuardBuf buf;
      McSdpPeer *p;
      GError *error = NULL;

      guard_buf_init (&buf, text, n);
      p = mc_sdp_peer_parse ((const char *) buf.data, n, "cut", &error);
      ck_assert ((p == NULL) == (error != NULL));
      mc_sdp_peer_free (p);
      g_clear_error (&error);
      guard_buf_clear (&buf);
    }
}
END_TEST

/* --- the default candidate ---------------------------------------------- */

static const struct
{
  const char *name;
  const char *cands[4];
  int expect; /* index, -1: none */
} default_cases[] = {
  { "none", { NULL }, -1 },
  { "one", { "1 1 TCP 5 127.0.0.1 9 typ host tcptype active" }, 0 },
  { "highest priority",
    { "1 1 TCP 5 127.0.0.1 9 typ host tcptype active",
      "2 1 TCP 7 127.0.0.1 4000 typ host tcptype passive",
      "3 1 TCP 6 192.0.2.1 4000 typ srflx raddr 127.0.0.1 rport 4000 "
      "tcptype passive" },
    1 },
  { "equal: host first",
    { "3 1 TCP 7 192.0.2.1 4000 typ srflx raddr 127.0.0.1 rport 4000 "
      "tcptype passive",
      "2 1 TCP 7 127.0.0.1 4000 typ host tcptype passive" },
    1 },
  { "equal hosts: the first",
    { "1 1 TCP 7 127.0.0.1 9 typ host tcptype active",
      "2 1 TCP 7 127.0.0.1 4000 typ host tcptype passive" },
    0 },
};

START_TEST (test_default_candidate)
{
  g_autoptr (GPtrArray) cands = g_ptr_array_new_with_free_func (
      (GDestroyNotify) msrp_sdp_candidate_free);
  const MsrpSdpCandidate *got;

  for (guint i = 0; i < G_N_ELEMENTS (default_cases[_i].cands) &&
                    default_cases[_i].cands[i] != NULL;
       i++)
    g_ptr_array_add (cands, cand (default_cases[_i].cands[i]));
  got = mc_sdp_default_candidate (cands);
  if (default_cases[_i].expect < 0)
    ck_assert_ptr_null (got);
  else
    ck_assert_msg (got == cands->pdata[default_cases[_i].expect], "%s",
                   default_cases[_i].name);
}
END_TEST

/* --- files -------------------------------------------------------------- */

START_TEST (test_files)
{
  g_autofree char *dir = g_dir_make_tmp ("test-mc-sdp-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "x.sdp", NULL);
  g_autofree char *big = g_build_filename (dir, "big.sdp", NULL);
  g_autofree char *nodir = g_build_filename (dir, "no", "x.sdp", NULL);
  g_autofree char *text = NULL;
  g_autofree char *huge = g_strnfill (MSRP_SDP_MAX_SIZE + 1, 'a');
  g_autoptr (GError) error = NULL;
  gsize len = 1;

  ck_assert_ptr_nonnull (dir);
  /* Not there yet: FALSE without an error. */
  ck_assert (!mc_sdp_read_file (path, &text, &len, &error));
  ck_assert_ptr_null (error);
  ck_assert_ptr_null (text);
  ck_assert (mc_sdp_write_file (path, "v=0\r\n", &error));
  ck_assert (mc_sdp_read_file (path, &text, &len, &error));
  ck_assert_str_eq (text, "v=0\r\n");
  ck_assert_uint_eq (len, 5);
  g_clear_pointer (&text, g_free);
  /* Replaced whole. */
  ck_assert (mc_sdp_write_file (path, "v=0\r\ns=x\r\n", &error));
  ck_assert (mc_sdp_read_file (path, &text, &len, &error));
  ck_assert_str_eq (text, "v=0\r\ns=x\r\n");
  g_clear_pointer (&text, g_free);
  /* Too large to be an SDP. */
  ck_assert (g_file_set_contents (big, huge, -1, NULL));
  ck_assert (!mc_sdp_read_file (big, &text, &len, &error));
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (strstr (error->message, "larger than") != NULL, "%s",
                 error->message);
  g_clear_error (&error);
  /* A directory is not a file. */
  ck_assert (!mc_sdp_read_file (dir, &text, &len, &error));
  ck_assert_ptr_nonnull (error);
  g_clear_error (&error);
  /* Cannot write where there is no directory. */
  ck_assert (!mc_sdp_write_file (nodir, "v=0\r\n", &error));
  ck_assert_int_eq (error->code, MC_SDP_ERROR_IO);
  g_clear_error (&error);
  g_unlink (path);
  g_unlink (big);
  g_rmdir (dir);
}
END_TEST

/* Fingerprint "computed" by a table: hash -> value. */
static char *
fake_fingerprint (const char *hash_func, gpointer data)
{
  const char *const *table = data;

  for (guint i = 0; table[i] != NULL; i += 2)
    if (g_ascii_strcasecmp (table[i], hash_func) == 0)
      return g_strdup (table[i + 1]);
  return NULL;
}

/* RFC 6714 and RFC 8122 in our SDP and the peer's: a=msrp-cema and
 * a=fingerprint written and read back, c=/m= against a=path (section 4.4),
 * fingerprints matched by any line of a known hash. */
START_TEST (test_cema_fingerprint)
{
  McSdpLocal l = {
    .address = "192.0.2.9",
    .port = 7654,
    .tls = TRUE,
    .path = "msrps://192.0.2.9:7654/s1;tcp",
    .setup = MSRP_SDP_SETUP_ACTPASS,
    .session_id = 7,
    .cema = TRUE,
    .fingerprint_hash = "sha-256",
    .fingerprint = "AB:CD:EF",
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *text = mc_sdp_build (&l, &error);
  g_autoptr (McSdpPeer) p = NULL;
  g_autoptr (McSdpPeer) moved = NULL;
  g_autoptr (McSdpPeer) six = NULL;
  g_autofree char *rewritten = NULL;
  g_autofree char *checked = NULL;
  g_auto (GStrv) parts = NULL;
  const char *right[] = { "sha-1", "11:22", "sha-256", "ab:cd:ef", NULL };
  const char *wrong[] = { "sha-256", "AB:CD:00", NULL };
  const char *unknown[] = { "sha-512", "AB:CD:EF", NULL };
  const char *v6 = "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nt=0 0\r\n"
                   "m=message 9000 TCP/MSRP *\r\nc=IN IP6 0:0::1\r\n"
                   "a=path:msrp://[::1]:9000/x;tcp\r\n";

  ck_assert_msg (text != NULL, "%s", error ? error->message : "");
  ck_assert (strstr (text, "a=msrp-cema\r\na=fingerprint:sha-256 AB:CD:EF\r\n"
                           "a=setup:actpass\r\n") != NULL);
  p = mc_sdp_peer_parse (text, strlen (text), "ours", &error);
  ck_assert_ptr_nonnull (p);
  ck_assert (p->cema);
  ck_assert_uint_eq (p->fingerprints->len, 1);
  ck_assert (mc_sdp_peer_cm_matches_path (p));
  /* Lower-case hex in the SDP matches (RFC 8122 section 5 writes UHEX; the
   * comparison is of values); the sha-1 line is skipped, sha-256
   * matches. */
  ck_assert (mc_sdp_peer_fingerprint_matches (p, fake_fingerprint,
                                              (gpointer) right, &checked));
  ck_assert_str_eq (checked, "sha-256 ab:cd:ef");
  g_clear_pointer (&checked, g_free);
  ck_assert (!mc_sdp_peer_fingerprint_matches (p, fake_fingerprint,
                                               (gpointer) wrong, &checked));
  ck_assert_str_eq (checked, "sha-256 AB:CD:00");
  g_clear_pointer (&checked, g_free);
  ck_assert (!mc_sdp_peer_fingerprint_matches (p, fake_fingerprint,
                                               (gpointer) unknown, &checked));
  ck_assert_ptr_null (checked);
  /* A middlebox's c=/m=: no longer in a=path. */
  parts = g_strsplit (text, "m=message 7654 ", 2);
  rewritten = g_strjoinv ("m=message 40000 ", parts);
  moved = mc_sdp_peer_parse (rewritten, strlen (rewritten), "moved", NULL);
  ck_assert_ptr_nonnull (moved);
  ck_assert (!mc_sdp_peer_cm_matches_path (moved));
  /* IPv6: compared as addresses, brackets and spellings aside. */
  six = mc_sdp_peer_parse (v6, strlen (v6), "six", NULL);
  ck_assert_ptr_nonnull (six);
  ck_assert (!six->cema);
  ck_assert (mc_sdp_peer_cm_matches_path (six));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mc-sdp");
  TCase *tc = tcase_create ("sdp");
  SRunner *sr;
  int failed;

  tcase_add_loop_test (tc, test_setup_option, 0,
                       G_N_ELEMENTS (setup_option_cases));
  tcase_add_loop_test (tc, test_offerer_role, 0, G_N_ELEMENTS (offerer_cases));
  tcase_add_loop_test (tc, test_answerer_role, 0,
                       G_N_ELEMENTS (answerer_cases));
  tcase_add_test (tc, test_roles_agree);
  tcase_add_loop_test (tc, test_build, 0, G_N_ELEMENTS (build_cases));
  tcase_add_loop_test (tc, test_peer, 0, G_N_ELEMENTS (peer_cases));
  tcase_add_test (tc, test_peer_prefixes);
  tcase_add_loop_test (tc, test_default_candidate, 0,
                       G_N_ELEMENTS (default_cases));
  tcase_add_test (tc, test_files);
  tcase_add_test (tc, test_cema_fingerprint);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
