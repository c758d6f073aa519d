#include "msrp-head.h"

#include <string.h>

GQuark
msrp_head_error_quark (void)
{
  return g_quark_from_static_string ("msrp-head-error-quark");
}

typedef struct
{
  MsrpHeaderId id;
  char *name;
  char *value;
} Header;

struct _MsrpHead
{
  gatomicrefcount ref;
  gboolean is_request;
  gboolean has_body;
  char *transaction_id;
  char *method;      /* requests */
  guint status_code; /* responses */
  char *comment;     /* responses, nullable */

  GArray *headers; /* Header, in order */

  GPtrArray *to_path;
  GPtrArray *from_path;
  GPtrArray *use_path;
  char *message_id;
  gboolean has_byte_range;
  MsrpByteRange byte_range;
  MsrpReportMode success_report;
  MsrpReportMode failure_report;
  gboolean has_status;
  MsrpStatus status;
  guint64 expires_seen; /* bit per MsrpHeaderId */
  guint32 expires[3];   /* Expires, Min-Expires, Max-Expires */
};

static void
header_clear (gpointer p)
{
  Header *h = p;

  g_free (h->name);
  g_free (h->value);
}

MsrpHead *
msrp_head_new_from_event (const MsrpParserEvent *event)
{
  MsrpHead *head;

  g_return_val_if_fail (event != NULL, NULL);
  g_return_val_if_fail (event->type == MSRP_PARSER_EVENT_REQUEST ||
                            event->type == MSRP_PARSER_EVENT_RESPONSE,
                        NULL);

  head = g_new0 (MsrpHead, 1);
  g_atomic_ref_count_init (&head->ref);
  head->is_request = event->type == MSRP_PARSER_EVENT_REQUEST;
  head->transaction_id =
      g_strndup (event->transaction_id, event->transaction_id_len);
  if (head->is_request)
    head->method = g_strndup (event->method, event->method_len);
  else
    {
      head->status_code = event->status_code;
      if (event->comment != NULL)
        head->comment = g_strndup (event->comment, event->comment_len);
    }
  head->headers = g_array_new (FALSE, FALSE, sizeof (Header));
  g_array_set_clear_func (head->headers, header_clear);
  head->success_report = MSRP_SUCCESS_REPORT_DEFAULT;
  head->failure_report = MSRP_FAILURE_REPORT_DEFAULT;
  return head;
}

MsrpHead *
msrp_head_ref (MsrpHead *head)
{
  g_atomic_ref_count_inc (&head->ref);
  return head;
}

void
msrp_head_unref (MsrpHead *head)
{
  if (head == NULL || !g_atomic_ref_count_dec (&head->ref))
    return;
  g_free (head->transaction_id);
  g_free (head->method);
  g_free (head->comment);
  g_array_unref (head->headers);
  g_clear_pointer (&head->to_path, g_ptr_array_unref);
  g_clear_pointer (&head->from_path, g_ptr_array_unref);
  g_clear_pointer (&head->use_path, g_ptr_array_unref);
  g_free (head->message_id);
  if (head->has_status)
    msrp_status_header_clear (&head->status);
  g_free (head);
}

/* The URIs at the start of a To-Path or From-Path value that was refused
 * (more than MSRP_URI_LIST_MAX URIs, or a bad URI after good ones): those
 * before the first that does not parse, at most MSRP_URI_LIST_MAX.  A 400
 * needs no more to be addressed (RFC 4975 section 7.2: From-Path the first
 * To-Path URI; To-Path the first From-Path URI for a SEND, the path back
 * otherwise), and without them a peer that sends 33 URIs would get no
 * answer at all.  NULL when not even the first URI parses. */
static GPtrArray *
path_prefix (const char *value, gsize len)
{
  GPtrArray *uris =
      g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);
  gsize pos = 0;

  while (pos < len && uris->len < MSRP_URI_LIST_MAX)
    {
      const char *space = memchr (value + pos, ' ', len - pos);
      gsize end = space != NULL ? (gsize) (space - value) : len;
      MsrpUri *uri =
          end - pos <= MSRP_URI_MAX_LEN
              ? msrp_uri_parse (value + pos, (gssize) (end - pos), NULL)
              : NULL;

      if (uri == NULL)
        break;
      g_ptr_array_add (uris, uri);
      pos = end + 1;
    }
  if (uris->len == 0)
    g_clear_pointer (&uris, g_ptr_array_unref);
  return uris;
}

