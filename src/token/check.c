/*
 * token/check: what a detached EAT (NRAS's answer, or one a verifier
 * service made) and an EAR must satisfy beyond their signatures: submod
 * digests, labels, nonce, and the verdict they carry, device by device.
 */
#include "token/token_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "x509/x509.h"

void token_result_clear(struct token_result *t)
{
	json_decref(t->claims);
	memset(t, 0, sizeof(*t));
}

/* ---- the per-device policy (§11.1, §16.3) --------------------------------- */

static const char *const gpu_chains[] = {
	"x-nvidia-gpu-attestation-report-cert-chain", "x-nvidia-gpu-driver-rim-cert-chain",
	"x-nvidia-gpu-vbios-rim-cert-chain", NULL,
};
static const char *const switch_chains[] = {
	"x-nvidia-switch-attestation-report-cert-chain", "x-nvidia-switch-bios-rim-cert-chain", NULL,
};
/* Booleans that, when a verifier reports them, must be true: NVIDIA's
 * policy reads only measres and the chains, but a "false" here is a check
 * the verifier itself says failed. */
static const char *const gpu_true[] = {
	"x-nvidia-gpu-arch-check", "x-nvidia-gpu-attestation-report-parsed",
	"x-nvidia-gpu-attestation-report-nonce-match", "x-nvidia-gpu-attestation-report-signature-verified",
	"x-nvidia-gpu-attestation-report-cert-chain-fwid-match", "x-nvidia-gpu-driver-rim-fetched",
	"x-nvidia-gpu-driver-rim-signature-verified", "x-nvidia-gpu-driver-rim-version-match",
	"x-nvidia-gpu-driver-rim-measurements-available", "x-nvidia-gpu-vbios-rim-fetched",
	"x-nvidia-gpu-vbios-rim-signature-verified", "x-nvidia-gpu-vbios-rim-version-match",
	"x-nvidia-gpu-vbios-rim-measurements-available", "x-nvidia-gpu-vbios-index-no-conflict", NULL,
};
static const char *const switch_true[] = {
	"x-nvidia-switch-arch-check", "x-nvidia-switch-attestation-report-parsed",
	"x-nvidia-switch-attestation-report-nonce-match", "x-nvidia-switch-attestation-report-signature-verified",
	"x-nvidia-switch-attestation-report-cert-chain-fwid-match", "x-nvidia-switch-bios-rim-fetched",
	"x-nvidia-switch-bios-rim-signature-verified", "x-nvidia-switch-bios-rim-version-match",
	"x-nvidia-switch-bios-rim-measurements-available", NULL,
};

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static enum gpa_verdict chain_pass(const json_t *c, const char *name, struct gpa_err *e)
{
	const char *st = jstr(c, "x-nvidia-cert-status"), *ocsp = jstr(c, "x-nvidia-cert-ocsp-status");
	const json_t *nm = json_object_get(c, "x-nvidia-cert-ocsp-nonce-matches");
	const json_t *rv = json_object_get(c, "x-nvidia-cert-ocsp-response-valid");

	if (!json_is_object(c)) {
		gpa_err_set(e, "%s is missing", name);
		return GPA_FAIL;
	}
	if (st == NULL || strcmp(st, "valid") != 0) {
		gpa_err_set(e, "%s: x-nvidia-cert-status is %s%s%s, not \"valid\"", name, st ? "\"" : "",
		    st ? st : "null", st ? "\"" : "");
		return GPA_FAIL;
	}
	if (ocsp == NULL || strcmp(ocsp, "good") != 0) {
		gpa_err_set(e, "%s: x-nvidia-cert-ocsp-status is %s%s%s, not \"good\"", name, ocsp ? "\"" : "",
		    ocsp ? ocsp : "null", ocsp ? "\"" : "");
		return GPA_FAIL;
	}
	/* C++ reads an absent one as true (§10.1); present, it must be. */
	if ((nm != NULL && !json_is_true(nm)) || (rv != NULL && !json_is_true(rv))) {
		gpa_err_set(e, "%s: the OCSP answer's %s", name, nm != NULL && !json_is_true(nm) ?
		    "nonce does not match" : "response is not valid");
		return GPA_FAIL;
	}
	return GPA_PASS;
}

enum gpa_verdict token_device_claims_pass(const json_t *c, struct gpa_err *e)
{
	bool gpu = json_object_get(c, gpu_chains[0]) != NULL, sw = json_object_get(c, switch_chains[0]) != NULL;
	const char *const *chains = gpu ? gpu_chains : switch_chains, *const *must = gpu ? gpu_true : switch_true;
	const json_t *err = json_object_get(c, "x-nvidia-error-details");
	const char *measres = jstr(c, "measres");

