/* Check suite for the sd_notify messages (gateway/daemon/gw-notify.c): a
 * unix datagram socket of the test's own plays the service manager, as
 * systemd's NOTIFY_SOCKET is. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gw-notify.h"
#include "logtap.h"
#include "testloop.h"

static int manager = -1; /* the socket NOTIFY_SOCKET names */
static char *dir;
static guint status_calls;

static char *
status_text (gpointer data)
{
  status_calls++;
  /* A newline must not end the STATUS= assignment early. */
  return g_strdup_printf ("%s\nsecond line", (const char *) data);
}

static void
setup (void)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  g_autofree char *path = NULL;

  testloop_start ();
  logtap_start ();
  dir = g_dir_make_tmp ("gw-notify-XXXXXX", NULL);
  ck_assert_ptr_nonnull (dir);
  path = g_build_filename (dir, "notify", NULL);
  g_strlcpy (sa.sun_path, path, sizeof sa.sun_path);
  manager = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  ck_assert_int_ge (manager, 0);
  ck_assert_int_eq (bind (manager, (struct sockaddr *) &sa, sizeof sa), 0);
  g_setenv ("NOTIFY_SOCKET", path, TRUE);
  g_unsetenv ("WATCHDOG_USEC");
  g_unsetenv ("WATCHDOG_PID");
  status_calls = 0;
}

static void
teardown (void)
{
  g_autofree char *path = g_build_filename (dir, "notify", NULL);

  close (manager);
  unlink (path);
  rmdir (dir);
  g_clear_pointer (&dir, g_free);
  g_unsetenv ("NOTIFY_SOCKET");
  testloop_stop ();
  logtap_stop ();
}

/* The next message the manager got, or NULL when none waits. */
static char *
next_message (void)
{
  char buf[4096];
  ssize_t n = recv (manager, buf, sizeof buf - 1, 0);

  if (n < 0)
    {
      ck_assert_int_eq (errno, EAGAIN);
      return NULL;
    }
  buf[n] = '\0';
  return g_strdup (buf);
}

START_TEST (test_lifecycle)
{
  g_autoptr (GwNotify) n = gw_notify_new (status_text, "3 connections");
  g_autofree char *ready = NULL;
  g_autofree char *reloading = NULL;
  g_autofree char *again = NULL;
  g_autofree char *stopping = NULL;
  g_autofree char *none = NULL;

  ck_assert (gw_notify_is_enabled (n));
  ck_assert_uint_eq (gw_notify_get_watchdog_usec (n), 0);

  gw_notify_ready (n);
  ready = next_message ();
  ck_assert_str_eq (ready, "READY=1\nSTATUS=3 connections second line");

  gw_notify_reloading (n);
  reloading = next_message ();
  ck_assert_ptr_nonnull (reloading);
  ck_assert (g_str_has_prefix (reloading, "RELOADING=1\nMONOTONIC_USEC="));
  ck_assert (g_str_has_suffix (reloading, "\nSTATUS=reloading"));
  gw_notify_ready (n);
  again = next_message ();
  ck_assert (g_str_has_prefix (again, "READY=1\n"));

  gw_notify_stopping (n);
  stopping = next_message ();
  ck_assert_str_eq (stopping, "STOPPING=1\nSTATUS=3 connections second line");
  none = next_message ();
  ck_assert_ptr_null (none);
  ck_assert_uint_eq (logtap_count ("notify_failed", NULL), 0);
}
END_TEST

/* STATUS= comes again every GW_NOTIFY_STATUS_INTERVAL_S after READY=1,
 * and no longer once stopping. */
START_TEST (test_status_refreshed)
{
  g_autoptr (GwNotify) n = gw_notify_new (status_text, "idle");
  g_autofree char *ready = NULL;
  g_autofree char *status = NULL;
  g_autofree char *stopping = NULL;
  g_autofree char *none = NULL;

  gw_notify_ready (n);
  ready = next_message ();
  ck_assert_ptr_nonnull (ready);
  RUN_UNTIL (status_calls == 2, GW_NOTIFY_STATUS_INTERVAL_S * 1000 + 2000);
  status = next_message ();
  ck_assert_str_eq (status, "STATUS=idle second line");
  gw_notify_stopping (n);
  stopping = next_message ();
  ck_assert_ptr_nonnull (stopping);
  testloop_run_for (GW_NOTIFY_STATUS_INTERVAL_S * 1000 + 500);
  none = next_message ();
  ck_assert_ptr_null (none);
}
END_TEST

/* WatchdogSec=: WATCHDOG=1 at half the interval, from the main context. */
START_TEST (test_watchdog)
{
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  g_autoptr (GwNotify) n = NULL;
  guint pings = 0;
  gint64 start;

  g_setenv ("WATCHDOG_USEC", "200000", TRUE);
  g_setenv ("WATCHDOG_PID", pid, TRUE);
  n = gw_notify_new (status_text, "x");
  ck_assert_uint_eq (gw_notify_get_watchdog_usec (n), 200000);
  start = g_get_monotonic_time ();
  while (pings < 3)
    {
      g_autofree char *m = NULL;

      testloop_iterate ();
      m = next_message ();
      if (m == NULL)
        continue;
      ck_assert_str_eq (m, "WATCHDOG=1");
      pings++;
    }
  /* Three pings at 100 ms each: well within the 200 ms interval. */
  ck_assert_int_lt (g_get_monotonic_time () - start, 1000000);
}
END_TEST

/* A watchdog meant for another process (WATCHDOG_PID) is not ours. */
START_TEST (test_watchdog_other_pid)
{
  g_autoptr (GwNotify) n = NULL;

  g_setenv ("WATCHDOG_USEC", "200000", TRUE);
  g_setenv ("WATCHDOG_PID", "1", TRUE);
  n = gw_notify_new (status_text, "x");
  ck_assert_uint_eq (gw_notify_get_watchdog_usec (n), 0);
}
END_TEST

/* Outside systemd: nothing is sent, no timer runs. */
START_TEST (test_disabled)
{
  g_autoptr (GwNotify) n = NULL;
  g_autofree char *none = NULL;

  g_unsetenv ("NOTIFY_SOCKET");
  g_setenv ("WATCHDOG_USEC", "200000", TRUE);
  n = gw_notify_new (status_text, "x");
  ck_assert (!gw_notify_is_enabled (n));
  ck_assert_uint_eq (gw_notify_get_watchdog_usec (n), 0);
  gw_notify_ready (n);
  gw_notify_reloading (n);
  gw_notify_stopping (n);
  ck_assert_uint_eq (status_calls, 0);
  none = next_message ();
  ck_assert_ptr_null (none);
}
END_TEST

/* A manager that went away: logged once, not on every message. */
START_TEST (test_send_failure_logged_once)
{
  g_autofree char *gone = g_build_filename (dir, "gone", NULL);
  g_autoptr (GwNotify) n = NULL;

  g_setenv ("NOTIFY_SOCKET", gone, TRUE);
  n = gw_notify_new (status_text, "x");
  gw_notify_ready (n);
  gw_notify_reloading (n);
  gw_notify_stopping (n);
  ck_assert_uint_eq (logtap_count ("notify_failed", "\"reason\":", NULL), 1);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("gw-notify");
  TCase *tc = tcase_create ("core");
  SRunner *sr;
  int failed;

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_lifecycle);
  tcase_add_test (tc, test_status_refreshed);
  tcase_add_test (tc, test_watchdog);
  tcase_add_test (tc, test_watchdog_other_pid);
  tcase_add_test (tc, test_disabled);
  tcase_add_test (tc, test_send_failure_logged_once);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed != 0 ? 1 : 0;
}
