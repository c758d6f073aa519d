/* Check suite for the ng control server (gateway/gw-ng.c), over real UDP
 * sockets on loopback.
 *
 * Each test runs its own GMainContext and a fresh server on a free port.
 * A recording handler stands in for the negotiator: it notes every call
 * and answers, holds or drops the request as the test asks.  Every wait
 * iterates the context under a deadline, so a missing reply fails the
 * test instead of hanging it.  A datagram that must not be answered is
 * followed by a ping with another cookie, whose pong must be the very
 * next datagram; what the server logs is captured with gw_log_set_tap(). */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net-addr.h"
#include "gw-log.h"
#include "logtap.h"
#include "gw-ng.h"
#include "net-loop.h"
#include "testloop.h"

#define S(lit) lit, sizeof lit - 1
#define WAIT_MS 3000
#define PONG(cookie) cookie " d6:result4:ponge"

static GPtrArray *log_lines;

typedef enum
{
  MODE_ANSWER, /* reply { "sdp": the sdp } (or { }) at once */
  MODE_HOLD,   /* keep a reference, answer later */
  MODE_DROP,   /* return without answering */
  MODE_BIG,    /* reply with an SDP too large for a datagram */
  MODE_ECHO,   /* reply an error naming the call-id as sent */
  MODE_LIMIT,  /* reply load limit */
} Mode;

typedef struct
{
  Mode mode;
  GPtrArray *calls; /* "command call-id" */
  GPtrArray *held;  /* GwNgRequest */
  /* Copied from the last request seen. */
  char *cookie;
  char *peer;
  char *call_id;
  char *from_tag;
  char *to_tag;
  char *via_branch;
  char *sdp;
  char *received_from;
  char **flags;
  gboolean trust_address;
  gboolean sip_source;
  gboolean trust;
  char *extra; /* the "x-extra" key, if a string */
} Recorder;

static Recorder rec;
static GwNgServer *server;

/* --- the recording handler ----------------------------------------------- */

static void
on_request (GwNgRequest *req, gpointer data)
{
  Recorder *r = data;
  const char *call_id = gw_ng_request_get_call_id (req);
  GInetAddress *rf = gw_ng_request_get_received_from (req);
  GwBencode *extra =
      gw_bencode_dict_lookup (gw_ng_request_get_dict (req), "x-extra");
  const char *text;

  ck_assert_ptr_eq (data, &rec);
  g_ptr_array_add (
      r->calls,
      g_strdup_printf (
          "%s %s", gw_ng_command_to_string (gw_ng_request_get_command (req)),
          call_id != NULL ? call_id : "-"));
  g_free (r->cookie);
  r->cookie = g_strdup (gw_ng_request_get_cookie (req));
  g_free (r->peer);
  r->peer = g_strdup (gw_ng_request_get_peer_string (req));
  ck_assert (G_IS_INET_SOCKET_ADDRESS (gw_ng_request_get_peer (req)));
  g_free (r->call_id);
  r->call_id = g_strdup (call_id);
  g_free (r->from_tag);
  r->from_tag = g_strdup (gw_ng_request_get_from_tag (req));
  g_free (r->to_tag);
  r->to_tag = g_strdup (gw_ng_request_get_to_tag (req));
  g_free (r->via_branch);
  r->via_branch = g_strdup (gw_ng_request_get_via_branch (req));
  g_free (r->sdp);
  r->sdp = g_strdup (gw_ng_request_get_sdp (req, NULL));
  g_free (r->received_from);
  r->received_from = rf != NULL ? g_inet_address_to_string (rf) : NULL;
  g_strfreev (r->flags);
  r->flags = g_strdupv ((char **) gw_ng_request_get_flags (req));
  r->trust_address = gw_ng_request_has_flag (req, "trust address");
  r->sip_source = gw_ng_request_has_flag (req, "sip-source-address");
  r->trust = gw_ng_request_has_flag (req, "trust");
  g_free (r->extra);
  r->extra = extra != NULL && gw_bencode_get_text (extra, &text)
                 ? g_strdup (text)
                 : NULL;
  ck_assert (!gw_ng_request_is_answered (req));

  switch (r->mode)
    {
    case MODE_ANSWER:
      {
        GwBencode *reply = gw_bencode_new_dict ();
        const char *sdp = gw_ng_request_get_sdp (req, NULL);

        if (sdp != NULL)
          gw_bencode_dict_set_string (reply, "sdp", sdp);
        gw_ng_request_reply (req, reply);
        ck_assert (gw_ng_request_is_answered (req));
      }
      break;
    case MODE_HOLD:
      g_ptr_array_add (r->held, gw_ng_request_ref (req));
      break;
    case MODE_DROP:
      break;
    case MODE_BIG:
      {
        GwBencode *reply = gw_bencode_new_dict ();
        g_autofree char *sdp = g_strnfill (GW_NG_REPLY_MAX, 'x');

        gw_bencode_dict_set_string (reply, "sdp", sdp);
        gw_ng_request_reply (req, reply);
      }
      break;
    case MODE_ECHO:
      gw_ng_request_reply_error (req, "unknown call-id '%s'", call_id);
      break;
    case MODE_LIMIT:
      gw_ng_request_reply_load_limit (req, "Parallel session limit reached");
      break;
    }
}

static const GwNgHandler all_commands = {
  .offer = on_request,
  .answer = on_request,
  .delete = on_request,
  .query = on_request,
  .list = on_request,
  .statistics = on_request,
};

static void
recorder_clear (Recorder *r)
{
  g_ptr_array_unref (r->calls);
  g_ptr_array_unref (r->held);
  g_free (r->cookie);
  g_free (r->peer);
  g_free (r->call_id);
  g_free (r->from_tag);
  g_free (r->to_tag);
  g_free (r->via_branch);
  g_free (r->sdp);
  g_free (r->received_from);
  g_strfreev (r->flags);
  g_free (r->extra);
  memset (r, 0, sizeof *r);
}

/* --- fixture ------------------------------------------------------------- */

