/* gw-bencode.h: bencoded values (BEP 3), as rtpengine's ng control
 * protocol carries them.
 *
 * Four kinds of value: integers ("i42e"), byte strings ("4:spam"), lists
 * ("l...e") and dictionaries ("d...e", byte-string keys).  The decoder is
 * bounded: nesting depth and the number of values are limited, every
 * length is checked against what is left of the input, and nothing is
 * read past it.  It accepts what the BEP 3 grammar allows and rejects the
 * rest with an error that names the offset and the problem, e.g.
 * "offset 7: integer has a leading zero".  Dictionary keys need not be
 * sorted on input (rtpengine and Kamailio do not sort them) unless asked;
 * a key given twice is always an error.  The encoder writes the one
 * canonical form: dictionary keys sorted as raw byte strings.
 *
 * Values are reference-counted and, once built, never changed by this
 * module.  A container holds a reference to each of its members; the
 * `_take` functions consume the caller's reference.  Not thread-safe:
 * a value belongs to one thread at a time. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GW_BENCODE_ERROR (gw_bencode_error_quark ())
GQuark gw_bencode_error_quark (void);

typedef enum
{
  GW_BENCODE_ERROR_TRUNCATED,     /* the input ends inside a value */
  GW_BENCODE_ERROR_SYNTAX,        /* a byte the grammar does not allow */
  GW_BENCODE_ERROR_LIMIT,         /* depth, value count or integer range */
  GW_BENCODE_ERROR_DUPLICATE_KEY, /* a dictionary key given twice */
  GW_BENCODE_ERROR_KEY_ORDER,     /* keys not sorted (sorted_keys only) */
  GW_BENCODE_ERROR_TRAILING,      /* bytes after the value */
} GwBencodeError;

typedef enum
{
  GW_BENCODE_INTEGER,
  GW_BENCODE_STRING,
  GW_BENCODE_LIST,
  GW_BENCODE_DICT,
} GwBencodeType;

/* Defaults and the hard ceiling of the decoder's limits. */
#define GW_BENCODE_DEFAULT_MAX_DEPTH 32
#define GW_BENCODE_DEFAULT_MAX_VALUES 65536
#define GW_BENCODE_MAX_DEPTH_CEILING 512

typedef struct
{
  /* Containers nest at most this deep (the outermost is depth 1);
   * 0: GW_BENCODE_DEFAULT_MAX_DEPTH; larger than
   * GW_BENCODE_MAX_DEPTH_CEILING: the ceiling. */
  guint max_depth;
  /* At most this many values in all (dictionary keys not counted);
   * 0: GW_BENCODE_DEFAULT_MAX_VALUES. */
  guint max_values;
  /* Reject dictionaries whose keys are not in ascending byte order, as a
   * strict BEP 3 reader does. */
  gboolean sorted_keys;
} GwBencodeDecodeOptions;

typedef struct _GwBencode GwBencode;

/* Decode one value from @len bytes at @data (which need not be
 * NUL-terminated; @data may be NULL when @len is 0).  @options NULL: the
 * defaults.  With @consumed NULL the value must fill the input exactly;
 * otherwise bytes after it are allowed and *@consumed tells where the
 * value ended.
 * Returns: (transfer full) (nullable): the value, or NULL with @error
 * (GW_BENCODE_ERROR) whose message starts with "offset N: ". */
G_GNUC_WARN_UNUSED_RESULT
GwBencode *gw_bencode_decode (const void *data, gsize len,
                              const GwBencodeDecodeOptions *options,
                              gsize *consumed, GError **error);

/* Constructors.  (transfer full) */
G_GNUC_WARN_UNUSED_RESULT
GwBencode *gw_bencode_new_int (gint64 value);
/* A byte string holding a copy of NUL-terminated @text. */
G_GNUC_WARN_UNUSED_RESULT
GwBencode *gw_bencode_new_string (const char *text);
/* A byte string holding a copy of @len bytes at @data (any bytes). */
G_GNUC_WARN_UNUSED_RESULT
GwBencode *gw_bencode_new_bytes (const void *data, gsize len);
G_GNUC_WARN_UNUSED_RESULT
GwBencode *gw_bencode_new_list (void);
G_GNUC_WARN_UNUSED_RESULT
GwBencode *gw_bencode_new_dict (void);

GwBencode *gw_bencode_ref (GwBencode *value);
void gw_bencode_unref (GwBencode *value);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwBencode, gw_bencode_unref)

GwBencodeType gw_bencode_get_type (const GwBencode *value);
/* "integer", "string", "list" or "dictionary", for messages. */
const char *gw_bencode_type_to_string (GwBencodeType type);

/* The integer of an integer value. */
gint64 gw_bencode_get_int (const GwBencode *value);
/* The bytes of a string value, followed by a NUL that is not part of
 * them (so text without NUL bytes can be used as a C string); @len (out)
 * (optional).  (transfer none) */
const char *gw_bencode_get_string (const GwBencode *value, gsize *len);
/* TRUE when @value is a string without NUL bytes; its text in *@text
 * (transfer none). */
gboolean gw_bencode_get_text (const GwBencode *value, const char **text);

/* Lists. */
guint gw_bencode_list_get_length (const GwBencode *list);
/* (transfer none) */
GwBencode *gw_bencode_list_get (const GwBencode *list, guint index);
/* Append @item; (transfer full): the caller's reference is taken. */
void gw_bencode_list_take (GwBencode *list, GwBencode *item);
/* Append a copy of @text as a string. */
void gw_bencode_list_add_string (GwBencode *list, const char *text);

/* Dictionaries keep their members in the order they were added or
 * decoded; the encoder sorts them. */
guint gw_bencode_dict_get_size (const GwBencode *dict);
/* The @index-th member: its key (with its length in @key_len (optional))
 * and value.  (transfer none) */
GwBencode *gw_bencode_dict_get_nth (const GwBencode *dict, guint index,
                                    const char **key, gsize *key_len);
/* The value of NUL-terminated @key, or NULL.  (transfer none) */
GwBencode *gw_bencode_dict_lookup (const GwBencode *dict, const char *key);
/* The same for a key of @key_len bytes (any bytes). */
GwBencode *gw_bencode_dict_lookup_len (const GwBencode *dict, const void *key,
                                       gsize key_len);
/* Set @key (NUL-terminated) to @value, replacing an earlier value of the
 * same key in place; (transfer full): the caller's reference to @value is
 * taken. */
void gw_bencode_dict_take (GwBencode *dict, const char *key, GwBencode *value);
void gw_bencode_dict_set_string (GwBencode *dict, const char *key,
                                 const char *text);
void gw_bencode_dict_set_int (GwBencode *dict, const char *key, gint64 value);

/* Append the canonical encoding of @value to @out. */
void gw_bencode_encode_append (const GwBencode *value, GByteArray *out);
/* The canonical encoding of @value.  (transfer full) */
G_GNUC_WARN_UNUSED_RESULT
GBytes *gw_bencode_encode (const GwBencode *value);

/* Same type and contents (dictionaries compared as maps: member order
 * does not matter). */
gboolean gw_bencode_equal (const GwBencode *a, const GwBencode *b);

G_END_DECLS
