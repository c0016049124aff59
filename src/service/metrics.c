/*
 * Prometheus metrics of one serve process (text exposition format 0.0.4):
 * requests by endpoint and status code, verdicts, a latency histogram by
 * endpoint, collateral memory hits and misses, errors by kind. Counters
 * live in one table under a mutex; a scrape copies them out.
 */
#include "service/service.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))
#define NCODES 8
#define NERRKINDS 12

static const char *const ep_names[SVC_EP_COUNT] = {
	"gpu", "switch", "ear-gpu", "ear-switch", "jwks", "health", "metrics", "other",
};

static struct {
	pthread_mutex_t mu;
	struct { int code; unsigned long n; } codes[SVC_EP_COUNT][NCODES];
	unsigned long hist[SVC_EP_COUNT][NBUCKETS + 1];
	double sum[SVC_EP_COUNT];
	unsigned long count[SVC_EP_COUNT];
	unsigned long verdicts[4];
	unsigned long cache_hit[2], cache_miss[2];
	struct { const char *kind; unsigned long n; } errors[NERRKINDS];
} M = { .mu = PTHREAD_MUTEX_INITIALIZER };

const char *svc_endpoint_name(enum svc_endpoint ep)
{
	return ep < SVC_EP_COUNT ? ep_names[ep] : "other";
}

void svc_metrics_request(enum svc_endpoint ep, int status, double seconds)
{
	size_t b = 0;

	if (ep >= SVC_EP_COUNT)
		ep = SVC_EP_OTHER;
	while (b < NBUCKETS && seconds > buckets[b])
		b++;
	pthread_mutex_lock(&M.mu);
	for (int i = 0; i < NCODES; i++) {
		if (M.codes[ep][i].code == status || M.codes[ep][i].code == 0) {
			M.codes[ep][i].code = status;
			M.codes[ep][i].n++;
			break;
		}
	}
	M.hist[ep][b]++;
	M.sum[ep] += seconds;
	M.count[ep]++;
	pthread_mutex_unlock(&M.mu);
}

void svc_metrics_verdict(enum gpa_verdict v)
{
	pthread_mutex_lock(&M.mu);
	if ((unsigned)v < 4)
		M.verdicts[v]++;
	pthread_mutex_unlock(&M.mu);
}

void svc_metrics_error(const char *kind)
{
	pthread_mutex_lock(&M.mu);
	for (int i = 0; i < NERRKINDS; i++) {
		if (M.errors[i].kind == NULL || strcmp(M.errors[i].kind, kind) == 0) {
			M.errors[i].kind = kind;
			M.errors[i].n++;
			break;
		}
	}
	pthread_mutex_unlock(&M.mu);
}

void svc_metrics_cache(const char *kind, bool hit)
{
	int k = strcmp(kind, "rim") == 0 ? 0 : 1;

	pthread_mutex_lock(&M.mu);
	if (hit)
		M.cache_hit[k]++;
	else
		M.cache_miss[k]++;
	pthread_mutex_unlock(&M.mu);
}

struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		char *np = n < 0 ? NULL : realloc(b->p, b->cap * 2 + (size_t)n);
		if (np == NULL) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

char *svc_metrics_text(void)
{
	static const char *const vnames[4] = { "pass", "fail", "bad-input", "incomplete" };
	struct buf b = { .p = malloc(8192), .cap = 8192 };

	if (b.p == NULL)
		return NULL;
	b.p[0] = '\0';
	pthread_mutex_lock(&M.mu);
	put(&b, "# HELP gpuattest_requests_total HTTP requests answered, by endpoint and status code.\n"
	    "# TYPE gpuattest_requests_total counter\n");
	for (int ep = 0; ep < SVC_EP_COUNT; ep++)
		for (int i = 0; i < NCODES && M.codes[ep][i].code; i++)
			put(&b, "gpuattest_requests_total{endpoint=\"%s\",code=\"%d\"} %lu\n", ep_names[ep],
			    M.codes[ep][i].code, M.codes[ep][i].n);
	put(&b, "# HELP gpuattest_verdicts_total Verifications recorded and answered, by verdict.\n"
	    "# TYPE gpuattest_verdicts_total counter\n");
	for (int v = 0; v < 4; v++)
		put(&b, "gpuattest_verdicts_total{verdict=\"%s\"} %lu\n", vnames[v], M.verdicts[v]);
	put(&b, "# HELP gpuattest_request_duration_seconds Time from the request's first byte to its answer.\n"
	    "# TYPE gpuattest_request_duration_seconds histogram\n");
	for (int ep = 0; ep < SVC_EP_COUNT; ep++) {
		unsigned long cum = 0;
		if (M.count[ep] == 0)
			continue;
		for (size_t i = 0; i < NBUCKETS; i++) {
			cum += M.hist[ep][i];
			put(&b, "gpuattest_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %lu\n",
			    ep_names[ep], buckets[i], cum);
		}
		put(&b, "gpuattest_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %lu\n",
		    ep_names[ep], M.count[ep]);
		put(&b, "gpuattest_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n", ep_names[ep], M.sum[ep]);
		put(&b, "gpuattest_request_duration_seconds_count{endpoint=\"%s\"} %lu\n", ep_names[ep],
		    M.count[ep]);
	}
	put(&b, "# HELP gpuattest_collateral_cache_total Lookups in the process's collateral memory.\n"
	    "# TYPE gpuattest_collateral_cache_total counter\n");
	for (int k = 0; k < 2; k++) {
		const char *kn = k == 0 ? "rim" : "ocsp";
		put(&b, "gpuattest_collateral_cache_total{kind=\"%s\",result=\"hit\"} %lu\n", kn, M.cache_hit[k]);
		put(&b, "gpuattest_collateral_cache_total{kind=\"%s\",result=\"miss\"} %lu\n", kn, M.cache_miss[k]);
	}
	put(&b, "# HELP gpuattest_errors_total Requests that failed for a reason of the service's, by kind.\n"
	    "# TYPE gpuattest_errors_total counter\n");
	for (int i = 0; i < NERRKINDS && M.errors[i].kind; i++)
		put(&b, "gpuattest_errors_total{kind=\"%s\"} %lu\n", M.errors[i].kind, M.errors[i].n);
	pthread_mutex_unlock(&M.mu);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
