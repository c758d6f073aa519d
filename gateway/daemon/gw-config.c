#include "gw-config.h"

#include <stddef.h>
#include <string.h>

#include "net-addr.h"
#include "gw-negotiator.h"

GQuark
gw_config_error_quark (void)
{
  return g_quark_from_static_string ("gw-config-error-quark");
}

typedef enum
{
  KEY_STRING,
  KEY_PATH, /* a string naming a file; checked readable at load */
  KEY_ADDRS,
  KEY_BOOL,
  KEY_UINT,
  KEY_LOG_FORMAT,
  KEY_LOG_LEVEL,
  KEY_POLICY,
  KEY_IPS,   /* ';'-separated IP addresses, no ports */
  KEY_CIDRS, /* ';'-separated address ranges (net-cidr.h) */
} KeyType;

typedef struct
{
  const char *group;
  const char *key;
  KeyType type;
  gsize offset;
  guint min, max; /* KEY_UINT */
} KeySpec;

#define F(field) offsetof (GwConfig, field)

/* Every key the file may hold.  packaging/msrp-edge.conf documents each. */
static const KeySpec keys[] = {
  { "gateway", "public-host", KEY_STRING, F (public_host), 0, 0 },
  { "gateway", "name", KEY_STRING, F (name), 0, 0 },
  { "listen", "msrp", KEY_ADDRS, F (listen_msrp), 0, 0 },
  { "listen", "msrps", KEY_ADDRS, F (listen_msrps), 0, 0 },
  { "listen", "control", KEY_ADDRS, F (listen_control), 0, 0 },
  { "listen", "http", KEY_ADDRS, F (listen_http), 0, 0 },
  { "tls", "certificate", KEY_PATH, F (tls_certificate), 0, 0 },
  { "tls", "private-key", KEY_PATH, F (tls_private_key), 0, 0 },
  { "tls", "ca-file", KEY_PATH, F (tls_ca_file), 0, 0 },
  { "tls", "verify-relays", KEY_BOOL, F (tls_verify_relays), 0, 0 },
  { "auth", "realm", KEY_STRING, F (auth_realm), 0, 0 },
  { "auth", "users-file", KEY_PATH, F (auth_users_file), 0, 0 },
  { "auth", "throttle-address-failures", KEY_UINT,
    F (auth_throttle_address_failures), 0, 1000000 },
  { "auth", "throttle-user-failures", KEY_UINT,
    F (auth_throttle_user_failures), 0, 1000000 },
  { "auth", "throttle-window", KEY_UINT, F (auth_throttle_window), 1, 604800 },
  { "auth", "throttle-backoff-max", KEY_UINT, F (auth_throttle_backoff_max), 1,
    86400 },
  { "auth", "throttle-entries", KEY_UINT, F (auth_throttle_entries), 1,
    10000000 },
  { "relay", "expires-min", KEY_UINT, F (expires_min), 1, 604800 },
  { "relay", "expires-default", KEY_UINT, F (expires_default), 1, 604800 },
  { "relay", "expires-max", KEY_UINT, F (expires_max), 1, 604800 },
  { "relay", "report-timeout", KEY_UINT, F (report_timeout), 1, 3600 },
  { "relay", "probation", KEY_UINT, F (probation), 1, 3600 },
  { "relay", "max-sessions-per-connection", KEY_UINT,
    F (max_sessions_per_connection), 1, 1000000 },
  { "relay", "max-sessions-per-user", KEY_UINT, F (max_sessions_per_user), 1,
    1000000 },
  { "relay", "next-hop-allow", KEY_CIDRS, F (next_hop_allow), 0, 0 },
  { "relay", "next-hop-deny", KEY_CIDRS, F (next_hop_deny), 0, 0 },
  { "limits", "max-connections", KEY_UINT, F (max_connections), 1, 1000000 },
  { "limits", "max-connections-per-ip", KEY_UINT, F (max_connections_per_ip),
    1, 1000000 },
  { "limits", "max-header-bytes", KEY_UINT, F (max_header_bytes), 1024,
    1048576 },
  { "limits", "idle-timeout", KEY_UINT, F (idle_timeout), 1, 86400 },
  { "limits", "max-calls", KEY_UINT, F (max_calls), 1, 10000000 },
  { "limits", "drain-timeout", KEY_UINT, F (drain_timeout), 0, 604800 },
  { "limits", "first-request-timeout", KEY_UINT, F (first_request_timeout), 1,
    3600 },
  { "keepalive", "tcp-idle", KEY_UINT, F (keepalive_tcp_idle), 0, 7200 },
  { "keepalive", "tcp-interval", KEY_UINT, F (keepalive_tcp_interval), 1,
    600 },
  { "keepalive", "tcp-count", KEY_UINT, F (keepalive_tcp_count), 1, 127 },
  { "keepalive", "msrp-interval", KEY_UINT, F (keepalive_msrp_interval), 1,
    3600 },
  { "negotiator", "policy", KEY_POLICY, F (neg_policy), 0, 0 },
  { "negotiator", "call-timeout", KEY_UINT, F (call_timeout), 1, 604800 },
  { "negotiator", "reachability-ttl", KEY_UINT, F (reachability_ttl), 0,
    604800 },
  { "negotiator", "connect-allow", KEY_CIDRS, F (connect_allow), 0, 0 },
  { "negotiator", "connect-deny", KEY_CIDRS, F (connect_deny), 0, 0 },
  { "ice", "enabled", KEY_BOOL, F (ice_enabled), 0, 0 },
  { "ice", "addresses", KEY_IPS, F (ice_addresses), 0, 0 },
  { "ice", "port-min", KEY_UINT, F (ice_port_min), 0, 65535 },
  { "ice", "port-max", KEY_UINT, F (ice_port_max), 0, 65535 },
  { "ice", "stun-server", KEY_ADDRS, F (ice_stun_server), 0, 0 },
  { "ice", "turn-server", KEY_ADDRS, F (ice_turn_server), 0, 0 },
  { "ice", "turn-username", KEY_STRING, F (ice_turn_username), 0, 0 },
  { "ice", "turn-password", KEY_STRING, F (ice_turn_password), 0, 0 },
  { "ice", "timeout", KEY_UINT, F (ice_timeout), 1, 300 },
  { "cema", "enabled", KEY_BOOL, F (cema_enabled), 0, 0 },
  { "cema", "addresses", KEY_IPS, F (cema_addresses), 0, 0 },
  { "cema", "port-min", KEY_UINT, F (cema_port_min), 0, 65535 },
  { "cema", "port-max", KEY_UINT, F (cema_port_max), 0, 65535 },
  { "log", "format", KEY_LOG_FORMAT, F (log_format), 0, 0 },
  { "log", "level", KEY_LOG_LEVEL, F (log_level), 0, 0 },
};

