/*
 * libFuzzer target: audit receipts (api/receipt.c). A receipt comes from
 * another machine and is hostile. Each input is tried twice: as it is (the
 * canonical-form and digest checks must refuse almost everything cleanly),
 * and, when it is a JSON object, sealed with a correct digest first, so the
 * fuzzer reaches the parsing of the evidence, driver answers, options and
 * collateral, and the re-verification behind them. Nothing may crash, and a
 * re-verification that ran must have produced a result.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_one(const uint8_t *buf, size_t len)
{
	gpuattest_config *c = gpuattest_config_new();
	struct gpa_receipt_check k;

	if (c == NULL)
		return;
	if (api_receipt_check_buffer(c, "fuzz", buf, len, &k) == 0 && k.result == NULL)
		abort();
	api_receipt_check_clear(&k);
	gpuattest_config_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc;
	char *sealed;

	try_one(data, size);
	doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(doc) && (sealed = api_receipt_seal(doc)) != NULL) {
		try_one((const uint8_t *)sealed, strlen(sealed));
		free(sealed);
	}
	json_decref(doc);
	return 0;
}
