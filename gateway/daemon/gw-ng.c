#include "gw-ng.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <glib-unix.h>

#include "net-addr.h"
#include "net-loop.h"
#include "gw-log.h"

GQuark
gw_ng_error_quark (void)
{
  return g_quark_from_static_string ("gw-ng-error-quark");
}

#define DEFAULT_MAX_REQUEST 65535
#define DEFAULT_CACHE_TTL_MS 30000
#define DEFAULT_CACHE_MAX_ENTRIES 4096
#define DEFAULT_CACHE_MAX_BYTES (16 * 1024 * 1024)
#define DEFAULT_MAX_PENDING 256
#define DEFAULT_MAX_DEPTH 16
#define DEFAULT_MAX_VALUES 4096
/* Datagrams read per wake-up before the main loop gets a turn. */
#define READS_PER_WAKE 64
/* Longest piece of a request quoted back in an error or a log line. */
#define QUOTE_MAX 64

typedef struct
{
  char *key;        /* "PEER COOKIE"; the hash table's key */
  GBytes *reply;    /* the whole datagram; NULL while being handled */
  gint64 stored_at; /* clock time the reply was stored */
  GList link;       /* in GwNgServer.order once it has a reply */
} CacheEntry;

typedef struct
{
  GwNgServer *server;
  int fd;
  GSource *watch;
  char *address_string;
} Sock;

struct _GwNgServer
{
  GwNgHandler handler;
  gpointer user_data;
  GDestroyNotify destroy;
  GwNgOptions options; /* defaults filled in */
  GMainContext *context;
  GPtrArray *sockets;   /* Sock */
  GPtrArray *addresses; /* GSocketAddress, as bound */
  guint8 *buffer;       /* max_request_bytes + 1 */
  GHashTable *cache;    /* key -> CacheEntry (owned) */
  GQueue order;         /* CacheEntry with a reply, oldest first */
  gsize cache_bytes;
  GHashTable *requests; /* GwNgRequest not answered yet (a set) */
  NetLoop *loop;        /* its clock ages the cache (a reference) */
  GwNgStats stats;
  gint64 error_second;    /* the second error_lines counts in */
  guint error_lines;      /* control_error lines in that second */
  guint error_suppressed; /* left out since the last line */
};

struct _GwNgRequest
{
  grefcount ref;
  GwNgServer *server; /* NULL once the server is freed */
  Sock *sock;         /* NULL likewise */
  struct sockaddr_storage peer_native;
  socklen_t peer_len;
  GSocketAddress *peer;
  char *peer_string;
  char *cookie;
  char *cache_key;
  char *command_name; /* quoted for logs; NULL before it is read */
  GwNgCommand command;
  gboolean dispatched; /* counted under its command, and so its latency */
  gint64 received;     /* the loop's clock when its datagram was read */
  gboolean answered;
  GwBencode *dict;
  const char *call_id; /* these point into dict */
  const char *from_tag;
  const char *to_tag;
  const char *via_branch;
  const char *sdp;
  gsize sdp_len;
  GInetAddress *received_from;
  GPtrArray *flags; /* const char *, NULL-terminated */
};

const gint64 gw_ng_latency_bounds_us[GW_NG_LATENCY_BUCKETS] = {
  100,   250,    500,    1000,   2500,    5000,    10000,   25000,
  50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

static const char *const command_names[] = {
  [GW_NG_COMMAND_PING] = "ping",
  [GW_NG_COMMAND_OFFER] = "offer",
  [GW_NG_COMMAND_ANSWER] = "answer",
  [GW_NG_COMMAND_DELETE] = "delete",
  [GW_NG_COMMAND_QUERY] = "query",
  [GW_NG_COMMAND_LIST] = "list",
  [GW_NG_COMMAND_STATISTICS] = "statistics",
};

const char *
gw_ng_command_to_string (GwNgCommand command)
{
  if ((guint) command < G_N_ELEMENTS (command_names))
    return command_names[command];
  return "unknown";
}

/* @len bytes as printable ASCII for a message or a log line: other bytes
 * as \xNN, cut after QUOTE_MAX bytes with "...". */
static char *
quote (const char *s, gsize len)
{
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < len && i < QUOTE_MAX; i++)
    {
      guchar c = (guchar) s[i];

      if (c >= 0x20 && c < 0x7f && c != '\\')
        g_string_append_c (out, (char) c);
      else
        g_string_append_printf (out, "\\x%02x", c);
    }
  if (len > QUOTE_MAX)
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

static gint64
now (GwNgServer *server)
{
  return net_loop_now (server->loop);
}

/* --- the reply cache ----------------------------------------------------- */

static void
cache_entry_free (gpointer p)
{
  CacheEntry *e = p;

  g_free (e->key);
  if (e->reply != NULL)
    g_bytes_unref (e->reply);
  g_free (e);
}

/* Forget @e (which has a reply). */
static void
cache_drop (GwNgServer *server, CacheEntry *e)
{
  g_queue_unlink (&server->order, &e->link);
  server->cache_bytes -= g_bytes_get_size (e->reply);
  g_hash_table_remove (server->cache, e->key);
}

/* Drop replies older than the lifetime, then the oldest while there are
 * too many. */
static void
cache_prune (GwNgServer *server, gint64 time)
{
  gint64 ttl = (gint64) server->options.cache_ttl_ms * 1000;
  GList *head;

  while ((head = server->order.head) != NULL)
    {
      CacheEntry *e = head->data;

      if (time - e->stored_at < ttl &&
          server->order.length <= server->options.cache_max_entries &&
          server->cache_bytes <= server->options.cache_max_bytes)
        break;
      cache_drop (server, e);
    }
}

/* --- logging ------------------------------------------------------------- */

static void
log_request (GwNgRequest *req)
{
  GLogLevelFlags level = req->command == GW_NG_COMMAND_PING ? G_LOG_LEVEL_DEBUG
                                                            : G_LOG_LEVEL_INFO;
  g_autoptr (GwLogEvent) ev = gw_log_event_new (level, "control_request");

  gw_log_event_add_str (ev, "command", req->command_name);
  gw_log_event_add_str (ev, "call_id", req->call_id);
  gw_log_event_add_str (ev, "cookie", req->cookie);
  gw_log_event_add_str (ev, "from", req->peer_string);
  gw_log_event_emit (ev, "%s from %s (cookie %s)", req->command_name,
                     req->peer_string, req->cookie);
}

/* A retransmission answered from the cache (the command is not read
 * again). */
static void
log_cached (const char *from, const char *cookie)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_INFO, "control_request");

  gw_log_event_add_str (ev, "cookie", cookie);
  gw_log_event_add_str (ev, "from", from);
  gw_log_event_add_bool (ev, "cached", TRUE);
  gw_log_event_emit (ev,
                     "retransmission from %s (cookie %s) answered from "
                     "the cache",
                     from, cookie);
}

