/*
 * Relying-party policies on claim sets made from NVIDIA's real vectors:
 * NVIDIA's shipped Rego policies (../shared/vectors/nvidia-2.0/policies/),
 * ours (policies/) and JSON policies in the Python SDK's format, each with
 * the decision NVIDIA's engine gives on the same claims, reasoned case by
 * case. The claims come from a real verification of the recorded evidence
 * (revocation cannot be checked offline: where a case needs the claims of
 * a run whose OCSP answers were good, the four OCSP claims of every chain are
 * set as such a run gives them, and the case says so).
 */
#include "harness.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "gpuattest.h"
#include "policy/rppolicy.h"

#define V "vectors/nvidia/"
#define P2 "vectors/nvidia-2.0/policies/"

static char tmpdir[64];

/* DIR/<id>.xml -> a real RIM file, as --rim-dir reads it. */
static void link_rim(const char *id, const char *rel)
{
	char path[256], abs[PATH_MAX];
	const char *src = shared_path(rel);

	snprintf(path, sizeof(path), "%s/%s.xml", tmpdir, id);
	unlink(path);
	if (src == NULL || realpath(src, abs) == NULL || symlink(abs, path) != 0)
		fprintf(stderr, "cannot link %s\n", rel);
}

/* The "claims" array of a verification, or NULL. */
static json_t *claims_of(gpuattest_config *cfg, int rc, gpuattest_result *res)
{
	json_t *doc, *claims = NULL;
	char *s;

	if (rc != 0 || res == NULL) {
		fprintf(stderr, "  verification stopped: %s\n", gpuattest_config_error(cfg));
		gpuattest_config_free(cfg);
		return NULL;
	}
	s = gpuattest_result_json(res);
	doc = json_loads(s, 0, NULL);
	if (doc != NULL)
		claims = json_incref(json_object_get(doc, "claims"));
	json_decref(doc);
	free(s);
	gpuattest_result_free(res);
	gpuattest_config_free(cfg);
	return claims;
}

static gpuattest_config *offline_config(const char *at)
{
	gpuattest_config *cfg = gpuattest_config_new();
	time_t t;

	gpuattest_config_add_rim_dir(cfg, tmpdir);
	gpuattest_config_insecure_skip_revocation(cfg);
	gpuattest_config_offline(cfg);
	gpuattest_config_no_cache(cfg);
	gpuattest_config_insecure_accept_evidence_nonce(cfg);
	if (at != NULL && time_parse_rfc3339(at, &t) == 0)
		gpuattest_config_set_time(cfg, t);
	return cfg;
}

static json_t *report_claims(const char *dir, const char *at)
{
	gpuattest_config *cfg = offline_config(at);
	gpuattest_result *res = NULL;
	char rep[4096], chain[4096];
	int rc;

	snprintf(rep, sizeof(rep), "%s/attestation_report.hex.txt", shared_path(dir));
	snprintf(chain, sizeof(chain), "%s/cert_chain.pem.txt", shared_path(dir));
	rc = gpuattest_verify_report_files(cfg, rep, chain, &res);
	return claims_of(cfg, rc, res);
}

static json_t *evidence_claims(const char *rel, bool sw, const char *at)
{
	gpuattest_config *cfg = offline_config(at);
	gpuattest_result *res = NULL;
	char path[4096];
	int rc;

	snprintf(path, sizeof(path), "%s", shared_path(rel));
	rc = sw ? gpuattest_verify_system_files(cfg, NULL, path, &res) : gpuattest_verify_evidence_file(cfg, path, &res);
	return claims_of(cfg, rc, res);
}

/* What a run whose OCSP answers were all good, fresh and validly signed
 * puts in every chain object. */
static void ocsp_good(json_t *claims)
{
	size_t i;
	json_t *c;

	json_array_foreach(claims, i, c) {
		const char *k;
		json_t *v;
		json_object_foreach(c, k, v) {
			if (!json_is_object(v) || json_object_get(v, "x-nvidia-cert-ocsp-status") == NULL)
				continue;
			json_object_set_new(v, "x-nvidia-cert-ocsp-status", json_string("good"));
			json_object_set_new(v, "x-nvidia-cert-ocsp-nonce-matches", json_true());
			json_object_set_new(v, "x-nvidia-cert-ocsp-response-valid", json_true());
		}
	}
}

