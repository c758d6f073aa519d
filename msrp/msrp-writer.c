/* msrp-writer.c: building MSRP requests and responses, and the chunker
 * (RFC 4975 sections 5, 7 and 9).  See msrp-writer.h. */
#include "msrp-writer.h"
#include "msrp-chars-priv.h"

#include <string.h>
#include <openssl/rand.h>

GQuark
msrp_writer_error_quark (void)
{
  return g_quark_from_static_string ("msrp-writer-error-quark");
}

/* ---------------------------------------------------------------------------
 * Small checks shared by the frame writer and the chunker
 * ------------------------------------------------------------------------- */

static const char base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Fills @out with @n uniform base62 characters.  A random byte below 248
 * (= 4 * 62) is taken modulo 62, larger ones are drawn again, so every
 * character is equally likely. */
static gboolean
fill_random_ident (char *out, gsize n, GError **error)
{
  /* RAND_bytes() in bulk: a relay draws a transaction id for every frame
   * it forwards, and one call per id cost more than the rest of the id.
   * The bytes are the same CSPRNG's, just drawn ahead (per thread; the
   * process does not fork). */
  static __thread guchar pool[4096];
  static __thread gsize used = sizeof pool;
  gsize i = 0;

  while (i < n)
    {
      if (used == sizeof pool)
        {
          if (RAND_bytes (pool, (int) sizeof pool) != 1)
            {
              g_set_error_literal (error, MSRP_WRITER_ERROR,
                                   MSRP_WRITER_ERROR_RANDOM,
                                   "RAND_bytes failed: cannot make a random "
                                   "id");
              return FALSE;
            }
          used = 0;
        }
      if (pool[used] < 248)
        out[i++] = base62[pool[used] % 62];
      used++;
    }
  return TRUE;
}

static gboolean
fill_id (char *buf, gsize buf_size, GError **error)
{
  g_return_val_if_fail (buf != NULL, FALSE);
  g_return_val_if_fail (buf_size >= MSRP_WRITER_ID_BUF_SIZE, FALSE);

  if (!fill_random_ident (buf, MSRP_WRITER_ID_LEN, error))
    {
      buf[0] = '\0';
      return FALSE;
    }
  buf[MSRP_WRITER_ID_LEN] = '\0';
  return TRUE;
}

gboolean
msrp_writer_fill_transaction_id (char *buf, gsize buf_size, GError **error)
{
  return fill_id (buf, buf_size, error);
}

gboolean
msrp_writer_fill_message_id (char *buf, gsize buf_size, GError **error)
{
  return fill_id (buf, buf_size, error);
}

char *
msrp_writer_new_transaction_id (GError **error)
{
  char buf[MSRP_WRITER_ID_BUF_SIZE];

  if (!fill_id (buf, sizeof buf, error))
    return NULL;
  return g_strdup (buf);
}

char *
msrp_writer_new_message_id (GError **error)
{
  char buf[MSRP_WRITER_ID_BUF_SIZE];

  if (!fill_id (buf, sizeof buf, error))
    return NULL;
  return g_strdup (buf);
}

/* A byte for an error message: the character itself when printable. */
static void
describe_byte (guchar c, char out[8])
{
  if (c > 0x20 && c < 0x7f)
    g_snprintf (out, 8, "'%c'", c);
  else
    g_snprintf (out, 8, "0x%02x", c);
}

/* transact-id = ident (section 9); @what names it in the error. */
static gboolean
check_ident (const char *what, const char *value, GError **error)
{
  gsize len = strlen (value);
  gsize i;
  char desc[8];

  if (msrp_ident_is_valid (value, len))
    return TRUE;

  if (len < MSRP_IDENT_MIN_LEN || len > MSRP_IDENT_MAX_LEN)
    {
      gboolean printable = len <= 64;

      /* quote the value only when it cannot disturb a log line */
      for (i = 0; printable && i < len; i++)
        printable = value[i] >= 0x20 && value[i] < 0x7f && value[i] != '"';
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "%s%s%s%s is %" G_GSIZE_FORMAT " characters long, not "
                   "%d to %d",
                   what, printable ? " \"" : "", printable ? value : "",
                   printable ? "\"" : "", len, MSRP_IDENT_MIN_LEN,
                   MSRP_IDENT_MAX_LEN);
      return FALSE;
    }
  if (!g_ascii_isalnum (value[0]))
    {
      describe_byte ((guchar) value[0], desc);
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "%s starts with %s, not a letter or digit", what, desc);
      return FALSE;
    }
  for (i = 1; i < len; i++)
    {
      guchar c = (guchar) value[i];

      if (!g_ascii_isalnum (c) && c != '.' && c != '-' && c != '+' &&
          c != '%' && c != '=')
        break;
    }
  describe_byte ((guchar) value[MIN (i, len - 1)], desc);
  g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "%s has %s at offset %" G_GSIZE_FORMAT ", not an ident-char",
               what, desc, MIN (i, len - 1));
  return FALSE;
}

/* method = 1*UPALPHA (section 9). */
static gboolean
check_method (const char *method, GError **error)
{
  gsize i;
  char desc[8];

  if (method[0] == '\0')
    {
      g_set_error_literal (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                           "method is empty");
      return FALSE;
    }
  for (i = 0; method[i] != '\0'; i++)
    if (method[i] < 'A' || method[i] > 'Z')
      {
        describe_byte ((guchar) method[i], desc);
        g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                     "method has %s at offset %" G_GSIZE_FORMAT
                     ", not an upper-case letter A-Z",
                     desc, i);
        return FALSE;
      }
  return TRUE;
}

