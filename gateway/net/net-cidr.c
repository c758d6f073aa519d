/* net-cidr.c: see net-cidr.h. */
#include "net-cidr.h"

#include <string.h>

typedef struct
{
  guint8 bytes[16]; /* network order; 4 used for IPv4 */
  guint len;        /* 4 or 16 */
  guint prefix;     /* bits */
  char *text;       /* canonical: "127.0.0.0/8" */
} Range;

struct _NetCidrList
{
  GArray *ranges; /* Range */
};

static void
range_clear (gpointer p)
{
  g_free (((Range *) p)->text);
}

NetCidrList *
net_cidr_list_new (void)
{
  NetCidrList *list = g_new0 (NetCidrList, 1);

  list->ranges = g_array_new (FALSE, FALSE, sizeof (Range));
  g_array_set_clear_func (list->ranges, range_clear);
  return list;
}

void
net_cidr_list_free (NetCidrList *list)
{
  if (list == NULL)
    return;
  g_array_unref (list->ranges);
  g_free (list);
}

guint
net_cidr_list_get_length (const NetCidrList *list)
{
  g_return_val_if_fail (list != NULL, 0);
  return list->ranges->len;
}

/* The 12 bytes that make an IPv6 address IPv4-mapped (RFC 4291 section
 * 2.5.5.2). */
static const guint8 mapped_prefix[12] = { 0, 0, 0, 0, 0,    0,
                                          0, 0, 0, 0, 0xff, 0xff };

static gboolean
is_mapped (const guint8 *bytes, gsize len)
{
  return len == 16 && memcmp (bytes, mapped_prefix, 12) == 0;
}

GInetAddress *
net_cidr_unmap (GInetAddress *addr)
{
  const guint8 *b;

  g_return_val_if_fail (G_IS_INET_ADDRESS (addr), NULL);
  b = g_inet_address_to_bytes (addr);
  if (is_mapped (b, g_inet_address_get_native_size (addr)))
    return g_inet_address_new_from_bytes (b + 12, G_SOCKET_FAMILY_IPV4);
  return g_object_ref (addr);
}

/* Do the first @bits bits of @a and @b agree? */
static gboolean
prefix_equal (const guint8 *a, const guint8 *b, guint bits)
{
  guint whole = bits / 8, rest = bits % 8;

  if (memcmp (a, b, whole) != 0)
    return FALSE;
  if (rest == 0)
    return TRUE;
  return ((a[whole] ^ b[whole]) & (guint8) (0xff << (8 - rest))) == 0;
}

/* Are the bits of @b after @bits all zero? */
static gboolean
host_bits_clear (const guint8 *b, guint len, guint bits)
{
  for (guint i = 0; i < len * 8; i++)
    if (i >= bits && (b[i / 8] & (0x80 >> (i % 8))) != 0)
      return FALSE;
  return TRUE;
}

/* @item as printable ASCII for a message: other bytes as \xNN.  A
 * configuration value can hold any bytes, and the message ends up in a
 * log line or on a terminal (fuzz-cidr found the raw bytes there). */
static char *
quote (const char *item)
{
  GString *out = g_string_new (NULL);

  for (const char *p = item; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c >= 0x20 && c < 0x7f && c != '\\')
        g_string_append_c (out, (char) c);
      else
        g_string_append_printf (out, "\\x%02x", c);
    }
  return g_string_free (out, FALSE);
}

static gboolean
item_error (GError **error, const char *item, const char *why)
{
  g_autofree char *q = quote (item);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "'%s' is not an address range: %s", q, why);
  return FALSE;
}

/* The prefix length after the '/' of @item (@p), at most @max: plain
 * decimal, no sign, no space, no hex, at most 3 digits. */
static gboolean
parse_prefix (const char *item, const char *p, guint max, guint *prefix,
              GError **error)
{
  guint64 n = 0;

  if (*p == '\0')
    return item_error (error, item, "the prefix length is missing");
  for (const char *d = p; *d != '\0'; d++)
    if (!g_ascii_isdigit (*d))
      return item_error (error, item, "the prefix length is not a number");
  if (strlen (p) > 3)
    return item_error (error, item,
                       "the prefix length has more than 3 digits");
  for (; *p != '\0'; p++)
    n = n * 10 + (guint64) (*p - '0');
  if (n > max)
    {
      g_autofree char *why =
          g_strdup_printf ("the prefix length %" G_GUINT64_FORMAT
                           " is longer than %u, the %s address's",
                           n, max, max == 32 ? "IPv4" : "IPv6");

      return item_error (error, item, why);
    }
  *prefix = (guint) n;
  return TRUE;
}

