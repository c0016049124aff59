/*
 * libFuzzer target: signed results (token/). A JWKS, a compact JWT, an NRAS
 * detached EAT and an EAR all come from the network or from a relying
 * party's file, and are hostile. The first byte chooses what the rest is:
 *
 *   0  a JWKS (token_jwks_parse)
 *   1  a compact JWS/JWT, against a keyring with our fixed key
 *   2  a detached EAT, the same keyring
 *   3  an EAR, the same keyring
 *   4  a JSON object taken as claims: signed here with the fixed key, so the
 *      signature verifies and the fuzzer reaches the rules after it (iss,
 *      times, nonce, ear_status, submods) and the per-device policy
 *   5  a JSON array of device claim sets: made into a detached EAT signed
 *      here, then verified, so the digests match and every claim check of
 *      token_device_claims_pass runs on hostile claims
 *
 * Nothing may crash or leak, and a verdict that says "pass" must come with
 * the verified claims.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "token/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct token_key *key;
static struct token_jwks *jwks;
static struct token_keyring ring;

#define FUZZ_NOW	1767225600	/* 2026-01-01T00:00:00Z */
#define FUZZ_ISSUER	"https://fuzz.example"

static struct token_key *make_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	BIO *b = BIO_new(BIO_s_mem());
	struct gpa_err e = {{0}};
	struct token_key *tk = NULL;
	char *pem;
	long n;

	if (k != NULL && b != NULL && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1) {
		n = BIO_get_mem_data(b, &pem);
		tk = token_key_from_pem((const uint8_t *)pem, (size_t)n, &e);
	}
	BIO_free(b);
	EVP_PKEY_free(k);
	return tk;
}

static void setup(void)
{
	struct gpa_err e = {{0}};
	json_t *set;
	char *txt;

	if (key != NULL)
		return;
	key = make_key();
	if (key == NULL)
		abort();
	set = token_key_jwks(key, "fuzz-kid", NULL, &e);
	txt = set ? json_dumps(set, JSON_COMPACT) : NULL;
	if (txt == NULL || token_jwks_parse((const uint8_t *)txt, strlen(txt), &jwks, &e) != GPA_PASS)
		abort();
	free(txt);
	json_decref(set);
	token_keyring_of_jwks(&ring, jwks);
}

static void rules_init(struct token_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->issuer = FUZZ_ISSUER;
	r->now = FUZZ_NOW;
	r->leeway_s = TOKEN_DEFAULT_LEEWAY;
}

static void check_result(enum gpa_verdict v, const struct token_result *t)
{
	if (v == GPA_PASS && t->claims == NULL)
		abort();
}

static void fuzz_jwks(const uint8_t *p, size_t n)
{
	struct gpa_err e = {{0}};
	struct token_jwks *j = NULL;

	if (token_jwks_parse(p, n, &j, &e) == GPA_PASS) {
		(void)token_jwks_find(j, "fuzz-kid");
		(void)token_jwks_count(j);
		token_jwks_free(j);
	}
}

static void fuzz_jwt(const uint8_t *p, size_t n)
{
	struct token_rules r;
	struct gpa_err e = {{0}};
	char kid[TOKEN_KID_MAX + 1];
	json_t *payload = NULL;
	char *s = malloc(n + 1);

	if (s == NULL)
		return;
	memcpy(s, p, n);
	s[n] = 0;
	rules_init(&r);
	if (token_jwt_verify(s, n, &r, &ring, &payload, kid, &e) == GPA_PASS && payload == NULL)
		abort();
	json_decref(payload);
	free(s);
}

static void fuzz_eat(const uint8_t *p, size_t n, bool ear)
{
	struct token_rules r;
	struct token_result t = {0};
	struct gpa_err e = {{0}};
	enum gpa_verdict v;

	rules_init(&r);
	v = ear ? token_ear_verify(p, n, &r, &ring, &t, &e) : token_eat_verify(p, n, &r, &ring, &t, &e);
	check_result(v, &t);
	token_result_clear(&t);
}

static const struct token_signer signer = {
	.kid = "fuzz-kid", .issuer = FUZZ_ISSUER, .now = FUZZ_NOW,
};

static void fuzz_signed_claims(const uint8_t *p, size_t n)
{
	struct token_signer s = signer;
	struct gpa_err e = {{0}};
	json_t *claims = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
	char *jwt;

	if (!json_is_object(claims)) {
		json_decref(claims);
		return;
	}
	s.key = key;
	(void)token_device_claims_pass(claims, &e);
	jwt = token_sign_jwt(&s, claims, &e);
	if (jwt != NULL) {
		fuzz_jwt((const uint8_t *)jwt, strlen(jwt));
		fuzz_eat((const uint8_t *)jwt, strlen(jwt), true);
		free(jwt);
	}
	json_decref(claims);
}

static void fuzz_signed_eat(const uint8_t *p, size_t n)
{
	struct token_signer s = signer;
	struct gpa_err e = {{0}};
	json_t *arr = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL), *eat;
	json_t *sets[TOKEN_MAX_SUBMODS];
	size_t i, k = 0;
	char *txt;

	if (!json_is_array(arr)) {
		json_decref(arr);
		return;
	}
	for (i = 0; i < json_array_size(arr) && k < TOKEN_MAX_SUBMODS; i++)
		if (json_is_object(json_array_get(arr, i)))
			sets[k++] = json_array_get(arr, i);
	s.key = key;
	eat = k > 0 ? token_detached_eat(&s, sets, k, true, "00ff", &e) : NULL;
	txt = eat ? json_dumps(eat, JSON_COMPACT) : NULL;
	if (txt != NULL)
		fuzz_eat((const uint8_t *)txt, strlen(txt), false);
	free(txt);
	json_decref(eat);
	json_decref(arr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size == 0 || size > TOKEN_MAX_LEN)
		return 0;
	switch (data[0] % 6) {
	case 0: fuzz_jwks(data + 1, size - 1); break;
	case 1: fuzz_jwt(data + 1, size - 1); break;
	case 2: fuzz_eat(data + 1, size - 1, false); break;
	case 3: fuzz_eat(data + 1, size - 1, true); break;
	case 4: fuzz_signed_claims(data + 1, size - 1); break;
	default: fuzz_signed_eat(data + 1, size - 1); break;
	}
	return 0;
}
