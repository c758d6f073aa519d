/* Check suite for the data plane's loop (gateway/net/net-loop.c) and the
 * virtual network it offers tests (in-memory connections through
 * gateway/net/net-conn.c and net-listener.c).
 *
 * Every test runs on a fresh context with the loop's fake clock, so
 * timers fire when the test moves the clock, never by waiting. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net-conn.h"
#include "net-listener.h"
#include "net-loop.h"
#include "testloop.h"

#define T0 (1000 * G_USEC_PER_SEC)

static GMainContext *ctx;
static NetLoop *loop;

static void
setup (void)
{
  ctx = testloop_start ();
  loop = net_loop_get_default ();
  net_loop_set_fake_time (loop, T0);
}

static void
teardown (void)
{
  loop = NULL;
  testloop_stop ();
}

/* Dispatch until nothing is ready, without waiting. */
static void
settle (void)
{
  for (guint i = 0; i < 1000 && g_main_context_iteration (ctx, FALSE); i++)
    ;
}

/* --- timers ----------------------------------------------------------- */

typedef struct
{
  NetTimer timer;
  GString *trace;
  char name;
} Named;

static void
record (NetLoop *l, NetTimer *timer, gpointer data)
{
  Named *n = data;

  g_string_append_c (n->trace, n->name);
  ck_assert_int_ge (net_loop_now (l), timer->deadline);
}

START_TEST (test_timers_in_order)
{
  g_autoptr (GString) trace = g_string_new (NULL);
  Named t[5];
  const gint64 at[5] = { 30, 10, 50, 20, 40 };

  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    {
      t[i].trace = trace;
      t[i].name = (char) ('a' + i);
      net_timer_init (&t[i].timer, record, &t[i]);
      net_timer_schedule (loop, &t[i].timer, T0 + at[i] * 1000);
    }
  ck_assert_int_eq (net_loop_get_next_deadline (loop), T0 + 10 * 1000);
  /* The fake clock stands still: nothing fires however long we iterate. */
  testloop_run_for (20);
  ck_assert_str_eq (trace->str, "");
  /* Moved: what is due fires, in deadline order, and only that. */
  net_loop_advance (loop, 25 * 1000);
  settle ();
  ck_assert_str_eq (trace->str, "bd");
  /* Cancelled and rescheduled ones. */
  net_timer_cancel (loop, &t[4].timer);
  net_timer_cancel (loop, &t[4].timer); /* harmless twice */
  net_timer_schedule (loop, &t[2].timer, T0 + 35 * 1000);
  ck_assert (!net_timer_is_scheduled (&t[4].timer));
  net_loop_advance (loop, 100 * 1000);
  settle ();
  ck_assert_str_eq (trace->str, "bdac");
  ck_assert_int_eq (net_loop_get_next_deadline (loop), -1);
}
END_TEST

/* Many timers with random deadlines, some cancelled or moved: each fires
 * once, at or after its deadline, in order (the heap keeps its shape). */
START_TEST (test_timers_heap)
{
  enum
  {
    N = 2000
  };
  g_autoptr (GString) trace = g_string_new (NULL);
  Named *t = g_new0 (Named, N);
  GRand *rand = g_rand_new_with_seed (7);
  guint fired = 0;
  gint64 last = 0;

  for (guint i = 0; i < N; i++)
    {
      t[i].trace = trace;
      t[i].name = 'x';
      net_timer_init (&t[i].timer, record, &t[i]);
      net_timer_schedule (loop, &t[i].timer,
                          T0 + g_rand_int_range (rand, 1, 1000000));
    }
  for (guint i = 0; i < N; i += 3)
    net_timer_cancel (loop, &t[i].timer);
  for (guint i = 1; i < N; i += 5)
    net_timer_schedule (loop, &t[i].timer,
                        T0 + g_rand_int_range (rand, 1, 1000000));
  while (net_loop_get_next_deadline (loop) >= 0)
    {
      gint64 next = net_loop_get_next_deadline (loop);

      ck_assert_int_ge (next, last);
      last = next;
      net_loop_advance (loop, next - net_loop_now (loop));
      settle ();
    }
  /* Cancelled: every third; moved (scheduled again): every fifth from 1. */
  for (guint i = 0; i < N; i++)
    fired += i % 3 != 0 || i % 5 == 1;
  ck_assert_uint_eq (trace->len, fired);
  g_rand_free (rand);
  g_free (t);
}
END_TEST

/* --- watches ---------------------------------------------------------- */

