/*
 * token/build: the signed results made from an appraisal. An EAR (IETF
 * RATS EAR, the shape NVIDIA 2.0's local verifier emits, §16.6) and an
 * NRAS-shaped detached EAT (§10.5), the second also from bare claim sets
 * (a verifier service that re-signs claims).
 */
#include "token/token_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuattest.h"
#include "x509/x509.h"

#define EAR_PROFILE	"tag:github.com,2023:veraison/ear"
#define EAR_POLICY_ID	"gpuattest:builtin-policy"

void token_submod_label(enum gpa_device_kind kind, int n, char out[32])
{
	snprintf(out, 32, "%s-%d", kind == GPA_DEV_SWITCH ? "SWITCH" : "GPU", n);
}

/* affirming only for a pass; a definite failure or unreadable evidence is
 * contraindicated; "could not complete" makes no claim ("none"), so that
 * nobody reads it as a success with warnings. */
static const char *ear_status_of(enum gpa_verdict v)
{
	switch (v) {
	case GPA_PASS: return "affirming";
	case GPA_FAIL:
	case GPA_BAD_INPUT: return "contraindicated";
	case GPA_INCOMPLETE: return "none";
	}
	return "contraindicated";
}

static const char *verdict_word(enum gpa_verdict v)
{
	switch (v) {
	case GPA_PASS: return "pass";
	case GPA_FAIL: return "fail";
	case GPA_BAD_INPUT: return "bad-input";
	case GPA_INCOMPLETE: return "incomplete";
	}
	return "fail";
}

/* The checks that kept a device from passing, by id. */
static json_t *failed_checks(const struct gpa_check *c, int n)
{
	json_t *arr = json_array();

	for (int i = 0; i < n; i++)
		if (c[i].outcome == GPA_CHECK_FAIL || c[i].outcome == GPA_CHECK_BAD_INPUT ||
		    c[i].outcome == GPA_CHECK_NOT_DONE)
			json_array_append_new(arr, json_pack("{s:s,s:s}", "check", c[i].id,
			    "outcome", outcome_name(c[i].outcome)));
	return arr;
}

static json_t *ear_submod(const struct gpa_appraisal *a, const struct gpa_device_result *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "ear_status", json_string(ear_status_of(d->verdict)));
	json_object_set_new(o, "ear_appraisal_policy_id", json_string(EAR_POLICY_ID));
	json_object_set_new(o, "ear_attester_claims", claims_device_json(a, d));
	json_object_set_new(o, "x-gpuattest-device", json_string(d->label));
	json_object_set_new(o, "x-gpuattest-failed-checks", failed_checks(d->checks, d->nchecks));
	return o;
}

json_t *token_ear_claims(const struct gpa_appraisal *a)
{
	json_t *ear = json_object(), *submods = json_object();
	uint8_t nonce[SPDM_NONCE_LEN];
	char *n64 = NULL;
	int ngpu = 0, nsw = 0;

	if (ear == NULL || submods == NULL) {
		json_decref(ear);
		json_decref(submods);
		return NULL;
	}
	json_object_set_new(ear, "eat_profile", json_string(EAR_PROFILE));
	json_object_set_new(ear, "ear_verifier_id", json_pack("{s:s,s:s}", "developer", "gpuattest",
	    "build", "gpuattest/" GPUATTEST_VERSION));
	if (hex_decode(a->nonce_hex, strlen(a->nonce_hex), nonce, sizeof(nonce), false) == SPDM_NONCE_LEN &&
	    (n64 = token_b64url(nonce, sizeof(nonce))) != NULL)
		json_object_set_new(ear, "eat_nonce", json_string(n64));
	free(n64);
	json_object_set_new(ear, "ear_status", json_string(ear_status_of(a->verdict)));
	json_object_set_new(ear, "x-gpuattest-verdict", json_string(verdict_word(a->verdict)));
	json_object_set_new(ear, "x-gpuattest-exit-code", json_integer(a->verdict));
	json_object_set_new(ear, "x-gpuattest-nonce-source", json_string(a->nonce_generated ? "generated" :
	    a->nonce_from_caller ? "caller" : "evidence"));
	json_object_set_new(ear, "x-gpuattest-revocation-checked", json_boolean(!a->no_ocsp));
	if (a->nsys_checks > 0)
		json_object_set_new(ear, "x-gpuattest-system-failed-checks",
		    failed_checks(a->sys_checks, a->nsys_checks));
	for (size_t i = 0; i < a->n; i++) {
		const struct gpa_device_result *d = &a->dev[i];
		char label[32];

		token_submod_label(d->kind, d->kind == GPA_DEV_SWITCH ? nsw++ : ngpu++, label);
		json_object_set_new(submods, label, ear_submod(a, d));
	}
	json_object_set_new(ear, "submods", submods);
	return ear;
}

