/* msrp-reader.h: MSRP frames read off a byte stream as a head, body pieces
 * and an end (RFC 4975 sections 7 and 9).
 *
 * MsrpParser gives one event per start line, header line, body piece and
 * end-line; MsrpHead collects a start line and its headers into the values a
 * relay or an endpoint acts on.  MsrpReader joins the two the way every
 * receiver needs them, so that none does it by hand.  A frame comes out as:
 *
 *   HEAD     the header block is complete: the frame's MsrpHead, finished
 *   BODY ... zero or more pieces of the body, pointing into the input
 *   END      the end-line: continuation flag and body length
 *
 * The caller's loop is the parser's:
 *
 *   while (TRUE)
 *     {
 *       status = msrp_reader_feed (r, data, len, &used, &ev, &error);
 *       data += used;
 *       len -= used;
 *       if (status == MSRP_PARSE_NEED_MORE)
 *         break;                  // all of data was taken: read more
 *       if (status == MSRP_PARSE_ERROR)
 *         {
 *           maybe answer 400 (below), then close the connection;
 *           break;
 *         }
 *       handle ev;                // then call again, even when len is 0
 *     }
 *
 * Call again even without new bytes: the END of a frame without body
 * follows its HEAD with no more input (its end-line came with the headers).
 * A caller may also stop after any event (to wait for a congested next hop)
 * and call again later with the rest of its input, or with none.
 *
 * Bad input comes in two kinds:
 *
 *  - A header VALUE msrp-head refuses (msrp_head_add_header()), or a header
 *    the method needs that is missing (msrp_head_finish()).  The frame is
 *    still well formed, so reading goes on: HEAD comes with @head_error set.
 *    Such a request "was unintelligible" (section 10.2): it gets a 400 where
 *    a response is due (section 7.2, msrp_status_response_due(); the head
 *    keeps every header whose value was good, Failure-Report included, so
 *    that question has its answer); a relay drops such a response (RFC 4976
 *    section 6.4.3).  Its body is skipped: no BODY events, and END with the
 *    length of the body.  The next frame is read as usual.
 *
 *  - Bytes that break the section 9 syntax, or exceed a MsrpParserLimits
 *    bound: framing is lost.  msrp_reader_feed() returns MSRP_PARSE_ERROR
 *    (domain MSRP_PARSER_ERROR) and goes on failing; the caller closes the
 *    connection.  Before that it may answer a request 400:
 *    msrp_reader_get_head() says whether the error came inside a frame (with
 *    the headers read until then, To-Path and From-Path when they were good,
 *    so that a response can be addressed), and msrp_reader_in_body() whether
 *    that frame's header block had been accepted (the error came in the body
 *    of a non-SEND request over max_non_send_body), which tells a relay
 *    whether the head may already have gone to the next hop.
 *
 * Memory: the parser's line buffer and one MsrpHead, both bounded by the
 * MsrpParserLimits; bodies are never buffered or copied.
 *
 * Compared with a parser-shaped API where the caller collects the head: the
 * head comes out whole at HEAD (no HEADER events), phase questions go to the
 * parser (msrp_parser_get_phase()) instead of state the caller mirrors, and
 * a BODY piece says whether it lies in the caller's input (@held), since a
 * few bytes an earlier call held as a possible end-line cannot.
 */
#pragma once

#include <glib.h>

#include "msrp-head.h"
#include "msrp-parser.h"

G_BEGIN_DECLS

typedef enum
{
  MSRP_READER_EVENT_HEAD,
  MSRP_READER_EVENT_BODY,
  MSRP_READER_EVENT_END,
} MsrpReaderEventType;

/* One event.  Fields not listed for a type are zero / NULL. */
typedef struct
{
  MsrpReaderEventType type;

  /* HEAD, BODY, END: the frame's head, the same object for all three.
   * (transfer none): the reader holds it until the call after the one that
   * returned END; msrp_head_ref() it to keep it longer.  At HEAD it is
   * finished: msrp_head_has_body() is right even with @head_error. */
  MsrpHead *head;

  /* HEAD, END: why the frame is unintelligible (domain MSRP_HEAD_ERROR, the
   * first problem found), or NULL.  (transfer none): lives as long as the
   * reader holds @head. */
  const GError *head_error;

  /* BODY: a piece of the body, never empty.  Unless @held, it points into
   * the @data of this msrp_reader_feed() call (a caller may slice its read
   * buffer instead of copying).  When @held is TRUE the bytes are the
   * reader's, valid until the next call: at most MSRP_PARSER_MAX_END_LINE
   * bytes that an earlier call took as a possible start of the end-line and
   * that turned out to be body. */
  const guint8 *data;
  gsize data_len;
  gboolean held;

  /* END: '$' (message complete), '+' (more chunks follow) or '#' (message
   * aborted), section 7.1; and the number of body bytes the frame carried,
   * those skipped after @head_error included. */
  char continuation;
  guint64 body_len;
} MsrpReaderEvent;

typedef struct _MsrpReader MsrpReader;

/* @limits: (nullable): NULL for the defaults; copied.  Invalid limits (see
 * msrp_parser_new_full()) are a programmer error.
 * Returns: (transfer full): a reader. */
G_GNUC_WARN_UNUSED_RESULT
MsrpReader *msrp_reader_new (const MsrpParserLimits *limits);

void msrp_reader_free (MsrpReader *reader);

/* Read @data (@len bytes, @data may be NULL when @len is 0).
 *
 * Returns MSRP_PARSE_EVENT with *@event filled and *@consumed bytes of @data
 * taken (possibly 0: call again with data + *consumed); MSRP_PARSE_NEED_MORE
 * with *@consumed == @len; or MSRP_PARSE_ERROR with *@error set, in domain
 * MSRP_PARSER_ERROR, after which every call fails the same way (*@consumed
 * then counts what was taken before the error, of no further use).
 * *@consumed never exceeds @len. */
MsrpParseStatus msrp_reader_feed (MsrpReader *reader, const guint8 *data,
                                  gsize len, gsize *consumed,
                                  MsrpReaderEvent *event, GError **error);

/* The frame being read, from its start line until its END has been
 * returned, or NULL between frames; after an error, the frame it came in,
 * or NULL when it came between frames (or in a start line).  It may lack
 * headers: only the ones read (and, for To-Path and From-Path, valid) so
 * far are there.
 * Returns: (transfer none) (nullable) */
MsrpHead *msrp_reader_get_head (const MsrpReader *reader);

/* TRUE from HEAD until END (body or not); after an error, whether the
 * frame's header block had been accepted when it came. */
gboolean msrp_reader_in_body (const MsrpReader *reader);

/* TRUE between frames with nothing held (no head, no partial line): the
 * reader may be freed and a new one made for the next bytes without
 * losing anything, as a relay does for connections at rest. */
gboolean msrp_reader_is_idle (const MsrpReader *reader);

/* Bytes of line buffer the reader holds (msrp_parser_get_buffer_size()):
 * bounded by the limits, whatever the bodies. */
gsize msrp_reader_get_buffer_size (const MsrpReader *reader);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpReader, msrp_reader_free)

G_END_DECLS
