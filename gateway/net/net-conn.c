#include "net-conn.h"
#include "net-conn-priv.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <glib-unix.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "net-addr.h"
#include "net-loop.h"
GQuark
net_conn_error_quark (void)
{
  return g_quark_from_static_string ("net-conn-error-quark");
}

/* One read; TLS records carry at most 16 KiB of plaintext, so one SSL_read
 * takes a whole record. */
#define READ_CHUNK (32 * 1024)
/* Bytes read per wake-up before other sources get their turn. */
#define READ_BUDGET (256 * 1024)
/* Queue entries handed to one sendmsg(). */
#define WRITE_IOV_MAX 64
/* Small queue entries are gathered into one TLS record of this size. */
#define TLS_GATHER (16 * 1024)
/* The in-memory transport's buffer each way: about a loopback socket's. */
#define MEM_PIPE_SIZE (128 * 1024)

typedef enum
{
  IO_DONE,
  IO_WANT_READ,
  IO_WANT_WRITE,
  IO_EOF,   /* end of stream; @error may say more ("without
             * close_notify") */
  IO_ERROR, /* @error is set: NET_CONN_ERROR with the close reason */
} IoStatus;

/* The byte stream under the connection.  TLS is not a transport: it is a
 * layer that runs over any transport through the BIO below, so TLS over an
 * ICE-TCP stream needs nothing more than an ICE-TCP transport.  The
 * transport tells the connection which conditions it waits for through
 * watch(); the fd transport does so with the connection's GSource. */
typedef struct
{
  const char *name;
  /* shutdown() sends an end of stream the peer sees while we go on
   * reading (TCP FIN); without it a graceful close ends once the queue is
   * written. */
  gboolean half_close;
  IoStatus (*read) (NetConn *conn, guint8 *buf, gsize len, gsize *n,
                    GError **error);
  IoStatus (*write) (NetConn *conn, const struct iovec *iov, int iovcnt,
                     gsize *n, GError **error);
  /* Half-close: no more bytes from us (TCP FIN). */
  IoStatus (*shutdown) (NetConn *conn, GError **error);
  void (*watch) (NetConn *conn, GIOCondition interest);
  /* Release the stream; @reset: make the peer see an abort. */
  void (*close) (NetConn *conn, gboolean reset);
  /* CONNECTING and ready: 0, or the errno the connect failed with. */
  int (*connect_result) (NetConn *conn);
} Transport;

/* One direction of an in-memory stream (the virtual network of tests,
 * net_loop_set_virtual_network()): a bounded buffer, so that a reader that
 * does not read pushes back on its writer as a TCP window does. */
typedef struct
{
  guint8 *buf; /* ring of MEM_PIPE_SIZE bytes, made on the first write */
  gsize start;
  gsize len;
  gboolean shut;   /* the writer sent its end of stream (FIN) */
  gboolean reset;  /* the writer aborted (RST) */
  NetConn *reader; /* weak; NULL once it closed */
  NetConn *writer; /* weak; NULL once it closed */
} MemPipe;

struct _NetConn
{
  gatomicrefcount ref_count;
  guint64 id;
  NetConnState state;
  const Transport *transport;
  int fd;             /* TCP transport */
  GIOStream *stream;  /* stream transport */
  GSource *in_source; /* stream: pollable sources now watched */
  GSource *out_source;
  SSL *ssl; /* NULL: no TLS layer */
  NetTls *tls;

  NetLoop *loop;   /* a reference */
  MemPipe *mem_in; /* in-memory transport */
  MemPipe *mem_out;
  guint mem_want;          /* NET_WATCH_IN | NET_WATCH_OUT */
  int mem_error;           /* CONNECTING: the errno the connect meets, or 0 */
  guint mem_silent : 1;    /* CONNECTING: to a black hole, never answered */
  struct ReadBuf *reading; /* during do_read(): the buffer on_data sees */
  NetWatch watch;          /* the descriptor's readiness, wakes, turn ends */
  NetTimer timer;          /* the nearest deadline: connect, handshake, close,
                            * idle */

  NetConnCallbacks cb;
  gpointer user_data;
  GDestroyNotify user_destroy;

  /* Options, defaults filled in; timeouts in microseconds. */
  gsize high_watermark;
  gsize low_watermark;
  gint64 connect_timeout;
  gint64 handshake_timeout;
  gint64 close_timeout;
  gint64 idle_timeout;

  /* Write queue: GBytes, the first one written from head_offset. */
  GQueue queue;
  gsize head_offset;
  gsize queued;
  guint congested : 1;

  guint read_paused : 1;
  guint idle_exempt : 1;       /* net_conn_set_idle_exempt() */
  guint read_wants_write : 1;  /* TLS: SSL_read needs the socket writable */
  guint write_wants_read : 1;  /* TLS: SSL_write needs it readable */
  guint hs_wants_write : 1;    /* TLS handshake direction */
  guint connected_pending : 1; /* on_connected not yet called */
  guint shut_down : 1;         /* closing: our FIN is sent, draining */
  guint kick : 1;              /* run the I/O once without waiting */

  /* TLS BIO state: what the transport said under SSL. */
  guint lower_eof : 1;
  GError *lower_error;

  guint64 bytes_in;
  guint64 bytes_out;
  gint64 start_time;
  gint64 last_activity;
  gint64 deadline;   /* connect, handshake or close; -1: none */
  gint64 idle_check; /* when to look at last_activity again */

  char *peer_address;
  char *local_address;
  char *peer_subject;
  char *transport_name; /* stream transport: the caller's name */

  guint closed_pending : 1; /* on_closed due with close_error */
  GError *close_error;
  guint closing_ref : 1; /* a self reference from net_conn_close() */
};

static const char *const reason_names[] = {
  [NET_CONN_CLOSED_PEER] = "peer_closed",
  [NET_CONN_CLOSED_RESET] = "reset",
  [NET_CONN_CLOSED_CONNECT_FAILED] = "connect_failed",
  [NET_CONN_CLOSED_REFUSED] = "refused",
  [NET_CONN_CLOSED_TIMEOUT] = "timeout",
  [NET_CONN_CLOSED_IDLE] = "idle",
  [NET_CONN_CLOSED_TLS] = "tls",
  [NET_CONN_CLOSED_LOCAL] = "local",
  [NET_CONN_CLOSED_DEAD] = "dead",
};

const char *
net_conn_close_reason_to_string (NetConnCloseReason reason)
{
  if ((guint) reason < G_N_ELEMENTS (reason_names))
    return reason_names[reason];
  return "unknown";
}

static void update_io (NetConn *conn);

static GError *conn_error (NetConnCloseReason reason, const char *format, ...)
    G_GNUC_PRINTF (2, 3);

static GError *
conn_error (NetConnCloseReason reason, const char *format, ...)
{
  GError *error;
  va_list ap;

  va_start (ap, format);
  error = g_error_new_valist (NET_CONN_ERROR, reason, format, ap);
  va_end (ap);
  return error;
}

static guint64
next_id (void)
{
  static guint64 last;
  G_LOCK_DEFINE_STATIC (last);
  guint64 id;

  G_LOCK (last);
  id = ++last;
  G_UNLOCK (last);
  return id;
}

static void
touch (NetConn *conn)
{
  conn->last_activity = net_loop_now (conn->loop);
}

/* --- TCP transport ---------------------------------------------------- */

static void
set_errno_error (NetConn *conn, GError **error, int err, const char *what)
{
  /* On an established connection only the kernel's own timers say
   * ETIMEDOUT: keep-alive probes unanswered (TCP_KEEPCNT, or
   * TCP_USER_TIMEOUT), or data unacknowledged through every
   * retransmission (TCP_USER_TIMEOUT, tcp_retries2).  The peer is gone, or
   * a NAT or firewall on the way forgot the connection. */
  if (err == ETIMEDOUT)
    g_propagate_error (
        error, conn_error (NET_CONN_CLOSED_DEAD,
                           "%s %s failed: %s (TCP keep-alive probes or data "
                           "sent went unanswered)",
                           what, conn->peer_address, g_strerror (err)));
  else
    g_propagate_error (
        error, conn_error (NET_CONN_CLOSED_RESET, "%s %s failed: %s", what,
                           conn->peer_address, g_strerror (err)));
}