typedef struct
{
  NetWatch watch;
  GString *trace;
  char name;
  guint events;
  guint calls;
  gboolean wake_self; /* wake itself again when called */
  NetWatch *victim;   /* removed when this one is called */
} Probe;

static void
on_probe (NetLoop *l, NetWatch *watch, guint events, gpointer data)
{
  Probe *p = data;

  p->calls++;
  p->events |= events;
  g_string_append_c (p->trace, p->name);
  if (events & NET_WATCH_TURN_END)
    g_string_append_c (p->trace, '.');
  if (p->wake_self && p->calls < 3)
    net_watch_wake (l, watch, 0);
  if (p->victim != NULL)
    net_watch_remove (l, p->victim);
}

static void
probe_init (Probe *p, GString *trace, char name, int fd)
{
  memset (p, 0, sizeof *p);
  p->trace = trace;
  p->name = name;
  net_watch_init (&p->watch, fd, on_probe, p);
}

static void
hook (NetLoop *l, gpointer data)
{
  g_string_append_c (data, '|');
}

START_TEST (test_watch_order)
{
  g_autoptr (GString) trace = g_string_new (NULL);
  Probe a, b, c, d;

  probe_init (&a, trace, 'a', -1);
  probe_init (&b, trace, 'b', -1);
  probe_init (&c, trace, 'c', -1);
  probe_init (&d, trace, 'd', -1);
  net_loop_add_turn_hook (loop, hook, trace);
  /* Wakes are called once per turn whatever their number, in order; a
   * turn end comes after them, then the hooks. */
  net_watch_wake (loop, &a.watch, 0);
  net_watch_wake (loop, &b.watch, NET_WATCH_IN);
  net_watch_wake (loop, &a.watch, NET_WATCH_OUT);
  net_watch_at_turn_end (loop, &c.watch);
  net_watch_at_turn_end (loop, &c.watch);
  settle ();
  ck_assert_str_eq (trace->str, "abc.|");
  ck_assert_uint_eq (a.events, NET_WATCH_SOFT | NET_WATCH_OUT);
  ck_assert_uint_eq (b.events, NET_WATCH_SOFT | NET_WATCH_IN);
  ck_assert_uint_eq (c.events, NET_WATCH_TURN_END);

  /* A watch that wakes itself is called again in the next turn, not in
   * the same one: each turn ends before it runs again. */
  g_string_truncate (trace, 0);
  a.wake_self = TRUE;
  a.calls = 0;
  net_watch_wake (loop, &a.watch, 0);
  settle ();
  ck_assert_str_eq (trace->str, "a|a|a|");

  /* A watch removed by an earlier one of the same turn is not called. */
  g_string_truncate (trace, 0);
  a.wake_self = FALSE;
  b.victim = &d.watch;
  net_watch_wake (loop, &b.watch, 0);
  net_watch_wake (loop, &d.watch, 0);
  net_watch_at_turn_end (loop, &d.watch);
  settle ();
  ck_assert_str_eq (trace->str, "b|");
  ck_assert_uint_eq (d.calls, 0);
  net_watch_remove (loop, &a.watch);
  net_watch_remove (loop, &b.watch);
  net_watch_remove (loop, &c.watch);
}
END_TEST

/* A descriptor: called while it is readable and wanted; out of the epoll
 * set when nothing is wanted, whatever it holds. */
START_TEST (test_watch_fd)
{
  g_autoptr (GString) trace = g_string_new (NULL);
  Probe p;
  int fds[2];
  char buf[8];

  ck_assert_int_eq (pipe2 (fds, O_NONBLOCK | O_CLOEXEC), 0);
  probe_init (&p, trace, 'p', fds[0]);
  net_watch_set_events (loop, &p.watch, NET_WATCH_IN);
  testloop_run_for (20);
  ck_assert_uint_eq (p.calls, 0);
  ck_assert_int_eq (write (fds[1], "x", 1), 1);
  RUN_UNTIL (p.calls > 0, 1000);
  ck_assert_uint_eq (p.events, NET_WATCH_IN);
  /* Level triggered: unread, it is reported again. */
  p.calls = 0;
  RUN_UNTIL (p.calls > 0, 1000);
  /* Not wanted: not reported. */
  net_watch_set_events (loop, &p.watch, 0);
  settle ();
  p.calls = 0;
  testloop_run_for (20);
  ck_assert_uint_eq (p.calls, 0);
  /* Wanted again and then drained: quiet. */
  net_watch_set_events (loop, &p.watch, NET_WATCH_IN);
  RUN_UNTIL (p.calls > 0, 1000);
  ck_assert_int_eq (read (fds[0], buf, sizeof buf), 1);
  settle ();
  p.calls = 0;
  testloop_run_for (20);
  ck_assert_uint_eq (p.calls, 0);
  net_watch_drop_fd (loop, &p.watch);
  close (fds[0]);
  close (fds[1]);
  net_watch_remove (loop, &p.watch);
}
END_TEST

