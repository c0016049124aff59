/*
 * Relying-party policies (verify --policy FILE): a Rego policy in the subset
 * of rego.h, decided by data.policy.nv_match on the JSON array of device
 * claim sets as NVIDIA's SDK gives its engine (§11.1), or a JSON policy of
 * NVIDIA's Python SDK (§11.3: authorization-rules, overall-claims,
 * detached-claims, equality matched recursively). Chosen by content: a
 * document whose first character is '{' is JSON, anything else Rego.
 *
 * The policy decides the verdict, as in NVIDIA's SDK, within one limit
 * (docs/decisions.md): it may accept a failed built-in check only where the
 * failure is one NVIDIA's claims describe and the evidence is still
 * authentic (an expired or not-yet-valid chain, a RIM certificate revoked or
 * unknown to OCSP, an OCSP answer without our nonce, a measurement or
 * opaque-data mismatch). A bad signature, an untrusted chain, a revoked
 * device, a wrong nonce or FWID, unreadable input and every check that could
 * not run keep their outcome whatever the policy says.
 */
#ifndef GPA_RPPOLICY_H
#define GPA_RPPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "appraise/appraise.h"
#include "util/util.h"

enum rp_language { RP_REGO, RP_JSON };

struct rp_policy;

/* Loads a policy from memory; name (a file name) prefixes every message.
 * NULL with e ("NAME:LINE:COL: ...") when it is not a policy we evaluate. */
struct rp_policy *rp_policy_load(const char *text, size_t len, const char *name, struct gpa_err *e);
struct rp_policy *rp_policy_load_file(const char *path, struct gpa_err *e);
void rp_policy_free(struct rp_policy *p);
const char *rp_policy_name(const struct rp_policy *p);
const char *rp_policy_sha256(const struct rp_policy *p);	/* of the bytes loaded, hex */
enum rp_language rp_policy_language(const struct rp_policy *p);
/* The bytes loaded (NUL-terminated), as a receipt records them. */
const char *rp_policy_text(const struct rp_policy *p, size_t *len);

/* The decision on claims: devices is the array of device claim sets,
 * overall the overall claims (read by JSON policies only), at the
 * verification time (Rego's time.now_ns). 0 with *match, -1 with e. */
int rp_policy_decide(const struct rp_policy *p, const json_t *devices, const json_t *overall, time_t at,
    bool *match, struct gpa_err *e);

/* policy_evaluate's two steps: after the devices' built-in checks, decides
 * and marks the checks the policy accepted (their device verdicts are then
 * recomputed by the caller); after the system checks, adds the "policy"
 * system check that names the file, its SHA-256 and the decision. */
void rp_policy_apply(const struct rp_policy *p, struct gpa_appraisal *a);
void rp_policy_report(struct gpa_appraisal *a);
/* {file, sha256, language, decision, error?, accepted: [{device, check, detail}]}
 * or NULL when no policy was applied. */
json_t *rp_policy_json(const struct gpa_appraisal *a);

/* JSON policies (jsonpolicy.c). */
struct rp_json_policy;
struct rp_json_policy *rp_json_load(const char *text, size_t len, const char *name, struct gpa_err *e);
void rp_json_free(struct rp_json_policy *p);
bool rp_json_match(const struct rp_json_policy *p, const json_t *devices, const json_t *overall);

#endif
