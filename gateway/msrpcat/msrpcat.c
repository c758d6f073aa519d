/* msrpcat: send and receive MSRP messages and files (RFC 4975), directly or
 * through RFC 4976 relays with Digest AUTH, over TCP or TLS, in the active
 * or the passive connection role (RFC 6135).  What operators use like curl
 * or sipsak, and what the integration tests and benchmarks drive.
 *
 * The parts: mc-link (one connection: parser, frame events, 400s),
 * mc-auth (AUTH to relays), mc-sender (messages out, responses, REPORTs),
 * mc-receiver (messages in, answers, reassembly, output), mc-session (shared
 * state and the summary), mc-sdp (the SDP mode: our SDP, the peer's, the
 * roles of RFC 4145 / RFC 6135).  This file reads the command line, makes
 * the connections (TCP, TLS, or an ICE-TCP pair through ice/ice-leg.h) and
 * decides when the run is over and how it ended.
 *
 * SDP mode, as an offerer: [connect and AUTH to the relays,] gather ICE
 * candidates or listen, write --sdp-out, wait for --sdp-in, take the role
 * the answer leaves, connect (or run the ICE checks) or wait to be bound.
 * As an answerer (--answer): wait for --sdp-in, choose the role, [connect
 * and AUTH to the relays,] gather or listen, write --sdp-out, connect (or
 * run the checks) or wait to be bound.
 */
#include "msrp-edge-config.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib-unix.h>
#include <gio/gio.h>

#include "net-addr.h"
#include "net-conn.h"
#include "net-listener.h"
#include "net-resolve.h"
#include "net-tls.h"
#include "ice-leg.h"
#include "mc-auth.h"
#include "mc-link.h"
#include "mc-receiver.h"
#include "mc-sdp.h"
#include "mc-sender.h"
#include "mc-session.h"
#include "mc-util.h"
#include "msrp-digest.h"
#include "msrp-status.h"

/* How often the timeout is looked at. */
#define TICK_MS 100
/* After the run is over, how long closing connections may take. */
#define CLOSE_GRACE_MS 6000
/* How often --sdp-in is looked for. */
#define SDP_POLL_MS 50
/* Beyond --ice-timeout, how long the ICE agent may take to report. */
#define ICE_GUARD_MS 5000

typedef struct
{
  McConfig config;
  char *algorithm;
  McSession *session;
  GMainLoop *loop;
  NetTls *tls;
  gboolean passive;
  gboolean tls_wanted;
  NetListener *listener;
  GPtrArray *links;         /* McLink, open or closing */
  McLink *primary;          /* the link we send on */
  GPtrArray *relays;        /* MsrpUri */
  MsrpUri *first_hop;       /* active role */
  GCancellable *resolving;  /* while its addresses are looked up */
  GPtrArray *hop_addresses; /* its addresses, tried in order */
  guint hop_index;          /* the next one to try */
  McSender *sender;
  McReceiver *receiver;
  McAuth *auth;
  gboolean ready; /* active: connected and authenticated;
                   * passive: the first request bound a link */
  gboolean path_printed;
  gboolean finishing;
  gboolean quit;
  guint tick_id;
  guint grace_id;
  gint64 last_activity;
  /* SDP mode */
  gboolean sdp_mode;
  char *listen_address; /* where to listen: --listen, or
                         * --sdp-address with port 0 */
  MsrpSdpSetup setup;   /* our a=setup (ABSENT: no line) */
  gboolean setup_set;   /* --setup given */
  McSdpPeer *peer;      /* the peer's SDP, once read */
  gboolean role_active; /* once decided: we bind with our SEND */
  gboolean decided;
  gboolean sdp_written;
  gboolean await_peer; /* passive behind a relay: the peer's first
                        * SEND comes before ours (RFC 6135 4.5) */
  gboolean peer_spoke; /* a SEND for us arrived */
  guint start_id;
  guint sdp_poll_id;
  gint64 sdp_wait_start;
  /* ICE */
  GPtrArray *ice_addresses; /* GInetAddress */
  char *stun_host;
  guint stun_port;
  IceLeg *ice;
  GPtrArray *ice_candidates; /* ours, MsrpSdpCandidate */
  gboolean ice_ready;
  guint ice_guard_id;
  /* CEMA (RFC 6714) and fingerprints (RFC 8122) */
  char *connect_host;   /* the peer's c= when CEMA has us connect there */
  guint16 connect_port; /* its m= port */
  char *cert_pem;       /* a self-signed certificate made for the run */
  char *key_pem;
  GPtrArray *unverified; /* McLink: TLS links accepted before the peer's
                          * SDP (and fingerprint) was read, not read */
} App;

static void finish (App *app);
static void fail_now (App *app, int code, const char *message);
static gboolean connect_next (App *app, GError **error);
static void sdp_local_ready (App *app);

static void
touch (App *app)
{
  app->last_activity = g_get_monotonic_time ();
}

/* --- completion -------------------------------------------------------- */

static gboolean
receiver_satisfied (App *app)
{
  const McConfig *c = &app->config;

  if (!c->receive)
    return TRUE;
  return c->expect > 0 && app->session->stats.messages_received >= c->expect;
}

static gboolean
sender_satisfied (App *app)
{
  if (!mc_sender_has_work (app->sender))
    return TRUE;
  return mc_sender_is_done (app->sender);
}

static void
check_finished (App *app)
{
  if (app->finishing)
    return;
  if (app->session->exit_code != MC_EXIT_OK)
    {
      finish (app);
      return;
    }
  /* A receiver in the active role that binds is a sender of one empty
   * SEND: it must see that answered too. */
  if ((mc_sender_has_work (app->sender) &&
       !mc_sender_is_started (app->sender)) ||
      !sender_satisfied (app) || !receiver_satisfied (app))
    return;
  finish (app);
}

static void
maybe_quit (App *app)
{
  if (app->finishing && app->links->len == 0 && !app->quit)
    {
      app->quit = TRUE;
      g_main_loop_quit (app->loop);
    }
}

static gboolean
on_grace_over (gpointer user_data)
{
  App *app = user_data;

  app->grace_id = 0;
  if (!app->quit)
    {
      app->quit = TRUE;
      g_main_loop_quit (app->loop);
    }
  return G_SOURCE_REMOVE;
}

/* The run is over: stop sending, close every connection gracefully (what
 * is queued, such as a last REPORT, is sent first), then quit. */
static void
finish (App *app)
{
  if (app->finishing)
    return;
  app->finishing = TRUE;
  app->session->stats.end_time = g_get_monotonic_time ();
  mc_sender_stop (app->sender);
  g_clear_pointer (&app->listener, net_listener_unref);
  for (guint i = 0; i < app->links->len; i++)
    mc_link_close (app->links->pdata[i]);
  app->grace_id = g_timeout_add (CLOSE_GRACE_MS, on_grace_over, app);
  maybe_quit (app);
}

/* --- paths ------------------------------------------------------------- */

static void
print_path (App *app)
{
  g_autofree char *path = NULL;

  if (!app->config.print_use_path || app->path_printed ||
      app->session->local_uri == NULL)
    return;
  app->path_printed = TRUE;
  path = mc_session_get_sdp_path (app->session);
  mc_session_write_stdout (app->session, path, strlen (path));
  mc_session_write_stdout (app->session, "\n", 1);
  fflush (stdout);
}

/* "127.0.0.1:5000" / "[::1]:5000" -> a URI of ours with a fresh session id
 * (RFC 4975 section 14.1: at least 80 bits of randomness). */
static MsrpUri *
uri_for_address (const char *address, gboolean tls, GError **error)
{
  g_autoptr (GSocketAddress) sa = mc_parse_listen_address (address, error);
  g_autoptr (GInetAddress) ia = NULL;
  g_autofree char *host = NULL;
  g_autofree char *sid = mc_session_new_id ();

  if (sa == NULL)
    return NULL;
  ia = g_object_ref (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa)));
  /* A wildcard listener is reached on loopback; give --local-uri for
   * anything else. */
  if (g_inet_address_get_is_any (ia))
    {
      g_object_unref (ia);
      ia = g_inet_address_new_loopback (g_socket_address_get_family (sa) ==
                                                G_SOCKET_FAMILY_IPV6
                                            ? G_SOCKET_FAMILY_IPV6
                                            : G_SOCKET_FAMILY_IPV4);
    }
  host = g_inet_address_to_string (ia);
  return msrp_uri_new (
      tls ? MSRP_SCHEME_MSRPS : MSRP_SCHEME_MSRP, NULL, host,
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa)), sid, "tcp",
      error);
}

/* The TLS context of the run: --cert and --key (or the certificate made
 * for --fingerprint), the CA to check the peer with, or fingerprint
 * authentication; @passive: a server of --listen (RFC 4976 section 6.1
 * style: a client certificate is checked when one is presented and a CA
 * file was given). */
static NetTls *
new_tls (App *app, gboolean passive, GError **error)
{
  const McConfig *c = &app->config;
  NetTlsSettings settings = {
    .certificate = c->cert,
    .private_key = c->key,
    .ca_file = c->ca_file,
    .peer_verify = passive && c->ca_file != NULL ? NET_TLS_PEER_VERIFY_OPTIONAL
                                                 : NET_TLS_PEER_VERIFY_NONE,
    .skip_server_verify = c->insecure,
    .fingerprint_peers = c->fingerprint,
    .certificate_pem = app->cert_pem,
    .private_key_pem = app->key_pem,
  };

  return net_tls_new (&settings, error);
}

/* --- fingerprints (RFC 8122, RFC 4975 section 14.4) -------------------- */

static char *
peer_fingerprint_of (const char *hash_func, gpointer conn)
{
  return net_conn_get_peer_fingerprint (conn, hash_func);
}

/* The certificate @link's peer presented against the a=fingerprint of its
 * SDP.  FALSE, with the run failed, when they differ: RFC 4975 section
 * 14.4, "the endpoint MUST tear down the media session immediately". */
static gboolean
verify_fingerprint (App *app, McLink *link)
{
  NetConn *conn = mc_link_get_conn (link);
  g_autofree char *checked = NULL;
  g_autofree char *text = NULL;

  if (app->peer->fingerprints->len == 0)
    {
      text = g_strdup_printf ("%s has no a=fingerprint: nothing to check the "
                              "peer's certificate against (RFC 8122); drop "
                              "--fingerprint to use a CA",
                              app->config.sdp_in);
      fail_now (app, MC_EXIT_CONNECTION, text);
      return FALSE;
    }
  if (!mc_sdp_peer_fingerprint_matches (app->peer, peer_fingerprint_of, conn,
                                        &checked))
    {
      text = g_strdup_printf (
          "the certificate of %s (%s) does not match the a=fingerprint of "
          "%s: connection torn down (RFC 8122 section 6.2, RFC 4975 section "
          "14.4)",
          mc_link_get_peer (link),
          checked != NULL ? checked : "none, or no hash we know",
          app->config.sdp_in);
      fail_now (app, MC_EXIT_CONNECTION, text);
      return FALSE;
    }
  app->session->fingerprint_verified = TRUE;
  g_free (app->session->fingerprint_peer);
  app->session->fingerprint_peer = g_steal_pointer (&checked);
  if (!app->config.quiet)
    fprintf (stderr,
             "msrpcat: the certificate of %s matches its a=fingerprint "
             "(%s)\n",
             mc_link_get_peer (link), app->session->fingerprint_peer);
  return TRUE;
}

/* The TLS links accepted before the peer's SDP was read: checked now, and
 * read from now on (RFC 8122 section 6.2: the offerer "MUST NOT assume
 * that the data transmitted over the TLS connection is valid until it has
 * received a matching fingerprint in an SDP answer").  FALSE when the run
 * failed. */