/* --- the virtual network ---------------------------------------------- */

typedef struct
{
  NetConn *conn;
  GByteArray *in;
  gboolean connected;
  gboolean closed;
  gboolean drained;
  NetConnCloseReason reason;
  char *message;
  GPtrArray *slices; /* when set: every chunk kept as net_conn_slice() */
  guint shared;      /* ... of which were the very bytes, not copies */
} End;

static void
end_connected (NetConn *conn, gpointer data)
{
  ((End *) data)->connected = TRUE;
}

static void
end_data (NetConn *conn, const guint8 *bytes, gsize len, gpointer data)
{
  End *e = data;

  g_byte_array_append (e->in, bytes, (guint) len);
  if (e->slices != NULL)
    {
      GBytes *slice = net_conn_slice (conn, bytes, len);

      e->shared += g_bytes_get_data (slice, NULL) == bytes;
      g_ptr_array_add (e->slices, slice);
    }
}

static void
end_drained (NetConn *conn, gpointer data)
{
  ((End *) data)->drained = TRUE;
}

static void
end_closed (NetConn *conn, NetConnCloseReason reason, const GError *error,
            gpointer data)
{
  End *e = data;

  e->closed = TRUE;
  e->reason = reason;
  e->message = g_strdup (error->message);
}

static const NetConnCallbacks end_callbacks = {
  .on_connected = end_connected,
  .on_data = end_data,
  .on_drained = end_drained,
  .on_closed = end_closed,
};

static void
end_init (End *e)
{
  memset (e, 0, sizeof *e);
  e->in = g_byte_array_new ();
}

static void
end_clear (End *e)
{
  if (e->conn != NULL)
    {
      net_conn_set_callbacks (e->conn, NULL, NULL, NULL);
      net_conn_unref (e->conn);
    }
  g_byte_array_unref (e->in);
  if (e->slices != NULL)
    g_ptr_array_unref (e->slices);
  g_free (e->message);
}

typedef struct
{
  End *server;
  GSocketAddress *refuse; /* the filter refuses this peer */
  guint asked;
} Accepting;

static gboolean
on_filter (NetListener *l, GSocketAddress *peer, gpointer data)
{
  Accepting *a = data;

  a->asked++;
  return a->refuse == NULL;
}

static void
on_accept (NetListener *l, NetConn *conn, gpointer data)
{
  Accepting *a = data;

  a->server->conn = net_conn_ref (conn);
  net_conn_set_callbacks (conn, &end_callbacks, a->server, NULL);
}

static NetListener *
listen_virtual (Accepting *a, const char *ip)
{
  g_autoptr (GSocketAddress) addr =
      g_inet_socket_address_new_from_string (ip, 0);
  g_autoptr (GError) error = NULL;
  NetListener *l = net_listener_new (addr, NULL, NULL, &error);

  ck_assert_msg (l != NULL, "%s", error != NULL ? error->message : "");
  net_listener_set_callbacks (l, on_filter, on_accept, a, NULL);
  return l;
}

static void
connect_to (End *client, GSocketAddress *addr)
{
  g_autoptr (GError) error = NULL;

  client->conn = net_conn_connect (addr, NULL, NULL, NULL, &error);
  ck_assert_msg (client->conn != NULL, "%s",
                 error != NULL ? error->message : "");
  net_conn_set_callbacks (client->conn, &end_callbacks, client, NULL);
}

static void
send_text (End *e, const char *text)
{
  g_autoptr (GBytes) b = g_bytes_new (text, strlen (text));

  ck_assert (net_conn_write (e->conn, b));
}

static gboolean
holds (End *e, const char *text)
{
  return e->in->len == strlen (text) &&
         memcmp (e->in->data, text, e->in->len) == 0;
}

/* Connect, talk both ways, close: the peer sees the end of stream after
 * every byte, and the closing side's close completes. */