/* To-Path, From-Path or Use-Path.  A refused To-Path or From-Path still
 * leaves what a 400 needs (path_prefix()); the header itself is not kept:
 * its value is not what we hold. */
static gboolean
add_path (MsrpHead *head, MsrpHeaderId id, const char *v, gsize len,
          GError **error)
{
  GPtrArray *path = msrp_path_parse (id, v, len, error);
  GPtrArray **slot = id == MSRP_HEADER_TO_PATH     ? &head->to_path
                     : id == MSRP_HEADER_FROM_PATH ? &head->from_path
                                                   : &head->use_path;

  if (path == NULL && id == MSRP_HEADER_USE_PATH)
    return FALSE;
  g_clear_pointer (slot, g_ptr_array_unref);
  *slot = path != NULL ? path : path_prefix (v, len);
  return path != NULL;
}

/* Re-domain a header parser's error: the caller only needs "400, because". */
static gboolean
value_error (GError **error, GError *local)
{
  g_set_error_literal (error, MSRP_HEAD_ERROR, MSRP_HEAD_ERROR_VALUE,
                       local->message);
  g_error_free (local);
  return FALSE;
}

gboolean
msrp_head_add_header (MsrpHead *head, const MsrpParserEvent *event,
                      GError **error)
{
  const char *v = event->value;
  gsize len = event->value_len;
  GError *local = NULL;
  Header h;

  g_return_val_if_fail (event->type == MSRP_PARSER_EVENT_HEADER, FALSE);

  /* The parser already enforces order and single occurrence of the known
   * headers (section 6), so each case below runs at most once. */
  switch (event->header_id)
    {
    case MSRP_HEADER_TO_PATH:
    case MSRP_HEADER_FROM_PATH:
    case MSRP_HEADER_USE_PATH:
      if (!add_path (head, event->header_id, v, len, &local))
        return value_error (error, local);
      break;
    case MSRP_HEADER_MESSAGE_ID:
      if (!msrp_message_id_parse (v, len, &head->message_id, &local))
        return value_error (error, local);
      break;
    case MSRP_HEADER_BYTE_RANGE:
      if (!msrp_byte_range_parse (v, len, &head->byte_range, &local))
        return value_error (error, local);
      head->has_byte_range = TRUE;
      break;
    case MSRP_HEADER_SUCCESS_REPORT:
      if (!msrp_success_report_parse (v, len, &head->success_report, &local))
        return value_error (error, local);
      break;
    case MSRP_HEADER_FAILURE_REPORT:
      if (!msrp_failure_report_parse (v, len, &head->failure_report, &local))
        return value_error (error, local);
      break;
    case MSRP_HEADER_STATUS:
      if (!msrp_status_header_parse (v, len, &head->status, &local))
        return value_error (error, local);
      head->has_status = TRUE;
      break;
    case MSRP_HEADER_CONTENT_TYPE:
      {
        g_autoptr (MsrpMediaType) mt = msrp_media_type_parse (v, len, &local);

        if (mt == NULL)
          return value_error (error, local);
        break;
      }
    case MSRP_HEADER_EXPIRES:
    case MSRP_HEADER_MIN_EXPIRES:
    case MSRP_HEADER_MAX_EXPIRES:
      {
        guint slot = event->header_id - MSRP_HEADER_EXPIRES;

        if (!msrp_expires_parse (event->header_id, v, len,
                                 &head->expires[slot], &local))
          return value_error (error, local);
        head->expires_seen |= G_GUINT64_CONSTANT (1) << event->header_id;
        break;
      }
    default:
      break;
    }

  h.id = event->header_id;
  h.name = g_strndup (event->name, event->name_len);
  h.value = g_strndup (v, len);
  g_array_append_val (head->headers, h);
  return TRUE;
}

