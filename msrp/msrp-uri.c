/* msrp-uri.c: MSRP URIs (RFC 4975 section 9, compared as section 6.1 says).
 *
 * A URI is taken apart into slices of the caller's text (never read past the
 * length given), each slice is validated against its ABNF rule and written
 * into the object in its normal form, and the canonical text is built from
 * those parts.  msrp_uri_new () goes through the same validation, so a URI
 * built from parts and one parsed from text obey the same rules.
 */
#include "msrp-uri.h"
#include "msrp-chars-priv.h"

#include <arpa/inet.h>
#include <string.h>

GQuark
msrp_uri_error_quark (void)
{
  return g_quark_from_static_string ("msrp-uri-error-quark");
}

typedef struct
{
  const char *name;
  const char *value; /* NULL when the parameter has no "=" */
} Param;

struct _MsrpUri
{
  gint ref_count;
  MsrpScheme scheme;
  MsrpHostType host_type;
  guint16 port; /* 0: absent */
  /* The texts below point into @store, one allocation for all of them
   * (a URI is parsed for every path of every frame: one allocation, not
   * one per part). */
  const char *userinfo;   /* normal form, or NULL */
  const char *host;       /* normal form, IPv6 without brackets */
  const char *session_id; /* or NULL */
  const char *transport;  /* lower-case */
  Param *params;          /* names and values in @store too */
  guint n_params;
  const char *text; /* as parsed (@canonical for msrp_uri_new) */
  char *store;
  char *canonical; /* made when first asked for (or at once for an IPv6
                    * host, whose canonical text may grow) */
};

/* A part of a URI: @len bytes at @p; @off is where the part starts in the
 * URI text, or -1 when the part was handed over alone (msrp_uri_new). */
typedef struct
{
  const char *p;
  size_t len;
  gssize off;
} Part;

/* The pieces msrp_uri_parse () found, or msrp_uri_new () was given. */
typedef struct
{
  MsrpScheme scheme;
  gboolean has_userinfo;
  Part userinfo;
  gboolean ipv6; /* @host is the inside of an IP-literal */
  Part host;
  gboolean has_port_text; /* parse: the digits after ":" in @port_text */
  Part port_text;
  guint16 port; /* msrp_uri_new: the port given, 0 for none */
  gboolean has_session_id;
  Part session_id;
  gboolean has_transport;
  Part transport;
  Part params; /* ";" URI-parameter ... as one slice, maybe empty */
} Parts;

/* Longest IPv6address of RFC 3986 in text: 8 groups of 4 hex digits and 7
 * colons, or 6 groups and a dotted IPv4 address (45 bytes). */
#define IPV6_TEXT_MAX 45

/* ---- character classes (RFC 3986 section 2, RFC 4975 section 9) ---- */

