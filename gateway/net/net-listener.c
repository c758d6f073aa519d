#include "net-listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib-unix.h>

#include "net-addr.h"
#include "net-conn-priv.h"
#include "net-loop.h"

/* accept() out of descriptors: wait this long before trying again. */
#define ACCEPT_BACKOFF_MS 100

struct _NetListener
{
  gatomicrefcount ref_count;
  int fd;
  GSocketAddress *address;
  char *address_string;
  NetTls *tls;
  NetConnOptions options;
  GMainContext *context;
  GSource *watch; /* NULL while backing off */
  GSource *backoff;
  gboolean starved; /* accept() failed for want of resources; logged */
  /* The virtual network (fd -1): connections offered, taken from the loop */
  NetLoop *loop;    /* a reference, virtual listeners only */
  NetWatch offered; /* woken while offers wait */
  GQueue offers;    /* Offer */

  NetListenerFilterFunc filter;
  NetListenerAcceptFunc accept;
  gpointer user_data;
  GDestroyNotify destroy;
};

typedef struct
{
  NetConn *conn;
  GSocketAddress *peer;
} Offer;

static gboolean on_listen_ready (gint fd, GIOCondition cond, gpointer data);

static GHashTable *virtual_listeners; /* "LOOP ADDRESS" -> NetListener */

static char *
virtual_key (NetLoop *loop, const char *address)
{
  return g_strdup_printf ("%p %s", (void *) loop, address);
}

static void
listener_watch (NetListener *l)
{
  l->watch = g_unix_fd_source_new (l->fd, G_IO_IN);
  g_source_set_callback (
      l->watch, (GSourceFunc) (void (*) (void)) on_listen_ready, l, NULL);
  g_source_set_static_name (l->watch, "net-listener");
  g_source_attach (l->watch, l->context);
}

static gboolean
on_backoff_done (gpointer data)
{
  NetListener *l = data;

  g_clear_pointer (&l->backoff, g_source_unref);
  listener_watch (l);
  return G_SOURCE_REMOVE;
}

/* The one thing a listener logs: a structured record in log domain "net"
 * whose EVENT field names it; the daemon's log stream (gw-log.c) writes it
 * as event accept_failed with fields addr, peer (nullable) and reason. */
static void
log_accept_failed (NetListener *l, const char *peer, const char *reason,
                   const char *message)
{
  GLogField fields[] = {
    { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 },
    { "MESSAGE", message, -1 },
    { "EVENT", "accept_failed", -1 },
    { "ADDR", l->address_string, -1 },
    { "REASON", reason, -1 },
    { "PEER", peer, -1 },
  };

  g_log_structured_array (G_LOG_LEVEL_WARNING, fields,
                          G_N_ELEMENTS (fields) - (peer == NULL));
}

/* Returns FALSE when accepting has to stop for now. */
static gboolean
accept_one (NetListener *l)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  g_autoptr (GSocketAddress) peer = NULL;
  g_autofree char *peer_str = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (NetConn) conn = NULL;
  int fd = accept4 (l->fd, (struct sockaddr *) &ss, &len,
                    SOCK_NONBLOCK | SOCK_CLOEXEC);

  if (fd < 0)
    {
      int err = errno;
      switch (err)
        {
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
          return FALSE;
        case EINTR:
        case ECONNABORTED:
        case EPROTO:
          return TRUE; /* that one is gone; try the next */
        default:
          break;
        }
      /* Out of descriptors or memory: the pending connection stays in the
       * backlog and would wake us at once, so stop watching for a while.
       * Logged once until an accept() succeeds again. */
      if (!l->starved)
        {
          g_autofree char *message = g_strdup_printf (
              "cannot accept on %s: %s; retrying every %d ms",
              l->address_string, g_strerror (err), ACCEPT_BACKOFF_MS);

          log_accept_failed (l, NULL, g_strerror (err), message);
          l->starved = TRUE;
        }
      g_source_destroy (l->watch);
      g_clear_pointer (&l->watch, g_source_unref);
      l->backoff = g_timeout_source_new (ACCEPT_BACKOFF_MS);
      g_source_set_callback (l->backoff, on_backoff_done, l, NULL);
      g_source_attach (l->backoff, l->context);
      return FALSE;
    }

  l->starved = FALSE;
  peer = g_socket_address_new_from_native (&ss, len);
  if (peer == NULL || !G_IS_INET_SOCKET_ADDRESS (peer))
    {
      net_close_with_reset (fd);
      return TRUE;
    }
  if (l->filter != NULL && !l->filter (l, peer, l->user_data))
    {
      net_close_with_reset (fd);
      return TRUE;
    }
  peer_str = net_addr_to_string (peer);
  conn =
      net_conn_new_accepted_from (fd, peer_str, l->tls, &l->options, &error);
  if (conn == NULL)
    {
      g_autofree char *message =
          g_strdup_printf ("cannot take the connection from %s on %s: %s",
                           peer_str, l->address_string, error->message);

      log_accept_failed (l, peer_str, error->message, message);
      return TRUE;
    }
  if (l->accept != NULL)
    l->accept (l, conn, l->user_data);
  return TRUE;
}

