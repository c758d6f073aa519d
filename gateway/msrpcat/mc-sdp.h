/* mc-sdp.h: msrpcat's SDP mode: the session description it hands out (RFC
 * 8866, one MSRP media section, RFC 4975 section 8) and what it takes from
 * the peer's, and the connection roles of RFC 4145 section 4 as RFC 6135
 * section 4.2 applies them to MSRP.
 *
 * No I/O except mc_sdp_write_file () and mc_sdp_read_file (), no clock:
 * the rest is tested by tests/unit/test-mc-sdp.c.  Reading goes through
 * msrp/msrp-sdp.h only.
 */
#pragma once

#include <gio/gio.h>

#include "msrp-sdp.h"

G_BEGIN_DECLS

#define MC_SDP_ERROR (mc_sdp_error_quark ())
GQuark mc_sdp_error_quark (void);

typedef enum
{
  MC_SDP_ERROR_INVALID,  /* the peer's SDP is not usable for MSRP */
  MC_SDP_ERROR_CONFLICT, /* the a=setup values cannot go together */
  MC_SDP_ERROR_IO,       /* the file cannot be read or written */
} McSdpError;

/* --setup VALUE: "actpass", "active", "passive", or "none" (no a=setup
 * line: MSRP_SDP_SETUP_ABSENT). */
gboolean mc_sdp_parse_setup_option (const char *text, MsrpSdpSetup *out,
                                    GError **error);
/* The spelling of --setup for @setup: "none" for ABSENT. */
const char *mc_sdp_setup_name (MsrpSdpSetup setup);

/* ---- roles (RFC 4145 section 4, RFC 6135 section 4.2) ----
 *
 * TRUE in *@active: this endpoint opens the MSRP connection (or, with a
 * relay, sends the first SEND: RFC 6135 section 4.5) and binds it with its
 * first SEND (RFC 4975 section 5.4); FALSE: it waits to be bound by the
 * peer's first SEND.  A received "holdconn" counts as no a=setup (RFC 6135
 * section 4.2.1). */

/* We offered @offered and the answer says @answered.  An absent a=setup
 * means "active" in an offer and "passive" in an answer (RFC 4145 section
 * 4).  Errors (MC_SDP_ERROR_CONFLICT): the answer says actpass, or takes
 * the same role as the offer. */
gboolean mc_sdp_offerer_role (MsrpSdpSetup offered, MsrpSdpSetup answered,
                              gboolean *active, GError **error);

/* The offer says @offered; @wanted is what --setup asked (@wanted_set
 * FALSE: nothing asked).  *@answer gets the a=setup to write (ABSENT: no
 * line, only when --setup none was asked).  Without --setup the answer to
 * actpass is passive (RFC 6135 section 4.2.2: "SHOULD include ...
 * passive" when reachable; give --setup active behind a NAT), and to the
 * other values the one role left.  Errors (MC_SDP_ERROR_CONFLICT): --setup
 * actpass (not an answer), or a role the offer leaves to the offerer. */
gboolean mc_sdp_answerer_role (MsrpSdpSetup offered, MsrpSdpSetup wanted,
                               gboolean wanted_set, MsrpSdpSetup *answer,
                               gboolean *active, GError **error);

/* ---- our SDP ---- */

typedef struct
{
  const char *address;             /* c= and the o= address: IPv4, IPv6 */
  guint16 port;                    /* m= port */
  gboolean tls;                    /* TCP/TLS/MSRP */
  const char *path;                /* a=path value */
  const char *const *accept_types; /* (nullable): "*" */
  guint64 max_size;                /* 0: no a=max-size */
  MsrpSdpSetup setup;              /* ABSENT: no a=setup line */
  const char *ice_ufrag;           /* (nullable): no ICE lines */
  const char *ice_pwd;
  GPtrArray *candidates; /* MsrpSdpCandidate, with ICE */
  guint64 session_id;    /* o= sess-id */
  gboolean cema;         /* a=msrp-cema (RFC 6714 section 5) */
  /* a=fingerprint (RFC 8122 section 5), e.g. "sha-256" and
   * "4A:AD:...", or NULL: none */
  const char *fingerprint_hash;
  const char *fingerprint;
} McSdpLocal;

