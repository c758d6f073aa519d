/* net-loop.c: see net-loop.h.
 *
 * One dispatch of the loop's GSource is a turn:
 *   1. the interest changes of the last turn go to epoll; epoll_wait()
 *      without waiting (GLib has already polled the epoll descriptor) takes
 *      up to MAX_EVENTS ready descriptors, and each becomes an entry in the
 *      list of woken watches, before any callback runs: a callback may close
 *      and free another watch, which then simply leaves the list;
 *   2. the woken watches are called, each once, in the order they woke; a
 *      watch woken during this step is called in the next turn (a reader
 *      over its budget wakes itself and must not starve the others);
 *   3. the timers that are due are called, at most MAX_TIMERS;
 *   4. the watches that asked for it get their turn end (gathered writes),
 *      and the turn hooks run (the log stream's flush). */
#include "net-loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Ready descriptors taken per turn; more wait for the next turn (level
 * triggered: they are reported again). */
#define MAX_EVENTS 256
/* Timers fired per turn; more fire in the next turn. */
#define MAX_TIMERS 4096

typedef struct
{
  NetLoopHookFunc func;
  gpointer user_data;
} Hook;

struct _NetLoop
{
  GSource source;
  GMainContext *context; /* the registry's key (weak) */
  int epfd;
  gpointer epfd_tag;
  gboolean fake;
  gint64 fake_now;
  gboolean virtual_network;
  GHashTable *black_holes; /* IP literals; NULL until the first */
  char *virtual_source;    /* connects come from it; NULL: loopback */
  NetTimer **heap; /* 1-based binary heap by deadline: heap[1] is next */
  guint heap_len;
  guint heap_cap;
  GQueue changes; /* NetWatch whose interest changed (change_link) */
  GQueue woken;   /* NetWatch to call this turn (wake_link) */
  GQueue later;   /* ... and in the next turn */
  GQueue turn_ends;
  GArray *hooks;         /* Hook */
  gboolean in_wake_step; /* step 2 runs: new wakes go to later */
  gboolean turn_wanted;  /* net_loop_request_turn() */
};

static GMutex registry_lock;
static GHashTable *registry; /* GMainContext -> NetLoop (weak) */

/* --- clock and timers ------------------------------------------------- */

gint64
net_loop_now (NetLoop *loop)
{
  return loop->fake ? loop->fake_now : g_get_monotonic_time ();
}

void
net_loop_set_fake_time (NetLoop *loop, gint64 now_us)
{
  g_return_if_fail (loop != NULL);
  loop->fake = TRUE;
  loop->fake_now = now_us;
}

gboolean
net_loop_has_fake_time (NetLoop *loop)
{
  return loop->fake;
}

void
net_loop_advance (NetLoop *loop, gint64 us)
{
  g_return_if_fail (loop != NULL && loop->fake && us >= 0);
  loop->fake_now += us;
  g_main_context_wakeup (loop->context);
}

void
net_loop_set_virtual_network (NetLoop *loop)
{
  g_return_if_fail (loop != NULL);
  loop->virtual_network = TRUE;
}

gboolean
net_loop_has_virtual_network (NetLoop *loop)
{
  return loop->virtual_network;
}

void
net_loop_add_virtual_black_hole (NetLoop *loop, const char *address)
{
  g_return_if_fail (loop != NULL && loop->virtual_network);
  g_return_if_fail (address != NULL);
  if (loop->black_holes == NULL)
    loop->black_holes =
        g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_add (loop->black_holes, g_strdup (address));
}

gboolean
net_loop_is_virtual_black_hole (NetLoop *loop, const char *address)
{
  return loop->black_holes != NULL &&
         g_hash_table_contains (loop->black_holes, address);
}

void
net_loop_set_virtual_source (NetLoop *loop, const char *address)
{
  g_return_if_fail (loop != NULL && loop->virtual_network);
  g_free (loop->virtual_source);
  loop->virtual_source = g_strdup (address);
}

const char *
net_loop_get_virtual_source (NetLoop *loop)
{
  return loop->virtual_source;
}

gint64
net_loop_get_next_deadline (NetLoop *loop)
{
  return loop->heap_len > 0 ? loop->heap[1]->deadline : -1;
}

static void
heap_set (NetLoop *loop, guint i, NetTimer *t)
{
  loop->heap[i] = t;
  t->index = i;
}

static void
sift_up (NetLoop *loop, guint i)
{
  NetTimer *t = loop->heap[i];

  while (i > 1 && loop->heap[i / 2]->deadline > t->deadline)
    {
      heap_set (loop, i, loop->heap[i / 2]);
      i /= 2;
    }
  heap_set (loop, i, t);
}