static gboolean
is_unreserved (guchar c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* @c is one of the characters of @set (never true for NUL). */
static gboolean
is_one_of (guchar c, const char *set)
{
  return c != '\0' && strchr (set, c) != NULL;
}

static gboolean
is_sub_delim (guchar c)
{
  return is_one_of (c, "!$&'()*+,;=");
}

/* RFC 4975 section 9: session-id = 1*( unreserved / "+" / "=" / "/" ) */
static gboolean
is_session_id_char (guchar c)
{
  return is_unreserved (c) || c == '+' || c == '=' || c == '/';
}

/* ---- error text ---- */

/* A character for an error message: 'x' when it can be printed plainly,
 * otherwise its byte value.  Bad input never reaches a message raw. */
static const char *
describe_char (guchar c, char buf[16])
{
  if (c == ' ')
    g_strlcpy (buf, "a space", 16);
  else if (c > 0x20 && c < 0x7f)
    g_snprintf (buf, 16, "'%c'", c);
  else
    g_snprintf (buf, 16, "byte 0x%02X", c);
  return buf;
}

/* " at offset N" for a part of a URI text, "" for a part given alone. */
static const char *
describe_offset (gssize off, char buf[40])
{
  if (off < 0)
    buf[0] = '\0';
  else
    g_snprintf (buf, 40, " at offset %" G_GSSIZE_FORMAT, off);
  return buf;
}

static void
set_bad_char (GError **error, const char *what, const Part *part, size_t i)
{
  char cbuf[16], obuf[40];

  g_set_error (
      error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX, "bad character %s in %s%s",
      describe_char ((guchar) part->p[i], cbuf), what,
      describe_offset (part->off < 0 ? -1 : part->off + (gssize) i, obuf));
}

/* ---- validation and normal forms of the parts ---- */

static int
hex_value (guchar c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Validate @part as *( unreserved / pct-encoded / sub-delims ) (userinfo
 * without ":", or reg-name) and append its normal form to @out: RFC 3986
 * section 6.2.2.2, percent-encoded unreserved characters are decoded;
 * section 6.2.2.1, the hex digits of the others are upper-case.  @lower
 * lower-cases letters too (reg-name, RFC 3986 section 3.2.2). */
static gboolean
normalise_pct (const char *what, const Part *part, gboolean lower,
               GString *out, GError **error)
{
  for (size_t i = 0; i < part->len; i++)
    {
      guchar c = (guchar) part->p[i];

      if (c == '%')
        {
          int hi =
              i + 2 < part->len ? hex_value ((guchar) part->p[i + 1]) : -1;
          int lo =
              i + 2 < part->len ? hex_value ((guchar) part->p[i + 2]) : -1;
          char obuf[40];

          if (hi < 0 || lo < 0)
            {
              g_set_error (
                  error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                  "bad percent-encoding in %s%s: '%%' must be followed by "
                  "two hex digits",
                  what,
                  describe_offset (part->off < 0 ? -1 : part->off + (gssize) i,
                                   obuf));
              return FALSE;
            }
          c = (guchar) (hi * 16 + lo);
          if (is_unreserved (c))
            g_string_append_c (out, (char) (lower ? g_ascii_tolower (c) : c));
          else
            g_string_append_printf (out, "%%%02X", c);
          i += 2;
        }
      else if (is_unreserved (c) || (is_sub_delim (c) && !(lower && c == ';')))
        {
          /* (A reg-name may hold ";" in RFC 3986, but in an MSRP-URI the ";"
           * after the authority starts the transport: only msrp_uri_new ()
           * can be handed a host with one, which would not parse back.) */
          g_string_append_c (out, (char) (lower ? g_ascii_tolower (c) : c));
        }
      else
        {
          set_bad_char (error, what, part, i);
          return FALSE;
        }
    }
  return TRUE;
}

/* RFC 3986 section 3.2.2: dec-octet "." dec-octet "." dec-octet "." dec-octet,
 * where a dec-octet is 0..255 without leading zeros. */
static gboolean
is_ipv4 (const char *s)
{
  for (int octet = 0; octet < 4; octet++)
    {
      guint value = 0;
      int digits = 0;

      if (octet > 0 && *s++ != '.')
        return FALSE;
      while (g_ascii_isdigit (*s) && digits < 4)
        {
          value = value * 10 + (guint) (*s++ - '0');
          digits++;
        }
      if (digits == 0 || digits > 3 || value > 255 ||
          (digits > 1 && s[-digits] == '0'))
        return FALSE;
    }
  return *s == '\0';
}

/* Classify the normal form of a host that is not an IP-literal.  A name
 * made only of digits and dots can only be an IPv4 address.  RFC 3696
 * section 2: no top-level domain is all-numeric; refusing such names (and
 * "0x" hex labels) also keeps a resolver from reading them as the numeric
 * forms inet_aton () accepts, such as "127.1" or "0x7f.1". */
static gboolean
classify_host (const char *host, gssize off, MsrpHostType *type,
               GError **error)
{
  g_autofree char *shown = NULL;
  char obuf[40];
  const char *label, *end;
  gboolean numeric = TRUE;

  if (host[0] == '\0')
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "host is empty%s", describe_offset (off, obuf));
      return FALSE;
    }
  for (const char *p = host; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p) && *p != '.')
      numeric = FALSE;
  if (numeric)
    {
      if (!is_ipv4 (host))
        {
          shown = msrp_describe_text (host, strlen (host));
          g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                       "host %s%s is not a valid IPv4 address (four numbers "
                       "0..255 without leading zeros)",
                       shown, describe_offset (off, obuf));
          return FALSE;
        }
      *type = MSRP_HOST_IPV4;
      return TRUE;
    }

  /* the last label, not counting one trailing dot */
  end = host + strlen (host);
  if (end > host + 1 && end[-1] == '.')
    end--;
  label = end;
  while (label > host && label[-1] != '.')
    label--;
  if (label < end)
    {
      gboolean digits = TRUE, hex = end - label >= 2 && label[0] == '0' &&
                                    (label[1] == 'x' || label[1] == 'X');

      for (const char *p = label; p < end; p++)
        {
          digits = digits && g_ascii_isdigit (*p);
          hex = hex && (p < label + 2 || g_ascii_isxdigit (*p));
        }
      if (digits || hex)
        {
          shown = msrp_describe_text (host, strlen (host));
          g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                       "host %s%s is neither an IPv4 address nor a host name "
                       "(its last label is numeric)",
                       shown, describe_offset (off, obuf));
          return FALSE;
        }
    }
  *type = MSRP_HOST_NAME;
  return TRUE;
}

/* The inside of an IP-literal (RFC 3986 section 3.2.2), written back by
 * inet_ntop (), which follows RFC 5952 (lower case, longest run of zero
 * groups compressed, IPv4-mapped addresses in dotted form). */
