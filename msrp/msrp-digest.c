/* msrp-digest.c: HTTP Digest authentication for MSRP AUTH (RFC 4976
 * sections 5.1 and 9.1, RFC 7616, auth-param syntax of RFC 7235 s. 2.1). */
#include "msrp-digest.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

GQuark
msrp_digest_error_quark (void)
{
  return g_quark_from_static_string ("msrp-digest-error-quark");
}

/* Longest parameter name quoted in an error message. */
#define NAME_SHOWN_MAX 64

#define HEADER_WWW_AUTHENTICATE "WWW-Authenticate"
#define HEADER_AUTHORIZATION "Authorization"
#define HEADER_AUTHENTICATION_INFO "Authentication-Info"

/* ---------------------------------------------------------------------------
 * Algorithms and H() (RFC 7616 sections 3.2 and 3.3)
 * ------------------------------------------------------------------------- */

const char *
msrp_digest_algorithm_to_string (MsrpDigestAlgorithm algorithm)
{
  switch (algorithm)
    {
    case MSRP_DIGEST_ALGORITHM_MD5:
      return "MD5";
    case MSRP_DIGEST_ALGORITHM_SHA256:
      return "SHA-256";
    case MSRP_DIGEST_ALGORITHM_UNKNOWN:
    default:
      return NULL;
    }
}

/* The token is case-insensitive in practice (HTTP implementations compare
 * it so); "-sess" variants are not supported (RFC 4976 section 9.1 forbids
 * MD5-sess challenges) and come back UNKNOWN. */
MsrpDigestAlgorithm
msrp_digest_algorithm_from_string (const char *name, gsize len)
{
  g_return_val_if_fail (name != NULL || len == 0,
                        MSRP_DIGEST_ALGORITHM_UNKNOWN);

  if (len == 3 && g_ascii_strncasecmp (name, "MD5", 3) == 0)
    return MSRP_DIGEST_ALGORITHM_MD5;
  if (len == 7 && g_ascii_strncasecmp (name, "SHA-256", 7) == 0)
    return MSRP_DIGEST_ALGORITHM_SHA256;
  return MSRP_DIGEST_ALGORITHM_UNKNOWN;
}

gsize
msrp_digest_algorithm_hex_len (MsrpDigestAlgorithm algorithm)
{
  switch (algorithm)
    {
    case MSRP_DIGEST_ALGORITHM_MD5:
      return 32;
    case MSRP_DIGEST_ALGORITHM_SHA256:
      return 64;
    case MSRP_DIGEST_ALGORITHM_UNKNOWN:
    default:
      return 0;
    }
}

static const EVP_MD *
algorithm_md (MsrpDigestAlgorithm algorithm)
{
  switch (algorithm)
    {
    case MSRP_DIGEST_ALGORITHM_MD5:
      return EVP_md5 ();
    case MSRP_DIGEST_ALGORITHM_SHA256:
      return EVP_sha256 ();
    case MSRP_DIGEST_ALGORITHM_UNKNOWN:
    default:
      return NULL;
    }
}

static void
hex_encode (const guint8 *bytes, gsize len, char *out)
{
  static const char digits[] = "0123456789abcdef";

  for (gsize i = 0; i < len; i++)
    {
      out[2 * i] = digits[bytes[i] >> 4];
      out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
  out[2 * len] = '\0';
}

static gboolean
is_hex (const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* RFC 7616 section 3.3: H(data) = <algorithm>(data), written as lower-case
 * hex (section 3.2).  @data is @parts joined by ":" (no white space around
 * the colons, section 3.4.5).  @out holds MSRP_DIGEST_HEX_SIZE bytes. */
static gboolean
hash_hex (MsrpDigestAlgorithm algorithm, const char *const *parts,
          guint n_parts, char *out, GError **error)
{
  const EVP_MD *md = algorithm_md (algorithm);
  EVP_MD_CTX *ctx;
  guint8 digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  gboolean ok;

  if (md == NULL)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "algorithm is not MD5 or SHA-256");
      return FALSE;
    }
  ctx = EVP_MD_CTX_new ();
  ok = ctx != NULL && EVP_DigestInit_ex (ctx, md, NULL) == 1;
  for (guint i = 0; ok && i < n_parts; i++)
    {
      if (i > 0)
        ok = EVP_DigestUpdate (ctx, ":", 1) == 1;
      if (ok)
        ok = EVP_DigestUpdate (ctx, parts[i], strlen (parts[i])) == 1;
    }
  if (ok)
    ok = EVP_DigestFinal_ex (ctx, digest, &digest_len) == 1;
  EVP_MD_CTX_free (ctx);
  if (!ok || digest_len * 2 != msrp_digest_algorithm_hex_len (algorithm))
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_FAILED,
                   "OpenSSL cannot compute %s",
                   msrp_digest_algorithm_to_string (algorithm));
      return FALSE;
    }
  hex_encode (digest, digest_len, out);
  OPENSSL_cleanse (digest, sizeof digest);
  return TRUE;
}

char *
msrp_digest_compute_ha1 (MsrpDigestAlgorithm algorithm, const char *username,
                         const char *realm, const char *password,
                         GError **error)
{
  const char *parts[3] = { username, realm, password };
  char hex[MSRP_DIGEST_HEX_SIZE];

  g_return_val_if_fail (username != NULL, NULL);
  g_return_val_if_fail (realm != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* RFC 7616 section 3.4.2: A1 = unq(username) ":" unq(realm) ":" passwd */
  if (!hash_hex (algorithm, parts, 3, hex, error))
    return NULL;
  return g_strdup (hex);
}

/* Copy @ha1 lower-cased into @out if it is hex of @algorithm's length. */
static gboolean
normalize_ha1 (MsrpDigestAlgorithm algorithm, const char *ha1, char *out)
{
  gsize want = msrp_digest_algorithm_hex_len (algorithm);

  if (want == 0 || ha1 == NULL || strlen (ha1) != want || !is_hex (ha1, want))
    return FALSE;
  for (gsize i = 0; i < want; i++)
    out[i] = g_ascii_tolower (ha1[i]);
  out[want] = '\0';
  return TRUE;
}

/* normalize_ha1() for caller-supplied input: INVALID error naming what is
 * wrong. */
static gboolean
check_ha1 (MsrpDigestAlgorithm algorithm, const char *ha1, char *out,
           GError **error)
{
  if (msrp_digest_algorithm_hex_len (algorithm) == 0)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "algorithm is not MD5 or SHA-256");
      return FALSE;
    }
  if (!normalize_ha1 (algorithm, ha1, out))
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "HA1 is not %" G_GSIZE_FORMAT " hex digits for %s",
                   msrp_digest_algorithm_hex_len (algorithm),
                   msrp_digest_algorithm_to_string (algorithm));
      return FALSE;
    }
  return TRUE;
}

/* Response with qop=auth, as a buffer (no allocation). */
static gboolean
response_hex (MsrpDigestAlgorithm algorithm, const char *ha1_norm,
              const char *nonce, const char *nc, const char *cnonce,
              const char *qop, const char *method, const char *uri, char *out,
              GError **error)
{
  char ha2[MSRP_DIGEST_HEX_SIZE];
  const char *a2[2] = { method, uri };
  const char *kd[6] = { ha1_norm, nonce, nc, cnonce, qop, ha2 };

  /* RFC 7616 section 3.4.3: A2 = Method ":" request-uri.  For MSRP, RFC
   * 4976 section 9.1: Method is "AUTH" and request-uri is the rightmost URI
   * of the To-Path header.  For rspauth (RFC 7616 section 3.5) the method is
   * empty: A2 = ":" request-uri. */
  if (!hash_hex (algorithm, a2, 2, ha2, error))
    return FALSE;
  /* RFC 7616 section 3.4.1: KD(H(A1), unq(nonce) ":" nc ":" unq(cnonce)
   * ":" unq(qop) ":" H(A2)), KD(secret, data) = H(secret ":" data). */
  return hash_hex (algorithm, kd, 6, out, error);
}

