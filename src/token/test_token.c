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
#include <jose/openssl.h>
#include <openssl/ec.h>
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
	for (size_t i = 0, tn = strlen(t); i < tn; i += 7) {
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

/* Nettle signs (token/es384.c), OpenSSL verifies (through libjose): every
 * signature verifies, and none repeats (k is random). 300 of them meet an r
 * or s with a leading zero byte with probability ~90 %, so the fixed-width
 * r||s encoding is exercised too. */
static void test_nettle_signatures_verify_with_openssl(void)
{
	enum { N = 300 };
	struct token_key *k = new_key();
	struct gpa_err e = {{0}};
	json_t *payload = json_pack("{s:s}", "same", "payload"), *jwk = pub_jwk(k, "k1");
	char *sigs[N] = { NULL };
	int good = 0, distinct = 1;

	for (int i = 0; i < N; i++) {
		char *t = token_sign_compact(k, "k1", NULL, payload, &e);
		if (t == NULL)
			break;
		good += libjose_verifies(t, jwk);
		sigs[i] = strdup(strrchr(t, '.'));
		for (int j = 0; j < i; j++)
			if (strcmp(sigs[i], sigs[j]) == 0)
				distinct = 0;
		free(t);
	}
	CHECK(good == N);
	CHECK(distinct);
	for (int i = 0; i < N; i++)
		free(sigs[i]);
	json_decref(payload);
	json_decref(jwk);
	token_key_free(k);
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

/* ---- verification ---------------------------------------------------------- */

static struct token_jwks *jwks_of(const struct token_key *k, const char *kid)
{
	struct gpa_err e = {{0}};
	json_t *doc = token_key_jwks(k, kid, NULL, &e);
	char *txt = json_dumps(doc, JSON_COMPACT);
	struct token_jwks *j = NULL;

	token_jwks_parse((const uint8_t *)txt, strlen(txt), &j, &e);
	free(txt);
	json_decref(doc);
	return j;
}

/* A compact token with any header, signed by k (or with sig as given). */
static char *forge(const struct token_key *k, const char *hdr, const char *payload, const char *sig)
{
	char *h = token_b64url(hdr, strlen(hdr)), *p = token_b64url(payload, strlen(payload));
	char *out = malloc(strlen(h) + strlen(p) + 300);
	size_t n;

	sprintf(out, "%s.%s", h, p);
	n = strlen(out);
	if (sig != NULL) {
		sprintf(out + n, ".%s", sig);
	} else {
		uint8_t raw[96];
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned char der[160];
		const unsigned char *dp = der;
		size_t dl = sizeof(der);
		ECDSA_SIG *es;
		char *s64;
		EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, token_key_pkey(k));
		EVP_DigestSign(md, der, &dl, (unsigned char *)out, n);
		es = d2i_ECDSA_SIG(NULL, &dp, (long)dl);
		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 48);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 48, 48);
		s64 = token_b64url(raw, 96);
		sprintf(out + n, ".%s", s64);
		free(s64);
		ECDSA_SIG_free(es);
		EVP_MD_CTX_free(md);
	}
	free(h);
	free(p);
	return out;
}

static enum gpa_verdict vjwt(const char *t, const struct token_jwks *j, time_t now, const char *iss,
    struct gpa_err *e)
{
	struct token_rules r = {.issuer = iss, .now = now, .leeway_s = TOKEN_DEFAULT_LEEWAY};
	struct token_keyring kr;
	json_t *p;
	enum gpa_verdict v;

	token_keyring_of_jwks(&kr, j);
	memset(e, 0, sizeof(*e));
	v = token_jwt_verify(t, strlen(t), &r, &kr, &p, NULL, e);
	json_decref(p);
	return v;
}

