/*
 * Parsed certificates, shared within a process. With OpenSSL 3.0 decoding a
 * certificate costs about as much as a third of a signature check (the
 * public key goes through the provider decoders), and one verification
 * decodes the same certificates many times: the intermediates of every GPU's
 * chain, the RIM chains shared by all GPUs. The key is the SHA-256 of the
 * exact DER, so a hit is the same certificate; objects are reference
 * counted and never modified by us, except that each carries the SHA-256
 * of its DER (ex_data, set before it is shared) for the signature memory.
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

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int der_index = -1;
static EVP_MD *sha256, *sha384;

static void free_digest(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	OPENSSL_free(ptr);
}

static void init_once(void)
{
	der_index = X509_get_ex_new_index(0, NULL, NULL, NULL, free_digest);
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
}

const EVP_MD *x509_md_sha256(void)
{
	pthread_once(&once, init_once);
	return sha256 != NULL ? sha256 : EVP_sha256();
}

const EVP_MD *x509_md_sha384(void)
{
	pthread_once(&once, init_once);
	return sha384 != NULL ? sha384 : EVP_sha384();
}

void x509_sha256_hex(const void *p, size_t n, char out[65])
{
	uint8_t md[32];
	unsigned int len = 0;

	if (EVP_Digest(p, n, md, &len, x509_md_sha256(), NULL) != 1 || len != sizeof(md)) {
		out[0] = '\0';
		return;
	}
	hex_encode(md, sizeof(md), out);
}

int x509_der_sha256(X509 *x, uint8_t out[32])
{
	const uint8_t *d;
	unsigned int len = 0;

	pthread_once(&once, init_once);
	if (der_index >= 0 && (d = X509_get_ex_data(x, der_index)) != NULL) {
		memcpy(out, d, 32);
		return 0;
	}
	return X509_digest(x, x509_md_sha256(), out, &len) == 1 && len == 32 ? 0 : -1;
}

/* Before x is shared: nothing else reads it yet. */
static void remember_digest(X509 *x, const uint8_t key[32])
{
	uint8_t *d;

	if (der_index < 0 || (d = OPENSSL_malloc(32)) == NULL)
		return;
	memcpy(d, key, 32);
	if (X509_set_ex_data(x, der_index, d) != 1)
		OPENSSL_free(d);
}

X509 *x509_from_der(const uint8_t *der, size_t len)
{
	uint8_t key[32];
	unsigned int klen = 0;
	const unsigned char *p = der;
	size_t slot;
	X509 *x = NULL;

	if (len == 0 || len > (size_t)LONG_MAX ||
	    EVP_Digest(der, len, key, &klen, x509_md_sha256(), NULL) != 1)
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
	remember_digest(x, key);
	pthread_mutex_lock(&cc.lock);
	if (X509_up_ref(x) == 1) {
		X509_free(cc.cert[slot]);
		cc.cert[slot] = x;
		memcpy(cc.key[slot], key, 32);
	}
	pthread_mutex_unlock(&cc.lock);
	return x;
}
