/* test-msrp-uri.c: Check suite for msrp/msrp-uri.c (RFC 4975 sections 6,
 * 6.1 and 9).  Every parsed input sits against an unreadable guard page
 * (guard.h), so a read past the length given crashes the test. */
#include "msrp-uri.h"

#include "guard.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define N_ELEMENTS(a) ((int) G_N_ELEMENTS (a))

/* ---- helpers ---- */

static MsrpUri *
parse_guarded (const char *text, size_t len, GError **error)
{
  GuardBuf buf;
  MsrpUri *uri;

  guard_buf_init (&buf, text, len);
  uri = msrp_uri_parse ((const char *) buf.data, (gssize) buf.len, error);
  guard_buf_clear (&buf);
  return uri;
}

static GPtrArray *
list_parse_guarded (const char *text, size_t len, GError **error)
{
  GuardBuf buf;
  GPtrArray *uris;

  guard_buf_init (&buf, text, len);
  uris =
      msrp_uri_list_parse ((const char *) buf.data, (gssize) buf.len, error);
  guard_buf_clear (&buf);
  return uris;
}

/* An error message must be plain printable ASCII: bad input never reaches
 * it raw. */
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

/* A URI made of @prefix, @fill repeated up to @total bytes, and @suffix. */
static char *
make_uri (const char *prefix, char fill, size_t total, const char *suffix)
{
  size_t plen = strlen (prefix), slen = strlen (suffix);
  char *s;

  g_assert (total >= plen + slen);
  s = g_malloc (total + 1);
  memcpy (s, prefix, plen);
  memset (s + plen, fill, total - plen - slen);
  memcpy (s + total - slen, suffix, slen);
  s[total] = '\0';
  return s;
}

/* ---- valid URIs ---- */

typedef struct
{
  const char *text;
  MsrpScheme scheme;
  const char *userinfo;
  const char *host;
  MsrpHostType host_type;
  guint16 port;
  const char *session_id;
  const char *transport;
  guint n_params;
  const char *canonical; /* NULL: the text itself */
} ValidCase;

#define MSRP MSRP_SCHEME_MSRP
#define MSRPS MSRP_SCHEME_MSRPS
#define V4 MSRP_HOST_IPV4
#define V6 MSRP_HOST_IPV6
#define NAME MSRP_HOST_NAME

