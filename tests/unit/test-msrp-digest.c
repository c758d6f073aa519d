/* test-msrp-digest.c: Check suite for msrp/msrp-digest (RFC 4976 section
 * 9.1, RFC 7616).  Every parsed input sits against a guard page. */
#include <check.h>
#include <string.h>

#include "guard.h"
#include "msrp-digest.h"

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

typedef struct
{
  const char *s;
  gsize len;
} Input;

/* A literal with its exact length (NUL bytes inside allowed). */
#define IN(x)                                                                 \
  {                                                                           \
    (x), sizeof (x) - 1                                                       \
  }

typedef enum
{
  WHICH_CHALLENGE,
  WHICH_CREDENTIALS,
  WHICH_INFO,
} Which;

/* Parse @len bytes of @s with the input placed against a guard page. */
static gpointer
parse_guarded (Which which, const char *s, gsize len, GError **error)
{
  GuardBuf buf;
  gpointer out = NULL;

  guard_buf_init (&buf, s, len);
  switch (which)
    {
    case WHICH_CHALLENGE:
      out = msrp_digest_challenge_parse ((const char *) buf.data, buf.len,
                                         error);
      break;
    case WHICH_CREDENTIALS:
      out = msrp_digest_credentials_parse ((const char *) buf.data, buf.len,
                                           error);
      break;
    case WHICH_INFO:
      out = msrp_digest_info_parse ((const char *) buf.data, buf.len, error);
      break;
    }
  guard_buf_clear (&buf);
  return out;
}

static MsrpDigestChallenge *
challenge_str (const char *s)
{
  g_autoptr (GError) error = NULL;
  MsrpDigestChallenge *c =
      parse_guarded (WHICH_CHALLENGE, s, strlen (s), &error);

  ck_assert_msg (c != NULL, "challenge '%s': %s", s,
                 error != NULL ? error->message : "?");
  return c;
}

static MsrpDigestCredentials *
credentials_str (const char *s)
{
  g_autoptr (GError) error = NULL;
  MsrpDigestCredentials *c =
      parse_guarded (WHICH_CREDENTIALS, s, strlen (s), &error);

  ck_assert_msg (c != NULL, "credentials '%s': %s", s,
                 error != NULL ? error->message : "?");
  return c;
}

static MsrpDigestInfo *
info_str (const char *s)
{
  g_autoptr (GError) error = NULL;
  MsrpDigestInfo *i = parse_guarded (WHICH_INFO, s, strlen (s), &error);

  ck_assert_msg (i != NULL, "info '%s': %s", s,
                 error != NULL ? error->message : "?");
  return i;
}

static void
assert_str_or_null (const char *got, const char *want, const char *what, int i)
{
  if (want == NULL)
    ck_assert_msg (got == NULL, "case %d: %s is '%s', want absent", i, what,
                   got);
  else
    ck_assert_msg (got != NULL && strcmp (got, want) == 0,
                   "case %d: %s is '%s', want '%s'", i, what,
                   got != NULL ? got : "(null)", want);
}

static void
assert_error (const GError *error, gint code, const char *substring, int i)
{
  ck_assert_msg (error != NULL, "case %d: no error, want '%s'", i, substring);
  ck_assert_msg (error->domain == MSRP_DIGEST_ERROR,
                 "case %d: error domain is not MSRP_DIGEST_ERROR", i);
  ck_assert_msg (error->code == code, "case %d: error code %d, want %d (%s)",
                 i, error->code, code, error->message);
  ck_assert_msg (strstr (error->message, substring) != NULL,
                 "case %d: error '%s' lacks '%s'", i, error->message,
                 substring);
}

/* @tmpl with every @key replaced by @value. */
static char *
subst (const char *tmpl, const char *key, const char *value)
{
  g_auto (GStrv) parts = g_strsplit (tmpl, key, -1);

  return g_strjoinv (value, parts);
}

/* Builders for inputs too long to write as literals. */
typedef char *(*BuildFunc) (void);

static char *
build_value_4097 (void)
{
  GString *s = g_string_new ("Digest realm=\"r\", nonce=\"n\", qop=\"auth\"");

  while (s->len < 4097)
    g_string_append (s, ", x=\"y\"");
  g_string_truncate (s, 4097);
  return g_string_free (s, FALSE);
}

/* Exactly 4096 bytes, every parameter within bounds: must parse. */
static char *
build_value_4096 (void)
{
  GString *s = g_string_new ("Digest realm=\"r\", nonce=\"n\", qop=\"auth\"");
  int k = 0;

  while (s->len + 1000 < 4096)
    g_string_append_printf (s, ", p%d=\"%0990d\"", k++, 0);
  g_string_append (s, ", z=\"");
  while (s->len < 4095)
    g_string_append_c (s, 'z');
  g_string_append_c (s, '"');
  ck_assert_uint_eq (s->len, 4096);
  return g_string_free (s, FALSE);
}

static char *
build_realm (gsize n)
{
  GString *s = g_string_new ("Digest nonce=\"n\", qop=\"auth\", realm=\"");

  for (gsize i = 0; i < n; i++)
    g_string_append_c (s, 'a' + (char) (i % 26));
  g_string_append_c (s, '"');
  return g_string_free (s, FALSE);
}

static char *
build_realm_1024 (void)
{
  return build_realm (1024);
}

static char *
build_realm_1025 (void)
{
  return build_realm (1025);
}

static char *
build_token_1025 (void)
{
  GString *s = g_string_new ("Digest realm=\"r\", nonce=\"n\", qop=\"auth\", "
                             "x=");

  for (int i = 0; i < 1025; i++)
    g_string_append_c (s, 't');
  return g_string_free (s, FALSE);
}

static char *
build_params (int n)
{
  GString *s = g_string_new ("Digest realm=\"r\", nonce=\"n\", qop=\"auth\"");

  for (int i = 3; i < n; i++)
    g_string_append_printf (s, ", x%d=%d", i, i);
  return g_string_free (s, FALSE);
}

static char *
build_params_32 (void)
{
  return build_params (32);
}

static char *
build_params_33 (void)
{
  return build_params (33);
}

/* ---------------------------------------------------------------------------
 * WWW-Authenticate parsing
 * ------------------------------------------------------------------------- */

typedef struct
{
  Input in;
  BuildFunc build;   /* instead of @in when set */
  const char *error; /* NULL: parses */
  gint code;
  const char *realm;
  const char *nonce;
  const char *opaque;
  MsrpDigestAlgorithm algorithm;
  const char *algorithm_name;
  gboolean stale;
  gboolean offers_auth;
  gboolean userhash;
} ChallengeCase;

#define NONCE_7616 "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define OPAQUE_7616 "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
#define CNONCE_7616 "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define REALM_7616 "http-auth@example.org"

#define MD5 MSRP_DIGEST_ALGORITHM_MD5
#define SHA256 MSRP_DIGEST_ALGORITHM_SHA256
#define UNKNOWN MSRP_DIGEST_ALGORITHM_UNKNOWN

#define E_SYNTAX MSRP_DIGEST_ERROR_SYNTAX
#define E_LONG MSRP_DIGEST_ERROR_TOO_LONG
#define E_DUP MSRP_DIGEST_ERROR_DUPLICATE
#define E_MISSING MSRP_DIGEST_ERROR_MISSING
#define E_INVALID MSRP_DIGEST_ERROR_INVALID
#define E_UNSUPPORTED MSRP_DIGEST_ERROR_UNSUPPORTED

