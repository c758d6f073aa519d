/* logtap.c: see logtap.h. */
#include "logtap.h"

#include <stdarg.h>
#include <string.h>

#include "gw-log.h"

static GPtrArray *lines;

static void
on_log (const char *event, const char *line, gpointer data)
{
  g_ptr_array_add (lines, g_strdup (line));
}

GPtrArray *
logtap_start (void)
{
  lines = g_ptr_array_new_with_free_func (g_free);
  gw_log_set_tap (on_log, NULL);
  return lines;
}

void
logtap_stop (void)
{
  gw_log_set_tap (NULL, NULL);
  g_clear_pointer (&lines, g_ptr_array_unref);
}

guint
logtap_count (const char *event, ...)
{
  g_autofree char *key = g_strdup_printf ("\"event\":\"%s\"", event);
  guint n = 0;

  for (guint i = 0; i < lines->len; i++)
    {
      const char *line = lines->pdata[i];
      const char *part;
      gboolean all = strstr (line, key) != NULL;
      va_list ap;

      va_start (ap, event);
      while (all && (part = va_arg (ap, const char *)) != NULL)
        all = strstr (line, part) != NULL;
      va_end (ap);
      n += all;
    }
  return n;
}
