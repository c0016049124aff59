/*
 * token: signed results others can check. Compact JWS (ES384 only) and JWTs,
 * EARs (IETF RATS "EAT Attestation Results") and NRAS-shaped detached EATs
 * built from an appraisal, their validation, and a set of verification keys
 * (JWKS).
 *
 * Owns: the JOSE rules we apply (docs/attestation-formats.md §12.4, §16.5,
 * stricter where NVIDIA is weak: ES384 only, kid required and found, iss
 * byte-equal to the expected issuer, exp required, exp/nbf/iat with a stated
 * leeway, the x5c rule, no "crit"), the EAR and detached-EAT shapes, and the
 * per-device policy an NRAS answer must satisfy (§11.1: an overall "true"
 * does not excuse a failing device).
 *
 * Uses libjose (latchset) for JWKs: PEM key <-> JWK, JWKS entries -> keys,
 * RFC 7638 thumbprints (the default kid), base64url. The ES384 signature is
 * computed by OpenSSL on the key imported once, and checked by
 * ecdsa_verify_raw_sha384 (x509/: Nettle first, OpenSSL the last word);
 * why, in docs/decisions.md ("Tokens"). The tests check every token both
 * ways against libjose's own jose_jws_sig / jose_jws_ver and python-jwt.
 *
 * Never: does I/O (the caller reads files and fetches JWKS; a key lookup is
 * a callback so that the caller can refresh its JWKS on an unknown kid),
 * follows jku / x5u, or trusts a key because a token names it.
 *
 * Verdicts are enum gpa_verdict: GPA_PASS valid; GPA_FAIL a rule or a
 * signature failed (a token that is not trustworthy, or an answer that says
 * "not genuine"); GPA_BAD_INPUT the token or JWKS cannot be decoded at all;
 * GPA_INCOMPLETE a key could not be obtained (network). Every non-pass comes
 * with a message in e naming the token part and the cause.
 */
#ifndef GPA_TOKEN_H
#define GPA_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "appraise/appraise.h"
#include "util/util.h"

#define TOKEN_MAX_LEN		(1u << 20)	/* one compact JWS, or a whole detached EAT */
#define TOKEN_JWKS_MAX_LEN	(256u << 10)
#define TOKEN_JWKS_MAX_KEYS	64
#define TOKEN_KID_MAX		256
#define TOKEN_DEFAULT_LIFETIME	3600		/* exp = iat + 1 h, as NVIDIA's tokens */
#define TOKEN_DEFAULT_LEEWAY	60		/* clock skew allowed on exp/nbf/iat, as NVIDIA 2.0 */
#define TOKEN_DEFAULT_ISSUER	"gpuattest"
#define TOKEN_MAX_SUBMODS	GPA_EVIDENCE_MAX_ITEMS

/* ---- signing ----------------------------------------------------------- */

/* An EC P-384 private key, imported once. */
struct token_key;

/* PEM private key ("EC PRIVATE KEY" or PKCS#8 "PRIVATE KEY", unencrypted),
 * which must be EC P-384. NULL with a message otherwise. */
struct token_key *token_key_from_pem(const uint8_t *pem, size_t len, struct gpa_err *e);
void token_key_free(struct token_key *k);
/* RFC 7638 SHA-256 thumbprint of the public JWK, base64url: the kid used
 * when none is given. */
const char *token_key_thumbprint(const struct token_key *k);
/* {"keys": [public JWK with kid, "alg": "ES384", "use": "sig"]}; kid NULL:
 * the thumbprint. With certs (PEM text of the key's certificate, then its
 * issuers; may be NULL), "x5c" carries them, so that NVIDIA's verifiers,
 * which take the key from x5c[0], accept the set; the first certificate
 * must hold this key. NULL with e on failure. */
json_t *token_key_jwks(const struct token_key *k, const char *kid, const char *certs_pem,
    struct gpa_err *e);

