/*
 * verify --verifier both: the local appraisal and NRAS's verified answer
 * on the same evidence, compared device by device. They must agree on each
 * device's verdict and on every claim both computed; each disagreement is
 * named with both values. No peer verifier does this cross-check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/remote_internal.h"
#include "token/token.h"

/* Not compared: the token's own claims (each side mints its own), and the
 * mismatch records, whose shapes differ between verifiers (we add every
 * golden alternative); measres and the verdict already say whether there
 * were mismatches. */
static const char *const not_compared[] = {
	"iss", "iat", "nbf", "exp", "jti", "x-nvidia-mismatch-measurement-records", NULL,
};

static bool skip_key(const char *k)
{
	if (strncmp(k, "x-gpuattest-", 12) == 0)
		return true;
	for (int i = 0; not_compared[i] != NULL; i++)
		if (strcmp(k, not_compared[i]) == 0)
			return true;
	return false;
}

/* A value one side did not compute. */
static bool not_computed(const json_t *v)
{
	return v == NULL || json_is_null(v) ||
	    (json_is_string(v) && strcmp(json_string_value(v), "not-checked") == 0);
}

static void add_disagreement(json_t *list, const char *label, const char *claim, const json_t *l,
    const json_t *n)
{
	json_array_append_new(list, json_pack("{s:s,s:s,s:O,s:O}", "device", label, "claim", claim,
	    "local", l, "nras", n));
}

static void compare_objects(const json_t *local, const json_t *nras, const char *label, const char *prefix,
    json_t *list, int *ncompared)
{
	const char *k;
	const json_t *lv;

	/* A chain whose revocation was not checked here: its OCSP claims are
	 * placeholders, not findings. */
	const char *ocsp = json_string_value(json_object_get(local, "x-nvidia-cert-ocsp-status"));
	bool no_ocsp = ocsp != NULL && strcmp(ocsp, "not-checked") == 0;

	json_object_foreach((json_t *)local, k, lv) {
		const json_t *nv = json_object_get(nras, k);
		char path[256];

		if (skip_key(k) || not_computed(lv) || not_computed(nv) ||
		    (no_ocsp && (strncmp(k, "x-nvidia-cert-ocsp", 18) == 0 ||
		    strcmp(k, "x-nvidia-cert-revocation-reason") == 0)))
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", k);
		if (json_is_object(lv) && json_is_object(nv)) {
			compare_objects(lv, nv, label, path, list, ncompared);
			continue;
		}
		(*ncompared)++;
		if (!json_equal(lv, nv))
			add_disagreement(list, label, path, lv, nv);
	}
}

/* Every device of the local appraisal against NRAS's result of the same
 * label; disagreements into list. */
static int compare_all(const gpuattest_result *res, const struct remote *r, json_t *list)
{
	int n[2] = {0, 0}, ncompared = 0;

	for (size_t i = 0; i < res->a.n; i++) {
		const struct gpa_device_result *d = &res->a.dev[i];
		int k = d->kind == GPA_DEV_SWITCH;
		const json_t *nc;
		json_t *lc;
		char label[32];
		struct gpa_err de = {{0}};
		bool lpass, npass;

		token_submod_label(d->kind, n[k]++, label);
		if (!r->part[k].asked || r->part[k].res.claims == NULL)
			continue;
		nc = json_object_get(json_object_get(r->part[k].res.claims, "submods"), label);
		if (nc == NULL)
			continue;	/* count_check has failed the remote side already */
		lpass = d->verdict == GPA_PASS;
		npass = token_device_claims_pass(nc, &de) == GPA_PASS;
		if (lpass != npass) {
			json_t *lv = json_string(lpass ? "pass" : "fail");
			json_t *nv = json_string(npass ? "pass" : de.msg);
			add_disagreement(list, label, "verdict", lv, nv);
			json_decref(lv);
			json_decref(nv);
		}
		lc = claims_device_json(&res->a, d);
		compare_objects(lc, nc, label, "", list, &ncompared);
		json_decref(lc);
	}
	return ncompared;
}

