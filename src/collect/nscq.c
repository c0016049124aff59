/*
 * NSCQ collection for NVSwitches (docs/attestation-formats.md §9.3): loads
 * libnvidia-nscq.so.2 (or --nscq-lib / GPUATTEST_NSCQ_LIB) with dlopen,
 * enumerates the switches, and asks each for its TNVL/lock mode, its
 * certificate chain and an attestation report over the GPUs' nonce.
 * Callbacks are invoked synchronously by path_observe; the values arrive by
 * value, so nothing is kept past the callback but our own copies.
 */
#include "collect/collect.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/nscq_abi.h"

#define MAX_SWITCHES 16

struct nscq_api {
	void *h;
	nscq_session_create_fn create;
	nscq_session_destroy_fn destroy;
	nscq_session_path_observe_fn observe;
	nscq_session_set_input_fn set_input;
	nscq_uuid_to_label_fn uuid_to_label;
};

struct switch_seen {
	int n;
	nscq_uuid_t uuid[MAX_SWITCHES];
	nscq_rc_t rc;				/* first error from a callback */
};

struct switch_one {
	struct evidence_item *it;
	nscq_rc_t rc;
	bool got;
};

static const char *nscq_explain(nscq_rc_t rc)
{
	switch (rc) {
	case NSCQ_RC_ERROR_NOT_IMPLEMENTED: return "not implemented by this driver";
	case NSCQ_RC_ERROR_INVALID_UUID: return "invalid switch UUID";
	case NSCQ_RC_ERROR_RESOURCE_NOT_MOUNTABLE: return "the switch device cannot be opened (permissions? run as root)";
	case NSCQ_RC_ERROR_OVERFLOW: return "a value did not fit";
	case NSCQ_RC_ERROR_UNEXPECTED_VALUE: return "unexpected value";
	case NSCQ_RC_ERROR_UNSUPPORTED_DRV: return "the NVSwitch driver is not supported by this NSCQ library";
	case NSCQ_RC_ERROR_DRV: return "NVSwitch driver error (is the nvidia-nvswitch driver / fabric manager set up?)";
	case NSCQ_RC_ERROR_TIMEOUT: return "the switch did not answer in time";
	default: return rc > 0 ? "warning" : "unspecified NSCQ error";
	}
}

static void on_uuid(const nscq_uuid_t *dev, nscq_rc_t rc, const nscq_uuid_t *uuid, void *arg)
{
	struct switch_seen *s = arg;

	(void)dev;
	if (NSCQ_ERROR(rc)) {
		s->rc = rc;
		return;
	}
	if (uuid != NULL && s->n < MAX_SWITCHES)
		s->uuid[s->n++] = *uuid;
}

static void on_tnvl(const nscq_uuid_t *dev, nscq_rc_t rc, nscq_tnvl_status_t st, void *arg)
{
	struct switch_one *o = arg;

	(void)dev;
	o->rc = rc;
	if (!NSCQ_ERROR(rc)) {
		o->it->tnvl = st;
		o->it->have_tnvl = true;
	}
}

static void on_cert(const nscq_uuid_t *dev, nscq_rc_t rc, nscq_attestation_certificate_t cert, void *arg)
{
	struct switch_one *o = arg;

	(void)dev;
	o->rc = rc;
	if (NSCQ_ERROR(rc) || cert.cert_chain_size == 0 || cert.cert_chain_size > sizeof(cert.cert_chain))
		return;
	o->got = evidence_item_copy_chain(o->it, cert.cert_chain, cert.cert_chain_size) == 0;
}

static void on_report(const nscq_uuid_t *dev, nscq_rc_t rc, nscq_attestation_report_t rep, void *arg)
{
	struct switch_one *o = arg;

	(void)dev;
	o->rc = rc;
	if (NSCQ_ERROR(rc) || rep.report_size == 0 || rep.report_size > sizeof(rep.report))
		return;
	o->got = evidence_item_copy_report(o->it, rep.report, rep.report_size) == 0;
}

static int observe(struct nscq_api *api, nscq_session_t s, const char *label, const char *suffix,
    nscq_fn_t cb, struct switch_one *o, const char *what, struct gpa_err *e)
{
	char path[160];
	nscq_rc_t rc;

	snprintf(path, sizeof(path), "/%s%s", label, suffix);
	o->got = false;
	o->rc = 0;
	rc = api->observe(s, path, cb, o, 0);
	if (NSCQ_ERROR(rc) || NSCQ_ERROR(o->rc)) {
		nscq_rc_t bad = NSCQ_ERROR(rc) ? rc : o->rc;
		gpa_err_set(e, "NVSwitch %s: %s: NSCQ error %d: %s", label, what, bad, nscq_explain(bad));
		return -1;
	}
	return 0;
}

