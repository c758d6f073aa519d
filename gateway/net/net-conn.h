/* net-conn.h: one non-blocking stream connection on the data plane's loop.
 *
 * A NetConn carries an MSRP byte stream (RFC 4975 section 6, RFC 4976) over
 * TCP, TLS over TCP, or any pollable GIOStream (an ICE-TCP pair); the byte
 * stream sits on a small transport vtable, and TLS is a layer over any of
 * them.  It is made from an accepted socket (net_conn_new_accepted(),
 * usually through a NetListener) or by connecting (net_conn_connect()), and
 * runs on the NetLoop of the thread-default main context of the thread
 * that made it (net-loop.h): its socket is one entry of the loop's epoll
 * set and its deadlines one timer of the loop's heap, so an idle
 * connection costs no work per turn, and its clock is the loop's.
 *
 * The owner sets callbacks and then hears from the connection only from that
 * main context, never from inside a net_conn_*() call:
 *
 *   on_connected  TCP connected and TLS handshake done; writes queued before
 *                 are sent from now on;
 *   on_data       bytes received: parse them in place, they are valid only
 *                 during the call;
 *   on_drained    the write queue, once congested, fell to the low watermark;
 *   on_closed     once, with the reason; no callback follows it.
 *
 * Writes queue GBytes without copying them; the queue goes out at the end
 * of the loop's turn, as much as the socket takes.  The owner does the flow
 * control: when a connection it writes to is congested
 * (net_conn_is_congested()), it pauses reading on the connection the bytes
 * come from (net_conn_pause_reading()) and resumes it from on_drained.  While
 * reading is paused nothing is read from the socket, so the kernel's window
 * closes and the sender slows down.
 *
 * Any callback may drop the owner's last reference or close the connection:
 * the connection holds a reference of its own while it calls out.
 */
#pragma once

#include <gio/gio.h>
#include "net-tls.h"

G_BEGIN_DECLS

#define NET_CONN_ERROR (net_conn_error_quark ())
GQuark net_conn_error_quark (void);

/* Why a connection closed: the code of the NET_CONN_ERROR that on_closed
 * receives. */
typedef enum
{
  NET_CONN_CLOSED_PEER,           /* the peer closed (EOF, TLS close_notify) */
  NET_CONN_CLOSED_RESET,          /* reset by the peer, or a socket error */
  NET_CONN_CLOSED_CONNECT_FAILED, /* connect failed: no route, host
                                   * unreachable, reset */
  NET_CONN_CLOSED_REFUSED,        /* connect refused: the peer answered
                                   * with a RST (ECONNREFUSED), which
                                   * proves the address is reachable, or
                                   * that a NAT or firewall answers for it */
  NET_CONN_CLOSED_TIMEOUT,        /* connect, TLS handshake or graceful
                                   * close took longer than allowed */
  NET_CONN_CLOSED_IDLE,           /* no byte either way for the idle time */
  NET_CONN_CLOSED_TLS,            /* TLS handshake failed (version,
                                   * certificate, name) or the peer broke
                                   * the TLS protocol */
  NET_CONN_CLOSED_LOCAL,          /* net_conn_close() finished */
  NET_CONN_CLOSED_DEAD,           /* the peer stopped answering: the TCP
                                   * keep-alive probes, or data sent, went
                                   * unacknowledged for as long as the
                                   * options allow (ETIMEDOUT) */
} NetConnCloseReason;

/* A stable lower_snake_case name for the log stream: "peer_closed",
 * "reset", "connect_failed", "refused", "timeout", "idle", "tls",
 * "local", "dead". */
const char *net_conn_close_reason_to_string (NetConnCloseReason reason);

typedef enum
{
  NET_CONN_STATE_CONNECTING,  /* TCP connect in progress */
  NET_CONN_STATE_HANDSHAKING, /* TLS handshake in progress */
  NET_CONN_STATE_OPEN,
  NET_CONN_STATE_CLOSING, /* net_conn_close(): flushing, then shutdown */
  NET_CONN_STATE_CLOSED,
} NetConnState;

#define NET_CONN_DEFAULT_HIGH_WATERMARK (256 * 1024)
#define NET_CONN_DEFAULT_LOW_WATERMARK (64 * 1024)
#define NET_CONN_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define NET_CONN_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define NET_CONN_DEFAULT_CLOSE_TIMEOUT_MS 5000

/* Settings of a connection; a zero field takes the default.  A NULL
 * options pointer means all defaults. */
