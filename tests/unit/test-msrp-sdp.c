/* test-msrp-sdp.c: Check suite for msrp/msrp-sdp.c (RFC 8866 SDP for MSRP
 * media, RFC 4975 section 8, RFC 4145, RFC 6135, RFC 6714, RFC 8122,
 * RFC 6544).
 *
 * Every parsed input sits against an unreadable guard page (guard.h), so a
 * read past the length given crashes the test.  Every SDP that parses must
 * be written back byte for byte; every modification case compares the whole
 * output text and parses it again. */
#include "msrp-sdp.h"

#include "guard.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define N_ELEMENTS(a) ((int) G_N_ELEMENTS (a))

/* A text with explicit length, so NUL bytes fit. */
#define S(lit) (lit), (sizeof (lit) - 1)

/* ---- helpers ---- */

static MsrpSdp *
parse_guarded (const char *text, size_t len, GError **error)
{
  GuardBuf buf;
  MsrpSdp *sdp;

  guard_buf_init (&buf, text, len);
  sdp = msrp_sdp_parse ((const char *) buf.data, buf.len, error);
  guard_buf_clear (&buf);
  return sdp;
}

static void
check_message_printable (const char *message)
{
  ck_assert_ptr_nonnull (message);
  ck_assert_uint_gt (strlen (message), 0);
  for (const char *p = message; *p != '\0'; p++)
    ck_assert_msg (*p >= 0x20 && *p < 0x7f,
                   "unprintable byte 0x%02X in message \"%s\"", (guchar) *p,
                   message);
}

static void
check_error (const GError *error, gint code, const char *substr)
{
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (error->domain == MSRP_SDP_ERROR, "wrong domain: %s",
                 g_quark_to_string (error->domain));
  ck_assert_msg (error->code == code, "code %d, expected %d (%s)", error->code,
                 code, error->message);
  ck_assert_msg (strstr (error->message, substr) != NULL,
                 "message \"%s\" lacks \"%s\"", error->message, substr);
  check_message_printable (error->message);
}

/* The SDP written must be @len bytes of @text exactly. */
static void
check_text (const MsrpSdp *sdp, const char *text, size_t len)
{
  gsize out_len = 0;
  g_autofree char *out = msrp_sdp_to_string (sdp, &out_len);

  ck_assert_uint_eq (strlen (out), out_len);
  ck_assert_msg (out_len == len && memcmp (out, text, len) == 0,
                 "written:\n%s\n--- expected:\n%.*s", out, (int) len, text);
}

/* Write, parse again (against a guard page), write again: same text. */
static void
check_reparse (const MsrpSdp *sdp)
{
  gsize len;
  g_autofree char *out = msrp_sdp_to_string (sdp, &len);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) again = parse_guarded (out, len, &error);

  ck_assert_msg (again != NULL, "written SDP does not parse: %s\n%s",
                 error ? error->message : "", out);
  check_text (again, out, len);
  ck_assert_uint_eq (msrp_sdp_get_n_streams (again),
                     msrp_sdp_get_n_streams (sdp));
}

static char *
join_strv (const char *const *v, const char *sep)
{
  return v == NULL ? NULL : g_strjoinv (sep, (char **) v);
}

static char *
join_fingerprints (GPtrArray *fps)
{
  GString *s;

  if (fps->len == 0)
    return NULL;
  s = g_string_new (NULL);
  for (guint i = 0; i < fps->len; i++)
    {
      const MsrpSdpFingerprint *fp = g_ptr_array_index (fps, i);

      g_string_append_printf (s, "%s%s %s", i ? "|" : "", fp->hash_func,
                              fp->fingerprint);
    }
  return g_string_free (s, FALSE);
}

static char *
join_candidates (GPtrArray *cands)
{
  GString *s;

  if (cands->len == 0)
    return NULL;
  s = g_string_new (NULL);
  for (guint i = 0; i < cands->len; i++)
    {
      g_autofree char *c =
          msrp_sdp_candidate_to_string (g_ptr_array_index (cands, i));

      g_string_append_printf (s, "%s%s", i ? "|" : "", c);
    }
  return g_string_free (s, FALSE);
}

#define CHECK_STR(what, got, want)                                            \
  ck_assert_msg (g_strcmp0 ((got), (want)) == 0,                              \
                 "%s: %s is \"%s\", expected \"%s\"", name, (what),           \
                 (got) ? (got) : "(null)", (want) ? (want) : "(null)")

/* ---- SDP texts ---- */

#define CRLF "\r\n"

/* RFC 4975 section 8.2, Figure 7. */
#define FIG7                                                                  \
  "v=0" CRLF "o=alice 2890844526 2890844527 IN IP4 alice.example.com" CRLF    \
  "s= -" CRLF "c=IN IP4 alice.example.com" CRLF "t=0 0" CRLF                  \
  "m=message 7394 TCP/MSRP *" CRLF "a=accept-types:text/plain" CRLF           \
  "a=path:msrp://alice.example.com:7394/2s93i9ek2a;tcp" CRLF

#define FIG7_LF                                                               \
  "v=0\n"                                                                     \
  "o=alice 2890844526 2890844527 IN IP4 alice.example.com\n"                  \
  "s= -\n"                                                                    \
  "c=IN IP4 alice.example.com\n"                                              \
  "t=0 0\n"                                                                   \
  "m=message 7394 TCP/MSRP *\n"                                               \
  "a=accept-types:text/plain\n"                                               \
  "a=path:msrp://alice.example.com:7394/2s93i9ek2a;tcp\n"

/* RFC 4975 section 8.7, Figures 9 and 10. */
#define FIG9                                                                  \
  "v=0" CRLF "o=usera 2890844526 2890844527 IN IP4 alice.example.com" CRLF    \
  "s= -" CRLF "c=IN IP4 alice.example.com" CRLF "t=0 0" CRLF                  \
  "m=message 7394 TCP/MSRP *" CRLF                                            \
  "a=accept-types:message/cpim text/plain text/html" CRLF                     \
  "a=path:msrp://alice.example.com:7394/2s93i93idj;tcp" CRLF
#define FIG10                                                                 \
  "v=0" CRLF "o=userb 2890844530 2890844532 IN IP4 bob.example.com" CRLF      \
  "s= -" CRLF "c=IN IP4 bob.example.com" CRLF "t=0 0" CRLF                    \
  "m=message 8493 TCP/MSRP *" CRLF                                            \
  "a=accept-types:message/cpim text/plain" CRLF                               \
  "a=path:msrp://bob.example.com:8493/si438dsaodes;tcp" CRLF

/* RFC 4975 section 11.1, steps 1 and 2. */
#define EX11_ALICE                                                            \
  "v=0" CRLF "o=alice 2890844557 2890844559 IN IP4 alicepc.example.com" CRLF  \
  "s= -" CRLF "c=IN IP4 alicepc.example.com" CRLF "t=0 0" CRLF                \
  "m=message 7777 TCP/MSRP *" CRLF "a=accept-types:text/plain" CRLF           \
  "a=path:msrp://alicepc.example.com:7777/iau39soe2843z;tcp" CRLF
#define EX11_BOB                                                              \
  "v=0" CRLF "o=bob 2890844612 2890844616 IN IP4 bob.example.com" CRLF        \
  "s= -" CRLF "c=IN IP4 bob.example.com" CRLF "t=0 0" CRLF                    \
  "m=message 8888 TCP/MSRP *" CRLF "a=accept-types:text/plain" CRLF           \
  "a=path:msrp://bob.example.com:8888/9di4eae923wzd;tcp" CRLF

/* RFC 6135 section 4.2.2: a reachable offerer offers actpass; an answerer
 * behind a NAT answers active with port 9 (and an ignored a=connection,
 * section 4.4). */
#define RFC6135_OFFER                                                         \
  "v=0" CRLF "o=alice 2890844526 2890844527 IN IP4 192.0.2.10" CRLF           \
  "s=-" CRLF "c=IN IP4 192.0.2.10" CRLF "t=0 0" CRLF                          \
  "m=message 7394 TCP/MSRP *" CRLF "a=accept-types:text/plain" CRLF           \
  "a=path:msrp://192.0.2.10:7394/2s93i9ek2a;tcp" CRLF "a=setup:actpass" CRLF
#define RFC6135_ANSWER                                                        \
  "v=0" CRLF "o=bob 2890844530 2890844532 IN IP4 10.0.0.2" CRLF "s=-" CRLF    \
  "c=IN IP4 10.0.0.2" CRLF "t=0 0" CRLF "m=message 9 TCP/MSRP *" CRLF         \
  "a=accept-types:text/plain" CRLF                                            \
  "a=path:msrp://10.0.0.2:9/si438dsaodes;tcp" CRLF "a=setup:active" CRLF      \
  "a=connection:new" CRLF

/* RFC 6714 section 5: the CEMA offer of an MSRP endpoint (section 4.2). */
#define RFC6714_OFFER                                                         \
  "v=0" CRLF "o=alice 2890844526 2890844527 IN IP4 198.51.100.7" CRLF         \
  "s=-" CRLF "c=IN IP4 198.51.100.7" CRLF "t=0 0" CRLF                        \
  "m=message 12763 TCP/MSRP *" CRLF                                           \
  "a=accept-types:message/cpim text/plain" CRLF                               \
  "a=path:msrp://198.51.100.7:12763/kjhd37s2s20w2a;tcp" CRLF                  \
  "a=msrp-cema" CRLF "a=setup:actpass" CRLF

/* Audio and two MSRP streams: chat on the session-level c=, a file transfer
 * (RFC 5547) over TLS on its own IPv6 c=. */
#define AUDIO_2MSRP_SESSION                                                   \
  "v=0" CRLF "o=- 3724394400 3724394405 IN IP4 198.51.100.1" CRLF             \
  "s=Chat and call" CRLF "c=IN IP4 198.51.100.1" CRLF "t=0 0" CRLF            \
  "a=tool:test 1.0" CRLF
#define AUDIO_2MSRP_AUDIO                                                     \
  "m=audio 49170 RTP/AVP 0 8 101" CRLF "a=rtpmap:0 PCMU/8000" CRLF            \
  "a=rtpmap:101 telephone-event/8000" CRLF "a=fmtp:101 0-15" CRLF             \
  "a=sendrecv" CRLF
#define AUDIO_2MSRP_CHAT_M "m=message 2855 TCP/MSRP *" CRLF
#define AUDIO_2MSRP_CHAT_ATTRS                                                \
  "a=accept-types:message/cpim text/plain" CRLF                               \
  "a=accept-wrapped-types:*" CRLF                                             \
  "a=path:msrp://198.51.100.1:2855/kjhd37s2s20w2a;tcp" CRLF
#define AUDIO_2MSRP_CHAT_SETUP "a=setup:actpass" CRLF
#define AUDIO_2MSRP_FILE_HEAD                                                 \
  "m=message 2856 TCP/TLS/MSRP *" CRLF "i=File transfer" CRLF
#define AUDIO_2MSRP_FILE_C "c=IN IP6 2001:db8::1" CRLF
#define AUDIO_2MSRP_FILE_ATTRS                                                \
  "a=sendonly" CRLF "a=accept-types:application/octet-stream" CRLF            \
  "a=path:msrps://[2001:db8::1]:2856/fg8jd73;tcp" CRLF                        \
  "a=file-selector:name:\"report.pdf\" type:application/pdf size:32349" CRLF  \
  "a=max-size:32349" CRLF "a=setup:active" CRLF                               \
  "a=fingerprint:SHA-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:"    \
  "19:E5:7C:AB:3A:B2:B8:4B:4A:FA:8D:D8:EA:80:DA:FC" CRLF
#define AUDIO_2MSRP                                                           \
  AUDIO_2MSRP_SESSION AUDIO_2MSRP_AUDIO AUDIO_2MSRP_CHAT_M                    \
      AUDIO_2MSRP_CHAT_ATTRS AUDIO_2MSRP_CHAT_SETUP AUDIO_2MSRP_FILE_HEAD     \
          AUDIO_2MSRP_FILE_C AUDIO_2MSRP_FILE_ATTRS
#define FP256                                                                 \
  "sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:"                  \
  "19:E5:7C:AB:3A:B2:B8:4B:4A:FA:8D:D8:EA:80:DA:FC"

/* ICE-TCP (RFC 6544 section 9's first offer, on an MSRP stream), with
 * session-level credentials and options. */
#define ICE_SESSION                                                           \
  "v=0" CRLF "o=jdoe 2890844526 2890842807 IN IP4 10.0.1.1" CRLF "s=-" CRLF   \
  "c=IN IP4 192.0.2.3" CRLF "t=0 0" CRLF                                      \
  "a=ice-pwd:asd88fgpdd777uzjYhagZg" CRLF "a=ice-ufrag:8hhY" CRLF             \
  "a=ice-options:trickle" CRLF "m=message 9 TCP/MSRP *" CRLF                  \
  "a=accept-types:text/plain" CRLF                                            \
  "a=path:msrp://10.0.1.1:8998/kd7s73h;tcp" CRLF
