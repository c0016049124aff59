/*
 * Appraisal of the real recorded evidence against the verdicts in
 * ../shared/vectors/nvidia/MANIFEST.md (§6), in process, plus single-byte
 * mutations of a genuine report. RIMs come from a source that maps RIM ids
 * to the shared files, so nothing is copied.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "appraise/appraise.h"

#define V "vectors/nvidia/"

struct map_entry {
	const char *id;
	const char *rel;
};

struct map_src {
	const struct map_entry *e;
	int n;
};

static void map_fetch(void *ctx, const char *const *ids, size_t n, uint8_t **bufs, size_t *lens,
    struct rim **loaded, enum gpa_fetch_status *st, char (*errs)[GPA_FETCH_ERR_LEN])
{
	struct map_src *m = ctx;

	for (size_t i = 0; i < n; i++) {
		st[i] = GPA_FETCH_NOT_FOUND;
		snprintf(errs[i], 256, "not in the test map");
		for (int k = 0; k < m->n; k++) {
			struct gpa_err e;
			const char *p;
			if (strcmp(m->e[k].id, ids[i]) != 0 || (p = shared_path(m->e[k].rel)) == NULL)
				continue;
			st[i] = file_read(p, GPA_RIM_MAX_BYTES, &bufs[i], &lens[i], &e) == 0 ?
			    GPA_FETCH_OK : GPA_FETCH_ERROR;
		}
	}
}

struct fixture {
	struct gpa_appraise_cfg cfg;
	struct map_src src;
	struct evidence_set set;
	struct gpa_appraisal a;
};

static struct gpa_anchors *pinned(void)
{
	static struct gpa_anchors *a;
	struct gpa_err e;

	if (a == NULL)
		a = anchors_new(true, &e);
	return a;
}

static void fx_init(struct fixture *f, const char *at, const struct map_entry *rims, int nrims)
{
	struct gpa_err e;

	memset(f, 0, sizeof(*f));
	rim_global_init(&e);
	f->cfg.anchors = pinned();
	time_parse_rfc3339(at, &f->cfg.at);
	f->cfg.insecure_no_ocsp = true;
	f->src.e = rims;
	f->src.n = nrims;
	f->cfg.sources[0].name = "test map";
	f->cfg.sources[0].fetch = map_fetch;
	f->cfg.sources[0].ctx = &f->src;
	f->cfg.nsources = 1;
}

static int fx_load_raw(struct fixture *f, const char *report_rel, const char *chain_rel)
{
	char rp[4096], cp[4096];
	struct gpa_err e;

	if (shared_path(report_rel) == NULL)
		return -1;
	snprintf(rp, sizeof(rp), "%s", shared_path(report_rel));
	snprintf(cp, sizeof(cp), "%s", shared_path(chain_rel));
	return evidence_load_raw(rp, cp, GPA_DEV_GPU, &f->set, &e);
}

static int fx_load_json(struct fixture *f, const char *rel, enum gpa_device_kind kind)
{
	struct gpa_err e;
	const char *p = shared_path(rel);

	if (p == NULL)
		return -1;
	return evidence_load_json_file(p, kind, &f->set, &e);
}

static void fx_run(struct fixture *f)
{
	struct gpa_err e;

	CHECK_INT(appraise_evidence(&f->cfg, &f->set, &f->a, &e), 0);
}

static void fx_done(struct fixture *f)
{
	appraisal_clear(&f->a);
	evidence_set_clear(&f->set);
}

/* The outcome of the first check with this id, or -1. */
static int outcome(const struct gpa_device_result *d, const char *id)
{
	for (int i = 0; i < d->nchecks; i++)
		if (strcmp(d->checks[i].id, id) == 0)
			return (int)d->checks[i].outcome;
	return -1;
}

static int count_outcome(const struct gpa_device_result *d, enum gpa_outcome o)
{
	int n = 0;
	for (int i = 0; i < d->nchecks; i++)
		n += d->checks[i].outcome == o;
	return n;
}

#define AZURE_NONCE "690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a"

static const struct map_entry azure_rims[] = {
	{"NV_GPU_DRIVER_GH100_595.71.05", V "rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml"},
	{"NV_GPU_VBIOS_1010_0210_886_96009F0004", V "rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml"},
};