static const ValidCase valid_cases[] = {
  /* every URI in the examples of RFC 4975 */
  { "msrp://alice.example.com:7394/2s93i93idj;tcp", MSRP, NULL,
    "alice.example.com", NAME, 7394, "2s93i93idj", "tcp", 0, NULL },
  { "msrp://alice.example.com:7394/2s93i9ek2a;tcp", MSRP, NULL,
    "alice.example.com", NAME, 7394, "2s93i9ek2a", "tcp", 0, NULL },
  { "msrp://alice.example.com:7777/iau39soe2843z;tcp", MSRP, NULL,
    "alice.example.com", NAME, 7777, "iau39soe2843z", "tcp", 0, NULL },
  { "msrp://alicepc.example.com:7654/iau39soe2843z;tcp", MSRP, NULL,
    "alicepc.example.com", NAME, 7654, "iau39soe2843z", "tcp", 0, NULL },
  { "msrp://alicepc.example.com:7777/iau39soe2843z;tcp", MSRP, NULL,
    "alicepc.example.com", NAME, 7777, "iau39soe2843z", "tcp", 0, NULL },
  { "msrp://alicepc.example.com:8888/9di4eae923wzd;tcp", MSRP, NULL,
    "alicepc.example.com", NAME, 8888, "9di4eae923wzd", "tcp", 0, NULL },
  { "msrp://atlanta.example.com:7654/jshA7weztas;tcp", MSRP, NULL,
    "atlanta.example.com", NAME, 7654, "jshA7weztas", "tcp", 0, NULL },
  { "msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp", MSRP, NULL,
    "biloxi.example.com", NAME, 12763, "kjhd37s2s20w2a", "tcp", 0, NULL },
  { "msrp://bob.example.com:8493/si438dsaodes;tcp", MSRP, NULL,
    "bob.example.com", NAME, 8493, "si438dsaodes", "tcp", 0, NULL },
  { "msrp://bob.example.com:8888/9di4eae923wzd;tcp", MSRP, NULL,
    "bob.example.com", NAME, 8888, "9di4eae923wzd", "tcp", 0, NULL },
  { "msrp://bobpc.example.com:8888/9di4eae923wzd;tcp", MSRP, NULL,
    "bobpc.example.com", NAME, 8888, "9di4eae923wzd", "tcp", 0, NULL },
  { "msrp://example.com:7777/iau39soe2843z;tcp", MSRP, NULL, "example.com",
    NAME, 7777, "iau39soe2843z", "tcp", 0, NULL },
  { "msrp://host.example.com:8493/asfd34;tcp", MSRP, NULL, "host.example.com",
    NAME, 8493, "asfd34", "tcp", 0, NULL },
  { "msrps://atlanta.example.com:7654/jshA7weso3ks;tcp", MSRPS, NULL,
    "atlanta.example.com", NAME, 7654, "jshA7weso3ks", "tcp", 0, NULL },
  /* every URI in the examples of RFC 4976 */
  { "msrp://a.example.com:1234/agic456;tcp", MSRP, NULL, "a.example.com", NAME,
    1234, "agic456", "tcp", 0, NULL },
  { "msrps://A.example.com/aaa;tcp", MSRPS, NULL, "a.example.com", NAME, 0,
    "aaa", "tcp", 0, "msrps://a.example.com/aaa;tcp" },
  { "msrps://Alice.example.com/alice;tcp", MSRPS, NULL, "alice.example.com",
    NAME, 0, "alice", "tcp", 0, "msrps://alice.example.com/alice;tcp" },
  { "msrps://B.example.com/bbb;tcp", MSRPS, NULL, "b.example.com", NAME, 0,
    "bbb", "tcp", 0, "msrps://b.example.com/bbb;tcp" },
  { "msrps://Bob.example.com/bob;tcp", MSRPS, NULL, "bob.example.com", NAME, 0,
    "bob", "tcp", 0, "msrps://bob.example.com/bob;tcp" },
  { "msrps://R1;tcp", MSRPS, NULL, "r1", NAME, 0, NULL, "tcp", 0,
    "msrps://r1;tcp" },
  { "msrps://R2;tcp", MSRPS, NULL, "r2", NAME, 0, NULL, "tcp", 0,
    "msrps://r2;tcp" },
  { "msrps://a.example.org:9000/kjfjan;tcp", MSRPS, NULL, "a.example.org",
    NAME, 9000, "kjfjan", "tcp", 0, NULL },
  { "msrps://alice.example.com:9892/98cjs;tcp", MSRPS, NULL,
    "alice.example.com", NAME, 9892, "98cjs", "tcp", 0, NULL },
  { "msrps://alice.example.org:7965/bar;tcp", MSRPS, NULL, "alice.example.org",
    NAME, 7965, "bar", "tcp", 0, NULL },
  { "msrps://alice@intra.example.com;tcp", MSRPS, "alice", "intra.example.com",
    NAME, 0, NULL, "tcp", 0, NULL },
  { "msrps://b.example.net:9000/aeiug;tcp", MSRPS, NULL, "b.example.net", NAME,
    9000, "aeiug", "tcp", 0, NULL },
  { "msrps://bob.example.com:1234/fuige;tcp", MSRPS, NULL, "bob.example.com",
    NAME, 1234, "fuige", "tcp", 0, NULL },
  { "msrps://bob.example.net:8145/foo;tcp", MSRPS, NULL, "bob.example.net",
    NAME, 8145, "foo", "tcp", 0, NULL },
  { "msrps://extra.example.com:9000/mywdEe1233;tcp", MSRPS, NULL,
    "extra.example.com", NAME, 9000, "mywdEe1233", "tcp", 0, NULL },
  { "msrps://extra.example.com;tcp", MSRPS, NULL, "extra.example.com", NAME, 0,
    NULL, "tcp", 0, NULL },
  { "msrps://intra.example.com:9000/jui787s2f;tcp", MSRPS, NULL,
    "intra.example.com", NAME, 9000, "jui787s2f", "tcp", 0, NULL },
  { "msrps://relay.example.com:9000/hjdhfha;tcp", MSRPS, NULL,
    "relay.example.com", NAME, 9000, "hjdhfha", "tcp", 0, NULL },
  /* RFC 7977 (MSRP over WebSocket) examples: transport "ws" */
  { "msrps://df7jal23ls0d.invalid:2855/98cjs;ws", MSRPS, NULL,
    "df7jal23ls0d.invalid", NAME, 2855, "98cjs", "ws", 0, NULL },
  { "msrps://alice@a.example.com:443;ws", MSRPS, "alice", "a.example.com",
    NAME, 443, NULL, "ws", 0, NULL },
  /* IPv4 */
  { "msrp://192.0.2.1:2855/abc;tcp", MSRP, NULL, "192.0.2.1", V4, 2855, "abc",
    "tcp", 0, NULL },
  { "msrp://0.0.0.0:1/a;tcp", MSRP, NULL, "0.0.0.0", V4, 1, "a", "tcp", 0,
    NULL },
  { "msrps://255.255.255.255:65535/a;tcp", MSRPS, NULL, "255.255.255.255", V4,
    65535, "a", "tcp", 0, NULL },
  { "msrp://10.20.30.40:9;tcp", MSRP, NULL, "10.20.30.40", V4, 9, NULL, "tcp",
    0, NULL },
  /* percent-decoded to digits and dots: an IPv4 address (RFC 4975 s. 6.1
   * decodes percent-encoding before comparing) */
  { "msrp://%31.2.3.4:1;tcp", MSRP, NULL, "1.2.3.4", V4, 1, NULL, "tcp", 0,
    "msrp://1.2.3.4:1;tcp" },
  /* IPv6, bracketed */
  { "msrp://[2001:db8::1]:2855/abc;tcp", MSRP, NULL, "2001:db8::1", V6, 2855,
    "abc", "tcp", 0, NULL },
  { "msrp://[2001:DB8:0:0:0:0:0:1]:2855/abc;tcp", MSRP, NULL, "2001:db8::1",
    V6, 2855, "abc", "tcp", 0, "msrp://[2001:db8::1]:2855/abc;tcp" },
  { "msrp://[2001:0db8:0000:0000:0000:ff00:0042:8329]:7/s;tcp", MSRP, NULL,
    "2001:db8::ff00:42:8329", V6, 7, "s", "tcp", 0,
    "msrp://[2001:db8::ff00:42:8329]:7/s;tcp" },
  { "msrp://[2001:db8:0:0:1:0:0:1]:9/x;tcp", MSRP, NULL, "2001:db8::1:0:0:1",
    V6, 9, "x", "tcp", 0, "msrp://[2001:db8::1:0:0:1]:9/x;tcp" },
  { "msrp://[::1]:9/x;tcp", MSRP, NULL, "::1", V6, 9, "x", "tcp", 0, NULL },
  { "msrp://[::]:9/x;tcp", MSRP, NULL, "::", V6, 9, "x", "tcp", 0, NULL },
  { "msrp://[fe80::]:9;tcp", MSRP, NULL, "fe80::", V6, 9, NULL, "tcp", 0,
    NULL },
  { "msrp://[1:2:3:4:5:6:7::]:9;tcp", MSRP, NULL, "1:2:3:4:5:6:7:0", V6, 9,
    NULL, "tcp", 0, "msrp://[1:2:3:4:5:6:7:0]:9;tcp" },
  { "msrp://[::ffff:192.0.2.1]:9/x;tcp", MSRP, NULL, "::ffff:192.0.2.1", V6, 9,
    "x", "tcp", 0, NULL },
  { "msrp://[::FFFF:c000:0201]:9/x;tcp", MSRP, NULL, "::ffff:192.0.2.1", V6, 9,
    "x", "tcp", 0, "msrp://[::ffff:192.0.2.1]:9/x;tcp" },
  { "msrps://[2001:db8::192.0.2.1]:9;tcp", MSRPS, NULL, "2001:db8::c000:201",
    V6, 9, NULL, "tcp", 0, "msrps://[2001:db8::c000:201]:9;tcp" },
  /* host names */
  { "MSRP://Host.Example.COM:80/Ab;TCP", MSRP, NULL, "host.example.com", NAME,
    80, "Ab", "tcp", 0, "msrp://host.example.com:80/Ab;tcp" },
  { "MsRpS://h:1;Tcp", MSRPS, NULL, "h", NAME, 1, NULL, "tcp", 0,
    "msrps://h:1;tcp" },
  { "msrp://ex%41mple.com:80/a;tcp", MSRP, NULL, "example.com", NAME, 80, "a",
    "tcp", 0, "msrp://example.com:80/a;tcp" },
  { "msrp://a%2fb.example:80;tcp", MSRP, NULL, "a%2Fb.example", NAME, 80, NULL,
    "tcp", 0, "msrp://a%2Fb.example:80;tcp" },
  { "msrp://host-1.example.com.:80;tcp", MSRP, NULL, "host-1.example.com.",
    NAME, 80, NULL, "tcp", 0, NULL },
  { "msrp://localhost;tcp", MSRP, NULL, "localhost", NAME, 0, NULL, "tcp", 0,
    NULL },
  { "msrp://a!$&'()*+,=b.example:1;tcp", MSRP, NULL, "a!$&'()*+,=b.example",
    NAME, 1, NULL, "tcp", 0, NULL },
  { "msrp://x_y~z.example:1;tcp", MSRP, NULL, "x_y~z.example", NAME, 1, NULL,
    "tcp", 0, NULL },
  { "msrp://1.2.3.4.example:1;tcp", MSRP, NULL, "1.2.3.4.example", NAME, 1,
    NULL, "tcp", 0, NULL },
  /* ports */
  { "msrp://x1.example:0080/s;tcp", MSRP, NULL, "x1.example", NAME, 80, "s",
    "tcp", 0, "msrp://x1.example:80/s;tcp" },
  { "msrp://h:65535;tcp", MSRP, NULL, "h", NAME, 65535, NULL, "tcp", 0, NULL },
  { "msrps://h:1;tcp", MSRPS, NULL, "h", NAME, 1, NULL, "tcp", 0, NULL },
  { "msrp://h:2855;tcp", MSRP, NULL, "h", NAME, 2855, NULL, "tcp", 0, NULL },
  /* userinfo */
  { "msrp://alice@host.example.com:1/s;tcp", MSRP, "alice", "host.example.com",
    NAME, 1, "s", "tcp", 0, NULL },
  { "msrp://Alice@h;tcp", MSRP, "Alice", "h", NAME, 0, NULL, "tcp", 0, NULL },
  { "msrp://al%69ce@host:1/s;tcp", MSRP, "alice", "host", NAME, 1, "s", "tcp",
    0, "msrp://alice@host:1/s;tcp" },
  { "msrp://a%3ab@host:1;tcp", MSRP, "a%3Ab", "host", NAME, 1, NULL, "tcp", 0,
    "msrp://a%3Ab@host:1;tcp" },
  { "msrp://a;b=c@host:1;tcp", MSRP, "a;b=c", "host", NAME, 1, NULL, "tcp", 0,
    NULL },
  { "msrp://@host:1;tcp", MSRP, "", "host", NAME, 1, NULL, "tcp", 0, NULL },
  { "msrp://bob@[2001:db8::7]:5/s;tcp", MSRP, "bob", "2001:db8::7", V6, 5, "s",
    "tcp", 0, NULL },
  { "msrp://bob@192.0.2.9:5/s;tcp", MSRP, "bob", "192.0.2.9", V4, 5, "s",
    "tcp", 0, NULL },
  /* session-id */
  { "msrp://h:1/a+b=c/d~e_f.g-h;tcp", MSRP, NULL, "h", NAME, 1,
    "a+b=c/d~e_f.g-h", "tcp", 0, NULL },
  { "msrp://h:1//;tcp", MSRP, NULL, "h", NAME, 1, "/", "tcp", 0, NULL },
  /* transport and URI-parameters */
  { "msrp://h:1/s;ws", MSRP, NULL, "h", NAME, 1, "s", "ws", 0, NULL },
  { "msrp://h:1/s;TLS1", MSRP, NULL, "h", NAME, 1, "s", "tls1", 0,
    "msrp://h:1/s;tls1" },
  { "msrp://h:1/s;tcp;foo", MSRP, NULL, "h", NAME, 1, "s", "tcp", 1, NULL },
  { "msrp://h:1/s;tcp;foo=bar;Baz=QUX", MSRP, NULL, "h", NAME, 1, "s", "tcp",
    2, NULL },
  { "msrp://h:1/s;TCP;Foo=Bar", MSRP, NULL, "h", NAME, 1, "s", "tcp", 1,
    "msrp://h:1/s;tcp;Foo=Bar" },
  { "msrp://h:1/s;tcp;%!'~=*+.-", MSRP, NULL, "h", NAME, 1, "s", "tcp", 1,
    NULL },
  { "msrp://h:1;tcp;a;a;a", MSRP, NULL, "h", NAME, 1, NULL, "tcp", 3, NULL },
};