#define ICE_CANDS                                                             \
  "a=candidate:1 1 TCP 2128609279 10.0.1.1 9 typ host tcptype active" CRLF    \
  "a=candidate:2 1 TCP 2124414975 10.0.1.1 8998 typ host tcptype "            \
  "passive" CRLF                                                              \
  "a=candidate:3 1 TCP 2120220671 10.0.1.1 8999 typ host tcptype so" CRLF     \
  "a=candidate:4 1 TCP 1688207359 192.0.2.3 9 typ srflx raddr 10.0.1.1 "      \
  "rport 9 tcptype active" CRLF                                               \
  "a=candidate:5 1 TCP 1684013055 192.0.2.3 45664 typ srflx raddr "           \
  "10.0.1.1 rport 8998 tcptype passive generation 0" CRLF
#define ICE_EOC "a=end-of-candidates" CRLF
#define ICE (ICE_SESSION ICE_CANDS ICE_EOC)
#define ICE_CANDS_CANON                                                       \
  "1 1 TCP 2128609279 10.0.1.1 9 typ host tcptype active|"                    \
  "2 1 TCP 2124414975 10.0.1.1 8998 typ host tcptype passive|"                \
  "3 1 TCP 2120220671 10.0.1.1 8999 typ host tcptype so|"                     \
  "4 1 TCP 1688207359 192.0.2.3 9 typ srflx raddr 10.0.1.1 rport 9 "          \
  "tcptype active|"                                                           \
  "5 1 TCP 1684013055 192.0.2.3 45664 typ srflx raddr 10.0.1.1 "              \
  "rport 8998 tcptype passive generation 0"

/* Media-level ICE lines of every kind, for remove_ice. */
#define ICE_MEDIA_HEAD                                                        \
  "v=0" CRLF "o=- 1 1 IN IP4 192.0.2.3" CRLF "s=-" CRLF                       \
  "c=IN IP4 192.0.2.3" CRLF "t=0 0" CRLF "m=message 9 TCP/MSRP *" CRLF        \
  "a=path:msrp://192.0.2.3:9/x7s;tcp" CRLF
#define ICE_MEDIA_ICE                                                         \
  "a=ice-ufrag:Fk3a" CRLF "a=ice-pwd:qwertyuiopasdfghjklzxcvb" CRLF           \
  "a=ice-options:ice2 trickle" CRLF
#define ICE_MEDIA_SETUP "a=setup:actpass" CRLF
#define ICE_MEDIA_CANDS                                                       \
  "a=candidate:7 1 tcp 1518280447 192.0.2.3 9 typ host tcptype active" CRLF   \
  "a=remote-candidates:1 192.0.2.1 3478" CRLF "a=end-of-candidates" CRLF
#define ICE_MEDIA_TAIL "a=sendrecv" CRLF
#define ICE_MEDIA                                                             \
  ICE_MEDIA_HEAD ICE_MEDIA_ICE ICE_MEDIA_SETUP ICE_MEDIA_CANDS ICE_MEDIA_TAIL

/* RFC 6544 section 9's second offer verbatim: no MSRP stream, all lines
 * pass through (even "s=" with no text). */
#define RFC6544_AUDIO                                                         \
  "v=0" CRLF "o=jdoe 2890844526 2890842807 IN IP4 10.0.1.1" CRLF "s=" CRLF    \
  "c=IN IP4 192.0.2.3" CRLF "t=0 0" CRLF                                      \
  "a=ice-pwd:asd88fgpdd777uzjYhagZg" CRLF "a=ice-ufrag:8hhY" CRLF             \
  "m=audio 45664 RTP/AVP 0" CRLF "b=RS:0" CRLF "b=RR:0" CRLF                  \
  "a=rtpmap:0 PCMU/8000" CRLF                                                 \
  "a=candidate:1 1 TCP 2111832063 10.0.1.1 9 typ host tcptype active" CRLF    \
  "a=candidate:2 1 TCP 2107637759 10.0.1.1 9012 typ host tcptype "            \
  "passive" CRLF                                                              \
  "a=candidate:3 1 TCP 1671430143 192.0.2.3 9 typ srflx raddr 10.0.1.1 "      \
  "rport 9 tcptype active" CRLF                                               \
  "a=candidate:5 1 UDP 2130706431 10.0.1.1 8998 typ host" CRLF

/* Lines the module does not read, everywhere, to pass through unchanged. */
#define UNKNOWN                                                               \
  "v=0" CRLF "o=- 20518 0 IN IP4 203.0.113.1" CRLF                            \
  "s=Caf\xc3\xa9 \xe2\x98\x95  two spaces, a tab\there " CRLF                 \
  "i=A session with odd lines" CRLF                                           \
  "u=http://www.example.com/seminars/sdp.pdf" CRLF                            \
  "e=j.doe@example.com (Jane Doe)" CRLF "p=+1 617 555-6011" CRLF              \
  "c=IN IP4 203.0.113.1" CRLF "b=AS:64" CRLF "t=2873397496 2873404696" CRLF   \
  "r=7d 1h 0 25h" CRLF "z=2882844526 -1h 2898848070 0" CRLF "k=prompt" CRLF   \
  "a=X-custom: value with  two spaces   " CRLF "a=recvonly" CRLF              \
  "x=unknown type letter" CRLF "m=message 2855 TCP/MSRP *" CRLF               \
  "b=AS:10" CRLF "a=accept-types:text/plain" CRLF                             \
  "a=chatroom:nickname private-messages" CRLF                                 \
  "a=path:msrp://203.0.113.1:2855/ah3b;tcp" CRLF                              \
  "a=remote-candidates:1 192.0.2.1 3478" CRLF "a=ice-lite" CRLF               \
  "a=Setup:ACTIVE\t " CRLF "a=rtcp-fb:* nack" CRLF

/* ---------------------------------------------------------------------------
 * Parsing: typed values and byte-exact write-back
 * ------------------------------------------------------------------------- */

typedef struct
{
  guint media_index;
  MsrpSdpProto proto;
  guint port;
  const char *address;
  MsrpSdpAddrType addrtype;
  gboolean media_c;
  const char *path;   /* URI texts, space-separated; NULL: absent */
  const char *accept; /* entries joined by "|"; NULL: absent */
  const char *wrapped;
  const char *max_size; /* decimal; NULL: absent */
  MsrpSdpSetup setup;
  MsrpSdpConnection connection;
  gboolean cema;
  const char *fingerprints; /* "hash fp|..."; NULL: none */
  const char *ufrag;
  const char *pwd;
  const char *options;    /* joined by " " */
  const char *candidates; /* canonical, joined by "|"; NULL: none */
  gboolean eoc;
} StreamExp;

static const struct
{
  const char *name;
  const char *text;
  size_t len;
  guint n_media;
  gboolean ice_lite;
  guint n_streams;
  StreamExp s[2];
} parse_cases[] = {
  { "RFC 4975 Figure 7",
    S (FIG7),
    1,
    FALSE,
    1,
    { { .port = 7394,
        .address = "alice.example.com",
        .path = "msrp://alice.example.com:7394/2s93i9ek2a;tcp",
        .accept = "text/plain" } } },
  { "RFC 4975 Figure 7, LF only",
    S (FIG7_LF),
    1,
    FALSE,
    1,
    { { .port = 7394,
        .address = "alice.example.com",
        .path = "msrp://alice.example.com:7394/2s93i9ek2a;tcp",
        .accept = "text/plain" } } },
  { "RFC 4975 Figure 9",
    S (FIG9),
    1,
    FALSE,
    1,
    { { .port = 7394,
        .address = "alice.example.com",
        .path = "msrp://alice.example.com:7394/2s93i93idj;tcp",
        .accept = "message/cpim|text/plain|text/html" } } },
  { "RFC 4975 Figure 10",
    S (FIG10),
    1,
    FALSE,
    1,
    { { .port = 8493,
        .address = "bob.example.com",
        .path = "msrp://bob.example.com:8493/si438dsaodes;tcp",
        .accept = "message/cpim|text/plain" } } },
  { "RFC 4975 section 11.1, Alice",
    S (EX11_ALICE),
    1,
    FALSE,
    1,
    { { .port = 7777,
        .address = "alicepc.example.com",
        .path = "msrp://alicepc.example.com:7777/iau39soe2843z;tcp",
        .accept = "text/plain" } } },
  { "RFC 4975 section 11.1, Bob",
    S (EX11_BOB),
    1,
    FALSE,
    1,
    { { .port = 8888,
        .address = "bob.example.com",
        .path = "msrp://bob.example.com:8888/9di4eae923wzd;tcp",
        .accept = "text/plain" } } },
  { "RFC 6135 offer",
    S (RFC6135_OFFER),
    1,
    FALSE,
    1,
    { { .port = 7394,
        .address = "192.0.2.10",
        .path = "msrp://192.0.2.10:7394/2s93i9ek2a;tcp",
        .accept = "text/plain",
        .setup = MSRP_SDP_SETUP_ACTPASS } } },
  { "RFC 6135 answer",
    S (RFC6135_ANSWER),
    1,
    FALSE,
    1,
    { { .port = 9,
        .address = "10.0.0.2",
        .path = "msrp://10.0.0.2:9/si438dsaodes;tcp",
        .accept = "text/plain",
        .setup = MSRP_SDP_SETUP_ACTIVE,
        .connection = MSRP_SDP_CONNECTION_NEW } } },
  { "RFC 6714 offer",
    S (RFC6714_OFFER),
    1,
    FALSE,
    1,
    { { .port = 12763,
        .address = "198.51.100.7",
        .path = "msrp://198.51.100.7:12763/kjhd37s2s20w2a;tcp",
        .accept = "message/cpim|text/plain",
        .cema = TRUE,
        .setup = MSRP_SDP_SETUP_ACTPASS } } },
  { "audio and two MSRP streams",
    S (AUDIO_2MSRP),
    3,
    FALSE,
    2,
    { { .media_index = 1,
        .port = 2855,
        .address = "198.51.100.1",
        .path = "msrp://198.51.100.1:2855/kjhd37s2s20w2a;tcp",
        .accept = "message/cpim|text/plain",
        .wrapped = "*",
        .setup = MSRP_SDP_SETUP_ACTPASS },
      { .media_index = 2,
        .proto = MSRP_SDP_PROTO_TCP_TLS_MSRP,
        .port = 2856,
        .address = "2001:db8::1",
        .addrtype = MSRP_SDP_ADDR_IP6,
        .media_c = TRUE,
        .path = "msrps://[2001:db8::1]:2856/fg8jd73;tcp",
        .accept = "application/octet-stream",
        .max_size = "32349",
        .setup = MSRP_SDP_SETUP_ACTIVE,
        .fingerprints = FP256 } } },
  { "ICE-TCP candidates",
    S (ICE),
    1,
    FALSE,
    1,
    { { .port = 9,
        .address = "192.0.2.3",
        .path = "msrp://10.0.1.1:8998/kd7s73h;tcp",
        .accept = "text/plain",
        .ufrag = "8hhY",
        .pwd = "asd88fgpdd777uzjYhagZg",
        .options = "trickle",
        .candidates = ICE_CANDS_CANON,
        .eoc = TRUE } } },
  { "media-level ICE lines",
    S (ICE_MEDIA),
    1,
    FALSE,
    1,
    { { .port = 9,
        .address = "192.0.2.3",
        .path = "msrp://192.0.2.3:9/x7s;tcp",
        .setup = MSRP_SDP_SETUP_ACTPASS,
        .ufrag = "Fk3a",
        .pwd = "qwertyuiopasdfghjklzxcvb",
        .options = "ice2 trickle",
        .candidates = "7 1 tcp 1518280447 192.0.2.3 9 typ host tcptype "
                      "active",
        .eoc = TRUE } } },
  { "RFC 6544 audio offer: no MSRP stream",
    S (RFC6544_AUDIO),
    1,
    FALSE,
    0,
    { { 0 } } },
  { "unknown lines pass through",
    S (UNKNOWN),
    1,
    FALSE,
    1,
    { { .port = 2855,
        .address = "203.0.113.1",
        .path = "msrp://203.0.113.1:2855/ah3b;tcp",
        .accept = "text/plain",
        .setup = MSRP_SDP_SETUP_ACTIVE } } },
  { "mixed line endings, no final line ending",
    S ("v=0\r\no=- 1 1 IN IP4 192.0.2.1\ns=-\r\nc=IN IP4 192.0.2.1\n"
       "t=0 0\nm=message 2855 TCP/MSRP *\r\n"
       "a=path:msrp://192.0.2.1:2855/a1b2;tcp"),
    1,
    FALSE,
    1,
    { { .port = 2855,
        .address = "192.0.2.1",
        .path = "msrp://192.0.2.1:2855/a1b2;tcp" } } },
  { "empty lines at the end",
    S (FIG7 "\r\n\n\r\n"),
    1,
    FALSE,
    1,
    { { .port = 7394,
        .address = "alice.example.com",
        .path = "msrp://alice.example.com:7394/2s93i9ek2a;tcp",
        .accept = "text/plain" } } },
  { "a=charset frees s= and i= from UTF-8",
    S ("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=Caf\xe9\r\n"
       "i=Na\xefve\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
       "a=charset:ISO-8859-1\r\n"
       "m=message 2855 TCP/MSRP *\r\ni=Ch\xe2teau\r\n"
       "a=path:msrp://192.0.2.1:2855/a1b2;tcp\r\n"),
    1,
    FALSE,
    1,
    { { .port = 2855,
        .address = "192.0.2.1",
        .path = "msrp://192.0.2.1:2855/a1b2;tcp" } } },
  { "session-level setup, connection, fingerprint, ICE inherited",
    S ("v=0\r\no=- 1 1 IN IP6 2001:db8::7\r\ns=-\r\n"
       "c=IN IP6 2001:db8::7\r\nt=0 0\r\na=setup:passive\r\n"
       "a=connection:existing\r\n"
       "a=fingerprint:SHA-1 4a:ad:b9:b1:3f:82:18:3b:54:02:12:df:3e:5d:49:6b:"
       "19:e5:7c:ab\r\n"
       "a=ice-lite\r\na=ice-ufrag:abcd\r\n"
       "a=ice-pwd:0123456789012345678901\r\na=end-of-candidates\r\n"
       "m=message 2856 TCP/TLS/MSRP *\r\n"
       "a=path:msrps://[2001:db8::7]:2856/x;tcp\r\n"
       "m=message 2857 tcp/tls/msrp *\r\na=setup:holdconn\r\n"
       "a=connection:NEW\r\na=ice-ufrag:wxyz\r\n"
       "a=fingerprint:sha-256 00:11\r\n"
       "a=path:msrps://[2001:db8::7]:2857/y;tcp\r\n"),
    2,
    TRUE,
    2,
    { { .proto = MSRP_SDP_PROTO_TCP_TLS_MSRP,
        .port = 2856,
        .address = "2001:db8::7",
        .addrtype = MSRP_SDP_ADDR_IP6,
        .path = "msrps://[2001:db8::7]:2856/x;tcp",
        .setup = MSRP_SDP_SETUP_PASSIVE,
        .connection = MSRP_SDP_CONNECTION_EXISTING,
        .fingerprints = "sha-1 4a:ad:b9:b1:3f:82:18:3b:54:02:12:df:3e:5d:49:"
                        "6b:19:e5:7c:ab",
        .ufrag = "abcd",
        .pwd = "0123456789012345678901",
        .eoc = TRUE },
      { .media_index = 1,
        .proto = MSRP_SDP_PROTO_TCP_TLS_MSRP,
        .port = 2857,
        .address = "2001:db8::7",
        .addrtype = MSRP_SDP_ADDR_IP6,
        .path = "msrps://[2001:db8::7]:2857/y;tcp",
        .setup = MSRP_SDP_SETUP_HOLDCONN,
        .connection = MSRP_SDP_CONNECTION_NEW,
        .fingerprints = "sha-256 00:11",
        .ufrag = "wxyz",
        .pwd = "0123456789012345678901",
        .eoc = TRUE } } },
  { "rejected stream: port 0, no a=path",
    S ("v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
       "t=0 0\r\nm=message 0 TCP/MSRP *\r\n"),
    1,
    FALSE,
    1,
    { { .port = 0, .address = "192.0.2.1" } } },
  { "a relay path, max-size, wrapped types with parameters",
    S ("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
       "m=message 2855 TCP/MSRP *\r\nc=IN IP4 192.0.2.1\r\n"
       "a=accept-types:message/cpim text/plain;charset=utf-8 "
       "text/x-a;q=\"a b\\\"c\"\r\n"
       "a=accept-wrapped-types:text/* application/im-iscomposing+xml\r\n"
       "a=max-size:18446744073709551615\r\n"
       "a=path:msrps://relay.example.net:2856/r4;tcp "
       "msrp://192.0.2.1:2855/e5;tcp\r\n"),
    1,
    FALSE,
    1,
    { { .port = 2855,
        .address = "192.0.2.1",
        .media_c = TRUE,
        .path = "msrps://relay.example.net:2856/r4;tcp "
                "msrp://192.0.2.1:2855/e5;tcp",
        .accept = "message/cpim|text/plain;charset=utf-8|"
                  "text/x-a;q=\"a b\\\"c\"",
        .wrapped = "text/*|application/im-iscomposing+xml",
        .max_size = "18446744073709551615" } } },
  { "other MSRP transports are not MSRP streams here",
    S ("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
       "m=message 443 TCP/WSS/MSRP *\r\nc=IN IP4 192.0.2.1\r\n"
       "a=path:msrps://x.invalid:443/w;ws\r\n"
       "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
       "c=IN IP4 0.0.0.0\r\n"
       "m=text 9 TCP/MSRP *\r\n"),
    3,
    FALSE,
    0,
    { { 0 } } },
  { "bad session-level lines do not matter without an MSRP stream",
    S ("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
       "c=IN IP4 224.2.1.1/127\r\nt=0 0\r\na=setup:sideways\r\n"
       "a=ice-ufrag:x\r\nm=audio 49170 RTP/AVP 0\r\n"),
    1,
    FALSE,
    0,
    { { 0 } } },
  { "attribute values with trailing blanks, IPv4 hold address",
    S ("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 0.0.0.0 \r\n"
       "t=0 0\r\nm=message 2855 TCP/MSRP * \t\r\n"
       "a=path:msrp://192.0.2.1:2855/a1b2;tcp  \r\n"
       "a=setup:actpass\t\r\na=max-size:0 \r\n"),
    1,
    FALSE,
    1,
    { { .port = 2855,
        .address = "0.0.0.0",
        .path = "msrp://192.0.2.1:2855/a1b2;tcp",
        .setup = MSRP_SDP_SETUP_ACTPASS,
        .max_size = "0" } } },
  { "only v=0", S ("v=0"), 0, FALSE, 0, { { 0 } } },
};

