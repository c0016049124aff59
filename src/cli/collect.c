/* gpuattest collect: evidence from the live GPUs into NVIDIA's JSON format. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "collect/collect.h"

void cli_usage_collect(FILE *f)
{
	fprintf(f,
"usage: gpuattest collect -o FILE [--nonce HEX] [--gpu LIST] [--nvml-lib PATH]\n"
"\n"
"Collects a fresh attestation report and certificate chain from every GPU (all\n"
"at once, over one nonce) and writes them in NVIDIA's serialized evidence JSON:\n"
"an array of {arch, nonce, evidence, certificate, uuid}. 'gpuattest verify\n"
"--evidence FILE --nonce HEX' verifies it elsewhere, and NVIDIA's own tools\n"
"read it too. Nothing is verified here.\n"
"\n"
"  -o, --output FILE  where to write (atomically); '-' for standard output\n"
"  --nonce HEX        the 32-byte nonce to use (64 hex digits), typically one the\n"
"                     verifier chose; default: fresh from the OS random source\n"
"  --gpu LIST         only these GPUs (NVML indices, e.g. 0,3)\n"
"  --nvml-lib PATH    NVML library (default libnvidia-ml.so.1; env GPUATTEST_NVML_LIB)\n"
"\n"
"Exit codes: 0 written; 2 bad usage; 3 could not collect (no driver, GPU error).\n");
}

int cli_collect(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"nonce", required_argument, NULL, 'n'},
		{"gpu", required_argument, NULL, 'g'},
		{"nvml-lib", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct gpa_live_opts o = {0};
	const char *out = NULL;
	struct gpa_live l;
	struct gpa_err e = {{0}};
	char *json;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'n':
			if (cli_parse_nonce(optarg, o.nonce) != 0)
				return GPUATTEST_BAD_INPUT;
			o.have_nonce = true;
			break;
		case 'g': o.gpus = optarg; break;
		case 'l': o.nvml_lib = optarg; break;
		case 'h': cli_usage_collect(stdout); return 0;
		default:
			fprintf(stderr, "gpuattest collect: unknown option (see 'gpuattest help collect')\n");
			return GPUATTEST_BAD_INPUT;
		}
	}
	if (out == NULL || optind != argc) {
		cli_usage_collect(stderr);
		return GPUATTEST_BAD_INPUT;
	}
	o.progress = isatty(STDERR_FILENO);
	if (live_open(&l, &o, &e) != 0 || live_collect(&l, &o, &e) != 0) {
		fprintf(stderr, "gpuattest: %s\n", e.msg);
		live_close(&l);
		return GPUATTEST_INCOMPLETE;
	}
	if (l.set.n > 0 && l.set.items[0].not_cc) {
		fprintf(stderr, "gpuattest: the GPUs are not in confidential-computing mode (CC off, Protected PCIe off): "
		    "the driver gives no attestation evidence. GPUs seen (driver %s):\n", l.sys.driver_version);
		for (size_t i = 0; i < l.set.n; i++)
			fprintf(stderr, "  GPU %d  %s  %s  VBIOS %s\n", l.set.items[i].nvml_index, l.set.items[i].name,
			    l.set.items[i].uuid, l.set.items[i].nvml_vbios);
		live_close(&l);
		return GPUATTEST_INCOMPLETE;
	}
	json = evidence_to_json(&l.set);
	if (json == NULL) {
		fprintf(stderr, "gpuattest: out of memory\n");
		live_close(&l);
		return GPUATTEST_INCOMPLETE;
	}
	if (strcmp(out, "-") == 0) {
		rc = fputs(json, stdout) < 0 || fputc('\n', stdout) < 0 ? -1 : 0;
	} else {
		size_t n = strlen(json);
		json[n] = '\n';
		rc = file_write_atomic(out, json, n + 1, &e);
		json[n] = '\0';
		if (rc != 0)
			fprintf(stderr, "gpuattest: %s\n", e.msg);
	}
	if (rc == 0 && strcmp(out, "-") != 0) {
		char hex[2 * SPDM_NONCE_LEN + 1];
		hex_encode(l.nonce, SPDM_NONCE_LEN, hex);
		fprintf(stderr, "gpuattest: wrote evidence of %zu GPU(s) to %s (nonce %s)\n", l.set.n, out, hex);
	}
	free(json);
	live_close(&l);
	return rc == 0 ? 0 : GPUATTEST_INCOMPLETE;
}
