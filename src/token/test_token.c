/*
 * Tests for token/: keys, ES384 compact JWS, EARs and detached EATs made
 * from an appraisal, and their verification. Every token we sign is also
 * checked by libjose's own jose_jws_ver (an implementation that is not
 * ours), and tokens libjose signs are checked by ours; one changed byte
 * fails both.
 */
#include <stdlib.h>
#include <string.h>

#include <jose/b64.h>
#include <jose/jws.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "harness.h"
#include "token/token_internal.h"
#include "x509/x509.h"

/* ---- fixtures ------------------------------------------------------------ */

static EVP_PKEY *gen_ec(const char *curve)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
}

/* PEM text of a private key: traditional ("EC PRIVATE KEY") or PKCS#8. */
static char *pem_of(EVP_PKEY *k, bool pkcs8, const char *pass)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *out;
	long n;

	if (pass != NULL)
		PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_128_cbc(), NULL, 0, NULL, (void *)pass);
	else if (pkcs8)
		PEM_write_bio_PKCS8PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	else
		PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b, &p);
	out = malloc((size_t)n + 1);
	memcpy(out, p, (size_t)n);
	out[n] = 0;
	BIO_free(b);
	return out;
}

static struct token_key *new_key(void)
{
	EVP_PKEY *k = gen_ec("P-384");
	char *pem = pem_of(k, false, NULL);
	struct gpa_err e = {{0}};
	struct token_key *tk = token_key_from_pem((const uint8_t *)pem, strlen(pem), &e);

	free(pem);
	EVP_PKEY_free(k);
	return tk;
}

/* The public JWK of a token key, as token_key_jwks publishes it. */
static json_t *pub_jwk(const struct token_key *k, const char *kid)
{
	struct gpa_err e = {{0}};
	json_t *jwks = token_key_jwks(k, kid, NULL, &e);
	json_t *jwk = json_incref(json_array_get(json_object_get(jwks, "keys"), 0));

	json_decref(jwks);
	return jwk;
}

/* libjose's verdict on a compact JWS. */
static bool libjose_verifies(const char *compact, const json_t *jwk)
{
	char *c = strdup(compact), *d1 = strchr(c, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	json_t *jws;
	bool ok;

	if (d2 == NULL) {
		free(c);
		return false;
	}
	*d1 = *d2 = '\0';
	jws = json_pack("{s:s,s:s,s:s}", "protected", c, "payload", d1 + 1, "signature", d2 + 1);
	ok = jose_jws_ver(NULL, jws, NULL, jwk, false);
	json_decref(jws);
	free(c);
	return ok;
}

static json_t *segment(const char *compact, int n)
{
	const char *p = compact;
	uint8_t *raw;
	size_t len, rlen;
	json_t *j;

	for (int i = 0; i < n; i++)
		p = strchr(p, '.') + 1;
	len = strcspn(p, ".");
	if (token_b64url_decode(p, len, &raw, &rlen) != 0)
		return NULL;
	j = json_loadb((const char *)raw, rlen, 0, NULL);
	free(raw);
	return j;
}

/* ---- keys ---------------------------------------------------------------- */

static void test_key_forms(void)
{
	struct gpa_err e = {{0}};
	EVP_PKEY *k = gen_ec("P-384"), *k256 = gen_ec("P-256"), *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	char *trad = pem_of(k, false, NULL), *p8 = pem_of(k, true, NULL), *enc = pem_of(k, true, "pw");
	char *p256 = pem_of(k256, true, NULL), *prsa = pem_of(rsa, true, NULL);
	struct token_key *a, *b;

	a = token_key_from_pem((const uint8_t *)trad, strlen(trad), &e);
	b = token_key_from_pem((const uint8_t *)p8, strlen(p8), &e);
	CHECK(a != NULL && b != NULL);
	/* One key, one thumbprint, whichever PEM form. */
	if (a && b)
		CHECK_STREQ(token_key_thumbprint(a), token_key_thumbprint(b));
	if (a)
		CHECK_INT(strlen(token_key_thumbprint(a)), 43);	/* base64url of 32 bytes */
	token_key_free(a);
	token_key_free(b);
	CHECK(token_key_from_pem((const uint8_t *)enc, strlen(enc), &e) == NULL);
	CHECK_CONTAINS(e.msg, "unencrypted");
	CHECK(token_key_from_pem((const uint8_t *)p256, strlen(p256), &e) == NULL);
	CHECK_CONTAINS(e.msg, "P-384");
	CHECK(token_key_from_pem((const uint8_t *)prsa, strlen(prsa), &e) == NULL);
	CHECK_CONTAINS(e.msg, "P-384");
	CHECK(token_key_from_pem((const uint8_t *)"junk", 4, &e) == NULL);
	free(trad);
	free(p8);
	free(enc);
	free(p256);
	free(prsa);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k256);
	EVP_PKEY_free(rsa);
}

