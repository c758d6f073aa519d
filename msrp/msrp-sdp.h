/* msrp-sdp.h: SDP (RFC 8866) for MSRP media streams (RFC 4975 section 8,
 * RFC 4145, RFC 6135, RFC 6714, RFC 8122, RFC 6544, RFC 8839).
 *
 * An MsrpSdp is a session description kept as the list of its lines.  Parsing
 * either succeeds completely or returns NULL with an error naming the line
 * ("line 7: m= line needs <media> <port> <proto> <fmt>: ...").  Writing gives
 * back every line the module did not change byte for byte and in order, with
 * the line ending it had.
 *
 * What parsing checks (everything else passes through unread):
 * - the whole text: at most MSRP_SDP_MAX_SIZE bytes, MSRP_SDP_MAX_LINES lines
 *   and MSRP_SDP_MAX_LINE_LEN bytes a line (line ending not counted); no NUL
 *   byte and no CR that is not part of a CRLF (RFC 8866 section 9:
 *   byte-string); every line "<type>=<value>" with an ASCII letter as type
 *   (section 5), an a= line's name a token (section 9: attribute-name);
 *   valid UTF-8 (section 5: the default character set), except the s= and i=
 *   lines when the SDP has an a=charset line (section 6.10);
 * - the first line is "v=0" and there is no other v= line (section 5.1);
 * - every m= line: media SP port ["/" integer] SP proto 1*(SP fmt)
 *   (section 9: media-field);
 * - every MSRP stream (see below): its c= line and the MSRP, COMEDIA,
 *   fingerprint and ICE attributes listed with the getters below; an
 *   attribute that may appear once appearing twice is an error;
 * - when there is at least one MSRP stream, the session-level lines such a
 *   stream inherits: c=, a=setup, a=connection, a=fingerprint,
 *   a=ice-ufrag, a=ice-pwd, a=ice-options, a=ice-lite, a=end-of-candidates.
 * Attribute names are compared case-insensitively, and so are the values
 * RFC ABNF writes as quoted strings (setup roles, "new"/"existing", "typ",
 * "raddr", "rport", tcptype values).  Spaces and tabs at the end of a line
 * this module reads (v=, m=, the c= and attributes above) are ignored (the
 * line is still written back as it was).  Tolerances beyond the RFCs:
 * a=fingerprint accepts lower-case hex digits (RFC 8122 section 5 writes
 * UHEX); the final line may lack its line ending; empty lines may follow the
 * last line (a trailer some SIP stacks add), and are written back.
 *
 * Line endings: LF and CRLF are both accepted, even mixed; each line keeps its
 * own ending when written.  A line the module adds gets the ending of the
 * first line (CRLF when the first line has none).  If the input's final line
 * had no line ending, the final line of the output has none either.
 *
 * An "MSRP stream" is a media section whose m= line is
 * "m=message <port> TCP/MSRP *" or "m=message <port> TCP/TLS/MSRP *" (media
 * and proto compared case-insensitively; RFC 4975 section 8.1).  Such an m=
 * line with a port count ("7394/2") or with a format other than the single
 * "*" is an error.  Other transports for MSRP (RFC 7977 WebSocket, RFC 8841
 * data channels) are not MSRP streams here and pass through untouched.  Only
 * MSRP streams can be modified, and modifying one changes only the lines of
 * its own media section: the session level and every other media section
 * are written back byte for byte.  The one session-level edit is the o=
 * line's version (msrp_sdp_set_origin_version ()).
 */
#pragma once

#include <glib.h>
#include "msrp-uri.h"

G_BEGIN_DECLS

#define MSRP_SDP_ERROR (msrp_sdp_error_quark ())
GQuark msrp_sdp_error_quark (void);

typedef enum
{
  MSRP_SDP_ERROR_SYNTAX,    /* a line (or a value given to a setter) does
                             * not match its grammar */
  MSRP_SDP_ERROR_LIMIT,     /* beyond one of the limits below */
  MSRP_SDP_ERROR_DUPLICATE, /* a line that may appear once appears again */
  MSRP_SDP_ERROR_MISSING,   /* a required line is absent (v=, a c= for an
                             * MSRP stream, the a=path to prepend to) */
} MsrpSdpError;

