/*
 * Protected PCIe topology (docs/attestation-formats.md §9.4). In an HGX
 * system in Protected PCIe mode the GPUs and the NVSwitches are attested
 * together, and their signed reports must describe one system:
 *   - every GPU lists (byte-reversed) exactly the PDIs of the attested
 *     switches, ignoring unused all-zero links;
 *   - every switch lists exactly the PDIs of the attested GPUs, as their
 *     BROM certificates name them;
 *   - a switch's own DEVICE_PDI is the PDI its BROM certificate names;
 *   - no PDI appears on two devices; every switch is locked.
 * NVIDIA's orchestration checks a second collection and hard-codes 8 GPUs
 * and 4 switches; we check the very evidence we verified, with no fixed
 * counts (--expect-gpus / --expect-switches state expectations).
 */
#include "appraise/appraise.h"

#include <stdio.h>
#include <string.h>

static const uint8_t zero_pdi[GPA_PDI_LEN];

static void pdi_hex(const uint8_t *p, char out[2 * GPA_PDI_LEN + 1])
{
	hex_encode_upper(p, GPA_PDI_LEN, out);
}

static bool pdi_in(const uint8_t (*set)[GPA_PDI_LEN], int n, const uint8_t *p)
{
	for (int i = 0; i < n; i++)
		if (memcmp(set[i], p, GPA_PDI_LEN) == 0)
			return true;
	return false;
}

/* Devices whose identity we trust enough to reason about: parsed, signed,
 * chain to an anchor. */
static bool usable(const struct gpa_device_result *d)
{
	return d->parsed && d->sig_verified && d->has_pdi && d->dev_chain.status != GPA_CERT_INVALID;
}

struct pdi_sets {
	int ngpus, nswitches;
	uint8_t gpus[GPA_EVIDENCE_MAX_ITEMS][GPA_PDI_LEN];
	uint8_t switches[GPA_EVIDENCE_MAX_ITEMS][GPA_PDI_LEN];
	const struct gpa_device_result *gpu_dev[GPA_EVIDENCE_MAX_ITEMS];
	const struct gpa_device_result *sw_dev[GPA_EVIDENCE_MAX_ITEMS];
};

static bool collect_sets(struct gpa_appraisal *a, struct pdi_sets *s)
{
	bool ok = true;
	char hex[2 * GPA_PDI_LEN + 1];

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < a->n; i++) {
		const struct gpa_device_result *d = &a->dev[i];
		if (!usable(d))
			continue;
		bool gpu = d->kind == GPA_DEV_GPU;
		uint8_t (*set)[GPA_PDI_LEN] = gpu ? s->gpus : s->switches;
		int *n = gpu ? &s->ngpus : &s->nswitches;
		const struct gpa_device_result **who = gpu ? s->gpu_dev : s->sw_dev;


		/* No PDI on two devices, whatever their kinds. */
		for (int kind = 0; kind < 2; kind++) {
			uint8_t (*other)[GPA_PDI_LEN] = kind == 0 ? s->gpus : s->switches;
			int on = kind == 0 ? s->ngpus : s->nswitches;
			const struct gpa_device_result **ow = kind == 0 ? s->gpu_dev : s->sw_dev;
			for (int k = 0; k < on; k++)
				if (memcmp(other[k], d->pdi, GPA_PDI_LEN) == 0) {
					pdi_hex(d->pdi, hex);
					appraisal_sys_add(a, "topology", GPA_CHECK_FAIL,
					    "%s and %s have the same PDI %s", ow[k]->label, d->label, hex);
					ok = false;
				}
		}
		memcpy(set[*n], d->pdi, GPA_PDI_LEN);
		who[(*n)++] = d;
	}
	return ok;
}

/* What a device lists must be exactly the attested peers: every non-zero
 * listed PDI attested (the first stranger is named), every attested peer
 * listed (each missing one is named). */
static bool check_peers(struct gpa_appraisal *a, const struct gpa_device_result *d,
    const uint8_t (*listed)[GPA_PDI_LEN], int nlisted, const uint8_t (*peers)[GPA_PDI_LEN],
    const struct gpa_device_result *const *peer_dev, int npeers, const char *peer_kind,
    const char *peer_plural)
{
	bool ok = true;
	char hex[2 * GPA_PDI_LEN + 1];

	for (int k = 0; k < nlisted; k++) {
		if (memcmp(listed[k], zero_pdi, GPA_PDI_LEN) == 0 || pdi_in(peers, npeers, listed[k]))
			continue;
		pdi_hex(listed[k], hex);
		appraisal_sys_add(a, "topology", GPA_CHECK_FAIL,
		    "%s is connected to %s PDI %s, which is not among the attested %s", d->label, peer_kind,
		    hex, peer_plural);
		ok = false;
		break;
	}
	for (int k = 0; k < npeers; k++) {
		if (pdi_in(listed, nlisted, peers[k]))
			continue;
		pdi_hex(peers[k], hex);
		appraisal_sys_add(a, "topology", GPA_CHECK_FAIL,
		    "%s is not connected to %s (PDI %s)", d->label, peer_dev[k]->label, hex);
		ok = false;
	}
	return ok;
}

