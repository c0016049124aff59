/*
 * nscq_sim: a SIMULATED libnvidia-nscq (NSCQ API 2.0.0) exporting the five
 * functions NVSwitch attestation uses (fact sheet §9.3) with NVIDIA's ABI
 * (src/collect/nscq_abi.h). It emulates M LS10 switches in TNVL+locked
 * mode, each with its own key and chain from the SIMULATION PKI, and answers
 * the attestation-report path with an SPDM 1.1 report (31 blocks) signed by
 * that switch's leaf key over the nonce set with nscq_session_set_input.
 * The GPU PDIs it lists and the switch PDIs the simulated GPUs list
 * (nvml_sim.c) come from the same PKI, so the PPCIe topology is consistent
 * unless a fault in $GPUATTEST_SIM_CONFIG breaks it on purpose.
 *
 * Owns: simulation only. Must never stand in for a real driver.
 *
 * Each session holds its own copy of the configuration, guarded by its own
 * mutex; callbacks run synchronously in path_observe but after the lock is
 * released, so a callback may call back into the library.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/nscq_abi.h"
#include "sim_core.h"

SIM_EXPORT nscq_session_create_ft nscq_session_create;
SIM_EXPORT nscq_session_destroy_ft nscq_session_destroy;
SIM_EXPORT nscq_session_path_observe_ft nscq_session_path_observe;
SIM_EXPORT nscq_session_set_input_ft nscq_session_set_input;
SIM_EXPORT nscq_uuid_to_label_ft nscq_uuid_to_label;

struct nscq_session_st {
	pthread_mutex_t lock;
	struct sim_config cfg;
	struct sim_device sw[SIM_MAX_DEVICES];
	unsigned nloaded;     /* switches loaded from the PKI */
	unsigned nvisible;    /* switches enumerated (missing_switch hides one) */
	nscq_uuid_t uuid[SIM_MAX_DEVICES];
	uint8_t gpu_pdi[SIM_SWITCH_GPU_SLOTS][SIM_PDI_LEN];
	uint8_t nonce[SIM_NONCE_LEN];
	bool have_nonce;
};

enum path_kind { PATH_UUID, PATH_ARCH, PATH_PCIE_MODE, PATH_CERTIFICATE, PATH_REPORT };

/* What one callback invocation will receive, computed under the lock. */
struct observation {
	unsigned sw;
	nscq_rc_t rc;
	nscq_tnvl_status_t tnvl;
	nscq_attestation_certificate_t cert;
	nscq_attestation_report_t report;
};

/* ---------------- session ---------------- */

static void switch_uuid(const uint8_t pdi[SIM_PDI_LEN], nscq_uuid_t *out)
{
	uint8_t h[SIM_DIGEST_LEN];
	char seed[64], hex[17];

	sim_hex(pdi, SIM_PDI_LEN, hex, true);
	snprintf(seed, sizeof(seed), "gpuattest-sim|switch-uuid|%s", hex);
	sim_sha384_str(seed, h);
	memcpy(out->bytes, h, sizeof(out->bytes));
}

