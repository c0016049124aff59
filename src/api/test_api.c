/*
 * The embedder's API, used as an embedder would: only gpuattest.h. Evidence
 * from memory must give the same verdict as the same bytes from a file;
 * per-device accessors must agree with the JSON document; every index is
 * range-checked; a live call without a driver says "could not complete".
 */
#include "harness.h"

#include "gpuattest.h"

#define V "vectors/nvidia/"
#define AZ V "gpu/hopper_595.71.05_azure/"

/* A whole file in a malloc'd buffer (NUL added, not counted). */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

/* A config for the recorded Azure H100 evidence: its RIMs, no network. */
static gpuattest_config *azure_config(void)
{
	gpuattest_config *cfg = gpuattest_config_new();
	char d[4200];

	snprintf(d, sizeof(d), "%s", shared_path(V "rim/driver"));
	gpuattest_config_add_rim_dir(cfg, d);
	snprintf(d, sizeof(d), "%s", shared_path(V "rim/vbios"));
	gpuattest_config_add_rim_dir(cfg, d);
	gpuattest_config_insecure_skip_revocation(cfg);
	gpuattest_config_offline(cfg);
	gpuattest_config_no_cache(cfg);
	static const uint8_t nonce[32] = {	/* the one the evidence was collected with */
		0x69, 0x0b, 0xb5, 0x1b, 0x90, 0x43, 0x51, 0xe2, 0x81, 0x00, 0xa0, 0x61, 0x0f, 0xe6, 0x06, 0x24,
		0x25, 0x5c, 0x26, 0xd7, 0xd3, 0x8c, 0x53, 0xfb, 0x12, 0x85, 0xec, 0xfe, 0xd1, 0xca, 0xb1, 0x7a,
	};
	gpuattest_config_set_nonce(cfg, nonce, sizeof(nonce));
	return cfg;
}

static void test_version(void)
{
	CHECK_STREQ(gpuattest_version(), GPUATTEST_VERSION);
}

static void test_evidence_buffer_verifies(void)
{
	SHARED_OR_SKIP(p, AZ "gpu-evidence.json");
	gpuattest_config *cfg = azure_config();
	gpuattest_result *res = NULL;
	size_t len = 0;
	char *buf = slurp(p, &len);
	const char *id, *detail;
	int outcome, n, pass = 0;

	CHECK(buf != NULL);
	CHECK_INT(gpuattest_verify_evidence_buffer(cfg, buf, len, &res), 0);
	free(buf);		/* the result must not point into the caller's bytes */
	if (res == NULL) {
		fprintf(stderr, "  %s\n", gpuattest_config_error(cfg));
		gpuattest_config_free(cfg);
		return;
	}
	CHECK_INT(gpuattest_result_verdict(res), GPUATTEST_VERIFIED);
	CHECK_INT(gpuattest_config_error_verdict(cfg), GPUATTEST_VERIFIED);
	CHECK_INT(gpuattest_result_genuine_gpus(res), 1);
	CHECK_INT(gpuattest_result_genuine_switches(res), 0);
	CHECK_INT(gpuattest_result_device_count(res), 1);
	CHECK_INT(gpuattest_result_device_kind(res, 0), GPUATTEST_DEVICE_GPU);
	CHECK_STREQ(gpuattest_result_device_label(res, 0), "GPU 0");
	CHECK_INT(gpuattest_result_device_verdict(res, 0), GPUATTEST_VERIFIED);
	CHECK_STREQ(gpuattest_result_nonce(res),
	    "690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a");
	n = gpuattest_result_device_check_count(res, 0);
	CHECK(n > 5);
	for (int k = 0; k < n; k++) {
		CHECK_INT(gpuattest_result_device_check(res, 0, k, &id, &outcome, &detail), 0);
		CHECK(id != NULL && *id != '\0' && detail != NULL);
		pass += outcome == GPUATTEST_CHECK_PASS;
		/* only revocation may be skipped: the caller chose it */
		if (outcome != GPUATTEST_CHECK_PASS)
			CHECK_INT(outcome, GPUATTEST_CHECK_SKIPPED);
	}
	CHECK(pass > 5);
	char *claims = gpuattest_result_device_claims_json(res, 0);
	CHECK_CONTAINS(claims, "\"x-nvidia-gpu-attestation-report-signature-verified\": true");
	CHECK_CONTAINS(claims, "\"measres\": \"success\"");
	free(claims);
	gpuattest_result_free(res);
	gpuattest_config_free(cfg);
}