/* hname = ALPHA *token (section 9). */
static gboolean
check_header_name (const char *name, GError **error)
{
  gsize i;
  char desc[8];

  if (name[0] == '\0')
    {
      g_set_error_literal (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                           "header name is empty");
      return FALSE;
    }
  if (!g_ascii_isalpha (name[0]))
    {
      describe_byte ((guchar) name[0], desc);
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "header name starts with %s, not a letter", desc);
      return FALSE;
    }
  for (i = 1; name[i] != '\0'; i++)
    if (!msrp_is_token_char ((guchar) name[i]))
      {
        describe_byte ((guchar) name[i], desc);
        g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                     "header name has %s at offset %" G_GSIZE_FORMAT
                     ", not a token character",
                     desc, i);
        return FALSE;
      }
  return TRUE;
}

/* utf8text = *(HTAB / %x20-7E / UTF8-NONASCII) (section 9): no CR, LF, NUL
 * or other control character, and valid UTF-8.  @what names the value. */
static gboolean
check_text (const char *what, const char *value, GError **error)
{
  gsize len = strlen (value);
  const char *end;
  gsize i;

  for (i = 0; i < len; i++)
    {
      guchar c = (guchar) value[i];

      if ((c < 0x20 && c != '\t') || c == 0x7f)
        {
          g_set_error (
              error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
              "%s has control character 0x%02x at offset %" G_GSIZE_FORMAT,
              what, c, i);
          return FALSE;
        }
    }
  if (!g_utf8_validate (value, (gssize) len, &end))
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "%s is not valid UTF-8 at offset %" G_GSIZE_FORMAT, what,
                   (gsize) (end - value));
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_content_type (const char *content_type, GError **error)
{
  g_autoptr (MsrpMediaType) mt = NULL;
  g_autoptr (GError) local = NULL;

  if (!check_text ("Content-Type", content_type, error))
    return FALSE;
  mt = msrp_media_type_parse (content_type, strlen (content_type), &local);
  if (mt == NULL)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "Content-Type \"%s\" is not a media-type: %s", content_type,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

/* A To-Path / From-Path list as text. */
static char *
path_to_text (const char *which, GPtrArray *uris, GError **error)
{
  guint i;

  if (uris == NULL || uris->len == 0)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "%s: no URI given; at least one is needed", which);
      return NULL;
    }
  if (uris->len > MSRP_URI_LIST_MAX)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "%s: %u URIs given, at most %d allowed", which, uris->len,
                   MSRP_URI_LIST_MAX);
      return NULL;
    }
  for (i = 0; i < uris->len; i++)
    if (g_ptr_array_index (uris, i) == NULL)
      {
        g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                     "%s: URI %u is NULL", which, i + 1);
        return NULL;
      }
  /* Each URI as it was received (canonical for URIs made here): a relay
   * hands peers back their own URIs byte for byte, since many clients
   * compare paths as strings rather than by RFC 4975 section 6.1. */
  return msrp_uri_list_to_text (uris);
}

static gboolean
is_mime_header_name (const char *name)
{
  return g_ascii_strncasecmp (name, "Content-", 8) == 0;
}

/* Byte-Range consistency, the same rules the header parser applies
 * (section 7.1.1): start >= 1; end >= start, except the empty "1-0"; end and
 * start <= total when both known, except the empty "1-.../0". */
static gboolean
check_byte_range (const MsrpByteRange *r, GError **error)
{
  if (r->start < 1)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_RANGE,
                   "Byte-Range: range-start %" G_GUINT64_FORMAT " is not >= 1",
                   r->start);
      return FALSE;
    }
  if (!r->end_unknown && r->end < r->start && !(r->start == 1 && r->end == 0))
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_RANGE,
                   "Byte-Range: range-end %" G_GUINT64_FORMAT
                   " is before range-start %" G_GUINT64_FORMAT,
                   r->end, r->start);
      return FALSE;
    }
  if (!r->total_unknown)
    {
      if (!r->end_unknown && r->end > r->total)
        {
          g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_RANGE,
                       "Byte-Range: range-end %" G_GUINT64_FORMAT
                       " is beyond total %" G_GUINT64_FORMAT,
                       r->end, r->total);
          return FALSE;
        }
      if (r->start > r->total && !(r->start == 1 && r->total == 0))
        {
          g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_RANGE,
                       "Byte-Range: range-start %" G_GUINT64_FORMAT
                       " is beyond total %" G_GUINT64_FORMAT,
                       r->start, r->total);
          return FALSE;
        }
    }
  return TRUE;
}

static void
append_header (GString *out, const char *name, const char *value)
{
  g_string_append (out, name);
  g_string_append (out, ": ");
  g_string_append (out, value);
  g_string_append (out, "\r\n");
}

static void
append_end_line (GString *out, const char *tid, gboolean body, char flag)
{
  /* Section 7.1: "If a body is present, the end-line MUST be preceded by a
   * CRLF that is not part of the body." */
  if (body)
    g_string_append (out, "\r\n");
  g_string_append (out, "-------");
  g_string_append (out, tid);
  g_string_append_c (out, flag);
  g_string_append (out, "\r\n");
}

static gboolean
check_flag (char flag, GError **error)
{
  char desc[8];

  if (flag == '$' || flag == '+' || flag == '#')
    return TRUE;
  describe_byte ((guchar) flag, desc);
  g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
               "end-line flag %s is not '$', '+' or '#'", desc);
  return FALSE;
}

/* ---------------------------------------------------------------------------
 * Header lists
 * ------------------------------------------------------------------------- */

typedef struct
{
  char *name;
  char *value;
} Field;

