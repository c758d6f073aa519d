/* gw-relay-stream.c: reading and streaming frames, with backpressure.
 *
 * The head of a forwarded frame is written once its headers are in, then
 * every BODY piece as it arrives (copied once into a GBytes), then the
 * end-line with the sender's flag.  A connection's writer carries one
 * frame at a time: a frame that wants a busy, congested or unconnected
 * writer pauses its reader, sets the unread input aside (at most one read)
 * and queues in the writer's FIFO; the writer hands itself to the next in
 * line when its frame ends or its queue drains.  So memory per relayed
 * stream is bounded by the write queue's high watermark plus one read,
 * whatever the message size.
 *
 * Re-entrancy: NetConn never calls back from inside net_conn_*(), and the
 * relay never resumes a paused reader from inside another connection's
 * callback: it queues a kick that the work source runs.
 *
 * Responsible for: feeding a connection's bytes to its MsrpParser and
 * acting on each event (headers in: route or answer; body: pass it on;
 * end: the end-line, the response due), a writer's frame in flight and its
 * FIFO, the small frames the relay makes (the ctrl queue, behind the frame
 * in flight), pausing and resuming readers (kicks), and a forward that can
 * no longer reach its writer (forward_failed()).
 *
 * Not here: where a request goes (gw-relay-route.c), AUTH
 * (gw-relay-auth.c), what a response or REPORT says (gw-relay-txn.c).
 */
#include "gw-relay-priv.h"

#include <string.h>

#include "msrp-status.h"

/* Generated frames queued on a connection behind a frame in flight, above
 * which the connection's own reader waits (its requests make responses). */
#define CTRL_LIMIT (64 * 1024)

/* The end-line of a frame with transaction id @tid, preceded by the CRLF
 * that ends a body (RFC 4975 section 7.1: "-------" tid flag). */
GBytes *
gw_relay_stream_end_line (const char *tid, gboolean has_body, char flag)
{
  GString *s = g_string_sized_new (48);

  if (has_body)
    g_string_append (s, "\r\n");
  g_string_append (s, "-------");
  g_string_append (s, tid);
  g_string_append_c (s, flag);
  g_string_append (s, "\r\n");
  return g_string_free_to_bytes (s);
}

/* Forget the frame coming in (and what it held). */
void
gw_relay_stream_rx_clear (Rx *rx)
{
  g_clear_pointer (&rx->head, msrp_head_unref);
  g_clear_pointer (&rx->head_error, g_free);
  g_clear_pointer (&rx->comment, g_free);
  g_clear_pointer (&rx->out, gw_relay_conn_unref);
  g_clear_pointer (&rx->out_head, g_bytes_unref);
  g_clear_pointer (&rx->msg, gw_relay_txn_msg_unref);
  g_clear_pointer (&rx->session_id, g_free);
  g_clear_pointer (&rx->from_sid, g_free);
  g_clear_pointer (&rx->to_sid, g_free);
  memset (rx, 0, sizeof *rx);
}

/* Can a frame start on @out now (open and not congested)? */
static gboolean
out_writable (Conn *out)
{
  return gw_relay_conn_is_open (out) && !net_conn_is_congested (out->gw);
}

/* Write @b on @c unless it is going. */
static void
write_bytes (Conn *c, GBytes *b)
{
  if (c->gw != NULL && !c->detached)
    net_conn_write (c->gw, b);
}

/* Write the small frames queued on @c behind the frame in flight, if its
 * connection is open (they stay queued while it connects).  Also while @c
 * is being detached: a last response (a 401 before closing) is still owed
 * to the peer. */
void
gw_relay_stream_flush_ctrl (Conn *c)
{
  GBytes *b;

  if (c->gw == NULL || net_conn_get_state (c->gw) != NET_CONN_STATE_OPEN)
    return;
  while ((b = g_queue_pop_head (&c->ctrl)) != NULL)
    {
      net_conn_write (c->gw, b);
      g_bytes_unref (b);
    }
  c->ctrl_bytes = 0;
}

