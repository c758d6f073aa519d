/* fuzz-cidr.c: libFuzzer target for gateway/net/net-cidr.c, the address
 * ranges of the connect policy ([negotiator] connect-allow, ...).
 *
 * The input is a CIDR list as the configuration would hold it, then,
 * after the first NUL byte (if any), bytes that make addresses to match.
 * Checked:
 *   - a list parses exactly when each of its items parses on its own, and
 *     then has one range per non-empty item;
 *   - an error is G_IO_ERROR_INVALID_ARGUMENT with a printable message;
 *   - the canonical text parses again to the same text (a fixed point),
 *     and so does a copy;
 *   - every address (IPv4, IPv6, and the IPv4-mapped form of the IPv4 one)
 *     matches the list, its reparsed canonical form and its copy alike,
 *     names a range that is one of the canonical items, and a mapped
 *     address matches exactly as the IPv4 address it carries;
 *   - nothing leaks (LeakSanitizer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net-cidr.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check (gboolean ok)
{
  if (!ok)
    abort ();
}

static void
check_error (const GError *error)
{
  check (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT));
  for (const char *p = error->message; *p != '\0'; p++)
    check (*p >= 0x20 && *p < 0x7f);
}

/* Does @canonical ("a/b; c/d") hold @range as one of its items? */
static gboolean
has_item (const char *canonical, const char *range)
{
  g_auto (GStrv) items = g_strsplit (canonical, "; ", -1);

  for (guint i = 0; items[i] != NULL; i++)
    if (strcmp (items[i], range) == 0)
      return TRUE;
  return FALSE;
}

static void
check_address (const NetCidrList *l, const NetCidrList *again,
               const NetCidrList *copy, const char *canonical, GInetAddress *a)
{
  const char *m1 = NULL, *m2 = NULL, *m3 = NULL;
  gboolean h1 = net_cidr_list_match (l, a, &m1);
  gboolean h2 = net_cidr_list_match (again, a, &m2);
  gboolean h3 = net_cidr_list_match (copy, a, &m3);

  check (h1 == h2 && h1 == h3);
  if (h1)
    {
      check (strcmp (m1, m2) == 0 && strcmp (m1, m3) == 0);
      check (has_item (canonical, m1));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const uint8_t *nul = memchr (data, 0, size);
  size_t text_len = nul != NULL ? (size_t) (nul - data) : size;
  const uint8_t *tail = nul != NULL ? nul + 1 : data + size;
  size_t tail_len = (size_t) (data + size - tail);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (NetCidrList) l = NULL;
  g_auto (GStrv) items = NULL;
  gboolean each_ok = TRUE;
  guint n_items = 0;

  /* Longer lists only repeat what shorter ones test. */
  if (size > 8192)
    return 0;
  text = g_strndup ((const char *) data, text_len);
  l = net_cidr_list_parse (text, &error);
  check ((l == NULL) == (error != NULL));
  if (error != NULL)
    check_error (error);

  /* The whole list against its items one by one. */
  items = g_strsplit_set (text, ";,", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *item = g_strstrip (items[i]);
      g_autoptr (NetCidrList) one = NULL;
      g_autoptr (GError) e = NULL;

      if (*item == '\0')
        continue;
      n_items++;
      one = net_cidr_list_new ();
      if (!net_cidr_list_add (one, item, &e))
        {
          check_error (e);
          each_ok = FALSE;
        }
      else
        {
          check (net_cidr_list_get_length (one) == 1);
        }
    }
  if (n_items > NET_CIDR_MAX_ITEMS)
    each_ok = FALSE;
  check ((l != NULL) == each_ok);
  if (l == NULL)
    return 0;
  check (net_cidr_list_get_length (l) == n_items);

  {
    g_autofree char *canonical = net_cidr_list_to_string (l);
    g_autoptr (NetCidrList) again = net_cidr_list_parse (canonical, NULL);
    g_autoptr (NetCidrList) copy = net_cidr_list_copy (l);
    g_autofree char *canonical2 = NULL;
    g_autofree char *canonical3 = NULL;
    guint8 v4[4] = { 0 };
    guint8 v6[16] = { 0 };
    guint8 mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    g_autoptr (GInetAddress) a4 = NULL;
    g_autoptr (GInetAddress) a6 = NULL;
    g_autoptr (GInetAddress) am = NULL;
    const char *m4 = NULL, *mm = NULL;

    check (again != NULL);
    canonical2 = net_cidr_list_to_string (again);
    canonical3 = net_cidr_list_to_string (copy);
    check (strcmp (canonical, canonical2) == 0);
    check (strcmp (canonical, canonical3) == 0);
    check (net_cidr_list_get_length (again) == n_items);

    memcpy (v4, tail, MIN (tail_len, sizeof v4));
    memcpy (v6, tail, MIN (tail_len, sizeof v6));
    memcpy (mapped + 12, v4, 4);
    a4 = g_inet_address_new_from_bytes (v4, G_SOCKET_FAMILY_IPV4);
    a6 = g_inet_address_new_from_bytes (v6, G_SOCKET_FAMILY_IPV6);
    am = g_inet_address_new_from_bytes (mapped, G_SOCKET_FAMILY_IPV6);
    check_address (l, again, copy, canonical, a4);
    check_address (l, again, copy, canonical, a6);
    check_address (l, again, copy, canonical, am);
    /* A mapped address is the IPv4 address it carries. */
    check (net_cidr_list_match (l, a4, &m4) ==
           net_cidr_list_match (l, am, &mm));
    check (m4 == mm);
  }
  return 0;
}
