/* Check suite for the log stream's line format (gateway/gw-log.c). */
#include <check.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "gw-log.h"

START_TEST (test_json_escapes_and_types)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_INFO, "conn_closed");
  g_autofree char *line = NULL;

  gw_log_event_add_str (ev, "peer", "a\"b\\c\nd\x01");
  gw_log_event_add_int (ev, "bytes_in", -42);
  gw_log_event_add_bool (ev, "tls", TRUE);
  gw_log_event_add_str (ev, "bad_utf8",
                        "x\xff"
                        "y");
  line = gw_log_event_to_line (ev, GW_LOG_FORMAT_JSON, "done");

  ck_assert_ptr_nonnull (strstr (line, "\"event\":\"conn_closed\""));
  ck_assert_ptr_nonnull (strstr (line, "\"level\":\"info\""));
  ck_assert_ptr_nonnull (strstr (line, "\"peer\":\"a\\\"b\\\\c\\nd\\u0001\""));
  ck_assert_ptr_nonnull (strstr (line, "\"bytes_in\":-42"));
  ck_assert_ptr_nonnull (strstr (line, "\"tls\":true"));
  ck_assert_ptr_nonnull (strstr (line, "\"bad_utf8\":\"x\\ufffdy\""));
  ck_assert_ptr_nonnull (strstr (line, "\"msg\":\"done\"}"));
  ck_assert_ptr_null (strchr (line, '\n'));
  ck_assert_int_eq (line[0], '{');
}
END_TEST

START_TEST (test_text_format)
{
  g_autoptr (GwLogEvent) ev =
      gw_log_event_new (G_LOG_LEVEL_WARNING, "auth_failed");
  g_autofree char *line = NULL;

  gw_log_event_add_str (ev, "user", "alice");
  gw_log_event_add_str (ev, "reason", "bad response");
  line = gw_log_event_to_line (ev, GW_LOG_FORMAT_TEXT, "AUTH failed");
  ck_assert_ptr_nonnull (
      strstr (line, " warning auth_failed user=alice "
                    "reason=\"bad response\" msg=\"AUTH failed\""));
}
END_TEST

static const struct
{
  const char *text;
  gboolean ok;
  GLogLevelFlags level;
} level_cases[] = {
  { "debug", TRUE, G_LOG_LEVEL_DEBUG },
  { "INFO", TRUE, G_LOG_LEVEL_INFO },
  { "notice", TRUE, G_LOG_LEVEL_MESSAGE },
  { "warning", TRUE, G_LOG_LEVEL_WARNING },
  { "error", TRUE, G_LOG_LEVEL_CRITICAL },
  { "verbose", FALSE, 0 },
  { "", FALSE, 0 },
};

START_TEST (test_level_parse)
{
  GLogLevelFlags level = 0;
  g_autoptr (GError) error = NULL;
  gboolean ok = gw_log_level_parse (level_cases[_i].text, &level, &error);

  ck_assert_int_eq (ok, level_cases[_i].ok);
  if (ok)
    ck_assert_int_eq (level, level_cases[_i].level);
  else
    ck_assert_ptr_nonnull (strstr (error->message, level_cases[_i].text));
}
END_TEST

START_TEST (test_format_parse)
{
  GwLogFormat f;
  g_autoptr (GError) error = NULL;

  ck_assert (gw_log_format_parse ("json", &f, NULL) &&
             f == GW_LOG_FORMAT_JSON);
  ck_assert (gw_log_format_parse ("text", &f, NULL) &&
             f == GW_LOG_FORMAT_TEXT);
  ck_assert (!gw_log_format_parse ("xml", &f, &error));
  ck_assert_ptr_nonnull (strstr (error->message, "'xml'"));
}
END_TEST

/* stderr into a pipe for the duration of a test. */
static int saved_stderr = -1;
static int pipe_rd = -1;

static void
capture_start (void)
{
  int fds[2];

  ck_assert_int_eq (pipe2 (fds, O_NONBLOCK | O_CLOEXEC), 0);
  saved_stderr = dup (STDERR_FILENO);
  dup2 (fds[1], STDERR_FILENO);
  close (fds[1]);
  pipe_rd = fds[0];
}

/* What stderr received since the last call. */
static char *
captured (void)
{
  GString *out = g_string_new (NULL);
  char buf[4096];
  ssize_t n;

  while ((n = read (pipe_rd, buf, sizeof buf)) > 0)
    g_string_append_len (out, buf, n);
  return g_string_free (out, FALSE);
}

static void
capture_stop (void)
{
  dup2 (saved_stderr, STDERR_FILENO);
  close (saved_stderr);
  close (pipe_rd);
}

static void
emit (GLogLevelFlags level, const char *event)
{
  g_autoptr (GwLogEvent) ev = gw_log_event_new (level, event);

  gw_log_event_add_int (ev, "n", 1);
  gw_log_event_emit (ev, "%s", event);
}

/* Issue 10: the level is checked before anything is built, and lines
 * leave once per turn of the loop when the stream is attached to one;
 * warnings at once; gw_log_flush() leaves nothing behind. */
START_TEST (test_buffered)
{
  GMainContext *ctx = g_main_context_new ();
  g_autofree char *got = NULL;

  g_main_context_push_thread_default (ctx);
  capture_start ();
  gw_log_init (GW_LOG_FORMAT_JSON, G_LOG_LEVEL_INFO, "t");
  ck_assert_ptr_null (gw_log_event_new (G_LOG_LEVEL_DEBUG, "quiet"));
  emit (G_LOG_LEVEL_DEBUG, "quiet");
  emit (G_LOG_LEVEL_INFO, "first");
  g_free (captured ()); /* not attached yet: written at once */
  gw_log_attach (net_loop_get_default ());
  emit (G_LOG_LEVEL_INFO, "second");
  emit (G_LOG_LEVEL_INFO, "third");
  got = captured ();
  ck_assert_str_eq (got, "");
  /* One turn of the loop: both lines. */
  g_main_context_iteration (ctx, FALSE);
  g_free (got);
  got = captured ();
  ck_assert_ptr_nonnull (strstr (got, "\"event\":\"second\""));
  ck_assert_ptr_nonnull (strstr (got, "\"event\":\"third\""));
  ck_assert_ptr_null (strstr (got, "quiet"));
  ck_assert_int_eq (got[strlen (got) - 1], '\n');
  /* A warning does not wait, nor what was before it. */
  emit (G_LOG_LEVEL_INFO, "fourth");
  emit (G_LOG_LEVEL_WARNING, "trouble");
  g_free (got);
  got = captured ();
  ck_assert_ptr_nonnull (strstr (got, "fourth"));
  ck_assert_ptr_nonnull (strstr (got, "trouble"));
  emit (G_LOG_LEVEL_INFO, "last");
  gw_log_flush ();
  g_free (got);
  got = captured ();
  ck_assert_ptr_nonnull (strstr (got, "last"));
  capture_stop ();
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("gw-log");
  TCase *tc = tcase_create ("format");
  SRunner *sr;
  int failed;

  tcase_add_test (tc, test_json_escapes_and_types);
  tcase_add_test (tc, test_text_format);
  tcase_add_loop_test (tc, test_level_parse, 0, G_N_ELEMENTS (level_cases));
  tcase_add_test (tc, test_format_parse);
  tcase_add_test (tc, test_buffered);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
