/* gpuattest inspect: every field of a recorded report and its certificates. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "evidence/evidence.h"
#include "inspect/inspect.h"
#include "spdm/spdm.h"
#include "x509/x509.h"

void cli_usage_inspect(FILE *f)
{
	fprintf(f,
"usage: gpuattest inspect FILE|- [--cert-chain PEM] [--switch] [--format text|json]\n"
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
"                     binary or hex text; - reads it from standard input, e.g.\n"
"                     gpuattest collect -o - | gpuattest inspect -\n"
"  --cert-chain PEM   the chain of a raw report (optional)\n"
"  --switch           FILE holds NVSwitch evidence. Not needed: each entry is\n"
"                     recognised by itself (arch LS10, an LS_10 BROM certificate,\n"
"                     or a report that reads only as a switch's)\n"
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

	const char *name = strcmp(path, "-") == 0 ? "standard input" : path;

	if (evidence_read_input(path, GPA_EVIDENCE_MAX_FILE, &buf, &len, e) != 0)
		return -1;
	while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
		i++;
	if (i < len && (buf[i] == '[' || buf[i] == '{'))
		rc = evidence_parse_json(buf, len, kind, set, e);
	else
		rc = evidence_load_raw_buffer(name, buf, len, chain, kind, set, e);
	if (rc != 0 && i < len && (buf[i] == '[' || buf[i] == '{'))
		gpa_err_prefix(e, "%s", name);
	free(buf);
	return rc;
}

/* Whether the report reads as a device of this kind, opaque data included. */
static bool reads_as(const struct evidence_item *it, enum gpa_device_kind kind)
{
	struct spdm_report *r = calloc(1, sizeof(*r));
	struct report_info info;
	struct gpa_err e = {{0}};
	bool ok;

	if (r == NULL)
		return false;
	ok = spdm_parse_report(it->report, it->report_len, kind, r, &e) == 0 &&
	    report_info_derive(r, &info, &e) == 0;
	free(r);
	return ok;
}

/* NVSwitch or GPU, by the entry itself: the file's arch, else the BROM
 * certificate's model, else the one reading of the report that works. */
static enum gpa_device_kind entry_kind(const struct evidence_item *it)
{
	struct gpa_err e = {{0}};
	STACK_OF(X509) *chain;
	enum gpa_arch a = GPA_ARCH_UNKNOWN;

	if (it->arch[0] != '\0')
		return arch_from_string(it->arch) == GPA_ARCH_LS10 ? GPA_DEV_SWITCH : GPA_DEV_GPU;
	if (it->chain_pem != NULL && (chain = chain_from_pem(it->chain_pem, it->chain_len, 8, &e)) != NULL) {
		if (sk_X509_num(chain) >= 2) {
			char *cn = cert_subject_cn(sk_X509_value(chain, 1));
			a = arch_from_hwmodel(cn);
			free(cn);
		}
		sk_X509_pop_free(chain, X509_free);
		if (a != GPA_ARCH_UNKNOWN)
			return a == GPA_ARCH_LS10 ? GPA_DEV_SWITCH : GPA_DEV_GPU;
	}
	return !reads_as(it, GPA_DEV_GPU) && reads_as(it, GPA_DEV_SWITCH) ? GPA_DEV_SWITCH : GPA_DEV_GPU;
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
	bool kind_given = false;
	struct evidence_set set;
	struct gpa_err e = {{0}};
	json_t *devs;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'c': chain = optarg; break;
		case 's': kind = GPA_DEV_SWITCH; kind_given = true; break;
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
	for (size_t i = 0; i < set.n && !kind_given; i++)
		set.items[i].kind = entry_kind(&set.items[i]);
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
			printf("%s== %s %zu ==\n%s", i ? "\n" : "",
			    set.items[i].kind == GPA_DEV_GPU ? "GPU" : "NVSwitch", i, txt ? txt : "");
			free(txt);
		}
	}
	json_decref(devs);
	evidence_set_clear(&set);
	return rc;
}
