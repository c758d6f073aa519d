/* Check suite for connections, listeners and TLS (gateway/net/net-conn.c,
 * gateway/net/net-tls.c) over real loopback sockets.
 *
 * Each test runs its own GMainContext, and every wait iterates it with a
 * deadline (RUN_UNTIL), so a connection that never delivers fails its test
 * instead of hanging it.  The certificates are made once per run by
 * tests/data/gen-test-certs.sh in a temporary directory. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net-addr.h"
#include "net-conn.h"
#include "net-listener.h"
#include "net-tls.h"
#include "testloop.h"

static char *cert_dir;
static GMainContext *ctx;

static void
setup (void)
{
  ctx = testloop_start ();
}

static void
teardown (void)
{
  testloop_stop ();
}

static char *
cert_path (const char *name)
{
  return name != NULL ? g_strdup_printf ("%s/%s", cert_dir, name) : NULL;
}

/* A NetTls from the generated files: @who "server", "client", "rogue" or
 * NULL (no certificate); @ca "ca.pem" or "rogue-ca.pem". */
static NetTls *
make_tls (const char *who, const char *ca, NetTlsPeerVerify verify)
{
  g_autofree char *cert_name = who ? g_strdup_printf ("%s.pem", who) : NULL;
  g_autofree char *key_name = who ? g_strdup_printf ("%s.key", who) : NULL;
  g_autofree char *cert = cert_path (cert_name);
  g_autofree char *key = cert_path (key_name);
  g_autofree char *ca_file = cert_path (ca);
  NetTlsSettings settings = { cert, key, ca_file, verify };
  g_autoptr (GError) error = NULL;
  NetTls *tls = net_tls_new (&settings, &error);

  ck_assert_msg (tls != NULL, "net_tls_new: %s", error ? error->message : "");
  return tls;
}

/* --- one end of a connection, recording what happens to it ------------- */

typedef struct
{
  const char *name;
  NetConn *conn; /* a reference */
  GByteArray *in;
  gboolean connected;
  gboolean closed;
  NetConnCloseReason reason;
  char *message;
  gint64 closed_at;
  guint drained;
  gboolean echo;           /* write back what arrives */
  gboolean drop_on_data;   /* drop the reference inside on_data */
  gboolean drop_on_closed; /* drop the reference inside on_closed */
} End;

static void
end_init (End *e, const char *name)
{
  memset (e, 0, sizeof *e);
  e->name = name;
  e->in = g_byte_array_new ();
}

static void
end_clear (End *e)
{
  g_clear_pointer (&e->conn, net_conn_unref);
  g_byte_array_unref (e->in);
  g_free (e->message);
}

static void
end_on_connected (NetConn *conn, gpointer data)
{
  End *e = data;

  ck_assert_msg (!e->connected, "%s: on_connected twice", e->name);
  ck_assert_int_eq (net_conn_get_state (conn), NET_CONN_STATE_OPEN);
  e->connected = TRUE;
}

static void
end_on_data (NetConn *conn, const guint8 *data, gsize len, gpointer user_data)
{
  End *e = user_data;

  ck_assert_msg (len > 0, "%s: empty on_data", e->name);
  g_byte_array_append (e->in, data, (guint) len);
  if (e->echo)
    {
      g_autoptr (GBytes) b = g_bytes_new (data, len);

      ck_assert (net_conn_write (conn, b));
    }
  if (e->drop_on_data)
    g_clear_pointer (&e->conn, net_conn_unref);
}

static void
end_on_drained (NetConn *conn, gpointer data)
{
  End *e = data;

  e->drained++;
}

static void
end_on_closed (NetConn *conn, NetConnCloseReason reason, const GError *error,
               gpointer data)
{
  End *e = data;

  ck_assert_msg (!e->closed, "%s: on_closed twice", e->name);
  ck_assert (error != NULL);
  ck_assert (error->domain == NET_CONN_ERROR);
  ck_assert_int_eq (error->code, reason);
  ck_assert_int_eq (net_conn_get_state (conn), NET_CONN_STATE_CLOSED);
  if (g_getenv ("TEST_GW_CONN_TRACE") != NULL)
    g_printerr ("%s closed, %s: %s\n", e->name,
                net_conn_close_reason_to_string (reason), error->message);
  e->closed = TRUE;
  e->reason = reason;
  e->message = g_strdup (error->message);
  e->closed_at = g_get_monotonic_time ();
  if (e->drop_on_closed)
    g_clear_pointer (&e->conn, net_conn_unref);
}

static const NetConnCallbacks end_callbacks = {
  .on_connected = end_on_connected,
  .on_data = end_on_data,
  .on_drained = end_on_drained,
  .on_closed = end_on_closed,
};

/* Take @conn (transfer full) into @e. */
static void
end_attach (End *e, NetConn *conn)
{
  ck_assert_msg (e->conn == NULL, "%s: a second connection", e->name);
  e->conn = conn;
  net_conn_set_callbacks (conn, &end_callbacks, e, NULL);
}

static void
on_accept (NetListener *listener, NetConn *conn, gpointer data)
{
  end_attach (data, net_conn_ref (conn));
}

/* @host with @port; the configuration syntax has no port 0, hence not
 * net_addr_parse(). */
static GSocketAddress *
inet_addr (const char *host, guint16 port)
{
  GSocketAddress *sa = g_inet_socket_address_new_from_string (host, port);

  ck_assert_msg (sa != NULL, "bad address %s", host);
  return sa;
}

/* Listen on @host, a port the kernel picks, for @server. */
static NetListener *
listen_for (End *server, const char *host, NetTls *tls,
            const NetConnOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) sa = inet_addr (host, 0);
  NetListener *l;

  l = net_listener_new (sa, tls, options, &error);
  ck_assert_msg (l != NULL, "listen on %s: %s", host,
                 error ? error->message : "");
  net_listener_set_callbacks (l, NULL, on_accept, server, NULL);
  return l;
}

static void
connect_end (End *client, GSocketAddress *to, NetTls *tls,
             const char *peer_name, const NetConnOptions *options)
{
  g_autoptr (GError) error = NULL;
  NetConn *conn = net_conn_connect (to, tls, peer_name, options, &error);

  ck_assert_msg (conn != NULL, "connect: %s", error ? error->message : "");
  ck_assert_int_eq (net_conn_get_state (conn), NET_CONN_STATE_CONNECTING);
  end_attach (client, conn);
}

/* Bytes of a test stream: position-dependent, so loss, duplication and
 * reordering all show. */
static guint8
stream_byte (gsize pos)
{
  return (guint8) ((pos * 31 + pos / 257) & 0xff);
}

static GBytes *
stream_bytes (gsize from, gsize len)
{
  guint8 *buf = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    buf[i] = stream_byte (from + i);
  return g_bytes_new_take (buf, len);
}

static gboolean
stream_matches (const GByteArray *a, gsize from)
{
  for (gsize i = 0; i < a->len; i++)
    if (a->data[i] != stream_byte (from + i))
      return FALSE;
  return TRUE;
}

/* --- echo ------------------------------------------------------------- */

static const struct
{
  const char *name;
  const char *addr;
  gboolean tls;
  const char *peer_name; /* TLS: NULL checks the IP address */
} echo_cases[] = {
  { "tcp over IPv4", "127.0.0.1", FALSE, NULL },
  { "tcp over IPv6", "::1", FALSE, NULL },
  { "tls over IPv4", "127.0.0.1", TRUE, "relay.test" },
  { "tls over IPv6, name is the address", "::1", TRUE, NULL },
};

/* Message sizes written in turn: tiny, a TLS record and more, several
 * records, a megabyte (many partial writes). */
static const gsize echo_sizes[] = { 1, 100, 5000, 16384, 70000, 1 << 20, 3 };

