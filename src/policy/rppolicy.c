/*
 * A relying-party policy as a whole: loading (Rego or JSON by content), the
 * decision on the claims, and how it becomes the verdict (which failed
 * built-in checks it may accept: rppolicy.h, docs/decisions.md).
 */
#include "policy/rppolicy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "policy/rego.h"

struct rp_policy {
	enum rp_language lang;
	struct rego_policy *rego;
	struct rp_json_policy *json;
	char name[256];
	char sha256[65];
	char *text;		/* the bytes loaded (a receipt records them) */
	size_t len;
};

static bool looks_like_json(const char *text, size_t len)
{
	size_t i = 0;

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
		i++;
	return i < len && text[i] == '{';
}

static int digest_hex(const char *text, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return -1;
	hex_encode(md, 32, out);
	return 0;
}

struct rp_policy *rp_policy_load(const char *text, size_t len, const char *name, struct gpa_err *e)
{
	struct rp_policy *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		gpa_err_set(e, "out of memory");
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (len > REGO_MAX_POLICY_BYTES) {
		gpa_err_set(e, "%s: %zu bytes, more than the %u a policy may have", name, len, REGO_MAX_POLICY_BYTES);
		goto fail;
	}
	if ((p->text = malloc(len + 1)) == NULL) {
		gpa_err_set(e, "out of memory");
		goto fail;
	}
	memcpy(p->text, text, len);
	p->text[len] = '\0';
	p->len = len;
	if (digest_hex(text, len, p->sha256) != 0) {
		gpa_err_set(e, "%s: SHA-256 not available", name);
		goto fail;
	}
	if (looks_like_json(text, len)) {
		p->lang = RP_JSON;
		if ((p->json = rp_json_load(text, len, name, e)) == NULL)
			goto fail;
		return p;
	}
	p->lang = RP_REGO;
	if ((p->rego = rego_load(text, len, name, e)) == NULL || rego_check_decision(p->rego, e) != 0)
		goto fail;
	return p;
fail:
	rp_policy_free(p);
	return NULL;
}

struct rp_policy *rp_policy_load_file(const char *path, struct gpa_err *e)
{
	uint8_t *buf;
	size_t len;
	struct rp_policy *p;

	/* One byte more than allowed, so that the size error names the bound. */
	if (file_read(path, REGO_MAX_POLICY_BYTES + 1, &buf, &len, e) != 0)
		return NULL;
	p = rp_policy_load((const char *)buf, len, path, e);
	free(buf);
	return p;
}

void rp_policy_free(struct rp_policy *p)
{
	if (p == NULL)
		return;
	rego_free(p->rego);
	rp_json_free(p->json);
	free(p->text);
	free(p);
}

const char *rp_policy_name(const struct rp_policy *p)
{
	return p->name;
}

const char *rp_policy_sha256(const struct rp_policy *p)
{
	return p->sha256;
}

const char *rp_policy_text(const struct rp_policy *p, size_t *len)
{
	*len = p->len;
	return p->text;
}

enum rp_language rp_policy_language(const struct rp_policy *p)
{
	return p->lang;
}

int rp_policy_decide(const struct rp_policy *p, const json_t *devices, const json_t *overall, time_t at,
    bool *match, struct gpa_err *e)
{
	if (p->lang == RP_JSON) {
		*match = rp_json_match(p->json, devices, overall);
		return 0;
	}
	return rego_decide(p->rego, devices, (int64_t)at, match, e);
}

/* ---- the verdict --------------------------------------------------------- */

/* The chain a certificate or revocation check is about. */
static const struct gpa_chain_claims *check_chain(const struct gpa_device_result *d, const struct gpa_check *c,
    const char **what)
{
	if (strncmp(c->id, "device-", 7) == 0) {
		*what = "device";
		return &d->dev_chain;
	}
	if (d->kind == GPA_DEV_GPU && strncmp(c->detail, "driver RIM ", 11) == 0) {
		*what = "driver RIM";
		return &d->driver.chain;
	}
	*what = d->kind == GPA_DEV_GPU ? "VBIOS RIM" : "switch BIOS RIM";
	return &d->vbios.chain;
}