static IoStatus
tcp_read (NetConn *conn, guint8 *buf, gsize len, gsize *n, GError **error)
{
  for (;;)
    {
      ssize_t r = recv (conn->fd, buf, len, 0);

      if (r > 0)
        {
          *n = (gsize) r;
          return IO_DONE;
        }
      if (r == 0)
        return IO_EOF;
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return IO_WANT_READ;
      set_errno_error (conn, error, errno, "reading from");
      return IO_ERROR;
    }
}

static IoStatus
tcp_write (NetConn *conn, const struct iovec *iov, int iovcnt, gsize *n,
           GError **error)
{
  struct msghdr msg = { .msg_iov = (struct iovec *) iov,
                        .msg_iovlen = (size_t) iovcnt };

  for (;;)
    {
      /* MSG_NOSIGNAL: a peer gone away is an error, not SIGPIPE. */
      ssize_t r = sendmsg (conn->fd, &msg, MSG_NOSIGNAL);

      if (r >= 0)
        {
          *n = (gsize) r;
          return IO_DONE;
        }
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return IO_WANT_WRITE;
      set_errno_error (conn, error, errno, "writing to");
      return IO_ERROR;
    }
}

static IoStatus
tcp_shutdown (NetConn *conn, GError **error)
{
  if (shutdown (conn->fd, SHUT_WR) < 0)
    {
      set_errno_error (conn, error, errno, "shutting down the connection to");
      return IO_ERROR;
    }
  return IO_DONE;
}

static void
fd_watch (NetConn *conn, GIOCondition interest)
{
  net_watch_set_events (conn->loop, &conn->watch,
                        ((interest & G_IO_IN) ? NET_WATCH_IN : 0) |
                            ((interest & G_IO_OUT) ? NET_WATCH_OUT : 0));
}

/* Close @fd with a RST instead of a FIN (SO_LINGER 0): no TIME_WAIT here,
 * and the peer knows at once. */
void
net_close_with_reset (int fd)
{
  struct linger lg = { .l_onoff = 1, .l_linger = 0 };

  setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close (fd);
}

static void
tcp_close (NetConn *conn, gboolean reset)
{
  net_watch_drop_fd (conn->loop, &conn->watch);
  if (conn->fd < 0)
    return;
  if (reset)
    net_close_with_reset (conn->fd);
  else
    close (conn->fd);
  conn->fd = -1;
}

