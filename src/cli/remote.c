/*
 * verify --verifier nras|local|both: NVIDIA's Remote Attestation Service on
 * the same evidence, its answer judged as verify-token judges it (with the
 * evidence's nonce required back), and, for "both", a cross-check that
 * fails, naming the device, the claim and both values, when the local
 * verifier and NRAS disagree on any device's verdict or on any claim both
 * compute.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/remote_internal.h"
#include "net/cache.h"
#include "net/jwks.h"
#include "net/nras.h"
#include "token/token.h"

void cli_usage_verify_remote(FILE *f)
{
	fprintf(f,
"Remote verification (NVIDIA Remote Attestation Service, NRAS v4):\n"
"  --verifier local|nras|both\n"
"                       local (default): this program's checks only. nras: send\n"
"                       the evidence (GPUs to /v4/attest/gpu, switches to\n"
"                       /v4/attest/switch; claims version as --claims-version)\n"
"                       and judge NRAS's answer as 'gpuattest verify-token' does:\n"
"                       ES384 signatures under NRAS's JWKS, iss equal to the URL,\n"
"                       times with 60 s of leeway, every submod digest, the\n"
"                       evidence's nonce echoed, the overall result true and every\n"
"                       device passing. both: local and nras on the same evidence;\n"
"                       it fails, naming the device, the claim and both values,\n"
"                       when they disagree on any device's verdict or on any claim\n"
"                       both compute (a claim one of them did not compute, null or\n"
"                       revocation not-checked, is not compared).\n"
"  --nras-url URL       NRAS base (default " GPA_NRAS_DEFAULT_URL "; env\n"
"                       GPUATTEST_NRAS_URL); its keys: URL/.well-known/jwks.json,\n"
"                       kept 15 min in the cache directory. https only (http to\n"
"                       loopback for tests). --service-key is sent as Bearer; the\n"
"                       HTTP limits and retries (429, 5xx) are those above.\n"
"\n");
}

int cli_remote_option(struct cli_remote_opts *o, int which, const char *arg)
{
	if (which == CLI_REMOTE_NRAS_URL) {
		o->nras_url = arg;
		return 0;
	}
	if (strcmp(arg, "local") == 0)
		o->mode = CLI_VERIFIER_LOCAL;
	else if (strcmp(arg, "nras") == 0)
		o->mode = CLI_VERIFIER_NRAS;
	else if (strcmp(arg, "both") == 0)
		o->mode = CLI_VERIFIER_BOTH;
	else {
		fprintf(stderr, "gpuattest verify: --verifier must be local, nras or both\n");
		return GPUATTEST_BAD_INPUT;
	}
	return 0;
}

int remote_setup(gpuattest_config *cfg, const struct cli_remote_opts *o, struct remote *r, struct gpa_err *e)
{
	const char *url = o->nras_url ? o->nras_url : getenv("GPUATTEST_NRAS_URL");
	size_t n;

	memset(r, 0, sizeof(*r));
	snprintf(r->base, sizeof(r->base), "%s", url && *url ? url : GPA_NRAS_DEFAULT_URL);
	/* The expected issuer is the base without a trailing '/' (NVIDIA 2.0). */
	for (n = strlen(r->base); n > 0 && r->base[n - 1] == '/'; n--)
		r->base[n - 1] = '\0';
	if (!net_url_trusted_scheme(r->base)) {
		gpa_err_set(e, "--nras-url %.200s: must be https:// (or http:// to 127.0.0.1, [::1] or localhost)", r->base);
		return -1;
	}
	if (http_opts_from_env(&r->http, e) != 0)
		return -1;
	if (cfg->connect_timeout_ms > 0)
		r->http.connect_timeout_ms = cfg->connect_timeout_ms;
	if (cfg->timeout_ms > 0)
		r->http.timeout_ms = cfg->timeout_ms;
	if (cfg->retries >= 0)
		r->http.max_retries = cfg->retries;
	if (cfg->service_key != NULL)
		snprintf(r->http.service_key, sizeof(r->http.service_key), "%s", cfg->service_key);
	if (!cfg->no_cache) {
		if (cfg->cache_dir != NULL)
			snprintf(r->cache_dir, sizeof(r->cache_dir), "%s", cfg->cache_dir);
		else if (cache_default_dir(r->cache_dir, sizeof(r->cache_dir), e) != 0)
			r->cache_dir[0] = '\0';
	}
	return 0;
}

enum gpa_verdict worst(enum gpa_verdict a, enum gpa_verdict b)
{
	static const int rank[] = {[GPA_PASS] = 0, [GPA_INCOMPLETE] = 1, [GPA_FAIL] = 2, [GPA_BAD_INPUT] = 3};
	return rank[b] > rank[a] ? b : a;
}

