/*
 * Signed results through the API: a signer (an ES384 key, its kid and
 * issuer), the EAR and the NRAS-shaped detached EAT of a result, any claims
 * as a JWT, the signer's JWKS, and a relying party's check of such tokens.
 * Thin over src/token, with the rules 'gpuattest verify --result-token' and
 * 'gpuattest verify-token' apply; the keys are given as bytes (the caller
 * fetches a JWKS; the library never follows a URL a token names).
 */
#include "gpuattest.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "api/api_internal.h"
#include "token/token.h"

struct gpuattest_signer {
	struct token_key *key;
	char *kid, *issuer;
};

/* A call starts with no error, as the verification calls. */
static void begin(gpuattest_config *c)
{
	c->err.msg[0] = '\0';
	c->err_incomplete = false;
}

static int bad(gpuattest_config *c, const char *msg)
{
	gpa_err_set(&c->err, "%s", msg);
	c->err_incomplete = false;
	return -1;
}

/* A fresh P-384 key, through its PEM text so that it is imported exactly
 * as a key from a file is. */
static struct token_key *fresh_key(struct gpa_err *e)
{
	EVP_PKEY *pk = EVP_EC_gen("P-384");
	BIO *b = BIO_new(BIO_s_mem());
	struct token_key *k = NULL;
	char *pem;
	long n;

	if (pk != NULL && b != NULL && PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(b, &pem)) > 0)
		k = token_key_from_pem((const uint8_t *)pem, (size_t)n, e);
	else
		gpa_err_openssl(e, "a P-384 key could not be made");
	BIO_free(b);
	EVP_PKEY_free(pk);
	return k;
}

