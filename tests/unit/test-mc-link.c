/* Check suite for msrpcat's link (gateway/mc-link.c) as its sender
 * (gateway/mc-sender.c) drives it, over a connection of the data plane
 * loop's virtual network whose far end is a bare NetConn of the test.
 *
 * Each test runs its own GMainContext on the loop's fake clock
 * (testloop_start_virtual()), and every wait iterates it with a deadline
 * on that clock, so a link that never delivers fails its test instead of
 * hanging it. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "net-conn.h"
#include "net-listener.h"
#include "mc-link.h"
#include "mc-sender.h"
#include "mc-session.h"
#include "msrp-parser.h"
#include "testloop.h"

static void
setup (void)
{
  testloop_start_virtual ();
}

static void
teardown (void)
{
  testloop_stop ();
}

/* The test's end of the connection: what it received, and whether it
 * closed. */
typedef struct
{
  NetConn *conn;
  GByteArray *got;
  gboolean connected;
  gboolean closed;
  char *why; /* the close's message */
} Raw;

static void
raw_connected (NetConn *conn, gpointer data)
{
  ((Raw *) data)->connected = TRUE;
}

static void
raw_data (NetConn *conn, const guint8 *bytes, gsize len, gpointer data)
{
  g_byte_array_append (((Raw *) data)->got, bytes, (guint) len);
}

static void
raw_closed (NetConn *conn, NetConnCloseReason reason, const GError *error,
            gpointer data)
{
  Raw *raw = data;

  raw->closed = TRUE;
  raw->why = g_strdup (error->message);
}

static const NetConnCallbacks raw_callbacks = {
  .on_connected = raw_connected,
  .on_data = raw_data,
  .on_closed = raw_closed,
};

static void
take_wrapped (NetListener *listener, NetConn *conn, gpointer data)
{
  *(NetConn **) data = net_conn_ref (conn);
}

/* A connected pair on the virtual network: *@wrapped, the end for the
 * link, with @opts; @raw the test's end.  Each direction holds 128 KiB
 * in memory and no more, so a writer that is not read from congests once
 * that is full, as over a TCP connection. */
static NetConn *
virtual_pair (Raw *raw, const NetConnOptions *opts)
{
  g_autoptr (GSocketAddress) any =
      g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (NetListener) l = net_listener_new (any, NULL, opts, &error);
  NetConn *wrapped = NULL;

  ck_assert_msg (l != NULL, "%s", error ? error->message : "");
  net_listener_set_callbacks (l, NULL, take_wrapped, &wrapped, NULL);
  raw->conn = net_conn_connect (net_listener_get_address (l), NULL, NULL, NULL,
                                &error);
  ck_assert_msg (raw->conn != NULL, "%s", error ? error->message : "");
  net_conn_set_callbacks (raw->conn, &raw_callbacks, raw, NULL);
  RUN_UNTIL (wrapped != NULL && raw->connected, 1000);
  return wrapped;
}

/* --- our responses while a chunk of ours is half written ---------------- */

#define OUR_URI "msrp://127.0.0.1:7777/ours1234;tcp"
#define PEER_URI "msrp://127.0.0.1:8888/peer5678;tcp"
#define PEER_TID "peerTid42"

static const char peer_send[] = "MSRP " PEER_TID " SEND\r\n"
                                "To-Path: " OUR_URI "\r\n"
                                "From-Path: " PEER_URI "\r\n"
                                "Message-ID: peerMsg1\r\n"
                                "Byte-Range: 1-2/2\r\n"
                                "Content-Type: text/plain\r\n"
                                "\r\n"
                                "hi\r\n"
                                "-------" PEER_TID "$\r\n";

static const struct
{
  const char *name;
  gsize text_len;
  guint64 chunk_size; /* both far above what the in-memory buffers hold
                       * (128 KiB) */
} answer_cases[] = {
  { "chunks of 256 KiB", 600 * 1024, 256 * 1024 },
  { "one chunk of 1 MiB", 300 * 1024, 1024 * 1024 },
};

typedef struct
{
  McSender *sender;
  guint requests;
} Fixture;

static gpointer
on_request (McLink *link, MsrpHead *head, gpointer user_data)
{
  Fixture *f = user_data;

  f->requests++;
  /* As mc-receiver does: the 200 is queued at once. */
  mc_link_respond (link, head, 200, NULL);
  return NULL;
}