static gboolean
normalise_ipv6 (const Part *part, char out[INET6_ADDRSTRLEN], GError **error)
{
  char text[IPV6_TEXT_MAX + 1];
  struct in6_addr addr;
  char obuf[40];

  if (part->len > 0 && (part->p[0] == 'v' || part->p[0] == 'V'))
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "IPvFuture address literal%s is not supported",
                   describe_offset (part->off, obuf));
      return FALSE;
    }
  for (size_t i = 0; i < part->len; i++)
    {
      guchar c = (guchar) part->p[i];

      if (!g_ascii_isxdigit (c) && c != ':' && c != '.')
        {
          set_bad_char (error, "IPv6 address", part, i);
          return FALSE;
        }
    }
  if (part->len > IPV6_TEXT_MAX)
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "IPv6 address%s is %zu characters, longer than any valid "
                   "one (%d)",
                   describe_offset (part->off, obuf), part->len,
                   IPV6_TEXT_MAX);
      return FALSE;
    }
  memcpy (text, part->p, part->len);
  text[part->len] = '\0';
  if (inet_pton (AF_INET6, text, &addr) != 1)
    {
      g_autofree char *shown = msrp_describe_text (part->p, part->len);

      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "%s%s is not a valid IPv6 address", shown,
                   describe_offset (part->off, obuf));
      return FALSE;
    }
  if (inet_ntop (AF_INET6, &addr, out, INET6_ADDRSTRLEN) == NULL)
    g_assert_not_reached (); /* the buffer is always large enough */
  return TRUE;
}

static gboolean
check_session_id (const Part *part, GError **error)
{
  char obuf[40];

  if (part->len == 0)
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "session-id is empty%s", describe_offset (part->off, obuf));
      return FALSE;
    }
  for (size_t i = 0; i < part->len; i++)
    if (!is_session_id_char ((guchar) part->p[i]))
      {
        set_bad_char (error, "session-id", part, i);
        return FALSE;
      }
  return TRUE;
}

/* RFC 4975 section 9: transport = "tcp" / 1*ALPHANUM */
static gboolean
check_transport (const Part *part, GError **error)
{
  char obuf[40];

  if (part->len == 0)
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "transport is empty%s", describe_offset (part->off, obuf));
      return FALSE;
    }
  for (size_t i = 0; i < part->len; i++)
    if (!g_ascii_isalnum (part->p[i]))
      {
        set_bad_char (error, "transport", part, i);
        return FALSE;
      }
  return TRUE;
}

static gboolean
check_token (const char *what, guint index, const Part *part, GError **error)
{
  char cbuf[16], obuf[40];

  if (part->len == 0)
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "URI-parameter %u has an empty %s%s", index, what,
                   describe_offset (part->off, obuf));
      return FALSE;
    }
  for (size_t i = 0; i < part->len; i++)
    if (!msrp_is_token_char ((guchar) part->p[i]))
      {
        g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                     "bad character %s in the %s of URI-parameter %u%s",
                     describe_char ((guchar) part->p[i], cbuf), what, index,
                     describe_offset (
                         part->off < 0 ? -1 : part->off + (gssize) i, obuf));
        return FALSE;
      }
  return TRUE;
}

/* Append @p[0, len) and a NUL to @store; returns where it starts. */
static gsize
store_add (GString *store, const char *p, size_t len)
{
  gsize at = store->len;

  g_string_append_len (store, p, (gssize) len);
  g_string_append_c (store, '\0');
  return at;
}

/* @part is *( ";" URI-parameter ), URI-parameter = token ["=" token].
 * Names and values go into @store; until it is final, @uri->params hold
 * their offsets in it (plus one; 0: no value), made pointers by
 * build (). */
static gboolean
parse_params (MsrpUri *uri, const Part *part, GString *store, GError **error)
{
  guint n = 0;

  for (size_t i = 0; i < part->len; i++)
    if (part->p[i] == ';')
      n++;
  if (n == 0)
    return TRUE;
  uri->params = g_new0 (Param, n);

  for (size_t i = 0; i < part->len;)
    {
      size_t start = i + 1, end = start, eq;
      Part name, value;

      /* part->p[i] is ';' */
      while (end < part->len && part->p[end] != ';')
        end++;
      for (eq = start; eq < end && part->p[eq] != '='; eq++)
        ;
      name.p = part->p + start;
      name.len = eq - start;
      name.off = part->off + (gssize) start;
      if (!check_token ("name", uri->n_params + 1, &name, error))
        return FALSE;
      uri->params[uri->n_params].name =
          GSIZE_TO_POINTER (store_add (store, name.p, name.len) + 1);
      if (eq < end)
        {
          value.p = part->p + eq + 1;
          value.len = end - eq - 1;
          value.off = part->off + (gssize) eq + 1;
          if (!check_token ("value", uri->n_params + 1, &value, error))
            return FALSE;
          uri->params[uri->n_params].value =
              GSIZE_TO_POINTER (store_add (store, value.p, value.len) + 1);
        }
      uri->n_params++;
      i = end;
    }
  return TRUE;
}

