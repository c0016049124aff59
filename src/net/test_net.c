/*
 * Tests of net/http and net/rimsvc against tests/servers/rimsvc.py on
 * 127.0.0.1 (started here, stopped at exit). No other network. The service
 * answers are decoded by rim/rim.c (rim_service_json_decode); here, that the
 * client applies those rules, the same as rim_load does.
 */
#include "harness.h"
#include "servers/spawn.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "net/bundle.h"
#include "net/cache.h"
#include "net/http.h"
#include "net/rimsvc.h"
#include "net/collateral.h"
#include "rim/rim.h"

static int port = -1;
static char dir[512];
static const char *doc_a = "<SoftwareIdentity name=\"A\"/>\n";
static const char *doc_b = "<SoftwareIdentity name=\"B (from the bundle)\"/>\n";

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(s, f);
		fclose(f);
	}
}

static void start_server(void)
{
	char d[600], p[700];

	snprintf(dir, sizeof(dir), "%s/rims", spawn_tmpdir());
	snprintf(d, sizeof(d), "mkdir -p '%s'", dir);
	if (spawn_sh(d) != 0)
		return;
	snprintf(p, sizeof(p), "%s/NV_TEST_A.xml", dir);
	write_file(p, doc_a);
	for (int i = 0; i < 8; i++) {
		snprintf(p, sizeof(p), "%s/NV_TEST_GPU%d.xml", dir, i);
		write_file(p, doc_a);
	}
	{
		char *argv[] = { "python3", "tests/servers/rimsvc.py", "--dir", dir, "--lifetime", "120",
		    NULL };
		port = spawn_server(argv, "rimsvc");
	}
}

#define NEED_SERVER() do { if (port < 0) SKIP("rimsvc.py did not start (python3?)"); } while (0)

static void url(char *buf, size_t len, const char *path)
{
	snprintf(buf, len, "http://127.0.0.1:%d%s", port, path);
}

static void fast_opts(struct gpa_http_opts *o)
{
	http_opts_default(o);
	o->connect_timeout_ms = 1000;
	o->timeout_ms = 2000;
	o->total_timeout_ms = 5000;
	o->backoff_base_ms = 10;
	o->backoff_max_ms = 40;
}

static int get1(const struct gpa_http_opts *o, const char *path, struct gpa_http_resp *r)
{
	char u[256];
	struct gpa_http_req q = { .method = "GET", .accept = "application/json" };
	struct gpa_err e;

	url(u, sizeof(u), path);
	q.url = u;
	return http_perform_all(o, &q, r, 1, &e);
}

static void test_opts_env(void)
{
	struct gpa_http_opts o;
	struct gpa_err e;

	setenv("GPUATTEST_HTTP_TIMEOUT_MS", "1234", 1);
	setenv("GPUATTEST_HTTP_RETRIES", "0", 1);
	setenv("GPUATTEST_SERVICE_KEY", "k-123", 1);
	CHECK_INT(http_opts_from_env(&o, &e), 0);
	CHECK_INT(o.timeout_ms, 1234);
	CHECK_INT(o.max_retries, 0);
	CHECK_INT(o.connect_timeout_ms, 5000);
	CHECK_STREQ(o.service_key, "k-123");
	CHECK(strncmp(o.user_agent, "gpuattest/", 10) == 0);
	setenv("GPUATTEST_HTTP_RETRIES", "3x", 1);
	CHECK_INT(http_opts_from_env(&o, &e), -1);
	CHECK_CONTAINS(e.msg, "GPUATTEST_HTTP_RETRIES");
	setenv("GPUATTEST_HTTP_RETRIES", "-1", 1);
	CHECK_INT(http_opts_from_env(&o, &e), -1);
	setenv("GPUATTEST_HTTP_RETRIES", "99", 1);
	CHECK_INT(http_opts_from_env(&o, &e), -1);
	unsetenv("GPUATTEST_HTTP_TIMEOUT_MS");
	unsetenv("GPUATTEST_HTTP_RETRIES");
	unsetenv("GPUATTEST_SERVICE_KEY");
}

