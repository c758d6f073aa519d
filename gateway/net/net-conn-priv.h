/* net-conn-priv.h: what net-listener.c needs of net-conn.c. */
#pragma once

#include "net-conn.h"
#include "net-listener.h"
#include "net-loop.h"

G_BEGIN_DECLS

/* net_conn_new_accepted() with the peer's address already known. */
NetConn *net_conn_new_accepted_from (int fd, const char *peer_address,
                                     NetTls *tls,
                                     const NetConnOptions *options,
                                     GError **error);

/* Close @fd with a RST instead of a FIN (SO_LINGER 0): no TIME_WAIT here,
 * and the peer knows at once. */
void net_close_with_reset (int fd);

/* The virtual network (net_loop_set_virtual_network()).  The listener
 * bound at @address on @loop (or at the wildcard address of its family and
 * port), or NULL.  (transfer none) */
NetListener *net_listener_find_virtual (NetLoop *loop,
                                        GSocketAddress *address);
/* Give @conn (a reference is taken), the server end of an in-memory
 * connection from @peer, to the listener: its filter and accept run from
 * the loop, as for an accepted socket. */
void net_listener_offer (NetListener *listener, NetConn *conn,
                         GSocketAddress *peer);
NetTls *net_listener_get_tls (NetListener *listener);
/* The listener has taken the offered @conn: it runs from now on. */
void net_conn_start_offered (NetConn *conn);
const NetConnOptions *net_listener_get_options (NetListener *listener);

G_END_DECLS