START_TEST (test_echo)
{
  End server, client;
  g_autoptr (NetTls) stls = NULL;
  g_autoptr (NetTls) ctls = NULL;
  g_autoptr (NetListener) l = NULL;
  const char *laddr;
  gsize total = 0;
  gint64 before = g_get_monotonic_time ();

  end_init (&server, "server");
  end_init (&client, "client");
  server.echo = TRUE;
  if (echo_cases[_i].tls)
    {
      stls = make_tls ("server", "ca.pem", NET_TLS_PEER_VERIFY_NONE);
      ctls = make_tls (NULL, "ca.pem", NET_TLS_PEER_VERIFY_NONE);
    }
  l = listen_for (&server, echo_cases[_i].addr, stls, NULL);
  laddr = net_listener_get_address_string (l);
  connect_end (&client, net_listener_get_address (l), ctls,
               echo_cases[_i].peer_name, NULL);

  /* The first writes go out before the connection is up: queued. */
  for (gsize i = 0; i < G_N_ELEMENTS (echo_sizes); i++)
    {
      g_autoptr (GBytes) b = stream_bytes (total, echo_sizes[i]);

      if (i == 3)
        RUN_UNTIL (client.connected, 5000);
      ck_assert (net_conn_write (client.conn, b));
      total += echo_sizes[i];
    }
  RUN_UNTIL (client.in->len == total || client.closed || server.closed, 20000);
  ck_assert_msg (!client.closed && !server.closed, "%s: closed: %s",
                 echo_cases[_i].name,
                 client.closed ? client.message : server.message);
  ck_assert_msg (stream_matches (client.in, 0), "%s: echo differs",
                 echo_cases[_i].name);
  ck_assert (server.connected);

  /* Counters, names and addresses. */
  ck_assert_uint_eq (net_conn_get_bytes_out (client.conn), total);
  ck_assert_uint_eq (net_conn_get_bytes_in (server.conn), total);
  ck_assert_uint_eq (net_conn_get_bytes_out (server.conn), total);
  ck_assert_uint_eq (net_conn_get_bytes_in (client.conn), total);
  ck_assert_uint_eq (net_conn_get_queued_bytes (client.conn), 0);
  ck_assert_str_eq (net_conn_get_peer_address (client.conn), laddr);
  ck_assert_str_eq (net_conn_get_local_address (server.conn), laddr);
  ck_assert_str_eq (net_conn_get_peer_address (server.conn),
                    net_conn_get_local_address (client.conn));
  ck_assert (g_str_has_prefix (
      laddr, strchr (echo_cases[_i].addr, ':') ? "[::1]:" : "127.0.0.1:"));
  ck_assert (!g_str_has_suffix (laddr, ":0")); /* a real port */
  ck_assert_str_eq (net_conn_get_transport_name (client.conn),
                    echo_cases[_i].tls ? "tls" : "tcp");
  ck_assert_str_eq (net_conn_get_transport_name (server.conn),
                    echo_cases[_i].tls ? "tls" : "tcp");
  ck_assert_uint_ne (net_conn_get_id (client.conn), 0);
  ck_assert_uint_ne (net_conn_get_id (client.conn),
                     net_conn_get_id (server.conn));
  ck_assert_int_ge (net_conn_get_start_time (client.conn), before);
  ck_assert_int_le (net_conn_get_start_time (client.conn),
                    net_conn_get_start_time (server.conn));
  if (echo_cases[_i].tls)
    ck_assert_str_eq (net_conn_get_peer_subject (client.conn),
                      "CN=relay.test,O=msrp-edge tests");
  else
    ck_assert_ptr_null (net_conn_get_peer_subject (client.conn));
  ck_assert_ptr_null (net_conn_get_peer_subject (server.conn));

  /* Graceful close: LOCAL here, PEER there; no more writes. */
  net_conn_close (client.conn);
  ck_assert_int_eq (net_conn_get_state (client.conn), NET_CONN_STATE_CLOSING);
  {
    g_autoptr (GBytes) b = stream_bytes (0, 10);

    ck_assert (!net_conn_write (client.conn, b));
  }
  RUN_UNTIL (client.closed && server.closed, 5000);
  ck_assert_msg (client.reason == NET_CONN_CLOSED_LOCAL, "%s: client %s: %s",
                 echo_cases[_i].name,
                 net_conn_close_reason_to_string (client.reason),
                 client.message);
  ck_assert_msg (server.reason == NET_CONN_CLOSED_PEER, "%s: server %s: %s",
                 echo_cases[_i].name,
                 net_conn_close_reason_to_string (server.reason),
                 server.message);
  ck_assert_msg (strstr (server.message, "closed the connection") != NULL &&
                     strstr (server.message, "without") == NULL,
                 "%s: '%s'", echo_cases[_i].name, server.message);

  end_clear (&server);
  end_clear (&client);
}
END_TEST

/* --- backpressure: 50 MB to a slow reader ----------------------------- */

#define BP_TOTAL (50 * 1024 * 1024)
#define BP_CHUNK (64 * 1024)
#define BP_PAUSE_EVERY (256 * 1024)
#define BP_PERIOD 251 /* stream byte at p is p % 251 */

typedef struct
{
  NetConn *writer;
  NetConn *reader;
  GBytes *pattern; /* BP_PERIOD + BP_CHUNK bytes */
  gsize sent;
  gsize max_queued;
  guint congestions;
  guint drains;
  gsize received;
  gsize since_pause;
  gboolean paused;
  GSource *resume; /* pending while paused */
  guint pauses;
  gboolean reader_closed;
  gboolean writer_closed;
  char *close_message;
} Bp;

static void
bp_produce (Bp *bp)
{
  while (bp->sent < BP_TOTAL && !net_conn_is_congested (bp->writer))
    {
      gsize n = MIN (BP_CHUNK, BP_TOTAL - bp->sent);
      g_autoptr (GBytes) b =
          g_bytes_new_from_bytes (bp->pattern, bp->sent % BP_PERIOD, n);

      ck_assert (net_conn_write (bp->writer, b));
      bp->sent += n;
      bp->max_queued =
          MAX (bp->max_queued, net_conn_get_queued_bytes (bp->writer));
    }
  if (net_conn_is_congested (bp->writer))
    bp->congestions++;
}

static void
bp_writer_connected (NetConn *conn, gpointer data)
{
  bp_produce (data);
}

static void
bp_writer_drained (NetConn *conn, gpointer data)
{
  Bp *bp = data;

  ck_assert_uint_le (net_conn_get_queued_bytes (conn),
                     NET_CONN_DEFAULT_LOW_WATERMARK);
  ck_assert (!net_conn_is_congested (conn));
  bp->drains++;
  bp_produce (bp);
}

static void
bp_closed (NetConn *conn, NetConnCloseReason reason, const GError *error,
           gpointer data)
{
  Bp *bp = data;

  if (conn == bp->reader)
    bp->reader_closed = TRUE;
  else
    bp->writer_closed = TRUE;
  g_free (bp->close_message);
  bp->close_message = g_strdup (error->message);
}

static gboolean
bp_resume (gpointer data)
{
  Bp *bp = data;

  bp->paused = FALSE;
  g_clear_pointer (&bp->resume, g_source_unref);
  net_conn_resume_reading (bp->reader);
  return G_SOURCE_REMOVE;
}

static void
bp_reader_data (NetConn *conn, const guint8 *data, gsize len, gpointer user)
{
  Bp *bp = user;
  guint k = (guint) (bp->received % BP_PERIOD);

  /* Reading really stops: nothing arrives while paused. */
  ck_assert_msg (!bp->paused, "on_data while reading is paused");
  for (gsize i = 0; i < len; i++)
    {
      if (data[i] != k)
        ck_abort_msg ("byte %" G_GSIZE_FORMAT " is %u, not %u",
                      bp->received + i, data[i], k);
      k = k + 1 == BP_PERIOD ? 0 : k + 1;
    }
  bp->received += len;
  bp->since_pause += len;
  if (bp->since_pause >= BP_PAUSE_EVERY)
    {
      bp->since_pause = 0;
      bp->paused = TRUE;
      bp->pauses++;
      net_conn_pause_reading (conn);
      ck_assert (net_conn_is_reading_paused (conn));
      bp->resume = g_timeout_source_new (2);
      g_source_set_callback (bp->resume, bp_resume, bp, NULL);
      g_source_attach (bp->resume, ctx);
    }
}

static void
bp_accept (NetListener *listener, NetConn *conn, gpointer data)
{
  Bp *bp = data;
  static const NetConnCallbacks writer_cb = {
    .on_connected = bp_writer_connected,
    .on_drained = bp_writer_drained,
    .on_closed = bp_closed,
  };

  ck_assert_ptr_null (bp->writer);
  bp->writer = net_conn_ref (conn);
  net_conn_set_callbacks (conn, &writer_cb, bp, NULL);
}

