/* fuzz-headers.c: libFuzzer target for msrp/msrp-headers.c.
 *
 * The first byte picks a header parser (modulo the number of targets); the
 * rest is the value.  Where a writer exists the result is written back and
 * re-parsed, and must come out the same; the cheap validity predicates must
 * agree with the parsers.  Anything inconsistent aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msrp-headers.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond)                                                           \
  do                                                                          \
    {                                                                         \
      if (!(cond))                                                            \
        abort ();                                                             \
    }                                                                         \
  while (0)

/* Does a number in a Byte-Range text start with a redundant '0'? */
static gboolean
has_leading_zero (const char *v, size_t len)
{
  for (size_t i = 0; i + 1 < len; i++)
    if ((i == 0 || v[i - 1] == '-' || v[i - 1] == '/') && v[i] == '0' &&
        v[i + 1] >= '0' && v[i + 1] <= '9')
      return TRUE;
  return FALSE;
}

static void
fuzz_byte_range (const char *v, size_t len)
{
  MsrpByteRange r, again;
  g_autofree char *text = NULL;

  if (!msrp_byte_range_parse (v, len, &r, NULL))
    return;
  text = msrp_byte_range_to_string (&r);
  CHECK (msrp_byte_range_parse (text, strlen (text), &again, NULL));
  CHECK (again.start == r.start);
  CHECK (again.end_unknown == r.end_unknown);
  CHECK (again.total_unknown == r.total_unknown);
  CHECK (r.end_unknown || again.end == r.end);
  CHECK (r.total_unknown || again.total == r.total);
  CHECK (r.start >= 1);
  /* Without leading zeros the text is already canonical. */
  if (!has_leading_zero (v, len))
    CHECK (strlen (text) == len && memcmp (text, v, len) == 0);
}

static void
fuzz_report (const char *v, size_t len, gboolean failure)
{
  MsrpReportMode mode;
  gboolean ok;

  ok = failure ? msrp_failure_report_parse (v, len, &mode, NULL)
               : msrp_success_report_parse (v, len, &mode, NULL);
  if (ok)
    {
      const char *s = msrp_report_mode_to_string (mode);

      CHECK (s != NULL && strlen (s) == len &&
             g_ascii_strncasecmp (s, v, len) == 0);
      CHECK (failure || mode != MSRP_REPORT_PARTIAL);
    }
}

static void
fuzz_message_id (const char *v, size_t len)
{
  g_autofree char *id = NULL;
  gboolean ok = msrp_message_id_parse (v, len, &id, NULL);

  CHECK (ok == msrp_ident_is_valid (v, len));
  if (ok)
    CHECK (strlen (id) == len && memcmp (id, v, len) == 0);
  else
    CHECK (id == NULL);
}

static void
fuzz_status (const char *v, size_t len)
{
  MsrpStatus st;
  g_autofree char *text = NULL;

  if (!msrp_status_header_parse (v, len, &st, NULL))
    return;
  CHECK (st.namespace_ <= 999 && st.code <= 999);
  text = msrp_status_header_to_string (&st);
  /* The ABNF has one spelling per value, so the writer gives the input back.
   */
  CHECK (strlen (text) == len && memcmp (text, v, len) == 0);
  msrp_status_header_clear (&st);
}

static void
fuzz_content_type (const char *v, size_t len)
{
  static const char *const patterns[] = {
    "*", "text/*", "text/plain", "message/cpim", "*/*", "text/plain;a=b",
  };
  g_autoptr (MsrpMediaType) mt = msrp_media_type_parse (v, len, NULL);
  g_autoptr (MsrpMediaType) again = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text2 = NULL;
  g_autofree char *self = NULL;

  if (mt == NULL)
    return;
  CHECK (msrp_media_type_get_n_params (mt) <= MSRP_MEDIA_TYPE_MAX_PARAMS);
  for (size_t i = 0; i < G_N_ELEMENTS (patterns); i++)
    (void) msrp_media_type_matches (mt, patterns[i]);
  (void) msrp_media_type_get_param (mt, "charset");

  text = msrp_media_type_to_string (mt);
  again = msrp_media_type_parse (text, strlen (text), NULL);
  CHECK (again != NULL);
  text2 = msrp_media_type_to_string (again);
  CHECK (strcmp (text, text2) == 0);
  CHECK (msrp_media_type_get_n_params (again) ==
         msrp_media_type_get_n_params (mt));

  /* A media type matches itself, its "type/\*" and "*". */
  self = g_strdup_printf ("%s/%s", msrp_media_type_get_type (mt),
                          msrp_media_type_get_subtype (mt));
  CHECK (msrp_media_type_matches (mt, self));
  CHECK (msrp_media_type_matches (mt, text));
  CHECK (msrp_media_type_matches (mt, "*"));
  g_free (self);
  self = g_strdup_printf ("%s/*", msrp_media_type_get_type (mt));
  CHECK (msrp_media_type_matches (mt, self));
}

