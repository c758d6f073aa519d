#include "mc-auth.h"

#include <stdio.h>
#include <string.h>

#include "msrp-digest.h"
#include "msrp-status.h"
#include "msrp-writer.h"

/* AUTH requests to one relay before giving up: a challenge, a stale nonce,
 * an Expires out of bounds. */
#define MAX_ATTEMPTS 4

struct _McAuth
{
  McSession *session;
  const McConfig *config;
  McLink *link;
  GPtrArray *relays; /* MsrpUri */
  char *algorithm;   /* nullable */
  McAuthDoneFunc done;
  gpointer user_data;

  guint index; /* the relay being authenticated to */
  guint attempts;
  char *tid;                    /* the AUTH in flight */
  MsrpDigestCredentials *creds; /* sent in it, nullable */
  guint32 expires;              /* asked, 0: none */
  gboolean finished;
};

McAuth *
mc_auth_new (McSession *session, McLink *link, GPtrArray *relays,
             const char *algorithm, McAuthDoneFunc done, gpointer user_data)
{
  McAuth *a = g_new0 (McAuth, 1);

  a->session = session;
  a->config = session->config;
  a->link = mc_link_ref (link);
  a->relays = g_ptr_array_ref (relays);
  a->algorithm = g_strdup (algorithm);
  a->done = done;
  a->user_data = user_data;
  a->expires = session->config->expires;
  return a;
}

void
mc_auth_free (McAuth *a)
{
  if (a == NULL)
    return;
  mc_link_unref (a->link);
  g_ptr_array_unref (a->relays);
  g_free (a->algorithm);
  g_free (a->tid);
  g_clear_pointer (&a->creds, msrp_digest_credentials_free);
  g_free (a);
}

gboolean
mc_auth_is_done (McAuth *a)
{
  return a->finished;
}

static const char *
relay_text (McAuth *a)
{
  return msrp_uri_get_text (a->relays->pdata[a->index]);
}

static void
finish (McAuth *a, gboolean ok)
{
  if (a->finished)
    return;
  a->finished = TRUE;
  g_clear_pointer (&a->tid, g_free);
  a->done (a, ok, a->user_data);
}

static void failed (McAuth *a, int code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static void
failed (McAuth *a, int code, const char *format, ...)
{
  va_list ap;
  g_autofree char *text = NULL;

  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  mc_session_fail (a->session, code, "AUTH to relay %s: %s", relay_text (a),
                   text);
  finish (a, FALSE);
}

/* RFC 4976 section 5.1: To-Path is the path obtained so far, then the relay;
 * From-Path is our own URI. */
static void
send_auth (McAuth *a)
{
  g_autoptr (GPtrArray) to =
      g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);
  g_autoptr (GPtrArray) from = mc_session_get_from_path (a->session);
  g_autoptr (MsrpWriter) w = NULL;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < a->session->use_path->len; i++)
    g_ptr_array_add (to, msrp_uri_ref (a->session->use_path->pdata[i]));
  g_ptr_array_add (to, msrp_uri_ref (a->relays->pdata[a->index]));
  a->attempts++;

  w = msrp_writer_new_request (NULL, "AUTH", &error);
  if (w == NULL || !msrp_writer_set_to_path (w, to, &error) ||
      !msrp_writer_set_from_path (w, from, &error))
    goto fail;
  if (a->creds != NULL)
    {
      g_autofree char *value = msrp_digest_credentials_to_string (a->creds);

      if (!msrp_writer_add_header (w, "Authorization", value, &error))
        goto fail;
    }
  if (a->expires > 0)
    {
      g_autofree char *value = g_strdup_printf ("%u", a->expires);

      if (!msrp_writer_add_header (w, "Expires", value, &error))
        goto fail;
    }
  if (!mc_link_send (a->link, w, NULL, '$', &error))
    goto fail;
  g_free (a->tid);
  a->tid = g_strdup (msrp_writer_get_transaction_id (w));
  return;

fail:
  failed (a, MC_EXIT_CONNECTION, "cannot send: %s", error->message);
}

void
mc_auth_start (McAuth *a)
{
  send_auth (a);
}

/* RFC 7616 section 3.7: the first challenge we can answer, in the order
 * the headers came; with --algorithm, the first of that algorithm; with
 * --ha1, the first whose algorithm the HA1 was made for. */
