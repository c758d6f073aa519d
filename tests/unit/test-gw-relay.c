/* Check suite for the RFC 4976 relay engine (gateway/daemon/gw-relay*.c).
 *
 * Each test runs GwRelays on the data plane loop's virtual network and
 * fake clock (testloop_start_virtual()): their listeners on 127.0.0.1
 * bind no socket, and the test clients are NetConns connected to them in
 * memory (TLS or not), whose bytes are cut into frames by MsrpParser; the
 * next hops the relays connect to are virtual listeners of the test
 * (Server).  The one exception is the connection the relay adopts in
 * test_adopt_connection: a GIOStream, as an ICE-TCP pair's is, over a
 * socketpair.  Time moves only while a test waits, and jumps to the next
 * deadline when nothing else is ready: report-timeout, probation and
 * expiry take no wall time, and a loaded machine cannot make them come
 * early or late.  Every wait iterates the context under a deadline of the
 * loop's clock (RUN_UNTIL), so a relay that never answers fails the test
 * instead of hanging it.  What the relay logs is captured through
 * gw_log_set_tap().  The TLS tests share a throwaway PKI that
 * tests/data/gen-test-certs.sh makes once for their test case. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <glib/gstdio.h>

#include "gw-config.h"
#include "net-conn.h"
#include "net-listener.h"
#include "net-loop.h"
#include "gw-log.h"
#include "logtap.h"
#include "gw-relay.h"
#include "net-tls.h"
#include "gw-users.h"
#include "msrp-digest.h"
#include "msrp-head.h"
#include "msrp-parser.h"
#include "msrp-uri.h"
#include "testloop.h"
#include "testresolver.h"

#define REALM "test.realm"
#define ALICE "msrp://alice.invalid:5001/a1;tcp"
#define BOB "msrp://bob.invalid:5002/b1;tcp"

static NetLoop *loop; /* the fixture's: fake clock, virtual network */
static GPtrArray *log_lines;
static char *users_text;

static guint tid_counter;

static void
dump_log (void)
{
  for (guint i = 0; i < log_lines->len; i++)
    fprintf (stderr, "  log: %s\n", (char *) log_lines->pdata[i]);
}

static char *
next_tid (void)
{
  return g_strdup_printf ("tid%06u", ++tid_counter);
}

/* @text with every @key replaced by @value. */
static char *
subst (const char *text, const char *key, const char *value)
{
  g_auto (GStrv) parts = g_strsplit (text, key, -1);

  return g_strjoinv (value, parts);
}

/* Body bytes of the big messages: position-dependent, so that a byte lost,
 * doubled or moved shows. */
static guint8
pattern (guint64 pos)
{
  return (guint8) ((pos * 131 + 17) % 251);
}

/* --- test clients ---------------------------------------------------- */

typedef struct
{
  MsrpHead *head;
  GByteArray *body; /* up to 1 MiB kept */
  guint64 body_len;
  char flag;
  guint8 first;        /* the first body byte */
  gboolean uniform;    /* every body byte equals the first */
  gboolean pattern_ok; /* every body byte is pattern (offset) */
} Frame;

static void
frame_free (Frame *f)
{
  if (f == NULL)
    return;
  g_clear_pointer (&f->head, msrp_head_unref);
  if (f->body != NULL)
    g_byte_array_unref (f->body);
  g_free (f);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Frame, frame_free)

/* A test's end of a connection: a NetConn, connected to a relay over the
 * virtual network (TLS or not), accepted by a Server, or made over a
 * stream; what it receives is cut into Frames. */
typedef struct
{
  char *name;
  NetConn *conn;
  MsrpParser *parser;
  GQueue frames;
  Frame *cur;
  /* A body produced on the fly: @produce_left bytes of pattern() from
   * @produce_pos (or of @produce_fill when not 0), then @produce_tail;
   * a chunk at a time while the connection is not congested, so that a
   * relay that stops reading holds the sender back (client_produce()). */
  guint64 produce_left;
  guint64 produce_pos;
  guint8 produce_fill;
  GBytes *produce_tail;
  gboolean eof; /* the connection is closed: end of stream, reset,
                 * refused, or client_close() */
  char *parse_error;
  /* A slow reader: at most about @read_burst bytes, then @read_pause_ms
   * paused (on the loop's clock). */
  gsize read_burst;
  guint read_pause_ms;
  gsize read_count; /* since the last pause */
  NetTimer resume;
  guint64 body_bytes;    /* of the frame being received */
  gboolean answer_sends; /* answer each SEND with 200 (when due) */
} Client;

static void client_send (Client *cl, const char *text);

static void
client_parse (Client *cl, const guint8 *data, gsize len)
{
  while (cl->parse_error == NULL)
    {
      MsrpParserEvent ev;
      gsize used = 0;
      g_autoptr (GError) error = NULL;
      MsrpParseStatus st =
          msrp_parser_feed (cl->parser, data, len, &used, &ev, &error);

      data += used;
      len -= used;
      if (st == MSRP_PARSE_NEED_MORE)
        return;
      if (st == MSRP_PARSE_ERROR)
        {
          cl->parse_error = g_strdup (error->message);
          return;
        }
      switch (ev.type)
        {
        case MSRP_PARSER_EVENT_REQUEST:
        case MSRP_PARSER_EVENT_RESPONSE:
          frame_free (cl->cur);
          cl->cur = g_new0 (Frame, 1);
          cl->cur->head = msrp_head_new_from_event (&ev);
          cl->cur->body = g_byte_array_new ();
          cl->cur->uniform = TRUE;
          cl->cur->pattern_ok = TRUE;
          break;
        case MSRP_PARSER_EVENT_HEADER:
          if (!msrp_head_add_header (cl->cur->head, &ev, &error))
            cl->parse_error = g_strdup (error->message);
          break;
        case MSRP_PARSER_EVENT_HEADERS_END:
          if (!msrp_head_finish (cl->cur->head, ev.has_body, &error))
            cl->parse_error = g_strdup (error->message);
          break;
        case MSRP_PARSER_EVENT_BODY:
          {
            Frame *f = cl->cur;

            if (f->body_len == 0)
              f->first = ev.data[0];
            for (gsize i = 0; i < ev.data_len; i++)
              {
                if (ev.data[i] != f->first)
                  f->uniform = FALSE;
                if (ev.data[i] != pattern (f->body_len + i))
                  f->pattern_ok = FALSE;
              }
            if (f->body->len + ev.data_len <= 1024 * 1024)
              g_byte_array_append (f->body, ev.data, (guint) ev.data_len);
            f->body_len += ev.data_len;
            cl->body_bytes = f->body_len;
            break;
          }
        case MSRP_PARSER_EVENT_END:
          {
            Frame *f = g_steal_pointer (&cl->cur);

            f->flag = ev.continuation;
            cl->body_bytes = 0;
            if (cl->answer_sends && msrp_head_is_request (f->head) &&
                g_strcmp0 (msrp_head_get_method (f->head), "SEND") == 0 &&
                msrp_head_get_failure_report (f->head) == MSRP_REPORT_YES)
              {
                g_autofree char *text = g_strdup_printf (
                    "MSRP %s 200 OK\r\nTo-Path: %s\r\nFrom-Path: "
                    "%s\r\n-------%s$\r\n",
                    msrp_head_get_transaction_id (f->head),
                    msrp_uri_get_text (
                        msrp_head_get_from_path (f->head)->pdata[0]),
                    msrp_uri_get_text (
                        msrp_head_get_to_path (f->head)->pdata[0]),
                    msrp_head_get_transaction_id (f->head));

                client_send (cl, text);
              }
            g_queue_push_tail (&cl->frames, f);
            break;
          }
        default:
          break;
        }
    }
}

static void
client_resume (NetLoop *l, NetTimer *timer, gpointer data)
{
  Client *cl = data;

  net_conn_resume_reading (cl->conn);
}

static void
client_data (NetConn *conn, const guint8 *data, gsize len, gpointer user)
{
  Client *cl = user;

  client_parse (cl, data, len);
  if (cl->read_burst == 0 || cl->read_pause_ms == 0)
    return;
  cl->read_count += len;
  if (cl->read_count >= cl->read_burst)
    {
      /* No more on_data until the timer: the relay's writes to us back
       * up, as into a socket nobody reads. */
      cl->read_count = 0;
      net_conn_pause_reading (conn);
      net_timer_schedule (loop, &cl->resume,
                          net_loop_now (loop) +
                              (gint64) cl->read_pause_ms * 1000);
    }
}

static void
client_stop_producing (Client *cl)
{
  cl->produce_left = 0;
  g_clear_pointer (&cl->produce_tail, g_bytes_unref);
}

/* Queue the produced body while the connection takes it: up to its high
 * watermark, then again from on_drained.  Queuing it all at once would
 * hold 64 MiB in the client and hide whether the relay pushes back. */
static void
client_produce (Client *cl)
{
  while (!cl->eof && !net_conn_is_congested (cl->conn) &&
         (cl->produce_left > 0 || cl->produce_tail != NULL))
    {
      g_autoptr (GBytes) b = NULL;

      if (cl->produce_left > 0)
        {
          gsize chunk = (gsize) MIN (cl->produce_left, 64 * 1024);
          guint8 *data = g_malloc (chunk);

          for (gsize i = 0; i < chunk; i++)
            data[i] = cl->produce_fill != 0 ? cl->produce_fill
                                            : pattern (cl->produce_pos + i);
          b = g_bytes_new_take (data, chunk);
          cl->produce_pos += chunk;
          cl->produce_left -= chunk;
        }
      else
        {
          b = g_steal_pointer (&cl->produce_tail);
        }
      if (!net_conn_write (cl->conn, b))
        client_stop_producing (cl);
    }
}

static void
client_drained (NetConn *conn, gpointer user)
{
  client_produce (user);
}

static void
client_closed (NetConn *conn, NetConnCloseReason reason, const GError *e,
               gpointer user)
{
  Client *cl = user;

  cl->eof = TRUE;
  client_stop_producing (cl);
  net_timer_cancel (loop, &cl->resume);
}

static const NetConnCallbacks client_callbacks = {
  .on_data = client_data,
  .on_drained = client_drained,
  .on_closed = client_closed,
};

/* A Client on @conn (transfer full). */
static Client *
client_new (const char *name, NetConn *conn)
{
  Client *cl = g_new0 (Client, 1);

  cl->name = g_strdup (name);
  cl->conn = conn;
  cl->parser = msrp_parser_new ();
  g_queue_init (&cl->frames);
  net_timer_init (&cl->resume, client_resume, cl);
  net_conn_set_callbacks (conn, &client_callbacks, cl, NULL);
  return cl;
}

/* A client of 127.0.0.1:@port over the virtual network; with @tls, over
 * TLS, presenting @tls's certificate and checking the relay's for
 * 127.0.0.1.  A connect nobody answers shows as eof. */
static Client *
client_connect_tls (const char *name, guint16 port, NetTls *tls)
{
  g_autoptr (GSocketAddress) addr =
      g_inet_socket_address_new_from_string ("127.0.0.1", port);
  g_autoptr (GError) error = NULL;
  NetConn *conn = net_conn_connect (
      addr, tls, tls != NULL ? "127.0.0.1" : NULL, NULL, &error);

  ck_assert_msg (conn != NULL, "%s", error ? error->message : "");
  return client_new (name, conn);
}

static Client *
client_connect (const char *name, guint16 port)
{
  return client_connect_tls (name, port, NULL);
}

/* A client of 127.0.0.1:@port connecting from @source (an IP address on
 * the virtual network). */
static Client *
client_connect_from (const char *name, guint16 port, const char *source)
{
  Client *cl;

  net_loop_set_virtual_source (loop, source);
  cl = client_connect (name, port);
  net_loop_set_virtual_source (loop, NULL);
  return cl;
}

static void
client_free (Client *cl)
{
  if (cl == NULL)
    return;
  net_timer_cancel (loop, &cl->resume);
  net_conn_set_callbacks (cl->conn, NULL, NULL, NULL);
  net_conn_abort (cl->conn, FALSE);
  net_conn_unref (cl->conn);
  msrp_parser_free (cl->parser);
  g_queue_clear_full (&cl->frames, (GDestroyNotify) frame_free);
  frame_free (cl->cur);
  g_clear_pointer (&cl->produce_tail, g_bytes_unref);
  g_free (cl->parse_error);
  g_free (cl->name);
  g_free (cl);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Client, client_free)

/* Close now, as close() does a socket: what is queued is dropped, the
 * relay sees the end of stream (a reset if we left bytes unread), and
 * whatever it sends later is refused.  The record stays. */
static void
client_close (Client *cl)
{
  net_timer_cancel (loop, &cl->resume);
  net_conn_abort (cl->conn, FALSE);
  cl->eof = TRUE;
  client_stop_producing (cl);
}

static void
client_send (Client *cl, const char *text)
{
  g_autoptr (GBytes) b = g_bytes_new (text, strlen (text));

  net_conn_write (cl->conn, b);
}

/* Queue @head, then @len body bytes (pattern, or all @fill), then
 * @tail. */
static void
client_stream (Client *cl, const char *head, guint64 len, guint8 fill,
               const char *tail)
{
  client_send (cl, head);
  cl->produce_left = len;
  cl->produce_pos = 0;
  cl->produce_fill = fill;
  cl->produce_tail = tail != NULL ? g_bytes_new (tail, strlen (tail)) : NULL;
  client_produce (cl);
}

static Frame *
client_frame (Client *cl, guint ms)
{
  RUN_UNTIL (!g_queue_is_empty (&cl->frames) || cl->parse_error != NULL ||
                 (cl->eof && cl->cur == NULL),
             ms);
  ck_assert_msg (cl->parse_error == NULL, "%s: bad frame: %s", cl->name,
                 cl->parse_error);
  ck_assert_msg (!g_queue_is_empty (&cl->frames),
                 "%s: connection closed, no frame", cl->name);
  return g_queue_pop_head (&cl->frames);
}

static void
client_no_frame (Client *cl, guint ms)
{
  testloop_run_for (ms);
  ck_assert_msg (g_queue_is_empty (&cl->frames), "%s: unexpected frame %s",
                 cl->name,
                 g_queue_is_empty (&cl->frames)
                     ? ""
                     : msrp_head_get_transaction_id (
                           ((Frame *) g_queue_peek_head (&cl->frames))->head));
}

static void
client_wait_eof (Client *cl, guint ms)
{
  RUN_UNTIL (cl->eof, ms);
}

static const char *
hdr (Frame *f, MsrpHeaderId id)
{
  return msrp_head_find (f->head, id, NULL);
}

static void
assert_response (Frame *f, const char *tid, guint code)
{
  ck_assert_msg (!msrp_head_is_request (f->head),
                 "expected a %u response, "
                 "got a %s",
                 code, msrp_head_get_method (f->head));
  ck_assert_str_eq (msrp_head_get_transaction_id (f->head), tid);
  ck_assert_msg (
      msrp_head_get_status_code (f->head) == code, "expected %u, got %u %s",
      code, msrp_head_get_status_code (f->head),
      msrp_head_get_comment (f->head) != NULL ? msrp_head_get_comment (f->head)
                                              : "");
}

/* --- relays ------------------------------------------------------------- */

typedef struct
{
  GwRelay *relay;
  NetListener *listener;
  guint16 port;
  char *uri; /* msrp://127.0.0.1:PORT;tcp */
  NetListener *tls_listener;
  guint16 tls_port;
} Relay;

static Relay *
relay_new_full (const char *extra_conf, NetTls *server_tls, NetTls *client_tls)
{
  Relay *r = g_new0 (Relay, 1);
  /* Every next hop and party of these tests is on loopback, which the
   * connect policy refuses unless allowed (gw-connect-policy.h); a test
   * of the default says "next-hop-allow=" in @extra_conf. */
  g_autofree char *conf = g_strdup_printf (
      "[gateway]\npublic-host=127.0.0.1\n[auth]\nrealm=" REALM "\n"
      "[negotiator]\nconnect-allow=127.0.0.0/8;::1\n"
      "[relay]\nreport-timeout=1\nnext-hop-allow=127.0.0.0/8;::1\n%s",
      extra_conf != NULL ? extra_conf : "");
  g_autoptr (GwConfig) config = NULL;
  g_autoptr (GwUsers) users = NULL;
  g_autoptr (GSocketAddress) addr = NULL;
  g_autoptr (GError) error = NULL;
  NetConnOptions options;

  config = gw_config_load_data (conf, strlen (conf), "test", &error);
  ck_assert_msg (config != NULL, "%s", error ? error->message : "");
  users = gw_users_load_data (users_text, -1, "users", &error);
  ck_assert_ptr_nonnull (users);
  r->relay = gw_relay_new (config, users, client_tls, &error);
  ck_assert_ptr_nonnull (r->relay);

  /* The listeners' connections are the daemon's: its idle timeout
   * (gw-main.c). */
  gw_config_conn_options (config, &options);
  addr = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  r->listener = net_listener_new (addr, NULL, &options, &error);
  ck_assert_msg (r->listener != NULL, "%s", error ? error->message : "");
  gw_relay_add_listener (r->relay, r->listener, MSRP_SCHEME_MSRP);
  r->port = g_inet_socket_address_get_port (
      G_INET_SOCKET_ADDRESS (net_listener_get_address (r->listener)));
  r->uri = g_strdup_printf ("msrp://127.0.0.1:%u;tcp", r->port);
  if (server_tls != NULL)
    {
      r->tls_listener = net_listener_new (addr, server_tls, &options, &error);
      ck_assert_msg (r->tls_listener != NULL, "%s",
                     error ? error->message : "");
      gw_relay_add_listener (r->relay, r->tls_listener, MSRP_SCHEME_MSRPS);
      r->tls_port = g_inet_socket_address_get_port (
          G_INET_SOCKET_ADDRESS (net_listener_get_address (r->tls_listener)));
    }
  return r;
}

static Relay *
relay_new (const char *extra_conf)
{
  return relay_new_full (extra_conf, NULL, NULL);
}

static void
relay_free (Relay *r)
{
  if (r == NULL)
    return;
  gw_relay_free (r->relay);
  g_clear_pointer (&r->listener, net_listener_unref);
  g_clear_pointer (&r->tls_listener, net_listener_unref);
  g_free (r->uri);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Relay, relay_free)

/* --- AUTH ---------------------------------------------------------------- */

/* The challenge for @alg among the 401's WWW-Authenticate headers. */
static MsrpDigestChallenge *
challenge_for (Frame *f, MsrpDigestAlgorithm alg, guint *n_challenges)
{
  MsrpDigestChallenge *found = NULL;
  guint n = msrp_head_get_n_headers (f->head);

  *n_challenges = 0;
  for (guint i = 0; i < n; i++)
    {
      MsrpHeaderId id;
      const char *value;
      g_autoptr (GError) error = NULL;
      MsrpDigestChallenge *ch;

      msrp_head_get_header (f->head, i, &id, NULL, &value);
      if (id != MSRP_HEADER_WWW_AUTHENTICATE)
        continue;
      ch = msrp_digest_challenge_parse (value, strlen (value), &error);
      ck_assert_msg (ch != NULL, "challenge '%s': %s", value,
                     error ? error->message : "");
      (*n_challenges)++;
      if (msrp_digest_challenge_get_algorithm (ch) == alg && found == NULL)
        found = ch;
      else
        msrp_digest_challenge_free (ch);
    }
  return found;
}

static void
send_auth (Client *cl, const char *tid, const char *to, const char *from,
           const char *extra)
{
  g_autofree char *text = g_strdup_printf (
      "MSRP %s AUTH\r\nTo-Path: %s\r\nFrom-Path: %s\r\n%s-------%s$\r\n", tid,
      to, from, extra != NULL ? extra : "", tid);

  client_send (cl, text);
}

/* Answer the 401 @f with @password. */
static MsrpDigestCredentials *
answer (Frame *f, const char *user, const char *password,
        MsrpDigestAlgorithm alg, const char *digest_uri)
{
  guint n = 0;
  g_autoptr (MsrpDigestChallenge) ch = challenge_for (f, alg, &n);
  g_autoptr (GError) error = NULL;
  MsrpDigestCredentials *creds;

  ck_assert_ptr_nonnull (ch);
  creds = msrp_digest_client_respond (ch, user, password, NULL, "AUTH",
                                      digest_uri, 1, &error);
  ck_assert_msg (creds != NULL, "%s", error ? error->message : "");
  return creds;
}

/* AUTH through @to (the relay's URI, or a path ending in it) with
 * @password; returns the 200 (or whatever came: @want_code). */
static Frame *
auth_full (Client *cl, const char *to, const char *from, const char *user,
           const char *password, MsrpDigestAlgorithm alg, const char *extra,
           guint want_code)
{
  g_autofree char *t1 = next_tid ();
  g_autofree char *t2 = next_tid ();
  g_autoptr (Frame) f1 = NULL;
  g_autoptr (MsrpDigestCredentials) creds = NULL;
  g_autofree char *cred_text = NULL;
  g_autofree char *extra2 = NULL;
  const char *digest_uri =
      strrchr (to, ' ') != NULL ? strrchr (to, ' ') + 1 : to;
  Frame *f2;

  send_auth (cl, t1, to, from, NULL);
  f1 = client_frame (cl, 3000);
  assert_response (f1, t1, 401);
  creds = answer (f1, user, password, alg, digest_uri);
  cred_text = msrp_digest_credentials_to_string (creds);
  extra2 = g_strdup_printf ("Authorization: %s\r\n%s", cred_text,
                            extra != NULL ? extra : "");
  send_auth (cl, t2, to, from, extra2);
  f2 = client_frame (cl, 3000);
  assert_response (f2, t2, want_code);
  if (want_code == 200)
    {
      g_autoptr (MsrpDigestInfo) info = NULL;
      const char *ai = hdr (f2, MSRP_HEADER_AUTHENTICATION_INFO);
      g_autoptr (GError) error = NULL;

      ck_assert_ptr_nonnull (ai);
      info = msrp_digest_info_parse (ai, strlen (ai), &error);
      ck_assert_ptr_nonnull (info);
      ck_assert_msg (
          msrp_digest_client_check_info (creds, info, password, NULL, &error),
          "Authentication-Info: %s", error->message);
      ck_assert_ptr_nonnull (msrp_digest_info_get_nextnonce (info));
    }
  return f2;
}

/* AUTH @user at @r; returns the session URI from Use-Path. */
static char *
auth (Client *cl, Relay *r, const char *from, const char *user)
{
  g_autoptr (Frame) f = auth_full (cl, r->uri, from, user, "secret",
                                   MSRP_DIGEST_ALGORITHM_MD5, NULL, 200);

  return g_strdup (hdr (f, MSRP_HEADER_USE_PATH));
}

static char *
send_text (const char *tid, const char *to, const char *from,
           const char *message_id, const char *extra, const char *body)
{
  gsize len = strlen (body);

  return g_strdup_printf ("MSRP %s SEND\r\nTo-Path: %s\r\nFrom-Path: %s\r\n"
                          "Message-ID: %s\r\nByte-Range: 1-%" G_GSIZE_FORMAT
                          "/%" G_GSIZE_FORMAT "\r\n%sContent-Type: "
                          "text/plain\r\n\r\n%s\r\n-------%s$\r\n",
                          tid, to, from, message_id, len, len,
                          extra != NULL ? extra : "", body, tid);
}

/* --- fixture ------------------------------------------------------------- */

