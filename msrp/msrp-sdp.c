/* msrp-sdp.c: SDP (RFC 8866) for MSRP media streams (RFC 4975 section 8).
 *
 * The SDP is held as its lines, grouped in sections: the session level, then
 * one section per m= line.  Each line keeps its text and its line ending, so
 * writing gives the input back byte for byte.  What the module understands
 * is read from those lines into typed values ("Attrs"), one set for the
 * session level and one per MSRP stream.
 *
 * A modification of a stream works on a copy of the stream's section, reads
 * the copy back with the same code that parsing uses, and only then replaces
 * the section: it succeeds completely or changes nothing, and whatever it
 * writes parses again. */
#include "msrp-sdp.h"
#include "msrp-chars-priv.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>

GQuark
msrp_sdp_error_quark (void)
{
  return g_quark_from_static_string ("msrp-sdp-error-quark");
}

static const char EOL_CRLF[] = "\r\n";
static const char EOL_LF[] = "\n";

/* ---------------------------------------------------------------------------
 * Lines
 * ------------------------------------------------------------------------- */

typedef struct
{
  char *text; /* "<type>=<value>", no line ending, NUL-terminated */
  gsize len;
  const char *eol; /* EOL_CRLF or EOL_LF */
  guint lineno;    /* 1-based line in the parsed text; 0 when written by
                    * a modification */
} Line;

static Line *
line_take (char *text, gsize len, const char *eol, guint lineno)
{
  Line *line = g_new (Line, 1);

  line->text = text;
  line->len = len;
  line->eol = eol;
  line->lineno = lineno;
  return line;
}

static Line *
line_new_take (char *text, const char *eol)
{
  return line_take (text, strlen (text), eol, 0);
}

static void
line_free (gpointer data)
{
  Line *line = data;

  g_free (line->text);
  g_free (line);
}

static Line *
line_copy (const Line *line)
{
  return line_take (g_strndup (line->text, line->len), line->len, line->eol,
                    line->lineno);
}

/* ---------------------------------------------------------------------------
 * Characters and small grammars
 * ------------------------------------------------------------------------- */

/* RFC 8839 section 5.1: ice-char = ALPHA / DIGIT / "+" / "/" */
static gboolean
is_ice_char (guchar c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

static gboolean
is_digit (guchar c)
{
  return c >= '0' && c <= '9';
}

static gboolean
all_of (const char *p, gsize len, gboolean (*pred) (guchar))
{
  for (gsize i = 0; i < len; i++)
    if (!pred ((guchar) p[i]))
      return FALSE;
  return TRUE;
}

static gboolean
is_token (const char *p, gsize len)
{
  return len > 0 && all_of (p, len, msrp_is_token_char);
}

static gboolean
span_equal_ci (const char *p, gsize len, const char *lit)
{
  return strlen (lit) == len && g_ascii_strncasecmp (p, lit, len) == 0;
}

/* Length of @len bytes of @p without trailing spaces and tabs. */
static gsize
rstrip_len (const char *p, gsize len)
{
  while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
    len--;
  return len;
}

/* Parse 1*@max_digits DIGIT into *@out, FALSE when not digits or above
 * @limit. */
static gboolean
parse_number (const char *p, gsize len, gsize max_digits, guint64 limit,
              guint64 *out)
{
  guint64 v = 0;

  if (len == 0 || len > max_digits)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      guint d = (guint) (p[i] - '0');

      if (!is_digit ((guchar) p[i]))
        return FALSE;
      if (v > G_MAXUINT64 / 10 ||
          (v == G_MAXUINT64 / 10 && d > G_MAXUINT64 % 10))
        return FALSE;
      v = v * 10 + d;
    }
  if (v > limit)
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
parse_port (const char *p, gsize len, guint16 *port)
{
  guint64 v;

  if (!parse_number (p, len, 5, 65535, &v))
    return FALSE;
  *port = (guint16) v;
  return TRUE;
}

/* A piece of a value. */
typedef struct
{
  const char *p;
  gsize len;
} Span;

/* Split @v at single spaces.  Two spaces in a row, or a space at the start
 * or the end, make an empty field: NULL with an error, which starts with
 * "@what: " when @what is not NULL. */
static GArray *
split_fields (const char *v, gsize vlen, const char *what, GError **error)
{
  g_autoptr (GArray) fields = g_array_new (FALSE, FALSE, sizeof (Span));
  gsize start = 0;

  for (gsize i = 0; i <= vlen; i++)
    {
      if (i < vlen && v[i] != ' ')
        continue;
      if (i == start)
        {
          g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                       "%s%sempty field at offset %" G_GSIZE_FORMAT
                       " (fields are separated by single spaces)",
                       what != NULL ? what : "", what != NULL ? ": " : "", i);
          return NULL;
        }
      g_array_append_val (fields, ((Span){ v + start, i - start }));
      start = i + 1;
    }
  return g_steal_pointer (&fields);
}

#define FIELD(a, i) (g_array_index ((a), Span, (i)))

/* ---------------------------------------------------------------------------
 * Addresses: RFC 8866 section 9 unicast-address (IP4-address, IP6-address or
 * FQDN; extn-addr is not accepted, MSRP needs something to connect to).
 * ------------------------------------------------------------------------- */

typedef enum
{
  ADDR_ANY,
  ADDR_WANT_IP4,
  ADDR_WANT_IP6,
} AddrWant;

/* IP4-address with decimal-uchar (no leading zeros); *@first gets the first
 * byte. */
static gboolean
is_ipv4 (const char *p, gsize len, guint *first)
{
  gsize i = 0;

  for (guint part = 0; part < 4; part++)
    {
      gsize start = i;
      guint v = 0;

      while (i < len && is_digit ((guchar) p[i]) && i - start < 3)
        v = v * 10 + (guint) (p[i++] - '0');
      if (i == start || v > 255 || (i - start > 1 && p[start] == '0'))
        return FALSE;
      if (part == 0)
        *first = v;
      if (part < 3)
        {
          if (i >= len || p[i] != '.')
            return FALSE;
          i++;
        }
    }
  return i == len;
}

static gboolean
is_digit_or_dot (guchar c)
{
  return is_digit (c) || c == '.';
}

static gboolean
is_name_char (guchar c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.';
}

static gboolean
check_ipv6 (const char *p, gsize len, const char *shown, AddrWant want,
            gboolean unicast, GError **error)
{
  char buf[INET6_ADDRSTRLEN + 1];
  struct in6_addr a6;

  if (want == ADDR_WANT_IP4)
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "%s is not an IPv4 address or a name, but the line "
                   "says IP4",
                   shown);
      return FALSE;
    }
  if (len >= sizeof buf)
    goto bad_ipv6;
  memcpy (buf, p, len);
  buf[len] = '\0';
  if (inet_pton (AF_INET6, buf, &a6) != 1)
    goto bad_ipv6;
  if (unicast && a6.s6_addr[0] == 0xff)
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "%s is a multicast address; MSRP needs a unicast "
                   "one",
                   shown);
      return FALSE;
    }
  return TRUE;
bad_ipv6:
  g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
               "%s is not an IPv6 address", shown);
  return FALSE;
}

/* Only digits and dots: RFC 3696 section 2, a name's last label is not
 * all-numeric, so this has to be an IPv4 address. */
static gboolean
check_ipv4 (const char *p, gsize len, const char *shown, AddrWant want,
            gboolean unicast, GError **error)
{
  guint first = 0;

  if (!is_ipv4 (p, len, &first))
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "%s is not an IPv4 address", shown);
      return FALSE;
    }
  if (want == ADDR_WANT_IP6)
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "%s is an IPv4 address, but the line says IP6", shown);
      return FALSE;
    }
  if (unicast && first >= 224)
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "%s is not a unicast IPv4 address (multicast or "
                   "reserved); MSRP needs a unicast one",
                   shown);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_name (const char *p, gsize len, const char *shown, GError **error)
{
  for (gsize i = 0; i < len; i++)
    if (!is_name_char ((guchar) p[i]))
      {
        g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                     "%s is not an IP address or a name (bad byte 0x%02X "
                     "at offset %" G_GSIZE_FORMAT ")",
                     shown, (guchar) p[i], i);
        return FALSE;
      }
  if (len < 4 || len > 255 || p[0] == '.' || p[0] == '-' ||
      g_strstr_len (p, (gssize) len, "..") != NULL)
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "%s is not a valid name (RFC 8866 section 9: 4 to 255 "
                   "letters, digits, '-' and '.', no empty label)",
                   shown);
      return FALSE;
    }
  return TRUE;
}

/* @unicast: refuse multicast (RFC 8866 section 9: an IP4-address's first
 * byte is below 224; IPv6 ff00::/8) -- MSRP connects over TCP. */
static gboolean
check_address (const char *p, gsize len, AddrWant want, gboolean unicast,
               GError **error)
{
  g_autofree char *shown = NULL;

  if (len == 0)
    {
      g_set_error_literal (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                           "the address is empty");
      return FALSE;
    }
  shown = msrp_describe_text (p, len);
  if (memchr (p, ':', len) != NULL)
    return check_ipv6 (p, len, shown, want, unicast, error);
  if (all_of (p, len, is_digit_or_dot))
    return check_ipv4 (p, len, shown, want, unicast, error);
  return check_name (p, len, shown, error);
}

/* c= value: nettype SP addrtype SP connection-address (RFC 8866 section 5.7),
 * restricted to what an MSRP stream can use: IN, IP4 or IP6, one unicast
 * address. */
static gboolean
parse_c_value (const char *v, gsize vlen, MsrpSdpAddrType *type,
               char **address, GError **error)
{
  g_autoptr (GArray) f = NULL;
  g_autofree char *shown = NULL;
  const Span *addr;

  f = split_fields (v, vlen, "c= line", error);
  if (f == NULL)
    return FALSE;
  if (f->len != 3)
    {
      g_set_error_literal (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                           "c= line needs <nettype> <addrtype> "
                           "<connection-address>");
      return FALSE;
    }
  if (!span_equal_ci (FIELD (f, 0).p, FIELD (f, 0).len, "IN"))
    {
      shown = msrp_describe_text (FIELD (f, 0).p, FIELD (f, 0).len);
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "c= network type %s is not IN", shown);
      return FALSE;
    }
  if (span_equal_ci (FIELD (f, 1).p, FIELD (f, 1).len, "IP4"))
    *type = MSRP_SDP_ADDR_IP4;
  else if (span_equal_ci (FIELD (f, 1).p, FIELD (f, 1).len, "IP6"))
    *type = MSRP_SDP_ADDR_IP6;
  else
    {
      shown = msrp_describe_text (FIELD (f, 1).p, FIELD (f, 1).len);
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "c= address type %s is not IP4 or IP6", shown);
      return FALSE;
    }
  addr = &FIELD (f, 2);
  if (memchr (addr->p, '/', addr->len) != NULL)
    {
      shown = msrp_describe_text (addr->p, addr->len);
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "c= address %s is a multicast address (with /ttl or "
                   "/count); MSRP needs a unicast one",
                   shown);
      return FALSE;
    }
  if (!check_address (addr->p, addr->len,
                      *type == MSRP_SDP_ADDR_IP4 ? ADDR_WANT_IP4
                                                 : ADDR_WANT_IP6,
                      TRUE, error))
    {
      g_prefix_error (error, "c= address: ");
      return FALSE;
    }
  *address = g_strndup (addr->p, addr->len);
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * m= lines: media SP port ["/" integer] SP proto 1*(SP fmt)
 * (RFC 8866 section 9: media-field)
 * ------------------------------------------------------------------------- */