static void
setup (void)
{
  testloop_start ();
  log_lines = logtap_start ();
  memset (&rec, 0, sizeof rec);
  rec.calls = g_ptr_array_new_with_free_func (g_free);
  rec.held =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gw_ng_request_unref);
  /* The reply cache ages on the loop's clock, which the tests move. */
  net_loop_set_fake_time (net_loop_get_default (), 1000000);
}

static void
teardown (void)
{
  g_clear_pointer (&server, gw_ng_server_free);
  recorder_clear (&rec);
  testloop_stop ();
  logtap_stop ();
}

/* A server with the recorder on the NULL-terminated list of "IP PORT"
 * (port 0: any free one). */
static GwNgServer *start_on (const GwNgOptions *options,
                             const GwNgHandler *handler, GError **error,
                             ...) G_GNUC_NULL_TERMINATED;

static GwNgServer *
start_on (const GwNgOptions *options, const GwNgHandler *handler,
          GError **error, ...)
{
  g_autoptr (GPtrArray) addrs =
      g_ptr_array_new_with_free_func (g_object_unref);
  const char *item;
  va_list ap;

  va_start (ap, error);
  while ((item = va_arg (ap, const char *)) != NULL)
    {
      g_auto (GStrv) parts = g_strsplit (item, " ", 2);
      GSocketAddress *a = g_inet_socket_address_new_from_string (
          parts[0], (guint) atoi (parts[1]));

      ck_assert_ptr_nonnull (a);
      g_ptr_array_add (addrs, a);
    }
  va_end (ap);
  return gw_ng_server_new (addrs, options, handler, &rec, NULL, error);
}

static void
start (const GwNgOptions *options)
{
  g_autoptr (GError) error = NULL;

  server = start_on (options, &all_commands, &error, "127.0.0.1 0", NULL);
  ck_assert_msg (server != NULL, "%s", error ? error->message : "");
}

static GSocketAddress *
server_addr (guint i)
{
  return gw_ng_server_get_addresses (server)->pdata[i];
}

/* --- a client ------------------------------------------------------------ */

