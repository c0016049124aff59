/*
 * appraise: the verification of one set of evidence, device by device, and
 * the claims and verdict that come out of it.
 *
 * Owns: the order of the checks, the comparison of runtime measurements with
 * the golden values of the RIMs, NVIDIA's v3 claims, the built-in policy and
 * the verdict (pass / fail / could not complete).
 *
 * Never: reports a check that did not run as passed. Every check has three
 * outcomes: passed, failed, not done; "not done" makes the verdict
 * "could not complete" unless something definitely failed.
 */
#ifndef GPA_APPRAISE_H
#define GPA_APPRAISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "evidence/evidence.h"
#include "rim/rim.h"
#include "spdm/spdm.h"
#include "util/util.h"
#include "x509/x509.h"

/* Verdicts double as the CLI's exit codes. Precedence when several apply:
 * unreadable input, then a definite failure, then "could not complete". */
enum gpa_verdict {
	GPA_PASS = 0,		/* every check ran and passed */
	GPA_FAIL = 1,		/* at least one check definitely failed */
	GPA_BAD_INPUT = 2,	/* evidence or a RIM could not be read (malformed) */
	GPA_INCOMPLETE = 3,	/* nothing failed, but something could not be checked */
};

enum gpa_outcome {
	GPA_CHECK_PASS,
	GPA_CHECK_FAIL,
	GPA_CHECK_BAD_INPUT,
	GPA_CHECK_NOT_DONE,	/* could not run: counts against the verdict */
	GPA_CHECK_SKIPPED,	/* not run because the user explicitly chose so */
};
const char *outcome_name(enum gpa_outcome o);	/* "pass", "fail", "bad-input", "not-done", "skipped" */

struct gpa_check {
	const char *id;			/* stable identifier, e.g. "report-signature" */
	enum gpa_outcome outcome;
	char detail[1024];
	bool accepted_by_policy;	/* failed, accepted by --policy (outcome then skipped) */
};
#define GPA_MAX_CHECKS 32
#define GPA_MAX_SYS_CHECKS 48

/* Where RIMs come from; tried in order (directory, then cache, then the
 * RIM service). A source returns the raw document (XML or service JSON);
 * errs[i] says why not, or, on success, where exactly it came from (a file
 * path, a URL), for messages. loaded, when the caller passes one, may get
 * the RIM already loaded and verified (rim_load with the configuration's
 * anchors at its time; the net layer's collateral source verifies cached and
 * fetched RIMs anyway), which the appraisal then uses instead of loading the
 * same bytes again; sources that do not load leave it NULL. */
enum gpa_fetch_status {
	GPA_FETCH_OK,
	GPA_FETCH_NOT_FOUND,	/* the source has no such RIM */
	GPA_FETCH_ERROR,	/* the source failed (network, I/O) */
};

/* A source's message per id: where it came from, or why not (every file
 * name looked for, every place asked). */
#define GPA_FETCH_ERR_LEN 600

struct gpa_rim_provider {
	const char *name;	/* "directory /x", "RIM service https://..." */
	/* Fetches n ids at once (sources that can, do it concurrently). */
	void (*fetch)(void *ctx, const char *const *ids, size_t n, uint8_t **bufs, size_t *lens,
	    struct rim **loaded, enum gpa_fetch_status *st, char (*errs)[GPA_FETCH_ERR_LEN]);
	void *ctx;
};

/* Revocation checking is a pluggable stage; without one every chain is
 * reported "not-checked" and the verdict can pass only when the user
 * explicitly chose to skip revocation. */
struct gpa_chain_claims;
struct rp_policy;
struct gpa_ocsp_stage {
	/* Checks all chains at once; fills each claims' ocsp_* fields. */
	void (*check)(void *ctx, STACK_OF(X509) *const *chains, const enum gpa_anchor_use *uses,
	    struct gpa_chain_claims *const *claims, size_t n, time_t at);
	void *ctx;
};

/* What the driver says about the live system (NVML, §9.1); absent when
 * verifying recorded evidence. */
struct gpa_system_info {
	bool present;
	unsigned environment, cc_feature, dev_tools, multi_gpu_mode;
	bool have_caps;
	unsigned cpu_caps, gpus_caps;
	bool have_ready_state;
	unsigned ready_state;		/* before verification */
	char driver_version[96];	/* nvmlSystemGetDriverVersion */
	int gpus_total;			/* nvmlDeviceGetCount */
	int expect_gpus;		/* -1: no expectation */
	int expect_switches;		/* -1: no expectation */
	bool allow_dev_tools;		/* --insecure-allow-dev-tools */
};

