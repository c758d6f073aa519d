/* Check suite for CEMA anchoring (gateway/daemon/gw-anchor.c).
 *
 * The anchor works on raw descriptors (splice(2) between real sockets), so
 * the virtual network does not apply: the parties are real loopback
 * sockets, each driven by two threads of blocking I/O (a writer and a
 * reader) while the test iterates the anchor's loop.  Sources are told
 * apart by binding clients to different loopback addresses (127.0.0.2,
 * 127.0.0.3: all of 127/8 is local).  The deadlines (idle, probation) run
 * on the loop's fake clock. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw-anchor.h"
#include "logtap.h"
#include "net-loop.h"
#include "testloop.h"

#define SID_A "offerer7sid"
#define SID_B "answerer9sid"

static GwAnchorPool *pool;

static void
setup (void)
{
  g_autoptr (GPtrArray) addresses =
      g_ptr_array_new_with_free_func (g_object_unref);
  GwAnchorPoolSettings s = { .addresses = addresses, .pipe_size = 65536 };

  testloop_start ();
  logtap_start ();
  g_ptr_array_add (addresses, g_inet_address_new_from_string ("127.0.0.1"));
  pool = gw_anchor_pool_new (&s, NULL);
  ck_assert_ptr_nonnull (pool);
}

static void
teardown_pool (void)
{
  gw_anchor_pool_free (pool);
  pool = NULL;
  logtap_stop ();
  testloop_stop ();
}

/* --- parties: real sockets, blocking I/O in threads --------------------- */

static guint8
pattern (guint64 i, guint8 seed)
{
  return (guint8) (((i * 2654435761u) >> 11) ^ seed);
}

typedef struct
{
  int fd;
  /* writing: @head, then @send_len pattern bytes of @seed */
  GString *head;
  guint64 send_len;
  guint8 seed;
  gboolean shut_after; /* shutdown(SHUT_WR) once written */
  gint sent;           /* atomic: bytes written so far */
  int write_errno;
  /* reading: @expect_head, then pattern bytes of @expect_seed */
  GString *expect_head;
  guint8 expect_seed;
  gint start_reading; /* atomic: the reader waits for it */
  guint64 received;
  guint64 mismatch; /* first byte that differs, G_MAXUINT64: none */
  gboolean eof;
  int read_errno;
  GThread *writer, *reader;
  gint done; /* atomic: threads finished */
} Peer;

static gpointer
writer_main (gpointer data)
{
  Peer *p = data;
  guint8 buf[65536];
  guint64 off = 0;

  if (p->head != NULL && send (p->fd, p->head->str, p->head->len, 0) < 0)
    p->write_errno = errno;
  g_atomic_int_add (&p->sent, p->head != NULL ? (gint) p->head->len : 0);
  while (p->write_errno == 0 && off < p->send_len)
    {
      gsize n = (gsize) MIN ((guint64) sizeof buf, p->send_len - off);
      ssize_t w;

      for (gsize i = 0; i < n; i++)
        buf[i] = pattern (off + i, p->seed);
      w = send (p->fd, buf, n, MSG_NOSIGNAL);
      if (w < 0)
        {
          p->write_errno = errno;
          break;
        }
      off += (guint64) w;
      g_atomic_int_add (&p->sent, (gint) w);
    }
  if (p->shut_after && p->write_errno == 0)
    shutdown (p->fd, SHUT_WR);
  g_atomic_int_inc (&p->done);
  return NULL;
}

static gpointer
reader_main (gpointer data)
{
  Peer *p = data;
  guint8 buf[65536];
  gsize head_len = p->expect_head != NULL ? p->expect_head->len : 0;

  while (!g_atomic_int_get (&p->start_reading))
    g_usleep (1000);
  for (;;)
    {
      ssize_t n = recv (p->fd, buf, sizeof buf, 0);

      if (n == 0)
        {
          p->eof = TRUE;
          break;
        }
      if (n < 0)
        {
          p->read_errno = errno;
          break;
        }
      for (ssize_t i = 0; i < n && p->mismatch == G_MAXUINT64; i++)
        {
          guint64 at = p->received + (guint64) i;
          guint8 want = at < head_len
                            ? (guint8) p->expect_head->str[at]
                            : pattern (at - head_len, p->expect_seed);

          if (buf[i] != want)
            p->mismatch = at;
        }
      p->received += (guint64) n;
    }
  g_atomic_int_inc (&p->done);
  return NULL;
}

/* A first SEND's head from @from to @to (RFC 4975 section 7.1). */
static GString *
send_head (const char *from, const char *to)
{
  GString *s = g_string_new (NULL);

  g_string_printf (s,
                   "MSRP a786hjs2 SEND\r\n"
                   "To-Path: msrp://127.0.0.1:9/%s;tcp\r\n"
                   "From-Path: msrp://127.0.0.1:9/%s;tcp\r\n"
                   "Message-ID: 87652491\r\nByte-Range: 1-*/*\r\n"
                   "Content-Type: application/octet-stream\r\n\r\n",
                   to, from);
  return s;
}

