#include "gw-bencode.h"

#include <stdlib.h>
#include <string.h>

GQuark
gw_bencode_error_quark (void)
{
  return g_quark_from_static_string ("gw-bencode-error-quark");
}

typedef struct
{
  char *key; /* key_len bytes and a NUL */
  gsize key_len;
  GwBencode *value; /* a reference */
} Member;

struct _GwBencode
{
  grefcount ref;
  GwBencodeType type;
  union
  {
    gint64 integer;
    struct
    {
      char *data; /* len bytes and a NUL */
      gsize len;
    } string;
    GPtrArray *list; /* GwBencode, a reference each */
    GArray *dict;    /* Member */
  } u;
};

/* --- values ------------------------------------------------------------ */

static GwBencode *
value_new (GwBencodeType type)
{
  GwBencode *v = g_new0 (GwBencode, 1);

  g_ref_count_init (&v->ref);
  v->type = type;
  return v;
}

static void
member_clear (gpointer p)
{
  Member *m = p;

  g_free (m->key);
  gw_bencode_unref (m->value);
}

GwBencode *
gw_bencode_new_int (gint64 value)
{
  GwBencode *v = value_new (GW_BENCODE_INTEGER);

  v->u.integer = value;
  return v;
}

GwBencode *
gw_bencode_new_bytes (const void *data, gsize len)
{
  GwBencode *v;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  v = value_new (GW_BENCODE_STRING);
  v->u.string.data = g_malloc (len + 1);
  if (len > 0)
    memcpy (v->u.string.data, data, len);
  v->u.string.data[len] = '\0';
  v->u.string.len = len;
  return v;
}

GwBencode *
gw_bencode_new_string (const char *text)
{
  g_return_val_if_fail (text != NULL, NULL);
  return gw_bencode_new_bytes (text, strlen (text));
}

GwBencode *
gw_bencode_new_list (void)
{
  GwBencode *v = value_new (GW_BENCODE_LIST);

  v->u.list =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gw_bencode_unref);
  return v;
}

GwBencode *
gw_bencode_new_dict (void)
{
  GwBencode *v = value_new (GW_BENCODE_DICT);

  v->u.dict = g_array_new (FALSE, FALSE, sizeof (Member));
  g_array_set_clear_func (v->u.dict, member_clear);
  return v;
}

GwBencode *
gw_bencode_ref (GwBencode *value)
{
  g_return_val_if_fail (value != NULL, NULL);
  g_ref_count_inc (&value->ref);
  return value;
}

void
gw_bencode_unref (GwBencode *value)
{
  if (value == NULL || !g_ref_count_dec (&value->ref))
    return;
  switch (value->type)
    {
    case GW_BENCODE_INTEGER:
      break;
    case GW_BENCODE_STRING:
      g_free (value->u.string.data);
      break;
    case GW_BENCODE_LIST:
      g_ptr_array_unref (value->u.list);
      break;
    case GW_BENCODE_DICT:
      g_array_unref (value->u.dict);
      break;
    }
  g_free (value);
}

GwBencodeType
gw_bencode_get_type (const GwBencode *value)
{
  g_return_val_if_fail (value != NULL, GW_BENCODE_INTEGER);
  return value->type;
}

const char *
gw_bencode_type_to_string (GwBencodeType type)
{
  switch (type)
    {
    case GW_BENCODE_INTEGER:
      return "integer";
    case GW_BENCODE_STRING:
      return "string";
    case GW_BENCODE_LIST:
      return "list";
    case GW_BENCODE_DICT:
      return "dictionary";
    }
  return "unknown";
}

gint64
gw_bencode_get_int (const GwBencode *value)
{
  g_return_val_if_fail (value != NULL && value->type == GW_BENCODE_INTEGER, 0);
  return value->u.integer;
}

const char *
gw_bencode_get_string (const GwBencode *value, gsize *len)
{
  g_return_val_if_fail (value != NULL && value->type == GW_BENCODE_STRING,
                        NULL);
  if (len != NULL)
    *len = value->u.string.len;
  return value->u.string.data;
}

gboolean
gw_bencode_get_text (const GwBencode *value, const char **text)
{
  g_return_val_if_fail (value != NULL && text != NULL, FALSE);
  if (value->type != GW_BENCODE_STRING ||
      memchr (value->u.string.data, '\0', value->u.string.len) != NULL)
    return FALSE;
  *text = value->u.string.data;
  return TRUE;
}