START_TEST (test_backpressure)
{
  static const NetConnCallbacks reader_cb = {
    .on_data = bp_reader_data,
    .on_closed = bp_closed,
  };
  gboolean tls = _i == 1;
  g_autoptr (NetTls) stls = NULL;
  g_autoptr (NetTls) ctls = NULL;
  g_autoptr (NetListener) l = NULL;
  g_autoptr (GSocketAddress) sa = inet_addr ("127.0.0.1", 0);
  g_autoptr (GError) error = NULL;
  guint8 *pattern = g_malloc (BP_PERIOD + BP_CHUNK);
  Bp bp = { 0 };

  for (gsize i = 0; i < BP_PERIOD + BP_CHUNK; i++)
    pattern[i] = (guint8) (i % BP_PERIOD);
  bp.pattern = g_bytes_new_take (pattern, BP_PERIOD + BP_CHUNK);
  if (tls)
    {
      stls = make_tls ("server", "ca.pem", NET_TLS_PEER_VERIFY_NONE);
      ctls = make_tls (NULL, "ca.pem", NET_TLS_PEER_VERIFY_NONE);
    }
  l = net_listener_new (sa, stls, NULL, &error);
  ck_assert_msg (l != NULL, "%s", error ? error->message : "");
  net_listener_set_callbacks (l, NULL, bp_accept, &bp, NULL);
  bp.reader = net_conn_connect (net_listener_get_address (l), ctls,
                                "relay.test", NULL, &error);
  ck_assert_msg (bp.reader != NULL, "%s", error ? error->message : "");
  net_conn_set_callbacks (bp.reader, &reader_cb, &bp, NULL);

  RUN_UNTIL (bp.received == BP_TOTAL || bp.reader_closed || bp.writer_closed,
             200000);
  ck_assert_msg (!bp.reader_closed && !bp.writer_closed, "closed: %s",
                 bp.close_message);
  ck_assert_uint_eq (bp.sent, BP_TOTAL);
  ck_assert_uint_eq (net_conn_get_bytes_out (bp.writer), BP_TOTAL);
  ck_assert_uint_eq (net_conn_get_bytes_in (bp.reader), BP_TOTAL);
  /* Backpressure engaged, and bounded the queue: the producer stops at the
   * high watermark, so one chunk at most goes past it. */
  ck_assert_uint_gt (bp.pauses, 0);
  ck_assert_uint_gt (bp.congestions, 0);
  ck_assert_uint_eq (bp.drains, bp.congestions);
  ck_assert_uint_ge (bp.max_queued, NET_CONN_DEFAULT_HIGH_WATERMARK);
  ck_assert_uint_le (bp.max_queued,
                     NET_CONN_DEFAULT_HIGH_WATERMARK + BP_CHUNK);

  if (bp.resume != NULL)
    {
      g_source_destroy (bp.resume);
      g_source_unref (bp.resume);
    }
  net_conn_unref (bp.writer);
  net_conn_unref (bp.reader);
  g_bytes_unref (bp.pattern);
  g_free (bp.close_message);
}
END_TEST

/* --- TLS handshakes ----------------------------------------------------- */

static const struct
{
  const char *name;
  NetTlsPeerVerify server_verify;
  const char *client_cert; /* "client", "rogue", NULL */
  const char *client_ca;   /* what the client trusts */
  const char *peer_name;   /* NULL: the IP address */
  /* Expected: open with these subjects, or closed with these. */
  gboolean ok;
  const char *server_sees; /* subject on the server side */
  NetConnCloseReason server_reason;
  const char *server_part;
  NetConnCloseReason client_reason;
  const char *client_part;
} tls_cases[] = {
  { "server certificate only", NET_TLS_PEER_VERIFY_NONE, NULL, "ca.pem",
    "relay.test", TRUE, NULL, 0, NULL, 0, NULL },
  { "client presents a certificate nobody asked for", NET_TLS_PEER_VERIFY_NONE,
    "client", "ca.pem", "relay.test", TRUE, NULL, 0, NULL, 0, NULL },
  { "name is the IP address", NET_TLS_PEER_VERIFY_NONE, NULL, "ca.pem", NULL,
    TRUE, NULL, 0, NULL, 0, NULL },
  { "mutual TLS required and given", NET_TLS_PEER_VERIFY_REQUIRED, "client",
    "ca.pem", "localhost", TRUE, "CN=client-relay.test,O=msrp-edge tests", 0,
    NULL, 0, NULL },
  { "RFC 4976 6.1: relay certificate verified", NET_TLS_PEER_VERIFY_OPTIONAL,
    "client", "ca.pem", "relay.test", TRUE,
    "CN=client-relay.test,O=msrp-edge tests", 0, NULL, 0, NULL },
  { "RFC 4976 6.1: endpoint without certificate", NET_TLS_PEER_VERIFY_OPTIONAL,
    NULL, "ca.pem", "relay.test", TRUE, NULL, 0, NULL, 0, NULL },
  { "untrusted client certificate", NET_TLS_PEER_VERIFY_OPTIONAL, "rogue",
    "ca.pem", "relay.test", FALSE, NULL, NET_CONN_CLOSED_TLS,
    "(certificate: unable to get local issuer "
    "certificate): certificate verify failed",
    NET_CONN_CLOSED_TLS, "alert unknown ca" },
  { "required client certificate missing", NET_TLS_PEER_VERIFY_REQUIRED, NULL,
    "ca.pem", "relay.test", FALSE, NULL, NET_CONN_CLOSED_TLS,
    "peer did not return a certificate", NET_CONN_CLOSED_TLS,
    "alert certificate required" },
  { "wrong host name", NET_TLS_PEER_VERIFY_NONE, NULL, "ca.pem", "other.test",
    FALSE, NULL, NET_CONN_CLOSED_TLS, "alert bad certificate",
    NET_CONN_CLOSED_TLS, "(certificate: hostname mismatch)" },
  { "untrusted server", NET_TLS_PEER_VERIFY_NONE, NULL, "rogue-ca.pem",
    "relay.test", FALSE, NULL, NET_CONN_CLOSED_TLS, "alert unknown ca",
    NET_CONN_CLOSED_TLS,
    "(certificate: unable to get local issuer "
    "certificate)" },
};

START_TEST (test_tls_handshake)
{
  End server, client;
  g_autoptr (NetTls) stls =
      make_tls ("server", "ca.pem", tls_cases[_i].server_verify);
  g_autoptr (NetTls) ctls =
      make_tls (tls_cases[_i].client_cert, tls_cases[_i].client_ca,
                NET_TLS_PEER_VERIFY_NONE);
  g_autoptr (NetListener) l = NULL;
  const char *name = tls_cases[_i].name;

  end_init (&server, "server");
  end_init (&client, "client");
  server.echo = TRUE;
  l = listen_for (&server, "127.0.0.1", stls, NULL);
  connect_end (&client, net_listener_get_address (l), ctls,
               tls_cases[_i].peer_name, NULL);

  if (tls_cases[_i].ok)
    {
      g_autoptr (GBytes) b = stream_bytes (0, 1000);

      ck_assert (net_conn_write (client.conn, b));
      RUN_UNTIL (client.in->len == 1000 || client.closed || server.closed,
                 5000);
      ck_assert_msg (!client.closed && !server.closed, "%s: %s", name,
                     client.closed ? client.message : server.message);
      ck_assert (stream_matches (client.in, 0));
      ck_assert (client.connected && server.connected);
      ck_assert_str_eq (net_conn_get_peer_subject (client.conn),
                        "CN=relay.test,O=msrp-edge tests");
      if (tls_cases[_i].server_sees != NULL)
        ck_assert_str_eq (net_conn_get_peer_subject (server.conn),
                          tls_cases[_i].server_sees);
      else
        ck_assert_ptr_null (net_conn_get_peer_subject (server.conn));
    }
  else
    {
      RUN_UNTIL (client.closed && server.closed, 5000);
      ck_assert_msg (server.reason == tls_cases[_i].server_reason &&
                         strstr (server.message, tls_cases[_i].server_part),
                     "%s: server closed %s: '%s'", name,
                     net_conn_close_reason_to_string (server.reason),
                     server.message);
      ck_assert_msg (client.reason == tls_cases[_i].client_reason &&
                         strstr (client.message, tls_cases[_i].client_part),
                     "%s: client closed %s: '%s'", name,
                     net_conn_close_reason_to_string (client.reason),
                     client.message);
      ck_assert_uint_eq (client.in->len, 0);
      ck_assert_uint_eq (server.in->len, 0);
      ck_assert (!server.connected);
    }
  end_clear (&server);
  end_clear (&client);
}
END_TEST

/* --- TLS versions: a raw OpenSSL client in a thread ------------------- */

typedef struct
{
  guint16 port;
  int max_version;
  gboolean ok;
  char *error;
  gint done;
} RawClient;