static MsrpDigestChallenge *
pick_challenge (McAuth *a, MsrpHead *head, GString *why)
{
  const char *ha1 = a->config->ha1;

  for (guint i = 0; i < msrp_head_get_n_headers (head); i++)
    {
      MsrpHeaderId id;
      const char *value;
      g_autoptr (MsrpDigestChallenge) c = NULL;
      g_autoptr (GError) error = NULL;
      MsrpDigestAlgorithm alg;

      msrp_head_get_header (head, i, &id, NULL, &value);
      if (id != MSRP_HEADER_WWW_AUTHENTICATE)
        continue;
      c = msrp_digest_challenge_parse (value, strlen (value), &error);
      if (c == NULL)
        {
          g_string_append_printf (why, "; %s", error->message);
          continue;
        }
      if (!msrp_digest_challenge_is_usable (c))
        {
          g_string_append_printf (
              why,
              "; a challenge with algorithm %s is not "
              "usable",
              msrp_digest_challenge_get_algorithm_name (c) != NULL
                  ? msrp_digest_challenge_get_algorithm_name (c)
                  : "MD5");
          continue;
        }
      alg = msrp_digest_challenge_get_algorithm (c);
      if (a->algorithm != NULL &&
          g_ascii_strcasecmp (a->algorithm,
                              msrp_digest_algorithm_to_string (alg)) != 0)
        continue;
      if (ha1 != NULL && strlen (ha1) != msrp_digest_algorithm_hex_len (alg))
        continue;
      return g_steal_pointer (&c);
    }
  return NULL;
}

static void
handle_challenge (McAuth *a, MsrpHead *head)
{
  const McConfig *c = a->config;
  g_autoptr (GString) why = g_string_new (NULL);
  g_autoptr (MsrpDigestChallenge) ch = NULL;
  g_autoptr (GError) error = NULL;

  ch = pick_challenge (a, head, why);
  if (ch == NULL)
    {
      failed (a, MC_EXIT_PROTOCOL,
              "401 without a Digest challenge this "
              "client can answer%s%s%s",
              a->algorithm != NULL ? " with " : "",
              a->algorithm != NULL ? a->algorithm : "", why->str);
      return;
    }
  /* A second 401 after credentials: wrong, unless only the nonce was
   * stale (RFC 7616 section 3.3: "the client may wish to simply retry the
   * request with a new encrypted response"). */
  if (a->creds != NULL && !msrp_digest_challenge_get_stale (ch))
    {
      failed (a, MC_EXIT_PROTOCOL,
              "401 Unauthorized: the relay refused the "
              "credentials of user '%s' (realm \"%s\")",
              c->user, msrp_digest_challenge_get_realm (ch));
      return;
    }
  if (c->user == NULL || (c->password == NULL && c->ha1 == NULL))
    {
      failed (a, MC_EXIT_PROTOCOL,
              "the relay asks for Digest credentials "
              "(realm \"%s\"): give --user and --password (or --ha1)",
              msrp_digest_challenge_get_realm (ch));
      return;
    }
  if (a->attempts >= MAX_ATTEMPTS)
    {
      failed (a, MC_EXIT_PROTOCOL, "still 401 after %u attempts", a->attempts);
      return;
    }
  g_clear_pointer (&a->creds, msrp_digest_credentials_free);
  /* RFC 4976 section 9.1: digest-uri is the rightmost To-Path URI as
   * written there, which is the relay's URI as given. */
  a->creds = msrp_digest_client_respond (
      ch, c->user, c->ha1 == NULL ? c->password : NULL, c->ha1,
      MSRP_DIGEST_METHOD_AUTH, relay_text (a), 1, &error);
  if (a->creds == NULL)
    {
      failed (a, MC_EXIT_PROTOCOL, "cannot answer the challenge: %s",
              error->message);
      return;
    }
  if (c->verbose)
    fprintf (stderr,
             "msrpcat: answering the %s challenge of realm \"%s\" "
             "as user '%s'\n",
             msrp_digest_algorithm_to_string (
                 msrp_digest_challenge_get_algorithm (ch)),
             msrp_digest_challenge_get_realm (ch), c->user);
  send_auth (a);
}

/* The Use-Path of relay i must start with the path to it; put that in front
 * when the relay returned only its own part. */
static GPtrArray *
full_use_path (McAuth *a, GPtrArray *returned)
{
  GPtrArray *have = a->session->use_path;
  GPtrArray *out =
      g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);
  gboolean prefixed = returned->len > have->len;

  for (guint i = 0; prefixed && i < have->len; i++)
    if (!msrp_uri_equal (returned->pdata[i], have->pdata[i]))
      prefixed = FALSE;
  if (!prefixed)
    for (guint i = 0; i < have->len; i++)
      g_ptr_array_add (out, msrp_uri_ref (have->pdata[i]));
  for (guint i = 0; i < returned->len; i++)
    g_ptr_array_add (out, msrp_uri_ref (returned->pdata[i]));
  return out;
}

