/*
 * A relying-party policy's cost: NVIDIA's default policy
 * (policies/nvidia-default.rego) decided on 8 GPUs' claims, the claims of
 * NVIDIA's recorded Azure H100 eight times over with the OCSP claims of a
 * run whose answers were good (so that every rule is evaluated to the end,
 * the most expensive path: a failing device stops early). Also the load
 * (parse and check) of the policy, once per verification. Prints
 * microseconds per decision and per load. Target: a decision under 1 ms.
 *
 *   bench_policy [ITERATIONS]     (default 2000)
 * Needs ../shared (or $GPUATTEST_SHARED).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpuattest.h"
#include "policy/rppolicy.h"

#define AZ "vectors/nvidia/gpu/hopper_595.71.05_azure/gpu-evidence.json"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static const char *shared(const char *rel, char *buf, size_t n)
{
	const char *root = getenv("GPUATTEST_SHARED");
	snprintf(buf, n, "%s/%s", root && *root ? root : "../shared", rel);
	return buf;
}

/* The Azure GPU's claim set, from a real verification (revocation not
 * checked offline: the OCSP claims are then set to a good run's). */
static json_t *gpu_claims(void)
{
	gpuattest_config *cfg = gpuattest_config_new();
	gpuattest_result *res = NULL;
	char p[4096], *doc;
	json_t *d, *c = NULL;
	const char *k;
	json_t *v;

	gpuattest_config_add_rim_dir(cfg, shared("vectors/nvidia/rim/driver", p, sizeof(p)));
	gpuattest_config_add_rim_dir(cfg, shared("vectors/nvidia/rim/vbios", p, sizeof(p)));
	gpuattest_config_insecure_skip_revocation(cfg);
	gpuattest_config_offline(cfg);
	gpuattest_config_no_cache(cfg);
	gpuattest_config_insecure_accept_evidence_nonce(cfg);
	if (gpuattest_verify_evidence_file(cfg, shared(AZ, p, sizeof(p)), &res) != 0) {
		fprintf(stderr, "bench_policy: %s\n", gpuattest_config_error(cfg));
		gpuattest_config_free(cfg);
		return NULL;
	}
	doc = gpuattest_result_json(res);
	d = json_loads(doc, 0, NULL);
	if (d != NULL)
		c = json_deep_copy(json_array_get(json_object_get(d, "claims"), 0));
	json_object_foreach(c, k, v)
		if (json_is_object(v) && json_object_get(v, "x-nvidia-cert-ocsp-status") != NULL) {
			json_object_set_new(v, "x-nvidia-cert-ocsp-status", json_string("good"));
			json_object_set_new(v, "x-nvidia-cert-ocsp-nonce-matches", json_true());
			json_object_set_new(v, "x-nvidia-cert-ocsp-response-valid", json_true());
		}
	json_decref(d);
	free(doc);
	gpuattest_result_free(res);
	gpuattest_config_free(cfg);
	return c;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 2000;
	struct gpa_err e = {{0}};
	uint8_t *text;
	size_t len;
	json_t *one = gpu_claims(), *eight = json_array(), *overall = json_object();
	struct rp_policy *p;
	bool m = false;
	double t0, decide_us, load_us;

	if (iters < 1 || one == NULL) {
		fprintf(stderr, "bench_policy: needs ../shared (vectors/nvidia)\n");
		return 2;
	}
	for (int i = 0; i < 8; i++)
		json_array_append_new(eight, json_deep_copy(one));
	if (file_read("policies/nvidia-default.rego", 1 << 20, &text, &len, &e) != 0 ||
	    (p = rp_policy_load((const char *)text, len, "nvidia-default.rego", &e)) == NULL) {
		fprintf(stderr, "bench_policy: %s\n", e.msg);
		return 2;
	}
	if (rp_policy_decide(p, eight, overall, 0, &m, &e) != 0 || !m) {
		fprintf(stderr, "bench_policy: the default policy does not hold on the claims: %s\n", e.msg);
		return 1;
	}
	t0 = now_us();
	for (long i = 0; i < iters; i++)
		if (rp_policy_decide(p, eight, overall, 0, &m, &e) != 0 || !m)
			return 1;
	decide_us = (now_us() - t0) / (double)iters;
	t0 = now_us();
	for (long i = 0; i < iters; i++) {
		struct rp_policy *q = rp_policy_load((const char *)text, len, "nvidia-default.rego", &e);
		if (q == NULL)
			return 1;
		rp_policy_free(q);
	}
	load_us = (now_us() - t0) / (double)iters;
	printf("bench_policy: NVIDIA's default policy on 8 GPUs' claims, %ld iterations: decision %.1f us (target < 1000 us), load %.1f us (%zu bytes)\n",
	    iters, decide_us, load_us, len);
	rp_policy_free(p);
	free(text);
	json_decref(one);
	json_decref(eight);
	json_decref(overall);
	return 0;
}
