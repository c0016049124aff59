/*
 * The built-in policy: turns what appraise found into an ordered list of
 * checks, each passed / failed / not done, and the verdict. It is stricter
 * than NVIDIA's built-in Rego policy (§11.1): NVIDIA aborts before claims on
 * most evidence failures, so its policy never looks at them; we keep going
 * to report everything, so the policy must look at every one.
 */
#include "appraise/appraise.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *outcome_name(enum gpa_outcome o)
{
	switch (o) {
	case GPA_CHECK_PASS: return "pass";
	case GPA_CHECK_FAIL: return "fail";
	case GPA_CHECK_BAD_INPUT: return "bad-input";
	case GPA_CHECK_NOT_DONE: return "not-done";
	case GPA_CHECK_SKIPPED: return "skipped";
	}
	return "?";
}

static void add(struct gpa_device_result *d, const char *id, enum gpa_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add(struct gpa_device_result *d, const char *id, enum gpa_outcome o, const char *fmt, ...)
{
	struct gpa_check *c;
	va_list ap;

	if (d->nchecks == GPA_MAX_CHECKS)
		return;
	c = &d->checks[d->nchecks++];
	c->id = id;
	c->outcome = o;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

static void check_cert_status(struct gpa_device_result *d, const char *id, const char *what,
    const struct gpa_chain_claims *c)
{
	switch (c->status) {
	case GPA_CERT_VALID:
		add(d, id, GPA_CHECK_PASS, "%s certificate chain valid, expires %s", what, c->expiration);
		break;
	case GPA_CERT_EXPIRED:
		add(d, id, GPA_CHECK_FAIL, "%s certificate chain expired: %s", what, c->detail);
		break;
	case GPA_CERT_NOT_YET_VALID:
		add(d, id, GPA_CHECK_FAIL, "%s certificate chain not yet valid: %s", what, c->detail);
		break;
	case GPA_CERT_INVALID:
		add(d, id, GPA_CHECK_FAIL, "%s certificate chain does not lead to a trusted anchor: %s",
		    what, c->detail);
		break;
	}
}

static void check_revocation(const struct gpa_appraise_cfg *cfg, struct gpa_device_result *d,
    const char *id, const char *what, const struct gpa_chain_claims *c)
{
	if (cfg->ocsp == NULL) {
		if (cfg->insecure_no_ocsp)
			add(d, id, GPA_CHECK_SKIPPED, "%s revocation NOT checked (--no-ocsp)", what);
		else
			add(d, id, GPA_CHECK_NOT_DONE, "%s revocation could not be checked", what);
		return;
	}
	if (strcmp(c->ocsp_status, "good") == 0 || c->hold_allowed) {
		if (!c->ocsp_response_valid)
			add(d, id, GPA_CHECK_FAIL, "%s OCSP response is not validly signed by an authorised responder: %s",
			    what, c->ocsp_detail);
		else if (!c->ocsp_nonce_matches && !cfg->ocsp_cache_ok)
			add(d, id, GPA_CHECK_FAIL, "%s OCSP response does not carry our nonce (replayed or cached answer; --ocsp-cache-ok accepts it)",
			    what);
		else if (c->hold_allowed)
			add(d, id, GPA_CHECK_PASS, "%s is ON HOLD (certificateHold), accepted because --allow-hold-cert was given",
			    what);
		else
			add(d, id, GPA_CHECK_PASS, "%s not revoked (OCSP good%s)", what,
			    c->ocsp_nonce_matches ? "" : ", cached answer accepted by --ocsp-cache-ok");
	} else if (strcmp(c->ocsp_status, "revoked") == 0) {
		add(d, id, GPA_CHECK_FAIL, "%s REVOKED (reason: %s)", what,
		    c->revocation_reason[0] ? c->revocation_reason : "unspecified");
	} else if (strcmp(c->ocsp_status, "unknown") == 0) {
		add(d, id, GPA_CHECK_FAIL, "%s: the OCSP responder does not know this certificate", what);
	} else {
		add(d, id, GPA_CHECK_NOT_DONE, "%s revocation could not be checked: %s", what,
		    c->ocsp_detail[0] ? c->ocsp_detail : c->ocsp_status);
	}
}

static void check_rim(const struct gpa_appraise_cfg *cfg, struct gpa_device_result *d,
    const struct gpa_rim_result *r, const char *want_version)
{
	char what[160];

	snprintf(what, sizeof(what), "%s RIM %s", r->kind, r->id);
	if (!r->fetched) {
		if (cfg->nsources == 0)
			add(d, "rim-fetch", GPA_CHECK_NOT_DONE,
			    "%s RIM %s is not available: no RIM source was given (--rim-dir DIR)", r->kind, r->id);
		else if (r->fetch_status == GPA_FETCH_NOT_FOUND)
			add(d, "rim-fetch", GPA_CHECK_NOT_DONE, "%s RIM %s is not available (%s)", r->kind, r->id,
			    r->fetch_error);
		else
			add(d, "rim-fetch", GPA_CHECK_NOT_DONE, "%s RIM %s could not be fetched: %s", r->kind,
			    r->id, r->fetch_error);
		return;
	}
	if (!r->load_ok) {
		add(d, "rim-parse", GPA_CHECK_BAD_INPUT, "%s (from %s) is unreadable: %s", what, r->source,
		    r->load_error);
		return;
	}
	if (r->signature_verified)
		add(d, "rim-signature", GPA_CHECK_PASS, "%s signature verified", what);
	else
		add(d, "rim-signature", GPA_CHECK_FAIL, "%s signature INVALID: %s", what, r->signature_detail);
	check_cert_status(d, "rim-cert-chain", what, &r->chain);
	if (r->chain.status != GPA_CERT_INVALID)
		check_revocation(cfg, d, "rim-revocation", what, &r->chain);
	if (r->version_match)
		add(d, "rim-version", GPA_CHECK_PASS, "%s version %s matches the report", what, r->version);
	else
		add(d, "rim-version", GPA_CHECK_FAIL, "%s is for version %s but the report says %s", what,
		    r->version, want_version);
}

static void check_measurements(struct gpa_device_result *d)
{
	char list[300] = "";
	size_t len = 0;

	if (d->conflict_done) {
		if (d->index_no_conflict)
			add(d, "index-conflict", GPA_CHECK_PASS, "no index is active in both driver and VBIOS RIMs");
		else
			add(d, "index-conflict", GPA_CHECK_FAIL,
			    "index %d is active in both the driver and the VBIOS RIM", d->conflict_index);
	}
	for (int i = 0; i < d->nmismatch && len + 24 < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s %d", i ? ", " : "",
		    d->mismatch[i].source[0] == 'D' ? "driver" : d->kind == GPA_DEV_GPU ? "VBIOS" : "BIOS",
		    d->mismatch[i].index);
	if (d->nmismatch > 0)
		add(d, "measurements", GPA_CHECK_FAIL, "%d measurement(s) do not match the RIMs: index %s",
		    d->nmismatch, list);
	else if (d->measurements_done && d->kind == GPA_DEV_GPU)
		add(d, "measurements", GPA_CHECK_PASS,
		    "all %d driver and %d VBIOS active measurements match%s", d->driver.nactive,
		    d->vbios.nactive, d->nvdec0_skip ? " (index 35 skipped: NVDEC0 disabled)" : "");
	else if (d->measurements_done)
		add(d, "measurements", GPA_CHECK_PASS, "all %d BIOS active measurements match",
		    d->vbios.nactive);
	else if (!d->conflict_done || d->index_no_conflict)
		add(d, "measurements", GPA_CHECK_NOT_DONE,
		    "measurements not compared: a reference manifest was not available or not trustworthy");
}

static void evaluate_device(const struct gpa_appraise_cfg *cfg, struct gpa_device_result *d)
{
	d->nchecks = 0;
	if (!d->chain_parsed) {
		add(d, "evidence", GPA_CHECK_BAD_INPUT, "%s", d->parse_error);
		goto verdict;
	}
	if (d->sig_done && d->sig_verified)
		add(d, "report-signature", GPA_CHECK_PASS, "report signature verified with the leaf certificate's key");
	else if (d->sig_done)
		add(d, "report-signature", GPA_CHECK_FAIL, "report signature INVALID for the leaf certificate's key");
	else
		add(d, "report-signature", GPA_CHECK_BAD_INPUT, "report too short to carry a signature");
	if (!d->parsed) {
		add(d, "report-parse", GPA_CHECK_BAD_INPUT, "%s", d->parse_error);
	} else {
		add(d, "report-parse", GPA_CHECK_PASS, "SPDM 1.1 report parsed: %u blocks, %u bytes of opaque data",
		    d->report.nblocks, d->report.opaque_len);
	}
	if (d->arch_check)
		add(d, "arch", GPA_CHECK_PASS, "%s (%s)", arch_name(d->arch), d->hwmodel);
	else
		add(d, "arch", GPA_CHECK_FAIL, "%s", d->arch_detail);
	check_cert_status(d, "device-cert-chain", "device", &d->dev_chain);
	if (d->dev_chain.status != GPA_CERT_INVALID)
		check_revocation(cfg, d, "device-revocation", "device certificate", &d->dev_chain);
	if (!d->parsed)
		goto verdict;
	if (d->nonce_match)
		add(d, "nonce", GPA_CHECK_PASS, "report nonce matches%s", cfg->have_nonce ? "" :
		    " the evidence's own nonce (freshness not proven: pass --nonce)");
	else
		add(d, "nonce", GPA_CHECK_FAIL, "report nonce does not match the expected nonce");
	add(d, "fwid", d->fwid_match ? GPA_CHECK_PASS : GPA_CHECK_FAIL, "%s", d->fwid_detail);
	if (!d->arch_check)
		goto verdict;
	if (d->kind == GPA_DEV_GPU)
		check_rim(cfg, d, &d->driver, d->info.driver_version);
	check_rim(cfg, d, &d->vbios, d->info.vbios_version);
	check_measurements(d);
verdict:
	d->verdict = GPA_PASS;
	for (int i = 0; i < d->nchecks; i++) {
		enum gpa_outcome o = d->checks[i].outcome;
		if (o == GPA_CHECK_BAD_INPUT)
			d->verdict = GPA_BAD_INPUT;
		else if (o == GPA_CHECK_FAIL && d->verdict != GPA_BAD_INPUT)
			d->verdict = GPA_FAIL;
		else if (o == GPA_CHECK_NOT_DONE && d->verdict == GPA_PASS)
			d->verdict = GPA_INCOMPLETE;
	}
}

static int verdict_rank(enum gpa_verdict v)
{
	return v == GPA_BAD_INPUT ? 3 : v == GPA_FAIL ? 2 : v == GPA_INCOMPLETE ? 1 : 0;
}

void policy_evaluate(const struct gpa_appraise_cfg *cfg, struct gpa_appraisal *a)
{
	a->verdict = a->n == 0 ? GPA_BAD_INPUT : GPA_PASS;
	for (size_t i = 0; i < a->n; i++) {
		evaluate_device(cfg, &a->dev[i]);
		if (verdict_rank(a->dev[i].verdict) > verdict_rank(a->verdict))
			a->verdict = a->dev[i].verdict;
	}
}
