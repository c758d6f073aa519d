/* msrp-reassembly.c: receiver-side reassembly of chunked MSRP messages
 * (RFC 4975 sections 5.1, 7.1.1, 7.3.1).  See msrp-reassembly.h.
 *
 * Storage of one message:
 *
 * - ranges: the received positions as a sorted GArray of disjoint,
 *   non-adjacent [start, end] intervals.  Completeness is "one range
 *   [1, total]"; its count is bounded (max_ranges), so inserting into it stays
 *   cheap.
 * - pieces: the received bytes as disjoint runs, each a buffer of its own, in
 *   a GTree keyed by start position.  New bytes right after a piece are
 *   appended to it (so in-order delivery builds a single buffer that becomes
 *   the result without a copy); bytes over an existing piece are written over
 *   it in place (later chunk wins, section 7.3.1).  Pieces are never merged
 *   with the piece after them: merging would copy, and a peer sending chunks
 *   in reverse order would make that quadratic.  The one copy is made when a
 *   message of several pieces completes.
 *
 * Positions are bounded by the limit (max message size, ceiling, G_MAXINT64),
 * so sums of two positions never overflow.
 */
#include "msrp-reassembly.h"

#include <string.h>

GQuark
msrp_reassembly_error_quark (void)
{
  return g_quark_from_static_string ("msrp-reassembly-error-quark");
}

/* Highest byte position ever accepted: keeps start + length within guint64. */
#define POSITION_MAX ((guint64) G_MAXINT64)
/* Smallest buffer allocated for a piece, unless less is all there can be. */
#define MIN_PIECE_CAP 256

typedef enum
{
  MESSAGE_PENDING,
  MESSAGE_COMPLETED,
  MESSAGE_DROPPED, /* refused with 413 */
  MESSAGE_ABANDONED,
  MESSAGE_ABORTED, /* the sender ended a chunk with "#" */
} MessageState;

typedef struct
{
  guint64 start;
  guint64 end;
} Range;

typedef struct
{
  guint64 start; /* position of data[0] */
  guint8 *data;
  gsize len;
  gsize cap;
} Piece;

typedef struct
{
  guint ref_count; /* the table's and each open chunk's */
  MessageState state;
  char *id;
  char *content_type; /* nullable */
  guint64 total;
  gboolean total_known;
  guint64 received; /* distinct bytes = sum of range lengths */
  gsize charged;    /* this message's share of owner->buffered */
  GArray *ranges;   /* Range */
  GTree *pieces;    /* Piece* -> Piece*, ordered by start */
} Message;

struct _MsrpReassembler
{
  guint ref_count;
  gsize max_buffered;
  guint64 max_message_size; /* 0: none */
  guint max_messages;
  guint max_ranges;
  gsize buffered;
  GHashTable *messages;    /* id (owned by the Message) -> Message */
  GHashTable *remembered;  /* id (owned by remembered_order) -> state */
  GQueue remembered_order; /* char *, oldest first */
};

struct _MsrpReassemblyChunk
{
  MsrpReassembler *owner; /* ref */
  Message *msg;           /* ref; NULL: chunk of a completed message */
  char *id;
  guint64 start;
  guint64 end; /* valid when end_known */
  gboolean end_known;
  guint64 total; /* from this chunk's Byte-Range */
  gboolean total_known;
  guint64 received; /* body bytes of this chunk so far */
  gboolean failed;
  gint failed_code;
};

guint
msrp_reassembly_error_to_status (const GError *error)
{
  g_return_val_if_fail (error != NULL, 400);

  if (error->domain != MSRP_REASSEMBLY_ERROR)
    return 400;
  switch ((MsrpReassemblyError) error->code)
    {
    case MSRP_REASSEMBLY_ERROR_TOO_LARGE:
    case MSRP_REASSEMBLY_ERROR_TOO_FRAGMENTED:
    case MSRP_REASSEMBLY_ERROR_TOO_MANY_MESSAGES:
    case MSRP_REASSEMBLY_ERROR_GONE:
      /* Section 10.5: the receiver wishes the sender to stop sending the
       * message. */
      return 413;
    case MSRP_REASSEMBLY_ERROR_INVALID:
    case MSRP_REASSEMBLY_ERROR_BEYOND_TOTAL:
    case MSRP_REASSEMBLY_ERROR_INCONSISTENT:
    case MSRP_REASSEMBLY_ERROR_TOO_MANY_BYTES:
    default:
      return 400;
    }
}

/* ---- pieces ------------------------------------------------------------ */

static gint
piece_compare (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const Piece *pa = a;
  const Piece *pb = b;

  return pa->start < pb->start ? -1 : pa->start > pb->start;
}

static void
piece_free (gpointer p)
{
  Piece *piece = p;

  g_free (piece->data);
  g_free (piece);
}

/* The piece starting at or before @pos (nullable), and the first piece
 * starting after it (nullable). */