static void
sift_down (NetLoop *loop, guint i)
{
  NetTimer *t = loop->heap[i];

  for (;;)
    {
      guint c = 2 * i;

      if (c > loop->heap_len)
        break;
      if (c + 1 <= loop->heap_len &&
          loop->heap[c + 1]->deadline < loop->heap[c]->deadline)
        c++;
      if (loop->heap[c]->deadline >= t->deadline)
        break;
      heap_set (loop, i, loop->heap[c]);
      i = c;
    }
  heap_set (loop, i, t);
}

void
net_timer_init (NetTimer *timer, NetTimerFunc func, gpointer user_data)
{
  timer->deadline = 0;
  timer->index = 0;
  timer->func = func;
  timer->user_data = user_data;
}

gboolean
net_timer_is_scheduled (const NetTimer *timer)
{
  return timer->index != 0;
}

void
net_timer_cancel (NetLoop *loop, NetTimer *timer)
{
  guint i = timer->index;
  NetTimer *last;

  if (i == 0)
    return;
  g_assert (i <= loop->heap_len && loop->heap[i] == timer);
  timer->index = 0;
  last = loop->heap[loop->heap_len--];
  if (last == timer)
    return;
  heap_set (loop, i, last);
  if (i > 1 && loop->heap[i / 2]->deadline > last->deadline)
    sift_up (loop, i);
  else
    sift_down (loop, i);
}

void
net_timer_schedule (NetLoop *loop, NetTimer *timer, gint64 deadline)
{
  g_return_if_fail (loop != NULL && timer != NULL && timer->func != NULL);
  net_timer_cancel (loop, timer);
  timer->deadline = deadline;
  if (loop->heap_len + 1 >= loop->heap_cap)
    {
      loop->heap_cap = MAX (64, loop->heap_cap * 2);
      loop->heap = g_renew (NetTimer *, loop->heap, loop->heap_cap);
    }
  loop->heap_len++;
  heap_set (loop, loop->heap_len, timer);
  sift_up (loop, loop->heap_len);
}

/* --- watches ---------------------------------------------------------- */

void
net_watch_init (NetWatch *watch, int fd, NetWatchFunc func, gpointer user_data)
{
  *watch = (NetWatch){ .fd = fd, .func = func, .user_data = user_data };
  watch->change_link.data = NULL;
  watch->wake_link.data = NULL;
  watch->turn_link.data = NULL;
}

static gboolean
linked (const GList *link)
{
  return link->data != NULL;
}

static void
unlink_from (GQueue *queue, GList *link)
{
  g_queue_unlink (queue, link);
  link->data = NULL;
}

static void
link_into (GQueue *queue, GList *link, NetWatch *watch)
{
  link->data = watch;
  link->next = link->prev = NULL;
  g_queue_push_tail_link (queue, link);
}

void
net_watch_set_events (NetLoop *loop, NetWatch *watch, guint events)
{
  events &= NET_WATCH_IN | NET_WATCH_OUT;
  watch->want = events;
  if (watch->fd < 0 || linked (&watch->change_link) ||
      events == watch->registered)
    return;
  link_into (&loop->changes, &watch->change_link, watch);
}

/* Which queue a wake goes to: during step 2, the next turn's. */
static GQueue *
wake_queue (NetLoop *loop)
{
  return loop->in_wake_step ? &loop->later : &loop->woken;
}

static void
wake (NetLoop *loop, NetWatch *watch, guint events)
{
  watch->soft |= events;
  if (watch->wake_queue == NULL)
    {
      watch->wake_queue = wake_queue (loop);
      link_into (watch->wake_queue, &watch->wake_link, watch);
    }
}

void
net_watch_wake (NetLoop *loop, NetWatch *watch, guint events)
{
  wake (loop, watch, events | NET_WATCH_SOFT);
}

void
net_watch_at_turn_end (NetLoop *loop, NetWatch *watch)
{
  if (!linked (&watch->turn_link))
    link_into (&loop->turn_ends, &watch->turn_link, watch);
}

static guint
epoll_events (guint events)
{
  return ((events & NET_WATCH_IN) ? EPOLLIN : 0) |
         ((events & NET_WATCH_OUT) ? EPOLLOUT : 0);
}

