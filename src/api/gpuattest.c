/*
 * The public API: a thin layer that turns gpuattest_config into the
 * internal appraise configuration and hands results back. Nothing here
 * decides anything about evidence.
 */
#include "gpuattest.h"

#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

gpuattest_config *gpuattest_config_new(void)
{
	gpuattest_config *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->pinned = true;
	c->at = time(NULL);
	c->expect_gpus = c->expect_switches = -1;
	return c;
}

void gpuattest_config_free(gpuattest_config *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < c->nanchor_files; i++)
		free(c->anchor_files[i]);
	for (int i = 0; i < c->nrim_dirs; i++)
		free(c->rim_dirs[i]);
	anchors_free(c->anchors);
	free(c);
}

const char *gpuattest_config_error(const gpuattest_config *c)
{
	return c->err.msg;
}

int gpuattest_config_add_trust_anchor_file(gpuattest_config *c, const char *path)
{
	if (c->nanchor_files == GPA_API_MAX_ANCHOR_FILES) {
		gpa_err_set(&c->err, "too many trust anchor files");
		return -1;
	}
	c->anchor_files[c->nanchor_files++] = strdup(path);
	anchors_free(c->anchors);
	c->anchors = NULL;
	return 0;
}

int gpuattest_config_no_pinned_anchors(gpuattest_config *c)
{
	c->pinned = false;
	anchors_free(c->anchors);
	c->anchors = NULL;
	return 0;
}

int gpuattest_config_set_time(gpuattest_config *c, time_t at)
{
	c->at = at;
	return 0;
}

int gpuattest_config_set_nonce(gpuattest_config *c, const uint8_t *nonce, size_t len)
{
	if (len != SPDM_NONCE_LEN) {
		gpa_err_set(&c->err, "the nonce must be 32 bytes, not %zu", len);
		return -1;
	}
	memcpy(c->nonce, nonce, len);
	c->have_nonce = true;
	return 0;
}

int gpuattest_config_add_rim_dir(gpuattest_config *c, const char *dir)
{
	if (c->nrim_dirs == GPA_API_MAX_RIM_DIRS) {
		gpa_err_set(&c->err, "too many RIM directories");
		return -1;
	}
	c->rim_dirs[c->nrim_dirs++] = strdup(dir);
	return 0;
}

int gpuattest_config_insecure_skip_revocation(gpuattest_config *c)
{
	c->insecure_no_ocsp = true;
	return 0;
}

/* Anchors are loaded lazily so that option order does not matter. */
static int config_anchors(gpuattest_config *c)
{
	if (c->anchors != NULL)
		return 0;
	c->anchors = anchors_new(c->pinned, &c->err);
	if (c->anchors == NULL)
		return -1;
	for (int i = 0; i < c->nanchor_files; i++)
		if (anchors_add_pem_file(c->anchors, c->anchor_files[i], &c->err) != 0) {
			anchors_free(c->anchors);
			c->anchors = NULL;
			return -1;
		}
	if (anchors_count(c->anchors, GPA_ANCHOR_DEVICE) == 0 &&
	    anchors_count(c->anchors, GPA_ANCHOR_RIM) == 0) {
		gpa_err_set(&c->err, "no trust anchors: the pinned NVIDIA roots were dropped and none were named");
		anchors_free(c->anchors);
		c->anchors = NULL;
		return -1;
	}
	return 0;
}

int api_appraise_cfg(gpuattest_config *c, struct gpa_appraise_cfg *ac)
{
	struct gpa_err e;

	memset(ac, 0, sizeof(*ac));
	if (config_anchors(c) != 0 || rim_global_init(&e) != 0) {
		if (c->anchors != NULL)
			c->err = e;
		return -1;
	}
	ac->anchors = c->anchors;
	ac->at = c->at;
	ac->have_nonce = c->have_nonce;
	memcpy(ac->nonce, c->nonce, sizeof(ac->nonce));
	for (int i = 0; i < c->nrim_dirs && ac->nsources < 4; i++)
		rim_source_dir(&ac->sources[ac->nsources++], c->rim_dirs[i]);
	ac->insecure_no_ocsp = c->insecure_no_ocsp;
	return 0;
}

int gpuattest_config_expect_gpus(gpuattest_config *c, int n)
{
	c->expect_gpus = n;
	return 0;
}

int gpuattest_config_insecure_allow_dev_tools(gpuattest_config *c)
{
	c->allow_dev_tools = true;
	return 0;
}

int api_run(gpuattest_config *c, struct evidence_set *set, const struct gpa_system_info *sys,
    gpuattest_result **res)
{
	struct gpa_appraise_cfg ac;
	struct gpa_system_info si;
	gpuattest_result *r;

	*res = NULL;
	if (api_appraise_cfg(c, &ac) != 0) {
		evidence_set_clear(set);
		return -1;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		evidence_set_clear(set);
		gpa_err_set(&c->err, "out of memory");
		return -1;
	}
	r->set = *set;		/* the appraisal points into the evidence buffers */
	memset(set, 0, sizeof(*set));
	memset(&si, 0, sizeof(si));
	if (sys != NULL)
		si = *sys;
	si.expect_gpus = c->expect_gpus;
	si.expect_switches = c->expect_switches;
	si.allow_dev_tools = c->allow_dev_tools;
	ac.sys = &si;
	ac.nonce_generated = c->nonce_generated;
	if (appraise_evidence(&ac, &r->set, &r->a, &c->err) != 0) {
		gpuattest_result_free(r);
		return -1;
	}
	*res = r;
	return 0;
}

int gpuattest_verify_evidence_file(gpuattest_config *c, const char *path, gpuattest_result **res)
{
	struct evidence_set set;

	*res = NULL;
	if (evidence_load_json_file(path, GPA_DEV_GPU, &set, &c->err) != 0)
		return -1;
	return api_run(c, &set, NULL, res);
}

int gpuattest_verify_report_files(gpuattest_config *c, const char *report_path,
    const char *chain_path, gpuattest_result **res)
{
	struct evidence_set set;

	*res = NULL;
	if (evidence_load_raw(report_path, chain_path, GPA_DEV_GPU, &set, &c->err) != 0)
		return -1;
	return api_run(c, &set, NULL, res);
}

enum gpuattest_verdict gpuattest_result_verdict(const gpuattest_result *r)
{
	return (enum gpuattest_verdict)r->a.verdict;
}

int gpuattest_result_genuine_gpus(const gpuattest_result *r)
{
	int n = 0;
	for (size_t i = 0; i < r->a.n; i++)
		n += r->a.dev[i].kind == GPA_DEV_GPU && r->a.dev[i].verdict == GPA_PASS;
	return n;
}

char *gpuattest_result_json(const gpuattest_result *r)
{
	json_t *doc = appraisal_json(&r->a);
	char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	json_decref(doc);
	return s;
}

char *gpuattest_result_text(const gpuattest_result *r, int color)
{
	return appraisal_text(&r->a, color != 0);
}

void gpuattest_result_free(gpuattest_result *r)
{
	if (r == NULL)
		return;
	appraisal_clear(&r->a);
	evidence_set_clear(&r->set);
	free(r);
}