/* A frame the relay made (a response or a REPORT): written now, or after
 * the frame in flight on @c. */
void
gw_relay_stream_send_small (Conn *c, GBytes *b)
{
  if (c->detached || c->relay->freeing)
    return;
  if (c->owner_conn == NULL && gw_relay_conn_is_open (c))
    {
      net_conn_write (c->gw, b);
      return;
    }
  g_queue_push_tail (&c->ctrl, g_bytes_ref (b));
  c->ctrl_bytes += g_bytes_get_size (b);
}

/* The frame in flight on @out has ended (or was cut). */
static void
out_frame_done (Conn *out)
{
  out->owner_conn = NULL;
  out->relay->frames_in_flight--;
  gw_relay_stream_flush_ctrl (out);
  gw_relay_stream_pump (out);
  /* The writer's own reader may wait for its generated frames to go. */
  if (out->rx.block == BLOCK_SELF)
    gw_relay_stream_kick (out);
}

/* The frame in flight from @c ends: its end-line with @flag goes to
 * rx.out, whose writer is then free for the next frame.  Its transaction
 * awaits the response from now on (RFC 4976 section 6.4.1: the
 * report-timeout starts once the last byte is sent; here: queued), unless
 * @c is going (@sender_gone): then nobody is left to tell what the next
 * hop answers. */
static void
frame_end (Conn *c, char flag, gboolean sender_gone)
{
  Rx *rx = &c->rx;
  g_autoptr (GBytes) end =
      gw_relay_stream_end_line (rx->out_tid, rx->has_body, flag);

  write_bytes (rx->out, end);
  if (rx->txn != NULL)
    {
      rx->txn->body_len = rx->body_len;
      if (sender_gone)
        {
          rx->txn->answered = TRUE;
          gw_relay_txn_finish (rx->txn);
        }
      else
        {
          gw_relay_txn_frame_ended (rx->txn);
        }
      rx->txn = NULL;
    }
  out_frame_done (rx->out);
}

/* The frame @src streams to @out cannot reach it: the writer closed, or
 * could not be reached.  RFC 4976 section 6.4.1: a SEND that already went
 * partly out gets a failure REPORT (Failure-Report yes or partial), and a
 * 200 at its end when that is due, since it was received; one that never
 * started gets an error response at its end instead. */
static void
forward_failed (Conn *src, guint code, const char *why)
{
  Rx *rx = &src->rx;
  MsrpHead *h = rx->head;

  if (rx->action != ACT_FORWARD)
    return;
  if (rx->started && gw_relay_is_method (h, "SEND"))
    {
      if (msrp_status_failure_report_due (
              "SEND", msrp_head_get_failure_report (h), code))
        gw_relay_txn_report (
            src, msrp_head_get_to_path (h)->pdata[0],
            msrp_head_get_from_path (h), msrp_head_get_message_id (h),
            msrp_head_get_byte_range (h) != NULL, msrp_head_get_byte_range (h),
            rx->body_len, code, why);
      rx->code = MSRP_STATUS_OK;
    }
  else
    {
      rx->code = code;
      g_free (rx->comment);
      rx->comment = g_strdup (why);
    }
  if (rx->msg != NULL)
    {
      rx->msg->acknowledged = FALSE;
      gw_relay_txn_msg_interrupt (rx->msg, why);
    }
  rx->action = ACT_DISCARD;
  rx->txn = NULL;
  g_clear_pointer (&rx->out, gw_relay_conn_unref);
  g_clear_pointer (&rx->out_head, g_bytes_unref);
  if (rx->block != BLOCK_NONE)
    {
      rx->block = BLOCK_NONE;
      gw_relay_stream_kick (src);
    }
}

/* @c, a reader, is going: its frame in flight ends with '#' on the next
 * hop (interrupted, RFC 4975 section 7.1), and nobody is left to tell what
 * the next hop answers; a frame still waiting for a writer leaves its
 * FIFO. */