static gboolean
verify_waiting_links (App *app)
{
  for (guint i = 0; i < app->unverified->len; i++)
    {
      McLink *link = app->unverified->pdata[i];
      NetConn *conn = mc_link_get_conn (link);

      if (net_conn_get_state (conn) != NET_CONN_STATE_OPEN)
        continue;
      if (!verify_fingerprint (app, link))
        return FALSE;
      net_conn_resume_reading (conn);
    }
  g_ptr_array_set_size (app->unverified, 0);
  return TRUE;
}

/* --- link events ------------------------------------------------------- */

static void
start_sending (App *app)
{
  /* SDP mode: not before the roles are known; a passive end behind a relay
   * not before the peer's first SEND. */
  if ((app->sdp_mode && !app->decided) || app->await_peer)
    return;
  if (!mc_sender_has_work (app->sender) ||
      mc_sender_is_started (app->sender) || app->primary == NULL ||
      app->session->peer_path == NULL)
    return;
  mc_sender_start (app->sender, app->primary);
}

/* Active role: connected and, with relays, authenticated. */
static void
become_ready (App *app)
{
  app->ready = TRUE;
  app->session->stats.ready_time = g_get_monotonic_time ();
  if (app->sdp_mode && !app->sdp_written)
    {
      /* Behind relays: the a=path is known now that AUTH gave the
       * Use-Path (RFC 4976 section 5.1). */
      sdp_local_ready (app);
      return;
    }
  print_path (app);
  start_sending (app);
  check_finished (app);
}

static void
on_auth_done (McAuth *auth, gboolean ok, gpointer user_data)
{
  App *app = user_data;

  touch (app);
  if (!ok)
    {
      finish (app);
      return;
    }
  become_ready (app);
}

static void
link_open (McLink *link, gpointer user_data)
{
  App *app = user_data;
  NetConn *conn = mc_link_get_conn (link);
  const char *subject = net_conn_get_peer_subject (conn);

  touch (app);
  if (app->config.verbose)
    fprintf (stderr, "msrpcat: connected %s %s over %s%s%s\n",
             app->passive ? "from" : "to", mc_link_get_peer (link),
             net_conn_get_transport_name (conn),
             subject != NULL ? ", peer certificate " : "",
             subject != NULL ? subject : "");
  if (app->config.fingerprint && !app->finishing &&
      g_strcmp0 (net_conn_get_transport_name (conn), "tls") == 0)
    {
      if (app->peer == NULL)
        {
          /* Accepted before the answer came: not a byte is read until its
           * fingerprint is known (verify_waiting_links ()). */
          net_conn_pause_reading (conn);
          g_ptr_array_add (app->unverified, mc_link_ref (link));
          return;
        }
      if (!verify_fingerprint (app, link))
        return;
    }
  if (app->passive || app->finishing)
    return;
  if (link == app->primary)
    {
      g_free (app->session->transport);
      app->session->transport = g_strdup (net_conn_get_transport_name (conn));
    }

  if (app->session->local_uri == NULL)
    {
      g_autoptr (GError) error = NULL;

      app->session->local_uri = uri_for_address (
          net_conn_get_local_address (conn), app->tls_wanted, &error);
      if (app->session->local_uri == NULL)
        {
          mc_session_fail (app->session, MC_EXIT_CONNECTION,
                           "cannot make a URI "
                           "for local address %s: %s",
                           net_conn_get_local_address (conn), error->message);
          finish (app);
          return;
        }
    }
  if (app->relays->len > 0)
    {
      app->auth = mc_auth_new (app->session, link, app->relays, app->algorithm,
                               on_auth_done, app);
      mc_auth_start (app->auth);
      return;
    }
  become_ready (app);
}

/* Passive role: RFC 4975 section 5.4, "the passive endpoint ... infers
 * the identity of the connecting device" from its first request; it may
 * send to it from then on. */
static void
bind_link (App *app, McLink *link, MsrpHead *head)
{
  if (!app->passive || app->ready)
    return;
  app->ready = TRUE;
  app->primary = mc_link_ref (link);
  app->session->stats.ready_time = g_get_monotonic_time ();
  g_free (app->session->transport);
  app->session->transport =
      g_strdup (net_conn_get_transport_name (mc_link_get_conn (link)));
  if (!app->config.keep)
    {
      /* One session, one connection: no more peers, and the others that
       * were accepted meanwhile go. */
      g_clear_pointer (&app->listener, net_listener_unref);
      for (guint i = 0; i < app->links->len; i++)
        if (app->links->pdata[i] != link)
          mc_link_close (app->links->pdata[i]);
    }
  if (app->session->peer_path == NULL)
    {
      GPtrArray *from = msrp_head_get_from_path (head);

      app->session->peer_path =
          g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);
      for (guint i = 0; i < from->len; i++)
        g_ptr_array_add (app->session->peer_path,
                         msrp_uri_ref (from->pdata[i]));
    }
  if (app->config.verbose)
    {
      g_autofree char *to = msrp_uri_list_to_text (app->session->peer_path);

      fprintf (stderr,
               "msrpcat: connection from %s bound; the peer's path "
               "is %s\n",
               mc_link_get_peer (link), to);
    }
}

static gpointer
link_request (McLink *link, MsrpHead *head, gpointer user_data)
{
  App *app = user_data;
  const char *method = msrp_head_get_method (head);
  gpointer req = NULL;

  touch (app);
  if (app->finishing)
    return NULL;
  if (g_strcmp0 (method, "REPORT") == 0)
    {
      /* Section 7.1.2: never answered.  Section 7.3: not ours, ignored. */
      if (mc_session_is_for_us (app->session, head))
        mc_sender_handle_report (app->sender, head);
      else if (app->config.verbose)
        fprintf (stderr, "msrpcat: REPORT not addressed to us ignored\n");
      check_finished (app);
      return NULL;
    }
  if (!mc_session_is_for_us (app->session, head))
    {
      /* Section 7.3: "the receiver MUST generate a 481 error and ignore the
       * request". */
      GPtrArray *to = msrp_head_get_to_path (head);
      g_autofree char *text = msrp_uri_list_to_text (to);
      g_autofree char *why = g_strdup_printf ("To-Path %s is not this "
                                              "session",
                                              text);

      if (mc_link_respond (link, head, MSRP_STATUS_SESSION_DOES_NOT_EXIST,
                           why))
        app->session->stats.responses_out[481]++;
      if (!app->config.quiet)
        fprintf (stderr, "msrpcat: %s %s from %s refused with 481: %s\n",
                 method, msrp_head_get_transaction_id (head),
                 mc_link_get_peer (link), why);
      return NULL;
    }
  if (g_strcmp0 (method, "SEND") != 0)
    {
      /* Section 10.9: a method this endpoint does not implement (AUTH is for
       * relays, NICKNAME for chat rooms). */
      if (mc_link_respond (link, head, MSRP_STATUS_NOT_IMPLEMENTED, NULL))
        app->session->stats.responses_out[501]++;
      return NULL;
    }
  bind_link (app, link, head);
  app->peer_spoke = TRUE;
  app->await_peer = FALSE;
  req = mc_receiver_request (app->receiver, link, head);
  start_sending (app);
  check_finished (app);
  return req;
}

static void
link_request_body (McLink *link, gpointer request, const guint8 *data,
                   gsize len, gpointer user_data)
{
  App *app = user_data;

  touch (app);
  mc_receiver_body (app->receiver, request, data, len);
}

static void
link_request_end (McLink *link, gpointer request, char flag,
                  gpointer user_data)
{
  App *app = user_data;

  touch (app);
  mc_receiver_end (app->receiver, request, flag);
  check_finished (app);
}

static void
link_request_lost (McLink *link, gpointer request, gpointer user_data)
{
  App *app = user_data;

  mc_receiver_lost (app->receiver, request);
}

static void
link_response (McLink *link, MsrpHead *head, gpointer user_data)
{
  App *app = user_data;

  touch (app);
  if (app->auth != NULL && mc_auth_handle_response (app->auth, head))
    return;
  if (!mc_sender_handle_response (app->sender, head) && app->config.verbose)
    fprintf (stderr,
             "msrpcat: response %u to unknown transaction %s "
             "ignored\n",
             msrp_head_get_status_code (head),
             msrp_head_get_transaction_id (head));
  check_finished (app);
}

static void
link_drained (McLink *link, gpointer user_data)
{
  App *app = user_data;

  touch (app);
  if (link == app->primary)
    mc_sender_on_drained (app->sender);
}

/* Active role: connecting to the first hop failed, and its name has
 * another address: try that one. */
static void
try_next_address (App *app, McLink *link, const GError *error)
{
  g_autoptr (GError) next_error = NULL;

  if (app->config.verbose)
    fprintf (stderr, "msrpcat: %s\n", error->message);
  g_ptr_array_remove (app->links, link);
  if (!connect_next (app, &next_error))
    {
      mc_session_fail (app->session, MC_EXIT_CONNECTION, "%s",
                       next_error->message);
      finish (app);
    }
  maybe_quit (app);
}

/* A connection of the run closed while it was on: the session fails if
 * it was a failure (a malformed frame, a broken connection, AUTH cut
 * short). */
static void
note_closed (App *app, McLink *link, NetConnCloseReason reason,
             const GError *error)
{
  const char *malformed = mc_link_get_parse_error (link);
  gboolean failure =
      reason != NET_CONN_CLOSED_LOCAL && reason != NET_CONN_CLOSED_PEER;

  if (malformed != NULL)
    mc_session_fail (app->session, MC_EXIT_PROTOCOL,
                     "%s sent a malformed "
                     "frame: %s",
                     mc_link_get_peer (link), malformed);
  else if (failure && !(reason == NET_CONN_CLOSED_TIMEOUT && app->ready))
    mc_session_fail (app->session, MC_EXIT_CONNECTION, "%s", error->message);
  else if (app->config.verbose)
    fprintf (stderr, "msrpcat: %s\n", error->message);
  if (app->auth != NULL && !mc_auth_is_done (app->auth))
    mc_session_fail (app->session, MC_EXIT_CONNECTION,
                     "the connection "
                     "to the relay closed during AUTH");
  mc_sender_link_closed (app->sender);
}

/* One connection only, and it closed: the run is over.  A receiver that
 * expected more messages than it got says so. */
static void
end_run_on_close (App *app)
{
  const McConfig *c = &app->config;
  McStats *st = &app->session->stats;

  if (c->receive && c->expect > 0 && st->messages_received < c->expect)
    mc_session_fail (app->session, MC_EXIT_CONNECTION,
                     "the connection "
                     "closed after %" G_GUINT64_FORMAT " of %u messages",
                     st->messages_received, c->expect);
  else if (mc_sender_has_work (app->sender) &&
           !mc_sender_is_started (app->sender))
    mc_session_fail (app->session, MC_EXIT_CONNECTION,
                     "the connection "
                     "closed before anything was sent");
  finish (app);
}

static void
link_closed (McLink *link, NetConnCloseReason reason, const GError *error,
             gpointer user_data)
{
  App *app = user_data;
  const McConfig *c = &app->config;
  const char *malformed = mc_link_get_parse_error (link);
  gboolean failure =
      reason != NET_CONN_CLOSED_LOCAL && reason != NET_CONN_CLOSED_PEER;
  gboolean ends_run;

  if (app->finishing)
    {
      if (c->verbose)
        fprintf (stderr, "msrpcat: %s\n", error->message);
    }
  else if (app->passive && link != app->primary && app->ice == NULL)
    {
      /* A connection that never bound (a failed TLS handshake, a port scan)
       * does not end a passive run: the listener waits for the next. */
      if (!c->quiet || failure || malformed != NULL)
        fprintf (stderr,
                 "msrpcat: connection from %s ended before any "
                 "request: %s\n",
                 mc_link_get_peer (link),
                 malformed != NULL ? malformed : error->message);
    }
  else if (!app->passive &&
           (reason == NET_CONN_CLOSED_CONNECT_FAILED ||
            reason == NET_CONN_CLOSED_REFUSED) &&
           app->hop_addresses != NULL &&
           app->hop_index < app->hop_addresses->len)
    {
      /* A name with several addresses, or a relay farm's SRV targets
       * (RFC 2782: the next in order when one does not answer). */
      try_next_address (app, link, error);
      return;
    }
  else
    {
      note_closed (app, link, reason, error);
    }
  /* An ICE pair is the only connection there will be. */
  ends_run = !app->finishing &&
             (link == app->primary || !app->passive || app->ice != NULL) &&
             !(app->passive && c->keep && app->ice == NULL);
  g_ptr_array_remove (app->links, link); /* may free it */
  if (ends_run)
    end_run_on_close (app);
  maybe_quit (app);
}