/* Hand @conn, made by the virtual network, to the filter and the owner,
 * as accept_one() does with an accepted socket. */
static void
take_offer (NetListener *l, Offer *o)
{
  if (l->filter != NULL && !l->filter (l, o->peer, l->user_data))
    net_conn_abort (o->conn, TRUE);
  else
    {
      net_conn_start_offered (o->conn);
      if (l->accept != NULL)
        l->accept (l, o->conn, l->user_data);
    }
  net_conn_unref (o->conn);
  g_object_unref (o->peer);
  g_free (o);
}

static void
on_offered (NetLoop *loop, NetWatch *watch, guint events, gpointer data)
{
  NetListener *l = net_listener_ref (data);
  Offer *o;

  while ((o = g_queue_pop_head (&l->offers)) != NULL)
    take_offer (l, o);
  net_listener_unref (l);
}

void
net_listener_offer (NetListener *l, NetConn *conn, GSocketAddress *peer)
{
  Offer *o = g_new0 (Offer, 1);

  o->conn = net_conn_ref (conn);
  o->peer = g_object_ref (peer);
  g_queue_push_tail (&l->offers, o);
  net_watch_wake (l->loop, &l->offered, 0);
}

NetListener *
net_listener_find_virtual (NetLoop *loop, GSocketAddress *address)
{
  g_autofree char *text = net_addr_to_string (address);
  g_autofree char *key = virtual_key (loop, text);
  GInetSocketAddress *isa = G_INET_SOCKET_ADDRESS (address);
  g_autoptr (GInetAddress) any = NULL;
  g_autoptr (GSocketAddress) wild = NULL;
  g_autofree char *wild_text = NULL;
  NetListener *l;

  if (virtual_listeners == NULL)
    return NULL;
  l = g_hash_table_lookup (virtual_listeners, key);
  if (l != NULL)
    return l;
  any = g_inet_address_new_any (
      g_inet_address_get_family (g_inet_socket_address_get_address (isa)));
  wild = g_inet_socket_address_new (any, g_inet_socket_address_get_port (isa));
  wild_text = net_addr_to_string (wild);
  g_free (key);
  key = virtual_key (loop, wild_text);
  return g_hash_table_lookup (virtual_listeners, key);
}

NetTls *
net_listener_get_tls (NetListener *listener)
{
  return listener->tls;
}

const NetConnOptions *
net_listener_get_options (NetListener *listener)
{
  return &listener->options;
}

/* A listener on the virtual network: no socket; port 0 takes the next free
 * number from 40000. */
static NetListener *
listener_new_virtual (NetLoop *loop, GSocketAddress *address, NetTls *tls,
                      const NetConnOptions *options, GError **error)
{
  static guint16 next_port = 40000;
  GInetSocketAddress *isa = G_INET_SOCKET_ADDRESS (address);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autofree char *text = NULL;
  g_autofree char *key = NULL;
  NetListener *l;

  if (virtual_listeners == NULL)
    virtual_listeners =
        g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (;;)
    {
      guint16 port = g_inet_socket_address_get_port (isa);

      if (port == 0)
        port = next_port++;
      g_clear_object (&bound);
      bound = g_inet_socket_address_new (
          g_inet_socket_address_get_address (isa), port);
      g_free (text);
      text = net_addr_to_string (bound);
      g_free (key);
      key = virtual_key (loop, text);
      if (!g_hash_table_contains (virtual_listeners, key))
        break;
      if (g_inet_socket_address_get_port (isa) != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                       "cannot bind %s: Address already in use", text);
          return NULL;
        }
    }
  l = g_new0 (NetListener, 1);
  g_atomic_ref_count_init (&l->ref_count);
  l->fd = -1;
  l->address = g_steal_pointer (&bound);
  l->address_string = g_steal_pointer (&text);
  l->tls = tls != NULL ? net_tls_ref (tls) : NULL;
  l->options = options != NULL ? *options : (NetConnOptions){ 0 };
  l->context = g_main_context_ref_thread_default ();
  l->loop = net_loop_ref (loop);
  net_watch_init (&l->offered, -1, on_offered, l);
  g_queue_init (&l->offers);
  g_hash_table_insert (virtual_listeners, g_steal_pointer (&key), l);
  return l;
}

static gboolean
on_listen_ready (gint fd, GIOCondition cond, gpointer data)
{
  NetListener *l = net_listener_ref (data);

  /* A bounded batch, so that a flood of connections cannot starve the
   * connections already open. */
  for (int i = 0; i < 64 && l->watch != NULL; i++)
    if (!accept_one (l))
      break;
  net_listener_unref (l);
  return G_SOURCE_CONTINUE;
}

