/* msrp-headers.c: MSRP header field values (RFC 4975 sections 7 and 9,
 * RFC 4976 section 4). */
#include "msrp-headers.h"
#include "msrp-chars-priv.h"

#include <string.h>

GQuark
msrp_header_error_quark (void)
{
  return g_quark_from_static_string ("msrp-header-error-quark");
}

/* ---------------------------------------------------------------------------
 * Header names
 * ------------------------------------------------------------------------- */

/* Indexed by MsrpHeaderId; entry 0 (OTHER) has no name. */
static const char *const header_names[] = {
  [MSRP_HEADER_OTHER] = NULL,
  [MSRP_HEADER_TO_PATH] = "To-Path",
  [MSRP_HEADER_FROM_PATH] = "From-Path",
  [MSRP_HEADER_MESSAGE_ID] = "Message-ID",
  [MSRP_HEADER_SUCCESS_REPORT] = "Success-Report",
  [MSRP_HEADER_FAILURE_REPORT] = "Failure-Report",
  [MSRP_HEADER_BYTE_RANGE] = "Byte-Range",
  [MSRP_HEADER_STATUS] = "Status",
  [MSRP_HEADER_CONTENT_TYPE] = "Content-Type",
  [MSRP_HEADER_CONTENT_ID] = "Content-ID",
  [MSRP_HEADER_CONTENT_DESCRIPTION] = "Content-Description",
  [MSRP_HEADER_CONTENT_DISPOSITION] = "Content-Disposition",
  [MSRP_HEADER_USE_PATH] = "Use-Path",
  [MSRP_HEADER_EXPIRES] = "Expires",
  [MSRP_HEADER_MIN_EXPIRES] = "Min-Expires",
  [MSRP_HEADER_MAX_EXPIRES] = "Max-Expires",
  [MSRP_HEADER_WWW_AUTHENTICATE] = "WWW-Authenticate",
  [MSRP_HEADER_AUTHORIZATION] = "Authorization",
  [MSRP_HEADER_AUTHENTICATION_INFO] = "Authentication-Info",
};

#define N_HEADER_IDS G_N_ELEMENTS (header_names)

G_STATIC_ASSERT (N_HEADER_IDS <= 64); /* MsrpHeaderOrder.seen is a guint64 */

/* Header names are case-insensitive: RFC 4975 section 9 writes them as ABNF
 * quoted strings, which RFC 5234 section 2.3 defines as case-insensitive. */
MsrpHeaderId
msrp_header_id_from_name (const char *name, gsize len)
{
  g_return_val_if_fail (name != NULL || len == 0, MSRP_HEADER_OTHER);

  for (guint i = 1; i < N_HEADER_IDS; i++)
    {
      const char *known = header_names[i];

      if (strlen (known) == len && g_ascii_strncasecmp (known, name, len) == 0)
        return (MsrpHeaderId) i;
    }
  return MSRP_HEADER_OTHER;
}

const char *
msrp_header_id_to_name (MsrpHeaderId id)
{
  if ((guint) id >= N_HEADER_IDS)
    return NULL;
  return header_names[id];
}

/* Name for error messages; never NULL. */
static const char *
id_display_name (MsrpHeaderId id)
{
  const char *name = msrp_header_id_to_name (id);

  return name != NULL ? name : "an extension header";
}

/* ---------------------------------------------------------------------------
 * Header order (RFC 4975 sections 6 and 9)
 *
 *   headers = To-Path CRLF From-Path CRLF 1*( header CRLF )
 *
 * To-Path is the first header and From-Path the second.  Every header this
 * module knows is single-valued and may appear once, except WWW-Authenticate:
 * RFC 4976 section 7 puts one Digest challenge in a field, and a relay
 * offering SHA-256 and MD5 sends one field per algorithm (RFC 7616 section
 * 3.7).  Extension headers (MSRP_HEADER_OTHER) are not counted either.  The
 * ABNF asks for at least one header after From-Path in a request, but a
 * response (section 7.2) may carry only the two paths, so finish() accepts a
 * block of just To-Path and From-Path; a caller that wants the stricter
 * request rule checks the index itself.
 * ------------------------------------------------------------------------- */

void
msrp_header_order_init (MsrpHeaderOrder *order)
{
  g_return_if_fail (order != NULL);

  order->index = 0;
  order->seen = 0;
}

gboolean
msrp_header_order_check (MsrpHeaderOrder *order, MsrpHeaderId id,
                         GError **error)
{
  g_return_val_if_fail (order != NULL, FALSE);
  g_return_val_if_fail ((guint) id < N_HEADER_IDS, FALSE);

  if (id != MSRP_HEADER_OTHER && id != MSRP_HEADER_WWW_AUTHENTICATE &&
      (order->seen & (G_GUINT64_CONSTANT (1) << id)))
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_DUPLICATE,
                   "%s: header appears more than once (again as header %u)",
                   id_display_name (id), order->index + 1);
      return FALSE;
    }

  if (order->index == 0 && id != MSRP_HEADER_TO_PATH)
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_ORDER,
                   "header 1 is %s, but To-Path must be the first header",
                   id_display_name (id));
      return FALSE;
    }
  if (order->index == 1 && id != MSRP_HEADER_FROM_PATH)
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_ORDER,
                   "header 2 is %s, but From-Path must be the second header",
                   id_display_name (id));
      return FALSE;
    }

  /* index >= 2 with To-Path/From-Path is caught above as a duplicate, since
   * both were seen at index 0 and 1. */
  if (order->index < G_MAXUINT)
    order->index++;
  if (id != MSRP_HEADER_OTHER)
    order->seen |= G_GUINT64_CONSTANT (1) << id;
  return TRUE;
}

