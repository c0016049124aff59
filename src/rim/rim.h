/*
 * rim: NVIDIA reference integrity manifests (TCG RIM as ISO 19770-2 SWID XML).
 *
 * Owns: safe XML parsing (no network, no DTD, no entities), the enveloped
 * XMLDSig check with xmlsec1 (C14N 1.1, ecdsa-sha384, key = the first
 * X509Certificate, whose chain is validated by x509 to the RIM anchors), and
 * extraction of the golden measurements.
 *
 * Never: returns measurements from a document whose signature did not cover
 * them. The document shape is fixed (one Signature, the last child of the
 * root, one Reference URI="" with exactly enveloped + C14N transforms), so
 * everything outside the Signature element is signed; any other shape is
 * refused before measurements are read (no signature wrapping).
 */
#ifndef GPA_RIM_H
#define GPA_RIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/util.h"
#include "x509/x509.h"

#define GPA_RIM_MAX_BYTES	(4u << 20)	/* refuse larger documents */
#define GPA_RIM_MAX_INDEX	255
#define GPA_RIM_MAX_ALTS	16
#define GPA_RIM_HASH_MAX	64

struct rim_measurement {
	int index;			/* 0-based RIM index (= SPDM block index - 1) */
	bool active;
	int nalts;
	size_t size;			/* the size attribute */
	char name[64];
	size_t hash_len[GPA_RIM_MAX_ALTS];
	uint8_t hash[GPA_RIM_MAX_ALTS][GPA_RIM_HASH_MAX];
};

struct rim {
	char *colloquial_version;	/* Meta/@colloquialVersion */
	char *firmware_manufacturer_id;	/* Meta/@ns1:FirmwareManufacturerId (oemid), may be NULL */
	char *tag_id;
	char *name;			/* SoftwareIdentity/@name, e.g. GH100, LS10 */
	char *edition;			/* Meta/@edition, e.g. GPU, SWITCH */
	int nmeas;
	struct rim_measurement *meas;	/* every Resource type=Measurement, in document order */

	/* Signature and chain. */
	bool signature_checked;		/* xmlsec ran */
	bool signature_valid;		/* digest and SignatureValue verified with the leaf key */
	char signature_detail[256];
	struct gpa_chain_result chain;	/* chain of the X509Certificate elements */
	STACK_OF(X509) *certs;		/* as embedded, leaf first */
};

/* Parses a RIM from raw XML text, or from the RIM service's JSON
 * ({"id","rim":base64,"sha256",...}; when expected_id is not NULL the JSON id
 * must equal it and the sha256 must match the decoded document).
 *
 * Structural problems (not XML, DTD present, missing attributes, bad hex,
 * duplicate active index, unexpected signature shape) return -1 with a
 * message. A well-formed document whose signature or chain does not verify
 * returns 0 with signature_valid / chain.status telling why: these are
 * verification findings, reported in claims. Measurements are only filled
 * when the document shape guarantees the signature covers them. */
int rim_load(const uint8_t *buf, size_t len, const char *expected_id,
    const struct gpa_anchors *anchors, time_t at, struct rim **out, struct gpa_err *e);
void rim_free(struct rim *r);

/* Active measurement at RIM index, or NULL. */
const struct rim_measurement *rim_active(const struct rim *r, int index);

/* Library init/cleanup for libxml2 + xmlsec (idempotent, thread-safe once). */
int rim_global_init(struct gpa_err *e);

#endif