char *
msrp_digest_compute_response (MsrpDigestAlgorithm algorithm, const char *ha1,
                              const char *nonce, const char *nc,
                              const char *cnonce, const char *qop,
                              const char *method, const char *uri,
                              GError **error)
{
  char ha1_norm[MSRP_DIGEST_HEX_SIZE];
  char out[MSRP_DIGEST_HEX_SIZE];

  g_return_val_if_fail (ha1 != NULL, NULL);
  g_return_val_if_fail (nonce != NULL, NULL);
  g_return_val_if_fail (nc != NULL, NULL);
  g_return_val_if_fail (cnonce != NULL, NULL);
  g_return_val_if_fail (qop != NULL, NULL);
  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (uri != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_ha1 (algorithm, ha1, ha1_norm, error))
    return NULL;
  if (strlen (nc) != 8 || !is_hex (nc, 8))
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "nc is not 8 hex digits");
      return NULL;
    }
  if (!response_hex (algorithm, ha1_norm, nonce, nc, cnonce, qop, method, uri,
                     out, error))
    return NULL;
  return g_strdup (out);
}

/* ---------------------------------------------------------------------------
 * auth-param lists (RFC 7235 section 2.1, RFC 7230 sections 3.2.6 and 7)
 *
 *   auth-param    = token BWS "=" BWS ( token / quoted-string )
 *   quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
 *   qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
 *   quoted-pair   = "\" ( HTAB / SP / VCHAR / obs-text )
 *
 * Lists are comma separated with OWS; empty elements are skipped as RFC
 * 7230 section 7 asks of recipients.
 * ------------------------------------------------------------------------- */

typedef struct
{
  const char *name; /* into the caller's value, not NUL-terminated */
  gsize name_len;
  char *value; /* unquoted, NUL-terminated, owned */
  gsize value_len;
} Param;

typedef struct
{
  const char *header; /* for messages */
  Param params[MSRP_DIGEST_PARAMS_MAX];
  guint n;
} ParamList;

static void
param_list_clear (ParamList *list)
{
  for (guint i = 0; i < list->n; i++)
    g_free (list->params[i].value);
  list->n = 0;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ParamList, param_list_clear)

/* RFC 7230 section 3.2.6 tchar */
static gboolean
is_tchar (guchar c)
{
  if (g_ascii_isalnum (c))
    return TRUE;
  switch (c)
    {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
is_token (const char *s, gsize len)
{
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!is_tchar ((guchar) s[i]))
      return FALSE;
  return TRUE;
}

static gboolean
is_ows (char c)
{
  return c == ' ' || c == '\t';
}

static void
skip_ows (const char *s, gsize len, gsize *pos)
{
  while (*pos < len && is_ows (s[*pos]))
    (*pos)++;
}

static int
shown_len (gsize len)
{
  return (int) MIN (len, (gsize) NAME_SHOWN_MAX);
}

static gboolean
param_name_is (const Param *p, const char *name)
{
  gsize len = strlen (name);

  return p->name_len == len && g_ascii_strncasecmp (p->name, name, len) == 0;
}

/* A quoted-string starting at s[*pos] == '"', unescaped into a new string. */
static gboolean
parse_quoted (const ParamList *list, const char *s, gsize len, gsize *pos,
              Param *p, GError **error)
{
  GString *out = g_string_sized_new (32);
  gsize i = *pos + 1;

  for (;;)
    {
      guchar c;

      if (i >= len)
        {
          g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_SYNTAX,
                       "%s: parameter '%.*s' has an unterminated "
                       "quoted-string",
                       list->header, shown_len (p->name_len), p->name);
          goto fail;
        }
      c = (guchar) s[i];
      if (c == '"')
        break;
      if (c == '\\')
        {
          if (i + 1 >= len)
            {
              g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_SYNTAX,
                           "%s: parameter '%.*s' ends in a lone '\\'",
                           list->header, shown_len (p->name_len), p->name);
              goto fail;
            }
          i++;
          c = (guchar) s[i];
          /* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
          if ((c < 0x20 && c != '\t') || c == 0x7f)
            {
              g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_SYNTAX,
                           "%s: parameter '%.*s' escapes a control character "
                           "at offset %" G_GSIZE_FORMAT,
                           list->header, shown_len (p->name_len), p->name, i);
              goto fail;
            }
        }
      else if ((c < 0x20 && c != '\t') || c == 0x7f)
        {
          g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_SYNTAX,
                       "%s: parameter '%.*s' has a control character at "
                       "offset %" G_GSIZE_FORMAT,
                       list->header, shown_len (p->name_len), p->name, i);
          goto fail;
        }
      if (out->len >= MSRP_DIGEST_PARAM_MAX)
        {
          g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_TOO_LONG,
                       "%s: parameter '%.*s' is longer than %d bytes",
                       list->header, shown_len (p->name_len), p->name,
                       MSRP_DIGEST_PARAM_MAX);
          goto fail;
        }
      g_string_append_c (out, (char) c);
      i++;
    }
  *pos = i + 1;
  p->value_len = out->len;
  p->value = g_string_free (out, FALSE);
  return TRUE;

fail:
  g_string_free (out, TRUE);
  return FALSE;
}

/* auth-scheme 1*SP at *@pos, which must be Digest; *@pos moves past the
 * scheme. */
static gboolean
parse_scheme (const ParamList *list, const char *s, gsize len, gsize *pos,
              GError **error)
{
  gsize start = *pos, i = *pos;

  while (i < len && is_tchar ((guchar) s[i]))
    i++;
  if (i == start)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_SYNTAX,
                   "%s: value does not start with an auth-scheme",
                   list->header);
      return FALSE;
    }
  /* RFC 7235 section 2.1: the scheme is case-insensitive; RFC 4976
   * section 9.1: Basic is never accepted. */
  if (i - start != 6 || g_ascii_strncasecmp (s + start, "Digest", 6) != 0)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_UNSUPPORTED,
                   "%s: scheme '%.*s' is not Digest", list->header,
                   shown_len (i - start), s + start);
      return FALSE;
    }
  if (i < len && !is_ows (s[i]))
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_SYNTAX,
                   "%s: expected a space after 'Digest'", list->header);
      return FALSE;
    }
  *pos = i;
  return TRUE;
}

/* A token value at *@pos into @p; *@pos moves past it. */
static gboolean
parse_token_value (const ParamList *list, const char *s, gsize len, gsize *pos,
                   Param *p, GError **error)
{
  gsize start = *pos, i = *pos;

  while (i < len && is_tchar ((guchar) s[i]))
    i++;
  if (i == start)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_SYNTAX,
                   "%s: parameter '%.*s' has no value (a token or a "
                   "quoted-string)",
                   list->header, shown_len (p->name_len), p->name);
      return FALSE;
    }
  if (i - start > MSRP_DIGEST_PARAM_MAX)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_TOO_LONG,
                   "%s: parameter '%.*s' is longer than %d bytes",
                   list->header, shown_len (p->name_len), p->name,
                   MSRP_DIGEST_PARAM_MAX);
      return FALSE;
    }
  p->value = g_strndup (s + start, i - start);
  p->value_len = i - start;
  *pos = i;
  return TRUE;
}

/* One auth-param, token "=" ( token / quoted-string ), at *@pos into the
 * next of @list's params; *@pos moves past it. */
static gboolean
parse_param (ParamList *list, const char *s, gsize len, gsize *pos,
             GError **error)
{
  gsize start = *pos;
  Param *p;

  while (*pos < len && is_tchar ((guchar) s[*pos]))
    (*pos)++;
  if (*pos == start)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_SYNTAX,
                   "%s: expected a parameter name at offset %" G_GSIZE_FORMAT,
                   list->header, *pos);
      return FALSE;
    }
  p = &list->params[list->n];
  p->name = s + start;
  p->name_len = *pos - start;
  p->value = NULL;
  p->value_len = 0;

  for (guint i = 0; i < list->n; i++)
    if (list->params[i].name_len == p->name_len &&
        g_ascii_strncasecmp (list->params[i].name, p->name, p->name_len) == 0)
      {
        g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_DUPLICATE,
                     "%s: parameter '%.*s' appears twice", list->header,
                     shown_len (p->name_len), p->name);
        return FALSE;
      }

  skip_ows (s, len, pos);
  if (*pos >= len || s[*pos] != '=')
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_SYNTAX,
                   "%s: expected '=' after parameter '%.*s'", list->header,
                   shown_len (p->name_len), p->name);
      return FALSE;
    }
  (*pos)++;
  skip_ows (s, len, pos);

  if (*pos < len && s[*pos] == '"')
    {
      if (!parse_quoted (list, s, len, pos, p, error))
        return FALSE;
    }
  else if (!parse_token_value (list, s, len, pos, p, error))
    return FALSE;
  list->n++;

  /* Values reach logs and JSON: they must be UTF-8 (obs-text is
   * allowed by the grammar, but not arbitrary bytes). */
  if (!g_utf8_validate_len (p->value, p->value_len, NULL))
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "%s: parameter '%.*s' is not valid UTF-8", list->header,
                   shown_len (p->name_len), p->name);
      return FALSE;
    }
  return TRUE;
}