static char *
format_canonical (const MsrpUri *uri)
{
  GString *s = g_string_sized_new (64);

  g_string_append (s,
                   uri->scheme == MSRP_SCHEME_MSRPS ? "msrps://" : "msrp://");
  if (uri->userinfo != NULL)
    {
      g_string_append (s, uri->userinfo);
      g_string_append_c (s, '@');
    }
  if (uri->host_type == MSRP_HOST_IPV6)
    g_string_append_c (s, '[');
  g_string_append (s, uri->host);
  if (uri->host_type == MSRP_HOST_IPV6)
    g_string_append_c (s, ']');
  if (uri->port != 0)
    {
      char digits[8];
      int n = 0;

      for (guint p = uri->port; p > 0; p /= 10)
        digits[n++] = (char) ('0' + p % 10);
      g_string_append_c (s, ':');
      while (n > 0)
        g_string_append_c (s, digits[--n]);
    }
  if (uri->session_id != NULL)
    {
      g_string_append_c (s, '/');
      g_string_append (s, uri->session_id);
    }
  g_string_append_c (s, ';');
  g_string_append (s, uri->transport);
  for (guint i = 0; i < uri->n_params; i++)
    {
      g_string_append_c (s, ';');
      g_string_append (s, uri->params[i].name);
      if (uri->params[i].value != NULL)
        {
          g_string_append_c (s, '=');
          g_string_append (s, uri->params[i].value);
        }
    }
  return g_string_free (s, FALSE);
}

/* RFC 3986 section 3.2.3: port = *DIGIT; MSRP needs 1..65535. */
static gboolean
parse_port (const Part *part, guint16 *port, GError **error)
{
  guint32 value = 0;
  char obuf[40];

  if (part->len == 0)
    {
      g_set_error (
          error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
          "port is empty (nothing after ':' at offset %" G_GSSIZE_FORMAT ")",
          part->off - 1);
      return FALSE;
    }
  for (size_t i = 0; i < part->len; i++)
    {
      if (!g_ascii_isdigit (part->p[i]))
        {
          set_bad_char (error, "port", part, i);
          return FALSE;
        }
      if (value <= 65535)
        value = value * 10 + (guint32) (part->p[i] - '0');
    }
  if (value == 0 || value > 65535)
    {
      g_autofree char *shown = msrp_describe_text (part->p, part->len);

      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "port %s%s is out of range 1..65535", shown,
                   describe_offset (part->off, obuf));
      return FALSE;
    }
  *port = (guint16) value;
  return TRUE;
}

/* Where build () put each part in the URI's store, before the store is
 * final and these become pointers; -1 for an absent part. */
typedef struct
{
  gssize userinfo;
  gsize host;
  gssize session_id;
  gsize transport;
  gsize text;
} StoreOffsets;

/* The userinfo's normal form into @store, at *@at. */
static gboolean
build_userinfo (const Part *userinfo, GString *store, gssize *at,
                GError **error)
{
  const char *colon = memchr (userinfo->p, ':', userinfo->len);
  char obuf[40];

  /* RFC 4975 section 6: a userinfo part MUST NOT contain password
   * information (RFC 3986 section 3.2.1: what follows the first ':'). */
  if (colon != NULL)
    {
      gssize off =
          userinfo->off < 0 ? -1 : userinfo->off + (colon - userinfo->p);

      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "userinfo holds a password (':'%s), which RFC 4975 "
                   "section 6 forbids",
                   describe_offset (off, obuf));
      return FALSE;
    }
  *at = (gssize) store->len;
  if (!normalise_pct ("userinfo", userinfo, FALSE, store, error))
    return FALSE;
  g_string_append_c (store, '\0');
  return TRUE;
}

/* The host's normal form at the end of @store, its kind into @uri. */
static gboolean
build_host (const Parts *parts, MsrpUri *uri, GString *store, GError **error)
{
  gsize host = store->len;

  if (parts->ipv6)
    {
      char addr[INET6_ADDRSTRLEN];

      if (!normalise_ipv6 (&parts->host, addr, error))
        return FALSE;
      store_add (store, addr, strlen (addr));
      uri->host_type = MSRP_HOST_IPV6;
      return TRUE;
    }
  if (!normalise_pct ("host", &parts->host, TRUE, store, error))
    return FALSE;
  g_string_append_c (store, '\0');
  return classify_host (store->str + host, parts->host.off, &uri->host_type,
                        error);
}

/* The port into @uri; @host as normalised, for the error. */
static gboolean
build_port (const Parts *parts, MsrpUri *uri, const char *host, GError **error)
{
  uri->port = parts->port;
  if (parts->has_port_text &&
      !parse_port (&parts->port_text, &uri->port, error))
    return FALSE;
  /* RFC 4975 section 6: "If the authority field contains a numeric IP
   * address, it MUST also contain a port." */
  if (uri->port == 0 && uri->host_type != MSRP_HOST_NAME)
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "host %s is an IP address but no port is given (RFC 4975 "
                   "section 6 requires one)",
                   host);
      return FALSE;
    }
  return TRUE;
}

