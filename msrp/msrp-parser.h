/* msrp-parser.h: streaming MSRP frame parser (RFC 4975 section 9).
 *
 * No I/O, no clock, no body buffering.  Feed bytes in pieces of any size; each
 * call to msrp_parser_feed() yields at most one event.  Events point into the
 * parser's bounded header buffer (start line, headers) or directly into the
 * caller's input (body pieces) and stay valid until the next feed call.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS
G_END_DECLS
