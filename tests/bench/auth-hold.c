/* auth-hold: the load tool of tests/bench/bench-relay.sh for memory per
 * idle connection and per idle relayed session.  It opens N TCP
 * connections to an MSRP relay and, given a user and a password, makes
 * each one AUTH (RFC 4976 section 5.1, Digest answered with libmsrp's
 * client helper: the first usable challenge, SHA-256 before MD5), then
 * holds them all idle, writes "ready N" on stdout and waits for SIGTERM or
 * SIGINT.  Blocking sockets, in batches of BATCH connections: each step
 * (connect, AUTH, 401, credentials, 200) is done on the whole batch before
 * the next, so that the relay sees many requests per main-loop turn (a
 * GLib main loop polls every connection on each turn: one AUTH at a time
 * against 10,000 open connections would take minutes).  The point is the
 * relay's memory at rest, not its AUTH rate.
 *
 *   auth-hold HOST PORT N [USER PASSWORD]
 *
 * Raise RLIMIT_NOFILE (ulimit -n) above N first.  Exit status 1 when a
 * connection or an AUTH fails (the count reached is printed).
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "msrp-digest.h"

#define BATCH 250

static volatile sig_atomic_t stop;

static void
on_signal (int sig)
{
  (void) sig;
  stop = 1;
}

static int
connect_to (const char *host, const char *port)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
  int fd;

  if (getaddrinfo (host, port, &hints, &ai) != 0)
    return -1;
  fd = socket (ai->ai_family, SOCK_STREAM, 0);
  if (fd >= 0 && connect (fd, ai->ai_addr, ai->ai_addrlen) < 0)
    {
      close (fd);
      fd = -1;
    }
  freeaddrinfo (ai);
  return fd;
}

static gboolean
send_all (int fd, const char *s)
{
  size_t len = strlen (s);

  while (len > 0)
    {
      ssize_t w = send (fd, s, len, MSG_NOSIGNAL);

      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return FALSE;
      s += w;
      len -= (size_t) w;
    }
  return TRUE;
}

/* Read the response to @tid (the whole frame, to its end-line).
 * Returns: (transfer full) (nullable): the frame, NULL on EOF or error. */
static char *
read_response (int fd, const char *tid)
{
  g_autoptr (GString) buf = g_string_new (NULL);
  g_autofree char *end = g_strdup_printf ("\r\n-------%s$\r\n", tid);
  char chunk[4096];

  while (strstr (buf->str, end) == NULL)
    {
      ssize_t r = recv (fd, chunk, sizeof chunk, 0);

      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0 || buf->len > 65536)
        return NULL;
      g_string_append_len (buf, chunk, r);
    }
  return g_string_free (g_steal_pointer (&buf), FALSE);
}

static char *
auth_frame (const char *tid, const char *relay_uri, const char *from,
            const char *authorization)
{
  return g_strdup_printf ("MSRP %s AUTH\r\nTo-Path: %s\r\nFrom-Path: %s\r\n"
                          "%s%s%s-------%s$\r\n",
                          tid, relay_uri, from,
                          authorization != NULL ? "Authorization: " : "",
                          authorization != NULL ? authorization : "",
                          authorization != NULL ? "\r\n" : "", tid);
}

static char *
from_uri (guint i)
{
  return g_strdup_printf ("msrp://127.0.0.1:9/hold%u;tcp", i);
}

/* AUTH without credentials on @fd (the 401 is read by auth_answer). */
static gboolean
auth_start (int fd, guint i, const char *relay_uri)
{
  g_autofree char *from = from_uri (i);
  g_autofree char *tid1 = g_strdup_printf ("hold%ua", i);
  g_autofree char *req1 = auth_frame (tid1, relay_uri, from, NULL);

  if (!send_all (fd, req1))
    {
      fprintf (stderr, "auth-hold: connection %u: cannot send AUTH\n", i);
      return FALSE;
    }
  return TRUE;
}