static const struct map_entry test_no_gpu_rims[] = {
	{"NV_GPU_DRIVER_GH100_545.00", V "rim/driver/NV_GPU_DRIVER_GH100_545.00__Driver_RIM_test_no_gpu.swidtag"},
	{"NV_GPU_VBIOS_1010_0200_882_96005E0001", V "rim/vbios/1010_0200_882_96005E0001_test_no_gpu.swidtag"},
};

static void test_azure_passes(void)
{
	struct fixture f;

	if (shared_path(V "gpu/hopper_595.71.05_azure/gpu-evidence.json") == NULL)
		SKIP("shared vectors not found");
	fx_init(&f, "2026-11-28T00:00:00Z", azure_rims, 2);
	f.cfg.have_nonce = true;
	CHECK_INT(hex_decode(AZURE_NONCE, 64, f.cfg.nonce, sizeof(f.cfg.nonce), true), 32);
	CHECK_INT(fx_load_json(&f, V "gpu/hopper_595.71.05_azure/gpu-evidence.json", GPA_DEV_GPU), 0);
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_PASS);
	struct gpa_device_result *d = &f.a.dev[0];
	CHECK_STREQ(d->measres, "success");
	CHECK_INT(d->driver.nactive, 22);
	CHECK_INT(d->driver.nmatched, 22);
	CHECK_INT(d->vbios.nactive, 12);
	CHECK_INT(d->vbios.nmatched, 12);
	CHECK_INT(d->nmismatch, 0);
	CHECK(d->sig_verified && d->nonce_match && d->fwid_match && d->arch_check);
	CHECK_STREQ(d->ueid, "670675190330701367605337753580860420643006460535");
	CHECK_STREQ(d->hwmodel, "GH100 A01 GSP BROM");
	CHECK_INT(outcome(d, "device-revocation"), GPA_CHECK_SKIPPED);
	CHECK_INT(count_outcome(d, GPA_CHECK_FAIL), 0);
	fx_done(&f);
}

/* Recorded evidence without the nonce asked for proves no freshness: a
 * replayed file looks the same. Not done, unless the caller opts in. */
static void test_recorded_needs_nonce(void)
{
	struct fixture f;

	if (shared_path(V "gpu/hopper_595.71.05_azure/gpu-evidence.json") == NULL)
		SKIP("shared vectors not found");
	fx_init(&f, "2026-11-28T00:00:00Z", azure_rims, 2);
	CHECK_INT(fx_load_json(&f, V "gpu/hopper_595.71.05_azure/gpu-evidence.json", GPA_DEV_GPU), 0);
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_INCOMPLETE);
	CHECK_INT(outcome(&f.a.dev[0], "nonce"), GPA_CHECK_NOT_DONE);
	CHECK_INT(count_outcome(&f.a.dev[0], GPA_CHECK_NOT_DONE), 1);
	appraisal_clear(&f.a);
	f.cfg.accept_evidence_nonce = true;
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_PASS);
	CHECK_INT(outcome(&f.a.dev[0], "nonce"), GPA_CHECK_PASS);
	CHECK(f.a.nweak >= 1);
	bool listed = false;
	for (int i = 0; i < f.a.nweak; i++)
		listed |= strcmp(f.a.weak[i].id, "evidence-nonce") == 0;
	CHECK(listed);
	fx_done(&f);
}

static void test_revocation_required_by_default(void)
{
	struct fixture f;

	if (shared_path(V "gpu/hopper_595.71.05_azure/gpu-evidence.json") == NULL)
		SKIP("shared vectors not found");
	fx_init(&f, "2026-11-28T00:00:00Z", azure_rims, 2);
	f.cfg.insecure_no_ocsp = false;
	CHECK_INT(fx_load_json(&f, V "gpu/hopper_595.71.05_azure/gpu-evidence.json", GPA_DEV_GPU), 0);
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_INCOMPLETE);
	CHECK_INT(outcome(&f.a.dev[0], "device-revocation"), GPA_CHECK_NOT_DONE);
	CHECK_INT(outcome(&f.a.dev[0], "rim-revocation"), GPA_CHECK_NOT_DONE);
	fx_done(&f);
}