/* Limits: bytes in the whole SDP, lines (including a trailer of empty
 * lines), and bytes in one line without its line ending.  Modifications that
 * would go beyond them fail with MSRP_SDP_ERROR_LIMIT and change nothing. */
#define MSRP_SDP_MAX_SIZE 65536
#define MSRP_SDP_MAX_LINES 1024
#define MSRP_SDP_MAX_LINE_LEN 4096

typedef struct _MsrpSdp MsrpSdp;
typedef struct _MsrpSdpStream MsrpSdpStream;

typedef enum
{
  MSRP_SDP_PROTO_TCP_MSRP,     /* "TCP/MSRP" */
  MSRP_SDP_PROTO_TCP_TLS_MSRP, /* "TCP/TLS/MSRP" */
} MsrpSdpProto;

typedef enum
{
  MSRP_SDP_ADDR_IP4, /* "IN IP4": a dotted IPv4 address or a name */
  MSRP_SDP_ADDR_IP6, /* "IN IP6": an IPv6 address or a name */
} MsrpSdpAddrType;

/* RFC 4145 section 4.  RFC 6135 section 4.2.1: an MSRP UA that receives
 * "holdconn" ignores it as if there were no a=setup; the getter still
 * reports it, the caller applies that rule. */
typedef enum
{
  MSRP_SDP_SETUP_ABSENT = 0,
  MSRP_SDP_SETUP_ACTIVE,
  MSRP_SDP_SETUP_PASSIVE,
  MSRP_SDP_SETUP_ACTPASS,
  MSRP_SDP_SETUP_HOLDCONN,
} MsrpSdpSetup;

/* RFC 4145 section 5.  RFC 6135 section 4.4: MSRP ignores it. */
typedef enum
{
  MSRP_SDP_CONNECTION_ABSENT = 0,
  MSRP_SDP_CONNECTION_NEW,
  MSRP_SDP_CONNECTION_EXISTING,
} MsrpSdpConnection;

/* RFC 6544 section 4.5: the tcptype candidate extension. */
typedef enum
{
  MSRP_SDP_TCPTYPE_NONE = 0, /* no tcptype (a UDP candidate) */
  MSRP_SDP_TCPTYPE_ACTIVE,
  MSRP_SDP_TCPTYPE_PASSIVE,
  MSRP_SDP_TCPTYPE_SO,
} MsrpSdpTcpType;

/* (transfer none): "active", "passive", "actpass", "holdconn"; NULL for
 * MSRP_SDP_SETUP_ABSENT. */
const char *msrp_sdp_setup_to_string (MsrpSdpSetup setup);
/* (transfer none): "active", "passive", "so"; NULL for NONE. */
const char *msrp_sdp_tcptype_to_string (MsrpSdpTcpType tcptype);

/* ---- a=fingerprint (RFC 8122 section 5) ---- */

typedef struct
{
  char *hash_func;   /* lower-case: "sha-256", "sha-1", or another token */
  char *fingerprint; /* as written: "4A:AD:B9:..." */
} MsrpSdpFingerprint;

/* ---- a=candidate (RFC 8839 section 5.1, RFC 6544 section 4.5) ----
 *
 *   candidate-attribute = "candidate" ":" foundation SP component-id SP
 *       transport SP priority SP connection-address SP port SP
 *       "typ" SP cand-type [SP "raddr" SP connection-address]
 *       [SP "rport" SP port] *(SP extension-att-name SP extension-att-value)
 *
 * Checked: foundation 1*32 ice-char (ALPHA / DIGIT / "+" / "/"); component-id
 * 1..256; transport and cand-type tokens; priority 1*10DIGIT up to
 * 4294967295; the addresses IPv4, IPv6 or a name (as for c=); ports
 * 0..65535; exactly one space between fields; extension names tokens and
 * values 1*VCHAR.  raddr, rport and tcptype may each appear once, in any
 * place among the extensions; tcptype is "active", "passive" or "so". */