static void
setup (void)
{
  g_autofree char *a_md5 = NULL, *a_sha = NULL, *b_md5 = NULL, *c_md5 = NULL,
                  *d_md5 = NULL;

  testloop_start_virtual ();
  loop = net_loop_get_default ();
  log_lines = logtap_start ();

  a_md5 = msrp_digest_compute_ha1 (MSRP_DIGEST_ALGORITHM_MD5, "alice", REALM,
                                   "secret", NULL);
  a_sha = msrp_digest_compute_ha1 (MSRP_DIGEST_ALGORITHM_SHA256, "alice",
                                   REALM, "secret", NULL);
  b_md5 = msrp_digest_compute_ha1 (MSRP_DIGEST_ALGORITHM_MD5, "bob", REALM,
                                   "secret", NULL);
  c_md5 = msrp_digest_compute_ha1 (MSRP_DIGEST_ALGORITHM_MD5, "carol", REALM,
                                   "secret", NULL);
  d_md5 = msrp_digest_compute_ha1 (MSRP_DIGEST_ALGORITHM_MD5, "dave",
                                   "other.realm", "secret", NULL);
  users_text = g_strdup_printf ("# test users\nalice:" REALM ":%s\n"
                                "alice:" REALM ":%s\nbob:" REALM ":%s\n"
                                "carol:" REALM ":!%s\n"
                                "dave:other.realm:%s\n",
                                a_md5, a_sha, b_md5, c_md5, d_md5);
}

static void
teardown (void)
{
  loop = NULL;
  testloop_stop ();
  logtap_stop ();
  g_free (users_text);
}

/* --- AUTH tests -------------------------------------------------------- */

static const MsrpDigestAlgorithm auth_algorithms[] = {
  MSRP_DIGEST_ALGORITHM_MD5,
  MSRP_DIGEST_ALGORITHM_SHA256,
};

START_TEST (test_auth_digest)
{
  MsrpDigestAlgorithm alg = auth_algorithms[_i];
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Client) a = client_connect ("alice", r->port);
  g_autofree char *t1 = next_tid ();
  g_autoptr (Frame) f1 = NULL;
  g_autoptr (Frame) f2 = NULL;
  g_autoptr (MsrpDigestChallenge) sha = NULL;
  g_autoptr (MsrpDigestChallenge) md5 = NULL;
  g_autoptr (MsrpUri) use = NULL;
  g_autofree char *prefix = g_strdup_printf ("msrp://127.0.0.1:%u/", r->port);
  guint n = 0;
  const char *use_path;

  /* RFC 4976 section 5.1: an AUTH without Authorization gets a 401 with
   * the challenges: SHA-256 first, then MD5 (RFC 7616 section 3.7). */
  send_auth (a, t1, r->uri, ALICE, NULL);
  f1 = client_frame (a, 3000);
  assert_response (f1, t1, 401);
  ck_assert_str_eq (hdr (f1, MSRP_HEADER_TO_PATH), ALICE);
  ck_assert_str_eq (hdr (f1, MSRP_HEADER_FROM_PATH), r->uri);
  sha = challenge_for (f1, MSRP_DIGEST_ALGORITHM_SHA256, &n);
  md5 = challenge_for (f1, MSRP_DIGEST_ALGORITHM_MD5, &n);
  ck_assert_uint_eq (n, 2);
  ck_assert_ptr_nonnull (sha);
  ck_assert_ptr_nonnull (md5);
  ck_assert_ptr_nonnull (
      strstr (hdr (f1, MSRP_HEADER_WWW_AUTHENTICATE), "SHA-256"));
  ck_assert_str_eq (msrp_digest_challenge_get_realm (sha), REALM);
  ck_assert (msrp_digest_challenge_offers_auth (md5));
  ck_assert (!msrp_digest_challenge_get_stale (md5));

  f2 = auth_full (a, r->uri, ALICE, "alice", "secret", alg, NULL, 200);
  ck_assert_str_eq (hdr (f2, MSRP_HEADER_TO_PATH), ALICE);
  ck_assert_str_eq (hdr (f2, MSRP_HEADER_EXPIRES), "1800");
  use_path = hdr (f2, MSRP_HEADER_USE_PATH);
  ck_assert_ptr_nonnull (use_path);
  ck_assert_msg (g_str_has_prefix (use_path, prefix), "%s", use_path);
  ck_assert (g_str_has_suffix (use_path, ";tcp"));
  use = msrp_uri_parse (use_path, -1, NULL);
  ck_assert_ptr_nonnull (use);
  /* At least 80 random bits: 16 base62 characters. */
  ck_assert_uint_ge (strlen (msrp_uri_get_session_id (use)), 16);
  ck_assert_uint_eq (
      logtap_count ("auth_ok", "\"user\":\"alice\"", "\"expires\":1800", NULL),
      1);
  ck_assert_uint_eq (logtap_count ("session_created", "\"kind\":\"client\"",
                                   msrp_uri_get_session_id (use), NULL),
                     1);
  ck_assert_uint_eq (
      logtap_count ("connection_accepted", "\"transport\":\"tcp\"", NULL), 1);
}
END_TEST

static const struct
{
  const char *name;
  const char *expires; /* the Expires header asked for */
  guint code;
  MsrpHeaderId header;
  const char *value;
} expires_cases[] = {
  { "below expires-min", "10", 423, MSRP_HEADER_MIN_EXPIRES, "60" },
  { "above expires-max", "100000", 423, MSRP_HEADER_MAX_EXPIRES, "86400" },
  { "zero", "0", 423, MSRP_HEADER_MIN_EXPIRES, "60" },
  { "at expires-min", "60", 200, MSRP_HEADER_EXPIRES, "60" },
  { "inside", "120", 200, MSRP_HEADER_EXPIRES, "120" },
  { "at expires-max", "86400", 200, MSRP_HEADER_EXPIRES, "86400" },
};

START_TEST (test_auth_expires)
{
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Client) a = client_connect ("alice", r->port);
  g_autofree char *extra =
      g_strdup_printf ("Expires: %s\r\n", expires_cases[_i].expires);
  g_autoptr (Frame) f =
      auth_full (a, r->uri, ALICE, "alice", "secret",
                 MSRP_DIGEST_ALGORITHM_SHA256, extra, expires_cases[_i].code);

  ck_assert_msg (hdr (f, expires_cases[_i].header) != NULL, "%s: no %s",
                 expires_cases[_i].name,
                 msrp_header_id_to_name (expires_cases[_i].header));
  ck_assert_str_eq (hdr (f, expires_cases[_i].header),
                    expires_cases[_i].value);
  if (expires_cases[_i].code == 423)
    {
      ck_assert_ptr_null (hdr (f, MSRP_HEADER_USE_PATH));
      ck_assert_uint_eq (logtap_count ("session_created", NULL), 0);
    }
  else
    {
      ck_assert_ptr_nonnull (hdr (f, MSRP_HEADER_USE_PATH));
    }
}
END_TEST

START_TEST (test_auth_forbidden)
{
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Client) c = client_connect ("carol", r->port);
  g_autoptr (Frame) f =
      auth_full (c, r->uri, "msrp://carol.invalid:1/c;tcp", "carol", "secret",
                 MSRP_DIGEST_ALGORITHM_MD5, NULL, 403);

  ck_assert_ptr_null (hdr (f, MSRP_HEADER_USE_PATH));
  ck_assert_uint_eq (
      logtap_count ("auth_failed", "\"user\":\"carol\"", "locked", NULL), 1);
  ck_assert_uint_eq (logtap_count ("session_created", NULL), 0);
  /* The password never shows in the log. */
  for (guint i = 0; i < log_lines->len; i++)
    ck_assert_ptr_null (strstr (log_lines->pdata[i], "secret"));
}
END_TEST

START_TEST (test_auth_stale)
{
  g_autoptr (Relay) r = NULL;
  g_autoptr (Client) a = NULL;
  g_autofree char *t1 = next_tid ();
  g_autofree char *t2 = next_tid ();
  g_autofree char *extra = NULL;
  g_autofree char *cred_text = NULL;
  g_autoptr (Frame) f1 = NULL;
  g_autoptr (Frame) f2 = NULL;
  g_autoptr (Frame) f3 = NULL;
  g_autoptr (MsrpDigestCredentials) creds = NULL;
  g_autoptr (MsrpDigestChallenge) ch = NULL;
  guint n = 0;

  /* Nonces age on the loop's clock, like every deadline of the relay: the
   * fixture holds it, and the test moves it at once by ten minutes.
   * Probation and idle timeouts are set beyond that. */
  r = relay_new ("probation=3600\n[limits]\nidle-timeout=86400\n");
  a = client_connect ("alice", r->port);
  send_auth (a, t1, r->uri, ALICE, NULL);
  f1 = client_frame (a, 3000);
  assert_response (f1, t1, 401);
  creds = answer (f1, "alice", "secret", MSRP_DIGEST_ALGORITHM_MD5, r->uri);
  cred_text = msrp_digest_credentials_to_string (creds);
  /* Ten minutes later the nonce is stale (lifetime 300 s). */
  net_loop_advance (loop, (gint64) 600 * G_USEC_PER_SEC);
  extra = g_strdup_printf ("Authorization: %s\r\n", cred_text);
  send_auth (a, t2, r->uri, ALICE, extra);
  f2 = client_frame (a, 3000);
  assert_response (f2, t2, 401);
  ch = challenge_for (f2, MSRP_DIGEST_ALGORITHM_MD5, &n);
  ck_assert_uint_eq (n, 2);
  ck_assert (msrp_digest_challenge_get_stale (ch));
  /* Not a failure: no auth_failed, and the fresh nonce works. */
  ck_assert_uint_eq (logtap_count ("auth_failed", NULL), 0);
  f3 = auth_full (a, r->uri, ALICE, "alice", "secret",
                  MSRP_DIGEST_ALGORITHM_MD5, NULL, 200);
  ck_assert (!a->eof);
}
END_TEST

/* Bob has an MD5 line only (as htdigest writes them); a client that takes
 * the SHA-256 challenge first is challenged again with MD5 alone, with
 * stale=true. */
START_TEST (test_auth_algorithm_fallback)
{
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Client) b = client_connect ("bob", r->port);
  g_autofree char *t1 = next_tid ();
  g_autofree char *t2 = next_tid ();
  g_autofree char *t3 = next_tid ();
  g_autofree char *extra = NULL;
  g_autofree char *extra3 = NULL;
  g_autofree char *cred_text = NULL;
  g_autofree char *cred_text3 = NULL;
  g_autoptr (Frame) f1 = NULL;
  g_autoptr (Frame) f2 = NULL;
  g_autoptr (Frame) f3 = NULL;
  g_autoptr (MsrpDigestCredentials) creds = NULL;
  g_autoptr (MsrpDigestCredentials) creds3 = NULL;
  g_autoptr (MsrpDigestChallenge) sha = NULL;
  guint n = 0;

  send_auth (b, t1, r->uri, BOB, NULL);
  f1 = client_frame (b, 3000);
  assert_response (f1, t1, 401);
  creds = answer (f1, "bob", "secret", MSRP_DIGEST_ALGORITHM_SHA256, r->uri);
  cred_text = msrp_digest_credentials_to_string (creds);
  extra = g_strdup_printf ("Authorization: %s\r\n", cred_text);
  send_auth (b, t2, r->uri, BOB, extra);
  f2 = client_frame (b, 3000);
  assert_response (f2, t2, 401);
  sha = challenge_for (f2, MSRP_DIGEST_ALGORITHM_SHA256, &n);
  ck_assert_ptr_null (sha);
  ck_assert_uint_eq (n, 1);
  {
    g_autoptr (MsrpDigestChallenge) md5 =
        challenge_for (f2, MSRP_DIGEST_ALGORITHM_MD5, &n);

    /* "Retry without reprompting": not a failure. */
    ck_assert (msrp_digest_challenge_get_stale (md5));
  }
  ck_assert_uint_eq (logtap_count ("auth_failed", NULL), 0);
  creds3 = answer (f2, "bob", "secret", MSRP_DIGEST_ALGORITHM_MD5, r->uri);
  cred_text3 = msrp_digest_credentials_to_string (creds3);
  extra3 = g_strdup_printf ("Authorization: %s\r\n", cred_text3);
  send_auth (b, t3, r->uri, BOB, extra3);
  f3 = client_frame (b, 3000);
  assert_response (f3, t3, 200);
}
END_TEST

START_TEST (test_auth_three_failures)
{
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Client) a = client_connect ("alice", r->port);
  static const char *const users[] = { "alice", "nobody", "dave" };

  /* Wrong password, unknown user, user of another realm: each a 401 and
   * an auth_failed line; the third closes the connection (RFC 4976
   * section 6.3). */
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (Frame) f = auth_full (a, r->uri, ALICE, users[i], "wrong",
                                       MSRP_DIGEST_ALGORITHM_MD5, NULL, 401);
      guint n = 0;
      g_autoptr (MsrpDigestChallenge) ch =
          challenge_for (f, MSRP_DIGEST_ALGORITHM_MD5, &n);

      ck_assert (!msrp_digest_challenge_get_stale (ch));
    }
  client_wait_eof (a, 3000);
  ck_assert_uint_eq (logtap_count ("auth_failed", "bad-response", NULL), 3);
  ck_assert_uint_eq (logtap_count ("auth_failed", "\"user\":\"nobody\"", NULL),
                     1);
  RUN_UNTIL (logtap_count ("connection_closed", "\"reason\":\"auth_failed\"",
                           NULL) == 1,
             3000);
  for (guint i = 0; i < log_lines->len; i++)
    ck_assert_ptr_null (strstr (log_lines->pdata[i], "wrong"));
}
END_TEST

/* A From-Path naming a relay before the client does not make the peer a
 * relay: only a certificate proves that (auth_relay_host()), so three
 * failures still close a connection whose From-Path is forged. */
START_TEST (test_auth_three_failures_forged_path)
{
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Client) a = client_connect ("alice", r->port);
  const char *from = "msrp://relay.invalid:2855/r1;tcp " ALICE;

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (Frame) f = auth_full (a, r->uri, from, "alice", "wrong",
                                       MSRP_DIGEST_ALGORITHM_MD5, NULL, 401);

      ck_assert_ptr_nonnull (f);
    }
  client_wait_eof (a, 3000);
  RUN_UNTIL (logtap_count ("connection_closed", "\"reason\":\"auth_failed\"",
                           NULL) == 1,
             3000);
}
END_TEST

/* A captured Authorization header obtains nothing more (RFC 7616 section
 * 5.3: a nonce is accepted with a growing nonce-count only): sent again on
 * the same connection, or on another one, it gets a 401 and an auth_failed
 * "replay" line, and the relay holds one session. */
START_TEST (test_auth_replay)
{
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Client) a = client_connect ("alice", r->port);
  g_autoptr (Client) x = client_connect ("mallory", r->port);
  g_autofree char *t1 = next_tid ();
  g_autofree char *t2 = next_tid ();
  g_autofree char *cred_text = NULL;
  g_autofree char *extra = NULL;
  g_autoptr (Frame) f1 = NULL;
  g_autoptr (Frame) f2 = NULL;
  g_autoptr (MsrpDigestCredentials) creds = NULL;
  Client *who[] = { a, x, x };

  send_auth (a, t1, r->uri, ALICE, NULL);
  f1 = client_frame (a, 3000);
  assert_response (f1, t1, 401);
  creds = answer (f1, "alice", "secret", MSRP_DIGEST_ALGORITHM_MD5, r->uri);
  cred_text = msrp_digest_credentials_to_string (creds);
  extra = g_strdup_printf ("Authorization: %s\r\n", cred_text);
  send_auth (a, t2, r->uri, ALICE, extra);
  f2 = client_frame (a, 3000);
  assert_response (f2, t2, 200);

  for (guint i = 0; i < G_N_ELEMENTS (who); i++)
    {
      g_autofree char *t = next_tid ();
      g_autoptr (Frame) f = NULL;

      send_auth (who[i], t, r->uri, ALICE, extra);
      f = client_frame (who[i], 3000);
      assert_response (f, t, 401);
    }
  ck_assert_uint_eq (
      logtap_count ("auth_failed", "\"reason\":\"replay\"", NULL), 3);
  ck_assert_uint_eq (logtap_count ("session_created", NULL), 1);
  ck_assert_uint_eq (logtap_count ("auth_ok", NULL), 1);
}
END_TEST

/* [relay] max-sessions-per-connection and max-sessions-per-user: one AUTH
 * more gets 403 and a session_limit line, and the connection stays; a
 * session that ends makes room again. */
START_TEST (test_auth_session_limits)
{
  g_autoptr (Relay) r = relay_new ("max-sessions-per-connection=2\n"
                                   "max-sessions-per-user=3\n");
  g_autoptr (Client) a = client_connect ("alice-1", r->port);
  g_autoptr (Client) b = client_connect ("alice-2", r->port);
  g_autoptr (Client) c = client_connect ("alice-3", r->port);
  g_autofree char *s1 = auth (a, r, ALICE, "alice");
  g_autofree char *s2 = auth (a, r, ALICE, "alice");
  g_autofree char *s3 = NULL;
  g_autofree char *s4 = NULL;

  ck_assert_str_ne (s1, s2);
  {
    g_autoptr (Frame) f = auth_full (a, r->uri, ALICE, "alice", "secret",
                                     MSRP_DIGEST_ALGORITHM_MD5, NULL, 403);

    ck_assert_ptr_nonnull (f);
    ck_assert_uint_eq (
        logtap_count ("session_limit",
                      "\"limit\":\"max-sessions-per-connection\"",
                      "\"user\":\"alice\"", NULL),
        1);
  }
  s3 = auth (b, r, ALICE, "alice");
  {
    g_autoptr (Frame) f = auth_full (c, r->uri, ALICE, "alice", "secret",
                                     MSRP_DIGEST_ALGORITHM_MD5, NULL, 403);

    ck_assert_ptr_nonnull (f);
    ck_assert_uint_eq (logtap_count ("session_limit",
                                     "\"limit\":\"max-sessions-per-user\"",
                                     NULL),
                       1);
  }
  /* Another user is not bound by Alice's count. */
  {
    g_autofree char *sb = auth (c, r, BOB, "bob");

    ck_assert_ptr_nonnull (sb);
  }
  /* A refusal is no failure: the connections are still open. */
  testloop_run_for (100);
  ck_assert (!a->eof && !c->eof);
  ck_assert_uint_eq (logtap_count ("auth_failed", NULL), 0);
  /* Alice's first connection goes, and her sessions with it. */
  client_close (a);
  RUN_UNTIL (logtap_count ("session_closed", "\"user\":\"alice\"", NULL) == 2,
             3000);
  s4 = auth (c, r, ALICE, "alice");
  ck_assert_ptr_nonnull (s4);
}
END_TEST

/* --- password guessing (issue 13, finding 3) ---------------------------- */

/* One guess: a new connection from @source (the virtual network's source
 * address), an AUTH answered with @user's @password.  Returns the code of
 * the answer to the credentials: 401 judged and wrong, 403 refused
 * unjudged (or locked), 200.  Each guess on a connection of its own, as a
 * guesser that reconnects. */
static guint
guess (Relay *r, const char *source, const char *user, const char *password)
{
  g_autoptr (Client) cl = NULL;
  g_autoptr (Frame) f1 = NULL;
  g_autoptr (Frame) f2 = NULL;
  g_autoptr (MsrpDigestCredentials) creds = NULL;
  g_autofree char *t1 = next_tid ();
  g_autofree char *t2 = next_tid ();
  g_autofree char *cred_text = NULL;
  g_autofree char *extra = NULL;

  cl = client_connect_from ("guesser", r->port, source);
  send_auth (cl, t1, r->uri, ALICE, NULL);
  f1 = client_frame (cl, 3000);
  assert_response (f1, t1, 401);
  creds = answer (f1, user, password, MSRP_DIGEST_ALGORITHM_MD5, r->uri);
  cred_text = msrp_digest_credentials_to_string (creds);
  extra = g_strdup_printf ("Authorization: %s\r\n", cred_text);
  send_auth (cl, t2, r->uri, ALICE, extra);
  f2 = client_frame (cl, 3000);
  ck_assert_str_eq (msrp_head_get_transaction_id (f2->head), t2);
  if (msrp_head_get_status_code (f2->head) == 403 &&
      strstr (msrp_head_get_comment (f2->head), "too many failed") != NULL)
    {
      /* Refused unjudged: the connection goes with it (RFC 4976 section
       * 6.3). */
      client_wait_eof (cl, 3000);
    }
  return msrp_head_get_status_code (f2->head);
}

/* One address guessing bob's password, reconnecting for each guess, ten
 * times a second for ten seconds: five guesses are free, then the back-off
 * (1 s, 2 s, 4 s ...) lets at most one a back-off be judged; the others
 * get 403 without their password being checked, the right one included;
 * auth_throttled says so.  Another address is not affected. */
START_TEST (test_auth_throttle_address)
{
  g_autoptr (Relay) r = relay_new ("probation=3600\n");
  guint judged = 0, refused = 0, judged_first_second = 0;
  gint64 start = testloop_now ();
  GwRelayStats st;

  for (guint i = 0; i < 100; i++)
    {
      gint64 at = testloop_now () - start;
      guint code = guess (r, "192.0.2.66", "bob", "wrong");

      if (code == 401)
        {
          judged++;
          if (at < G_USEC_PER_SEC)
            judged_first_second++;
        }
      else
        {
          ck_assert_uint_eq (code, 403);
          refused++;
        }
      testloop_run_for (100);
    }
  /* 5 free, then one at about 0.5 s, 1.5 s, 3.5 s and 7.5 s. */
  ck_assert_uint_le (judged_first_second, 6);
  ck_assert_uint_le (judged, 10);
  ck_assert_uint_ge (judged, 8);
  ck_assert_uint_eq (refused, 100 - judged);
  ck_assert_uint_ge (logtap_count ("auth_throttled", "\"scope\":\"address\"",
                                   "\"address\":\"192.0.2.66\"",
                                   "\"failures\":6", "\"backoff_ms\":1000",
                                   NULL),
                     1);
  /* Refusals are told with the next failure judged, not one line each. */
  ck_assert_uint_eq (logtap_count ("auth_throttled", NULL), judged - 5);
  ck_assert_uint_ge (logtap_count ("connection_closed",
                                   "\"reason\":\"auth_throttled\"", NULL),
                     refused);
  /* Still in back-off: the right password from there is not even
   * checked... */
  ck_assert_uint_eq (guess (r, "192.0.2.66", "alice", "secret"), 403);
  /* ... and works from elsewhere. */
  ck_assert_uint_eq (guess (r, "192.0.2.77", "alice", "secret"), 200);
  ck_assert_uint_eq (guess (r, "192.0.2.77", "bob", "secret"), 200);
  gw_relay_get_stats (r->relay, &st);
  ck_assert_uint_eq (st.auth[GW_RELAY_AUTH_THROTTLED], refused + 1);
  ck_assert_uint_eq (st.auth[GW_RELAY_AUTH_FAILED], judged);
  /* The window passes: the address starts afresh. */
  testloop_run_for (601 * 1000);
  ck_assert_uint_eq (guess (r, "192.0.2.66", "alice", "secret"), 200);
}
END_TEST

/* A success from an address that guesses for others does not reset its
 * count: four failures for bob, alice's right password, two more for bob:
 * the sixth failure backs off. */
START_TEST (test_auth_throttle_success_keeps_count)
{
  g_autoptr (Relay) r = relay_new ("probation=3600\n");

  for (guint i = 0; i < 4; i++)
    ck_assert_uint_eq (guess (r, "192.0.2.66", "bob", "wrong"), 401);
  ck_assert_uint_eq (guess (r, "192.0.2.66", "alice", "secret"), 200);
  ck_assert_uint_eq (guess (r, "192.0.2.66", "bob", "wrong"), 401);
  ck_assert_uint_eq (logtap_count ("auth_throttled", NULL), 0);
  ck_assert_uint_eq (guess (r, "192.0.2.66", "bob", "wrong"), 401);
  ck_assert_uint_eq (logtap_count ("auth_throttled", "\"failures\":6", NULL),
                     1);
  ck_assert_uint_eq (guess (r, "192.0.2.66", "bob", "secret"), 403);
}
END_TEST

