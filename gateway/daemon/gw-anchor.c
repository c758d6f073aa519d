/* gw-anchor.c: see gw-anchor.h.
 *
 * A stream goes through three steps:
 *   1. listening: accepted connections become Pending, judged by their
 *      source address and their first bytes (peeked, never read), and
 *      either join a party's Leg or are refused with a RST;
 *   2. once every inbound party has its connection, the listeners close
 *      (nobody else may join: RFC 4975 section 5.4) and, for an outbound
 *      party, the gateway connects to it;
 *   3. both Legs open: the pump, two Flows of splice(2) through pipes. */
#include "gw-anchor.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw-log.h"
#include "msrp-headers.h"
#include "msrp-parser.h"
#include "net-addr.h"
#include "net-loop.h"

/* splice() pairs per direction and wake-up: a busy stream yields to the
 * others after this (level triggered: the rest is reported next turn). */
#define PUMP_ROUNDS 4
/* accept() calls per wake-up of a listener. */
#define ACCEPTS_PER_WAKE 4
/* Listen backlog: a stream has two parties. */
#define BACKLOG 4
/* Tries of a port the kernel picks that is taken on another address. */
#define EPHEMERAL_TRIES 16

GQuark
gw_anchor_error_quark (void)
{
  return g_quark_from_static_string ("gw-anchor-error-quark");
}

struct _GwAnchorPool
{
  NetLoop *loop;
  GPtrArray *addresses;     /* GInetAddress */
  GPtrArray *address_texts; /* their texts, for SDP */
  char *advertise;
  guint port_min, port_max;
  guint probation_ms, connect_timeout_ms, idle_timeout_ms;
  gsize pipe_size;
  GwConnectPolicy *policy;
  GHashTable *ports; /* port -> GwAnchor: taken by a live anchor */
  guint64 next_id;
  GwAnchorPoolStats stats;
};

typedef struct
{
  GwAnchor *anchor;
  int fd;
  NetWatch watch;
} Listener;

/* What is known of a party. */
typedef struct
{
  gboolean known;
  gboolean outbound;
  GPtrArray *sources; /* GInetAddress; empty: any */
  GSocketAddress *target;
  char *session_id; /* nullable: not checked */
} Party;

/* A party's connection. */
typedef struct
{
  GwAnchor *anchor;
  GwAnchorParty party;
  int fd; /* -1: none yet */
  NetWatch watch;
  char *peer; /* "ip:port" */
  gboolean connecting;
} Leg;

/* Bytes from leg i to the other: flow[i]. */
typedef struct
{
  int pipe_r, pipe_w; /* -1 until the pump starts */
  gsize capacity;
  gsize pending;        /* in the pipe */
  gboolean out_blocked; /* the writer said EAGAIN: wait for OUT */
  gboolean eof;         /* the reader saw the end of stream */
  gboolean shut;        /* ... and passed it on */
  guint64 bytes;        /* written to the other side */
} Flow;

/* An accepted connection not judged yet. */
typedef struct
{
  GwAnchor *anchor;
  int fd;
  NetWatch watch;
  NetTimer timer; /* probation */
  GInetAddress *address;
  char *peer;
  int lowat; /* SO_RCVLOWAT we set, 0: the default */
} Pending;

struct _GwAnchor
{
  GwAnchorPool *pool;
  NetLoop *loop;
  guint64 id;
  char *call_id;
  gboolean tls;
  guint16 port;
  GPtrArray *listeners; /* Listener */
  Party party[GW_ANCHOR_N_PARTIES];
  Leg leg[GW_ANCHOR_N_PARTIES];
  Flow flow[GW_ANCHOR_N_PARTIES];
  GPtrArray *pending; /* Pending */
  NetTimer idle_timer;
  NetTimer connect_timer;
  NetTimer notify_timer; /* calls closed_func from the loop */
  gint64 last_activity;
  GwAnchorState state;
  GwAnchorClosed closed;
  char *closed_detail;
  guint64 refused;
  GwAnchorClosedFunc closed_func;
  gpointer closed_data;
};

static void teardown (GwAnchor *a, GwAnchorClosed why, gboolean reset_a,
                      gboolean reset_b, const char *detail);

/* --- names ------------------------------------------------------------ */

const char *
gw_anchor_refused_to_string (GwAnchorRefused why)
{
  static const char *const names[] = { "no_party", "source",  "session",
                                       "protocol", "timeout", "closed",
                                       "busy" };

  return (guint) why < G_N_ELEMENTS (names) ? names[why] : "unknown";
}

const char *
gw_anchor_closed_to_string (GwAnchorClosed why)
{
  static const char *const names[] = {
    "none",           "peer_closed", "reset", "idle", "connect_refused",
    "connect_failed", "local",
  };

  return (guint) why < G_N_ELEMENTS (names) ? names[why] : "unknown";
}

const char *
gw_anchor_party_to_string (GwAnchorParty party)
{
  return party == GW_ANCHOR_OFFERER ? "offerer" : "answerer";
}

const char *
gw_anchor_state_to_string (GwAnchorState state)
{
  static const char *const names[] = { "waiting", "connecting", "pumping",
                                       "closed" };

  return (guint) state < G_N_ELEMENTS (names) ? names[state] : "unknown";
}

/* --- the log stream ---------------------------------------------------- */

static GwLogEvent *
anchor_event (GwAnchor *a, GLogLevelFlags level, const char *name)
{
  GwLogEvent *ev = gw_log_event_new (level, name);

  if (a->call_id != NULL)
    gw_log_event_add_str (ev, "call_id", a->call_id);
  gw_log_event_add_int (ev, "anchor", (gint64) a->id);
  gw_log_event_add_int (ev, "port", a->port);
  gw_log_event_add_str (ev, "transport", a->tls ? "tls" : "tcp");
  return ev;
}

/* --- sockets ----------------------------------------------------------- */

static void
close_fd (int *fd, gboolean reset)
{
  if (*fd < 0)
    return;
  if (reset)
    {
      /* SO_LINGER 0: close sends a RST, the peer knows at once. */
      struct linger lg = { .l_onoff = 1, .l_linger = 0 };

      setsockopt (*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
  close (*fd);
  *fd = -1;
}

static gboolean
to_native (GInetAddress *address, guint16 port, struct sockaddr_storage *ss,
           socklen_t *len)
{
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (address, port);

  *len = (socklen_t) g_socket_address_get_native_size (sa);
  return g_socket_address_to_native (sa, ss, sizeof *ss, NULL);
}

/* "ip:port" and the address of a native socket address. */
static char *
native_to_string (const struct sockaddr_storage *ss, socklen_t len,
                  GInetAddress **address)
{
  g_autoptr (GSocketAddress) sa =
      g_socket_address_new_from_native ((gpointer) ss, len);

  if (sa == NULL || !G_IS_INET_SOCKET_ADDRESS (sa))
    {
      if (address != NULL)
        *address = NULL;
      return g_strdup ("?");
    }
  if (address != NULL)
    *address = g_object_ref (
        g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa)));
  return net_addr_to_string (sa);
}