/* Bring the epoll set in line with @watch's wish. */
static void
apply (NetLoop *loop, NetWatch *watch)
{
  struct epoll_event ev = { .events = epoll_events (watch->want),
                            .data.ptr = watch };
  int op;

  if (watch->want == watch->registered)
    return;
  if (watch->registered == 0)
    op = EPOLL_CTL_ADD;
  else if (watch->want == 0)
    op = EPOLL_CTL_DEL;
  else
    op = EPOLL_CTL_MOD;
  if (epoll_ctl (loop->epfd, op, watch->fd, &ev) < 0)
    {
      /* Not expected for a descriptor of ours; tell the owner, whose next
       * read or write meets the error itself. */
      g_warning ("epoll_ctl on descriptor %d failed: %s", watch->fd,
                 g_strerror (errno));
      watch->registered = 0;
      net_watch_wake (loop, watch, watch->want);
      return;
    }
  watch->registered = watch->want;
}

static void
apply_changes (NetLoop *loop)
{
  GList *link;

  while ((link = g_queue_peek_head_link (&loop->changes)) != NULL)
    {
      NetWatch *watch = link->data;

      unlink_from (&loop->changes, link);
      apply (loop, watch);
    }
}

void
net_watch_drop_fd (NetLoop *loop, NetWatch *watch)
{
  if (linked (&watch->change_link))
    unlink_from (&loop->changes, &watch->change_link);
  if (watch->fd >= 0 && watch->registered != 0)
    epoll_ctl (loop->epfd, EPOLL_CTL_DEL, watch->fd, NULL);
  watch->registered = 0;
  watch->want = 0;
  watch->fd = -1;
}

void
net_watch_remove (NetLoop *loop, NetWatch *watch)
{
  if (linked (&watch->change_link))
    unlink_from (&loop->changes, &watch->change_link);
  if (watch->wake_queue != NULL)
    {
      unlink_from (watch->wake_queue, &watch->wake_link);
      watch->wake_queue = NULL;
    }
  if (linked (&watch->turn_link))
    unlink_from (&loop->turn_ends, &watch->turn_link);
  if (watch->fd >= 0 && watch->registered != 0)
    epoll_ctl (loop->epfd, EPOLL_CTL_DEL, watch->fd, NULL);
  watch->registered = 0;
  watch->want = 0;
  watch->soft = 0;
}

/* --- the GSource ------------------------------------------------------ */

static gboolean
timer_due (NetLoop *loop)
{
  return loop->heap_len > 0 && loop->heap[1]->deadline <= net_loop_now (loop);
}

static gboolean
loop_prepare (GSource *source, gint *timeout)
{
  NetLoop *loop = (NetLoop *) source;
  gint64 next;

  apply_changes (loop);
  *timeout = -1;
  if (loop->turn_wanted || !g_queue_is_empty (&loop->woken) ||
      !g_queue_is_empty (&loop->later) ||
      !g_queue_is_empty (&loop->turn_ends) || timer_due (loop))
    {
      *timeout = 0;
      return TRUE;
    }
  next = net_loop_get_next_deadline (loop);
  if (next >= 0 && !loop->fake)
    {
      gint64 ms = (next - g_get_monotonic_time () + 999) / 1000;

      *timeout = (gint) CLAMP (ms, 0, G_MAXINT);
    }
  return FALSE;
}

static gboolean
loop_check (GSource *source)
{
  NetLoop *loop = (NetLoop *) source;

  return loop->turn_wanted ||
         (g_source_query_unix_fd (source, loop->epfd_tag) & G_IO_IN) ||
         !g_queue_is_empty (&loop->woken) ||
         !g_queue_is_empty (&loop->later) ||
         !g_queue_is_empty (&loop->turn_ends) || timer_due (loop);
}

