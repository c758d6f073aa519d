#include "mc-link.h"

#include <stdio.h>
#include <string.h>

#include "msrp-reader.h"
#include "msrp-status.h"

#define COMMENT_MAX 200

struct _McLink
{
  guint ref_count;
  NetConn *conn;
  MsrpReader *reader;
  McLinkCallbacks cb;
  gpointer user_data;
  gboolean verbose;
  gboolean pause_when_congested;
  gboolean paused_by_us;

  /* The frame being received. */
  MsrpHead *head;
  gboolean responded; /* the current request was answered */
  gpointer request;   /* owner's context for the body */

  /* Writing. */
  gboolean frame_open; /* the owner's frame is being written */
  GQueue held;         /* GBytes: whole frames for after its end-line */

  gboolean stopping; /* mc_link_close() or a parse error: no more
                      * events to the owner */
  gboolean closed;
  char *parse_error; /* why the bytes could not be framed */
};

static void say (McLink *link, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
say (McLink *link, const char *format, ...)
{
  va_list ap;
  g_autofree char *text = NULL;

  if (!link->verbose)
    return;
  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  fprintf (stderr, "msrpcat: [%s] %s\n",
           net_conn_get_peer_address (link->conn), text);
}

char *
mc_link_sanitize_comment (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text != NULL ? text : "";
       *p != '\0' && out->len < COMMENT_MAX; p++)
    g_string_append_c (out, (*p >= 0x20 && *p < 0x7f) ? *p : '?');
  return g_string_free (out, FALSE);
}

/* The owner's context of a request still open is over. */
static void
lose_request (McLink *link)
{
  gpointer req = g_steal_pointer (&link->request);

  if (req != NULL && link->cb.on_request_lost != NULL)
    link->cb.on_request_lost (link, req, link->user_data);
}

static void
clear_frame (McLink *link)
{
  g_clear_pointer (&link->head, msrp_head_unref);
  link->responded = FALSE;
}

static void
stop (McLink *link)
{
  link->stopping = TRUE;
  lose_request (link);
}

gboolean
mc_link_respond (McLink *link, MsrpHead *request, guint code,
                 const char *comment)
{
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *safe = NULL;
  const char *method;

  g_return_val_if_fail (link != NULL && request != NULL, FALSE);
  g_return_val_if_fail (msrp_head_is_request (request), FALSE);

  if (request == link->head && link->responded)
    return FALSE;
  method = msrp_head_get_method (request);
  if (!msrp_status_response_due (method,
                                 msrp_head_get_failure_report (request), code))
    return FALSE;
  if (msrp_head_get_to_path (request) == NULL ||
      msrp_head_get_from_path (request) == NULL)
    return FALSE; /* no way to address it */
  if (comment != NULL)
    safe = mc_link_sanitize_comment (comment);
  w = msrp_status_build_response (
      method, msrp_head_get_transaction_id (request),
      msrp_head_get_to_path (request), msrp_head_get_from_path (request), code,
      safe, &error);
  if (w == NULL || !mc_link_send (link, w, NULL, '$', &error))
    {
      if (error != NULL)
        say (link, "cannot answer %s %s: %s", method,
             msrp_head_get_transaction_id (request), error->message);
      return FALSE;
    }
  if (request == link->head)
    link->responded = TRUE;
  say (link, "> %u %s (answer to %s %s)", code,
       safe != NULL                        ? safe
       : msrp_status_reason (code) != NULL ? msrp_status_reason (code)
                                           : "",
       method, msrp_head_get_transaction_id (request));
  return TRUE;
}

/* A header value was invalid: RFC 4975 section 7.2, "400 ... the request
 * was unintelligible"; the frame itself is still well formed, so the
 * connection goes on (the reader skips its body). */
static void
head_failed (McLink *link, const GError *error)
{
  say (link, "bad %s %s: %s",
       msrp_head_is_request (link->head) ? "request" : "response",
       msrp_head_get_transaction_id (link->head), error->message);
  if (msrp_head_is_request (link->head))
    mc_link_respond (link, link->head, MSRP_STATUS_BAD_REQUEST,
                     error->message);
}

