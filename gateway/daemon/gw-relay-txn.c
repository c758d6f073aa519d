/* gw-relay-txn.c: transactions, responses and REPORTs (RFC 4976
 * sections 6.4.1 to 6.4.3), and messages.
 *
 * Responsible for: the responses and failure REPORTs the relay makes (and
 * the err_NNN counts of the stats), a request forwarded on one hop (Txn: a
 * new transaction id per hop, the report-timeout, what its sender is owed
 * when no answer comes), a response that comes back (a REPORT for a failed
 * SEND, relayed back by its To-Path otherwise), and one SEND message
 * across its chunks (Msg) for its one message_relayed line.
 *
 * Not here: the answer to a binding SEND (gw-relay-session.c), failed
 * AUTHs forwarded (gw-relay-auth.c), writing frames (gw-relay-stream.c).
 */
#include "gw-relay-priv.h"

#include "msrp-status.h"

/* Messages with chunks still to come, per connection. */
#define MAX_OPEN_MSGS 256

/* One more @code in @table (code -> count). */
static void
count_code (GHashTable *table, guint code)
{
  gpointer key = GUINT_TO_POINTER (code);

  g_hash_table_insert (
      table, key,
      GSIZE_TO_POINTER (GPOINTER_TO_SIZE (g_hash_table_lookup (table, key)) +
                        1));
}

/* The err_NNN counts of the stats: error codes the relay answered or
 * reported itself. */
static void
count_error (GwRelay *r, guint code)
{
  if (code >= 300)
    count_code (r->errors, code);
}

/* A Msg is held by its sender's open_msgs, the frame coming in (rx.msg)
 * and each of its chunks' Txns. */
static Msg *
msg_ref (Msg *m)
{
  m->ref++;
  return m;
}

void
gw_relay_txn_msg_unref (Msg *m)
{
  if (m == NULL || --m->ref > 0)
    return;
  g_free (m->key);
  g_free (m->message_id);
  g_free (m->session_id);
  g_free (m->call_id);
  g_free (m->reason);
  g_free (m);
}

/* @m did not get through whole: the first @reason is kept. */
void
gw_relay_txn_msg_interrupt (Msg *m, const char *reason)
{
  if (m->interrupted)
    return;
  m->interrupted = TRUE;
  g_free (m->reason);
  m->reason = g_strdup (reason);
}

/* message_relayed, once the last chunk is in and every chunk is
 * settled. */
static void
msg_maybe_log (Msg *m)
{
  GwRelay *r = m->relay;
  g_autoptr (GwLogEvent) ev = NULL;
  g_autofree char *outcome = NULL;
  Session *s;

  if (m->logged || !m->final || m->pending > 0)
    return;
  m->logged = TRUE;
  if (m->fail_code != 0)
    outcome = g_strdup_printf ("failed:%03u", m->fail_code);
  else if (m->timeout)
    outcome = g_strdup ("timeout");
  else if (m->interrupted)
    outcome = g_strdup ("interrupted");
  else
    outcome = g_strdup ("delivered");
  r->messages++;
  s = g_hash_table_lookup (r->sessions, m->session_id);
  if (s != NULL)
    {
      s->messages++;
      s->bytes += m->bytes;
    }
  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "message_relayed");
  gw_log_event_add_str (ev, "session", m->session_id);
  if (m->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", m->call_id);
  gw_log_event_add_str (ev, "message_id", m->message_id);
  gw_log_event_add_int (ev, "conn", (gint64) m->conn_id);
  gw_log_event_add_int (ev, "bytes", (gint64) m->bytes);
  gw_log_event_add_int (ev, "chunks", m->chunks);
  gw_log_event_add_str (ev, "outcome", outcome);
  gw_log_event_add_bool (ev, "acknowledged", m->acknowledged);
  if (m->reason != NULL && g_strcmp0 (outcome, "delivered") != 0)
    gw_log_event_add_str (ev, "reason", m->reason);
  gw_log_event_emit (ev,
                     "message %s: %" G_GUINT64_FORMAT " bytes in %u "
                     "chunks, %s",
                     m->message_id, m->bytes, m->chunks, outcome);
}

/* @c's table of open messages, made on first use. */
static GHashTable *
open_msgs (Conn *c)
{
  if (c->open_msgs == NULL)
    c->open_msgs =
        g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                               (GDestroyNotify) gw_relay_txn_msg_unref);
  return c->open_msgs;
}

