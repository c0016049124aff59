/*
 * Claims in NVIDIA's v3 names and value formats (§10.1, §10.2, §10.4), so
 * that NVIDIA's relying-party policies read them unchanged, and the result
 * documents (JSON and text) built on them. A value we did not compute is
 * null, never a default "true".
 */
#include "gpuattest.h"
#include "appraise/appraise.h"
#include "policy/rppolicy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *jbool_if(bool done, bool v)
{
	return done ? json_boolean(v) : json_null();
}

/* The anchor a chain ended at: {cn, sha256, nvidia}, null when none. */
static json_t *anchor_json(const struct gpa_chain_claims *c)
{
	json_t *o;

	if (c->anchor_sha256[0] == '\0')
		return json_null();
	o = json_object();
	json_object_set_new(o, "cn", json_string(c->anchor_cn));
	json_object_set_new(o, "sha256", json_string(c->anchor_sha256));
	json_object_set_new(o, "nvidia", json_boolean(c->anchor_nvidia));
	return o;
}

static json_t *chain_claims_json(const struct gpa_chain_claims *c)
{
	json_t *o = json_object();

	if (!c->present) {
		json_object_set_new(o, "x-nvidia-cert-expiration-date", json_null());
		json_object_set_new(o, "x-nvidia-cert-status", json_null());
		json_object_set_new(o, "x-nvidia-cert-ocsp-status", json_null());
		json_object_set_new(o, "x-nvidia-cert-revocation-reason", json_null());
		json_object_set_new(o, "x-nvidia-cert-ocsp-nonce-matches", json_null());
		json_object_set_new(o, "x-nvidia-cert-ocsp-response-valid", json_null());
		return o;
	}
	json_object_set_new(o, "x-nvidia-cert-expiration-date",
	    c->expiration[0] ? json_string(c->expiration) : json_null());
	json_object_set_new(o, "x-nvidia-cert-status", json_string(cert_status_name(c->status)));
	json_object_set_new(o, "x-nvidia-cert-ocsp-status", json_string(c->ocsp_status));
	json_object_set_new(o, "x-nvidia-cert-revocation-reason",
	    c->revocation_reason[0] ? json_string(c->revocation_reason) : json_null());
	json_object_set_new(o, "x-nvidia-cert-ocsp-nonce-matches", json_boolean(c->ocsp_nonce_matches));
	json_object_set_new(o, "x-nvidia-cert-ocsp-response-valid", json_boolean(c->ocsp_response_valid));
	json_object_set_new(o, "x-gpuattest-anchor", anchor_json(c));
	return o;
}

static int pdi_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Uppercase hex, de-duplicated and sorted, as NVIDIA emits PDI lists. */
static json_t *pdi_list_json(const uint8_t (*pdis)[GPA_PDI_LEN], int n)
{
	char hex[GPA_MAX_PDIS][2 * GPA_PDI_LEN + 1];
	json_t *arr = json_array();

	for (int i = 0; i < n; i++)
		hex_encode_upper(pdis[i], GPA_PDI_LEN, hex[i]);
	qsort(hex, (size_t)n, sizeof(hex[0]), pdi_cmp);
	for (int i = 0; i < n; i++)
		if (i == 0 || strcmp(hex[i], hex[i - 1]) != 0)
			json_array_append_new(arr, json_string(hex[i]));
	return arr;
}

