/* msrp-uri.h: MSRP URIs (RFC 4975 section 9, compared as section 6.1 says).
 *
 *   MSRP-URI = msrp-scheme "://" authority ["/" session-id] ";" transport
 *              *( ";" URI-parameter )
 *
 * An MsrpUri is an immutable, reference-counted value.  Parsing validates the
 * whole ABNF; formatting writes the canonical form back (round-trip stable).
 *
 * How the ABNF of RFC 4975 section 9 and RFC 3986 is read here:
 * - the scheme in any case ("MSRP://" too, RFC 3986 section 3.1);
 * - userinfo without ":" (RFC 4975 section 6: no password information);
 * - host: "[" IPv6address "]" (no zone id, no IPvFuture), a dotted IPv4
 *   address without leading zeros, or a non-empty reg-name without ";"
 *   whose last label is not numeric (a name of digits and dots must be a
 *   valid IPv4 address; RFC 3696 section 2);
 * - a port of 1..65535 (leading zeros allowed, dropped when written back);
 *   an IP address host must have one (RFC 4975 section 6);
 * - the ";" transport is mandatory.
 * Error messages name the part and the byte offset in the URI text.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MSRP_URI_ERROR (msrp_uri_error_quark ())
GQuark msrp_uri_error_quark (void);

typedef enum
{
  MSRP_URI_ERROR_SYNTAX, /* the text is not an MSRP-URI; message says where */
  MSRP_URI_ERROR_TOO_LONG, /* longer than MSRP_URI_MAX_LEN (as given or in
                            * canonical form), or a list of more than
                            * MSRP_URI_LIST_MAX URIs */
} MsrpUriError;

/* Longest URI text accepted, in bytes; bounds memory per URI. */
#define MSRP_URI_MAX_LEN 1024

/* RFC 4975 section 15.4: default port for both schemes. */
#define MSRP_DEFAULT_PORT 2855

typedef enum
{
  MSRP_SCHEME_MSRP,
  MSRP_SCHEME_MSRPS,
} MsrpScheme;

typedef enum
{
  MSRP_HOST_IPV4,
  MSRP_HOST_IPV6, /* get_host() returns it without the brackets */
  MSRP_HOST_NAME, /* reg-name of RFC 3986 */
} MsrpHostType;

typedef struct _MsrpUri MsrpUri;

/* Parse @len bytes of @text (or up to NUL when @len is -1).  @text need not be
 * NUL-terminated when @len >= 0 and is never read past @len.
 * Returns: (transfer full) (nullable): the URI, or NULL with @error set. */
G_GNUC_WARN_UNUSED_RESULT
MsrpUri *msrp_uri_parse (const char *text, gssize len, GError **error);

/* Build a URI from parts (for relay URIs the gateway mints).  @host is a name,
 * a dotted IPv4 or an IPv6 address without brackets (a host with a ":" is
 * taken for IPv6).  @port 0 means absent, which an IP address host may not
 * be.  @session_id and @userinfo may be NULL; @transport NULL means "tcp".
 * Each part is validated as msrp_uri_parse () validates it, and the URI's
 * text is its canonical form.
 * Returns: (transfer full) (nullable): NULL with @error if a part is invalid.
 */
G_GNUC_WARN_UNUSED_RESULT
MsrpUri *msrp_uri_new (MsrpScheme scheme, const char *userinfo,
                       const char *host, guint16 port, const char *session_id,
                       const char *transport, GError **error);

MsrpUri *msrp_uri_ref (MsrpUri *uri);
void msrp_uri_unref (MsrpUri *uri);

MsrpScheme msrp_uri_get_scheme (const MsrpUri *uri);
/* (transfer none) (nullable) */
const char *msrp_uri_get_userinfo (const MsrpUri *uri);
/* (transfer none): the host in canonical form: a name lower-cased with its
 * percent-encoding normalised (RFC 3986 section 6.2.2), an IPv4 address as
 * written, an IPv6 address as inet_ntop () writes it (RFC 5952: lower case,
 * zeros compressed, "::ffff:192.0.2.1" for IPv4-mapped), without brackets. */