static int
tcp_connect_result (NetConn *conn)
{
  int err = 0;
  socklen_t len = sizeof err;

  if (getsockopt (conn->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    err = errno;
  return err;
}

static const Transport tcp_transport = {
  .name = "tcp",
  .half_close = TRUE,
  .read = tcp_read,
  .write = tcp_write,
  .shutdown = tcp_shutdown,
  .watch = fd_watch,
  .close = tcp_close,
  .connect_result = tcp_connect_result,
};

/* --- stream transport (a GIOStream with pollable streams) -------------- */

/* For byte streams that are not sockets of ours, such as the selected pair
 * of an ICE-TCP agent (ice/): reads and writes never block, and readiness
 * comes from the streams' pollable sources, which wake the connection's
 * own source. */

static IoStatus
stream_status (NetConn *conn, GError *e, IoStatus would_block,
               const char *what, GError **error)
{
  if (g_error_matches (e, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      g_error_free (e);
      return would_block;
    }
  g_propagate_error (error, conn_error (NET_CONN_CLOSED_RESET,
                                        "%s %s failed: "
                                        "%s",
                                        what, conn->peer_address, e->message));
  g_error_free (e);
  return IO_ERROR;
}

static IoStatus
stream_read (NetConn *conn, guint8 *buf, gsize len, gsize *n, GError **error)
{
  GError *e = NULL;
  gssize r = g_pollable_input_stream_read_nonblocking (
      G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (conn->stream)),
      buf, len, NULL, &e);

  if (r > 0)
    {
      *n = (gsize) r;
      return IO_DONE;
    }
  if (r == 0)
    return IO_EOF;
  return stream_status (conn, e, IO_WANT_READ, "reading from", error);
}

static IoStatus
stream_write (NetConn *conn, const struct iovec *iov, int iovcnt, gsize *n,
              GError **error)
{
  GOutputVector vec[WRITE_IOV_MAX];
  GError *e = NULL;
  GPollableReturn r;

  for (int i = 0; i < iovcnt && i < WRITE_IOV_MAX; i++)
    {
      vec[i].buffer = iov[i].iov_base;
      vec[i].size = iov[i].iov_len;
    }
  r = g_pollable_output_stream_writev_nonblocking (
      G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (conn->stream)),
      vec, (gsize) MIN (iovcnt, WRITE_IOV_MAX), n, NULL, &e);
  if (r == G_POLLABLE_RETURN_OK)
    return IO_DONE;
  if (r == G_POLLABLE_RETURN_WOULD_BLOCK)
    return IO_WANT_WRITE;
  return stream_status (conn, e, IO_WANT_WRITE, "writing to", error);
}

static IoStatus
stream_shutdown (NetConn *conn, GError **error)
{
  return IO_DONE; /* no half-close: see Transport.half_close */
}

static gboolean
on_stream_ready (GObject *stream, gpointer data)
{
  NetConn *conn = data;

  /* Run the connection's I/O from its own source; the pollable source is
   * made again while the condition is still wanted. */
  if (G_IS_POLLABLE_INPUT_STREAM (stream))
    g_clear_pointer (&conn->in_source, g_source_unref);
  else
    g_clear_pointer (&conn->out_source, g_source_unref);
  net_watch_wake (conn->loop, &conn->watch,
                  G_IS_POLLABLE_INPUT_STREAM (stream) ? NET_WATCH_IN
                                                      : NET_WATCH_OUT);
  return G_SOURCE_REMOVE;
}

static GSource *
stream_source (NetConn *conn, gboolean input)
{
  GSource *src = input ? g_pollable_input_stream_create_source (
                             G_POLLABLE_INPUT_STREAM (
                                 g_io_stream_get_input_stream (conn->stream)),
                             NULL)
                       : g_pollable_output_stream_create_source (
                             G_POLLABLE_OUTPUT_STREAM (
                                 g_io_stream_get_output_stream (conn->stream)),
                             NULL);

  g_source_set_callback (src, (GSourceFunc) (void (*) (void)) on_stream_ready,
                         conn, NULL);
  g_source_attach (src, net_loop_get_context (conn->loop));
  return src;
}

static void
stream_unwatch (GSource **src)
{
  if (*src != NULL)
    {
      g_source_destroy (*src);
      g_clear_pointer (src, g_source_unref);
    }
}

static void
stream_watch (NetConn *conn, GIOCondition interest)
{
  if ((interest & G_IO_IN) && conn->in_source == NULL)
    conn->in_source = stream_source (conn, TRUE);
  else if (!(interest & G_IO_IN))
    stream_unwatch (&conn->in_source);
  if ((interest & G_IO_OUT) && conn->out_source == NULL)
    conn->out_source = stream_source (conn, FALSE);
  else if (!(interest & G_IO_OUT))
    stream_unwatch (&conn->out_source);
}

static void
stream_close (NetConn *conn, gboolean reset)
{
  stream_unwatch (&conn->in_source);
  stream_unwatch (&conn->out_source);
  if (conn->stream == NULL)
    return;
  /* The owner of the stream (the ICE agent) ends the transport below;
   * closing our side does not block. */
  g_io_stream_close (conn->stream, NULL, NULL);
  g_clear_object (&conn->stream);
}

static const Transport stream_transport = {
  .name = "stream",
  .half_close = FALSE,
  .read = stream_read,
  .write = stream_write,
  .shutdown = stream_shutdown,
  .watch = stream_watch,
  .close = stream_close,
};

/* --- in-memory transport (tests' virtual network) ------------------- */

/* Wake @conn for @events if it waits for them. */
static void
mem_wake (NetConn *conn, guint events)
{
  if (conn != NULL && (conn->mem_want & events) != 0)
    net_watch_wake (conn->loop, &conn->watch, conn->mem_want & events);
}

static gboolean
mem_readable (NetConn *conn)
{
  MemPipe *p = conn->mem_in;

  return p == NULL || p->len > 0 || p->shut || p->reset || p->writer == NULL;
}

static gboolean
mem_writable (NetConn *conn)
{
  MemPipe *p = conn->mem_out;

  return p == NULL || p->reader == NULL || p->len < MEM_PIPE_SIZE;
}

static IoStatus
mem_read (NetConn *conn, guint8 *buf, gsize len, gsize *n, GError **error)
{
  MemPipe *p = conn->mem_in;
  gsize take = 0;

  if (p != NULL && p->reset)
    {
      set_errno_error (conn, error, ECONNRESET, "reading from");
      return IO_ERROR;
    }
  if (p == NULL || p->len == 0)
    return p == NULL || p->shut || p->writer == NULL ? IO_EOF : IO_WANT_READ;
  while (take < len && p->len > 0)
    {
      gsize run = MIN (MIN (len - take, p->len), MEM_PIPE_SIZE - p->start);

      memcpy (buf + take, p->buf + p->start, run);
      p->start = (p->start + run) % MEM_PIPE_SIZE;
      p->len -= run;
      take += run;
    }
  *n = take;
  mem_wake (p->writer, NET_WATCH_OUT);
  return IO_DONE;
}

static IoStatus
mem_write (NetConn *conn, const struct iovec *iov, int iovcnt, gsize *n,
           GError **error)
{
  MemPipe *p = conn->mem_out;
  gsize put = 0;

  if (p == NULL || p->reader == NULL)
    {
      set_errno_error (conn, error, p == NULL ? EPIPE : ECONNRESET,
                       "writing to");
      return IO_ERROR;
    }
  if (p->len == MEM_PIPE_SIZE)
    return IO_WANT_WRITE;
  if (p->buf == NULL)
    p->buf = g_malloc (MEM_PIPE_SIZE);
  for (int i = 0; i < iovcnt && p->len < MEM_PIPE_SIZE; i++)
    {
      const guint8 *data = iov[i].iov_base;
      gsize left = iov[i].iov_len;

      while (left > 0 && p->len < MEM_PIPE_SIZE)
        {
          gsize end = (p->start + p->len) % MEM_PIPE_SIZE;
          gsize run =
              MIN (MIN (left, MEM_PIPE_SIZE - p->len), MEM_PIPE_SIZE - end);

          memcpy (p->buf + end, data, run);
          p->len += run;
          data += run;
          left -= run;
          put += run;
        }
    }
  *n = put;
  mem_wake (p->reader, NET_WATCH_IN);
  return IO_DONE;
}

static IoStatus
mem_shutdown (NetConn *conn, GError **error)
{
  if (conn->mem_out != NULL)
    {
      conn->mem_out->shut = TRUE;
      mem_wake (conn->mem_out->reader, NET_WATCH_IN);
    }
  return IO_DONE;
}

static void
mem_watch (NetConn *conn, GIOCondition interest)
{
  guint want = ((interest & G_IO_IN) ? NET_WATCH_IN : 0) |
               ((interest & G_IO_OUT) ? NET_WATCH_OUT : 0);
  guint ready;

  conn->mem_want = want;
  if (conn->state == NET_CONN_STATE_CONNECTING)
    ready = conn->mem_silent ? 0 : want; /* a black hole: the timeout */
  else
    ready = (mem_readable (conn) ? NET_WATCH_IN : 0) |
            (mem_writable (conn) ? NET_WATCH_OUT : 0);
  if ((ready & want) != 0)
    net_watch_wake (conn->loop, &conn->watch, ready & want);
}

static void
mem_pipe_free (MemPipe *p)
{
  g_free (p->buf);
  g_free (p);
}

static void
mem_close (NetConn *conn, gboolean reset)
{
  MemPipe *in = g_steal_pointer (&conn->mem_in);
  MemPipe *out = g_steal_pointer (&conn->mem_out);

  conn->mem_want = 0;
  /* Closing with bytes unread makes a kernel answer with a RST. */
  if (in != NULL && in->len > 0)
    reset = TRUE;
  if (out != NULL)
    {
      NetConn *peer = out->reader;

      out->writer = NULL;
      if (reset)
        out->reset = TRUE;
      else
        out->shut = TRUE;
      if (peer == NULL)
        mem_pipe_free (out);
      else
        mem_wake (peer, NET_WATCH_IN | NET_WATCH_OUT);
    }
  if (in != NULL)
    {
      NetConn *peer = in->writer;

      in->reader = NULL;
      if (peer == NULL)
        mem_pipe_free (in);
      else
        mem_wake (peer, NET_WATCH_IN | NET_WATCH_OUT);
    }
}

static int
mem_connect_result (NetConn *conn)
{
  return conn->mem_error;
}

static const Transport mem_transport = {
  .name = "tcp",
  .half_close = TRUE,
  .read = mem_read,
  .write = mem_write,
  .shutdown = mem_shutdown,
  .watch = mem_watch,
  .close = mem_close,
  .connect_result = mem_connect_result,
};

/* --- TLS layer -------------------------------------------------------- */

/* SSL reads and writes the transport through this BIO, so that it works
 * over any transport and a dead peer never raises SIGPIPE.  What the
 * transport reports beyond "try again" is kept in the connection
 * (lower_eof, lower_error) for tls_status() to explain. */

static int
bio_write_ex (BIO *bio, const char *data, size_t len, size_t *written)
{
  NetConn *conn = BIO_get_data (bio);
  struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
  IoStatus status;

  BIO_clear_retry_flags (bio);
  g_clear_error (&conn->lower_error);
  status = conn->transport->write (conn, &iov, 1, written, &conn->lower_error);
  if (status == IO_DONE)
    return 1;
  if (status == IO_WANT_WRITE)
    BIO_set_retry_write (bio);
  else if (status == IO_WANT_READ)
    BIO_set_retry_read (bio);
  return 0;
}

static int
bio_read_ex (BIO *bio, char *buf, size_t len, size_t *readbytes)
{
  NetConn *conn = BIO_get_data (bio);
  IoStatus status;

  BIO_clear_retry_flags (bio);
  g_clear_error (&conn->lower_error);
  status = conn->transport->read (conn, (guint8 *) buf, len, readbytes,
                                  &conn->lower_error);
  switch (status)
    {
    case IO_DONE:
      return 1;
    case IO_WANT_READ:
      BIO_set_retry_read (bio);
      return 0;
    case IO_WANT_WRITE:
      BIO_set_retry_write (bio);
      return 0;
    case IO_EOF:
      conn->lower_eof = TRUE;
      return 0;
    case IO_ERROR:
    default:
      return 0;
    }
}

static long
bio_ctrl (BIO *bio, int cmd, long num, void *ptr)
{
  NetConn *conn = BIO_get_data (bio);

  switch (cmd)
    {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_EOF:
      return conn != NULL && conn->lower_eof;
    default:
      return 0;
    }
}

static int
bio_create (BIO *bio)
{
  BIO_set_init (bio, 1);
  return 1;
}

static BIO_METHOD *
conn_bio_method (void)
{
  static gsize once;

  if (g_once_init_enter (&once))
    {
      BIO_METHOD *m = BIO_meth_new (
          BIO_get_new_index () | BIO_TYPE_SOURCE_SINK, "net-conn");

      if (m != NULL)
        {
          BIO_meth_set_write_ex (m, bio_write_ex);
          BIO_meth_set_read_ex (m, bio_read_ex);
          BIO_meth_set_ctrl (m, bio_ctrl);
          BIO_meth_set_create (m, bio_create);
        }
      g_once_init_leave (&once, (gsize) m + 1);
    }
  return (BIO_METHOD *) (once - 1);
}

/* Explain why an SSL call returning @ret did not succeed; @what names the
 * operation for messages: "<what> <peer> failed: <OpenSSL reasons>". */
static IoStatus
tls_status (NetConn *conn, int ret, const char *what, GError **error)
{
  int err = SSL_get_error (conn->ssl, ret);
  long verify;

  switch (err)
    {
    case SSL_ERROR_WANT_READ:
      return IO_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
      return IO_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
      ERR_clear_error ();
      return IO_EOF; /* close_notify */
    default:
      break;
    }
  if (conn->lower_eof)
    {
      ERR_clear_error ();
      g_propagate_error (error, conn_error (NET_CONN_CLOSED_PEER,
                                            "%s closed the connection without "
                                            "TLS close_notify",
                                            conn->peer_address));
      return IO_EOF;
    }
  if (conn->lower_error != NULL)
    {
      ERR_clear_error ();
      g_propagate_error (error, g_steal_pointer (&conn->lower_error));
      return IO_ERROR;
    }
  if (err != SSL_ERROR_SSL)
    {
      net_tls_set_error (error, NET_CONN_ERROR, NET_CONN_CLOSED_RESET,
                         "%s %s failed", what, conn->peer_address);
      return IO_ERROR;
    }
  verify = SSL_get_verify_result (conn->ssl);
  if (verify != X509_V_OK)
    net_tls_set_error (error, NET_CONN_ERROR, NET_CONN_CLOSED_TLS,
                       "%s %s failed (certificate: %s)", what,
                       conn->peer_address,
                       X509_verify_cert_error_string (verify));
  else
    net_tls_set_error (error, NET_CONN_ERROR, NET_CONN_CLOSED_TLS,
                       "%s %s failed", what, conn->peer_address);
  return IO_ERROR;
}

static void
tls_begin (NetConn *conn)
{
  ERR_clear_error ();
  g_clear_error (&conn->lower_error);
}

/* --- I/O of the connection (TLS layer or bare transport) --------------- */

static IoStatus
conn_read (NetConn *conn, guint8 *buf, gsize len, gsize *n, GError **error)
{
  if (conn->ssl == NULL)
    return conn->transport->read (conn, buf, len, n, error);
  tls_begin (conn);
  if (SSL_read_ex (conn->ssl, buf, len, n) == 1)
    return IO_DONE;
  return tls_status (conn, 0, "reading TLS from", error);
}

static IoStatus
conn_write (NetConn *conn, const struct iovec *iov, int iovcnt, gsize *n,
            GError **error)
{
  guint8 gather[TLS_GATHER];
  const void *data = iov[0].iov_base;
  gsize len = iov[0].iov_len;

  if (conn->ssl == NULL)
    return conn->transport->write (conn, iov, iovcnt, n, error);

  /* Small entries (an MSRP header, an end-line) share one record.  A retry
   * after WANT_WRITE gathers the same queue head again, the same bytes or
   * more, which SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER allows. */
  if (iovcnt > 1 && len < TLS_GATHER)
    {
      len = 0;
      for (int i = 0; i < iovcnt && len < TLS_GATHER; i++)
        {
          gsize take = MIN (iov[i].iov_len, TLS_GATHER - len);

          memcpy (gather + len, iov[i].iov_base, take);
          len += take;
        }
      data = gather;
    }
  tls_begin (conn);
  if (SSL_write_ex (conn->ssl, data, len, n) == 1)
    return IO_DONE;
  return tls_status (conn, 0, "writing TLS to", error);
}

/* --- state changes ---------------------------------------------------- */

static void
clear_queue (NetConn *conn)
{
  GBytes *b;

  while ((b = g_queue_pop_head (&conn->queue)) != NULL)
    g_bytes_unref (b);
  conn->head_offset = 0;
  conn->queued = 0;
}

/* Release the stream and everything queued. */
static void
teardown (NetConn *conn, gboolean reset)
{
  clear_queue (conn);
  if (conn->ssl != NULL)
    {
      SSL_free (conn->ssl);
      conn->ssl = NULL;
    }
  g_clear_error (&conn->lower_error);
  conn->transport->close (conn, reset);
  conn->deadline = -1;
  conn->kick = FALSE;
  conn->state = NET_CONN_STATE_CLOSED;
}

/* Close with @error (transfer full; NET_CONN_ERROR, code = reason), and
 * have on_closed called from the main context. */
static void
fail (NetConn *conn, GError *error)
{
  if (conn->state == NET_CONN_STATE_CLOSED)
    {
      g_error_free (error);
      return;
    }
  teardown (conn, FALSE);
  conn->close_error = error;
  conn->closed_pending = TRUE;
  update_io (conn);
}

/* End of stream from the peer; @error (if set) says more. */
static void
fail_peer_closed (NetConn *conn, GError **error)
{
  fail (conn, *error != NULL ? g_steal_pointer (error)
                             : conn_error (NET_CONN_CLOSED_PEER,
                                           "%s closed the connection",
                                           conn->peer_address));
}

/* net_conn_close() is done. */
static void
fail_closed_locally (NetConn *conn)
{
  fail (conn, conn_error (NET_CONN_CLOSED_LOCAL, "closed connection with %s",
                          conn->peer_address));
}

static gboolean
reading_enabled (NetConn *conn)
{
  return (conn->state == NET_CONN_STATE_OPEN && !conn->read_paused) ||
         (conn->state == NET_CONN_STATE_CLOSING && conn->shut_down);
}

static gboolean
has_write_work (NetConn *conn)
{
  return conn->queued > 0 ||
         (conn->state == NET_CONN_STATE_CLOSING && !conn->shut_down);
}

static gboolean
idle_counts (NetConn *conn)
{
  return conn->state == NET_CONN_STATE_OPEN && conn->idle_timeout > 0 &&
         !conn->read_paused && !conn->idle_exempt;
}

static void
arm_idle (NetConn *conn)
{
  touch (conn);
  conn->idle_check = conn->last_activity + conn->idle_timeout;
}

/* Watch what the state needs, and wake up at the nearest deadline. */
static void
update_io (NetConn *conn)
{
  GIOCondition want = 0;
  gint64 ready = -1;

  switch (conn->state)
    {
    case NET_CONN_STATE_CONNECTING:
      want = G_IO_OUT;
      break;
    case NET_CONN_STATE_HANDSHAKING:
      want = conn->hs_wants_write ? G_IO_OUT : G_IO_IN;
      break;
    case NET_CONN_STATE_OPEN:
    case NET_CONN_STATE_CLOSING:
      if (reading_enabled (conn))
        want |= conn->read_wants_write ? G_IO_OUT : G_IO_IN;
      if (has_write_work (conn))
        want |= conn->write_wants_read ? G_IO_IN : G_IO_OUT;
      break;
    case NET_CONN_STATE_CLOSED:
    default:
      break;
    }
  if (conn->state != NET_CONN_STATE_CLOSED)
    conn->transport->watch (conn, want);

  if (conn->closed_pending || conn->kick || conn->connected_pending)
    net_watch_wake (conn->loop, &conn->watch, 0);
  ready = conn->deadline;
  if (idle_counts (conn) && (ready < 0 || conn->idle_check < ready))
    ready = conn->idle_check;
  if (ready < 0)
    net_timer_cancel (conn->loop, &conn->timer);
  else if (!net_timer_is_scheduled (&conn->timer) ||
           conn->timer.deadline != ready)
    net_timer_schedule (conn->loop, &conn->timer, ready);
}

static void
become_open (NetConn *conn)
{
  conn->state = NET_CONN_STATE_OPEN;
  conn->deadline = -1;
  conn->connected_pending = TRUE;
  arm_idle (conn);
  if (conn->ssl != NULL)
    {
      conn->peer_subject = net_tls_get_peer_subject (conn->ssl);
      /* The peer's first bytes may have come with its last handshake
       * flight and wait inside SSL, where poll() cannot see them. */
      conn->kick = TRUE;
    }
}

static void
do_handshake (NetConn *conn)
{
  g_autoptr (GError) error = NULL;
  int r;

  tls_begin (conn);
  r = SSL_do_handshake (conn->ssl);
  if (r == 1)
    {
      become_open (conn);
      return;
    }
  switch (tls_status (conn, r, "TLS handshake with", &error))
    {
    case IO_WANT_READ:
      conn->hs_wants_write = FALSE;
      break;
    case IO_WANT_WRITE:
      conn->hs_wants_write = TRUE;
      break;
    case IO_EOF:
      fail (conn, conn_error (NET_CONN_CLOSED_TLS,
                              "%s closed the connection "
                              "during the TLS handshake",
                              conn->peer_address));
      break;
    case IO_DONE:
    case IO_ERROR:
    default:
      fail (conn, g_steal_pointer (&error));
      break;
    }
}

static void
start_transport (NetConn *conn)
{
  if (conn->ssl != NULL)
    {
      conn->state = NET_CONN_STATE_HANDSHAKING;
      conn->deadline = net_loop_now (conn->loop) + conn->handshake_timeout;
    }
  else
    {
      become_open (conn);
    }
}

static char *
sockname_string (int fd, gboolean peer)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  g_autoptr (GSocketAddress) addr = NULL;
  int r = peer ? getpeername (fd, (struct sockaddr *) &ss, &len)
               : getsockname (fd, (struct sockaddr *) &ss, &len);

  if (r < 0)
    return NULL;
  addr = g_socket_address_new_from_native (&ss, len);
  if (addr == NULL || !G_IS_INET_SOCKET_ADDRESS (addr))
    return NULL;
  return net_addr_to_string (addr);
}

