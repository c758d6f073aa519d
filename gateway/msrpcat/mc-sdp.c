/* mc-sdp.c: msrpcat's SDP: what it writes, what it reads, and the roles. */
#include "mc-sdp.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

GQuark
mc_sdp_error_quark (void)
{
  return g_quark_from_static_string ("mc-sdp-error-quark");
}

gboolean
mc_sdp_parse_setup_option (const char *text, MsrpSdpSetup *out, GError **error)
{
  static const struct
  {
    const char *name;
    MsrpSdpSetup setup;
  } names[] = {
    { "actpass", MSRP_SDP_SETUP_ACTPASS },
    { "active", MSRP_SDP_SETUP_ACTIVE },
    { "passive", MSRP_SDP_SETUP_PASSIVE },
    { "none", MSRP_SDP_SETUP_ABSENT },
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (text, names[i].name) == 0)
      {
        *out = names[i].setup;
        return TRUE;
      }
  g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_INVALID,
               "--setup: '%s' is not actpass, active, passive or none", text);
  return FALSE;
}

const char *
mc_sdp_setup_name (MsrpSdpSetup setup)
{
  return setup == MSRP_SDP_SETUP_ABSENT ? "none"
                                        : msrp_sdp_setup_to_string (setup);
}

/* RFC 6135 section 4.2.1: holdconn is treated as no a=setup. */
static MsrpSdpSetup
received (MsrpSdpSetup setup)
{
  return setup == MSRP_SDP_SETUP_HOLDCONN ? MSRP_SDP_SETUP_ABSENT : setup;
}

static const char *
written (MsrpSdpSetup setup)
{
  return setup == MSRP_SDP_SETUP_ABSENT ? "no a=setup"
                                        : msrp_sdp_setup_to_string (setup);
}

gboolean
mc_sdp_offerer_role (MsrpSdpSetup offered, MsrpSdpSetup answered,
                     gboolean *active, GError **error)
{
  /* RFC 4145 section 4: "The default value of the setup attribute in an
   * offer/answer exchange is 'active' in the offer and 'passive' in the
   * answer." */
  MsrpSdpSetup ours = received (offered);
  MsrpSdpSetup theirs = received (answered);
  gboolean we_may_listen =
      ours == MSRP_SDP_SETUP_ACTPASS || ours == MSRP_SDP_SETUP_PASSIVE;
  gboolean we_may_connect = ours != MSRP_SDP_SETUP_PASSIVE;

  switch (theirs)
    {
    case MSRP_SDP_SETUP_ACTPASS:
      g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_CONFLICT,
                   "the answer says a=setup:actpass, which only an offer may "
                   "say (RFC 4145 section 4)");
      return FALSE;
    case MSRP_SDP_SETUP_ACTIVE:
      if (!we_may_listen)
        {
          g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_CONFLICT,
                       "the answer says a=setup:active, but the offer (%s%s) "
                       "is active too: nobody would accept the connection",
                       written (offered),
                       ours == MSRP_SDP_SETUP_ABSENT ? ", active by default"
                                                     : "");
          return FALSE;
        }
      *active = FALSE;
      return TRUE;
    case MSRP_SDP_SETUP_PASSIVE:
    case MSRP_SDP_SETUP_ABSENT:
    case MSRP_SDP_SETUP_HOLDCONN:
    default:
      if (!we_may_connect)
        {
          g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_CONFLICT,
                       "the answer (%s%s) is passive, but the offer said "
                       "a=setup:passive too: nobody would connect",
                       written (answered),
                       theirs == MSRP_SDP_SETUP_ABSENT ? ", passive by default"
                                                       : "");
          return FALSE;
        }
      *active = TRUE;
      return TRUE;
    }
}