/* Read the 401 on @fd and send the credentials. */
static gboolean
auth_answer (int fd, guint i, const char *relay_uri, const char *user,
             const char *password)
{
  g_autofree char *from = from_uri (i);
  g_autofree char *tid1 = g_strdup_printf ("hold%ua", i);
  g_autofree char *tid2 = g_strdup_printf ("hold%ub", i);
  g_autofree char *resp1 = NULL, *req2 = NULL;
  g_autofree char *value = NULL;
  g_autoptr (MsrpDigestChallenge) challenge = NULL;
  g_autoptr (MsrpDigestCredentials) creds = NULL;
  g_autoptr (GError) error = NULL;
  const char *p, *line_end;

  if ((resp1 = read_response (fd, tid1)) == NULL)
    {
      fprintf (stderr, "auth-hold: connection %u: no answer to AUTH\n", i);
      return FALSE;
    }
  p = strstr (resp1, "\r\nWWW-Authenticate: ");
  if (strncmp (resp1 + 5 + strlen (tid1), " 401", 4) != 0 || p == NULL)
    {
      fprintf (stderr, "auth-hold: connection %u: no 401 challenge\n", i);
      return FALSE;
    }
  p += strlen ("\r\nWWW-Authenticate: ");
  line_end = strstr (p, "\r\n");
  challenge = msrp_digest_challenge_parse (p, (gsize) (line_end - p), &error);
  if (challenge == NULL)
    {
      fprintf (stderr, "auth-hold: connection %u: %s\n", i, error->message);
      return FALSE;
    }
  creds = msrp_digest_client_respond (challenge, user, password, NULL, "AUTH",
                                      relay_uri, 1, &error);
  if (creds == NULL)
    {
      fprintf (stderr, "auth-hold: connection %u: %s\n", i, error->message);
      return FALSE;
    }
  value = msrp_digest_credentials_to_string (creds);
  req2 = auth_frame (tid2, relay_uri, from, value);
  if (!send_all (fd, req2))
    {
      fprintf (stderr, "auth-hold: connection %u: cannot send AUTH\n", i);
      return FALSE;
    }
  return TRUE;
}

/* Read the 200 that ends the AUTH on @fd. */
static gboolean
auth_finish (int fd, guint i)
{
  g_autofree char *tid2 = g_strdup_printf ("hold%ub", i);
  g_autofree char *resp2 = read_response (fd, tid2);

  if (resp2 == NULL || strncmp (resp2 + 5 + strlen (tid2), " 200", 4) != 0)
    {
      fprintf (stderr, "auth-hold: connection %u: AUTH not answered 200\n", i);
      return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autofree char *relay_uri = NULL;
  g_autofree int *fds = NULL;
  const char *user = NULL, *password = NULL;
  guint n, i, opened = 0;
  int status = 0;

  if (argc != 4 && argc != 6)
    {
      fprintf (stderr, "usage: auth-hold HOST PORT N [USER PASSWORD]\n");
      return 2;
    }
  n = (guint) g_ascii_strtoull (argv[3], NULL, 10);
  if (argc == 6)
    {
      user = argv[4];
      password = argv[5];
    }
  relay_uri = g_strdup_printf ("msrp://%s:%s;tcp", argv[1], argv[2]);
  fds = g_new0 (int, MAX (n, 1));
  signal (SIGTERM, on_signal);
  signal (SIGINT, on_signal);
  signal (SIGPIPE, SIG_IGN);

  for (guint first = 0; first < n && !stop && status == 0; first += BATCH)
    {
      guint last = MIN (first + BATCH, n);

      for (i = first; i < last && status == 0; i++)
        {
          fds[i] = connect_to (argv[1], argv[2]);
          if (fds[i] < 0)
            {
              fprintf (stderr, "auth-hold: connection %u: %s\n", i,
                       strerror (errno));
              status = 1;
              break;
            }
          opened++;
        }
      if (user == NULL)
        continue;
      for (i = first; i < last && status == 0; i++)
        if (!auth_start (fds[i], i, relay_uri))
          status = 1;
      for (i = first; i < last && status == 0; i++)
        if (!auth_answer (fds[i], i, relay_uri, user, password))
          status = 1;
      for (i = first; i < last && status == 0; i++)
        if (!auth_finish (fds[i], i))
          status = 1;
    }
  printf ("%s %u\n", status == 0 ? "ready" : "failed", opened);
  fflush (stdout);
  while (!stop && status == 0)
    pause ();
  for (i = 0; i < opened; i++)
    close (fds[i]);
  return status;
}
