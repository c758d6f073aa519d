#include "net-tls.h"

#include <stdarg.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

GQuark
net_tls_error_quark (void)
{
  return g_quark_from_static_string ("net-tls-error-quark");
}

struct _NetTls
{
  gatomicrefcount ref_count;
  char *certificate;
  char *private_key;
  char *ca_file;
  NetTlsPeerVerify peer_verify;
  gboolean skip_server_verify;
  gboolean fingerprint_peers;
  char *certificate_pem;
  char *private_key_pem;
  SSL_CTX *server_ctx; /* NULL without a certificate */
  SSL_CTX *client_ctx;
};

/* The root cause in OpenSSL's error queue, and empty the queue.  The oldest
 * entry is the cause; the later ones only say which layer passed it up
 * ("system lib (BIO routines); PEM lib (SSL routines)").  A system error
 * reads as strerror() does; others as "reason (library)".  The text OpenSSL
 * attaches (such as "calling fopen(/x/key.pem, r)") is left out: the caller
 * names the file itself. */
static char *
drain_error_queue (void)
{
  unsigned long e = ERR_get_error ();
  const char *reason;
  const char *lib;
  char buf[256];

  if (e == 0)
    return g_strdup ("unknown OpenSSL error");
  ERR_clear_error ();
  if (ERR_SYSTEM_ERROR (e))
    return g_strdup (g_strerror (ERR_GET_REASON (e)));
  reason = ERR_reason_error_string (e);
  lib = ERR_lib_error_string (e);
  if (reason == NULL)
    {
      ERR_error_string_n (e, buf, sizeof buf);
      reason = buf;
    }
  return lib != NULL ? g_strdup_printf ("%s (%s)", reason, lib)
                     : g_strdup (reason);
}

void
net_tls_set_error (GError **error, GQuark domain, gint code,
                   const char *format, ...)
{
  g_autofree char *what = NULL;
  g_autofree char *why = drain_error_queue ();
  va_list ap;

  if (error == NULL)
    return;
  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, domain, code, "%s: %s", what, why);
}

/* A daemon has no terminal to ask a passphrase on: an encrypted key fails
 * to load instead of blocking on a prompt. */
static int
no_passphrase (char *buf, int size, int rwflag, void *userdata)
{
  return 0;
}

static SSL_CTX *
new_ctx (const SSL_METHOD *method, GError **error)
{
  SSL_CTX *ctx = SSL_CTX_new (method);

  if (ctx == NULL)
    {
      net_tls_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_INTERNAL,
                         "cannot create a TLS context");
      return NULL;
    }
  /* TLS 1.2 or later, no renegotiation (a TLS 1.2 CPU exhaustion vector),
   * and writes that net-conn.c can resume from a queue whose head may be
   * re-gathered at another address. */
  SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION);
  SSL_CTX_set_options (ctx, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode (ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                             SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                             SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_default_passwd_cb (ctx, no_passphrase);
  return ctx;
}

/* The certificate and key given as PEM text. */
static gboolean
load_identity_pem (SSL_CTX *ctx, const NetTls *tls, GError **error)
{
  BIO *cb = BIO_new_mem_buf (tls->certificate_pem, -1);
  BIO *kb = BIO_new_mem_buf (tls->private_key_pem, -1);
  X509 *cert = cb != NULL ? PEM_read_bio_X509 (cb, NULL, NULL, NULL) : NULL;
  EVP_PKEY *key =
      kb != NULL ? PEM_read_bio_PrivateKey (kb, NULL, NULL, NULL) : NULL;
  gboolean ok = cert != NULL && key != NULL &&
                SSL_CTX_use_certificate (ctx, cert) == 1 &&
                SSL_CTX_use_PrivateKey (ctx, key) == 1 &&
                SSL_CTX_check_private_key (ctx) == 1;

  if (!ok)
    net_tls_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_CERTIFICATE,
                       "cannot use the certificate given in memory");
  X509_free (cert);
  EVP_PKEY_free (key);
  BIO_free (cb);
  BIO_free (kb);
  return ok;
}