struct gpa_appraise_cfg {
	struct gpa_anchors *anchors;
	time_t at;
	bool have_nonce;			/* expected nonce supplied by the caller */
	bool nonce_generated;			/* ... who drew it fresh for this run */
	bool accept_evidence_nonce;		/* no nonce given: the evidence's own is accepted (insecure) */
	uint8_t nonce[SPDM_NONCE_LEN];
	struct gpa_rim_provider sources[4];
	int nsources;
	struct gpa_ocsp_stage *ocsp;		/* NULL: revocation not checked */
	bool insecure_no_ocsp;			/* the user chose to skip revocation */
	bool ocsp_cache_ok;
	bool ocsp_answers_may_be_old;		/* offline collateral: no nonce, age reported */
	bool at_given;				/* the verification time was set by the caller (--at) */
	long max_ocsp_age;			/* --max-ocsp-age, for the weakenings */
	int claims_version;			/* GPU claims 3 or 4; 0: GPA_CLAIMS_DEFAULT */
	const struct gpa_system_info *sys;	/* live system, or NULL */
	const struct rp_policy *rp;		/* relying-party policy (policy/rppolicy.h), or NULL */
	/* Optional. Called once, after every device's evidence is parsed and
	 * before anything that needs the anchors, the sources or the OCSP
	 * stage: it returns the configuration to use from then on (with at,
	 * the nonce fields and sys equal to these), or NULL with e set to stop.
	 * Lets a caller finish slow set-up while the evidence is parsed. */
	const struct gpa_appraise_cfg *(*complete)(void *ctx, struct gpa_err *e);
	void *complete_ctx;
};

/* The v3 cert-chain claims object (§10.1) plus what we add for the output. */
struct gpa_chain_claims {
	bool present;			/* the chain was examined at all */
	enum gpa_cert_status status;
	char expiration[21];		/* x-nvidia-cert-expiration-date */
	char detail[256];
	char ocsp_status[16];		/* good / revoked / unknown / not-checked / error */
	char revocation_reason[32];	/* "" when none */
	bool ocsp_nonce_matches;
	bool ocsp_response_valid;
	bool hold_allowed;		/* revoked for certificateHold and allowed by the user */
	char ocsp_detail[256];
	/* An answer past its nextUpdate let through by --max-ocsp-age: which
	 * certificate, how late ("" when none); a weakening. */
	char ocsp_stale[200];
	/* The trust anchor the validated path ended at ("" when it did not
	 * validate); nvidia: it is NVIDIA's pinned root for this use. */
	char anchor_cn[128];
	char anchor_sha256[65];
	bool anchor_nvidia;
};

struct gpa_mismatch {
	int index;			/* RIM index */
	const char *source;		/* "Driver" or "Firmware" */
	size_t golden_size;
	int nalts;
	char golden[GPA_RIM_MAX_ALTS][2 * GPA_RIM_HASH_MAX + 1];
	size_t runtime_size;
	char runtime[2 * 255 + 1];	/* "NA" when the report has no such block */
};

/* An opaque-data reference value the report does not meet (§16.2). */
struct gpa_opaque_mismatch {
	uint16_t id;			/* opaque type id (RIM index - 4096) */
	char name[64];			/* the RIM record's name */
	const char *source;		/* "Driver" or "Firmware" */
	uint64_t golden;		/* ns3:minSvn */
	bool has_runtime;		/* the report had a comparable (0x87, 2-byte) field */
	uint64_t runtime;
};

/* A runtime value the RIM asked to show (includeInResult="True"). */
struct gpa_attester_claim {
	char name[64];
	uint64_t value;
};

struct gpa_rim_result {
	char id[128];
	const char *kind;		/* "driver", "VBIOS", "switch BIOS" */
	bool fetched;
	enum gpa_fetch_status fetch_status;
	char fetch_error[GPA_FETCH_ERR_LEN + 200];
	char source[128];
	bool load_ok;			/* parsed and shape-checked */
	char load_error[512];
	bool signature_verified;
	char signature_detail[256];
	bool version_match;
	char version[64];		/* colloquialVersion */
	char oemid[32];
	struct gpa_chain_claims chain;
	int nactive;
	int nmatched;
	struct rim *rim;
};