/* control_error lines: at most GW_NG_ERROR_LINES_PER_S in a second of the
 * loop's clock, so that a flood of bad datagrams costs the log stream
 * little (the counters have every one); the next line allowed says how
 * many were left out. */
static gboolean
error_line_allowed (GwNgServer *server, guint *suppressed)
{
  gint64 second = now (server) / G_USEC_PER_SEC;

  if (second != server->error_second)
    {
      server->error_second = second;
      server->error_lines = 0;
    }
  if (server->error_lines >= GW_NG_ERROR_LINES_PER_S)
    {
      server->error_suppressed++;
      return FALSE;
    }
  server->error_lines++;
  *suppressed = server->error_suppressed;
  server->error_suppressed = 0;
  return TRUE;
}

static void
add_suppressed (GwLogEvent *ev, guint suppressed)
{
  if (suppressed > 0)
    gw_log_event_add_int (ev, "suppressed", suppressed);
}

static void
log_error (GwNgRequest *req, const char *reason)
{
  g_autoptr (GwLogEvent) ev = NULL;
  guint suppressed = 0;

  if (req->server != NULL && !error_line_allowed (req->server, &suppressed))
    return;
  ev = gw_log_event_new (G_LOG_LEVEL_WARNING, "control_error");
  add_suppressed (ev, suppressed);
  gw_log_event_add_str (ev, "reason", reason);
  gw_log_event_add_str (ev, "command", req->command_name);
  gw_log_event_add_str (ev, "call_id", req->call_id);
  gw_log_event_add_str (ev, "cookie", req->cookie);
  gw_log_event_add_str (ev, "from", req->peer_string);
  gw_log_event_emit (ev, "control request from %s (cookie %s): %s",
                     req->peer_string, req->cookie, reason);
}

/* A datagram that cannot be answered. */
static void
log_dropped (GwNgServer *server, const char *from, gsize len,
             const char *reason)
{
  g_autoptr (GwLogEvent) ev = NULL;
  guint suppressed = 0;

  server->stats.dropped++;
  if (!error_line_allowed (server, &suppressed))
    return;
  ev = gw_log_event_new (G_LOG_LEVEL_WARNING, "control_error");
  add_suppressed (ev, suppressed);
  gw_log_event_add_str (ev, "reason", reason);
  gw_log_event_add_str (ev, "from", from);
  gw_log_event_add_int (ev, "bytes", (gint64) len);
  gw_log_event_emit (ev,
                     "dropped a control datagram of %" G_GSIZE_FORMAT
                     " bytes from %s: %s",
                     len, from, reason);
}

/* --- requests and replies ------------------------------------------------ */

/* The reply to @req, dispatched, was sent: its latency goes into its
 * command's histogram. */
static void
count_latency (GwNgServer *server, GwNgRequest *req)
{
  GwNgCommandStats *cs = &server->stats.commands[req->command];
  gint64 us = MAX (now (server) - req->received, 0);

  cs->answered++;
  cs->sum_us += (guint64) us;
  for (guint i = 0; i < GW_NG_LATENCY_BUCKETS; i++)
    if (us <= gw_ng_latency_bounds_us[i])
      cs->le[i]++;
}

/* Send @bytes from @sock to @ss; errno-style failure as a reason. */
static char *
send_to (Sock *sock, const struct sockaddr_storage *ss, socklen_t ss_len,
         GBytes *bytes)
{
  gsize len;
  const void *data = g_bytes_get_data (bytes, &len);
  ssize_t n;

  do
    n = sendto (sock->fd, data, len, 0, (const struct sockaddr *) ss, ss_len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      int err = errno;

      return g_strdup_printf ("cannot send the reply: %s", g_strerror (err));
    }
  return NULL;
}

/* Send @reply (transfer full) for @req and cache it.  @reason: the
 * error-reason when it is an error reply. */