int gpuattest_signer_new(gpuattest_config *cfg, const char *key_pem, size_t key_len, const char *kid,
    const char *issuer, gpuattest_signer **out)
{
	gpuattest_signer *s;

	if (out == NULL)
		return bad(cfg, "gpuattest_signer_new: out is NULL");
	*out = NULL;
	begin(cfg);
	if (kid != NULL && (*kid == '\0' || strlen(kid) > TOKEN_KID_MAX))
		return bad(cfg, "signer: the kid must be 1 to 256 bytes");
	if (issuer != NULL && *issuer == '\0')
		return bad(cfg, "signer: the issuer must not be empty");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return bad(cfg, "out of memory");
	s->key = key_pem != NULL ? token_key_from_pem((const uint8_t *)key_pem, key_len, &cfg->err)
	    : fresh_key(&cfg->err);
	s->kid = kid ? strdup(kid) : NULL;
	s->issuer = strdup(issuer ? issuer : TOKEN_DEFAULT_ISSUER);
	if (s->key == NULL || s->issuer == NULL || (kid != NULL && s->kid == NULL)) {
		if (s->key != NULL)
			gpa_err_set(&cfg->err, "out of memory");
		gpa_err_prefix(&cfg->err, "signer");
		gpuattest_signer_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void gpuattest_signer_free(gpuattest_signer *s)
{
	if (s == NULL)
		return;
	token_key_free(s->key);
	free(s->kid);
	free(s->issuer);
	free(s);
}

const char *gpuattest_signer_kid(const gpuattest_signer *s)
{
	return s->kid ? s->kid : token_key_thumbprint(s->key);
}

char *gpuattest_signer_jwks(const gpuattest_signer *s)
{
	struct gpa_err e = {{0}};
	json_t *j = token_key_jwks(s->key, s->kid, NULL, &e);
	char *txt = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

	json_decref(j);
	return txt;
}

static struct token_signer signer_of(const gpuattest_signer *s)
{
	struct token_signer t = {.key = s->key, .kid = s->kid, .issuer = s->issuer, .now = time(NULL)};

	return t;
}

/* Hands a token made by src/token to the caller, or says why there is none. */
static int hand_out(gpuattest_config *cfg, char *t, char **token)
{
	if (t == NULL) {
		if (cfg->err.msg[0] == '\0')
			gpa_err_set(&cfg->err, "out of memory");
		gpa_err_prefix(&cfg->err, "the token could not be made");
		cfg->err_incomplete = true;
		return -1;
	}
	*token = t;
	return 0;
}

static int sign_args_ok(gpuattest_config *cfg, const gpuattest_signer *s, const void *what, char **token)
{
	begin(cfg);
	if (token == NULL)
		return bad(cfg, "token is NULL");
	*token = NULL;
	if (s == NULL || what == NULL)
		return bad(cfg, "a signer and what to sign are needed");
	return 0;
}

int gpuattest_result_sign_ear(gpuattest_config *cfg, const gpuattest_signer *s, const gpuattest_result *res,
    char **token)
{
	struct token_signer t;

	if (sign_args_ok(cfg, s, res, token) != 0)
		return -1;
	t = signer_of(s);
	return hand_out(cfg, token_ear_sign(&t, &res->a, &cfg->err), token);
}

int gpuattest_result_sign_detached_eat(gpuattest_config *cfg, const gpuattest_signer *s,
    const gpuattest_result *res, char **token)
{
	struct token_signer t;
	json_t *eat;

	if (sign_args_ok(cfg, s, res, token) != 0)
		return -1;
	t = signer_of(s);
	eat = token_detached_eat_from_appraisal(&t, &res->a, &cfg->err);
	char *txt = eat ? json_dumps(eat, JSON_COMPACT) : NULL;
	json_decref(eat);
	return hand_out(cfg, txt, token);
}

int gpuattest_signer_sign_jwt(gpuattest_config *cfg, const gpuattest_signer *s, const char *claims_json,
    char **token)
{
	struct token_signer t;
	json_error_t je;
	json_t *claims;
	char *jwt;

	if (sign_args_ok(cfg, s, claims_json, token) != 0)
		return -1;
	claims = json_loads(claims_json, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(claims)) {
		json_decref(claims);
		gpa_err_set(&cfg->err, "claims: not a JSON object (line %d: %s)", je.line,
		    claims ? "not an object" : je.text);
		return -1;
	}
	t = signer_of(s);
	/* A token shaped like another verifier's (NVIDIA's SDK names its own
	 * issuers) keeps the iss it was given; relying parties check it. */
	if (json_is_string(json_object_get(claims, "iss")) && json_string_length(json_object_get(claims, "iss")) > 0)
		t.issuer = json_string_value(json_object_get(claims, "iss"));
	jwt = token_sign_jwt(&t, claims, &cfg->err);
	json_decref(claims);
	return hand_out(cfg, jwt, token);
}

/* ---- a relying party's check ------------------------------------------- */

static bool looks_like_jwks(const char *keys, size_t len)
{
	size_t i = 0;

	while (i < len && (keys[i] == ' ' || keys[i] == '\n' || keys[i] == '\r' || keys[i] == '\t'))
		i++;
	return i < len && keys[i] == '{';
}

static int detect_type(const void *token, size_t len)
{
	const char *t = token;
	size_t i = 0;

	while (i < len && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t'))
		i++;
	return i < len && t[i] == '[' ? GPUATTEST_TOKEN_DETACHED_EAT : GPUATTEST_TOKEN_EAR;
}

/* A bare JWT: its signature, header and times, nothing about its claims. */
static enum gpa_verdict verify_jwt(const void *token, size_t len, const struct token_rules *r,
    const struct token_keyring *kr, struct token_result *out, struct gpa_err *e)
{
	const char *t = token;

	while (len > 0 && (t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == ' '))
		len--;
	return token_jwt_verify(t, len, r, kr, &out->claims, NULL, e);
}

static int verdict_of(gpuattest_config *cfg, enum gpa_verdict v)
{
	cfg->err_incomplete = v == GPA_INCOMPLETE;
	return v == GPA_PASS ? GPUATTEST_VERIFIED : v == GPA_FAIL ? GPUATTEST_FAILED :
	    v == GPA_BAD_INPUT ? GPUATTEST_BAD_INPUT : GPUATTEST_INCOMPLETE;
}

int gpuattest_verify_token(gpuattest_config *cfg, const void *token, size_t len, int type, const char *keys,
    size_t keys_len, const char *issuer, char **claims_json)
{
	struct token_rules rules = {0};
	struct token_result r = {0};
	struct token_jwks *jwks = NULL;
	struct token_keyring kr;
	enum gpa_verdict v;

	begin(cfg);
	if (claims_json != NULL)
		*claims_json = NULL;
	if (token == NULL || keys == NULL || len > TOKEN_MAX_LEN || keys_len > TOKEN_JWKS_MAX_LEN ||
	    type < GPUATTEST_TOKEN_DETECT || type > GPUATTEST_TOKEN_JWT) {
		bad(cfg, "verify token: a token (at most 1 MiB), its keys (a JWKS or a PEM public key, at most "
		    "256 KiB) and a known token type are needed");
		return GPUATTEST_BAD_INPUT;
	}
	if (type == GPUATTEST_TOKEN_DETECT)
		type = detect_type(token, len);
	v = looks_like_jwks(keys, keys_len) ? token_jwks_parse((const uint8_t *)keys, keys_len, &jwks, &cfg->err)
	    : token_jwks_from_pem((const uint8_t *)keys, keys_len, NULL, &jwks, &cfg->err);
	if (v != GPA_PASS) {
		gpa_err_prefix(&cfg->err, "keys");
		return verdict_of(cfg, v);
	}
	token_keyring_of_jwks(&kr, jwks);
	rules.issuer = issuer ? issuer : TOKEN_DEFAULT_ISSUER;
	rules.now = cfg->at_given ? cfg->at : time(NULL);
	rules.leeway_s = TOKEN_DEFAULT_LEEWAY;
	rules.have_nonce = cfg->have_nonce;
	memcpy(rules.nonce, cfg->nonce, SPDM_NONCE_LEN);
	rules.nonce_len = SPDM_NONCE_LEN;
	if (type == GPUATTEST_TOKEN_DETACHED_EAT)
		v = token_eat_verify(token, len, &rules, &kr, &r, &cfg->err);
	else if (type == GPUATTEST_TOKEN_EAR)
		v = token_ear_verify(token, len, &rules, &kr, &r, &cfg->err);
	else
		v = verify_jwt(token, len, &rules, &kr, &r, &cfg->err);
	if (v == GPA_PASS)
		cfg->err.msg[0] = '\0';
	if (claims_json != NULL && r.claims != NULL)
		*claims_json = json_dumps(r.claims, JSON_INDENT(2) | JSON_SORT_KEYS);
	token_result_clear(&r);
	token_jwks_free(jwks);
	return verdict_of(cfg, v);
}