char *token_ear_sign(const struct token_signer *s, const struct gpa_appraisal *a, struct gpa_err *e)
{
	json_t *ear = token_ear_claims(a);
	char *t;

	if (ear == NULL) {
		gpa_err_set(e, "out of memory");
		return NULL;
	}
	t = token_sign_jwt(s, ear, e);
	json_decref(ear);
	return t;
}

static bool is_switch_claims(const json_t *c)
{
	const json_t *t = json_object_get(c, "x-nvidia-device-type");

	return (json_is_string(t) && strcmp(json_string_value(t), "nvswitch") == 0) ||
	    json_object_get(c, "x-nvidia-switch-attestation-report-cert-chain") != NULL;
}

json_t *token_detached_eat(const struct token_signer *s, json_t *const *claims, size_t n,
    bool overall, const char *nonce_hex, struct gpa_err *e)
{
	json_t *detached = json_object(), *submods = json_object(), *top = NULL, *eat = NULL;
	int ngpu = 0, nsw = 0;
	char *t = NULL;

	if (detached == NULL || submods == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_deep_copy(claims[i]);
		char label[32], digest[65];
		bool sw;

		if (c == NULL || !json_is_object(c)) {
			json_decref(c);
			gpa_err_set(e, "device claims %zu: not a JSON object", i);
			goto fail;
		}
		sw = is_switch_claims(c);
		token_submod_label(sw ? GPA_DEV_SWITCH : GPA_DEV_GPU, sw ? nsw++ : ngpu++, label);
		t = token_sign_jwt(s, c, e);
		json_decref(c);
		if (t == NULL)
			goto fail;
		x509_sha256_hex(t, strlen(t), digest);
		json_object_set_new(detached, label, json_string(t));
		json_object_set_new(submods, label, json_pack("[s,[s,s]]", "DIGEST", "SHA-256", digest));
		free(t);
		t = NULL;
	}
	if ((top = json_pack("{s:s,s:s,s:b,s:s,s:O}", "sub", "NVIDIA-PLATFORM-ATTESTATION",
	    "x-nvidia-ver", "3.0", "x-nvidia-overall-att-result", overall, "eat_nonce", nonce_hex,
	    "submods", submods)) == NULL)
		goto oom;
	if ((t = token_sign_jwt(s, top, e)) == NULL)
		goto fail;
	eat = json_pack("[[s,s],O]", "JWT", t, detached);
	if (eat == NULL)
		goto oom;
	goto out;
oom:
	gpa_err_set(e, "out of memory");
fail:
	json_decref(eat);
	eat = NULL;
out:
	free(t);
	json_decref(top);
	json_decref(submods);
	json_decref(detached);
	return eat;
}

json_t *token_detached_eat_from_appraisal(const struct token_signer *s, const struct gpa_appraisal *a,
    struct gpa_err *e)
{
	json_t **claims = calloc(a->n ? a->n : 1, sizeof(*claims)), *eat = NULL;

	if (claims == NULL) {
		gpa_err_set(e, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < a->n; i++)
		if ((claims[i] = claims_device_json(a, &a->dev[i])) == NULL) {
			gpa_err_set(e, "out of memory");
			goto out;
		}
	eat = token_detached_eat(s, claims, a->n, a->verdict == GPA_PASS, a->nonce_hex, e);
out:
	for (size_t i = 0; i < a->n; i++)
		json_decref(claims[i]);
	free(claims);
	return eat;
}