static void test_bearer_and_user_agent_on_get(void)
{
	struct gpa_http_opts o;
	struct gpa_http_resp r;

	NEED_SERVER();
	fast_opts(&o);
	snprintf(o.service_key, sizeof(o.service_key), "secret-key");
	CHECK_INT(get1(&o, "/headers", &r), 0);
	CHECK(r.ok);
	CHECK_INT(r.status, 200);
	CHECK_STREQ(r.content_type, "application/json");
	CHECK_CONTAINS((const char *)r.body, "\"authorization\": \"Bearer secret-key\"");
	CHECK_CONTAINS((const char *)r.body, "\"user-agent\": \"gpuattest/");
	http_resp_clear(&r);
	o.service_key[0] = 0;
	CHECK_INT(get1(&o, "/headers", &r), 0);
	CHECK(r.body && strstr((const char *)r.body, "authorization") == NULL);
	http_resp_clear(&r);
}

static void test_bad_inputs_refused(void)
{
	struct gpa_http_opts o;
	struct gpa_http_resp r;
	struct gpa_http_req q = { .method = "GET", .url = "file:///etc/passwd" };
	struct gpa_err e;

	fast_opts(&o);
	CHECK_INT(http_perform_all(&o, &q, &r, 1, &e), -1);
	CHECK_CONTAINS(e.msg, "http://");
	q.url = "ftp://127.0.0.1/x";
	CHECK_INT(http_perform_all(&o, &q, &r, 1, &e), -1);
	q.url = "http://127.0.0.1/x";
	snprintf(o.service_key, sizeof(o.service_key), "abc\r\nX-Injected: 1");
	CHECK_INT(http_perform_all(&o, &q, &r, 1, &e), -1);
	CHECK_CONTAINS(e.msg, "service key");
	o.service_key[0] = 0;
	q.method = "DELETE";
	CHECK_INT(http_perform_all(&o, &q, &r, 1, &e), -1);
}

static void test_retry_500_then_ok(void)
{
	struct gpa_http_opts o;
	struct gpa_http_resp r;

	NEED_SERVER();
	fast_opts(&o);
	CHECK_INT(get1(&o, "/fail=2/v1/rim/NV_TEST_A", &r), 0);
	CHECK(r.ok);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.attempts, 3);
	http_resp_clear(&r);
	/* Only one retry allowed: the 500 is the final answer. */
	o.max_retries = 1;
	CHECK_INT(get1(&o, "/fail=5/v1/rim/NV_TEST_A", &r), 0);
	CHECK(r.ok);
	CHECK_INT(r.status, 500);
	CHECK_INT(r.attempts, 2);
	http_resp_clear(&r);
}

static void test_404_not_retried(void)
{
	struct gpa_http_opts o;
	struct gpa_http_resp r;

	NEED_SERVER();
	fast_opts(&o);
	CHECK_INT(get1(&o, "/v1/rim/NV_NOT_THERE", &r), 0);
	CHECK_INT(r.status, 404);
	CHECK_INT(r.attempts, 1);
	http_resp_clear(&r);
	CHECK_INT(get1(&o, "/status=400/v1/rim/NV_TEST_A", &r), 0);
	CHECK_INT(r.status, 400);
	CHECK_INT(r.attempts, 1);
	http_resp_clear(&r);
}

static void test_oversized_body_refused(void)
{
	struct gpa_http_opts o;
	struct gpa_http_resp r;

	NEED_SERVER();
	fast_opts(&o);
	o.max_body = 1000;
	CHECK_INT(get1(&o, "/big=1001/v1/rim/NV_TEST_A", &r), 0);
	CHECK(!r.ok);
	CHECK_CONTAINS(r.error, "larger than the 1000 bytes");
	CHECK_INT(r.attempts, 1);
	http_resp_clear(&r);
	CHECK_INT(get1(&o, "/big=1000/v1/rim/NV_TEST_A", &r), 0);
	CHECK(r.ok);
	CHECK_INT(r.len, 1000);
	http_resp_clear(&r);
}

static void test_never_answers_timeout_bounded(void)
{
	struct gpa_http_opts o;
	struct gpa_http_resp r;
	long long t0;

	NEED_SERVER();
	fast_opts(&o);
	o.timeout_ms = 300;
	o.max_retries = 1;
	t0 = spawn_now_ms();
	CHECK_INT(get1(&o, "/hang/v1/rim/NV_TEST_A", &r), 0);
	CHECK(!r.ok);
	CHECK_INT(r.attempts, 2);
	CHECK_CONTAINS(r.error, "imeout");
	CHECK(spawn_now_ms() - t0 < 1500);
	http_resp_clear(&r);
	/* The total deadline cuts retries short. */
	o.timeout_ms = 400;
	o.max_retries = 10;
	o.total_timeout_ms = 1000;
	t0 = spawn_now_ms();
	CHECK_INT(get1(&o, "/hang/v1/rim/NV_TEST_A", &r), 0);
	CHECK(!r.ok);
	CHECK(r.attempts <= 4);
	CHECK(spawn_now_ms() - t0 < 1600);
	http_resp_clear(&r);
}

