#include "gw-log.h"

#include "net-json.h"
#include "net-loop.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A field as the writers see it: key and value as text. */
typedef struct
{
  const char *key;
  const char *value;
  gboolean is_number; /* written bare in JSON: ints and booleans */
} Field;

/* Fields are kept as offsets into one text buffer: an event costs two
 * allocations however many fields it has (GwLogEvent, and the arena when
 * it grows past its first size), not two per field. */
#define MAX_FIELDS 32

typedef struct
{
  gsize key;
  gsize value;
  gboolean is_number;
} Slot;

struct _GwLogEvent
{
  GLogLevelFlags level;
  gsize event;    /* offset of the name in the arena */
  GString *arena; /* NUL-separated texts */
  guint n_fields;
  Slot fields[MAX_FIELDS];
};

/* Lines waiting for the end of the loop's turn (gw_log_attach()). */
#define BUFFER_FLUSH_AT (64 * 1024)

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
  gboolean buffered; /* lines go out at turn ends (gw_log_attach()) */
  NetLoop *loop;     /* ... of this loop (weak) */
  GThread *owner;    /* ... run by this thread */
  GString *buffer;   /* ... until then */
  gint64 stamp_sec;  /* the second stamp_text shows */
  char stamp_text[32];
} log_state = {
  .format = GW_LOG_FORMAT_JSON,
  .max_level = G_LOG_LEVEL_INFO,
  .sink = GW_LOG_SINK_STDERR,
  .stamp_sec = -1,
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

/* "2026-12-07T03:21:51.123Z"; the date and time of day are formatted once
 * a second, not once a line.  Called with the lock held. */
static void
append_timestamp (GString *out)
{
  gint64 now = g_get_real_time ();
  gint64 sec = now / G_USEC_PER_SEC;

  if (sec != log_state.stamp_sec)
    {
      g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (sec);
      g_autofree char *text = g_date_time_format (t, "%Y-%m-%dT%H:%M:%S");

      g_strlcpy (log_state.stamp_text, text, sizeof log_state.stamp_text);
      log_state.stamp_sec = sec;
    }
  g_string_append (out, log_state.stamp_text);
  g_string_append_printf (out, ".%03dZ", (int) (now % G_USEC_PER_SEC / 1000));
}

/* Append one line (no newline) to @out. */
static void
append_line (GString *out, GwLogFormat format, GLogLevelFlags level,
             const char *event, const Field *fields, guint n_fields,
             const char *message)
{
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
      for (guint i = 0; i < n_fields; i++)
        {
          const Field *f = &fields[i];

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
      for (guint i = 0; i < n_fields; i++)
        {
          const Field *f = &fields[i];

          g_string_append_printf (out, " %s=", f->key);
          text_append_value (out, f->value);
        }
      if (message != NULL && *message != '\0')
        {
          g_string_append (out, " msg=");
          net_json_append_string (out, message);
        }
    }
}

/* One write(2) for @len bytes of whole lines, so that concurrent writers
 * never interleave mid-line. */
static void
write_all (const char *p, gsize len)
{
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
flush_locked (void)
{
  if (log_state.buffer != NULL && log_state.buffer->len > 0)
    {
      write_all (log_state.buffer->str, log_state.buffer->len);
      g_string_truncate (log_state.buffer, 0);
    }
}

static void
push_field (GArray *lf, const char *key, const char *value)
{
  GLogField f = { key, value, -1 };

  g_array_append_val (lf, f);
}

static void
journal_write (GLogLevelFlags level, const char *event, const Field *fields,
               guint n_fields, const char *message)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) lf = g_array_new (FALSE, FALSE, sizeof (GLogField));

  push_field (lf, "MESSAGE", message != NULL ? message : event);
  push_field (lf, "PRIORITY", level_to_priority (level));
  push_field (lf, "GLIB_DOMAIN", "gateway");
  push_field (lf, "EVENT", event);
  if (log_state.instance != NULL)
    push_field (lf, "INSTANCE", log_state.instance);
  for (guint i = 0; i < n_fields; i++)
    {
      const Field *fl = &fields[i];
      char *key = g_ascii_strup (fl->key, -1);

      g_ptr_array_add (keys, key);
      push_field (lf, key, fl->value);
    }
  g_log_writer_journald (level, (const GLogField *) lf->data, lf->len, NULL);
}

/* Write one event: to the journal at once; to stderr at the end of the
 * loop's turn when the stream is attached to a loop (errors and warnings,
 * and a buffer grown past BUFFER_FLUSH_AT, at once), else at once. */