/* The Msg of a SEND from @c, made on its first chunk. */
static Msg *
msg_for (Conn *c, const char *message_id, const char *session_id)
{
  /* Message-IDs are unique per sender; a connection from a relay carries
   * many senders' messages, told apart by their session. */
  g_autofree char *key = g_strconcat (session_id, " ", message_id, NULL);
  Msg *m = g_hash_table_lookup (open_msgs (c), key);

  if (m != NULL)
    return msg_ref (m);
  if (g_hash_table_size (c->open_msgs) >= MAX_OPEN_MSGS)
    {
      GHashTableIter it;
      gpointer value;

      /* Too many unfinished messages: give up on one. */
      g_hash_table_iter_init (&it, c->open_msgs);
      if (g_hash_table_iter_next (&it, NULL, &value))
        {
          Msg *old = msg_ref (value);

          g_hash_table_iter_remove (&it);
          old->final = TRUE;
          gw_relay_txn_msg_interrupt (
              old, "too many unfinished messages on the connection");
          msg_maybe_log (old);
          gw_relay_txn_msg_unref (old);
        }
    }
  m = g_new0 (Msg, 1);
  m->ref = 1;
  m->relay = c->relay;
  m->key = g_steal_pointer (&key);
  m->message_id = g_strdup (message_id);
  m->session_id = g_strdup (session_id);
  m->conn_id = c->id;
  m->acknowledged = TRUE;
  g_hash_table_insert (open_msgs (c), m->key, msg_ref (m));
  return m;
}

/* The last chunk of @m came from @c: no more will. */
void
gw_relay_txn_msg_end (Conn *c, Msg *m)
{
  m->final = TRUE;
  if (c->open_msgs != NULL)
    g_hash_table_remove (c->open_msgs, m->key);
  msg_maybe_log (m);
}

/* The Msg of the SEND chunk @h from @c toward the session @first,
 * counted. */
Msg *
gw_relay_txn_msg_chunk (Conn *c, MsrpHead *h, Session *first)
{
  Msg *m = msg_for (c, msrp_head_get_message_id (h), first->id);

  if (m->call_id == NULL)
    m->call_id = g_strdup (first->call_id);
  m->chunks++;
  /* Acknowledged only when every chunk gets a 200 back (RFC 4975 section
   * 7.1.4: only Failure-Report yes, or none, has one). */
  if (msrp_head_get_failure_report (h) != MSRP_REPORT_YES)
    m->acknowledged = FALSE;
  return m;
}

/* Send the relay's response to a request that came on @c: the request's
 * @method and @tid, @to_path and @from_path as received (RFC 4975 section
 * 7.2: to the previous hop for a SEND, the whole way back otherwise), and
 * @extra (nullable) header pairs (name, value, ..., NULL; a NULL value
 * skips its pair).  Every response the relay makes itself is built here;
 * responses it relays keep the next hop's bytes
 * (gw_relay_route_forward_head()). */
static void
send_response (Conn *c, const char *method, const char *tid,
               GPtrArray *to_path, GPtrArray *from_path, guint code,
               const char *comment, va_list *extra)
{
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GBytes) b = NULL;
  g_autoptr (GError) error = NULL;
  const char *name;

  if (c->detached)
    return;
  w = msrp_status_build_response (method, tid, to_path, from_path, code,
                                  comment, &error);
  while (w != NULL && extra != NULL &&
         (name = va_arg (*extra, const char *)) != NULL)
    {
      const char *value = va_arg (*extra, const char *);

      if (value != NULL && !msrp_writer_add_header (w, name, value, &error))
        g_clear_pointer (&w, msrp_writer_free);
    }
  if (w != NULL)
    b = msrp_writer_to_bytes (w, NULL, '$', &error);
  if (b == NULL)
    {
      g_autoptr (GwLogEvent) ev =
          gw_log_event_new (G_LOG_LEVEL_WARNING, "response_failed");

      gw_log_event_add_int (ev, "conn", (gint64) c->id);
      gw_log_event_add_int (ev, "code", code);
      gw_log_event_add_str (ev, "reason", error->message);
      gw_log_event_emit (ev, "cannot answer %u: %s", code, error->message);
      return;
    }
  count_error (c->relay, code);
  gw_relay_stream_send_small (c, b);
}

/* The response to the request @h received on @c, with extra header pairs
 * (name, value, ..., NULL). */