START_TEST (test_valid)
{
  const ValidCase *c = &valid_cases[_i];
  const char *canonical = c->canonical != NULL ? c->canonical : c->text;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpUri) uri = NULL;
  g_autoptr (MsrpUri) again = NULL;
  g_autoptr (MsrpUri) whole = NULL;

  uri = parse_guarded (c->text, strlen (c->text), &error);
  ck_assert_msg (uri != NULL, "%s: %s", c->text,
                 error != NULL ? error->message : "?");
  ck_assert_int_eq (msrp_uri_get_scheme (uri), c->scheme);
  ck_assert_pstr_eq (msrp_uri_get_userinfo (uri), c->userinfo);
  ck_assert_str_eq (msrp_uri_get_host (uri), c->host);
  ck_assert_int_eq (msrp_uri_get_host_type (uri), c->host_type);
  ck_assert_uint_eq (msrp_uri_get_port (uri), c->port);
  ck_assert_uint_eq (msrp_uri_get_effective_port (uri),
                     c->port != 0 ? c->port : MSRP_DEFAULT_PORT);
  ck_assert_pstr_eq (msrp_uri_get_session_id (uri), c->session_id);
  ck_assert_str_eq (msrp_uri_get_transport (uri), c->transport);
  ck_assert_uint_eq (msrp_uri_get_n_params (uri), c->n_params);
  ck_assert_str_eq (msrp_uri_to_string (uri), canonical);
  ck_assert_str_eq (msrp_uri_get_text (uri), c->text);
  ck_assert (msrp_uri_equal (uri, uri));

  /* round trip: the canonical text parses to an equal URI that writes the
   * same canonical text */
  again = parse_guarded (canonical, strlen (canonical), &error);
  ck_assert_msg (again != NULL, "%s: %s", canonical,
                 error != NULL ? error->message : "?");
  ck_assert (msrp_uri_equal (uri, again));
  ck_assert (msrp_uri_equal (again, uri));
  ck_assert_str_eq (msrp_uri_to_string (again), canonical);
  ck_assert_pstr_eq (msrp_uri_get_userinfo (again), c->userinfo);
  ck_assert_uint_eq (msrp_uri_get_n_params (again), c->n_params);

  /* a NUL-terminated string with len -1 parses the same */
  whole = msrp_uri_parse (c->text, -1, &error);
  ck_assert_msg (whole != NULL, "%s: %s", c->text,
                 error != NULL ? error->message : "?");
  ck_assert_str_eq (msrp_uri_to_string (whole), canonical);
}
END_TEST

/* Every prefix of a valid URI, against the guard page: either a URI or an
 * error, never both, never neither, and never a read past the end. */
START_TEST (test_valid_prefixes)
{
  const ValidCase *c = &valid_cases[_i];
  size_t len = strlen (c->text);

  for (size_t n = 0; n < len; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MsrpUri) uri = parse_guarded (c->text, n, &error);

      if (uri == NULL)
        {
          ck_assert_ptr_nonnull (error);
          ck_assert (
              g_error_matches (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX));
          check_message_printable (error->message);
        }
      else
        {
          ck_assert_ptr_null (error);
          /* only a prefix that ends inside the transport or a parameter can
           * still be a URI */
          ck_assert_ptr_nonnull (memchr (c->text, ';', n));
        }
    }
}
END_TEST

/* ---- invalid URIs ---- */

typedef struct
{
  const char *text;
  size_t len; /* 0: strlen (text) */
  MsrpUriError code;
  const char *message; /* a substring of the error message */
} InvalidCase;

#define SYN MSRP_URI_ERROR_SYNTAX