/* The transport, which RFC 4975 section 6 requires, lower-cased into
 * @store at *@at. */
static gboolean
build_transport (const Parts *parts, GString *store, gsize *at, GError **error)
{
  if (!parts->has_transport)
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "no \";\" transport after the %s (RFC 4975 section 6 "
                   "requires one, such as \";tcp\")",
                   parts->has_session_id ? "session-id" : "authority");
      return FALSE;
    }
  if (!check_transport (&parts->transport, error))
    return FALSE;
  *at = store_add (store, parts->transport.p, parts->transport.len);
  for (gsize i = *at; store->str[i] != '\0'; i++)
    store->str[i] = g_ascii_tolower (store->str[i]);
  return TRUE;
}

/* The store is final: it moves into @uri and its offsets become
 * pointers. */
static void
take_store (MsrpUri *uri, GString *store, const StoreOffsets *at)
{
  uri->store = g_string_free (store, FALSE);
  uri->userinfo = at->userinfo >= 0 ? uri->store + at->userinfo : NULL;
  uri->host = uri->store + at->host;
  uri->session_id = at->session_id >= 0 ? uri->store + at->session_id : NULL;
  uri->transport = uri->store + at->transport;
  for (guint i = 0; i < uri->n_params; i++)
    {
      Param *pm = &uri->params[i];

      pm->name = uri->store + GPOINTER_TO_SIZE (pm->name) - 1;
      if (pm->value != NULL)
        pm->value = uri->store + GPOINTER_TO_SIZE (pm->value) - 1;
    }
}

/* Only an IPv6 address can grow when written back (inet_ntop writes
 * "::ffff:ffff" as "::255.255.255.255"); keep the canonical text within
 * the limit so that it always parses again.  Other URIs parsed from @text
 * make theirs when first asked. */
static gboolean
make_canonical (MsrpUri *uri, const char *text, GError **error)
{
  if (uri->host_type != MSRP_HOST_IPV6 && text != NULL)
    return TRUE;
  uri->canonical = format_canonical (uri);
  if (strlen (uri->canonical) > MSRP_URI_MAX_LEN)
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_TOO_LONG,
                   "URI is longer than the %d bytes allowed once written "
                   "in canonical form",
                   MSRP_URI_MAX_LEN);
      return FALSE;
    }
  return TRUE;
}

/* Validate every part, in the order they are written, and build the URI
 * from their normal forms; @text (@text_len bytes) is the URI as parsed,
 * or NULL for one made from parts, whose text is then its canonical
 * form. */
static MsrpUri *
build (const Parts *parts, const char *text, size_t text_len, GError **error)
{
  g_autoptr (MsrpUri) uri = g_new0 (MsrpUri, 1);
  g_autoptr (GString) store = g_string_sized_new (2 * text_len + 32);
  StoreOffsets at = { .userinfo = -1, .session_id = -1 };

  uri->ref_count = 1;
  uri->scheme = parts->scheme;
  if (parts->has_userinfo &&
      !build_userinfo (&parts->userinfo, store, &at.userinfo, error))
    return NULL;
  at.host = store->len;
  if (!build_host (parts, uri, store, error) ||
      !build_port (parts, uri, store->str + at.host, error))
    return NULL;
  if (parts->has_session_id)
    {
      if (!check_session_id (&parts->session_id, error))
        return NULL;
      at.session_id = (gssize) store_add (store, parts->session_id.p,
                                          parts->session_id.len);
    }
  if (!build_transport (parts, store, &at.transport, error) ||
      !parse_params (uri, &parts->params, store, error))
    return NULL;
  if (text != NULL)
    at.text = store_add (store, text, text_len);

  take_store (uri, g_steal_pointer (&store), &at);
  if (!make_canonical (uri, text, error))
    return NULL;
  uri->text = text != NULL ? uri->store + at.text : uri->canonical;
  return g_steal_pointer (&uri);
}

/* ---- parsing ---- */

static void
set_part (Part *part, const char *text, size_t start, size_t end)
{
  part->p = text + start;
  part->len = end - start;
  part->off = (gssize) start;
}

/* Index of the first of @stops (one to three characters) in
 * text[from, len), or len.  (Every path of every frame is split here: no
 * call per character.) */
static size_t
find_any (const char *text, size_t from, size_t len, const char *stops)
{
  char a = stops[0];
  char b = stops[1] != '\0' ? stops[1] : a;
  char c = b != a && stops[2] != '\0' ? stops[2] : b;

  while (from < len && text[from] != a && text[from] != b && text[from] != c)
    from++;
  return from;
}