#undef F

#define FIELD(cfg, spec, type) ((type *) ((char *) (cfg) + (spec)->offset))

GwConfig *
gw_config_new_default (void)
{
  GwConfig *c = g_new0 (GwConfig, 1);

  c->public_host = g_strdup ("127.0.0.1");
  c->name = g_strdup ("msrp-edge");
  c->listen_msrp = net_addr_list_parse ("127.0.0.1:2855", NULL);
  c->listen_msrps = net_addr_list_parse ("", NULL);
  c->listen_control = net_addr_list_parse ("127.0.0.1:2223", NULL);
  c->listen_http = net_addr_list_parse ("", NULL);
  c->tls_verify_relays = TRUE;
  c->auth_realm = NULL; /* defaults to public-host, see below */
  c->auth_throttle_address_failures = 5;
  c->auth_throttle_user_failures = 20;
  c->auth_throttle_window = 600;
  c->auth_throttle_backoff_max = 60;
  c->auth_throttle_entries = 16384;
  c->expires_min = 60;
  c->expires_default = 1800;
  c->expires_max = 86400;
  c->report_timeout = 30;
  c->probation = 30;
  c->max_sessions_per_connection = 16;
  c->max_sessions_per_user = 100;
  c->max_connections = 10000;
  c->max_connections_per_ip = 100;
  c->max_header_bytes = 16384;
  c->idle_timeout = 300;
  c->max_calls = 10000;
  c->drain_timeout = 60;
  c->first_request_timeout = 5;
  /* Below the 30 s after which some NATs forget an idle TCP mapping
   * (README.md "Standing connections" says why these values). */
  c->keepalive_tcp_idle = 25;
  c->keepalive_tcp_interval = 10;
  c->keepalive_tcp_count = 3;
  c->keepalive_msrp_interval = 25;
  c->neg_policy = GW_NEG_POLICY_AUTO;
  c->call_timeout = 3600;
  c->reachability_ttl = 3600;
  c->connect_allow = net_cidr_list_new ();
  c->connect_deny = net_cidr_list_new ();
  c->next_hop_allow = net_cidr_list_new ();
  c->next_hop_deny = net_cidr_list_new ();
  c->ice_enabled = TRUE;
  c->cema_enabled = TRUE;
  c->ice_addresses = g_ptr_array_new_with_free_func (g_object_unref);
  c->ice_stun_server = net_addr_list_parse ("", NULL);
  c->ice_turn_server = net_addr_list_parse ("", NULL);
  c->ice_timeout = 10;
  c->cema_addresses = g_ptr_array_new_with_free_func (g_object_unref);
  c->log_format = GW_LOG_FORMAT_JSON;
  c->log_level = G_LOG_LEVEL_INFO;
  c->source = g_strdup ("embedded default");
  return c;
}

