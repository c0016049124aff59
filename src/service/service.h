/*
 * service: `gpuattest serve`, a verifier service for fleets. HTTP
 * (GNU libmicrohttpd) with NRAS v4-compatible endpoints, our own EAR
 * result, health and Prometheus metrics; the appraisal (src/appraise) runs
 * in-process behind them, every verdict is recorded in the audit store
 * (src/audit) before it is answered.
 *
 * Owns: NRAS request bodies (attestation-formats.md §12.2 / §16.5) into an
 * evidence set in memory, API keys (SHA-256 at rest), request size,
 * concurrency, per-client rate limits and timeouts, request ids, metrics,
 * the per-process collateral memory (RIM documents and OCSP results, each
 * key fetched at most once at a time), and the HTTP answers.
 *
 * Never: answers "verified" before its audit row committed (a store that
 * is down is a 503), crashes or hangs on what a client sends (every body is
 * bounded, parsed strictly, and answered with a JSON error and its request
 * id), or issues an unsigned token (without a signing key the token
 * endpoints answer 503 "signing unavailable").
 */
#ifndef GPA_SERVICE_H
#define GPA_SERVICE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "appraise/appraise.h"
#include "evidence/evidence.h"
#include "util/util.h"

/* ---- requests (reqparse.c) ---- */

#define SVC_MAX_BODY_DEFAULT	(4u << 20)	/* 64 GPUs' evidence fits in well under 2 MiB */

struct svc_request {
	enum gpa_device_kind kind;
	uint8_t nonce[SPDM_NONCE_LEN];
	char arch[16];			/* HOPPER, BLACKWELL, LS10 ... as sent */
	char claims_version[8];		/* "2.0", "3.0" (default), "4.0" */
	struct evidence_set set;
};

/* Parses an NRAS attestation request body: one JSON object (no duplicate
 * keys, nothing after it), "nonce" 64 hex digits, "arch" a string naming an
 * architecture of the endpoint's kind, optional "claims_version" 2.0 / 3.0 /
 * 4.0, "evidence_list" 1..64 objects {evidence: base64 report, certificate:
 * base64 PEM chain}. Other top-level keys are ignored (NVIDIA's clients add
 * some). 0, or -1 with e naming the field. */
int svc_parse_request(const uint8_t *body, size_t len, enum gpa_device_kind kind,
    struct svc_request *out, struct gpa_err *e);
void svc_request_clear(struct svc_request *r);

/* ---- API keys (apikeys.c) ---- */

/* A key file holds one "NAME SHA256-HEX" line per key ('#' comments); the
 * keys themselves are never stored. */
struct svc_keys;
struct svc_keys *svc_keys_load(const char *path, struct gpa_err *e);
void svc_keys_free(struct svc_keys *k);
size_t svc_keys_count(const struct svc_keys *k);
/* The key's name when token is one of the keys (constant-time compare of
 * the digests), else NULL. */
const char *svc_keys_check(const struct svc_keys *k, const char *token);
/* A new random key "gpak_<64 hex>" and its line appended to path (created
 * 0600). The key is returned once; only its hash is kept. */
int svc_keys_add(const char *path, const char *name, char key[80], struct gpa_err *e);

/* ---- per-client rate limit (ratelimit.c) ---- */

struct svc_ratelimit;
/* rate requests per second with bursts of burst; rate 0 = unlimited. */
struct svc_ratelimit *svc_ratelimit_new(double rate, double burst);
void svc_ratelimit_free(struct svc_ratelimit *r);
/* true: allowed now; false: refused, *retry_after_s when the next is. */
bool svc_ratelimit_take(struct svc_ratelimit *r, const char *client, double now_s,
    int *retry_after_s);

/* ---- metrics (metrics.c) ---- */

enum svc_endpoint {
	SVC_EP_GPU, SVC_EP_SWITCH, SVC_EP_EAR_GPU, SVC_EP_EAR_SWITCH, SVC_EP_JWKS,
	SVC_EP_HEALTH, SVC_EP_METRICS, SVC_EP_OTHER, SVC_EP_COUNT
};
const char *svc_endpoint_name(enum svc_endpoint ep);

void svc_metrics_request(enum svc_endpoint ep, int http_status, double seconds);
void svc_metrics_verdict(enum gpa_verdict v);
void svc_metrics_error(const char *kind);	/* a fixed label: "audit", "parse", ... */
void svc_metrics_cache(const char *kind, bool hit);	/* "rim", "ocsp" */
/* Prometheus text exposition format 0.0.4. malloc'd. */
char *svc_metrics_text(void);

/* ---- the verification engine (engine.c, collcache.c) ---- */

