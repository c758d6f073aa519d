/* testresolver.c: see testresolver.h. */
#include "testresolver.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Answers by name (see the header), and the queries made. */
struct _TestResolver
{
  GResolver parent;
  GHashTable *hosts;
  GHashTable *srv;
  GString *log;
};

G_DEFINE_TYPE (TestResolver, test_resolver, G_TYPE_RESOLVER)

static void
test_resolver_finalize (GObject *object)
{
  TestResolver *self = TEST_RESOLVER (object);

  g_hash_table_unref (self->hosts);
  g_hash_table_unref (self->srv);
  g_string_free (self->log, TRUE);
  G_OBJECT_CLASS (test_resolver_parent_class)->finalize (object);
}

/* The answer for @key in @table, its delay taken off. */
static const char *
answer (GHashTable *table, const char *key, guint *delay_ms)
{
  const char *v = g_hash_table_lookup (table, key);

  *delay_ms = 0;
  if (v != NULL && v[0] == '@')
    {
      char *end;

      *delay_ms = (guint) strtoul (v + 1, &end, 10);
      v = end + 1;
    }
  return v;
}

static gboolean
is_error (const char *v, GError **error, const char *what)
{
  if (v == NULL || strcmp (v, "!notfound") == 0)
    {
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                   "No DNS record of the requested type for “%s”", what);
      return TRUE;
    }
  if (strcmp (v, "!temporary") == 0)
    {
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE,
                   "Temporarily unable to resolve “%s”", what);
      return TRUE;
    }
  return FALSE;
}

typedef struct
{
  GTask *task;
  gpointer result;
  GDestroyNotify free_result;
  GError *error;
} Late;

static gboolean
return_late (gpointer data)
{
  Late *late = data;

  if (late->error != NULL)
    g_task_return_error (late->task, late->error);
  else
    g_task_return_pointer (late->task, late->result, late->free_result);
  g_object_unref (late->task);
  g_free (late);
  return G_SOURCE_REMOVE;
}

/* Return now (GTask delivers it at the next iteration) or @delay_ms
 * later, on the thread-default context. */
static void
give (GTask *task, guint delay_ms, gpointer result, GDestroyNotify free_result,
      GError *error)
{
  Late *late;
  GSource *src;

  if (delay_ms == 0)
    {
      if (error != NULL)
        g_task_return_error (task, error);
      else
        g_task_return_pointer (task, result, free_result);
      g_object_unref (task);
      return;
    }
  late = g_new (Late, 1);
  *late = (Late){ task, result, free_result, error };
  src = g_timeout_source_new (delay_ms);
  g_source_set_callback (src, return_late, late, NULL);
  g_source_attach (src, g_main_context_get_thread_default ());
  g_source_unref (src);
}

static void
host_lookup_async (GResolver *resolver, const char *hostname,
                   GCancellable *cancellable, GAsyncReadyCallback callback,
                   gpointer user_data)
{
  TestResolver *self = TEST_RESOLVER (resolver);
  GTask *task = g_task_new (resolver, cancellable, callback, user_data);
  GError *error = NULL;
  GList *addrs = NULL;
  guint delay;
  const char *v = answer (self->hosts, hostname, &delay);

  g_string_append_printf (self->log, "A %s\n", hostname);
  if (!is_error (v, &error, hostname))
    {
      g_auto (GStrv) items = g_strsplit (v, " ", -1);

      for (guint i = 0; items[i] != NULL; i++)
        addrs =
            g_list_append (addrs, g_inet_address_new_from_string (items[i]));
    }
  give (task, delay, addrs, (GDestroyNotify) g_resolver_free_addresses, error);
}

static GList *
host_lookup_finish (GResolver *resolver, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
free_records (GList *records)
{
  g_list_free_full (records, (GDestroyNotify) g_variant_unref);
}

static void
records_lookup_async (GResolver *resolver, const char *rrname,
                      GResolverRecordType type, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  TestResolver *self = TEST_RESOLVER (resolver);
  GTask *task = g_task_new (resolver, cancellable, callback, user_data);
  GError *error = NULL;
  GList *records = NULL;
  guint delay;
  const char *v = answer (self->srv, rrname, &delay);

  ck_assert_int_eq (type, G_RESOLVER_RECORD_SRV);
  g_string_append_printf (self->log, "SRV %s\n", rrname);
  if (!is_error (v, &error, rrname))
    {
      g_auto (GStrv) items = g_strsplit (v, ",", -1);

      for (guint i = 0; items[i] != NULL; i++)
        {
          guint prio, weight, port;
          char target[256];

          ck_assert_int_eq (sscanf (items[i], " %u %u %u %255s", &prio,
                                    &weight, &port, target),
                            4);
          records = g_list_append (
              records, g_variant_ref_sink (g_variant_new (
                           "(qqqs)", (guint16) prio, (guint16) weight,
                           (guint16) port, target)));
        }
    }
  give (task, delay, records, (GDestroyNotify) free_records, error);
}

static GList *
records_lookup_finish (GResolver *resolver, GAsyncResult *result,
                       GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_resolver_class_init (TestResolverClass *klass)
{
  GResolverClass *rc = G_RESOLVER_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = test_resolver_finalize;
  rc->lookup_by_name_async = host_lookup_async;
  rc->lookup_by_name_finish = host_lookup_finish;
  rc->lookup_records_async = records_lookup_async;
  rc->lookup_records_finish = records_lookup_finish;
}

static void
test_resolver_init (TestResolver *self)
{
  self->hosts =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->srv = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->log = g_string_new (NULL);
}

/* --- the API
 * ------------------------------------------------------------------ */

TestResolver *
test_resolver_install (void)
{
  TestResolver *self = g_object_new (TEST_TYPE_RESOLVER, NULL);

  g_resolver_set_default (G_RESOLVER (self));
  return self;
}

void
test_resolver_set_host (TestResolver *self, const char *name,
                        const char *answer)
{
  g_hash_table_insert (self->hosts, g_strdup (name), g_strdup (answer));
}

void
test_resolver_set_srv (TestResolver *self, const char *rrname,
                       const char *answer)
{
  g_hash_table_insert (self->srv, g_strdup (rrname), g_strdup (answer));
}

const char *
test_resolver_get_log (TestResolver *self)
{
  return self->log->str;
}

void
test_resolver_clear_log (TestResolver *self)
{
  g_string_truncate (self->log, 0);
}