/* A blocking TCP connection from @bind_ip to 127.0.0.1:@port. */
static int
connect_from (const char *bind_ip, guint16 port)
{
  struct sockaddr_in src = { .sin_family = AF_INET };
  struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  ck_assert_int_ge (fd, 0);
  inet_pton (AF_INET, bind_ip, &src.sin_addr);
  inet_pton (AF_INET, "127.0.0.1", &dst.sin_addr);
  ck_assert_int_eq (bind (fd, (struct sockaddr *) &src, sizeof src), 0);
  ck_assert_msg (connect (fd, (struct sockaddr *) &dst, sizeof dst) == 0,
                 "connect: %s", g_strerror (errno));
  return fd;
}

static Peer *
peer_new (int fd)
{
  Peer *p = g_new0 (Peer, 1);

  p->fd = fd;
  p->mismatch = G_MAXUINT64;
  p->start_reading = 1;
  return p;
}

static void
peer_start (Peer *p)
{
  p->writer = g_thread_new ("writer", writer_main, p);
  p->reader = g_thread_new ("reader", reader_main, p);
}

static gboolean
peer_done (Peer *p)
{
  return g_atomic_int_get (&p->done) == 2;
}

static void
peer_free (Peer *p)
{
  if (p->writer != NULL)
    g_thread_join (p->writer);
  if (p->reader != NULL)
    g_thread_join (p->reader);
  if (p->fd >= 0)
    close (p->fd);
  if (p->head != NULL)
    g_string_free (p->head, TRUE);
  if (p->expect_head != NULL)
    g_string_free (p->expect_head, TRUE);
  g_free (p);
}

/* --- anchors ------------------------------------------------------------- */

static GPtrArray *
addresses (const char *ip)
{
  GPtrArray *a = g_ptr_array_new_with_free_func (g_object_unref);

  if (ip != NULL)
    g_ptr_array_add (a, g_inet_address_new_from_string (ip));
  return a;
}

static MsrpUri *
uri (const char *sid)
{
  g_autofree char *text = g_strdup_printf ("msrp://127.0.0.1:9/%s;tcp", sid);

  return msrp_uri_parse (text, -1, NULL);
}

/* An anchor of two inbound TCP/MSRP parties expected from @ip_a and
 * @ip_b (NULL: any). */
static GwAnchor *
anchor_in_in (const char *ip_a, const char *ip_b)
{
  g_autoptr (GPtrArray) src_a = addresses (ip_a);
  g_autoptr (GPtrArray) src_b = addresses (ip_b);
  g_autoptr (MsrpUri) ua = uri (SID_A);
  g_autoptr (MsrpUri) ub = uri (SID_B);
  GwAnchorPartySettings a = { .sources = src_a, .uri = ua };
  GwAnchorPartySettings b = { .sources = src_b, .uri = ub };
  GwAnchorSettings s = { .call_id = "c1", .parties = { &a, &b } };
  g_autoptr (GError) error = NULL;
  GwAnchor *anchor = gw_anchor_new (pool, &s, &error);

  ck_assert_msg (anchor != NULL, "gw_anchor_new: %s", error->message);
  return anchor;
}

static GwAnchorState
state_of (GwAnchor *a)
{
  GwAnchorInfo info;

  gw_anchor_get_info (a, &info);
  return info.state;
}

static guint64
refused_of (GwAnchor *a)
{
  GwAnchorInfo info;

  gw_anchor_get_info (a, &info);
  return info.refused;
}

/* Peers @a (offerer) and @b (answerer) connected to @anchor, each sending
 * its first SEND and @len_a / @len_b pattern bytes, then a FIN. */
static void
pair_start (GwAnchor *anchor, Peer **pa, Peer **pb, guint64 len_a,
            guint64 len_b)
{
  Peer *a = peer_new (connect_from ("127.0.0.1", gw_anchor_get_port (anchor)));
  Peer *b = peer_new (connect_from ("127.0.0.1", gw_anchor_get_port (anchor)));

  a->head = send_head (SID_A, SID_B);
  b->head = send_head (SID_B, SID_A);
  a->expect_head = g_string_new_len (b->head->str, b->head->len);
  b->expect_head = g_string_new_len (a->head->str, a->head->len);
  a->send_len = len_a;
  b->send_len = len_b;
  a->seed = b->expect_seed = 17;
  b->seed = a->expect_seed = 91;
  a->shut_after = b->shut_after = TRUE;
  *pa = a;
  *pb = b;
}

