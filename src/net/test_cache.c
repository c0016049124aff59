/*
 * Tests of net/cache and net/bundle: on-disk layout, expiry, re-hashing,
 * concurrent writers (fork), listing / clearing / pruning, and the strict
 * bundle reader. OCSP responses are made by the openssl CLI over a PKI from
 * tests/servers/mkpki.sh (no network at all).
 */
#include "harness.h"
#include "servers/spawn.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <openssl/pem.h>

#include "net/bundle.h"
#include "net/cache.h"
#include "x509/ocsp.h"

static char pki[512];
static bool have_pki;
static char key[65];			/* CertID key of leaf_good / ica */
static uint8_t *resp1, *resp2;		/* two valid answers for key: nextUpdate +1 day, +2 days */
static size_t resp1_len, resp2_len;
static time_t now;

static X509 *load(const char *name)
{
	return spawn_pki_cert(pki, name);
}

static int make_response(const char *ndays, uint8_t **out, size_t *len)
{
	char cmd[2000], p[700];
	struct gpa_err e;

	snprintf(cmd, sizeof(cmd), "cd '%s' && openssl ocsp -issuer ica.pem -cert leaf_good.pem "
	    "-no_nonce -reqout req.der >/dev/null 2>&1 && openssl ocsp -index db_ica/index.txt "
	    "-CA ica.pem -rsigner ocsp_ica.pem -rkey ocsp_ica.key -reqin req.der -respout resp.der "
	    "-ndays %s >/dev/null 2>&1", pki, ndays);
	if (spawn_sh(cmd) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/resp.der", pki);
	return file_read(p, 100000, out, len, &e);
}

static void setup(void)
{
	struct gpa_ocsp_query q;
	struct gpa_err e;
	X509 *leaf, *ica;

	now = time(NULL);
	if (spawn_mkpki(pki, sizeof(pki)) != 0)
		return;
	leaf = load("leaf_good");
	ica = load("ica");
	if (leaf && ica && ocsp_query_init(&q, leaf, ica, &e) == 0) {
		memcpy(key, q.key, sizeof(key));
		ocsp_query_clear(&q);
		have_pki = make_response("1", &resp1, &resp1_len) == 0 &&
		    make_response("2", &resp2, &resp2_len) == 0;
	}
	X509_free(leaf);
	X509_free(ica);
}

#define NEED_PKI() do { if (!have_pki) SKIP("openssl CLI PKI could not be made"); } while (0)

static struct gpa_cache *fresh_cache(const char *name)
{
	char d[600];
	struct gpa_err e;
	struct gpa_cache *c;

	snprintf(d, sizeof(d), "%s/%s", spawn_tmpdir(), name);
	c = cache_open(d, &e);
	if (c == NULL)
		fprintf(stderr, "cache_open: %s\n", e.msg);
	return c;
}

static void test_default_location(void)
{
	char buf[512];
	struct gpa_err e;

	if (geteuid() == 0) {
		unsetenv("GPUATTEST_CACHE_DIR");
		CHECK_INT(cache_default_dir(buf, sizeof(buf), &e), 0);
		CHECK_STREQ(buf, "/var/cache/gpuattest");
	}
	setenv("GPUATTEST_CACHE_DIR", "/x/y", 1);
	CHECK_INT(cache_default_dir(buf, sizeof(buf), &e), 0);
	CHECK_STREQ(buf, "/x/y");
	unsetenv("GPUATTEST_CACHE_DIR");
	if (geteuid() != 0) {
		setenv("XDG_CACHE_HOME", "/xdg", 1);
		CHECK_INT(cache_default_dir(buf, sizeof(buf), &e), 0);
		CHECK_STREQ(buf, "/xdg/gpuattest");
		setenv("XDG_CACHE_HOME", "relative", 1);	/* ignored, per XDG */
		setenv("HOME", "/home/u", 1);
		CHECK_INT(cache_default_dir(buf, sizeof(buf), &e), 0);
		CHECK_STREQ(buf, "/home/u/.cache/gpuattest");
	}
}

static void test_rim_put_get(void)
{
	struct gpa_cache *c = fresh_cache("rim1");
	const char *doc = "<SoftwareIdentity/>";
	uint8_t *got;
	size_t len;
	char p[900];
	struct gpa_err e;
	FILE *f;

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_INT(cache_rim_get(c, "NV_X", &got, &len, &e), 0);
	CHECK_INT(cache_rim_put(c, "NV_X", (const uint8_t *)doc, strlen(doc), &e), 0);
	CHECK_INT(cache_rim_get(c, "NV_X", &got, &len, &e), 1);
	CHECK(len == strlen(doc) && memcmp(got, doc, len) == 0);
	free(got);
	CHECK_INT(cache_rim_put(c, "../evil", (const uint8_t *)doc, strlen(doc), &e), -1);
	CHECK_INT(cache_rim_get(c, "a/b", &got, &len, &e), -1);
	/* Damaged on disk: not returned, and removed. */
	snprintf(p, sizeof(p), "%s/rims/by-id/NV_X", cache_root(c));
	f = fopen(p, "r");
	if (f) {
		char hex[65] = "";
		if (fread(hex, 1, 64, f) != 64)
			hex[0] = 0;
		fclose(f);
		snprintf(p, sizeof(p), "%s/rims/%s.xml", cache_root(c), hex);
		f = fopen(p, "w");
		fputs("<SoftwareIdentity evil=\"1\"/>", f);
		fclose(f);
	}
	CHECK_INT(cache_rim_get(c, "NV_X", &got, &len, &e), 0);
	CHECK(access(p, F_OK) != 0);
	cache_close(c);
}

static void test_ocsp_put_get_expiry(void)
{
	struct gpa_cache *c;
	uint8_t *got;
	size_t len;
	struct gpa_err e;
	char other[65];
	OCSP_BASICRESP *bs;

	NEED_PKI();
	c = fresh_cache("ocsp1");
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_INT(cache_ocsp_get(c, key, now, &got, &len, NULL, &e), 0);
	CHECK_INT(cache_ocsp_put(c, key, resp1, resp1_len, &e), 0);
	CHECK_INT(cache_ocsp_get(c, key, now, &got, &len, NULL, &e), 1);
	CHECK(len == resp1_len && memcmp(got, resp1, len) == 0);
	free(got);
	/* The decoded answer comes back too, for the one certificate asked. */
	CHECK_INT(cache_ocsp_get(c, key, now, &got, &len, &bs, &e), 1);
	CHECK(bs != NULL && OCSP_resp_count(bs) == 1);
	OCSP_BASICRESP_free(bs);
	free(got);
	CHECK_INT(cache_ocsp_get(c, key, now + 86400 - 60, &got, &len, NULL, &e), 1);
	free(got);
	/* Past nextUpdate: gone, and removed from disk. */
	bs = (OCSP_BASICRESP *)1;
	CHECK_INT(cache_ocsp_get(c, key, now + 86400 + 60, &got, &len, &bs, &e), 0);
	CHECK(bs == NULL && got == NULL);
	CHECK_INT(cache_ocsp_get(c, key, now, &got, &len, NULL, &e), 0);
	/* Refused: an answer stored under another certificate's key, junk, a bad key. */
	memcpy(other, key, sizeof(other));
	other[0] = other[0] == 'a' ? 'b' : 'a';
	CHECK_INT(cache_ocsp_put(c, other, resp1, resp1_len, &e), -1);
	CHECK_INT(cache_ocsp_put(c, key, (const uint8_t *)"junk", 4, &e), -1);
	CHECK_INT(cache_ocsp_put(c, "../../etc/x", resp1, resp1_len, &e), -1);
	cache_close(c);
}

static void test_list_clear_prune(void)
{
	struct gpa_cache *c;
	struct gpa_cache_entry *v;
	size_t n;
	struct gpa_err e;
	const char *doc = "<SoftwareIdentity/>";

	NEED_PKI();
	c = fresh_cache("list1");
	if (!c)
		return;
	CHECK_INT(cache_rim_put(c, "NV_A", (const uint8_t *)doc, strlen(doc), &e), 0);
	CHECK_INT(cache_ocsp_put(c, key, resp1, resp1_len, &e), 0);
	CHECK_INT(cache_list(c, now, &v, &n, &e), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(v[0].kind, GPA_CACHE_RIM);
		CHECK_STREQ(v[0].name, "NV_A");
		CHECK_INT(v[1].kind, GPA_CACHE_OCSP);
		CHECK_STREQ(v[1].name, key);
		CHECK(v[1].expires > now && !v[1].expired);
	}
	free(v);
	/* Two days on, the OCSP entry is pruned; the RIM (no signer cert to
	 * judge) is kept for the RIM layer to re-verify. */
	CHECK_INT(cache_prune(c, now + 2 * 86400, &e), 1);
	CHECK_INT(cache_list(c, now, &v, &n, &e), 0);
	CHECK_INT(n, 1);
	free(v);
	CHECK_INT(cache_clear(c, &e), 2);
	CHECK_INT(cache_list(c, now, &v, &n, &e), 0);
	CHECK_INT(n, 0);
	free(v);
	cache_close(c);
}

/* A real NVIDIA RIM whose L4 signer expired: pruned; one still valid: kept. */
static void test_prune_by_signer_expiry(void)
{
	SHARED_OR_SKIP(expired, "vectors/nvidia/rim/negative/NV_GPU_DRIVER_GH100_570.124.03_expired.xml");
	struct gpa_cache *c = fresh_cache("prune2");
	struct gpa_cache_entry *v;
	uint8_t *buf;
	size_t len, n;
	struct gpa_err e;

	if (!c)
		return;
	CHECK_INT(file_read(expired, 4 << 20, &buf, &len, &e), 0);
	CHECK_INT(cache_rim_put(c, "NV_GPU_DRIVER_GH100_570.124.03", buf, len, &e), 0);
	free(buf);
	CHECK_INT(cache_list(c, now, &v, &n, &e), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK(v[0].expires != 0);
		CHECK(v[0].expired);
	}
	free(v);
	CHECK_INT(cache_prune(c, now, &e), 2);	/* the id and its document */
	CHECK_INT(cache_list(c, now, &v, &n, &e), 0);
	CHECK_INT(n, 0);
	free(v);
	cache_close(c);
}

/* Two processes rewrite the same entries while a third reads: every read
 * sees one complete version. */
static void test_concurrent_writers(void)
{
	struct gpa_cache *c;
	const char *docs[2] = { "<SoftwareIdentity v=\"1\"/>", "<SoftwareIdentity v=\"2\" longer=\"yes\"/>" };
	pid_t kids[2];
	int bad = 0, reads = 0;
	struct gpa_err e;

	NEED_PKI();
	c = fresh_cache("race");
	if (!c)
		return;
	CHECK_INT(cache_ocsp_put(c, key, resp1, resp1_len, &e), 0);
	CHECK_INT(cache_rim_put(c, "NV_R", (const uint8_t *)docs[0], strlen(docs[0]), &e), 0);
	fflush(NULL);
	for (int k = 0; k < 2; k++) {
		if ((kids[k] = fork()) == 0) {
			struct gpa_err ce;
			for (int i = 0; i < 150; i++) {
				cache_ocsp_put(c, key, k ? resp2 : resp1, k ? resp2_len : resp1_len, &ce);
				cache_rim_put(c, "NV_R", (const uint8_t *)docs[k], strlen(docs[k]), &ce);
			}
			_exit(0);
		}
	}
	for (int alive = 2; alive > 0;) {
		uint8_t *got;
		size_t len;
		if (cache_ocsp_get(c, key, now, &got, &len, NULL, &e) != 1 ||
		    !((len == resp1_len && memcmp(got, resp1, len) == 0) ||
		    (len == resp2_len && memcmp(got, resp2, len) == 0)))
			bad++;
		free(got);
		if (cache_rim_get(c, "NV_R", &got, &len, &e) != 1 ||
		    !((len == strlen(docs[0]) && memcmp(got, docs[0], len) == 0) ||
		    (len == strlen(docs[1]) && memcmp(got, docs[1], len) == 0)))
			bad++;
		free(got);
		reads++;
		alive = 0;
		for (int k = 0; k < 2; k++)
			if (kids[k] > 0 && waitpid(kids[k], NULL, WNOHANG) == 0)
				alive++;
			else
				kids[k] = 0;
	}
	CHECK_INT(bad, 0);
	CHECK(reads > 0);
	cache_close(c);
}

static void test_bundle_round_trip(void)
{
	struct gpa_bundle *b = bundle_new(), *r;
	const char *doc = "<SoftwareIdentity/>";
	char path[600];
	struct gpa_err e;

	NEED_PKI();
	CHECK_INT(bundle_add_rim(b, "NV_GPU_DRIVER_GH100_1.2", (const uint8_t *)doc, strlen(doc), &e), 0);
	CHECK_INT(bundle_add_ocsp(b, key, resp1, resp1_len, &e), 0);
	CHECK_INT(bundle_add_ocsp(b, key, resp2, resp2_len, &e), 0);	/* replaces */
	CHECK_INT(b->nocsp, 1);
	CHECK_INT(bundle_add_rim(b, "../x", (const uint8_t *)doc, strlen(doc), &e), -1);
	CHECK_INT(bundle_add_ocsp(b, "ABCD", resp1, resp1_len, &e), -1);
	b->created = 1700000000;
	snprintf(path, sizeof(path), "%s/b.json", spawn_tmpdir());
	CHECK_INT(bundle_write(b, path, &e), 0);
	r = bundle_read(path, &e);
	CHECK(r != NULL);
	if (r) {
		const struct gpa_bundle_item *it = bundle_get_ocsp(r, key);
		CHECK_INT(r->created, 1700000000);
		CHECK(it && it->len == resp2_len && memcmp(it->data, resp2, it->len) == 0);
		it = bundle_get_rim(r, "NV_GPU_DRIVER_GH100_1.2");
		CHECK(it && it->len == strlen(doc) && memcmp(it->data, doc, it->len) == 0);
		CHECK(bundle_get_rim(r, "NV_OTHER") == NULL);
	}
	bundle_free(r);
	bundle_free(b);
}

static void expect_refused(const char *json, const char *why)
{
	struct gpa_err e;
	struct gpa_bundle *b = bundle_parse((const uint8_t *)json, strlen(json), &e);

	CHECK(b == NULL);
	if (b == NULL)
		CHECK_CONTAINS(e.msg, why);
	bundle_free(b);
}

static void test_bundle_strict(void)
{
	const char *k = "0000000000000000000000000000000000000000000000000000000000000000";
	char buf[600];
	struct gpa_err e;
	struct gpa_bundle *b;

#define HDR "\"format\":\"gpuattest-collateral\",\"version\":1,\"created\":\"2025-01-01T00:00:00Z\""
	b = bundle_parse((const uint8_t *)"{" HDR ",\"rims\":{\"NV_A\":\"PGEvPg==\"},\"ocsp\":{}}",
	    strlen("{" HDR ",\"rims\":{\"NV_A\":\"PGEvPg==\"},\"ocsp\":{}}"), &e);
	CHECK(b != NULL);
	bundle_free(b);
	expect_refused("[]", "not a JSON object");
	expect_refused("{" HDR ",\"rims\":{},\"ocsp\":{},\"extra\":1}", "unknown key");
	expect_refused("{\"format\":\"other\",\"version\":1,\"created\":\"2025-01-01T00:00:00Z\","
	    "\"rims\":{},\"ocsp\":{}}", "format");
	expect_refused("{\"format\":\"gpuattest-collateral\",\"version\":2,"
	    "\"created\":\"2025-01-01T00:00:00Z\",\"rims\":{},\"ocsp\":{}}", "version");
	expect_refused("{\"format\":\"gpuattest-collateral\",\"version\":\"1\","
	    "\"created\":\"2025-01-01T00:00:00Z\",\"rims\":{},\"ocsp\":{}}", "version");
	expect_refused("{\"format\":\"gpuattest-collateral\",\"version\":1,\"created\":\"yesterday\","
	    "\"rims\":{},\"ocsp\":{}}", "created");
	expect_refused("{" HDR ",\"rims\":[],\"ocsp\":{}}", "not an object");
	expect_refused("{" HDR ",\"rims\":{\"NV_A\":\"!!!!\"},\"ocsp\":{}}", "base64");
	expect_refused("{" HDR ",\"rims\":{\"NV_A\":\"PGEv Pg==\"},\"ocsp\":{}}", "base64");
	expect_refused("{" HDR ",\"rims\":{\"NV_A\":42},\"ocsp\":{}}", "base64");
	expect_refused("{" HDR ",\"rims\":{\"NV_A\":\"\"},\"ocsp\":{}}", "0 bytes");
	expect_refused("{" HDR ",\"rims\":{\"../A\":\"PGEvPg==\"},\"ocsp\":{}}", "bad RIM id");
	expect_refused("{" HDR ",\"rims\":{\"NV_A\":\"PGEvPg==\",\"NV_A\":\"PGEvPg==\"},\"ocsp\":{}}",
	    "duplicate");
	snprintf(buf, sizeof(buf), "{" HDR ",\"rims\":{},\"ocsp\":{\"%.63s\":\"PGEvPg==\"}}", k);
	expect_refused(buf, "bad OCSP key");
	snprintf(buf, sizeof(buf), "{" HDR ",\"rims\":{},\"ocsp\":{\"%s\":\"PGEvPg=\"}}", k);
	expect_refused(buf, "base64");
	expect_refused("{" HDR ",\"rims\":{},\"ocsp\":{}} trailing", "not a JSON object");
	expect_refused("{" HDR ",\"ocsp\":{}}", "\"rims\" is not an object");
#undef HDR
}

int main(void)
{
	setup();
	RUN(test_default_location);
	RUN(test_rim_put_get);
	RUN(test_ocsp_put_get_expiry);
	RUN(test_list_clear_prune);
	RUN(test_prune_by_signer_expiry);
	RUN(test_concurrent_writers);
	RUN(test_bundle_round_trip);
	RUN(test_bundle_strict);
	free(resp1);
	free(resp2);
	return harness_done("cache");
}
