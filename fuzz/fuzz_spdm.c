/*
 * libFuzzer target for the report parser and everything built on a parsed
 * report without a chain: spdm_parse_report (GPU and switch tables),
 * report_info_derive, report_rim_ids for every architecture, and the
 * inspect document and its text.
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
	static const enum gpa_arch archs[] = { GPA_ARCH_UNKNOWN, GPA_ARCH_HOPPER,
		GPA_ARCH_BLACKWELL, GPA_ARCH_LS10 };
	static const char *const arch_words[] = { NULL, "HOPPER", "blackwell", "LS10", "x" };
	struct report_info info;
	struct gpa_err e;
	bool derived;

	if (spdm_parse_report(data, size, kind, r, &e) != 0)
		return;
	derived = report_info_derive(r, &info, &e) == 0;
	if (derived) {
		for (size_t i = 0; i < sizeof(archs) / sizeof(archs[0]); i++) {
			struct report_info copy = info;
			(void)report_rim_ids(&copy, archs[i], &e);
		}
	}
	for (size_t i = 0; i < sizeof(arch_words) / sizeof(arch_words[0]); i++) {
		json_t *doc = inspect_report_json_arch(r, derived ? &info : NULL, NULL,
		    derived ? NULL : e.msg, arch_words[i]);
		char *text;

		if (doc == NULL)
			abort();	/* only allocation failure may return NULL */
		if (i == 0) {
			text = inspect_text(doc);
			free(text);
			text = json_dumps(doc, JSON_COMPACT);
			if (text == NULL)
				abort();	/* every string must be valid UTF-8 */
			free(text);
		}
		json_decref(doc);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct spdm_report r;	/* ~6 KiB of views; no need to re-allocate */

	one_kind(data, size, GPA_DEV_GPU, &r);
	one_kind(data, size, GPA_DEV_SWITCH, &r);
	return 0;
}
