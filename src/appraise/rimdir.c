/*
 * The directory RIM source: DIR/<id>.xml (NVIDIA's --rim-dir naming), or
 * DIR/<id>.json holding a RIM service response. Ids come from our own RIM id
 * builder, whose alphabet has no '/', so they cannot leave DIR.
 */
#include "appraise/appraise.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void dir_fetch(void *ctx, const char *const *ids, size_t n, uint8_t **bufs, size_t *lens,
    enum gpa_fetch_status *st, char (*errs)[256])
{
	const struct gpa_rim_dir *d = ctx;
	static const char *const exts[] = {".xml", ".json"};

	for (size_t i = 0; i < n; i++) {
		st[i] = GPA_FETCH_NOT_FOUND;
		snprintf(errs[i], 256, "no %s.xml in %s", ids[i], d->dir);
		if (strchr(ids[i], '/') != NULL)
			continue;
		for (size_t k = 0; k < 2; k++) {
			char path[4096];
			struct gpa_err e = {{0}};

			snprintf(path, sizeof(path), "%s/%s%s", d->dir, ids[i], exts[k]);
			if (access(path, F_OK) != 0)
				continue;
			if (file_read(path, GPA_RIM_MAX_BYTES, &bufs[i], &lens[i], &e) == 0) {
				st[i] = GPA_FETCH_OK;
				/* On success errs[i] names where the RIM came from. */
				snprintf(errs[i], 256, "file %.240s", path);
				if (d->on_found != NULL)
					d->on_found(d->arg, ids[i], bufs[i], lens[i]);
			} else {
				st[i] = GPA_FETCH_ERROR;
				snprintf(errs[i], 256, "%.250s", e.msg);
			}
			break;
		}
	}
}

void rim_source_dir(struct gpa_rim_provider *s, struct gpa_rim_dir *d)
{
	snprintf(d->name, sizeof(d->name), "directory %s", d->dir);
	s->name = d->name;
	s->fetch = dir_fetch;
	s->ctx = d;
}
