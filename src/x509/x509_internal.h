/*
 * x509 internals shared by the files of src/x509 only; nothing outside this
 * directory includes it. Never exposes a way to add trust.
 */
#ifndef GPA_X509_INTERNAL_H
#define GPA_X509_INTERNAL_H

#include "x509/x509.h"

#include <openssl/asn1.h>
#include <openssl/ocsp.h>

/* The store of anchors for one use (borrowed; NULL for a bad use). */
X509_STORE *anchors_store(const struct gpa_anchors *a, enum gpa_anchor_use use);
/* Whether c (byte-identical) is an anchor for use. */
bool anchors_contains(const struct gpa_anchors *a, enum gpa_anchor_use use, X509 *c);

/* Adds a single-certificate PEM as an anchor for one use only if the SHA-256
 * of its DER equals sha256_hex (lowercase). Used for the embedded roots;
 * visible here so the test can show a mismatch is refused. */
int anchors_add_pinned(struct gpa_anchors *a, enum gpa_anchor_use use, const char *pem,
    const char *sha256_hex, const char *name, struct gpa_err *e);

/* sigcache.c: the X509_STORE_CTX verify function that checks every link of
 * a path through a process-wide memory of successful signature checks. */
int sigcache_chain_verify_cb(X509_STORE_CTX *ctx);

/*
 * p384.c: ECDSA P-384 checks done with Nettle (see there why).
 * The p384_* checks answer 1 (valid) or 0 (not shown valid: another kind
 * of key or signature, or Nettle does not accept it); on 0 the caller asks
 * OpenSSL, whose answer is final.
 */
#define P384_POINT_LEN 97	/* SEC1 uncompressed: 04 || x || y */
int p384_verify_digest(const uint8_t point[P384_POINT_LEN], const uint8_t *digest,
    size_t dlen, const uint8_t r[48], const uint8_t s[48]);
/* The uncompressed point of a P-384 key. 0 ok, -1 another key or form. */
int p384_point_of_pkey(EVP_PKEY *key, uint8_t point[P384_POINT_LEN]);
/* r, s of a strict-DER ECDSA-Sig-Value. 0 ok, -1 not a valid encoding. */
int p384_sig_of_der(const uint8_t *der, size_t len, uint8_t r[48], uint8_t s[48]);
int p384_cert_signed_by(X509 *cert, X509 *issuer);
int p384_ocsp_signed_by(OCSP_BASICRESP *bs, X509 *signer);
/* How many signatures Nettle accepted in this process (tests, benchmarks). */
unsigned long p384_accepted(void);
/* X509_verify(cert, issuer's key), the P-384 case by Nettle. 1 valid, 0 not. */
int x509_signed_by(X509 *cert, X509 *issuer);

/* asn1walk.c: one element at *p (before end), read as OpenSSL reads it: its
 * tag and class, where it and its content start, how long the content is;
 * *p moves past it. Definite lengths only. 0 ok, -1 not. */
struct asn1_elem {
	int tag, cls;
	bool constructed;
	const unsigned char *start, *content;
	long len;
};
int asn1_next(const unsigned char **p, const unsigned char *end, struct asn1_elem *el);
bool asn1_is(const struct asn1_elem *el, int cls, int tag, bool constructed);

/* An ASN1_TIME as time_t and RFC 3339 text. 0 ok, -1 unparsable. */
int asn1_time_to_unix(const ASN1_TIME *t, time_t *out, char rfc3339[21]);

#endif
