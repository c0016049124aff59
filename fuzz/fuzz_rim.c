/*
 * libFuzzer target for rim_load: arbitrary bytes as a RIM (raw XML or RIM
 * service JSON) against the pinned anchors at a fixed time. Owns nothing
 * but the harness; must never keep state between inputs except the anchor
 * set, which lives for the whole run.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "rim/rim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gpa_anchors *fuzz_anchors(void)
{
	static struct gpa_anchors *a;

	if (a == NULL) {
		struct gpa_err e = { { 0 } };

		if (rim_global_init(&e) != 0 || (a = anchors_new(true, &e)) == NULL)
			abort();
	}
	return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpa_err e = { { 0 } };
	struct rim *r = NULL;
	const time_t at = 1795824000;	/* 2026-11-28T00:00:00Z */

	if (rim_load(data, size, (size & 1) ? "NV_GPU_DRIVER_GH100_595.71.05" : NULL,
	    fuzz_anchors(), at, &r, &e) == 0) {
		/* Touch what a caller reads so the fuzzer checks it is initialised. */
		for (int i = 0; i < r->nmeas; i++)
			(void)rim_active(r, r->meas[i].index);
		rim_free(r);
	}
	return 0;
}