static void test_2023_sample_pinned_time(void)
{
	struct fixture f;

	if (shared_path(V "gpu/hopper_545.00_2023/attestation_report.hex.txt") == NULL)
		SKIP("shared vectors not found");
	fx_init(&f, "2024-01-01T00:00:00Z", test_no_gpu_rims, 2);
	f.cfg.accept_evidence_nonce = true;
	CHECK_INT(fx_load_raw(&f, V "gpu/hopper_545.00_2023/attestation_report.hex.txt",
	    V "gpu/hopper_545.00_2023/cert_chain.pem.txt"), 0);
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_PASS);
	CHECK_INT(f.a.dev[0].driver.nmatched, 21);
	CHECK_INT(f.a.dev[0].vbios.nmatched, 12);
	CHECK_STREQ(f.a.dev[0].fwid_detail, "report carries no FWID; nothing to compare");
	fx_done(&f);

	/* Now: the RIM signing certificates have expired, and that is the only failure. */
	fx_init(&f, "2026-11-28T00:00:00Z", test_no_gpu_rims, 2);
	CHECK_INT(fx_load_raw(&f, V "gpu/hopper_545.00_2023/attestation_report.hex.txt",
	    V "gpu/hopper_545.00_2023/cert_chain.pem.txt"), 0);
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_FAIL);
	CHECK_INT(count_outcome(&f.a.dev[0], GPA_CHECK_FAIL), 2);
	for (int i = 0; i < f.a.dev[0].nchecks; i++)
		if (f.a.dev[0].checks[i].outcome == GPA_CHECK_FAIL) {
			CHECK_STREQ(f.a.dev[0].checks[i].id, "rim-cert-chain");
			CHECK_CONTAINS(f.a.dev[0].checks[i].detail, "expired");
		}
	CHECK_STREQ(f.a.dev[0].measres, "success");
	fx_done(&f);
}

static void test_prod_vbios_rim_mismatches(void)
{
	static const struct map_entry rims[] = {
		{"NV_GPU_DRIVER_GH100_545.00", V "rim/driver/NV_GPU_DRIVER_GH100_545.00__Driver_RIM_test_no_gpu.swidtag"},
		{"NV_GPU_VBIOS_1010_0200_882_96005E0001", V "rim/vbios/1010_0200_882_96005E0001_PROD.swidtag"},
	};
	static const int want[] = {1, 2, 3, 9};
	struct fixture f;

	if (shared_path(V "gpu/hopper_545.00_2023/attestation_report.hex.txt") == NULL)
		SKIP("shared vectors not found");
	fx_init(&f, "2024-01-01T00:00:00Z", rims, 2);
	CHECK_INT(fx_load_raw(&f, V "gpu/hopper_545.00_2023/attestation_report.hex.txt",
	    V "gpu/hopper_545.00_2023/cert_chain.pem.txt"), 0);
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_FAIL);
	CHECK_STREQ(f.a.dev[0].measres, "fail");
	CHECK_INT(f.a.dev[0].nmismatch, 4);
	for (int i = 0; i < 4 && i < f.a.dev[0].nmismatch; i++) {
		CHECK_INT(f.a.dev[0].mismatch[i].index, want[i]);
		CHECK_STREQ(f.a.dev[0].mismatch[i].source, "Firmware");
		CHECK_INT(f.a.dev[0].mismatch[i].runtime_size, 48);
	}
	CHECK_INT(outcome(&f.a.dev[0], "measurements"), GPA_CHECK_FAIL);
	fx_done(&f);
}

