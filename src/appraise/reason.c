/*
 * The one line that says why a verification did not pass: what --quiet still
 * writes to stderr, so that a gate's journal (systemd) says why the workload
 * did not start. The first check that decided the verdict, named with its
 * device, and how many more there were.
 */
#include "appraise/appraise.h"

#include <stdio.h>
#include <string.h>

/* Whether a check of outcome o is one that made verdict v. */
static bool decided(enum gpa_outcome o, enum gpa_verdict v)
{
	switch (v) {
	case GPA_BAD_INPUT: return o == GPA_CHECK_BAD_INPUT;
	case GPA_FAIL: return o == GPA_CHECK_FAIL;
	case GPA_INCOMPLETE: return o == GPA_CHECK_NOT_DONE;
	case GPA_PASS: return false;
	}
	return false;
}

/* Counts the checks that decided v; the first is kept with its owner. */
static int count_decisive(const char *owner, const struct gpa_check *c, int n, enum gpa_verdict v,
    const char **first_owner, const struct gpa_check **first)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (!decided(c[i].outcome, v))
			continue;
		if (*first == NULL) {
			*first = &c[i];
			*first_owner = owner;
		}
		k++;
	}
	return k;
}

static const char *verdict_words(enum gpa_verdict v)
{
	switch (v) {
	case GPA_PASS: return "VERIFICATION SUCCESSFUL";
	case GPA_FAIL: return "VERIFICATION FAILED";
	case GPA_BAD_INPUT: return "VERIFICATION FAILED (malformed evidence)";
	case GPA_INCOMPLETE: return "VERIFICATION INCOMPLETE";
	}
	return "VERIFICATION FAILED";
}

void appraisal_reason(const struct gpa_appraisal *a, char *out, size_t len)
{
	const struct gpa_check *first = NULL;
	const char *owner = NULL;
	int n;

	n = count_decisive("System", a->sys_checks, a->nsys_checks, a->verdict, &owner, &first);
	for (size_t i = 0; i < a->n; i++)
		n += count_decisive(a->dev[i].label, a->dev[i].checks, a->dev[i].nchecks, a->verdict, &owner,
		    &first);
	if (first == NULL) {
		snprintf(out, len, "%s", verdict_words(a->verdict));
		return;
	}
	if (n > 1)
		snprintf(out, len, "%s: %s: %s (and %d more; run without --quiet for every check)",
		    verdict_words(a->verdict), owner, first->detail, n - 1);
	else
		snprintf(out, len, "%s: %s: %s", verdict_words(a->verdict), owner, first->detail);
}
