#include "gw-users.h"

#include <string.h>

GQuark
gw_users_error_quark (void)
{
  return g_quark_from_static_string ("gw-users-error-quark");
}

typedef struct
{
  char *ha1;       /* lower-case hex */
  gboolean locked; /* written with '!': authenticates, not allowed */
} Entry;

struct _GwUsers
{
  gatomicrefcount ref;
  /* "ALGO:user:realm" -> Entry; user and realm never hold ':'. */
  GHashTable *table;
  char *source;
};

static void
entry_free (gpointer p)
{
  Entry *e = p;

  g_free (e->ha1);
  g_free (e);
}

GwUsers *
gw_users_new_empty (void)
{
  GwUsers *u = g_new0 (GwUsers, 1);

  g_atomic_ref_count_init (&u->ref);
  u->table =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, entry_free);
  u->source = g_strdup ("");
  return u;
}

GwUsers *
gw_users_ref (GwUsers *users)
{
  g_return_val_if_fail (users != NULL, NULL);
  g_atomic_ref_count_inc (&users->ref);
  return users;
}

void
gw_users_unref (GwUsers *users)
{
  if (users == NULL || !g_atomic_ref_count_dec (&users->ref))
    return;
  g_hash_table_unref (users->table);
  g_free (users->source);
  g_free (users);
}

static char *
make_key (MsrpDigestAlgorithm algorithm, const char *user, const char *realm)
{
  return g_strdup_printf (
      "%s:%s:%s", msrp_digest_algorithm_to_string (algorithm), user, realm);
}

static gboolean line_error (GError **error, GwUsersError code,
                            const char *source, guint line, const char *format,
                            ...) G_GNUC_PRINTF (5, 6);

static gboolean
line_error (GError **error, GwUsersError code, const char *source, guint line,
            const char *format, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, GW_USERS_ERROR, code, "%s:%u: %s", source, line, msg);
  return FALSE;
}

/* A user name or realm: non-empty UTF-8 without control characters (the
 * ':' was split on already).  Control characters are Unicode's Cc: C0, DEL
 * and C1 (U+0080..U+009F, e.g. NEL), which would break the log line an
 * error quoting the name goes to. */
static const char *
field_problem (const char *text, gsize len)
{
  if (len == 0)
    return "is empty";
  if (!g_utf8_validate_len (text, len, NULL))
    return "is not UTF-8";
  for (const char *c = text; c < text + len; c = g_utf8_next_char (c))
    if (g_unichar_iscntrl (g_utf8_get_char (c)))
      return "holds a control character";
  return NULL;
}

static gboolean
parse_line (GwUsers *u, const char *line, gsize len, const char *source,
            guint lineno, GError **error)
{
  const char *c1, *c2, *hex;
  gsize user_len, realm_len, hex_len;
  gboolean locked = FALSE;
  MsrpDigestAlgorithm algorithm;
  const char *problem;
  g_autofree char *user = NULL;
  g_autofree char *realm = NULL;
  g_autofree char *key = NULL;
  Entry *e;

  c1 = memchr (line, ':', len);
  c2 = c1 != NULL ? memchr (c1 + 1, ':', len - (gsize) (c1 + 1 - line)) : NULL;
  if (c2 == NULL)
    return line_error (error, GW_USERS_ERROR_SYNTAX, source, lineno,
                       "not user:realm:HA1 (%s ':')",
                       c1 == NULL ? "no" : "only one");
  user_len = (gsize) (c1 - line);
  realm_len = (gsize) (c2 - c1 - 1);
  hex = c2 + 1;
  hex_len = len - (gsize) (hex - line);
  if ((problem = field_problem (line, user_len)) != NULL)
    return line_error (error, GW_USERS_ERROR_SYNTAX, source, lineno,
                       "user name %s", problem);
  if ((problem = field_problem (c1 + 1, realm_len)) != NULL)
    return line_error (error, GW_USERS_ERROR_SYNTAX, source, lineno,
                       "realm %s", problem);
  if (hex_len > 0 && hex[0] == '!')
    {
      locked = TRUE;
      hex++;
      hex_len--;
    }
  for (gsize i = 0; i < hex_len; i++)
    if (!g_ascii_isxdigit (hex[i]))
      return line_error (error, GW_USERS_ERROR_SYNTAX, source, lineno,
                         "HA1 holds '%c', which is not a hex digit%s",
                         g_ascii_isprint (hex[i]) ? hex[i] : '?',
                         hex[i] == ':' ? " (too many ':')" : "");
  if (hex_len == 32)
    algorithm = MSRP_DIGEST_ALGORITHM_MD5;
  else if (hex_len == 64)
    algorithm = MSRP_DIGEST_ALGORITHM_SHA256;
  else
    return line_error (error, GW_USERS_ERROR_SYNTAX, source, lineno,
                       "HA1 has %" G_GSIZE_FORMAT " hex digits; MD5 needs "
                       "32, SHA-256 64",
                       hex_len);

  user = g_strndup (line, user_len);
  realm = g_strndup (c1 + 1, realm_len);
  key = make_key (algorithm, user, realm);
  if (g_hash_table_contains (u->table, key))
    return line_error (error, GW_USERS_ERROR_DUPLICATE, source, lineno,
                       "second %s line for user '%s' in realm '%s'",
                       msrp_digest_algorithm_to_string (algorithm), user,
                       realm);
  e = g_new0 (Entry, 1);
  e->ha1 = g_ascii_strdown (hex, (gssize) hex_len);
  e->locked = locked;
  g_hash_table_insert (u->table, g_steal_pointer (&key), e);
  return TRUE;
}

