/*
 * Upgrade pre-flight (gpuattest preflight): the RIMs an upgrade would need,
 * looked up through the configured sources and judged as verification
 * judges them. Internal to the tool for now (not in gpuattest.h).
 */
#ifndef GPA_API_PREFLIGHT_H
#define GPA_API_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include "gpuattest.h"
#include "spdm/spdm.h"
#include "x509/x509.h"

#define GPA_PF_MAX_ITEMS 32

enum gpa_pf_status {
	GPA_PF_READY,		/* published, signed, chain valid, version right, not revoked */
	GPA_PF_NOT_PUBLISHED,	/* no source has it: attestation will fail */
	GPA_PF_INVALID,		/* published but unusable: signature, chain, expiry, version, revoked */
	GPA_PF_UNAVAILABLE,	/* could not be looked up or its revocation not checked */
	GPA_PF_NO_SCHEME,	/* NVIDIA defines no RIM id for this device (e.g. Rubin) */
};
const char *preflight_status_name(enum gpa_pf_status s);

struct gpa_pf_item {
	/* Filled by the caller. */
	const char *kind;		/* "driver", "VBIOS", "switch BIOS" */
	char target[64];		/* "GH100", "G520_0200_885", "LS10" */
	char version[64];		/* the version the upgrade brings */
	char rim_id[128];		/* "" with status GPA_PF_NO_SCHEME */
	/* Filled by api_preflight. */
	enum gpa_pf_status status;
	char detail[512];
	char source[300];
	bool fetch_failed;
	char fetch_error[300];
	bool signature_verified;
	enum gpa_cert_status chain_status;
	char valid_until[21];
	char rim_version[64];
	char ocsp_status[16];
};

/* Looks up and judges every item with a rim_id. 0, or -1 with the reason in
 * gpuattest_config_error (configuration: anchors, XML libraries, network set-up). */
int api_preflight(gpuattest_config *c, struct gpa_pf_item *items, size_t n);

#endif
