/*
 * x509: certificates, trust anchors and signatures, over OpenSSL.
 *
 * Owns: the pinned NVIDIA roots (checked by SHA-256 of their DER at load),
 * user-named anchors, PEM chain parsing, path validation at a given time,
 * validity (expiry) status, FWID extraction from device leaf certificates,
 * raw r||s ECDSA P-384 verification, and P-384 signatures checked with
 * Nettle where OpenSSL 3.0 is slow (p384.c; OpenSSL keeps the last word on
 * every refusal).
 *
 * Never: trusts a certificate because it arrived with the evidence. The only
 * trusted certificates are those in a gpa_anchors set.
 */
#ifndef GPA_X509_H
#define GPA_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "util/util.h"

/* SHA-256 of the DER of the two NVIDIA roots we pin. */
#define GPA_NVIDIA_DEVICE_ROOT_SHA256 \
	"102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48"
#define GPA_NVIDIA_CORIM_ROOT_SHA256 \
	"12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1"

enum gpa_anchor_use {
	GPA_ANCHOR_DEVICE,	/* device identity chains (GPU, NVSwitch) */
	GPA_ANCHOR_RIM,		/* RIM signing chains */
};

/* A set of trust anchors: one store for device chains, one for RIM chains. */
struct gpa_anchors;

/* New anchor set. with_pinned: include the NVIDIA roots (embedded in the
 * library; their fingerprints are checked against the constants above). */
struct gpa_anchors *anchors_new(bool with_pinned, struct gpa_err *e);
void anchors_free(struct gpa_anchors *a);
/* Adds every certificate of a PEM file as an anchor for both uses. Each must
 * be a CA certificate. 0 ok, -1 error naming the file. */
int anchors_add_pem_file(struct gpa_anchors *a, const char *path, struct gpa_err *e);
int anchors_add_pem(struct gpa_anchors *a, const char *pem, size_t len, const char *what,
    struct gpa_err *e);
/* The same for some uses only (a mask of GPA_ANCHOR_USE_BIT(use)): an anchor
 * named for RIM signing never validates a device chain, nor the reverse. */
#define GPA_ANCHOR_USE_BIT(u) (1u << (u))
#define GPA_ANCHOR_USES_BOTH (GPA_ANCHOR_USE_BIT(GPA_ANCHOR_DEVICE) | GPA_ANCHOR_USE_BIT(GPA_ANCHOR_RIM))
int anchors_add_pem_for(struct gpa_anchors *a, const char *pem, size_t len, const char *what,
    unsigned uses, struct gpa_err *e);
int anchors_add_pem_file_for(struct gpa_anchors *a, const char *path, unsigned uses, struct gpa_err *e);
/* Number of anchors for a use. */
int anchors_count(const struct gpa_anchors *a, enum gpa_anchor_use use);

/* Parses concatenated PEM certificates (leaf first). Rejects: no certificate,
 * anything but whitespace between/after PEM blocks, more than max_certs.
 * Returns a new stack or NULL with a message. */
STACK_OF(X509) *chain_from_pem(const char *pem, size_t len, int max_certs, struct gpa_err *e);

/* Result of validating one chain at time `at`. */
enum gpa_cert_status {
	GPA_CERT_VALID,		/* path verifies to an anchor, every cert within validity */
	GPA_CERT_EXPIRED,	/* path verifies, but some cert's notAfter < at */
	GPA_CERT_NOT_YET_VALID,	/* path verifies, but some cert's notBefore > at */
	GPA_CERT_INVALID,	/* path does not verify to an anchor */
};
const char *cert_status_name(enum gpa_cert_status s); /* "valid", "expired", "not-yet-valid", "invalid" */

struct gpa_chain_result {
	enum gpa_cert_status status;
	time_t min_not_after;		/* earliest notAfter on the validated path */
	char expiry[21];		/* the same as RFC 3339 */
	STACK_OF(X509) *path;		/* validated path, leaf..anchor (owned; NULL if invalid) */
	char detail[256];		/* why invalid / which cert expired */
};

/* Validates chain[0] up to an anchor for `use`, with chain[1..] as untrusted
 * intermediates. Signatures and CA constraints are checked by OpenSSL with
 * time checks off; validity against `at` is then computed over the whole
 * validated path and reported in status (so an expired chain is a finding,
 * not a parse error). Returns 0 when the check ran (look at res->status),
 * -1 on internal error. */
int chain_validate(const struct gpa_anchors *a, enum gpa_anchor_use use, STACK_OF(X509) *chain,
    time_t at, struct gpa_chain_result *res, struct gpa_err *e);
void chain_result_clear(struct gpa_chain_result *res);

/* FWID carried by a device leaf certificate: Hopper/LS10 extension
 * 2.23.133.5.4.1 (last element: SEQUENCE { hashAlg OID, OCTET STRING }),
 * Blackwell 2.23.133.5.4.1.1 (DiceTcbInfo, first entry of [6] fwids).
 * Both parsed as real DER. Returns 1 found (48 bytes in out), 0 no such
 * extension, -1 extension present but malformed (message in e). */
int cert_fwid(X509 *leaf, uint8_t out[48], struct gpa_err *e);

/* A certificate from exactly len bytes of DER (trailing bytes refused),
 * shared with earlier decodes of the same bytes in this process (decoding
 * is costly with OpenSSL 3.0); the caller owns one reference. NULL when the
 * bytes are not exactly one certificate. */
X509 *x509_from_der(const uint8_t *der, size_t len);
/* SHA-256 of a certificate's DER: the exact bytes x509_from_der decoded,
 * remembered with it, or else its encoding (X509_digest). 0 ok, -1 not. */
int x509_der_sha256(X509 *x, uint8_t out[32]);
/* SHA-256 and SHA-384, fetched once per process (OpenSSL 3.0 looks the
 * algorithm up again on every use of EVP_sha256() otherwise). */
const EVP_MD *x509_md_sha256(void);
/* SHA-256 of n bytes as 64 lowercase hex digits. */
void x509_sha256_hex(const void *p, size_t n, char out[65]);
const EVP_MD *x509_md_sha384(void);

/* Verifies a raw r||s ECDSA signature over SHA-384(msg) with key. The
 * signature must be exactly 2 * field size bytes (96 for P-384). A P-384 key's
 * signature is checked by Nettle first (p384.c); anything Nettle does not
 * accept, and any other key, by OpenSSL after DER conversion. Returns 1
 * valid, 0 invalid, -1 internal error. */
int ecdsa_verify_raw_sha384(EVP_PKEY *key, const uint8_t *msg, size_t msglen,
    const uint8_t *sig, size_t siglen);

/* Certificate signatures (and RIM XML signatures) already verified in this
 * process are remembered, keyed by the exact bytes, and not recomputed (see
 * util/memo.c); this turns the memory off (and forgets it), for benchmarks
 * and tests. */
void sigcache_set_enabled(bool on);
void sigcache_stats(unsigned long *hits, unsigned long *misses);

/* Subject CN (malloc'd, NULL if none), decimal serial (malloc'd), and
 * "subject" one-line (malloc'd). */
char *cert_subject_cn(X509 *c);
char *cert_serial_decimal(X509 *c);
char *cert_subject_line(X509 *c);
/* The subject serialNumber attribute raw value (e.g. BROM "41" + 16 hex PDI
 * digits as text) malloc'd, or NULL. */
char *cert_subject_serial_number(X509 *c);
/* Validity as RFC 3339 strings. */
void cert_validity(X509 *c, char not_before[21], char not_after[21]);

#endif
