/* Check suite for ice/ice-leg.c: ICE-TCP legs on real libnice agents over
 * loopback.
 *
 * Every leg gathers on 127.0.0.1 only (added explicitly: libnice skips
 * loopback otherwise).  Each test runs its own GMainContext, pushed as the
 * thread-default one (the legs must use it), and every wait iterates it
 * with a deadline (RUN_UNTIL), so a leg that never reports fails its test
 * instead of hanging it.
 *
 * Only loopback is addressed: unreachable remote candidates are closed
 * loopback ports, and an active candidate nobody connects from. */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nice/agent.h>

#include "ice-leg.h"
#include "testloop.h"

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

/* ---- one side: a leg and what it reported ---- */

typedef struct
{
  IceLeg *leg;
  gboolean gathered, ready, failed;
  guint n_gathered, n_ready, n_failed;
  GIOStream *stream; /* (transfer none) */
  IcePair *pair;
  char *reason, *tried;
  gint64 failed_at;
  gboolean free_in_callback;

  /* Transfer: what this side sends and what it expects. */
  const guint8 *out;
  gsize out_len, out_off;
  GByteArray *in;
  gsize in_expect;
  GSource *rsrc, *wsrc;
  GRand *rand;
  gboolean read_error, read_eof;
  char *read_error_msg;
} Side;

static void
on_gathered (IceLeg *leg, gpointer data)
{
  Side *s = data;

  ck_assert_ptr_eq (leg, s->leg);
  s->gathered = TRUE;
  s->n_gathered++;
  if (s->free_in_callback)
    {
      ice_leg_free (leg);
      s->leg = NULL;
    }
}

static void
on_ready (IceLeg *leg, GIOStream *stream, const IcePair *pair, gpointer data)
{
  Side *s = data;

  ck_assert_ptr_eq (leg, s->leg);
  ck_assert (G_IS_IO_STREAM (stream));
  s->ready = TRUE;
  s->n_ready++;
  s->stream = stream;
  s->pair = ice_pair_copy (pair);
}

static void
on_failed (IceLeg *leg, const char *reason, const char *tried, gpointer data)
{
  Side *s = data;

  ck_assert_ptr_eq (leg, s->leg);
  s->failed = TRUE;
  s->n_failed++;
  s->failed_at = g_get_monotonic_time ();
  s->reason = g_strdup (reason);
  s->tried = g_strdup (tried);
  if (s->free_in_callback)
    {
      ice_leg_free (leg);
      s->leg = NULL;
    }
}

static const IceCallbacks callbacks = { on_gathered, on_ready, on_failed };

static IceSettings *
loopback_settings (guint timeout_ms)
{
  IceSettings *st = g_new0 (IceSettings, 1);

  st->addresses = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (st->addresses,
                   g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4));
  st->timeout_ms = timeout_ms;
  return st;
}

static void
settings_free (IceSettings *st)
{
  g_ptr_array_unref (st->addresses);
  g_free (st);
}

static void
side_start (Side *s, gboolean controlling, guint timeout_ms)
{
  IceSettings *st = loopback_settings (timeout_ms);
  GError *error = NULL;

  s->leg = ice_leg_new (st, controlling, &callbacks, s, &error);
  ck_assert_msg (s->leg != NULL, "ice_leg_new: %s",
                 error ? error->message : "?");
  settings_free (st);
  ck_assert (ice_leg_gather (s->leg, &error));
  /* on_gathered never comes from inside the call. */
  ck_assert (!s->gathered);
}

static void
side_clear (Side *s)
{
  if (s->rsrc != NULL)
    {
      g_source_destroy (s->rsrc);
      g_source_unref (s->rsrc);
    }
  if (s->wsrc != NULL)
    {
      g_source_destroy (s->wsrc);
      g_source_unref (s->wsrc);
    }
  ice_leg_free (s->leg);
  ice_pair_free (s->pair);
  g_free (s->reason);
  g_free (s->tried);
  g_free (s->read_error_msg);
  if (s->in != NULL)
    g_byte_array_unref (s->in);
  if (s->rand != NULL)
    g_rand_free (s->rand);
  memset (s, 0, sizeof *s);
}

/* @from's candidates as the other side reads them from SDP: written as
 * a=candidate values and parsed back. */
static GPtrArray *
candidates_through_sdp (IceLeg *from)
{
  g_autoptr (GPtrArray) local = ice_leg_get_local_candidates (from);
  GPtrArray *out = g_ptr_array_new_with_free_func (
      (GDestroyNotify) msrp_sdp_candidate_free);

  for (guint i = 0; i < local->len; i++)
    {
      g_autofree char *v = msrp_sdp_candidate_to_string (local->pdata[i]);
      GError *error = NULL;
      MsrpSdpCandidate *c = msrp_sdp_candidate_parse (v, -1, &error);

      ck_assert_msg (c != NULL, "%s: %s", v, error ? error->message : "?");
      g_ptr_array_add (out, c);
    }
  return out;
}

static void
exchange (Side *a, Side *b)
{
  g_autoptr (GPtrArray) ca = candidates_through_sdp (a->leg);
  g_autoptr (GPtrArray) cb = candidates_through_sdp (b->leg);
  GError *error = NULL;

  ck_assert_msg (ice_leg_set_remote (a->leg, ice_leg_get_ufrag (b->leg),
                                     ice_leg_get_pwd (b->leg), cb, &error),
                 "set_remote: %s", error ? error->message : "?");
  ck_assert_msg (ice_leg_set_remote (b->leg, ice_leg_get_ufrag (a->leg),
                                     ice_leg_get_pwd (a->leg), ca, &error),
                 "set_remote: %s", error ? error->message : "?");
}

