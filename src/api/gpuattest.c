/*
 * The public API: a thin layer that turns gpuattest_config into the
 * internal appraise configuration and hands results back. Nothing here
 * decides anything about evidence.
 */
#include "gpuattest.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "policy/rppolicy.h"

gpuattest_config *gpuattest_config_new(void)
{
	gpuattest_config *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->pinned = true;
	c->at = time(NULL);
	c->expect_gpus = c->expect_switches = -1;
	c->retries = -1;
	return c;
}

static void warmup_wait(gpuattest_config *c);

void gpuattest_config_free(gpuattest_config *c)
{
	if (c == NULL)
		return;
	warmup_wait(c);
	for (int i = 0; i < c->nanchor_files; i++)
		free(c->anchor_files[i]);
	for (int i = 0; i < c->nrim_dirs; i++)
		free(c->rim_dirs[i]);
	anchors_free(c->anchors);
	free(c->ocsp_url);
	free(c->rim_url);
	free(c->cache_dir);
	free(c->collateral_path);
	free(c->service_key);
	rp_policy_free(c->rp);
	cache_close(c->cache);
	bundle_free(c->bundle);
	bundle_free(c->record);
	api_embed_free(c);
	free(c);
}

const char *gpuattest_config_error(const gpuattest_config *c)
{
	return c->err.msg;
}

static int add_anchor_file(gpuattest_config *c, const char *path, unsigned uses)
{
	if (c->nanchor_files == GPA_API_MAX_ANCHOR_FILES) {
		gpa_err_set(&c->err, "too many trust anchor files (at most %d)", GPA_API_MAX_ANCHOR_FILES);
		return -1;
	}
	c->anchor_uses[c->nanchor_files] = uses;
	c->anchor_files[c->nanchor_files++] = strdup(path);
	anchors_free(c->anchors);
	c->anchors = NULL;
	return 0;
}

int gpuattest_config_add_trust_anchor_file(gpuattest_config *c, const char *path)
{
	return add_anchor_file(c, path, GPA_ANCHOR_USES_BOTH);
}

int gpuattest_config_add_device_anchor_file(gpuattest_config *c, const char *path)
{
	return add_anchor_file(c, path, GPA_ANCHOR_USE_BIT(GPA_ANCHOR_DEVICE));
}

