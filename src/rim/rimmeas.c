/*
 * rim/rimmeas: the RIM's identity (Meta, SoftwareIdentity) and its golden
 * measurements. Policy: rim.c and rim.h.
 */
#include "rim/rim.h"
#include "rim/rim_internal.h"

#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- identity and measurements ----------------------------------------- */

/* Exactly one child element of root with that SWID name. */
xmlNodePtr rim_single_swid_child(xmlNodePtr root, const char *name, struct gpa_err *e)
{
	xmlNodePtr found = NULL;
	int n = 0;

	for (xmlNodePtr c = root->children; c != NULL; c = c->next) {
		if (is_elem(c, NS_SWID, name)) {
			found = c;
			n++;
		}
	}
	if (n != 1) {
		gpa_err_set(e, "RIM: SoftwareIdentity holds %d %s elements (expected one)", n, name);
		return NULL;
	}
	return found;
}

/* Copies a printable metadata attribute; these end up in claims and logs. */
static int text_attr(const xmlNode *n, const char *ns, const char *name, bool required,
    const char *where, char **out, struct gpa_err *e)
{
	xmlChar *v = ns ? xmlGetNsProp(n, BAD_CAST name, BAD_CAST ns) :
	    xmlGetNoNsProp(n, BAD_CAST name);
	size_t len;

	*out = NULL;
	if (v == NULL) {
		if (!required)
			return 0;
		gpa_err_set(e, "RIM: %s: attribute %s missing", where, name);
		return -1;
	}
	len = strlen((const char *)v);
	if (len == 0 || len > RIM_MAX_TEXT) {
		gpa_err_set(e, "RIM: %s/@%s: length %zu (expected 1..%d)", where, name, len,
		    RIM_MAX_TEXT);
		xmlFree(v);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (v[i] < 0x20 || v[i] == 0x7f) {
			gpa_err_set(e, "RIM: %s/@%s: control character", where, name);
			xmlFree(v);
			return -1;
		}
	}
	*out = strdup((const char *)v);
	xmlFree(v);
	if (*out == NULL) {
		gpa_err_set(e, "RIM: out of memory");
		return -1;
	}
	return 0;
}

int rim_parse_identity(xmlNodePtr root, xmlNodePtr meta, struct rim *r, struct gpa_err *e)
{
	if (text_attr(root, NULL, "tagId", true, "SoftwareIdentity", &r->tag_id, e) != 0 ||
	    text_attr(root, NULL, "name", true, "SoftwareIdentity", &r->name, e) != 0 ||
	    text_attr(meta, NULL, "colloquialVersion", true, "Meta", &r->colloquial_version, e) != 0 ||
	    text_attr(meta, NULL, "edition", true, "Meta", &r->edition, e) != 0 ||
	    text_attr(meta, NS_TCG, "FirmwareManufacturerId", false, "Meta",
		&r->firmware_manufacturer_id, e) != 0)
		return -1;
	return 0;
}

/* Canonical decimal: digits only, no sign, no leading zero, <= max. */
static bool parse_decimal(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* The five attributes every Measurement needs, as malloc'd libxml2 strings. */
struct meas_attrs {
	xmlChar *index, *active, *alternatives, *name, *size;
};

static void meas_attrs_free(struct meas_attrs *a)
{
	xmlFree(a->index);
	xmlFree(a->active);
	xmlFree(a->alternatives);
	xmlFree(a->name);
	xmlFree(a->size);
}

static int read_meas_attrs(const xmlNode *res, int pos, struct meas_attrs *a, struct gpa_err *e)
{
	static const char *const names[] = { "index", "active", "alternatives", "name", "size" };
	xmlChar **slots[] = { &a->index, &a->active, &a->alternatives, &a->name, &a->size };

	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		*slots[i] = xmlGetNoNsProp(res, BAD_CAST names[i]);
		if (*slots[i] == NULL) {
			gpa_err_set(e, "RIM: Payload/Resource[%d]: attribute %s missing", pos, names[i]);
			return -1;
		}
	}
	return 0;
}

static int read_hashes(const xmlNode *res, int pos, struct rim_measurement *m, struct gpa_err *e)
{
	for (int k = 0; k < m->nalts; k++) {
		char attr[16];
		xmlChar *v;
		long n;

		snprintf(attr, sizeof(attr), "Hash%d", k);
		v = xmlGetNsProp(res, BAD_CAST attr, BAD_CAST NS_SHA384);
		if (v == NULL) {
			gpa_err_set(e, "RIM: Payload/Resource[%d] (index %d): %s missing "
			    "(alternatives=%d)", pos, m->index, attr, m->nalts);
			return -1;
		}
		n = hex_decode((const char *)v, strlen((const char *)v), m->hash[k],
		    GPA_RIM_HASH_MAX, false);
		xmlFree(v);
		if (n <= 0) {
			gpa_err_set(e, "RIM: Payload/Resource[%d] (index %d): %s is not hex of "
			    "1..%d bytes", pos, m->index, attr, GPA_RIM_HASH_MAX);
			return -1;
		}
		m->hash_len[k] = (size_t)n;
	}
	return 0;
}