static gpointer
raw_client_thread (gpointer data)
{
  RawClient *rc = data;
  struct sockaddr_in sin = {
    .sin_family = AF_INET,
    .sin_port = htons (rc->port),
    .sin_addr.s_addr = htonl (INADDR_LOOPBACK),
  };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  SSL_CTX *sctx = SSL_CTX_new (TLS_client_method ());
  SSL *ssl;

  /* Allow what the gateway must refuse, whatever the host configuration
   * says. */
  SSL_CTX_set_security_level (sctx, 0);
  SSL_CTX_set_cipher_list (sctx, "DEFAULT:@SECLEVEL=0");
  SSL_CTX_set_min_proto_version (sctx, TLS1_VERSION);
  SSL_CTX_set_max_proto_version (sctx, rc->max_version);
  ssl = SSL_new (sctx);
  if (connect (fd, (struct sockaddr *) &sin, sizeof sin) == 0 &&
      SSL_set_fd (ssl, fd) == 1 && SSL_connect (ssl) == 1)
    {
      char buf[256];

      rc->ok = SSL_write (ssl, "ping", 4) == 4;
      SSL_shutdown (ssl);
      /* Read what the server sent (TLS 1.3 session tickets) until it
       * closes: closing with unread bytes would send it a RST. */
      while (recv (fd, buf, sizeof buf, 0) > 0)
        ;
    }
  else
    {
      unsigned long e = ERR_get_error ();
      const char *reason = e != 0 ? ERR_reason_error_string (e) : NULL;

      rc->error = g_strdup (reason != NULL ? reason : "no OpenSSL error");
    }
  ERR_clear_error ();
  SSL_free (ssl);
  SSL_CTX_free (sctx);
  close (fd);
  g_atomic_int_set (&rc->done, 1);
  return NULL;
}

static const struct
{
  const char *name;
  int max_version;
  gboolean ok;
} version_cases[] = {
  { "TLS 1.1 refused", TLS1_1_VERSION, FALSE },
  { "TLS 1.0 refused", TLS1_VERSION, FALSE },
  { "TLS 1.2 accepted", TLS1_2_VERSION, TRUE },
  { "TLS 1.3 accepted", TLS1_3_VERSION, TRUE },
};

START_TEST (test_tls_version)
{
  End server;
  g_autoptr (NetTls) stls =
      make_tls ("server", "ca.pem", NET_TLS_PEER_VERIFY_NONE);
  g_autoptr (NetListener) l = NULL;
  RawClient rc = { 0 };
  GThread *thread;

  end_init (&server, "server");
  l = listen_for (&server, "127.0.0.1", stls, NULL);
  rc.port = g_inet_socket_address_get_port (
      G_INET_SOCKET_ADDRESS (net_listener_get_address (l)));
  rc.max_version = version_cases[_i].max_version;
  thread = g_thread_new ("raw-tls-client", raw_client_thread, &rc);
  RUN_UNTIL (g_atomic_int_get (&rc.done) && server.closed, 10000);
  g_thread_join (thread);

  if (version_cases[_i].ok)
    {
      ck_assert_msg (rc.ok, "%s: client: %s", version_cases[_i].name,
                     rc.error);
      ck_assert (server.connected);
      ck_assert_uint_eq (server.in->len, 4);
      ck_assert (memcmp (server.in->data, "ping", 4) == 0);
      ck_assert_int_eq (server.reason, NET_CONN_CLOSED_PEER);
    }
  else
    {
      ck_assert_msg (!rc.ok, "%s: the handshake succeeded",
                     version_cases[_i].name);
      /* The client offered, and the server answered with an alert. */
      ck_assert_msg (strstr (rc.error, "alert protocol version") != NULL,
                     "%s: client: %s", version_cases[_i].name, rc.error);
      ck_assert_msg (
          server.reason == NET_CONN_CLOSED_TLS &&
              strstr (server.message, "unsupported protocol") != NULL,
          "%s: server closed %s: %s", version_cases[_i].name,
          net_conn_close_reason_to_string (server.reason), server.message);
      ck_assert (!server.connected);
    }
  g_free (rc.error);
  end_clear (&server);
}
END_TEST

/* --- the peer goes away ----------------------------------------------- */

typedef enum
{
  BY_CLOSE,        /* net_conn_close() with bytes still queued */
  BY_CLOSE_FORGET, /* the same, and the owner drops its reference */
  BY_RESET,        /* net_conn_abort (TRUE) once all was read */
  BY_ABORT,        /* net_conn_abort (FALSE) once all was read */
  BY_ABORT_MIDWAY, /* net_conn_abort (FALSE) with bytes still queued */
} How;

static const struct
{
  const char *name;
  gboolean tls;
  How how;
  NetConnCloseReason reason; /* what the reader sees */
  const char *part;
} close_cases[] = {
  { "tcp graceful close", FALSE, BY_CLOSE, NET_CONN_CLOSED_PEER,
    "closed the connection" },
  { "tls graceful close", TRUE, BY_CLOSE, NET_CONN_CLOSED_PEER,
    "closed the connection" },
  { "tcp close and forget", FALSE, BY_CLOSE_FORGET, NET_CONN_CLOSED_PEER,
    "closed the connection" },
  { "tls close and forget", TRUE, BY_CLOSE_FORGET, NET_CONN_CLOSED_PEER,
    "closed the connection" },
  { "tcp reset", FALSE, BY_RESET, NET_CONN_CLOSED_RESET,
    "Connection reset by peer" },
  { "tls reset", TRUE, BY_RESET, NET_CONN_CLOSED_RESET,
    "Connection reset by peer" },
  { "tcp abort", FALSE, BY_ABORT, NET_CONN_CLOSED_PEER,
    "closed the connection" },
  { "tls abort without close_notify", TRUE, BY_ABORT, NET_CONN_CLOSED_PEER,
    "closed the connection without TLS close_notify" },
  { "tcp abort mid-stream", FALSE, BY_ABORT_MIDWAY, NET_CONN_CLOSED_PEER,
    "closed the connection" },
  { "tls abort mid-stream", TRUE, BY_ABORT_MIDWAY, NET_CONN_CLOSED_PEER,
    "closed the connection without TLS close_notify" },
};

#define CLOSE_CHUNK (256 * 1024)

/* With the reader paused, write until the kernel's buffers are full and
 * bytes stay in the writer's queue.  Returns the bytes written. */
static gsize
fill_until_queued (End *writer)
{
  gsize total = 0;

  /* A write leaves at the end of the loop's turn: iterate after each one
   * until the kernel has left some of it queued. */
  do
    {
      g_autoptr (GBytes) b = stream_bytes (total, CLOSE_CHUNK);

      ck_assert_msg (total < 256 * 1024 * 1024, "the kernel takes it all");
      ck_assert (net_conn_write (writer->conn, b));
      total += CLOSE_CHUNK;
      testloop_run_for (5);
    }
  while (net_conn_get_queued_bytes (writer->conn) == 0);
  return total;
}

START_TEST (test_peer_close)
{
  End server, client; /* the client writes, the server reads */
  g_autoptr (NetTls) stls = NULL;
  g_autoptr (NetTls) ctls = NULL;
  g_autoptr (NetListener) l = NULL;
  How how = close_cases[_i].how;
  const char *name = close_cases[_i].name;
  gsize total;

  end_init (&server, "server");
  end_init (&client, "client");
  if (close_cases[_i].tls)
    {
      stls = make_tls ("server", "ca.pem", NET_TLS_PEER_VERIFY_NONE);
      ctls = make_tls (NULL, "ca.pem", NET_TLS_PEER_VERIFY_NONE);
    }
  l = listen_for (&server, "127.0.0.1", stls, NULL);
  connect_end (&client, net_listener_get_address (l), ctls, NULL, NULL);
  RUN_UNTIL (client.connected && server.connected, 5000);
  net_conn_pause_reading (server.conn);
  total = fill_until_queued (&client);

  switch (how)
    {
    case BY_CLOSE:
    case BY_CLOSE_FORGET:
      net_conn_close (client.conn);
      if (how == BY_CLOSE_FORGET)
        g_clear_pointer (&client.conn, net_conn_unref);
      testloop_run_for (20);
      ck_assert (!client.closed); /* still flushing */
      net_conn_resume_reading (server.conn);
      RUN_UNTIL (client.closed && server.closed, 10000);
      ck_assert_msg (client.reason == NET_CONN_CLOSED_LOCAL, "%s: %s", name,
                     client.message);
      /* Everything queued arrived before the end of stream. */
      ck_assert_uint_eq (server.in->len, total);
      ck_assert (stream_matches (server.in, 0));
      break;
    case BY_RESET:
    case BY_ABORT:
      net_conn_resume_reading (server.conn);
      RUN_UNTIL (server.in->len == total || server.closed, 10000);
      ck_assert_uint_eq (server.in->len, total);
      net_conn_abort (client.conn, how == BY_RESET);
      ck_assert_int_eq (net_conn_get_state (client.conn),
                        NET_CONN_STATE_CLOSED);
      RUN_UNTIL (server.closed, 5000);
      break;
    case BY_ABORT_MIDWAY:
      net_conn_abort (client.conn, FALSE);
      testloop_run_for (50);
      ck_assert (!server.closed); /* paused: not even the FIN is read */
      net_conn_resume_reading (server.conn);
      RUN_UNTIL (server.closed, 5000);
      /* What the kernel had arrives; the queue died with the writer. */
      ck_assert_uint_gt (server.in->len, 0);
      ck_assert_uint_lt (server.in->len, total);
      ck_assert (stream_matches (server.in, 0));
      break;
    default:
      ck_abort ();
    }
  ck_assert_msg (server.reason == close_cases[_i].reason &&
                     strstr (server.message, close_cases[_i].part) != NULL,
                 "%s: reader closed %s: '%s'", name,
                 net_conn_close_reason_to_string (server.reason),
                 server.message);
  if (how != BY_CLOSE && how != BY_CLOSE_FORGET)
    {
      /* An abort is the owner's decision: no on_closed for it. */
      testloop_run_for (30);
      ck_assert (!client.closed);
    }
  end_clear (&server);
  end_clear (&client);
}
END_TEST

