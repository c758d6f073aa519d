/* Check suite for bencoded values (gateway/gw-bencode.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gw-bencode.h"
#include "guard.h"

#define S(lit) lit, sizeof lit - 1
#define K45 "0123456789012345678901234567890123456789abcde"

/* Decoding: every input is read against a guard page. */
static const struct
{
  const char *name;
  const char *input;
  gsize len;
  gboolean sorted_keys;  /* decode with sorted_keys */
  const char *canonical; /* encoding when it decodes; NULL: the input */
  int code;              /* -1: decodes */
  const char *error;     /* the whole message when it does not */
} decode_cases[] = {
  /* integers */
  { "zero", S ("i0e"), FALSE, NULL, -1, NULL },
  { "positive", S ("i42e"), FALSE, NULL, -1, NULL },
  { "negative", S ("i-42e"), FALSE, NULL, -1, NULL },
  { "int64 max", S ("i9223372036854775807e"), FALSE, NULL, -1, NULL },
  { "int64 min", S ("i-9223372036854775808e"), FALSE, NULL, -1, NULL },
  { "int64 max + 1", S ("i9223372036854775808e"), FALSE, NULL,
    GW_BENCODE_ERROR_LIMIT, "offset 0: integer does not fit in 64 bits" },
  { "int64 min - 1", S ("i-9223372036854775809e"), FALSE, NULL,
    GW_BENCODE_ERROR_LIMIT, "offset 0: integer does not fit in 64 bits" },
  { "huge integer", S ("i123456789012345678901234567890e"), FALSE, NULL,
    GW_BENCODE_ERROR_LIMIT, "offset 0: integer does not fit in 64 bits" },
  { "i alone", S ("i"), FALSE, NULL, GW_BENCODE_ERROR_TRUNCATED,
    "offset 0: the input ends inside an integer" },
  { "integer without e", S ("i12"), FALSE, NULL, GW_BENCODE_ERROR_TRUNCATED,
    "offset 0: the input ends inside an integer" },
  { "no digits", S ("ie"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 1: 'e' where an integer's digits should be" },
  { "minus alone", S ("i-e"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 2: 'e' where an integer's digits should be" },
  { "plus sign", S ("i+1e"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 1: '+' where an integer's digits should be" },
  { "leading zero", S ("i01e"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 0: integer has a leading zero" },
  { "negative leading zero", S ("i-01e"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 0: integer has a leading zero" },
  { "negative zero", S ("i-0e"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 0: integer is a negative zero" },
  { "junk in integer", S ("i1x"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 2: 'x' where an integer should end with 'e'" },
  { "space in integer", S ("i1 e"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 2: byte 0x20 where an integer should end with 'e'" },

  /* strings */
  { "empty string", S ("0:"), FALSE, NULL, -1, NULL },
  { "string", S ("4:spam"), FALSE, NULL, -1, NULL },
  { "binary string", S ("3:a\0\xff"), FALSE, NULL, -1, NULL },
  { "short string", S ("4:spa"), FALSE, NULL, GW_BENCODE_ERROR_TRUNCATED,
    "offset 0: string length '4' runs past the end of the input (3 bytes "
    "left)" },
  { "huge length", S ("99999999999999999999999:x"), FALSE, NULL,
    GW_BENCODE_ERROR_TRUNCATED,
    "offset 0: string length '99999999999999999999999' runs past the end "
    "of the input (1 byte left)" },
  { "length without colon", S ("5"), FALSE, NULL, GW_BENCODE_ERROR_TRUNCATED,
    "offset 0: the input ends inside a string length" },
  { "length then junk", S ("4spam"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 1: 's' where a string length should end with ':'" },
  { "length leading zero", S ("04:spam"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 0: string length has a leading zero" },
  { "negative length", S ("-1:a"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 0: '-' cannot start a value" },

  /* lists */
  { "empty list", S ("le"), FALSE, NULL, -1, NULL },
  { "list", S ("li1e4:spamlee"), FALSE, NULL, -1, NULL },
  { "open list", S ("l"), FALSE, NULL, GW_BENCODE_ERROR_TRUNCATED,
    "offset 1: the input ends inside the list opened at offset 0" },
  { "list cut after item", S ("li1e"), FALSE, NULL, GW_BENCODE_ERROR_TRUNCATED,
    "offset 4: the input ends inside the list opened at offset 0" },
  { "inner list open", S ("lli1ee"), FALSE, NULL, GW_BENCODE_ERROR_TRUNCATED,
    "offset 6: the input ends inside the list opened at offset 0" },
  { "junk in list", S ("li1ex"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 4: 'x' cannot start a value" },

  /* dictionaries */
  { "empty dict", S ("de"), FALSE, NULL, -1, NULL },
  { "ping", S ("d7:command4:pinge"), FALSE, NULL, -1, NULL },
  { "sorted dict", S ("d3:cow3:moo4:spam4:eggse"), TRUE, NULL, -1, NULL },
  { "empty key", S ("d0:i1ee"), TRUE, NULL, -1, NULL },
  { "prefix keys sorted", S ("d1:ai1e2:aai2ee"), TRUE, NULL, -1, NULL },
  { "unsorted dict", S ("d1:bi1e1:ai2ee"), FALSE, "d1:ai2e1:bi1ee", -1, NULL },
  { "unsorted, strict", S ("d1:bi1e1:ai2ee"), TRUE, NULL,
    GW_BENCODE_ERROR_KEY_ORDER,
    "offset 7: dictionary key 'a' comes after 'b' (keys must be sorted)" },
  { "shorter key after", S ("d2:aai1e1:ai2ee"), TRUE, NULL,
    GW_BENCODE_ERROR_KEY_ORDER,
    "offset 8: dictionary key 'a' comes after 'aa' (keys must be sorted)" },
  { "nested unsorted", S ("d1:xd1:zi1e1:yi2eee"), FALSE, "d1:xd1:yi2e1:zi1eee",
    -1, NULL },
  { "duplicate key", S ("d1:ai1e1:ai2ee"), FALSE, NULL,
    GW_BENCODE_ERROR_DUPLICATE_KEY, "offset 7: duplicate dictionary key 'a'" },
  { "duplicate key, strict", S ("d1:ai1e1:ai2ee"), TRUE, NULL,
    GW_BENCODE_ERROR_DUPLICATE_KEY, "offset 7: duplicate dictionary key 'a'" },
  { "first duplicate named", S ("d1:bi1e1:ci1e1:bi2e1:ci2ee"), FALSE, NULL,
    GW_BENCODE_ERROR_DUPLICATE_KEY,
    "offset 13: duplicate dictionary key 'b'" },
  { "duplicate binary key", S ("d2:\x01'i1e2:\x01'i2ee"), FALSE, NULL,
    GW_BENCODE_ERROR_DUPLICATE_KEY,
    "offset 8: duplicate dictionary key '\\x01\\x27'" },
  { "integer key", S ("di1ei2ee"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 1: dictionary key is an integer, not a string" },
  { "list key", S ("dlei2ee"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 1: dictionary key is a list, not a string" },
  { "dict key", S ("ddei2ee"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 1: dictionary key is a dictionary, not a string" },
  { "junk key", S ("d?e"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 1: '?' cannot start a dictionary key" },
  { "key without value", S ("d1:ae"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 4: dictionary key 'a' has no value" },
  { "cut after key", S ("d1:a"), FALSE, NULL, GW_BENCODE_ERROR_TRUNCATED,
    "offset 4: the input ends where a value should start" },
  { "open dict", S ("d1:ai1e"), FALSE, NULL, GW_BENCODE_ERROR_TRUNCATED,
    "offset 7: the input ends inside the dictionary opened at offset 0" },

  /* the whole input */
  { "empty input", S (""), FALSE, NULL, GW_BENCODE_ERROR_TRUNCATED,
    "offset 0: the input ends where a value should start" },
  { "junk", S ("x"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 0: 'x' cannot start a value" },
  { "control byte", S ("\x01"), FALSE, NULL, GW_BENCODE_ERROR_SYNTAX,
    "offset 0: byte 0x01 cannot start a value" },
  { "two values", S ("i1ei2e"), FALSE, NULL, GW_BENCODE_ERROR_TRAILING,
    "offset 3: 3 bytes after the value" },
  { "trailing newline", S ("de\n"), FALSE, NULL, GW_BENCODE_ERROR_TRAILING,
    "offset 2: 1 byte after the value" },
  { "long key quoted short", S ("d45:" K45 "i1e45:" K45 "i2ee"), FALSE, NULL,
    GW_BENCODE_ERROR_DUPLICATE_KEY,
    "offset 52: duplicate dictionary key "
    "'0123456789012345678901234567890123456789'..." },
};

START_TEST (test_decode)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GwBencode) v = NULL;
  GwBencodeDecodeOptions opts = { .sorted_keys =
                                      decode_cases[_i].sorted_keys };
  const char *name = decode_cases[_i].name;
  GuardBuf buf;

  guard_buf_init (&buf, decode_cases[_i].input, decode_cases[_i].len);
  v = gw_bencode_decode (buf.data, buf.len, &opts, NULL, &error);
  guard_buf_clear (&buf);

  if (decode_cases[_i].code < 0)
    {
      const char *want = decode_cases[_i].canonical != NULL
                             ? decode_cases[_i].canonical
                             : decode_cases[_i].input;
      gsize want_len = decode_cases[_i].canonical != NULL
                           ? strlen (want)
                           : decode_cases[_i].len;
      g_autoptr (GBytes) out = NULL;
      g_autoptr (GwBencode) again = NULL;
      GwBencodeDecodeOptions strict = { .sorted_keys = TRUE };
      gsize len;
      const char *data;

      ck_assert_msg (v != NULL, "%s: %s", name, error->message);
      out = gw_bencode_encode (v);
      data = g_bytes_get_data (out, &len);
      ck_assert_msg (len == want_len && memcmp (data, want, len) == 0,
                     "%s: encoded as '%.*s'", name, (int) len, data);
      /* The canonical form reads back, strictly, to an equal value. */
      again = gw_bencode_decode (data, len, &strict, NULL, &error);
      ck_assert_msg (again != NULL, "%s: %s", name, error->message);
      ck_assert (gw_bencode_equal (v, again) && gw_bencode_equal (again, v));
    }
  else
    {
      ck_assert_msg (v == NULL, "%s: decoded", name);
      ck_assert (error->domain == GW_BENCODE_ERROR);
      ck_assert_msg (error->code == decode_cases[_i].code, "%s: code %d", name,
                     error->code);
      ck_assert_str_eq (error->message, decode_cases[_i].error);
    }
}
END_TEST

/* Values read back as what they were. */
START_TEST (test_decode_values)
{
  g_autoptr (GwBencode) v = NULL;
  GwBencode *item;
  const char *key, *text;
  gsize len;

  v = gw_bencode_decode (
      S ("d4:listli-7e3:a\0bdelee3:numi9223372036854775807ee"), NULL, NULL,
      NULL);
  ck_assert_ptr_nonnull (v);
  ck_assert_int_eq (gw_bencode_get_type (v), GW_BENCODE_DICT);
  ck_assert_uint_eq (gw_bencode_dict_get_size (v), 2);
  item = gw_bencode_dict_get_nth (v, 0, &key, &len);
  ck_assert_str_eq (key, "list");
  ck_assert_uint_eq (len, 4);
  ck_assert_uint_eq (gw_bencode_list_get_length (item), 4);
  ck_assert_int_eq (gw_bencode_get_int (gw_bencode_list_get (item, 0)), -7);
  text = gw_bencode_get_string (gw_bencode_list_get (item, 1), &len);
  ck_assert_uint_eq (len, 3);
  ck_assert (memcmp (text, "a\0b", 4) == 0); /* NUL-terminated too */
  ck_assert (!gw_bencode_get_text (gw_bencode_list_get (item, 1), &text));
  ck_assert_int_eq (gw_bencode_get_type (gw_bencode_list_get (item, 2)),
                    GW_BENCODE_DICT);
  ck_assert_uint_eq (gw_bencode_dict_get_size (gw_bencode_list_get (item, 2)),
                     0);
  ck_assert_int_eq (gw_bencode_get_type (gw_bencode_list_get (item, 3)),
                    GW_BENCODE_LIST);
  ck_assert_int_eq (gw_bencode_get_int (gw_bencode_dict_lookup (v, "num")),
                    G_MAXINT64);
  ck_assert_ptr_null (gw_bencode_dict_lookup (v, "nu"));
  ck_assert_ptr_null (gw_bencode_dict_lookup (v, "numb"));
  ck_assert_ptr_nonnull (gw_bencode_dict_lookup_len (v, "list", 4));
  g_clear_pointer (&v, gw_bencode_unref);

  v = gw_bencode_decode (S ("i-9223372036854775808e"), NULL, NULL, NULL);
  ck_assert_int_eq (gw_bencode_get_int (v), G_MININT64);
  g_clear_pointer (&v, gw_bencode_unref);

  /* A key with a NUL byte is found by its bytes only. */
  v = gw_bencode_decode (S ("d3:a\0bi1ee"), NULL, NULL, NULL);
  ck_assert_ptr_nonnull (gw_bencode_dict_lookup_len (v, "a\0b", 3));
  ck_assert_ptr_null (gw_bencode_dict_lookup (v, "a"));
}
END_TEST

/* With @consumed, bytes after the value are left alone. */
START_TEST (test_decode_prefix)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GwBencode) v = NULL;
  gsize consumed = 0;
  GuardBuf buf;

  guard_buf_init (&buf, "i1ei2e", 6);
  v = gw_bencode_decode (buf.data, buf.len, NULL, &consumed, &error);
  guard_buf_clear (&buf);
  ck_assert_ptr_nonnull (v);
  ck_assert_uint_eq (consumed, 3);
  ck_assert_int_eq (gw_bencode_get_int (v), 1);
  g_clear_pointer (&v, gw_bencode_unref);

  consumed = 99;
  v = gw_bencode_decode ("li1e", 4, NULL, &consumed, &error);
  ck_assert_ptr_null (v);
  ck_assert_uint_eq (consumed, 99);
  ck_assert (
      g_error_matches (error, GW_BENCODE_ERROR, GW_BENCODE_ERROR_TRUNCATED));
  g_clear_error (&error);

  /* NULL with no bytes is the empty input. */
  v = gw_bencode_decode (NULL, 0, NULL, NULL, &error);
  ck_assert_ptr_null (v);
  ck_assert (
      g_error_matches (error, GW_BENCODE_ERROR, GW_BENCODE_ERROR_TRUNCATED));
}
END_TEST

static char *
nested (guint depth, char open)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < depth; i++)
    {
      g_string_append_c (s, open);
      if (open == 'd')
        g_string_append (s, "1:k");
    }
  if (open == 'd')
    g_string_append (s, "i0e");
  for (guint i = 0; i < depth; i++)
    g_string_append_c (s, 'e');
  return g_string_free (s, FALSE);
}

START_TEST (test_depth_limit)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GwBencode) v = NULL;
  g_autofree char *ok = nested (GW_BENCODE_DEFAULT_MAX_DEPTH, 'l');
  g_autofree char *deep = nested (GW_BENCODE_DEFAULT_MAX_DEPTH + 1, 'l');
  g_autofree char *deep_dict = nested (5, 'd');
  g_autofree char *very_deep = nested (100000, 'l');
  GwBencodeDecodeOptions four = { .max_depth = 4 };
  GwBencodeDecodeOptions huge = { .max_depth = G_MAXUINT };
  GuardBuf buf;

  v = gw_bencode_decode (ok, strlen (ok), NULL, NULL, &error);
  ck_assert_ptr_nonnull (v);
  g_clear_pointer (&v, gw_bencode_unref);

  v = gw_bencode_decode (deep, strlen (deep), NULL, NULL, &error);
  ck_assert_ptr_null (v);
  ck_assert (
      g_error_matches (error, GW_BENCODE_ERROR, GW_BENCODE_ERROR_LIMIT));
  ck_assert_str_eq (error->message,
                    "offset 32: lists and dictionaries nest deeper than 32");
  g_clear_error (&error);

  v = gw_bencode_decode (deep_dict, strlen (deep_dict), &four, NULL, &error);
  ck_assert_ptr_null (v);
  ck_assert_str_eq (error->message,
                    "offset 16: lists and dictionaries nest deeper than 4");
  g_clear_error (&error);

  /* A limit above the ceiling is the ceiling: 100000 levels fail at once
   * and the stack stays small. */
  guard_buf_init (&buf, very_deep, strlen (very_deep));
  v = gw_bencode_decode (buf.data, buf.len, &huge, NULL, &error);
  guard_buf_clear (&buf);
  ck_assert_ptr_null (v);
  ck_assert_str_eq (error->message,
                    "offset 512: lists and dictionaries nest deeper than 512");
}
END_TEST

START_TEST (test_value_limit)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GwBencode) v = NULL;
  GwBencodeDecodeOptions three = { .max_values = 3 };
  g_autoptr (GString) many = g_string_new ("l");

  /* The list and two items: three values. */
  v = gw_bencode_decode (S ("li1ei2ee"), &three, NULL, &error);
  ck_assert_ptr_nonnull (v);
  g_clear_pointer (&v, gw_bencode_unref);

  v = gw_bencode_decode (S ("li1ei2ei3ee"), &three, NULL, &error);
  ck_assert_ptr_null (v);
  ck_assert (
      g_error_matches (error, GW_BENCODE_ERROR, GW_BENCODE_ERROR_LIMIT));
  ck_assert_str_eq (error->message, "offset 7: more than 3 values");
  g_clear_error (&error);

  /* Keys are not values: { "a": 1, "b": 2 } is three. */
  v = gw_bencode_decode (S ("d1:ai1e1:bi2ee"), &three, NULL, &error);
  ck_assert_ptr_nonnull (v);
  g_clear_pointer (&v, gw_bencode_unref);

  /* The default: 65536. */
  for (guint i = 0; i < GW_BENCODE_DEFAULT_MAX_VALUES; i++)
    g_string_append (many, "0:");
  g_string_append_c (many, 'e');
  v = gw_bencode_decode (many->str, many->len, NULL, NULL, &error);
  ck_assert_ptr_null (v);
  ck_assert_str_eq (error->message, "offset 131071: more than 65536 values");
}
END_TEST

/* Building and encoding. */
START_TEST (test_build)
{
  static const char want[] =
      "d0:de7:createdi-5e4:listl1:b1:\0"
      "i-9223372036854775808e0:e6:result5:error3:sdp5:v=0\r\ne";
  g_autoptr (GwBencode) dict = gw_bencode_new_dict ();
  g_autoptr (GwBencode) list = gw_bencode_new_list ();
  g_autoptr (GwBencode) other = NULL;
  g_autoptr (GBytes) out = NULL;
  const char *text;

  gw_bencode_dict_set_string (dict, "result", "ok");
  gw_bencode_dict_set_string (dict, "sdp", "v=0\r\n");
  gw_bencode_dict_set_int (dict, "created", -5);
  gw_bencode_list_add_string (list, "b");
  gw_bencode_list_take (list, gw_bencode_new_bytes ("\0", 1));
  gw_bencode_list_take (list, gw_bencode_new_int (G_MININT64));
  gw_bencode_list_take (list, gw_bencode_new_bytes (NULL, 0));
  gw_bencode_dict_take (dict, "list", gw_bencode_ref (list));
  gw_bencode_dict_take (dict, "", gw_bencode_new_dict ());
  /* Replacing keeps one member. */
  gw_bencode_dict_set_string (dict, "result", "error");
  ck_assert_uint_eq (gw_bencode_dict_get_size (dict), 5);
  ck_assert (
      gw_bencode_get_text (gw_bencode_dict_lookup (dict, "result"), &text));
  ck_assert_str_eq (text, "error");

  out = gw_bencode_encode (dict);
  ck_assert_uint_eq (g_bytes_get_size (out), sizeof want - 1);
  ck_assert (memcmp (g_bytes_get_data (out, NULL), want, sizeof want - 1) ==
             0);

  /* Equal regardless of member order, unequal on any difference. */
  other = gw_bencode_new_dict ();
  gw_bencode_dict_take (other, "", gw_bencode_new_dict ());
  gw_bencode_dict_set_string (other, "sdp", "v=0\r\n");
  gw_bencode_dict_take (other, "list", gw_bencode_ref (list));
  gw_bencode_dict_set_string (other, "result", "error");
  ck_assert (!gw_bencode_equal (dict, other));
  gw_bencode_dict_set_int (other, "created", -5);
  ck_assert (gw_bencode_equal (dict, other));
  gw_bencode_dict_set_int (other, "created", -6);
  ck_assert (!gw_bencode_equal (dict, other));
  gw_bencode_dict_set_string (other, "created", "-5");
  ck_assert (!gw_bencode_equal (dict, other));

  ck_assert_str_eq (gw_bencode_type_to_string (GW_BENCODE_DICT), "dictionary");
  ck_assert_str_eq (gw_bencode_type_to_string (GW_BENCODE_INTEGER), "integer");
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("gw-bencode");
  TCase *tc = tcase_create ("core");
  SRunner *sr;
  int failed;

  tcase_add_loop_test (tc, test_decode, 0, G_N_ELEMENTS (decode_cases));
  tcase_add_test (tc, test_decode_values);
  tcase_add_test (tc, test_decode_prefix);
  tcase_add_test (tc, test_depth_limit);
  tcase_add_test (tc, test_value_limit);
  tcase_add_test (tc, test_build);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