static gboolean
load_identity (SSL_CTX *ctx, const NetTls *tls, GError **error)
{
  if (tls->certificate_pem != NULL)
    return load_identity_pem (ctx, tls, error);
  if (SSL_CTX_use_certificate_chain_file (ctx, tls->certificate) != 1)
    {
      net_tls_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_CERTIFICATE,
                         "cannot load certificate chain %s", tls->certificate);
      return FALSE;
    }
  if (SSL_CTX_use_PrivateKey_file (ctx, tls->private_key, SSL_FILETYPE_PEM) !=
      1)
    {
      unsigned long e = ERR_peek_last_error ();

      /* A readable key of another certificate: say which two. */
      if (ERR_GET_LIB (e) == ERR_LIB_X509 &&
          ERR_GET_REASON (e) == X509_R_KEY_VALUES_MISMATCH)
        net_tls_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_PRIVATE_KEY,
                           "private key %s does not match certificate %s",
                           tls->private_key, tls->certificate);
      else
        net_tls_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_PRIVATE_KEY,
                           "cannot load private key %s", tls->private_key);
      return FALSE;
    }
  if (SSL_CTX_check_private_key (ctx) != 1)
    {
      net_tls_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_PRIVATE_KEY,
                         "private key %s does not match certificate %s",
                         tls->private_key, tls->certificate);
      return FALSE;
    }
  return TRUE;
}

static gboolean
load_trust (SSL_CTX *ctx, const NetTls *tls, GError **error)
{
  int ok = tls->ca_file != NULL ? SSL_CTX_load_verify_file (ctx, tls->ca_file)
                                : SSL_CTX_set_default_verify_paths (ctx);

  if (ok != 1)
    {
      net_tls_set_error (
          error, NET_TLS_ERROR, NET_TLS_ERROR_CA, "cannot load CA file %s",
          tls->ca_file != NULL ? tls->ca_file
                               : "(OpenSSL default trust store)");
      return FALSE;
    }
  return TRUE;
}

/* Fingerprint authentication: a certificate is taken whatever its chain
 * and name say; its fingerprint is compared with the SDP's after the
 * handshake (net_conn_get_peer_fingerprint()). */
static int
accept_any (int preverify_ok, X509_STORE_CTX *store)
{
  return 1;
}

static SSL_CTX *
build_server_ctx (const NetTls *tls, GError **error)
{
  SSL_CTX *ctx = new_ctx (TLS_server_method (), error);
  static const unsigned char sid_ctx[] = "msrp-edge";

  if (ctx == NULL)
    return NULL;
  if (!load_identity (ctx, tls, error))
    goto fail;
  if (tls->fingerprint_peers)
    {
      /* RFC 8122 section 6.2: "The server MUST request a certificate"; any
       * certificate will do here, its fingerprint is what is checked. */
      SSL_CTX_set_verify (
          ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
      SSL_CTX_set_session_id_context (ctx, sid_ctx, sizeof sid_ctx - 1);
      return ctx;
    }
  if (tls->peer_verify != NET_TLS_PEER_VERIFY_NONE)
    {
      int mode = SSL_VERIFY_PEER;

      if (tls->peer_verify == NET_TLS_PEER_VERIFY_REQUIRED)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      if (!load_trust (ctx, tls, error))
        goto fail;
      /* RFC 4976 section 6.1: the CertificateRequest goes with the
       * ServerHello; naming the acceptable CAs lets a relay with several
       * certificates pick the right one. */
      if (tls->ca_file != NULL)
        {
          STACK_OF (X509_NAME) *names = SSL_load_client_CA_file (tls->ca_file);

          if (names == NULL)
            {
              net_tls_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_CA,
                                 "cannot read CA names from %s", tls->ca_file);
              goto fail;
            }
          SSL_CTX_set_client_CA_list (ctx, names);
        }
      SSL_CTX_set_verify (ctx, mode, NULL);
      /* Resumed sessions keep the client's verified identity; OpenSSL
       * refuses to resume them without a session id context. */
      SSL_CTX_set_session_id_context (ctx, sid_ctx, sizeof sid_ctx - 1);
    }
  return ctx;

fail:
  SSL_CTX_free (ctx);
  return NULL;
}