static void
on_response (McLink *link, MsrpHead *head, gpointer user_data)
{
  Fixture *f = user_data;

  mc_sender_handle_response (f->sender, head);
}

static void
on_drained (McLink *link, gpointer user_data)
{
  Fixture *f = user_data;

  mc_sender_on_drained (f->sender);
}

/* What the raw end received, frame by frame. */
typedef struct
{
  guint sends;
  guint64 body_bytes;    /* SEND body bytes in all */
  gboolean body_matches; /* each at its Byte-Range start in the text */
  guint responses;
  gboolean response_ok; /* 200 to PEER_TID */
  char last_flag;
  char *error;
} Seen;

static void
parse_stream (const guint8 *data, gsize len, const char *text, gsize text_len,
              Seen *seen)
{
  g_autoptr (MsrpParser) p = msrp_parser_new ();
  gboolean is_send = FALSE;
  guint64 pos = 0; /* 0-based position of the next body byte */

  memset (seen, 0, sizeof *seen);
  seen->body_matches = TRUE;
  while (TRUE)
    {
      MsrpParserEvent ev;
      g_autoptr (GError) error = NULL;
      gsize used = 0;
      MsrpParseStatus st = msrp_parser_feed (p, data, len, &used, &ev, &error);

      data += used;
      len -= used;
      if (st == MSRP_PARSE_NEED_MORE)
        break;
      if (st == MSRP_PARSE_ERROR)
        {
          seen->error = g_strdup (error->message);
          break;
        }
      switch (ev.type)
        {
        case MSRP_PARSER_EVENT_REQUEST:
          is_send = ev.method_len == 4 && memcmp (ev.method, "SEND", 4) == 0;
          seen->sends += is_send;
          break;
        case MSRP_PARSER_EVENT_RESPONSE:
          is_send = FALSE;
          seen->responses++;
          if (ev.status_code == 200 &&
              ev.transaction_id_len == strlen (PEER_TID) &&
              memcmp (ev.transaction_id, PEER_TID, strlen (PEER_TID)) == 0)
            seen->response_ok = TRUE;
          break;
        case MSRP_PARSER_EVENT_HEADER:
          if (is_send && ev.header_id == MSRP_HEADER_BYTE_RANGE)
            {
              g_autofree char *v = g_strndup (ev.value, ev.value_len);

              pos = g_ascii_strtoull (v, NULL, 10) - 1;
            }
          break;
        case MSRP_PARSER_EVENT_HEADERS_END:
          break;
        case MSRP_PARSER_EVENT_BODY:
          if (!is_send)
            break;
          if (pos + ev.data_len > text_len ||
              memcmp (text + pos, ev.data, ev.data_len) != 0)
            seen->body_matches = FALSE;
          pos += ev.data_len;
          seen->body_bytes += ev.data_len;
          break;
        case MSRP_PARSER_EVENT_END:
          if (is_send)
            seen->last_flag = ev.continuation;
          break;
        }
    }
}

/* RFC 4975 section 9: a frame ends only at its end-line.  Our 200 to the
 * peer's SEND, made while a chunk of ours is half written (the connection
 * congested), must follow that chunk, not land in its body.  (msrp-edge
 * found a 2 KiB chunk of msrpcat's carrying two such 200s and refused it:
 * "body longer than its Byte-Range".) */
