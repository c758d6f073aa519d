/* fuzz-sdp.c: libFuzzer target for msrp/msrp-sdp.c.
 *
 * The input is parsed as an SDP.  Whatever does not parse must say why in
 * plain printable words.  Whatever parses must:
 * - write back exactly the input (the module keeps each line's ending);
 * - parse again from what it wrote, to the same text and the same typed
 *   view of every MSRP stream;
 * - take a few modifications of each MSRP stream chosen by the input (set
 *   a=setup, c=, the port, prepend to a=path, clear/add candidates, set ICE
 *   credentials, end-of-candidates); each either succeeds and shows in the
 *   typed view, or fails with a reason and changes nothing;
 * - after them, write a text that parses again to the same text and typed
 *   view, in which the session level and every section that is not an MSRP
 *   stream are byte for byte those of the input.
 * - read the o= version and take a new one chosen by the input: either
 *   both fail with a reason and nothing changes, or only the version's
 *   digits change.
 * The input is also parsed as one a=candidate value.  Any broken property
 * aborts. */
#include "msrp-sdp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond)                                                           \
  do                                                                          \
    {                                                                         \
      if (!(cond))                                                            \
        abort ();                                                             \
    }                                                                         \
  while (0)

static void
check_error (GError *error)
{
  CHECK (error != NULL);
  CHECK (error->domain == MSRP_SDP_ERROR);
  CHECK (error->message != NULL && error->message[0] != '\0');
  for (const char *p = error->message; *p != '\0'; p++)
    CHECK (*p >= 0x20 && *p < 0x7f);
}

static gboolean
strv_equal0 (const char *const *a, const char *const *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return g_strv_equal ((const char *const *) a, (const char *const *) b);
}

static char *
candidates_text (GPtrArray *cands)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < cands->len; i++)
    {
      char *c = msrp_sdp_candidate_to_string (g_ptr_array_index (cands, i));

      g_string_append (s, c);
      g_string_append_c (s, '|');
      g_free (c);
    }
  return g_string_free (s, FALSE);
}

static void
check_same_stream (const MsrpSdpStream *a, const MsrpSdpStream *b)
{
  MsrpSdpAddrType ta, tb;
  GPtrArray *pa = msrp_sdp_stream_get_path (a);
  GPtrArray *pb = msrp_sdp_stream_get_path (b);
  GPtrArray *fa = msrp_sdp_stream_get_fingerprints (a);
  GPtrArray *fb = msrp_sdp_stream_get_fingerprints (b);
  guint64 ma = 0, mb = 0;
  char *ca, *cb;

  CHECK (msrp_sdp_stream_get_media_index (a) ==
         msrp_sdp_stream_get_media_index (b));
  CHECK (msrp_sdp_stream_get_proto (a) == msrp_sdp_stream_get_proto (b));
  CHECK (msrp_sdp_stream_get_port (a) == msrp_sdp_stream_get_port (b));
  CHECK (strcmp (msrp_sdp_stream_get_address (a, &ta),
                 msrp_sdp_stream_get_address (b, &tb)) == 0);
  CHECK (ta == tb);
  CHECK (msrp_sdp_stream_has_media_address (a) ==
         msrp_sdp_stream_has_media_address (b));
  CHECK ((pa == NULL) == (pb == NULL));
  if (pa != NULL)
    {
      char *x = msrp_uri_list_to_text (pa), *y = msrp_uri_list_to_text (pb);

      CHECK (pa->len >= 1 && pa->len <= MSRP_URI_LIST_MAX);
      CHECK (strcmp (x, y) == 0);
      g_free (x);
      g_free (y);
    }
  CHECK (strv_equal0 (msrp_sdp_stream_get_accept_types (a),
                      msrp_sdp_stream_get_accept_types (b)));
  CHECK (strv_equal0 (msrp_sdp_stream_get_accept_wrapped_types (a),
                      msrp_sdp_stream_get_accept_wrapped_types (b)));
  CHECK (msrp_sdp_stream_get_max_size (a, &ma) ==
         msrp_sdp_stream_get_max_size (b, &mb));
  CHECK (ma == mb);
  CHECK (msrp_sdp_stream_get_setup (a) == msrp_sdp_stream_get_setup (b));
  CHECK (msrp_sdp_stream_get_connection (a) ==
         msrp_sdp_stream_get_connection (b));
  CHECK (msrp_sdp_stream_get_cema (a) == msrp_sdp_stream_get_cema (b));
  CHECK (fa->len == fb->len);
  for (guint i = 0; i < fa->len; i++)
    {
      const MsrpSdpFingerprint *x = g_ptr_array_index (fa, i);
      const MsrpSdpFingerprint *y = g_ptr_array_index (fb, i);

      CHECK (strcmp (x->hash_func, y->hash_func) == 0);
      CHECK (strcmp (x->fingerprint, y->fingerprint) == 0);
    }
  CHECK (g_strcmp0 (msrp_sdp_stream_get_ice_ufrag (a),
                    msrp_sdp_stream_get_ice_ufrag (b)) == 0);
  CHECK (g_strcmp0 (msrp_sdp_stream_get_ice_pwd (a),
                    msrp_sdp_stream_get_ice_pwd (b)) == 0);
  CHECK (strv_equal0 (msrp_sdp_stream_get_ice_options (a),
                      msrp_sdp_stream_get_ice_options (b)));
  ca = candidates_text (msrp_sdp_stream_get_candidates (a));
  cb = candidates_text (msrp_sdp_stream_get_candidates (b));
  CHECK (strcmp (ca, cb) == 0);
  g_free (ca);
  g_free (cb);
  CHECK (msrp_sdp_stream_get_end_of_candidates (a) ==
         msrp_sdp_stream_get_end_of_candidates (b));
}

