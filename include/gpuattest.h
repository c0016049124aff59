/*
 * gpuattest: verify that NVIDIA GPUs and NVSwitches are genuine, run the
 * firmware NVIDIA signed, and are in the expected confidential-computing
 * mode.
 *
 * The whole public surface: a configuration, a result, and the calls that
 * turn evidence into a result. Objects come in _new/_free pairs; calls
 * return 0 on success or -1, and gpuattest_config_error() says why.
 * Everything that weakens verification has "insecure" in its name.
 *
 *	gpuattest_config *cfg = gpuattest_config_new();
 *	gpuattest_config_add_rim_dir(cfg, "/var/lib/rims");
 *	gpuattest_result *res;
 *	if (gpuattest_verify_evidence_file(cfg, "evidence.json", &res) == 0) {
 *		int verdict = gpuattest_result_verdict(res);	// GPUATTEST_VERIFIED ...
 *		char *json = gpuattest_result_json(res);
 *		...
 *		free(json);
 *		gpuattest_result_free(res);
 *	}
 *	gpuattest_config_free(cfg);
 */
#ifndef GPUATTEST_H
#define GPUATTEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif
/* The library is built with hidden visibility; what this header declares is
 * what it exports (src/api/libgpuattest.map lets only gpuattest_* out). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define GPUATTEST_VERSION "0.1.0"
/* The version of the result document (gpuattest_result_json, and the tool's
 * --format json), its "schema_version"; described by
 * gpuattest-result.schema.json. New keys may appear within a version; a
 * changed meaning or a removed key changes it. */
#define GPUATTEST_SCHEMA_VERSION "1.0"

/* Verdicts; they are also the exit codes of the gpuattest tool. */
enum gpuattest_verdict {
	GPUATTEST_VERIFIED = 0,		/* every check ran and passed */
	GPUATTEST_FAILED = 1,		/* the evidence does not satisfy the policy */
	GPUATTEST_BAD_INPUT = 2,	/* evidence or a RIM is unreadable / malformed */
	GPUATTEST_INCOMPLETE = 3,	/* could not complete (RIM unavailable, network, driver) */
};

typedef struct gpuattest_config gpuattest_config;
typedef struct gpuattest_result gpuattest_result;

gpuattest_config *gpuattest_config_new(void);
void gpuattest_config_free(gpuattest_config *cfg);
/* Why the last call on cfg failed. */
const char *gpuattest_config_error(const gpuattest_config *cfg);

/* Trust: the two pinned NVIDIA roots, plus anchors named here (PEM files of
 * CA certificates). Each use has its own anchors: a device anchor validates
 * device identity chains (GPU, NVSwitch) only, a RIM anchor RIM signing
 * chains only, so a RIM-signing CA can never mint devices. */
int gpuattest_config_add_device_anchor_file(gpuattest_config *cfg, const char *path);
int gpuattest_config_add_rim_anchor_file(gpuattest_config *cfg, const char *path);
/* Both uses at once (a test PKI whose one file holds both roots). Prefer
 * the two calls above. */
int gpuattest_config_add_trust_anchor_file(gpuattest_config *cfg, const char *path);
/* Drops the pinned NVIDIA roots: only named anchors are trusted. */
int gpuattest_config_no_pinned_anchors(gpuattest_config *cfg);
/* Verify as of this instant (default: now). */
int gpuattest_config_set_time(gpuattest_config *cfg, time_t at);
/* The nonce the evidence must carry (32 bytes): the one you asked the GPUs
 * to sign. Without it recorded evidence cannot pass: freshness is not
 * proven and the verdict is GPUATTEST_INCOMPLETE ... */
int gpuattest_config_set_nonce(gpuattest_config *cfg, const uint8_t *nonce, size_t len);
/* ... unless this is called: then the evidence's own nonce is accepted, a
 * possibly replayed file passes, and the result lists the weakening. */
int gpuattest_config_insecure_accept_evidence_nonce(gpuattest_config *cfg);
/* RIM directories, searched in the order added, before the collateral
 * bundle, the cache and the RIM service. At most 3: a 4th fails. */
int gpuattest_config_add_rim_dir(gpuattest_config *cfg, const char *dir);
/* Skip certificate revocation checks. Verification can then still pass,
 * and the result says that revocation was not checked. */
int gpuattest_config_insecure_skip_revocation(gpuattest_config *cfg);

/* Revocation and reference manifests over the network. Defaults: NVIDIA's
 * OCSP responder and RIM service; environment GPUATTEST_OCSP_URL,
 * GPUATTEST_RIM_URL, GPUATTEST_SERVICE_KEY, GPUATTEST_CACHE_DIR. */