struct gpa_device_result {
	enum gpa_device_kind kind;
	int index;
	char label[32];			/* "GPU 0", "NVSwitch 2" */
	char uuid[96];
	bool has_pdi;			/* from the BROM certificate's subject serialNumber */
	uint8_t pdi[GPA_PDI_LEN];
	int tnvl;			/* switch, live: NSCQ pcie_mode; -1 unknown */
	bool live;			/* collected from NVML just now */
	bool not_cc;			/* the system is not in CC mode: nothing to attest */
	char name[96];			/* NVML device name */
	char nvml_vbios[32];
	unsigned nvml_arch;

	/* Evidence-level checks. Each "done" flag says whether the check ran. */
	bool parsed;
	char parse_error[512];
	bool unsupported;		/* opaque-data version newer than we read: not done */
	struct spdm_report report;
	struct report_info info;
	enum gpa_arch arch;
	bool arch_check;		/* evidence arch agrees with the chain's hwmodel */
	bool no_rim_scheme;		/* no SWID RIM ids for this architecture (Rubin): not done */
	char arch_detail[128];
	bool chain_parsed;
	STACK_OF(X509) *chain;
	STACK_OF(X509) *dev_path;	/* the validated path, leaf..anchor (owned): what OCSP checks */
	bool sig_done, sig_verified;
	bool nonce_done, nonce_match;
	char nonce_detail[300];		/* a mismatch: both values, hex */
	bool fwid_done, fwid_match;
	char fwid_detail[160];
	char hwmodel[128];
	char ueid[80];
	struct gpa_chain_claims dev_chain;

	/* RIM checks (GPU: driver + VBIOS; switch: BIOS in vbios). */
	struct gpa_rim_result driver, vbios;
	bool conflict_done, index_no_conflict;
	int conflict_index;
	bool nvdec0_skip;		/* index 35 skipped because NVDEC0 is disabled */
	bool measurements_done;
	const char *measres;		/* "success", "fail", "not-run" */
	int nmismatch;
	struct gpa_mismatch *mismatch;
	/* Opaque-data reference values (RIM records with index >= 4096). */
	bool opaque_done;		/* compared (some usable RIM had records) */
	int nopaque_refs;		/* records compared */
	bool opaque_conflict;		/* an id or name in both RIMs: fatal (§16.2) */
	char opaque_conflict_detail[160];
	int nopaque_mismatch;
	struct gpa_opaque_mismatch *opaque_mismatch;
	int nattester;
	struct gpa_attester_claim *attester;

	/* Filled by the policy, in the order they are reported. */
	enum gpa_verdict verdict;
	int nchecks;
	struct gpa_check checks[GPA_MAX_CHECKS];
};

/* A weakening in force: an option or answer that made this verification
 * accept less than the full promise (weaken.c). */
struct gpa_weakening {
	char id[32];			/* "no-ocsp", "max-ocsp-age", "dev-tools", "at", ... */
	char detail[320];		/* one sentence: what was accepted, and why it matters */
};
#define GPA_MAX_WEAK 24

#define GPA_CLAIMS_DEFAULT 4

/* Where one RIM or OCSP answer of the verification came from (the network
 * layer's collateral sources fill these, issue 10 point 4): shown with -v,
 * in JSON as "collateral", and, for a stored copy that no longer verified
 * and was dropped, as a NOTE line in the text. */
struct gpa_collateral_use {
	char kind[8];		/* "RIM", "OCSP" */
	char name[200];		/* the RIM id; OCSP: the certificate (CN, CertID key) */
	char source[16];	/* "directory", "bundle", "cache", "service", "responder", "none" */
	char where[512];	/* "file P", "bundle P", "cache P", "RIM service URL", "OCSP responder URL" */
	char discarded[512];	/* "" or the stored copy that did not verify now, why, and that it was removed */
};

/* What a relying-party policy decided (policy/rppolicy.c). */
struct gpa_rp_outcome {
	bool applied;
	char name[256];			/* the file */
	char sha256[65];
	const char *language;		/* "rego" or "json" */
	int decision;			/* 1 match, 0 no match, -1 error */
	char error[700];
	int naccepted;			/* failed checks it accepted */
};

