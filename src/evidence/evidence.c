/*
 * Evidence files in NVIDIA's two JSON shapes, and raw reports. Every value
 * is type-checked and size-bounded before it is decoded.
 */
#include "evidence/evidence.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int get_string(json_t *obj, const char *key, bool required, const char **out,
    const char *where, struct gpa_err *e)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			gpa_err_set(e, "%s: missing \"%s\"", where, key);
		return required ? -1 : 0;
	}
	if (!json_is_string(v)) {
		gpa_err_set(e, "%s: \"%s\" must be a string", where, key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static int parse_nonce_hex(const char *s, uint8_t out[SPDM_NONCE_LEN], const char *where,
    struct gpa_err *e)
{
	if (hex_decode(s, strlen(s), out, SPDM_NONCE_LEN, true) != SPDM_NONCE_LEN) {
		gpa_err_set(e, "%s: nonce must be 64 hex digits (32 bytes)", where);
		return -1;
	}
	return 0;
}

static int decode_field(const char *b64, size_t max, uint8_t **out, size_t *outlen,
    const char *where, const char *key, struct gpa_err *e)
{
	size_t n = strlen(b64);

	if (n / 4 * 3 > max) {
		gpa_err_set(e, "%s: \"%s\" is %zu base64 characters, more than a device can produce",
		    where, key, n);
		return -1;
	}
	if (b64_decode(b64, n, false, out, outlen) != 0) {
		gpa_err_set(e, "%s: \"%s\" is not valid base64", where, key);
		return -1;
	}
	if (*outlen == 0) {
		free(*out);
		*out = NULL;
		gpa_err_set(e, "%s: \"%s\" is empty", where, key);
		return -1;
	}
	return 0;
}

/* Strings too long for their fixed-size field are refused, not cut: a cut
 * can split a UTF-8 sequence, and evidence_to_json could then not write the
 * item back. */
static int fits(const char *v, size_t cap, const char *where, const char *key, struct gpa_err *e)
{
	if (v != NULL && strlen(v) >= cap) {
		gpa_err_set(e, "%s: \"%s\" is longer than %zu bytes", where, key, cap - 1);
		return -1;
	}
	return 0;
}

static int parse_item(json_t *obj, json_t *outer, enum gpa_device_kind kind,
    struct evidence_item *it, const char *where, struct gpa_err *e)
{
	const char *ev, *cert, *arch, *nonce, *uuid;
	uint8_t *chain;
	size_t chain_len;

	if (!json_is_object(obj)) {
		gpa_err_set(e, "%s: must be an object", where);
		return -1;
	}
	if (get_string(obj, "evidence", true, &ev, where, e) ||
	    get_string(obj, "certificate", true, &cert, where, e) ||
	    get_string(obj, "arch", false, &arch, where, e) ||
	    get_string(obj, "nonce", false, &nonce, where, e) ||
	    get_string(obj, "uuid", false, &uuid, where, e))
		return -1;
	/* The NRAS shape carries arch and nonce once, outside the list. */
	if (outer != NULL) {
		if ((arch == NULL && get_string(outer, "arch", false, &arch, "evidence", e)) ||
		    (nonce == NULL && get_string(outer, "nonce", false, &nonce, "evidence", e)))
			return -1;
	}
	it->kind = kind;
	if (fits(arch, sizeof(it->arch), where, "arch", e) || fits(uuid, sizeof(it->uuid), where, "uuid", e))
		return -1;
	if (arch != NULL)
		snprintf(it->arch, sizeof(it->arch), "%s", arch);
	if (uuid != NULL)
		snprintf(it->uuid, sizeof(it->uuid), "%s", uuid);
	if (nonce != NULL) {
		if (parse_nonce_hex(nonce, it->nonce, where, e))
			return -1;
		it->has_nonce = true;
	}
	if (decode_field(ev, GPA_REPORT_MAX, &it->report, &it->report_len, where, "evidence", e))
		return -1;
	if (decode_field(cert, GPA_CHAIN_MAX, &chain, &chain_len, where, "certificate", e))
		return -1;
	/* A C string copied with its terminator (NVML's buffer size may count
	 * it): trailing NULs are dropped; a NUL inside the text is refused. */
	while (chain_len > 0 && chain[chain_len - 1] == 0)
		chain_len--;
	if (memchr(chain, 0, chain_len) != NULL) {
		free(chain);
		gpa_err_set(e, "%s: \"certificate\" must decode to PEM text (it contains NUL bytes)", where);
		return -1;
	}
	if (chain_len == 0) {
		free(chain);
		gpa_err_set(e, "%s: \"certificate\" is empty (only NUL bytes)", where);
		return -1;
	}
	it->chain_pem = (char *)chain;	/* b64_decode NUL-terminates */
	it->chain_len = chain_len;
	return 0;
}

int evidence_parse_json(const uint8_t *buf, size_t len, enum gpa_device_kind kind,
    struct evidence_set *set, struct gpa_err *e)
{
	json_error_t jerr;
	json_t *root, *list, *outer = NULL;
	int rc = -1;

	memset(set, 0, sizeof(*set));
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		gpa_err_set(e, "not valid JSON: %s at line %d column %d", jerr.text, jerr.line, jerr.column);
		return -1;
	}
	if (json_is_array(root)) {
		list = root;
	} else if (json_is_object(root)) {
		/* The NRAS request shape, or nvattest collect-evidence's output
		 * ({"result_code", "result_message", "evidences": [...]}). */
		list = json_object_get(root, "evidence_list");
		outer = root;
		if (list == NULL && json_object_get(root, "evidences") != NULL) {
			list = json_object_get(root, "evidences");
			outer = NULL;
		}
		if (!json_is_array(list)) {
			gpa_err_set(e, "expected an array of evidence objects, or an object with an \"evidence_list\" (NRAS request) or \"evidences\" (nvattest output) array");
			goto out;
		}
	} else {
		gpa_err_set(e, "expected an array of evidence objects, or an object with an \"evidence_list\" array");
		goto out;
	}
	if (json_array_size(list) == 0) {
		gpa_err_set(e, "the evidence list is empty");
		goto out;
	}
	if (json_array_size(list) > GPA_EVIDENCE_MAX_ITEMS) {
		gpa_err_set(e, "%zu evidence entries, at most %d supported", json_array_size(list),
		    GPA_EVIDENCE_MAX_ITEMS);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(list); i++) {
		char where[64];
		snprintf(where, sizeof(where), "evidence entry %zu", i);
		set->n = i + 1;
		if (parse_item(json_array_get(list, i), outer, kind, &set->items[i], where, e) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(root);
	if (rc != 0)
		evidence_set_clear(set);
	return rc;
}

int evidence_load_json_file(const char *path, enum gpa_device_kind kind,
    struct evidence_set *set, struct gpa_err *e)
{
	uint8_t *buf;
	size_t len;
	int rc;

	memset(set, 0, sizeof(*set));
	if (evidence_read_input(path, GPA_EVIDENCE_MAX_FILE, &buf, &len, e) != 0)
		return -1;
	if (evidence_refuse_misfit(strcmp(path, "-") ? path : "standard input", buf, len, EVIDENCE_OPT_JSON,
	    e) != 0) {
		free(buf);
		return -1;
	}
	rc = evidence_parse_json(buf, len, kind, set, e);
	if (rc != 0)
		gpa_err_prefix(e, "%s", strcmp(path, "-") ? path : "standard input");
	free(buf);
	return rc;
}

int report_bytes_decode(const uint8_t *buf, size_t len, uint8_t **out, size_t *outlen,
    struct gpa_err *e)
{
	size_t digits = 0;
	bool text = len > 0;

	for (size_t i = 0; i < len && text; i++) {
		if (isxdigit(buf[i]))
			digits++;
		else if (!isspace(buf[i]))
			text = false;
	}
	if (text && digits > 0) {
		uint8_t *o = malloc(digits / 2 + 1);
		size_t n = 0;
		char pair[2];
		int have = 0;

		if (o == NULL || digits % 2 != 0) {
			free(o);
			gpa_err_set(e, "hex report has an odd number of digits");
			return -1;
		}
		for (size_t i = 0; i < len; i++) {
			if (isspace(buf[i]))
				continue;
			pair[have++] = (char)buf[i];
			if (have == 2) {
				hex_decode(pair, 2, &o[n++], 1, false);
				have = 0;
			}
		}
		*out = o;
		*outlen = n;
		return 0;
	}
	if (len == 0) {
		gpa_err_set(e, "report is empty");
		return -1;
	}
	*out = malloc(len);
	if (*out == NULL) {
		gpa_err_set(e, "out of memory");
		return -1;
	}
	memcpy(*out, buf, len);
	*outlen = len;
	return 0;
}

int evidence_load_raw(const char *report_path, const char *chain_path,
    enum gpa_device_kind kind, struct evidence_set *set, struct gpa_err *e)
{
	uint8_t *buf;
	size_t len;
	int rc;

	memset(set, 0, sizeof(*set));
	if (evidence_read_input(report_path, 4 * GPA_REPORT_MAX + 64, &buf, &len, e) != 0)
		return -1;
	rc = evidence_load_raw_buffer(strcmp(report_path, "-") ? report_path : "standard input", buf, len,
	    chain_path, kind, set, e);
	free(buf);
	return rc;
}

int evidence_load_raw_buffer(const char *name, const uint8_t *buf, size_t len, const char *chain_path,
    enum gpa_device_kind kind, struct evidence_set *set, struct gpa_err *e)
{
	struct evidence_item *it = &set->items[0];
	uint8_t *chain;
	size_t chain_len;

	memset(set, 0, sizeof(*set));
	if (evidence_refuse_misfit(name, buf, len, EVIDENCE_OPT_REPORT, e) != 0)
		return -1;
	if (report_bytes_decode(buf, len, &it->report, &it->report_len, e) != 0) {
		gpa_err_prefix(e, "%s", name);
		return -1;
	}
	set->n = 1;
	it->kind = kind;
	if (chain_path != NULL) {
		if (file_read(chain_path, GPA_CHAIN_MAX, &chain, &chain_len, e) != 0 ||
		    evidence_refuse_misfit(chain_path, chain, chain_len, EVIDENCE_OPT_CHAIN, e) != 0) {
			free(chain);
			evidence_set_clear(set);
			return -1;
		}
		it->chain_pem = (char *)chain;
		it->chain_len = chain_len;
	}
	return 0;
}

int evidence_common_nonce(const struct evidence_set *set, uint8_t nonce[SPDM_NONCE_LEN],
    struct gpa_err *e)
{
	int found = 0;
	size_t first = 0;

	for (size_t i = 0; i < set->n; i++) {
		if (!set->items[i].has_nonce)
			continue;
		if (found && memcmp(nonce, set->items[i].nonce, SPDM_NONCE_LEN) != 0) {
			gpa_err_set(e, "evidence entry %zu has a different nonce from entry %zu; one verification uses one nonce",
			    i, first);
			return -1;
		}
		if (!found)
			first = i;
		memcpy(nonce, set->items[i].nonce, SPDM_NONCE_LEN);
		found = 1;
	}
	return found;
}

char *evidence_to_json(const struct evidence_set *set)
{
	json_t *arr = json_array();
	char *out = NULL;

	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < set->n; i++) {
		const struct evidence_item *it = &set->items[i];
		char nonce[2 * SPDM_NONCE_LEN + 1];
		char *ev = b64_encode(it->report, it->report_len);
		char *cert = b64_encode((const uint8_t *)it->chain_pem, it->chain_len);
		json_t *o = json_object();

		hex_encode(it->nonce, SPDM_NONCE_LEN, nonce);
		/* No nonce is written for an item that has none (a raw report):
		 * an invented all-zero nonce would read back as a real one. */
		if (ev == NULL || cert == NULL || o == NULL ||
		    json_object_set_new(o, "arch", json_string(it->arch)) ||
		    (it->has_nonce && json_object_set_new(o, "nonce", json_string(nonce))) ||
		    json_object_set_new(o, "evidence", json_string(ev)) ||
		    json_object_set_new(o, "certificate", json_string(cert)) ||
		    (it->uuid[0] && json_object_set_new(o, "uuid", json_string(it->uuid)))) {
			free(ev);
			free(cert);
			json_decref(o);
			goto out;
		}
		free(ev);
		free(cert);
		/* json_array_append_new releases o itself when it fails. */
		if (json_array_append_new(arr, o) != 0)
			goto out;
	}
	out = json_dumps(arr, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
out:
	json_decref(arr);
	return out;
}

void evidence_set_clear(struct evidence_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->items[i].report);
		free(set->items[i].chain_pem);
	}
	memset(set, 0, sizeof(*set));
}

int evidence_item_copy_report(struct evidence_item *it, const void *report, size_t len)
{
	free(it->report);
	it->report_len = 0;
	if ((it->report = malloc(len ? len : 1)) == NULL)
		return -1;
	memcpy(it->report, report, len);
	it->report_len = len;
	return 0;
}

int evidence_item_copy_chain(struct evidence_item *it, const void *chain, size_t len)
{
	free(it->chain_pem);
	it->chain_len = 0;
	if ((it->chain_pem = malloc(len + 1)) == NULL)
		return -1;
	memcpy(it->chain_pem, chain, len);
	it->chain_pem[len] = '\0';
	it->chain_len = strnlen(it->chain_pem, len);
	return 0;
}