int gpuattest_config_set_ocsp_url(gpuattest_config *cfg, const char *url);
int gpuattest_config_set_rim_url(gpuattest_config *cfg, const char *url);
int gpuattest_config_set_service_key(gpuattest_config *cfg, const char *key);
/* HTTP: connect timeout and per-attempt timeout in ms (0: default), retries
 * on transient failures (-1: default). */
int gpuattest_config_set_http(gpuattest_config *cfg, long connect_timeout_ms, long timeout_ms,
    int retries);
/* The cache of RIMs (re-verified on use) and OCSP answers (never past
 * nextUpdate). Default $XDG_CACHE_HOME/gpuattest, /var/cache/gpuattest for root. */
int gpuattest_config_set_cache_dir(gpuattest_config *cfg, const char *dir);
int gpuattest_config_no_cache(gpuattest_config *cfg);
/* No network at all: RIMs and OCSP answers only from directories, the
 * collateral bundle and the cache. */
int gpuattest_config_offline(gpuattest_config *cfg);
/* Offline collateral made by fetch-collateral. Its OCSP answers carry no
 * nonce of ours; they are accepted until their nextUpdate (plus max_age,
 * when widened explicitly) and their age is reported. */
int gpuattest_config_set_collateral(gpuattest_config *cfg, const char *path);
int gpuattest_config_set_max_ocsp_age(gpuattest_config *cfg, long seconds);
/* A RIM signing certificate on hold (certificateHold) is accepted, and the
 * output says so. Device certificates on hold always fail. */
int gpuattest_config_allow_rim_cert_hold(gpuattest_config *cfg);
/* Accept cached OCSP answers that do not carry this run's nonce. */
int gpuattest_config_insecure_accept_cached_ocsp(gpuattest_config *cfg);

/* NVIDIA GPU claims version of the result: 4 (default, NVIDIA's attestation
 * SDK 2.0: adds x-nvidia-attester-claims and
 * x-nvidia-mismatch-opaque-data-records) or 3 (the 1.x SDK's set, for
 * relying-party policies written against it). NVSwitch claims are 3.0
 * either way. Anything else fails. */
int gpuattest_config_set_claims_version(gpuattest_config *cfg, int version);

/* A relying-party policy decides the verdict, as in NVIDIA's SDK: a Rego
 * policy (data.policy.nv_match on the JSON array of device claim sets, in
 * the subset of Rego README.md describes) or a JSON policy of NVIDIA's Python
 * SDK (authorization-rules), chosen by content. It is loaded here: a policy
 * outside the subset, malformed or over 256 KiB fails (-1; the error names
 * the file, line and column). It can accept only failures NVIDIA's claims
 * describe on authentic evidence (expired or not-yet-valid chains, RIM
 * certificates revoked or unknown, OCSP answers without the nonce,
 * measurement or opaque-data mismatches); each is listed as a weakening.
 * path / text NULL removes the policy. name (may be NULL: "policy") names
 * an in-memory policy in messages and in the result. */
int gpuattest_config_set_policy_file(gpuattest_config *cfg, const char *path);
int gpuattest_config_set_policy(gpuattest_config *cfg, const char *text, size_t len, const char *name);

/* Fail unless at least n GPUs are genuine (default: no expectation). */
int gpuattest_config_expect_gpus(gpuattest_config *cfg, int n);
/* Accept GPUs whose driver is in developer-tools (debug) mode. Such GPUs
 * can be inspected by a debugger: this is not confidential. */
int gpuattest_config_insecure_allow_dev_tools(gpuattest_config *cfg);

/* Verifies GPU evidence in NVIDIA's JSON format (array or NRAS request). */
int gpuattest_verify_evidence_file(gpuattest_config *cfg, const char *path,
    gpuattest_result **res);
/* Verifies one GPU report (binary or hex text file) with its PEM chain. */
int gpuattest_verify_report_files(gpuattest_config *cfg, const char *report_path,
    const char *chain_path, gpuattest_result **res);

/* Verifies a whole Protected PCIe system offline: GPU evidence (may be NULL)
 * and NVSwitch evidence (NVIDIA's JSON), one verdict including the NVLink
 * topology. */
int gpuattest_verify_system_files(gpuattest_config *cfg, const char *gpu_path,
    const char *switch_path, gpuattest_result **res);

enum gpuattest_verdict gpuattest_result_verdict(const gpuattest_result *res);
/* Number of devices that passed every check. */
int gpuattest_result_genuine_gpus(const gpuattest_result *res);
/* The result document: verdict, per-device checks and NVIDIA v3 claims.
 * malloc'd JSON text; free() it. */
char *gpuattest_result_json(const gpuattest_result *res);
/* A readable report. malloc'd; free() it. */
char *gpuattest_result_text(const gpuattest_result *res, int color);
void gpuattest_result_free(gpuattest_result *res);

/* ---- Embedding: evidence from memory, the live system, the results ---- */