static void
field_free (gpointer data)
{
  Field *f = data;

  g_free (f->name);
  g_free (f->value);
  g_free (f);
}

/* Headers after From-Path: the plain ones and the MIME ones (written just
 * before Content-Type), with the known headers already seen. */
typedef struct
{
  GPtrArray *plain;
  GPtrArray *mime;
  guint64 seen; /* bit per MsrpHeaderId */
} FieldList;

static void
field_list_init (FieldList *fl)
{
  fl->plain = g_ptr_array_new_with_free_func (field_free);
  fl->mime = g_ptr_array_new_with_free_func (field_free);
  fl->seen = 0;
}

static void
field_list_clear (FieldList *fl)
{
  g_clear_pointer (&fl->plain, g_ptr_array_unref);
  g_clear_pointer (&fl->mime, g_ptr_array_unref);
}

static gboolean
field_list_has (const FieldList *fl, MsrpHeaderId id)
{
  return (fl->seen & (G_GUINT64_CONSTANT (1) << id)) != 0;
}

/* Checks @name and @value and appends them.  @refused is a bit set of the
 * header ids that have their own setter here; @setter_hint says which. */
static gboolean
field_list_add (FieldList *fl, const char *name, const char *value,
                guint64 refused, const char *setter_hint, GError **error)
{
  MsrpHeaderId id;
  Field *f;
  g_autofree char *what = NULL;

  if (!check_header_name (name, error))
    return FALSE;
  id = msrp_header_id_from_name (name, strlen (name));
  if (id != MSRP_HEADER_OTHER &&
      (refused & (G_GUINT64_CONSTANT (1) << id)) != 0)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "%s is not an extra header here: %s",
                   msrp_header_id_to_name (id), setter_hint);
      return FALSE;
    }
  /* WWW-Authenticate: one challenge per field, one field per algorithm
   * (RFC 4976 section 7, RFC 7616 section 3.7). */
  if (id != MSRP_HEADER_OTHER && id != MSRP_HEADER_WWW_AUTHENTICATE &&
      field_list_has (fl, id))
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_DUPLICATE,
                   "%s given twice; it may appear once",
                   msrp_header_id_to_name (id));
      return FALSE;
    }
  what = g_strdup_printf ("header %s value", id != MSRP_HEADER_OTHER
                                                 ? msrp_header_id_to_name (id)
                                                 : name);
  if (!check_text (what, value, error))
    return FALSE;

  f = g_new0 (Field, 1);
  f->name =
      g_strdup (id != MSRP_HEADER_OTHER ? msrp_header_id_to_name (id) : name);
  f->value = g_strdup (value);
  g_ptr_array_add (is_mime_header_name (name) ? fl->mime : fl->plain, f);
  if (id != MSRP_HEADER_OTHER)
    fl->seen |= G_GUINT64_CONSTANT (1) << id;
  return TRUE;
}

static void
append_fields (GString *out, GPtrArray *fields)
{
  guint i;

  for (i = 0; i < fields->len; i++)
    {
      const Field *f = g_ptr_array_index (fields, i);

      append_header (out, f->name, f->value);
    }
}

#define BIT(id) (G_GUINT64_CONSTANT (1) << (id))

/* Headers with their own place in a frame: never extra headers. */
#define PLACED_HEADERS                                                        \
  (BIT (MSRP_HEADER_TO_PATH) | BIT (MSRP_HEADER_FROM_PATH) |                  \
   BIT (MSRP_HEADER_CONTENT_TYPE))

/* ---------------------------------------------------------------------------
 * MsrpWriter
 * ------------------------------------------------------------------------- */

struct _MsrpWriter
{
  gboolean is_response;
  char tid[MSRP_IDENT_MAX_LEN + 1];
  char *method;  /* requests */
  guint code;    /* responses */
  char *comment; /* responses, nullable */
  char *to_path; /* text, NULL until set */
  char *from_path;
  FieldList fields;
  char *content_type; /* non-NULL: a body follows */
};

static MsrpWriter *
writer_new (const char *tid, GError **error)
{
  MsrpWriter *w;

  if (tid != NULL && !check_ident ("transaction id", tid, error))
    return NULL;

  w = g_new0 (MsrpWriter, 1);
  if (tid != NULL)
    g_strlcpy (w->tid, tid, sizeof w->tid);
  else if (!fill_id (w->tid, sizeof w->tid, error))
    {
      g_free (w);
      return NULL;
    }
  field_list_init (&w->fields);
  return w;
}

MsrpWriter *
msrp_writer_new_request (const char *tid, const char *method, GError **error)
{
  MsrpWriter *w;

  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_method (method, error))
    return NULL;
  w = writer_new (tid, error);
  if (w == NULL)
    return NULL;
  w->method = g_strdup (method);
  return w;
}

MsrpWriter *
msrp_writer_new_response (const char *tid, guint code, const char *comment,
                          GError **error)
{
  MsrpWriter *w;

  g_return_val_if_fail (tid != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* status-code = 3DIGIT (section 9); a leading zero would not be a code
   * of any class. */
  if (code < 100 || code > 999)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "status code %u is not a 3-digit code 100..999", code);
      return NULL;
    }
  if (comment != NULL && !check_text ("response comment", comment, error))
    return NULL;
  w = writer_new (tid, error);
  if (w == NULL)
    return NULL;
  w->is_response = TRUE;
  w->code = code;
  w->comment = g_strdup (comment);
  return w;
}