typedef struct
{
  gsize media_len; /* media is value[0 .. media_len) */
  gsize port_end;  /* offset just after the port digits */
  guint16 port;
  gboolean has_count; /* "port/integer" */
  Span proto;
  guint n_fmt;
  Span fmt; /* the first fmt */
} MediaField;

static gboolean
is_proto (const char *p, gsize len)
{
  gsize start = 0;

  for (gsize i = 0; i <= len; i++)
    if (i == len || p[i] == '/')
      {
        if (!is_token (p + start, i - start))
          return FALSE;
        start = i + 1;
      }
  return TRUE;
}

#define M_NEEDS "m= line needs <media> <port> <proto> <fmt>"

static gboolean
parse_m_value (const char *v, gsize vlen, MediaField *mf, GError **error)
{
  g_autoptr (GArray) f = NULL;
  g_autofree char *shown = NULL;
  const Span *port;
  const char *slash;
  gsize port_len;

  f = split_fields (v, vlen, M_NEEDS, error);
  if (f == NULL)
    return FALSE;
  if (f->len < 4)
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   M_NEEDS ", but has %u field%s", f->len,
                   f->len == 1 ? "" : "s");
      return FALSE;
    }
  if (!is_token (FIELD (f, 0).p, FIELD (f, 0).len))
    {
      shown = msrp_describe_text (FIELD (f, 0).p, FIELD (f, 0).len);
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   M_NEEDS ": media %s is not a token", shown);
      return FALSE;
    }
  mf->media_len = FIELD (f, 0).len;

  port = &FIELD (f, 1);
  slash = memchr (port->p, '/', port->len);
  port_len = slash != NULL ? (gsize) (slash - port->p) : port->len;
  mf->has_count = slash != NULL;
  if (!parse_port (port->p, port_len, &mf->port) ||
      (slash != NULL &&
       (port_len + 1 == port->len ||
        !all_of (slash + 1, port->len - port_len - 1, is_digit))))
    {
      shown = msrp_describe_text (port->p, port->len);
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   M_NEEDS ": port %s is not a number 0..65535 (with an "
                           "optional \"/\" count)",
                   shown);
      return FALSE;
    }
  mf->port_end = (gsize) (port->p - v) + port_len;

  mf->proto = FIELD (f, 2);
  if (!is_proto (mf->proto.p, mf->proto.len))
    {
      shown = msrp_describe_text (mf->proto.p, mf->proto.len);
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   M_NEEDS ": proto %s is not token *(\"/\" token)", shown);
      return FALSE;
    }
  for (guint i = 3; i < f->len; i++)
    if (!is_token (FIELD (f, i).p, FIELD (f, i).len))
      {
        shown = msrp_describe_text (FIELD (f, i).p, FIELD (f, i).len);
        g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                     M_NEEDS ": format %s is not a token", shown);
        return FALSE;
      }
  mf->n_fmt = f->len - 3;
  mf->fmt = FIELD (f, 3);
  return TRUE;
}

/* RFC 4975 section 8.1: media "message", proto TCP/MSRP or TCP/TLS/MSRP. */
static gboolean
media_is_msrp (const char *v, const MediaField *mf, MsrpSdpProto *proto)
{
  if (!span_equal_ci (v, mf->media_len, "message"))
    return FALSE;
  if (span_equal_ci (mf->proto.p, mf->proto.len, "TCP/MSRP"))
    *proto = MSRP_SDP_PROTO_TCP_MSRP;
  else if (span_equal_ci (mf->proto.p, mf->proto.len, "TCP/TLS/MSRP"))
    *proto = MSRP_SDP_PROTO_TCP_TLS_MSRP;
  else
    return FALSE;
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * Attribute values
 * ------------------------------------------------------------------------- */

/* RFC 4975 section 9: quoted-string = DQUOTE *(qdtext / qd-esc) DQUOTE,
 * qdtext = SP / HTAB / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII (the line
 * is valid UTF-8 already), qd-esc = BACKSLASH (BACKSLASH / DQUOTE).
 * Returns the length of the quoted string at @p, or 0. */
static gsize
quoted_string_len (const char *p, gsize len)
{
  gsize i = 1;

  if (len == 0 || p[0] != '"')
    return 0;
  while (i < len)
    {
      guchar c = (guchar) p[i];

      if (c == '"')
        return i + 1;
      if (c == '\\')
        {
          if (i + 1 >= len || (p[i + 1] != '\\' && p[i + 1] != '"'))
            return 0;
          i += 2;
        }
      else if (c == ' ' || c == '\t' || c == 0x21 ||
               (c >= 0x23 && c <= 0x7e) || c >= 0x80)
        i++;
      else
        return 0;
    }
  return 0;
}

static gsize
token_len (const char *p, gsize len)
{
  gsize i = 0;

  while (i < len && msrp_is_token_char ((guchar) p[i]))
    i++;
  return i;
}

/* RFC 4975 section 8.6:
 *   format-list = format-entry *( SP format-entry)
 *   format-entry = ( ( (type "/" subtype) / (type "/" "*") )
 *                    *( ";" type-param ) ) / ("*")
 *   type-param = parm-attribute "=" parm-value
 *   parm-value = token / quoted-string
 * ("*" is a token character, so "type/\*" is type "/" subtype.) */
static gboolean
parse_format_list (const char *v, gsize vlen, char ***out, GError **error)
{
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (g_free);
  gsize i = 0;

  for (;;)
    {
      gsize start = i, n;

      if (i < vlen && v[i] == '*' && (i + 1 == vlen || v[i + 1] == ' '))
        i++;
      else
        {
          n = token_len (v + i, vlen - i);
          if (n == 0 || n == vlen - i || v[i + n] != '/')
            goto bad;
          i += n + 1;
          n = token_len (v + i, vlen - i);
          if (n == 0)
            goto bad;
          i += n;
          while (i < vlen && v[i] == ';')
            {
              i++;
              n = token_len (v + i, vlen - i);
              if (n == 0 || n == vlen - i || v[i + n] != '=')
                goto bad;
              i += n + 1;
              n = token_len (v + i, vlen - i);
              if (n == 0)
                n = quoted_string_len (v + i, vlen - i);
              if (n == 0)
                goto bad;
              i += n;
            }
        }
      g_ptr_array_add (entries, g_strndup (v + start, i - start));
      if (i == vlen)
        break;
      if (v[i] != ' ')
        goto bad;
      i++;
      continue;

    bad:
      {
        gsize end = start;
        g_autofree char *shown = NULL;

        while (end < vlen && v[end] != ' ')
          end++;
        shown = msrp_describe_text (v + start, end - start);
        g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                     "format entry %u, %s, is not \"*\" or "
                     "type/subtype *(;param=value) (RFC 4975 section 8.6)",
                     entries->len + 1, shown);
        return FALSE;
      }
    }
  g_ptr_array_add (entries, NULL);
  *out = (char **) g_ptr_array_free (g_steal_pointer (&entries), FALSE);
  return TRUE;
}

static gboolean
parse_max_size (const char *v, gsize vlen, guint64 *out, GError **error)
{
  g_autofree char *shown = msrp_describe_text (v, vlen);

  if (!all_of (v, vlen, is_digit))
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "%s is not a number of octets", shown);
      return FALSE;
    }
  if (!parse_number (v, vlen, G_MAXSIZE, G_MAXUINT64, out))
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "%s is larger than %" G_GUINT64_FORMAT, shown, G_MAXUINT64);
      return FALSE;
    }
  return TRUE;
}

static const char *const setup_names[] = {
  [MSRP_SDP_SETUP_ABSENT] = NULL,         [MSRP_SDP_SETUP_ACTIVE] = "active",
  [MSRP_SDP_SETUP_PASSIVE] = "passive",   [MSRP_SDP_SETUP_ACTPASS] = "actpass",
  [MSRP_SDP_SETUP_HOLDCONN] = "holdconn",
};

const char *
msrp_sdp_setup_to_string (MsrpSdpSetup setup)
{
  if ((guint) setup >= G_N_ELEMENTS (setup_names))
    return NULL;
  return setup_names[setup];
}

static const char *const tcptype_names[] = {
  [MSRP_SDP_TCPTYPE_NONE] = NULL,
  [MSRP_SDP_TCPTYPE_ACTIVE] = "active",
  [MSRP_SDP_TCPTYPE_PASSIVE] = "passive",
  [MSRP_SDP_TCPTYPE_SO] = "so",
};

const char *
msrp_sdp_tcptype_to_string (MsrpSdpTcpType tcptype)
{
  if ((guint) tcptype >= G_N_ELEMENTS (tcptype_names))
    return NULL;
  return tcptype_names[tcptype];
}

/* Index in @names (entries 1..n-1) equal to @v case-insensitively, or 0. */
static guint
lookup_name (const char *const *names, guint n, const char *v, gsize vlen)
{
  for (guint i = 1; i < n; i++)
    if (span_equal_ci (v, vlen, names[i]))
      return i;
  return 0;
}

/* RFC 4145 section 4: role = "active" / "passive" / "actpass" / "holdconn" */
static gboolean
parse_setup (const char *v, gsize vlen, MsrpSdpSetup *out, GError **error)
{
  guint i = lookup_name (setup_names, G_N_ELEMENTS (setup_names), v, vlen);

  if (i == 0)
    {
      g_autofree char *shown = msrp_describe_text (v, vlen);

      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "%s is not active, passive, actpass or holdconn", shown);
      return FALSE;
    }
  *out = (MsrpSdpSetup) i;
  return TRUE;
}

/* RFC 4145 section 5: conn-value = "new" / "existing" */
static gboolean
parse_connection (const char *v, gsize vlen, MsrpSdpConnection *out,
                  GError **error)
{
  if (span_equal_ci (v, vlen, "new"))
    *out = MSRP_SDP_CONNECTION_NEW;
  else if (span_equal_ci (v, vlen, "existing"))
    *out = MSRP_SDP_CONNECTION_EXISTING;
  else
    {
      g_autofree char *shown = msrp_describe_text (v, vlen);

      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "%s is not new or existing", shown);
      return FALSE;
    }
  return TRUE;
}

