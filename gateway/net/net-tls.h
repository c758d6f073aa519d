/* net-tls.h: OpenSSL 3 contexts for msrps listeners and outgoing TLS.
 *
 * A NetTls holds two SSL_CTX built from one set of paths: a server context
 * (certificate chain + private key, for `msrps` listeners) and a client
 * context (peers checked against a CA file, with the same certificate
 * presented for mutual TLS between relays, RFC 4976 section 9.2).  TLS 1.2 is
 * the lowest version either side accepts.
 *
 * A NetTls never changes once built.  Reloading (SIGHUP) builds a new one from
 * the same paths with net_tls_reload(); the owner swaps it in where new
 * connections are made (net_listener_set_tls()), and live connections keep
 * the context they started with: each SSL holds a reference on its SSL_CTX,
 * and each connection on its NetTls.
 *
 *   g_autoptr (NetTls) tls = net_tls_new (&settings, &error);
 *   ...
 *   g_autoptr (NetTls) fresh = net_tls_reload (tls, &error);
 *   if (fresh != NULL)
 *     net_listener_set_tls (listener, fresh);
 */
#pragma once

#include <glib.h>
#include <openssl/ssl.h>

G_BEGIN_DECLS

#define NET_TLS_ERROR (net_tls_error_quark ())
GQuark net_tls_error_quark (void);

typedef enum
{
  NET_TLS_ERROR_CERTIFICATE, /* certificate chain unreadable or invalid */
  NET_TLS_ERROR_PRIVATE_KEY, /* private key unreadable or not matching */
  NET_TLS_ERROR_CA,          /* CA file unreadable */
  NET_TLS_ERROR_NO_SERVER,   /* a server role was asked of a NetTls that has
                              * no certificate */
  NET_TLS_ERROR_INTERNAL,    /* OpenSSL could not build a context or SSL */
} NetTlsError;

/* What a TLS server asks of its clients' certificates. */
typedef enum
{
  /* No CertificateRequest: clients stay anonymous. */
  NET_TLS_PEER_VERIFY_NONE,
  /* RFC 4976 section 6.1: send a CertificateRequest; a certificate that the
   * client presents must verify against the CA file, and a client that
   * presents none is taken to be an MSRP endpoint (it authenticates with
   * AUTH and Digest instead).  This is `verify-relays=true`. */
  NET_TLS_PEER_VERIFY_OPTIONAL,
  /* A client without a valid certificate is refused (relay-only ports). */
  NET_TLS_PEER_VERIFY_REQUIRED,
} NetTlsPeerVerify;

typedef struct
{
  /* PEM certificate chain (leaf first) and its private key (unencrypted
   * PEM).  Both or neither; without them the NetTls can only be a client
   * that presents no certificate. */
  const char *certificate;
  const char *private_key;
  /* PEM CA bundle that peers' certificates must chain to; NULL: OpenSSL's
   * default trust store. */
  const char *ca_file;
  /* Server side only; clients always verify the server (RFC 4976 section
   * 9.2)... */
  NetTlsPeerVerify peer_verify;
  /* ...unless this is TRUE: the client side accepts any server certificate
   * (for test tools in labs, `msrpcat --insecure`; never for relays). */
  gboolean skip_server_verify;
  /* Fingerprint-based authentication (RFC 8122 section 6.2, RFC 4975
   * section 14.4, RFC 6714 section 2): the peers' certificates are
   * self-signed and vouched for by the a=fingerprint of the SDP, not by a
   * CA.  Both sides present a certificate; the server requires one from
   * the client; neither checks a chain or a name.  The owner compares the
   * peer's fingerprint (net_conn_get_peer_fingerprint()) with the SDP's
   * once the handshake is done (the answer may come after the connection,
   * RFC 8122 section 6.2).  @ca_file is not used. */
  gboolean fingerprint_peers;
  /* The certificate and key as PEM text instead of @certificate and
   * @private_key (a certificate made with net_tls_make_self_signed()). */
  const char *certificate_pem;
  const char *private_key_pem;
} NetTlsSettings;