static bool ocsp_answer_lacks_nonce(const struct gpa_chain_claims *c)
{
	return strcmp(c->ocsp_status, "good") == 0 && c->ocsp_response_valid && !c->ocsp_nonce_matches;
}

/* Whether a failed check is one a policy may accept, and if so, in a few
 * words, what it accepts ("driver RIM certificate expired"). What the
 * evidence's authenticity rests on never is: the report signature, the
 * chain to a trusted anchor, the device's own revocation, the nonce, the
 * FWID, the RIM signature and version, readable input. */
static bool acceptable(const struct gpa_device_result *d, const struct gpa_check *c, char *why, size_t n)
{
	const struct gpa_chain_claims *ch;
	const char *what;

	if (c->outcome != GPA_CHECK_FAIL)
		return false;
	if (strcmp(c->id, "device-cert-chain") == 0 || strcmp(c->id, "rim-cert-chain") == 0) {
		ch = check_chain(d, c, &what);
		if (ch->status != GPA_CERT_EXPIRED && ch->status != GPA_CERT_NOT_YET_VALID)
			return false;
		snprintf(why, n, "%s certificate %s", what, ch->status == GPA_CERT_EXPIRED ? "expired" : "not yet valid");
		return true;
	}
	if (strcmp(c->id, "device-revocation") == 0 || strcmp(c->id, "rim-revocation") == 0) {
		ch = check_chain(d, c, &what);
		if (ocsp_answer_lacks_nonce(ch)) {
			snprintf(why, n, "%s certificate OCSP answer without this run's nonce", what);
			return true;
		}
		if (strcmp(c->id, "rim-revocation") != 0 || !ch->ocsp_response_valid)
			return false;
		if (strcmp(ch->ocsp_status, "revoked") == 0)
			snprintf(why, n, "%s certificate revoked (%s)", what,
			    ch->revocation_reason[0] ? ch->revocation_reason : "unspecified");
		else if (strcmp(ch->ocsp_status, "unknown") == 0)
			snprintf(why, n, "%s certificate unknown to the OCSP responder", what);
		else
			return false;
		return true;
	}
	if (strcmp(c->id, "measurements") == 0) {
		snprintf(why, n, "%.300s", c->detail);
		return true;
	}
	if (strcmp(c->id, "opaque-data") == 0 && !d->opaque_conflict) {
		snprintf(why, n, "opaque-data reference value not met: %.260s", c->detail);
		return true;
	}
	return false;
}

static json_t *claims_array(const struct gpa_appraisal *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < a->n; i++)
		json_array_append_new(arr, claims_device_json(a, &a->dev[i]));
	return arr;
}

/* The overall claims as appraisal_json gives them, with the built-in
 * result of the devices (what NVIDIA's Python SDK's token carries). */
static json_t *overall_claims(const struct gpa_appraisal *a)
{
	json_t *o = json_object();
	bool pass = a->n > 0;

	for (size_t i = 0; i < a->n; i++)
		pass &= a->dev[i].verdict == GPA_PASS;
	json_object_set_new(o, "x-nvidia-ver", json_string("3.0"));
	json_object_set_new(o, "x-nvidia-overall-att-result", json_boolean(pass));
	json_object_set_new(o, "eat_nonce", json_string(a->nonce_hex));
	return o;
}

static void accept_checks(const struct rp_policy *p, struct gpa_appraisal *a)
{
	for (size_t i = 0; i < a->n; i++) {
		struct gpa_device_result *d = &a->dev[i];
		for (int k = 0; k < d->nchecks; k++) {
			struct gpa_check *c = &d->checks[k];
			char why[320], detail[sizeof(c->detail)];

			if (!acceptable(d, c, why, sizeof(why)))
				continue;
			c->outcome = GPA_CHECK_SKIPPED;
			c->accepted_by_policy = true;
			snprintf(detail, sizeof(detail), "%s: accepted by policy %s", c->detail, p->name);
			memcpy(c->detail, detail, sizeof(detail));
			a->rp.naccepted++;
			appraisal_weaken(a, "policy-override", "%s: %s: accepted by policy %s (sha256 %.16s...)",
			    d->label, why, p->name, p->sha256);
		}
	}
}