static void
on_head (McLink *link)
{
  if (msrp_head_is_request (link->head))
    {
      say (link, "< %s %s", msrp_head_get_method (link->head),
           msrp_head_get_transaction_id (link->head));
      if (link->cb.on_request != NULL)
        link->request =
            link->cb.on_request (link, link->head, link->user_data);
    }
  else
    {
      say (link, "< %u %s (tid %s)", msrp_head_get_status_code (link->head),
           msrp_head_get_comment (link->head) != NULL
               ? msrp_head_get_comment (link->head)
               : "",
           msrp_head_get_transaction_id (link->head));
      if (link->cb.on_response != NULL)
        link->cb.on_response (link, link->head, link->user_data);
    }
}

static void
handle_event (McLink *link, const MsrpReaderEvent *ev)
{
  switch (ev->type)
    {
    case MSRP_READER_EVENT_HEAD:
      clear_frame (link);
      link->head = msrp_head_ref (ev->head);
      if (ev->head_error != NULL)
        head_failed (link, ev->head_error);
      else
        on_head (link);
      break;
    case MSRP_READER_EVENT_BODY:
      if (link->request != NULL && link->cb.on_request_body != NULL)
        link->cb.on_request_body (link, link->request, ev->data, ev->data_len,
                                  link->user_data);
      break;
    case MSRP_READER_EVENT_END:
      {
        gpointer req = g_steal_pointer (&link->request);

        if (req != NULL && link->cb.on_request_end != NULL)
          link->cb.on_request_end (link, req, ev->continuation,
                                   link->user_data);
        clear_frame (link);
        break;
      }
    }
}

/* The bytes broke the section 9 syntax: framing is lost.  Answer 400 when
 * the request's paths are known and the owner has not answered yet, then
 * close. */
static void
parse_failed (McLink *link, const GError *error)
{
  MsrpHead *head = msrp_reader_get_head (link->reader);

  g_free (link->parse_error);
  link->parse_error = mc_link_sanitize_comment (error->message);
  say (link, "malformed frame: %s", error->message);
  lose_request (link);
  if (head != NULL && msrp_head_is_request (head) &&
      !(head == link->head && link->responded))
    mc_link_respond (link, head, MSRP_STATUS_BAD_REQUEST, error->message);
  mc_link_close (link);
}

static void
conn_data (NetConn *conn, const guint8 *data, gsize len, gpointer user_data)
{
  McLink *link = mc_link_ref (user_data);

  while (!link->stopping)
    {
      MsrpReaderEvent ev;
      g_autoptr (GError) error = NULL;
      gsize used = 0;
      MsrpParseStatus st =
          msrp_reader_feed (link->reader, data, len, &used, &ev, &error);

      data += used;
      len -= used;
      if (st == MSRP_PARSE_NEED_MORE)
        break;
      if (st == MSRP_PARSE_ERROR)
        {
          parse_failed (link, error);
          break;
        }
      handle_event (link, &ev);
    }
  mc_link_unref (link);
}

static void
conn_connected (NetConn *conn, gpointer user_data)
{
  McLink *link = user_data;

  if (link->cb.on_open != NULL && !link->stopping)
    link->cb.on_open (link, link->user_data);
}

static void
conn_drained (NetConn *conn, gpointer user_data)
{
  McLink *link = user_data;

  if (link->paused_by_us)
    {
      link->paused_by_us = FALSE;
      net_conn_resume_reading (conn);
    }
  if (link->cb.on_drained != NULL)
    link->cb.on_drained (link, link->user_data);
}

static void
conn_closed (NetConn *conn, NetConnCloseReason reason, const GError *error,
             gpointer user_data)
{
  McLink *link = user_data;

  link->stopping = TRUE;
  link->closed = TRUE;
  lose_request (link);
  clear_frame (link);
  if (link->cb.on_closed != NULL)
    link->cb.on_closed (link, reason, error, link->user_data);
}

McLink *
mc_link_new (NetConn *conn, const McLinkCallbacks *callbacks,
             gpointer user_data)
{
  McLink *link;
  static const NetConnCallbacks conn_cb = {
    .on_connected = conn_connected,
    .on_data = conn_data,
    .on_drained = conn_drained,
    .on_closed = conn_closed,
  };

  g_return_val_if_fail (conn != NULL && callbacks != NULL, NULL);
  link = g_new0 (McLink, 1);
  link->ref_count = 1;
  link->conn = net_conn_ref (conn);
  link->reader = msrp_reader_new (NULL);
  link->cb = *callbacks;
  link->user_data = user_data;
  /* The connection holds no reference on the link: the link outlives the
   * connection's callbacks by aborting it in its finaliser. */
  net_conn_set_callbacks (conn, &conn_cb, link, NULL);
  return link;
}

