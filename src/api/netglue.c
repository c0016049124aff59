/*
 * Glue between the network layer (RIM sources, OCSP) and the appraisal:
 * adapters with the appraisal's source and revocation-stage interfaces.
 * Nothing here judges a result; it only carries it across.
 */
#include "api/netglue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void collateral_log_init(struct gpa_collateral_log *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
}

void collateral_log_destroy(struct gpa_collateral_log *l)
{
	free(l->v);
	pthread_mutex_destroy(&l->mu);
	memset(l, 0, sizeof(*l));
}

void collateral_log_move(struct gpa_collateral_log *l, struct gpa_appraisal *a)
{
	pthread_mutex_lock(&l->mu);
	free(a->collateral);
	a->collateral = l->v;
	a->ncollateral = l->n;
	l->v = NULL;
	l->n = l->cap = 0;
	pthread_mutex_unlock(&l->mu);
}

/* One entry; the same kind, name and source once (chains share answers). */
static void log_add(struct gpa_collateral_log *l, const char *kind, const char *name,
    const char *source, const char *where, const char *discarded)
{
	struct gpa_collateral_use *u;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].kind, kind) == 0 && strcmp(l->v[i].name, name) == 0 &&
		    strcmp(l->v[i].source, source) == 0)
			goto out;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct gpa_collateral_use *nv = realloc(l->v, cap * sizeof(*nv));
		if (nv == NULL)
			goto out;
		l->v = nv;
		l->cap = cap;
	}
	u = &l->v[l->n++];
	str_printf(u->kind, sizeof(u->kind), "%s", kind);
	str_printf(u->name, sizeof(u->name), "%s", name);
	str_printf(u->source, sizeof(u->source), "%s", source);
	str_printf(u->where, sizeof(u->where), "%s", where);
	str_printf(u->discarded, sizeof(u->discarded), "%s", discarded);
out:
	pthread_mutex_unlock(&l->mu);
}

static void net_fetch(void *ctx, const char *const *ids, size_t n, uint8_t **bufs, size_t *lens,
    struct rim **loaded, enum gpa_fetch_status *st, char (*errs)[GPA_FETCH_ERR_LEN])
{
	struct gpa_netglue *g = ctx;
	struct gpa_collateral_rim *f = calloc(n ? n : 1, sizeof(*f));
	struct gpa_err e = {{0}};

	if (f == NULL || collateral_get_rims(&g->rims, ids, n, f, &e) != 0) {
		for (size_t i = 0; i < n; i++) {
			st[i] = GPA_FETCH_ERROR;
			snprintf(errs[i], 256, "%.250s", f == NULL ? "out of memory" : e.msg);
		}
		free(f);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		log_add(g->log, "RIM", ids[i], rim_source_name(f[i].source),
		    f[i].status == GPA_RIM_FETCH_OK ? f[i].where : "", f[i].discarded);
		switch (f[i].status) {
		case GPA_RIM_FETCH_OK:
			st[i] = GPA_FETCH_OK;
			bufs[i] = f[i].xml;
			lens[i] = f[i].len;
			f[i].xml = NULL;
			/* Verified here already: the appraisal need not load it again. */
			if (loaded != NULL) {
				loaded[i] = f[i].rim;
				f[i].rim = NULL;
			}
			snprintf(errs[i], 256, "%.250s", f[i].where);
			break;
		case GPA_RIM_FETCH_NOT_FOUND:
			st[i] = GPA_FETCH_NOT_FOUND;
			snprintf(errs[i], GPA_FETCH_ERR_LEN, "%s", f[i].detail);
			break;
		default:
			st[i] = GPA_FETCH_ERROR;
			snprintf(errs[i], GPA_FETCH_ERR_LEN, "%s", f[i].detail);
			break;
		}
		collateral_rim_clear(&f[i]);
	}
	free(f);
}

void netglue_rim_source(struct gpa_netglue *g, struct gpa_rim_provider *s)
{
	s->name = g->rims.offline ? "RIM directories / collateral bundle / cache (offline)" :
	    "RIM directories / collateral bundle / cache / RIM service";
	s->fetch = net_fetch;
	s->ctx = g;
}

