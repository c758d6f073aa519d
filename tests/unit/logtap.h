/* logtap.h: the log stream of the code under test, captured line by line
 * (gw_log_set_tap()) for a unit test to count events in. */
#pragma once

#include <glib.h>

/* Start capturing.  Returns: (transfer none): the JSON lines so far, valid
 * until logtap_stop(). */
GPtrArray *logtap_start (void);
/* Stop capturing and forget the lines. */
void logtap_stop (void);

/* How many captured lines are events @event holding every one of the
 * NULL-terminated fragments. */
guint logtap_count (const char *event, ...) G_GNUC_NULL_TERMINATED;
