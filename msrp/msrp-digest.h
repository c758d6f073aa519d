/* msrp-digest.h: HTTP Digest authentication for MSRP AUTH (RFC 4976
 * sections 5.1 and 9.1, RFC 7616; MD5 and SHA-256, qop=auth only).
 *
 * Three header values are parsed and written:
 *
 *   WWW-Authenticate     a challenge (MsrpDigestChallenge); a relay may send
 *                        several, one per algorithm, as separate headers
 *   Authorization        credentials (MsrpDigestCredentials)
 *   Authentication-Info  rspauth, nextnonce, ... (MsrpDigestInfo)
 *
 * Parsers take the value exactly as the frame parser hands it over (the bytes
 * after "Name: " up to, not including, the CRLF; not NUL-terminated; never
 * read past @len).  Syntax (RFC 7235 section 2.1, RFC 7616 section 3):
 * auth-param = token BWS "=" BWS ( token / quoted-string ), comma separated
 * with optional whitespace.  Parameter names are case-insensitive, a
 * parameter may appear once, unknown parameters are checked for syntax and
 * ignored, token and quoted-string forms are both accepted for every value.
 * Writers produce the value only (no name, no CRLF) and quote as RFC 7616
 * says a sender must.
 *
 * What is hashed (RFC 7616 section 3.4.1, qop=auth):
 *
 *   HA1      = H(username ":" realm ":" password)
 *   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" H(A2))
 *   A2       = Method ":" digest-uri              (Authorization)
 *   A2       =        ":" digest-uri              (rspauth, section 3.5)
 *
 * and for MSRP (RFC 4976 section 9.1) Method is "AUTH" and digest-uri is the
 * rightmost URI of the AUTH request's To-Path header, as written there.
 *
 * The relay side never needs a clear password: it verifies from a stored
 * HA1.  Nonces are stateless (a timestamp, random bytes and an HMAC under the
 * server's secret), so any nonce can be checked without a table.  No clock is
 * read here: every call that needs the time takes @now_us, microseconds on
 * whatever clock the caller chooses (g_get_real_time() fits), used
 * consistently.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MSRP_DIGEST_ERROR (msrp_digest_error_quark ())
GQuark msrp_digest_error_quark (void);

typedef enum
{
  MSRP_DIGEST_ERROR_SYNTAX,      /* not auth-param syntax; the message says
                                  * where */
  MSRP_DIGEST_ERROR_TOO_LONG,    /* the value, a parameter or the count over
                                  * the limits below */
  MSRP_DIGEST_ERROR_DUPLICATE,   /* a parameter appears twice */
  MSRP_DIGEST_ERROR_MISSING,     /* a required parameter is absent */
  MSRP_DIGEST_ERROR_INVALID,     /* a parameter's value is not acceptable
                                  * ("nc" not 8 hex digits, ...) */
  MSRP_DIGEST_ERROR_UNSUPPORTED, /* not Digest, or an algorithm or qop this
                                  * module cannot use (client side) */
  MSRP_DIGEST_ERROR_MISMATCH,    /* Authentication-Info does not answer our
                                  * request, or rspauth is wrong */
  MSRP_DIGEST_ERROR_FAILED,      /* OpenSSL failed (RAND_bytes, a digest
                                  * disabled by a FIPS provider, ...) */
} MsrpDigestError;

/* Longest header value accepted, in bytes. */
#define MSRP_DIGEST_VALUE_MAX 4096
/* Longest single parameter value (after unquoting), in bytes. */
#define MSRP_DIGEST_PARAM_MAX 1024
/* Most parameters in one header value (known and unknown). */
#define MSRP_DIGEST_PARAMS_MAX 32
/* Room for the hex of the longest digest (SHA-256) and a NUL. */
#define MSRP_DIGEST_HEX_SIZE 65

/* The method whose A2 an MSRP relay checks (RFC 4976 section 7). */
#define MSRP_DIGEST_METHOD_AUTH "AUTH"

typedef enum
{
  MSRP_DIGEST_ALGORITHM_MD5, /* also when the parameter is absent */
  MSRP_DIGEST_ALGORITHM_SHA256,
  MSRP_DIGEST_ALGORITHM_UNKNOWN, /* anything else, "-sess" variants too */
} MsrpDigestAlgorithm;