struct gpa_appraisal {
	size_t n;
	int claims_version;		/* GPU claims: 3 or 4 (NVIDIA 2.0) */
	struct gpa_device_result *dev;
	char nonce_hex[2 * SPDM_NONCE_LEN + 1];
	bool nonce_from_caller;
	bool nonce_generated;
	int ready_state_after;		/* -1 untouched, else what --set-ready set */
	char ready_state_error[256];
	time_t at;
	enum gpa_verdict verdict;
	bool no_ocsp;
	struct gpa_system_info sys;
	int nsys_checks;
	struct gpa_check sys_checks[GPA_MAX_SYS_CHECKS];
	int nsys_dropped;		/* checks beyond the table, counted and reported */
	bool nsys_dropped_fail;
	size_t nrims;
	struct rim **rims;		/* owned; devices point into these */
	int nweak;			/* weakenings in force (appraisal_weaken) */
	int nweak_dropped;
	struct gpa_weakening weak[GPA_MAX_WEAK];
	struct gpa_rp_outcome rp;
	size_t ncollateral;
	struct gpa_collateral_use *collateral;	/* owned (malloc'd), may be NULL */
};

/* Runs every check for every device of the set. Never fails for a
 * verification finding; returns -1 only on internal errors (memory) or
 * when cfg->complete stops it (its message in e). */
int appraise_evidence(const struct gpa_appraise_cfg *cfg, const struct evidence_set *set,
    struct gpa_appraisal *out, struct gpa_err *e);
void appraisal_clear(struct gpa_appraisal *a);

/* Compares the opaque-data reference values of the device's usable RIMs
 * (either may be NULL) with its report (opaque_cmp.c, §16.2): fills
 * opaque_done, opaque_conflict, the mismatch records and the attester
 * claims. -1 only when out of memory. */
int appraise_opaque_refs(struct gpa_device_result *d, const struct rim *drv, const struct rim *vb);

/* Built-in policy: fills verdict, failures and incomplete lists. */
void policy_evaluate(const struct gpa_appraise_cfg *cfg, struct gpa_appraisal *a);
/* Devices of a kind whose verdict is PASS (policy.c). */
int appraisal_count_genuine(const struct gpa_appraisal *a, enum gpa_device_kind kind);
/* Adds a system-wide check (policy.c). */
void appraisal_sys_add(struct gpa_appraisal *a, const char *id, enum gpa_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records a weakening in force (weaken.c): id is a short stable name
 * ("no-ocsp", "max-ocsp-age", "dev-tools", "non-nvidia-anchor", "at",
 * "evidence-nonce", "ocsp-cache-ok", "hold-cert", "policy-override"), the
 * rest one sentence. The same id and sentence twice is kept once. Listed in
 * a WARNING block before the verdict and as "weakened" in JSON. Safe from
 * any thread. */
void appraisal_weaken(struct gpa_appraisal *a, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The weakenings the configuration itself puts in force (policy_evaluate
 * calls it). */
void appraisal_weaken_from_cfg(const struct gpa_appraise_cfg *cfg, struct gpa_appraisal *a);
json_t *appraisal_weakened_json(const struct gpa_appraisal *a);
/* a->collateral as a JSON array, and the NOTE lines for discarded stored
 * copies (malloc'd, "" when none; collateral_out.c). */
json_t *appraisal_collateral_json(const struct gpa_appraisal *a);
char *appraisal_collateral_notes(const struct gpa_appraisal *a);
/* The lines under VERIFICATION SUCCESSFUL ("" for any other verdict),
 * worded after what was shown (summary.c). */
void appraisal_summary(const struct gpa_appraisal *a, char *out, size_t len);
/* reason.c: why the verdict is not a pass, in one line ("VERIFICATION FAILED:
 * GPU 1: ..."), naming the first deciding check and how many more; for
 * --quiet, whose caller still has to say why. */
void appraisal_reason(const struct gpa_appraisal *a, char *out, size_t len);
/* Protected PCIe topology (topology.c, docs §9.4): GPUs and NVSwitches of one
 * system must name each other, by PDI, exactly. */
void topology_evaluate(struct gpa_appraisal *a);

/* NVIDIA claims of one device (GPU v4 §16.3 or v3 §10.2 as
 * a->claims_version says, switch v3 §10.4), and the whole result document. */
json_t *claims_device_json(const struct gpa_appraisal *a, const struct gpa_device_result *d);
json_t *appraisal_json(const struct gpa_appraisal *a);
/* Human-readable report. malloc'd. */
char *appraisal_text(const struct gpa_appraisal *a, bool color);

/* A RIM source that reads DIR/<id>.xml (or DIR/<id>.json from the RIM
 * service). on_found, when set, sees every document read (to build a
 * collateral bundle). d must outlive the source. */
struct gpa_rim_dir {
	const char *dir;
	void (*on_found)(void *arg, const char *id, const uint8_t *buf, size_t len);
	void *arg;
	char name[300];
};
void rim_source_dir(struct gpa_rim_provider *s, struct gpa_rim_dir *d);

#endif