const char *msrp_uri_get_host (const MsrpUri *uri);
MsrpHostType msrp_uri_get_host_type (const MsrpUri *uri);
/* The port written in the URI, or 0 when absent. */
guint16 msrp_uri_get_port (const MsrpUri *uri);
/* The written port, or MSRP_DEFAULT_PORT when absent.  (For a relay URI
 * with a name and no port, RFC 4976 section 8 asks for an SRV lookup
 * first; that is the caller's business.) */
guint16 msrp_uri_get_effective_port (const MsrpUri *uri);
/* (transfer none) (nullable) */
const char *msrp_uri_get_session_id (const MsrpUri *uri);
/* (transfer none): "tcp", "ws", ... lower-case */
const char *msrp_uri_get_transport (const MsrpUri *uri);
/* URI-parameters after the transport, in order, as written; value NULL when
 * no "=".
 * Returns: (transfer none) (nullable): the value of the first parameter
 * named @name (case-insensitive), and sets @present (nullable) to whether
 * there is one. */
const char *msrp_uri_get_param (const MsrpUri *uri, const char *name,
                                gboolean *present);
guint msrp_uri_get_n_params (const MsrpUri *uri);

/* Canonical text: scheme lower-case, userinfo with percent-encoding
 * normalised, host as msrp_uri_get_host () (IPv6 in brackets), the port
 * when one was written, session-id as written, transport lower-case,
 * URI-parameters as written.  msrp_uri_parse () of it gives an equal URI
 * with the same canonical text.  Returns: (transfer none): owned by @uri. */
const char *msrp_uri_to_string (const MsrpUri *uri);

/* The text exactly as msrp_uri_parse () was given it (for msrp_uri_new (),
 * the canonical text).  A relay that passes a peer's URI on should write
 * this back: peers in the field often compare path URIs as strings.
 * Returns: (transfer none): owned by @uri. */
const char *msrp_uri_get_text (const MsrpUri *uri);

/* RFC 4975 section 6.1 comparison: scheme and host case-insensitive, with
 * percent-encoding normalised (IPv4 and IPv6 addresses by value; a name
 * never equals an address, nor an IPv4 address the IPv4-mapped IPv6 one);
 * rule 3: an explicit port never equals an absent one, so
 * "msrp://h:2855;tcp" and "msrp://h;tcp" differ (compare
 * msrp_uri_get_effective_port () to tell where they connect); session-id
 * case-sensitive, absent never equal to present; transport
 * case-insensitive; userinfo and URI-parameters ignored. */
gboolean msrp_uri_equal (const MsrpUri *a, const MsrpUri *b);

/* A space-separated URI list as in To-Path, From-Path, Use-Path and a=path:
 * MSRP-URI *( SP MSRP-URI ), exactly one space between two URIs and none
 * before the first or after the last.  At least one and at most
 * MSRP_URI_LIST_MAX URIs.  @len as for msrp_uri_parse ().  Errors about
 * one URI start with "URI N of the list: " (N from 1) and give offsets
 * within that URI; the others are "URI list is empty" and "URI list has
 * more than 32 URIs" (MSRP_URI_ERROR_TOO_LONG).
 * Returns: (transfer full) (nullable): GPtrArray of MsrpUri (free func set).
 */
#define MSRP_URI_LIST_MAX 32
G_GNUC_WARN_UNUSED_RESULT
GPtrArray *msrp_uri_list_parse (const char *text, gssize len, GError **error);
/* (transfer full): the list in canonical form, single spaces between URIs */
char *msrp_uri_list_to_string (GPtrArray *uris);
/* (transfer full): msrp_uri_get_text () of each URI, single spaces between */
char *msrp_uri_list_to_text (GPtrArray *uris);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpUri, msrp_uri_unref)

G_END_DECLS
