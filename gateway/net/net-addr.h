/* net-addr.h: "host:port" endpoint lists as the configuration writes them. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Parse "127.0.0.1:2855", "[::1]:2855" or "example.net:2855".  IPv6 needs
 * brackets.  Returns: (transfer full): a GInetSocketAddress for literal
 * addresses; NULL with @error naming the problem otherwise (names are not
 * resolved here: listeners bind to addresses). */
G_GNUC_WARN_UNUSED_RESULT
GSocketAddress *net_addr_parse (const char *text, GError **error);

/* The same, also accepting port 0 (bind to a port the system picks), for
 * a local address to listen on. */
G_GNUC_WARN_UNUSED_RESULT
GSocketAddress *net_addr_parse_bindable (const char *text, GError **error);

/* Parse a ';'-separated list of the above (spaces around items ignored; an
 * empty list is allowed and yields an empty array).
 * Returns: (transfer full): GPtrArray of GSocketAddress. */
G_GNUC_WARN_UNUSED_RESULT
GPtrArray *net_addr_list_parse (const char *text, GError **error);

/* "127.0.0.1:2855" / "[::1]:2855".  (transfer full) */
char *net_addr_to_string (GSocketAddress *addr);

G_END_DECLS