static const InvalidCase invalid_cases[] = {
  { "", 0, SYN, "URI is empty" },
  /* scheme */
  { "msrp:", 0, SYN, "no \"//\" after the scheme at offset 5" },
  { "msrp:/h:1;tcp", 0, SYN, "no \"//\" after the scheme at offset 5" },
  { "msrp:h:1;tcp", 0, SYN, "no \"//\" after the scheme" },
  { "sip:alice@example.com", 0, SYN,
    "scheme \"sip\" is neither msrp nor msrps" },
  { "http://h:1;tcp", 0, SYN, "scheme \"http\" is neither" },
  { "msrpx://h:1;tcp", 0, SYN, "scheme \"msrpx\" is neither" },
  { "msr://h:1;tcp", 0, SYN, "scheme \"msr\" is neither" },
  { " msrp://h:1;tcp", 0, SYN, "scheme \" msrp\" is neither" },
  { "host.example.com;tcp", 0, SYN, "no scheme" },
  { "msrp", 0, SYN, "no scheme" },
  /* host */
  { "msrp://", 0, SYN, "host is empty at offset 7" },
  { "msrp://;tcp", 0, SYN, "host is empty at offset 7" },
  { "msrp://:80;tcp", 0, SYN, "host is empty at offset 7" },
  { "msrp:///s;tcp", 0, SYN, "host is empty" },
  { "msrp://alice@;tcp", 0, SYN, "host is empty at offset 13" },
  { "msrp://h<:1;tcp", 0, SYN, "bad character '<' in host at offset 8" },
  { "msrp://h\x01:1;tcp", 0, SYN,
    "bad character byte 0x01 in host at offset 8" },
  { "msrp://h\xc3\xa9.example:1;tcp", 0, SYN,
    "bad character byte 0xC3 in host at offset 8" },
  { "msrp://h x:1;tcp", 0, SYN, "bad character a space in host at offset 8" },
  { "msrp://a@b@h:1;tcp", 0, SYN, "bad character '@' in host at offset 10" },
  { "msrp://h%:80;tcp", 0, SYN, "bad percent-encoding in host at offset 8" },
  { "msrp://h%4:80;tcp", 0, SYN, "bad percent-encoding in host at offset 8" },
  { "msrp://h%4g:80;tcp", 0, SYN, "bad percent-encoding in host at offset 8" },
  { "msrp://h%", 0, SYN, "bad percent-encoding in host at offset 8" },
  { "msrp://1.2.3.256:1;tcp", 0, SYN,
    "host \"1.2.3.256\" at offset 7 is not a valid IPv4 address" },
  { "msrp://01.2.3.4:1;tcp", 0, SYN, "is not a valid IPv4 address" },
  { "msrp://1.2.3:1;tcp", 0, SYN, "is not a valid IPv4 address" },
  { "msrp://1.2.3.4.5:1;tcp", 0, SYN, "is not a valid IPv4 address" },
  { "msrp://1.2.3.4.:1;tcp", 0, SYN, "is not a valid IPv4 address" },
  { "msrp://1..3.4:1;tcp", 0, SYN, "is not a valid IPv4 address" },
  { "msrp://1234:1;tcp", 0, SYN, "is not a valid IPv4 address" },
  { "msrp://%31%32%33:1;tcp", 0, SYN,
    "host \"123\" at offset 7 is not a valid IPv4 address" },
  { "msrp://example.123:1;tcp", 0, SYN,
    "host \"example.123\" at offset 7 is neither an IPv4 address nor a host "
    "name (its last label is numeric)" },
  { "msrp://a.0x7f:1;tcp", 0, SYN, "its last label is numeric" },
  { "msrp://a.0X:1;tcp", 0, SYN, "its last label is numeric" },
  { "msrp://a.1.:1;tcp", 0, SYN, "its last label is numeric" },
  { "msrp://::1:80;tcp", 0, SYN,
    "host at offset 7 has more than one ':': an IPv6 address must be "
    "enclosed in '[' and ']'" },
  { "msrp://2001:db8::1;tcp", 0, SYN, "must be enclosed in '[' and ']'" },
  { "msrp://::ffff:1.2.3.4:9/s;tcp", 0, SYN,
    "must be enclosed in '[' and ']'" },
  /* IP-literal */
  { "msrp://[::1:80;tcp", 0, SYN,
    "IP-literal at offset 7 has no closing ']'" },
  { "msrp://[::1", 0, SYN, "IP-literal at offset 7 has no closing ']'" },
  { "msrp://[", 0, SYN, "IP-literal at offset 7 has no closing ']'" },
  { "msrp://[::1]x:80;tcp", 0, SYN,
    "bad character 'x' after the IP-literal at offset 12" },
  { "msrp://[::1][::2]:80;tcp", 0, SYN,
    "bad character '[' after the IP-literal at offset 12" },
  { "msrp://[::1::2]:80;tcp", 0, SYN,
    "\"::1::2\" at offset 8 is not a valid IPv6 address" },
  { "msrp://[]:80;tcp", 0, SYN, "\"\" at offset 8 is not a valid IPv6" },
  { "msrp://[1:2:3:4:5:6:7:8:9]:80;tcp", 0, SYN, "not a valid IPv6 address" },
  { "msrp://[1:2:3:4:5:6:7:8::]:80;tcp", 0, SYN, "not a valid IPv6 address" },
  { "msrp://[12345::]:80;tcp", 0, SYN, "not a valid IPv6 address" },
  { "msrp://[:1::]:80;tcp", 0, SYN, "not a valid IPv6 address" },
  { "msrp://[1::2:]:80;tcp", 0, SYN, "not a valid IPv6 address" },
  { "msrp://[1.2.3.4]:80;tcp", 0, SYN, "not a valid IPv6 address" },
  { "msrp://[::ffff:1.2.3.04]:80;tcp", 0, SYN, "not a valid IPv6 address" },
  { "msrp://[::ffff:1.2.3.256]:80;tcp", 0, SYN, "not a valid IPv6 address" },
  { "msrp://[fe80::1%25eth0]:80;tcp", 0, SYN,
    "bad character '%' in IPv6 address at offset 15" },
  { "msrp://[::g]:80;tcp", 0, SYN, "bad character 'g' in IPv6 address" },
  { "msrp://[v1.fe]:80;tcp", 0, SYN,
    "IPvFuture address literal at offset 8 is not supported" },
  { "msrp://[00000000000000000000000000000000000000000000:1]:80;tcp", 0, SYN,
    "IPv6 address at offset 8 is 46 characters, longer than any valid one" },
  /* an IP address needs a port (RFC 4975 section 6) */
  { "msrp://192.0.2.1/s;tcp", 0, SYN,
    "host 192.0.2.1 is an IP address but no port is given" },
  { "msrp://[::1]/s;tcp", 0, SYN,
    "host ::1 is an IP address but no port is given" },
  { "msrp://[::1];tcp", 0, SYN, "is an IP address but no port is given" },
  /* port */
  { "msrp://h:;tcp", 0, SYN, "port is empty (nothing after ':' at offset 8)" },
  { "msrp://h:/s;tcp", 0, SYN, "port is empty" },
  { "msrp://[::1]:;tcp", 0, SYN,
    "port is empty (nothing after ':' at offset 12)" },
  { "msrp://h:0;tcp", 0, SYN,
    "port \"0\" at offset 9 is out of range 1..65535" },
  { "msrp://h:00000;tcp", 0, SYN, "out of range 1..65535" },
  { "msrp://h:65536;tcp", 0, SYN,
    "port \"65536\" at offset 9 is out of range" },
  { "msrp://h:99999999999999999999999;tcp", 0, SYN, "out of range 1..65535" },
  { "msrp://h:8a;tcp", 0, SYN, "bad character 'a' in port at offset 10" },
  { "msrp://h:-1;tcp", 0, SYN, "bad character '-' in port at offset 9" },
  { "msrp://h:+1;tcp", 0, SYN, "bad character '+' in port at offset 9" },
  { "msrp://h: 80;tcp", 0, SYN, "bad character a space in port at offset 9" },
  { "msrp://h:80:90;tcp", 0, SYN, "bad character ':' in port at offset 11" },
  { "msrp://h<:0;tcp", 0, SYN, "bad character '<' in host" },
  /* transport */
  { "msrp://h:80", 0, SYN, "no \";\" transport after the authority" },
  { "msrp://h", 0, SYN, "no \";\" transport after the authority" },
  { "msrp://h:80/s", 0, SYN, "no \";\" transport after the session-id" },
  { "msrp://h:80/s;", 0, SYN, "transport is empty at offset 14" },
  { "msrp://h:80/s;;tcp", 0, SYN, "transport is empty at offset 14" },
  { "msrp://h:80/s;t-cp", 0, SYN,
    "bad character '-' in transport at offset 15" },
  { "msrp://h:80/s;tcp ", 0, SYN, "bad character a space in transport" },
  { "msrp://h:80/s;tcp\r\n", 0, SYN, "bad character byte 0x0D in transport" },
  { "msrp://h:80/s;tcp\0", 18, SYN,
    "bad character byte 0x00 in transport at offset 17" },
  { "msrps://R2;tcp.", 0, SYN, "bad character '.' in transport at offset 14" },
  { "msrp://h:80/s;t=cp", 0, SYN, "bad character '=' in transport" },
  /* URI-parameters */
  { "msrp://h:80/s;tcp;", 0, SYN,
    "URI-parameter 1 has an empty name at offset 18" },
  { "msrp://h:80/s;tcp;;a", 0, SYN, "URI-parameter 1 has an empty name" },
  { "msrp://h:80/s;tcp;a;", 0, SYN, "URI-parameter 2 has an empty name" },
  { "msrp://h:80/s;tcp;=b", 0, SYN, "URI-parameter 1 has an empty name" },
  { "msrp://h:80/s;tcp;a=", 0, SYN,
    "URI-parameter 1 has an empty value at offset 20" },
  { "msrp://h:80/s;tcp;a=b;c=", 0, SYN, "URI-parameter 2 has an empty value" },
  { "msrp://h:80/s;tcp;a=b=c", 0, SYN,
    "bad character '=' in the value of URI-parameter 1 at offset 21" },
  { "msrp://h:80/s;tcp;a:b", 0, SYN,
    "bad character ':' in the name of URI-parameter 1 at offset 19" },
  { "msrp://h:80/s;tcp;a\"b", 0, SYN, "bad character '\"' in the name" },
  { "msrp://h:80/s;tcp;a/b", 0, SYN, "bad character '/' in the name" },
  { "msrp://h:80;tcp;a@b", 0, SYN,
    "bad character '@' in the name of URI-parameter 1 at offset 17" },
  { "msrp://h:80;tcp;a=b,c", 0, SYN,
    "bad character ',' in the value of URI-parameter 1 at offset 19" },
  { "msrp://h:80;tcp;a=b.c d", 0, SYN,
    "bad character a space in the value of URI-parameter 1 at offset 21" },
  /* session-id */
  { "msrp://h:80/;tcp", 0, SYN, "session-id is empty at offset 12" },
  { "msrp://h:80/a b;tcp", 0, SYN,
    "bad character a space in session-id at offset 13" },
  { "msrp://h:80/a%20b;tcp", 0, SYN,
    "bad character '%' in session-id at offset 13" },
  { "msrp://h:80/a@b;tcp", 0, SYN,
    "bad character '@' in session-id at offset 13" },
  { "msrp://h:80/a:b;tcp", 0, SYN, "bad character ':' in session-id" },
  { "msrp://h:80/a!b;tcp", 0, SYN, "bad character '!' in session-id" },
  { "msrp://h:80/a?b;tcp", 0, SYN, "bad character '?' in session-id" },
  { "msrp://h:80/a#b;tcp", 0, SYN, "bad character '#' in session-id" },
  { "msrp://h:80/\xff;tcp", 0, SYN, "bad character byte 0xFF in session-id" },
  /* userinfo */
  { "msrp://alice:secret@h:1;tcp", 0, SYN,
    "userinfo holds a password (':' at offset 12), which RFC 4975 section 6 "
    "forbids" },
  { "msrp://:@h:1;tcp", 0, SYN, "userinfo holds a password" },
  { "msrp://a b@h:1;tcp", 0, SYN,
    "bad character a space in userinfo at offset 8" },
  { "msrp://a[b@h:1;tcp", 0, SYN,
    "bad character '[' in userinfo at offset 8" },
  { "msrp://a%zz@h:1;tcp", 0, SYN,
    "bad percent-encoding in userinfo at offset 8" },
  { "msrp://a%4@h:1;tcp", 0, SYN, "bad percent-encoding in userinfo" },
  /* errors come in the order the parts are written */
  { "msrp://a<b@h<:x;tcp", 0, SYN, "in userinfo at offset 8" },
  { "msrp://h<:x", 0, SYN, "bad character '<' in host" },
  { "msrp://h:x", 0, SYN, "bad character 'x' in port" },
  { "msrp://h:1/%", 0, SYN, "bad character '%' in session-id" },
  { "msrp://h:1/s;%;x", 0, SYN, "bad character '%' in transport" },
};

