/* net-cidr.h: lists of address ranges in CIDR notation (RFC 4632 section
 * 3.1 for IPv4, RFC 4291 section 2.3 for IPv6), as the configuration
 * writes them: "127.0.0.0/8; ::1; 203.0.113.0/24".
 *
 * Here and not in the daemon because it is plain address arithmetic on
 * GInetAddress, with nothing of msrp-edge's in it: the same module the
 * daemon's connect policy (gw-connect-policy.h) and any client can use.
 *
 * An item is ADDRESS or ADDRESS/PREFIX; an address alone is a /32 (IPv4)
 * or /128 (IPv6) range.  Items are separated by ';' (or ','), with spaces
 * around them ignored and empty items skipped.  What is refused, with an
 * error naming the item: a prefix longer than the family allows or not
 * written as plain decimal digits, bits set in the address after the prefix
 * ("10.1.2.3/8" is a typo for 10.0.0.0/8 or 10.1.2.3/32 and must not guess),
 * IPv6 zone identifiers ("fe80::1%eth0": an interface, not a range), and
 * more than NET_CIDR_MAX_ITEMS items or an item longer than
 * NET_CIDR_ITEM_MAX bytes.
 *
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2) are
 * the IPv4 address they carry: a socket connected to ::ffff:127.0.0.1 talks
 * to 127.0.0.1, so a mapped address is matched as IPv4 and an item inside
 * ::ffff:0:0/96 is stored as the IPv4 range it covers.  Matching is a walk
 * of the list (configured lists are short).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Most items in one list, and the longest item, in bytes. */
#define NET_CIDR_MAX_ITEMS 1024
#define NET_CIDR_ITEM_MAX 64

typedef struct _NetCidrList NetCidrList;

/* Parse @text (the whole list; "" is an empty list).
 * Returns: (transfer full) (nullable): NULL with @error
 * (G_IO_ERROR_INVALID_ARGUMENT) naming the first bad item. */
G_GNUC_WARN_UNUSED_RESULT
NetCidrList *net_cidr_list_parse (const char *text, GError **error);

/* An empty list. (transfer full) */
G_GNUC_WARN_UNUSED_RESULT
NetCidrList *net_cidr_list_new (void);

void net_cidr_list_free (NetCidrList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetCidrList, net_cidr_list_free)

/* A copy of @list. (transfer full) */
G_GNUC_WARN_UNUSED_RESULT
NetCidrList *net_cidr_list_copy (const NetCidrList *list);

/* Add one range; FALSE with @error as net_cidr_list_parse() would say. */
gboolean net_cidr_list_add (NetCidrList *list, const char *item,
                            GError **error);

guint net_cidr_list_get_length (const NetCidrList *list);

/* Whether @addr is in a range of @list (an IPv4-mapped @addr as its IPv4
 * address).  @matched: (out) (optional) (transfer none): the range, written
 * canonically ("127.0.0.0/8"), valid while @list lives. */
gboolean net_cidr_list_match (const NetCidrList *list, GInetAddress *addr,
                              const char **matched);

/* The canonical text of every range, "; " between them ("" when empty):
 * what net_cidr_list_parse() reads back to the same list.
 * (transfer full) */
char *net_cidr_list_to_string (const NetCidrList *list);

/* @addr itself, or the IPv4 address an IPv4-mapped @addr carries.
 * (transfer full) */
GInetAddress *net_cidr_unmap (GInetAddress *addr);

G_END_DECLS