guint
gw_bencode_list_get_length (const GwBencode *list)
{
  g_return_val_if_fail (list != NULL && list->type == GW_BENCODE_LIST, 0);
  return list->u.list->len;
}

GwBencode *
gw_bencode_list_get (const GwBencode *list, guint index)
{
  g_return_val_if_fail (list != NULL && list->type == GW_BENCODE_LIST, NULL);
  g_return_val_if_fail (index < list->u.list->len, NULL);
  return g_ptr_array_index (list->u.list, index);
}

void
gw_bencode_list_take (GwBencode *list, GwBencode *item)
{
  g_return_if_fail (list != NULL && list->type == GW_BENCODE_LIST);
  g_return_if_fail (item != NULL && item != list);
  g_ptr_array_add (list->u.list, item);
}

void
gw_bencode_list_add_string (GwBencode *list, const char *text)
{
  gw_bencode_list_take (list, gw_bencode_new_string (text));
}

guint
gw_bencode_dict_get_size (const GwBencode *dict)
{
  g_return_val_if_fail (dict != NULL && dict->type == GW_BENCODE_DICT, 0);
  return dict->u.dict->len;
}

GwBencode *
gw_bencode_dict_get_nth (const GwBencode *dict, guint index, const char **key,
                         gsize *key_len)
{
  const Member *m;

  g_return_val_if_fail (dict != NULL && dict->type == GW_BENCODE_DICT, NULL);
  g_return_val_if_fail (index < dict->u.dict->len, NULL);
  m = &g_array_index (dict->u.dict, Member, index);
  if (key != NULL)
    *key = m->key;
  if (key_len != NULL)
    *key_len = m->key_len;
  return m->value;
}

static Member *
find_member (const GwBencode *dict, const void *key, gsize key_len)
{
  for (guint i = 0; i < dict->u.dict->len; i++)
    {
      Member *m = &g_array_index (dict->u.dict, Member, i);

      if (m->key_len == key_len && memcmp (m->key, key, key_len) == 0)
        return m;
    }
  return NULL;
}

GwBencode *
gw_bencode_dict_lookup_len (const GwBencode *dict, const void *key,
                            gsize key_len)
{
  Member *m;

  g_return_val_if_fail (dict != NULL && dict->type == GW_BENCODE_DICT, NULL);
  g_return_val_if_fail (key != NULL || key_len == 0, NULL);
  m = find_member (dict, key, key_len);
  return m != NULL ? m->value : NULL;
}

GwBencode *
gw_bencode_dict_lookup (const GwBencode *dict, const char *key)
{
  g_return_val_if_fail (key != NULL, NULL);
  return gw_bencode_dict_lookup_len (dict, key, strlen (key));
}

/* Add a member without looking for an earlier one of the same key. */
static void
append_member (GwBencode *dict, const void *key, gsize key_len,
               GwBencode *value)
{
  Member m = { .key = g_malloc (key_len + 1),
               .key_len = key_len,
               .value = value };

  if (key_len > 0)
    memcpy (m.key, key, key_len);
  m.key[key_len] = '\0';
  g_array_append_val (dict->u.dict, m);
}

void
gw_bencode_dict_take (GwBencode *dict, const char *key, GwBencode *value)
{
  Member *m;

  g_return_if_fail (dict != NULL && dict->type == GW_BENCODE_DICT);
  g_return_if_fail (key != NULL && value != NULL && value != dict);
  m = find_member (dict, key, strlen (key));
  if (m != NULL)
    {
      gw_bencode_unref (m->value);
      m->value = value;
      return;
    }
  append_member (dict, key, strlen (key), value);
}

void
gw_bencode_dict_set_string (GwBencode *dict, const char *key, const char *text)
{
  gw_bencode_dict_take (dict, key, gw_bencode_new_string (text));
}

void
gw_bencode_dict_set_int (GwBencode *dict, const char *key, gint64 value)
{
  gw_bencode_dict_take (dict, key, gw_bencode_new_int (value));
}

/* --- encoding ------------------------------------------------------------ */

/* Raw byte-string order (BEP 3): memcmp, then the shorter first. */
static int
compare_keys (const void *a, gsize a_len, const void *b, gsize b_len)
{
  int c = memcmp (a, b, MIN (a_len, b_len));

  if (c != 0)
    return c;
  return a_len < b_len ? -1 : a_len > b_len ? 1 : 0;
}