/* Many addresses guessing one user: each address stays within its free
 * failures, the user's count backs off.  Then the user is refused
 * unjudged from an address she never got in from, and gets in from one
 * she did.  IPv6 addresses count by their /64. */
START_TEST (test_auth_throttle_user)
{
  g_autoptr (Relay) r = relay_new ("probation=3600\n[auth]\n"
                                   "throttle-user-failures=3\n");

  ck_assert_uint_eq (guess (r, "192.0.2.10", "bob", "secret"), 200);
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *source = g_strdup_printf ("198.51.100.%u", i + 1);

      ck_assert_uint_eq (guess (r, source, "bob", "wrong"), 401);
    }
  ck_assert_uint_eq (logtap_count ("auth_throttled", "\"scope\":\"user\"",
                                   "\"user\":\"bob\"", "\"failures\":4", NULL),
                     1);
  ck_assert_uint_eq (guess (r, "198.51.100.99", "bob", "secret"), 403);
  ck_assert_uint_eq (guess (r, "192.0.2.10", "bob", "secret"), 200);
  /* Alice is not bob. */
  ck_assert_uint_eq (guess (r, "198.51.100.99", "alice", "secret"), 200);
  /* A name as long as a header is counted by its SHA-256. */
  {
    g_autofree char *longname = g_strnfill (300, 'm');

    for (guint i = 0; i < 4; i++)
      {
        g_autofree char *source = g_strdup_printf ("203.0.113.%u", i + 1);

        ck_assert_uint_eq (guess (r, source, longname, "x"), 401);
      }
    ck_assert_uint_eq (
        logtap_count ("auth_throttled", "\"user\":\"sha256:", NULL), 1);
  }

  /* Five failures from one IPv6 /64, each from another address of it:
   * the sixth is refused unjudged. */
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *source = g_strdup_printf ("2001:db8:1:2::%x", i + 1);

      ck_assert_uint_eq (guess (r, source, i % 2 ? "alice" : "carol", "x"),
                         401);
    }
  ck_assert_uint_eq (logtap_count ("auth_throttled",
                                   "\"address\":\"2001:db8:1:2::/64\"", NULL),
                     1);
  ck_assert_uint_eq (guess (r, "2001:db8:1:2::ffff", "alice", "secret"), 403);
  ck_assert_uint_eq (guess (r, "2001:db8:1:3::1", "alice", "secret"), 200);
}
END_TEST

/* --- forwarding -------------------------------------------------------- */

/* Two clients of one relay, A then B, with their session URIs. */
typedef struct
{
  Relay *r;
  Client *a, *b;
  char *sa, *sb;
} Pair;

static void
pair_init (Pair *p, const char *extra_conf)
{
  p->r = relay_new (extra_conf);
  p->a = client_connect ("alice", p->r->port);
  p->b = client_connect ("bob", p->r->port);
  p->sa = auth (p->a, p->r, ALICE, "alice");
  p->sb = auth (p->b, p->r, BOB, "bob");
}

static void
pair_clear (Pair *p)
{
  client_free (p->a);
  client_free (p->b);
  relay_free (p->r);
  g_free (p->sa);
  g_free (p->sb);
}

/* A's To-Path to B: A's relay URI, then B's a=path (RFC 4976 section
 * 5.1). */
static char *
a_to_b (Pair *p)
{
  return g_strdup_printf ("%s %s %s", p->sa, p->sb, BOB);
}

START_TEST (test_relay_one_hop)
{
  Pair p = { 0 };
  g_autofree char *to = NULL;
  g_autofree char *tid = next_tid ();
  g_autofree char *text = NULL;
  g_autofree char *want_from = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *rtid = next_tid ();
  g_autoptr (Frame) ok = NULL;
  g_autoptr (Frame) got = NULL;
  g_autoptr (Frame) rep = NULL;

  pair_init (&p, NULL);
  to = a_to_b (&p);
  text = send_text (tid, to, ALICE, "msg1",
                    "Success-Report: yes\r\n"
                    "X-Extension: kept as is\r\n",
                    "Hello Bob");
  client_send (p.a, text);

  /* Section 6.4.1: 200 at once, to the previous hop only. */
  ok = client_frame (p.a, 3000);
  assert_response (ok, tid, 200);
  ck_assert_str_eq (hdr (ok, MSRP_HEADER_TO_PATH), ALICE);
  ck_assert_str_eq (hdr (ok, MSRP_HEADER_FROM_PATH), p.sa);

  got = client_frame (p.b, 3000);
  ck_assert_str_eq (msrp_head_get_method (got->head), "SEND");
  ck_assert_str_ne (msrp_head_get_transaction_id (got->head), tid);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_TO_PATH), BOB);
  /* Both relay URIs moved to the front of From-Path, the last first. */
  want_from = g_strdup_printf ("%s %s %s", p.sb, p.sa, ALICE);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_FROM_PATH), want_from);
  ck_assert_uint_eq (got->body_len, 9);
  ck_assert_int_eq (memcmp (got->body->data, "Hello Bob", 9), 0);
  ck_assert_int_eq (got->flag, '$');
  /* Every other header unchanged, in order. */
  {
    static const char *const names[] = { "To-Path",        "From-Path",
                                         "Message-ID",     "Byte-Range",
                                         "Success-Report", "X-Extension",
                                         "Content-Type" };
    static const char *const values[] = { NULL,        NULL,  "msg1",
                                          "1-9/9",     "yes", "kept as is",
                                          "text/plain" };

    ck_assert_uint_eq (msrp_head_get_n_headers (got->head),
                       G_N_ELEMENTS (names));
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        const char *name, *value;

        msrp_head_get_header (got->head, i, NULL, &name, &value);
        ck_assert_str_eq (name, names[i]);
        if (values[i] != NULL)
          ck_assert_str_eq (value, values[i]);
      }
  }

  /* Bob acknowledges the hop and sends a success REPORT back the way the
   * message came. */
  reply = g_strdup_printf ("MSRP %s 200 OK\r\nTo-Path: %s\r\nFrom-Path: %s\r\n"
                           "-------%s$\r\nMSRP %s REPORT\r\nTo-Path: %s\r\n"
                           "From-Path: %s\r\nMessage-ID: msg1\r\nByte-Range: "
                           "1-9/9\r\nStatus: 000 200 OK\r\n-------%s$\r\n",
                           msrp_head_get_transaction_id (got->head), p.sb, BOB,
                           msrp_head_get_transaction_id (got->head), rtid,
                           want_from, BOB, rtid);
  client_send (p.b, reply);
  rep = client_frame (p.a, 3000);
  ck_assert_str_eq (msrp_head_get_method (rep->head), "REPORT");
  ck_assert_str_eq (hdr (rep, MSRP_HEADER_TO_PATH), ALICE);
  {
    g_autofree char *rep_from = g_strdup_printf ("%s %s %s", p.sa, p.sb, BOB);

    ck_assert_str_eq (hdr (rep, MSRP_HEADER_FROM_PATH), rep_from);
  }
  ck_assert_str_eq (hdr (rep, MSRP_HEADER_STATUS), "000 200 OK");
  /* No response to a REPORT (RFC 4975 section 7.1.2). */
  client_no_frame (p.b, 200);
  RUN_UNTIL (logtap_count ("message_relayed", "\"message_id\":\"msg1\"",
                           "\"outcome\":\"delivered\"", "\"bytes\":9",
                           "\"chunks\":1", "\"acknowledged\":true", NULL) == 1,
             3000);
  ck_assert_uint_eq (logtap_count ("message_relayed", NULL), 1);
  pair_clear (&p);
}
END_TEST

/* The two-relay flow of RFC 4976 section 3: Alice behind relay 1, Bob
 * behind relay 2; relay 1 connects to relay 2 as its next hop. */
START_TEST (test_relay_two_hops)
{
  g_autoptr (Relay) r1 = relay_new (NULL);
  g_autoptr (Relay) r2 = relay_new (NULL);
  g_autoptr (Client) a = client_connect ("alice", r1->port);
  g_autoptr (Client) b = client_connect ("bob", r2->port);
  g_autofree char *sa = auth (a, r1, ALICE, "alice");
  g_autofree char *sb = auth (b, r2, BOB, "bob");
  g_autofree char *tid = next_tid ();
  g_autofree char *to = g_strdup_printf ("%s %s %s", sa, sb, BOB);
  g_autofree char *text =
      send_text (tid, to, ALICE, "87652", "Success-Report: yes\r\n",
                 "Hi Bob, I'm about to send you file.mpeg");
  g_autofree char *want_from = g_strdup_printf ("%s %s %s", sb, sa, ALICE);
  g_autofree char *btid = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *rtid = next_tid ();
  g_autofree char *rep_from = g_strdup_printf ("%s %s %s", sa, sb, BOB);
  g_autoptr (Frame) ok = NULL;
  g_autoptr (Frame) got = NULL;
  g_autoptr (Frame) rep = NULL;

  client_send (a, text);
  ok = client_frame (a, 3000);
  assert_response (ok, tid, 200);
  got = client_frame (b, 3000);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_TO_PATH), BOB);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_FROM_PATH), want_from);
  ck_assert_uint_eq (got->body_len, 39);
  btid = g_strdup (msrp_head_get_transaction_id (got->head));
  ck_assert_str_ne (btid, tid);

  reply = g_strdup_printf ("MSRP %s 200 OK\r\nTo-Path: %s\r\nFrom-Path: %s\r\n"
                           "-------%s$\r\nMSRP %s REPORT\r\nTo-Path: %s\r\n"
                           "From-Path: %s\r\nMessage-ID: 87652\r\n"
                           "Byte-Range: 1-39/39\r\nStatus: 000 200 OK\r\n"
                           "-------%s$\r\n",
                           btid, sb, BOB, btid, rtid, want_from, BOB, rtid);
  client_send (b, reply);
  rep = client_frame (a, 3000);
  ck_assert_str_eq (msrp_head_get_method (rep->head), "REPORT");
  ck_assert_str_eq (hdr (rep, MSRP_HEADER_TO_PATH), ALICE);
  ck_assert_str_eq (hdr (rep, MSRP_HEADER_FROM_PATH), rep_from);
  ck_assert_str_eq (hdr (rep, MSRP_HEADER_BYTE_RANGE), "1-39/39");
  /* Relay 2's 200 to relay 1 ended relay 1's transaction: no 408 REPORT
   * after report-timeout. */
  client_no_frame (a, 1500);
  ck_assert_uint_eq (
      logtap_count ("message_relayed", "\"outcome\":\"delivered\"", NULL), 2);
  ck_assert_uint_eq (logtap_count ("report_generated", NULL), 0);
  ck_assert_uint_eq (logtap_count ("connection_opened", NULL), 2);
}
END_TEST

START_TEST (test_failure_report_no)
{
  Pair p = { 0 };
  g_autofree char *to = NULL;
  g_autofree char *tid = next_tid ();
  g_autofree char *text = NULL;
  g_autoptr (Frame) got = NULL;

  pair_init (&p, NULL);
  to = a_to_b (&p);
  text = send_text (tid, to, ALICE, "m-no", "Failure-Report: no\r\n", "x");
  client_send (p.a, text);
  got = client_frame (p.b, 3000);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_FAILURE_REPORT), "no");
  /* RFC 4975 section 7.1.4: no response at all, and no 408 REPORT later
   * (Bob does not answer either, as he must not). */
  client_no_frame (p.a, 1500);
  ck_assert_uint_eq (logtap_count ("message_relayed",
                                   "\"message_id\":\"m-no\"",
                                   "\"outcome\":\"delivered\"",
                                   "\"acknowledged\":false", NULL),
                     1);
  pair_clear (&p);
}
END_TEST

START_TEST (test_unknown_session)
{
  Pair p = { 0 };
  g_autofree char *tid = next_tid ();
  g_autofree char *tid2 = next_tid ();
  g_autofree char *to = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text2 = NULL;
  g_autofree char *to2 = NULL;
  g_autoptr (Frame) f = NULL;
  g_autoptr (Frame) ok = NULL;
  g_autoptr (Frame) got = NULL;

  pair_init (&p, NULL);
  to = g_strdup_printf ("msrp://127.0.0.1:%u/NoSuchSession1234;tcp %s",
                        p.r->port, BOB);
  text = send_text (tid, to, ALICE, "m-xx", NULL, "lost");
  client_send (p.a, text);
  f = client_frame (p.a, 3000);
  assert_response (f, tid, 481);
  /* The body was discarded and the connection goes on. */
  to2 = a_to_b (&p);
  text2 = send_text (tid2, to2, ALICE, "m-yy", NULL, "found");
  client_send (p.a, text2);
  ok = client_frame (p.a, 3000);
  assert_response (ok, tid2, 200);
  got = client_frame (p.b, 3000);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_MESSAGE_ID), "m-yy");
  client_no_frame (p.b, 100);
  pair_clear (&p);
}
END_TEST

static const struct
{
  const char *name;
  const char *to; /* PORT: the relay's port */
} not_ours_cases[] = {
  { "another host", "msrp://elsewhere.invalid:2855/abc;tcp" },
  { "another port", "msrp://127.0.0.1:1/abc;tcp" },
  { "another scheme", "msrps://127.0.0.1:PORT/abc;tcp" },
};

START_TEST (test_not_addressed)
{
  Pair p = { 0 };
  g_autofree char *port = NULL;
  g_autofree char *tid = next_tid ();
  g_autofree char *to = NULL;
  g_autofree char *text = NULL;
  g_autofree char *tid2 = next_tid ();
  g_autofree char *text2 = NULL;
  g_autofree char *to2 = NULL;
  g_autoptr (Frame) ok = NULL;
  g_autoptr (Frame) got = NULL;

  pair_init (&p, NULL);
  port = g_strdup_printf ("%u", p.r->port);
  to = subst (not_ours_cases[_i].to, "PORT", port);
  text = send_text (tid, to, ALICE, "m-zz", NULL, "misrouted");
  client_send (p.a, text);
  /* RFC 4976 section 6.2: dropped with the connection, no answer. */
  client_wait_eof (p.a, 3000);
  ck_assert (g_queue_is_empty (&p.a->frames));
  ck_assert_uint_eq (logtap_count ("connection_closed",
                                   "\"reason\":\"not_addressed_to_relay\"",
                                   NULL),
                     1);
  /* Alice's session died with her connection; Bob is unharmed. */
  RUN_UNTIL (logtap_count ("session_closed", NULL) == 1, 3000);
  g_clear_pointer (&p.a, client_free);
  p.a = client_connect ("alice2", p.r->port);
  g_free (p.sa);
  p.sa = auth (p.a, p.r, ALICE, "alice");
  to2 = a_to_b (&p);
  text2 = send_text (tid2, to2, ALICE, "m-ok", NULL, "hi");
  client_send (p.a, text2);
  ok = client_frame (p.a, 3000);
  assert_response (ok, tid2, 200);
  got = client_frame (p.b, 3000);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_MESSAGE_ID), "m-ok");
  pair_clear (&p);
}
END_TEST

static const struct
{
  const char *name;
  const char *input; /* SESSION: Alice's session URI */
  guint code;        /* 0: no response */
  gboolean closed;
} garbage_cases[] = {
  { "not msrp", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, TRUE },
  { "binary", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 0, TRUE },
  { "bad header line after the start line",
    "MSRP g001 SEND\r\nTo-Path SESSION\r\n", 0, TRUE },
  { "bad header line after the paths",
    "MSRP g002 SEND\r\nTo-Path: SESSION\r\nFrom-Path: " ALICE
    "\r\nnot a header\r\n",
    400, TRUE },
  { "bad Byte-Range value",
    "MSRP g003 SEND\r\nTo-Path: SESSION\r\nFrom-Path: " ALICE
    "\r\nMessage-ID: mmmm\r\n"
    "Byte-Range: 0-1/1\r\nContent-Type: "
    "text/plain\r\n\r\nx\r\n-------g003$\r\n",
    400, FALSE },
  /* A bad URI after a good one: the 400 goes from the good one. */
  { "bad To-Path URI",
    "MSRP g004 SEND\r\nTo-Path: SESSION junk\r\nFrom-Path: " ALICE "\r\n"
    "Message-ID: mmmm\r\n-------g004$\r\n",
    400, FALSE },
  /* More URIs than the relay holds (MSRP_URI_LIST_MAX), yet under the
   * header block limit: 33 to about 380 (issue 13, finding 7). */
  { "To-Path of 33 URIs",
    "MSRP g007 SEND\r\nTo-Path: SESSION LONG33\r\nFrom-Path: " ALICE "\r\n"
    "Message-ID: mmmm\r\n-------g007$\r\n",
    400, FALSE },
  { "From-Path of 380 URIs",
    "MSRP g008 SEND\r\nTo-Path: SESSION\r\nFrom-Path: " ALICE " LONG379\r\n"
    "Message-ID: mmmm\r\n-------g008$\r\n",
    400, FALSE },
  { "AUTH with a From-Path of 40 URIs",
    "MSRP g009 AUTH\r\nTo-Path: RELAY\r\nFrom-Path: " ALICE " LONG39\r\n"
    "-------g009$\r\n",
    400, FALSE },
  { "end-line of another transaction",
    "MSRP g005 SEND\r\nTo-Path: SESSION\r\nFrom-Path: " ALICE
    "\r\nMessage-ID: mmmm\r\n"
    "-------g006$\r\n",
    400, TRUE },
};

/* @n URIs "msrp://hN.invalid:2855/s;tcp", one space between two. */
static char *
long_uri_list (guint n)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%smsrp://h%u.invalid:2855/s;tcp",
                            i > 0 ? " " : "", i);
  return g_string_free (s, FALSE);
}

START_TEST (test_garbage)
{
  Pair p = { 0 };
  g_autoptr (Client) g = NULL;
  g_autofree char *input = NULL;
  g_autofree char *tid = next_tid ();
  g_autofree char *to = NULL;
  g_autofree char *text = NULL;
  g_autoptr (Frame) ok = NULL;
  g_autoptr (Frame) got = NULL;

  pair_init (&p, NULL);
  g = client_connect ("garbage", p.r->port);
  input = subst (garbage_cases[_i].input, "SESSION", p.sa);
  for (guint n = 32; n <= 379; n++)
    {
      g_autofree char *key = g_strdup_printf ("LONG%u", n);
      g_autofree char *list = NULL;
      char *next;

      if (strstr (input, key) == NULL)
        continue;
      list = long_uri_list (n);
      next = subst (input, key, list);
      g_free (input);
      input = next;
    }
  {
    char *next = subst (input, "RELAY", p.r->uri);

    g_free (input);
    input = next;
  }
  client_send (g, input);
  if (garbage_cases[_i].code != 0)
    {
      g_autoptr (Frame) f = client_frame (g, 3000);

      ck_assert_uint_eq (msrp_head_get_status_code (f->head),
                         garbage_cases[_i].code);
    }
  if (garbage_cases[_i].closed)
    {
      client_wait_eof (g, 3000);
      RUN_UNTIL (logtap_count ("connection_closed",
                               "\"reason\":\"parse_error\"", NULL) == 1,
                 3000);
    }
  else
    {
      client_no_frame (g, 200);
      ck_assert (!g->eof);
    }
  /* Each answered with a log line saying why. */
  if (garbage_cases[_i].code == 400 && !garbage_cases[_i].closed)
    ck_assert_uint_eq (logtap_count ("bad_request", NULL), 1);
  /* The relay still serves Alice and Bob. */
  to = a_to_b (&p);
  text = send_text (tid, to, ALICE, "m-after", NULL, "still here");
  client_send (p.a, text);
  ok = client_frame (p.a, 3000);
  assert_response (ok, tid, 200);
  got = client_frame (p.b, 3000);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_MESSAGE_ID), "m-after");
  pair_clear (&p);
}
END_TEST

START_TEST (test_probation_timeout)
{
  g_autoptr (Relay) r = relay_new ("probation=1\n");
  g_autoptr (Client) idle = client_connect ("idle", r->port);
  g_autoptr (Client) a = client_connect ("alice", r->port);
  g_autofree char *sa = auth (a, r, ALICE, "alice");
  gint64 start = testloop_now ();

  /* RFC 4976 section 6.1: no request within the probation: closed. */
  client_wait_eof (idle, 3000);
  ck_assert_int_ge (testloop_now () - start, 500 * 1000);
  /* Logged once the close is done: the relay waits for the peer's end of
   * stream (net_conn_close()). */
  RUN_UNTIL (logtap_count ("connection_closed",
                           "\"reason\":\"probation_timeout\"", NULL) == 1,
             3000);
  /* Alice succeeded in time: she stays. */
  ck_assert_ptr_nonnull (sa);
  testloop_run_for (1200);
  ck_assert (!a->eof);
}
END_TEST

START_TEST (test_probation_failures)
{
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Client) c = client_connect ("prober", r->port);

  /* Unsuccessful requests and no successful one (RFC 4976 section 6.1):
   * a SEND with a bad header (400) and SENDs to sessions that do not exist
   * (481).  AUTHs without credentials do not count: they are the first
   * step of every AUTH. */
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *tid = next_tid ();
      g_autoptr (Frame) f = NULL;

      send_auth (c, tid, r->uri, ALICE, NULL);
      f = client_frame (c, 3000);
      assert_response (f, tid, 401);
    }
  for (guint i = 0; i < GW_RELAY_MAX_PROBATION_FAILURES; i++)
    {
      g_autofree char *tid = next_tid ();
      g_autofree char *to = g_strdup_printf (
          "msrp://127.0.0.1:%u/Nope%u;tcp %s", r->port, i, BOB);
      g_autofree char *text =
          send_text (tid, to, ALICE, "mmmm",
                     i == 0 ? "Success-Report: maybe\r\n" : NULL, "x");
      g_autoptr (Frame) f = NULL;

      client_send (c, text);
      f = client_frame (c, 3000);
      assert_response (f, tid, i == 0 ? 400 : 481);
    }
  client_wait_eof (c, 3000);
  RUN_UNTIL (logtap_count ("connection_closed",
                           "\"reason\":\"probation_failures\"", NULL) == 1,
             3000);
}
END_TEST

/* A next hop: a listener on the virtual network at 127.0.0.1 (and [::1]
 * on the same port after server_listen_v6()), whose accepted connections
 * become Clients. */
typedef struct
{
  NetListener *v4, *v6;
  guint16 port;
  GPtrArray *clients;
  gboolean answer_sends;
} Server;

static void
server_accept (NetListener *l, NetConn *conn, gpointer data)
{
  Server *s = data;
  Client *cl = client_new ("next-hop", net_conn_ref (conn));

  cl->answer_sends = s->answer_sends;
  g_ptr_array_add (s->clients, cl);
}

static NetListener *
server_listen_tls (Server *s, const char *ip, guint16 port, NetTls *tls)
{
  g_autoptr (GSocketAddress) addr =
      g_inet_socket_address_new_from_string (ip, port);
  g_autoptr (GError) error = NULL;
  NetListener *l = net_listener_new (addr, tls, NULL, &error);

  ck_assert_msg (l != NULL, "%s", error ? error->message : "");
  net_listener_set_callbacks (l, NULL, server_accept, s, NULL);
  return l;
}

static NetListener *
server_listen (Server *s, const char *ip, guint16 port)
{
  return server_listen_tls (s, ip, port, NULL);
}

