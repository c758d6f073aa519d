/* gw-relay-auth.c: AUTH (RFC 4976 sections 5.1 and 6.3).
 *
 * Responsible for: answering an AUTH addressed to this relay with Digest
 * (RFC 7616: MD5 and SHA-256, stale nonces, a challenge for the user's
 * other algorithm), a previous relay's mutual TLS, the Expires bounds, the
 * session caps per connection and per user, granting the session
 * (Use-Path), counting failed AUTHs (those we answer and those a directly
 * connected client has us forward), and throttling password guesses per
 * source address and per user across connections (gw-throttle.h).
 *
 * Not here: the session table (gw-relay-session.c), building responses
 * (gw-relay-txn.c).
 */
#include "gw-relay-priv.h"

#include <string.h>

#include "msrp-status.h"

/* A user name longer than this is counted under its SHA-256: a key of the
 * throttle is held for a window, and a name can be as long as a header. */
#define USER_KEY_MAX 128

static const char *const outcome_names[] = {
  [GW_RELAY_AUTH_OK] = "ok",
  [GW_RELAY_AUTH_CHALLENGE] = "challenge",
  [GW_RELAY_AUTH_STALE] = "stale",
  [GW_RELAY_AUTH_FAILED] = "failed",
  [GW_RELAY_AUTH_REPLAY] = "replay",
  [GW_RELAY_AUTH_LOCKED] = "locked",
  [GW_RELAY_AUTH_BAD_EXPIRES] = "bad_expires",
  [GW_RELAY_AUTH_SESSION_LIMIT] = "session_limit",
  [GW_RELAY_AUTH_ERROR] = "error",
  [GW_RELAY_AUTH_THROTTLED] = "throttled",
};

const char *
gw_relay_auth_outcome_to_string (GwRelayAuthOutcome outcome)
{
  g_return_val_if_fail ((guint) outcome < GW_RELAY_N_AUTH_OUTCOMES, "unknown");
  return outcome_names[outcome];
}

/* One outcome per AUTH answered, counted where it is decided. */
static void
count_outcome (Conn *c, GwRelayAuthOutcome outcome)
{
  c->relay->auth[outcome]++;
}

/* auth_failed: never the password. */
static void
auth_failed_log (Conn *c, const char *user, const char *reason)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_MESSAGE, "auth_failed");

  gw_log_event_add_int (ev, "conn", (gint64) c->id);
  gw_log_event_add_str (ev, "peer", gw_relay_conn_peer (c));
  if (user != NULL)
    gw_log_event_add_str (ev, "user", user);
  gw_log_event_add_str (ev, "reason", reason);
  gw_log_event_add_int (ev, "failures", c->auth_failures);
  gw_log_event_emit (ev, "AUTH from %s failed%s%s: %s", gw_relay_conn_peer (c),
                     user != NULL ? " for " : "", user != NULL ? user : "",
                     reason);
}

/* 401 with one Digest challenge per algorithm, SHA-256 first (RFC 7616
 * section 3.7: most preferred first), or only @only when it is not
 * MSRP_DIGEST_ALGORITHM_UNKNOWN. */
static void
send_challenge (Conn *c, MsrpHead *h, gboolean stale, MsrpDigestAlgorithm only)
{
  GwRelay *r = c->relay;
  gint64 now = gw_relay_now (r);
  g_autoptr (GError) error = NULL;
  g_autofree char *sha = NULL;
  g_autofree char *md5 = NULL;

  if (only != MSRP_DIGEST_ALGORITHM_MD5)
    sha = msrp_digest_server_challenge (r->digest, r->realm,
                                        MSRP_DIGEST_ALGORITHM_SHA256, stale,
                                        NULL, now, &error);
  if (only != MSRP_DIGEST_ALGORITHM_SHA256 && error == NULL)
    md5 = msrp_digest_server_challenge (r->digest, r->realm,
                                        MSRP_DIGEST_ALGORITHM_MD5, stale, NULL,
                                        now, &error);
  if (error != NULL)
    {
      auth_failed_log (c, NULL, error->message);
      gw_relay_txn_respond (c, h, 500, "cannot make a Digest challenge", NULL);
      return;
    }
  gw_relay_txn_respond (c, h, MSRP_STATUS_UNAUTHORIZED, NULL,
                        "WWW-Authenticate", sha != NULL ? sha : md5,
                        "WWW-Authenticate", sha != NULL ? md5 : NULL, NULL);
}