static void session_free(struct nscq_session_st *s)
{
	for (unsigned i = 0; i < s->nloaded; i++)
		sim_device_free(&s->sw[i]);
	sim_config_free(&s->cfg);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int session_load(struct nscq_session_st *s, char *err, size_t errlen)
{
	const struct sim_config *c = &s->cfg;
	unsigned ngpu = c->gpus < SIM_SWITCH_GPU_SLOTS ? c->gpus : SIM_SWITCH_GPU_SLOTS;

	for (unsigned i = 0; i < c->switches; i++) {
		if (sim_device_load(c->pki, "switch", i, &s->sw[i], err, errlen) != 0)
			return -1;
		s->nloaded++;
		switch_uuid(s->sw[i].pdi, &s->uuid[i]);
	}
	s->nvisible = s->nloaded;
	if (s->nvisible > 0 && sim_fault_for_switch(c, SIM_FAULT_MISSING_SWITCH, 0, true) != NULL)
		s->nvisible--;
	for (size_t f = 0; f < c->nfaults; f++) {
		if (c->faults[f].kind == SIM_FAULT_SWAPPED_CHAIN && c->faults[f].sw >= 0 && c->switches < 2) {
			snprintf(err, errlen, "fault swapped_chain needs at least 2 switches");
			return -1;
		}
	}
	/* GPU PDIs exist only for PKI-backed GPUs; unpopulated slots stay zero. */
	if (c->nreplay == 0)
		for (unsigned i = 0; i < ngpu; i++)
			if (sim_pdi_load(c->pki, "gpu", i, s->gpu_pdi[i], err, errlen) != 0)
				return -1;
	return 0;
}

nscq_session_result_t nscq_session_create(uint32_t flags)
{
	nscq_session_result_t res = { NSCQ_RC_ERROR_UNSPECIFIED, NULL };
	struct nscq_session_st *s = calloc(1, sizeof(*s));
	char err[1024] = "";
	int rc, code;

	if (s == NULL)
		return res;
	pthread_mutex_init(&s->lock, NULL);
	rc = sim_config_load(&s->cfg, err, sizeof(err));
	if (rc != 0) {
		if (rc != -1)
			fprintf(stderr, "gpuattest nscq simulator: %s\n", err);
		res.rc = rc == -1 ? NSCQ_RC_ERROR_DRV : NSCQ_RC_ERROR_UNSPECIFIED;
		session_free(s);
		return res;
	}
	code = sim_fault_error_code(&s->cfg, SIM_FAULT_NSCQ_ERROR, "nscq_session_create", -1);
	if (code != 0) {
		res.rc = (nscq_rc_t)code;
		session_free(s);
		return res;
	}
	if (session_load(s, err, sizeof(err)) != 0) {
		fprintf(stderr, "gpuattest nscq simulator: %s\n", err[0] ? err : "out of memory");
		session_free(s);
		return res;
	}
	res.rc = NSCQ_RC_SUCCESS;
	res.session = s;
	return res;
}

void nscq_session_destroy(nscq_session_t session)
{
	if (session != NULL)
		session_free(session);
}

nscq_rc_t nscq_uuid_to_label(const nscq_uuid_t *uuid, nscq_label_t *label, uint32_t flags)
{
	char x[33];

	if (uuid == NULL || label == NULL)
		return NSCQ_RC_ERROR_UNEXPECTED_VALUE;
	sim_hex(uuid->bytes, sizeof(uuid->bytes), x, false);
	memset(label->data, 0, sizeof(label->data));
	snprintf(label->data, sizeof(label->data), "SWX-%.8s-%.4s-%.4s-%.4s-%.12s", x, x + 8, x + 12, x + 16,
	    x + 20);
	return NSCQ_RC_SUCCESS;
}

nscq_rc_t nscq_session_set_input(nscq_session_t s, uint32_t flags, void *input, uint32_t size)
{
	int code;

	if (s == NULL || input == NULL || size != SIM_NONCE_LEN)
		return NSCQ_RC_ERROR_UNEXPECTED_VALUE;
	pthread_mutex_lock(&s->lock);
	code = sim_fault_error_code(&s->cfg, SIM_FAULT_NSCQ_ERROR, "nscq_session_set_input", -1);
	if (code == 0) {
		memcpy(s->nonce, input, SIM_NONCE_LEN);
		s->have_nonce = true;
	}
	pthread_mutex_unlock(&s->lock);
	return (nscq_rc_t)code;
}

/* ---------------- paths ---------------- */

static bool has_suffix(const char *s, size_t len, const char *suffix, size_t *stem)
{
	size_t n = strlen(suffix);

	if (len < n || memcmp(s + len - n, suffix, n) != 0)
		return false;
	*stem = len - n;
	return true;
}

/* Splits a path into its kind and device selector ("{…}" = all). */
static int parse_path(const char *path, enum path_kind *kind, char *sel, size_t sellen)
{
	static const char drv[] = "/drv/nvswitch/";
	size_t len = strlen(path), stem;
	const char *start = NULL;

	if (strncmp(path, drv, sizeof(drv) - 1) == 0 && has_suffix(path, len, "/uuid", &stem) &&
	    stem > sizeof(drv) - 1) {
		*kind = PATH_UUID;
		start = path + sizeof(drv) - 1;
		len = stem - (sizeof(drv) - 1);
	} else if (path[0] == '/' && has_suffix(path, len, NSCQ_SUFFIX_ARCH, &stem)) {
		*kind = PATH_ARCH;
	} else if (path[0] == '/' && has_suffix(path, len, NSCQ_SUFFIX_PCIE_MODE, &stem)) {
		*kind = PATH_PCIE_MODE;
	} else if (path[0] == '/' && has_suffix(path, len, NSCQ_SUFFIX_CERTIFICATE, &stem)) {
		*kind = PATH_CERTIFICATE;
	} else if (path[0] == '/' && has_suffix(path, len, NSCQ_SUFFIX_ATTESTATION_REPORT, &stem)) {
		*kind = PATH_REPORT;
	} else {
		return -1;
	}
	if (*kind != PATH_UUID) {
		start = path + 1;
		len = stem - 1;
	}
	if (len == 0 || len >= sellen || memchr(start, '/', len) != NULL)
		return -1;
	memcpy(sel, start, len);
	sel[len] = '\0';
	return 0;
}

static bool selects_all(const char *sel)
{
	return strcmp(sel, "{device}") == 0 || strcmp(sel, "{nvswitch}") == 0;
}

/* ---------------- switch report ---------------- */

static void switch_opaque(const struct nscq_session_st *s, unsigned sw, struct sim_buf *b)
{
	const struct sim_config *c = &s->cfg;
	uint8_t gpus[SIM_SWITCH_GPU_SLOTS * SIM_PDI_LEN + 64];
	bool locked = sim_fault_for_switch(c, SIM_FAULT_LOCK_OFF, sw, true) == NULL;
	uint8_t disabled[2] = { 0, 0 }, position[2] = { (uint8_t)(sw + 1), 0 }, lock[2] = { locked, 0 };
	struct sim_buf cnt = { 0 };

	buf_tlv(b, 6, c->switch_bios_version, strlen(c->switch_bios_version));
	buf_tlv(b, 22, s->sw[sw].pdi, SIM_PDI_LEN);
	for (unsigned i = 0; i < 26; i++)
		buf_u32le(&cnt, 1);
	buf_tlv(b, 12, cnt.p, cnt.len);
	b->failed |= cnt.failed;
	buf_free(&cnt);
	memcpy(gpus, s->gpu_pdi, SIM_SWITCH_GPU_SLOTS * SIM_PDI_LEN);
	if (sim_fault_for_switch(c, SIM_FAULT_DUPLICATE_PDI, sw, true) != NULL)
		memcpy(gpus + SIM_PDI_LEN, gpus, SIM_PDI_LEN);
	/* Port -> GPU map: two NVLink ports per GPU, the rest unused (0xFF). */
	for (unsigned p = 0; p < 64; p++)
		gpus[SIM_SWITCH_GPU_SLOTS * SIM_PDI_LEN + p] = p < 16 ? (uint8_t)(p / 2) : 0xFF;
	buf_tlv(b, 26, gpus, sizeof(gpus));
	buf_tlv(b, 23, disabled, sizeof(disabled));
	buf_tlv(b, 24, position, sizeof(position));
	buf_tlv(b, 25, lock, sizeof(lock));
}

static int build_switch_report(const struct nscq_session_st *s, unsigned sw, struct sim_buf *out)
{
	const struct sim_config *c = &s->cfg;
	uint8_t values[SIM_SWITCH_BLOCKS][SIM_DIGEST_LEN], other[SIM_NONCE_LEN];
	const uint8_t *nonce = s->nonce;
	struct sim_buf opaque = { 0 };
	struct sim_spdm spdm;
	int rc;

	for (unsigned k = 0; k < SIM_SWITCH_BLOCKS; k++)
		sim_golden("switch", c->switch_bios_version, k, sw % sim_alternatives("switch", k), values[k]);
	for (size_t f = 0; f < c->nfaults; f++)
		if (c->faults[f].kind == SIM_FAULT_TAMPERED_SWITCH_MEASUREMENT &&
		    (c->faults[f].sw < 0 || c->faults[f].sw == (int)sw))
			values[c->faults[f].index][0] ^= 0xFF;
	if (sim_fault_for_switch(c, SIM_FAULT_IGNORE_NONCE, sw, false) != NULL) {
		if (sim_random(other, sizeof(other)) != 0)
			return -1;
		nonce = other;
	}
	switch_opaque(s, sw, &opaque);
	if (opaque.failed) {
		buf_free(&opaque);
		return -1;
	}
	spdm.request_nonce = nonce;
	spdm.values = (const uint8_t (*)[SIM_DIGEST_LEN])values;
	spdm.nblocks = SIM_SWITCH_BLOCKS;
	spdm.opaque = opaque.p;
	spdm.opaque_len = opaque.len;
	spdm.key = s->sw[sw].key;
	spdm.corrupt_signature = sim_fault_for_switch(c, SIM_FAULT_BAD_SIGNATURE, sw, false) != NULL;
	rc = sim_spdm_build(&spdm, out);
	buf_free(&opaque);
	return rc;
}

/* ---------------- observe ---------------- */

static nscq_rc_t observe_one(const struct nscq_session_st *s, enum path_kind kind, struct observation *o)
{
	const struct sim_config *c = &s->cfg;
	const struct sim_device *chain_dev = &s->sw[o->sw];
	struct sim_buf rep = { 0 };

	switch (kind) {
	case PATH_UUID:
	case PATH_ARCH:
		return NSCQ_RC_SUCCESS;
	case PATH_PCIE_MODE:
		o->tnvl = sim_fault_for_switch(c, SIM_FAULT_LOCK_OFF, o->sw, true) != NULL
		    ? NSCQ_DEVICE_TNVL_MODE_ENABLED : NSCQ_DEVICE_TNVL_MODE_LOCKED;
		return NSCQ_RC_SUCCESS;
	case PATH_CERTIFICATE:
		if (sim_fault_for_switch(c, SIM_FAULT_SWAPPED_CHAIN, o->sw, false) != NULL)
			chain_dev = &s->sw[(o->sw + 1) % s->nloaded];
		if (chain_dev->chain_len > sizeof(o->cert.cert_chain))
			return NSCQ_RC_ERROR_OVERFLOW;
		memcpy(o->cert.cert_chain, chain_dev->chain, chain_dev->chain_len);
		o->cert.cert_chain_size = (uint32_t)chain_dev->chain_len;
		return NSCQ_RC_SUCCESS;
	case PATH_REPORT:
		if (!s->have_nonce)
			return NSCQ_RC_ERROR_UNEXPECTED_VALUE;
		if (build_switch_report(s, o->sw, &rep) != 0 || rep.len > sizeof(o->report.report)) {
			buf_free(&rep);
			return NSCQ_RC_ERROR_UNSPECIFIED;
		}
		memcpy(o->report.report, rep.p, rep.len);
		o->report.report_size = (uint32_t)rep.len;
		buf_free(&rep);
		return NSCQ_RC_SUCCESS;
	}
	return NSCQ_RC_ERROR_NOT_IMPLEMENTED;
}

static void deliver(const struct nscq_session_st *s, enum path_kind kind, nscq_fn_t cb,
    const struct observation *o, void *data)
{
	const nscq_uuid_t *dev = &s->uuid[o->sw];

	switch (kind) {
	case PATH_UUID:
		((nscq_uuid_cb_t)cb)(dev, o->rc, dev, data);
		break;
	case PATH_ARCH:
		((nscq_arch_cb_t)cb)(dev, o->rc, NSCQ_ARCH_LS10, data);
		break;
	case PATH_PCIE_MODE:
		((nscq_tnvl_cb_t)cb)(dev, o->rc, o->tnvl, data);
		break;
	case PATH_CERTIFICATE:
		((nscq_cert_cb_t)cb)(dev, o->rc, o->cert, data);
		break;
	case PATH_REPORT:
		((nscq_report_cb_t)cb)(dev, o->rc, o->report, data);
		break;
	}
}

/* Switch indices the selector names, in enumeration order. */
static unsigned select_switches(const struct nscq_session_st *s, const char *sel, unsigned out[])
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->nvisible; i++) {
		nscq_label_t label;

		nscq_uuid_to_label(&s->uuid[i], &label, 0);
		if (selects_all(sel) || strcmp(sel, label.data) == 0)
			out[n++] = i;
	}
	return n;
}