void
gw_relay_stream_reader_gone (Conn *c)
{
  Rx *rx = &c->rx;
  Conn *out = rx->out;

  if (rx->action != ACT_FORWARD || out == NULL)
    return;
  if (rx->started && out->owner_conn == c)
    frame_end (c, '#', TRUE);
  else if (rx->block == BLOCK_START)
    {
      if (g_queue_remove (&out->waiters, c))
        gw_relay_conn_unref (c);
    }
}

/* @c, a writer, is going: the frame in flight toward it ends with '#'
 * while the connection is still open, and its sender learns it failed;
 * the small frames still owed go out (a 401 before closing); the frames
 * waiting for it fail. */
void
gw_relay_stream_writer_gone (Conn *c)
{
  Conn *src = c->owner_conn;
  Conn *w;

  if (src != NULL)
    {
      if (c->gw != NULL && net_conn_get_state (c->gw) == NET_CONN_STATE_OPEN)
        {
          g_autoptr (GBytes) end = gw_relay_stream_end_line (
              src->rx.out_tid, src->rx.has_body, '#');

          net_conn_write (c->gw, end);
        }
      c->owner_conn = NULL;
      c->relay->frames_in_flight--;
      if (src->rx.txn != NULL)
        {
          g_hash_table_steal (c->txns, src->rx.txn->out_tid);
          gw_relay_txn_free (src->rx.txn);
          src->rx.txn = NULL;
        }
      forward_failed (src, MSRP_STATUS_REQUEST_TIMEOUT,
                      "next hop connection closed mid-message");
    }
  gw_relay_stream_flush_ctrl (c);
  g_queue_clear_full (&c->ctrl, (GDestroyNotify) g_bytes_unref);
  c->ctrl_bytes = 0;
  while ((w = g_queue_pop_head (&c->waiters)) != NULL)
    {
      if (!w->detached && w->rx.block == BLOCK_START && w->rx.out == c)
        forward_failed (w, MSRP_STATUS_REQUEST_TIMEOUT,
                        "next hop connection closed");
      gw_relay_conn_unref (w);
    }
}

/* Is the reader of @c to wait before it acts on a new frame?  Its
 * responses go back on @c, so they must not pile up. */
static gboolean
self_blocked (Conn *c)
{
  return (c->gw != NULL && net_conn_is_congested (c->gw)) ||
         c->ctrl_bytes > CTRL_LIMIT || c->n_origin_txns >= MAX_ORIGIN_TXNS;
}

/* Does @code refuse the request itself (RFC 4976 section 6.1: an
 * unsuccessful request, counted on probation), rather than report that the
 * next hop failed (408) or accept it (200)? */
static gboolean
is_refusal (guint code)
{
  return code == MSRP_STATUS_BAD_REQUEST || code == MSRP_STATUS_FORBIDDEN ||
         code == MSRP_STATUS_SESSION_DOES_NOT_EXIST;
}

/* Drop the body of @c's frame; at its end, answer @code (0: nothing) with
 * @comment (nullable) when a response is due. */
void
gw_relay_stream_discard (Conn *c, guint code, const char *comment)
{
  c->rx.action = ACT_DISCARD;
  c->rx.code = code;
  g_free (c->rx.comment);
  c->rx.comment = g_strdup (comment);
}

/* Write the head of @c's frame to rx.out, which is free: the frame is in
 * flight from now on. */
static void
start_frame (Conn *c)
{
  Rx *rx = &c->rx;
  Conn *out = rx->out;
  MsrpHead *h = rx->head;
  const char *method = msrp_head_get_method (h);
  MsrpReportMode fr = msrp_head_get_failure_report (h);
  gboolean wants_response;

  out->owner_conn = c;
  c->relay->frames_in_flight++;
  net_conn_write (out->gw, rx->out_head);
  g_clear_pointer (&rx->out_head, g_bytes_unref);
  rx->started = TRUE;
  /* Responses to expect: a SEND's hop-by-hop one unless Failure-Report is
   * no (RFC 4975 section 7.1.4); none to a REPORT (section 7.1.2); an
   * end-to-end one to anything else (RFC 4976 section 6.4.2). */
  if (g_strcmp0 (method, "REPORT") == 0)
    wants_response = FALSE;
  else
    wants_response = fr != MSRP_REPORT_NO;
  if (wants_response)
    rx->txn = gw_relay_txn_new (c, out, h, rx->out_tid, rx->msg);
}