static const char *chain_status(const json_t *claims, const char *chain)
{
	return json_string_value(json_object_get(json_object_get(json_array_get(claims, 0), chain),
	    "x-nvidia-cert-status"));
}

/* The decision of policy file rel (under ../shared when shared, else the
 * repository) on claims: "true", "false" or "error: ...". */
static const char *decide(const char *rel, bool shared, const json_t *claims)
{
	static char out[1100];
	struct gpa_err e = {{0}};
	const char *path = shared ? shared_path(rel) : rel;
	struct rp_policy *p = path ? rp_policy_load_file(path, &e) : NULL;
	json_t *overall = json_pack("{s:s, s:b}", "x-nvidia-ver", "3.0", "x-nvidia-overall-att-result", 1);
	bool m = false;

	if (p == NULL)
		snprintf(out, sizeof(out), "load error: %s", e.msg);
	else if (rp_policy_decide(p, claims, overall, 1764288000, &m, &e) != 0)
		snprintf(out, sizeof(out), "error: %s", e.msg);
	else
		snprintf(out, sizeof(out), "%s", m ? "true" : "false");
	rp_policy_free(p);
	json_decref(overall);
	return out;
}

#define DECIDES(rel, shared, claims, want) CHECK_STREQ(decide(rel, shared, claims), want)

/* NVIDIA's Azure H100 (595.71.05, VBIOS 96.00.9F.00.04): every built-in
 * check passes at 2026-11-28. */
static void test_azure_h100(void)
{
	SHARED_OR_SKIP(ev, V "gpu/hopper_595.71.05_azure/gpu-evidence.json");
	json_t *c;

	link_rim("NV_GPU_DRIVER_GH100_595.71.05", V "rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml");
	link_rim("NV_GPU_VBIOS_1010_0210_886_96009F0004", V "rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml");
	c = evidence_claims(V "gpu/hopper_595.71.05_azure/gpu-evidence.json", false, "2026-11-28T00:00:00Z");
	CHECK(c != NULL && json_array_size(c) == 1);
	if (c == NULL)
		return;
	/* Revocation not checked: every chain's OCSP status is "not-checked",
	 * and NVIDIA's policies all want "good". */
	DECIDES("policies/nvidia-default.rego", false, c, "false");
	DECIDES(P2 "allow_gpu_measurement_mismatch_index_7.rego", true, c, "false");
	ocsp_good(c);
	/* Now each chain is valid/good/fresh/signed, measres success, no
	 * mismatch records: NVIDIA's default holds. */
	DECIDES("policies/nvidia-default.rego", false, c, "true");
	/* index 7: the first check_gpu_measurements_match holds (records null). */
	DECIDES(P2 "allow_gpu_measurement_mismatch_index_7.rego", true, c, "true");
	/* Revoked RIM chains allowed, "good" among them; records null. */
	DECIDES(P2 "allow_opaque_data_mismatch_and_revocation.rego", true, c, "true");
	/* The input is the claims array, not an EAR: input.ear_status is
	 * undefined, the body fails, the default false stands. */
	DECIDES(P2 "accept_corim_ear_affirming.rego", true, c, "false");
	DECIDES("policies/accept-expired-driver-rim-cert.rego", false, c, "true");
	/* [595, 71, 5] >= [580, 0, 0]. */
	DECIDES("policies/minimum-driver-version.rego", false, c, "true");
	DECIDES("policies/allowed-vbios-versions.rego", false, c, "true");
	/* A GPU alone in CC mode: no NVSwitch, no switch PDIs. */
	DECIDES("policies/require-protected-pcie.rego", false, c, "false");
	/* An empty array: every device holds vacuously, count(input) > 0 not. */
	{
		json_t *none = json_array();
		DECIDES("policies/nvidia-default.rego", false, none, "false");
		DECIDES(P2 "allow_gpu_measurement_mismatch_index_7.rego", true, none, "false");
		json_decref(none);
	}
	json_decref(c);
}

/* NVIDIA's 2023 H100 sample (545.00, VBIOS 96.00.5E.00.01) with its
 * test_no_gpu RIMs. */