static void
handle_ok (McAuth *a, MsrpHead *head)
{
  const McConfig *c = a->config;
  GPtrArray *use_path = msrp_head_get_use_path (head);
  const char *info_value =
      msrp_head_find (head, MSRP_HEADER_AUTHENTICATION_INFO, NULL);
  g_autoptr (GPtrArray) full = NULL;
  g_autofree char *text = NULL;
  guint32 expires = 0;
  gboolean has_expires;

  if (use_path == NULL)
    {
      failed (a, MC_EXIT_PROTOCOL,
              "200 without a Use-Path (RFC 4976 section "
              "5.1)");
      return;
    }
  if (info_value != NULL && a->creds != NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MsrpDigestInfo) info =
          msrp_digest_info_parse (info_value, strlen (info_value), &error);

      /* RFC 4976 section 9.1: rspauth lets the client authenticate the
       * relay in turn. */
      if (info == NULL ||
          !msrp_digest_client_check_info (a->creds, info,
                                          c->ha1 == NULL ? c->password : NULL,
                                          c->ha1, &error))
        {
          failed (a, MC_EXIT_PROTOCOL,
                  "Authentication-Info does not prove "
                  "the relay knows the credentials: %s",
                  error->message);
          return;
        }
    }
  else if (a->creds != NULL && !c->quiet)
    {
      fprintf (stderr,
               "msrpcat: relay %s sent no Authentication-Info: it is "
               "not authenticated in turn\n",
               relay_text (a));
    }
  has_expires = msrp_head_get_expires (head, MSRP_HEADER_EXPIRES, &expires);
  full = full_use_path (a, use_path);
  g_ptr_array_unref (a->session->use_path);
  a->session->use_path = g_steal_pointer (&full);
  if (has_expires)
    {
      a->session->stats.auth_expires = expires;
      a->session->stats.auth_expires_set = TRUE;
    }
  text = msrp_uri_list_to_text (a->session->use_path);
  if (!c->quiet)
    {
      g_autofree char *exp =
          has_expires ? g_strdup_printf (", valid for %u s", expires)
                      : g_strdup ("");

      fprintf (stderr,
               "msrpcat: authenticated to relay %s%s%s; Use-Path: "
               "%s%s\n",
               relay_text (a),
               c->user != NULL && a->creds != NULL ? " as " : "",
               c->user != NULL && a->creds != NULL ? c->user : "", text, exp);
    }
  g_clear_pointer (&a->creds, msrp_digest_credentials_free);
  a->index++;
  a->attempts = 0;
  a->expires = c->expires;
  if (a->index >= a->relays->len)
    {
      finish (a, TRUE);
      return;
    }
  send_auth (a);
}

/* RFC 4976 section 4.6 / 10.3: 423 with Min-Expires or Max-Expires; ask
 * again within the bounds. */
static void
handle_interval (McAuth *a, MsrpHead *head)
{
  guint32 min = 0, max = 0;
  gboolean has_min =
      msrp_head_get_expires (head, MSRP_HEADER_MIN_EXPIRES, &min);
  gboolean has_max =
      msrp_head_get_expires (head, MSRP_HEADER_MAX_EXPIRES, &max);

  if ((!has_min && !has_max) || a->attempts >= MAX_ATTEMPTS)
    {
      failed (a, MC_EXIT_PROTOCOL,
              "423 Interval Out-of-Bounds for Expires %u%s", a->expires,
              has_min || has_max ? "" : " (no bounds given)");
      return;
    }
  if (has_min && a->expires < min)
    a->expires = min;
  if (has_max && a->expires > max)
    a->expires = max;
  if (!a->config->quiet)
    fprintf (stderr,
             "msrpcat: relay %s wants Expires within its bounds; "
             "asking for %u s\n",
             relay_text (a), a->expires);
  g_clear_pointer (&a->creds, msrp_digest_credentials_free);
  send_auth (a);
}

gboolean
mc_auth_handle_response (McAuth *a, MsrpHead *head)
{
  guint code;
  const char *comment;

  if (a->finished || a->tid == NULL ||
      g_strcmp0 (msrp_head_get_transaction_id (head), a->tid) != 0)
    return FALSE;
  g_clear_pointer (&a->tid, g_free);
  code = msrp_head_get_status_code (head);
  comment = msrp_head_get_comment (head);
  switch (code)
    {
    case MSRP_STATUS_OK:
      handle_ok (a, head);
      break;
    case MSRP_STATUS_UNAUTHORIZED:
      handle_challenge (a, head);
      break;
    case MSRP_STATUS_INTERVAL_OUT_OF_BOUNDS:
      handle_interval (a, head);
      break;
    case MSRP_STATUS_FORBIDDEN:
      failed (a, MC_EXIT_PROTOCOL, "403 %s: user '%s' may not use this relay",
              comment != NULL ? comment : "Forbidden",
              a->config->user != NULL ? a->config->user : "(none)");
      break;
    default:
      failed (a, MC_EXIT_PROTOCOL, "%u %s", code,
              comment != NULL ? comment : "");
      break;
    }
  return TRUE;
}