static const ChallengeCase challenge_cases[] = {
  /* RFC 4976 section 5.1, the 401 from intra.example.com (one line). */
  { IN ("Digest realm=\"intra.example.com\", qop=\"auth\", "
        "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\""),
    NULL, NULL, 0, "intra.example.com", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    NULL, MD5, NULL, FALSE, TRUE, FALSE },
  /* RFC 7616 section 3.9.1, both challenges. */
  { IN ("Digest realm=\"" REALM_7616 "\", qop=\"auth, auth-int\", "
        "algorithm=SHA-256, nonce=\"" NONCE_7616 "\", "
        "opaque=\"" OPAQUE_7616 "\""),
    NULL, NULL, 0, REALM_7616, NONCE_7616, OPAQUE_7616, SHA256, "SHA-256",
    FALSE, TRUE, FALSE },
  { IN ("Digest realm=\"" REALM_7616 "\", qop=\"auth, auth-int\", "
        "algorithm=MD5, nonce=\"" NONCE_7616 "\", "
        "opaque=\"" OPAQUE_7616 "\""),
    NULL, NULL, 0, REALM_7616, NONCE_7616, OPAQUE_7616, MD5, "MD5", FALSE,
    TRUE, FALSE },
  /* Scheme, names and algorithm case-insensitive; stale=TRUE. */
  { IN ("digest REALM=\"r\", Nonce=\"n\", QOP=\"auth\", Algorithm=sha-256, "
        "STALE=TRUE"),
    NULL, NULL, 0, "r", "n", NULL, SHA256, "sha-256", TRUE, TRUE, FALSE },
  /* Anything but true is not stale (RFC 7616 section 3.3). */
  { IN ("Digest realm=\"r\", nonce=\"n\", qop=\"auth\", stale=false"), NULL,
    NULL, 0, "r", "n", NULL, MD5, NULL, FALSE, TRUE, FALSE },
  { IN ("Digest realm=\"r\", nonce=\"n\", qop=\"auth\", stale=maybe"), NULL,
    NULL, 0, "r", "n", NULL, MD5, NULL, FALSE, TRUE, FALSE },
  /* quoted-pair unescaped. */
  { IN ("Digest realm=\"a\\\"b\\\\c\\d\", nonce=\"n\", qop=\"auth\""), NULL,
    NULL, 0, "a\"b\\cd", "n", NULL, MD5, NULL, FALSE, TRUE, FALSE },
  /* Unknown parameters and domain ignored; a comma inside quotes. */
  { IN ("Digest realm=\"r\", foo=bar, baz=\"x, y=z\", nonce=\"n\", "
        "domain=\"/a /b\", qop=\"auth\""),
    NULL, NULL, 0, "r", "n", NULL, MD5, NULL, FALSE, TRUE, FALSE },
  /* BWS around '=', OWS and tabs around commas, leading OWS. */
  { IN (" Digest\trealm = \"r\" ,nonce=\t\"n\"\t,  qop=\"auth\"  "), NULL,
    NULL, 0, "r", "n", NULL, MD5, NULL, FALSE, TRUE, FALSE },
  /* Empty list elements (RFC 7230 section 7). */
  { IN ("Digest , realm=\"r\",, nonce=\"n\", qop=\"auth\","), NULL, NULL, 0,
    "r", "n", NULL, MD5, NULL, FALSE, TRUE, FALSE },
  /* Token forms for quoted values, quoted forms for tokens. */
  { IN ("Digest realm=r, nonce=n, qop=auth, algorithm=\"MD5\", "
        "opaque=o"),
    NULL, NULL, 0, "r", "n", "o", MD5, "MD5", FALSE, TRUE, FALSE },
  /* Unknown algorithm: parses, not usable. */
  { IN ("Digest realm=\"r\", nonce=\"n\", qop=\"auth\", "
        "algorithm=SHA-512-256"),
    NULL, NULL, 0, "r", "n", NULL, UNKNOWN, "SHA-512-256", FALSE, TRUE,
    FALSE },
  { IN ("Digest realm=\"r\", nonce=\"n\", qop=\"auth\", algorithm=MD5-sess"),
    NULL, NULL, 0, "r", "n", NULL, UNKNOWN, "MD5-sess", FALSE, TRUE, FALSE },
  /* auth-int only: parses, no auth offered. */
  { IN ("Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\""), NULL, NULL, 0,
    "r", "n", NULL, MD5, NULL, FALSE, FALSE, FALSE },
  { IN ("Digest realm=\"r\", nonce=\"n\", qop=\" auth-int ,AUTH \""), NULL,
    NULL, 0, "r", "n", NULL, MD5, NULL, FALSE, TRUE, FALSE },
  /* userhash and charset (RFC 7616 section 3.9.2). */
  { IN ("Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-256, "
        "nonce=\"n\", charset=UTF-8, userhash=true"),
    NULL, NULL, 0, "api@example.org", "n", NULL, SHA256, "SHA-256", FALSE,
    TRUE, TRUE },
  /* UTF-8 (obs-text) in a quoted-string; empty realm allowed. */
  { IN ("Digest realm=\"r\xc3\xa9\", nonce=\"n\", qop=\"auth\""), NULL, NULL,
    0, "r\xc3\xa9", "n", NULL, MD5, NULL, FALSE, TRUE, FALSE },
  { IN ("Digest realm=\"\", nonce=\"n\", qop=\"auth\""), NULL, NULL, 0, "",
    "n", NULL, MD5, NULL, FALSE, TRUE, FALSE },
  /* Bounds that hold. */
  { { NULL, 0 },
    build_value_4096,
    NULL,
    0,
    "r",
    "n",
    NULL,
    MD5,
    NULL,
    FALSE,
    TRUE,
    FALSE },
  { { NULL, 0 },
    build_params_32,
    NULL,
    0,
    "r",
    "n",
    NULL,
    MD5,
    NULL,
    FALSE,
    TRUE,
    FALSE },

  /* Errors. */
  { IN (""), NULL,
    "WWW-Authenticate: value does not start with an "
    "auth-scheme",
    E_SYNTAX },
  { IN ("   "), NULL, "does not start with an auth-scheme", E_SYNTAX },
  { IN ("Basic realm=\"r\""), NULL,
    "WWW-Authenticate: scheme 'Basic' is not Digest", E_UNSUPPORTED },
  { IN ("Digestrealm=\"r\""), NULL, "scheme 'Digestrealm' is not Digest",
    E_UNSUPPORTED },
  { IN ("Digest"), NULL, "WWW-Authenticate: no parameters", E_MISSING },
  { IN ("Digest  , ,"), NULL, "WWW-Authenticate: no parameters", E_MISSING },
  { IN ("Digest=realm"), NULL, "expected a space after 'Digest'", E_SYNTAX },
  { IN ("Digest realm=\"r\", qop=\"auth\""), NULL,
    "WWW-Authenticate: parameter 'nonce' is missing", E_MISSING },
  { IN ("Digest nonce=\"n\", qop=\"auth\""), NULL,
    "WWW-Authenticate: parameter 'realm' is missing", E_MISSING },
  { IN ("Digest realm=\"r\", nonce=\"n\""), NULL,
    "WWW-Authenticate: parameter 'qop' is missing", E_MISSING },
  { IN ("Digest realm=\"a\", nonce=\"n\", REALM=\"b\", qop=\"auth\""), NULL,
    "WWW-Authenticate: parameter 'REALM' appears twice", E_DUP },
  { IN ("Digest realm=\"a\", nonce=\"n\", qop=\"auth\", foo=1, Foo=2"), NULL,
    "parameter 'Foo' appears twice", E_DUP },
  { IN ("Digest realm=\"abc, nonce=\"n\""), NULL,
    "expected ',' after parameter 'realm' at offset 26", E_SYNTAX },
  { IN ("Digest nonce=\"n\", realm=\"abc"), NULL,
    "WWW-Authenticate: parameter 'realm' has an unterminated quoted-string",
    E_SYNTAX },
  { IN ("Digest nonce=\"n\", realm=\"abc\\"), NULL,
    "parameter 'realm' ends in a lone '\\'", E_SYNTAX },
  { IN ("Digest realm=\"a\x01z\", nonce=\"n\", qop=\"auth\""), NULL,
    "parameter 'realm' has a control character at offset 15", E_SYNTAX },
  { IN ("Digest realm=\"a\0z\", nonce=\"n\", qop=\"auth\""), NULL,
    "parameter 'realm' has a control character", E_SYNTAX },
  { IN ("Digest realm=\"a\\\nz\", nonce=\"n\", qop=\"auth\""), NULL,
    "parameter 'realm' escapes a control character", E_SYNTAX },
  { IN ("Digest realm=\"a\r\nz\", nonce=\"n\", qop=\"auth\""), NULL,
    "control character", E_SYNTAX },
  { IN ("Digest realm \"r\", nonce=\"n\", qop=\"auth\""), NULL,
    "WWW-Authenticate: expected '=' after parameter 'realm'", E_SYNTAX },
  { IN ("Digest realm"), NULL, "expected '=' after parameter 'realm'",
    E_SYNTAX },
  { IN ("Digest realm=, nonce=\"n\", qop=\"auth\""), NULL,
    "WWW-Authenticate: parameter 'realm' has no value", E_SYNTAX },
  { IN ("Digest nonce=\"n\", qop=\"auth\", realm="), NULL,
    "parameter 'realm' has no value", E_SYNTAX },
  { IN ("Digest realm=\"r\" nonce=\"n\", qop=\"auth\""), NULL,
    "WWW-Authenticate: expected ',' after parameter 'realm' at offset 17",
    E_SYNTAX },
  { IN ("Digest realm=r\"x\", nonce=\"n\", qop=\"auth\""), NULL,
    "expected ',' after parameter 'realm'", E_SYNTAX },
  { IN ("Digest realm=\"r\"; nonce=\"n\""), NULL,
    "expected ',' after parameter 'realm'", E_SYNTAX },
  { IN ("Digest =\"r\", nonce=\"n\", qop=\"auth\""), NULL,
    "WWW-Authenticate: expected a parameter name at offset 7", E_SYNTAX },
  { IN ("Digest realm=\"r\", nonce=\"\", qop=\"auth\""), NULL,
    "WWW-Authenticate: parameter 'nonce' is empty", E_INVALID },
  { IN ("Digest realm=\"r\", nonce=\"n\", qop=\"\""), NULL,
    "WWW-Authenticate: parameter 'qop' is not a list of tokens", E_INVALID },
  { IN ("Digest realm=\"r\", nonce=\"n\", qop=\"auth;x\""), NULL,
    "parameter 'qop' is not a list of tokens", E_INVALID },
  { IN ("Digest realm=\"r\", nonce=\"n\", qop=\"auth auth-int\""), NULL,
    "parameter 'qop' is not a list of tokens", E_INVALID },
  { IN ("Digest realm=\"r\", nonce=\"n\", qop=\"auth\", userhash=maybe"), NULL,
    "WWW-Authenticate: parameter 'userhash' is not true or false", E_INVALID },
  { IN ("Digest realm=\"r\", nonce=\"n\", qop=\"auth\", charset=latin1"), NULL,
    "WWW-Authenticate: parameter 'charset' is not UTF-8", E_INVALID },
  { IN ("Digest realm=\"r\", nonce=\"n\", qop=\"auth\", algorithm=\"\""), NULL,
    "parameter 'algorithm' is empty", E_INVALID },
  { IN ("Digest realm=\"\xff\", nonce=\"n\", qop=\"auth\""), NULL,
    "WWW-Authenticate: parameter 'realm' is not valid UTF-8", E_INVALID },
  { IN ("Digest realm=\"r\", nonce=\"n\", qop=\"auth\", Basic realm=\"x\""),
    NULL, "expected '=' after parameter 'Basic'", E_SYNTAX },
  { { NULL, 0 },
    build_value_4097,
    "WWW-Authenticate: value is longer than "
    "4096 bytes",
    E_LONG },
  { { NULL, 0 },
    build_realm_1024,
    NULL,
    0,
    NULL,
    "n",
    NULL,
    MD5,
    NULL,
    FALSE,
    TRUE,
    FALSE },
  { { NULL, 0 },
    build_realm_1025,
    "WWW-Authenticate: parameter 'realm' is "
    "longer than 1024 bytes",
    E_LONG },
  { { NULL, 0 },
    build_token_1025,
    "parameter 'x' is longer than 1024 bytes",
    E_LONG },
  { { NULL, 0 },
    build_params_33,
    "WWW-Authenticate: more than 32 "
    "parameters",
    E_LONG },
};

START_TEST (test_challenge_parse)
{
  const ChallengeCase *tc = &challenge_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpDigestChallenge) c = NULL;
  g_autofree char *built = NULL;
  const char *s = tc->in.s;
  gsize len = tc->in.len;

  if (tc->build != NULL)
    {
      built = tc->build ();
      s = built;
      len = strlen (built);
    }
  c = parse_guarded (WHICH_CHALLENGE, s, len, &error);
  if (tc->error != NULL)
    {
      ck_assert_msg (c == NULL, "case %d: parsed, want error '%s'", _i,
                     tc->error);
      assert_error (error, tc->code, tc->error, _i);
      return;
    }
  ck_assert_msg (c != NULL, "case %d: %s", _i, error->message);
  if (tc->realm != NULL)
    assert_str_or_null (msrp_digest_challenge_get_realm (c), tc->realm,
                        "realm", _i);
  assert_str_or_null (msrp_digest_challenge_get_nonce (c), tc->nonce, "nonce",
                      _i);
  assert_str_or_null (msrp_digest_challenge_get_opaque (c), tc->opaque,
                      "opaque", _i);
  assert_str_or_null (msrp_digest_challenge_get_algorithm_name (c),
                      tc->algorithm_name, "algorithm name", _i);
  ck_assert_int_eq (msrp_digest_challenge_get_algorithm (c), tc->algorithm);
  ck_assert_int_eq (msrp_digest_challenge_get_stale (c), tc->stale);
  ck_assert_int_eq (msrp_digest_challenge_offers_auth (c), tc->offers_auth);
  ck_assert_int_eq (msrp_digest_challenge_get_userhash (c), tc->userhash);
  ck_assert_int_eq (msrp_digest_challenge_is_usable (c),
                    tc->offers_auth && tc->algorithm != UNKNOWN);

  /* Written back, it parses to the same values. */
  {
    g_autofree char *text = msrp_digest_challenge_to_string (c);
    g_autoptr (MsrpDigestChallenge) again = challenge_str (text);

    ck_assert_str_eq (msrp_digest_challenge_get_realm (again),
                      msrp_digest_challenge_get_realm (c));
    ck_assert_str_eq (msrp_digest_challenge_get_nonce (again),
                      msrp_digest_challenge_get_nonce (c));
    assert_str_or_null (msrp_digest_challenge_get_opaque (again), tc->opaque,
                        "opaque again", _i);
    ck_assert_int_eq (msrp_digest_challenge_get_algorithm (again),
                      tc->algorithm);
    ck_assert_int_eq (msrp_digest_challenge_get_stale (again), tc->stale);
    ck_assert_int_eq (msrp_digest_challenge_offers_auth (again),
                      tc->offers_auth);
    ck_assert_int_eq (msrp_digest_challenge_get_userhash (again),
                      tc->userhash);
  }
}
END_TEST

/* ---------------------------------------------------------------------------
 * Authorization parsing
 * ------------------------------------------------------------------------- */

