#include "mc-session.h"

#include "net-json.h"

#include <stdio.h>
#include <string.h>

#include "mc-util.h"
#include "msrp-status.h"
#include "msrp-writer.h"

static void
received_free (gpointer p)
{
  McReceived *r = p;

  g_free (r->message_id);
  g_free (r->content_type);
  g_free (r->file);
  g_free (r);
}

McSession *
mc_session_new (const McConfig *config)
{
  McSession *s = g_new0 (McSession, 1);

  s->config = config;
  s->use_path =
      g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);
  s->stats.latency_us = g_array_new (FALSE, FALSE, sizeof (gint64));
  s->stats.arrival_latency_us = g_array_new (FALSE, FALSE, sizeof (gint64));
  s->stats.received = g_ptr_array_new_with_free_func (received_free);
  s->stats.start_time = g_get_monotonic_time ();
  s->stdout_at_line_start = TRUE;
  return s;
}

void
mc_session_free (McSession *s)
{
  if (s == NULL)
    return;
  g_clear_pointer (&s->local_uri, msrp_uri_unref);
  g_clear_pointer (&s->use_path, g_ptr_array_unref);
  g_clear_pointer (&s->peer_path, g_ptr_array_unref);
  g_array_unref (s->stats.latency_us);
  g_array_unref (s->stats.arrival_latency_us);
  g_ptr_array_unref (s->stats.received);
  g_free (s->error_message);
  g_free (s->transport);
  g_free (s->sdp_role);
  g_free (s->sdp_setup);
  g_free (s->peer_setup);
  g_free (s->fingerprint_local);
  g_free (s->fingerprint_peer);
  mc_ice_info_free (s->ice);
  g_free (s);
}

void
mc_ice_info_free (McIceInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->local_type);
  g_free (info->remote_type);
  g_free (info->local_tcptype);
  g_free (info->remote_tcptype);
  g_free (info->local_address);
  g_free (info->remote_address);
  g_free (info);
}

static void
append_ice_end (GString *out, const char *name, const char *type,
                const char *tcptype, const char *address)
{
  g_string_append_printf (out, "\"%s\":{\"type\":", name);
  net_json_append_string (out, type);
  g_string_append (out, ",\"tcptype\":");
  net_json_append_string (out, tcptype);
  g_string_append (out, ",\"address\":");
  net_json_append_string (out, address);
  g_string_append_c (out, '}');
}

static void
append_uris (GPtrArray *out, GPtrArray *uris)
{
  for (guint i = 0; uris != NULL && i < uris->len; i++)
    g_ptr_array_add (out, msrp_uri_ref (uris->pdata[i]));
}

GPtrArray *
mc_session_get_to_path (McSession *s)
{
  GPtrArray *out;

  if (s->peer_path == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);
  /* RFC 4976 section 5.1: "the client takes the list of URIs in the
   * Use-Path header after the outermost authentication and appends the list
   * of URIs provided in the path attribute in the peer's session
   * description". */
  append_uris (out, s->use_path);
  append_uris (out, s->peer_path);
  return out;
}

GPtrArray *
mc_session_get_from_path (McSession *s)
{
  GPtrArray *out =
      g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);

  g_return_val_if_fail (s->local_uri != NULL, out);
  g_ptr_array_add (out, msrp_uri_ref (s->local_uri));
  return out;
}

char *
mc_session_get_sdp_path (McSession *s)
{
  g_autoptr (GPtrArray) path =
      g_ptr_array_new_with_free_func ((GDestroyNotify) msrp_uri_unref);

  /* RFC 4976 section 5.1: "the client reverses the list of URIs in the
   * Use-Path header (after the outermost authentication), and appends the
   * client's own URI". */
  for (guint i = s->use_path->len; i > 0; i--)
    g_ptr_array_add (path, msrp_uri_ref (s->use_path->pdata[i - 1]));
  if (s->local_uri != NULL)
    g_ptr_array_add (path, msrp_uri_ref (s->local_uri));
  if (path->len == 0)
    return g_strdup ("");
  return msrp_uri_list_to_text (path);
}

gboolean
mc_session_is_for_us (McSession *s, MsrpHead *head)
{
  GPtrArray *to = msrp_head_get_to_path (head);

  if (s->local_uri == NULL || to == NULL || to->len != 1)
    return FALSE;
  /* RFC 4975 section 6.1: "The session-id part identifies a particular
   * session of the participant"; with CEMA the connection came to the
   * c=/m= a middlebox wrote, so the authority is not what tells. */
  if (s->match_session_id)
    return g_strcmp0 (msrp_uri_get_session_id (to->pdata[0]),
                      msrp_uri_get_session_id (s->local_uri)) == 0;
  return msrp_uri_equal (to->pdata[0], s->local_uri);
}

