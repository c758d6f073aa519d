/* msrp-headers.h: MSRP header field values (RFC 4975 sections 7 and 9,
 * RFC 4976 section 4).
 *
 * Each parser takes the value as the frame parser hands it over (the bytes
 * after "Name: " up to, not including, the CRLF; not NUL-terminated), checks it
 * against the ABNF and fills a value.  Each error names the header and what
 * was wrong.  Writers produce the value text only (no name, no CRLF).
 */
#pragma once

#include <glib.h>
#include "msrp-uri.h"

G_BEGIN_DECLS

#define MSRP_HEADER_ERROR (msrp_header_error_quark ())
GQuark msrp_header_error_quark (void);

typedef enum {
  MSRP_HEADER_ERROR_SYNTAX,     /* value does not match the ABNF */
  MSRP_HEADER_ERROR_RANGE,      /* a number out of range / inconsistent */
  MSRP_HEADER_ERROR_ORDER,      /* header order of section 6 violated */
  MSRP_HEADER_ERROR_DUPLICATE,  /* a header that may appear once appears twice */
  MSRP_HEADER_ERROR_MISSING,    /* a mandatory header is absent */
} MsrpHeaderError;

/* Known header names; MSRP_HEADER_OTHER for extension headers. */
typedef enum {
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

/* Byte-Range: range-start "-" range-end "/" total  (section 7.1.1)
 * Positions are 1-based and inclusive.  end/total are unknown for "*". */
typedef struct {
  guint64 start;
  guint64 end;            /* valid when !end_unknown */
  guint64 total;          /* valid when !total_unknown */
  gboolean end_unknown;
  gboolean total_unknown;
} MsrpByteRange;

gboolean msrp_byte_range_parse (const char *value, gsize len,
                                MsrpByteRange *out, GError **error);
/* (transfer full) */
char *msrp_byte_range_to_string (const MsrpByteRange *range);

typedef enum {
  MSRP_REPORT_NO,
  MSRP_REPORT_YES,
  MSRP_REPORT_PARTIAL,    /* Failure-Report only */
} MsrpReportMode;

/* Success-Report: yes/no; default when absent is no (section 7.1.2). */
gboolean msrp_success_report_parse (const char *value, gsize len,
                                    MsrpReportMode *out, GError **error);
/* Failure-Report: yes/no/partial; default when absent is yes. */
gboolean msrp_failure_report_parse (const char *value, gsize len,
                                    MsrpReportMode *out, GError **error);
const char *msrp_report_mode_to_string (MsrpReportMode mode);

/* Message-ID: ident = ALPHANUM 3*31ident-char */
gboolean msrp_ident_is_valid (const char *value, gsize len);
gboolean msrp_message_id_parse (const char *value, gsize len,
                                char **out /* (transfer full) */,
                                GError **error);

/* Status: namespace SP status-code [SP comment] */
typedef struct {
  guint namespace_;       /* "000" for RFC 4975 codes */
  guint code;             /* 100..699 */
  char *comment;          /* (nullable) owned */
} MsrpStatus;
gboolean msrp_status_header_parse (const char *value, gsize len,
                                   MsrpStatus *out, GError **error);
void msrp_status_header_clear (MsrpStatus *status);
char *msrp_status_header_to_string (const MsrpStatus *status);

/* Content-Type: media-type = type "/" subtype *( ";" gen-param ) */
typedef struct _MsrpMediaType MsrpMediaType;
G_GNUC_WARN_UNUSED_RESULT
MsrpMediaType *msrp_media_type_parse (const char *value, gsize len,
                                      GError **error);
void msrp_media_type_free (MsrpMediaType *mt);
const char *msrp_media_type_get_type (const MsrpMediaType *mt);    /* lower */
const char *msrp_media_type_get_subtype (const MsrpMediaType *mt); /* lower */
/* (nullable) unquoted value of parameter @name (case-insensitive) */
const char *msrp_media_type_get_param (const MsrpMediaType *mt,
                                       const char *name);
/* Does @mt match a pattern like "text/plain", "text/\*" or "*" (accept-types)? */
gboolean msrp_media_type_matches (const MsrpMediaType *mt, const char *pattern);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpMediaType, msrp_media_type_free)

/* To-Path, From-Path, Use-Path: a list of MSRP URIs (section 9, RFC 4976 s.4).
 * Returns: (transfer full): GPtrArray of MsrpUri, at least one element. */
G_GNUC_WARN_UNUSED_RESULT
GPtrArray *msrp_path_parse (MsrpHeaderId which, const char *value, gsize len,
                            GError **error);

/* Expires, Min-Expires, Max-Expires: 1*DIGIT seconds (RFC 4976 section 4),
 * at most G_MAXUINT32. */
gboolean msrp_expires_parse (MsrpHeaderId which, const char *value, gsize len,
                             guint32 *out, GError **error);

/* Content-ID / Content-Description / Content-Disposition (RFC 2045/2183):
 * checked to be utf8text without control characters; Content-Disposition's
 * disposition type is returned lower-case in @out_type (nullable). */
gboolean msrp_content_disposition_parse (const char *value, gsize len,
                                         char **out_type, GError **error);
gboolean msrp_utf8text_is_valid (const char *value, gsize len);

/* Header order (section 6 / 9): To-Path first, From-Path second, then the rest.
 * Feed header ids in the order they arrive; returns FALSE with
 * MSRP_HEADER_ERROR_ORDER / _DUPLICATE naming the offending header. */
typedef struct {
  guint index;
  guint64 seen;           /* bit per MsrpHeaderId */
} MsrpHeaderOrder;
void msrp_header_order_init (MsrpHeaderOrder *order);
gboolean msrp_header_order_check (MsrpHeaderOrder *order, MsrpHeaderId id,
                                  GError **error);
/* After the last header: To-Path and From-Path present? */
gboolean msrp_header_order_finish (MsrpHeaderOrder *order, GError **error);

G_END_DECLS
