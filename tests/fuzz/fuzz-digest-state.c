/* fuzz-digest-state.c: libFuzzer target for the Digest server's state
 * (msrp/msrp-digest.c): nonces minted over time, and credentials sent with
 * them in any order, with any nonce-count, against a model of the replay
 * guard (RFC 7616 section 5.3, issue 13 finding 2).
 *
 * The input is a program, one operation a byte (and its operands after
 * it): mint a nonce, advance the clock, send credentials (which nonce, the
 * nonce-count, the cnonce, the right password or not, MD5 or SHA-256), or
 * send a nonce with one character changed.  The server has a replay guard
 * of 4 entries and a 10 s nonce lifetime, so forgetting, staleness and the
 * floor of forgotten nonces are reached within a few operations.  Checked
 * against the model, for every verify:
 *   - the result is the model's exactly: BAD_RESPONSE for a wrong
 *     password (whatever the nonce), STALE_NONCE for a nonce past its
 *     lifetime or issued no later than a forgotten one, REPLAY for a
 *     nonce-count not above the last accepted for that nonce, BAD_NONCE for
 *     an altered nonce, OK otherwise;
 *   - OK never twice for one (nonce, nonce-count), and the nonce-counts
 *     accepted for a nonce strictly grow;
 *   - the model's table never holds more than the capacity, and the
 *     server agrees with it after every eviction;
 *   - nothing leaks (LeakSanitizer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msrp-digest.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define SECRET "0123456789abcdef0123456789abcdef"
#define LIFETIME_S 10
#define CAPACITY 4
#define MAX_NONCES 16
#define REALM "relay.example.net"
#define URI "msrps://relay.example.net:2856;tcp"
#define USER "alice"
#define PASS "wonderland"

static void
check (gboolean ok)
{
  if (!ok)
    abort ();
}

typedef struct
{
  char *nonce;
  gint64 issued;
} Minted;

/* The model of the guard: what the server remembers. */
typedef struct
{
  int nonce; /* index into the minted nonces */
  gint64 issued;
  guint32 nc;
} Entry;

typedef struct
{
  Minted minted[MAX_NONCES];
  guint n_minted;
  Entry table[CAPACITY];
  guint n_table;
  gboolean have_floor;
  gint64 floor;
  gint64 now;
  GHashTable *accepted; /* "nonce nc" set: every OK */
  guint32 last_ok[MAX_NONCES];
  gboolean any_ok[MAX_NONCES];
} Model;

static gboolean
stale_by_age (gint64 issued, gint64 now)
{
  return issued > now || now - issued > (gint64) LIFETIME_S * G_USEC_PER_SEC;
}

static void
raise_floor (Model *m, gint64 issued)
{
  if (!m->have_floor || issued > m->floor)
    m->floor = issued;
  m->have_floor = TRUE;
}

static void
table_remove (Model *m, guint i)
{
  m->table[i] = m->table[--m->n_table];
}

/* The server's replay_make_room(). */
static void
make_room (Model *m)
{
  guint oldest = G_MAXUINT;

  if (m->n_table < CAPACITY)
    return;
  for (guint i = 0; i < m->n_table;)
    {
      if (stale_by_age (m->table[i].issued, m->now))
        {
          raise_floor (m, m->table[i].issued);
          table_remove (m, i);
          continue;
        }
      i++;
    }
  for (guint i = 0; i < m->n_table; i++)
    if (oldest == G_MAXUINT || m->table[i].issued < m->table[oldest].issued)
      oldest = i;
  if (m->n_table >= CAPACITY && oldest != G_MAXUINT)
    {
      raise_floor (m, m->table[oldest].issued);
      table_remove (m, oldest);
    }
}

/* What the server must answer right credentials for nonce @k with @nc. */
static MsrpDigestResult
model_verify (Model *m, guint k, guint32 nc)
{
  gint64 issued = m->minted[k].issued;

  if (stale_by_age (issued, m->now))
    return MSRP_DIGEST_RESULT_STALE_NONCE;
  if (m->have_floor && issued <= m->floor)
    return MSRP_DIGEST_RESULT_STALE_NONCE;
  for (guint i = 0; i < m->n_table; i++)
    if (m->table[i].nonce == (int) k)
      {
        if (nc <= m->table[i].nc)
          return MSRP_DIGEST_RESULT_REPLAY;
        m->table[i].nc = nc;
        return MSRP_DIGEST_RESULT_OK;
      }
  make_room (m);
  if (m->have_floor && issued <= m->floor)
    return MSRP_DIGEST_RESULT_STALE_NONCE;
  check (m->n_table < CAPACITY);
  m->table[m->n_table].nonce = (int) k;
  m->table[m->n_table].issued = issued;
  m->table[m->n_table].nc = nc;
  m->n_table++;
  return MSRP_DIGEST_RESULT_OK;
}

/* Credentials as a client writes them, parsed as the relay reads them. */
static MsrpDigestCredentials *
credentials (MsrpDigestAlgorithm alg, const char *nonce, guint32 nc,
             guint cnonce, gboolean right)
{
  g_autofree char *ha1 = msrp_digest_compute_ha1 (
      alg, USER, REALM, right ? PASS : "not" PASS, NULL);
  g_autofree char *nc_text = g_strdup_printf ("%08x", nc);
  g_autofree char *cn = g_strdup_printf ("c%u", cnonce);
  g_autofree char *response = NULL;
  g_autofree char *text = NULL;
  MsrpDigestCredentials *creds;

  check (ha1 != NULL);
  response = msrp_digest_compute_response (alg, ha1, nonce, nc_text, cn,
                                           "auth", "AUTH", URI, NULL);
  check (response != NULL);
  text = g_strdup_printf (
      "Digest username=\"" USER "\", realm=\"" REALM
      "\", nonce=\"%s\", uri=\"" URI "\", response=\"%s\", "
      "qop=auth, nc=%s, cnonce=\"%s\", algorithm=%s",
      nonce, response, nc_text, cn, msrp_digest_algorithm_to_string (alg));
  creds = msrp_digest_credentials_parse (text, strlen (text), NULL);
  check (creds != NULL);
  return creds;
}

