/*
 * token/jws: the signing key, compact JWS ES384 signing, and the checks of
 * one compact JWS/JWT (structure, header, key, signature, iss and times).
 *
 * libjose does the JOSE encodings (JWK, thumbprint, base64url); OpenSSL
 * reads and checks the key once; the signature itself is Nettle's
 * (token/es384.c, about 4 times faster than OpenSSL 3.0's P-384) and is
 * checked by ecdsa_verify_raw_sha384 (see token.h and docs/decisions.md,
 * "Tokens", "Service: signing RNG").
 */
#include "token/token_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jose/b64.h>
#include <jose/jwk.h>
#include <jose/openssl.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "x509/x509.h"

struct token_key {
	EVP_PKEY *pkey;
	struct es384_priv *priv;	/* the same key, for signing */
	json_t *jwk_pub;	/* kty, crv, x, y */
	char thumbprint[64];
};

/* No passphrase prompt: an encrypted key is refused, never asked for on a
 * terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

bool token_pkey_is_p384(EVP_PKEY *k)
{
	char group[32];
	size_t glen = 0;

	return k != NULL && EVP_PKEY_is_a(k, "EC") &&
	    EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof(group), &glen) == 1 &&
	    strcmp(group, "secp384r1") == 0;
}

/* The public JWK of a P-384 key (libjose), without "d". */
json_t *token_pkey_jwk(EVP_PKEY *k)
{
	json_t *jwk = jose_openssl_jwk_from_EVP_PKEY(NULL, k);

	if (jwk == NULL)
		return NULL;
	if (!jose_jwk_pub(NULL, jwk)) {
		json_decref(jwk);
		return NULL;
	}
	return jwk;
}

int token_jwk_thumbprint(const json_t *jwk, char out[64])
{
	json_t *t = jose_jwk_thp(NULL, jwk, "S256");
	int rc = -1;

	if (json_is_string(t) && json_string_length(t) < 64) {
		snprintf(out, 64, "%s", json_string_value(t));
		rc = 0;
	}
	json_decref(t);
	return rc;
}

struct token_key *token_key_from_pem(const uint8_t *pem, size_t len, struct gpa_err *e)
{
	struct token_key *k = calloc(1, sizeof(*k));
	BIO *b = BIO_new_mem_buf(pem, (int)len);

	if (k == NULL || b == NULL || len > INT_MAX) {
		gpa_err_set(e, "out of memory");
		goto fail;
	}
	k->pkey = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	if (k->pkey == NULL) {
		gpa_err_openssl(e, "not an unencrypted PEM private key");
		goto fail;
	}
	if (!token_pkey_is_p384(k->pkey)) {
		gpa_err_set(e, "the key is not an EC P-384 key (ES384 needs one; "
		    "make one with: openssl ecparam -name secp384r1 -genkey -noout -out KEY.pem)");
		goto fail;
	}
	if ((k->priv = es384_priv_of_pkey(k->pkey)) == NULL) {
		gpa_err_set(e, "the P-384 key's private value could not be read");
		goto fail;
	}
	if ((k->jwk_pub = token_pkey_jwk(k->pkey)) == NULL ||
	    token_jwk_thumbprint(k->jwk_pub, k->thumbprint) != 0) {
		gpa_err_set(e, "the key could not be expressed as a JWK");
		goto fail;
	}
	BIO_free(b);
	return k;
fail:
	ERR_clear_error();
	BIO_free(b);
	token_key_free(k);
	return NULL;
}

void token_key_free(struct token_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	es384_priv_free(k->priv);
	json_decref(k->jwk_pub);
	free(k);
}

const char *token_key_thumbprint(const struct token_key *k)
{
	return k->thumbprint;
}

EVP_PKEY *token_key_pkey(const struct token_key *k)
{
	return k->pkey;
}

/* x5c: the base64 DER of every certificate in certs_pem, the first of
 * which must hold key. */
