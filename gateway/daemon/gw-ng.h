/* gw-ng.h: the control plane, rtpengine's ng protocol over UDP.
 *
 * Each datagram is a cookie, one space and a bencoded dictionary
 * (gw-bencode.h); the reply is the same cookie, a space and the reply
 * dictionary.  The request's `command` picks what is done:
 *
 *   ping         answered here: { "result": "pong" }
 *   offer        needs `call-id`, `from-tag`, `sdp`
 *   answer       needs `call-id`, `from-tag`, `to-tag`, `sdp`
 *   delete       needs `call-id`
 *   query        needs `call-id`
 *   list, statistics
 *
 * Everything but ping goes to a GwNgHandler (the negotiator) with the
 * request parsed: `call-id`, `from-tag`, `to-tag`, `via-branch` and `sdp`
 * as text, `received from` (rtpengine spells it with a space or a hyphen;
 * a list [ "IP4"|"IP6", address ] or a bare address) as a GInetAddress,
 * and `flags` (a list of strings).  A known key of the wrong form is an
 * error; unknown keys are ignored, as rtpengine does, and stay reachable
 * through gw_ng_request_get_dict().
 *
 * Replies are dictionaries with `result` "ok" (and an optional
 * `warning`), "pong", "load limit" with a `message` (a new call refused,
 * gw_ng_request_reply_load_limit()), or "error" with an `error-reason` in
 * plain words, e.g. "unknown command 'frobnicate'".  A datagram whose cookie
 * cannot be read (no space, an empty cookie, one longer than GW_NG_COOKIE_MAX
 * or holding bytes other than printable ASCII) is dropped with a control_error
 * event: it cannot be answered.
 *
 * Retransmissions: every reply is kept in a cache keyed by the sender's
 * address and the cookie, for GwNgOptions.cache_ttl_ms and within a
 * bounded number of entries and bytes.  A request whose cookie is in the
 * cache is answered with the cached reply and not executed again; one
 * whose cookie belongs to a request still being handled is dropped (its
 * reply is on the way).  The sender's address is part of the key
 * because cookies are not unique across proxies (Kamailio's are
 * "pid_rand_seq"), so one proxy never gets another's reply.
 *
 * Requests are counted by command, with the time from the datagram's
 * arrival to the reply's sending on the data plane loop's clock
 * (net_loop_now()) in a histogram per command (gw_ng_server_get_stats()).
 *
 * Log events (gw-log.h): control_up (one per socket), control_request
 * (command, call_id, cookie, from; `cached` when answered from the
 * cache; ping at debug level), control_error (reason, cookie, from, and
 * command and call_id when known; at most GW_NG_ERROR_LINES_PER_S a
 * second, the first line after a cut carrying `suppressed`, the number
 * left out).
 *
 * Everything runs on the thread-default main context of the thread that
 * made the server; nothing blocks.
 */
#pragma once

#include <gio/gio.h>

#include "gw-bencode.h"

G_BEGIN_DECLS

#define GW_NG_ERROR (gw_ng_error_quark ())
GQuark gw_ng_error_quark (void);

typedef enum
{
  GW_NG_ERROR_INVALID, /* an address that cannot be used */
} GwNgError;

/* The longest cookie answered, in bytes. */
#define GW_NG_COOKIE_MAX 128
/* The largest datagram that can carry a reply (IPv4 UDP payload). */
#define GW_NG_REPLY_MAX 65507
/* control_error lines a second at most. */
#define GW_NG_ERROR_LINES_PER_S 20

typedef enum
{
  GW_NG_COMMAND_PING,
  GW_NG_COMMAND_OFFER,
  GW_NG_COMMAND_ANSWER,
  GW_NG_COMMAND_DELETE,
  GW_NG_COMMAND_QUERY,
  GW_NG_COMMAND_LIST,
  GW_NG_COMMAND_STATISTICS,
} GwNgCommand;

#define GW_NG_N_COMMANDS (GW_NG_COMMAND_STATISTICS + 1)

