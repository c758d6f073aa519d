#include "gw-log.h"

#include "net-json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  char *key;
  char *value;
  gboolean is_number; /* written bare in JSON: ints and booleans */
} Field;

struct _GwLogEvent
{
  GLogLevelFlags level;
  char *event;
  GArray *fields; /* Field */
};

/* The stream's settings: written by the main thread at start-up and reload,
 * read by whichever thread logs (GLib may log from its worker threads). */
static struct
{
  GMutex lock;
  GwLogFormat format;
  GLogLevelFlags max_level; /* numerically largest level still written */
  GwLogSink sink;
  char *instance;
  GwLogTapFunc tap;
  gpointer tap_data;
} log_state = {
  .format = GW_LOG_FORMAT_JSON,
  .max_level = G_LOG_LEVEL_INFO,
  .sink = GW_LOG_SINK_STDERR,
};

static const struct
{
  const char *name;
  GLogLevelFlags level;
} level_names[] = {
  { "error", G_LOG_LEVEL_CRITICAL },  { "critical", G_LOG_LEVEL_CRITICAL },
  { "warning", G_LOG_LEVEL_WARNING }, { "notice", G_LOG_LEVEL_MESSAGE },
  { "message", G_LOG_LEVEL_MESSAGE }, { "info", G_LOG_LEVEL_INFO },
  { "debug", G_LOG_LEVEL_DEBUG },
};

gboolean
gw_log_format_parse (const char *text, GwLogFormat *out, GError **error)
{
  if (g_strcmp0 (text, "json") == 0)
    *out = GW_LOG_FORMAT_JSON;
  else if (g_strcmp0 (text, "text") == 0)
    *out = GW_LOG_FORMAT_TEXT;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "log format '%s' is neither 'json' nor 'text'", text);
      return FALSE;
    }
  return TRUE;
}

gboolean
gw_log_level_parse (const char *text, GLogLevelFlags *out, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (level_names); i++)
    if (g_ascii_strcasecmp (text, level_names[i].name) == 0)
      {
        *out = level_names[i].level;
        return TRUE;
      }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "log level '%s' is not one of error, warning, notice, info, "
               "debug",
               text);
  return FALSE;
}

static const char *
level_to_string (GLogLevelFlags level)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    return "error";
  if (level & G_LOG_LEVEL_WARNING)
    return "warning";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "notice";
  if (level & G_LOG_LEVEL_INFO)
    return "info";
  return "debug";
}

/* syslog priorities, as the journal's PRIORITY field wants them. */
static const char *
level_to_priority (GLogLevelFlags level)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    return "3";
  if (level & G_LOG_LEVEL_WARNING)
    return "4";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "5";
  if (level & G_LOG_LEVEL_INFO)
    return "6";
  return "7";
}

static gboolean
level_enabled (GLogLevelFlags level)
{
  GLogLevelFlags lowest = level & G_LOG_LEVEL_MASK;

  /* GLib's levels are bits, most severe lowest: compare the lowest bit set. */
  lowest = lowest & (~lowest + 1);
  return lowest != 0 && lowest <= log_state.max_level;
}

/* Text values are quoted when they hold a space, a quote or an '='. */
static void
text_append_value (GString *out, const char *s)
{
  if (*s != '\0' && strpbrk (s, " \"=\t\r\n") == NULL)
    {
      g_autofree char *valid = g_utf8_make_valid (s, -1);
      g_string_append (out, valid);
      return;
    }
  net_json_append_string (out, s);
}

static void
append_timestamp (GString *out)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *ts = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");

  g_string_append_printf (out, "%s.%03dZ", ts,
                          g_date_time_get_microsecond (now) / 1000);
}