static void
answer (GwNgRequest *req, GwBencode *reply, const char *reason)
{
  GwNgServer *server = req->server;
  g_autoptr (GwBencode) dict = reply;
  g_autoptr (GByteArray) out = NULL;
  g_autofree char *too_big = NULL;
  g_autofree char *send_failure = NULL;
  CacheEntry *e;

  req->answered = TRUE;
  if (server == NULL)
    return;
  g_hash_table_remove (server->requests, req);

  out = g_byte_array_new ();
  g_byte_array_append (out, (const guint8 *) req->cookie,
                       (guint) strlen (req->cookie));
  g_byte_array_append (out, (const guint8 *) " ", 1);
  gw_bencode_encode_append (dict, out);
  if (out->len > GW_NG_REPLY_MAX)
    {
      too_big = g_strdup_printf ("the reply of %u bytes does not fit in a "
                                 "datagram",
                                 out->len);
      reason = too_big;
      g_clear_pointer (&dict, gw_bencode_unref);
      dict = gw_bencode_new_dict ();
      gw_bencode_dict_set_string (dict, "result", "error");
      gw_bencode_dict_set_string (dict, "error-reason", reason);
      g_byte_array_set_size (out, 0);
      g_byte_array_append (out, (const guint8 *) req->cookie,
                           (guint) strlen (req->cookie));
      g_byte_array_append (out, (const guint8 *) " ", 1);
      gw_bencode_encode_append (dict, out);
    }
  if (reason != NULL)
    {
      server->stats.errors++;
      log_error (req, reason);
    }

  e = g_hash_table_lookup (server->cache, req->cache_key);
  g_assert (e != NULL && e->reply == NULL);
  e->reply = g_byte_array_free_to_bytes (g_steal_pointer (&out));
  e->stored_at = now (server);
  g_queue_push_tail_link (&server->order, &e->link);
  server->cache_bytes += g_bytes_get_size (e->reply);
  send_failure =
      send_to (req->sock, &req->peer_native, req->peer_len, e->reply);
  if (send_failure != NULL)
    log_error (req, send_failure);
  if (req->dispatched)
    count_latency (server, req);
  cache_prune (server, e->stored_at);
}

GwNgRequest *
gw_ng_request_ref (GwNgRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  g_ref_count_inc (&request->ref);
  return request;
}

void
gw_ng_request_unref (GwNgRequest *req)
{
  if (req == NULL || !g_ref_count_dec (&req->ref))
    return;
  if (!req->answered)
    gw_ng_request_reply_error (req, "the request was dropped without an "
                                    "answer");
  g_object_unref (req->peer);
  g_free (req->peer_string);
  g_free (req->cookie);
  g_free (req->cache_key);
  g_free (req->command_name);
  if (req->dict != NULL)
    gw_bencode_unref (req->dict);
  g_clear_object (&req->received_from);
  g_ptr_array_unref (req->flags);
  g_free (req);
}

void
gw_ng_request_reply (GwNgRequest *request, GwBencode *reply)
{
  g_return_if_fail (request != NULL);
  g_return_if_fail (reply == NULL ||
                    gw_bencode_get_type (reply) == GW_BENCODE_DICT);
  g_return_if_fail (!request->answered);

  if (reply == NULL)
    reply = gw_bencode_new_dict ();
  if (gw_bencode_dict_lookup (reply, "result") == NULL)
    gw_bencode_dict_set_string (reply, "result", "ok");
  answer (request, reply, NULL);
}

void
gw_ng_request_reply_error (GwNgRequest *request, const char *format, ...)
{
  g_autofree char *raw = NULL;
  g_autofree char *reason = NULL;
  GwBencode *reply;
  va_list ap;

  g_return_if_fail (request != NULL && format != NULL);
  g_return_if_fail (!request->answered);

  va_start (ap, format);
  raw = g_strdup_vprintf (format, ap);
  va_end (ap);
  /* Plain words: a reason that quotes what the client sent (a call-id is
   * any bytes) is text all the same, invalid UTF-8 as U+FFFD (found by
   * fuzz-ng). */
  reason = g_utf8_make_valid (raw, -1);
  reply = gw_bencode_new_dict ();
  gw_bencode_dict_set_string (reply, "result", "error");
  gw_bencode_dict_set_string (reply, "error-reason", reason);
  answer (request, reply, reason);
}

static gboolean flag_equal (const char *a, const char *b);

gboolean
gw_ng_request_supports (GwNgRequest *request, const char *feature)
{
  GwBencode *v;
  guint n;

  g_return_val_if_fail (request != NULL && feature != NULL, FALSE);
  if (request->dict == NULL)
    return FALSE;
  v = gw_bencode_dict_lookup (request->dict, "supports");
  if (v == NULL || gw_bencode_get_type (v) != GW_BENCODE_LIST)
    return FALSE;
  n = gw_bencode_list_get_length (v);
  for (guint i = 0; i < n; i++)
    {
      const char *text = NULL;

      if (gw_bencode_get_text (gw_bencode_list_get (v, i), &text) &&
          text != NULL && flag_equal (text, feature))
        return TRUE;
    }
  return FALSE;
}