/* "ping", "offer", ...: the name on the wire. */
const char *gw_ng_command_to_string (GwNgCommand command);

typedef struct
{
  /* The largest request read, in bytes (cookie included); a longer one
   * gets an error reply.  0: 65535. */
  gsize max_request_bytes;
  /* How long a reply stays in the cache; 0: 30000. */
  guint cache_ttl_ms;
  /* At most this many cached replies, and this many bytes of them; the
   * oldest go first.  0: 4096 entries, 16 MiB. */
  guint cache_max_entries;
  gsize cache_max_bytes;
  /* At most this many requests handed to the handler and not answered
   * yet; more get an error reply.  0: 256. */
  guint max_pending;
  /* Bencode limits for a request dictionary; 0: 16 levels, 4096
   * values. */
  guint max_depth;
  guint max_values;
} GwNgOptions;

typedef struct _GwNgServer GwNgServer;
typedef struct _GwNgRequest GwNgRequest;

/* What the negotiator implements.  Each function is called on the
 * server's main context with a request that it answers exactly once,
 * with gw_ng_request_reply() or gw_ng_request_reply_error(): at once,
 * or later after taking a reference (gw_ng_request_ref()).  A request
 * whose last reference goes without an answer is answered with an error
 * ("the request was dropped without an answer").  A NULL function
 * answers its command with "command 'x' is not supported". */
typedef struct
{
  void (*offer) (GwNgRequest *request, gpointer user_data);
  void (*answer) (GwNgRequest *request, gpointer user_data);
  void (*delete) (GwNgRequest *request, gpointer user_data);
  void (*query) (GwNgRequest *request, gpointer user_data);
  void (*list) (GwNgRequest *request, gpointer user_data);
  void (*statistics) (GwNgRequest *request, gpointer user_data);
} GwNgHandler;

/* A server on every address of @addresses (GSocketAddress, e.g.
 * GwConfig.listen_control; port 0 picks a free port), IPv4 and IPv6
 * (IPv6 sockets are IPv6 only).  @handler is copied; @user_data goes to
 * its functions and @destroy (nullable) is called on it when the server
 * is freed.  @options NULL: the defaults.  Emits control_up for each
 * socket.
 * Returns: (transfer full) (nullable): NULL with @error (G_IO_ERROR)
 * naming the address when a socket cannot be bound; no socket stays
 * open then. */
G_GNUC_WARN_UNUSED_RESULT
GwNgServer *gw_ng_server_new (GPtrArray *addresses, const GwNgOptions *options,
                              const GwNgHandler *handler, gpointer user_data,
                              GDestroyNotify destroy, GError **error);

/* Close the sockets and free the server.  Requests still held by the
 * handler stay valid, but their answers go nowhere.  Not to be called
 * from inside a GwNgHandler function. */
void gw_ng_server_free (GwNgServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwNgServer, gw_ng_server_free)

/* The bound addresses, in the order given (with the ports picked).
 * (transfer none): GPtrArray of GSocketAddress. */
GPtrArray *gw_ng_server_get_addresses (GwNgServer *server);

/* The upper bounds of the latency histogram's buckets, in microseconds:
 * from 100 us (a ping, a delete) to 10 s (an offer or answer waits up to
 * 5 s for the gateway's ICE candidates). */
#define GW_NG_LATENCY_BUCKETS 16
extern const gint64 gw_ng_latency_bounds_us[GW_NG_LATENCY_BUCKETS];

typedef struct
{
  guint64 requests; /* dispatched: read whole and handed on (or answered
                     * here: ping, and the refusals of dispatch) */
  guint64 answered; /* of them, answered: the histogram's count */
  guint64 sum_us;   /* their latencies, added up */
  /* answered within gw_ng_latency_bounds_us[i], cumulative as Prometheus
   * buckets are */
  guint64 le[GW_NG_LATENCY_BUCKETS];
} GwNgCommandStats;