static const McLinkCallbacks link_callbacks = {
  .on_open = link_open,
  .on_request = link_request,
  .on_request_body = link_request_body,
  .on_request_end = link_request_end,
  .on_request_lost = link_request_lost,
  .on_response = link_response,
  .on_drained = link_drained,
  .on_closed = link_closed,
};

static McLink *
add_link (App *app, NetConn *conn)
{
  McLink *link = mc_link_new (conn, &link_callbacks, app);

  mc_link_set_verbose (link, app->config.verbose);
  /* A pure receiver writes only answers: it stops reading while they pile
   * up unread. */
  mc_link_set_pause_when_congested (link, !mc_sender_has_work (app->sender));
  g_ptr_array_add (app->links, link);
  return link;
}

static void
sender_done (McSender *sender, gpointer user_data)
{
  check_finished (user_data);
}

static void
sender_failed (McSender *sender, gpointer user_data)
{
  finish (user_data);
}

static void
receiver_message (McReceiver *receiver, gpointer user_data)
{
  check_finished (user_data);
}

static const McSenderCallbacks sender_callbacks = {
  .on_done = sender_done,
  .on_failed = sender_failed,
};

static const McReceiverCallbacks receiver_callbacks = {
  .on_message = receiver_message,
};

/* --- connections ------------------------------------------------------- */

static void
on_accept (NetListener *listener, NetConn *conn, gpointer user_data)
{
  App *app = user_data;

  touch (app);
  if (app->finishing)
    return; /* the connection is aborted when we return */
  if (!app->config.quiet)
    fprintf (stderr, "msrpcat: accepted a connection from %s\n",
             net_conn_get_peer_address (conn));
  add_link (app, conn);
}

static gboolean
start_passive (App *app, GError **error)
{
  g_autoptr (GSocketAddress) addr =
      mc_parse_listen_address (app->listen_address, error);

  if (addr == NULL)
    return FALSE;
  app->listener =
      net_listener_new (addr, app->tls_wanted ? app->tls : NULL, NULL, error);
  if (app->listener == NULL)
    return FALSE;
  net_listener_set_callbacks (app->listener, NULL, on_accept, app, NULL);
  if (app->session->local_uri == NULL)
    {
      g_autofree char *where = NULL;

      /* --sdp-address: the address the peer reaches us at (a NAT's), with
       * the port we listen on. */
      if (app->config.sdp_address != NULL)
        where = g_strdup_printf (
            strchr (app->config.sdp_address, ':') != NULL ? "[%s]:%u"
                                                          : "%s:%u",
            app->config.sdp_address,
            (guint) g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (
                net_listener_get_address (app->listener))));
      app->session->local_uri = uri_for_address (
          where != NULL ? where
                        : net_listener_get_address_string (app->listener),
          app->tls_wanted, error);
      if (app->session->local_uri == NULL)
        return FALSE;
    }
  if (!app->config.quiet)
    fprintf (stderr, "msrpcat: listening on %s%s as %s\n",
             net_listener_get_address_string (app->listener),
             app->tls_wanted ? " (TLS)" : "",
             msrp_uri_get_text (app->session->local_uri));
  print_path (app);
  return TRUE;
}

static gboolean
connect_next (App *app, GError **error)
{
  GSocketAddress *addr = app->hop_addresses->pdata[app->hop_index++];
  g_autoptr (NetConn) conn = NULL;

  if (app->config.verbose)
    {
      g_autofree char *text = net_addr_to_string (addr);

      fprintf (stderr, "msrpcat: connecting to %s for %s\n", text,
               msrp_uri_get_text (app->first_hop));
    }
  /* RFC 4975 section 5.4 / RFC 4976 section 9.2: an msrps URI needs TLS,
   * with the certificate checked against the URI's host. */
  conn = net_conn_connect (addr, app->tls_wanted ? app->tls : NULL,
                           msrp_uri_get_host (app->first_hop), NULL, error);
  if (conn == NULL)
    return FALSE;
  g_clear_pointer (&app->primary, mc_link_unref);
  app->primary = mc_link_ref (add_link (app, conn));
  return TRUE;
}

/* The first hop's addresses, in the order to try them (RFC 4975 section
 * 6.2; for an msrps relay URI without a port, the SRV records of RFC 4976
 * section 8): connect to the first. */
static void
on_hop_resolved (GObject *source, GAsyncResult *res, gpointer user_data)
{
  App *app = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) addrs = net_resolve_finish (res, &error);

  /* Cancelled: the run is over and app is being torn down. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&app->resolving);
  if (app->finishing)
    return;
  touch (app);
  if (addrs == NULL)
    {
      fail_now (app, MC_EXIT_CONNECTION, error->message);
      return;
    }
  if (app->config.verbose)
    {
      g_autoptr (GString) list = g_string_new (NULL);

      for (guint i = 0; i < addrs->len; i++)
        {
          g_autofree char *text = net_addr_to_string (addrs->pdata[i]);

          g_string_append_printf (list, "%s%s", i > 0 ? " " : "", text);
        }
      fprintf (stderr, "msrpcat: %s is at %s\n",
               msrp_uri_get_text (app->first_hop), list->str);
    }
  app->hop_addresses = g_steal_pointer (&addrs);
  app->hop_index = 0;
  if (!connect_next (app, &error))
    fail_now (app, MC_EXIT_CONNECTION, error->message);
}

/* Active role: look up the first hop without blocking (net-resolve.h),
 * then connect (on_hop_resolved()). */
static void
start_active (App *app)
{
  MsrpUri *hop = app->first_hop;

  g_clear_pointer (&app->hop_addresses, g_ptr_array_unref);
  app->resolving = g_cancellable_new ();
  /* With CEMA the peer is reached at its c=/m= (no SRV: a plain address
   * and port); the certificate is still checked against the URI. */
  if (app->connect_host != NULL)
    net_resolve_async (FALSE, app->connect_host, app->connect_port, NULL, NULL,
                       app->resolving, on_hop_resolved, app);
  else
    net_resolve_async (msrp_uri_get_scheme (hop) == MSRP_SCHEME_MSRPS,
                       msrp_uri_get_host (hop), msrp_uri_get_port (hop), NULL,
                       NULL, app->resolving, on_hop_resolved, app);
}

/* --- SDP mode ----------------------------------------------------------- */

static void
fail_now (App *app, int code, const char *message)
{
  mc_session_fail (app->session, code, "%s", message);
  finish (app);
}

static void sdp_wait_for_peer (App *app);
static void sdp_go (App *app);

static void
ice_guard_stop (App *app)
{
  if (app->ice_guard_id != 0)
    g_source_remove (app->ice_guard_id);
  app->ice_guard_id = 0;
}

static gboolean
on_ice_guard (gpointer user_data)
{
  App *app = user_data;
  g_autofree char *text = NULL;

  app->ice_guard_id = 0;
  if (app->finishing || app->ice_ready)
    return G_SOURCE_REMOVE;
  text = g_strdup_printf (
      "ICE: the agent reported nothing within %.1f s "
      "(%s)",
      (double) app->config.ice_timeout_us / 1e6 + ICE_GUARD_MS / 1000.0,
      app->sdp_written ? "connectivity checks" : "gathering candidates");
  fail_now (app, MC_EXIT_CONNECTION, text);
  return G_SOURCE_REMOVE;
}

/* Every ICE wait is bounded: --ice-timeout, plus a margin for the agent to
 * say so itself. */
static void
ice_guard_start (App *app)
{
  ice_guard_stop (app);
  app->ice_guard_id = g_timeout_add (
      (guint) (app->config.ice_timeout_us / 1000) + ICE_GUARD_MS, on_ice_guard,
      app);
}

/* The roles are known: say so, and have an active end with nothing to
 * send bind with an empty SEND. */
static void
sdp_announce_roles (App *app)
{
  McConfig *c = &app->config;

  app->decided = TRUE;
  g_free (app->session->sdp_role);
  app->session->sdp_role = g_strdup (app->role_active ? "active" : "passive");
  if (!c->quiet)
    fprintf (stderr, "msrpcat: our a=setup %s, the peer's %s: we are %s\n",
             mc_sdp_setup_name (app->setup),
             app->peer != NULL ? mc_sdp_setup_name (app->peer->setup_written)
                               : "unknown",
             app->role_active ? "active (we send the first SEND)"
                              : "passive (we wait for the peer's first SEND)");
  /* RFC 4975 section 5.4: the active end "MUST immediately issue a SEND";
   * one with nothing to say binds with an empty one (RFC 6135 4.2.2). */
  if (app->role_active && c->receive && !mc_sender_has_work (app->sender))
    mc_sender_set_bind (app->sender, TRUE);
}

/* With our ICE leg: the checks start if the peer does ICE too.  FALSE when
 * it does not and the run goes on over plain TCP. */
static gboolean
sdp_go_ice (App *app)
{
  McConfig *c = &app->config;
  g_autoptr (GError) error = NULL;

  if (app->peer != NULL && mc_sdp_peer_has_ice (app->peer))
    {
      /* RFC 8445 section 6.1.4: the checks start with the peer's
       * candidates; the stream is ready in on_ice_ready (). */
      app->passive = !app->role_active;
      /* Our pair may be ready before the peer's (the controlled agent
       * learns of the nomination first), and the peer's agent holds only
       * so many early bytes: the active end binds with an empty SEND and
       * sends the rest once the peer has answered it. */
      if (app->role_active)
        {
          mc_sender_set_bind (app->sender, TRUE);
          mc_sender_set_bind_wait (app->sender, TRUE);
        }
      if (!ice_leg_set_remote (app->ice, app->peer->ice_ufrag,
                               app->peer->ice_pwd, app->peer->candidates,
                               &error))
        {
          g_autofree char *text =
              g_strdup_printf ("%s: ICE: %s", c->sdp_in, error->message);

          fail_now (app, MC_EXIT_USAGE, text);
          return TRUE;
        }
      touch (app);
      ice_guard_start (app);
      return TRUE;
    }
  /* RFC 8839 section 3.1.1 no ICE on the other side: plain TCP. */
  if (!app->role_active)
    {
      g_autofree char *text = g_strdup_printf (
          "the answer %s has no ICE lines and a=setup:%s: the peer would "
          "connect to our a=path %s, an ICE candidate that speaks only "
          "ICE; "
          "offer without --ice, or have the peer answer passive",
          c->sdp_in, mc_sdp_setup_name (app->peer->setup_written),
          msrp_uri_get_text (app->session->local_uri));

      fail_now (app, MC_EXIT_CONNECTION, text);
      return TRUE;
    }
  if (!c->quiet)
    fprintf (stderr, "msrpcat: the answer has no ICE lines: plain TCP "
                     "to its a=path\n");
  g_clear_pointer (&app->ice, ice_leg_free);
  return FALSE;
}

/* Active, without relays: connect to the first URI of the peer's
 * a=path. */