NetListener *
net_listener_new (GSocketAddress *address, NetTls *tls,
                  const NetConnOptions *options, GError **error)
{
  struct sockaddr_storage ss;
  socklen_t len;
  g_autofree char *want = NULL;
  NetListener *l;
  int fd;
  int one = 1;

  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (address), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  want = net_addr_to_string (address);
  if (tls != NULL && !net_tls_can_serve (tls))
    {
      g_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_NO_SERVER,
                   "cannot listen for TLS on %s: no certificate and private "
                   "key",
                   want);
      return NULL;
    }
  if (net_loop_has_virtual_network (net_loop_get_default ()))
    return listener_new_virtual (net_loop_get_default (), address, tls,
                                 options, error);
  len = (socklen_t) g_socket_address_get_native_size (address);
  if (!g_socket_address_to_native (address, &ss, sizeof ss, error))
    return NULL;

  fd = socket (ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
               IPPROTO_TCP);
  if (fd < 0)
    goto fail_errno;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ss.ss_family == AF_INET6 &&
      setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
    goto fail_errno;
  if (bind (fd, (struct sockaddr *) &ss, len) < 0 ||
      listen (fd, SOMAXCONN) < 0)
    goto fail_errno;
  len = sizeof ss;
  if (getsockname (fd, (struct sockaddr *) &ss, &len) < 0)
    goto fail_errno;

  l = g_new0 (NetListener, 1);
  g_atomic_ref_count_init (&l->ref_count);
  l->fd = fd;
  l->address = g_socket_address_new_from_native (&ss, len);
  l->address_string = net_addr_to_string (l->address);
  l->tls = tls != NULL ? net_tls_ref (tls) : NULL;
  l->options = options != NULL ? *options : (NetConnOptions){ 0 };
  l->context = g_main_context_ref_thread_default ();
  listener_watch (l);
  return l;

fail_errno:
  {
    int err = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                 "cannot bind %s: %s", want, g_strerror (err));
    if (fd >= 0)
      close (fd);
    return NULL;
  }
}

NetListener *
net_listener_ref (NetListener *listener)
{
  g_return_val_if_fail (listener != NULL, NULL);
  g_atomic_ref_count_inc (&listener->ref_count);
  return listener;
}

void
net_listener_unref (NetListener *l)
{
  if (l == NULL || !g_atomic_ref_count_dec (&l->ref_count))
    return;
  if (l->watch != NULL)
    {
      g_source_destroy (l->watch);
      g_source_unref (l->watch);
    }
  if (l->backoff != NULL)
    {
      g_source_destroy (l->backoff);
      g_source_unref (l->backoff);
    }
  if (l->loop != NULL)
    {
      g_autofree char *key = virtual_key (l->loop, l->address_string);
      Offer *o;

      g_hash_table_remove (virtual_listeners, key);
      net_watch_remove (l->loop, &l->offered);
      while ((o = g_queue_pop_head (&l->offers)) != NULL)
        {
          net_conn_abort (o->conn, TRUE);
          net_conn_unref (o->conn);
          g_object_unref (o->peer);
          g_free (o);
        }
      net_loop_unref (l->loop);
    }
  else
    {
      close (l->fd);
    }
  if (l->destroy != NULL)
    l->destroy (l->user_data);
  if (l->tls != NULL)
    net_tls_unref (l->tls);
  g_object_unref (l->address);
  g_free (l->address_string);
  g_main_context_unref (l->context);
  g_free (l);
}

void
net_listener_set_callbacks (NetListener *listener,
                            NetListenerFilterFunc filter,
                            NetListenerAcceptFunc accept, gpointer user_data,
                            GDestroyNotify destroy)
{
  GDestroyNotify old_destroy;
  gpointer old_data;

  g_return_if_fail (listener != NULL);
  old_destroy = listener->destroy;
  old_data = listener->user_data;
  listener->filter = filter;
  listener->accept = accept;
  listener->user_data = user_data;
  listener->destroy = destroy;
  if (old_destroy != NULL)
    old_destroy (old_data);
}

void
net_listener_set_tls (NetListener *listener, NetTls *tls)
{
  g_return_if_fail (listener != NULL);
  g_return_if_fail (listener->tls != NULL);
  g_return_if_fail (tls != NULL && net_tls_can_serve (tls));

  net_tls_ref (tls);
  net_tls_unref (listener->tls);
  listener->tls = tls;
}

GSocketAddress *
net_listener_get_address (NetListener *listener)
{
  g_return_val_if_fail (listener != NULL, NULL);
  return listener->address;
}

const char *
net_listener_get_address_string (NetListener *listener)
{
  g_return_val_if_fail (listener != NULL, NULL);
  return listener->address_string;
}