/* NRAS must answer for exactly the devices sent, labelled as it labels them. */
static void count_check(struct remote_part *p, enum gpa_device_kind kind)
{
	const json_t *subs = json_object_get(p->res.claims, "submods");
	char label[32];

	if (p->v == GPA_BAD_INPUT || p->res.claims == NULL)
		return;
	for (size_t i = 0; i < p->ndevices; i++) {
		token_submod_label(kind, (int)i, label);
		if (json_object_get(subs, label) == NULL) {
			snprintf(p->msg, sizeof(p->msg), "NRAS sent no result for %s (%zu device(s) were sent, it "
			    "answered for %zu)", label, p->ndevices, json_object_size(subs));
			p->v = GPA_FAIL;
			return;
		}
	}
	if (json_object_size(subs) != p->ndevices) {
		snprintf(p->msg, sizeof(p->msg), "NRAS answered for %zu device(s), %zu were sent",
		    json_object_size(subs), p->ndevices);
		p->v = GPA_FAIL;
	}
}

static void remote_part_run(struct remote *r, const struct evidence_set *set, enum gpa_device_kind kind,
    const char *nonce_hex, const uint8_t *nonce, const char *claims_version)
{
	struct remote_part *p = &r->part[kind == GPA_DEV_SWITCH];
	struct token_rules rules = {.issuer = r->base, .now = time(NULL), .leeway_s = TOKEN_DEFAULT_LEEWAY,
	    .have_nonce = true, .nonce_len = SPDM_NONCE_LEN};
	struct gpa_jwks_client jc;
	struct token_keyring kr;
	struct gpa_err e = {{0}};
	char *body = nras_request_json(set, kind, nonce_hex, claims_version, &p->ndevices), url[1100];
	uint8_t *ans = NULL;
	size_t len;

	if (body == NULL)
		return;
	p->asked = true;
	memcpy(rules.nonce, nonce, SPDM_NONCE_LEN);
	snprintf(url, sizeof(url), "%s/.well-known/jwks.json", r->base);
	p->v = nras_attest(&r->http, r->base, kind, body, &ans, &len, &e);
	free(body);
	if (p->v == GPA_PASS) {
		if (jwks_client_init(&jc, &r->http, url, r->cache_dir[0] ? r->cache_dir : NULL, &e) != 0) {
			p->v = GPA_BAD_INPUT;
		} else {
			jwks_client_keyring(&jc, &kr);
			p->v = token_eat_verify(ans, len, &rules, &kr, &p->res, &e);
			jwks_client_clear(&jc);
			/* NRAS's answer is not the user's input: one that cannot be
			 * decoded is an answer that proves nothing. */
			if (p->v == GPA_BAD_INPUT)
				p->v = GPA_FAIL;
		}
	}
	free(ans);
	if (p->v != GPA_PASS)
		snprintf(p->msg, sizeof(p->msg), "%s", e.msg);
	if (p->v == GPA_PASS || p->v == GPA_FAIL)
		count_check(p, kind);
	r->v = worst(r->v, p->v);
}

void remote_run(struct remote *r, const struct evidence_set *set, const uint8_t nonce[SPDM_NONCE_LEN],
    int claims_version)
{
	char hex[2 * SPDM_NONCE_LEN + 1];

	hex_encode(nonce, SPDM_NONCE_LEN, hex);
	remote_part_run(r, set, GPA_DEV_GPU, hex, nonce, claims_version == 3 ? "3.0" : "4.0");
	remote_part_run(r, set, GPA_DEV_SWITCH, hex, nonce, "3.0");
}

void remote_clear(struct remote *r)
{
	token_result_clear(&r->part[0].res);
	token_result_clear(&r->part[1].res);
}

static const char *vword(enum gpa_verdict v)
{
	return v == GPA_PASS ? "pass" : v == GPA_FAIL ? "fail" : v == GPA_BAD_INPUT ? "bad-input" : "incomplete";
}

json_t *remote_json(const struct remote *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "nras_url", json_string(r->base));
	json_object_set_new(o, "result", json_string(vword(r->v)));
	for (int k = 0; k < 2; k++) {
		const struct remote_part *p = &r->part[k];
		if (!p->asked)
			continue;
		json_object_set_new(o, k ? "switch" : "gpu", json_pack("{s:s,s:s,s:O}", "result", vword(p->v),
		    "message", p->v == GPA_PASS ? "verified" : p->msg, "claims", p->res.claims ? p->res.claims : json_null()));
	}
	return o;
}

void remote_text(const struct remote *r)
{
	printf("NRAS %s\n", r->base);
	for (int k = 0; k < 2; k++) {
		const struct remote_part *p = &r->part[k];
		const json_t *subs = json_object_get(p->res.claims, "submods"), *c;
		const char *label;

		if (!p->asked)
			continue;
		json_object_foreach((json_t *)subs, label, c) {
			struct gpa_err de = {{0}};
			bool pass = token_device_claims_pass(c, &de) == GPA_PASS;
			printf("  %-10s %s%s%s\n", label, pass ? "pass" : "FAIL", pass ? "" : ": ", de.msg);
		}
		if (p->v != GPA_PASS)
			printf("  %s: %s\n", k ? "switches" : "GPUs", p->msg);
	}
}

