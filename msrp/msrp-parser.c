/* msrp-parser.c: streaming MSRP frame parser (RFC 4975 section 9).
 *
 * The parser works line by line until the headers end, then scans the body
 * for the end-line.
 *
 * Lines (start line, headers, the end-line of a frame without body) are found
 * with memchr() over the new bytes only; a line that is complete inside the
 * caller's input is checked in place, one that spans feeds is gathered in a
 * buffer bounded by the limits.  Each byte is therefore looked at once to find
 * the line end and once to check the completed line, however it is split
 * (the slowloris defence picohttpparser has).
 *
 * The body is never buffered.  Section 7.1: a body is followed by CRLF and
 * the end-line, "-------" transact-id continuation-flag CRLF, and the sender
 * makes sure the body does not contain that end-line.  The scanner jumps from
 * CR to CR; at each CR it compares the bytes with the frame's end-line
 * template "\r\n-------<tid>?\r\n" (any of + $ # at the '?').  A definite
 * mismatch is body; a match that runs off the end of the input is held
 * (only the count: the bytes are the template's) until the next feed decides
 * it, so at most MSRP_PARSER_MAX_END_LINE bytes are carried across feeds.
 */
#include "msrp-parser.h"
#include "msrp-chars-priv.h"

#include <stdarg.h>
#include <string.h>

GQuark
msrp_parser_error_quark (void)
{
  return g_quark_from_static_string ("msrp-parser-error-quark");
}

typedef enum
{
  STATE_START_LINE,
  STATE_HEADERS,
  STATE_PENDING_END, /* HEADERS_END of a frame without body went out */
  STATE_BODY,
  STATE_FAILED,
} State;

/* Longest header name kept for the "MIME header without body" error. */
#define MIME_NAME_MAX 40

/* How much of an offending text an error message quotes. */
#define QUOTE_MAX 40

struct _MsrpParser
{
  MsrpParserLimits limits;
  State state;
  GError *failure; /* why the parser failed (STATE_FAILED) */
  State failed_in; /* the state the failure came in */

  /* One line that spans feeds. */
  guint8 *buf;
  gsize buf_len;
  gsize buf_cap;
  gboolean buf_done; /* buf holds a reported line: drop it */

  /* The current frame. */
  gboolean is_request;
  gboolean is_send;
  char tid[MSRP_PARSER_MAX_TRANSACTION_ID];
  gsize tid_len;
  guint n_headers;
  gsize header_bytes; /* of completed header-block lines */
  MsrpHeaderOrder order;
  gboolean seen_content_type;
  char mime_name[MIME_NAME_MAX + 1]; /* first Content-* header, or "" */
  char pending_flag;                 /* STATE_PENDING_END */
  guint64 body_len;

  /* End-line matcher: "\r\n-------" tid flag "\r\n". */
  guint8 end_line[MSRP_PARSER_MAX_END_LINE];
  gsize end_line_len;
  gsize flag_pos;
  gsize held;      /* end_line bytes matched by earlier feeds */
  gsize held_skip; /* leading held bytes that are not body */
};

/* ---------------------------------------------------------------------------
 * Character classes (RFC 4975 section 9, RFC 5234 appendix B)
 * ------------------------------------------------------------------------- */

static inline gboolean
is_alnum (guint8 c)
{
  return g_ascii_isalnum (c);
}

/* ident-char = ALPHANUM / "." / "-" / "+" / "%" / "=" */
static inline gboolean
is_ident_char (guint8 c)
{
  return is_alnum (c) || c == '.' || c == '-' || c == '+' || c == '%' ||
         c == '=';
}

static inline gboolean
is_flag (guint8 c)
{
  return c == '$' || c == '+' || c == '#';
}

typedef enum
{
  TEXT_OK,
  TEXT_NUL,
  TEXT_CR, /* CR not followed by LF */
  TEXT_CTL,
  TEXT_BAD_UTF8,
} TextCheck;

/* utf8text = *(HTAB / %x20-7E / UTF8-NONASCII)
 *
 * Section 9 names UTF-8 by reference to RFC 3629 ([14]); its UTF8-NONASCII
 * rule still lists the 5- and 6-byte forms of RFC 2279, which RFC 3629
 * removed.  We follow RFC 3629 section 4: no overlong forms, no surrogates,
 * nothing above U+10FFFF.  @bad is where the first offending byte is. */
