/* msrp-parser.h: streaming MSRP frame parser (RFC 4975 section 9).
 *
 * No I/O, no clock, no body buffering.  Feed bytes in pieces of any size; each
 * call to msrp_parser_feed() yields at most one event.  Events point into the
 * parser's bounded line buffer or into the caller's input (start line,
 * headers), directly into the caller's input (body pieces, except the few
 * "held" bytes described at MsrpParserEvent), and stay valid until the next
 * feed call.
 *
 * A frame comes out as:
 *
 *   REQUEST or RESPONSE      start line (transaction id, method or status)
 *   HEADER ...               one per header line, in order
 *   HEADERS_END              with has_body
 *   BODY ...                 zero or more pieces (requests with a body only)
 *   END                      the end-line, with its continuation flag
 *
 * after which the parser expects the next frame on the same connection.
 *
 * The caller's loop:
 *
 *   while (TRUE)
 *     {
 *       status = msrp_parser_feed (p, data, len, &used, &ev, &error);
 *       data += used;
 *       len -= used;
 *       if (status == MSRP_PARSE_NEED_MORE)
 *         break;                  // all of data was taken: read more
 *       if (status == MSRP_PARSE_ERROR)
 *         close the connection;   // the parser stays failed until reset
 *       handle ev;                // then call again, even when len is 0
 *     }
 *
 * What is checked: the start line, header line and end-line syntax of the
 * section 9 ABNF, the header order of sections 6 and 9 (through
 * MsrpHeaderOrder), and the body rules of sections 7.1 and 7.2.  Header
 * VALUES are not parsed beyond the utf8text rule: that is msrp-headers' job.
 */
#pragma once

#include <glib.h>

#include "msrp-headers.h"

G_BEGIN_DECLS

#define MSRP_PARSER_ERROR (msrp_parser_error_quark ())
GQuark msrp_parser_error_quark (void);

typedef enum
{
  MSRP_PARSER_ERROR_SYNTAX, /* bytes do not match the section 9 ABNF */
  MSRP_PARSER_ERROR_LIMIT,  /* a MsrpParserLimits bound was exceeded */
  MSRP_PARSER_ERROR_ORDER,  /* header order, duplicate or missing header
                             * (sections 6, 7.1, 9) */
  MSRP_PARSER_ERROR_BODY,   /* body rules: body without Content-Type,
                             * Content-Type without body, response with a
                             * body (sections 7.1, 7.2) */
} MsrpParserError;

/* ident = ALPHANUM 3*31ident-char (section 9) */
#define MSRP_PARSER_MIN_TRANSACTION_ID 4
#define MSRP_PARSER_MAX_TRANSACTION_ID 32

/* The longest end-line the parser may carry across feeds, with the CRLF that
 * precedes it: "\r\n" "-------" transact-id flag "\r\n". */
#define MSRP_PARSER_MAX_END_LINE                                              \
  (2 + 7 + MSRP_PARSER_MAX_TRANSACTION_ID + 1 + 2)

/* Defaults of MsrpParserLimits. */
#define MSRP_PARSER_DEFAULT_MAX_START_LINE 512
#define MSRP_PARSER_DEFAULT_MAX_HEADER_BYTES 16384
#define MSRP_PARSER_DEFAULT_MAX_HEADERS 64
#define MSRP_PARSER_DEFAULT_MAX_NON_SEND_BODY 10240

/* Smallest values msrp_parser_new_full() accepts. */
#define MSRP_PARSER_MIN_START_LINE 64
#define MSRP_PARSER_MIN_HEADER_BYTES 256

typedef struct
{
  /* Start line, CRLF included.  512 leaves room for "MSRP", a 32-character
   * transaction id, a status code and a long comment. */
  gsize max_start_line;
  /* Header block: every byte after the start line up to and including the
   * blank line before a body, or the end-line of a frame without body.  The
   * gateway's max-header-bytes sets it.  Also bounds the parser's buffer. */
  gsize max_header_bytes;
  /* Header lines per frame. */
  guint max_headers;
  /* Body of a request other than SEND (section 7.1: "MUST NOT be larger than
   * 10240 octets").  G_MAXUINT64 for no limit. */
  guint64 max_non_send_body;
} MsrpParserLimits;

/* Fill @limits with the MSRP_PARSER_DEFAULT_* values. */
void msrp_parser_limits_init (MsrpParserLimits *limits);

typedef enum
{
  MSRP_PARSE_NEED_MORE, /* all of the input was consumed; feed more */
  MSRP_PARSE_EVENT,     /* *event is filled; call again with the rest */
  MSRP_PARSE_ERROR,     /* *error is set; the parser stays failed */
} MsrpParseStatus;

typedef enum
{
  MSRP_PARSER_EVENT_REQUEST,
  MSRP_PARSER_EVENT_RESPONSE,
  MSRP_PARSER_EVENT_HEADER,
  MSRP_PARSER_EVENT_HEADERS_END,
  MSRP_PARSER_EVENT_BODY,
  MSRP_PARSER_EVENT_END,
} MsrpParserEventType;