/* Write @sdp, parse it again: same text, same typed view.  Returns the
 * text (transfer full). */
static char *
check_round_trip (const MsrpSdp *sdp, gsize *len)
{
  GError *error = NULL;
  char *text = msrp_sdp_to_string (sdp, len);
  MsrpSdp *again;
  char *text2;
  gsize len2;

  CHECK (strlen (text) == *len && *len <= MSRP_SDP_MAX_SIZE);
  again = msrp_sdp_parse (text, *len, &error);
  CHECK (again != NULL && error == NULL);
  text2 = msrp_sdp_to_string (again, &len2);
  CHECK (len2 == *len && memcmp (text, text2, len2) == 0);
  g_free (text2);
  CHECK (msrp_sdp_get_n_media (again) == msrp_sdp_get_n_media (sdp));
  CHECK (msrp_sdp_get_n_streams (again) == msrp_sdp_get_n_streams (sdp));
  CHECK (msrp_sdp_get_ice_lite (again) == msrp_sdp_get_ice_lite (sdp));
  for (guint i = 0; i < msrp_sdp_get_n_media (sdp); i++)
    {
      MsrpSdpStream *a = msrp_sdp_get_media_stream (sdp, i);
      MsrpSdpStream *b = msrp_sdp_get_media_stream (again, i);

      CHECK ((a == NULL) == (b == NULL));
      if (a != NULL)
        check_same_stream (a, b);
    }
  msrp_sdp_free (again);
  return text;
}

/* The text split into sections, as the module does: a line starting with
 * "m=" begins a new one; each section's bytes with their line endings. */
static GPtrArray *
sections (const char *text, gsize len)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  gsize start = 0, pos = 0;

  while (pos < len)
    {
      const char *nl = memchr (text + pos, '\n', len - pos);
      gsize next = nl != NULL ? (gsize) (nl - text) + 1 : len;

      if (pos > start && len - pos >= 2 && text[pos] == 'm' &&
          text[pos + 1] == '=')
        {
          g_ptr_array_add (out, g_strndup (text + start, pos - start));
          start = pos;
        }
      pos = next;
    }
  g_ptr_array_add (out, g_strndup (text + start, len - start));
  return out;
}

static void
check_text_unchanged (const MsrpSdp *sdp, const char *text, gsize len)
{
  gsize out_len;
  char *out = msrp_sdp_to_string (sdp, &out_len);

  CHECK (out_len == len && memcmp (out, text, len) == 0);
  g_free (out);
}

/* A failed modification: a reason, and nothing changed. */
static void
check_failed (const MsrpSdp *sdp, const char *before, gsize before_len,
              GError *error)
{
  check_error (error);
  CHECK (error->code == MSRP_SDP_ERROR_LIMIT ||
         error->code == MSRP_SDP_ERROR_MISSING);
  check_text_unchanged (sdp, before, before_len);
}

static const char *const addresses[] = {
  "203.0.113.7",
  "2001:db8::7",
  "gw.example.net",
  "0.0.0.0",
};

#define RELAY "msrp://gw.example.net:2855/r7Tq;tcp"
#define CAND                                                                  \
  "9 1 TCP 1694498815 203.0.113.9 2855 typ relay raddr 0.0.0.0 "              \
  "rport 0 tcptype passive"