static Server *
server_new (void)
{
  Server *s = g_new0 (Server, 1);

  s->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
  s->v4 = server_listen (s, "127.0.0.1", 0);
  s->port = g_inet_socket_address_get_port (
      G_INET_SOCKET_ADDRESS (net_listener_get_address (s->v4)));
  return s;
}

/* For a next hop named "localhost", which may resolve to either. */
static void
server_listen_v6 (Server *s)
{
  s->v6 = server_listen (s, "::1", s->port);
}

static void
server_free (Server *s)
{
  g_clear_pointer (&s->v4, net_listener_unref);
  g_clear_pointer (&s->v6, net_listener_unref);
  g_ptr_array_unref (s->clients);
  g_free (s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Server, server_free)

/* A port nobody listens on: a connect to it is refused.  The virtual
 * network gives no port number twice to a listener, so the one a dropped
 * listener had stays free. */
static guint16
dead_port (void)
{
  g_autoptr (Server) s = server_new ();

  return s->port;
}

/* Issue 13 finding 4: an authenticated client names a next hop on
 * loopback, or the relay's own listener (spelt so that it does not look
 * like one of the relay's URIs), or a name for either: the relay does not
 * connect there (the peer never sees a connection), logs connect_refused
 * with the rule, and answers 408 as for a next hop it cannot reach. */
static const struct
{
  const char *conf;  /* [relay] keys */
  const char *host;  /* the next hop's host; NULL: [::ffff:127.0.0.1] */
  gboolean own_port; /* the relay's own port rather than the peer's */
  const char *rule;  /* in connect_refused */
} next_hop_policy_cases[] = {
  { "next-hop-allow=\n", "127.0.0.1", FALSE, "loopback 127.0.0.0/8" },
  { "next-hop-allow=\n", "localhost", FALSE, "loopback" },
  { "next-hop-allow=\n", "[::1]", FALSE, "loopback ::1/128" },
  { "next-hop-allow=\n", NULL, FALSE, "loopback 127.0.0.0/8" },
  { NULL, NULL, TRUE, "the gateway's own msrp listener 127.0.0.1:" },
  { NULL, "localhost", TRUE, "the gateway's own msrp listener" },
  { "next-hop-deny=127.0.0.2/32;127.0.0.1\n", "127.0.0.1", FALSE,
    "[relay] next-hop-deny 127.0.0.1/32" },
};

START_TEST (test_next_hop_policy)
{
  g_autoptr (Relay) r = relay_new (next_hop_policy_cases[_i].conf);
  g_autoptr (Server) peer = server_new ();
  g_autoptr (Client) a = client_connect ("alice", r->port);
  g_autofree char *sa = auth (a, r, ALICE, "alice");
  g_autofree char *tid = next_tid ();
  g_autofree char *to = NULL;
  g_autofree char *text = NULL;
  g_autoptr (Frame) f = NULL;
  const char *host = next_hop_policy_cases[_i].host;

  server_listen_v6 (peer);
  peer->answer_sends = TRUE;
  to = g_strdup_printf (
      "%s msrp://%s:%u/x;tcp", sa, host != NULL ? host : "[::ffff:127.0.0.1]",
      next_hop_policy_cases[_i].own_port ? r->port : peer->port);
  text = send_text (tid, to, ALICE, "m-ssrf", NULL, "knock knock");
  client_send (a, text);
  RUN_UNTIL (logtap_count ("connect_refused", "\"to\":\"next-hop\"",
                           next_hop_policy_cases[_i].rule, NULL) >= 1,
             5000);
  /* A literal is refused before anything goes out (a response); a name
   * after it resolved, when the frame may be on its way (a response or
   * a REPORT): 408 either way. */
  f = client_frame (a, 5000);
  if (msrp_head_is_request (f->head))
    {
      ck_assert_str_eq (msrp_head_get_method (f->head), "REPORT");
      ck_assert (g_str_has_prefix (hdr (f, MSRP_HEADER_STATUS), "000 408"));
    }
  else
    {
      assert_response (f, tid, 408);
    }
  client_no_frame (a, 300);
  ck_assert_uint_eq (peer->clients->len, 0);
  ck_assert_uint_eq (
      logtap_count ("message_relayed", "\"outcome\":\"delivered\"", NULL), 0);
  ck_assert_uint_eq (logtap_count ("connection_opened", NULL), 0);
}
END_TEST

START_TEST (test_next_hop_timeout)
{
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Server) hole = server_new ();
  g_autoptr (Client) a = client_connect ("alice", r->port);
  g_autofree char *sa = auth (a, r, ALICE, "alice");
  g_autofree char *tid = next_tid ();
  g_autofree char *to =
      g_strdup_printf ("%s msrp://127.0.0.1:%u/hole;tcp", sa, hole->port);
  g_autofree char *text =
      send_text (tid, to, ALICE, "m-lost", NULL, "into the void");
  g_autoptr (Frame) ok = NULL;
  g_autoptr (Frame) rep = NULL;
  Client *next;
  gint64 sent;

  client_send (a, text);
  ok = client_frame (a, 3000);
  assert_response (ok, tid, 200);
  RUN_UNTIL (hole->clients->len == 1, 3000);
  next = hole->clients->pdata[0];
  {
    g_autoptr (Frame) f = client_frame (next, 3000);

    ck_assert_str_eq (hdr (f, MSRP_HEADER_TO_PATH), strchr (to, ' ') + 1);
  }
  sent = testloop_now ();
  /* No response within report-timeout (1 s): a 408 REPORT to Alice (RFC
   * 4976 section 6.4.1). */
  rep = client_frame (a, 4000);
  ck_assert_int_ge (testloop_now () - sent, 700 * 1000);
  ck_assert_str_eq (msrp_head_get_method (rep->head), "REPORT");
  ck_assert_str_eq (hdr (rep, MSRP_HEADER_TO_PATH), ALICE);
  ck_assert_str_eq (hdr (rep, MSRP_HEADER_FROM_PATH), sa);
  ck_assert_str_eq (hdr (rep, MSRP_HEADER_MESSAGE_ID), "m-lost");
  ck_assert (g_str_has_prefix (hdr (rep, MSRP_HEADER_STATUS), "000 408"));
  ck_assert_str_eq (hdr (rep, MSRP_HEADER_BYTE_RANGE), "1-13/13");
  ck_assert_uint_eq (logtap_count ("report_generated", "\"code\":408",
                                   "\"message_id\":\"m-lost\"", NULL),
                     1);
  ck_assert_uint_eq (
      logtap_count ("message_relayed", "\"outcome\":\"timeout\"", NULL), 1);
}
END_TEST

START_TEST (test_next_hop_error_response)
{
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Server) peer = server_new ();
  g_autoptr (Client) a = client_connect ("alice", r->port);
  g_autofree char *sa = auth (a, r, ALICE, "alice");
  g_autofree char *tid = next_tid ();
  g_autofree char *to =
      g_strdup_printf ("%s msrp://127.0.0.1:%u/peer;tcp", sa, peer->port);
  g_autofree char *text = send_text (tid, to, ALICE, "m-415",
                                     "Failure-Report: partial\r\n", "<x/>");
  g_autofree char *resp = NULL;
  g_autoptr (Frame) f = NULL;
  g_autoptr (Frame) rep = NULL;
  Client *next;

  client_send (a, text);
  RUN_UNTIL (peer->clients->len == 1, 3000);
  next = peer->clients->pdata[0];
  f = client_frame (next, 3000);
  /* Failure-Report partial: no 200 from the relay (RFC 4975 s.7.1.4). */
  ck_assert (g_queue_is_empty (&a->frames));
  resp = g_strdup_printf (
      "MSRP %s 415 Unsupported\r\nTo-Path: %s\r\n"
      "From-Path: msrp://127.0.0.1:%u/peer;tcp\r\n"
      "-------%s$\r\n",
      msrp_head_get_transaction_id (f->head),
      msrp_uri_get_text (msrp_head_get_from_path (f->head)->pdata[0]),
      peer->port, msrp_head_get_transaction_id (f->head));
  client_send (next, resp);
  /* An error response from the next hop: a REPORT with its code (RFC 4976
   * section 6.4.3). */
  rep = client_frame (a, 3000);
  ck_assert_str_eq (msrp_head_get_method (rep->head), "REPORT");
  ck_assert (g_str_has_prefix (hdr (rep, MSRP_HEADER_STATUS), "000 415"));
  ck_assert_uint_eq (
      logtap_count ("message_relayed", "\"outcome\":\"failed:415\"", NULL), 1);
}
END_TEST

START_TEST (test_next_hop_refused)
{
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Client) a = client_connect ("alice", r->port);
  g_autofree char *sa = auth (a, r, ALICE, "alice");
  g_autofree char *tid = next_tid ();
  g_autofree char *to = NULL;
  g_autofree char *text = NULL;
  g_autoptr (Frame) f = NULL;

  to = g_strdup_printf ("%s msrp://127.0.0.1:%u/x;tcp", sa, dead_port ());
  text = send_text (tid, to, ALICE, "m-refused", NULL, "knock knock");
  client_send (a, text);
  /* Nothing went out yet: an error response rather than a REPORT. */
  f = client_frame (a, 5000);
  assert_response (f, tid, 408);
  ck_assert_uint_eq (
      logtap_count ("connection_closed", "\"reason\":\"refused\"", NULL), 1);
  client_no_frame (a, 300);
}
END_TEST

START_TEST (test_receiver_dies)
{
  Pair p = { 0 };
  g_autofree char *to = NULL;
  g_autofree char *tid = next_tid ();
  g_autofree char *head = NULL;
  g_autofree char *tail = NULL;
  g_autoptr (Frame) rep = NULL;
  g_autoptr (Frame) ok = NULL;
  guint64 total = 4 * 1024 * 1024;

  pair_init (&p, NULL);
  to = a_to_b (&p);
  head = g_strdup_printf (
      "MSRP %s SEND\r\nTo-Path: %s\r\nFrom-Path: " ALICE
      "\r\nMessage-ID: m-big\r\nByte-Range: 1-%" G_GUINT64_FORMAT
      "/%" G_GUINT64_FORMAT "\r\n"
      "Content-Type: application/octet-stream\r\n\r\n",
      tid, to, total, total);
  tail = g_strdup_printf ("\r\n-------%s$\r\n", tid);
  /* Bob reads slowly, so that the message is still coming when he goes. */
  p.b->read_burst = 64 * 1024;
  p.b->read_pause_ms = 20;
  client_stream (p.a, head, total, 0, tail);
  RUN_UNTIL (p.b->body_bytes > 0, 3000);
  client_close (p.b);
  /* Alice gets a failure REPORT, then the hop-by-hop 200 once her frame
   * ends (it was received). */
  rep = client_frame (p.a, 10000);
  ck_assert_str_eq (msrp_head_get_method (rep->head), "REPORT");
  ck_assert_str_eq (hdr (rep, MSRP_HEADER_MESSAGE_ID), "m-big");
  ck_assert (g_str_has_prefix (hdr (rep, MSRP_HEADER_STATUS), "000 408"));
  ok = client_frame (p.a, 20000);
  assert_response (ok, tid, 200);
  RUN_UNTIL (logtap_count ("message_relayed", "\"message_id\":\"m-big\"",
                           "\"outcome\":\"interrupted\"", NULL) == 1,
             3000);
  ck_assert_uint_eq (logtap_count ("report_generated", "\"code\":408", NULL),
                     1);
  ck_assert_uint_eq (
      logtap_count ("session_closed", "connection closed", NULL), 1);
  /* Bob's session is gone with him: 481 now. */
  {
    g_autofree char *tid2 = next_tid ();
    g_autofree char *text2 = send_text (tid2, to, ALICE, "m-after", NULL, "x");
    g_autoptr (Frame) f = NULL;

    client_send (p.a, text2);
    f = client_frame (p.a, 3000);
    assert_response (f, tid2, 481);
  }
  pair_clear (&p);
}
END_TEST

START_TEST (test_sender_dies)
{
  Pair p = { 0 };
  g_autofree char *to = NULL;
  g_autofree char *tid = next_tid ();
  g_autofree char *head = NULL;
  g_autoptr (Frame) got = NULL;

  pair_init (&p, NULL);
  to = a_to_b (&p);
  head = g_strdup_printf ("MSRP %s SEND\r\nTo-Path: %s\r\nFrom-Path: " ALICE
                          "\r\nMessage-ID: m-cut\r\nByte-Range: 1-*/*\r\n"
                          "Content-Type: text/plain\r\n\r\n",
                          tid, to);
  client_stream (p.a, head, 100000, 'z', NULL);
  RUN_UNTIL (p.b->body_bytes >= 100000, 5000);
  client_close (p.a);
  /* Bob sees the message interrupted: the end-line with '#'. */
  got = client_frame (p.b, 3000);
  ck_assert_int_eq (got->flag, '#');
  ck_assert_uint_eq (got->body_len, 100000);
  RUN_UNTIL (logtap_count ("message_relayed", "\"message_id\":\"m-cut\"",
                           "\"outcome\":\"interrupted\"", NULL) == 1,
             3000);
  pair_clear (&p);
}
END_TEST

/* Two senders stream big messages to one receiver at once: the relay
 * carries one frame at a time on the shared connection. */
START_TEST (test_no_interleave)
{
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Client) a1 = client_connect ("a1", r->port);
  g_autoptr (Client) a2 = client_connect ("a2", r->port);
  g_autoptr (Client) b = client_connect ("bob", r->port);
  g_autofree char *s1 = auth (a1, r, "msrp://a1.invalid:1/x;tcp", "alice");
  g_autofree char *s2 = auth (a2, r, "msrp://a2.invalid:1/x;tcp", "alice");
  g_autofree char *sb = auth (b, r, BOB, "bob");
  guint64 size = 3 * 1024 * 1024;
  guint seen[2] = { 0, 0 };
  guint max_waiting = 0;

  b->read_burst = 256 * 1024;
  b->read_pause_ms = 2;
  for (guint round = 0; round < 2; round++)
    {
      for (guint i = 0; i < 2; i++)
        {
          Client *a = i == 0 ? a1 : a2;
          g_autofree char *tid = next_tid ();
          g_autofree char *head = g_strdup_printf (
              "MSRP %s SEND\r\nTo-Path: %s %s " BOB
              "\r\nFrom-Path: msrp://a%u.invalid:1"
              "/x;tcp\r\nMessage-ID: m%u-%u\r\nByte-Range: "
              "1-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
              "\r\nContent-Type: text/plain\r\n\r\n",
              tid, i == 0 ? s1 : s2, sb, i + 1, i + 1, round, size, size);
          g_autofree char *tail = g_strdup_printf ("\r\n-------%s$\r\n", tid);

          client_stream (a, head, size, (guint8) ('1' + i), tail);
        }
      /* Until the first frame is in, the other one waits for the shared
       * writer, its sender paused. */
      while (g_queue_is_empty (&b->frames) && b->parse_error == NULL &&
             !b->eof)
        {
          GwRelayStats st;

          testloop_iterate ();
          gw_relay_get_stats (r->relay, &st);
          max_waiting = MAX (max_waiting, st.frames_waiting);
        }
      for (guint k = 0; k < 2; k++)
        {
          g_autoptr (Frame) f = client_frame (b, 30000);
          const char *mid = hdr (f, MSRP_HEADER_MESSAGE_ID);

          ck_assert_uint_eq (f->body_len, size);
          ck_assert_msg (f->uniform, "frame %s mixes two senders' bytes", mid);
          ck_assert_int_eq (f->flag, '$');
          ck_assert_int_eq (f->body->data[0], mid[1]);
          seen[mid[1] - '1']++;
        }
      /* Both senders got their 200s. */
      {
        g_autoptr (Frame) ok1 = client_frame (a1, 3000);
        g_autoptr (Frame) ok2 = client_frame (a2, 3000);

        ck_assert_uint_eq (msrp_head_get_status_code (ok1->head), 200);
        ck_assert_uint_eq (msrp_head_get_status_code (ok2->head), 200);
      }
    }
  ck_assert_uint_eq (seen[0], 2);
  ck_assert_uint_eq (seen[1], 2);
  ck_assert_uint_eq (max_waiting, 1);
}
END_TEST

/* 64 MiB through the relay to a receiver slower than the sender: the
 * relay holds a bounded number of bytes, whatever the message size. */
START_TEST (test_stream_bounded)
{
  Pair p = { 0 };
  g_autofree char *to = NULL;
  g_autofree char *tid = next_tid ();
  g_autofree char *head = NULL;
  g_autofree char *tail = NULL;
  g_autoptr (Frame) ok = NULL;
  g_autoptr (Frame) got = NULL;
  guint64 total = 64 * 1024 * 1024;
  gsize max_queued = 0;
  guint max_paused = 0;
  gint64 end;

  pair_init (&p, NULL);
  to = a_to_b (&p);
  head = g_strdup_printf (
      "MSRP %s SEND\r\nTo-Path: %s\r\nFrom-Path: " ALICE
      "\r\nMessage-ID: m-64\r\nByte-Range: 1-%" G_GUINT64_FORMAT
      "/%" G_GUINT64_FORMAT "\r\n"
      "Content-Type: application/octet-stream\r\n\r\n",
      tid, to, total, total);
  tail = g_strdup_printf ("\r\n-------%s$\r\n", tid);
  p.b->read_burst = 128 * 1024;
  p.b->read_pause_ms = 4;
  p.b->answer_sends = TRUE;
  client_stream (p.a, head, total, 0, tail);
  end = testloop_now () + 240 * G_USEC_PER_SEC;
  while (g_queue_is_empty (&p.b->frames) && p.b->parse_error == NULL &&
         !p.b->eof)
    {
      GwRelayStats st;

      ck_assert_msg (testloop_now () < end,
                     "64 MiB did not pass in "
                     "time (%" G_GUINT64_FORMAT " bytes)",
                     p.b->body_bytes);
      testloop_iterate ();
      gw_relay_get_stats (p.r->relay, &st);
      max_queued = MAX (max_queued, st.queued_bytes);
      max_paused = MAX (max_paused, st.readers_paused);
    }
  got = client_frame (p.b, 1000);
  ck_assert_uint_eq (got->body_len, total);
  ck_assert_msg (got->pattern_ok, "the body arrived altered");
  ok = client_frame (p.a, 5000);
  assert_response (ok, tid, 200);
  /* The receiver was the bottleneck (the relay's queue reached the high
   * watermark) and yet the relay never held more than the watermark plus
   * a read or two. */
  ck_assert_msg (max_queued >= NET_CONN_DEFAULT_HIGH_WATERMARK,
                 "max queued %" G_GSIZE_FORMAT ": no backpressure exercised",
                 max_queued);
  ck_assert_msg (max_queued <= NET_CONN_DEFAULT_HIGH_WATERMARK + 256 * 1024,
                 "relay held %" G_GSIZE_FORMAT " bytes", max_queued);
  /* ... because it stopped reading from the sender. */
  ck_assert_uint_eq (max_paused, 1);
  if (g_getenv ("TEST_GW_RELAY_TRACE") != NULL)
    fprintf (stderr, "64 MiB: relay held at most %" G_GSIZE_FORMAT " bytes\n",
             max_queued);
  RUN_UNTIL (logtap_count ("message_relayed", "\"message_id\":\"m-64\"",
                           "\"outcome\":\"delivered\"", "\"bytes\":67108864",
                           NULL) == 1,
             3000);
  pair_clear (&p);
}
END_TEST

static const char *const end_to_end_methods[] = { "NICKNAME", "FOOBAR" };

/* Non-SEND requests are forwarded as REPORTs are (RFC 4976 section 6.4.2):
 * no response from the relay; the far end's response comes back by its
 * To-Path with the transaction id of the first hop (section 6.4.3). */
START_TEST (test_end_to_end_routed)
{
  Pair p = { 0 };
  g_autofree char *tid = next_tid ();
  g_autofree char *to = NULL;
  g_autofree char *text = NULL;
  g_autofree char *want_from = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *back_from = NULL;
  g_autoptr (Frame) got = NULL;
  g_autoptr (Frame) resp = NULL;
  const char *btid;

  pair_init (&p, NULL);
  to = a_to_b (&p);
  text = g_strdup_printf ("MSRP %s %s\r\nTo-Path: %s\r\nFrom-Path: " ALICE
                          "\r\nUse-Nickname: \"Al\"\r\n-------%s$\r\n",
                          tid, end_to_end_methods[_i], to, tid);
  client_send (p.a, text);
  got = client_frame (p.b, 3000);
  ck_assert_str_eq (msrp_head_get_method (got->head), end_to_end_methods[_i]);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_TO_PATH), BOB);
  want_from = g_strdup_printf ("%s %s %s", p.sb, p.sa, ALICE);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_FROM_PATH), want_from);
  ck_assert_str_eq (
      msrp_head_find (got->head, MSRP_HEADER_OTHER, "Use-Nickname"), "\"Al\"");
  ck_assert (g_queue_is_empty (&p.a->frames));
  btid = msrp_head_get_transaction_id (got->head);
  ck_assert_str_ne (btid, tid);
  /* RFC 4975 section 7.2: the response to a non-SEND goes the whole way
   * back. */
  reply = g_strdup_printf ("MSRP %s 200 OK\r\nTo-Path: %s\r\nFrom-Path: " BOB
                           "\r\n-------%s$\r\n",
                           btid, want_from, btid);
  client_send (p.b, reply);
  resp = client_frame (p.a, 3000);
  assert_response (resp, tid, 200);
  ck_assert_str_eq (hdr (resp, MSRP_HEADER_TO_PATH), ALICE);
  back_from = g_strdup_printf ("%s %s %s", p.sa, p.sb, BOB);
  ck_assert_str_eq (hdr (resp, MSRP_HEADER_FROM_PATH), back_from);
  /* Answered: no 408 after report-timeout. */
  client_no_frame (p.a, 1500);
  pair_clear (&p);
}
END_TEST

START_TEST (test_end_to_end_timeout)
{
  Pair p = { 0 };
  g_autofree char *tid = next_tid ();
  g_autofree char *to = NULL;
  g_autofree char *text = NULL;
  g_autofree char *from = NULL;
  g_autoptr (Frame) got = NULL;
  g_autoptr (Frame) resp = NULL;

  pair_init (&p, NULL);
  to = a_to_b (&p);
  text =
      g_strdup_printf ("MSRP %s NICKNAME\r\nTo-Path: %s\r\nFrom-Path: " ALICE
                       "\r\nUse-Nickname: \"Al\"\r\n-------%s$\r\n",
                       tid, to, tid);
  client_send (p.a, text);
  got = client_frame (p.b, 3000);
  /* Bob never answers: Alice gets a 408 from the relay, addressed the whole
   * way back. */
  resp = client_frame (p.a, 4000);
  assert_response (resp, tid, 408);
  ck_assert_str_eq (hdr (resp, MSRP_HEADER_TO_PATH), ALICE);
  from = g_strdup (p.sa);
  ck_assert_str_eq (hdr (resp, MSRP_HEADER_FROM_PATH), from);
  pair_clear (&p);
}
END_TEST

START_TEST (test_session_expires)
{
  g_autoptr (Relay) r = relay_new ("expires-min=1\n");
  g_autoptr (Client) a = client_connect ("alice", r->port);
  g_autoptr (Frame) f =
      auth_full (a, r->uri, ALICE, "alice", "secret",
                 MSRP_DIGEST_ALGORITHM_MD5, "Expires: 1\r\n", 200);
  g_autofree char *sa = g_strdup (hdr (f, MSRP_HEADER_USE_PATH));
  g_autofree char *tid = next_tid ();
  g_autofree char *to = g_strdup_printf ("%s " BOB, sa);
  g_autofree char *text = send_text (tid, to, ALICE, "late", NULL, "late");
  g_autoptr (Frame) g = NULL;

  ck_assert_str_eq (hdr (f, MSRP_HEADER_EXPIRES), "1");
  /* RFC 4976 section 6.3: "the relay MUST ensure that the URI is
   * invalidated after the expiry time". */
  RUN_UNTIL (
      logtap_count ("session_expired", "\"reason\":\"expired\"", NULL) == 1,
      3000);
  client_send (a, text);
  g = client_frame (a, 3000);
  assert_response (g, tid, 481);
  ck_assert (!a->eof);
}
END_TEST

