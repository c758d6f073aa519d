/* mc-session.h: what the parts of msrpcat share: the command line
 * (McConfig), this endpoint's identity and paths, the counters of what
 * happened (McStats), and the summary printed at the end.
 *
 * Paths (RFC 4975 section 7.1, RFC 4976 section 5.1):
 *
 *   local_uri   this endpoint's own MSRP URI (From-Path of what it sends)
 *   use_path    the Use-Path of the last AUTH (RFC 4976 section 5.1: "after
 *               the outermost authentication"), empty without relays
 *   peer_path   the peer's a=path (--to-path), or the From-Path of the
 *               request that bound a passive endpoint's connection
 *   To-Path     use_path followed by peer_path
 *   a=path      use_path reversed, followed by local_uri: what the peer
 *               must be given (--print-use-path prints it)
 */
#pragma once

#include <gio/gio.h>

#include "msrp-head.h"
#include "msrp-headers.h"
#include "msrp-uri.h"

G_BEGIN_DECLS

/* Exit statuses (documented in msrpcat(1)). */
typedef enum
{
  MC_EXIT_OK = 0,
  MC_EXIT_PROTOCOL = 1, /* non-200 response, Failure REPORT, AUTH
                         * refused, message failed */
  MC_EXIT_USAGE = 2,
  MC_EXIT_CONNECTION = 3, /* cannot connect or listen, TLS failure,
                           * connection lost before the end */
  MC_EXIT_TIMEOUT = 4,
} McExit;

typedef struct
{
  /* identity and roles */
  char *local_uri; /* --local-uri */
  char *to_path;   /* --to-path */
  char *listen;    /* --listen host:port: passive role */
  gboolean keep;   /* --keep: accept any number of connections */
  gboolean tls;    /* --tls: serve TLS on --listen */
  char *ca_file;
  char *cert;
  char *key;
  gboolean insecure;
  /* relays */
  char **relays; /* --relay, in order */
  char *user;
  char *password; /* --password or $MSRPCAT_PASSWORD */
  char *ha1;
  guint32 expires; /* --expires, 0: none asked */
  gboolean print_use_path;
  /* sending */
  char **messages;    /* --message */
  char *file;         /* --file */
  gboolean use_stdin; /* nothing else to send: stdin is the message */
  char *content_type; /* NULL: per source */
  guint64 chunk_size;
  MsrpReportMode success_report;
  MsrpReportMode failure_report;
  gboolean success_report_set;
  gboolean failure_report_set;
  guint count;
  gint64 interval_us;
  guint window; /* outstanding SEND transactions, 0: any */
  gboolean bind;
  gint64 timeout_us; /* sender: waiting for responses and reports;
                      * receiver: 0 waits forever */
  gboolean timeout_set;
  /* receiving */
  gboolean receive;
  char *output_dir;
  guint64 max_size;    /* 0: no limit */
  char **accept_types; /* NULL: everything */
  guint expect;        /* 0: until the connection closes */
  guint64 max_buffer;  /* reassembly ceiling */
  /* load */
  guint bench_chat; /* messages, 0: not a benchmark */
  double rate;      /* messages per second, 0: as fast as allowed */
  /* SDP mode (mc-sdp.h) and ICE */
  char *sdp_out;         /* --sdp-out: write our SDP here */
  char *sdp_in;          /* --sdp-in: read the peer's SDP here */
  gboolean answer;       /* --answer: the peer offered */
  char *sdp_address;     /* --sdp-address: c= and a=path host */
  char *setup;           /* --setup as given */
  gboolean ice;          /* --ice */
  char **ice_addresses;  /* --ice-address */
  char *stun;            /* --stun HOST:PORT */
  gint64 ice_timeout_us; /* --ice-timeout */
  gboolean cema;         /* --cema: RFC 6714 */
  gboolean fingerprint;  /* --fingerprint: RFC 8122 authentication */
  /* output */
  gboolean json;
  gboolean quiet;
  gboolean verbose;
} McConfig;

#define MC_DEFAULT_CHUNK_SIZE 2048
#define MC_DEFAULT_TIMEOUT_S 30
#define MC_DEFAULT_ICE_TIMEOUT_S 10
#define MC_DEFAULT_MAX_BUFFER (128 * 1024 * 1024)
/* Received messages listed one by one in the JSON summary. */
#define MC_SUMMARY_MESSAGES_MAX 1000

typedef struct
{
  char *message_id;
  char *content_type;
  guint64 bytes;
  char *file; /* nullable: written to stdout */
} McReceived;