static int
compare_member_ptrs (const void *pa, const void *pb)
{
  const Member *a = *(const Member *const *) pa;
  const Member *b = *(const Member *const *) pb;

  return compare_keys (a->key, a->key_len, b->key, b->key_len);
}

/* The members of @dict in key order.  (transfer container) */
static const Member **
sorted_members (const GwBencode *dict)
{
  guint n = dict->u.dict->len;
  const Member **sorted = g_new (const Member *, n + 1);

  for (guint i = 0; i < n; i++)
    sorted[i] = &g_array_index (dict->u.dict, Member, i);
  if (n > 1)
    qsort (sorted, n, sizeof *sorted, compare_member_ptrs);
  return sorted;
}

static void
append_string (GByteArray *out, const void *data, gsize len)
{
  char head[32];
  int n = g_snprintf (head, sizeof head, "%" G_GSIZE_FORMAT ":", len);

  g_byte_array_append (out, (const guint8 *) head, (guint) n);
  if (len > 0)
    g_byte_array_append (out, data, (guint) len);
}

void
gw_bencode_encode_append (const GwBencode *value, GByteArray *out)
{
  g_return_if_fail (value != NULL && out != NULL);

  switch (value->type)
    {
    case GW_BENCODE_INTEGER:
      {
        char text[32];
        int n = g_snprintf (text, sizeof text, "i%" G_GINT64_FORMAT "e",
                            value->u.integer);

        g_byte_array_append (out, (const guint8 *) text, (guint) n);
      }
      break;
    case GW_BENCODE_STRING:
      append_string (out, value->u.string.data, value->u.string.len);
      break;
    case GW_BENCODE_LIST:
      g_byte_array_append (out, (const guint8 *) "l", 1);
      for (guint i = 0; i < value->u.list->len; i++)
        gw_bencode_encode_append (g_ptr_array_index (value->u.list, i), out);
      g_byte_array_append (out, (const guint8 *) "e", 1);
      break;
    case GW_BENCODE_DICT:
      {
        g_autofree const Member **sorted = sorted_members (value);

        g_byte_array_append (out, (const guint8 *) "d", 1);
        for (guint i = 0; i < value->u.dict->len; i++)
          {
            append_string (out, sorted[i]->key, sorted[i]->key_len);
            gw_bencode_encode_append (sorted[i]->value, out);
          }
        g_byte_array_append (out, (const guint8 *) "e", 1);
      }
      break;
    }
}

GBytes *
gw_bencode_encode (const GwBencode *value)
{
  GByteArray *out;

  g_return_val_if_fail (value != NULL, NULL);
  out = g_byte_array_new ();
  gw_bencode_encode_append (value, out);
  return g_byte_array_free_to_bytes (out);
}

gboolean
gw_bencode_equal (const GwBencode *a, const GwBencode *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  if (a == b)
    return TRUE;
  if (a->type != b->type)
    return FALSE;
  switch (a->type)
    {
    case GW_BENCODE_INTEGER:
      return a->u.integer == b->u.integer;
    case GW_BENCODE_STRING:
      return a->u.string.len == b->u.string.len &&
             memcmp (a->u.string.data, b->u.string.data, a->u.string.len) == 0;
    case GW_BENCODE_LIST:
      if (a->u.list->len != b->u.list->len)
        return FALSE;
      for (guint i = 0; i < a->u.list->len; i++)
        if (!gw_bencode_equal (g_ptr_array_index (a->u.list, i),
                               g_ptr_array_index (b->u.list, i)))
          return FALSE;
      return TRUE;
    case GW_BENCODE_DICT:
      {
        g_autofree const Member **sa = NULL;
        g_autofree const Member **sb = NULL;

        if (a->u.dict->len != b->u.dict->len)
          return FALSE;
        /* Keys are unique in a dictionary, so the sorted orders pair up. */
        sa = sorted_members (a);
        sb = sorted_members (b);
        for (guint i = 0; i < a->u.dict->len; i++)
          if (compare_keys (sa[i]->key, sa[i]->key_len, sb[i]->key,
                            sb[i]->key_len) != 0 ||
              !gw_bencode_equal (sa[i]->value, sb[i]->value))
            return FALSE;
        return TRUE;
      }
    }
  return FALSE;
}

/* --- decoding ------------------------------------------------------------ */

typedef struct
{
  const guchar *p;
  gsize len;
  gsize pos;
  guint max_depth;
  guint max_values;
  guint n_values;
  gboolean sorted_keys;
  GError **error;
} Decoder;