static json_t *x5c_of_pem(EVP_PKEY *key, const char *certs_pem, struct gpa_err *e)
{
	BIO *b = BIO_new_mem_buf(certs_pem, -1);
	json_t *arr = json_array();
	X509 *x;

	while (b != NULL && arr != NULL && (x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL) {
		unsigned char *der = NULL;
		int dlen = i2d_X509(x, &der);
		char *s = dlen > 0 ? b64_encode(der, (size_t)dlen) : NULL;

		if (json_array_size(arr) == 0 && EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1) {
			gpa_err_set(e, "the first certificate does not hold the signing key");
			free(s);
			OPENSSL_free(der);
			X509_free(x);
			goto fail;
		}
		json_array_append_new(arr, s ? json_string(s) : json_null());
		free(s);
		OPENSSL_free(der);
		X509_free(x);
	}
	ERR_clear_error();
	if (arr == NULL || json_array_size(arr) == 0) {
		gpa_err_set(e, "no PEM certificate found");
		goto fail;
	}
	BIO_free(b);
	return arr;
fail:
	BIO_free(b);
	json_decref(arr);
	return NULL;
}

json_t *token_key_jwks(const struct token_key *k, const char *kid, const char *certs_pem,
    struct gpa_err *e)
{
	json_t *jwk = json_deep_copy(k->jwk_pub);

	if (jwk == NULL) {
		gpa_err_set(e, "out of memory");
		return NULL;
	}
	json_object_set_new(jwk, "kid", json_string(kid ? kid : k->thumbprint));
	json_object_set_new(jwk, "alg", json_string("ES384"));
	json_object_set_new(jwk, "use", json_string("sig"));
	if (certs_pem != NULL) {
		json_t *x5c = x5c_of_pem(k->pkey, certs_pem, e);
		if (x5c == NULL) {
			json_decref(jwk);
			return NULL;
		}
		json_object_set_new(jwk, "x5c", x5c);
	}
	return json_pack("{s:[o]}", "keys", jwk);
}

/* ---- base64url ------------------------------------------------------------ */

char *token_b64url(const void *buf, size_t len)
{
	size_t n = jose_b64_enc_buf(buf, len, NULL, 0);
	char *out;

	if (n == SIZE_MAX || (out = malloc(n + 1)) == NULL)
		return NULL;
	if (jose_b64_enc_buf(buf, len, out, n) != n) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	return out;
}

/* Strict base64url: the URL-safe alphabet only, no padding, canonical (the
 * unused low bits of the last character zero, so that one token has one
 * encoding). malloc'd, NUL terminated (not counted); -1 bad. */
int token_b64url_decode(const char *in, size_t len, uint8_t **out, size_t *outlen)
{
	size_t n;
	uint8_t *buf;
	char *again;

	*out = NULL;
	*outlen = 0;
	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (strchr(JOSE_B64_MAP, in[i]) == NULL || in[i] == '\0')
			return -1;
	n = jose_b64_dec_buf(in, len, NULL, 0);
	if (n == SIZE_MAX || (buf = malloc(n + 1)) == NULL)
		return -1;
	if (jose_b64_dec_buf(in, len, buf, n) != n) {
		free(buf);
		return -1;
	}
	buf[n] = 0;
	again = token_b64url(buf, n);
	if (again == NULL || strlen(again) != len || memcmp(again, in, len) != 0) {
		free(again);
		free(buf);
		return -1;
	}
	free(again);
	*out = buf;
	*outlen = n;
	return 0;
}

/* ---- signing --------------------------------------------------------------- */

char *token_sign_compact(const struct token_key *k, const char *kid, const char *typ,
    const json_t *payload, struct gpa_err *e)
{
	json_t *hdr = json_pack("{s:s,s:s}", "alg", "ES384", "kid", kid ? kid : k->thumbprint);
	char *htxt = NULL, *ptxt = NULL, *h64 = NULL, *p64 = NULL, *s64 = NULL, *out = NULL;
	uint8_t sig[96];
	size_t n;

	if (hdr != NULL && typ != NULL)
		json_object_set_new(hdr, "typ", json_string(typ));
	if (hdr == NULL || !json_is_object(payload) ||
	    (htxt = json_dumps(hdr, JSON_COMPACT)) == NULL ||
	    (ptxt = json_dumps(payload, JSON_COMPACT)) == NULL ||
	    (h64 = token_b64url(htxt, strlen(htxt))) == NULL ||
	    (p64 = token_b64url(ptxt, strlen(ptxt))) == NULL) {
		gpa_err_set(e, json_is_object(payload) ? "out of memory" : "a JWS payload must be a JSON object");
		goto out;
	}
	n = strlen(h64) + 1 + strlen(p64);
	if ((out = malloc(n + 1 + 128 + 1)) == NULL) {
		gpa_err_set(e, "out of memory");
		goto out;
	}
	snprintf(out, n + 1, "%s.%s", h64, p64);
	if (es384_sign(k->priv, (const uint8_t *)out, n, sig) != 0 || (s64 = token_b64url(sig, sizeof(sig))) == NULL) {
		gpa_err_set(e, "ES384 signing failed");
		free(out);
		out = NULL;
		goto out;
	}
	snprintf(out + n, 1 + 128 + 1, ".%s", s64);
out:
	json_decref(hdr);
	free(htxt);
	free(ptxt);
	free(h64);
	free(p64);
	free(s64);
	return out;
}

char *token_sign_jwt(const struct token_signer *s, json_t *claims, struct gpa_err *e)
{
	uint8_t rnd[32];
	char jti[65];
	long life = s->lifetime_s > 0 ? s->lifetime_s : TOKEN_DEFAULT_LIFETIME;

	if (random_bytes(rnd, sizeof(rnd)) != 0) {
		gpa_err_set(e, "no random bytes for the token id (jti)");
		return NULL;
	}
	hex_encode(rnd, sizeof(rnd), jti);
	json_object_set_new(claims, "iss", json_string(s->issuer ? s->issuer : TOKEN_DEFAULT_ISSUER));
	json_object_set_new(claims, "iat", json_integer((json_int_t)s->now));
	json_object_set_new(claims, "nbf", json_integer((json_int_t)s->now));
	json_object_set_new(claims, "exp", json_integer((json_int_t)s->now + life));
	json_object_set_new(claims, "jti", json_string(jti));
	return token_sign_compact(s->key, s->kid, "JWT", claims, e);
}

/* ---- verification of one compact JWS ------------------------------------- */

/* One segment, decoded and parsed as a JSON object (no duplicate keys, no
 * NUL, nothing after it). */
static json_t *segment_json(const char *p, size_t len, const char *what, struct gpa_err *e)
{
	uint8_t *raw;
	size_t rlen;
	json_error_t je;
	json_t *j;

	if (token_b64url_decode(p, len, &raw, &rlen) != 0) {
		gpa_err_set(e, "%s is not canonical base64url", what);
		return NULL;
	}
	j = json_loadb((const char *)raw, rlen, JSON_REJECT_DUPLICATES, &je);
	free(raw);
	if (j == NULL) {
		gpa_err_set(e, "%s is not JSON: %s", what, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		gpa_err_set(e, "%s is not a JSON object", what);
		json_decref(j);
		return NULL;
	}
	return j;
}

/* alg exactly ES384, kid a non-empty string, nothing critical we would
 * have to understand. */
static enum gpa_verdict header_check(const json_t *h, char kid[TOKEN_KID_MAX + 1], struct gpa_err *e)
{
	const json_t *alg = json_object_get(h, "alg"), *k = json_object_get(h, "kid");

	if (!json_is_string(alg)) {
		gpa_err_set(e, "header: no \"alg\"");
		return GPA_FAIL;
	}
	if (strcmp(json_string_value(alg), "ES384") != 0) {
		gpa_err_set(e, "header: alg \"%.40s\" refused: only ES384 is accepted%s",
		    json_string_value(alg), strcmp(json_string_value(alg), "none") == 0 ? " (an unsigned token proves nothing)" :
		    strncmp(json_string_value(alg), "HS", 2) == 0 ? " (an HMAC key is a shared secret, not a signer's key)" : "");
		return GPA_FAIL;
	}
	if (json_object_get(h, "crit") != NULL) {
		gpa_err_set(e, "header: \"crit\" names extensions this verifier does not implement");
		return GPA_FAIL;
	}
	if (!json_is_string(k) || json_string_length(k) == 0) {
		gpa_err_set(e, "header: no \"kid\" (a key id is required to find the signer's key)");
		return GPA_FAIL;
	}
	if (json_string_length(k) > TOKEN_KID_MAX || strlen(json_string_value(k)) != json_string_length(k)) {
		gpa_err_set(e, "header: kid longer than %d bytes or with a NUL", TOKEN_KID_MAX);
		return GPA_FAIL;
	}
	snprintf(kid, TOKEN_KID_MAX + 1, "%s", json_string_value(k));
	return GPA_PASS;
}

/* A NumericDate claim: absent (1 when optional), or a number. */
static int numeric_date(const json_t *p, const char *name, bool required, double *out,
    struct gpa_err *e)
{
	const json_t *v = json_object_get(p, name);

	if (v == NULL && !required)
		return 1;
	if (!json_is_number(v)) {
		gpa_err_set(e, v == NULL ? "payload: no \"%s\" (the token must say when it expires)" :
		    "payload: \"%s\" is not a NumericDate", name);
		return -1;
	}
	*out = json_number_value(v);
	return 0;
}

static enum gpa_verdict claims_check(const json_t *p, const struct token_rules *r, struct gpa_err *e)
{
	const json_t *iss = json_object_get(p, "iss");
	double exp, nbf, iat, now = (double)r->now, L = (double)r->leeway_s;
	char when[21];
	int rc;

	if (!json_is_string(iss)) {
		gpa_err_set(e, "payload: no \"iss\" (issuer); expected \"%s\"", r->issuer);
		return GPA_FAIL;
	}
	if (strlen(json_string_value(iss)) != json_string_length(iss) ||
	    strcmp(json_string_value(iss), r->issuer) != 0) {
		gpa_err_set(e, "wrong issuer: iss \"%.200s\", expected \"%s\"", json_string_value(iss), r->issuer);
		return GPA_FAIL;
	}
	if (numeric_date(p, "exp", true, &exp, e) != 0)
		return GPA_FAIL;
	if (now > exp + L) {
		time_format_rfc3339((time_t)exp, when);
		gpa_err_set(e, "expired: exp %s is %.0f s ago (leeway %ld s)", when, now - exp, r->leeway_s);
		return GPA_FAIL;
	}
	if ((rc = numeric_date(p, "nbf", false, &nbf, e)) < 0)
		return GPA_FAIL;
	if (rc == 0 && now < nbf - L) {
		time_format_rfc3339((time_t)nbf, when);
		gpa_err_set(e, "not yet valid: nbf %s is %.0f s ahead (leeway %ld s)", when, nbf - now, r->leeway_s);
		return GPA_FAIL;
	}
	if ((rc = numeric_date(p, "iat", false, &iat, e)) < 0)
		return GPA_FAIL;
	if (rc == 0 && now < iat - L) {
		time_format_rfc3339((time_t)iat, when);
		gpa_err_set(e, "not yet valid: issued in the future, iat %s is %.0f s ahead (leeway %ld s)", when,
		    iat - now, r->leeway_s);
		return GPA_FAIL;
	}
	return GPA_PASS;
}

/* The three segments of a compact JWS. */
struct jws_parts {
	const char *h, *p, *s;
	size_t hlen, plen, slen;
};

static int split_compact(const char *t, size_t len, struct jws_parts *j)
{
	const char *d1 = memchr(t, '.', len), *d2;

	if (d1 == NULL || (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - t))) == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - t)) != NULL)
		return -1;
	j->h = t;
	j->hlen = (size_t)(d1 - t);
	j->p = d1 + 1;
	j->plen = (size_t)(d2 - j->p);
	j->s = d2 + 1;
	j->slen = len - (size_t)(j->s - t);
	return j->hlen > 0 && j->plen > 0 ? 0 : -1;
}

