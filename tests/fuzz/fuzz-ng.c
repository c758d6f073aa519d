/* fuzz-ng.c: libFuzzer target for the ng request layer (gateway/gw-ng.c)
 * as a whole: a datagram in, the request read and dispatched to a handler,
 * one reply out.  Only the public API: a real GwNgServer on 127.0.0.1 with
 * a stub handler, fed over a UDP socket, the main context iterated until
 * the reply is back.
 *
 * The input's first byte picks how the stub answers (low 3 bits: at once
 * with an echo of what the request layer parsed, later from an idle
 * callback, not at all -- the layer must answer for it --, load limit, an
 * error) and whether the datagram is sent twice (bit 3: the second must be
 * answered from the cache, byte for byte); the rest is the request's
 * dictionary, after a fresh cookie.  Checked:
 *   - exactly one reply per datagram, with its cookie, decoding as a
 *     bencoded dictionary whose `result` is "ok", "pong", "error" or
 *     "load limit", with an `error-reason` / `message` of valid UTF-8 for
 *     the last two;
 *   - what the handler is given agrees with the dictionary: the command,
 *     the texts of call-id, from-tag, to-tag, via-branch and sdp, `flags`
 *     (NULL-terminated, each found by gw_ng_request_has_flag()), `supports`;
 *   - a retransmission gets the same bytes and does not reach the handler;
 *   - no request is left pending, nothing leaks (LeakSanitizer). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw-ng.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

enum
{
  ANSWER_NOW,
  ANSWER_LATER,
  ANSWER_NEVER,
  ANSWER_LOAD_LIMIT,
  ANSWER_ERROR,
};

static GwNgServer *server;
static int client = -1;
static struct sockaddr_storage server_ss;
static socklen_t server_len;
static guint mode;
static guint handled;
static guint cookie_seq;

static void
check (gboolean ok)
{
  if (!ok)
    abort ();
}

/* `key` of @dict as text, or NULL (not a string, or NUL inside). */
static const char *
text_of (GwBencode *dict, const char *key)
{
  GwBencode *v = gw_bencode_dict_lookup (dict, key);
  const char *t = NULL;

  if (v == NULL || gw_bencode_get_type (v) != GW_BENCODE_STRING ||
      !gw_bencode_get_text (v, &t))
    return NULL;
  return t;
}

static gboolean
answer_later (gpointer data)
{
  GwNgRequest *req = data;

  gw_ng_request_reply (req, NULL);
  gw_ng_request_unref (req);
  return G_SOURCE_REMOVE;
}

static void
stub (GwNgRequest *req, gpointer user_data)
{
  GwBencode *dict = gw_ng_request_get_dict (req);
  const char *const *flags = gw_ng_request_get_flags (req);
  static const char *const keys[] = { "call-id", "from-tag", "to-tag",
                                      "via-branch", "sdp" };
  const char *got[G_N_ELEMENTS (keys)];
  GwBencode *reply;
  gsize sdp_len = 0;

  handled++;
  check (dict != NULL && gw_bencode_get_type (dict) == GW_BENCODE_DICT);
  check (strcmp (gw_ng_command_to_string (gw_ng_request_get_command (req)),
                 text_of (dict, "command")) == 0);
  got[0] = gw_ng_request_get_call_id (req);
  got[1] = gw_ng_request_get_from_tag (req);
  got[2] = gw_ng_request_get_to_tag (req);
  got[3] = gw_ng_request_get_via_branch (req);
  got[4] = gw_ng_request_get_sdp (req, &sdp_len);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    check (g_strcmp0 (got[i], text_of (dict, keys[i])) == 0);
  check (got[4] == NULL || sdp_len == strlen (got[4]));
  check (flags != NULL);
  for (guint i = 0; flags[i] != NULL; i++)
    check (gw_ng_request_has_flag (req, flags[i]));
  (void) gw_ng_request_supports (req, "load limit");
  check (gw_ng_request_get_peer (req) != NULL);
  check (!gw_ng_request_is_answered (req));

  switch (mode)
    {
    case ANSWER_NOW:
      reply = gw_bencode_new_dict ();
      for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
        if (got[i] != NULL)
          gw_bencode_dict_set_string (reply, keys[i], got[i]);
      gw_ng_request_reply (req, reply);
      check (gw_ng_request_is_answered (req));
      break;
    case ANSWER_LATER:
      g_idle_add (answer_later, gw_ng_request_ref (req));
      break;
    case ANSWER_NEVER:
      break;
    case ANSWER_LOAD_LIMIT:
      gw_ng_request_reply_load_limit (req, "Parallel session limit reached");
      break;
    default:
      gw_ng_request_reply_error (req, "stub refuses %s",
                                 got[0] != NULL ? got[0] : "it");
      break;
    }
}

