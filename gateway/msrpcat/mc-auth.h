/* mc-auth.h: the client side of RFC 4976 AUTH: authenticate to each relay
 * in order over the connection to the first one, with HTTP Digest (MD5 or
 * SHA-256, RFC 7616, as RFC 4976 section 9.1 restricts it).
 *
 * Relay i is reached through the Use-Path of relays 0..i-1 (section 5.1:
 * "The client will form this AUTH message by setting the To-Path to
 * msrps://R1;tcp msrps://R2;tcp").  When every relay has answered 200, the
 * session's use_path is the Use-Path of the last one, which covers them all
 * ("after the outermost authentication").  A relay that returns only its own
 * URI gets the path to it put in front, so that the result is the same.
 */
#pragma once

#include "mc-link.h"
#include "mc-session.h"

G_BEGIN_DECLS

typedef struct _McAuth McAuth;

/* @ok FALSE: the failure was recorded with mc_session_fail(). */
typedef void (*McAuthDoneFunc) (McAuth *auth, gboolean ok, gpointer user_data);

/* @relays: GPtrArray of MsrpUri, at least one (a reference is taken).
 * @algorithm: the Digest algorithm to answer with, NULL: the first usable
 * challenge (RFC 7616 section 3.7).  (transfer full) */
G_GNUC_WARN_UNUSED_RESULT
McAuth *mc_auth_new (McSession *session, McLink *link, GPtrArray *relays,
                     const char *algorithm, McAuthDoneFunc done,
                     gpointer user_data);
void mc_auth_free (McAuth *auth);

/* Send the first AUTH. */
void mc_auth_start (McAuth *auth);
/* TRUE when @head answered the AUTH in flight (and was handled). */
gboolean mc_auth_handle_response (McAuth *auth, MsrpHead *head);
gboolean mc_auth_is_done (McAuth *auth);

G_END_DECLS
