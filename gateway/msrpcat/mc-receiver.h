/* mc-receiver.h: the receiving side of msrpcat (RFC 4975 sections 7.1.3,
 * 7.1.4, 7.3 and 7.3.1).
 *
 * SEND requests addressed to this endpoint (the caller checks the To-Path
 * and answers 481 itself) are answered 200, 413 (over --max-size, or
 * refused earlier), 415 (a Content-Type outside --accept-types) or 400, as
 * Failure-Report allows.  Messages are written:
 *
 *   to --output-dir: one file per message, named by its Message-ID; chunks
 *     that arrive in order are streamed to the file as they come, so a file
 *     of any size takes no memory; a chunk out of order moves the message
 *     to msrp-reassembly (what was written is fed back to it), which
 *     assembles it in memory under the --max-buffer ceiling;
 *   to stdout: through msrp-reassembly, each message when it is complete.
 *
 * Success REPORTs are sent when a message is complete and asked for one
 * (Success-Report yes); a Failure REPORT is sent when a message fails after
 * some of its chunks were acknowledged with 200 and Failure-Report allows
 * it (section 7.1.4), since those acknowledgements no longer hold.
 */
#pragma once

#include "mc-link.h"
#include "mc-session.h"

G_BEGIN_DECLS

typedef struct _McReceiver McReceiver;

typedef struct
{
  /* A message was delivered (stdout or a file). */
  void (*on_message) (McReceiver *receiver, gpointer user_data);
} McReceiverCallbacks;

/* Returns: (transfer full) (nullable): NULL with @error when the output
 * directory cannot be made. */
G_GNUC_WARN_UNUSED_RESULT
McReceiver *mc_receiver_new (McSession *session,
                             const McReceiverCallbacks *callbacks,
                             gpointer user_data, GError **error);
/* Messages still incomplete are dropped (their partial files removed). */
void mc_receiver_free (McReceiver *receiver);

/* A SEND addressed to us.  Returns the context for its body (NULL: the
 * body is to be skipped, an answer was given if due). */
gpointer mc_receiver_request (McReceiver *receiver, McLink *link,
                              MsrpHead *head);
void mc_receiver_body (McReceiver *receiver, gpointer request,
                       const guint8 *data, gsize len);
void mc_receiver_end (McReceiver *receiver, gpointer request, char flag);
/* The connection ended mid-request: what arrived is kept, the message stays
 * incomplete. */
void mc_receiver_lost (McReceiver *receiver, gpointer request);

/* Messages in progress (incomplete). */
guint mc_receiver_get_n_pending (McReceiver *receiver);

G_END_DECLS
