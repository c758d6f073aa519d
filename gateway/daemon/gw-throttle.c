/* gw-throttle.c: see gw-throttle.h.
 *
 * A hash table of entries by key, and the same entries in a queue by the
 * time they were last touched (a failure or a trust): the queue's head is
 * both the first to expire and the one pushed out at the cap, so expiry
 * and eviction cost O(1) each and no timer is needed. */
#include "gw-throttle.h"

#include <string.h>

/* The first back-off; each further failure doubles it. */
#define BACKOFF_FIRST_US G_USEC_PER_SEC

typedef struct
{
  char *key;
  guint failures;      /* judged, in the window */
  guint refused;       /* refused unjudged since the last failure */
  gint64 last_failure; /* 0: none in the window */
  gint64 blocked_until;
  gint64 touched; /* last failure or trust: the entry's age */
  char *trusted[GW_THROTTLE_MAX_TRUSTED];
  GList link; /* in GwThrottle.by_age; data: the entry */
} Entry;

struct _GwThrottle
{
  guint free_failures;
  gint64 window_us;
  gint64 backoff_max_us;
  guint capacity;
  GHashTable *entries; /* key -> Entry (owned) */
  GQueue by_age;       /* Entry, touched longest ago first */
};

static void
entry_free (gpointer p)
{
  Entry *e = p;

  g_free (e->key);
  for (guint i = 0; i < GW_THROTTLE_MAX_TRUSTED; i++)
    g_free (e->trusted[i]);
  g_free (e);
}

GwThrottle *
gw_throttle_new (guint free_failures, gint64 window_us, gint64 backoff_max_us,
                 guint capacity)
{
  GwThrottle *t;

  g_return_val_if_fail (window_us > 0 && capacity > 0, NULL);
  g_return_val_if_fail (
      backoff_max_us >= BACKOFF_FIRST_US && backoff_max_us <= window_us, NULL);
  t = g_new0 (GwThrottle, 1);
  t->free_failures = free_failures;
  t->window_us = window_us;
  t->backoff_max_us = backoff_max_us;
  t->capacity = capacity;
  t->entries =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  g_queue_init (&t->by_age);
  return t;
}

void
gw_throttle_free (GwThrottle *t)
{
  if (t == NULL)
    return;
  /* The queue's links are the entries' own: they go with the table. */
  g_hash_table_unref (t->entries);
  g_free (t);
}

static void
entry_remove (GwThrottle *t, Entry *e)
{
  g_queue_unlink (&t->by_age, &e->link);
  g_hash_table_remove (t->entries, e->key);
}

/* Drop the entries untouched for a window at @now. */
static void
expire (GwThrottle *t, gint64 now)
{
  Entry *e;

  while ((e = g_queue_peek_head (&t->by_age)) != NULL &&
         now - e->touched >= t->window_us)
    entry_remove (t, e);
}

/* @key's entry, its failures forgotten if the window passed since the
 * last; NULL when there is none. */
static Entry *
lookup (GwThrottle *t, const char *key, gint64 now)
{
  Entry *e;

  expire (t, now);
  e = g_hash_table_lookup (t->entries, key);
  if (e != NULL && e->last_failure != 0 &&
      now - e->last_failure >= t->window_us)
    {
      e->failures = 0;
      e->refused = 0;
      e->last_failure = 0;
      e->blocked_until = 0;
    }
  return e;
}

/* @key's entry, made when there is none (pushing out the oldest at the
 * cap), touched at @now: to the back of the queue. */
static Entry *
touch (GwThrottle *t, const char *key, gint64 now)
{
  Entry *e = lookup (t, key, now);

  if (e == NULL)
    {
      Entry *oldest;

      if (g_hash_table_size (t->entries) >= t->capacity &&
          (oldest = g_queue_peek_head (&t->by_age)) != NULL)
        entry_remove (t, oldest);
      e = g_new0 (Entry, 1);
      e->key = g_strdup (key);
      e->link.data = e;
      g_hash_table_insert (t->entries, e->key, e);
    }
  else
    {
      g_queue_unlink (&t->by_age, &e->link);
    }
  e->touched = now;
  g_queue_push_tail_link (&t->by_age, &e->link);
  return e;
}

gint64
gw_throttle_wait (GwThrottle *t, const char *key, gint64 now)
{
  Entry *e;

  g_return_val_if_fail (t != NULL && key != NULL, 0);
  e = lookup (t, key, now);
  return e != NULL && e->blocked_until > now ? e->blocked_until - now : 0;
}

gint64
gw_throttle_fail (GwThrottle *t, const char *key, gint64 now, guint *failures,
                  guint *refused)
{
  Entry *e;
  gint64 backoff = 0;

  g_return_val_if_fail (t != NULL && key != NULL, 0);
  e = touch (t, key, now);
  if (e->failures < G_MAXUINT)
    e->failures++;
  e->last_failure = now;
  if (t->free_failures > 0 && e->failures > t->free_failures)
    {
      guint over = e->failures - t->free_failures - 1;

      /* 1 s, 2 s, 4 s ... up to backoff-max; the shift is bounded first. */
      backoff = over >= 40 ? t->backoff_max_us
                           : MIN (BACKOFF_FIRST_US << over, t->backoff_max_us);
      e->blocked_until = now + backoff;
    }
  if (failures != NULL)
    *failures = e->failures;
  if (refused != NULL)
    *refused = e->refused;
  e->refused = 0;
  return backoff;
}

guint
gw_throttle_refuse (GwThrottle *t, const char *key)
{
  Entry *e;

  g_return_val_if_fail (t != NULL && key != NULL, 0);
  e = g_hash_table_lookup (t->entries, key);
  if (e == NULL)
    return 0;
  if (e->refused < G_MAXUINT)
    e->refused++;
  return e->refused;
}

void
gw_throttle_trust (GwThrottle *t, const char *key, const char *tag, gint64 now)
{
  Entry *e;

  g_return_if_fail (t != NULL && key != NULL && tag != NULL);
  e = touch (t, key, now);
  for (guint i = 0; i < GW_THROTTLE_MAX_TRUSTED; i++)
    if (g_strcmp0 (e->trusted[i], tag) == 0)
      return;
  /* The oldest goes: slot 0; the newest is last. */
  g_free (e->trusted[0]);
  memmove (&e->trusted[0], &e->trusted[1],
           (GW_THROTTLE_MAX_TRUSTED - 1) * sizeof e->trusted[0]);
  e->trusted[GW_THROTTLE_MAX_TRUSTED - 1] = g_strdup (tag);
}

gboolean
gw_throttle_is_trusted (GwThrottle *t, const char *key, const char *tag,
                        gint64 now)
{
  Entry *e;

  g_return_val_if_fail (t != NULL && key != NULL, FALSE);
  e = lookup (t, key, now);
  if (e == NULL || tag == NULL)
    return FALSE;
  for (guint i = 0; i < GW_THROTTLE_MAX_TRUSTED; i++)
    if (g_strcmp0 (e->trusted[i], tag) == 0)
      return TRUE;
  return FALSE;
}

guint
gw_throttle_size (GwThrottle *t, gint64 now)
{
  g_return_val_if_fail (t != NULL, 0);
  expire (t, now);
  return g_hash_table_size (t->entries);
}