/* Parse "[Digest 1*SP] #auth-param" into @list.  @scheme: whether the value
 * starts with the auth-scheme (WWW-Authenticate, Authorization). */
static gboolean
parse_params (ParamList *list, const char *s, gsize len, gboolean scheme,
              GError **error)
{
  gsize pos = 0;

  if (s == NULL && len > 0)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_SYNTAX,
                   "%s: no value", list->header);
      return FALSE;
    }
  if (len > MSRP_DIGEST_VALUE_MAX)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_TOO_LONG,
                   "%s: value is longer than %d bytes", list->header,
                   MSRP_DIGEST_VALUE_MAX);
      return FALSE;
    }

  skip_ows (s, len, &pos);
  if (scheme && !parse_scheme (list, s, len, &pos, error))
    return FALSE;

  for (;;)
    {
      const Param *p;

      skip_ows (s, len, &pos);
      if (pos >= len)
        break;
      if (s[pos] == ',')
        {
          pos++;
          continue;
        }
      if (list->n >= MSRP_DIGEST_PARAMS_MAX)
        {
          g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_TOO_LONG,
                       "%s: more than %d parameters", list->header,
                       MSRP_DIGEST_PARAMS_MAX);
          return FALSE;
        }
      if (!parse_param (list, s, len, &pos, error))
        return FALSE;
      p = &list->params[list->n - 1];
      skip_ows (s, len, &pos);
      if (pos < len && s[pos] != ',')
        {
          g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_SYNTAX,
                       "%s: expected ',' after parameter '%.*s' at offset "
                       "%" G_GSIZE_FORMAT,
                       list->header, shown_len (p->name_len), p->name, pos);
          return FALSE;
        }
    }

  if (list->n == 0)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_MISSING,
                   "%s: no parameters", list->header);
      return FALSE;
    }
  return TRUE;
}

static Param *
find_param (ParamList *list, const char *name)
{
  for (guint i = 0; i < list->n; i++)
    if (param_name_is (&list->params[i], name))
      return &list->params[i];
  return NULL;
}

/* Take the value of @name (NULL when absent); MISSING error if @required. */
static gboolean
take_param (ParamList *list, const char *name, gboolean required,
            gboolean non_empty, char **out, GError **error)
{
  Param *p = find_param (list, name);

  *out = NULL;
  if (p == NULL)
    {
      if (!required)
        return TRUE;
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_MISSING,
                   "%s: parameter '%s' is missing", list->header, name);
      return FALSE;
    }
  if (non_empty && p->value_len == 0)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "%s: parameter '%s' is empty", list->header, name);
      return FALSE;
    }
  *out = g_steal_pointer (&p->value);
  return TRUE;
}

/* nc-value = 8LHEX (RFC 4976 section 7; RFC 7616 section 3.5: exactly 8).
 * Upper-case digits are accepted and kept as written, since the client
 * hashed them so. */
static gboolean
parse_nc (ParamList *list, const char *value, char *text, guint32 *nc,
          GError **error)
{
  guint32 n = 0;

  if (strlen (value) != 8 || !is_hex (value, 8))
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "%s: parameter 'nc' is not 8 hex digits", list->header);
      return FALSE;
    }
  for (guint i = 0; i < 8; i++)
    n = (n << 4) | (guint32) g_ascii_xdigit_value (value[i]);
  memcpy (text, value, 9);
  *nc = n;
  return TRUE;
}

/* A hex digest (response, rspauth), lower-cased in place. */
static gboolean
check_hex_param (ParamList *list, const char *name, char *value,
                 gboolean allow_empty, GError **error)
{
  gsize len = strlen (value);

  if ((len == 0 && !allow_empty) || len > 2 * EVP_MAX_MD_SIZE ||
      !is_hex (value, len))
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "%s: parameter '%s' is not a hex digest", list->header,
                   name);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    value[i] = g_ascii_tolower (value[i]);
  return TRUE;
}

/* "true" / "false", case-insensitive (userhash, RFC 7616 section 3.3). */
static gboolean
parse_bool (ParamList *list, const char *name, const char *value,
            gboolean *out, GError **error)
{
  if (g_ascii_strcasecmp (value, "true") == 0)
    *out = TRUE;
  else if (g_ascii_strcasecmp (value, "false") == 0)
    *out = FALSE;
  else
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "%s: parameter '%s' is not true or false", list->header,
                   name);
      return FALSE;
    }
  return TRUE;
}

/* qop-options = "qop=" DQUOTE qop-value *( "," qop-value ) DQUOTE
 * (RFC 4976 section 7), OWS allowed around the commas (RFC 7616 3.9.1
 * writes "auth, auth-int").  Sets @auth when "auth" is in the list;
 * unknown options are ignored (RFC 7616 section 3.3). */
static gboolean
parse_qop_options (ParamList *list, const char *value, gboolean *auth,
                   GError **error)
{
  gsize len = strlen (value);
  gsize pos = 0;
  guint n = 0;

  *auth = FALSE;
  for (;;)
    {
      gsize start;

      skip_ows (value, len, &pos);
      if (pos >= len)
        break;
      if (value[pos] == ',')
        {
          pos++;
          continue;
        }
      start = pos;
      while (pos < len && is_tchar ((guchar) value[pos]))
        pos++;
      if (pos == start)
        break; /* not a token: reported below */
      if (pos - start == 4 &&
          g_ascii_strncasecmp (value + start, "auth", 4) == 0)
        *auth = TRUE;
      n++;
      skip_ows (value, len, &pos);
      if (pos < len && value[pos] != ',')
        break;
    }
  if (pos < len || n == 0)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "%s: parameter 'qop' is not a list of tokens",
                   list->header);
      return FALSE;
    }
  return TRUE;
}

/* username* = ext-value (RFC 5987 section 3.2.1, RFC 7616 section 3.4):
 *   ext-value   = charset "'" [ language ] "'" value-chars
 *   value-chars = *( pct-encoded / attr-char )
 * Only UTF-8 is accepted (RFC 7616 section 4). */
static char *
decode_ext_value (ParamList *list, const char *value, GError **error)
{
  const char *q1 = strchr (value, '\'');
  const char *q2 = q1 != NULL ? strchr (q1 + 1, '\'') : NULL;
  GString *out;

  if (q1 == NULL || q2 == NULL)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "%s: parameter 'username*' is not charset'language'value",
                   list->header);
      return NULL;
    }
  if (q1 - value != 5 || g_ascii_strncasecmp (value, "UTF-8", 5) != 0)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "%s: parameter 'username*' is not in UTF-8", list->header);
      return NULL;
    }
  out = g_string_new (NULL);
  for (const char *c = q2 + 1; *c != '\0'; c++)
    {
      guchar b = (guchar) *c;

      if (b == '%')
        {
          if (!g_ascii_isxdigit (c[1]) || !g_ascii_isxdigit (c[2]))
            goto bad;
          b = (guchar) (g_ascii_xdigit_value (c[1]) << 4 |
                        g_ascii_xdigit_value (c[2]));
          c += 2;
          if (b < 0x20 || b == 0x7f)
            goto bad;
        }
      else if (!(g_ascii_isalnum (b) || strchr ("!#$&+-.^_`|~", b) != NULL))
        goto bad;
      g_string_append_c (out, (char) b);
    }
  if (out->len == 0 || !g_utf8_validate_len (out->str, out->len, NULL))
    goto bad;
  return g_string_free (out, FALSE);

bad:
  g_string_free (out, TRUE);
  g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
               "%s: parameter 'username*' is not a non-empty percent-encoded "
               "UTF-8 name without control characters",
               list->header);
  return NULL;
}

/* ---------------------------------------------------------------------------
 * Writing (RFC 7616 sections 3.3 to 3.5 say which values are quoted)
 * ------------------------------------------------------------------------- */

/* Can @s be written inside a quoted-string?  Valid UTF-8, no control
 * character but HTAB. */
static gboolean
is_quotable (const char *s)
{
  if (!g_utf8_validate (s, -1, NULL))
    return FALSE;
  for (const guchar *c = (const guchar *) s; *c != '\0'; c++)
    if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
      return FALSE;
  return TRUE;
}

