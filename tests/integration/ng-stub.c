/* ng-stub: the ng control server (gateway/gw-ng.c) with a stub handler,
 * for tests/integration/ng-ping.sh and for trying ng clients by hand.
 *
 *   ng-stub [IP...]      (default 127.0.0.1)
 *
 * Binds a free UDP port on each IP, prints each bound address on a line
 * of its own and then "ready", and serves until SIGTERM or SIGINT.  The
 * log stream (JSON) goes to stderr.  The stub handler answers offer and
 * answer with the SDP it was given and a `warning` naming the flags it
 * saw, delete and query with "ok", list with the call-ids offered so far,
 * statistics with the number of requests handled. */
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>

#include "net-addr.h"
#include "gw-log.h"
#include "gw-ng.h"

typedef struct
{
  GPtrArray *call_ids;
  gint64 handled;
} Stub;

static void
on_offer_answer (GwNgRequest *req, gpointer data)
{
  Stub *stub = data;
  GwBencode *reply = gw_bencode_new_dict ();
  const char *const *flags = gw_ng_request_get_flags (req);
  GInetAddress *rf = gw_ng_request_get_received_from (req);
  g_autofree char *flag_text = g_strjoinv (",", (char **) flags);
  g_autofree char *rf_text =
      rf != NULL ? g_inet_address_to_string (rf) : g_strdup ("-");
  g_autofree char *warning = g_strdup_printf ("stub: flags [%s], received "
                                              "from %s",
                                              flag_text, rf_text);

  stub->handled++;
  if (gw_ng_request_get_command (req) == GW_NG_COMMAND_OFFER)
    g_ptr_array_add (stub->call_ids,
                     g_strdup (gw_ng_request_get_call_id (req)));
  gw_bencode_dict_set_string (reply, "sdp", gw_ng_request_get_sdp (req, NULL));
  gw_bencode_dict_set_string (reply, "warning", warning);
  gw_ng_request_reply (req, reply);
}

static void
on_ok (GwNgRequest *req, gpointer data)
{
  Stub *stub = data;

  stub->handled++;
  gw_ng_request_reply (req, NULL);
}

static void
on_list (GwNgRequest *req, gpointer data)
{
  Stub *stub = data;
  GwBencode *reply = gw_bencode_new_dict ();
  GwBencode *calls = gw_bencode_new_list ();

  stub->handled++;
  for (guint i = 0; i < stub->call_ids->len; i++)
    gw_bencode_list_add_string (calls, stub->call_ids->pdata[i]);
  gw_bencode_dict_take (reply, "calls", calls);
  gw_ng_request_reply (req, reply);
}

static void
on_statistics (GwNgRequest *req, gpointer data)
{
  Stub *stub = data;
  GwBencode *reply = gw_bencode_new_dict ();
  GwBencode *st = gw_bencode_new_dict ();

  stub->handled++;
  gw_bencode_dict_set_int (st, "requests", stub->handled);
  gw_bencode_dict_take (reply, "statistics", st);
  gw_ng_request_reply (req, reply);
}

static const GwNgHandler stub_handler = {
  .offer = on_offer_answer,
  .answer = on_offer_answer,
  .delete = on_ok,
  .query = on_ok,
  .list = on_list,
  .statistics = on_statistics,
};

static gboolean
on_signal (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) addrs =
      g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;
  g_autoptr (GwNgServer) server = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Stub stub = { .call_ids = g_ptr_array_new_with_free_func (g_free) };
  GPtrArray *bound;
  static const char *const default_ips[] = { "127.0.0.1", NULL };
  const char *const *ips =
      argc > 1 ? (const char *const *) argv + 1 : default_ips;

  gw_log_init (GW_LOG_FORMAT_JSON, G_LOG_LEVEL_DEBUG, "ng-stub");
  for (guint i = 0; ips[i] != NULL; i++)
    {
      const char *ip = ips[i];
      GSocketAddress *a = g_inet_socket_address_new_from_string (ip, 0);

      if (a == NULL)
        {
          fprintf (stderr, "ng-stub: '%s' is not an IP address\n", ip);
          return 2;
        }
      g_ptr_array_add (addrs, a);
    }
  server = gw_ng_server_new (addrs, NULL, &stub_handler, &stub, NULL, &error);
  if (server == NULL)
    {
      fprintf (stderr, "ng-stub: %s\n", error->message);
      return 1;
    }
  bound = gw_ng_server_get_addresses (server);
  for (guint i = 0; i < bound->len; i++)
    {
      g_autofree char *text = net_addr_to_string (bound->pdata[i]);

      printf ("%s\n", text);
    }
  printf ("ready\n");
  fflush (stdout);

  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_main_loop_run (loop);
  g_clear_pointer (&server, gw_ng_server_free);
  g_ptr_array_unref (stub.call_ids);
  return 0;
}