static TextCheck
check_utf8text (const guint8 *s, gsize n, gsize *bad)
{
  gsize i = 0;

  while (i < n)
    {
      guint8 c = s[i];
      guint8 lo = 0x80, hi = 0xbf;
      gsize follow;

      if ((c >= 0x20 && c < 0x7f) || c == '\t')
        {
          i++;
          continue;
        }
      *bad = i;
      if (c == 0)
        return TEXT_NUL;
      if (c == '\r')
        return TEXT_CR;
      if (c < 0x80)
        return TEXT_CTL;
      if (c >= 0xc2 && c <= 0xdf)
        follow = 1;
      else if (c >= 0xe0 && c <= 0xef)
        {
          follow = 2;
          if (c == 0xe0)
            lo = 0xa0; /* overlong */
          else if (c == 0xed)
            hi = 0x9f; /* surrogates */
        }
      else if (c >= 0xf0 && c <= 0xf4)
        {
          follow = 3;
          if (c == 0xf0)
            lo = 0x90; /* overlong */
          else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
        }
      else
        return TEXT_BAD_UTF8;
      if (n - i <= follow)
        return TEXT_BAD_UTF8;
      if (s[i + 1] < lo || s[i + 1] > hi)
        return TEXT_BAD_UTF8;
      for (gsize k = 2; k <= follow; k++)
        if (s[i + k] < 0x80 || s[i + k] > 0xbf)
          return TEXT_BAD_UTF8;
      i += follow + 1;
    }
  return TEXT_OK;
}

/* A printable, bounded rendering of @n bytes for an error message (which must
 * be valid UTF-8): printable ASCII as is, anything else escaped.
 * Returns: (transfer full) */
static char *
quote (const void *bytes, gsize n)
{
  const guint8 *s = bytes;
  GString *out = g_string_sized_new (MIN (n, QUOTE_MAX) + 8);

  for (gsize i = 0; i < n && i < QUOTE_MAX; i++)
    {
      guint8 c = s[i];

      if (c == '\r')
        g_string_append (out, "\\r");
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c == '\\')
        g_string_append (out, "\\\\");
      else if (c >= 0x20 && c < 0x7f)
        g_string_append_c (out, (char) c);
      else
        g_string_append_printf (out, "\\x%02x", c);
    }
  if (n > QUOTE_MAX)
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------------------
 * Object
 * ------------------------------------------------------------------------- */

void
msrp_parser_limits_init (MsrpParserLimits *limits)
{
  g_return_if_fail (limits != NULL);

  limits->max_start_line = MSRP_PARSER_DEFAULT_MAX_START_LINE;
  limits->max_header_bytes = MSRP_PARSER_DEFAULT_MAX_HEADER_BYTES;
  limits->max_headers = MSRP_PARSER_DEFAULT_MAX_HEADERS;
  limits->max_non_send_body = MSRP_PARSER_DEFAULT_MAX_NON_SEND_BODY;
}

static gboolean
limits_are_valid (const MsrpParserLimits *limits)
{
  return limits->max_start_line >= MSRP_PARSER_MIN_START_LINE &&
         limits->max_header_bytes >= MSRP_PARSER_MIN_HEADER_BYTES &&
         limits->max_headers >= 2;
}

static void
clear_frame (MsrpParser *p)
{
  p->is_request = FALSE;
  p->is_send = FALSE;
  p->tid_len = 0;
  p->n_headers = 0;
  p->header_bytes = 0;
  msrp_header_order_init (&p->order);
  p->seen_content_type = FALSE;
  p->mime_name[0] = '\0';
  p->pending_flag = 0;
  p->body_len = 0;
  p->end_line_len = 0;
  p->flag_pos = 0;
  p->held = 0;
  p->held_skip = 0;
}

MsrpParser *
msrp_parser_new (void)
{
  return msrp_parser_new_full (NULL);
}

MsrpParser *
msrp_parser_new_full (const MsrpParserLimits *limits)
{
  MsrpParser *p;

  g_return_val_if_fail (limits == NULL || limits_are_valid (limits), NULL);

  p = g_new0 (MsrpParser, 1);
  if (limits != NULL)
    p->limits = *limits;
  else
    msrp_parser_limits_init (&p->limits);
  msrp_parser_reset (p);
  return p;
}

void
msrp_parser_free (MsrpParser *parser)
{
  if (parser == NULL)
    return;
  g_clear_error (&parser->failure);
  g_free (parser->buf);
  g_free (parser);
}

void
msrp_parser_set_limits (MsrpParser *parser, const MsrpParserLimits *limits)
{
  g_return_if_fail (parser != NULL);
  g_return_if_fail (limits != NULL && limits_are_valid (limits));

  parser->limits = *limits;
  /* Give back a buffer the new limits would never fill (unless it holds a
   * line, or the line the last event points into). */
  if (parser->buf_len == 0 &&
      parser->buf_cap > MAX (limits->max_start_line, limits->max_header_bytes))
    {
      g_clear_pointer (&parser->buf, g_free);
      parser->buf_cap = 0;
      parser->buf_len = 0;
      parser->buf_done = FALSE;
    }
}

const MsrpParserLimits *
msrp_parser_get_limits (const MsrpParser *parser)
{
  g_return_val_if_fail (parser != NULL, NULL);

  return &parser->limits;
}