START_TEST (test_virtual_connect)
{
  End server, client;
  Accepting a = { &server, NULL, 0 };
  g_autoptr (NetListener) l = NULL;

  end_init (&server);
  end_init (&client);
  net_loop_set_virtual_network (loop);
  l = listen_virtual (&a, "127.0.0.1");
  ck_assert_uint_ne (g_inet_socket_address_get_port (
                         G_INET_SOCKET_ADDRESS (net_listener_get_address (l))),
                     0);
  connect_to (&client, net_listener_get_address (l));
  RUN_UNTIL (client.connected && server.connected, 1000);
  ck_assert_uint_eq (a.asked, 1);
  ck_assert_str_eq (net_conn_get_peer_address (server.conn),
                    net_conn_get_local_address (client.conn));
  send_text (&client, "hello ");
  send_text (&client, "server");
  send_text (&server, "hello client");
  RUN_UNTIL (holds (&server, "hello server") &&
                 holds (&client, "hello client"),
             1000);
  ck_assert_uint_eq (net_conn_get_bytes_out (client.conn), 12);
  net_conn_close (client.conn);
  RUN_UNTIL (server.closed, 1000);
  ck_assert_int_eq (server.reason, NET_CONN_CLOSED_PEER);
  /* The server closes its side; the client's close is then complete. */
  net_conn_close (server.conn);
  RUN_UNTIL (client.closed, 1000);
  ck_assert_int_eq (client.reason, NET_CONN_CLOSED_LOCAL);
  end_clear (&server);
  end_clear (&client);
}
END_TEST

/* Nobody at the address: refused.  The filter says no: reset. */
START_TEST (test_virtual_refused)
{
  End server, client, other;
  Accepting a = { &server, NULL, 0 };
  g_autoptr (NetListener) l = NULL;
  g_autoptr (GSocketAddress) nowhere =
      g_inet_socket_address_new_from_string ("127.0.0.1", 9);

  end_init (&server);
  end_init (&client);
  end_init (&other);
  net_loop_set_virtual_network (loop);
  connect_to (&client, nowhere);
  RUN_UNTIL (client.closed, 1000);
  ck_assert_int_eq (client.reason, NET_CONN_CLOSED_REFUSED);
  ck_assert_ptr_nonnull (strstr (client.message, "Connection refused"));

  l = listen_virtual (&a, "127.0.0.1");
  a.refuse = nowhere;
  connect_to (&other, net_listener_get_address (l));
  RUN_UNTIL (other.closed, 1000);
  ck_assert_uint_eq (a.asked, 1);
  ck_assert_ptr_null (server.conn);
  ck_assert_int_eq (other.reason, NET_CONN_CLOSED_RESET);
  end_clear (&server);
  end_clear (&client);
  end_clear (&other);
}
END_TEST

/* A black hole neither accepts nor refuses: the connect waits out its
 * timeout on the fake clock, to the microsecond, even with a listener at
 * the address, which never hears of it.  Other hosts still refuse. */
START_TEST (test_virtual_black_hole)
{
  End server, client, other;
  Accepting a = { &server, NULL, 0 };
  g_autoptr (NetListener) l = NULL;
  g_autoptr (GSocketAddress) nowhere =
      g_inet_socket_address_new_from_string ("127.0.0.1", 9);
  NetConnOptions opts = { .connect_timeout_ms = 3000 };
  g_autoptr (GError) error = NULL;

  end_init (&server);
  end_init (&client);
  end_init (&other);
  net_loop_set_virtual_network (loop);
  net_loop_add_virtual_black_hole (loop, "127.0.0.2");
  ck_assert (net_loop_is_virtual_black_hole (loop, "127.0.0.2"));
  ck_assert (!net_loop_is_virtual_black_hole (loop, "127.0.0.1"));
  l = listen_virtual (&a, "127.0.0.2");
  client.conn = net_conn_connect (net_listener_get_address (l), NULL, NULL,
                                  &opts, &error);
  ck_assert_msg (client.conn != NULL, "%s",
                 error != NULL ? error->message : "");
  net_conn_set_callbacks (client.conn, &end_callbacks, &client, NULL);
  settle ();
  ck_assert_int_eq (net_conn_get_state (client.conn),
                    NET_CONN_STATE_CONNECTING);
  ck_assert_int_eq (net_loop_get_next_deadline (loop),
                    T0 + 3 * G_USEC_PER_SEC);
  net_loop_advance (loop, 3 * G_USEC_PER_SEC - 1);
  settle ();
  ck_assert (!client.connected && !client.closed);
  net_loop_advance (loop, 1);
  settle ();
  ck_assert (client.closed);
  ck_assert_int_eq (client.reason, NET_CONN_CLOSED_TIMEOUT);
  ck_assert_msg (strstr (client.message, "timed out after 3000 ms") != NULL,
                 "%s", client.message);
  ck_assert (!client.connected);
  ck_assert_uint_eq (a.asked, 0);
  ck_assert_ptr_null (server.conn);

  connect_to (&other, nowhere);
  RUN_UNTIL (other.closed, 1000);
  ck_assert_int_eq (other.reason, NET_CONN_CLOSED_REFUSED);
  end_clear (&server);
  end_clear (&client);
  end_clear (&other);
}
END_TEST