gboolean
mc_sdp_answerer_role (MsrpSdpSetup offered, MsrpSdpSetup wanted,
                      gboolean wanted_set, MsrpSdpSetup *answer,
                      gboolean *active, GError **error)
{
  MsrpSdpSetup theirs = received (offered);
  MsrpSdpSetup ours;

  if (wanted_set && wanted == MSRP_SDP_SETUP_ACTPASS)
    {
      g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_CONFLICT,
                   "--setup actpass is for an offer: an answer is active or "
                   "passive (RFC 4145 section 4)");
      return FALSE;
    }
  switch (theirs)
    {
    case MSRP_SDP_SETUP_ACTPASS:
      /* RFC 6135 section 4.2.2: the answerer "MAY include ... active ... but
       * SHOULD include ... passive" when it is reachable. */
      ours = wanted_set ? wanted : MSRP_SDP_SETUP_PASSIVE;
      break;
    case MSRP_SDP_SETUP_PASSIVE:
      if (wanted_set && wanted != MSRP_SDP_SETUP_ACTIVE)
        {
          g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_CONFLICT,
                       "the offer says a=setup:passive, so the answer must be "
                       "active; --setup %s would make it passive%s",
                       mc_sdp_setup_name (wanted),
                       wanted == MSRP_SDP_SETUP_ABSENT
                           ? " (the default of an answer, RFC 4145 section 4)"
                           : "");
          return FALSE;
        }
      ours = MSRP_SDP_SETUP_ACTIVE;
      break;
    case MSRP_SDP_SETUP_ACTIVE:
    case MSRP_SDP_SETUP_ABSENT:
    case MSRP_SDP_SETUP_HOLDCONN:
    default:
      if (wanted_set && wanted == MSRP_SDP_SETUP_ACTIVE)
        {
          g_set_error (
              error, MC_SDP_ERROR, MC_SDP_ERROR_CONFLICT,
              "the offer (%s%s) is active, so the answer must be "
              "passive, not --setup active",
              written (offered),
              theirs == MSRP_SDP_SETUP_ABSENT
                  ? ", active by default: RFC 4145 section 4, RFC 4975"
                  : "");
          return FALSE;
        }
      ours = wanted_set ? wanted : MSRP_SDP_SETUP_PASSIVE;
      break;
    }
  *answer = ours;
  *active = ours == MSRP_SDP_SETUP_ACTIVE;
  return TRUE;
}

/* --- our SDP ----------------------------------------------------------- */

/* The media section's attributes after m= and c= (RFC 4975 section 8,
 * RFC 6714 section 5, RFC 8122 section 5, RFC 4145 section 4). */
static void
append_attributes (GString *text, const McSdpLocal *l)
{
  g_string_append (text, "a=accept-types:");
  if (l->accept_types == NULL || l->accept_types[0] == NULL)
    {
      g_string_append_c (text, '*');
    }
  else
    {
      for (guint i = 0; l->accept_types[i] != NULL; i++)
        {
          if (i > 0)
            g_string_append_c (text, ' ');
          g_string_append (text, l->accept_types[i]);
        }
    }
  g_string_append (text, "\r\n");
  if (l->max_size > 0)
    g_string_append_printf (text, "a=max-size:%" G_GUINT64_FORMAT "\r\n",
                            l->max_size);
  g_string_append_printf (text, "a=path:%s\r\n", l->path);
  if (l->cema)
    g_string_append (text, "a=msrp-cema\r\n");
  if (l->fingerprint != NULL)
    g_string_append_printf (text, "a=fingerprint:%s %s\r\n",
                            l->fingerprint_hash, l->fingerprint);
  if (l->setup != MSRP_SDP_SETUP_ABSENT)
    g_string_append_printf (text, "a=setup:%s\r\n",
                            msrp_sdp_setup_to_string (l->setup));
}

