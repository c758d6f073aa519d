#include "net-addr.h"

#include <string.h>

static GSocketAddress *
parse (const char *text, guint min_port, GError **error)
{
  g_autofree char *host = NULL;
  g_autoptr (GInetAddress) inet = NULL;
  const char *port_str;
  guint64 port;
  char *end;

  if (text[0] == '[')
    {
      const char *close = strchr (text, ']');

      if (close == NULL || close[1] != ':')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "'%s': an IPv6 address is written [address]:port",
                       text);
          return NULL;
        }
      host = g_strndup (text + 1, (gsize) (close - text - 1));
      port_str = close + 2;
    }
  else
    {
      const char *colon = strrchr (text, ':');

      if (colon == NULL || strchr (text, ':') != colon)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "'%s' is not host:port (IPv6 needs [brackets])", text);
          return NULL;
        }
      host = g_strndup (text, (gsize) (colon - text));
      port_str = colon + 1;
    }

  if (!g_ascii_isdigit (*port_str) ||
      (port = g_ascii_strtoull (port_str, &end, 10)) < min_port ||
      port > 65535 || *end != '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "'%s': port '%s' is not a number from %u to 65535", text,
                   port_str, min_port);
      return NULL;
    }
  inet = g_inet_address_new_from_string (host);
  if (inet == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "'%s': '%s' is not an IP address", text, host);
      return NULL;
    }
  return g_inet_socket_address_new (inet, (guint16) port);
}

GSocketAddress *
net_addr_parse (const char *text, GError **error)
{
  return parse (text, 1, error);
}

GSocketAddress *
net_addr_parse_bindable (const char *text, GError **error)
{
  return parse (text, 0, error);
}

GPtrArray *
net_addr_list_parse (const char *text, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_object_unref);
  g_auto (GStrv) items = g_strsplit (text, ";", -1);

  for (guint i = 0; items[i] != NULL; i++)
    {
      char *item = g_strstrip (items[i]);
      GSocketAddress *addr;

      if (*item == '\0')
        continue;
      addr = net_addr_parse (item, error);
      if (addr == NULL)
        return NULL;
      g_ptr_array_add (out, addr);
    }
  return g_steal_pointer (&out);
}

char *
net_addr_to_string (GSocketAddress *addr)
{
  GInetSocketAddress *isa = G_INET_SOCKET_ADDRESS (addr);
  GInetAddress *inet = g_inet_socket_address_get_address (isa);
  g_autofree char *host = g_inet_address_to_string (inet);
  guint16 port = g_inet_socket_address_get_port (isa);

  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[%s]:%u", host, port);
  return g_strdup_printf ("%s:%u", host, port);
}
