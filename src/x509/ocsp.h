/*
 * x509/ocsp: certificate revocation over OCSP (attestation-formats.md §6).
 *
 * Owns: which certificates of a chain are checked (device chains 1..n-2,
 * RIM chains 0..n-2, of the path validation built, leaf..anchor: never of
 * what the evidence or the RIM's KeyInfo carried, which may leave the root
 * out and so hide the CA under it), requests (SHA-1 CertID, the form NVIDIA's responder
 * indexes by, and a fresh 16-byte nonce), and response processing:
 *   - HTTP 200 with Content-Type application/ocsp-response;
 *   - responseStatus successful; DER with no trailing bytes;
 *   - exactly one SingleResponse for our CertID;
 *   - OCSP_basic_verify with the chain as untrusted certificates against the
 *     anchors of the chain's use, at time `at`, with OCSP_NOEXPLICIT: the
 *     signer must be the issuer itself or a delegated responder
 *     (id-kp-OCSPSigning) issued by the issuer. A root merely trusted "for
 *     OCSP signing" authorises nothing;
 *   - the nonce (OCSP_check_nonce == 1), only for answers to our request;
 *   - freshness, which NVIDIA's SDK does not check: thisUpdate <= at + skew
 *     and at <= nextUpdate + skew (skew default 300 s). A missing nextUpdate
 *     counts as thisUpdate + 3600 s (NVIDIA's cache rule). max_age_s, when
 *     set, explicitly widens the window past nextUpdate up to that age.
 *   - certificateHold counts as revoked unless the job sets allow_hold (the
 *     caller allows it only for RIM chains); the result then says
 *     hold_allowed so the output can say so.
 * Sources, in order: a collateral bundle (online, only its answers not past
 * nextUpdate), the cache (only with cache_ok), the responder. Cached and bundled answers always have nonce_matches false.
 * A cached answer that does not verify now (another PKI, a bad signature, an
 * answer for another certificate) is no answer: net/ocspfetch.c removes it,
 * asks the responder instead and says so in the certificate's note; only
 * answers that verified are written to the cache (the collateral rules of
 * net/collateral.h).
 * All requests of all jobs go out at once (http_perform_all), one per
 * distinct CertID.
 *
 * Never: reports "good" for a certificate whose response did not verify,
 * was stale, or never arrived (those are "error" / "not-checked").
 */
#ifndef GPA_X509_OCSP_H
#define GPA_X509_OCSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "net/http.h"
#include "util/util.h"
#include "x509/x509.h"

struct gpa_cache;
struct gpa_bundle;

#define GPA_OCSP_DEFAULT_URL		"https://ocsp.ndis.nvidia.com"
#define GPA_OCSP_DEFAULT_SKEW_S		300
#define GPA_OCSP_NO_NEXT_UPDATE_S	3600
#define GPA_OCSP_NONCE_LEN		16
#define GPA_OCSP_MAX_RESPONSE		(256u << 10)
#define GPA_OCSP_MAX_CHAIN		16
#define GPA_OCSP_FIRST_DEVICE		1	/* device chains: the leaf is not checked */
#define GPA_OCSP_FIRST_RIM		0	/* RIM chains: the signer is checked */
#define GPA_OCSP_NOTE			400

enum gpa_ocsp_status {
	GPA_OCSP_GOOD,
	GPA_OCSP_REVOKED,
	GPA_OCSP_UNKNOWN,
	GPA_OCSP_NOT_CHECKED,	/* no answer could be had (offline, not in bundle) */
	GPA_OCSP_ERROR,		/* an answer came but is unusable, or the request failed */
};
/* "good", "revoked", "unknown", "not-checked", "error". */
const char *ocsp_status_name(enum gpa_ocsp_status s);

enum gpa_ocsp_source {
	GPA_OCSP_FROM_NONE,
	GPA_OCSP_FROM_RESPONDER,
	GPA_OCSP_FROM_CACHE,
	GPA_OCSP_FROM_BUNDLE,
};
const char *ocsp_source_name(enum gpa_ocsp_source s); /* "none", "responder", "cache", "bundle" */

struct gpa_ocsp_opts {
	const char *url;			/* NULL: GPA_OCSP_DEFAULT_URL (--ocsp-url) */
	const struct gpa_http_opts *http;	/* NULL: http_opts_default */
	long skew_s;				/* clock-skew allowance, both ends */
	long max_age_s;				/* 0: never past nextUpdate (+skew) */
	bool offline;				/* no network: bundle / cache only */
	struct gpa_cache *cache;		/* NULL: none. Valid fresh answers are stored */
	bool cache_ok;				/* also read answers from the cache (--ocsp-cache-ok) */
	const struct gpa_bundle *bundle;	/* answers from a collateral bundle, tried first */
	const char *bundle_path;		/* its file, for the output */
	struct gpa_bundle *record;		/* every usable answer is added (building a bundle) */
};
void ocsp_opts_default(struct gpa_ocsp_opts *o);

struct gpa_ocsp_cert {
	int index;			/* position in the chain */
	char subject_cn[128];
	char key[65];			/* hex SHA-256 of the DER CertID (cache / bundle key) */
	enum gpa_ocsp_status status;
	int reason;			/* OCSP_REVOKED_STATUS_*, -1 none */
	const char *reason_name;	/* OpenSSL's name ("keyCompromise", "certificateHold"), or NULL */
	bool response_valid;		/* signature, responder authority, CertID, freshness */
	bool nonce_matches;
	bool hold_allowed;		/* revoked by certificateHold and the job allows it */
	bool stale_accepted;		/* past nextUpdate, accepted only because of max_age_s */
	enum gpa_ocsp_source source;
	time_t this_update, next_update;	/* 0 when unknown */
	long age_s;			/* at - thisUpdate */
	char detail[256];		/* why not good / not valid */
	char where[GPA_OCSP_NOTE];	/* "OCSP responder URL", "cache P", "bundle P"; "" none */
	char note[GPA_OCSP_NOTE];	/* a cached answer that did not verify now: which, why, removed */
};