/* msrp-scheme "://": the scheme into @parts, *@pos after the "//". */
static gboolean
split_scheme (const char *text, size_t len, Parts *parts, size_t *pos,
              GError **error)
{
  size_t colon = 0;

  while (colon < len && colon < 16 && text[colon] != ':')
    colon++;
  if (colon == len || text[colon] != ':')
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "no scheme: the URI must start with \"msrp://\" or "
                   "\"msrps://\"");
      return FALSE;
    }
  /* RFC 3986 section 3.1: schemes are case-insensitive */
  if (colon == 4 && g_ascii_strncasecmp (text, "msrp", 4) == 0)
    {
      parts->scheme = MSRP_SCHEME_MSRP;
    }
  else if (colon == 5 && g_ascii_strncasecmp (text, "msrps", 5) == 0)
    {
      parts->scheme = MSRP_SCHEME_MSRPS;
    }
  else
    {
      g_autofree char *shown = msrp_describe_text (text, colon);

      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "scheme %s is neither msrp nor msrps", shown);
      return FALSE;
    }
  if (len - colon < 3 || text[colon + 1] != '/' || text[colon + 2] != '/')
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "no \"//\" after the scheme at offset %zu", colon + 1);
      return FALSE;
    }
  *pos = colon + 3;
  return TRUE;
}

/* userinfo "@", if there is one from *@pos: *@pos moves past it. */
static void
split_userinfo (const char *text, size_t len, Parts *parts, size_t *pos)
{
  size_t auth_end = find_any (text, *pos, len, "/");
  size_t last_semicolon = len;

  for (size_t i = *pos; i < len; i++)
    if (text[i] == ';')
      last_semicolon = i;
  for (size_t i = *pos; i < auth_end; i++)
    if (text[i] == '@' && last_semicolon < len && i < last_semicolon)
      {
        parts->has_userinfo = TRUE;
        set_part (&parts->userinfo, text, *pos, i);
        *pos = i + 1;
        break;
      }
}

/* An IP-literal host "[...]" at @pos; *@host_end is after the ']'. */
static gboolean
split_ip_literal (const char *text, size_t len, size_t pos, Parts *parts,
                  size_t *host_end, GError **error)
{
  size_t close = find_any (text, pos + 1, len, "]/;");
  size_t end;

  if (close == len || text[close] != ']')
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "IP-literal at offset %zu has no closing ']'", pos);
      return FALSE;
    }
  parts->ipv6 = TRUE;
  set_part (&parts->host, text, pos + 1, close);
  end = close + 1;
  if (end < len && text[end] != ':' && text[end] != '/' && text[end] != ';')
    {
      char cbuf[16];

      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "bad character %s after the IP-literal at offset %zu",
                   describe_char ((guchar) text[end], cbuf), end);
      return FALSE;
    }
  *host_end = end;
  return TRUE;
}

/* A host name or IPv4 address at @pos; *@host_end is where it ends. */
static gboolean
split_host_name (const char *text, size_t len, size_t pos, Parts *parts,
                 size_t *host_end, GError **error)
{
  size_t end = find_any (text, pos, len, "/;");
  guint colons = 0;
  gboolean ipv6_chars = TRUE;

  for (size_t i = pos; i < end; i++)
    {
      colons += text[i] == ':';
      ipv6_chars = ipv6_chars && (g_ascii_isxdigit (text[i]) ||
                                  text[i] == ':' || text[i] == '.');
    }
  /* Looks like an IPv6 address without brackets; otherwise the port
   * check reports the second ':'. */
  if (colons > 1 && ipv6_chars)
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "host at offset %zu has more than one ':': an IPv6 "
                   "address must be enclosed in '[' and ']'",
                   pos);
      return FALSE;
    }
  *host_end = find_any (text, pos, end, ":");
  set_part (&parts->host, text, pos, *host_end);
  return TRUE;
}

/* Split @text (@len > 0 bytes) into its parts (RFC 4975 section 9):
 *   msrp-scheme "://" authority ["/" session-id] ";" transport
 *   *( ";" URI-parameter )
 * userinfo and reg-name may hold ";" (a sub-delim) in RFC 3986, but in an
 * MSRP-URI the host ends at the first "/" or ";", and "@" can appear only
 * after a userinfo (no later part allows it).  An "@" with no ";" after it
 * is not taken to end a userinfo (the ";" transport must follow the
 * authority), so that an "@" in a URI-parameter is reported there. */
