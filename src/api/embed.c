/*
 * The public API for embedders: evidence from memory, the live system,
 * the runtime version and why a call failed. Like gpuattest.c, nothing here
 * judges evidence; it only moves it into an appraisal.
 */
#include "gpuattest.h"

#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "collect/collect.h"

const char *gpuattest_version(void)
{
	return GPUATTEST_VERSION;
}

enum gpuattest_verdict gpuattest_config_error_verdict(const gpuattest_config *c)
{
	if (c->err.msg[0] == '\0')
		return GPUATTEST_VERIFIED;
	return c->err_incomplete ? GPUATTEST_INCOMPLETE : GPUATTEST_BAD_INPUT;
}

void api_embed_free(gpuattest_config *c)
{
	free(c->nvml_lib);
	free(c->nscq_lib);
	free(c->gpu_list);
}

/* A call starts with no error: error_verdict describes this call only. */
static void begin_call(gpuattest_config *c, gpuattest_result **res)
{
	*res = NULL;
	c->err.msg[0] = '\0';
	c->err_incomplete = false;
	api_warmup_start(c);
}

/* The failure of a live call: the warm-up joined, the kind of failure kept. */
static int live_failed(gpuattest_config *c, struct gpa_live *l)
{
	bool incomplete = c->err_incomplete;

	live_close(l);
	api_warmup_join(c);
	c->err_incomplete = incomplete;
	return -1;
}

/* The warm-up threads must be joined before the config is used again;
 * api_run does it on its way, a load failure does it here. */
static int load_failed(gpuattest_config *c, const char *what)
{
	if (what != NULL)
		gpa_err_prefix(&c->err, "%s", what);
	api_warmup_join(c);
	return -1;
}

int gpuattest_verify_evidence_buffer(gpuattest_config *c, const void *buf, size_t len,
    gpuattest_result **res)
{
	struct evidence_set set;

	begin_call(c, res);
	memset(&set, 0, sizeof(set));
	if (buf == NULL || evidence_parse_json(buf, len, GPA_DEV_GPU, &set, &c->err) != 0) {
		if (buf == NULL)
			gpa_err_set(&c->err, "no evidence given (NULL buffer)");
		return load_failed(c, "evidence buffer");
	}
	return api_run(c, &set, NULL, res);
}

int gpuattest_verify_report_buffer(gpuattest_config *c, const void *report, size_t report_len,
    const char *chain_pem, size_t chain_len, gpuattest_result **res)
{
	struct evidence_set set;
	struct evidence_item *it = &set.items[0];

	begin_call(c, res);
	memset(&set, 0, sizeof(set));
	if (report == NULL || chain_pem == NULL) {
		gpa_err_set(&c->err, "a report and its PEM certificate chain are both needed");
		return load_failed(c, NULL);
	}
	if (report_len > 4 * GPA_REPORT_MAX + 64 || chain_len > GPA_CHAIN_MAX) {
		gpa_err_set(&c->err, "report (%zu bytes) or chain (%zu bytes) too large", report_len,
		    chain_len);
		return load_failed(c, NULL);
	}
	if (report_bytes_decode(report, report_len, &it->report, &it->report_len, &c->err) != 0)
		return load_failed(c, "report buffer");
	set.n = 1;
	it->kind = GPA_DEV_GPU;
	if (evidence_item_copy_chain(it, chain_pem, chain_len) != 0) {
		evidence_set_clear(&set);
		gpa_err_set(&c->err, "out of memory");
		return load_failed(c, NULL);
	}
	return api_run(c, &set, NULL, res);
}

int api_run_system(gpuattest_config *c, struct evidence_set *gpus, struct evidence_set *sw,
    gpuattest_result **res)
{
	if (gpus->n + sw->n > GPA_EVIDENCE_MAX_ITEMS) {
		gpa_err_set(&c->err, "%zu GPUs and %zu NVSwitches: at most %d devices in one verification",
		    gpus->n, sw->n, GPA_EVIDENCE_MAX_ITEMS);
		evidence_set_clear(gpus);
		evidence_set_clear(sw);
		return load_failed(c, NULL);
	}
	/* The items move into one set; their buffers change owner. */
	for (size_t i = 0; i < sw->n; i++)
		gpus->items[gpus->n++] = sw->items[i];
	sw->n = 0;
	return api_run(c, gpus, NULL, res);
}