void
msrp_writer_free (MsrpWriter *writer)
{
  if (writer == NULL)
    return;
  g_free (writer->method);
  g_free (writer->comment);
  g_free (writer->to_path);
  g_free (writer->from_path);
  field_list_clear (&writer->fields);
  g_free (writer->content_type);
  g_free (writer);
}

const char *
msrp_writer_get_transaction_id (const MsrpWriter *writer)
{
  g_return_val_if_fail (writer != NULL, NULL);
  return writer->tid;
}

gboolean
msrp_writer_is_response (const MsrpWriter *writer)
{
  g_return_val_if_fail (writer != NULL, FALSE);
  return writer->is_response;
}

const char *
msrp_writer_get_method (const MsrpWriter *writer)
{
  g_return_val_if_fail (writer != NULL, NULL);
  return writer->method;
}

gboolean
msrp_writer_has_body (const MsrpWriter *writer)
{
  g_return_val_if_fail (writer != NULL, FALSE);
  return writer->content_type != NULL;
}

static gboolean
set_path (char **slot, const char *which, GPtrArray *uris, GError **error)
{
  char *text;

  if (*slot != NULL)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_DUPLICATE,
                   "%s given twice; it may appear once", which);
      return FALSE;
    }
  text = path_to_text (which, uris, error);
  if (text == NULL)
    return FALSE;
  *slot = text;
  return TRUE;
}

gboolean
msrp_writer_set_to_path (MsrpWriter *writer, GPtrArray *uris, GError **error)
{
  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return set_path (&writer->to_path, "To-Path", uris, error);
}

gboolean
msrp_writer_set_from_path (MsrpWriter *writer, GPtrArray *uris, GError **error)
{
  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return set_path (&writer->from_path, "From-Path", uris, error);
}

gboolean
msrp_writer_add_header (MsrpWriter *writer, const char *name,
                        const char *value, GError **error)
{
  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return field_list_add (&writer->fields, name, value, PLACED_HEADERS,
                         "use msrp_writer_set_to_path (), _set_from_path () "
                         "or _set_content_type ()",
                         error);
}

gboolean
msrp_writer_set_message_id (MsrpWriter *writer, const char *message_id,
                            GError **error)
{
  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (message_id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_ident ("Message-ID", message_id, error))
    return FALSE;
  return msrp_writer_add_header (writer, "Message-ID", message_id, error);
}

gboolean
msrp_writer_set_byte_range (MsrpWriter *writer, const MsrpByteRange *range,
                            GError **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (range != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_byte_range (range, error))
    return FALSE;
  text = msrp_byte_range_to_string (range);
  return msrp_writer_add_header (writer, "Byte-Range", text, error);
}

gboolean
msrp_writer_set_success_report (MsrpWriter *writer, MsrpReportMode mode,
                                GError **error)
{
  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Success-Report = "Success-Report:" SP ("yes" / "no" ) (section 9) */
  if (mode != MSRP_REPORT_YES && mode != MSRP_REPORT_NO)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "Success-Report takes yes or no, not %s",
                   mode == MSRP_REPORT_PARTIAL ? "partial"
                                               : "an unknown mode");
      return FALSE;
    }
  return msrp_writer_add_header (writer, "Success-Report",
                                 msrp_report_mode_to_string (mode), error);
}

gboolean
msrp_writer_set_failure_report (MsrpWriter *writer, MsrpReportMode mode,
                                GError **error)
{
  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (mode != MSRP_REPORT_YES && mode != MSRP_REPORT_NO &&
      mode != MSRP_REPORT_PARTIAL)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "Failure-Report mode %d is not yes, no or partial",
                   (int) mode);
      return FALSE;
    }
  return msrp_writer_add_header (writer, "Failure-Report",
                                 msrp_report_mode_to_string (mode), error);
}

gboolean
msrp_writer_set_status (MsrpWriter *writer, const MsrpStatus *status,
                        GError **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (status != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Status = "Status:" SP namespace SP status-code [SP comment] (section 9);
   * both numbers 3DIGIT. */
  if (status->namespace_ > 999)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "Status: namespace %u is not 3 digits", status->namespace_);
      return FALSE;
    }
  if (status->code > 999)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "Status: status-code %u is not 3 digits", status->code);
      return FALSE;
    }
  if (status->comment != NULL &&
      !check_text ("Status comment", status->comment, error))
    return FALSE;
  text = msrp_status_header_to_string (status);
  return msrp_writer_add_header (writer, "Status", text, error);
}

