/* fuzz-digest.c: libFuzzer target for msrp/msrp-digest.
 *
 * The first byte picks the parser (low two bits: 0 WWW-Authenticate,
 * 1 Authorization, 2 Authentication-Info, 3 Authorization with an unknown
 * user); the rest is the header value.  Whatever parses is written back and
 * must parse again; challenges are answered; credentials are verified by a
 * relay with a fixed secret and clock, so that seeds holding one of its
 * nonces reach the response check, and credentials it accepts must yield an
 * Authentication-Info the client side accepts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msrp-digest.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Shared with the seed corpus: nonces minted under this secret at
 * FUZZ_NOW_US - 1 s verify as fresh. */
#define FUZZ_SECRET "0123456789abcdef0123456789abcdef"
#define FUZZ_NOW_US ((gint64) 1700000010 * G_USEC_PER_SEC)
#define FUZZ_LIFETIME_S 300
#define FUZZ_REALM "relay.example.net"
#define FUZZ_URI "msrps://relay.example.net:2856;tcp"
#define FUZZ_USER "alice"
#define FUZZ_PASS "wonderland"

static const char *
fixed_ha1 (MsrpDigestAlgorithm algorithm)
{
  static char *md5, *sha256;

  if (md5 == NULL)
    {
      md5 = msrp_digest_compute_ha1 (MSRP_DIGEST_ALGORITHM_MD5, FUZZ_USER,
                                     FUZZ_REALM, FUZZ_PASS, NULL);
      sha256 =
          msrp_digest_compute_ha1 (MSRP_DIGEST_ALGORITHM_SHA256, FUZZ_USER,
                                   FUZZ_REALM, FUZZ_PASS, NULL);
      if (md5 == NULL || sha256 == NULL)
        abort ();
    }
  switch (algorithm)
    {
    case MSRP_DIGEST_ALGORITHM_MD5:
      return md5;
    case MSRP_DIGEST_ALGORITHM_SHA256:
      return sha256;
    case MSRP_DIGEST_ALGORITHM_UNKNOWN:
    default:
      return md5; /* the wrong length: must be refused, not crash */
    }
}

static void
fuzz_challenge (const char *value, size_t len)
{
  g_autoptr (MsrpDigestChallenge) c = NULL;
  g_autoptr (MsrpDigestChallenge) again = NULL;
  g_autoptr (MsrpDigestCredentials) creds = NULL;
  g_autoptr (MsrpDigestCredentials) creds_again = NULL;
  g_autofree char *text = NULL;
  g_autofree char *creds_text = NULL;

  c = msrp_digest_challenge_parse (value, len, NULL);
  if (c == NULL)
    return;
  text = msrp_digest_challenge_to_string (c);
  again = msrp_digest_challenge_parse (text, strlen (text), NULL);
  if (again == NULL ||
      strcmp (msrp_digest_challenge_get_realm (again),
              msrp_digest_challenge_get_realm (c)) != 0 ||
      strcmp (msrp_digest_challenge_get_nonce (again),
              msrp_digest_challenge_get_nonce (c)) != 0 ||
      msrp_digest_challenge_get_algorithm (again) !=
          msrp_digest_challenge_get_algorithm (c) ||
      msrp_digest_challenge_offers_auth (again) !=
          msrp_digest_challenge_offers_auth (c))
    abort ();

  creds =
      msrp_digest_client_respond (c, FUZZ_USER, FUZZ_PASS, NULL,
                                  MSRP_DIGEST_METHOD_AUTH, FUZZ_URI, 1, NULL);
  if ((creds != NULL) != msrp_digest_challenge_is_usable (c))
    abort ();
  if (creds == NULL)
    return;
  creds_text = msrp_digest_credentials_to_string (creds);
  creds_again =
      msrp_digest_credentials_parse (creds_text, strlen (creds_text), NULL);
  if (creds_again == NULL ||
      strcmp (msrp_digest_credentials_get_response (creds_again),
              msrp_digest_credentials_get_response (creds)) != 0)
    abort ();
}