static void test_connection_refused_retried(void)
{
	struct gpa_http_opts o;
	struct gpa_http_resp r;
	struct gpa_http_req q = { .method = "GET" };
	struct gpa_err e;
	char u[128];

	fast_opts(&o);
	o.max_retries = 2;
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/v1/rim/x", spawn_closed_port());
	q.url = u;
	CHECK_INT(http_perform_all(&o, &q, &r, 1, &e), 0);
	CHECK(!r.ok);
	CHECK_INT(r.attempts, 3);
	CHECK_CONTAINS(r.error, "onnect");
	http_resp_clear(&r);
}

/* 8 requests, each delayed 50 ms by the server, run at once. */
static void test_concurrency(void)
{
	struct gpa_http_opts o;
	struct gpa_http_req q[8];
	struct gpa_http_resp r[8];
	char u[8][128];
	struct gpa_err e;
	long long t0, par, seq;

	NEED_SERVER();
	fast_opts(&o);
	for (int i = 0; i < 8; i++) {
		snprintf(u[i], sizeof(u[i]), "http://127.0.0.1:%d/delay=50/v1/rim/NV_TEST_GPU%d", port, i);
		q[i] = (struct gpa_http_req){ .method = "GET", .url = u[i] };
	}
	t0 = spawn_now_ms();
	CHECK_INT(http_perform_all(&o, q, r, 8, &e), 0);
	par = spawn_now_ms() - t0;
	for (int i = 0; i < 8; i++) {
		CHECK_INT(r[i].status, 200);
		http_resp_clear(&r[i]);
	}
	t0 = spawn_now_ms();
	for (int i = 0; i < 8; i++) {
		CHECK_INT(http_perform_all(&o, &q[i], &r[i], 1, &e), 0);
		http_resp_clear(&r[i]);
	}
	seq = spawn_now_ms() - t0;
	fprintf(stderr, "timing: 8 requests with 50 ms server delay: concurrent %lld ms, sequential %lld ms\n",
	    par, seq);
	CHECK(par < 250);
	CHECK(seq >= 400);
}

/* Proxies come from the standard environment: a request for a host that
 * does not exist succeeds only because http_proxy sends it to our server
 * (which answers absolute-URI requests like any path). */
static void test_proxy_from_environment(void)
{
	struct gpa_http_opts o;
	struct gpa_http_resp r;
	struct gpa_http_req q = { .method = "GET", .url = "http://rim.invalid/v1/rim/NV_TEST_A" };
	struct gpa_err e;
	char proxy[64];

	NEED_SERVER();
	fast_opts(&o);
	o.max_retries = 0;
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port);
	setenv("http_proxy", proxy, 1);
	CHECK_INT(http_perform_all(&o, &q, &r, 1, &e), 0);
	CHECK(r.ok);
	CHECK_INT(r.status, 200);
	CHECK(r.body && strstr((const char *)r.body, "\"NV_TEST_A\"") != NULL);
	http_resp_clear(&r);
	unsetenv("http_proxy");
}

static void test_rim_ok_and_not_found(void)
{
	struct gpa_http_opts o;
	struct gpa_rim_fetch f[3];
	const char *ids[] = { "NV_TEST_A", "NV_MISSING_1", "NV_TEST_GPU3" };
	char base[128];
	struct gpa_err e;

	NEED_SERVER();
	fast_opts(&o);
	url(base, sizeof(base), "/");
	CHECK_INT(rimsvc_fetch_all(&o, base, ids, 3, f, &e), 0);
	CHECK_INT(f[0].status, GPA_RIM_FETCH_OK);
	CHECK_INT(f[0].source, GPA_RIM_FROM_SERVICE);
	CHECK(f[0].len == strlen(doc_a) && memcmp(f[0].xml, doc_a, f[0].len) == 0);
	CHECK_INT(f[1].status, GPA_RIM_FETCH_NOT_FOUND);
	CHECK_INT(f[1].http_status, 404);
	CHECK_CONTAINS(f[1].detail, "NV_MISSING_1");
	CHECK_CONTAINS(f[1].detail, "not published");
	CHECK_INT(f[2].status, GPA_RIM_FETCH_OK);
	for (int i = 0; i < 3; i++)
		rim_fetch_clear(&f[i]);
}