static void
sdp_connect_to_peer (App *app)
{
  McConfig *c = &app->config;
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&app->listener, net_listener_unref);
  app->passive = FALSE;
  g_clear_pointer (&app->first_hop, msrp_uri_unref);
  app->first_hop = msrp_uri_ref (app->session->peer_path->pdata[0]);
  app->tls_wanted =
      msrp_uri_get_scheme (app->first_hop) == MSRP_SCHEME_MSRPS ||
      app->peer->proto == MSRP_SDP_PROTO_TCP_TLS_MSRP;
  if (c->cema)
    {
      /* RFC 6714 sections 4.2 and 4.3: a CEMA endpoint that becomes active
       * connects to the c=/m= address (a middlebox's, or the peer's own
       * when they match a=path), not to the a=path URI. */
      g_free (app->connect_host);
      app->connect_host = g_strdup (app->peer->address);
      app->connect_port = app->peer->port;
      if (!c->quiet)
        fprintf (stderr,
                 "msrpcat: CEMA: connecting to the c=/m= address "
                 "%s port %u\n",
                 app->connect_host, (guint) app->connect_port);
    }
  if (app->tls_wanted && app->tls == NULL)
    {
      app->tls = new_tls (app, FALSE, &error);
      if (app->tls == NULL)
        {
          fail_now (app, MC_EXIT_USAGE, error->message);
          return;
        }
    }
  start_active (app);
}

/* The peer's SDP is read and the roles are known: make the connection, or
 * wait for it. */
static void
sdp_go (App *app)
{
  sdp_announce_roles (app);
  if (app->ice != NULL && sdp_go_ice (app))
    return;

  if (app->relays->len > 0)
    {
      /* RFC 6135 section 4.5: the connection to the relay is made whatever
       * a=setup says; only an active end sends first. */
      app->passive = FALSE;
      /* The peer's SEND may have come before its answer was read. */
      app->await_peer = !app->role_active && !app->peer_spoke;
    }
  else if (!app->role_active)
    {
      app->passive = TRUE;
      /* The peer may have connected and bound before its answer was
       * read. */
    }
  else if (!app->ready)
    {
      sdp_connect_to_peer (app);
      return;
    }
  /* Else the peer connected and bound before its answer said it would be
   * passive: that connection is used. */
  start_sending (app);
  check_finished (app);
}

/* RFC 8122 section 5, RFC 4975 section 14.4: the fingerprint of the
 * certificate we present, for our SDP (the TLS context is made now if
 * the connection is not yet).  NULL with the run failed. */
static char *
sdp_local_fingerprint (App *app)
{
  g_autoptr (GError) error = NULL;
  char *fingerprint;

  if (app->tls == NULL && (app->tls = new_tls (app, FALSE, &error)) == NULL)
    {
      fail_now (app, MC_EXIT_USAGE, error->message);
      return NULL;
    }
  fingerprint = net_tls_get_local_fingerprint (app->tls, "sha-256");
  g_free (app->session->fingerprint_local);
  app->session->fingerprint_local =
      g_strdup_printf ("sha-256 %s", fingerprint);
  return fingerprint;
}

/* Our SDP: c=, m= and a=path from the local URI (with ICE, the default
 * candidate's address), a=setup, the ICE lines. */
static void
sdp_local_ready (App *app)
{
  McConfig *c = &app->config;
  MsrpUri *uri = app->session->local_uri;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = mc_session_get_sdp_path (app->session);
  g_autofree char *text = NULL;
  guint64 sid = 0;
  McSdpLocal local = {
    .address = msrp_uri_get_host (uri),
    .port = msrp_uri_get_effective_port (uri),
    .tls = msrp_uri_get_scheme (uri) == MSRP_SCHEME_MSRPS,
    .path = path,
    .accept_types = (const char *const *) c->accept_types,
    .max_size = c->max_size,
    .setup = app->setup,
    .cema = c->cema, /* RFC 6714 sections 4.2, 4.3: "MUST include" */
  };
  g_autofree char *fingerprint = NULL;

  if (c->fingerprint && (fingerprint = sdp_local_fingerprint (app)) == NULL)
    return;
  local.fingerprint_hash = "sha-256";
  local.fingerprint = fingerprint;

  /* RFC 8866 section 5.2: "a numeric string such that the tuple ... forms
   * a globally unique identifier"; the time in microseconds is. */
  sid = (guint64) g_get_real_time ();
  local.session_id = sid;
  if (app->ice != NULL)
    {
      const MsrpSdpCandidate *def =
          mc_sdp_default_candidate (app->ice_candidates);

      /* RFC 8839 section 5.1: c= and m= carry the default candidate; RFC
       * 4975 section 8.1 wants them to match the a=path URI, which is made
       * from it (on_ice_gathered ()). */
      local.address = def->address;
      local.port = def->port;
      local.ice_ufrag = ice_leg_get_ufrag (app->ice);
      local.ice_pwd = ice_leg_get_pwd (app->ice);
      local.candidates = app->ice_candidates;
    }
  text = mc_sdp_build (&local, &error);
  if (text == NULL)
    {
      fail_now (app, MC_EXIT_USAGE, error->message);
      return;
    }
  if (c->sdp_out != NULL)
    {
      if (!mc_sdp_write_file (c->sdp_out, text, &error))
        {
          fail_now (app, MC_EXIT_USAGE, error->message);
          return;
        }
      if (!c->quiet)
        fprintf (stderr, "msrpcat: our SDP (a=setup %s%s) is in %s\n",
                 mc_sdp_setup_name (app->setup),
                 app->ice != NULL ? ", ICE" : "", c->sdp_out);
    }
  app->sdp_written = TRUE;
  g_free (app->session->sdp_setup);
  app->session->sdp_setup = g_strdup (mc_sdp_setup_name (app->setup));
  print_path (app);
  touch (app);
  if (c->answer || c->sdp_in == NULL)
    {
      /* An answerer has read the offer; an offerer without --sdp-in takes
       * the passive role its a=setup allows (finish_config ()). */
      app->role_active = c->answer ? app->role_active : FALSE;
      sdp_go (app);
    }
  else
    {
      sdp_wait_for_peer (app);
    }
}

static void
on_ice_gathered (IceLeg *leg, gpointer user_data)
{
  App *app = user_data;
  const MsrpSdpCandidate *def;
  g_autoptr (GError) error = NULL;

  if (app->finishing)
    return;
  ice_guard_stop (app);
  g_clear_pointer (&app->ice_candidates, g_ptr_array_unref);
  app->ice_candidates = ice_leg_get_local_candidates (leg);
  def = mc_sdp_default_candidate (app->ice_candidates);
  if (def == NULL)
    {
      fail_now (app, MC_EXIT_CONNECTION,
                "ICE: no TCP candidate was "
                "gathered (give the addresses with --ice-address; loopback "
                "only when named)");
      return;
    }
  if (app->config.verbose)
    for (guint i = 0; i < app->ice_candidates->len; i++)
      {
        g_autofree char *line =
            msrp_sdp_candidate_to_string (app->ice_candidates->pdata[i]);

        fprintf (stderr, "msrpcat: our candidate %s\n", line);
      }
  if (app->session->local_uri == NULL)
    {
      g_autofree char *where = g_strdup_printf (
          strchr (def->address, ':') != NULL ? "[%s]:%u" : "%s:%u",
          def->address, (guint) def->port);

      app->session->local_uri = uri_for_address (where, FALSE, &error);
      if (app->session->local_uri == NULL)
        {
          g_autofree char *text = g_strdup_printf (
              "cannot make a URI for our ICE candidate %s: %s", where,
              error->message);

          fail_now (app, MC_EXIT_CONNECTION, text);
          return;
        }
    }
  sdp_local_ready (app);
}

static void
on_ice_ready (IceLeg *leg, GIOStream *stream, const IcePair *pair,
              gpointer user_data)
{
  App *app = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (NetConn) conn = NULL;
  McLink *link;
  McIceInfo *info;

  if (app->finishing)
    return;
  app->ice_ready = TRUE;
  ice_guard_stop (app);
  touch (app);
  info = g_new0 (McIceInfo, 1);
  info->local_type = g_strdup (pair->local_type);
  info->remote_type = g_strdup (pair->remote_type);
  info->local_tcptype = g_strdup (pair->local_tcptype);
  info->remote_tcptype = g_strdup (pair->remote_tcptype);
  info->local_address = g_strdup (pair->local_address);
  info->remote_address = g_strdup (pair->remote_address);
  mc_ice_info_free (app->session->ice);
  app->session->ice = info;
  if (!app->config.quiet)
    fprintf (stderr,
             "msrpcat: ICE pair ready: %s (%s tcp-%s) -> %s (%s "
             "tcp-%s)\n",
             pair->local_address, pair->local_type, pair->local_tcptype,
             pair->remote_address, pair->remote_type, pair->remote_tcptype);
  conn = net_conn_new_from_stream (stream, "ice-tcp", pair->remote_address,
                                   pair->local_address, NULL, &error);
  if (conn == NULL)
    {
      g_autofree char *text = g_strdup_printf ("ICE: %s", error->message);

      fail_now (app, MC_EXIT_CONNECTION, text);
      return;
    }
  link = add_link (app, conn);
  /* The MSRP roles follow a=setup over the pair too: the active end sends
   * the first SEND (link_open ()), the passive end is bound by it. */
  if (app->role_active)
    {
      g_clear_pointer (&app->primary, mc_link_unref);
      app->primary = mc_link_ref (link);
    }
}

static void
on_ice_failed (IceLeg *leg, const char *reason, const char *tried,
               gpointer user_data)
{
  App *app = user_data;
  g_autofree char *text = NULL;

  if (app->finishing)
    return;
  ice_guard_stop (app);
  text = g_strdup_printf ("ICE failed: %s; candidate pairs tried: %s", reason,
                          tried);
  fail_now (app, MC_EXIT_CONNECTION, text);
}

static const IceCallbacks ice_callbacks = {
  .on_gathered = on_ice_gathered,
  .on_ready = on_ice_ready,
  .on_failed = on_ice_failed,
};

static void
ice_start (App *app)
{
  McConfig *c = &app->config;
  g_autoptr (GError) error = NULL;
  IceSettings settings = {
    .addresses = app->ice_addresses,
    .stun_server = app->stun_host,
    .stun_port = app->stun_port,
    .timeout_ms = (guint) (c->ice_timeout_us / 1000),
  };

  /* RFC 8445 section 6.1.1: the offerer's agent controls. */
  app->ice = ice_leg_new (&settings, !c->answer, &ice_callbacks, app, &error);
  if (app->ice == NULL)
    {
      g_autofree char *text = g_strdup_printf ("ICE: %s", error->message);

      fail_now (app,
                g_error_matches (error, ICE_LEG_ERROR, ICE_LEG_ERROR_INVALID)
                    ? MC_EXIT_USAGE
                    : MC_EXIT_CONNECTION,
                text);
      return;
    }
  if (!ice_leg_gather (app->ice, &error))
    {
      g_autofree char *text = g_strdup_printf ("ICE: %s", error->message);

      fail_now (app, MC_EXIT_CONNECTION, text);
      return;
    }
  ice_guard_start (app);
}