static void
fingerprint_free (gpointer data)
{
  MsrpSdpFingerprint *fp = data;

  g_free (fp->hash_func);
  g_free (fp->fingerprint);
  g_free (fp);
}

/* RFC 8122 section 5:
 *   fingerprint-attribute = "fingerprint" ":" hash-func SP fingerprint
 *   hash-func = ... / token;  fingerprint = 2UHEX *(":" 2UHEX)
 * Lower-case hex digits are accepted too. */
static MsrpSdpFingerprint *
parse_fingerprint (const char *v, gsize vlen, GError **error)
{
  g_autoptr (GArray) f = split_fields (v, vlen, NULL, error);
  MsrpSdpFingerprint *fp;
  const Span *hex;
  gboolean ok;

  if (f == NULL)
    return NULL;
  if (f->len != 2)
    {
      g_set_error_literal (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                           "needs <hash-func> <fingerprint>");
      return NULL;
    }
  if (!is_token (FIELD (f, 0).p, FIELD (f, 0).len))
    {
      g_autofree char *shown =
          msrp_describe_text (FIELD (f, 0).p, FIELD (f, 0).len);

      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "hash function %s is not a token", shown);
      return NULL;
    }
  hex = &FIELD (f, 1);
  ok = hex->len % 3 == 2;
  for (gsize i = 0; ok && i < hex->len; i++)
    ok = i % 3 == 2 ? hex->p[i] == ':' : g_ascii_isxdigit (hex->p[i]);
  if (!ok)
    {
      g_autofree char *shown = msrp_describe_text (hex->p, hex->len);

      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "fingerprint %s is not hex byte pairs separated by "
                   "':'",
                   shown);
      return NULL;
    }
  fp = g_new (MsrpSdpFingerprint, 1);
  fp->hash_func = g_ascii_strdown (FIELD (f, 0).p, (gssize) FIELD (f, 0).len);
  fp->fingerprint = g_strndup (hex->p, hex->len);
  return fp;
}

/* RFC 8839 section 5.4: ice-ufrag = 4*256ice-char, ice-pwd = 22*256ice-char */
static gboolean
check_ice_chars (const char *v, gsize vlen, gsize min, GError **error)
{
  if (vlen < min || vlen > 256 || !all_of (v, vlen, is_ice_char))
    {
      g_autofree char *shown = msrp_describe_text (v, vlen);

      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "%s is not %" G_GSIZE_FORMAT " to 256 ice-chars "
                   "(letters, digits, '+', '/')",
                   shown, min);
      return FALSE;
    }
  return TRUE;
}

/* RFC 8839 section 5.6: ice-option-tag *(SP ice-option-tag),
 * ice-option-tag = 1*ice-char */
static gboolean
parse_ice_options (const char *v, gsize vlen, char ***out, GError **error)
{
  g_autoptr (GArray) f = split_fields (v, vlen, NULL, error);
  char **tags;

  if (f == NULL)
    return FALSE;
  for (guint i = 0; i < f->len; i++)
    if (!all_of (FIELD (f, i).p, FIELD (f, i).len, is_ice_char))
      {
        g_autofree char *shown =
            msrp_describe_text (FIELD (f, i).p, FIELD (f, i).len);

        g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                     "option tag %s is not ice-chars", shown);
        return FALSE;
      }
  tags = g_new (char *, f->len + 1);
  for (guint i = 0; i < f->len; i++)
    tags[i] = g_strndup (FIELD (f, i).p, FIELD (f, i).len);
  tags[f->len] = NULL;
  *out = tags;
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * Candidates (RFC 8839 section 5.1, RFC 6544 section 4.5)
 * ------------------------------------------------------------------------- */

void
msrp_sdp_candidate_free (MsrpSdpCandidate *cand)
{
  if (cand == NULL)
    return;
  g_free (cand->foundation);
  g_free (cand->transport);
  g_free (cand->address);
  g_free (cand->type);
  g_free (cand->raddr);
  g_strfreev (cand->ext_names);
  g_strfreev (cand->ext_values);
  g_free (cand);
}

MsrpSdpCandidate *
msrp_sdp_candidate_copy (const MsrpSdpCandidate *cand)
{
  MsrpSdpCandidate *copy;

  g_return_val_if_fail (cand != NULL, NULL);

  copy = g_new0 (MsrpSdpCandidate, 1);
  *copy = *cand;
  copy->foundation = g_strdup (cand->foundation);
  copy->transport = g_strdup (cand->transport);
  copy->address = g_strdup (cand->address);
  copy->type = g_strdup (cand->type);
  copy->raddr = g_strdup (cand->raddr);
  copy->ext_names = g_strdupv (cand->ext_names);
  copy->ext_values = g_strdupv (cand->ext_values);
  return copy;
}

static gboolean
is_vchar (guchar c)
{
  return c >= 0x21 && c <= 0x7e;
}

/* A candidate field that is wrong: the error says @before, the field as
 * written, then @after.  Returns FALSE, the candidate parse's failure. */
static gboolean
bad_field (GError **error, const Span *field, const char *before,
           const char *after)
{
  g_autofree char *shown = msrp_describe_text (field->p, field->len);

  g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX, "%s%s%s", before,
               shown, after);
  return FALSE;
}

#define CAND_NEEDS                                                            \
  "needs <foundation> <component-id> <transport> "                            \
  "<priority> <connection-address> <port> typ <cand-type>"

/* The eight fields every candidate starts with, @f holding at least
 * eight, into @c. */
static gboolean
candidate_parse_fixed (MsrpSdpCandidate *c, GArray *f, GError **error)
{
  guint64 n;

  if (FIELD (f, 0).len > 32 ||
      !all_of (FIELD (f, 0).p, FIELD (f, 0).len, is_ice_char))
    return bad_field (error, &FIELD (f, 0), "foundation ",
                      " is not 1 to 32 ice-chars");
  c->foundation = g_strndup (FIELD (f, 0).p, FIELD (f, 0).len);
  if (!parse_number (FIELD (f, 1).p, FIELD (f, 1).len, 3, 256, &n) || n == 0)
    return bad_field (error, &FIELD (f, 1), "component-id ",
                      " is not a number 1..256");
  c->component = (guint) n;
  if (!is_token (FIELD (f, 2).p, FIELD (f, 2).len))
    return bad_field (error, &FIELD (f, 2), "transport ", " is not a token");
  c->transport = g_strndup (FIELD (f, 2).p, FIELD (f, 2).len);
  if (!parse_number (FIELD (f, 3).p, FIELD (f, 3).len, 10, G_MAXUINT32, &n))
    return bad_field (error, &FIELD (f, 3), "priority ",
                      " is not a number 0..4294967295");
  c->priority = (guint32) n;
  if (!check_address (FIELD (f, 4).p, FIELD (f, 4).len, ADDR_ANY, FALSE,
                      error))
    {
      g_prefix_error (error, "connection-address: ");
      return FALSE;
    }
  c->address = g_strndup (FIELD (f, 4).p, FIELD (f, 4).len);
  if (!parse_port (FIELD (f, 5).p, FIELD (f, 5).len, &c->port))
    return bad_field (error, &FIELD (f, 5), "port ",
                      " is not a number 0..65535");
  if (!span_equal_ci (FIELD (f, 6).p, FIELD (f, 6).len, "typ"))
    return bad_field (error, &FIELD (f, 6),
                      "expected \"typ\" after the port, found ", "");
  if (!is_token (FIELD (f, 7).p, FIELD (f, 7).len))
    return bad_field (error, &FIELD (f, 7), "cand-type ", " is not a token");
  c->type = g_strndup (FIELD (f, 7).p, FIELD (f, 7).len);
  return TRUE;
}

/* One extension, @name @value: raddr, rport and tcptype into @c, any other
 * appended to @names and @values. */
static gboolean
candidate_parse_extension (MsrpSdpCandidate *c, const Span *name,
                           const Span *value, GPtrArray *names,
                           GPtrArray *values, GError **error)
{
  if (!is_token (name->p, name->len))
    return bad_field (error, name, "extension name ", " is not a token");
  if (!all_of (value->p, value->len, is_vchar))
    return bad_field (error, value, "extension value ",
                      " is not visible ASCII");
  if (span_equal_ci (name->p, name->len, "raddr"))
    {
      if (c->raddr != NULL)
        return bad_field (error, name, "", " appears twice");
      if (!check_address (value->p, value->len, ADDR_ANY, FALSE, error))
        {
          g_prefix_error (error, "raddr: ");
          return FALSE;
        }
      c->raddr = g_strndup (value->p, value->len);
    }
  else if (span_equal_ci (name->p, name->len, "rport"))
    {
      guint16 port;

      if (c->rport >= 0)
        return bad_field (error, name, "", " appears twice");
      if (!parse_port (value->p, value->len, &port))
        return bad_field (error, value, "rport ", " is not a number 0..65535");
      c->rport = port;
    }
  else if (span_equal_ci (name->p, name->len, "tcptype"))
    {
      guint t;

      if (c->tcptype != MSRP_SDP_TCPTYPE_NONE)
        return bad_field (error, name, "", " appears twice");
      t = lookup_name (tcptype_names, G_N_ELEMENTS (tcptype_names), value->p,
                       value->len);
      if (t == 0)
        return bad_field (error, value, "tcptype ",
                          " is not active, passive or so");
      c->tcptype = (MsrpSdpTcpType) t;
    }
  else
    {
      g_ptr_array_add (names, g_strndup (name->p, name->len));
      g_ptr_array_add (values, g_strndup (value->p, value->len));
    }
  return TRUE;
}

static MsrpSdpCandidate *
candidate_parse (const char *v, gsize vlen, GError **error)
{
  g_autoptr (MsrpSdpCandidate) c = NULL;
  g_autoptr (GArray) f = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GPtrArray) values = NULL;

  if (vlen > MSRP_SDP_MAX_LINE_LEN)
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_LIMIT,
                   "longer than %d bytes", MSRP_SDP_MAX_LINE_LEN);
      return NULL;
    }
  f = split_fields (v, vlen, NULL, error);
  if (f == NULL)
    return NULL;
  if (f->len < 8)
    {
      g_set_error_literal (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                           CAND_NEEDS);
      return NULL;
    }

  c = g_new0 (MsrpSdpCandidate, 1);
  c->rport = -1;
  if (!candidate_parse_fixed (c, f, error))
    return NULL;
  if ((f->len - 8) % 2 != 0)
    {
      bad_field (error, &FIELD (f, f->len - 1), "extension ", " has no value");
      return NULL;
    }
  names = g_ptr_array_new_with_free_func (g_free);
  values = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 8; i < f->len; i += 2)
    if (!candidate_parse_extension (c, &FIELD (f, i), &FIELD (f, i + 1), names,
                                    values, error))
      return NULL;
  if (names->len > 0)
    {
      g_ptr_array_add (names, NULL);
      g_ptr_array_add (values, NULL);
      c->ext_names =
          (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
      c->ext_values =
          (char **) g_ptr_array_free (g_steal_pointer (&values), FALSE);
    }
  return g_steal_pointer (&c);
}