static SSL_CTX *
build_client_ctx (const NetTls *tls, GError **error)
{
  SSL_CTX *ctx = new_ctx (TLS_client_method (), error);

  if (ctx == NULL)
    return NULL;
  /* RFC 4976 section 9.2: the server's certificate must be valid and
   * signed by an acceptable authority (the name is checked per SSL). */
  if (tls->fingerprint_peers)
    SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, accept_any);
  else
    SSL_CTX_set_verify (
        ctx, tls->skip_server_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
        NULL);
  if ((!tls->fingerprint_peers && !load_trust (ctx, tls, error)) ||
      ((tls->certificate != NULL || tls->certificate_pem != NULL) &&
       !load_identity (ctx, tls, error)))
    {
      SSL_CTX_free (ctx);
      return NULL;
    }
  return ctx;
}

static void
tls_free (NetTls *tls)
{
  g_free (tls->certificate);
  g_free (tls->private_key);
  g_free (tls->ca_file);
  g_free (tls->certificate_pem);
  if (tls->private_key_pem != NULL)
    OPENSSL_cleanse (tls->private_key_pem, strlen (tls->private_key_pem));
  g_free (tls->private_key_pem);
  if (tls->server_ctx != NULL)
    SSL_CTX_free (tls->server_ctx);
  if (tls->client_ctx != NULL)
    SSL_CTX_free (tls->client_ctx);
  g_free (tls);
}

NetTls *
net_tls_new (const NetTlsSettings *settings, GError **error)
{
  NetTls *tls;

  g_return_val_if_fail (settings != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if ((settings->certificate_pem == NULL) !=
      (settings->private_key_pem == NULL))
    {
      g_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_CERTIFICATE,
                   "a certificate in memory needs its key, and the reverse");
      return NULL;
    }
  if ((settings->certificate == NULL) != (settings->private_key == NULL))
    {
      g_set_error (error, NET_TLS_ERROR,
                   settings->certificate == NULL ? NET_TLS_ERROR_CERTIFICATE
                                                 : NET_TLS_ERROR_PRIVATE_KEY,
                   "private key %s has no certificate, or certificate %s has "
                   "no private key: give both or neither",
                   settings->private_key != NULL ? settings->private_key : "-",
                   settings->certificate != NULL ? settings->certificate
                                                 : "-");
      return NULL;
    }

  tls = g_new0 (NetTls, 1);
  g_atomic_ref_count_init (&tls->ref_count);
  tls->certificate = g_strdup (settings->certificate);
  tls->private_key = g_strdup (settings->private_key);
  tls->ca_file = g_strdup (settings->ca_file);
  tls->peer_verify = settings->peer_verify;
  tls->skip_server_verify = settings->skip_server_verify;
  tls->fingerprint_peers = settings->fingerprint_peers;
  tls->certificate_pem = g_strdup (settings->certificate_pem);
  tls->private_key_pem = g_strdup (settings->private_key_pem);

  /* Whatever a failed call left in the queue must not end up in the
   * message of a later error. */
  ERR_clear_error ();
  if ((tls->certificate != NULL || tls->certificate_pem != NULL) &&
      (tls->server_ctx = build_server_ctx (tls, error)) == NULL)
    goto fail;
  if ((tls->client_ctx = build_client_ctx (tls, error)) == NULL)
    goto fail;
  return tls;

fail:
  ERR_clear_error ();
  tls_free (tls);
  return NULL;
}