static gboolean
split (const char *text, size_t len, Parts *parts, GError **error)
{
  size_t pos, host_end;
  gboolean ok;

  memset (parts, 0, sizeof *parts);
  if (!split_scheme (text, len, parts, &pos, error))
    return FALSE;
  split_userinfo (text, len, parts, &pos);
  if (pos < len && text[pos] == '[')
    ok = split_ip_literal (text, len, pos, parts, &host_end, error);
  else
    ok = split_host_name (text, len, pos, parts, &host_end, error);
  if (!ok)
    return FALSE;

  /* ":" port */
  pos = host_end;
  if (pos < len && text[pos] == ':')
    {
      size_t end = find_any (text, pos + 1, len, "/;");

      parts->has_port_text = TRUE;
      set_part (&parts->port_text, text, pos + 1, end);
      pos = end;
    }

  /* ["/" session-id] */
  if (pos < len && text[pos] == '/')
    {
      size_t end = find_any (text, pos + 1, len, ";");

      parts->has_session_id = TRUE;
      set_part (&parts->session_id, text, pos + 1, end);
      pos = end;
    }

  /* ";" transport: only ";" or the end can follow (find_any () above);
   * build () tells when it is missing, after the parts before it. */
  if (pos < len)
    {
      size_t end = find_any (text, pos + 1, len, ";");

      parts->has_transport = TRUE;
      set_part (&parts->transport, text, pos + 1, end);
      pos = end;
    }

  /* *( ";" URI-parameter ) */
  set_part (&parts->params, text, pos, len);
  return TRUE;
}

/* ---- public API ---- */

MsrpUri *
msrp_uri_parse (const char *text, gssize len, GError **error)
{
  Parts parts;
  size_t n;

  g_return_val_if_fail (len >= -1, NULL);
  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  n = len < 0 ? strnlen (text, MSRP_URI_MAX_LEN + 1) : (size_t) len;
  if (n > MSRP_URI_MAX_LEN)
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_TOO_LONG,
                   "URI is longer than the %d bytes allowed",
                   MSRP_URI_MAX_LEN);
      return NULL;
    }
  if (n == 0)
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "URI is empty");
      return NULL;
    }
  if (!split (text, n, &parts, error))
    return NULL;
  return build (&parts, text, n, error);
}

static void
set_whole_part (Part *part, const char *s)
{
  part->p = s;
  part->len = strlen (s);
  part->off = -1;
}

MsrpUri *
msrp_uri_new (MsrpScheme scheme, const char *userinfo, const char *host,
              guint16 port, const char *session_id, const char *transport,
              GError **error)
{
  Parts parts;

  g_return_val_if_fail (
      scheme == MSRP_SCHEME_MSRP || scheme == MSRP_SCHEME_MSRPS, NULL);
  g_return_val_if_fail (host != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  memset (&parts, 0, sizeof parts);
  parts.scheme = scheme;
  if (userinfo != NULL)
    {
      parts.has_userinfo = TRUE;
      set_whole_part (&parts.userinfo, userinfo);
    }
  if (host[0] == '[')
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "host must be given without brackets");
      return NULL;
    }
  parts.ipv6 = strchr (host, ':') != NULL;
  set_whole_part (&parts.host, host);
  parts.port = port;
  if (session_id != NULL)
    {
      parts.has_session_id = TRUE;
      set_whole_part (&parts.session_id, session_id);
    }
  parts.has_transport = TRUE;
  set_whole_part (&parts.transport, transport != NULL ? transport : "tcp");
  set_whole_part (&parts.params, "");

  return build (&parts, NULL, 0, error);
}

MsrpUri *
msrp_uri_ref (MsrpUri *uri)
{
  g_return_val_if_fail (uri != NULL, NULL);

  g_atomic_int_inc (&uri->ref_count);
  return uri;
}

void
msrp_uri_unref (MsrpUri *uri)
{
  g_return_if_fail (uri != NULL);

  if (!g_atomic_int_dec_and_test (&uri->ref_count))
    return;
  g_free (uri->params);
  g_free (uri->store);
  g_free (uri->canonical);
  g_free (uri);
}

MsrpScheme
msrp_uri_get_scheme (const MsrpUri *uri)
{
  g_return_val_if_fail (uri != NULL, MSRP_SCHEME_MSRP);
  return uri->scheme;
}

const char *
msrp_uri_get_userinfo (const MsrpUri *uri)
{
  g_return_val_if_fail (uri != NULL, NULL);
  return uri->userinfo;
}

const char *
msrp_uri_get_host (const MsrpUri *uri)
{
  g_return_val_if_fail (uri != NULL, NULL);
  return uri->host;
}

MsrpHostType
msrp_uri_get_host_type (const MsrpUri *uri)
{
  g_return_val_if_fail (uri != NULL, MSRP_HOST_NAME);
  return uri->host_type;
}

guint16
msrp_uri_get_port (const MsrpUri *uri)
{
  g_return_val_if_fail (uri != NULL, 0);
  return uri->port;
}

guint16
msrp_uri_get_effective_port (const MsrpUri *uri)
{
  g_return_val_if_fail (uri != NULL, 0);
  return uri->port != 0 ? uri->port : MSRP_DEFAULT_PORT;
}

const char *
msrp_uri_get_session_id (const MsrpUri *uri)
{
  g_return_val_if_fail (uri != NULL, NULL);
  return uri->session_id;
}

const char *
msrp_uri_get_transport (const MsrpUri *uri)
{
  g_return_val_if_fail (uri != NULL, NULL);
  return uri->transport;
}

