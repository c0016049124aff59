/*
 * rim: NVIDIA reference integrity manifests (TCG RIM as ISO 19770-2 SWID XML).
 *
 * Owns: safe XML parsing (no network, no DTD, no entities), the enveloped
 * XMLDSig check with xmlsec1 (C14N 1.1, ecdsa-sha384, key = the first
 * X509Certificate, whose chain is validated by x509 to the RIM anchors),
 * extraction of the golden measurements, and the decoding of the RIM
 * service's JSON answer (one set of rules for every caller).
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
/* The largest RIM service answer: a GPA_RIM_MAX_BYTES document in base64
 * (4/3) plus room for the few short fields around it. */
#define GPA_RIM_JSON_MAX	((size_t)GPA_RIM_MAX_BYTES / 3 * 4 + 65536)
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

/* NVIDIA's opaque-data reference values ("Opaque Data RIM Attributes",
 * attestation-formats.md §16.2): a Measurement resource with index >= 4096
 * whose ns3:minSvn is the lowest acceptable value of the report's opaque
 * entry with id index - 4096. */
#define GPA_RIM_OPAQUE_NS	"https://docs.nvidia.com/attestation/specs/latest/opaque-data.html"
#define GPA_RIM_OPAQUE_BASE	4096
#define GPA_RIM_OPAQUE_MAX	(GPA_RIM_OPAQUE_BASE + 65535)

struct rim_opaque_ref {
	uint16_t id;			/* opaque type id (index - 4096) */
	int index;			/* the RIM index */
	char name[64];
	uint64_t min_svn;		/* ns3:minSvn */
	bool include_in_result;		/* ns3:includeInResult="True" */
};

struct rim {
	char *colloquial_version;	/* Meta/@colloquialVersion */
	char *firmware_manufacturer_id;	/* Meta/@ns1:FirmwareManufacturerId (oemid), may be NULL */
	char *tag_id;
	char *name;			/* SoftwareIdentity/@name, e.g. GH100, LS10 */
	char *edition;			/* Meta/@edition, e.g. GPU, SWITCH */
	int nmeas;
	struct rim_measurement *meas;	/* every Resource type=Measurement, in document order */
	int nopaque;
	struct rim_opaque_ref *opaque;	/* the active opaque-data records (index >= 4096) */

	/* Signature and chain. */
	bool signature_checked;		/* xmlsec ran */
	bool signature_valid;		/* digest and SignatureValue verified with the leaf key */
	char signature_detail[256];
	struct gpa_chain_result chain;	/* chain of the X509Certificate elements */
	STACK_OF(X509) *certs;		/* as embedded, leaf first */
};

/* Decodes one answer of NVIDIA's RIM service (attestation-formats.md §7.1):
 * {"id", "rim": base64 of the XML, "sha256", ...}. The one decoder for such
 * answers, from the network (net/rimsvc) or from a file (rim_load).
 * Rules (rim.c, docs/decisions.md "RIMs"): at most GPA_RIM_JSON_MAX bytes; a
 * JSON object without duplicate keys; "id", "rim", "sha256" strings; id
 * 1..128 printable ASCII characters, equal to expected_id unless that is
 * NULL; sha256 exactly 64 hex digits; rim strict base64 (standard alphabet,
 * '=' padding; spaces and line breaks skipped) of 1..GPA_RIM_MAX_BYTES bytes
 * whose SHA-256 is sha256. Returns 0 with *xml (malloc'd, NUL terminated, not counted) and
 * *xml_len, or -1 with *xml NULL, *xml_len 0 and the problem in e (without
 * naming where the answer came from: callers prefix that). */
int rim_service_json_decode(const uint8_t *buf, size_t len, const char *expected_id,
    uint8_t **xml, size_t *xml_len, struct gpa_err *e);

/* Parses a RIM from raw XML text, or from a RIM service answer (a document
 * whose first non-blank byte is '{', decoded by rim_service_json_decode with
 * expected_id; its errors are prefixed "RIM service body: ").
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

/* rimnames.c: the file names a RIM id is saved under (ours and NVIDIA's),
 * most specific first; returns how many. rim_file_names_list: the same as
 * "a, b, c" for a message. */
#define GPA_RIM_FILE_NAMES	5
#define GPA_RIM_FILE_NAME_MAX	160
int rim_file_names(const char *id, char names[GPA_RIM_FILE_NAMES][GPA_RIM_FILE_NAME_MAX]);
void rim_file_names_list(const char *id, char *out, size_t len);

#endif