static void test_accessors_range_checked(void)
{
	SHARED_OR_SKIP(p, AZ "gpu-evidence.json");
	gpuattest_config *cfg = azure_config();
	gpuattest_result *res = NULL;
	size_t len = 0;
	char *buf = slurp(p, &len);
	const char *id = "untouched";

	CHECK_INT(gpuattest_verify_evidence_buffer(cfg, buf, len, &res), 0);
	free(buf);
	if (res == NULL) {
		gpuattest_config_free(cfg);
		return;
	}
	CHECK(gpuattest_result_device_label(res, 1) == NULL);
	CHECK(gpuattest_result_device_label(res, -1) == NULL);
	CHECK(gpuattest_result_device_uuid(res, 7) == NULL);
	CHECK_INT(gpuattest_result_device_kind(res, 1), -1);
	CHECK_INT(gpuattest_result_device_verdict(res, 1), -1);
	CHECK_INT(gpuattest_result_device_check_count(res, 1), -1);
	CHECK(gpuattest_result_device_claims_json(res, 1) == NULL);
	CHECK_INT(gpuattest_result_device_check(res, 0, -1, &id, NULL, NULL), -1);
	CHECK_INT(gpuattest_result_device_check(res, 0, GPUATTEST_CHECK_SKIPPED + 100, &id, NULL, NULL), -1);
	CHECK_STREQ(id, "untouched");
	gpuattest_result_free(res);
	gpuattest_config_free(cfg);
}

/* The same report in memory and as a file: one verdict. */
static void test_report_buffer_matches_file(void)
{
	SHARED_OR_SKIP(rp, AZ "attestation_report.bin");
	SHARED_OR_SKIP(cp, AZ "cert_chain.pem");
	gpuattest_config *cfg = azure_config();
	gpuattest_result *a = NULL, *b = NULL;
	size_t rlen = 0, clen = 0;
	char *report = slurp(rp, &rlen), *chain = slurp(cp, &clen);

	CHECK_INT(gpuattest_verify_report_buffer(cfg, report, rlen, chain, clen, &a), 0);
	CHECK_INT(gpuattest_verify_report_files(cfg, rp, cp, &b), 0);
	if (a != NULL && b != NULL) {
		CHECK_INT(gpuattest_result_verdict(a), gpuattest_result_verdict(b));
		CHECK_INT(gpuattest_result_genuine_gpus(a), 1);
	}
	/* one bit of the signature changed: the buffer path judges it too */
	report[rlen - 1] ^= 1;
	gpuattest_result_free(a);
	CHECK_INT(gpuattest_verify_report_buffer(cfg, report, rlen, chain, clen, &a), 0);
	if (a != NULL)
		CHECK_INT(gpuattest_result_verdict(a), GPUATTEST_FAILED);
	free(report);
	free(chain);
	gpuattest_result_free(a);
	gpuattest_result_free(b);
	gpuattest_config_free(cfg);
}

static void test_bad_buffers(void)
{
	gpuattest_config *cfg = gpuattest_config_new();
	gpuattest_result *res = (gpuattest_result *)cfg;	/* must be reset to NULL */
	static const char junk[] = "[{\"evidence\": 5}]";

	CHECK_INT(gpuattest_verify_evidence_buffer(cfg, junk, sizeof(junk) - 1, &res), -1);
	CHECK(res == NULL);
	CHECK_INT(gpuattest_config_error_verdict(cfg), GPUATTEST_BAD_INPUT);
	CHECK_CONTAINS(gpuattest_config_error(cfg), "evidence buffer");
	CHECK_INT(gpuattest_verify_evidence_buffer(cfg, NULL, 0, &res), -1);
	CHECK_INT(gpuattest_verify_report_buffer(cfg, "00", 2, NULL, 0, &res), -1);
	CHECK_CONTAINS(gpuattest_config_error(cfg), "chain");
	CHECK_INT(gpuattest_verify_system_buffers(cfg, NULL, 0, NULL, 0, &res), -1);
	CHECK_CONTAINS(gpuattest_config_error(cfg), "NVSwitch");
	gpuattest_config_free(cfg);
}

static void test_switch_system_buffer(void)
{
	SHARED_OR_SKIP(p, V "switch/ls10_96.10.55.00.01/evidence.json");
	gpuattest_config *cfg = gpuattest_config_new();
	gpuattest_result *res = NULL;
	size_t len = 0;
	char *buf = slurp(p, &len);

	gpuattest_config_insecure_skip_revocation(cfg);
	gpuattest_config_offline(cfg);
	gpuattest_config_no_cache(cfg);
	CHECK_INT(gpuattest_verify_system_buffers(cfg, NULL, 0, buf, len, &res), 0);
	free(buf);
	if (res != NULL) {
		CHECK_INT(gpuattest_result_device_count(res), 1);
		CHECK_INT(gpuattest_result_device_kind(res, 0), GPUATTEST_DEVICE_SWITCH);
		CHECK_STREQ(gpuattest_result_device_label(res, 0), "NVSwitch 0");
		/* no BIOS RIM offline: it cannot pass, and nothing failed */
		CHECK_INT(gpuattest_result_verdict(res), GPUATTEST_INCOMPLETE);
	}
	gpuattest_result_free(res);
	gpuattest_config_free(cfg);
}