/* --- idle timeout ----------------------------------------------------- */

static gboolean
send_byte (gpointer data)
{
  End *e = data;
  g_autoptr (GBytes) b = g_bytes_new_static ("x", 1);

  net_conn_write (e->conn, b);
  return G_SOURCE_CONTINUE;
}

START_TEST (test_idle_timeout)
{
  End server, client;
  NetConnOptions opts = { .idle_timeout_ms = 200 };
  g_autoptr (NetListener) l = NULL;
  GSource *beat;
  gint64 last;

  end_init (&server, "server");
  end_init (&client, "client");
  l = listen_for (&server, "127.0.0.1", NULL, &opts);
  connect_end (&client, net_listener_get_address (l), NULL, NULL, NULL);
  RUN_UNTIL (server.connected, 5000);

  /* A byte every 100 ms keeps it open... */
  beat = g_timeout_source_new (100);
  g_source_set_callback (beat, send_byte, &client, NULL);
  g_source_attach (beat, ctx);
  testloop_run_for (600);
  g_source_destroy (beat);
  g_source_unref (beat);
  ck_assert_msg (!server.closed, "closed while busy: %s", server.message);
  ck_assert_uint_ge (server.in->len, 4);

  /* ...and so does a paused reader, which is not idle but waiting... */
  net_conn_pause_reading (server.conn);
  testloop_run_for (500);
  ck_assert_msg (!server.closed, "closed while paused: %s", server.message);

  /* ...until nothing moves for 200 ms. */
  last = g_get_monotonic_time ();
  net_conn_resume_reading (server.conn);
  RUN_UNTIL (server.closed && client.closed, 3000);
  ck_assert_int_eq (server.reason, NET_CONN_CLOSED_IDLE);
  ck_assert_msg (strstr (server.message, "for 200 ms") != NULL, "%s",
                 server.message);
  ck_assert_int_ge (server.closed_at - last, 200 * 1000);
  ck_assert_int_lt (server.closed_at - last, 1500 * 1000);
  ck_assert_int_eq (client.reason, NET_CONN_CLOSED_PEER);

  end_clear (&server);
  end_clear (&client);
}
END_TEST

/* --- TCP keep-alives and the user timeout ------------------------------ */

static int
sockopt (int fd, int level, int name)
{
  int v = -1;
  socklen_t len = sizeof v;

  ck_assert_msg (getsockopt (fd, level, name, &v, &len) == 0,
                 "getsockopt %d/%d: %s", level, name, g_strerror (errno));
  return v;
}

static const struct
{
  const char *name;
  NetConnOptions options;
  int keepalive, idle, interval, count, user_timeout; /* read back */
} timer_cases[] = {
  { "keep-alives and the user timeout",
    { .keepalive_idle_s = 25,
      .keepalive_interval_s = 10,
      .keepalive_count = 3,
      .user_timeout_ms = 55000 },
    1,
    25,
    10,
    3,
    55000 },
  { "none asked: the kernel's own", { 0 }, 0, -1, -1, -1, 0 },
};

/* What the options say is what the kernel reads back from the socket
 * (tcp(7)); without them SO_KEEPALIVE stays off. */