gboolean
msrp_writer_set_content_type (MsrpWriter *writer, const char *content_type,
                              GError **error)
{
  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (content_type != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (writer->is_response)
    {
      g_set_error_literal (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                           "Content-Type: a response carries no body "
                           "(RFC 4975 section 9: msrp-response = resp-start "
                           "headers end-line)");
      return FALSE;
    }
  if (writer->content_type != NULL)
    {
      g_set_error_literal (error, MSRP_WRITER_ERROR,
                           MSRP_WRITER_ERROR_DUPLICATE,
                           "Content-Type given twice; it may appear once");
      return FALSE;
    }
  if (!check_content_type (content_type, error))
    return FALSE;
  writer->content_type = g_strdup (content_type);
  return TRUE;
}

/* Is the frame complete enough to be written? */
static gboolean
check_complete (const MsrpWriter *w, GError **error)
{
  const FieldList *fl = &w->fields;

  /* Section 6/9: headers = To-Path CRLF From-Path CRLF ... */
  if (w->to_path == NULL || w->from_path == NULL)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_MISSING,
                   "%s has no %s", w->is_response ? "response" : w->method,
                   w->to_path == NULL ? "To-Path" : "From-Path");
      return FALSE;
    }
  if (w->content_type == NULL && fl->mime->len > 0)
    {
      const Field *f = g_ptr_array_index (fl->mime, 0);

      /* Section 7.1: "A request with no body MUST NOT include a Content-Type
       * or any other MIME-specific header fields." */
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "%s given but the %s has no body (no Content-Type); "
                   "MIME headers need a body",
                   f->name, w->is_response ? "response" : "request");
      return FALSE;
    }
  if (w->is_response)
    return TRUE;

  if (strcmp (w->method, "SEND") == 0 &&
      !field_list_has (fl, MSRP_HEADER_MESSAGE_ID))
    {
      /* Section 7.1.1: "Each chunk of a message MUST contain a Message-ID
       * header field". */
      g_set_error_literal (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_MISSING,
                           "SEND has no Message-ID");
      return FALSE;
    }
  if (strcmp (w->method, "REPORT") == 0)
    {
      /* Section 7.1.2. */
      if (!field_list_has (fl, MSRP_HEADER_MESSAGE_ID) ||
          !field_list_has (fl, MSRP_HEADER_STATUS))
        {
          g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_MISSING,
                       "REPORT has no %s",
                       !field_list_has (fl, MSRP_HEADER_MESSAGE_ID)
                           ? "Message-ID"
                           : "Status");
          return FALSE;
        }
      if (field_list_has (fl, MSRP_HEADER_SUCCESS_REPORT) ||
          field_list_has (fl, MSRP_HEADER_FAILURE_REPORT))
        {
          g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                       "REPORT has %s; REPORT requests MUST NOT include "
                       "Success-Report or Failure-Report (RFC 4975 section "
                       "7.1.2)",
                       field_list_has (fl, MSRP_HEADER_SUCCESS_REPORT)
                           ? "Success-Report"
                           : "Failure-Report");
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
msrp_writer_append_head (MsrpWriter *writer, GString *out, GError **error)
{
  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_complete (writer, error))
    return FALSE;

  /* req-start  = pMSRP SP transact-id SP method CRLF
   * resp-start = pMSRP SP transact-id SP status-code [SP comment] CRLF */
  g_string_append (out, "MSRP ");
  g_string_append (out, writer->tid);
  if (writer->is_response)
    {
      g_string_append_printf (out, " %03u", writer->code);
      if (writer->comment != NULL)
        {
          g_string_append_c (out, ' ');
          g_string_append (out, writer->comment);
        }
    }
  else
    {
      g_string_append_c (out, ' ');
      g_string_append (out, writer->method);
    }
  g_string_append (out, "\r\n");

  append_header (out, "To-Path", writer->to_path);
  append_header (out, "From-Path", writer->from_path);
  append_fields (out, writer->fields.plain);
  if (writer->content_type != NULL)
    {
      /* content-stuff = *(Other-Mime-header CRLF) Content-Type 2CRLF data
       * CRLF */
      append_fields (out, writer->fields.mime);
      append_header (out, "Content-Type", writer->content_type);
      g_string_append (out, "\r\n");
    }
  return TRUE;
}

GBytes *
msrp_writer_get_head (MsrpWriter *writer, GError **error)
{
  GString *out;

  g_return_val_if_fail (writer != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  out = g_string_sized_new (256);
  if (!msrp_writer_append_head (writer, out, error))
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free_to_bytes (out);
}

gboolean
msrp_writer_append_end_line (MsrpWriter *writer, char flag, GString *out,
                             GError **error)
{
  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_flag (flag, error))
    return FALSE;
  if (writer->is_response && flag != '$')
    {
      /* Section 7.2: "Since a response is never chunked, the continuation
       * flag in the end-line will always contain a dollar sign". */
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "end-line flag '%c' in a response; a response always "
                   "ends with '$'",
                   flag);
      return FALSE;
    }
  append_end_line (out, writer->tid, writer->content_type != NULL, flag);
  return TRUE;
}

GBytes *
msrp_writer_get_end_line (MsrpWriter *writer, char flag, GError **error)
{
  GString *out;

  g_return_val_if_fail (writer != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  out = g_string_sized_new (MSRP_IDENT_MAX_LEN + 16);
  if (!msrp_writer_append_end_line (writer, flag, out, error))
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free_to_bytes (out);
}

GBytes *
msrp_writer_to_bytes (MsrpWriter *writer, GBytes *body, char flag,
                      GError **error)
{
  GString *out;
  gconstpointer data = NULL;
  gsize size = 0;

  g_return_val_if_fail (writer != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (body != NULL)
    {
      data = g_bytes_get_data (body, &size);
      if (writer->content_type == NULL)
        {
          g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                       "a body of %" G_GSIZE_FORMAT " bytes given but no "
                       "Content-Type (RFC 4975 section 7.1: a request with "
                       "a body MUST contain a Content-Type)",
                       size);
          return NULL;
        }
    }
  if (!writer->is_response && strcmp (writer->method, "SEND") != 0 &&
      size > MSRP_WRITER_NON_SEND_BODY_MAX)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_RANGE,
                   "%s body of %" G_GSIZE_FORMAT " bytes; non-SEND request "
                   "bodies MUST NOT be larger than %d octets (RFC 4975 "
                   "section 7.1)",
                   writer->method, size, MSRP_WRITER_NON_SEND_BODY_MAX);
      return NULL;
    }
  if (size > 0)
    {
      char marker[7 + MSRP_IDENT_MAX_LEN + 1];
      gsize marker_len;

      marker_len =
          (gsize) g_snprintf (marker, sizeof marker, "-------%s", writer->tid);
      if (memmem (data, size, marker, marker_len) != NULL)
        {
          g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                       "the body contains the end-line \"%s\"; choose "
                       "another transaction id (RFC 4975 section 7.1)",
                       marker);
          return NULL;
        }
    }

  out = g_string_sized_new (256 + size);
  if (!msrp_writer_append_head (writer, out, error))
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  if (size > 0)
    g_string_append_len (out, data, (gssize) size);
  if (!msrp_writer_append_end_line (writer, flag, out, error))
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free_to_bytes (out);
}

