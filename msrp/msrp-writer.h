/* msrp-writer.h: building MSRP requests and responses (RFC 4975 sections 5,
 * 7 and 9) and cutting messages into chunks (section 7.1.1).
 *
 * Nothing here holds a message body.  A frame is written as three parts:
 *
 *   HEAD      start line, To-Path, From-Path, the other headers in the order
 *             added, then (requests with a body) the MIME headers,
 * Content-Type and the blank line; body      the caller's bytes, streamed as
 * they come; END-LINE  "\r\n-------" tid flag "\r\n" after a body (the leading
 * CRLF is not part of the body, section 7.1), "-------" tid flag "\r\n" when
 * there is none.
 *
 * so that a relay can copy a body from one connection to the other between
 * the head and the end-line without holding it.
 *
 * Transaction and message ids are 16 base62 characters drawn from OpenSSL's
 * RAND_bytes (about 95 random bits; section 7.1 asks for at least 64).
 */
#pragma once

#include <glib.h>
#include "msrp-headers.h"
#include "msrp-uri.h"

G_BEGIN_DECLS

#define MSRP_WRITER_ERROR (msrp_writer_error_quark ())
GQuark msrp_writer_error_quark (void);

typedef enum
{
  MSRP_WRITER_ERROR_INVALID,   /* a value given is not valid where it goes */
  MSRP_WRITER_ERROR_DUPLICATE, /* a header that may appear once, given twice */
  MSRP_WRITER_ERROR_MISSING,   /* something the frame must have is not set */
  MSRP_WRITER_ERROR_STATE,     /* a call that does not fit the chunker state */
  MSRP_WRITER_ERROR_RANGE,     /* a size or position out of range */
  MSRP_WRITER_ERROR_RANDOM,    /* RAND_bytes failed: no id can be made */
} MsrpWriterError;

/* ---------------------------------------------------------------------------
 * Identifiers (sections 7.1 and 7.1.1)
 * ------------------------------------------------------------------------- */

/* Characters in a new transaction or message id (an `ident`). */
#define MSRP_WRITER_ID_LEN 16
/* Buffer size for the _fill_ functions: the id and its NUL. */
#define MSRP_WRITER_ID_BUF_SIZE (MSRP_WRITER_ID_LEN + 1)

/* A fresh transaction id: MSRP_WRITER_ID_LEN characters of [0-9A-Za-z], each
 * uniform (rejection sampling), so a valid ident of about 95 random bits.
 * Returns: (transfer full) (nullable): NULL with MSRP_WRITER_ERROR_RANDOM
 * only when RAND_bytes fails. */
G_GNUC_WARN_UNUSED_RESULT
char *msrp_writer_new_transaction_id (GError **error);
/* The same, written NUL-terminated into @buf of @buf_size >=
 * MSRP_WRITER_ID_BUF_SIZE bytes. */
gboolean msrp_writer_fill_transaction_id (char *buf, gsize buf_size,
                                          GError **error);

/* A fresh Message-ID, made the same way (section 7.1.1: "highly unlikely to
 * be repeated by another endpoint instance, or by the same instance in the
 * future"). */
G_GNUC_WARN_UNUSED_RESULT
char *msrp_writer_new_message_id (GError **error);
gboolean msrp_writer_fill_message_id (char *buf, gsize buf_size,
                                      GError **error);

/* ---------------------------------------------------------------------------
 * One frame: a request or a response
 * ------------------------------------------------------------------------- */

typedef struct _MsrpWriter MsrpWriter;

/* Largest body of a non-SEND request (section 7.1); msrp_writer_to_bytes()
 * enforces it. */
#define MSRP_WRITER_NON_SEND_BODY_MAX 10240

/* A request with @method (1*UPALPHA: "SEND", "REPORT", "AUTH", "NICKNAME",
 * any extension) and transaction id @tid (an ident), or a fresh tid when @tid
 * is NULL.
 * Returns: (transfer full) (nullable): NULL with MSRP_WRITER_ERROR_INVALID
 * naming what is wrong. */
G_GNUC_WARN_UNUSED_RESULT
MsrpWriter *msrp_writer_new_request (const char *tid, const char *method,
                                     GError **error);

/* A response (section 7.2) with the request's @tid, a 3-digit @code
 * (100..999) and an optional @comment (utf8text, may be NULL: no comment).
 * Responses carry no body. */