typedef struct
{
  char *foundation;
  guint component; /* 1..256 */
  char *transport; /* as written: "TCP", "UDP", ... */
  guint32 priority;
  char *address; /* IPv4, IPv6 (no brackets) or a name */
  guint16 port;
  char *type;  /* as written: "host", "srflx", "prflx", "relay" */
  char *raddr; /* (nullable) */
  gint rport;  /* 0..65535, or -1 when absent */
  MsrpSdpTcpType tcptype;
  /* Other extensions, in order: parallel NULL-terminated arrays of the same
   * length, or both NULL when there are none. */
  char **ext_names;
  char **ext_values;
} MsrpSdpCandidate;

/* Parse the value of an a=candidate line (what follows "candidate:"), @len
 * bytes or up to NUL when -1; never read past @len.
 * Returns: (transfer full) (nullable): NULL with @error
 * (MSRP_SDP_ERROR_SYNTAX) when it is not a candidate. */
G_GNUC_WARN_UNUSED_RESULT
MsrpSdpCandidate *msrp_sdp_candidate_parse (const char *value, gssize len,
                                            GError **error);
/* (transfer full): the attribute value, fields in the order of the grammar
 * (raddr, rport, tcptype, then the other extensions); not checked: pass it
 * to msrp_sdp_candidate_parse () to know whether it is valid. */
char *msrp_sdp_candidate_to_string (const MsrpSdpCandidate *cand);
G_GNUC_WARN_UNUSED_RESULT
MsrpSdpCandidate *msrp_sdp_candidate_copy (const MsrpSdpCandidate *cand);
void msrp_sdp_candidate_free (MsrpSdpCandidate *cand);

/* ---- the session description ---- */

/* Parse @len bytes of @text (need not be NUL-terminated; never read past
 * @len).
 * Returns: (transfer full) (nullable): the SDP, or NULL with @error. */
G_GNUC_WARN_UNUSED_RESULT
MsrpSdp *msrp_sdp_parse (const char *text, gsize len, GError **error);
void msrp_sdp_free (MsrpSdp *sdp);

/* The whole SDP text as it stands: the input exactly, plus whatever the
 * modifications changed.  It parses again.  The text holds no NUL byte;
 * @len (nullable) gets its length.
 * Returns: (transfer full) */
char *msrp_sdp_to_string (const MsrpSdp *sdp, gsize *len);

/* Number of m= sections, MSRP or not. */
guint msrp_sdp_get_n_media (const MsrpSdp *sdp);
/* The MSRP stream of m= section @media_index (0 for the first m= line), or
 * NULL when that section is not an MSRP stream.
 * Returns: (transfer none) (nullable): valid as long as @sdp. */
MsrpSdpStream *msrp_sdp_get_media_stream (const MsrpSdp *sdp,
                                          guint media_index);
/* The MSRP streams alone, in order. */
guint msrp_sdp_get_n_streams (const MsrpSdp *sdp);
/* Returns: (transfer none): valid as long as @sdp. */
MsrpSdpStream *msrp_sdp_get_stream (const MsrpSdp *sdp, guint i);

/* ---- the origin (RFC 8866 section 5.2) ----
 *
 * The o= line is not read at parse time (an SDP whose MSRP streams are
 * fine parses whatever its o= says); these read and edit its sess-version,
 * which RFC 3264 section 8 makes the mark of a changed SDP: "the version
 * in the origin field MUST increment by one from the previous SDP".  They
 * fail with MSRP_SDP_ERROR_MISSING when the session level has no o= line,
 * MSRP_SDP_ERROR_DUPLICATE when it has two, MSRP_SDP_ERROR_SYNTAX when it
 * is not "o=<username> <sess-id> <sess-version> <nettype> <addrtype>
 * <address>" with digits for the id and a version up to 2^63-1 (RFC 3264
 * section 5). */

/* The o= line's sess-version into *@version. */
gboolean msrp_sdp_get_origin_version (const MsrpSdp *sdp, guint64 *version,
                                      GError **error);
/* Replace the o= line's sess-version with @version (at most 2^63-1, else
 * MSRP_SDP_ERROR_LIMIT); every other byte of the line, and of the SDP,
 * stays.  The only session-level edit of this module.  All or nothing,
 * like the stream modifications below (MSRP_SDP_ERROR_LIMIT when the SDP
 * would outgrow MSRP_SDP_MAX_SIZE). */