/* The whole SDP text, CRLF line endings, checked by parsing it back.
 * Returns: (transfer full) (nullable): NULL with @error when a value does
 * not fit its grammar. */
char *mc_sdp_build (const McSdpLocal *local, GError **error);

/* RFC 8839 section 5.1 (and RFC 8445 section 5.1.4): the default
 * candidate, for c= and m=: the one of highest priority; among equals, the
 * first host candidate, else the first.  (transfer none) (nullable): NULL
 * when @candidates is empty. */
const MsrpSdpCandidate *mc_sdp_default_candidate (GPtrArray *candidates);

/* ---- the peer's SDP ---- */

typedef struct
{
  MsrpSdpProto proto;
  GPtrArray *path;            /* MsrpUri, at least one */
  MsrpSdpSetup setup;         /* holdconn is reported as ABSENT */
  MsrpSdpSetup setup_written; /* as written, holdconn included */
  char *address;              /* c= */
  guint16 port;               /* m= */
  char *ice_ufrag;            /* (nullable) */
  char *ice_pwd;              /* (nullable) */
  GPtrArray *candidates;      /* MsrpSdpCandidate: the TCP ones with a
                               * tcptype, component 1; maybe empty */
  guint n_candidates_skipped; /* the others (UDP, ...) */
  gboolean cema;              /* a=msrp-cema */
  GPtrArray *fingerprints;    /* McSdpFingerprint: a=fingerprint, the
                               * stream's or the session's; maybe empty */
} McSdpPeer;

typedef struct
{
  char *hash_func;   /* lower-case, "sha-256" */
  char *fingerprint; /* as written */
} McSdpFingerprint;

/* Read the first MSRP stream of @text (@len bytes).  @origin (a file name)
 * starts every error message.  Errors (MC_SDP_ERROR_INVALID): the SDP does
 * not parse, has no MSRP stream, the stream is rejected (port 0) or has no
 * a=path, or has a=ice-ufrag without a=ice-pwd (or the reverse).
 * Returns: (transfer full) (nullable) */
McSdpPeer *mc_sdp_peer_parse (const char *text, gsize len, const char *origin,
                              GError **error);
void mc_sdp_peer_free (McSdpPeer *peer);
/* Does the peer do ICE-TCP: credentials and at least one TCP candidate? */
gboolean mc_sdp_peer_has_ice (const McSdpPeer *peer);

/* RFC 6714 section 4.4: do the c= address and the m= port match the
 * authority of one of the a=path URIs?  IP literals are compared as
 * addresses (so "::1" and "0:0::1" are equal, RFC 5952), names as text
 * (case-insensitively; msrpcat does not resolve them).  A mismatch means a
 * middlebox rewrote c= and m= (sections 4.2, 4.3). */
gboolean mc_sdp_peer_cm_matches_path (const McSdpPeer *peer);

/* Does one of the peer's a=fingerprint lines name @fingerprint_of's
 * result for its hash function?  @fingerprint_of computes the fingerprint
 * of the peer's certificate for a hash function (NULL: one it cannot
 * compute).  RFC 8122 section 5: a match of any of them is a match.
 * *@checked (nullable) gets the first line whose hash could be computed,
 * "sha-256 4A:AD:...", for the messages; NULL when none could. */
gboolean mc_sdp_peer_fingerprint_matches (
    const McSdpPeer *peer,
    char *(*fingerprint_of) (const char *hash_func, gpointer user_data),
    gpointer user_data, char **checked);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McSdpPeer, mc_sdp_peer_free)

/* ---- files ---- */

/* Write @text to @path atomically: a temporary file in the same directory,
 * then rename (a reader sees no file or the whole file). */
gboolean mc_sdp_write_file (const char *path, const char *text,
                            GError **error);
/* Read @path when it exists.  Returns: FALSE with *@text NULL and no error
 * when it does not exist yet; FALSE with @error when it cannot be read or
 * is larger than MSRP_SDP_MAX_SIZE; TRUE with *@text and *@len. */
gboolean mc_sdp_read_file (const char *path, char **text, gsize *len,
                           GError **error);

G_END_DECLS