static void test_h100_545(void)
{
	SHARED_OR_SKIP(dir, V "gpu/hopper_545.00_2023");
	json_t *c;

	link_rim("NV_GPU_DRIVER_GH100_545.00", V "rim/driver/NV_GPU_DRIVER_GH100_545.00__Driver_RIM_test_no_gpu.swidtag");
	link_rim("NV_GPU_VBIOS_1010_0200_882_96005E0001", V "rim/vbios/1010_0200_882_96005E0001_test_no_gpu.swidtag");

	/* 2024-01-01: everything valid. */
	c = report_claims(V "gpu/hopper_545.00_2023", "2024-01-01T00:00:00Z");
	CHECK(c != NULL);
	if (c == NULL)
		return;
	ocsp_good(c);
	DECIDES("policies/nvidia-default.rego", false, c, "true");
	/* [545, 0] < [580, 0, 0]. */
	DECIDES("policies/minimum-driver-version.rego", false, c, "false");
	/* 96.00.5E.00.01 is not in the example's list. */
	DECIDES("policies/allowed-vbios-versions.rego", false, c, "false");
	json_decref(c);

	/* 2026-11-28: both RIM leaf certificates have expired. */
	c = report_claims(V "gpu/hopper_545.00_2023", "2026-11-28T00:00:00Z");
	CHECK(c != NULL);
	if (c == NULL)
		return;
	ocsp_good(c);
	CHECK_STREQ(chain_status(c, "x-nvidia-gpu-driver-rim-cert-chain"), "expired");
	CHECK_STREQ(chain_status(c, "x-nvidia-gpu-vbios-rim-cert-chain"), "expired");
	DECIDES("policies/nvidia-default.rego", false, c, "false");
	/* The VBIOS RIM's expiry is not accepted by this example. */
	DECIDES("policies/accept-expired-driver-rim-cert.rego", false, c, "false");
	/* NVIDIA's 2.0 examples want every chain "valid". */
	DECIDES(P2 "allow_gpu_measurement_mismatch_index_7.rego", true, c, "false");
	DECIDES(P2 "allow_opaque_data_mismatch_and_revocation.rego", true, c, "false");
	/* Only the driver RIM's expired (the VBIOS chain as it was before its
	 * own expiry): the example accepts it, NVIDIA's default does not. */
	json_object_set_new(json_object_get(json_array_get(c, 0), "x-nvidia-gpu-vbios-rim-cert-chain"),
	    "x-nvidia-cert-status", json_string("valid"));
	DECIDES("policies/accept-expired-driver-rim-cert.rego", false, c, "true");
	DECIDES("policies/nvidia-default.rego", false, c, "false");
	json_decref(c);

	/* The production VBIOS RIM of the same version: VBIOS indices 1, 2, 3
	 * and 9 do not match, measres fail, four mismatch records. */
	link_rim("NV_GPU_VBIOS_1010_0200_882_96005E0001", V "rim/vbios/1010_0200_882_96005E0001_PROD.swidtag");
	c = report_claims(V "gpu/hopper_545.00_2023", "2024-01-01T00:00:00Z");
	CHECK(c != NULL);
	if (c == NULL)
		return;
	ocsp_good(c);
	CHECK_INT((int)json_array_size(json_object_get(json_array_get(c, 0), "x-nvidia-mismatch-measurement-records")), 4);
	DECIDES("policies/nvidia-default.rego", false, c, "false");
	/* Records not null and not all index 7. */
	DECIDES(P2 "allow_gpu_measurement_mismatch_index_7.rego", true, c, "false");
	/* It ignores measres but wants the hash-mismatch records null. */
	DECIDES(P2 "allow_opaque_data_mismatch_and_revocation.rego", true, c, "false");
	json_decref(c);
}

/* NVIDIA's LS10 NVSwitch sample (BIOS 96.10.55.00.01, 8 GPU PDIs), valid
 * at 2025-06-01. */
