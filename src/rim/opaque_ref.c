/*
 * rim/opaque_ref: NVIDIA's opaque-data reference values in a TCG SWID RIM
 * ("Opaque Data RIM Attributes", attestation-formats.md §16.2). They are
 * ordinary Payload Measurement resources with an index of 4096 or more; the
 * report's opaque entry with id index - 4096 must be at least ns3:minSvn.
 *
 *   <Resource type="Measurement" index="4133" active="True"
 *       name="fsp_ucode_svn" ns3:minSvn="5" ns3:includeInResult="True"/>
 *
 * Rules (NVIDIA 2.0's, made strict where it is lenient; docs/decisions.md):
 * index canonical decimal 4096..69631; active "True" or "False" (inactive
 * records are skipped); name 1..63 printable characters; ns3:minSvn a
 * canonical decimal that fits a JSON integer (< 2^63); ns3:includeInResult
 * absent, "True" or "False"; no hash attributes (a hash means nothing for
 * such a record). An id or name twice among the active records of one RIM
 * is refused. The signature covers these like every Payload child.
 */
#include "rim/rim.h"
#include "rim/rim_internal.h"

#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Canonical decimal (no sign, no leading zero) up to max. */
static bool decimal_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return true;
}

bool rim_is_opaque_ref(const xmlNode *res)
{
	xmlChar *idx = xmlGetNoNsProp(res, BAD_CAST "index");
	size_t n = idx ? strlen((const char *)idx) : 0;
	bool yes;

	/* Four or more digits without a leading zero is 1000 or more; the
	 * measurement parser refuses 256..4095 as before, and this one
	 * judges 4096 and up (and anything longer that only looks numeric). */
	yes = n >= 4 && idx[0] >= '1' && idx[0] <= '9' && strspn((const char *)idx, "0123456789") == n &&
	    (n > 4 || strcmp((const char *)idx, "4096") >= 0);
	xmlFree(idx);
	return yes;
}

static bool has_hash_attr(const xmlNode *res)
{
	for (const xmlAttr *a = res->properties; a != NULL; a = a->next)
		if (strncmp((const char *)a->name, "Hash", 4) == 0)
			return true;
	return false;
}

/* The attributes of one record, malloc'd by libxml2. */
struct ref_attrs {
	xmlChar *index, *active, *name, *min_svn, *include;
};

static void ref_attrs_free(struct ref_attrs *a)
{
	xmlFree(a->index);
	xmlFree(a->active);
	xmlFree(a->name);
	xmlFree(a->min_svn);
	xmlFree(a->include);
}