MsrpWriter *
msrp_writer_new_empty_send (GPtrArray *to_path, GPtrArray *from_path,
                            const char *tid, const char *message_id,
                            GError **error)
{
  g_autoptr (MsrpWriter) w = NULL;
  char mid[MSRP_WRITER_ID_BUF_SIZE];
  /* Section 7.1.1: "a Byte-Range header field referring to nonexistent or
   * zero-length content MUST still have a range-start value of 1.  For
   * example, "1-0/0"." */
  const MsrpByteRange empty = { 1, 0, 0, FALSE, FALSE };

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  w = msrp_writer_new_request (tid, "SEND", error);
  if (w == NULL)
    return NULL;
  if (message_id == NULL)
    {
      if (!msrp_writer_fill_message_id (mid, sizeof mid, error))
        return NULL;
      message_id = mid;
    }
  if (!msrp_writer_set_to_path (w, to_path, error) ||
      !msrp_writer_set_from_path (w, from_path, error) ||
      !msrp_writer_set_message_id (w, message_id, error) ||
      !msrp_writer_set_byte_range (w, &empty, error))
    return NULL;
  return g_steal_pointer (&w);
}

/* ---------------------------------------------------------------------------
 * MsrpWriterChunker
 * ------------------------------------------------------------------------- */

struct _MsrpWriterChunker
{
  char message_id[MSRP_IDENT_MAX_LEN + 1];
  char *to_path;
  char *from_path;
  char *content_type;
  FieldList fields; /* extra headers */
  guint64 chunk_size;
  guint64 total;
  gboolean total_known;
  gboolean reports_set;
  MsrpReportMode success_report;
  MsrpReportMode failure_report;
  gboolean interruptible;

  /* progress */
  gboolean started; /* a chunk has been begun */
  guint64 sent;     /* bytes in chunks already ended */
  gboolean done;
  gboolean aborted;

  /* the open chunk */
  gboolean open;
  char tid[MSRP_WRITER_ID_BUF_SIZE];
  guint64 body_len;
  gboolean end_star; /* range-end written as "*" */
  gboolean last;     /* ends the message when fully written */
};

/* Headers the chunker writes itself, refused as extra headers. */
#define CHUNKER_HEADERS                                                       \
  (PLACED_HEADERS | BIT (MSRP_HEADER_MESSAGE_ID) |                            \
   BIT (MSRP_HEADER_BYTE_RANGE) | BIT (MSRP_HEADER_SUCCESS_REPORT) |          \
   BIT (MSRP_HEADER_FAILURE_REPORT) | BIT (MSRP_HEADER_STATUS))

MsrpWriterChunker *
msrp_writer_chunker_new (const char *message_id, GPtrArray *to_path,
                         GPtrArray *from_path, const char *content_type,
                         guint64 chunk_size, GError **error)
{
  g_autoptr (MsrpWriterChunker) c = NULL;

  g_return_val_if_fail (content_type != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (message_id != NULL && !check_ident ("Message-ID", message_id, error))
    return NULL;
  if (chunk_size == 0)
    {
      g_set_error_literal (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_RANGE,
                           "chunk size 0; a chunk must be able to hold at "
                           "least 1 byte");
      return NULL;
    }
  if (!check_content_type (content_type, error))
    return NULL;

  c = g_new0 (MsrpWriterChunker, 1);
  field_list_init (&c->fields);
  c->chunk_size = chunk_size;
  c->content_type = g_strdup (content_type);
  c->success_report = MSRP_SUCCESS_REPORT_DEFAULT;
  c->failure_report = MSRP_FAILURE_REPORT_DEFAULT;
  if (message_id != NULL)
    g_strlcpy (c->message_id, message_id, sizeof c->message_id);
  else if (!fill_id (c->message_id, sizeof c->message_id, error))
    return NULL;
  c->to_path = path_to_text ("To-Path", to_path, error);
  if (c->to_path == NULL)
    return NULL;
  c->from_path = path_to_text ("From-Path", from_path, error);
  if (c->from_path == NULL)
    return NULL;
  return g_steal_pointer (&c);
}

void
msrp_writer_chunker_free (MsrpWriterChunker *chunker)
{
  if (chunker == NULL)
    return;
  g_free (chunker->to_path);
  g_free (chunker->from_path);
  g_free (chunker->content_type);
  field_list_clear (&chunker->fields);
  g_free (chunker);
}

static gboolean
check_not_started (const MsrpWriterChunker *c, const char *what,
                   GError **error)
{
  if (!c->started)
    return TRUE;
  g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_STATE,
               "%s after the first chunk; all chunks of a message carry "
               "the same headers",
               what);
  return FALSE;
}

gboolean
msrp_writer_chunker_set_total (MsrpWriterChunker *chunker, guint64 total,
                               GError **error)
{
  g_return_val_if_fail (chunker != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_not_started (chunker, "total set", error))
    return FALSE;
  chunker->total = total;
  chunker->total_known = TRUE;
  return TRUE;
}