static void fetch_one(const char *modes, const char *id, struct gpa_rim_fetch *f,
    const struct gpa_http_opts *o)
{
	char base[256];
	struct gpa_err e;

	snprintf(base, sizeof(base), "http://127.0.0.1:%d/%s", port, modes);
	if (rimsvc_fetch_all(o, base, &id, 1, f, &e) != 0)
		f->status = (enum gpa_rim_fetch_status)-1;
}

static void test_rim_bad_answers(void)
{
	struct gpa_http_opts o;
	struct gpa_rim_fetch f;

	NEED_SERVER();
	fast_opts(&o);
	fetch_one("corrupt", "NV_TEST_A", &f, &o);
	CHECK_INT(f.status, GPA_RIM_FETCH_ERROR);
	CHECK_CONTAINS(f.detail, "base64");
	CHECK(f.xml == NULL);
	rim_fetch_clear(&f);
	fetch_one("badsha", "NV_TEST_A", &f, &o);
	CHECK_INT(f.status, GPA_RIM_FETCH_ERROR);
	CHECK_CONTAINS(f.detail, "SHA-256 does not match");
	rim_fetch_clear(&f);
	fetch_one("badid", "NV_TEST_A", &f, &o);
	CHECK_INT(f.status, GPA_RIM_FETCH_ERROR);
	CHECK_CONTAINS(f.detail, "not the one asked for");
	rim_fetch_clear(&f);
	fetch_one("status=503", "NV_TEST_A", &f, &o);
	CHECK_INT(f.status, GPA_RIM_FETCH_ERROR);
	CHECK_INT(f.http_status, 503);
	rim_fetch_clear(&f);
	fetch_one("auth=k1", "NV_TEST_A", &f, &o);
	CHECK_INT(f.status, GPA_RIM_FETCH_FORBIDDEN);
	CHECK_CONTAINS(f.detail, "service key");
	rim_fetch_clear(&f);
	snprintf(o.service_key, sizeof(o.service_key), "k1");
	fetch_one("auth=k1", "NV_TEST_A", &f, &o);
	CHECK_INT(f.status, GPA_RIM_FETCH_OK);
	rim_fetch_clear(&f);
	o.service_key[0] = 0;
	/* Larger than any RIM answer may be (4 MiB RIM in base64 + slack). */
	fetch_one("big=6000000", "NV_TEST_A", &f, &o);
	CHECK_INT(f.status, GPA_RIM_FETCH_ERROR);
	CHECK_CONTAINS(f.detail, "larger than");
	rim_fetch_clear(&f);
}

static void test_rim_id_rules(void)
{
	struct gpa_http_opts o;
	struct gpa_rim_fetch f;
	struct gpa_err e;
	const char *bad[] = { "../etc/passwd", "a/b", "", ".hidden", "a b", "x?y=1", "NV_\xc3\xa9" };

	CHECK(rim_id_valid("NV_GPU_DRIVER_GH100_550.144.03"));
	CHECK(rim_id_valid("NV_GPU_VBIOS_1010_0200_882_96005E0001"));
	fast_opts(&o);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!rim_id_valid(bad[i]));
		CHECK_INT(rimsvc_fetch_all(&o, "http://127.0.0.1:1", &bad[i], 1, &f, &e), -1);
	}
}

/* A recorded answer of NVIDIA's RIM service, served byte for byte. */
static void test_rim_real_service_answer(void)
{
	SHARED_OR_SKIP(p, "vectors/nvidia/rim/driver/rim-service-response_NV_GPU_DRIVER_GH100_595.71.05.json");
	struct gpa_http_opts o;
	struct gpa_rim_fetch f;
	char cmd[1400];

	NEED_SERVER();
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/NV_GPU_DRIVER_GH100_595.71.05.json'", p, dir);
	CHECK_INT(spawn_sh(cmd), 0);
	fast_opts(&o);
	fetch_one("", "NV_GPU_DRIVER_GH100_595.71.05", &f, &o);
	CHECK_INT(f.status, GPA_RIM_FETCH_OK);
	CHECK(f.len > 1000 && memcmp(f.xml, "<SoftwareIdentity", 17) == 0);
	rim_fetch_clear(&f);
	/* Asked under another id, the same answer is refused. */
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/NV_GPU_DRIVER_GH100_595.71.06.json'", p, dir);
	CHECK_INT(spawn_sh(cmd), 0);
	fetch_one("", "NV_GPU_DRIVER_GH100_595.71.06", &f, &o);
	CHECK_INT(f.status, GPA_RIM_FETCH_ERROR);
	rim_fetch_clear(&f);
}

