/*
 * A program as an embedder writes it: only <gpuattest.h> and the flags
 * `pkg-config gpuattest` gives. Verifies recorded evidence with RIMs from a
 * directory, revocation off, at a fixed instant.
 *
 *	embed EVIDENCE RIMDIR EPOCH
 *
 * Prints "verdict N genuine M json OK" and exits with the verdict.
 */
#include <gpuattest.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	gpuattest_config *cfg;
	gpuattest_result *res;
	char *json;
	int verdict;

	if (argc != 4) {
		fprintf(stderr, "usage: embed EVIDENCE RIMDIR EPOCH\n");
		return 2;
	}
	cfg = gpuattest_config_new();
	if (cfg == NULL || gpuattest_config_add_rim_dir(cfg, argv[2]) != 0 ||
	    gpuattest_config_insecure_skip_revocation(cfg) != 0 ||
	    /* a recorded file whose nonce this program did not choose */
	    gpuattest_config_insecure_accept_evidence_nonce(cfg) != 0 ||
	    gpuattest_config_set_time(cfg, (time_t)strtoll(argv[3], NULL, 10)) != 0) {
		fprintf(stderr, "embed: configuration failed\n");
		return 2;
	}
	if (gpuattest_verify_evidence_file(cfg, argv[1], &res) != 0) {
		fprintf(stderr, "embed: %s\n", gpuattest_config_error(cfg));
		gpuattest_config_free(cfg);
		return 2;
	}
	verdict = gpuattest_result_verdict(res);
	json = gpuattest_result_json(res);
	printf("verdict %d genuine %d json %s\n", verdict, gpuattest_result_genuine_gpus(res),
	    json != NULL && json[0] == '{' ? "OK" : "MISSING");
	free(json);
	gpuattest_result_free(res);
	gpuattest_config_free(cfg);
	return verdict;
}