static int
client_new (GSocketFamily family)
{
  int fd = socket (family == G_SOCKET_FAMILY_IPV6 ? AF_INET6 : AF_INET,
                   SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int size = 1 << 20;

  ck_assert_int_ge (fd, 0);
  setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return fd;
}

static void
client_send (int fd, GSocketAddress *to, const void *data, gsize len)
{
  struct sockaddr_storage ss;
  gssize n;

  ck_assert (g_socket_address_to_native (to, &ss, sizeof ss, NULL));
  n = sendto (fd, data, len, 0, (struct sockaddr *) &ss,
              (socklen_t) g_socket_address_get_native_size (to));
  ck_assert_msg (n == (gssize) len, "sendto: %s", g_strerror (errno));
}

/* The next datagram for @fd within @ms, or NULL. */
static GBytes *
client_recv (int fd, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  static guint8 buf[70000];

  for (;;)
    {
      gssize n = recv (fd, buf, sizeof buf, 0);

      if (n >= 0)
        return g_bytes_new (buf, (gsize) n);
      ck_assert_int_eq (errno, EAGAIN);
      if (g_get_monotonic_time () >= end)
        return NULL;
      testloop_iterate ();
    }
}

static void
assert_bytes (GBytes *got, const char *want, gsize want_len)
{
  gsize len;
  const char *data;

  ck_assert_msg (got != NULL, "no reply; wanted '%.*s'", (int) want_len, want);
  data = g_bytes_get_data (got, &len);
  ck_assert_msg (len == want_len && memcmp (data, want, len) == 0,
                 "got '%.*s' (%zu bytes), wanted '%.*s'", (int) MIN (len, 300),
                 data, len, (int) want_len, want);
}

/* Send @len bytes at @data and check the reply is @want. */
static void
exchange (int fd, const void *data, gsize len, const char *want)
{
  g_autoptr (GBytes) got = NULL;

  client_send (fd, server_addr (0), data, len);
  got = client_recv (fd, WAIT_MS);
  assert_bytes (got, want, strlen (want));
}

/* No reply to what was sent: the next datagram is the pong to a ping
 * sent now with another cookie. */
static void
assert_no_reply (int fd)
{
  exchange (fd, S ("alive d7:command4:pinge"), PONG ("alive"));
}

static char *
error_reply (const char *cookie, const char *reason)
{
  return g_strdup_printf ("%s d12:error-reason%zu:%s6:result5:errore", cookie,
                          strlen (reason), reason);
}

static GwNgStats
stats (void)
{
  GwNgStats st;

  gw_ng_server_get_stats (server, &st);
  return st;
}

/* --- tests --------------------------------------------------------------- */

START_TEST (test_ping)
{
  int fd;
  g_autofree char *addr = NULL;
  g_autofree char *up = NULL;

  start (NULL);
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  addr = net_addr_to_string (server_addr (0));
  up = g_strdup_printf ("\"addr\":\"%s\"", addr);
  ck_assert_uint_eq (logtap_count ("control_up", "\"proto\":\"ng\"", up, NULL),
                     1);
  exchange (fd, S ("5323_1 d7:command4:pinge"), PONG ("5323_1"));
  /* rtpengine-ng-client's cookies are "rand() ": digits and a dot. */
  exchange (fd, S ("0.695329483 d7:command4:pinge"), PONG ("0.695329483"));
  ck_assert_uint_eq (rec.calls->len, 0);
  ck_assert_uint_eq (stats ().requests, 2);
  ck_assert_uint_eq (stats ().datagrams, 2);
  close (fd);
}
END_TEST

START_TEST (test_ipv6)
{
  g_autoptr (GError) error = NULL;
  int fd;

  struct sockaddr_in6 probe = { .sin6_family = AF_INET6,
                                .sin6_addr = IN6ADDR_LOOPBACK_INIT };

  fd = socket (AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &probe, sizeof probe) < 0)
    {
      fprintf (stderr, "test_ipv6: no IPv6 loopback here, skipped\n");
      if (fd >= 0)
        close (fd);
      return;
    }
  close (fd);
  server =
      start_on (NULL, &all_commands, &error, "127.0.0.1 0", "::1 0", NULL);
  ck_assert_msg (server != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (gw_ng_server_get_addresses (server)->len, 2);
  ck_assert_int_eq (g_socket_address_get_family (server_addr (1)),
                    G_SOCKET_FAMILY_IPV6);
  fd = client_new (G_SOCKET_FAMILY_IPV6);
  client_send (fd, server_addr (1), S ("v6 d7:command4:pinge"));
  {
    g_autoptr (GBytes) got = client_recv (fd, WAIT_MS);

    assert_bytes (got, S (PONG ("v6")));
  }
  ck_assert_uint_eq (logtap_count ("control_up", "\"addr\":\"[::1]:", NULL),
                     1);
  close (fd);
}
END_TEST

/* An offer with every key the server reads, and some it does not. */
START_TEST (test_offer)
{
  g_autoptr (GwBencode) d = gw_bencode_new_dict ();
  g_autoptr (GwBencode) rf = gw_bencode_new_list ();
  g_autoptr (GwBencode) flags = gw_bencode_new_list ();
  g_autoptr (GByteArray) dgram = g_byte_array_new ();
  g_autofree char *want = NULL;
  g_autofree char *client = NULL;
  const char *sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\n"
                    "c=IN IP4 192.0.2.7\r\nt=0 0\r\n"
                    "m=message 2855 TCP/MSRP *\r\n";
  struct sockaddr_in sin;
  socklen_t sin_len = sizeof sin;
  int fd;

  start (NULL);
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  gw_bencode_dict_set_string (d, "command", "offer");
  gw_bencode_dict_set_string (d, "call-id", "a84b4c76e66710@pc33");
  gw_bencode_dict_set_string (d, "from-tag", "1928301774");
  gw_bencode_dict_set_string (d, "via-branch", "z9hG4bK776asdhds");
  gw_bencode_dict_set_string (d, "sdp", sdp);
  gw_bencode_list_add_string (rf, "IP4");
  gw_bencode_list_add_string (rf, "192.0.2.7");
  gw_bencode_dict_take (d, "received-from", g_steal_pointer (&rf));
  gw_bencode_list_add_string (flags, "trust-address");
  gw_bencode_list_add_string (flags, "SIP Source Address");
  gw_bencode_dict_take (d, "flags", g_steal_pointer (&flags));
  gw_bencode_dict_set_string (d, "x-extra", "kept");
  gw_bencode_dict_set_int (d, "TOS", 184);
  gw_bencode_dict_take (d, "replace", gw_bencode_new_list ());
  g_byte_array_append (dgram, (const guint8 *) "7_3_1 ", 6);
  gw_bencode_encode_append (d, dgram);

  want =
      g_strdup_printf ("7_3_1 d6:result2:ok3:sdp%zu:%se", strlen (sdp), sdp);
  exchange (fd, dgram->data, dgram->len, want);

  ck_assert_uint_eq (rec.calls->len, 1);
  ck_assert_str_eq (rec.calls->pdata[0], "offer a84b4c76e66710@pc33");
  ck_assert_str_eq (rec.cookie, "7_3_1");
  ck_assert_int_eq (getsockname (fd, (struct sockaddr *) &sin, &sin_len), 0);
  client = g_strdup_printf ("127.0.0.1:%u", ntohs (sin.sin_port));
  ck_assert_str_eq (rec.peer, client);
  ck_assert_str_eq (rec.call_id, "a84b4c76e66710@pc33");
  ck_assert_str_eq (rec.from_tag, "1928301774");
  ck_assert_ptr_null (rec.to_tag);
  ck_assert_str_eq (rec.via_branch, "z9hG4bK776asdhds");
  ck_assert_str_eq (rec.sdp, sdp);
  ck_assert_str_eq (rec.received_from, "192.0.2.7");
  ck_assert_uint_eq (g_strv_length (rec.flags), 2);
  ck_assert_str_eq (rec.flags[0], "trust-address");
  ck_assert_str_eq (rec.flags[1], "SIP Source Address");
  ck_assert (rec.trust_address);
  ck_assert (rec.sip_source);
  ck_assert (!rec.trust);
  ck_assert_str_eq (rec.extra, "kept");

  ck_assert_uint_eq (logtap_count ("control_request", "\"command\":\"offer\"",
                                   "\"call_id\":\"a84b4c76e66710@pc33\"",
                                   "\"cookie\":\"7_3_1\"",
                                   "\"from\":\"127.0.0.1:", NULL),
                     1);
  ck_assert_uint_eq (logtap_count ("control_error", NULL), 0);
  close (fd);
}
END_TEST

/* The same cookie again is answered from the cache, not executed. */
START_TEST (test_retransmission)
{
  static const char offer[] =
      "k1 d7:call-id1:c7:command5:offer8:from-tag1:f3:sdp3:v=0e";
  static const char reply[] = "k1 d6:result2:ok3:sdp3:v=0e";
  g_autofree char *unknown = NULL;
  int fd, other;

  start (NULL);
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  exchange (fd, S (offer), reply);
  exchange (fd, S (offer), reply);
  exchange (fd, S (offer), reply);
  ck_assert_uint_eq (rec.calls->len, 1);
  ck_assert_uint_eq (stats ().retransmissions, 2);
  ck_assert_uint_eq (stats ().requests, 1);
  ck_assert_uint_eq (stats ().cache_entries, 1);
  ck_assert_uint_eq (logtap_count ("control_request", "\"cookie\":\"k1\"",
                                   "\"cached\":true", NULL),
                     2);

  /* Another cookie from the same sender is a new request... */
  exchange (fd, S ("k2 d7:call-id1:c7:command5:offer8:from-tag1:f3:sdp3:v=0e"),
            "k2 d6:result2:ok3:sdp3:v=0e");
  ck_assert_uint_eq (rec.calls->len, 2);
  /* ...and so is the same cookie from another sender (another port). */
  other = client_new (G_SOCKET_FAMILY_IPV4);
  exchange (other, S (offer), reply);
  ck_assert_uint_eq (rec.calls->len, 3);
  exchange (other, S (offer), reply);
  ck_assert_uint_eq (rec.calls->len, 3);

  /* Error replies are cached too: the error is not worked out again. */
  unknown = error_reply ("k3", "unknown command 'foo'");
  exchange (fd, S ("k3 d7:command3:fooe"), unknown);
  exchange (fd, S ("k3 d7:command3:fooe"), unknown);
  ck_assert_uint_eq (logtap_count ("control_error", "unknown command", NULL),
                     1);
  ck_assert_uint_eq (stats ().errors, 1);
  close (fd);
  close (other);
}
END_TEST

/* Requests are counted by command when dispatched, and each one answered
 * goes into its command's latency histogram: from its datagram read to
 * its reply sent, on the loop's clock.  A retransmission answered from the
 * cache and a datagram without a known command are neither. */
START_TEST (test_command_stats)
{
  NetLoop *loop = net_loop_get_default ();
  g_autoptr (GBytes) got = NULL;
  const GwNgCommandStats *list, *ping;
  GwNgStats st;
  guint64 dispatched = 0;
  int fd;

  start (NULL);
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  exchange (fd, S ("p1 d7:command4:pinge"), PONG ("p1"));
  exchange (fd, S ("p1 d7:command4:pinge"), PONG ("p1"));
  client_send (fd, server_addr (0), S ("u1 d7:command3:fooe"));
  got = client_recv (fd, WAIT_MS);
  ck_assert_ptr_nonnull (got);
  g_clear_pointer (&got, g_bytes_unref);

  /* A list held 300 ms of the loop's clock. */
  rec.mode = MODE_HOLD;
  client_send (fd, server_addr (0), S ("l1 d7:command4:liste"));
  RUN_UNTIL (rec.held->len == 1, WAIT_MS);
  st = stats ();
  ck_assert_uint_eq (st.commands[GW_NG_COMMAND_LIST].requests, 1);
  ck_assert_uint_eq (st.commands[GW_NG_COMMAND_LIST].answered, 0);
  net_loop_set_fake_time (loop, net_loop_now (loop) + 300000);
  gw_ng_request_reply (rec.held->pdata[0], NULL);
  got = client_recv (fd, WAIT_MS);
  assert_bytes (got, S ("l1 d6:result2:oke"));

  st = stats ();
  list = &st.commands[GW_NG_COMMAND_LIST];
  ck_assert_uint_eq (list->answered, 1);
  ck_assert_uint_eq (list->sum_us, 300000);
  for (guint i = 0; i < GW_NG_LATENCY_BUCKETS; i++)
    ck_assert_uint_eq (list->le[i], gw_ng_latency_bounds_us[i] >= 300000);
  /* The ping answered at once, the retransmission not counted. */
  ping = &st.commands[GW_NG_COMMAND_PING];
  ck_assert_uint_eq (ping->requests, 1);
  ck_assert_uint_eq (ping->answered, 1);
  ck_assert_uint_eq (ping->sum_us, 0);
  for (guint i = 0; i < GW_NG_LATENCY_BUCKETS; i++)
    ck_assert_uint_eq (ping->le[i], 1);
  /* The unknown command: an error, under no command. */
  for (guint c = 0; c < GW_NG_N_COMMANDS; c++)
    dispatched += st.commands[c].requests;
  ck_assert_uint_eq (dispatched, st.requests);
  ck_assert_uint_eq (st.requests, 2);
  ck_assert_uint_eq (st.errors, 1);
  ck_assert_uint_eq (st.retransmissions, 1);
  close (fd);
}
END_TEST

/* A retransmission while the handler still holds the request is not
 * answered; the one answer goes out when the handler gives it. */
START_TEST (test_retransmission_in_progress)
{
  static const char del[] = "h1 d7:call-id2:c17:command6:deletee";
  g_autoptr (GBytes) got = NULL;
  int fd;

  start (NULL);
  rec.mode = MODE_HOLD;
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  client_send (fd, server_addr (0), S (del));
  client_send (fd, server_addr (0), S (del));
  assert_no_reply (fd);
  ck_assert_uint_eq (rec.calls->len, 1);
  ck_assert_uint_eq (rec.held->len, 1);
  ck_assert_uint_eq (stats ().pending, 1);
  ck_assert_uint_eq (stats ().dropped, 1);

  /* The answer, later. */
  gw_ng_request_reply (rec.held->pdata[0], NULL);
  ck_assert (gw_ng_request_is_answered (rec.held->pdata[0]));
  g_ptr_array_set_size (rec.held, 0);
  got = client_recv (fd, WAIT_MS);
  assert_bytes (got, S ("h1 d6:result2:oke"));
  ck_assert_uint_eq (stats ().pending, 0);
  /* Nothing else was queued: the next datagram is a new pong. */
  assert_no_reply (fd);
  /* And now it is cached. */
  exchange (fd, S (del), "h1 d6:result2:oke");
  ck_assert_uint_eq (rec.calls->len, 1);
  close (fd);
}
END_TEST

/* Cached replies age out with the clock, and the oldest go first when
 * there are too many. */
START_TEST (test_cache_bounds)
{
  GwNgOptions opts = { .cache_ttl_ms = 1000, .cache_max_entries = 2 };
  int fd;

  start (&opts);
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  exchange (fd, S ("a d7:call-id1:a7:command5:querye"), "a d6:result2:oke");
  net_loop_advance (net_loop_get_default (), 999 * 1000);
  exchange (fd, S ("a d7:call-id1:a7:command5:querye"), "a d6:result2:oke");
  ck_assert_uint_eq (rec.calls->len, 1);
  net_loop_advance (net_loop_get_default (), 1000);
  exchange (fd, S ("a d7:call-id1:a7:command5:querye"), "a d6:result2:oke");
  ck_assert_uint_eq (rec.calls->len, 2);

  /* Three more cookies; only the last two stay. */
  exchange (fd, S ("b d7:call-id1:b7:command5:querye"), "b d6:result2:oke");
  exchange (fd, S ("c d7:call-id1:c7:command5:querye"), "c d6:result2:oke");
  ck_assert_uint_eq (stats ().cache_entries, 2);
  ck_assert_uint_eq (rec.calls->len, 4);
  exchange (fd, S ("a d7:call-id1:a7:command5:querye"), "a d6:result2:oke");
  ck_assert_uint_eq (rec.calls->len, 5); /* evicted: executed again */
  exchange (fd, S ("c d7:call-id1:c7:command5:querye"), "c d6:result2:oke");
  ck_assert_uint_eq (rec.calls->len, 5); /* still cached */
  ck_assert_uint_eq (stats ().cache_entries, 2);
  close (fd);
}
END_TEST

START_TEST (test_cache_bytes)
{
  /* Each reply is "x d6:result2:oke" (16 bytes): room for two. */
  GwNgOptions opts = { .cache_max_bytes = 40 };
  int fd;

  start (&opts);
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  exchange (fd, S ("a d7:command4:liste"), "a d6:result2:oke");
  exchange (fd, S ("b d7:command4:liste"), "b d6:result2:oke");
  ck_assert_uint_eq (stats ().cache_bytes, 32);
  exchange (fd, S ("c d7:command4:liste"), "c d6:result2:oke");
  ck_assert_uint_eq (stats ().cache_entries, 2);
  ck_assert_uint_eq (stats ().cache_bytes, 32);
  exchange (fd, S ("a d7:command4:liste"), "a d6:result2:oke");
  ck_assert_uint_eq (rec.calls->len, 4);
  close (fd);
}
END_TEST

typedef enum
{
  EXPECT_ERROR,   /* an error reply with .text as error-reason */
  EXPECT_REPLY,   /* exactly .text */
  EXPECT_NOTHING, /* dropped */
} Expect;

static const struct
{
  const char *name;
  const char *dgram;
  gsize len;
  Expect expect;
  const char *text;
  guint calls; /* handler calls */
} message_cases[] = {
  /* the cookie */
  { "no space", S ("d7:command4:pinge"), EXPECT_NOTHING, NULL, 0 },
  { "empty cookie", S (" d7:command4:pinge"), EXPECT_NOTHING, NULL, 0 },
  { "control byte in cookie", S ("c\x01 d7:command4:pinge"), EXPECT_NOTHING,
    NULL, 0 },
  { "8-bit cookie", S ("caf\xc3\xa9 d7:command4:pinge"), EXPECT_NOTHING, NULL,
    0 },
  { "cookie only", S ("cookie"), EXPECT_NOTHING, NULL, 0 },
  { "empty datagram", S (""), EXPECT_NOTHING, NULL, 0 },

  /* the dictionary */
  { "no dictionary", S ("c1 "), EXPECT_ERROR, "no dictionary after the cookie",
    0 },
  { "blank dictionary", S ("c1 \r\n"), EXPECT_ERROR,
    "no dictionary after the cookie", 0 },
  { "two spaces", S ("c1  d7:command4:pinge"), EXPECT_ERROR,
    "malformed bencode: offset 0: byte 0x20 cannot start a value", 0 },
  { "json", S ("c1 {\"command\":\"ping\"}"), EXPECT_ERROR,
    "JSON messages are not supported; send a bencoded dictionary", 0 },
  { "cut", S ("c1 d7:command4:ping"), EXPECT_ERROR,
    "malformed bencode: offset 16: the input ends inside the dictionary "
    "opened at offset 0",
    0 },
  { "two dictionaries", S ("c1 dede"), EXPECT_ERROR,
    "malformed bencode: offset 2: 2 bytes after the value", 0 },
  { "duplicate key", S ("c1 d7:command4:ping7:command4:pinge"), EXPECT_ERROR,
    "malformed bencode: offset 16: duplicate dictionary key 'command'", 0 },
  { "too deep",
    S ("c1 d1:allllllllllllllllleeeeeeeeeeeeeeeee7:command4:pinge"),
    EXPECT_ERROR,
    "malformed bencode: offset 19: lists and dictionaries nest deeper "
    "than 16",
    0 },
  { "a list", S ("c1 l4:pinge"), EXPECT_ERROR,
    "the message is a list, not a dictionary", 0 },
  { "an integer", S ("c1 i7e"), EXPECT_ERROR,
    "the message is an integer, not a dictionary", 0 },
  { "trailing line end", S ("c1 d7:command4:pinge\r\n"), EXPECT_REPLY,
    PONG ("c1"), 0 },
  { "unknown keys", S ("c1 d3:fooli1ee7:command4:ping3:zzzd1:ai1eee"),
    EXPECT_REPLY, PONG ("c1"), 0 },

  /* the command */
  { "no command", S ("c1 d3:fooi1ee"), EXPECT_ERROR,
    "no 'command' in the message", 0 },
  { "integer command", S ("c1 d7:commandi1ee"), EXPECT_ERROR,
    "'command' is an integer, not a string", 0 },
  { "list command", S ("c1 d7:commandlee"), EXPECT_ERROR,
    "'command' is a list, not a string", 0 },
  { "unknown command", S ("c1 d7:command10:frobnicatee"), EXPECT_ERROR,
    "unknown command 'frobnicate'", 0 },
  { "unknown command quoted", S ("c1 d7:command4:a\x01\\be"), EXPECT_ERROR,
    "unknown command 'a\\x01\\x5cb'", 0 },
  { "commands are case-sensitive", S ("c1 d7:command4:PINGe"), EXPECT_ERROR,
    "unknown command 'PING'", 0 },
  { "ping with a call-id", S ("c1 d7:call-id1:x7:command4:pinge"),
    EXPECT_REPLY, PONG ("c1"), 0 },

  /* required keys */
  { "offer without anything", S ("c1 d7:command5:offere"), EXPECT_ERROR,
    "no 'call-id' in the offer", 0 },
  { "offer without from-tag",
    S ("c1 d7:call-id1:c7:command5:offer3:sdp3:v=0e"), EXPECT_ERROR,
    "no 'from-tag' in the offer", 0 },
  { "offer without sdp", S ("c1 d7:call-id1:c7:command5:offer8:from-tag1:fe"),
    EXPECT_ERROR, "no 'sdp' in the offer", 0 },
  { "answer without to-tag",
    S ("c1 d7:call-id1:c7:command6:answer8:from-tag1:f3:sdp3:v=0e"),
    EXPECT_ERROR, "no 'to-tag' in the answer", 0 },
  { "answer",
    S ("c1 d7:call-id1:c7:command6:answer8:from-tag1:f3:sdp3:v=06:"
       "to-tag1:te"),
    EXPECT_REPLY, "c1 d6:result2:ok3:sdp3:v=0e", 1 },
  { "delete without call-id", S ("c1 d7:command6:delete8:from-tag1:fe"),
    EXPECT_ERROR, "no 'call-id' in the delete", 0 },
  { "delete", S ("c1 d7:call-id1:c7:command6:deletee"), EXPECT_REPLY,
    "c1 d6:result2:oke", 1 },
  { "query without call-id", S ("c1 d7:command5:querye"), EXPECT_ERROR,
    "no 'call-id' in the query", 0 },
  { "query", S ("c1 d7:call-id1:c7:command5:querye"), EXPECT_REPLY,
    "c1 d6:result2:oke", 1 },
  { "list", S ("c1 d7:command4:liste"), EXPECT_REPLY, "c1 d6:result2:oke", 1 },
  { "statistics", S ("c1 d7:command10:statisticse"), EXPECT_REPLY,
    "c1 d6:result2:oke", 1 },

  /* keys of the wrong form */
  { "call-id list", S ("c1 d7:call-idle7:command6:deletee"), EXPECT_ERROR,
    "'call-id' is a list, not a string", 0 },
  { "call-id integer", S ("c1 d7:call-idi5e7:command6:deletee"), EXPECT_ERROR,
    "'call-id' is an integer, not a string", 0 },
  { "call-id with NUL", S ("c1 d7:call-id3:a\0b7:command6:deletee"),
    EXPECT_ERROR, "'call-id' holds a NUL byte", 0 },
  { "to-tag dict", S ("c1 d7:call-id1:c7:command6:delete6:to-tagdee"),
    EXPECT_ERROR, "'to-tag' is a dictionary, not a string", 0 },
  { "sdp with NUL",
    S ("c1 d7:call-id1:c7:command5:offer8:from-tag1:f3:sdp3:v\0\ne"),
    EXPECT_ERROR, "'sdp' holds a NUL byte", 0 },
  { "flags string", S ("c1 d7:call-id1:c7:command6:delete5:flags5:fatale"),
    EXPECT_ERROR, "'flags' is a string, not a list", 0 },
  { "flags integer item",
    S ("c1 d7:call-id1:c7:command6:delete5:flagsl5:fatali1eee"), EXPECT_ERROR,
    "'flags' item 2 is an integer, not a string", 0 },
  { "flags list item", S ("c1 d7:call-id1:c7:command6:delete5:flagslleee"),
    EXPECT_ERROR, "'flags' item 1 is a list, not a string", 0 },
  { "flags NUL item", S ("c1 d7:call-id1:c7:command6:delete5:flagsl2:a\0ee"),
    EXPECT_ERROR, "'flags' item 1 holds a NUL byte", 0 },
  { "empty flags", S ("c1 d7:call-id1:c7:command6:delete5:flagslee"),
    EXPECT_REPLY, "c1 d6:result2:oke", 1 },

  /* received from */
  { "received from",
    S ("c1 d7:call-id1:c7:command6:delete13:received froml"
       "3:IP48:10.0.0.1ee"),
    EXPECT_REPLY, "c1 d6:result2:oke", 1 },
  { "received-from",
    S ("c1 d7:call-id1:c7:command6:delete13:received-froml"
       "3:IP68:2001:db8ee"),
    EXPECT_ERROR, "'received-from': '2001:db8' is not an IP address", 0 },
  { "received from IPv6",
    S ("c1 d7:call-id1:c7:command6:delete13:received "
       "froml3:IP611:2001:db8::1ee"),
    EXPECT_REPLY, "c1 d6:result2:oke", 1 },
  { "received from bare",
    S ("c1 d7:call-id1:c7:command6:delete13:received "
       "from8:10.0.0.1e"),
    EXPECT_REPLY, "c1 d6:result2:oke", 1 },
  { "received from family",
    S ("c1 d7:call-id1:c7:command6:delete13:received "
       "froml3:IP58:10.0.0.1ee"),
    EXPECT_ERROR,
    "'received from': address family 'IP5' is neither IP4 nor IP6", 0 },
  { "received from mismatch",
    S ("c1 d7:call-id1:c7:command6:delete13:"
       "received froml3:IP43:::1ee"),
    EXPECT_ERROR, "'received from': '::1' is not an IPv4 address", 0 },
  { "received from mismatch 6",
    S ("c1 d7:call-id1:c7:command6:delete13:"
       "received froml3:IP68:10.0.0.1ee"),
    EXPECT_ERROR, "'received from': '10.0.0.1' is not an IPv6 address", 0 },
  { "received from three",
    S ("c1 d7:call-id1:c7:command6:delete13:received "
       "froml3:IP48:10.0.0.11:xee"),
    EXPECT_ERROR,
    "'received from' is not a list of two strings, an address family and an "
    "address",
    0 },
  { "received from integer",
    S ("c1 d7:call-id1:c7:command6:delete13:"
       "received fromi1ee"),
    EXPECT_ERROR, "'received from' is neither a list nor an address", 0 },
};

START_TEST (test_messages)
{
  int fd;

  start (NULL);
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  client_send (fd, server_addr (0), message_cases[_i].dgram,
               message_cases[_i].len);
  switch (message_cases[_i].expect)
    {
    case EXPECT_NOTHING:
      assert_no_reply (fd);
      ck_assert_uint_eq (stats ().dropped, 1);
      ck_assert_uint_eq (logtap_count ("control_error", "\"reason\":\"", NULL),
                         1);
      break;
    case EXPECT_ERROR:
      {
        g_autofree char *want = error_reply ("c1", message_cases[_i].text);
        g_autoptr (GBytes) got = client_recv (fd, WAIT_MS);
        g_autofree char *reason =
            g_strdup_printf ("\"reason\":\"%s\"", message_cases[_i].text);

        assert_bytes (got, want, strlen (want));
        ck_assert_uint_eq (stats ().errors, 1);
        /* Logged once, with the cookie (quotes in the reason aside). */
        if (strchr (message_cases[_i].text, '"') == NULL &&
            strchr (message_cases[_i].text, '\\') == NULL)
          ck_assert_uint_eq (logtap_count ("control_error", reason,
                                           "\"cookie\":\"c1\"", NULL),
                             1);
      }
      break;
    case EXPECT_REPLY:
      {
        g_autoptr (GBytes) got = client_recv (fd, WAIT_MS);

        assert_bytes (got, message_cases[_i].text,
                      strlen (message_cases[_i].text));
        ck_assert_uint_eq (stats ().errors, 0);
      }
      break;
    }
  ck_assert_msg (rec.calls->len == message_cases[_i].calls,
                 "%s: %u handler calls", message_cases[_i].name,
                 rec.calls->len);
  close (fd);
}
END_TEST

/* Cookies: 128 bytes are answered, 129 are not. */
START_TEST (test_cookie_length)
{
  g_autofree char *c128 = g_strnfill (GW_NG_COOKIE_MAX, 'k');
  g_autofree char *c129 = g_strnfill (GW_NG_COOKIE_MAX + 1, 'k');
  g_autofree char *ping128 = g_strdup_printf ("%s d7:command4:pinge", c128);
  g_autofree char *pong128 = g_strdup_printf ("%s d6:result4:ponge", c128);
  g_autofree char *ping129 = g_strdup_printf ("%s d7:command4:pinge", c129);
  int fd;

  start (NULL);
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  exchange (fd, ping128, strlen (ping128), pong128);
  client_send (fd, server_addr (0), ping129, strlen (ping129));
  assert_no_reply (fd);
  ck_assert_uint_eq (logtap_count ("control_error",
                                   "no space in the first 129 "
                                   "bytes",
                                   NULL),
                     1);
  close (fd);
}
END_TEST

/* A flood of bad datagrams: every one counted, GW_NG_ERROR_LINES_PER_S
 * control_error lines a second, and the first line of the next second
 * says how many were left out. */
START_TEST (test_error_lines_cut)
{
  int fd;

  start (NULL);
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  for (guint i = 0; i < GW_NG_ERROR_LINES_PER_S + 5; i++)
    client_send (fd, server_addr (0), S ("no-space"));
  assert_no_reply (fd);
  ck_assert_uint_eq (stats ().dropped, GW_NG_ERROR_LINES_PER_S + 5);
  ck_assert_uint_eq (logtap_count ("control_error", NULL),
                     GW_NG_ERROR_LINES_PER_S);
  ck_assert_uint_eq (logtap_count ("control_error", "suppressed", NULL), 0);

  net_loop_advance (net_loop_get_default (), G_USEC_PER_SEC);
  client_send (fd, server_addr (0), S ("no-space"));
  assert_no_reply (fd);
  ck_assert_uint_eq (logtap_count ("control_error", "\"suppressed\":5", NULL),
                     1);
  ck_assert_uint_eq (logtap_count ("control_error", NULL),
                     GW_NG_ERROR_LINES_PER_S + 1);
  close (fd);
}
END_TEST

/* A datagram above the limit gets an error naming both sizes; one at the
 * limit is read; without a cookie in reach it is dropped. */
START_TEST (test_oversize)
{
  GwNgOptions opts = { .max_request_bytes = 1024 };
  g_autoptr (GString) big = g_string_new ("big d7:command4:ping3:pad");
  g_autofree char *want = NULL;
  g_autofree char *nocookie = g_strnfill (2000, 'x');
  int fd;

  start (&opts);
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  /* Exactly 1024 bytes. */
  g_string_append_printf (big, "%u:", 1024 - 25 - 4 - 1);
  while (big->len < 1023)
    g_string_append_c (big, 'p');
  g_string_append_c (big, 'e');
  ck_assert_uint_eq (big->len, 1024);
  exchange (fd, big->str, big->len, PONG ("big"));

  g_string_truncate (big, 0);
  g_string_append (big, "big2 d7:command4:ping3:pad1970:");
  while (big->len < 2001)
    g_string_append_c (big, 'p');
  g_string_append_c (big, 'e');
  ck_assert_uint_eq (big->len, 2002);
  want = error_reply ("big2", "the message of 2002 bytes is longer than the "
                              "limit of 1024 bytes");
  exchange (fd, big->str, big->len, want);

  client_send (fd, server_addr (0), nocookie, 2000);
  assert_no_reply (fd);
  close (fd);
}
END_TEST

/* The largest datagram IPv4 carries is read whole with the defaults. */
START_TEST (test_largest_datagram)
{
  g_autoptr (GString) big = g_string_new ("max d7:command4:ping3:pad");
  int fd;

  start (NULL);
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  g_string_append_printf (big, "%u:", GW_NG_REPLY_MAX - 25 - 6 - 1);
  while (big->len < GW_NG_REPLY_MAX - 1)
    g_string_append_c (big, 'p');
  g_string_append_c (big, 'e');
  ck_assert_uint_eq (big->len, GW_NG_REPLY_MAX);
  exchange (fd, big->str, big->len, PONG ("max"));
  close (fd);
}
END_TEST

/* A reply too large for a datagram becomes an error. */
START_TEST (test_reply_too_big)
{
  g_autofree char *want = NULL;
  int fd;

  start (NULL);
  rec.mode = MODE_BIG;
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  /* "b d6:result2:ok3:sdp65507:...e" */
  want = error_reply ("b", "the reply of 65534 bytes does not fit in a "
                           "datagram");
  exchange (fd, S ("b d7:call-id1:c7:command5:querye"), want);
  ck_assert_uint_eq (rec.calls->len, 1);
  close (fd);
}
END_TEST

/* A handler that forgets to answer still gets the client an answer. */
START_TEST (test_dropped_by_handler)
{
  g_autofree char *want = NULL;
  int fd;

  start (NULL);
  rec.mode = MODE_DROP;
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  want = error_reply ("d", "the request was dropped without an answer");
  exchange (fd, S ("d d7:call-id1:c7:command5:querye"), want);
  ck_assert_uint_eq (stats ().pending, 0);
  close (fd);
}
END_TEST

static const GwNgHandler offer_only = { .offer = on_request };

START_TEST (test_not_supported)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *want = NULL;
  int fd;

  server = start_on (NULL, &offer_only, &error, "127.0.0.1 0", NULL);
  ck_assert_ptr_nonnull (server);
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  want = error_reply ("n", "command 'list' is not supported");
  exchange (fd, S ("n d7:command4:liste"), want);
  ck_assert_uint_eq (rec.calls->len, 0);
  exchange (fd, S ("p d7:command4:pinge"), PONG ("p"));
  close (fd);
}
END_TEST