NetTls *
net_tls_reload (NetTls *tls, GError **error)
{
  NetTlsSettings settings = {
    .certificate = tls->certificate,
    .private_key = tls->private_key,
    .ca_file = tls->ca_file,
    .peer_verify = tls->peer_verify,
    .skip_server_verify = tls->skip_server_verify,
    .fingerprint_peers = tls->fingerprint_peers,
    .certificate_pem = tls->certificate_pem,
    .private_key_pem = tls->private_key_pem,
  };

  return net_tls_new (&settings, error);
}

NetTls *
net_tls_ref (NetTls *tls)
{
  g_return_val_if_fail (tls != NULL, NULL);
  g_atomic_ref_count_inc (&tls->ref_count);
  return tls;
}

void
net_tls_unref (NetTls *tls)
{
  if (tls != NULL && g_atomic_ref_count_dec (&tls->ref_count))
    tls_free (tls);
}

gboolean
net_tls_can_serve (NetTls *tls)
{
  g_return_val_if_fail (tls != NULL, FALSE);
  return tls->server_ctx != NULL;
}

SSL *
net_tls_new_server_ssl (NetTls *tls, GError **error)
{
  SSL *ssl;

  g_return_val_if_fail (tls != NULL, NULL);
  if (tls->server_ctx == NULL)
    {
      g_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_NO_SERVER,
                   "TLS server role needs a certificate and a private key");
      return NULL;
    }
  ssl = SSL_new (tls->server_ctx);
  if (ssl == NULL)
    net_tls_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_INTERNAL,
                       "cannot create a TLS server session");
  return ssl;
}

SSL *
net_tls_new_client_ssl (NetTls *tls, const char *peer_name, GError **error)
{
  SSL *ssl;
  X509_VERIFY_PARAM *param;
  gboolean ok;

  g_return_val_if_fail (tls != NULL, NULL);
  g_return_val_if_fail (peer_name != NULL, NULL);

  ssl = SSL_new (tls->client_ctx);
  if (ssl == NULL)
    {
      net_tls_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_INTERNAL,
                         "cannot create a TLS client session");
      return NULL;
    }
  param = SSL_get0_param (ssl);
  if (g_hostname_is_ip_address (peer_name))
    {
      ok = X509_VERIFY_PARAM_set1_ip_asc (param, peer_name) == 1;
    }
  else
    {
      /* RFC 4976 section 9.2: the subjectAltName dNSName must match the
       * host of the URI, and clients send it as server name indication. */
      X509_VERIFY_PARAM_set_hostflags (param,
                                       X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ok = SSL_set1_host (ssl, peer_name) == 1 &&
           SSL_set_tlsext_host_name (ssl, peer_name) == 1;
    }
  if (!ok)
    {
      net_tls_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_INTERNAL,
                         "cannot expect peer name '%s'", peer_name);
      SSL_free (ssl);
      return NULL;
    }
  return ssl;
}

char *
net_tls_get_peer_subject (SSL *ssl)
{
  X509 *cert;
  BIO *bio;
  char *data;
  long len;
  char *out;

  g_return_val_if_fail (ssl != NULL, NULL);
  cert = SSL_get0_peer_certificate (ssl);
  if (cert == NULL || SSL_get_verify_result (ssl) != X509_V_OK)
    return NULL;
  bio = BIO_new (BIO_s_mem ());
  if (bio == NULL)
    return NULL;
  X509_NAME_print_ex (bio, X509_get_subject_name (cert), 0, XN_FLAG_RFC2253);
  len = BIO_get_mem_data (bio, &data);
  out = g_strndup (data, len > 0 ? (gsize) len : 0);
  BIO_free (bio);
  return out;
}

/* --- fingerprints (RFC 8122) ------------------------------------------- */

/* A fresh X509 for @key: version 3, a random serial, CN=@common_name as
 * subject and issuer, valid from an hour ago (clocks differ) for 30
 * days. */