char *
mc_sdp_build (const McSdpLocal *l, GError **error)
{
  const char *ip = strchr (l->address, ':') != NULL ? "IP6" : "IP4";
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (MsrpSdp) sdp = NULL;
  g_autoptr (GError) local = NULL;
  MsrpSdpStream *stream;

  g_return_val_if_fail (l->address != NULL && l->path != NULL, NULL);

  /* RFC 8866 section 5: v, o, s, t at the session level; the media
   * section: m, c, then the attributes (RFC 4975 section 8). */
  g_string_append_printf (text,
                          "v=0\r\no=- %" G_GUINT64_FORMAT " 1 IN %s "
                          "%s\r\ns=msrpcat\r\nt=0 0\r\n",
                          l->session_id, ip, l->address);
  g_string_append_printf (
      text, "m=message %u %s *\r\nc=IN %s %s\r\n", (guint) l->port,
      l->tls ? "TCP/TLS/MSRP" : "TCP/MSRP", ip, l->address);
  append_attributes (text, l);

  /* Parsing it back checks every value against its grammar. */
  sdp = msrp_sdp_parse (text->str, text->len, &local);
  if (sdp == NULL || msrp_sdp_get_n_streams (sdp) != 1)
    {
      g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_INVALID,
                   "cannot write our SDP: %s",
                   local != NULL ? local->message : "no MSRP stream");
      return NULL;
    }
  stream = msrp_sdp_get_stream (sdp, 0);
  if (l->ice_ufrag != NULL)
    {
      /* RFC 8839 section 5.4 (credentials), 5.1 (candidates), RFC 8840
       * section 8.2: all candidates are here, none will trickle. */
      if (!msrp_sdp_stream_set_ice_credentials (stream, l->ice_ufrag,
                                                l->ice_pwd, &local))
        {
          g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_INVALID,
                       "cannot write our ICE credentials: %s", local->message);
          return NULL;
        }
      for (guint i = 0; l->candidates != NULL && i < l->candidates->len; i++)
        if (!msrp_sdp_stream_add_candidate (stream, l->candidates->pdata[i],
                                            &local))
          {
            g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_INVALID,
                         "cannot write our candidate %u: %s", i + 1,
                         local->message);
            return NULL;
          }
      if (!msrp_sdp_stream_set_end_of_candidates (stream, TRUE, &local))
        {
          g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_INVALID,
                       "cannot write a=end-of-candidates: %s", local->message);
          return NULL;
        }
    }
  return msrp_sdp_to_string (sdp, NULL);
}

static gboolean
is_host (const MsrpSdpCandidate *c)
{
  return g_ascii_strcasecmp (c->type, "host") == 0;
}

const MsrpSdpCandidate *
mc_sdp_default_candidate (GPtrArray *candidates)
{
  const MsrpSdpCandidate *best = NULL;

  for (guint i = 0; candidates != NULL && i < candidates->len; i++)
    {
      const MsrpSdpCandidate *c = candidates->pdata[i];

      if (best == NULL || c->priority > best->priority ||
          (c->priority == best->priority && is_host (c) && !is_host (best)))
        best = c;
    }
  return best;
}

/* --- the peer's SDP ---------------------------------------------------- */

void
mc_sdp_peer_free (McSdpPeer *p)
{
  if (p == NULL)
    return;
  g_clear_pointer (&p->path, g_ptr_array_unref);
  g_clear_pointer (&p->candidates, g_ptr_array_unref);
  g_clear_pointer (&p->fingerprints, g_ptr_array_unref);
  g_free (p->address);
  g_free (p->ice_ufrag);
  g_free (p->ice_pwd);
  g_free (p);
}

gboolean
mc_sdp_peer_has_ice (const McSdpPeer *p)
{
  return p->ice_ufrag != NULL && p->ice_pwd != NULL && p->candidates->len > 0;
}

static void
fingerprint_free (gpointer data)
{
  McSdpFingerprint *fp = data;

  g_free (fp->hash_func);
  g_free (fp->fingerprint);
  g_free (fp);
}

/* Two hosts of c= and a URI: addresses as addresses, names as text. */
static gboolean
same_host (const char *a, const char *b)
{
  g_autoptr (GInetAddress) ia = g_inet_address_new_from_string (a);
  g_autoptr (GInetAddress) ib = g_inet_address_new_from_string (b);

  if (ia != NULL && ib != NULL)
    return g_inet_address_equal (ia, ib);
  return ia == NULL && ib == NULL && g_ascii_strcasecmp (a, b) == 0;
}