/* What the output says about where revocation answers came from. */
static void describe_sources(const struct gpa_ocsp_chain *r, char *out, size_t len)
{
	long oldest = -1;
	const char *src = NULL;
	bool mixed = false;

	for (int i = 0; i < r->ncerts; i++) {
		const struct gpa_ocsp_cert *c = &r->certs[i];
		if (c->source == GPA_OCSP_FROM_NONE)
			continue;
		if (src != NULL && strcmp(src, ocsp_source_name(c->source)) != 0)
			mixed = true;
		src = ocsp_source_name(c->source);
		if (c->age_s > oldest)
			oldest = c->age_s;
	}
	if (src == NULL)
		snprintf(out, len, "%s", r->detail);
	else
		snprintf(out, len, "%d answer(s) from %s, oldest %ld s old%s%s", r->ncerts,
		    mixed ? "several sources" : src, oldest, r->detail[0] ? "; " : "", r->detail);
}

/* The answers only --max-ocsp-age let through, for the weakenings. */
static void describe_stale(const struct gpa_ocsp_chain *r, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; i < r->ncerts && n + 1 < len; i++) {
		const struct gpa_ocsp_cert *c = &r->certs[i];
		char nu[21];
		int k;

		if (!c->stale_accepted)
			continue;
		time_format_rfc3339(c->next_update, nu);
		k = snprintf(out + n, len - n, "%scertificate %d (CN=%s): answer past its nextUpdate %s",
		    n ? "; " : "", c->index, c->subject_cn, nu);
		if (k > 0)
			n += (size_t)k;
	}
}

/* Each certificate's answer: where it came from, and any cached answer
 * that was dropped on the way. */
static void log_answers(struct gpa_collateral_log *l, const struct gpa_ocsp_job *j)
{
	for (int k = 0; k < j->result.ncerts; k++) {
		const struct gpa_ocsp_cert *c = &j->result.certs[k];
		char name[200];

		str_printf(name, sizeof(name), "CN=%s (CertID %.16s...)", c->subject_cn, c->key);
		log_add(l, "OCSP", name, ocsp_source_name(c->source), c->where, c->note);
	}
}

static void net_ocsp_check(void *ctx, STACK_OF(X509) *const *chains, const enum gpa_anchor_use *uses,
    struct gpa_chain_claims *const *claims, size_t n, time_t at)
{
	struct gpa_netglue *g = ctx;
	struct gpa_ocsp_job *jobs = calloc(n ? n : 1, sizeof(*jobs));
	struct gpa_err e = {{0}};

	if (jobs == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		jobs[i].name = uses[i] == GPA_ANCHOR_RIM ? "RIM chain" : "device chain";
		jobs[i].chain = chains[i];
		jobs[i].anchors = g->anchors;
		jobs[i].use = uses[i];
		jobs[i].first = uses[i] == GPA_ANCHOR_RIM ? GPA_OCSP_FIRST_RIM : GPA_OCSP_FIRST_DEVICE;
		/* A held RIM signing key is NVIDIA's way of pausing a RIM; a
		 * held device certificate is never accepted. */
		jobs[i].allow_hold = uses[i] == GPA_ANCHOR_RIM && g->allow_hold_rim;
	}
	if (ocsp_check_all(&g->ocsp, jobs, n, at, &e) != 0) {
		for (size_t i = 0; i < n; i++) {
			snprintf(claims[i]->ocsp_status, sizeof(claims[i]->ocsp_status), "error");
			snprintf(claims[i]->ocsp_detail, sizeof(claims[i]->ocsp_detail), "%.250s", e.msg);
		}
		free(jobs);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct gpa_ocsp_chain *r = &jobs[i].result;
		struct gpa_chain_claims *c = claims[i];

		snprintf(c->ocsp_status, sizeof(c->ocsp_status), "%s", ocsp_status_name(r->status));
		snprintf(c->revocation_reason, sizeof(c->revocation_reason), "%s",
		    r->revocation_reason ? r->revocation_reason : "");
		c->ocsp_nonce_matches = r->nonce_matches;
		c->ocsp_response_valid = r->response_valid;
		c->hold_allowed = r->hold_allowed;
		describe_sources(r, c->ocsp_detail, sizeof(c->ocsp_detail));
		describe_stale(r, c->ocsp_stale, sizeof(c->ocsp_stale));
		log_answers(g->log, &jobs[i]);
	}
	free(jobs);
}

void netglue_ocsp_stage(struct gpa_netglue *g, struct gpa_ocsp_stage *s)
{
	s->check = net_ocsp_check;
	s->ctx = g;
}
