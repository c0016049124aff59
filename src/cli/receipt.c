/*
 * verify --receipt FILE (write one) and verify --check-receipt FILE
 * (re-verify one offline at its recorded time): the CLI side of
 * api/receipt.h.
 */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/receipt.h"

void cli_usage_verify_receipts(FILE *f)
{
	fputs(
"\n"
"Audit receipts:\n"
"  --receipt FILE       after the verification, write one self-contained receipt\n"
"                       (atomically): the evidence, every RIM and OCSP answer\n"
"                       used, the anchors' fingerprints, the options and\n"
"                       weakenings in force, the time, the verdict with checks and\n"
"                       claims, and the --result-token when one is made. Format:\n"
"                       docs/receipts.md. Written for every verdict, failures too.\n"
"  --check-receipt FILE re-verify a receipt: offline, at its recorded time, from\n"
"                       what it carries alone, trusting only NVIDIA's pinned roots\n"
"                       and the anchors you name (--trust-anchor; never one the\n"
"                       receipt carries). Says whether the recorded verdict is\n"
"                       reproduced: exit 0 reproduced (whatever verdict it records),\n"
"                       1 not reproduced or the file was changed, 2 not a receipt of\n"
"                       a format version this gpuattest reads, 3 an anchor it names\n"
"                       was not given. It never attests anything live: use it to\n"
"                       audit, never to gate a workload.\n", f);
}

static char *read_token(const char *path)
{
	uint8_t *buf;
	size_t len;
	struct gpa_err e;

	if (path == NULL || strcmp(path, "-") == 0 || file_read(path, 1u << 20, &buf, &len, &e) != 0)
		return NULL;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return (char *)buf;
}

int cli_receipt_emit(gpuattest_config *cfg, const gpuattest_result *res, const char *path,
    const char *token_path)
{
	char *token = read_token(token_path);
	int rc = api_receipt_write(cfg, res, token, path);

	free(token);
	if (rc != 0) {
		fprintf(stderr, "gpuattest: the receipt could not be written: %s\n", gpuattest_config_error(cfg));
		return GPUATTEST_INCOMPLETE;
	}
	fprintf(stderr, "gpuattest: receipt written to %s\n", path);
	return 0;
}

static const char *verdict_word(int v)
{
	switch (v) {
	case 0: return "verified";
	case 1: return "failed";
	case 2: return "bad input";
	case 3: return "could not complete";
	}
	return "unknown";
}

static void print_check_text(const char *path, const struct gpa_receipt_check *k)
{
	size_t i;
	json_t *d;

	printf("Receipt %s: written %s, verification time %s.\n", path, k->written, k->verified_at);
	printf("Re-verified offline at its recorded time from the evidence, RIMs and OCSP answers it "
	    "carries (OCSP answers judged as offline collateral).\n");
	json_array_foreach(k->differences, i, d)
		printf("  differs: %s\n", json_string_value(d));
	if (k->reproduced)
		printf("RECEIPT VERIFIED: the recorded verdict (%s, exit %d) is reproduced.\n",
		    verdict_word(k->recorded_verdict), k->recorded_verdict);
	else
		printf("RECEIPT NOT REPRODUCED: it records %s (exit %d), re-verification gives %s (exit %d).\n",
		    verdict_word(k->recorded_verdict), k->recorded_verdict, verdict_word(k->verdict), k->verdict);
}

static void print_check_json(const char *path, const struct gpa_receipt_check *k, int rc, const char *error)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "receipt", json_string(path));
	json_object_set_new(o, "exit_code", json_integer(rc));
	if (error != NULL) {
		json_object_set_new(o, "error", json_string(error));
	} else {
		json_object_set_new(o, "reproduced", json_boolean(k->reproduced));
		json_object_set_new(o, "recorded_verdict", json_integer(k->recorded_verdict));
		json_object_set_new(o, "reverified_verdict", json_integer(k->verdict));
		json_object_set_new(o, "written", json_string(k->written));
		json_object_set_new(o, "verified_at", json_string(k->verified_at));
		json_object_set(o, "differences", k->differences);
		json_object_set(o, "result", k->result);
	}
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

int cli_receipt_check(gpuattest_config *cfg, const char *path, bool json, bool quiet)
{
	struct gpa_receipt_check k;
	int rc = api_receipt_check(cfg, path, &k);

	if (rc != 0) {
		fprintf(stderr, "gpuattest: %s\n", gpuattest_config_error(cfg));
		if (json)
			print_check_json(path, &k, rc, gpuattest_config_error(cfg));
		api_receipt_check_clear(&k);
		return rc;
	}
	rc = k.reproduced ? 0 : GPUATTEST_FAILED;
	if (json)
		print_check_json(path, &k, rc, NULL);
	else if (!quiet)
		print_check_text(path, &k);
	if (quiet && rc != 0)
		fprintf(stderr, "gpuattest: receipt %s: the recorded verdict is not reproduced\n", path);
	api_receipt_check_clear(&k);
	return rc;
}
