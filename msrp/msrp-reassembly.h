/* msrp-reassembly.h: receiver-side reassembly of chunked MSRP messages
 * (RFC 4975 sections 5.1, 7.1.1 and 7.3.1).
 *
 * A message is sent as one or more SEND chunks carrying the same Message-ID,
 * each with a Byte-Range "start-end/total" (1-based, inclusive; end and total
 * may be "*").  Chunks may arrive out of order and may overlap.  An
 * MsrpReassembler keeps several messages in progress, keyed by Message-ID, and
 * hands each one back whole (as GBytes) when every byte 1..total has arrived
 * and the total is known.
 *
 * Bodies are streamed: a chunk is opened with msrp_reassembler_begin_chunk(),
 * fed with msrp_reassembly_chunk_add_data() as the frame parser hands out body
 * pieces, and closed with msrp_reassembly_chunk_end() and the end-line flag.
 * Several chunks may be open at once (one per connection, say), even of the
 * same message.
 *
 * Choices, with the RFC text they follow:
 *
 * - Overlaps: the bytes received last win (section 7.3.1: "the last chunk
 *   received SHOULD take precedence").  Overlapping bytes are written over in
 *   place and are not counted twice against the memory ceiling.
 * - Short chunks: the actual end of a chunk is range-start + bytes received
 *   - 1, whatever its range-end said (section 7.3.1, "SHOULD determine the
 *   actual length of each chunk by inspecting the payload itself").  More
 * bytes than range-end allows is an error.
 * - The chunk ended with "$" defines the total (section 7.3.1) when the
 *   Byte-Range said "*", and must agree with it otherwise.
 * - A message is complete when the total is known and bytes 1..total have all
 *   arrived, whatever the flag ("$" or "+") of the chunk that filled the last
 *   gap.
 * - Interrupted chunks (sections 5.1 and 7.1.1): a chunk ended with "+" short
 *   of its range-end keeps its bytes and the message stays pending; the rest
 *   comes in a later chunk whose range-start is the first byte not sent.
 * - "#" aborts (section 7.1: "If the sender is aborting an incomplete
 *   message, and intends to send no further chunks in that message, the flag
 *   MUST be a '#'").  msrp_reassembly_chunk_end() returns
 *   MSRP_REASSEMBLY_INTERRUPTED with the progress the message had reached
 *   (bytes received, including the "#" chunk's, and the total if known), and
 *   frees the message's data.  An aborted message is never delivered, even
 *   when the "#" chunk happened to fill its last gap: the sender has given it
 *   up (section 7.3.2: a failure report "SHOULD" make it abort) and expects
 *   no delivery.  Since the sender intends to send no further chunks, its
 *   Message-ID is remembered: a later chunk of it is refused with
 *   MSRP_REASSEMBLY_ERROR_GONE (413, "stop sending this message", section
 *   10.5), and chunks of it still open fail the same way.  A "#" chunk that
 *   has failed (error set) is answered with its error like any failed chunk
 *   and aborts nothing; its message, if still pending, is left to the
 *   caller (msrp_reassembler_abandon()).
 * - A chunk cut off without any end-line (connection lost mid-body, section
 *   5.1) is released with msrp_reassembly_chunk_free(); its bytes stay.
 *
 * Memory: nothing is allocated for bytes that have not arrived; an announced
 * total of 2^63 costs nothing until data comes.  Every allocation is charged
 * against a ceiling shared by all messages: body storage (as allocated),
 * MSRP_REASSEMBLY_PIECE_COST per stored piece (a run of bytes received
 * together) and MSRP_REASSEMBLY_MESSAGE_COST plus the Content-Type length per
 * message.  When a chunk would go over the ceiling, or a message over the
 * per-message maximum (a=max-size), the call fails with
 * MSRP_REASSEMBLY_ERROR_TOO_LARGE (MSRP status 413), the message's data is
 * freed and its Message-ID is remembered, so that its later chunks are refused
 * at once (section 10.5: the sender must not send more).  The Message-IDs of
 * completed, refused and aborted messages share one list of
 * MSRP_REASSEMBLY_REMEMBERED_IDS entries; a chunk of an id forgotten from it
 * starts a new message.  While a complete
 * message is assembled into one buffer, up to twice its size is held
 * briefly.
 *
 * Received bytes are kept as a sorted, merged interval set per message, so
 * completeness is an O(1) test on it and a chunk costs O(log n) plus the
 * pieces it overlaps.
 *
 * Not thread-safe: one thread drives a reassembler and its chunks.
 * No clock: nothing expires by itself; the caller abandons messages (for
 * example when the session's connection closes).
 */
#pragma once

#include <glib.h>
#include "msrp-headers.h"

G_BEGIN_DECLS

#define MSRP_REASSEMBLY_ERROR (msrp_reassembly_error_quark ())
GQuark msrp_reassembly_error_quark (void);