void
gw_ng_request_reply_load_limit (GwNgRequest *request, const char *message)
{
  g_autofree char *valid = NULL;
  GwBencode *reply;

  g_return_if_fail (request != NULL && message != NULL);
  g_return_if_fail (!request->answered);
  /* rtpengine (call_offer_get_call(), control_ng.c): the "load limit"
   * result only for a client that says it understands it. */
  if (!gw_ng_request_supports (request, "load limit"))
    {
      gw_ng_request_reply_error (request, "%s", message);
      return;
    }
  reply = gw_bencode_new_dict ();
  gw_bencode_dict_set_string (reply, "result", "load limit");
  valid = g_utf8_make_valid (message, -1);
  gw_bencode_dict_set_string (reply, "message", valid);
  answer (request, reply, NULL);
}

gboolean
gw_ng_request_is_answered (GwNgRequest *request)
{
  g_return_val_if_fail (request != NULL, FALSE);
  return request->answered;
}

GwNgCommand
gw_ng_request_get_command (GwNgRequest *request)
{
  g_return_val_if_fail (request != NULL, GW_NG_COMMAND_PING);
  return request->command;
}

const char *
gw_ng_request_get_cookie (GwNgRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return request->cookie;
}

GSocketAddress *
gw_ng_request_get_peer (GwNgRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return request->peer;
}

const char *
gw_ng_request_get_peer_string (GwNgRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return request->peer_string;
}

const char *
gw_ng_request_get_call_id (GwNgRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return request->call_id;
}

const char *
gw_ng_request_get_from_tag (GwNgRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return request->from_tag;
}

const char *
gw_ng_request_get_to_tag (GwNgRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return request->to_tag;
}

const char *
gw_ng_request_get_via_branch (GwNgRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return request->via_branch;
}

const char *
gw_ng_request_get_sdp (GwNgRequest *request, gsize *len)
{
  g_return_val_if_fail (request != NULL, NULL);
  if (len != NULL)
    *len = request->sdp_len;
  return request->sdp;
}

GInetAddress *
gw_ng_request_get_received_from (GwNgRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return request->received_from;
}

const char *const *
gw_ng_request_get_flags (GwNgRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return (const char *const *) request->flags->pdata;
}

/* rtpengine's reading of a flag: case aside, '-' is ' '. */
static gboolean
flag_equal (const char *a, const char *b)
{
  for (; *a != '\0' && *b != '\0'; a++, b++)
    {
      char ca = *a == '-' ? ' ' : g_ascii_tolower (*a);
      char cb = *b == '-' ? ' ' : g_ascii_tolower (*b);

      if (ca != cb)
        return FALSE;
    }
  return *a == *b;
}

gboolean
gw_ng_request_has_flag (GwNgRequest *request, const char *flag)
{
  g_return_val_if_fail (request != NULL && flag != NULL, FALSE);
  for (guint i = 0; i + 1 < request->flags->len; i++)
    if (flag_equal (g_ptr_array_index (request->flags, i), flag))
      return TRUE;
  return FALSE;
}

GwBencode *
gw_ng_request_get_dict (GwNgRequest *request)
{
  g_return_val_if_fail (request != NULL, NULL);
  return request->dict;
}

/* --- reading a request --------------------------------------------------- */

/* `key` as text: TRUE with *@out NULL when absent; FALSE with *@reason
 * when it is not a string without NUL bytes. */
static gboolean
get_text (GwBencode *dict, const char *key, const char **out, char **reason)
{
  GwBencode *v = gw_bencode_dict_lookup (dict, key);

  *out = NULL;
  if (v == NULL)
    return TRUE;
  if (gw_bencode_get_type (v) != GW_BENCODE_STRING)
    {
      *reason = g_strdup_printf (
          "'%s' is %s %s, not a string", key,
          gw_bencode_get_type (v) == GW_BENCODE_INTEGER ? "an" : "a",
          gw_bencode_type_to_string (gw_bencode_get_type (v)));
      return FALSE;
    }
  if (!gw_bencode_get_text (v, out))
    {
      *reason = g_strdup_printf ("'%s' holds a NUL byte", key);
      return FALSE;
    }
  return TRUE;
}

/* `received from`: [ "IP4"|"IP6", address ], or a bare address. */
static gboolean
read_received_from (GwNgRequest *req, char **reason)
{
  const char *key = "received from";
  GwBencode *v = gw_bencode_dict_lookup (req->dict, key);
  const char *family = NULL, *text = NULL;
  GInetAddress *addr;

  if (v == NULL)
    {
      key = "received-from";
      v = gw_bencode_dict_lookup (req->dict, key);
    }
  if (v == NULL)
    return TRUE;
  if (gw_bencode_get_type (v) == GW_BENCODE_LIST)
    {
      if (gw_bencode_list_get_length (v) != 2 ||
          !gw_bencode_get_text (gw_bencode_list_get (v, 0), &family) ||
          !gw_bencode_get_text (gw_bencode_list_get (v, 1), &text))
        {
          *reason = g_strdup_printf ("'%s' is not a list of two strings, an "
                                     "address family and an address",
                                     key);
          return FALSE;
        }
      if (g_ascii_strcasecmp (family, "IP4") != 0 &&
          g_ascii_strcasecmp (family, "IP6") != 0)
        {
          g_autofree char *q = quote (family, strlen (family));

          *reason =
              g_strdup_printf ("'%s': address family '%s' is neither IP4 "
                               "nor IP6",
                               key, q);
          return FALSE;
        }
    }
  else if (!gw_bencode_get_text (v, &text))
    {
      *reason = g_strdup_printf ("'%s' is neither a list nor an address", key);
      return FALSE;
    }
  addr = g_inet_address_new_from_string (text);
  if (addr == NULL)
    {
      g_autofree char *q = quote (text, strlen (text));

      *reason = g_strdup_printf ("'%s': '%s' is not an IP address", key, q);
      return FALSE;
    }
  if (family != NULL)
    {
      GSocketFamily want = g_ascii_strcasecmp (family, "IP4") == 0
                               ? G_SOCKET_FAMILY_IPV4
                               : G_SOCKET_FAMILY_IPV6;

      if (g_inet_address_get_family (addr) != want)
        {
          g_autofree char *q = quote (text, strlen (text));

          *reason =
              g_strdup_printf ("'%s': '%s' is not an %s address", key, q,
                               want == G_SOCKET_FAMILY_IPV4 ? "IPv4" : "IPv6");
          g_object_unref (addr);
          return FALSE;
        }
    }
  req->received_from = addr;
  return TRUE;
}