void
msrp_parser_reset (MsrpParser *parser)
{
  g_return_if_fail (parser != NULL);

  g_clear_error (&parser->failure);
  parser->state = STATE_START_LINE;
  parser->failed_in = STATE_START_LINE;
  parser->buf_len = 0;
  parser->buf_done = FALSE;
  clear_frame (parser);
}

gboolean
msrp_parser_is_idle (const MsrpParser *parser)
{
  g_return_val_if_fail (parser != NULL, FALSE);

  return parser->state == STATE_START_LINE &&
         (parser->buf_len == 0 || parser->buf_done);
}

gboolean
msrp_parser_has_failed (const MsrpParser *parser)
{
  g_return_val_if_fail (parser != NULL, FALSE);

  return parser->state == STATE_FAILED;
}

MsrpParserPhase
msrp_parser_get_phase (const MsrpParser *parser)
{
  State state;

  g_return_val_if_fail (parser != NULL, MSRP_PARSER_PHASE_START_LINE);

  state = parser->state == STATE_FAILED ? parser->failed_in : parser->state;
  switch (state)
    {
    case STATE_HEADERS:
      return MSRP_PARSER_PHASE_HEADERS;
    case STATE_PENDING_END:
    case STATE_BODY:
      return MSRP_PARSER_PHASE_BODY;
    case STATE_START_LINE:
    case STATE_FAILED:
    default:
      return MSRP_PARSER_PHASE_START_LINE;
    }
}

gsize
msrp_parser_get_buffer_size (const MsrpParser *parser)
{
  g_return_val_if_fail (parser != NULL, 0);

  return parser->buf_cap;
}

/* ---------------------------------------------------------------------------
 * Errors and lines
 * ------------------------------------------------------------------------- */

G_GNUC_PRINTF (3, 4)
static MsrpParseStatus
fail (MsrpParser *p, MsrpParserError code, const char *format, ...)
{
  va_list ap;

  g_clear_error (&p->failure);
  va_start (ap, format);
  p->failure = g_error_new_valist (MSRP_PARSER_ERROR, code, format, ap);
  va_end (ap);
  if (p->state != STATE_FAILED)
    p->failed_in = p->state;
  p->state = STATE_FAILED;
  return MSRP_PARSE_ERROR;
}

/* Wrap an error of msrp-headers (header order) into our domain. */
static MsrpParseStatus
fail_order (MsrpParser *p, GError *local)
{
  MsrpParseStatus st = fail (p, MSRP_PARSER_ERROR_ORDER, "%s", local->message);

  g_error_free (local);
  return st;
}

static void
buf_append (MsrpParser *p, const guint8 *data, gsize n)
{
  if (n == 0)
    return;
  if (p->buf_len + n > p->buf_cap)
    {
      gsize need = p->buf_len + n;
      gsize most = MAX (p->limits.max_start_line, p->limits.max_header_bytes);
      gsize cap = p->buf_cap > 0 ? p->buf_cap : 256;

      while (cap < need)
        cap *= 2;
      /* take_line() never lets a line outgrow the limits. */
      g_assert (need <= most);
      cap = MIN (cap, most);
      p->buf = g_realloc (p->buf, cap);
      p->buf_cap = cap;
    }
  memcpy (p->buf + p->buf_len, data, n);
  p->buf_len += n;
}

typedef enum
{
  LINE_MORE,     /* all of data went into the buffer */
  LINE_DONE,     /* *line is a whole line, LF included */
  LINE_TOO_LONG, /* the line would exceed @limit bytes */
} LineStatus;

/* Take the bytes of one line, of at most @limit bytes with its LF.  Only
 * @data (the new bytes) is searched for the LF. */
static LineStatus
take_line (MsrpParser *p, const guint8 *data, gsize len, gsize limit,
           gsize *consumed, const guint8 **line, gsize *line_len)
{
  const guint8 *lf = len > 0 ? memchr (data, '\n', len) : NULL;
  gsize room = limit > p->buf_len ? limit - p->buf_len : 0;
  gsize n;

  if (len == 0)
    return LINE_MORE; /* nothing new: not even a full buffer is an error */
  if (lf == NULL)
    {
      /* The LF is still to come, so these bytes must leave room for it. */
      if (len >= room)
        return LINE_TOO_LONG;
      buf_append (p, data, len);
      *consumed = len;
      return LINE_MORE;
    }
  n = (gsize) (lf - data) + 1;
  if (n > room)
    return LINE_TOO_LONG;
  if (p->buf_len == 0)
    {
      *line = data;
      *line_len = n;
    }
  else
    {
      buf_append (p, data, n);
      *line = p->buf;
      *line_len = p->buf_len;
      p->buf_done = TRUE;
    }
  *consumed = n;
  return LINE_DONE;
}

/* ---------------------------------------------------------------------------
 * Start line (section 9)
 *
 *   req-start  = pMSRP SP transact-id SP method CRLF
 *   resp-start = pMSRP SP transact-id SP status-code [SP comment] CRLF
 * ------------------------------------------------------------------------- */