gboolean
msrp_writer_chunker_set_reports (MsrpWriterChunker *chunker,
                                 MsrpReportMode success_report,
                                 MsrpReportMode failure_report, GError **error)
{
  g_return_val_if_fail (chunker != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_not_started (chunker, "report modes set", error))
    return FALSE;
  if (success_report != MSRP_REPORT_YES && success_report != MSRP_REPORT_NO)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "Success-Report takes yes or no, not %s",
                   success_report == MSRP_REPORT_PARTIAL ? "partial"
                                                         : "an unknown mode");
      return FALSE;
    }
  if (failure_report != MSRP_REPORT_YES && failure_report != MSRP_REPORT_NO &&
      failure_report != MSRP_REPORT_PARTIAL)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_INVALID,
                   "Failure-Report mode %d is not yes, no or partial",
                   (int) failure_report);
      return FALSE;
    }
  chunker->reports_set = TRUE;
  chunker->success_report = success_report;
  chunker->failure_report = failure_report;
  return TRUE;
}

gboolean
msrp_writer_chunker_set_interruptible (MsrpWriterChunker *chunker,
                                       gboolean interruptible, GError **error)
{
  g_return_val_if_fail (chunker != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_not_started (chunker, "interruptible set", error))
    return FALSE;
  chunker->interruptible = interruptible;
  return TRUE;
}

gboolean
msrp_writer_chunker_add_header (MsrpWriterChunker *chunker, const char *name,
                                const char *value, GError **error)
{
  g_return_val_if_fail (chunker != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_not_started (chunker, "header added", error))
    return FALSE;
  return field_list_add (&chunker->fields, name, value, CHUNKER_HEADERS,
                         "the chunker writes it (or it has no place in a "
                         "SEND)",
                         error);
}

static gboolean
check_open (const MsrpWriterChunker *c, const char *what, GError **error)
{
  if (c->open)
    return TRUE;
  g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_STATE,
               "%s: no chunk is open%s", what,
               c->done ? " (the message is complete)" : "");
  return FALSE;
}

/* How long the next chunk is, with @available input bytes at hand and
 * @input_ends when no more follow: *@len, and *@last when it ends the
 * message. */
static gboolean
next_chunk_len (const MsrpWriterChunker *c, guint64 available,
                gboolean input_ends, guint64 *len, gboolean *last,
                GError **error)
{
  if (c->total_known)
    {
      guint64 left = c->total - c->sent; /* sent <= total always */

      if (input_ends && available < left)
        {
          g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_RANGE,
                       "input ends after %" G_GUINT64_FORMAT " more bytes "
                       "but %" G_GUINT64_FORMAT
                       " of the total %" G_GUINT64_FORMAT " are left",
                       available, left, c->total);
          return FALSE;
        }
      *len = MIN (MIN (c->chunk_size, available), left);
      if (*len == 0 && left > 0)
        {
          g_set_error (
              error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_RANGE,
              "no bytes available for the next chunk; %" G_GUINT64_FORMAT
              " of the total %" G_GUINT64_FORMAT " are left",
              left, c->total);
          return FALSE;
        }
      *last = (*len == left);
      return TRUE;
    }
  *len = MIN (c->chunk_size, available);
  if (*len == 0 && !input_ends)
    {
      g_set_error_literal (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_RANGE,
                           "no bytes available for the next chunk and "
                           "the input does not end");
      return FALSE;
    }
  if (*len > G_MAXUINT64 - c->sent || (*len == 0 && c->sent == G_MAXUINT64))
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_RANGE,
                   "a chunk of %" G_GUINT64_FORMAT
                   " bytes after %" G_GUINT64_FORMAT
                   " sent would pass byte position %" G_GUINT64_FORMAT,
                   *len, c->sent, G_MAXUINT64);
      return FALSE;
    }
  *last = input_ends && *len == available;
  return TRUE;
}

/* Byte-Range (section 7.1.1) of the next chunk, @len bytes.  range-start:
 * position of the first byte, 1 even for an empty message ("1-0/0").
 * range-end: "*" if the chunk must stay interruptible or is larger than
 * 2048 octets. */
static MsrpByteRange
next_chunk_range (const MsrpWriterChunker *c, guint64 len)
{
  MsrpByteRange range = {
    0,
  };

  range.start = c->sent + 1;
  range.end_unknown =
      c->interruptible || len > MSRP_WRITER_CHUNK_UNINTERRUPTIBLE_MAX;
  range.end = c->sent + len;
  range.total_unknown = !c->total_known;
  range.total = c->total;
  if (!range.end_unknown && len == 0 && c->sent > 0)
    {
      /* An empty last chunk of a message of unknown size: "N+1-N" would have
       * range-end before range-start, which only the empty message's "1-0"
       * may have; the position of its last byte is unknown: "*". */
      range.end_unknown = TRUE;
    }
  if (range.end_unknown)
    range.end = 0;
  return range;
}

/* The head of the chunk whose transaction is c->tid. */
static GBytes *
chunk_head (const MsrpWriterChunker *c, const MsrpByteRange *range)
{
  g_autofree char *range_text = msrp_byte_range_to_string (range);
  GString *out = g_string_sized_new (256);

  g_string_append (out, "MSRP ");
  g_string_append (out, c->tid);
  g_string_append (out, " SEND\r\n");
  append_header (out, "To-Path", c->to_path);
  append_header (out, "From-Path", c->from_path);
  append_header (out, "Message-ID", c->message_id);
  append_header (out, "Byte-Range", range_text);
  if (c->reports_set)
    {
      /* Section 7.1.1: "All chunks of the same message MUST use the same
       * Failure-Report and Success-Report values". */
      append_header (out, "Success-Report",
                     msrp_report_mode_to_string (c->success_report));
      append_header (out, "Failure-Report",
                     msrp_report_mode_to_string (c->failure_report));
    }
  append_fields (out, c->fields.plain);
  append_fields (out, c->fields.mime);
  append_header (out, "Content-Type", c->content_type);
  g_string_append (out, "\r\n");
  return g_string_free_to_bytes (out);
}