/* connect() failed with @err: a RST says something the other failures do
 * not, so it has a reason of its own. */
static GError *
connect_error (NetConn *conn, int err)
{
  return conn_error (err == ECONNREFUSED ? NET_CONN_CLOSED_REFUSED
                                         : NET_CONN_CLOSED_CONNECT_FAILED,
                     "connect to %s failed: %s", conn->peer_address,
                     g_strerror (err));
}

static void
finish_connect (NetConn *conn)
{
  int err = conn->transport->connect_result (conn);

  if (err != 0)
    {
      fail (conn, connect_error (conn, err));
      return;
    }
  if (conn->fd >= 0)
    {
      g_free (conn->local_address);
      conn->local_address = sockname_string (conn->fd, FALSE);
      if (conn->local_address == NULL)
        conn->local_address = g_strdup ("");
    }
  start_transport (conn);
}

static void
consume (NetConn *conn, gsize n)
{
  conn->queued -= n;
  n += conn->head_offset;
  for (;;)
    {
      GBytes *head = g_queue_peek_head (&conn->queue);
      gsize size;

      if (head == NULL)
        break;
      size = g_bytes_get_size (head);
      if (n < size)
        {
          conn->head_offset = n;
          return;
        }
      n -= size;
      g_bytes_unref (g_queue_pop_head (&conn->queue));
    }
  conn->head_offset = 0;
}