static void
connect_pair (Side *a, Side *b, gboolean a_controlling, gboolean b_controlling)
{
  side_start (a, a_controlling, 10000);
  side_start (b, b_controlling, 10000);
  RUN_UNTIL (a->gathered && b->gathered, 5000);
  exchange (a, b);
  RUN_UNTIL ((a->ready && b->ready) || a->failed || b->failed, 15000);
  ck_assert_msg (!a->failed && !b->failed, "failed: %s / %s (tried %s / %s)",
                 a->reason, b->reason, a->tried, b->tried);
}

/* ---- non-blocking transfer through the streams ---- */

static gboolean
readable (GObject *pollable, gpointer data)
{
  Side *s = data;
  guint8 buf[200000];

  for (;;)
    {
      GError *error = NULL;
      gsize want = 1 + g_rand_int_range (s->rand, 0, sizeof buf);
      gssize n = g_pollable_input_stream_read_nonblocking (
          G_POLLABLE_INPUT_STREAM (pollable), buf, want, NULL, &error);

      if (n > 0)
        {
          g_byte_array_append (s->in, buf, (guint) n);
          continue;
        }
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_error_free (error);
          return G_SOURCE_CONTINUE;
        }
      if (n == 0)
        s->read_eof = TRUE;
      else
        {
          s->read_error = TRUE;
          s->read_error_msg = g_strdup (error->message);
          g_error_free (error);
        }
      g_clear_pointer (&s->rsrc, g_source_unref);
      return G_SOURCE_REMOVE;
    }
}

static gboolean
writable (GObject *pollable, gpointer data)
{
  Side *s = data;

  while (s->out_off < s->out_len)
    {
      GError *error = NULL;
      gsize r = 1 + (gsize) g_rand_int_range (s->rand, 0, 300000);
      gsize chunk = MIN (s->out_len - s->out_off, r);
      gssize n = g_pollable_output_stream_write_nonblocking (
          G_POLLABLE_OUTPUT_STREAM (pollable), s->out + s->out_off, chunk,
          NULL, &error);

      if (n < 0)
        {
          ck_assert_msg (
              g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK),
              "write: %s", error->message);
          g_error_free (error);
          return G_SOURCE_CONTINUE;
        }
      ck_assert_msg ((gsize) n <= chunk,
                     "wrote %" G_GSSIZE_FORMAT " of a %" G_GSIZE_FORMAT
                     " byte chunk",
                     n, chunk);
      s->out_off += (gsize) n;
    }
  g_clear_pointer (&s->wsrc, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
start_reading (Side *s, gsize expect, guint32 seed)
{
  GInputStream *in = g_io_stream_get_input_stream (s->stream);

  ck_assert (G_IS_POLLABLE_INPUT_STREAM (in));
  ck_assert (g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (in)));
  if (s->rand == NULL)
    s->rand = g_rand_new_with_seed (seed);
  s->in = g_byte_array_new ();
  s->in_expect = expect;
  s->rsrc = g_pollable_input_stream_create_source (
      G_POLLABLE_INPUT_STREAM (in), NULL);
  g_source_set_callback (s->rsrc, G_SOURCE_FUNC (readable), s, NULL);
  g_source_attach (s->rsrc, ctx);
}

static void
start_writing (Side *s, const guint8 *data, gsize len, guint32 seed)
{
  GOutputStream *out = g_io_stream_get_output_stream (s->stream);

  ck_assert (G_IS_POLLABLE_OUTPUT_STREAM (out));
  if (s->rand == NULL)
    s->rand = g_rand_new_with_seed (seed);
  s->out = data;
  s->out_len = len;
  s->wsrc = g_pollable_output_stream_create_source (
      G_POLLABLE_OUTPUT_STREAM (out), NULL);
  g_source_set_callback (s->wsrc, G_SOURCE_FUNC (writable), s, NULL);
  g_source_attach (s->wsrc, ctx);
}

static guint8 *
pattern (gsize len, guint32 seed)
{
  guint8 *p = g_malloc (len);
  GRand *r = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < len; i += 4)
    {
      guint32 v = g_rand_int (r);

      memcpy (p + i, &v, MIN (4, len - i));
    }
  g_rand_free (r);
  return p;
}

/* Push @ab bytes a -> b and @ba bytes b -> a at once; compare. */
static double
transfer (Side *a, Side *b, gsize ab, gsize ba)
{
  g_autofree guint8 *pa = pattern (ab, 1);
  g_autofree guint8 *pb = pattern (ba, 2);
  gint64 t0 = g_get_monotonic_time (), t1;

  start_reading (b, ab, 11);
  start_reading (a, ba, 12);
  start_writing (a, pa, ab, 13);
  start_writing (b, pb, ba, 14);
  RUN_UNTIL ((b->in->len >= ab && a->in->len >= ba) || a->read_error ||
                 b->read_error || a->read_eof || b->read_eof,
             60000);
  t1 = g_get_monotonic_time ();
  ck_assert_msg (!a->read_error && !b->read_error && !a->read_eof &&
                     !b->read_eof,
                 "read ended: %s / %s", a->read_error_msg, b->read_error_msg);
  ck_assert_uint_eq (a->out_off, ab);
  ck_assert_uint_eq (b->out_off, ba);
  ck_assert_uint_eq (b->in->len, ab);
  ck_assert_uint_eq (a->in->len, ba);
  ck_assert_msg (memcmp (b->in->data, pa, ab) == 0, "a -> b bytes differ");
  ck_assert_msg (memcmp (a->in->data, pb, ba) == 0, "b -> a bytes differ");
  return (double) (ab + ba) / 1e6 / ((double) (t1 - t0) / 1e6);
}