START_TEST (test_tcp_timers)
{
  g_autoptr (GError) error = NULL;
  struct sockaddr_in sin = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof sin;
  int lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int cfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int fd;
  NetConn *conn;

  ck_assert (lfd >= 0 && cfd >= 0);
  ck_assert (bind (lfd, (struct sockaddr *) &sin, sizeof sin) == 0);
  ck_assert (listen (lfd, 1) == 0);
  ck_assert (getsockname (lfd, (struct sockaddr *) &sin, &len) == 0);
  ck_assert (connect (cfd, (struct sockaddr *) &sin, sizeof sin) == 0);
  fd = accept4 (lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  ck_assert (fd >= 0);
  conn = net_conn_new_accepted (fd, NULL, &timer_cases[_i].options, &error);
  ck_assert_msg (conn != NULL, "%s", error ? error->message : "");

  ck_assert_int_eq (sockopt (fd, SOL_SOCKET, SO_KEEPALIVE),
                    timer_cases[_i].keepalive);
  if (timer_cases[_i].idle >= 0)
    {
      ck_assert_int_eq (sockopt (fd, IPPROTO_TCP, TCP_KEEPIDLE),
                        timer_cases[_i].idle);
      ck_assert_int_eq (sockopt (fd, IPPROTO_TCP, TCP_KEEPINTVL),
                        timer_cases[_i].interval);
      ck_assert_int_eq (sockopt (fd, IPPROTO_TCP, TCP_KEEPCNT),
                        timer_cases[_i].count);
    }
  ck_assert_int_eq (sockopt (fd, IPPROTO_TCP, TCP_USER_TIMEOUT),
                    timer_cases[_i].user_timeout);
  net_conn_abort (conn, FALSE);
  net_conn_unref (conn);
  close (cfd);
  close (lfd);
}
END_TEST

/* A peer that acknowledges nothing any more is dead once the user
 * timeout has passed: on_closed says NET_CONN_CLOSED_DEAD ("dead"), not
 * a reset.  On loopback the peer's kernel answers every probe, so the
 * test makes it a peer that reads nothing: its receive window stays shut,
 * and Linux gives up on a shut window after the user timeout too. */
START_TEST (test_dead_peer)
{
  End server, client;
  NetConnOptions opts = { .user_timeout_ms = 300 };
  g_autoptr (NetListener) l = NULL;
  gint64 shut;

  end_init (&server, "server");
  end_init (&client, "client");
  l = listen_for (&server, "127.0.0.1", NULL, &opts);
  connect_end (&client, net_listener_get_address (l), NULL, NULL, NULL);
  RUN_UNTIL (server.connected && client.connected, 5000);
  net_conn_pause_reading (client.conn);
  shut = g_get_monotonic_time ();
  for (gsize i = 0; i < 64; i++)
    {
      g_autoptr (GBytes) b = stream_bytes (0, 1 << 20);

      ck_assert (net_conn_write (server.conn, b));
    }
  RUN_UNTIL (server.closed, 20000);
  ck_assert_msg (server.reason == NET_CONN_CLOSED_DEAD, "%s: %s",
                 net_conn_close_reason_to_string (server.reason),
                 server.message);
  ck_assert_str_eq (net_conn_close_reason_to_string (server.reason), "dead");
  ck_assert_msg (strstr (server.message, "went unanswered") != NULL, "%s",
                 server.message);
  ck_assert_int_ge (server.closed_at - shut, 300 * 1000);
  end_clear (&server);
  end_clear (&client);
}
END_TEST

/* --- connect failures and timeouts ------------------------------------ */

typedef enum
{
  TARGET_CLOSED_PORT,  /* nothing listens: refused */
  TARGET_FULL_BACKLOG, /* SYNs dropped: connect times out */
  TARGET_SILENT,       /* accepts (backlog) but never speaks TLS */
} Target;

static const struct
{
  const char *name;
  Target target;
  gboolean tls;
  NetConnCloseReason reason;
  const char *part;
} connect_cases[] = {
  { "refused", TARGET_CLOSED_PORT, FALSE, NET_CONN_CLOSED_REFUSED,
    "failed: Connection refused" },
  { "tls refused", TARGET_CLOSED_PORT, TRUE, NET_CONN_CLOSED_REFUSED,
    "failed: Connection refused" },
  { "connect timeout", TARGET_FULL_BACKLOG, FALSE, NET_CONN_CLOSED_TIMEOUT,
    "timed out after 300 ms" },
  { "handshake timeout", TARGET_SILENT, TRUE, NET_CONN_CLOSED_TIMEOUT,
    "TLS handshake with 127.0.0.1:" },
};

static int
raw_listener (int backlog, guint16 *port)
{
  struct sockaddr_in sin = {
    .sin_family = AF_INET,
    .sin_addr.s_addr = htonl (INADDR_LOOPBACK),
  };
  socklen_t len = sizeof sin;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (bind (fd, (struct sockaddr *) &sin, sizeof sin), 0);
  ck_assert_int_eq (listen (fd, backlog), 0);
  ck_assert_int_eq (getsockname (fd, (struct sockaddr *) &sin, &len), 0);
  *port = ntohs (sin.sin_port);
  return fd;
}

START_TEST (test_connect_fail)
{
  End client;
  NetConnOptions opts = { .connect_timeout_ms = 300,
                          .handshake_timeout_ms = 300 };
  g_autoptr (NetTls) ctls = NULL;
  g_autoptr (GSocketAddress) to = NULL;
  g_autofree char *to_str = NULL;
  int fds[4] = { -1, -1, -1, -1 };
  guint16 port;
  gint64 start;

  end_init (&client, "client");
  if (connect_cases[_i].tls)
    ctls = make_tls (NULL, "ca.pem", NET_TLS_PEER_VERIFY_NONE);
  fds[0] = raw_listener (
      connect_cases[_i].target == TARGET_FULL_BACKLOG ? 0 : 8, &port);
  switch (connect_cases[_i].target)
    {
    case TARGET_CLOSED_PORT:
      close (fds[0]);
      fds[0] = -1;
      break;
    case TARGET_FULL_BACKLOG:
      /* Fill the accept queue (backlog 0 holds one); SYNs beyond it are
       * dropped, so the next connect hears nothing. */
      for (int i = 1; i < 4; i++)
        {
          struct sockaddr_in sin = {
            .sin_family = AF_INET,
            .sin_port = htons (port),
            .sin_addr.s_addr = htonl (INADDR_LOOPBACK),
          };

          fds[i] =
              socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
          ck_assert_int_ge (fds[i], 0);
          connect (fds[i], (struct sockaddr *) &sin, sizeof sin);
        }
      testloop_run_for (50);
      break;
    case TARGET_SILENT:
    default:
      break;
    }
  to_str = g_strdup_printf ("127.0.0.1:%u", port);
  to = net_addr_parse (to_str, NULL);
  start = g_get_monotonic_time ();
  connect_end (&client, to, ctls, NULL, &opts);
  RUN_UNTIL (client.closed, 5000);
  ck_assert_msg (client.reason == connect_cases[_i].reason &&
                     strstr (client.message, connect_cases[_i].part) != NULL,
                 "%s: closed %s: '%s'", connect_cases[_i].name,
                 net_conn_close_reason_to_string (client.reason),
                 client.message);
  ck_assert_msg (strstr (client.message, to_str) != NULL,
                 "'%s' does not name %s", client.message, to_str);
  ck_assert (!client.connected);
  if (connect_cases[_i].reason == NET_CONN_CLOSED_TIMEOUT)
    ck_assert_int_ge (client.closed_at - start, 300 * 1000);
  for (int i = 0; i < 4; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  end_clear (&client);
}
END_TEST

/* A TCP client on a TLS port that never says hello: the server side gives
 * up after the handshake timeout, or sees it hang up. */
static const struct
{
  const char *name;
  gboolean hang_up;
  NetConnCloseReason reason;
  const char *part;
} hello_cases[] = {
  { "silent client", FALSE, NET_CONN_CLOSED_TIMEOUT,
    "timed out after 250 ms" },
  { "client hangs up", TRUE, NET_CONN_CLOSED_TLS,
    "closed the connection during the TLS handshake" },
};

START_TEST (test_server_no_hello)
{
  End server, client;
  NetConnOptions opts = { .handshake_timeout_ms = 250 };
  g_autoptr (NetTls) stls =
      make_tls ("server", "ca.pem", NET_TLS_PEER_VERIFY_NONE);
  g_autoptr (NetListener) l = NULL;

  end_init (&server, "server");
  end_init (&client, "client");
  l = listen_for (&server, "127.0.0.1", stls, &opts);
  connect_end (&client, net_listener_get_address (l), NULL, NULL, NULL);
  RUN_UNTIL (client.connected && server.conn != NULL, 5000);
  if (hello_cases[_i].hang_up)
    net_conn_close (client.conn);
  RUN_UNTIL (server.closed && client.closed, 5000);
  ck_assert_msg (server.reason == hello_cases[_i].reason &&
                     strstr (server.message, hello_cases[_i].part) != NULL,
                 "%s: server closed %s: '%s'", hello_cases[_i].name,
                 net_conn_close_reason_to_string (server.reason),
                 server.message);
  ck_assert (!server.connected);
  ck_assert_int_eq (client.reason, hello_cases[_i].hang_up
                                       ? NET_CONN_CLOSED_LOCAL
                                       : NET_CONN_CLOSED_PEER);
  end_clear (&server);
  end_clear (&client);
}
END_TEST

/* net_conn_close() before the connection is up: closed at once, LOCAL. */
START_TEST (test_close_before_open)
{
  End server, client;
  g_autoptr (NetListener) l = NULL;

  end_init (&server, "server");
  end_init (&client, "client");
  l = listen_for (&server, "127.0.0.1", NULL, NULL);
  connect_end (&client, net_listener_get_address (l), NULL, NULL, NULL);
  net_conn_close (client.conn);
  ck_assert_int_eq (net_conn_get_state (client.conn), NET_CONN_STATE_CLOSED);
  ck_assert (!client.closed); /* never from inside a net_conn_* call */
  RUN_UNTIL (client.closed, 5000);
  ck_assert_int_eq (client.reason, NET_CONN_CLOSED_LOCAL);
  ck_assert_msg (strstr (client.message, "before it was open") != NULL, "%s",
                 client.message);
  ck_assert (!client.connected);
  end_clear (&server);
  end_clear (&client);
}
END_TEST

/* --- the owner drops the connection inside a callback ----------------- */

START_TEST (test_drop_in_callback)
{
  End server, client;
  g_autoptr (NetListener) l = NULL;
  g_autoptr (GBytes) b = stream_bytes (0, 10);

  end_init (&server, "server");
  end_init (&client, "client");
  server.drop_on_data = TRUE;
  client.drop_on_closed = TRUE;
  l = listen_for (&server, "127.0.0.1", NULL, NULL);
  connect_end (&client, net_listener_get_address (l), NULL, NULL, NULL);
  ck_assert (net_conn_write (client.conn, b));
  RUN_UNTIL (client.closed, 5000);
  ck_assert_ptr_null (server.conn);
  ck_assert_ptr_null (client.conn);
  ck_assert_uint_eq (server.in->len, 10);
  ck_assert_int_eq (client.reason, NET_CONN_CLOSED_PEER);
  ck_assert (!server.closed); /* dropped, not closed by the peer */
  end_clear (&server);
  end_clear (&client);
}
END_TEST

/* --- listener ----------------------------------------------------------- */

typedef struct
{
  guint asked;
  char *peer;
  guint accepted;
} FilterLog;

static gboolean
refuse_all (NetListener *listener, GSocketAddress *peer, gpointer data)
{
  FilterLog *f = data;

  f->asked++;
  g_free (f->peer);
  f->peer = net_addr_to_string (peer);
  return FALSE;
}

static void
count_accept (NetListener *listener, NetConn *conn, gpointer data)
{
  FilterLog *f = data;

  f->accepted++;
}

START_TEST (test_listener_filter)
{
  End client;
  FilterLog f = { 0 };
  g_autoptr (NetListener) l = listen_for (NULL, "127.0.0.1", NULL, NULL);

  end_init (&client, "client");
  net_listener_set_callbacks (l, refuse_all, count_accept, &f, NULL);
  connect_end (&client, net_listener_get_address (l), NULL, NULL, NULL);
  RUN_UNTIL (client.closed, 5000);
  ck_assert_uint_eq (f.asked, 1);
  ck_assert_uint_eq (f.accepted, 0);
  ck_assert_str_eq (f.peer, net_conn_get_local_address (client.conn));
  /* Refused with a RST, which may reach the client before it has seen its
   * connect complete. */
  ck_assert_msg ((client.reason == NET_CONN_CLOSED_RESET ||
                  client.reason == NET_CONN_CLOSED_CONNECT_FAILED) &&
                     strstr (client.message, "Connection reset by peer"),
                 "%s: %s", net_conn_close_reason_to_string (client.reason),
                 client.message);
  g_free (f.peer);
  end_clear (&client);
}
END_TEST

/* IPv6 listeners are IPv6 only, so both families share a port; a port in
 * use is an error that names the address. */
START_TEST (test_listener_families)
{
  g_autoptr (NetListener) v4 = listen_for (NULL, "0.0.0.0", NULL, NULL);
  guint16 port = g_inet_socket_address_get_port (
      G_INET_SOCKET_ADDRESS (net_listener_get_address (v4)));
  g_autofree char *v6_addr = g_strdup_printf ("[::]:%u", port);
  g_autoptr (GSocketAddress) v6_sa = inet_addr ("::", port);
  g_autoptr (GError) error = NULL;
  g_autoptr (NetListener) v6 = net_listener_new (v6_sa, NULL, NULL, &error);
  g_autoptr (GSocketAddress) again = inet_addr ("0.0.0.0", port);
  g_autoptr (NetListener) dup = net_listener_new (again, NULL, NULL, &error);
  g_autoptr (NetTls) client_only =
      make_tls (NULL, "ca.pem", NET_TLS_PEER_VERIFY_NONE);
  g_autoptr (NetListener) no_cert = NULL;

  ck_assert_msg (v6 != NULL, "IPv6 on the IPv4 port: %s",
                 error ? error->message : "");
  ck_assert_str_eq (net_listener_get_address_string (v6), v6_addr);
  ck_assert_ptr_null (dup);
  ck_assert_msg (
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE), "%s",
      error->message);
  ck_assert_msg (g_str_has_prefix (error->message, "cannot bind 0.0.0.0:"),
                 "%s", error->message);
  g_clear_error (&error);
  no_cert = net_listener_new (again, client_only, NULL, &error);
  ck_assert_ptr_null (no_cert);
  ck_assert (g_error_matches (error, NET_TLS_ERROR, NET_TLS_ERROR_NO_SERVER));
}
END_TEST

/* Out of descriptors, accept() fails while the connection waits in the
 * backlog, so the socket stays readable: the listener must back off rather
 * than spin, and take the connection once descriptors are free again. */
static gint64
cpu_time_us (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (gint64) ru.ru_utime.tv_sec * G_USEC_PER_SEC + ru.ru_utime.tv_usec +
         (gint64) ru.ru_stime.tv_sec * G_USEC_PER_SEC + ru.ru_stime.tv_usec;
}

START_TEST (test_listener_out_of_fds)
{
  End server;
  g_autoptr (NetListener) l = NULL;
  struct rlimit saved, tight;
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t len = sizeof sin;
  int fd, lowest_free;
  gint64 cpu;

  end_init (&server, "server");
  l = listen_for (&server, "127.0.0.1", NULL, NULL);
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  sin.sin_port = htons (g_inet_socket_address_get_port (
      G_INET_SOCKET_ADDRESS (net_listener_get_address (l))));
  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_eq (connect (fd, (struct sockaddr *) &sin, len), 0);

  /* No descriptor left above the ones open now. */
  lowest_free = dup (0);
  ck_assert_int_ge (lowest_free, 0);
  close (lowest_free);
  ck_assert_int_eq (getrlimit (RLIMIT_NOFILE, &saved), 0);
  tight = saved;
  tight.rlim_cur = (rlim_t) lowest_free;
  ck_assert_int_eq (setrlimit (RLIMIT_NOFILE, &tight), 0);
  cpu = cpu_time_us ();
  testloop_run_for (500);
  cpu = cpu_time_us () - cpu;
  ck_assert_int_eq (setrlimit (RLIMIT_NOFILE, &saved), 0);
  ck_assert_ptr_null (server.conn);
  ck_assert_msg (cpu < 250 * 1000,
                 "%" G_GINT64_FORMAT " us of CPU in 500 ms: "
                 "spinning on the backlog",
                 cpu);

  RUN_UNTIL (server.conn != NULL, 2000);
  ck_assert (server.connected ||
             net_conn_get_state (server.conn) == NET_CONN_STATE_OPEN);
  close (fd);
  end_clear (&server);
}
END_TEST

/* --- NetTls: loading errors and reload --------------------------------- */

static const struct
{
  const char *name;
  const char *cert; /* file names in the certificate directory */
  const char *key;
  const char *ca;
  NetTlsError code;
  const char *part; /* "@DIR@": the certificate directory */
} tls_error_cases[] = {
  { "missing certificate", "nonexistent.pem", "server.key", "ca.pem",
    NET_TLS_ERROR_CERTIFICATE,
    "cannot load certificate chain @DIR@/nonexistent.pem: No such file or "
    "directory" },
  { "missing key", "server.pem", "nonexistent.key", "ca.pem",
    NET_TLS_ERROR_PRIVATE_KEY,
    "cannot load private key @DIR@/nonexistent.key: "
    "No such file or directory" },
  { "key is not PEM", "server.pem", "openssl.cnf", "ca.pem",
    NET_TLS_ERROR_PRIVATE_KEY, "cannot load private key @DIR@/openssl.cnf: " },
  { "certificate is a key", "server.key", "server.key", "ca.pem",
    NET_TLS_ERROR_CERTIFICATE,
    "cannot load certificate chain @DIR@/server.key: "
    "no start line" },
  { "key of another certificate", "server.pem", "client.key", "ca.pem",
    NET_TLS_ERROR_PRIVATE_KEY,
    "private key @DIR@/client.key does not match "
    "certificate @DIR@/server.pem: key values mismatch" },
  { "CA file without certificates", "server.pem", "server.key", "openssl.cnf",
    NET_TLS_ERROR_CA,
    "cannot load CA file @DIR@/openssl.cnf: no certificate "
    "or crl found" },
  { "missing CA file", "server.pem", "server.key", "nonexistent-ca.pem",
    NET_TLS_ERROR_CA,
    "cannot load CA file @DIR@/nonexistent-ca.pem: No such file "
    "or directory" },
  { "certificate without key", "server.pem", NULL, "ca.pem",
    NET_TLS_ERROR_PRIVATE_KEY, "give both or neither" },
};

START_TEST (test_tls_errors)
{
  g_autofree char *cert = cert_path (tls_error_cases[_i].cert);
  g_autofree char *key = cert_path (tls_error_cases[_i].key);
  g_autofree char *ca = cert_path (tls_error_cases[_i].ca);
  g_auto (GStrv) pieces = g_strsplit (tls_error_cases[_i].part, "@DIR@", -1);
  g_autofree char *part = g_strjoinv (cert_dir, pieces);
  NetTlsSettings s = { cert, key, ca, NET_TLS_PEER_VERIFY_REQUIRED };
  g_autoptr (GError) error = NULL;
  g_autoptr (NetTls) tls = net_tls_new (&s, &error);

  ck_assert_msg (tls == NULL, "%s: loaded", tls_error_cases[_i].name);
  ck_assert_msg (
      g_error_matches (error, NET_TLS_ERROR, (gint) tls_error_cases[_i].code),
      "%s: code %d: %s", tls_error_cases[_i].name, error->code,
      error->message);
  ck_assert_msg (strstr (error->message, part) != NULL, "%s: '%s' lacks '%s'",
                 tls_error_cases[_i].name, error->message, part);
  /* Nothing left behind for the next error to pick up. */
  ck_assert_uint_eq (ERR_peek_error (), 0);
}
END_TEST

/* Reload builds new contexts from the same files; connections made before
 * keep working on the old ones, even once nobody else holds them. */
START_TEST (test_tls_reload)
{
  End s1, c1, s2, c2;
  NetTls *old = make_tls ("server", "ca.pem", NET_TLS_PEER_VERIFY_NONE);
  g_autoptr (NetTls) ctls =
      make_tls (NULL, "ca.pem", NET_TLS_PEER_VERIFY_NONE);
  g_autoptr (NetTls) fresh = NULL;
  g_autoptr (NetTls) broken = NULL;
  g_autoptr (NetListener) l = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp_dir = g_dir_make_tmp ("net-tls-reload-XXXXXX", NULL);
  g_autofree char *cert = g_build_filename (tmp_dir, "cert.pem", NULL);
  g_autofree char *key = g_build_filename (tmp_dir, "key.pem", NULL);
  g_autofree char *src_cert = cert_path ("server.pem");
  g_autofree char *src_key = cert_path ("server.key");
  g_autofree char *text = NULL;
  g_autoptr (GBytes) b = stream_bytes (0, 100);
  g_autoptr (GBytes) b2 = stream_bytes (100, 100);
  gsize len;

  end_init (&s1, "server 1");
  end_init (&c1, "client 1");
  end_init (&s2, "server 2");
  end_init (&c2, "client 2");
  s1.echo = s2.echo = TRUE;
  l = listen_for (&s1, "127.0.0.1", old, NULL);
  connect_end (&c1, net_listener_get_address (l), ctls, "relay.test", NULL);
  ck_assert (net_conn_write (c1.conn, b));
  RUN_UNTIL (c1.in->len == 100 || c1.closed, 5000);

  fresh = net_tls_reload (old, &error);
  ck_assert_msg (fresh != NULL, "%s", error ? error->message : "");
  ck_assert_ptr_ne (fresh, old);
  net_listener_set_tls (l, fresh);
  g_clear_pointer (&old, net_tls_unref); /* the listener had let it go */
  net_listener_set_callbacks (l, NULL, on_accept, &s2, NULL);
  connect_end (&c2, net_listener_get_address (l), ctls, "relay.test", NULL);
  ck_assert (net_conn_write (c2.conn, b));
  ck_assert (net_conn_write (c1.conn, b2));
  RUN_UNTIL ((c2.in->len == 100 && c1.in->len == 200) || c1.closed ||
                 c2.closed,
             5000);
  ck_assert (!c1.closed && !c2.closed);
  ck_assert (stream_matches (c1.in, 0));
  ck_assert (stream_matches (c2.in, 0));

  /* A reload that fails leaves the caller with what it had. */
  ck_assert (g_file_get_contents (src_cert, &text, &len, NULL));
  ck_assert (g_file_set_contents (cert, text, (gssize) len, NULL));
  g_clear_pointer (&text, g_free);
  ck_assert (g_file_get_contents (src_key, &text, &len, NULL));
  ck_assert (g_file_set_contents (key, text, (gssize) len, NULL));
  {
    NetTlsSettings s = { cert, key, NULL, NET_TLS_PEER_VERIFY_NONE };
    g_autoptr (NetTls) from_tmp = net_tls_new (&s, &error);

    ck_assert_msg (from_tmp != NULL, "%s", error ? error->message : "");
    ck_assert_int_eq (g_unlink (key), 0);
    broken = net_tls_reload (from_tmp, &error);
    ck_assert_ptr_null (broken);
    ck_assert_msg (strstr (error->message, key) != NULL, "%s", error->message);
    ck_assert (net_tls_can_serve (from_tmp));
  }
  g_unlink (cert);
  g_rmdir (tmp_dir);

  end_clear (&s1);
  end_clear (&c1);
  end_clear (&s2);
  end_clear (&c2);
}
END_TEST

/* --- stream transport --------------------------------------------------- */

/* A GIOStream over a TCP socket stands in for an ICE-TCP pair: one end
 * carried by net_conn_new_from_stream(), the other a plain TCP NetConn that
 * echoes.  Bytes both ways, backpressure-free echo of 3 MiB, then the
 * stream end's close (no half-close: it ends once the queue is written)
 * and the TCP end sees the end of stream. */
START_TEST (test_stream_transport)
{
  End server, client;
  g_autoptr (NetListener) l = NULL;
  g_autoptr (GSocketClient) sc = g_socket_client_new ();
  g_autoptr (GSocketConnection) sconn = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GFile) devnull = g_file_new_for_path ("/dev/null");
  g_autoptr (GFileInputStream) fin = NULL;
  g_autoptr (GOutputStream) mout = NULL;
  g_autoptr (GIOStream) bad = NULL;
  NetConn *c;
  gsize total = 0;

  end_init (&server, "server");
  end_init (&client, "client");
  server.echo = TRUE;
  l = listen_for (&server, "127.0.0.1", NULL, NULL);
  /* A blocking connect is fine: the kernel completes it from the backlog. */
  sconn = g_socket_client_connect (
      sc, G_SOCKET_CONNECTABLE (net_listener_get_address (l)), NULL, &error);
  ck_assert_msg (sconn != NULL, "%s", error ? error->message : "");
  c = net_conn_new_from_stream (G_IO_STREAM (sconn), "ice-tcp", "192.0.2.7:9",
                                "192.0.2.1:50000", NULL, &error);
  ck_assert_msg (c != NULL, "%s", error ? error->message : "");
  end_attach (&client, c);
  ck_assert_str_eq (net_conn_get_transport_name (c), "ice-tcp");
  ck_assert_str_eq (net_conn_get_peer_address (c), "192.0.2.7:9");
  ck_assert_str_eq (net_conn_get_local_address (c), "192.0.2.1:50000");
  RUN_UNTIL (client.connected, 5000);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (GBytes) b = stream_bytes (total, 1 << 20);

      ck_assert (net_conn_write (c, b));
      total += 1 << 20;
    }
  RUN_UNTIL (client.in->len == total || client.closed || server.closed, 20000);
  ck_assert_uint_eq (client.in->len, total);
  ck_assert (stream_matches (client.in, 0));
  ck_assert_uint_eq (net_conn_get_bytes_out (c), total);
  ck_assert_uint_eq (net_conn_get_bytes_in (c), total);

  net_conn_close (c);
  RUN_UNTIL (client.closed && server.closed, 5000);
  ck_assert_int_eq (client.reason, NET_CONN_CLOSED_LOCAL);
  ck_assert_int_eq (server.reason, NET_CONN_CLOSED_PEER);
  end_clear (&server);
  end_clear (&client);

  /* A stream that cannot be polled is refused. */
  fin = g_file_read (devnull, NULL, &error);
  ck_assert_ptr_nonnull (fin);
  mout = g_memory_output_stream_new_resizable ();
  bad = g_simple_io_stream_new (G_INPUT_STREAM (fin), mout);
  c = net_conn_new_from_stream (bad, "ice-tcp", "192.0.2.7:9", NULL, NULL,
                                &error);
  ck_assert_ptr_null (c);
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED));
}
END_TEST