gboolean
mc_sdp_peer_cm_matches_path (const McSdpPeer *p)
{
  for (guint i = 0; i < p->path->len; i++)
    {
      MsrpUri *u = p->path->pdata[i];
      g_autofree char *host = g_strdup (msrp_uri_get_host (u));

      /* msrp_uri_get_host () writes IPv6 in brackets. */
      if (host[0] == '[')
        {
          memmove (host, host + 1, strlen (host));
          host[strlen (host) - 1] = '\0';
        }
      if (msrp_uri_get_effective_port (u) == p->port &&
          same_host (host, p->address))
        return TRUE;
    }
  return FALSE;
}

gboolean
mc_sdp_peer_fingerprint_matches (const McSdpPeer *p,
                                 char *(*fingerprint_of) (const char *,
                                                          gpointer),
                                 gpointer user_data, char **checked)
{
  gboolean match = FALSE;

  if (checked != NULL)
    *checked = NULL;
  for (guint i = 0; i < p->fingerprints->len && !match; i++)
    {
      const McSdpFingerprint *fp = p->fingerprints->pdata[i];
      g_autofree char *ours = fingerprint_of (fp->hash_func, user_data);

      if (ours == NULL)
        continue;
      if (checked != NULL && *checked == NULL)
        *checked = g_strdup_printf ("%s %s", fp->hash_func, ours);
      match = g_ascii_strcasecmp (ours, fp->fingerprint) == 0;
    }
  return match;
}

/* What msrpcat needs of the peer's MSRP @stream: a port, an a=path, ICE
 * credentials in pairs. */
static gboolean
check_peer_stream (MsrpSdpStream *stream, const char *origin, GError **error)
{
  GPtrArray *path = msrp_sdp_stream_get_path (stream);

  if (msrp_sdp_stream_get_port (stream) == 0)
    {
      g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_INVALID,
                   "%s: the MSRP "
                   "stream (m= line %u) is rejected: its port is 0 (RFC 3264 "
                   "section 6)",
                   origin, msrp_sdp_stream_get_media_index (stream) + 1);
      return FALSE;
    }
  if (path == NULL || path->len == 0)
    {
      g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_INVALID,
                   "%s: the MSRP "
                   "stream (m= line %u) has no a=path (RFC 4975 section 8.2)",
                   origin, msrp_sdp_stream_get_media_index (stream) + 1);
      return FALSE;
    }
  if ((msrp_sdp_stream_get_ice_ufrag (stream) == NULL) !=
      (msrp_sdp_stream_get_ice_pwd (stream) == NULL))
    {
      g_set_error (
          error, MC_SDP_ERROR, MC_SDP_ERROR_INVALID,
          "%s: the MSRP "
          "stream has a=ice-%s without a=ice-%s (RFC 8839 section "
          "5.4)",
          origin,
          msrp_sdp_stream_get_ice_ufrag (stream) != NULL ? "ufrag" : "pwd",
          msrp_sdp_stream_get_ice_ufrag (stream) != NULL ? "pwd" : "ufrag");
      return FALSE;
    }
  return TRUE;
}