static void print_disagreements(FILE *f, const json_t *list)
{
	size_t i;
	const json_t *d;

	json_array_foreach((json_t *)list, i, d) {
		char *l = json_dumps(json_object_get(d, "local"), JSON_ENCODE_ANY | JSON_COMPACT);
		char *n = json_dumps(json_object_get(d, "nras"), JSON_ENCODE_ANY | JSON_COMPACT);
		fprintf(f, "  %s: %s: local %s, NRAS %s\n", json_string_value(json_object_get(d, "device")),
		    json_string_value(json_object_get(d, "claim")), l ? l : "?", n ? n : "?");
		free(l);
		free(n);
	}
}

static void print_both_json(const gpuattest_result *res, const struct remote *r, const json_t *list,
    enum gpa_verdict v)
{
	char *ltxt = gpuattest_result_json(res), *t;
	json_t *doc = json_object(), *local = ltxt ? json_loads(ltxt, 0, NULL) : NULL;

	free(ltxt);
	json_object_set_new(doc, "schema_version", json_string(GPUATTEST_SCHEMA_VERSION));
	json_object_set_new(doc, "result", json_string(v == GPA_PASS ? "pass" : v == GPA_FAIL ? "fail" :
	    v == GPA_BAD_INPUT ? "bad-input" : "incomplete"));
	json_object_set_new(doc, "exit_code", json_integer(v));
	json_object_set_new(doc, "verifier", json_string("both"));
	json_object_set_new(doc, "disagreements", json_incref((json_t *)list));
	json_object_set_new(doc, "local", local ? local : json_null());
	json_object_set_new(doc, "nras", remote_json(r));
	t = json_dumps(doc, JSON_INDENT(2));
	if (t)
		printf("%s\n", t);
	free(t);
	json_decref(doc);
}

int cli_remote_both(gpuattest_config *cfg, const struct cli_remote_opts *o, gpuattest_result *res,
    const struct cli_remote_input *in)
{
	struct remote r;
	struct gpa_err e = {{0}};
	uint8_t nonce[SPDM_NONCE_LEN];
	json_t *list = json_array();
	enum gpa_verdict v;
	int ncompared;
	char *txt;

	if (list == NULL || remote_setup(cfg, o, &r, &e) != 0 ||
	    hex_decode(res->a.nonce_hex, strlen(res->a.nonce_hex), nonce, sizeof(nonce), false) != SPDM_NONCE_LEN) {
		fprintf(stderr, "gpuattest: %s\n", e.msg[0] ? e.msg : "no nonce to send to NRAS");
		json_decref(list);
		return GPUATTEST_BAD_INPUT;
	}
	/* The same evidence and the same nonce the local verdict judged. */
	remote_run(&r, &res->set, nonce, cfg->claims_version);
	ncompared = compare_all(res, &r, list);
	v = worst(worst(res->a.verdict, r.v), json_array_size(list) > 0 ? GPA_FAIL : GPA_PASS);
	if (in->json && !in->quiet) {
		print_both_json(res, &r, list, v);
	} else if (!in->quiet) {
		if ((txt = gpuattest_result_text(res, in->color)) != NULL)
			fputs(txt, stdout);
		free(txt);
		printf("\n");
		remote_text(&r);
		if (json_array_size(list) > 0) {
			printf("CROSS-CHECK FAILED: the local verifier and NRAS disagree:\n");
			print_disagreements(stdout, list);
		} else if (r.v == GPA_PASS || r.v == GPA_FAIL) {
			printf("Cross-check: local and NRAS agree on every device's verdict and on %d claim(s) both computed\n",
			    ncompared);
		} else {
			printf("Cross-check NOT DONE: NRAS's result could not be obtained\n");
		}
	}
	if (in->quiet)
		cli_quiet_reason(res);
	for (int k = 0; k < 2; k++)
		if (r.part[k].asked && r.part[k].v != GPA_PASS)
			fprintf(stderr, "gpuattest: NRAS (%s): %s\n", k ? "switches" : "GPUs", r.part[k].msg);
	if (json_array_size(list) > 0) {
		fprintf(stderr, "gpuattest: local and NRAS disagree:\n");
		print_disagreements(stderr, list);
	}
	json_decref(list);
	remote_clear(&r);
	return (int)v;
}