nscq_rc_t nscq_session_path_observe(nscq_session_t s, const char *path, nscq_fn_t callback, void *data,
    uint32_t flags)
{
	unsigned idx[SIM_MAX_DEVICES], n;
	struct observation *obs;
	enum path_kind kind;
	char sel[128];
	int code;

	if (s == NULL || path == NULL || callback == NULL)
		return NSCQ_RC_ERROR_UNEXPECTED_VALUE;
	if (parse_path(path, &kind, sel, sizeof(sel)) != 0)
		return NSCQ_RC_ERROR_NOT_IMPLEMENTED;
	pthread_mutex_lock(&s->lock);
	code = sim_fault_error_code(&s->cfg, SIM_FAULT_NSCQ_ERROR, "nscq_session_path_observe", -1);
	n = select_switches(s, sel, idx);
	if (code != 0 || (n == 0 && !selects_all(sel))) {
		pthread_mutex_unlock(&s->lock);
		return code != 0 ? (nscq_rc_t)code : NSCQ_RC_ERROR_INVALID_UUID;
	}
	obs = calloc(n ? n : 1, sizeof(*obs));
	if (obs == NULL) {
		pthread_mutex_unlock(&s->lock);
		return NSCQ_RC_ERROR_UNSPECIFIED;
	}
	for (unsigned i = 0; i < n; i++) {
		/* An nscq_error fault aimed at one switch fails only its callback. */
		code = sim_fault_error_code(&s->cfg, SIM_FAULT_NSCQ_ERROR, "nscq_session_path_observe", (int)idx[i]);
		obs[i].sw = idx[i];
		obs[i].rc = code != 0 ? (nscq_rc_t)code : observe_one(s, kind, &obs[i]);
	}
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < n; i++)
		deliver(s, kind, callback, &obs[i], data);
	free(obs);
	return NSCQ_RC_SUCCESS;
}