static gboolean
is_tcptype (const char *s)
{
  return g_strcmp0 (s, "active") == 0 || g_strcmp0 (s, "passive") == 0 ||
         g_strcmp0 (s, "so") == 0;
}

/* ---- tests ---- */

START_TEST (test_transfer_both_ways)
{
  Side a = { 0 }, b = { 0 };
  double mbps;

  connect_pair (&a, &b, TRUE, FALSE);
  ck_assert_uint_eq (a.n_ready, 1);
  ck_assert_uint_eq (b.n_ready, 1);
  ck_assert (ice_leg_is_controlling (a.leg));
  ck_assert (!ice_leg_is_controlling (b.leg));

  /* The selected pair: one end active, the other passive, and both legs
   * describe the same TCP connection. */
  ck_assert (is_tcptype (a.pair->local_tcptype));
  ck_assert (is_tcptype (a.pair->remote_tcptype));
  ck_assert_str_ne (a.pair->local_tcptype, a.pair->remote_tcptype);
  ck_assert_str_ne (a.pair->local_tcptype, "so");
  ck_assert_str_ne (a.pair->remote_tcptype, "so");
  ck_assert_str_eq (a.pair->local_tcptype, b.pair->remote_tcptype);
  ck_assert_str_eq (a.pair->remote_tcptype, b.pair->local_tcptype);
  ck_assert_str_eq (a.pair->local_address, b.pair->remote_address);
  ck_assert_str_eq (a.pair->remote_address, b.pair->local_address);
  ck_assert (g_str_has_prefix (a.pair->local_address, "127.0.0.1:"));
  ck_assert_str_ne (a.pair->local_address, "127.0.0.1:9");
  ck_assert_str_ne (a.pair->remote_address, "127.0.0.1:9");
  printf ("ice-leg: selected pair seen by the controlling leg: %s (%s %s) "
          "-> %s (%s %s)\n",
          a.pair->local_address, a.pair->local_type, a.pair->local_tcptype,
          a.pair->remote_address, a.pair->remote_type, a.pair->remote_tcptype);

  mbps = transfer (&a, &b, 4u << 20, 1u << 20);
  printf ("ice-leg: 4 MiB + 1 MiB both ways over ICE-TCP on loopback: "
          "%.0f MB/s\n",
          mbps);

  /* Nothing more was reported. */
  ck_assert (!a.failed && !b.failed);
  ck_assert_uint_eq (a.n_gathered, 1);
  side_clear (&a);
  side_clear (&b);
}
END_TEST

/* Throughput one way, 64 MiB, for the report (not an assertion). */
START_TEST (test_throughput)
{
  Side a = { 0 }, b = { 0 };
  const gsize len = 64u << 20;
  g_autofree guint8 *p = pattern (len, 7);
  gint64 t0, t1;

  connect_pair (&a, &b, TRUE, FALSE);
  t0 = g_get_monotonic_time ();
  start_reading (&b, len, 3);
  start_writing (&a, p, len, 4);
  RUN_UNTIL (b.in->len >= len || b.read_error || b.read_eof, 120000);
  t1 = g_get_monotonic_time ();
  ck_assert_uint_eq (b.in->len, len);
  ck_assert (memcmp (b.in->data, p, len) == 0);
  printf ("ice-leg: 64 MiB one way over ICE-TCP on loopback: %.0f MB/s\n",
          (double) len / 1e6 / ((double) (t1 - t0) / 1e6));
  side_clear (&a);
  side_clear (&b);
}
END_TEST

START_TEST (test_role_conflict)
{
  Side a = { 0 }, b = { 0 };

  /* Both controlling: RFC 8445 section 7.3.1.1 makes one of them
   * controlled (inside libnice), and the checks still complete. */
  connect_pair (&a, &b, TRUE, TRUE);
  ck_assert (a.ready && b.ready);
  /* The configured role: libnice does not expose the one it switched to. */
  ck_assert (ice_leg_is_controlling (a.leg));
  ck_assert (ice_leg_is_controlling (b.leg));
  ck_assert_str_ne (a.pair->local_tcptype, a.pair->remote_tcptype);
  ck_assert_str_ne (b.pair->local_tcptype, b.pair->remote_tcptype);
  printf ("ice-leg: role conflict: A %s (%s) -> %s (%s), B %s (%s) -> %s "
          "(%s)\n",
          a.pair->local_address, a.pair->local_tcptype, a.pair->remote_address,
          a.pair->remote_tcptype, b.pair->local_address, b.pair->local_tcptype,
          b.pair->remote_address, b.pair->remote_tcptype);
  transfer (&a, &b, 256 * 1024, 256 * 1024);
  side_clear (&a);
  side_clear (&b);
}
END_TEST

START_TEST (test_both_controlled)
{
  Side a = { 0 }, b = { 0 };

  connect_pair (&a, &b, FALSE, FALSE);
  ck_assert (a.ready && b.ready);
  transfer (&a, &b, 100000, 100000);
  side_clear (&a);
  side_clear (&b);
}
END_TEST