static void test_jwt_rules(void)
{
	struct token_key *k = new_key(), *other = new_key();
	struct token_jwks *j = jwks_of(k, "k1");
	struct token_signer s = {.key = k, .kid = "k1", .issuer = "https://nras.example", .now = 1700000000};
	struct token_signer so = {.key = other, .kid = "k1", .issuer = "https://nras.example", .now = 1700000000};
	struct gpa_err e;
	json_t *c = json_pack("{s:s}", "a", "b");
	char *t = token_sign_jwt(&s, c, &e), *bad = token_sign_jwt(&so, c, &e), *f;
	const char *pl = "{\"iss\":\"https://nras.example\",\"exp\":1700003600}";

	CHECK(j != NULL && token_jwks_count(j) == 1);
	CHECK_INT(vjwt(t, j, 1700000000, "https://nras.example", &e), GPA_PASS);
	CHECK_INT(vjwt(t, j, 1700000000, "https://nras.example/", &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "wrong issuer");
	/* exp + leeway is the last valid second. */
	CHECK_INT(vjwt(t, j, 1700003600 + 60, "https://nras.example", &e), GPA_PASS);
	CHECK_INT(vjwt(t, j, 1700003600 + 61, "https://nras.example", &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "expired");
	CHECK_INT(vjwt(t, j, 1700000000 - 60, "https://nras.example", &e), GPA_PASS);
	CHECK_INT(vjwt(t, j, 1700000000 - 61, "https://nras.example", &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "not yet valid");
	CHECK_INT(vjwt(bad, j, 1700000000, "https://nras.example", &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "bad signature");
	f = forge(k, "{\"alg\":\"none\",\"kid\":\"k1\"}", pl, "");
	CHECK_INT(vjwt(f, j, 1700000000, "https://nras.example", &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "alg \"none\" refused");
	free(f);
	f = forge(k, "{\"alg\":\"HS256\",\"kid\":\"k1\"}", pl, "c2VjcmV0");
	CHECK_INT(vjwt(f, j, 1700000000, "https://nras.example", &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "HS256");
	free(f);
	f = forge(k, "{\"alg\":\"ES384\"}", pl, NULL);
	CHECK_INT(vjwt(f, j, 1700000000, "https://nras.example", &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "kid");
	free(f);
	f = forge(k, "{\"alg\":\"ES384\",\"kid\":\"k2\"}", pl, NULL);
	CHECK_INT(vjwt(f, j, 1700000000, "https://nras.example", &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "unknown kid \"k2\"");
	free(f);
	f = forge(k, "{\"alg\":\"ES384\",\"kid\":\"k1\",\"crit\":[\"b64\"]}", pl, NULL);
	CHECK_INT(vjwt(f, j, 1700000000, "https://nras.example", &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "crit");
	free(f);
	f = forge(k, "{\"alg\":\"ES384\",\"kid\":\"k1\"}", "{\"iss\":\"https://nras.example\"}", NULL);
	CHECK_INT(vjwt(f, j, 1700000000, "https://nras.example", &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "exp");
	free(f);
	f = forge(k, "{\"alg\":\"ES384\",\"kid\":\"k1\",\"kid\":\"k1\"}", pl, NULL);
	CHECK_INT(vjwt(f, j, 1700000000, "https://nras.example", &e), GPA_BAD_INPUT);
	free(f);
	CHECK_INT(vjwt("a.b", j, 1700000000, "x", &e), GPA_BAD_INPUT);
	CHECK_INT(vjwt("a.b.c.d", j, 1700000000, "x", &e), GPA_BAD_INPUT);
	CHECK_INT(vjwt("e30=.e30.", j, 1700000000, "x", &e), GPA_BAD_INPUT);	/* padding */
	/* One character changed anywhere fails. */
	for (size_t i = 0, tn = strlen(t); i < tn; i += 5) {
		char save = t[i];
		if (save == '.')
			continue;
		t[i] = save == 'A' ? 'B' : 'A';
		CHECK(vjwt(t, j, 1700000000, "https://nras.example", &e) != GPA_PASS);
		t[i] = save;
	}
	free(t);
	free(bad);
	json_decref(c);
	token_jwks_free(j);
	token_key_free(k);
	token_key_free(other);
}

/* A token libjose signs (jose_jws_sig) passes our checks. */
static void test_libjose_signed_verifies(void)
{
	struct token_key *k = new_key();
	struct token_jwks *j = jwks_of(k, "lj");
	EVP_PKEY *pk = token_key_pkey(k);
	json_t *jwk = jose_openssl_jwk_from_EVP_PKEY(NULL, pk);
	const char *pl = "{\"iss\":\"lj-issuer\",\"exp\":4000000000}";
	json_t *jws = json_pack("{s:o}", "payload", jose_b64_enc(pl, strlen(pl)));
	json_t *sig = json_pack("{s:{s:s,s:s}}", "protected", "alg", "ES384", "kid", "lj");
	struct gpa_err e;
	char t[2048];

	CHECK(jose_jws_sig(NULL, jws, sig, jwk));
	snprintf(t, sizeof(t), "%s.%s.%s", json_string_value(json_object_get(jws, "protected")),
	    json_string_value(json_object_get(jws, "payload")), json_string_value(json_object_get(jws, "signature")));
	CHECK_INT(vjwt(t, j, time(NULL), "lj-issuer", &e), GPA_PASS);
	json_decref(jws);
	json_decref(sig);
	json_decref(jwk);
	token_jwks_free(j);
	token_key_free(k);
}

static enum gpa_verdict parse_jwks_text(const char *txt, struct token_jwks **j, struct gpa_err *e)
{
	return token_jwks_parse((const uint8_t *)txt, strlen(txt), j, e);
}

static void test_jwks_rules(void)
{
	struct token_key *k = new_key();
	struct gpa_err e = {{0}};
	json_t *doc = token_key_jwks(k, "a", NULL, &e), *jwk = json_array_get(json_object_get(doc, "keys"), 0);
	json_t *set = json_array(), *priv, *whole;
	struct token_jwks *j = NULL;
	const char *why;
	char *txt;

	/* a: good; b: x5c garbage; c: a private key; dup twice; p256 */
	json_array_append_new(set, json_deep_copy(jwk));
	json_array_append_new(set, json_pack("{s:s,s:[s]}", "kid", "b", "x5c", "AAAA"));
	priv = json_deep_copy(jwk);
	json_object_set_new(priv, "kid", json_string("c"));
	json_object_set_new(priv, "d", json_string("AAAA"));
	json_array_append_new(set, priv);
	json_array_append_new(set, json_pack("{s:s,s:s,s:s,s:s,s:s}", "kid", "dup", "kty", "EC", "crv", "P-384",
	    "x", json_string_value(json_object_get(jwk, "x")), "y", json_string_value(json_object_get(jwk, "y"))));
	json_array_append_new(set, json_pack("{s:s,s:s,s:s,s:s,s:s}", "kid", "dup", "kty", "EC", "crv", "P-384",
	    "x", json_string_value(json_object_get(jwk, "x")), "y", json_string_value(json_object_get(jwk, "y"))));
	json_array_append_new(set, json_pack("{s:s,s:s,s:s}", "kid", "p256", "kty", "EC", "crv", "P-256"));
	json_array_append_new(set, json_pack("{s:s,s:s,s:s,s:s,s:s}", "kid", "offcurve", "kty", "EC", "crv", "P-384",
	    "x", json_string_value(json_object_get(jwk, "x")), "y", json_string_value(json_object_get(jwk, "x"))));
	whole = json_pack("{s:o}", "keys", set);
	txt = json_dumps(whole, JSON_COMPACT);
	json_decref(whole);
	CHECK_INT(parse_jwks_text(txt, &j, &e), GPA_PASS);
	free(txt);
	CHECK(token_jwks_find(j, "a") != NULL);
	CHECK(token_jwks_find(j, "b") == NULL);
	CHECK(token_jwks_find(j, "c") == NULL);
	CHECK(token_jwks_find(j, "dup") == NULL);
	CHECK(token_jwks_find(j, "p256") == NULL);
	CHECK(token_jwks_find(j, "offcurve") == NULL);
	CHECK_INT(token_jwks_count(j), 1);
	CHECK_INT(token_jwks_skipped(j, &why), 6);
	token_jwks_free(j);
	CHECK_INT(parse_jwks_text("{\"keys\": 1}", &j, &e), GPA_BAD_INPUT);
	CHECK_INT(parse_jwks_text("{\"keys\": []", &j, &e), GPA_BAD_INPUT);
	CHECK_INT(parse_jwks_text("{\"keys\": [], \"keys\": []}", &j, &e), GPA_BAD_INPUT);
	json_decref(doc);
	token_key_free(k);
}

/* Claims of one device that pass §11.1. */
static json_t *good_gpu(void)
{
	json_t *c = json_pack("{s:s,s:s,s:b}", "measres", "success", "x-nvidia-device-type", "gpu",
	    "x-nvidia-gpu-attestation-report-signature-verified", 1);
	const char *chains[] = {"x-nvidia-gpu-attestation-report-cert-chain", "x-nvidia-gpu-driver-rim-cert-chain",
	    "x-nvidia-gpu-vbios-rim-cert-chain"};

	for (int i = 0; i < 3; i++)
		json_object_set_new(c, chains[i], json_pack("{s:s,s:s}", "x-nvidia-cert-status", "valid",
		    "x-nvidia-cert-ocsp-status", "good"));
	return c;
}

static enum gpa_verdict veat(const json_t *eat, const struct token_jwks *j, const char *nonce_hex,
    struct token_result *res, struct gpa_err *e)
{
	struct token_rules r = {.issuer = "https://nras.example", .now = time(NULL), .leeway_s = 60};
	struct token_keyring kr;
	char *txt = json_dumps(eat, JSON_COMPACT);
	enum gpa_verdict v;

	if (nonce_hex != NULL) {
		r.have_nonce = true;
		r.nonce_len = (size_t)hex_decode(nonce_hex, strlen(nonce_hex), r.nonce, sizeof(r.nonce), false);
	}
	token_keyring_of_jwks(&kr, j);
	memset(e, 0, sizeof(*e));
	v = token_eat_verify((const uint8_t *)txt, strlen(txt), &r, &kr, res, e);
	free(txt);
	return v;
}

static void test_eat_verify(void)
{
	struct token_key *k = new_key();
	struct token_jwks *j = jwks_of(k, "nras");
	struct token_signer s = {.key = k, .kid = "nras", .issuer = "https://nras.example", .now = time(NULL)};
	char nonce[65];
	json_t *claims[2] = {good_gpu(), good_gpu()}, *eat, *eat2;
	struct token_result res = {0};
	struct gpa_err e;

	memset(nonce, 'b', 64);
	nonce[64] = 0;
	eat = token_detached_eat(&s, claims, 2, true, nonce, &e);
	CHECK_INT(veat(eat, j, nonce, &res, &e), GPA_PASS);
	CHECK_INT(res.ndevices, 2);
	CHECK(json_object_get(json_object_get(res.claims, "submods"), "GPU-1") != NULL);
	token_result_clear(&res);
	CHECK_INT(veat(eat, j, NULL, &res, &e), GPA_PASS);
	token_result_clear(&res);
	CHECK_INT(veat(eat, j, "cc", &res, &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "nonce not echoed");
	token_result_clear(&res);
	/* A detached token replaced by another good one: its digest differs. */
	eat2 = token_detached_eat(&s, claims, 2, true, nonce, &e);
	json_object_set(json_array_get(eat, 1), "GPU-1", json_object_get(json_array_get(eat2, 1), "GPU-1"));
	CHECK_INT(veat(eat, j, nonce, &res, &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "GPU-1: submod digest does not match");
	token_result_clear(&res);
	json_object_del(json_array_get(eat, 1), "GPU-1");
	CHECK_INT(veat(eat, j, nonce, &res, &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "GPU-1: named in the overall token's submods but not in the detached tokens");
	token_result_clear(&res);
	json_object_set(json_array_get(eat, 1), "GPU-1", json_object_get(json_array_get(eat2, 1), "GPU-1"));
	json_object_set(json_array_get(eat, 1), "GPU-7", json_object_get(json_array_get(eat2, 1), "GPU-1"));
	CHECK_INT(veat(eat, j, nonce, &res, &e), GPA_FAIL);
	token_result_clear(&res);
	json_decref(eat);
	json_decref(eat2);
	/* overall true, one device failing */
	json_object_set_new(claims[1], "measres", json_string("fail"));
	eat = token_detached_eat(&s, claims, 2, true, nonce, &e);
	CHECK_INT(veat(eat, j, nonce, &res, &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "GPU-1: measres is \"fail\"");
	CHECK_CONTAINS(e.msg, "although the overall result says true");
	CHECK_INT(res.ndevices_failed, 1);
	CHECK(res.claims != NULL);	/* verified claims still shown */
	token_result_clear(&res);
	json_decref(eat);
	eat = token_detached_eat(&s, claims, 2, false, nonce, &e);
	CHECK_INT(veat(eat, j, nonce, &res, &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "overall result is false");
	token_result_clear(&res);
	json_decref(eat);
	eat = json_pack("[i,i]", 1, 2);
	CHECK_INT(veat(eat, j, NULL, &res, &e), GPA_BAD_INPUT);
	json_decref(eat);
	json_decref(claims[0]);
	json_decref(claims[1]);
	token_jwks_free(j);
	token_key_free(k);
}

static void test_device_policy(void)
{
	struct gpa_err e = {{0}};
	json_t *c = good_gpu();

	CHECK_INT(token_device_claims_pass(c, &e), GPA_PASS);
	json_object_set_new(json_object_get(c, "x-nvidia-gpu-vbios-rim-cert-chain"), "x-nvidia-cert-ocsp-status",
	    json_string("revoked"));
	CHECK_INT(token_device_claims_pass(c, &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "x-nvidia-gpu-vbios-rim-cert-chain: x-nvidia-cert-ocsp-status is \"revoked\"");
	json_decref(c);
	c = good_gpu();
	json_object_set_new(c, "x-nvidia-gpu-attestation-report-signature-verified", json_false());
	CHECK_INT(token_device_claims_pass(c, &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "signature-verified is false");
	json_object_set_new(c, "x-nvidia-gpu-attestation-report-signature-verified", json_true());
	json_object_set_new(c, "x-nvidia-error-details", json_pack("{s:i,s:s}", "code", 4013, "message", "bad sig"));
	CHECK_INT(token_device_claims_pass(c, &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "4013");
	json_decref(c);
	c = json_pack("{s:s}", "measres", "success");
	CHECK_INT(token_device_claims_pass(c, &e), GPA_BAD_INPUT);
	json_decref(c);
}

static void test_ear_verify(void)
{
	struct token_key *k = new_key();
	struct token_jwks *j = jwks_of(k, NULL);
	struct token_signer s = {.key = k, .issuer = "me", .now = time(NULL)};
	struct token_rules r = {.issuer = "me", .now = time(NULL), .leeway_s = 60, .have_nonce = true,
	    .nonce_len = 32};
	struct token_keyring kr;
	struct token_result res;
	struct gpa_err e = {{0}};
	struct fake f;
	char *t, *padded;

	memset(r.nonce, 0xaa, 32);
	token_keyring_of_jwks(&kr, j);
	fake_appraisal(&f, GPA_PASS);
	t = token_ear_sign(&s, &f.a, &e);
	padded = malloc(strlen(t) + 4);
	sprintf(padded, " %s\n", t);
	CHECK_INT(token_ear_verify((uint8_t *)padded, strlen(padded), &r, &kr, &res, &e), GPA_PASS);
	CHECK_INT(res.ndevices, 3);
	token_result_clear(&res);
	r.nonce[0] = 0;
	CHECK_INT(token_ear_verify((uint8_t *)t, strlen(t), &r, &kr, &res, &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "nonce not echoed");
	token_result_clear(&res);
	free(t);
	free(padded);
	r.have_nonce = false;
	fake_appraisal(&f, GPA_FAIL);
	t = token_ear_sign(&s, &f.a, &e);
	CHECK_INT(token_ear_verify((uint8_t *)t, strlen(t), &r, &kr, &res, &e), GPA_FAIL);
	CHECK_CONTAINS(e.msg, "ear_status is contraindicated");
	token_result_clear(&res);
	free(t);
	token_jwks_free(j);
	token_key_free(k);
}

int main(void)
{
	RUN(test_key_forms);
	RUN(test_jwks_output);
	RUN(test_sign_compact_libjose_verifies);
	RUN(test_nettle_signatures_verify_with_openssl);
	RUN(test_sign_jwt_claims);
	RUN(test_ear_claims_shape);
	RUN(test_detached_eat_shape);
	RUN(test_jwt_rules);
	RUN(test_libjose_signed_verifies);
	RUN(test_jwks_rules);
	RUN(test_eat_verify);
	RUN(test_device_policy);
	RUN(test_ear_verify);
	return harness_done("token");
}
