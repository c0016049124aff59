/*
 * token/jwks: a set of verification keys by kid, from a JWKS document (as
 * NRAS publishes it, or as 'gpuattest jwks' prints it) or from one PEM
 * public key. NVIDIA's x5c rule (§16.5) with ours on top; every entry that
 * breaks a rule is skipped, never half-used.
 */
#include "token/token_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jose/b64.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "x509/x509.h"

struct jwks_entry {
	char kid[TOKEN_KID_MAX + 1];
	EVP_PKEY *key;
};

struct token_jwks {
	size_t n, skipped;
	struct jwks_entry e[TOKEN_JWKS_MAX_KEYS];
	char last_reason[200];
};

/* A certificate from x5c: standard base64 (RFC 7517 §4.7) DER. */
static X509 *x5c_cert(const json_t *v)
{
	uint8_t *der;
	size_t len;
	X509 *x;

	if (!json_is_string(v) || b64_decode(json_string_value(v), json_string_length(v), false, &der, &len) != 0)
		return NULL;
	x = x509_from_der(der, len);
	free(der);
	return x;
}

/* x5c[0]'s key; with x5c[1], x5c[0] must be signed by it (NVIDIA: the
 * chain above is not validated, and neither are we told what would anchor
 * it, so x5c says "this certificate", nothing more). */
static EVP_PKEY *key_of_x5c(const json_t *x5c, const char **why)
{
	X509 *c0 = NULL, *c1 = NULL;
	EVP_PKEY *k = NULL;

	if (!json_is_array(x5c) || json_array_size(x5c) == 0) {
		*why = "x5c is not a non-empty array";
		return NULL;
	}
	if ((c0 = x5c_cert(json_array_get(x5c, 0))) == NULL) {
		*why = "x5c[0] is not a base64 DER certificate";
		goto out;
	}
	if (json_array_size(x5c) >= 2) {
		if ((c1 = x5c_cert(json_array_get(x5c, 1))) == NULL) {
			*why = "x5c[1] is not a base64 DER certificate";
			goto out;
		}
		if (X509_verify(c0, X509_get0_pubkey(c1)) != 1) {
			*why = "x5c[0] is not signed by x5c[1]";
			goto out;
		}
	}
	if ((k = X509_get_pubkey(c0)) == NULL)
		*why = "x5c[0] has no usable public key";
out:
	ERR_clear_error();
	X509_free(c0);
	X509_free(c1);
	return k;
}

static int b64url_coord(const json_t *v, uint8_t out[48])
{
	uint8_t *raw;
	size_t len;

	if (!json_is_string(v) || token_b64url_decode(json_string_value(v), json_string_length(v), &raw, &len) != 0)
		return -1;
	if (len != 48) {
		free(raw);
		return -1;
	}
	memcpy(out, raw, 48);
	free(raw);
	return 0;
}

/* The EC JWK (kty EC, crv P-384, x, y) as a key. The point goes to OpenSSL
 * as SEC1 04||x||y, which checks that it is on the curve (all a P-384 key
 * needs: the cofactor is 1); libjose's own import would also multiply it
 * by the group order on every import (docs/decisions.md, "Tokens"). */
