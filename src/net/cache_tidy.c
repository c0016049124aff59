/*
 * net/cache_tidy: `gpuattest cache clear|prune` (issue 10, point 5). They
 * delete files, often as root, in a directory whose path may come from the
 * environment: they must never leave the cache.
 *
 *   - The cache directory must be a real directory (not a symbolic link),
 *     owned by the running user or root, and not writable by group or
 *     others (anyone who can write there could plant a link); otherwise
 *     nothing is touched and the caller is told why (cache_tidy_refused).
 *   - Every directory is opened relative to its parent's descriptor with
 *     O_NOFOLLOW, every entry is examined with fstatat(AT_SYMLINK_NOFOLLOW),
 *     read through openat(O_NOFOLLOW) and removed with unlinkat on the
 *     directory's descriptor: a link swapped in between is never followed.
 *   - Only names of the cache's own scheme are removed: rims/<sha256>.xml,
 *     rims/by-id/<RIM id>, ocsp/<key>.der, jwks/<sha256>.json and their
 *     temporary files (NAME.tmp.XXXXXX), and only regular files. Anything
 *     else (a link, a directory, a foreign name) is left and reported.
 */
#include "net/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/rimsvc.h"
#include "rim/rim.h"
#include "x509/ocsp.h"

enum dir_kind { DIR_RIMS, DIR_BY_ID, DIR_OCSP, DIR_JWKS };

struct tidy_dir {
	const char *rel;	/* under the cache root */
	enum dir_kind kind;
};

/* rims/by-id before rims: an index never points at a removed document. */
static const struct tidy_dir tidy_dirs[] = {
	{ "rims/by-id", DIR_BY_ID }, { "rims", DIR_RIMS }, { "ocsp", DIR_OCSP }, { "jwks", DIR_JWKS },
};

/* "<64 lowercase hex><suffix>". */
static bool hex_name(const char *name, const char *suffix)
{
	char hex[65];

	if (strlen(name) != 64 + strlen(suffix) || strcmp(name + 64, suffix) != 0)
		return false;
	memcpy(hex, name, 64);
	hex[64] = '\0';
	return hex64_lower_valid(hex);
}

static bool base_name_ok(enum dir_kind k, const char *name)
{
	switch (k) {
	case DIR_RIMS: return hex_name(name, ".xml");
	case DIR_BY_ID: return rim_id_valid(name);
	case DIR_OCSP: return hex_name(name, ".der");
	case DIR_JWKS: return hex_name(name, ".json");
	}
	return false;
}