START_TEST (test_both_ways_byte_exact)
{
  GwAnchor *anchor = anchor_in_in ("127.0.0.1", NULL);
  Peer *a, *b;
  GwAnchorInfo info;
  const guint64 big = 48u << 20, small = 5u << 20;

  ck_assert_uint_gt (gw_anchor_get_port (anchor), 0);
  ck_assert_str_eq (gw_anchor_get_sdp_host (anchor, G_SOCKET_FAMILY_IPV4),
                    "127.0.0.1");
  ck_assert_ptr_null (gw_anchor_get_sdp_host (anchor, G_SOCKET_FAMILY_IPV6));
  pair_start (anchor, &a, &b, big, small);
  peer_start (a);
  peer_start (b);
  RUN_UNTIL (peer_done (a) && peer_done (b), 60000);
  ck_assert_int_eq (a->write_errno, 0);
  ck_assert_int_eq (b->write_errno, 0);
  /* Each end got the other's bytes exactly, then the end of stream. */
  ck_assert (a->eof && b->eof);
  ck_assert_uint_eq (b->mismatch, G_MAXUINT64);
  ck_assert_uint_eq (a->mismatch, G_MAXUINT64);
  ck_assert_uint_eq (b->received, a->head->len + big);
  ck_assert_uint_eq (a->received, b->head->len + small);
  RUN_UNTIL (state_of (anchor) == GW_ANCHOR_STATE_CLOSED, 5000);
  gw_anchor_get_info (anchor, &info);
  ck_assert_int_eq (info.closed, GW_ANCHOR_CLOSED_PEER);
  ck_assert_uint_eq (info.bytes_from[GW_ANCHOR_OFFERER], a->head->len + big);
  ck_assert_uint_eq (info.bytes_from[GW_ANCHOR_ANSWERER],
                     b->head->len + small);
  ck_assert_uint_eq (
      logtap_count ("anchor_accepted", "\"leg\":\"offerer\"", NULL), 1);
  ck_assert_uint_eq (logtap_count ("anchor_ready", NULL), 1);
  ck_assert_uint_eq (
      logtap_count ("anchor_closed", "\"reason\":\"peer_closed\"", NULL), 1);
  peer_free (a);
  peer_free (b);
  gw_anchor_free (anchor);
}
END_TEST

static long
rss_kib (void)
{
  g_autofree char *text = NULL;
  long pages = 0, rss = 0;

  if (g_file_get_contents ("/proc/self/statm", &text, NULL, NULL))
    sscanf (text, "%ld %ld", &pages, &rss);
  return rss * (sysconf (_SC_PAGESIZE) / 1024);
}

/* A reader that does not read: the writer's socket fills and its send()
 * blocks; the anchor holds at most its pipe, and memory stays flat. */
START_TEST (test_backpressure)
{
  GwAnchor *anchor = anchor_in_in (NULL, NULL);
  Peer *a, *b;
  GwAnchorInfo info;
  const guint64 total = 256u << 20;
  gint stalled;
  long rss_before, rss_after;

  pair_start (anchor, &a, &b, total, 0);
  b->start_reading = 0;
  peer_start (a);
  peer_start (b);
  rss_before = rss_kib ();
  testloop_run_for (1500);
  stalled = g_atomic_int_get (&a->sent);
  testloop_run_for (500);
  /* Stalled: what is written stays within the sockets' buffers and the
   * pipe (a few MiB on loopback), far from the 256 MiB to send. */
  ck_assert_int_eq (g_atomic_int_get (&a->sent), stalled);
  ck_assert_int_lt (stalled, 32 << 20);
  gw_anchor_get_info (anchor, &info);
  ck_assert_uint_le (info.pipe_bytes[GW_ANCHOR_OFFERER], 65536);
  rss_after = rss_kib ();
  ck_assert_msg (rss_after - rss_before < 4096, "RSS grew by %ld KiB",
                 rss_after - rss_before);
  /* The reader reads: everything arrives, byte-exact. */
  g_atomic_int_set (&b->start_reading, 1);
  RUN_UNTIL (peer_done (a) && peer_done (b), 60000);
  ck_assert_uint_eq (b->mismatch, G_MAXUINT64);
  ck_assert_uint_eq (b->received, a->head->len + total);
  peer_free (a);
  peer_free (b);
  gw_anchor_free (anchor);
}
END_TEST

/* An outbound (passive) party: the test's own listener, which the anchor
 * connects to once the active party is accepted.  TLS: the first bytes
 * must be a handshake record, nothing else is read.  Half-close: the
 * active party's FIN reaches the passive one, which still answers. */
