/*
 * net/collateral: RIMs by id from their ordered sources, verified before the
 * cache is trusted or written (policy in collateral.h).
 *
 * Must never: return a cached RIM that does not verify now, write one to the
 * cache that did not verify, or build a path or URL from an id that fails
 * rim_id_valid (rim_ids_check runs before anything else).
 */
#include "net/collateral.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "net/bundle.h"
#include "net/cache.h"
#include "rim/rim.h"
#include "util/pool.h"

void collateral_rim_clear(struct gpa_collateral_rim *r)
{
	free(r->xml);
	rim_free(r->rim);
	memset(r, 0, sizeof(*r));
}

/* Whether xml verifies now as the RIM `id`: 1 yes (the loaded RIM in
 * *keep when keep is not NULL), 0 no (why says why). */
static int verifies(const struct gpa_rim_sources *s, const char *id, const uint8_t *xml,
    size_t len, char *why, size_t why_len, struct rim **keep)
{
	struct gpa_err e = {{0}};
	struct rim *r = NULL;
	int ok = 0;

	if (rim_load(xml, len, id, s->anchors, s->at != 0 ? s->at : time(NULL), &r, &e) != 0)
		str_printf(why, why_len, "%s", e.msg);
	else if (!r->signature_valid)
		str_printf(why, why_len, "signature invalid: %s", r->signature_detail);
	else if (r->chain.status != GPA_CERT_VALID)
		str_printf(why, why_len, "signing certificate chain %s: %s",
		    cert_status_name(r->chain.status), r->chain.detail);
	else
		ok = 1;
	if (ok && keep != NULL) {
		*keep = r;
		r = NULL;
	}
	rim_free(r);
	return ok;
}

/* One file, read whole. 1 read, -1 unreadable (detail set). */
static int from_file(const char *path, struct gpa_collateral_rim *out)
{
	struct gpa_err e = {{0}};

	if (file_read(path, GPA_RIM_MAX_BYTES, &out->xml, &out->len, &e) != 0) {
		str_printf(out->detail, sizeof(out->detail), "%s", e.msg);
		return -1;
	}
	str_printf(out->where, sizeof(out->where), "file %s", path);
	return 1;
}

/* --driver-rim / --vbios-rim: the file for this id's kind, if one was
 * given. 1 read, 0 none given, -1 unreadable. */
static int from_named_file(const struct gpa_rim_sources *s, const char *id, struct gpa_collateral_rim *out)
{
	const char *path = NULL;

	if (strncmp(id, "NV_GPU_DRIVER_", 14) == 0)
		path = s->driver_file;
	else if (strncmp(id, "NV_GPU_VBIOS_", 13) == 0 || strncmp(id, "NV_SWITCH_BIOS_", 15) == 0)
		path = s->vbios_file;
	return path == NULL ? 0 : from_file(path, out);
}

/* DIR/<name> for every name the id is saved under (rim_file_names: ours
 * and NVIDIA's). 1 found, 0 not there, -1 there but unreadable (detail set). */
static int from_dir(const char *dir, const char *id, struct gpa_collateral_rim *out)
{
	char names[GPA_RIM_FILE_NAMES][GPA_RIM_FILE_NAME_MAX];
	int n = rim_file_names(id, names);

	for (int k = 0; k < n; k++) {
		char path[4096];
		struct gpa_err e = {{0}};
		struct stat st;

		if (snprintf(path, sizeof(path), "%s/%s", dir, names[k]) >= (int)sizeof(path))
			return 0;
		if (stat(path, &st) != 0 && errno == ENOENT)
			continue;
		if (file_read(path, GPA_RIM_MAX_BYTES, &out->xml, &out->len, &e) != 0) {
			str_printf(out->detail, sizeof(out->detail), "%s", e.msg);
			return -1;
		}
		str_printf(out->where, sizeof(out->where), "file %s", path);
		return 1;
	}
	return 0;
}

static int from_bundle(const struct gpa_rim_sources *s, const char *id,
    struct gpa_collateral_rim *out)
{
	const struct gpa_bundle_item *it = bundle_get_rim(s->bundle, id);

	if (it == NULL || (out->xml = malloc(it->len + 1)) == NULL)
		return 0;
	memcpy(out->xml, it->data, it->len);
	out->xml[it->len] = 0;
	out->len = it->len;
	str_printf(out->where, sizeof(out->where), "bundle %s",
	    s->bundle_path ? s->bundle_path : "(in memory)");
	return 1;
}

