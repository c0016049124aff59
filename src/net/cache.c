/*
 * net/cache: RIMs (content-addressed) and OCSP responses on disk, see
 * cache.h for the layout and the trust rules.
 *
 * Must never: return bytes that do not hash to the name they are stored
 * under, return an OCSP response past its nextUpdate, write a file in place
 * (always temp + rename), or build a path from an unchecked name.
 */
#include "net/cache.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "net/rimsvc.h"
#include "rim/rim.h"
#include "x509/ocsp.h"

struct gpa_cache {
	char root[PATH_MAX];
};

int cache_default_dir(char *buf, size_t len, struct gpa_err *e)
{
	const char *v = getenv("GPUATTEST_CACHE_DIR");
	int n;

	if (v != NULL && *v != '\0')
		n = snprintf(buf, len, "%s", v);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/var/cache/gpuattest");
	else if ((v = getenv("XDG_CACHE_HOME")) != NULL && v[0] == '/')
		n = snprintf(buf, len, "%s/gpuattest", v);
	else if ((v = getenv("HOME")) != NULL && v[0] == '/')
		n = snprintf(buf, len, "%s/.cache/gpuattest", v);
	else {
		gpa_err_set(e, "cache: no location (set GPUATTEST_CACHE_DIR, XDG_CACHE_HOME or HOME)");
		return -1;
	}
	if (n < 0 || (size_t)n >= len) {
		gpa_err_set(e, "cache: path too long");
		return -1;
	}
	return 0;
}

/* mkdir -p, each component created with mode. */
static int mkdirs(const char *path, mode_t mode, struct gpa_err *e)
{
	char tmp[PATH_MAX];
	struct stat st;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
				gpa_err_set(e, "cache: cannot create %s: %s", tmp, strerror(errno));
				return -1;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		gpa_err_set(e, "cache: %s is not a directory", path);
		return -1;
	}
	return 0;
}

static int sub(const struct gpa_cache *c, char *buf, size_t len, const char *a, const char *b,
    const char *suffix)
{
	int n = snprintf(buf, len, "%s/%s%s%s%s", c->root, a, b ? "/" : "", b ? b : "",
	    suffix ? suffix : "");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

struct gpa_cache *cache_open(const char *dir, struct gpa_err *e)
{
	struct gpa_cache *c = calloc(1, sizeof(*c));
	mode_t mode = geteuid() == 0 ? 0755 : 0700;
	char p[PATH_MAX];

	if (c == NULL) {
		gpa_err_set(e, "cache: out of memory");
		return NULL;
	}
	if (dir != NULL) {
		if (strlen(dir) >= sizeof(c->root) - 64) {
			gpa_err_set(e, "cache: path too long");
			goto fail;
		}
		snprintf(c->root, sizeof(c->root), "%s", dir);
	} else if (cache_default_dir(c->root, sizeof(c->root) - 64, e) != 0) {
		goto fail;
	}
	if (mkdirs(c->root, mode, e) != 0 ||
	    sub(c, p, sizeof(p), "rims/by-id", NULL, NULL) != 0 || mkdirs(p, mode, e) != 0 ||
	    sub(c, p, sizeof(p), "ocsp", NULL, NULL) != 0 || mkdirs(p, mode, e) != 0)
		goto fail;
	return c;
fail:
	free(c);
	return NULL;
}

struct gpa_cache *cache_open_existing(const char *dir, struct gpa_err *e)
{
	struct gpa_cache *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		gpa_err_set(e, "cache: out of memory");
		return NULL;
	}
	if (dir != NULL ? strlen(dir) >= sizeof(c->root) - 64 :
	    cache_default_dir(c->root, sizeof(c->root) - 64, e) != 0) {
		if (dir != NULL)
			gpa_err_set(e, "cache: path too long");
		free(c);
		return NULL;
	}
	if (dir != NULL)
		snprintf(c->root, sizeof(c->root), "%s", dir);
	return c;
}

void cache_close(struct gpa_cache *c)
{
	free(c);
}

const char *cache_root(const struct gpa_cache *c)
{
	return c->root;
}

