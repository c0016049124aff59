/*
 * Weakenings: every choice in force that made this verification accept
 * less than the full promise (revocation skipped, an old OCSP answer let
 * through, developer tools, a trust anchor that is not NVIDIA's, a time in
 * the past, a nonce taken from the evidence, a policy that relaxed a
 * check). A verdict is only as strong as its weakest accepted link, so each
 * is listed before the verdict (text) and in "weakened" (JSON), never only
 * in a check's detail.
 */
#include "appraise/appraise.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* OCSP answers are judged on the work pool: callers may be on any thread. */
static pthread_mutex_t weaken_lock = PTHREAD_MUTEX_INITIALIZER;

static bool weakening_known(const struct gpa_appraisal *a, const char *id, const char *detail)
{
	for (int i = 0; i < a->nweak; i++)
		if (strcmp(a->weak[i].id, id) == 0 && strcmp(a->weak[i].detail, detail) == 0)
			return true;
	return false;
}

void appraisal_weaken(struct gpa_appraisal *a, const char *id, const char *fmt, ...)
{
	char detail[sizeof(a->weak[0].detail)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&weaken_lock);
	if (weakening_known(a, id, detail)) {
		/* Said once: the same answer seen for several chains. */
	} else if (a->nweak == GPA_MAX_WEAK) {
		/* Never silently: the last entry says more were dropped. */
		a->nweak_dropped++;
		snprintf(a->weak[GPA_MAX_WEAK - 1].id, sizeof(a->weak[0].id), "more");
		snprintf(a->weak[GPA_MAX_WEAK - 1].detail, sizeof(a->weak[0].detail),
		    "... and %d more weakening(s) in force", a->nweak_dropped + 1);
	} else {
		struct gpa_weakening *w = &a->weak[a->nweak++];
		snprintf(w->id, sizeof(w->id), "%s", id);
		snprintf(w->detail, sizeof(w->detail), "%s", detail);
	}
	pthread_mutex_unlock(&weaken_lock);
}

static void appraisal_weaken_from_results(const struct gpa_appraise_cfg *cfg, struct gpa_appraisal *a);

json_t *appraisal_weakened_json(const struct gpa_appraisal *a)
{
	json_t *arr = json_array();

	for (int i = 0; i < a->nweak; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_string(a->weak[i].id));
		json_object_set_new(o, "detail", json_string(a->weak[i].detail));
		json_array_append_new(arr, o);
	}
	return arr;
}

void appraisal_weaken_from_cfg(const struct gpa_appraise_cfg *cfg, struct gpa_appraisal *a)
{
	char at[21];

	appraisal_weaken_from_results(cfg, a);
	if (cfg->insecure_no_ocsp)
		appraisal_weaken(a, "no-ocsp",
		    "certificate revocation (OCSP) was NOT checked (--no-ocsp): a revoked device or RIM signing certificate would not be noticed");
	if (cfg->ocsp_cache_ok && !cfg->insecure_no_ocsp)
		appraisal_weaken(a, "ocsp-cache-ok",
		    "OCSP answers without this run's nonce are accepted (--ocsp-cache-ok): a revocation newer than the answer would not be noticed");
	if (!cfg->have_nonce && cfg->accept_evidence_nonce)
		appraisal_weaken(a, "evidence-nonce",
		    "the evidence's own nonce was accepted (--insecure-accept-evidence-nonce): freshness is not proven, the file may be a replay of old evidence");
	if (cfg->at_given) {
		time_format_rfc3339(cfg->at, at);
		appraisal_weaken(a, "at",
		    "verified as of %s (--at), not now: certificates and OCSP answers were judged at that time", at);
	}
	if (cfg->max_ocsp_age > 0 && cfg->ocsp != NULL)
		appraisal_weaken(a, "max-ocsp-age",
		    "OCSP answers are accepted up to %ld s past their nextUpdate (--max-ocsp-age): a revocation published since would not be noticed",
		    cfg->max_ocsp_age);
	if (cfg->sys != NULL && cfg->sys->present && cfg->sys->dev_tools != 0 && cfg->sys->allow_dev_tools)
		appraisal_weaken(a, "dev-tools",
		    "developer tools (debug) mode is ON and was accepted (--insecure-allow-dev-tools): the GPUs can be inspected by a debugger, this is not confidential");
}

static void weaken_from_chain(const struct gpa_appraise_cfg *cfg, struct gpa_appraisal *a, const char *what,
    const struct gpa_chain_claims *c, enum gpa_anchor_use use)
{
	if (!c->present)
		return;
	/* Said once per anchor and use, whichever devices or RIMs it served. */
	if (c->anchor_sha256[0] && !c->anchor_nvidia)
		appraisal_weaken(a, "non-nvidia-anchor",
		    "%s chains were validated under anchor CN=%s (sha256 %s), which is not NVIDIA's pinned %s: a test or private PKI, not proof of %s",
		    use == GPA_ANCHOR_DEVICE ? "device identity" : "RIM signing", c->anchor_cn, c->anchor_sha256,
		    use == GPA_ANCHOR_DEVICE ? "Device Identity CA" : "CoRIM signing root",
		    use == GPA_ANCHOR_DEVICE ? "hardware made by NVIDIA" : "reference values signed by NVIDIA");
	if (cfg->ocsp == NULL)
		return;
	if (c->ocsp_stale[0])
		appraisal_weaken(a, "max-ocsp-age", "%s: %s, accepted only because of --max-ocsp-age", what,
		    c->ocsp_stale);
	if (c->hold_allowed)
		appraisal_weaken(a, "hold-cert",
		    "%s: a certificate is ON HOLD (certificateHold) and was accepted (--allow-hold-cert)", what);
}

static void appraisal_weaken_from_results(const struct gpa_appraise_cfg *cfg, struct gpa_appraisal *a)
{
	char what[200];

	for (size_t i = 0; i < a->n; i++) {
		const struct gpa_device_result *d = &a->dev[i];
		snprintf(what, sizeof(what), "%s device certificate chain", d->label);
		weaken_from_chain(cfg, a, what, &d->dev_chain, GPA_ANCHOR_DEVICE);
		if (d->driver.id[0]) {
			snprintf(what, sizeof(what), "driver RIM %s", d->driver.id);
			weaken_from_chain(cfg, a, what, &d->driver.chain, GPA_ANCHOR_RIM);
		}
		if (d->vbios.id[0]) {
			snprintf(what, sizeof(what), "%s RIM %s", d->vbios.kind, d->vbios.id);
			weaken_from_chain(cfg, a, what, &d->vbios.chain, GPA_ANCHOR_RIM);
		}
	}
}
