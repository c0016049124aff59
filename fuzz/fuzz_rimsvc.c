/*
 * libFuzzer target: a RIM service answer, {"id", "rim" (base64 XML),
 * "sha256", ...}, through rim_service_json_decode (rim/rim.c), the one
 * decoder the network client (net/rimsvc.c) and rim_load both use. It must
 * refuse anything malformed with a reason, and whatever it accepts must be a
 * non-empty document of at most GPA_RIM_MAX_BYTES whose SHA-256 is the one
 * the answer named, for the id asked for.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "rim/rim.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Sizes mod 3: the id the seeds carry, another one, or no expected id. */
	static const char *const ids[] = { "NV_GPU_DRIVER_GH100_595.71.05", "NV_TEST_A", NULL };
	uint8_t *xml = NULL, md[SHA256_DIGEST_LENGTH], want[SHA256_DIGEST_LENGTH];
	size_t len = 0;
	struct gpa_err e;
	json_t *root;
	const char *sha, *id;

	memset(&e, 0, sizeof(e));
	if (rim_service_json_decode(data, size, ids[size % 3], &xml, &len, &e) != 0) {
		if (xml != NULL || len != 0 || e.msg[0] == '\0')
			abort();
		return 0;
	}
	if (xml == NULL || len == 0 || len > GPA_RIM_MAX_BYTES || xml[len] != 0)
		abort();
	/* Independently: the answer's own sha256 and id. */
	root = json_loadb((const char *)data, size, 0, NULL);
	sha = json_string_value(json_object_get(root, "sha256"));
	id = json_string_value(json_object_get(root, "id"));
	if (sha == NULL || id == NULL || strlen(sha) != 64 ||
	    hex_decode(sha, 64, want, sizeof(want), false) != SHA256_DIGEST_LENGTH)
		abort();
	if (ids[size % 3] != NULL && strcmp(id, ids[size % 3]) != 0)
		abort();
	SHA256(xml, len, md);
	if (memcmp(md, want, sizeof(md)) != 0)
		abort();
	json_decref(root);
	free(xml);
	return 0;
}