MsrpSdpCandidate *
msrp_sdp_candidate_parse (const char *value, gssize len, GError **error)
{
  MsrpSdpCandidate *c;

  g_return_val_if_fail (value != NULL || len == 0, NULL);

  c = candidate_parse (value, len < 0 ? strlen (value) : (gsize) len, error);
  if (c == NULL)
    g_prefix_error (error, "candidate: ");
  return c;
}

char *
msrp_sdp_candidate_to_string (const MsrpSdpCandidate *cand)
{
  GString *s;

  g_return_val_if_fail (cand != NULL, NULL);
  g_return_val_if_fail (cand->foundation != NULL && cand->transport != NULL &&
                            cand->address != NULL && cand->type != NULL,
                        NULL);

  s = g_string_new (NULL);
  g_string_append_printf (s, "%s %u %s %" G_GUINT32_FORMAT " %s %u typ %s",
                          cand->foundation, cand->component, cand->transport,
                          cand->priority, cand->address, cand->port,
                          cand->type);
  if (cand->raddr != NULL)
    g_string_append_printf (s, " raddr %s", cand->raddr);
  if (cand->rport >= 0)
    g_string_append_printf (s, " rport %d", cand->rport);
  if (msrp_sdp_tcptype_to_string (cand->tcptype) != NULL)
    g_string_append_printf (s, " tcptype %s",
                            msrp_sdp_tcptype_to_string (cand->tcptype));
  for (guint i = 0; cand->ext_names != NULL && cand->ext_names[i] != NULL &&
                    cand->ext_values != NULL && cand->ext_values[i] != NULL;
       i++)
    g_string_append_printf (s, " %s %s", cand->ext_names[i],
                            cand->ext_values[i]);
  return g_string_free (s, FALSE);
}

/* ---------------------------------------------------------------------------
 * Attributes this module reads
 * ------------------------------------------------------------------------- */

typedef enum
{
  ATTR_OTHER = 0,
  ATTR_PATH,
  ATTR_ACCEPT_TYPES,
  ATTR_ACCEPT_WRAPPED_TYPES,
  ATTR_MAX_SIZE,
  ATTR_SETUP,
  ATTR_CONNECTION,
  ATTR_CEMA,
  ATTR_FINGERPRINT,
  ATTR_ICE_UFRAG,
  ATTR_ICE_PWD,
  ATTR_ICE_OPTIONS,
  ATTR_ICE_LITE,
  ATTR_CANDIDATE,
  ATTR_END_OF_CANDIDATES,
  ATTR_REMOTE_CANDIDATES,
  ATTR_CHARSET,
  N_ATTRS
} AttrId;

#define AT_SESSION 1u
#define AT_MEDIA 2u

/* Where each is read (RFC 4975 section 8, RFC 4145 sections 4 and 5,
 * RFC 6714 section 5, RFC 8122 section 5, RFC 8839 section 5, RFC 8840
 * section 8.2), whether it may appear once per level, and whether it is a
 * property attribute (no value).  remote-candidates and charset are known
 * by name only. */
static const struct
{
  const char *name;
  guint levels;
  gboolean once;
  gboolean property;
} attr_info[N_ATTRS] = {
  [ATTR_OTHER] = { NULL, 0, FALSE, FALSE },
  [ATTR_PATH] = { "path", AT_MEDIA, TRUE, FALSE },
  [ATTR_ACCEPT_TYPES] = { "accept-types", AT_MEDIA, TRUE, FALSE },
  [ATTR_ACCEPT_WRAPPED_TYPES] = { "accept-wrapped-types", AT_MEDIA, TRUE,
                                  FALSE },
  [ATTR_MAX_SIZE] = { "max-size", AT_MEDIA, TRUE, FALSE },
  [ATTR_SETUP] = { "setup", AT_SESSION | AT_MEDIA, TRUE, FALSE },
  [ATTR_CONNECTION] = { "connection", AT_SESSION | AT_MEDIA, TRUE, FALSE },
  [ATTR_CEMA] = { "msrp-cema", AT_MEDIA, TRUE, TRUE },
  [ATTR_FINGERPRINT] = { "fingerprint", AT_SESSION | AT_MEDIA, FALSE, FALSE },
  [ATTR_ICE_UFRAG] = { "ice-ufrag", AT_SESSION | AT_MEDIA, TRUE, FALSE },
  [ATTR_ICE_PWD] = { "ice-pwd", AT_SESSION | AT_MEDIA, TRUE, FALSE },
  [ATTR_ICE_OPTIONS] = { "ice-options", AT_SESSION | AT_MEDIA, TRUE, FALSE },
  [ATTR_ICE_LITE] = { "ice-lite", AT_SESSION, TRUE, TRUE },
  [ATTR_CANDIDATE] = { "candidate", AT_MEDIA, FALSE, FALSE },
  [ATTR_END_OF_CANDIDATES] = { "end-of-candidates", AT_SESSION | AT_MEDIA,
                               TRUE, TRUE },
  [ATTR_REMOTE_CANDIDATES] = { "remote-candidates", 0, FALSE, FALSE },
  [ATTR_CHARSET] = { "charset", 0, FALSE, FALSE },
};

/* The attribute of an a= line, with its value (trailing spaces and tabs
 * dropped) when it has one. */
static AttrId
line_attr (const Line *line, const char **value, gsize *vlen,
           gboolean *has_value)
{
  const char *name, *colon;
  gsize rest, name_len;

  if (line->len < 2 || line->text[0] != 'a' || line->text[1] != '=')
    return ATTR_OTHER;
  name = line->text + 2;
  rest = line->len - 2;
  colon = memchr (name, ':', rest);
  name_len = colon != NULL ? (gsize) (colon - name) : rest;
  if (value != NULL)
    {
      *has_value = colon != NULL;
      *value = colon != NULL ? colon + 1 : name + rest;
      *vlen = colon != NULL ? rstrip_len (colon + 1, rest - name_len - 1) : 0;
    }
  for (guint i = 1; i < N_ATTRS; i++)
    if (span_equal_ci (name, name_len, attr_info[i].name))
      return (AttrId) i;
  return ATTR_OTHER;
}

/* Typed values of one level: the session level or one MSRP stream. */
typedef struct
{
  MsrpSdpProto proto; /* media level */
  guint16 port;       /* media level */
  gboolean has_c;
  MsrpSdpAddrType addrtype;
  char *address;
  GPtrArray *path; /* MsrpUri, or NULL */
  char **accept_types;
  char **accept_wrapped_types;
  gboolean has_max_size;
  guint64 max_size;
  MsrpSdpSetup setup;
  MsrpSdpConnection connection;
  gboolean cema;
  gboolean ice_lite;
  gboolean end_of_candidates;
  GPtrArray *fingerprints; /* MsrpSdpFingerprint */
  char *ice_ufrag;
  char *ice_pwd;
  char **ice_options;
  GPtrArray *candidates; /* MsrpSdpCandidate */
} Attrs;

static void
attrs_init (Attrs *a)
{
  memset (a, 0, sizeof *a);
  a->fingerprints = g_ptr_array_new_with_free_func (fingerprint_free);
  a->candidates = g_ptr_array_new_with_free_func (
      (GDestroyNotify) msrp_sdp_candidate_free);
}

static void
attrs_clear (Attrs *a)
{
  g_free (a->address);
  g_clear_pointer (&a->path, g_ptr_array_unref);
  g_strfreev (a->accept_types);
  g_strfreev (a->accept_wrapped_types);
  g_clear_pointer (&a->fingerprints, g_ptr_array_unref);
  g_free (a->ice_ufrag);
  g_free (a->ice_pwd);
  g_strfreev (a->ice_options);
  g_clear_pointer (&a->candidates, g_ptr_array_unref);
  memset (a, 0, sizeof *a);
}

/* Read the value of attribute @id into @a (the value is known non-empty). */
static gboolean
read_attr (AttrId id, const char *v, gsize vlen, Attrs *a, GError **error)
{
  switch (id)
    {
    case ATTR_PATH:
      {
        GError *uri_error = NULL;

        a->path = msrp_uri_list_parse (v, (gssize) vlen, &uri_error);
        if (a->path == NULL)
          {
            g_set_error_literal (error, MSRP_SDP_ERROR,
                                 uri_error->code == MSRP_URI_ERROR_TOO_LONG
                                     ? MSRP_SDP_ERROR_LIMIT
                                     : MSRP_SDP_ERROR_SYNTAX,
                                 uri_error->message);
            g_error_free (uri_error);
            return FALSE;
          }
        return TRUE;
      }
    case ATTR_ACCEPT_TYPES:
      return parse_format_list (v, vlen, &a->accept_types, error);
    case ATTR_ACCEPT_WRAPPED_TYPES:
      return parse_format_list (v, vlen, &a->accept_wrapped_types, error);
    case ATTR_MAX_SIZE:
      a->has_max_size = parse_max_size (v, vlen, &a->max_size, error);
      return a->has_max_size;
    case ATTR_SETUP:
      return parse_setup (v, vlen, &a->setup, error);
    case ATTR_CONNECTION:
      return parse_connection (v, vlen, &a->connection, error);
    case ATTR_FINGERPRINT:
      {
        MsrpSdpFingerprint *fp = parse_fingerprint (v, vlen, error);

        if (fp == NULL)
          return FALSE;
        g_ptr_array_add (a->fingerprints, fp);
        return TRUE;
      }
    case ATTR_ICE_UFRAG:
      if (!check_ice_chars (v, vlen, 4, error))
        return FALSE;
      a->ice_ufrag = g_strndup (v, vlen);
      return TRUE;
    case ATTR_ICE_PWD:
      if (!check_ice_chars (v, vlen, 22, error))
        return FALSE;
      a->ice_pwd = g_strndup (v, vlen);
      return TRUE;
    case ATTR_ICE_OPTIONS:
      return parse_ice_options (v, vlen, &a->ice_options, error);
    case ATTR_CANDIDATE:
      {
        MsrpSdpCandidate *c = candidate_parse (v, vlen, error);

        if (c == NULL)
          return FALSE;
        g_ptr_array_add (a->candidates, c);
        return TRUE;
      }
    case ATTR_CEMA:
      a->cema = TRUE;
      return TRUE;
    case ATTR_ICE_LITE:
      a->ice_lite = TRUE;
      return TRUE;
    case ATTR_END_OF_CANDIDATES:
      a->end_of_candidates = TRUE;
      return TRUE;
    case ATTR_OTHER:
    case ATTR_REMOTE_CANDIDATES:
    case ATTR_CHARSET:
    case N_ATTRS:
    default:
      return TRUE;
    }
}