void
gw_relay_txn_respond (Conn *c, MsrpHead *h, guint code, const char *comment,
                      ...)
{
  va_list ap;

  if (msrp_head_get_to_path (h) == NULL || msrp_head_get_from_path (h) == NULL)
    return;
  va_start (ap, comment);
  send_response (c, msrp_head_get_method (h), msrp_head_get_transaction_id (h),
                 msrp_head_get_to_path (h), msrp_head_get_from_path (h), code,
                 comment, &ap);
  va_end (ap);
}

/* The response @code to @h, when one is due (RFC 4975 section 7.1.4,
 * RFC 4976 section 6.4.1: by its Failure-Report). */
void
gw_relay_txn_respond_if_due (Conn *c, MsrpHead *h, guint code,
                             const char *comment)
{
  if (msrp_status_response_due (msrp_head_get_method (h),
                                msrp_head_get_failure_report (h), code))
    gw_relay_txn_respond (c, h, code, comment, NULL);
}

/* A failure REPORT (RFC 4975 section 7.1.2, RFC 4976 section 6.4.1) to the
 * sender of a SEND, through @via (the connection it came on): To-Path the
 * received From-Path, From-Path our URI that received it. */
void
gw_relay_txn_report (Conn *via, MsrpUri *self_uri, GPtrArray *from_path,
                     const char *message_id, gboolean has_range,
                     const MsrpByteRange *range, guint64 body_len, guint code,
                     const char *comment)
{
  g_autoptr (GPtrArray) to = g_ptr_array_new ();
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GBytes) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GwLogEvent) ev = NULL;
  MsrpByteRange br = { 0 };
  const char *sender;

  if (via == NULL || via->detached || via->relay->freeing ||
      message_id == NULL)
    return;
  /* s.7.1.4: the range-end comes from the body actually seen. */
  br.start = has_range ? range->start : 1;
  br.total = has_range ? range->total : body_len;
  br.total_unknown = has_range && range->total_unknown;
  br.end = br.start + body_len - 1;
  g_ptr_array_add (to, self_uri);
  w = msrp_status_build_report (to, from_path, NULL, message_id,
                                (body_len > 0 || br.start == 1) ? &br : NULL,
                                code, comment, &error);
  if (w != NULL)
    b = msrp_writer_to_bytes (w, NULL, '$', &error);
  sender = msrp_uri_get_text (from_path->pdata[from_path->len - 1]);
  if (b == NULL)
    {
      ev = gw_log_event_new (G_LOG_LEVEL_WARNING, "report_failed");
      gw_log_event_add_str (ev, "message_id", message_id);
      gw_log_event_add_str (ev, "reason", error->message);
      gw_log_event_emit (ev, "cannot make a %u REPORT for %s: %s", code,
                         message_id, error->message);
      return;
    }
  count_error (via->relay, code);
  count_code (via->relay->reports, code);
  gw_relay_stream_send_small (via, b);
  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "report_generated");
  gw_log_event_add_int (ev, "code", code);
  gw_log_event_add_str (ev, "message_id", message_id);
  gw_log_event_add_str (ev, "to", sender);
  gw_log_event_add_int (ev, "conn", (gint64) via->id);
  if (comment != NULL)
    gw_log_event_add_str (ev, "reason", comment);
  gw_log_event_emit (ev, "REPORT %03u for message %s to %s", code, message_id,
                     sender);
}

/* The request @h from @in went out on @out as @out_tid: a transaction
 * awaiting a response (owned by out->txns). */
Txn *
gw_relay_txn_new (Conn *in, Conn *out, MsrpHead *h, const char *out_tid,
                  Msg *msg)
{
  Txn *t = g_new0 (Txn, 1);
  const MsrpByteRange *range = msrp_head_get_byte_range (h);

  t->relay = in->relay;
  t->out = out;
  g_strlcpy (t->out_tid, out_tid, sizeof t->out_tid);
  t->in = gw_relay_conn_ref (in);
  t->in_tid = g_strdup (msrp_head_get_transaction_id (h));
  t->method = g_strdup (msrp_head_get_method (h));
  t->failure_report = msrp_head_get_failure_report (h);
  t->message_id = g_strdup (msrp_head_get_message_id (h));
  if (range != NULL)
    {
      t->has_range = TRUE;
      t->range = *range;
    }
  t->self_uri = msrp_uri_ref (msrp_head_get_to_path (h)->pdata[0]);
  t->from_path = g_ptr_array_ref (msrp_head_get_from_path (h));
  t->frame_open = TRUE;
  t->auth_with_credentials =
      gw_relay_is_method (h, "AUTH") &&
      msrp_head_find (h, MSRP_HEADER_AUTHORIZATION, NULL) != NULL;
  if (msg != NULL)
    {
      t->msg = msg_ref (msg);
      msg->pending++;
    }
  in->n_origin_txns++;
  in->relay->n_txns++;
  if (out->txns == NULL)
    out->txns = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify) gw_relay_txn_free);
  g_hash_table_insert (out->txns, t->out_tid, t);
  return t;
}

