/*
 * x509/ecdsa: raw r||s ECDSA verification with SHA-384 (the SPDM
 * measurement signature and the XMLDSig ecdsa-sha384 SignatureValue).
 *
 * Owns the conversion of a fixed-width r||s pair to the DER form OpenSSL
 * verifies. Never: accepts a signature of the wrong width, trims or pads
 * it, or reports an internal failure as a valid signature.
 */
#include "x509/x509_internal.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>

/* DER ECDSA-Sig-Value from fixed-width big-endian halves. */
static int rs_to_der(const uint8_t *sig, size_t half, unsigned char **der)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)half, NULL);
	BIGNUM *s = BN_bin2bn(sig + half, (int)half, NULL);
	int len = -1;

	*der = NULL;
	if (es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s) == 1) {
		r = s = NULL;	/* owned by es now */
		len = i2d_ECDSA_SIG(es, der);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return len;
}

/* The P-384 case with Nettle (p384.c): 1 valid, 0 ask OpenSSL. */
static int p384_raw(EVP_PKEY *key, const uint8_t *msg, size_t msglen, const uint8_t sig[96])
{
	uint8_t point[P384_POINT_LEN], digest[48];
	unsigned int dlen = 0;

	if (p384_point_of_pkey(key, point) != 0 ||
	    EVP_Digest(msg, msglen, digest, &dlen, x509_md_sha384(), NULL) != 1 || dlen != 48)
		return 0;
	return p384_verify_digest(point, digest, sizeof(digest), sig, sig + 48);
}

int ecdsa_verify_raw_sha384(EVP_PKEY *key, const uint8_t *msg, size_t msglen,
    const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *md = NULL;
	unsigned char *der = NULL;
	int bits, derlen, rc = -1;
	size_t half;

	if (key == NULL || (msg == NULL && msglen > 0) || !EVP_PKEY_is_a(key, "EC"))
		return -1;
	/* For an EC key this is the size of the group order: 384 for P-384. */
	bits = EVP_PKEY_get_bits(key);
	if (bits <= 0)
		return -1;
	half = ((size_t)bits + 7) / 8;
	if (sig == NULL || siglen != 2 * half)
		return 0;
	if (p384_raw(key, msg, msglen, sig) == 1)
		return 1;
	derlen = rs_to_der(sig, half, &der);
	if (derlen <= 0)
		goto out;
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestVerifyInit(md, NULL, x509_md_sha384(), NULL, key) != 1)
		goto out;
	/* Past this point any failure is a signature that does not verify. */
	rc = EVP_DigestVerify(md, der, (size_t)derlen, msg, msglen) == 1 ? 1 : 0;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	return rc;
}
