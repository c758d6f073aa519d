#include "mc-util.h"

#include "net-addr.h"

#include <errno.h>
#include <math.h>
#include <string.h>

GQuark
mc_util_error_quark (void)
{
  return g_quark_from_static_string ("mc-util-error-quark");
}

/* --- McRanges ---------------------------------------------------------- */

typedef struct
{
  guint64 start;
  guint64 end;
} Range;

struct _McRanges
{
  GArray *ranges; /* Range, sorted by start, disjoint and not adjacent */
};

McRanges *
mc_ranges_new (void)
{
  McRanges *r = g_new0 (McRanges, 1);

  r->ranges = g_array_new (FALSE, FALSE, sizeof (Range));
  return r;
}

void
mc_ranges_free (McRanges *ranges)
{
  if (ranges == NULL)
    return;
  g_array_unref (ranges->ranges);
  g_free (ranges);
}

void
mc_ranges_add (McRanges *ranges, guint64 start, guint64 end)
{
  GArray *a;
  guint i, j;
  Range merged;

  g_return_if_fail (ranges != NULL);
  g_return_if_fail (start >= 1 && start <= end);

  a = ranges->ranges;
  /* The first range that ends at or after start - 1 (touching counts). */
  for (i = 0; i < a->len; i++)
    if (g_array_index (a, Range, i).end + 1 >= start)
      break;
  merged.start = start;
  merged.end = end;
  /* Swallow every range that overlaps or touches [start, end]. */
  for (j = i; j < a->len; j++)
    {
      const Range *r = &g_array_index (a, Range, j);

      if (end != G_MAXUINT64 && r->start > end + 1)
        break;
      merged.start = MIN (merged.start, r->start);
      merged.end = MAX (merged.end, r->end);
    }
  if (j > i)
    g_array_remove_range (a, i, j - i);
  g_array_insert_val (a, i, merged);
}

gboolean
mc_ranges_covers (const McRanges *ranges, guint64 start, guint64 end)
{
  g_return_val_if_fail (ranges != NULL, FALSE);

  if (end < start)
    return TRUE;
  for (guint i = 0; i < ranges->ranges->len; i++)
    {
      const Range *r = &g_array_index (ranges->ranges, Range, i);

      if (r->start <= start && end <= r->end)
        return TRUE;
    }
  return FALSE;
}

guint64
mc_ranges_get_covered (const McRanges *ranges)
{
  guint64 total = 0;

  g_return_val_if_fail (ranges != NULL, 0);
  for (guint i = 0; i < ranges->ranges->len; i++)
    {
      const Range *r = &g_array_index (ranges->ranges, Range, i);

      total += r->end - r->start + 1;
    }
  return total;
}

guint
mc_ranges_get_n (const McRanges *ranges)
{
  g_return_val_if_fail (ranges != NULL, 0);
  return ranges->ranges->len;
}

/* --- McIdSet ----------------------------------------------------------- */

struct _McIdSet
{
  guint capacity;
  GHashTable *set; /* id -> the same string, owned by order */
  GQueue order;    /* oldest first */
};

McIdSet *
mc_id_set_new (guint capacity)
{
  McIdSet *s;

  g_return_val_if_fail (capacity >= 1, NULL);
  s = g_new0 (McIdSet, 1);
  s->capacity = capacity;
  s->set = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&s->order);
  return s;
}

void
mc_id_set_free (McIdSet *set)
{
  if (set == NULL)
    return;
  g_hash_table_unref (set->set);
  g_queue_clear_full (&set->order, g_free);
  g_free (set);
}

void
mc_id_set_add (McIdSet *set, const char *id)
{
  char *copy;

  g_return_if_fail (set != NULL && id != NULL);
  if (g_hash_table_contains (set->set, id))
    return;
  if (set->order.length >= set->capacity)
    {
      char *oldest = g_queue_pop_head (&set->order);

      g_hash_table_remove (set->set, oldest);
      g_free (oldest);
    }
  copy = g_strdup (id);
  g_queue_push_tail (&set->order, copy);
  g_hash_table_add (set->set, copy);
}

