/* mc-sender.h: the sending side of msrpcat (RFC 4975 sections 7.1, 7.1.1,
 * 7.3.2).
 *
 * Messages come from --message texts, a --file, stdin, or the chat
 * benchmark, and are cut into SEND chunks by msrp-writer's chunker.  Bodies
 * are read piece by piece as the connection drains (never a whole file in
 * memory).  Chunks are pipelined; each transaction response is matched by
 * its transaction id, each REPORT by its Message-ID.  A non-200 response or
 * a Failure REPORT fails the run: the chunk being sent is ended with '#'
 * (section 7.3.2) and nothing more is sent.
 */
#pragma once

#include "mc-link.h"
#include "mc-session.h"

G_BEGIN_DECLS

typedef struct _McSender McSender;

typedef struct
{
  /* Everything was sent and confirmed as asked (responses for
   * Failure-Report yes, Success REPORTs for Success-Report yes). */
  void (*on_done) (McSender *sender, gpointer user_data);
  /* A failure was recorded with mc_session_fail(); nothing more is sent. */
  void (*on_failed) (McSender *sender, gpointer user_data);
} McSenderCallbacks;

/* Plan the messages of @session's configuration.
 * Returns: (transfer full) (nullable): NULL with @error when a source cannot
 * be used (a file that cannot be opened, ...). */
G_GNUC_WARN_UNUSED_RESULT
McSender *mc_sender_new (McSession *session,
                         const McSenderCallbacks *callbacks,
                         gpointer user_data, GError **error);
void mc_sender_free (McSender *sender);

/* Send an empty SEND before anything else (RFC 4975 sections 5.4 and 7.1,
 * RFC 6135 section 4.2.2: it binds the connection to the session). */
void mc_sender_set_bind (McSender *sender, gboolean bind);
/* With the empty SEND: send nothing more until it is answered 200 (over an
 * ICE pair the peer's agent may still be finishing its checks, and takes
 * only so many bytes before that). */
void mc_sender_set_bind_wait (McSender *sender, gboolean wait);
/* Is there anything to send (messages or an empty SEND)? */
gboolean mc_sender_has_work (McSender *sender);

/* Start sending on @link (a reference is taken).  The session's To-Path
 * and local URI must be known. */
void mc_sender_start (McSender *sender, McLink *link);
gboolean mc_sender_is_started (McSender *sender);
/* Call from the link's on_drained. */
void mc_sender_on_drained (McSender *sender);

/* A response arrived: TRUE when it answered one of our transactions. */
gboolean mc_sender_handle_response (McSender *sender, MsrpHead *head);
/* A REPORT arrived (RFC 4975 section 7.3.2). */
void mc_sender_handle_report (McSender *sender, MsrpHead *head);
/* The link closed: what was not finished fails. */
void mc_sender_link_closed (McSender *sender);
/* Stop sending at once (a failure elsewhere, a timeout, a signal): the
 * chunk being sent is ended with '#'. */
void mc_sender_stop (McSender *sender);

gboolean mc_sender_is_done (McSender *sender);
/* Started and waiting for the peer (for --timeout): writing, or expecting
 * responses or REPORTs; not while only the --interval timer runs. */
gboolean mc_sender_is_waiting (McSender *sender);
/* Transactions sent and not answered yet. */
guint mc_sender_get_awaiting (McSender *sender);

G_END_DECLS