/* The peer goes away after ready: the reading leg reports its pair failed,
 * once. */
START_TEST (test_fails_after_ready)
{
  Side a = { 0 }, b = { 0 };

  connect_pair (&a, &b, TRUE, FALSE);
  start_reading (&a, 1, 5);
  ice_leg_free (b.leg);
  b.leg = NULL;
  RUN_UNTIL (a.failed, 15000);
  ck_assert_uint_eq (a.n_failed, 1);
  ck_assert_str_eq (a.reason, "the selected candidate pair failed");
  ck_assert_msg (strstr (a.tried, "127.0.0.1:") != NULL, "%s", a.tried);
  printf ("ice-leg: after the peer left: read %s%s, on_failed \"%s\"\n",
          a.read_eof     ? "end of stream"
          : a.read_error ? "error: "
                         : "would block",
          a.read_error ? a.read_error_msg : "", a.reason);
  side_clear (&a);
  side_clear (&b);
}
END_TEST

/* The owner closes its stream: the peer's pair fails. */
START_TEST (test_close_stream)
{
  Side a = { 0 }, b = { 0 };

  connect_pair (&a, &b, TRUE, FALSE);
  start_reading (&a, 1, 5);
  ck_assert (g_io_stream_close (b.stream, NULL, NULL));
  RUN_UNTIL (a.failed, 15000);
  ck_assert_str_eq (a.reason, "the selected candidate pair failed");
  side_clear (&a);
  side_clear (&b);
}
END_TEST

/* A port on 127.0.0.1 where nothing listens. */
static guint16
closed_port (void)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t len = sizeof sin;

  ck_assert_int_ge (fd, 0);
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  ck_assert_int_eq (bind (fd, (struct sockaddr *) &sin, sizeof sin), 0);
  ck_assert_int_eq (getsockname (fd, (struct sockaddr *) &sin, &len), 0);
  close (fd);
  return ntohs (sin.sin_port);
}

/* @tmpl with each "%u" replaced by @port. */
static char *
with_port (const char *tmpl, guint16 port)
{
  g_auto (GStrv) parts = g_strsplit (tmpl, "%u", -1);
  g_autofree char *p = g_strdup_printf ("%u", port);

  return g_strjoinv (p, parts);
}

static const struct
{
  const char *name;
  const char *lines[3]; /* %u: a closed loopback port, or a silent
                         * one (below) */
  guint timeout_ms;
  gboolean by_timeout; /* the leg's timeout, not libnice, ends it */
  const char *tried[3];
  gboolean silent; /* %u listens but never answers a check */
} unreachable_cases[] = {
  { "closed loopback port",
    { "1 1 TCP 2105524479 127.0.0.1 %u typ host tcptype passive" },
    1500,
    FALSE,
    { "127.0.0.1:9 (host tcp-active) -> 127.0.0.1:%u (host tcp-passive)" } },
  { "a listener that never answers a check",
    { "1 1 TCP 2105524479 127.0.0.1 %u typ host tcptype passive" },
    1500,
    TRUE,
    { "127.0.0.1:9 (host tcp-active) -> 127.0.0.1:%u (host "
      "tcp-passive)" },
    TRUE },
  { "both, with an active one nobody connects from",
    { "1 1 TCP 2105524479 127.0.0.1 %u typ host tcptype passive",
      "2 1 TCP 1015022079 127.0.0.1 9 typ host tcptype active" },
    2500,
    FALSE,
    { "127.0.0.1:9 (host tcp-active) -> 127.0.0.1:%u (host tcp-passive)",
      "(host tcp-passive) -> 127.0.0.1:9 (host tcp-active)", NULL } },
  { "refused, long timeout",
    { "1 1 TCP 2105524479 127.0.0.1 %u typ host tcptype passive" },
    20000,
    FALSE,
    { "-> 127.0.0.1:%u (host tcp-passive)" } },
};

/* A port on 127.0.0.1 that takes connections (the kernel completes them
 * from the backlog) and never reads: checks there neither succeed nor
 * fail.  *@fd: the socket, to close afterwards. */
