/* fuzz-users.c: libFuzzer target for gateway/gw-users.c.
 *
 * Input: the bytes of a users file.  It is loaded with
 * gw_users_load_data() and checked against a model written from the
 * format gw-users.h documents (lines split at LF; a line longer than
 * GW_USERS_LINE_MAX fails; leading blanks and trailing blanks and CRs
 * stripped; blank and '#' lines skipped; the others must be user:realm:HA1
 * with a non-empty UTF-8 user and realm free of control characters, an
 * optional '!' and 32 or 64 hex digits, each user, realm and algorithm
 * once).  Checked:
 *   - it loads exactly when the model says so, and fails on the line the
 *     model names, with the model's error code, a message "fuzz:LINE: ..."
 *     that is printable UTF-8;
 *   - the count is the model's count, and every credential of the model is
 *     found with its HA1 in lower case and its lock flag;
 *   - lookups of names the input does not hold (other algorithm, user and
 *     realm swapped or altered, a ':' in a name, the unknown algorithm)
 *     fail unless the model holds them too;
 *   - NUL-terminated input (len -1) gives the same result;
 *   - nothing leaks (LeakSanitizer) and nothing reads outside the input
 *     (libFuzzer's copy has exactly its size). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw-users.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond)                                                           \
  do                                                                          \
    {                                                                         \
      if (!(cond))                                                            \
        abort ();                                                             \
    }                                                                         \
  while (0)

#define SOURCE "fuzz"

typedef struct
{
  char *user;
  char *realm;
  MsrpDigestAlgorithm algorithm;
  char *ha1; /* lower case */
  gboolean locked;
} Cred;

typedef struct
{
  GPtrArray *creds; /* Cred, in file order */
  GHashTable *keys; /* model key -> Cred (borrowed) */
  guint error_line; /* 0: loads */
  GwUsersError error_code;
} Model;

static void
cred_free (gpointer p)
{
  Cred *c = p;

  g_free (c->user);
  g_free (c->realm);
  g_free (c->ha1);
  g_free (c);
}

/* A key the implementation does not use: LF cannot occur in a field. */
static char *
model_key (MsrpDigestAlgorithm algorithm, const char *user, const char *realm)
{
  return g_strdup_printf ("%d\n%s\n%s", (int) algorithm, user, realm);
}

/* Non-empty UTF-8 without a control character (Unicode Cc: C0, DEL, C1). */
static gboolean
field_ok (const char *s, size_t len)
{
  if (len == 0 || !g_utf8_validate_len (s, len, NULL))
    return FALSE;
  for (const char *c = s; c < s + len; c = g_utf8_next_char (c))
    if (g_unichar_iscntrl (g_utf8_get_char (c)))
      return FALSE;
  return TRUE;
}

/* One stripped, non-blank, non-comment line: a Cred, or NULL. */
static Cred *
model_line (const char *s, size_t len)
{
  const char *c1 = memchr (s, ':', len);
  const char *c2 =
      c1 != NULL ? memchr (c1 + 1, ':', len - (size_t) (c1 + 1 - s)) : NULL;
  const char *hex;
  size_t hex_len;
  gboolean locked = FALSE;
  Cred *c;

  if (c2 == NULL)
    return NULL;
  if (!field_ok (s, (size_t) (c1 - s)) ||
      !field_ok (c1 + 1, (size_t) (c2 - c1 - 1)))
    return NULL;
  hex = c2 + 1;
  hex_len = len - (size_t) (hex - s);
  if (hex_len > 0 && hex[0] == '!')
    {
      locked = TRUE;
      hex++;
      hex_len--;
    }
  if (hex_len != 32 && hex_len != 64)
    return NULL;
  for (size_t i = 0; i < hex_len; i++)
    if (!g_ascii_isxdigit (hex[i]))
      return NULL;
  c = g_new0 (Cred, 1);
  c->user = g_strndup (s, (size_t) (c1 - s));
  c->realm = g_strndup (c1 + 1, (size_t) (c2 - c1 - 1));
  c->algorithm =
      hex_len == 32 ? MSRP_DIGEST_ALGORITHM_MD5 : MSRP_DIGEST_ALGORITHM_SHA256;
  c->ha1 = g_ascii_strdown (hex, (gssize) hex_len);
  c->locked = locked;
  return c;
}

static void
model_build (Model *m, const char *data, size_t size)
{
  const char *p = data, *end = data + size;
  guint lineno = 0;

  m->creds = g_ptr_array_new_with_free_func (cred_free);
  m->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  m->error_line = 0;
  while (p < end)
    {
      const char *nl = memchr (p, '\n', (size_t) (end - p));
      const char *s = p, *e = nl != NULL ? nl : end;
      Cred *c;
      char *key;

      lineno++;
      p = nl != NULL ? nl + 1 : end;
      if ((size_t) (e - s) > GW_USERS_LINE_MAX)
        goto syntax;
      while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
      while (s < e && (*s == ' ' || *s == '\t'))
        s++;
      if (s == e || *s == '#')
        continue;
      c = model_line (s, (size_t) (e - s));
      if (c == NULL)
        goto syntax;
      key = model_key (c->algorithm, c->user, c->realm);
      if (g_hash_table_contains (m->keys, key))
        {
          g_free (key);
          cred_free (c);
          m->error_line = lineno;
          m->error_code = GW_USERS_ERROR_DUPLICATE;
          return;
        }
      g_hash_table_insert (m->keys, key, c);
      g_ptr_array_add (m->creds, c);
    }
  return;

syntax:
  m->error_line = lineno;
  m->error_code = GW_USERS_ERROR_SYNTAX;
}

