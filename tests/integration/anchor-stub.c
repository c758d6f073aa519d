/* anchor-stub: one CEMA-anchored stream (gateway/daemon/gw-anchor.c) as a
 * process of its own, for tests/integration/cema-anchor.sh and
 * tests/bench/bench-scale.sh, and for trying CEMA clients by hand: the
 * test plays the negotiator (it rewrites c= and m= of the SDP), this
 * program is the data plane.
 *
 *   anchor-stub --address IP [--address IP] [--port-min N --port-max N]
 *               [--tls] [--call-id ID] [--offerer SPEC] [--answerer SPEC]
 *
 * SPEC is "in" (the party connects to the stream's port, from anywhere),
 * "in:IP[,IP...]" (from those addresses), or "out:IP:PORT" (it is passive:
 * the stub connects to it; IPv6 in brackets), optionally followed by
 * "@URI", the party's own MSRP URI (the last of its a=path), whose
 * session-id its first SEND is checked against.  A party left out is not
 * known yet: a line "offerer SPEC" or "answerer SPEC" on stdin gives it
 * later (as the negotiator learns the answerer at the answer).
 *
 * Prints "port N" and "ready" on stdout once listening; a line "info" on
 * stdin prints the stream's state as one JSON line; on SIGTERM or SIGINT
 * it prints that line once more and exits 0.  The log stream (JSON) goes
 * to stderr. */
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw-anchor.h"
#include "gw-log.h"
#include "net-addr.h"

typedef struct
{
  GwAnchor *anchor;
  GwAnchorPool *pool;
  GMainLoop *loop;
  GString *input;
} Stub;

/* A party's settings and what they point to. */
typedef struct
{
  GwAnchorPartySettings party;
  GPtrArray *sources;
  GSocketAddress *target;
  MsrpUri *uri;
} Spec;

static void
spec_clear (Spec *sp)
{
  g_clear_pointer (&sp->sources, g_ptr_array_unref);
  g_clear_object (&sp->target);
  g_clear_pointer (&sp->uri, msrp_uri_unref);
}

/* SPEC as the comment above says; FALSE with @error. */
static gboolean
parse_spec (const char *spec, Spec *sp, GError **error)
{
  g_autofree char *text = g_strdup (spec);
  char *at = strchr (text, '@');

  memset (sp, 0, sizeof *sp);
  sp->sources = g_ptr_array_new_with_free_func (g_object_unref);
  if (at != NULL)
    {
      *at = '\0';
      if ((sp->uri = msrp_uri_parse (at + 1, -1, error)) == NULL)
        return FALSE;
      sp->party.uri = sp->uri;
    }
  if (g_str_has_prefix (text, "out:"))
    {
      if ((sp->target = net_addr_parse (text + 4, error)) == NULL)
        return FALSE;
      sp->party.outbound = TRUE;
      sp->party.target = sp->target;
      return TRUE;
    }
  if (strcmp (text, "in") != 0 && !g_str_has_prefix (text, "in:"))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "'%s' is not in, in:IP,... or out:IP:PORT", spec);
      return FALSE;
    }
  if (text[2] == ':')
    {
      g_auto (GStrv) ips = g_strsplit (text + 3, ",", -1);

      for (guint i = 0; ips[i] != NULL; i++)
        {
          GInetAddress *ia = g_inet_address_new_from_string (ips[i]);

          if (ia == NULL)
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "'%s' is not an IP address", ips[i]);
              return FALSE;
            }
          g_ptr_array_add (sp->sources, ia);
        }
    }
  sp->party.sources = sp->sources;
  return TRUE;
}

static void
print_info (Stub *stub)
{
  GwAnchorInfo info;

  gw_anchor_get_info (stub->anchor, &info);
  printf ("{\"port\":%u,\"state\":\"%s\",\"closed\":\"%s\","
          "\"offerer_connected\":%s,\"answerer_connected\":%s,"
          "\"offerer_bytes\":%" G_GUINT64_FORMAT
          ",\"answerer_bytes\":%" G_GUINT64_FORMAT
          ",\"refused\":%" G_GUINT64_FORMAT "}\n",
          info.port, gw_anchor_state_to_string (info.state),
          gw_anchor_closed_to_string (info.closed),
          info.connected[0] ? "true" : "false",
          info.connected[1] ? "true" : "false", info.bytes_from[0],
          info.bytes_from[1], info.refused);
  fflush (stdout);
}

static void
handle_line (Stub *stub, const char *line)
{
  g_autoptr (GError) error = NULL;
  gboolean offerer = g_str_has_prefix (line, "offerer ");
  Spec sp = { { 0 } };

  if (strcmp (line, "info") == 0)
    {
      print_info (stub);
      return;
    }
  if (!offerer && !g_str_has_prefix (line, "answerer "))
    {
      fprintf (stderr, "anchor-stub: unknown command '%s'\n", line);
      return;
    }
  if (!parse_spec (strchr (line, ' ') + 1, &sp, &error) ||
      !gw_anchor_set_party (stub->anchor,
                            offerer ? GW_ANCHOR_OFFERER : GW_ANCHOR_ANSWERER,
                            &sp.party, &error))
    fprintf (stderr, "anchor-stub: %s: %s\n", line, error->message);
  else
    printf ("ok\n");
  fflush (stdout);
  spec_clear (&sp);
}