static int
fill_iov (NetConn *conn, struct iovec *iov)
{
  int cnt = 0;
  gsize offset = conn->head_offset;

  for (GList *l = conn->queue.head; l != NULL && cnt < WRITE_IOV_MAX;
       l = l->next)
    {
      gsize size;
      const guint8 *data = g_bytes_get_data (l->data, &size);

      iov[cnt].iov_base = (void *) (data + offset);
      iov[cnt].iov_len = size - offset;
      offset = 0;
      cnt++;
    }
  return cnt;
}

static void
do_shutdown (NetConn *conn)
{
  g_autoptr (GError) error = NULL;

  if (conn->ssl != NULL)
    {
      int r;

      tls_begin (conn);
      r = SSL_shutdown (conn->ssl);
      if (r < 0)
        {
          switch (tls_status (conn, r, "sending TLS close_notify to", &error))
            {
            case IO_WANT_READ:
              conn->write_wants_read = TRUE;
              return;
            case IO_WANT_WRITE:
              conn->write_wants_read = FALSE;
              return;
            case IO_EOF:
              fail_peer_closed (conn, &error);
              return;
            default:
              fail (conn, g_steal_pointer (&error));
              return;
            }
        }
    }
  if (conn->transport->shutdown (conn, &error) != IO_DONE)
    {
      fail (conn, g_steal_pointer (&error));
      return;
    }
  if (!conn->transport->half_close)
    {
      fail_closed_locally (conn);
      return;
    }
  /* Read until the peer's end of stream (discarded, below SSL): closing
   * with unread bytes would make the kernel send a RST, which can destroy
   * what we sent before it reaches the peer's application. */
  conn->shut_down = TRUE;
  conn->write_wants_read = FALSE;
  conn->kick = TRUE;
}

static void
do_write (NetConn *conn)
{
  while (conn->queued > 0)
    {
      struct iovec iov[WRITE_IOV_MAX];
      int cnt = fill_iov (conn, iov);
      g_autoptr (GError) error = NULL;
      gsize n = 0;

      switch (conn_write (conn, iov, cnt, &n, &error))
        {
        case IO_DONE:
          conn->write_wants_read = FALSE;
          consume (conn, n);
          conn->bytes_out += n;
          touch (conn);
          break;
        case IO_WANT_WRITE:
          conn->write_wants_read = FALSE;
          return;
        case IO_WANT_READ:
          conn->write_wants_read = TRUE;
          return;
        case IO_EOF:
          fail_peer_closed (conn, &error);
          return;
        case IO_ERROR:
        default:
          fail (conn, g_steal_pointer (&error));
          return;
        }
    }
  if (conn->state == NET_CONN_STATE_CLOSING && !conn->shut_down)
    do_shutdown (conn);
}

/* The buffer reads go into.  Bytes the owner keeps past on_data are
 * slices of it (net_conn_slice()), not copies: it lives while a slice
 * does, and a read takes a fresh one when the last still has some.  One
 * spare per thread is kept, so a connection costs no buffer between reads
 * and a busy one no allocation per read. */
typedef struct ReadBuf
{
  guint refs;
  guint8 data[READ_CHUNK];
} ReadBuf;

static __thread ReadBuf *spare_buf;

static ReadBuf *
read_buf_take (void)
{
  ReadBuf *rb = g_steal_pointer (&spare_buf);

  if (rb == NULL)
    rb = g_new (ReadBuf, 1);
  rb->refs = 1;
  return rb;
}

static void
read_buf_release (gpointer data)
{
  ReadBuf *rb = data;

  if (--rb->refs > 0)
    return;
  if (spare_buf == NULL)
    spare_buf = rb;
  else
    g_free (rb);
}

GBytes *
net_conn_slice (NetConn *conn, const guint8 *data, gsize len)
{
  ReadBuf *rb = conn->reading;

  g_return_val_if_fail (conn != NULL, NULL);
  if (rb == NULL || data < rb->data || data + len > rb->data + READ_CHUNK)
    return g_bytes_new (data, len);
  rb->refs++;
  return g_bytes_new_with_free_func (data, len, read_buf_release, rb);
}

static void
do_read (NetConn *conn)
{
  gsize total = 0;

  conn->reading = read_buf_take ();
  while (reading_enabled (conn))
    {
      g_autoptr (GError) error = NULL;
      guint8 *buf;
      gsize n = 0;
      IoStatus status;

      if (total >= READ_BUDGET)
        {
          conn->kick = TRUE;
          break;
        }
      /* The last buffer is still sliced: read into another. */
      if (conn->reading->refs > 1)
        {
          read_buf_release (conn->reading);
          conn->reading = read_buf_take ();
        }
      buf = conn->reading->data;
      /* Once shut down, drain the transport itself: nothing in the TLS
       * stream matters any more. */
      if (conn->state == NET_CONN_STATE_CLOSING)
        status = conn->transport->read (conn, buf, READ_CHUNK, &n, &error);
      else
        status = conn_read (conn, buf, READ_CHUNK, &n, &error);

      if (status == IO_DONE)
        {
          conn->read_wants_write = FALSE;
          conn->bytes_in += n;
          total += n;
          touch (conn);
          if (conn->state == NET_CONN_STATE_OPEN && conn->cb.on_data != NULL)
            conn->cb.on_data (conn, buf, n, conn->user_data);
          /* A short read took all the kernel had; only SSL may hold more. */
          if (n < READ_CHUNK && conn->ssl == NULL)
            break;
          continue;
        }
      if (status == IO_WANT_READ || status == IO_WANT_WRITE)
        conn->read_wants_write = status == IO_WANT_WRITE;
      else if (status == IO_EOF && conn->state == NET_CONN_STATE_CLOSING)
        fail_closed_locally (conn);
      else if (status == IO_EOF)
        fail_peer_closed (conn, &error);
      else
        fail (conn, g_steal_pointer (&error));
      break;
    }
  read_buf_release (g_steal_pointer (&conn->reading));
}