static gboolean
read_flags (GwNgRequest *req, char **reason)
{
  GwBencode *v = gw_bencode_dict_lookup (req->dict, "flags");
  guint n;

  if (v == NULL)
    return TRUE;
  if (gw_bencode_get_type (v) != GW_BENCODE_LIST)
    {
      *reason = g_strdup_printf (
          "'flags' is a %s, not a list",
          gw_bencode_type_to_string (gw_bencode_get_type (v)));
      return FALSE;
    }
  n = gw_bencode_list_get_length (v);
  g_ptr_array_set_size (req->flags, 0);
  for (guint i = 0; i < n; i++)
    {
      GwBencode *item = gw_bencode_list_get (v, i);
      const char *text;

      if (gw_bencode_get_type (item) != GW_BENCODE_STRING)
        {
          *reason = g_strdup_printf (
              "'flags' item %u is a%s %s, not a string", i + 1,
              gw_bencode_get_type (item) == GW_BENCODE_INTEGER ? "n" : "",
              gw_bencode_type_to_string (gw_bencode_get_type (item)));
          return FALSE;
        }
      if (!gw_bencode_get_text (item, &text))
        {
          *reason =
              g_strdup_printf ("'flags' item %u holds a NUL byte", i + 1);
          return FALSE;
        }
      g_ptr_array_add (req->flags, (gpointer) text);
    }
  g_ptr_array_add (req->flags, NULL);
  return TRUE;
}

/* The keys every command may carry, and those it needs. */
static gboolean
read_keys (GwNgRequest *req, char **reason)
{
  static const struct
  {
    const char *key;
    gsize offset;
  } texts[] = {
    { "call-id", G_STRUCT_OFFSET (GwNgRequest, call_id) },
    { "from-tag", G_STRUCT_OFFSET (GwNgRequest, from_tag) },
    { "to-tag", G_STRUCT_OFFSET (GwNgRequest, to_tag) },
    { "via-branch", G_STRUCT_OFFSET (GwNgRequest, via_branch) },
    { "sdp", G_STRUCT_OFFSET (GwNgRequest, sdp) },
  };
  const char *missing = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    if (!get_text (req->dict, texts[i].key,
                   G_STRUCT_MEMBER_P (req, texts[i].offset), reason))
      return FALSE;
  if (req->sdp != NULL)
    req->sdp_len = strlen (req->sdp);
  if (!read_received_from (req, reason) || !read_flags (req, reason))
    return FALSE;

  switch (req->command)
    {
    case GW_NG_COMMAND_ANSWER:
      if (req->to_tag == NULL)
        missing = "to-tag";
      G_GNUC_FALLTHROUGH;
    case GW_NG_COMMAND_OFFER:
      if (req->sdp == NULL)
        missing = "sdp";
      if (req->from_tag == NULL)
        missing = "from-tag";
      G_GNUC_FALLTHROUGH;
    case GW_NG_COMMAND_DELETE:
    case GW_NG_COMMAND_QUERY:
      if (req->call_id == NULL)
        missing = "call-id";
      break;
    case GW_NG_COMMAND_PING:
    case GW_NG_COMMAND_LIST:
    case GW_NG_COMMAND_STATISTICS:
      break;
    }
  if (missing != NULL)
    {
      *reason = g_strdup_printf ("no '%s' in the %s", missing,
                                 gw_ng_command_to_string (req->command));
      return FALSE;
    }
  return TRUE;
}

/* Decode the dictionary after the cookie and read what every command
 * shares.  FALSE with *@reason for the error reply. */