/* Called by out->txns when the Txn is removed. */
void
gw_relay_txn_free (Txn *t)
{
  GwRelay *r = t->relay;

  if (t->timer_link != NULL)
    {
      g_queue_delete_link (&r->txn_timers, t->timer_link);
      t->timer_link = NULL;
    }
  if (--t->in->n_origin_txns == MAX_ORIGIN_TXNS - 1 &&
      t->in->rx.block == BLOCK_SELF)
    gw_relay_stream_kick (t->in);
  r->n_txns--;
  gw_relay_conn_unref (t->in);
  if (t->msg != NULL)
    {
      t->msg->pending--;
      msg_maybe_log (t->msg);
      gw_relay_txn_msg_unref (t->msg);
    }
  g_free (t->in_tid);
  g_free (t->method);
  g_free (t->message_id);
  msrp_uri_unref (t->self_uri);
  g_ptr_array_unref (t->from_path);
  g_free (t);
}

/* @t is done: out of its writer's table (gw_relay_txn_free()). */
void
gw_relay_txn_finish (Txn *t)
{
  g_hash_table_remove (t->out->txns, t->out_tid);
}

/* The request went out whole: start the report-timeout (RFC 4976 section
 * 6.4.1: "The timer starts when the last byte of the message has been sent
 * to the next hop"; here: queued to it). */
void
gw_relay_txn_frame_ended (Txn *t)
{
  GwRelay *r = t->relay;

  t->frame_open = FALSE;
  if (t->answered)
    {
      gw_relay_txn_finish (t);
      return;
    }
  t->deadline = gw_relay_now (r) + r->report_timeout_us;
  g_queue_push_tail (&r->txn_timers, t);
  t->timer_link = r->txn_timers.tail;
  gw_relay_timer_update (r);
}

/* No response will come (timeout, or the next hop's connection closed):
 * what the sender is owed. */
static void
txn_unanswered (Txn *t, gboolean timed_out)
{
  const char *why = timed_out ? "no response from the next hop within "
                                "report-timeout"
                              : "next hop connection closed before it "
                                "answered";

  if (g_strcmp0 (t->method, "SEND") == 0)
    {
      /* s.6.4.1: only "yes" runs the timer; "partial" wants errors only, and
       * silence is not one. */
      if (t->failure_report == MSRP_REPORT_YES)
        {
          gw_relay_txn_report (t->in, t->self_uri, t->from_path, t->message_id,
                               t->has_range, &t->range, t->body_len,
                               MSRP_STATUS_REQUEST_TIMEOUT, why);
          if (t->msg != NULL)
            {
              t->msg->acknowledged = FALSE;
              if (timed_out)
                t->msg->timeout = TRUE;
              else
                gw_relay_txn_msg_interrupt (t->msg, why);
            }
        }
    }
  else if (msrp_status_response_due (t->method, t->failure_report,
                                     MSRP_STATUS_REQUEST_TIMEOUT) &&
           !t->in->detached)
    {
      /* An end-to-end request (AUTH, NICKNAME, ...) routed through us: its
       * sender waits for a response.  Only the first To-Path URI counts
       * for building it (the responder). */
      g_autoptr (GPtrArray) to = g_ptr_array_new ();

      g_ptr_array_add (to, t->self_uri);
      send_response (t->in, t->method, t->in_tid, to, t->from_path,
                     MSRP_STATUS_REQUEST_TIMEOUT, why, NULL);
    }
}

/* The transactions whose report-timeout ran out by @now. */
void
gw_relay_txn_expire (GwRelay *r, gint64 now)
{
  Txn *t;

  while ((t = g_queue_peek_head (&r->txn_timers)) != NULL &&
         t->deadline <= now)
    {
      g_queue_pop_head (&r->txn_timers);
      t->timer_link = NULL;
      txn_unanswered (t, TRUE);
      gw_relay_txn_finish (t);
    }
}

/* @c, a sender, is gone: its messages with chunks still to come will not
 * get them. */