static gboolean
on_stdin (gint fd, GIOCondition cond, gpointer data)
{
  Stub *stub = data;
  char buf[1024];
  ssize_t n = read (fd, buf, sizeof buf);
  char *nl;

  if (n <= 0)
    return G_SOURCE_REMOVE; /* no more commands; serve on */
  g_string_append_len (stub->input, buf, n);
  while ((nl = strchr (stub->input->str, '\n')) != NULL)
    {
      g_autofree char *line =
          g_strndup (stub->input->str, (gsize) (nl - stub->input->str));

      g_string_erase (stub->input, 0, nl - stub->input->str + 1);
      handle_line (stub, g_strstrip (line));
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer data)
{
  g_main_loop_quit (((Stub *) data)->loop);
  return G_SOURCE_REMOVE;
}

/* The pool and the anchor from the command line; FALSE with @error. */
static gboolean
make_anchor (Stub *stub, char **addresses, int port_min, int port_max,
             gboolean tls, const char *call_id, char **specs, GError **error)
{
  g_autoptr (GPtrArray) addrs =
      g_ptr_array_new_with_free_func (g_object_unref);
  Spec sp[2] = { { { 0 } } };
  gboolean ok = TRUE;
  GwAnchorSettings s = { .call_id = call_id, .tls = tls };
  GwAnchorPoolSettings ps = { .addresses = addrs,
                              .port_min = (guint) port_min,
                              .port_max = (guint) port_max };

  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++)
    {
      GInetAddress *ia = g_inet_address_new_from_string (addresses[i]);

      if (ia == NULL)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--address: '%s' is not an IP address", addresses[i]);
          return FALSE;
        }
      g_ptr_array_add (addrs, ia);
    }
  for (int i = 0; i < 2 && ok; i++)
    if (specs[i] != NULL)
      {
        ok = parse_spec (specs[i], &sp[i], error);
        s.parties[i] = &sp[i].party;
      }
  if (ok)
    stub->pool = gw_anchor_pool_new (&ps, error);
  if (stub->pool != NULL)
    stub->anchor = gw_anchor_new (stub->pool, &s, error);
  spec_clear (&sp[0]);
  spec_clear (&sp[1]);
  return stub->anchor != NULL;
}

int
main (int argc, char **argv)
{
  g_auto (GStrv) addresses = NULL;
  g_autofree char *call_id = NULL;
  char *specs[2] = { NULL, NULL };
  int port_min = 0, port_max = 0;
  gboolean tls = FALSE;
  GOptionEntry entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &addresses,
      "Bind the stream's port on IP (repeatable)", "IP" },
    { "port-min", 0, 0, G_OPTION_ARG_INT, &port_min, "Lowest port", "N" },
    { "port-max", 0, 0, G_OPTION_ARG_INT, &port_max, "Highest port", "N" },
    { "tls", 0, 0, G_OPTION_ARG_NONE, &tls, "A TCP/TLS/MSRP stream", NULL },
    { "call-id", 0, 0, G_OPTION_ARG_STRING, &call_id, "For the log", "ID" },
    { "offerer", 0, 0, G_OPTION_ARG_STRING, &specs[0], "The offerer", "SPEC" },
    { "answerer", 0, 0, G_OPTION_ARG_STRING, &specs[1], "The answerer",
      "SPEC" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- one anchored "
                                                         "stream");
  g_autoptr (GError) error = NULL;
  Stub stub = { 0 };

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "anchor-stub: %s\n", error->message);
      return 2;
    }
  gw_log_init (GW_LOG_FORMAT_JSON, G_LOG_LEVEL_INFO, "anchor-stub");
  stub.loop = g_main_loop_new (NULL, FALSE);
  stub.input = g_string_new (NULL);
  if (!make_anchor (&stub, addresses, port_min, port_max, tls, call_id, specs,
                    &error))
    {
      fprintf (stderr, "anchor-stub: %s\n", error->message);
      return 1;
    }
  printf ("port %u\nready\n", gw_anchor_get_port (stub.anchor));
  fflush (stdout);
  g_unix_fd_add (0, G_IO_IN | G_IO_HUP, on_stdin, &stub);
  g_unix_signal_add (SIGTERM, on_signal, &stub);
  g_unix_signal_add (SIGINT, on_signal, &stub);
  g_main_loop_run (stub.loop);
  print_info (&stub);
  gw_anchor_free (stub.anchor);
  gw_anchor_pool_free (stub.pool);
  gw_log_flush ();
  g_main_loop_unref (stub.loop);
  g_string_free (stub.input, TRUE);
  g_free (specs[0]);
  g_free (specs[1]);
  return 0;
}