static char *
format_line (GwLogFormat format, GLogLevelFlags level, const char *event,
             const GArray *fields, const char *message)
{
  GString *out = g_string_sized_new (256);

  if (format == GW_LOG_FORMAT_JSON)
    {
      g_string_append (out, "{\"ts\":\"");
      append_timestamp (out);
      g_string_append_printf (
          out, "\",\"level\":\"%s\",\"event\":", level_to_string (level));
      net_json_append_string (out, event);
      if (log_state.instance != NULL)
        {
          g_string_append (out, ",\"instance\":");
          net_json_append_string (out, log_state.instance);
        }
      for (guint i = 0; fields != NULL && i < fields->len; i++)
        {
          const Field *f = &g_array_index (fields, Field, i);

          g_string_append_c (out, ',');
          net_json_append_string (out, f->key);
          g_string_append_c (out, ':');
          if (f->is_number)
            g_string_append (out, f->value);
          else
            net_json_append_string (out, f->value);
        }
      g_string_append (out, ",\"msg\":");
      net_json_append_string (out, message != NULL ? message : "");
      g_string_append_c (out, '}');
    }
  else
    {
      append_timestamp (out);
      g_string_append_printf (out, " %s %s", level_to_string (level), event);
      for (guint i = 0; fields != NULL && i < fields->len; i++)
        {
          const Field *f = &g_array_index (fields, Field, i);

          g_string_append_printf (out, " %s=", f->key);
          text_append_value (out, f->value);
        }
      if (message != NULL && *message != '\0')
        {
          g_string_append (out, " msg=");
          net_json_append_string (out, message);
        }
    }
  return g_string_free (out, FALSE);
}

static void
write_line (const char *line)
{
  /* One write per line so concurrent writers never interleave mid-line. */
  g_autofree char *with_nl = g_strconcat (line, "\n", NULL);
  gsize len = strlen (with_nl);
  const char *p = with_nl;

  while (len > 0)
    {
      ssize_t n = write (STDERR_FILENO, p, len);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return; /* nowhere left to report it */
        }
      p += n;
      len -= (gsize) n;
    }
}

static void
journal_write (GLogLevelFlags level, const char *event, const GArray *fields,
               const char *message)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) lf = g_array_new (FALSE, FALSE, sizeof (GLogField));
  GLogField f;

#define PUSH(k, v)                                                            \
  (f.key = (k), f.value = (v), f.length = -1, g_array_append_val (lf, f))
  PUSH ("MESSAGE", message != NULL ? message : event);
  PUSH ("PRIORITY", level_to_priority (level));
  PUSH ("GLIB_DOMAIN", "gateway");
  PUSH ("EVENT", event);
  if (log_state.instance != NULL)
    PUSH ("INSTANCE", log_state.instance);
  for (guint i = 0; fields != NULL && i < fields->len; i++)
    {
      const Field *fl = &g_array_index (fields, Field, i);
      char *key = g_ascii_strup (fl->key, -1);

      g_ptr_array_add (keys, key);
      PUSH (key, fl->value);
    }
#undef PUSH
  g_log_writer_journald (level, (const GLogField *) lf->data, lf->len, NULL);
}

static void
output (GLogLevelFlags level, const char *event, const GArray *fields,
        const char *message)
{
  g_autofree char *line = NULL;

  g_mutex_lock (&log_state.lock);
  if (log_state.sink == GW_LOG_SINK_JOURNAL)
    journal_write (level, event, fields, message);
  else
    {
      line = format_line (log_state.format, level, event, fields, message);
      write_line (line);
    }
  g_mutex_unlock (&log_state.lock);
}

/* Records from GLib's structured log: plain g_log()/g_warning() from GLib,
 * libnice or our libraries are written as event "log" with their domain,
 * so the stream stays one format.  A library that logs an event of its own
 * without depending on this module (net/: accept_failed) gives it an EVENT
 * field; its other upper-case fields become the event's fields, lower-cased
 * ("ADDR" -> "addr"). */