/* No driver: could not complete, with the library named; the nonce the
 * caller did not set stays unset. */
static void test_live_without_driver(void)
{
	gpuattest_config *cfg = gpuattest_config_new();
	gpuattest_result *res = NULL;
	char *gj = (char *)"x", *sj = (char *)"x";

	gpuattest_config_set_nvml_lib(cfg, "/nonexistent/libnvidia-ml.so.1");
	CHECK_INT(gpuattest_verify_live(cfg, &res), -1);
	CHECK(res == NULL);
	CHECK_INT(gpuattest_config_error_verdict(cfg), GPUATTEST_INCOMPLETE);
	CHECK_CONTAINS(gpuattest_config_error(cfg), "/nonexistent/libnvidia-ml.so.1");
	CHECK_INT(gpuattest_collect_evidence(cfg, &gj, &sj), -1);
	CHECK(gj == NULL && sj == NULL);
	CHECK_INT(gpuattest_config_error_verdict(cfg), GPUATTEST_INCOMPLETE);
	gpuattest_config_free(cfg);
}

/* Tokens through the API: the EAR of a verified result verifies with the
 * signer's JWKS (and its nonce); one byte changed, it does not; a detached
 * EAT of a result whose revocation was not checked is refused, as NVIDIA's
 * per-device policy requires; a bare JWT checks its issuer. */
static void test_tokens(void)
{
	SHARED_OR_SKIP(p, AZ "gpu-evidence.json");
	gpuattest_config *cfg = azure_config();
	gpuattest_signer *s = NULL;
	gpuattest_result *res = NULL;
	char *ear = NULL, *eat = NULL, *jwt = NULL, *jwks, *claims = NULL;

	CHECK_INT(gpuattest_signer_new(cfg, "not a key", 9, NULL, NULL, &s), -1);
	CHECK(s == NULL);
	CHECK_CONTAINS(gpuattest_config_error(cfg), "PEM");
	CHECK_INT(gpuattest_signer_new(cfg, NULL, 0, "k1", "me", &s), 0);
	CHECK_INT(gpuattest_verify_evidence_file(cfg, p, &res), 0);
	if (s == NULL || res == NULL) {
		gpuattest_signer_free(s);
		gpuattest_result_free(res);
		gpuattest_config_free(cfg);
		return;
	}
	CHECK_STREQ(gpuattest_signer_kid(s), "k1");
	jwks = gpuattest_signer_jwks(s);
	CHECK_CONTAINS(jwks, "\"kid\": \"k1\"");
	CHECK(strstr(jwks, "\"d\"") == NULL);		/* never the private part */
	CHECK_INT(gpuattest_result_sign_ear(cfg, s, res, &ear), 0);
	CHECK_INT(gpuattest_verify_token(cfg, ear, strlen(ear), GPUATTEST_TOKEN_DETECT, jwks, strlen(jwks), "me",
	    &claims), GPUATTEST_VERIFIED);
	CHECK_CONTAINS(claims, "\"ear_status\": \"affirming\"");
	CHECK_CONTAINS(claims, "GPU-0");
	free(claims);
	CHECK_INT(gpuattest_verify_token(cfg, ear, strlen(ear), GPUATTEST_TOKEN_EAR, jwks, strlen(jwks), NULL,
	    NULL), GPUATTEST_FAILED);
	CHECK_CONTAINS(gpuattest_config_error(cfg), "iss");
	ear[strlen(ear) - 2] ^= 1;			/* one byte of the signature */
	CHECK_INT(gpuattest_verify_token(cfg, ear, strlen(ear), GPUATTEST_TOKEN_EAR, jwks, strlen(jwks), "me",
	    &claims), GPUATTEST_FAILED);
	CHECK(claims == NULL);
	CHECK_INT(gpuattest_result_sign_detached_eat(cfg, s, res, &eat), 0);
	CHECK(eat != NULL && eat[0] == '[');
	CHECK_INT(gpuattest_verify_token(cfg, eat, strlen(eat), GPUATTEST_TOKEN_DETECT, jwks, strlen(jwks), "me",
	    &claims), GPUATTEST_FAILED);
	CHECK_CONTAINS(gpuattest_config_error(cfg), "ocsp-status is \"not-checked\"");
	CHECK_CONTAINS(claims, "x-nvidia-overall-att-result");
	free(claims);
	CHECK_INT(gpuattest_signer_sign_jwt(cfg, s, "[1]", &jwt), -1);
	CHECK_INT(gpuattest_signer_sign_jwt(cfg, s, "{\"name\": \"node1\"}", &jwt), 0);
	CHECK_INT(gpuattest_verify_token(cfg, jwt, strlen(jwt), GPUATTEST_TOKEN_JWT, jwks, strlen(jwks), "me",
	    &claims), GPUATTEST_VERIFIED);
	CHECK_CONTAINS(claims, "\"name\": \"node1\"");
	free(claims);
	free(jwt);
	/* claims that name their issuer keep it, and are checked against it */
	CHECK_INT(gpuattest_signer_sign_jwt(cfg, s, "{\"iss\": \"LOCAL_GPU_VERIFIER\"}", &jwt), 0);
	CHECK_INT(gpuattest_verify_token(cfg, jwt, strlen(jwt), GPUATTEST_TOKEN_JWT, jwks, strlen(jwks), "me",
	    NULL), GPUATTEST_FAILED);
	CHECK_INT(gpuattest_verify_token(cfg, jwt, strlen(jwt), GPUATTEST_TOKEN_JWT, jwks, strlen(jwks),
	    "LOCAL_GPU_VERIFIER", NULL), GPUATTEST_VERIFIED);
	CHECK_INT(gpuattest_verify_token(cfg, jwt, strlen(jwt), GPUATTEST_TOKEN_JWT, "{", 1, "me", NULL),
	    GPUATTEST_BAD_INPUT);
	free(jwt);
	free(eat);
	free(ear);
	free(jwks);
	gpuattest_signer_free(s);
	gpuattest_result_free(res);
	gpuattest_config_free(cfg);
}

