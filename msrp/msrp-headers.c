/* msrp-headers.c: MSRP header field values (RFC 4975 sections 7 and 9,
 * RFC 4976 section 4). */
#include "msrp-headers.h"

#include <string.h>

G_DEFINE_QUARK (msrp-header-error-quark, msrp_header_error)

/* ---------------------------------------------------------------------------
 * Header names
 * ------------------------------------------------------------------------- */

/* Indexed by MsrpHeaderId; entry 0 (OTHER) has no name. */
static const char *const header_names[] = {
  [MSRP_HEADER_OTHER] = NULL,
  [MSRP_HEADER_TO_PATH] = "To-Path",
  [MSRP_HEADER_FROM_PATH] = "From-Path",
  [MSRP_HEADER_MESSAGE_ID] = "Message-ID",
  [MSRP_HEADER_SUCCESS_REPORT] = "Success-Report",
  [MSRP_HEADER_FAILURE_REPORT] = "Failure-Report",
  [MSRP_HEADER_BYTE_RANGE] = "Byte-Range",
  [MSRP_HEADER_STATUS] = "Status",
  [MSRP_HEADER_CONTENT_TYPE] = "Content-Type",
  [MSRP_HEADER_CONTENT_ID] = "Content-ID",
  [MSRP_HEADER_CONTENT_DESCRIPTION] = "Content-Description",
  [MSRP_HEADER_CONTENT_DISPOSITION] = "Content-Disposition",
  [MSRP_HEADER_USE_PATH] = "Use-Path",
  [MSRP_HEADER_EXPIRES] = "Expires",
  [MSRP_HEADER_MIN_EXPIRES] = "Min-Expires",
  [MSRP_HEADER_MAX_EXPIRES] = "Max-Expires",
  [MSRP_HEADER_WWW_AUTHENTICATE] = "WWW-Authenticate",
  [MSRP_HEADER_AUTHORIZATION] = "Authorization",
  [MSRP_HEADER_AUTHENTICATION_INFO] = "Authentication-Info",
};

#define N_HEADER_IDS G_N_ELEMENTS (header_names)

G_STATIC_ASSERT (N_HEADER_IDS <= 64);   /* MsrpHeaderOrder.seen is a guint64 */

/* Header names are case-insensitive: RFC 4975 section 9 writes them as ABNF
 * quoted strings, which RFC 5234 section 2.3 defines as case-insensitive. */
MsrpHeaderId
msrp_header_id_from_name (const char *name, gsize len)
{
  g_return_val_if_fail (name != NULL || len == 0, MSRP_HEADER_OTHER);

  for (guint i = 1; i < N_HEADER_IDS; i++)
    {
      const char *known = header_names[i];

      if (strlen (known) == len && g_ascii_strncasecmp (known, name, len) == 0)
        return (MsrpHeaderId) i;
    }
  return MSRP_HEADER_OTHER;
}

const char *
msrp_header_id_to_name (MsrpHeaderId id)
{
  if ((guint) id >= N_HEADER_IDS)
    return NULL;
  return header_names[id];
}

/* Name for error messages; never NULL. */
static const char *
id_display_name (MsrpHeaderId id)
{
  const char *name = msrp_header_id_to_name (id);

  return name != NULL ? name : "an extension header";
}

/* ---------------------------------------------------------------------------
 * Header order (RFC 4975 sections 6 and 9)
 *
 *   headers = To-Path CRLF From-Path CRLF 1*( header CRLF )
 *
 * To-Path is the first header and From-Path the second.  Every header this
 * module knows is single-valued and may appear once; extension headers
 * (MSRP_HEADER_OTHER) are not counted.  The ABNF asks for at least one header
 * after From-Path in a request, but a response (section 7.2) may carry only
 * the two paths, so finish() accepts a block of just To-Path and From-Path;
 * a caller that wants the stricter request rule checks the index itself.
 * ------------------------------------------------------------------------- */

void
msrp_header_order_init (MsrpHeaderOrder *order)
{
  g_return_if_fail (order != NULL);

  order->index = 0;
  order->seen = 0;
}

gboolean
msrp_header_order_check (MsrpHeaderOrder *order, MsrpHeaderId id,
                         GError **error)
{
  g_return_val_if_fail (order != NULL, FALSE);
  g_return_val_if_fail ((guint) id < N_HEADER_IDS, FALSE);

  if (id != MSRP_HEADER_OTHER && (order->seen & (G_GUINT64_CONSTANT (1) << id)))
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_DUPLICATE,
                   "%s: header appears more than once (again as header %u)",
                   id_display_name (id), order->index + 1);
      return FALSE;
    }

  if (order->index == 0 && id != MSRP_HEADER_TO_PATH)
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_ORDER,
                   "header 1 is %s, but To-Path must be the first header",
                   id_display_name (id));
      return FALSE;
    }
  if (order->index == 1 && id != MSRP_HEADER_FROM_PATH)
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_ORDER,
                   "header 2 is %s, but From-Path must be the second header",
                   id_display_name (id));
      return FALSE;
    }

  /* index >= 2 with To-Path/From-Path is caught above as a duplicate, since
   * both were seen at index 0 and 1. */
  if (order->index < G_MAXUINT)
    order->index++;
  if (id != MSRP_HEADER_OTHER)
    order->seen |= G_GUINT64_CONSTANT (1) << id;
  return TRUE;
}

gboolean
msrp_header_order_finish (MsrpHeaderOrder *order, GError **error)
{
  g_return_val_if_fail (order != NULL, FALSE);

  if (!(order->seen & (G_GUINT64_CONSTANT (1) << MSRP_HEADER_TO_PATH)))
    {
      g_set_error_literal (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_MISSING,
                           "To-Path: mandatory header is missing");
      return FALSE;
    }
  if (!(order->seen & (G_GUINT64_CONSTANT (1) << MSRP_HEADER_FROM_PATH)))
    {
      g_set_error_literal (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_MISSING,
                           "From-Path: mandatory header is missing");
      return FALSE;
    }
  return TRUE;
}
