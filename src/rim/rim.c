/*
 * rim: loads an NVIDIA reference integrity manifest (TCG RIM as an ISO
 * 19770-2 SWID tag, raw XML or the RIM service's JSON envelope), checks its
 * enveloped XMLDSig with xmlsec1 against the first embedded certificate,
 * validates the embedded chain through the x509 layer, and extracts the
 * golden measurements.
 *
 * Owns: the safe libxml2 parse (bounded size, UTF-8 only, no DTD, no entity
 * expansion, no network or file access of any kind), the anti-wrapping shape
 * check of the signature, the measurement schema rules and the RIM service
 * JSON envelope.
 *
 * Must never: read content from a document whose shape does not guarantee
 * that the single Reference (URI="", enveloped + C14N 1.1) covers it; take
 * the verification key from anywhere but the first X509Certificate (whose
 * chain x509 judges against the caller's anchors); let libxml2 or xmlsec
 * print to stderr or fetch anything.
 *
 * Only C14N 1.1 (http://www.w3.org/2006/12/xml-c14n11) is accepted, both as
 * CanonicalizationMethod and as the Reference's second transform: it is what
 * every NVIDIA RIM uses, and accepting C14N 1.0 / exclusive C14N would only
 * widen what an attacker may present.
 */
#include "rim/rim.h"
#include "rim/rim_internal.h"

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- document and envelope --------------------------------------------- */

static int load_document(xmlDocPtr doc, const uint8_t doc_hash[32], const struct gpa_anchors *anchors,
    time_t at, struct err_sink *sink, struct rim *r, struct gpa_err *e)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), sig = NULL, x509data = NULL, meta, payload;

	if (rim_check_document_shape(doc, &sig, &x509data, e) != 0)
		return -1;
	meta = rim_single_swid_child(root, "Meta", e);
	payload = meta ? rim_single_swid_child(root, "Payload", e) : NULL;
	if (payload == NULL)
		return -1;
	if (rim_parse_identity(root, meta, r, e) != 0 || rim_parse_measurements(root, payload, r, e) != 0)
		return -1;
	if (rim_load_certs(x509data, &r->certs, e) != 0)
		return -1;
	if (chain_validate(anchors, GPA_ANCHOR_RIM, r->certs, at, &r->chain, e) != 0) {
		gpa_err_prefix(e, "RIM certificate chain");
		return -1;
	}
	return rim_verify_signature(sig, sk_X509_value(r->certs, 0), sink, r, doc_hash, e);
}

static int load_xml(const uint8_t *buf, size_t len, const struct gpa_anchors *anchors,
    time_t at, struct rim **out, struct gpa_err *e)
{
	struct err_guard guard;
	struct err_sink sink;
	struct rim *r = NULL;
	xmlDocPtr doc;
	int rc = -1;

	rim_capture_begin(&guard, &sink);
	doc = rim_parse_xml_safely(buf, len, &sink, e);
	if (doc == NULL)
		goto out;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		gpa_err_set(e, "RIM: out of memory");
		goto out;
	}
	uint8_t doc_hash[32];
	unsigned int hlen = 0;
	if (EVP_Digest(buf, len, doc_hash, &hlen, EVP_sha256(), NULL) != 1) {
		gpa_err_set(e, "RIM: cannot hash the document");
		goto out;
	}
	rc = load_document(doc, doc_hash, anchors, at, &sink, r, e);
out:
	xmlFreeDoc(doc);
	rim_capture_end(&guard);
	if (rc != 0) {
		rim_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

/* ---- the RIM service's JSON answer ---------------------------------------
 *
 * One decoder for every place such an answer comes from: the network client
 * (net/rimsvc.c) and rim_load (a saved answer, e.g. DIR/<id>.json in a RIM
 * directory). The rules, the strict union of what the two earlier decoders
 * enforced (docs/decisions.md, "RIMs"):
 *   - at most GPA_RIM_JSON_MAX bytes, checked before parsing;
 *   - one JSON object, nothing after it, no duplicate keys, no \u0000;
 *   - "id", "rim" and "sha256" present and strings; other keys (request_id,
 *     rim_format, last_updated) are ignored;
 *   - id: 1..128 printable ASCII characters ('!'..'~'), and equal to
 *     expected_id when one is given (it is shown in messages);
 *   - sha256: exactly 64 hex digits, either case;
 *   - rim: RFC 4648 base64, standard alphabet, '=' padding, canonical;
 *     spaces, tabs and line breaks between characters are skipped (NVIDIA's
 *     answers carry one unbroken line, but a server or a saved file that
 *     wraps its base64 as MIME does says the same bytes, and the SHA-256
 *     below and the XML signature judge those bytes, not their layout);
 *   - the decoded RIM is not empty and at most GPA_RIM_MAX_BYTES;
 *   - the SHA-256 of the decoded bytes equals sha256.
 * sha256 is only a transport check (it travels in the same answer); the RIM's
 * XML signature is what makes a RIM trustworthy. */

#define RIM_ID_MAX	128	/* the longest id rim_id_valid accepts */

static const char *service_str(json_t *obj, const char *key, size_t *len, struct gpa_err *e)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v)) {
		gpa_err_set(e, "\"%s\" missing or not a string", key);
		return NULL;
	}
	*len = json_string_length(v);
	return json_string_value(v);
}