static const char msrp_prefix[] = "MSRP ";
#define MSRP_PREFIX_LEN 5

static MsrpParseStatus
check_text (MsrpParser *p, const guint8 *s, gsize n, const char *where)
{
  gsize bad = 0;

  switch (check_utf8text (s, n, &bad))
    {
    case TEXT_OK:
      return MSRP_PARSE_EVENT;
    case TEXT_NUL:
      return fail (p, MSRP_PARSER_ERROR_SYNTAX, "NUL byte in %s", where);
    case TEXT_CR:
      return fail (p, MSRP_PARSER_ERROR_SYNTAX, "CR without LF in %s", where);
    case TEXT_CTL:
      return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                   "control character 0x%02x in %s", s[bad], where);
    case TEXT_BAD_UTF8:
    default:
      return fail (
          p, MSRP_PARSER_ERROR_SYNTAX,
          "invalid UTF-8 in %s (byte 0x%02x at offset %" G_GSIZE_FORMAT ")",
          where, s[bad], bad);
    }
}

static void
build_end_line (MsrpParser *p)
{
  gsize k = 0;

  p->end_line[k++] = '\r';
  p->end_line[k++] = '\n';
  memset (p->end_line + k, '-', 7);
  k += 7;
  memcpy (p->end_line + k, p->tid, p->tid_len);
  k += p->tid_len;
  p->flag_pos = k;
  p->end_line[k++] = '$'; /* any flag matches here */
  p->end_line[k++] = '\r';
  p->end_line[k++] = '\n';
  p->end_line_len = k;
}

/* @tid (@len bytes, at least one) is not an ident: say why. */
static MsrpParseStatus
fail_transaction_id (MsrpParser *p, const guint8 *tid, gsize len)
{
  g_autofree char *q = quote (tid, len);

  if (!is_alnum (tid[0]))
    return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                 "start line: transaction id '%s' does not begin with a "
                 "letter or digit",
                 q);
  for (gsize i = 1; i < len; i++)
    if (!is_ident_char (tid[i]))
      {
        g_autofree char *c = quote (tid + i, 1);

        return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                     "start line: transaction id '%s' contains '%s', which "
                     "is not an ident character",
                     q, c);
      }
  if (len > MSRP_PARSER_MAX_TRANSACTION_ID)
    return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                 "start line: transaction id '%s' is longer than %d "
                 "characters",
                 q, MSRP_PARSER_MAX_TRANSACTION_ID);
  return fail (p, MSRP_PARSER_ERROR_SYNTAX,
               "start line: transaction id '%s' is shorter than %d "
               "characters",
               q, MSRP_PARSER_MIN_TRANSACTION_ID);
}

/* The rest of a response's start line, line[pos, end):
 * status-code = 3DIGIT [SP comment] */
static MsrpParseStatus
parse_status (MsrpParser *p, const guint8 *line, gsize pos, gsize end,
              MsrpParserEvent *event)
{
  gsize d = pos;

  while (d < end && g_ascii_isdigit (line[d]))
    d++;
  if (d - pos != 3 || (d < end && line[d] != ' '))
    {
      gsize w = d;
      g_autofree char *q = NULL;

      while (w < end && line[w] != ' ')
        w++;
      q = quote (line + pos, w - pos);
      return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                   "start line: status code '%s' is not three digits", q);
    }
  event->type = MSRP_PARSER_EVENT_RESPONSE;
  event->status_code =
      (guint) ((line[pos] - '0') * 100 + (line[pos + 1] - '0') * 10 +
               (line[pos + 2] - '0'));
  if (d < end)
    {
      if (check_text (p, line + d + 1, end - d - 1, "start line comment") ==
          MSRP_PARSE_ERROR)
        return MSRP_PARSE_ERROR;
      event->comment = (const char *) line + d + 1;
      event->comment_len = end - d - 1;
    }
  p->is_request = FALSE;
  p->is_send = FALSE;
  return MSRP_PARSE_EVENT;
}

/* The rest of a request's start line, line[pos, end):
 * method = 1*UPALPHA (mSEND, mREPORT, RFC 4976's mAUTH, others) */
static MsrpParseStatus
parse_method (MsrpParser *p, const guint8 *line, gsize pos, gsize end,
              MsrpParserEvent *event)
{
  for (gsize i = pos; i < end; i++)
    if (line[i] < 'A' || line[i] > 'Z')
      {
        g_autofree char *q = quote (line + pos, end - pos);

        return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                     "start line: method '%s' is not upper-case letters "
                     "only",
                     q);
      }
  event->type = MSRP_PARSER_EVENT_REQUEST;
  event->method = (const char *) line + pos;
  event->method_len = end - pos;
  p->is_request = TRUE;
  p->is_send = end - pos == 4 && memcmp (line + pos, "SEND", 4) == 0;
  return MSRP_PARSE_EVENT;
}