/* The order of the sources, and the cache rule: a document that could not be
 * verified (here: no anchors to verify with) is never written to the cache,
 * nor read from it. (Real RIMs and PKIs: tests/cli/test_collateral.sh.) */
static void test_rim_sources_order(void)
{
	struct gpa_http_opts o;
	struct gpa_rim_sources s;
	struct gpa_collateral_rim f[2];
	const char *ids[] = { "NV_TEST_A", "NV_TEST_GPU1" };
	char cdir[600], base[128];
	struct gpa_cache *c;
	struct gpa_bundle *rec = bundle_new(), *bun = bundle_new();
	struct gpa_err e;
	uint8_t *xml = NULL;
	size_t len = 0;

	NEED_SERVER();
	fast_opts(&o);
	snprintf(cdir, sizeof(cdir), "%s/cache-src", spawn_tmpdir());
	/* The bundle holds another document for NV_TEST_A than the service. */
	CHECK_INT(bundle_add_rim(bun, "NV_TEST_A", (const uint8_t *)doc_b, strlen(doc_b), &e), 0);
	c = cache_open(cdir, &e);
	CHECK(c != NULL);
	if (c == NULL) {
		bundle_free(bun);
		bundle_free(rec);
		return;
	}
	url(base, sizeof(base), "");
	memset(&s, 0, sizeof(s));
	s.bundle = bun;
	s.bundle_path = "b.json";
	s.cache = c;
	s.service_url = base;
	s.http = &o;
	s.record = rec;
	CHECK_INT(collateral_get_rims(&s, ids, 2, f, &e), 0);
	/* Bundle first; the other one from the service, each source named. */
	CHECK_INT(f[0].source, GPA_RIM_FROM_BUNDLE);
	CHECK_STREQ(f[0].where, "bundle b.json");
	CHECK(f[0].len == strlen(doc_b) && memcmp(f[0].xml, doc_b, f[0].len) == 0);
	CHECK_INT(f[1].source, GPA_RIM_FROM_SERVICE);
	CHECK_CONTAINS(f[1].where, "RIM service http://127.0.0.1:");
	CHECK_CONTAINS(f[1].where, "/v1/rim/NV_TEST_GPU1");
	CHECK(f[1].len == strlen(doc_a) && memcmp(f[1].xml, doc_a, f[1].len) == 0);
	CHECK(bundle_get_rim(rec, "NV_TEST_A") != NULL && bundle_get_rim(rec, "NV_TEST_GPU1") != NULL);
	collateral_rim_clear(&f[0]);
	collateral_rim_clear(&f[1]);
	/* Not verified, so not cached. */
	CHECK_INT(cache_rim_get(c, "NV_TEST_GPU1", &xml, &len, &e), 0);
	/* And an entry put there by hand is not used without anchors to judge it. */
	CHECK_INT(cache_rim_put(c, "NV_TEST_GPU1", (const uint8_t *)doc_a, strlen(doc_a), &e), 0);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", spawn_closed_port());
	s.bundle = NULL;
	o.max_retries = 0;
	CHECK_INT(collateral_get_rims(&s, &ids[1], 1, f, &e), 0);
	CHECK_INT(f[0].status, GPA_RIM_FETCH_ERROR);
	collateral_rim_clear(&f[0]);
	/* Offline and nowhere local: not found, and nothing was asked. */
	s.offline = true;
	CHECK_INT(collateral_get_rims(&s, &ids[0], 1, f, &e), 0);
	CHECK_INT(f[0].status, GPA_RIM_FETCH_NOT_FOUND);
	CHECK_CONTAINS(f[0].detail, "offline");
	collateral_rim_clear(&f[0]);
	cache_close(c);
	bundle_free(bun);
	bundle_free(rec);
}

/* Writes the service answer for id into the server's folder (served as it
 * is) and returns it, malloc'd: doc in base64 with ws inserted after the 8th
 * character (NULL: none), named json_id, with the right sha256. */