/* A reader that does not read pushes back: the writer's queue grows past
 * the high watermark, and drains when the reader resumes; every byte
 * arrives in order. */
START_TEST (test_virtual_backpressure)
{
  enum
  {
    CHUNK = 64 * 1024,
    CHUNKS = 16
  };
  End server, client;
  Accepting a = { &server, NULL, 0 };
  g_autoptr (NetListener) l = NULL;
  guint8 *data = g_malloc (CHUNK * CHUNKS);

  for (gsize i = 0; i < CHUNK * CHUNKS; i++)
    data[i] = (guint8) (i * 7 + i / 251);
  end_init (&server);
  end_init (&client);
  net_loop_set_virtual_network (loop);
  l = listen_virtual (&a, "127.0.0.1");
  connect_to (&client, net_listener_get_address (l));
  RUN_UNTIL (client.connected && server.connected, 1000);
  net_conn_pause_reading (server.conn);
  for (guint i = 0; i < CHUNKS; i++)
    {
      g_autoptr (GBytes) b = g_bytes_new_static (data + i * CHUNK, CHUNK);

      ck_assert (net_conn_write (client.conn, b));
    }
  settle ();
  ck_assert (net_conn_is_congested (client.conn));
  ck_assert_uint_gt (net_conn_get_queued_bytes (client.conn), 0);
  ck_assert_uint_eq (server.in->len, 0);
  net_conn_resume_reading (server.conn);
  RUN_UNTIL (server.in->len == CHUNK * CHUNKS, 2000);
  ck_assert (client.drained);
  ck_assert_int_eq (memcmp (server.in->data, data, CHUNK * CHUNKS), 0);
  end_clear (&server);
  end_clear (&client);
  g_free (data);
}
END_TEST

/* Closing with bytes unread resets the peer, as a kernel does; abort with
 * reset too. */
START_TEST (test_virtual_reset)
{
  End server, client;
  Accepting a = { &server, NULL, 0 };
  g_autoptr (NetListener) l = NULL;

  end_init (&server);
  end_init (&client);
  net_loop_set_virtual_network (loop);
  l = listen_virtual (&a, "127.0.0.1");
  connect_to (&client, net_listener_get_address (l));
  RUN_UNTIL (client.connected && server.connected, 1000);
  net_conn_pause_reading (server.conn);
  send_text (&client, "never read");
  settle ();
  net_conn_abort (server.conn, FALSE);
  RUN_UNTIL (client.closed, 1000);
  ck_assert_int_eq (client.reason, NET_CONN_CLOSED_RESET);
  end_clear (&server);
  end_clear (&client);
}
END_TEST

/* The idle timeout on the fake clock: nothing for a minute of wall time,
 * then the clock moves and the connection closes at once. */
/* @client connected to @server over the virtual network, with an idle
 * timeout of a minute on @client's side.  Returns: (transfer full) the
 * listener. */
static NetListener *
idle_pair (End *server, End *client, Accepting *a)
{
  NetConnOptions opts = { .idle_timeout_ms = 60 * 1000 };
  g_autoptr (GError) error = NULL;
  NetListener *l;

  end_init (server);
  end_init (client);
  net_loop_set_virtual_network (loop);
  l = listen_virtual (a, "127.0.0.1");
  client->conn = net_conn_connect (net_listener_get_address (l), NULL, NULL,
                                   &opts, &error);
  ck_assert_msg (client->conn != NULL, "%s", error ? error->message : "");
  net_conn_set_callbacks (client->conn, &end_callbacks, client, NULL);
  RUN_UNTIL (client->connected && server->connected, 1000);
  return l;
}

/* From now, @client is open for 59 s of silence and closed as idle at
 * 61 s; then the pair is cleared. */