G_GNUC_WARN_UNUSED_RESULT
MsrpWriter *msrp_writer_new_response (const char *tid, guint code,
                                      const char *comment, GError **error);

/* A bodiless SEND (RFC 4975 section 5.4 and 7.1, RFC 6135 section 4.2.2: the
 * active party's first request that binds a connection to a session):
 *   MSRP tid SEND / To-Path / From-Path / Message-ID / Byte-Range: 1-0/0
 * with no Content-Type; write it with msrp_writer_to_bytes (w, NULL, '$', e).
 * @tid and @message_id may be NULL for fresh ones. */
G_GNUC_WARN_UNUSED_RESULT
MsrpWriter *msrp_writer_new_empty_send (GPtrArray *to_path,
                                        GPtrArray *from_path, const char *tid,
                                        const char *message_id,
                                        GError **error);

void msrp_writer_free (MsrpWriter *writer);

/* (transfer none): the transaction id of the start line and end-line. */
const char *msrp_writer_get_transaction_id (const MsrpWriter *writer);
gboolean msrp_writer_is_response (const MsrpWriter *writer);
/* (transfer none) (nullable): the method, NULL for a response. */
const char *msrp_writer_get_method (const MsrpWriter *writer);
/* Does a body follow the head (a Content-Type was set)? */
gboolean msrp_writer_has_body (const MsrpWriter *writer);

/* To-Path and From-Path (sections 6 and 7.1): always written first and
 * second, whenever they are set.  @uris is a GPtrArray of MsrpUri, 1 to
 * MSRP_URI_LIST_MAX of them.  Each may be set once. */
gboolean msrp_writer_set_to_path (MsrpWriter *writer, GPtrArray *uris,
                                  GError **error);
gboolean msrp_writer_set_from_path (MsrpWriter *writer, GPtrArray *uris,
                                    GError **error);

/* Any other header, written in the order added after From-Path.  @name is an
 * hname (ALPHA *token), @value is utf8text (HTAB, printable ASCII, UTF-8; no
 * CR, LF, NUL or other control character).  Known headers
 * (msrp_header_id_from_name) are written with their canonical spelling and
 * may appear once (MSRP_WRITER_ERROR_DUPLICATE), except WWW-Authenticate
 * (one challenge per field and algorithm, RFC 7616 section 3.7).  To-Path,
 * From-Path and Content-Type have their own setters and are refused here.
 * Names starting with "Content-" are MIME headers: they go right before
 * Content-Type and need a body (section 7.1). */
gboolean msrp_writer_add_header (MsrpWriter *writer, const char *name,
                                 const char *value, GError **error);

/* Typed setters for the known headers (each added like add_header). */
gboolean msrp_writer_set_message_id (MsrpWriter *writer,
                                     const char *message_id, GError **error);
/* Checks the range as the header parser does: start >= 1, end >= start except
 * the empty "1-0/..", end <= total and start <= total when known. */
gboolean msrp_writer_set_byte_range (MsrpWriter *writer,
                                     const MsrpByteRange *range,
                                     GError **error);
/* Success-Report: yes or no (not partial). */
gboolean msrp_writer_set_success_report (MsrpWriter *writer,
                                         MsrpReportMode mode, GError **error);
gboolean msrp_writer_set_failure_report (MsrpWriter *writer,
                                         MsrpReportMode mode, GError **error);
/* Status: namespace and code 0..999, comment utf8text or NULL. */
gboolean msrp_writer_set_status (MsrpWriter *writer, const MsrpStatus *status,
                                 GError **error);

/* Declares that a body follows (requests only) and sets its Content-Type,
 * written last in the head (section 7.1).  @content_type is a media-type
 * (checked with msrp_media_type_parse) and is written as given. */
gboolean msrp_writer_set_content_type (MsrpWriter *writer,
                                       const char *content_type,
                                       GError **error);

/* Writes the head to @out (appending): start line, headers, and when a body
 * follows, the MIME headers, Content-Type and the blank line.  Checks that
 * the frame is complete: To-Path and From-Path set; a SEND has a Message-ID;
 * a REPORT has a Message-ID and a Status and no Success-Report or
 * Failure-Report (section 7.1.2); MIME headers only with a body.  On error
 * @out is left as it was. */
gboolean msrp_writer_append_head (MsrpWriter *writer, GString *out,
                                  GError **error);