/* The v3 claims for one chain (attestation-formats.md §10.1):
 *   x-nvidia-cert-ocsp-status          = ocsp_status_name(status)
 *   x-nvidia-cert-revocation-reason    = revocation_reason (NULL -> null)
 *   x-nvidia-cert-ocsp-nonce-matches   = nonce_matches
 *   x-nvidia-cert-ocsp-response-valid  = response_valid
 * status: revoked if any checked certificate is revoked (the reason is that
 * of the root-most one; a non-hold revocation is preferred), else error,
 * else not-checked, else unknown, else good. Unlike NVIDIA's SDK the reason
 * is always reported. passed: every checked certificate has a valid response
 * saying good, or revoked by certificateHold with allow_hold; nonce_matches
 * is left to the caller's policy. */
struct gpa_ocsp_chain {
	enum gpa_ocsp_status status;
	const char *revocation_reason;
	bool nonce_matches;
	bool response_valid;
	bool hold_allowed;		/* a certificateHold was accepted: say so in the output */
	bool passed;
	int ncerts;
	struct gpa_ocsp_cert certs[GPA_OCSP_MAX_CHAIN];
	char detail[256];
};

struct gpa_ocsp_job {
	const char *name;			/* for messages, e.g. "GPU 0 driver RIM" */
	STACK_OF(X509) *chain;			/* the validated path, leaf..anchor (borrowed) */
	const struct gpa_anchors *anchors;	/* responder chains verify to these */
	enum gpa_anchor_use use;
	int first;				/* GPA_OCSP_FIRST_DEVICE or GPA_OCSP_FIRST_RIM */
	bool allow_hold;
	struct gpa_ocsp_chain result;		/* out */
};

/* Checks every chain of one verification with one concurrent round of
 * requests. Returns 0 when the checks ran (findings, including failed
 * requests, are in jobs[i].result), -1 on bad arguments or internal error. */
int ocsp_check_all(const struct gpa_ocsp_opts *o, struct gpa_ocsp_job *jobs, size_t njobs,
    time_t at, struct gpa_err *e);

/* Lower level, for tests, the fuzzer and the cache. */
struct gpa_ocsp_query {
	X509 *cert, *issuer;		/* borrowed */
	OCSP_CERTID *id;		/* SHA-1 CertID */
	OCSP_REQUEST *req;		/* with a fresh nonce */
	char key[65];
};
int ocsp_query_init(struct gpa_ocsp_query *q, X509 *cert, X509 *issuer, struct gpa_err *e);
void ocsp_query_clear(struct gpa_ocsp_query *q);
/* DER of the request (malloc'd). */
int ocsp_query_der(const struct gpa_ocsp_query *q, uint8_t **der, size_t *len, struct gpa_err *e);
/* Hex SHA-256 of the DER CertID. */
int ocsp_certid_key(const OCSP_CERTID *id, char out[65]);

/* Processes one DER OCSPResponse for q: fills r (status, validity, nonce,
 * times, detail); nonce_matches is only computed when source is
 * GPA_OCSP_FROM_RESPONDER. untrusted: certificates that may complete the
 * responder's path (the chain). Never fails: problems are findings in r. */
void ocsp_process_response(const uint8_t *der, size_t len, const struct gpa_ocsp_query *q,
    enum gpa_ocsp_source source, STACK_OF(X509) *untrusted, X509_STORE *trust, time_t at,
    const struct gpa_ocsp_opts *o, bool allow_hold, struct gpa_ocsp_cert *r);

/* Building blocks of ocsp_check_all (net/ocspfetch.c). The SHA-1 CertID of
 * cert and its key; a query around such an id (which q owns from then on);
 * the judgement of one answer (parsed, or der/len when parsed is NULL)
 * against the anchors of one use; whether anchors have that use. */
OCSP_CERTID *ocsp_certid_new(X509 *cert, X509 *issuer, char key[65], struct gpa_err *e);
int ocsp_query_from_id(struct gpa_ocsp_query *q, X509 *cert, X509 *issuer, OCSP_CERTID *id,
    const char key[65], struct gpa_err *e);
void ocsp_judge(OCSP_BASICRESP *parsed, const uint8_t *der, size_t len,
    const struct gpa_ocsp_query *q, enum gpa_ocsp_source source, STACK_OF(X509) *untrusted,
    const struct gpa_anchors *anchors, enum gpa_anchor_use use, time_t at,
    const struct gpa_ocsp_opts *o, bool allow_hold, struct gpa_ocsp_cert *r);
bool ocsp_anchors_usable(const struct gpa_anchors *a, enum gpa_anchor_use use);

/* nextUpdate of the SingleResponse whose CertID hashes to key (thisUpdate +
 * 3600 s when absent). The signature is NOT checked (cache bookkeeping only).
 * 0 ok, -1 unparsable / no such response. */
int ocsp_response_next_update(const uint8_t *der, size_t len, const char *key, time_t *next_update);
/* The same, keeping the parsed response (the caller frees it) so that it is
 * decoded once; NULL where ocsp_response_next_update fails. */
OCSP_BASICRESP *ocsp_response_parse(const uint8_t *der, size_t len, const char *key,
    time_t *next_update);

#endif