gboolean
msrp_header_order_finish (MsrpHeaderOrder *order, GError **error)
{
  g_return_val_if_fail (order != NULL, FALSE);

  if (!(order->seen & (G_GUINT64_CONSTANT (1) << MSRP_HEADER_TO_PATH)))
    {
      g_set_error_literal (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_MISSING,
                           "To-Path: mandatory header is missing");
      return FALSE;
    }
  if (!(order->seen & (G_GUINT64_CONSTANT (1) << MSRP_HEADER_FROM_PATH)))
    {
      g_set_error_literal (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_MISSING,
                           "From-Path: mandatory header is missing");
      return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * Shared helpers
 * ------------------------------------------------------------------------- */

/* Longest run of a number quoted back in an error message. */
#define QUOTE_MAX 40

/* A short description of the byte at @pos for error messages: "'x'" for a
 * printable ASCII character, "byte 0xNN" otherwise, "the end" past @len. */
static const char *
describe_at (const char *value, gsize len, gsize pos, char buf[16])
{
  guchar c;

  if (pos >= len)
    return "the end of the value";
  c = (guchar) value[pos];
  if (c >= 0x21 && c <= 0x7e)
    g_snprintf (buf, 16, "'%c'", c);
  else
    g_snprintf (buf, 16, "byte 0x%02x", c);
  return buf;
}

static inline gboolean
is_digit (guchar c)
{
  return c >= '0' && c <= '9';
}

static inline gboolean
is_alphanum (guchar c)
{
  return is_digit (c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline gboolean
is_wsp (guchar c)
{
  return c == ' ' || c == '\t';
}

/* Length of the valid UTF-8 multibyte sequence starting at @p (at most @avail
 * bytes readable), or 0 when there is none.  Section 9 writes UTF8-NONASCII
 * with the pre-RFC 3629 5- and 6-byte forms, but also says MSRP uses UTF-8 as
 * RFC 3629 defines it; we follow RFC 3629 section 4: no overlong forms, no
 * surrogates, nothing above U+10FFFF. */
static gsize
utf8_multibyte_len (const guchar *p, gsize avail)
{
  guchar lo = 0x80, hi = 0xbf;
  gsize need;

  if (p[0] >= 0xc2 && p[0] <= 0xdf)
    need = 2;
  else if (p[0] >= 0xe0 && p[0] <= 0xef)
    {
      need = 3;
      if (p[0] == 0xe0)
        lo = 0xa0;
      else if (p[0] == 0xed)
        hi = 0x9f;
    }
  else if (p[0] >= 0xf0 && p[0] <= 0xf4)
    {
      need = 4;
      if (p[0] == 0xf0)
        lo = 0x90;
      else if (p[0] == 0xf4)
        hi = 0x8f;
    }
  else
    return 0;

  if (avail < need)
    return 0;
  if (p[1] < lo || p[1] > hi)
    return 0;
  for (gsize i = 2; i < need; i++)
    if (p[i] < 0x80 || p[i] > 0xbf)
      return 0;
  return need;
}

/* Walks utf8text = *(HTAB / %x20-7E / UTF8-NONASCII) (section 9).  Returns the
 * offset of the first byte that is not utf8text, or @len when all is. */
static gsize
utf8text_span (const char *value, gsize len)
{
  const guchar *p = (const guchar *) value;
  gsize i = 0;

  while (i < len)
    {
      if (p[i] == '\t' || (p[i] >= 0x20 && p[i] <= 0x7e))
        i++;
      else if (p[i] >= 0x80)
        {
          gsize n = utf8_multibyte_len (p + i, len - i);

          if (n == 0)
            return i;
          i += n;
        }
      else
        return i;
    }
  return len;
}

static void
set_utf8text_error (GError **error, const char *what, const char *value,
                    gsize len, gsize pos)
{
  char buf[16];

  if ((guchar) value[pos] >= 0x80)
    g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                 "%s: invalid UTF-8 sequence at offset %" G_GSIZE_FORMAT, what,
                 pos);
  else
    g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                 "%s: %s at offset %" G_GSIZE_FORMAT
                 " is not allowed in utf8text",
                 what, describe_at (value, len, pos, buf), pos);
}

gboolean
msrp_utf8text_is_valid (const char *value, gsize len)
{
  g_return_val_if_fail (value != NULL || len == 0, FALSE);

  return utf8text_span (value, len) == len;
}

gboolean
msrp_utf8text_check (MsrpHeaderId which, const char *value, gsize len,
                     GError **error)
{
  gsize bad;

  g_return_val_if_fail (value != NULL || len == 0, FALSE);

  bad = utf8text_span (value, len);
  if (bad < len)
    {
      set_utf8text_error (error, id_display_name (which), value, len, bad);
      return FALSE;
    }
  return TRUE;
}

typedef enum
{
  NUM_OK,
  NUM_EMPTY,   /* no digit at the start */
  NUM_TOO_BIG, /* more than @max */
} NumResult;

/* Reads 1*DIGIT from @value at *@pos, stopping at the first non-digit, into
 * @out, without wrapping: a value above @max gives NUM_TOO_BIG (the whole
 * digit run is still consumed so the caller can quote it).  Leading zeros are
 * allowed, as 1*DIGIT allows them. */
static NumResult
parse_digits (const char *value, gsize len, gsize *pos, guint64 max,
              guint64 *out)
{
  gsize i = *pos;
  guint64 n = 0;
  gboolean too_big = FALSE;

  while (i < len && is_digit ((guchar) value[i]))
    {
      guint d = (guchar) value[i] - '0';

      if (!too_big && (n > (max - d) / 10))
        too_big = TRUE;
      if (!too_big)
        n = n * 10 + d;
      i++;
    }
  if (i == *pos)
    return NUM_EMPTY;
  *pos = i;
  if (too_big)
    return NUM_TOO_BIG;
  *out = n;
  return NUM_OK;
}

static void
set_too_big_error (GError **error, const char *what, const char *field,
                   const char *digits, gsize n_digits, guint64 max)
{
  g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_RANGE,
               "%s: %s %.*s%s is larger than %" G_GUINT64_FORMAT, what, field,
               (int) MIN (n_digits, QUOTE_MAX), digits,
               n_digits > QUOTE_MAX ? "..." : "", max);
}

/* ---------------------------------------------------------------------------
 * Byte-Range (sections 7.1.1 and 9)
 *
 *   Byte-Range = "Byte-Range:" SP range-start "-" range-end "/" total
 *   range-start = 1*DIGIT
 *   range-end   = 1*DIGIT / "*"
 *   total       = 1*DIGIT / "*"
 *
 * Besides the ABNF, the numbers must make sense together (section 7.1.1):
 * positions are 1-based, so range-start >= 1; the body spans range-start to
 * range-end inclusive, so range-end >= range-start, except that a range for
 * "nonexistent or zero-length content MUST still have a range-start value of
 * 1", e.g. "1-0/0": range-end = range-start - 1 is accepted for range-start 1
 * only.  When known, range-end <= total and range-start <= total (a chunk
 * cannot start after the last byte), the empty "1-.../0" excepted.
 * ------------------------------------------------------------------------- */

static gboolean
byte_range_number (const char *value, gsize len, gsize *pos, const char *field,
                   gboolean star_ok, guint64 *out, gboolean *unknown,
                   GError **error)
{
  gsize start = *pos;
  char buf[16];

  if (star_ok && start < len && value[start] == '*')
    {
      *pos = start + 1;
      *unknown = TRUE;
      *out = 0;
      return TRUE;
    }
  switch (parse_digits (value, len, pos, G_MAXUINT64, out))
    {
    case NUM_OK:
      *unknown = FALSE;
      return TRUE;
    case NUM_TOO_BIG:
      set_too_big_error (error, "Byte-Range", field, value + start,
                         *pos - start, G_MAXUINT64);
      return FALSE;
    case NUM_EMPTY:
    default:
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                   "Byte-Range: expected %s (%s) at offset %" G_GSIZE_FORMAT
                   ", found %s",
                   field, star_ok ? "digits or '*'" : "digits", start,
                   describe_at (value, len, start, buf));
      return FALSE;
    }
}