gboolean msrp_sdp_set_origin_version (MsrpSdp *sdp, guint64 version,
                                      GError **error);

/* Session-level a=ice-lite (RFC 8839 section 5.3).  (In an SDP without
 * MSRP streams, whose session-level lines are not checked, FALSE when any
 * of them is malformed.) */
gboolean msrp_sdp_get_ice_lite (const MsrpSdp *sdp);

/* ---- an MSRP stream: what it says ----
 *
 * Where a getter says "else session level", the value comes from the
 * stream's own line when it has one, else from the session-level line
 * (RFC 8866 section 5: session-level values are the default for all media).
 * Strings and arrays are (transfer none), valid until the stream is next
 * modified. */

/* Index of the stream's m= line among all m= lines (for offer/answer
 * matching, RFC 3264 section 6). */
guint msrp_sdp_stream_get_media_index (const MsrpSdpStream *stream);
MsrpSdpProto msrp_sdp_stream_get_proto (const MsrpSdpStream *stream);
/* The m= port; 0 means a rejected stream (RFC 3264 section 6). */
guint16 msrp_sdp_stream_get_port (const MsrpSdpStream *stream);
/* c= of the stream, else session level.  An MSRP stream always has one (a
 * stream without is a parse error), "IN IP4" or "IN IP6", unicast (an
 * address with "/ttl" is an error).
 * Returns: (transfer none): the address as written; @type (nullable) gets
 * its address type. */
const char *msrp_sdp_stream_get_address (const MsrpSdpStream *stream,
                                         MsrpSdpAddrType *type);
/* Whether the c= line that applies is the stream's own. */
gboolean msrp_sdp_stream_has_media_address (const MsrpSdpStream *stream);
/* a=path (RFC 4975 section 8.2): a GPtrArray of MsrpUri, or NULL when the
 * stream has none (RFC 4975 makes it mandatory; a rejected stream in an
 * answer often lacks it; the caller decides). */
GPtrArray *msrp_sdp_stream_get_path (const MsrpSdpStream *stream);
/* a=accept-types and a=accept-wrapped-types (RFC 4975 section 8.6): the
 * format entries as written, NULL-terminated, or NULL when absent.  Each
 * entry is "*" or type "/" (subtype / "*") *(";" type-param). */
const char *const *
msrp_sdp_stream_get_accept_types (const MsrpSdpStream *stream);
const char *const *
msrp_sdp_stream_get_accept_wrapped_types (const MsrpSdpStream *stream);
/* a=max-size (RFC 4975 section 8.6): TRUE and *@max_size when present. */
gboolean msrp_sdp_stream_get_max_size (const MsrpSdpStream *stream,
                                       guint64 *max_size);
/* a=setup (RFC 4145 section 4), else session level. */
MsrpSdpSetup msrp_sdp_stream_get_setup (const MsrpSdpStream *stream);
/* a=connection (RFC 4145 section 5), else session level. */
MsrpSdpConnection msrp_sdp_stream_get_connection (const MsrpSdpStream *stream);
/* a=msrp-cema (RFC 6714 section 5): media level only. */
gboolean msrp_sdp_stream_get_cema (const MsrpSdpStream *stream);
/* a=fingerprint lines (RFC 8122 section 5) of the stream, else those of the
 * session level: a GPtrArray of MsrpSdpFingerprint, maybe empty. */
GPtrArray *msrp_sdp_stream_get_fingerprints (const MsrpSdpStream *stream);
/* a=ice-ufrag, a=ice-pwd (RFC 8839 section 5.4), else session level;
 * (nullable). */
const char *msrp_sdp_stream_get_ice_ufrag (const MsrpSdpStream *stream);
const char *msrp_sdp_stream_get_ice_pwd (const MsrpSdpStream *stream);
/* a=ice-options (RFC 8839 section 5.6), else session level: the option
 * tags, NULL-terminated, or NULL when absent. */
const char *const *
msrp_sdp_stream_get_ice_options (const MsrpSdpStream *stream);
/* a=candidate lines (media level only): a GPtrArray of MsrpSdpCandidate in
 * order, maybe empty. */