static gboolean
read_request (GwNgRequest *req, const char *body, gsize len, char **reason)
{
  GwNgServer *server = req->server;
  GwBencodeDecodeOptions opts = {
    .max_depth = server->options.max_depth,
    .max_values = server->options.max_values,
  };
  g_autoptr (GError) error = NULL;
  GwBencode *command;
  const char *name;
  gsize i;

  /* Trailing blanks and line ends, as `echo ... | nc -u` leaves them. */
  while (len > 0 && g_ascii_isspace (body[len - 1]))
    len--;
  if (len == 0)
    {
      *reason = g_strdup ("no dictionary after the cookie");
      return FALSE;
    }
  if (body[0] == '{')
    {
      *reason = g_strdup ("JSON messages are not supported; send a bencoded "
                          "dictionary");
      return FALSE;
    }
  req->dict = gw_bencode_decode (body, len, &opts, NULL, &error);
  if (req->dict == NULL)
    {
      *reason = g_strdup_printf ("malformed bencode: %s", error->message);
      return FALSE;
    }
  if (gw_bencode_get_type (req->dict) != GW_BENCODE_DICT)
    {
      *reason = g_strdup_printf (
          "the message is a%s %s, not a dictionary",
          gw_bencode_get_type (req->dict) == GW_BENCODE_INTEGER ? "n" : "",
          gw_bencode_type_to_string (gw_bencode_get_type (req->dict)));
      return FALSE;
    }
  command = gw_bencode_dict_lookup (req->dict, "command");
  if (command == NULL)
    {
      *reason = g_strdup ("no 'command' in the message");
      return FALSE;
    }
  if (gw_bencode_get_type (command) != GW_BENCODE_STRING)
    {
      *reason = g_strdup_printf (
          "'command' is a%s %s, not a string",
          gw_bencode_get_type (command) == GW_BENCODE_INTEGER ? "n" : "",
          gw_bencode_type_to_string (gw_bencode_get_type (command)));
      return FALSE;
    }
  {
    gsize name_len;

    name = gw_bencode_get_string (command, &name_len);
    req->command_name = quote (name, name_len);
    for (i = 0; i < G_N_ELEMENTS (command_names); i++)
      if (strlen (command_names[i]) == name_len &&
          memcmp (command_names[i], name, name_len) == 0)
        break;
  }
  /* call_id is read first so that an error reply logs it. */
  {
    g_autofree char *ignored = NULL;

    get_text (req->dict, "call-id", &req->call_id, &ignored);
  }
  if (i == G_N_ELEMENTS (command_names))
    {
      *reason = g_strdup_printf ("unknown command '%s'", req->command_name);
      return FALSE;
    }
  req->command = (GwNgCommand) i;
  return read_keys (req, reason);
}

/* A request from @peer (@ss natively) with @cookie, in the cache under
 * @key while it is being handled. */
static GwNgRequest *
request_new (Sock *sock, const struct sockaddr_storage *ss, socklen_t ss_len,
             GSocketAddress *peer, const char *peer_string, const char *cookie,
             const char *key, gint64 received)
{
  GwNgServer *server = sock->server;
  GwNgRequest *req = g_new0 (GwNgRequest, 1);
  CacheEntry *e = g_new0 (CacheEntry, 1);

  g_ref_count_init (&req->ref);
  req->server = server;
  req->sock = sock;
  memcpy (&req->peer_native, ss, ss_len);
  req->peer_len = ss_len;
  req->peer = g_object_ref (peer);
  req->peer_string = g_strdup (peer_string);
  req->cookie = g_strdup (cookie);
  req->cache_key = g_strdup (key);
  req->received = received;
  req->flags = g_ptr_array_new ();
  g_ptr_array_add (req->flags, NULL);

  e->key = g_strdup (key);
  e->link.data = e;
  g_hash_table_insert (server->cache, e->key, e);
  g_hash_table_add (server->requests, req);
  return req;
}

static void
dispatch (GwNgRequest *req)
{
  GwNgServer *server = req->server;
  void (*fn) (GwNgRequest *, gpointer) = NULL;

  server->stats.requests++;
  server->stats.commands[req->command].requests++;
  req->dispatched = TRUE;
  log_request (req);
  switch (req->command)
    {
    case GW_NG_COMMAND_PING:
      {
        GwBencode *reply = gw_bencode_new_dict ();

        gw_bencode_dict_set_string (reply, "result", "pong");
        gw_ng_request_reply (req, reply);
      }
      return;
    case GW_NG_COMMAND_OFFER:
      fn = server->handler.offer;
      break;
    case GW_NG_COMMAND_ANSWER:
      fn = server->handler.answer;
      break;
    case GW_NG_COMMAND_DELETE:
      fn = server->handler.delete;
      break;
    case GW_NG_COMMAND_QUERY:
      fn = server->handler.query;
      break;
    case GW_NG_COMMAND_LIST:
      fn = server->handler.list;
      break;
    case GW_NG_COMMAND_STATISTICS:
      fn = server->handler.statistics;
      break;
    }
  if (fn == NULL)
    {
      gw_ng_request_reply_error (req, "command '%s' is not supported",
                                 gw_ng_command_to_string (req->command));
      return;
    }
  /* This request is already counted in pending. */
  if (g_hash_table_size (server->requests) > server->options.max_pending)
    {
      gw_ng_request_reply_error (req, "too many requests in progress (%u)",
                                 server->options.max_pending);
      return;
    }
  fn (req, server->user_data);
}

/* One datagram of @len bytes (only the first max_request_bytes + 1 of
 * which are at @data when it is longer). */
/* The cookie: printable ASCII up to the first space, in the first
 * AVAIL bytes of DATA.  Returns the space after it, or NULL with *WHY
 * set. */
static const char *
find_cookie (const char *data, gsize avail, char **why)
{
  const char *space =
      memchr (data, ' ', MIN (avail, (gsize) GW_NG_COOKIE_MAX + 1));

  if (space == data)
    {
      *why = g_strdup ("the cookie is empty");
      return NULL;
    }
  if (space == NULL)
    {
      *why =
          avail > GW_NG_COOKIE_MAX
              ? g_strdup_printf ("no space in the first %d bytes: no cookie",
                                 GW_NG_COOKIE_MAX + 1)
              : g_strdup ("no space: no cookie");
      return NULL;
    }
  for (const char *p = data; p < space; p++)
    if ((guchar) *p <= 0x20 || (guchar) *p >= 0x7f)
      {
        *why = g_strdup_printf ("the cookie holds byte 0x%02x", (guchar) *p);
        return NULL;
      }
  return space;
}