static void
closes_a_minute_on (End *server, End *client)
{
  net_loop_advance (loop, 59 * G_USEC_PER_SEC);
  settle ();
  ck_assert (!client->closed);
  net_loop_advance (loop, 2 * G_USEC_PER_SEC);
  RUN_UNTIL (client->closed, 1000);
  ck_assert_int_eq (client->reason, NET_CONN_CLOSED_IDLE);
  end_clear (server);
  end_clear (client);
}

START_TEST (test_virtual_idle_fake_clock)
{
  End server, client;
  Accepting a = { &server, NULL, 0 };
  g_autoptr (NetListener) l = idle_pair (&server, &client, &a);

  ck_assert_ptr_nonnull (l);
  net_loop_advance (loop, 59 * G_USEC_PER_SEC);
  settle ();
  ck_assert (!client.closed);
  send_text (&server, "ping"); /* activity moves the deadline */
  RUN_UNTIL (holds (&client, "ping"), 1000);
  closes_a_minute_on (&server, &client);
}
END_TEST

/* A connection exempt from the idle timeout (a live call's) stays however
 * long it is silent; exempt no more, its idle time counts from then. */
START_TEST (test_virtual_idle_exempt)
{
  End server, client;
  Accepting a = { &server, NULL, 0 };
  g_autoptr (NetListener) l = idle_pair (&server, &client, &a);
  gint64 last = net_conn_get_last_activity (client.conn);

  ck_assert_ptr_nonnull (l);
  net_conn_set_idle_exempt (client.conn, TRUE);
  net_loop_advance (loop, (gint64) 3600 * G_USEC_PER_SEC);
  settle ();
  ck_assert (!client.closed);
  /* Silence is not activity. */
  ck_assert_int_eq (net_conn_get_last_activity (client.conn), last);
  net_conn_set_idle_exempt (client.conn, FALSE);
  closes_a_minute_on (&server, &client);
}
END_TEST

/* Slices of what was read stay valid and unchanged while later reads go
 * on: a read whose buffer is still sliced takes another. */
START_TEST (test_virtual_slices)
{
  enum
  {
    LEN = 300 * 1024
  };
  End server, client;
  Accepting a = { &server, NULL, 0 };
  g_autoptr (NetListener) l = NULL;
  g_autoptr (GByteArray) joined = g_byte_array_new ();
  guint8 *data = g_malloc (LEN);

  for (gsize i = 0; i < LEN; i++)
    data[i] = (guint8) (i % 253);
  end_init (&server);
  end_init (&client);
  server.slices =
      g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  net_loop_set_virtual_network (loop);
  l = listen_virtual (&a, "127.0.0.1");
  connect_to (&client, net_listener_get_address (l));
  RUN_UNTIL (client.connected && server.connected, 1000);
  {
    g_autoptr (GBytes) b = g_bytes_new_static (data, LEN);

    ck_assert (net_conn_write (client.conn, b));
  }
  RUN_UNTIL (server.in->len == LEN, 2000);
  ck_assert_uint_gt (server.slices->len, 2);
  ck_assert_uint_eq (server.shared, server.slices->len);
  for (guint i = 0; i < server.slices->len; i++)
    {
      gsize n;
      const guint8 *p = g_bytes_get_data (server.slices->pdata[i], &n);

      g_byte_array_append (joined, p, (guint) n);
    }
  ck_assert_uint_eq (joined->len, LEN);
  ck_assert_int_eq (memcmp (joined->data, data, LEN), 0);
  /* Outside on_data: a copy. */
  {
    g_autoptr (GBytes) copy = net_conn_slice (server.conn, data, 4);

    ck_assert_ptr_ne (g_bytes_get_data (copy, NULL), data);
  }
  end_clear (&server);
  end_clear (&client);
  g_free (data);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("net-loop");
  TCase *tc = tcase_create ("loop");
  TCase *tv = tcase_create ("virtual network");
  SRunner *sr;
  int failed;

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_timers_in_order);
  tcase_add_test (tc, test_timers_heap);
  tcase_add_test (tc, test_watch_order);
  tcase_add_test (tc, test_watch_fd);
  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tv, setup, teardown);
  tcase_add_test (tv, test_virtual_connect);
  tcase_add_test (tv, test_virtual_refused);
  tcase_add_test (tv, test_virtual_black_hole);
  tcase_add_test (tv, test_virtual_backpressure);
  tcase_add_test (tv, test_virtual_reset);
  tcase_add_test (tv, test_virtual_idle_fake_clock);
  tcase_add_test (tv, test_virtual_idle_exempt);
  tcase_add_test (tv, test_virtual_slices);
  suite_add_tcase (s, tv);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