void
gw_config_conn_options (const GwConfig *config, NetConnOptions *options)
{
  g_return_if_fail (config != NULL && options != NULL);
  memset (options, 0, sizeof *options);
  options->idle_timeout_ms = config->idle_timeout * 1000;
  if (config->keepalive_tcp_idle == 0)
    return;
  options->keepalive_idle_s = config->keepalive_tcp_idle;
  options->keepalive_interval_s = config->keepalive_tcp_interval;
  options->keepalive_count = config->keepalive_tcp_count;
  options->user_timeout_ms =
      1000 * (config->keepalive_tcp_idle +
              config->keepalive_tcp_interval * config->keepalive_tcp_count);
}

void
gw_config_free (GwConfig *c)
{
  if (c == NULL)
    return;
  g_free (c->public_host);
  g_free (c->name);
  g_clear_pointer (&c->listen_msrp, g_ptr_array_unref);
  g_clear_pointer (&c->listen_msrps, g_ptr_array_unref);
  g_clear_pointer (&c->listen_control, g_ptr_array_unref);
  g_clear_pointer (&c->listen_http, g_ptr_array_unref);
  g_free (c->tls_certificate);
  g_free (c->tls_private_key);
  g_free (c->tls_ca_file);
  g_free (c->auth_realm);
  g_free (c->auth_users_file);
  g_clear_pointer (&c->connect_allow, net_cidr_list_free);
  g_clear_pointer (&c->connect_deny, net_cidr_list_free);
  g_clear_pointer (&c->next_hop_allow, net_cidr_list_free);
  g_clear_pointer (&c->next_hop_deny, net_cidr_list_free);
  g_clear_pointer (&c->ice_addresses, g_ptr_array_unref);
  g_clear_pointer (&c->ice_stun_server, g_ptr_array_unref);
  g_clear_pointer (&c->ice_turn_server, g_ptr_array_unref);
  g_free (c->ice_turn_username);
  g_free (c->ice_turn_password);
  g_clear_pointer (&c->cema_addresses, g_ptr_array_unref);
  g_free (c->source);
  g_free (c);
}

static const KeySpec *
find_key (const char *group, const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (strcmp (keys[i].group, group) == 0 && strcmp (keys[i].key, key) == 0)
      return &keys[i];
  return NULL;
}