/* The owner's flow control resumes its producer here. */
static void
check_drained (NetConn *conn)
{
  if (conn->state == NET_CONN_STATE_OPEN && conn->congested &&
      conn->queued <= conn->low_watermark)
    {
      conn->congested = FALSE;
      if (conn->cb.on_drained != NULL)
        conn->cb.on_drained (conn, conn->user_data);
    }
}

static void
handle_io (NetConn *conn)
{
  if (conn->state == NET_CONN_STATE_CONNECTING)
    finish_connect (conn);
  if (conn->state == NET_CONN_STATE_HANDSHAKING)
    do_handshake (conn);
  if (conn->state == NET_CONN_STATE_OPEN && conn->connected_pending)
    {
      conn->connected_pending = FALSE;
      if (conn->cb.on_connected != NULL)
        conn->cb.on_connected (conn, conn->user_data);
    }
  if (conn->state == NET_CONN_STATE_OPEN ||
      conn->state == NET_CONN_STATE_CLOSING)
    {
      if (has_write_work (conn))
        do_write (conn);
      if (reading_enabled (conn))
        do_read (conn);
    }
  check_drained (conn);
}

/* The turn ends: write what it queued. */
static void
flush (NetConn *conn)
{
  if ((conn->state == NET_CONN_STATE_OPEN ||
       conn->state == NET_CONN_STATE_CLOSING) &&
      has_write_work (conn) && !conn->write_wants_read)
    do_write (conn);
  check_drained (conn);
}

static void
handle_timers (NetConn *conn, gint64 now)
{
  if (conn->deadline >= 0 && now >= conn->deadline)
    {
      switch (conn->state)
        {
        case NET_CONN_STATE_CONNECTING:
          fail (conn,
                conn_error (NET_CONN_CLOSED_TIMEOUT,
                            "connect to %s timed out after %" G_GINT64_FORMAT
                            " ms",
                            conn->peer_address, conn->connect_timeout / 1000));
          break;
        case NET_CONN_STATE_HANDSHAKING:
          fail (conn,
                conn_error (
                    NET_CONN_CLOSED_TIMEOUT,
                    "TLS handshake with %s timed out after %" G_GINT64_FORMAT
                    " ms",
                    conn->peer_address, conn->handshake_timeout / 1000));
          break;
        case NET_CONN_STATE_CLOSING:
          if (has_write_work (conn))
            fail (conn,
                  conn_error (NET_CONN_CLOSED_TIMEOUT,
                              "closing the connection to %s timed out "
                              "after %" G_GINT64_FORMAT
                              " ms with %" G_GSIZE_FORMAT " bytes unsent",
                              conn->peer_address, conn->close_timeout / 1000,
                              conn->queued));
          else /* all sent; the peer did not close its side in time */
            fail_closed_locally (conn);
          break;
        default:
          break;
        }
    }
  if (idle_counts (conn) && now >= conn->idle_check)
    {
      if (now - conn->last_activity >= conn->idle_timeout)
        fail (conn,
              conn_error (NET_CONN_CLOSED_IDLE,
                          "no bytes to or from %s "
                          "for %" G_GINT64_FORMAT " ms",
                          conn->peer_address, conn->idle_timeout / 1000));
      else
        conn->idle_check = conn->last_activity + conn->idle_timeout;
    }
}

/* The owner hears of a close from the loop, never from inside a
 * net_conn_*() call. */
static void
tell_closed (NetConn *conn)
{
  if (conn->closed_pending)
    {
      GError *error = conn->close_error;

      conn->closed_pending = FALSE;
      if (conn->cb.on_closed != NULL)
        conn->cb.on_closed (conn, (NetConnCloseReason) error->code, error,
                            conn->user_data);
      if (conn->closing_ref)
        {
          conn->closing_ref = FALSE;
          net_conn_unref (conn);
        }
    }
}

/* The descriptor is ready, the connection was woken, or the turn ends:
 * what one turn queued leaves in one write (sendmsg() with every queued
 * piece, or one TLS record of the small ones), not one per
 * net_conn_write(). */
static void
on_watch (NetLoop *loop, NetWatch *watch, guint events, gpointer data)
{
  NetConn *conn = net_conn_ref (data);

  if (events & (NET_WATCH_IN | NET_WATCH_OUT | NET_WATCH_SOFT))
    {
      conn->kick = FALSE;
      handle_io (conn);
    }
  else if (events & NET_WATCH_TURN_END)
    {
      flush (conn);
    }
  tell_closed (conn);
  update_io (conn);
  net_conn_unref (conn);
}

static void
on_timer (NetLoop *loop, NetTimer *timer, gpointer data)
{
  NetConn *conn = net_conn_ref (data);

  handle_timers (conn, net_loop_now (loop));
  tell_closed (conn);
  update_io (conn);
  net_conn_unref (conn);
}
/* --- construction ----------------------------------------------------- */

/* TCP keep-alives and the user timeout of @o on the socket @fd: four or
 * five setsockopt() per connection, once.  They cannot fail on a TCP
 * socket with values in the kernel's ranges, which the configuration
 * checks; a failure would leave the kernel's defaults, so it is not
 * fatal. */
