/*
 * The opaque-data reference values of the RIMs against the report
 * (attestation-formats.md §16.2, NVIDIA 2.0's compare_opaque_data): after
 * the measurement comparison, per device, the records of its usable driver
 * and VBIOS RIMs. Only MIN_SVN exists: the report's entry with the record's
 * id must be a 2-byte value of value type 0x87 (NVDAOD) and at least
 * ns3:minSvn. An id or a name in both RIMs is a conflict, fatal as NVIDIA
 * makes it. A device without records is judged as before.
 */
#include "appraise/appraise.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_mismatch(struct gpa_device_result *d, const struct rim_opaque_ref *o,
    const char *source, const struct opaque_field *f)
{
	struct gpa_opaque_mismatch *m, *grown;

	grown = realloc(d->opaque_mismatch, (size_t)(d->nopaque_mismatch + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	d->opaque_mismatch = grown;
	m = &d->opaque_mismatch[d->nopaque_mismatch++];
	memset(m, 0, sizeof(*m));
	m->id = o->id;
	snprintf(m->name, sizeof(m->name), "%s", o->name);
	m->source = source;
	m->golden = o->min_svn;
	if (f != NULL) {
		m->has_runtime = true;
		m->runtime = (uint64_t)(f->value[0] | f->value[1] << 8);
	}
	return 0;
}

static int add_attester(struct gpa_device_result *d, const char *name, uint64_t v)
{
	struct gpa_attester_claim *grown = realloc(d->attester,
	    (size_t)(d->nattester + 1) * sizeof(*grown));

	if (grown == NULL)
		return -1;
	d->attester = grown;
	snprintf(d->attester[d->nattester].name, sizeof(d->attester[0].name), "%s", name);
	d->attester[d->nattester++].value = v;
	return 0;
}

/* The report's field for a record, when it is comparable as an SVN. */
static const struct opaque_field *svn_field(const struct gpa_device_result *d, uint16_t id)
{
	const struct opaque_field *f = opaque_get(&d->report, id);

	if (f == NULL || f->len != 2 || f->value_type != OPAQUE_VT_MIN_SVN)
		return NULL;
	return f;
}

static int compare_refs(struct gpa_device_result *d, const struct rim *rim, const char *source)
{
	for (int i = 0; i < rim->nopaque; i++) {
		const struct rim_opaque_ref *o = &rim->opaque[i];
		const struct opaque_field *f = svn_field(d, o->id);
		uint64_t v = f ? (uint64_t)(f->value[0] | f->value[1] << 8) : 0;

		d->nopaque_refs++;
		/* Shown even when below the floor, as NVIDIA shows it. */
		if (f != NULL && o->include_in_result && add_attester(d, o->name, v) != 0)
			return -1;
		if ((f == NULL || v < o->min_svn) && add_mismatch(d, o, source, v < o->min_svn ? f : NULL) != 0)
			return -1;
	}
	return 0;
}

/* NVIDIA: a type id or a name present in both RIMs is a conflict. */
static bool find_conflict(struct gpa_device_result *d, const struct rim *drv, const struct rim *vb)
{
	for (int i = 0; i < drv->nopaque; i++)
		for (int j = 0; j < vb->nopaque; j++) {
			const struct rim_opaque_ref *a = &drv->opaque[i], *b = &vb->opaque[j];
			if (a->id == b->id || strcmp(a->name, b->name) == 0) {
				snprintf(d->opaque_conflict_detail, sizeof(d->opaque_conflict_detail),
				    "driver RIM record \"%s\" (opaque id %u) and VBIOS RIM record \"%s\" (opaque id %u) name the same %s",
				    a->name, a->id, b->name, b->id, a->id == b->id ? "id" : "name");
				return true;
			}
		}
	return false;
}

int appraise_opaque_refs(struct gpa_device_result *d, const struct rim *drv, const struct rim *vb)
{
	bool any = (drv && drv->nopaque > 0) || (vb && vb->nopaque > 0);

	if (!any)
		return 0;
	d->opaque_done = true;
	if (drv != NULL && vb != NULL && find_conflict(d, drv, vb)) {
		d->opaque_conflict = true;
		return 0;
	}
	if (drv != NULL && compare_refs(d, drv, "Driver") != 0)
		return -1;
	if (vb != NULL && compare_refs(d, vb, "Firmware") != 0)
		return -1;
	return 0;
}