/* The library's version at run time ("0.1.0"); GPUATTEST_VERSION is the
 * version of the header a program was compiled with. */
const char *gpuattest_version(void);

/* What the last failed call on cfg stands for: GPUATTEST_BAD_INPUT (bad
 * usage, unreadable or malformed input) or GPUATTEST_INCOMPLETE (the driver,
 * a library or the machine could not be used). GPUATTEST_VERIFIED when no
 * call failed. The gpuattest tool exits with it. */
enum gpuattest_verdict gpuattest_config_error_verdict(const gpuattest_config *cfg);

/* The same formats as the _file calls, from len bytes at buf (no NUL
 * terminator needed; the bytes are copied, buf may be freed afterwards). */
int gpuattest_verify_evidence_buffer(gpuattest_config *cfg, const void *buf, size_t len,
    gpuattest_result **res);
/* One report (binary, or hex text) and its PEM chain (leaf first). */
int gpuattest_verify_report_buffer(gpuattest_config *cfg, const void *report, size_t report_len,
    const char *chain_pem, size_t chain_len, gpuattest_result **res);
/* GPU evidence (gpu may be NULL) and NVSwitch evidence of one system. */
int gpuattest_verify_system_buffers(gpuattest_config *cfg, const void *gpu, size_t gpu_len,
    const void *sw, size_t sw_len, gpuattest_result **res);

/* The live system, through the NVIDIA driver: NVML (default
 * libnvidia-ml.so.1, environment GPUATTEST_NVML_LIB) and, in Protected PCIe
 * mode, NSCQ for the NVSwitches (default libnvidia-nscq.so.2, environment
 * GPUATTEST_NSCQ_LIB). NULL restores the default. */
int gpuattest_config_set_nvml_lib(gpuattest_config *cfg, const char *path);
int gpuattest_config_set_nscq_lib(gpuattest_config *cfg, const char *path);
/* Attest only these GPUs: NVML indices, "0,3" (default: all). */
int gpuattest_config_select_gpus(gpuattest_config *cfg, const char *list);
/* Fail unless at least n NVSwitches are genuine. */
int gpuattest_config_expect_switches(gpuattest_config *cfg, int n);
/* Collects a report from every selected GPU (and NVSwitch in Protected
 * PCIe mode) over one nonce, fresh from the OS random source unless
 * gpuattest_config_set_nonce gave one, and verifies them with the driver's
 * view of the system (CC mode, versions). -1 when the driver cannot be
 * used (gpuattest_config_error_verdict: GPUATTEST_INCOMPLETE) or the
 * selection names GPUs that do not exist (GPUATTEST_BAD_INPUT). The GPUs'
 * ready state is never changed by this call. */
int gpuattest_verify_live(gpuattest_config *cfg, gpuattest_result **res);
/* Collects the same evidence without verifying it: NVIDIA's serialized
 * JSON for the GPUs and (NULL when not in Protected PCIe mode) for the
 * NVSwitches, malloc'd; free() them. */
int gpuattest_collect_evidence(gpuattest_config *cfg, char **gpu_json, char **switch_json);

/* Devices of a result, in evidence order (GPUs, then NVSwitches). Indices
 * run from 0 to gpuattest_result_device_count() - 1; out of range, the
 * accessors return NULL or -1. Strings belong to the result. */
enum gpuattest_device_kind {
	GPUATTEST_DEVICE_GPU = 0,
	GPUATTEST_DEVICE_SWITCH = 1,
};
/* The outcome of one check; "not done" keeps a result from passing. */
enum gpuattest_outcome {
	GPUATTEST_CHECK_PASS = 0,
	GPUATTEST_CHECK_FAIL = 1,
	GPUATTEST_CHECK_BAD_INPUT = 2,
	GPUATTEST_CHECK_NOT_DONE = 3,
	GPUATTEST_CHECK_SKIPPED = 4,	/* the caller chose to skip it (e.g. revocation) */
};
int gpuattest_result_genuine_switches(const gpuattest_result *res);
/* The nonce the evidence was judged against, 64 hex digits. */
const char *gpuattest_result_nonce(const gpuattest_result *res);
int gpuattest_result_device_count(const gpuattest_result *res);
int gpuattest_result_device_kind(const gpuattest_result *res, int i);
/* "GPU 0", "NVSwitch 1" */
const char *gpuattest_result_device_label(const gpuattest_result *res, int i);
/* The GPU's UUID when known (live, or recorded with one), else "". */
const char *gpuattest_result_device_uuid(const gpuattest_result *res, int i);
/* -1 when out of range, else a gpuattest_verdict. */
int gpuattest_result_device_verdict(const gpuattest_result *res, int i);
/* The device's NVIDIA v3 claims (GPU or switch shape). malloc'd; free() it. */
char *gpuattest_result_device_claims_json(const gpuattest_result *res, int i);
int gpuattest_result_device_check_count(const gpuattest_result *res, int i);
/* Check k of device i: its stable id ("report-signature", ...), outcome and
 * a sentence saying what was found. 0, or -1 when out of range. Any of the
 * pointers may be NULL. */