START_TEST (test_max_pending)
{
  GwNgOptions opts = { .max_pending = 1 };
  g_autofree char *want = NULL;
  g_autoptr (GBytes) got = NULL;
  int fd;

  start (&opts);
  rec.mode = MODE_HOLD;
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  client_send (fd, server_addr (0), S ("q1 d7:call-id1:c7:command5:querye"));
  want = error_reply ("q2", "too many requests in progress (1)");
  exchange (fd, S ("q2 d7:call-id1:c7:command5:querye"), want);
  ck_assert_uint_eq (rec.calls->len, 1);
  /* Ping is answered here, whatever the handler holds. */
  exchange (fd, S ("q3 d7:command4:pinge"), PONG ("q3"));
  gw_ng_request_reply_error (rec.held->pdata[0], "no such call %s", "c");
  got = client_recv (fd, WAIT_MS);
  assert_bytes (got,
                S ("q1 d12:error-reason14:no such call c6:result5:errore"));
  g_ptr_array_set_size (rec.held, 0);
  /* The slot is free again. */
  rec.mode = MODE_ANSWER;
  exchange (fd, S ("q4 d7:call-id1:c7:command5:querye"), "q4 d6:result2:oke");
  ck_assert_uint_eq (rec.calls->len, 2);
  close (fd);
}
END_TEST