START_TEST (test_outbound_tls_half_close)
{
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t len = sizeof sin;
  int lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_autoptr (GPtrArray) src = addresses ("127.0.0.1");
  g_autoptr (GSocketAddress) target = NULL;
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GwAnchorPartySettings pa = { .sources = src };
  GwAnchorPartySettings pb = { .outbound = TRUE };
  GwAnchorSettings s = { .tls = TRUE, .parties = { &pa, &pb } };
  g_autoptr (GError) error = NULL;
  GwAnchor *anchor;
  Peer *a, *b;
  int bfd;
  const char hello[] = "\x16\x03\x01\x02\x00 a ClientHello, as far as the "
                       "anchor can tell";

  inet_pton (AF_INET, "127.0.0.1", &sin.sin_addr);
  ck_assert_int_eq (bind (lfd, (struct sockaddr *) &sin, sizeof sin), 0);
  ck_assert_int_eq (listen (lfd, 4), 0);
  getsockname (lfd, (struct sockaddr *) &sin, &len);
  target = g_inet_socket_address_new (lo, ntohs (sin.sin_port));
  pb.target = target;
  anchor = gw_anchor_new (pool, &s, &error);
  ck_assert_msg (anchor != NULL, "%s", error ? error->message : "");

  a = peer_new (connect_from ("127.0.0.1", gw_anchor_get_port (anchor)));
  a->head = g_string_new_len (hello, sizeof hello - 1);
  a->send_len = 3u << 20;
  a->seed = 5;
  a->shut_after = TRUE;
  a->expect_seed = 6;
  peer_start (a);
  /* The anchor connects to the passive party now. */
  RUN_UNTIL (state_of (anchor) == GW_ANCHOR_STATE_PUMPING, 5000);
  bfd = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
  ck_assert_int_ge (bfd, 0);
  b = peer_new (bfd);
  b->expect_head = g_string_new_len (hello, sizeof hello - 1);
  b->expect_seed = 5;
  b->seed = 6;
  b->send_len = 1u << 20;
  b->shut_after = TRUE;
  /* b reads to the end (a's FIN) before it writes: a's half-close came
   * through while b's way stayed open. */
  b->reader = g_thread_new ("reader", reader_main, b);
  RUN_UNTIL (g_atomic_int_get (&b->done) == 1, 30000);
  ck_assert (b->eof);
  ck_assert_uint_eq (b->received, a->head->len + a->send_len);
  ck_assert_uint_eq (b->mismatch, G_MAXUINT64);
  ck_assert_int_ne (state_of (anchor), GW_ANCHOR_STATE_CLOSED);
  b->writer = g_thread_new ("writer", writer_main, b);
  RUN_UNTIL (peer_done (a) && peer_done (b), 30000);
  ck_assert (a->eof);
  ck_assert_uint_eq (a->received, b->send_len);
  ck_assert_uint_eq (a->mismatch, G_MAXUINT64);
  RUN_UNTIL (state_of (anchor) == GW_ANCHOR_STATE_CLOSED, 5000);
  ck_assert_uint_eq (
      logtap_count ("anchor_connecting", "\"leg\":\"answerer\"", NULL), 1);
  peer_free (a);
  peer_free (b);
  close (lfd);
  gw_anchor_free (anchor);
}
END_TEST

static void
on_closed (GwAnchor *anchor, GwAnchorClosed reason, const char *detail,
           gpointer data)
{
  *(GwAnchorClosed *) data = reason;
}