	if (!json_is_object(c) || gpu == sw) {
		gpa_err_set(e, "neither a GPU's nor a switch's claims (no attestation-report cert-chain claim)");
		return GPA_BAD_INPUT;
	}
	if (err != NULL && !json_is_null(err)) {
		const json_t *code = json_object_get(err, "code");
		gpa_err_set(e, "the verifier reports an error: code %lld, %.200s",
		    json_is_integer(code) ? (long long)json_integer_value(code) : -1LL,
		    jstr(err, "message") ? jstr(err, "message") : jstr(err, "description") ? jstr(err, "description") : "");
		return GPA_FAIL;
	}
	if (measres == NULL || strcmp(measres, "success") != 0) {
		gpa_err_set(e, "measres is %s%s%s, not \"success\"", measres ? "\"" : "", measres ? measres : "null",
		    measres ? "\"" : "");
		return GPA_FAIL;
	}
	for (int i = 0; chains[i] != NULL; i++)
		if (chain_pass(json_object_get(c, chains[i]), chains[i], e) != GPA_PASS)
			return GPA_FAIL;
	for (int i = 0; must[i] != NULL; i++) {
		const json_t *v = json_object_get(c, must[i]);
		if (v != NULL && !json_is_true(v)) {
			gpa_err_set(e, "%s is %s", must[i], json_is_false(v) ? "false" : "not true");
			return GPA_FAIL;
		}
	}
	if (gpu) {
		const json_t *od = json_object_get(c, "x-nvidia-mismatch-opaque-data-records");
		if (od != NULL && !json_is_null(od)) {
			gpa_err_set(e, "x-nvidia-mismatch-opaque-data-records is not null (opaque data differs from the RIM)");
			return GPA_FAIL;
		}
	}
	return GPA_PASS;
}

/* ---- detached EAT ---------------------------------------------------------- */

/* eat_nonce: non-empty hex of at most 64 bytes; decoded into out. */
static long hex_nonce(const char *s, uint8_t out[64])
{
	return s == NULL || *s == '\0' ? -1 : hex_decode(s, strlen(s), out, 64, false);
}

static enum gpa_verdict nonce_check(const json_t *overall, const struct token_rules *r, struct gpa_err *e)
{
	const char *hex = jstr(overall, "eat_nonce");
	uint8_t got[64];
	long n = hex_nonce(hex, got);
	char want[129];

	if (n <= 0) {
		gpa_err_set(e, "overall token: eat_nonce %s", hex == NULL ? "is missing" : "is not hex");
		return GPA_FAIL;
	}
	if (r->have_nonce && ((size_t)n != r->nonce_len || memcmp(got, r->nonce, r->nonce_len) != 0)) {
		hex_encode(r->nonce, r->nonce_len, want);
		gpa_err_set(e, "nonce not echoed: the token's eat_nonce is %.128s, expected %s", hex, want);
		return GPA_FAIL;
	}
	return GPA_PASS;
}

/* submods[label] = ["DIGEST", ["SHA-256" or "SHA256", 64 lowercase hex]]. */
static const char *submod_digest(const json_t *d)
{
	const json_t *inner = json_array_get(d, 1);
	const char *alg = json_string_value(json_array_get(inner, 0));
	const char *hex = json_string_value(json_array_get(inner, 1));

	if (json_array_size(d) != 2 || !json_is_string(json_array_get(d, 0)) ||
	    strcmp(json_string_value(json_array_get(d, 0)), "DIGEST") != 0 || json_array_size(inner) != 2 ||
	    alg == NULL || (strcmp(alg, "SHA-256") != 0 && strcmp(alg, "SHA256") != 0) || hex == NULL ||
	    !hex64_lower_valid(hex))
		return NULL;
	return hex;
}

/* One submodule: its JWT, its digest, its nonce; its payload into subs. */
static enum gpa_verdict submod_verify(const char *label, const json_t *digest, const json_t *detached,
    const char *nonce_hex, const struct token_rules *r, const struct token_keyring *kr, json_t *subs,
    struct gpa_err *e)
{
	const json_t *jwt = json_object_get(detached, label);
	const char *want = submod_digest(digest), *n;
	char got[65];
	json_t *p = NULL;
	enum gpa_verdict v;

