/* Check suite for the users file (gateway/gw-users.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "gw-users.h"
#include "guard.h"

#define MD5_A                                                                 \
  "939e7578ed9e3c518a452acee763bce9" /* Mufasa:testrealm@host.com:Circle Of   \
                                        Life */
#define SHA_A                                                                 \
  "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232"

static const struct
{
  const char *name;
  const char *text;
  const char *error_part; /* NULL: must load */
  guint count;            /* lines loaded when it loads */
} cases[] = {
  { "empty", "", NULL, 0 },
  { "comments and blanks", "# users\n\n   \n\t# indented comment\n", NULL, 0 },
  { "one md5", "alice:relay:" MD5_A "\n", NULL, 1 },
  { "no final newline", "alice:relay:" MD5_A, NULL, 1 },
  { "crlf and trailing blanks", "alice:relay:" MD5_A " \r\n", NULL, 1 },
  { "md5 and sha256 for one user",
    "alice:relay:" MD5_A "\nalice:relay:" SHA_A "\n", NULL, 2 },
  { "two realms", "alice:relay:" MD5_A "\nalice:other:" MD5_A "\n", NULL, 2 },
  { "upper-case hex", "bob:relay:939E7578ED9E3C518A452ACEE763BCE9\n", NULL,
    1 },
  { "locked", "carol:relay:!" MD5_A "\n", NULL, 1 },
  { "utf-8 user", "j\xc3\xbcrgen:relay:" MD5_A "\n", NULL, 1 },
  { "no colon", "alice\n", "test:1: not user:realm:HA1 (no ':')", 0 },
  { "one colon", "\nalice:" MD5_A "\n",
    "test:2: not user:realm:HA1 (only one ':')", 0 },
  { "empty user", ":relay:" MD5_A "\n", "test:1: user name is empty", 0 },
  { "empty realm", "alice::" MD5_A "\n", "test:1: realm is empty", 0 },
  { "short ha1", "# c\nalice:relay:939e7578ed9e3c518a452acee763bce\n",
    "test:2: HA1 has 31 hex digits; MD5 needs 32, SHA-256 64", 0 },
  { "empty ha1", "alice:relay:\n", "test:1: HA1 has 0 hex digits", 0 },
  { "non-hex ha1", "alice:relay:939e7578ed9e3c518a452acee763bcZ9\n",
    "test:1: HA1 holds 'Z', which is not a hex digit", 0 },
  { "four fields", "alice:relay:x:" MD5_A "\n", "test:1: HA1 holds 'x'", 0 },
  { "password in clear", "alice:relay:secret\n", "HA1 holds 's'", 0 },
  { "duplicate",
    "alice:relay:" MD5_A "\nbob:relay:" MD5_A "\nalice:relay:" MD5_A "\n",
    "test:3: second MD5 line for user 'alice' in realm 'relay'", 0 },
  { "control char in user", "al\x01ice:relay:" MD5_A "\n",
    "test:1: user name holds a control character", 0 },
  { "invalid utf-8 realm", "alice:re\xfflay:" MD5_A "\n",
    "test:1: realm is not UTF-8", 0 },
  /* U+0085 (NEL), a C1 control: found by fuzz-users in a duplicate-line
   * error, which quoted it into the log. */
  { "c1 control in user", "\xc2\x85user:relay:" MD5_A "\n",
    "test:1: user name holds a control character", 0 },
  { "del in realm", "alice:re\x7flay:" MD5_A "\n",
    "test:1: realm holds a control character", 0 },
  { "non-control non-ascii", "\xc2\xa0u:\xe2\x82\xac:" MD5_A "\n", NULL, 1 },
  { "error after good lines", "a:r:" MD5_A "\nb:r:" MD5_A "\nc:r:1\n",
    "test:3:", 0 },
};

START_TEST (test_load)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GwUsers) u = NULL;
  GuardBuf buf;

  /* The text ends right before an unreadable page: a read past its end
   * crashes the test. */
  guard_buf_init (&buf, cases[_i].text, strlen (cases[_i].text));
  u = gw_users_load_data ((const char *) buf.data, (gssize) buf.len, "test",
                          &error);
  guard_buf_clear (&buf);

  if (cases[_i].error_part == NULL)
    {
      ck_assert_msg (u != NULL, "%s: %s", cases[_i].name, error->message);
      ck_assert_uint_eq (gw_users_get_count (u), cases[_i].count);
      ck_assert_str_eq (gw_users_get_source (u), "test");
    }
  else
    {
      ck_assert_msg (u == NULL, "%s: loaded", cases[_i].name);
      ck_assert_msg (strstr (error->message, cases[_i].error_part) != NULL,
                     "%s: '%s' lacks '%s'", cases[_i].name, error->message,
                     cases[_i].error_part);
    }
}
END_TEST

START_TEST (test_nul_byte)
{
  static const char text[] = "alice:relay:" MD5_A "\nb\0b:relay:" MD5_A "\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (GwUsers) u =
      gw_users_load_data (text, sizeof text - 1, "t", &error);

  ck_assert_ptr_null (u);
  ck_assert_str_eq (error->message, "t:2: line holds a NUL byte");
}
END_TEST

START_TEST (test_long_line)
{
  g_autofree char *user = g_strnfill (GW_USERS_LINE_MAX, 'u');
  g_autofree char *text = g_strdup_printf ("%s:r:%s\n", user, MD5_A);
  g_autoptr (GError) error = NULL;
  g_autoptr (GwUsers) u = gw_users_load_data (text, -1, "t", &error);

  ck_assert_ptr_null (u);
  ck_assert_str_eq (error->message, "t:1: line longer than 1024 bytes");
}
END_TEST