static gboolean
byte_range_expect (const char *value, gsize len, gsize *pos, char sep,
                   const char *after, GError **error)
{
  char buf[16];

  if (*pos < len && value[*pos] == sep)
    {
      (*pos)++;
      return TRUE;
    }
  g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
               "Byte-Range: expected '%c' after %s at offset %" G_GSIZE_FORMAT
               ", found %s",
               sep, after, *pos, describe_at (value, len, *pos, buf));
  return FALSE;
}

gboolean
msrp_byte_range_parse (const char *value, gsize len, MsrpByteRange *out,
                       GError **error)
{
  MsrpByteRange r = {
    0,
  };
  gboolean start_unknown = FALSE;
  gsize pos = 0;
  char buf[16];

  g_return_val_if_fail (value != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (!byte_range_number (value, len, &pos, "range-start", FALSE, &r.start,
                          &start_unknown, error) ||
      !byte_range_expect (value, len, &pos, '-', "range-start", error) ||
      !byte_range_number (value, len, &pos, "range-end", TRUE, &r.end,
                          &r.end_unknown, error) ||
      !byte_range_expect (value, len, &pos, '/', "range-end", error) ||
      !byte_range_number (value, len, &pos, "total", TRUE, &r.total,
                          &r.total_unknown, error))
    return FALSE;
  if (pos != len)
    {
      g_set_error (
          error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
          "Byte-Range: unexpected %s after total at offset %" G_GSIZE_FORMAT,
          describe_at (value, len, pos, buf), pos);
      return FALSE;
    }

  if (r.start < 1)
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_RANGE,
                   "Byte-Range: range-start %" G_GUINT64_FORMAT " is not >= 1",
                   r.start);
      return FALSE;
    }
  if (!r.end_unknown && r.end < r.start && !(r.start == 1 && r.end == 0))
    {
      g_set_error (
          error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_RANGE,
          "Byte-Range: range-end %" G_GUINT64_FORMAT
          " is before range-start %" G_GUINT64_FORMAT
          " (only an empty range starting at 1, \"1-0/...\", may do so)",
          r.end, r.start);
      return FALSE;
    }
  if (!r.total_unknown && !r.end_unknown && r.end > r.total)
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_RANGE,
                   "Byte-Range: range-end %" G_GUINT64_FORMAT
                   " is beyond total %" G_GUINT64_FORMAT,
                   r.end, r.total);
      return FALSE;
    }
  if (!r.total_unknown && r.start > r.total && !(r.start == 1 && r.total == 0))
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_RANGE,
                   "Byte-Range: range-start %" G_GUINT64_FORMAT
                   " is beyond total %" G_GUINT64_FORMAT,
                   r.start, r.total);
      return FALSE;
    }

  *out = r;
  return TRUE;
}