static void
check_stream (const char *name, const MsrpSdpStream *st, const StreamExp *e)
{
  MsrpSdpAddrType type = 99;
  const char *addr = msrp_sdp_stream_get_address (st, &type);
  GPtrArray *path = msrp_sdp_stream_get_path (st);
  g_autofree char *path_text = path ? msrp_uri_list_to_text (path) : NULL;
  g_autofree char *accept =
      join_strv (msrp_sdp_stream_get_accept_types (st), "|");
  g_autofree char *wrapped =
      join_strv (msrp_sdp_stream_get_accept_wrapped_types (st), "|");
  g_autofree char *fps =
      join_fingerprints (msrp_sdp_stream_get_fingerprints (st));
  g_autofree char *options =
      join_strv (msrp_sdp_stream_get_ice_options (st), " ");
  g_autofree char *cands =
      join_candidates (msrp_sdp_stream_get_candidates (st));
  g_autofree char *max_size = NULL;
  guint64 ms = 0;

  if (msrp_sdp_stream_get_max_size (st, &ms))
    max_size = g_strdup_printf ("%" G_GUINT64_FORMAT, ms);

  ck_assert_uint_eq (msrp_sdp_stream_get_media_index (st), e->media_index);
  ck_assert_int_eq (msrp_sdp_stream_get_proto (st), e->proto);
  ck_assert_uint_eq (msrp_sdp_stream_get_port (st), e->port);
  CHECK_STR ("address", addr, e->address);
  ck_assert_int_eq (type, e->addrtype);
  ck_assert_int_eq (msrp_sdp_stream_has_media_address (st), e->media_c);
  CHECK_STR ("path", path_text, e->path);
  CHECK_STR ("accept-types", accept, e->accept);
  CHECK_STR ("accept-wrapped-types", wrapped, e->wrapped);
  CHECK_STR ("max-size", max_size, e->max_size);
  ck_assert_int_eq (msrp_sdp_stream_get_setup (st), e->setup);
  ck_assert_int_eq (msrp_sdp_stream_get_connection (st), e->connection);
  ck_assert_int_eq (msrp_sdp_stream_get_cema (st), e->cema);
  CHECK_STR ("fingerprints", fps, e->fingerprints);
  CHECK_STR ("ice-ufrag", msrp_sdp_stream_get_ice_ufrag (st), e->ufrag);
  CHECK_STR ("ice-pwd", msrp_sdp_stream_get_ice_pwd (st), e->pwd);
  CHECK_STR ("ice-options", options, e->options);
  CHECK_STR ("candidates", cands, e->candidates);
  ck_assert_int_eq (msrp_sdp_stream_get_end_of_candidates (st), e->eoc);
}