/* Signs any JSON object as a compact JWS: protected header
 * {"alg":"ES384","kid":kid,"typ":typ} (typ omitted when NULL), payload the
 * compact JSON text of payload. kid NULL: the thumbprint. malloc'd. */
char *token_sign_compact(const struct token_key *k, const char *kid, const char *typ,
    const json_t *payload, struct gpa_err *e);

/* Who signs and when, for JWTs. */
struct token_signer {
	const struct token_key *key;
	const char *kid;		/* NULL: the key's thumbprint */
	const char *issuer;		/* NULL: TOKEN_DEFAULT_ISSUER */
	time_t now;			/* iat = nbf = now */
	long lifetime_s;		/* exp = now + this; 0: TOKEN_DEFAULT_LIFETIME */
};

/* Adds iss, iat, nbf, exp and a fresh jti (64 hex digits) to claims (an
 * object; replacing those keys if present) and signs it, typ "JWT". */
char *token_sign_jwt(const struct token_signer *s, json_t *claims, struct gpa_err *e);

/* The EAR of an appraisal, unsigned and without time claims:
 *   eat_profile "tag:github.com,2023:veraison/ear", ear_verifier_id,
 *   eat_nonce (base64url of the nonce), ear_status (affirming only when the
 *   verdict is pass; contraindicated on a failure or unreadable evidence;
 *   none when it could not complete), x-gpuattest-verdict / -exit-code,
 *   submods {"GPU-0": {ear_status, ear_appraisal_policy_id,
 *   ear_attester_claims: the device's NVIDIA claims, x-gpuattest-failed-checks}}.
 * NULL on allocation failure. */
json_t *token_ear_claims(const struct gpa_appraisal *a);
/* token_ear_claims, signed as a JWT. malloc'd. */
char *token_ear_sign(const struct token_signer *s, const struct gpa_appraisal *a, struct gpa_err *e);

/* Submodule label of the n-th device of its type: "GPU-0", "SWITCH-1". */
void token_submod_label(enum gpa_device_kind kind, int n, char out[32]);

/* An NRAS-shaped detached EAT (§10.5):
 *   [["JWT", overall], {"GPU-0": jwt, ..., "SWITCH-0": jwt}]
 * from device claim sets (objects; "x-nvidia-device-type" "nvswitch" makes a
 * SWITCH label, anything else GPU). Each device JWT is its claims plus the
 * JWT claims; the overall JWT carries sub "NVIDIA-PLATFORM-ATTESTATION",
 * x-nvidia-ver "3.0", x-nvidia-overall-att-result, eat_nonce (hex) and
 * submods {label: ["DIGEST", ["SHA-256", sha256 hex of the device JWT]]}. */
json_t *token_detached_eat(const struct token_signer *s, json_t *const *claims, size_t n,
    bool overall, const char *nonce_hex, struct gpa_err *e);
/* The same from an appraisal: its devices' claims, overall = verdict pass. */
json_t *token_detached_eat_from_appraisal(const struct token_signer *s, const struct gpa_appraisal *a,
    struct gpa_err *e);

/* ---- verification keys (JWKS) -------------------------------------------- */

struct token_jwks;

/* Parses a JWKS ({"keys": [...]}), NVIDIA's x5c rule (§16.5) and ours:
 * an entry needs a string kid; its key is the public key of x5c[0] when
 * x5c is present (with x5c[1], x5c[0] must be signed by x5c[1]; further
 * certificates ignored, as NVIDIA), else the EC JWK (kty EC, crv P-384,
 * x, y); with both, they must be the same key. Only P-384 keys are kept;
 * an entry that breaks a rule is skipped and counted (token_jwks_skipped,
 * with the last reason). Malformed JSON or no "keys" array: GPA_BAD_INPUT. */
enum gpa_verdict token_jwks_parse(const uint8_t *buf, size_t len, struct token_jwks **out,
    struct gpa_err *e);