static void
append_sep (GString *out)
{
  if (out->len > 0 && out->str[out->len - 1] != ' ')
    g_string_append (out, ", ");
}

static void
append_quoted (GString *out, const char *name, const char *value)
{
  append_sep (out);
  g_string_append (out, name);
  g_string_append (out, "=\"");
  for (const char *c = value; *c != '\0'; c++)
    {
      if (*c == '"' || *c == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *c);
    }
  g_string_append_c (out, '"');
}

/* Values that must not be quoted (algorithm, stale, qop, nc): as a token
 * when they are one, quoted otherwise so the output still parses. */
static void
append_token (GString *out, const char *name, const char *value)
{
  if (!is_token (value, strlen (value)))
    {
      append_quoted (out, name, value);
      return;
    }
  append_sep (out);
  g_string_append (out, name);
  g_string_append_c (out, '=');
  g_string_append (out, value);
}

/* ---------------------------------------------------------------------------
 * WWW-Authenticate
 * ------------------------------------------------------------------------- */

struct _MsrpDigestChallenge
{
  char *realm;
  char *nonce;
  char *opaque;         /* nullable */
  char *algorithm_name; /* nullable: absent */
  char *qop;            /* the qop-options list as written, unquoted */
  MsrpDigestAlgorithm algorithm;
  gboolean stale;
  gboolean offers_auth;
  gboolean userhash;
};

void
msrp_digest_challenge_free (MsrpDigestChallenge *c)
{
  if (c == NULL)
    return;
  g_free (c->realm);
  g_free (c->nonce);
  g_free (c->opaque);
  g_free (c->algorithm_name);
  g_free (c->qop);
  g_free (c);
}

MsrpDigestChallenge *
msrp_digest_challenge_parse (const char *value, gsize len, GError **error)
{
  g_auto (ParamList) list = { .header = HEADER_WWW_AUTHENTICATE };
  g_autoptr (MsrpDigestChallenge) c = g_new0 (MsrpDigestChallenge, 1);
  g_autofree char *stale = NULL;
  g_autofree char *userhash = NULL;
  g_autofree char *charset = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!parse_params (&list, value, len, TRUE, error))
    return NULL;
  /* RFC 4976 section 9.1: qop is always present; realm and nonce are the
   * challenge itself. */
  if (!take_param (&list, "realm", TRUE, FALSE, &c->realm, error) ||
      !take_param (&list, "nonce", TRUE, TRUE, &c->nonce, error) ||
      !take_param (&list, "qop", TRUE, FALSE, &c->qop, error) ||
      !take_param (&list, "opaque", FALSE, FALSE, &c->opaque, error) ||
      !take_param (&list, "algorithm", FALSE, TRUE, &c->algorithm_name,
                   error) ||
      !take_param (&list, "stale", FALSE, FALSE, &stale, error) ||
      !take_param (&list, "userhash", FALSE, FALSE, &userhash, error) ||
      !take_param (&list, "charset", FALSE, FALSE, &charset, error))
    return NULL;
  /* "domain" and anything unknown are ignored (RFC 4976 section 9.1, RFC
   * 7616 section 3.3). */

  if (!parse_qop_options (&list, c->qop, &c->offers_auth, error))
    return NULL;
  c->algorithm = c->algorithm_name == NULL
                     ? MSRP_DIGEST_ALGORITHM_MD5
                     : msrp_digest_algorithm_from_string (
                           c->algorithm_name, strlen (c->algorithm_name));
  /* RFC 7616 section 3.3: "If stale is false, or anything other than true
   * ... the username and/or password are invalid". */
  c->stale = stale != NULL && g_ascii_strcasecmp (stale, "true") == 0;
  if (userhash != NULL &&
      !parse_bool (&list, "userhash", userhash, &c->userhash, error))
    return NULL;
  if (charset != NULL && g_ascii_strcasecmp (charset, "UTF-8") != 0)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "%s: parameter 'charset' is not UTF-8", list.header);
      return NULL;
    }
  return g_steal_pointer (&c);
}

const char *
msrp_digest_challenge_get_realm (const MsrpDigestChallenge *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->realm;
}

const char *
msrp_digest_challenge_get_nonce (const MsrpDigestChallenge *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->nonce;
}

const char *
msrp_digest_challenge_get_opaque (const MsrpDigestChallenge *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->opaque;
}

gboolean
msrp_digest_challenge_get_stale (const MsrpDigestChallenge *c)
{
  g_return_val_if_fail (c != NULL, FALSE);
  return c->stale;
}

MsrpDigestAlgorithm
msrp_digest_challenge_get_algorithm (const MsrpDigestChallenge *c)
{
  g_return_val_if_fail (c != NULL, MSRP_DIGEST_ALGORITHM_UNKNOWN);
  return c->algorithm;
}

const char *
msrp_digest_challenge_get_algorithm_name (const MsrpDigestChallenge *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->algorithm_name;
}

gboolean
msrp_digest_challenge_offers_auth (const MsrpDigestChallenge *c)
{
  g_return_val_if_fail (c != NULL, FALSE);
  return c->offers_auth;
}

gboolean
msrp_digest_challenge_get_userhash (const MsrpDigestChallenge *c)
{
  g_return_val_if_fail (c != NULL, FALSE);
  return c->userhash;
}

gboolean
msrp_digest_challenge_is_usable (const MsrpDigestChallenge *c)
{
  g_return_val_if_fail (c != NULL, FALSE);
  return c->algorithm != MSRP_DIGEST_ALGORITHM_UNKNOWN && c->offers_auth;
}

char *
msrp_digest_challenge_to_string (const MsrpDigestChallenge *c)
{
  GString *out;

  g_return_val_if_fail (c != NULL, NULL);

  out = g_string_new ("Digest ");
  append_quoted (out, "realm", c->realm);
  append_quoted (out, "nonce", c->nonce);
  if (c->opaque != NULL)
    append_quoted (out, "opaque", c->opaque);
  if (c->stale)
    append_token (out, "stale", "true");
  if (c->algorithm_name != NULL)
    append_token (out, "algorithm", c->algorithm_name);
  append_quoted (out, "qop", c->qop);
  if (c->userhash)
    append_token (out, "userhash", "true");
  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------------------
 * Authorization
 * ------------------------------------------------------------------------- */

struct _MsrpDigestCredentials
{
  char *username;
  char *realm;
  char *nonce;
  char *uri;            /* nullable */
  char *response;       /* lower-case hex */
  char *algorithm_name; /* nullable: absent */
  char *cnonce;
  char *opaque; /* nullable */
  char *qop;
  char nc_text[9]; /* as written: it is what was hashed */
  guint32 nc;
  MsrpDigestAlgorithm algorithm;
  gboolean userhash;
};

void
msrp_digest_credentials_free (MsrpDigestCredentials *c)
{
  if (c == NULL)
    return;
  g_free (c->username);
  g_free (c->realm);
  g_free (c->nonce);
  g_free (c->uri);
  g_free (c->response);
  g_free (c->algorithm_name);
  g_free (c->cnonce);
  g_free (c->opaque);
  g_free (c->qop);
  g_free (c);
}

MsrpDigestCredentials *
msrp_digest_credentials_parse (const char *value, gsize len, GError **error)
{
  g_auto (ParamList) list = { .header = HEADER_AUTHORIZATION };
  g_autoptr (MsrpDigestCredentials) c = g_new0 (MsrpDigestCredentials, 1);
  g_autofree char *username_ext = NULL;
  g_autofree char *nc = NULL;
  g_autofree char *userhash = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!parse_params (&list, value, len, TRUE, error))
    return NULL;

  if (!take_param (&list, "username", FALSE, TRUE, &c->username, error) ||
      !take_param (&list, "username*", FALSE, TRUE, &username_ext, error))
    return NULL;
  /* RFC 7616 section 3.4: both "MUST be treated as an error". */
  if (c->username != NULL && username_ext != NULL)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_DUPLICATE,
                   "%s: parameters 'username' and 'username*' are both "
                   "present",
                   list.header);
      return NULL;
    }
  if (c->username == NULL && username_ext == NULL)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_MISSING,
                   "%s: parameter 'username' is missing", list.header);
      return NULL;
    }
  if (username_ext != NULL &&
      (c->username = decode_ext_value (&list, username_ext, error)) == NULL)
    return NULL;

  /* RFC 4976 section 9.1: qop, cnonce and nc are always sent. */
  if (!take_param (&list, "realm", TRUE, FALSE, &c->realm, error) ||
      !take_param (&list, "nonce", TRUE, TRUE, &c->nonce, error) ||
      !take_param (&list, "response", TRUE, FALSE, &c->response, error) ||
      !take_param (&list, "qop", TRUE, TRUE, &c->qop, error) ||
      !take_param (&list, "nc", TRUE, FALSE, &nc, error) ||
      !take_param (&list, "cnonce", TRUE, TRUE, &c->cnonce, error) ||
      !take_param (&list, "uri", FALSE, FALSE, &c->uri, error) ||
      !take_param (&list, "algorithm", FALSE, TRUE, &c->algorithm_name,
                   error) ||
      !take_param (&list, "opaque", FALSE, FALSE, &c->opaque, error) ||
      !take_param (&list, "userhash", FALSE, FALSE, &userhash, error))
    return NULL;

  if (!check_hex_param (&list, "response", c->response, FALSE, error))
    return NULL;
  /* message-qop = "qop=" qop-value: a single token (RFC 7616 3.4). */
  if (!is_token (c->qop, strlen (c->qop)))
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "%s: parameter 'qop' is not a single token", list.header);
      return NULL;
    }
  if (!parse_nc (&list, nc, c->nc_text, &c->nc, error))
    return NULL;
  if (userhash != NULL &&
      !parse_bool (&list, "userhash", userhash, &c->userhash, error))
    return NULL;
  c->algorithm = c->algorithm_name == NULL
                     ? MSRP_DIGEST_ALGORITHM_MD5
                     : msrp_digest_algorithm_from_string (
                           c->algorithm_name, strlen (c->algorithm_name));
  return g_steal_pointer (&c);
}