static const GwNgHandler handler = {
  .offer = stub,
  .answer = stub,
  .delete = stub,
  .query = stub,
  .list = stub,
  .statistics = stub,
};

static void
init (void)
{
  g_autoptr (GPtrArray) addrs =
      g_ptr_array_new_with_free_func (g_object_unref);
  GSocketAddress *bound;

  g_ptr_array_add (addrs,
                   g_inet_socket_address_new_from_string ("127.0.0.1", 0));
  server = gw_ng_server_new (addrs, NULL, &handler, NULL, NULL, NULL);
  check (server != NULL);
  bound = gw_ng_server_get_addresses (server)->pdata[0];
  server_len = (socklen_t) g_socket_address_get_native_size (bound);
  check (
      g_socket_address_to_native (bound, &server_ss, sizeof server_ss, NULL));
  client = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  check (client >= 0);
}

/* The reply to @cookie (the datagram without it), running the main
 * context meanwhile.  Every datagram sent has a cookie the server reads,
 * so a reply always comes. */
static GBytes *
await_reply (const char *cookie)
{
  static guint8 buf[70000];
  gsize clen = strlen (cookie);

  for (guint spins = 0; spins < 100000; spins++)
    {
      ssize_t n = recv (client, buf, sizeof buf, 0);

      if (n > 0)
        {
          check ((gsize) n > clen + 1 && memcmp (buf, cookie, clen) == 0 &&
                 buf[clen] == ' ');
          return g_bytes_new (buf + clen + 1, (gsize) n - clen - 1);
        }
      check (errno == EAGAIN || errno == EWOULDBLOCK);
      g_main_context_iteration (NULL, TRUE);
    }
  abort ();
}

static void
check_reply (GBytes *reply)
{
  gsize len;
  const char *data = g_bytes_get_data (reply, &len);
  g_autoptr (GwBencode) d = gw_bencode_decode (data, len, NULL, NULL, NULL);
  const char *result;

  check (d != NULL && gw_bencode_get_type (d) == GW_BENCODE_DICT);
  result = text_of (d, "result");
  check (result != NULL);
  if (strcmp (result, "error") == 0)
    {
      const char *why = text_of (d, "error-reason");

      check (why != NULL && g_utf8_validate (why, -1, NULL));
    }
  else if (strcmp (result, "load limit") == 0)
    {
      const char *why = text_of (d, "message");

      check (why != NULL && g_utf8_validate (why, -1, NULL));
    }
  else
    {
      check (strcmp (result, "ok") == 0 || strcmp (result, "pong") == 0);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *cookie = NULL;
  g_autoptr (GByteArray) dgram = g_byte_array_new ();
  g_autoptr (GBytes) first = NULL;
  GwNgStats st;
  gboolean twice;

  if (size < 1 || size > 60000)
    return 0;
  if (server == NULL)
    init ();
  mode = (data[0] & 7) % 5;
  twice = (data[0] & 8) != 0;
  cookie = g_strdup_printf ("fz%u", ++cookie_seq);
  g_byte_array_append (dgram, (const guint8 *) cookie, strlen (cookie));
  g_byte_array_append (dgram, (const guint8 *) " ", 1);
  g_byte_array_append (dgram, data + 1, (guint) (size - 1));

  check (sendto (client, dgram->data, dgram->len, 0,
                 (struct sockaddr *) &server_ss,
                 server_len) == (ssize_t) dgram->len);
  first = await_reply (cookie);
  check_reply (first);
  if (twice)
    {
      g_autoptr (GBytes) again = NULL;
      guint before = handled;

      check (sendto (client, dgram->data, dgram->len, 0,
                     (struct sockaddr *) &server_ss,
                     server_len) == (ssize_t) dgram->len);
      again = await_reply (cookie);
      check (g_bytes_equal (first, again));
      check (handled == before);
    }
  /* Let a deferred answer's source finish before the next input. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  gw_ng_server_get_stats (server, &st);
  check (st.pending == 0);
  return 0;
}