/* @r in the form it is matched and shown in: a range inside
 * ::ffff:0:0/96 is the IPv4 range it covers (mapped addresses are matched
 * as IPv4), and its text is the address's canonical form and the prefix
 * length. */
static void
canonical_range (Range *r)
{
  g_autoptr (GInetAddress) canon = NULL;
  g_autofree char *addr_text = NULL;

  if (is_mapped (r->bytes, r->len) && r->prefix >= 96)
    {
      memmove (r->bytes, r->bytes + 12, 4);
      memset (r->bytes + 4, 0, 12);
      r->len = 4;
      r->prefix -= 96;
    }
  canon = g_inet_address_new_from_bytes (
      r->bytes, r->len == 4 ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6);
  addr_text = g_inet_address_to_string (canon);
  r->text = g_strdup_printf ("%s/%u", addr_text, r->prefix);
}

gboolean
net_cidr_list_add (NetCidrList *list, const char *item, GError **error)
{
  g_autofree char *host = NULL;
  g_autoptr (GInetAddress) addr = NULL;
  const char *slash;
  const guint8 *b;
  Range r = { 0 };
  guint max;

  g_return_val_if_fail (list != NULL && item != NULL, FALSE);
  if (strlen (item) > NET_CIDR_ITEM_MAX)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "an address range of %" G_GSIZE_FORMAT
                   " bytes is longer than %d",
                   strlen (item), NET_CIDR_ITEM_MAX);
      return FALSE;
    }
  if (list->ranges->len >= NET_CIDR_MAX_ITEMS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "more than %d address ranges", NET_CIDR_MAX_ITEMS);
      return FALSE;
    }
  if (strchr (item, '%') != NULL)
    return item_error (error, item,
                       "a zone identifier names an interface, not a range");
  slash = strchr (item, '/');
  host = slash != NULL ? g_strndup (item, (gsize) (slash - item))
                       : g_strdup (item);
  addr = g_inet_address_new_from_string (host);
  if (addr == NULL)
    return item_error (error, item, "not an IP address");
  b = g_inet_address_to_bytes (addr);
  r.len = (guint) g_inet_address_get_native_size (addr);
  memcpy (r.bytes, b, r.len);
  max = r.len * 8;
  r.prefix = max;
  if (slash != NULL && !parse_prefix (item, slash + 1, max, &r.prefix, error))
    return FALSE;
  if (!host_bits_clear (r.bytes, r.len, r.prefix))
    return item_error (error, item,
                       "bits are set after the prefix length (write the "
                       "network's first address)");
  canonical_range (&r);
  g_array_append_val (list->ranges, r);
  return TRUE;
}

NetCidrList *
net_cidr_list_parse (const char *text, GError **error)
{
  g_autoptr (NetCidrList) list = net_cidr_list_new ();
  g_auto (GStrv) items = NULL;

  g_return_val_if_fail (text != NULL, NULL);
  items = g_strsplit_set (text, ";,", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *item = g_strstrip (items[i]);

      if (*item == '\0')
        continue;
      if (!net_cidr_list_add (list, item, error))
        return NULL;
    }
  return g_steal_pointer (&list);
}

NetCidrList *
net_cidr_list_copy (const NetCidrList *list)
{
  NetCidrList *copy = net_cidr_list_new ();

  g_return_val_if_fail (list != NULL, copy);
  for (guint i = 0; i < list->ranges->len; i++)
    {
      Range r = g_array_index (list->ranges, Range, i);

      r.text = g_strdup (r.text);
      g_array_append_val (copy->ranges, r);
    }
  return copy;
}

gboolean
net_cidr_list_match (const NetCidrList *list, GInetAddress *addr,
                     const char **matched)
{
  g_autoptr (GInetAddress) plain = NULL;
  const guint8 *b;
  guint len;

  g_return_val_if_fail (list != NULL && G_IS_INET_ADDRESS (addr), FALSE);
  plain = net_cidr_unmap (addr);
  b = g_inet_address_to_bytes (plain);
  len = (guint) g_inet_address_get_native_size (plain);
  for (guint i = 0; i < list->ranges->len; i++)
    {
      const Range *r = &g_array_index (list->ranges, Range, i);

      if (r->len == len && prefix_equal (r->bytes, b, r->prefix))
        {
          if (matched != NULL)
            *matched = r->text;
          return TRUE;
        }
    }
  return FALSE;
}

char *
net_cidr_list_to_string (const NetCidrList *list)
{
  GString *s = g_string_new (NULL);

  g_return_val_if_fail (list != NULL, g_string_free (s, FALSE));
  for (guint i = 0; i < list->ranges->len; i++)
    g_string_append_printf (s, "%s%s", i > 0 ? "; " : "",
                            g_array_index (list->ranges, Range, i).text);
  return g_string_free (s, FALSE);
}
