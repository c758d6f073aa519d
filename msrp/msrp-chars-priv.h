/* msrp-chars-priv.h: character classes shared by the msrp/ parsers, and the
 * one way they quote bad input in an error message (msrp-chars.c).
 * Private to libmsrp: not installed, not part of any public header. */
#pragma once

#include <glib.h>

/* RFC 4975 section 9 token = 1*(%x21 / %x23-27 / %x2A-2B / %x2D-2E
 *                               / %x30-39 / %x41-5A / %x5E-7E);
 * RFC 8866 section 9 token-char is the same set. */
static inline gboolean
msrp_is_token_char (guchar c)
{
  return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b ||
         c == 0x2d || c == 0x2e || (c >= 0x30 && c <= 0x39) ||
         (c >= 0x41 && c <= 0x5a) || (c >= 0x5e && c <= 0x7e);
}

/* Up to 40 bytes of @p for an error message, quoted, with anything that is
 * not printable ASCII (and the quote and backslash) escaped as \xNN, and
 * "..." after a cut: bad input never reaches a message raw.
 * (transfer full) */
char *msrp_describe_text (const char *p, gsize len);