static void test_jwks_output(void)
{
	struct token_key *k = new_key();
	struct gpa_err e = {{0}};
	json_t *jwks = token_key_jwks(k, NULL, NULL, &e), *jwk;

	CHECK(jwks != NULL);
	jwk = json_array_get(json_object_get(jwks, "keys"), 0);
	CHECK_STREQ(json_string_value(json_object_get(jwk, "kty")), "EC");
	CHECK_STREQ(json_string_value(json_object_get(jwk, "crv")), "P-384");
	CHECK_STREQ(json_string_value(json_object_get(jwk, "alg")), "ES384");
	CHECK_STREQ(json_string_value(json_object_get(jwk, "kid")), token_key_thumbprint(k));
	CHECK(json_object_get(jwk, "d") == NULL);	/* never the private part */
	CHECK(json_object_get(jwk, "x5c") == NULL);
	json_decref(jwks);
	jwks = token_key_jwks(k, "other", "not a certificate", &e);
	CHECK(jwks == NULL);
	CHECK_CONTAINS(e.msg, "certificate");
	token_key_free(k);
}

/* ---- signing ------------------------------------------------------------- */

static void test_sign_compact_libjose_verifies(void)
{
	struct token_key *k = new_key(), *other = new_key();
	struct gpa_err e = {{0}};
	json_t *payload = json_pack("{s:s,s:i}", "hello", "world", "n", 7), *jwk = pub_jwk(k, "k1");
	json_t *wrong = pub_jwk(other, "k1"), *h, *p;
	char *t = token_sign_compact(k, "k1", NULL, payload, &e);

	CHECK(t != NULL);
	if (t == NULL)
		goto out;
	CHECK(libjose_verifies(t, jwk));
	CHECK(!libjose_verifies(t, wrong));
	h = segment(t, 0);
	p = segment(t, 1);
	CHECK_STREQ(json_string_value(json_object_get(h, "alg")), "ES384");
	CHECK_STREQ(json_string_value(json_object_get(h, "kid")), "k1");
	CHECK(json_object_get(h, "typ") == NULL);
	CHECK(json_equal(p, payload));
	json_decref(h);
	json_decref(p);
	/* One byte changed anywhere (a character that stays base64url) fails. */
	for (size_t i = 0; t[i]; i += 7) {
		char save = t[i];
		if (save == '.')
			continue;
		t[i] = save == 'A' ? 'B' : 'A';
		CHECK(!libjose_verifies(t, jwk));
		t[i] = save;
	}
	CHECK(libjose_verifies(t, jwk));
	free(t);
	{
		json_t *arr = json_array();

		CHECK(token_sign_compact(k, "k1", NULL, arr, &e) == NULL);
		json_decref(arr);
	}
out:
	json_decref(payload);
	json_decref(jwk);
	json_decref(wrong);
	token_key_free(k);
	token_key_free(other);
}