GPtrArray *msrp_sdp_stream_get_candidates (const MsrpSdpStream *stream);
/* a=end-of-candidates (RFC 8840 section 8.2), else session level. */
gboolean msrp_sdp_stream_get_end_of_candidates (const MsrpSdpStream *stream);

/* ---- an MSRP stream: modifications ----
 *
 * Each changes only lines of the stream's own media section and keeps all
 * others and their order.  Each either succeeds completely or returns FALSE
 * with @error and changes nothing.  A line that replaces another takes its
 * place; a new attribute line goes before the first a=candidate or
 * a=end-of-candidates line of the section, or at its end. */

/* Set the stream's own c= line to "IN IP6 @address" when @address holds a
 * ':', else "IN IP4 @address" (an IPv4 address or a name).  A stream that
 * used the session-level c= gets a line of its own, after the m= line and
 * any i= line (RFC 8866 section 5 order); the session-level line stays as it
 * is for the other streams. */
gboolean msrp_sdp_stream_set_address (MsrpSdpStream *stream,
                                      const char *address, GError **error);
/* Set the m= port; the rest of the m= line stays as written. */
gboolean msrp_sdp_stream_set_port (MsrpSdpStream *stream, guint16 port,
                                   GError **error);
/* Replace a=path (or add it) with @uris (GPtrArray of MsrpUri, 1 to
 * MSRP_URI_LIST_MAX), written as msrp_uri_list_to_text () writes them, so
 * a peer's URIs keep their spelling. */
gboolean msrp_sdp_stream_set_path (MsrpSdpStream *stream, GPtrArray *uris,
                                   GError **error);
/* Put @uri in front of the existing a=path (RFC 4976 section 6.4: a relay's
 * URI goes first); MSRP_SDP_ERROR_MISSING when there is no a=path. */
gboolean msrp_sdp_stream_prepend_path (MsrpSdpStream *stream, MsrpUri *uri,
                                       GError **error);
/* Replace the stream's own a=setup line (or add one) with @setup;
 * MSRP_SDP_SETUP_ABSENT removes the stream's own line (a session-level one,
 * if any, then applies). */
gboolean msrp_sdp_stream_set_setup (MsrpSdpStream *stream, MsrpSdpSetup setup,
                                    GError **error);
/* Add the stream's a=msrp-cema line (RFC 6714 section 5), or remove it:
 * a middlebox that acts as an MSRP B2BUA does not pass it on (section
 * 6.2). */
gboolean msrp_sdp_stream_set_cema (MsrpSdpStream *stream, gboolean cema,
                                   GError **error);
/* Remove every a=candidate and a=end-of-candidates line of the stream. */
void msrp_sdp_stream_clear_candidates (MsrpSdpStream *stream);
/* Remove every ICE line of the stream: a=candidate, a=end-of-candidates,
 * a=remote-candidates, a=ice-ufrag, a=ice-pwd, a=ice-options.  Session-level
 * ICE lines stay (other streams use them). */
void msrp_sdp_stream_remove_ice (MsrpSdpStream *stream);
/* Add an a=candidate line after the stream's last one (or before its
 * a=end-of-candidates, or as a new attribute line).  @cand is checked as
 * msrp_sdp_candidate_parse () checks it. */
gboolean msrp_sdp_stream_add_candidate (MsrpSdpStream *stream,
                                        const MsrpSdpCandidate *cand,
                                        GError **error);
/* Set the stream's own a=ice-ufrag and a=ice-pwd (replacing or adding each;
 * RFC 8839 section 5.4: ufrag 4..256 and pwd 22..256 ice-chars). */
gboolean msrp_sdp_stream_set_ice_credentials (MsrpSdpStream *stream,
                                              const char *ufrag,
                                              const char *pwd, GError **error);
/* Add (at the section's end) or remove the stream's own
 * a=end-of-candidates. */
gboolean msrp_sdp_stream_set_end_of_candidates (MsrpSdpStream *stream,
                                                gboolean end, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpSdp, msrp_sdp_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpSdpCandidate, msrp_sdp_candidate_free)

G_END_DECLS