static MsrpParseStatus
parse_start_line (MsrpParser *p, const guint8 *line, gsize n,
                  MsrpParserEvent *event)
{
  gsize end, pos, tid_start, tid_len;
  MsrpParseStatus status;

  if (n < 2 || line[n - 2] != '\r')
    return fail (p, MSRP_PARSER_ERROR_SYNTAX, "LF without CR in start line");
  end = n - 2;
  /* The prefix was checked byte by byte as it arrived. */
  g_assert (end >= MSRP_PREFIX_LEN);

  /* transact-id = ident; ident = ALPHANUM 3*31ident-char */
  tid_start = pos = MSRP_PREFIX_LEN;
  while (pos < end && line[pos] != ' ')
    pos++;
  tid_len = pos - tid_start;
  if (tid_len == 0)
    return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                 "start line: transaction id missing after 'MSRP '");
  if (!is_alnum (line[tid_start]) ||
      tid_len > MSRP_PARSER_MAX_TRANSACTION_ID ||
      tid_len < MSRP_PARSER_MIN_TRANSACTION_ID)
    return fail_transaction_id (p, line + tid_start, tid_len);
  for (gsize i = tid_start; i < pos; i++)
    if (!is_ident_char (line[i]))
      return fail_transaction_id (p, line + tid_start, tid_len);
  if (pos == end || pos + 1 == end)
    return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                 "start line: method or status code missing after the "
                 "transaction id");
  pos++;

  memset (event, 0, sizeof *event);
  if (g_ascii_isdigit (line[pos]))
    status = parse_status (p, line, pos, end, event);
  else
    status = parse_method (p, line, pos, end, event);
  if (status == MSRP_PARSE_ERROR)
    return status;

  memcpy (p->tid, line + tid_start, tid_len);
  p->tid_len = tid_len;
  build_end_line (p);
  event->transaction_id = (const char *) line + tid_start;
  event->transaction_id_len = tid_len;
  p->state = STATE_HEADERS;
  return MSRP_PARSE_EVENT;
}

static MsrpParseStatus
feed_start_line (MsrpParser *p, const guint8 *data, gsize len, gsize *consumed,
                 MsrpParserEvent *event)
{
  const guint8 *line = NULL;
  gsize line_len = 0;

  /* Check "MSRP " as it arrives, so that a peer speaking anything else (TLS,
   * HTTP, stray CRLFs between frames) fails at once.  The message quotes
   * the bytes up to the first wrong one, which do not depend on how the
   * input was split. */
  for (gsize i = 0; p->buf_len + i < MSRP_PREFIX_LEN && i < len; i++)
    if (data[i] != (guint8) msrp_prefix[p->buf_len + i])
      {
        guint8 seen[MSRP_PREFIX_LEN];
        g_autofree char *q = NULL;

        if (p->buf_len > 0)
          memcpy (seen, p->buf, p->buf_len);
        memcpy (seen + p->buf_len, data, i + 1);
        q = quote (seen, p->buf_len + i + 1);
        return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                     "start line does not begin with 'MSRP ': got '%s'", q);
      }

  switch (take_line (p, data, len, p->limits.max_start_line, consumed, &line,
                     &line_len))
    {
    case LINE_MORE:
      return MSRP_PARSE_NEED_MORE;
    case LINE_TOO_LONG:
      return fail (p, MSRP_PARSER_ERROR_LIMIT,
                   "start line longer than %" G_GSIZE_FORMAT " bytes",
                   p->limits.max_start_line);
    case LINE_DONE:
    default:
      return parse_start_line (p, line, line_len, event);
    }
}

/* ---------------------------------------------------------------------------
 * Headers (sections 6, 7.1, 7.2, 9)
 *
 *   headers = To-Path CRLF From-Path CRLF 1*( header CRLF )
 *   ext-header = hname ":" SP hval CRLF
 *   hname = ALPHA *token
 *   hval = utf8text
 *   content-stuff = *(Other-Mime-header CRLF)
 *                   Content-Type 2CRLF data CRLF
 * ------------------------------------------------------------------------- */