const char *
msrp_digest_credentials_get_username (const MsrpDigestCredentials *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->username;
}

const char *
msrp_digest_credentials_get_realm (const MsrpDigestCredentials *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->realm;
}

const char *
msrp_digest_credentials_get_nonce (const MsrpDigestCredentials *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->nonce;
}

const char *
msrp_digest_credentials_get_uri (const MsrpDigestCredentials *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->uri;
}

const char *
msrp_digest_credentials_get_response (const MsrpDigestCredentials *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->response;
}

MsrpDigestAlgorithm
msrp_digest_credentials_get_algorithm (const MsrpDigestCredentials *c)
{
  g_return_val_if_fail (c != NULL, MSRP_DIGEST_ALGORITHM_UNKNOWN);
  return c->algorithm;
}

const char *
msrp_digest_credentials_get_algorithm_name (const MsrpDigestCredentials *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->algorithm_name;
}

const char *
msrp_digest_credentials_get_cnonce (const MsrpDigestCredentials *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->cnonce;
}

const char *
msrp_digest_credentials_get_opaque (const MsrpDigestCredentials *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->opaque;
}

const char *
msrp_digest_credentials_get_qop (const MsrpDigestCredentials *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->qop;
}

guint32
msrp_digest_credentials_get_nc (const MsrpDigestCredentials *c)
{
  g_return_val_if_fail (c != NULL, 0);
  return c->nc;
}

gboolean
msrp_digest_credentials_get_userhash (const MsrpDigestCredentials *c)
{
  g_return_val_if_fail (c != NULL, FALSE);
  return c->userhash;
}

char *
msrp_digest_credentials_to_string (const MsrpDigestCredentials *c)
{
  GString *out;

  g_return_val_if_fail (c != NULL, NULL);

  out = g_string_new ("Digest ");
  append_quoted (out, "username", c->username);
  append_quoted (out, "realm", c->realm);
  append_quoted (out, "nonce", c->nonce);
  if (c->uri != NULL)
    append_quoted (out, "uri", c->uri);
  append_quoted (out, "response", c->response);
  if (c->algorithm_name != NULL)
    append_token (out, "algorithm", c->algorithm_name);
  append_quoted (out, "cnonce", c->cnonce);
  if (c->opaque != NULL)
    append_quoted (out, "opaque", c->opaque);
  append_token (out, "qop", c->qop);
  append_token (out, "nc", c->nc_text);
  if (c->userhash)
    append_token (out, "userhash", "true");
  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------------------
 * Authentication-Info
 * ------------------------------------------------------------------------- */

struct _MsrpDigestInfo
{
  char *nextnonce;
  char *rspauth; /* lower-case hex */
  char *cnonce;
  char *qop;
  char nc_text[9];
  guint32 nc;
  gboolean has_nc;
};

void
msrp_digest_info_free (MsrpDigestInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->nextnonce);
  g_free (info->rspauth);
  g_free (info->cnonce);
  g_free (info->qop);
  g_free (info);
}

MsrpDigestInfo *
msrp_digest_info_parse (const char *value, gsize len, GError **error)
{
  g_auto (ParamList) list = { .header = HEADER_AUTHENTICATION_INFO };
  g_autoptr (MsrpDigestInfo) info = g_new0 (MsrpDigestInfo, 1);
  g_autofree char *nc = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* ainfo = nextnonce / message-qop / response-auth / cnonce / nonce-count
   * (RFC 4976 section 7): no auth-scheme in front. */
  if (!parse_params (&list, value, len, FALSE, error))
    return NULL;
  if (!take_param (&list, "nextnonce", FALSE, TRUE, &info->nextnonce, error) ||
      !take_param (&list, "rspauth", FALSE, FALSE, &info->rspauth, error) ||
      !take_param (&list, "cnonce", FALSE, TRUE, &info->cnonce, error) ||
      !take_param (&list, "qop", FALSE, TRUE, &info->qop, error) ||
      !take_param (&list, "nc", FALSE, FALSE, &nc, error))
    return NULL;
  /* Authentication-Info = "Authentication-Info:" SP ainfo *("," ainfo):
   * at least one parameter this grammar knows. */
  if (info->nextnonce == NULL && info->rspauth == NULL &&
      info->cnonce == NULL && info->qop == NULL && nc == NULL)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_MISSING,
                   "%s: none of nextnonce, rspauth, cnonce, nc and qop is "
                   "present",
                   list.header);
      return NULL;
    }
  /* response-digest = DQUOTE *LHEX DQUOTE */
  if (info->rspauth != NULL &&
      !check_hex_param (&list, "rspauth", info->rspauth, TRUE, error))
    return NULL;
  if (info->qop != NULL && !is_token (info->qop, strlen (info->qop)))
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "%s: parameter 'qop' is not a single token", list.header);
      return NULL;
    }
  if (nc != NULL)
    {
      if (!parse_nc (&list, nc, info->nc_text, &info->nc, error))
        return NULL;
      info->has_nc = TRUE;
    }
  return g_steal_pointer (&info);
}

const char *
msrp_digest_info_get_nextnonce (const MsrpDigestInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->nextnonce;
}

const char *
msrp_digest_info_get_rspauth (const MsrpDigestInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->rspauth;
}

const char *
msrp_digest_info_get_cnonce (const MsrpDigestInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->cnonce;
}

const char *
msrp_digest_info_get_qop (const MsrpDigestInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->qop;
}

gboolean
msrp_digest_info_get_nc (const MsrpDigestInfo *info, guint32 *nc)
{
  g_return_val_if_fail (info != NULL, FALSE);
  if (!info->has_nc)
    return FALSE;
  if (nc != NULL)
    *nc = info->nc;
  return TRUE;
}

