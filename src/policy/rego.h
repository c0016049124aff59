/*
 * policy: relying-party policies. A strict subset of Rego (the language
 * NVIDIA's SDK, Trustee and OPA evaluate), implemented here because no Rego
 * engine for C is packaged; and the JSON policies of NVIDIA's Python SDK.
 *
 * Owns: the Rego lexer, parser and evaluator (rego_*.c), the JSON-policy
 * matcher (jsonpolicy.c), and how a policy's decision becomes a verdict
 * (rppolicy.c).
 *
 * Never: evaluates a construct approximately. Whatever the subset does not
 * implement is refused at load with the file, line, column and the construct
 * named. Evaluation is bounded (steps, depth, memory, input size) and
 * deterministic: the only outside value, time.now_ns(), is the verification
 * time the caller passes (gpuattest's --at).
 */
#ifndef GPA_REGO_H
#define GPA_REGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/util.h"

/* Bounds. Exceeding one is an error (exit 2), never a decision. */
#define REGO_MAX_POLICY_BYTES (256u * 1024u)
#define REGO_MAX_INPUT_NODES 200000		/* JSON values in the input */
#define REGO_MAX_INPUT_DEPTH 64
#define REGO_MAX_STEPS 2000000L			/* literals and iterations per evaluation */
#define REGO_MAX_DEPTH 1500			/* nested evaluation frames */
#define REGO_MAX_MEMORY (64u * 1024u * 1024u)	/* values made during one evaluation */
#define REGO_MAX_PARSE_DEPTH 100		/* nested expressions and bodies in the text */

struct rego_policy;

/* Parses and checks a policy. name (a file name) prefixes every message:
 * "NAME:LINE:COL: ...". NULL with e set when the text is not in the subset. */
struct rego_policy *rego_load(const char *src, size_t len, const char *name, struct gpa_err *e);
void rego_free(struct rego_policy *p);

/* Whether the policy has what NVIDIA's SDK decides by: a complete rule
 * nv_match. 0, or -1 with e naming the problem. */
int rego_check_decision(const struct rego_policy *p, struct gpa_err *e);

/* Evaluates rule `rule` of the policy's package on input (any JSON value;
 * NULL is undefined input) with time.now_ns() = now_s seconds. Returns 1
 * and *value (a new reference; sets as sorted arrays) when the rule is
 * defined, 0 when it is undefined, -1 with e on an evaluation error (a
 * conflict, a bound exceeded). */
int rego_eval_rule(const struct rego_policy *p, const char *rule, const json_t *input, int64_t now_s,
    json_t **value, struct gpa_err *e);

/* The decision NVIDIA's SDK asks for: data.policy.nv_match, which must be
 * a boolean; undefined is no match. 0 with *match, or -1 with e (an
 * evaluation error, a value that is not a boolean). */
int rego_decide(const struct rego_policy *p, const json_t *input, int64_t now_s, bool *match,
    struct gpa_err *e);

#endif