START_TEST (test_invalid)
{
  const InvalidCase *c = &invalid_cases[_i];
  size_t len = c->len != 0 ? c->len : strlen (c->text);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpUri) uri = parse_guarded (c->text, len, &error);

  ck_assert_msg (uri == NULL, "\"%s\" parsed as %s", c->text,
                 uri != NULL ? msrp_uri_to_string (uri) : "");
  ck_assert_ptr_nonnull (error);
  ck_assert_msg (g_error_matches (error, MSRP_URI_ERROR, (gint) c->code),
                 "\"%s\": wrong error %s %d: %s", c->text,
                 g_quark_to_string (error->domain), error->code,
                 error->message);
  ck_assert_msg (strstr (error->message, c->message) != NULL,
                 "\"%s\": message \"%s\" lacks \"%s\"", c->text,
                 error->message, c->message);
  check_message_printable (error->message);

  /* the same error with len -1 where the text has no NUL inside */
  if (c->len == 0)
    {
      g_autoptr (GError) error2 = NULL;
      g_autoptr (MsrpUri) uri2 = msrp_uri_parse (c->text, -1, &error2);

      ck_assert_ptr_null (uri2);
      ck_assert_ptr_nonnull (error2);
      ck_assert_str_eq (error2->message, error->message);
    }
}
END_TEST

/* ---- length limits ---- */

START_TEST (test_length_limit)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *max =
      make_uri ("msrp://h:1/", 'a', MSRP_URI_MAX_LEN, ";tcp");
  g_autofree char *over =
      make_uri ("msrp://h:1/", 'a', MSRP_URI_MAX_LEN + 1, ";tcp");
  g_autofree char *huge = make_uri ("msrp://h:1/", 'a', 100000, ";tcp");
  /* "::ffff:ffff" is written back as "::255.255.255.255", 6 bytes more */
  g_autofree char *grows =
      make_uri ("msrp://[::ffff:ffff]:1/", 'a', MSRP_URI_MAX_LEN, ";tcp");
  g_autofree char *fits =
      make_uri ("msrp://[::ffff:ffff]:1/", 'a', MSRP_URI_MAX_LEN - 6, ";tcp");
  MsrpUri *uri;

  uri = parse_guarded (max, strlen (max), &error);
  ck_assert_ptr_nonnull (uri);
  ck_assert_uint_eq (strlen (msrp_uri_to_string (uri)), MSRP_URI_MAX_LEN);
  msrp_uri_unref (uri);
  uri = msrp_uri_parse (max, -1, &error);
  ck_assert_ptr_nonnull (uri);
  msrp_uri_unref (uri);

  uri = parse_guarded (over, strlen (over), &error);
  ck_assert_ptr_null (uri);
  ck_assert (g_error_matches (error, MSRP_URI_ERROR, MSRP_URI_ERROR_TOO_LONG));
  ck_assert_str_eq (error->message,
                    "URI is longer than the 1024 bytes allowed");
  g_clear_error (&error);
  uri = msrp_uri_parse (over, -1, &error);
  ck_assert_ptr_null (uri);
  ck_assert (g_error_matches (error, MSRP_URI_ERROR, MSRP_URI_ERROR_TOO_LONG));
  g_clear_error (&error);
  uri = msrp_uri_parse (huge, -1, &error);
  ck_assert_ptr_null (uri);
  ck_assert (g_error_matches (error, MSRP_URI_ERROR, MSRP_URI_ERROR_TOO_LONG));
  g_clear_error (&error);

  uri = parse_guarded (grows, strlen (grows), &error);
  ck_assert_ptr_null (uri);
  ck_assert (g_error_matches (error, MSRP_URI_ERROR, MSRP_URI_ERROR_TOO_LONG));
  ck_assert_ptr_nonnull (strstr (error->message, "canonical form"));
  g_clear_error (&error);

  uri = parse_guarded (fits, strlen (fits), &error);
  ck_assert_ptr_nonnull (uri);
  ck_assert_uint_eq (strlen (msrp_uri_to_string (uri)), MSRP_URI_MAX_LEN);
  ck_assert_str_eq (msrp_uri_get_host (uri), "::255.255.255.255");
  msrp_uri_unref (uri);
}
END_TEST