static bool printable_id(const char *s, size_t len)
{
	if (len == 0 || len > RIM_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static int check_service_fields(json_t *root, const char *expected_id, uint8_t **xml,
    size_t *xml_len, struct gpa_err *e)
{
	const char *id, *b64, *hex;
	size_t id_len, b64_len, hex_len;
	uint8_t want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];

	if ((id = service_str(root, "id", &id_len, e)) == NULL ||
	    (b64 = service_str(root, "rim", &b64_len, e)) == NULL ||
	    (hex = service_str(root, "sha256", &hex_len, e)) == NULL)
		return -1;
	if (!printable_id(id, id_len)) {
		gpa_err_set(e, "id is not a printable identifier (1 to %d characters '!' to '~')",
		    RIM_ID_MAX);
		return -1;
	}
	if (expected_id != NULL && strcmp(id, expected_id) != 0) {
		gpa_err_set(e, "id \"%s\" is not the one asked for (\"%.128s\")", id, expected_id);
		return -1;
	}
	if (hex_len != 2 * SHA256_DIGEST_LENGTH ||
	    hex_decode(hex, hex_len, want, sizeof(want), false) != SHA256_DIGEST_LENGTH) {
		gpa_err_set(e, "sha256 is not 64 hex digits");
		return -1;
	}
	if (b64_decode(b64, b64_len, true, xml, xml_len) != 0) {
		gpa_err_set(e, "rim is not valid base64 (standard alphabet, '=' padding)");
		return -1;
	}
	if (*xml_len == 0) {
		gpa_err_set(e, "rim is empty");
		return -1;
	}
	if (*xml_len > GPA_RIM_MAX_BYTES) {
		gpa_err_set(e, "rim decodes to %zu bytes, more than the %zu byte limit", *xml_len,
		    (size_t)GPA_RIM_MAX_BYTES);
		return -1;
	}
	SHA256(*xml, *xml_len, got);
	if (memcmp(want, got, sizeof(got)) != 0) {
		gpa_err_set(e, "the RIM's SHA-256 does not match the answer's sha256");
		return -1;
	}
	return 0;
}

int rim_service_json_decode(const uint8_t *buf, size_t len, const char *expected_id,
    uint8_t **xml, size_t *xml_len, struct gpa_err *e)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	*xml = NULL;
	*xml_len = 0;
	if (buf == NULL) {
		gpa_err_set(e, "no answer");
		return -1;
	}
	if (len > GPA_RIM_JSON_MAX) {
		gpa_err_set(e, "%zu bytes, more than the %zu bytes a RIM service answer may have",
		    len, (size_t)GPA_RIM_JSON_MAX);
		return -1;
	}
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		gpa_err_set(e, "not JSON: %s (line %d)", jerr.text, jerr.line);
		return -1;
	}
	if (!json_is_object(root)) {
		gpa_err_set(e, "not a JSON object");
		json_decref(root);
		return -1;
	}
	rc = check_service_fields(root, expected_id, xml, xml_len, e);
	json_decref(root);
	if (rc != 0) {
		free(*xml);
		*xml = NULL;
		*xml_len = 0;
	}
	return rc;
}

int rim_load(const uint8_t *buf, size_t len, const char *expected_id,
    const struct gpa_anchors *anchors, time_t at, struct rim **out, struct gpa_err *e)
{
	uint8_t *xml = NULL;
	size_t xml_len = 0, i = 0;
	int rc;

	*out = NULL;
	if (rim_global_init(e) != 0)
		return -1;
	if (buf == NULL || anchors == NULL) {
		gpa_err_set(e, "RIM: no document or no trust anchors");
		return -1;
	}
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	if (i == len || buf[i] != '{')
		return load_xml(buf, len, anchors, at, out, e);
	if (rim_service_json_decode(buf, len, expected_id, &xml, &xml_len, e) != 0) {
		gpa_err_prefix(e, "RIM service body");
		return -1;
	}
	rc = load_xml(xml, xml_len, anchors, at, out, e);
	free(xml);
	return rc;
}

void rim_free(struct rim *r)
{
	if (r == NULL)
		return;
	free(r->colloquial_version);
	free(r->firmware_manufacturer_id);
	free(r->tag_id);
	free(r->name);
	free(r->edition);
	free(r->meas);
	free(r->opaque);
	chain_result_clear(&r->chain);
	sk_X509_pop_free(r->certs, X509_free);
	free(r);
}

const struct rim_measurement *rim_active(const struct rim *r, int index)
{
	if (r == NULL)
		return NULL;
	for (int i = 0; i < r->nmeas; i++)
		if (r->meas[i].active && r->meas[i].index == index)
			return &r->meas[i];
	return NULL;
}