/* A key as read, for the duplicate check of unsorted dictionaries. */
typedef struct
{
  const guchar *key;
  gsize len;
  gsize offset;
} KeyRef;

static gboolean fail (Decoder *d, GwBencodeError code, gsize offset,
                      const char *format, ...) G_GNUC_PRINTF (4, 5);

static gboolean
fail (Decoder *d, GwBencodeError code, gsize offset, const char *format, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (d->error, GW_BENCODE_ERROR, code,
               "offset %" G_GSIZE_FORMAT ": %s", offset, msg);
  return FALSE;
}

/* "'x'" for a printable ASCII byte, "byte 0x01" otherwise. */
static char *
describe_byte (guchar c)
{
  if (c > 0x20 && c < 0x7f)
    return g_strdup_printf ("'%c'", c);
  return g_strdup_printf ("byte 0x%02x", c);
}

/* @len bytes for a message: printable ASCII kept, the rest as \xNN, cut
 * after 40 bytes. */
static char *
quote_bytes (const guchar *s, gsize len)
{
  GString *out = g_string_new ("'");

  for (gsize i = 0; i < len && i < 40; i++)
    {
      if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\'' && s[i] != '\\')
        g_string_append_c (out, (char) s[i]);
      else
        g_string_append_printf (out, "\\x%02x", s[i]);
    }
  g_string_append_c (out, '\'');
  if (len > 40)
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

static gboolean
is_digit (guchar c)
{
  return c >= '0' && c <= '9';
}

/* A byte string at d->pos (a digit is there): its bytes in *@s, *@len. */
static gboolean
read_string (Decoder *d, const guchar **s, gsize *len)
{
  gsize start = d->pos;
  gsize n = 0;
  gboolean huge = FALSE;
  gsize left;

  while (d->pos < d->len && is_digit (d->p[d->pos]))
    {
      guint digit = d->p[d->pos] - '0';

      if (n > (G_MAXSIZE - digit) / 10)
        huge = TRUE;
      else
        n = n * 10 + digit;
      d->pos++;
    }
  if (d->pos >= d->len)
    return fail (d, GW_BENCODE_ERROR_TRUNCATED, start,
                 "the input ends inside a string length");
  if (d->p[d->pos] != ':')
    {
      g_autofree char *what = describe_byte (d->p[d->pos]);

      return fail (d, GW_BENCODE_ERROR_SYNTAX, d->pos,
                   "%s where a string length should end with ':'", what);
    }
  if (d->pos - start > 1 && d->p[start] == '0')
    return fail (d, GW_BENCODE_ERROR_SYNTAX, start,
                 "string length has a leading zero");
  d->pos++;
  left = d->len - d->pos;
  if (huge || n > left)
    {
      g_autofree char *digits = quote_bytes (d->p + start, d->pos - 1 - start);

      return fail (
          d, GW_BENCODE_ERROR_TRUNCATED, start,
          "string length %s runs past the end of the input (%" G_GSIZE_FORMAT
          " byte%s left)",
          digits, left, left == 1 ? "" : "s");
    }
  *s = d->p + d->pos;
  *len = n;
  d->pos += n;
  return TRUE;
}

static GwBencode *
read_int (Decoder *d)
{
  gsize start = d->pos;
  gsize digits;
  gboolean negative = FALSE;
  gboolean overflow = FALSE;
  guint64 n = 0;
  /* 2^63 for a negative integer, 2^63 - 1 for a positive one. */
  guint64 limit;

  d->pos++; /* 'i' */
  if (d->pos < d->len && d->p[d->pos] == '-')
    {
      negative = TRUE;
      d->pos++;
    }
  limit = negative ? (guint64) G_MAXINT64 + 1 : (guint64) G_MAXINT64;
  digits = d->pos;
  while (d->pos < d->len && is_digit (d->p[d->pos]))
    {
      guint digit = d->p[d->pos] - '0';

      if (n > (limit - digit) / 10)
        overflow = TRUE;
      else
        n = n * 10 + digit;
      d->pos++;
    }
  if (d->pos >= d->len)
    {
      fail (d, GW_BENCODE_ERROR_TRUNCATED, start,
            "the input ends inside an integer");
      return NULL;
    }
  if (d->pos == digits)
    {
      g_autofree char *what = describe_byte (d->p[d->pos]);

      fail (d, GW_BENCODE_ERROR_SYNTAX, d->pos,
            "%s where an integer's digits should be", what);
      return NULL;
    }
  if (d->p[d->pos] != 'e')
    {
      g_autofree char *what = describe_byte (d->p[d->pos]);

      fail (d, GW_BENCODE_ERROR_SYNTAX, d->pos,
            "%s where an integer should end with 'e'", what);
      return NULL;
    }
  if (d->pos - digits > 1 && d->p[digits] == '0')
    {
      fail (d, GW_BENCODE_ERROR_SYNTAX, start, "integer has a leading zero");
      return NULL;
    }
  if (negative && n == 0 && !overflow)
    {
      fail (d, GW_BENCODE_ERROR_SYNTAX, start, "integer is a negative zero");
      return NULL;
    }
  if (overflow)
    {
      fail (d, GW_BENCODE_ERROR_LIMIT, start,
            "integer does not fit in 64 bits");
      return NULL;
    }
  d->pos++; /* 'e' */
  if (negative)
    return gw_bencode_new_int (n == (guint64) G_MAXINT64 + 1 ? G_MININT64
                                                             : -(gint64) n);
  return gw_bencode_new_int ((gint64) n);
}