/* One session per successful AUTH, within the caps: more would let one
 * password (or one connection) hold the relay's memory.  TRUE when a cap
 * is reached: then a 403 went back (section 6.3: "If the client is not
 * authorized, the relay returns a 403") and session_limit is logged. */
static gboolean
session_cap_reached (Conn *c, MsrpHead *h, SessionKind kind, const char *user)
{
  GwRelay *r = c->relay;
  g_autoptr (GwLogEvent) ev = NULL;
  g_autofree char *comment = NULL;
  const char *limit = NULL;

  if (kind == SESSION_CLIENT &&
      gw_relay_session_n_client (c) >= r->max_sessions_per_conn)
    limit = "max-sessions-per-connection";
  else if (GPOINTER_TO_UINT (g_hash_table_lookup (r->user_sessions, user)) >=
           r->max_sessions_per_user)
    limit = "max-sessions-per-user";
  if (limit == NULL)
    return FALSE;
  count_outcome (c, GW_RELAY_AUTH_SESSION_LIMIT);
  ev = gw_log_event_new (G_LOG_LEVEL_MESSAGE, "session_limit");
  gw_log_event_add_int (ev, "conn", (gint64) c->id);
  gw_log_event_add_str (ev, "peer", gw_relay_conn_peer (c));
  gw_log_event_add_str (ev, "user", user);
  gw_log_event_add_str (ev, "limit", limit);
  gw_log_event_emit (ev, "%s authenticated, but has too many sessions (%s)",
                     user, limit);
  comment = g_strdup_printf ("too many sessions (%s)", limit);
  gw_relay_txn_respond (c, h, MSRP_STATUS_FORBIDDEN, comment, NULL);
  return TRUE;
}

/* The Use-Path of a session @s granted to the AUTH @h: the relays between
 * the client and us, nearest the client first, then ours (RFC 4976 section
 * 5.1: "B C" for client A behind B and C). */
static char *
use_path (MsrpHead *h, Session *s)
{
  GPtrArray *from = msrp_head_get_from_path (h);
  GString *path = g_string_new (NULL);

  for (guint i = from->len - 1; i > 0; i--)
    {
      g_string_append (path, msrp_uri_get_text (from->pdata[i - 1]));
      g_string_append_c (path, ' ');
    }
  g_string_append (path, msrp_uri_get_text (s->uri));
  return g_string_free (path, FALSE);
}

/* Grant a session to the AUTH @h on @c: 200 with Use-Path, Expires and
 * (Digest) Authentication-Info (RFC 4976 sections 5.1 and 6.3). */
