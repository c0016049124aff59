/*
 * x509/p384: ECDSA P-384 signatures verified by Nettle.
 *
 * Why not OpenSSL: every signature gpuattest checks on NVIDIA's PKI is
 * ECDSA P-384 with SHA-384 (device certificates, attestation reports, OCSP
 * answers, RIM chains), and OpenSSL 3.0, the OpenSSL of Debian 12 and
 * Ubuntu 22.04, has no dedicated P-384 code: its generic prime-field
 * arithmetic makes one verification cost about 1.1 ms, about 80 % of a
 * verification of 8 GPUs. Nettle's (GnuTLS's arithmetic library, with
 * assembly for this curve's field and a precomputed table for the
 * generator) does the same check in under half of that. See
 * docs/decisions.md.
 *
 * Everything around the arithmetic stays with OpenSSL: decoding
 * certificates, keys and signatures, path building, OCSP. This file takes
 * over only the final "does this signature verify" for exactly one case:
 * an id-ecPublicKey key on the named curve secp384r1 with an uncompressed
 * point, and ecdsa-with-SHA256/384/512 with absent parameters. And it can
 * only say yes: for any other case, and for any signature Nettle does not
 * accept, the caller asks OpenSSL as before, so every refusal is OpenSSL's.
 * That also covers the one legal corner Nettle's verification misses (u1*G
 * equal to u2*Q, Wycheproof's "point duplication" case, which Nettle
 * refuses).
 * Refusals are rare (forged or damaged input), so checking them twice costs
 * nothing in practice.
 *
 * Owns: the SEC1 point to Nettle point conversion (Nettle checks the point
 * is on the curve), the DER ECDSA-Sig-Value rules OpenSSL applies (strict
 * DER, re-encoding identical, no negative values), the outer/inner algorithm
 * match and the zero unused bits of a signature BIT STRING.
 * Never: accepts a signature when anything could not be computed.
 */
#include "x509/x509_internal.h"

#include <gmp.h>
#include <nettle/dsa.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ocsp.h>
#include <string.h>

static _Atomic unsigned long accepted;

unsigned long p384_accepted(void)
{
	return accepted;
}

static void mpz_from_be(mpz_t z, const uint8_t *p, size_t n)
{
	mpz_init(z);
	mpz_import(z, n, 1, 1, 1, 0, p);
}

int p384_verify_digest(const uint8_t point[P384_POINT_LEN], const uint8_t *digest,
    size_t dlen, const uint8_t r[48], const uint8_t s[48])
{
	struct ecc_point pub;
	struct dsa_signature sig;
	mpz_t x, y;
	int rc;

	if (point[0] != 0x04)
		return 0;
	mpz_from_be(x, point + 1, 48);
	mpz_from_be(y, point + 49, 48);
	ecc_point_init(&pub, nettle_get_secp_384r1());
	/* ecc_point_set refuses coordinates >= p and points off the curve. */
	if (ecc_point_set(&pub, x, y) != 1) {
		rc = 0;
	} else {
		dsa_signature_init(&sig);
		mpz_import(sig.r, 48, 1, 1, 1, 0, r);
		mpz_import(sig.s, 48, 1, 1, 1, 0, s);
		/* Refuses r or s outside [1, n-1] itself. */
		rc = ecdsa_verify(&pub, dlen, digest, &sig) == 1 ? 1 : 0;
		dsa_signature_clear(&sig);
	}
	if (rc == 1)
		accepted++;
	ecc_point_clear(&pub);
	mpz_clear(x);
	mpz_clear(y);
	return rc;
}

int p384_point_of_pkey(EVP_PKEY *key, uint8_t point[P384_POINT_LEN])
{
	char group[32];
	size_t len = 0;

	if (key == NULL || !EVP_PKEY_is_a(key, "EC") ||
	    EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1 ||
	    strcmp(group, "secp384r1") != 0 ||
	    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
		P384_POINT_LEN, &len) != 1 ||
	    len != P384_POINT_LEN || point[0] != 0x04) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/* From the certificate's SubjectPublicKeyInfo as encoded: no key object. */