static guint16
silent_port (int *fd)
{
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t len = sizeof sin;

  *fd = socket (AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge (*fd, 0);
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  ck_assert_int_eq (bind (*fd, (struct sockaddr *) &sin, sizeof sin), 0);
  ck_assert_int_eq (listen (*fd, 8), 0);
  ck_assert_int_eq (getsockname (*fd, (struct sockaddr *) &sin, &len), 0);
  return ntohs (sin.sin_port);
}

START_TEST (test_unreachable)
{
  Side a = { 0 };
  int silent_fd = -1;
  guint16 port =
      unreachable_cases[_i].silent ? silent_port (&silent_fd) : closed_port ();
  g_autoptr (GPtrArray) cands = g_ptr_array_new_with_free_func (
      (GDestroyNotify) msrp_sdp_candidate_free);
  GError *error = NULL;
  gint64 t0;
  guint slack_ms = 3000;

  side_start (&a, TRUE, unreachable_cases[_i].timeout_ms);
  RUN_UNTIL (a.gathered, 5000);
  for (guint i = 0; i < G_N_ELEMENTS (unreachable_cases[_i].lines) &&
                    unreachable_cases[_i].lines[i] != NULL;
       i++)
    {
      g_autofree char *line = with_port (unreachable_cases[_i].lines[i], port);
      MsrpSdpCandidate *c = msrp_sdp_candidate_parse (line, -1, &error);

      ck_assert_msg (c != NULL, "%s", line);
      g_ptr_array_add (cands, c);
    }
  t0 = g_get_monotonic_time ();
  ck_assert (ice_leg_set_remote (a.leg, "abcd", "0123456789abcdefghijkl",
                                 cands, &error));
  RUN_UNTIL (a.failed || a.ready, unreachable_cases[_i].timeout_ms + slack_ms);
  ck_assert_msg (!a.ready, "%s: ready", unreachable_cases[_i].name);
  ck_assert_uint_eq (a.n_failed, 1);
  ck_assert_int_le ((a.failed_at - t0) / 1000,
                    unreachable_cases[_i].timeout_ms + slack_ms);
  printf ("ice-leg: %s: on_failed after %d ms: %s; tried: %s\n",
          unreachable_cases[_i].name, (int) ((a.failed_at - t0) / 1000),
          a.reason, a.tried);
  /* libnice gives up by itself when every check has failed (a refused
   * connection fails at once) unless it still waits for the peer's checks;
   * otherwise the leg's timeout fires. */
  if ((a.failed_at - t0) / 1000 < unreachable_cases[_i].timeout_ms)
    ck_assert_str_eq (a.reason, "every connectivity check failed");
  else
    {
      g_autofree char *want =
          g_strdup_printf ("no connectivity check succeeded within %u ms",
                           unreachable_cases[_i].timeout_ms);

      ck_assert_str_eq (a.reason, want);
    }
  ck_assert_int_eq (unreachable_cases[_i].by_timeout,
                    (a.failed_at - t0) / 1000 >=
                        unreachable_cases[_i].timeout_ms);
  for (guint i = 0; i < G_N_ELEMENTS (unreachable_cases[_i].tried) &&
                    unreachable_cases[_i].tried[i] != NULL;
       i++)
    {
      g_autofree char *want = with_port (unreachable_cases[_i].tried[i], port);

      ck_assert_msg (strstr (a.tried, want) != NULL,
                     "%s: \"%s\" not in "
                     "\"%s\"",
                     unreachable_cases[_i].name, want, a.tried);
    }
  /* Every remote candidate is named. */
  for (guint i = 0; i < cands->len; i++)
    {
      const MsrpSdpCandidate *c = cands->pdata[i];
      g_autofree char *want = g_strdup_printf ("%s:%u", c->address, c->port);

      ck_assert_msg (strstr (a.tried, want) != NULL, "%s not in \"%s\"", want,
                     a.tried);
    }
  /* Nothing follows on_failed. */
  {
    gint64 end = g_get_monotonic_time () + 300 * 1000;

    while (g_get_monotonic_time () < end)
      testloop_iterate ();
  }
  ck_assert_uint_eq (a.n_failed, 1);
  ck_assert (!a.ready);
  side_clear (&a);
  if (silent_fd >= 0)
    close (silent_fd);
}
END_TEST

/* Our local candidates, written as SDP, read by libnice's own parser as the
 * same candidates. */
START_TEST (test_local_candidates_libnice_reads)
{
  Side a = { 0 };
  g_autoptr (GPtrArray) local = NULL;
  NiceAgent *other = nice_agent_new (ctx, NICE_COMPATIBILITY_RFC5245);
  guint sid = nice_agent_add_stream (other, 1);
  gboolean active = FALSE, passive = FALSE;

  side_start (&a, TRUE, 0);
  RUN_UNTIL (a.gathered, 5000);
  local = ice_leg_get_local_candidates (a.leg);
  ck_assert_uint_ge (local->len, 2);
  for (guint i = 0; i < local->len; i++)
    {
      const MsrpSdpCandidate *c = local->pdata[i];
      g_autofree char *v = msrp_sdp_candidate_to_string (c);
      g_autofree char *line = g_strconcat ("a=candidate:", v, NULL);
      NiceCandidate *nc =
          nice_agent_parse_remote_candidate_sdp (other, sid, line);
      char ip[NICE_ADDRESS_STRING_LEN];

      ck_assert_msg (nc != NULL, "libnice cannot parse %s", line);
      ck_assert_str_eq (c->transport, "TCP");
      ck_assert_str_eq (c->type, "host");
      ck_assert_str_eq (c->address, "127.0.0.1");
      ck_assert_uint_eq (c->component, 1);
      ck_assert_int_eq (nc->type, NICE_CANDIDATE_TYPE_HOST);
      ck_assert_uint_eq (nc->priority, c->priority);
      ck_assert_str_eq (nc->foundation, c->foundation);
      nice_address_to_string (&nc->addr, ip);
      ck_assert_str_eq (ip, c->address);
      ck_assert_uint_eq (nice_address_get_port (&nc->addr), c->port);
      switch (c->tcptype)
        {
        case MSRP_SDP_TCPTYPE_ACTIVE:
          active = TRUE;
          ck_assert_int_eq (nc->transport,
                            NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE);
          ck_assert_uint_eq (c->port, 9); /* RFC 6544 section 4.5 */
          break;
        case MSRP_SDP_TCPTYPE_PASSIVE:
          passive = TRUE;
          ck_assert_int_eq (nc->transport,
                            NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE);
          ck_assert_uint_ne (c->port, 9);
          ck_assert_uint_ne (c->port, 0);
          break;
        case MSRP_SDP_TCPTYPE_SO:
          ck_assert_int_eq (nc->transport, NICE_CANDIDATE_TRANSPORT_TCP_SO);
          break;
        case MSRP_SDP_TCPTYPE_NONE:
        default:
          ck_abort_msg ("a candidate without tcptype: %s", v);
        }
      nice_candidate_free (nc);
    }
  ck_assert (active && passive);
  g_object_unref (other);
  side_clear (&a);
}
END_TEST

/* A bare libnice agent's candidates, written by libnice's SDP writer, read
 * by msrp_sdp_candidate_parse and given to a leg: the leg reaches ready
 * with it (so the conversion into libnice is right), and the pair names
 * the bare agent's candidates as libnice wrote them. */
typedef struct
{
  gboolean gathered, ready, failed;
} Bare;

static void
bare_gathered (NiceAgent *agent, guint sid, gpointer data)
{
  ((Bare *) data)->gathered = TRUE;
}

static void
bare_state (NiceAgent *agent, guint sid, guint cid, guint state, gpointer data)
{
  if (state == NICE_COMPONENT_STATE_READY)
    ((Bare *) data)->ready = TRUE;
  else if (state == NICE_COMPONENT_STATE_FAILED)
    ((Bare *) data)->failed = TRUE;
}

/* libnice processes a bare agent's sockets when its input is read. */
static gboolean
bare_read (GObject *pollable, gpointer data)
{
  guint8 buf[4096];
  GError *error = NULL;

  while (g_pollable_input_stream_read_nonblocking (
             G_POLLABLE_INPUT_STREAM (pollable), buf, sizeof buf, NULL,
             &error) > 0)
    ;
  g_clear_error (&error);
  return G_SOURCE_CONTINUE;
}

START_TEST (test_libnice_candidates_leg_reads)
{
  Side a = { 0 };
  Bare bare = { 0 };
  NiceAgent *other = nice_agent_new_full (
      ctx, NICE_COMPATIBILITY_RFC5245,
      NICE_AGENT_OPTION_RELIABLE | NICE_AGENT_OPTION_BYTESTREAM_TCP);
  NiceAddress lo;
  guint sid;
  GSList *nlocal;
  g_autoptr (GPtrArray) cands = g_ptr_array_new_with_free_func (
      (GDestroyNotify) msrp_sdp_candidate_free);
  g_autoptr (GPtrArray) ours = NULL;
  GSList *rlist = NULL;
  GIOStream *ios;
  GSource *src;
  char *ufrag, *pwd;
  GError *error = NULL;

  g_object_set (other, "ice-udp", FALSE, "controlling-mode", FALSE, "upnp",
                FALSE, NULL);
  nice_address_init (&lo);
  nice_address_set_from_string (&lo, "127.0.0.1");
  nice_agent_add_local_address (other, &lo);
  sid = nice_agent_add_stream (other, 1);
  g_signal_connect (other, "candidate-gathering-done",
                    G_CALLBACK (bare_gathered), &bare);
  g_signal_connect (other, "component-state-changed", G_CALLBACK (bare_state),
                    &bare);
  /* Its sockets are read when its input is: keep a source on it. */
  ios = nice_agent_get_io_stream (other, sid, 1);
  src = g_pollable_input_stream_create_source (
      G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (ios)), NULL);
  g_source_set_callback (src, G_SOURCE_FUNC (bare_read), NULL, NULL);
  g_source_attach (src, ctx);
  ck_assert (nice_agent_gather_candidates (other, sid));

  side_start (&a, TRUE, 0);
  RUN_UNTIL (a.gathered && bare.gathered, 5000);

  nlocal = nice_agent_get_local_candidates (other, sid, 1);
  for (GSList *l = nlocal; l != NULL; l = l->next)
    {
      g_autofree char *line =
          nice_agent_generate_local_candidate_sdp (other, l->data);
      MsrpSdpCandidate *c;
      const NiceCandidate *nc = l->data;
      char ip[NICE_ADDRESS_STRING_LEN];

      ck_assert (g_str_has_prefix (line, "a=candidate:"));
      c = msrp_sdp_candidate_parse (line + strlen ("a=candidate:"), -1,
                                    &error);
      ck_assert_msg (c != NULL, "%s: %s", line, error ? error->message : "");
      nice_address_to_string (&nc->addr, ip);
      ck_assert_str_eq (c->address, ip);
      ck_assert_uint_eq (c->priority, nc->priority);
      ck_assert_str_eq (c->foundation, nc->foundation);
      ck_assert_int_eq (c->tcptype,
                        nc->transport == NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE
                            ? MSRP_SDP_TCPTYPE_ACTIVE
                        : nc->transport == NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE
                            ? MSRP_SDP_TCPTYPE_PASSIVE
                            : MSRP_SDP_TCPTYPE_SO);
      g_ptr_array_add (cands, c);
    }
  g_slist_free_full (nlocal, (GDestroyNotify) nice_candidate_free);

  nice_agent_get_local_credentials (other, sid, &ufrag, &pwd);
  ck_assert (ice_leg_set_remote (a.leg, ufrag, pwd, cands, &error));
  g_free (ufrag);
  g_free (pwd);

  ours = candidates_through_sdp (a.leg);
  for (guint i = 0; i < ours->len; i++)
    {
      g_autofree char *v = msrp_sdp_candidate_to_string (ours->pdata[i]);
      g_autofree char *line = g_strconcat ("a=candidate:", v, NULL);
      NiceCandidate *nc =
          nice_agent_parse_remote_candidate_sdp (other, sid, line);

      ck_assert_msg (nc != NULL, "%s", line);
      rlist = g_slist_append (rlist, nc);
    }
  nice_agent_set_remote_credentials (other, sid, ice_leg_get_ufrag (a.leg),
                                     ice_leg_get_pwd (a.leg));
  ck_assert_int_eq (nice_agent_set_remote_candidates (other, sid, 1, rlist),
                    (int) ours->len);
  g_slist_free_full (rlist, (GDestroyNotify) nice_candidate_free);

  RUN_UNTIL ((a.ready && bare.ready) || a.failed || bare.failed, 15000);
  ck_assert_msg (a.ready && bare.ready, "leg %s, bare agent %s",
                 a.failed ? a.reason : "not ready",
                 bare.failed ? "failed" : "not ready");
  ck_assert_str_ne (a.pair->local_tcptype, a.pair->remote_tcptype);

  side_clear (&a);
  g_source_destroy (src);
  g_source_unref (src);
  g_object_unref (ios);
  g_object_unref (other);
}
END_TEST