/* A listening socket on @address, @port (0: the kernel's choice);
 * -1 with errno. */
static int
listen_on (GInetAddress *address, guint16 port)
{
  struct sockaddr_storage ss;
  socklen_t len;
  int family = g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6
                   ? AF_INET6
                   : AF_INET;
  int one = 1;
  int fd;
  int e;

  if (!to_native (address, port, &ss, &len))
    {
      errno = EINVAL;
      return -1;
    }
  fd = socket (family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  /* A port whose last stream left connections in TIME_WAIT is free again;
   * an IPv6 socket takes IPv6 only, so both families can share the
   * port. */
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6)
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &ss, len) < 0 || listen (fd, BACKLOG) < 0)
    {
      e = errno;
      close (fd);
      errno = e;
      return -1;
    }
  return fd;
}

static guint16
bound_port (int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;

  if (getsockname (fd, (struct sockaddr *) &ss, &len) < 0)
    return 0;
  return ss.ss_family == AF_INET6
             ? ntohs (((struct sockaddr_in6 *) &ss)->sin6_port)
             : ntohs (((struct sockaddr_in *) &ss)->sin_port);
}

/* --- pool -------------------------------------------------------------- */

GwAnchorPool *
gw_anchor_pool_new (const GwAnchorPoolSettings *s, GError **error)
{
  GwAnchorPool *pool;

  g_return_val_if_fail (s != NULL, NULL);
  if (s->addresses == NULL || s->addresses->len == 0)
    {
      g_set_error (error, GW_ANCHOR_ERROR, GW_ANCHOR_ERROR_INVALID,
                   "no address to bind anchored streams on");
      return NULL;
    }
  if (s->port_min > s->port_max || (s->port_min == 0 && s->port_max != 0) ||
      s->port_max > 65535)
    {
      g_set_error (error, GW_ANCHOR_ERROR, GW_ANCHOR_ERROR_INVALID,
                   "port range %u-%u has no ports", s->port_min, s->port_max);
      return NULL;
    }
  pool = g_new0 (GwAnchorPool, 1);
  pool->loop = net_loop_ref (net_loop_get_default ());
  pool->addresses = g_ptr_array_ref (s->addresses);
  pool->address_texts = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < s->addresses->len; i++)
    g_ptr_array_add (pool->address_texts,
                     g_inet_address_to_string (s->addresses->pdata[i]));
  pool->advertise = g_strdup (s->advertise);
  pool->port_min = s->port_min;
  pool->port_max = s->port_max;
  pool->probation_ms =
      s->probation_ms ? s->probation_ms : GW_ANCHOR_DEFAULT_PROBATION_MS;
  pool->connect_timeout_ms = s->connect_timeout_ms
                                 ? s->connect_timeout_ms
                                 : GW_ANCHOR_DEFAULT_CONNECT_TIMEOUT_MS;
  pool->idle_timeout_ms = s->idle_timeout_ms
                              ? s->idle_timeout_ms
                              : GW_ANCHOR_DEFAULT_IDLE_TIMEOUT_MS;
  pool->pipe_size = s->pipe_size ? s->pipe_size : GW_ANCHOR_DEFAULT_PIPE_SIZE;
  pool->policy = s->policy;
  pool->ports = g_hash_table_new (NULL, NULL);
  return pool;
}

/* The hosts of @listeners (GSocketAddress), each once, in order. */
static void
add_listener_hosts (GPtrArray *out, GPtrArray *listeners)
{
  for (guint i = 0; i < listeners->len; i++)
    {
      GInetAddress *ia = g_inet_socket_address_get_address (
          G_INET_SOCKET_ADDRESS (listeners->pdata[i]));
      gboolean seen = FALSE;

      for (guint j = 0; j < out->len && !seen; j++)
        seen = g_inet_address_equal (out->pdata[j], ia);
      if (!seen)
        g_ptr_array_add (out, g_object_ref (ia));
    }
}

GwAnchorPool *
gw_anchor_pool_new_from_config (const GwConfig *config,
                                GwConnectPolicy *policy, GError **error)
{
  g_autoptr (GPtrArray) addresses =
      g_ptr_array_new_with_free_func (g_object_unref);
  GwAnchorPoolSettings s = {
    .addresses = addresses,
    .advertise = config->public_host,
    .port_min = config->cema_port_min,
    .port_max = config->cema_port_max,
    .probation_ms = config->probation * 1000,
    .idle_timeout_ms = config->idle_timeout * 1000,
    .policy = policy,
  };

  /* [cema] addresses, else where the parties already reach the gateway's
   * MSRP: its listeners' addresses (a firewall that admits those admits
   * the same hosts). */
  for (guint i = 0; i < config->cema_addresses->len; i++)
    g_ptr_array_add (addresses,
                     g_object_ref (config->cema_addresses->pdata[i]));
  if (addresses->len == 0)
    add_listener_hosts (addresses, config->listen_msrp->len > 0
                                       ? config->listen_msrp
                                       : config->listen_msrps);
  return gw_anchor_pool_new (&s, error);
}

void
gw_anchor_pool_free (GwAnchorPool *pool)
{
  if (pool == NULL)
    return;
  g_return_if_fail (pool->stats.anchors == 0);
  g_ptr_array_unref (pool->addresses);
  g_ptr_array_unref (pool->address_texts);
  g_free (pool->advertise);
  g_hash_table_unref (pool->ports);
  net_loop_unref (pool->loop);
  g_free (pool);
}

void
gw_anchor_pool_get_stats (GwAnchorPool *pool, GwAnchorPoolStats *stats)
{
  *stats = pool->stats;
}

/* --- parties ----------------------------------------------------------- */

static void
party_clear (Party *p)
{
  g_clear_pointer (&p->sources, g_ptr_array_unref);
  g_clear_object (&p->target);
  g_clear_pointer (&p->session_id, g_free);
  p->known = FALSE;
}

/* May the gateway connect to @target?  The policy's rules, and never to a
 * port of the pool's own (a stream anchored to another of ours would be a
 * loop). */
