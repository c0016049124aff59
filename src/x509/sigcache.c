/*
 * Certificate signatures are checked once per process.
 *
 * ECDSA P-384 verification costs about 1 ms with OpenSSL 3.0 and is most of
 * the time of a verification. The GPUs of one machine share their
 * intermediate certificates and RIM chains, and a long-running verifier
 * sees the same chains again and again. The memo key binds the exact DER of
 * the certificate (signature included) and of the issuer certificate
 * (hence its key), so a hit means the very same computation succeeded. The
 * DER digests come with the certificates (x509_der_sha256): encoding a
 * certificate again to hash it cost more than the memory saved.
 */
#include "x509/x509_internal.h"

#include <openssl/evp.h>
#include <string.h>
#include <time.h>

static int cache_key(X509 *cert, X509 *issuer, uint8_t out[32])
{
	uint8_t both[64];
	unsigned int lo = 0;

	if (x509_der_sha256(cert, both) != 0 || x509_der_sha256(issuer, both + 32) != 0)
		return -1;
	return EVP_Digest(both, sizeof(both), out, &lo, x509_md_sha256(), NULL) == 1 ? 0 : -1;
}

static int sigcache_verify_cert(X509 *cert, X509 *issuer)
{
	uint8_t k[32];
	bool keyed, ok;

	if (X509_get0_pubkey(issuer) == NULL)
		return 0;
	keyed = cache_key(cert, issuer, k) == 0;
	if (!keyed)
		return x509_signed_by(cert, issuer);
	if (memo_claim(MEMO_CERT_SIGNATURE, k))
		return 1;
	ok = x509_signed_by(cert, issuer) == 1;
	memo_settle(MEMO_CERT_SIGNATURE, k, ok);
	return ok;
}

void sigcache_set_enabled(bool on)
{
	memo_set_enabled(on);
}

void sigcache_stats(unsigned long *hits, unsigned long *misses)
{
	memo_stats(hits, misses);
}

/* Validity at the context's time, unless the context says not to check. */
static int check_times(X509_STORE_CTX *ctx, X509 *x, int depth, X509_STORE_CTX_verify_cb cb)
{
	X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(ctx);
	unsigned long flags = X509_VERIFY_PARAM_get_flags(p);
	time_t t = (flags & X509_V_FLAG_USE_CHECK_TIME) ? X509_VERIFY_PARAM_get_time(p) : time(NULL);
	int err = 0;

	if (flags & X509_V_FLAG_NO_CHECK_TIME)
		return 1;
	if (X509_cmp_time(X509_get0_notBefore(x), &t) >= 0)
		err = X509_V_ERR_CERT_NOT_YET_VALID;
	else if (X509_cmp_time(X509_get0_notAfter(x), &t) <= 0)
		err = X509_V_ERR_CERT_HAS_EXPIRED;
	if (err == 0)
		return 1;
	X509_STORE_CTX_set_error(ctx, err);
	X509_STORE_CTX_set_error_depth(ctx, depth);
	X509_STORE_CTX_set_current_cert(ctx, x);
	return cb != NULL && cb(0, ctx) != 0;
}

/*
 * Replaces OpenSSL's internal_verify (signatures and times) for our chain
 * checks. Everything else X509_verify_cert does (path building, CA and
 * key-usage constraints, X509_STRICT checks, trust) runs before it as
 * usual. Times are checked here unless the context has NO_CHECK_TIME (our
 * device and RIM chains, whose validity chain_validate judges against the
 * caller's instant). The self-signature of the anchor is not checked, as
 * OpenSSL does not.
 */
int sigcache_chain_verify_cb(X509_STORE_CTX *ctx)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	X509_STORE_CTX_verify_cb cb = X509_STORE_CTX_get_verify_cb(ctx);
	int n = sk_X509_num(chain);

	for (int i = n - 1; i >= 0; i--)
		if (!check_times(ctx, sk_X509_value(chain, i), i, cb))
			return 0;
	for (int i = n - 2; i >= 0; i--) {
		X509 *xs = sk_X509_value(chain, i), *xi = sk_X509_value(chain, i + 1);
		int err = 0;

		if (X509_get0_pubkey(xi) == NULL)
			err = X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY;
		else if (sigcache_verify_cert(xs, xi) != 1)
			err = X509_V_ERR_CERT_SIGNATURE_FAILURE;
		if (err != 0) {
			X509_STORE_CTX_set_error(ctx, err);
			X509_STORE_CTX_set_error_depth(ctx, i);
			X509_STORE_CTX_set_current_cert(ctx, xs);
			if (cb == NULL || cb(0, ctx) == 0)
				return 0;
		}
	}
	return 1;
}
