/* Whole-file reads with a size cap, atomic writes, the OS random source. */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int file_read(const char *path, size_t max, uint8_t **buf, size_t *len, struct gpa_err *e)
{
	struct stat st;
	uint8_t *b = NULL;
	size_t n = 0, cap;
	int fd;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		gpa_err_set(e, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		gpa_err_set(e, "%s: not a regular file", path);
		goto fail;
	}
	if ((uintmax_t)st.st_size > max) {
		gpa_err_set(e, "%s: file is %jd bytes, more than the %zu allowed",
		    path, (intmax_t)st.st_size, max);
		goto fail;
	}
	cap = (size_t)st.st_size + 1;
	if ((b = malloc(cap)) == NULL) {
		gpa_err_set(e, "%s: out of memory", path);
		goto fail;
	}
	/* Read until EOF rather than trusting st_size: the file may change. */
	for (;;) {
		ssize_t r;
		if (n == cap - 1) {
			char extra;
			r = read(fd, &extra, 1);
			if (r == 0)
				break;
			gpa_err_set(e, "%s: file grew while being read", path);
			goto fail;
		}
		r = read(fd, b + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			gpa_err_set(e, "%s: read error: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b[n] = 0;
	*buf = b;
	*len = n;
	return 0;
fail:
	free(b);
	close(fd);
	return -1;
}

int file_write_atomic(const char *path, const void *buf, size_t len, struct gpa_err *e)
{
	char tmp[4096];
	const uint8_t *p = buf;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp)) {
		gpa_err_set(e, "%s: path too long", path);
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		gpa_err_set(e, "%s: cannot create temporary file: %s", path, strerror(errno));
		return -1;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			gpa_err_set(e, "%s: write error: %s", path, strerror(errno));
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
		gpa_err_set(e, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		gpa_err_set(e, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		gpa_err_set(e, "%s: cannot rename into place: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

int random_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}