static MsrpParseStatus
end_of_headers (MsrpParser *p, gboolean has_body, MsrpParserEvent *event)
{
  GError *local = NULL;

  if (!msrp_header_order_finish (&p->order, &local))
    return fail_order (p, local);

  if (has_body)
    {
      /* Section 7.2: a response never carries a body (msrp-response has no
       * content-stuff); section 7.1: "If the request has a body, it MUST
       * contain a Content-Type header field." */
      if (!p->is_request)
        return fail (p, MSRP_PARSER_ERROR_BODY,
                     "response with a body (blank line after the headers)");
      if (!p->seen_content_type)
        return fail (p, MSRP_PARSER_ERROR_BODY,
                     "body present but no Content-Type");
      /* The blank line's CRLF may double as the CRLF before the end-line
       * of an empty body (see below), but is never body itself. */
      p->held = 2;
      p->held_skip = 2;
      p->body_len = 0;
      p->state = STATE_BODY;
    }
  else
    {
      /* Section 7.1: "A request with no body MUST NOT include a
       * Content-Type or any other MIME-specific header fields." */
      if (p->seen_content_type)
        return fail (p, MSRP_PARSER_ERROR_BODY,
                     "Content-Type present but no body (no blank line "
                     "before the end-line)");
      if (p->mime_name[0] != '\0')
        return fail (p, MSRP_PARSER_ERROR_BODY,
                     "MIME header '%s' in a frame without body", p->mime_name);
      p->state = STATE_PENDING_END;
    }

  memset (event, 0, sizeof *event);
  event->type = MSRP_PARSER_EVENT_HEADERS_END;
  event->has_body = has_body;
  return MSRP_PARSE_EVENT;
}

/* end-line = "-------" transact-id continuation-flag CRLF, right after the
 * headers of a frame without body. */
static MsrpParseStatus
parse_bodiless_end_line (MsrpParser *p, const guint8 *line, gsize end,
                         MsrpParserEvent *event)
{
  guint8 flag;

  for (gsize i = 0; i < 7; i++)
    if (i >= end || line[i] != '-')
      {
        g_autofree char *q = quote (line, end);

        return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                     "line '%s' after header %u is neither a header nor an "
                     "end-line",
                     q, p->n_headers);
      }
  flag = line[end - 1];
  if (end == 7 || !is_flag (flag))
    {
      g_autofree char *q = quote (line, end);

      return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                   "end-line '%s' does not end in a continuation flag "
                   "('$', '+' or '#')",
                   q);
    }
  if (end - 8 != p->tid_len || memcmp (line + 7, p->tid, p->tid_len) != 0)
    {
      g_autofree char *got = quote (line + 7, end - 8);
      g_autofree char *want = quote (p->tid, p->tid_len);

      return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                   "end-line transaction id '%s' does not match start line "
                   "'%s'",
                   got, want);
    }
  /* Section 7.2: "Since a response is never chunked, the continuation flag
   * in the end-line will always contain a dollar sign". */
  if (!p->is_request && flag != '$')
    return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                 "response end-line has continuation flag '%c', not '$'",
                 flag);
  p->pending_flag = (char) flag;
  return end_of_headers (p, FALSE, event);
}

/* The value of header @index (@name, @name_len) fails utf8text at @bad. */
static MsrpParseStatus
fail_header_value (MsrpParser *p, guint index, const guint8 *name,
                   gsize name_len, const guint8 *value, gsize bad,
                   TextCheck why)
{
  int n = (int) MIN (name_len, QUOTE_MAX);
  const char *s = (const char *) name;

  switch (why)
    {
    case TEXT_NUL:
      return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                   "header %u: NUL byte in header '%.*s'", index, n, s);
    case TEXT_CR:
      return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                   "header %u: CR without LF in header '%.*s'", index, n, s);
    case TEXT_CTL:
      return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                   "header %u: control character 0x%02x in header '%.*s'",
                   index, value[bad], n, s);
    case TEXT_OK:
    case TEXT_BAD_UTF8:
    default:
      return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                   "header %u: invalid UTF-8 in header '%.*s' (byte 0x%02x "
                   "at offset %" G_GSIZE_FORMAT " of the value)",
                   index, n, s, value[bad], bad);
    }
}