START_TEST (test_answer_behind_chunk)
{
  McConfig config = { 0 };
  g_autofree char *text = g_malloc (answer_cases[_i].text_len);
  char *messages[2] = { NULL, NULL };
  McSession *session;
  Fixture f = { 0 };
  McSenderCallbacks sender_cb = { NULL, NULL };
  McLinkCallbacks cb = {
    .on_request = on_request,
    .on_response = on_response,
    .on_drained = on_drained,
  };
  NetConnOptions opts = { .high_watermark = 1024 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) got = g_byte_array_new ();
  g_autoptr (NetConn) conn = NULL;
  g_autoptr (GBytes) peer_bytes =
      g_bytes_new_static (peer_send, strlen (peer_send));
  McLink *link;
  Raw raw = { .got = got };
  Seen seen = { 0 };

  /* Lower case letters in turn: a response in a body cannot match. */
  for (gsize i = 0; i + 1 < answer_cases[_i].text_len; i++)
    text[i] = (char) ('a' + i % 26);
  text[answer_cases[_i].text_len - 1] = '\0';
  messages[0] = text;
  config.messages = messages;
  config.chunk_size = answer_cases[_i].chunk_size;
  config.success_report = MSRP_REPORT_NO;
  config.failure_report = MSRP_REPORT_NO;
  config.count = 1;
  config.quiet = TRUE;
  session = mc_session_new (&config);
  session->local_uri = msrp_uri_parse (OUR_URI, -1, NULL);
  session->peer_path =
      g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);
  g_ptr_array_add (session->peer_path, msrp_uri_parse (PEER_URI, -1, NULL));

  conn = virtual_pair (&raw, &opts);
  /* The test's end reads nothing yet. */
  net_conn_pause_reading (raw.conn);
  link = mc_link_new (conn, &cb, &f);
  f.sender = mc_sender_new (session, &sender_cb, NULL, &error);
  ck_assert_msg (f.sender != NULL, "%s", error ? error->message : "");

  /* The test's end reads nothing yet: the first chunk stops half way, as
   * the in-memory buffer holds 128 KiB. */
  mc_sender_start (f.sender, link);
  ck_assert_msg (net_conn_is_congested (conn), "%s: not congested",
                 answer_cases[_i].name);
  ck_assert (!mc_sender_is_done (f.sender));

  ck_assert (net_conn_write (raw.conn, peer_bytes));
  RUN_UNTIL (f.requests == 1, 5000);

  /* Now read everything: the message, and the 200 somewhere after (at
   * most 200 ms after the message's last end-line, on the loop's clock). */
  net_conn_resume_reading (raw.conn);
  {
    gint64 end = testloop_now () + 10 * G_USEC_PER_SEC;
    gint64 last_chunk_at = 0;
    guint parsed_len = G_MAXUINT;

    while (TRUE)
      {
        ck_assert_msg (!raw.closed, "read: %s", raw.why);
        if (got->len != parsed_len)
          {
            g_free (seen.error);
            parse_stream (got->data, got->len, text,
                          answer_cases[_i].text_len - 1, &seen);
            parsed_len = got->len;
          }
        if (seen.error != NULL ||
            (seen.last_flag == '$' && seen.responses > 0))
          break;
        if (seen.last_flag == '$' && last_chunk_at == 0)
          last_chunk_at = testloop_now ();
        if (last_chunk_at != 0 && testloop_now () > last_chunk_at + 200 * 1000)
          break;
        ck_assert_msg (testloop_now () < end, "%s: %u bytes in 10 s",
                       answer_cases[_i].name, got->len);
        testloop_step (end);
      }
  }

  ck_assert_msg (seen.error == NULL, "%s: framing broken: %s",
                 answer_cases[_i].name, seen.error);
  ck_assert_msg (seen.body_matches,
                 "%s: a chunk's body is not the text at "
                 "its Byte-Range",
                 answer_cases[_i].name);
  ck_assert_msg (seen.body_bytes == answer_cases[_i].text_len - 1,
                 "%s: %" G_GUINT64_FORMAT " body bytes, expected %zu",
                 answer_cases[_i].name, seen.body_bytes,
                 answer_cases[_i].text_len - 1);
  ck_assert_msg (seen.responses == 1 && seen.response_ok,
                 "%s: %u responses, ours %s", answer_cases[_i].name,
                 seen.responses, seen.response_ok ? "seen" : "not seen");
  ck_assert (seen.sends >= 1);
  g_free (seen.error);
  RUN_UNTIL (mc_sender_is_done (f.sender), 5000);

  mc_sender_free (f.sender);
  mc_link_unref (link);
  net_conn_set_callbacks (raw.conn, NULL, NULL, NULL);
  net_conn_abort (raw.conn, FALSE);
  net_conn_unref (raw.conn);
  g_free (raw.why);
  mc_session_free (session);
}
END_TEST

static Suite *
mc_link_suite (void)
{
  Suite *s = suite_create ("mc-link");
  TCase *tc = tcase_create ("link");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_loop_test (tc, test_answer_behind_chunk, 0,
                       G_N_ELEMENTS (answer_cases));
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (mc_link_suite ());
  int failed;

  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