/* A relying-party policy through the API: loaded at once (errors name the
 * file, line and column), then deciding the verdict of the Azure evidence. */
static void test_policy(void)
{
	SHARED_OR_SKIP(p, AZ "gpu-evidence.json");
	static const char older[] =
	    "package policy\nimport rego.v1\ndefault nv_match := false\n"
	    "nv_match if every c in input { c[\"x-nvidia-gpu-driver-version\"] == \"595.71.05\" }\n";
	static const char newer[] =
	    "package policy\nimport rego.v1\ndefault nv_match := false\n"
	    "nv_match if every c in input { c[\"x-nvidia-gpu-driver-version\"] == \"600.1\" }\n";
	static const char outside[] = "package policy\nnv_match { sprintf(\"%d\", [1]) }\n";
	gpuattest_config *cfg = azure_config();
	gpuattest_result *res = NULL;
	char *json;

	CHECK_INT(gpuattest_config_set_policy(cfg, outside, strlen(outside), "mine.rego"), -1);
	CHECK_CONTAINS(gpuattest_config_error(cfg), "mine.rego:2:12: function sprintf is not supported");
	CHECK_INT(gpuattest_config_set_policy_file(cfg, "policies/no-such-policy.rego"), -1);
	CHECK_CONTAINS(gpuattest_config_error(cfg), "policies/no-such-policy.rego");
	CHECK_INT(gpuattest_config_set_policy_file(cfg, "policies/nvidia-default.rego"), 0);

	CHECK_INT(gpuattest_config_set_policy(cfg, older, strlen(older), NULL), 0);
	CHECK_INT(gpuattest_verify_evidence_file(cfg, p, &res), 0);
	CHECK(res != NULL && gpuattest_result_verdict(res) == GPUATTEST_VERIFIED);
	json = res ? gpuattest_result_json(res) : NULL;
	CHECK(json != NULL && strstr(json, "\"language\": \"rego\"") != NULL && strstr(json, "\"file\": \"policy\"") != NULL);
	free(json);
	gpuattest_result_free(res);

	CHECK_INT(gpuattest_config_set_policy(cfg, newer, strlen(newer), "newer.rego"), 0);
	CHECK_INT(gpuattest_verify_evidence_file(cfg, p, &res), 0);
	CHECK(res != NULL && gpuattest_result_verdict(res) == GPUATTEST_FAILED);
	gpuattest_result_free(res);

	/* NULL removes it: the built-in checks alone. */
	CHECK_INT(gpuattest_config_set_policy(cfg, NULL, 0, NULL), 0);
	CHECK_INT(gpuattest_verify_evidence_file(cfg, p, &res), 0);
	CHECK(res != NULL && gpuattest_result_verdict(res) == GPUATTEST_VERIFIED);
	json = res ? gpuattest_result_json(res) : NULL;
	CHECK(json != NULL && strstr(json, "\"policy\"") == NULL);
	free(json);
	gpuattest_result_free(res);
	gpuattest_config_free(cfg);
}

int main(void)
{
	RUN(test_version);
	RUN(test_evidence_buffer_verifies);
	RUN(test_accessors_range_checked);
	RUN(test_report_buffer_matches_file);
	RUN(test_bad_buffers);
	RUN(test_switch_system_buffer);
	RUN(test_live_without_driver);
	RUN(test_tokens);
	RUN(test_policy);
	return harness_done("api");
}