/* @c's frame is routed to rx.out: started now when that writer is free,
 * else queued in its FIFO (its reader waits meanwhile). */
void
gw_relay_stream_forward (Conn *c)
{
  Conn *out = c->rx.out;

  if (out->owner_conn == NULL && g_queue_is_empty (&out->waiters) &&
      out_writable (out))
    {
      start_frame (c);
      return;
    }
  c->rx.block = BLOCK_START;
  g_queue_push_tail (&out->waiters, gw_relay_conn_ref (c));
}

/* Hand the free writer @out to the first frame waiting for it. */
void
gw_relay_stream_pump (Conn *out)
{
  Conn *w;

  while (out->owner_conn == NULL && out_writable (out) &&
         (w = g_queue_pop_head (&out->waiters)) != NULL)
    {
      if (!w->detached && w->rx.block == BLOCK_START && w->rx.out == out)
        {
          w->rx.block = BLOCK_NONE;
          start_frame (w);
          gw_relay_stream_kick (w);
        }
      gw_relay_conn_unref (w);
    }
}

/* HEAD: decide what to do with the frame. */
static void
rx_dispatch (Conn *c)
{
  Rx *rx = &c->rx;

  if (!msrp_head_is_request (rx->head))
    {
      /* RFC 4976 section 6.4.3: "if the message cannot be parsed, the relay
       * MUST drop the response". */
      if (rx->head_error != NULL)
        gw_relay_stream_discard (c, 0, NULL);
      else
        rx->action = ACT_RESPONSE;
      return;
    }
  if (rx->head_error != NULL)
    {
      gw_relay_stream_discard (c, MSRP_STATUS_BAD_REQUEST, rx->head_error);
      return;
    }
  if (self_blocked (c))
    {
      rx->block = BLOCK_SELF;
      return;
    }
  gw_relay_route_request (c);
}

/* END of a frame streamed to rx.out: its end-line with the sender's @flag
 * goes out, the writer is free, and the report-timeout starts. */
static void
forward_end (Conn *c, char flag, guint64 body_len)
{
  Rx *rx = &c->rx;

  frame_end (c, flag, FALSE);
  /* RFC 4976 section 6.4.1: a SEND with Failure-Report yes gets its 200 at
   * once, from this hop only. */
  if (gw_relay_is_method (rx->head, "SEND"))
    gw_relay_txn_respond_if_due (c, rx->head, MSRP_STATUS_OK, NULL);
  if (rx->msg != NULL)
    {
      rx->msg->bytes += body_len;
      if (flag == '#')
        gw_relay_txn_msg_interrupt (rx->msg, "the sender aborted the message");
    }
  if (rx->to_sid != NULL)
    gw_relay_session_count_relayed (c->relay, rx->from_sid, rx->to_sid, flag,
                                    body_len);
}

/* bad_request: a request refused with 400 because it could not be
 * understood (RFC 4975 section 7.2), said once, here, where it is
 * answered; garbage that loses the framing is connection_closed with
 * reason parse_error instead. */
static void
log_bad_request (Conn *c, MsrpHead *h, const char *reason)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_MESSAGE, "bad_request");

  gw_log_event_add_int (ev, "conn", (gint64) c->id);
  gw_log_event_add_str (ev, "peer", gw_relay_conn_peer (c));
  gw_log_event_add_str (ev, "method", msrp_head_get_method (h));
  gw_log_event_add_str (ev, "tid", msrp_head_get_transaction_id (h));
  gw_log_event_add_str (ev, "reason", reason != NULL ? reason : "");
  gw_log_event_emit (ev, "%s %s from %s refused with 400: %s",
                     msrp_head_get_method (h),
                     msrp_head_get_transaction_id (h), gw_relay_conn_peer (c),
                     reason != NULL ? reason : "bad request");
}