int gpuattest_verify_system_buffers(gpuattest_config *c, const void *gpu, size_t gpu_len,
    const void *sw, size_t sw_len, gpuattest_result **res)
{
	struct evidence_set gpus, sws;

	begin_call(c, res);
	memset(&gpus, 0, sizeof(gpus));
	memset(&sws, 0, sizeof(sws));
	if (gpu != NULL && evidence_parse_json(gpu, gpu_len, GPA_DEV_GPU, &gpus, &c->err) != 0)
		return load_failed(c, "GPU evidence buffer");
	if (sw == NULL || evidence_parse_json(sw, sw_len, GPA_DEV_SWITCH, &sws, &c->err) != 0) {
		if (sw == NULL)
			gpa_err_set(&c->err, "no NVSwitch evidence given (NULL buffer)");
		evidence_set_clear(&gpus);
		return load_failed(c, "NVSwitch evidence buffer");
	}
	return api_run_system(c, &gpus, &sws, res);
}

static int set_path(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? strdup(v) : NULL;
	return v == NULL || *dst != NULL ? 0 : -1;
}

int gpuattest_config_set_nvml_lib(gpuattest_config *c, const char *path)
{
	return set_path(&c->nvml_lib, path);
}

int gpuattest_config_set_nscq_lib(gpuattest_config *c, const char *path)
{
	return set_path(&c->nscq_lib, path);
}

int gpuattest_config_select_gpus(gpuattest_config *c, const char *list)
{
	return set_path(&c->gpu_list, list);
}

int gpuattest_config_expect_switches(gpuattest_config *c, int n)
{
	c->expect_switches = n;
	return 0;
}

/* Opens the driver and collects GPUs, then NVSwitches in Protected PCIe
 * mode, all over one nonce. -1 with the message in c->err and
 * err_incomplete saying which kind of failure it was. */
static int collect(gpuattest_config *c, struct gpa_live *l)
{
	struct gpa_live_opts o = {.nvml_lib = c->nvml_lib, .gpus = c->gpu_list,
	    .have_nonce = c->have_nonce};

	memcpy(o.nonce, c->nonce, sizeof(o.nonce));
	if (live_open(l, &o, &c->err) != 0 || live_collect(l, &o, &c->err) != 0) {
		c->err_incomplete = !l->bad_selection;
		return -1;
	}
	/* Protected PCIe: the switches are part of what must be trusted. */
	if (l->sys.multi_gpu_mode == 1 && l->sys.cc_feature != 1 &&
	    live_collect_switches(l, c->nscq_lib, &c->err) != 0) {
		c->err_incomplete = true;
		return -1;
	}
	return 0;
}

int gpuattest_verify_live(gpuattest_config *c, gpuattest_result **res)
{
	struct gpa_live l;
	bool had_nonce = c->have_nonce;
	int rc;

	begin_call(c, res);
	if (collect(c, &l) != 0)
		return live_failed(c, &l);
	/* The collected nonce is what the evidence must carry; a caller's
	 * config keeps drawing fresh ones for later calls. */
	memcpy(c->nonce, l.nonce, sizeof(c->nonce));
	c->have_nonce = true;
	c->nonce_generated = l.nonce_generated;
	rc = api_run(c, &l.set, &l.sys, res);
	c->have_nonce = had_nonce;
	c->nonce_generated = false;
	if (rc != 0)
		c->err_incomplete = true;
	live_close(&l);
	return rc;
}

/* The switches' items of a live set as their own set (moved, not copied). */
static void split_switches(struct evidence_set *all, struct evidence_set *sw)
{
	size_t n = 0;

	memset(sw, 0, sizeof(*sw));
	for (size_t i = 0; i < all->n; i++) {
		if (all->items[i].kind == GPA_DEV_SWITCH)
			sw->items[sw->n++] = all->items[i];
		else
			all->items[n++] = all->items[i];
	}
	all->n = n;
}

int gpuattest_collect_evidence(gpuattest_config *c, char **gpu_json, char **switch_json)
{
	struct gpa_live l;
	struct evidence_set sw;
	int rc = 0;

	*gpu_json = NULL;
	if (switch_json != NULL)
		*switch_json = NULL;
	c->err.msg[0] = '\0';
	c->err_incomplete = false;
	if (collect(c, &l) != 0)
		return live_failed(c, &l);
	split_switches(&l.set, &sw);
	*gpu_json = evidence_to_json(&l.set);
	if (sw.n > 0 && switch_json != NULL)
		*switch_json = evidence_to_json(&sw);
	if (*gpu_json == NULL || (sw.n > 0 && switch_json != NULL && *switch_json == NULL)) {
		free(*gpu_json);
		*gpu_json = NULL;
		if (switch_json != NULL) {
			free(*switch_json);
			*switch_json = NULL;
		}
		gpa_err_set(&c->err, "out of memory");
		rc = -1;
	}
	evidence_set_clear(&sw);
	live_close(&l);
	return rc;
}