int cache_rim_put(struct gpa_cache *c, const char *id, const uint8_t *xml, size_t len,
    struct gpa_err *e)
{
	char hex[65], doc[PATH_MAX], idx[PATH_MAX];

	if (!rim_id_valid(id)) {
		gpa_err_set(e, "cache: bad RIM id");
		return -1;
	}
	if (len == 0 || len > GPA_RIM_MAX_BYTES) {
		gpa_err_set(e, "cache: RIM %s: %zu bytes", id, len);
		return -1;
	}
	x509_sha256_hex(xml, len, hex);
	if (sub(c, doc, sizeof(doc), "rims", hex, ".xml") != 0 ||
	    sub(c, idx, sizeof(idx), "rims/by-id", id, NULL) != 0) {
		gpa_err_set(e, "cache: path too long");
		return -1;
	}
	/* Document first, then the name pointing at it: a reader following
	 * the index always finds the document. */
	if (file_write_atomic(doc, xml, len, e) != 0 || file_write_atomic(idx, hex, 64, e) != 0) {
		gpa_err_prefix(e, "cache");
		return -1;
	}
	return 0;
}

static int read_index(const struct gpa_cache *c, const char *id, char hex[65])
{
	char idx[PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct gpa_err ignore;
	int ok;

	if (sub(c, idx, sizeof(idx), "rims/by-id", id, NULL) != 0 ||
	    file_read(idx, 64, &buf, &len, &ignore) != 0)
		return 0;
	ok = len == 64 && (memcpy(hex, buf, 64), hex[64] = 0, hex64_lower_valid(hex));
	free(buf);
	return ok ? 1 : -1;
}

/* cache_rim_get, also giving the SHA-256 (hex) the document was checked
 * against when it is found. */
static int rim_get(struct gpa_cache *c, const char *id, uint8_t **xml, size_t *len, char hex[65],
    struct gpa_err *e)
{
	char got[65], doc[PATH_MAX], idx[PATH_MAX];
	struct gpa_err ignore;
	int r;

	*xml = NULL;
	*len = 0;
	e->msg[0] = '\0';
	if (!rim_id_valid(id)) {
		gpa_err_set(e, "cache: bad RIM id");
		return -1;
	}
	if ((r = read_index(c, id, hex)) <= 0) {
		if (r < 0 && sub(c, idx, sizeof(idx), "rims/by-id", id, NULL) == 0)
			unlink(idx);
		return 0;
	}
	if (sub(c, doc, sizeof(doc), "rims", hex, ".xml") != 0 ||
	    file_read(doc, GPA_RIM_MAX_BYTES, xml, len, &ignore) != 0)
		return 0;
	x509_sha256_hex(*xml, *len, got);
	if (strcmp(got, hex) != 0) {
		/* Damaged on disk: drop it and let the next source answer. */
		free(*xml);
		*xml = NULL;
		*len = 0;
		unlink(doc);
		gpa_err_set(e, "the cached copy %s was damaged (its bytes do not hash to its name): "
		    "removed from the cache", doc);
		return 0;
	}
	return 1;
}

int cache_rim_get(struct gpa_cache *c, const char *id, uint8_t **xml, size_t *len,
    struct gpa_err *e)
{
	char hex[65];

	return rim_get(c, id, xml, len, hex, e);
}

int cache_rim_get_path(struct gpa_cache *c, const char *id, uint8_t **xml, size_t *len,
    char *path, size_t path_len, struct gpa_err *e)
{
	char hex[65];
	int r = rim_get(c, id, xml, len, hex, e);

	if (r == 1 && sub(c, path, path_len, "rims", hex, ".xml") != 0)
		snprintf(path, path_len, "%s", c->root);
	return r;
}

int cache_rim_remove(struct gpa_cache *c, const char *id, struct gpa_err *e)
{
	char hex[65], doc[PATH_MAX], idx[PATH_MAX];
	int r;

	if (!rim_id_valid(id) || sub(c, idx, sizeof(idx), "rims/by-id", id, NULL) != 0) {
		gpa_err_set(e, "cache: bad RIM id");
		return -1;
	}
	/* The name first: a reader never follows it to a missing document. */
	r = read_index(c, id, hex);
	if (unlink(idx) != 0 && errno != ENOENT) {
		gpa_err_set(e, "cache: cannot remove %s: %s", idx, strerror(errno));
		return -1;
	}
	if (r == 1 && sub(c, doc, sizeof(doc), "rims", hex, ".xml") == 0 && unlink(doc) != 0 &&
	    errno != ENOENT) {
		gpa_err_set(e, "cache: cannot remove %s: %s", doc, strerror(errno));
		return -1;
	}
	return 0;
}

int cache_ocsp_path(const struct gpa_cache *c, const char *key, char *path, size_t len)
{
	return hex64_lower_valid(key) ? sub(c, path, len, "ocsp", key, ".der") : -1;
}

int cache_ocsp_remove(struct gpa_cache *c, const char *key, struct gpa_err *e)
{
	char path[PATH_MAX];

	if (!hex64_lower_valid(key) || sub(c, path, sizeof(path), "ocsp", key, ".der") != 0) {
		gpa_err_set(e, "cache: bad OCSP key");
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		gpa_err_set(e, "cache: cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int cache_ocsp_put(struct gpa_cache *c, const char *key, const uint8_t *der, size_t len,
    struct gpa_err *e)
{
	char path[PATH_MAX];
	time_t nu;

	if (!hex64_lower_valid(key) || sub(c, path, sizeof(path), "ocsp", key, ".der") != 0) {
		gpa_err_set(e, "cache: bad OCSP key");
		return -1;
	}
	if (len > GPA_CACHE_MAX_OCSP || ocsp_response_next_update(der, len, key, &nu) != 0) {
		gpa_err_set(e, "cache: not an OCSP response for key %s", key);
		return -1;
	}
	if (file_write_atomic(path, der, len, e) != 0) {
		gpa_err_prefix(e, "cache");
		return -1;
	}
	return 0;
}

int cache_ocsp_get(struct gpa_cache *c, const char *key, time_t at, uint8_t **der, size_t *len,
    OCSP_BASICRESP **parsed, struct gpa_err *e)
{
	char path[PATH_MAX];
	struct gpa_err ignore;
	OCSP_BASICRESP *bs;
	time_t nu = 0;

	*der = NULL;
	*len = 0;
	e->msg[0] = '\0';
	if (parsed != NULL)
		*parsed = NULL;
	if (!hex64_lower_valid(key) || sub(c, path, sizeof(path), "ocsp", key, ".der") != 0) {
		gpa_err_set(e, "cache: bad OCSP key");
		return -1;
	}
	if (file_read(path, GPA_CACHE_MAX_OCSP, der, len, &ignore) != 0)
		return 0;
	bs = ocsp_response_parse(*der, *len, key, &nu);
	if (bs == NULL)
		gpa_err_set(e, "the cached answer %s is not an OCSP response for this certificate: "
		    "removed from the cache", path);
	if (bs == NULL || nu < at) {
		OCSP_BASICRESP_free(bs);
		free(*der);
		*der = NULL;
		*len = 0;
		unlink(path);
		return 0;
	}
	if (parsed != NULL)
		*parsed = bs;
	else
		OCSP_BASICRESP_free(bs);
	return 1;
}

/* The signer's notAfter: the first ds:X509Certificate of a RIM. Our own
 * cache file, content-addressed, but parsed as untrusted anyway (strict
 * base64, DER length checked by OpenSSL). 0 ok, -1 not found. */
int cache_rim_signer_not_after(const uint8_t *xml, size_t len, time_t *out)
{
	const char *s = (const char *)xml, *open, *start, *end;
	char not_before[21], not_after[21];
	uint8_t *der = NULL;
	size_t dlen = 0;
	X509 *x;
	int rc = -1;

	if (len == 0 || memchr(xml, '\0', len) != NULL || (open = strstr(s, "X509Certificate>")) == NULL)
		return -1;
	start = open + strlen("X509Certificate>");
	if ((end = strchr(start, '<')) == NULL ||
	    b64_decode(start, (size_t)(end - start), true, &der, &dlen) != 0)
		return -1;
	if ((x = x509_from_der(der, dlen)) != NULL) {
		cert_validity(x, not_before, not_after);
		rc = time_parse_rfc3339(not_after, out) == 0 ? 0 : -1;
	}
	X509_free(x);
	free(der);
	return rc;
}

static bool is_temp(const char *name)
{
	return strstr(name, ".tmp.") != NULL;
}

static int list_dir(const char *dir, int (*fn)(void *, const char *), void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fn(arg, de->d_name) != 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

struct lister {
	struct gpa_cache *c;
	time_t now;
	struct gpa_cache_entry *v;
	size_t n, cap;
	enum gpa_cache_kind kind;
};

static struct gpa_cache_entry *lister_add(struct lister *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct gpa_cache_entry *nv = realloc(l->v, cap * sizeof(*nv));
		if (nv == NULL)
			return NULL;
		l->v = nv;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	return &l->v[l->n++];
}

static int list_one(void *arg, const char *name)
{
	struct lister *l = arg;
	struct gpa_cache_entry *en;
	struct gpa_err ignore;
	uint8_t *buf = NULL;
	size_t len = 0;
	char key[65];
	int got;

	if (is_temp(name))
		return 0;
	if (l->kind == GPA_CACHE_RIM) {
		if (!rim_id_valid(name))
			return 0;
		if ((en = lister_add(l)) == NULL)
			return -1;
		en->kind = GPA_CACHE_RIM;
		snprintf(en->name, sizeof(en->name), "%s", name);
		got = rim_get(l->c, name, &buf, &len, en->sha256, &ignore);
		if (got == 1) {
			en->size = len;
			if (cache_rim_signer_not_after(buf, len, &en->expires) == 0)
				en->expired = en->expires < l->now;
		} else {
			l->n--;		/* dangling or damaged: not an entry */
		}
		free(buf);
		return 0;
	}
	if (strlen(name) != 68 || !str_endswith(name, ".der"))
		return 0;
	memcpy(key, name, 64);
	key[64] = 0;
	if (!hex64_lower_valid(key) || (en = lister_add(l)) == NULL)
		return hex64_lower_valid(key) ? -1 : 0;
	en->kind = GPA_CACHE_OCSP;
	snprintf(en->name, sizeof(en->name), "%s", key);
	{
		char path[PATH_MAX];
		if (sub(l->c, path, sizeof(path), "ocsp", name, NULL) == 0 &&
		    file_read(path, GPA_CACHE_MAX_OCSP, &buf, &len, &ignore) == 0) {
			en->size = len;
			if (ocsp_response_next_update(buf, len, key, &en->expires) == 0)
				en->expired = en->expires < l->now;
			else
				en->expired = true;
		}
	}
	free(buf);
	return 0;
}

int cache_list(struct gpa_cache *c, time_t now, struct gpa_cache_entry **out, size_t *n,
    struct gpa_err *e)
{
	struct lister l = { .c = c, .now = now };
	char p[PATH_MAX];

	*out = NULL;
	*n = 0;
	l.kind = GPA_CACHE_RIM;
	if (sub(c, p, sizeof(p), "rims/by-id", NULL, NULL) != 0 || list_dir(p, list_one, &l) != 0)
		goto fail;
	l.kind = GPA_CACHE_OCSP;
	if (sub(c, p, sizeof(p), "ocsp", NULL, NULL) != 0 || list_dir(p, list_one, &l) != 0)
		goto fail;
	*out = l.v;
	*n = l.n;
	return 0;
fail:
	free(l.v);
	gpa_err_set(e, "cache: cannot list %s", c->root);
	return -1;
}

/* clear and prune never leave the cache: net/cache_tidy.c. */
static long tidy_count(int rc, const struct gpa_cache_tidy *t, struct gpa_err *e)
{
	if (rc != 0) {
		gpa_err_set(e, "cache: %s", t->refused);
		return -1;
	}
	return t->removed;
}

long cache_clear(struct gpa_cache *c, struct gpa_err *e)
{
	struct gpa_cache_tidy t = {0};

	return tidy_count(cache_tidy_clear(c, &t), &t, e);
}

long cache_prune(struct gpa_cache *c, time_t now, struct gpa_err *e)
{
	struct gpa_cache_tidy t = {0};

	return tidy_count(cache_tidy_prune(c, now, &t), &t, e);
}