/* A temporary file of file_write_atomic: NAME.tmp.XXXXXX (mkstemp). */
static bool temp_name_of(enum dir_kind k, const char *name)
{
	const char *t = strstr(name, ".tmp.");
	char base[256];
	size_t n;

	if (t == NULL || strlen(t + 5) != 6 || (n = (size_t)(t - name)) >= sizeof(base))
		return false;
	for (const char *p = t + 5; *p; p++)
		if (!(*p >= 'A' && *p <= 'Z') && !(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9'))
			return false;
	memcpy(base, name, n);
	base[n] = '\0';
	return base_name_ok(k, base);
}

static void leave(struct gpa_cache_tidy *t, const char *rel, const char *name, const char *why)
{
	t->nleft++;
	if (t->report != NULL)
		t->report(t->report_arg, rel, name, why);
}

/* Whether the directory open on fd may be tidied: owned by us or root, not
 * writable by group or others. 0 yes; -1 no (t->refused says why). */
static int dir_safe(struct gpa_cache_tidy *t, int fd, const char *path)
{
	struct stat st;
	uid_t me = geteuid();

	if (fstat(fd, &st) != 0) {
		str_printf(t->refused, sizeof(t->refused), "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_uid != me && st.st_uid != 0) {
		str_printf(t->refused, sizeof(t->refused),
		    "%s is owned by uid %u, not by you (uid %u) or root: not a cache of yours", path,
		    (unsigned)st.st_uid, (unsigned)me);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		str_printf(t->refused, sizeof(t->refused),
		    "%s is writable by %s (mode %04o): anyone who can write there could plant links "
		    "(chmod go-w it)", path, (st.st_mode & S_IWOTH) ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* The cache root, opened without following a link. -1 refused. */
static int open_root(struct gpa_cache_tidy *t, const char *root)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		if (errno == ELOOP || (errno == ENOTDIR && lstat(root, &st) == 0 && S_ISLNK(st.st_mode)))
			str_printf(t->refused, sizeof(t->refused),
			    "%s is a symbolic link: the cache must be a directory of its own", root);
		else
			str_printf(t->refused, sizeof(t->refused), "%s: %s", root, strerror(errno));
		return -1;
	}
	if (dir_safe(t, fd, root) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A bounded read of name in dirfd, never through a link. 0 ok. */
static int read_at(int dirfd, const char *name, size_t max, uint8_t **buf, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	ssize_t got;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 || (size_t)st.st_size > max ||
	    (*buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	got = read(fd, *buf, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	(*buf)[got] = 0;
	*len = (size_t)got;
	return 0;
}

/* Prune: whether a recognised entry is past its date. */
static bool expired_at(int dirfd, int rimsfd, enum dir_kind k, const char *name, time_t now)
{
	uint8_t *buf = NULL, *doc = NULL;
	size_t len = 0, dlen = 0;
	char key[65], path[80];
	time_t until = 0;
	bool old = false;

	switch (k) {
	case DIR_OCSP:
		memcpy(key, name, 64);
		key[64] = '\0';
		/* An unreadable or foreign answer is of no use either. */
		old = read_at(dirfd, name, GPA_CACHE_MAX_OCSP, &buf, &len) != 0 ||
		    ocsp_response_next_update(buf, len, key, &until) != 0 || until < now;
		break;
	case DIR_BY_ID:
		/* The document's signer expired (or the index is dangling). */
		if (read_at(dirfd, name, 64, &buf, &len) != 0 || len != 64)
			return true;
		memcpy(key, buf, 64);
		key[64] = '\0';
		snprintf(path, sizeof(path), "%s.xml", key);
		old = !hex64_lower_valid(key) || rimsfd < 0 ||
		    read_at(rimsfd, path, GPA_RIM_MAX_BYTES, &doc, &dlen) != 0 ||
		    (cache_rim_signer_not_after(doc, dlen, &until) == 0 && until < now);
		break;
	case DIR_RIMS:
	case DIR_JWKS:
		break;	/* documents go with their index; JWKS age on their own */
	}
	free(buf);
	free(doc);
	return old;
}

/* A document no index names any more (after prune removed its index). */
static bool unreferenced(int byidfd, const char *name)
{
	DIR *d;
	struct dirent *de;
	bool used = false;
	int fd;

	if (byidfd < 0 || (fd = dup(byidfd)) < 0 || (d = fdopendir(fd)) == NULL)
		return false;
	rewinddir(d);
	while (!used && (de = readdir(d)) != NULL) {
		uint8_t *buf = NULL;
		size_t len = 0;
		if (de->d_name[0] != '.' && read_at(byidfd, de->d_name, 64, &buf, &len) == 0 &&
		    len == 64 && memcmp(buf, name, 64) == 0)
			used = true;
		free(buf);
	}
	closedir(d);
	return !used;
}

struct pass {
	struct gpa_cache_tidy *t;
	const struct tidy_dir *td;
	int fd, rimsfd, byidfd;
	bool prune;
	time_t now;
};

static void tidy_entry(struct pass *p, const char *name)
{
	struct gpa_cache_tidy *t = p->t;
	enum dir_kind k = p->td->kind;
	bool temp = temp_name_of(k, name);
	struct stat st;

	if (fstatat(p->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;		/* gone meanwhile */
	if (k == DIR_RIMS && S_ISDIR(st.st_mode) && strcmp(name, "by-id") == 0)
		return;		/* tidied as a directory of its own */
	if (!temp && !base_name_ok(k, name)) {
		leave(t, p->td->rel, name, "not a name this cache uses");
		return;
	}
	if (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode)) {
		leave(t, p->td->rel, name, S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
		return;
	}
	if (p->prune && !temp) {
		if (k == DIR_RIMS ? !unreferenced(p->byidfd, name) :
		    !expired_at(p->fd, p->rimsfd, k, name, p->now))
			return;
	}
	if (unlinkat(p->fd, name, 0) == 0)
		t->removed++;
	else
		leave(t, p->td->rel, name, strerror(errno));
}

static void tidy_dir(struct pass *p)
{
	int fd = dup(p->fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			tidy_entry(p, de->d_name);
	closedir(d);
}

/* The subdirectory rel of the root, never through a link; -1 absent, or
 * not safe to tidy (then reported and left alone). */
static int open_sub(struct gpa_cache_tidy *t, int parentfd, const char *name, const char *rel,
    const char *root)
{
	char path[4200];
	int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno != ENOENT)
			leave(t, "", rel, errno == ELOOP || errno == ENOTDIR ?
			    "a symbolic link or not a directory: left alone" : strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (dir_safe(t, fd, path) != 0) {
		leave(t, "", rel, t->refused);
		t->refused[0] = '\0';
		close(fd);
		return -1;
	}
	return fd;
}

/* The root holds only the cache's directories: anything else is reported. */
static void report_root(struct gpa_cache_tidy *t, int rootfd)
{
	int fd = dup(rootfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (strcmp(n, ".") != 0 && strcmp(n, "..") != 0 && strcmp(n, "rims") != 0 &&
		    strcmp(n, "ocsp") != 0 && strcmp(n, "jwks") != 0)
			leave(t, "", n, "not a name this cache uses");
	}
	closedir(d);
}

static int tidy(struct gpa_cache *c, bool prune, time_t now, struct gpa_cache_tidy *t)
{
	const char *root = cache_root(c);
	int rootfd, fds[4];
	size_t n = sizeof(tidy_dirs) / sizeof(tidy_dirs[0]);

	t->removed = 0;
	t->nleft = 0;
	t->refused[0] = '\0';
	if ((rootfd = open_root(t, root)) < 0)
		return -1;
	report_root(t, rootfd);
	/* rims/by-id is opened below rims: "rims" itself must be safe first. */
	fds[1] = open_sub(t, rootfd, "rims", "rims", root);
	fds[0] = fds[1] < 0 ? -1 : open_sub(t, fds[1], "by-id", "rims/by-id", root);
	fds[2] = open_sub(t, rootfd, "ocsp", "ocsp", root);
	fds[3] = open_sub(t, rootfd, "jwks", "jwks", root);
	for (size_t i = 0; i < n; i++) {
		struct pass p = { t, &tidy_dirs[i], fds[i], fds[1], fds[0], prune, now };
		if (fds[i] >= 0)
			tidy_dir(&p);
	}
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(rootfd);
	return 0;
}

int cache_tidy_clear(struct gpa_cache *c, struct gpa_cache_tidy *t)
{
	return tidy(c, false, 0, t);
}

int cache_tidy_prune(struct gpa_cache *c, time_t now, struct gpa_cache_tidy *t)
{
	return tidy(c, true, now, t);
}