/* Error codes; msrp_reassembly_error_to_status() maps them to MSRP status
 * codes.  The 413 codes drop the message (except TOO_MANY_MESSAGES, which
 * refuses a new one); the 400 codes fail the chunk and leave the message
 * pending with the bytes it had. */
typedef enum
{
  MSRP_REASSEMBLY_ERROR_INVALID,        /* 400: Byte-Range or Message-ID
                                         * malformed (start 0, end before
                                         * start, end past total) */
  MSRP_REASSEMBLY_ERROR_BEYOND_TOTAL,   /* 400: a byte past the known
                                         * total */
  MSRP_REASSEMBLY_ERROR_INCONSISTENT,   /* 400: total or Content-Type differs
                                         * from earlier chunks, or a "$"
                                         * end disagrees with them */
  MSRP_REASSEMBLY_ERROR_TOO_MANY_BYTES, /* 400: body longer than the chunk's
                                         * range-end allows */
  MSRP_REASSEMBLY_ERROR_TOO_LARGE,      /* 413: over the ceiling or the
                                         * per-message maximum */
  MSRP_REASSEMBLY_ERROR_TOO_FRAGMENTED, /* 413: more separate byte ranges
                                         * than the per-message maximum */
  MSRP_REASSEMBLY_ERROR_TOO_MANY_MESSAGES, /* 413: the table of messages in
                                            * progress is full */
  MSRP_REASSEMBLY_ERROR_GONE,              /* 413: the message was abandoned
                                            * while this chunk was open, or
                                            * aborted by the sender ("#")
                                            * before this chunk ended or
                                            * began */
} MsrpReassemblyError;

/* The MSRP status code (RFC 4975 section 10) to answer a chunk that failed
 * with @error: 400 or 413.  An error of another domain gives 400. */
guint msrp_reassembly_error_to_status (const GError *error);

/* Outcome of msrp_reassembly_chunk_end(). */
typedef enum
{
  MSRP_REASSEMBLY_FAILED,      /* error set; see MsrpReassemblyError */
  MSRP_REASSEMBLY_PENDING,     /* chunk stored; message still incomplete */
  MSRP_REASSEMBLY_INTERRUPTED, /* "#" chunk: the sender aborted the
                                * message; its data was freed, its later
                                * chunks are refused (GONE); the progress
                                * says how far it had got */
  MSRP_REASSEMBLY_COMPLETE,    /* message whole: body handed out, message
                                * removed from the table */
  MSRP_REASSEMBLY_DUPLICATE,   /* chunk of a message already completed:
                                * discarded (answer 200, deliver nothing) */
} MsrpReassemblyResult;

/* How far a message has got, as msrp_reassembly_chunk_end() reports it. */
typedef struct
{
  guint64 received; /* distinct bytes received (overlaps counted once) */
  guint64 total;    /* the message's total; 0 when not known */
  gboolean total_known;
} MsrpReassemblyProgress;

/* Charges against the ceiling, besides the body bytes themselves. */
#define MSRP_REASSEMBLY_PIECE_COST 64
#define MSRP_REASSEMBLY_MESSAGE_COST 256

/* Longest Message-ID accepted (RFC 4975 section 9: ident is 4 to 32
 * characters).  The caller checks the ident syntax (msrp_message_id_parse);
 * the reassembler only bounds the length. */
#define MSRP_REASSEMBLY_MAX_ID_LEN 32

/* Message-IDs of messages completed, refused with 413 or aborted with "#"
 * that are remembered (oldest forgotten first) to recognise their late
 * chunks. */
#define MSRP_REASSEMBLY_REMEMBERED_IDS 64

/* Defaults of the limits that have setters. */
#define MSRP_REASSEMBLY_DEFAULT_MAX_MESSAGES 32
#define MSRP_REASSEMBLY_DEFAULT_MAX_RANGES 1024

typedef struct _MsrpReassembler MsrpReassembler;
typedef struct _MsrpReassemblyChunk MsrpReassemblyChunk;

/* A reassembler holding at most @max_buffered bytes (see "Memory" above)
 * across all messages; @max_buffered > 0.
 * Returns: (transfer full): a new reassembler with a reference count of 1. */
G_GNUC_WARN_UNUSED_RESULT
MsrpReassembler *msrp_reassembler_new (gsize max_buffered);

/* Returns: (transfer full): @r with one more reference. */
MsrpReassembler *msrp_reassembler_ref (MsrpReassembler *r);
/* Drops a reference; the last one frees every pending message.  Open chunks
 * hold a reference of their own. */
void msrp_reassembler_unref (MsrpReassembler *r);

/* Largest message accepted, in bytes (a=max-size, RFC 4975 section 8.6);
 * 0 (the default) means no limit beyond the ceiling.  Applies from the next
 * call on, to messages already pending too. */
void msrp_reassembler_set_max_message_size (MsrpReassembler *r,
                                            guint64 max_size);
