/* gw-users.h: the users file of RFC 4976 AUTH (Digest, RFC 7616).
 *
 * One credential a line, in Apache htdigest form:
 *
 *   user:realm:HA1
 *
 * where user and realm are non-empty UTF-8 without ':' or control
 * characters (C0, DEL, C1) and HA1 is the lower- or upper-case hex of
 * H(user ":" realm ":" password): 32 digits for MD5 (what `htdigest`
 * writes), 64 for SHA-256 (provisioned with
 * `printf 'user:realm:pass' | sha256sum`).  A user may have one line per
 * algorithm and realm.  An HA1 written with a leading '!'
 * (as a locked password in /etc/shadow) keeps the credential checkable but
 * marks the user as not allowed to use the relay: AUTH answers 403.  Lines
 * starting with '#' (after optional blanks) and blank lines are ignored;
 * trailing blanks and a CR are stripped.  Every error names the line.
 *
 * A GwUsers never changes once loaded: reloading (SIGHUP) loads a new one
 * and swaps it in only when it loaded without error.
 */
#pragma once

#include <glib.h>
#include "msrp-digest.h"

G_BEGIN_DECLS

#define GW_USERS_ERROR (gw_users_error_quark ())
GQuark gw_users_error_quark (void);

typedef enum
{
  GW_USERS_ERROR_FILE,      /* the file cannot be read */
  GW_USERS_ERROR_SYNTAX,    /* a line is not user:realm:HA1 */
  GW_USERS_ERROR_DUPLICATE, /* user, realm and algorithm given twice */
} GwUsersError;

/* Longest line accepted, in bytes (user and realm are bounded by it). */
#define GW_USERS_LINE_MAX 1024

typedef struct _GwUsers GwUsers;

/* An empty table: every lookup fails.  (transfer full) */
G_GNUC_WARN_UNUSED_RESULT
GwUsers *gw_users_new_empty (void);

/* Load @path.
 * Returns: (transfer full) (nullable): NULL with @error, e.g.
 * "/etc/msrp-edge/users:3: HA1 has 31 hex digits; MD5 needs 32, SHA-256
 * 64". */
G_GNUC_WARN_UNUSED_RESULT
GwUsers *gw_users_load (const char *path, GError **error);

/* The same from @len bytes of @data (-1: NUL-terminated); @source names it
 * in errors. */
G_GNUC_WARN_UNUSED_RESULT
GwUsers *gw_users_load_data (const char *data, gssize len, const char *source,
                             GError **error);

GwUsers *gw_users_ref (GwUsers *users);
void gw_users_unref (GwUsers *users);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwUsers, gw_users_unref)

/* The HA1 (lower-case hex) of @user in @realm for @algorithm, or NULL when
 * there is no such line.  @locked (out) (optional): whether the line was
 * written with '!'.  (transfer none): owned by @users. */
const char *gw_users_lookup (GwUsers *users, const char *user,
                             const char *realm, MsrpDigestAlgorithm algorithm,
                             gboolean *locked);

/* Number of credential lines. */
guint gw_users_get_count (GwUsers *users);

/* (transfer none): the path or source it was loaded from ("" when empty). */
const char *gw_users_get_source (GwUsers *users);

G_END_DECLS