static gboolean
target_allowed (GwAnchorPool *pool, GSocketAddress *target, GError **error)
{
  GInetSocketAddress *isa = G_INET_SOCKET_ADDRESS (target);
  GInetAddress *ia = g_inet_socket_address_get_address (isa);
  guint16 port = g_inet_socket_address_get_port (isa);
  g_autofree char *rule = NULL;
  g_autofree char *text = net_addr_to_string (target);

  if (pool->policy != NULL &&
      !gw_connect_policy_allows (pool->policy, GW_CONNECT_PARTY, ia, port,
                                 &rule))
    {
      g_set_error (error, GW_ANCHOR_ERROR, GW_ANCHOR_ERROR_REFUSED,
                   "the gateway does not connect to %s: %s", text, rule);
      return FALSE;
    }
  for (guint i = 0; i < pool->addresses->len; i++)
    {
      GInetAddress *ours = pool->addresses->pdata[i];

      if ((g_inet_address_equal (ours, ia) ||
           g_inet_address_get_is_any (ours)) &&
          g_hash_table_contains (pool->ports, GUINT_TO_POINTER (port)))
        {
          g_set_error (error, GW_ANCHOR_ERROR, GW_ANCHOR_ERROR_REFUSED,
                       "the gateway does not connect to %s: a port of its "
                       "own anchored streams",
                       text);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
party_settings_check (GwAnchorPool *pool, const GwAnchorPartySettings *s,
                      GError **error)
{
  if (!s->outbound)
    return TRUE;
  if (s->target == NULL || !G_IS_INET_SOCKET_ADDRESS (s->target))
    {
      g_set_error (error, GW_ANCHOR_ERROR, GW_ANCHOR_ERROR_INVALID,
                   "an outbound party needs an address to connect to");
      return FALSE;
    }
  return target_allowed (pool, s->target, error);
}

static void
party_set (Party *p, const GwAnchorPartySettings *s)
{
  party_clear (p);
  p->known = TRUE;
  p->outbound = s->outbound;
  p->sources = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; s->sources != NULL && i < s->sources->len; i++)
    g_ptr_array_add (p->sources, g_object_ref (s->sources->pdata[i]));
  p->target = s->target != NULL ? g_object_ref (s->target) : NULL;
  p->session_id = s->uri != NULL && msrp_uri_get_session_id (s->uri) != NULL
                      ? g_strdup (msrp_uri_get_session_id (s->uri))
                      : NULL;
}

/* The two parties together: one of them must connect (it sends the first
 * SEND and, with TLS, is the TLS client), and with TLS only one may. */
static gboolean
parties_check (gboolean tls, const gboolean known[2],
               const gboolean outbound[2], GError **error)
{
  if (!known[0] || !known[1])
    return TRUE;
  if (outbound[0] && outbound[1])
    {
      g_set_error (error, GW_ANCHOR_ERROR, GW_ANCHOR_ERROR_INVALID,
                   "both parties are passive: nobody would send the first "
                   "SEND (RFC 4975 section 5.4)");
      return FALSE;
    }
  if (tls && !outbound[0] && !outbound[1])
    {
      g_set_error (error, GW_ANCHOR_ERROR, GW_ANCHOR_ERROR_INVALID,
                   "both parties of a TLS stream would connect, and both "
                   "would be TLS clients (RFC 6135 section 6): one must be "
                   "passive, the gateway connecting to it");
      return FALSE;
    }
  return TRUE;
}

static gboolean
source_ok (const Party *p, GInetAddress *address)
{
  if (p->sources->len == 0)
    return TRUE;
  for (guint i = 0; i < p->sources->len; i++)
    if (address != NULL &&
        g_inet_address_equal (p->sources->pdata[i], address))
      return TRUE;
  return FALSE;
}

/* --- the pump ---------------------------------------------------------- */

static void
touch (GwAnchor *a)
{
  a->last_activity = net_loop_now (a->loop);
}

/* What each leg's watch waits for: reading while its flow may take more
 * (not at its end, and not held back by a writer that said EAGAIN: a pipe
 * holding bytes that cannot leave is full enough, and level triggering
 * would report the socket again and again); writing while the other flow
 * has bytes its writer could not take. */
static void
update_interest (GwAnchor *a)
{
  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    {
      Flow *in = &a->flow[i];
      Flow *out = &a->flow[1 - i];
      guint want = 0;

      if (a->leg[i].fd < 0)
        continue;
      if (!in->eof && !(in->pending > 0 && in->out_blocked))
        want |= NET_WATCH_IN;
      if (out->pending > 0 && out->out_blocked)
        want |= NET_WATCH_OUT;
      net_watch_set_events (a->loop, &a->leg[i].watch, want);
    }
}

typedef enum
{
  PUMP_OK,
  PUMP_READ_FAILED,  /* the source reset (or failed) */
  PUMP_WRITE_FAILED, /* the destination reset */
} PumpResult;

/* Move what can move from leg @from to the other: from the socket into
 * the pipe as far as the pipe takes, and out of the pipe into the other
 * socket as far as it takes, a few rounds. */
static PumpResult
flow_pump (GwAnchor *a, int from, int *err)
{
  Flow *f = &a->flow[from];
  int src = a->leg[from].fd;
  int dst = a->leg[1 - from].fd;

  for (int round = 0; round < PUMP_ROUNDS; round++)
    {
      gboolean progress = FALSE;
      ssize_t n;

      if (!f->eof && f->pending < f->capacity)
        {
          n = splice (src, NULL, f->pipe_w, NULL, f->capacity - f->pending,
                      SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
          if (n > 0)
            f->pending += (gsize) n;
          else if (n == 0)
            f->eof = TRUE;
          else if (errno != EAGAIN && errno != EINTR)
            {
              *err = errno;
              return PUMP_READ_FAILED;
            }
          progress = n >= 0;
        }
      if (f->pending > 0)
        {
          n = splice (f->pipe_r, NULL, dst, NULL, f->pending,
                      SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
          if (n > 0)
            {
              f->pending -= (gsize) n;
              f->bytes += (guint64) n;
              a->pool->stats.bytes += (guint64) n;
              f->out_blocked = FALSE;
              progress = TRUE;
            }
          else if (n < 0 && errno == EAGAIN)
            {
              f->out_blocked = TRUE;
            }
          else if (n < 0 && errno != EINTR)
            {
              *err = errno;
              return PUMP_WRITE_FAILED;
            }
        }
      if (!progress)
        break;
    }
  /* Half-close: the end of stream passes on once the pipe is empty. */
  if (f->eof && f->pending == 0 && !f->shut)
    {
      shutdown (dst, SHUT_WR);
      f->shut = TRUE;
    }
  return PUMP_OK;
}

/* Pump both ways; FALSE when the stream ended (and may be gone from the
 * caller's point of view: nothing of @a may be touched then except through
 * the notify timer, which is how teardown reports). */
static gboolean
pump (GwAnchor *a)
{
  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    {
      int err = 0;
      PumpResult r = flow_pump (a, i, &err);
      g_autofree char *detail = NULL;

      if (r == PUMP_OK)
        continue;
      /* A reset (or a failure) one way: the other side gets a RST too, as
       * an end-to-end connection would have. */
      detail = g_strdup_printf (
          "%s %s: %s",
          gw_anchor_party_to_string (r == PUMP_READ_FAILED ? i : 1 - i),
          r == PUMP_READ_FAILED ? "reset its connection"
                                : "cannot be written to",
          g_strerror (err));
      teardown (a, GW_ANCHOR_CLOSED_RESET, TRUE, TRUE, detail);
      return FALSE;
    }
  if (a->flow[0].shut && a->flow[1].shut)
    {
      teardown (a, GW_ANCHOR_CLOSED_PEER, FALSE, FALSE,
                "both parties closed their connections");
      return FALSE;
    }
  update_interest (a);
  return TRUE;
}

static void
on_leg_event (NetLoop *loop, NetWatch *watch, guint events, gpointer data)
{
  Leg *leg = data;
  GwAnchor *a = leg->anchor;

  if (a->state != GW_ANCHOR_STATE_PUMPING)
    return;
  if (events & NET_WATCH_OUT)
    a->flow[1 - leg->party].out_blocked = FALSE;
  touch (a);
  pump (a);
}

static void
on_idle (NetLoop *loop, NetTimer *timer, gpointer data)
{
  GwAnchor *a = data;
  gint64 idle = (gint64) a->pool->idle_timeout_ms * 1000;
  gint64 now = net_loop_now (loop);
  g_autofree char *detail = NULL;

  if (now - a->last_activity < idle)
    {
      net_timer_schedule (loop, &a->idle_timer, a->last_activity + idle);
      return;
    }
  detail = g_strdup_printf ("no byte either way for %u s",
                            a->pool->idle_timeout_ms / 1000);
  teardown (a, GW_ANCHOR_CLOSED_IDLE, FALSE, FALSE, detail);
}

/* A pipe of the pool's size (F_SETPIPE_SZ; the default 64 KiB when the
 * system refuses more). */
static gboolean
flow_open (GwAnchor *a, Flow *f, GError **error)
{
  int fds[2];
  int size;

  if (pipe2 (fds, O_NONBLOCK | O_CLOEXEC) < 0)
    {
      g_set_error (error, GW_ANCHOR_ERROR, GW_ANCHOR_ERROR_SOCKET,
                   "cannot make a pipe: %s", g_strerror (errno));
      return FALSE;
    }
  f->pipe_r = fds[0];
  f->pipe_w = fds[1];
  size = fcntl (f->pipe_w, F_SETPIPE_SZ, (int) a->pool->pipe_size);
  if (size < 0)
    size = fcntl (f->pipe_w, F_GETPIPE_SZ);
  f->capacity = size > 0 ? (gsize) size : 65536;
  return TRUE;
}

/* Both connections are there: the pump starts. */
static void
start_pump (GwAnchor *a)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GwLogEvent) ev = NULL;

  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    if (!flow_open (a, &a->flow[i], &error))
      {
        teardown (a, GW_ANCHOR_CLOSED_RESET, TRUE, TRUE, error->message);
        return;
      }
  a->state = GW_ANCHOR_STATE_PUMPING;
  a->pool->stats.pumping++;
  ev = anchor_event (a, G_LOG_LEVEL_INFO, "anchor_ready");
  gw_log_event_add_str (ev, "offerer", a->leg[GW_ANCHOR_OFFERER].peer);
  gw_log_event_add_str (ev, "answerer", a->leg[GW_ANCHOR_ANSWERER].peer);
  gw_log_event_emit (
      ev, "anchored stream %" G_GUINT64_FORMAT " on port %u: %s <-> %s", a->id,
      a->port, a->leg[GW_ANCHOR_OFFERER].peer,
      a->leg[GW_ANCHOR_ANSWERER].peer);
  touch (a);
  pump (a);
}

/* --- the end ----------------------------------------------------------- */

static void
pending_free (Pending *p)
{
  net_watch_remove (p->anchor->loop, &p->watch);
  net_timer_cancel (p->anchor->loop, &p->timer);
  close_fd (&p->fd, TRUE);
  g_clear_object (&p->address);
  g_free (p->peer);
  g_free (p);
}

static void
listener_free (Listener *l)
{
  net_watch_remove (l->anchor->loop, &l->watch);
  close_fd (&l->fd, FALSE);
  g_free (l);
}

static void
on_notify (NetLoop *loop, NetTimer *timer, gpointer data)
{
  GwAnchor *a = data;

  if (a->closed_func != NULL)
    a->closed_func (a, a->closed, a->closed_detail, a->closed_data);
}

static void
log_closed (GwAnchor *a, const char *detail)
{
  g_autoptr (GwLogEvent) ev =
      anchor_event (a,
                    a->closed == GW_ANCHOR_CLOSED_RESET ? G_LOG_LEVEL_MESSAGE
                                                        : G_LOG_LEVEL_INFO,
                    "anchor_closed");

  gw_log_event_add_str (ev, "reason", gw_anchor_closed_to_string (a->closed));
  gw_log_event_add_int (ev, "offerer_bytes",
                        (gint64) a->flow[GW_ANCHOR_OFFERER].bytes);
  gw_log_event_add_int (ev, "answerer_bytes",
                        (gint64) a->flow[GW_ANCHOR_ANSWERER].bytes);
  gw_log_event_add_int (ev, "refused", (gint64) a->refused);
  gw_log_event_emit (ev,
                     "anchored stream %" G_GUINT64_FORMAT " closed (%s): "
                     "%" G_GUINT64_FORMAT " bytes from the offerer, "
                     "%" G_GUINT64_FORMAT " from the answerer",
                     a->id, detail != NULL ? detail : "", a->flow[0].bytes,
                     a->flow[1].bytes);
}

/* Close everything of the stream: pending connections with a RST, each
 * leg with a FIN or (@reset_a, @reset_b) a RST. */
static void
teardown (GwAnchor *a, GwAnchorClosed why, gboolean reset_a, gboolean reset_b,
          const char *detail)
{
  gboolean reset[2] = { reset_a, reset_b };

  if (a->state == GW_ANCHOR_STATE_CLOSED)
    return;
  if (a->state == GW_ANCHOR_STATE_PUMPING)
    a->pool->stats.pumping--;
  a->state = GW_ANCHOR_STATE_CLOSED;
  a->closed = why;
  a->closed_detail = g_strdup (detail);
  a->pool->stats.closed[why]++;
  g_ptr_array_set_size (a->pending, 0);
  g_ptr_array_set_size (a->listeners, 0);
  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    {
      Flow *f = &a->flow[i];

      if (a->leg[i].fd >= 0)
        net_watch_remove (a->loop, &a->leg[i].watch);
      close_fd (&a->leg[i].fd, reset[i]);
      close_fd (&f->pipe_r, FALSE);
      close_fd (&f->pipe_w, FALSE);
      f->pending = 0;
    }
  net_timer_cancel (a->loop, &a->idle_timer);
  net_timer_cancel (a->loop, &a->connect_timer);
  log_closed (a, detail);
  if (why != GW_ANCHOR_CLOSED_LOCAL)
    net_timer_schedule (a->loop, &a->notify_timer, net_loop_now (a->loop));
}

/* --- legs and the outbound party -------------------------------------- */

static void
leg_attach (GwAnchor *a, GwAnchorParty party, int fd, char *peer)
{
  Leg *leg = &a->leg[party];
  int one = 1;

  /* What a party writes leaves as it came: Nagle here would hold back a
   * relayed chunk's tail for the next ACK (a delayed ACK, 40 ms, on a
   * chat message), on top of whatever the parties chose for themselves. */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  leg->fd = fd;
  g_free (leg->peer);
  leg->peer = peer;
  net_watch_init (&leg->watch, fd, on_leg_event, leg);
  /* The idle time counts from the first connection: before it, the
   * stream waits as long as the negotiator keeps it (a call may ring for
   * minutes). */
  touch (a);
  if (!net_timer_is_scheduled (&a->idle_timer))
    net_timer_schedule (a->loop, &a->idle_timer,
                        a->last_activity +
                            (gint64) a->pool->idle_timeout_ms * 1000);
}

static gboolean
inbound_waiting (GwAnchor *a)
{
  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    if (a->leg[i].fd < 0 && !(a->party[i].known && a->party[i].outbound))
      return TRUE;
  return FALSE;
}

static void
connect_failed (GwAnchor *a, int err)
{
  GwAnchorParty out = a->leg[GW_ANCHOR_OFFERER].connecting
                          ? GW_ANCHOR_OFFERER
                          : GW_ANCHOR_ANSWERER;
  g_autofree char *target = net_addr_to_string (a->party[out].target);
  g_autofree char *detail = g_strdup_printf (
      "connecting to the %s at %s failed: %s", gw_anchor_party_to_string (out),
      target, err == ETIMEDOUT ? "no answer in time" : g_strerror (err));

  a->leg[out].connecting = FALSE;
  /* The party that connected learns at once (a RST), as it would have
   * connecting to the passive party itself. */
  teardown (a,
            err == ECONNREFUSED ? GW_ANCHOR_CLOSED_CONNECT_REFUSED
                                : GW_ANCHOR_CLOSED_CONNECT_FAILED,
            TRUE, TRUE, detail);
}

static void
on_connect_timeout (NetLoop *loop, NetTimer *timer, gpointer data)
{
  connect_failed (data, ETIMEDOUT);
}

static void
on_connect_event (NetLoop *loop, NetWatch *watch, guint events, gpointer data)
{
  Leg *leg = data;
  GwAnchor *a = leg->anchor;
  int err = 0;
  socklen_t len = sizeof err;

  if (getsockopt (leg->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    err = errno;
  if (err == EINPROGRESS || err == EALREADY)
    return;
  if (err != 0)
    {
      connect_failed (a, err);
      return;
    }
  net_timer_cancel (loop, &a->connect_timer);
  leg->connecting = FALSE;
  net_watch_remove (loop, &leg->watch);
  net_watch_init (&leg->watch, leg->fd, on_leg_event, leg);
  start_pump (a);
}

/* The address of the pool of @family to connect from (the advertised
 * address is where the passive party sees the stream come from), or
 * NULL. */
static GInetAddress *
local_address (GwAnchorPool *pool, GSocketFamily family)
{
  for (guint i = 0; i < pool->addresses->len; i++)
    if (g_inet_address_get_family (pool->addresses->pdata[i]) == family)
      return pool->addresses->pdata[i];
  return NULL;
}

/* Connect to the outbound party (RFC 6135: it is passive and waits at its
 * c=/m=). */
static void
connect_out (GwAnchor *a, GwAnchorParty out)
{
  Leg *leg = &a->leg[out];
  GInetSocketAddress *isa = G_INET_SOCKET_ADDRESS (a->party[out].target);
  GInetAddress *ia = g_inet_socket_address_get_address (isa);
  GInetAddress *from = local_address (a->pool, g_inet_address_get_family (ia));
  struct sockaddr_storage ss;
  socklen_t len;
  int fd;
  g_autoptr (GwLogEvent) ev = NULL;

  leg->connecting = TRUE; /* connect_failed () finds the party by it */
  fd =
      socket (g_inet_address_get_family (ia) == G_SOCKET_FAMILY_IPV6 ? AF_INET6
                                                                     : AF_INET,
              SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      connect_failed (a, errno);
      return;
    }
  if (from != NULL && !g_inet_address_get_is_any (from) &&
      to_native (from, 0, &ss, &len))
    bind (fd, (struct sockaddr *) &ss, len);
  leg_attach (a, out, fd, net_addr_to_string (a->party[out].target));
  net_watch_init (&leg->watch, fd, on_connect_event, leg);
  a->state = GW_ANCHOR_STATE_CONNECTING;
  ev = anchor_event (a, G_LOG_LEVEL_INFO, "anchor_connecting");
  gw_log_event_add_str (ev, "leg", gw_anchor_party_to_string (out));
  gw_log_event_add_str (ev, "peer", leg->peer);
  gw_log_event_emit (ev, "connecting to the %s at %s (it is passive)",
                     gw_anchor_party_to_string (out), leg->peer);
  if (!to_native (ia, g_inet_socket_address_get_port (isa), &ss, &len))
    {
      connect_failed (a, EINVAL);
      return;
    }
  if (connect (fd, (struct sockaddr *) &ss, len) < 0 && errno != EINPROGRESS)
    {
      /* Teardown reports from the loop (the notify timer). */
      connect_failed (a, errno);
      return;
    }
  net_timer_schedule (a->loop, &a->connect_timer,
                      net_loop_now (a->loop) +
                          (gint64) a->pool->connect_timeout_ms * 1000);
  net_watch_set_events (a->loop, &leg->watch, NET_WATCH_OUT);
}

/* A leg joined: close the listeners once nobody else may join, connect to
 * an outbound party, or start the pump. */
static void
leg_joined (GwAnchor *a)
{
  if (!inbound_waiting (a))
    g_ptr_array_set_size (a->listeners, 0);
  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    if (a->leg[i].fd < 0)
      {
        if (a->party[i].known && a->party[i].outbound && a->leg[1 - i].fd >= 0)
          connect_out (a, (GwAnchorParty) i);
        return;
      }
  start_pump (a);
}

/* --- judging a new connection ------------------------------------------ */

static void
refuse (Pending *p, GwAnchorRefused why, const char *detail)
{
  GwAnchor *a = p->anchor;
  g_autoptr (GwLogEvent) ev =
      anchor_event (a, G_LOG_LEVEL_WARNING, "anchor_refused");

  a->refused++;
  a->pool->stats.refused[why]++;
  gw_log_event_add_str (ev, "peer", p->peer);
  gw_log_event_add_str (ev, "reason", gw_anchor_refused_to_string (why));
  gw_log_event_emit (ev,
                     "connection from %s to anchored stream %" G_GUINT64_FORMAT
                     " refused: %s",
                     p->peer, a->id, detail);
  /* Frees @p, closing it with a RST. */
  g_ptr_array_remove_fast (a->pending, p);
}

/* @p becomes @party's connection. */
static void
accept_pending (Pending *p, GwAnchorParty party)
{
  GwAnchor *a = p->anchor;
  int fd = p->fd;
  int one = 1;
  g_autoptr (GwLogEvent) ev =
      anchor_event (a, G_LOG_LEVEL_INFO, "anchor_accepted");

  if (p->lowat > 0)
    setsockopt (fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
  p->fd = -1;
  net_watch_remove (a->loop, &p->watch);
  leg_attach (a, party, fd, g_strdup (p->peer));
  gw_log_event_add_str (ev, "leg", gw_anchor_party_to_string (party));
  gw_log_event_add_str (ev, "peer", p->peer);
  gw_log_event_emit (
      ev, "the %s connected to anchored stream %" G_GUINT64_FORMAT " from %s",
      gw_anchor_party_to_string (party), a->id, p->peer);
  g_ptr_array_remove_fast (a->pending, p);
  leg_joined (a);
}

typedef enum
{
  PEEK_DONE,
  PEEK_MORE,    /* wait for more bytes */
  PEEK_CLOSED,  /* end of stream, or an error */
  PEEK_INVALID, /* not what the stream carries */
} PeekResult;

/* The session-id of the last URI of a path (the party's own: relays put
 * themselves in front, RFC 4976 section 6.4). */
static char *
last_session_id (const MsrpParserEvent *ev)
{
  g_autoptr (GPtrArray) path =
      msrp_path_parse (ev->header_id, ev->value, ev->value_len, NULL);
  const char *sid;

  if (path == NULL)
    return NULL;
  sid = msrp_uri_get_session_id (path->pdata[path->len - 1]);
  return g_strdup (sid != NULL ? sid : "");
}

/* The first request of a TCP/MSRP stream, from the first @len bytes at
 * @buf: a SEND (RFC 4975 section 5.4) and the session-ids its To-Path and
 * From-Path end with. */
static PeekResult
parse_first_send (const guint8 *buf, gsize len, char **to, char **from,
                  char **why)
{
  g_autoptr (MsrpParser) parser = msrp_parser_new ();
  g_autoptr (GError) error = NULL;
  MsrpParserEvent ev;
  gsize used;

  for (;;)
    {
      MsrpParseStatus st =
          msrp_parser_feed (parser, buf, len, &used, &ev, &error);

      buf += used;
      len -= used;
      if (st == MSRP_PARSE_NEED_MORE)
        return PEEK_MORE;
      if (st == MSRP_PARSE_ERROR)
        {
          *why = g_strdup_printf ("not MSRP: %s", error->message);
          return PEEK_INVALID;
        }
      if (ev.type == MSRP_PARSER_EVENT_RESPONSE ||
          (ev.type == MSRP_PARSER_EVENT_REQUEST &&
           (ev.method_len != 4 || memcmp (ev.method, "SEND", 4) != 0)))
        {
          *why = g_strdup ("the first request is not a SEND (RFC 4975 "
                           "section 5.4)");
          return PEEK_INVALID;
        }
      if (ev.type == MSRP_PARSER_EVENT_HEADER &&
          (ev.header_id == MSRP_HEADER_TO_PATH ||
           ev.header_id == MSRP_HEADER_FROM_PATH))
        {
          char **slot = ev.header_id == MSRP_HEADER_TO_PATH ? to : from;

          if ((*slot = last_session_id (&ev)) == NULL)
            {
              *why = g_strdup ("the first SEND's paths are not MSRP URIs");
              return PEEK_INVALID;
            }
          if (*to != NULL && *from != NULL)
            return PEEK_DONE;
        }
      if (ev.type == MSRP_PARSER_EVENT_HEADERS_END)
        {
          *why = g_strdup ("the first SEND has no To-Path or From-Path");
          return PEEK_INVALID;
        }
    }
}

/* The first bytes, peeked (MSG_PEEK: they stay in the socket for the
 * pump).  When they do not suffice yet, SO_RCVLOWAT makes the socket
 * readable only once more bytes than those have come: level-triggered
 * epoll would report the unread bytes again and again otherwise. */
static PeekResult
peek (Pending *p, char **to, char **from, char **why)
{
  guint8 buf[GW_ANCHOR_PEEK_MAX];
  ssize_t n = recv (p->fd, buf, sizeof buf, MSG_PEEK);
  PeekResult r;
  int lowat;

  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
    return PEEK_CLOSED;
  if (n < 0)
    return PEEK_MORE;
  if (p->anchor->tls)
    {
      /* RFC 5246 section 6.2.1, RFC 8446 section 5.1: a handshake record
       * (22) of major version 3; the record is end to end, and so is all
       * that follows. */
      if (n < 3)
        r = PEEK_MORE;
      else if (buf[0] == 22 && buf[1] == 3 && buf[2] <= 4)
        r = PEEK_DONE;
      else
        {
          *why = g_strdup ("its first bytes are not a TLS handshake");
          r = PEEK_INVALID;
        }
    }
  else
    {
      r = parse_first_send (buf, (gsize) n, to, from, why);
    }
  if (r == PEEK_MORE && (gsize) n == sizeof buf)
    {
      *why = g_strdup_printf ("no To-Path and From-Path in its first %u "
                              "bytes",
                              (guint) sizeof buf);
      return PEEK_INVALID;
    }
  if (r == PEEK_MORE)
    {
      lowat = (int) n + 1;
      if (setsockopt (p->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat) ==
          0)
        p->lowat = lowat;
    }
  return r;
}

typedef enum
{
  MATCH_NO,
  MATCH_UNKNOWN, /* depends on a party not known yet */
  MATCH_YES,
} Match;

static Match
sid_match (const Party *p, const char *sid)
{
  if (!p->known)
    return MATCH_UNKNOWN;
  return p->session_id == NULL || g_strcmp0 (p->session_id, sid) == 0
             ? MATCH_YES
             : MATCH_NO;
}

/* Could @p be @party's connection, by what is known before reading? */
static Match
leg_possible (GwAnchor *a, GwAnchorParty party, Pending *p)
{
  const Party *pt = &a->party[party];

  if (a->leg[party].fd >= 0)
    return MATCH_NO;
  if (!pt->known)
    return MATCH_UNKNOWN;
  return !pt->outbound && source_ok (pt, p->address) ? MATCH_YES : MATCH_NO;
}

/* Whose connection @p is, from its first bytes: TLS, the one inbound
 * party it may be; TCP/MSRP, the party its From-Path ends in, sending to
 * the party its To-Path ends in. */
static Match
leg_matches (GwAnchor *a, GwAnchorParty party, Pending *p, const char *to,
             const char *from)
{
  Match m = leg_possible (a, party, p);
  Match s;

  if (m == MATCH_NO || a->tls)
    return m;
  s = MIN (sid_match (&a->party[party], from),
           sid_match (&a->party[1 - party], to));
  return MIN (m, s);
}

/* Judge @p: accept it, refuse it, or let it wait (for bytes, or for a
 * party to be known). */
static void
judge (Pending *p)
{
  GwAnchor *a = p->anchor;
  g_autofree char *to = NULL;
  g_autofree char *from = NULL;
  g_autofree char *why = NULL;
  g_autofree char *detail = NULL;
  Match m[2];
  PeekResult r;

  m[0] = leg_possible (a, GW_ANCHOR_OFFERER, p);
  m[1] = leg_possible (a, GW_ANCHOR_ANSWERER, p);
  if (m[0] == MATCH_NO && m[1] == MATCH_NO)
    {
      gboolean free_leg = inbound_waiting (a);

      refuse (p,
              free_leg ? GW_ANCHOR_REFUSED_SOURCE : GW_ANCHOR_REFUSED_NO_PARTY,
              free_leg ? "its source address is not a party's"
                       : "no party of the stream is to connect now");
      return;
    }
  r = peek (p, &to, &from, &why);
  if (r == PEEK_CLOSED)
    {
      refuse (p, GW_ANCHOR_REFUSED_CLOSED, "it closed before its first bytes");
      return;
    }
  if (r == PEEK_INVALID)
    {
      refuse (p, GW_ANCHOR_REFUSED_PROTOCOL, why);
      return;
    }
  if (r == PEEK_MORE)
    {
      net_watch_set_events (a->loop, &p->watch, NET_WATCH_IN);
      return;
    }
  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    m[i] = leg_matches (a, (GwAnchorParty) i, p, to, from);
  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    if (m[i] == MATCH_YES)
      {
        accept_pending (p, (GwAnchorParty) i);
        return;
      }
  if (m[0] == MATCH_UNKNOWN || m[1] == MATCH_UNKNOWN)
    {
      /* Unread bytes wait: nothing to be told until a party is known. */
      net_watch_set_events (a->loop, &p->watch, 0);
      return;
    }
  detail = g_strdup_printf ("its first SEND goes from session %s to session "
                            "%s, not between the stream's parties",
                            from, to);
  refuse (p, GW_ANCHOR_REFUSED_SESSION, detail);
}

static void
on_pending_event (NetLoop *loop, NetWatch *watch, guint events, gpointer data)
{
  judge (data);
}

static void
on_probation (NetLoop *loop, NetTimer *timer, gpointer data)
{
  Pending *p = data;
  g_autofree char *detail = g_strdup_printf (
      "no first %s within %u s", p->anchor->tls ? "TLS record" : "SEND",
      p->anchor->pool->probation_ms / 1000);

  refuse (p, GW_ANCHOR_REFUSED_TIMEOUT, detail);
}

static void
take_connection (GwAnchor *a, int fd, const struct sockaddr_storage *ss,
                 socklen_t len)
{
  Pending *p = g_new0 (Pending, 1);

  p->anchor = a;
  p->fd = fd;
  p->peer = native_to_string (ss, len, &p->address);
  net_watch_init (&p->watch, fd, on_pending_event, p);
  net_timer_init (&p->timer, on_probation, p);
  g_ptr_array_add (a->pending, p);
  if (a->pending->len > GW_ANCHOR_MAX_PENDING)
    {
      refuse (p, GW_ANCHOR_REFUSED_BUSY,
              "too many connections waiting to be "
              "judged");
      return;
    }
  net_timer_schedule (a->loop, &p->timer,
                      net_loop_now (a->loop) +
                          (gint64) a->pool->probation_ms * 1000);
  judge (p);
}

static void
on_listener_event (NetLoop *loop, NetWatch *watch, guint events, gpointer data)
{
  Listener *l = data;
  GwAnchor *a = l->anchor;

  for (int n = 0; n < ACCEPTS_PER_WAKE; n++)
    {
      struct sockaddr_storage ss;
      socklen_t len = sizeof ss;
      int fd = accept4 (l->fd, (struct sockaddr *) &ss, &len,
                        SOCK_NONBLOCK | SOCK_CLOEXEC);

      if (fd < 0)
        {
          /* Out of descriptors or memory: the connection waits in the
           * backlog, and this listener is not watched again (level
           * triggering would report it at every turn); the parties' own
           * timeouts and the stream's close end the matter. */
          if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            net_watch_set_events (loop, watch, 0);
          return;
        }
      take_connection (a, fd, &ss, len);
      /* The listeners close once every inbound party is there. */
      if (a->listeners->len == 0)
        return;
    }
}

/* --- listening --------------------------------------------------------- */

/* One listening socket per pool address on @port (0: the kernel picks it
 * on the first address); FALSE with errno when one cannot be made. */
static gboolean
listen_all (GwAnchor *a, guint16 port)
{
  GwAnchorPool *pool = a->pool;

  g_ptr_array_set_size (a->listeners, 0);
  for (guint i = 0; i < pool->addresses->len; i++)
    {
      Listener *l;
      int fd = listen_on (pool->addresses->pdata[i], port);

      if (fd < 0)
        {
          int e = errno;

          g_ptr_array_set_size (a->listeners, 0);
          errno = e;
          return FALSE;
        }
      if (port == 0)
        port = bound_port (fd);
      l = g_new0 (Listener, 1);
      l->anchor = a;
      l->fd = fd;
      net_watch_init (&l->watch, fd, on_listener_event, l);
      net_watch_set_events (a->loop, &l->watch, NET_WATCH_IN);
      g_ptr_array_add (a->listeners, l);
    }
  a->port = port;
  return TRUE;
}

/* A port of the range no stream of ours has, bindable on every address,
 * from a random place in the range on (so that a port just given up is
 * not the next one handed out). */
static gboolean
take_port (GwAnchor *a, GError **error)
{
  GwAnchorPool *pool = a->pool;
  guint n = pool->port_max - pool->port_min + 1;
  guint start = pool->port_min == 0 ? 0 : g_random_int_range (0, (gint32) n);
  int err = EADDRINUSE;

  for (guint i = 0; i < (pool->port_min == 0 ? EPHEMERAL_TRIES : n); i++)
    {
      guint16 port = pool->port_min == 0
                         ? 0
                         : (guint16) (pool->port_min + (start + i) % n);

      if (port != 0 &&
          g_hash_table_contains (pool->ports, GUINT_TO_POINTER (port)))
        continue;
      if (listen_all (a, port))
        {
          g_hash_table_insert (pool->ports, GUINT_TO_POINTER (a->port), a);
          return TRUE;
        }
      err = errno;
      if (err != EADDRINUSE)
        break;
    }
  if (err == EADDRINUSE)
    g_set_error (error, GW_ANCHOR_ERROR, GW_ANCHOR_ERROR_NO_PORT,
                 "no free port for an anchored stream in %u-%u",
                 pool->port_min, pool->port_max);
  else
    g_set_error (error, GW_ANCHOR_ERROR, GW_ANCHOR_ERROR_SOCKET,
                 "cannot listen for an anchored stream: %s", g_strerror (err));
  return FALSE;
}

/* --- the anchor -------------------------------------------------------- */

static gboolean
check_settings (GwAnchorPool *pool, const GwAnchorSettings *s, GError **error)
{
  gboolean known[2], outbound[2];

  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    {
      known[i] = s->parties[i] != NULL;
      outbound[i] = known[i] && s->parties[i]->outbound;
      if (known[i] && !party_settings_check (pool, s->parties[i], error))
        return FALSE;
    }
  return parties_check (s->tls, known, outbound, error);
}

static void
log_created (GwAnchor *a)
{
  g_autoptr (GwLogEvent) ev =
      anchor_event (a, G_LOG_LEVEL_INFO, "anchor_created");
  g_autoptr (GString) roles = g_string_new (NULL);

  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    {
      const char *role = !a->party[i].known     ? "unknown"
                         : a->party[i].outbound ? "passive"
                                                : "active";

      gw_log_event_add_str (ev, gw_anchor_party_to_string (i), role);
      g_string_append_printf (roles, "%s%s %s", i > 0 ? ", " : "",
                              gw_anchor_party_to_string (i), role);
    }
  gw_log_event_emit (ev,
                     "anchored stream %" G_GUINT64_FORMAT " listens on "
                     "port %u (%s)",
                     a->id, a->port, roles->str);
}

GwAnchor *
gw_anchor_new (GwAnchorPool *pool, const GwAnchorSettings *s, GError **error)
{
  GwAnchor *a;

  g_return_val_if_fail (pool != NULL && s != NULL, NULL);
  if (!check_settings (pool, s, error))
    return NULL;
  a = g_new0 (GwAnchor, 1);
  a->pool = pool;
  a->loop = pool->loop;
  a->id = ++pool->next_id;
  a->call_id = g_strdup (s->call_id);
  a->tls = s->tls;
  a->listeners =
      g_ptr_array_new_with_free_func ((GDestroyNotify) listener_free);
  a->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) pending_free);
  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    {
      a->leg[i].anchor = a;
      a->leg[i].party = (GwAnchorParty) i;
      a->leg[i].fd = -1;
      a->flow[i].pipe_r = a->flow[i].pipe_w = -1;
      if (s->parties[i] != NULL)
        party_set (&a->party[i], s->parties[i]);
    }
  net_timer_init (&a->idle_timer, on_idle, a);
  net_timer_init (&a->connect_timer, on_connect_timeout, a);
  net_timer_init (&a->notify_timer, on_notify, a);
  if (!take_port (a, error))
    {
      a->state = GW_ANCHOR_STATE_CLOSED;
      a->port = 0;
      pool->stats.anchors++; /* gw_anchor_free() counts it out */
      gw_anchor_free (a);
      return NULL;
    }
  pool->stats.anchors++;
  pool->stats.anchors_total++;
  log_created (a);
  return a;
}

gboolean
gw_anchor_set_party (GwAnchor *a, GwAnchorParty party,
                     const GwAnchorPartySettings *s, GError **error)
{
  const GwAnchorPartySettings *both[GW_ANCHOR_N_PARTIES] = { NULL, NULL };

  g_return_val_if_fail (a != NULL && s != NULL, FALSE);
  g_return_val_if_fail (party < GW_ANCHOR_N_PARTIES, FALSE);
  both[party] = s;
  return gw_anchor_set_parties (a, both, error);
}

/* Connections that waited for a party are judged again (a copy: a
 * judgement may remove them); then an outbound party may be due. */
static void
parties_changed (GwAnchor *a)
{
  g_autoptr (GPtrArray) waiting = g_ptr_array_new ();

  if (a->state != GW_ANCHOR_STATE_WAITING)
    return;
  for (guint i = 0; i < a->pending->len; i++)
    g_ptr_array_add (waiting, a->pending->pdata[i]);
  for (guint i = 0; i < waiting->len && a->state == GW_ANCHOR_STATE_WAITING;
       i++)
    if (g_ptr_array_find (a->pending, waiting->pdata[i], NULL))
      judge (waiting->pdata[i]);
  for (int p = 0; p < GW_ANCHOR_N_PARTIES; p++)
    if (a->state == GW_ANCHOR_STATE_WAITING && a->leg[1 - p].fd >= 0 &&
        a->leg[p].fd < 0)
      {
        leg_joined (a);
        break;
      }
}

gboolean
gw_anchor_set_parties (GwAnchor *a,
                       const GwAnchorPartySettings *s[GW_ANCHOR_N_PARTIES],
                       GError **error)
{
  gboolean known[2], outbound[2];

  g_return_val_if_fail (a != NULL && s != NULL, FALSE);
  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    {
      if (s[i] != NULL && !party_settings_check (a->pool, s[i], error))
        return FALSE;
      known[i] = s[i] != NULL || a->party[i].known;
      outbound[i] = s[i] != NULL ? s[i]->outbound : a->party[i].outbound;
    }
  if (!parties_check (a->tls, known, outbound, error))
    return FALSE;
  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    if (s[i] != NULL)
      party_set (&a->party[i], s[i]);
  parties_changed (a);
  return TRUE;
}

void
gw_anchor_set_closed_func (GwAnchor *a, GwAnchorClosedFunc func,
                           gpointer user_data)
{
  a->closed_func = func;
  a->closed_data = user_data;
}

guint16
gw_anchor_get_port (GwAnchor *a)
{
  return a->port;
}

guint64
gw_anchor_get_id (GwAnchor *a)
{
  return a->id;
}

const char *
gw_anchor_get_sdp_host (GwAnchor *a, GSocketFamily family)
{
  GwAnchorPool *pool = a->pool;

  for (guint i = 0; i < pool->addresses->len; i++)
    if (g_inet_address_get_family (pool->addresses->pdata[i]) == family)
      return g_inet_address_get_is_any (pool->addresses->pdata[i])
                 ? pool->advertise
                 : pool->address_texts->pdata[i];
  return NULL;
}

void
gw_anchor_get_info (GwAnchor *a, GwAnchorInfo *info)
{
  memset (info, 0, sizeof *info);
  info->state = a->state;
  info->closed = a->closed;
  info->port = a->port;
  info->refused = a->refused;
  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    {
      info->connected[i] = a->leg[i].fd >= 0 && !a->leg[i].connecting;
      info->bytes_from[i] = a->flow[i].bytes;
      info->pipe_bytes[i] = a->flow[i].pending;
    }
}

void
gw_anchor_close (GwAnchor *a, const char *reason)
{
  g_return_if_fail (a != NULL);
  teardown (a, GW_ANCHOR_CLOSED_LOCAL, FALSE, FALSE,
            reason != NULL ? reason : "closed by the negotiator");
}

void
gw_anchor_free (GwAnchor *a)
{
  if (a == NULL)
    return;
  if (a->state != GW_ANCHOR_STATE_CLOSED)
    gw_anchor_close (a, "freed");
  net_timer_cancel (a->loop, &a->notify_timer);
  if (a->port != 0 &&
      g_hash_table_lookup (a->pool->ports, GUINT_TO_POINTER (a->port)) == a)
    g_hash_table_remove (a->pool->ports, GUINT_TO_POINTER (a->port));
  a->pool->stats.anchors--;
  g_ptr_array_unref (a->listeners);
  g_ptr_array_unref (a->pending);
  for (int i = 0; i < GW_ANCHOR_N_PARTIES; i++)
    {
      party_clear (&a->party[i]);
      g_free (a->leg[i].peer);
    }
  g_free (a->call_id);
  g_free (a->closed_detail);
  g_free (a);
}