/* Listen, or not, or gather; then write our SDP. */
static void
sdp_prepare_local (App *app)
{
  McConfig *c = &app->config;
  g_autoptr (GError) error = NULL;
  gboolean may_listen;

  if (c->ice && (!c->answer || mc_sdp_peer_has_ice (app->peer)))
    {
      ice_start (app);
      return;
    }
  if (c->ice && !c->quiet)
    fprintf (stderr, "msrpcat: the offer has no ICE-TCP candidates: plain "
                     "TCP, no ICE lines in the answer\n");
  if (app->relays->len > 0)
    {
      /* become_ready () writes the SDP once AUTH is done. */
      start_active (app);
      return;
    }
  /* RFC 6135 section 4.2.2: actpass and passive carry "the actual address
   * and port ... on which the UA can receive a TCP connection"; active
   * carries port 9 (RFC 4145 section 4). */
  may_listen = c->answer ? !app->role_active
                         : app->setup == MSRP_SDP_SETUP_ACTPASS ||
                               app->setup == MSRP_SDP_SETUP_PASSIVE;
  if (may_listen)
    {
      if (app->listen_address == NULL)
        {
          fail_now (app, MC_EXIT_USAGE,
                    "the passive role needs an address to "
                    "listen on: give --listen HOST:PORT or --sdp-address IP");
          return;
        }
      app->passive = TRUE;
      if (!start_passive (app, &error))
        {
          fail_now (app, MC_EXIT_CONNECTION, error->message);
          return;
        }
    }
  else if (app->session->local_uri == NULL)
    {
      const char *host = c->sdp_address;
      g_autofree char *listen_host = NULL;
      g_autofree char *where = NULL;

      if (host == NULL && app->listen_address != NULL)
        {
          g_autoptr (GSocketAddress) sa =
              mc_parse_listen_address (app->listen_address, NULL);

          if (sa != NULL)
            host = listen_host =
                g_inet_address_to_string (g_inet_socket_address_get_address (
                    G_INET_SOCKET_ADDRESS (sa)));
        }
      if (host == NULL)
        {
          fail_now (app, MC_EXIT_USAGE,
                    "our SDP needs this endpoint's address "
                    "for c= and a=path: give --sdp-address IP or --listen "
                    "HOST:PORT");
          return;
        }
      where = g_strdup_printf (strchr (host, ':') != NULL ? "[%s]:9" : "%s:9",
                               host);
      app->session->local_uri =
          uri_for_address (where, app->tls_wanted, &error);
      if (app->session->local_uri == NULL)
        {
          fail_now (app, MC_EXIT_USAGE, error->message);
          return;
        }
    }
  sdp_local_ready (app);
}

/* RFC 6714 section 4, once the roles are known: the peer's SDP has no
 * a=msrp-cema and its c=/m= are not those of an a=path URI, so a middlebox
 * that does not do CEMA rewrote them.  An answerer "MUST either reject the
 * offered MSRP connection ... or reject the whole SIP request" (section
 * 4.3); an offerer that would be passive waits for a connection that the
 * peer makes to its a=path, past the middlebox, and must offer again
 * without a=msrp-cema (section 4.2, criterion 1).  FALSE with the run
 * failed. */
static gboolean
cema_check (App *app)
{
  McConfig *c = &app->config;
  McSdpPeer *peer = app->peer;
  g_autofree char *text = NULL;

  app->session->cema = c->cema && peer->cema;
  if (!c->cema || peer->cema || (!c->answer && app->role_active) ||
      mc_sdp_peer_cm_matches_path (peer))
    return TRUE;
  text = g_strdup_printf (
      "%s: c=/m= %s:%u is not in its a=path and there is no a=msrp-cema: "
      "a middlebox that does not do CEMA rewrote them; %s",
      c->sdp_in, peer->address, (guint) peer->port,
      c->answer ? "the stream is rejected, no answer written (RFC 6714 "
                  "section 4.3)"
                : "we would be passive, and RFC 6714 section 4.2 asks for "
                  "a new offer without a=msrp-cema, which msrpcat does not "
                  "make");
  fail_now (app, MC_EXIT_PROTOCOL, text);
  return FALSE;
}

/* The peer's SDP: its a=path becomes the To-Path, its a=setup decides the
 * roles. */
static void
sdp_got_peer (App *app, McSdpPeer *peer)
{
  McConfig *c = &app->config;
  g_autoptr (GError) error = NULL;

  app->peer = peer;
  touch (app);
  if (!verify_waiting_links (app))
    return;
  g_free (app->session->peer_setup);
  app->session->peer_setup =
      g_strdup (mc_sdp_setup_name (peer->setup_written));
  if (app->session->peer_path == NULL)
    {
      app->session->peer_path =
          g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);
      for (guint i = 0; i < peer->path->len; i++)
        g_ptr_array_add (app->session->peer_path,
                         msrp_uri_ref (peer->path->pdata[i]));
    }
  if (c->verbose)
    {
      g_autofree char *to = msrp_uri_list_to_text (peer->path);

      fprintf (stderr,
               "msrpcat: read %s: a=path %s, a=setup %s, %u ICE-TCP "
               "candidates (%u others skipped)\n",
               c->sdp_in, to, mc_sdp_setup_name (peer->setup_written),
               peer->candidates->len, peer->n_candidates_skipped);
    }
  if (c->answer)
    {
      if (!mc_sdp_answerer_role (peer->setup, app->setup, app->setup_set,
                                 &app->setup, &app->role_active, &error))
        {
          g_autofree char *text =
              g_strdup_printf ("%s: %s", c->sdp_in, error->message);

          fail_now (app, MC_EXIT_USAGE, text);
          return;
        }
      if (cema_check (app))
        sdp_prepare_local (app);
      return;
    }
  if (!mc_sdp_offerer_role (app->setup, peer->setup, &app->role_active,
                            &error))
    {
      g_autofree char *text =
          g_strdup_printf ("%s: %s", c->sdp_in, error->message);

      fail_now (app, MC_EXIT_USAGE, text);
      return;
    }
  if (!cema_check (app))
    return;
  sdp_go (app);
}

/* TRUE when the wait is over (read, or failed). */
static gboolean
sdp_poll (App *app)
{
  McConfig *c = &app->config;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  McSdpPeer *peer;
  gint64 bound = c->timeout_us > 0
                     ? c->timeout_us
                     : (gint64) MC_DEFAULT_TIMEOUT_S * G_USEC_PER_SEC;

  if (!mc_sdp_read_file (c->sdp_in, &text, &len, &error))
    {
      g_autofree char *why = NULL;

      if (error != NULL)
        {
          fail_now (app, MC_EXIT_USAGE, error->message);
          return TRUE;
        }
      if (g_get_monotonic_time () - app->sdp_wait_start < bound)
        return FALSE;
      why = g_strdup_printf ("timeout: no SDP in %s after %.1f s", c->sdp_in,
                             (double) bound / 1e6);
      fail_now (app, MC_EXIT_TIMEOUT, why);
      return TRUE;
    }
  peer = mc_sdp_peer_parse (text, len, c->sdp_in, &error);
  if (peer == NULL)
    {
      fail_now (app, MC_EXIT_USAGE, error->message);
      return TRUE;
    }
  sdp_got_peer (app, peer);
  return TRUE;
}

static gboolean
on_sdp_poll (gpointer user_data)
{
  App *app = user_data;

  if (app->finishing || sdp_poll (app))
    {
      app->sdp_poll_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
sdp_wait_for_peer (App *app)
{
  app->sdp_wait_start = g_get_monotonic_time ();
  if (!app->config.quiet)
    fprintf (stderr, "msrpcat: waiting for the peer's SDP in %s\n",
             app->config.sdp_in);
  if (!sdp_poll (app))
    app->sdp_poll_id = g_timeout_add (SDP_POLL_MS, on_sdp_poll, app);
}

/* From the main loop, so that an early failure can quit it. */
static gboolean
on_sdp_start (gpointer user_data)
{
  App *app = user_data;

  app->start_id = 0;
  if (app->config.answer)
    sdp_wait_for_peer (app);
  else
    sdp_prepare_local (app);
  return G_SOURCE_REMOVE;
}

/* --- timers and signals ------------------------------------------------ */

static gboolean
on_tick (gpointer user_data)
{
  App *app = user_data;
  const McConfig *c = &app->config;
  gint64 idle = g_get_monotonic_time () - app->last_activity;
  gboolean waiting;
  const char *what;

  if (app->finishing || c->timeout_us <= 0 || idle < c->timeout_us)
    return G_SOURCE_CONTINUE;
  /* Waiting for the peer's SDP, and the ICE checks, have bounds of their
   * own (sdp_poll (), the ICE guard). */
  if (app->sdp_poll_id != 0 || (app->ice != NULL && !app->ice_ready))
    return G_SOURCE_CONTINUE;
  if (app->auth != NULL && !mc_auth_is_done (app->auth))
    {
      waiting = TRUE;
      what = "an answer to AUTH";
    }
  else if (mc_sender_is_waiting (app->sender))
    {
      waiting = TRUE;
      what = mc_sender_get_awaiting (app->sender) > 0
                 ? "transaction responses"
                 : "the peer (responses or REPORTs)";
    }
  else if (!app->ready && !app->passive)
    {
      waiting = TRUE;
      what = app->resolving != NULL ? "the DNS answer" : "the connection";
    }
  else
    {
      /* A receiver, or a passive endpoint waiting for its peer, waits
       * forever unless --timeout was given. */
      waiting = c->timeout_set && (!receiver_satisfied (app) || !app->ready);
      what = app->ready ? "messages" : "the peer to connect";
    }
  if (!waiting)
    return G_SOURCE_CONTINUE;
  if (mc_sender_get_awaiting (app->sender) > 0)
    mc_session_fail (app->session, MC_EXIT_TIMEOUT,
                     "timeout: nothing from "
                     "the peer for %.1f s while waiting for %s (%u "
                     "outstanding)",
                     (double) c->timeout_us / 1e6, what,
                     mc_sender_get_awaiting (app->sender));
  else
    mc_session_fail (app->session, MC_EXIT_TIMEOUT,
                     "timeout: nothing from "
                     "the peer for %.1f s while waiting for %s",
                     (double) c->timeout_us / 1e6, what);
  finish (app);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer user_data)
{
  App *app = user_data;

  if (app->finishing)
    {
      /* A second signal: do not wait for graceful closes. */
      on_grace_over (app);
      return G_SOURCE_CONTINUE;
    }
  if ((mc_sender_has_work (app->sender) && !sender_satisfied (app)) ||
      (app->config.expect > 0 && !receiver_satisfied (app)))
    mc_session_fail (app->session, MC_EXIT_PROTOCOL,
                     "interrupted before "
                     "the end");
  else if (!app->config.quiet)
    fprintf (stderr, "msrpcat: stopping on a signal\n");
  finish (app);
  return G_SOURCE_CONTINUE;
}

/* --- command line ------------------------------------------------------ */

typedef struct
{
  char *chunk_size;
  char *success_report;
  char *failure_report;
  char *interval;
  char *timeout;
  char *max_size;
  char *max_buffer;
  char *accept_types;
  char *expires;
  int count;
  int window;
  int expect;
  int bench_chat;
  char *ice_timeout;
  gboolean version;
} RawOptions;

static void
config_clear (McConfig *c)
{
  g_free (c->local_uri);
  g_free (c->to_path);
  g_free (c->listen);
  g_free (c->ca_file);
  g_free (c->cert);
  g_free (c->key);
  g_strfreev (c->relays);
  g_free (c->user);
  if (c->password != NULL)
    memset (c->password, 0, strlen (c->password));
  g_free (c->password);
  g_free (c->ha1);
  g_strfreev (c->messages);
  g_free (c->file);
  g_free (c->content_type);
  g_free (c->output_dir);
  g_strfreev (c->accept_types);
  g_free (c->sdp_out);
  g_free (c->sdp_in);
  g_free (c->sdp_address);
  g_free (c->setup);
  g_strfreev (c->ice_addresses);
  g_free (c->stun);
}

static void
raw_clear (RawOptions *r)
{
  g_free (r->chunk_size);
  g_free (r->success_report);
  g_free (r->failure_report);
  g_free (r->interval);
  g_free (r->timeout);
  g_free (r->max_size);
  g_free (r->max_buffer);
  g_free (r->accept_types);
  g_free (r->expires);
  g_free (r->ice_timeout);
}

static gboolean usage_error (GError **error, const char *format, ...)
    G_GNUC_PRINTF (2, 3);

static gboolean
usage_error (GError **error, const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  *error =
      g_error_new_valist (MC_UTIL_ERROR, MC_UTIL_ERROR_INVALID, format, ap);
  va_end (ap);
  return FALSE;
}

static gboolean
is_hex (const char *s)
{
  for (; *s != '\0'; s++)
    if (!g_ascii_isxdigit (*s))
      return FALSE;
  return TRUE;
}

/* SDP mode: the options that decide our a=setup, and what goes with
 * them. */
static gboolean
sdp_setup_config (App *app, GError **error)
{
  McConfig *c = &app->config;

  if (c->to_path != NULL)
    return usage_error (error, "--to-path: in SDP mode the peer's path is "
                               "the a=path of --sdp-in");
  if (c->answer && c->sdp_in == NULL)
    return usage_error (error, "--answer reads the offer first: give "
                               "--sdp-in");
  if (c->sdp_in != NULL && c->sdp_out != NULL &&
      strcmp (c->sdp_in, c->sdp_out) == 0)
    return usage_error (error, "--sdp-in and --sdp-out name the same file");
  if (c->keep)
    return usage_error (error, "--keep is not for SDP mode: one SDP, one "
                               "peer");
  if (c->setup != NULL)
    {
      if (!mc_sdp_parse_setup_option (c->setup, &app->setup, error))
        return FALSE;
      app->setup_set = TRUE;
    }
  else
    {
      /* RFC 6135 section 4.2.2: an offer says actpass when it can accept a
       * connection (with a relay too); the answer's is chosen once the
       * offer is read. */
      app->setup = MSRP_SDP_SETUP_ACTPASS;
    }
  if (c->answer)
    return TRUE;
  if (app->setup == MSRP_SDP_SETUP_PASSIVE && !c->quiet)
    fprintf (stderr, "msrpcat: warning: RFC 6135 section 4.2.2 says an "
                     "MSRP offer MUST NOT say a=setup:passive (RFC 4145 "
                     "allows it); offering it anyway\n");
  if (c->sdp_in == NULL && app->setup != MSRP_SDP_SETUP_ACTPASS &&
      app->setup != MSRP_SDP_SETUP_PASSIVE)
    return usage_error (error, "without --sdp-in the peer's path is not "
                               "known, so we can only wait for its "
                               "connection: --setup actpass or passive, or "
                               "give --sdp-in");
  return TRUE;
}

/* SDP mode: the addresses we give in our SDP, gather ICE candidates on,
 * and ask STUN for. */
static gboolean
sdp_address_config (App *app, GError **error)
{
  McConfig *c = &app->config;

  if (c->sdp_address != NULL)
    {
      g_autoptr (GInetAddress) ia =
          g_inet_address_new_from_string (c->sdp_address);

      if (ia == NULL)
        return usage_error (error,
                            "--sdp-address: '%s' is not an IP "
                            "address",
                            c->sdp_address);
      if (g_inet_address_get_is_any (ia))
        return usage_error (error,
                            "--sdp-address: %s is a wildcard; give "
                            "the address the peer reaches",
                            c->sdp_address);
    }
  if ((c->ice_addresses != NULL || c->stun != NULL) && !c->ice)
    return usage_error (error, "--ice-address and --stun go with --ice");
  app->ice_addresses = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; c->ice_addresses != NULL && c->ice_addresses[i] != NULL;
       i++)
    {
      GInetAddress *ia = g_inet_address_new_from_string (c->ice_addresses[i]);

      if (ia == NULL)
        return usage_error (error,
                            "--ice-address: '%s' is not an IP "
                            "address",
                            c->ice_addresses[i]);
      g_ptr_array_add (app->ice_addresses, ia);
    }
  if (c->stun != NULL)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (GSocketAddress) sa =
          mc_parse_listen_address (c->stun, &local);

      /* libnice does not resolve names (ice-leg.h). */
      if (sa == NULL)
        return usage_error (error, "--stun: %s (give IP:PORT)",
                            local->message);
      app->stun_host = g_inet_address_to_string (
          g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa)));
      app->stun_port =
          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa));
    }
  return TRUE;
}