static void
pieces_around (GTree *pieces, guint64 pos, Piece **before, Piece **after)
{
  Piece probe = { .start = pos };
  GTreeNode *next = g_tree_upper_bound (pieces, &probe);
  GTreeNode *prev =
      next != NULL ? g_tree_node_previous (next) : g_tree_node_last (pieces);

  *before = prev != NULL ? g_tree_node_value (prev) : NULL;
  *after = next != NULL ? g_tree_node_value (next) : NULL;
}

/* ---- ranges (the interval set) ----------------------------------------- */

#define RANGE(a, i) (g_array_index ((a), Range, (i)))

/* Add [a, b] (a <= b) to the sorted, merged set.  FALSE, set unchanged, if
 * it would need more than @max ranges. */
static gboolean
ranges_add (GArray *ranges, guint max, guint64 a, guint64 b)
{
  guint lo = 0, hi = ranges->len, j;

  /* First range that touches or follows [a, b]: end + 1 >= a. */
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (RANGE (ranges, mid).end + 1 < a)
        lo = mid + 1;
      else
        hi = mid;
    }
  for (j = lo; j < ranges->len && RANGE (ranges, j).start <= b + 1; j++)
    ;
  if (j == lo)
    {
      Range r = { a, b };

      if (ranges->len >= max)
        return FALSE;
      g_array_insert_val (ranges, lo, r);
      return TRUE;
    }
  RANGE (ranges, lo).start = MIN (RANGE (ranges, lo).start, a);
  RANGE (ranges, lo).end = MAX (RANGE (ranges, j - 1).end, b);
  if (j - lo > 1)
    g_array_remove_range (ranges, lo + 1, j - lo - 1);
  return TRUE;
}

static guint64
ranges_last_end (GArray *ranges)
{
  return ranges->len > 0 ? RANGE (ranges, ranges->len - 1).end : 0;
}

/* ---- messages ---------------------------------------------------------- */

static Message *
message_new (const char *id, const char *content_type)
{
  Message *m = g_new0 (Message, 1);

  m->ref_count = 1;
  m->state = MESSAGE_PENDING;
  m->id = g_strdup (id);
  m->content_type = g_strdup (content_type);
  m->ranges = g_array_new (FALSE, FALSE, sizeof (Range));
  m->pieces = g_tree_new_full (piece_compare, NULL, NULL, piece_free);
  return m;
}

static void
message_release_data (MsrpReassembler *r, Message *m)
{
  r->buffered -= m->charged;
  m->charged = 0;
  g_clear_pointer (&m->pieces, g_tree_destroy);
  g_clear_pointer (&m->ranges, g_array_unref);
}

static void
message_unref (gpointer p)
{
  Message *m = p;

  if (--m->ref_count > 0)
    return;
  /* Data was released (and uncharged) when the message left the table. */
  g_assert (m->charged == 0);
  g_clear_pointer (&m->pieces, g_tree_destroy);
  g_clear_pointer (&m->ranges, g_array_unref);
  g_free (m->content_type);
  g_free (m->id);
  g_free (m);
}

static Message *
message_ref (Message *m)
{
  m->ref_count++;
  return m;
}

static gboolean
charge (MsrpReassembler *r, Message *m, gsize n)
{
  if (n > r->max_buffered - r->buffered)
    return FALSE;
  r->buffered += n;
  m->charged += n;
  return TRUE;
}

/* Remember @id as completed, refused or aborted, forgetting the oldest. */
static void
remember (MsrpReassembler *r, const char *id, MessageState state)
{
  gpointer key;

  if (g_hash_table_lookup_extended (r->remembered, id, &key, NULL))
    {
      g_hash_table_insert (r->remembered, key, GINT_TO_POINTER (state));
      return;
    }
  if (r->remembered_order.length >= MSRP_REASSEMBLY_REMEMBERED_IDS)
    {
      char *old = g_queue_pop_head (&r->remembered_order);

      g_hash_table_remove (r->remembered, old);
      g_free (old);
    }
  key = g_strdup (id);
  g_queue_push_tail (&r->remembered_order, key);
  g_hash_table_insert (r->remembered, key, GINT_TO_POINTER (state));
}

/* Take @m out of the table in @state, freeing its data. */
static void
message_retire (MsrpReassembler *r, Message *m, MessageState state)
{
  m->state = state;
  message_release_data (r, m);
  if (state != MESSAGE_ABANDONED)
    remember (r, m->id, state);
  /* Drops the table's reference last: m->id is the table's key. */
  g_hash_table_remove (r->messages, m->id);
}

/* Largest message size accepted, and how to name that limit. */
static guint64
size_limit (MsrpReassembler *r, const char **what)
{
  guint64 limit = MIN ((guint64) r->max_buffered, POSITION_MAX);

  *what = "the reassembly ceiling";
  if (r->max_message_size != 0 && r->max_message_size <= limit)
    {
      limit = r->max_message_size;
      *what = "the maximum message size";
    }
  return limit;
}

/* Assemble the body of complete message @m (its pieces exactly cover
 * [1, total]), taking the first piece's buffer when it can. */