static void test_switch(void)
{
	SHARED_OR_SKIP(ev, V "switch/ls10_96.10.55.00.01/evidence.json");
	json_t *c;

	link_rim("NV_SWITCH_BIOS_5612_0002_890_9610550001",
	    V "rim/switch/NV_SWITCH_BIOS_5612_0002_890_9610550001__signed_2024-05.xml");
	c = evidence_claims(V "switch/ls10_96.10.55.00.01/evidence.json", true, "2025-06-01T00:00:00Z");
	CHECK(c != NULL);
	if (c == NULL)
		return;
	ocsp_good(c);
	DECIDES("policies/nvidia-default.rego", false, c, "true");
	/* Switch rule: measres success and both chains. */
	DECIDES(P2 "allow_gpu_measurement_mismatch_index_7.rego", true, c, "true");
	DECIDES(P2 "allow_opaque_data_mismatch_and_revocation.rego", true, c, "true");
	/* A switch naming its GPUs: Protected PCIe (no GPU claim set to fail). */
	DECIDES("policies/require-protected-pcie.rego", false, c, "true");
	json_decref(c);
}

/* JSON policies (the Python SDK's format; the claim names of nvtrust's
 * tests/policies/local/NVGPULocalv4PolicyExample.json, as facts). */
static void test_json_policies(void)
{
	SHARED_OR_SKIP(ev, V "gpu/hopper_595.71.05_azure/gpu-evidence.json");
	static const char *local_v4 =
	    "{\"version\": \"4.0\", \"authorization-rules\": {\"type\": \"JWT\","
	    " \"overall-claims\": {\"iss\": \"LOCAL_GPU_VERIFIER\", \"x-nvidia-overall-att-result\": true, \"x-nvidia-ver\": \"3.0\"},"
	    " \"detached-claims\": {\"measres\": \"success\", \"x-nvidia-gpu-arch-check\": true,"
	    " \"x-nvidia-gpu-attestation-report-cert-chain\": {\"x-nvidia-cert-status\": \"valid\", \"x-nvidia-cert-ocsp-status\": \"good\"},"
	    " \"x-nvidia-gpu-driver-rim-schema-validated\": true}}}";
	static const char *ours =
	    "{\"version\": \"4.0\", \"authorization-rules\": {\"type\": \"JWT\","
	    " \"overall-claims\": {\"x-nvidia-overall-att-result\": true, \"x-nvidia-ver\": \"3.0\"},"
	    " \"detached-claims\": {\"measres\": \"success\", \"x-nvidia-gpu-arch-check\": true,"
	    " \"x-nvidia-gpu-driver-version\": \"595.71.05\","
	    " \"x-nvidia-gpu-attestation-report-cert-chain\": {\"x-nvidia-cert-status\": \"valid\", \"x-nvidia-cert-ocsp-status\": \"good\"}}}}";
	struct gpa_err e = {{0}};
	json_t *c, *overall = json_pack("{s:s, s:b}", "x-nvidia-ver", "3.0", "x-nvidia-overall-att-result", 1);
	struct rp_policy *p;
	bool m = true;

	link_rim("NV_GPU_DRIVER_GH100_595.71.05", V "rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml");
	link_rim("NV_GPU_VBIOS_1010_0210_886_96009F0004", V "rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml");
	c = evidence_claims(V "gpu/hopper_595.71.05_azure/gpu-evidence.json", false, "2026-11-28T00:00:00Z");
	CHECK(c != NULL);
	if (c == NULL) {
		json_decref(overall);
		return;
	}
	ocsp_good(c);
	/* NVIDIA's local v4 policy on our claims: no match, as the SDK's
	 * matcher decides it: our overall claims have no "iss" (the Python
	 * verifier's LOCAL_GPU_VERIFIER) and our claims no
	 * x-nvidia-gpu-driver-rim-schema-validated (a Python-only claim, §10.2). */
	p = rp_policy_load(local_v4, strlen(local_v4), "local-v4.json", &e);
	CHECK(p != NULL && rp_policy_language(p) == RP_JSON);
	CHECK(p != NULL && rp_policy_decide(p, c, overall, 0, &m, &e) == 0 && !m);
	rp_policy_free(p);
	/* The same rules without the Python-only claims: match. */
	p = rp_policy_load(ours, strlen(ours), "ours.json", &e);
	CHECK(p != NULL && rp_policy_decide(p, c, overall, 0, &m, &e) == 0 && m);
	/* Type-sensitive: the driver version as a number is not the string. */
	json_object_set_new(json_array_get(c, 0), "x-nvidia-gpu-driver-version", json_integer(595));
	CHECK(p != NULL && rp_policy_decide(p, c, overall, 0, &m, &e) == 0 && !m);
	rp_policy_free(p);
	json_decref(c);
	json_decref(overall);
}

