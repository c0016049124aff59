/*
 * collect: evidence from the live system through the NVIDIA driver (NVML
 * for GPUs, NSCQ for NVSwitches), both loaded at run time with dlopen, so
 * there is no build-time dependency on CUDA or the driver.
 *
 * Owns: loading the libraries, the system's confidential-computing state,
 * collecting reports and chains from every GPU with one nonce (all GPUs at
 * once), and setting the GPUs' ready state.
 *
 * Never: decides whether evidence is good; that is appraise/.
 */
#ifndef GPA_COLLECT_H
#define GPA_COLLECT_H

#include <stdbool.h>
#include <stdint.h>

#include "appraise/appraise.h"
#include "evidence/evidence.h"
#include "util/util.h"

struct nvml_api;

struct gpa_live_opts {
	const char *nvml_lib;		/* NULL: $GPUATTEST_NVML_LIB, else libnvidia-ml.so.1 */
	const char *gpus;		/* "0,3" or NULL for all */
	bool have_nonce;
	uint8_t nonce[SPDM_NONCE_LEN];	/* fresh from the OS unless given */
	bool progress;			/* progress lines on stderr */
};

struct gpa_live {
	struct nvml_api *api;
	struct gpa_system_info sys;
	uint8_t nonce[SPDM_NONCE_LEN];
	bool nonce_generated;
	struct evidence_set set;	/* one item per selected GPU, then per switch */
	bool bad_selection;		/* --gpu named GPUs that do not exist */
};

/* Loads NVML, initialises it and reads the system's CC state. -1 with a
 * message that says what is missing and what to do. */
int live_open(struct gpa_live *l, const struct gpa_live_opts *o, struct gpa_err *e);
/* Collects a fresh report and the certificate chain from every selected GPU,
 * concurrently, all over the same nonce. */
int live_collect(struct gpa_live *l, const struct gpa_live_opts *o, struct gpa_err *e);
/* Protected PCIe: appends every NVSwitch's report (over l->nonce), chain
 * and TNVL mode to l->set, through NSCQ (lib: NULL for $GPUATTEST_NSCQ_LIB or
 * libnvidia-nscq.so.2). */
int live_collect_switches(struct gpa_live *l, const char *lib, struct gpa_err *e);
/* One line naming the driver version and every GPU's UUID (after live_open). */
int live_fingerprint(struct gpa_live *l, char *out, size_t len, struct gpa_err *e);
/* Sets the GPUs' ready state (needs root). */
int live_set_ready(struct gpa_live *l, bool ready, struct gpa_err *e);
void live_close(struct gpa_live *l);

/* Human description of an NVML failure, with what to do about it. */
const char *nvml_explain(int rc);

#endif
