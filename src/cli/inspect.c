/* gpuattest inspect: every field of a recorded report and its certificates. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "evidence/evidence.h"
#include "inspect/inspect.h"

void cli_usage_inspect(FILE *f)
{
	fprintf(f,
"usage: gpuattest inspect FILE [--cert-chain PEM] [--switch] [--format text|json]\n"
"\n"
"Prints every parsed field of an attestation report: SPDM request and response\n"
"headers, the nonce, every measurement block by SPDM index (lowercase hex), every\n"
"opaque field by NVIDIA's name (raw and decoded), the opaque-data layout\n"
"(legacy TLVs or versioned NVDAOD) with its version, every opaque entry in order\n"
"with its id, value type and size (ids NVIDIA has not named as TYPE_<n>), the\n"
"driver and VBIOS versions and the RIM ids verification will need, the FWID,\n"
"and each certificate's subject, validity, hwmodel and ueid. Nothing is\n"
"verified: use 'verify' for that.\n"
"\n"
"  FILE               evidence JSON (every entry is shown), or one raw report,\n"
"                     binary or hex text\n"
"  --cert-chain PEM   the chain of a raw report (optional)\n"
"  --switch           FILE holds NVSwitch evidence (default: GPU)\n"
"  --format json      one JSON document: {\"devices\": [...]}\n"
"\n"
"Exit status: 0 shown, 2 unreadable or malformed, 3 the opaque data is of a\n"
"version newer than this gpuattest reads (its header is shown, and why).\n");
}

static int load_for_inspect(const char *path, const char *chain, enum gpa_device_kind kind,
    struct evidence_set *set, struct gpa_err *e)
{
	uint8_t *buf;
	size_t len, i = 0;
	int rc;

	if (file_read(path, GPA_EVIDENCE_MAX_FILE, &buf, &len, e) != 0)
		return -1;
	while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
		i++;
	if (i < len && (buf[i] == '[' || buf[i] == '{')) {
		rc = evidence_parse_json(buf, len, kind, set, e);
		if (rc != 0)
			gpa_err_prefix(e, "%s", path);
		free(buf);
		return rc;
	}
	free(buf);
	return evidence_load_raw(path, chain, kind, set, e);
}

int cli_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{"cert-chain", required_argument, NULL, 'c'},
		{"switch", no_argument, NULL, 's'},
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *chain = NULL, *format = "text";
	enum gpa_device_kind kind = GPA_DEV_GPU;
	struct evidence_set set;
	struct gpa_err e = {{0}};
	json_t *devs;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'c': chain = optarg; break;
		case 's': kind = GPA_DEV_SWITCH; break;
		case 'f': format = optarg; break;
		case 'h': cli_usage_inspect(stdout); return 0;
		default: return cli_bad_option("inspect", c, argv);
		}
	}
	if (optind + 1 != argc || (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)) {
		cli_usage_inspect(stderr);
		return GPUATTEST_BAD_INPUT;
	}
	if (load_for_inspect(argv[optind], chain, kind, &set, &e) != 0) {
		fprintf(stderr, "gpuattest: %s\n", e.msg);
		return GPUATTEST_BAD_INPUT;
	}
	devs = json_array();
	for (size_t i = 0; i < set.n; i++) {
		json_t *doc = inspect_item_json(&set.items[i], &e);
		if (doc == NULL) {
			fprintf(stderr, "gpuattest: %s: entry %zu: %s\n", argv[optind], i, e.msg);
			rc = GPUATTEST_BAD_INPUT;
			break;
		}
		/* Shown, but a chain that does not parse is still bad input. */
		if (json_object_get(doc, "chain_error") != NULL) {
			fprintf(stderr, "gpuattest: %s: entry %zu: certificate chain: %s\n", argv[optind], i,
			    json_string_value(json_object_get(doc, "chain_error")));
			rc = GPUATTEST_BAD_INPUT;
		}
		/* Shown as far as it goes; verify would say "could not complete". */
		if (json_object_get(doc, "unsupported") != NULL) {
			fprintf(stderr, "gpuattest: %s: entry %zu: %s\n", argv[optind], i,
			    json_string_value(json_object_get(doc, "unsupported")));
			if (rc == 0)
				rc = GPUATTEST_INCOMPLETE;
		}
		json_array_append_new(devs, doc);
	}
	if (json_array_size(devs) > 0 && strcmp(format, "json") == 0) {
		json_t *root = json_pack("{s:o}", "devices", devs);
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(root);
		devs = NULL;
	} else {
		for (size_t i = 0; i < json_array_size(devs); i++) {
			char *txt = inspect_text(json_array_get(devs, i));
			printf("%s== %s %zu ==\n%s", i ? "\n" : "", kind == GPA_DEV_GPU ? "GPU" : "NVSwitch",
			    i, txt ? txt : "");
			free(txt);
		}
	}
	json_decref(devs);
	evidence_set_clear(&set);
	return rc;
}