static void test_535_cases(void)
{
	static const struct map_entry vbios_only[] = {
		{"NV_GPU_VBIOS_1010_0200_882_96005E0001", V "rim/vbios/1010_0200_882_96005E0001_PROD.swidtag"},
	};
	static const struct map_entry tampered_driver[] = {
		{"NV_GPU_DRIVER_GH100_535.86.09", V "rim/negative/NV_GPU_DRIVER_GH100_535.86.09_measurement_mismatch.xml"},
		{"NV_GPU_VBIOS_1010_0200_882_96005E0001", V "rim/vbios/1010_0200_882_96005E0001_PROD.swidtag"},
	};
	static const struct map_entry reissued[] = {
		{"NV_GPU_VBIOS_1010_0200_882_96005E0001",
		    V "rim/vbios/NV_GPU_VBIOS_1010_0200_882_96005E0001__reissued_2023-12__nvidia_name_measurement_mismatch.xml"},
	};
	const char *rep = V "gpu/hopper_535.86.09/attestation_report.hex.txt";
	const char *chain = V "gpu/hopper_535.86.09/cert_chain.pem.txt";
	struct fixture f;

	if (shared_path(rep) == NULL)
		SKIP("shared vectors not found");
	/* VBIOS part passes; the driver RIM is missing, so the verdict is incomplete. */
	fx_init(&f, "2024-06-01T00:00:00Z", vbios_only, 1);
	CHECK_INT(fx_load_raw(&f, rep, chain), 0);
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_INCOMPLETE);
	CHECK_INT(f.a.dev[0].vbios.nmatched, 12);
	CHECK_INT(f.a.dev[0].nmismatch, 0);
	CHECK_INT(outcome(&f.a.dev[0], "rim-fetch"), GPA_CHECK_NOT_DONE);
	fx_done(&f);

	/* Altered driver RIM: its digest does not verify, so it is not used. */
	fx_init(&f, "2025-06-01T00:00:00Z", tampered_driver, 2);
	CHECK_INT(fx_load_raw(&f, rep, chain), 0);
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_FAIL);
	CHECK(!f.a.dev[0].driver.signature_verified);
	CHECK_INT(outcome(&f.a.dev[0], "rim-signature"), GPA_CHECK_FAIL);
	CHECK_STREQ(f.a.dev[0].measres, "not-run");
	fx_done(&f);

	/* Re-issued VBIOS RIM: index 9 differs. */
	fx_init(&f, "2024-06-01T00:00:00Z", reissued, 1);
	CHECK_INT(fx_load_raw(&f, rep, chain), 0);
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_FAIL);
	CHECK_INT(f.a.dev[0].nmismatch, 1);
	if (f.a.dev[0].nmismatch == 1)
		CHECK_INT(f.a.dev[0].mismatch[0].index, 9);
	fx_done(&f);

	/* A wrong nonce. */
	fx_init(&f, "2024-06-01T00:00:00Z", vbios_only, 1);
	f.cfg.have_nonce = true;
	CHECK_INT(fx_load_raw(&f, rep, chain), 0);
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_FAIL);
	CHECK_INT(outcome(&f.a.dev[0], "nonce"), GPA_CHECK_FAIL);
	fx_done(&f);
}

static void test_570_expired_and_altered(void)
{
	static const struct map_entry rims[] = {
		{"NV_GPU_DRIVER_GH100_570.124.03", V "rim/negative/NV_GPU_DRIVER_GH100_570.124.03_expired.xml"},
		{"NV_GPU_VBIOS_1010_0205_862_96005E0004", V "rim/vbios/1010_0205_862_96005E0004_PROD.swidtag"},
	};
	struct fixture f;

	if (shared_path(V "gpu/hopper_570.124.03/attestation_report.hex.txt") == NULL)
		SKIP("shared vectors not found");
	fx_init(&f, "2024-06-01T00:00:00Z", rims, 2);
	CHECK_INT(fx_load_raw(&f, V "gpu/hopper_570.124.03/attestation_report.hex.txt",
	    V "gpu/hopper_570.124.03/cert_chain.pem.txt"), 0);
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_FAIL);
	CHECK(!f.a.dev[0].driver.signature_verified);
	CHECK(f.a.dev[0].driver.chain.status != GPA_CERT_VALID);
	CHECK_INT(f.a.dev[0].nmismatch, 1);	/* VBIOS index 9 */
	if (f.a.dev[0].nmismatch == 1)
		CHECK_INT(f.a.dev[0].mismatch[0].index, 9);
	fx_done(&f);
}

static void test_580_vbios_index_9(void)
{
	static const struct map_entry rims[] = {
		{"NV_GPU_VBIOS_1010_0205_862_9600740020", V "rim/vbios/1010_0205_862_9600740020_PROD.swidtag"},
	};
	struct fixture f;

	if (shared_path(V "gpu/hopper_580.159.03/attestation_report.hex.txt") == NULL)
		SKIP("shared vectors not found");
	fx_init(&f, "2024-06-01T00:00:00Z", rims, 1);
	CHECK_INT(fx_load_raw(&f, V "gpu/hopper_580.159.03/attestation_report.hex.txt",
	    V "gpu/hopper_580.159.03/cert_chain.pem.txt"), 0);
	fx_run(&f);
	/* A definite mismatch wins over the missing driver RIM. */
	CHECK_INT(f.a.verdict, GPA_FAIL);
	CHECK_INT(f.a.dev[0].nmismatch, 1);
	if (f.a.dev[0].nmismatch == 1)
		CHECK_INT(f.a.dev[0].mismatch[0].index, 9);
	CHECK_INT(outcome(&f.a.dev[0], "rim-fetch"), GPA_CHECK_NOT_DONE);
	fx_done(&f);
}