/* ---- comparison (RFC 4975 section 6.1) ---- */

typedef struct
{
  const char *a;
  const char *b;
  gboolean equal;
} EqualCase;

static const EqualCase equal_cases[] = {
  /* rule 1: scheme, case-insensitive */
  { "MSRP://h:1/s;tcp", "msrp://h:1/s;tcp", TRUE },
  { "msrps://h:1/s;tcp", "MsRpS://h:1/s;tcp", TRUE },
  { "msrp://h:1/s;tcp", "msrps://h:1/s;tcp", FALSE },
  /* rule 2: host, case-insensitive, percent-encoding decoded; addresses by
   * value; userinfo not compared */
  { "msrp://Host.Example.com:1/s;tcp", "msrp://host.example.COM:1/s;tcp",
    TRUE },
  { "msrp://ex%61mple.com:1/s;tcp", "msrp://example.com:1/s;tcp", TRUE },
  { "msrp://ex%61mple.com:1/s;tcp", "msrp://EX%41MPLE.com:1/s;tcp", TRUE },
  { "msrp://a%2fb:1/s;tcp", "msrp://a%2Fb:1/s;tcp", TRUE },
  { "msrp://a%21b:1;tcp", "msrp://a!b:1;tcp", FALSE },
  { "msrp://h.example.com.:1;tcp", "msrp://h.example.com:1;tcp", FALSE },
  { "msrp://alice.example.com:1/s;tcp", "msrp://bob.example.com:1/s;tcp",
    FALSE },
  { "msrp://192.0.2.1:1/s;tcp", "msrp://192.0.2.1:1/s;tcp", TRUE },
  { "msrp://%31%39%32.0.2.1:1/s;tcp", "msrp://192.0.2.1:1/s;tcp", TRUE },
  { "msrp://192.0.2.1:1/s;tcp", "msrp://192.0.2.2:1/s;tcp", FALSE },
  { "msrp://[2001:db8::1]:1/s;tcp", "msrp://[2001:DB8:0:0:0:0:0:1]:1/s;tcp",
    TRUE },
  { "msrp://[2001:db8::1]:1/s;tcp",
    "msrp://[2001:0db8:0000:0000:0000:0000:0000:0001]:1/s;tcp", TRUE },
  { "msrp://[::ffff:192.0.2.1]:1/s;tcp", "msrp://[::ffff:c000:201]:1/s;tcp",
    TRUE },
  { "msrp://[::1]:1/s;tcp", "msrp://[::2]:1/s;tcp", FALSE },
  { "msrp://[::1]:1/s;tcp", "msrp://[::1:0]:1/s;tcp", FALSE },
  { "msrp://127.0.0.1:1/s;tcp", "msrp://localhost:1/s;tcp", FALSE },
  { "msrp://192.0.2.1:1/s;tcp", "msrp://[::ffff:192.0.2.1]:1/s;tcp", FALSE },
  { "msrp://alice@h:1/s;tcp", "msrp://h:1/s;tcp", TRUE },
  { "msrp://alice@h:1/s;tcp", "msrp://bob@h:1/s;tcp", TRUE },
  /* rule 3: an explicit port must match; never equal to an absent one */
  { "msrp://h:80/s;tcp", "msrp://h:0080/s;tcp", TRUE },
  { "msrp://h:1/s;tcp", "msrp://h:2/s;tcp", FALSE },
  { "msrp://h:2855/s;tcp", "msrp://h/s;tcp", FALSE },
  { "msrps://relay.example.com;tcp", "MSRPS://RELAY.example.com;TCP", TRUE },
  /* rule 4: session-id case-sensitive; absent never equals present */
  { "msrp://h:1/abc;tcp", "msrp://h:1/abc;tcp", TRUE },
  { "msrp://h:1/abc;tcp", "msrp://h:1/ABC;tcp", FALSE },
  { "msrp://h:1/abc;tcp", "msrp://h:1;tcp", FALSE },
  { "msrp://h:1/a/b;tcp", "msrp://h:1/a;tcp", FALSE },
  /* rule 5: transport, case-insensitive */
  { "msrp://h:1/s;tcp", "msrp://h:1/s;TCP", TRUE },
  { "msrp://h:1/s;tcp", "msrp://h:1/s;ws", FALSE },
  /* URI-parameters not compared */
  { "msrp://h:1/s;tcp;a=b", "msrp://h:1/s;tcp", TRUE },
  { "msrp://h:1/s;tcp;a=b", "msrp://h:1/s;tcp;a=c", TRUE },
  /* the RFC 4976 example pair: same relay, one URI lower-case */
  { "msrps://A.example.com/aaa;tcp", "msrps://a.example.com/aaa;tcp", TRUE },
};

START_TEST (test_equal)
{
  const EqualCase *c = &equal_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpUri) a = parse_guarded (c->a, strlen (c->a), &error);
  g_autoptr (MsrpUri) b = NULL;

  ck_assert_msg (a != NULL, "%s: %s", c->a, error ? error->message : "?");
  b = parse_guarded (c->b, strlen (c->b), &error);
  ck_assert_msg (b != NULL, "%s: %s", c->b, error ? error->message : "?");
  ck_assert_msg (msrp_uri_equal (a, b) == c->equal, "%s vs %s: expected %s",
                 c->a, c->b, c->equal ? "equal" : "different");
  ck_assert (msrp_uri_equal (b, a) == c->equal);
  ck_assert (msrp_uri_equal (a, a));
  ck_assert (msrp_uri_equal (b, b));
}
END_TEST

/* ---- URI-parameters ---- */

START_TEST (test_params)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpUri) uri = NULL;
  gboolean present = FALSE;
  const char *text = "msrp://h:1/s;tcp;foo=bar;Flag;FOO=baz";

  uri = parse_guarded (text, strlen (text), &error);
  ck_assert_ptr_nonnull (uri);
  ck_assert_uint_eq (msrp_uri_get_n_params (uri), 3);
  ck_assert_str_eq (msrp_uri_get_param (uri, "foo", &present), "bar");
  ck_assert (present);
  ck_assert_str_eq (msrp_uri_get_param (uri, "Foo", NULL), "bar");
  present = FALSE;
  ck_assert_ptr_null (msrp_uri_get_param (uri, "flag", &present));
  ck_assert (present);
  present = TRUE;
  ck_assert_ptr_null (msrp_uri_get_param (uri, "none", &present));
  ck_assert (!present);
  present = TRUE;
  ck_assert_ptr_null (msrp_uri_get_param (uri, "tcp", &present));
  ck_assert (!present);
  ck_assert_str_eq (msrp_uri_to_string (uri), text);
}
END_TEST

START_TEST (test_ref)
{
  g_autoptr (GError) error = NULL;
  MsrpUri *uri = msrp_uri_parse ("msrp://h:1/s;tcp", -1, &error);

  ck_assert_ptr_nonnull (uri);
  ck_assert_ptr_eq (msrp_uri_ref (uri), uri);
  msrp_uri_unref (uri);
  ck_assert_str_eq (msrp_uri_to_string (uri), "msrp://h:1/s;tcp");
  msrp_uri_unref (uri);
}
END_TEST