START_TEST (test_lookup)
{
  const char *text =
      "alice:relay:" MD5_A "\nalice:relay:" SHA_A "\n"
      "bob:other:939E7578ED9E3C518A452ACEE763BCE9\ncarol:relay:!" MD5_A "\n";
  g_autoptr (GwUsers) u = gw_users_load_data (text, -1, "t", NULL);
  gboolean locked = TRUE;

  ck_assert_ptr_nonnull (u);
  ck_assert_str_eq (gw_users_lookup (u, "alice", "relay",
                                     MSRP_DIGEST_ALGORITHM_MD5, &locked),
                    MD5_A);
  ck_assert (!locked);
  ck_assert_str_eq (gw_users_lookup (u, "alice", "relay",
                                     MSRP_DIGEST_ALGORITHM_SHA256, NULL),
                    SHA_A);
  /* Stored lower-case. */
  ck_assert_str_eq (
      gw_users_lookup (u, "bob", "other", MSRP_DIGEST_ALGORITHM_MD5, NULL),
      MD5_A);
  ck_assert_ptr_null (
      gw_users_lookup (u, "bob", "other", MSRP_DIGEST_ALGORITHM_SHA256, NULL));
  ck_assert_ptr_null (
      gw_users_lookup (u, "bob", "relay", MSRP_DIGEST_ALGORITHM_MD5, NULL));
  ck_assert_ptr_null (
      gw_users_lookup (u, "Alice", "relay", MSRP_DIGEST_ALGORITHM_MD5, NULL));
  ck_assert_ptr_null (gw_users_lookup (u, "alice", "relay",
                                       MSRP_DIGEST_ALGORITHM_UNKNOWN, NULL));
  ck_assert_ptr_nonnull (gw_users_lookup (u, "carol", "relay",
                                          MSRP_DIGEST_ALGORITHM_MD5, &locked));
  ck_assert (locked);
  /* A ':' in a looked-up name can never match a line. */
  ck_assert_ptr_null (gw_users_lookup (u, "alice:relay", "relay",
                                       MSRP_DIGEST_ALGORITHM_MD5, NULL));
  ck_assert_ptr_null (
      gw_users_lookup (u, NULL, "relay", MSRP_DIGEST_ALGORITHM_MD5, NULL));
}
END_TEST

/* The provisioning recipe of packaging/msrp-edge.conf gives what Digest
 * computes. */
START_TEST (test_sha256_recipe)
{
  g_autofree char *ha1 = msrp_digest_compute_ha1 (
      MSRP_DIGEST_ALGORITHM_SHA256, "Mufasa", "http-auth@example.org",
      "Circle of Life", NULL);
  g_autofree char *cmd_out = NULL;
  g_autofree char *line = NULL;
  g_autoptr (GwUsers) u = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  ck_assert_ptr_nonnull (ha1);
  ck_assert (g_spawn_command_line_sync (
      "sh -c \"printf 'Mufasa:http-auth@example.org:Circle of Life' "
      "| sha256sum\"",
      &cmd_out, NULL, &status, &error));
  ck_assert_int_eq (status, 0);
  ck_assert (g_str_has_prefix (cmd_out, ha1));
  line = g_strdup_printf ("Mufasa:http-auth@example.org:%.64s\n", cmd_out);
  u = gw_users_load_data (line, -1, "t", &error);
  ck_assert_msg (u != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (gw_users_lookup (u, "Mufasa", "http-auth@example.org",
                                     MSRP_DIGEST_ALGORITHM_SHA256, NULL),
                    ha1);
}
END_TEST

START_TEST (test_file)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GwUsers) u = NULL;
  int fd = g_file_open_tmp ("gw-users-XXXXXX", &path, &error);

  ck_assert_int_ge (fd, 0);
  close (fd);
  ck_assert (g_file_set_contents (path, "alice:relay:" MD5_A "\n", -1, NULL));
  u = gw_users_load (path, &error);
  ck_assert_ptr_nonnull (u);
  ck_assert_str_eq (gw_users_get_source (u), path);
  g_clear_pointer (&u, gw_users_unref);

  ck_assert (g_file_set_contents (path, "alice:relay\n", -1, NULL));
  u = gw_users_load (path, &error);
  ck_assert_ptr_null (u);
  ck_assert (g_str_has_prefix (error->message, path));
  ck_assert_ptr_nonnull (strstr (error->message, ":1: not user:realm:HA1"));
  g_clear_error (&error);
  g_unlink (path);

  u = gw_users_load (path, &error);
  ck_assert_ptr_null (u);
  ck_assert (g_error_matches (error, GW_USERS_ERROR, GW_USERS_ERROR_FILE));
  ck_assert_ptr_nonnull (strstr (error->message, "cannot read users file"));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("gw-users");
  TCase *tc = tcase_create ("users");
  SRunner *sr;
  int failed;

  tcase_add_loop_test (tc, test_load, 0, G_N_ELEMENTS (cases));
  tcase_add_test (tc, test_nul_byte);
  tcase_add_test (tc, test_long_line);
  tcase_add_test (tc, test_lookup);
  tcase_add_test (tc, test_sha256_recipe);
  tcase_add_test (tc, test_file);
  suite_add_tcase (s, tc);
  sr = srunner_create (s);
  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