int gpuattest_result_device_check(const gpuattest_result *res, int i, int k, const char **id,
    int *outcome, const char **detail);

/* ---- Signed results (tokens) ---- */

/* What signs results: an EC P-384 key (ES384), the kid in each token's
 * header and the issuer (iss). key_pem: an unencrypted PEM private key of
 * key_len bytes ('openssl ecparam -name secp384r1 -genkey -noout'), or NULL
 * for a fresh key made now and kept only in memory (relying parties then
 * need gpuattest_signer_jwks of this signer). kid NULL: the key's RFC 7638
 * thumbprint; issuer NULL: "gpuattest". 0, or -1 with
 * gpuattest_config_error(cfg). */
typedef struct gpuattest_signer gpuattest_signer;
int gpuattest_signer_new(gpuattest_config *cfg, const char *key_pem, size_t key_len, const char *kid,
    const char *issuer, gpuattest_signer **out);
void gpuattest_signer_free(gpuattest_signer *s);
/* The kid its tokens carry. Belongs to the signer. */
const char *gpuattest_signer_kid(const gpuattest_signer *s);
/* {"keys": [its public JWK with kid, alg ES384, use sig]}, what
 * gpuattest_verify_token (and 'gpuattest verify-token --jwks') checks
 * with. malloc'd; free() it. NULL when out of memory. */
char *gpuattest_signer_jwks(const gpuattest_signer *s);
/* The result as a signed EAR (compact JWS), as 'gpuattest verify
 * --result-token' writes it: ear_status affirming only when verified,
 * submods GPU-0, SWITCH-0, ... with each device's NVIDIA claims, eat_nonce,
 * exp one hour after now. Made for every verdict. *token malloc'd. */
int gpuattest_result_sign_ear(gpuattest_config *cfg, const gpuattest_signer *s,
    const gpuattest_result *res, char **token);
/* The result as an NRAS-shaped detached EAT, JSON text
 * [["JWT", overall], {"GPU-0": jwt, ...}], as the verifier service's
 * /v4/attest/gpu answers: x-nvidia-overall-att-result, eat_nonce (hex),
 * submods digests; each device JWT carries its NVIDIA claims. malloc'd. */
int gpuattest_result_sign_detached_eat(gpuattest_config *cfg, const gpuattest_signer *s,
    const gpuattest_result *res, char **token);
/* Any JSON object (claims_json, NUL-terminated) signed as a JWT: iat, nbf,
 * exp (one hour) and a fresh jti are added, and iss: the claims' own "iss"
 * when they carry a non-empty string, else the signer's. *token malloc'd. */
int gpuattest_signer_sign_jwt(gpuattest_config *cfg, const gpuattest_signer *s, const char *claims_json,
    char **token);

enum gpuattest_token_type {
	GPUATTEST_TOKEN_DETECT = 0,		/* '[' first: a detached EAT, else an EAR */
	GPUATTEST_TOKEN_EAR = 1,
	GPUATTEST_TOKEN_DETACHED_EAT = 2,
	GPUATTEST_TOKEN_JWT = 3,		/* any JWT: signature, header, iss and times only */
};
/* A relying party's check of a token (len bytes), with the rules of
 * 'gpuattest verify-token': compact JWS with alg ES384 only, a kid found in
 * keys, iss byte-equal to issuer (NULL: "gpuattest"; an NRAS token's is the
 * NRAS base URL), exp not past and nbf/iat not ahead (60 s leeway, as of
 * gpuattest_config_set_time or now), the nonce of gpuattest_config_set_nonce
 * when one was set; an EAR needs ear_status affirming at the top and in
 * every submod; a detached EAT every submod digest, and a true overall
 * result with every device passing NVIDIA's policy. keys (keys_len bytes):
 * a JWKS, or a PEM public key or certificate (kid: its thumbprint).
 * Returns a gpuattest_verdict: GPUATTEST_VERIFIED, _FAILED (not
 * trustworthy, or says not genuine), _BAD_INPUT (token or keys cannot be
 * decoded, bad arguments); gpuattest_config_error(cfg) says why. When
 * claims_json is not NULL it receives the verified payloads (a detached
 * EAT: {"overall": ..., "submods": {"GPU-0": ...}}), malloc'd, or NULL
 * unless every signature verified. */
int gpuattest_verify_token(gpuattest_config *cfg, const void *token, size_t len, int type,
    const char *keys, size_t keys_len, const char *issuer, char **claims_json);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif
#endif