void
mc_session_fail (McSession *s, int code, const char *format, ...)
{
  va_list ap;
  g_autofree char *text = NULL;

  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  fprintf (stderr, "msrpcat: %s\n", text);
  if (s->exit_code == MC_EXIT_OK)
    {
      s->exit_code = code;
      s->error_message = g_steal_pointer (&text);
    }
}

void
mc_session_write_stdout (McSession *s, const void *data, gsize len)
{
  if (len == 0)
    return;
  if (fwrite (data, 1, len, stdout) != len)
    return; /* EPIPE and the like: reported when stdout is flushed */
  s->stdout_at_line_start = ((const char *) data)[len - 1] == '\n';
}

char *
mc_session_new_id (void)
{
  g_autoptr (GError) error = NULL;
  char *id = msrp_writer_new_message_id (&error);

  /* RAND_bytes failing leaves no secure way on. */
  if (id == NULL)
    g_error ("cannot make a random id: %s", error->message);
  return id;
}

/* --- summaries --------------------------------------------------------- */

static double
seconds (gint64 from, gint64 to)
{
  return from > 0 && to > from ? (double) (to - from) / 1e6 : 0.0;
}

static gint64
elapsed_base (const McStats *st)
{
  return st->ready_time > 0 ? st->ready_time : st->start_time;
}

static int
cmp_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static void
append_codes_text (GString *out, const guint *codes, const char *sep)
{
  for (guint c = 0; c < 1000; c++)
    {
      const char *reason;

      if (codes[c] == 0)
        continue;
      reason = msrp_status_reason (c);
      g_string_append_printf (out, "%s%u x %u%s%s", sep, codes[c], c,
                              reason != NULL ? " " : "",
                              reason != NULL ? reason : "");
      sep = ", ";
    }
}

static guint
count_codes (const guint *codes)
{
  guint n = 0;

  for (guint c = 0; c < 1000; c++)
    n += codes[c];
  return n;
}

static void
append_rate (GString *out, guint64 bytes, double secs)
{
  if (secs <= 0 || bytes < 1024 * 1024)
    return;
  g_string_append_printf (out, " (%.1f MB/s)", (double) bytes / secs / 1e6);
}

char *
mc_session_summary_text (McSession *s)
{
  const McStats *st = &s->stats;
  GString *out = g_string_new (NULL);
  const char *sep = "";

  if (st->chunks_sent == 0 && st->bytes_sent == 0 &&
      count_codes (st->responses_in) > 0)
    {
      g_string_append (out, "sent an empty SEND");
      append_codes_text (out, st->responses_in, ": ");
      sep = "; ";
    }
  else if (st->chunks_sent > 0)
    {
      double secs = seconds (elapsed_base (st), st->end_time);

      g_string_append_printf (
          out,
          "sent %" G_GUINT64_FORMAT " message%s, %" G_GUINT64_FORMAT
          " bytes in %" G_GUINT64_FORMAT " chunk%s in %.3f s",
          st->messages_sent, st->messages_sent == 1 ? "" : "s", st->bytes_sent,
          st->chunks_sent, st->chunks_sent == 1 ? "" : "s", secs);
      append_rate (out, st->bytes_sent, secs);
      append_codes_text (out, st->responses_in, ", ");
      if (st->success_reports_in > 0)
        g_string_append_printf (out, ", %u success report%s 200 received",
                                st->success_reports_in,
                                st->success_reports_in == 1 ? "" : "s");
      if (st->failure_reports_in > 0)
        g_string_append_printf (out,
                                ", %u failure report%s received (last "
                                "%u)",
                                st->failure_reports_in,
                                st->failure_reports_in == 1 ? "" : "s",
                                st->last_failure_code);
      sep = "; ";
    }
  if (s->config->receive || st->chunks_received > 0 || st->binds_received > 0)
    {
      g_string_append_printf (
          out,
          "%sreceived %" G_GUINT64_FORMAT " message%s,"
          " %" G_GUINT64_FORMAT " bytes in %" G_GUINT64_FORMAT " chunk%s",
          sep, st->messages_received, st->messages_received == 1 ? "" : "s",
          st->bytes_received, st->chunks_received,
          st->chunks_received == 1 ? "" : "s");
      if (st->binds_received > 0)
        g_string_append_printf (out, ", %" G_GUINT64_FORMAT " empty SEND%s",
                                st->binds_received,
                                st->binds_received == 1 ? "" : "s");
      if (count_codes (st->responses_out) > 0)
        {
          g_string_append (out, "; answered");
          append_codes_text (out, st->responses_out, " ");
        }
      if (st->success_reports_out > 0)
        g_string_append_printf (out, "; sent %u success report%s",
                                st->success_reports_out,
                                st->success_reports_out == 1 ? "" : "s");
      if (st->failure_reports_out > 0)
        g_string_append_printf (out, "; sent %u failure report%s",
                                st->failure_reports_out,
                                st->failure_reports_out == 1 ? "" : "s");
      if (st->messages_failed > 0)
        g_string_append_printf (
            out, "; %" G_GUINT64_FORMAT " message%s failed",
            st->messages_failed, st->messages_failed == 1 ? "" : "s");
      if (st->messages_interrupted > 0)
        g_string_append_printf (out,
                                "; %" G_GUINT64_FORMAT " message%s "
                                "aborted by the sender",
                                st->messages_interrupted,
                                st->messages_interrupted == 1 ? "" : "s");
    }
  if (out->len == 0)
    g_string_append (out, "nothing sent or received");
  return g_string_free (out, FALSE);
}