static void test_sign_jwt_claims(void)
{
	struct token_key *k = new_key();
	struct token_signer s = {.key = k, .issuer = "https://issuer.example", .now = 1700000000};
	struct gpa_err e = {{0}};
	json_t *c = json_pack("{s:s,s:i}", "x", "y", "exp", 5), *p, *h, *jwk = pub_jwk(k, NULL);
	char *t = token_sign_jwt(&s, c, &e), *t2;

	CHECK(t != NULL);
	p = segment(t, 1);
	h = segment(t, 0);
	CHECK_STREQ(json_string_value(json_object_get(p, "iss")), "https://issuer.example");
	CHECK_INT(json_integer_value(json_object_get(p, "iat")), 1700000000);
	CHECK_INT(json_integer_value(json_object_get(p, "nbf")), 1700000000);
	CHECK_INT(json_integer_value(json_object_get(p, "exp")), 1700000000 + TOKEN_DEFAULT_LIFETIME);
	CHECK_INT(strlen(json_string_value(json_object_get(p, "jti"))), 64);
	CHECK_STREQ(json_string_value(json_object_get(p, "x")), "y");
	CHECK_STREQ(json_string_value(json_object_get(h, "typ")), "JWT");
	CHECK_STREQ(json_string_value(json_object_get(h, "kid")), token_key_thumbprint(k));
	CHECK(libjose_verifies(t, jwk));
	/* A fresh jti each time. */
	t2 = token_sign_jwt(&s, c, &e);
	CHECK(t2 != NULL && strcmp(t, t2) != 0);
	json_decref(p);
	json_decref(h);
	json_decref(c);
	json_decref(jwk);
	free(t);
	free(t2);
	token_key_free(k);
}

/* ---- EAR and detached EAT from an appraisal ------------------------------ */

struct fake {
	struct gpa_appraisal a;
	struct gpa_device_result dev[3];
};

/* Two GPUs and a switch; GPU 1 failed its measurements. */
static void fake_appraisal(struct fake *f, enum gpa_verdict verdict)
{
	memset(f, 0, sizeof(*f));
	f->a.n = 3;
	f->a.dev = f->dev;
	f->a.verdict = verdict;
	f->a.nonce_from_caller = true;
	memset(f->a.nonce_hex, 'a', 64);
	for (int i = 0; i < 3; i++) {
		struct gpa_device_result *d = &f->dev[i];
		d->kind = i == 2 ? GPA_DEV_SWITCH : GPA_DEV_GPU;
		d->index = i == 2 ? 0 : i;
		snprintf(d->label, sizeof(d->label), i == 2 ? "NVSwitch 0" : "GPU %d", i);
		d->measres = "success";
		d->verdict = GPA_PASS;
		d->parsed = true;
		snprintf(d->hwmodel, sizeof(d->hwmodel), "%s", i == 2 ? "LS10 A01 FSP BROM" : "GH100 A01 GSP BROM");
	}
	f->dev[1].measres = "fail";
	f->dev[1].verdict = verdict == GPA_PASS ? GPA_PASS : GPA_FAIL;
	f->dev[1].nchecks = 1;
	f->dev[1].checks[0] = (struct gpa_check){.id = "measurements", .outcome = GPA_CHECK_FAIL};
}