static void
grant (Conn *c, MsrpHead *h, SessionKind kind, const char *user,
       const char *relay_host, guint expires, const char *auth_info)
{
  GwRelay *r = c->relay;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *expires_text = g_strdup_printf ("%u", expires);
  g_autoptr (GwLogEvent) ev = NULL;
  MsrpScheme scheme = c->scheme;
  guint16 port = c->local_port;
  Session *s;

  if (session_cap_reached (c, h, kind, user))
    return;
  if (!c->inbound)
    {
      /* An AUTH on a connection we opened: name our first listener. */
      Listener *l = r->listeners->len > 0 ? r->listeners->pdata[0] : NULL;

      scheme = l != NULL ? l->scheme : MSRP_SCHEME_MSRP;
      port = l != NULL ? l->port : MSRP_DEFAULT_PORT;
    }
  s = gw_relay_session_new (r, kind, scheme, port, expires, &error);
  if (s == NULL)
    {
      count_outcome (c, GW_RELAY_AUTH_ERROR);
      gw_relay_txn_respond (c, h, 500, "cannot make a session", NULL);
      return;
    }
  s->user = g_strdup (user);
  gw_relay_session_count_user (r, user, 1);
  s->relay_host = g_strdup (relay_host);
  if (kind == SESSION_CLIENT)
    gw_relay_session_bind (s, c);
  path = use_path (h, s);
  gw_relay_txn_respond (c, h, MSRP_STATUS_OK, NULL, "Use-Path", path,
                        "Authentication-Info", auth_info, "Expires",
                        expires_text, NULL);
  gw_relay_conn_note_success (c);
  c->auth_failures = 0;
  count_outcome (c, GW_RELAY_AUTH_OK);

  ev = gw_log_event_new (G_LOG_LEVEL_INFO, "auth_ok");
  gw_log_event_add_int (ev, "conn", (gint64) c->id);
  gw_log_event_add_str (ev, "user", user);
  gw_log_event_add_str (ev, "session", s->id);
  gw_log_event_add_int (ev, "expires", expires);
  gw_log_event_add_str (ev, "method",
                        kind == SESSION_RELAY ? "tls" : "digest");
  gw_log_event_emit (ev, "%s authenticated, session %s for %u s", user, s->id,
                     expires);
  gw_relay_session_log (s, "session_created", NULL);
}

/* The host of the relay the AUTH @h on @c comes through, when that relay
 * authenticated with mutual TLS, else NULL.  Section 6.3: "the first thing
 * it does is to authenticate and authorize the previous hop and the client
 * at the far end".  A previous hop that is a relay authenticates with a
 * certificate that verified and matches the host of the first From-Path
 * URI; the client behind it still answers our Digest challenge, which
 * travels back through that relay (section 5.1, the AUTH to
 * extra.example.com).  Its session is then a relay session, valid on any
 * connection to that relay. */
static const char *
auth_relay_host (Conn *c, MsrpHead *h)
{
  GPtrArray *from = msrp_head_get_from_path (h);

  if (from->len >= 2 && c->gw != NULL &&
      net_conn_get_peer_subject (c->gw) != NULL &&
      net_conn_peer_certificate_matches (c->gw,
                                         msrp_uri_get_host (from->pdata[0])))
    return msrp_uri_get_host (from->pdata[0]);
  return NULL;
}

/* A Digest failure: 401 again, and close the connection after
 * GW_RELAY_MAX_AUTH_FAILURES (RFC 4976 section 6.3: "If a relay receives
 * several unsuccessful AUTH requests from a client ... the relay SHOULD
 * terminate the corresponding connection"). */
static void
auth_failure (Conn *c, MsrpHead *h, const char *user, const char *reason,
              guint code)
{
  /* Counted only where the previous hop is the client itself: "a relay
   * SHOULD NOT use excessive AUTH request failures as a reason to terminate
   * a connection with another relay".  A relay is one whose certificate
   * proves it, not one a longer From-Path claims. */
  gboolean from_client = auth_relay_host (c, h) == NULL;

  if (from_client)
    c->auth_failures++;
  auth_failed_log (c, user, reason);
  if (code == MSRP_STATUS_UNAUTHORIZED)
    send_challenge (c, h, FALSE, MSRP_DIGEST_ALGORITHM_UNKNOWN);
  else
    gw_relay_txn_respond (c, h, code, NULL, NULL);
  if (from_client && c->auth_failures >= GW_RELAY_MAX_AUTH_FAILURES &&
      !c->succeeded)
    {
      g_autofree char *detail =
          g_strdup_printf ("%u failed AUTH requests", c->auth_failures);

      gw_relay_conn_drop (c, "auth_failed", detail, TRUE);
      return;
    }
  gw_relay_conn_note_failure (c);
}

/* The Expires to grant to the authenticated AUTH @h: the one asked for
 * within [expires-min, expires-max], expires-default without one.  FALSE
 * after a 423 with Min-Expires or Max-Expires (RFC 4976 sections 4.6 and
 * 6.3: "return an error containing a Min-Expires or Max-Expires header, as
 * appropriate"). */
