/*
 * libFuzzer target for relying-party policies (policy/): the Rego lexer,
 * parser, name resolution and evaluator, and the JSON-policy loader and
 * matcher. The input is a policy, optionally followed by a NUL byte and a
 * JSON input document; without one, the claims of two devices (a GPU that
 * passed, a switch that did not) are the input. Every policy must end in a
 * decision or an error within the engine's bounds: no crash, no leak, no
 * sanitizer report, no unbounded time.
 *
 * Never: reads files or the network.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/rego.h"
#include "policy/rppolicy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char claims[] =
    "[{\"x-nvidia-device-type\": \"gpu\", \"measres\": \"success\", \"secboot\": true, \"dbgstat\": \"disabled\","
    " \"x-nvidia-gpu-driver-version\": \"595.71.05\", \"x-nvidia-gpu-vbios-version\": \"96.00.9F.00.04\","
    " \"x-nvidia-mismatch-measurement-records\": null, \"x-nvidia-mismatch-opaque-data-records\": null,"
    " \"x-nvidia-attester-claims\": {},"
    " \"x-nvidia-gpu-attestation-report-cert-chain\": {\"x-nvidia-cert-status\": \"valid\","
    " \"x-nvidia-cert-ocsp-status\": \"good\", \"x-nvidia-cert-ocsp-nonce-matches\": true,"
    " \"x-nvidia-cert-ocsp-response-valid\": true, \"x-nvidia-cert-revocation-reason\": null}},"
    " {\"x-nvidia-device-type\": \"nvswitch\", \"measres\": \"fail\", \"secboot\": null,"
    " \"x-nvidia-mismatch-measurement-records\": [{\"index\": 7, \"runtimeValue\": \"NA\"}],"
    " \"x-nvidia-switch-gpu-pdis\": [\"A1\", \"B2\"]}]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *fixed, *overall;
	const uint8_t *nul = memchr(data, 0, size);
	size_t plen = nul ? (size_t)(nul - data) : size;
	struct gpa_err e;
	json_t *input = NULL;
	struct rp_policy *p;
	bool m;

	if (fixed == NULL) {
		fixed = json_loads(claims, 0, NULL);
		overall = json_pack("{s:s, s:b}", "x-nvidia-ver", "3.0", "x-nvidia-overall-att-result", 1);
		if (fixed == NULL || overall == NULL)
			abort();
	}
	if (nul != NULL)
		input = json_loadb((const char *)nul + 1, size - plen - 1, JSON_DECODE_ANY, NULL);
	p = rp_policy_load((const char *)data, plen, "fuzz.rego", &e);
	if (p != NULL) {
		(void)rp_policy_decide(p, input ? input : fixed, overall, 1764288000, &m, &e);
		rp_policy_free(p);
	} else {
		/* Not a whole policy (no nv_match, another package): the engine
		 * still evaluates whatever rule x it defines. */
		struct rego_policy *r = rego_load((const char *)data, plen, "fuzz.rego", &e);
		json_t *v = NULL;
		if (r != NULL && rego_eval_rule(r, "x", input ? input : fixed, 0, &v, &e) == 1)
			json_decref(v);
		rego_free(r);
	}
	json_decref(input);
	return 0;
}
