/* msrp-status.h: MSRP status codes (RFC 4975 section 10, RFC 4976 sections
 * 4.6 and 10.3), when a response or a REPORT is due (RFC 4975 sections
 * 7.1.1 to 7.1.4 and 7.2, RFC 4976 section 6.4), and building the responses
 * and REPORTs themselves (with msrp-writer).
 */
#pragma once

#include <glib.h>
#include "msrp-headers.h"
#include "msrp-uri.h"
#include "msrp-writer.h"

G_BEGIN_DECLS

#define MSRP_STATUS_ERROR (msrp_status_error_quark ())
GQuark msrp_status_error_quark (void);

typedef enum
{
  MSRP_STATUS_ERROR_INVALID,   /* an argument cannot make a valid frame */
  MSRP_STATUS_ERROR_FORBIDDEN, /* the RFC forbids sending this frame */
} MsrpStatusError;

/* The codes RFC 4975 section 10 and RFC 4976 section 10.3 define. */
typedef enum
{
  MSRP_STATUS_OK = 200,                     /* 4975 s.10.1 */
  MSRP_STATUS_BAD_REQUEST = 400,            /* 4975 s.10.2 */
  MSRP_STATUS_UNAUTHORIZED = 401,           /* 4976 s.10.3 */
  MSRP_STATUS_FORBIDDEN = 403,              /* 4975 s.10.3 */
  MSRP_STATUS_REQUEST_TIMEOUT = 408,        /* 4975 s.10.4 */
  MSRP_STATUS_STOP_SENDING = 413,           /* 4975 s.10.5 */
  MSRP_STATUS_UNSUPPORTED_MEDIA_TYPE = 415, /* 4975 s.10.6 */
  MSRP_STATUS_INTERVAL_OUT_OF_BOUNDS = 423, /* 4975 s.10.7, 4976 s.4.6 */
  MSRP_STATUS_SESSION_DOES_NOT_EXIST = 481, /* 4975 s.10.8 */
  MSRP_STATUS_NOT_IMPLEMENTED = 501,        /* 4975 s.10.9 */
  MSRP_STATUS_SESSION_ALREADY_BOUND = 506,  /* 4975 s.10.10 */
} MsrpStatusCode;

/* Reason phrase for a known code: "OK", "Bad Request", "Unauthorized"
 * (RFC 4976 s.10.3 names it), "Forbidden", "Request Timeout", "Stop Sending
 * Message", "Unsupported Media Type", "Interval Out-of-Bounds" (RFC 4976
 * s.4.6 names it), "Session Does Not Exist", "Not Implemented", "Session
 * Already Bound".  RFC 4975 names only 200's phrase; the others follow the
 * meaning section 10 gives each code.
 * Returns: (transfer none) (nullable): NULL for a code not in the table. */
const char *msrp_status_reason (guint code);
gboolean msrp_status_is_known (guint code);
/* 2xx: the request succeeded.  Every other code reports a failure. */
gboolean msrp_status_is_success (guint code);

/* ---------------------------------------------------------------------------
 * When is something due?
 *
 * @method is the method of the received request ("SEND", "REPORT", "AUTH",
 * ...); @success_report / @failure_report are its header values, or the
 * defaults MSRP_SUCCESS_REPORT_DEFAULT / MSRP_FAILURE_REPORT_DEFAULT when it
 * had none; @code is the outcome.
 * ------------------------------------------------------------------------- */

/* Send a transaction response with @code now?
 *   REPORT: never (RFC 4975 s.7.1.2: "MSRP nodes MUST NOT send MSRP
 *     responses to REPORT requests").
 *   Failure-Report yes: always (s.7.2: "MUST immediately generate a
 *     response").
 *   Failure-Report partial: only a failure (s.7.1.4: "MUST NOT send a 200
 *     transaction response ... SHOULD send an appropriate non-200").
 *   Failure-Report no: never (s.7.1.4: "MUST NOT send a transaction
 *     response"). */