static char *serve_answer(const char *id, const char *json_id, const char *ws)
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1], p[700], *b64, *body;
	size_t n;

	SHA256((const uint8_t *)doc_a, strlen(doc_a), md);
	hex_encode(md, sizeof(md), hex);
	b64 = b64_encode((const uint8_t *)doc_a, strlen(doc_a));
	n = strlen(b64) + 512;
	body = malloc(n);
	snprintf(body, n, "{\"id\": \"%s\", \"rim\": \"%.8s%s%s\", \"sha256\": \"%s\", "
	    "\"request_id\": \"r\"}", json_id, b64, ws ? ws : "", b64 + 8, hex);
	free(b64);
	snprintf(p, sizeof(p), "%s/%s.json", dir, id);
	write_file(p, body);
	return body;
}

/* One answer, two ways in: the network client and rim_load (a saved answer
 * in a RIM directory) decode it with rim_service_json_decode and must agree
 * on it, word for word. Before they shared it, the network client skipped
 * whitespace in the base64 (and printed a foreign id unfiltered) where
 * rim_load refused it; now both skip it. */
static void test_rim_same_rules_as_rim_load(void)
{
	static const struct {
		const char *id, *json_id, *ws;	/* JSON text of the id, base64 whitespace */
		const char *msg;		/* NULL: accepted */
	} cases[] = {
		{ "NV_TEST_JSON_OK", "NV_TEST_JSON_OK", NULL, NULL },
		{ "NV_TEST_JSON_NL", "NV_TEST_JSON_NL", "\\n", NULL },
		{ "NV_TEST_JSON_SP", "NV_TEST_JSON_SP", " ", NULL },
		{ "NV_TEST_JSON_VT", "NV_TEST_JSON_VT", "\\u000b", "rim is not valid base64" },
		{ "NV_TEST_JSON_BEL", "NV_TEST\\u0007JSON_BEL", NULL, "id is not a printable identifier" },
		{ "NV_TEST_JSON_ESC", "NV_TEST_JSON_ESC\\u001b[2J", NULL,
		    "id is not a printable identifier" },
	};
	struct gpa_http_opts o;
	struct gpa_anchors *anchors;
	struct gpa_err e = { { 0 } };

	NEED_SERVER();
	fast_opts(&o);
	anchors = anchors_new(true, &e);
	CHECK(anchors != NULL);
	if (anchors == NULL)
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gpa_rim_fetch f;
		struct rim *r = NULL;
		struct gpa_err le = { { 0 } };
		char *body = serve_answer(cases[i].id, cases[i].json_id, cases[i].ws);
		const char *pre = "RIM service body: ";

		fetch_one("", cases[i].id, &f, &o);
		CHECK_INT(rim_load((const uint8_t *)body, strlen(body), cases[i].id, anchors,
		    time(NULL), &r, &le), -1);
		CHECK(r == NULL);
		rim_free(r);
		if (cases[i].msg == NULL) {
			/* Past the JSON both ways: rim_load's complaint is the XML. */
			CHECK_INT(f.status, GPA_RIM_FETCH_OK);
			CHECK(f.len == strlen(doc_a) && memcmp(f.xml, doc_a, f.len) == 0);
			CHECK(strncmp(le.msg, pre, strlen(pre)) != 0);
		} else {
			CHECK_INT(f.status, GPA_RIM_FETCH_ERROR);
			CHECK(f.xml == NULL);
			CHECK_CONTAINS(le.msg, cases[i].msg);
			CHECK(strncmp(le.msg, pre, strlen(pre)) == 0);
			/* The client's detail ends with the very same reason. */
			CHECK_CONTAINS(f.detail, cases[i].id);
			CHECK_CONTAINS(f.detail, le.msg + strlen(pre));
			CHECK(strchr(f.detail, '\a') == NULL && strchr(f.detail, '\x1b') == NULL);
		}
		rim_fetch_clear(&f);
		free(body);
	}
	anchors_free(anchors);
}

int main(void)
{
	/* Loopback only, whatever proxy the environment names. */
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	start_server();
	RUN(test_opts_env);
	RUN(test_bad_inputs_refused);
	RUN(test_bearer_and_user_agent_on_get);
	RUN(test_retry_500_then_ok);
	RUN(test_404_not_retried);
	RUN(test_oversized_body_refused);
	RUN(test_never_answers_timeout_bounded);
	RUN(test_connection_refused_retried);
	RUN(test_concurrency);
	RUN(test_proxy_from_environment);
	RUN(test_rim_ok_and_not_found);
	RUN(test_rim_bad_answers);
	RUN(test_rim_id_rules);
	RUN(test_rim_real_service_answer);
	RUN(test_rim_sources_order);
	RUN(test_rim_same_rules_as_rim_load);
	return harness_done("net");
}
