/*
 * net/bundle: the offline collateral file (format in bundle.h).
 *
 * Must never: accept a bundle with unknown keys, wrong types, duplicate
 * keys, bad base64, names that fail the id/key rules, or sizes over the
 * limits; or write one in place (always temp + rename).
 */
#include "net/bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "net/rimsvc.h"
#include "rim/rim.h"
#include "x509/ocsp.h"

#define BUNDLE_FORMAT "gpuattest-collateral"

struct gpa_bundle *bundle_new(void)
{
	return calloc(1, sizeof(struct gpa_bundle));
}

static void free_items(struct gpa_bundle_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].data);
	free(v);
}

void bundle_free(struct gpa_bundle *b)
{
	if (b == NULL)
		return;
	free_items(b->rims, b->nrims);
	free_items(b->ocsp, b->nocsp);
	free(b);
}

static const struct gpa_bundle_item *find(const struct gpa_bundle_item *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

const struct gpa_bundle_item *bundle_get_rim(const struct gpa_bundle *b, const char *id)
{
	return b && id ? find(b->rims, b->nrims, id) : NULL;
}

const struct gpa_bundle_item *bundle_get_ocsp(const struct gpa_bundle *b, const char *key)
{
	return b && key ? find(b->ocsp, b->nocsp, key) : NULL;
}

/* Adds or replaces name in *v; takes ownership of data on success. */
static int put(struct gpa_bundle_item **v, size_t *n, const char *name, uint8_t *data, size_t len)
{
	struct gpa_bundle_item *it = (struct gpa_bundle_item *)find(*v, *n, name);
	struct gpa_bundle_item *nv;

	if (it != NULL) {
		free(it->data);
		it->data = data;
		it->len = len;
		return 0;
	}
	if (*n >= GPA_BUNDLE_MAX_ENTRIES || (nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL)
		return -1;
	*v = nv;
	it = &nv[(*n)++];
	memset(it, 0, sizeof(*it));
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->data = data;
	it->len = len;
	return 0;
}

static int add(struct gpa_bundle_item **v, size_t *n, const char *what, const char *name,
    const uint8_t *data, size_t len, size_t max, struct gpa_err *e)
{
	uint8_t *copy;

	if (len == 0 || len > max) {
		gpa_err_set(e, "bundle: %s %s: %zu bytes", what, name, len);
		return -1;
	}
	if ((copy = malloc(len + 1)) == NULL) {
		gpa_err_set(e, "bundle: out of memory");
		return -1;
	}
	memcpy(copy, data, len);
	copy[len] = 0;
	if (put(v, n, name, copy, len) != 0) {
		free(copy);
		gpa_err_set(e, "bundle: more than %d %s entries", GPA_BUNDLE_MAX_ENTRIES, what);
		return -1;
	}
	return 0;
}

int bundle_add_rim(struct gpa_bundle *b, const char *id, const uint8_t *xml, size_t len,
    struct gpa_err *e)
{
	if (!rim_id_valid(id)) {
		gpa_err_set(e, "bundle: bad RIM id");
		return -1;
	}
	return add(&b->rims, &b->nrims, "RIM", id, xml, len, GPA_RIM_MAX_BYTES, e);
}

int bundle_add_ocsp(struct gpa_bundle *b, const char *key, const uint8_t *der, size_t len,
    struct gpa_err *e)
{
	if (key == NULL || !hex64_lower_valid(key)) {
		gpa_err_set(e, "bundle: bad OCSP key");
		return -1;
	}
	return add(&b->ocsp, &b->nocsp, "OCSP", key, der, len, GPA_OCSP_MAX_RESPONSE, e);
}

static json_t *items_json(const struct gpa_bundle_item *v, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < n; i++) {
		char *b64 = b64_encode(v[i].data, v[i].len);
		if (b64 == NULL || json_object_set_new(o, v[i].name, json_string(b64)) != 0) {
			free(b64);
			json_decref(o);
			return NULL;
		}
		free(b64);
	}
	return o;
}

json_t *bundle_to_json(const struct gpa_bundle *b)
{
	char created[21];
	json_t *root = json_object(), *rims = items_json(b->rims, b->nrims),
	    *ocsp = items_json(b->ocsp, b->nocsp);

	time_format_rfc3339(b->created ? b->created : time(NULL), created);
	if (root == NULL || rims == NULL || ocsp == NULL ||
	    json_object_set_new(root, "format", json_string(BUNDLE_FORMAT)) != 0 ||
	    json_object_set_new(root, "version", json_integer(1)) != 0 ||
	    json_object_set_new(root, "created", json_string(created)) != 0 ||
	    json_object_set(root, "rims", rims) != 0 || json_object_set(root, "ocsp", ocsp) != 0) {
		json_decref(root);
		root = NULL;
	}
	json_decref(rims);
	json_decref(ocsp);
	return root;
}

int bundle_write(const struct gpa_bundle *b, const char *path, struct gpa_err *e)
{
	json_t *root = bundle_to_json(b);
	char *text = root != NULL ? json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(1)) : NULL;
	int rc = -1;

	if (text == NULL)
		gpa_err_set(e, "bundle: out of memory");
	else if (file_write_atomic(path, text, strlen(text), e) == 0)
		rc = 0;
	free(text);
	json_decref(root);
	return rc;
}

