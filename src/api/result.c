/*
 * Per-device accessors of a result, for programs that want more than the
 * verdict without parsing the JSON document. Every index is checked.
 */
#include "gpuattest.h"

#include <stdlib.h>

#include "api/api_internal.h"

/* The device at i, or NULL when i is out of range. */
static const struct gpa_device_result *device(const gpuattest_result *r, int i)
{
	if (r == NULL || i < 0 || (size_t)i >= r->a.n)
		return NULL;
	return &r->a.dev[i];
}

int gpuattest_result_genuine_switches(const gpuattest_result *r)
{
	return appraisal_count_genuine(&r->a, GPA_DEV_SWITCH);
}

const char *gpuattest_result_nonce(const gpuattest_result *r)
{
	return r->a.nonce_hex;
}

int gpuattest_result_device_count(const gpuattest_result *r)
{
	return r == NULL ? -1 : (int)r->a.n;
}

int gpuattest_result_device_kind(const gpuattest_result *r, int i)
{
	const struct gpa_device_result *d = device(r, i);

	if (d == NULL)
		return -1;
	return d->kind == GPA_DEV_SWITCH ? GPUATTEST_DEVICE_SWITCH : GPUATTEST_DEVICE_GPU;
}

const char *gpuattest_result_device_label(const gpuattest_result *r, int i)
{
	const struct gpa_device_result *d = device(r, i);

	return d ? d->label : NULL;
}

const char *gpuattest_result_device_uuid(const gpuattest_result *r, int i)
{
	const struct gpa_device_result *d = device(r, i);

	return d ? d->uuid : NULL;
}

int gpuattest_result_device_verdict(const gpuattest_result *r, int i)
{
	const struct gpa_device_result *d = device(r, i);

	return d ? (int)d->verdict : -1;
}

char *gpuattest_result_device_claims_json(const gpuattest_result *r, int i)
{
	const struct gpa_device_result *d = device(r, i);
	json_t *o;
	char *s;

	if (d == NULL || (o = claims_device_json(&r->a, d)) == NULL)
		return NULL;
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

int gpuattest_result_device_check_count(const gpuattest_result *r, int i)
{
	const struct gpa_device_result *d = device(r, i);

	return d ? d->nchecks : -1;
}

/* The public outcome numbers are the internal ones, spelled out. */
static int public_outcome(enum gpa_outcome o)
{
	switch (o) {
	case GPA_CHECK_PASS: return GPUATTEST_CHECK_PASS;
	case GPA_CHECK_FAIL: return GPUATTEST_CHECK_FAIL;
	case GPA_CHECK_BAD_INPUT: return GPUATTEST_CHECK_BAD_INPUT;
	case GPA_CHECK_NOT_DONE: return GPUATTEST_CHECK_NOT_DONE;
	case GPA_CHECK_SKIPPED: return GPUATTEST_CHECK_SKIPPED;
	}
	return GPUATTEST_CHECK_NOT_DONE;
}

int gpuattest_result_device_check(const gpuattest_result *r, int i, int k, const char **id,
    int *outcome, const char **detail)
{
	const struct gpa_device_result *d = device(r, i);

	if (d == NULL || k < 0 || k >= d->nchecks)
		return -1;
	if (id != NULL)
		*id = d->checks[k].id;
	if (outcome != NULL)
		*outcome = public_outcome(d->checks[k].outcome);
	if (detail != NULL)
		*detail = d->checks[k].detail;
	return 0;
}
