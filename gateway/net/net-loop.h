/* net-loop.h: the data plane's event loop: one epoll set for every
 * connection, one timer heap, and a clock the tests control.
 *
 * A NetLoop is one GSource on a GMainContext (net_loop_get_default() gives
 * the one of the thread-default context), so the control plane (ng, signals,
 * the resolver, libnice) keeps running on GLib beside it.  What it adds is
 * what GLib cannot do at carrier scale (HAProxy's ev_epoll.c and task.c are
 * the model):
 *
 *   - Watches: every connection's socket is in one epoll set.  GLib polls
 *     the epoll descriptor alone, so a wake-up costs the ready connections,
 *     not all of them: an idle connection costs nothing per turn.  A
 *     watch's wish to read or write is recorded and applied to epoll lazily,
 *     just before the next epoll_wait(), so interest that changes and
 *     changes back within a turn costs no system call.  A watch can also be
 *     woken by software (net_watch_wake()): TLS bytes already decrypted, an
 *     in-memory stream, a deferred start.
 *   - Turn ends: a watch may ask to be called once at the end of the
 *     current turn (net_watch_at_turn_end()), after every ready watch and
 *     due timer ran: connections gather what one turn wrote into one
 *     sendmsg() there.  Turn hooks (net_loop_add_turn_hook()) run after
 *     them: the log stream flushes its lines there.
 *   - Timers: deadlines (connect, handshake, idle, probation, report
 *     timeouts, expiry) live in one binary heap, not one GSource each.
 *     Timers are embedded in their owners; scheduling and cancelling are
 *     O(log n) and allocate nothing.
 *   - The clock: net_loop_now() is the monotonic clock in microseconds, or,
 *     once a test calls net_loop_set_fake_time(), a time the test moves
 *     (net_loop_advance()): timers then fire when the test says, not when
 *     the wall clock does.
 *
 * Level-triggered epoll, not edge-triggered: a connection reads at most a
 * budget per turn (fairness) and may stop reading for backpressure; with
 * level triggering a socket that still holds bytes is simply reported
 * again, where edge triggering would need a list of its own of sockets
 * read short of EAGAIN.  The price, an epoll_ctl() when the interest
 * changes (a reader paused or resumed, a writer that met EAGAIN), is paid
 * only by busy connections, and lazily.
 *
 * Everything here runs on the loop's context; nothing is thread-safe. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _NetLoop NetLoop;
typedef struct _NetTimer NetTimer;
typedef struct _NetWatch NetWatch;

/* Events a watch is told about. */
typedef enum
{
  NET_WATCH_IN = 1 << 0,       /* readable (or end of stream, or an error) */
  NET_WATCH_OUT = 1 << 1,      /* writable (or an error) */
  NET_WATCH_SOFT = 1 << 2,     /* woken by net_watch_wake() */
  NET_WATCH_TURN_END = 1 << 3, /* the turn ends (net_watch_at_turn_end()) */
} NetWatchEvents;

typedef void (*NetWatchFunc) (NetLoop *loop, NetWatch *watch, guint events,
                              gpointer user_data);
typedef void (*NetTimerFunc) (NetLoop *loop, NetTimer *timer,
                              gpointer user_data);
typedef void (*NetLoopHookFunc) (NetLoop *loop, gpointer user_data);

/* Embedded in its owner; the fields are the loop's (read them through the
 * functions below). */
struct _NetTimer
{
  gint64 deadline;
  guint index; /* 1-based place in the heap; 0: not scheduled */
  NetTimerFunc func;
  gpointer user_data;
};

struct _NetWatch
{
  int fd;             /* -1: a watch without a descriptor (woken only) */
  guint want;         /* NET_WATCH_IN | NET_WATCH_OUT wished for */
  guint registered;   /* what the epoll set has */
  guint soft;         /* events given by net_watch_wake(), not yet told */
  GList change_link;  /* in the loop's interest changes (data: NULL when
                       * not) */
  GList wake_link;    /* in one of the loop's lists of woken watches */
  GQueue *wake_queue; /* ... that one, or NULL */
  GList turn_link;    /* in the loop's turn ends */
  NetWatchFunc func;
  gpointer user_data;
};

/* The loop of the thread-default main context, made and attached to it on
 * first use; it lives as long as the context holds it, or as long as a
 * reference (net_loop_ref()) does.  (transfer none) */
NetLoop *net_loop_get_default (void);
NetLoop *net_loop_ref (NetLoop *loop);
/* The context the loop is attached to.  (transfer none) */
GMainContext *net_loop_get_context (NetLoop *loop);
void net_loop_unref (NetLoop *loop);