/* ---- msrp_uri_new ---- */

typedef struct
{
  MsrpScheme scheme;
  const char *userinfo;
  const char *host;
  guint16 port;
  const char *session_id;
  const char *transport;
  const char *result; /* canonical text, or a substring of the error */
  gboolean ok;
} NewCase;

static const NewCase new_cases[] = {
  { MSRPS, NULL, "relay.example.com", 2856, "abc", NULL,
    "msrps://relay.example.com:2856/abc;tcp", TRUE },
  { MSRP, NULL, "192.0.2.1", 2855, "x", "tcp", "msrp://192.0.2.1:2855/x;tcp",
    TRUE },
  { MSRP, NULL, "2001:DB8::1", 9000, NULL, "ws",
    "msrp://[2001:db8::1]:9000;ws", TRUE },
  { MSRP, "alice", "Host.Example", 0, "s", NULL,
    "msrp://alice@host.example/s;tcp", TRUE },
  { MSRPS, NULL, "::ffff:192.0.2.1", 1, NULL, "TCP",
    "msrps://[::ffff:192.0.2.1]:1;tcp", TRUE },
  { MSRP, "a;b", "h", 1, "x/y+z=", NULL, "msrp://a;b@h:1/x/y+z=;tcp", TRUE },
  { MSRP, "", "h", 1, NULL, NULL, "msrp://@h:1;tcp", TRUE },
  { MSRP, NULL, "ex%41mple.com", 1, NULL, NULL, "msrp://example.com:1;tcp",
    TRUE },
  { MSRP, NULL, "", 1, NULL, NULL, "host is empty", FALSE },
  { MSRP, NULL, "[::1]", 1, NULL, NULL, "host must be given without brackets",
    FALSE },
  { MSRP, NULL, "192.0.2.1", 0, NULL, NULL,
    "host 192.0.2.1 is an IP address but no port is given", FALSE },
  { MSRP, NULL, "::1", 0, NULL, NULL,
    "host ::1 is an IP address but no port is given", FALSE },
  { MSRP, NULL, "a;b", 1, NULL, NULL, "bad character ';' in host", FALSE },
  { MSRP, NULL, "a/b", 1, NULL, NULL, "bad character '/' in host", FALSE },
  { MSRP, NULL, "a b", 1, NULL, NULL, "bad character a space in host", FALSE },
  { MSRP, NULL, "a@b", 1, NULL, NULL, "bad character '@' in host", FALSE },
  { MSRP, NULL, "1.2.3.4:80", 1, NULL, NULL,
    "\"1.2.3.4:80\" is not a valid IPv6 address", FALSE },
  { MSRP, NULL, "999.1.1.1", 1, NULL, NULL, "is not a valid IPv4 address",
    FALSE },
  { MSRP, NULL, "h", 1, "", NULL, "session-id is empty", FALSE },
  { MSRP, NULL, "h", 1, "a;b", NULL, "bad character ';' in session-id",
    FALSE },
  { MSRP, NULL, "h", 1, NULL, "", "transport is empty", FALSE },
  { MSRP, NULL, "h", 1, NULL, "t;x", "bad character ';' in transport", FALSE },
  { MSRP, "a:b", "h", 1, NULL, NULL, "userinfo holds a password", FALSE },
  { MSRP, "a@b", "h", 1, NULL, NULL, "bad character '@' in userinfo", FALSE },
  { MSRP, "a/b", "h", 1, NULL, NULL, "bad character '/' in userinfo", FALSE },
};

START_TEST (test_new)
{
  const NewCase *c = &new_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpUri) uri =
      msrp_uri_new (c->scheme, c->userinfo, c->host, c->port, c->session_id,
                    c->transport, &error);

  if (c->ok)
    {
      g_autoptr (MsrpUri) again = NULL;

      ck_assert_msg (uri != NULL, "%s: %s", c->result,
                     error ? error->message : "?");
      ck_assert_str_eq (msrp_uri_to_string (uri), c->result);
      ck_assert_str_eq (msrp_uri_get_text (uri), c->result);
      ck_assert_int_eq (msrp_uri_get_scheme (uri), c->scheme);
      ck_assert_uint_eq (msrp_uri_get_port (uri), c->port);
      ck_assert_pstr_eq (msrp_uri_get_session_id (uri), c->session_id);
      again = parse_guarded (c->result, strlen (c->result), &error);
      ck_assert_ptr_nonnull (again);
      ck_assert (msrp_uri_equal (uri, again));
      ck_assert_str_eq (msrp_uri_to_string (again), c->result);
    }
  else
    {
      ck_assert_ptr_null (uri);
      ck_assert (
          g_error_matches (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX));
      ck_assert_msg (strstr (error->message, c->result) != NULL,
                     "message \"%s\" lacks \"%s\"", error->message, c->result);
      /* parts given alone have no offset to name */
      ck_assert_ptr_null (strstr (error->message, "offset"));
      check_message_printable (error->message);
    }
}
END_TEST

/* ---- lists ---- */

typedef struct
{
  const char *text;
  guint n;            /* 0: invalid */
  const char *result; /* canonical list, or a substring of the error */
} ListCase;

static const ListCase list_cases[] = {
  /* RFC 4976 section 6.1 example To-Path */
  { "msrps://a.example.org:9000/kjfjan;tcp "
    "msrps://b.example.net:9000/aeiug;tcp "
    "msrps://bob.example.net:8145/foo;tcp",
    3,
    "msrps://a.example.org:9000/kjfjan;tcp "
    "msrps://b.example.net:9000/aeiug;tcp "
    "msrps://bob.example.net:8145/foo;tcp" },
  { "msrps://intra.example.com:9000/jui787s2f;tcp "
    "msrps://extra.example.com;tcp",
    2,
    "msrps://intra.example.com:9000/jui787s2f;tcp "
    "msrps://extra.example.com;tcp" },
  { "msrps://B.example.com/bbb;tcp msrps://Bob.example.com/bob;tcp", 2,
    "msrps://b.example.com/bbb;tcp msrps://bob.example.com/bob;tcp" },
  { "msrp://alice.example.com:7394/2s93i93idj;tcp", 1,
    "msrp://alice.example.com:7394/2s93i93idj;tcp" },
  { "MSRP://[2001:DB8::1]:1/s;TCP msrp://192.0.2.1:2/t;tcp", 2,
    "msrp://[2001:db8::1]:1/s;tcp msrp://192.0.2.1:2/t;tcp" },
  /* errors */
  { "", 0, "URI list is empty" },
  { " msrp://h:1;tcp", 0,
    "URI 1 of the list: empty (the list starts with a space)" },
  { " ", 0, "URI 1 of the list: empty (the list starts with a space)" },
  { "msrp://h:1;tcp ", 0,
    "URI 2 of the list: empty (the list ends with a space)" },
  { "msrp://h:1;tcp  msrp://h:2;tcp", 0,
    "URI 2 of the list: empty (two spaces in a row at offset 14 of the "
    "list)" },
  { "msrp://h:1;tcp msrp://h:2;tcp  msrp://h:3;tcp", 0,
    "URI 3 of the list: empty (two spaces in a row at offset 29 of the "
    "list)" },
  { "msrp://h:1;tcp\tmsrp://h:2;tcp", 0,
    "URI 1 of the list: bad character byte 0x09 in transport at offset 14" },
  { "msrp://h:1;tcp,msrp://h:2;tcp", 0,
    "URI 1 of the list: bad character ',' in transport at offset 14" },
  { "msrp://h:1;tcp\r\nmsrp://h:2;tcp", 0,
    "URI 1 of the list: bad character byte 0x0D in transport" },
  { "msrp://h:1;tcp msrp://h:2", 0,
    "URI 2 of the list: no \";\" transport after the authority" },
  { "msrp://h:1;tcp msrp://1.2.3.4/s;tcp msrp://h:3;tcp", 0,
    "URI 2 of the list: host 1.2.3.4 is an IP address but no port is given" },
  { "msrp://h:1;tcp msrp://h:2;tcp http://h:3;tcp", 0,
    "URI 3 of the list: scheme \"http\" is neither msrp nor msrps" },
  { "msrp://h:1/;tcp", 0,
    "URI 1 of the list: session-id is empty at offset 11" },
};