/* The peer as its checked MSRP @stream describes it. */
static McSdpPeer *
peer_from_stream (MsrpSdpStream *stream)
{
  McSdpPeer *p = g_new0 (McSdpPeer, 1);
  GPtrArray *path = msrp_sdp_stream_get_path (stream);
  GPtrArray *cands = msrp_sdp_stream_get_candidates (stream);
  GPtrArray *fps = msrp_sdp_stream_get_fingerprints (stream);

  p->proto = msrp_sdp_stream_get_proto (stream);
  p->cema = msrp_sdp_stream_get_cema (stream);
  p->fingerprints = g_ptr_array_new_with_free_func (fingerprint_free);
  for (guint i = 0; fps != NULL && i < fps->len; i++)
    {
      const MsrpSdpFingerprint *f = fps->pdata[i];
      McSdpFingerprint *fp = g_new (McSdpFingerprint, 1);

      fp->hash_func = g_strdup (f->hash_func);
      fp->fingerprint = g_strdup (f->fingerprint);
      g_ptr_array_add (p->fingerprints, fp);
    }
  p->path = g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);
  for (guint i = 0; i < path->len; i++)
    g_ptr_array_add (p->path, msrp_uri_ref (path->pdata[i]));
  p->setup_written = msrp_sdp_stream_get_setup (stream);
  p->setup = received (p->setup_written);
  p->address = g_strdup (msrp_sdp_stream_get_address (stream, NULL));
  p->port = msrp_sdp_stream_get_port (stream);
  p->ice_ufrag = g_strdup (msrp_sdp_stream_get_ice_ufrag (stream));
  p->ice_pwd = g_strdup (msrp_sdp_stream_get_ice_pwd (stream));
  p->candidates = g_ptr_array_new_with_free_func (
      (GDestroyNotify) msrp_sdp_candidate_free);
  /* RFC 6544 section 4.5: TCP candidates carry a tcptype; MSRP has one
   * component. */
  for (guint i = 0; cands != NULL && i < cands->len; i++)
    {
      const MsrpSdpCandidate *c = cands->pdata[i];

      if (g_ascii_strcasecmp (c->transport, "TCP") == 0 &&
          c->tcptype != MSRP_SDP_TCPTYPE_NONE && c->component == 1)
        g_ptr_array_add (p->candidates, msrp_sdp_candidate_copy (c));
      else
        p->n_candidates_skipped++;
    }
  return p;
}

McSdpPeer *
mc_sdp_peer_parse (const char *text, gsize len, const char *origin,
                   GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (MsrpSdp) sdp = msrp_sdp_parse (text, len, &local);
  MsrpSdpStream *stream;

  if (sdp == NULL)
    {
      g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_INVALID, "%s: %s", origin,
                   local->message);
      return NULL;
    }
  if (msrp_sdp_get_n_streams (sdp) == 0)
    {
      g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_INVALID,
                   "%s: no MSRP "
                   "media stream (m=message PORT TCP/MSRP * or TCP/TLS/MSRP, "
                   "RFC 4975 section 8.1)",
                   origin);
      return NULL;
    }
  stream = msrp_sdp_get_stream (sdp, 0);
  if (!check_peer_stream (stream, origin, error))
    return NULL;
  return peer_from_stream (stream);
}

/* --- files ------------------------------------------------------------- */

gboolean
mc_sdp_write_file (const char *path, const char *text, GError **error)
{
  g_autoptr (GError) local = NULL;

  /* CONSISTENT: a temporary file in the same directory, fsync'ed, then
   * renamed over @path. */
  if (!g_file_set_contents_full (path, text, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local))
    {
      g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_IO,
                   "cannot write the "
                   "SDP: %s",
                   local->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
mc_sdp_read_file (const char *path, char **text, gsize *len, GError **error)
{
  GStatBuf st;
  g_autoptr (GError) local = NULL;
  g_autofree char *contents = NULL;
  gsize n = 0;

  *text = NULL;
  *len = 0;
  if (g_stat (path, &st) != 0)
    {
      int e = errno;

      if (e == ENOENT)
        return FALSE;
      g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_IO,
                   "cannot read the "
                   "SDP %s: %s",
                   path, g_strerror (e));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode) || st.st_size > MSRP_SDP_MAX_SIZE)
    {
      g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_IO, "%s: %s", path,
                   S_ISREG (st.st_mode) ? "larger than an SDP may be (65536 "
                                          "bytes)"
                                        : "not a regular file");
      return FALSE;
    }
  if (!g_file_get_contents (path, &contents, &n, &local))
    {
      g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_IO,
                   "cannot read the "
                   "SDP: %s",
                   local->message);
      return FALSE;
    }
  if (n > MSRP_SDP_MAX_SIZE)
    {
      g_set_error (error, MC_SDP_ERROR, MC_SDP_ERROR_IO,
                   "%s: larger than an "
                   "SDP may be (65536 bytes)",
                   path);
      return FALSE;
    }
  *text = g_steal_pointer (&contents);
  *len = n;
  return TRUE;
}