static void
modify (MsrpSdp *sdp, MsrpSdpStream *st, guint8 ops)
{
  GError *error = NULL;
  gsize before_len;
  char *before = msrp_sdp_to_string (sdp, &before_len);
  gboolean ok = TRUE;

  switch (ops & 7)
    {
    case 0:
      {
        MsrpSdpSetup setup = (MsrpSdpSetup) ((ops >> 3) % 5);

        ok = msrp_sdp_stream_set_setup (st, setup, &error);
        if (ok && setup != MSRP_SDP_SETUP_ABSENT)
          CHECK (msrp_sdp_stream_get_setup (st) == setup);
        break;
      }
    case 1:
      {
        const char *addr = addresses[(ops >> 3) % G_N_ELEMENTS (addresses)];
        MsrpSdpAddrType type;

        ok = msrp_sdp_stream_set_address (st, addr, &error);
        if (ok)
          {
            CHECK (strcmp (msrp_sdp_stream_get_address (st, &type), addr) ==
                   0);
            CHECK (type == (strchr (addr, ':') ? MSRP_SDP_ADDR_IP6
                                               : MSRP_SDP_ADDR_IP4));
            CHECK (msrp_sdp_stream_has_media_address (st));
          }
        break;
      }
    case 2:
      {
        guint16 port = (guint16) (ops * 257u);

        ok = msrp_sdp_stream_set_port (st, port, &error);
        if (ok)
          CHECK (msrp_sdp_stream_get_port (st) == port);
        break;
      }
    case 3:
      {
        MsrpUri *relay = msrp_uri_parse (RELAY, -1, NULL);
        guint n = msrp_sdp_stream_get_path (st)
                      ? msrp_sdp_stream_get_path (st)->len
                      : 0;

        CHECK (relay != NULL);
        ok = msrp_sdp_stream_prepend_path (st, relay, &error);
        if (ok)
          {
            GPtrArray *path = msrp_sdp_stream_get_path (st);

            CHECK (path->len == n + 1);
            CHECK (msrp_uri_equal (g_ptr_array_index (path, 0), relay));
          }
        msrp_uri_unref (relay);
        break;
      }
    case 4:
      msrp_sdp_stream_clear_candidates (st);
      CHECK (msrp_sdp_stream_get_candidates (st)->len == 0);
      break;
    case 5:
      {
        MsrpSdpCandidate *c = msrp_sdp_candidate_parse (CAND, -1, NULL);
        guint n = msrp_sdp_stream_get_candidates (st)->len;

        CHECK (c != NULL);
        ok = msrp_sdp_stream_add_candidate (st, c, &error);
        if (ok)
          CHECK (msrp_sdp_stream_get_candidates (st)->len == n + 1);
        msrp_sdp_candidate_free (c);
        break;
      }
    case 6:
      ok = msrp_sdp_stream_set_ice_credentials (
          st, "Gw01", "ZmFrZXBhc3N3b3JkZm9ydGVzdA", &error);
      if (ok)
        {
          CHECK (strcmp (msrp_sdp_stream_get_ice_ufrag (st), "Gw01") == 0);
          CHECK (strcmp (msrp_sdp_stream_get_ice_pwd (st),
                         "ZmFrZXBhc3N3b3JkZm9ydGVzdA") == 0);
        }
      break;
    case 7:
      if (ops & 8)
        msrp_sdp_stream_remove_ice (st);
      else
        {
          ok = msrp_sdp_stream_set_end_of_candidates (st, TRUE, &error);
          if (ok)
            CHECK (msrp_sdp_stream_get_end_of_candidates (st));
        }
      break;
    default:
      break;
    }
  if (!ok)
    {
      check_failed (sdp, before, before_len, error);
      g_clear_error (&error);
    }
  CHECK (error == NULL);
  g_free (before);
}

/* Where the session level's o= line has its version in @text: the offset
 * of its third field (the line was read by the module, so it has six). */
static gsize
origin_version_at (const char *text, gsize len)
{
  gsize pos = 0;

  while (pos + 1 < len && !(text[pos] == 'm' && text[pos + 1] == '='))
    {
      const char *nl = memchr (text + pos, '\n', len - pos);

      if (text[pos] == 'o' && text[pos + 1] == '=')
        {
          const char *sp = memchr (text + pos, ' ', len - pos);

          CHECK (sp != NULL);
          sp = memchr (sp + 1, ' ', len - (gsize) (sp + 1 - text));
          CHECK (sp != NULL);
          return (gsize) (sp + 1 - text);
        }
      CHECK (nl != NULL);
      pos = (gsize) (nl - text) + 1;
    }
  abort ();
}

/* Read the o= version and set one derived from @seed: both fail alike
 * and change nothing, or only the version's digits change. */
