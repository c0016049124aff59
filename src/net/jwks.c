/*
 * net/jwks: an issuer's JWKS, from the cache directory or its URL, with one
 * refresh for a kid the kept set lacks (policy in jwks.h).
 */
#include "net/jwks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "x509/x509.h"

/* A fetch at first need and one more for an unknown kid: a token naming
 * kids that do not exist must not make us fetch without end. */
#define JWKS_MAX_FETCHES 2

bool net_url_trusted_scheme(const char *url)
{
	static const char *const loop[] = {"http://127.0.0.1", "http://localhost", "http://[::1]", NULL};

	if (strncasecmp(url, "https://", 8) == 0)
		return url[8] != '\0';
	for (int i = 0; loop[i] != NULL; i++) {
		size_t n = strlen(loop[i]);
		if (strncasecmp(url, loop[i], n) == 0 && (url[n] == '\0' || url[n] == ':' || url[n] == '/'))
			return true;
	}
	return false;
}

int jwks_client_init(struct gpa_jwks_client *c, const struct gpa_http_opts *http, const char *url,
    const char *cache_dir, struct gpa_err *e)
{
	char h[65];

	memset(c, 0, sizeof(*c));
	c->http = http;
	if (strlen(url) >= sizeof(c->url) || !net_url_trusted_scheme(url)) {
		gpa_err_set(e, "JWKS URL %.200s: must be https:// (or http:// to 127.0.0.1, [::1] or localhost)", url);
		return -1;
	}
	snprintf(c->url, sizeof(c->url), "%s", url);
	if (cache_dir != NULL) {
		x509_sha256_hex(url, strlen(url), h);
		snprintf(c->cache_path, sizeof(c->cache_path), "%s/jwks/%s.json", cache_dir, h);
	}
	return 0;
}

void jwks_client_clear(struct gpa_jwks_client *c)
{
	token_jwks_free(c->jwks);
	c->jwks = NULL;
}

/* The cached set, when young enough and parsing. */
static void load_cached(struct gpa_jwks_client *c)
{
	struct gpa_err e = {{0}};
	struct stat st;
	uint8_t *buf;
	size_t len;

	if (c->cache_path[0] == '\0' || stat(c->cache_path, &st) != 0 ||
	    time(NULL) - st.st_mtime > GPA_JWKS_MAX_AGE || time(NULL) < st.st_mtime - 60 ||
	    file_read(c->cache_path, TOKEN_JWKS_MAX_LEN, &buf, &len, &e) != 0)
		return;
	if (token_jwks_parse(buf, len, &c->jwks, &e) == GPA_PASS)
		snprintf(c->source, sizeof(c->source), "cache");
	free(buf);
}

static void store_cached(struct gpa_jwks_client *c, const uint8_t *buf, size_t len)
{
	struct gpa_err e = {{0}};
	char dir[1200];
	char *slash;

	if (c->cache_path[0] == '\0')
		return;
	snprintf(dir, sizeof(dir), "%s", c->cache_path);
	if ((slash = strrchr(dir, '/')) == NULL)
		return;
	*slash = '\0';
	/* mkdir -p: the cache root may not exist yet either. */
	for (char *p = dir + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(dir, 0700) != 0 && errno != EEXIST)
				return;
			*p = '/';
		}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return;
	/* A cache that cannot be written only costs a fetch next time. */
	(void)file_write_atomic(c->cache_path, buf, len, &e);
}

static enum gpa_verdict fetch(struct gpa_jwks_client *c, struct gpa_err *e)
{
	struct gpa_http_req req = {.method = "GET", .url = c->url, .accept = "application/json",
	    .max_body = TOKEN_JWKS_MAX_LEN};
	struct gpa_http_resp resp = {0};
	struct token_jwks *j = NULL;
	enum gpa_verdict v;

	c->fetches++;
	if (http_perform_all(c->http, &req, &resp, 1, e) != 0) {
		http_resp_clear(&resp);
		gpa_err_prefix(e, "JWKS %s", c->url);
		return GPA_INCOMPLETE;
	}
	if (!resp.ok || resp.status < 200 || resp.status > 299) {
		if (!resp.ok)
			gpa_err_set(e, "JWKS %s: %s", c->url, resp.error);
		else
			gpa_err_set(e, "JWKS %s: HTTP %ld%s", c->url, resp.status, resp.status >= 300 && resp.status < 400 ?
			    " (a redirect: not followed)" : "");
		http_resp_clear(&resp);
		return GPA_INCOMPLETE;
	}
	v = token_jwks_parse(resp.body ? resp.body : (const uint8_t *)"", resp.len, &j, e);
	if (v != GPA_PASS) {
		gpa_err_prefix(e, "JWKS %s", c->url);
		http_resp_clear(&resp);
		return GPA_INCOMPLETE;
	}
	store_cached(c, resp.body, resp.len);
	http_resp_clear(&resp);
	token_jwks_free(c->jwks);
	c->jwks = j;
	c->from_network = true;
	snprintf(c->source, sizeof(c->source), "network");
	return GPA_PASS;
}

static EVP_PKEY *client_find(void *ctx, const char *kid, enum gpa_verdict *why, struct gpa_err *e)
{
	struct gpa_jwks_client *c = ctx;
	EVP_PKEY *k;
	const char *skipped = "";

	if (c->jwks == NULL && c->fetches == 0)
		load_cached(c);
	if ((k = token_jwks_find(c->jwks, kid)) != NULL)
		return k;
	/* Unknown kid: the issuer may have rotated its keys since the set was
	 * kept (or this is the first need). */
	if (c->fetches < JWKS_MAX_FETCHES) {
		if ((*why = fetch(c, e)) != GPA_PASS)
			return NULL;
		if ((k = token_jwks_find(c->jwks, kid)) != NULL)
			return k;
	}
	*why = GPA_FAIL;
	if (c->jwks != NULL && token_jwks_skipped(c->jwks, &skipped) == 0)
		skipped = "";
	gpa_err_set(e, "unknown kid \"%.80s\": not in the JWKS of %s (%zu usable key(s), fetched %d time(s) "
	    "in this run%s%s)", kid, c->url, c->jwks ? token_jwks_count(c->jwks) : 0, c->fetches,
	    skipped[0] ? "; skipped " : "", skipped);
	return NULL;
}

void jwks_client_keyring(struct gpa_jwks_client *c, struct token_keyring *kr)
{
	kr->find = client_find;
	kr->ctx = c;
}