static enum gpa_verdict signature_check(const struct jws_parts *j, EVP_PKEY *key, struct gpa_err *e)
{
	uint8_t *sig;
	size_t slen;
	int ok;

	if (j->slen == 0) {
		gpa_err_set(e, "unsigned (empty signature)");
		return GPA_FAIL;
	}
	if (token_b64url_decode(j->s, j->slen, &sig, &slen) != 0) {
		gpa_err_set(e, "bad signature: not canonical base64url");
		return GPA_FAIL;
	}
	ok = slen == 96 ? ecdsa_verify_raw_sha384(key, (const uint8_t *)j->h, j->hlen + 1 + j->plen, sig, slen) : 0;
	free(sig);
	if (slen != 96) {
		gpa_err_set(e, "bad signature: %zu bytes, ES384 has 96", slen);
		return GPA_FAIL;
	}
	if (ok != 1) {
		gpa_err_set(e, ok == 0 ? "bad signature: ES384 signature does not verify with the key of its kid" :
		    "the signature could not be checked (internal error)");
		return ok == 0 ? GPA_FAIL : GPA_INCOMPLETE;
	}
	return GPA_PASS;
}

enum gpa_verdict token_jwt_verify(const char *t, size_t len, const struct token_rules *r,
    const struct token_keyring *kr, json_t **payload, char kid_out[TOKEN_KID_MAX + 1],
    struct gpa_err *e)
{
	struct jws_parts j;
	json_t *h = NULL, *p = NULL;
	char kid[TOKEN_KID_MAX + 1] = "";
	enum gpa_verdict v;
	EVP_PKEY *key;

