/* testresolver.h: a GResolver of the test's own, set as GLib's default
 * (g_resolver_set_default()), so that code that resolves through GLib
 * (gateway/net/net-resolve.c, and what uses it) runs against tables
 * instead of a DNS server, and every query it makes is written down.
 *
 *   TestResolver *dns = test_resolver_install ();
 *   test_resolver_set_srv (dns, "_msrps._tcp.farm.test",
 *                          "10 0 2856 e1.farm.test, 20 0 2857 e2.farm.test");
 *   test_resolver_set_host (dns, "e1.farm.test", "198.51.100.2");
 *   ...
 *   ck_assert_str_eq (test_resolver_get_log (dns),
 *                     "SRV _msrps._tcp.farm.test\nA edge1.farm.test\n...");
 *
 * Answers: for a host, addresses separated by spaces; for SRV records,
 * "PRIORITY WEIGHT PORT TARGET" items separated by commas; or "!notfound"
 * (also what a name without an entry gets) or "!temporary", the errors
 * GLib's resolver gives for NXDOMAIN/no data and for a server failure.
 * An answer that starts "@MS " comes MS milliseconds late (a timeout
 * source on the thread-default context); otherwise at the next iteration,
 * as GTask delivers.  Only lookup_by_name_async() and
 * lookup_records_async() (SRV) are served. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TEST_TYPE_RESOLVER (test_resolver_get_type ())
G_DECLARE_FINAL_TYPE (TestResolver, test_resolver, TEST, RESOLVER, GResolver)

/* A new resolver, made GLib's default (which keeps a reference: it stays
 * the default until another is set).  (transfer full) */
TestResolver *test_resolver_install (void);

/* Set the answer for a host name or an SRV name (both copied). */
void test_resolver_set_host (TestResolver *self, const char *name,
                             const char *answer);
void test_resolver_set_srv (TestResolver *self, const char *rrname,
                            const char *answer);

/* The queries so far, one a line: "A NAME" (A/AAAA), "SRV RRNAME".
 * (transfer none) */
const char *test_resolver_get_log (TestResolver *self);
void test_resolver_clear_log (TestResolver *self);

G_END_DECLS