static void
prefix_line (GError **error, guint lineno)
{
  if (lineno > 0)
    g_prefix_error (error, "line %u: ", lineno);
  else
    g_prefix_error (error, "new line: ");
}

/* Set an error about line @lineno (0: a line a modification wrote). */
static void line_error (GError **error, guint lineno, gint code,
                        const char *format, ...) G_GNUC_PRINTF (4, 5);

static void
line_error (GError **error, guint lineno, gint code, const char *format, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (lineno > 0)
    g_set_error (error, MSRP_SDP_ERROR, code, "line %u: %s", lineno, msg);
  else
    g_set_error (error, MSRP_SDP_ERROR, code, "new line: %s", msg);
}

/* " (the first is on line N)" */
static char *
describe_first (const Line *first)
{
  if (first->lineno > 0)
    return g_strdup_printf (" (the first is on line %u)", first->lineno);
  return g_strdup (" (the first is a new line)");
}

/* Read the lines @lines[@first ..] of one level into @a. */
static gboolean
scan_level (GPtrArray *lines, guint first, guint level, Attrs *a,
            GError **error)
{
  const Line *seen[N_ATTRS] = { NULL };
  const Line *c_line = NULL;
  const char *where =
      level == AT_SESSION ? "at session level" : "in this media section";

  for (guint i = first; i < lines->len; i++)
    {
      const Line *line = g_ptr_array_index (lines, i);
      const char *v = NULL;
      gsize vlen = 0;
      gboolean has_value = FALSE;
      AttrId id;

      if (line->text[0] == 'c')
        {
          if (c_line != NULL)
            {
              g_autofree char *f = describe_first (c_line);

              line_error (error, line->lineno, MSRP_SDP_ERROR_DUPLICATE,
                          "a second c= line %s%s; MSRP needs one address",
                          where, f);
              return FALSE;
            }
          c_line = line;
          if (!parse_c_value (line->text + 2,
                              rstrip_len (line->text + 2, line->len - 2),
                              &a->addrtype, &a->address, error))
            {
              prefix_line (error, line->lineno);
              return FALSE;
            }
          a->has_c = TRUE;
          continue;
        }

      id = line_attr (line, &v, &vlen, &has_value);
      if ((attr_info[id].levels & level) == 0)
        continue;
      if (attr_info[id].once && seen[id] != NULL)
        {
          g_autofree char *f = describe_first (seen[id]);

          line_error (error, line->lineno, MSRP_SDP_ERROR_DUPLICATE,
                      "a second a=%s %s%s", attr_info[id].name, where, f);
          return FALSE;
        }
      seen[id] = line;
      if (attr_info[id].property && has_value)
        {
          line_error (error, line->lineno, MSRP_SDP_ERROR_SYNTAX,
                      "a=%s takes no value", attr_info[id].name);
          return FALSE;
        }
      if (!attr_info[id].property && vlen == 0)
        {
          line_error (error, line->lineno, MSRP_SDP_ERROR_SYNTAX,
                      "a=%s needs a value", attr_info[id].name);
          return FALSE;
        }
      if (!read_attr (id, v, vlen, a, error))
        {
          g_prefix_error (error, "a=%s: ", attr_info[id].name);
          prefix_line (error, line->lineno);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * The session description
 * ------------------------------------------------------------------------- */

struct _MsrpSdpStream
{
  MsrpSdp *sdp;
  guint media_index;
  Attrs attrs;
};

struct _MsrpSdp
{
  GPtrArray *session;  /* Line: the session level, v= first */
  GPtrArray *media;    /* GPtrArray of Line, one per m= section */
  GPtrArray *by_media; /* MsrpSdpStream or NULL, as media */
  GPtrArray *streams;  /* MsrpSdpStream (owned by by_media) */
  Attrs session_attrs;
  const char *eol;            /* for new lines */
  gboolean final_eol_missing; /* the final line had no line ending */
  gboolean has_charset;       /* an a=charset line exists */
  char *trailer;              /* empty lines after the last, or NULL */
  gsize trailer_len;
  guint trailer_lines;
};

static void
stream_free (gpointer data)
{
  MsrpSdpStream *st = data;

  if (st == NULL)
    return;
  attrs_clear (&st->attrs);
  g_free (st);
}

void
msrp_sdp_free (MsrpSdp *sdp)
{
  if (sdp == NULL)
    return;
  g_ptr_array_unref (sdp->session);
  g_ptr_array_unref (sdp->media);
  g_ptr_array_unref (sdp->streams);
  g_ptr_array_unref (sdp->by_media);
  attrs_clear (&sdp->session_attrs);
  g_free (sdp->trailer);
  g_free (sdp);
}

static GPtrArray *
section_new (void)
{
  return g_ptr_array_new_with_free_func (line_free);
}

/* Finds the end of line @lineno, which starts at *@pos, checking its bytes
 * (no NUL, no lone CR) and its length: *@end is where its text ends, *@eol
 * its line ending (NULL for a last line without one), and *@pos moves past
 * it. */
static gboolean
scan_line (const char *text, gsize len, guint lineno, gsize *pos, gsize *end,
           const char **eol, GError **error)
{
  gsize start = *pos, i = *pos;

  while (i < len && text[i] != '\n')
    {
      if (text[i] == '\0')
        {
          g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                       "line %u: NUL byte at column %" G_GSIZE_FORMAT
                       " (RFC 8866 section 9: byte-string)",
                       lineno, i - start + 1);
          return FALSE;
        }
      if (text[i] == '\r')
        {
          if (i + 1 < len && text[i + 1] == '\n')
            break;
          g_set_error (
              error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
              "line %u: CR not followed by LF at column %" G_GSIZE_FORMAT,
              lineno, i - start + 1);
          return FALSE;
        }
      if (++i - start > MSRP_SDP_MAX_LINE_LEN)
        {
          g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_LIMIT,
                       "line %u: longer than %d bytes", lineno,
                       MSRP_SDP_MAX_LINE_LEN);
          return FALSE;
        }
    }
  *end = i;
  *eol = NULL;
  if (i < len)
    {
      *eol = text[i] == '\r' ? EOL_CRLF : EOL_LF;
      i += strlen (*eol);
    }
  *pos = i;
  return TRUE;
}

/* Split @text into lines, into the sections of @sdp.  Checks the bytes
 * (no NUL, no lone CR), the limits and that empty lines come only at the
 * end. */
static gboolean
split_text (MsrpSdp *sdp, const char *text, gsize len, GError **error)
{
  GPtrArray *section = sdp->session;
  const char *first_eol = NULL;
  guint lineno = 0, first_empty = 0;
  gsize pos = 0, trailer_start = 0;
  Line *last = NULL;

  while (pos < len)
    {
      gsize start = pos, end;
      const char *eol;

      if (++lineno > MSRP_SDP_MAX_LINES)
        {
          g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_LIMIT,
                       "line %u: the SDP has more than %d lines", lineno,
                       MSRP_SDP_MAX_LINES);
          return FALSE;
        }
      if (!scan_line (text, len, lineno, &pos, &end, &eol, error))
        return FALSE;
      if (lineno == 1)
        first_eol = eol;

      if (end == start)
        {
          if (first_empty == 0)
            {
              first_empty = lineno;
              trailer_start = start;
            }
          continue;
        }
      if (first_empty != 0)
        {
          g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                       "line %u: empty line (only the end of the SDP may "
                       "have empty lines)",
                       first_empty);
          return FALSE;
        }
      if (end - start >= 2 && text[start] == 'm' && text[start + 1] == '=')
        {
          section = section_new ();
          g_ptr_array_add (sdp->media, section);
        }
      last = line_take (g_strndup (text + start, end - start), end - start,
                        eol, lineno);
      g_ptr_array_add (section, last);
    }

  sdp->eol = first_eol != NULL ? first_eol : EOL_CRLF;
  if (last != NULL && last->eol == NULL)
    {
      last->eol = sdp->eol;
      sdp->final_eol_missing = TRUE;
    }
  if (first_empty != 0)
    {
      sdp->trailer_len = len - trailer_start;
      sdp->trailer = g_strndup (text + trailer_start, sdp->trailer_len);
      sdp->trailer_lines = lineno - first_empty + 1;
    }
  return TRUE;
}

/* The checks every line gets: "<type>=<value>" with an ASCII letter as type
 * (RFC 8866 section 5), no NUL, CR or LF in it, an a= line's name a token
 * (section 9), and UTF-8 (section 5) unless it is an s= or i= line and the
 * SDP names another charset (section 6.10). */
static gboolean
check_line (const Line *line, gboolean has_charset, GError **error)
{
  const char *p = line->text;
  const char *end = NULL;

  if (line->len < 2 || !g_ascii_isalpha (p[0]) || p[1] != '=')
    {
      g_autofree char *shown = msrp_describe_text (p, line->len);

      line_error (error, line->lineno, MSRP_SDP_ERROR_SYNTAX,
                  "not a <type>=<value> line: %s", shown);
      return FALSE;
    }
  for (gsize i = 0; i < line->len; i++)
    if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n')
      {
        line_error (error, line->lineno, MSRP_SDP_ERROR_SYNTAX,
                    "NUL, CR or LF byte at column %" G_GSIZE_FORMAT, i + 1);
        return FALSE;
      }
  if (!(has_charset && (p[0] == 's' || p[0] == 'i')) &&
      !g_utf8_validate_len (p, line->len, &end))
    {
      line_error (error, line->lineno, MSRP_SDP_ERROR_SYNTAX,
                  "not valid UTF-8 at column %" G_GSIZE_FORMAT
                  " (RFC 8866 section 5: UTF-8 unless a=charset names "
                  "another character set for s= and i=)",
                  (gsize) (end - p) + 1);
      return FALSE;
    }
  if (p[0] == 'a')
    {
      const char *colon = memchr (p + 2, ':', line->len - 2);
      gsize name_len = colon != NULL ? (gsize) (colon - p - 2) : line->len - 2;

      if (!is_token (p + 2, name_len))
        {
          g_autofree char *shown = msrp_describe_text (p + 2, name_len);

          line_error (error, line->lineno, MSRP_SDP_ERROR_SYNTAX,
                      "attribute name %s is not a token (RFC 8866 section "
                      "9)",
                      shown);
          return FALSE;
        }
    }
  return TRUE;
}