/* END of a frame whose body was dropped: the response due, if any. */
static void
discard_end (Conn *c, guint64 body_len)
{
  Rx *rx = &c->rx;

  if (rx->msg != NULL)
    rx->msg->bytes += body_len;
  if (rx->code == MSRP_STATUS_BAD_REQUEST)
    log_bad_request (c, rx->head, rx->comment);
  if (rx->code != 0)
    gw_relay_txn_respond_if_due (c, rx->head, rx->code, rx->comment);
  /* The request itself was refused (not a next hop's failure): an
   * unsuccessful request for the probation. */
  if (is_refusal (rx->code))
    gw_relay_conn_note_failure (c);
}

/* END: the frame is complete. */
static void
rx_end (Conn *c, char flag, guint64 body_len)
{
  Rx *rx = &c->rx;

  rx->body_len = body_len;
  switch (rx->action)
    {
    case ACT_FORWARD:
      forward_end (c, flag, body_len);
      break;
    case ACT_DISCARD:
      discard_end (c, body_len);
      break;
    case ACT_AUTH:
      gw_relay_auth_handle (c);
      break;
    case ACT_RESPONSE:
      gw_relay_txn_handle_response (c);
      break;
    case ACT_NONE:
    default:
      break;
    }
  if (c->detached)
    return;
  /* A message ends with '$' or '#' (RFC 4975 section 7.1). */
  if (rx->msg != NULL && flag != '+')
    gw_relay_txn_msg_end (c, rx->msg);
  gw_relay_stream_rx_clear (rx);
}

/* One event of the frame coming in on @c (msrp-reader.h). */
static void
rx_event (Conn *c, const MsrpReaderEvent *ev)
{
  Rx *rx = &c->rx;

  switch (ev->type)
    {
    case MSRP_READER_EVENT_HEAD:
      gw_relay_stream_rx_clear (rx);
      if (msrp_head_is_request (ev->head))
        gw_relay_conn_note_request (c);
      rx->head = msrp_head_ref (ev->head);
      rx->has_body = msrp_head_has_body (ev->head);
      if (ev->head_error != NULL)
        rx->head_error = g_strdup (ev->head_error->message);
      rx_dispatch (c);
      break;
    case MSRP_READER_EVENT_BODY:
      rx->body_len += ev->data_len;
      if (rx->action == ACT_FORWARD && rx->started)
        {
          /* The bytes as read, shared with the read buffer, not copied;
           * the few the reader held across reads are copied. */
          g_autoptr (GBytes) piece =
              ev->held || c->gw == NULL
                  ? g_bytes_new (ev->data, ev->data_len)
                  : net_conn_slice (c->gw, ev->data, ev->data_len);

          write_bytes (rx->out, piece);
          if (rx->out->gw != NULL && net_conn_is_congested (rx->out->gw))
            rx->block = BLOCK_DRAIN;
        }
      break;
    case MSRP_READER_EVENT_END:
      rx_end (c, ev->continuation, ev->body_len);
      break;
    default:
      break;
    }
}

/* The stream from @c cannot be parsed: 400 if the transaction is known and
 * a response is due (RFC 4975 section 7.2), then close. */
static void
rx_parse_error (Conn *c, const GError *error)
{
  MsrpHead *head = msrp_reader_get_head (c->reader);

  /* In the body, a head that went on to a next hop is answered there. */
  if (head != NULL && msrp_head_is_request (head) &&
      !(msrp_reader_in_body (c->reader) && c->rx.action == ACT_FORWARD))
    gw_relay_txn_respond_if_due (c, head, MSRP_STATUS_BAD_REQUEST,
                                 error->message);
  gw_relay_conn_drop (c, "parse_error", error->message, TRUE);
}

/* Parse what @c sent, acting on each event, until the input is used up,
 * the reader must wait (the rest is set aside) or @c is gone. */