/* A cached copy counts only if it verifies now; otherwise it is removed
 * and out->discarded says so. 1 used, 0 absent (or discarded). */
static int from_cache(const struct gpa_rim_sources *s, const char *id,
    struct gpa_collateral_rim *out)
{
	char path[4096], why[300];
	struct gpa_err e = {{0}};
	int r;

	/* Without anchors nothing can be verified, so nothing is taken. */
	if (s->anchors == NULL)
		return 0;
	r = cache_rim_get_path(s->cache, id, &out->xml, &out->len, path, sizeof(path), &e);
	if (r != 1) {
		/* A damaged entry (bytes not matching their name) was removed. */
		if (r == 0 && e.msg[0] != 0)
			str_printf(out->discarded, sizeof(out->discarded), "%s", e.msg);
		return 0;
	}
	if (verifies(s, id, out->xml, out->len, why, sizeof(why), &out->rim)) {
		str_printf(out->where, sizeof(out->where), "cache %s", path);
		out->verified = true;
		return 1;
	}
	if (cache_rim_remove(s->cache, id, &e) == 0)
		str_printf(out->discarded, sizeof(out->discarded),
		    "the cached copy %s does not verify now (%s): removed from the cache", path, why);
	else
		str_printf(out->discarded, sizeof(out->discarded),
		    "the cached copy %s does not verify now (%s) and could not be removed: %s", path,
		    why, e.msg);
	free(out->xml);
	out->xml = NULL;
	out->len = 0;
	return 0;
}

static void found(struct gpa_collateral_rim *out, enum gpa_rim_source src)
{
	out->status = GPA_RIM_FETCH_OK;
	out->source = src;
	out->detail[0] = 0;
}

struct lookup {
	const struct gpa_rim_sources *s;
	const char *const *ids;
	struct gpa_collateral_rim *out;
	bool *ask;			/* still missing: ask the service */
};

/* "RIM X: none of A, B, C in D1, D2; not in the bundle, the cache, and
 * offline": every file name and place looked in. */
static void not_found_locally(const struct gpa_rim_sources *s, const char *id, struct gpa_collateral_rim *out)
{
	char *p = out->detail;
	size_t len = sizeof(out->detail), used;

	used = (size_t)snprintf(p, len, "RIM %s: ", id);
	if (s->ndirs > 0 && used < len) {
		char list[GPA_RIM_FILE_NAMES * GPA_RIM_FILE_NAME_MAX];
		rim_file_names_list(id, list, sizeof(list));
		used += (size_t)snprintf(p + used, len - used, "none of %s in", list);
		for (int d = 0; d < s->ndirs && used < len; d++)
			used += (size_t)snprintf(p + used, len - used, "%s %s", d ? "," : "", s->dirs[d]);
		if (used < len)
			used += (size_t)snprintf(p + used, len - used, "; ");
	}
	if (used < len)
		snprintf(p + used, len - used, "not in %s%s%s", s->bundle ? "the bundle, " : "",
		    s->cache ? "the cache, " : "", s->offline ? "and offline" : "");
}

/* Directories, bundle, cache: the sources that need no network. */
static void local_one(void *arg, size_t i)
{
	struct lookup *lk = arg;
	const struct gpa_rim_sources *s = lk->s;
	struct gpa_collateral_rim *out = &lk->out[i];
	const char *id = lk->ids[i];
	bool dir_error = false;
	int named = from_named_file(s, id, out);

	/* A file the user named for this RIM is the answer, whatever it holds. */
	if (named != 0) {
		if (named == 1)
			found(out, GPA_RIM_FROM_DIR);
		else
			out->status = GPA_RIM_FETCH_ERROR;
		return;
	}
	for (int d = 0; d < s->ndirs; d++) {
		int r = from_dir(s->dirs[d], id, out);
		if (r == 1) {
			found(out, GPA_RIM_FROM_DIR);
			return;
		}
		dir_error |= r < 0;
	}
	if (s->bundle != NULL && from_bundle(s, id, out)) {
		found(out, GPA_RIM_FROM_BUNDLE);
		return;
	}
	if (s->cache != NULL && from_cache(s, id, out)) {
		found(out, GPA_RIM_FROM_CACHE);
		return;
	}
	if (dir_error) {
		out->status = GPA_RIM_FETCH_ERROR;	/* detail: from_dir's */
	} else {
		out->status = GPA_RIM_FETCH_NOT_FOUND;
		not_found_locally(s, id, out);
	}
	lk->ask[i] = !s->offline;
}