static int collect_switch(struct nscq_api *api, nscq_session_t s, const nscq_uuid_t *uuid,
    const uint8_t nonce[SPDM_NONCE_LEN], struct evidence_item *it, struct gpa_err *e)
{
	nscq_label_t label;
	struct switch_one o = {.it = it};
	uint8_t in[SPDM_NONCE_LEN];
	nscq_rc_t rc;

	memset(&label, 0, sizeof(label));
	rc = api->uuid_to_label(uuid, &label, 0);
	if (NSCQ_ERROR(rc)) {
		gpa_err_set(e, "NVSwitch: cannot name a switch: NSCQ error %d: %s", rc, nscq_explain(rc));
		return -1;
	}
	label.data[sizeof(label.data) - 1] = '\0';
	it->kind = GPA_DEV_SWITCH;
	it->live = true;
	it->has_nonce = true;
	memcpy(it->nonce, nonce, SPDM_NONCE_LEN);
	snprintf(it->arch, sizeof(it->arch), "LS10");
	snprintf(it->uuid, sizeof(it->uuid), "%s", label.data);
	if (observe(api, s, label.data, NSCQ_SUFFIX_PCIE_MODE, NSCQ_FN(on_tnvl), &o, "reading the TNVL mode", e) ||
	    observe(api, s, label.data, NSCQ_SUFFIX_CERTIFICATE, NSCQ_FN(on_cert), &o, "reading the certificate chain", e))
		return -1;
	if (!o.got) {
		gpa_err_set(e, "NVSwitch %s: no certificate chain", label.data);
		return -1;
	}
	/* The nonce is an input of the next report observation. */
	memcpy(in, nonce, sizeof(in));
	rc = api->set_input(s, 0, in, sizeof(in));
	if (NSCQ_ERROR(rc)) {
		gpa_err_set(e, "NVSwitch %s: setting the nonce: NSCQ error %d: %s", label.data, rc, nscq_explain(rc));
		return -1;
	}
	if (observe(api, s, label.data, NSCQ_SUFFIX_ATTESTATION_REPORT, NSCQ_FN(on_report), &o,
	    "getting the attestation report", e))
		return -1;
	if (!o.got) {
		gpa_err_set(e, "NVSwitch %s: no attestation report", label.data);
		return -1;
	}
	return 0;
}

#define RESOLVE(field, sym) do { \
	*(void **)&api.field = dlsym(api.h, sym); \
	if (api.field == NULL) { \
		gpa_err_set(e, "%s has no %s", path, sym); \
		goto out; \
	} \
} while (0)

int live_collect_switches(struct gpa_live *l, const char *lib, struct gpa_err *e)
{
	const char *env = getenv("GPUATTEST_NSCQ_LIB");
	const char *path = lib ? lib : env && *env ? env : NSCQ_LIBRARY_NAME;
	struct nscq_api api = {0};
	struct switch_seen seen = {0};
	nscq_session_result_t sr = {0};
	int rc = -1;

	api.h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (api.h == NULL) {
		gpa_err_set(e, "Protected PCIe mode needs the NVSwitch library: %s could not be loaded (%s)",
		    path, dlerror());
		return -1;
	}
	RESOLVE(create, "nscq_session_create");
	RESOLVE(destroy, "nscq_session_destroy");
	RESOLVE(observe, "nscq_session_path_observe");
	RESOLVE(set_input, "nscq_session_set_input");
	RESOLVE(uuid_to_label, "nscq_uuid_to_label");
	sr = api.create(NSCQ_SESSION_CREATE_MOUNT_DEVICES);
	if (NSCQ_ERROR(sr.rc) || sr.session == NULL) {
		gpa_err_set(e, "NVSwitch: cannot open an NSCQ session: NSCQ error %d: %s", sr.rc, nscq_explain(sr.rc));
		goto out;
	}
	nscq_rc_t orc = api.observe(sr.session, NSCQ_PATH_DRV_NVSWITCH_DEVICE_UUID, NSCQ_FN(on_uuid), &seen, 0);
	if (NSCQ_ERROR(orc) || NSCQ_ERROR(seen.rc)) {
		nscq_rc_t bad = NSCQ_ERROR(orc) ? orc : seen.rc;
		gpa_err_set(e, "NVSwitch: cannot list the switches: NSCQ error %d: %s", bad, nscq_explain(bad));
		goto out;
	}
	if (seen.n == 0) {
		gpa_err_set(e, "Protected PCIe mode, but NSCQ finds no NVSwitch");
		goto out;
	}
	if (l->set.n + (size_t)seen.n > GPA_EVIDENCE_MAX_ITEMS) {
		gpa_err_set(e, "too many devices");
		goto out;
	}
	for (int i = 0; i < seen.n; i++) {
		struct evidence_item *it = &l->set.items[l->set.n];
		memset(it, 0, sizeof(*it));
		l->set.n++;
		if (collect_switch(&api, sr.session, &seen.uuid[i], l->nonce, it, e) != 0)
			goto out;
	}
	rc = 0;
out:
	if (sr.session != NULL)
		api.destroy(sr.session);
	dlclose(api.h);
	return rc;
}