static gboolean
auth_expires (Conn *c, MsrpHead *h, guint *expires)
{
  GwRelay *r = c->relay;
  guint32 asked = 0;
  g_autofree char *bound = NULL;
  gboolean low;

  if (!msrp_head_get_expires (h, MSRP_HEADER_EXPIRES, &asked))
    {
      *expires = r->expires_default;
      return TRUE;
    }
  if (asked >= r->expires_min && asked <= r->expires_max)
    {
      *expires = asked;
      return TRUE;
    }
  count_outcome (c, GW_RELAY_AUTH_BAD_EXPIRES);
  low = asked < r->expires_min;
  bound = g_strdup_printf ("%u", low ? r->expires_min : r->expires_max);
  gw_relay_txn_respond (c, h, MSRP_STATUS_INTERVAL_OUT_OF_BOUNDS, NULL,
                        low ? "Min-Expires" : "Max-Expires", bound, NULL);
  gw_relay_conn_note_failure (c);
  return FALSE;
}

/* --- throttling password guesses ------------------------------------
 *
 * Failed AUTHs are counted per source address and per user
 * (gw-throttle.h): once either is in back-off, an AUTH with credentials
 * from that address, or for that user from an address she has not got in
 * from before, is refused without its password being checked, so a
 * guesser gets at most one guess judged per back-off however fast it
 * reconnects, and the right password tells it nothing then.  The refusal
 * is 403 (RFC 4976 section 6.3: "If the client is not authorized, the
 * relay returns a 403 response"), not 401, which would ask for credentials
 * again, nor a delayed answer, which would hold the relay's memory for the
 * guesser; and the connection of a client that has not succeeded on it is
 * closed, as section 6.3 has a relay do after "several unsuccessful AUTH
 * requests from a client".  A success counts for its (address, user) pair
 * only: it does not clear the address's failures (guesses for other users
 * from a shared address go on counting), it makes the address trusted by
 * the user. */

/* The source address an AUTH on @c is counted against: the peer's IP
 * address, an IPv6 one by its /64 (what one subscriber gets: rotating
 * through it changes nothing).  NULL when the previous hop is a relay that
 * proved itself with mutual TLS (@relay_host: its address is all its
 * clients'; section 6.3: failures are no reason to act against another
 * relay), or when @c is not inbound. */