/* A party resets its connection: the other gets a RST too. */
START_TEST (test_reset)
{
  GwAnchor *anchor = anchor_in_in (NULL, NULL);
  GwAnchorClosed seen = GW_ANCHOR_CLOSED_NONE;
  struct linger lg = { .l_onoff = 1, .l_linger = 0 };
  Peer *a, *b;

  gw_anchor_set_closed_func (anchor, on_closed, &seen);
  pair_start (anchor, &a, &b, 0, 0);
  a->shut_after = b->shut_after = FALSE;
  peer_start (b);
  /* a writes its head only (in the foreground), then resets. */
  ck_assert_int_eq (send (a->fd, a->head->str, a->head->len, 0),
                    (ssize_t) a->head->len);
  RUN_UNTIL (state_of (anchor) == GW_ANCHOR_STATE_PUMPING, 5000);
  RUN_UNTIL (b->head != NULL && g_atomic_int_get (&b->done) == 1, 5000);
  testloop_run_for (100);
  setsockopt (a->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close (a->fd);
  a->fd = -1;
  RUN_UNTIL (peer_done (b), 5000);
  ck_assert_int_eq (b->read_errno, ECONNRESET);
  RUN_UNTIL (seen != GW_ANCHOR_CLOSED_NONE, 5000);
  ck_assert_int_eq (seen, GW_ANCHOR_CLOSED_RESET);
  peer_free (a);
  peer_free (b);
  gw_anchor_free (anchor);
}
END_TEST

/* Read what a refused connection gets: an end at once (RST: ECONNRESET,
 * or EOF), never a byte. */
static void
assert_refused (int fd)
{
  char c;
  ssize_t n;
  struct timeval tv = { .tv_sec = 5 };

  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  n = recv (fd, &c, 1, 0);
  ck_assert_msg (n == 0 || (n < 0 && errno == ECONNRESET),
                 "a refused connection read %zd (%s)", n,
                 n < 0 ? g_strerror (errno) : "a byte");
  close (fd);
}

/* A stranger's address is refused before anything is read; the party's
 * is taken after it. */
START_TEST (test_stranger_refused)
{
  GwAnchor *anchor = anchor_in_in ("127.0.0.2", "127.0.0.2");
  g_autoptr (GString) head = send_head (SID_A, SID_B);
  guint16 port = gw_anchor_get_port (anchor);
  int stranger = connect_from ("127.0.0.3", port);
  int party;

  send (stranger, head->str, head->len, 0);
  RUN_UNTIL (refused_of (anchor) == 1, 5000);
  assert_refused (stranger);
  ck_assert_uint_eq (logtap_count ("anchor_refused", "\"reason\":\"source\"",
                                   "\"peer\":\"127.0.0.3:", NULL),
                     1);
  party = connect_from ("127.0.0.2", port);
  send (party, head->str, head->len, 0);
  RUN_UNTIL (logtap_count ("anchor_accepted", NULL) == 1, 5000);
  ck_assert_uint_eq (refused_of (anchor), 1);
  close (party);
  gw_anchor_free (anchor);
}
END_TEST

/* TCP/MSRP: a first SEND of another session, a first request that is not
 * a SEND, and bytes that are not MSRP are refused. */
START_TEST (test_session_mismatch)
{
  GwAnchor *anchor = anchor_in_in ("127.0.0.1", "127.0.0.1");
  guint16 port = gw_anchor_get_port (anchor);
  g_autoptr (GString) wrong = send_head ("strangersid", SID_B);
  const char *report =
      "MSRP a786hjs2 REPORT\r\nTo-Path: msrp://127.0.0.1:9/" SID_B
      ";tcp\r\nFrom-Path: msrp://127.0.0.1:9/" SID_A
      ";tcp\r\nMessage-ID: 1\r\nByte-Range: 1-1/1\r\n"
      "Status: 000 200 OK\r\n-------a786hjs2$\r\n";
  const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  int fd[3];

  fd[0] = connect_from ("127.0.0.1", port);
  send (fd[0], wrong->str, wrong->len, 0);
  RUN_UNTIL (refused_of (anchor) == 1, 5000);
  assert_refused (fd[0]);
  ck_assert_uint_eq (
      logtap_count ("anchor_refused", "\"reason\":\"session\"", NULL), 1);
  fd[1] = connect_from ("127.0.0.1", port);
  send (fd[1], report, strlen (report), 0);
  fd[2] = connect_from ("127.0.0.1", port);
  send (fd[2], http, strlen (http), 0);
  RUN_UNTIL (refused_of (anchor) == 3, 5000);
  assert_refused (fd[1]);
  assert_refused (fd[2]);
  ck_assert_uint_eq (
      logtap_count ("anchor_refused", "\"reason\":\"protocol\"", NULL), 2);
  ck_assert_int_eq (state_of (anchor), GW_ANCHOR_STATE_WAITING);
  gw_anchor_free (anchor);
}
END_TEST

/* TLS: bytes that are not a handshake record are refused; nothing else
 * of a TLS stream can be read. */
START_TEST (test_tls_not_a_handshake)
{
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) t = g_inet_socket_address_new (lo, 9);
  GwAnchorPartySettings in = { 0 };
  GwAnchorPartySettings out = { .outbound = TRUE, .target = t };
  GwAnchorSettings s = { .tls = TRUE, .parties = { &in, &out } };
  GwAnchor *anchor = gw_anchor_new (pool, &s, NULL);
  g_autoptr (GString) head = send_head (SID_A, SID_B);
  int fd;

  ck_assert_ptr_nonnull (anchor);
  fd = connect_from ("127.0.0.1", gw_anchor_get_port (anchor));
  send (fd, head->str, head->len, 0);
  RUN_UNTIL (refused_of (anchor) == 1, 5000);
  assert_refused (fd);
  ck_assert_uint_eq (logtap_count ("anchor_refused", "\"reason\":\"protocol\"",
                                   "not a TLS handshake", NULL),
                     1);
  ck_assert_uint_eq (logtap_count ("anchor_connecting", NULL), 0);
  gw_anchor_free (anchor);
}
END_TEST

/* The first SEND comes in two pieces: the anchor waits for the second
 * (SO_RCVLOWAT) without reading, and the pump forwards both. */
