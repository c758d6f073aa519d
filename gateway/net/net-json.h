/* net-json.h: JSON text for the log stream and msrpcat's --json output. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Append @s as a JSON string (RFC 8259, with the quotes): '"', '\\' and
 * control characters escaped, bytes that are not UTF-8 replaced by
 * \ufffd.  NULL is written as null. */
void net_json_append_string (GString *out, const char *s);

G_END_DECLS
