/* net-conn-priv.h: what net-listener.c needs of net-conn.c. */
#pragma once

#include "net-conn.h"

G_BEGIN_DECLS

/* net_conn_new_accepted() with the peer's address already known. */
NetConn *net_conn_new_accepted_from (int fd, const char *peer_address,
                                     NetTls *tls,
                                     const NetConnOptions *options,
                                     GError **error);

/* Close @fd with a RST instead of a FIN (SO_LINGER 0): no TIME_WAIT here,
 * and the peer knows at once. */
void net_close_with_reset (int fd);

G_END_DECLS
