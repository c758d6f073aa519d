/* net-listener.h: a listening TCP socket whose accepted connections become
 * NetConns (TLS servers when the listener has a NetTls).
 *
 * Accepting runs on the thread default main context of the thread that made
 * the listener.  accept() failing for want of descriptors or memory stops
 * the watch for a while (the pending connection stays in the backlog) and
 * is logged once, as event accept_failed in log domain "net", until an
 * accept succeeds again. */
#pragma once

#include <gio/gio.h>

#include "net-conn.h"
#include "net-tls.h"

G_BEGIN_DECLS

typedef struct _NetListener NetListener;

/* Called with each accepted peer's address before any connection is made
 * from it (enforce max-connections, max-connections-per-ip here): FALSE
 * refuses it with a TCP RST.  (@peer: transfer none) */
typedef gboolean (*NetListenerFilterFunc) (NetListener *listener,
                                           GSocketAddress *peer,
                                           gpointer user_data);
/* Called with each new connection (transfer none: take a reference to keep
 * it; otherwise it is aborted when the callback returns).  The connection
 * is HANDSHAKING (TLS) or OPEN (TCP). */
typedef void (*NetListenerAcceptFunc) (NetListener *listener, NetConn *conn,
                                       gpointer user_data);

/* Listen on @address (a GInetSocketAddress; port 0 picks one, see
 * net_listener_get_address()).  An IPv6 address listens for IPv6 only
 * (IPV6_V6ONLY), so [::]:2855 and 0.0.0.0:2855 can both be listened on.
 * With @tls (which must have a certificate) every accepted connection runs
 * the TLS server handshake.  @options apply to every accepted connection.
 * Accepting runs on the thread default main context.
 * Returns: (transfer full) (nullable): NULL with @error, e.g. "cannot bind
 * 127.0.0.1:2855: Address already in use". */
G_GNUC_WARN_UNUSED_RESULT
NetListener *net_listener_new (GSocketAddress *address, NetTls *tls,
                               const NetConnOptions *options, GError **error);

NetListener *net_listener_ref (NetListener *listener);
/* Dropping the last reference closes the listening socket; accepted
 * connections live on. */
void net_listener_unref (NetListener *listener);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetListener, net_listener_unref)

/* @filter may be NULL (accept everyone).  @destroy is called on the
 * previous @user_data when replaced and when the listener is freed. */
void net_listener_set_callbacks (NetListener *listener,
                                 NetListenerFilterFunc filter,
                                 NetListenerAcceptFunc accept,
                                 gpointer user_data, GDestroyNotify destroy);

/* Use @tls (a reference is taken) for connections accepted from now on,
 * for example after net_tls_reload(); live connections keep theirs.  The
 * listener must have been made with TLS, and @tls must have a
 * certificate. */
void net_listener_set_tls (NetListener *listener, NetTls *tls);

/* The bound address (with the port the kernel chose for port 0).
 * (transfer none) */
GSocketAddress *net_listener_get_address (NetListener *listener);
/* The same as "127.0.0.1:2855" / "[::1]:2855".  (transfer none) */
const char *net_listener_get_address_string (NetListener *listener);

G_END_DECLS
