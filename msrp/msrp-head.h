/* msrp-head.h: the start line and headers of one received MSRP frame,
 * collected from msrp-parser events, with the header values MSRP acts on
 * parsed and checked (msrp-headers).  What a relay or an endpoint looks at
 * before the body streams past.
 *
 *   REQUEST/RESPONSE event  -> msrp_head_new_from_event ()
 *   each HEADER event       -> msrp_head_add_header ()
 *   HEADERS_END event       -> msrp_head_finish ()
 *
 * An error from add_header/finish means the frame is unintelligible: answer
 * 400 (RFC 4975 section 7.2) where a response is due.  Memory is bounded by
 * the parser's header limits. */
#pragma once

#include <glib.h>

#include "msrp-headers.h"
#include "msrp-parser.h"
#include "msrp-uri.h"

G_BEGIN_DECLS

#define MSRP_HEAD_ERROR (msrp_head_error_quark ())
GQuark msrp_head_error_quark (void);

typedef enum
{
  MSRP_HEAD_ERROR_VALUE,   /* a header value is invalid (400) */
  MSRP_HEAD_ERROR_MISSING, /* a header the method needs is absent (400) */
} MsrpHeadError;

typedef struct _MsrpHead MsrpHead;

/* @event: a REQUEST or RESPONSE event.  (transfer full) */
G_GNUC_WARN_UNUSED_RESULT
MsrpHead *msrp_head_new_from_event (const MsrpParserEvent *event);
MsrpHead *msrp_head_ref (MsrpHead *head);
void msrp_head_unref (MsrpHead *head);

/* @event: a HEADER event.  Parses the value of the headers listed below;
 * others are kept as text. */
gboolean msrp_head_add_header (MsrpHead *head, const MsrpParserEvent *event,
                               GError **error);
/* After HEADERS_END: checks what the method needs (section 7.1: a SEND
 * carries a Message-ID; section 7.1.2: a REPORT a Message-ID and a Status).
 * @has_body from the HEADERS_END event. */
gboolean msrp_head_finish (MsrpHead *head, gboolean has_body, GError **error);

gboolean msrp_head_is_request (const MsrpHead *head);
const char *msrp_head_get_transaction_id (const MsrpHead *head);
/* (nullable): NULL for a response */
const char *msrp_head_get_method (const MsrpHead *head);
/* Responses: the status code and the comment (nullable). */
guint msrp_head_get_status_code (const MsrpHead *head);
const char *msrp_head_get_comment (const MsrpHead *head);
gboolean msrp_head_has_body (const MsrpHead *head);

/* (transfer none): GPtrArray of MsrpUri, never empty after finish().
 * When add_header() refused a To-Path or From-Path (more than
 * MSRP_URI_LIST_MAX URIs, or a URI that does not parse), the path holds
 * the URIs before the problem, at most MSRP_URI_LIST_MAX, or is NULL when
 * the first URI was bad: enough to address the 400 (RFC 4975 section
 * 7.2), not a path to act on. */
GPtrArray *msrp_head_get_to_path (const MsrpHead *head);
GPtrArray *msrp_head_get_from_path (const MsrpHead *head);
/* (transfer none) (nullable) */
GPtrArray *msrp_head_get_use_path (const MsrpHead *head);
const char *msrp_head_get_message_id (const MsrpHead *head);
/* NULL when the frame had no Byte-Range. */
const MsrpByteRange *msrp_head_get_byte_range (const MsrpHead *head);
/* The header's value, or its section 7.1.1 default when absent. */
MsrpReportMode msrp_head_get_success_report (const MsrpHead *head);
MsrpReportMode msrp_head_get_failure_report (const MsrpHead *head);
/* (nullable) the Status header (REPORTs) */
const MsrpStatus *msrp_head_get_status (const MsrpHead *head);
/* (nullable) the Content-Type value as received */
const char *msrp_head_get_content_type (const MsrpHead *head);
/* Expires / Min-Expires / Max-Expires: FALSE when absent. */
gboolean msrp_head_get_expires (const MsrpHead *head, MsrpHeaderId which,
                                guint32 *out);

/* Every header in order, as received (name and value as text). */
guint msrp_head_get_n_headers (const MsrpHead *head);
void msrp_head_get_header (const MsrpHead *head, guint index, MsrpHeaderId *id,
                           const char **name, const char **value);
/* (nullable) the first value of header @id (not MSRP_HEADER_OTHER), or of
 * @name when @id is MSRP_HEADER_OTHER. */
const char *msrp_head_find (const MsrpHead *head, MsrpHeaderId id,
                            const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpHead, msrp_head_unref)

G_END_DECLS