static void
append_codes_json (GString *out, const guint *codes)
{
  const char *sep = "";

  g_string_append_c (out, '{');
  for (guint c = 0; c < 1000; c++)
    {
      if (codes[c] == 0)
        continue;
      g_string_append_printf (out, "%s\"%03u\":%u", sep, c, codes[c]);
      sep = ",";
    }
  g_string_append_c (out, '}');
}

static void
append_latency_json (GString *out, GArray *samples)
{
  g_autoptr (GArray) sorted = NULL;
  const gint64 *v;
  gint64 sum = 0;
  gsize n = samples->len;

  if (n == 0)
    {
      g_string_append (out, "null");
      return;
    }
  sorted = g_array_copy (samples);
  g_array_sort (sorted, cmp_gint64);
  v = (const gint64 *) (gpointer) sorted->data;
  for (gsize i = 0; i < n; i++)
    sum += v[i];
  g_string_append_printf (
      out,
      "{\"n\":%" G_GSIZE_FORMAT ",\"min\":%" G_GINT64_FORMAT
      ",\"p50\":%" G_GINT64_FORMAT ",\"p90\":%" G_GINT64_FORMAT
      ",\"p99\":%" G_GINT64_FORMAT ",\"max\":%" G_GINT64_FORMAT
      ",\"mean\":%" G_GINT64_FORMAT "}",
      n, v[0], mc_percentile (v, n, 50), mc_percentile (v, n, 90),
      mc_percentile (v, n, 99), v[n - 1], sum / (gint64) n);
}

static void
append_double (GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.6f", v));
}

/* The summary's members about the session: outcome, addresses, SDP and
 * ICE. */
static void
append_session_json (GString *out, McSession *s)
{
  g_autofree char *sdp_path = mc_session_get_sdp_path (s);

  g_string_append_printf (out, "\"ok\":%s,\"exit\":%d,\"error\":",
                          s->exit_code == 0 ? "true" : "false", s->exit_code);
  net_json_append_string (out, s->error_message);
  g_string_append (out, ",\"local_uri\":");
  net_json_append_string (
      out, s->local_uri != NULL ? msrp_uri_get_text (s->local_uri) : NULL);
  g_string_append (out, ",\"path\":");
  net_json_append_string (out, sdp_path);
  g_string_append (out, ",\"use_path\":");
  if (s->use_path->len > 0)
    {
      g_autofree char *up = msrp_uri_list_to_text (s->use_path);

      net_json_append_string (out, up);
    }
  else
    {
      g_string_append (out, "null");
    }
  if (s->stats.auth_expires_set)
    g_string_append_printf (out, ",\"expires\":%" G_GUINT64_FORMAT,
                            s->stats.auth_expires);
  g_string_append (out, ",\"transport\":");
  net_json_append_string (out, s->transport);
  if (s->sdp_role != NULL || s->sdp_setup != NULL)
    {
      g_string_append (out, ",\"sdp\":{\"role\":");
      net_json_append_string (out, s->sdp_role);
      g_string_append (out, ",\"setup\":");
      net_json_append_string (out, s->sdp_setup);
      g_string_append (out, ",\"peer_setup\":");
      net_json_append_string (out, s->peer_setup);
      g_string_append_printf (out, ",\"cema\":%s}",
                              s->cema ? "true" : "false");
    }
  if (s->fingerprint_local != NULL)
    {
      g_string_append (out, ",\"fingerprint\":{\"local\":");
      net_json_append_string (out, s->fingerprint_local);
      g_string_append (out, ",\"peer\":");
      net_json_append_string (out, s->fingerprint_peer);
      g_string_append_printf (out, ",\"verified\":%s}",
                              s->fingerprint_verified ? "true" : "false");
    }
  if (s->ice != NULL)
    {
      g_string_append (out, ",\"ice\":{");
      append_ice_end (out, "local", s->ice->local_type, s->ice->local_tcptype,
                      s->ice->local_address);
      g_string_append_c (out, ',');
      append_ice_end (out, "remote", s->ice->remote_type,
                      s->ice->remote_tcptype, s->ice->remote_address);
      g_string_append_c (out, '}');
    }
}