/* SDP mode without relays: TLS, and where to listen when we may be
 * passive: --listen, else --sdp-address (with ICE falling back to plain
 * TCP, the first --ice-address), on a port the kernel picks. */
static gboolean
sdp_listen_config (App *app, GError **error)
{
  McConfig *c = &app->config;

  app->tls_wanted = c->tls || (app->session->local_uri != NULL &&
                               msrp_uri_get_scheme (app->session->local_uri) ==
                                   MSRP_SCHEME_MSRPS);
  if (app->tls_wanted && c->cert == NULL && !c->fingerprint)
    return usage_error (error, "TLS in the passive role needs --cert and "
                               "--key (or --fingerprint)");
  if (app->listen_address == NULL)
    {
      const char *host = c->sdp_address;

      if (host == NULL && c->ice && c->ice_addresses != NULL)
        host = c->ice_addresses[0];
      if (host != NULL)
        app->listen_address = g_strdup_printf (
            strchr (host, ':') != NULL ? "[%s]:0" : "%s:0", host);
    }
  return TRUE;
}

/* SDP mode: the roles come from the SDP, so --listen is only where to
 * listen when we may be passive. */
static gboolean
finish_sdp_config (App *app, GError **error)
{
  McConfig *c = &app->config;

  app->sdp_mode = TRUE;
  if (!sdp_setup_config (app, error) || !sdp_address_config (app, error))
    return FALSE;
  if (c->cema && (app->relays->len > 0 || c->ice))
    return usage_error (error, "--cema is for an endpoint that reaches its "
                               "peer itself: not with --relay (RFC 6714 "
                               "section 4.1) or --ice");
  if (c->fingerprint && !c->tls)
    return usage_error (error, "--fingerprint authenticates TLS: give --tls "
                               "(TCP/TLS/MSRP)");
  app->session->match_session_id = c->cema;
  if (c->ice)
    {
      if (c->sdp_in == NULL || c->sdp_out == NULL)
        return usage_error (error, "--ice exchanges candidates both ways: "
                                   "give --sdp-out and --sdp-in");
      if (app->relays->len > 0)
        return usage_error (error, "--ice and --relay do not go together: "
                                   "ICE reaches the peer without a relay");
      if (c->tls)
        return usage_error (error, "--ice carries TCP/MSRP: drop --tls");
    }
  if (app->relays->len == 0)
    return sdp_listen_config (app, error);

  if (c->listen != NULL || c->sdp_address != NULL)
    return usage_error (error, "--relay: the a=path comes from the "
                               "relay (its Use-Path): drop --listen and "
                               "--sdp-address");
  if (c->tls)
    return usage_error (error, "--tls is for --listen; in the active role "
                               "an msrps: URI asks for TLS");
  app->first_hop = msrp_uri_ref (app->relays->pdata[0]);
  app->tls_wanted = msrp_uri_get_scheme (app->first_hop) == MSRP_SCHEME_MSRPS;
  if (c->user == NULL && !c->quiet)
    fprintf (stderr, "msrpcat: no --user: AUTH goes without credentials\n");
  return TRUE;
}

/* --success-report and --failure-report. */
static gboolean
parse_report_options (McConfig *c, const RawOptions *raw, GError **error)
{
  c->success_report = MSRP_SUCCESS_REPORT_DEFAULT;
  c->failure_report = MSRP_FAILURE_REPORT_DEFAULT;
  if (raw->success_report != NULL)
    {
      if (!msrp_success_report_parse (raw->success_report,
                                      strlen (raw->success_report),
                                      &c->success_report, NULL))
        return usage_error (error, "--success-report: '%s' is not yes or no",
                            raw->success_report);
      c->success_report_set = TRUE;
    }
  if (raw->failure_report != NULL)
    {
      if (!msrp_failure_report_parse (raw->failure_report,
                                      strlen (raw->failure_report),
                                      &c->failure_report, NULL))
        return usage_error (error,
                            "--failure-report: '%s' is not yes, no or "
                            "partial",
                            raw->failure_report);
      c->failure_report_set = TRUE;
    }
  return TRUE;
}

/* The options given as text: sizes, durations, report modes, lists. */
static gboolean
parse_raw_options (McConfig *c, const RawOptions *raw, GError **error)
{
  c->chunk_size = MC_DEFAULT_CHUNK_SIZE;
  if (raw->chunk_size != NULL &&
      !mc_parse_size ("--chunk-size", raw->chunk_size, &c->chunk_size, error))
    return FALSE;
  if (c->chunk_size == 0)
    return usage_error (error, "--chunk-size: must be at least 1 byte");
  if (!parse_report_options (c, raw, error))
    return FALSE;
  if (raw->interval != NULL &&
      !mc_parse_duration ("--interval", raw->interval, &c->interval_us, error))
    return FALSE;
  c->timeout_us = (gint64) MC_DEFAULT_TIMEOUT_S * G_USEC_PER_SEC;
  if (raw->timeout != NULL)
    {
      if (!mc_parse_duration ("--timeout", raw->timeout, &c->timeout_us,
                              error))
        return FALSE;
      c->timeout_set = TRUE;
    }
  if (raw->max_size != NULL &&
      !mc_parse_size ("--max-size", raw->max_size, &c->max_size, error))
    return FALSE;
  c->max_buffer = MC_DEFAULT_MAX_BUFFER;
  if (raw->max_buffer != NULL &&
      !mc_parse_size ("--max-buffer", raw->max_buffer, &c->max_buffer, error))
    return FALSE;
  if (c->max_buffer == 0 || c->max_buffer > G_MAXSIZE / 2)
    return usage_error (error, "--max-buffer: must be at least 1 byte");
  if (raw->accept_types != NULL)
    {
      c->accept_types = mc_split_list (raw->accept_types);
      if (c->accept_types[0] == NULL)
        return usage_error (error, "--accept-types: the list is empty");
    }
  if (raw->expires != NULL)
    {
      guint64 v;

      if (!g_ascii_string_to_unsigned (raw->expires, 10, 1, G_MAXUINT32, &v,
                                       NULL))
        return usage_error (error,
                            "--expires: '%s' is not a number of "
                            "seconds",
                            raw->expires);
      c->expires = (guint32) v;
    }
  return TRUE;
}

/* The counts, the rate, and what --bench-chat excludes. */
static gboolean
check_counts (McConfig *c, const RawOptions *raw, GError **error)
{
  if (raw->count < 1 || raw->window < 0 || raw->expect < 0 ||
      raw->bench_chat < 0)
    return usage_error (error, "--count must be at least 1; --window, "
                               "--expect and --bench-chat at least 0");
  c->count = (guint) raw->count;
  c->window = (guint) raw->window;
  c->expect = (guint) raw->expect;
  c->bench_chat = (guint) raw->bench_chat;
  if (!(c->rate >= 0) || c->rate > 1e7)
    return usage_error (error, "--rate: %g is not 0 to 10000000 per second",
                        c->rate);
  if (c->bench_chat > 0 && (c->messages != NULL || c->file != NULL))
    return usage_error (error, "--bench-chat makes its own messages: drop "
                               "--message and --file");
  return TRUE;
}

/* Digest credentials for the relays, and the TLS certificate. */
static gboolean
check_credentials (App *app, GError **error)
{
  McConfig *c = &app->config;

  if (c->password == NULL && g_getenv ("MSRPCAT_PASSWORD") != NULL)
    c->password = g_strdup (g_getenv ("MSRPCAT_PASSWORD"));
  if (c->ha1 != NULL)
    {
      gsize n = strlen (c->ha1);

      if ((n != 32 && n != 64) || !is_hex (c->ha1))
        return usage_error (error, "--ha1: give 32 (MD5) or 64 (SHA-256) hex "
                                   "digits");
      if (c->password != NULL)
        return usage_error (error, "give --password or --ha1, not both");
    }
  if (app->algorithm != NULL && msrp_digest_algorithm_from_string (
                                    app->algorithm, strlen (app->algorithm)) ==
                                    MSRP_DIGEST_ALGORITHM_UNKNOWN)
    return usage_error (error, "--algorithm: '%s' is not MD5 or SHA-256",
                        app->algorithm);
  if ((c->cert == NULL) != (c->key == NULL))
    return usage_error (error, "--cert and --key go together");
  return TRUE;
}