static int point_of_cert(X509 *x, uint8_t point[P384_POINT_LEN])
{
	X509_PUBKEY *xpk = X509_get_X509_PUBKEY(x);
	ASN1_OBJECT *alg = NULL;
	const unsigned char *pk = NULL;
	const void *pval = NULL;
	X509_ALGOR *pa = NULL;
	int pklen = 0, ptype = 0;

	if (xpk == NULL || X509_PUBKEY_get0_param(&alg, &pk, &pklen, &pa, xpk) != 1 ||
	    OBJ_obj2nid(alg) != NID_X9_62_id_ecPublicKey || pa == NULL)
		return -1;
	X509_ALGOR_get0(NULL, &ptype, &pval, pa);
	if (ptype != V_ASN1_OBJECT || OBJ_obj2nid(pval) != NID_secp384r1 ||
	    pklen != P384_POINT_LEN || pk[0] != 0x04)
		return -1;
	memcpy(point, pk, P384_POINT_LEN);
	return 0;
}

/* The digest of ecdsa-with-SHA256/384/512 with absent parameters (RFC 5758
 * §3.2); NULL for anything else. NVIDIA signs with SHA-384 everywhere, but
 * an OCSP responder's default for a P-384 key is SHA-256 (`openssl ocsp`). */
static const EVP_MD *ecdsa_alg_md(const X509_ALGOR *alg)
{
	const ASN1_OBJECT *obj = NULL;
	int ptype = 0;

	X509_ALGOR_get0(&obj, &ptype, NULL, alg);
	if (ptype != V_ASN1_UNDEF)
		return NULL;
	switch (OBJ_obj2nid(obj)) {
	case NID_ecdsa_with_SHA256: return x509_md_sha256();
	case NID_ecdsa_with_SHA384: return x509_md_sha384();
	case NID_ecdsa_with_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

/*
 * r and s of a DER ECDSA-Sig-Value, as OpenSSL's ECDSA_verify reads it: the
 * bytes must be exactly the DER encoding of the decoded value, and r, s not
 * negative (Nettle then checks 0 < r, s < n). 0 ok, -1 not a valid
 * signature encoding.
 */
int p384_sig_of_der(const uint8_t *der, size_t len, uint8_t r[48], uint8_t s[48])
{
	const unsigned char *p = der;
	unsigned char *again = NULL;
	const BIGNUM *br, *bs;
	ECDSA_SIG *es;
	int n, rc = -1;

	if (len == 0 || len > 256 || (es = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL) {
		ERR_clear_error();
		return -1;
	}
	n = i2d_ECDSA_SIG(es, &again);
	ECDSA_SIG_get0(es, &br, &bs);
	if (p == der + len && n == (int)len && memcmp(again, der, len) == 0 &&
	    !BN_is_negative(br) && !BN_is_negative(bs) &&
	    BN_bn2binpad(br, r, 48) == 48 && BN_bn2binpad(bs, s, 48) == 48)
		rc = 0;
	OPENSSL_free(again);
	ECDSA_SIG_free(es);
	ERR_clear_error();
	return rc;
}

/* The octets of a signature BIT STRING, which must have no unused bits. The
 * count is only visible in the encoding (d2i keeps it, i2d writes it). */
static int sig_octets(const ASN1_BIT_STRING *sig, unsigned char **buf, const unsigned char **p,
    long *n)
{
	const unsigned char *q;
	struct asn1_elem el;
	int len;

	*buf = NULL;
	if ((len = i2d_ASN1_BIT_STRING((ASN1_BIT_STRING *)sig, buf)) <= 0)
		return -1;
	q = *buf;
	if (asn1_next(&q, *buf + len, &el) != 0 || q != *buf + len ||
	    !asn1_is(&el, V_ASN1_UNIVERSAL, V_ASN1_BIT_STRING, false) || el.len < 1 || el.content[0] != 0)
		return -1;
	*p = el.content + 1;
	*n = el.len - 1;
	return 0;
}

/* Signature over tbs (the exact bytes) by point. */
static int verify_signed(const unsigned char *tbs, size_t tbslen, const X509_ALGOR *alg,
    const ASN1_BIT_STRING *sig, const uint8_t point[P384_POINT_LEN])
{
	uint8_t digest[EVP_MAX_MD_SIZE], r[48], s[48];
	const EVP_MD *md = ecdsa_alg_md(alg);
	unsigned char *buf = NULL;
	const unsigned char *der;
	unsigned int dlen = 0;
	long derlen;
	int rc;

	if (md == NULL || sig_octets(sig, &buf, &der, &derlen) != 0 ||
	    p384_sig_of_der(der, (size_t)derlen, r, s) != 0 ||
	    EVP_Digest(tbs, tbslen, digest, &dlen, md, NULL) != 1)
		rc = 0;
	else
		rc = p384_verify_digest(point, digest, dlen, r, s);
	OPENSSL_free(buf);
	return rc;
}

/* The TBSCertificate bytes as they were signed: the first element of the
 * certificate's encoding (i2d keeps the decoded TBS bytes). */
static int cert_tbs(X509 *cert, unsigned char **buf, const unsigned char **tbs, size_t *len)
{
	const unsigned char *q, *end;
	struct asn1_elem whole, first;
	int n;

	*buf = NULL;
	if ((n = i2d_X509(cert, buf)) <= 0)
		return -1;
	q = *buf;
	end = *buf + n;
	if (asn1_next(&q, end, &whole) != 0 || !asn1_is(&whole, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, true))
		return -1;
	q = whole.content;
	if (asn1_next(&q, whole.content + whole.len, &first) != 0 ||
	    !asn1_is(&first, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, true))
		return -1;
	*tbs = first.start;
	*len = (size_t)(q - first.start);
	return 0;
}

int p384_cert_signed_by(X509 *cert, X509 *issuer)
{
	const ASN1_BIT_STRING *sig = NULL;
	const X509_ALGOR *alg = NULL;
	uint8_t point[P384_POINT_LEN];
	unsigned char *buf = NULL;
	const unsigned char *tbs;
	size_t tbslen;
	int rc;

	X509_get0_signature(&sig, &alg, cert);
	/* As X509_verify: the signed algorithm must be the outer one. */
	if (X509_ALGOR_cmp(alg, X509_get0_tbs_sigalg(cert)) != 0 || point_of_cert(issuer, point) != 0)
		return 0;
	if (cert_tbs(cert, &buf, &tbs, &tbslen) != 0)
		rc = 0;
	else
		rc = verify_signed(tbs, tbslen, alg, sig, point);
	OPENSSL_free(buf);
	ERR_clear_error();
	return rc;
}

int x509_signed_by(X509 *cert, X509 *issuer)
{
	int rc;

	if (p384_cert_signed_by(cert, issuer) == 1)
		return 1;
	rc = X509_verify(cert, X509_get0_pubkey(issuer)) == 1;
	ERR_clear_error();
	return rc;
}

int p384_ocsp_signed_by(OCSP_BASICRESP *bs, X509 *signer)
{
	uint8_t point[P384_POINT_LEN];
	unsigned char *tbs = NULL;
	int n, rc;

	if (point_of_cert(signer, point) != 0)
		return 0;
	/* The bytes OCSP_BASICRESP_verify hashes: tbsResponseData encoded. */
	n = i2d_OCSP_RESPDATA((OCSP_RESPDATA *)OCSP_resp_get0_respdata(bs), &tbs);
	if (n <= 0)
		rc = 0;
	else
		rc = verify_signed(tbs, (size_t)n, OCSP_resp_get0_tbs_sigalg(bs),
		    OCSP_resp_get0_signature(bs), point);
	OPENSSL_free(tbs);
	ERR_clear_error();
	return rc;
}