static MsrpParseStatus
parse_header_line (MsrpParser *p, const guint8 *line, gsize end,
                   MsrpParserEvent *event)
{
  guint index = p->n_headers + 1;
  gsize name_len;
  const guint8 *value;
  gsize value_len;
  MsrpHeaderId id;
  GError *local = NULL;
  gsize bad = 0;
  TextCheck text;

  if (index > p->limits.max_headers)
    return fail (p, MSRP_PARSER_ERROR_LIMIT, "more than %u headers",
                 p->limits.max_headers);

  /* hname = ALPHA *token */
  if (!g_ascii_isalpha (line[0]))
    {
      g_autofree char *q = quote (line, end);

      return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                   "header %u: name does not begin with a letter: '%s'", index,
                   q);
    }
  name_len = 1;
  while (name_len < end && msrp_is_token_char (line[name_len]))
    name_len++;
  if (name_len + 2 > end || line[name_len] != ':' || line[name_len + 1] != ' ')
    {
      g_autofree char *q = quote (line, name_len);

      return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                   "header %u: missing ': ' after name '%s'", index, q);
    }
  value = line + name_len + 2;
  value_len = end - name_len - 2;
  text = check_utf8text (value, value_len, &bad);
  if (text != TEXT_OK)
    return fail_header_value (p, index, line, name_len, value, bad, text);

  id = msrp_header_id_from_name ((const char *) line, name_len);
  if (!msrp_header_order_check (&p->order, id, &local))
    return fail_order (p, local);
  if (!p->is_request && id == MSRP_HEADER_CONTENT_TYPE)
    return fail (p, MSRP_PARSER_ERROR_BODY,
                 "header %u: Content-Type in a response (responses carry no "
                 "body)",
                 index);
  /* Section 7.1: "The Content-Type header field MUST be the last field in
   * the message header section." */
  if (p->seen_content_type)
    return fail (p, MSRP_PARSER_ERROR_ORDER,
                 "header %u: '%.*s' after Content-Type, which must be the "
                 "last header",
                 index, (int) MIN (name_len, QUOTE_MAX), (const char *) line);
  if (id == MSRP_HEADER_CONTENT_TYPE)
    p->seen_content_type = TRUE;
  else if (p->mime_name[0] == '\0' && name_len >= 8 &&
           g_ascii_strncasecmp ((const char *) line, "Content-", 8) == 0)
    {
      /* Other-Mime-header (RFC 2045 "Content-" fields): only with a body. */
      gsize n = MIN (name_len, MIME_NAME_MAX);

      memcpy (p->mime_name, line, n);
      p->mime_name[n] = '\0';
    }

  p->n_headers = index;
  memset (event, 0, sizeof *event);
  event->type = MSRP_PARSER_EVENT_HEADER;
  event->header_index = index;
  event->header_id = id;
  event->name = (const char *) line;
  event->name_len = name_len;
  event->value = (const char *) value;
  event->value_len = value_len;
  return MSRP_PARSE_EVENT;
}

static MsrpParseStatus
feed_headers (MsrpParser *p, const guint8 *data, gsize len, gsize *consumed,
              MsrpParserEvent *event)
{
  const guint8 *line = NULL;
  gsize n = 0;
  gsize room = p->limits.max_header_bytes > p->header_bytes
                   ? p->limits.max_header_bytes - p->header_bytes
                   : 0;

  switch (take_line (p, data, len, room, consumed, &line, &n))
    {
    case LINE_MORE:
      return MSRP_PARSE_NEED_MORE;
    case LINE_TOO_LONG:
      return fail (p, MSRP_PARSER_ERROR_LIMIT,
                   "header block longer than %" G_GSIZE_FORMAT " bytes",
                   p->limits.max_header_bytes);
    case LINE_DONE:
    default:
      break;
    }
  p->header_bytes += n;
  if (n < 2 || line[n - 2] != '\r')
    return fail (p, MSRP_PARSER_ERROR_SYNTAX,
                 "LF without CR in header block (line %u after the start "
                 "line)",
                 p->n_headers + 1);
  n -= 2;
  if (n == 0)
    return end_of_headers (p, TRUE, event);
  if (line[0] == '-')
    return parse_bodiless_end_line (p, line, n, event);
  return parse_header_line (p, line, n, event);
}

/* ---------------------------------------------------------------------------
 * Body and end-line (sections 7.1 and 9)
 *
 *   content-stuff = ... Content-Type 2CRLF data CRLF
 *   end-line = "-------" transact-id continuation-flag CRLF
 *
 * The CRLF before the end-line is framing, not body.  An empty body is
 * "2CRLF CRLF end-line"; we also take "2CRLF end-line" (the CRLF missing):
 * section 7.1 forbids the end-line inside a body, so the reading is
 * unambiguous, and refusing it would only desynchronise the connection.
 * ------------------------------------------------------------------------- */

/* Compare @data with the end-line template from position @k; returns how
 * many bytes matched.  A flag that matches is written into the template so
 * that held bytes can be handed out as body if the match fails later. */
static gsize
match_end_line (MsrpParser *p, gsize k, const guint8 *data, gsize len)
{
  gsize i = 0;

  while (k + i < p->end_line_len && i < len)
    {
      guint8 c = data[i];

      if (k + i == p->flag_pos)
        {
          if (!is_flag (c))
            break;
          p->end_line[p->flag_pos] = c;
        }
      else if (c != p->end_line[k + i])
        break;
      i++;
    }
  return i;
}

/* How many of *@n body bytes may go out now: all of them, except in a
 * non-SEND request near its limit; fails when not one may. */
static gboolean
body_allowance (MsrpParser *p, gsize *n)
{
  guint64 room;

  if (p->is_send)
    return TRUE;
  room = p->limits.max_non_send_body > p->body_len
             ? p->limits.max_non_send_body - p->body_len
             : 0;
  if (room == 0)
    {
      fail (p, MSRP_PARSER_ERROR_LIMIT,
            "body of a non-SEND request longer than %" G_GUINT64_FORMAT
            " bytes",
            p->limits.max_non_send_body);
      return FALSE;
    }
  if (*n > room)
    *n = (gsize) room;
  return TRUE;
}