typedef struct
{
  guint64 datagrams;       /* read */
  guint64 requests;        /* dispatched (ping included) */
  guint64 retransmissions; /* answered from the cache */
  guint64 errors;          /* error replies sent */
  guint64 dropped;         /* not answered: no cookie, or in progress */
  guint cache_entries;     /* replies cached now */
  gsize cache_bytes;
  guint pending; /* requests with the handler now */
  GwNgCommandStats commands[GW_NG_N_COMMANDS]; /* by GwNgCommand */
} GwNgStats;

void gw_ng_server_get_stats (GwNgServer *server, GwNgStats *stats);

/* --- requests ------------------------------------------------------------ */

GwNgRequest *gw_ng_request_ref (GwNgRequest *request);
void gw_ng_request_unref (GwNgRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwNgRequest, gw_ng_request_unref)

GwNgCommand gw_ng_request_get_command (GwNgRequest *request);
/* The cookie (printable ASCII).  (transfer none) */
const char *gw_ng_request_get_cookie (GwNgRequest *request);
/* Who sent it.  (transfer none) */
GSocketAddress *gw_ng_request_get_peer (GwNgRequest *request);
/* The same as "127.0.0.1:5060" / "[::1]:5060".  (transfer none) */
const char *gw_ng_request_get_peer_string (GwNgRequest *request);

/* The text of `call-id`, `from-tag`, `to-tag`, `via-branch`, or NULL when
 * absent.  (transfer none) */
const char *gw_ng_request_get_call_id (GwNgRequest *request);
const char *gw_ng_request_get_from_tag (GwNgRequest *request);
const char *gw_ng_request_get_to_tag (GwNgRequest *request);
const char *gw_ng_request_get_via_branch (GwNgRequest *request);
/* The SDP (no NUL bytes), or NULL; @len (out) (optional).
 * (transfer none) */
const char *gw_ng_request_get_sdp (GwNgRequest *request, gsize *len);
/* `received from`, or NULL when absent.  (transfer none) */
GInetAddress *gw_ng_request_get_received_from (GwNgRequest *request);

/* The `flags`, in order; never NULL.  (transfer none): NULL-terminated. */
const char *const *gw_ng_request_get_flags (GwNgRequest *request);
/* Whether `flags` holds @flag, compared as rtpengine does: ASCII case
 * ignored and '-' equal to ' ' ("trust-address" is "trust address"). */
gboolean gw_ng_request_has_flag (GwNgRequest *request, const char *flag);

/* The whole request dictionary, for keys not parsed here.
 * (transfer none) */
GwBencode *gw_ng_request_get_dict (GwNgRequest *request);

/* Answer with @reply (a dictionary; (transfer full), NULL: an empty
 * one).  Its `result` is set to "ok" unless it has one.  A reply too
 * large for a datagram is replaced by an error. */
void gw_ng_request_reply (GwNgRequest *request, GwBencode *reply);
/* Whether the request's `supports` list (strings) holds @feature, as
 * Kamailio's rtpengine module announces "load limit". */
gboolean gw_ng_request_supports (GwNgRequest *request, const char *feature);

/* Refuse a new call as rtpengine does when it is at its limit: when the
 * request says `supports: ["load limit"]`, { "result": "load limit",
 * "message": @message }, after which Kamailio's rtpengine module tries the
 * next node of its set; otherwise (an older client that would not know the
 * result) { "result": "error", "error-reason": @message }.  Not counted as
 * an error reply when it is a load limit. */
void gw_ng_request_reply_load_limit (GwNgRequest *request,
                                     const char *message);

/* Answer { "result": "error", "error-reason": the formatted text }, made
 * valid UTF-8 (what it quotes of the request may not be). */
void gw_ng_request_reply_error (GwNgRequest *request, const char *format, ...)
    G_GNUC_PRINTF (2, 3);
/* Whether the request was answered. */
gboolean gw_ng_request_is_answered (GwNgRequest *request);

G_END_DECLS
