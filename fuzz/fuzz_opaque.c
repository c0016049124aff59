/*
 * libFuzzer target for the opaque data alone (both layouts, spdm/opaque.c):
 * the input is the OpaqueData blob, so the fuzzer reaches the NVDAOD header
 * and entries without first having to build a whole SPDM report around
 * them (fuzz_spdm covers that framing). Then what is built on the entries:
 * report_info_derive and the inspect entries view.
 *
 * Never: reads files or the network; it must not leak or crash on any input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/inspect.h"
#include "spdm/spdm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_kind(const uint8_t *data, size_t size, enum gpa_device_kind kind,
    struct spdm_report *r)
{
	struct report_info info;
	struct gpa_err e;
	json_t *resp;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->opaque = data;
	r->opaque_len = (uint16_t)size;
	r->opaque_offset = 3599;
	if (opaque_parse(r, &e) == -1)
		return;
	(void)report_info_derive(r, &info, &e);
	resp = json_object();
	if (resp == NULL || inspect_put_opaque_entries(resp, r) != 0)
		abort();
	char *text = json_dumps(resp, JSON_COMPACT);
	if (text == NULL)
		abort();	/* every string must be valid UTF-8 */
	free(text);
	json_decref(resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct spdm_report r;

	if (size > 65535)
		return 0;	/* OpaqueLength is a u16 */
	one_kind(data, size, GPA_DEV_GPU, &r);
	one_kind(data, size, GPA_DEV_SWITCH, &r);
	return 0;
}