static MsrpParseStatus
emit_body (MsrpParser *p, const guint8 *data, gsize n, gboolean held,
           gsize *emitted, MsrpParserEvent *event)
{
  if (!body_allowance (p, &n))
    return MSRP_PARSE_ERROR;
  p->body_len += n;
  memset (event, 0, sizeof *event);
  event->type = MSRP_PARSER_EVENT_BODY;
  event->data = data;
  event->data_len = n;
  event->held = held;
  *emitted = n;
  return MSRP_PARSE_EVENT;
}

static MsrpParseStatus
end_frame (MsrpParser *p, char flag, MsrpParserEvent *event)
{
  memset (event, 0, sizeof *event);
  event->type = MSRP_PARSER_EVENT_END;
  event->transaction_id = p->tid;
  event->transaction_id_len = p->tid_len;
  event->continuation = flag;
  event->body_len = p->body_len;
  /* p->tid stays intact until the next start line is parsed, in a later
   * call, so the event's slice stays valid as promised. */
  clear_frame (p);
  p->state = STATE_START_LINE;
  return MSRP_PARSE_EVENT;
}

static MsrpParseStatus
feed_body (MsrpParser *p, const guint8 *data, gsize len, gsize *consumed,
           MsrpParserEvent *event)
{
  gsize pos = 0;

  if (p->held > 0)
    {
      gsize m = match_end_line (p, p->held, data, len);

      if (p->held + m == p->end_line_len)
        {
          *consumed = m;
          return end_frame (p, (char) p->end_line[p->flag_pos], event);
        }
      if (m == len)
        {
          /* Still undecided: keep holding. */
          p->held += len;
          *consumed = len;
          return MSRP_PARSE_NEED_MORE;
        }
      /* Not the end-line: what was held is body.  The bytes of @data that
       * matched are left unconsumed and scanned again below, next call. */
      if (p->held > p->held_skip)
        {
          gsize n = 0;

          if (emit_body (p, p->end_line + p->held_skip, p->held - p->held_skip,
                         TRUE, &n, event) == MSRP_PARSE_ERROR)
            return MSRP_PARSE_ERROR;
          p->held_skip += n;
          if (p->held_skip == p->held)
            p->held = p->held_skip = 0;
          *consumed = 0;
          return MSRP_PARSE_EVENT;
        }
      p->held = p->held_skip = 0;
    }

  while (pos < len)
    {
      const guint8 *cr = memchr (data + pos, '\r', len - pos);
      gsize r, m;

      if (cr == NULL)
        break;
      r = (gsize) (cr - data);
      m = match_end_line (p, 0, data + r, len - r);
      if (m == p->end_line_len || r + m == len)
        {
          /* The end-line, or what may be its start: body before it first. */
          if (r > 0)
            return emit_body (p, data, r, FALSE, consumed, event);
          if (m == p->end_line_len)
            {
              *consumed = m;
              return end_frame (p, (char) p->end_line[p->flag_pos], event);
            }
          p->held = m;
          p->held_skip = 0;
          *consumed = len;
          return MSRP_PARSE_NEED_MORE;
        }
      pos = r + 1;
    }
  if (len == 0)
    return MSRP_PARSE_NEED_MORE;
  return emit_body (p, data, len, FALSE, consumed, event);
}

/* ---------------------------------------------------------------------------
 * Entry point
 * ------------------------------------------------------------------------- */

MsrpParseStatus
msrp_parser_feed (MsrpParser *parser, const guint8 *data, gsize len,
                  gsize *consumed, MsrpParserEvent *event, GError **error)
{
  MsrpParseStatus st;

  g_return_val_if_fail (parser != NULL, MSRP_PARSE_ERROR);
  g_return_val_if_fail (data != NULL || len == 0, MSRP_PARSE_ERROR);
  g_return_val_if_fail (consumed != NULL, MSRP_PARSE_ERROR);
  g_return_val_if_fail (event != NULL, MSRP_PARSE_ERROR);
  g_return_val_if_fail (error == NULL || *error == NULL, MSRP_PARSE_ERROR);

  *consumed = 0;
  /* The line reported by the previous call may go now. */
  if (parser->buf_done)
    {
      parser->buf_len = 0;
      parser->buf_done = FALSE;
    }

  switch (parser->state)
    {
    case STATE_START_LINE:
      st = feed_start_line (parser, data, len, consumed, event);
      break;
    case STATE_HEADERS:
      st = feed_headers (parser, data, len, consumed, event);
      break;
    case STATE_PENDING_END:
      st = end_frame (parser, parser->pending_flag, event);
      break;
    case STATE_BODY:
      st = feed_body (parser, data, len, consumed, event);
      break;
    case STATE_FAILED:
    default:
      st = MSRP_PARSE_ERROR;
      break;
    }

  if (st == MSRP_PARSE_ERROR)
    {
      *consumed = 0;
      g_assert (parser->failure != NULL);
      g_propagate_error (error, g_error_copy (parser->failure));
    }
  g_assert (*consumed <= len);
  return st;
}