/* Requests outlive the server; answering them then does nothing. */
START_TEST (test_server_freed)
{
  int fd;

  start (NULL);
  rec.mode = MODE_HOLD;
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  client_send (fd, server_addr (0), S ("f d7:call-id1:c7:command5:querye"));
  {
    gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;

    while (rec.held->len == 0 && g_get_monotonic_time () < end)
      testloop_iterate ();
  }
  ck_assert_uint_eq (rec.held->len, 1);
  g_clear_pointer (&server, gw_ng_server_free);
  gw_ng_request_reply (rec.held->pdata[0], NULL);
  ck_assert (gw_ng_request_is_answered (rec.held->pdata[0]));
  ck_assert_str_eq (gw_ng_request_get_cookie (rec.held->pdata[0]), "f");
  g_ptr_array_set_size (rec.held, 0);
  close (fd);
}
END_TEST

START_TEST (test_bind_errors)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GwNgServer) second = NULL;
  g_autofree char *taken = NULL;
  g_autofree char *port = NULL;

  start (NULL);
  taken = net_addr_to_string (server_addr (0));
  port = g_strdup_printf ("127.0.0.1 %u",
                          g_inet_socket_address_get_port (
                              G_INET_SOCKET_ADDRESS (server_addr (0))));
  /* A free port first, then the taken one: nothing stays bound. */
  second = start_on (NULL, &all_commands, &error, "127.0.0.1 0", port, NULL);
  ck_assert_ptr_null (second);
  ck_assert (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE));
  ck_assert (
      g_str_has_prefix (error->message, "cannot bind the control socket "));
  ck_assert_ptr_nonnull (strstr (error->message, taken));
  ck_assert_uint_eq (logtap_count ("control_up", NULL), 1);
}
END_TEST