typedef struct
{
  gsize high_watermark; /* queued bytes that make it congested */
  gsize low_watermark;  /* queued bytes at which on_drained is called;
                         * lowered to high_watermark / 2 if not
                         * below it */
  guint connect_timeout_ms;
  guint handshake_timeout_ms;
  guint close_timeout_ms; /* net_conn_close(): flush and shutdown */
  guint idle_timeout_ms;  /* 0: none; not counted while reading is
                           * paused, nor while exempt
                           * (net_conn_set_idle_exempt()) */
  /* TCP keep-alives (SO_KEEPALIVE), sockets only: a probe after
   * @keepalive_idle_s seconds without a byte from the peer
   * (TCP_KEEPIDLE; 0: no keep-alives), again every @keepalive_interval_s
   * (TCP_KEEPINTVL) while unanswered; the connection is dead after
   * @keepalive_count unanswered probes (TCP_KEEPCNT).  A zero interval
   * or count takes the kernel's. */
  guint keepalive_idle_s;
  guint keepalive_interval_s;
  guint keepalive_count;
  /* TCP_USER_TIMEOUT, sockets only: data sent and not acknowledged for
   * this long makes the connection dead; while keep-alives run, it also
   * replaces @keepalive_count: the connection is dead once the peer has
   * not answered for this long (Linux tcp(7)).  0: the kernel's
   * retransmissions, about 15 minutes. */
  guint user_timeout_ms;
} NetConnOptions;

typedef struct _NetConn NetConn;

typedef struct
{
  void (*on_connected) (NetConn *conn, gpointer user_data);
  void (*on_data) (NetConn *conn, const guint8 *data, gsize len,
                   gpointer user_data);
  void (*on_drained) (NetConn *conn, gpointer user_data);
  /* @error: (not nullable): domain NET_CONN_ERROR, code @reason, and a
   * message for the log, e.g. "connect to 127.0.0.1:9 failed: Connection
   * refused". */
  void (*on_closed) (NetConn *conn, NetConnCloseReason reason,
                     const GError *error, gpointer user_data);
} NetConnCallbacks;

/* Wrap the connected stream socket @fd (which it now owns, whatever the
 * result), for example one just accepted.  With @tls it starts the TLS
 * server handshake (state HANDSHAKING), otherwise it is OPEN at once; in
 * both cases on_connected follows.
 * Returns: (transfer full) (nullable): NULL with @error when @fd cannot be
 * used (not a connected socket) or @tls cannot serve. */
G_GNUC_WARN_UNUSED_RESULT
NetConn *net_conn_new_accepted (int fd, NetTls *tls,
                                const NetConnOptions *options, GError **error);

/* Connect to @address (a GInetSocketAddress) without blocking; with @tls,
 * then run the TLS client handshake and accept only a certificate for
 * @peer_name (the host of the msrps URI: a DNS name or an IP literal), or
 * for the IP address of @address when @peer_name is NULL.  @peer_name is
 * not used without @tls.  Failures to connect arrive at on_closed.
 * Returns: (transfer full) (nullable): NULL with @error only when no socket
 * or TLS session could be made at all. */
G_GNUC_WARN_UNUSED_RESULT
NetConn *net_conn_connect (GSocketAddress *address, NetTls *tls,
                           const char *peer_name,
                           const NetConnOptions *options, GError **error);

/* Carry the connection over @stream (a reference is taken), a byte stream
 * that is not a socket of ours, such as the selected pair of an ICE-TCP
 * agent (ice/): its input and output must be pollable
 * (GPollableInputStream, GPollableOutputStream), as they are read and
 * written without blocking.  It is OPEN at once; on_connected follows.
 * There is no half-close on such a stream: net_conn_close() ends once the
 * queue is written.  @transport_name ("ice-tcp") is what
 * net_conn_get_transport_name() returns; @peer_address and @local_address
 * ("ip:port") name the ends for the log stream.
 * Returns: (transfer full) (nullable): NULL with @error when the streams
 * are not pollable. */
G_GNUC_WARN_UNUSED_RESULT
NetConn *
net_conn_new_from_stream (GIOStream *stream, const char *transport_name,
                          const char *peer_address, const char *local_address,
                          const NetConnOptions *options, GError **error);

NetConn *net_conn_ref (NetConn *conn);
/* Dropping the last reference of a connection that is not closed aborts it
 * (see net_conn_abort()), except during net_conn_close(), which keeps the
 * connection alive until on_closed. */
void net_conn_unref (NetConn *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetConn, net_conn_unref)

/* Replace the callbacks (@callbacks is copied; NULL or a NULL member: not
 * called).  @destroy is called on the previous @user_data when it is
 * replaced and when the connection is freed. */
void net_conn_set_callbacks (NetConn *conn, const NetConnCallbacks *callbacks,
                             gpointer user_data, GDestroyNotify destroy);

/* Queue @bytes (a reference is taken; the data is not copied).  The queue
 * is written at the end of the loop's turn (net-loop.h), so what one turn
 * queues leaves in one sendmsg() (TLS: small pieces gathered into one
 * record): a relayed message's head, body pieces, end-line and the
 * relay's own 200 cost one system call, not four.  Bytes written while
 * CONNECTING or HANDSHAKING are sent once OPEN.  An empty @bytes is
 * ignored.
 * Returns: FALSE when the connection is closing or closed (or just failed;
 * on_closed tells why): @bytes will not be sent. */
