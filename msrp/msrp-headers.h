/* msrp-headers.h: MSRP header field values (RFC 4975 sections 7 and 9,
 * RFC 4976 section 4).
 *
 * Each parser takes the value as the frame parser hands it over (the bytes
 * after "Name: " up to, not including, the CRLF; not NUL-terminated), checks
 * it against the ABNF and fills a value.  Each error names the header and what
 * was wrong.  Writers produce the value text only (no name, no CRLF).
 */
#pragma once

#include <glib.h>
#include "msrp-uri.h"

G_BEGIN_DECLS

#define MSRP_HEADER_ERROR (msrp_header_error_quark ())
GQuark msrp_header_error_quark (void);

typedef enum
{
  MSRP_HEADER_ERROR_SYNTAX,    /* value does not match the ABNF */
  MSRP_HEADER_ERROR_RANGE,     /* a number out of range / inconsistent */
  MSRP_HEADER_ERROR_ORDER,     /* header order of section 6 violated */
  MSRP_HEADER_ERROR_DUPLICATE, /* a header that may appear once appears twice
                                */
  MSRP_HEADER_ERROR_MISSING,   /* a mandatory header is absent */
} MsrpHeaderError;

/* Known header names; MSRP_HEADER_OTHER for extension headers. */
typedef enum
{
  MSRP_HEADER_OTHER = 0,
  MSRP_HEADER_TO_PATH,
  MSRP_HEADER_FROM_PATH,
  MSRP_HEADER_MESSAGE_ID,
  MSRP_HEADER_SUCCESS_REPORT,
  MSRP_HEADER_FAILURE_REPORT,
  MSRP_HEADER_BYTE_RANGE,
  MSRP_HEADER_STATUS,
  MSRP_HEADER_CONTENT_TYPE,
  MSRP_HEADER_CONTENT_ID,
  MSRP_HEADER_CONTENT_DESCRIPTION,
  MSRP_HEADER_CONTENT_DISPOSITION,
  MSRP_HEADER_USE_PATH,
  MSRP_HEADER_EXPIRES,
  MSRP_HEADER_MIN_EXPIRES,
  MSRP_HEADER_MAX_EXPIRES,
  MSRP_HEADER_WWW_AUTHENTICATE,
  MSRP_HEADER_AUTHORIZATION,
  MSRP_HEADER_AUTHENTICATION_INFO,
} MsrpHeaderId;

/* Case-insensitive lookup of a header name (not NUL-terminated). */
MsrpHeaderId msrp_header_id_from_name (const char *name, gsize len);
/* Canonical spelling, e.g. "Byte-Range"; NULL for MSRP_HEADER_OTHER. */
const char *msrp_header_id_to_name (MsrpHeaderId id);

/* Byte-Range: range-start "-" range-end "/" total  (sections 7.1.1 and 9)
 * Positions are 1-based and inclusive.  end/total are unknown for "*".
 * Besides the syntax (SYNTAX error), the parser checks (RANGE error):
 * numbers <= G_MAXUINT64, start >= 1, end >= start except the empty "1-0/..",
 * end <= total and start <= total when known (the empty "1-.../0" excepted).
 */
typedef struct
{
  guint64 start;
  guint64 end;   /* valid when !end_unknown */
  guint64 total; /* valid when !total_unknown */
  gboolean end_unknown;
  gboolean total_unknown;
} MsrpByteRange;

gboolean msrp_byte_range_parse (const char *value, gsize len,
                                MsrpByteRange *out, GError **error);
/* (transfer full) */
char *msrp_byte_range_to_string (const MsrpByteRange *range);

typedef enum
{
  MSRP_REPORT_NO,
  MSRP_REPORT_YES,
  MSRP_REPORT_PARTIAL, /* Failure-Report only */
} MsrpReportMode;

/* What a request without the header means (RFC 4975 section 7.1.1: "If no
 * Success-Report header field is present ... "no" ... If no Failure-Report
 * header field is present ... "yes""). */
#define MSRP_SUCCESS_REPORT_DEFAULT MSRP_REPORT_NO
#define MSRP_FAILURE_REPORT_DEFAULT MSRP_REPORT_YES

/* The values are case-insensitive (ABNF quoted strings, RFC 4234 s.2.3);
 * nothing else, not even a trailing space, is accepted.
 * Success-Report: yes/no; default when absent is no (section 7.1.1). */
gboolean msrp_success_report_parse (const char *value, gsize len,
                                    MsrpReportMode *out, GError **error);
/* Failure-Report: yes/no/partial; default when absent is yes (7.1.1). */
gboolean msrp_failure_report_parse (const char *value, gsize len,
                                    MsrpReportMode *out, GError **error);
/* (transfer none): "no", "yes", "partial" */
const char *msrp_report_mode_to_string (MsrpReportMode mode);

/* Message-ID: ident = ALPHANUM 3*31ident-char (also the transact-id) */
#define MSRP_IDENT_MIN_LEN 4
#define MSRP_IDENT_MAX_LEN 32
gboolean msrp_ident_is_valid (const char *value, gsize len);
gboolean msrp_message_id_parse (const char *value, gsize len,
                                char **out /* (transfer full) */,
                                GError **error);

/* Status: namespace SP status-code [SP comment]  (sections 7.1.3 and 9)
 * Both numbers are 3DIGIT, 0..999, as the ABNF allows; the caller decides
 * what a code means.  "000 200 " has an empty (non-NULL) comment. */