typedef struct
{
  /* sending */
  guint64 messages_sent; /* messages whose last chunk was written */
  guint64 bytes_sent;    /* body bytes */
  guint64 chunks_sent;
  guint64 messages_delivered; /* every chunk answered 200 (Failure-Report
                               * yes) or success-reported */
  guint responses_in[1000];   /* by status code */
  guint success_reports_in;
  guint failure_reports_in;
  guint last_failure_code;
  GArray *latency_us; /* gint64: SEND end-line written -> 200 */
  /* receiving */
  guint64 messages_received; /* delivered to stdout or a file */
  guint64 bytes_received;
  guint64 chunks_received;
  guint64 binds_received; /* bodiless SENDs */
  guint64 messages_failed;
  guint64 messages_interrupted;
  guint64 duplicates;
  guint responses_out[1000];
  guint success_reports_out;
  guint failure_reports_out;
  GArray *arrival_latency_us; /* gint64: bench timestamp -> delivery */
  GPtrArray *received;        /* McReceived, at most
                               * MC_SUMMARY_MESSAGES_MAX */
  gboolean received_truncated;
  /* times (g_get_monotonic_time) */
  gint64 start_time;
  gint64 ready_time;      /* connected (and authenticated) */
  gint64 first_byte_time; /* first body byte sent or received */
  gint64 end_time;
  guint64 auth_expires; /* Expires of the last AUTH 200 */
  gboolean auth_expires_set;
} McStats;

/* The selected ICE candidate pair (RFC 8445 section 8.1), for the
 * summary: types "host", "srflx", "prflx", "relay"; tcptypes "active",
 * "passive", "so" (RFC 6544); addresses "ip:port". */
typedef struct
{
  char *local_type, *remote_type;
  char *local_tcptype, *remote_tcptype;
  char *local_address, *remote_address;
} McIceInfo;

typedef struct
{
  const McConfig *config;
  /* How the connection was made, for the summary (msrpcat.c fills them;
   * all nullable): the transport ("tcp", "tls", "ice-tcp"); in SDP mode
   * the role taken ("active": binds with its first SEND; "passive") and
   * the a=setup values written ("none": no line); with ICE the pair. */
  char *transport;
  char *sdp_role;
  char *sdp_setup;
  char *peer_setup;
  McIceInfo *ice;
  /* RFC 6714: both SDPs carry a=msrp-cema (the active end connected to
   * the c=/m= address). */
  gboolean cema;
  /* RFC 6714 section 4.4 setting: requests are ours by the session-id of
   * their To-Path alone (the connection came through a middlebox's
   * address, and only the session-id identifies the session). */
  gboolean match_session_id;
  /* Fingerprint authentication (RFC 8122): ours and the peer's as
   * "sha-256 4A:AD:..." (nullable), and whether the peer's certificate
   * matched its a=fingerprint. */
  char *fingerprint_local;
  char *fingerprint_peer;
  gboolean fingerprint_verified;
  MsrpUri *local_uri;   /* NULL until known (active: after connect) */
  GPtrArray *use_path;  /* MsrpUri; empty without relays */
  GPtrArray *peer_path; /* MsrpUri; NULL until known */
  McStats stats;
  int exit_code;
  char *error_message; /* the first failure, nullable */
  gboolean stdout_at_line_start;
} McSession;

/* Returns: (transfer full) */
McSession *mc_session_new (const McConfig *config);
void mc_session_free (McSession *session);
void mc_ice_info_free (McIceInfo *info);

/* The To-Path for requests to the peer: use_path + peer_path.
 * Returns: (transfer full) (nullable): NULL while the peer path is unknown */
GPtrArray *mc_session_get_to_path (McSession *session);
/* (transfer full): [local_uri] */
GPtrArray *mc_session_get_from_path (McSession *session);
/* (transfer full): the a=path value: use_path reversed, then local_uri */
char *mc_session_get_sdp_path (McSession *session);

/* Is @head (a request) addressed to this endpoint: exactly one URI in its
 * To-Path, equal to local_uri under RFC 4975 section 6.1 (section 7.3:
 * "the To-Path will have exactly one URI, which MUST map to an existing
 * session"), or, with match_session_id, of the same session-id? */
gboolean mc_session_is_for_us (McSession *session, MsrpHead *head);

/* Record the first failure: @code becomes the exit status, the message is
 * printed on stderr as "msrpcat: ...".  Later failures are printed only. */
void mc_session_fail (McSession *session, int code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

/* Write @data to stdout (messages), remembering whether a line is open. */
void mc_session_write_stdout (McSession *session, const void *data, gsize len);

/* "sent ... , received ..." in plain words, one line, for stderr.
 * (transfer full) */
char *mc_session_summary_text (McSession *session);
/* The one-line JSON summary (no newline).  (transfer full) */
char *mc_session_summary_json (McSession *session);

/* A random session id / Message-ID style token.  (transfer full) */
char *mc_session_new_id (void);

G_END_DECLS
