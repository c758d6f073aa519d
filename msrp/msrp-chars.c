/* msrp-chars.c: see msrp-chars-priv.h. */
#include "msrp-chars-priv.h"

char *
msrp_describe_text (const char *p, gsize len)
{
  GString *s = g_string_new ("\"");
  gsize n = MIN (len, 40);

  for (gsize i = 0; i < n; i++)
    {
      guchar c = (guchar) p[i];

      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
        g_string_append_c (s, (char) c);
      else
        g_string_append_printf (s, "\\x%02X", c);
    }
  g_string_append_c (s, '"');
  if (n < len)
    g_string_append (s, "...");
  return g_string_free (s, FALSE);
}