static GwBencode *read_value (Decoder *d, guint depth);

static GwBencode *
read_list (Decoder *d, guint depth)
{
  gsize start = d->pos;
  g_autoptr (GwBencode) list = gw_bencode_new_list ();

  d->pos++; /* 'l' */
  for (;;)
    {
      GwBencode *item;

      if (d->pos >= d->len)
        {
          fail (d, GW_BENCODE_ERROR_TRUNCATED, d->pos,
                "the input ends inside the list opened at offset "
                "%" G_GSIZE_FORMAT,
                start);
          return NULL;
        }
      if (d->p[d->pos] == 'e')
        {
          d->pos++;
          return g_steal_pointer (&list);
        }
      item = read_value (d, depth);
      if (item == NULL)
        return NULL;
      g_ptr_array_add (list->u.list, item);
    }
}

static int
compare_keyrefs (const void *pa, const void *pb)
{
  const KeyRef *a = pa, *b = pb;
  int c = compare_keys (a->key, a->len, b->key, b->len);

  if (c != 0)
    return c;
  return a->offset < b->offset ? -1 : a->offset > b->offset ? 1 : 0;
}

/* The first key (in input order) that repeats an earlier one, or NULL. */
static const KeyRef *
find_duplicate (GArray *keys)
{
  const KeyRef *dup = NULL;

  if (keys->len < 2)
    return NULL;
  g_array_sort (keys, compare_keyrefs);
  for (guint i = 1; i < keys->len; i++)
    {
      const KeyRef *a = &g_array_index (keys, KeyRef, i - 1);
      const KeyRef *b = &g_array_index (keys, KeyRef, i);

      if (compare_keys (a->key, a->len, b->key, b->len) == 0 &&
          (dup == NULL || b->offset < dup->offset))
        dup = b;
    }
  return dup;
}

/* A dictionary key at d->pos into *@k and onto @keys, which holds the
 * keys before it; with sorted_keys, it must come after the one before. */
static gboolean
read_key (Decoder *d, GArray *keys, KeyRef *k)
{
  guchar c = d->p[d->pos];

  if (!is_digit (c))
    {
      if (c == 'i' || c == 'l' || c == 'd')
        fail (d, GW_BENCODE_ERROR_SYNTAX, d->pos,
              "dictionary key is %s, not a string",
              c == 'i'   ? "an integer"
              : c == 'l' ? "a list"
                         : "a dictionary");
      else
        {
          g_autofree char *what = describe_byte (c);

          fail (d, GW_BENCODE_ERROR_SYNTAX, d->pos,
                "%s cannot start a dictionary key", what);
        }
      return FALSE;
    }
  k->offset = d->pos;
  if (!read_string (d, &k->key, &k->len))
    return FALSE;
  if (d->sorted_keys && keys->len > 0)
    {
      const KeyRef *prev = &g_array_index (keys, KeyRef, keys->len - 1);
      int cmp = compare_keys (prev->key, prev->len, k->key, k->len);

      if (cmp >= 0)
        {
          g_autofree char *this_key = quote_bytes (k->key, k->len);
          g_autofree char *prev_key = quote_bytes (prev->key, prev->len);

          if (cmp == 0)
            fail (d, GW_BENCODE_ERROR_DUPLICATE_KEY, k->offset,
                  "duplicate dictionary key %s", this_key);
          else
            fail (d, GW_BENCODE_ERROR_KEY_ORDER, k->offset,
                  "dictionary key %s comes after %s (keys must be sorted)",
                  this_key, prev_key);
          return FALSE;
        }
    }
  g_array_append_val (keys, *k);
  return TRUE;
}