static void test_550_driver_version_mismatch(void)
{
	static const struct map_entry rims[] = {
		{"NV_GPU_DRIVER_GH100_550.90.07", V "rim/driver/NV_GPU_DRIVER_GH100_550.144.03.xml"},
	};
	struct fixture f;

	if (shared_path(V "gpu/hopper_550.90.07/attestation_report.hex.txt") == NULL)
		SKIP("shared vectors not found");
	fx_init(&f, "2026-11-28T00:00:00Z", rims, 1);
	CHECK_INT(fx_load_raw(&f, V "gpu/hopper_550.90.07/attestation_report.hex.txt",
	    V "gpu/hopper_550.90.07/cert_chain.pem.txt"), 0);
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_FAIL);
	CHECK_INT(outcome(&f.a.dev[0], "rim-version"), GPA_CHECK_FAIL);
	CHECK(!f.a.dev[0].driver.version_match);
	/* A RIM for another version is never compared. */
	CHECK_INT(f.a.dev[0].nmismatch, 0);
	fx_done(&f);
}

static void test_invalid_signature_wins(void)
{
	struct fixture f;

	if (shared_path(V "gpu/hopper_560.00_invalid_signature/attestation_report.hex.txt") == NULL)
		SKIP("shared vectors not found");
	fx_init(&f, "2026-11-28T00:00:00Z", NULL, 0);
	CHECK_INT(fx_load_raw(&f, V "gpu/hopper_560.00_invalid_signature/attestation_report.hex.txt",
	    V "gpu/hopper_560.00_invalid_signature/cert_chain_paired.pem.txt"), 0);
	fx_run(&f);
	/* RIMs are missing too; the bad signature decides. */
	CHECK_INT(f.a.verdict, GPA_FAIL);
	CHECK_INT(outcome(&f.a.dev[0], "report-signature"), GPA_CHECK_FAIL);
	fx_done(&f);
}

static void test_wrong_rim_anchor(void)
{
	struct fixture f;
	struct gpa_err e;
	struct gpa_anchors *only_device;
	const char *root = shared_path(V "roots/nvidia_device_identity_ca.pem");

	if (root == NULL)
		SKIP("shared vectors not found");
	only_device = anchors_new(false, &e);
	CHECK_INT(anchors_add_pem_file(only_device, root, &e), 0);
	fx_init(&f, "2026-11-28T00:00:00Z", azure_rims, 2);
	f.cfg.anchors = only_device;
	CHECK_INT(fx_load_json(&f, V "gpu/hopper_595.71.05_azure/gpu-evidence.json", GPA_DEV_GPU), 0);
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_FAIL);
	CHECK_INT(f.a.dev[0].driver.chain.status, GPA_CERT_INVALID);
	CHECK_INT(f.a.dev[0].dev_chain.status, GPA_CERT_VALID);
	CHECK_STREQ(f.a.dev[0].measres, "not-run");
	fx_done(&f);
	anchors_free(only_device);
}

static void test_evidence_level_only_vectors(void)
{
	static const char *const files[] = {
		V "gpu/hopper_590.12/evidence.json",
		V "gpu/hopper_590.12/evidence_other_gpu.json",
		V "gpu/hopper_570.86.10_cert_hold/evidence.json",
		V "gpu/hopper_550.90.07/evidence_with_metadata.json",
	};
	struct fixture f;

	if (shared_path(files[0]) == NULL)
		SKIP("shared vectors not found");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		fx_init(&f, "2026-11-28T00:00:00Z", NULL, 0);
		CHECK_INT(fx_load_json(&f, files[i], GPA_DEV_GPU), 0);
		fx_run(&f);
		/* Evidence checks pass; the RIMs are not in the corpus. */
		CHECK_INT(f.a.verdict, GPA_INCOMPLETE);
		CHECK(f.a.dev[0].sig_verified && f.a.dev[0].fwid_match && f.a.dev[0].nonce_match);
		CHECK_INT(f.a.dev[0].dev_chain.status, GPA_CERT_VALID);
		CHECK_INT(count_outcome(&f.a.dev[0], GPA_CHECK_FAIL), 0);
		fx_done(&f);
	}
}