/* The service's answer for one id: verified, and cached only if it did. */
static void service_one(void *arg, size_t i)
{
	struct lookup *lk = arg;
	const struct gpa_rim_sources *s = lk->s;
	struct gpa_collateral_rim *out = &lk->out[i];
	struct gpa_err e = {{0}};
	char why[300];

	if (!lk->ask[i] || out->status != GPA_RIM_FETCH_OK || s->anchors == NULL)
		return;
	out->verified = verifies(s, lk->ids[i], out->xml, out->len, why, sizeof(why), &out->rim) == 1;
	if (s->cache != NULL && out->verified)
		(void)cache_rim_put(s->cache, lk->ids[i], out->xml, out->len, &e);
}

/* The service's outcome for one id that no local source had. */
static void take_service(struct gpa_collateral_rim *out, struct gpa_rim_fetch *f)
{
	if (f->status == GPA_RIM_FETCH_OK) {
		found(out, GPA_RIM_FROM_SERVICE);
		out->xml = f->xml;
		out->len = f->len;
		f->xml = NULL;
		str_printf(out->where, sizeof(out->where), "RIM service %s", f->url);
		return;
	}
	/* A directory that could not be read outranks the service's "not
	 * found": the RIM may be where we could not look. */
	if (out->status == GPA_RIM_FETCH_ERROR && f->status == GPA_RIM_FETCH_NOT_FOUND)
		return;
	/* What the local sources lacked stays said: the file names looked
	 * for in the directories, then the service's answer. */
	if (out->status == GPA_RIM_FETCH_NOT_FOUND && out->detail[0] != 0) {
		size_t used = strlen(out->detail);
		str_printf(out->detail + used, sizeof(out->detail) - used, "; %s", f->detail);
	} else {
		str_printf(out->detail, sizeof(out->detail), "%s", f->detail);
	}
	out->status = f->status;
}

static int ask_service(struct lookup *lk, size_t n, struct gpa_err *e)
{
	const struct gpa_rim_sources *s = lk->s;
	const char **ids = calloc(n ? n : 1, sizeof(*ids));
	size_t *which = calloc(n ? n : 1, sizeof(*which)), nw = 0;
	struct gpa_rim_fetch *f = NULL;
	int rc = -1;

	if (ids == NULL || which == NULL || (f = calloc(n ? n : 1, sizeof(*f))) == NULL) {
		gpa_err_set(e, "RIM: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (lk->ask[i]) {
			which[nw] = i;
			ids[nw++] = lk->ids[i];
		}
	rc = nw == 0 ? 0 : rimsvc_fetch_all(s->http, s->service_url, ids, nw, f, e);
	for (size_t k = 0; rc == 0 && k < nw; k++)
		take_service(&lk->out[which[k]], &f[k]);
out:
	for (size_t k = 0; f != NULL && k < nw; k++)
		rim_fetch_clear(&f[k]);
	free(f);
	free(ids);
	free(which);
	return rc;
}

static int record_all(const struct gpa_rim_sources *s, const char *const *ids, size_t n,
    struct gpa_collateral_rim *out, struct gpa_err *e)
{
	for (size_t i = 0; s->record != NULL && i < n; i++)
		if (out[i].status == GPA_RIM_FETCH_OK &&
		    bundle_add_rim(s->record, ids[i], out[i].xml, out[i].len, e) != 0)
			return -1;
	return 0;
}

int collateral_get_rims(const struct gpa_rim_sources *s, const char *const *ids, size_t n,
    struct gpa_collateral_rim *out, struct gpa_err *e)
{
	struct lookup lk = {.s = s, .ids = ids, .out = out};
	int rc = -1;

	for (size_t i = 0; i < n; i++)
		memset(&out[i], 0, sizeof(out[i]));
	if (rim_ids_check(ids, n, e) != 0)
		return -1;
	if ((lk.ask = calloc(n ? n : 1, sizeof(*lk.ask))) == NULL) {
		gpa_err_set(e, "RIM: out of memory");
		return -1;
	}
	/* A cached RIM is verified before it is used: on the pool. */
	parallel_for(n, 0, local_one, &lk);
	if (ask_service(&lk, n, e) != 0)
		goto out;
	parallel_for(n, 0, service_one, &lk);
	rc = record_all(s, ids, n, out, e);
out:
	free(lk.ask);
	return rc;
}