/* Read one MSRP stream's section @lines into @a: the m= line, then its
 * attributes; it must have a c= line or inherit one. */
static gboolean
scan_stream (const MsrpSdp *sdp, GPtrArray *lines, Attrs *a, GError **error)
{
  const Line *m = g_ptr_array_index (lines, 0);
  const char *v = m->text + 2;
  MediaField mf;

  if (!parse_m_value (v, rstrip_len (v, m->len - 2), &mf, error))
    {
      prefix_line (error, m->lineno);
      return FALSE;
    }
  if (!media_is_msrp (v, &mf, &a->proto))
    {
      line_error (error, m->lineno, MSRP_SDP_ERROR_SYNTAX,
                  "m= line is no longer an MSRP stream");
      return FALSE;
    }
  if (mf.has_count)
    {
      line_error (error, m->lineno, MSRP_SDP_ERROR_SYNTAX,
                  "m= line of an MSRP stream has a port count "
                  "(RFC 4975 section 8.1: one port)");
      return FALSE;
    }
  if (mf.n_fmt != 1 || mf.fmt.len != 1 || mf.fmt.p[0] != '*')
    {
      line_error (error, m->lineno, MSRP_SDP_ERROR_SYNTAX,
                  "m= line of an MSRP stream must have the single format "
                  "\"*\" (RFC 4975 section 8.1)");
      return FALSE;
    }
  a->port = mf.port;
  if (!scan_level (lines, 1, AT_MEDIA, a, error))
    return FALSE;
  if (!a->has_c && !sdp->session_attrs.has_c)
    {
      line_error (error, m->lineno, MSRP_SDP_ERROR_MISSING,
                  "the MSRP stream has no c= line and the session level "
                  "has none (RFC 8866 section 5.7)");
      return FALSE;
    }
  return TRUE;
}

/* RFC 8866 section 5.1: the first line is v=0, and there is one.  Returns
 * that line, or NULL. */
static const Line *
check_version (const MsrpSdp *sdp, GError **error)
{
  const Line *first;

  if (sdp->session->len == 0 && sdp->media->len == 0)
    {
      g_set_error_literal (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_MISSING,
                           "the SDP is empty (it must start with \"v=0\")");
      return NULL;
    }
  first = sdp->session->len > 0 ? g_ptr_array_index (sdp->session, 0) : NULL;
  if (first == NULL || first->lineno != 1 || first->len < 2 ||
      first->text[0] != 'v' || first->text[1] != '=')
    {
      g_set_error_literal (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_MISSING,
                           "line 1: the SDP must start with \"v=0\" "
                           "(RFC 8866 section 5.1)");
      return NULL;
    }
  if (rstrip_len (first->text, first->len) != 3 || first->text[2] != '0')
    {
      g_autofree char *shown = msrp_describe_text (first->text, first->len);

      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                   "line 1: %s is not \"v=0\" (RFC 8866 section 5.1: "
                   "version 0)",
                   shown);
      return NULL;
    }
  return first;
}

/* The lines of section @s of @sdp: 0 the session, then each m= section. */
static GPtrArray *
section_lines (const MsrpSdp *sdp, guint s)
{
  return s == 0 ? sdp->session : g_ptr_array_index (sdp->media, s - 1);
}

/* Every line through check_line, @first the only v= line; an a=charset
 * line anywhere frees s= and i= from UTF-8. */
static gboolean
check_lines (MsrpSdp *sdp, const Line *first, GError **error)
{
  for (guint s = 0; s <= sdp->media->len; s++)
    {
      GPtrArray *lines = section_lines (sdp, s);

      for (guint i = 0; i < lines->len; i++)
        if (line_attr (g_ptr_array_index (lines, i), NULL, NULL, NULL) ==
            ATTR_CHARSET)
          sdp->has_charset = TRUE;
    }
  for (guint s = 0; s <= sdp->media->len; s++)
    {
      GPtrArray *lines = section_lines (sdp, s);

      for (guint i = 0; i < lines->len; i++)
        {
          const Line *line = g_ptr_array_index (lines, i);

          if (!check_line (line, sdp->has_charset, error))
            return FALSE;
          if (line->text[0] == 'v' && line != first)
            {
              line_error (error, line->lineno, MSRP_SDP_ERROR_DUPLICATE,
                          "a second v= line (one SDP, one session)");
              return FALSE;
            }
        }
    }
  return TRUE;
}

/* Each m= section: an MSRP stream is read into sdp->streams, any other
 * media keeps a NULL in sdp->by_media.  @session_error, the session
 * level's, is reported at the first MSRP stream. */
static gboolean
scan_media (MsrpSdp *sdp, GError **session_error, GError **error)
{
  for (guint i = 0; i < sdp->media->len; i++)
    {
      GPtrArray *lines = g_ptr_array_index (sdp->media, i);
      const Line *m = g_ptr_array_index (lines, 0);
      const char *v = m->text + 2;
      MsrpSdpStream *st;
      MediaField mf;
      MsrpSdpProto proto;

      if (!parse_m_value (v, rstrip_len (v, m->len - 2), &mf, error))
        {
          prefix_line (error, m->lineno);
          return FALSE;
        }
      if (!media_is_msrp (v, &mf, &proto))
        {
          g_ptr_array_add (sdp->by_media, NULL);
          continue;
        }
      if (*session_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (session_error));
          return FALSE;
        }
      st = g_new0 (MsrpSdpStream, 1);
      st->sdp = sdp;
      st->media_index = i;
      attrs_init (&st->attrs);
      g_ptr_array_add (sdp->by_media, st);
      g_ptr_array_add (sdp->streams, st);
      if (!scan_stream (sdp, lines, &st->attrs, error))
        return FALSE;
    }
  return TRUE;
}

MsrpSdp *
msrp_sdp_parse (const char *text, gsize len, GError **error)
{
  g_autoptr (MsrpSdp) sdp = NULL;
  g_autoptr (GError) session_error = NULL;
  const Line *first;

  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len > MSRP_SDP_MAX_SIZE)
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_LIMIT,
                   "the SDP is %" G_GSIZE_FORMAT " bytes, more than %d", len,
                   MSRP_SDP_MAX_SIZE);
      return NULL;
    }

  sdp = g_new0 (MsrpSdp, 1);
  sdp->session = section_new ();
  sdp->media =
      g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  sdp->by_media = g_ptr_array_new_with_free_func (stream_free);
  sdp->streams = g_ptr_array_new ();
  attrs_init (&sdp->session_attrs);

  if (!split_text (sdp, text, len, error))
    return NULL;
  first = check_version (sdp, error);
  if (first == NULL || !check_lines (sdp, first, error))
    return NULL;

  /* The session level matters only to MSRP streams; its error, if any, is
   * reported when the first one turns up. */
  if (!scan_level (sdp->session, 1, AT_SESSION, &sdp->session_attrs,
                   &session_error))
    {
      /* Not read at all rather than read in part. */
      attrs_clear (&sdp->session_attrs);
      attrs_init (&sdp->session_attrs);
    }
  if (!scan_media (sdp, &session_error, error))
    return NULL;
  return g_steal_pointer (&sdp);
}

static gsize
section_size (GPtrArray *lines, guint *n_lines)
{
  gsize size = 0;

  for (guint i = 0; i < lines->len; i++)
    {
      const Line *line = g_ptr_array_index (lines, i);

      size += line->len + strlen (line->eol);
    }
  *n_lines += lines->len;
  return size;
}

/* Size in bytes and lines of the SDP as written, with section
 * @media_index replaced by @replacement (NULL: none replaced). */
static gsize
sdp_size (const MsrpSdp *sdp, guint media_index, GPtrArray *replacement,
          guint *n_lines)
{
  GPtrArray *last_section = sdp->session;
  gsize size;

  *n_lines = sdp->trailer_lines;
  size = section_size (sdp->session, n_lines) + sdp->trailer_len;
  for (guint i = 0; i < sdp->media->len; i++)
    {
      last_section = replacement != NULL && i == media_index
                         ? replacement
                         : g_ptr_array_index (sdp->media, i);
      size += section_size (last_section, n_lines);
    }
  if (sdp->final_eol_missing)
    {
      const Line *last =
          g_ptr_array_index (last_section, last_section->len - 1);

      size -= strlen (last->eol);
    }
  return size;
}

char *
msrp_sdp_to_string (const MsrpSdp *sdp, gsize *len)
{
  GString *s;
  guint n_lines;

  g_return_val_if_fail (sdp != NULL, NULL);

  s = g_string_sized_new (sdp_size (sdp, 0, NULL, &n_lines) + 1);
  for (guint sec = 0; sec <= sdp->media->len; sec++)
    {
      GPtrArray *lines =
          sec == 0 ? sdp->session : g_ptr_array_index (sdp->media, sec - 1);
      gboolean last_section = sec == sdp->media->len;

      for (guint i = 0; i < lines->len; i++)
        {
          const Line *line = g_ptr_array_index (lines, i);

          g_string_append_len (s, line->text, (gssize) line->len);
          if (!(sdp->final_eol_missing && last_section && i + 1 == lines->len))
            g_string_append (s, line->eol);
        }
    }
  if (sdp->trailer != NULL)
    g_string_append_len (s, sdp->trailer, (gssize) sdp->trailer_len);
  if (len != NULL)
    *len = s->len;
  return g_string_free (s, FALSE);
}

guint
msrp_sdp_get_n_media (const MsrpSdp *sdp)
{
  g_return_val_if_fail (sdp != NULL, 0);
  return sdp->media->len;
}

MsrpSdpStream *
msrp_sdp_get_media_stream (const MsrpSdp *sdp, guint media_index)
{
  g_return_val_if_fail (sdp != NULL, NULL);
  g_return_val_if_fail (media_index < sdp->by_media->len, NULL);
  return g_ptr_array_index (sdp->by_media, media_index);
}

guint
msrp_sdp_get_n_streams (const MsrpSdp *sdp)
{
  g_return_val_if_fail (sdp != NULL, 0);
  return sdp->streams->len;
}

MsrpSdpStream *
msrp_sdp_get_stream (const MsrpSdp *sdp, guint i)
{
  g_return_val_if_fail (sdp != NULL, NULL);
  g_return_val_if_fail (i < sdp->streams->len, NULL);
  return g_ptr_array_index (sdp->streams, i);
}

gboolean
msrp_sdp_get_ice_lite (const MsrpSdp *sdp)
{
  g_return_val_if_fail (sdp != NULL, FALSE);
  return sdp->session_attrs.ice_lite;
}

/* ---------------------------------------------------------------------------
 * The origin line (RFC 8866 section 5.2)
 * ------------------------------------------------------------------------- */