typedef struct
{
  Input in;
  const char *error;
  gint code;
  const char *username;
  const char *realm;
  const char *nonce;
  const char *uri;
  const char *response;
  MsrpDigestAlgorithm algorithm;
  const char *cnonce;
  const char *opaque;
  const char *qop;
  guint32 nc;
  gboolean userhash;
} CredentialsCase;

#define CREDS_OK(rest)                                                        \
  "Digest username=\"u\", realm=\"r\", nonce=\"n\", qop=auth, "               \
  "cnonce=\"c\"" rest

static const CredentialsCase credentials_cases[] = {
  /* RFC 4976 section 5.1, Alice's first AUTH with credentials (one line):
   * no uri parameter. */
  { IN ("Digest username=\"Alice\", realm=\"intra.example.com\", "
        "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", qop=auth, "
        "nc=00000001, cnonce=\"0a4f113b\", "
        "response=\"6629fae49393a05397450978507c4ef1\""),
    NULL, 0, "Alice", "intra.example.com",
    "dcd98b7102dd2f0e8b11d0f600bfb0c093", NULL,
    "6629fae49393a05397450978507c4ef1", MD5, "0a4f113b", NULL, "auth", 1,
    FALSE },
  /* RFC 7616 section 3.9.1, MD5 and SHA-256. */
  { IN ("Digest username=\"Mufasa\", realm=\"" REALM_7616 "\", "
        "uri=\"/dir/index.html\", algorithm=MD5, nonce=\"" NONCE_7616 "\", "
        "nc=00000001, cnonce=\"" CNONCE_7616 "\", qop=auth, "
        "response=\"8ca523f5e9506fed4657c9700eebdbec\", "
        "opaque=\"" OPAQUE_7616 "\""),
    NULL, 0, "Mufasa", REALM_7616, NONCE_7616, "/dir/index.html",
    "8ca523f5e9506fed4657c9700eebdbec", MD5, CNONCE_7616, OPAQUE_7616, "auth",
    1, FALSE },
  { IN ("Digest username=\"Mufasa\", realm=\"" REALM_7616 "\", "
        "uri=\"/dir/index.html\", algorithm=SHA-256, "
        "nonce=\"" NONCE_7616 "\", nc=00000001, cnonce=\"" CNONCE_7616 "\", "
        "qop=auth, response=\"753927fa0e85d155564e2e272a28d1802ca10daf449"
        "6794697cf8db5856cb6c1\", opaque=\"" OPAQUE_7616 "\""),
    NULL, 0, "Mufasa", REALM_7616, NONCE_7616, "/dir/index.html",
    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", SHA256,
    CNONCE_7616, OPAQUE_7616, "auth", 1, FALSE },
  /* Upper-case hex is lower-cased; nc in capitals kept as a number. */
  { IN (CREDS_OK (", nc=0000000A, response=\"ABCDEF01\"")), NULL, 0, "u", "r",
    "n", NULL, "abcdef01", MD5, "c", NULL, "auth", 10, FALSE },
  /* Quoted nc accepted; large nc. */
  { IN (CREDS_OK (", nc=\"ffffffff\", response=\"00\"")), NULL, 0, "u", "r",
    "n", NULL, "00", MD5, "c", NULL, "auth", 0xffffffffu, FALSE },
  /* username* of RFC 7616 section 3.9.2, decoded. */
  { IN ("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=\"r\", "
        "nonce=\"n\", qop=auth, nc=00000001, cnonce=\"c\", response=\"aa\""),
    NULL, 0, "J\xc3\xa4s\xc3\xb8n Doe", "r", "n", NULL, "aa", MD5, "c", NULL,
    "auth", 1, FALSE },
  { IN ("Digest username*=utf-8'en'abc, realm=\"r\", nonce=\"n\", qop=auth, "
        "nc=00000001, cnonce=\"c\", response=\"aa\""),
    NULL, 0, "abc", "r", "n", NULL, "aa", MD5, "c", NULL, "auth", 1, FALSE },
  /* userhash, unknown algorithm, unknown parameters. */
  { IN (CREDS_OK (", nc=00000002, response=\"aa\", userhash=true, "
                  "algorithm=SHA-512-256, x-extra=\"1\"")),
    NULL, 0, "u", "r", "n", NULL, "aa", UNKNOWN, "c", NULL, "auth", 2, TRUE },
  /* qop other than auth parses (verify refuses it). */
  { IN ("Digest username=\"u\", realm=\"r\", nonce=\"n\", qop=auth-int, "
        "cnonce=\"c\", nc=00000001, response=\"aa\""),
    NULL, 0, "u", "r", "n", NULL, "aa", MD5, "c", NULL, "auth-int", 1, FALSE },

  /* Errors. */
  { IN (CREDS_OK (", nc=1, response=\"aa\"")),
    "Authorization: parameter 'nc' is not 8 hex digits", E_INVALID },
  { IN (CREDS_OK (", nc=0000000g, response=\"aa\"")),
    "Authorization: parameter 'nc' is not 8 hex digits", E_INVALID },
  { IN (CREDS_OK (", nc=000000001, response=\"aa\"")),
    "parameter 'nc' is not 8 hex digits", E_INVALID },
  { IN (CREDS_OK (", nc=\" 0000001\", response=\"aa\"")),
    "parameter 'nc' is not 8 hex digits", E_INVALID },
  { IN (CREDS_OK (", nc=00000001, response=\"xyz\"")),
    "Authorization: parameter 'response' is not a hex digest", E_INVALID },
  { IN (CREDS_OK (", nc=00000001, response=\"\"")),
    "parameter 'response' is not a hex digest", E_INVALID },
  { IN (CREDS_OK (", nc=00000001")),
    "Authorization: parameter 'response' is missing", E_MISSING },
  { IN (CREDS_OK (", response=\"aa\"")),
    "Authorization: parameter 'nc' is missing", E_MISSING },
  { IN ("Digest username=\"u\", realm=\"r\", nonce=\"n\", qop=auth, "
        "nc=00000001, response=\"aa\""),
    "Authorization: parameter 'cnonce' is missing", E_MISSING },
  { IN ("Digest username=\"u\", realm=\"r\", nonce=\"n\", cnonce=\"c\", "
        "nc=00000001, response=\"aa\""),
    "Authorization: parameter 'qop' is missing", E_MISSING },
  { IN ("Digest username=\"u\", nonce=\"n\", qop=auth, cnonce=\"c\", "
        "nc=00000001, response=\"aa\""),
    "Authorization: parameter 'realm' is missing", E_MISSING },
  { IN ("Digest username=\"u\", realm=\"r\", qop=auth, cnonce=\"c\", "
        "nc=00000001, response=\"aa\""),
    "Authorization: parameter 'nonce' is missing", E_MISSING },
  { IN ("Digest realm=\"r\", nonce=\"n\", qop=auth, cnonce=\"c\", "
        "nc=00000001, response=\"aa\""),
    "Authorization: parameter 'username' is missing", E_MISSING },
  { IN (CREDS_OK (", nc=00000001, response=\"aa\", username*=UTF-8''u")),
    "Authorization: parameters 'username' and 'username*' are both present",
    E_DUP },
  { IN ("Digest username*=ISO-8859-1''caf%E9, realm=\"r\", nonce=\"n\", "
        "qop=auth, nc=00000001, cnonce=\"c\", response=\"aa\""),
    "Authorization: parameter 'username*' is not in UTF-8", E_INVALID },
  { IN ("Digest username*=UTF-8''a%0Ab, realm=\"r\", nonce=\"n\", "
        "qop=auth, nc=00000001, cnonce=\"c\", response=\"aa\""),
    "parameter 'username*' is not a non-empty percent-encoded UTF-8 name",
    E_INVALID },
  { IN ("Digest username*=UTF-8''%C3, realm=\"r\", nonce=\"n\", "
        "qop=auth, nc=00000001, cnonce=\"c\", response=\"aa\""),
    "parameter 'username*' is not a non-empty", E_INVALID },
  { IN ("Digest username*=UTF-8''%4, realm=\"r\", nonce=\"n\", "
        "qop=auth, nc=00000001, cnonce=\"c\", response=\"aa\""),
    "parameter 'username*' is not a non-empty", E_INVALID },
  { IN ("Digest username*=UTF-8'', realm=\"r\", nonce=\"n\", "
        "qop=auth, nc=00000001, cnonce=\"c\", response=\"aa\""),
    "parameter 'username*' is not a non-empty", E_INVALID },
  { IN ("Digest username*=\"UTF-8''a b\", realm=\"r\", nonce=\"n\", "
        "qop=auth, nc=00000001, cnonce=\"c\", response=\"aa\""),
    "parameter 'username*' is not a non-empty", E_INVALID },
  { IN ("Digest username*=Jason, realm=\"r\", nonce=\"n\", "
        "qop=auth, nc=00000001, cnonce=\"c\", response=\"aa\""),
    "Authorization: parameter 'username*' is not charset'language'value",
    E_INVALID },
  { IN ("Digest username=\"u\", realm=\"r\", nonce=\"n\", qop=\"auth x\", "
        "cnonce=\"c\", nc=00000001, response=\"aa\""),
    "Authorization: parameter 'qop' is not a single token", E_INVALID },
  { IN (CREDS_OK (", nc=00000001, response=\"aa\", userhash=yes")),
    "Authorization: parameter 'userhash' is not true or false", E_INVALID },
  { IN ("Digest username=\"u\", realm=\"r\", nonce=\"n\", qop=auth, "
        "cnonce=\"\", nc=00000001, response=\"aa\""),
    "Authorization: parameter 'cnonce' is empty", E_INVALID },
  { IN ("Digest username=\"\", realm=\"r\", nonce=\"n\", qop=auth, "
        "cnonce=\"c\", nc=00000001, response=\"aa\""),
    "Authorization: parameter 'username' is empty", E_INVALID },
  { IN (CREDS_OK (", nc=00000001, NC=00000002, response=\"aa\"")),
    "Authorization: parameter 'NC' appears twice", E_DUP },
  { IN ("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
    "Authorization: scheme 'Basic' is not Digest", E_UNSUPPORTED },
  { IN ("Digest username=\"u\", realm=\"r\" response=\"aa\""),
    "Authorization: expected ',' after parameter 'realm'", E_SYNTAX },
};

START_TEST (test_credentials_parse)
{
  const CredentialsCase *tc = &credentials_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpDigestCredentials) c =
      parse_guarded (WHICH_CREDENTIALS, tc->in.s, tc->in.len, &error);

  if (tc->error != NULL)
    {
      ck_assert_msg (c == NULL, "case %d: parsed, want error '%s'", _i,
                     tc->error);
      assert_error (error, tc->code, tc->error, _i);
      return;
    }
  ck_assert_msg (c != NULL, "case %d: %s", _i, error->message);
  assert_str_or_null (msrp_digest_credentials_get_username (c), tc->username,
                      "username", _i);
  assert_str_or_null (msrp_digest_credentials_get_realm (c), tc->realm,
                      "realm", _i);
  assert_str_or_null (msrp_digest_credentials_get_nonce (c), tc->nonce,
                      "nonce", _i);
  assert_str_or_null (msrp_digest_credentials_get_uri (c), tc->uri, "uri", _i);
  assert_str_or_null (msrp_digest_credentials_get_response (c), tc->response,
                      "response", _i);
  ck_assert_int_eq (msrp_digest_credentials_get_algorithm (c), tc->algorithm);
  assert_str_or_null (msrp_digest_credentials_get_cnonce (c), tc->cnonce,
                      "cnonce", _i);
  assert_str_or_null (msrp_digest_credentials_get_opaque (c), tc->opaque,
                      "opaque", _i);
  assert_str_or_null (msrp_digest_credentials_get_qop (c), tc->qop, "qop", _i);
  ck_assert_uint_eq (msrp_digest_credentials_get_nc (c), tc->nc);
  ck_assert_int_eq (msrp_digest_credentials_get_userhash (c), tc->userhash);

  /* Written back, it parses to the same values. */
  {
    g_autofree char *text = msrp_digest_credentials_to_string (c);
    g_autoptr (MsrpDigestCredentials) again = credentials_str (text);

    ck_assert_str_eq (msrp_digest_credentials_get_username (again),
                      tc->username);
    ck_assert_str_eq (msrp_digest_credentials_get_response (again),
                      tc->response);
    assert_str_or_null (msrp_digest_credentials_get_uri (again), tc->uri,
                        "uri again", _i);
    ck_assert_uint_eq (msrp_digest_credentials_get_nc (again), tc->nc);
    ck_assert_int_eq (msrp_digest_credentials_get_algorithm (again),
                      tc->algorithm);
    ck_assert_int_eq (msrp_digest_credentials_get_userhash (again),
                      tc->userhash);
  }
}
END_TEST

