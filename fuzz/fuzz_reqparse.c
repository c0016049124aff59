/*
 * libFuzzer target: an NRAS attestation request body, as `gpuattest serve`
 * receives it from the network, through svc_parse_request
 * (service/reqparse.c), for the GPU endpoint or the switch one (the input's
 * size decides). It must refuse anything malformed with a reason and leave
 * nothing allocated; whatever it accepts must hold 1..64 items of the
 * endpoint's kind, each with a report and a chain within their bounds, and
 * the envelope's nonce as the body says it, independently decoded here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "service/service.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const uint8_t *data, size_t size, const struct svc_request *r,
    enum gpa_device_kind kind)
{
	json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	const char *nonce = json_string_value(json_object_get(root, "nonce"));
	uint8_t want[SPDM_NONCE_LEN];

	if (nonce == NULL || strlen(nonce) != 2 * SPDM_NONCE_LEN ||
	    hex_decode(nonce, strlen(nonce), want, sizeof(want), false) != SPDM_NONCE_LEN ||
	    memcmp(want, r->nonce, sizeof(want)) != 0)
		abort();
	if (r->kind != kind || r->set.n == 0 || r->set.n > GPA_EVIDENCE_MAX_ITEMS ||
	    r->set.n != json_array_size(json_object_get(root, "evidence_list")))
		abort();
	if (r->arch[0] == '\0' || strcmp(r->arch, json_string_value(json_object_get(root, "arch"))) != 0)
		abort();
	for (size_t i = 0; i < r->set.n; i++) {
		const struct evidence_item *it = &r->set.items[i];
		if (it->kind != kind || it->report == NULL || it->report_len == 0 ||
		    it->report_len > GPA_REPORT_MAX || it->chain_pem == NULL || it->chain_len == 0 ||
		    it->chain_len > GPA_CHAIN_MAX || strlen(it->chain_pem) != it->chain_len)
			abort();
		if (it->has_nonce && memcmp(it->nonce, r->nonce, SPDM_NONCE_LEN) != 0)
			abort();
	}
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum gpa_device_kind kind = size % 2 ? GPA_DEV_SWITCH : GPA_DEV_GPU;
	struct svc_request r;
	struct gpa_err e;

	memset(&e, 0, sizeof(e));
	if (svc_parse_request(data, size, kind, &r, &e) != 0) {
		if (e.msg[0] == '\0' || r.set.n != 0)
			abort();
		return 0;
	}
	check_accepted(data, size, &r, kind);
	svc_request_clear(&r);
	return 0;
}