/* Never empty: parse keeps at least one parameter. */
char *
msrp_digest_info_to_string (const MsrpDigestInfo *info)
{
  GString *out;

  g_return_val_if_fail (info != NULL, NULL);

  out = g_string_new (NULL);
  if (info->nextnonce != NULL)
    append_quoted (out, "nextnonce", info->nextnonce);
  if (info->rspauth != NULL)
    append_quoted (out, "rspauth", info->rspauth);
  if (info->cnonce != NULL)
    append_quoted (out, "cnonce", info->cnonce);
  if (info->has_nc)
    append_token (out, "nc", info->nc_text);
  if (info->qop != NULL)
    append_token (out, "qop", info->qop);
  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------------------
 * Relay side: stateless nonces
 * ------------------------------------------------------------------------- */

#define SECRET_MIN 16
#define SECRET_RANDOM 32
#define NONCE_TS_LEN 8
#define NONCE_RAND_LEN 8
#define NONCE_BODY_LEN (NONCE_TS_LEN + NONCE_RAND_LEN)
#define NONCE_MAC_LEN 32
#define NONCE_RAW_LEN (NONCE_BODY_LEN + NONCE_MAC_LEN) /* 48 */
#define NONCE_TEXT_LEN (NONCE_RAW_LEN / 3 * 4)         /* 64 */
#define NONCE_LABEL "msrp-digest-nonce-v1"

G_STATIC_ASSERT (NONCE_RAW_LEN % 3 == 0);

/* What the replay guard remembers of a nonce: its body (timestamp and
 * random bytes, which its MAC is made from, so they name it), the highest
 * nonce-count accepted, and when it was issued.  One allocation of 32
 * bytes, the entry its own key: a relay holds one per AUTH for the
 * nonce's lifetime. */
typedef struct
{
  guint8 body[NONCE_BODY_LEN];
  gint64 issued_us;
  guint32 nc;
} ReplayEntry;

static guint
replay_hash (gconstpointer p)
{
  const ReplayEntry *e = p;
  guint h;

  /* The random bytes are random: any four make a good hash. */
  memcpy (&h, e->body + NONCE_TS_LEN, sizeof h);
  return h;
}

static gboolean
replay_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (((const ReplayEntry *) a)->body,
                 ((const ReplayEntry *) b)->body, NONCE_BODY_LEN) == 0;
}

struct _MsrpDigestServer
{
  guint8 secret[64];
  gsize secret_len;
  gint64 lifetime_us;
  EVP_MAC *hmac;

  /* replay guard; table NULL when off */
  GHashTable *replay; /* ReplayEntry set, by nonce body */
  guint replay_capacity;
  gboolean have_floor;
  gint64 floor_us; /* nonces issued at or before this are stale */
};

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
b64url_encode (const guint8 *in, gsize len, char *out)
{
  for (gsize i = 0; i + 3 <= len; i += 3)
    {
      guint32 v = (guint32) in[i] << 16 | (guint32) in[i + 1] << 8 | in[i + 2];

      *out++ = b64url[(v >> 18) & 63];
      *out++ = b64url[(v >> 12) & 63];
      *out++ = b64url[(v >> 6) & 63];
      *out++ = b64url[v & 63];
    }
  *out = '\0';
}

static int
b64url_value (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

/* Exactly NONCE_TEXT_LEN characters of the alphabet, no padding. */
static gboolean
b64url_decode_nonce (const char *text, guint8 *out)
{
  if (strlen (text) != NONCE_TEXT_LEN)
    return FALSE;
  for (gsize i = 0, o = 0; i < NONCE_TEXT_LEN; i += 4, o += 3)
    {
      guint32 v = 0;

      for (gsize k = 0; k < 4; k++)
        {
          int d = b64url_value (text[i + k]);

          if (d < 0)
            return FALSE;
          v = v << 6 | (guint32) d;
        }
      out[o] = (guint8) (v >> 16);
      out[o + 1] = (guint8) (v >> 8);
      out[o + 2] = (guint8) v;
    }
  return TRUE;
}

static gboolean
nonce_mac (const MsrpDigestServer *server, const guint8 *body, guint8 *out)
{
  EVP_MAC_CTX *ctx = EVP_MAC_CTX_new (server->hmac);
  OSSL_PARAM params[2];
  size_t out_len = 0;
  gboolean ok;

  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST,
                                                (char *) "SHA256", 0);
  params[1] = OSSL_PARAM_construct_end ();
  ok = ctx != NULL &&
       EVP_MAC_init (ctx, server->secret, server->secret_len, params) == 1 &&
       EVP_MAC_update (ctx, (const guint8 *) NONCE_LABEL,
                       strlen (NONCE_LABEL)) == 1 &&
       EVP_MAC_update (ctx, body, NONCE_BODY_LEN) == 1 &&
       EVP_MAC_final (ctx, out, &out_len, NONCE_MAC_LEN) == 1 &&
       out_len == NONCE_MAC_LEN;
  EVP_MAC_CTX_free (ctx);
  return ok;
}

/* Older than the lifetime, or from the future (the clock went back: stale,
 * so the client retries with a fresh nonce without asking the user). */
static gboolean
is_stale (const MsrpDigestServer *server, gint64 issued_us, gint64 now_us)
{
  return issued_us > now_us || (guint64) now_us - (guint64) issued_us >
                                   (guint64) server->lifetime_us;
}

MsrpDigestServer *
msrp_digest_server_new (const guint8 *secret, gsize secret_len,
                        guint lifetime_s, GError **error)
{
  g_autoptr (MsrpDigestServer) server = NULL;

  g_return_val_if_fail (secret != NULL || secret_len == 0, NULL);
  g_return_val_if_fail (lifetime_s > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  server = g_new0 (MsrpDigestServer, 1);
  server->lifetime_us = (gint64) lifetime_s * G_USEC_PER_SEC;
  if (secret != NULL)
    {
      if (secret_len < SECRET_MIN || secret_len > sizeof server->secret)
        {
          g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                       "nonce secret is %" G_GSIZE_FORMAT " bytes, not %d "
                       "to %" G_GSIZE_FORMAT,
                       secret_len, SECRET_MIN, sizeof server->secret);
          return NULL;
        }
      memcpy (server->secret, secret, secret_len);
      server->secret_len = secret_len;
    }
  else
    {
      if (RAND_bytes (server->secret, SECRET_RANDOM) != 1)
        {
          g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_FAILED,
                       "RAND_bytes failed to draw a nonce secret");
          return NULL;
        }
      server->secret_len = SECRET_RANDOM;
    }
  server->hmac = EVP_MAC_fetch (NULL, "HMAC", NULL);
  if (server->hmac == NULL)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_FAILED,
                   "OpenSSL has no HMAC");
      return NULL;
    }
  return g_steal_pointer (&server);
}

void
msrp_digest_server_free (MsrpDigestServer *server)
{
  if (server == NULL)
    return;
  OPENSSL_cleanse (server->secret, sizeof server->secret);
  EVP_MAC_free (server->hmac);
  if (server->replay != NULL)
    g_hash_table_unref (server->replay);
  g_free (server);
}

void
msrp_digest_server_set_replay_guard (MsrpDigestServer *server, guint capacity)
{
  g_return_if_fail (server != NULL);

  g_clear_pointer (&server->replay, g_hash_table_unref);
  server->have_floor = FALSE;
  server->floor_us = 0;
  server->replay_capacity = capacity;
  if (capacity > 0)
    server->replay =
        g_hash_table_new_full (replay_hash, replay_equal, g_free, NULL);
}

char *
msrp_digest_server_make_nonce (const MsrpDigestServer *server, gint64 now_us,
                               GError **error)
{
  guint8 raw[NONCE_RAW_LEN];
  char text[NONCE_TEXT_LEN + 1];
  guint64 ts = (guint64) now_us;

  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (guint i = 0; i < NONCE_TS_LEN; i++)
    raw[i] = (guint8) (ts >> (56 - 8 * i));
  if (RAND_bytes (raw + NONCE_TS_LEN, NONCE_RAND_LEN) != 1)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_FAILED,
                   "RAND_bytes failed to draw a nonce");
      return NULL;
    }
  if (!nonce_mac (server, raw, raw + NONCE_BODY_LEN))
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_FAILED,
                   "OpenSSL failed to compute the nonce HMAC");
      return NULL;
    }
  b64url_encode (raw, NONCE_RAW_LEN, text);
  return g_strdup (text);
}

MsrpDigestNonceStatus
msrp_digest_server_check_nonce (const MsrpDigestServer *server,
                                const char *nonce, gint64 now_us,
                                gint64 *issued_us)
{
  guint8 raw[NONCE_RAW_LEN];
  guint8 mac[NONCE_MAC_LEN];
  guint64 ts = 0;
  gint64 issued;

  g_return_val_if_fail (server != NULL, MSRP_DIGEST_NONCE_INVALID);

  if (nonce == NULL || !b64url_decode_nonce (nonce, raw))
    return MSRP_DIGEST_NONCE_INVALID;
  if (!nonce_mac (server, raw, mac) ||
      CRYPTO_memcmp (mac, raw + NONCE_BODY_LEN, NONCE_MAC_LEN) != 0)
    return MSRP_DIGEST_NONCE_INVALID;

  for (guint i = 0; i < NONCE_TS_LEN; i++)
    ts = ts << 8 | raw[i];
  issued = (gint64) ts;
  if (issued_us != NULL)
    *issued_us = issued;
  return is_stale (server, issued, now_us) ? MSRP_DIGEST_NONCE_STALE
                                           : MSRP_DIGEST_NONCE_VALID;
}