static void
check_origin (MsrpSdp *sdp, guint64 seed)
{
  GError *error = NULL;
  gsize before_len, after_len, at, old_len;
  char *before = msrp_sdp_to_string (sdp, &before_len);
  char *after, *new_digits;
  guint64 version = 0, again = 0, want;

  if (!msrp_sdp_get_origin_version (sdp, &version, &error))
    {
      gint code = error->code;

      check_error (error);
      g_clear_error (&error);
      CHECK (!msrp_sdp_set_origin_version (sdp, seed >> 1, &error));
      check_error (error);
      CHECK (error->code == code);
      g_clear_error (&error);
      check_text_unchanged (sdp, before, before_len);
      g_free (before);
      return;
    }
  CHECK (version <= G_MAXINT64);
  want = (seed & 1) ? version + (seed >> 1) % 3 : seed >> 1;
  if (!msrp_sdp_set_origin_version (sdp, want, &error))
    {
      check_failed (sdp, before, before_len, error);
      g_clear_error (&error);
      g_free (before);
      return;
    }
  CHECK (msrp_sdp_get_origin_version (sdp, &again, NULL) && again == want);
  after = msrp_sdp_to_string (sdp, &after_len);
  /* The field as written (leading zeros are digits too, RFC 8866 section
   * 9: 1*DIGIT) gives way to the number's plain digits. */
  at = origin_version_at (before, before_len);
  old_len = strspn (before + at, "0123456789");
  new_digits = g_strdup_printf ("%" G_GUINT64_FORMAT, want);
  CHECK (old_len > 0 && before[at + old_len] == ' ');
  CHECK (after_len == before_len - old_len + strlen (new_digits));
  CHECK (memcmp (after, before, at) == 0);
  CHECK (memcmp (after + at, new_digits, strlen (new_digits)) == 0);
  CHECK (strcmp (after + at + strlen (new_digits), before + at + old_len) ==
         0);
  g_free (new_digits);
  g_free (after);
  g_free (before);
}

static void
fuzz_candidate (const char *text, size_t size)
{
  GError *error = NULL;
  MsrpSdpCandidate *c = msrp_sdp_candidate_parse (text, (gssize) size, &error);

  if (c == NULL)
    {
      check_error (error);
      g_error_free (error);
      return;
    }
  {
    char *s = msrp_sdp_candidate_to_string (c);
    MsrpSdpCandidate *again = msrp_sdp_candidate_parse (s, -1, &error);
    char *s2;

    CHECK (again != NULL);
    s2 = msrp_sdp_candidate_to_string (again);
    CHECK (strcmp (s, s2) == 0);
    g_free (s);
    g_free (s2);
    msrp_sdp_candidate_free (again);
  }
  msrp_sdp_candidate_free (c);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  GError *error = NULL;
  MsrpSdp *sdp;
  char *out;
  gsize out_len;
  GPtrArray *in_sections, *out_sections;

  if (size <= 512)
    fuzz_candidate (text, size);

  sdp = msrp_sdp_parse (text, size, &error);
  if (sdp == NULL)
    {
      check_error (error);
      g_error_free (error);
      return 0;
    }
  CHECK (error == NULL);

  /* Written back exactly, parses again the same. */
  out = check_round_trip (sdp, &out_len);
  CHECK (out_len == size && memcmp (out, text, size) == 0);
  g_free (out);

  /* A few modifications per stream, chosen by the input's last bytes. */
  for (guint i = 0; i < msrp_sdp_get_n_streams (sdp) && i < 8; i++)
    for (guint k = 0; k < 3; k++)
      {
        guint8 ops = size > 0 ? data[(size - 1 - (i * 3 + k) % size)] : 0;

        modify (sdp, msrp_sdp_get_stream (sdp, i), (guint8) (ops + k * 3));
      }

  out = check_round_trip (sdp, &out_len);

  /* Session level and every non-MSRP section: byte for byte. */
  in_sections = sections (text, size);
  out_sections = sections (out, out_len);
  CHECK (in_sections->len == out_sections->len);
  CHECK (in_sections->len == msrp_sdp_get_n_media (sdp) + 1);
  for (guint s = 0; s < in_sections->len; s++)
    {
      if (s > 0 && msrp_sdp_get_media_stream (sdp, s - 1) != NULL)
        continue;
      CHECK (strcmp (g_ptr_array_index (in_sections, s),
                     g_ptr_array_index (out_sections, s)) == 0);
    }
  g_ptr_array_unref (in_sections);
  g_ptr_array_unref (out_sections);
  g_free (out);

  {
    guint64 seed = 0;

    for (gsize i = 0; i < size && i < 8; i++)
      seed = (seed << 8) | data[i];
    check_origin (sdp, seed);
  }
  out = check_round_trip (sdp, &out_len);
  g_free (out);
  msrp_sdp_free (sdp);
  return 0;
}