void rp_policy_apply(const struct rp_policy *p, struct gpa_appraisal *a)
{
	struct gpa_rp_outcome *o = &a->rp;
	struct gpa_err e = {{0}};
	json_t *devs = claims_array(a), *overall = overall_claims(a);
	bool match = false;

	memset(o, 0, sizeof(*o));
	o->applied = true;
	snprintf(o->name, sizeof(o->name), "%s", p->name);
	memcpy(o->sha256, p->sha256, sizeof(o->sha256));
	o->language = p->lang == RP_JSON ? "json" : "rego";
	if (devs == NULL || overall == NULL) {
		o->decision = -1;
		snprintf(o->error, sizeof(o->error), "out of memory");
	} else if (rp_policy_decide(p, devs, overall, a->at, &match, &e) != 0) {
		o->decision = -1;
		snprintf(o->error, sizeof(o->error), "%s", e.msg);
	} else {
		o->decision = match ? 1 : 0;
		if (match)
			accept_checks(p, a);
	}
	json_decref(devs);
	json_decref(overall);
}

void rp_policy_report(struct gpa_appraisal *a)
{
	const struct gpa_rp_outcome *o = &a->rp;
	const char *rule = strcmp(o->language, "json") == 0 ? "its authorization-rules" : "data.policy.nv_match";

	if (!o->applied)
		return;
	if (o->decision < 0)
		appraisal_sys_add(a, "policy", GPA_CHECK_BAD_INPUT, "policy %s (sha256 %s) could not be evaluated: %s",
		    o->name, o->sha256, o->error);
	else if (o->decision == 0)
		appraisal_sys_add(a, "policy", GPA_CHECK_FAIL, "verdict by policy %s (sha256 %s): %s %s",
		    o->name, o->sha256, rule, strcmp(rule, "data.policy.nv_match") == 0 ? "is false" :
		    "do not match the claims");
	else
		appraisal_sys_add(a, "policy", GPA_CHECK_PASS, "verdict by policy %s (sha256 %s): %s %s%s",
		    o->name, o->sha256, rule, strcmp(rule, "data.policy.nv_match") == 0 ? "is true" :
		    "match the claims", o->naccepted > 0 ? "; it accepted failed built-in checks (listed as weakenings)" : "");
}

json_t *rp_policy_json(const struct gpa_appraisal *a)
{
	const struct gpa_rp_outcome *o = &a->rp;
	json_t *doc, *acc;

	if (!o->applied)
		return NULL;
	doc = json_object();
	acc = json_array();
	json_object_set_new(doc, "file", json_string(o->name));
	json_object_set_new(doc, "sha256", json_string(o->sha256));
	json_object_set_new(doc, "language", json_string(o->language));
	json_object_set_new(doc, "decision", o->decision < 0 ? json_null() : json_boolean(o->decision == 1));
	if (o->decision < 0)
		json_object_set_new(doc, "error", json_string(o->error));
	for (size_t i = 0; i < a->n; i++)
		for (int k = 0; k < a->dev[i].nchecks; k++) {
			const struct gpa_check *c = &a->dev[i].checks[k];
			json_t *one;
			if (!c->accepted_by_policy)
				continue;
			one = json_object();
			json_object_set_new(one, "device", json_string(a->dev[i].label));
			json_object_set_new(one, "check", json_string(c->id));
			json_object_set_new(one, "detail", json_string(c->detail));
			json_array_append_new(acc, one);
		}
	json_object_set_new(doc, "accepted", acc);
	return doc;
}