EVP_PKEY *token_key_of_ec_jwk(const json_t *jwk, const char **why)
{
	const json_t *kty = json_object_get(jwk, "kty"), *crv = json_object_get(jwk, "crv");
	uint8_t point[97];
	OSSL_PARAM_BLD *b = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;

	if (!json_is_string(kty) || strcmp(json_string_value(kty), "EC") != 0 || !json_is_string(crv) ||
	    strcmp(json_string_value(crv), "P-384") != 0) {
		*why = "not an EC P-384 key (ES384 needs one)";
		return NULL;
	}
	if (json_object_get(jwk, "d") != NULL) {
		*why = "a private key (\"d\") in a set of public keys";
		return NULL;
	}
	point[0] = 4;
	if (b64url_coord(json_object_get(jwk, "x"), point + 1) != 0 ||
	    b64url_coord(json_object_get(jwk, "y"), point + 49) != 0) {
		*why = "x or y is not 48 bytes of base64url";
		return NULL;
	}
	if ((b = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "secp384r1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(b)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		*why = "x, y is not a point of P-384";
		k = NULL;
	}
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	return k;
}

/* One entry's key under our rules, or NULL with why. */
static EVP_PKEY *entry_key(const json_t *jwk, const char **why)
{
	const json_t *x5c = json_object_get(jwk, "x5c"), *alg = json_object_get(jwk, "alg");
	EVP_PKEY *kx = NULL, *kj = NULL;

	if (alg != NULL && (!json_is_string(alg) || strcmp(json_string_value(alg), "ES384") != 0)) {
		*why = "alg is not ES384";
		return NULL;
	}
	if (x5c != NULL && (kx = key_of_x5c(x5c, why)) == NULL)
		return NULL;
	if (json_object_get(jwk, "kty") != NULL && (kj = token_key_of_ec_jwk(jwk, why)) == NULL) {
		EVP_PKEY_free(kx);
		return NULL;
	}
	if (kx != NULL && kj != NULL) {
		int same = EVP_PKEY_eq(kx, kj);
		EVP_PKEY_free(kj);
		if (same != 1) {
			*why = "x5c[0] and x/y are different keys";
			EVP_PKEY_free(kx);
			return NULL;
		}
		return kx;
	}
	if (kx == NULL && kj == NULL) {
		*why = "no key: neither x5c nor kty/crv/x/y";
		return NULL;
	}
	if (kx != NULL && !token_pkey_is_p384(kx)) {
		*why = "x5c[0] does not hold a P-384 key (ES384 needs one)";
		EVP_PKEY_free(kx);
		return NULL;
	}
	return kx != NULL ? kx : kj;
}

static void skip(struct token_jwks *j, const char *kid, const char *why)
{
	j->skipped++;
	snprintf(j->last_reason, sizeof(j->last_reason), "kid \"%.60s\": %s", kid, why);
}

/* How many entries of keys carry this kid. A kid twice: which key signs
 * would be a guess, so none of them is kept. */
static size_t kid_count(const json_t *keys, const char *kid)
{
	size_t i, n = 0;
	const json_t *jwk;

	json_array_foreach(keys, i, jwk) {
		const json_t *k = json_object_get(jwk, "kid");
		if (json_is_string(k) && strcmp(json_string_value(k), kid) == 0)
			n++;
	}
	return n;
}

enum gpa_verdict token_jwks_parse(const uint8_t *buf, size_t len, struct token_jwks **out,
    struct gpa_err *e)
{
	json_error_t je;
	json_t *doc, *keys, *jwk;
	struct token_jwks *j;
	size_t i;

	*out = NULL;
	if (len > TOKEN_JWKS_MAX_LEN) {
		gpa_err_set(e, "JWKS larger than %u bytes", TOKEN_JWKS_MAX_LEN);
		return GPA_BAD_INPUT;
	}
	if ((doc = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		gpa_err_set(e, "JWKS is not JSON: %s (line %d)", je.text, je.line);
		return GPA_BAD_INPUT;
	}
	keys = json_object_get(doc, "keys");
	if (!json_is_array(keys)) {
		gpa_err_set(e, "JWKS has no \"keys\" array");
		json_decref(doc);
		return GPA_BAD_INPUT;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		json_decref(doc);
		gpa_err_set(e, "out of memory");
		return GPA_INCOMPLETE;
	}
	json_array_foreach(keys, i, jwk) {
		const json_t *kid = json_object_get(jwk, "kid");
		const char *why = NULL;
		EVP_PKEY *k;

		if (!json_is_object(jwk) || !json_is_string(kid) || json_string_length(kid) == 0 ||
		    json_string_length(kid) > TOKEN_KID_MAX || strlen(json_string_value(kid)) != json_string_length(kid)) {
			skip(j, "?", "an entry without a usable string kid");
			continue;
		}
		if (j->n == TOKEN_JWKS_MAX_KEYS || i >= 4 * TOKEN_JWKS_MAX_KEYS) {
			skip(j, json_string_value(kid), "more keys than one set may hold");
			continue;
		}
		if (kid_count(keys, json_string_value(kid)) > 1) {
			skip(j, json_string_value(kid), "appears more than once in the set");
			continue;
		}
		if ((k = entry_key(jwk, &why)) == NULL) {
			skip(j, json_string_value(kid), why);
			continue;
		}
		snprintf(j->e[j->n].kid, sizeof(j->e[j->n].kid), "%s", json_string_value(kid));
		j->e[j->n++].key = k;
	}
	json_decref(doc);
	*out = j;
	return GPA_PASS;
}

enum gpa_verdict token_jwks_from_pem(const uint8_t *pem, size_t len, const char *kid,
    struct token_jwks **out, struct gpa_err *e)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	struct token_jwks *j;
	char thp[64];

	*out = NULL;
	if (k == NULL && b != NULL) {
		X509 *x;
		(void)BIO_reset(b);
		if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
			k = X509_get_pubkey(x);
			X509_free(x);
		}
	}
	BIO_free(b);
	ERR_clear_error();
	if (k == NULL || !token_pkey_is_p384(k)) {
		gpa_err_set(e, k == NULL ? "not a PEM public key or certificate" :
		    "not an EC P-384 key (ES384 needs one)");
		EVP_PKEY_free(k);
		return GPA_BAD_INPUT;
	}
	if (kid == NULL) {
		json_t *jwk = token_pkey_jwk(k);
		int rc = jwk ? token_jwk_thumbprint(jwk, thp) : -1;
		json_decref(jwk);
		if (rc != 0) {
			EVP_PKEY_free(k);
			gpa_err_set(e, "the key could not be expressed as a JWK");
			return GPA_BAD_INPUT;
		}
		kid = thp;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		EVP_PKEY_free(k);
		gpa_err_set(e, "out of memory");
		return GPA_INCOMPLETE;
	}
	snprintf(j->e[0].kid, sizeof(j->e[0].kid), "%s", kid);
	j->e[0].key = k;
	j->n = 1;
	*out = j;
	return GPA_PASS;
}