static json_t *mismatches_json(const struct gpa_device_result *d)
{
	json_t *arr;

	if (d->nmismatch == 0)
		return json_null();
	arr = json_array();
	for (int i = 0; i < d->nmismatch; i++) {
		const struct gpa_mismatch *m = &d->mismatch[i];
		json_t *o = json_object(), *alts = json_array();

		for (int a = 0; a < m->nalts; a++)
			json_array_append_new(alts, json_string(m->golden[a]));
		json_object_set_new(o, "index", json_integer(m->index));
		json_object_set_new(o, "goldenSize", json_integer((json_int_t)m->golden_size));
		json_object_set_new(o, "goldenValue", json_string(m->golden[0]));
		json_object_set_new(o, "goldenValues", alts);
		json_object_set_new(o, "runtimeSize", json_integer((json_int_t)m->runtime_size));
		json_object_set_new(o, "runtimeValue", json_string(m->runtime));
		json_object_set_new(o, "measurementSource", json_string(m->source));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* §16.2 record shape: runtimeType / runtimeValue only when the report had
 * a comparable field. */
static json_t *opaque_mismatches_json(const struct gpa_device_result *d)
{
	json_t *arr;

	if (d->nopaque_mismatch == 0)
		return json_null();
	arr = json_array();
	for (int i = 0; i < d->nopaque_mismatch; i++) {
		const struct gpa_opaque_mismatch *m = &d->opaque_mismatch[i];
		json_t *o = json_object();

		json_object_set_new(o, "id", json_integer(m->id));
		json_object_set_new(o, "name", json_string(m->name));
		json_object_set_new(o, "goldenType", json_string("MIN_SVN"));
		json_object_set_new(o, "goldenValue", json_integer((json_int_t)m->golden));
		if (m->has_runtime) {
			json_object_set_new(o, "runtimeType", json_string("MIN_SVN"));
			json_object_set_new(o, "runtimeValue", json_integer((json_int_t)m->runtime));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *attester_claims_json(const struct gpa_device_result *d)
{
	json_t *o = json_object();

	for (int i = 0; i < d->nattester; i++)
		json_object_set_new(o, d->attester[i].name, json_integer((json_int_t)d->attester[i].value));
	return o;
}

static bool measres_success(const struct gpa_device_result *d)
{
	return strcmp(d->measres, "success") == 0;
}

static void set_rim_claims(json_t *o, const char *prefix, const struct gpa_rim_result *r, bool parsed)
{
	char key[96];

#define K(suffix) (snprintf(key, sizeof(key), "%s-%s", prefix, suffix), key)
	json_object_set_new(o, K("fetched"), parsed ? json_boolean(r->fetched) : json_null());
	json_object_set_new(o, K("cert-chain"), chain_claims_json(&r->chain));
	json_object_set_new(o, K("signature-verified"), jbool_if(r->load_ok, r->signature_verified));
	json_object_set_new(o, K("version-match"), jbool_if(r->load_ok, r->version_match));
	json_object_set_new(o, K("measurements-available"),
	    jbool_if(r->fetched, r->load_ok && r->nactive > 0));
#undef K
}

/* The attestation-report claims, the same for GPUs and NVSwitches under
 * their prefix ("x-nvidia-gpu" or "x-nvidia-switch"). */
static void set_report_claims(json_t *o, const char *prefix, const struct gpa_device_result *d)
{
	char key[96];

#define K(suffix) (snprintf(key, sizeof(key), "%s-attestation-report%s", prefix, suffix), key)
	json_object_set_new(o, K("-cert-chain"), chain_claims_json(&d->dev_chain));
	json_object_set_new(o, K("-cert-chain-fwid-match"), jbool_if(d->fwid_done, d->fwid_match));
	json_object_set_new(o, K("-parsed"), json_boolean(d->parsed));
	json_object_set_new(o, K("-nonce-match"), jbool_if(d->nonce_done, d->nonce_match));
	json_object_set_new(o, K("-signature-verified"), jbool_if(d->sig_done, d->sig_verified));
#undef K
}

/* The claims GPU and NVSwitch sets share. */
static json_t *common_claims(const struct gpa_appraisal *a, const struct gpa_device_result *d,
    const char *type)
{
	json_t *o = json_object();
	bool ok = measres_success(d);

	json_object_set_new(o, "eat_nonce", json_string(a->nonce_hex));
	json_object_set_new(o, "measres", json_string(d->measres));
	json_object_set_new(o, "secboot", ok ? json_true() : json_null());
	json_object_set_new(o, "dbgstat", ok ? json_string("disabled") : json_null());
	json_object_set_new(o, "hwmodel", d->hwmodel[0] ? json_string(d->hwmodel) : json_null());
	json_object_set_new(o, "ueid", d->ueid[0] ? json_string(d->ueid) : json_null());
	json_object_set_new(o, "x-nvidia-device-type", json_string(type));
	json_object_set_new(o, "x-nvidia-mismatch-measurement-records", mismatches_json(d));
	return o;
}

static json_t *gpu_claims(const struct gpa_appraisal *a, const struct gpa_device_result *d)
{
	json_t *o = common_claims(a, d, "gpu");

	json_object_set_new(o, "oemid", d->driver.oemid[0] ? json_string(d->driver.oemid) : json_null());
	json_object_set_new(o, "x-nvidia-gpu-arch-check", json_boolean(d->arch_check));
	json_object_set_new(o, "x-nvidia-gpu-driver-version",
	    d->parsed ? json_string(d->info.driver_version) : json_null());
	json_object_set_new(o, "x-nvidia-gpu-vbios-version",
	    d->parsed ? json_string(d->info.vbios_version) : json_null());
	if (d->parsed && d->info.npdis > 0)
		json_object_set_new(o, "x-nvidia-gpu-switch-pdis",
		    pdi_list_json((const uint8_t (*)[GPA_PDI_LEN])d->info.pdis, d->info.npdis));
	set_report_claims(o, "x-nvidia-gpu", d);
	set_rim_claims(o, "x-nvidia-gpu-driver-rim", &d->driver, d->parsed && d->arch_check);
	set_rim_claims(o, "x-nvidia-gpu-vbios-rim", &d->vbios, d->parsed && d->arch_check);
	json_object_set_new(o, "x-nvidia-gpu-vbios-index-no-conflict",
	    jbool_if(d->conflict_done, d->index_no_conflict));
	if (a->claims_version == 3) {
		json_object_set_new(o, "x-nvidia-gpu-claims-version", json_string("3.0"));
		return o;
	}
	/* 4.0 (NVIDIA 2.0, §16.3): both keys always present. */
	json_object_set_new(o, "x-nvidia-attester-claims", attester_claims_json(d));
	json_object_set_new(o, "x-nvidia-mismatch-opaque-data-records", opaque_mismatches_json(d));
	json_object_set_new(o, "x-nvidia-gpu-claims-version", json_string("4.0"));
	return o;
}

static json_t *switch_claims(const struct gpa_appraisal *a, const struct gpa_device_result *d)
{
	json_t *o = common_claims(a, d, "nvswitch");

	json_object_set_new(o, "x-nvidia-switch-arch-check", json_boolean(d->arch_check));
	json_object_set_new(o, "x-nvidia-switch-bios-version",
	    d->parsed ? json_string(d->info.vbios_version) : json_null());
	if (d->parsed && d->info.has_device_pdi) {
		char pdi[2 * GPA_PDI_LEN + 1];
		hex_encode_upper(d->info.device_pdi, GPA_PDI_LEN, pdi);
		json_object_set_new(o, "x-nvidia-switch-pdi", json_string(pdi));
	}
	if (d->parsed && d->info.ngpu_pdis > 0)
		json_object_set_new(o, "x-nvidia-switch-gpu-pdis",
		    pdi_list_json((const uint8_t (*)[GPA_PDI_LEN])d->info.gpu_pdis, d->info.ngpu_pdis));
	set_report_claims(o, "x-nvidia-switch", d);
	set_rim_claims(o, "x-nvidia-switch-bios-rim", &d->vbios, d->parsed && d->arch_check);
	json_object_set_new(o, "x-nvidia-version", json_string("3.0"));
	return o;
}

json_t *claims_device_json(const struct gpa_appraisal *a, const struct gpa_device_result *d)
{
	return d->kind == GPA_DEV_GPU ? gpu_claims(a, d) : switch_claims(a, d);
}

static const char *verdict_name(enum gpa_verdict v)
{
	switch (v) {
	case GPA_PASS: return "pass";
	case GPA_FAIL: return "fail";
	case GPA_BAD_INPUT: return "bad-input";
	case GPA_INCOMPLETE: return "incomplete";
	}
	return "?";
}

static json_t *checks_json(const struct gpa_check *c, int n)
{
	json_t *arr = json_array();

	for (int k = 0; k < n; k++) {
		json_t *ck = json_object();
		json_object_set_new(ck, "check", json_string(c[k].id));
		json_object_set_new(ck, "outcome", json_string(outcome_name(c[k].outcome)));
		json_object_set_new(ck, "detail", json_string(c[k].detail));
		json_array_append_new(arr, ck);
	}
	return arr;
}

static json_t *system_json(const struct gpa_appraisal *a)
{
	const struct gpa_system_info *s = &a->sys;
	json_t *o = json_object();

	if (!s->present) {
		json_object_set_new(o, "checks", checks_json(a->sys_checks, a->nsys_checks));
		return o;
	}
	json_object_set_new(o, "driver_version", json_string(s->driver_version));
	json_object_set_new(o, "gpus", json_integer(s->gpus_total));
	json_object_set_new(o, "environment", json_string(s->environment == 2 ? "production" :
	    s->environment == 1 ? "simulation" : "unavailable"));
	json_object_set_new(o, "cc_mode", json_boolean(s->cc_feature == 1));
	json_object_set_new(o, "protected_pcie", json_boolean(s->multi_gpu_mode == 1));
	json_object_set_new(o, "dev_tools_mode", json_boolean(s->dev_tools != 0));
	if (s->have_caps) {
		json_object_set_new(o, "cpu_cc_caps", json_integer(s->cpu_caps));
		json_object_set_new(o, "gpus_cc_capable", json_boolean(s->gpus_caps == 1));
	}
	if (s->have_ready_state)
		json_object_set_new(o, "ready_state_before", json_boolean(s->ready_state == 1));
	json_object_set_new(o, "checks", checks_json(a->sys_checks, a->nsys_checks));
	return o;
}

json_t *appraisal_json(const struct gpa_appraisal *a)
{
	json_t *doc = json_object(), *devs = json_array(), *claims = json_array(), *overall = json_object();
	char at[21];

	time_format_rfc3339(a->at, at);
	json_object_set_new(doc, "schema_version", json_string(GPUATTEST_SCHEMA_VERSION));
	json_object_set_new(doc, "result", json_string(verdict_name(a->verdict)));
	json_object_set_new(doc, "exit_code", json_integer(a->verdict));
	json_object_set_new(doc, "verified_at", json_string(at));
	json_object_set_new(doc, "nonce", json_string(a->nonce_hex));
	json_object_set_new(doc, "nonce_source", json_string(a->nonce_generated ? "generated" :
	    a->nonce_from_caller ? "caller" : "evidence"));
	if (a->ready_state_after >= 0)
		json_object_set_new(doc, "ready_state_set", json_boolean(a->ready_state_after == 1));
	if (a->ready_state_error[0])
		json_object_set_new(doc, "ready_state_error", json_string(a->ready_state_error));
	json_object_set_new(doc, "revocation_checked", json_boolean(!a->no_ocsp));
	json_object_set_new(doc, "weakened", appraisal_weakened_json(a));
	if (a->rp.applied)
		json_object_set_new(doc, "policy", rp_policy_json(a));
	json_object_set_new(doc, "collateral", appraisal_collateral_json(a));
	{
		char summary[1400];
		appraisal_summary(a, summary, sizeof(summary));
		json_object_set_new(doc, "summary", json_string(summary));
	}
	json_object_set_new(doc, "genuine_gpus", json_integer(appraisal_count_genuine(a, GPA_DEV_GPU)));
	json_object_set_new(doc, "genuine_switches", json_integer(appraisal_count_genuine(a, GPA_DEV_SWITCH)));
	for (size_t i = 0; i < a->n; i++) {
		const struct gpa_device_result *d = &a->dev[i];
		json_t *o = json_object(), *checks = checks_json(d->checks, d->nchecks);
		json_t *c = claims_device_json(a, d);

		json_object_set_new(o, "device", json_string(d->label));
		if (d->uuid[0])
			json_object_set_new(o, "uuid", json_string(d->uuid));
		if (d->live) {
			json_object_set_new(o, "name", json_string(d->name));
			json_object_set_new(o, "nvml_vbios_version", json_string(d->nvml_vbios));
		}
		json_object_set_new(o, "verdict", json_string(verdict_name(d->verdict)));
		if (d->parsed) {
			if (d->kind == GPA_DEV_GPU)
				json_object_set_new(o, "driver_rim_id", json_string(d->info.driver_rim_id));
			json_object_set_new(o, "vbios_rim_id", json_string(d->info.vbios_rim_id));
			/* Where each RIM came from: "file P", "bundle P", "cache P",
			 * "RIM service URL" (null when it was not found). */
			if (d->kind == GPA_DEV_GPU)
				json_object_set_new(o, "driver_rim_source", d->driver.fetched ?
				    json_string(d->driver.source) : json_null());
			json_object_set_new(o, "vbios_rim_source", d->vbios.fetched ?
			    json_string(d->vbios.source) : json_null());
		}
		json_object_set_new(o, "checks", checks);
		json_object_set_new(o, "claims", json_incref(c));
		json_array_append_new(devs, o);
		json_array_append_new(claims, c);
	}
	if (a->sys.present || a->nsys_checks > 0)
		json_object_set_new(doc, "system", system_json(a));
	json_object_set_new(overall, "x-nvidia-ver", json_string("3.0"));
	json_object_set_new(overall, "x-nvidia-overall-att-result", json_boolean(a->verdict == GPA_PASS));
	json_object_set_new(overall, "eat_nonce", json_string(a->nonce_hex));
	json_object_set_new(doc, "overall_claims", overall);
	json_object_set_new(doc, "devices", devs);
	json_object_set_new(doc, "claims", claims);
	return doc;
}

/* ---- text ---------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->p == NULL && b->cap != (size_t)-1) {
		b->cap = 4096;
		if ((b->p = malloc(b->cap)) == NULL) {
			b->cap = (size_t)-1;
			return;
		}
		b->p[0] = '\0';
	}
	if (b->p == NULL)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		char *grown = realloc(b->p, b->cap * 2 + (size_t)n);
		if (grown == NULL)
			return;
		b->p = grown;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

static const char *mark(enum gpa_outcome o, bool color)
{
	switch (o) {
	case GPA_CHECK_PASS: return color ? "\033[32m[ OK ]\033[0m" : "[ OK ]";
	case GPA_CHECK_FAIL: return color ? "\033[31m[FAIL]\033[0m" : "[FAIL]";
	case GPA_CHECK_BAD_INPUT: return color ? "\033[31m[BAD ]\033[0m" : "[BAD ]";
	case GPA_CHECK_NOT_DONE: return color ? "\033[33m[ -- ]\033[0m" : "[ -- ]";
	case GPA_CHECK_SKIPPED: return color ? "\033[33m[SKIP]\033[0m" : "[SKIP]";
	}
	return "[ ?? ]";
}

static void text_checks(struct sbuf *b, const struct gpa_check *c, int n, bool color)
{
	for (int i = 0; i < n; i++)
		sb_printf(b, "  %s %s\n", mark(c[i].outcome, color), c[i].detail);
}

/* The summary under a verdict other than pass: what failed or was not done. */
static void text_failures(struct sbuf *b, const char *who, const struct gpa_check *c, int n)
{
	for (int i = 0; i < n; i++)
		if (c[i].outcome == GPA_CHECK_FAIL || c[i].outcome == GPA_CHECK_BAD_INPUT ||
		    c[i].outcome == GPA_CHECK_NOT_DONE)
			sb_printf(b, "  %s: %s%s\n", who, c[i].outcome == GPA_CHECK_NOT_DONE ? "not done: " : "",
			    c[i].detail);
}

static void text_device(struct sbuf *b, const struct gpa_device_result *d, bool color)
{
	sb_printf(b, "%s", d->label);
	if (d->name[0])
		sb_printf(b, "  %s", d->name);
	if (d->hwmodel[0])
		sb_printf(b, "  %s", d->hwmodel);
	if (d->parsed)
		sb_printf(b, d->kind == GPA_DEV_GPU ? "  driver %s  VBIOS %s" : "  BIOS %s%s",
		    d->kind == GPA_DEV_GPU ? d->info.driver_version : d->info.vbios_version,
		    d->kind == GPA_DEV_GPU ? d->info.vbios_version : "");
	sb_printf(b, "\n");
	if (d->ueid[0] || d->uuid[0])
		sb_printf(b, "  %s%s%suuid %s\n", d->ueid[0] ? "ueid " : "", d->ueid, d->ueid[0] ? "  " : "",
		    d->uuid[0] ? d->uuid : "-");
	if (d->not_cc)
		sb_printf(b, "  VBIOS %s (as NVML reports it)\n", d->nvml_vbios);
	text_checks(b, d->checks, d->nchecks, color);
	for (int i = 0; i < d->nmismatch; i++) {
		const struct gpa_mismatch *m = &d->mismatch[i];
		sb_printf(b, "       mismatch %s index %d: runtime %s\n", m->source, m->index, m->runtime);
		for (int k = 0; k < m->nalts; k++)
			sb_printf(b, "       %*s golden[%d] %s\n", (int)strlen(m->source) + 9 + (m->index > 9 ? 2 : 1), "", k,
			    m->golden[k]);
	}
}

char *appraisal_text(const struct gpa_appraisal *a, bool color)
{
	struct sbuf b = {0};
	char at[21], summary[1400];

	time_format_rfc3339(a->at, at);
	sb_printf(&b, "Verification time %s, nonce %s (%s)\n\n", at, a->nonce_hex,
	    a->nonce_generated ? "fresh, from the OS random source" :
	    a->nonce_from_caller ? "supplied by the caller" : "taken from the evidence: freshness NOT proven");
	if (a->sys.present || a->nsys_checks > 0) {
		if (a->sys.present)
			sb_printf(&b, "System  driver %s, %d GPU(s)\n", a->sys.driver_version, a->sys.gpus_total);
		else
			sb_printf(&b, "System\n");
		text_checks(&b, a->sys_checks, a->nsys_checks, color);
		sb_printf(&b, "\n");
	}
	for (size_t i = 0; i < a->n; i++) {
		text_device(&b, &a->dev[i], color);
		sb_printf(&b, "\n");
	}
	if (a->ready_state_after >= 0)
		sb_printf(&b, "GPUs ready state set to %s.\n", a->ready_state_after ? "READY (accepting work)" :
		    "NOT READY");
	if (a->ready_state_error[0])
		sb_printf(&b, "WARNING: %s\n", a->ready_state_error);
	{
		char *notes = appraisal_collateral_notes(a);
		sb_printf(&b, "%s", notes ? notes : "");
		free(notes);
	}
	if (a->no_ocsp && a->nweak == 0)
		sb_printf(&b, "WARNING: certificate revocation (OCSP) was NOT checked: a revoked device or RIM would not be noticed.\n");
	if (a->nweak > 0)
		sb_printf(&b, "WARNING: this verification was WEAKENED; it proves less than full attestation:\n");
	for (int i = 0; i < a->nweak; i++)
		sb_printf(&b, "  - [%s] %s\n", a->weak[i].id, a->weak[i].detail);
	switch (a->verdict) {
	case GPA_PASS:
		sb_printf(&b, "%sVERIFICATION SUCCESSFUL\n", color ? "\xe2\x9c\x85 " : "");
		appraisal_summary(a, summary, sizeof(summary));
		sb_printf(&b, "%s", summary);
		break;
	case GPA_FAIL:
	case GPA_BAD_INPUT:
		sb_printf(&b, "%sVERIFICATION FAILED\n", color ? "\xe2\x9d\x8c " : "");
		break;
	case GPA_INCOMPLETE:
		sb_printf(&b, "%sVERIFICATION INCOMPLETE: nothing failed, but not every check could be done (see [ -- ] above)\n",
		    color ? "\xe2\x9d\x8c " : "");
		break;
	}
	if (a->verdict != GPA_PASS) {
		text_failures(&b, "System", a->sys_checks, a->nsys_checks);
		for (size_t i = 0; i < a->n; i++)
			text_failures(&b, a->dev[i].label, a->dev[i].checks, a->dev[i].nchecks);
	}
	return b.p;
}
