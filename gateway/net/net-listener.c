#include "net-listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib-unix.h>

#include "net-addr.h"
#include "net-conn-priv.h"

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

  NetListenerFilterFunc filter;
  NetListenerAcceptFunc accept;
  gpointer user_data;
  GDestroyNotify destroy;
};

static gboolean on_listen_ready (gint fd, GIOCondition cond, gpointer data);

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
  close (l->fd);
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
