/* tcp-forward: a plain TCP forwarder, the ceiling msrp-edge is measured
 * against in tests/bench/bench-relay.sh.  It accepts connections on
 * LISTEN (host:port, port 0 for a free one, printed on stdout) and joins
 * each to a new connection to TARGET, copying bytes both ways through a
 * user-space buffer, as a relay must (no splice): one poll() loop, one
 * process, non-blocking sockets, TCP_NODELAY like msrp-edge.  Reading
 * from one side pauses while its buffer waits for the other side.
 *
 *   tcp-forward LISTEN-HOST:PORT TARGET-HOST:PORT
 *
 * Runs until SIGTERM or SIGINT.  Not a test and not installed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE (256 * 1024)
#define MAX_PAIRS 512

typedef struct
{
  int from;
  int to;
  char *buf;
  size_t len; /* bytes in buf not yet written */
  size_t off; /* of them, already written */
  int eof;    /* from closed its side */
} Pipe;

typedef struct
{
  int used;
  Pipe up;   /* client -> target */
  Pipe down; /* target -> client */
} Pair;

static volatile sig_atomic_t stop;

static void
on_signal (int sig)
{
  (void) sig;
  stop = 1;
}

static int
split_host_port (const char *s, char *host, size_t host_size, char *port,
                 size_t port_size)
{
  const char *colon = strrchr (s, ':');
  size_t n;

  if (colon == NULL || colon == s)
    return -1;
  n = (size_t) (colon - s);
  if (s[0] == '[' && colon[-1] == ']')
    {
      s++;
      n -= 2;
    }
  if (n >= host_size || strlen (colon + 1) >= port_size)
    return -1;
  memcpy (host, s, n);
  host[n] = '\0';
  strcpy (port, colon + 1);
  return 0;
}