static const char *
stored_ha1 (MsrpDigestAlgorithm alg)
{
  static char *md5, *sha256;

  if (md5 == NULL)
    {
      md5 = msrp_digest_compute_ha1 (MSRP_DIGEST_ALGORITHM_MD5, USER, REALM,
                                     PASS, NULL);
      sha256 = msrp_digest_compute_ha1 (MSRP_DIGEST_ALGORITHM_SHA256, USER,
                                        REALM, PASS, NULL);
      check (md5 != NULL && sha256 != NULL);
    }
  return alg == MSRP_DIGEST_ALGORITHM_MD5 ? md5 : sha256;
}

/* The byte at *@pos, 0 past the end. */
static guint8
next (const uint8_t *data, size_t size, size_t *pos)
{
  return *pos < size ? data[(*pos)++] : 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (MsrpDigestServer) server = NULL;
  Model m = { 0 };
  size_t pos = 0;

  if (size > 4096)
    return 0;
  server = msrp_digest_server_new ((const guint8 *) SECRET, strlen (SECRET),
                                   LIFETIME_S, NULL);
  check (server != NULL);
  msrp_digest_server_set_replay_guard (server, CAPACITY);
  m.now = (gint64) 1700000000 * G_USEC_PER_SEC;
  m.accepted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  while (pos < size)
    {
      guint8 op = next (data, size, &pos);

      switch (op % 4)
        {
        case 0: /* mint a nonce, the clock moved by 0..255 ms */
          {
            char *nonce;

            m.now += (gint64) next (data, size, &pos) * 1000;
            if (m.n_minted == MAX_NONCES)
              break;
            nonce = msrp_digest_server_make_nonce (server, m.now, NULL);
            check (nonce != NULL);
            m.minted[m.n_minted].nonce = nonce;
            m.minted[m.n_minted].issued = m.now;
            m.n_minted++;
          }
          break;
        case 1: /* the clock moves by 0..15 s */
          m.now += (gint64) (next (data, size, &pos) % 16) * G_USEC_PER_SEC;
          break;
        case 2: /* credentials */
          {
            guint8 which = next (data, size, &pos);
            guint8 ncb = next (data, size, &pos);
            guint8 cnonce = next (data, size, &pos);
            guint k;
            guint32 nc;
            gboolean right = (op & 0x10) == 0;
            MsrpDigestAlgorithm alg = (op & 0x20)
                                          ? MSRP_DIGEST_ALGORITHM_MD5
                                          : MSRP_DIGEST_ALGORITHM_SHA256;
            g_autoptr (MsrpDigestCredentials) creds = NULL;
            MsrpDigestResult got, want;

            if (m.n_minted == 0)
              break;
            k = which % m.n_minted;
            /* Small counts collide; the high bit reaches large ones. */
            nc = (ncb & 0x80) ? 0xffffff00u | ncb : ncb % 8;
            creds = credentials (alg, m.minted[k].nonce, nc, cnonce, right);
            got = msrp_digest_server_verify (server, creds, "AUTH", URI, REALM,
                                             stored_ha1 (alg), m.now);
            want = right ? model_verify (&m, k, nc)
                         : MSRP_DIGEST_RESULT_BAD_RESPONSE;
            check (got == want);
            if (got == MSRP_DIGEST_RESULT_OK)
              {
                g_autofree char *key =
                    g_strdup_printf ("%s %08x", m.minted[k].nonce, nc);

                check (!g_hash_table_contains (m.accepted, key));
                g_hash_table_add (m.accepted, g_steal_pointer (&key));
                check (!m.any_ok[k] || nc > m.last_ok[k]);
                m.any_ok[k] = TRUE;
                m.last_ok[k] = nc;
              }
            check (m.n_table <= CAPACITY);
          }
          break;
        default: /* an altered nonce is not ours */
          {
            guint8 which = next (data, size, &pos);
            guint8 at = next (data, size, &pos);
            g_autofree char *forged = NULL;
            g_autoptr (MsrpDigestCredentials) creds = NULL;
            gsize len;

            if (m.n_minted == 0)
              break;
            forged = g_strdup (m.minted[which % m.n_minted].nonce);
            len = strlen (forged);
            forged[at % len] = forged[at % len] == 'A' ? 'B' : 'A';
            creds =
                credentials (MSRP_DIGEST_ALGORITHM_SHA256, forged, 1, 0, TRUE);
            check (msrp_digest_server_verify (
                       server, creds, "AUTH", URI, REALM,
                       stored_ha1 (MSRP_DIGEST_ALGORITHM_SHA256),
                       m.now) == MSRP_DIGEST_RESULT_BAD_NONCE);
          }
          break;
        }
    }
  for (guint i = 0; i < m.n_minted; i++)
    g_free (m.minted[i].nonce);
  g_hash_table_unref (m.accepted);
  return 0;
}