char *
msrp_digest_server_challenge (const MsrpDigestServer *server,
                              const char *realm, MsrpDigestAlgorithm algorithm,
                              gboolean stale, const char *opaque,
                              gint64 now_us, GError **error)
{
  MsrpDigestChallenge c = { 0 };
  g_autofree char *nonce = NULL;

  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (realm != NULL, NULL);
  g_return_val_if_fail (algorithm == MSRP_DIGEST_ALGORITHM_MD5 ||
                            algorithm == MSRP_DIGEST_ALGORITHM_SHA256,
                        NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!is_quotable (realm))
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "realm is not UTF-8 text without control characters");
      return NULL;
    }
  if (opaque != NULL && !is_quotable (opaque))
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "opaque is not UTF-8 text without control characters");
      return NULL;
    }
  nonce = msrp_digest_server_make_nonce (server, now_us, error);
  if (nonce == NULL)
    return NULL;

  /* RFC 4976 section 9.1: qop="auth" only (never auth-int), no domain, no
   * MD5-sess. */
  c.realm = (char *) realm;
  c.nonce = nonce;
  c.opaque = (char *) opaque;
  c.stale = stale;
  c.algorithm = algorithm;
  c.algorithm_name = (char *) msrp_digest_algorithm_to_string (algorithm);
  c.qop = (char *) "auth";
  c.offers_auth = TRUE;
  return msrp_digest_challenge_to_string (&c);
}

/* Replay guard: every nonce issued at or before @issued_us is forgotten
 * from now on, hence stale. */
static void
raise_floor (MsrpDigestServer *server, gint64 issued_us)
{
  if (!server->have_floor || issued_us > server->floor_us)
    server->floor_us = issued_us;
  server->have_floor = TRUE;
}

/* Make room for one entry: forget expired nonces, then, if still full, the
 * oldest one. */
static void
replay_make_room (MsrpDigestServer *server, gint64 now_us)
{
  GHashTableIter iter;
  gpointer key, value;
  const char *oldest = NULL;
  gint64 oldest_us = 0;

  if (g_hash_table_size (server->replay) < server->replay_capacity)
    return;
  g_hash_table_iter_init (&iter, server->replay);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      ReplayEntry *e = value;

      if (is_stale (server, e->issued_us, now_us))
        {
          raise_floor (server, e->issued_us);
          g_hash_table_iter_remove (&iter);
        }
      else if (oldest == NULL || e->issued_us < oldest_us)
        {
          oldest = key;
          oldest_us = e->issued_us;
        }
    }
  if (g_hash_table_size (server->replay) >= server->replay_capacity &&
      oldest != NULL)
    {
      raise_floor (server, oldest_us);
      g_hash_table_remove (server->replay, oldest);
    }
}

/* After a verified response: OK, REPLAY or STALE_NONCE (forgotten). */
static MsrpDigestResult
replay_check (MsrpDigestServer *server, const char *nonce, guint32 nc,
              gint64 issued_us, gint64 now_us)
{
  ReplayEntry key;
  guint8 raw[NONCE_RAW_LEN];
  ReplayEntry *e;

  if (server->replay == NULL)
    return MSRP_DIGEST_RESULT_OK;
  if (server->have_floor && issued_us <= server->floor_us)
    return MSRP_DIGEST_RESULT_STALE_NONCE;
  /* Verified already: the nonce decodes. */
  if (!b64url_decode_nonce (nonce, raw))
    return MSRP_DIGEST_RESULT_BAD_NONCE;
  memcpy (key.body, raw, NONCE_BODY_LEN);
  e = g_hash_table_lookup (server->replay, &key);
  if (e != NULL)
    {
      if (nc <= e->nc)
        return MSRP_DIGEST_RESULT_REPLAY;
      e->nc = nc;
      return MSRP_DIGEST_RESULT_OK;
    }
  replay_make_room (server, now_us);
  if (server->have_floor && issued_us <= server->floor_us)
    return MSRP_DIGEST_RESULT_STALE_NONCE;
  e = g_new (ReplayEntry, 1);
  *e = key;
  e->nc = nc;
  e->issued_us = issued_us;
  g_hash_table_add (server->replay, e);
  return MSRP_DIGEST_RESULT_OK;
}

const char *
msrp_digest_result_to_string (MsrpDigestResult result)
{
  switch (result)
    {
    case MSRP_DIGEST_RESULT_OK:
      return "ok";
    case MSRP_DIGEST_RESULT_STALE_NONCE:
      return "stale-nonce";
    case MSRP_DIGEST_RESULT_BAD_NONCE:
      return "bad-nonce";
    case MSRP_DIGEST_RESULT_BAD_RESPONSE:
      return "bad-response";
    case MSRP_DIGEST_RESULT_BAD_REALM:
      return "bad-realm";
    case MSRP_DIGEST_RESULT_BAD_URI:
      return "bad-uri";
    case MSRP_DIGEST_RESULT_UNKNOWN_ALGORITHM:
      return "unknown-algorithm";
    case MSRP_DIGEST_RESULT_BAD_QOP:
      return "bad-qop";
    case MSRP_DIGEST_RESULT_MALFORMED:
      return "malformed";
    case MSRP_DIGEST_RESULT_REPLAY:
      return "replay";
    default:
      return "unknown";
    }
}

MsrpDigestResult
msrp_digest_server_verify (MsrpDigestServer *server,
                           const MsrpDigestCredentials *creds,
                           const char *method, const char *digest_uri,
                           const char *realm, const char *ha1, gint64 now_us)
{
  char ha1_norm[MSRP_DIGEST_HEX_SIZE];
  char expected[MSRP_DIGEST_HEX_SIZE];
  MsrpDigestNonceStatus status;
  gboolean known;
  gint64 issued_us = 0;
  gsize hex_len;

  g_return_val_if_fail (server != NULL, MSRP_DIGEST_RESULT_MALFORMED);
  g_return_val_if_fail (creds != NULL, MSRP_DIGEST_RESULT_MALFORMED);
  g_return_val_if_fail (method != NULL, MSRP_DIGEST_RESULT_MALFORMED);
  g_return_val_if_fail (digest_uri != NULL, MSRP_DIGEST_RESULT_MALFORMED);
  g_return_val_if_fail (realm != NULL, MSRP_DIGEST_RESULT_MALFORMED);

  hex_len = msrp_digest_algorithm_hex_len (creds->algorithm);
  if (hex_len == 0)
    return MSRP_DIGEST_RESULT_UNKNOWN_ALGORITHM;
  /* RFC 4976 section 9.1: never auth-int. */
  if (g_ascii_strcasecmp (creds->qop, "auth") != 0)
    return MSRP_DIGEST_RESULT_BAD_QOP;
  if (strlen (creds->response) != hex_len)
    return MSRP_DIGEST_RESULT_MALFORMED;
  if (strcmp (creds->realm, realm) != 0)
    return MSRP_DIGEST_RESULT_BAD_REALM;
  /* RFC 7616 section 3.4.6: uri must designate the request's resource.  The
   * client hashed the To-Path URI as it wrote it, so compare the text. */
  if (creds->uri != NULL && strcmp (creds->uri, digest_uri) != 0)
    return MSRP_DIGEST_RESULT_BAD_URI;

  status = msrp_digest_server_check_nonce (server, creds->nonce, now_us,
                                           &issued_us);
  if (status == MSRP_DIGEST_NONCE_INVALID)
    return MSRP_DIGEST_RESULT_BAD_NONCE;

  /* An unknown user (or an HA1 that does not fit the algorithm) costs the
   * same work as a known one. */
  known = normalize_ha1 (creds->algorithm, ha1, ha1_norm);
  if (!known)
    {
      memset (ha1_norm, '0', hex_len);
      ha1_norm[hex_len] = '\0';
    }
  /* A digest OpenSSL refuses (MD5 under a FIPS provider) is an algorithm we
   * cannot use. */
  if (!response_hex (creds->algorithm, ha1_norm, creds->nonce, creds->nc_text,
                     creds->cnonce, creds->qop, method, digest_uri, expected,
                     NULL))
    return MSRP_DIGEST_RESULT_UNKNOWN_ALGORITHM;
  if (CRYPTO_memcmp (expected, creds->response, hex_len) != 0 || !known)
    return MSRP_DIGEST_RESULT_BAD_RESPONSE;

  /* Only now may stale=true be said: the password was right. */
  if (status == MSRP_DIGEST_NONCE_STALE)
    return MSRP_DIGEST_RESULT_STALE_NONCE;
  return replay_check (server, creds->nonce, creds->nc, issued_us, now_us);
}