/* A next hop named by a host name: resolved with GResolver (for real, in
 * its thread), then connected to over the virtual network at whichever
 * loopback address the name gave. */
START_TEST (test_next_hop_by_name)
{
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Server) peer = server_new ();
  g_autoptr (Client) a = client_connect ("alice", r->port);
  g_autofree char *sa = auth (a, r, ALICE, "alice");
  g_autofree char *tid = next_tid ();
  g_autofree char *to = NULL;
  g_autofree char *text = NULL;
  g_autoptr (Frame) ok = NULL;
  g_autoptr (Frame) got = NULL;

  server_listen_v6 (peer);
  peer->answer_sends = TRUE;
  to = g_strdup_printf ("%s msrp://localhost:%u/named;tcp", sa, peer->port);
  text = send_text (tid, to, ALICE, "m-named", NULL, "by name");
  client_send (a, text);
  ok = client_frame (a, 3000);
  assert_response (ok, tid, 200);
  RUN_UNTIL (peer->clients->len == 1, 5000);
  got = client_frame (peer->clients->pdata[0], 5000);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_MESSAGE_ID), "m-named");
  RUN_UNTIL (logtap_count ("message_relayed", "\"message_id\":\"m-named\"",
                           "\"outcome\":\"delivered\"", NULL) == 1,
             3000);
}
END_TEST

/* Relay fallback (DESIGN.md): pre-authorised sessions made by the
 * negotiator before either party connects, paired, and bound by each
 * party's first SEND or by the gateway connecting to a passive party (RFC
 * 6135 section 4.2.2). */

#define PX "msrp://x.invalid:7001/xx;tcp"
#define PY "msrp://y.invalid:7002/yy;tcp"
#define PZ "msrp://z.invalid:7003/zz;tcp"
#define PW "msrp://w.invalid:7004/ww;tcp"

typedef struct
{
  Relay *r;
  MsrpUri *px, *py; /* the parties' own URIs */
  MsrpUri *ux, *uy; /* their sessions (uy is in X's To-Path) */
  const char *ux_text, *uy_text;
  char *px_text, *py_text;
  char *to_x, *to_y; /* the paths X and Y were given for their peer */
} Pre;

static MsrpUri *
uri (const char *text)
{
  g_autoptr (GError) error = NULL;
  MsrpUri *u = msrp_uri_parse (text, -1, &error);

  ck_assert_msg (u != NULL, "%s: %s", text, error ? error->message : "");
  return u;
}

static MsrpUri *
preauth (Relay *r, MsrpUri *party, const char *call_id)
{
  g_autoptr (GError) error = NULL;
  MsrpUri *u = gw_relay_preauthorize_session (r->relay, MSRP_SCHEME_MSRP,
                                              party, call_id, &error);

  ck_assert_msg (u != NULL, "%s", error ? error->message : "");
  return u;
}

/* Sessions for X (@px) and Y (@py) of call "call-1", paired when @pair. */
static void
pre_init (Pre *p, const char *extra_conf, const char *px, const char *py,
          gboolean pair)
{
  p->r = relay_new (extra_conf);
  p->px = uri (px);
  p->py = uri (py);
  p->px_text = g_strdup (px);
  p->py_text = g_strdup (py);
  p->ux = preauth (p->r, p->px, "call-1");
  p->uy = preauth (p->r, p->py, "call-1");
  p->ux_text = msrp_uri_get_text (p->ux);
  p->uy_text = msrp_uri_get_text (p->uy);
  p->to_x = g_strdup_printf ("%s %s", p->ux_text, px);
  p->to_y = g_strdup_printf ("%s %s", p->uy_text, py);
  if (pair)
    {
      g_autoptr (GError) error = NULL;

      ck_assert_msg (
          gw_relay_pair_sessions (p->r->relay, p->ux, p->uy, &error), "%s",
          error ? error->message : "");
    }
}

static void
pre_clear (Pre *p)
{
  relay_free (p->r);
  msrp_uri_unref (p->px);
  msrp_uri_unref (p->py);
  msrp_uri_unref (p->ux);
  msrp_uri_unref (p->uy);
  g_free (p->px_text);
  g_free (p->py_text);
  g_free (p->to_x);
  g_free (p->to_y);
}

/* A bodiless SEND (RFC 4975 section 5.4). */
static char *
empty_send (const char *tid, const char *to, const char *from)
{
  return g_strdup_printf ("MSRP %s SEND\r\nTo-Path: %s\r\nFrom-Path: %s\r\n"
                          "Message-ID: bind-%s\r\nByte-Range: 1-0/0\r\n"
                          "-------%s$\r\n",
                          tid, to, from, tid, tid);
}

/* @cl sends @body to @to from @from and gets the hop's 200. */
static void
send_ok (Client *cl, const char *to, const char *from, const char *mid,
         const char *body)
{
  g_autofree char *tid = next_tid ();
  g_autofree char *text = send_text (tid, to, from, mid, NULL, body);
  g_autoptr (Frame) ok = NULL;

  client_send (cl, text);
  ok = client_frame (cl, 3000);
  assert_response (ok, tid, 200);
}

/* @cl receives the SEND @mid: To-Path @to, From-Path @from, @body. */
static void
expect_send (Client *cl, const char *to, const char *from, const char *mid,
             const char *body)
{
  g_autoptr (Frame) f = client_frame (cl, 3000);

  ck_assert_str_eq (msrp_head_get_method (f->head), "SEND");
  ck_assert_str_eq (hdr (f, MSRP_HEADER_MESSAGE_ID), mid);
  ck_assert_str_eq (hdr (f, MSRP_HEADER_TO_PATH), to);
  ck_assert_str_eq (hdr (f, MSRP_HEADER_FROM_PATH), from);
  ck_assert_uint_eq (f->body_len, strlen (body));
  ck_assert_int_eq (memcmp (f->body->data, body, strlen (body)), 0);
}

static void
assert_info (Relay *r, MsrpUri *u, gboolean bound, guint64 mf, guint64 bf,
             guint64 mt, guint64 bt)
{
  GwRelaySessionInfo info;

  ck_assert (gw_relay_get_session_info (r->relay, u, &info));
  ck_assert_int_eq (info.bound, bound);
  ck_assert_msg (bound ? info.conn != 0 : info.conn == 0,
                 "conn %" G_GUINT64_FORMAT, info.conn);
  ck_assert_uint_eq (info.messages_from, mf);
  ck_assert_uint_eq (info.bytes_from, bf);
  ck_assert_uint_eq (info.messages_to, mt);
  ck_assert_uint_eq (info.bytes_to, bt);
}

typedef struct
{
  guint calls;
  gboolean ok;
  GwRelayConnectResult result;
  guint64 conn;
  char *detail;
} Done;

static void
on_done (GwRelay *relay, MsrpUri *session, GwRelayConnectResult result,
         guint64 conn, const char *detail, gpointer data)
{
  Done *d = data;

  ck_assert_ptr_nonnull (session);
  d->calls++;
  d->ok = result == GW_RELAY_CONNECT_OK;
  d->result = result;
  d->conn = conn;
  g_free (d->detail);
  d->detail = g_strdup (detail);
}

/* The API's refusals. */
START_TEST (test_preauth_errors)
{
  Pre p = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (MsrpUri) none = NULL;
  g_autoptr (MsrpUri) pz = uri (PZ);
  g_autoptr (MsrpUri) uz = NULL;
  g_autoptr (MsrpUri) unknown = NULL;
  g_autoptr (MsrpUri) client_uri = NULL;
  g_autoptr (Client) a = NULL;
  g_autofree char *sa = NULL;
  g_autofree char *unknown_text = NULL;
  g_autofree char *py =
      g_strdup_printf ("msrp://127.0.0.1:%u/yy;tcp", dead_port ());
  Done done = { 0 };
  GwRelaySessionInfo info;
  struct
  {
    MsrpUri **a, **b;
    const char *error;
  } pair_cases[] = {
    { &unknown, &uz, "is not a pre-authorised session" },
    { &uz, &client_uri, "is not a pre-authorised session" },
    { &uz, &uz, "with itself" },
    { &uz, &p.ux, "already paired" },
    { &p.uy, &uz, "already paired" },
  };

  pre_init (&p, NULL, PX, py, FALSE);
  ck_assert_uint_eq (msrp_uri_get_port (p.ux), p.r->port);
  ck_assert_uint_ge (strlen (msrp_uri_get_session_id (p.ux)), 16);
  ck_assert_uint_eq (logtap_count ("session_created", "\"kind\":\"preauth\"",
                                   "\"call_id\":\"call-1\"", NULL),
                     2);
  ck_assert_uint_eq (logtap_count ("session_created", "\"expires\"", NULL), 0);
  none = gw_relay_preauthorize_session (p.r->relay, MSRP_SCHEME_MSRPS, p.px,
                                        NULL, &error);
  ck_assert_ptr_null (none);
  ck_assert (
      g_error_matches (error, GW_RELAY_ERROR, GW_RELAY_ERROR_NO_LISTENER));
  g_clear_error (&error);
  uz = preauth (p.r, pz, NULL);
  unknown_text =
      g_strdup_printf ("msrp://127.0.0.1:%u/nosuchsession;tcp", p.r->port);
  unknown = uri (unknown_text);
  a = client_connect ("alice", p.r->port);
  sa = auth (a, p.r, ALICE, "alice");
  client_uri = uri (sa);

  /* Not paired yet: it cannot be connected. */
  ck_assert (
      !gw_relay_connect_session (p.r->relay, p.uy, on_done, &done, &error));
  ck_assert (g_error_matches (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID));
  ck_assert_msg (strstr (error->message, "not paired") != NULL, "%s",
                 error->message);
  g_clear_error (&error);

  ck_assert (gw_relay_pair_sessions (p.r->relay, p.ux, p.uy, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (pair_cases); i++)
    {
      ck_assert_msg (!gw_relay_pair_sessions (p.r->relay, *pair_cases[i].a,
                                              *pair_cases[i].b, &error),
                     "pair case %u succeeded", i);
      ck_assert (
          g_error_matches (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID));
      ck_assert_msg (strstr (error->message, pair_cases[i].error) != NULL,
                     "pair case %u: %s", i, error->message);
      g_clear_error (&error);
    }

  /* Connect: unknown, a client session, and twice the same. */
  ck_assert (
      !gw_relay_connect_session (p.r->relay, unknown, NULL, NULL, &error));
  ck_assert (g_error_matches (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID));
  g_clear_error (&error);
  ck_assert (
      !gw_relay_connect_session (p.r->relay, client_uri, NULL, NULL, &error));
  ck_assert (g_error_matches (error, GW_RELAY_ERROR, GW_RELAY_ERROR_INVALID));
  g_clear_error (&error);
  ck_assert (
      gw_relay_connect_session (p.r->relay, p.uy, on_done, &done, &error));
  ck_assert_uint_eq (done.calls, 0);
  ck_assert (
      !gw_relay_connect_session (p.r->relay, p.uy, on_done, &done, &error));
  ck_assert_msg (strstr (error->message, "being connected") != NULL, "%s",
                 error->message);
  g_clear_error (&error);
  RUN_UNTIL (done.calls == 1, 5000);
  ck_assert (!done.ok);

  /* Info and close of what is not a session. */
  memset (&info, 0xff, sizeof info);
  ck_assert (!gw_relay_get_session_info (p.r->relay, unknown, &info));
  ck_assert (!info.bound && info.conn == 0 && info.bytes_to == 0);
  gw_relay_close_session (p.r->relay, unknown, "nothing");
  ck_assert_uint_eq (logtap_count ("session_closed", NULL), 0);
  g_free (done.detail);
  pre_clear (&p);
}
END_TEST

/* Who may bind X's session: nobody before pairing; after, only a SEND whose
 * To-Path starts with Y's session URI and whose From-Path ends in X.  A
 * stranger on another connection can neither bind X nor reach X. */
static const struct
{
  const char *name;
  gboolean paired;    /* before the stranger's SEND */
  gboolean via_other; /* To-Path: a session of another call */
  guint code;
} stranger_cases[] = {
  { "before pairing", FALSE, FALSE, 481 },
  { "unrelated session", TRUE, TRUE, 403 },
};

START_TEST (test_preauth_stranger)
{
  Pre p = { 0 };
  g_autoptr (MsrpUri) pz = uri (PZ);
  g_autoptr (MsrpUri) pw = uri (PW);
  g_autoptr (MsrpUri) uz = NULL;
  g_autoptr (MsrpUri) uw = NULL;
  g_autoptr (Client) s = NULL;
  g_autoptr (Client) x = NULL;
  g_autoptr (Client) y = NULL;
  g_autoptr (Frame) f = NULL;
  g_autoptr (Frame) f2 = NULL;
  g_autofree char *tid = next_tid ();
  g_autofree char *tid2 = next_tid ();
  g_autofree char *to = NULL;
  g_autofree char *text = NULL;
  g_autofree char *to_y = NULL;
  g_autofree char *to_x = NULL;
  g_autofree char *inject = NULL;

  pre_init (&p, NULL, PX, PY, stranger_cases[_i].paired);
  uz = preauth (p.r, pz, "call-2");
  uw = preauth (p.r, pw, "call-2");
  ck_assert (gw_relay_pair_sessions (p.r->relay, uz, uw, NULL));
  to_y = g_strdup_printf ("%s %s", p.uy_text, PY);
  to_x = g_strdup_printf ("%s %s", p.ux_text, PX);
  to = stranger_cases[_i].via_other
           ? g_strdup_printf ("%s %s", msrp_uri_get_text (uz), PZ)
           : g_strdup (to_y);

  /* The stranger claims to be X (From-Path ends in X). */
  s = client_connect ("stranger", p.r->port);
  text = send_text (tid, to, PX, "spoof", NULL, "let me in");
  client_send (s, text);
  f = client_frame (s, 3000);
  assert_response (f, tid, stranger_cases[_i].code);
  ck_assert_uint_eq (logtap_count ("session_bound", NULL), 0);
  assert_info (p.r, p.ux, FALSE, 0, 0, 0, 0);

  if (!stranger_cases[_i].paired)
    ck_assert (gw_relay_pair_sessions (p.r->relay, p.ux, p.uy, NULL));
  /* X itself binds; then Y. */
  x = client_connect ("x", p.r->port);
  {
    g_autofree char *t = next_tid ();
    g_autofree char *bind = empty_send (t, to_y, PX);
    g_autoptr (Frame) ok = NULL;

    client_send (x, bind);
    ok = client_frame (x, 3000);
    assert_response (ok, t, 200);
  }
  RUN_UNTIL (logtap_count ("session_bound", "\"party\":\"" PX "\"",
                           "\"direction\":\"inbound\"",
                           "\"call_id\":\"call-1\"", NULL) == 1,
             3000);
  assert_info (p.r, p.ux, TRUE, 0, 0, 0, 0);
  y = client_connect ("y", p.r->port);
  send_ok (y, to_x, PY, "msg-y1", "hi x");
  expect_send (x, PX, to_y, "msg-y1", "hi x");

  /* The stranger, claiming to be Y, toward X: refused, X gets nothing. */
  inject = send_text (tid2, to_x, PY, "inject", NULL, "fake");
  client_send (s, inject);
  f2 = client_frame (s, 3000);
  assert_response (f2, tid2, 403);
  client_no_frame (x, 200);
  ck_assert_uint_eq (logtap_count ("session_bound", NULL), 2);
  pre_clear (&p);
}
END_TEST

/* The two ends of a socketpair: X's, as the client @x, and the one the
 * relay is to adopt, like an ICE-TCP pair's stream from @peer to @local.
 * Returns: (transfer full) */
static NetConn *
stream_pair (Client **x, const char *peer, const char *local)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) x_sock = NULL;
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GSocketConnection) x_sconn = NULL;
  g_autoptr (GSocketConnection) sconn = NULL;
  NetConn *x_conn, *gw;
  int fds[2];

  ck_assert_int_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds),
                    0);
  x_sock = g_socket_new_from_fd (fds[0], &error);
  ck_assert_msg (x_sock != NULL, "%s", error ? error->message : "");
  x_sconn = g_socket_connection_factory_create_connection (x_sock);
  x_conn = net_conn_new_from_stream (G_IO_STREAM (x_sconn), "unix", "gw", "x",
                                     NULL, &error);
  ck_assert_msg (x_conn != NULL, "%s", error ? error->message : "");
  *x = client_new ("x", x_conn);
  sock = g_socket_new_from_fd (fds[1], &error);
  ck_assert_msg (sock != NULL, "%s", error ? error->message : "");
  sconn = g_socket_connection_factory_create_connection (sock);
  gw = net_conn_new_from_stream (G_IO_STREAM (sconn), "ice-tcp", peer, local,
                                 NULL, &error);
  ck_assert_msg (gw != NULL, "%s", error ? error->message : "");
  return gw;
}

/* Both parties connect to the gateway and bind with their first SEND;
 * messages both ways, counted per direction; close_session closes the
 * connection and logs the counters. */
/* A connection that is not a socket of ours (an ICE-TCP pair's stream,
 * here a GIOStream over one end of a socketpair, X's end over the other)
 * is adopted and relayed like an accepted one: bound by X's first SEND,
 * messages both ways, counters, and connection_accepted with its transport and
 * the caller's fields. */
START_TEST (test_adopt_connection)
{
  Pre p = { 0 };
  g_autoptr (Client) x = NULL;
  g_autoptr (Client) y = NULL;
  g_autoptr (NetConn) gw = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *to_x = NULL;
  g_autofree char *to_y = NULL;
  g_autofree char *bind_send = NULL;
  g_autofree char *t1 = next_tid ();
  g_autoptr (Frame) ok = NULL;
  const char *const fields[] = { "local_candidate", "host tcp-passive",
                                 "remote_candidate", "srflx tcp-active",
                                 NULL };

  pre_init (&p, NULL, PX, PY, TRUE);
  to_x = g_strdup_printf ("%s %s", p.ux_text, PX);
  to_y = g_strdup_printf ("%s %s", p.uy_text, PY);
  /* X's end arrives through a stream the relay does not listen for. */
  gw = stream_pair (&x, "198.51.100.7:9", "203.0.113.1:50000");
  ck_assert (!gw_relay_adopt_connection (p.r->relay, gw, MSRP_SCHEME_MSRPS,
                                         NULL, &error));
  ck_assert (
      g_error_matches (error, GW_RELAY_ERROR, GW_RELAY_ERROR_NO_LISTENER));
  g_clear_error (&error);
  ck_assert (gw_relay_adopt_connection (p.r->relay, gw, MSRP_SCHEME_MSRP,
                                        fields, &error));
  ck_assert_uint_eq (
      logtap_count ("connection_accepted", "\"peer\":\"198.51.100.7:9\"",
                    "\"transport\":\"ice-tcp\"",
                    "\"remote_candidate\":\"srflx tcp-active\"", NULL),
      1);
  y = client_connect ("y", p.r->port);
  x->answer_sends = TRUE;
  y->answer_sends = TRUE;

  bind_send = empty_send (t1, to_y, PX);
  client_send (x, bind_send);
  ok = client_frame (x, 3000);
  assert_response (ok, t1, 200);
  RUN_UNTIL (logtap_count ("session_bound", "\"party\":\"" PX "\"",
                           "\"peer\":\"198.51.100.7:9\"", NULL) == 1,
             3000);
  send_ok (y, to_x, PY, "msg-y1", "hello x");
  expect_send (x, PX, to_y, "msg-y1", "hello x");
  send_ok (x, to_y, PX, "msg-x1", "hi");
  expect_send (y, PY, to_x, "msg-x1", "hi");
  RUN_UNTIL (
      logtap_count ("message_relayed", "\"outcome\":\"delivered\"", NULL) == 2,
      3000);
  assert_info (p.r, p.ux, TRUE, 1, 2, 1, 7);
  assert_info (p.r, p.uy, TRUE, 1, 7, 1, 2);
  pre_clear (&p);
}
END_TEST

/* A passive party over an adopted connection (an ICE-TCP pair, which is
 * the connection whichever side opened it): the gateway binds it with its
 * empty SEND on that connection, From-Path the peer's path as X was given
 * it; then Y's message reaches X over it.  A connection the relay does
 * not have, or a session bound already, is refused. */
START_TEST (test_bind_adopted)
{
  Pre p = { 0 };
  g_autoptr (Client) x = NULL;
  g_autoptr (Client) y = NULL;
  g_autoptr (NetConn) gw = NULL;
  g_autoptr (Frame) bind = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *to_x = NULL, *to_y = NULL;
  Done done = { 0 };

  pre_init (&p, NULL, PX, PY, TRUE);
  to_x = g_strdup_printf ("%s %s", p.ux_text, PX);
  to_y = g_strdup_printf ("%s %s", p.uy_text, PY);
  gw = stream_pair (&x, "198.51.100.7:50000", "203.0.113.1:50001");
  x->answer_sends = TRUE;
  /* Not adopted yet: not the relay's. */
  ck_assert (
      !gw_relay_bind_session (p.r->relay, p.ux, gw, on_done, &done, &error));
  ck_assert_msg (strstr (error->message, "not one of the relay's"), "%s",
                 error->message);
  g_clear_error (&error);
  ck_assert (gw_relay_adopt_connection (p.r->relay, gw, MSRP_SCHEME_MSRP, NULL,
                                        &error));
  ck_assert_msg (
      gw_relay_bind_session (p.r->relay, p.ux, gw, on_done, &done, &error),
      "%s", error ? error->message : "");
  ck_assert (
      !gw_relay_bind_session (p.r->relay, p.ux, gw, on_done, &done, &error));
  ck_assert_msg (strstr (error->message, "being connected already"), "%s",
                 error->message);
  g_clear_error (&error);
  ck_assert_uint_eq (done.calls, 0);
  bind = client_frame (x, 3000);
  ck_assert_str_eq (msrp_head_get_method (bind->head), "SEND");
  ck_assert_str_eq (hdr (bind, MSRP_HEADER_TO_PATH), PX);
  ck_assert_str_eq (hdr (bind, MSRP_HEADER_FROM_PATH), to_y);
  ck_assert_uint_eq (bind->body_len, 0);
  RUN_UNTIL (done.calls == 1, 3000);
  ck_assert_msg (done.ok, "%s", done.detail);
  ck_assert_uint_eq (logtap_count ("session_bound", "\"party\":\"" PX "\"",
                                   "\"peer\":\"198.51.100.7:50000\"", NULL),
                     1);
  y = client_connect ("y", p.r->port);
  send_ok (y, to_x, PY, "msg-y1", "hello x");
  expect_send (x, PX, to_y, "msg-y1", "hello x");
  g_free (done.detail);
  pre_clear (&p);
}
END_TEST

/* The parties connect in no set order: X's message toward Y, who has not
 * connected yet, is held (and X not read) until Y binds, then delivered;
 * one held longer than report-timeout (1 s here) gets 481. */
