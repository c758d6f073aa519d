/* fuzz-bencode.c: libFuzzer target for gateway/gw-bencode.c.
 *
 * The input is decoded three ways: whole (unsorted keys allowed), whole
 * with sorted_keys, and as a prefix (bytes after the value allowed), with
 * small limits so that the limit paths are reached.  Checked:
 *   - an error is GW_BENCODE_ERROR with a printable message that starts
 *     with "offset N: " where N is within the input;
 *   - the whole decode succeeds exactly when the prefix decode consumes
 *     everything, and fails with TRAILING exactly when the prefix decode
 *     succeeds short of the end;
 *   - whatever decodes with sorted_keys decodes without it, to an equal
 *     value, and what decodes without it but not with it fails with
 *     KEY_ORDER;
 *   - the canonical encoding of a decoded value has the input's length
 *     (bencode has one spelling of each value; only key order may
 *     differ), equals the input when keys were sorted, reads back with
 *     sorted_keys to an equal value, and encodes again to the same bytes;
 *   - nothing leaks (LeakSanitizer) and nothing is read outside the input
 *     (libFuzzer's copy has exactly its size). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw-bencode.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond)                                                           \
  do                                                                          \
    {                                                                         \
      if (!(cond))                                                            \
        abort ();                                                             \
    }                                                                         \
  while (0)

static const GwBencodeDecodeOptions loose = {
  .max_depth = 24,
  .max_values = 2048,
};
static const GwBencodeDecodeOptions strict = {
  .max_depth = 24,
  .max_values = 2048,
  .sorted_keys = TRUE,
};

static void
check_error (const GError *error, size_t size)
{
  const char *p;
  char *end;
  guint64 offset;

  CHECK (error != NULL && error->domain == GW_BENCODE_ERROR);
  CHECK (error->code >= GW_BENCODE_ERROR_TRUNCATED &&
         error->code <= GW_BENCODE_ERROR_TRAILING);
  CHECK (g_str_has_prefix (error->message, "offset "));
  p = error->message + strlen ("offset ");
  CHECK (g_ascii_isdigit (*p));
  offset = g_ascii_strtoull (p, &end, 10);
  CHECK (offset <= size);
  CHECK (end[0] == ':' && end[1] == ' ' && end[2] != '\0');
  for (p = error->message; *p != '\0'; p++)
    CHECK (*p >= 0x20 && *p < 0x7f);
}

/* @v was decoded from @data; @sorted: also with sorted_keys. */
static void
check_value (GwBencode *v, const uint8_t *data, size_t size, gboolean sorted)
{
  GBytes *out = gw_bencode_encode (v);
  GBytes *out2;
  gsize len;
  const guint8 *enc = g_bytes_get_data (out, &len);
  GError *error = NULL;
  GwBencode *again;

  CHECK (len == size);
  if (sorted)
    CHECK (memcmp (enc, data, size) == 0);
  again = gw_bencode_decode (enc, len, &strict, NULL, &error);
  CHECK (again != NULL && error == NULL);
  CHECK (gw_bencode_equal (v, again) && gw_bencode_equal (again, v));
  out2 = gw_bencode_encode (again);
  CHECK (g_bytes_equal (out, out2));
  g_bytes_unref (out2);
  gw_bencode_unref (again);
  g_bytes_unref (out);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *e_whole = NULL, *e_strict = NULL, *e_prefix = NULL;
  GwBencode *whole, *sorted, *prefix;
  gsize consumed = 0;

  /* Longer inputs only repeat what shorter ones test. */
  if (size > 16384)
    return 0;

  whole = gw_bencode_decode (data, size, &loose, NULL, &e_whole);
  sorted = gw_bencode_decode (data, size, &strict, NULL, &e_strict);
  prefix = gw_bencode_decode (data, size, &loose, &consumed, &e_prefix);

  CHECK ((whole == NULL) == (e_whole != NULL));
  CHECK ((sorted == NULL) == (e_strict != NULL));
  CHECK ((prefix == NULL) == (e_prefix != NULL));
  if (e_whole != NULL)
    check_error (e_whole, size);
  if (e_strict != NULL)
    check_error (e_strict, size);
  if (e_prefix != NULL)
    check_error (e_prefix, size);

  /* Whole versus prefix. */
  if (prefix != NULL)
    {
      CHECK (consumed >= 1 && consumed <= size);
      if (consumed == size)
        {
          CHECK (whole != NULL && gw_bencode_equal (whole, prefix));
        }
      else
        {
          CHECK (whole == NULL);
          CHECK (e_whole->code == GW_BENCODE_ERROR_TRAILING);
        }
      check_value (prefix, data, consumed, FALSE);
    }
  else
    {
      CHECK (whole == NULL);
      CHECK (e_whole->code != GW_BENCODE_ERROR_TRAILING);
      CHECK (strcmp (e_whole->message, e_prefix->message) == 0);
    }

  /* Sorted versus unsorted. */
  if (sorted != NULL)
    {
      CHECK (whole != NULL && gw_bencode_equal (whole, sorted));
      check_value (sorted, data, size, TRUE);
    }
  else if (whole != NULL)
    {
      CHECK (e_strict->code == GW_BENCODE_ERROR_KEY_ORDER);
    }
  if (whole != NULL)
    check_value (whole, data, size, sorted != NULL);

  g_clear_error (&e_whole);
  g_clear_error (&e_strict);
  g_clear_error (&e_prefix);
  if (whole != NULL)
    gw_bencode_unref (whole);
  if (sorted != NULL)
    gw_bencode_unref (sorted);
  if (prefix != NULL)
    gw_bencode_unref (prefix);
  return 0;
}
