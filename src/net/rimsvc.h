/*
 * net/rimsvc: NVIDIA's RIM service client (attestation-formats.md §7.1).
 *
 * Owns: GET <base>/v1/rim/<id> for many ids at once, the mapping of HTTP
 * outcomes (404 -> not found, 401/403 -> forbidden, anything else -> error).
 * The order of the sources and the cache policy are net/collateral.c's.
 *
 * Never: decodes the service's JSON itself (rim_service_json_decode in
 * rim/rim.h does, with the same rules as for a saved answer: the id must
 * equal the one asked for, the sha256 must be that of the decoded document),
 * parses XML or judges a RIM's signature (the RIM layer does, on every use,
 * whatever the source), or builds a URL or path from an id that fails
 * rim_id_valid.
 */
#ifndef GPA_NET_RIMSVC_H
#define GPA_NET_RIMSVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/http.h"
#include "util/util.h"

#define GPA_RIM_DEFAULT_BASE_URL	"https://rim.attestation.nvidia.com"

/* [A-Za-z0-9_.-]{1,128}, not starting with '.': safe as a file name and a
 * URL path segment. Every NVIDIA id has this shape. */
bool rim_id_valid(const char *id);
/* 0 when every one of ids[0..n) is rim_id_valid, else -1 naming the first
 * that is not. */
int rim_ids_check(const char *const *ids, size_t n, struct gpa_err *e);

enum gpa_rim_fetch_status {
	GPA_RIM_FETCH_OK,
	GPA_RIM_FETCH_NOT_FOUND,	/* 404 / absent from every source: NVIDIA has not published it */
	GPA_RIM_FETCH_FORBIDDEN,	/* 401 / 403: service key */
	GPA_RIM_FETCH_ERROR,		/* network, server, or a malformed / mismatching answer */
};

enum gpa_rim_source {
	GPA_RIM_FROM_NONE,
	GPA_RIM_FROM_DIR,
	GPA_RIM_FROM_BUNDLE,
	GPA_RIM_FROM_CACHE,
	GPA_RIM_FROM_SERVICE,
};
const char *rim_source_name(enum gpa_rim_source s); /* "none", "directory", "bundle", "cache", "service" */

struct gpa_rim_fetch {
	enum gpa_rim_fetch_status status;
	enum gpa_rim_source source;
	uint8_t *xml;			/* malloc'd document bytes when OK (NUL terminated, not counted) */
	size_t len;
	long http_status;		/* 0 when no HTTP answer */
	char url[600];			/* what was asked (service fetches) */
	char detail[512];		/* why not OK */
};
void rim_fetch_clear(struct gpa_rim_fetch *f);

/* Fetches n ids from the service concurrently. base_url NULL: the default.
 * Returns 0 when every fetch ran (outcomes in out[i]), -1 on bad arguments
 * (an invalid id, a bad URL) or internal error. */
int rimsvc_fetch_all(const struct gpa_http_opts *http, const char *base_url,
    const char *const *ids, size_t n, struct gpa_rim_fetch *out, struct gpa_err *e);

#endif