START_TEST (test_first_send_split)
{
  GwAnchor *anchor = anchor_in_in (NULL, NULL);
  Peer *a, *b;

  pair_start (anchor, &a, &b, 1000, 1000);
  ck_assert_int_eq (send (a->fd, a->head->str, 20, 0), 20);
  testloop_run_for (200);
  ck_assert_uint_eq (logtap_count ("anchor_accepted", NULL), 0);
  ck_assert_uint_eq (refused_of (anchor), 0);
  /* The writer sends the whole head: skip what went already. */
  g_string_erase (a->head, 0, 20);
  peer_start (a);
  peer_start (b);
  RUN_UNTIL (peer_done (a) && peer_done (b), 10000);
  ck_assert_uint_eq (b->mismatch, G_MAXUINT64);
  ck_assert_uint_eq (b->received, b->expect_head->len + 1000);
  peer_free (a);
  peer_free (b);
  gw_anchor_free (anchor);
}
END_TEST

/* The answerer is not known when its connection comes (it raced the
 * answer): the connection waits, unread, and joins once it is. */
START_TEST (test_party_known_later)
{
  g_autoptr (GPtrArray) src = addresses (NULL);
  g_autoptr (MsrpUri) ua = uri (SID_A);
  g_autoptr (MsrpUri) ub = uri (SID_B);
  GwAnchorPartySettings pa = { .sources = src, .uri = ua };
  GwAnchorPartySettings pb = { .sources = src, .uri = ub };
  GwAnchorSettings s = { .parties = { &pa, NULL } };
  g_autoptr (GError) error = NULL;
  GwAnchor *anchor = gw_anchor_new (pool, &s, &error);
  Peer *a, *b;

  ck_assert_ptr_nonnull (anchor);
  pair_start (anchor, &a, &b, 4096, 4096);
  peer_start (b);
  testloop_run_for (200);
  ck_assert_uint_eq (logtap_count ("anchor_accepted", NULL), 0);
  ck_assert_uint_eq (refused_of (anchor), 0);
  ck_assert (gw_anchor_set_party (anchor, GW_ANCHOR_ANSWERER, &pb, &error));
  RUN_UNTIL (logtap_count ("anchor_accepted", "\"leg\":\"answerer\"", NULL) ==
                 1,
             5000);
  peer_start (a);
  RUN_UNTIL (peer_done (a) && peer_done (b), 10000);
  ck_assert_uint_eq (a->mismatch, G_MAXUINT64);
  ck_assert_uint_eq (a->received, b->head->len + 4096);
  peer_free (a);
  peer_free (b);
  gw_anchor_free (anchor);
}
END_TEST

/* Deadlines on the loop's fake clock: a connection without a first SEND
 * within probation is refused; a stream without a byte for the idle time
 * ends, both parties getting a FIN. */
START_TEST (test_probation_and_idle)
{
  NetLoop *loop = net_loop_get_default ();
  GwAnchor *anchor;
  GwAnchorClosed seen = GW_ANCHOR_CLOSED_NONE;
  g_autoptr (GString) ha = send_head (SID_A, SID_B);
  g_autoptr (GString) hb = send_head (SID_B, SID_A);
  int silent, fa, fb;
  char buf[4096];
  struct timeval tv = { .tv_sec = 5 };

  net_loop_set_fake_time (loop, 1000000);
  anchor = anchor_in_in (NULL, NULL);
  gw_anchor_set_closed_func (anchor, on_closed, &seen);
  silent = connect_from ("127.0.0.1", gw_anchor_get_port (anchor));
  testloop_run_for (100);
  net_loop_advance (loop, (GW_ANCHOR_DEFAULT_PROBATION_MS + 1) * 1000ll);
  RUN_UNTIL (refused_of (anchor) == 1, 5000);
  assert_refused (silent);
  ck_assert_uint_eq (
      logtap_count ("anchor_refused", "\"reason\":\"timeout\"", NULL), 1);

  fa = connect_from ("127.0.0.1", gw_anchor_get_port (anchor));
  fb = connect_from ("127.0.0.1", gw_anchor_get_port (anchor));
  send (fa, ha->str, ha->len, 0);
  send (fb, hb->str, hb->len, 0);
  RUN_UNTIL (state_of (anchor) == GW_ANCHOR_STATE_PUMPING, 5000);
  /* Almost the idle time: still there. */
  net_loop_advance (loop, (GW_ANCHOR_DEFAULT_IDLE_TIMEOUT_MS - 1000) * 1000ll);
  testloop_run_for (100);
  ck_assert_int_eq (state_of (anchor), GW_ANCHOR_STATE_PUMPING);
  net_loop_advance (loop, 2000 * 1000ll);
  RUN_UNTIL (seen == GW_ANCHOR_CLOSED_IDLE, 5000);
  /* Each got the other's head, then the end of stream. */
  setsockopt (fa, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ck_assert_int_eq (recv (fa, buf, sizeof buf, MSG_WAITALL),
                    (ssize_t) hb->len);
  ck_assert_int_eq (recv (fa, buf, sizeof buf, 0), 0);
  close (fa);
  close (fb);
  gw_anchor_free (anchor);
}
END_TEST

/* The passive party refuses the gateway's connection: the active party
 * gets a RST, the owner hears connect_refused. */
START_TEST (test_connect_refused)
{
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) nobody = NULL;
  GwAnchorPartySettings pa = { 0 };
  GwAnchorPartySettings pb = { .outbound = TRUE };
  GwAnchorSettings s = { .parties = { &pa, &pb } };
  GwAnchorClosed seen = GW_ANCHOR_CLOSED_NONE;
  g_autoptr (GString) head = send_head (SID_A, SID_B);
  g_autoptr (GError) error = NULL;
  GwAnchor *anchor;
  int fd, probe;
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t len = sizeof sin;

  /* A port nobody listens on: bound, never listened. */
  probe = socket (AF_INET, SOCK_STREAM, 0);
  inet_pton (AF_INET, "127.0.0.1", &sin.sin_addr);
  bind (probe, (struct sockaddr *) &sin, sizeof sin);
  getsockname (probe, (struct sockaddr *) &sin, &len);
  nobody = g_inet_socket_address_new (lo, ntohs (sin.sin_port));
  pb.target = nobody;
  anchor = gw_anchor_new (pool, &s, &error);
  ck_assert_ptr_nonnull (anchor);
  gw_anchor_set_closed_func (anchor, on_closed, &seen);
  fd = connect_from ("127.0.0.1", gw_anchor_get_port (anchor));
  send (fd, head->str, head->len, 0);
  RUN_UNTIL (seen != GW_ANCHOR_CLOSED_NONE, 5000);
  ck_assert_int_eq (seen, GW_ANCHOR_CLOSED_CONNECT_REFUSED);
  assert_refused (fd);
  close (probe);
  gw_anchor_free (anchor);
}
END_TEST