static Suite *
conn_suite (void)
{
  Suite *s = suite_create ("net-conn");
  TCase *tc = tcase_create ("loopback");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_loop_test (tc, test_echo, 0, G_N_ELEMENTS (echo_cases));
  tcase_add_loop_test (tc, test_backpressure, 0, 2);
  tcase_add_loop_test (tc, test_tls_handshake, 0, G_N_ELEMENTS (tls_cases));
  tcase_add_loop_test (tc, test_tls_version, 0, G_N_ELEMENTS (version_cases));
  tcase_add_loop_test (tc, test_peer_close, 0, G_N_ELEMENTS (close_cases));
  tcase_add_test (tc, test_idle_timeout);
  tcase_add_loop_test (tc, test_tcp_timers, 0, G_N_ELEMENTS (timer_cases));
  tcase_add_test (tc, test_dead_peer);
  tcase_add_loop_test (tc, test_connect_fail, 0, G_N_ELEMENTS (connect_cases));
  tcase_add_loop_test (tc, test_server_no_hello, 0,
                       G_N_ELEMENTS (hello_cases));
  tcase_add_test (tc, test_close_before_open);
  tcase_add_test (tc, test_drop_in_callback);
  tcase_add_test (tc, test_stream_transport);
  tcase_add_test (tc, test_listener_filter);
  tcase_add_test (tc, test_listener_families);
  tcase_add_test (tc, test_listener_out_of_fds);
  tcase_add_loop_test (tc, test_tls_errors, 0, G_N_ELEMENTS (tls_error_cases));
  tcase_add_test (tc, test_tls_reload);
  suite_add_tcase (s, tc);
  return s;
}

static void
remove_cert_dir (void)
{
  g_autoptr (GDir) dir = g_dir_open (cert_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (cert_dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (cert_dir);
}

int
main (void)
{
  g_autoptr (GError) error = NULL;
  SRunner *sr;
  int failed;
  gint status;

  cert_dir = g_dir_make_tmp ("test-net-conn-XXXXXX", &error);
  if (cert_dir == NULL)
    {
      fprintf (stderr, "cannot make a temporary directory: %s\n",
               error->message);
      return 1;
    }
  {
    char *argv[] = { (char *) "/bin/sh", (char *) GEN_CERTS, cert_dir, NULL };

    if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                       NULL, &status, &error) ||
        !g_spawn_check_wait_status (status, &error))
      {
        fprintf (stderr, "cannot make the test certificates with %s: %s\n",
                 GEN_CERTS, error->message);
        remove_cert_dir ();
        return 1;
      }
  }

  sr = srunner_create (conn_suite ());
  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  remove_cert_dir ();
  g_free (cert_dir);
  return failed != 0 ? 1 : 0;
}