static void test_blackwell_evidence(void)
{
	struct fixture f;

	if (shared_path(V "gpu/blackwell_gb100_575.32/attestation_report.hex.txt") == NULL)
		SKIP("shared vectors not found");
	fx_init(&f, "2026-11-28T00:00:00Z", NULL, 0);
	CHECK_INT(fx_load_raw(&f, V "gpu/blackwell_gb100_575.32/attestation_report.hex.txt",
	    V "gpu/blackwell_gb100_575.32/cert_chain.pem.txt"), 0);
	fx_run(&f);
	CHECK_INT(f.a.verdict, GPA_INCOMPLETE);
	CHECK_INT(f.a.dev[0].arch, GPA_ARCH_BLACKWELL);
	CHECK(f.a.dev[0].info.has_fwid && f.a.dev[0].fwid_match);
	CHECK_STREQ(f.a.dev[0].info.driver_rim_id, "NV_GPU_CC_DRIVER_GB100_575.32");
	CHECK_STREQ(f.a.dev[0].info.vbios_rim_id, "NV_GPU_VBIOS_G525_0220_886_970088000F");
	fx_done(&f);
}

static void test_claims_v3_shape(void)
{
	static const char *const keys[] = {
		"eat_nonce", "measres", "secboot", "dbgstat", "hwmodel", "ueid", "oemid",
		"x-nvidia-device-type", "x-nvidia-mismatch-measurement-records", "x-nvidia-gpu-arch-check",
		"x-nvidia-gpu-driver-version", "x-nvidia-gpu-vbios-version",
		"x-nvidia-gpu-attestation-report-cert-chain",
		"x-nvidia-gpu-attestation-report-cert-chain-fwid-match",
		"x-nvidia-gpu-attestation-report-parsed", "x-nvidia-gpu-attestation-report-nonce-match",
		"x-nvidia-gpu-attestation-report-signature-verified", "x-nvidia-gpu-driver-rim-fetched",
		"x-nvidia-gpu-driver-rim-cert-chain", "x-nvidia-gpu-driver-rim-signature-verified",
		"x-nvidia-gpu-driver-rim-version-match", "x-nvidia-gpu-driver-rim-measurements-available",
		"x-nvidia-gpu-vbios-rim-fetched", "x-nvidia-gpu-vbios-rim-cert-chain",
		"x-nvidia-gpu-vbios-rim-version-match", "x-nvidia-gpu-vbios-rim-signature-verified",
		"x-nvidia-gpu-vbios-rim-measurements-available", "x-nvidia-gpu-vbios-index-no-conflict",
		"x-nvidia-gpu-claims-version",
	};
	struct fixture f;
	json_t *c, *chain;

	if (shared_path(V "gpu/hopper_595.71.05_azure/gpu-evidence.json") == NULL)
		SKIP("shared vectors not found");
	fx_init(&f, "2026-11-28T00:00:00Z", azure_rims, 2);
	CHECK_INT(fx_load_json(&f, V "gpu/hopper_595.71.05_azure/gpu-evidence.json", GPA_DEV_GPU), 0);
	fx_run(&f);
	c = claims_device_json(&f.a, &f.a.dev[0]);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CHECK(json_object_get(c, keys[i]) != NULL);
	CHECK_STREQ(json_string_value(json_object_get(c, "measres")), "success");
	CHECK(json_is_true(json_object_get(c, "secboot")));
	CHECK_STREQ(json_string_value(json_object_get(c, "dbgstat")), "disabled");
	CHECK_STREQ(json_string_value(json_object_get(c, "oemid")), "5703");
	CHECK_STREQ(json_string_value(json_object_get(c, "x-nvidia-gpu-vbios-version")), "96.00.9F.00.04");
	CHECK(json_is_null(json_object_get(c, "x-nvidia-mismatch-measurement-records")));
	CHECK_STREQ(json_string_value(json_object_get(c, "eat_nonce")),
	    "690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a");
	chain = json_object_get(c, "x-nvidia-gpu-driver-rim-cert-chain");
	CHECK_STREQ(json_string_value(json_object_get(chain, "x-nvidia-cert-status")), "valid");
	CHECK_STREQ(json_string_value(json_object_get(chain, "x-nvidia-cert-expiration-date")),
	    "2028-04-23T05:42:57Z");
	CHECK_STREQ(json_string_value(json_object_get(chain, "x-nvidia-cert-ocsp-status")), "not-checked");
	/* 4.0 by default (NVIDIA 2.0): both new keys always there; a legacy
	 * report with RIMs without opaque records has none to show. */
	CHECK_STREQ(json_string_value(json_object_get(c, "x-nvidia-gpu-claims-version")), "4.0");
	CHECK(json_is_object(json_object_get(c, "x-nvidia-attester-claims")));
	CHECK_INT(json_object_size(json_object_get(c, "x-nvidia-attester-claims")), 0);
	CHECK(json_is_null(json_object_get(c, "x-nvidia-mismatch-opaque-data-records")));
	CHECK_INT(json_object_size(c), sizeof(keys) / sizeof(keys[0]) + 2);
	json_decref(c);
	/* 3.0 on request: exactly the v3 keys, same verdict. */
	f.a.claims_version = 3;
	c = claims_device_json(&f.a, &f.a.dev[0]);
	CHECK_STREQ(json_string_value(json_object_get(c, "x-nvidia-gpu-claims-version")), "3.0");
	CHECK(json_object_get(c, "x-nvidia-attester-claims") == NULL);
	CHECK(json_object_get(c, "x-nvidia-mismatch-opaque-data-records") == NULL);
	CHECK_INT(json_object_size(c), sizeof(keys) / sizeof(keys[0]));
	json_decref(c);
	fx_done(&f);
}