/* ---------------------------------------------------------------------------
 * Authentication-Info parsing
 * ------------------------------------------------------------------------- */

typedef struct
{
  Input in;
  const char *error;
  gint code;
  const char *nextnonce;
  const char *rspauth;
  const char *cnonce;
  const char *qop;
  gboolean has_nc;
  guint32 nc;
} InfoCase;

static const InfoCase info_cases[] = {
  /* RFC 4976 section 5.1, the two 200 OK answers (one line each; the
   * second as joined without a space after a comma). */
  { IN ("nextnonce=\"40f2e879449675f288476d772627370a\", "
        "rspauth=\"7327570c586207eca2afae94fc20903d\", cnonce=\"0a4f113b\", "
        "nc=00000001, qop=auth"),
    NULL, 0, "40f2e879449675f288476d772627370a",
    "7327570c586207eca2afae94fc20903d", "0a4f113b", "auth", TRUE, 1 },
  { IN ("nextnonce=\"bz8V080GEA2sLyEDpITF2AZCq7gIkc\","
        "rspauth=\"72f109ed2755d7ed0d0a213ec653b3f2\", cnonce=\"85a0dca8\", "
        "nc=00000001, qop=auth"),
    NULL, 0, "bz8V080GEA2sLyEDpITF2AZCq7gIkc",
    "72f109ed2755d7ed0d0a213ec653b3f2", "85a0dca8", "auth", TRUE, 1 },
  { IN ("nextnonce=\"abc\""), NULL, 0, "abc", NULL, NULL, NULL, FALSE, 0 },
  { IN ("rspauth=\"\", x-other=1"), NULL, 0, NULL, "", NULL, NULL, FALSE, 0 },
  { IN ("RSPAUTH=\"ABCD\" , NC=\"00000010\""), NULL, 0, NULL, "abcd", NULL,
    NULL, TRUE, 16 },

  { IN (""), "Authentication-Info: no parameters", E_MISSING },
  { IN (" , "), "Authentication-Info: no parameters", E_MISSING },
  /* fuzz: unknown parameters only would write back as nothing */
  { IN ("ne=\"abc\""),
    "Authentication-Info: none of nextnonce, rspauth, "
    "cnonce, nc and qop is present",
    E_MISSING },
  { IN ("Digest nextnonce=\"a\""),
    "Authentication-Info: expected '=' after parameter 'Digest'", E_SYNTAX },
  { IN ("nc=123"), "Authentication-Info: parameter 'nc' is not 8 hex digits",
    E_INVALID },
  { IN ("rspauth=\"zz\""),
    "Authentication-Info: parameter 'rspauth' is not a hex digest",
    E_INVALID },
  { IN ("qop=\"auth auth\""),
    "Authentication-Info: parameter 'qop' is not a single token", E_INVALID },
  { IN ("nextnonce=\"a\", nextnonce=\"b\""),
    "Authentication-Info: parameter 'nextnonce' appears twice", E_DUP },
  { IN ("nextnonce=\"\""),
    "Authentication-Info: parameter 'nextnonce' is empty", E_INVALID },
  { IN ("nextnonce=\"a"), "parameter 'nextnonce' has an unterminated",
    E_SYNTAX },
};

START_TEST (test_info_parse)
{
  const InfoCase *tc = &info_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpDigestInfo) info =
      parse_guarded (WHICH_INFO, tc->in.s, tc->in.len, &error);
  guint32 nc = 0xdeadbeef;

  if (tc->error != NULL)
    {
      ck_assert_msg (info == NULL, "case %d: parsed, want error '%s'", _i,
                     tc->error);
      assert_error (error, tc->code, tc->error, _i);
      return;
    }
  ck_assert_msg (info != NULL, "case %d: %s", _i, error->message);
  assert_str_or_null (msrp_digest_info_get_nextnonce (info), tc->nextnonce,
                      "nextnonce", _i);
  assert_str_or_null (msrp_digest_info_get_rspauth (info), tc->rspauth,
                      "rspauth", _i);
  assert_str_or_null (msrp_digest_info_get_cnonce (info), tc->cnonce, "cnonce",
                      _i);
  assert_str_or_null (msrp_digest_info_get_qop (info), tc->qop, "qop", _i);
  ck_assert_int_eq (msrp_digest_info_get_nc (info, &nc), tc->has_nc);
  ck_assert_uint_eq (nc, tc->has_nc ? tc->nc : 0xdeadbeef);

  {
    g_autofree char *text = msrp_digest_info_to_string (info);
    g_autoptr (MsrpDigestInfo) again = info_str (text);

    assert_str_or_null (msrp_digest_info_get_nextnonce (again), tc->nextnonce,
                        "nextnonce again", _i);
    assert_str_or_null (msrp_digest_info_get_rspauth (again), tc->rspauth,
                        "rspauth again", _i);
    ck_assert_int_eq (msrp_digest_info_get_nc (again, NULL), tc->has_nc);
  }
}
END_TEST

/* ---------------------------------------------------------------------------
 * Writers: exact text
 * ------------------------------------------------------------------------- */

typedef struct
{
  Which which;
  const char *in;
  const char *out;
} WriteCase;

static const WriteCase write_cases[] = {
  { WHICH_CHALLENGE,
    "digest qop=\"auth\",nonce=n,REALM=\"a\\\"b\\\\c\", stale=TRUE, x=y",
    "Digest realm=\"a\\\"b\\\\c\", nonce=\"n\", stale=true, qop=\"auth\"" },
  { WHICH_CHALLENGE,
    "Digest realm=\"" REALM_7616 "\", qop=\"auth, auth-int\", "
    "algorithm=SHA-256, nonce=\"" NONCE_7616 "\", opaque=\"" OPAQUE_7616 "\"",
    "Digest realm=\"" REALM_7616 "\", nonce=\"" NONCE_7616 "\", "
    "opaque=\"" OPAQUE_7616 "\", algorithm=SHA-256, qop=\"auth, auth-int\"" },
  /* algorithm that is not a token is quoted so it still parses */
  { WHICH_CHALLENGE,
    "Digest realm=r, nonce=n, qop=auth, algorithm=\"a b\", userhash=TRUE",
    "Digest realm=\"r\", nonce=\"n\", algorithm=\"a b\", qop=\"auth\", "
    "userhash=true" },
  { WHICH_CREDENTIALS,
    "Digest username=\"Mufasa\", realm=\"" REALM_7616 "\", "
    "uri=\"/dir/index.html\", algorithm=MD5, nonce=\"" NONCE_7616 "\", "
    "nc=00000001, cnonce=\"" CNONCE_7616 "\", qop=auth, "
    "response=\"8CA523F5E9506FED4657C9700EEBDBEC\", "
    "opaque=\"" OPAQUE_7616 "\"",
    "Digest username=\"Mufasa\", realm=\"" REALM_7616 "\", "
    "nonce=\"" NONCE_7616 "\", uri=\"/dir/index.html\", "
    "response=\"8ca523f5e9506fed4657c9700eebdbec\", algorithm=MD5, "
    "cnonce=\"" CNONCE_7616 "\", opaque=\"" OPAQUE_7616 "\", qop=auth, "
    "nc=00000001" },
  { WHICH_CREDENTIALS,
    "Digest username*=UTF-8''a%22b, realm=r, nonce=n, qop=\"auth\", "
    "nc=\"0000000A\", cnonce=c, response=aa, userhash=false",
    "Digest username=\"a\\\"b\", realm=\"r\", nonce=\"n\", response=\"aa\", "
    "cnonce=\"c\", qop=auth, nc=0000000A" },
  { WHICH_INFO,
    "qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
    "rspauth=\"7327570c586207eca2afae94fc20903d\", "
    "nextnonce=\"40f2e879449675f288476d772627370a\"",
    "nextnonce=\"40f2e879449675f288476d772627370a\", "
    "rspauth=\"7327570c586207eca2afae94fc20903d\", cnonce=\"0a4f113b\", "
    "nc=00000001, qop=auth" },
};