char *
msrp_byte_range_to_string (const MsrpByteRange *range)
{
  GString *s;

  g_return_val_if_fail (range != NULL, NULL);

  s = g_string_sized_new (64);
  g_string_append_printf (s, "%" G_GUINT64_FORMAT "-", range->start);
  if (range->end_unknown)
    g_string_append_c (s, '*');
  else
    g_string_append_printf (s, "%" G_GUINT64_FORMAT, range->end);
  g_string_append_c (s, '/');
  if (range->total_unknown)
    g_string_append_c (s, '*');
  else
    g_string_append_printf (s, "%" G_GUINT64_FORMAT, range->total);
  return g_string_free (s, FALSE);
}

/* ---------------------------------------------------------------------------
 * Success-Report / Failure-Report (sections 7.1.1 and 9)
 *
 *   Success-Report = "Success-Report:" SP ("yes" / "no" )
 *   Failure-Report = "Failure-Report:" SP ("yes" / "no" / "partial" )
 *
 * The values are ABNF quoted strings, which RFC 4234 section 2.3 makes
 * case-insensitive, so "Yes" is accepted; nothing else (no spaces) is.
 * ------------------------------------------------------------------------- */

static gboolean
value_is (const char *value, gsize len, const char *word)
{
  return strlen (word) == len && g_ascii_strncasecmp (value, word, len) == 0;
}

static void
set_report_error (GError **error, const char *what, const char *allowed,
                  const char *value, gsize len)
{
  g_autofree char *shown = NULL;
  gboolean printable = len <= QUOTE_MAX;

  /* Quote the value only when it is short printable ASCII: utf8text may
   * hold C1 controls (U+0080..U+009F), which must not reach a log line
   * (found by fuzz-head). */
  for (gsize i = 0; printable && i < len; i++)
    printable = (guchar) value[i] >= 0x20 && (guchar) value[i] <= 0x7e;
  if (printable)
    shown = g_strdup_printf ("\"%.*s\"", (int) len, value);
  else
    shown = g_strdup_printf ("a %" G_GSIZE_FORMAT "-byte value", len);

  g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
               "%s: %s is not one of %s", what, shown, allowed);
}