/* One event.  Fields not listed for a type are zero / NULL.  Slices are not
 * NUL-terminated and stay valid until the next msrp_parser_feed() call (and,
 * where they point into the caller's input, as long as that input). */
typedef struct
{
  MsrpParserEventType type;

  /* REQUEST, RESPONSE, END: the transaction id (4..32 ident characters). */
  const char *transaction_id;
  gsize transaction_id_len;

  /* REQUEST: 1*UPALPHA, e.g. "SEND", "REPORT", "AUTH". */
  const char *method;
  gsize method_len;

  /* RESPONSE: three digits as a number (0..999), and the comment after them
   * (utf8text), NULL when the start line has none. */
  guint status_code;
  const char *comment;
  gsize comment_len;

  /* HEADER: 1-based position, the id msrp_header_id_from_name() gives, the
   * name (ALPHA *token) and the raw value (utf8text, the bytes after ": "
   * up to the CRLF). */
  guint header_index;
  MsrpHeaderId header_id;
  const char *name;
  gsize name_len;
  const char *value;
  gsize value_len;

  /* HEADERS_END: a blank line followed (BODY events and then END follow),
   * or the end-line came right after the headers (END follows). */
  gboolean has_body;

  /* BODY: a piece of the body, never empty.  It points into the caller's
   * input, except when @held is TRUE: then it holds bytes from earlier feeds
   * that looked like the start of the end-line and turned out to be body; they
   * live in the parser (at most MSRP_PARSER_MAX_END_LINE bytes). */
  const guint8 *data;
  gsize data_len;
  gboolean held;

  /* END: '$' (message complete), '+' (more chunks follow) or '#' (message
   * aborted), and the number of body bytes the frame carried. */
  char continuation;
  guint64 body_len;
} MsrpParserEvent;

typedef struct _MsrpParser MsrpParser;

/* Returns: (transfer full): a parser with default limits. */
G_GNUC_WARN_UNUSED_RESULT
MsrpParser *msrp_parser_new (void);

/* @limits: (nullable): NULL for the defaults; copied.
 * Returns: (transfer full): a parser. */
G_GNUC_WARN_UNUSED_RESULT
MsrpParser *msrp_parser_new_full (const MsrpParserLimits *limits);

void msrp_parser_free (MsrpParser *parser);

/* Replace the limits; checks still to come use the new values.
 * @limits: (transfer none) */
void msrp_parser_set_limits (MsrpParser *parser,
                             const MsrpParserLimits *limits);
/* Returns: (transfer none): the limits in force. */
const MsrpParserLimits *msrp_parser_get_limits (const MsrpParser *parser);

/* Back to the start of a frame, with the error state cleared and the buffer
 * emptied; the limits and the buffer's allocation are kept. */
void msrp_parser_reset (MsrpParser *parser);

/* Parse @data (@len bytes, @data may be NULL when @len is 0).
 *
 * Returns MSRP_PARSE_EVENT with *@event filled and *@consumed bytes of @data
 * used (possibly 0: call again with data + *consumed); MSRP_PARSE_NEED_MORE
 * with *@consumed == @len (the parser kept what it needs, at most one line
 * or a possible end-line); or MSRP_PARSE_ERROR with *@error set, in domain
 * MSRP_PARSER_ERROR (after which every call fails the same way until
 * msrp_parser_reset()).  *@consumed never exceeds @len. */
MsrpParseStatus msrp_parser_feed (MsrpParser *parser, const guint8 *data,
                                  gsize len, gsize *consumed,
                                  MsrpParserEvent *event, GError **error);

/* TRUE between frames with nothing buffered: closing the connection now
 * loses no partial frame. */
gboolean msrp_parser_is_idle (const MsrpParser *parser);

/* TRUE after an error, until msrp_parser_reset(). */
gboolean msrp_parser_has_failed (const MsrpParser *parser);

/* Where the parser is in the current frame. */
typedef enum
{
  MSRP_PARSER_PHASE_START_LINE, /* between frames, or in a start line: no
                                 * REQUEST or RESPONSE event yet */
  MSRP_PARSER_PHASE_HEADERS,    /* REQUEST or RESPONSE went out; the header
                                 * block is not complete */
  MSRP_PARSER_PHASE_BODY,       /* HEADERS_END went out: the body, if any,
                                 * and the end-line are to come */
} MsrpParserPhase;

/* The phase of the current frame; after an error, the phase the error came
 * in (until msrp_parser_reset()).  An error in MSRP_PARSER_PHASE_HEADERS
 * came before the header block was accepted, one in MSRP_PARSER_PHASE_BODY
 * after it (a body over max_non_send_body); one in
 * MSRP_PARSER_PHASE_START_LINE belongs to no frame. */
MsrpParserPhase msrp_parser_get_phase (const MsrpParser *parser);

/* Bytes the parser has allocated beyond its own struct: the line buffer.
 * Never more than the largest max_start_line or max_header_bytes set on this
 * parser, and independent of body sizes (bodies are never buffered). */
gsize msrp_parser_get_buffer_size (const MsrpParser *parser);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsrpParser, msrp_parser_free)

G_END_DECLS
