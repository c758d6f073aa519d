/* msrp-uri.h: MSRP URIs (RFC 4975 section 9, compared as section 6.1 says).
 *
 *   MSRP-URI = msrp-scheme "://" authority ["/" session-id] ";" transport
 *              *( ";" URI-parameter )
 *
 * An MsrpUri is an immutable, reference-counted value.  Parsing validates the
 * whole ABNF; formatting writes the canonical form back (round-trip stable).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MSRP_URI_ERROR (msrp_uri_error_quark ())
GQuark msrp_uri_error_quark (void);

typedef enum {
  MSRP_URI_ERROR_SYNTAX,      /* the text is not an MSRP-URI; message says where */
  MSRP_URI_ERROR_TOO_LONG,    /* longer than MSRP_URI_MAX_LEN */
} MsrpUriError;

/* Longest URI text accepted, in bytes; bounds memory per URI. */
#define MSRP_URI_MAX_LEN 1024

/* RFC 4975 section 15.4: default port for both schemes. */
#define MSRP_DEFAULT_PORT 2855

typedef enum {
  MSRP_SCHEME_MSRP,
  MSRP_SCHEME_MSRPS,
} MsrpScheme;

typedef enum {
  MSRP_HOST_IPV4,
  MSRP_HOST_IPV6,   /* get_host() returns it without the brackets */
  MSRP_HOST_NAME,   /* reg-name of RFC 3986 */
} MsrpHostType;

typedef struct _MsrpUri MsrpUri;

/* Parse @len bytes of @text (or up to NUL when @len is -1).  @text need not be
 * NUL-terminated when @len >= 0 and is never read past @len.
 * Returns: (transfer full) (nullable): the URI, or NULL with @error set. */
G_GNUC_WARN_UNUSED_RESULT
MsrpUri *msrp_uri_parse (const char *text, gssize len, GError **error);

/* Build a URI from parts (for relay URIs the gateway mints).  @host is a name,
 * a dotted IPv4 or an IPv6 address without brackets.  @port 0 means absent.
 * @session_id and @userinfo may be NULL; @transport NULL means "tcp".
 * Returns: (transfer full) (nullable): NULL with @error if a part is invalid. */
G_GNUC_WARN_UNUSED_RESULT
MsrpUri *msrp_uri_new (MsrpScheme scheme, const char *userinfo,
                       const char *host, guint16 port, const char *session_id,
                       const char *transport, GError **error);

MsrpUri *msrp_uri_ref (MsrpUri *uri);
void msrp_uri_unref (MsrpUri *uri);

MsrpScheme msrp_uri_get_scheme (const MsrpUri *uri);
/* (transfer none) (nullable) */
const char *msrp_uri_get_userinfo (const MsrpUri *uri);
/* (transfer none): lower-case for names, as written for addresses */
const char *msrp_uri_get_host (const MsrpUri *uri);
MsrpHostType msrp_uri_get_host_type (const MsrpUri *uri);
/* The port written in the URI, or 0 when absent. */
guint16 msrp_uri_get_port (const MsrpUri *uri);
/* The port to connect to: the written one or MSRP_DEFAULT_PORT. */
guint16 msrp_uri_get_effective_port (const MsrpUri *uri);
/* (transfer none) (nullable) */
const char *msrp_uri_get_session_id (const MsrpUri *uri);
/* (transfer none): "tcp", "ws", ... lower-case */
const char *msrp_uri_get_transport (const MsrpUri *uri);
/* URI-parameters after the transport, in order; value NULL when no "=".
 * Returns: (transfer none) (nullable): the value of @name (case-insensitive),
 * and sets @present; */
const char *msrp_uri_get_param (const MsrpUri *uri, const char *name,
                                gboolean *present);
guint msrp_uri_get_n_params (const MsrpUri *uri);

/* Canonical text.  Returns: (transfer none): owned by @uri. */
const char *msrp_uri_to_string (const MsrpUri *uri);

/* RFC 4975 section 6.1 comparison: scheme and host case-insensitive (IPv6 by
 * value), absent port equals MSRP_DEFAULT_PORT, session-id case-sensitive,
 * transport case-insensitive, userinfo and URI-parameters ignored. */
gboolean msrp_uri_equal (const MsrpUri *a, const MsrpUri *b);

/* A space-separated URI list as in To-Path, From-Path, Use-Path and a=path.
 * At most MSRP_URI_LIST_MAX URIs.
 * Returns: (transfer full) (nullable): GPtrArray of MsrpUri (free func set). */
#define MSRP_URI_LIST_MAX 32
G_GNUC_WARN_UNUSED_RESULT
GPtrArray *msrp_uri_list_parse (const char *text, gssize len, GError **error);
/* (transfer full): the list written back, single spaces between URIs */
char *msrp_uri_list_to_string (GPtrArray *uris);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpUri, msrp_uri_unref)

G_END_DECLS
