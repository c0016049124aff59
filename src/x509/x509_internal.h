/*
 * x509 internals shared by the files of src/x509 only; nothing outside this
 * directory includes it. Never exposes a way to add trust.
 */
#ifndef GPA_X509_INTERNAL_H
#define GPA_X509_INTERNAL_H

#include "x509/x509.h"

#include <openssl/asn1.h>

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

/* An ASN1_TIME as time_t and RFC 3339 text. 0 ok, -1 unparsable. */
int asn1_time_to_unix(const ASN1_TIME *t, time_t *out, char rfc3339[21]);

#endif
