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
"usage: gpuattest collect -o FILE [--switch-output FILE] [--nonce HEX] [--gpu LIST]\n"
"                         [--nvml-lib PATH] [--nscq-lib PATH]\n"
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
"  --switch-output FILE\n"
"                     in Protected PCIe mode the NVSwitches' evidence (same\n"
"                     nonce, NVIDIA's format, arch LS10) goes here; default: FILE\n"
"                     with .json replaced by .nvswitch.json. Verify both with\n"
"                     'gpuattest verify --evidence FILE --switch-evidence FILE2'.\n"
"  --nscq-lib PATH    NSCQ library (default libnvidia-nscq.so.2; env GPUATTEST_NSCQ_LIB)\n"
"  --nvml-lib PATH    NVML library (default libnvidia-ml.so.1; env GPUATTEST_NVML_LIB)\n"
"\n"
"Exit codes: 0 written; 2 bad usage; 3 could not collect (no driver, GPU error).\n");
}

/* Writes one evidence file: '-' is standard output. */
static int write_evidence(const struct evidence_set *set, const char *out, struct gpa_err *e)
{
	char *json = evidence_to_json(set);
	int rc;

	if (json == NULL) {
		gpa_err_set(e, "out of memory");
		return -1;
	}
	if (strcmp(out, "-") == 0) {
		rc = fputs(json, stdout) < 0 || fputc('\n', stdout) < 0 ? -1 : 0;
		if (rc != 0)
			gpa_err_set(e, "cannot write to standard output");
	} else {
		size_t n = strlen(json);
		json[n] = '\n';
		rc = file_write_atomic(out, json, n + 1, e);
	}
	free(json);
	return rc;
}

/* GPUs to out, switches (if any) to sw_out, each in NVIDIA's format. */
static int write_split(struct gpa_live *l, const char *out, const char *sw_out, struct gpa_err *e)
{
	struct evidence_set *gpus = calloc(1, sizeof(*gpus)), *sw = calloc(1, sizeof(*sw));
	char hex[2 * SPDM_NONCE_LEN + 1];
	int rc = -1;

	if (gpus == NULL || sw == NULL) {
		gpa_err_set(e, "out of memory");
		goto out;
	}
	/* Shallow copies: the buffers stay owned by l->set. */
	for (size_t i = 0; i < l->set.n; i++) {
		struct evidence_set *to = l->set.items[i].kind == GPA_DEV_GPU ? gpus : sw;
		to->items[to->n++] = l->set.items[i];
	}
	if (write_evidence(gpus, out, e) != 0 || (sw->n > 0 && write_evidence(sw, sw_out, e) != 0))
		goto out;
	hex_encode(l->nonce, SPDM_NONCE_LEN, hex);
	if (strcmp(out, "-") != 0)
		fprintf(stderr, "gpuattest: wrote evidence of %zu GPU(s) to %s (nonce %s)\n", gpus->n, out, hex);
	if (sw->n > 0)
		fprintf(stderr, "gpuattest: wrote evidence of %zu NVSwitch(es) to %s\n", sw->n, sw_out);
	rc = 0;
out:
	free(gpus);
	free(sw);
	return rc;
}

int cli_collect(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"nonce", required_argument, NULL, 'n'},
		{"gpu", required_argument, NULL, 'g'},
		{"nvml-lib", required_argument, NULL, 'l'},
		{"nscq-lib", required_argument, NULL, 'q'},
		{"switch-output", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct gpa_live_opts o = {0};
	const char *out = NULL, *sw_out = NULL, *nscq_lib = NULL;
	char sw_default[4096];
	struct gpa_live l;
	struct gpa_err e = {{0}};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'n':
			if (cli_parse_nonce(optarg, o.nonce) != 0)
				return GPUATTEST_BAD_INPUT;
			o.have_nonce = true;
			break;
		case 'g': o.gpus = optarg; break;
		case 'l': o.nvml_lib = optarg; break;
		case 'q': nscq_lib = optarg; break;
		case 's': sw_out = optarg; break;
		case 'h': cli_usage_collect(stdout); return 0;
		default:
			return cli_bad_option("collect", c, argv);
		}
	}
	if (out == NULL || optind != argc) {
		cli_usage_collect(stderr);
		return GPUATTEST_BAD_INPUT;
	}
	o.progress = cli_progress_default(STDERR_FILENO);
	if (live_open(&l, &o, &e) != 0 || live_collect(&l, &o, &e) != 0) {
		bool usage = l.bad_selection;
		fprintf(stderr, "gpuattest: %s\n", e.msg);
		live_close(&l);
		return usage ? GPUATTEST_BAD_INPUT : GPUATTEST_INCOMPLETE;
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
	if (l.sys.multi_gpu_mode == 1 && l.sys.cc_feature != 1) {
		if (live_collect_switches(&l, nscq_lib, &e) != 0) {
			fprintf(stderr, "gpuattest: %s\n", e.msg);
			live_close(&l);
			return GPUATTEST_INCOMPLETE;
		}
		if (sw_out == NULL) {
			size_t n = strlen(out);
			if (strcmp(out, "-") == 0) {
				fprintf(stderr, "gpuattest: Protected PCIe mode: give --switch-output FILE for the NVSwitch evidence\n");
				live_close(&l);
				return GPUATTEST_BAD_INPUT;
			}
			snprintf(sw_default, sizeof(sw_default), "%.*s.nvswitch.json",
			    (int)(n > 5 && strcmp(out + n - 5, ".json") == 0 ? n - 5 : n), out);
			sw_out = sw_default;
		}
	}
	if (write_split(&l, out, sw_out, &e) != 0) {
		fprintf(stderr, "gpuattest: %s\n", e.msg);
		live_close(&l);
		return GPUATTEST_INCOMPLETE;
	}
	live_close(&l);
	return 0;
}