/* Single-byte changes of a genuine report must stop it verifying. Each
 * position costs a whole appraisal (two RIM signatures), so by default every
 * 5th position plus every byte of the headers, nonce, opaque data and
 * signature is tried; GPUATTEST_FLIP_STEP=1 tries all of them (the x509
 * tests also flip every byte against the signature check alone). */
static void test_every_byte_flip_fails(void)
{
	struct fixture f;
	uint8_t *orig;
	size_t len;
	int passed = 0;
	const char *step = getenv("GPUATTEST_FLIP_STEP");
	size_t stride = step ? (size_t)atoi(step) : 5;

	if (shared_path(V "gpu/hopper_595.71.05_azure/gpu-evidence.json") == NULL)
		SKIP("shared vectors not found");
	fx_init(&f, "2026-11-28T00:00:00Z", azure_rims, 2);
	CHECK_INT(fx_load_json(&f, V "gpu/hopper_595.71.05_azure/gpu-evidence.json", GPA_DEV_GPU), 0);
	len = f.set.items[0].report_len;
	orig = malloc(len);
	memcpy(orig, f.set.items[0].report, len);
	if (stride < 1)
		stride = 1;
	for (size_t pos = 0; pos < len; pos++) {
		struct gpa_err e;
		/* Headers (request + response header) and everything after the
		 * measurement record are always tried. */
		if (pos >= 45 && pos < 45 + 3520 && (pos - 45) % stride != 0)
			continue;
		f.set.items[0].report[pos] ^= (uint8_t)(1u << (pos % 8));
		CHECK_INT(appraise_evidence(&f.cfg, &f.set, &f.a, &e), 0);
		if (f.a.verdict == GPA_PASS) {
			passed++;
			fprintf(stderr, "byte %zu flipped still verifies\n", pos);
		}
		appraisal_clear(&f.a);
		memcpy(f.set.items[0].report, orig, len);
	}
	CHECK_INT(passed, 0);
	free(orig);
	evidence_set_clear(&f.set);
}

int main(void)
{
	RUN(test_azure_passes);
	RUN(test_recorded_needs_nonce);
	RUN(test_revocation_required_by_default);
	RUN(test_2023_sample_pinned_time);
	RUN(test_prod_vbios_rim_mismatches);
	RUN(test_535_cases);
	RUN(test_570_expired_and_altered);
	RUN(test_580_vbios_index_9);
	RUN(test_550_driver_version_mismatch);
	RUN(test_invalid_signature_wins);
	RUN(test_wrong_rim_anchor);
	RUN(test_evidence_level_only_vectors);
	RUN(test_blackwell_evidence);
	RUN(test_claims_v3_shape);
	RUN(test_every_byte_flip_fails);
	return harness_done("appraise");
}
