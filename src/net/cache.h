/*
 * net/cache: the on-disk cache of RIMs and OCSP responses.
 *
 * Owns: where the cache lives, its file layout, atomic writes, expiry of
 * OCSP entries, listing and clearing.
 *
 * Never: vouches for what it returns (net/collateral.c verifies every entry
 * it reads, removes those that do not verify now, and stores only what
 * verified). A RIM comes back only if its bytes
 * still hash to the name they are stored under; its signature and chain are
 * re-verified by the RIM layer on every use, so "kept until the signing
 * certificate expires" is enforced by that re-verification (and
 * cache_prune removes entries whose signer has expired). An OCSP entry
 * is returned only while the response's own nextUpdate (read from the
 * response, never from a side file) is not past; its signature is
 * re-verified by the OCSP code, and a cached answer can never match a fresh
 * nonce.
 *
 * Location (cache_open(NULL)):
 *   $GPUATTEST_CACHE_DIR if set; else /var/cache/gpuattest when running as
 *   root (euid 0); else $XDG_CACHE_HOME/gpuattest (absolute paths only, per
 *   the XDG spec); else $HOME/.cache/gpuattest.
 * Layout:
 *   rims/<sha256 hex>.xml      RIM documents, content-addressed
 *   rims/by-id/<rim id>        the sha256 hex of the document for that id
 *   ocsp/<key>.der             OCSP responses; key = hex SHA-256 of the DER
 *                              CertID (SHA-1 CertID), see ocsp_certid_key
 * Two processes may write at once: every file is written to a unique
 * temporary name and renamed into place, so a reader sees the old or the
 * new file, never a torn one. Directories are created 0700 (0755 for the
 * system cache).
 */
#ifndef GPA_NET_CACHE_H
#define GPA_NET_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ocsp.h>

#include "util/util.h"

#define GPA_CACHE_MAX_OCSP	(256u << 10)

struct gpa_cache;

/* Opens (creating directories as needed) the cache at dir, or at the default
 * location when dir is NULL. NULL with a message on failure. */
struct gpa_cache *cache_open(const char *dir, struct gpa_err *e);
/* The same without creating anything (for list, prune and clear, which
 * must not write through a link the path may be). */
struct gpa_cache *cache_open_existing(const char *dir, struct gpa_err *e);
void cache_close(struct gpa_cache *c);
const char *cache_root(const struct gpa_cache *c);
/* The default location, as described above, into buf. 0 ok, -1 none (no HOME). */
int cache_default_dir(char *buf, size_t len, struct gpa_err *e);

/* RIMs. get: 1 found (malloc'd bytes, re-hashed against the stored name),
 * 0 not cached, -1 error (a corrupt entry is removed and reported as 0,
 * with e saying which file was dropped; e->msg is "" for a plain miss). */
int cache_rim_put(struct gpa_cache *c, const char *id, const uint8_t *xml, size_t len,
    struct gpa_err *e);
int cache_rim_get(struct gpa_cache *c, const char *id, uint8_t **xml, size_t *len,
    struct gpa_err *e);
/* The same, with the path of the document file into path when found. */
int cache_rim_get_path(struct gpa_cache *c, const char *id, uint8_t **xml, size_t *len,
    char *path, size_t path_len, struct gpa_err *e);
/* Removes the RIM cached for id (a copy that no longer verifies). 0 also
 * when there was none, -1 when it could not be removed. */
int cache_rim_remove(struct gpa_cache *c, const char *id, struct gpa_err *e);

/* OCSP responses by key (64 lowercase hex). get: 1 found and its
 * nextUpdate (thisUpdate + 1 h when absent) is not before `at`, 0 not
 * cached or expired (an expired entry is removed; one that is not an answer
 * for key is removed with e saying so), -1 error. With parsed
 * not NULL, get also hands back the response it decoded for that check
 * (the caller frees it), so that it need not be decoded again. */
int cache_ocsp_put(struct gpa_cache *c, const char *key, const uint8_t *der, size_t len,
    struct gpa_err *e);
int cache_ocsp_get(struct gpa_cache *c, const char *key, time_t at, uint8_t **der, size_t *len,
    OCSP_BASICRESP **parsed, struct gpa_err *e);
/* The file an answer for key is (or would be) cached in. 0 ok, -1 bad key. */
int cache_ocsp_path(const struct gpa_cache *c, const char *key, char *path, size_t len);
/* Removes the answer cached under key (one that no longer verifies). */
int cache_ocsp_remove(struct gpa_cache *c, const char *key, struct gpa_err *e);

enum gpa_cache_kind { GPA_CACHE_RIM, GPA_CACHE_OCSP };

struct gpa_cache_entry {
	enum gpa_cache_kind kind;
	char name[160];		/* RIM id, or OCSP key */
	char sha256[65];	/* RIM: content hash; OCSP: "" */
	size_t size;
	time_t expires;		/* OCSP: nextUpdate; RIM: signer notAfter; 0 unknown */
	bool expired;		/* expires < now */
};

/* Every entry (RIMs by id, then OCSP responses), malloc'd array. */
int cache_list(struct gpa_cache *c, time_t now, struct gpa_cache_entry **out, size_t *n,
    struct gpa_err *e);
/* Tidying (net/cache_tidy.c), which never leaves the cache: the root must
 * be a real directory owned by the running user or root and not writable
 * by group or others (else nothing is touched: -1, refused says why, the
 * caller exits 2); no link is followed, and only regular files named by
 * the cache's own scheme (and their temporary files) are removed. Every
 * other entry is left and passed to report (dir relative to the root, ""
 * for the root). clear removes every such file; prune removes OCSP answers
 * past nextUpdate (or unreadable), RIM ids whose document's signer
 * certificate (the first ds:X509Certificate) expired before `now` or is
 * missing, documents no id names, and temporary files. */
struct gpa_cache_tidy {
	long removed;			/* files removed */
	long nleft;			/* entries left and reported */
	void (*report)(void *arg, const char *dir, const char *name, const char *why);
	void *report_arg;
	char refused[700];
};
int cache_tidy_clear(struct gpa_cache *c, struct gpa_cache_tidy *t);
int cache_tidy_prune(struct gpa_cache *c, time_t now, struct gpa_cache_tidy *t);
/* The same, returning the count (or -1 with the refusal in e). */
long cache_clear(struct gpa_cache *c, struct gpa_err *e);
long cache_prune(struct gpa_cache *c, time_t now, struct gpa_err *e);
/* The notAfter of a RIM's first ds:X509Certificate (bookkeeping only; not a
 * verification). 0 ok, -1 none. */
int cache_rim_signer_not_after(const uint8_t *xml, size_t len, time_t *out);

#endif
