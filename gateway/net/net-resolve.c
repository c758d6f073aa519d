/* net-resolve.c: an MSRP URI's authority to the addresses to try (RFC 4975
 * section 6.2, RFC 4976 section 8, RFC 2782); see net-resolve.h. */
#include "net-resolve.h"

#include <string.h>

/* --- RFC 2782 ordering --------------------------------------------------- */

static guint32
glib_random (guint32 bound, gpointer user_data)
{
  return (guint32) g_random_int_range (0, (gint32) bound);
}

static gint
by_priority (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const NetSrvTarget *ta = a;
  const NetSrvTarget *tb = b;

  return (gint) ta->priority - (gint) tb->priority;
}

/* The index in [@from, @to) of the record drawn for place @from, among
 * records of one priority. */
static gsize
draw (const NetSrvTarget *t, gsize from, gsize to, NetResolveRandomFunc random,
      gpointer random_data)
{
  guint32 sum = 0;
  gsize zeros = 0;
  gsize first_zero = to;
  guint32 r;
  guint32 running = 0;

  for (gsize i = from; i < to; i++)
    {
      sum += t[i].weight;
      if (t[i].weight == 0 && zeros++ == 0)
        first_zero = i;
    }
  /* All of weight 0: "any order", so a uniform draw spreads the load. */
  if (sum == 0)
    return from + random ((guint32) (to - from), random_data);
  /* R = 0 is the weight-0 records' small chance; without them it would be
   * an extra share for whichever record comes first (see the header). */
  r = zeros > 0 ? random (sum + 1, random_data)
                : 1 + random (sum, random_data);
  if (r == 0)
    return first_zero;
  for (gsize i = from; i < to; i++)
    {
      running += t[i].weight;
      if (t[i].weight > 0 && running >= r)
        return i;
    }
  g_assert_not_reached ();
  return from;
}

void
net_resolve_order_srv (NetSrvTarget *targets, gsize n_targets,
                       NetResolveRandomFunc random, gpointer random_data)
{
  gsize start = 0;

  g_return_if_fail (n_targets <= NET_RESOLVE_MAX_SRV_RECORDS);
  g_return_if_fail (targets != NULL || n_targets == 0);
  if (random == NULL)
    random = glib_random;
  /* Stable (GLib's sort is a merge sort since 2.32): within a priority the
   * records keep the answer's order until drawn. */
  g_qsort_with_data (targets, (gint) n_targets, sizeof *targets, by_priority,
                     NULL);
  while (start < n_targets)
    {
      gsize end = start + 1;

      while (end < n_targets &&
             targets[end].priority == targets[start].priority)
        end++;
      /* Place one record at a time; the last one left needs no draw. */
      for (gsize place = start; place + 1 < end; place++)
        {
          gsize pick = draw (targets, place, end, random, random_data);
          NetSrvTarget chosen = targets[pick];

          /* The records passed over keep their order. */
          memmove (&targets[place + 1], &targets[place],
                   (pick - place) * sizeof *targets);
          targets[place] = chosen;
        }
      start = end;
    }
}

/* --- lookups ------------------------------------------------------------- */

typedef struct
{
  GResolver *resolver;
  char *host;
  NetResolveRandomFunc random;
  gpointer random_data;
  char *rrname;     /* the SRV name asked, or NULL */
  gboolean via_srv; /* the names below are SRV targets */
  /* The names to resolve, in order, with their ports. */
  guint n_names;
  char **names;
  guint16 *ports;
  GList **found;   /* per name: GInetAddress */
  GError **errors; /* per name: why it found nothing */
  guint pending;
} Lookup;

typedef struct
{
  GTask *task;
  guint index;
} NameLookup;

static void
lookup_free (Lookup *l)
{
  g_clear_object (&l->resolver);
  g_free (l->host);
  g_free (l->rrname);
  for (guint i = 0; i < l->n_names; i++)
    {
      g_free (l->names[i]);
      if (l->found != NULL)
        g_resolver_free_addresses (l->found[i]);
      if (l->errors != NULL)
        g_clear_error (&l->errors[i]);
    }
  g_free (l->names);
  g_free (l->ports);
  g_free (l->found);
  g_free (l->errors);
  g_free (l);
}

static GPtrArray *
address_list (void)
{
  return g_ptr_array_new_with_free_func (g_object_unref);
}

/* @addr:@port, unless the list has it already: a farm whose targets share
 * an address is tried there once. */
