/*
 * net/collateral: where RIMs come from, and what may be kept (issue 10,
 * point 4). OCSP answers follow the same rules in net/ocspfetch.c.
 *
 * Owns: the RIM sources in their order (each --rim-dir, the collateral
 * bundle, the cache, NVIDIA's RIM service), the exact name of the source of
 * every RIM ("file P", "bundle P", "cache P", "RIM service URL"), and the
 * cache policy:
 *   - a cached RIM is used only if it verifies now (rim_load with the
 *     caller's anchors at the verification time: signature valid, chain
 *     valid). One that does not (damaged, signed under another PKI, a bad
 *     signature, an expired signer) is treated as absent: removed from the
 *     cache, asked of the next source, and `discarded` says which file and
 *     why, for the output. Never a finding about the device;
 *   - only a RIM that verified is written to the cache: a service answer
 *     that does not verify is handed to the appraisal (which reports it)
 *     but never stored.
 * A directory or bundle RIM is not verified here: the user named those, so
 * a bad one is the appraisal's finding, not a reason to look elsewhere.
 *
 * Never: judges a RIM itself (rim/ and x509/ do), or builds a path or URL
 * from an id that fails rim_id_valid.
 */
#ifndef GPA_NET_COLLATERAL_H
#define GPA_NET_COLLATERAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "net/http.h"
#include "net/rimsvc.h"
#include "util/util.h"
#include "x509/x509.h"

struct gpa_cache;
struct gpa_bundle;
struct rim;

#define GPA_COLLATERAL_MAX_DIRS	8
#define GPA_COLLATERAL_WHERE	512

struct gpa_rim_sources {
	const char *driver_file, *vbios_file;	/* --driver-rim / --vbios-rim: before all else */
	const char *dirs[GPA_COLLATERAL_MAX_DIRS];	/* --rim-dir, tried first, in order */
	int ndirs;
	const struct gpa_bundle *bundle;	/* NULL: none */
	const char *bundle_path;		/* its file, for the output */
	struct gpa_cache *cache;		/* NULL: none */
	const char *service_url;		/* NULL: GPA_RIM_DEFAULT_BASE_URL (--rim-url) */
	bool offline;				/* never ask the service */
	const struct gpa_http_opts *http;	/* NULL: defaults */
	struct gpa_bundle *record;		/* every document found is added (building a bundle) */
	const struct gpa_anchors *anchors;	/* what cached and fetched RIMs are verified with; */
	time_t at;				/* ... and when, 0: now (NULL anchors: no cache use) */
};

struct gpa_collateral_rim {
	enum gpa_rim_fetch_status status;
	enum gpa_rim_source source;
	uint8_t *xml;			/* malloc'd document bytes when OK */
	size_t len;
	bool verified;			/* checked here (cache, service) and it verified */
	struct rim *rim;		/* ... then loaded (owned), for the appraisal to reuse */
	char where[GPA_COLLATERAL_WHERE];	/* "file P", "bundle P", "cache P", "RIM service URL" */
	char detail[GPA_COLLATERAL_WHERE];	/* why not OK */
	char discarded[GPA_COLLATERAL_WHERE];	/* "" or the cached copy dropped, and why */
};
void collateral_rim_clear(struct gpa_collateral_rim *r);

/* Each id from the first source that has it (directories, bundle, cache,
 * service; all service requests at once). 0 ran (see out[i]), -1 bad
 * arguments or internal error. */
int collateral_get_rims(const struct gpa_rim_sources *s, const char *const *ids, size_t n,
    struct gpa_collateral_rim *out, struct gpa_err *e);

#endif