typedef struct _NetTls NetTls;

/* Load the files named in @settings and build both contexts.
 * Returns: (transfer full) (nullable): NULL with @error naming the file and
 * the OpenSSL reason, e.g. "cannot load private key /x/key.pem: No such
 * file or directory" or "cannot load certificate chain /x/cert.pem: no
 * start line (PEM routines)". */
G_GNUC_WARN_UNUSED_RESULT
NetTls *net_tls_new (const NetTlsSettings *settings, GError **error);

/* Build a new NetTls from the paths @tls was built from (the files are read
 * again).  @tls is not changed.
 * Returns: (transfer full) (nullable): NULL with @error as net_tls_new(). */
G_GNUC_WARN_UNUSED_RESULT
NetTls *net_tls_reload (NetTls *tls, GError **error);

NetTls *net_tls_ref (NetTls *tls);
void net_tls_unref (NetTls *tls);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetTls, net_tls_unref)

/* TRUE when @tls has a certificate, so it can serve msrps listeners. */
gboolean net_tls_can_serve (NetTls *tls);

/* A new server-side SSL on the server context.
 * Returns: (transfer full) (nullable): NULL with NET_TLS_ERROR_NO_SERVER when
 * @tls has no certificate. */
G_GNUC_WARN_UNUSED_RESULT
SSL *net_tls_new_server_ssl (NetTls *tls, GError **error);

/* A new client-side SSL that will accept only a certificate for
 * @peer_name: a DNS name (checked against the subjectAltName dNSName entries
 * and sent as SNI, RFC 4976 section 9.2) or an IPv4/IPv6 literal (checked
 * against iPAddress entries).
 * Returns: (transfer full) (nullable): NULL with @error. */
G_GNUC_WARN_UNUSED_RESULT
SSL *net_tls_new_client_ssl (NetTls *tls, const char *peer_name,
                             GError **error);

/* Set @error (if not NULL) to @domain/@code with the printf message
 * followed by ": " and the root cause in OpenSSL's error queue (its oldest
 * entry, e.g. "no start line (PEM routines)" or "No such file or
 * directory"; "unknown OpenSSL error" when it is empty).  The queue is
 * cleared either way. */
void net_tls_set_error (GError **error, GQuark domain, gint code,
                        const char *format, ...) G_GNUC_PRINTF (4, 5);

/* A self-signed certificate and its private key (ECDSA P-256, signed with
 * SHA-256, valid from an hour ago for 30 days, subject CN=@common_name),
 * as PEM text: what an endpoint without a PKI presents with fingerprint
 * authentication (RFC 4975 section 14.4: "Endpoints are not required to
 * generate certificates for each session"; msrpcat makes one per run).
 * Returns: FALSE with @error when OpenSSL fails. */
gboolean net_tls_make_self_signed (const char *common_name, char **cert_pem,
                                   char **key_pem, GError **error);

/* The fingerprint of @cert as a=fingerprint writes it (RFC 8122 section
 * 5): upper-case hex pairs joined by ':', the hash of its DER form with
 * @hash_func ("sha-256", "sha-1", "sha-384", "sha-512", "sha-224",
 * case-insensitive).  (transfer full) (nullable): NULL for a hash OpenSSL
 * does not know (RFC 8122: "md5", "md2" are not to be used). */
char *net_tls_fingerprint (X509 *cert, const char *hash_func);
/* The fingerprint of the certificate @tls presents, or NULL without one.
 * (transfer full) */
char *net_tls_get_local_fingerprint (NetTls *tls, const char *hash_func);

/* The subject of the peer's certificate (RFC 2253 form, e.g.
 * "CN=relay.example.net,O=Example") when the peer presented one and it
 * verified; NULL otherwise.  (transfer full) (nullable) */
char *net_tls_get_peer_subject (SSL *ssl);

G_END_DECLS