static GwBencode *
read_dict (Decoder *d, guint depth)
{
  gsize start = d->pos;
  g_autoptr (GwBencode) dict = gw_bencode_new_dict ();
  g_autoptr (GArray) keys = g_array_new (FALSE, FALSE, sizeof (KeyRef));

  d->pos++; /* 'd' */
  for (;;)
    {
      KeyRef k;
      GwBencode *value;
      guchar c;

      if (d->pos >= d->len)
        {
          fail (d, GW_BENCODE_ERROR_TRUNCATED, d->pos,
                "the input ends inside the dictionary opened at offset "
                "%" G_GSIZE_FORMAT,
                start);
          return NULL;
        }
      c = d->p[d->pos];
      if (c == 'e')
        break;
      if (!read_key (d, keys, &k))
        return NULL;
      if (d->pos < d->len && d->p[d->pos] == 'e')
        {
          g_autofree char *key = quote_bytes (k.key, k.len);

          fail (d, GW_BENCODE_ERROR_SYNTAX, d->pos,
                "dictionary key %s has no value", key);
          return NULL;
        }
      value = read_value (d, depth);
      if (value == NULL)
        return NULL;
      append_member (dict, k.key, k.len, value);
    }
  if (!d->sorted_keys)
    {
      const KeyRef *dup = find_duplicate (keys);

      if (dup != NULL)
        {
          g_autofree char *key = quote_bytes (dup->key, dup->len);

          fail (d, GW_BENCODE_ERROR_DUPLICATE_KEY, dup->offset,
                "duplicate dictionary key %s", key);
          return NULL;
        }
    }
  d->pos++; /* 'e' */
  return g_steal_pointer (&dict);
}

/* A value at d->pos inside @depth open containers. */
static GwBencode *
read_value (Decoder *d, guint depth)
{
  guchar c;

  if (d->pos >= d->len)
    {
      fail (d, GW_BENCODE_ERROR_TRUNCATED, d->pos,
            "the input ends where a value should start");
      return NULL;
    }
  if (d->n_values >= d->max_values)
    {
      fail (d, GW_BENCODE_ERROR_LIMIT, d->pos, "more than %u values",
            d->max_values);
      return NULL;
    }
  d->n_values++;
  c = d->p[d->pos];
  if (c == 'l' || c == 'd')
    {
      if (depth >= d->max_depth)
        {
          fail (d, GW_BENCODE_ERROR_LIMIT, d->pos,
                "lists and dictionaries nest deeper than %u", d->max_depth);
          return NULL;
        }
      return c == 'l' ? read_list (d, depth + 1) : read_dict (d, depth + 1);
    }
  if (c == 'i')
    return read_int (d);
  if (is_digit (c))
    {
      const guchar *s;
      gsize len;

      if (!read_string (d, &s, &len))
        return NULL;
      return gw_bencode_new_bytes (s, len);
    }
  {
    g_autofree char *what = describe_byte (c);

    fail (d, GW_BENCODE_ERROR_SYNTAX, d->pos, "%s cannot start a value", what);
  }
  return NULL;
}

GwBencode *
gw_bencode_decode (const void *data, gsize len,
                   const GwBencodeDecodeOptions *options, gsize *consumed,
                   GError **error)
{
  Decoder d = {
    .p = data,
    .len = len,
    .max_depth = GW_BENCODE_DEFAULT_MAX_DEPTH,
    .max_values = GW_BENCODE_DEFAULT_MAX_VALUES,
    .error = error,
  };
  GwBencode *value;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options != NULL)
    {
      if (options->max_depth > 0)
        d.max_depth = MIN (options->max_depth, GW_BENCODE_MAX_DEPTH_CEILING);
      if (options->max_values > 0)
        d.max_values = options->max_values;
      d.sorted_keys = options->sorted_keys;
    }
  value = read_value (&d, 0);
  if (value == NULL)
    return NULL;
  if (consumed != NULL)
    *consumed = d.pos;
  else if (d.pos < len)
    {
      fail (&d, GW_BENCODE_ERROR_TRAILING, d.pos,
            "%" G_GSIZE_FORMAT " byte%s after the value", len - d.pos,
            len - d.pos == 1 ? "" : "s");
      gw_bencode_unref (value);
      return NULL;
    }
  return value;
}