gboolean
msrp_success_report_parse (const char *value, gsize len, MsrpReportMode *out,
                           GError **error)
{
  g_return_val_if_fail (value != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (value_is (value, len, "yes"))
    *out = MSRP_REPORT_YES;
  else if (value_is (value, len, "no"))
    *out = MSRP_REPORT_NO;
  else
    {
      set_report_error (error, "Success-Report", "\"yes\", \"no\"", value,
                        len);
      return FALSE;
    }
  return TRUE;
}

gboolean
msrp_failure_report_parse (const char *value, gsize len, MsrpReportMode *out,
                           GError **error)
{
  g_return_val_if_fail (value != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (value_is (value, len, "yes"))
    *out = MSRP_REPORT_YES;
  else if (value_is (value, len, "no"))
    *out = MSRP_REPORT_NO;
  else if (value_is (value, len, "partial"))
    *out = MSRP_REPORT_PARTIAL;
  else
    {
      set_report_error (error, "Failure-Report",
                        "\"yes\", \"no\", \"partial\"", value, len);
      return FALSE;
    }
  return TRUE;
}

const char *
msrp_report_mode_to_string (MsrpReportMode mode)
{
  switch (mode)
    {
    case MSRP_REPORT_NO:
      return "no";
    case MSRP_REPORT_YES:
      return "yes";
    case MSRP_REPORT_PARTIAL:
      return "partial";
    default:
      g_return_val_if_reached (NULL);
    }
}

/* ---------------------------------------------------------------------------
 * Message-ID (section 9)
 *
 *   Message-ID = "Message-ID:" SP ident
 *   ident = ALPHANUM  3*31ident-char
 *   ident-char = ALPHANUM / "." / "-" / "+" / "%" / "="
 * ------------------------------------------------------------------------- */

static inline gboolean
is_ident_char (guchar c)
{
  return is_alphanum (c) || c == '.' || c == '-' || c == '+' || c == '%' ||
         c == '=';
}

/* Offset of the first byte that breaks the ident rule, @len if the length
 * is what breaks it, or G_MAXSIZE when @value is an ident. */
static gsize
ident_check (const char *value, gsize len)
{
  if (len > 0 && !is_alphanum ((guchar) value[0]))
    return 0;
  for (gsize i = 1; i < len; i++)
    if (!is_ident_char ((guchar) value[i]))
      return i;
  if (len < MSRP_IDENT_MIN_LEN || len > MSRP_IDENT_MAX_LEN)
    return len;
  return G_MAXSIZE;
}

gboolean
msrp_ident_is_valid (const char *value, gsize len)
{
  g_return_val_if_fail (value != NULL || len == 0, FALSE);

  return ident_check (value, len) == G_MAXSIZE;
}

gboolean
msrp_message_id_parse (const char *value, gsize len, char **out,
                       GError **error)
{
  gsize bad;
  char buf[16];

  g_return_val_if_fail (value != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  bad = ident_check (value, len);
  if (bad == G_MAXSIZE)
    {
      *out = g_strndup (value, len);
      return TRUE;
    }
  if (bad == len)
    g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                 "Message-ID: ident is %" G_GSIZE_FORMAT
                 " characters long, not %d to %d",
                 len, MSRP_IDENT_MIN_LEN, MSRP_IDENT_MAX_LEN);
  else if (bad == 0)
    g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                 "Message-ID: ident starts with %s, not a letter or digit",
                 describe_at (value, len, 0, buf));
  else
    g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                 "Message-ID: %s at offset %" G_GSIZE_FORMAT
                 " is not an ident-char",
                 describe_at (value, len, bad, buf), bad);
  return FALSE;
}

/* ---------------------------------------------------------------------------
 * Status (sections 7.1.3 and 9)
 *
 *   Status = "Status:" SP namespace SP status-code [SP comment]
 *   namespace = 3(DIGIT); "000" for all codes defined in this document.
 *   status-code = 3DIGIT
 *   comment = utf8text
 *
 * Every 3DIGIT value is accepted for both numbers, as the ABNF says (other
 * namespaces may give codes other meanings); interpreting them is the
 * caller's business.  As utf8text may be empty, "000 200 " is valid with an
 * empty comment, which is kept as "" (not NULL) so the writer gives the same
 * text back.
 * ------------------------------------------------------------------------- */

static gboolean
three_digits (const char *value, gsize len, gsize pos, guint *out)
{
  if (len < 3 || pos > len - 3)
    return FALSE;
  for (gsize i = pos; i < pos + 3; i++)
    if (!is_digit ((guchar) value[i]))
      return FALSE;
  *out = (guint) ((value[pos] - '0') * 100 + (value[pos + 1] - '0') * 10 +
                  (value[pos + 2] - '0'));
  return TRUE;
}

gboolean
msrp_status_header_parse (const char *value, gsize len, MsrpStatus *out,
                          GError **error)
{
  MsrpStatus st = {
    0,
  };
  gsize bad;
  char buf[16];

  g_return_val_if_fail (value != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (!three_digits (value, len, 0, &st.namespace_) ||
      (len > 3 && is_digit ((guchar) value[3])))
    {
      g_set_error_literal (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                           "Status: namespace is not 3 digits");
      return FALSE;
    }
  if (len < 4 || value[3] != ' ')
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                   "Status: expected a space after the namespace at offset 3,"
                   " found %s",
                   describe_at (value, len, 3, buf));
      return FALSE;
    }
  if (!three_digits (value, len, 4, &st.code) ||
      (len > 7 && is_digit ((guchar) value[7])))
    {
      g_set_error_literal (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                           "Status: status-code is not 3 digits");
      return FALSE;
    }
  if (len > 7)
    {
      if (value[7] != ' ')
        {
          g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                       "Status: expected a space before the comment at "
                       "offset 7, found %s",
                       describe_at (value, len, 7, buf));
          return FALSE;
        }
      bad = utf8text_span (value + 8, len - 8);
      if (bad < len - 8)
        {
          set_utf8text_error (error, "Status", value, len, bad + 8);
          return FALSE;
        }
      st.comment = g_strndup (value + 8, len - 8);
    }

  *out = st;
  return TRUE;
}

void
msrp_status_header_clear (MsrpStatus *status)
{
  g_return_if_fail (status != NULL);

  g_clear_pointer (&status->comment, g_free);
  status->namespace_ = 0;
  status->code = 0;
}

char *
msrp_status_header_to_string (const MsrpStatus *status)
{
  g_return_val_if_fail (status != NULL, NULL);
  g_return_val_if_fail (status->namespace_ <= 999, NULL);
  g_return_val_if_fail (status->code <= 999, NULL);

  if (status->comment != NULL)
    return g_strdup_printf ("%03u %03u %s", status->namespace_, status->code,
                            status->comment);
  return g_strdup_printf ("%03u %03u", status->namespace_, status->code);
}