/* Step 1: what epoll says becomes woken watches. */
static void
take_ready (NetLoop *loop)
{
  struct epoll_event evs[MAX_EVENTS];
  int n;

  apply_changes (loop);
  do
    n = epoll_wait (loop->epfd, evs, MAX_EVENTS, 0);
  while (n < 0 && errno == EINTR);
  for (int i = 0; i < n; i++)
    {
      NetWatch *watch = evs[i].data.ptr;
      guint e = evs[i].events;
      guint events = 0;

      /* An error or a hang-up is news for whatever the watch waits for:
       * the read or write meets it. */
      if (e & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
        events |= watch->want & NET_WATCH_IN;
      if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        events |= watch->want & NET_WATCH_OUT;
      if (events == 0)
        events = watch->want;
      wake (loop, watch, events);
    }
}

/* Step 2. */
static void
call_woken (NetLoop *loop)
{
  GList *link;

  /* Last turn's late wakes first, in order. */
  while ((link = g_queue_pop_tail_link (&loop->later)) != NULL)
    {
      g_queue_push_head_link (&loop->woken, link);
      ((NetWatch *) link->data)->wake_queue = &loop->woken;
    }
  loop->in_wake_step = TRUE;
  while ((link = g_queue_peek_head_link (&loop->woken)) != NULL)
    {
      NetWatch *watch = link->data;
      guint events = watch->soft;

      unlink_from (&loop->woken, link);
      watch->wake_queue = NULL;
      watch->soft = 0;
      watch->func (loop, watch, events, watch->user_data);
    }
  loop->in_wake_step = FALSE;
}

/* Step 3. */
static void
fire_timers (NetLoop *loop)
{
  gint64 now = net_loop_now (loop);

  for (guint n = 0;
       n < MAX_TIMERS && loop->heap_len > 0 && loop->heap[1]->deadline <= now;
       n++)
    {
      NetTimer *timer = loop->heap[1];

      net_timer_cancel (loop, timer);
      timer->func (loop, timer, timer->user_data);
    }
}

/* Step 4. */
static void
end_turn (NetLoop *loop)
{
  GList *link;

  while ((link = g_queue_peek_head_link (&loop->turn_ends)) != NULL)
    {
      NetWatch *watch = link->data;

      unlink_from (&loop->turn_ends, link);
      watch->func (loop, watch, NET_WATCH_TURN_END, watch->user_data);
    }
  net_loop_run_turn_hooks (loop);
}

static gboolean
loop_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  NetLoop *loop = net_loop_ref ((NetLoop *) source);

  loop->turn_wanted = FALSE;
  take_ready (loop);
  call_woken (loop);
  fire_timers (loop);
  end_turn (loop);
  net_loop_unref (loop);
  return G_SOURCE_CONTINUE;
}

static void
loop_finalize (GSource *source)
{
  NetLoop *loop = (NetLoop *) source;

  g_mutex_lock (&registry_lock);
  if (registry != NULL &&
      g_hash_table_lookup (registry, loop->context) == loop)
    g_hash_table_remove (registry, loop->context);
  g_mutex_unlock (&registry_lock);
  close (loop->epfd);
  g_free (loop->heap);
  g_array_unref (loop->hooks);
  g_clear_pointer (&loop->black_holes, g_hash_table_unref);
  g_clear_pointer (&loop->virtual_source, g_free);
}

static GSourceFuncs loop_funcs = {
  .prepare = loop_prepare,
  .check = loop_check,
  .dispatch = loop_dispatch,
  .finalize = loop_finalize,
};

void
net_loop_add_turn_hook (NetLoop *loop, NetLoopHookFunc func,
                        gpointer user_data)
{
  Hook h = { func, user_data };

  g_array_append_val (loop->hooks, h);
}

void
net_loop_request_turn (NetLoop *loop)
{
  loop->turn_wanted = TRUE;
}

void
net_loop_run_turn_hooks (NetLoop *loop)
{
  for (guint i = 0; i < loop->hooks->len; i++)
    {
      Hook *h = &g_array_index (loop->hooks, Hook, i);

      h->func (loop, h->user_data);
    }
}

static NetLoop *
loop_new (GMainContext *context)
{
  GSource *source = g_source_new (&loop_funcs, sizeof (NetLoop));
  NetLoop *loop = (NetLoop *) source;

  loop->context = context;
  loop->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (loop->epfd < 0)
    g_error ("epoll_create1 failed: %s", g_strerror (errno));
  loop->epfd_tag = g_source_add_unix_fd (source, loop->epfd, G_IO_IN);
  g_queue_init (&loop->changes);
  g_queue_init (&loop->woken);
  g_queue_init (&loop->later);
  g_queue_init (&loop->turn_ends);
  loop->hooks = g_array_new (FALSE, FALSE, sizeof (Hook));
  g_source_set_static_name (source, "net-loop");
  /* After GLib's own sources of the same turn: what they wrote is
   * gathered in this turn's end. */
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_attach (source, context);
  return loop;
}

NetLoop *
net_loop_get_default (void)
{
  GMainContext *context = g_main_context_ref_thread_default ();
  NetLoop *loop;

  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    registry = g_hash_table_new (NULL, NULL);
  loop = g_hash_table_lookup (registry, context);
  /* A context freed and another made at its address: not this loop. */
  if (loop != NULL && g_source_is_destroyed (&loop->source))
    loop = NULL;
  if (loop == NULL)
    {
      loop = loop_new (context);
      g_hash_table_insert (registry, context, loop);
      g_source_unref (&loop->source); /* the context holds it */
    }
  g_mutex_unlock (&registry_lock);
  g_main_context_unref (context);
  return loop;
}

GMainContext *
net_loop_get_context (NetLoop *loop)
{
  return loop->context;
}

NetLoop *
net_loop_ref (NetLoop *loop)
{
  g_source_ref (&loop->source);
  return loop;
}

void
net_loop_unref (NetLoop *loop)
{
  g_source_unref (&loop->source);
}