/* "MD5" / "SHA-256"; NULL for MSRP_DIGEST_ALGORITHM_UNKNOWN. */
const char *msrp_digest_algorithm_to_string (MsrpDigestAlgorithm algorithm);
/* Case-insensitive; MSRP_DIGEST_ALGORITHM_UNKNOWN for anything else. */
MsrpDigestAlgorithm msrp_digest_algorithm_from_string (const char *name,
                                                       gsize len);
/* Hex digits of H(): 32 for MD5, 64 for SHA-256, 0 for unknown. */
gsize msrp_digest_algorithm_hex_len (MsrpDigestAlgorithm algorithm);

/* ---------------------------------------------------------------------------
 * Hash computations (RFC 7616 sections 3.4.1 to 3.4.3, 3.5)
 * ------------------------------------------------------------------------- */

/* HA1 = H(username ":" realm ":" password), lower-case hex.  For
 * provisioning tools and tests; a relay stores this, never the password.
 * Returns: (transfer full) (nullable): NULL with @error (FAILED) only when
 * OpenSSL cannot compute the digest. */
G_GNUC_WARN_UNUSED_RESULT
char *msrp_digest_compute_ha1 (MsrpDigestAlgorithm algorithm,
                               const char *username, const char *realm,
                               const char *password, GError **error);

/* response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri))
 * with any @method ("AUTH" for MSRP, "GET" for the RFC 7616 examples).  An
 * empty @method gives A2 = ":" uri, which is rspauth (RFC 7616 section 3.5).
 * @ha1 is hex of the algorithm's length (either case); @nc is the 8 hex
 * digits as written on the wire.
 * Returns: (transfer full) (nullable): lower-case hex, or NULL with @error
 * (INVALID for a malformed @ha1 or @nc, FAILED for OpenSSL). */
G_GNUC_WARN_UNUSED_RESULT
char *msrp_digest_compute_response (MsrpDigestAlgorithm algorithm,
                                    const char *ha1, const char *nonce,
                                    const char *nc, const char *cnonce,
                                    const char *qop, const char *method,
                                    const char *uri, GError **error);

/* ---------------------------------------------------------------------------
 * WWW-Authenticate: Digest challenge (RFC 4976 section 7, RFC 7616 s. 3.3)
 * Required: realm, nonce, qop (RFC 4976 section 9.1).  Parsed and kept:
 * opaque, stale, algorithm, userhash.  charset must be "UTF-8" when present.
 * domain is ignored (RFC 4976 section 9.1).
 * ------------------------------------------------------------------------- */

typedef struct _MsrpDigestChallenge MsrpDigestChallenge;

/* Returns: (transfer full) (nullable): NULL with @error set. */
G_GNUC_WARN_UNUSED_RESULT
MsrpDigestChallenge *msrp_digest_challenge_parse (const char *value, gsize len,
                                                  GError **error);
void msrp_digest_challenge_free (MsrpDigestChallenge *challenge);

/* All strings (transfer none), unquoted, owned by the challenge. */
const char *msrp_digest_challenge_get_realm (const MsrpDigestChallenge *c);
const char *msrp_digest_challenge_get_nonce (const MsrpDigestChallenge *c);
/* (nullable) */
const char *msrp_digest_challenge_get_opaque (const MsrpDigestChallenge *c);
/* stale=true (case-insensitive); any other value is FALSE (RFC 7616 3.3). */
gboolean msrp_digest_challenge_get_stale (const MsrpDigestChallenge *c);
MsrpDigestAlgorithm
msrp_digest_challenge_get_algorithm (const MsrpDigestChallenge *c);
/* The algorithm as written; (nullable) when absent. */
const char *
msrp_digest_challenge_get_algorithm_name (const MsrpDigestChallenge *c);
/* Does the qop list offer "auth"? */
gboolean msrp_digest_challenge_offers_auth (const MsrpDigestChallenge *c);
gboolean msrp_digest_challenge_get_userhash (const MsrpDigestChallenge *c);
/* Can msrp_digest_client_respond() answer it (MD5 or SHA-256, qop auth)?
 * RFC 7616 section 3.7: a client takes the first usable challenge, in the
 * order the headers came. */
