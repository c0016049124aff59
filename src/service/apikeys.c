/*
 * API keys: Bearer tokens checked against their SHA-256 digests. The key
 * file holds "NAME HEX-DIGEST" lines, so a copy of it (or of a backup)
 * gives no one a key. A key is 32 random bytes, long enough that an
 * unsalted fast hash is no weakness (nothing to guess or look up).
 */
#include "service/service.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#define SVC_MAX_KEYS 4096

struct svc_key {
	char name[64];
	uint8_t digest[32];
};

struct svc_keys {
	size_t n;
	struct svc_key *k;
};

static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.' || s[i] == '@'))
			return false;
	return true;
}

static int parse_line(char *line, struct svc_key *k)
{
	char *sp = strchr(line, ' ');

	if (sp == NULL || !name_ok(line, (size_t)(sp - line)))
		return -1;
	*sp = '\0';
	snprintf(k->name, sizeof(k->name), "%s", line);
	sp++;
	sp[strcspn(sp, "\r\n")] = '\0';
	if (!hex64_lower_valid(sp) || hex_decode(sp, 64, k->digest, 32, false) != 32)
		return -1;
	return 0;
}

struct svc_keys *svc_keys_load(const char *path, struct gpa_err *e)
{
	uint8_t *buf;
	size_t len;
	struct svc_keys *k;
	int lineno = 0;

	if (file_read(path, 1u << 20, &buf, &len, e) != 0)
		return NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL || (k->k = calloc(SVC_MAX_KEYS, sizeof(*k->k))) == NULL) {
		free(k);
		free(buf);
		gpa_err_set(e, "out of memory");
		return NULL;
	}
	for (char *save = NULL, *line = strtok_r((char *)buf, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (line[0] == '#' || line[strspn(line, " \t\r")] == '\0')
			continue;
		if (k->n == SVC_MAX_KEYS || parse_line(line, &k->k[k->n]) != 0) {
			gpa_err_set(e, "%s: line %d: expected \"NAME SHA256-HEX\" (at most %d keys; make them with 'gpuattest serve --add-key NAME')",
			    path, lineno, SVC_MAX_KEYS);
			free(buf);
			svc_keys_free(k);
			return NULL;
		}
		k->n++;
	}
	free(buf);
	return k;
}

void svc_keys_free(struct svc_keys *k)
{
	if (k != NULL) {
		OPENSSL_cleanse(k->k, SVC_MAX_KEYS * sizeof(*k->k));
		free(k->k);
		free(k);
	}
}

size_t svc_keys_count(const struct svc_keys *k)
{
	return k ? k->n : 0;
}

const char *svc_keys_check(const struct svc_keys *k, const char *token)
{
	uint8_t d[32];
	const char *found = NULL;

	if (k == NULL || token == NULL || *token == '\0' || strlen(token) > 256)
		return NULL;
	SHA256((const unsigned char *)token, strlen(token), d);
	/* Every entry is compared, so the time says nothing about which one. */
	for (size_t i = 0; i < k->n; i++)
		if (CRYPTO_memcmp(d, k->k[i].digest, 32) == 0)
			found = k->k[i].name;
	return found;
}

int svc_keys_add(const char *path, const char *name, char key[80], struct gpa_err *e)
{
	uint8_t raw[32], d[32];
	char hex[65], line[160];
	int fd, n;

	if (!name_ok(name, strlen(name))) {
		gpa_err_set(e, "key name '%s': 1-63 characters of [A-Za-z0-9._@-]", name);
		return -1;
	}
	if (random_bytes(raw, sizeof(raw)) != 0) {
		gpa_err_set(e, "no random bytes from the OS");
		return -1;
	}
	hex_encode(raw, sizeof(raw), hex);
	snprintf(key, 80, "gpak_%s", hex);
	SHA256((const unsigned char *)key, strlen(key), d);
	hex_encode(d, sizeof(d), hex);
	n = snprintf(line, sizeof(line), "%s %s\n", name, hex);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
		gpa_err_set(e, "%s: cannot append the key: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}
