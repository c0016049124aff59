/* The verifier service's parts: NRAS request parsing, API keys, rate
 * limits, metrics, the single-flight collateral memory. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "service/service.h"

#define NONCE "690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a"

static int parse(const char *body, enum gpa_device_kind kind, struct gpa_err *e)
{
	struct svc_request r;
	int rc = svc_parse_request((const uint8_t *)body, strlen(body), kind, &r, e);

	if (rc == 0)
		svc_request_clear(&r);
	return rc;
}

static void test_parse_recorded_request(void)
{
	SHARED_OR_SKIP(path, "vectors/nvidia/gpu/hopper_595.71.05_azure/gpu-evidence.json");
	uint8_t *buf;
	size_t len;
	struct gpa_err e = {{0}};
	struct svc_request r;

	CHECK(file_read(path, 1 << 20, &buf, &len, &e) == 0);
	CHECK_INT(svc_parse_request(buf, len, GPA_DEV_GPU, &r, &e), 0);
	CHECK_INT(r.set.n, 1);
	CHECK_STREQ(r.arch, "HOPPER");
	CHECK_STREQ(r.claims_version, "3.0");
	CHECK(r.set.items[0].report_len > 0 && r.set.items[0].chain_len > 0);
	svc_request_clear(&r);
	/* The same body at the switch endpoint: the arch is not a switch's. */
	CHECK_INT(svc_parse_request(buf, len, GPA_DEV_SWITCH, &r, &e), -1);
	CHECK_CONTAINS(e.msg, "LS10");
	free(buf);
}