/* RFC 3264 section 5: the session id and version "MUST be representable
 * with a 64 bit signed integer". */
#define MAX_SESS_VERSION ((guint64) G_MAXINT64)

/* Where the session level's o= line keeps its sess-version. */
typedef struct
{
  guint index;      /* of the line in sdp->session */
  gsize start, len; /* of the field in the line's text */
  guint64 version;
} Origin;

/* Find the session level's one o= line and read it as RFC 8866 section 9
 * writes it: origin-field = "o=" username SP sess-id SP sess-version SP
 * nettype SP addrtype SP unicast-address, sess-id and sess-version
 * 1*DIGIT.  Only what the version needs is checked: the other fields are
 * the originator's, passed on as written. */
static gboolean
find_origin (const MsrpSdp *sdp, Origin *o, GError **error)
{
  const Line *line = NULL;
  g_autoptr (GArray) f = NULL;
  const char *v;

  for (guint i = 0; i < sdp->session->len; i++)
    {
      const Line *l = g_ptr_array_index (sdp->session, i);

      if (l->text[0] != 'o')
        continue;
      if (line != NULL)
        {
          line_error (error, l->lineno, MSRP_SDP_ERROR_DUPLICATE,
                      "a second o= line (RFC 8866 section 5.2: one origin)");
          return FALSE;
        }
      line = l;
      o->index = i;
    }
  if (line == NULL)
    {
      g_set_error_literal (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_MISSING,
                           "the SDP has no o= line (RFC 8866 section 5.2)");
      return FALSE;
    }
  v = line->text + 2;
  f = split_fields (v, rstrip_len (v, line->len - 2), "o=", error);
  if (f == NULL || f->len != 6 ||
      !all_of (FIELD (f, 1).p, FIELD (f, 1).len, is_digit) ||
      !parse_number (FIELD (f, 2).p, FIELD (f, 2).len, 19, MAX_SESS_VERSION,
                     &o->version))
    {
      g_clear_error (error);
      line_error (error, line->lineno, MSRP_SDP_ERROR_SYNTAX,
                  "o= needs <username> <sess-id> <sess-version> <nettype> "
                  "<addrtype> <address>, the id and the version numbers up "
                  "to 2^63-1 (RFC 8866 section 5.2, RFC 3264 section 5)");
      return FALSE;
    }
  o->start = (gsize) (FIELD (f, 2).p - line->text);
  o->len = FIELD (f, 2).len;
  return TRUE;
}

gboolean
msrp_sdp_get_origin_version (const MsrpSdp *sdp, guint64 *version,
                             GError **error)
{
  Origin o;

  g_return_val_if_fail (sdp != NULL && version != NULL, FALSE);
  if (!find_origin (sdp, &o, error))
    return FALSE;
  *version = o.version;
  return TRUE;
}

gboolean
msrp_sdp_set_origin_version (MsrpSdp *sdp, guint64 version, GError **error)
{
  Origin o;
  Line *old;
  g_autofree char *digits = NULL;
  char *text;
  guint n_lines;
  gsize size, len;

  g_return_val_if_fail (sdp != NULL, FALSE);
  if (version > MAX_SESS_VERSION)
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_LIMIT,
                   "o= version %" G_GUINT64_FORMAT " is more than 2^63-1 "
                   "(RFC 3264 section 5)",
                   version);
      return FALSE;
    }
  if (!find_origin (sdp, &o, error))
    return FALSE;
  old = g_ptr_array_index (sdp->session, o.index);
  digits = g_strdup_printf ("%" G_GUINT64_FORMAT, version);
  len = old->len - o.len + strlen (digits);
  size = sdp_size (sdp, 0, NULL, &n_lines) - old->len + len;
  if (len > MSRP_SDP_MAX_LINE_LEN || size > MSRP_SDP_MAX_SIZE)
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_LIMIT,
                   "the SDP would be %" G_GSIZE_FORMAT " bytes, more than %d",
                   size, MSRP_SDP_MAX_SIZE);
      return FALSE;
    }
  text = g_strdup_printf ("%.*s%s%s", (int) o.start, old->text, digits,
                          old->text + o.start + o.len);
  g_ptr_array_index (sdp->session, o.index) =
      line_take (text, strlen (text), old->eol, old->lineno);
  line_free (old);
  return TRUE;
}

/* ---------------------------------------------------------------------------
 * Stream getters
 * ------------------------------------------------------------------------- */

static const Attrs *
session_attrs (const MsrpSdpStream *stream)
{
  return &stream->sdp->session_attrs;
}

guint
msrp_sdp_stream_get_media_index (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, 0);
  return stream->media_index;
}

MsrpSdpProto
msrp_sdp_stream_get_proto (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, MSRP_SDP_PROTO_TCP_MSRP);
  return stream->attrs.proto;
}

guint16
msrp_sdp_stream_get_port (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, 0);
  return stream->attrs.port;
}

const char *
msrp_sdp_stream_get_address (const MsrpSdpStream *stream,
                             MsrpSdpAddrType *type)
{
  const Attrs *a;

  g_return_val_if_fail (stream != NULL, NULL);
  a = stream->attrs.has_c ? &stream->attrs : session_attrs (stream);
  if (type != NULL)
    *type = a->addrtype;
  return a->address;
}

gboolean
msrp_sdp_stream_has_media_address (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  return stream->attrs.has_c;
}

GPtrArray *
msrp_sdp_stream_get_path (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);
  return stream->attrs.path;
}

const char *const *
msrp_sdp_stream_get_accept_types (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);
  return (const char *const *) stream->attrs.accept_types;
}

const char *const *
msrp_sdp_stream_get_accept_wrapped_types (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);
  return (const char *const *) stream->attrs.accept_wrapped_types;
}

gboolean
msrp_sdp_stream_get_max_size (const MsrpSdpStream *stream, guint64 *max_size)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  if (stream->attrs.has_max_size && max_size != NULL)
    *max_size = stream->attrs.max_size;
  return stream->attrs.has_max_size;
}

MsrpSdpSetup
msrp_sdp_stream_get_setup (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, MSRP_SDP_SETUP_ABSENT);
  if (stream->attrs.setup != MSRP_SDP_SETUP_ABSENT)
    return stream->attrs.setup;
  return session_attrs (stream)->setup;
}

MsrpSdpConnection
msrp_sdp_stream_get_connection (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, MSRP_SDP_CONNECTION_ABSENT);
  if (stream->attrs.connection != MSRP_SDP_CONNECTION_ABSENT)
    return stream->attrs.connection;
  return session_attrs (stream)->connection;
}

gboolean
msrp_sdp_stream_get_cema (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  return stream->attrs.cema;
}

GPtrArray *
msrp_sdp_stream_get_fingerprints (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);
  if (stream->attrs.fingerprints->len > 0)
    return stream->attrs.fingerprints;
  return session_attrs (stream)->fingerprints;
}

const char *
msrp_sdp_stream_get_ice_ufrag (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);
  if (stream->attrs.ice_ufrag != NULL)
    return stream->attrs.ice_ufrag;
  return session_attrs (stream)->ice_ufrag;
}

const char *
msrp_sdp_stream_get_ice_pwd (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);
  if (stream->attrs.ice_pwd != NULL)
    return stream->attrs.ice_pwd;
  return session_attrs (stream)->ice_pwd;
}

const char *const *
msrp_sdp_stream_get_ice_options (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);
  if (stream->attrs.ice_options != NULL)
    return (const char *const *) stream->attrs.ice_options;
  return (const char *const *) session_attrs (stream)->ice_options;
}

GPtrArray *
msrp_sdp_stream_get_candidates (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);
  return stream->attrs.candidates;
}

gboolean
msrp_sdp_stream_get_end_of_candidates (const MsrpSdpStream *stream)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  return stream->attrs.end_of_candidates ||
         session_attrs (stream)->end_of_candidates;
}

/* ---------------------------------------------------------------------------
 * Stream modifications: edit a copy of the section, commit it.
 * ------------------------------------------------------------------------- */

static GPtrArray *
stream_section (const MsrpSdpStream *stream)
{
  return g_ptr_array_index (stream->sdp->media, stream->media_index);
}

static GPtrArray *
section_copy (const MsrpSdpStream *stream)
{
  GPtrArray *lines = stream_section (stream);
  GPtrArray *copy = g_ptr_array_new_full (lines->len + 2, line_free);

  for (guint i = 0; i < lines->len; i++)
    g_ptr_array_add (copy, line_copy (g_ptr_array_index (lines, i)));
  return copy;
}

/* Replace the stream's section with @lines (transfer full) if they read
 * back as a valid MSRP stream within the limits; else change nothing. */
static gboolean
stream_commit (MsrpSdpStream *stream, GPtrArray *lines, GError **error)
{
  g_autoptr (GPtrArray) owned = lines;
  MsrpSdp *sdp = stream->sdp;
  GPtrArray *old;
  Attrs a;
  guint n_lines;
  gsize size;

  for (guint i = 0; i < lines->len; i++)
    {
      const Line *line = g_ptr_array_index (lines, i);

      if (line->lineno != 0)
        continue;
      if (line->len > MSRP_SDP_MAX_LINE_LEN)
        {
          g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_LIMIT,
                       "new line: %" G_GSIZE_FORMAT " bytes, more than %d",
                       line->len, MSRP_SDP_MAX_LINE_LEN);
          return FALSE;
        }
      if (!check_line (line, sdp->has_charset, error))
        return FALSE;
    }
  size = sdp_size (sdp, stream->media_index, lines, &n_lines);
  if (n_lines > MSRP_SDP_MAX_LINES)
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_LIMIT,
                   "the SDP would have %u lines, more than %d", n_lines,
                   MSRP_SDP_MAX_LINES);
      return FALSE;
    }
  if (size > MSRP_SDP_MAX_SIZE)
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_LIMIT,
                   "the SDP would be %" G_GSIZE_FORMAT " bytes, more than "
                   "%d",
                   size, MSRP_SDP_MAX_SIZE);
      return FALSE;
    }

  attrs_init (&a);
  if (!scan_stream (sdp, lines, &a, error))
    {
      attrs_clear (&a);
      return FALSE;
    }
  attrs_clear (&stream->attrs);
  stream->attrs = a;
  old = g_ptr_array_index (sdp->media, stream->media_index);
  g_ptr_array_index (sdp->media, stream->media_index) =
      g_steal_pointer (&owned);
  g_ptr_array_unref (old);
  return TRUE;
}

/* First (@last FALSE) or last line of attribute @id in @lines, or -1. */
static gint
find_attr (GPtrArray *lines, AttrId id, gboolean last)
{
  gint found = -1;

  for (guint i = 1; i < lines->len; i++)
    if (line_attr (g_ptr_array_index (lines, i), NULL, NULL, NULL) == id)
      {
        found = (gint) i;
        if (!last)
          break;
      }
  return found;
}

