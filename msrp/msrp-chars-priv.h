/* msrp-chars-priv.h: character classes shared by the msrp/ parsers.
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