START_TEST (test_preauth_party_late)
{
  Pre p = { 0 };
  g_autoptr (Client) x = NULL;
  g_autoptr (Client) y = NULL;
  g_autofree char *to_x = NULL;
  g_autofree char *to_y = NULL;
  g_autofree char *b1 = NULL;
  g_autofree char *b2 = NULL;
  g_autofree char *m1 = NULL;
  g_autofree char *m2 = NULL;
  g_autofree char *t1 = next_tid ();
  g_autofree char *t2 = next_tid ();
  g_autofree char *t3 = next_tid ();
  g_autoptr (Frame) f1 = NULL;
  g_autoptr (Frame) f3 = NULL;
  g_autoptr (Frame) f4 = NULL;
  GwRelayStats st;

  pre_init (&p, NULL, PX, PY, TRUE);
  to_x = g_strdup_printf ("%s %s", p.ux_text, PX);
  to_y = g_strdup_printf ("%s %s", p.uy_text, PY);
  x = client_connect ("x", p.r->port);
  x->answer_sends = TRUE;
  b1 = empty_send (t1, to_y, PX);
  client_send (x, b1);
  f1 = client_frame (x, 3000);
  assert_response (f1, t1, 200);
  m1 = send_text (t2, to_y, PX, "early", NULL, "before you came");
  client_send (x, m1);
  testloop_run_for (300);
  ck_assert_uint_eq (g_queue_get_length (&x->frames), 0);
  gw_relay_get_stats (p.r->relay, &st);
  ck_assert_uint_eq (st.frames_waiting, 1);

  y = client_connect ("y", p.r->port);
  y->answer_sends = TRUE;
  b2 = empty_send (t3, to_x, PY);
  client_send (y, b2);
  /* Y's binding SEND gets its 200 and goes on to X (bound); X's held
   * message reaches Y and X gets its 200: two frames each, in either
   * order. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (Frame) fy = client_frame (y, 3000);
      g_autoptr (Frame) fx = client_frame (x, 3000);

      if (msrp_head_is_request (fy->head))
        {
          ck_assert_str_eq (hdr (fy, MSRP_HEADER_MESSAGE_ID), "early");
          ck_assert_uint_eq (fy->body_len, 15);
        }
      else
        {
          assert_response (fy, t3, 200);
        }
      if (msrp_head_is_request (fx->head))
        ck_assert_str_eq (hdr (fx, MSRP_HEADER_FROM_PATH), to_y);
      else
        assert_response (fx, t2, 200);
    }
  RUN_UNTIL (logtap_count ("message_relayed", "\"message_id\":\"early\"",
                           "\"outcome\":\"delivered\"", NULL) == 1,
             3000);
  assert_info (p.r, p.ux, TRUE, 1, 15, 1, 0);
  pre_clear (&p);
  g_clear_pointer (&x, client_free);
  g_clear_pointer (&y, client_free);

  /* Nobody comes: 481 after report-timeout. */
  pre_init (&p, NULL, PX, PY, TRUE);
  x = client_connect ("x2", p.r->port);
  {
    g_autofree char *tb = next_tid ();
    g_autofree char *tm = next_tid ();
    g_autofree char *bind2 = NULL;
    g_autofree char *to_y2 = g_strdup_printf ("%s %s", p.uy_text, PY);

    bind2 = empty_send (tb, to_y2, PX);
    client_send (x, bind2);
    f3 = client_frame (x, 3000);
    assert_response (f3, tb, 200);
    m2 = send_text (tm, to_y2, PX, "lonely", NULL, "anyone?");
    client_send (x, m2);
    f4 = client_frame (x, 3000);
    assert_response (f4, tm, 481);
  }
  pre_clear (&p);
}
END_TEST

/* An answerer that answered active may connect before the proxy hands
 * its answer to the negotiator: its binding SEND toward the offerer's
 * session, not paired yet, is held (no answer, not read on) until the
 * pairing, then binds it and gets its 200. */
START_TEST (test_preauth_answerer_early)
{
  Pre p = { 0 };
  g_autoptr (Client) y = NULL;
  g_autoptr (Frame) ok = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *to_x = NULL;
  g_autofree char *bind_send = NULL;
  g_autofree char *t = next_tid ();

  pre_init (&p, NULL, PX, PY, FALSE);
  to_x = g_strdup_printf ("%s %s", p.ux_text, PX);
  y = client_connect ("y", p.r->port);
  bind_send = empty_send (t, to_x, PY);
  client_send (y, bind_send);
  testloop_run_for (300);
  ck_assert_uint_eq (g_queue_get_length (&y->frames), 0);
  ck_assert_uint_eq (logtap_count ("session_bound", NULL), 0);
  ck_assert (gw_relay_pair_sessions (p.r->relay, p.ux, p.uy, &error));
  ok = client_frame (y, 3000);
  assert_response (ok, t, 200);
  RUN_UNTIL (logtap_count ("session_bound", "\"party\":\"" PY "\"",
                           "\"direction\":\"inbound\"", NULL) == 1,
             3000);
  assert_info (p.r, p.uy, TRUE, 0, 0, 0, 0);
  pre_clear (&p);
}
END_TEST

START_TEST (test_preauth_both_active)
{
  Pre p = { 0 };
  g_autoptr (Client) x = NULL;
  g_autoptr (Client) y = NULL;
  g_autofree char *to_x = NULL;
  g_autofree char *to_y = NULL;
  g_autofree char *bind = NULL;
  g_autofree char *t1 = next_tid ();
  g_autofree char *c1 = next_tid ();
  g_autofree char *c2 = next_tid ();
  g_autofree char *chunks = NULL;
  g_autoptr (Frame) ok = NULL;
  g_autoptr (Frame) ok1 = NULL;
  g_autoptr (Frame) ok2 = NULL;
  g_autoptr (Frame) g1 = NULL;
  g_autoptr (Frame) g2 = NULL;

  pre_init (&p, NULL, PX, PY, TRUE);
  to_x = g_strdup_printf ("%s %s", p.ux_text, PX);
  to_y = g_strdup_printf ("%s %s", p.uy_text, PY);
  x = client_connect ("x", p.r->port);
  y = client_connect ("y", p.r->port);
  x->answer_sends = TRUE;
  y->answer_sends = TRUE;

  /* X binds; Y is not there yet: 200, nothing relayed, nothing counted. */
  bind = empty_send (t1, to_y, PX);
  client_send (x, bind);
  ok = client_frame (x, 3000);
  assert_response (ok, t1, 200);
  RUN_UNTIL (logtap_count ("session_bound", "\"direction\":\"inbound\"",
                           "\"party\":\"" PX "\"",
                           "\"peer\":\"127.0.0.1:", NULL) == 1,
             3000);
  assert_info (p.r, p.ux, TRUE, 0, 0, 0, 0);
  assert_info (p.r, p.uy, FALSE, 0, 0, 0, 0);

  /* Y's first SEND binds Y and reaches X; X sees Y's path as it was given
   * in SDP: Y's session, then Y. */
  send_ok (y, to_x, PY, "msg-y1", "hello x");
  expect_send (x, PX, to_y, "msg-y1", "hello x");
  /* X to Y: one message, then one in two chunks (3 + 4 bytes). */
  send_ok (x, to_y, PX, "msg-x1", "hi");
  expect_send (y, PY, to_x, "msg-x1", "hi");
  chunks = g_strdup_printf (
      "MSRP %s SEND\r\nTo-Path: %s\r\nFrom-Path: %s\r\nMessage-ID: msg-x2\r\n"
      "Byte-Range: 1-3/7\r\nContent-Type: text/plain\r\n\r\nabc\r\n"
      "-------%s+\r\n"
      "MSRP %s SEND\r\nTo-Path: %s\r\nFrom-Path: %s\r\nMessage-ID: msg-x2\r\n"
      "Byte-Range: 4-7/7\r\nContent-Type: text/plain\r\n\r\ndefg\r\n"
      "-------%s$\r\n",
      c1, to_y, PX, c1, c2, to_y, PX, c2);
  client_send (x, chunks);
  ok1 = client_frame (x, 3000);
  assert_response (ok1, c1, 200);
  ok2 = client_frame (x, 3000);
  assert_response (ok2, c2, 200);
  g1 = client_frame (y, 3000);
  g2 = client_frame (y, 3000);
  ck_assert_int_eq (g1->flag, '+');
  ck_assert_int_eq (g2->flag, '$');
  ck_assert_uint_eq (g1->body_len + g2->body_len, 7);
  RUN_UNTIL (logtap_count ("message_relayed", "\"call_id\":\"call-1\"",
                           "\"outcome\":\"delivered\"", NULL) == 3,
             3000);

  assert_info (p.r, p.ux, TRUE, 2, 9, 1, 7);
  assert_info (p.r, p.uy, TRUE, 1, 7, 2, 9);

  gw_relay_close_session (p.r->relay, p.ux, "call deleted");
  ck_assert_uint_eq (logtap_count ("session_closed", "\"call_id\":\"call-1\"",
                                   "\"party\":\"" PX "\"",
                                   "\"messages_from\":2", "\"bytes_from\":9",
                                   "\"messages_to\":1", "\"bytes_to\":7",
                                   "\"reason\":\"call deleted\"", NULL),
                     1);
  {
    GwRelaySessionInfo info;

    ck_assert (!gw_relay_get_session_info (p.r->relay, p.ux, &info));
  }
  client_wait_eof (x, 3000);
  RUN_UNTIL (logtap_count ("connection_closed",
                           "\"reason\":\"session_closed\"", NULL) == 1,
             3000);
  /* Y's connection is Y's session's: open still. */
  testloop_run_for (100);
  ck_assert (!y->eof);
  /* Y toward X now: its session is gone; Y's own is unpaired. */
  {
    g_autofree char *t = next_tid ();
    g_autofree char *text = send_text (t, to_x, PY, "late", NULL, "late");
    g_autoptr (Frame) f = NULL;

    client_send (y, text);
    f = client_frame (y, 3000);
    assert_response (f, t, 481);
  }
  gw_relay_close_session (p.r->relay, p.uy, "call deleted");
  client_wait_eof (y, 3000);
  pre_clear (&p);
}
END_TEST

/* @cl binds with a bodiless SEND to @to from @from, which gets its 200. */
static void
bind_ok (Client *cl, const char *to, const char *from)
{
  g_autofree char *t = next_tid ();
  g_autofree char *b = empty_send (t, to, from);
  g_autoptr (Frame) ok = NULL;

  client_send (cl, b);
  ok = client_frame (cl, 3000);
  assert_response (ok, t, 200);
}

/* A forked call (gw_relay_pair_branch()): X's one session is shared by the
 * sessions of two answerers, Y and Z, each of which binds by its SEND
 * toward X; W, whose answer is not paired yet, is held until it is.  X's
 * first request toward Z chooses Z: Y and W are unpaired, Y's request
 * toward X gets 403, X's toward Y waits for nobody (481), and Z's reaches X
 * with Z's path (its responses name Z's session). */
START_TEST (test_preauth_branches)
{
  Pre p = { 0 };
  g_autoptr (MsrpUri) pz = uri (PZ);
  g_autoptr (MsrpUri) pw = uri (PW);
  g_autoptr (MsrpUri) uz = NULL;
  g_autoptr (MsrpUri) uw = NULL;
  g_autoptr (MsrpUri) uy2 = NULL;
  g_autoptr (Client) x = NULL, y = NULL, z = NULL, w = NULL;
  g_autoptr (Frame) held = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *to_x = NULL, *to_y = NULL, *to_z = NULL;
  g_autofree char *via_z = NULL;
  GwRelaySessionInfo info;

  pre_init (&p, NULL, PX, PY, FALSE);
  uz = preauth (p.r, pz, "call-1");
  uw = preauth (p.r, pw, "call-1");
  uy2 = preauth (p.r, p.py, "call-1");
  to_x = g_strdup_printf ("%s %s", p.ux_text, PX);
  to_y = g_strdup_printf ("%s %s", p.uy_text, PY);
  to_z = g_strdup_printf ("%s %s", msrp_uri_get_text (uz), PZ);
  ck_assert (gw_relay_pair_branch (p.r->relay, p.ux, p.uy, &error));
  ck_assert (gw_relay_pair_branch (p.r->relay, p.ux, uz, &error));
  ck_assert_uint_eq (logtap_count ("session_paired", "\"branches\":2", NULL),
                     1);
  /* Refused: a branch twice, one party in two branches, a shared session
   * paired 1:1, a branch sharing. */
  ck_assert (!gw_relay_pair_branch (p.r->relay, p.ux, uz, &error));
  ck_assert_msg (strstr (error->message, "already paired"), "%s",
                 error->message);
  g_clear_error (&error);
  ck_assert (!gw_relay_pair_branch (p.r->relay, p.ux, uy2, &error));
  ck_assert_msg (strstr (error->message, "already has a branch for " PY), "%s",
                 error->message);
  g_clear_error (&error);
  ck_assert (!gw_relay_pair_sessions (p.r->relay, p.ux, uw, &error));
  g_clear_error (&error);
  ck_assert (!gw_relay_pair_branch (p.r->relay, p.uy, uw, &error));
  g_clear_error (&error);

  /* Each answerer binds its own session by its SEND toward X. */
  y = client_connect ("y", p.r->port);
  z = client_connect ("z", p.r->port);
  x = client_connect ("x", p.r->port);
  x->answer_sends = TRUE;
  z->answer_sends = TRUE;
  bind_ok (y, to_x, PY);
  bind_ok (z, to_x, PZ);
  RUN_UNTIL (logtap_count ("session_bound", NULL) == 2, 3000);
  assert_info (p.r, p.uy, TRUE, 0, 0, 0, 0);
  assert_info (p.r, uz, TRUE, 0, 0, 0, 0);
  /* W's answer has not been paired: held, until it is. */
  w = client_connect ("w", p.r->port);
  {
    g_autofree char *t = next_tid ();
    g_autofree char *b = empty_send (t, to_x, PW);

    client_send (w, b);
    testloop_run_for (300);
    ck_assert_uint_eq (g_queue_get_length (&w->frames), 0);
    ck_assert (gw_relay_pair_branch (p.r->relay, p.ux, uw, &error));
    held = client_frame (w, 3000);
    assert_response (held, t, 200);
  }

  /* X binds toward Z: Z is chosen, Y and W unpaired. */
  bind_ok (x, to_z, PX);
  {
    g_autoptr (Frame) f = client_frame (z, 3000);

    ck_assert_str_eq (msrp_head_get_method (f->head), "SEND");
    ck_assert_str_eq (hdr (f, MSRP_HEADER_FROM_PATH), to_x);
  }
  ck_assert_uint_eq (logtap_count ("session_unpaired", NULL), 2);
  ck_assert_uint_eq (
      logtap_count ("session_unpaired", "\"call_id\":\"call-1\"",
                    "its party chose the branch of session", NULL),
      2);
  ck_assert (gw_relay_get_session_info (p.r->relay, p.uy, &info));
  ck_assert (!info.paired && info.bound);
  ck_assert (gw_relay_get_session_info (p.r->relay, uz, &info));
  ck_assert (info.paired);
  ck_assert (gw_relay_get_session_info (p.r->relay, p.ux, &info));
  ck_assert (info.paired);

  /* Z and X talk; X's response carries Z's path. */
  via_z = g_strdup_printf ("%s %s", msrp_uri_get_text (uz), PZ);
  send_ok (z, to_x, PZ, "zmsg1", "hi x");
  expect_send (x, PX, via_z, "zmsg1", "hi x");
  {
    g_autofree char *t = next_tid ();
    g_autofree char *text = send_text (t, to_z, PX, "xmsg1", NULL, "hi z");
    g_autoptr (Frame) ok = NULL;

    client_send (x, text);
    expect_send (z, PZ, to_x, "xmsg1", "hi z");
    ok = client_frame (x, 3000);
    assert_response (ok, t, 200);
    /* A hop's response names the hop (RFC 4975 section 7.2): Z's
     * session, not another branch's. */
    ck_assert_str_eq (hdr (ok, MSRP_HEADER_FROM_PATH), msrp_uri_get_text (uz));
  }
  /* Y, not chosen, cannot reach X; X toward Y waits for nobody. */
  {
    g_autofree char *t = next_tid ();
    g_autofree char *text = send_text (t, to_x, PY, "ymsg1", NULL, "me too");
    g_autoptr (Frame) f = NULL;

    client_send (y, text);
    f = client_frame (y, 3000);
    assert_response (f, t, 403);
  }
  {
    g_autofree char *t = next_tid ();
    g_autofree char *text = send_text (t, to_y, PX, "xmsg2", NULL, "y?");
    g_autoptr (Frame) f = NULL;

    client_send (x, text);
    f = client_frame (x, 3000);
    assert_response (f, t, 481);
  }
  client_no_frame (x, 200);
  /* Closing Z's session leaves X unpaired. */
  gw_relay_close_session (p.r->relay, uz, "branch deleted");
  ck_assert (gw_relay_get_session_info (p.r->relay, p.ux, &info));
  ck_assert (!info.paired);
  pre_clear (&p);
}
END_TEST

/* The gateway connects to the passive party of a shared session: its
 * binding SEND speaks for the branch paired last (Z), or for a branch
 * still paired that answered again since (Y's 200 after Z's 183,
 * gw_relay_branch_answered(), which refuses a session that is no branch
 * of the shared one). */
START_TEST (test_preauth_branch_connect)
{
  gboolean y_again = _i == 1;
  Pre p = { 0 };
  g_autoptr (Server) srv = server_new ();
  g_autoptr (MsrpUri) pz = uri (PZ);
  g_autoptr (MsrpUri) uz = NULL;
  g_autoptr (Frame) bind = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *px =
      g_strdup_printf ("msrp://127.0.0.1:%u/xx;tcp", srv->port);
  g_autofree char *via = NULL;
  Done done = { 0 };

  srv->answer_sends = TRUE;
  pre_init (&p, NULL, px, PY, FALSE);
  uz = preauth (p.r, pz, "call-1");
  ck_assert (gw_relay_pair_branch (p.r->relay, p.ux, p.uy, &error));
  ck_assert (gw_relay_pair_branch (p.r->relay, p.ux, uz, &error));
  if (y_again)
    {
      ck_assert (gw_relay_branch_answered (p.r->relay, p.ux, p.uy));
      ck_assert (!gw_relay_branch_answered (p.r->relay, p.uy, uz));
      ck_assert (!gw_relay_branch_answered (p.r->relay, p.ux, p.ux));
      via = g_strdup_printf ("%s %s", p.uy_text, PY);
    }
  else
    via = g_strdup_printf ("%s %s", msrp_uri_get_text (uz), PZ);
  ck_assert_msg (
      gw_relay_connect_session (p.r->relay, p.ux, on_done, &done, &error),
      "%s", error ? error->message : "");
  RUN_UNTIL (srv->clients->len == 1, 3000);
  bind = client_frame (srv->clients->pdata[0], 3000);
  ck_assert_str_eq (hdr (bind, MSRP_HEADER_TO_PATH), px);
  ck_assert_str_eq (hdr (bind, MSRP_HEADER_FROM_PATH), via);
  RUN_UNTIL (done.calls == 1, 3000);
  ck_assert_msg (done.ok, "%s", done.detail);
  g_free (done.detail);
  pre_clear (&p);
}
END_TEST

/* Y is passive and reachable: the gateway connects to it and binds with an
 * empty SEND; then X (active) binds, and messages pass both ways. */
START_TEST (test_preauth_gateway_connects)
{
  Pre p = { 0 };
  g_autoptr (Server) srv = server_new ();
  g_autoptr (Client) x = NULL;
  g_autoptr (Frame) bind = NULL;
  g_autofree char *py =
      g_strdup_printf ("msrp://127.0.0.1:%u/yy;tcp", srv->port);
  g_autofree char *to_x = NULL;
  g_autofree char *to_y = NULL;
  g_autoptr (GError) error = NULL;
  Done done = { 0 };
  Client *y;

  srv->answer_sends = TRUE;
  pre_init (&p, NULL, PX, py, TRUE);
  to_x = g_strdup_printf ("%s %s", p.ux_text, PX);
  to_y = g_strdup_printf ("%s %s", p.uy_text, py);
  ck_assert_msg (
      gw_relay_connect_session (p.r->relay, p.uy, on_done, &done, &error),
      "%s", error ? error->message : "");
  /* Never from inside the call. */
  ck_assert_uint_eq (done.calls, 0);
  assert_info (p.r, p.uy, TRUE, 0, 0, 0, 0);
  RUN_UNTIL (srv->clients->len == 1, 3000);
  y = srv->clients->pdata[0];
  /* RFC 6135 section 4.2.2: the binding SEND; From-Path is X's path as Y
   * was given it. */
  bind = client_frame (y, 3000);
  ck_assert_str_eq (msrp_head_get_method (bind->head), "SEND");
  ck_assert_str_eq (hdr (bind, MSRP_HEADER_TO_PATH), py);
  ck_assert_str_eq (hdr (bind, MSRP_HEADER_FROM_PATH), to_x);
  ck_assert_str_eq (hdr (bind, MSRP_HEADER_BYTE_RANGE), "1-0/0");
  ck_assert_str_eq (hdr (bind, MSRP_HEADER_FAILURE_REPORT), "yes");
  ck_assert_ptr_nonnull (hdr (bind, MSRP_HEADER_MESSAGE_ID));
  ck_assert_uint_eq (bind->body_len, 0);
  RUN_UNTIL (done.calls == 1, 3000);
  ck_assert_msg (done.ok, "%s", done.detail);
  ck_assert_uint_eq (
      logtap_count ("session_bound", "\"direction\":\"outbound\"",
                    "\"call_id\":\"call-1\"", "\"peer\":\"127.0.0.1:", NULL),
      1);
  ck_assert_uint_eq (logtap_count ("session_bound", "\"conn\":0,", NULL), 0);
  ck_assert_uint_eq (logtap_count ("session_connected", NULL), 1);

  /* X connects and sends: bound, and relayed to Y on the gateway's
   * connection. */
  x = client_connect ("x", p.r->port);
  x->answer_sends = TRUE;
  send_ok (x, to_y, PX, "msg-x1", "to y");
  expect_send (y, py, to_x, "msg-x1", "to y");
  /* Y's request on that connection is routed by its To-Path. */
  {
    g_autofree char *t = next_tid ();
    g_autofree char *text =
        send_text (t, to_x, py, "msg-y1", NULL, "back to x");
    g_autoptr (Frame) ok = NULL;

    client_send (y, text);
    expect_send (x, PX, to_y, "msg-y1", "back to x");
    ok = client_frame (y, 3000);
    assert_response (ok, t, 200);
  }
  RUN_UNTIL (
      logtap_count ("message_relayed", "\"outcome\":\"delivered\"", NULL) == 2,
      3000);
  assert_info (p.r, p.ux, TRUE, 1, 4, 1, 9);
  assert_info (p.r, p.uy, TRUE, 1, 9, 1, 4);
  ck_assert_uint_eq (logtap_count ("session_bound", NULL), 2);

  gw_relay_close_session (p.r->relay, p.uy, "call deleted");
  client_wait_eof (y, 3000);
  ck_assert_uint_eq (logtap_count ("session_closed", "\"messages_from\":1",
                                   "\"bytes_from\":9", "\"messages_to\":1",
                                   "\"bytes_to\":4", NULL),
                     1);
  ck_assert_uint_eq (done.calls, 1);
  g_free (done.detail);
  pre_clear (&p);
}
END_TEST

/* The gateway's connect to Y fails: done (ok FALSE) once, Y's session is
 * unbound again, and Y can still bind by connecting itself. */
typedef enum
{
  FAIL_REFUSED,  /* nobody listens */
  FAIL_RESPONSE, /* Y answers the binding SEND 403 */
  FAIL_SILENT,   /* Y never answers (report-timeout 1 s) */
  FAIL_CLOSED,   /* the session is closed first */
} FailMode;