	if (want == NULL) {
		gpa_err_set(e, "%s: overall token's submods entry is not [\"DIGEST\", [\"SHA-256\", hex]]", label);
		return GPA_FAIL;
	}
	if (!json_is_string(jwt)) {
		gpa_err_set(e, "%s: named in the overall token's submods but not in the detached tokens", label);
		return GPA_FAIL;
	}
	v = token_jwt_verify(json_string_value(jwt), json_string_length(jwt), r, kr, &p, NULL, e);
	if (p != NULL)
		json_object_set_new(subs, label, p);
	if (v != GPA_PASS) {
		gpa_err_prefix(e, "%s", label);
		return v;
	}
	x509_sha256_hex(json_string_value(jwt), json_string_length(jwt), got);
	if (strcmp(got, want) != 0) {
		gpa_err_set(e, "%s: submod digest does not match: the overall token says SHA-256 %s, the token "
		    "hashes to %s", label, want, got);
		return GPA_FAIL;
	}
	n = jstr(p, "eat_nonce");
	if (json_object_get(p, "eat_nonce") != NULL && (n == NULL || strcasecmp(n, nonce_hex) != 0)) {
		gpa_err_set(e, "%s: eat_nonce %.128s differs from the overall token's %s", label, n ? n : "(not a string)",
		    nonce_hex);
		return GPA_FAIL;
	}
	return GPA_PASS;
}

/* The envelope: [["JWT", overall], {label: jwt, ...}]. */
static json_t *eat_envelope(const uint8_t *buf, size_t len, const json_t **overall, const json_t **detached,
    struct gpa_err *e)
{
	json_error_t je;
	json_t *doc;
	const json_t *head, *jwt;
	const char *label;

	if (len > TOKEN_MAX_LEN) {
		gpa_err_set(e, "detached EAT larger than %u bytes", TOKEN_MAX_LEN);
		return NULL;
	}
	if ((doc = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		gpa_err_set(e, "not JSON: %s (line %d)", je.text, je.line);
		return NULL;
	}
	head = json_array_get(doc, 0);
	*overall = json_array_get(head, 1);
	*detached = json_array_get(doc, 1);
	if (!json_is_array(doc) || json_array_size(doc) != 2 || json_array_size(head) != 2 ||
	    !json_is_string(json_array_get(head, 0)) || strcmp(json_string_value(json_array_get(head, 0)), "JWT") != 0 ||
	    !json_is_string(*overall) || !json_is_object(*detached)) {
		gpa_err_set(e, "not a detached EAT: expected [[\"JWT\", \"<overall token>\"], {\"GPU-0\": \"<token>\", ...}]");
		json_decref(doc);
		return NULL;
	}
	if (json_object_size(*detached) > TOKEN_MAX_SUBMODS) {
		gpa_err_set(e, "more than %d detached tokens", TOKEN_MAX_SUBMODS);
		json_decref(doc);
		return NULL;
	}
	json_object_foreach((json_t *)*detached, label, jwt)
		if (!json_is_string(jwt)) {
			gpa_err_set(e, "detached token %.40s is not a string", label);
			json_decref(doc);
			return NULL;
		}
	return doc;
}

/* Every submod signed, digested and labelled correctly. */
static enum gpa_verdict submods_verify(const json_t *op, const json_t *detached, const struct token_rules *r,
    const struct token_keyring *kr, json_t *subs, struct gpa_err *e)
{
	const json_t *submods = json_object_get(op, "submods"), *d;
	const char *label;
	enum gpa_verdict v;

	if (!json_is_object(submods) || json_object_size(submods) == 0) {
		gpa_err_set(e, "overall token: no submods (no device is attested)");
		return GPA_FAIL;
	}
	json_object_foreach((json_t *)submods, label, d)
		if ((v = submod_verify(label, d, detached, jstr(op, "eat_nonce"), r, kr, subs, e)) != GPA_PASS)
			return v;
	json_object_foreach((json_t *)detached, label, d)
		if (json_object_get(submods, label) == NULL) {
			gpa_err_set(e, "%s: a detached token the overall token's submods do not name", label);
			return GPA_FAIL;
		}
	return GPA_PASS;
}

/* The verdict the verified claims carry: overall true and every device
 * passing. All failing devices are counted; the message names the first. */
static enum gpa_verdict eat_verdict(const json_t *op, const json_t *subs, struct token_result *out,
    struct gpa_err *e)
{
	const json_t *res = json_object_get(op, "x-nvidia-overall-att-result"), *c;
	const char *label;
	struct gpa_err de = {{0}}, first = {{0}};
	enum gpa_verdict v = GPA_PASS;