static const struct {
	const char *text, *want;
} json_refusals[] = {
	{"{\"authorization-rules\": {\"type\": \"JWT\"}, \"extra\": 1}", "p.json: the top level: unknown key \"extra\""},
	{"{\"version\": \"1.0\", \"authorization-rules\": {\"x-nv-gpu-available\": true}}", "a version 1.0 policy (claims directly under authorization-rules"},
	{"{\"version\": \"3.0\", \"authorization-rules\": {\"type\": \"JWT\", \"x-nv-gpu-available\": true}}", "authorization-rules: unknown key \"x-nv-gpu-available\""},
	{"{\"authorization-rules\": {\"type\": \"EAR\"}}", "authorization-rules.type must be \"JWT\""},
	{"{\"version\": 3}", "\"version\" must be a string"},
	{"{\"version\": \"3.0\"}", "needs an \"authorization-rules\" object"},
	{"{\"authorization-rules\": {\"type\": \"JWT\", \"overall-claims\": []}}", "authorization-rules.overall-claims must be an object"},
	{"{\"authorization-rules\": {\"type\": \"JWT\",\n \"detached-claims\": {\"a\": 1, \"a\": 2}}}", "p.json:2:"},
	{"{\"authorization-rules\": ", "p.json:1:"},
};

static void test_load_refusals(void)
{
	struct gpa_err e = {{0}};
	struct rp_policy *p;

	for (size_t i = 0; i < sizeof(json_refusals) / sizeof(json_refusals[0]); i++) {
		p = rp_policy_load(json_refusals[i].text, strlen(json_refusals[i].text), "p.json", &e);
		CHECK(p == NULL);
		CHECK_CONTAINS(e.msg, json_refusals[i].want);
		rp_policy_free(p);
	}
	/* Rego: the decision rule must exist; the file name leads. */
	p = rp_policy_load("package policy\nx := 1\n", 22, "p.rego", &e);
	CHECK(p == NULL);
	CHECK_CONTAINS(e.msg, "p.rego: no rule nv_match");
	p = rp_policy_load_file("policies/does-not-exist.rego", &e);
	CHECK(p == NULL);
	CHECK_CONTAINS(e.msg, "policies/does-not-exist.rego");
}

/* Every Rego policy shipped here and by NVIDIA loads. */
static void test_all_load(void)
{
	static const char *ours[] = {"policies/nvidia-default.rego", "policies/require-protected-pcie.rego",
	    "policies/minimum-driver-version.rego", "policies/allowed-vbios-versions.rego",
	    "policies/accept-expired-driver-rim-cert.rego"};
	static const char *nvidia[] = {P2 "accept_corim_ear_affirming.rego",
	    P2 "allow_gpu_measurement_mismatch_index_7.rego", P2 "allow_opaque_data_mismatch_and_revocation.rego"};
	struct gpa_err e = {{0}};

	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		struct rp_policy *p = rp_policy_load_file(ours[i], &e);
		if (p == NULL)
			fprintf(stderr, "  %s\n", e.msg);
		CHECK(p != NULL && rp_policy_language(p) == RP_REGO && strlen(rp_policy_sha256(p)) == 64);
		rp_policy_free(p);
	}
	for (size_t i = 0; i < sizeof(nvidia) / sizeof(nvidia[0]); i++) {
		const char *path = shared_path(nvidia[i]);
		struct rp_policy *p;
		if (path == NULL) {
			SKIP("shared vectors not found");
		}
		p = rp_policy_load_file(path, &e);
		if (p == NULL)
			fprintf(stderr, "  %s\n", e.msg);
		CHECK(p != NULL);
		rp_policy_free(p);
	}
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gpa-rppolicy-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	RUN(test_all_load);
	RUN(test_load_refusals);
	RUN(test_azure_h100);
	RUN(test_h100_545);
	RUN(test_switch);
	RUN(test_json_policies);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return harness_done("rppolicy");
}