typedef struct
{
  guint namespace_; /* 0 ("000") for RFC 4975 codes */
  guint code;       /* 0..999 */
  char *comment;    /* (nullable) owned; utf8text */
} MsrpStatus;
gboolean msrp_status_header_parse (const char *value, gsize len,
                                   MsrpStatus *out, GError **error);
/* Frees the comment and zeroes the struct. */
void msrp_status_header_clear (MsrpStatus *status);
/* (transfer full): "NNN CCC[ comment]" */
char *msrp_status_header_to_string (const MsrpStatus *status);

/* Content-Type: media-type = type "/" subtype *( ";" gen-param )
 * Spaces/tabs around ";" are tolerated ("text/plain; charset=utf-8").
 * At most MSRP_MEDIA_TYPE_MAX_PARAMS parameters (RANGE error beyond). */
#define MSRP_MEDIA_TYPE_MAX_PARAMS 32
typedef struct _MsrpMediaType MsrpMediaType;
G_GNUC_WARN_UNUSED_RESULT
MsrpMediaType *msrp_media_type_parse (const char *value, gsize len,
                                      GError **error);
void msrp_media_type_free (MsrpMediaType *mt);
const char *msrp_media_type_get_type (const MsrpMediaType *mt);    /* lower */
const char *msrp_media_type_get_subtype (const MsrpMediaType *mt); /* lower */
/* (transfer none) (nullable): unquoted value of the first parameter called
 * @name (case-insensitive); "" for a parameter written without "=". */
const char *msrp_media_type_get_param (const MsrpMediaType *mt,
                                       const char *name);
guint msrp_media_type_get_n_params (const MsrpMediaType *mt);
/* Does @mt match an accept-types format-entry (section 8.6) like
 * "text/plain", "text/\*" or "*"?  Parameters in the pattern are ignored, as
 * section 8.6 says; only "*" and a "*" subtype are wildcards (a "*" type
 * is not); a malformed pattern matches nothing. */
gboolean msrp_media_type_matches (const MsrpMediaType *mt,
                                  const char *pattern);
/* (transfer full): canonical text: lower-case type, subtype and parameter
 * names, no spaces, values quoted only when they are not tokens. */
char *msrp_media_type_to_string (const MsrpMediaType *mt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpMediaType, msrp_media_type_free)

/* To-Path, From-Path, Use-Path: a list of MSRP URIs (section 9, RFC 4976 s.4).
 * @which is one of those three (names it in errors).  Errors from
 * msrp_uri_list_parse() come back as MSRP_HEADER_ERROR_SYNTAX (or _RANGE for
 * too long / too many URIs) with the header name in front.
 * Returns: (transfer full) (nullable): GPtrArray of MsrpUri, at least one. */
G_GNUC_WARN_UNUSED_RESULT
GPtrArray *msrp_path_parse (MsrpHeaderId which, const char *value, gsize len,
                            GError **error);

/* Expires, Min-Expires, Max-Expires: 1*DIGIT seconds (RFC 4976 section 4.6),
 * at most G_MAXUINT32 (RANGE error beyond).  @which names it in errors. */
gboolean msrp_expires_parse (MsrpHeaderId which, const char *value, gsize len,
                             guint32 *out, GError **error);

/* Content-Disposition (section 7.1.1, RFC 2183): a disposition-type token,
 * then nothing or [spaces] ";" and utf8text (parameters are not interpreted).
 * @out_type: (out) (optional) (transfer full): the type, lower-case.
 * Content-ID and Content-Description: use msrp_utf8text_check(). */
gboolean msrp_content_disposition_parse (const char *value, gsize len,
                                         char **out_type, GError **error);
/* utf8text = *(HTAB / %x20-7E / UTF8-NONASCII) (section 9), with
 * UTF8-NONASCII taken as RFC 3629 UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF).  The empty string is utf8text. */
gboolean msrp_utf8text_is_valid (const char *value, gsize len);
/* The same check with an error naming @which (MSRP_HEADER_OTHER: "an
 * extension header") and the offending offset; for Content-ID,
 * Content-Description and ext-header values (hval = utf8text). */
gboolean msrp_utf8text_check (MsrpHeaderId which, const char *value, gsize len,
                              GError **error);

/* Header order (section 6 / 9): To-Path first, From-Path second, then the
 * rest. Feed header ids in the order they arrive; returns FALSE with
 * MSRP_HEADER_ERROR_ORDER / _DUPLICATE naming the offending header.  Every
 * known header (all ids but MSRP_HEADER_OTHER) may appear once, except
 * WWW-Authenticate (one Digest challenge per field, RFC 4976 section 7; a
 * 401 may offer one per algorithm, RFC 7616 section 3.7); extension
 * headers any number of times.  On error @order is left unchanged. */
typedef struct
{
  guint index;
  guint64 seen; /* bit per MsrpHeaderId */
} MsrpHeaderOrder;
void msrp_header_order_init (MsrpHeaderOrder *order);
gboolean msrp_header_order_check (MsrpHeaderOrder *order, MsrpHeaderId id,
                                  GError **error);
/* After the last header: To-Path and From-Path present?  (MISSING error.)
 * A block of only the two paths passes, as responses (section 7.2) have no
 * more; a caller wanting the request ABNF's 1*header checks order->index. */
gboolean msrp_header_order_finish (MsrpHeaderOrder *order, GError **error);

G_END_DECLS