START_TEST (test_write)
{
  const WriteCase *tc = &write_cases[_i];
  g_autofree char *text = NULL;

  switch (tc->which)
    {
    case WHICH_CHALLENGE:
      {
        g_autoptr (MsrpDigestChallenge) c = challenge_str (tc->in);
        text = msrp_digest_challenge_to_string (c);
      }
      break;
    case WHICH_CREDENTIALS:
      {
        g_autoptr (MsrpDigestCredentials) c = credentials_str (tc->in);
        text = msrp_digest_credentials_to_string (c);
      }
      break;
    case WHICH_INFO:
      {
        g_autoptr (MsrpDigestInfo) i = info_str (tc->in);
        text = msrp_digest_info_to_string (i);
      }
      break;
    }
  ck_assert_str_eq (text, tc->out);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Hash vectors
 * ------------------------------------------------------------------------- */

typedef struct
{
  const char *what;
  MsrpDigestAlgorithm algorithm;
  const char *username, *realm, *password;
  const char *ha1;
  const char *nonce, *nc, *cnonce, *qop, *method, *uri;
  const char *response;
} VectorCase;

static const VectorCase vector_cases[] = {
  /* RFC 7616 section 3.9.1. */
  { "RFC 7616 3.9.1 MD5", MD5, "Mufasa", REALM_7616, "Circle of Life",
    "3d78807defe7de2157e2b0b6573a855f", NONCE_7616, "00000001", CNONCE_7616,
    "auth", "GET", "/dir/index.html", "8ca523f5e9506fed4657c9700eebdbec" },
  { "RFC 7616 3.9.1 SHA-256", SHA256, "Mufasa", REALM_7616, "Circle of Life",
    "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232",
    NONCE_7616, "00000001", CNONCE_7616, "auth", "GET", "/dir/index.html",
    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1" },
  /* RFC 2617 section 3.5.  RFC 4976 section 5.1's example Authorization
   * copies this response (same nonce and cnonce): it can only be reproduced
   * with RFC 2617's GET request, realm and password, not with AUTH. */
  { "RFC 2617 3.5 (reused by RFC 4976 5.1)", MD5, "Mufasa",
    "testrealm@host.com", "Circle Of Life", "939e7578ed9e3c518a452acee763bce9",
    "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth",
    "GET", "/dir/index.html", "6629fae49393a05397450978507c4ef1" },
  /* Not published: computed independently (Python hashlib).  rspauth for
   * the RFC 7616 request: method empty, A2 = ":" uri. */
  { "rspauth MD5", MD5, "Mufasa", REALM_7616, "Circle of Life",
    "3d78807defe7de2157e2b0b6573a855f", NONCE_7616, "00000001", CNONCE_7616,
    "auth", "", "/dir/index.html", "9b712497bc9f91499fbcca1dfc5f09a5" },
  { "rspauth SHA-256", SHA256, "Mufasa", REALM_7616, "Circle of Life",
    "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232",
    NONCE_7616, "00000001", CNONCE_7616, "auth", "", "/dir/index.html",
    "86d3b25618d41854ca5039a5d7e53ff6355d5134a9b1fb088a78ac3c462195a0" },
  /* An MSRP AUTH with RFC 4976 section 5.1's names (password "secret"):
   * method AUTH, digest-uri the rightmost To-Path URI. */
  { "MSRP AUTH MD5", MD5, "Alice", "intra.example.com", "secret",
    "228077dd83232f11146688d20e4810da", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
    "00000001", "0a4f113b", "auth", "AUTH",
    "msrps://alice@intra.example.com;tcp",
    "750e4fd73ea1221cef6d74424f4cd590" },
  { "MSRP AUTH SHA-256", SHA256, "Alice", "intra.example.com", "secret",
    "62eae3929522d6b531564c4327309f81119690b18b301ad64384740ba4f0b028",
    "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth",
    "AUTH", "msrps://alice@intra.example.com;tcp",
    "a42e80831892a0816d3c5b328d977976d5456b78c313e1d2dc2babcfaa192542" },
  { "MSRP rspauth SHA-256", SHA256, "Alice", "intra.example.com", "secret",
    "62eae3929522d6b531564c4327309f81119690b18b301ad64384740ba4f0b028",
    "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth", "",
    "msrps://alice@intra.example.com;tcp",
    "b3914ced9eabe18d2f5e8fff42c11d9ff911c07196affb29368735458f8a9359" },
};

START_TEST (test_vectors)
{
  const VectorCase *tc = &vector_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autofree char *ha1 = NULL;
  g_autofree char *response = NULL;
  g_autofree char *upper = NULL;
  g_autofree char *again = NULL;

  ha1 = msrp_digest_compute_ha1 (tc->algorithm, tc->username, tc->realm,
                                 tc->password, &error);
  ck_assert_msg (ha1 != NULL, "%s: %s", tc->what, error->message);
  ck_assert_msg (strcmp (ha1, tc->ha1) == 0, "%s: HA1 %s, want %s", tc->what,
                 ha1, tc->ha1);
  response = msrp_digest_compute_response (tc->algorithm, ha1, tc->nonce,
                                           tc->nc, tc->cnonce, tc->qop,
                                           tc->method, tc->uri, &error);
  ck_assert_msg (response != NULL, "%s: %s", tc->what, error->message);
  ck_assert_msg (strcmp (response, tc->response) == 0,
                 "%s: response %s, want %s", tc->what, response, tc->response);
  /* A stored HA1 in capitals gives the same answer. */
  upper = g_ascii_strup (ha1, -1);
  again = msrp_digest_compute_response (tc->algorithm, upper, tc->nonce,
                                        tc->nc, tc->cnonce, tc->qop,
                                        tc->method, tc->uri, &error);
  ck_assert_str_eq (again, tc->response);
}
END_TEST

/* Published Authorization headers verify through the parser too: the
 * generic response computation over parsed values. */
START_TEST (test_vectors_parsed)
{
  static const struct
  {
    const char *header;
    const char *password;
    const char *method;
    const char *uri; /* when the header has none */
  } cases[] = {
    { "Digest username=\"Mufasa\", realm=\"" REALM_7616 "\", "
      "uri=\"/dir/index.html\", algorithm=SHA-256, nonce=\"" NONCE_7616 "\", "
      "nc=00000001, cnonce=\"" CNONCE_7616 "\", qop=auth, response="
      "\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
      "opaque=\"" OPAQUE_7616 "\"",
      "Circle of Life", "GET", NULL },
    { "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
      "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", qop=auth, "
      "nc=00000001, cnonce=\"0a4f113b\", "
      "response=\"6629fae49393a05397450978507c4ef1\"",
      "Circle Of Life", "GET", "/dir/index.html" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (MsrpDigestCredentials) c = credentials_str (cases[i].header);
      MsrpDigestAlgorithm alg = msrp_digest_credentials_get_algorithm (c);
      const char *uri = msrp_digest_credentials_get_uri (c);
      g_autofree char *ha1 = msrp_digest_compute_ha1 (
          alg, msrp_digest_credentials_get_username (c),
          msrp_digest_credentials_get_realm (c), cases[i].password, NULL);
      g_autofree char *nc =
          g_strdup_printf ("%08x", msrp_digest_credentials_get_nc (c));
      g_autofree char *response = msrp_digest_compute_response (
          alg, ha1, msrp_digest_credentials_get_nonce (c), nc,
          msrp_digest_credentials_get_cnonce (c),
          msrp_digest_credentials_get_qop (c), cases[i].method,
          uri != NULL ? uri : cases[i].uri, NULL);

      ck_assert_str_eq (response, msrp_digest_credentials_get_response (c));
    }
}
END_TEST

typedef struct
{
  MsrpDigestAlgorithm algorithm;
  const char *ha1;
  const char *nc;
  const char *error;
} ComputeErrorCase;

static const ComputeErrorCase compute_error_cases[] = {
  { MD5, "3d78807defe7de2157e2b0b6573a855", "00000001",
    "HA1 is not 32 hex digits" },
  { MD5, "3d78807defe7de2157e2b0b6573a855g", "00000001",
    "HA1 is not 32 hex digits" },
  { SHA256, "3d78807defe7de2157e2b0b6573a855f", "00000001",
    "HA1 is not 64 hex digits" },
  { MD5, "3d78807defe7de2157e2b0b6573a855f", "0000001",
    "nc is not 8 hex digits" },
  { MD5, "3d78807defe7de2157e2b0b6573a855f", "0000000x",
    "nc is not 8 hex digits" },
  { UNKNOWN, "3d78807defe7de2157e2b0b6573a855f", "00000001",
    "algorithm is not MD5 or SHA-256" },
};

START_TEST (test_compute_errors)
{
  const ComputeErrorCase *tc = &compute_error_cases[_i];
  g_autoptr (GError) error = NULL;
  g_autofree char *r = msrp_digest_compute_response (
      tc->algorithm, tc->ha1, "n", tc->nc, "c", "auth", "AUTH", "u", &error);

  ck_assert_ptr_null (r);
  assert_error (error, MSRP_DIGEST_ERROR_INVALID, tc->error, _i);
}
END_TEST

START_TEST (test_algorithm_names)
{
  ck_assert_int_eq (msrp_digest_algorithm_from_string ("md5", 3), MD5);
  ck_assert_int_eq (msrp_digest_algorithm_from_string ("SHA-256", 7), SHA256);
  ck_assert_int_eq (msrp_digest_algorithm_from_string ("SHA-256x", 7),
                    SHA256); /* @len bounds the read */
  ck_assert_int_eq (msrp_digest_algorithm_from_string ("SHA-256-sess", 12),
                    UNKNOWN);
  ck_assert_int_eq (msrp_digest_algorithm_from_string ("", 0), UNKNOWN);
  ck_assert_str_eq (msrp_digest_algorithm_to_string (SHA256), "SHA-256");
  ck_assert_ptr_null (msrp_digest_algorithm_to_string (UNKNOWN));
  ck_assert_uint_eq (msrp_digest_algorithm_hex_len (MD5), 32);
  ck_assert_uint_eq (msrp_digest_algorithm_hex_len (SHA256), 64);
  ck_assert_uint_eq (msrp_digest_algorithm_hex_len (UNKNOWN), 0);
  ck_assert_str_eq (
      msrp_digest_result_to_string (MSRP_DIGEST_RESULT_STALE_NONCE),
      "stale-nonce");
}
END_TEST

/* ---------------------------------------------------------------------------
 * Nonces
 * ------------------------------------------------------------------------- */

#define T0 ((gint64) 1700000000 * G_USEC_PER_SEC)
#define LIFETIME 300
#define LIFETIME_US ((gint64) LIFETIME * G_USEC_PER_SEC)

static const guint8 secret_a[32] = "0123456789abcdef0123456789abcdef";
static const guint8 secret_b[32] = "fedcba9876543210fedcba9876543210";

static MsrpDigestServer *
server_with (const guint8 *secret)
{
  g_autoptr (GError) error = NULL;
  MsrpDigestServer *s = msrp_digest_server_new (secret, 32, LIFETIME, &error);

  ck_assert_msg (s != NULL, "%s", error != NULL ? error->message : "?");
  return s;
}

typedef struct
{
  const char *what;
  gint64 check_at; /* relative to T0 */
  MsrpDigestNonceStatus want;
} NonceAgeCase;

static const NonceAgeCase nonce_age_cases[] = {
  { "at once", 0, MSRP_DIGEST_NONCE_VALID },
  { "one second later", G_USEC_PER_SEC, MSRP_DIGEST_NONCE_VALID },
  { "at the lifetime", LIFETIME_US, MSRP_DIGEST_NONCE_VALID },
  { "just past the lifetime", LIFETIME_US + 1, MSRP_DIGEST_NONCE_STALE },
  { "a day later", (gint64) 86400 * G_USEC_PER_SEC, MSRP_DIGEST_NONCE_STALE },
  { "from the future", -1, MSRP_DIGEST_NONCE_STALE },
};

START_TEST (test_nonce_age)
{
  const NonceAgeCase *tc = &nonce_age_cases[_i];
  g_autoptr (MsrpDigestServer) s = server_with (secret_a);
  g_autofree char *nonce = msrp_digest_server_make_nonce (s, T0, NULL);
  gint64 issued = 0;

  ck_assert_ptr_nonnull (nonce);
  ck_assert_uint_eq (strlen (nonce), 64);
  ck_assert_msg (msrp_digest_server_check_nonce (s, nonce, T0 + tc->check_at,
                                                 &issued) == tc->want,
                 "%s", tc->what);
  ck_assert_int_eq (issued, T0);
}
END_TEST

/* Changing any one character of a nonce makes it INVALID. */
START_TEST (test_nonce_tampered)
{
  g_autoptr (MsrpDigestServer) s = server_with (secret_a);
  g_autofree char *nonce = msrp_digest_server_make_nonce (s, T0, NULL);

  ck_assert_ptr_nonnull (nonce);
  for (gsize i = 0; i < strlen (nonce); i++)
    {
      g_autofree char *bad = g_strdup (nonce);

      bad[i] = bad[i] == 'A' ? 'B' : 'A';
      ck_assert_msg (msrp_digest_server_check_nonce (s, bad, T0, NULL) ==
                         MSRP_DIGEST_NONCE_INVALID,
                     "position %" G_GSIZE_FORMAT, i);
    }
  ck_assert_int_eq (msrp_digest_server_check_nonce (s, nonce, T0, NULL),
                    MSRP_DIGEST_NONCE_VALID);
}
END_TEST

static const char *const bad_nonces[] = {
  "",
  "abc",
  "dcd98b7102dd2f0e8b11d0f600bfb0c093",
  /* 64 characters outside the base64url alphabet */
  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
  /* right alphabet and length, no MAC of ours */
  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
};

START_TEST (test_nonce_garbage)
{
  g_autoptr (MsrpDigestServer) s = server_with (secret_a);

  ck_assert_int_eq (
      msrp_digest_server_check_nonce (s, bad_nonces[_i], T0, NULL),
      MSRP_DIGEST_NONCE_INVALID);
}
END_TEST

START_TEST (test_nonce_other_secret)
{
  g_autoptr (MsrpDigestServer) a = server_with (secret_a);
  g_autoptr (MsrpDigestServer) b = server_with (secret_b);
  g_autoptr (MsrpDigestServer) a2 = server_with (secret_a);
  g_autoptr (MsrpDigestServer) r1 = msrp_digest_server_new (NULL, 0, 60, NULL);
  g_autoptr (MsrpDigestServer) r2 = msrp_digest_server_new (NULL, 0, 60, NULL);
  g_autofree char *from_b = msrp_digest_server_make_nonce (b, T0, NULL);
  g_autofree char *from_a = msrp_digest_server_make_nonce (a, T0, NULL);
  g_autofree char *from_a_again = msrp_digest_server_make_nonce (a, T0, NULL);
  g_autofree char *from_r1 = NULL;

  ck_assert_int_eq (msrp_digest_server_check_nonce (a, from_b, T0, NULL),
                    MSRP_DIGEST_NONCE_INVALID);
  /* Same secret, another process (or a restart): accepted. */
  ck_assert_int_eq (msrp_digest_server_check_nonce (a2, from_a, T0, NULL),
                    MSRP_DIGEST_NONCE_VALID);
  /* Two nonces at the same instant differ. */
  ck_assert_str_ne (from_a, from_a_again);
  /* Random secrets differ. */
  ck_assert_ptr_nonnull (r1);
  ck_assert_ptr_nonnull (r2);
  from_r1 = msrp_digest_server_make_nonce (r1, T0, NULL);
  ck_assert_int_eq (msrp_digest_server_check_nonce (r1, from_r1, T0, NULL),
                    MSRP_DIGEST_NONCE_VALID);
  ck_assert_int_eq (msrp_digest_server_check_nonce (r2, from_r1, T0, NULL),
                    MSRP_DIGEST_NONCE_INVALID);
}
END_TEST

START_TEST (test_server_new_errors)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpDigestServer) s = NULL;
  guint8 big[65] = { 0 };

  s = msrp_digest_server_new (secret_a, 15, LIFETIME, &error);
  ck_assert_ptr_null (s);
  assert_error (error, MSRP_DIGEST_ERROR_INVALID,
                "nonce secret is 15 bytes, not 16 to 64", 0);
  g_clear_error (&error);
  s = msrp_digest_server_new (big, sizeof big, LIFETIME, &error);
  ck_assert_ptr_null (s);
  assert_error (error, MSRP_DIGEST_ERROR_INVALID, "is 65 bytes", 0);
  g_clear_error (&error);
  s = msrp_digest_server_new (big, 16, LIFETIME, &error);
  ck_assert_ptr_nonnull (s);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Server challenge text
 * ------------------------------------------------------------------------- */

#define REALM "relay.example.net"
#define URI "msrps://relay.example.net:2856;tcp"
#define USER "alice"
#define PASS "wonderland"

typedef struct
{
  const char *realm;
  MsrpDigestAlgorithm algorithm;
  gboolean stale;
  const char *opaque;
  const char *want; /* with {N} for the nonce; NULL: error */
  const char *error;
} ServerChallengeCase;

static const ServerChallengeCase server_challenge_cases[] = {
  { REALM, SHA256, FALSE, NULL,
    "Digest realm=\"" REALM "\", nonce=\"{N}\", algorithm=SHA-256, "
    "qop=\"auth\"" },
  { REALM, MD5, TRUE, "st\"ate",
    "Digest realm=\"" REALM "\", nonce=\"{N}\", opaque=\"st\\\"ate\", "
    "stale=true, algorithm=MD5, qop=\"auth\"" },
  { "r\xc3\xa9", MD5, FALSE, NULL,
    "Digest realm=\"r\xc3\xa9\", nonce=\"{N}\", algorithm=MD5, qop=\"auth\"" },
  { "bad\r\nrealm", MD5, FALSE, NULL, NULL,
    "realm is not UTF-8 text without control characters" },
  { "bad\xff", MD5, FALSE, NULL, NULL, "realm is not UTF-8" },
  { REALM, MD5, FALSE, "x\ny", NULL,
    "opaque is not UTF-8 text without control characters" },
};

START_TEST (test_server_challenge)
{
  const ServerChallengeCase *tc = &server_challenge_cases[_i];
  g_autoptr (MsrpDigestServer) s = server_with (secret_a);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = msrp_digest_server_challenge (
      s, tc->realm, tc->algorithm, tc->stale, tc->opaque, T0, &error);
  g_autoptr (MsrpDigestChallenge) c = NULL;
  g_autofree char *want = NULL;

  if (tc->want == NULL)
    {
      ck_assert_ptr_null (text);
      assert_error (error, MSRP_DIGEST_ERROR_INVALID, tc->error, _i);
      return;
    }
  ck_assert_msg (text != NULL, "%s", error->message);
  c = challenge_str (text);
  want = subst (tc->want, "{N}", msrp_digest_challenge_get_nonce (c));
  ck_assert_str_eq (text, want);
  ck_assert_int_eq (msrp_digest_server_check_nonce (
                        s, msrp_digest_challenge_get_nonce (c), T0, NULL),
                    MSRP_DIGEST_NONCE_VALID);
  ck_assert (msrp_digest_challenge_is_usable (c));
  ck_assert_int_eq (msrp_digest_challenge_get_stale (c), tc->stale);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Round trips: relay challenge -> client credentials -> relay verify ->
 * Authentication-Info -> client check, every header text through the
 * guarded parsers.
 * ------------------------------------------------------------------------- */

typedef enum
{
  RT_OK,
  RT_CLIENT_HA1, /* client given HA1 instead of the password */
  RT_WRONG_PASSWORD,
  RT_WRONG_REALM,    /* relay expects another realm */
  RT_TAMPERED_NONCE, /* nonce altered in the Authorization text */
  RT_TAMPERED_RESPONSE,
  RT_STALE, /* verified past the lifetime */
  RT_STALE_WRONG_PASSWORD,
  RT_OTHER_SECRET,        /* challenge minted under another secret */
  RT_OTHER_URI,           /* client answered for another To-Path URI */
  RT_OTHER_METHOD,        /* client hashed SEND, relay checks AUTH */
  RT_UNKNOWN_USER,        /* no HA1 for the user */
  RT_OTHER_ALGORITHM_HA1, /* relay passes the HA1 of the other algorithm */
} RoundTrip;

typedef struct
{
  const char *what;
  MsrpDigestAlgorithm algorithm;
  RoundTrip kind;
  MsrpDigestResult want;
} RoundTripCase;

#define RT_BOTH(what, kind, want)                                             \
  { what " MD5", MD5, kind, want }, { what " SHA-256", SHA256, kind, want }

static const RoundTripCase round_trip_cases[] = {
  RT_BOTH ("ok", RT_OK, MSRP_DIGEST_RESULT_OK),
  RT_BOTH ("client HA1", RT_CLIENT_HA1, MSRP_DIGEST_RESULT_OK),
  RT_BOTH ("wrong password", RT_WRONG_PASSWORD,
           MSRP_DIGEST_RESULT_BAD_RESPONSE),
  RT_BOTH ("wrong realm", RT_WRONG_REALM, MSRP_DIGEST_RESULT_BAD_REALM),
  RT_BOTH ("tampered nonce", RT_TAMPERED_NONCE, MSRP_DIGEST_RESULT_BAD_NONCE),
  RT_BOTH ("tampered response", RT_TAMPERED_RESPONSE,
           MSRP_DIGEST_RESULT_BAD_RESPONSE),
  RT_BOTH ("stale", RT_STALE, MSRP_DIGEST_RESULT_STALE_NONCE),
  RT_BOTH ("stale, wrong password", RT_STALE_WRONG_PASSWORD,
           MSRP_DIGEST_RESULT_BAD_RESPONSE),
  RT_BOTH ("other secret", RT_OTHER_SECRET, MSRP_DIGEST_RESULT_BAD_NONCE),
  RT_BOTH ("other uri", RT_OTHER_URI, MSRP_DIGEST_RESULT_BAD_URI),
  RT_BOTH ("other method", RT_OTHER_METHOD, MSRP_DIGEST_RESULT_BAD_RESPONSE),
  RT_BOTH ("unknown user", RT_UNKNOWN_USER, MSRP_DIGEST_RESULT_BAD_RESPONSE),
  RT_BOTH ("HA1 of the other algorithm", RT_OTHER_ALGORITHM_HA1,
           MSRP_DIGEST_RESULT_BAD_RESPONSE),
};

/* Change one character of the quoted value of @param in @text. */
static void
tamper (char *text, const char *param)
{
  g_autofree char *needle = g_strdup_printf ("%s=\"", param);
  char *p = strstr (text, needle);

  ck_assert_ptr_nonnull (p);
  p += strlen (needle) + 5;
  *p = *p == 'a' ? 'b' : 'a';
}

START_TEST (test_round_trip)
{
  const RoundTripCase *tc = &round_trip_cases[_i];
  MsrpDigestAlgorithm other = tc->algorithm == MD5 ? SHA256 : MD5;
  g_autoptr (MsrpDigestServer) relay = server_with (secret_a);
  g_autoptr (MsrpDigestServer) elsewhere = server_with (secret_b);
  g_autoptr (GError) error = NULL;
  g_autofree char *challenge_text = NULL;
  g_autoptr (MsrpDigestChallenge) challenge = NULL;
  g_autoptr (MsrpDigestCredentials) sent = NULL;
  g_autofree char *creds_text = NULL;
  g_autoptr (MsrpDigestCredentials) received = NULL;
  g_autofree char *ha1 = NULL;
  g_autofree char *client_ha1 = NULL;
  const char *relay_ha1;
  gint64 now = T0 + 2 * G_USEC_PER_SEC;
  MsrpDigestResult got;

  challenge_text = msrp_digest_server_challenge (
      tc->kind == RT_OTHER_SECRET ? elsewhere : relay, REALM, tc->algorithm,
      FALSE, "opaque-1", T0, &error);
  ck_assert_msg (challenge_text != NULL, "%s", error->message);
  challenge = challenge_str (challenge_text);
  ck_assert_int_eq (msrp_digest_challenge_get_algorithm (challenge),
                    tc->algorithm);

  ha1 = msrp_digest_compute_ha1 (tc->algorithm, USER, REALM, PASS, NULL);
  if (tc->kind == RT_CLIENT_HA1)
    client_ha1 = g_strdup (ha1);
  sent = msrp_digest_client_respond (
      challenge, USER,
      client_ha1 != NULL ? NULL
      : tc->kind == RT_WRONG_PASSWORD || tc->kind == RT_STALE_WRONG_PASSWORD
          ? "wonderlant"
          : PASS,
      client_ha1,
      tc->kind == RT_OTHER_METHOD ? "SEND" : MSRP_DIGEST_METHOD_AUTH,
      tc->kind == RT_OTHER_URI ? "msrps://other.example.net;tcp" : URI, 1,
      &error);
  ck_assert_msg (sent != NULL, "%s: %s", tc->what, error->message);
  ck_assert_str_eq (msrp_digest_credentials_get_opaque (sent), "opaque-1");
  ck_assert_uint_eq (strlen (msrp_digest_credentials_get_cnonce (sent)), 32);

  creds_text = msrp_digest_credentials_to_string (sent);
  ck_assert_msg (g_str_has_prefix (creds_text,
                                   "Digest username=\"alice\", "
                                   "realm=\"" REALM "\", nonce=\""),
                 "%s", creds_text);
  ck_assert_msg (strstr (creds_text, ", qop=auth, nc=00000001") != NULL, "%s",
                 creds_text);
  if (tc->kind == RT_TAMPERED_NONCE)
    tamper (creds_text, "nonce");
  if (tc->kind == RT_TAMPERED_RESPONSE)
    tamper (creds_text, "response");
  received = credentials_str (creds_text);

  relay_ha1 = ha1;
  if (tc->kind == RT_UNKNOWN_USER)
    relay_ha1 = NULL;
  if (tc->kind == RT_OTHER_ALGORITHM_HA1)
    {
      g_free (ha1);
      ha1 = msrp_digest_compute_ha1 (other, USER, REALM, PASS, NULL);
      relay_ha1 = ha1;
    }
  if (tc->kind == RT_STALE || tc->kind == RT_STALE_WRONG_PASSWORD)
    now = T0 + LIFETIME_US + G_USEC_PER_SEC;

  got = msrp_digest_server_verify (
      relay, received, MSRP_DIGEST_METHOD_AUTH, URI,
      tc->kind == RT_WRONG_REALM ? "other.example.net" : REALM, relay_ha1,
      now);
  ck_assert_msg (got == tc->want, "%s: %s, want %s", tc->what,
                 msrp_digest_result_to_string (got),
                 msrp_digest_result_to_string (tc->want));

  if (got == MSRP_DIGEST_RESULT_STALE_NONCE)
    {
      /* 401 with stale=true; the client answers the new challenge without
       * asking for the password again. */
      g_autofree char *again_text = msrp_digest_server_challenge (
          relay, REALM, tc->algorithm, TRUE, NULL, now, NULL);
      g_autoptr (MsrpDigestChallenge) again = challenge_str (again_text);
      g_autoptr (MsrpDigestCredentials) retry = NULL;
      g_autofree char *retry_text = NULL;
      g_autoptr (MsrpDigestCredentials) retry_received = NULL;

      ck_assert (msrp_digest_challenge_get_stale (again));
      retry = msrp_digest_client_respond (
          again, USER, PASS, NULL, MSRP_DIGEST_METHOD_AUTH, URI, 1, NULL);
      retry_text = msrp_digest_credentials_to_string (retry);
      retry_received = credentials_str (retry_text);
      ck_assert_int_eq (msrp_digest_server_verify (relay, retry_received,
                                                   MSRP_DIGEST_METHOD_AUTH,
                                                   URI, REALM, relay_ha1, now),
                        MSRP_DIGEST_RESULT_OK);
    }

  if (got == MSRP_DIGEST_RESULT_OK)
    {
      g_autofree char *info_text = NULL;
      g_autoptr (MsrpDigestInfo) info = NULL;
      g_autoptr (GError) check_error = NULL;

      info_text = msrp_digest_server_authentication_info (
          relay, received, URI, relay_ha1, TRUE, now, &error);
      ck_assert_msg (info_text != NULL, "%s", error->message);
      info = info_str (info_text);
      ck_assert_int_eq (
          msrp_digest_server_check_nonce (
              relay, msrp_digest_info_get_nextnonce (info), now, NULL),
          MSRP_DIGEST_NONCE_VALID);
      ck_assert_str_eq (msrp_digest_info_get_cnonce (info),
                        msrp_digest_credentials_get_cnonce (sent));
      ck_assert_str_eq (msrp_digest_info_get_qop (info), "auth");
      ck_assert_msg (
          msrp_digest_client_check_info (sent, info, PASS, NULL, &check_error),
          "%s: %s", tc->what, check_error->message);
      ck_assert (msrp_digest_client_check_info (sent, info, NULL, ha1, NULL));
      /* The wrong password does not accept the relay's proof. */
      ck_assert (!msrp_digest_client_check_info (sent, info, "wonderlant",
                                                 NULL, &check_error));
      assert_error (check_error, MSRP_DIGEST_ERROR_MISMATCH,
                    "Authentication-Info: rspauth is wrong", _i);
    }
}
END_TEST

/* RFC 4976 section 5.1 writes no uri parameter: the relay then hashes its
 * own digest-uri (the rightmost To-Path URI). */
START_TEST (test_verify_without_uri)
{
  g_autoptr (MsrpDigestServer) relay = server_with (secret_a);
  g_autofree char *nonce = msrp_digest_server_make_nonce (relay, T0, NULL);
  g_autofree char *ha1 = msrp_digest_compute_ha1 (
      MD5, "Alice", "intra.example.com", "secret", NULL);
  const char *uri = "msrps://alice@intra.example.com;tcp";
  g_autofree char *response = msrp_digest_compute_response (
      MD5, ha1, nonce, "00000001", "0a4f113b", "auth", "AUTH", uri, NULL);
  g_autofree char *text = g_strdup_printf (
      "Digest username=\"Alice\", realm=\"intra.example.com\", "
      "nonce=\"%s\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
      "response=\"%s\"",
      nonce, response);
  g_autoptr (MsrpDigestCredentials) c = credentials_str (text);
  g_autofree char *info = NULL;
  g_autoptr (MsrpDigestInfo) parsed = NULL;
  g_autofree char *rspauth = msrp_digest_compute_response (
      MD5, ha1, nonce, "00000001", "0a4f113b", "auth", "", uri, NULL);
  g_autofree char *want = NULL;

  ck_assert_ptr_null (msrp_digest_credentials_get_uri (c));
  ck_assert_int_eq (msrp_digest_server_verify (relay, c, "AUTH", uri,
                                               "intra.example.com", ha1, T0),
                    MSRP_DIGEST_RESULT_OK);
  ck_assert_int_eq (msrp_digest_server_verify (relay, c, "AUTH",
                                               "msrps://intra.example.com;tcp",
                                               "intra.example.com", ha1, T0),
                    MSRP_DIGEST_RESULT_BAD_RESPONSE);
  info = msrp_digest_server_authentication_info (relay, c, uri, ha1, FALSE, T0,
                                                 NULL);
  parsed = info_str (info);
  ck_assert_ptr_null (msrp_digest_info_get_nextnonce (parsed));
  ck_assert_str_eq (msrp_digest_info_get_rspauth (parsed), rspauth);
  want = g_strdup_printf ("rspauth=\"%s\", cnonce=\"0a4f113b\", "
                          "nc=00000001, qop=auth",
                          rspauth);
  ck_assert_str_eq (info, want);
}
END_TEST

/* Verify's own checks on parsed credentials, in the order documented. */
typedef struct
{
  const char *rest; /* appended to username, realm, nonce, cnonce */
  MsrpDigestResult want;
} VerifyCase;

static const VerifyCase verify_cases[] = {
  { ", qop=auth, nc=00000001, algorithm=SHA-512-256, response=\"00\"",
    MSRP_DIGEST_RESULT_UNKNOWN_ALGORITHM },
  { ", qop=auth, nc=00000001, algorithm=MD5-sess, response=\"00\"",
    MSRP_DIGEST_RESULT_UNKNOWN_ALGORITHM },
  { ", qop=auth-int, nc=00000001, response=\"00\"",
    MSRP_DIGEST_RESULT_BAD_QOP },
  { ", qop=auth, nc=00000001, response=\"00\"", MSRP_DIGEST_RESULT_MALFORMED },
  { ", qop=auth, nc=00000001, algorithm=SHA-256, "
    "response=\"0123456789abcdef0123456789abcdef\"",
    MSRP_DIGEST_RESULT_MALFORMED },
  { ", qop=auth, nc=00000001, response=\"0123456789abcdef0123456789abcdef\"",
    MSRP_DIGEST_RESULT_BAD_NONCE },
};

START_TEST (test_verify_checks)
{
  const VerifyCase *tc = &verify_cases[_i];
  g_autoptr (MsrpDigestServer) relay = server_with (secret_a);
  g_autofree char *text = g_strconcat ("Digest username=\"u\", realm=\"" REALM
                                       "\", nonce=\"n\", cnonce=\"c\"",
                                       tc->rest, NULL);
  g_autoptr (MsrpDigestCredentials) c = credentials_str (text);
  MsrpDigestResult got = msrp_digest_server_verify (
      relay, c, "AUTH", URI, REALM, "0123456789abcdef0123456789abcdef", T0);

  ck_assert_msg (got == tc->want, "case %d: %s, want %s", _i,
                 msrp_digest_result_to_string (got),
                 msrp_digest_result_to_string (tc->want));
}
END_TEST

/* ---------------------------------------------------------------------------
 * Replay guard
 * ------------------------------------------------------------------------- */

static MsrpDigestCredentials *
answer (MsrpDigestServer *relay, gint64 at, guint32 nc, char **nonce_out)
{
  g_autofree char *text = msrp_digest_server_challenge (relay, REALM, SHA256,
                                                        FALSE, NULL, at, NULL);
  g_autoptr (MsrpDigestChallenge) c = challenge_str (text);
  MsrpDigestCredentials *creds = msrp_digest_client_respond (
      c, USER, PASS, NULL, MSRP_DIGEST_METHOD_AUTH, URI, nc, NULL);

  ck_assert_ptr_nonnull (creds);
  if (nonce_out != NULL)
    *nonce_out = g_strdup (msrp_digest_challenge_get_nonce (c));
  return creds;
}

static MsrpDigestCredentials *
answer_nonce (const char *nonce, guint32 nc)
{
  g_autofree char *text = g_strdup_printf ("Digest realm=\"" REALM
                                           "\", nonce=\"%s\", qop=\"auth\", "
                                           "algorithm=SHA-256",
                                           nonce);
  g_autoptr (MsrpDigestChallenge) c = challenge_str (text);

  return msrp_digest_client_respond (c, USER, PASS, NULL,
                                     MSRP_DIGEST_METHOD_AUTH, URI, nc, NULL);
}

static MsrpDigestResult
verify_at (MsrpDigestServer *relay, const MsrpDigestCredentials *c, gint64 now)
{
  g_autofree char *ha1 =
      msrp_digest_compute_ha1 (SHA256, USER, REALM, PASS, NULL);

  return msrp_digest_server_verify (relay, c, MSRP_DIGEST_METHOD_AUTH, URI,
                                    REALM, ha1, now);
}

START_TEST (test_replay_off)
{
  g_autoptr (MsrpDigestServer) relay = server_with (secret_a);
  g_autoptr (MsrpDigestCredentials) c = answer (relay, T0, 1, NULL);

  ck_assert_int_eq (verify_at (relay, c, T0), MSRP_DIGEST_RESULT_OK);
  ck_assert_int_eq (verify_at (relay, c, T0), MSRP_DIGEST_RESULT_OK);
}
END_TEST

START_TEST (test_replay_guard)
{
  g_autoptr (MsrpDigestServer) relay = server_with (secret_a);
  g_autofree char *nonce = NULL;
  g_autoptr (MsrpDigestCredentials) c1 = NULL;
  g_autoptr (MsrpDigestCredentials) c1_nc2 = NULL;
  g_autoptr (MsrpDigestCredentials) c1_nc3 = NULL;

  msrp_digest_server_set_replay_guard (relay, 8);
  c1 = answer (relay, T0, 1, &nonce);
  ck_assert_int_eq (verify_at (relay, c1, T0), MSRP_DIGEST_RESULT_OK);
  ck_assert_int_eq (verify_at (relay, c1, T0), MSRP_DIGEST_RESULT_REPLAY);
  c1_nc3 = answer_nonce (nonce, 3);
  c1_nc2 = answer_nonce (nonce, 2);
  ck_assert_int_eq (verify_at (relay, c1_nc3, T0), MSRP_DIGEST_RESULT_OK);
  /* nc must grow: 2 after 3 is refused */
  ck_assert_int_eq (verify_at (relay, c1_nc2, T0), MSRP_DIGEST_RESULT_REPLAY);
  ck_assert_int_eq (verify_at (relay, c1_nc3, T0), MSRP_DIGEST_RESULT_REPLAY);
  /* A failed verification records nothing. */
  {
    g_autofree char *text = msrp_digest_credentials_to_string (c1_nc2);
    g_autoptr (MsrpDigestCredentials) bad = NULL;

    tamper (text, "response");
    bad = credentials_str (text);
    ck_assert_int_eq (verify_at (relay, bad, T0),
                      MSRP_DIGEST_RESULT_BAD_RESPONSE);
  }
  /* Turning it off and on forgets. */
  msrp_digest_server_set_replay_guard (relay, 0);
  ck_assert_int_eq (verify_at (relay, c1, T0), MSRP_DIGEST_RESULT_OK);
  msrp_digest_server_set_replay_guard (relay, 8);
  ck_assert_int_eq (verify_at (relay, c1, T0), MSRP_DIGEST_RESULT_OK);
  ck_assert_int_eq (verify_at (relay, c1, T0), MSRP_DIGEST_RESULT_REPLAY);
}
END_TEST

/* Capacity 2: the oldest nonce is forgotten and from then on stale, never
 * accepted twice. */
START_TEST (test_replay_capacity)
{
  g_autoptr (MsrpDigestServer) relay = server_with (secret_a);
  g_autoptr (MsrpDigestCredentials) a = NULL;
  g_autoptr (MsrpDigestCredentials) b = NULL;
  g_autoptr (MsrpDigestCredentials) c = NULL;
  g_autoptr (MsrpDigestCredentials) old = NULL;
  g_autoptr (MsrpDigestCredentials) fresh = NULL;
  gint64 now = T0 + 10 * G_USEC_PER_SEC;

  msrp_digest_server_set_replay_guard (relay, 2);
  old = answer (relay, T0, 1, NULL);
  a = answer (relay, T0 + 1, 1, NULL);
  b = answer (relay, T0 + 2, 1, NULL);
  c = answer (relay, T0 + 3, 1, NULL);
  ck_assert_int_eq (verify_at (relay, a, now), MSRP_DIGEST_RESULT_OK);
  ck_assert_int_eq (verify_at (relay, b, now), MSRP_DIGEST_RESULT_OK);
  ck_assert_int_eq (verify_at (relay, c, now), MSRP_DIGEST_RESULT_OK);
  /* a was forgotten: its replay is stale, not OK */
  ck_assert_int_eq (verify_at (relay, a, now), MSRP_DIGEST_RESULT_STALE_NONCE);
  /* so is a never-used nonce issued before it */
  ck_assert_int_eq (verify_at (relay, old, now),
                    MSRP_DIGEST_RESULT_STALE_NONCE);
  ck_assert_int_eq (verify_at (relay, b, now), MSRP_DIGEST_RESULT_REPLAY);
  ck_assert_int_eq (verify_at (relay, c, now), MSRP_DIGEST_RESULT_REPLAY);
  /* Later, b and c expire and make room without refusing fresh nonces. */
  now = T0 + LIFETIME_US + 100;
  fresh = answer (relay, now, 1, NULL);
  ck_assert_int_eq (verify_at (relay, fresh, now), MSRP_DIGEST_RESULT_OK);
  ck_assert_int_eq (verify_at (relay, fresh, now), MSRP_DIGEST_RESULT_REPLAY);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Client side errors
 * ------------------------------------------------------------------------- */

typedef struct
{
  const char *challenge;
  const char *username;
  const char *ha1;
  const char *uri;
  gint code;
  const char *error;
} RespondCase;

static const RespondCase respond_cases[] = {
  { "Digest realm=\"r\", nonce=\"n\", qop=\"auth\", algorithm=SHA-512-256",
    "u", NULL, URI, E_UNSUPPORTED,
    "WWW-Authenticate: algorithm 'SHA-512-256' is not supported" },
  { "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"", "u", NULL, URI,
    E_UNSUPPORTED, "WWW-Authenticate: qop does not offer 'auth'" },
  { "Digest realm=\"r\", nonce=\"n\", qop=\"auth\"", "u\nv", NULL, URI,
    E_INVALID, "username is not non-empty UTF-8 text" },
  { "Digest realm=\"r\", nonce=\"n\", qop=\"auth\"", "", NULL, URI, E_INVALID,
    "username is not non-empty" },
  { "Digest realm=\"r\", nonce=\"n\", qop=\"auth\"", "u", NULL, "a\rb",
    E_INVALID, "digest-uri is not text without control characters" },
  { "Digest realm=\"r\", nonce=\"n\", qop=\"auth\", algorithm=SHA-256", "u",
    "0123456789abcdef0123456789abcdef", URI, E_INVALID,
    "HA1 is not 64 hex digits for SHA-256" },
};

START_TEST (test_respond_errors)
{
  const RespondCase *tc = &respond_cases[_i];
  g_autoptr (MsrpDigestChallenge) c = challenge_str (tc->challenge);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpDigestCredentials) creds = msrp_digest_client_respond (
      c, tc->username, tc->ha1 != NULL ? NULL : "pw", tc->ha1, "AUTH", tc->uri,
      1, &error);

  ck_assert_ptr_null (creds);
  assert_error (error, tc->code, tc->error, _i);
}
END_TEST

/* Authentication-Info that does not answer what was sent. */
typedef struct
{
  const char *info; /* {C}: the cnonce sent, {R}: the right rspauth */
  gint code;
  const char *error; /* NULL: accepted */
} CheckInfoCase;

static const CheckInfoCase check_info_cases[] = {
  { "rspauth=\"{R}\", cnonce=\"{C}\", nc=00000001, qop=auth", 0, NULL },
  { "qop=AUTH, nc=00000001, cnonce=\"{C}\", rspauth=\"{R}\", x=1", 0, NULL },
  { "cnonce=\"{C}\", nc=00000001, qop=auth", MSRP_DIGEST_ERROR_MISSING,
    "Authentication-Info: parameter 'rspauth' is missing" },
  { "rspauth=\"{R}\", nc=00000001, qop=auth", MSRP_DIGEST_ERROR_MISSING,
    "Authentication-Info: parameter 'cnonce' is missing" },
  { "rspauth=\"{R}\", cnonce=\"{C}\", qop=auth", MSRP_DIGEST_ERROR_MISSING,
    "Authentication-Info: parameter 'nc' is missing" },
  { "rspauth=\"{R}\", cnonce=\"{C}\", nc=00000001", MSRP_DIGEST_ERROR_MISSING,
    "Authentication-Info: parameter 'qop' is missing" },
  { "rspauth=\"{R}\", cnonce=\"x{C}\", nc=00000001, qop=auth",
    MSRP_DIGEST_ERROR_MISMATCH,
    "Authentication-Info: cnonce is not the one sent" },
  { "rspauth=\"{R}\", cnonce=\"{C}\", nc=00000002, qop=auth",
    MSRP_DIGEST_ERROR_MISMATCH,
    "Authentication-Info: nc 00000002 is not the one sent (00000001)" },
  { "rspauth=\"{R}\", cnonce=\"{C}\", nc=00000001, qop=auth-int",
    MSRP_DIGEST_ERROR_MISMATCH, "Authentication-Info: qop is not the one" },
  { "rspauth=\"0{R}\", cnonce=\"{C}\", nc=00000001, qop=auth",
    MSRP_DIGEST_ERROR_MISMATCH, "Authentication-Info: rspauth is wrong" },
  { "rspauth=\"\", cnonce=\"{C}\", nc=00000001, qop=auth",
    MSRP_DIGEST_ERROR_MISMATCH, "rspauth is wrong" },
};

START_TEST (test_check_info)
{
  const CheckInfoCase *tc = &check_info_cases[_i];
  g_autoptr (MsrpDigestServer) relay = server_with (secret_a);
  g_autoptr (MsrpDigestCredentials) sent = answer (relay, T0, 1, NULL);
  g_autofree char *ha1 =
      msrp_digest_compute_ha1 (SHA256, USER, REALM, PASS, NULL);
  g_autofree char *rspauth = msrp_digest_compute_response (
      SHA256, ha1, msrp_digest_credentials_get_nonce (sent), "00000001",
      msrp_digest_credentials_get_cnonce (sent), "auth", "", URI, NULL);
  g_autofree char *half =
      subst (tc->info, "{C}", msrp_digest_credentials_get_cnonce (sent));
  g_autofree char *text = subst (half, "{R}", rspauth);
  g_autoptr (MsrpDigestInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  info = info_str (text);
  ok = msrp_digest_client_check_info (sent, info, PASS, NULL, &error);
  if (tc->error == NULL)
    {
      ck_assert_msg (ok, "case %d: %s", _i, error->message);
      return;
    }
  ck_assert (!ok);
  assert_error (error, tc->code, tc->error, _i);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Suite
 * ------------------------------------------------------------------------- */

#define LOOP(tc, fn, cases)                                                   \
  tcase_add_loop_test (tc, fn, 0, (int) G_N_ELEMENTS (cases))

static Suite *
digest_suite (void)
{
  Suite *s = suite_create ("msrp-digest");
  TCase *tc;

  tc = tcase_create ("parse");
  LOOP (tc, test_challenge_parse, challenge_cases);
  LOOP (tc, test_credentials_parse, credentials_cases);
  LOOP (tc, test_info_parse, info_cases);
  LOOP (tc, test_write, write_cases);
  suite_add_tcase (s, tc);

  tc = tcase_create ("hash");
  LOOP (tc, test_vectors, vector_cases);
  tcase_add_test (tc, test_vectors_parsed);
  LOOP (tc, test_compute_errors, compute_error_cases);
  tcase_add_test (tc, test_algorithm_names);
  suite_add_tcase (s, tc);

  tc = tcase_create ("nonce");
  LOOP (tc, test_nonce_age, nonce_age_cases);
  tcase_add_test (tc, test_nonce_tampered);
  LOOP (tc, test_nonce_garbage, bad_nonces);
  tcase_add_test (tc, test_nonce_other_secret);
  tcase_add_test (tc, test_server_new_errors);
  suite_add_tcase (s, tc);

  tc = tcase_create ("server-client");
  LOOP (tc, test_server_challenge, server_challenge_cases);
  LOOP (tc, test_round_trip, round_trip_cases);
  tcase_add_test (tc, test_verify_without_uri);
  LOOP (tc, test_verify_checks, verify_cases);
  tcase_add_test (tc, test_replay_off);
  tcase_add_test (tc, test_replay_guard);
  tcase_add_test (tc, test_replay_capacity);
  LOOP (tc, test_respond_errors, respond_cases);
  LOOP (tc, test_check_info, check_info_cases);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (digest_suite ());
  int failed;

  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