static void
add_unique (GPtrArray *out, GInetAddress *addr, guint16 port)
{
  for (guint i = 0; i < out->len; i++)
    {
      GInetSocketAddress *isa = out->pdata[i];

      if (g_inet_socket_address_get_port (isa) == port &&
          g_inet_address_equal (g_inet_socket_address_get_address (isa), addr))
        return;
    }
  g_ptr_array_add (out, g_inet_socket_address_new (addr, port));
}

/* Every name answered: the addresses of each, in the names' order. */
static void
names_done (GTask *task)
{
  Lookup *l = g_task_get_task_data (task);
  g_autoptr (GPtrArray) out = address_list ();
  g_autoptr (GError) none = NULL;
  const GError *first = NULL;
  const char *first_name = l->host;

  for (guint i = 0; i < l->n_names; i++)
    for (GList *a = l->found[i]; a != NULL; a = a->next)
      add_unique (out, a->data, l->ports[i]);
  if (out->len > 0)
    {
      g_task_return_pointer (task, g_steal_pointer (&out),
                             (GDestroyNotify) g_ptr_array_unref);
      return;
    }
  /* Nothing anywhere: the first name's failure (in the SRV order)
   * explains it. */
  for (guint i = l->n_names; i > 0; i--)
    if (l->errors[i - 1] != NULL)
      {
        first = l->errors[i - 1];
        first_name = l->names[i - 1];
      }
  if (first == NULL)
    {
      g_set_error_literal (&none, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                           "no address");
      first = none;
    }
  if (g_error_matches (first, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s",
                             first->message);
  else if (l->via_srv)
    g_task_return_new_error (
        task, first->domain, first->code,
        "cannot resolve %s: none of the %u targets of %s resolved (%s: %s)",
        l->host, l->n_names, l->rrname, first_name, first->message);
  else if (l->rrname != NULL)
    g_task_return_new_error (task, first->domain, first->code,
                             "cannot resolve %s: %s has no SRV record, and "
                             "the name itself: %s",
                             l->host, l->rrname, first->message);
  else
    g_task_return_new_error (task, first->domain, first->code,
                             "cannot resolve %s: %s", l->host, first->message);
}

static void
on_name (GObject *source, GAsyncResult *res, gpointer user_data)
{
  NameLookup *nl = user_data;
  g_autoptr (GTask) task = nl->task;
  Lookup *l = g_task_get_task_data (task);
  guint i = nl->index;

  g_free (nl);
  /* A target that does not resolve is passed over (RFC 2782: the next
   * one is tried). */
  l->found[i] = g_resolver_lookup_by_name_finish (G_RESOLVER (source), res,
                                                  &l->errors[i]);
  if (--l->pending == 0)
    names_done (task);
}

/* Resolve every name of @task's lookup at once: the time to the first
 * connect is the slowest lookup's, not their sum. */
static void
resolve_names (GTask *task)
{
  Lookup *l = g_task_get_task_data (task);

  l->found = g_new0 (GList *, l->n_names);
  l->errors = g_new0 (GError *, l->n_names);
  l->pending = l->n_names;
  for (guint i = 0; i < l->n_names; i++)
    {
      NameLookup *nl = g_new (NameLookup, 1);

      nl->task = g_object_ref (task);
      nl->index = i;
      g_resolver_lookup_by_name_async (l->resolver, l->names[i],
                                       g_task_get_cancellable (task), on_name,
                                       nl);
    }
}

static void
resolve_host (GTask *task, guint16 port)
{
  Lookup *l = g_task_get_task_data (task);

  l->n_names = 1;
  l->names = g_new (char *, 1);
  l->ports = g_new (guint16, 1);
  l->names[0] = g_strdup (l->host);
  l->ports[0] = port;
  resolve_names (task);
}

/* The root name, as the resolver may write it. */
static gboolean
is_root (const char *name)
{
  return name[0] == '\0' || strcmp (name, ".") == 0;
}

static void
on_srv (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Lookup *l = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  GList *records =
      g_resolver_lookup_records_finish (G_RESOLVER (source), res, &error);
  g_autofree NetSrvTarget *targets = NULL;
  guint n = 0;
  guint n_records = g_list_length (records);

  if (records == NULL)
    {
      /* RFC 4976 section 8: "If no SRVs are found, try an address lookup
       * (A or AAAA) for the domain name ... with the default port number
       * (2855)".  Only when none exist: a lookup that failed says nothing
       * about them. */
      if (g_error_matches (error, G_RESOLVER_ERROR,
                           G_RESOLVER_ERROR_NOT_FOUND))
        resolve_host (task, NET_RESOLVE_MSRP_PORT);
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_new_error (task, error->domain, error->code,
                                 "cannot resolve %s: SRV lookup of %s: %s",
                                 l->host, l->rrname, error->message);
      return;
    }

  targets =
      g_new0 (NetSrvTarget, MIN (n_records, NET_RESOLVE_MAX_SRV_RECORDS));
  for (GList *r = records; r != NULL && n < NET_RESOLVE_MAX_SRV_RECORDS;
       r = r->next)
    {
      NetSrvTarget *t = &targets[n];

      if (!g_variant_is_of_type (r->data, G_VARIANT_TYPE ("(qqqs)")))
        continue;
      g_variant_get (r->data, "(qqq&s)", &t->priority, &t->weight, &t->port,
                     &t->target);
      /* RFC 2782: 'A Target of "." means that the service is decidedly
       * not available at this domain.'  Port 0 cannot be connected to. */
      if (is_root (t->target) && n_records == 1)
        {
          g_task_return_new_error (
              task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
              "cannot resolve %s: %s says the service is not available "
              "there (SRV target \".\", RFC 2782)",
              l->host, l->rrname);
          g_list_free_full (records, (GDestroyNotify) g_variant_unref);
          return;
        }
      if (is_root (t->target) || t->port == 0)
        continue;
      n++;
    }
  if (n == 0)
    {
      g_task_return_new_error (task, G_RESOLVER_ERROR,
                               G_RESOLVER_ERROR_NOT_FOUND,
                               "cannot resolve %s: %s has no usable SRV "
                               "record",
                               l->host, l->rrname);
      g_list_free_full (records, (GDestroyNotify) g_variant_unref);
      return;
    }
  net_resolve_order_srv (targets, n, l->random, l->random_data);

  l->via_srv = TRUE;
  l->n_names = MIN (n, NET_RESOLVE_MAX_SRV_TARGETS);
  l->names = g_new (char *, l->n_names);
  l->ports = g_new (guint16, l->n_names);
  for (guint i = 0; i < l->n_names; i++)
    {
      l->names[i] = g_strdup (targets[i].target);
      l->ports[i] = targets[i].port;
    }
  /* The targets point into the records: copied above, freed now. */
  g_list_free_full (records, (GDestroyNotify) g_variant_unref);
  resolve_names (task);
}

void
net_resolve_async (gboolean msrps, const char *host, guint16 port,
                   NetResolveRandomFunc random, gpointer random_data,
                   GCancellable *cancellable, GAsyncReadyCallback callback,
                   gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GInetAddress) literal = NULL;
  Lookup *l;

  g_return_if_fail (host != NULL);
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, net_resolve_async);
  l = g_new0 (Lookup, 1);
  l->host = g_strdup (host);
  l->random = random;
  l->random_data = random_data;
  g_task_set_task_data (task, l, (GDestroyNotify) lookup_free);

  /* RFC 4975 section 6.2: "If the authority component contains a numeric
   * IP address and port, they MUST be used as listed." */
  literal = g_inet_address_new_from_string (host);
  if (literal != NULL)
    {
      g_autoptr (GPtrArray) out = address_list ();

      if (port == 0)
        {
          /* RFC 4975 section 6, RFC 4976 section 8. */
          g_task_return_new_error (task, G_IO_ERROR,
                                   G_IO_ERROR_INVALID_ARGUMENT,
                                   "%s is an IP address without a port: an "
                                   "MSRP URI must give one (RFC 4975 "
                                   "section 6)",
                                   host);
          return;
        }
      g_ptr_array_add (out, g_inet_socket_address_new (literal, port));
      g_task_return_pointer (task, g_steal_pointer (&out),
                             (GDestroyNotify) g_ptr_array_unref);
      return;
    }

  l->resolver = g_resolver_get_default ();
  /* A name with a port: A/AAAA (RFC 4975 section 6.2, RFC 4976 section 8);
   * an msrp name without one: no _msrp service exists (RFC 4976 section
   * 8), port 2855. */
  if (port != 0 || !msrps)
    {
      resolve_host (task, port != 0 ? port : NET_RESOLVE_MSRP_PORT);
      return;
    }
  /* RFC 4976 section 8: "perform a DNS SRV [RFC 2782] lookup for the
   * '_msrps' service and '_tcp' transport at the domain name". */
  l->rrname = g_strdup_printf ("_msrps._tcp.%s", host);
  g_resolver_lookup_records_async (l->resolver, l->rrname,
                                   G_RESOLVER_RECORD_SRV, cancellable, on_srv,
                                   g_steal_pointer (&task));
}

GPtrArray *
net_resolve_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == net_resolve_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