	*payload = NULL;
	if (kid_out != NULL)
		kid_out[0] = '\0';
	if (len > TOKEN_MAX_LEN || memchr(t, '\0', len) != NULL || split_compact(t, len, &j) != 0) {
		gpa_err_set(e, len > TOKEN_MAX_LEN ? "token larger than %u bytes" :
		    "not a compact JWS (header.payload.signature)", TOKEN_MAX_LEN);
		return GPA_BAD_INPUT;
	}
	if ((h = segment_json(j.h, j.hlen, "header", e)) == NULL ||
	    (p = segment_json(j.p, j.plen, "payload", e)) == NULL) {
		v = GPA_BAD_INPUT;
		goto out;
	}
	if ((v = header_check(h, kid, e)) != GPA_PASS)
		goto out;
	if (kid_out != NULL)
		snprintf(kid_out, TOKEN_KID_MAX + 1, "%s", kid);
	if ((key = kr->find(kr->ctx, kid, &v, e)) == NULL) {
		if (v == GPA_PASS)
			v = GPA_FAIL;
		goto out;
	}
	if ((v = signature_check(&j, key, e)) != GPA_PASS)
		goto out;
	/* The signature holds: what the payload says may be shown, whatever
	 * the rules below decide. */
	*payload = json_incref(p);
	v = claims_check(p, r, e);
out:
	json_decref(h);
	json_decref(p);
	return v;
}