START_TEST (test_parse)
{
  const char *name = parse_cases[_i].name;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp =
      parse_guarded (parse_cases[_i].text, parse_cases[_i].len, &error);
  guint n_msrp = 0;

  ck_assert_msg (sdp != NULL, "%s: %s", name, error ? error->message : "");
  ck_assert_ptr_null (error);
  check_text (sdp, parse_cases[_i].text, parse_cases[_i].len);
  check_reparse (sdp);
  ck_assert_uint_eq (msrp_sdp_get_n_media (sdp), parse_cases[_i].n_media);
  ck_assert_uint_eq (msrp_sdp_get_n_streams (sdp), parse_cases[_i].n_streams);
  ck_assert_int_eq (msrp_sdp_get_ice_lite (sdp), parse_cases[_i].ice_lite);
  for (guint i = 0; i < msrp_sdp_get_n_media (sdp); i++)
    {
      MsrpSdpStream *st = msrp_sdp_get_media_stream (sdp, i);

      if (st == NULL)
        continue;
      ck_assert_ptr_eq (st, msrp_sdp_get_stream (sdp, n_msrp));
      ck_assert_uint_eq (msrp_sdp_stream_get_media_index (st), i);
      n_msrp++;
    }
  ck_assert_uint_eq (n_msrp, parse_cases[_i].n_streams);
  for (guint i = 0; i < parse_cases[_i].n_streams; i++)
    check_stream (name, msrp_sdp_get_stream (sdp, i), &parse_cases[_i].s[i]);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Parsing: every error
 * ------------------------------------------------------------------------- */

#define HEAD                                                                  \
  "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"                                \
  "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
#define MSRP_M "m=message 2855 TCP/MSRP *\r\n"
#define PATH "a=path:msrp://192.0.2.1:2855/a1b2;tcp\r\n"
/* HEAD is lines 1-5, MSRP_M line 6. */

static const struct
{
  const char *name;
  const char *text;
  size_t len;
  gint code;
  const char *msg;
} error_cases[] = {
  { "empty", S (""), MSRP_SDP_ERROR_MISSING, "the SDP is empty" },
  { "only line endings", S ("\r\n\r\n"), MSRP_SDP_ERROR_MISSING,
    "the SDP is empty" },
  { "missing v=", S ("o=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"),
    MSRP_SDP_ERROR_MISSING, "line 1: the SDP must start with \"v=0\"" },
  { "m= first", S (MSRP_M PATH), MSRP_SDP_ERROR_MISSING,
    "line 1: the SDP must start with \"v=0\"" },
  { "empty line before v=", S ("\r\nv=0\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 1: empty line (only the end of the SDP may have empty lines)" },
  { "v=1", S ("v=1\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 1: \"v=1\" is not \"v=0\"" },
  { "v=00", S ("v=00\r\n"), MSRP_SDP_ERROR_SYNTAX, "line 1: \"v=00\"" },
  { "second v=", S (HEAD "v=0\r\n"), MSRP_SDP_ERROR_DUPLICATE,
    "line 6: a second v= line" },
  { "empty line in the middle", S (HEAD "\r\n" MSRP_M PATH),
    MSRP_SDP_ERROR_SYNTAX, "line 6: empty line" },
  { "not type=value", S (HEAD "hello\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 6: not a <type>=<value> line: \"hello\"" },
  { "space before =", S (HEAD "a =foo\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 6: not a <type>=<value> line" },
  { "digit type", S (HEAD "1=foo\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 6: not a <type>=<value> line" },
  { "a= without a name", S (HEAD "a=\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 6: attribute name \"\" is not a token" },
  { "a= name with a space", S (HEAD "a=path :x\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 6: attribute name \"path \" is not a token" },
  { "NUL byte", S (HEAD "a=tool:x\0y\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 6: NUL byte at column 9" },
  { "NUL byte in an audio section", S (HEAD "m=audio 9 RTP/AVP 0\r\n\0"),
    MSRP_SDP_ERROR_SYNTAX, "line 7: NUL byte at column 1" },
  { "lone CR", S (HEAD "a=tool:x\ry\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 6: CR not followed by LF at column 9" },
  { "CR at the very end", S (HEAD "a=tool:x\r"), MSRP_SDP_ERROR_SYNTAX,
    "line 6: CR not followed by LF" },
  { "non-UTF-8 in s= without a=charset", S ("v=0\r\ns=Caf\xe9\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "line 2: not valid UTF-8 at column 6" },
  { "non-UTF-8 attribute value even with a=charset",
    S ("v=0\r\na=charset:ISO-8859-1\r\na=tool:Caf\xe9\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "line 3: not valid UTF-8 at column 11" },
  { "overlong UTF-8 in an audio section",
    S (HEAD "m=audio 9 RTP/AVP 0\r\na=x:\xc0\xaf\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 7: not valid UTF-8 at column 5" },
  { "UTF-8 surrogate", S (HEAD "i=\xed\xa0\x80\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 6: not valid UTF-8" },
  /* m= lines, MSRP or not */
  { "m= with three fields", S (HEAD "m=audio 49170 RTP/AVP\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 6: m= line needs <media> <port> <proto> <fmt>, but has 3 fields" },
  { "m= empty", S (HEAD "m=\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 6: m= line needs <media> <port> <proto> <fmt>" },
  { "m= two spaces", S (HEAD "m=message  2855 TCP/MSRP *\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 6: m= line needs <media> <port> <proto> "
    "<fmt>: empty field at offset 8" },
  { "m= port not a number", S (HEAD "m=audio x RTP/AVP 0\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 6: m= line needs <media> <port> <proto> "
    "<fmt>: port \"x\" is not a number 0..65535" },
  { "m= port too large", S (HEAD "m=message 65536 TCP/MSRP *\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "port \"65536\" is not a number 0..65535" },
  { "m= empty port count", S (HEAD "m=audio 9/ RTP/AVP 0\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "port \"9/\" is not a number" },
  { "m= bad proto", S (HEAD "m=audio 9 RTP//AVP 0\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "proto \"RTP//AVP\" is not token" },
  { "m= bad media", S (HEAD "m=au(dio 9 RTP/AVP 0\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "media \"au(dio\" is not a token" },
  { "m= bad format", S (HEAD "m=audio 9 RTP/AVP 0 a/b\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "format \"a/b\" is not a token" },
  { "MSRP m= with a port count", S (HEAD "m=message 2855/2 TCP/MSRP *\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 6: m= line of an MSRP stream has a port count" },
  { "MSRP m= with a format", S (HEAD "m=message 2855 TCP/MSRP * text\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 6: m= line of an MSRP stream must have the "
    "single format \"*\"" },
  /* c= */
  { "no c= anywhere", S ("v=0\r\ns=-\r\nt=0 0\r\n" MSRP_M PATH),
    MSRP_SDP_ERROR_MISSING,
    "line 4: the MSRP stream has no c= line and the "
    "session level has none" },
  { "c= bad IPv4", S (HEAD MSRP_M "c=IN IP4 999.1.1.1\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 7: c= address: \"999.1.1.1\" is not an IPv4 address" },
  { "c= short IPv4", S (HEAD MSRP_M "c=IN IP4 1.2.3\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "\"1.2.3\" is not an IPv4 address" },
  { "c= IPv4 leading zero", S (HEAD MSRP_M "c=IN IP4 192.0.2.01\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "\"192.0.2.01\" is not an IPv4 address" },
  { "c= IPv6 under IP4", S (HEAD MSRP_M "c=IN IP4 2001:db8::1\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "\"2001:db8::1\" is not an IPv4 address or a "
    "name, but the line says IP4" },
  { "c= IPv4 under IP6", S (HEAD MSRP_M "c=IN IP6 192.0.2.1\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "\"192.0.2.1\" is an IPv4 address, but the line says IP6" },
  { "c= bad IPv6", S (HEAD MSRP_M "c=IN IP6 2001:db8:::1\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "\"2001:db8:::1\" is not an IPv6 address" },
  { "c= IPv6 zone", S (HEAD MSRP_M "c=IN IP6 fe80::1%eth0\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "is not an IPv6 address" },
  { "c= multicast with TTL", S (HEAD MSRP_M "c=IN IP4 224.2.1.1/127\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 7: c= address \"224.2.1.1/127\" is a "
    "multicast address (with /ttl or /count); MSRP needs a unicast one" },
  { "c= multicast IPv4", S (HEAD MSRP_M "c=IN IP4 239.1.1.1\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "\"239.1.1.1\" is not a unicast IPv4 address" },
  { "c= multicast IPv6", S (HEAD MSRP_M "c=IN IP6 ff02::1\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "\"ff02::1\" is a multicast address" },
  { "c= bad name", S (HEAD MSRP_M "c=IN IP4 a_b.example\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "\"a_b.example\" is not an IP address or a name "
    "(bad byte 0x5F at offset 1)" },
  { "c= short name", S (HEAD MSRP_M "c=IN IP4 a.b\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "\"a.b\" is not a valid name" },
  { "c= empty label", S (HEAD MSRP_M "c=IN IP4 a..example\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "\"a..example\" is not a valid name" },
  { "c= two fields", S (HEAD MSRP_M "c=IN IP4\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 7: c= line needs <nettype> <addrtype> <connection-address>" },
  { "c= four fields", S (HEAD MSRP_M "c=IN IP4 192.0.2.1 x\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "line 7: c= line needs <nettype>" },
  { "c= nettype", S (HEAD MSRP_M "c=TN RFC2543 +1-617-555-6011\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "line 7: c= network type \"TN\" is not IN" },
  { "c= addrtype", S (HEAD MSRP_M "c=IN IP7 192.0.2.1\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 7: c= address type \"IP7\" is not IP4 or "
    "IP6" },
  { "c= twice in a stream",
    S (HEAD MSRP_M "c=IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.2\r\n"),
    MSRP_SDP_ERROR_DUPLICATE,
    "line 8: a second c= line in this media "
    "section (the first is on line 7)" },
  { "bad session-level c= with an MSRP stream",
    S ("v=0\r\nc=IN IP4 224.2.1.1/127\r\nt=0 0\r\n" MSRP_M
       "c=IN IP4 192.0.2.1\r\n" PATH),
    MSRP_SDP_ERROR_SYNTAX, "line 2: c= address \"224.2.1.1/127\"" },
  { "two session-level c= with an MSRP stream",
    S ("v=0\r\nc=IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.1\r\n" MSRP_M PATH),
    MSRP_SDP_ERROR_DUPLICATE, "line 3: a second c= line at session level" },
  /* a=path */
  { "a=path with a bad URI",
    S (HEAD MSRP_M "a=path:msrp://192.0.2.1:2855/a1b2\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "line 7: a=path: " },
  { "a=path second URI bad",
    S (HEAD MSRP_M "a=path:msrp://r.example.com:2855/a;tcp http://x\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "line 7: a=path: URI 2 of the list: " },
  { "a=path two spaces",
    S (HEAD MSRP_M "a=path:msrp://a.example.com:1/a;tcp  "
                   "msrp://b.example.com:1/b;tcp\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "line 7: a=path: " },
  { "a=path empty", S (HEAD MSRP_M "a=path:\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 7: a=path needs a value" },
  { "a=path without colon", S (HEAD MSRP_M "a=path\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "line 7: a=path needs a value" },
  { "a=path twice", S (HEAD MSRP_M PATH PATH), MSRP_SDP_ERROR_DUPLICATE,
    "line 8: a second a=path in this media section (the first is on line "
    "7)" },
  /* a=setup, a=connection */
  { "a=setup bad value", S (HEAD MSRP_M PATH "a=setup:sideways\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 8: a=setup: \"sideways\" is not active, "
    "passive, actpass or holdconn" },
  { "a=setup with a leading space", S (HEAD MSRP_M PATH "a=setup: active\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "line 8: a=setup: \" active\" is not" },
  { "a=setup empty", S (HEAD MSRP_M PATH "a=setup:\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "line 8: a=setup needs a value" },
  { "a=setup twice",
    S (HEAD MSRP_M PATH "a=setup:active\r\na=SETUP:passive\r\n"),
    MSRP_SDP_ERROR_DUPLICATE,
    "line 9: a second a=setup in this media "
    "section (the first is on line 8)" },
  { "session-level a=setup bad with an MSRP stream",
    S (HEAD "a=setup:maybe\r\n" MSRP_M PATH), MSRP_SDP_ERROR_SYNTAX,
    "line 6: a=setup: \"maybe\" is not" },
  { "a=connection bad", S (HEAD MSRP_M PATH "a=connection:old\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 8: a=connection: \"old\" is not new or "
    "existing" },
  /* a=msrp-cema, a=max-size, accept types */
  { "a=msrp-cema with a value", S (HEAD MSRP_M PATH "a=msrp-cema:yes\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "line 8: a=msrp-cema takes no value" },
  { "a=msrp-cema twice", S (HEAD MSRP_M "a=msrp-cema\r\na=msrp-cema\r\n"),
    MSRP_SDP_ERROR_DUPLICATE, "line 8: a second a=msrp-cema" },
  { "a=max-size not a number", S (HEAD MSRP_M "a=max-size:10k\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 7: a=max-size: \"10k\" is not a number of "
    "octets" },
  { "a=max-size too large",
    S (HEAD MSRP_M "a=max-size:18446744073709551616\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "is larger than 18446744073709551615" },
  { "a=accept-types no subtype", S (HEAD MSRP_M "a=accept-types:text\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 7: a=accept-types: format entry 1, "
    "\"text\", is not" },
  { "a=accept-types empty subtype",
    S (HEAD MSRP_M "a=accept-types:text/plain text/\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "format entry 2, \"text/\", is not" },
  { "a=accept-types two spaces",
    S (HEAD MSRP_M "a=accept-types:text/plain  text/html\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "format entry 2, \"\", is not" },
  { "a=accept-types bad parameter",
    S (HEAD MSRP_M "a=accept-types:text/plain;charset\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "format entry 1, \"text/plain;charset\"" },
  { "a=accept-types unterminated quote",
    S (HEAD MSRP_M "a=accept-types:text/plain;a=\"b\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "format entry 1" },
  { "a=accept-wrapped-types star with parameters",
    S (HEAD MSRP_M "a=accept-wrapped-types:*;a=b\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 7: a=accept-wrapped-types: format entry 1" },
  /* a=fingerprint */
  { "a=fingerprint without hash", S (HEAD MSRP_M "a=fingerprint:4A:AD\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 7: a=fingerprint: needs <hash-func> <fingerprint>" },
  { "a=fingerprint odd digits", S (HEAD MSRP_M "a=fingerprint:sha-1 4A:A\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "fingerprint \"4A:A\" is not hex byte pairs" },
  { "a=fingerprint not hex", S (HEAD MSRP_M "a=fingerprint:sha-1 4G\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "fingerprint \"4G\" is not hex" },
  { "a=fingerprint bad hash", S (HEAD MSRP_M "a=fingerprint:sh(a 4A\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "hash function \"sh(a\" is not a token" },
  /* ICE */
  { "a=ice-ufrag too short", S (HEAD MSRP_M "a=ice-ufrag:abc\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 7: a=ice-ufrag: \"abc\" is not 4 to 256 "
    "ice-chars" },
  { "a=ice-ufrag bad char", S (HEAD MSRP_M "a=ice-ufrag:ab-cd\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "\"ab-cd\" is not 4 to 256 ice-chars" },
  { "a=ice-pwd too short",
    S (HEAD MSRP_M "a=ice-pwd:asd88fgpdd777uzjYhag\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 7: a=ice-pwd: \"asd88fgpdd777uzjYhag\" is "
    "not 22 to 256 ice-chars" },
  { "a=ice-ufrag twice at session level",
    S (HEAD "a=ice-ufrag:abcd\r\na=ice-ufrag:efgh\r\n" MSRP_M PATH),
    MSRP_SDP_ERROR_DUPLICATE,
    "line 7: a second a=ice-ufrag at session "
    "level (the first is on line 6)" },
  { "a=ice-options bad tag", S (HEAD MSRP_M "a=ice-options:ice2,trickle\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 7: a=ice-options: option tag "
    "\"ice2,trickle\" is not ice-chars" },
  { "a=ice-lite with a value", S (HEAD "a=ice-lite:yes\r\n" MSRP_M PATH),
    MSRP_SDP_ERROR_SYNTAX, "line 6: a=ice-lite takes no value" },
  { "a=end-of-candidates with a value",
    S (HEAD MSRP_M "a=end-of-candidates:1\r\n"), MSRP_SDP_ERROR_SYNTAX,
    "line 7: a=end-of-candidates takes no value" },
  { "a=candidate too short",
    S (HEAD MSRP_M "a=candidate:1 1 TCP 2128609279 10.0.1.1 9 typ\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 7: a=candidate: needs <foundation> "
    "<component-id>" },
  { "a=candidate bad address",
    S (HEAD MSRP_M "a=candidate:1 1 TCP 1 10.0.1.256 9 typ host\r\n"),
    MSRP_SDP_ERROR_SYNTAX,
    "line 7: a=candidate: connection-address: "
    "\"10.0.1.256\" is not an IPv4 address" },
  { "a=candidate bad tcptype",
    S (HEAD MSRP_M "a=candidate:1 1 TCP 1 10.0.1.1 9 typ host tcptype "
                   "both\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "tcptype \"both\" is not active, passive or so" },
  { "a=candidate missing extension value",
    S (HEAD MSRP_M "a=candidate:1 1 TCP 1 10.0.1.1 9 typ host "
                   "generation\r\n"),
    MSRP_SDP_ERROR_SYNTAX, "extension \"generation\" has no value" },
};

START_TEST (test_error)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp =
      parse_guarded (error_cases[_i].text, error_cases[_i].len, &error);

  ck_assert_msg (sdp == NULL, "%s: accepted", error_cases[_i].name);
  check_error (error, error_cases[_i].code, error_cases[_i].msg);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Candidates
 * ------------------------------------------------------------------------- */

static const struct
{
  const char *value;
  const char *canonical; /* NULL: an error containing @msg */
  MsrpSdpTcpType tcptype;
  gint rport;
  guint n_ext;
  const char *msg;
} cand_cases[] = {
  { "1 1 TCP 2128609279 10.0.1.1 9 typ host tcptype active",
    "1 1 TCP 2128609279 10.0.1.1 9 typ host tcptype active",
    MSRP_SDP_TCPTYPE_ACTIVE, -1, 0, NULL },
  { "a+/B 256 tcp 0 2001:db8::1 0 TYP relay raddr 192.0.2.1 rport 65535 "
    "tcptype SO",
    "a+/B 256 tcp 0 2001:db8::1 0 typ relay raddr 192.0.2.1 rport 65535 "
    "tcptype so",
    MSRP_SDP_TCPTYPE_SO, 65535, 0, NULL },
  /* tcptype before raddr, extensions kept in order */
  { "2 1 TCP 4294967295 host.example.com 8998 typ srflx tcptype passive "
    "generation 0 raddr 10.0.1.1 network-id 3 rport 8998",
    "2 1 TCP 4294967295 host.example.com 8998 typ srflx raddr 10.0.1.1 "
    "rport 8998 tcptype passive generation 0 network-id 3",
    MSRP_SDP_TCPTYPE_PASSIVE, 8998, 2, NULL },
  { "3 1 UDP 2130706431 1f4712db-ea17-4bcf-a596-105139dfd8bf.local 54400 "
    "typ host",
    "3 1 UDP 2130706431 1f4712db-ea17-4bcf-a596-105139dfd8bf.local 54400 "
    "typ host",
    MSRP_SDP_TCPTYPE_NONE, -1, 0, NULL },
  { "", NULL, 0, 0, 0, "candidate: empty field at offset 0" },
  { "1 1 TCP 1 10.0.1.1 9 typ  host", NULL, 0, 0, 0,
    "candidate: empty field at offset 25" },
  { "1 1 TCP 1 10.0.1.1 9 typ host ", NULL, 0, 0, 0, "empty field" },
  { "123456789012345678901234567890123 1 TCP 1 10.0.1.1 9 typ host", NULL, 0,
    0, 0,
    "candidate: foundation \"123456789012345678901234567890123\" "
    "is not 1 to 32 ice-chars" },
  { "a-b 1 TCP 1 10.0.1.1 9 typ host", NULL, 0, 0, 0,
    "foundation \"a-b\" is not" },
  { "1 0 TCP 1 10.0.1.1 9 typ host", NULL, 0, 0, 0,
    "component-id \"0\" is not a number 1..256" },
  { "1 257 TCP 1 10.0.1.1 9 typ host", NULL, 0, 0, 0, "component-id \"257\"" },
  { "1 1 T(P 1 10.0.1.1 9 typ host", NULL, 0, 0, 0,
    "transport \"T(P\" is not a token" },
  { "1 1 TCP 4294967296 10.0.1.1 9 typ host", NULL, 0, 0, 0,
    "priority \"4294967296\" is not a number 0..4294967295" },
  { "1 1 TCP 1 10.0.1.1 65536 typ host", NULL, 0, 0, 0,
    "port \"65536\" is not a number 0..65535" },
  { "1 1 TCP 1 10.0.1.1 9 type host", NULL, 0, 0, 0,
    "expected \"typ\" after the port, found \"type\"" },
  { "1 1 TCP 1 10.0.1.1 9 typ ho/st", NULL, 0, 0, 0,
    "cand-type \"ho/st\" is not a token" },
  { "1 1 TCP 1 10.0.1.1 9 typ host raddr x rport 1", NULL, 0, 0, 0,
    "candidate: raddr: \"x\" is not a valid name" },
  { "1 1 TCP 1 10.0.1.1 9 typ host rport 1 rport 2", NULL, 0, 0, 0,
    "\"rport\" appears twice" },
  { "1 1 TCP 1 10.0.1.1 9 typ host rport -1", NULL, 0, 0, 0,
    "rport \"-1\" is not a number" },
  { "1 1 TCP 1 10.0.1.1 9 typ host tcptype active tcptype so", NULL, 0, 0, 0,
    "\"tcptype\" appears twice" },
  { "1 1 TCP 1 10.0.1.1 9 typ host ex(t 1", NULL, 0, 0, 0,
    "extension name \"ex(t\" is not a token" },
  { "1 1 TCP 1 10.0.1.1 9 typ host ext \xc3\xa9", NULL, 0, 0, 0,
    "extension value \"\\xC3\\xA9\" is not visible ASCII" },
};

START_TEST (test_candidate)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdpCandidate) c = NULL;
  GuardBuf buf;

  guard_buf_init (&buf, cand_cases[_i].value, strlen (cand_cases[_i].value));
  c = msrp_sdp_candidate_parse ((const char *) buf.data, (gssize) buf.len,
                                &error);
  guard_buf_clear (&buf);
  if (cand_cases[_i].canonical == NULL)
    {
      ck_assert_msg (c == NULL, "\"%s\" accepted", cand_cases[_i].value);
      check_error (error, MSRP_SDP_ERROR_SYNTAX, cand_cases[_i].msg);
      ck_assert (g_str_has_prefix (error->message, "candidate: "));
      return;
    }
  ck_assert_msg (c != NULL, "\"%s\": %s", cand_cases[_i].value,
                 error ? error->message : "");
  {
    g_autofree char *text = msrp_sdp_candidate_to_string (c);
    g_autoptr (MsrpSdpCandidate) copy = msrp_sdp_candidate_copy (c);
    g_autofree char *copy_text = msrp_sdp_candidate_to_string (copy);
    g_autoptr (MsrpSdpCandidate) again =
        msrp_sdp_candidate_parse (text, -1, NULL);
    g_autofree char *again_text = NULL;

    ck_assert_str_eq (text, cand_cases[_i].canonical);
    ck_assert_str_eq (copy_text, text);
    ck_assert_ptr_nonnull (again);
    again_text = msrp_sdp_candidate_to_string (again);
    ck_assert_str_eq (again_text, text);
  }
  ck_assert_int_eq (c->tcptype, cand_cases[_i].tcptype);
  ck_assert_int_eq (c->rport, cand_cases[_i].rport);
  ck_assert_uint_eq (c->ext_names ? g_strv_length (c->ext_names) : 0,
                     cand_cases[_i].n_ext);
  ck_assert_uint_eq (c->ext_values ? g_strv_length (c->ext_values) : 0,
                     cand_cases[_i].n_ext);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Modifications: the whole output text
 * ------------------------------------------------------------------------- */

typedef enum
{
  OP_SET_PORT,
  OP_SET_ADDRESS,
  OP_SET_PATH,
  OP_PREPEND_PATH,
  OP_SET_SETUP,
  OP_CLEAR_CANDIDATES,
  OP_REMOVE_ICE,
  OP_ADD_CANDIDATE,
  OP_SET_ICE_CREDENTIALS, /* arg "ufrag pwd" */
  OP_SET_EOC,
} Op;

#define FIG7_NO_EOL                                                           \
  "v=0" CRLF "o=alice 2890844526 2890844527 IN IP4 alice.example.com" CRLF    \
  "s= -" CRLF "c=IN IP4 alice.example.com" CRLF "t=0 0" CRLF                  \
  "m=message 7394 TCP/MSRP *" CRLF "a=accept-types:text/plain" CRLF           \
  "a=path:msrp://alice.example.com:7394/2s93i9ek2a;tcp"
#define FIG7_PATH "a=path:msrp://alice.example.com:7394/2s93i9ek2a;tcp" CRLF
#define FIG7_UPTO_M                                                           \
  "v=0" CRLF "o=alice 2890844526 2890844527 IN IP4 alice.example.com" CRLF    \
  "s= -" CRLF "c=IN IP4 alice.example.com" CRLF "t=0 0" CRLF                  \
  "m=message 7394 TCP/MSRP *" CRLF
#define RELAY "msrp://gw.example.net:2855/r7Tq;tcp"
#define INFO_NO_C                                                             \
  "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"          \
  "t=0 0\r\nm=message 2855 TCP/MSRP *\r\ni=chat\r\n"                          \
  "a=path:msrp://192.0.2.1:2855/a1b2;tcp\r\n"
#define EOC_ONLY                                                              \
  "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"          \
  "t=0 0\r\nm=message 9 TCP/MSRP *\r\n"                                       \
  "a=path:msrp://192.0.2.1:9/a1b2;tcp\r\na=end-of-candidates\r\n"             \
  "a=sendrecv\r\n"
#define NO_PATH                                                               \
  "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"          \
  "t=0 0\r\nm=message 0 TCP/MSRP *\r\n"
#define NEW_CAND                                                              \
  "9 1 TCP 1694498815 203.0.113.9 2855 typ relay raddr "                      \
  "0.0.0.0 rport 0 tcptype passive"

static const struct
{
  const char *name;
  const char *text;
  size_t len;
  guint stream;
  Op op;
  const char *arg;
  guint num;
  const char *expected; /* NULL: the operation fails */
  gint code;
  const char *msg;
} mod_cases[] = {
  { "set port", S (FIG7), 0, OP_SET_PORT, NULL, 9,
    "v=0" CRLF "o=alice 2890844526 2890844527 IN IP4 alice.example.com" CRLF
    "s= -" CRLF "c=IN IP4 alice.example.com" CRLF "t=0 0" CRLF
    "m=message 9 TCP/MSRP *" CRLF "a=accept-types:text/plain" CRLF FIG7_PATH,
    0, NULL },
  { "set port keeps trailing blanks",
    S (HEAD "m=message 00012 tcp/msrp *  \r\n" PATH), 0, OP_SET_PORT, NULL,
    65535, HEAD "m=message 65535 tcp/msrp *  \r\n" PATH, 0, NULL },
  { "set address: a media-level c= after m=, session c= kept", S (FIG7), 0,
    OP_SET_ADDRESS, "203.0.113.5", 0,
    FIG7_UPTO_M "c=IN IP4 203.0.113.5" CRLF
                "a=accept-types:text/plain" CRLF FIG7_PATH,
    0, NULL },
  { "set address: after i=", S (INFO_NO_C), 0, OP_SET_ADDRESS, "2001:db8::5",
    0,
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
    "t=0 0\r\nm=message 2855 TCP/MSRP *\r\ni=chat\r\n"
    "c=IN IP6 2001:db8::5\r\n"
    "a=path:msrp://192.0.2.1:2855/a1b2;tcp\r\n",
    0, NULL },
  { "set address: second stream replaces its own c= in place", S (AUDIO_2MSRP),
    1, OP_SET_ADDRESS, "gw.example.net", 0,
    AUDIO_2MSRP_SESSION AUDIO_2MSRP_AUDIO AUDIO_2MSRP_CHAT_M
        AUDIO_2MSRP_CHAT_ATTRS AUDIO_2MSRP_CHAT_SETUP AUDIO_2MSRP_FILE_HEAD
    "c=IN IP4 gw.example.net" CRLF AUDIO_2MSRP_FILE_ATTRS,
    0, NULL },
  { "set address: first stream gets its own c=, audio untouched",
    S (AUDIO_2MSRP), 0, OP_SET_ADDRESS, "203.0.113.5", 0,
    AUDIO_2MSRP_SESSION AUDIO_2MSRP_AUDIO AUDIO_2MSRP_CHAT_M
    "c=IN IP4 203.0.113.5" CRLF AUDIO_2MSRP_CHAT_ATTRS AUDIO_2MSRP_CHAT_SETUP
        AUDIO_2MSRP_FILE_HEAD AUDIO_2MSRP_FILE_C AUDIO_2MSRP_FILE_ATTRS,
    0, NULL },
  { "prepend a relay URI", S (FIG7), 0, OP_PREPEND_PATH, RELAY, 0,
    FIG7_UPTO_M "a=accept-types:text/plain" CRLF "a=path:" RELAY
                " msrp://alice.example.com:7394/2s93i9ek2a;tcp" CRLF,
    0, NULL },
  { "replace the path", S (AUDIO_2MSRP), 0, OP_SET_PATH,
    RELAY " msrp://198.51.100.1:2855/kjhd37s2s20w2a;tcp", 0,
    AUDIO_2MSRP_SESSION AUDIO_2MSRP_AUDIO AUDIO_2MSRP_CHAT_M
    "a=accept-types:message/cpim text/plain" CRLF
    "a=accept-wrapped-types:*" CRLF "a=path:" RELAY
    " msrp://198.51.100.1:2855/kjhd37s2s20w2a;tcp" CRLF AUDIO_2MSRP_CHAT_SETUP
        AUDIO_2MSRP_FILE_HEAD AUDIO_2MSRP_FILE_C AUDIO_2MSRP_FILE_ATTRS,
    0, NULL },
  { "set path where there was none", S (NO_PATH), 0, OP_SET_PATH,
    "MSRP://GW.example.net:02855/x;TCP", 0,
    NO_PATH "a=path:MSRP://GW.example.net:02855/x;TCP\r\n", 0, NULL },
  { "set setup where there was none", S (FIG7), 0, OP_SET_SETUP, NULL,
    MSRP_SDP_SETUP_PASSIVE, FIG7 "a=setup:passive" CRLF, 0, NULL },
  { "set setup in place", S (AUDIO_2MSRP), 0, OP_SET_SETUP, NULL,
    MSRP_SDP_SETUP_ACTIVE,
    AUDIO_2MSRP_SESSION AUDIO_2MSRP_AUDIO AUDIO_2MSRP_CHAT_M
        AUDIO_2MSRP_CHAT_ATTRS "a=setup:active" CRLF AUDIO_2MSRP_FILE_HEAD
            AUDIO_2MSRP_FILE_C AUDIO_2MSRP_FILE_ATTRS,
    0, NULL },
  { "set setup absent removes the line", S (AUDIO_2MSRP), 0, OP_SET_SETUP,
    NULL, MSRP_SDP_SETUP_ABSENT,
    AUDIO_2MSRP_SESSION AUDIO_2MSRP_AUDIO AUDIO_2MSRP_CHAT_M
        AUDIO_2MSRP_CHAT_ATTRS AUDIO_2MSRP_FILE_HEAD AUDIO_2MSRP_FILE_C
            AUDIO_2MSRP_FILE_ATTRS,
    0, NULL },
  { "set setup before the candidates", S (ICE), 0, OP_SET_SETUP, NULL,
    MSRP_SDP_SETUP_ACTPASS,
    ICE_SESSION "a=setup:actpass" CRLF ICE_CANDS ICE_EOC, 0, NULL },
  { "set setup, LF line endings", S (FIG7_LF), 0, OP_SET_SETUP, NULL,
    MSRP_SDP_SETUP_ACTIVE, FIG7_LF "a=setup:active\n", 0, NULL },
  { "set setup, no final line ending", S (FIG7_NO_EOL), 0, OP_SET_SETUP, NULL,
    MSRP_SDP_SETUP_ACTIVE, FIG7 "a=setup:active", 0, NULL },
  { "set setup, empty lines at the end", S (FIG7 CRLF), 0, OP_SET_SETUP, NULL,
    MSRP_SDP_SETUP_ACTIVE, FIG7 "a=setup:active" CRLF CRLF, 0, NULL },
  { "clear candidates", S (ICE), 0, OP_CLEAR_CANDIDATES, NULL, 0, ICE_SESSION,
    0, NULL },
  { "clear candidates: others stay", S (ICE_MEDIA), 0, OP_CLEAR_CANDIDATES,
    NULL, 0,
    ICE_MEDIA_HEAD ICE_MEDIA_ICE ICE_MEDIA_SETUP
    "a=remote-candidates:1 192.0.2.1 3478" CRLF ICE_MEDIA_TAIL,
    0, NULL },
  { "remove ICE", S (ICE_MEDIA), 0, OP_REMOVE_ICE, NULL, 0,
    ICE_MEDIA_HEAD ICE_MEDIA_SETUP ICE_MEDIA_TAIL, 0, NULL },
  { "remove ICE keeps the session level", S (ICE), 0, OP_REMOVE_ICE, NULL, 0,
    ICE_SESSION, 0, NULL },
  { "add a candidate after the last", S (ICE), 0, OP_ADD_CANDIDATE, NEW_CAND,
    0, ICE_SESSION ICE_CANDS "a=candidate:" NEW_CAND CRLF ICE_EOC, 0, NULL },
  { "add a candidate before end-of-candidates", S (EOC_ONLY), 0,
    OP_ADD_CANDIDATE, NEW_CAND, 0,
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
    "t=0 0\r\nm=message 9 TCP/MSRP *\r\n"
    "a=path:msrp://192.0.2.1:9/a1b2;tcp\r\n"
    "a=candidate:" NEW_CAND "\r\n"
    "a=end-of-candidates\r\n"
    "a=sendrecv\r\n",
    0, NULL },
  { "add a candidate to a stream without", S (FIG7), 0, OP_ADD_CANDIDATE,
    NEW_CAND, 0, FIG7 "a=candidate:" NEW_CAND CRLF, 0, NULL },
  { "set ICE credentials", S (FIG7), 0, OP_SET_ICE_CREDENTIALS,
    "Gw01 ZmFrZXBhc3N3b3JkZm9ydGVzdA", 0,
    FIG7 "a=ice-ufrag:Gw01" CRLF "a=ice-pwd:ZmFrZXBhc3N3b3JkZm9ydGVzdA" CRLF,
    0, NULL },
  { "replace ICE credentials in place", S (ICE_MEDIA), 0,
    OP_SET_ICE_CREDENTIALS, "Gw01 ZmFrZXBhc3N3b3JkZm9ydGVzdA", 0,
    ICE_MEDIA_HEAD
    "a=ice-ufrag:Gw01" CRLF "a=ice-pwd:ZmFrZXBhc3N3b3JkZm9ydGVzdA" CRLF
    "a=ice-options:ice2 trickle" CRLF ICE_MEDIA_SETUP ICE_MEDIA_CANDS
        ICE_MEDIA_TAIL,
    0, NULL },
  { "ICE credentials go before the candidates", S (ICE), 0,
    OP_SET_ICE_CREDENTIALS, "Gw01 ZmFrZXBhc3N3b3JkZm9ydGVzdA", 0,
    ICE_SESSION "a=ice-ufrag:Gw01" CRLF
                "a=ice-pwd:ZmFrZXBhc3N3b3JkZm9ydGVzdA" CRLF ICE_CANDS ICE_EOC,
    0, NULL },
  { "set end-of-candidates", S (FIG7), 0, OP_SET_EOC, NULL, TRUE,
    FIG7 "a=end-of-candidates" CRLF, 0, NULL },
  { "set end-of-candidates again changes nothing", S (ICE), 0, OP_SET_EOC,
    NULL, TRUE, ICE, 0, NULL },
  { "unset end-of-candidates", S (ICE), 0, OP_SET_EOC, NULL, FALSE,
    ICE_SESSION ICE_CANDS, 0, NULL },
  { "unknown lines stay as they were", S (UNKNOWN), 0, OP_SET_SETUP, NULL,
    MSRP_SDP_SETUP_PASSIVE,
    "v=0" CRLF "o=- 20518 0 IN IP4 203.0.113.1" CRLF
    "s=Caf\xc3\xa9 \xe2\x98\x95  two spaces, a tab\there " CRLF
    "i=A session with odd lines" CRLF
    "u=http://www.example.com/seminars/sdp.pdf" CRLF
    "e=j.doe@example.com (Jane Doe)" CRLF "p=+1 617 555-6011" CRLF
    "c=IN IP4 203.0.113.1" CRLF "b=AS:64" CRLF "t=2873397496 2873404696" CRLF
    "r=7d 1h 0 25h" CRLF "z=2882844526 -1h 2898848070 0" CRLF "k=prompt" CRLF
    "a=X-custom: value with  two spaces   " CRLF "a=recvonly" CRLF
    "x=unknown type letter" CRLF "m=message 2855 TCP/MSRP *" CRLF
    "b=AS:10" CRLF "a=accept-types:text/plain" CRLF
    "a=chatroom:nickname private-messages" CRLF
    "a=path:msrp://203.0.113.1:2855/ah3b;tcp" CRLF
    "a=remote-candidates:1 192.0.2.1 3478" CRLF "a=ice-lite" CRLF
    "a=setup:passive" CRLF "a=rtcp-fb:* nack" CRLF,
    0, NULL },
  /* failures change nothing */
  { "set address: bad IPv4", S (FIG7), 0, OP_SET_ADDRESS, "999.1.1.1", 0, NULL,
    MSRP_SDP_ERROR_SYNTAX, "\"999.1.1.1\" is not an IPv4 address" },
  { "set address: multicast", S (FIG7), 0, OP_SET_ADDRESS, "224.0.0.1", 0,
    NULL, MSRP_SDP_ERROR_SYNTAX, "not a unicast IPv4 address" },
  { "set address: with a TTL", S (FIG7), 0, OP_SET_ADDRESS, "192.0.2.1/3", 0,
    NULL, MSRP_SDP_ERROR_SYNTAX,
    "\"192.0.2.1/3\" is not an IP address "
    "or a name" },
  { "set address: empty", S (FIG7), 0, OP_SET_ADDRESS, "", 0, NULL,
    MSRP_SDP_ERROR_SYNTAX, "the address is empty" },
  { "set address: a line break", S (FIG7), 0, OP_SET_ADDRESS,
    "host.example\r\na=evil", 0, NULL, MSRP_SDP_ERROR_SYNTAX,
    "is not an IP address or a name" },
  { "prepend without a path", S (NO_PATH), 0, OP_PREPEND_PATH, RELAY, 0, NULL,
    MSRP_SDP_ERROR_MISSING, "has no a=path to prepend to" },
  { "ICE credentials: ufrag too short", S (FIG7), 0, OP_SET_ICE_CREDENTIALS,
    "abc ZmFrZXBhc3N3b3JkZm9ydGVzdA", 0, NULL, MSRP_SDP_ERROR_SYNTAX,
    "ice-ufrag: \"abc\" is not 4 to 256 ice-chars" },
  { "ICE credentials: pwd with a bad char", S (FIG7), 0,
    OP_SET_ICE_CREDENTIALS, "abcd ZmFrZXBhc3N3b3JkZm9yd-GVzdA", 0, NULL,
    MSRP_SDP_ERROR_SYNTAX,
    "ice-pwd: \"ZmFrZXBhc3N3b3JkZm9yd-GVzdA\" is "
    "not 22 to 256" },
};

static gboolean
apply_op (MsrpSdpStream *st, Op op, const char *arg, guint num, GError **error)
{
  switch (op)
    {
    case OP_SET_PORT:
      return msrp_sdp_stream_set_port (st, (guint16) num, error);
    case OP_SET_ADDRESS:
      return msrp_sdp_stream_set_address (st, arg, error);
    case OP_SET_PATH:
      {
        g_autoptr (GPtrArray) uris = msrp_uri_list_parse (arg, -1, NULL);

        ck_assert_ptr_nonnull (uris);
        return msrp_sdp_stream_set_path (st, uris, error);
      }
    case OP_PREPEND_PATH:
      {
        g_autoptr (MsrpUri) uri = msrp_uri_parse (arg, -1, NULL);

        ck_assert_ptr_nonnull (uri);
        return msrp_sdp_stream_prepend_path (st, uri, error);
      }
    case OP_SET_SETUP:
      return msrp_sdp_stream_set_setup (st, (MsrpSdpSetup) num, error);
    case OP_CLEAR_CANDIDATES:
      msrp_sdp_stream_clear_candidates (st);
      return TRUE;
    case OP_REMOVE_ICE:
      msrp_sdp_stream_remove_ice (st);
      return TRUE;
    case OP_ADD_CANDIDATE:
      {
        g_autoptr (MsrpSdpCandidate) c =
            msrp_sdp_candidate_parse (arg, -1, NULL);

        ck_assert_ptr_nonnull (c);
        return msrp_sdp_stream_add_candidate (st, c, error);
      }
    case OP_SET_ICE_CREDENTIALS:
      {
        g_auto (GStrv) parts = g_strsplit (arg, " ", 2);

        return msrp_sdp_stream_set_ice_credentials (st, parts[0], parts[1],
                                                    error);
      }
    case OP_SET_EOC:
      return msrp_sdp_stream_set_end_of_candidates (st, num != 0, error);
    default:
      ck_abort ();
      return FALSE;
    }
}

START_TEST (test_modify)
{
  const char *name = mod_cases[_i].name;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp =
      parse_guarded (mod_cases[_i].text, mod_cases[_i].len, &error);
  MsrpSdpStream *st;
  gboolean ok;

  ck_assert_msg (sdp != NULL, "%s: %s", name, error ? error->message : "");
  st = msrp_sdp_get_stream (sdp, mod_cases[_i].stream);
  ok = apply_op (st, mod_cases[_i].op, mod_cases[_i].arg, mod_cases[_i].num,
                 &error);
  if (mod_cases[_i].expected == NULL)
    {
      ck_assert_msg (!ok, "%s: succeeded", name);
      check_error (error, mod_cases[_i].code, mod_cases[_i].msg);
      check_text (sdp, mod_cases[_i].text, mod_cases[_i].len);
      return;
    }
  ck_assert_msg (ok, "%s: %s", name, error ? error->message : "");
  check_text (sdp, mod_cases[_i].expected, strlen (mod_cases[_i].expected));
  check_reparse (sdp);

  /* The typed view follows the lines. */
  switch (mod_cases[_i].op)
    {
    case OP_SET_PORT:
      ck_assert_uint_eq (msrp_sdp_stream_get_port (st), mod_cases[_i].num);
      break;
    case OP_SET_ADDRESS:
      ck_assert_str_eq (msrp_sdp_stream_get_address (st, NULL),
                        mod_cases[_i].arg);
      ck_assert (msrp_sdp_stream_has_media_address (st));
      break;
    case OP_SET_PATH:
    case OP_PREPEND_PATH:
      {
        g_autofree char *text =
            msrp_uri_list_to_text (msrp_sdp_stream_get_path (st));

        ck_assert (g_str_has_prefix (text, mod_cases[_i].arg));
        break;
      }
    case OP_SET_SETUP:
      ck_assert_int_eq (msrp_sdp_stream_get_setup (st), mod_cases[_i].num);
      break;
    case OP_CLEAR_CANDIDATES:
    case OP_REMOVE_ICE:
      ck_assert_uint_eq (msrp_sdp_stream_get_candidates (st)->len, 0);
      break;
    case OP_ADD_CANDIDATE:
      {
        GPtrArray *cands = msrp_sdp_stream_get_candidates (st);
        g_autofree char *last = NULL;

        ck_assert_uint_gt (cands->len, 0);
        last = msrp_sdp_candidate_to_string (
            g_ptr_array_index (cands, cands->len - 1));
        ck_assert_str_eq (last, mod_cases[_i].arg);
        break;
      }
    case OP_SET_ICE_CREDENTIALS:
      ck_assert (g_str_has_prefix (mod_cases[_i].arg,
                                   msrp_sdp_stream_get_ice_ufrag (st)));
      ck_assert (g_str_has_suffix (mod_cases[_i].arg,
                                   msrp_sdp_stream_get_ice_pwd (st)));
      break;
    case OP_SET_EOC:
      ck_assert_int_eq (msrp_sdp_stream_get_end_of_candidates (st),
                        mod_cases[_i].num != 0);
      break;
    default:
      break;
    }
}
END_TEST

/* Several modifications in a row, on both streams of the mixed SDP: the
 * audio section and the session level stay byte for byte. */
START_TEST (test_modify_sequence)
{
  static const char expected[] = AUDIO_2MSRP_SESSION AUDIO_2MSRP_AUDIO
      "m=message 40000 TCP/MSRP *" CRLF "c=IN IP4 203.0.113.5" CRLF
      "a=accept-types:message/cpim text/plain" CRLF
      "a=accept-wrapped-types:*" CRLF "a=path:" RELAY
      " msrp://198.51.100.1:2855/kjhd37s2s20w2a;tcp" CRLF
      "a=setup:passive" CRLF "a=candidate:" NEW_CAND CRLF AUDIO_2MSRP_FILE_HEAD
      "c=IN IP4 203.0.113.5" CRLF "a=sendonly" CRLF
      "a=accept-types:application/octet-stream" CRLF "a=path:" RELAY
      " msrps://[2001:db8::1]:2856/fg8jd73;tcp" CRLF
      "a=file-selector:name:\"report.pdf\" type:application/pdf "
      "size:32349" CRLF "a=max-size:32349" CRLF "a=setup:passive" CRLF
      "a=fingerprint:SHA-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:"
      "19:E5:7C:AB:3A:B2:B8:4B:4A:FA:8D:D8:EA:80:DA:FC" CRLF;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp = parse_guarded (S (AUDIO_2MSRP), &error);
  g_autoptr (MsrpUri) relay = msrp_uri_parse (RELAY, -1, NULL);
  g_autoptr (MsrpSdpCandidate) cand =
      msrp_sdp_candidate_parse (NEW_CAND, -1, NULL);

  ck_assert_ptr_nonnull (sdp);
  for (guint i = 0; i < 2; i++)
    {
      MsrpSdpStream *st = msrp_sdp_get_stream (sdp, i);

      ck_assert (msrp_sdp_stream_set_address (st, "203.0.113.5", &error));
      ck_assert (msrp_sdp_stream_prepend_path (st, relay, &error));
      ck_assert (
          msrp_sdp_stream_set_setup (st, MSRP_SDP_SETUP_PASSIVE, &error));
    }
  ck_assert (
      msrp_sdp_stream_set_port (msrp_sdp_get_stream (sdp, 0), 40000, &error));
  ck_assert (msrp_sdp_stream_add_candidate (msrp_sdp_get_stream (sdp, 0), cand,
                                            &error));
  ck_assert_ptr_null (error);
  check_text (sdp, S (expected));
  check_reparse (sdp);
  /* the session-level c= still serves the audio; the typed view of the
   * streams follows */
  ck_assert_str_eq (
      msrp_sdp_stream_get_address (msrp_sdp_get_stream (sdp, 1), NULL),
      "203.0.113.5");
  ck_assert_uint_eq (
      msrp_sdp_stream_get_path (msrp_sdp_get_stream (sdp, 1))->len, 2);
}
END_TEST

/* A path of MSRP_URI_LIST_MAX URIs takes one more neither way. */
START_TEST (test_path_limit)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp = parse_guarded (S (FIG7), &error);
  g_autoptr (GPtrArray) uris =
      g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);
  g_autoptr (MsrpUri) relay = msrp_uri_parse (RELAY, -1, NULL);
  MsrpSdpStream *st;

  ck_assert_ptr_nonnull (sdp);
  st = msrp_sdp_get_stream (sdp, 0);
  for (int i = 0; i < MSRP_URI_LIST_MAX; i++)
    g_ptr_array_add (uris, msrp_uri_ref (relay));
  ck_assert (msrp_sdp_stream_set_path (st, uris, &error));
  ck_assert_uint_eq (msrp_sdp_stream_get_path (st)->len, MSRP_URI_LIST_MAX);
  check_reparse (sdp);

  ck_assert (!msrp_sdp_stream_prepend_path (st, relay, &error));
  check_error (error, MSRP_SDP_ERROR_LIMIT,
               "a=path would have 33 URIs, "
               "more than 32");
  g_clear_error (&error);
  g_ptr_array_add (uris, msrp_uri_ref (relay));
  ck_assert (!msrp_sdp_stream_set_path (st, uris, &error));
  check_error (error, MSRP_SDP_ERROR_LIMIT, "more than 32");
  g_clear_error (&error);
  g_ptr_array_set_size (uris, 0);
  ck_assert (!msrp_sdp_stream_set_path (st, uris, &error));
  check_error (error, MSRP_SDP_ERROR_SYNTAX, "a=path needs at least one URI");
  ck_assert_uint_eq (msrp_sdp_stream_get_path (st)->len, MSRP_URI_LIST_MAX);
}
END_TEST

/* A candidate built by hand is checked as parsing would check it. */
START_TEST (test_add_bad_candidate)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp = parse_guarded (S (FIG7), &error);
  char *names[] = { "generation", NULL }, *values[] = { "0", NULL };
  char *bad_values[] = { "two words", NULL };
  MsrpSdpCandidate c = {
    .foundation = "1",
    .component = 1,
    .transport = "TCP",
    .priority = 2128609279,
    .address = "10.0.1.1",
    .port = 9,
    .type = "host",
    .raddr = NULL,
    .rport = -1,
    .tcptype = MSRP_SDP_TCPTYPE_ACTIVE,
    .ext_names = names,
    .ext_values = values,
  };
  MsrpSdpStream *st;

  ck_assert_ptr_nonnull (sdp);
  st = msrp_sdp_get_stream (sdp, 0);
  ck_assert (msrp_sdp_stream_add_candidate (st, &c, &error));
  check_text (sdp, S (FIG7 "a=candidate:1 1 TCP 2128609279 10.0.1.1 9 typ "
                           "host tcptype active generation 0" CRLF));

  c.address = "10.0.1.1 typ";
  ck_assert (!msrp_sdp_stream_add_candidate (st, &c, &error));
  check_error (error, MSRP_SDP_ERROR_SYNTAX, "candidate: ");
  g_clear_error (&error);
  c.address = "10.0.1.1";
  c.ext_values = bad_values;
  ck_assert (!msrp_sdp_stream_add_candidate (st, &c, &error));
  check_error (error, MSRP_SDP_ERROR_SYNTAX, "candidate: ");
  g_clear_error (&error);
  c.ext_values = values;
  c.component = 0;
  ck_assert (!msrp_sdp_stream_add_candidate (st, &c, &error));
  check_error (error, MSRP_SDP_ERROR_SYNTAX, "component-id \"0\"");
  ck_assert_uint_eq (msrp_sdp_stream_get_candidates (st)->len, 1);
  check_text (sdp, S (FIG7 "a=candidate:1 1 TCP 2128609279 10.0.1.1 9 typ "
                           "host tcptype active generation 0" CRLF));
}
END_TEST

/* ---------------------------------------------------------------------------
 * Limits, at and one past each
 * ------------------------------------------------------------------------- */

/* FIG7 followed by a=x lines: @n_lines lines in all, or one line padded to
 * @line_len bytes, or the total padded to @size bytes. */
static GString *
make_sdp (guint n_lines, gsize line_len, gsize size)
{
  GString *s = g_string_new (FIG7);
  guint lines = 8;

  if (line_len > 0)
    {
      g_string_append (s, "a=x:");
      for (gsize i = 4; i < line_len; i++)
        g_string_append_c (s, 'y');
      g_string_append (s, CRLF);
    }
  for (; lines < n_lines; lines++)
    g_string_append (s, "a=x" CRLF);
  if (size > 0)
    {
      while (s->len + 4096 + 2 < size)
        {
          g_string_append (s, "a=x:");
          for (int i = 4; i < 4096; i++)
            g_string_append_c (s, 'y');
          g_string_append (s, CRLF);
        }
      g_string_append (s, "a=x:");
      while (s->len + 2 < size)
        g_string_append_c (s, 'z');
      g_string_append (s, CRLF);
    }
  return s;
}

static const struct
{
  guint n_lines;
  gsize line_len;
  gsize size;
  gboolean ok;
  const char *msg;
} limit_cases[] = {
  { MSRP_SDP_MAX_LINES, 0, 0, TRUE, NULL },
  { MSRP_SDP_MAX_LINES + 1, 0, 0, FALSE,
    "line 1025: the SDP has more than 1024 lines" },
  { 0, MSRP_SDP_MAX_LINE_LEN, 0, TRUE, NULL },
  { 0, MSRP_SDP_MAX_LINE_LEN + 1, 0, FALSE, "line 9: longer than 4096 bytes" },
  { 0, 0, MSRP_SDP_MAX_SIZE, TRUE, NULL },
  { 0, 0, MSRP_SDP_MAX_SIZE + 1, FALSE,
    "the SDP is 65537 bytes, more than 65536" },
};

START_TEST (test_limits)
{
  g_autoptr (GString) s = make_sdp (
      limit_cases[_i].n_lines, limit_cases[_i].line_len, limit_cases[_i].size);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp = parse_guarded (s->str, s->len, &error);

  if (limit_cases[_i].size > 0)
    ck_assert_uint_eq (s->len, limit_cases[_i].size);
  if (!limit_cases[_i].ok)
    {
      ck_assert_ptr_null (sdp);
      check_error (error, MSRP_SDP_ERROR_LIMIT, limit_cases[_i].msg);
      return;
    }
  ck_assert_msg (sdp != NULL, "%s", error ? error->message : "");
  check_text (sdp, s->str, s->len);
}
END_TEST

/* A modification that would take the SDP past a limit fails and changes
 * nothing. */
START_TEST (test_modify_limits)
{
  g_autoptr (GString) full = make_sdp (0, 0, MSRP_SDP_MAX_SIZE - 10);
  g_autoptr (GString) lines = make_sdp (MSRP_SDP_MAX_LINES, 0, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) a = parse_guarded (full->str, full->len, &error);
  g_autoptr (MsrpSdp) b = parse_guarded (lines->str, lines->len, &error);
  g_autoptr (MsrpUri) relay = msrp_uri_parse (RELAY, -1, NULL);
  g_autoptr (GPtrArray) uris =
      g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);
  g_autoptr (MsrpUri) long_uri = NULL;
  g_autoptr (GString) long_text = g_string_new ("msrp://");
  g_autoptr (MsrpSdp) c = parse_guarded (S (FIG7), &error);

  ck_assert_ptr_nonnull (a);
  ck_assert_ptr_nonnull (b);
  ck_assert_ptr_nonnull (c);

  ck_assert (!msrp_sdp_stream_prepend_path (msrp_sdp_get_stream (a, 0), relay,
                                            &error));
  check_error (error, MSRP_SDP_ERROR_LIMIT,
               "the SDP would be 65562 bytes, "
               "more than 65536");
  g_clear_error (&error);
  check_text (a, full->str, full->len);
  /* the same length: fits */
  ck_assert (
      msrp_sdp_stream_set_port (msrp_sdp_get_stream (a, 0), 7395, &error));

  ck_assert (!msrp_sdp_stream_set_setup (msrp_sdp_get_stream (b, 0),
                                         MSRP_SDP_SETUP_ACTIVE, &error));
  check_error (error, MSRP_SDP_ERROR_LIMIT,
               "the SDP would have 1025 lines, "
               "more than 1024");
  g_clear_error (&error);
  check_text (b, lines->str, lines->len);
  ck_assert (!msrp_sdp_stream_set_address (msrp_sdp_get_stream (b, 0),
                                           "192.0.2.1", &error));
  check_error (error, MSRP_SDP_ERROR_LIMIT, "1025 lines");
  g_clear_error (&error);
  /* replacing a line adds none */
  ck_assert (msrp_sdp_stream_set_port (msrp_sdp_get_stream (b, 0), 1, &error));

  /* a line longer than the limit */
  for (int i = 0; i < 120; i++)
    g_string_append (long_text, "h123456.");
  g_string_append (long_text, "example:2855/s;tcp");
  long_uri = msrp_uri_parse (long_text->str, -1, &error);
  ck_assert_msg (long_uri != NULL, "%s", error ? error->message : "");
  for (int i = 0; i < 5; i++)
    g_ptr_array_add (uris, msrp_uri_ref (long_uri));
  ck_assert (
      !msrp_sdp_stream_set_path (msrp_sdp_get_stream (c, 0), uris, &error));
  check_error (error, MSRP_SDP_ERROR_LIMIT, "new line: ");
  check_text (c, S (FIG7));
}
END_TEST

/* ---------------------------------------------------------------------------
 * The o= version (RFC 8866 section 5.2, RFC 3264 section 8)
 * ------------------------------------------------------------------------- */

#define O_REST " IN IP4 alice.example.com"
#define AFTER_O                                                               \
  "s= -" CRLF "c=IN IP4 alice.example.com" CRLF "t=0 0" CRLF                  \
  "m=message 7394 TCP/MSRP *" CRLF                                            \
  "a=path:msrp://alice.example.com:7394/2s93i9ek2a;tcp" CRLF

static const struct
{
  const char *name;
  const char *text;
  guint64 version;      /* read; then set to @set */
  guint64 set;          /* when @expected */
  const char *expected; /* NULL: get and set fail with @code, @msg */
  gint code;
  const char *msg;
} origin_cases[] = {
  { "figure 7", FIG7, 2890844527, 2890844528,
    "v=0" CRLF "o=alice 2890844526 2890844528" O_REST CRLF "s= -" CRLF
    "c=IN IP4 alice.example.com" CRLF "t=0 0" CRLF
    "m=message 7394 TCP/MSRP *" CRLF "a=accept-types:text/plain" CRLF
    "a=path:msrp://alice.example.com:7394/2s93i9ek2a;tcp" CRLF },
  { "one more digit", "v=0" CRLF "o=- 1 9" O_REST CRLF AFTER_O, 9, 10,
    "v=0" CRLF "o=- 1 10" O_REST CRLF AFTER_O },
  { "the largest", "v=0" CRLF "o=- 1 1" O_REST CRLF AFTER_O, 1, G_MAXINT64,
    "v=0" CRLF "o=- 1 9223372036854775807" O_REST CRLF AFTER_O },
  { "down to 0, LF, trailing blank kept",
    "v=0\no=bob 7 41 IN IP6 ::1 \ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n", 41, 0,
    "v=0\no=bob 7 0 IN IP6 ::1 \ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n" },
  { "no o=", "v=0" CRLF AFTER_O, 0, 0, NULL, MSRP_SDP_ERROR_MISSING,
    "no o= line" },
  { "two o=", "v=0" CRLF "o=- 1 1" O_REST CRLF "o=- 1 2" O_REST CRLF AFTER_O,
    0, 0, NULL, MSRP_SDP_ERROR_DUPLICATE, "line 3: a second o= line" },
  { "five fields", "v=0" CRLF "o=- 1 1 IN IP4" CRLF AFTER_O, 0, 0, NULL,
    MSRP_SDP_ERROR_SYNTAX, "line 2: o= needs" },
  { "two spaces", "v=0" CRLF "o=-  1 1" O_REST CRLF AFTER_O, 0, 0, NULL,
    MSRP_SDP_ERROR_SYNTAX, "line 2: o= needs" },
  { "a version that is no number", "v=0" CRLF "o=- 1 1a" O_REST CRLF AFTER_O,
    0, 0, NULL, MSRP_SDP_ERROR_SYNTAX, "line 2: o= needs" },
  { "an id that is no number", "v=0" CRLF "o=- x 1" O_REST CRLF AFTER_O, 0, 0,
    NULL, MSRP_SDP_ERROR_SYNTAX, "line 2: o= needs" },
  { "a version past 2^63-1",
    "v=0" CRLF "o=- 1 9223372036854775808" O_REST CRLF AFTER_O, 0, 0, NULL,
    MSRP_SDP_ERROR_SYNTAX, "up to 2^63-1" },
};

/* Read the version, set another: only its digits change, and the text
 * parses again; an o= that cannot be read makes both fail and changes
 * nothing. */
START_TEST (test_origin)
{
  const char *name = origin_cases[_i].name;
  const char *text = origin_cases[_i].text;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp = parse_guarded (text, strlen (text), &error);
  guint64 version = 12345;

  ck_assert_msg (sdp != NULL, "%s: %s", name, error ? error->message : "");
  if (origin_cases[_i].expected == NULL)
    {
      ck_assert_msg (!msrp_sdp_get_origin_version (sdp, &version, &error),
                     "%s: read %" G_GUINT64_FORMAT, name, version);
      ck_assert_uint_eq (version, 12345);
      check_error (error, origin_cases[_i].code, origin_cases[_i].msg);
      g_clear_error (&error);
      ck_assert (!msrp_sdp_set_origin_version (sdp, 2, &error));
      check_error (error, origin_cases[_i].code, origin_cases[_i].msg);
      check_text (sdp, text, strlen (text));
      return;
    }
  ck_assert_msg (msrp_sdp_get_origin_version (sdp, &version, &error), "%s: %s",
                 name, error ? error->message : "");
  ck_assert_uint_eq (version, origin_cases[_i].version);
  ck_assert_msg (
      msrp_sdp_set_origin_version (sdp, origin_cases[_i].set, &error),
      "%s: %s", name, error ? error->message : "");
  check_text (sdp, origin_cases[_i].expected,
              strlen (origin_cases[_i].expected));
  check_reparse (sdp);
  ck_assert (msrp_sdp_get_origin_version (sdp, &version, &error));
  ck_assert_uint_eq (version, origin_cases[_i].set);
}
END_TEST

/* A version past 2^63-1, or one digit more in an SDP of the largest size,
 * fails with LIMIT and changes nothing; one as long as before fits. */
START_TEST (test_origin_limits)
{
  g_autoptr (GString) full = make_sdp (0, 0, MSRP_SDP_MAX_SIZE);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp = parse_guarded (full->str, full->len, &error);

  ck_assert_ptr_nonnull (sdp);
  ck_assert (
      !msrp_sdp_set_origin_version (sdp, (guint64) G_MAXINT64 + 1, &error));
  check_error (error, MSRP_SDP_ERROR_LIMIT, "more than 2^63-1");
  g_clear_error (&error);
  ck_assert (!msrp_sdp_set_origin_version (sdp, 28908445270, &error));
  check_error (error, MSRP_SDP_ERROR_LIMIT, "65537 bytes, more than 65536");
  g_clear_error (&error);
  check_text (sdp, full->str, full->len);
  ck_assert (msrp_sdp_set_origin_version (sdp, 2890844528, &error));
  {
    gsize len = 0;
    g_autofree char *out = msrp_sdp_to_string (sdp, &len);

    ck_assert_ptr_nonnull (out);
    ck_assert_uint_eq (len, full->len);
  }
}
END_TEST

/* ---------------------------------------------------------------------------
 * Small things
 * ------------------------------------------------------------------------- */

START_TEST (test_names)
{
  ck_assert_str_eq (msrp_sdp_setup_to_string (MSRP_SDP_SETUP_ACTIVE),
                    "active");
  ck_assert_str_eq (msrp_sdp_setup_to_string (MSRP_SDP_SETUP_PASSIVE),
                    "passive");
  ck_assert_str_eq (msrp_sdp_setup_to_string (MSRP_SDP_SETUP_ACTPASS),
                    "actpass");
  ck_assert_str_eq (msrp_sdp_setup_to_string (MSRP_SDP_SETUP_HOLDCONN),
                    "holdconn");
  ck_assert_ptr_null (msrp_sdp_setup_to_string (MSRP_SDP_SETUP_ABSENT));
  ck_assert_ptr_null (msrp_sdp_setup_to_string ((MsrpSdpSetup) 99));
  ck_assert_str_eq (msrp_sdp_tcptype_to_string (MSRP_SDP_TCPTYPE_SO), "so");
  ck_assert_ptr_null (msrp_sdp_tcptype_to_string (MSRP_SDP_TCPTYPE_NONE));
}
END_TEST

/* A stream handed out before a modification is the same object after. */
START_TEST (test_stream_stable)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp = parse_guarded (S (AUDIO_2MSRP), &error);
  MsrpSdpStream *st0, *st1;

  ck_assert_ptr_nonnull (sdp);
  ck_assert_ptr_null (msrp_sdp_get_media_stream (sdp, 0));
  st0 = msrp_sdp_get_media_stream (sdp, 1);
  st1 = msrp_sdp_get_media_stream (sdp, 2);
  ck_assert_ptr_eq (st0, msrp_sdp_get_stream (sdp, 0));
  ck_assert_ptr_eq (st1, msrp_sdp_get_stream (sdp, 1));
  ck_assert (msrp_sdp_stream_set_setup (st0, MSRP_SDP_SETUP_ACTIVE, &error));
  ck_assert_ptr_eq (st0, msrp_sdp_get_stream (sdp, 0));
  ck_assert_int_eq (msrp_sdp_stream_get_setup (st0), MSRP_SDP_SETUP_ACTIVE);
  ck_assert_int_eq (msrp_sdp_stream_get_setup (st1), MSRP_SDP_SETUP_ACTIVE);
  ck_assert (msrp_sdp_stream_set_setup (st1, MSRP_SDP_SETUP_ABSENT, &error));
  ck_assert_int_eq (msrp_sdp_stream_get_setup (st1), MSRP_SDP_SETUP_ABSENT);
  ck_assert_int_eq (msrp_sdp_stream_get_setup (st0), MSRP_SDP_SETUP_ACTIVE);
}
END_TEST

/* a=msrp-cema added to one stream and removed again: the other stream and
 * every other line stay as they were, and the text parses back the same. */
START_TEST (test_set_cema)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpSdp) sdp = parse_guarded (S (AUDIO_2MSRP), &error);
  g_autoptr (MsrpSdp) back = NULL;
  g_autofree char *with = NULL;
  g_autofree char *without = NULL;
  MsrpSdpStream *st0, *st1;
  gsize len;

  ck_assert_ptr_nonnull (sdp);
  st0 = msrp_sdp_get_stream (sdp, 0);
  st1 = msrp_sdp_get_stream (sdp, 1);
  ck_assert (!msrp_sdp_stream_get_cema (st0));
  ck_assert (msrp_sdp_stream_set_cema (st0, TRUE, &error));
  ck_assert (msrp_sdp_stream_get_cema (st0));
  ck_assert (!msrp_sdp_stream_get_cema (st1));
  /* Twice: still one line. */
  ck_assert (msrp_sdp_stream_set_cema (st0, TRUE, &error));
  with = msrp_sdp_to_string (sdp, &len);
  ck_assert_ptr_nonnull (strstr (with, "a=msrp-cema\r\n"));
  ck_assert_ptr_null (
      strstr (strstr (with, "a=msrp-cema") + strlen ("a=msrp-cema"), "cema"));
  back = msrp_sdp_parse (with, len, &error);
  ck_assert_ptr_nonnull (back);
  ck_assert (msrp_sdp_stream_get_cema (msrp_sdp_get_stream (back, 0)));
  ck_assert (msrp_sdp_stream_set_cema (st0, FALSE, &error));
  ck_assert (!msrp_sdp_stream_get_cema (st0));
  without = msrp_sdp_to_string (sdp, NULL);
  ck_assert_str_eq (without, AUDIO_2MSRP);
}
END_TEST

/* ------------------------------------------------------------------------- */

static Suite *
sdp_suite (void)
{
  Suite *s = suite_create ("msrp-sdp");
  TCase *tc;

#define ADD_LOOP(name, fn, table)                                             \
  tc = tcase_create (name);                                                   \
  tcase_add_loop_test (tc, fn, 0, N_ELEMENTS (table));                        \
  suite_add_tcase (s, tc)

  ADD_LOOP ("parse", test_parse, parse_cases);
  ADD_LOOP ("errors", test_error, error_cases);
  ADD_LOOP ("candidates", test_candidate, cand_cases);
  ADD_LOOP ("modify", test_modify, mod_cases);
  tcase_add_test (tc, test_modify_sequence);
  tcase_add_test (tc, test_path_limit);
  tcase_add_test (tc, test_add_bad_candidate);
  tcase_add_test (tc, test_stream_stable);
  tcase_add_test (tc, test_set_cema);
  ADD_LOOP ("limits", test_limits, limit_cases);
  tcase_add_test (tc, test_modify_limits);
  tcase_add_test (tc, test_names);
  ADD_LOOP ("origin", test_origin, origin_cases);
  tcase_add_test (tc, test_origin_limits);
#undef ADD_LOOP

  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (sdp_suite ());
  int failed;

  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