/* --relay, --local-uri and --to-path. */
static gboolean
parse_uri_options (App *app, GError **error)
{
  McConfig *c = &app->config;

  for (guint i = 0; c->relays != NULL && c->relays[i] != NULL; i++)
    {
      g_autoptr (GError) local = NULL;
      MsrpUri *u = msrp_uri_parse (c->relays[i], -1, &local);

      if (u == NULL)
        return usage_error (error, "--relay %s: %s", c->relays[i],
                            local->message);
      g_ptr_array_add (app->relays, u);
    }
  if (c->local_uri != NULL)
    {
      g_autoptr (GError) local = NULL;

      app->session->local_uri = msrp_uri_parse (c->local_uri, -1, &local);
      if (app->session->local_uri == NULL)
        return usage_error (error, "--local-uri: %s", local->message);
    }
  if (c->to_path != NULL)
    {
      g_autoptr (GError) local = NULL;

      app->session->peer_path = msrp_uri_list_parse (c->to_path, -1, &local);
      if (app->session->peer_path == NULL)
        return usage_error (error, "--to-path: %s", local->message);
    }
  return TRUE;
}

/* Without SDP: the passive role with --listen, else the active one to the
 * first relay or the peer.  @has_content: there is something to send. */
static gboolean
role_config (App *app, gboolean has_content, GError **error)
{
  McConfig *c = &app->config;

  app->passive = c->listen != NULL;
  if (app->passive)
    {
      if (app->relays->len > 0)
        return usage_error (error, "--relay needs the active role: drop "
                                   "--listen");
      app->tls_wanted =
          c->tls ||
          (app->session->local_uri != NULL &&
           msrp_uri_get_scheme (app->session->local_uri) == MSRP_SCHEME_MSRPS);
      if (app->tls_wanted && c->cert == NULL)
        return usage_error (error, "TLS in the passive role needs --cert and "
                                   "--key");
      return TRUE;
    }
  if (c->tls)
    return usage_error (error, "--tls is for --listen; in the active role "
                               "an msrps: URI asks for TLS");
  if (app->relays->len > 0)
    app->first_hop = msrp_uri_ref (app->relays->pdata[0]);
  else if (app->session->peer_path != NULL)
    app->first_hop = msrp_uri_ref (app->session->peer_path->pdata[0]);
  else
    return usage_error (error, "give the peer's path (--to-path) or a "
                               "relay (--relay) to connect to, or --listen "
                               "to wait for the peer");
  if ((has_content || c->use_stdin || c->bind) &&
      app->session->peer_path == NULL)
    return usage_error (error, "sending needs the peer's path: give "
                               "--to-path");
  app->tls_wanted = msrp_uri_get_scheme (app->first_hop) == MSRP_SCHEME_MSRPS;
  if (app->relays->len > 0 && c->user == NULL && !c->quiet)
    fprintf (stderr, "msrpcat: no --user: AUTH goes without credentials\n");
  return TRUE;
}

/* Turn the raw option strings into the configuration and check how they
 * go together. */
static gboolean
finish_config (App *app, RawOptions *raw, GError **error)
{
  McConfig *c = &app->config;
  gboolean has_content;

  if (!parse_raw_options (c, raw, error) || !check_counts (c, raw, error) ||
      !check_credentials (app, error) || !parse_uri_options (app, error))
    return FALSE;
  c->ice_timeout_us = (gint64) MC_DEFAULT_ICE_TIMEOUT_S * G_USEC_PER_SEC;
  if (raw->ice_timeout != NULL)
    {
      if (!mc_parse_duration ("--ice-timeout", raw->ice_timeout,
                              &c->ice_timeout_us, error))
        return FALSE;
      if (c->ice_timeout_us < 100 * 1000)
        return usage_error (error, "--ice-timeout: at least 0.1 s");
    }

  has_content = c->messages != NULL || c->file != NULL || c->bench_chat > 0;
  c->use_stdin = !has_content && !c->receive && !c->bind;
  if (c->expect > 0 && !c->receive)
    return usage_error (error, "--expect is for --receive");
  app->listen_address = g_strdup (c->listen);
  if (c->sdp_out != NULL || c->sdp_in != NULL)
    return finish_sdp_config (app, error);
  if (c->answer || c->setup != NULL || c->sdp_address != NULL || c->ice ||
      c->ice_addresses != NULL || c->stun != NULL ||
      raw->ice_timeout != NULL || c->cema || c->fingerprint)
    return usage_error (error, "--answer, --setup, --sdp-address, --cema, "
                               "--fingerprint and the ICE options go with "
                               "--sdp-out / --sdp-in");
  return role_config (app, has_content, error);
}

static gboolean
make_tls (App *app, GError **error)
{
  const McConfig *c = &app->config;

  /* RFC 4975 section 14.4: "endpoints are not required to generate
   * certificates for each session"; without --cert, one for the run. */
  if (c->fingerprint && c->cert == NULL &&
      !net_tls_make_self_signed ("msrpcat", &app->cert_pem, &app->key_pem,
                                 error))
    return FALSE;
  if (!app->tls_wanted)
    return TRUE;
  app->tls = new_tls (app, app->passive, error);
  return app->tls != NULL;
}

/* Who we are and which role we take: URIs, --listen, TLS. */
static void
add_role_options (GOptionContext *ctx, App *app, RawOptions *raw)
{
  McConfig *c = &app->config;
  const GOptionEntry entries[] = {
    { "local-uri", 'l', 0, G_OPTION_ARG_STRING, &c->local_uri,
      "This endpoint's MSRP URI (default: msrp://ADDRESS:PORT/RANDOM;tcp)",
      "URI" },
    { "to-path", 'p', 0, G_OPTION_ARG_STRING, &c->to_path,
      "The peer's path (its SDP a=path), URIs separated by spaces", "URIS" },
    { "listen", 'L', 0, G_OPTION_ARG_STRING, &c->listen,
      "Passive role: accept the peer's connection on HOST:PORT (port 0: any "
      "free port)",
      "HOST:PORT" },
    { "keep", 'k', 0, G_OPTION_ARG_NONE, &c->keep,
      "With --listen: accept any number of connections", NULL },
    { "tls", 0, 0, G_OPTION_ARG_NONE, &c->tls,
      "With --listen: serve TLS (msrps); needs --cert and --key", NULL },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &c->ca_file,
      "PEM CA bundle that the peer's certificate must chain to", "FILE" },
    { "cert", 0, 0, G_OPTION_ARG_FILENAME, &c->cert,
      "PEM certificate chain to present (server, or client certificate)",
      "FILE" },
    { "key", 0, 0, G_OPTION_ARG_FILENAME, &c->key, "PEM private key of --cert",
      "FILE" },
    { "insecure", 0, 0, G_OPTION_ARG_NONE, &c->insecure,
      "Do not check the server's certificate (labs only)", NULL },
    { NULL }
  };

  g_option_context_add_main_entries (ctx, entries, NULL);
}

/* RFC 4976 relays and their Digest AUTH. */
static void
add_relay_options (GOptionContext *ctx, App *app, RawOptions *raw)
{
  McConfig *c = &app->config;
  const GOptionEntry entries[] = {
    { "relay", 'R', 0, G_OPTION_ARG_STRING_ARRAY, &c->relays,
      "An RFC 4976 relay to AUTH to before sending, in order (repeatable)",
      "URI" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &c->user,
      "Digest user name for the relays", "NAME" },
    { "password", 'P', 0, G_OPTION_ARG_STRING, &c->password,
      "Digest password (or $MSRPCAT_PASSWORD, kept out of ps)", "PASSWORD" },
    { "ha1", 0, 0, G_OPTION_ARG_STRING, &c->ha1,
      "Digest HA1 in hex instead of a password (32 digits: MD5, 64: "
      "SHA-256)",
      "HEX" },
    { "algorithm", 0, 0, G_OPTION_ARG_STRING, &app->algorithm,
      "Answer only Digest challenges of MD5 or SHA-256", "NAME" },
    { "expires", 0, 0, G_OPTION_ARG_STRING, &raw->expires,
      "Ask the relays for a URI valid this long (Expires)", "SECONDS" },
    { NULL }
  };

  g_option_context_add_main_entries (ctx, entries, NULL);
}

/* SDP mode and ICE. */
static void
add_sdp_options (GOptionContext *ctx, App *app, RawOptions *raw)
{
  McConfig *c = &app->config;
  const GOptionEntry entries[] = {
    { "sdp-out", 0, 0, G_OPTION_ARG_FILENAME, &c->sdp_out,
      "Write our SDP (one m=message section: c=, a=path, a=setup, "
      "a=accept-types; ICE lines with --ice) to FILE, atomically",
      "FILE" },
    { "sdp-in", 0, 0, G_OPTION_ARG_FILENAME, &c->sdp_in,
      "Read the peer's SDP from FILE, waiting for it up to --timeout: its "
      "a=path is the To-Path, its a=setup decides who connects",
      "FILE" },
    { "answer", 0, 0, G_OPTION_ARG_NONE, &c->answer,
      "We answer: read --sdp-in first, then write --sdp-out (without it we "
      "offer: write --sdp-out, then read --sdp-in)",
      NULL },
    { "setup", 0, 0, G_OPTION_ARG_STRING, &c->setup,
      "Our a=setup: actpass, active, passive or none (default: actpass in "
      "an offer; passive in an answer, or the role the offer leaves)",
      "ROLE" },
    { "sdp-address", 0, 0, G_OPTION_ARG_STRING, &c->sdp_address,
      "The IP address for c= and a=path (default: the --listen host); "
      "without --listen we listen on it",
      "IP" },
    { "ice", 0, 0, G_OPTION_ARG_NONE, &c->ice,
      "ICE-TCP (RFC 8445, RFC 6544): gather TCP candidates, exchange them "
      "in the SDP and carry MSRP over the selected pair (needs --sdp-out "
      "and --sdp-in; the offerer controls)",
      NULL },
    { "ice-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &c->ice_addresses,
      "Gather ICE candidates on this address (repeatable; loopback only "
      "when named)",
      "IP" },
    { "ice-timeout", 0, 0, G_OPTION_ARG_STRING, &raw->ice_timeout,
      "Give up when the ICE checks have not succeeded after this long "
      "(default 10)",
      "SECONDS" },
    { "stun", 0, 0, G_OPTION_ARG_STRING, &c->stun,
      "STUN server for server-reflexive candidates", "IP:PORT" },
    { "cema", 0, 0, G_OPTION_ARG_NONE, &c->cema,
      "CEMA (RFC 6714): a=msrp-cema in our SDP; connect to the peer's c=/m= "
      "address when active, take requests by session-id alone",
      NULL },
    { "fingerprint", 0, 0, G_OPTION_ARG_NONE, &c->fingerprint,
      "TLS with fingerprint authentication (RFC 8122): our certificate's "
      "a=fingerprint in our SDP (a self-signed one without --cert), the "
      "peer's certificate checked against its a=fingerprint (needs --tls)",
      NULL },
    { "print-use-path", 0, 0, G_OPTION_ARG_NONE, &c->print_use_path,
      "Print the path the peer must be given (its a=path: the Use-Path "
      "reversed, then our URI) as the first line of stdout",
      NULL },
    { NULL }
  };

  g_option_context_add_main_entries (ctx, entries, NULL);
}