static const struct
{
  const char *name;
  guint port_min, port_max;
  const char *stun, *turn, *turn_user;
  const char *error;
} bad_settings_cases[] = {
  { "range upside down", 6000, 5000, NULL, NULL, NULL,
    "port range 6000-5000 is not" },
  { "range half set", 0, 5000, NULL, NULL, NULL, "port range 0-5000" },
  { "range above 65535", 5000, 70000, NULL, NULL, NULL,
    "port range 5000-70000" },
  { "STUN by name", 0, 0, "stun.example.com", NULL, NULL,
    "STUN server \"stun.example.com\" is not an IP address" },
  { "TURN by name", 0, 0, NULL, "turn.example.com", "u",
    "TURN server \"turn.example.com\" is not an IP address" },
  { "TURN without credentials", 0, 0, NULL, "192.0.2.7", NULL,
    "TURN server 192.0.2.7 has no username or password" },
};

START_TEST (test_bad_settings)
{
  IceSettings *st = loopback_settings (0);
  GError *error = NULL;
  IceLeg *leg;

  st->port_min = bad_settings_cases[_i].port_min;
  st->port_max = bad_settings_cases[_i].port_max;
  st->stun_server = (char *) bad_settings_cases[_i].stun;
  st->turn_server = (char *) bad_settings_cases[_i].turn;
  st->turn_username = (char *) bad_settings_cases[_i].turn_user;
  st->turn_password = (char *) bad_settings_cases[_i].turn_user;
  leg = ice_leg_new (st, TRUE, &callbacks, NULL, &error);
  ck_assert_msg (leg == NULL, "%s: accepted", bad_settings_cases[_i].name);
  ck_assert (g_error_matches (error, ICE_LEG_ERROR, ICE_LEG_ERROR_INVALID));
  ck_assert_msg (strstr (error->message, bad_settings_cases[_i].error) != NULL,
                 "%s: \"%s\"", bad_settings_cases[_i].name, error->message);
  g_error_free (error);
  settings_free (st);
}
END_TEST