static int read_items(json_t *obj, const char *what, bool rims, struct gpa_bundle *b,
    struct gpa_err *e)
{
	const char *name;
	json_t *v;

	if (!json_is_object(obj)) {
		gpa_err_set(e, "bundle: \"%s\" is not an object", what);
		return -1;
	}
	json_object_foreach(obj, name, v) {
		uint8_t *data = NULL;
		size_t len = 0;
		int rc;
		if (!json_is_string(v) ||
		    b64_decode(json_string_value(v), json_string_length(v), false, &data, &len) != 0) {
			gpa_err_set(e, "bundle: %s \"%.100s\": not a base64 string", what, name);
			return -1;
		}
		rc = rims ? bundle_add_rim(b, name, data, len, e) : bundle_add_ocsp(b, name, data, len, e);
		free(data);
		if (rc != 0) {
			gpa_err_prefix(e, "%s \"%.100s\"", what, name);
			return -1;
		}
	}
	return 0;
}

static int check_header(json_t *root, struct gpa_bundle *b, struct gpa_err *e)
{
	const char *key;
	json_t *v, *fmt = json_object_get(root, "format"), *ver = json_object_get(root, "version"),
	    *created = json_object_get(root, "created");

	json_object_foreach(root, key, v) {
		if (strcmp(key, "format") && strcmp(key, "version") && strcmp(key, "created") &&
		    strcmp(key, "rims") && strcmp(key, "ocsp")) {
			gpa_err_set(e, "bundle: unknown key \"%.100s\"", key);
			return -1;
		}
	}
	if (!json_is_string(fmt) || strcmp(json_string_value(fmt), BUNDLE_FORMAT) != 0) {
		gpa_err_set(e, "bundle: \"format\" is not \"%s\"", BUNDLE_FORMAT);
		return -1;
	}
	if (!json_is_integer(ver) || json_integer_value(ver) != 1) {
		gpa_err_set(e, "bundle: unsupported \"version\" (1 expected)");
		return -1;
	}
	if (!json_is_string(created) || time_parse_rfc3339(json_string_value(created), &b->created) != 0) {
		gpa_err_set(e, "bundle: \"created\" is not an RFC 3339 time");
		return -1;
	}
	return 0;
}

struct gpa_bundle *bundle_parse(const uint8_t *buf, size_t len, struct gpa_err *e)
{
	json_error_t jerr;
	json_t *root;
	struct gpa_bundle *b = NULL;

	if (len > GPA_BUNDLE_MAX_BYTES) {
		gpa_err_set(e, "bundle: larger than %u bytes", GPA_BUNDLE_MAX_BYTES);
		return NULL;
	}
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		gpa_err_set(e, "bundle: not a JSON object%s%s", root ? "" : ": ", root ? "" : jerr.text);
		goto fail;
	}
	if ((b = bundle_new()) == NULL) {
		gpa_err_set(e, "bundle: out of memory");
		goto fail;
	}
	if (check_header(root, b, e) != 0 ||
	    read_items(json_object_get(root, "rims"), "rims", true, b, e) != 0 ||
	    read_items(json_object_get(root, "ocsp"), "ocsp", false, b, e) != 0)
		goto fail;
	json_decref(root);
	return b;
fail:
	bundle_free(b);
	json_decref(root);
	return NULL;
}

struct gpa_bundle *bundle_read(const char *path, struct gpa_err *e)
{
	uint8_t *buf;
	size_t len;
	struct gpa_bundle *b;

	if (file_read(path, GPA_BUNDLE_MAX_BYTES, &buf, &len, e) != 0)
		return NULL;
	b = bundle_parse(buf, len, e);
	free(buf);
	if (b == NULL)
		gpa_err_prefix(e, "%s", path);
	return b;
}