void
gw_relay_stream_feed (Conn *c, const guint8 *data, gsize len)
{
  if (c->reader == NULL)
    c->reader = msrp_reader_new (&c->relay->limits);
  while (!c->detached && c->rx.block == BLOCK_NONE)
    {
      MsrpReaderEvent ev;
      gsize used = 0;
      g_autoptr (GError) error = NULL;
      MsrpParseStatus st =
          msrp_reader_feed (c->reader, data, len, &used, &ev, &error);

      data += used;
      len -= used;
      if (st == MSRP_PARSE_NEED_MORE)
        break;
      if (st == MSRP_PARSE_ERROR)
        {
          rx_parse_error (c, error);
          return;
        }
      rx_event (c, &ev);
    }
  if (c->detached)
    return;
  if (c->rx.block != BLOCK_NONE)
    {
      if (len > 0)
        {
          GBytes *rest = g_bytes_new (data, len);

          g_clear_pointer (&c->pending, g_bytes_unref);
          c->pending = rest;
        }
      /* Pausing is the NetConn's state; a next hop still being resolved
       * has none and nothing to read yet. */
      if (c->gw != NULL)
        net_conn_pause_reading (c->gw);
    }
  else if (c->rx.head == NULL && msrp_reader_is_idle (c->reader))
    {
      /* At rest between frames: the next bytes get a new reader. */
      g_clear_pointer (&c->reader, msrp_reader_free);
    }
}

/* Is what @c's reader waits for still not there? */
static gboolean
still_blocked (Conn *c)
{
  Rx *rx = &c->rx;

  switch (rx->block)
    {
    case BLOCK_SELF:
      return self_blocked (c);
    case BLOCK_START:
      return TRUE; /* gw_relay_stream_pump() starts it */
    case BLOCK_PARTY:
      return c->party_link != NULL;
    case BLOCK_DRAIN:
      return rx->out != NULL && rx->out->gw != NULL && !rx->out->detached &&
             net_conn_is_congested (rx->out->gw);
    case BLOCK_NONE:
    default:
      return FALSE;
    }
}

/* A kick: go on if what @c waited for is there. */
static void
conn_resume (Conn *c)
{
  Rx *rx = &c->rx;
  RxBlock was = rx->block;

  gw_relay_conn_ref (c);
  if (still_blocked (c))
    goto out;
  rx->block = BLOCK_NONE;
  /* A frame whose headers are in but that was not routed yet (its own
   * writer was full, or its party had not connected): routed now. */
  if (was == BLOCK_SELF || was == BLOCK_PARTY)
    {
      gw_relay_route_request (c);
      if (c->detached || rx->block != BLOCK_NONE)
        goto out;
    }
  /* Feed what was set aside, or nothing: the reader may hold an event
   * still (the END of a bodiless frame follows its HEAD without
   * more input). */
  {
    g_autoptr (GBytes) p = g_steal_pointer (&c->pending);
    gsize len = 0;
    const guint8 *data = p != NULL ? g_bytes_get_data (p, &len) : NULL;

    gw_relay_stream_feed (c, data, len);
    if (c->detached || rx->block != BLOCK_NONE)
      goto out;
  }
  if (c->gw != NULL)
    net_conn_resume_reading (c->gw);
out:
  gw_relay_conn_unref (c);
}

/* Have @c resumed (conn_resume()) from the work source: never from inside
 * another connection's callback. */
void
gw_relay_stream_kick (Conn *c)
{
  GwRelay *r = c->relay;

  if (c->kick_queued || c->detached)
    return;
  c->kick_queued = TRUE;
  g_queue_push_tail (&r->kicks, gw_relay_conn_ref (c));
  gw_relay_wake_work (r);
}

/* Resume the connections kicked so far; kicks made meanwhile go to the
 * next run. */
void
gw_relay_stream_run_kicks (GwRelay *r)
{
  GQueue batch = r->kicks;
  Conn *c;

  g_queue_init (&r->kicks);
  while ((c = g_queue_pop_head (&batch)) != NULL)
    {
      c->kick_queued = FALSE;
      if (!c->detached)
        conn_resume (c);
      gw_relay_conn_unref (c);
    }
}
