/*
 * The JSON policies of NVIDIA's Python SDK (§11.3):
 *
 *   {"version": "3.0", "authorization-rules": {"type": "JWT",
 *     "overall-claims": {...}, "detached-claims": {...}}}
 *
 * Every key of overall-claims must be in the overall claims with an equal
 * value, every key of detached-claims in every device's claim set; a rule
 * value that is an object is matched the same way, key by key, against the
 * claim's object (extra keys in the claims are ignored); anything else must
 * be equal as JSON values, types included (true is not 1). A missing key or
 * an unequal value is no match.
 *
 * Strict at load: the shape above only, with the file, line and column of
 * what is wrong. Unknown keys are refused rather than ignored, since a
 * misspelt rule would otherwise require nothing.
 */
#include "policy/rppolicy.h"

#include <stdlib.h>
#include <string.h>

struct rp_json_policy {
	json_t *overall;	/* objects; may be empty */
	json_t *detached;
};

#define JSON_RULE_MAX_DEPTH 16

static int rule_depth_ok(const json_t *v, int depth)
{
	const char *k;
	json_t *sub;

	if (depth > JSON_RULE_MAX_DEPTH)
		return 0;
	if (json_is_object(v))
		json_object_foreach((json_t *)v, k, sub)
			if (!rule_depth_ok(sub, depth + 1))
				return 0;
	if (json_is_array(v))
		for (size_t i = 0; i < json_array_size(v); i++)
			if (!rule_depth_ok(json_array_get(v, i), depth + 1))
				return 0;
	return 1;
}

static int only_keys(const json_t *o, const char *const *allowed, const char *name, const char *where,
    const char *has, struct gpa_err *e)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		bool ok = false;
		for (int i = 0; allowed[i] != NULL; i++)
			ok |= strcmp(k, allowed[i]) == 0;
		if (!ok) {
			gpa_err_set(e, "%s: %s: unknown key \"%s\" (%s has only %s)", name, where, k, where, has);
			return -1;
		}
	}
	return 0;
}

static json_t *rules_object(json_t *rules, const char *key, const char *name, struct gpa_err *e)
{
	json_t *o = json_object_get(rules, key);

	if (o == NULL)
		return json_object();
	if (!json_is_object(o)) {
		gpa_err_set(e, "%s: authorization-rules.%s must be an object of claim names and expected values",
		    name, key);
		return NULL;
	}
	if (!rule_depth_ok(o, 0)) {
		gpa_err_set(e, "%s: authorization-rules.%s is nested more than %d levels deep", name, key,
		    JSON_RULE_MAX_DEPTH);
		return NULL;
	}
	return json_incref(o);
}

static int check_shape(json_t *doc, const char *name, struct gpa_err *e)
{
	static const char *const top[] = {"version", "authorization-rules", NULL};
	static const char *const rule_keys[] = {"type", "overall-claims", "detached-claims", NULL};
	json_t *rules = json_object_get(doc, "authorization-rules"), *type, *version;

	if (only_keys(doc, top, name, "the top level", "version and authorization-rules", e) != 0)
		return -1;
	version = json_object_get(doc, "version");
	if (version != NULL && !json_is_string(version)) {
		gpa_err_set(e, "%s: \"version\" must be a string such as \"3.0\"", name);
		return -1;
	}
	if (!json_is_object(rules)) {
		gpa_err_set(e, "%s: a JSON policy needs an \"authorization-rules\" object", name);
		return -1;
	}
	if (json_is_string(version) && strcmp(json_string_value(version), "1.0") == 0 &&
	    json_object_get(rules, "type") == NULL) {
		gpa_err_set(e, "%s: a version 1.0 policy (claims directly under authorization-rules, the x-nv-gpu-* "
		    "names of NVIDIA's first SDK) is not supported: use authorization-rules {type, overall-claims, "
		    "detached-claims} with the claims of version 3.0", name);
		return -1;
	}
	if (only_keys(rules, rule_keys, name, "authorization-rules", "type, overall-claims and detached-claims", e) != 0)
		return -1;
	type = json_object_get(rules, "type");
	if (!json_is_string(type) || strcmp(json_string_value(type), "JWT") != 0) {
		gpa_err_set(e, "%s: authorization-rules.type must be \"JWT\" (the only token type NVIDIA's SDK "
		    "produces)", name);
		return -1;
	}
	return 0;
}

struct rp_json_policy *rp_json_load(const char *text, size_t len, const char *name, struct gpa_err *e)
{
	json_error_t je;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *rules;
	struct rp_json_policy *p;

	if (doc == NULL) {
		gpa_err_set(e, "%s:%d:%d: not valid JSON: %s", name, je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(doc)) {
		gpa_err_set(e, "%s:1:1: a JSON policy is an object", name);
		json_decref(doc);
		return NULL;
	}
	if (check_shape(doc, name, e) != 0) {
		json_decref(doc);
		return NULL;
	}
	rules = json_object_get(doc, "authorization-rules");
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->overall = rules_object(rules, "overall-claims", name, e)) == NULL ||
	    (p->detached = rules_object(rules, "detached-claims", name, e)) == NULL) {
		if (p == NULL)
			gpa_err_set(e, "out of memory");
		rp_json_free(p);
		json_decref(doc);
		return NULL;
	}
	json_decref(doc);
	return p;
}

void rp_json_free(struct rp_json_policy *p)
{
	if (p == NULL)
		return;
	json_decref(p->overall);
	json_decref(p->detached);
	free(p);
}

/* Python's ==: a rule object matches recursively (extra claim keys
 * ignored); everything else by type-sensitive JSON equality (json_equal),
 * except that 1 and 1.0 are one number, as in Python. */
static bool value_matches(const json_t *want, const json_t *got);

static bool object_matches(const json_t *rules, const json_t *claims)
{
	const char *k;
	json_t *want;

	if (!json_is_object(claims))
		return false;
	json_object_foreach((json_t *)rules, k, want) {
		json_t *got = json_object_get(claims, k);
		if (got == NULL || !value_matches(want, got))
			return false;
	}
	return true;
}

static bool value_matches(const json_t *want, const json_t *got)
{
	if (json_is_object(want))
		return object_matches(want, got);
	if (json_is_number(want) && json_is_number(got))
		return json_number_value(want) == json_number_value(got);
	return json_equal(want, got);
}

bool rp_json_match(const struct rp_json_policy *p, const json_t *devices, const json_t *overall)
{
	if (!object_matches(p->overall, overall))
		return false;
	/* No device at all proves nothing (as nv_match wants a non-empty array). */
	if (json_array_size(devices) == 0)
		return false;
	for (size_t i = 0; i < json_array_size(devices); i++)
		if (!object_matches(p->detached, json_array_get(devices, i)))
			return false;
	return true;
}