static gboolean
group_known (const char *group)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (strcmp (keys[i].group, group) == 0)
      return TRUE;
  return FALSE;
}

static gboolean value_error (GError **error, const KeySpec *spec,
                             const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
value_error (GError **error, const KeySpec *spec, const char *fmt, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, GW_CONFIG_ERROR, GW_CONFIG_ERROR_VALUE, "[%s] %s: %s",
               spec->group, spec->key, msg);
  return FALSE;
}

/* One parser per KeyType: each checks VALUE (stripped) and stores it in
 * its field, or says why it cannot. */

static gboolean
set_string (GwConfig *c, const KeySpec *spec, char *value, GError **error)
{
  char **slot = FIELD (c, spec, char *);

  if (*value == '\0' && spec->type == KEY_STRING)
    return value_error (error, spec, "must not be empty");
  if (spec->type == KEY_PATH && *value != '\0' &&
      !g_file_test (value, G_FILE_TEST_IS_REGULAR))
    return value_error (error, spec, "'%s' is not a readable file", value);
  g_free (*slot);
  *slot = *value != '\0' ? g_strdup (value) : NULL;
  return TRUE;
}

static gboolean
set_addrs (GwConfig *c, const KeySpec *spec, char *value, GError **error)
{
  g_autoptr (GError) local = NULL;
  GPtrArray **slot = FIELD (c, spec, GPtrArray *);
  GPtrArray *list = net_addr_list_parse (value, &local);

  if (list == NULL)
    return value_error (error, spec, "%s", local->message);
  g_ptr_array_unref (*slot);
  *slot = list;
  return TRUE;
}

static gboolean
set_bool (GwConfig *c, const KeySpec *spec, char *value, GError **error)
{
  gboolean *slot = FIELD (c, spec, gboolean);

  if (g_ascii_strcasecmp (value, "true") == 0 ||
      g_ascii_strcasecmp (value, "yes") == 0 || strcmp (value, "1") == 0)
    *slot = TRUE;
  else if (g_ascii_strcasecmp (value, "false") == 0 ||
           g_ascii_strcasecmp (value, "no") == 0 || strcmp (value, "0") == 0)
    *slot = FALSE;
  else
    return value_error (error, spec, "'%s' is not true or false", value);
  return TRUE;
}

static gboolean
set_uint (GwConfig *c, const KeySpec *spec, char *value, GError **error)
{
  guint64 n;

  if (!g_ascii_string_to_unsigned (value, 10, spec->min, spec->max, &n, NULL))
    return value_error (error, spec,
                        "'%s' is not a whole number from %u to %u", value,
                        spec->min, spec->max);
  *FIELD (c, spec, guint) = (guint) n;
  return TRUE;
}

static gboolean
set_log_format (GwConfig *c, const KeySpec *spec, char *value, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!gw_log_format_parse (value, FIELD (c, spec, GwLogFormat), &local))
    return value_error (error, spec, "%s", local->message);
  return TRUE;
}

static gboolean
set_log_level (GwConfig *c, const KeySpec *spec, char *value, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!gw_log_level_parse (value, FIELD (c, spec, GLogLevelFlags), &local))
    return value_error (error, spec, "%s", local->message);
  return TRUE;
}

static gboolean
set_ips (GwConfig *c, const KeySpec *spec, char *value, GError **error)
{
  GPtrArray **slot = FIELD (c, spec, GPtrArray *);
  g_auto (GStrv) items = g_strsplit (value, ";", -1);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *item = g_strstrip (items[i]);
      GInetAddress *a;

      if (*item == '\0')
        continue;
      a = g_inet_address_new_from_string (item);
      if (a == NULL)
        return value_error (error, spec, "'%s' is not an IP address", item);
      g_ptr_array_add (list, a);
    }
  g_ptr_array_unref (*slot);
  *slot = g_steal_pointer (&list);
  return TRUE;
}