static void
fuzz_content_disposition (const char *v, size_t len)
{
  g_autofree char *type = NULL;

  if (msrp_content_disposition_parse (v, len, &type, NULL))
    CHECK (type != NULL && type[0] != '\0');
  else
    CHECK (type == NULL);
}

static void
fuzz_utf8text (const char *v, size_t len)
{
  g_autoptr (GError) error = NULL;
  gboolean ok =
      msrp_utf8text_check (MSRP_HEADER_CONTENT_DESCRIPTION, v, len, &error);

  CHECK (ok == msrp_utf8text_is_valid (v, len));
  CHECK (ok == (error == NULL));
  /* utf8text is a subset of what GLib calls valid UTF-8. */
  if (ok)
    CHECK (g_utf8_validate_len (v, len, NULL));
}

static void
fuzz_path (const char *v, size_t len)
{
  static const MsrpHeaderId which[] = {
    MSRP_HEADER_TO_PATH,
    MSRP_HEADER_FROM_PATH,
    MSRP_HEADER_USE_PATH,
  };
  g_autoptr (GError) error = NULL;
  GPtrArray *uris;

  uris = msrp_path_parse (which[len % G_N_ELEMENTS (which)], v, len, &error);
  if (uris != NULL)
    {
      CHECK (uris->len >= 1 && error == NULL);
      g_ptr_array_unref (uris);
    }
  else
    CHECK (error != NULL && error->domain == MSRP_HEADER_ERROR);
}

static void
fuzz_expires (const char *v, size_t len)
{
  static const MsrpHeaderId which[] = {
    MSRP_HEADER_EXPIRES,
    MSRP_HEADER_MIN_EXPIRES,
    MSRP_HEADER_MAX_EXPIRES,
  };
  guint32 n;

  if (msrp_expires_parse (which[len % G_N_ELEMENTS (which)], v, len, &n, NULL))
    {
      g_autofree char *text = g_strdup_printf ("%u", n);
      size_t zeros = 0;

      while (zeros + 1 < len && v[zeros] == '0')
        zeros++;
      CHECK (strlen (text) == len - zeros &&
             memcmp (text, v + zeros, len - zeros) == 0);
    }
}

/* Header names and the order checker: the value is split at NUL bytes into
 * names, looked up and fed to the checker in turn. */
static void
fuzz_order (const char *v, size_t len)
{
  MsrpHeaderOrder order;
  size_t pos = 0;

  msrp_header_order_init (&order);
  while (pos <= len)
    {
      const char *end = memchr (v + pos, '\0', len - pos);
      size_t n = end != NULL ? (size_t) (end - (v + pos)) : len - pos;
      MsrpHeaderId id = msrp_header_id_from_name (v + pos, n);
      const char *name = msrp_header_id_to_name (id);

      CHECK (
          id == MSRP_HEADER_OTHER ||
          (strlen (name) == n && g_ascii_strncasecmp (name, v + pos, n) == 0));
      if (!msrp_header_order_check (&order, id, NULL))
        return;
      pos += n + 1;
    }
  (void) msrp_header_order_finish (&order, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *v;
  size_t len;

  if (size == 0)
    return 0;
  v = (const char *) data + 1;
  len = size - 1;

  switch (data[0] % 12)
    {
    case 0:
      fuzz_byte_range (v, len);
      break;
    case 1:
      fuzz_report (v, len, FALSE);
      break;
    case 2:
      fuzz_report (v, len, TRUE);
      break;
    case 3:
      fuzz_message_id (v, len);
      break;
    case 4:
      fuzz_status (v, len);
      break;
    case 5:
      fuzz_content_type (v, len);
      break;
    case 6:
      fuzz_content_disposition (v, len);
      break;
    case 7:
      fuzz_utf8text (v, len);
      break;
    case 8:
      fuzz_path (v, len);
      break;
    case 9:
      fuzz_expires (v, len);
      break;
    case 10:
      fuzz_order (v, len);
      break;
    default:
      /* Every parser on the same bytes. */
      fuzz_byte_range (v, len);
      fuzz_status (v, len);
      fuzz_content_type (v, len);
      fuzz_expires (v, len);
      break;
    }
  return 0;
}