/* ---------------------------------------------------------------------------
 * Content-Type (section 9)
 *
 *   media-type = type "/" subtype *( ";" gen-param )
 *   gen-param = pname [ "=" pval ]
 *   pname = token
 *   pval  = token / quoted-string
 *   quoted-string = DQUOTE *(qdtext / qd-esc) DQUOTE
 *   qdtext = SP / HTAB / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII
 *   qd-esc = (BACKSLASH BACKSLASH) / (BACKSLASH DQUOTE)
 *
 * One leniency: spaces or tabs are accepted on either side of ";", as in
 * "text/plain; charset=utf-8", the form RFC 2045 allows and the one clients
 * (and RFC 3862's examples) write.  Nowhere else.
 * ------------------------------------------------------------------------- */

typedef struct
{
  char *name;  /* lower-case */
  char *value; /* unquoted; "" when the parameter has no "=" */
} MediaParam;

struct _MsrpMediaType
{
  char *type;     /* lower-case */
  char *subtype;  /* lower-case */
  GArray *params; /* of MediaParam */
};

static void
media_param_clear (gpointer p)
{
  MediaParam *param = p;

  g_free (param->name);
  g_free (param->value);
}

void
msrp_media_type_free (MsrpMediaType *mt)
{
  if (mt == NULL)
    return;
  g_free (mt->type);
  g_free (mt->subtype);
  g_array_unref (mt->params);
  g_free (mt);
}

static gsize
token_span (const char *value, gsize len, gsize pos)
{
  gsize i = pos;

  while (i < len && msrp_is_token_char ((guchar) value[i]))
    i++;
  return i - pos;
}

static void
set_ct_syntax_error (GError **error, const char *expected, const char *value,
                     gsize len, gsize pos)
{
  char buf[16];

  g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
               "Content-Type: expected %s at offset %" G_GSIZE_FORMAT
               ", found %s",
               expected, pos, describe_at (value, len, pos, buf));
}

/* Reads a quoted-string starting at the DQUOTE at *@pos; on success *@pos is
 * past the closing DQUOTE and the unescaped text is returned. */
static char *
parse_quoted_string (const char *value, gsize len, gsize *pos, GError **error)
{
  g_autoptr (GString) s = g_string_new (NULL);
  const guchar *p = (const guchar *) value;
  gsize i = *pos + 1;

  while (i < len)
    {
      guchar c = p[i];

      if (c == '"')
        {
          *pos = i + 1;
          return g_string_free (g_steal_pointer (&s), FALSE);
        }
      if (c == '\\')
        {
          if (i + 1 < len && (p[i + 1] == '\\' || p[i + 1] == '"'))
            {
              g_string_append_c (s, (char) p[i + 1]);
              i += 2;
              continue;
            }
          g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                       "Content-Type: backslash at offset %" G_GSIZE_FORMAT
                       " in a quoted-string escapes neither '\\' nor '\"'",
                       i);
          return NULL;
        }
      if (c == ' ' || c == '\t' || (c >= 0x21 && c <= 0x7e))
        {
          g_string_append_c (s, (char) c);
          i++;
          continue;
        }
      if (c >= 0x80)
        {
          gsize n = utf8_multibyte_len (p + i, len - i);

          if (n > 0)
            {
              g_string_append_len (s, value + i, (gssize) n);
              i += n;
              continue;
            }
        }
      set_utf8text_error (error, "Content-Type", value, len, i);
      return NULL;
    }
  g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
               "Content-Type: quoted-string opened at offset %" G_GSIZE_FORMAT
               " is not closed",
               *pos);
  return NULL;
}

/* One ";" parameter of a media type, at *@pos, into @mt: *@pos moves past
 * it. */
static gboolean
parse_media_param (MsrpMediaType *mt, const char *value, gsize len, gsize *pos,
                   GError **error)
{
  MediaParam param = { NULL, NULL };
  gsize n;

  while (*pos < len && is_wsp ((guchar) value[*pos]))
    (*pos)++;
  if (*pos >= len || value[*pos] != ';')
    {
      set_ct_syntax_error (error, "';' before a parameter", value, len, *pos);
      return FALSE;
    }
  (*pos)++;
  while (*pos < len && is_wsp ((guchar) value[*pos]))
    (*pos)++;
  if (mt->params->len >= MSRP_MEDIA_TYPE_MAX_PARAMS)
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_RANGE,
                   "Content-Type: more than %d parameters",
                   MSRP_MEDIA_TYPE_MAX_PARAMS);
      return FALSE;
    }
  n = token_span (value, len, *pos);
  if (n == 0)
    {
      set_ct_syntax_error (error, "a parameter name token", value, len, *pos);
      return FALSE;
    }
  param.name = g_ascii_strdown (value + *pos, (gssize) n);
  *pos += n;
  if (*pos < len && value[*pos] == '=')
    {
      (*pos)++;
      if (*pos < len && value[*pos] == '"')
        param.value = parse_quoted_string (value, len, pos, error);
      else
        {
          n = token_span (value, len, *pos);
          if (n == 0)
            set_ct_syntax_error (error, "a parameter value", value, len, *pos);
          else
            param.value = g_strndup (value + *pos, n);
          *pos += n;
        }
      if (param.value == NULL)
        {
          g_free (param.name);
          return FALSE;
        }
    }
  else
    param.value = g_strdup ("");
  g_array_append_val (mt->params, param);
  return TRUE;
}