int gpuattest_config_add_rim_anchor_file(gpuattest_config *c, const char *path)
{
	return add_anchor_file(c, path, GPA_ANCHOR_USE_BIT(GPA_ANCHOR_RIM));
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
	c->at_given = true;
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

int gpuattest_config_insecure_accept_evidence_nonce(gpuattest_config *c)
{
	c->accept_evidence_nonce = true;
	return 0;
}

int gpuattest_config_add_rim_dir(gpuattest_config *c, const char *dir)
{
	if (c->nrim_dirs == GPA_API_MAX_RIM_DIRS) {
		gpa_err_set(&c->err, "at most %d RIM directories can be searched; %s is one more",
		    GPA_API_MAX_RIM_DIRS, dir);
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
static int config_anchors(gpuattest_config *c, struct gpa_err *e)
{
	struct gpa_anchors *a;

	if (c->anchors != NULL)
		return 0;
	if ((a = anchors_new(c->pinned, e)) == NULL)
		return -1;
	for (int i = 0; i < c->nanchor_files; i++)
		if (anchors_add_pem_file_for(a, c->anchor_files[i], c->anchor_uses[i], e) != 0) {
			anchors_free(a);
			return -1;
		}
	if (anchors_count(a, GPA_ANCHOR_DEVICE) == 0 && anchors_count(a, GPA_ANCHOR_RIM) == 0) {
		gpa_err_set(e, "no trust anchors: the pinned NVIDIA roots were dropped and none were named");
		anchors_free(a);
		return -1;
	}
	c->anchors = a;
	return 0;
}

/* The first use of OpenSSL and of the XML libraries in a process costs a
 * few milliseconds each (providers, configuration, the anchors' decoding;
 * loading libxml2 and xmlsec1): each is done on a thread while the evidence
 * is read and parsed. Only a warm-up: whatever failed here is done again
 * and reported by api_appraise_cfg (anchors) and api_run (XML). */
static void *warmup_anchors(void *arg)
{
	gpuattest_config *c = arg;
	struct gpa_err ignored = {{0}};

	(void)config_anchors(c, &ignored);
	return NULL;
}

static void *warmup_xml(void *arg)
{
	struct gpa_err ignored = {{0}};

	(void)arg;
	(void)rim_global_init(&ignored);
	return NULL;
}

void api_warmup_start(gpuattest_config *c)
{
	if (!c->warmup_started && c->anchors == NULL)
		c->warmup_started = pthread_create(&c->warmup, NULL, warmup_anchors, c) == 0;
	if (!c->xml_warmup_started)
		c->xml_warmup_started = pthread_create(&c->xml_warmup, NULL, warmup_xml, NULL) == 0;
}

/* The anchors' thread only: the XML libraries are needed by the RIM loads
 * alone, which wait for them themselves (rim_global_init runs once). */
static void anchors_wait(gpuattest_config *c)
{
	if (c->warmup_started)
		pthread_join(c->warmup, NULL);
	c->warmup_started = false;
}

static void warmup_wait(gpuattest_config *c)
{
	anchors_wait(c);
	if (c->xml_warmup_started)
		pthread_join(c->xml_warmup, NULL);
	c->xml_warmup_started = false;
}

void api_warmup_join(gpuattest_config *c)
{
	warmup_wait(c);
}

static int set_string(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? strdup(v) : NULL;
	return v == NULL || *dst != NULL ? 0 : -1;
}

int gpuattest_config_set_ocsp_url(gpuattest_config *c, const char *url)
{
	return set_string(&c->ocsp_url, url);
}

int gpuattest_config_set_rim_url(gpuattest_config *c, const char *url)
{
	return set_string(&c->rim_url, url);
}

int gpuattest_config_set_service_key(gpuattest_config *c, const char *key)
{
	return set_string(&c->service_key, key);
}

int gpuattest_config_set_cache_dir(gpuattest_config *c, const char *dir)
{
	return set_string(&c->cache_dir, dir);
}

int gpuattest_config_no_cache(gpuattest_config *c)
{
	c->no_cache = true;
	return 0;
}

int gpuattest_config_offline(gpuattest_config *c)
{
	c->offline = true;
	return 0;
}

int gpuattest_config_set_collateral(gpuattest_config *c, const char *path)
{
	return set_string(&c->collateral_path, path);
}

int gpuattest_config_set_max_ocsp_age(gpuattest_config *c, long seconds)
{
	if (seconds < 0) {
		gpa_err_set(&c->err, "the OCSP age window cannot be negative");
		return -1;
	}
	c->max_ocsp_age = seconds;
	return 0;
}

int gpuattest_config_allow_rim_cert_hold(gpuattest_config *c)
{
	c->allow_hold_rim = true;
	return 0;
}

int gpuattest_config_insecure_accept_cached_ocsp(gpuattest_config *c)
{
	c->ocsp_cache_ok = true;
	return 0;
}

int gpuattest_config_set_http(gpuattest_config *c, long connect_timeout_ms, long timeout_ms, int retries)
{
	c->connect_timeout_ms = connect_timeout_ms;
	c->timeout_ms = timeout_ms;
	c->retries = retries;
	return 0;
}

/* HTTP options: defaults, then the environment, then what the caller set. */
static int config_http(gpuattest_config *c, struct gpa_http_opts *h)
{
	if (http_opts_from_env(h, &c->err) != 0)
		return -1;
	if (c->connect_timeout_ms > 0)
		h->connect_timeout_ms = c->connect_timeout_ms;
	if (c->timeout_ms > 0)
		h->timeout_ms = c->timeout_ms;
	if (c->retries >= 0)
		h->max_retries = c->retries;
	if (c->service_key != NULL)
		snprintf(h->service_key, sizeof(h->service_key), "%s", c->service_key);
	if (c->total_timeout_ms > 0)
		h->total_timeout_ms = c->total_timeout_ms;
	/* One deadline for the whole verification: its RIM and OCSP phases
	 * share it, as the total timeout promises (issue 10.9). */
	http_opts_start_deadline(h);
	h->wait = c->http_wait;
	return 0;
}

static const char *env_or(const char *v, const char *env)
{
	const char *e = getenv(env);
	return v != NULL ? v : e != NULL && *e != '\0' ? e : NULL;
}

/* The network side: sources after the directories, OCSP stage, cache,
 * collateral bundle. Opened once per config. */
static int config_network(gpuattest_config *c)
{
	struct gpa_netglue *g = &c->glue;

	memset(g, 0, sizeof(*g));
	if (config_http(c, &g->http) != 0)
		return -1;
	if (!c->no_cache && c->cache == NULL && !c->cache_failed) {
		struct gpa_err ce = {{0}};
		/* A cache that cannot be opened (read-only file system, no
		 * home) costs speed, not correctness: say so and go on. */
		c->cache = cache_open(c->cache_dir, &ce);	/* NULL: $GPUATTEST_CACHE_DIR, ... */
		if (c->cache == NULL) {
			c->cache_failed = true;
			fprintf(stderr, "gpuattest: warning: no cache: %s\n", ce.msg);
		}
	}
	if (c->collateral_path != NULL && c->bundle == NULL) {
		c->bundle = bundle_read(c->collateral_path, &c->err);
		if (c->bundle == NULL)
			return -1;
	}
	g->anchors = c->anchors;
	g->allow_hold_rim = c->allow_hold_rim;
	for (int i = 0; i < c->nrim_dirs; i++)
		g->rims.dirs[g->rims.ndirs++] = c->rim_dirs[i];
	g->rims.driver_file = c->driver_rim;
	g->rims.vbios_file = c->vbios_rim;
	g->rims.bundle = c->bundle;
	g->rims.bundle_path = c->collateral_path;
	g->rims.anchors = c->anchors;
	g->rims.at = c->at;
	g->rims.cache = c->cache;
	g->rims.service_url = env_or(c->rim_url, "GPUATTEST_RIM_URL");
	g->rims.offline = c->offline;
	g->rims.http = &g->http;
	g->rims.record = c->record;
	ocsp_opts_default(&g->ocsp);
	g->ocsp.url = env_or(c->ocsp_url, "GPUATTEST_OCSP_URL");
	g->ocsp.http = &g->http;
	g->ocsp.max_age_s = c->max_ocsp_age;
	g->ocsp.offline = c->offline;
	g->ocsp.cache = c->cache;
	g->ocsp.cache_ok = c->ocsp_cache_ok;
	g->ocsp.bundle = c->bundle;
	g->ocsp.bundle_path = c->collateral_path;
	g->ocsp.record = c->record;
	netglue_ocsp_stage(g, &c->stage);
	return 0;
}

/* The configuration as far as parsing the evidence needs it. */
static void appraise_cfg_basic(const gpuattest_config *c, struct gpa_appraise_cfg *ac)
{
	memset(ac, 0, sizeof(*ac));
	ac->at = c->at;
	ac->at_given = c->at_given;
	ac->have_nonce = c->have_nonce;
	memcpy(ac->nonce, c->nonce, sizeof(ac->nonce));
	ac->nonce_generated = c->nonce_generated;
	ac->accept_evidence_nonce = c->accept_evidence_nonce;
	ac->claims_version = c->claims_version;
	ac->rp = c->rp;
}

/* Every directory accepted by gpuattest_config_add_rim_dir must fit the
 * collateral sources: none may be left out of the search. */
_Static_assert(GPA_API_MAX_RIM_DIRS <= GPA_COLLATERAL_MAX_DIRS,
    "GPA_API_MAX_RIM_DIRS directories exceed the collateral layer's");

/* Whether the XML libraries could be loaded: 0, or -1 with the message. */
static int xml_ready(gpuattest_config *c)
{
	struct gpa_err e;

	if (rim_global_init(&e) != 0) {
		c->err = e;
		return -1;
	}
	return 0;
}

/* The whole configuration (loads the anchors on first use), with or without
 * waiting for the XML libraries (then the caller checks xml_ready later). */
static int api_appraise_cfg(gpuattest_config *c, struct gpa_appraise_cfg *ac, bool need_xml)
{
	appraise_cfg_basic(c, ac);
	if (config_anchors(c, &c->err) != 0)
		return -1;
	if (need_xml && xml_ready(c) != 0)
		return -1;
	if (config_network(c) != 0)
		return -1;
	ac->anchors = c->anchors;
	netglue_rim_source(&c->glue, &ac->sources[ac->nsources++]);
	ac->insecure_no_ocsp = c->insecure_no_ocsp;
	ac->ocsp = c->insecure_no_ocsp ? NULL : &c->stage;
	ac->ocsp_cache_ok = c->ocsp_cache_ok;
	ac->max_ocsp_age = c->max_ocsp_age;
	ac->ocsp_answers_may_be_old = c->offline || c->collateral_path != NULL;
	return 0;
}

/* The whole configuration with the XML libraries loaded (preflight.c). */
int api_appraise_cfg_full(gpuattest_config *c, struct gpa_appraise_cfg *ac)
{
	anchors_wait(c);
	return api_appraise_cfg(c, ac, true);
}

int gpuattest_config_set_claims_version(gpuattest_config *c, int version)
{
	if (version != 3 && version != 4) {
		gpa_err_set(&c->err, "claims version %d: 3 and 4 are supported", version);
		return -1;
	}
	c->claims_version = version;
	return 0;
}

static int replace_policy(gpuattest_config *c, struct rp_policy *p)
{
	rp_policy_free(c->rp);
	c->rp = p;
	return 0;
}

int gpuattest_config_set_policy_file(gpuattest_config *c, const char *path)
{
	struct rp_policy *p;

	if (path == NULL)
		return replace_policy(c, NULL);
	if ((p = rp_policy_load_file(path, &c->err)) == NULL)
		return -1;
	return replace_policy(c, p);
}

int gpuattest_config_set_policy(gpuattest_config *c, const char *text, size_t len, const char *name)
{
	struct rp_policy *p;

	if (text == NULL)
		return replace_policy(c, NULL);
	if ((p = rp_policy_load(text, len, name != NULL ? name : "policy", &c->err)) == NULL)
		return -1;
	return replace_policy(c, p);
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

struct run_cfg {
	gpuattest_config *c;
	struct gpa_appraise_cfg basic, full;
	struct gpa_collateral_log log;	/* where each RIM and OCSP answer came from */
};

/* Called by appraise_evidence once the evidence is parsed. */
static const struct gpa_appraise_cfg *complete_cfg(void *arg, struct gpa_err *e)
{
	struct run_cfg *rc = arg;

	anchors_wait(rc->c);
	if (api_appraise_cfg(rc->c, &rc->full, false) != 0) {
		if (e != &rc->c->err)
			*e = rc->c->err;
		return NULL;
	}
	rc->full.sys = rc->basic.sys;
	rc->c->glue.log = &rc->log;
	return &rc->full;
}

int api_run(gpuattest_config *c, struct evidence_set *set, const struct gpa_system_info *sys,
    gpuattest_result **res)
{
	struct run_cfg rc = {.c = c};
	struct gpa_system_info si;
	gpuattest_result *r;

	*res = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		warmup_wait(c);
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
	appraise_cfg_basic(c, &rc.basic);
	rc.basic.sys = &si;
	rc.basic.complete = complete_cfg;
	rc.basic.complete_ctx = &rc;
	collateral_log_init(&rc.log);
	/* The XML libraries were not waited for: a failure to load them is a
	 * configuration error, reported instead of a verdict as before. */
	if (appraise_evidence(&rc.basic, &r->set, &r->a, &c->err) != 0 || xml_ready(c) != 0) {
		warmup_wait(c);
		c->glue.log = NULL;
		collateral_log_destroy(&rc.log);
		gpuattest_result_free(r);
		return -1;
	}
	warmup_wait(c);
	c->glue.log = NULL;
	collateral_log_move(&rc.log, &r->a);
	collateral_log_destroy(&rc.log);
	*res = r;
	return 0;
}

int gpuattest_verify_evidence_file(gpuattest_config *c, const char *path, gpuattest_result **res)
{
	struct evidence_set set;

	*res = NULL;
	api_warmup_start(c);
	if (evidence_load_json_file(path, GPA_DEV_GPU, &set, &c->err) != 0) {
		warmup_wait(c);
		return -1;
	}
	return api_run(c, &set, NULL, res);
}

int gpuattest_verify_report_files(gpuattest_config *c, const char *report_path,
    const char *chain_path, gpuattest_result **res)
{
	struct evidence_set set;

	*res = NULL;
	api_warmup_start(c);
	if (evidence_load_raw(report_path, chain_path, GPA_DEV_GPU, &set, &c->err) != 0) {
		warmup_wait(c);
		return -1;
	}
	return api_run(c, &set, NULL, res);
}

/* GPU and NVSwitch evidence of one system, appraised together. */
int gpuattest_verify_system_files(gpuattest_config *c, const char *gpu_path, const char *switch_path,
    gpuattest_result **res)
{
	struct evidence_set gpus, sw;

	*res = NULL;
	memset(&gpus, 0, sizeof(gpus));
	api_warmup_start(c);
	if (gpu_path != NULL && evidence_load_json_file(gpu_path, GPA_DEV_GPU, &gpus, &c->err) != 0) {
		warmup_wait(c);
		return -1;
	}
	if (evidence_load_json_file(switch_path, GPA_DEV_SWITCH, &sw, &c->err) != 0) {
		warmup_wait(c);
		evidence_set_clear(&gpus);
		return -1;
	}
	return api_run_system(c, &gpus, &sw, res);
}

enum gpuattest_verdict gpuattest_result_verdict(const gpuattest_result *r)
{
	return (enum gpuattest_verdict)r->a.verdict;
}

int gpuattest_result_genuine_gpus(const gpuattest_result *r)
{
	return appraisal_count_genuine(&r->a, GPA_DEV_GPU);
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