static int parse_measurement(const xmlNode *res, int pos, struct rim_measurement *m,
    struct gpa_err *e)
{
	struct meas_attrs a;
	unsigned long v;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (read_meas_attrs(res, pos, &a, e) != 0)
		goto out;
	if (!parse_decimal((const char *)a.index, GPA_RIM_MAX_INDEX, &v)) {
		gpa_err_set(e, "RIM: Payload/Resource[%d]: index \"%.20s\" is not a decimal "
		    "0..%d", pos, (const char *)a.index, GPA_RIM_MAX_INDEX);
		goto out;
	}
	m->index = (int)v;
	if (strcmp((const char *)a.active, "True") == 0) {
		m->active = true;
	} else if (strcmp((const char *)a.active, "False") != 0) {
		gpa_err_set(e, "RIM: Payload/Resource[%d] (index %d): active \"%.20s\" is not "
		    "\"True\" or \"False\"", pos, m->index, (const char *)a.active);
		goto out;
	}
	if (!parse_decimal((const char *)a.alternatives, GPA_RIM_MAX_ALTS, &v) || v < 1) {
		gpa_err_set(e, "RIM: Payload/Resource[%d] (index %d): alternatives \"%.20s\" is "
		    "not 1..%d", pos, m->index, (const char *)a.alternatives, GPA_RIM_MAX_ALTS);
		goto out;
	}
	m->nalts = (int)v;
	if (!parse_decimal((const char *)a.size, 1ul << 30, &v)) {
		gpa_err_set(e, "RIM: Payload/Resource[%d] (index %d): size \"%.20s\" is not a "
		    "decimal byte count", pos, m->index, (const char *)a.size);
		goto out;
	}
	m->size = (size_t)v;
	if (a.name[0] == '\0' || strlen((const char *)a.name) >= sizeof(m->name)) {
		gpa_err_set(e, "RIM: Payload/Resource[%d] (index %d): name length %zu "
		    "(expected 1..%zu)", pos, m->index, strlen((const char *)a.name),
		    sizeof(m->name) - 1);
		goto out;
	}
	memcpy(m->name, a.name, strlen((const char *)a.name) + 1);
	/* Inactive entries are never compared, and carry placeholder hashes. */
	rc = m->active ? read_hashes(res, pos, m, e) : 0;
out:
	meas_attrs_free(&a);
	return rc;
}

static bool is_measurement(const xmlNode *n)
{
	xmlChar *type;
	bool yes;

	if (!is_elem(n, NS_SWID, "Resource"))
		return false;
	type = xmlGetNoNsProp(n, BAD_CAST "type");
	yes = type != NULL && strcmp((const char *)type, "Measurement") == 0;
	xmlFree(type);
	return yes;
}

static int check_duplicate_active(const struct rim *r, struct gpa_err *e)
{
	bool seen[GPA_RIM_MAX_INDEX + 1] = { false };

	for (int i = 0; i < r->nmeas; i++) {
		const struct rim_measurement *m = &r->meas[i];

		if (!m->active)
			continue;
		if (seen[m->index]) {
			gpa_err_set(e, "RIM: Payload: index %d is active more than once", m->index);
			return -1;
		}
		seen[m->index] = true;
	}
	return 0;
}

/* NVIDIA's verifier takes Measurement resources from anywhere in the
 * document; we read only Payload's children, so one elsewhere would be a
 * golden value silently dropped. Refuse such documents instead. */
static int check_no_stray_measurements(xmlNodePtr root, int count, struct gpa_err *e)
{
	int all = 0;

	for (xmlNodePtr n = root; n != NULL; n = next_in_tree(n, root))
		all += is_measurement(n);
	if (all != count) {
		gpa_err_set(e, "RIM: %d Measurement Resource elements outside SoftwareIdentity/Payload",
		    all - count);
		return -1;
	}
	return 0;
}

int rim_parse_measurements(xmlNodePtr root, xmlNodePtr payload, struct rim *r,
    struct gpa_err *e)
{
	int count = 0, pos = 0, nres = 0;

	for (xmlNodePtr c = payload->children; c != NULL; c = c->next)
		if (is_measurement(c))
			count++;
	if (check_no_stray_measurements(root, count, e) != 0)
		return -1;
	if (count == 0) {
		gpa_err_set(e, "RIM: Payload holds no Measurement resources");
		return -1;
	}
	if (count > RIM_MAX_MEAS) {
		gpa_err_set(e, "RIM: Payload holds %d Measurement resources (limit %d)", count,
		    RIM_MAX_MEAS);
		return -1;
	}
	r->meas = calloc((size_t)count, sizeof(*r->meas));
	r->opaque = calloc((size_t)count, sizeof(*r->opaque));
	if (r->meas == NULL || r->opaque == NULL) {
		gpa_err_set(e, "RIM: out of memory");
		return -1;
	}
	for (xmlNodePtr c = payload->children; c != NULL; c = c->next) {
		if (!is_measurement(c))
			continue;
		nres++;
		/* Opaque-data reference values share the element (opaque_ref.c). */
		if (rim_is_opaque_ref(c)) {
			if (rim_parse_opaque_ref(c, nres, r, e) != 0)
				return -1;
			continue;
		}
		if (parse_measurement(c, pos + 1, &r->meas[pos], e) != 0)
			return -1;
		pos++;
		r->nmeas = pos;
	}
	return check_duplicate_active(r, e);
}