/* A retransmission is answered as the first time, or not at all while
 * the first is being handled. */
static void
answer_retransmission (Sock *sock, const struct sockaddr_storage *ss,
                       socklen_t ss_len, CacheEntry *e,
                       const char *peer_string, const char *cookie, gsize len)
{
  GwNgServer *server = sock->server;
  g_autoptr (GwLogEvent) ev = NULL;
  g_autofree char *failure = NULL;

  if (e->reply != NULL)
    {
      failure = send_to (sock, ss, ss_len, e->reply);
      server->stats.retransmissions++;
      log_cached (peer_string, cookie);
      if (failure != NULL)
        log_dropped (server, peer_string, len, failure);
      return;
    }
  server->stats.dropped++;
  ev = gw_log_event_new (G_LOG_LEVEL_DEBUG, "control_request");
  gw_log_event_add_str (ev, "cookie", cookie);
  gw_log_event_add_str (ev, "from", peer_string);
  gw_log_event_add_bool (ev, "in_progress", TRUE);
  gw_log_event_emit (ev,
                     "retransmission from %s (cookie %s) of a request still "
                     "in progress: not answered",
                     peer_string, cookie);
}

static void
handle_datagram (Sock *sock, const struct sockaddr_storage *ss,
                 socklen_t ss_len, const char *data, gsize len)
{
  GwNgServer *server = sock->server;
  gsize avail = MIN (len, server->options.max_request_bytes + 1);
  gint64 received = now (server);
  g_autoptr (GSocketAddress) peer = NULL;
  g_autofree char *peer_string = NULL;
  g_autofree char *cookie = NULL;
  g_autofree char *key = NULL;
  g_autofree char *why = NULL;
  g_autoptr (GwNgRequest) req = NULL;
  const char *space;
  gsize cookie_len;
  CacheEntry *e;

  server->stats.datagrams++;
  peer = g_socket_address_new_from_native ((gpointer) ss, ss_len);
  if (peer == NULL || !G_IS_INET_SOCKET_ADDRESS (peer))
    {
      log_dropped (server, "?", len,
                   "the sender's address is not an IP address");
      return;
    }
  peer_string = net_addr_to_string (peer);
  space = find_cookie (data, avail, &why);
  if (space == NULL)
    {
      log_dropped (server, peer_string, len, why);
      return;
    }
  cookie_len = (gsize) (space - data);
  cookie = g_strndup (data, cookie_len);

  cache_prune (server, now (server));
  key = g_strdup_printf ("%s %s", peer_string, cookie);
  e = g_hash_table_lookup (server->cache, key);
  if (e != NULL)
    {
      answer_retransmission (sock, ss, ss_len, e, peer_string, cookie, len);
      return;
    }

  req =
      request_new (sock, ss, ss_len, peer, peer_string, cookie, key, received);
  if (len > server->options.max_request_bytes)
    {
      gw_ng_request_reply_error (
          req,
          "the message of %" G_GSIZE_FORMAT
          " bytes is longer than the limit of %" G_GSIZE_FORMAT " bytes",
          len, server->options.max_request_bytes);
      return;
    }
  if (!read_request (req, space + 1, len - cookie_len - 1, &why))
    {
      gw_ng_request_reply_error (req, "%s", why);
      return;
    }
  dispatch (req);
}

static gboolean
on_readable (gint fd, GIOCondition condition, gpointer user_data)
{
  Sock *sock = user_data;
  GwNgServer *server = sock->server;

  for (guint i = 0; i < READS_PER_WAKE; i++)
    {
      struct sockaddr_storage ss;
      struct iovec iov = {
        .iov_base = server->buffer,
        .iov_len = server->options.max_request_bytes + 1,
      };
      struct msghdr msg = {
        .msg_name = &ss,
        .msg_namelen = sizeof ss,
        .msg_iov = &iov,
        .msg_iovlen = 1,
      };
      /* MSG_TRUNC: the real length of a datagram longer than the buffer
       * (Linux, for datagram sockets). */
      ssize_t n = recvmsg (fd, &msg, MSG_TRUNC);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          break; /* EAGAIN; or an error that reading again will not mend */
        }
      handle_datagram (sock, &ss, msg.msg_namelen,
                       (const char *) server->buffer, (gsize) n);
    }
  return G_SOURCE_CONTINUE;
}

/* --- the server ---------------------------------------------------------- */

static void
sock_free (gpointer p)
{
  Sock *sock = p;

  if (sock->watch != NULL)
    {
      g_source_destroy (sock->watch);
      g_source_unref (sock->watch);
    }
  if (sock->fd >= 0)
    close (sock->fd);
  g_free (sock->address_string);
  g_free (sock);
}