static char *
throttle_address (Conn *c, const char *relay_host)
{
  g_autoptr (GInetAddress) a = NULL;
  guint8 bytes[16];

  if (relay_host != NULL || !c->inbound || c->peer_ip == NULL)
    return NULL;
  a = g_inet_address_new_from_string (c->peer_ip);
  if (a == NULL || g_inet_address_get_family (a) != G_SOCKET_FAMILY_IPV6 ||
      g_inet_address_get_is_loopback (a))
    return g_strdup (c->peer_ip);
  memcpy (bytes, g_inet_address_to_bytes (a), sizeof bytes);
  /* An IPv4 client of a dual-stack listener (::ffff:a.b.c.d) is its own. */
  if (memcmp (bytes, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
    return g_strdup (c->peer_ip);
  memset (bytes + 8, 0, 8);
  {
    g_autoptr (GInetAddress) prefix =
        g_inet_address_new_from_bytes (bytes, G_SOCKET_FAMILY_IPV6);
    g_autofree char *text = g_inet_address_to_string (prefix);

    return g_strconcat (text, "/64", NULL);
  }
}

/* The key of @user in the per-user throttle. */
static char *
throttle_user_key (const char *user)
{
  g_autofree char *sum = NULL;

  if (strlen (user) <= USER_KEY_MAX)
    return g_strdup (user);
  sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, user, -1);
  return g_strconcat ("sha256:", sum, NULL);
}

/* Is the AUTH @h on @c refused unjudged because @key is in back-off in
 * @t, unless @key trusts @address?  Then it was answered 403 and, from a
 * client directly connected that has not succeeded on @c, the connection
 * is closed.  @scope names the count for the comment. */
static gboolean
throttled (Conn *c, MsrpHead *h, GwThrottle *t, const char *key,
           const char *address, const char *scope)
{
  gint64 now = gw_relay_now (c->relay);
  gint64 wait = gw_throttle_wait (t, key, now);
  g_autofree char *comment = NULL;

  if (wait == 0 || (t == c->relay->throttle_user && address != NULL &&
                    gw_throttle_is_trusted (t, key, address, now)))
    return FALSE;
  /* Counted, and told with the next failure judged (auth_throttled): a
   * line per refusal would let the guesser write the log. */
  gw_throttle_refuse (t, key);
  count_outcome (c, GW_RELAY_AUTH_THROTTLED);
  comment =
      g_strdup_printf ("too many failed AUTH requests for this %s; try again "
                       "in %" G_GINT64_FORMAT " s",
                       scope, (wait + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
  gw_relay_txn_respond (c, h, MSRP_STATUS_FORBIDDEN, comment, NULL);
  if (address != NULL && !c->succeeded)
    gw_relay_conn_drop (c, "auth_throttled", comment, TRUE);
  return TRUE;
}

/* A judged failure of @key in @t (@scope: "address" or "user"); when it
 * leaves @key in back-off, auth_throttled says so, with the attempts
 * refused unjudged since the last line. */
static void
throttle_count (Conn *c, GwThrottle *t, const char *key, const char *scope)
{
  g_autoptr (GwLogEvent) ev = NULL;
  guint failures = 0, refused = 0;
  gint64 backoff =
      gw_throttle_fail (t, key, gw_relay_now (c->relay), &failures, &refused);

  if (backoff == 0)
    return;
  ev = gw_log_event_new (G_LOG_LEVEL_WARNING, "auth_throttled");
  gw_log_event_add_int (ev, "conn", (gint64) c->id);
  gw_log_event_add_str (ev, "peer", gw_relay_conn_peer (c));
  gw_log_event_add_str (ev, "scope", scope);
  gw_log_event_add_str (ev, scope, key);
  gw_log_event_add_int (ev, "failures", failures);
  gw_log_event_add_int (ev, "refused", refused);
  gw_log_event_add_int (ev, "backoff_ms", backoff / 1000);
  gw_log_event_emit (ev,
                     "%u failed AUTHs for %s %s: the next is judged in "
                     "%" G_GINT64_FORMAT " ms (%u refused unjudged since "
                     "the last line)",
                     failures, scope, key, backoff / 1000, refused);
}

/* A guess that failed: counted for @address and @user_key (each
 * nullable). */
static void
throttle_failure (Conn *c, const char *address, const char *user_key)
{
  if (address != NULL)
    throttle_count (c, c->relay->throttle_addr, address, "address");
  if (user_key != NULL)
    throttle_count (c, c->relay->throttle_user, user_key, "user");
}

/* The credentials @creds of the AUTH @h did not verify (@result): a new
 * challenge for the other algorithm, or a failure, counted against
 * @address and @user_key (nullable) for the throttle. */
static void
auth_not_verified (Conn *c, MsrpHead *h, MsrpDigestCredentials *creds,
                   const char *ha1, MsrpDigestResult result,
                   const char *address, const char *user_key)
{
  GwRelay *r = c->relay;
  const char *user = msrp_digest_credentials_get_username (creds);
  MsrpDigestAlgorithm used = msrp_digest_credentials_get_algorithm (creds);
  MsrpDigestAlgorithm other = used == MSRP_DIGEST_ALGORITHM_MD5
                                  ? MSRP_DIGEST_ALGORITHM_SHA256
                                  : MSRP_DIGEST_ALGORITHM_MD5;
  g_autofree char *reason = NULL;

  /* A user provisioned for the other algorithm only (an htdigest file has
   * MD5 lines only, and clients take the first challenge they can,
   * SHA-256): challenge again with that one alone.  No password was
   * checked, so it is not a failure, and stale=true says so to the client
   * ("retry ... without reprompting the user", RFC 7616 section 3.3) and to
   * relays before us, which count a 401 without it as a failure (RFC 4976
   * section 6.3). */
  if (ha1 == NULL && r->users != NULL &&
      used != MSRP_DIGEST_ALGORITHM_UNKNOWN &&
      gw_users_lookup (r->users, user, r->realm, other, NULL) != NULL)
    {
      count_outcome (c, GW_RELAY_AUTH_STALE);
      send_challenge (c, h, TRUE, other);
      return;
    }
  reason = g_strdup_printf (
      "%s%s", msrp_digest_result_to_string (result),
      ha1 == NULL ? " (no such user for this realm and algorithm)" : "");
  count_outcome (c, result == MSRP_DIGEST_RESULT_REPLAY
                        ? GW_RELAY_AUTH_REPLAY
                        : GW_RELAY_AUTH_FAILED);
  throttle_failure (c, address, user_key);
  auth_failure (c, h, user, reason, MSRP_STATUS_UNAUTHORIZED);
}

/* The right password: a session, unless the user is locked or the
 * Expires is out of range. */
static void
auth_verified (Conn *c, MsrpHead *h, MsrpDigestCredentials *creds,
               const char *ha1, gboolean locked, const char *digest_uri,
               const char *relay_host)
{
  GwRelay *r = c->relay;
  const char *user = msrp_digest_credentials_get_username (creds);
  g_autofree char *auth_info = NULL;
  guint expires = 0;

  if (locked)
    {
      /* Authenticated, but not allowed to use the relay (section 6.3: "If
       * the client is not authorized, the relay returns a 403"). */
      count_outcome (c, GW_RELAY_AUTH_LOCKED);
      auth_failure (c, h, user, "user is locked in the users file",
                    MSRP_STATUS_FORBIDDEN);
      return;
    }
  if (!auth_expires (c, h, &expires))
    return;
  auth_info = msrp_digest_server_authentication_info (
      r->digest, creds, digest_uri, ha1, TRUE, gw_relay_now (r), NULL);
  grant (c, h, relay_host != NULL ? SESSION_RELAY : SESSION_CLIENT, user,
         relay_host, expires, auth_info);
}

/* An AUTH addressed to this relay (RFC 4976 section 6.3). */
void
gw_relay_auth_handle (Conn *c)
{
  GwRelay *r = c->relay;
  MsrpHead *h = c->rx.head;
  GPtrArray *to = msrp_head_get_to_path (h);
  const char *digest_uri = msrp_uri_get_text (to->pdata[to->len - 1]);
  const char *relay_host = auth_relay_host (c, h);
  const char *value = msrp_head_find (h, MSRP_HEADER_AUTHORIZATION, NULL);
  g_autoptr (MsrpDigestCredentials) creds = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *address = NULL;
  g_autofree char *user_key = NULL;
  const char *user, *ha1 = NULL;
  gboolean locked = FALSE;
  MsrpDigestResult result;

  if (value == NULL)
    {
      /* Section 5.1: "In response to an AUTH request that does not contain an
       * Authorization header, a relay MUST respond with a 401".  The first
       * step of every AUTH, not a failure; a connection that never gets
       * further meets the probation deadline. */
      count_outcome (c, GW_RELAY_AUTH_CHALLENGE);
      send_challenge (c, h, FALSE, MSRP_DIGEST_ALGORITHM_UNKNOWN);
      return;
    }
  /* A guess from an address in back-off is not even read. */
  address = throttle_address (c, relay_host);
  if (address != NULL &&
      throttled (c, h, r->throttle_addr, address, address, "address"))
    return;
  creds = msrp_digest_credentials_parse (value, strlen (value), &error);
  if (creds == NULL)
    {
      count_outcome (c, GW_RELAY_AUTH_FAILED);
      throttle_failure (c, address, NULL);
      auth_failure (c, h, NULL, error->message, MSRP_STATUS_UNAUTHORIZED);
      return;
    }
  user = msrp_digest_credentials_get_username (creds);
  user_key = throttle_user_key (user);
  if (throttled (c, h, r->throttle_user, user_key, address, "user"))
    return;
  if (r->users != NULL)
    ha1 = gw_users_lookup (r->users, user, r->realm,
                           msrp_digest_credentials_get_algorithm (creds),
                           &locked);
  result =
      msrp_digest_server_verify (r->digest, creds, MSRP_DIGEST_METHOD_AUTH,
                                 digest_uri, r->realm, ha1, gw_relay_now (r));
  if (result == MSRP_DIGEST_RESULT_STALE_NONCE)
    {
      /* Right password, old nonce: a new challenge, not a failure. */
      count_outcome (c, GW_RELAY_AUTH_STALE);
      send_challenge (c, h, TRUE, MSRP_DIGEST_ALGORITHM_UNKNOWN);
      return;
    }
  if (result != MSRP_DIGEST_RESULT_OK)
    {
      auth_not_verified (c, h, creds, ha1, result, address, user_key);
      return;
    }
  /* The right password: this address may go on trying for this user while
   * others guess it; its count for other users stays. */
  if (address != NULL)
    gw_throttle_trust (r->throttle_user, user_key, address, gw_relay_now (r));
  auth_verified (c, h, creds, ha1, locked, digest_uri, relay_host);
}

/* Does the 401 @h carry a challenge with stale=true (RFC 7616 section
 * 3.3: not a failure)? */
static gboolean
challenge_is_stale (MsrpHead *h)
{
  guint n = msrp_head_get_n_headers (h);

  for (guint i = 0; i < n; i++)
    {
      MsrpHeaderId id;
      const char *value;
      g_autoptr (MsrpDigestChallenge) ch = NULL;

      msrp_head_get_header (h, i, &id, NULL, &value);
      if (id != MSRP_HEADER_WWW_AUTHENTICATE)
        continue;
      ch = msrp_digest_challenge_parse (value, strlen (value), NULL);
      if (ch != NULL && msrp_digest_challenge_get_stale (ch))
        return TRUE;
    }
  return FALSE;
}

/* Count the answer @h to the AUTH of @t, which we forwarded.  Section 6.3:
 * "if a relay forwards several failed AUTH requests to the same
 * destination that originate from a client that is directly connected to
 * it ... the relay SHOULD terminate the corresponding connection", a
 * failure being a 401 without stale=TRUE to an AUTH with an Authorization
 * header; never toward another relay.  Returns: (transfer full)
 * (nullable): the client's connection, to close
 * (gw_relay_auth_forwards_failed()). */
Conn *
gw_relay_auth_forward_answered (Txn *t, MsrpHead *h)
{
  Conn *in = t->in;
  guint code = msrp_head_get_status_code (h);

  if (!t->auth_with_credentials || t->from_path->len != 1 || in->detached ||
      in->gw == NULL || net_conn_get_peer_subject (in->gw) != NULL)
    return NULL;
  if (msrp_status_is_success (code))
    {
      in->auth_failures = 0;
      return NULL;
    }
  if (code == MSRP_STATUS_UNAUTHORIZED && !challenge_is_stale (h) &&
      ++in->auth_failures >= GW_RELAY_MAX_AUTH_FAILURES)
    return gw_relay_conn_ref (in);
  return NULL;
}

/* Close @client (transfer full), which sent too many failed AUTHs to the
 * next hop @via. */
void
gw_relay_auth_forwards_failed (Conn *client, Conn *via)
{
  g_autofree char *detail =
      g_strdup_printf ("%u failed AUTH requests forwarded to %s",
                       client->auth_failures, gw_relay_conn_peer (via));

  auth_failed_log (client, NULL, "failed AUTH requests forwarded");
  gw_relay_conn_drop (client, "auth_failed", detail, TRUE);
  gw_relay_conn_unref (client);
}