/* What is sent, and how. */
static void
add_send_options (GOptionContext *ctx, App *app, RawOptions *raw)
{
  McConfig *c = &app->config;
  const GOptionEntry entries[] = {
    /* FILENAME: the bytes as given, whatever the locale's charset. */
    { "message", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &c->messages,
      "Send TEXT as a message (repeatable)", "TEXT" },
    { "file", 'f', 0, G_OPTION_ARG_FILENAME, &c->file,
      "Send the file as one message", "PATH" },
    { "content-type", 't', 0, G_OPTION_ARG_STRING, &c->content_type,
      "Content-Type of what is sent (default text/plain, "
      "application/octet-stream for --file)",
      "TYPE" },
    { "chunk-size", 'c', 0, G_OPTION_ARG_STRING, &raw->chunk_size,
      "Body bytes per SEND chunk (default 2048; k, M, G suffixes)", "N" },
    { "success-report", 0, 0, G_OPTION_ARG_STRING, &raw->success_report,
      "Success-Report: yes or no (default no)", "yes|no" },
    { "failure-report", 0, 0, G_OPTION_ARG_STRING, &raw->failure_report,
      "Failure-Report: yes, no or partial (default yes)", "MODE" },
    { "count", 'n', 0, G_OPTION_ARG_INT, &raw->count,
      "Send the messages N times", "N" },
    { "interval", 'i', 0, G_OPTION_ARG_STRING, &raw->interval,
      "Time between two messages (e.g. 1, 0.2, 50ms)", "SECONDS" },
    { "window", 'w', 0, G_OPTION_ARG_INT, &raw->window,
      "At most N SEND transactions awaiting a response (default: no limit)",
      "N" },
    { "bind", 'b', 0, G_OPTION_ARG_NONE, &c->bind,
      "Send an empty SEND first to bind the connection (RFC 4975 5.4, RFC "
      "6135)",
      NULL },
    { "timeout", 'T', 0, G_OPTION_ARG_STRING, &raw->timeout,
      "Give up after this long without a word from the peer while waiting "
      "(default 30; receivers wait forever unless given)",
      "SECONDS" },
    { NULL }
  };

  g_option_context_add_main_entries (ctx, entries, NULL);
}

/* What is received, and where it goes. */
static void
add_receive_options (GOptionContext *ctx, App *app, RawOptions *raw)
{
  McConfig *c = &app->config;
  const GOptionEntry entries[] = {
    { "receive", 'r', 0, G_OPTION_ARG_NONE, &c->receive,
      "Receive messages (to stdout, or --output-dir)", NULL },
    { "output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &c->output_dir,
      "Write each received message to DIR/MESSAGE-ID", "DIR" },
    { "max-size", 0, 0, G_OPTION_ARG_STRING, &raw->max_size,
      "Refuse messages over N bytes with 413 (a=max-size)", "N" },
    { "accept-types", 0, 0, G_OPTION_ARG_STRING, &raw->accept_types,
      "Accept only these Content-Types (a=accept-types, e.g. \"text/* "
      "image/png\"); others get 415",
      "LIST" },
    { "expect", 'e', 0, G_OPTION_ARG_INT, &raw->expect,
      "With --receive: exit 0 after N messages", "N" },
    { "max-buffer", 0, 0, G_OPTION_ARG_STRING, &raw->max_buffer,
      "Memory for reassembling messages (default 128M)", "N" },
    { NULL }
  };

  g_option_context_add_main_entries (ctx, entries, NULL);
}

/* Benchmark load, and what is printed. */
static void
add_output_options (GOptionContext *ctx, App *app, RawOptions *raw)
{
  McConfig *c = &app->config;
  const GOptionEntry entries[] = {
    /* load */
    { "bench-chat", 0, 0, G_OPTION_ARG_INT, &raw->bench_chat,
      "Benchmark: send N timestamped chat messages", "N" },
    { "rate", 0, 0, G_OPTION_ARG_DOUBLE, &c->rate,
      "Benchmark: messages per second (default: as fast as allowed)", "R" },
    /* output */
    { "json", 'j', 0, G_OPTION_ARG_NONE, &c->json,
      "Print a one-line JSON summary on stdout at the end", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &c->quiet,
      "Print only failures on stderr", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &c->verbose,
      "Print every frame's start line on stderr", NULL },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &raw->version,
      "Print the version and exit", NULL },
    { NULL }
  };

  g_option_context_add_main_entries (ctx, entries, NULL);
}

/* Reads the command line into @app and @raw.  Returns the exit status
 * when the run ends here (a usage error, --version), or -1. */
static int
parse_command_line (App *app, RawOptions *raw, int *argc, char ***argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;

  ctx = g_option_context_new ("- send and receive MSRP messages and files");
  g_option_context_set_summary (
      ctx,
      "Examples:\n"
      "  msrpcat --listen 127.0.0.1:2856 --receive --print-use-path\n"
      "  msrpcat --to-path msrp://127.0.0.1:2856/abc;tcp -m hello\n"
      "  msrpcat --relay msrps://relay.example:2856;tcp -u alice "
      "--to-path \"$PEER_PATH\" -f big.bin\n"
      "  msrpcat --sdp-out offer.sdp --sdp-in answer.sdp --listen "
      "127.0.0.1:0 -f big.bin\n"
      "  msrpcat --answer --sdp-in offer.sdp --sdp-out answer.sdp "
      "--sdp-address 127.0.0.1 -r -e 1\n"
      "  msrpcat --ice --ice-address 192.0.2.7 --sdp-out offer.sdp "
      "--sdp-in answer.sdp -m hi\n"
      "\n"
      "Exit status: 0 ok, 1 protocol failure, 2 usage, 3 connection failure, "
      "4 timeout.");
  /* One main group, in this order in --help. */
  add_role_options (ctx, app, raw);
  add_relay_options (ctx, app, raw);
  add_sdp_options (ctx, app, raw);
  add_send_options (ctx, app, raw);
  add_receive_options (ctx, app, raw);
  add_output_options (ctx, app, raw);
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      fprintf (stderr, "msrpcat: %s\n", error->message);
      return MC_EXIT_USAGE;
    }
  if (raw->version)
    {
      printf ("msrpcat %s\n", MSRP_EDGE_VERSION);
      return MC_EXIT_OK;
    }
  if (*argc > 1)
    {
      fprintf (stderr,
               "msrpcat: unexpected argument '%s' (text to send goes "
               "with --message)\n",
               (*argv)[1]);
      return MC_EXIT_USAGE;
    }
  return -1;
}

/* The configuration checked, TLS, the sender and the receiver made, the
 * first connection made or awaited.  FALSE, with the session failed,
 * when the run cannot start. */
static gboolean
start_run (App *app, RawOptions *raw)
{
  McConfig *c = &app->config;
  g_autoptr (GError) error = NULL;

  if (!finish_config (app, raw, &error) || !make_tls (app, &error))
    {
      mc_session_fail (app->session, MC_EXIT_USAGE, "%s", error->message);
      return FALSE;
    }
  app->sender = mc_sender_new (app->session, &sender_callbacks, app, &error);
  if (app->sender == NULL)
    {
      mc_session_fail (app->session, MC_EXIT_USAGE, "%s", error->message);
      return FALSE;
    }
  app->receiver =
      mc_receiver_new (app->session, &receiver_callbacks, app, &error);
  if (app->receiver == NULL)
    {
      mc_session_fail (app->session, MC_EXIT_USAGE, "%s", error->message);
      return FALSE;
    }
  /* RFC 4975 section 5.4: "the active endpoint MUST immediately issue a
   * SEND request"; a receiver in the active role binds with an empty one
   * (RFC 6135 section 4.2.2). */
  if (!app->passive && c->receive && app->session->peer_path != NULL &&
      !mc_sender_has_work (app->sender))
    mc_sender_set_bind (app->sender, TRUE);

  if (app->sdp_mode)
    app->start_id = g_idle_add (on_sdp_start, app);
  else if (!app->passive)
    start_active (app);
  else if (!start_passive (app, &error))
    {
      mc_session_fail (app->session, MC_EXIT_CONNECTION, "%s", error->message);
      return FALSE;
    }
  return TRUE;
}

/* The run is over: the summary on stderr, --json on stdout.  Returns the
 * exit status. */
static int
report_run (App *app)
{
  McSession *session = app->session;

  if (session->stats.end_time == 0)
    session->stats.end_time = g_get_monotonic_time ();
  if (!app->config.quiet || session->exit_code != MC_EXIT_OK)
    {
      g_autofree char *text = mc_session_summary_text (session);

      /* After a failure that came before anything happened, the failure
       * says it all. */
      if (session->exit_code == MC_EXIT_OK ||
          strcmp (text, "nothing sent or received") != 0)
        fprintf (stderr, "msrpcat: %s\n", text);
    }
  if (app->config.json)
    {
      g_autofree char *json = mc_session_summary_json (session);

      if (!session->stdout_at_line_start)
        mc_session_write_stdout (session, "\n", 1);
      mc_session_write_stdout (session, json, strlen (json));
      mc_session_write_stdout (session, "\n", 1);
    }
  if (fflush (stdout) != 0 && session->exit_code == MC_EXIT_OK)
    mc_session_fail (session, MC_EXIT_PROTOCOL,
                     "cannot write to "
                     "stdout: %s",
                     g_strerror (errno));
  return session->exit_code;
}

/* Everything the run made, in the order it can go. */
static void
app_clear (App *app)
{
  if (app->tick_id != 0)
    g_source_remove (app->tick_id);
  if (app->grace_id != 0)
    g_source_remove (app->grace_id);
  if (app->start_id != 0)
    g_source_remove (app->start_id);
  if (app->sdp_poll_id != 0)
    g_source_remove (app->sdp_poll_id);
  ice_guard_stop (app);
  g_clear_pointer (&app->auth, mc_auth_free);
  g_clear_pointer (&app->sender, mc_sender_free);
  g_clear_pointer (&app->listener, net_listener_unref);
  /* Connections still closing when the grace period ran out: their open
   * requests go back to the receiver before it goes. */
  for (guint i = 0; i < app->links->len; i++)
    mc_link_abort (app->links->pdata[i]);
  if (app->primary != NULL)
    mc_link_abort (app->primary);
  g_clear_pointer (&app->primary, mc_link_unref);
  g_ptr_array_unref (app->links);
  g_clear_pointer (&app->receiver, mc_receiver_free);
  /* After the links: the ICE pair's stream is the leg's. */
  g_clear_pointer (&app->ice, ice_leg_free);
  g_clear_pointer (&app->ice_candidates, g_ptr_array_unref);
  g_clear_pointer (&app->ice_addresses, g_ptr_array_unref);
  g_free (app->stun_host);
  g_clear_pointer (&app->peer, mc_sdp_peer_free);
  g_ptr_array_unref (app->unverified);
  g_free (app->connect_host);
  g_free (app->cert_pem);
  if (app->key_pem != NULL)
    memset (app->key_pem, 0, strlen (app->key_pem));
  g_free (app->key_pem);
  g_free (app->listen_address);
  g_clear_pointer (&app->tls, net_tls_unref);
  g_clear_pointer (&app->first_hop, msrp_uri_unref);
  g_clear_pointer (&app->hop_addresses, g_ptr_array_unref);
  g_ptr_array_unref (app->relays);
  /* A lookup still running must not call back into what is freed. */
  if (app->resolving != NULL)
    g_cancellable_cancel (app->resolving);
  g_clear_object (&app->resolving);
  /* Let aborted connections release their sources. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_main_loop_unref (app->loop);
  mc_session_free (app->session);
}

int
main (int argc, char **argv)
{
  App app_storage = { 0 };
  App *app = &app_storage;
  McConfig *c = &app->config;
  RawOptions raw = { .count = 1 };
  int status;

  /* A peer or a reader that goes away must give an error, not a signal. */
  signal (SIGPIPE, SIG_IGN);
  setlocale (LC_ALL, "");

  status = parse_command_line (app, &raw, &argc, &argv);
  if (status >= 0)
    {
      config_clear (c);
      raw_clear (&raw);
      g_free (app->algorithm);
      return status;
    }

  app->session = mc_session_new (c);
  app->links = g_ptr_array_new_with_free_func ((GDestroyNotify) mc_link_unref);
  app->unverified =
      g_ptr_array_new_with_free_func ((GDestroyNotify) mc_link_unref);
  app->relays =
      g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);
  app->loop = g_main_loop_new (NULL, FALSE);
  touch (app);
  if (start_run (app, &raw))
    {
      app->tick_id = g_timeout_add (TICK_MS, on_tick, app);
      g_unix_signal_add (SIGINT, on_signal, app);
      g_unix_signal_add (SIGTERM, on_signal, app);
      g_main_loop_run (app->loop);
    }
  status = report_run (app);
  app_clear (app);
  config_clear (c);
  raw_clear (&raw);
  g_free (app->algorithm);
  return status;
}
