/* mc-util.h: small pure helpers of msrpcat: byte range coverage, a bounded
 * set of remembered ids, percentiles, JSON strings, and the parsers of its
 * command line values (sizes, durations, listen addresses).
 *
 * No I/O and no clock: everything here is tested by tests/unit/test-mc-util.c.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MC_UTIL_ERROR (mc_util_error_quark ())
GQuark mc_util_error_quark (void);

typedef enum
{
  MC_UTIL_ERROR_INVALID, /* a command line value is not valid */
} McUtilError;

/* ---------------------------------------------------------------------------
 * McRanges: a set of 1-based inclusive byte ranges, kept sorted and merged
 * (adjacent and overlapping ranges become one).  For the sender, the bytes
 * that Success REPORTs have confirmed (RFC 4975 section 7.1.3: a receiver may
 * report chunk by chunk or once for the whole message).
 * ------------------------------------------------------------------------- */

typedef struct _McRanges McRanges;

G_GNUC_WARN_UNUSED_RESULT
McRanges *mc_ranges_new (void);
void mc_ranges_free (McRanges *ranges);
/* Add bytes @start..@end (1 <= @start <= @end). */
void mc_ranges_add (McRanges *ranges, guint64 start, guint64 end);
/* Are all bytes @start..@end in the set?  An empty span (@end < @start) is
 * always covered. */
gboolean mc_ranges_covers (const McRanges *ranges, guint64 start, guint64 end);
/* Distinct bytes in the set. */
guint64 mc_ranges_get_covered (const McRanges *ranges);
/* Separate ranges after merging. */
guint mc_ranges_get_n (const McRanges *ranges);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McRanges, mc_ranges_free)

/* ---------------------------------------------------------------------------
 * McIdSet: at most @capacity strings, the oldest forgotten first (Message-IDs
 * of messages delivered, refused or aborted, to recognise their late chunks
 * without growing without bound).
 * ------------------------------------------------------------------------- */

typedef struct _McIdSet McIdSet;

/* @capacity >= 1.  (transfer full) */
G_GNUC_WARN_UNUSED_RESULT
McIdSet *mc_id_set_new (guint capacity);
void mc_id_set_free (McIdSet *set);
/* Add @id (copied); adding an id already present does nothing. */
void mc_id_set_add (McIdSet *set, const char *id);
gboolean mc_id_set_contains (const McIdSet *set, const char *id);
guint mc_id_set_get_size (const McIdSet *set);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McIdSet, mc_id_set_free)

/* ---------------------------------------------------------------------------
 * Statistics
 * ------------------------------------------------------------------------- */

/* The nearest-rank @percent percentile (0 < @percent <= 100) of @n sorted
 * values: the smallest value with at least @percent % of the values at or
 * below it.  0 when @n is 0. */
gint64 mc_percentile (const gint64 *sorted, gsize n, double percent);

/* ---------------------------------------------------------------------------
 * JSON output
 * ------------------------------------------------------------------------- */

/* ---------------------------------------------------------------------------
 * Command line values
 * ------------------------------------------------------------------------- */

/* A byte count: digits with an optional binary suffix k/K (1024), m/M, g/G,
 * optionally followed by "B" or "iB" ("2048", "2k", "1M", "20MiB").
 * @what names the option in the error ("--chunk-size: '1x' is not ..."). */
gboolean mc_parse_size (const char *what, const char *text, guint64 *out,
                        GError **error);

/* A duration in seconds, with an optional fraction or unit: "30", "0.5",
 * "250ms", "2s", "1m".  At least 0, at most one day.  *@out_us in
 * microseconds. */
gboolean mc_parse_duration (const char *what, const char *text, gint64 *out_us,
                            GError **error);

/* A listening address "127.0.0.1:2855", "[::1]:0" or "0.0.0.0:0": an IP
 * literal (IPv6 in brackets) and a port 0..65535 (0: the kernel picks one).
 * Returns: (transfer full) (nullable): a GInetSocketAddress. */
G_GNUC_WARN_UNUSED_RESULT
GSocketAddress *mc_parse_listen_address (const char *text, GError **error);

/* Split a list of media types for --accept-types: separated by spaces or
 * commas, empty items dropped.  (transfer full): NULL-terminated. */
G_GNUC_WARN_UNUSED_RESULT
char **mc_split_list (const char *text);

G_END_DECLS