char *
msrp_digest_server_authentication_info (const MsrpDigestServer *server,
                                        const MsrpDigestCredentials *creds,
                                        const char *digest_uri,
                                        const char *ha1, gboolean nextnonce,
                                        gint64 now_us, GError **error)
{
  char ha1_norm[MSRP_DIGEST_HEX_SIZE];
  char rspauth[MSRP_DIGEST_HEX_SIZE];
  g_autofree char *next = NULL;
  GString *out;

  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (creds != NULL, NULL);
  g_return_val_if_fail (digest_uri != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_ha1 (creds->algorithm, ha1, ha1_norm, error))
    return NULL;
  /* RFC 7616 section 3.5: rspauth is the response with A2 = ":" uri. */
  if (!response_hex (creds->algorithm, ha1_norm, creds->nonce, creds->nc_text,
                     creds->cnonce, creds->qop, "", digest_uri, rspauth,
                     error))
    return NULL;
  if (nextnonce)
    {
      next = msrp_digest_server_make_nonce (server, now_us, error);
      if (next == NULL)
        return NULL;
    }

  /* RFC 4976 section 9.1: rspauth, cnonce, nc and qop in every 200. */
  out = g_string_new (NULL);
  if (next != NULL)
    append_quoted (out, "nextnonce", next);
  append_quoted (out, "rspauth", rspauth);
  append_quoted (out, "cnonce", creds->cnonce);
  append_token (out, "nc", creds->nc_text);
  append_token (out, "qop", creds->qop);
  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------------------
 * Client side
 * ------------------------------------------------------------------------- */

/* HA1 from exactly one of @password and @ha1, lower-case into @out. */
static gboolean
client_ha1 (MsrpDigestAlgorithm algorithm, const char *username,
            const char *realm, const char *password, const char *ha1,
            char *out, GError **error)
{
  if (password != NULL)
    {
      const char *parts[3] = { username, realm, password };

      return hash_hex (algorithm, parts, 3, out, error);
    }
  return check_ha1 (algorithm, ha1, out, error);
}

MsrpDigestCredentials *
msrp_digest_client_respond (const MsrpDigestChallenge *challenge,
                            const char *username, const char *password,
                            const char *ha1, const char *method,
                            const char *digest_uri, guint32 nc, GError **error)
{
  g_autoptr (MsrpDigestCredentials) c = NULL;
  char ha1_norm[MSRP_DIGEST_HEX_SIZE];
  char response[MSRP_DIGEST_HEX_SIZE];
  guint8 cnonce_raw[16];
  char cnonce[2 * sizeof cnonce_raw + 1];
  gboolean ok;

  g_return_val_if_fail (challenge != NULL, NULL);
  g_return_val_if_fail (username != NULL, NULL);
  g_return_val_if_fail ((password == NULL) != (ha1 == NULL), NULL);
  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (digest_uri != NULL, NULL);
  g_return_val_if_fail (nc > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (challenge->algorithm == MSRP_DIGEST_ALGORITHM_UNKNOWN)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_UNSUPPORTED,
                   "%s: algorithm '%.*s' is not supported",
                   HEADER_WWW_AUTHENTICATE, NAME_SHOWN_MAX,
                   challenge->algorithm_name);
      return NULL;
    }
  if (!challenge->offers_auth)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_UNSUPPORTED,
                   "%s: qop does not offer 'auth'", HEADER_WWW_AUTHENTICATE);
      return NULL;
    }
  if (username[0] == '\0' || !is_quotable (username))
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "username is not non-empty UTF-8 text without control "
                   "characters");
      return NULL;
    }
  if (!is_quotable (digest_uri))
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "digest-uri is not text without control characters");
      return NULL;
    }
  if (!client_ha1 (challenge->algorithm, username, challenge->realm, password,
                   ha1, ha1_norm, error))
    return NULL;
  if (RAND_bytes (cnonce_raw, sizeof cnonce_raw) != 1)
    {
      OPENSSL_cleanse (ha1_norm, sizeof ha1_norm);
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_FAILED,
                   "RAND_bytes failed to draw a cnonce");
      return NULL;
    }
  hex_encode (cnonce_raw, sizeof cnonce_raw, cnonce);

  c = g_new0 (MsrpDigestCredentials, 1);
  g_snprintf (c->nc_text, sizeof c->nc_text, "%08x", nc);
  c->nc = nc;
  c->qop = g_strdup ("auth");
  ok = response_hex (challenge->algorithm, ha1_norm, challenge->nonce,
                     c->nc_text, cnonce, c->qop, method, digest_uri, response,
                     error);
  OPENSSL_cleanse (ha1_norm, sizeof ha1_norm);
  if (!ok)
    return NULL;

  c->username = g_strdup (username);
  c->realm = g_strdup (challenge->realm);
  c->nonce = g_strdup (challenge->nonce);
  c->uri = g_strdup (digest_uri);
  c->response = g_strdup (response);
  c->algorithm = challenge->algorithm;
  c->algorithm_name =
      g_strdup (msrp_digest_algorithm_to_string (challenge->algorithm));
  c->cnonce = g_strdup (cnonce);
  c->opaque = g_strdup (challenge->opaque);
  return g_steal_pointer (&c);
}

gboolean
msrp_digest_client_check_info (const MsrpDigestCredentials *sent,
                               const MsrpDigestInfo *info,
                               const char *password, const char *ha1,
                               GError **error)
{
  char ha1_norm[MSRP_DIGEST_HEX_SIZE];
  char expected[MSRP_DIGEST_HEX_SIZE];
  const char *missing = NULL;
  gsize hex_len;
  gboolean ok;

  g_return_val_if_fail (sent != NULL, FALSE);
  g_return_val_if_fail (info != NULL, FALSE);
  g_return_val_if_fail ((password == NULL) != (ha1 == NULL), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  hex_len = msrp_digest_algorithm_hex_len (sent->algorithm);
  if (hex_len == 0 || sent->uri == NULL)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_INVALID,
                   "the credentials sent have no known algorithm or no uri");
      return FALSE;
    }
  /* RFC 4976 section 9.1: all four in every 200 to an AUTH. */
  if (info->rspauth == NULL)
    missing = "rspauth";
  else if (info->cnonce == NULL)
    missing = "cnonce";
  else if (!info->has_nc)
    missing = "nc";
  else if (info->qop == NULL)
    missing = "qop";
  if (missing != NULL)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_MISSING,
                   "%s: parameter '%s' is missing", HEADER_AUTHENTICATION_INFO,
                   missing);
      return FALSE;
    }
  /* RFC 7616 section 3.5: cnonce and nc are those of the request. */
  if (strcmp (info->cnonce, sent->cnonce) != 0)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_MISMATCH,
                   "%s: cnonce is not the one sent",
                   HEADER_AUTHENTICATION_INFO);
      return FALSE;
    }
  if (info->nc != sent->nc)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_MISMATCH,
                   "%s: nc %08x is not the one sent (%08x)",
                   HEADER_AUTHENTICATION_INFO, info->nc, sent->nc);
      return FALSE;
    }
  if (g_ascii_strcasecmp (info->qop, sent->qop) != 0)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_MISMATCH,
                   "%s: qop is not the one sent", HEADER_AUTHENTICATION_INFO);
      return FALSE;
    }
  if (!client_ha1 (sent->algorithm, sent->username, sent->realm, password, ha1,
                   ha1_norm, error))
    return FALSE;
  ok = response_hex (sent->algorithm, ha1_norm, sent->nonce, sent->nc_text,
                     sent->cnonce, sent->qop, "", sent->uri, expected, error);
  OPENSSL_cleanse (ha1_norm, sizeof ha1_norm);
  if (!ok)
    return FALSE;
  if (strlen (info->rspauth) != hex_len ||
      CRYPTO_memcmp (expected, info->rspauth, hex_len) != 0)
    {
      g_set_error (error, MSRP_DIGEST_ERROR, MSRP_DIGEST_ERROR_MISMATCH,
                   "%s: rspauth is wrong: the relay did not prove it knows "
                   "the password",
                   HEADER_AUTHENTICATION_INFO);
      return FALSE;
    }
  return TRUE;
}