/* Where a new attribute line goes: before the first a=candidate or
 * a=end-of-candidates, or at the end. */
static guint
attr_insert_pos (GPtrArray *lines)
{
  for (guint i = 1; i < lines->len; i++)
    {
      AttrId id = line_attr (g_ptr_array_index (lines, i), NULL, NULL, NULL);

      if (id == ATTR_CANDIDATE || id == ATTR_END_OF_CANDIDATES)
        return i;
    }
  return lines->len;
}

/* Replace the first line of attribute @id with @text (transfer full), or
 * insert it as a new attribute line. */
static void
replace_or_insert (const MsrpSdp *sdp, GPtrArray *lines, AttrId id, char *text)
{
  gint i = find_attr (lines, id, FALSE);

  if (i >= 0)
    {
      Line *old = g_ptr_array_index (lines, i);

      g_ptr_array_index (lines, i) = line_new_take (text, old->eol);
      line_free (old);
    }
  else
    g_ptr_array_insert (lines, (gint) attr_insert_pos (lines),
                        line_new_take (text, sdp->eol));
}

/* Remove every line whose attribute is in @ids (a bit per AttrId). */
static void
remove_attrs (GPtrArray *lines, guint ids)
{
  for (guint i = lines->len; i-- > 1;)
    {
      AttrId id = line_attr (g_ptr_array_index (lines, i), NULL, NULL, NULL);

      if (id != ATTR_OTHER && (ids & (1u << id)) != 0)
        g_ptr_array_remove_index (lines, i);
    }
}

G_STATIC_ASSERT (N_ATTRS <= 32);

gboolean
msrp_sdp_stream_set_address (MsrpSdpStream *stream, const char *address,
                             GError **error)
{
  gboolean ip6;
  GPtrArray *lines;
  char *text;
  guint i;

  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (address != NULL, FALSE);

  ip6 = strchr (address, ':') != NULL;
  if (!check_address (address, strlen (address),
                      ip6 ? ADDR_WANT_IP6 : ADDR_WANT_IP4, TRUE, error))
    return FALSE;
  text = g_strdup_printf ("c=IN %s %s", ip6 ? "IP6" : "IP4", address);
  lines = section_copy (stream);
  for (i = 1; i < lines->len; i++)
    if (((const Line *) g_ptr_array_index (lines, i))->text[0] == 'c')
      break;
  if (i < lines->len)
    {
      Line *old = g_ptr_array_index (lines, i);

      g_ptr_array_index (lines, i) = line_new_take (text, old->eol);
      line_free (old);
    }
  else
    {
      /* RFC 8866 section 5: m=, i=, c=, ... */
      for (i = 1; i < lines->len; i++)
        if (((const Line *) g_ptr_array_index (lines, i))->text[0] != 'i')
          break;
      g_ptr_array_insert (lines, (gint) i,
                          line_new_take (text, stream->sdp->eol));
    }
  return stream_commit (stream, lines, error);
}

gboolean
msrp_sdp_stream_set_port (MsrpSdpStream *stream, guint16 port, GError **error)
{
  GPtrArray *lines;
  Line *m;
  const char *v;
  MediaField mf;
  char *text;

  g_return_val_if_fail (stream != NULL, FALSE);

  lines = section_copy (stream);
  m = g_ptr_array_index (lines, 0);
  v = m->text + 2;
  if (!parse_m_value (v, rstrip_len (v, m->len - 2), &mf, error))
    {
      /* Cannot happen: the section was read before. */
      g_ptr_array_unref (lines);
      return FALSE;
    }
  text = g_strdup_printf ("m=%.*s %u%s", (int) mf.media_len, v, port,
                          v + mf.port_end);
  g_ptr_array_index (lines, 0) = line_new_take (text, m->eol);
  line_free (m);
  return stream_commit (stream, lines, error);
}

static gboolean
set_path_text (MsrpSdpStream *stream, GPtrArray *uris, GError **error)
{
  g_autofree char *list = NULL;
  GPtrArray *lines;

  if (uris->len == 0)
    {
      g_set_error_literal (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                           "a=path needs at least one URI");
      return FALSE;
    }
  if (uris->len > MSRP_URI_LIST_MAX)
    {
      g_set_error (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_LIMIT,
                   "a=path would have %u URIs, more than %d", uris->len,
                   MSRP_URI_LIST_MAX);
      return FALSE;
    }
  list = msrp_uri_list_to_text (uris);
  lines = section_copy (stream);
  replace_or_insert (stream->sdp, lines, ATTR_PATH,
                     g_strconcat ("a=path:", list, NULL));
  return stream_commit (stream, lines, error);
}

gboolean
msrp_sdp_stream_set_path (MsrpSdpStream *stream, GPtrArray *uris,
                          GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (uris != NULL, FALSE);
  return set_path_text (stream, uris, error);
}

gboolean
msrp_sdp_stream_prepend_path (MsrpSdpStream *stream, MsrpUri *uri,
                              GError **error)
{
  g_autoptr (GPtrArray) uris = NULL;
  GPtrArray *path;

  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (uri != NULL, FALSE);

  path = stream->attrs.path;
  if (path == NULL)
    {
      g_set_error_literal (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_MISSING,
                           "the MSRP stream has no a=path to prepend to");
      return FALSE;
    }
  uris = g_ptr_array_new_full (path->len + 1, (GDestroyNotify) msrp_uri_unref);
  g_ptr_array_add (uris, msrp_uri_ref (uri));
  for (guint i = 0; i < path->len; i++)
    g_ptr_array_add (uris, msrp_uri_ref (g_ptr_array_index (path, i)));
  return set_path_text (stream, uris, error);
}

gboolean
msrp_sdp_stream_set_setup (MsrpSdpStream *stream, MsrpSdpSetup setup,
                           GError **error)
{
  GPtrArray *lines;

  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail ((guint) setup < G_N_ELEMENTS (setup_names), FALSE);

  lines = section_copy (stream);
  if (setup == MSRP_SDP_SETUP_ABSENT)
    remove_attrs (lines, 1u << ATTR_SETUP);
  else
    replace_or_insert (stream->sdp, lines, ATTR_SETUP,
                       g_strconcat ("a=setup:", setup_names[setup], NULL));
  return stream_commit (stream, lines, error);
}

gboolean
msrp_sdp_stream_set_cema (MsrpSdpStream *stream, gboolean cema, GError **error)
{
  GPtrArray *lines;

  g_return_val_if_fail (stream != NULL, FALSE);

  lines = section_copy (stream);
  if (cema)
    replace_or_insert (stream->sdp, lines, ATTR_CEMA,
                       g_strdup ("a=msrp-cema"));
  else
    remove_attrs (lines, 1u << ATTR_CEMA);
  return stream_commit (stream, lines, error);
}

void
msrp_sdp_stream_clear_candidates (MsrpSdpStream *stream)
{
  GPtrArray *lines;

  g_return_if_fail (stream != NULL);

  lines = section_copy (stream);
  remove_attrs (lines,
                (1u << ATTR_CANDIDATE) | (1u << ATTR_END_OF_CANDIDATES));
  /* Removing lines from a valid section leaves a valid one. */
  (void) stream_commit (stream, lines, NULL);
}

void
msrp_sdp_stream_remove_ice (MsrpSdpStream *stream)
{
  GPtrArray *lines;

  g_return_if_fail (stream != NULL);

  lines = section_copy (stream);
  remove_attrs (lines,
                (1u << ATTR_CANDIDATE) | (1u << ATTR_END_OF_CANDIDATES) |
                    (1u << ATTR_REMOTE_CANDIDATES) | (1u << ATTR_ICE_UFRAG) |
                    (1u << ATTR_ICE_PWD) | (1u << ATTR_ICE_OPTIONS));
  (void) stream_commit (stream, lines, NULL);
}

gboolean
msrp_sdp_stream_add_candidate (MsrpSdpStream *stream,
                               const MsrpSdpCandidate *cand, GError **error)
{
  g_autofree char *value = NULL;
  g_autoptr (MsrpSdpCandidate) check = NULL;
  GPtrArray *lines;
  gint pos;

  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (cand != NULL, FALSE);

  value = msrp_sdp_candidate_to_string (cand);
  if (value == NULL)
    {
      g_set_error_literal (error, MSRP_SDP_ERROR, MSRP_SDP_ERROR_SYNTAX,
                           "candidate: a required field is NULL");
      return FALSE;
    }
  check = msrp_sdp_candidate_parse (value, -1, error);
  if (check == NULL)
    return FALSE;

  lines = section_copy (stream);
  pos = find_attr (lines, ATTR_CANDIDATE, TRUE);
  if (pos >= 0)
    pos++;
  else
    pos = find_attr (lines, ATTR_END_OF_CANDIDATES, FALSE);
  if (pos < 0)
    pos = (gint) lines->len;
  g_ptr_array_insert (lines, pos,
                      line_new_take (g_strconcat ("a=candidate:", value, NULL),
                                     stream->sdp->eol));
  return stream_commit (stream, lines, error);
}

gboolean
msrp_sdp_stream_set_ice_credentials (MsrpSdpStream *stream, const char *ufrag,
                                     const char *pwd, GError **error)
{
  GPtrArray *lines;

  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (ufrag != NULL && pwd != NULL, FALSE);

  if (!check_ice_chars (ufrag, strlen (ufrag), 4, error))
    {
      g_prefix_error (error, "ice-ufrag: ");
      return FALSE;
    }
  if (!check_ice_chars (pwd, strlen (pwd), 22, error))
    {
      g_prefix_error (error, "ice-pwd: ");
      return FALSE;
    }
  lines = section_copy (stream);
  replace_or_insert (stream->sdp, lines, ATTR_ICE_UFRAG,
                     g_strconcat ("a=ice-ufrag:", ufrag, NULL));
  replace_or_insert (stream->sdp, lines, ATTR_ICE_PWD,
                     g_strconcat ("a=ice-pwd:", pwd, NULL));
  return stream_commit (stream, lines, error);
}

gboolean
msrp_sdp_stream_set_end_of_candidates (MsrpSdpStream *stream, gboolean end,
                                       GError **error)
{
  GPtrArray *lines;

  g_return_val_if_fail (stream != NULL, FALSE);

  lines = section_copy (stream);
  if (!end)
    remove_attrs (lines, 1u << ATTR_END_OF_CANDIDATES);
  else if (find_attr (lines, ATTR_END_OF_CANDIDATES, FALSE) < 0)
    g_ptr_array_add (lines, line_new_take (g_strdup ("a=end-of-candidates"),
                                           stream->sdp->eol));
  return stream_commit (stream, lines, error);
}