/* A port range is honoured by the tcp-passive listener. */
START_TEST (test_port_range)
{
  Side a = { 0 };
  IceSettings *st = loopback_settings (0);
  guint16 port = closed_port ();
  g_autoptr (GPtrArray) local = NULL;
  GError *error = NULL;
  gboolean found = FALSE;

  st->port_min = port;
  st->port_max = port;
  a.leg = ice_leg_new (st, TRUE, &callbacks, &a, &error);
  settings_free (st);
  ck_assert (a.leg != NULL);
  ck_assert (ice_leg_gather (a.leg, &error));
  RUN_UNTIL (a.gathered, 5000);
  local = ice_leg_get_local_candidates (a.leg);
  for (guint i = 0; i < local->len; i++)
    {
      const MsrpSdpCandidate *c = local->pdata[i];

      if (c->tcptype == MSRP_SDP_TCPTYPE_PASSIVE)
        {
          ck_assert_uint_eq (c->port, port);
          found = TRUE;
        }
    }
  ck_assert (found);
  side_clear (&a);
}
END_TEST

static const struct
{
  const char *name;
  const char *ufrag, *pwd;
  const char *line;
  const char *error;
} bad_remote_cases[] = {
  { "ufrag too short", "abc", "0123456789abcdefghijkl",
    "1 1 TCP 1 127.0.0.1 5000 typ host tcptype passive",
    "ice-ufrag is 3 characters, not 4 to 256" },
  { "pwd too short", "abcd", "0123456789",
    "1 1 TCP 1 127.0.0.1 5000 typ host tcptype passive",
    "ice-pwd is 10 characters, not 22 to 256" },
  { "pwd with a bad character", "abcd", "0123456789abcdefghijk=",
    "1 1 TCP 1 127.0.0.1 5000 typ host tcptype passive",
    "ice-pwd has character 0x3d at 21, not an ice-char" },
  { "only UDP", "abcd", "0123456789abcdefghijkl",
    "1 1 UDP 1 127.0.0.1 5000 typ host",
    "none of the 1 remote candidates is a usable TCP candidate" },
  { "TCP without tcptype", "abcd", "0123456789abcdefghijkl",
    "1 1 TCP 1 127.0.0.1 5000 typ host", "none of the 1 remote candidates" },
  { "component 2", "abcd", "0123456789abcdefghijkl",
    "1 2 TCP 1 127.0.0.1 5000 typ host tcptype passive",
    "none of the 1 remote candidates" },
  { "address by name", "abcd", "0123456789abcdefghijkl",
    "1 1 TCP 1 peer.example.com 5000 typ host tcptype passive",
    "none of the 1 remote candidates" },
  { "unknown type", "abcd", "0123456789abcdefghijkl",
    "1 1 TCP 1 127.0.0.1 5000 typ weird tcptype passive",
    "none of the 1 remote candidates" },
};