static int check_name(const xmlChar *name, const char *where, struct gpa_err *e)
{
	size_t n = name ? strlen((const char *)name) : 0;

	if (name == NULL) {
		gpa_err_set(e, "RIM: %s: attribute name missing", where);
		return -1;
	}
	if (n == 0 || n >= sizeof(((struct rim_opaque_ref *)0)->name)) {
		gpa_err_set(e, "RIM: %s: name length %zu (expected 1..%zu)", where, n,
		    sizeof(((struct rim_opaque_ref *)0)->name) - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (name[i] < 0x20 || name[i] >= 0x7f || name[i] == '"' || name[i] == '\\') {
			gpa_err_set(e, "RIM: %s: name has byte 0x%02x (printable ASCII only)", where, name[i]);
			return -1;
		}
	return 0;
}

static int check_unique(const struct rim *r, const struct rim_opaque_ref *o, const char *where,
    struct gpa_err *e)
{
	for (int i = 0; i < r->nopaque; i++) {
		if (r->opaque[i].id == o->id) {
			gpa_err_set(e, "RIM: %s: opaque id %u (index %d) is active more than once",
			    where, o->id, o->index);
			return -1;
		}
		if (strcmp(r->opaque[i].name, o->name) == 0) {
			gpa_err_set(e, "RIM: %s: name \"%s\" is used by two opaque-data records",
			    where, o->name);
			return -1;
		}
	}
	return 0;
}

static int read_ref(const struct ref_attrs *a, const char *where, struct rim_opaque_ref *o,
    struct gpa_err *e)
{
	uint64_t v;

	if (!decimal_u64((const char *)a->index, GPA_RIM_OPAQUE_MAX, &v)) {
		gpa_err_set(e, "RIM: %s: index \"%.20s\" is not a decimal %d..%d", where,
		    (const char *)a->index, GPA_RIM_OPAQUE_BASE, GPA_RIM_OPAQUE_MAX);
		return -1;
	}
	o->index = (int)v;
	o->id = (uint16_t)(v - GPA_RIM_OPAQUE_BASE);
	if (check_name(a->name, where, e) != 0)
		return -1;
	memcpy(o->name, a->name, strlen((const char *)a->name) + 1);
	if (a->min_svn == NULL) {
		gpa_err_set(e, "RIM: %s: ns3:minSvn missing (namespace %s)", where, GPA_RIM_OPAQUE_NS);
		return -1;
	}
	if (!decimal_u64((const char *)a->min_svn, INT64_MAX, &o->min_svn)) {
		gpa_err_set(e, "RIM: %s: ns3:minSvn \"%.24s\" is not a decimal 0..%lld", where,
		    (const char *)a->min_svn, (long long)INT64_MAX);
		return -1;
	}
	if (a->include != NULL && strcmp((const char *)a->include, "True") != 0 &&
	    strcmp((const char *)a->include, "False") != 0) {
		gpa_err_set(e, "RIM: %s: ns3:includeInResult \"%.20s\" is not \"True\" or \"False\"",
		    where, (const char *)a->include);
		return -1;
	}
	o->include_in_result = a->include != NULL && strcmp((const char *)a->include, "True") == 0;
	return 0;
}

int rim_parse_opaque_ref(const xmlNode *res, int pos, struct rim *r, struct gpa_err *e)
{
	struct ref_attrs a = {
		.index = xmlGetNoNsProp(res, BAD_CAST "index"),
		.active = xmlGetNoNsProp(res, BAD_CAST "active"),
		.name = xmlGetNoNsProp(res, BAD_CAST "name"),
		.min_svn = xmlGetNsProp(res, BAD_CAST "minSvn", BAD_CAST GPA_RIM_OPAQUE_NS),
		.include = xmlGetNsProp(res, BAD_CAST "includeInResult", BAD_CAST GPA_RIM_OPAQUE_NS),
	};
	struct rim_opaque_ref o;
	char where[96];
	int rc = -1;

	memset(&o, 0, sizeof(o));
	snprintf(where, sizeof(where), "Payload/Resource %d (opaque-data record, index %.12s)", pos,
	    (const char *)a.index);
	if (a.active == NULL || (strcmp((const char *)a.active, "True") != 0 &&
	    strcmp((const char *)a.active, "False") != 0)) {
		gpa_err_set(e, "RIM: %s: active \"%.20s\" is not \"True\" or \"False\"", where,
		    a.active ? (const char *)a.active : "(missing)");
		goto out;
	}
	if (has_hash_attr(res)) {
		gpa_err_set(e, "RIM: %s: a hash attribute on an opaque-data record (its reference is ns3:minSvn)",
		    where);
		goto out;
	}
	if (strcmp((const char *)a.active, "False") == 0) {
		/* NVIDIA skips inactive records, after checking the index. */
		uint64_t v;
		if (!decimal_u64((const char *)a.index, GPA_RIM_OPAQUE_MAX, &v))
			gpa_err_set(e, "RIM: %s: index \"%.20s\" is not a decimal %d..%d", where,
			    (const char *)a.index, GPA_RIM_OPAQUE_BASE, GPA_RIM_OPAQUE_MAX);
		else
			rc = 0;
		goto out;
	}
	if (read_ref(&a, where, &o, e) != 0 || check_unique(r, &o, where, e) != 0)
		goto out;
	r->opaque[r->nopaque++] = o;
	rc = 0;
out:
	ref_attrs_free(&a);
	return rc;
}