/* Settings that cannot work are refused when the stream is made. */
START_TEST (test_invalid_settings)
{
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) t = g_inet_socket_address_new (lo, 5000);
  GwAnchorPartySettings in = { 0 };
  GwAnchorPartySettings out = { .outbound = TRUE, .target = t };
  GwAnchorPartySettings no_target = { .outbound = TRUE };
  GwAnchorSettings tls_in_in = { .tls = TRUE, .parties = { &in, &in } };
  GwAnchorSettings out_out = { .parties = { &out, &out } };
  GwAnchorSettings missing = { .parties = { &in, &no_target } };
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (GError) e3 = NULL;
  g_autoptr (GError) e4 = NULL;
  GwAnchorSettings tls_in = { .tls = TRUE, .parties = { &in, NULL } };
  GwAnchor *anchor;
  g_autoptr (GSocketAddress) own = NULL;

  ck_assert_ptr_null (gw_anchor_new (pool, &tls_in_in, &e1));
  ck_assert (strstr (e1->message, "TLS clients") != NULL);
  ck_assert_ptr_null (gw_anchor_new (pool, &out_out, &e2));
  ck_assert (strstr (e2->message, "first SEND") != NULL);
  ck_assert_ptr_null (gw_anchor_new (pool, &missing, &e3));
  /* A TLS stream whose answerer is not known yet; it may not become
   * inbound too, and may not point at a port of the pool's own. */
  anchor = gw_anchor_new (pool, &tls_in, NULL);
  ck_assert_ptr_nonnull (anchor);
  ck_assert (!gw_anchor_set_party (anchor, GW_ANCHOR_ANSWERER, &in, NULL));
  own = g_inet_socket_address_new (lo, gw_anchor_get_port (anchor));
  out.target = own;
  ck_assert (!gw_anchor_set_party (anchor, GW_ANCHOR_ANSWERER, &out, &e4));
  ck_assert_int_eq (e4->code, GW_ANCHOR_ERROR_REFUSED);
  gw_anchor_free (anchor);
}
END_TEST

