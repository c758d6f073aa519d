/* mc-link.h: one MSRP connection of msrpcat: a NetConn, the streaming frame
 * parser and the head of the frame being received.
 *
 * The link turns bytes into frame events for its owner:
 *
 *   on_request       a request head, with its headers parsed (MsrpHead);
 *                    the owner returns a context for the body, or NULL to
 *                    have the body skipped;
 *   on_request_body  a piece of the body (valid during the call only);
 *   on_request_end   the end-line with its flag; the context is done;
 *   on_request_lost  the connection ended mid-frame; the context is done;
 *   on_response      a transaction response;
 *
 * and answers on its own what the owner never sees (RFC 4975 section 7.2,
 * 7.3): a request whose header values are invalid gets 400 (when a response
 * is due) and its body is skipped; a frame that breaks the syntax gets 400
 * when its paths were read and a response is due, and the connection is then
 * closed, because framing is lost.
 *
 * Callbacks run from the main context; any of them may close the link or
 * drop the owner's reference (the link holds its own while it calls out).
 */
#pragma once

#include <gio/gio.h>

#include "net-conn.h"
#include "msrp-head.h"
#include "msrp-writer.h"

G_BEGIN_DECLS

typedef struct _McLink McLink;

typedef struct
{
  /* The connection is open (TCP connected, TLS handshake done). */
  void (*on_open) (McLink *link, gpointer user_data);
  /* (transfer none) @head; return a context (or NULL: skip the body). */
  gpointer (*on_request) (McLink *link, MsrpHead *head, gpointer user_data);
  void (*on_request_body) (McLink *link, gpointer request, const guint8 *data,
                           gsize len, gpointer user_data);
  void (*on_request_end) (McLink *link, gpointer request, char flag,
                          gpointer user_data);
  void (*on_request_lost) (McLink *link, gpointer request, gpointer user_data);
  void (*on_response) (McLink *link, MsrpHead *head, gpointer user_data);
  /* The write queue fell to the low watermark after congestion. */
  void (*on_drained) (McLink *link, gpointer user_data);
  /* Once; no callback follows.  @error says why (NET_CONN_ERROR). */
  void (*on_closed) (McLink *link, NetConnCloseReason reason,
                     const GError *error, gpointer user_data);
} McLinkCallbacks;

/* Take over @conn (a reference is taken) and report its events to
 * @callbacks (copied) with @user_data.  (transfer full) */
G_GNUC_WARN_UNUSED_RESULT
McLink *mc_link_new (NetConn *conn, const McLinkCallbacks *callbacks,
                     gpointer user_data);
McLink *mc_link_ref (McLink *link);
/* The last reference aborts a connection that is still open. */
void mc_link_unref (McLink *link);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (McLink, mc_link_unref)

/* Print the start line of every frame received and sent to stderr. */
void mc_link_set_verbose (McLink *link, gboolean verbose);
/* Stop reading while the write queue is congested with what this side
 * writes in answer (responses, REPORTs): a peer that does not read can
 * then not make us queue without bound.  Not for a link that also carries
 * our own bulk data: both sides would wait for each other. */
void mc_link_set_pause_when_congested (McLink *link, gboolean pause);

/* (transfer none) */
NetConn *mc_link_get_conn (McLink *link);
/* "127.0.0.1:2855" */
const char *mc_link_get_peer (McLink *link);
gboolean mc_link_is_open (McLink *link);
gboolean mc_link_is_closed (McLink *link);

/* Queue raw bytes (a chunk head, body piece or end-line).  FALSE when the
 * connection is closing or closed. */
gboolean mc_link_write (McLink *link, GBytes *bytes);
/* The owner writes its own frame piece by piece with mc_link_write(): call
 * mc_link_frame_begin() before its head and mc_link_frame_end() after its
 * end-line.  Whole frames queued in between (mc_link_send(),
 * mc_link_respond(): responses, REPORTs) are held and written right after
 * the end-line: a frame ends only at its end-line (RFC 4975 section 9), so
 * one written into another's body would become part of that body.  One
 * frame may be open at a time. */
void mc_link_frame_begin (McLink *link);
void mc_link_frame_end (McLink *link);
/* Queue a whole frame: @writer's head, @body, end-line with @flag (see
 * msrp_writer_to_bytes()); behind the open frame, if any. */
gboolean mc_link_send (McLink *link, MsrpWriter *writer, GBytes *body,
                       char flag, GError **error);
gboolean mc_link_is_congested (McLink *link);

/* Answer the request @request (a head this link passed to on_request) with
 * @code and @comment (NULL: the reason phrase), when RFC 4975 says a
 * response is due (msrp_status_response_due()): nothing for a REPORT, nor
 * for Failure-Report "no", nor a 200 for "partial".  A request is answered
 * at most once; later calls return FALSE.
 * Returns: TRUE when a response was queued. */
gboolean mc_link_respond (McLink *link, MsrpHead *request, guint code,
                          const char *comment);

/* Graceful close: what is queued is sent first; on_closed follows. */
void mc_link_close (McLink *link);
/* Close now, dropping what is queued.  A request still open is handed to
 * on_request_lost; on_closed is not called. */
void mc_link_abort (McLink *link);

/* Why the link closed itself on bytes that broke the frame syntax
 * (sanitized text), NULL when it did not.  (transfer none) (nullable) */
const char *mc_link_get_parse_error (McLink *link);

/* A comment safe for a status line or Status header: printable ASCII only
 * (other bytes become '?'), at most 200 bytes.  (transfer full) */
char *mc_link_sanitize_comment (const char *text);

G_END_DECLS