gboolean
mc_id_set_contains (const McIdSet *set, const char *id)
{
  g_return_val_if_fail (set != NULL, FALSE);
  return id != NULL && g_hash_table_contains (set->set, id);
}

guint
mc_id_set_get_size (const McIdSet *set)
{
  g_return_val_if_fail (set != NULL, 0);
  return set->order.length;
}

/* --- statistics -------------------------------------------------------- */

gint64
mc_percentile (const gint64 *sorted, gsize n, double percent)
{
  double rank;
  gsize idx;

  if (n == 0)
    return 0;
  g_return_val_if_fail (sorted != NULL, 0);
  if (!(percent > 0.0))
    percent = 0.0;
  if (percent > 100.0)
    percent = 100.0;
  /* Nearest rank: ceil (p / 100 * n), 1-based; rank 0 means the first. */
  rank = ceil (percent / 100.0 * (double) n);
  idx = rank < 1.0 ? 0 : (gsize) rank - 1;
  if (idx >= n)
    idx = n - 1;
  return sorted[idx];
}

/* --- command line values ----------------------------------------------- */

gboolean
mc_parse_size (const char *what, const char *text, guint64 *out,
               GError **error)
{
  const char *p = text;
  guint64 value = 0;
  guint64 mult = 1;

  if (text == NULL || !g_ascii_isdigit (*p))
    goto bad;
  while (g_ascii_isdigit (*p))
    {
      guint d = (guint) (*p - '0');

      if (value > (G_MAXUINT64 - d) / 10)
        goto bad;
      value = value * 10 + d;
      p++;
    }
  switch (*p)
    {
    case 'k':
    case 'K':
      mult = 1024;
      p++;
      break;
    case 'm':
    case 'M':
      mult = 1024 * 1024;
      p++;
      break;
    case 'g':
    case 'G':
      mult = 1024 * 1024 * 1024;
      p++;
      break;
    default:
      break;
    }
  if (mult > 1 && *p == 'i')
    {
      p++;
      if (*p != 'B')
        goto bad;
    }
  if (*p == 'B' || *p == 'b')
    p++;
  if (*p != '\0' || (mult > 1 && value > G_MAXUINT64 / mult))
    goto bad;
  *out = value * mult;
  return TRUE;

bad:
  g_set_error (error, MC_UTIL_ERROR, MC_UTIL_ERROR_INVALID,
               "%s: '%s' is not a byte count (digits with an optional k, M "
               "or G suffix)",
               what, text != NULL ? text : "");
  return FALSE;
}

gboolean
mc_parse_duration (const char *what, const char *text, gint64 *out_us,
                   GError **error)
{
  char *end = NULL;
  double v;
  double scale = 1e6;

  if (text == NULL || !(g_ascii_isdigit (*text) || *text == '.'))
    goto bad;
  errno = 0;
  v = g_ascii_strtod (text, &end);
  if (errno != 0 || end == text)
    goto bad;
  if (g_strcmp0 (end, "ms") == 0)
    scale = 1e3;
  else if (g_strcmp0 (end, "m") == 0)
    scale = 60e6;
  else if (*end != '\0' && g_strcmp0 (end, "s") != 0)
    goto bad;
  if (!isfinite (v) || v < 0 || v * scale > 86400e6)
    goto bad;
  *out_us = (gint64) llround (v * scale);
  return TRUE;

bad:
  g_set_error (error, MC_UTIL_ERROR, MC_UTIL_ERROR_INVALID,
               "%s: '%s' is not a duration (seconds, e.g. 30, 0.5, 250ms; at "
               "most one day)",
               what, text != NULL ? text : "");
  return FALSE;
}

GSocketAddress *
mc_parse_listen_address (const char *text, GError **error)
{
  GSocketAddress *addr =
      net_addr_parse_bindable (text != NULL ? text : "", error);

  if (addr == NULL)
    g_prefix_error (error, "--listen: ");
  return addr;
}

char **
mc_split_list (const char *text)
{
  g_auto (GStrv) parts = g_strsplit_set (text != NULL ? text : "", " ,\t", -1);
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_ptr_array_add (out, g_strdup (parts[i]));
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}