static GBytes *
message_take_body (Message *m)
{
  GTreeNode *node;
  Piece *first;
  guint8 *buf;

  if (m->total == 0)
    return g_bytes_new (NULL, 0);

  node = g_tree_node_first (m->pieces);
  first = g_tree_node_value (node);
  g_assert (first->start == 1);
  /* Shrinks away the growth slack, or grows to hold the other pieces. */
  buf = g_realloc (first->data, (gsize) m->total);
  first->data = NULL;
  for (node = g_tree_node_next (node); node != NULL;
       node = g_tree_node_next (node))
    {
      Piece *pc = g_tree_node_value (node);

      g_assert (pc->start - 1 + pc->len <= m->total);
      memcpy (buf + (pc->start - 1), pc->data, pc->len);
      /* Free as we go to keep the peak low. */
      g_clear_pointer (&pc->data, g_free);
    }
  return g_bytes_new_take (buf, (gsize) m->total);
}

static gboolean
message_is_complete (Message *m)
{
  if (!m->total_known)
    return FALSE;
  if (m->total == 0)
    return m->ranges->len == 0;
  return m->ranges->len == 1 && RANGE (m->ranges, 0).start == 1 &&
         RANGE (m->ranges, 0).end == m->total;
}

/* ---- reassembler ------------------------------------------------------- */

MsrpReassembler *
msrp_reassembler_new (gsize max_buffered)
{
  MsrpReassembler *r;

  g_return_val_if_fail (max_buffered > 0, NULL);

  r = g_new0 (MsrpReassembler, 1);
  r->ref_count = 1;
  r->max_buffered = max_buffered;
  r->max_messages = MSRP_REASSEMBLY_DEFAULT_MAX_MESSAGES;
  r->max_ranges = MSRP_REASSEMBLY_DEFAULT_MAX_RANGES;
  r->messages =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, message_unref);
  r->remembered = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&r->remembered_order);
  return r;
}

MsrpReassembler *
msrp_reassembler_ref (MsrpReassembler *r)
{
  g_return_val_if_fail (r != NULL, NULL);

  r->ref_count++;
  return r;
}

void
msrp_reassembler_unref (MsrpReassembler *r)
{
  GHashTableIter iter;
  gpointer value;

  if (r == NULL || --r->ref_count > 0)
    return;
  /* No chunk is open (each holds a reference): nobody else holds a
   * message. */
  g_hash_table_iter_init (&iter, r->messages);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    message_release_data (r, value);
  g_hash_table_destroy (r->messages);
  g_hash_table_destroy (r->remembered);
  g_queue_clear_full (&r->remembered_order, g_free);
  g_free (r);
}

void
msrp_reassembler_set_max_message_size (MsrpReassembler *r, guint64 max_size)
{
  g_return_if_fail (r != NULL);

  r->max_message_size = max_size;
}

void
msrp_reassembler_set_max_messages (MsrpReassembler *r, guint max)
{
  g_return_if_fail (r != NULL);
  g_return_if_fail (max >= 1);

  r->max_messages = max;
}

void
msrp_reassembler_set_max_ranges (MsrpReassembler *r, guint max)
{
  g_return_if_fail (r != NULL);
  g_return_if_fail (max >= 1);

  r->max_ranges = max;
}

guint
msrp_reassembler_get_n_pending (MsrpReassembler *r)
{
  g_return_val_if_fail (r != NULL, 0);

  return g_hash_table_size (r->messages);
}

gsize
msrp_reassembler_get_buffered (MsrpReassembler *r)
{
  g_return_val_if_fail (r != NULL, 0);

  return r->buffered;
}