gboolean msrp_digest_challenge_is_usable (const MsrpDigestChallenge *c);
/* Returns: (transfer full): the value written back (unknown parameters
 * and domain dropped). */
char *msrp_digest_challenge_to_string (const MsrpDigestChallenge *c);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpDigestChallenge, msrp_digest_challenge_free)

/* ---------------------------------------------------------------------------
 * Authorization: Digest credentials (RFC 4976 section 7, RFC 7616 s. 3.4)
 * Required: username (or username*, not both), realm, nonce, response, qop,
 * nc, cnonce (RFC 4976 section 9.1).  Optional: uri, algorithm, opaque,
 * userhash.  nc is exactly 8 hex digits; response is hex (its length is
 * checked against the algorithm when verifying).  username* (RFC 5987,
 * UTF-8 only) is decoded into the username.
 * ------------------------------------------------------------------------- */

typedef struct _MsrpDigestCredentials MsrpDigestCredentials;

/* Returns: (transfer full) (nullable): NULL with @error set. */
G_GNUC_WARN_UNUSED_RESULT
MsrpDigestCredentials *
msrp_digest_credentials_parse (const char *value, gsize len, GError **error);
void msrp_digest_credentials_free (MsrpDigestCredentials *creds);

/* All strings (transfer none), unquoted, owned by the credentials.  With
 * userhash=true the username is H(username ":" realm) in hex (section
 * 3.4.4): look the HA1 up accordingly. */
const char *
msrp_digest_credentials_get_username (const MsrpDigestCredentials *c);
const char *msrp_digest_credentials_get_realm (const MsrpDigestCredentials *c);
const char *msrp_digest_credentials_get_nonce (const MsrpDigestCredentials *c);
/* (nullable): RFC 4976's own examples omit uri. */
const char *msrp_digest_credentials_get_uri (const MsrpDigestCredentials *c);
/* Lower-case hex. */
const char *
msrp_digest_credentials_get_response (const MsrpDigestCredentials *c);
MsrpDigestAlgorithm
msrp_digest_credentials_get_algorithm (const MsrpDigestCredentials *c);
/* (nullable) as written */
const char *
msrp_digest_credentials_get_algorithm_name (const MsrpDigestCredentials *c);
const char *
msrp_digest_credentials_get_cnonce (const MsrpDigestCredentials *c);
/* (nullable) */
const char *
msrp_digest_credentials_get_opaque (const MsrpDigestCredentials *c);
const char *msrp_digest_credentials_get_qop (const MsrpDigestCredentials *c);
guint32 msrp_digest_credentials_get_nc (const MsrpDigestCredentials *c);
gboolean msrp_digest_credentials_get_userhash (const MsrpDigestCredentials *c);
/* Returns: (transfer full): "Digest username=..., ..." */
char *msrp_digest_credentials_to_string (const MsrpDigestCredentials *c);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpDigestCredentials,
                               msrp_digest_credentials_free)

/* ---------------------------------------------------------------------------
 * Authentication-Info (RFC 4976 section 7, RFC 7616 section 3.5)
 * Every parameter is optional when parsing (at least one of nextnonce,
 * rspauth, cnonce, nc and qop must be present);
 * msrp_digest_client_check_info() requires rspauth, cnonce, nc and qop as
 * RFC 4976 section 9.1 does.
 * ------------------------------------------------------------------------- */

typedef struct _MsrpDigestInfo MsrpDigestInfo;

/* Returns: (transfer full) (nullable): NULL with @error set. */
G_GNUC_WARN_UNUSED_RESULT
MsrpDigestInfo *msrp_digest_info_parse (const char *value, gsize len,
                                        GError **error);
void msrp_digest_info_free (MsrpDigestInfo *info);

