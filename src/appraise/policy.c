/*
 * The built-in policy: turns what appraise found into an ordered list of
 * checks, each passed / failed / not done, and the verdict. It is stricter
 * than NVIDIA's built-in Rego policy (§11.1): NVIDIA aborts before claims on
 * most evidence failures, so its policy never looks at them; we keep going
 * to report everything, so the policy must look at every one.
 */
#include "appraise/appraise.h"
#include "policy/rppolicy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

static void check_set(struct gpa_check *c, const char *id, enum gpa_outcome o, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void check_set(struct gpa_check *c, const char *id, enum gpa_outcome o, const char *fmt, va_list ap)
{
	c->id = id;
	c->outcome = o;
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
}

static void add(struct gpa_device_result *d, const char *id, enum gpa_outcome o, const char *fmt, ...)
{
	va_list ap;

	if (d->nchecks == GPA_MAX_CHECKS)
		return;
	va_start(ap, fmt);
	check_set(&d->checks[d->nchecks++], id, o, fmt, ap);
	va_end(ap);
}

/* Bad input outranks failure, which outranks incomplete, which outranks pass. */
static enum gpa_verdict worse(enum gpa_verdict a, enum gpa_verdict b)
{
	static const int rank[] = {[GPA_PASS] = 0, [GPA_INCOMPLETE] = 1, [GPA_FAIL] = 2, [GPA_BAD_INPUT] = 3};

	return rank[b] > rank[a] ? b : a;
}

static enum gpa_verdict outcome_verdict(enum gpa_outcome o)
{
	return o == GPA_CHECK_BAD_INPUT ? GPA_BAD_INPUT : o == GPA_CHECK_FAIL ? GPA_FAIL :
	    o == GPA_CHECK_NOT_DONE ? GPA_INCOMPLETE : GPA_PASS;
}

static enum gpa_verdict checks_verdict(const struct gpa_check *c, int n)
{
	enum gpa_verdict v = GPA_PASS;

	for (int i = 0; i < n; i++)
		v = worse(v, outcome_verdict(c[i].outcome));
	return v;
}

static void check_cert_status(struct gpa_device_result *d, const char *id, const char *what,
    const struct gpa_chain_claims *c)
{
	char anchor[260] = "";

	if (c->anchor_sha256[0])
		snprintf(anchor, sizeof(anchor), "; anchor CN=%.120s (sha256 %s)%s", c->anchor_cn, c->anchor_sha256,
		    c->anchor_nvidia ? "" : ", not NVIDIA's root");
	switch (c->status) {
	case GPA_CERT_VALID:
		add(d, id, GPA_CHECK_PASS, "%s certificate chain valid, expires %s%s", what, c->expiration, anchor);
		break;
	case GPA_CERT_EXPIRED:
		add(d, id, GPA_CHECK_FAIL, "%s certificate chain expired: %s%s", what, c->detail, anchor);
		break;
	case GPA_CERT_NOT_YET_VALID:
		add(d, id, GPA_CHECK_FAIL, "%s certificate chain not yet valid: %s%s", what, c->detail, anchor);
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
		else if (!c->ocsp_nonce_matches && !cfg->ocsp_cache_ok && !cfg->ocsp_answers_may_be_old)
			add(d, id, GPA_CHECK_FAIL, "%s OCSP response does not carry our nonce (replayed or cached answer; --ocsp-cache-ok accepts it): %s",
			    what, c->ocsp_detail);
		else if (c->hold_allowed)
			add(d, id, GPA_CHECK_PASS, "%s is ON HOLD (certificateHold), accepted because --allow-hold-cert was given",
			    what);
		else if (c->ocsp_nonce_matches)
			add(d, id, GPA_CHECK_PASS, "%s not revoked (OCSP good, fresh answer)", what);
		else
			add(d, id, GPA_CHECK_PASS, "%s not revoked (OCSP good; %s; earlier answer accepted by %s)",
			    what, c->ocsp_detail, cfg->ocsp_answers_may_be_old ? "--collateral/--offline" : "--ocsp-cache-ok");
	} else if (strcmp(c->ocsp_status, "revoked") == 0) {
		add(d, id, GPA_CHECK_FAIL, "%s REVOKED (reason: %s)%s", what,
		    c->revocation_reason[0] ? c->revocation_reason : "unspecified",
		    strcmp(c->revocation_reason, "certificateHold") == 0 && strstr(what, "RIM") != NULL ?
		    "; --allow-hold-cert accepts a held RIM signing certificate" : "");
	} else if (strcmp(c->ocsp_status, "unknown") == 0) {
		add(d, id, GPA_CHECK_FAIL, "%s: the OCSP responder does not know this certificate", what);
	} else if (!c->ocsp_response_valid && strcmp(c->ocsp_status, "error") == 0 &&
	    strstr(c->ocsp_detail, "signature") != NULL) {
		add(d, id, GPA_CHECK_FAIL, "%s OCSP response INVALID: %s", what, c->ocsp_detail);
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
		if (r->fetch_status == GPA_FETCH_NOT_FOUND && strstr(r->fetch_error, "HTTP 404") != NULL)
			add(d, "rim-fetch", GPA_CHECK_NOT_DONE,
			    "NVIDIA has not published a RIM for %s %s (%s): %s", r->kind, want_version, r->id,
			    r->fetch_error);
		else
			add(d, "rim-fetch", GPA_CHECK_NOT_DONE,
			    "%s RIM %s is not available: %s (give --rim-dir DIR or --collateral FILE, or reach the RIM service)",
			    r->kind, r->id, r->fetch_error);
		return;
	}
	if (!r->load_ok) {
		add(d, "rim-parse", GPA_CHECK_BAD_INPUT, "%s (from %s) is unreadable: %s", what, r->source,
		    r->load_error);
		return;
	}
	if (r->signature_verified)
		add(d, "rim-signature", GPA_CHECK_PASS, "%s signature verified (from %s)", what, r->source);
	else
		add(d, "rim-signature", GPA_CHECK_FAIL, "%s signature INVALID: %s (from %s)", what,
		    r->signature_detail, r->source);
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

/* The opaque-data reference values (§16.2; NVIDIA 2.0's built-in policy
 * wants x-nvidia-mismatch-opaque-data-records null): each record not met is
 * a failure of its own, naming the field, the RIM record and both values. */
#define OPAQUE_CHECKS_SHOWN 4

static void check_opaque_refs(struct gpa_device_result *d)
{
	int n = d->nopaque_mismatch;

	if (!d->opaque_done)
		return;
	if (d->opaque_conflict) {
		add(d, "opaque-data", GPA_CHECK_FAIL, "opaque-data reference values conflict: %s",
		    d->opaque_conflict_detail);
		return;
	}
	for (int i = 0; i < n && i < OPAQUE_CHECKS_SHOWN; i++) {
		const struct gpa_opaque_mismatch *m = &d->opaque_mismatch[i];
		const char *field = opaque_field_name(d->kind, m->id);
		char what[128];

		snprintf(what, sizeof(what), "%s%s(opaque id %u, %s RIM record \"%s\")",
		    field ? field : "", field ? " " : "", m->id,
		    m->source[0] == 'D' ? "driver" : d->kind == GPA_DEV_GPU ? "VBIOS" : "BIOS", m->name);
		if (m->has_runtime)
			add(d, "opaque-data", GPA_CHECK_FAIL, "%s: SVN %llu is below the minimum %llu", what,
			    (unsigned long long)m->runtime, (unsigned long long)m->golden);
		else
			add(d, "opaque-data", GPA_CHECK_FAIL,
			    "%s: the report has no %s value to compare with the minimum SVN %llu", what,
			    d->report.layout == OPAQUE_NVDAOD ? "2-byte value-type-0x87" : "SVN (legacy opaque data has no value types)",
			    (unsigned long long)m->golden);
	}
	if (n > OPAQUE_CHECKS_SHOWN)
		add(d, "opaque-data", GPA_CHECK_FAIL, "... and %d more opaque-data reference value(s) not met",
		    n - OPAQUE_CHECKS_SHOWN);
	if (n == 0)
		add(d, "opaque-data", GPA_CHECK_PASS, "all %d opaque-data reference value(s) met (minimum SVN)",
		    d->nopaque_refs);
}

/* The report must describe the GPU the driver says it is talking to. */
static void check_live_device(struct gpa_device_result *d, const struct gpa_system_info *sys)
{
	/* NVML's number for Rubin is not known to us: not compared. */
	bool gpu_arch = d->arch == GPA_ARCH_HOPPER || d->arch == GPA_ARCH_BLACKWELL;

	if (strcmp(sys->driver_version, d->info.driver_version) == 0)
		add(d, "driver-version", GPA_CHECK_PASS, "driver %s loaded matches the report", sys->driver_version);
	else
		add(d, "driver-version", GPA_CHECK_FAIL, "the loaded driver is %s but the report says %s",
		    sys->driver_version, d->info.driver_version);
	if (strcasecmp(d->nvml_vbios, d->info.vbios_version) == 0)
		add(d, "vbios-version", GPA_CHECK_PASS, "VBIOS %s reported by NVML matches the report", d->nvml_vbios);
	else
		add(d, "vbios-version", GPA_CHECK_FAIL, "NVML reports VBIOS %s but the report says %s",
		    d->nvml_vbios, d->info.vbios_version);
	if (gpu_arch && arch_from_nvml(d->nvml_arch) != d->arch)
		add(d, "nvml-arch", GPA_CHECK_FAIL, "NVML reports architecture %u but the certificate chain is %s",
		    d->nvml_arch, arch_name(d->arch));
}

/* A device's stable identity: the PDI its BROM certificate names (the BROM
 * certificate is the device's own and survives firmware updates, unlike the
 * leaf, which is re-issued with every firmware: §5.4's ueid), else for a
 * switch the DEVICE_PDI its signed report carries. 0 when it has neither. */
static int device_identity(const struct gpa_device_result *d, const uint8_t **pdi, const char **where)
{
	if (d->has_pdi) {
		*pdi = d->pdi;
		*where = "the BROM certificate's serialNumber";
		return 1;
	}
	if (d->parsed && d->kind == GPA_DEV_SWITCH && d->info.has_device_pdi) {
		*pdi = d->info.device_pdi;
		*where = "the report's DEVICE_PDI";
		return 1;
	}
	return 0;
}

static bool same_device(const struct gpa_device_result *o, const struct gpa_device_result *d, char *why,
    size_t len)
{
	const uint8_t *p1, *p2;
	const char *w1, *w2;
	char hex[2 * GPA_PDI_LEN + 1];

	if (device_identity(o, &p1, &w1) && device_identity(d, &p2, &w2)) {
		if (memcmp(p1, p2, GPA_PDI_LEN) != 0)
			return false;
		hex_encode_upper(p2, GPA_PDI_LEN, hex);
		snprintf(why, len, "device identity PDI %s, from %s%s", hex, w2,
		    strcmp(o->ueid, d->ueid) != 0 ? "; their leaf certificates differ (another firmware or a re-issued leaf)" : "");
		return true;
	}
	/* Without a PDI only the leaf can tell: the same leaf is the same device. */
	if (d->ueid[0] == '\0' || strcmp(o->ueid, d->ueid) != 0)
		return false;
	snprintf(why, len, "the same leaf certificate, ueid %s; no PDI to compare", d->ueid);
	return true;
}

/* The same device twice (one GPU's evidence served for two indices, a
 * replayed report, an older report of the same GPU) must not count as two
 * genuine devices. */
static void check_duplicate(const struct gpa_appraisal *a, struct gpa_device_result *d)
{
	char why[256];

	/* Only evidence that proved itself can be the original: a device
	 * presenting someone else's chain is caught by its signature check. */
	if (!d->sig_verified)
		return;
	for (size_t j = 0; j < a->n && &a->dev[j] != d; j++) {
		const struct gpa_device_result *o = &a->dev[j];
		if (o->kind == d->kind && o->sig_verified && same_device(o, d, why, sizeof(why))) {
			add(d, "duplicate", GPA_CHECK_FAIL,
			    "the same device as %s (%s): one device's evidence presented twice", o->label, why);
			return;
		}
	}
}

static void evaluate_device(const struct gpa_appraise_cfg *cfg, const struct gpa_appraisal *a,
    struct gpa_device_result *d)
{
	d->nchecks = 0;
	if (d->not_cc) {
		add(d, "cc-mode", GPA_CHECK_FAIL,
		    "not attested: the GPU is not in confidential-computing mode (CC and Protected PCIe both off)");
		goto verdict;
	}
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
		/* A newer opaque-data version is not known to be bad: this
		 * verifier cannot read it (docs/decisions.md). */
		add(d, "report-parse", d->unsupported ? GPA_CHECK_NOT_DONE : GPA_CHECK_BAD_INPUT, "%s",
		    d->parse_error);
	} else {
		add(d, "report-parse", GPA_CHECK_PASS, "SPDM 1.1 report parsed: %u blocks, %u bytes of %s opaque data version %d",
		    d->report.nblocks, d->report.opaque_len, opaque_layout_name(d->report.layout),
		    d->report.opaque_version);
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
	if (d->nonce_match && !cfg->have_nonce && !cfg->accept_evidence_nonce)
		add(d, "nonce", GPA_CHECK_NOT_DONE,
		    "freshness not proven: no --nonce was given, so the report could be a replayed file (pass --nonce HEX, the nonce you asked for; --insecure-accept-evidence-nonce accepts the evidence's own)");
	else if (d->nonce_match)
		add(d, "nonce", GPA_CHECK_PASS, "report nonce matches%s", cfg->have_nonce ? "" :
		    " the evidence's own nonce (freshness NOT proven, accepted by --insecure-accept-evidence-nonce)");
	else
		add(d, "nonce", GPA_CHECK_FAIL, "%s", d->nonce_detail[0] ? d->nonce_detail :
		    "report nonce does not match the expected nonce");
	add(d, "fwid", d->fwid_match ? GPA_CHECK_PASS : GPA_CHECK_FAIL, "%s", d->fwid_detail);
	check_duplicate(a, d);
	if (!d->arch_check)
		goto verdict;
	if (d->live && cfg->sys != NULL && d->kind == GPA_DEV_GPU)
		check_live_device(d, cfg->sys);
	if (d->no_rim_scheme) {
		/* Never a guessed id (§16.4): the comparison cannot be done. */
		add(d, "rim-fetch", GPA_CHECK_NOT_DONE,
		    "no reference manifest scheme for %s in this version: NVIDIA defines no SWID RIM id for it, so driver %s and VBIOS %s cannot be compared with reference values",
		    d->arch == GPA_ARCH_RUBIN ? "Rubin" : arch_name(d->arch), d->info.driver_version,
		    d->info.vbios_version);
		goto verdict;
	}
	if (d->kind == GPA_DEV_GPU)
		check_rim(cfg, d, &d->driver, d->info.driver_version);
	check_rim(cfg, d, &d->vbios, d->info.vbios_version);
	check_measurements(d);
	check_opaque_refs(d);
verdict:
	d->verdict = checks_verdict(d->checks, d->nchecks);
}

#define sys_add appraisal_sys_add

void appraisal_sys_add(struct gpa_appraisal *a, const char *id, enum gpa_outcome o, const char *fmt, ...)
{
	va_list ap;

	/* The last slot is kept for saying that checks were dropped; a dropped
	 * failure still fails (see evaluate_system). */
	if (a->nsys_checks >= GPA_MAX_SYS_CHECKS - 1) {
		a->nsys_dropped++;
		if (o == GPA_CHECK_FAIL || o == GPA_CHECK_BAD_INPUT)
			a->nsys_dropped_fail = true;
		return;
	}
	va_start(ap, fmt);
	check_set(&a->sys_checks[a->nsys_checks++], id, o, fmt, ap);
	va_end(ap);
}

static const char *cpu_caps_name(unsigned c)
{
	switch (c) {
	case 1: return "AMD SEV";
	case 2: return "Intel TDX";
	case 3: return "AMD SEV-SNP";
	case 4: return "AMD SEV-SNP (vTOM)";
	default: return "none";
	}
}

int appraisal_count_genuine(const struct gpa_appraisal *a, enum gpa_device_kind kind)
{
	int n = 0;
	for (size_t i = 0; i < a->n; i++)
		n += a->dev[i].kind == kind && a->dev[i].verdict == GPA_PASS;
	return n;
}

static void check_expected_counts(struct gpa_appraisal *a)
{
	const struct gpa_system_info *s = &a->sys;

	if (s->expect_gpus >= 0) {
		int n = appraisal_count_genuine(a, GPA_DEV_GPU);
		sys_add(a, "gpu-count", n >= s->expect_gpus ? GPA_CHECK_PASS : GPA_CHECK_FAIL,
		    "%d genuine GPU(s), %d expected (--expect-gpus)", n, s->expect_gpus);
	}
	if (s->expect_switches >= 0) {
		int n = appraisal_count_genuine(a, GPA_DEV_SWITCH);
		sys_add(a, "switch-count", n >= s->expect_switches ? GPA_CHECK_PASS : GPA_CHECK_FAIL,
		    "%d genuine NVSwitch(es), %d expected (--expect-switches)", n, s->expect_switches);
	}
}

/* The confidential-computing configuration the driver reports (§9.1, §9.4). */
static void evaluate_live_system(struct gpa_appraisal *a);

static void evaluate_system(struct gpa_appraisal *a)
{
	const struct gpa_system_info *s = &a->sys;

	a->nsys_checks = 0;
	a->nsys_dropped = 0;
	a->nsys_dropped_fail = false;
	if (s->present)
		evaluate_live_system(a);
	check_expected_counts(a);
	/* Topology last: with many faulty links it can say a lot. */
	topology_evaluate(a);
	if (a->nsys_dropped > 0) {
		struct gpa_check *c = &a->sys_checks[a->nsys_checks++];
		c->id = "more";
		c->outcome = a->nsys_dropped_fail ? GPA_CHECK_FAIL : GPA_CHECK_PASS;
		snprintf(c->detail, sizeof(c->detail), "... and %d more system check(s)%s", a->nsys_dropped,
		    a->nsys_dropped_fail ? ", failures among them" : "");
	}
}

static void evaluate_live_system(struct gpa_appraisal *a)
{
	const struct gpa_system_info *s = &a->sys;
	bool cc = s->cc_feature == 1, ppcie = s->multi_gpu_mode == 1;

	/* NVIDIA's SDKs never ask for the capabilities, and some NVML builds
	 * lack the call: then the GPUs' CC mode, which the driver only enters
	 * inside a confidential VM, is what we rely on, and the output says so. */
	if (!s->have_caps)
		sys_add(a, "cpu-cc", GPA_CHECK_SKIPPED,
		    "the driver does not report the CPU's confidential-computing capability; relying on the GPUs' CC mode");
	else if (s->cpu_caps == 0)
		sys_add(a, "cpu-cc", GPA_CHECK_FAIL, "the CPU is not running a confidential VM (no TDX / SEV-SNP)");
	else
		sys_add(a, "cpu-cc", GPA_CHECK_PASS, "confidential VM: %s", cpu_caps_name(s->cpu_caps));
	if (s->have_caps)
		sys_add(a, "gpu-cc", s->gpus_caps == 1 ? GPA_CHECK_PASS : GPA_CHECK_FAIL,
		    s->gpus_caps == 1 ? "the GPUs are confidential-computing capable" :
		    "the GPUs (or this driver) do not support confidential computing");
	if (cc && ppcie)
		sys_add(a, "cc-mode", GPA_CHECK_FAIL,
		    "invalid configuration: CC mode and Protected PCIe are both on (CC is for GPUs passed through alone, Protected PCIe for NVLink systems)");
	else if (cc)
		sys_add(a, "cc-mode", GPA_CHECK_PASS, "CC mode on, Protected PCIe off");
	else if (ppcie)
		sys_add(a, "cc-mode", GPA_CHECK_PASS, "Protected PCIe on, CC mode off");
	else
		sys_add(a, "cc-mode", GPA_CHECK_FAIL,
		    "the GPUs are neither in CC mode nor in Protected PCIe mode: nothing is confidential");

	if (s->environment == 2)
		sys_add(a, "environment", GPA_CHECK_PASS, "production environment");
	else if (s->environment == 1)
		sys_add(a, "environment", GPA_CHECK_FAIL, "the driver reports a simulation environment, not production");
	else if (cc || ppcie)
		sys_add(a, "environment", GPA_CHECK_SKIPPED,
		    "the driver does not report the CC environment (unavailable); relying on the attested evidence");
	else
		sys_add(a, "environment", GPA_CHECK_FAIL, "the driver reports no CC environment (unavailable), not production");
	if (s->dev_tools == 0)
		sys_add(a, "dev-tools", GPA_CHECK_PASS, "developer tools mode off");
	else if (s->allow_dev_tools)
		sys_add(a, "dev-tools", GPA_CHECK_SKIPPED,
		    "developer tools mode ON (debugging possible: not confidential), accepted by --insecure-allow-dev-tools");
	else
		sys_add(a, "dev-tools", GPA_CHECK_FAIL, "developer tools mode is on: a debug mode is not confidential");
	if (s->gpus_total == 0)
		sys_add(a, "gpu-count", GPA_CHECK_FAIL, "the driver sees no GPU");
}

void policy_evaluate(const struct gpa_appraise_cfg *cfg, struct gpa_appraisal *a)
{
	a->verdict = a->n == 0 ? GPA_BAD_INPUT : GPA_PASS;
	for (size_t i = 0; i < a->n; i++)
		evaluate_device(cfg, a, &a->dev[i]);
	/* A relying-party policy decides on the devices' claims and may
	 * accept some failed checks (policy/rppolicy.h): before the system
	 * checks, which count the genuine devices. */
	if (cfg->rp != NULL) {
		rp_policy_apply(cfg->rp, a);
		for (size_t i = 0; i < a->n; i++)
			a->dev[i].verdict = checks_verdict(a->dev[i].checks, a->dev[i].nchecks);
	}
	for (size_t i = 0; i < a->n; i++)
		a->verdict = worse(a->verdict, a->dev[i].verdict);
	evaluate_system(a);
	if (cfg->rp != NULL)
		rp_policy_report(a);
	a->verdict = worse(a->verdict, checks_verdict(a->sys_checks, a->nsys_checks));
	appraisal_weaken_from_cfg(cfg, a);
}