/* A one-key set from a PEM public key (or certificate), under kid (NULL:
 * the key's RFC 7638 thumbprint). */
enum gpa_verdict token_jwks_from_pem(const uint8_t *pem, size_t len, const char *kid,
    struct token_jwks **out, struct gpa_err *e);
/* The key of kid, or NULL. Borrowed. */
EVP_PKEY *token_jwks_find(const struct token_jwks *j, const char *kid);
size_t token_jwks_count(const struct token_jwks *j);
size_t token_jwks_skipped(const struct token_jwks *j, const char **last_reason);
void token_jwks_free(struct token_jwks *j);

/* How verification finds a key. find returns the key of kid (borrowed; it
 * stays valid until the verification returns) or NULL with *why set:
 * GPA_FAIL no such key (after any refresh), GPA_INCOMPLETE the keys could
 * not be obtained; a message in e. */
struct token_keyring {
	EVP_PKEY *(*find)(void *ctx, const char *kid, enum gpa_verdict *why, struct gpa_err *e);
	void *ctx;
};
/* A keyring over a fixed JWKS. */
void token_keyring_of_jwks(struct token_keyring *kr, const struct token_jwks *j);

/* ---- verification -------------------------------------------------------- */

struct token_rules {
	const char *issuer;		/* required: iss must be byte-equal */
	time_t now;
	long leeway_s;			/* allowed clock skew, >= 0 */
	bool have_nonce;		/* the relying party's expected nonce */
	uint8_t nonce[64];
	size_t nonce_len;
};

/* One compact JWS/JWT: structure, header (alg ES384, kid, no crit), key,
 * signature, iss, exp/nbf/iat. On pass *payload is the verified payload
 * (caller decrefs); on a failure after the signature verified it is also
 * set (claims to show), else NULL. kid_out (may be NULL) receives the kid. */
enum gpa_verdict token_jwt_verify(const char *compact, size_t len, const struct token_rules *r,
    const struct token_keyring *kr, json_t **payload, char kid_out[TOKEN_KID_MAX + 1],
    struct gpa_err *e);

/* What a verified token says. */
struct token_result {
	json_t *claims;		/* detached EAT: {"overall": payload, "submods": {label: payload}};
				   EAR: the payload. NULL unless every signature verified */
	size_t ndevices;
	int ndevices_failed;
};
void token_result_clear(struct token_result *t);

/* A detached EAT (§10.5, §12.4, §16.5): every JWT as token_jwt_verify,
 * each submod's SHA-256 digest, the same labels both sides, eat_nonce
 * present (equal to the expected nonce when given, and in every submod
 * that carries one), and the verdict: overall x-nvidia-overall-att-result
 * true AND every device passing §11.1 (measres success, every cert chain
 * valid with OCSP good, no x-nvidia-error-details, no opaque-data
 * mismatch). A failing device fails the token even when overall says true. */
enum gpa_verdict token_eat_verify(const uint8_t *buf, size_t len, const struct token_rules *r,
    const struct token_keyring *kr, struct token_result *out, struct gpa_err *e);
/* An EAR: token_jwt_verify, eat_nonce (base64url) equal to the expected
 * nonce when given, and ear_status "affirming" at the top and in every one
 * of a non-empty submods. Surrounding whitespace is ignored. */
enum gpa_verdict token_ear_verify(const uint8_t *buf, size_t len, const struct token_rules *r,
    const struct token_keyring *kr, struct token_result *out, struct gpa_err *e);

/* The §11.1 policy on one device's NVIDIA claims (GPU or switch, claims
 * 3.0/4.0): GPA_PASS, or GPA_FAIL with the first reason in e. A set that
 * is neither a GPU's nor a switch's is GPA_BAD_INPUT. */
enum gpa_verdict token_device_claims_pass(const json_t *claims, struct gpa_err *e);

#endif
