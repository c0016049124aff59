/*
 * The directory RIM source of the service (serve --rim-dir): a RIM id is
 * looked for under every name rim_file_names gives (ours and NVIDIA's);
 * not found, the message names each. Ids come from our own RIM id builder,
 * whose alphabet has no '/', so they cannot leave DIR.
 */
#include "appraise/appraise.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* "none of A, B, C" into err (the source's name says which directory). */
static void not_found(const char *id, char err[GPA_FETCH_ERR_LEN])
{
	char list[GPA_RIM_FILE_NAMES * GPA_RIM_FILE_NAME_MAX];

	rim_file_names_list(id, list, sizeof(list));
	snprintf(err, GPA_FETCH_ERR_LEN, "none of %.580s", list);
}

static void dir_fetch(void *ctx, const char *const *ids, size_t n, uint8_t **bufs, size_t *lens,
    struct rim **loaded, enum gpa_fetch_status *st, char (*errs)[GPA_FETCH_ERR_LEN])
{
	const struct gpa_rim_dir *d = ctx;

	for (size_t i = 0; i < n; i++) {
		char names[GPA_RIM_FILE_NAMES][GPA_RIM_FILE_NAME_MAX];
		int nn;

		st[i] = GPA_FETCH_NOT_FOUND;
		errs[i][0] = '\0';
		if (strchr(ids[i], '/') != NULL)
			continue;
		nn = rim_file_names(ids[i], names);
		not_found(ids[i], errs[i]);
		for (int k = 0; k < nn; k++) {
			char path[4096];
			struct gpa_err e = {{0}};

			snprintf(path, sizeof(path), "%s/%s", d->dir, names[k]);
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