/* Returns: (transfer full) (nullable): the head. */
G_GNUC_WARN_UNUSED_RESULT
GBytes *msrp_writer_get_head (MsrpWriter *writer, GError **error);

/* The end-line with @flag '$', '+' or '#' (a response takes only '$',
 * section 7.2), with its leading CRLF when a body was declared. */
gboolean msrp_writer_append_end_line (MsrpWriter *writer, char flag,
                                      GString *out, GError **error);
/* Returns: (transfer full) (nullable) */
G_GNUC_WARN_UNUSED_RESULT
GBytes *msrp_writer_get_end_line (MsrpWriter *writer, char flag,
                                  GError **error);

/* The whole frame: head, @body, end-line with @flag.  @body must be NULL
 * for a frame without Content-Type; NULL means an empty body otherwise.  A
 * non-SEND body is at most MSRP_WRITER_NON_SEND_BODY_MAX bytes, and a body
 * that contains "-------" + tid is refused (section 7.1: the sender must
 * ensure the end-line is not in the body; pick another tid).
 * Returns: (transfer full) (nullable) */
G_GNUC_WARN_UNUSED_RESULT
GBytes *msrp_writer_to_bytes (MsrpWriter *writer, GBytes *body, char flag,
                              GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpWriter, msrp_writer_free)

/* ---------------------------------------------------------------------------
 * Chunker: one message as a series of SEND chunks (section 7.1.1)
 *
 *   chunker = msrp_writer_chunker_new (...);
 *   [set_total, set_reports, set_interruptible, add_header]
 *   while (!msrp_writer_chunker_is_done (chunker)) {
 *     head = msrp_writer_chunker_begin_chunk (chunker, available, input_ends,
 *                                             &body_len, &error);
 *     write head, then body_len body bytes (the next unsent ones);
 *     end = msrp_writer_chunker_end_chunk (chunker, &error);
 *     write end;
 *   }
 *
 * Every chunk has a fresh tid, the same Message-ID, Byte-Range, report
 * headers, extra headers and Content-Type.  The chunker knows positions only:
 * it says how many bytes go into each chunk and never sees them.
 *
 * Byte-Range (section 7.1.1): range-start is the 1-based position of the
 * chunk's first byte; range-end is the position of its last byte, or "*"
 * when the chunk is interruptible or its body is larger than
 * MSRP_WRITER_CHUNK_UNINTERRUPTIBLE_MAX; total is the size, or "*" when it
 * was not set.  An empty message is one chunk "1-0/0" with an empty body.
 *
 * Interrupting (section 7.1.1) ends an interruptible chunk early with '+';
 * the next chunk resumes at the first byte not sent.  Aborting (section 7.1,
 * 7.3.2) ends the message for good with '#'.
 * ------------------------------------------------------------------------- */

typedef struct _MsrpWriterChunker MsrpWriterChunker;

/* Section 7.1.1: "senders MUST NOT send chunks with a body larger than 2048
 * octets unless they are prepared to interrupt them", which is to write "*"
 * as range-end. */
#define MSRP_WRITER_CHUNK_UNINTERRUPTIBLE_MAX 2048

/* @message_id: an ident, or NULL for a fresh one.  @to_path, @from_path:
 * GPtrArray of MsrpUri (1 to MSRP_URI_LIST_MAX each), formatted once here.
 * @content_type: a media-type (every chunk carries a body).  @chunk_size:
 * the most body bytes in one chunk, >= 1.  The total is unknown ("*") until
 * msrp_writer_chunker_set_total() is called.
 * Returns: (transfer full) (nullable) */
G_GNUC_WARN_UNUSED_RESULT
MsrpWriterChunker *
msrp_writer_chunker_new (const char *message_id, GPtrArray *to_path,
                         GPtrArray *from_path, const char *content_type,
                         guint64 chunk_size, GError **error);
void msrp_writer_chunker_free (MsrpWriterChunker *chunker);

/* The following setters are allowed only before the first chunk
 * (MSRP_WRITER_ERROR_STATE otherwise). */

/* The message size in bytes, 0 to G_MAXUINT64. */
gboolean msrp_writer_chunker_set_total (MsrpWriterChunker *chunker,
                                        guint64 total, GError **error);
/* Write Success-Report and Failure-Report in every chunk (section 7.1.1: all
 * chunks carry the same values).  Without this call neither is written and
 * the defaults (no, yes) apply. */