/* All (transfer none) (nullable) when absent. */
const char *msrp_digest_info_get_nextnonce (const MsrpDigestInfo *info);
/* Lower-case hex. */
const char *msrp_digest_info_get_rspauth (const MsrpDigestInfo *info);
const char *msrp_digest_info_get_cnonce (const MsrpDigestInfo *info);
const char *msrp_digest_info_get_qop (const MsrpDigestInfo *info);
/* @nc: (out) (optional).  FALSE when nc is absent (*nc left alone). */
gboolean msrp_digest_info_get_nc (const MsrpDigestInfo *info, guint32 *nc);
/* Returns: (transfer full) */
char *msrp_digest_info_to_string (const MsrpDigestInfo *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpDigestInfo, msrp_digest_info_free)

/* ---------------------------------------------------------------------------
 * Relay side
 * ------------------------------------------------------------------------- */

/* Stateless nonces: base64url (no padding, 64 characters) of
 *   timestamp (8 bytes, @now_us big-endian) || random (8 bytes)
 *   || HMAC-SHA256(secret, "msrp-digest-nonce-v1" || timestamp || random)
 */
typedef enum
{
  MSRP_DIGEST_NONCE_VALID,
  MSRP_DIGEST_NONCE_STALE,   /* ours, but older than the lifetime (or from
                              * the future: the clock went back) */
  MSRP_DIGEST_NONCE_INVALID, /* not well-formed, or not our MAC (altered,
                              * another secret, a restart with a new one) */
} MsrpDigestNonceStatus;

typedef enum
{
  MSRP_DIGEST_RESULT_OK,
  MSRP_DIGEST_RESULT_STALE_NONCE,       /* response right, nonce expired:
                                         * 401 with stale=true */
  MSRP_DIGEST_RESULT_BAD_NONCE,         /* not a nonce of this server */
  MSRP_DIGEST_RESULT_BAD_RESPONSE,      /* wrong password or unknown user */
  MSRP_DIGEST_RESULT_BAD_REALM,         /* realm is not the expected one */
  MSRP_DIGEST_RESULT_BAD_URI,           /* uri given and not the digest-uri,
                                         * byte for byte */
  MSRP_DIGEST_RESULT_UNKNOWN_ALGORITHM, /* not MD5 or SHA-256, or refused by
                                         * OpenSSL (MD5 under FIPS) */
  MSRP_DIGEST_RESULT_BAD_QOP,           /* qop is not "auth" */
  MSRP_DIGEST_RESULT_MALFORMED,         /* response length does not fit the
                                         * algorithm */
  MSRP_DIGEST_RESULT_REPLAY,            /* nc not above the last accepted one
                                         * for this nonce (replay guard) */
} MsrpDigestResult;

/* Stable lower-case name for logs, e.g. "stale-nonce". */
const char *msrp_digest_result_to_string (MsrpDigestResult result);

/* Not thread-safe: msrp_digest_server_verify() updates the replay guard;
 * use one per thread or hold a lock. */
typedef struct _MsrpDigestServer MsrpDigestServer;

/* A nonce minter and checker.  @secret (at least 16 bytes) lets several
 * processes, or a restarted one, accept each other's nonces; NULL draws 32
 * random bytes.  Nonces older than @lifetime_s seconds (> 0) are stale.
 * Returns: (transfer full) (nullable): NULL with @error (INVALID for a short
 * secret, FAILED for RAND_bytes or a missing HMAC). */
G_GNUC_WARN_UNUSED_RESULT
MsrpDigestServer *msrp_digest_server_new (const guint8 *secret,
                                          gsize secret_len, guint lifetime_s,
                                          GError **error);
/* Wipes the secret. */
void msrp_digest_server_free (MsrpDigestServer *server);

/* Optional nonce-count replay guard (off by default).  With @capacity > 0
 * the server remembers, for up to @capacity nonces, the highest nc accepted
 * and answers MSRP_DIGEST_RESULT_REPLAY when an nc comes again.  When full it
 * forgets the oldest nonce and from then on treats every nonce issued no
 * later than the forgotten one as stale, so memory stays bounded and nothing
 * is accepted twice.  0 turns it off and forgets everything. */
void msrp_digest_server_set_replay_guard (MsrpDigestServer *server,
                                          guint capacity);

/* Returns: (transfer full) (nullable): a fresh nonce, NULL with @error
 * (FAILED) when RAND_bytes fails. */
G_GNUC_WARN_UNUSED_RESULT
char *msrp_digest_server_make_nonce (const MsrpDigestServer *server,
                                     gint64 now_us, GError **error);