START_TEST (test_list)
{
  const ListCase *c = &list_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) uris =
      list_parse_guarded (c->text, strlen (c->text), &error);

  if (c->n > 0)
    {
      g_autofree char *canonical = NULL;
      g_autofree char *text = NULL;
      g_autoptr (GPtrArray) again = NULL;

      ck_assert_msg (uris != NULL, "%s: %s", c->text,
                     error ? error->message : "?");
      ck_assert_uint_eq (uris->len, c->n);
      canonical = msrp_uri_list_to_string (uris);
      ck_assert_str_eq (canonical, c->result);
      text = msrp_uri_list_to_text (uris);
      ck_assert_str_eq (text, c->text);
      again = list_parse_guarded (canonical, strlen (canonical), &error);
      ck_assert_ptr_nonnull (again);
      ck_assert_uint_eq (again->len, uris->len);
      for (guint i = 0; i < uris->len; i++)
        ck_assert (msrp_uri_equal (g_ptr_array_index (uris, i),
                                   g_ptr_array_index (again, i)));
    }
  else
    {
      ck_assert_ptr_null (uris);
      ck_assert_ptr_nonnull (error);
      ck_assert (error->domain == MSRP_URI_ERROR);
      ck_assert_msg (strstr (error->message, c->result) != NULL,
                     "\"%s\": message \"%s\" lacks \"%s\"", c->text,
                     error->message, c->result);
      check_message_printable (error->message);
      /* the same with len -1 */
      {
        g_autoptr (GError) error2 = NULL;
        g_autoptr (GPtrArray) uris2 =
            msrp_uri_list_parse (c->text, -1, &error2);

        ck_assert_ptr_null (uris2);
        ck_assert_str_eq (error2->message, error->message);
      }
    }
}
END_TEST

/* Lists of 1..MSRP_URI_LIST_MAX URIs parse; one more is refused; a URI over
 * MSRP_URI_MAX_LEN inside a list is refused as too long. */
START_TEST (test_list_limits)
{
  g_autoptr (GString) s = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *longest =
      make_uri ("msrp://h:1/", 'b', MSRP_URI_MAX_LEN, ";tcp");
  g_autofree char *over =
      make_uri ("msrp://h:1/", 'b', MSRP_URI_MAX_LEN + 1, ";tcp");
  GPtrArray *uris;

  for (int i = 1; i <= MSRP_URI_LIST_MAX; i++)
    {
      if (i > 1)
        g_string_append_c (s, ' ');
      g_string_append (s, longest);
      uris = list_parse_guarded (s->str, s->len, &error);
      ck_assert_msg (uris != NULL, "%d URIs: %s", i,
                     error ? error->message : "?");
      ck_assert_uint_eq (uris->len, (guint) i);
      g_ptr_array_unref (uris);
    }
  uris = msrp_uri_list_parse (s->str, -1, &error);
  ck_assert_ptr_nonnull (uris);
  ck_assert_uint_eq (uris->len, MSRP_URI_LIST_MAX);
  g_ptr_array_unref (uris);

  g_string_append (s, " msrp://h:1;tcp");
  uris = list_parse_guarded (s->str, s->len, &error);
  ck_assert_ptr_null (uris);
  ck_assert (g_error_matches (error, MSRP_URI_ERROR, MSRP_URI_ERROR_TOO_LONG));
  ck_assert_str_eq (error->message, "URI list has more than 32 URIs");
  g_clear_error (&error);
  uris = msrp_uri_list_parse (s->str, -1, &error);
  ck_assert_ptr_null (uris);
  ck_assert_str_eq (error->message, "URI list has more than 32 URIs");
  g_clear_error (&error);

  /* a URI over the limit inside a list, and a list that never ends */
  g_string_assign (s, "msrp://h:1;tcp ");
  g_string_append (s, over);
  uris = list_parse_guarded (s->str, s->len, &error);
  ck_assert_ptr_null (uris);
  ck_assert (g_error_matches (error, MSRP_URI_ERROR, MSRP_URI_ERROR_TOO_LONG));
  ck_assert_str_eq (error->message,
                    "URI 2 of the list: URI is longer than the 1024 bytes "
                    "allowed");
  g_clear_error (&error);
  uris = msrp_uri_list_parse (s->str, -1, &error);
  ck_assert_ptr_null (uris);
  ck_assert (g_error_matches (error, MSRP_URI_ERROR, MSRP_URI_ERROR_TOO_LONG));
  g_clear_error (&error);

  for (int i = 0; i < 40000; i++)
    g_string_append (s, "x");
  uris = msrp_uri_list_parse (s->str, -1, &error);
  ck_assert_ptr_null (uris);
  ck_assert (g_error_matches (error, MSRP_URI_ERROR, MSRP_URI_ERROR_TOO_LONG));
}
END_TEST

/* Every prefix of a list against the guard page. */
START_TEST (test_list_prefixes)
{
  const char *text = list_cases[0].text;
  size_t len = strlen (text);

  for (size_t n = 0; n <= len; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) uris = list_parse_guarded (text, n, &error);

      ck_assert ((uris == NULL) != (error == NULL));
      if (error != NULL)
        check_message_printable (error->message);
    }
}
END_TEST

static Suite *
uri_suite (void)
{
  Suite *s = suite_create ("msrp-uri");
  TCase *tc;

  tc = tcase_create ("valid");
  tcase_add_loop_test (tc, test_valid, 0, N_ELEMENTS (valid_cases));
  tcase_add_loop_test (tc, test_valid_prefixes, 0, N_ELEMENTS (valid_cases));
  suite_add_tcase (s, tc);

  tc = tcase_create ("invalid");
  tcase_add_loop_test (tc, test_invalid, 0, N_ELEMENTS (invalid_cases));
  tcase_add_test (tc, test_length_limit);
  suite_add_tcase (s, tc);

  tc = tcase_create ("equal");
  tcase_add_loop_test (tc, test_equal, 0, N_ELEMENTS (equal_cases));
  suite_add_tcase (s, tc);

  tc = tcase_create ("accessors");
  tcase_add_test (tc, test_params);
  tcase_add_test (tc, test_ref);
  suite_add_tcase (s, tc);

  tc = tcase_create ("new");
  tcase_add_loop_test (tc, test_new, 0, N_ELEMENTS (new_cases));
  suite_add_tcase (s, tc);

  tc = tcase_create ("list");
  tcase_add_loop_test (tc, test_list, 0, N_ELEMENTS (list_cases));
  tcase_add_test (tc, test_list_limits);
  tcase_add_test (tc, test_list_prefixes);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (uri_suite ());
  int failed;

  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
