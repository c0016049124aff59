/* The structures behind the public handles, shared by the API and the CLI
 * (which also drives collection and inspection, not part of the API yet). */
#ifndef GPA_API_INTERNAL_H
#define GPA_API_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "gpuattest.h"
#include "api/netglue.h"
#include "appraise/appraise.h"
#include "evidence/evidence.h"
#include "x509/x509.h"

#define GPA_API_MAX_ANCHOR_FILES 16
/* Each RIM directory is one of the appraisal's RIM sources, which also
 * holds the network source (bundle, cache, service) after them: the
 * directories get the rest of gpa_appraise_cfg.sources (asserted in
 * gpuattest.c), and a directory beyond that is refused, never dropped. */
#define GPA_API_MAX_RIM_DIRS 3

struct gpuattest_config {
	struct gpa_err err;
	bool pinned;
	int nanchor_files;
	char *anchor_files[GPA_API_MAX_ANCHOR_FILES];
	unsigned anchor_uses[GPA_API_MAX_ANCHOR_FILES];	/* GPA_ANCHOR_USE_BIT mask of each file */
	struct gpa_anchors *anchors;
	time_t at;
	bool at_given;				/* gpuattest_config_set_time was called */
	bool have_nonce;
	bool accept_evidence_nonce;		/* gpuattest_config_insecure_accept_evidence_nonce */
	uint8_t nonce[SPDM_NONCE_LEN];
	int nrim_dirs;
	char *rim_dirs[GPA_API_MAX_RIM_DIRS];
	const char *driver_rim, *vbios_rim;	/* --driver-rim / --vbios-rim (not owned) */
	bool insecure_no_ocsp;
	bool allow_dev_tools;
	int expect_gpus, expect_switches;	/* -1: none */
	int claims_version;			/* 0: default (4) */
	struct rp_policy *rp;			/* --policy, loaded (policy/rppolicy.h) */
	bool nonce_generated;

	/* Network, cache, offline collateral. */
	char *ocsp_url, *rim_url, *cache_dir, *collateral_path, *service_key;
	bool no_cache, cache_failed, offline, allow_hold_rim, ocsp_cache_ok;
	long max_ocsp_age, connect_timeout_ms, timeout_ms;
	int retries;				/* -1: default */
	long total_timeout_ms;			/* the whole verification's network time; 0: default */
	const struct gpa_http_wait *http_wait;	/* told of each network wait (a terminal's line) */
	struct gpa_cache *cache;
	struct gpa_bundle *bundle;		/* --collateral, loaded */
	struct gpa_bundle *record;		/* fetch-collateral: everything used lands here */
	struct gpa_netglue glue;
	struct gpa_ocsp_stage stage;

	/* First use of OpenSSL (the anchors) and of the XML libraries, each on
	 * a thread (api_warmup_start). */
	pthread_t warmup, xml_warmup;
	bool warmup_started, xml_warmup_started;

	/* The live system through the API (embed.c); err_incomplete: the last
	 * error was "could not complete", not bad input. */
	char *nvml_lib, *nscq_lib, *gpu_list;
	bool err_incomplete;
};

struct gpuattest_result {
	struct evidence_set set;
	struct gpa_appraisal a;
};

/* Starts loading the anchors and initialising OpenSSL and xmlsec on a
 * thread, to overlap reading or collecting evidence; api_run waits for it
 * once the evidence is parsed. Any failure is reported by api_run. */
void api_warmup_start(gpuattest_config *c);
/* Appraises set (taking ownership of its buffers) into a new result. sys
 * describes the live system the evidence was just collected from, or is
 * NULL for recorded evidence. */
int api_run(gpuattest_config *c, struct evidence_set *set, const struct gpa_system_info *sys,
    gpuattest_result **res);
/* Waits for the warm-up threads (a call that fails before api_run). */
void api_warmup_join(gpuattest_config *c);
/* Appraises GPU and NVSwitch sets of one system together (embed.c). */
int api_run_system(gpuattest_config *c, struct evidence_set *gpus, struct evidence_set *sw,
    gpuattest_result **res);
/* Frees what embed.c keeps in the configuration. */
void api_embed_free(gpuattest_config *c);
/* Everything verification would use (anchors, XML libraries, RIM sources,
 * OCSP stage), for callers that judge RIMs without evidence (preflight). */
int api_appraise_cfg_full(gpuattest_config *c, struct gpa_appraise_cfg *ac);

#endif
