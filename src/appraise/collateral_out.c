/*
 * Where each RIM and OCSP answer came from (a->collateral, filled by the
 * network layer's collateral sources through api/netglue.c): the JSON array
 * "collateral", and the NOTE lines for a stored copy that did not verify now
 * and was dropped. A dropped copy is never a finding about a device: it is
 * said, and the verification went on with the next source.
 */
#include "appraise/appraise.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *appraisal_collateral_json(const struct gpa_appraisal *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < a->ncollateral; i++) {
		const struct gpa_collateral_use *u = &a->collateral[i];
		json_t *o = json_object();

		json_object_set_new(o, "kind", json_string(u->kind));
		json_object_set_new(o, "name", json_string(u->name));
		json_object_set_new(o, "source", json_string(u->source));
		json_object_set_new(o, "where", u->where[0] ? json_string(u->where) : json_null());
		if (u->discarded[0])
			json_object_set_new(o, "discarded", json_string(u->discarded));
		json_array_append_new(arr, o);
	}
	return arr;
}

char *appraisal_collateral_notes(const struct gpa_appraisal *a)
{
	size_t cap = 1, n = 0;
	char *out;

	for (size_t i = 0; i < a->ncollateral; i++)
		if (a->collateral[i].discarded[0])
			cap += strlen(a->collateral[i].discarded) + strlen(a->collateral[i].where) +
			    strlen(a->collateral[i].name) + 80;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; i < a->ncollateral; i++) {
		const struct gpa_collateral_use *u = &a->collateral[i];
		int k;

		if (!u->discarded[0])
			continue;
		k = snprintf(out + n, cap - n, "NOTE: %s %s: %s; %s%s\n", u->kind, u->name, u->discarded,
		    u->where[0] ? "used instead: " : "no other source had it", u->where);
		if (k > 0 && (size_t)k < cap - n)
			n += (size_t)k;
	}
	return out;
}
