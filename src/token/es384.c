/*
 * token/es384: ES384 signing (ECDSA P-384 with SHA-384, RFC 7518 §3.4) by
 * Nettle, on the private scalar of a key OpenSSL loaded.
 *
 * Why not OpenSSL: OpenSSL 3.0 (Debian 12, Ubuntu 22.04) has no dedicated
 * P-384 code; one signature costs about 1.1 ms there and about 0.27 ms with
 * Nettle's curve-specific arithmetic, and a service signs two or more
 * tokens per verification (the overall token and one per device), which
 * made signing most of `gpuattest serve`'s CPU time. Nettle is linked
 * already for verification (x509/p384.c). Its ECC code is written to be
 * side-channel silent (no branches or memory accesses that depend on the
 * scalar or the nonce).
 *
 * The per-signature secret k is random, drawn from the kernel CSPRNG
 * (getrandom) through Nettle's rejection sampling; see docs/decisions.md,
 * "Service: signing RNG". A failed draw refuses the signature: no
 * signature is ever made with a k that is not fully random.
 *
 * Owns: a copy of the private scalar in Nettle's form, wiped before it is
 * freed. The PEM parsing, the key checks and the JOSE structure stay with
 * OpenSSL and libjose (token/jws.c).
 */
#include "token/token_internal.h"

#include <stdlib.h>
#include <string.h>

#include <gmp.h>
#include <nettle/dsa.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <nettle/sha2.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include "util/util.h"

struct es384_priv {
	struct ecc_scalar d;
};

/* Overwrites an mpz's limbs before it is cleared (GMP frees without
 * wiping). */
static void mpz_wipe_clear(mpz_t z)
{
	size_t n = mpz_size(z);

	if (n > 0)
		OPENSSL_cleanse(mpz_limbs_modify(z, (mp_size_t)n), n * sizeof(mp_limb_t));
	mpz_clear(z);
}

static int scalar_of_pkey(EVP_PKEY *k, struct ecc_scalar *d)
{
	BIGNUM *bn = NULL;
	uint8_t be[48];
	mpz_t z;
	int ok;

	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &bn) != 1 || BN_num_bytes(bn) > 48 ||
	    BN_bn2binpad(bn, be, sizeof(be)) != (int)sizeof(be)) {
		BN_clear_free(bn);
		return -1;
	}
	BN_clear_free(bn);
	mpz_init(z);
	mpz_import(z, sizeof(be), 1, 1, 1, 0, be);
	OPENSSL_cleanse(be, sizeof(be));
	/* Refuses 0 and anything >= the group order. */
	ok = ecc_scalar_set(d, z);
	mpz_wipe_clear(z);
	return ok == 1 ? 0 : -1;
}

struct es384_priv *es384_priv_of_pkey(EVP_PKEY *k)
{
	struct es384_priv *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	ecc_scalar_init(&p->d, nettle_get_secp_384r1());
	if (scalar_of_pkey(k, &p->d) != 0) {
		es384_priv_free(p);
		return NULL;
	}
	return p;
}

void es384_priv_free(struct es384_priv *p)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p->d.p, (size_t)ecc_size(p->d.ecc) * sizeof(mp_limb_t));
	ecc_scalar_clear(&p->d);
	free(p);
}

/* Nettle's random callback cannot fail: a failed getrandom is remembered
 * and the signature thrown away. */
struct rng_state {
	bool failed;
};

static void kernel_random(void *ctx, size_t len, uint8_t *dst)
{
	struct rng_state *st = ctx;

	if (random_bytes(dst, len) != 0) {
		st->failed = true;
		memset(dst, 0, len);
	}
}

static void mpz_to_be48(const mpz_t z, uint8_t out[48])
{
	size_t n = (mpz_sizeinbase(z, 2) + 7) / 8, count = 0;

	memset(out, 0, 48);
	if (mpz_sgn(z) > 0 && n <= 48)
		mpz_export(out + (48 - n), &count, 1, 1, 1, 0, z);
}

int es384_sign(const struct es384_priv *p, const uint8_t *msg, size_t len, uint8_t sig[96])
{
	struct sha384_ctx h;
	uint8_t digest[SHA384_DIGEST_SIZE];
	struct dsa_signature s;
	struct rng_state st = { false };
	int rc = -1;

	sha384_init(&h);
	sha384_update(&h, len, msg);
	sha384_digest(&h, sizeof(digest), digest);
	dsa_signature_init(&s);
	ecdsa_sign(&p->d, &st, kernel_random, sizeof(digest), digest, &s);
	/* No verification after signing (OpenSSL does none either): it would
	 * cost 0.36 ms per token, a third of an 8-GPU answer's CPU time, and
	 * every relying party checks the signature anyway. */
	if (!st.failed && mpz_sizeinbase(s.r, 2) <= 384 && mpz_sizeinbase(s.s, 2) <= 384) {
		mpz_to_be48(s.r, sig);
		mpz_to_be48(s.s, sig + 48);
		rc = 0;
	}
	dsa_signature_clear(&s);
	return rc;
}