McLink *
mc_link_ref (McLink *link)
{
  g_return_val_if_fail (link != NULL, NULL);
  link->ref_count++;
  return link;
}

void
mc_link_unref (McLink *link)
{
  if (link == NULL || --link->ref_count > 0)
    return;
  /* No callback may reach freed memory: detach first. */
  net_conn_set_callbacks (link->conn, NULL, NULL, NULL);
  /* A graceful close in progress goes on by itself (the connection keeps
   * itself alive until it is done); anything else is aborted. */
  if (net_conn_get_state (link->conn) != NET_CONN_STATE_CLOSED &&
      net_conn_get_state (link->conn) != NET_CONN_STATE_CLOSING)
    net_conn_abort (link->conn, FALSE);
  g_clear_pointer (&link->head, msrp_head_unref);
  g_queue_clear_full (&link->held, (GDestroyNotify) g_bytes_unref);
  net_conn_unref (link->conn);
  msrp_reader_free (link->reader);
  g_free (link->parse_error);
  g_free (link);
}

void
mc_link_set_verbose (McLink *link, gboolean verbose)
{
  link->verbose = verbose;
}

void
mc_link_set_pause_when_congested (McLink *link, gboolean pause)
{
  link->pause_when_congested = pause;
}

NetConn *
mc_link_get_conn (McLink *link)
{
  return link->conn;
}

const char *
mc_link_get_peer (McLink *link)
{
  return net_conn_get_peer_address (link->conn);
}

gboolean
mc_link_is_open (McLink *link)
{
  return net_conn_get_state (link->conn) == NET_CONN_STATE_OPEN &&
         !link->stopping;
}

gboolean
mc_link_is_closed (McLink *link)
{
  return link->closed;
}

gboolean
mc_link_write (McLink *link, GBytes *bytes)
{
  if (link->stopping || link->closed)
    return FALSE;
  if (!net_conn_write (link->conn, bytes))
    return FALSE;
  if (link->pause_when_congested && !link->paused_by_us &&
      net_conn_is_congested (link->conn))
    {
      link->paused_by_us = TRUE;
      net_conn_pause_reading (link->conn);
    }
  return TRUE;
}

void
mc_link_frame_begin (McLink *link)
{
  g_return_if_fail (!link->frame_open);
  link->frame_open = TRUE;
}

void
mc_link_frame_end (McLink *link)
{
  GBytes *b;

  g_return_if_fail (link->frame_open);
  link->frame_open = FALSE;
  while ((b = g_queue_pop_head (&link->held)) != NULL)
    {
      mc_link_write (link, b);
      g_bytes_unref (b);
    }
}

gboolean
mc_link_send (McLink *link, MsrpWriter *writer, GBytes *body, char flag,
              GError **error)
{
  g_autoptr (GBytes) frame = msrp_writer_to_bytes (writer, body, flag, error);
  gboolean queued;

  if (frame == NULL)
    return FALSE;
  if (link->frame_open && !link->stopping && !link->closed)
    {
      g_queue_push_tail (&link->held, g_steal_pointer (&frame));
      queued = TRUE;
    }
  else
    {
      queued = mc_link_write (link, frame);
    }
  if (!queued)
    {
      g_set_error (error, NET_CONN_ERROR, NET_CONN_CLOSED_LOCAL,
                   "the connection to %s is closed",
                   net_conn_get_peer_address (link->conn));
      return FALSE;
    }
  if (!msrp_writer_is_response (writer))
    say (link, "> %s %s", msrp_writer_get_method (writer),
         msrp_writer_get_transaction_id (writer));
  return TRUE;
}

gboolean
mc_link_is_congested (McLink *link)
{
  return net_conn_is_congested (link->conn);
}

void
mc_link_close (McLink *link)
{
  if (link->closed)
    return;
  stop (link);
  /* The write queue is sent first, even when the owner drops the link
   * meanwhile (net_conn_close() keeps the connection alive). */
  if (link->paused_by_us)
    {
      link->paused_by_us = FALSE;
      net_conn_resume_reading (link->conn);
    }
  net_conn_close (link->conn);
}

void
mc_link_abort (McLink *link)
{
  if (link->closed)
    return;
  stop (link);
  link->closed = TRUE;
  clear_frame (link);
  net_conn_abort (link->conn, FALSE);
}

const char *
mc_link_get_parse_error (McLink *link)
{
  return link->parse_error;
}