static void
set_tcp_timers (int fd, const NetConnOptions *o)
{
  int on = 1;
  int idle = (int) o->keepalive_idle_s;
  int interval = (int) o->keepalive_interval_s;
  int count = (int) o->keepalive_count;
  unsigned int user_timeout = o->user_timeout_ms;

  if (idle > 0)
    {
      setsockopt (fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
      setsockopt (fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
      if (interval > 0)
        setsockopt (fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval,
                    sizeof interval);
      if (count > 0)
        setsockopt (fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
    }
  if (user_timeout > 0)
    setsockopt (fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
                sizeof user_timeout);
}

static NetConn *
conn_new (int fd, const NetConnOptions *options)
{
  NetConn *conn = g_new0 (NetConn, 1);
  NetConnOptions o = options != NULL ? *options : (NetConnOptions){ 0 };
  int one = 1;
  g_atomic_ref_count_init (&conn->ref_count);
  conn->loop = net_loop_ref (net_loop_get_default ());
  net_watch_init (&conn->watch, fd, on_watch, conn);
  net_timer_init (&conn->timer, on_timer, conn);
  conn->id = next_id ();
  conn->transport = &tcp_transport;
  conn->fd = fd;
  conn->start_time = net_loop_now (conn->loop);
  conn->last_activity = conn->start_time;
  conn->deadline = -1;
  g_queue_init (&conn->queue);

  conn->high_watermark = o.high_watermark != 0
                             ? o.high_watermark
                             : NET_CONN_DEFAULT_HIGH_WATERMARK;
  conn->low_watermark =
      o.low_watermark != 0 ? o.low_watermark : NET_CONN_DEFAULT_LOW_WATERMARK;
  if (conn->low_watermark >= conn->high_watermark)
    conn->low_watermark = conn->high_watermark / 2;
  conn->connect_timeout =
      1000 * (gint64) (o.connect_timeout_ms != 0
                           ? o.connect_timeout_ms
                           : NET_CONN_DEFAULT_CONNECT_TIMEOUT_MS);
  conn->handshake_timeout =
      1000 * (gint64) (o.handshake_timeout_ms != 0
                           ? o.handshake_timeout_ms
                           : NET_CONN_DEFAULT_HANDSHAKE_TIMEOUT_MS);
  conn->close_timeout =
      1000 * (gint64) (o.close_timeout_ms != 0
                           ? o.close_timeout_ms
                           : NET_CONN_DEFAULT_CLOSE_TIMEOUT_MS);
  conn->idle_timeout = 1000 * (gint64) o.idle_timeout_ms;

  /* MSRP chunks are written whole (gathered), so Nagle only adds delay. */
  if (fd >= 0)
    {
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      set_tcp_timers (fd, &o);
    }
  return conn;
}

static gboolean
attach_tls (NetConn *conn, SSL *ssl, GError **error)
{
  BIO_METHOD *method = conn_bio_method ();
  BIO *bio = method != NULL ? BIO_new (method) : NULL;

  if (bio == NULL)
    {
      net_tls_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_INTERNAL,
                         "cannot create a TLS transport for %s",
                         conn->peer_address);
      SSL_free (ssl);
      return FALSE;
    }
  BIO_set_data (bio, conn);
  SSL_set_bio (ssl, bio, bio);
  conn->ssl = ssl;
  return TRUE;
}

NetConn *
net_conn_new_accepted_from (int fd, const char *peer_address, NetTls *tls,
                            const NetConnOptions *options, GError **error)
{
  g_autoptr (NetConn) conn = NULL;
  SSL *ssl = NULL;

  if (tls != NULL && (ssl = net_tls_new_server_ssl (tls, error)) == NULL)
    {
      close (fd);
      return NULL;
    }
  conn = conn_new (fd, options);
  conn->peer_address = g_strdup (peer_address);
  conn->local_address = sockname_string (fd, FALSE);
  if (conn->local_address == NULL)
    conn->local_address = g_strdup ("");
  if (ssl != NULL)
    {
      if (!attach_tls (conn, ssl, error))
        return NULL;
      SSL_set_accept_state (ssl);
      conn->tls = net_tls_ref (tls);
    }
  start_transport (conn);
  update_io (conn);
  return g_steal_pointer (&conn);
}

NetConn *
net_conn_new_accepted (int fd, NetTls *tls, const NetConnOptions *options,
                       GError **error)
{
  g_autofree char *peer = NULL;

  g_return_val_if_fail (fd >= 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  errno = 0;
  peer = sockname_string (fd, TRUE);
  if (peer == NULL)
    {
      int err = errno != 0 ? errno : EAFNOSUPPORT; /* not an IP socket */

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   "socket %d is not a connected IP socket: %s", fd,
                   g_strerror (err));
      close (fd);
      return NULL;
    }
  return net_conn_new_accepted_from (fd, peer, tls, options, error);
}

NetConn *
net_conn_new_from_stream (GIOStream *stream, const char *transport_name,
                          const char *peer_address, const char *local_address,
                          const NetConnOptions *options, GError **error)
{
  GInputStream *in;
  GOutputStream *out;
  NetConn *conn;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);
  g_return_val_if_fail (transport_name != NULL && peer_address != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  in = g_io_stream_get_input_stream (stream);
  out = g_io_stream_get_output_stream (stream);
  if (!G_IS_POLLABLE_INPUT_STREAM (in) ||
      !g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (in)) ||
      !G_IS_POLLABLE_OUTPUT_STREAM (out) ||
      !g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (out)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "the %s stream with %s cannot be used without blocking",
                   transport_name, peer_address);
      return NULL;
    }
  conn = conn_new (-1, options);
  conn->transport = &stream_transport;
  conn->stream = g_object_ref (stream);
  conn->transport_name = g_strdup (transport_name);
  conn->peer_address = g_strdup (peer_address);
  conn->local_address = g_strdup (local_address != NULL ? local_address : "");
  start_transport (conn);
  update_io (conn);
  return conn;
}

/* The virtual network (net_loop_set_virtual_network()): @conn, made for a
 * connect to @address, is joined to a new in-memory connection offered to
 * the listener bound there, or meets ECONNREFUSED when there is none, or
 * no answer at all when the host is a black hole. */
static void
mem_connect (NetConn *conn, GSocketAddress *address)
{
  static guint16 next_port = 50000;
  NetListener *l = net_listener_find_virtual (conn->loop, address);
  GInetAddress *host =
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  gboolean v6 = g_inet_address_get_family (host) == G_SOCKET_FAMILY_IPV6;
  g_autofree char *host_text = g_inet_address_to_string (host);
  const char *source = net_loop_get_virtual_source (conn->loop);
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GError) error = NULL;
  MemPipe *up, *down;
  NetConn *server;
  NetTls *tls;
  SSL *ssl = NULL;

  conn->transport = &mem_transport;
  local = g_inet_socket_address_new_from_string (
      source != NULL ? source : (v6 ? "::1" : "127.0.0.1"), next_port++);
  if (next_port == 0)
    next_port = 50000;
  conn->local_address = net_addr_to_string (local);
  if (net_loop_is_virtual_black_hole (conn->loop, host_text))
    {
      conn->mem_silent = TRUE;
      return;
    }
  if (l == NULL)
    {
      conn->mem_error = ECONNREFUSED;
      return;
    }
  tls = net_listener_get_tls (l);
  if (tls != NULL && (ssl = net_tls_new_server_ssl (tls, &error)) == NULL)
    {
      g_warning ("virtual network: %s", error->message);
      conn->mem_error = ECONNRESET;
      return;
    }
  server = conn_new (-1, net_listener_get_options (l));
  server->transport = &mem_transport;
  server->peer_address = g_strdup (conn->local_address);
  server->local_address = g_strdup (net_listener_get_address_string (l));
  up = g_new0 (MemPipe, 1);
  down = g_new0 (MemPipe, 1);
  up->writer = down->reader = conn;
  up->reader = down->writer = server;
  conn->mem_out = server->mem_in = up;
  conn->mem_in = server->mem_out = down;
  if (ssl != NULL)
    {
      if (!attach_tls (server, ssl, &error))
        {
          net_conn_unref (server);
          return;
        }
      SSL_set_accept_state (ssl);
      server->tls = net_tls_ref (tls);
    }
  start_transport (server);
  /* It runs once the listener has taken it (net_conn_start_offered()). */
  net_listener_offer (l, server, local);
  net_conn_unref (server);
}

void
net_conn_start_offered (NetConn *conn)
{
  update_io (conn);
}

NetConn *
net_conn_connect (GSocketAddress *address, NetTls *tls, const char *peer_name,
                  const NetConnOptions *options, GError **error)
{
  struct sockaddr_storage ss;
  g_autoptr (NetConn) conn = NULL;
  g_autofree char *peer = NULL;
  SSL *ssl = NULL;
  socklen_t len;
  int fd;

  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (address), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  peer = net_addr_to_string (address);
  len = (socklen_t) g_socket_address_get_native_size (address);
  if (!g_socket_address_to_native (address, &ss, sizeof ss, error))
    return NULL;

  if (tls != NULL)
    {
      g_autofree char *ip = NULL;

      if (peer_name == NULL)
        peer_name = ip =
            g_inet_address_to_string (g_inet_socket_address_get_address (
                G_INET_SOCKET_ADDRESS (address)));
      ssl = net_tls_new_client_ssl (tls, peer_name, error);
      if (ssl == NULL)
        return NULL;
    }

  if (net_loop_has_virtual_network (net_loop_get_default ()))
    fd = -1;
  else if ((fd = socket (ss.ss_family,
                         SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                         IPPROTO_TCP)) < 0)
    {
      int err = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   "cannot create a socket to connect to %s: %s", peer,
                   g_strerror (err));
      if (ssl != NULL)
        SSL_free (ssl);
      return NULL;
    }
  conn = conn_new (fd, options);
  conn->peer_address = g_steal_pointer (&peer);
  if (ssl != NULL)
    {
      if (!attach_tls (conn, ssl, error))
        return NULL;
      SSL_set_connect_state (ssl);
      conn->tls = net_tls_ref (tls);
    }

  conn->state = NET_CONN_STATE_CONNECTING;
  conn->deadline = conn->start_time + conn->connect_timeout;
  if (fd < 0)
    {
      mem_connect (conn, address);
      update_io (conn);
      return g_steal_pointer (&conn);
    }
  if (connect (fd, (struct sockaddr *) &ss, len) == 0)
    {
      conn->kick = TRUE; /* connected at once: finish from the loop */
    }
  else if (errno != EINPROGRESS && errno != EINTR)
    {
      fail (conn, connect_error (conn, errno));
    }
  if (conn->state == NET_CONN_STATE_CONNECTING)
    conn->local_address = sockname_string (fd, FALSE);
  if (conn->local_address == NULL)
    conn->local_address = g_strdup ("");
  update_io (conn);
  return g_steal_pointer (&conn);
}

/* --- public ----------------------------------------------------------- */