/* The summary's "sent" object; @secs since the session began. */
static void
append_sent_json (GString *out, const McStats *st, double secs)
{
  g_string_append_printf (
      out,
      "\"sent\":{\"messages\":%" G_GUINT64_FORMAT
      ",\"bytes\":%" G_GUINT64_FORMAT ",\"chunks\":%" G_GUINT64_FORMAT
      ",\"delivered\":%" G_GUINT64_FORMAT ",\"responses\":",
      st->messages_sent, st->bytes_sent, st->chunks_sent,
      st->messages_delivered);
  append_codes_json (out, st->responses_in);
  g_string_append_printf (out,
                          ",\"success_reports\":%u,\"failure_reports\":"
                          "%u,\"bytes_per_s\":",
                          st->success_reports_in, st->failure_reports_in);
  append_double (out, secs > 0 ? (double) st->bytes_sent / secs : 0);
  g_string_append (out, ",\"messages_per_s\":");
  append_double (out, secs > 0 ? (double) st->messages_sent / secs : 0);
  g_string_append (out, ",\"latency_us\":");
  append_latency_json (out, st->latency_us);
  g_string_append_c (out, '}');
}

/* The summary's "received" object, with the list of messages. */
static void
append_received_json (GString *out, const McStats *st)
{
  double rsecs = seconds (st->first_byte_time, st->end_time);

  g_string_append_printf (
      out,
      "\"received\":{\"messages\":%" G_GUINT64_FORMAT
      ",\"bytes\":%" G_GUINT64_FORMAT ",\"chunks\":%" G_GUINT64_FORMAT
      ",\"binds\":%" G_GUINT64_FORMAT ",\"failed\":%" G_GUINT64_FORMAT
      ",\"interrupted\":%" G_GUINT64_FORMAT
      ",\"duplicates\":%" G_GUINT64_FORMAT ",\"responses\":",
      st->messages_received, st->bytes_received, st->chunks_received,
      st->binds_received, st->messages_failed, st->messages_interrupted,
      st->duplicates);
  append_codes_json (out, st->responses_out);
  g_string_append_printf (out,
                          ",\"success_reports\":%u,\"failure_reports\":"
                          "%u,\"messages_per_s\":",
                          st->success_reports_out, st->failure_reports_out);
  append_double (out, rsecs > 0 ? (double) st->messages_received / rsecs : 0);
  g_string_append (out, ",\"latency_us\":");
  append_latency_json (out, st->arrival_latency_us);
  g_string_append (out, ",\"list\":[");
  for (guint i = 0; i < st->received->len; i++)
    {
      const McReceived *r = st->received->pdata[i];

      g_string_append (out, i > 0 ? ",{\"message_id\":" : "{\"message_id\":");
      net_json_append_string (out, r->message_id);
      g_string_append (out, ",\"content_type\":");
      net_json_append_string (out, r->content_type);
      g_string_append_printf (
          out, ",\"bytes\":%" G_GUINT64_FORMAT ",\"file\":", r->bytes);
      net_json_append_string (out, r->file);
      g_string_append_c (out, '}');
    }
  g_string_append_printf (out, "],\"list_truncated\":%s}",
                          st->received_truncated ? "true" : "false");
}

char *
mc_session_summary_json (McSession *s)
{
  const McStats *st = &s->stats;
  GString *out = g_string_new ("{");
  double secs = seconds (elapsed_base (st), st->end_time);

  append_session_json (out, s);
  g_string_append (out, ",\"elapsed_s\":");
  append_double (out, secs);
  g_string_append_c (out, ',');
  append_sent_json (out, st, secs);
  g_string_append_c (out, ',');
  append_received_json (out, st);
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}
