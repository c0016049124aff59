/*
 * net/rimsvc: RIM documents by id from NVIDIA's RIM service (policy in
 * rimsvc.h). The service's answers are decoded by the RIM
 * layer (rim_service_json_decode), the one decoder for them.
 *
 * Must never: return service bytes whose id or sha256 disagree with what was
 * asked, or use an id in a path or URL before rim_id_valid accepts it.
 */
#include "net/rimsvc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rim/rim.h"

bool rim_id_valid(const char *id)
{
	size_t n = 0;

	if (id == NULL || id[0] == '.' || id[0] == '\0')
		return false;
	for (; id[n]; n++) {
		unsigned char c = (unsigned char)id[n];
		if (!(isalnum(c) || c == '_' || c == '.' || c == '-') || c > 0x7e || n >= 128)
			return false;
	}
	return true;
}

int rim_ids_check(const char *const *ids, size_t n, struct gpa_err *e)
{
	for (size_t i = 0; i < n; i++) {
		if (!rim_id_valid(ids[i])) {
			gpa_err_set(e, "RIM id \"%.128s\": only letters, digits, '_', '.', '-' allowed",
			    ids[i] ? ids[i] : "(null)");
			return -1;
		}
	}
	return 0;
}

const char *rim_source_name(enum gpa_rim_source s)
{
	switch (s) {
	case GPA_RIM_FROM_NONE: return "none";
	case GPA_RIM_FROM_DIR: return "directory";
	case GPA_RIM_FROM_BUNDLE: return "bundle";
	case GPA_RIM_FROM_CACHE: return "cache";
	case GPA_RIM_FROM_SERVICE: return "service";
	}
	return "none";
}

void rim_fetch_clear(struct gpa_rim_fetch *f)
{
	free(f->xml);
	memset(f, 0, sizeof(*f));
}

static void take_answer(const char *base, const char *id, struct gpa_http_resp *hr,
    struct gpa_rim_fetch *f)
{
	struct gpa_err why = { { 0 } };

	f->status = GPA_RIM_FETCH_ERROR;
	f->detail[0] = 0;
	f->http_status = hr->ok ? hr->status : 0;
	if (!hr->ok) {
		str_printf(f->detail, sizeof(f->detail), "RIM service %s: %s", base, hr->error);
	} else if (hr->status == 404) {
		f->status = GPA_RIM_FETCH_NOT_FOUND;
		str_printf(f->detail, sizeof(f->detail),
		    "RIM service %s has no RIM with id %s (HTTP 404): NVIDIA has not published it", base, id);
	} else if (hr->status == 401 || hr->status == 403) {
		f->status = GPA_RIM_FETCH_FORBIDDEN;
		str_printf(f->detail, sizeof(f->detail),
		    "RIM service %s refused access (HTTP %ld): check the service key", base, hr->status);
	} else if (hr->status != 200) {
		str_printf(f->detail, sizeof(f->detail), "RIM service %s: HTTP %ld for %s", base,
		    hr->status, id);
	} else if (rim_service_json_decode(hr->body, hr->len, id, &f->xml, &f->len, &why) != 0) {
		str_printf(f->detail, sizeof(f->detail), "RIM service %s: %s: %s", base, id, why.msg);
	} else {
		f->status = GPA_RIM_FETCH_OK;
		f->source = GPA_RIM_FROM_SERVICE;
	}
}

/* The base without trailing slashes, into buf. */
static int clean_base(const char *base, char *buf, size_t len, struct gpa_err *e)
{
	size_t n;

	if (base == NULL)
		base = GPA_RIM_DEFAULT_BASE_URL;
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n == 0 || n >= len - 200) {
		gpa_err_set(e, "RIM service URL: empty or too long");
		return -1;
	}
	memcpy(buf, base, n);
	buf[n] = 0;
	return 0;
}

/* "the RIM service at URL (RIM A, B)": what a terminal's waiting line says. */
static void say_waiting(const struct gpa_http_opts *http, const char *base, const char *const *ids,
    const size_t *which, size_t n)
{
	char list[300] = "";
	size_t used = 0;

	for (size_t k = 0; k < n && used + 1 < sizeof(list); k++) {
		int w = snprintf(list + used, sizeof(list) - used, "%s%s", k ? ", " : "", ids[which[k]]);
		if (w < 0 || (size_t)w >= sizeof(list) - used) {
			snprintf(list + used, sizeof(list) - used, ", ...");
			break;
		}
		used += (size_t)w;
	}
	http_wait_begin(http, "the RIM service at %s (RIM %s)", base, list);
}

static int fetch_subset(const struct gpa_http_opts *http, const char *base_url,
    const char *const *ids, const size_t *which, size_t n, struct gpa_rim_fetch *out,
    struct gpa_err *e)
{
	struct gpa_http_opts def;
	struct gpa_http_req *reqs = calloc(n ? n : 1, sizeof(*reqs));
	struct gpa_http_resp *resps = calloc(n ? n : 1, sizeof(*resps));
	char (*urls)[2048] = calloc(n ? n : 1, sizeof(*urls));
	char base[2048];
	int rc = -1;

	if (reqs == NULL || resps == NULL || urls == NULL) {
		gpa_err_set(e, "RIM service: out of memory");
		goto out;
	}
	if (clean_base(base_url, base, sizeof(base), e) != 0)
		goto out;
	if (http == NULL) {
		http_opts_default(&def);
		http = &def;
	}
	for (size_t k = 0; k < n; k++) {
		const char *id = ids[which[k]];
		str_printf(urls[k], sizeof(urls[k]), "%s/v1/rim/%s", base, id);
		reqs[k] = (struct gpa_http_req){ .method = "GET", .url = urls[k],
		    .accept = "application/json", .max_body = GPA_RIM_JSON_MAX };
	}
	say_waiting(http, base, ids, which, n);
	if (http_perform_all(http, reqs, resps, n, e) != 0) {
		http_wait_end(http);
		gpa_err_prefix(e, "RIM service");
		goto out;
	}
	http_wait_end(http);
	for (size_t k = 0; k < n; k++) {
		take_answer(base, ids[which[k]], &resps[k], &out[which[k]]);
		str_printf(out[which[k]].url, sizeof(out[which[k]].url), "%s", urls[k]);
	}
	rc = 0;
out:
	for (size_t k = 0; resps && k < n; k++)
		http_resp_clear(&resps[k]);
	free(reqs);
	free(resps);
	free(urls);
	return rc;
}

int rimsvc_fetch_all(const struct gpa_http_opts *http, const char *base_url,
    const char *const *ids, size_t n, struct gpa_rim_fetch *out, struct gpa_err *e)
{
	size_t *which;
	int rc;

	for (size_t i = 0; i < n; i++)
		memset(&out[i], 0, sizeof(out[i]));
	if (rim_ids_check(ids, n, e) != 0)
		return -1;
	if ((which = calloc(n ? n : 1, sizeof(*which))) == NULL) {
		gpa_err_set(e, "RIM service: out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		which[i] = i;
	rc = fetch_subset(http, base_url, ids, which, n, out, e);
	free(which);
	return rc;
}
