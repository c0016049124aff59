/*
 * libFuzzer target for evidence files: evidence_parse_json for both device
 * kinds, then the writer's round trip (what we write must read back to the
 * same items and the same text), the common nonce, the raw-report
 * decoder and loader on the same bytes, and the wrong-option sniffing.
 *
 * Never: reads files or the network; it must not leak or crash on any input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const struct evidence_set *set, enum gpa_device_kind kind)
{
	static struct evidence_set back;
	struct gpa_err e;
	char *j1 = evidence_to_json(set), *j2;

	if (j1 == NULL)
		abort();	/* a parsed set must always be writable */
	if (evidence_parse_json((const uint8_t *)j1, strlen(j1), kind, &back, &e) != 0)
		abort();
	j2 = evidence_to_json(&back);
	if (j2 == NULL || strcmp(j1, j2) != 0 || back.n != set->n)
		abort();
	for (size_t i = 0; i < set->n; i++) {
		const struct evidence_item *a = &set->items[i], *b = &back.items[i];
		if (a->report_len != b->report_len || memcmp(a->report, b->report, a->report_len) != 0 ||
		    a->chain_len != b->chain_len || memcmp(a->chain_pem, b->chain_pem, a->chain_len) != 0 ||
		    a->has_nonce != b->has_nonce || strcmp(a->arch, b->arch) != 0)
			abort();
	}
	free(j1);
	free(j2);
	evidence_set_clear(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct evidence_set set;		/* 64 items: keep it off the stack */
	struct gpa_err e;
	uint8_t nonce[SPDM_NONCE_LEN], *raw;
	size_t rawlen;

	for (int k = 0; k < 2; k++) {
		enum gpa_device_kind kind = k ? GPA_DEV_SWITCH : GPA_DEV_GPU;

		if (evidence_parse_json(data, size, kind, &set, &e) != 0)
			continue;
		(void)evidence_common_nonce(&set, nonce, &e);
		round_trip(&set, kind);
		evidence_set_clear(&set);
	}
	if (report_bytes_decode(data, size, &raw, &rawlen, &e) == 0)
		free(raw);
	if (evidence_load_raw_buffer("fuzz", data, size, NULL, GPA_DEV_GPU, &set, &e) == 0)
		evidence_set_clear(&set);
	for (int o = EVIDENCE_OPT_JSON; o <= EVIDENCE_OPT_CHAIN; o++)
		(void)evidence_refuse_misfit("fuzz", data, size, (enum evidence_option)o, &e);
	return 0;
}