static const struct
{
  FailMode mode;
  const char *detail;
  GwRelayConnectResult result;
} connect_fail_cases[] = {
  { FAIL_REFUSED, "refused", GW_RELAY_CONNECT_REFUSED },
  { FAIL_RESPONSE, "403 go away", GW_RELAY_CONNECT_BIND_FAILED },
  { FAIL_SILENT, "report-timeout", GW_RELAY_CONNECT_BIND_FAILED },
  { FAIL_CLOSED, "session closed", GW_RELAY_CONNECT_CANCELLED },
};

START_TEST (test_preauth_connect_fails)
{
  FailMode mode = connect_fail_cases[_i].mode;
  Pre p = { 0 };
  g_autoptr (Server) srv = server_new ();
  g_autoptr (Client) x = NULL;
  g_autoptr (Client) y2 = NULL;
  g_autofree char *py = NULL;
  g_autofree char *to_x = NULL;
  g_autofree char *to_y = NULL;
  Done done = { 0 };
  Client *y = NULL;

  if (mode == FAIL_REFUSED)
    g_clear_pointer (&srv, server_free);
  py = g_strdup_printf ("msrp://127.0.0.1:%u/yy;tcp",
                        srv != NULL ? srv->port : dead_port ());
  pre_init (&p, NULL, PX, py, TRUE);
  to_x = g_strdup_printf ("%s %s", p.ux_text, PX);
  to_y = g_strdup_printf ("%s %s", p.uy_text, py);
  ck_assert (
      gw_relay_connect_session (p.r->relay, p.uy, on_done, &done, NULL));
  ck_assert_uint_eq (done.calls, 0);
  if (srv != NULL)
    {
      g_autoptr (Frame) bind = NULL;

      RUN_UNTIL (srv->clients->len == 1, 3000);
      y = srv->clients->pdata[0];
      bind = client_frame (y, 3000);
      if (mode == FAIL_RESPONSE)
        {
          g_autofree char *resp = g_strdup_printf (
              "MSRP %s 403 go away\r\nTo-Path: %s\r\nFrom-Path: %s\r\n"
              "-------%s$\r\n",
              msrp_head_get_transaction_id (bind->head), p.ux_text, py,
              msrp_head_get_transaction_id (bind->head));

          client_send (y, resp);
        }
      else if (mode == FAIL_CLOSED)
        {
          gw_relay_close_session (p.r->relay, p.uy, "call deleted");
        }
    }
  RUN_UNTIL (done.calls == 1, 5000);
  ck_assert (!done.ok);
  ck_assert_int_eq (done.result, connect_fail_cases[_i].result);
  ck_assert_msg (done.detail != NULL &&
                     strstr (done.detail, connect_fail_cases[_i].detail) !=
                         NULL,
                 "detail: %s", done.detail);
  /* The caller handles the failure and logs it (issue 9: logged once,
   * where it is handled): the relay logs only the connection's end. */
  ck_assert_uint_eq (logtap_count ("session_connect_failed", NULL), 0);
  ck_assert_uint_ne (done.conn, 0);
  if (y != NULL)
    client_wait_eof (y, 3000); /* the gateway's connection is closed */
  testloop_run_for (100);
  ck_assert_uint_eq (done.calls, 1);
  if (mode == FAIL_CLOSED)
    {
      GwRelaySessionInfo info;

      ck_assert (!gw_relay_get_session_info (p.r->relay, p.uy, &info));
    }
  else
    {
      assert_info (p.r, p.uy, FALSE, 0, 0, 0, 0);
      ck_assert_uint_eq (logtap_count ("session_unbound", NULL), 1);
      /* Bindable later: Y connects to the gateway and sends first. */
      x = client_connect ("x", p.r->port);
      y2 = client_connect ("y", p.r->port);
      {
        g_autofree char *t = next_tid ();
        g_autofree char *text = empty_send (t, to_y, PX);
        g_autoptr (Frame) ok = NULL;

        client_send (x, text);
        ok = client_frame (x, 3000);
        assert_response (ok, t, 200);
      }
      send_ok (y2, to_x, py, "msg-y1", "hello x");
      expect_send (x, PX, to_y, "msg-y1", "hello x");
      ck_assert_uint_eq (
          logtap_count ("session_bound", "\"direction\":\"inbound\"", NULL),
          2);
      assert_info (p.r, p.uy, TRUE, 1, 7, 0, 0);
    }
  g_free (done.detail);
  pre_clear (&p);
}
END_TEST

/* Standing connections (README.md "Standing connections"): a call's
 * connections are never closed for idleness, and MSRP keep-alives keep a
 * party's NAT mapping when its call asks for them. */

/* X and Y of @p, both connected and bound by a bodiless SEND each (RFC
 * 6135 section 4.2.2): X's reaches nobody, Y's reaches X (consumed
 * here).  Both answer what they receive. */
static void
pre_bind_both (Pre *p, Client **x, Client **y)
{
  g_autofree char *tx = next_tid ();
  g_autofree char *ty = next_tid ();
  g_autofree char *bx = empty_send (tx, p->to_y, PX);
  g_autofree char *by = empty_send (ty, p->to_x, PY);
  g_autoptr (Frame) okx = NULL;
  g_autoptr (Frame) oky = NULL;
  g_autoptr (Frame) got = NULL;

  *x = client_connect ("x", p->r->port);
  *y = client_connect ("y", p->r->port);
  (*x)->answer_sends = TRUE;
  (*y)->answer_sends = TRUE;
  client_send (*x, bx);
  okx = client_frame (*x, 3000);
  assert_response (okx, tx, 200);
  client_send (*y, by);
  got = client_frame (*x, 3000);
  ck_assert_str_eq (msrp_head_get_method (got->head), "SEND");
  oky = client_frame (*y, 3000);
  assert_response (oky, ty, 200);
  RUN_UNTIL (logtap_count ("session_bound", "\"call_id\":\"call-1\"", NULL) ==
                 2,
             3000);
}

/* @f is an MSRP keep-alive toward X: a bodiless SEND (RFC 4975 section
 * 7.1) from Y's path as X was given it, with Failure-Report yes so that
 * it is answered. */
static void
assert_keepalive (Frame *f, const char *to_y)
{
  ck_assert (msrp_head_is_request (f->head));
  ck_assert_str_eq (msrp_head_get_method (f->head), "SEND");
  ck_assert_str_eq (hdr (f, MSRP_HEADER_TO_PATH), PX);
  ck_assert_str_eq (hdr (f, MSRP_HEADER_FROM_PATH), to_y);
  ck_assert_str_eq (hdr (f, MSRP_HEADER_BYTE_RANGE), "1-0/0");
  ck_assert_str_eq (hdr (f, MSRP_HEADER_FAILURE_REPORT), "yes");
  ck_assert_ptr_nonnull (hdr (f, MSRP_HEADER_MESSAGE_ID));
  ck_assert_ptr_null (hdr (f, MSRP_HEADER_CONTENT_TYPE));
  ck_assert_uint_eq (f->body_len, 0);
}

/* [limits] idle-timeout closes a connection of no call, never one bound
 * to a live call, inbound or the gateway's own to a listening party; and
 * without the flag no MSRP keep-alive is sent. */
START_TEST (test_keepalive_call_not_idle)
{
  Pre p = { 0 };
  g_autoptr (Server) srv = server_new ();
  g_autoptr (Client) x = NULL;
  g_autoptr (Client) a = NULL;
  g_autofree char *py =
      g_strdup_printf ("msrp://127.0.0.1:%u/yy;tcp", srv->port);
  g_autofree char *sa = NULL;
  g_autoptr (Frame) bind = NULL;
  Done done = { 0 };
  Client *y;
  gint64 start;

  srv->answer_sends = TRUE;
  pre_init (&p, "[limits]\nidle-timeout=60\n", PX, py, TRUE);
  ck_assert (
      gw_relay_connect_session (p.r->relay, p.uy, on_done, &done, NULL));
  RUN_UNTIL (srv->clients->len == 1, 3000);
  y = srv->clients->pdata[0];
  bind = client_frame (y, 3000);
  RUN_UNTIL (done.calls == 1, 3000);
  ck_assert_msg (done.ok, "%s", done.detail);
  x = client_connect ("x", p.r->port);
  x->answer_sends = TRUE;
  send_ok (x, p.to_y, PX, "msg-x1", "to y");
  expect_send (y, py, p.to_x, "msg-x1", "to y");
  /* Alice's connection belongs to no call. */
  a = client_connect ("alice", p.r->port);
  sa = auth (a, p.r, ALICE, "alice");
  start = testloop_now ();

  client_wait_eof (a, 70 * 1000);
  ck_assert_int_ge (testloop_now () - start, 60 * G_USEC_PER_SEC);
  RUN_UNTIL (logtap_count ("connection_closed", "\"reason\":\"idle\"", NULL) ==
                 1,
             3000);
  /* Ten idle timeouts later the call's two connections are there, silent
   * (no keep-alive was asked for), and carry the next message. */
  client_no_frame (x, 600 * 1000);
  ck_assert (g_queue_is_empty (&y->frames));
  ck_assert (!x->eof && !y->eof);
  ck_assert_uint_eq (logtap_count ("connection_closed", NULL), 1);
  send_ok (x, p.to_y, PX, "msg-x2", "still here");
  expect_send (y, py, p.to_x, "msg-x2", "still here");
  g_free (done.detail);
  pre_clear (&p);
}
END_TEST

/* The ng flag msrp-keepalive for X: a bodiless SEND to X after
 * msrp-interval (25 s) of silence on its connection, and only to X; any
 * answer (a 481 too) or any byte from X keeps it; none within
 * report-timeout (1 s here), and the connection is dead: closed like any
 * that ends, and X may bind again. */
START_TEST (test_keepalive_msrp)
{
  Pre p = { 0 };
  g_autoptr (Client) x = NULL;
  g_autoptr (Client) y = NULL;
  g_autoptr (Client) x2 = NULL;
  g_autoptr (Client) x3 = NULL;
  g_autofree char *via_relay = NULL;
  GwRelayStats st;
  gint64 last;

  pre_init (&p, "[keepalive]\nmsrp-interval=25\n", PX, PY, TRUE);
  gw_relay_set_session_keepalive (p.r->relay, p.ux, TRUE);
  pre_bind_both (&p, &x, &y);

  /* Ten minutes: one every 25 s of silence (X's answer is traffic, and
   * the silence starts again after it), 24 in all; Y asked for none. */
  last = testloop_now ();
  for (guint i = 0; i < 24; i++)
    {
      g_autoptr (Frame) f = client_frame (x, 30 * 1000);
      gint64 gap = testloop_now () - last;

      assert_keepalive (f, p.to_y);
      ck_assert_msg (gap >= 25 * G_USEC_PER_SEC && gap < 26 * G_USEC_PER_SEC,
                     "keep-alive %u after %" G_GINT64_FORMAT " us", i, gap);
      last = testloop_now ();
    }
  ck_assert (g_queue_is_empty (&y->frames));
  ck_assert (!x->eof);

  /* A message to X 10 s after a keep-alive: the next comes 25 s after
   * the message. */
  testloop_run_for (10 * 1000);
  send_ok (y, p.to_x, PY, "msg-y1", "hello x");
  expect_send (x, PX, p.to_y, "msg-y1", "hello x");
  last = testloop_now ();
  {
    g_autoptr (Frame) f = client_frame (x, 30 * 1000);

    assert_keepalive (f, p.to_y);
    ck_assert_int_ge (testloop_now () - last, 25 * G_USEC_PER_SEC);
  }

  /* A 481 answers it as well as a 200. */
  x->answer_sends = FALSE;
  {
    g_autoptr (Frame) f = client_frame (x, 30 * 1000);
    g_autofree char *no = g_strdup_printf (
        "MSRP %s 481 No session\r\nTo-Path: %s\r\nFrom-Path: %s\r\n"
        "-------%s$\r\n",
        msrp_head_get_transaction_id (f->head), p.uy_text, PX,
        msrp_head_get_transaction_id (f->head));

    assert_keepalive (f, p.to_y);
    client_send (x, no);
    testloop_run_for (5 * 1000);
    ck_assert (!x->eof);
  }
  /* So does a message from X instead of an answer. */
  {
    g_autoptr (Frame) f = client_frame (x, 30 * 1000);

    assert_keepalive (f, p.to_y);
    send_ok (x, p.to_y, PX, "msg-x1", "busy");
    expect_send (y, PY, p.to_x, "msg-x1", "busy");
    testloop_run_for (5 * 1000);
    ck_assert (!x->eof);
  }

  /* Nothing at all: dead once report-timeout has passed. */
  {
    g_autoptr (Frame) f = client_frame (x, 30 * 1000);

    assert_keepalive (f, p.to_y);
    last = testloop_now ();
    client_wait_eof (x, 3000);
    ck_assert_int_ge (testloop_now () - last, G_USEC_PER_SEC);
  }
  ck_assert_uint_eq (logtap_count ("connection_dead", "\"probe\":\"msrp\"",
                                   "\"call_id\":\"call-1\"",
                                   "\"party\":\"" PX "\"", NULL),
                     1);
  ck_assert_uint_eq (
      logtap_count ("connection_closed", "\"reason\":\"dead\"", NULL), 1);
  ck_assert_uint_eq (logtap_count ("session_unbound", "\"reason\":\"dead\"",
                                   "\"party\":\"" PX "\"", NULL),
                     1);
  gw_relay_get_stats (p.r->relay, &st);
  ck_assert_uint_eq (st.dead[GW_RELAY_PROBE_MSRP], 1);
  ck_assert_uint_eq (st.dead[GW_RELAY_PROBE_TCP], 0);
  ck_assert (!y->eof);

  /* X comes back on a new connection: bound, and kept alive there. */
  x2 = client_connect ("x2", p.r->port);
  x2->answer_sends = TRUE;
  send_ok (x2, p.to_y, PX, "msg-x2", "back");
  expect_send (y, PY, p.to_x, "msg-x2", "back");
  {
    g_autoptr (Frame) f = client_frame (x2, 30 * 1000);

    assert_keepalive (f, p.to_y);
  }
  /* Off again: none more. */
  gw_relay_set_session_keepalive (p.r->relay, p.ux, FALSE);
  client_no_frame (x2, 120 * 1000);

  /* On, and X comes back through a relay of its own (From-Path: the
   * relay, then X): its connection is the relay's, which would drop it at
   * a To-Path that does not start with its own URI (RFC 4976 section
   * 6.2); no MSRP keep-alive there. */
  gw_relay_set_session_keepalive (p.r->relay, p.ux, TRUE);
  client_close (x2);
  RUN_UNTIL (logtap_count ("session_unbound", "\"party\":\"" PX "\"", NULL) ==
                 2,
             3000);
  x3 = client_connect ("x-relay", p.r->port);
  x3->answer_sends = TRUE;
  send_ok (x3, p.to_y, "msrp://relay.example.net:2855/xr;tcp " PX, "msg-x3",
           "via my relay");
  via_relay = g_strdup_printf ("%s msrp://relay.example.net:2855/xr;tcp %s",
                               p.ux_text, PX);
  expect_send (y, PY, via_relay, "msg-x3", "via my relay");
  client_no_frame (x3, 120 * 1000);
  ck_assert (!x3->eof);
  pre_clear (&p);
}
END_TEST

START_TEST (test_connection_limits)
{
  g_autoptr (Relay) r = relay_new ("[limits]\nmax-connections=3\n"
                                   "max-connections-per-ip=2\n");
  g_autoptr (Client) c1 = client_connect ("c1", r->port);
  g_autoptr (Client) c2 = client_connect ("c2", r->port);
  g_autoptr (Client) c3 = NULL;

  RUN_UNTIL (logtap_count ("connection_accepted", NULL) == 2, 3000);
  c3 = client_connect ("c3", r->port);
  client_wait_eof (c3, 3000);
  ck_assert_uint_eq (logtap_count ("connection_refused",
                                   "\"limit\":\"max-connections-per-ip\"",
                                   NULL),
                     1);
  ck_assert (!c1->eof);
  ck_assert (!c2->eof);
  /* When one goes, another may come. */
  client_close (c1);
  RUN_UNTIL (logtap_count ("connection_closed", NULL) == 1, 3000);
  {
    g_autoptr (Client) c4 = client_connect ("c4", r->port);

    RUN_UNTIL (logtap_count ("connection_accepted", NULL) == 3, 3000);
    testloop_run_for (100);
    ck_assert (!c4->eof);
  }
}
END_TEST

/* [limits] first-request-timeout (issue 13, finding 5): a connection
 * that has not sent the head of a request within it is closed, one that
 * sent a start line and no more too; one that made a request (an AUTH
 * without credentials) waits for probation, which is another matter (no
 * successful request within 30 s). */
START_TEST (test_first_request_timeout)
{
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Client) silent = client_connect ("silent", r->port);
  g_autoptr (Client) partial = client_connect ("partial", r->port);
  g_autoptr (Client) asked = client_connect ("asked", r->port);
  g_autoptr (Client) a = client_connect ("alice", r->port);
  g_autofree char *t1 = next_tid ();
  g_autoptr (Frame) f = NULL;
  g_autofree char *sa = NULL;
  gint64 start = testloop_now ();

  client_send (partial, "MSRP slow0001 AUTH\r\nTo-Path: ");
  send_auth (asked, t1, r->uri, ALICE, NULL);
  f = client_frame (asked, 3000);
  assert_response (f, t1, 401);
  sa = auth (a, r, ALICE, "alice");
  client_wait_eof (silent, 10000);
  client_wait_eof (partial, 10000);
  ck_assert_int_ge (testloop_now () - start, 5 * G_USEC_PER_SEC);
  ck_assert_int_lt (testloop_now () - start, 6 * G_USEC_PER_SEC);
  ck_assert_uint_eq (logtap_count ("connection_closed",
                                   "\"reason\":\"first_request_timeout\"",
                                   NULL),
                     2);
  ck_assert (!asked->eof && !a->eof);
  /* Probation, not the first-request deadline, closes the one that
   * asked but never succeeded; Alice stays. */
  client_wait_eof (asked, 40000);
  ck_assert_int_ge (testloop_now () - start, 30 * G_USEC_PER_SEC);
  RUN_UNTIL (logtap_count ("connection_closed",
                           "\"reason\":\"probation_timeout\"", NULL) == 1,
             3000);
  ck_assert (!a->eof);
}
END_TEST

/* Near max-connections, a new connection evicts the oldest one that has
 * not sent a request, then the oldest still on probation, never one that
 * succeeded: a flood of silent connections cannot lock out a client
 * (issue 13, finding 5).  With nothing to evict, max-connections refuses. */
START_TEST (test_evict_for_new)
{
  g_autoptr (Relay) r = relay_new ("probation=3600\n[limits]\n"
                                   "max-connections=4\n"
                                   "max-connections-per-ip=4\n"
                                   "first-request-timeout=3600\n");
  g_autoptr (Client) a = client_connect ("alice", r->port);
  g_autofree char *sa = auth (a, r, ALICE, "alice");
  g_autoptr (Client) asked = client_connect ("asked", r->port);
  g_autofree char *t1 = next_tid ();
  g_autoptr (Frame) f = NULL;
  Client *silent[3] = { NULL };
  Client *x[5] = { NULL };
  g_autofree char *t2 = next_tid ();
  g_autoptr (Client) b = NULL;
  g_autoptr (Client) c = NULL;
  g_autofree char *sb = NULL;

  ck_assert_ptr_nonnull (sa);
  send_auth (asked, t1, r->uri, ALICE, NULL);
  f = client_frame (asked, 3000);
  assert_response (f, t1, 401);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *source = g_strdup_printf ("192.0.2.%u", i + 1);

      silent[i] = client_connect_from ("silent", r->port, source);
      testloop_run_for (10);
    }
  RUN_UNTIL (logtap_count ("connection_accepted", NULL) == 4, 3000);
  /* Full: Bob gets in, the oldest silent connection makes room. */
  b = client_connect ("bob", r->port);
  sb = auth (b, r, BOB, "bob");
  ck_assert_ptr_nonnull (sb);
  client_wait_eof (silent[0], 3000);
  ck_assert (!silent[1]->eof && !asked->eof && !a->eof);
  ck_assert_uint_eq (logtap_count ("connection_closed",
                                   "\"reason\":\"evicted\"",
                                   "\"peer\":\"192.0.2.1:", NULL),
                     1);
  /* Then the next silent one, even for a newcomer that will speak. */
  silent[2] = client_connect_from ("silent", r->port, "192.0.2.3");
  client_wait_eof (silent[1], 3000);
  c = client_connect_from ("carol", r->port, "198.51.100.1");
  client_wait_eof (silent[2], 3000);
  send_auth (c, t2, r->uri, "msrp://carol.invalid:1/c;tcp", NULL);
  g_clear_pointer (&f, frame_free);
  f = client_frame (c, 3000);
  assert_response (f, t2, 401);
  /* No silent one left: the oldest on probation goes, the one that
   * asked before carol did. */
  x[0] = client_connect_from ("x", r->port, "203.0.113.1");
  client_wait_eof (asked, 3000);
  ck_assert (!c->eof);
  /* The newest silent ones make room for each other; those that
   * succeeded stay whatever comes, and nobody is refused. */
  for (guint i = 1; i < G_N_ELEMENTS (x); i++)
    {
      g_autofree char *source = g_strdup_printf ("203.0.113.%u", i + 1);

      x[i] = client_connect_from ("x", r->port, source);
      client_wait_eof (x[i - 1], 3000);
    }
  ck_assert (!a->eof && !b->eof && !c->eof && !x[G_N_ELEMENTS (x) - 1]->eof);
  ck_assert_uint_eq (logtap_count ("connection_refused", NULL), 0);
  ck_assert_uint_eq (
      logtap_count ("connection_closed", "\"reason\":\"evicted\"", NULL), 8);
  for (guint i = 0; i < G_N_ELEMENTS (silent); i++)
    client_free (silent[i]);
  for (guint i = 0; i < G_N_ELEMENTS (x); i++)
    client_free (x[i]);
}
END_TEST

/* Nothing to evict: every slot holds a connection that succeeded. */
START_TEST (test_evict_none)
{
  g_autoptr (Relay) r = relay_new ("[limits]\nmax-connections=2\n"
                                   "max-connections-per-ip=2\n");
  g_autoptr (Client) a = client_connect ("alice", r->port);
  g_autoptr (Client) b = client_connect ("bob", r->port);
  g_autofree char *sa = auth (a, r, ALICE, "alice");
  g_autofree char *sb = auth (b, r, BOB, "bob");
  g_autoptr (Client) c = NULL;

  ck_assert (sa != NULL && sb != NULL);
  c = client_connect_from ("late", r->port, "192.0.2.9");
  client_wait_eof (c, 3000);
  ck_assert_uint_eq (logtap_count ("connection_refused",
                                   "\"limit\":\"max-connections\"", NULL),
                     1);
  ck_assert (!a->eof && !b->eof);
}
END_TEST

/* --- TLS between relays ----------------------------------------------------
 */

/* The throwaway PKI is made once for the TLS test case, by an unchecked
 * fixture (in the runner, before the tests fork): gen-test-certs.sh costs
 * more wall time than any TLS test.  A fixture that fails would take the
 * runner down with it, so it records the failure and each test reports it
 * (certs_check()). */
static char *cert_dir;
static gboolean certs_made;

static void
make_certs (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *cmd = NULL;
  int status = 0;

  cert_dir = g_dir_make_tmp ("test-gw-relay-XXXXXX", &error);
  if (cert_dir == NULL)
    return;
  cmd = g_strdup_printf ("sh %s %s", GEN_CERTS, cert_dir);
  certs_made = g_spawn_command_line_sync (cmd, NULL, NULL, &status, &error) &&
               status == 0;
}

