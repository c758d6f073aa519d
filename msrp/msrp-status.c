/* msrp-status.c: MSRP status codes, report decisions, responses and REPORTs
 * (RFC 4975 sections 7.1.1-7.2 and 10, RFC 4976 sections 4.6, 6.4, 10.3).
 * See msrp-status.h. */
#include "msrp-status.h"

#include <string.h>

GQuark
msrp_status_error_quark (void)
{
  return g_quark_from_static_string ("msrp-status-error-quark");
}

static const struct
{
  guint code;
  const char *reason;
} reasons[] = {
  /* RFC 4975 section 11 examples: "MSRP d93kswow 200 OK" */
  { MSRP_STATUS_OK, "OK" },
  /* s.10.2: "a request was unintelligible" */
  { MSRP_STATUS_BAD_REQUEST, "Bad Request" },
  /* RFC 4976 s.10.3: "The default response phrase for this response is
   * "Unauthorized"." */
  { MSRP_STATUS_UNAUTHORIZED, "Unauthorized" },
  /* s.10.3: "the attempted action is not allowed" */
  { MSRP_STATUS_FORBIDDEN, "Forbidden" },
  /* s.10.4: "a downstream transaction did not complete in the allotted
   * time" */
  { MSRP_STATUS_REQUEST_TIMEOUT, "Request Timeout" },
  /* s.10.5: "the receiver wishes the sender to stop sending the particular
   * message" */
  { MSRP_STATUS_STOP_SENDING, "Stop Sending Message" },
  /* s.10.6: "a media type that is not understood by the receiver" */
  { MSRP_STATUS_UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type" },
  /* RFC 4976 s.4.6: "It is sent only in 423 "Interval Out-of-Bounds"
   * responses." */
  { MSRP_STATUS_INTERVAL_OUT_OF_BOUNDS, "Interval Out-of-Bounds" },
  /* s.10.8: "the indicated session does not exist" */
  { MSRP_STATUS_SESSION_DOES_NOT_EXIST, "Session Does Not Exist" },
  /* s.10.9: "the recipient does not understand the request method" */
  { MSRP_STATUS_NOT_IMPLEMENTED, "Not Implemented" },
  /* s.10.10: "a request arrived on a session that is already bound to
   * another network connection" */
  { MSRP_STATUS_SESSION_ALREADY_BOUND, "Session Already Bound" },
};

const char *
msrp_status_reason (guint code)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (reasons); i++)
    if (reasons[i].code == code)
      return reasons[i].reason;
  return NULL;
}

gboolean
msrp_status_is_known (guint code)
{
  return msrp_status_reason (code) != NULL;
}

gboolean
msrp_status_is_success (guint code)
{
  return code >= 200 && code <= 299;
}

static gboolean
is_method (const char *method, const char *name)
{
  /* Methods are case-sensitive upper case (section 9: mSEND = %x53.45.4e.44)
   */
  return method != NULL && strcmp (method, name) == 0;
}

gboolean
msrp_status_response_due (const char *method, MsrpReportMode failure_report,
                          guint code)
{
  g_return_val_if_fail (method != NULL, FALSE);

  /* RFC 4975 s.7.1.2: "MSRP nodes MUST NOT send MSRP responses to REPORT
   * requests." */
  if (is_method (method, "REPORT"))
    return FALSE;

  switch (failure_report)
    {
    case MSRP_REPORT_YES:
      /* s.7.2: "a Failure-Report header field value of "yes" or does not
       * contain a Failure-Report header field at all, it MUST immediately
       * generate a response." */
      return TRUE;
    case MSRP_REPORT_PARTIAL:
      /* s.7.1.4: "If the value is "partial", it MUST NOT send a 200
       * transaction response to the request, but SHOULD send an appropriate
       * non-200 class response if a failure occurs." */
      return !msrp_status_is_success (code);
    case MSRP_REPORT_NO:
      /* s.7.1.4: "Failure-Report header field value of "no", then it MUST
       * NOT send a failure REPORT request, and MUST NOT send a transaction
       * response." */
      return FALSE;
    default:
      g_return_val_if_reached (FALSE);
    }
}

gboolean
msrp_status_success_report_due (const char *method,
                                MsrpReportMode success_report, guint code,
                                gboolean message_complete)
{
  g_return_val_if_fail (method != NULL, FALSE);

  /* s.7.1.3: success reports are about messages received in SEND chunks,
   * and only when asked for with "yes". */
  return is_method (method, "SEND") && success_report == MSRP_REPORT_YES &&
         msrp_status_is_success (code) && message_complete;
}

gboolean
msrp_status_failure_report_due (const char *method,
                                MsrpReportMode failure_report, guint code)
{
  g_return_val_if_fail (method != NULL, FALSE);

  /* s.7.1.2: "MSRP nodes MUST NOT send REPORT requests in response to
   * REPORT requests"; s.7.1.4 speaks of SEND only.  s.7.1.4 and RFC 4976
   * s.6.4.1: "If the Failure-Report header is "yes" or "partial", and if
   * there is a problem ... MUST respond with an appropriate error response
   * in a REPORT". */
  return is_method (method, "SEND") &&
         (failure_report == MSRP_REPORT_YES ||
          failure_report == MSRP_REPORT_PARTIAL) &&
         !msrp_status_is_success (code);
}

