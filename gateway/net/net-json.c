#include "net-json.h"

#include <string.h>

/* Bytes written as they are: printable ASCII but the quote and the
 * backslash.  The log stream writes a line per relayed message, so runs of
 * these go out in one append, not one per character. */
static gboolean
plain (guchar c)
{
  return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

void
net_json_append_string (GString *out, const char *s)
{
  const char *p;
  const char *end;

  if (s == NULL)
    {
      g_string_append (out, "null");
      return;
    }
  g_string_append_c (out, '"');
  p = s;
  end = s + strlen (s);
  while (p < end)
    {
      const char *run = p;
      gunichar c;

      while (p < end && plain ((guchar) *p))
        p++;
      if (p > run)
        g_string_append_len (out, run, p - run);
      if (p == end)
        break;
      c = g_utf8_get_char_validated (p, end - p);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append (out, "\\ufffd");
          p++;
          continue;
        }
      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (c < 0x20 || c == 0x7f)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_len (out, p, g_utf8_next_char (p) - p);
          break;
        }
      p = g_utf8_next_char (p);
    }
  g_string_append_c (out, '"');
}