struct svc_engine_opts {
	const char *const *anchor_files;	/* extra trust anchors (PEM) */
	int nanchor_files;
	bool no_pinned;
	const char *rim_dirs[3];
	int nrim_dirs;
	bool no_ocsp;				/* revocation not checked (said in every result) */
	bool allow_hold_rim;
	const char *ocsp_url, *rim_url, *service_key, *cache_dir;
	bool no_cache, offline;
	long ocsp_ttl_s;			/* how long one OCSP result serves, within nextUpdate */
	bool fixed_time;			/* verify as of at (tests with recorded evidence) */
	time_t at;
};

struct svc_engine;
struct svc_engine *svc_engine_new(const struct svc_engine_opts *o, struct gpa_err *e);
void svc_engine_free(struct svc_engine *g);
/* Appraises the request's evidence against its nonce. Takes the evidence
 * buffers (req->set is emptied); the appraisal points into *held, which
 * the caller clears after the appraisal. 0, or -1 on an internal error. */
int svc_engine_verify(struct svc_engine *g, struct svc_request *req, struct evidence_set *held,
    struct gpa_appraisal *out, struct gpa_err *e);

/* The single-flight memory of collateral (collcache.c). */
struct svc_rim_memo;
struct svc_rim_memo *svc_rim_memo_new(const struct gpa_rim_provider *inner);
void svc_rim_memo_free(struct svc_rim_memo *m);
void svc_rim_memo_provider(struct svc_rim_memo *m, struct gpa_rim_provider *out);

struct gpa_ocsp_opts;
struct svc_ocsp_memo;
struct svc_ocsp_memo *svc_ocsp_memo_new(const struct gpa_ocsp_opts *o, const struct gpa_anchors *a,
    bool allow_hold_rim, long ttl_s);
void svc_ocsp_memo_free(struct svc_ocsp_memo *m);
void svc_ocsp_memo_stage(struct svc_ocsp_memo *m, struct gpa_ocsp_stage *out);

/* ---- the server (server.c) ---- */

struct audit_store;
struct svc_signer;

struct svc_opts {
	const char *listen;		/* "127.0.0.1" (default), "::1", "0.0.0.0" ... */
	int port;			/* default 8443 with TLS, 8080 without; 0 = any free port */
	const char *port_file;		/* when set: the bound port is written there */
	const char *tls_cert, *tls_key;	/* PEM files: HTTPS; both or neither */
	const char *client_ca;		/* PEM: require client certificates from it (mTLS) */
	const char *api_keys;		/* key file; NULL: no keys (loopback only) */
	bool insecure_no_auth;		/* allow no keys on a non-loopback address */
	size_t max_body;
	int threads;			/* verifications at once; default: CPUs */
	int max_connections;
	int conn_timeout_s;		/* idle connection */
	int request_timeout_s;		/* a whole request, first byte to last */
	double rate, burst;		/* per client */
	const char *issuer;		/* iss of every token; default http(s)://LISTEN:PORT */
	const char *replica;		/* audit "replica"; default host:pid */
};

/* The client of a TLS connection by its certificate (mtls.c): 0 with out =
 * "cert:SUBJECT-DN sha256:16-HEX" when the client presented a certificate
 * that verifies to the --client-ca and allows client authentication; -1
 * with why. */
struct MHD_Connection;
int svc_mtls_client(struct MHD_Connection *c, char *out, size_t len, char *why, size_t wlen);

/* Runs until SIGTERM / SIGINT. Returns the exit code. */
int svc_serve(const struct svc_opts *o, struct svc_engine *g, struct audit_store *store,
    struct svc_signer *signer);

/* ---- signing (sign.c, over src/token) ---- */

/* The service's ES384 key: key_path (must exist), or NULL for
 * signing-key.pem under the state directory (generated, 0600, on first
 * start); its certificate KEY.crt beside it (self-signed when made here)
 * goes into the JWKS as x5c. NULL with e set when signing is unavailable:
 * the service then refuses every token endpoint (503). */
struct svc_signer *svc_signer_open(const char *key_path, struct gpa_err *e);
void svc_signer_free(struct svc_signer *s);
/* NRAS's detached EAT for the appraisal (attestation-formats.md §10.5,
 * §12.3): malloc'd JSON text. */
char *svc_sign_detached_eat(struct svc_signer *s, const char *issuer, const struct gpa_appraisal *a,
    const struct svc_request *req, struct gpa_err *e);
/* Our EAR (compact JWS). malloc'd. */
char *svc_sign_ear(struct svc_signer *s, const char *issuer, const struct gpa_appraisal *a,
    const struct svc_request *req, struct gpa_err *e);
/* The public key set (GET /.well-known/jwks.json). malloc'd JSON. */
char *svc_signer_jwks(struct svc_signer *s);

/* A request id: 32 hex digits from the OS random source. */
void svc_request_id(char out[33]);

#endif
