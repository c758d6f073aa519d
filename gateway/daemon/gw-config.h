/* gw-config.h: the daemon's configuration (a GKeyFile).
 *
 * Every key is documented in packaging/msrp-edge.conf.  Loading validates the
 * whole file; an error names the group, the key and the problem, e.g.
 * "[relay] expires-max: 10 is less than expires-min (60)".  Unknown groups and
 * keys are errors too, so a typo never silently falls back to a default. */
#pragma once

#include <gio/gio.h>
#include "gw-log.h"
#include "net-cidr.h"
#include "net-conn.h"

G_BEGIN_DECLS

#define GW_CONFIG_ERROR (gw_config_error_quark ())
GQuark gw_config_error_quark (void);

typedef enum
{
  GW_CONFIG_ERROR_FILE,    /* unreadable, or not a key file */
  GW_CONFIG_ERROR_UNKNOWN, /* unknown group or key */
  GW_CONFIG_ERROR_VALUE,   /* a value of the wrong form or out of range */
} GwConfigError;

typedef struct
{
  /* [gateway] */
  char *public_host; /* host written into relay URIs */
  char *name;        /* instance name in the log stream */
  /* [listen]: GPtrArray of GSocketAddress each */
  GPtrArray *listen_msrp;
  GPtrArray *listen_msrps;
  GPtrArray *listen_control;
  GPtrArray *listen_http; /* Prometheus /metrics; empty: none */
  /* [tls] */
  char *tls_certificate;
  char *tls_private_key;
  char *tls_ca_file;
  gboolean tls_verify_relays;
  /* [auth] */
  char *auth_realm;
  char *auth_users_file;
  guint auth_throttle_address_failures; /* free failures; 0: off */
  guint auth_throttle_user_failures;
  guint auth_throttle_window;      /* seconds */
  guint auth_throttle_backoff_max; /* seconds */
  guint auth_throttle_entries;     /* per table */
  /* [relay], seconds */
  guint expires_min;
  guint expires_default;
  guint expires_max;
  guint report_timeout;
  guint probation;
  guint max_sessions_per_connection; /* AUTH sessions, not seconds */
  guint max_sessions_per_user;
  NetCidrList *next_hop_allow; /* gw-connect-policy.h; empty by default */
  NetCidrList *next_hop_deny;
  /* [limits] */
  guint max_connections;
  guint max_connections_per_ip;
  guint max_header_bytes;
  guint idle_timeout;
  guint max_calls;     /* the call table's size (ng: load limit beyond) */
  guint drain_timeout; /* seconds SIGTERM waits for live calls; 0: none */
  guint first_request_timeout; /* seconds */
  /* [keepalive], seconds (README.md "Standing connections") */
  guint keepalive_tcp_idle; /* 0: no TCP keep-alives */
  guint keepalive_tcp_interval;
  guint keepalive_tcp_count;
  guint keepalive_msrp_interval;
  /* [negotiator] */
  int neg_policy;             /* GwNegPolicy (gw-negotiator.h) */
  guint call_timeout;         /* seconds */
  guint reachability_ttl;     /* seconds, 0: measured facts not kept */
  NetCidrList *connect_allow; /* gw-connect-policy.h; empty by default */
  NetCidrList *connect_deny;
  /* [ice] */
  gboolean ice_enabled;
  GPtrArray *ice_addresses; /* GInetAddress; empty: libnice's choice */
  guint ice_port_min, ice_port_max;
  GPtrArray *ice_stun_server; /* GSocketAddress, at most one */
  GPtrArray *ice_turn_server;
  char *ice_turn_username;
  char *ice_turn_password;
  guint ice_timeout; /* seconds */
  /* [cema]: the ports of anchored streams (gw-anchor.h) */
  gboolean cema_enabled;     /* FALSE: CEMA offers get the other plans */
  GPtrArray *cema_addresses; /* GInetAddress; empty: the msrp listeners' */
  guint cema_port_min, cema_port_max;
  /* [log] */
  GwLogFormat log_format;
  GLogLevelFlags log_level;

  char *source; /* the file it came from, or "embedded default" */
} GwConfig;

/* The embedded default: msrp on 127.0.0.1:2855, control on 127.0.0.1:2223,
 * no TLS.  (transfer full) */
G_GNUC_WARN_UNUSED_RESULT
GwConfig *gw_config_new_default (void);

/* Load and validate @path on top of the defaults.
 * Returns: (transfer full) (nullable): NULL with @error naming the problem. */
G_GNUC_WARN_UNUSED_RESULT
GwConfig *gw_config_load (const char *path, GError **error);
/* The same from text in memory (tests); @source names it in errors. */
G_GNUC_WARN_UNUSED_RESULT
GwConfig *gw_config_load_data (const char *data, gsize len, const char *source,
                               GError **error);

/* The options of every MSRP connection the relay accepts or opens: the
 * idle timeout ([limits] idle-timeout), TCP keep-alives ([keepalive]
 * tcp-*), and TCP_USER_TIMEOUT at the time the keep-alives take to find
 * a dead peer (tcp-idle + tcp-interval x tcp-count), so that data sent
 * into a dead connection fails as soon as silence does. */
void gw_config_conn_options (const GwConfig *config, NetConnOptions *options);

void gw_config_free (GwConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GwConfig, gw_config_free)

G_END_DECLS
