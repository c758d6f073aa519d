/* gw-throttle.h: failures counted per key over a window, with back-off.
 *
 * What the relay uses against password guessing (README "AUTH"): one
 * GwThrottle counts failed AUTHs per source address, another per user.  A
 * key may fail @free_failures times; each failure judged after that puts
 * it in back-off, 1 s after the first, doubling with each further one, up
 * to @backoff_max: while it lasts the key's attempts are not to be judged
 * at all (the caller refuses them unseen, gw_throttle_refuse()), so a key
 * gets at most one judged failure per back-off, whatever the number of
 * its attempts or connections.  A key's failures are forgotten once it
 * has had none for @window; its entry goes then too, unless it still
 * holds trusted tags.
 *
 * A tag (a source address) that succeeded for a key (a user) may be
 * trusted by it: the key's back-off does not stop that tag
 * (gw_throttle_is_trusted()), so a user whose name others guess keeps
 * getting in from where she got in before.  Trust lasts as long as the
 * entry, whose life every failure and every success extends by @window.
 *
 * Memory is bounded: at most @capacity entries (about 150 bytes and the
 * key each); a new key beyond it pushes out the entry touched least
 * recently, which is the least dangerous to forget: a key in back-off
 * failed no longer ago than @backoff_max.
 *
 * Time is the caller's, in microseconds of any monotonic clock; no I/O, no
 * logging, no timers: entries expire when the table is next touched. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Trusted tags kept per key; one more pushes out the oldest. */
#define GW_THROTTLE_MAX_TRUSTED 4

typedef struct _GwThrottle GwThrottle;

/* @free_failures: failures a key may have in @window_us without back-off
 * (0: no key is ever throttled); @backoff_max_us: the longest back-off
 * (at least 1 s, at most @window_us); @capacity: the most entries held
 * (at least 1).  (transfer full) */
G_GNUC_WARN_UNUSED_RESULT
GwThrottle *gw_throttle_new (guint free_failures, gint64 window_us,
                             gint64 backoff_max_us, guint capacity);
void gw_throttle_free (GwThrottle *throttle);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwThrottle, gw_throttle_free)

/* How long @key must still wait, in microseconds, before an attempt of
 * its is judged: 0 when it may be judged now. */
gint64 gw_throttle_wait (GwThrottle *throttle, const char *key, gint64 now);

/* A judged failure of @key at @now.  Returns the back-off it is in after
 * it (0: within its free failures).  @failures (out) (optional): its
 * failures in the window, this one included.  @refused (out) (optional):
 * its attempts refused unjudged since the last failure (then reset). */
gint64 gw_throttle_fail (GwThrottle *throttle, const char *key, gint64 now,
                         guint *failures, guint *refused);

/* An attempt of @key refused unjudged while it waits (counted for the next
 * gw_throttle_fail()).  Returns the number so far. */
guint gw_throttle_refuse (GwThrottle *throttle, const char *key);

/* @tag succeeded for @key at @now: from now on @key's back-off does not
 * stop @tag.  @key's failures stay. */
void gw_throttle_trust (GwThrottle *throttle, const char *key, const char *tag,
                        gint64 now);
gboolean gw_throttle_is_trusted (GwThrottle *throttle, const char *key,
                                 const char *tag, gint64 now);

/* Entries held at @now (expired ones are dropped first). */
guint gw_throttle_size (GwThrottle *throttle, gint64 now);

G_END_DECLS