	json_object_foreach((json_t *)subs, label, c) {
		out->ndevices++;
		if (token_device_claims_pass(c, &de) != GPA_PASS) {
			if (out->ndevices_failed++ == 0)
				gpa_err_set(&first, "%s: %s", label, de.msg);
			v = GPA_FAIL;
		}
	}
	if (!json_is_boolean(res)) {
		gpa_err_set(e, "overall token: x-nvidia-overall-att-result is missing or not a boolean");
		return GPA_FAIL;
	}
	if (json_is_false(res)) {
		gpa_err_set(e, "the overall result is false (x-nvidia-overall-att-result)%s%s",
		    first.msg[0] ? "; " : "", first.msg);
		return GPA_FAIL;
	}
	if (v != GPA_PASS)
		gpa_err_set(e, "%d of %zu device(s) fail although the overall result says true; %s",
		    out->ndevices_failed, out->ndevices, first.msg);
	return v;
}

enum gpa_verdict token_eat_verify(const uint8_t *buf, size_t len, const struct token_rules *r,
    const struct token_keyring *kr, struct token_result *out, struct gpa_err *e)
{
	const json_t *overall, *detached;
	json_t *doc, *op = NULL, *subs = json_object();
	enum gpa_verdict v;

	memset(out, 0, sizeof(*out));
	if (subs == NULL || (doc = eat_envelope(buf, len, &overall, &detached, e)) == NULL) {
		json_decref(subs);
		return GPA_BAD_INPUT;
	}
	v = token_jwt_verify(json_string_value(overall), json_string_length(overall), r, kr, &op, NULL, e);
	if (v != GPA_PASS) {
		gpa_err_prefix(e, "overall token");
		goto out;
	}
	if ((v = nonce_check(op, r, e)) != GPA_PASS || (v = submods_verify(op, detached, r, kr, subs, e)) != GPA_PASS)
		goto out;
	out->claims = json_pack("{s:O,s:O}", "overall", op, "submods", subs);
	v = eat_verdict(op, subs, out, e);
out:
	json_decref(op);
	json_decref(subs);
	json_decref(doc);
	return v;
}

/* ---- EAR ------------------------------------------------------------------ */

static enum gpa_verdict ear_nonce_check(const json_t *p, const struct token_rules *r, struct gpa_err *e)
{
	const char *n = jstr(p, "eat_nonce");
	uint8_t *raw;
	size_t rlen;
	bool same;

	if (!r->have_nonce)
		return GPA_PASS;
	if (n == NULL || *n == '\0' || token_b64url_decode(n, strlen(n), &raw, &rlen) != 0) {
		gpa_err_set(e, "eat_nonce is %s", n == NULL ? "missing" : "not base64url");
		return GPA_FAIL;
	}
	same = rlen == r->nonce_len && memcmp(raw, r->nonce, rlen) == 0;
	free(raw);
	if (!same) {
		char want[129];
		hex_encode(r->nonce, r->nonce_len, want);
		gpa_err_set(e, "nonce not echoed: the EAR's eat_nonce %.100s is not the expected nonce %s", n, want);
		return GPA_FAIL;
	}
	return GPA_PASS;
}

static enum gpa_verdict ear_verdict(const json_t *p, struct token_result *out, struct gpa_err *e)
{
	const char *st = jstr(p, "ear_status"), *label;
	const json_t *subs = json_object_get(p, "submods"), *s;
	enum gpa_verdict v = GPA_PASS;

	if (!json_is_object(subs) || json_object_size(subs) == 0) {
		gpa_err_set(e, "no submods (no device is attested)");
		return GPA_FAIL;
	}
	json_object_foreach((json_t *)subs, label, s) {
		const char *ss = jstr(s, "ear_status");
		out->ndevices++;
		if (ss == NULL || strcmp(ss, "affirming") != 0) {
			if (out->ndevices_failed++ == 0)
				gpa_err_set(e, "%s: ear_status is %s, not affirming", label, ss ? ss : "missing");
			v = GPA_FAIL;
		}
	}
	if (st == NULL || strcmp(st, "affirming") != 0) {
		gpa_err_set(e, "ear_status is %s, not affirming", st ? st : "missing");
		return GPA_FAIL;
	}
	return v;
}

enum gpa_verdict token_ear_verify(const uint8_t *buf, size_t len, const struct token_rules *r,
    const struct token_keyring *kr, struct token_result *out, struct gpa_err *e)
{
	json_t *p = NULL;
	enum gpa_verdict v;

	memset(out, 0, sizeof(*out));
	while (len > 0 && isspace(buf[len - 1]))
		len--;
	while (len > 0 && isspace(buf[0])) {
		buf++;
		len--;
	}
	v = token_jwt_verify((const char *)buf, len, r, kr, &p, NULL, e);
	if (p != NULL)
		out->claims = p;
	if (v != GPA_PASS)
		return v;
	if ((v = ear_nonce_check(p, r, e)) != GPA_PASS)
		return v;
	return ear_verdict(p, out, e);
}