/* Bind a UDP socket to @address; its bound address in *@bound. */
static int
bind_socket (GSocketAddress *address, GSocketAddress **bound, GError **error)
{
  struct sockaddr_storage ss;
  socklen_t len;
  g_autofree char *want = NULL;
  int one = 1;
  int fd = -1;
  int err;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    {
      g_set_error (error, GW_NG_ERROR, GW_NG_ERROR_INVALID,
                   "a control address is not an IP address and port");
      return -1;
    }
  want = net_addr_to_string (address);
  len = (socklen_t) g_socket_address_get_native_size (address);
  if (!g_socket_address_to_native (address, &ss, sizeof ss, error))
    return -1;
  fd = socket (ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
               IPPROTO_UDP);
  if (fd < 0)
    goto fail_errno;
  if (ss.ss_family == AF_INET6 &&
      setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
    goto fail_errno;
  if (bind (fd, (struct sockaddr *) &ss, len) < 0)
    goto fail_errno;
  len = sizeof ss;
  if (getsockname (fd, (struct sockaddr *) &ss, &len) < 0)
    goto fail_errno;
  *bound = g_socket_address_new_from_native (&ss, len);
  return fd;

fail_errno:
  err = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
               "cannot bind the control socket %s: %s", want,
               g_strerror (err));
  if (fd >= 0)
    close (fd);
  return -1;
}

GwNgServer *
gw_ng_server_new (GPtrArray *addresses, const GwNgOptions *options,
                  const GwNgHandler *handler, gpointer user_data,
                  GDestroyNotify destroy, GError **error)
{
  g_autoptr (GwNgServer) server = NULL;
  GwNgOptions *o;

  g_return_val_if_fail (addresses != NULL && handler != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  server = g_new0 (GwNgServer, 1);
  server->handler = *handler;
  server->context = g_main_context_ref_thread_default ();
  server->loop = net_loop_ref (net_loop_get_default ());
  server->sockets = g_ptr_array_new_with_free_func (sock_free);
  server->addresses = g_ptr_array_new_with_free_func (g_object_unref);
  server->cache =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, cache_entry_free);
  server->requests = g_hash_table_new (NULL, NULL);
  g_queue_init (&server->order);

  o = &server->options;
  if (options != NULL)
    *o = *options;
  if (o->max_request_bytes == 0)
    o->max_request_bytes = DEFAULT_MAX_REQUEST;
  if (o->cache_ttl_ms == 0)
    o->cache_ttl_ms = DEFAULT_CACHE_TTL_MS;
  if (o->cache_max_entries == 0)
    o->cache_max_entries = DEFAULT_CACHE_MAX_ENTRIES;
  if (o->cache_max_bytes == 0)
    o->cache_max_bytes = DEFAULT_CACHE_MAX_BYTES;
  if (o->max_pending == 0)
    o->max_pending = DEFAULT_MAX_PENDING;
  if (o->max_depth == 0)
    o->max_depth = DEFAULT_MAX_DEPTH;
  if (o->max_values == 0)
    o->max_values = DEFAULT_MAX_VALUES;
  server->buffer = g_malloc (o->max_request_bytes + 1);

  for (guint i = 0; i < addresses->len; i++)
    {
      GSocketAddress *bound = NULL;
      int fd = bind_socket (addresses->pdata[i], &bound, error);
      Sock *sock;

      if (fd < 0)
        return NULL;
      sock = g_new0 (Sock, 1);
      sock->server = server;
      sock->fd = fd;
      sock->address_string = net_addr_to_string (bound);
      g_ptr_array_add (server->sockets, sock);
      g_ptr_array_add (server->addresses, bound);
    }

  /* Only now, with every socket bound, does anything start. */
  for (guint i = 0; i < server->sockets->len; i++)
    {
      Sock *sock = server->sockets->pdata[i];
      g_autoptr (GwLogEvent) ev =
          gw_log_event_new (G_LOG_LEVEL_INFO, "control_up");

      sock->watch = g_unix_fd_source_new (sock->fd, G_IO_IN);
      g_source_set_callback (sock->watch,
                             (GSourceFunc) (void (*) (void)) on_readable, sock,
                             NULL);
      g_source_set_static_name (sock->watch, "gw-ng");
      g_source_attach (sock->watch, server->context);
      gw_log_event_add_str (ev, "proto", "ng");
      gw_log_event_add_str (ev, "addr", sock->address_string);
      gw_log_event_emit (ev, "listening for ng control requests on %s",
                         sock->address_string);
    }
  server->user_data = user_data;
  server->destroy = destroy;
  return g_steal_pointer (&server);
}

void
gw_ng_server_free (GwNgServer *server)
{
  GHashTableIter iter;
  gpointer req;

  if (server == NULL)
    return;
  /* Requests the handler still holds answer into the void. */
  g_hash_table_iter_init (&iter, server->requests);
  while (g_hash_table_iter_next (&iter, &req, NULL))
    {
      ((GwNgRequest *) req)->server = NULL;
      ((GwNgRequest *) req)->sock = NULL;
    }
  g_hash_table_unref (server->requests);
  g_ptr_array_unref (server->sockets);
  g_ptr_array_unref (server->addresses);
  g_hash_table_unref (server->cache);
  g_free (server->buffer);
  g_main_context_unref (server->context);
  net_loop_unref (server->loop);
  if (server->destroy != NULL)
    server->destroy (server->user_data);
  g_free (server);
}

GPtrArray *
gw_ng_server_get_addresses (GwNgServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);
  return server->addresses;
}

void
gw_ng_server_get_stats (GwNgServer *server, GwNgStats *stats)
{
  g_return_if_fail (server != NULL && stats != NULL);
  *stats = server->stats;
  stats->cache_entries = server->order.length;
  stats->cache_bytes = server->cache_bytes;
  stats->pending = g_hash_table_size (server->requests);
}