static void test_parse_refuses_bad_envelopes(void)
{
	static const struct { const char *body, *msg; } cases[] = {
		{ "", "empty body" },
		{ "{", "not JSON" },
		{ "[]", "must be a JSON object" },
		{ "{\"nonce\": \"" NONCE "\", \"nonce\": \"" NONCE "\"}", "not JSON" },	/* duplicate key */
		{ "{\"arch\": \"HOPPER\", \"evidence_list\": []}", "\"nonce\" is missing" },
		{ "{\"nonce\": 5, \"arch\": \"HOPPER\"}", "\"nonce\" must be a string" },
		{ "{\"nonce\": \"abcd\", \"arch\": \"HOPPER\"}", "64 hex digits" },
		{ "{\"nonce\": \"" NONCE "\", \"arch\": \"hopper\"}", "\"arch\" must be" },
		{ "{\"nonce\": \"" NONCE "\", \"arch\": \"HOPPER\", \"claims_version\": \"9\"}", "claims_version" },
		{ "{\"nonce\": \"" NONCE "\", \"arch\": \"HOPPER\"}", "evidence_list" },
		{ "{\"nonce\": \"" NONCE "\", \"arch\": \"HOPPER\", \"evidence_list\": {}}", "evidence_list" },
		{ "{\"nonce\": \"" NONCE "\", \"arch\": \"HOPPER\", \"evidence_list\": []}", "non-empty" },
		{ "{\"nonce\": \"" NONCE "\", \"arch\": \"HOPPER\", \"evidence_list\": [{\"evidence\": \"!!\", \"certificate\": \"QQ==\"}]}", "" },
		{ "{\"nonce\": \"" NONCE "\", \"arch\": \"HOPPER\", \"evidence_list\": [5]}", "" },
		{ "{\"nonce\": \"" NONCE "\"} trailing", "not JSON" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gpa_err e = {{0}};
		CHECK_INT(parse(cases[i].body, GPA_DEV_GPU, &e), -1);
		CHECK(e.msg[0] != '\0');
		CHECK_CONTAINS(e.msg, cases[i].msg);
	}
}

static void test_parse_too_many_items(void)
{
	size_t cap = 64 + 80 * 70;
	char *b = malloc(cap);
	struct gpa_err e = {{0}};
	size_t n = (size_t)snprintf(b, cap, "{\"nonce\": \"" NONCE "\", \"arch\": \"HOPPER\", \"evidence_list\": [");

	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(b + n, cap - n, "%s{\"evidence\": \"QQ==\", \"certificate\": \"QQ==\"}", i ? "," : "");
	snprintf(b + n, cap - n, "]}");
	CHECK_INT(parse(b, GPA_DEV_GPU, &e), -1);
	CHECK_CONTAINS(e.msg, "at most 64");
	free(b);
}

static void test_api_keys(void)
{
	char dir[] = "/tmp/gpa-keys-XXXXXX", path[64], k1[80], k2[80];
	struct gpa_err e = {{0}};
	struct svc_keys *k;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/keys", dir);
	CHECK_INT(svc_keys_add(path, "alice", k1, &e), 0);
	CHECK_INT(svc_keys_add(path, "bob", k2, &e), 0);
	CHECK_INT(svc_keys_add(path, "bad name", k2, &e), -1);
	CHECK(strncmp(k1, "gpak_", 5) == 0 && strlen(k1) == 5 + 64);
	k = svc_keys_load(path, &e);
	CHECK(k != NULL);
	CHECK_INT(svc_keys_count(k), 2);
	CHECK_STREQ(svc_keys_check(k, k1), "alice");
	CHECK_STREQ(svc_keys_check(k, k2), "bob");
	CHECK(svc_keys_check(k, "gpak_0000") == NULL);
	CHECK(svc_keys_check(k, "") == NULL);
	k1[10] ^= 1;
	CHECK(svc_keys_check(k, k1) == NULL);
	svc_keys_free(k);
	/* The file holds hashes only: the key text is nowhere in it. */
	uint8_t *buf;
	size_t len;
	CHECK(file_read(path, 4096, &buf, &len, &e) == 0);
	CHECK(strstr((char *)buf, "gpak_") == NULL);
	free(buf);
	/* A malformed line is refused, naming the line. */
	FILE *f = fopen(path, "a");
	fputs("carol not-a-digest\n", f);
	fclose(f);
	CHECK(svc_keys_load(path, &e) == NULL);
	CHECK_CONTAINS(e.msg, "line 3");
	unlink(path);
	rmdir(dir);
}

static void test_rate_limit(void)
{
	struct svc_ratelimit *r = svc_ratelimit_new(2, 3);
	int after;

	for (int i = 0; i < 3; i++)
		CHECK(svc_ratelimit_take(r, "a", 100.0, &after));
	CHECK(!svc_ratelimit_take(r, "a", 100.0, &after));
	CHECK(after >= 1);
	CHECK(svc_ratelimit_take(r, "b", 100.0, &after));	/* another client has its own bucket */
	CHECK(svc_ratelimit_take(r, "a", 100.6, &after));	/* 0.6 s at 2/s: one more */
	CHECK(!svc_ratelimit_take(r, "a", 100.6, &after));
	/* Many clients never grow the table or break it. */
	char name[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		svc_ratelimit_take(r, name, 200.0, &after);
	}
	CHECK(svc_ratelimit_take(r, "fresh", 200.0, &after));
	svc_ratelimit_free(r);
	r = svc_ratelimit_new(0, 0);	/* unlimited */
	for (int i = 0; i < 1000; i++)
		CHECK(svc_ratelimit_take(r, "a", 1.0, &after));
	svc_ratelimit_free(r);
}

static void test_metrics_text(void)
{
	svc_metrics_request(SVC_EP_GPU, 200, 0.004);
	svc_metrics_request(SVC_EP_GPU, 400, 0.0001);
	svc_metrics_verdict(GPA_PASS);
	svc_metrics_error("audit");
	svc_metrics_cache("rim", true);
	char *t = svc_metrics_text();
	CHECK_CONTAINS(t, "gpuattest_requests_total{endpoint=\"gpu\",code=\"200\"} 1\n");
	CHECK_CONTAINS(t, "gpuattest_requests_total{endpoint=\"gpu\",code=\"400\"} 1\n");
	CHECK_CONTAINS(t, "gpuattest_verdicts_total{verdict=\"pass\"} 1\n");
	CHECK_CONTAINS(t, "gpuattest_request_duration_seconds_bucket{endpoint=\"gpu\",le=\"0.001\"} 1\n");
	CHECK_CONTAINS(t, "gpuattest_request_duration_seconds_bucket{endpoint=\"gpu\",le=\"0.005\"} 2\n");
	CHECK_CONTAINS(t, "gpuattest_request_duration_seconds_count{endpoint=\"gpu\"} 2\n");
	CHECK_CONTAINS(t, "gpuattest_collateral_cache_total{kind=\"rim\",result=\"hit\"} 1\n");
	CHECK_CONTAINS(t, "gpuattest_errors_total{kind=\"audit\"} 1\n");
	CHECK_CONTAINS(t, "# TYPE gpuattest_request_duration_seconds histogram\n");
	free(t);
}

/* A slow RIM source that counts how often each id is asked for. */
static atomic_int slow_calls;
static void slow_fetch(void *ctx, const char *const *ids, size_t n, uint8_t **bufs, size_t *lens,
    struct rim **loaded, enum gpa_fetch_status *st, char (*errs)[GPA_FETCH_ERR_LEN])
{
	(void)ctx;
	usleep(100 * 1000);
	for (size_t i = 0; i < n; i++) {
		atomic_fetch_add(&slow_calls, 1);
		if (strcmp(ids[i], "missing") == 0) {
			st[i] = GPA_FETCH_NOT_FOUND;
			snprintf(errs[i], 256, "no such RIM");
			continue;
		}
		bufs[i] = (uint8_t *)strdup(ids[i]);
		lens[i] = strlen(ids[i]);
		st[i] = GPA_FETCH_OK;
		snprintf(errs[i], 256, "slow source");
	}
}

struct fetcher {
	struct gpa_rim_provider p;
	const char *id;
	enum gpa_fetch_status st;
	char got[64];
};

static void *fetch_one(void *arg)
{
	struct fetcher *f = arg;
	const char *ids[1] = { f->id };
	uint8_t *buf = NULL;
	size_t len = 0;
	char err[1][GPA_FETCH_ERR_LEN];

	f->p.fetch(f->p.ctx, ids, 1, &buf, &len, NULL, &f->st, err);
	if (buf != NULL)
		snprintf(f->got, sizeof(f->got), "%.*s", (int)len, buf);
	free(buf);
	return NULL;
}

static void test_rim_memo_single_flight(void)
{
	struct gpa_rim_provider inner = { .name = "slow", .fetch = slow_fetch };
	struct svc_rim_memo *m = svc_rim_memo_new(&inner);
	struct fetcher f[16];
	pthread_t th[16];

	atomic_store(&slow_calls, 0);
	for (int i = 0; i < 16; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		svc_rim_memo_provider(m, &f[i].p);
		f[i].id = i % 2 ? "RIM_A" : "RIM_B";
		pthread_create(&th[i], NULL, fetch_one, &f[i]);
	}
	for (int i = 0; i < 16; i++)
		pthread_join(th[i], NULL);
	/* 16 requests at once for 2 ids: the source was asked twice. */
	CHECK_INT(atomic_load(&slow_calls), 2);
	for (int i = 0; i < 16; i++) {
		CHECK_INT(f[i].st, GPA_FETCH_OK);
		CHECK_STREQ(f[i].got, f[i].id);
	}
	/* Later requests come from memory. */
	fetch_one(&f[0]);
	CHECK_INT(atomic_load(&slow_calls), 2);
	/* A failure is not remembered: the next request asks again. */
	struct fetcher miss = { .id = "missing" };
	svc_rim_memo_provider(m, &miss.p);
	fetch_one(&miss);
	CHECK_INT(miss.st, GPA_FETCH_NOT_FOUND);
	fetch_one(&miss);
	CHECK_INT(atomic_load(&slow_calls), 4);
	svc_rim_memo_free(m);
}

static void test_request_ids_differ(void)
{
	char a[33], b[33];

	svc_request_id(a);
	svc_request_id(b);
	CHECK_INT(strlen(a), 32);
	CHECK(strcmp(a, b) != 0);
}

int main(void)
{
	RUN(test_parse_recorded_request);
	RUN(test_parse_refuses_bad_envelopes);
	RUN(test_parse_too_many_items);
	RUN(test_api_keys);
	RUN(test_rate_limit);
	RUN(test_metrics_text);
	RUN(test_rim_memo_single_flight);
	RUN(test_request_ids_differ);
	return harness_done("service");
}