static bool check_gpu(struct gpa_appraisal *a, const struct gpa_device_result *g, const struct pdi_sets *s)
{
	return check_peers(a, g, (const uint8_t (*)[GPA_PDI_LEN])g->info.pdis, g->info.npdis,
	    (const uint8_t (*)[GPA_PDI_LEN])s->switches, s->sw_dev, s->nswitches, "NVSwitch", "switches");
}

static bool check_switch(struct gpa_appraisal *a, const struct gpa_device_result *w, const struct pdi_sets *s)
{
	bool ok = true;
	char hex[2 * GPA_PDI_LEN + 1];

	pdi_hex(w->pdi, hex);
	if (!w->info.has_device_pdi || memcmp(w->info.device_pdi, w->pdi, GPA_PDI_LEN) != 0) {
		appraisal_sys_add(a, "topology", GPA_CHECK_FAIL,
		    "%s: its report's DEVICE_PDI is not the PDI %s of its certificate", w->label, hex);
		ok = false;
	}
	/* LOCK_SWITCH_STATUS: NVIDIA's sample reads 1 (little-endian); its
	 * encoding is not documented, so any non-zero value counts as locked and
	 * 0 or a missing field does not. */
	if (w->info.lock_status <= 0) {
		appraisal_sys_add(a, "topology", GPA_CHECK_FAIL, "%s is not locked (PDI %s, lock status %d in its report)",
		    w->label, hex, w->info.lock_status);
		ok = false;
	}
	if (w->tnvl >= 0 && (w->tnvl & 3) != 3) {
		appraisal_sys_add(a, "topology", GPA_CHECK_FAIL,
		    "%s: the driver reports TNVL mode %d, not enabled and locked (PDI %s)", w->label, w->tnvl, hex);
		ok = false;
	}
	return check_peers(a, w, (const uint8_t (*)[GPA_PDI_LEN])w->info.gpu_pdis, w->info.ngpu_pdis,
	    (const uint8_t (*)[GPA_PDI_LEN])s->gpus, s->gpu_dev, s->ngpus, "GPU", "GPUs") && ok;
}

static bool any_ppcie_gpu(const struct gpa_appraisal *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->dev[i].kind == GPA_DEV_GPU && a->dev[i].parsed &&
		    (a->dev[i].info.ppcie_status == 0xAA || a->dev[i].info.feature_flag == 2))
			return true;
	return false;
}

void topology_evaluate(struct gpa_appraisal *a)
{
	struct pdi_sets s;
	bool have_switches = false, ok;

	for (size_t i = 0; i < a->n; i++)
		have_switches |= a->dev[i].kind == GPA_DEV_SWITCH;
	if (!have_switches) {
		bool ppcie = a->sys.present ? a->sys.multi_gpu_mode == 1 : any_ppcie_gpu(a);
		if (ppcie)
			appraisal_sys_add(a, "topology", GPA_CHECK_NOT_DONE,
			    "the GPUs are in Protected PCIe mode: their NVSwitches must be attested with them%s",
			    a->sys.present ? "" : " (--switch-evidence FILE)");
		return;
	}
	ok = collect_sets(a, &s);
	if (s.ngpus == 0 && a->n > 0 && !a->sys.present) {
		bool any_gpu = false;
		for (size_t i = 0; i < a->n; i++)
			any_gpu |= a->dev[i].kind == GPA_DEV_GPU;
		if (!any_gpu) {
			appraisal_sys_add(a, "topology", GPA_CHECK_SKIPPED,
			    "NVSwitches verified alone: the NVLink topology needs the GPUs' evidence too");
			return;
		}
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct gpa_device_result *d = &a->dev[i];
		if (!usable(d))
			continue;
		ok &= d->kind == GPA_DEV_GPU ? check_gpu(a, d, &s) : check_switch(a, d, &s);
	}
	if (s.ngpus == 0)
		appraisal_sys_add(a, "topology", GPA_CHECK_FAIL, "no GPU could be placed in the NVLink topology");
	else if (ok)
		appraisal_sys_add(a, "topology", GPA_CHECK_PASS,
		    "Protected PCIe topology: %d GPU(s) and %d NVSwitch(es) name each other exactly", s.ngpus,
		    s.nswitches);
}