gboolean net_conn_write (NetConn *conn, GBytes *bytes);

/* During on_data: @len bytes at @data, a part of what on_data was given,
 * as a GBytes that shares the connection's read buffer instead of copying
 * it (what a relay passes on to another connection's write queue without
 * touching).  Outside on_data, or for bytes elsewhere, a copy.
 * (transfer full) */
GBytes *net_conn_slice (NetConn *conn, const guint8 *data, gsize len);

/* Bytes queued and not yet taken by the kernel (TLS: plaintext not yet
 * encrypted). */
gsize net_conn_get_queued_bytes (NetConn *conn);

/* TRUE from the moment the queue reaches the high watermark until it falls
 * to the low watermark again, when on_drained is called. */
gboolean net_conn_is_congested (NetConn *conn);

/* Stop reading: no on_data until net_conn_resume_reading().  The socket is
 * not read at all meanwhile, so the peer is flow-controlled by TCP. */
void net_conn_pause_reading (NetConn *conn);
void net_conn_resume_reading (NetConn *conn);
gboolean net_conn_is_reading_paused (NetConn *conn);

/* Graceful close: no more on_data; send what is queued, then TLS
 * close_notify and a TCP FIN, then wait for the peer's end of stream (so
 * that no RST destroys bytes still in flight), all within the close timeout.
 * on_closed follows with NET_CONN_CLOSED_LOCAL (or TIMEOUT when the queue
 * could not be sent in time, or the reason of a failure on the way), even if
 * the owner drops its reference meanwhile.  Before OPEN the queue is
 * discarded and the connection closes at once (on_closed LOCAL). */
void net_conn_close (NetConn *conn);

/* Close now, dropping what is queued; with @reset, the peer gets a TCP RST
 * (SO_LINGER 0) instead of a FIN.  on_closed is not called (a pending one
 * is cancelled): the owner decided. */
void net_conn_abort (NetConn *conn, gboolean reset);

NetConnState net_conn_get_state (NetConn *conn);

/* While @exempt, the idle timeout does not count: the connection's
 * silence is expected (it carries a live call, whose silence keep-alives
 * bridge).  When no longer exempt, the idle time counts from then. */
void net_conn_set_idle_exempt (NetConn *conn, gboolean exempt);

/* A number unique within the process (the log stream's `conn`), from 1. */
guint64 net_conn_get_id (NetConn *conn);
/* Bytes of the stream each way (TLS: plaintext). */
guint64 net_conn_get_bytes_in (NetConn *conn);
guint64 net_conn_get_bytes_out (NetConn *conn);
/* g_get_monotonic_time() when the connection was made. */
gint64 net_conn_get_start_time (NetConn *conn);
/* The loop's clock (net_loop_now()) when a byte was last read or written,
 * or reading resumed, or the connection opened: what a NAT on the way saw
 * last of it. */
gint64 net_conn_get_last_activity (NetConn *conn);
/* "127.0.0.1:2855" or "[::1]:2855".  (transfer none) */
const char *net_conn_get_peer_address (NetConn *conn);
/* The local end; for a connecting client it is known once the connect
 * started, "" before.  (transfer none) */
const char *net_conn_get_local_address (NetConn *conn);
/* "tcp", "tls", or the name given to net_conn_new_from_stream().
 * (transfer none) */
const char *net_conn_get_transport_name (NetConn *conn);
/* The subject of the peer's verified certificate (see
 * net_tls_get_peer_subject()), once the TLS handshake is done; NULL for TCP
 * and for TLS peers that presented none.  (transfer none) (nullable) */
const char *net_conn_get_peer_subject (NetConn *conn);
/* The fingerprint (net_tls_fingerprint()) of the certificate the TLS peer
 * presented, verified or not: what fingerprint authentication compares
 * with the peer's a=fingerprint (RFC 8122 section 6.2).  NULL for TCP, a
 * peer without a certificate, or an unknown @hash_func.  (transfer full)
 * (nullable) */
char *net_conn_get_peer_fingerprint (NetConn *conn, const char *hash_func);
/* TRUE when the TLS peer presented a certificate that verified and is valid
 * for @host, a DNS name (subjectAltName dNSName, no partial wildcards) or an
 * IP literal (iPAddress): RFC 4976 section 6.3 checks a relay's certificate
 * against the host of its first From-Path URI this way.  FALSE for TCP,
 * for peers without a certificate, and once the connection is closed. */
gboolean net_conn_peer_certificate_matches (NetConn *conn, const char *host);

G_END_DECLS
