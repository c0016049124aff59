/* Shared between the files of token/ only. */
#ifndef GPA_TOKEN_INTERNAL_H
#define GPA_TOKEN_INTERNAL_H

#include "token/token.h"

bool token_pkey_is_p384(EVP_PKEY *k);
/* The public JWK (kty, crv, x, y) of a key, by libjose. New reference. */
json_t *token_pkey_jwk(EVP_PKEY *k);
/* RFC 7638 SHA-256 thumbprint, base64url. 0 ok, -1 not. */
int token_jwk_thumbprint(const json_t *jwk, char out[64]);
EVP_PKEY *token_key_pkey(const struct token_key *k);
/* The key of an EC P-384 JWK (public only), or NULL with why. */
EVP_PKEY *token_key_of_ec_jwk(const json_t *jwk, const char **why);
/* base64url without padding, malloc'd. */
char *token_b64url(const void *buf, size_t len);
/* Strict, canonical base64url; malloc'd and NUL terminated. 0 ok, -1 bad. */
int token_b64url_decode(const char *in, size_t len, uint8_t **out, size_t *outlen);

/* The private scalar of a P-384 key in Nettle's form (token/es384.c). */
struct es384_priv;
struct es384_priv *es384_priv_of_pkey(EVP_PKEY *k);
void es384_priv_free(struct es384_priv *p);
/* ES384 over msg: r||s, 48 bytes each, random k. 0 ok, -1 failed. */
int es384_sign(const struct es384_priv *p, const uint8_t *msg, size_t len, uint8_t sig[96]);

#endif
