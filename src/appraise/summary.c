/*
 * The one-line summary under VERIFICATION SUCCESSFUL, worded after what was
 * really shown (issue 10):
 *   - "genuine NVIDIA" only for devices whose identity chain ended at
 *     NVIDIA's pinned Device Identity CA; under any other anchor the line
 *     names it (CN and SHA-256) and says it is not NVIDIA's root;
 *   - "This system has ... enabled and operational" only for a live run,
 *     whose CC configuration the driver reported and the policy checked;
 *     recorded evidence says what the evidence shows, and that the CC
 *     configuration was not read from a driver.
 */
#include "appraise/appraise.h"

#include <stdio.h>
#include <string.h>

#define MAX_NAMED 3

/* The distinct non-NVIDIA anchors that passing devices of a kind ended at;
 * returns how many (at most MAX_NAMED are kept). */
static int other_anchors(const struct gpa_appraisal *a, enum gpa_device_kind kind,
    const struct gpa_chain_claims *out[MAX_NAMED])
{
	int n = 0;

	for (size_t i = 0; i < a->n; i++) {
		const struct gpa_device_result *d = &a->dev[i];
		bool seen = false;

		if (d->kind != kind || d->verdict != GPA_PASS || d->dev_chain.anchor_nvidia)
			continue;
		for (int k = 0; k < n && k < MAX_NAMED; k++)
			seen |= strcmp(out[k]->anchor_sha256, d->dev_chain.anchor_sha256) == 0;
		if (seen)
			continue;
		if (n < MAX_NAMED)
			out[n] = &d->dev_chain;
		n++;
	}
	return n;
}

/* "genuine NVIDIA GPU(s)" or "GPU(s) verified under test anchor CN=X
 * (sha256 Y) (not NVIDIA's root)". */
static void what_was_shown(const struct gpa_appraisal *a, enum gpa_device_kind kind, int count,
    char *out, size_t len)
{
	const struct gpa_chain_claims *other[MAX_NAMED];
	const char *noun = kind == GPA_DEV_GPU ? "GPU(s)" : "NVSwitch(es)";
	int n = other_anchors(a, kind, other);
	size_t used;

	if (n == 0) {
		snprintf(out, len, "%d genuine NVIDIA %s", count, noun);
		return;
	}
	used = (size_t)snprintf(out, len, "%d %s verified under %s", count, noun,
	    n > 1 ? "test anchors" : "test anchor");
	for (int k = 0; k < n && k < MAX_NAMED && used < len; k++)
		used += (size_t)snprintf(out + used, len - used, "%s CN=%s (sha256 %s)", k ? "," : "",
		    other[k]->anchor_cn, other[k]->anchor_sha256);
	if (used < len)
		snprintf(out + used, len - used, "%s (not NVIDIA's root)", n > MAX_NAMED ? " and others" : "");
}

void appraisal_summary(const struct gpa_appraisal *a, char *out, size_t len)
{
	int gpus = appraisal_count_genuine(a, GPA_DEV_GPU), sw = appraisal_count_genuine(a, GPA_DEV_SWITCH);
	char g[600], s[600];
	size_t used = 0;

	out[0] = '\0';
	if (a->verdict != GPA_PASS)
		return;
	what_was_shown(a, GPA_DEV_GPU, gpus, g, sizeof(g));
	what_was_shown(a, GPA_DEV_SWITCH, sw, s, sizeof(s));
	if (a->sys.present) {
		if (gpus > 0)
			used += (size_t)snprintf(out, len,
			    "This system has %s with Confidential Computing features enabled and operational.\n", g);
		if (sw > 0 && used < len)
			snprintf(out + used, len - used, "This system has %s.\n", s);
		return;
	}
	if (gpus > 0)
		used += (size_t)snprintf(out, len, "The evidence shows %s.\n", g);
	if (sw > 0 && used < len)
		used += (size_t)snprintf(out + used, len - used, "The evidence shows %s.\n", s);
	if ((gpus > 0 || sw > 0) && used < len)
		snprintf(out + used, len - used,
		    "Recorded evidence: the Confidential Computing configuration was not read from a driver.\n");
}