gboolean
msrp_reassembler_get_progress (MsrpReassembler *r, const char *message_id,
                               guint64 *out_received, guint64 *out_total,
                               gboolean *out_total_known)
{
  Message *m;

  g_return_val_if_fail (r != NULL, FALSE);
  g_return_val_if_fail (message_id != NULL, FALSE);

  m = g_hash_table_lookup (r->messages, message_id);
  if (out_received != NULL)
    *out_received = m != NULL ? m->received : 0;
  if (out_total != NULL)
    *out_total = m != NULL && m->total_known ? m->total : 0;
  if (out_total_known != NULL)
    *out_total_known = m != NULL && m->total_known;
  return m != NULL;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
msrp_reassembler_list_pending (MsrpReassembler *r)
{
  GPtrArray *ids;
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (r != NULL, NULL);

  ids = g_ptr_array_new_full (g_hash_table_size (r->messages), g_free);
  g_hash_table_iter_init (&iter, r->messages);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (ids, g_strdup (key));
  g_ptr_array_sort (ids, compare_strings);
  return ids;
}

gboolean
msrp_reassembler_abandon (MsrpReassembler *r, const char *message_id,
                          guint64 *out_received)
{
  Message *m;

  g_return_val_if_fail (r != NULL, FALSE);
  g_return_val_if_fail (message_id != NULL, FALSE);

  m = g_hash_table_lookup (r->messages, message_id);
  if (out_received != NULL)
    *out_received = m != NULL ? m->received : 0;
  if (m == NULL)
    return FALSE;
  message_retire (r, m, MESSAGE_ABANDONED);
  return TRUE;
}

/* ---- chunks ------------------------------------------------------------ */

/* A chunk's Byte-Range as read here; section 7.3.1: without one, the chunk
 * starts at byte 1 and its end and the total are unknown. */
typedef struct
{
  guint64 start;
  guint64 end; /* valid when end_known */
  gboolean end_known;
  guint64 total; /* valid when total_known */
  gboolean total_known;
} ChunkRange;

/* Check a Byte-Range on its own (section 7.1.1 and the ABNF of section 9). */
static gboolean
check_range (const char *id, const ChunkRange *cr, GError **error)
{
  if (cr->start == 0)
    {
      g_set_error (error, MSRP_REASSEMBLY_ERROR, MSRP_REASSEMBLY_ERROR_INVALID,
                   "Message-ID '%s': Byte-Range: range-start 0 is not >= 1",
                   id);
      return FALSE;
    }
  if (cr->end_known && cr->end < cr->start - 1)
    {
      g_set_error (error, MSRP_REASSEMBLY_ERROR, MSRP_REASSEMBLY_ERROR_INVALID,
                   "Message-ID '%s': Byte-Range: range-end %" G_GUINT64_FORMAT
                   " is before range-start %" G_GUINT64_FORMAT " minus 1",
                   id, cr->end, cr->start);
      return FALSE;
    }
  if (cr->end_known && cr->total_known && cr->end > cr->total)
    {
      g_set_error (error, MSRP_REASSEMBLY_ERROR, MSRP_REASSEMBLY_ERROR_INVALID,
                   "Message-ID '%s': Byte-Range: range-end %" G_GUINT64_FORMAT
                   " is past the total %" G_GUINT64_FORMAT,
                   id, cr->end, cr->total);
      return FALSE;
    }
  if (cr->total_known && cr->start - 1 > cr->total)
    {
      g_set_error (
          error, MSRP_REASSEMBLY_ERROR, MSRP_REASSEMBLY_ERROR_BEYOND_TOTAL,
          "Message-ID '%s': Byte-Range: range-start %" G_GUINT64_FORMAT
          " is past the total %" G_GUINT64_FORMAT " plus 1",
          id, cr->start, cr->total);
      return FALSE;
    }
  return TRUE;
}

/* Could a message with this Byte-Range ever fit? */
static gboolean
check_size (MsrpReassembler *r, const char *id, const ChunkRange *cr,
            GError **error)
{
  const char *what;
  guint64 limit = size_limit (r, &what);

  if (cr->total_known && cr->total > limit)
    {
      g_set_error (error, MSRP_REASSEMBLY_ERROR,
                   MSRP_REASSEMBLY_ERROR_TOO_LARGE,
                   "Message-ID '%s': Byte-Range total %" G_GUINT64_FORMAT
                   " exceeds %s of %" G_GUINT64_FORMAT " bytes",
                   id, cr->total, what, limit);
      return FALSE;
    }
  if (cr->end_known && cr->end > limit)
    {
      g_set_error (error, MSRP_REASSEMBLY_ERROR,
                   MSRP_REASSEMBLY_ERROR_TOO_LARGE,
                   "Message-ID '%s': Byte-Range range-end %" G_GUINT64_FORMAT
                   " exceeds %s of %" G_GUINT64_FORMAT " bytes",
                   id, cr->end, what, limit);
      return FALSE;
    }
  /* Even an empty chunk at @start implies start - 1 bytes before it. */
  if (cr->start - 1 > limit)
    {
      g_set_error (error, MSRP_REASSEMBLY_ERROR,
                   MSRP_REASSEMBLY_ERROR_TOO_LARGE,
                   "Message-ID '%s': Byte-Range range-start %" G_GUINT64_FORMAT
                   " is beyond %s of %" G_GUINT64_FORMAT " bytes",
                   id, cr->start, what, limit);
      return FALSE;
    }
  return TRUE;
}

static MsrpReassemblyChunk *
chunk_new (MsrpReassembler *r, Message *m, const char *id,
           const ChunkRange *cr)
{
  MsrpReassemblyChunk *c = g_new0 (MsrpReassemblyChunk, 1);

  c->owner = msrp_reassembler_ref (r);
  c->msg = m != NULL ? message_ref (m) : NULL;
  c->id = g_strdup (id);
  c->start = cr->start;
  c->end = cr->end;
  c->end_known = cr->end_known;
  c->total = cr->total;
  c->total_known = cr->total_known;
  return c;
}

/* A message that has left the table is remembered: if it was refused or
 * aborted, its chunks are refused (FALSE); if it completed, a late chunk
 * is a duplicate, read and discarded (section 7.3.1). */
static gboolean
check_remembered (const char *id, MessageState state, GError **error)
{
  if (state == MESSAGE_DROPPED)
    {
      g_set_error (error, MSRP_REASSEMBLY_ERROR,
                   MSRP_REASSEMBLY_ERROR_TOO_LARGE,
                   "Message-ID '%s': the message was refused earlier (413); "
                   "its chunks are no longer accepted",
                   id);
      return FALSE;
    }
  if (state == MESSAGE_ABORTED)
    {
      /* Section 7.1: with "#" the sender "intends to send no further
       * chunks in that message". */
      g_set_error (error, MSRP_REASSEMBLY_ERROR, MSRP_REASSEMBLY_ERROR_GONE,
                   "Message-ID '%s': the sender aborted the message ('#'); "
                   "its chunks are no longer accepted",
                   id);
      return FALSE;
    }
  return TRUE;
}

/* Does a new chunk with @cr and @content_type agree with what earlier
 * chunks of pending message @m said? */
static gboolean
check_consistent (const Message *m, const ChunkRange *cr,
                  const char *content_type, GError **error)
{
  if (cr->total_known && m->total_known && cr->total != m->total)
    {
      g_set_error (error, MSRP_REASSEMBLY_ERROR,
                   MSRP_REASSEMBLY_ERROR_INCONSISTENT,
                   "Message-ID '%s': Byte-Range total %" G_GUINT64_FORMAT
                   " differs from the total %" G_GUINT64_FORMAT
                   " known from earlier chunks",
                   m->id, cr->total, m->total);
      return FALSE;
    }
  if (cr->total_known && !m->total_known &&
      ranges_last_end (m->ranges) > cr->total)
    {
      g_set_error (error, MSRP_REASSEMBLY_ERROR,
                   MSRP_REASSEMBLY_ERROR_INCONSISTENT,
                   "Message-ID '%s': Byte-Range total %" G_GUINT64_FORMAT
                   " is less than byte %" G_GUINT64_FORMAT " already received",
                   m->id, cr->total, ranges_last_end (m->ranges));
      return FALSE;
    }
  if (m->total_known && cr->start - 1 > m->total)
    {
      g_set_error (
          error, MSRP_REASSEMBLY_ERROR, MSRP_REASSEMBLY_ERROR_BEYOND_TOTAL,
          "Message-ID '%s': Byte-Range: range-start %" G_GUINT64_FORMAT
          " is past the total %" G_GUINT64_FORMAT " plus 1",
          m->id, cr->start, m->total);
      return FALSE;
    }
  if (m->total_known && cr->end_known && cr->end > m->total)
    {
      g_set_error (error, MSRP_REASSEMBLY_ERROR,
                   MSRP_REASSEMBLY_ERROR_BEYOND_TOTAL,
                   "Message-ID '%s': Byte-Range: range-end %" G_GUINT64_FORMAT
                   " is past the total %" G_GUINT64_FORMAT,
                   m->id, cr->end, m->total);
      return FALSE;
    }
  if (content_type != NULL && m->content_type != NULL &&
      g_ascii_strcasecmp (content_type, m->content_type) != 0)
    {
      g_set_error (error, MSRP_REASSEMBLY_ERROR,
                   MSRP_REASSEMBLY_ERROR_INCONSISTENT,
                   "Message-ID '%s': Content-Type '%s' differs from '%s' of "
                   "earlier chunks",
                   m->id, content_type, m->content_type);
      return FALSE;
    }
  return TRUE;
}

/* A further chunk of pending message @m; on failure past the consistency
 * checks the message is refused (413). */
static gboolean
message_continue (MsrpReassembler *r, Message *m, const ChunkRange *cr,
                  const char *content_type, GError **error)
{
  if (!check_consistent (m, cr, content_type, error))
    return FALSE;
  if (!check_size (r, m->id, cr, error))
    {
      message_retire (r, m, MESSAGE_DROPPED);
      return FALSE;
    }
  if (content_type != NULL && m->content_type == NULL)
    {
      if (!charge (r, m, strlen (content_type)))
        {
          g_set_error (
              error, MSRP_REASSEMBLY_ERROR, MSRP_REASSEMBLY_ERROR_TOO_LARGE,
              "Message-ID '%s': keeping its Content-Type would "
              "exceed the reassembly ceiling of %" G_GSIZE_FORMAT " bytes",
              m->id, r->max_buffered);
          message_retire (r, m, MESSAGE_DROPPED);
          return FALSE;
        }
      m->content_type = g_strdup (content_type);
    }
  return TRUE;
}

/* The first chunk of message @id: a new pending message in the table, or
 * NULL when it cannot fit, and @id is remembered as refused (413: the
 * sender must stop, section 10.5). */
static Message *
message_start (MsrpReassembler *r, const char *id, const ChunkRange *cr,
               const char *content_type, GError **error)
{
  gsize cost;
  Message *m;

  if (!check_size (r, id, cr, error))
    {
      remember (r, id, MESSAGE_DROPPED);
      return NULL;
    }
  if (g_hash_table_size (r->messages) >= r->max_messages)
    {
      g_set_error (error, MSRP_REASSEMBLY_ERROR,
                   MSRP_REASSEMBLY_ERROR_TOO_MANY_MESSAGES,
                   "Message-ID '%s': %u messages are already being "
                   "reassembled, the maximum",
                   id, r->max_messages);
      remember (r, id, MESSAGE_DROPPED);
      return NULL;
    }
  cost = MSRP_REASSEMBLY_MESSAGE_COST;
  if (content_type != NULL)
    cost += strlen (content_type);
  if (cost > r->max_buffered - r->buffered)
    {
      g_set_error (error, MSRP_REASSEMBLY_ERROR,
                   MSRP_REASSEMBLY_ERROR_TOO_LARGE,
                   "Message-ID '%s': a new message would exceed the "
                   "reassembly ceiling of %" G_GSIZE_FORMAT
                   " bytes (%" G_GSIZE_FORMAT " in use)",
                   id, r->max_buffered, r->buffered);
      remember (r, id, MESSAGE_DROPPED);
      return NULL;
    }
  m = message_new (id, content_type);
  charge (r, m, cost);
  g_hash_table_insert (r->messages, m->id, m);
  return m;
}

MsrpReassemblyChunk *
msrp_reassembler_begin_chunk (MsrpReassembler *r, const char *message_id,
                              const MsrpByteRange *range,
                              const char *content_type, GError **error)
{
  ChunkRange cr = { .start = 1 };
  gsize id_len;
  gpointer state;
  Message *m;

  g_return_val_if_fail (r != NULL, NULL);
  g_return_val_if_fail (message_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  id_len = strnlen (message_id, MSRP_REASSEMBLY_MAX_ID_LEN + 1);
  if (id_len == 0 || id_len > MSRP_REASSEMBLY_MAX_ID_LEN)
    {
      g_set_error (error, MSRP_REASSEMBLY_ERROR, MSRP_REASSEMBLY_ERROR_INVALID,
                   "Message-ID: length is not 1 to %d characters",
                   MSRP_REASSEMBLY_MAX_ID_LEN);
      return NULL;
    }
  /* Section 7.3.1: no Byte-Range means the chunk starts at byte 1. */
  if (range != NULL)
    {
      cr.start = range->start;
      cr.end = range->end;
      cr.end_known = !range->end_unknown;
      cr.total = range->total;
      cr.total_known = !range->total_unknown;
    }
  if (!check_range (message_id, &cr, error))
    return NULL;

  if (g_hash_table_lookup_extended (r->remembered, message_id, NULL, &state))
    {
      if (!check_remembered (message_id, GPOINTER_TO_INT (state), error))
        return NULL;
      return chunk_new (r, NULL, message_id, &cr);
    }

  m = g_hash_table_lookup (r->messages, message_id);
  if (m != NULL)
    {
      if (!message_continue (r, m, &cr, content_type, error))
        return NULL;
    }
  else
    {
      m = message_start (r, message_id, &cr, content_type, error);
      if (m == NULL)
        return NULL;
    }

  if (cr.total_known && !m->total_known)
    {
      m->total = cr.total;
      m->total_known = TRUE;
    }
  return chunk_new (r, m, message_id, &cr);
}

static gboolean chunk_fail (MsrpReassemblyChunk *c, GError **error, gint code,
                            const char *format, ...) G_GNUC_PRINTF (4, 5);

static gboolean
chunk_fail (MsrpReassemblyChunk *c, GError **error, gint code,
            const char *format, ...)
{
  va_list args;

  c->failed = TRUE;
  c->failed_code = code;
  va_start (args, format);
  g_propagate_error (
      error, g_error_new_valist (MSRP_REASSEMBLY_ERROR, code, format, args));
  va_end (args);
  return FALSE;
}

/* FALSE, with @error, when @c has failed or its message has left the table
 * other than by completing. */
static gboolean
chunk_check_alive (MsrpReassemblyChunk *c, GError **error)
{
  if (c->failed)
    return chunk_fail (c, error, c->failed_code,
                       "Message-ID '%s': the chunk has already failed", c->id);
  if (c->msg != NULL && c->msg->state == MESSAGE_DROPPED)
    return chunk_fail (c, error, MSRP_REASSEMBLY_ERROR_TOO_LARGE,
                       "Message-ID '%s': the message was refused (413) while "
                       "this chunk was open",
                       c->id);
  if (c->msg != NULL && c->msg->state == MESSAGE_ABANDONED)
    return chunk_fail (c, error, MSRP_REASSEMBLY_ERROR_GONE,
                       "Message-ID '%s': the message was abandoned while this "
                       "chunk was open",
                       c->id);
  if (c->msg != NULL && c->msg->state == MESSAGE_ABORTED)
    return chunk_fail (c, error, MSRP_REASSEMBLY_ERROR_GONE,
                       "Message-ID '%s': the sender aborted the message ('#') "
                       "while this chunk was open",
                       c->id);
  return TRUE;
}

/* Grow @pc to hold @needed bytes, never beyond @bound, charging what is
 * allocated.  Growth slack is only taken where the ceiling has room. */
static gboolean
piece_reserve (MsrpReassembler *r, Message *m, Piece *pc, gsize needed,
               guint64 bound)
{
  gsize want, room;

  if (needed <= pc->cap)
    return TRUE;
  room = r->max_buffered - r->buffered;
  if (needed - pc->cap > room)
    return FALSE;
  want = pc->cap + MIN (pc->cap / 2, G_MAXSIZE - pc->cap);
  want = MAX (want, needed);
  want = MAX (want, MIN_PIECE_CAP);
  if (want > bound)
    want = (gsize) bound; /* bound >= needed */
  want = MIN (want, pc->cap + room);
  charge (r, m, want - pc->cap);
  pc->data = g_realloc (pc->data, want);
  pc->cap = want;
  return TRUE;
}

/* Write @len bytes at position @pos of pending message @m: over bytes
 * already there (later wins, section 7.3.1), into gaps otherwise.  No byte
 * goes past @limit_end (>= pos + len - 1). */
static gboolean
place (MsrpReassembler *r, Message *m, guint64 pos, const guint8 *data,
       gsize len, guint64 limit_end)
{
  while (len > 0)
    {
      Piece *before, *after, *pc;
      gsize n;
      guint64 bound;

      pieces_around (m->pieces, pos, &before, &after);
      if (before != NULL && pos - before->start < before->len)
        {
          gsize off = (gsize) (pos - before->start);

          n = MIN (len, before->len - off);
          memcpy (before->data + off, data, n);
        }
      else
        {
          n = len;
          if (after != NULL && after->start - pos < n)
            n = (gsize) (after->start - pos);
          bound =
              after != NULL ? MIN (limit_end, after->start - 1) : limit_end;
          if (before != NULL && before->start + before->len == pos)
            {
              pc = before;
            }
          else
            {
              if (!charge (r, m, MSRP_REASSEMBLY_PIECE_COST))
                return FALSE;
              pc = g_new0 (Piece, 1);
              pc->start = pos;
              g_tree_insert (m->pieces, pc, pc);
            }
          if (!piece_reserve (r, m, pc, pc->len + n, bound - pc->start + 1))
            return FALSE;
          memcpy (pc->data + pc->len, data, n);
          pc->len += n;
          m->received += n;
        }
      pos += n;
      data += n;
      len -= n;
    }
  return TRUE;
}

/* Buffer @len bytes at @pos into @c's pending message, none past
 * @limit_end; the message is refused (413) when they cannot be kept. */
static gboolean
chunk_store (MsrpReassemblyChunk *c, guint64 pos, const void *data, gsize len,
             guint64 limit_end, GError **error)
{
  MsrpReassembler *r = c->owner;
  Message *m = c->msg;

  if (!ranges_add (m->ranges, r->max_ranges, pos, pos + len - 1))
    {
      chunk_fail (c, error, MSRP_REASSEMBLY_ERROR_TOO_FRAGMENTED,
                  "Message-ID '%s': bytes %" G_GUINT64_FORMAT
                  "-%" G_GUINT64_FORMAT
                  " would make more than %u separate byte "
                  "ranges",
                  c->id, pos, pos + len - 1, r->max_ranges);
      message_retire (r, m, MESSAGE_DROPPED);
      return FALSE;
    }
  if (!place (r, m, pos, data, len, limit_end))
    {
      chunk_fail (c, error, MSRP_REASSEMBLY_ERROR_TOO_LARGE,
                  "Message-ID '%s': buffering bytes %" G_GUINT64_FORMAT
                  "-%" G_GUINT64_FORMAT
                  " would exceed the reassembly ceiling of %" G_GSIZE_FORMAT
                  " bytes (%" G_GSIZE_FORMAT " in use)",
                  c->id, pos, pos + len - 1, r->max_buffered, r->buffered);
      message_retire (r, m, MESSAGE_DROPPED);
      return FALSE;
    }
  return TRUE;
}

gboolean
msrp_reassembly_chunk_add_data (MsrpReassemblyChunk *c, const void *data,
                                gsize len, GError **error)
{
  MsrpReassembler *r;
  Message *m;
  guint64 pos, limit, limit_end, total;
  gboolean total_known;
  const char *what;

  g_return_val_if_fail (c != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  r = c->owner;
  m = c->msg;
  if (!chunk_check_alive (c, error))
    return FALSE;
  if (len == 0)
    return TRUE;

  /* Next position; c->start - 1 and c->received are each <= limit at most
   * POSITION_MAX, so this does not overflow. */
  pos = c->start + c->received;
  limit = size_limit (r, &what);
  total = m != NULL ? m->total : c->total;
  total_known = m != NULL ? m->total_known : c->total_known;

  if (c->end_known && (pos > c->end || len > c->end - pos + 1))
    return chunk_fail (c, error, MSRP_REASSEMBLY_ERROR_TOO_MANY_BYTES,
                       "Message-ID '%s': %" G_GSIZE_FORMAT " more body bytes "
                       "from byte %" G_GUINT64_FORMAT
                       " go past range-end %" G_GUINT64_FORMAT,
                       c->id, len, pos, c->end);
  if (total_known && (pos > total || len > total - pos + 1))
    return chunk_fail (c, error, MSRP_REASSEMBLY_ERROR_BEYOND_TOTAL,
                       "Message-ID '%s': %" G_GSIZE_FORMAT " more body bytes "
                       "from byte %" G_GUINT64_FORMAT
                       " go past the total %" G_GUINT64_FORMAT,
                       c->id, len, pos, total);
  if (pos > limit || len > limit - pos + 1)
    {
      chunk_fail (c, error, MSRP_REASSEMBLY_ERROR_TOO_LARGE,
                  "Message-ID '%s': %" G_GSIZE_FORMAT " more body bytes from "
                  "byte %" G_GUINT64_FORMAT " exceed %s of %" G_GUINT64_FORMAT
                  " bytes",
                  c->id, len, pos, what, limit);
      if (m != NULL && m->state == MESSAGE_PENDING)
        message_retire (r, m, MESSAGE_DROPPED);
      return FALSE;
    }

  c->received += len;
  /* A chunk of a completed message: checked, then discarded. */
  if (m == NULL || m->state == MESSAGE_COMPLETED)
    return TRUE;

  limit_end = limit;
  if (c->end_known)
    limit_end = MIN (limit_end, c->end);
  if (total_known)
    limit_end = MIN (limit_end, total);

  return chunk_store (c, pos, data, len, limit_end, error);
}

void
msrp_reassembly_chunk_free (MsrpReassemblyChunk *c)
{
  if (c == NULL)
    return;
  g_clear_pointer (&c->msg, message_unref);
  g_clear_pointer (&c->owner, msrp_reassembler_unref);
  g_free (c->id);
  g_free (c);
}

static void
progress_set (MsrpReassemblyProgress *out, const Message *m)
{
  if (out == NULL)
    return;
  out->received = m->received;
  out->total = m->total_known ? m->total : 0;
  out->total_known = m->total_known;
}

/* Section 7.3.1: the "$" chunk, ending at @actual_end, defines the total
 * length of @m. */
static gboolean
chunk_end_last (MsrpReassemblyChunk *c, Message *m, guint64 actual_end,
                GError **error)
{
  if (m->total_known && actual_end != m->total)
    {
      chunk_fail (
          c, error, MSRP_REASSEMBLY_ERROR_INCONSISTENT,
          "Message-ID '%s': the '$' chunk ends at byte %" G_GUINT64_FORMAT
          " but the total is %" G_GUINT64_FORMAT,
          c->id, actual_end, m->total);
      return FALSE;
    }
  if (!m->total_known && ranges_last_end (m->ranges) > actual_end)
    {
      chunk_fail (
          c, error, MSRP_REASSEMBLY_ERROR_INCONSISTENT,
          "Message-ID '%s': the '$' chunk ends at byte %" G_GUINT64_FORMAT
          " but byte %" G_GUINT64_FORMAT " was already received",
          c->id, actual_end, ranges_last_end (m->ranges));
      return FALSE;
    }
  m->total = actual_end;
  m->total_known = TRUE;
  return TRUE;
}

MsrpReassemblyResult
msrp_reassembly_chunk_end (MsrpReassemblyChunk *chunk, char flag,
                           GBytes **out_body, char **out_content_type,
                           MsrpReassemblyProgress *out_progress,
                           GError **error)
{
  g_autoptr (MsrpReassemblyChunk) c = chunk;
  MsrpReassembler *r;
  Message *m;
  guint64 actual_end;

  if (out_body != NULL)
    *out_body = NULL;
  if (out_content_type != NULL)
    *out_content_type = NULL;
  if (out_progress != NULL)
    memset (out_progress, 0, sizeof *out_progress);
  g_return_val_if_fail (c != NULL, MSRP_REASSEMBLY_FAILED);
  g_return_val_if_fail (flag == '$' || flag == '+' || flag == '#',
                        MSRP_REASSEMBLY_FAILED);
  g_return_val_if_fail (error == NULL || *error == NULL,
                        MSRP_REASSEMBLY_FAILED);

  r = c->owner;
  m = c->msg;
  if (!chunk_check_alive (c, error))
    return MSRP_REASSEMBLY_FAILED;
  if (m == NULL || m->state == MESSAGE_COMPLETED)
    return MSRP_REASSEMBLY_DUPLICATE;

  if (flag == '#')
    {
      /* Section 7.1: the sender is aborting the message and "intends to send
       * no further chunks in that message".  It is dropped even if this chunk
       * filled its last gap: the sender has given it up.  Its id is
       * remembered so that late chunks are refused (GONE). */
      progress_set (out_progress, m);
      message_retire (r, m, MESSAGE_ABORTED);
      return MSRP_REASSEMBLY_INTERRUPTED;
    }

  /* Section 7.3.1: the actual end comes from the body received, not from
   * range-end; start - 1 + received cannot overflow (both <= POSITION_MAX). */
  actual_end = c->start - 1 + c->received;
  if (flag == '$' && !chunk_end_last (c, m, actual_end, error))
    return MSRP_REASSEMBLY_FAILED;

  progress_set (out_progress, m);
  if (message_is_complete (m))
    {
      g_autoptr (GBytes) body = message_take_body (m);
      char *content_type = g_steal_pointer (&m->content_type);

      message_retire (r, m, MESSAGE_COMPLETED);
      if (out_body != NULL)
        *out_body = g_steal_pointer (&body);
      if (out_content_type != NULL)
        *out_content_type = content_type;
      else
        g_free (content_type);
      return MSRP_REASSEMBLY_COMPLETE;
    }
  /* '+' (or '$' with gaps left): an interrupted chunk (sections 5.1,
   * 7.1.1) keeps its bytes; the message waits for the rest. */
  return MSRP_REASSEMBLY_PENDING;
}