MsrpMediaType *
msrp_media_type_parse (const char *value, gsize len, GError **error)
{
  g_autoptr (MsrpMediaType) mt = NULL;
  gsize pos = 0, n;

  g_return_val_if_fail (value != NULL || len == 0, NULL);

  mt = g_new0 (MsrpMediaType, 1);
  mt->params = g_array_new (FALSE, FALSE, sizeof (MediaParam));
  g_array_set_clear_func (mt->params, media_param_clear);

  n = token_span (value, len, pos);
  if (n == 0)
    {
      set_ct_syntax_error (error, "a type token", value, len, pos);
      return NULL;
    }
  mt->type = g_ascii_strdown (value + pos, (gssize) n);
  pos += n;
  if (pos >= len || value[pos] != '/')
    {
      set_ct_syntax_error (error, "'/' after the type", value, len, pos);
      return NULL;
    }
  pos++;
  n = token_span (value, len, pos);
  if (n == 0)
    {
      set_ct_syntax_error (error, "a subtype token", value, len, pos);
      return NULL;
    }
  mt->subtype = g_ascii_strdown (value + pos, (gssize) n);
  pos += n;

  while (pos < len)
    if (!parse_media_param (mt, value, len, &pos, error))
      return NULL;

  return g_steal_pointer (&mt);
}

const char *
msrp_media_type_get_type (const MsrpMediaType *mt)
{
  g_return_val_if_fail (mt != NULL, NULL);
  return mt->type;
}

const char *
msrp_media_type_get_subtype (const MsrpMediaType *mt)
{
  g_return_val_if_fail (mt != NULL, NULL);
  return mt->subtype;
}

guint
msrp_media_type_get_n_params (const MsrpMediaType *mt)
{
  g_return_val_if_fail (mt != NULL, 0);
  return mt->params->len;
}

const char *
msrp_media_type_get_param (const MsrpMediaType *mt, const char *name)
{
  g_return_val_if_fail (mt != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < mt->params->len; i++)
    {
      const MediaParam *param = &g_array_index (mt->params, MediaParam, i);

      if (g_ascii_strcasecmp (param->name, name) == 0)
        return param->value;
    }
  return NULL;
}

gboolean
msrp_media_type_matches (const MsrpMediaType *mt, const char *pattern)
{
  gsize plen, n, slash;

  g_return_val_if_fail (mt != NULL, FALSE);
  g_return_val_if_fail (pattern != NULL, FALSE);

  /* Section 8.6: a format-entry's parameters do not take part in matching. */
  plen = strcspn (pattern, ";");

  if (plen == 1 && pattern[0] == '*')
    return TRUE;

  n = token_span (pattern, plen, 0);
  if (n == 0 || n >= plen || pattern[n] != '/')
    return FALSE;
  slash = n;
  n = token_span (pattern, plen, slash + 1);
  if (n == 0 || slash + 1 + n != plen)
    return FALSE;

  if (strlen (mt->type) != slash ||
      g_ascii_strncasecmp (mt->type, pattern, slash) != 0)
    return FALSE;
  if (n == 1 && pattern[slash + 1] == '*')
    return TRUE;
  return strlen (mt->subtype) == n &&
         g_ascii_strncasecmp (mt->subtype, pattern + slash + 1, n) == 0;
}

char *
msrp_media_type_to_string (const MsrpMediaType *mt)
{
  GString *s;

  g_return_val_if_fail (mt != NULL, NULL);

  s = g_string_new (mt->type);
  g_string_append_c (s, '/');
  g_string_append (s, mt->subtype);
  for (guint i = 0; i < mt->params->len; i++)
    {
      const MediaParam *param = &g_array_index (mt->params, MediaParam, i);
      gsize vlen = strlen (param->value);

      g_string_append_c (s, ';');
      g_string_append (s, param->name);
      if (vlen == 0)
        continue; /* written as it came: without "=" */
      g_string_append_c (s, '=');
      if (token_span (param->value, vlen, 0) == vlen)
        g_string_append (s, param->value);
      else
        {
          g_string_append_c (s, '"');
          for (const char *c = param->value; *c != '\0'; c++)
            {
              if (*c == '"' || *c == '\\')
                g_string_append_c (s, '\\');
              g_string_append_c (s, *c);
            }
          g_string_append_c (s, '"');
        }
    }
  return g_string_free (s, FALSE);
}

/* ---------------------------------------------------------------------------
 * Content-Disposition (section 7.1.1, RFC 2183 section 2)
 *
 *   disposition := disposition-type *(";" disposition-parm)
 *
 * The disposition type is a token (section 9's token); the rest, if any, must
 * start with ";" (spaces or tabs before it allowed) and be utf8text.  The
 * parameters themselves are not interpreted.
 * ------------------------------------------------------------------------- */