static gboolean
set_cidrs (GwConfig *c, const KeySpec *spec, char *value, GError **error)
{
  g_autoptr (GError) local = NULL;
  NetCidrList **slot = FIELD (c, spec, NetCidrList *);
  NetCidrList *list = net_cidr_list_parse (value, &local);

  if (list == NULL)
    return value_error (error, spec, "%s", local->message);
  net_cidr_list_free (*slot);
  *slot = list;
  return TRUE;
}

static gboolean
set_policy (GwConfig *c, const KeySpec *spec, char *value, GError **error)
{
  GwNegPolicy policy;

  if (!gw_neg_policy_from_string (value, &policy))
    return value_error (error, spec, "'%s' is not auto, always or never",
                        value);
  *FIELD (c, spec, int) = (int) policy;
  return TRUE;
}

static gboolean
set_key (GwConfig *c, const KeySpec *spec, const char *raw, GError **error)
{
  typedef gboolean (*Setter) (GwConfig *, const KeySpec *, char *, GError **);
  static const Setter setters[] = {
    [KEY_STRING] = set_string,       [KEY_PATH] = set_string,
    [KEY_ADDRS] = set_addrs,         [KEY_BOOL] = set_bool,
    [KEY_UINT] = set_uint,           [KEY_LOG_FORMAT] = set_log_format,
    [KEY_LOG_LEVEL] = set_log_level, [KEY_IPS] = set_ips,
    [KEY_CIDRS] = set_cidrs,         [KEY_POLICY] = set_policy,
  };
  g_autofree char *value = g_strstrip (g_strdup (raw));

  g_assert ((gsize) spec->type < G_N_ELEMENTS (setters) &&
            setters[spec->type] != NULL);
  return setters[spec->type](c, spec, value, error);
}

/* [cema]: both ports 0 (the kernel picks), or a range that has ports. */
static gboolean
check_cema (const GwConfig *c, GError **error)
{
  if (c->cema_port_min > c->cema_port_max)
    g_set_error (error, GW_CONFIG_ERROR, GW_CONFIG_ERROR_VALUE,
                 "[cema] port-max: %u is less than port-min (%u)",
                 c->cema_port_max, c->cema_port_min);
  else if (c->cema_port_min == 0 && c->cema_port_max != 0)
    g_set_error (error, GW_CONFIG_ERROR, GW_CONFIG_ERROR_VALUE,
                 "[cema] port-min: 0 goes with port-max 0 (ports the kernel "
                 "picks), not with %u",
                 c->cema_port_max);
  else
    return TRUE;
  return FALSE;
}

static gboolean rule_error (GError **error, const char *fmt, ...)
    G_GNUC_PRINTF (2, 3);

/* A rule that ties keys together is broken: FALSE, with FMT said. */
static gboolean
rule_error (GError **error, const char *fmt, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, GW_CONFIG_ERROR, GW_CONFIG_ERROR_VALUE, msg);
  return FALSE;
}

static gboolean
check_relay_limits (const GwConfig *c, GError **error)
{
  if (c->expires_min > c->expires_max)
    return rule_error (error,
                       "[relay] expires-max: %u is less than expires-min (%u)",
                       c->expires_max, c->expires_min);
  if (c->expires_default < c->expires_min ||
      c->expires_default > c->expires_max)
    return rule_error (error,
                       "[relay] expires-default: %u is outside "
                       "expires-min..max (%u..%u)",
                       c->expires_default, c->expires_min, c->expires_max);
  if (c->auth_throttle_backoff_max > c->auth_throttle_window)
    return rule_error (error,
                       "[auth] throttle-backoff-max: %u is more than "
                       "throttle-window (%u)",
                       c->auth_throttle_backoff_max, c->auth_throttle_window);
  if (c->max_connections_per_ip > c->max_connections)
    return rule_error (error,
                       "[limits] max-connections-per-ip: %u is more than "
                       "max-connections (%u)",
                       c->max_connections_per_ip, c->max_connections);
  return TRUE;
}