GBytes *
msrp_writer_chunker_begin_chunk (MsrpWriterChunker *chunker, guint64 available,
                                 gboolean input_ends, guint64 *body_len,
                                 GError **error)
{
  MsrpWriterChunker *c = chunker;
  MsrpByteRange range;
  guint64 len;
  gboolean last;
  GBytes *head;

  g_return_val_if_fail (chunker != NULL, NULL);
  g_return_val_if_fail (body_len != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  *body_len = 0;
  if (c->done)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_STATE,
                   "chunk begun after the message was %s",
                   c->aborted ? "aborted" : "complete");
      return NULL;
    }
  if (c->open)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_STATE,
                   "chunk begun while chunk %s is still open; end it first",
                   c->tid);
      return NULL;
    }
  if (!next_chunk_len (c, available, input_ends, &len, &last, error))
    return NULL;
  range = next_chunk_range (c, len);
  if (!fill_id (c->tid, sizeof c->tid, error))
    return NULL;
  head = chunk_head (c, &range);

  c->started = TRUE;
  c->open = TRUE;
  c->body_len = len;
  c->end_star = range.end_unknown;
  c->last = last;
  *body_len = len;
  return head;
}

static GBytes *
close_chunk (MsrpWriterChunker *c, guint64 written, char flag)
{
  GString *out = g_string_sized_new (MSRP_WRITER_ID_LEN + 16);

  append_end_line (out, c->tid, TRUE, flag);
  c->sent += written;
  c->open = FALSE;
  c->tid[0] = '\0';
  if (flag == '$')
    c->done = TRUE;
  else if (flag == '#')
    {
      c->done = TRUE;
      c->aborted = TRUE;
    }
  return g_string_free_to_bytes (out);
}

GBytes *
msrp_writer_chunker_end_chunk (MsrpWriterChunker *chunker, GError **error)
{
  g_return_val_if_fail (chunker != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_open (chunker, "chunk ended", error))
    return NULL;
  return close_chunk (chunker, chunker->body_len, chunker->last ? '$' : '+');
}

GBytes *
msrp_writer_chunker_interrupt (MsrpWriterChunker *chunker, guint64 written,
                               GError **error)
{
  MsrpWriterChunker *c = chunker;

  g_return_val_if_fail (chunker != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_open (c, "chunk interrupted", error))
    return NULL;
  if (written > c->body_len)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_RANGE,
                   "chunk %s interrupted after %" G_GUINT64_FORMAT " bytes "
                   "but it holds only %" G_GUINT64_FORMAT,
                   c->tid, written, c->body_len);
      return NULL;
    }
  if (written == c->body_len)
    return close_chunk (c, written, c->last ? '$' : '+');
  if (!c->end_star)
    {
      /* Section 7.1.1 / 7.3.1: "It is technically illegal for the sender to
       * prematurely interrupt a request that had anything other than "*" in
       * the last-byte position of the Byte-Range header field." */
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_STATE,
                   "chunk %s announced range-end %" G_GUINT64_FORMAT "; "
                   "only a chunk with range-end \"*\" may be interrupted "
                   "(RFC 4975 section 7.1.1)",
                   c->tid, c->sent + c->body_len);
      return NULL;
    }
  return close_chunk (c, written, '+');
}

gboolean
msrp_writer_chunker_abort (MsrpWriterChunker *chunker, guint64 written,
                           GBytes **end_line, GError **error)
{
  MsrpWriterChunker *c = chunker;

  g_return_val_if_fail (chunker != NULL, FALSE);
  g_return_val_if_fail (end_line != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *end_line = NULL;
  if (c->done)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_STATE,
                   "message aborted after it was %s",
                   c->aborted ? "aborted already" : "complete");
      return FALSE;
    }
  if (!c->open)
    {
      c->done = TRUE;
      c->aborted = TRUE;
      return TRUE;
    }
  if (written > c->body_len)
    {
      g_set_error (error, MSRP_WRITER_ERROR, MSRP_WRITER_ERROR_RANGE,
                   "chunk %s aborted after %" G_GUINT64_FORMAT " bytes but "
                   "it holds only %" G_GUINT64_FORMAT,
                   c->tid, written, c->body_len);
      return FALSE;
    }
  *end_line = close_chunk (c, written, '#');
  return TRUE;
}

const char *
msrp_writer_chunker_get_message_id (const MsrpWriterChunker *chunker)
{
  g_return_val_if_fail (chunker != NULL, NULL);
  return chunker->message_id;
}

const char *
msrp_writer_chunker_get_transaction_id (const MsrpWriterChunker *chunker)
{
  g_return_val_if_fail (chunker != NULL, NULL);
  return chunker->open ? chunker->tid : NULL;
}

guint64
msrp_writer_chunker_get_sent (const MsrpWriterChunker *chunker)
{
  g_return_val_if_fail (chunker != NULL, 0);
  return chunker->sent;
}

gboolean
msrp_writer_chunker_is_done (const MsrpWriterChunker *chunker)
{
  g_return_val_if_fail (chunker != NULL, FALSE);
  return chunker->done;
}

gboolean
msrp_writer_chunker_is_aborted (const MsrpWriterChunker *chunker)
{
  g_return_val_if_fail (chunker != NULL, FALSE);
  return chunker->aborted;
}