GwUsers *
gw_users_load_data (const char *data, gssize len, const char *source,
                    GError **error)
{
  g_autoptr (GwUsers) u = gw_users_new_empty ();
  const char *p, *end;
  guint lineno = 0;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (source != NULL, NULL);

  if (len < 0)
    len = (gssize) strlen (data);
  p = data;
  end = len > 0 ? data + len : data; /* data may be NULL when len is 0 */
  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *line_end = nl != NULL ? nl : end;
      const char *s = p;
      const char *e = line_end;

      lineno++;
      p = nl != NULL ? nl + 1 : end;
      if ((gsize) (e - s) > GW_USERS_LINE_MAX)
        {
          line_error (error, GW_USERS_ERROR_SYNTAX, source, lineno,
                      "line longer than %d bytes", GW_USERS_LINE_MAX);
          return NULL;
        }
      while (e > s && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
        e--;
      while (s < e && (*s == ' ' || *s == '\t'))
        s++;
      if (s == e || *s == '#')
        continue;
      if (memchr (s, '\0', (gsize) (e - s)) != NULL)
        {
          line_error (error, GW_USERS_ERROR_SYNTAX, source, lineno,
                      "line holds a NUL byte");
          return NULL;
        }
      if (!parse_line (u, s, (gsize) (e - s), source, lineno, error))
        return NULL;
    }
  g_free (u->source);
  u->source = g_strdup (source);
  return g_steal_pointer (&u);
}

GwUsers *
gw_users_load (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  if (!g_file_get_contents (path, &data, &len, &local))
    {
      g_set_error (error, GW_USERS_ERROR, GW_USERS_ERROR_FILE,
                   "cannot read users file: %s", local->message);
      return NULL;
    }
  return gw_users_load_data (data, (gssize) len, path, error);
}

const char *
gw_users_lookup (GwUsers *users, const char *user, const char *realm,
                 MsrpDigestAlgorithm algorithm, gboolean *locked)
{
  g_autofree char *key = NULL;
  const Entry *e;

  g_return_val_if_fail (users != NULL, NULL);
  if (user == NULL || realm == NULL ||
      msrp_digest_algorithm_to_string (algorithm) == NULL ||
      strchr (user, ':') != NULL || strchr (realm, ':') != NULL)
    return NULL;
  key = make_key (algorithm, user, realm);
  e = g_hash_table_lookup (users->table, key);
  if (e == NULL)
    return NULL;
  if (locked != NULL)
    *locked = e->locked;
  return e->ha1;
}

guint
gw_users_get_count (GwUsers *users)
{
  g_return_val_if_fail (users != NULL, 0);
  return g_hash_table_size (users->table);
}

const char *
gw_users_get_source (GwUsers *users)
{
  g_return_val_if_fail (users != NULL, NULL);
  return users->source;
}
