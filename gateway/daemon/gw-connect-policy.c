/* gw-connect-policy.c: see gw-connect-policy.h. */
#include "gw-connect-policy.h"

#include <ifaddrs.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "net-addr.h"
#include "net-cidr.h"

typedef struct
{
  GInetAddress *address; /* unmapped */
  guint16 port;
  char *what;
  char *text; /* "127.0.0.1:2855" */
} Listener;

struct _GwConnectPolicy
{
  NetCidrList *allow[2]; /* by GwConnectKind */
  NetCidrList *deny[2];
  NetCidrList *defaults;
  GArray *listeners; /* Listener */
};

/* What nobody should make the gateway connect to unless the operator says
 * so (rule 4 of gw-connect-policy.h), and the words for each. */
static const struct
{
  const char *range;
  const char *what;
} default_denials[] = {
  { "127.0.0.0/8", "loopback" },
  { "::1/128", "loopback" },
  { "169.254.0.0/16", "link-local" },
  { "fe80::/10", "link-local" },
  { "0.0.0.0/8", "the unspecified address" },
  { "::/128", "the unspecified address" },
  { "224.0.0.0/4", "multicast" },
  { "ff00::/8", "multicast" },
  { "255.255.255.255/32", "broadcast" },
};

static const char *const kind_names[] = { "party", "next-hop" };
static const char *const allow_keys[] = { "[negotiator] connect-allow",
                                          "[relay] next-hop-allow" };
static const char *const deny_keys[] = { "[negotiator] connect-deny",
                                         "[relay] next-hop-deny" };

const char *
gw_connect_kind_to_string (GwConnectKind kind)
{
  return (guint) kind < G_N_ELEMENTS (kind_names) ? kind_names[kind] : NULL;
}

static void
listener_clear (gpointer p)
{
  Listener *l = p;

  g_object_unref (l->address);
  g_free (l->what);
  g_free (l->text);
}

GwConnectPolicy *
gw_connect_policy_new (const GwConfig *config)
{
  GwConnectPolicy *p = g_new0 (GwConnectPolicy, 1);

  g_return_val_if_fail (config != NULL, p);
  p->allow[GW_CONNECT_PARTY] = net_cidr_list_copy (config->connect_allow);
  p->deny[GW_CONNECT_PARTY] = net_cidr_list_copy (config->connect_deny);
  p->allow[GW_CONNECT_NEXT_HOP] = net_cidr_list_copy (config->next_hop_allow);
  p->deny[GW_CONNECT_NEXT_HOP] = net_cidr_list_copy (config->next_hop_deny);
  p->defaults = net_cidr_list_new ();
  for (guint i = 0; i < G_N_ELEMENTS (default_denials); i++)
    if (!net_cidr_list_add (p->defaults, default_denials[i].range, NULL))
      g_assert_not_reached ();
  p->listeners = g_array_new (FALSE, FALSE, sizeof (Listener));
  g_array_set_clear_func (p->listeners, listener_clear);
  return p;
}

void
gw_connect_policy_free (GwConnectPolicy *p)
{
  if (p == NULL)
    return;
  for (guint k = 0; k < 2; k++)
    {
      net_cidr_list_free (p->allow[k]);
      net_cidr_list_free (p->deny[k]);
    }
  net_cidr_list_free (p->defaults);
  g_array_unref (p->listeners);
  g_free (p);
}

void
gw_connect_policy_add_listener (GwConnectPolicy *p, GSocketAddress *address,
                                const char *what)
{
  GInetSocketAddress *isa;
  Listener l;

  g_return_if_fail (p != NULL && G_IS_INET_SOCKET_ADDRESS (address));
  isa = G_INET_SOCKET_ADDRESS (address);
  l.address = net_cidr_unmap (g_inet_socket_address_get_address (isa));
  l.port = g_inet_socket_address_get_port (isa);
  l.what = g_strdup (what);
  l.text = net_addr_to_string (address);
  g_array_append_val (p->listeners, l);
}

/* Is @addr one of this host's addresses?  Asked only when a wildcard
 * listener has the port being connected to, so the cost of getifaddrs()
 * is paid rarely, and the answer is never stale (addresses come and go). */
static gboolean
is_host_address (GInetAddress *addr)
{
  struct ifaddrs *list = NULL;
  gboolean found = FALSE;

  if (g_inet_address_get_is_loopback (addr) ||
      g_inet_address_get_is_any (addr))
    return TRUE;
  if (getifaddrs (&list) != 0)
    return TRUE; /* cannot tell: take it for ours, refusing errs safe */
  for (struct ifaddrs *i = list; i != NULL && !found; i = i->ifa_next)
    {
      g_autoptr (GSocketAddress) sa = NULL;
      gsize len;

      if (i->ifa_addr == NULL || (i->ifa_addr->sa_family != AF_INET &&
                                  i->ifa_addr->sa_family != AF_INET6))
        continue;
      len = i->ifa_addr->sa_family == AF_INET ? sizeof (struct sockaddr_in)
                                              : sizeof (struct sockaddr_in6);
      sa = g_socket_address_new_from_native (i->ifa_addr, len);
      if (sa != NULL && G_IS_INET_SOCKET_ADDRESS (sa))
        {
          g_autoptr (GInetAddress) a = net_cidr_unmap (
              g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa)));

          found = g_inet_address_equal (a, addr);
        }
    }
  freeifaddrs (list);
  return found;
}

/* The listener of ours that @addr:@port reaches, or NULL. */
static const Listener *
own_listener (GwConnectPolicy *p, GInetAddress *addr, guint16 port)
{
  for (guint i = 0; i < p->listeners->len; i++)
    {
      const Listener *l = &g_array_index (p->listeners, Listener, i);

      if (l->port != port)
        continue;
      /* Linux connects the unspecified address to the host itself. */
      if (g_inet_address_equal (l->address, addr) ||
          g_inet_address_get_is_any (addr))
        return l;
      if (g_inet_address_get_is_any (l->address) && is_host_address (addr))
        return l;
    }
  return NULL;
}

gboolean
gw_connect_policy_allows (GwConnectPolicy *p, GwConnectKind kind,
                          GInetAddress *address, guint16 port, char **rule)
{
  g_autoptr (GInetAddress) addr = NULL;
  const char *range = NULL;
  const Listener *l;

  g_return_val_if_fail (p != NULL && G_IS_INET_ADDRESS (address), FALSE);
  g_return_val_if_fail (
      kind == GW_CONNECT_PARTY || kind == GW_CONNECT_NEXT_HOP, FALSE);
  addr = net_cidr_unmap (address);
  if (net_cidr_list_match (p->deny[kind], addr, &range))
    {
      if (rule != NULL)
        *rule = g_strdup_printf ("%s %s", deny_keys[kind], range);
      return FALSE;
    }
  if (port != 0 && (l = own_listener (p, addr, port)) != NULL)
    {
      if (rule != NULL)
        *rule = g_strdup_printf ("the gateway's own %s listener %s", l->what,
                                 l->text);
      return FALSE;
    }
  if (net_cidr_list_match (p->allow[kind], addr, NULL))
    return TRUE;
  if (net_cidr_list_match (p->defaults, addr, &range))
    {
      if (rule != NULL)
        {
          const char *what = range;

          for (guint i = 0; i < G_N_ELEMENTS (default_denials); i++)
            if (strcmp (range, default_denials[i].range) == 0)
              what = default_denials[i].what;
          *rule = g_strdup_printf ("%s %s (refused unless %s allows it)", what,
                                   range, allow_keys[kind]);
        }
      return FALSE;
    }
  return TRUE;
}