gboolean
msrp_content_disposition_parse (const char *value, gsize len, char **out_type,
                                GError **error)
{
  gsize n, pos, bad;
  char buf[16];

  g_return_val_if_fail (value != NULL || len == 0, FALSE);

  n = token_span (value, len, 0);
  if (n == 0)
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                   "Content-Disposition: expected a disposition type token "
                   "at offset 0, found %s",
                   describe_at (value, len, 0, buf));
      return FALSE;
    }
  pos = n;
  while (pos < len && is_wsp ((guchar) value[pos]))
    pos++;
  if (pos < len && value[pos] != ';')
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                   "Content-Disposition: expected ';' after the disposition "
                   "type at offset %" G_GSIZE_FORMAT ", found %s",
                   pos, describe_at (value, len, pos, buf));
      return FALSE;
    }
  if (pos == len && pos > n)
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                   "Content-Disposition: trailing white space at offset "
                   "%" G_GSIZE_FORMAT,
                   n);
      return FALSE;
    }
  bad = utf8text_span (value + pos, len - pos);
  if (bad < len - pos)
    {
      set_utf8text_error (error, "Content-Disposition", value, len, pos + bad);
      return FALSE;
    }
  if (out_type != NULL)
    *out_type = g_ascii_strdown (value, (gssize) n);
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * To-Path, From-Path (section 9), Use-Path (RFC 4976 sections 4.2 and 7)
 *
 *   To-Path = "To-Path:" SP MSRP-URI *( SP MSRP-URI )
 *
 * The list itself is msrp_uri_list_parse()'s business; errors are re-issued in
 * this domain (URI syntax -> SYNTAX, too long / too many -> RANGE) with the
 * header name in front.  RFC 4976 section 4.2 asks the relay that writes a
 * Use-Path for host names and explicit ports; that is not enforced here, since
 * relays configured with addresses (e.g. Kamailio's use_path_addr) exist.
 * ------------------------------------------------------------------------- */

GPtrArray *
msrp_path_parse (MsrpHeaderId which, const char *value, gsize len,
                 GError **error)
{
  g_autoptr (GError) local = NULL;
  GPtrArray *uris;

  g_return_val_if_fail (which == MSRP_HEADER_TO_PATH ||
                            which == MSRP_HEADER_FROM_PATH ||
                            which == MSRP_HEADER_USE_PATH,
                        NULL);
  g_return_val_if_fail (value != NULL || len == 0, NULL);

  if (len > G_MAXSSIZE)
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_RANGE,
                   "%s: value is too long", id_display_name (which));
      return NULL;
    }
  uris = msrp_uri_list_parse (value, (gssize) len, &local);
  if (uris == NULL)
    {
      gboolean syntax =
          g_error_matches (local, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX);

      g_set_error (error, MSRP_HEADER_ERROR,
                   syntax ? MSRP_HEADER_ERROR_SYNTAX : MSRP_HEADER_ERROR_RANGE,
                   "%s: %s", id_display_name (which),
                   local != NULL ? local->message : "invalid URI list");
      return NULL;
    }
  if (uris->len == 0)
    {
      g_ptr_array_unref (uris);
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                   "%s: no URI", id_display_name (which));
      return NULL;
    }
  return uris;
}

/* ---------------------------------------------------------------------------
 * Expires, Min-Expires, Max-Expires (RFC 4976 sections 4.6 and 7)
 *
 *   Expires = "Expires:" SP 1*DIGIT
 *
 * The ABNF sets no bound; we take up to G_MAXUINT32 seconds (over 136 years)
 * and refuse more with a RANGE error rather than wrap.
 * ------------------------------------------------------------------------- */

gboolean
msrp_expires_parse (MsrpHeaderId which, const char *value, gsize len,
                    guint32 *out, GError **error)
{
  const char *what;
  guint64 n = 0;
  gsize pos = 0;
  char buf[16];

  g_return_val_if_fail (which == MSRP_HEADER_EXPIRES ||
                            which == MSRP_HEADER_MIN_EXPIRES ||
                            which == MSRP_HEADER_MAX_EXPIRES,
                        FALSE);
  g_return_val_if_fail (value != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  what = id_display_name (which);
  switch (parse_digits (value, len, &pos, G_MAXUINT32, &n))
    {
    case NUM_EMPTY:
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                   "%s: expected digits at offset 0, found %s", what,
                   describe_at (value, len, 0, buf));
      return FALSE;
    case NUM_TOO_BIG:
      if (pos == len)
        {
          set_too_big_error (error, what, "value", value, pos, G_MAXUINT32);
          return FALSE;
        }
      break; /* report the syntax error first */
    case NUM_OK:
    default:
      break;
    }
  if (pos != len)
    {
      g_set_error (error, MSRP_HEADER_ERROR, MSRP_HEADER_ERROR_SYNTAX,
                   "%s: %s at offset %" G_GSIZE_FORMAT " is not a digit", what,
                   describe_at (value, len, pos, buf), pos);
      return FALSE;
    }
  *out = (guint32) n;
  return TRUE;
}