/* The answering node's URI: the first of the received To-Path. */
static MsrpUri *
responder_uri (GPtrArray *received_to_path, GError **error)
{
  if (received_to_path == NULL || received_to_path->len == 0 ||
      g_ptr_array_index (received_to_path, 0) == NULL)
    {
      g_set_error_literal (error, MSRP_STATUS_ERROR, MSRP_STATUS_ERROR_INVALID,
                           "received To-Path is empty: no URI to answer "
                           "from");
      return NULL;
    }
  return g_ptr_array_index (received_to_path, 0);
}

static gboolean
check_from_path (GPtrArray *received_from_path, GError **error)
{
  if (received_from_path == NULL || received_from_path->len == 0)
    {
      g_set_error_literal (error, MSRP_STATUS_ERROR, MSRP_STATUS_ERROR_INVALID,
                           "received From-Path is empty: no way back to "
                           "the sender");
      return FALSE;
    }
  return TRUE;
}

/* A one-URI path (borrowed URI, no free func). */
static GPtrArray *
single_path (MsrpUri *uri)
{
  GPtrArray *path = g_ptr_array_sized_new (1);

  g_ptr_array_add (path, uri);
  return path;
}

MsrpWriter *
msrp_status_build_report (GPtrArray *received_to_path,
                          GPtrArray *received_from_path, const char *tid,
                          const char *message_id,
                          const MsrpByteRange *byte_range, guint code,
                          const char *comment, GError **error)
{
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GPtrArray) from = NULL;
  MsrpUri *self;
  MsrpStatus status = {
    0,
  };

  g_return_val_if_fail (message_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = responder_uri (received_to_path, error);
  if (self == NULL || !check_from_path (received_from_path, error))
    return NULL;
  if (code > 999)
    {
      g_set_error (error, MSRP_STATUS_ERROR, MSRP_STATUS_ERROR_INVALID,
                   "REPORT status code %u is not 3 digits", code);
      return NULL;
    }
  if (byte_range != NULL && byte_range->end_unknown)
    {
      g_set_error_literal (error, MSRP_STATUS_ERROR, MSRP_STATUS_ERROR_INVALID,
                           "REPORT Byte-Range: range-end \"*\"; a report "
                           "names the bytes it covers (RFC 4975 section "
                           "7.1.4: \"MUST calculate the range-end field from "
                           "the actual body data\")");
      return NULL;
    }

  w = msrp_writer_new_request (tid, "REPORT", error);
  if (w == NULL)
    return NULL;

  /* s.7.1.3: "the endpoint inserts a To-Path header field containing the
   * From-Path value from the original request, and a From-Path header field
   * containing the URI identifying itself in the session.  The endpoint then
   * inserts a Status header field with a namespace of "000" ... It also
   * inserts a Message-ID header field containing the value from the original
   * request." */
  from = single_path (self);
  status.namespace_ = 0;
  status.code = code;
  /* The header writer does not change the comment; MsrpStatus holds it as
   * char * because parsed statuses own theirs. */
  status.comment =
      (char *) (comment != NULL ? comment : msrp_status_reason (code));
  if (!msrp_writer_set_to_path (w, received_from_path, error) ||
      !msrp_writer_set_from_path (w, from, error) ||
      !msrp_writer_set_message_id (w, message_id, error) ||
      (byte_range != NULL &&
       !msrp_writer_set_byte_range (w, byte_range, error)) ||
      !msrp_writer_set_status (w, &status, error))
    return NULL;
  return g_steal_pointer (&w);
}

MsrpWriter *
msrp_status_build_response (const char *method, const char *tid,
                            GPtrArray *received_to_path,
                            GPtrArray *received_from_path, guint code,
                            const char *comment, GError **error)
{
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GPtrArray) from = NULL;
  g_autoptr (GPtrArray) to = NULL;
  MsrpUri *self;

  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (tid != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (is_method (method, "REPORT"))
    {
      g_set_error_literal (error, MSRP_STATUS_ERROR,
                           MSRP_STATUS_ERROR_FORBIDDEN,
                           "response to a REPORT; MSRP nodes MUST NOT send "
                           "MSRP responses to REPORT requests (RFC 4975 "
                           "section 7.1.2)");
      return NULL;
    }
  self = responder_uri (received_to_path, error);
  if (self == NULL || !check_from_path (received_from_path, error))
    return NULL;

  w = msrp_writer_new_response (
      tid, code, comment != NULL ? comment : msrp_status_reason (code), error);
  if (w == NULL)
    return NULL;

  /* s.7.2: "If the request triggering the response was a SEND request, the
   * To-Path header field is formed by copying the first (leftmost) URI in
   * the From-Path header field of the request. ... For responses to all
   * other request methods, the To-Path header field contains the full path
   * back to the original sender." */
  from = single_path (self);
  if (is_method (method, "SEND"))
    to = single_path (g_ptr_array_index (received_from_path, 0));
  if (!msrp_writer_set_to_path (w, to != NULL ? to : received_from_path,
                                error) ||
      !msrp_writer_set_from_path (w, from, error))
    return NULL;
  return g_steal_pointer (&w);
}