/* fuzz-ng found it: a handler's error naming what the client sent (a
 * call-id of any bytes) made an error-reason that is not text.  Replies
 * are text in plain words: invalid UTF-8 becomes U+FFFD. */
START_TEST (test_reply_text)
{
  int fd;

  start (NULL);
  fd = client_new (G_SOCKET_FAMILY_IPV4);
  rec.mode = MODE_ECHO;
  exchange (fd,
            S ("u1 d7:call-id2:\xff"
               "17:command6:deletee"),
            "u1 d12:error-reason22:unknown call-id '\xef\xbf\xbd"
            "1'6:result5:errore");
  /* load limit: to a client that supports it, else rtpengine's error. */
  rec.mode = MODE_LIMIT;
  exchange (fd,
            S ("u2 d7:call-id1:c7:command5:offer8:from-tag1:f3:sdp1:x"
               "8:supportsl10:load limitee"),
            "u2 d7:message30:Parallel session limit reached6:result10:load "
            "limite");
  exchange (fd, S ("u3 d7:call-id1:c7:command5:offer8:from-tag1:f3:sdp1:xe"),
            "u3 d12:error-reason30:Parallel session limit reached6:result5:"
            "errore");
  ck_assert_uint_eq (stats ().errors, 2);
  close (fd);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("gw-ng");
  TCase *tc = tcase_create ("core");
  SRunner *sr;
  int failed;

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_ping);
  tcase_add_test (tc, test_ipv6);
  tcase_add_test (tc, test_offer);
  tcase_add_test (tc, test_retransmission);
  tcase_add_test (tc, test_retransmission_in_progress);
  tcase_add_test (tc, test_command_stats);
  tcase_add_test (tc, test_cache_bounds);
  tcase_add_test (tc, test_cache_bytes);
  tcase_add_loop_test (tc, test_messages, 0, G_N_ELEMENTS (message_cases));
  tcase_add_test (tc, test_cookie_length);
  tcase_add_test (tc, test_error_lines_cut);
  tcase_add_test (tc, test_oversize);
  tcase_add_test (tc, test_largest_datagram);
  tcase_add_test (tc, test_reply_too_big);
  tcase_add_test (tc, test_dropped_by_handler);
  tcase_add_test (tc, test_not_supported);
  tcase_add_test (tc, test_max_pending);
  tcase_add_test (tc, test_server_freed);
  tcase_add_test (tc, test_bind_errors);
  tcase_add_test (tc, test_reply_text);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