/* Messages in progress at once; @max >= 1. */
void msrp_reassembler_set_max_messages (MsrpReassembler *r, guint max);
/* Separate (non-adjacent) byte ranges one message may hold; @max >= 1. */
void msrp_reassembler_set_max_ranges (MsrpReassembler *r, guint max);

/* Open a chunk of message @message_id (NUL-terminated, 1 to
 * MSRP_REASSEMBLY_MAX_ID_LEN bytes).
 * @range: (nullable): the chunk's Byte-Range; NULL when the request had none,
 *   which means "1-* / *" (RFC 4975 section 7.3.1).
 * @content_type: (nullable): the chunk's Content-Type value, kept from the
 *   first chunk that has one and compared (ASCII case-insensitively) with
 *   the others.
 * Returns: (transfer full) (nullable): the open chunk, to be passed to
 *   msrp_reassembly_chunk_add_data() and then msrp_reassembly_chunk_end() or
 *   msrp_reassembly_chunk_free(); or NULL with @error set, in which case the
 *   chunk's body is to be skipped and the request answered with
 *   msrp_reassembly_error_to_status (@error). */
G_GNUC_WARN_UNUSED_RESULT
MsrpReassemblyChunk *msrp_reassembler_begin_chunk (MsrpReassembler *r,
                                                   const char *message_id,
                                                   const MsrpByteRange *range,
                                                   const char *content_type,
                                                   GError **error);

/* Place the next @len body bytes of @chunk (read only within @data[0..len)).
 * @len may be 0.  On FALSE, @error says why and the chunk has failed: its
 * later add_data and end calls fail the same way, and it is still to be
 * freed (msrp_reassembly_chunk_end() or msrp_reassembly_chunk_free()).  A
 * piece that goes past range-end or the total is refused whole. */
gboolean msrp_reassembly_chunk_add_data (MsrpReassemblyChunk *chunk,
                                         const void *data, gsize len,
                                         GError **error);

/* End @chunk with its end-line flag @flag ('$', '+' or '#') and free it.
 * On MSRP_REASSEMBLY_COMPLETE, *@out_body is the whole message and
 * *@out_content_type its Content-Type (NULL if no chunk had one); otherwise
 * both are set to NULL.  On MSRP_REASSEMBLY_PENDING, INTERRUPTED and
 * COMPLETE, *@out_progress is the message's progress after this chunk (for
 * INTERRUPTED: how far it had got when the sender aborted it, for example
 * to report "interrupted after N of M bytes"); on FAILED and DUPLICATE it is
 * all zero.
 * @chunk: (transfer full)
 * @out_body: (out) (transfer full) (optional)
 * @out_content_type: (out) (transfer full) (optional) (nullable)
 * @out_progress: (out caller-allocates) (optional)
 * Returns: the outcome; MSRP_REASSEMBLY_FAILED with @error set. */
MsrpReassemblyResult
msrp_reassembly_chunk_end (MsrpReassemblyChunk *chunk, char flag,
                           GBytes **out_body, char **out_content_type,
                           MsrpReassemblyProgress *out_progress,
                           GError **error);

/* Free @chunk without an end-line (the connection was lost mid-body): the
 * bytes it delivered stay, the message stays pending.  NULL is ignored. */
void msrp_reassembly_chunk_free (MsrpReassemblyChunk *chunk);

/* Forget message @message_id, which will never complete (its connection
 * closed, say), and free its data.  Chunks of it still open fail with
 * MSRP_REASSEMBLY_ERROR_GONE; its later chunks start a new message.
 * @out_received: (out) (optional): how many distinct bytes had arrived.
 * Returns: FALSE if no such message was pending. */
gboolean msrp_reassembler_abandon (MsrpReassembler *r, const char *message_id,
                                   guint64 *out_received);

/* Progress of pending message @message_id.
 * @out_received: (out) (optional): distinct bytes received so far.
 * @out_total: (out) (optional): the total, or 0 when not known yet.
 * @out_total_known: (out) (optional)
 * Returns: FALSE if no such message is pending. */
gboolean msrp_reassembler_get_progress (MsrpReassembler *r,
                                        const char *message_id,
                                        guint64 *out_received,
                                        guint64 *out_total,
                                        gboolean *out_total_known);

/* Returns: (transfer full) (element-type utf8): the Message-IDs of the
 * pending messages, sorted (strcmp), for example to abandon them all. */
G_GNUC_WARN_UNUSED_RESULT
GPtrArray *msrp_reassembler_list_pending (MsrpReassembler *r);

guint msrp_reassembler_get_n_pending (MsrpReassembler *r);
/* Bytes currently charged against the ceiling (see "Memory" above). */
gsize msrp_reassembler_get_buffered (MsrpReassembler *r);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpReassembler, msrp_reassembler_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpReassemblyChunk, msrp_reassembly_chunk_free)

G_END_DECLS