void
gw_relay_txn_sender_gone (Conn *c)
{
  GHashTableIter it;
  gpointer value;

  if (c->rx.msg != NULL)
    gw_relay_txn_msg_interrupt (c->rx.msg,
                                "sender connection closed mid-message");
  if (c->open_msgs == NULL)
    return;
  g_hash_table_iter_init (&it, c->open_msgs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Msg *m = value;

      m->final = TRUE;
      gw_relay_txn_msg_interrupt (m, "sender connection closed mid-message");
      msg_maybe_log (m);
    }
  g_hash_table_remove_all (c->open_msgs);
}

/* The transactions forwarded on @c will get no response from its peer:
 * what their senders are owed (RFC 4976 section 6.4.1). */
void
gw_relay_txn_next_hop_gone (Conn *c)
{
  GHashTableIter it;
  gpointer value;

  if (c->txns == NULL)
    return;
  g_hash_table_iter_init (&it, c->txns);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Txn *t = value;

      g_hash_table_iter_steal (&it);
      if (!t->answered)
        txn_unanswered (t, FALSE);
      gw_relay_txn_free (t);
    }
}

/* The next hop answered the SEND of @t with @h (hop by hop): the
 * message's outcome, and a REPORT to its sender (RFC 4976 section
 * 6.4.3). */
static void
send_answered (Txn *t, MsrpHead *h)
{
  guint code = msrp_head_get_status_code (h);

  if (t->msg != NULL && !msrp_status_is_success (code))
    {
      t->msg->acknowledged = FALSE;
      if (t->msg->fail_code == 0)
        t->msg->fail_code = code;
    }
  /* "If the response is a non 200 response, and the original request was a
   * SEND request that had a Failure-Report header with a value other than
   * "no", then the relay MUST send a REPORT". */
  if (msrp_status_failure_report_due ("SEND", t->failure_report, code))
    gw_relay_txn_report (t->in, t->self_uri, t->from_path, t->message_id,
                         t->has_range, &t->range, t->body_len, code,
                         msrp_head_get_comment (h));
}

/* Pass the response @h to the end-to-end request of @t back toward its
 * sender, by its To-Path (RFC 4976 section 6.4.3: "If there are additional
 * URIs in the To-Path header ... forward the response"), with the
 * transaction id @t got from the hop before us; dropped when that
 * connection has closed. */
static void
relay_response (Txn *t, MsrpHead *h)
{
  GwRelay *r = t->relay;
  GPtrArray *to = msrp_head_get_to_path (h);
  g_autoptr (GBytes) head = NULL;
  g_autoptr (GBytes) end = NULL;
  guint n_ours = 0;

  while (n_ours < to->len && gw_relay_route_uri_is_ours (r, to->pdata[n_ours]))
    n_ours++;
  if (n_ours == to->len || t->in->detached)
    return;
  head = gw_relay_route_forward_head (
      h, t->in_tid, n_ours,
      gw_relay_session_paired_uri (r, to->pdata[n_ours - 1], t->out));
  end = gw_relay_stream_end_line (t->in_tid, FALSE, '$');
  gw_relay_stream_send_small (t->in, head);
  gw_relay_stream_send_small (t->in, end);
}

/* A response came on @c (RFC 4976 section 6.4.3). */
void
gw_relay_txn_handle_response (Conn *c)
{
  MsrpHead *h = c->rx.head;
  Txn *t;
  Conn *drop = NULL;

  /* "Relays receiving a response first verify that the first URI in the
   * To-Path corresponds to itself; if not, the response SHOULD be
   * dropped." */
  if (!gw_relay_route_uri_is_ours (c->relay,
                                   msrp_head_get_to_path (h)->pdata[0]))
    return;
  if (gw_relay_session_binding_answered (c, h) ||
      gw_relay_keepalive_answered (c, h))
    return;
  t = c->txns != NULL
          ? g_hash_table_lookup (c->txns, msrp_head_get_transaction_id (h))
          : NULL;
  if (t == NULL || t->answered)
    return;
  t->answered = TRUE;
  if (g_strcmp0 (t->method, "SEND") == 0)
    {
      send_answered (t, h);
    }
  else
    {
      relay_response (t, h);
      drop = gw_relay_auth_forward_answered (t, h);
    }
  if (!t->frame_open)
    gw_relay_txn_finish (t);
  /* Last: closing it may free transactions, even this one. */
  if (drop != NULL)
    gw_relay_auth_forwards_failed (drop, c);
}