static void
output (GLogLevelFlags level, const char *event, const Field *fields,
        guint n_fields, const char *message)
{
  g_mutex_lock (&log_state.lock);
  if (log_state.sink == GW_LOG_SINK_JOURNAL)
    {
      journal_write (level, event, fields, n_fields, message);
    }
  else
    {
      if (log_state.buffer == NULL)
        log_state.buffer = g_string_sized_new (BUFFER_FLUSH_AT + 4096);
      append_line (log_state.buffer, log_state.format, level, event, fields,
                   n_fields, message);
      g_string_append_c (log_state.buffer, '\n');
      if (!log_state.buffered || log_state.owner != g_thread_self () ||
          log_state.buffer->len >= BUFFER_FLUSH_AT ||
          (level &
           (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
        flush_locked ();
      else
        /* Written outside a turn (a signal, the control plane): one runs
         * soon, whatever the data plane is doing. */
        net_loop_request_turn (log_state.loop);
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
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  Field out[MAX_FIELDS] = { { "domain", NULL, FALSE } };
  guint n = 1;

  if (!level_enabled (level) &&
      !(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)))
    return G_LOG_WRITER_HANDLED;
  for (gsize i = 0; i < n_fields && n < MAX_FIELDS; i++)
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
          out[n++] = (Field){ lower, fields[i].value, FALSE };
        }
    }
  out[0].value = domain != NULL ? domain : "default";
  output (level, event, out, n, message);
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
  GwLogEvent *ev;

  /* A level that is not written costs nothing more: every other call
   * takes the NULL. */
  if (!level_enabled (level))
    return NULL;
  ev = g_new (GwLogEvent, 1);
  ev->level = level;
  ev->arena = g_string_sized_new (256);
  ev->n_fields = 0;
  ev->event = 0;
  g_string_append_len (ev->arena, event, (gssize) strlen (event) + 1);
  return ev;
}

static gsize
arena_add (GwLogEvent *ev, const char *text)
{
  gsize at = ev->arena->len;

  g_string_append_len (ev->arena, text, (gssize) strlen (text) + 1);
  return at;
}

static void
add_field (GwLogEvent *ev, const char *key, const char *value,
           gboolean is_number)
{
  Slot *f;

  if (ev->n_fields == MAX_FIELDS)
    return;
  f = &ev->fields[ev->n_fields++];
  f->key = arena_add (ev, key);
  f->value = arena_add (ev, value);
  f->is_number = is_number;
}

void
gw_log_event_add_str (GwLogEvent *ev, const char *key, const char *value)
{
  if (ev != NULL && value != NULL)
    add_field (ev, key, value, FALSE);
}

void
gw_log_event_add_int (GwLogEvent *ev, const char *key, gint64 value)
{
  char text[24];

  if (ev == NULL)
    return;
  g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, value);
  add_field (ev, key, text, TRUE);
}

void
gw_log_event_add_bool (GwLogEvent *ev, const char *key, gboolean value)
{
  if (ev != NULL)
    add_field (ev, key, value ? "true" : "false", TRUE);
}

/* The fields of @ev as the writers take them (pointers into its arena,
 * valid until the next add). */
static guint
event_fields (const GwLogEvent *ev, Field *out)
{
  for (guint i = 0; i < ev->n_fields; i++)
    out[i] = (Field){ ev->arena->str + ev->fields[i].key,
                      ev->arena->str + ev->fields[i].value,
                      ev->fields[i].is_number };
  return ev->n_fields;
}

void
gw_log_event_emit (GwLogEvent *ev, const char *format, ...)
{
  g_autofree char *message = NULL;
  Field fields[MAX_FIELDS];
  guint n;
  va_list ap;

  if (ev == NULL)
    return;
  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  n = event_fields (ev, fields);
  output (ev->level, ev->arena->str + ev->event, fields, n, message);
  if (log_state.tap != NULL)
    {
      g_autoptr (GString) line = g_string_new (NULL);

      append_line (line, GW_LOG_FORMAT_JSON, ev->level,
                   ev->arena->str + ev->event, fields, n, message);
      log_state.tap (ev->arena->str + ev->event, line->str,
                     log_state.tap_data);
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
  GString *line = g_string_new (NULL);
  Field fields[MAX_FIELDS];
  guint n = event_fields (ev, fields);

  g_mutex_lock (&log_state.lock);
  append_line (line, format, ev->level, ev->arena->str + ev->event, fields, n,
               message);
  g_mutex_unlock (&log_state.lock);
  return g_string_free (line, FALSE);
}

void
gw_log_event_free (GwLogEvent *ev)
{
  if (ev == NULL)
    return;
  g_string_free (ev->arena, TRUE);
  g_free (ev);
}

static void
flush_at_turn_end (NetLoop *loop, gpointer data)
{
  gw_log_flush ();
}

void
gw_log_attach (NetLoop *loop)
{
  g_mutex_lock (&log_state.lock);
  log_state.buffered = TRUE;
  log_state.loop = loop;
  log_state.owner = g_thread_self ();
  g_mutex_unlock (&log_state.lock);
  net_loop_add_turn_hook (loop, flush_at_turn_end, NULL);
}

void
gw_log_flush (void)
{
  g_mutex_lock (&log_state.lock);
  flush_locked ();
  g_mutex_unlock (&log_state.lock);
}