gboolean msrp_status_response_due (const char *method,
                                   MsrpReportMode failure_report, guint code);

/* Send a success REPORT?  Only for a SEND with Success-Report yes whose
 * message has been received in full with @code 2xx (s.7.1.3: a receiver "MAY
 * wait until it receives the last chunk of a message, and send a success
 * report that covers the complete message"; s.7.1.3 "MUST NOT send a success
 * report for a SEND request that either contained no Success-Report header
 * field or contained such a field with a value of "no"").  Success-Report
 * "partial" is not a valid value and never asks for a report. */
gboolean msrp_status_success_report_due (const char *method,
                                         MsrpReportMode success_report,
                                         guint code,
                                         gboolean message_complete);

/* Send a failure REPORT for a failure @code that the transaction response
 * did not carry: found after a 200 was sent, or when no response was due
 * (s.7.1.4: "it MAY send a 200 OK response to the request, and then send a
 * failure REPORT request when the error is detected"; RFC 4976 s.6.4.1 and
 * 6.4.3: a relay's downstream error or 408 timeout).
 *   Only for SEND (REPORTs are never reported on, s.7.1.2), only for a
 *   non-2xx @code, only with Failure-Report yes or partial (s.7.1.4:
 *   "Failure-Report header field value of "no", then it MUST NOT send a
 *   failure REPORT request"). */
gboolean msrp_status_failure_report_due (const char *method,
                                         MsrpReportMode failure_report,
                                         guint code);

/* ---------------------------------------------------------------------------
 * Building them
 *
 * @received_to_path / @received_from_path: the To-Path and From-Path of the
 * received request (GPtrArray of MsrpUri).  The node that answers is the
 * first URI of the received To-Path (an endpoint's own URI, or a relay's
 * URI at the head of the path, RFC 4976 s.6.4).  @comment NULL means the
 * reason phrase (no comment for an unknown code).  @tid NULL means a fresh
 * one (for a REPORT; a response always takes the request's).
 *
 * Errors are MSRP_STATUS_ERROR or, for invalid values, MSRP_WRITER_ERROR.
 * ------------------------------------------------------------------------- */

/* A REPORT about a received message (RFC 4975 s.7.1.3 / 7.1.4):
 *   To-Path: the received From-Path, all of it (the way back to the sender)
 *   From-Path: the reporter's URI only (the received To-Path's first URI)
 *   Message-ID: @message_id, echoed from the request
 *   Byte-Range: @byte_range (nullable: none); its range-end must be known
 *     (s.7.1.4: "MUST calculate the range-end field from the actual body
 *     data")
 *   Status: 000 @code @comment
 * and no body.  Write it with msrp_writer_to_bytes (w, NULL, '$', error).
 * Returns: (transfer full) (nullable) */
G_GNUC_WARN_UNUSED_RESULT
MsrpWriter *msrp_status_build_report (GPtrArray *received_to_path,
                                      GPtrArray *received_from_path,
                                      const char *tid, const char *message_id,
                                      const MsrpByteRange *byte_range,
                                      guint code, const char *comment,
                                      GError **error);

/* The transaction response to a received request (RFC 4975 s.7.2) with the
 * request's @tid:
 *   To-Path: for a SEND the first URI of the received From-Path only
 *     ("Responses to SEND requests are returned only to the previous hop"),
 *     for other methods all of it
 *   From-Path: the responder's URI (the received To-Path's first URI)
 * A response to a REPORT is refused (MSRP_STATUS_ERROR_FORBIDDEN, s.7.1.2).
 * Returns: (transfer full) (nullable) */
G_GNUC_WARN_UNUSED_RESULT
MsrpWriter *msrp_status_build_response (const char *method, const char *tid,
                                        GPtrArray *received_to_path,
                                        GPtrArray *received_from_path,
                                        guint code, const char *comment,
                                        GError **error);

G_END_DECLS
