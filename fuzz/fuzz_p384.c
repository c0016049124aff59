/*
 * Differential libFuzzer target for x509/p384: the input is a P-384 point
 * (97 bytes, SEC1), a SHA-384 digest (48 bytes) and a DER ECDSA-Sig-Value
 * (the rest). Nettle's verdict (p384_sig_of_der + p384_verify_digest) is
 * compared with OpenSSL's (EVP_PKEY_verify on the same digest): the Nettle
 * path must never accept what OpenSSL refuses; it aborts if it does. The
 * seeds (fuzz/seed.sh) are valid triples, so the fuzzer starts from
 * signatures that verify and mutates the key, digest and encoding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "x509/x509_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *key_of(const uint8_t point[P384_POINT_LEN])
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM params[3];
	EVP_PKEY *k = NULL;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "secp384r1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point,
	    P384_POINT_LEN);
	params[2] = OSSL_PARAM_construct_end();
	if (c == NULL || EVP_PKEY_fromdata_init(c) != 1 ||
	    EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
		k = NULL;
	EVP_PKEY_CTX_free(c);
	return k;
}

static int openssl_verdict(const uint8_t point[P384_POINT_LEN], const uint8_t *digest,
    const uint8_t *sig, size_t len)
{
	EVP_PKEY *k = key_of(point);
	EVP_PKEY_CTX *c = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
	int v = c != NULL && EVP_PKEY_verify_init(c) == 1 &&
	    EVP_PKEY_verify(c, sig, len, digest, 48) == 1;

	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(k);
	ERR_clear_error();
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *point = data, *digest = data + P384_POINT_LEN, *sig = digest + 48;
	size_t siglen;
	uint8_t r[48], s[48];
	int nettle = 0;

	if (size < P384_POINT_LEN + 48)
		return 0;
	siglen = size - P384_POINT_LEN - 48;
	if (p384_sig_of_der(sig, siglen, r, s) == 0)
		nettle = p384_verify_digest(point, digest, 48, r, s);
	if (nettle == 1 && openssl_verdict(point, digest, sig, siglen) != 1)
		abort();
	return 0;
}