EVP_PKEY *token_jwks_find(const struct token_jwks *j, const char *kid)
{
	for (size_t i = 0; j != NULL && i < j->n; i++)
		if (strcmp(j->e[i].kid, kid) == 0)
			return j->e[i].key;
	return NULL;
}

size_t token_jwks_count(const struct token_jwks *j)
{
	return j->n;
}

size_t token_jwks_skipped(const struct token_jwks *j, const char **last_reason)
{
	if (last_reason != NULL)
		*last_reason = j->last_reason;
	return j->skipped;
}

void token_jwks_free(struct token_jwks *j)
{
	if (j == NULL)
		return;
	for (size_t i = 0; i < j->n; i++)
		EVP_PKEY_free(j->e[i].key);
	free(j);
}

static EVP_PKEY *fixed_find(void *ctx, const char *kid, enum gpa_verdict *why, struct gpa_err *e)
{
	const struct token_jwks *j = ctx;
	EVP_PKEY *k = token_jwks_find(j, kid);

	if (k == NULL) {
		*why = GPA_FAIL;
		gpa_err_set(e, "unknown kid \"%.80s\": no such key in the JWKS (%zu usable key(s)%s%s)", kid,
		    j ? j->n : 0, j && j->skipped ? "; skipped: " : "", j && j->skipped ? j->last_reason : "");
	}
	return k;
}

void token_keyring_of_jwks(struct token_keyring *kr, const struct token_jwks *j)
{
	kr->find = fixed_find;
	kr->ctx = (void *)j;
}
