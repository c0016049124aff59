/*
 * Parsed certificates, shared within a process. With OpenSSL 3.0 decoding a
 * certificate costs about as much as a third of a signature check (the
 * public key goes through the provider decoders), and one verification
 * decodes the same certificates many times: the intermediates of every GPU's
 * chain, the RIM chains shared by all GPUs. The key is the SHA-256 of the
 * exact DER, so a hit is the same certificate; objects are reference
 * counted and never modified by us.
 */
#include "x509/x509_internal.h"

#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#define CERTCACHE_SLOTS 256

static struct {
	pthread_mutex_t lock;
	uint8_t key[CERTCACHE_SLOTS][32];
	X509 *cert[CERTCACHE_SLOTS];
} cc = {.lock = PTHREAD_MUTEX_INITIALIZER};

X509 *x509_from_der(const uint8_t *der, size_t len)
{
	uint8_t key[32];
	unsigned int klen = 0;
	const unsigned char *p = der;
	size_t slot;
	X509 *x = NULL;

	if (len == 0 || len > (size_t)LONG_MAX || EVP_Digest(der, len, key, &klen, EVP_sha256(), NULL) != 1)
		return NULL;
	slot = ((size_t)key[0] | (size_t)key[1] << 8) % CERTCACHE_SLOTS;
	pthread_mutex_lock(&cc.lock);
	if (cc.cert[slot] != NULL && memcmp(cc.key[slot], key, 32) == 0 && X509_up_ref(cc.cert[slot]) == 1)
		x = cc.cert[slot];
	pthread_mutex_unlock(&cc.lock);
	if (x != NULL)
		return x;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL || p != der + len) {
		/* Trailing bytes make it not a certificate for us. */
		X509_free(x);
		return NULL;
	}
	pthread_mutex_lock(&cc.lock);
	if (X509_up_ref(x) == 1) {
		X509_free(cc.cert[slot]);
		cc.cert[slot] = x;
		memcpy(cc.key[slot], key, 32);
	}
	pthread_mutex_unlock(&cc.lock);
	return x;
}
