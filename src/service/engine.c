/*
 * The service's verification engine: the appraisal of src/appraise with
 * what one long-running process holds for all its requests: the trust
 * anchors (loaded once), the XML libraries (initialised once), RIM
 * directories, and the collateral memory (collcache.c) in front of the
 * bundle / cache / RIM service and the OCSP responder.
 *
 * Each request is appraised against the nonce its relying party sent in
 * the body: the evidence must carry exactly that nonce. Freshness is the
 * relying party's to prove (it drew the nonce), as with NRAS.
 */
#include "service/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/netglue.h"
#include "net/cache.h"

struct svc_engine {
	struct svc_engine_opts o;
	struct gpa_anchors *anchors;
	struct gpa_rim_dir dirs[3];
	struct gpa_netglue glue;
	struct gpa_cache *cache;
	struct svc_rim_memo *rims;
	struct svc_ocsp_memo *ocsp;
	struct gpa_ocsp_stage stage;
};

static int engine_anchors(struct svc_engine *g, struct gpa_err *e)
{
	if ((g->anchors = anchors_new(!g->o.no_pinned, e)) == NULL)
		return -1;
	for (int i = 0; i < g->o.nanchor_files; i++)
		if (anchors_add_pem_file(g->anchors, g->o.anchor_files[i], e) != 0)
			return -1;
	if (anchors_count(g->anchors, GPA_ANCHOR_DEVICE) == 0 &&
	    anchors_count(g->anchors, GPA_ANCHOR_RIM) == 0) {
		gpa_err_set(e, "no trust anchors: the pinned NVIDIA roots were dropped and none were named");
		return -1;
	}
	return 0;
}

/* The network side, as the library's config_network sets it up. */
static int engine_network(struct svc_engine *g, struct gpa_err *e)
{
	struct gpa_netglue *n = &g->glue;
	struct gpa_rim_provider net;

	if (http_opts_from_env(&n->http, e) != 0)
		return -1;
	if (g->o.service_key != NULL)
		snprintf(n->http.service_key, sizeof(n->http.service_key), "%s", g->o.service_key);
	if (!g->o.no_cache) {
		struct gpa_err ce = {{0}};
		if ((g->cache = cache_open(g->o.cache_dir, &ce)) == NULL)
			fprintf(stderr, "gpuattest serve: warning: no disk cache: %s\n", ce.msg);
	}
	n->anchors = g->anchors;
	n->allow_hold_rim = g->o.allow_hold_rim;
	n->rims.cache = g->cache;
	/* Cached RIMs are used, and fetched ones stored, only if they verify
	 * (net/collateral.h): with the service's anchors, at its time. */
	n->rims.anchors = g->anchors;
	n->rims.at = g->o.fixed_time ? g->o.at : 0;
	n->rims.service_url = g->o.rim_url;
	n->rims.offline = g->o.offline;
	n->rims.http = &n->http;
	ocsp_opts_default(&n->ocsp);
	n->ocsp.url = g->o.ocsp_url;
	n->ocsp.http = &n->http;
	n->ocsp.offline = g->o.offline;
	n->ocsp.cache = g->cache;
	netglue_rim_source(n, &net);
	if ((g->rims = svc_rim_memo_new(&net)) == NULL ||
	    (g->ocsp = svc_ocsp_memo_new(&n->ocsp, g->anchors, g->o.allow_hold_rim,
	    g->o.ocsp_ttl_s > 0 ? g->o.ocsp_ttl_s : 300)) == NULL) {
		gpa_err_set(e, "out of memory");
		return -1;
	}
	svc_ocsp_memo_stage(g->ocsp, &g->stage);
	return 0;
}

struct svc_engine *svc_engine_new(const struct svc_engine_opts *o, struct gpa_err *e)
{
	struct svc_engine *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		gpa_err_set(e, "out of memory");
		return NULL;
	}
	g->o = *o;
	if (engine_anchors(g, e) != 0 || rim_global_init(e) != 0 || engine_network(g, e) != 0) {
		svc_engine_free(g);
		return NULL;
	}
	for (int i = 0; i < o->nrim_dirs && i < 3; i++)
		g->dirs[i].dir = o->rim_dirs[i];
	return g;
}

void svc_engine_free(struct svc_engine *g)
{
	if (g == NULL)
		return;
	svc_rim_memo_free(g->rims);
	svc_ocsp_memo_free(g->ocsp);
	cache_close(g->cache);
	anchors_free(g->anchors);
	free(g);
}

int svc_engine_verify(struct svc_engine *g, struct svc_request *req, struct evidence_set *held,
    struct gpa_appraisal *out, struct gpa_err *e)
{
	struct gpa_appraise_cfg cfg;
	struct gpa_system_info si;
	struct gpa_rim_dir dirs[3];

	memset(&cfg, 0, sizeof(cfg));
	memset(&si, 0, sizeof(si));
	si.expect_gpus = -1;
	si.expect_switches = -1;
	*held = req->set;	/* the appraisal points into the evidence buffers */
	memset(&req->set, 0, sizeof(req->set));
	cfg.anchors = g->anchors;
	cfg.at = g->o.fixed_time ? g->o.at : time(NULL);
	cfg.have_nonce = true;
	memcpy(cfg.nonce, req->nonce, sizeof(cfg.nonce));
	/* A directory source keeps a name buffer: one copy per request. */
	for (int i = 0; i < g->o.nrim_dirs && i < 3; i++) {
		dirs[i] = g->dirs[i];
		rim_source_dir(&cfg.sources[cfg.nsources++], &dirs[i]);
	}
	svc_rim_memo_provider(g->rims, &cfg.sources[cfg.nsources++]);
	cfg.insecure_no_ocsp = g->o.no_ocsp;
	cfg.ocsp = g->o.no_ocsp ? NULL : &g->stage;
	/* Results from the OCSP memory carry another request's nonce. */
	cfg.ocsp_cache_ok = true;
	cfg.sys = &si;
	return appraise_evidence(&cfg, held, out, e);
}
