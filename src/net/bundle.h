/*
 * net/bundle: offline collateral. One JSON file with every RIM and OCSP
 * response a verification needs, for air-gapped sites:
 *
 *   {"format": "gpuattest-collateral", "version": 1,
 *    "created": "2025-01-01T00:00:00Z",
 *    "rims": {"<rim id>": "<base64 of the RIM XML>", ...},
 *    "ocsp": {"<hex SHA-256 of the DER CertID>": "<base64 DER OCSPResponse>", ...}}
 *
 * Owns: writing it (atomically) and reading it strictly: unknown top-level
 * keys, wrong types, bad base64, bad keys, duplicate keys and sizes over the
 * limits are refused.
 *
 * Never: trusts what it carries. RIMs are re-verified (signature, chain) by
 * the RIM layer and OCSP responses (signature, responder authority,
 * freshness against nextUpdate) by the OCSP code, so a tampered bundle fails
 * verification rather than changing its outcome.
 */
#ifndef GPA_NET_BUNDLE_H
#define GPA_NET_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "util/util.h"

#define GPA_BUNDLE_MAX_BYTES	(64u << 20)
#define GPA_BUNDLE_MAX_ENTRIES	1024

struct gpa_bundle_item {
	char name[160];		/* RIM id or OCSP key */
	uint8_t *data;
	size_t len;
};

struct gpa_bundle {
	time_t created;
	size_t nrims, nocsp;
	struct gpa_bundle_item *rims;
	struct gpa_bundle_item *ocsp;
};

struct gpa_bundle *bundle_new(void);
void bundle_free(struct gpa_bundle *b);
/* Adds or replaces. 0 ok, -1 (bad id/key, too many, out of memory). */
int bundle_add_rim(struct gpa_bundle *b, const char *id, const uint8_t *xml, size_t len,
    struct gpa_err *e);
int bundle_add_ocsp(struct gpa_bundle *b, const char *key, const uint8_t *der, size_t len,
    struct gpa_err *e);
/* Borrowed bytes, or NULL when absent. */
const struct gpa_bundle_item *bundle_get_rim(const struct gpa_bundle *b, const char *id);
const struct gpa_bundle_item *bundle_get_ocsp(const struct gpa_bundle *b, const char *key);

/* created = now when b->created is 0. bundle_to_json: the same document as
 * a new JSON object (a receipt embeds it), NULL out of memory. */
json_t *bundle_to_json(const struct gpa_bundle *b);
int bundle_write(const struct gpa_bundle *b, const char *path, struct gpa_err *e);
struct gpa_bundle *bundle_read(const char *path, struct gpa_err *e);
struct gpa_bundle *bundle_parse(const uint8_t *buf, size_t len, struct gpa_err *e);

#endif