NetConn *
net_conn_ref (NetConn *conn)
{
  g_return_val_if_fail (conn != NULL, NULL);
  g_atomic_ref_count_inc (&conn->ref_count);
  return conn;
}

void
net_conn_unref (NetConn *conn)
{
  if (conn == NULL || !g_atomic_ref_count_dec (&conn->ref_count))
    return;
  if (conn->state != NET_CONN_STATE_CLOSED)
    teardown (conn, FALSE);
  net_watch_remove (conn->loop, &conn->watch);
  net_timer_cancel (conn->loop, &conn->timer);
  net_loop_unref (conn->loop);
  g_clear_error (&conn->close_error);
  if (conn->tls != NULL)
    net_tls_unref (conn->tls);
  if (conn->user_destroy != NULL)
    conn->user_destroy (conn->user_data);
  g_free (conn->peer_address);
  g_free (conn->local_address);
  g_free (conn->peer_subject);
  g_free (conn->transport_name);
  g_free (conn);
}

void
net_conn_set_callbacks (NetConn *conn, const NetConnCallbacks *callbacks,
                        gpointer user_data, GDestroyNotify destroy)
{
  GDestroyNotify old_destroy;
  gpointer old_data;

  g_return_if_fail (conn != NULL);
  old_destroy = conn->user_destroy;
  old_data = conn->user_data;
  conn->cb = callbacks != NULL ? *callbacks : (NetConnCallbacks){ 0 };
  conn->user_data = user_data;
  conn->user_destroy = destroy;
  if (old_destroy != NULL)
    old_destroy (old_data);
}

gboolean
net_conn_write (NetConn *conn, GBytes *bytes)
{
  gboolean was_empty;

  g_return_val_if_fail (conn != NULL, FALSE);
  g_return_val_if_fail (bytes != NULL, FALSE);

  if (conn->state >= NET_CONN_STATE_CLOSING)
    return FALSE;
  if (g_bytes_get_size (bytes) == 0)
    return TRUE;
  was_empty = conn->queued == 0;
  g_queue_push_tail (&conn->queue, g_bytes_ref (bytes));
  conn->queued += g_bytes_get_size (
      bytes); /* Written at the end of the turn, with whatever else the turn
               * queues; with bytes already queued the socket is full (or SSL
               * waits to read), and the loop writes when it can. */
  if (conn->state == NET_CONN_STATE_OPEN && was_empty &&
      !conn->write_wants_read)
    net_watch_at_turn_end (conn->loop, &conn->watch);
  if (conn->queued >= conn->high_watermark)
    conn->congested = TRUE;
  update_io (conn);
  return conn->state < NET_CONN_STATE_CLOSING;
}

gsize
net_conn_get_queued_bytes (NetConn *conn)
{
  g_return_val_if_fail (conn != NULL, 0);
  return conn->queued;
}

gboolean
net_conn_is_congested (NetConn *conn)
{
  g_return_val_if_fail (conn != NULL, FALSE);
  return conn->congested;
}

void
net_conn_pause_reading (NetConn *conn)
{
  g_return_if_fail (conn != NULL);
  if (conn->read_paused)
    return;
  conn->read_paused = TRUE;
  if (conn->state != NET_CONN_STATE_CLOSED)
    update_io (conn);
}

void
net_conn_resume_reading (NetConn *conn)
{
  g_return_if_fail (conn != NULL);
  if (!conn->read_paused)
    return;
  conn->read_paused = FALSE;
  if (conn->state == NET_CONN_STATE_CLOSED)
    return;
  arm_idle (conn);
  /* Records SSL has already read from the socket will not wake poll(). */
  if (conn->ssl != NULL && SSL_has_pending (conn->ssl))
    conn->kick = TRUE;
  update_io (conn);
}

gboolean
net_conn_is_reading_paused (NetConn *conn)
{
  g_return_val_if_fail (conn != NULL, FALSE);
  return conn->read_paused;
}

void
net_conn_set_idle_exempt (NetConn *conn, gboolean exempt)
{
  g_return_if_fail (conn != NULL);
  if (conn->idle_exempt == (exempt != FALSE))
    return;
  conn->idle_exempt = exempt != FALSE;
  if (conn->state == NET_CONN_STATE_CLOSED)
    return;
  if (!exempt)
    arm_idle (conn);
  update_io (conn);
}

void
net_conn_close (NetConn *conn)
{
  g_return_if_fail (conn != NULL);

  if (conn->state == NET_CONN_STATE_CLOSING ||
      conn->state == NET_CONN_STATE_CLOSED)
    return;
  conn->closing_ref = TRUE;
  net_conn_ref (conn);
  if (conn->state != NET_CONN_STATE_OPEN)
    {
      fail (conn, conn_error (NET_CONN_CLOSED_LOCAL,
                              "closed connection with %s "
                              "before it was open",
                              conn->peer_address));
      return;
    }
  conn->state = NET_CONN_STATE_CLOSING;
  conn->connected_pending = FALSE;
  conn->deadline = net_loop_now (conn->loop) + conn->close_timeout;
  conn->kick = TRUE;
  update_io (conn);
}

void
net_conn_abort (NetConn *conn, gboolean reset)
{
  g_return_if_fail (conn != NULL);

  if (conn->state != NET_CONN_STATE_CLOSED)
    teardown (conn, reset);
  conn->closed_pending = FALSE;
  conn->connected_pending = FALSE;
  update_io (conn);
  if (conn->closing_ref)
    {
      conn->closing_ref = FALSE;
      net_conn_unref (conn);
    }
}

NetConnState
net_conn_get_state (NetConn *conn)
{
  g_return_val_if_fail (conn != NULL, NET_CONN_STATE_CLOSED);
  return conn->state;
}

guint64
net_conn_get_id (NetConn *conn)
{
  g_return_val_if_fail (conn != NULL, 0);
  return conn->id;
}

guint64
net_conn_get_bytes_in (NetConn *conn)
{
  g_return_val_if_fail (conn != NULL, 0);
  return conn->bytes_in;
}

guint64
net_conn_get_bytes_out (NetConn *conn)
{
  g_return_val_if_fail (conn != NULL, 0);
  return conn->bytes_out;
}

gint64
net_conn_get_start_time (NetConn *conn)
{
  g_return_val_if_fail (conn != NULL, 0);
  return conn->start_time;
}

gint64
net_conn_get_last_activity (NetConn *conn)
{
  g_return_val_if_fail (conn != NULL, 0);
  return conn->last_activity;
}

const char *
net_conn_get_peer_address (NetConn *conn)
{
  g_return_val_if_fail (conn != NULL, NULL);
  return conn->peer_address;
}

const char *
net_conn_get_local_address (NetConn *conn)
{
  g_return_val_if_fail (conn != NULL, NULL);
  return conn->local_address;
}

const char *
net_conn_get_transport_name (NetConn *conn)
{
  g_return_val_if_fail (conn != NULL, NULL);
  if (conn->tls != NULL)
    return "tls";
  return conn->transport_name != NULL ? conn->transport_name
                                      : conn->transport->name;
}

const char *
net_conn_get_peer_subject (NetConn *conn)
{
  g_return_val_if_fail (conn != NULL, NULL);
  return conn->peer_subject;
}

char *
net_conn_get_peer_fingerprint (NetConn *conn, const char *hash_func)
{
  X509 *cert;

  g_return_val_if_fail (conn != NULL && hash_func != NULL, NULL);
  if (conn->ssl == NULL)
    return NULL;
  cert = SSL_get0_peer_certificate (conn->ssl);
  return cert != NULL ? net_tls_fingerprint (cert, hash_func) : NULL;
}

gboolean
net_conn_peer_certificate_matches (NetConn *conn, const char *host)
{
  X509 *cert;

  g_return_val_if_fail (conn != NULL, FALSE);
  g_return_val_if_fail (host != NULL, FALSE);
  /* peer_subject is set only for a certificate that verified. */
  if (conn->ssl == NULL || conn->peer_subject == NULL)
    return FALSE;
  cert = SSL_get0_peer_certificate (conn->ssl);
  if (cert == NULL)
    return FALSE;
  if (X509_check_ip_asc (cert, host, 0) == 1)
    return TRUE;
  return X509_check_host (cert, host, strlen (host),
                          X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
}