static GLogWriterOutput
writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
        gpointer user_data)
{
  const char *message = NULL;
  const char *domain = NULL;
  const char *event = "log";
  g_autoptr (GArray) out = NULL;
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  Field f = { 0 };

  if (!level_enabled (level) &&
      !(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)))
    return G_LOG_WRITER_HANDLED;
  out = g_array_new (FALSE, FALSE, sizeof (Field));
  f.key = (char *) "domain";
  g_array_append_val (out, f);
  for (gsize i = 0; i < n_fields; i++)
    {
      const char *key = fields[i].key;

      if (fields[i].length >= 0)
        continue; /* binary: not ours */
      if (g_strcmp0 (key, "MESSAGE") == 0)
        message = fields[i].value;
      else if (g_strcmp0 (key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (g_strcmp0 (key, "EVENT") == 0)
        event = fields[i].value;
      else if (g_strcmp0 (key, "PRIORITY") != 0 &&
               !g_str_has_prefix (key, "CODE_") &&
               !g_str_has_prefix (key, "SYSLOG_") && g_ascii_isupper (key[0]))
        {
          char *lower = g_ascii_strdown (key, -1);

          g_ptr_array_add (keys, lower);
          f.key = lower;
          f.value = (char *) fields[i].value;
          g_array_append_val (out, f);
        }
    }
  g_array_index (out, Field, 0).value =
      (char *) (domain != NULL ? domain : "default");
  output (level, event, out, message);
  return G_LOG_WRITER_HANDLED;
}

void
gw_log_init (GwLogFormat format, GLogLevelFlags level,
             const char *instance_name)
{
  static gsize once = 0;

  g_mutex_lock (&log_state.lock);
  log_state.format = format;
  log_state.max_level = level;
  g_free (log_state.instance);
  log_state.instance = g_strdup (instance_name);
  log_state.sink = g_log_writer_is_journald (STDERR_FILENO)
                       ? GW_LOG_SINK_JOURNAL
                       : GW_LOG_SINK_STDERR;
  g_mutex_unlock (&log_state.lock);

  if (g_once_init_enter (&once))
    {
      g_log_set_writer_func (writer, NULL, NULL);
      g_once_init_leave (&once, 1);
    }
}

void
gw_log_set_format (GwLogFormat format)
{
  g_mutex_lock (&log_state.lock);
  log_state.format = format;
  g_mutex_unlock (&log_state.lock);
}

void
gw_log_set_level (GLogLevelFlags level)
{
  g_mutex_lock (&log_state.lock);
  log_state.max_level = level;
  g_mutex_unlock (&log_state.lock);
}

GwLogSink
gw_log_get_sink (void)
{
  return log_state.sink;
}

GwLogEvent *
gw_log_event_new (GLogLevelFlags level, const char *event)
{
  GwLogEvent *ev = g_new0 (GwLogEvent, 1);

  ev->level = level;
  ev->event = g_strdup (event);
  ev->fields = g_array_new (FALSE, FALSE, sizeof (Field));
  return ev;
}

static void
add_field (GwLogEvent *ev, const char *key, char *value, gboolean is_number)
{
  Field f = { g_strdup (key), value, is_number };

  g_array_append_val (ev->fields, f);
}

void
gw_log_event_add_str (GwLogEvent *ev, const char *key, const char *value)
{
  g_return_if_fail (ev != NULL && key != NULL);
  if (value != NULL)
    add_field (ev, key, g_strdup (value), FALSE);
}

void
gw_log_event_add_int (GwLogEvent *ev, const char *key, gint64 value)
{
  g_return_if_fail (ev != NULL && key != NULL);
  add_field (ev, key, g_strdup_printf ("%" G_GINT64_FORMAT, value), TRUE);
}

void
gw_log_event_add_bool (GwLogEvent *ev, const char *key, gboolean value)
{
  g_return_if_fail (ev != NULL && key != NULL);
  add_field (ev, key, g_strdup (value ? "true" : "false"), TRUE);
}

void
gw_log_event_emit (GwLogEvent *ev, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  g_return_if_fail (ev != NULL);
  if (!level_enabled (ev->level))
    return;
  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  output (ev->level, ev->event, ev->fields, message);
  if (log_state.tap != NULL)
    {
      g_autofree char *line = format_line (GW_LOG_FORMAT_JSON, ev->level,
                                           ev->event, ev->fields, message);

      log_state.tap (ev->event, line, log_state.tap_data);
    }
}

void
gw_log_set_tap (GwLogTapFunc tap, gpointer user_data)
{
  g_mutex_lock (&log_state.lock);
  log_state.tap = tap;
  log_state.tap_data = user_data;
  g_mutex_unlock (&log_state.lock);
}

char *
gw_log_event_to_line (const GwLogEvent *ev, GwLogFormat format,
                      const char *message)
{
  return format_line (format, ev->level, ev->event, ev->fields, message);
}

void
gw_log_event_free (GwLogEvent *ev)
{
  if (ev == NULL)
    return;
  for (guint i = 0; i < ev->fields->len; i++)
    {
      Field *f = &g_array_index (ev->fields, Field, i);

      g_free (f->key);
      g_free (f->value);
    }
  g_array_unref (ev->fields);
  g_free (ev->event);
  g_free (ev);
}