static void
model_clear (Model *m)
{
  g_hash_table_unref (m->keys);
  g_ptr_array_unref (m->creds);
}

/* Printable: non-empty UTF-8 without control characters (C0, DEL, C1). */
static void
check_printable (const char *msg)
{
  CHECK (msg[0] != '\0');
  CHECK (g_utf8_validate (msg, -1, NULL));
  for (const char *c = msg; *c != '\0'; c = g_utf8_next_char (c))
    CHECK (!g_unichar_iscntrl (g_utf8_get_char (c)));
}

/* Look up @user/@realm/@algorithm: found exactly when the model has it. */
static void
check_lookup (GwUsers *u, const Model *m, const char *user, const char *realm,
              MsrpDigestAlgorithm algorithm)
{
  g_autofree char *key = model_key (algorithm, user, realm);
  const Cred *c = g_hash_table_lookup (m->keys, key);
  gboolean locked = FALSE;
  const char *ha1 = gw_users_lookup (u, user, realm, algorithm, &locked);

  if (c == NULL)
    {
      CHECK (ha1 == NULL);
      return;
    }
  CHECK (ha1 != NULL && strcmp (ha1, c->ha1) == 0);
  CHECK (locked == c->locked);
  CHECK (gw_users_lookup (u, user, realm, algorithm, NULL) == ha1);
}

static void
check_users (GwUsers *u, const Model *m)
{
  static const MsrpDigestAlgorithm algs[] = {
    MSRP_DIGEST_ALGORITHM_MD5,
    MSRP_DIGEST_ALGORITHM_SHA256,
  };

  CHECK (gw_users_get_count (u) == m->creds->len);
  CHECK (strcmp (gw_users_get_source (u), SOURCE) == 0);

  /* Names nobody wrote: no line can hold a ':' or an LF in a field. */
  check_lookup (u, m, "alice", "relay", MSRP_DIGEST_ALGORITHM_MD5);
  CHECK (gw_users_lookup (u, "alice\n", "relay", MSRP_DIGEST_ALGORITHM_MD5,
                          NULL) == NULL);

  for (guint i = 0; i < m->creds->len && i < 64; i++)
    {
      const Cred *c = g_ptr_array_index (m->creds, i);
      g_autofree char *user_x = g_strconcat (c->user, "x", NULL);
      g_autofree char *user_up = g_utf8_strup (c->user, -1);
      g_autofree char *with_colon = g_strconcat (c->user, ":", c->realm, NULL);
      g_autofree char *user_short = g_strndup (c->user, strlen (c->user) - 1);

      for (guint a = 0; a < G_N_ELEMENTS (algs); a++)
        {
          check_lookup (u, m, c->user, c->realm, algs[a]);
          check_lookup (u, m, c->realm, c->user, algs[a]);
          check_lookup (u, m, user_x, c->realm, algs[a]);
          check_lookup (u, m, user_up, c->realm, algs[a]);
          check_lookup (u, m, c->user, user_x, algs[a]);
          check_lookup (u, m, user_short, c->realm, algs[a]);
        }
      CHECK (gw_users_lookup (u, c->user, c->realm,
                              MSRP_DIGEST_ALGORITHM_UNKNOWN, NULL) == NULL);
      CHECK (gw_users_lookup (u, with_colon, c->realm, c->algorithm, NULL) ==
             NULL);
      CHECK (gw_users_lookup (u, c->user, with_colon, c->algorithm, NULL) ==
             NULL);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GwUsers) u = NULL;
  Model m;

  /* Longer files only repeat what shorter ones test. */
  if (size > 64 * 1024)
    return 0;

  model_build (&m, text, size);
  u = gw_users_load_data (size > 0 ? text : NULL, (gssize) size, SOURCE,
                          &error);
  if (m.error_line == 0)
    {
      CHECK (u != NULL && error == NULL);
      check_users (u, &m);
    }
  else
    {
      g_autofree char *prefix = g_strdup_printf (SOURCE ":%u: ", m.error_line);

      CHECK (u == NULL && error != NULL);
      CHECK (error->domain == GW_USERS_ERROR);
      CHECK (error->code == (int) m.error_code);
      CHECK (g_str_has_prefix (error->message, prefix));
      check_printable (error->message);
    }

  /* NUL-terminated: the same, when the input holds no NUL. */
  if (memchr (data, '\0', size) == NULL)
    {
      g_autofree char *copy = g_strndup (text, size);
      g_autoptr (GError) error2 = NULL;
      g_autoptr (GwUsers) u2 = gw_users_load_data (copy, -1, SOURCE, &error2);

      CHECK ((u2 == NULL) == (u == NULL));
      if (u2 != NULL)
        CHECK (gw_users_get_count (u2) == gw_users_get_count (u));
      else
        CHECK (strcmp (error2->message, error->message) == 0);
    }

  model_clear (&m);
  return 0;
}
