/*
 * Verifies the recorded Azure H100 evidence (gpu/hopper_595.71.05_azure,
 * both RIMs from a directory, both RIM signatures and all chains checked,
 * revocation skipped) many times in one process. Reports the time per GPU
 * and the peak resident memory of the process.
 *
 *   bench_verify [ITERATIONS]     (default 200)
 * Needs ../shared (or $GPUATTEST_SHARED). Writes nothing outside a
 * temporary cache directory of its own (removed at exit): never the
 * user's or the system's cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <time.h>

#include "gpuattest.h"
#include "x509/x509.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double run(gpuattest_config *cfg, const char *evidence, const char *rims, int iters,
    double *first)
{
	double t0 = now_ms();

	for (int i = 0; i < iters; i++) {
		gpuattest_result *res;
		double t1 = now_ms();
		if (gpuattest_verify_evidence_file(cfg, evidence, &res) != 0) {
			fprintf(stderr, "bench_verify: %s\n", gpuattest_config_error(cfg));
			exit(2);
		}
		if (gpuattest_result_verdict(res) != GPUATTEST_VERIFIED) {
			fprintf(stderr, "bench_verify: the Azure case did not verify (RIMs in %s?)\n", rims);
			exit(1);
		}
		gpuattest_result_free(res);
		if (i == 0 && first != NULL)
			*first = now_ms() - t1;
	}
	return (now_ms() - t0) / iters;
}

/* The cache directory this run made: its rims/by-id, rims, ocsp and any
 * file in them (with RIMs from a directory and no OCSP, normally none). */
static void remove_tree(const char *dir)
{
	static const char *const subs[] = { "rims/by-id", "rims", "ocsp", "" };
	char p[4200];

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, subs[i]);
		if (rmdir(p) != 0)
			fprintf(stderr, "bench_verify: note: %s left behind (not empty?)\n", p);
	}
}

int main(int argc, char **argv)
{
	const char *shared = getenv("GPUATTEST_SHARED");
	char evidence[4096], rims[4096];
	int iters = argc > 1 ? atoi(argv[1]) : 200;
	double first = 0, cold, warm;
	unsigned long hits, misses;
	struct rusage ru;

	if (shared == NULL || *shared == '\0')
		shared = "../shared";
	snprintf(evidence, sizeof(evidence), "%s/vectors/nvidia/gpu/hopper_595.71.05_azure/gpu-evidence.json", shared);
	snprintf(rims, sizeof(rims), "%s", argc > 2 ? argv[2] : "bench/rims");
	if (iters < 1)
		iters = 1;
	char cache[] = "/tmp/bench_verify.XXXXXX";
	if (mkdtemp(cache) == NULL) {
		perror("bench_verify: mkdtemp");
		return 2;
	}
	gpuattest_config *cfg = gpuattest_config_new();
	gpuattest_config_set_cache_dir(cfg, cache);
	gpuattest_config_add_rim_dir(cfg, rims);
	gpuattest_config_insecure_skip_revocation(cfg);
	gpuattest_config_set_time(cfg, 1795824000);	/* 2026-11-28T00:00:00Z */
	/* The nonce the Azure evidence was collected with, as a verifier knows it. */
	static const uint8_t azure_nonce[32] = {
		0x69, 0x0b, 0xb5, 0x1b, 0x90, 0x43, 0x51, 0xe2, 0x81, 0x00, 0xa0, 0x61, 0x0f, 0xe6, 0x06, 0x24,
		0x25, 0x5c, 0x26, 0xd7, 0xd3, 0x8c, 0x53, 0xfb, 0x12, 0x85, 0xec, 0xfe, 0xd1, 0xca, 0xb1, 0x7a,
	};
	gpuattest_config_set_nonce(cfg, azure_nonce, sizeof(azure_nonce));

	/* Cold: every certificate and RIM signature recomputed every time. */
	sigcache_set_enabled(false);
	cold = run(cfg, evidence, rims, iters, &first);
	/* Warm: signatures already verified in this process are remembered,
	 * as when 8 GPUs share chains and RIMs or a verifier runs for long. */
	sigcache_set_enabled(true);
	warm = run(cfg, evidence, rims, iters, NULL);
	sigcache_stats(&hits, &misses);
	getrusage(RUSAGE_SELF, &ru);
	printf("bench_verify: Azure H100 evidence, 2 RIMs from a directory, all checks but OCSP, %d iterations each\n", iters);
	printf("bench_verify: cold (signature memory off, parsed certificates shared): %.2f ms per GPU (first call %.2f ms)\n",
	    cold, first);
	printf("bench_verify: warm (signature memory):    %.2f ms per GPU (%lu hits, %lu misses)\n", warm, hits, misses);
	printf("bench_verify: peak RSS %.1f MB\n", ru.ru_maxrss / 1024.0);
	gpuattest_config_free(cfg);
	remove_tree(cache);
	return 0;
}