/* ---- --verifier nras ---------------------------------------------------- */

static int load_set(gpuattest_config *cfg, const struct cli_remote_input *in, struct evidence_set *set,
    struct gpa_err *e)
{
	struct evidence_set sw;
	char *gj = NULL, *sj = NULL;
	int rc = 0;

	memset(set, 0, sizeof(*set));
	if (in->report != NULL)
		return evidence_load_raw(in->report, in->chain, GPA_DEV_GPU, set, e);
	if (in->evidence == NULL && in->switch_evidence == NULL) {
		if (gpuattest_collect_evidence(cfg, &gj, &sj) != 0) {
			gpa_err_set(e, "%s", gpuattest_config_error(cfg));
			return -1;
		}
		rc = evidence_parse_json((const uint8_t *)gj, strlen(gj), GPA_DEV_GPU, set, e);
		if (rc == 0 && sj != NULL && (rc = evidence_parse_json((const uint8_t *)sj, strlen(sj), GPA_DEV_SWITCH,
		    &sw, e)) == 0)
			goto merge;
		free(gj);
		free(sj);
		return rc;
	}
	if (in->evidence != NULL && evidence_load_json_file(in->evidence, GPA_DEV_GPU, set, e) != 0)
		return -1;
	if (in->switch_evidence == NULL)
		return 0;
	if (evidence_load_json_file(in->switch_evidence, GPA_DEV_SWITCH, &sw, e) != 0) {
		evidence_set_clear(set);
		return -1;
	}
merge:
	free(gj);
	free(sj);
	if (set->n + sw.n > GPA_EVIDENCE_MAX_ITEMS) {
		gpa_err_set(e, "more than %d devices", GPA_EVIDENCE_MAX_ITEMS);
		evidence_set_clear(set);
		evidence_set_clear(&sw);
		return -1;
	}
	memcpy(&set->items[set->n], sw.items, sw.n * sizeof(sw.items[0]));
	set->n += sw.n;
	sw.n = 0;	/* the items' buffers belong to set now */
	return 0;
}

/* The nonce sent: the caller's, else the one the evidence carries. */
static int set_nonce(gpuattest_config *cfg, const struct evidence_set *set, uint8_t nonce[SPDM_NONCE_LEN],
    struct gpa_err *e)
{
	int found;

	if (cfg->have_nonce) {
		memcpy(nonce, cfg->nonce, SPDM_NONCE_LEN);
		return 0;
	}
	found = evidence_common_nonce(set, nonce, e);
	if (found == 1)
		return 0;
	if (found == 0)
		gpa_err_set(e, "the evidence carries no nonce: give the one it was made with (--nonce HEX)");
	return -1;
}

int cli_remote_only(gpuattest_config *cfg, const struct cli_remote_opts *o, const struct cli_remote_input *in)
{
	struct remote r;
	struct evidence_set *set = calloc(1, sizeof(*set));
	uint8_t nonce[SPDM_NONCE_LEN];
	struct gpa_err e = {{0}};

	if (set == NULL || remote_setup(cfg, o, &r, &e) != 0 || load_set(cfg, in, set, &e) != 0) {
		fprintf(stderr, "gpuattest: %s\n", set ? e.msg : "out of memory");
		free(set);
		return GPUATTEST_BAD_INPUT;
	}
	if (set_nonce(cfg, set, nonce, &e) != 0) {
		fprintf(stderr, "gpuattest: %s\n", e.msg);
		evidence_set_clear(set);
		free(set);
		return GPUATTEST_BAD_INPUT;
	}
	remote_run(&r, set, nonce, cfg->claims_version);
	evidence_set_clear(set);
	free(set);
	if (!in->quiet && in->json) {
		json_t *doc = remote_json(&r);
		char *t;
		json_object_set_new(doc, "schema_version", json_string(GPUATTEST_SCHEMA_VERSION));
		json_object_set_new(doc, "verifier", json_string("nras"));
		json_object_set_new(doc, "exit_code", json_integer(r.v));
		t = json_dumps(doc, JSON_INDENT(2));
		if (t)
			printf("%s\n", t);
		free(t);
		json_decref(doc);
	} else if (!in->quiet) {
		remote_text(&r);
		printf(r.v == GPA_PASS ? "VERIFICATION SUCCESSFUL (NRAS)\n" : r.v == GPA_INCOMPLETE ?
		    "VERIFICATION INCOMPLETE (NRAS): the remote verdict could not be obtained\n" :
		    "VERIFICATION FAILED (NRAS)\n");
	}
	for (int k = 0; k < 2; k++)
		if (r.part[k].asked && r.part[k].v != GPA_PASS)
			fprintf(stderr, "gpuattest: NRAS (%s): %s\n", k ? "switches" : "GPUs", r.part[k].msg);
	remote_clear(&r);
	return (int)r.v;
}