static void
certs_check (void)
{
  ck_assert_ptr_nonnull (cert_dir);
  ck_assert_msg (certs_made, "gen-test-certs.sh failed");
}

static void
remove_certs (void)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (cert_dir == NULL)
    return;
  dir = g_dir_open (cert_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (cert_dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (cert_dir);
  g_clear_pointer (&cert_dir, g_free);
}

static NetTls *
make_tls (const char *who, NetTlsPeerVerify verify)
{
  g_autofree char *cert = g_strdup_printf ("%s/%s.pem", cert_dir, who);
  g_autofree char *key = g_strdup_printf ("%s/%s.key", cert_dir, who);
  g_autofree char *ca = g_strdup_printf ("%s/ca.pem", cert_dir);
  NetTlsSettings settings = { cert, key, ca, verify };
  g_autoptr (GError) error = NULL;
  NetTls *tls = net_tls_new (&settings, &error);

  ck_assert_msg (tls != NULL, "net_tls_new: %s", error ? error->message : "");
  return tls;
}

/* Alice behind relay 1, which reaches relay 2 over mutual TLS (RFC 4976
 * sections 6.1, 6.3 and 9.2); Bob is relay 2's client.  Alice's second
 * AUTH goes through relay 1 to relay 2 (section 5.1), whose Digest
 * challenge comes back the same way; her session there is a relay
 * session, valid on any connection to relay 1. */
static const struct
{
  const char *cert; /* what relay 1 presents to relay 2 */
  const char *kind; /* the session relay 2 grants Alice */
} tls_cases[] = {
  /* SAN IP:127.0.0.1, the host of relay 1's From-Path URI: a relay. */
  { "server", "relay" },
  /* SAN DNS:client-relay.test only: verified, but not for that host, so
   * relay 1 is taken for a client and the session is tied to the
   * connection it came on (RFC 4976 section 6.3). */
  { "client", "client" },
};

START_TEST (test_tls_relay_chain)
{
  g_autofree char *kind =
      g_strdup_printf ("\"kind\":\"%s\"", tls_cases[_i].kind);
  g_autoptr (NetTls) tls1 = NULL;
  g_autoptr (NetTls) tls2 = NULL;
  g_autoptr (Relay) r1 = NULL;
  g_autoptr (Relay) r2 = NULL;
  g_autoptr (Client) a = NULL;
  g_autoptr (Client) b = NULL;
  g_autofree char *sa = NULL;
  g_autofree char *sb = NULL;
  g_autofree char *r2_tls = NULL;
  g_autofree char *via = NULL;
  g_autofree char *sx = NULL;
  g_autofree char *to = NULL;
  g_autofree char *tid = next_tid ();
  g_autofree char *text = NULL;
  g_autofree char *want_from = NULL;
  g_autofree char *back_to = NULL;
  g_autofree char *tid2 = next_tid ();
  g_autofree char *text2 = NULL;
  g_autofree char *want_back_from = NULL;
  g_autoptr (Frame) f = NULL;
  g_autoptr (Frame) ok = NULL;
  g_autoptr (Frame) got = NULL;
  g_autoptr (Frame) back = NULL;
  g_auto (GStrv) use = NULL;

  certs_check ();
  tls1 = make_tls (tls_cases[_i].cert, NET_TLS_PEER_VERIFY_OPTIONAL);
  tls2 = make_tls ("server", NET_TLS_PEER_VERIFY_OPTIONAL);
  r1 = relay_new_full (NULL, NULL, tls1);
  r2 = relay_new_full (NULL, tls2, tls2);
  a = client_connect ("alice", r1->port);
  b = client_connect ("bob", r2->port);
  sa = auth (a, r1, ALICE, "alice");
  sb = auth (b, r2, BOB, "bob");

  r2_tls = g_strdup_printf ("msrps://127.0.0.1:%u;tcp", r2->tls_port);
  via = g_strdup_printf ("%s %s", sa, r2_tls);
  f = auth_full (a, via, ALICE, "alice", "secret",
                 MSRP_DIGEST_ALGORITHM_SHA256, NULL, 200);
  /* Section 5.1: Use-Path lists relay 1's URI, then relay 2's session. */
  use = g_strsplit (hdr (f, MSRP_HEADER_USE_PATH), " ", -1);
  ck_assert_uint_eq (g_strv_length (use), 2);
  ck_assert_str_eq (use[0], sa);
  ck_assert (g_str_has_prefix (use[1], "msrps://127.0.0.1:"));
  sx = g_strdup (use[1]);
  ck_assert_uint_eq (
      logtap_count ("session_created", kind, "\"user\":\"alice\"", NULL),
      g_str_equal (tls_cases[_i].kind, "client") ? 2 : 1);
  ck_assert_uint_eq (logtap_count ("session_created", "\"kind\":\"relay\"",
                                   "\"relay\":\"127.0.0.1\"", NULL),
                     g_str_equal (tls_cases[_i].kind, "relay") ? 1 : 0);

  /* Alice to Bob: relay 1, relay 2 (her relay session there), then Bob's
   * a=path at relay 2. */
  to = g_strdup_printf ("%s %s %s %s", sa, sx, sb, BOB);
  text = send_text (tid, to, ALICE, "m-tls", NULL, "over TLS");
  client_send (a, text);
  ok = client_frame (a, 5000);
  assert_response (ok, tid, 200);
  got = client_frame (b, 5000);
  want_from = g_strdup_printf ("%s %s %s %s", sb, sx, sa, ALICE);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_TO_PATH), BOB);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_FROM_PATH), want_from);

  /* Bob back to Alice: relay 2 goes toward relay 1 (the relay that owns
   * the session) over a connection of its own. */
  back_to = g_strdup_printf ("%s %s %s %s", sb, sx, sa, ALICE);
  text2 = send_text (tid2, back_to, BOB, "m-back", NULL, "and back");
  client_send (b, text2);
  back = client_frame (a, 5000);
  want_back_from = g_strdup_printf ("%s %s %s %s", sa, sx, sb, BOB);
  ck_assert_str_eq (hdr (back, MSRP_HEADER_TO_PATH), ALICE);
  ck_assert_str_eq (hdr (back, MSRP_HEADER_FROM_PATH), want_back_from);
  ck_assert_uint_ge (
      logtap_count ("connection_accepted", "\"transport\":\"tls\"", NULL), 1);
  relay_free (g_steal_pointer (&r1));
  relay_free (g_steal_pointer (&r2));
}
END_TEST

/* RFC 4975 section 5.4, RFC 6135 section 4.2.2: a peer that connected to
 * the relay itself (a=setup:active, port 9 in its SDP) may be reached back
 * over its connection, but only when the connection proves that it speaks
 * for the peer's URI: TLS with a certificate valid for the URI's host (RFC
 * 5923 section 5).  Alice's SEND toward Bob's URI goes to Bob's inbound
 * connection when she names Bob's URI as section 6.1 compares it and Bob
 * presented such a certificate; otherwise the relay connects to the URI
 * (a port nobody listens on: 408).  After Bob's connection has closed, it
 * connects too. */
static const struct
{
  const char *name;
  const char *before, *after; /* how Alice writes Bob's URI, around
                               * "127.0.0.1:PORT" */
  const char *cert;           /* Bob's certificate; NULL: plain TCP */
  gboolean reaches_bob;
} reverse_cases[] = {
  { "as Bob wrote it", "msrps://", "/bact;tcp", "server", TRUE },
  { "scheme and transport in upper case", "MSRPS://", "/bact;TCP", "server",
    TRUE },
  { "userinfo and a parameter ignored", "msrps://bob@", "/bact;tcp;x=y",
    "server", TRUE },
  { "session-id compared case-sensitively", "msrps://", "/BACT;tcp", "server",
    FALSE },
  { "no session-id", "msrps://", ";tcp", "server", FALSE },
  /* The certificate verified, but is not valid for 127.0.0.1. */
  { "certificate for another host", "msrps://", "/bact;tcp", "client", FALSE },
  /* Plain TCP proves nothing: anyone can write Bob's URI. */
  { "plain TCP", "msrp://", "/bact;tcp", NULL, FALSE },
};

START_TEST (test_reverse_over_inbound)
{
  g_autoptr (NetTls) server_tls = NULL;
  g_autoptr (NetTls) bob_tls = NULL;
  g_autoptr (Relay) r = NULL;
  g_autoptr (Client) a = NULL;
  g_autoptr (Client) b = NULL;
  g_autofree char *sa = NULL;
  const char *cert = reverse_cases[_i].cert;
  guint16 port = dead_port ();
  g_autofree char *bob = g_strdup_printf (
      "%s://127.0.0.1:%u/bact;tcp", cert != NULL ? "msrps" : "msrp", port);
  g_autofree char *to_bob =
      g_strdup_printf ("%s127.0.0.1:%u%s", reverse_cases[_i].before, port,
                       reverse_cases[_i].after);
  g_autofree char *b_to_a = NULL;
  g_autofree char *a_to_b_path = NULL;
  g_autofree char *b_sees_from = NULL;
  g_autofree char *a_sees_from = NULL;
  g_autofree char *tid = next_tid ();
  g_autofree char *text = NULL;
  g_autoptr (Frame) ok = NULL;

  certs_check ();
  server_tls = make_tls ("server", NET_TLS_PEER_VERIFY_OPTIONAL);
  r = relay_new_full (NULL, server_tls, server_tls);
  a = client_connect ("alice", r->port);
  a->answer_sends = TRUE;
  sa = auth (a, r, ALICE, "alice");
  b_to_a = g_strdup_printf ("%s %s", sa, ALICE);
  a_to_b_path = g_strdup_printf ("%s %s", sa, to_bob);
  b_sees_from = g_strdup_printf ("%s %s", sa, ALICE);
  a_sees_from = g_strdup_printf ("%s %s", sa, bob);

  /* Bob connects (no AUTH: he is Alice's peer, not the relay's client)
   * and sends first, binding his connection (RFC 6135 section 4.2.2). */
  if (cert != NULL)
    {
      bob_tls = make_tls (cert, NET_TLS_PEER_VERIFY_OPTIONAL);
      b = client_connect_tls ("bob", r->tls_port, bob_tls);
    }
  else
    {
      b = client_connect ("bob", r->port);
    }
  send_ok (b, b_to_a, bob, "from-bob", "hello Alice");
  expect_send (a, ALICE, a_sees_from, "from-bob", "hello Alice");

  text = send_text (tid, a_to_b_path, ALICE, "to-bob", NULL, "hello Bob");
  client_send (a, text);
  ok = client_frame (a, 5000);
  if (!reverse_cases[_i].reaches_bob)
    {
      /* Not proven to be Bob: the relay tries to connect to the URI. */
      assert_response (ok, tid, 408);
      ck_assert_uint_eq (logtap_count ("connection_opening", NULL), 1);
      client_no_frame (b, 200);
      relay_free (g_steal_pointer (&r));
      return;
    }
  assert_response (ok, tid, 200);
  {
    g_autoptr (Frame) got = client_frame (b, 3000);
    g_autofree char *reply = NULL;

    ck_assert_str_eq (msrp_head_get_method (got->head), "SEND");
    ck_assert_str_eq (hdr (got, MSRP_HEADER_TO_PATH), to_bob);
    ck_assert_str_eq (hdr (got, MSRP_HEADER_FROM_PATH), b_sees_from);
    ck_assert_uint_eq (got->body_len, 9);
    ck_assert_int_eq (memcmp (got->body->data, "hello Bob", 9), 0);
    /* Bob's 200 comes back on his connection and closes the transaction. */
    reply = g_strdup_printf ("MSRP %s 200 OK\r\nTo-Path: %s\r\n"
                             "From-Path: %s\r\n-------%s$\r\n",
                             msrp_head_get_transaction_id (got->head), sa, bob,
                             msrp_head_get_transaction_id (got->head));
    client_send (b, reply);
  }
  RUN_UNTIL (logtap_count ("message_relayed", "\"message_id\":\"to-bob\"",
                           "\"outcome\":\"delivered\"",
                           "\"acknowledged\":true", NULL) == 1,
             3000);
  ck_assert_uint_eq (logtap_count ("connection_opening", NULL), 0);

  /* Bob's connection gone: the relay tries his URI (nobody there). */
  g_clear_pointer (&b, client_free);
  RUN_UNTIL (logtap_count ("connection_closed", "\"direction\":\"inbound\"",
                           NULL) == 1,
             3000);
  {
    g_autofree char *tid2 = next_tid ();
    g_autofree char *text2 =
        send_text (tid2, a_to_b_path, ALICE, "to-bob-2", NULL, "still there?");
    g_autoptr (Frame) f = NULL;

    client_send (a, text2);
    f = client_frame (a, 5000);
    assert_response (f, tid2, 408);
    ck_assert_uint_eq (logtap_count ("connection_opening", NULL), 1);
  }
  relay_free (g_steal_pointer (&r));
}
END_TEST

/* The hijack the reach-back rule closes: a stranger's plain connection
 * writes Bob's URI into From-Path before Alice ever talks to Bob.  Alice's
 * message to Bob must still go to Bob (a passive endpoint that listens),
 * never to the stranger. */
START_TEST (test_reverse_hijack)
{
  g_autoptr (Relay) r = relay_new (NULL);
  g_autoptr (Server) bob = server_new ();
  g_autoptr (Client) a = client_connect ("alice", r->port);
  g_autoptr (Client) x = client_connect ("mallory", r->port);
  g_autofree char *sa = auth (a, r, ALICE, "alice");
  g_autofree char *bob_uri =
      g_strdup_printf ("msrp://127.0.0.1:%u/bob;tcp", bob->port);
  g_autofree char *x_to_a = g_strdup_printf ("%s %s", sa, ALICE);
  g_autofree char *a_to_b = g_strdup_printf ("%s %s", sa, bob_uri);
  g_autofree char *x_from = g_strdup_printf ("%s %s", sa, bob_uri);
  g_autofree char *tid = next_tid ();
  g_autofree char *text = NULL;
  g_autoptr (Frame) ok = NULL;
  g_autoptr (Frame) got = NULL;

  bob->answer_sends = TRUE;
  a->answer_sends = TRUE;
  /* Mallory claims Bob's URI with a SEND toward Alice's session: it is
   * relayed to Alice (sessions are reachable by anyone), and teaches the
   * relay nothing. */
  send_ok (x, x_to_a, bob_uri, "claim", "I am Bob");
  expect_send (a, ALICE, x_from, "claim", "I am Bob");

  text = send_text (tid, a_to_b, ALICE, "for-bob", NULL, "secret for Bob");
  client_send (a, text);
  ok = client_frame (a, 5000);
  assert_response (ok, tid, 200);
  RUN_UNTIL (bob->clients->len == 1, 3000);
  got = client_frame (bob->clients->pdata[0], 3000);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_MESSAGE_ID), "for-bob");
  ck_assert_str_eq (hdr (got, MSRP_HEADER_TO_PATH), bob_uri);
  client_no_frame (x, 200);
  ck_assert_uint_eq (logtap_count ("connection_opening", NULL), 1);
}
END_TEST

/* RFC 4976 section 8: an msrps next hop written without a port, a relay
 * farm, is found by SRV (_msrps._tcp), its targets tried in RFC 2782
 * order: the first refuses, the second gets the message.  The certificate
 * is checked for the URI's host, the farm's (RFC 4976 section 9.2), and
 * the pooled connection is keyed without a port, apart from the same host
 * with :2855 (RFC 4975 section 6.1 rule 3). */
START_TEST (test_next_hop_srv)
{
  g_autoptr (NetTls) client_tls = NULL;
  g_autoptr (NetTls) farm_tls = NULL;
  g_autoptr (GResolver) system_dns = g_resolver_get_default ();
  g_autoptr (TestResolver) dns = test_resolver_install ();
  g_autoptr (Relay) r = NULL;
  g_autoptr (Client) a = NULL;
  g_autoptr (Server) member = g_new0 (Server, 1);
  g_autofree char *sa = NULL;
  g_autofree char *srv = NULL;
  g_autofree char *tid = next_tid ();
  g_autofree char *to = NULL;
  g_autofree char *text = NULL;
  g_autofree char *want_log = NULL;
  g_autoptr (Frame) ok = NULL;
  g_autoptr (Frame) got = NULL;
  guint16 dead = dead_port ();

  certs_check ();
  client_tls = make_tls ("server", NET_TLS_PEER_VERIFY_OPTIONAL);
  farm_tls = make_tls ("farm", NET_TLS_PEER_VERIFY_OPTIONAL);
  member->clients =
      g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
  member->v4 = server_listen_tls (member, "127.0.0.1", 0, farm_tls);
  member->port = g_inet_socket_address_get_port (
      G_INET_SOCKET_ADDRESS (net_listener_get_address (member->v4)));
  member->answer_sends = TRUE;
  srv = g_strdup_printf ("10 0 %u dead.farm.test, 20 0 %u b.farm.test", dead,
                         member->port);
  test_resolver_set_srv (dns, "_msrps._tcp.farm.test", srv);
  test_resolver_set_host (dns, "dead.farm.test", "127.0.0.1");
  test_resolver_set_host (dns, "b.farm.test", "127.0.0.1");

  r = relay_new_full (NULL, NULL, client_tls);
  a = client_connect ("alice", r->port);
  sa = auth (a, r, ALICE, "alice");
  to = g_strdup_printf ("%s msrps://farm.test/x1;tcp", sa);
  text = send_text (tid, to, ALICE, "m-farm", NULL, "to the farm");
  client_send (a, text);
  ok = client_frame (a, 3000);
  assert_response (ok, tid, 200);
  RUN_UNTIL (member->clients->len == 1, 5000);
  got = client_frame (member->clients->pdata[0], 5000);
  ck_assert_str_eq (hdr (got, MSRP_HEADER_MESSAGE_ID), "m-farm");
  ck_assert_str_eq (hdr (got, MSRP_HEADER_TO_PATH),
                    "msrps://farm.test/x1;tcp");
  want_log = g_strdup ("SRV _msrps._tcp.farm.test\nA dead.farm.test\n"
                       "A b.farm.test\n");
  ck_assert_str_eq (test_resolver_get_log (dns), want_log);
  ck_assert_uint_eq (
      logtap_count ("connection_closed", "\"reason\":\"refused\"", NULL), 0);
  RUN_UNTIL (logtap_count ("message_relayed", "\"message_id\":\"m-farm\"",
                           "\"outcome\":\"delivered\"", NULL) == 1,
             3000);
  relay_free (g_steal_pointer (&r));
  /* GLib's default again, for the tests after this one in this process. */
  g_resolver_set_default (system_dns);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("gw-relay");
  TCase *tc_auth = tcase_create ("auth");
  TCase *tc_fwd = tcase_create ("forwarding");
  TCase *tc_tls = tcase_create ("tls");
  TCase *tc_fail = tcase_create ("failures");
  TCase *tc_stream = tcase_create ("streaming");
  SRunner *sr;
  int failed;

  tcase_add_checked_fixture (tc_auth, setup, teardown);
  tcase_add_loop_test (tc_auth, test_auth_digest, 0,
                       G_N_ELEMENTS (auth_algorithms));
  tcase_add_loop_test (tc_auth, test_auth_expires, 0,
                       G_N_ELEMENTS (expires_cases));
  tcase_add_test (tc_auth, test_auth_forbidden);
  tcase_add_test (tc_auth, test_auth_stale);
  tcase_add_test (tc_auth, test_auth_algorithm_fallback);
  tcase_add_test (tc_auth, test_auth_three_failures);
  tcase_add_test (tc_auth, test_auth_three_failures_forged_path);
  tcase_add_test (tc_auth, test_auth_replay);
  tcase_add_test (tc_auth, test_auth_session_limits);
  tcase_add_test (tc_auth, test_auth_throttle_address);
  tcase_add_test (tc_auth, test_auth_throttle_success_keeps_count);
  tcase_add_test (tc_auth, test_auth_throttle_user);
  suite_add_tcase (s, tc_auth);

  tcase_add_checked_fixture (tc_fwd, setup, teardown);
  tcase_add_test (tc_fwd, test_relay_one_hop);
  tcase_add_test (tc_fwd, test_relay_two_hops);
  tcase_add_test (tc_fwd, test_failure_report_no);
  tcase_add_test (tc_fwd, test_unknown_session);
  tcase_add_loop_test (tc_fwd, test_not_addressed, 0,
                       G_N_ELEMENTS (not_ours_cases));
  tcase_add_loop_test (tc_fwd, test_end_to_end_routed, 0,
                       G_N_ELEMENTS (end_to_end_methods));
  tcase_add_test (tc_fwd, test_end_to_end_timeout);
  tcase_add_test (tc_fwd, test_session_expires);
  tcase_add_test (tc_fwd, test_next_hop_by_name);
  tcase_add_test (tc_fwd, test_reverse_hijack);
  tcase_add_test (tc_fwd, test_preauth_errors);
  tcase_add_loop_test (tc_fwd, test_preauth_stranger, 0,
                       G_N_ELEMENTS (stranger_cases));
  tcase_add_test (tc_fwd, test_preauth_both_active);
  tcase_add_test (tc_fwd, test_adopt_connection);
  tcase_add_test (tc_fwd, test_preauth_party_late);
  tcase_add_test (tc_fwd, test_preauth_answerer_early);
  tcase_add_test (tc_fwd, test_preauth_gateway_connects);
  tcase_add_test (tc_fwd, test_preauth_branches);
  tcase_add_loop_test (tc_fwd, test_preauth_branch_connect, 0, 2);
  tcase_add_test (tc_fwd, test_bind_adopted);
  tcase_add_loop_test (tc_fwd, test_preauth_connect_fails, 0,
                       G_N_ELEMENTS (connect_fail_cases));
  tcase_add_test (tc_fwd, test_keepalive_call_not_idle);
  tcase_add_test (tc_fwd, test_keepalive_msrp);
  suite_add_tcase (s, tc_fwd);

  tcase_add_unchecked_fixture (tc_tls, make_certs, remove_certs);
  tcase_add_checked_fixture (tc_tls, setup, teardown);
  tcase_add_loop_test (tc_tls, test_tls_relay_chain, 0,
                       G_N_ELEMENTS (tls_cases));
  tcase_add_test (tc_tls, test_next_hop_srv);
  tcase_add_loop_test (tc_tls, test_reverse_over_inbound, 0,
                       G_N_ELEMENTS (reverse_cases));
  suite_add_tcase (s, tc_tls);

  tcase_add_checked_fixture (tc_fail, setup, teardown);
  tcase_add_loop_test (tc_fail, test_garbage, 0, G_N_ELEMENTS (garbage_cases));
  tcase_add_test (tc_fail, test_probation_timeout);
  tcase_add_test (tc_fail, test_probation_failures);
  tcase_add_test (tc_fail, test_next_hop_timeout);
  tcase_add_test (tc_fail, test_next_hop_error_response);
  tcase_add_test (tc_fail, test_next_hop_refused);
  tcase_add_loop_test (tc_fail, test_next_hop_policy, 0,
                       G_N_ELEMENTS (next_hop_policy_cases));
  tcase_add_test (tc_fail, test_receiver_dies);
  tcase_add_test (tc_fail, test_sender_dies);
  tcase_add_test (tc_fail, test_connection_limits);
  tcase_add_test (tc_fail, test_first_request_timeout);
  tcase_add_test (tc_fail, test_evict_for_new);
  tcase_add_test (tc_fail, test_evict_none);
  suite_add_tcase (s, tc_fail);

  tcase_add_checked_fixture (tc_stream, setup, teardown);
  tcase_add_test (tc_stream, test_no_interleave);
  tcase_add_test (tc_stream, test_stream_bounded);
  tcase_set_timeout (tc_stream, 300);
  suite_add_tcase (s, tc_stream);

  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  (void) dump_log;
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