/* @issued_us: (out) (optional): the nonce's timestamp when VALID or STALE. */
MsrpDigestNonceStatus
msrp_digest_server_check_nonce (const MsrpDigestServer *server,
                                const char *nonce, gint64 now_us,
                                gint64 *issued_us);

/* A WWW-Authenticate value with a fresh nonce, qop="auth" and @algorithm
 * (MD5 or SHA-256): for a 401 answer to an AUTH, one call per algorithm
 * offered, most preferred first (RFC 7616 section 3.7).  @stale after
 * MSRP_DIGEST_RESULT_STALE_NONCE; @opaque (nullable) is echoed by clients.
 * Returns: (transfer full) (nullable): NULL with @error (INVALID when
 * @realm or @opaque cannot be written as a quoted-string). */
G_GNUC_WARN_UNUSED_RESULT
char *msrp_digest_server_challenge (const MsrpDigestServer *server,
                                    const char *realm,
                                    MsrpDigestAlgorithm algorithm,
                                    gboolean stale, const char *opaque,
                                    gint64 now_us, GError **error);

/* Check parsed credentials against @method ("AUTH"), @digest_uri (the
 * rightmost To-Path URI as written), the expected @realm and @ha1, the
 * stored HA1 of the credentials' username for the credentials' algorithm
 * (NULL when the user is unknown: the work is done anyway and the answer is
 * BAD_RESPONSE).  Checks, in order: algorithm, qop, response length, realm,
 * uri, nonce MAC, response (constant time), nonce age, replay guard.  A
 * stale nonce is reported only when the response is right, so stale=true
 * never hides a wrong password (RFC 4976 section 6.3 counts failures by it).
 * Only OK records the nc in the replay guard. */
MsrpDigestResult msrp_digest_server_verify (MsrpDigestServer *server,
                                            const MsrpDigestCredentials *creds,
                                            const char *method,
                                            const char *digest_uri,
                                            const char *realm, const char *ha1,
                                            gint64 now_us);

/* The Authentication-Info value for the 200 answering credentials that
 * verified OK: rspauth, cnonce, nc and qop (RFC 4976 section 9.1), and a
 * fresh nextnonce when @nextnonce.
 * Returns: (transfer full) (nullable): NULL with @error (INVALID for an
 * unusable algorithm or HA1, FAILED for OpenSSL). */
G_GNUC_WARN_UNUSED_RESULT
char *msrp_digest_server_authentication_info (
    const MsrpDigestServer *server, const MsrpDigestCredentials *creds,
    const char *digest_uri, const char *ha1, gboolean nextnonce, gint64 now_us,
    GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpDigestServer, msrp_digest_server_free)

/* ---------------------------------------------------------------------------
 * Client side
 * ------------------------------------------------------------------------- */

/* Answer @challenge: credentials with a fresh random cnonce, nonce-count @nc
 * (1 for the first use of a nonce), qop=auth, uri=@digest_uri and the
 * challenge's realm, nonce, opaque and algorithm.  Give exactly one of
 * @password and @ha1.  Write them with msrp_digest_credentials_to_string()
 * and keep them for msrp_digest_client_check_info().
 * Returns: (transfer full) (nullable): NULL with @error (UNSUPPORTED for an
 * unusable challenge, INVALID for a username or uri that cannot be written,
 * FAILED for OpenSSL). */
G_GNUC_WARN_UNUSED_RESULT
MsrpDigestCredentials *msrp_digest_client_respond (
    const MsrpDigestChallenge *challenge, const char *username,
    const char *password, const char *ha1, const char *method,
    const char *digest_uri, guint32 nc, GError **error);

/* Check the relay's Authentication-Info against the credentials @sent:
 * rspauth, cnonce, nc and qop present, cnonce and nc those sent, rspauth
 * right (mutual authentication).  Exactly one of @password and @ha1.
 * Returns: FALSE with @error (MISSING, MISMATCH, ...) when it does not
 * hold. */
gboolean msrp_digest_client_check_info (const MsrpDigestCredentials *sent,
                                        const MsrpDigestInfo *info,
                                        const char *password, const char *ha1,
                                        GError **error);

G_END_DECLS
