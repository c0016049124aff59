/*
 * NRAS attestation request bodies (attestation-formats.md §12.2, §16.5):
 *
 *   {"nonce": "<64 hex>", "arch": "HOPPER", "claims_version": "3.0",
 *    "evidence_list": [{"evidence": "<base64 report>",
 *                       "certificate": "<base64 PEM chain>"}, ...]}
 *
 * The envelope is checked here; every item goes through the evidence
 * layer's parser (strict base64, sizes, the report and chain bounds), the
 * same one that reads NRAS-shaped files. The body is hostile: bounded by
 * the server before it gets here, parsed by jansson with duplicate keys
 * refused, never trusted for anything but as a cross-check (arch).
 */
#include "service/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char *const gpu_archs[] = { "HOPPER", "BLACKWELL", NULL };
static const char *const switch_archs[] = { "LS10", NULL };

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static int want_string(json_t *root, const char *key, bool required, const char **out,
    struct gpa_err *e)
{
	json_t *v = json_object_get(root, key);

	*out = NULL;
	if (v == NULL) {
		if (required)
			gpa_err_set(e, "\"%s\" is missing", key);
		return required ? -1 : 0;
	}
	if (!json_is_string(v)) {
		gpa_err_set(e, "\"%s\" must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static int check_envelope(json_t *root, enum gpa_device_kind kind, struct svc_request *out,
    struct gpa_err *e)
{
	const char *nonce, *arch, *cv;
	json_t *list;

	if (!json_is_object(root)) {
		gpa_err_set(e, "the body must be a JSON object with nonce, arch and evidence_list");
		return -1;
	}
	if (want_string(root, "nonce", true, &nonce, e) || want_string(root, "arch", true, &arch, e) ||
	    want_string(root, "claims_version", false, &cv, e))
		return -1;
	if (strlen(nonce) != 2 * SPDM_NONCE_LEN ||
	    hex_decode(nonce, strlen(nonce), out->nonce, sizeof(out->nonce), false) != SPDM_NONCE_LEN) {
		gpa_err_set(e, "\"nonce\" must be %d hex digits (a %d-byte nonce)", 2 * SPDM_NONCE_LEN,
		    SPDM_NONCE_LEN);
		return -1;
	}
	if (!in_list(arch, kind == GPA_DEV_SWITCH ? switch_archs : gpu_archs)) {
		gpa_err_set(e, "\"arch\" must be %s for this endpoint",
		    kind == GPA_DEV_SWITCH ? "\"LS10\"" : "\"HOPPER\" or \"BLACKWELL\"");
		return -1;
	}
	snprintf(out->arch, sizeof(out->arch), "%s", arch);
	if (cv != NULL && strcmp(cv, "2.0") != 0 && strcmp(cv, "3.0") != 0 && strcmp(cv, "4.0") != 0) {
		gpa_err_set(e, "\"claims_version\" must be \"2.0\", \"3.0\" or \"4.0\"");
		return -1;
	}
	snprintf(out->claims_version, sizeof(out->claims_version), "%s", cv ? cv : "3.0");
	list = json_object_get(root, "evidence_list");
	if (!json_is_array(list) || json_array_size(list) == 0) {
		gpa_err_set(e, "\"evidence_list\" must be a non-empty array of {evidence, certificate}");
		return -1;
	}
	if (json_array_size(list) > GPA_EVIDENCE_MAX_ITEMS) {
		gpa_err_set(e, "\"evidence_list\" has %zu entries: at most %d devices in one request",
		    json_array_size(list), GPA_EVIDENCE_MAX_ITEMS);
		return -1;
	}
	return 0;
}

/* Each item's nonce (the envelope's, in the NRAS shape) must be the
 * envelope's: evidence_parse_json gives items without one the outer one. */
static int check_item_nonces(const struct svc_request *r, struct gpa_err *e)
{
	for (size_t i = 0; i < r->set.n; i++) {
		const struct evidence_item *it = &r->set.items[i];
		if (it->has_nonce && memcmp(it->nonce, r->nonce, SPDM_NONCE_LEN) != 0) {
			gpa_err_set(e, "evidence_list[%zu]: its nonce differs from the request's", i);
			return -1;
		}
		if (it->arch[0] != '\0' && strcmp(it->arch, r->arch) != 0) {
			gpa_err_set(e, "evidence_list[%zu]: arch \"%s\" differs from the request's \"%s\"", i,
			    it->arch, r->arch);
			return -1;
		}
	}
	return 0;
}

int svc_parse_request(const uint8_t *body, size_t len, enum gpa_device_kind kind,
    struct svc_request *out, struct gpa_err *e)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	out->kind = kind;
	if (len == 0) {
		gpa_err_set(e, "empty body: expected a JSON attestation request");
		return -1;
	}
	root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		gpa_err_set(e, "not JSON: %s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
		return -1;
	}
	rc = check_envelope(root, kind, out, e);
	json_decref(root);
	if (rc != 0)
		return -1;
	if (evidence_parse_json(body, len, kind, &out->set, e) != 0)
		return -1;
	if (check_item_nonces(out, e) != 0) {
		evidence_set_clear(&out->set);
		return -1;
	}
	return 0;
}

void svc_request_clear(struct svc_request *r)
{
	evidence_set_clear(&r->set);
	memset(r, 0, sizeof(*r));
}