gboolean
msrp_head_finish (MsrpHead *head, gboolean has_body, GError **error)
{
  head->has_body = has_body;
  if (head->to_path == NULL || head->from_path == NULL)
    {
      /* The parser's order check makes this unreachable for parsed input. */
      g_set_error (error, MSRP_HEAD_ERROR, MSRP_HEAD_ERROR_MISSING,
                   "To-Path and From-Path are required");
      return FALSE;
    }
  if (!head->is_request)
    return TRUE;
  if (g_strcmp0 (head->method, "SEND") == 0 && head->message_id == NULL)
    {
      g_set_error (error, MSRP_HEAD_ERROR, MSRP_HEAD_ERROR_MISSING,
                   "SEND without Message-ID (RFC 4975 section 7.1.1)");
      return FALSE;
    }
  if (g_strcmp0 (head->method, "REPORT") == 0 &&
      (head->message_id == NULL || !head->has_status))
    {
      g_set_error (error, MSRP_HEAD_ERROR, MSRP_HEAD_ERROR_MISSING,
                   "REPORT without %s (RFC 4975 section 7.1.2)",
                   head->message_id == NULL ? "Message-ID" : "Status");
      return FALSE;
    }
  return TRUE;
}

gboolean
msrp_head_is_request (const MsrpHead *head)
{
  return head->is_request;
}

const char *
msrp_head_get_transaction_id (const MsrpHead *head)
{
  return head->transaction_id;
}

const char *
msrp_head_get_method (const MsrpHead *head)
{
  return head->method;
}

guint
msrp_head_get_status_code (const MsrpHead *head)
{
  return head->status_code;
}

const char *
msrp_head_get_comment (const MsrpHead *head)
{
  return head->comment;
}

gboolean
msrp_head_has_body (const MsrpHead *head)
{
  return head->has_body;
}

GPtrArray *
msrp_head_get_to_path (const MsrpHead *head)
{
  return head->to_path;
}

GPtrArray *
msrp_head_get_from_path (const MsrpHead *head)
{
  return head->from_path;
}

GPtrArray *
msrp_head_get_use_path (const MsrpHead *head)
{
  return head->use_path;
}

const char *
msrp_head_get_message_id (const MsrpHead *head)
{
  return head->message_id;
}

const MsrpByteRange *
msrp_head_get_byte_range (const MsrpHead *head)
{
  return head->has_byte_range ? &head->byte_range : NULL;
}

MsrpReportMode
msrp_head_get_success_report (const MsrpHead *head)
{
  return head->success_report;
}

MsrpReportMode
msrp_head_get_failure_report (const MsrpHead *head)
{
  return head->failure_report;
}

const MsrpStatus *
msrp_head_get_status (const MsrpHead *head)
{
  return head->has_status ? &head->status : NULL;
}

const char *
msrp_head_get_content_type (const MsrpHead *head)
{
  return msrp_head_find (head, MSRP_HEADER_CONTENT_TYPE, NULL);
}

gboolean
msrp_head_get_expires (const MsrpHead *head, MsrpHeaderId which, guint32 *out)
{
  g_return_val_if_fail (which == MSRP_HEADER_EXPIRES ||
                            which == MSRP_HEADER_MIN_EXPIRES ||
                            which == MSRP_HEADER_MAX_EXPIRES,
                        FALSE);
  if (!(head->expires_seen & (G_GUINT64_CONSTANT (1) << which)))
    return FALSE;
  *out = head->expires[which - MSRP_HEADER_EXPIRES];
  return TRUE;
}

guint
msrp_head_get_n_headers (const MsrpHead *head)
{
  return head->headers->len;
}

void
msrp_head_get_header (const MsrpHead *head, guint index, MsrpHeaderId *id,
                      const char **name, const char **value)
{
  const Header *h;

  g_return_if_fail (index < head->headers->len);
  h = &g_array_index (head->headers, Header, index);
  if (id != NULL)
    *id = h->id;
  if (name != NULL)
    *name = h->name;
  if (value != NULL)
    *value = h->value;
}

const char *
msrp_head_find (const MsrpHead *head, MsrpHeaderId id, const char *name)
{
  for (guint i = 0; i < head->headers->len; i++)
    {
      const Header *h = &g_array_index (head->headers, Header, i);

      if (id != MSRP_HEADER_OTHER ? h->id == id
                                  : g_ascii_strcasecmp (h->name, name) == 0)
        return h->value;
    }
  return NULL;
}