/* A TCP socket bound to 127.0.0.1:@port (0: the kernel's choice), or -1. */
static int
bound_socket (guint16 port)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };

  inet_pton (AF_INET, "127.0.0.1", &sin.sin_addr);
  if (fd >= 0 && bind (fd, (struct sockaddr *) &sin, sizeof sin) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* Two consecutive ports of 127.0.0.1 free right now (a race with the
 * rest of the machine, which a busy one can lose: a port next to a free
 * one is often some connection's own). */
static guint16
free_port_pair (void)
{
  for (guint i = 0; i < 100; i++)
    {
      int a = bound_socket (0), b;
      struct sockaddr_in sin;
      socklen_t len = sizeof sin;
      guint16 base;

      ck_assert_int_ge (a, 0);
      getsockname (a, (struct sockaddr *) &sin, &len);
      base = ntohs (sin.sin_port);
      b = base < G_MAXUINT16 ? bound_socket (base + 1) : -1;
      close (a);
      if (b >= 0)
        {
          close (b);
          return base;
        }
    }
  ck_abort_msg ("no two consecutive free ports in 100 tries");
  return 0;
}

/* gw_anchor_set_parties() turns a TLS stream's roles around at once
 * (offerer inbound and answerer outbound, to the other way), which one
 * party after the other cannot (it would pass through two TLS clients or
 * nobody connecting); a pair that cannot work changes nothing, and a NULL
 * keeps that party as it is. */
START_TEST (test_set_parties)
{
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) t = g_inet_socket_address_new (lo, 5000);
  GwAnchorPartySettings in = { 0 };
  GwAnchorPartySettings out = { .outbound = TRUE, .target = t };
  GwAnchorSettings s = { .tls = TRUE, .parties = { &in, &out } };
  const GwAnchorPartySettings *swap[GW_ANCHOR_N_PARTIES] = { &out, &in };
  const GwAnchorPartySettings *bad[GW_ANCHOR_N_PARTIES] = { &in, NULL };
  const GwAnchorPartySettings *keep[GW_ANCHOR_N_PARTIES] = { NULL, &in };
  g_autoptr (GError) error = NULL;
  GwAnchor *anchor = gw_anchor_new (pool, &s, NULL);

  ck_assert_ptr_nonnull (anchor);
  ck_assert (!gw_anchor_set_party (anchor, GW_ANCHOR_OFFERER, &out, NULL));
  ck_assert (!gw_anchor_set_party (anchor, GW_ANCHOR_ANSWERER, &in, NULL));
  ck_assert (gw_anchor_set_parties (anchor, swap, &error));
  /* Now offerer outbound, answerer inbound: an inbound offerer would make
   * two TLS clients, and the failure leaves the roles as they were. */
  ck_assert (!gw_anchor_set_parties (anchor, bad, NULL));
  ck_assert (gw_anchor_set_parties (anchor, keep, &error));
  ck_assert (!gw_anchor_set_party (anchor, GW_ANCHOR_OFFERER, &in, NULL));
  ck_assert_int_eq (state_of (anchor), GW_ANCHOR_STATE_WAITING);
  gw_anchor_free (anchor);
}
END_TEST

/* A range of two ports serves two streams; a third waits for one to be
 * freed. */
START_TEST (test_port_range)
{
  g_autoptr (GPtrArray) addrs = addresses ("127.0.0.1");
  GwAnchorPoolSettings ps = { .addresses = addrs };
  GwAnchorPool *small;
  GwAnchorPartySettings in = { 0 };
  GwAnchorSettings s = { .parties = { &in, &in } };
  GwAnchor *x, *y, *z;
  g_autoptr (GError) error = NULL;
  guint16 base = free_port_pair ();
  GwAnchorPoolStats stats;

  ps.port_min = base;
  ps.port_max = base + 1;
  small = gw_anchor_pool_new (&ps, NULL);
  x = gw_anchor_new (small, &s, NULL);
  y = gw_anchor_new (small, &s, NULL);
  ck_assert (x != NULL && y != NULL);
  ck_assert_uint_ne (gw_anchor_get_port (x), gw_anchor_get_port (y));
  ck_assert_uint_ge (MIN (gw_anchor_get_port (x), gw_anchor_get_port (y)),
                     base);
  z = gw_anchor_new (small, &s, &error);
  ck_assert_ptr_null (z);
  ck_assert_int_eq (error->code, GW_ANCHOR_ERROR_NO_PORT);
  gw_anchor_free (x);
  z = gw_anchor_new (small, &s, NULL);
  ck_assert_ptr_nonnull (z);
  gw_anchor_pool_get_stats (small, &stats);
  ck_assert_uint_eq (stats.anchors, 2);
  ck_assert_uint_eq (stats.anchors_total, 3);
  gw_anchor_free (y);
  gw_anchor_free (z);
  gw_anchor_pool_free (small);
}
END_TEST

static Suite *
anchor_suite (void)
{
  Suite *s = suite_create ("gw-anchor");
  TCase *tc = tcase_create ("anchor");

  tcase_add_checked_fixture (tc, setup, teardown_pool);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_both_ways_byte_exact);
  tcase_add_test (tc, test_backpressure);
  tcase_add_test (tc, test_outbound_tls_half_close);
  tcase_add_test (tc, test_reset);
  tcase_add_test (tc, test_stranger_refused);
  tcase_add_test (tc, test_session_mismatch);
  tcase_add_test (tc, test_tls_not_a_handshake);
  tcase_add_test (tc, test_first_send_split);
  tcase_add_test (tc, test_party_known_later);
  tcase_add_test (tc, test_probation_and_idle);
  tcase_add_test (tc, test_connect_refused);
  tcase_add_test (tc, test_invalid_settings);
  tcase_add_test (tc, test_set_parties);
  tcase_add_test (tc, test_port_range);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (anchor_suite ());
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