/* Monotonic microseconds: g_get_monotonic_time(), or the test's time. */
gint64 net_loop_now (NetLoop *loop);

/* Tests: from now on the loop's clock stands at @now_us and moves only by
 * net_loop_advance(); GLib's own timeouts are not affected. */
void net_loop_set_fake_time (NetLoop *loop, gint64 now_us);
gboolean net_loop_has_fake_time (NetLoop *loop);
/* Move the fake clock forward by @us; due timers fire at the loop's next
 * dispatch (the caller iterates the context). */
void net_loop_advance (NetLoop *loop, gint64 us);
/* The earliest scheduled deadline, or -1. */
gint64 net_loop_get_next_deadline (NetLoop *loop);

/* Tests: a network in memory.  From now on, listeners made on this loop
 * bind no socket (port 0 picks a free number), and connections made to
 * their addresses are in-memory streams with bounded buffers, end of
 * stream and reset as TCP has them, TLS included; a connect to an address
 * where nobody listens is refused.  Nothing leaves the process, and with a
 * fake clock nothing waits for the wall clock. */
void net_loop_set_virtual_network (NetLoop *loop);
gboolean net_loop_has_virtual_network (NetLoop *loop);
/* Tests, on the virtual network: a host that never answers.  A connect to
 * @address (an IP literal as g_inet_address_to_string() writes it; any
 * port, a listener there or not) is neither accepted nor refused, as by a
 * host behind a firewall that drops it: it ends with its connect timeout
 * (NET_CONN_CLOSED_TIMEOUT), on the fake clock when there is one.  Without
 * it, a virtual connect cannot time out: a port where nobody listens
 * refuses at once. */
void net_loop_add_virtual_black_hole (NetLoop *loop, const char *address);
gboolean net_loop_is_virtual_black_hole (NetLoop *loop, const char *address);
/* Tests, on the virtual network: connects made from now on come from
 * @address (an IP literal of the connect's family; NULL: back to 127.0.0.1
 * or ::1), as seen by the listener and its filter: many clients, one
 * process. */
void net_loop_set_virtual_source (NetLoop *loop, const char *address);
const char *net_loop_get_virtual_source (NetLoop *loop);

/* Called after every turn of the loop (every dispatch), after the turn
 * ends of the watches; and by net_loop_run_turn_hooks().  The hooks are
 * never removed: they live as long as the loop. */
void net_loop_add_turn_hook (NetLoop *loop, NetLoopHookFunc func,
                             gpointer user_data);
/* Have a turn run soon, in this iteration of the context or the next, even
 * if no watch or timer is due: a turn hook has work (lines to write). */
void net_loop_request_turn (NetLoop *loop);
/* Run the turn hooks now (before exiting, say). */
void net_loop_run_turn_hooks (NetLoop *loop);

/* Timers --------------------------------------------------------------- */

void net_timer_init (NetTimer *timer, NetTimerFunc func, gpointer user_data);
/* (Re)schedule @timer at @deadline (net_loop_now() terms); it fires once
 * from the loop's dispatch, at or after the deadline. */
void net_timer_schedule (NetLoop *loop, NetTimer *timer, gint64 deadline);
/* Harmless when not scheduled. */
void net_timer_cancel (NetLoop *loop, NetTimer *timer);
gboolean net_timer_is_scheduled (const NetTimer *timer);

/* Watches -------------------------------------------------------------- */

/* @fd: a non-blocking descriptor, or -1 for a watch that is only woken. */
void net_watch_init (NetWatch *watch, int fd, NetWatchFunc func,
                     gpointer user_data);
/* Wish for @events (NET_WATCH_IN | NET_WATCH_OUT, or 0); applied to epoll
 * before the loop next waits.  A watch that wants nothing is out of the
 * epoll set: a socket whose peer has gone reports that whatever it was
 * asked for, and a paused reader must not spin on it. */
void net_watch_set_events (NetLoop *loop, NetWatch *watch, guint events);
/* Call the watch with @events | NET_WATCH_SOFT in this turn or the next,
 * whatever its descriptor says (coalesced: once per turn). */
void net_watch_wake (NetLoop *loop, NetWatch *watch, guint events);
/* Call the watch with NET_WATCH_TURN_END once, after everything else of
 * the current turn (or of the next one when called outside a dispatch). */
void net_watch_at_turn_end (NetLoop *loop, NetWatch *watch);
/* The descriptor is about to be closed: out of the epoll set now; the
 * watch stays, without a descriptor (it can still be woken). */
void net_watch_drop_fd (NetLoop *loop, NetWatch *watch);
/* Forget @watch at once (before closing its descriptor): no call follows. */
void net_watch_remove (NetLoop *loop, NetWatch *watch);

G_END_DECLS