static int
resolve (const char *spec, struct addrinfo **out)
{
  char host[256], port[16];
  struct addrinfo hints;

  if (split_host_port (spec, host, sizeof host, port, sizeof port) < 0)
    {
      fprintf (stderr, "tcp-forward: '%s' is not HOST:PORT\n", spec);
      return -1;
    }
  memset (&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  if (getaddrinfo (host, port, &hints, out) != 0)
    {
      fprintf (stderr, "tcp-forward: cannot resolve '%s'\n", spec);
      return -1;
    }
  return 0;
}

static void
tune (int fd)
{
  int one = 1;

  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
}

static void
pair_close (Pair *p)
{
  close (p->up.from);
  close (p->down.from);
  free (p->up.buf);
  free (p->down.buf);
  memset (p, 0, sizeof *p);
}

/* Move what can be moved on one direction; -1 when the pair must close. */
static int
pipe_run (Pipe *pp, short from_events, short to_events)
{
  if (pp->len > pp->off && (to_events & (POLLOUT | POLLERR | POLLHUP)))
    {
      ssize_t w =
          send (pp->to, pp->buf + pp->off, pp->len - pp->off, MSG_NOSIGNAL);

      if (w < 0 && errno != EAGAIN && errno != EINTR)
        return -1;
      if (w > 0)
        pp->off += (size_t) w;
      if (pp->off == pp->len)
        pp->off = pp->len = 0;
    }
  if (pp->len == 0 && !pp->eof && (from_events & (POLLIN | POLLERR | POLLHUP)))
    {
      ssize_t r = recv (pp->from, pp->buf, BUF_SIZE, 0);

      if (r == 0)
        {
          pp->eof = 1;
          shutdown (pp->to, SHUT_WR);
        }
      else if (r < 0 && errno != EAGAIN && errno != EINTR)
        {
          return -1;
        }
      else if (r > 0)
        {
          pp->len = (size_t) r;
        }
    }
  return 0;
}

int
main (int argc, char **argv)
{
  static Pair pairs[MAX_PAIRS];
  static struct pollfd fds[1 + 2 * MAX_PAIRS];
  struct addrinfo *listen_ai = NULL, *target_ai = NULL;
  struct sockaddr_storage bound;
  socklen_t bound_len = sizeof bound;
  char host[NI_MAXHOST], port[NI_MAXSERV];
  int lfd, one = 1;

  if (argc != 3)
    {
      fprintf (stderr,
               "usage: tcp-forward LISTEN-HOST:PORT TARGET-HOST:PORT\n");
      return 2;
    }
  if (resolve (argv[1], &listen_ai) < 0 || resolve (argv[2], &target_ai) < 0)
    return 2;
  lfd = socket (listen_ai->ai_family, SOCK_STREAM, 0);
  setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (lfd < 0 || bind (lfd, listen_ai->ai_addr, listen_ai->ai_addrlen) < 0 ||
      listen (lfd, 128) < 0)
    {
      fprintf (stderr, "tcp-forward: cannot listen on %s: %s\n", argv[1],
               strerror (errno));
      return 1;
    }
  getsockname (lfd, (struct sockaddr *) &bound, &bound_len);
  getnameinfo ((struct sockaddr *) &bound, bound_len, host, sizeof host, port,
               sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
  printf ("%s\n", port);
  fflush (stdout);
  signal (SIGTERM, on_signal);
  signal (SIGINT, on_signal);
  signal (SIGPIPE, SIG_IGN);

  while (!stop)
    {
      nfds_t n = 1;
      int i;

      fds[0].fd = lfd;
      fds[0].events = POLLIN;
      for (i = 0; i < MAX_PAIRS; i++)
        {
          Pair *p = &pairs[i];

          if (!p->used)
            continue;
          fds[n].fd = p->up.from;
          fds[n].events =
              (short) ((p->up.len == 0 && !p->up.eof ? POLLIN : 0) |
                       (p->down.len > p->down.off ? POLLOUT : 0));
          fds[n + 1].fd = p->down.from;
          fds[n + 1].events =
              (short) ((p->down.len == 0 && !p->down.eof ? POLLIN : 0) |
                       (p->up.len > p->up.off ? POLLOUT : 0));
          n += 2;
        }
      if (poll (fds, n, 500) < 0)
        {
          if (errno == EINTR)
            continue;
          perror ("tcp-forward: poll");
          return 1;
        }
      n = 1;
      for (i = 0; i < MAX_PAIRS; i++)
        {
          Pair *p = &pairs[i];
          short ce, te;

          if (!p->used)
            continue;
          ce = fds[n].revents;
          te = fds[n + 1].revents;
          n += 2;
          if (pipe_run (&p->up, ce, te) < 0 ||
              pipe_run (&p->down, te, ce) < 0 ||
              (p->up.eof && p->down.eof && p->up.len == 0 && p->down.len == 0))
            pair_close (p);
        }
      if (fds[0].revents & POLLIN)
        {
          int cfd = accept (lfd, NULL, NULL);
          int tfd;

          if (cfd < 0)
            continue;
          for (i = 0; i < MAX_PAIRS && pairs[i].used; i++)
            ;
          tfd = socket (target_ai->ai_family, SOCK_STREAM, 0);
          if (i == MAX_PAIRS || tfd < 0 ||
              connect (tfd, target_ai->ai_addr, target_ai->ai_addrlen) < 0)
            {
              fprintf (stderr,
                       "tcp-forward: cannot forward a connection to %s\n",
                       argv[2]);
              close (cfd);
              if (tfd >= 0)
                close (tfd);
              continue;
            }
          tune (cfd);
          tune (tfd);
          pairs[i].used = 1;
          pairs[i].up = (Pipe){ cfd, tfd, malloc (BUF_SIZE), 0, 0, 0 };
          pairs[i].down = (Pipe){ tfd, cfd, malloc (BUF_SIZE), 0, 0, 0 };
        }
    }
  for (int i = 0; i < MAX_PAIRS; i++)
    if (pairs[i].used)
      pair_close (&pairs[i]);
  close (lfd);
  freeaddrinfo (listen_ai);
  freeaddrinfo (target_ai);
  return 0;
}