static gboolean
check_listen_tls (const GwConfig *c, GError **error)
{
  if (c->listen_msrps->len > 0 &&
      (c->tls_certificate == NULL || c->tls_private_key == NULL))
    return rule_error (error, "[listen] msrps: TLS listeners need [tls] "
                              "certificate and private-key");
  if ((c->tls_certificate == NULL) != (c->tls_private_key == NULL))
    return rule_error (
        error, "[tls] %s: certificate and private-key go together",
        c->tls_certificate == NULL ? "certificate" : "private-key");
  if (c->listen_msrp->len == 0 && c->listen_msrps->len == 0)
    return rule_error (
        error, "[listen] msrp: no msrp and no msrps listener configured");
  return TRUE;
}

static gboolean
check_ice (const GwConfig *c, GError **error)
{
  if (c->ice_port_min > c->ice_port_max)
    return rule_error (error, "[ice] port-max: %u is less than port-min (%u)",
                       c->ice_port_max, c->ice_port_min);
  if (c->ice_stun_server->len > 1 || c->ice_turn_server->len > 1)
    return rule_error (error, "[ice] %s: one server, not a list",
                       c->ice_stun_server->len > 1 ? "stun-server"
                                                   : "turn-server");
  if (c->ice_turn_server->len > 0 &&
      (c->ice_turn_username == NULL || c->ice_turn_password == NULL))
    return rule_error (
        error, "[ice] turn-server: needs turn-username and turn-password");
  return TRUE;
}

/* Rules that tie keys together. */
static gboolean
check_consistency (GwConfig *c, GError **error)
{
  if (!check_cema (c, error) || !check_relay_limits (c, error) ||
      !check_listen_tls (c, error) || !check_ice (c, error))
    return FALSE;
  if (c->auth_realm == NULL)
    c->auth_realm = g_strdup (c->public_host);
  return TRUE;
}

static GwConfig *
load_keyfile (GKeyFile *kf, const char *source, GError **error)
{
  g_autoptr (GwConfig) c = gw_config_new_default ();
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);

  for (guint g = 0; groups[g] != NULL; g++)
    {
      g_auto (GStrv) names = NULL;

      if (!group_known (groups[g]))
        {
          g_set_error (error, GW_CONFIG_ERROR, GW_CONFIG_ERROR_UNKNOWN,
                       "%s: unknown group [%s]", source, groups[g]);
          return NULL;
        }
      names = g_key_file_get_keys (kf, groups[g], NULL, NULL);
      for (guint k = 0; names != NULL && names[k] != NULL; k++)
        {
          const KeySpec *spec = find_key (groups[g], names[k]);
          g_autofree char *raw = NULL;

          if (spec == NULL)
            {
              g_set_error (error, GW_CONFIG_ERROR, GW_CONFIG_ERROR_UNKNOWN,
                           "%s: [%s] %s: unknown key", source, groups[g],
                           names[k]);
              return NULL;
            }
          raw = g_key_file_get_value (kf, groups[g], names[k], NULL);
          if (!set_key (c, spec, raw, error))
            {
              g_prefix_error (error, "%s: ", source);
              return NULL;
            }
        }
    }
  if (!check_consistency (c, error))
    {
      g_prefix_error (error, "%s: ", source);
      return NULL;
    }
  g_free (c->source);
  c->source = g_strdup (source);
  return g_steal_pointer (&c);
}

GwConfig *
gw_config_load_data (const char *data, gsize len, const char *source,
                     GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;

  if (!g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, GW_CONFIG_ERROR, GW_CONFIG_ERROR_FILE, "%s: %s",
                   source, local->message);
      return NULL;
    }
  return load_keyfile (kf, source, error);
}

GwConfig *
gw_config_load (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &data, &len, &local))
    {
      g_set_error (error, GW_CONFIG_ERROR, GW_CONFIG_ERROR_FILE, "%s",
                   local->message);
      return NULL;
    }
  return gw_config_load_data (data, len, path, error);
}