static void
fuzz_credentials (const char *value, size_t len, gboolean unknown_user)
{
  g_autoptr (MsrpDigestCredentials) c = NULL;
  g_autoptr (MsrpDigestCredentials) again = NULL;
  g_autoptr (MsrpDigestServer) relay = NULL;
  g_autofree char *text = NULL;
  g_autofree char *info_text = NULL;
  g_autoptr (MsrpDigestInfo) info = NULL;
  const char *ha1;
  const char *uri;
  MsrpDigestResult result;

  c = msrp_digest_credentials_parse (value, len, NULL);
  if (c == NULL)
    return;
  text = msrp_digest_credentials_to_string (c);
  again = msrp_digest_credentials_parse (text, strlen (text), NULL);
  if (again == NULL ||
      strcmp (msrp_digest_credentials_get_username (again),
              msrp_digest_credentials_get_username (c)) != 0 ||
      strcmp (msrp_digest_credentials_get_response (again),
              msrp_digest_credentials_get_response (c)) != 0 ||
      msrp_digest_credentials_get_nc (again) !=
          msrp_digest_credentials_get_nc (c))
    abort ();

  relay = msrp_digest_server_new ((const guint8 *) FUZZ_SECRET,
                                  strlen (FUZZ_SECRET), FUZZ_LIFETIME_S, NULL);
  if (relay == NULL)
    abort ();
  msrp_digest_server_set_replay_guard (relay, 2);
  ha1 = unknown_user ? NULL
                     : fixed_ha1 (msrp_digest_credentials_get_algorithm (c));
  uri = msrp_digest_credentials_get_uri (c);
  if (uri == NULL)
    uri = FUZZ_URI;

  result = msrp_digest_server_verify (relay, c, MSRP_DIGEST_METHOD_AUTH, uri,
                                      FUZZ_REALM, ha1, FUZZ_NOW_US);
  (void) msrp_digest_result_to_string (result);
  if (result == MSRP_DIGEST_RESULT_OK && unknown_user)
    abort ();
  /* Accepted once, the same nc is a replay. */
  if (result == MSRP_DIGEST_RESULT_OK &&
      msrp_digest_server_verify (relay, c, MSRP_DIGEST_METHOD_AUTH, uri,
                                 FUZZ_REALM, ha1,
                                 FUZZ_NOW_US) != MSRP_DIGEST_RESULT_REPLAY)
    abort ();

  info_text = msrp_digest_server_authentication_info (relay, c, uri, ha1, TRUE,
                                                      FUZZ_NOW_US, NULL);
  if (info_text == NULL)
    return;
  info = msrp_digest_info_parse (info_text, strlen (info_text), NULL);
  if (info == NULL)
    abort ();
  /* Mutual authentication holds for whatever the relay accepted. */
  if (result == MSRP_DIGEST_RESULT_OK &&
      msrp_digest_credentials_get_uri (c) != NULL &&
      !msrp_digest_client_check_info (c, info, NULL, ha1, NULL))
    abort ();
}

static void
fuzz_info (const char *value, size_t len)
{
  static MsrpDigestCredentials *sent;
  g_autoptr (MsrpDigestInfo) info = NULL;
  g_autoptr (MsrpDigestInfo) again = NULL;
  g_autofree char *text = NULL;

  if (sent == NULL)
    {
      g_autoptr (MsrpDigestChallenge) c = NULL;
      const char *challenge = "Digest realm=\"" FUZZ_REALM "\", "
                              "nonce=\"n\", qop=\"auth\", algorithm=SHA-256";

      c = msrp_digest_challenge_parse (challenge, strlen (challenge), NULL);
      if (c == NULL)
        abort ();
      sent = msrp_digest_client_respond (c, FUZZ_USER, FUZZ_PASS, NULL,
                                         MSRP_DIGEST_METHOD_AUTH, FUZZ_URI, 1,
                                         NULL);
      if (sent == NULL)
        abort ();
    }

  info = msrp_digest_info_parse (value, len, NULL);
  if (info == NULL)
    return;
  text = msrp_digest_info_to_string (info);
  again = msrp_digest_info_parse (text, strlen (text), NULL);
  if (again == NULL)
    abort ();
  /* The cnonce is random: a fuzzed rspauth can never be right. */
  if (msrp_digest_client_check_info (sent, info, FUZZ_PASS, NULL, NULL))
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *value;
  size_t len;

  if (size < 1)
    return 0;
  value = (const char *) data + 1;
  len = size - 1;
  switch (data[0] & 3)
    {
    case 0:
      fuzz_challenge (value, len);
      break;
    case 1:
      fuzz_credentials (value, len, FALSE);
      break;
    case 2:
      fuzz_info (value, len);
      break;
    case 3:
      fuzz_credentials (value, len, TRUE);
      break;
    }
  return 0;
}
