/* bench-parser.c: throughput of msrp/msrp-parser.c (a program, not a test).
 *
 *   bench-parser [SECONDS]      (default 1.5 s a measurement, 3 measurements)
 *
 * Large bodies: frames with a 1 MiB body, fed in 64 KiB reads, once with
 * binary bytes (few CRs) and once with text lines (a CR every 64 bytes, each
 * one checked against the end-line).  Small messages: a chat SEND of the
 * size RFC 4975 section 11.1 shows, each followed by its 200 OK, fed in
 * 64 KiB reads; counted in SEND+200 pairs a second.  The reads point into a
 * prepared stream, so the figures are the parser's alone (no copying, no
 * sockets). */
#include "msrp-parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_SIZE (64 * 1024)
#define BODY_SIZE (1024 * 1024)

typedef struct
{
  guint64 frames;
  guint64 body_bytes;
  guint64 events;
} Counts;

static void
die (const char *what, GError *error)
{
  fprintf (stderr, "bench-parser: %s: %s\n", what,
           error != NULL ? error->message : "?");
  exit (1);
}

/* Feed @len bytes of @stream in reads of READ_SIZE. */
static void
parse_stream (MsrpParser *p, const guint8 *stream, gsize len, Counts *c)
{
  for (gsize off = 0; off < len; off += READ_SIZE)
    {
      const guint8 *data = stream + off;
      gsize left = MIN (READ_SIZE, len - off);

      for (;;)
        {
          MsrpParserEvent ev;
          gsize used;
          GError *error = NULL;
          MsrpParseStatus st =
              msrp_parser_feed (p, data, left, &used, &ev, &error);

          if (st == MSRP_PARSE_NEED_MORE)
            break;
          if (st == MSRP_PARSE_ERROR)
            die ("parse error", error);
          c->events++;
          if (ev.type == MSRP_PARSER_EVENT_BODY)
            c->body_bytes += ev.data_len;
          else if (ev.type == MSRP_PARSER_EVENT_END)
            c->frames++;
          data += used;
          left -= used;
        }
    }
}

static void
append_send (GString *s, guint n, const guint8 *body, gsize body_len)
{
  char tid[16];

  g_snprintf (tid, sizeof tid, "t%07u", n);
  g_string_append_printf (
      s,
      "MSRP %s SEND\r\n"
      "To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n"
      "From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n"
      "Message-ID: m%08u\r\n"
      "Byte-Range: 1-%" G_GSIZE_FORMAT "/%" G_GSIZE_FORMAT "\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n",
      tid, n, body_len, body_len);
  g_string_append_len (s, (const char *) body, (gssize) body_len);
  g_string_append_printf (s, "\r\n-------%s$\r\n", tid);
}

static void
append_200 (GString *s, guint n)
{
  g_string_append_printf (
      s,
      "MSRP t%07u 200 OK\r\n"
      "To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp\r\n"
      "From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp\r\n"
      "-------t%07u$\r\n",
      n, n);
}

/* Parse @stream over and over for about @seconds; returns units a second
 * where a unit is a byte (per_frame FALSE) or a frame. */
static double
measure (const char *label, const GString *stream, double seconds,
         gboolean per_frame, guint frames_per_pass)
{
  g_autoptr (MsrpParser) p = msrp_parser_new ();
  Counts c = {
    0,
  };
  guint64 passes = 0;
  gint64 start = g_get_monotonic_time (), elapsed;
  double rate;

  do
    {
      parse_stream (p, (const guint8 *) stream->str, stream->len, &c);
      passes++;
      elapsed = g_get_monotonic_time () - start;
    }
  while (elapsed < (gint64) (seconds * G_USEC_PER_SEC));

  if (c.frames != passes * frames_per_pass)
    {
      fprintf (stderr,
               "bench-parser: %s: %" G_GUINT64_FORMAT " frames, "
               "expected %" G_GUINT64_FORMAT "\n",
               label, c.frames, passes * frames_per_pass);
      exit (1);
    }
  if (per_frame)
    {
      rate = (double) c.frames / 2 / ((double) elapsed / G_USEC_PER_SEC);
      printf ("%-44s %12.0f SEND+200 pairs/s  (%.0f MB/s of stream)\n", label,
              rate,
              (double) (passes * stream->len) /
                  ((double) elapsed / G_USEC_PER_SEC) / 1e6);
    }
  else
    {
      rate = (double) (passes * stream->len) /
             ((double) elapsed / G_USEC_PER_SEC) / 1e6;
      printf ("%-44s %12.0f MB/s  (%" G_GUINT64_FORMAT " frames, %.1f "
              "events/MiB)\n",
              label, rate, c.frames,
              (double) c.events / ((double) passes * stream->len / BODY_SIZE));
    }
  return rate;
}

int
main (int argc, char **argv)
{
  double seconds = argc > 1 ? g_ascii_strtod (argv[1], NULL) : 1.5;
  g_autofree guint8 *body = g_malloc (BODY_SIZE);
  g_autoptr (GString) binary = g_string_new (NULL);
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GString) chat = g_string_new (NULL);
  static const guint8 hello[] = "Hi, Alice!  I'm Bob!";
  guint32 x = 12345;
  gsize send_len = 0, ok_len = 0;
  g_autofree char *chat_label = NULL;

  if (seconds <= 0 || seconds > 60)
    seconds = 1.5;

  /* Binary body: pseudo-random bytes (a CR every 256 bytes on average). */
  for (gsize i = 0; i < BODY_SIZE; i++)
    {
      x = x * 1103515245u + 12345u;
      body[i] = (guint8) (x >> 16);
    }
  for (guint n = 0; n < 8; n++)
    append_send (binary, n, body, BODY_SIZE);

  /* Text body: lines of 62 characters and CRLF. */
  for (gsize i = 0; i < BODY_SIZE; i++)
    body[i] = i % 64 == 62   ? '\r'
              : i % 64 == 63 ? '\n'
                             : (guint8) ('a' + i % 26);
  for (guint n = 0; n < 8; n++)
    append_send (text, n, body, BODY_SIZE);

  /* Chat: 2000 SEND + 200 OK pairs. */
  for (guint n = 0; n < 2000; n++)
    {
      gsize before = chat->len;

      append_send (chat, n, hello, sizeof hello - 1);
      send_len = chat->len - before;
      append_200 (chat, n);
      ok_len = chat->len - before - send_len;
    }
  chat_label = g_strdup_printf ("chat SEND (%" G_GSIZE_FORMAT " bytes) + "
                                "200 OK (%" G_GSIZE_FORMAT " bytes)",
                                send_len, ok_len);

  printf ("msrp-parser benchmark: %.1f s a measurement, reads of %d KiB\n",
          seconds, READ_SIZE / 1024);
  measure ("1 MiB binary bodies", binary, seconds, FALSE, 8);
  measure ("1 MiB text bodies (CRLF every 64 bytes)", text, seconds, FALSE, 8);
  measure (chat_label, chat, seconds, TRUE, 4000);
  return 0;
}