const char *
msrp_uri_get_param (const MsrpUri *uri, const char *name, gboolean *present)
{
  g_return_val_if_fail (uri != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < uri->n_params; i++)
    if (g_ascii_strcasecmp (uri->params[i].name, name) == 0)
      {
        if (present != NULL)
          *present = TRUE;
        return uri->params[i].value;
      }
  if (present != NULL)
    *present = FALSE;
  return NULL;
}

guint
msrp_uri_get_n_params (const MsrpUri *uri)
{
  g_return_val_if_fail (uri != NULL, 0);
  return uri->n_params;
}

const char *
msrp_uri_to_string (const MsrpUri *uri)
{
  g_return_val_if_fail (uri != NULL, NULL);
  /* Made when first asked: most URIs are only compared by their parts. */
  if (uri->canonical == NULL)
    ((MsrpUri *) uri)->canonical = format_canonical (uri);
  return uri->canonical;
}

const char *
msrp_uri_get_text (const MsrpUri *uri)
{
  g_return_val_if_fail (uri != NULL, NULL);
  return uri->text;
}

/* RFC 4975 section 6.1.  The parts are kept in normal form, so comparing
 * them as strings is the comparison the RFC asks for: scheme as an enum;
 * host lower-cased with percent-encoding normalised (rule 2), and an IPv6
 * address in the one text inet_ntop () writes for its value; an explicit
 * port never equal to an absent one (rule 3); session-id case-sensitive
 * (rule 4); transport lower-cased (rule 5).  Userinfo and URI-parameters
 * are not compared. */
gboolean
msrp_uri_equal (const MsrpUri *a, const MsrpUri *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  return a->scheme == b->scheme && a->host_type == b->host_type &&
         strcmp (a->host, b->host) == 0 && a->port == b->port &&
         g_strcmp0 (a->session_id, b->session_id) == 0 &&
         strcmp (a->transport, b->transport) == 0;
}

static void
prefix_list_error (GError **error, guint index)
{
  if (error != NULL && *error != NULL)
    g_prefix_error (error, "URI %u of the list: ", index);
}

GPtrArray *
msrp_uri_list_parse (const char *text, gssize len, GError **error)
{
  g_autoptr (GPtrArray) uris = NULL;
  size_t n, pos = 0;

  g_return_val_if_fail (len >= -1, NULL);
  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Enough to tell a too long URI or a 33rd URI from a good list: past
   * this bound one of the two errors is found before the cut is reached. */
  n = len < 0 ? strnlen (text, MSRP_URI_LIST_MAX * (MSRP_URI_MAX_LEN + 1) + 1)
              : (size_t) len;
  if (n == 0)
    {
      g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                   "URI list is empty");
      return NULL;
    }

  uris = g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);
  /* To-Path = "To-Path:" SP MSRP-URI *( SP MSRP-URI ): one SP exactly
   * between two URIs, none before the first or after the last. */
  for (;;)
    {
      guint index = uris->len + 1;
      size_t window = MIN (n - pos, (size_t) MSRP_URI_MAX_LEN + 1);
      const char *space = memchr (text + pos, ' ', window);
      size_t end = space != NULL ? (size_t) (space - text) : pos + window;
      MsrpUri *uri;

      if (end == pos)
        {
          if (pos == 0)
            g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                         "URI 1 of the list: empty (the list starts with a "
                         "space)");
          else if (pos == n)
            g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                         "URI %u of the list: empty (the list ends with a "
                         "space)",
                         index);
          else
            g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_SYNTAX,
                         "URI %u of the list: empty (two spaces in a row at "
                         "offset %zu of the list)",
                         index, pos - 1);
          return NULL;
        }
      if (uris->len == MSRP_URI_LIST_MAX)
        {
          g_set_error (error, MSRP_URI_ERROR, MSRP_URI_ERROR_TOO_LONG,
                       "URI list has more than %d URIs", MSRP_URI_LIST_MAX);
          return NULL;
        }
      uri = msrp_uri_parse (text + pos, (gssize) (end - pos), error);
      if (uri == NULL)
        {
          prefix_list_error (error, index);
          return NULL;
        }
      g_ptr_array_add (uris, uri);
      if (end == n)
        break;
      pos = end + 1; /* past the space */
    }
  return g_steal_pointer (&uris);
}

static char *
join_list (GPtrArray *uris, const char *(*text_of) (const MsrpUri *) )
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < uris->len; i++)
    {
      if (i > 0)
        g_string_append_c (s, ' ');
      g_string_append (s, text_of (g_ptr_array_index (uris, i)));
    }
  return g_string_free (s, FALSE);
}

char *
msrp_uri_list_to_string (GPtrArray *uris)
{
  g_return_val_if_fail (uris != NULL, NULL);
  return join_list (uris, msrp_uri_to_string);
}

char *
msrp_uri_list_to_text (GPtrArray *uris)
{
  g_return_val_if_fail (uris != NULL, NULL);
  return join_list (uris, msrp_uri_get_text);
}