static void test_ear_claims_shape(void)
{
	struct fake f;
	json_t *ear, *sub;

	fake_appraisal(&f, GPA_FAIL);
	ear = token_ear_claims(&f.a);
	CHECK_STREQ(json_string_value(json_object_get(ear, "eat_profile")), "tag:github.com,2023:veraison/ear");
	CHECK_STREQ(json_string_value(json_object_get(ear, "ear_status")), "contraindicated");
	CHECK_STREQ(json_string_value(json_object_get(ear, "x-gpuattest-verdict")), "fail");
	/* 32 bytes of 0xaa, base64url without padding */
	CHECK_STREQ(json_string_value(json_object_get(ear, "eat_nonce")), "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo");
	sub = json_object_get(ear, "submods");
	CHECK_INT(json_object_size(sub), 3);
	CHECK_STREQ(json_string_value(json_object_get(json_object_get(sub, "GPU-0"), "ear_status")), "affirming");
	CHECK_STREQ(json_string_value(json_object_get(json_object_get(sub, "GPU-1"), "ear_status")), "contraindicated");
	CHECK_STREQ(json_string_value(json_object_get(json_object_get(json_object_get(sub, "GPU-1"),
	    "ear_attester_claims"), "measres")), "fail");
	CHECK_STREQ(json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(sub, "GPU-1"),
	    "x-gpuattest-failed-checks"), 0), "check")), "measurements");
	CHECK_STREQ(json_string_value(json_object_get(json_object_get(json_object_get(sub, "SWITCH-0"),
	    "ear_attester_claims"), "x-nvidia-device-type")), "nvswitch");
	json_decref(ear);
	fake_appraisal(&f, GPA_INCOMPLETE);
	ear = token_ear_claims(&f.a);
	CHECK_STREQ(json_string_value(json_object_get(ear, "ear_status")), "none");
	json_decref(ear);
	fake_appraisal(&f, GPA_PASS);
	ear = token_ear_claims(&f.a);
	CHECK_STREQ(json_string_value(json_object_get(ear, "ear_status")), "affirming");
	json_decref(ear);
}

static void test_detached_eat_shape(void)
{
	struct token_key *k = new_key();
	struct token_signer s = {.key = k, .kid = "eat-kid", .issuer = "https://nras.example", .now = time(NULL)};
	struct gpa_err e = {{0}};
	json_t *jwk = pub_jwk(k, "eat-kid"), *eat, *overall, *subs;
	struct fake f;
	const char *label;
	json_t *jwt;

	fake_appraisal(&f, GPA_FAIL);
	eat = token_detached_eat_from_appraisal(&s, &f.a, &e);
	CHECK(eat != NULL && json_array_size(eat) == 2);
	CHECK_STREQ(json_string_value(json_array_get(json_array_get(eat, 0), 0)), "JWT");
	overall = segment(json_string_value(json_array_get(json_array_get(eat, 0), 1)), 1);
	CHECK(libjose_verifies(json_string_value(json_array_get(json_array_get(eat, 0), 1)), jwk));
	CHECK_STREQ(json_string_value(json_object_get(overall, "sub")), "NVIDIA-PLATFORM-ATTESTATION");
	CHECK(json_is_false(json_object_get(overall, "x-nvidia-overall-att-result")));
	CHECK_INT(strlen(json_string_value(json_object_get(overall, "eat_nonce"))), 64);
	subs = json_object_get(overall, "submods");
	CHECK_INT(json_object_size(subs), 3);
	CHECK_INT(json_object_size(json_array_get(eat, 1)), 3);
	json_object_foreach(json_array_get(eat, 1), label, jwt) {
		char want[65];
		const json_t *d = json_object_get(subs, label);
		x509_sha256_hex(json_string_value(jwt), json_string_length(jwt), want);
		CHECK_STREQ(json_string_value(json_array_get(d, 0)), "DIGEST");
		CHECK_STREQ(json_string_value(json_array_get(json_array_get(d, 1), 0)), "SHA-256");
		CHECK_STREQ(json_string_value(json_array_get(json_array_get(d, 1), 1)), want);
		CHECK(libjose_verifies(json_string_value(jwt), jwk));
	}
	CHECK(json_object_get(json_array_get(eat, 1), "SWITCH-0") != NULL);
	json_decref(overall);
	json_decref(eat);
	json_decref(jwk);
	token_key_free(k);
}

int main(void)
{
	RUN(test_key_forms);
	RUN(test_jwks_output);
	RUN(test_sign_compact_libjose_verifies);
	RUN(test_sign_jwt_claims);
	RUN(test_ear_claims_shape);
	RUN(test_detached_eat_shape);
	return harness_done("token");
}