static X509 *
self_signed_cert (EVP_PKEY *key, const char *common_name)
{
  X509 *cert = X509_new ();
  X509_NAME *name;
  unsigned char serial[16];
  BIGNUM *bn;

  if (cert == NULL || RAND_bytes (serial, sizeof serial) != 1)
    goto fail;
  serial[0] &= 0x7f; /* positive (RFC 5280 section 4.1.2.2) */
  bn = BN_bin2bn (serial, sizeof serial, NULL);
  if (bn == NULL ||
      BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (cert)) == NULL)
    {
      BN_free (bn);
      goto fail;
    }
  BN_free (bn);
  name = X509_get_subject_name (cert);
  if (X509_set_version (cert, 2) != 1 ||
      X509_gmtime_adj (X509_getm_notBefore (cert), -3600) == NULL ||
      X509_gmtime_adj (X509_getm_notAfter (cert), 30L * 24 * 3600) == NULL ||
      X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8,
                                  (const unsigned char *) common_name, -1, -1,
                                  0) != 1 ||
      X509_set_issuer_name (cert, name) != 1 ||
      X509_set_pubkey (cert, key) != 1 ||
      X509_sign (cert, key, EVP_sha256 ()) == 0)
    goto fail;
  return cert;

fail:
  X509_free (cert);
  return NULL;
}

static char *
bio_text (BIO *bio)
{
  char *data;
  long len = BIO_get_mem_data (bio, &data);

  return g_strndup (data, len > 0 ? (gsize) len : 0);
}

gboolean
net_tls_make_self_signed (const char *common_name, char **cert_pem,
                          char **key_pem, GError **error)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  X509 *cert = key != NULL ? self_signed_cert (key, common_name) : NULL;
  BIO *cb = BIO_new (BIO_s_mem ());
  BIO *kb = BIO_new (BIO_s_mem ());
  gboolean ok =
      cert != NULL && cb != NULL && kb != NULL &&
      PEM_write_bio_X509 (cb, cert) == 1 &&
      PEM_write_bio_PrivateKey (kb, key, NULL, NULL, 0, NULL, NULL) == 1;

  if (ok)
    {
      *cert_pem = bio_text (cb);
      *key_pem = bio_text (kb);
    }
  else
    {
      net_tls_set_error (error, NET_TLS_ERROR, NET_TLS_ERROR_INTERNAL,
                         "cannot make a self-signed certificate");
    }
  X509_free (cert);
  EVP_PKEY_free (key);
  BIO_free (cb);
  BIO_free_all (kb);
  return ok;
}

char *
net_tls_fingerprint (X509 *cert, const char *hash_func)
{
  /* RFC 8122 section 5: the hash names of the IANA "Hash Function Textual
   * Names" registry, which OpenSSL spells without the dash. */
  static const struct
  {
    const char *sdp;
    const char *openssl;
  } names[] = {
    { "sha-1", "SHA1" },     { "sha-224", "SHA224" }, { "sha-256", "SHA256" },
    { "sha-384", "SHA384" }, { "sha-512", "SHA512" },
  };
  const EVP_MD *md = NULL;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  GString *out;

  for (guint i = 0; i < G_N_ELEMENTS (names) && md == NULL; i++)
    if (g_ascii_strcasecmp (hash_func, names[i].sdp) == 0)
      md = EVP_get_digestbyname (names[i].openssl);
  if (md == NULL || X509_digest (cert, md, digest, &len) != 1)
    return NULL;
  out = g_string_sized_new (len * 3);
  for (unsigned int i = 0; i < len; i++)
    g_string_append_printf (out, "%s%02X", i > 0 ? ":" : "", digest[i]);
  return g_string_free (out, FALSE);
}

char *
net_tls_get_local_fingerprint (NetTls *tls, const char *hash_func)
{
  SSL_CTX *ctx = tls->server_ctx != NULL ? tls->server_ctx : tls->client_ctx;
  X509 *cert = ctx != NULL ? SSL_CTX_get0_certificate (ctx) : NULL;

  return cert != NULL ? net_tls_fingerprint (cert, hash_func) : NULL;
}