gboolean msrp_writer_chunker_set_reports (MsrpWriterChunker *chunker,
                                          MsrpReportMode success_report,
                                          MsrpReportMode failure_report,
                                          GError **error);
/* Write "*" as range-end in every chunk, so that any chunk may be
 * interrupted (chunks over MSRP_WRITER_CHUNK_UNINTERRUPTIBLE_MAX bytes get
 * "*" anyway). */
gboolean msrp_writer_chunker_set_interruptible (MsrpWriterChunker *chunker,
                                                gboolean interruptible,
                                                GError **error);
/* An extra header for every chunk (e.g. Content-Disposition, an extension
 * header), checked as msrp_writer_add_header() does; the headers the chunker
 * writes itself (paths, Message-ID, Byte-Range, Success-Report,
 * Failure-Report, Content-Type) and Status are refused. */
gboolean msrp_writer_chunker_add_header (MsrpWriterChunker *chunker,
                                         const char *name, const char *value,
                                         GError **error);

/* Starts the next chunk and returns its head; *@body_len is the number of
 * body bytes the caller writes next.
 *
 * @available: how many bytes the caller can write now (G_MAXUINT64: all).
 *   A chunk holds min (chunk_size, available, bytes left); a chunk that would
 *   hold 0 bytes while the message goes on is refused.
 * @input_ends: TRUE when no bytes follow the @available ones.  With an
 *   unknown total this is how the last chunk is found ('$'); with a known
 *   total, input that ends before the total is an error.
 * Returns: (transfer full) (nullable) */
G_GNUC_WARN_UNUSED_RESULT
GBytes *msrp_writer_chunker_begin_chunk (MsrpWriterChunker *chunker,
                                         guint64 available,
                                         gboolean input_ends,
                                         guint64 *body_len, GError **error);

/* Ends the current chunk after its body_len bytes: the end-line with '$' when
 * this was the message's last byte, '+' otherwise.
 * Returns: (transfer full) (nullable) */
G_GNUC_WARN_UNUSED_RESULT
GBytes *msrp_writer_chunker_end_chunk (MsrpWriterChunker *chunker,
                                       GError **error);

/* Ends the current chunk after only @written of its body bytes
 * (@written <= body_len) with '+'; the next chunk starts at the first byte not
 * written.  Only a chunk whose range-end is "*" may be interrupted
 * (section 7.1.1: "It MUST take the value of "*" ... if the request needs to
 * be interruptible").  @written == body_len is
 * msrp_writer_chunker_end_chunk(). Returns: (transfer full) (nullable) */
G_GNUC_WARN_UNUSED_RESULT
GBytes *msrp_writer_chunker_interrupt (MsrpWriterChunker *chunker,
                                       guint64 written, GError **error);

/* Aborts the message (section 7.1: "If the sender is aborting an incomplete
 * message, and intends to send no further chunks in that message, the flag
 * MUST be a '#'").  When a chunk is open, *@end_line is set to its end-line
 * with '#' after @written (<= body_len) body bytes, whatever its range-end
 * (section 7.3.2: on a failure report "the entire message corresponding to
 * that chunk SHOULD be aborted" by the '#' of the chunk being delivered);
 * between chunks nothing needs sending and *@end_line is set to NULL.  The
 * chunker is then done.  Aborting a message already complete or aborted is
 * MSRP_WRITER_ERROR_STATE. */
gboolean msrp_writer_chunker_abort (MsrpWriterChunker *chunker,
                                    guint64 written, GBytes **end_line,
                                    GError **error);

/* (transfer none) */
const char *
msrp_writer_chunker_get_message_id (const MsrpWriterChunker *chunker);
/* (transfer none) (nullable): the open chunk's tid, NULL between chunks. */
const char *
msrp_writer_chunker_get_transaction_id (const MsrpWriterChunker *chunker);
/* Bytes of the message in chunks already ended: the next range-start - 1. */
guint64 msrp_writer_chunker_get_sent (const MsrpWriterChunker *chunker);
/* Has the last chunk been ended ('$') or the message aborted? */
gboolean msrp_writer_chunker_is_done (const MsrpWriterChunker *chunker);
gboolean msrp_writer_chunker_is_aborted (const MsrpWriterChunker *chunker);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpWriterChunker, msrp_writer_chunker_free)

G_END_DECLS
