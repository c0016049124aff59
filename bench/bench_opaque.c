/*
 * The part of verification that differs between the two opaque-data
 * layouts: spdm_parse_report + report_info_derive of a legacy report
 * (NVIDIA's Azure H100, 595.71.05) and of an NVDAOD one (NVIDIA's 620.12
 * transcript), many times each. Everything after the parse (signature,
 * chains, RIMs) is the same work for both. Prints microseconds per report.
 *
 *   bench_opaque [ITERATIONS]     (default 200000)
 * Needs ../shared (or $GPUATTEST_SHARED).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "evidence/evidence.h"
#include "spdm/spdm.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int load(const char *rel, uint8_t **buf, size_t *len)
{
	const char *root = getenv("GPUATTEST_SHARED");
	char path[4096];
	struct gpa_err e = {{0}};
	uint8_t *raw;
	size_t rawlen;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", root && *root ? root : "../shared", rel);
	if (file_read(path, 1 << 16, &raw, &rawlen, &e) != 0) {
		fprintf(stderr, "bench_opaque: %s\n", e.msg);
		return -1;
	}
	rc = report_bytes_decode(raw, rawlen, buf, len, &e);
	free(raw);
	return rc;
}

static double per_report(const uint8_t *buf, size_t len, long iters)
{
	static struct spdm_report r;
	struct report_info info;
	struct gpa_err e;
	double t0 = now_us();

	for (long i = 0; i < iters; i++)
		if (spdm_parse_report(buf, len, GPA_DEV_GPU, &r, &e) != 0 ||
		    report_info_derive(&r, &info, &e) != 0) {
			fprintf(stderr, "bench_opaque: %s\n", e.msg);
			exit(1);
		}
	return (now_us() - t0) / (double)iters;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 200000;
	uint8_t *legacy, *nvdaod;
	size_t llen, nlen;

	if (iters < 1 || load("vectors/nvidia/gpu/hopper_595.71.05_azure/attestation_report.bin", &legacy, &llen) != 0 ||
	    load("vectors/nvidia-2.0/gpu/sample_nvdaod_transcript.txt", &nvdaod, &nlen) != 0) {
		fprintf(stderr, "bench_opaque: needs ../shared (vectors/nvidia and vectors/nvidia-2.0)\n");
		return 2;
	}
	per_report(legacy, llen, iters / 10);	/* warm up */
	double l = per_report(legacy, llen, iters), n = per_report(nvdaod, nlen, iters);
	printf("bench_opaque: parse + derive per report, %ld iterations: legacy %.2f us (%zu bytes), NVDAOD %.2f us (%zu bytes)\n",
	    iters, l, llen, n, nlen);
	free(legacy);
	free(nvdaod);
	return 0;
}