START_TEST (test_bad_remote)
{
  Side a = { 0 };
  g_autoptr (GPtrArray) cands = g_ptr_array_new_with_free_func (
      (GDestroyNotify) msrp_sdp_candidate_free);
  GError *error = NULL;
  MsrpSdpCandidate *c;

  side_start (&a, TRUE, 0);
  RUN_UNTIL (a.gathered, 5000);
  c = msrp_sdp_candidate_parse (bad_remote_cases[_i].line, -1, &error);
  ck_assert_msg (c != NULL, "%s", bad_remote_cases[_i].line);
  g_ptr_array_add (cands, c);
  ck_assert (!ice_leg_set_remote (a.leg, bad_remote_cases[_i].ufrag,
                                  bad_remote_cases[_i].pwd, cands, &error));
  ck_assert (g_error_matches (error, ICE_LEG_ERROR, ICE_LEG_ERROR_INVALID));
  ck_assert_msg (strstr (error->message, bad_remote_cases[_i].error) != NULL,
                 "%s: \"%s\"", bad_remote_cases[_i].name, error->message);
  g_clear_error (&error);
  side_clear (&a);
}
END_TEST

/* A leg freed inside its own callbacks: ASan would see a use after free. */
START_TEST (test_free_in_callbacks)
{
  Side a = { 0 }, b = { 0 };
  guint16 port = closed_port ();
  g_autofree char *line = g_strdup_printf (
      "1 1 TCP 2105524479 127.0.0.1 %u typ host tcptype passive", port);
  g_autoptr (GPtrArray) cands = g_ptr_array_new_with_free_func (
      (GDestroyNotify) msrp_sdp_candidate_free);
  GError *error = NULL;

  a.free_in_callback = TRUE;
  side_start (&a, TRUE, 0);
  RUN_UNTIL (a.gathered, 5000);
  ck_assert_ptr_null (a.leg);

  side_start (&b, TRUE, 500);
  RUN_UNTIL (b.gathered, 5000);
  g_ptr_array_add (cands, msrp_sdp_candidate_parse (line, -1, &error));
  ck_assert (ice_leg_set_remote (b.leg, "abcd", "0123456789abcdefghijkl",
                                 cands, &error));
  b.free_in_callback = TRUE;
  RUN_UNTIL (b.failed, 5000);
  ck_assert_ptr_null (b.leg);
  side_clear (&a);
  side_clear (&b);
}
END_TEST

/* Freed with checks under way, and before gathering. */
START_TEST (test_free_early)
{
  Side a = { 0 }, b = { 0 };
  IceSettings *st = loopback_settings (0);
  GError *error = NULL;
  IceLeg *leg = ice_leg_new (st, FALSE, &callbacks, NULL, &error);

  settings_free (st);
  ck_assert (leg != NULL);
  ck_assert_uint_ge (strlen (ice_leg_get_ufrag (leg)), 4);
  ck_assert_uint_ge (strlen (ice_leg_get_pwd (leg)), 22);
  ice_leg_free (leg);
  ice_leg_free (NULL);

  side_start (&a, TRUE, 0);
  side_start (&b, FALSE, 0);
  RUN_UNTIL (a.gathered && b.gathered, 5000);
  exchange (&a, &b);
  side_clear (&a);
  {
    gint64 end = g_get_monotonic_time () + 200 * 1000;

    while (g_get_monotonic_time () < end)
      testloop_iterate ();
  }
  side_clear (&b);
}
END_TEST

static Suite *
ice_leg_suite (void)
{
  Suite *s = suite_create ("ice-leg");
  TCase *tc = tcase_create ("loopback");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_transfer_both_ways);
  tcase_add_test (tc, test_throughput);
  tcase_add_test (tc, test_role_conflict);
  tcase_add_test (tc, test_both_controlled);
  tcase_add_test (tc, test_fails_after_ready);
  tcase_add_test (tc, test_close_stream);
  tcase_add_loop_test (tc, test_unreachable, 0,
                       G_N_ELEMENTS (unreachable_cases));
  tcase_add_test (tc, test_local_candidates_libnice_reads);
  tcase_add_test (tc, test_libnice_candidates_leg_reads);
  tcase_add_loop_test (tc, test_bad_settings, 0,
                       G_N_ELEMENTS (bad_settings_cases));
  tcase_add_test (tc, test_port_range);
  tcase_add_loop_test (tc, test_bad_remote, 0,
                       G_N_ELEMENTS (bad_remote_cases));
  tcase_add_test (tc, test_free_in_callbacks);
  tcase_add_test (tc, test_free_early);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr = srunner_create (ice_leg_suite ());
  int failed;

  setvbuf (stdout, NULL, _IOLBF, 0);
  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
