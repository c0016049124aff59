/*
 * net/ocspfetch: the OCSP answers for every chain of one verification
 * (ocsp_check_all, policy in x509/ocsp.h): one question per distinct CertID,
 * looked up in the bundle and the cache, the rest asked of the responder in
 * one concurrent round; every answer judged by x509/ocsp.c.
 *
 * Must never: call a certificate good on an answer x509 did not judge good;
 * trust a cached or bundled answer's nonce.
 */
#include "x509/ocsp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/bundle.h"
#include "net/cache.h"
#include "util/pool.h"
/* ---- all chains of one verification ---------------------------------- */

/* One distinct CertID: one question, asked once. */
struct question {
	struct gpa_ocsp_query q;
	uint8_t *der;			/* the answer's bytes */
	size_t len;
	OCSP_BASICRESP *bs;		/* and decoded, when a stored answer was checked */
	size_t first_slot;		/* the slot whose judgement the others copy */
	enum gpa_ocsp_source src;
	bool failed;			/* asked, but no usable HTTP answer */
	bool any_valid;
	char why[256];
	char note[GPA_OCSP_NOTE];	/* a cached answer that did not verify, removed */
	char where[GPA_OCSP_NOTE];	/* where the answer judged came from */
	long http_index;
	/* The judgement of the answer, done once per question and trust use:
	 * several chains share a certificate (GPUs share their intermediates). */
	bool judged;
	enum gpa_anchor_use judged_use;
	bool judged_allow_hold;
	struct gpa_ocsp_cert judged_res;
};

/* One certificate of one job, pointing at its question. */
struct slot {
	struct gpa_ocsp_job *job;
	struct gpa_ocsp_cert *res;
	struct question *qn;
};

struct run {
	const struct gpa_ocsp_opts *o;
	struct gpa_http_opts http;
	time_t at;
	struct question *qs;
	size_t nq, capq;
	struct slot *slots;
	size_t nslots;
};

static struct question *find_or_add_question(struct run *rn, X509 *cert, X509 *issuer,
    struct gpa_err *e)
{
	struct gpa_ocsp_query q;
	OCSP_CERTID *id;
	char key[65];

	/* The request (and its nonce) only for a certificate not yet asked
	 * about: the GPUs' chains share their intermediates. */
	if ((id = ocsp_certid_new(cert, issuer, key, e)) == NULL)
		return NULL;
	for (size_t i = 0; i < rn->nq; i++) {
		if (strcmp(rn->qs[i].q.key, key) == 0) {
			OCSP_CERTID_free(id);
			return &rn->qs[i];
		}
	}
	if (ocsp_query_from_id(&q, cert, issuer, id, key, e) != 0)
		return NULL;
	memset(&rn->qs[rn->nq], 0, sizeof(rn->qs[rn->nq]));
	rn->qs[rn->nq].q = q;
	rn->qs[rn->nq].http_index = -1;
	rn->qs[rn->nq].first_slot = SIZE_MAX;
	return &rn->qs[rn->nq++];
}

static int plan_job(struct run *rn, struct gpa_ocsp_job *j, struct gpa_err *e)
{
	struct gpa_ocsp_chain *c = &j->result;
	int n = j->chain ? sk_X509_num(j->chain) : 0;

	memset(c, 0, sizeof(*c));
	if (n > GPA_OCSP_MAX_CHAIN || n < 2 || j->first < 0 || j->first > n - 2) {
		c->status = n > GPA_OCSP_MAX_CHAIN ? GPA_OCSP_ERROR : GPA_OCSP_NOT_CHECKED;
		snprintf(c->detail, sizeof(c->detail), "%s: chain of %d certificates: nothing to check",
		    j->name ? j->name : "chain", n);
		return 0;
	}
	/* Root-most first, the order NVIDIA's SDK walks the chain. */
	for (int i = n - 2; i >= j->first; i--) {
		struct gpa_ocsp_cert *r = &c->certs[c->ncerts++];
		X509 *cert = sk_X509_value(j->chain, i);
		char *cn = cert_subject_cn(cert);
		struct slot *s = &rn->slots[rn->nslots++];

		r->index = i;
		r->reason = -1;
		snprintf(r->subject_cn, sizeof(r->subject_cn), "%s", cn ? cn : "");
		free(cn);
		s->job = j;
		s->res = r;
		if ((s->qn = find_or_add_question(rn, cert, sk_X509_value(j->chain, i + 1), e)) == NULL) {
			gpa_err_prefix(e, "%s: certificate %d", j->name ? j->name : "chain", i);
			return -1;
		}
		if (s->qn->first_slot == SIZE_MAX)
			s->qn->first_slot = rn->nslots - 1;
		memcpy(r->key, s->qn->q.key, sizeof(r->key));
	}
	return 0;
}

/* Bundle, then cache (when allowed); otherwise it will be asked. */
static void answer_offline(struct run *rn, struct question *qn)
{
	const struct gpa_ocsp_opts *o = rn->o;
	struct gpa_err ce;

	if (o->bundle != NULL) {
		const struct gpa_bundle_item *it = bundle_get_ocsp(o->bundle, qn->q.key);
		time_t nu = 0;
		/* Online, a bundled answer past nextUpdate gives way to a fresh one. */
		if (it != NULL && !o->offline) {
			qn->bs = ocsp_response_parse(it->data, it->len, qn->q.key, &nu);
			if (qn->bs == NULL || nu + o->skew_s < rn->at) {
				OCSP_BASICRESP_free(qn->bs);
				qn->bs = NULL;
				it = NULL;
			}
		}
		if (it != NULL && (qn->der = malloc(it->len ? it->len : 1)) != NULL) {
			memcpy(qn->der, it->data, it->len);
			qn->len = it->len;
			qn->src = GPA_OCSP_FROM_BUNDLE;
			str_printf(qn->where, sizeof(qn->where), "bundle %s",
			    o->bundle_path ? o->bundle_path : "(in memory)");
			return;
		}
		OCSP_BASICRESP_free(qn->bs);
		qn->bs = NULL;
	}
	if (o->cache != NULL && o->cache_ok) {
		char path[4096];
		if (cache_ocsp_get(o->cache, qn->q.key, rn->at, &qn->der, &qn->len, &qn->bs, &ce) == 1) {
			qn->src = GPA_OCSP_FROM_CACHE;
			if (cache_ocsp_path(o->cache, qn->q.key, path, sizeof(path)) == 0)
				str_printf(qn->where, sizeof(qn->where), "cache %s", path);
			return;
		}
		/* Stored, but no answer for this certificate: dropped. */
		if (ce.msg[0] != '\0')
			str_printf(qn->note, sizeof(qn->note), "%s", ce.msg);
	}
	if (o->offline)
		str_printf(qn->why, sizeof(qn->why), "offline and no %s response for this certificate",
		    o->bundle ? "bundled" : o->cache_ok ? "cached" : "stored");
}

static void take_http_answer(struct run *rn, struct question *qn, struct gpa_http_resp *hr)
{
	const char *url = rn->o->url ? rn->o->url : GPA_OCSP_DEFAULT_URL;

	qn->failed = true;
	if (!hr->ok)
		str_printf(qn->why, sizeof(qn->why), "OCSP responder %s: %s", url, hr->error);
	else if (hr->status == 401 || hr->status == 403)
		str_printf(qn->why, sizeof(qn->why),
		    "OCSP responder %s: access refused (HTTP %ld): check the service key", url, hr->status);
	else if (hr->status != 200)
		str_printf(qn->why, sizeof(qn->why), "OCSP responder %s: HTTP %ld", url, hr->status);
	else if (strcmp(hr->content_type, "application/ocsp-response") != 0)
		str_printf(qn->why, sizeof(qn->why), "OCSP responder %s: Content-Type \"%s\", not "
		    "application/ocsp-response", url, hr->content_type);
	else if (hr->len == 0)
		str_printf(qn->why, sizeof(qn->why), "OCSP responder %s: empty response", url);
	else {
		qn->failed = false;
		qn->der = hr->body;
		qn->len = hr->len;
		qn->src = GPA_OCSP_FROM_RESPONDER;
		str_printf(qn->where, sizeof(qn->where), "OCSP responder %s", url);
		hr->body = NULL;
		hr->len = 0;
	}
}

static int ask_responder(struct run *rn, struct gpa_err *e)
{
	struct gpa_http_req *reqs = calloc(rn->nq ? rn->nq : 1, sizeof(*reqs));
	struct gpa_http_resp *resps = calloc(rn->nq ? rn->nq : 1, sizeof(*resps));
	uint8_t **bodies = calloc(rn->nq ? rn->nq : 1, sizeof(*bodies));
	size_t n = 0;
	int rc = -1;

	if (reqs == NULL || resps == NULL || bodies == NULL) {
		gpa_err_set(e, "OCSP: out of memory");
		goto out;
	}
	for (size_t i = 0; i < rn->nq; i++) {
		struct question *qn = &rn->qs[i];
		size_t len;
		if (qn->der != NULL || rn->o->offline)
			continue;
		if (ocsp_query_der(&qn->q, &bodies[n], &len, e) != 0)
			goto out;
		reqs[n] = (struct gpa_http_req){
			.method = "POST", .url = rn->o->url ? rn->o->url : GPA_OCSP_DEFAULT_URL,
			.body = bodies[n], .body_len = len,
			.content_type = "application/ocsp-request",
			.accept = "application/ocsp-response", .max_body = GPA_OCSP_MAX_RESPONSE,
		};
		qn->http_index = (long)n++;
	}
	if (n > 0)
		http_wait_begin(&rn->http, "the OCSP responder at %s (%zu certificate%s)",
		    rn->o->url ? rn->o->url : GPA_OCSP_DEFAULT_URL, n, n == 1 ? "" : "s");
	if (http_perform_all(&rn->http, reqs, resps, n, e) != 0) {
		if (n > 0)
			http_wait_end(&rn->http);
		gpa_err_prefix(e, "OCSP");
		goto out;
	}
	if (n > 0)
		http_wait_end(&rn->http);
	for (size_t i = 0; i < rn->nq; i++)
		if (rn->qs[i].http_index >= 0)
			take_http_answer(rn, &rn->qs[i], &resps[rn->qs[i].http_index]);
	rc = 0;
out:
	for (size_t i = 0; i < n; i++) {
		free(bodies[i]);
		http_resp_clear(&resps[i]);
	}
	free(bodies);
	free(reqs);
	free(resps);
	return rc;
}

static void judge_slot_answer(struct run *rn, struct slot *s)
{
	struct gpa_ocsp_job *j = s->job;
	struct question *qn = s->qn;
	struct gpa_ocsp_cert *r = s->res;

	if (qn->der == NULL) {
		r->status = qn->failed ? GPA_OCSP_ERROR : GPA_OCSP_NOT_CHECKED;
		r->source = GPA_OCSP_FROM_NONE;
		snprintf(r->detail, sizeof(r->detail), "%s", qn->why[0] ? qn->why : "no response");
		return;
	}
	if (qn->judged && qn->judged_use == j->use && qn->judged_allow_hold == j->allow_hold) {
		struct gpa_ocsp_cert mine = *r;
		*r = qn->judged_res;
		r->index = mine.index;
		memcpy(r->subject_cn, mine.subject_cn, sizeof(r->subject_cn));
		return;
	}
	ocsp_judge(qn->bs, qn->der, qn->len, &qn->q, qn->src, j->chain, j->anchors, j->use,
	    rn->at, rn->o, j->allow_hold, r);
	if (r->response_valid)
		qn->any_valid = true;
	qn->judged = true;
	qn->judged_use = j->use;
	qn->judged_allow_hold = j->allow_hold;
	qn->judged_res = *r;
}

static void judge_slot(struct run *rn, struct slot *s)
{
	judge_slot_answer(rn, s);
	str_printf(s->res->note, sizeof(s->res->note), "%s", s->qn->note);
	str_printf(s->res->where, sizeof(s->res->where), "%s", s->qn->der ? s->qn->where : "");
}

/* A cached answer that does not verify now (corrupt, another PKI, a bad
 * signature, stale) is no answer: it is removed, the responder is asked
 * instead (unless offline), and the output says so. Never a finding about
 * the certificate. */
static void drop_bad_cached(struct run *rn, struct question *qn)
{
	struct gpa_err ce;
	char why[256];

	if (qn->src != GPA_OCSP_FROM_CACHE || !qn->judged || qn->judged_res.response_valid)
		return;
	snprintf(why, sizeof(why), "%s", qn->judged_res.detail);
	if (cache_ocsp_remove(rn->o->cache, qn->q.key, &ce) == 0)
		str_printf(qn->note, sizeof(qn->note), "the cached answer %s does not verify now (%s): "
		    "removed from the cache", qn->where + strlen("cache "), why);
	else
		str_printf(qn->note, sizeof(qn->note), "the cached answer %s does not verify now (%s) "
		    "and could not be removed: %s", qn->where + strlen("cache "), why, ce.msg);
	qn->where[0] = '\0';
	OCSP_BASICRESP_free(qn->bs);
	qn->bs = NULL;
	free(qn->der);
	qn->der = NULL;
	qn->len = 0;
	qn->src = GPA_OCSP_FROM_NONE;
	qn->judged = false;
	qn->any_valid = false;
	if (rn->o->offline)
		str_printf(qn->why, sizeof(qn->why), "offline, and %s", qn->note);
}

/* Stored answers first: each question's bundle or cache lookup, and the
 * judgement of what it found, on the pool's threads (decoding and checking
 * a signature cost about the same for every answer). */
static void offline_one(void *arg, size_t i)
{
	struct run *rn = arg;
	struct question *qn = &rn->qs[i];

	answer_offline(rn, qn);
	if (qn->der != NULL && qn->first_slot != SIZE_MAX) {
		judge_slot(rn, &rn->slots[qn->first_slot]);
		drop_bad_cached(rn, qn);
	}
}

/* The answers that came from the responder. */
static void judge_one(void *arg, size_t i)
{
	struct run *rn = arg;
	struct question *qn = &rn->qs[i];

	if (!qn->judged && qn->first_slot != SIZE_MAX)
		judge_slot(rn, &rn->slots[qn->first_slot]);
}

/* Every slot from its question's judgement (a slot whose chain has another
 * use or hold setting than the first is judged on its own). */
static void judge_rest(struct run *rn)
{
	for (size_t i = 0; i < rn->nslots; i++)
		judge_slot(rn, &rn->slots[i]);
}

/* Stores usable answers: fresh ones in the cache, all in the record bundle. */
static int keep_answers(struct run *rn, struct gpa_err *e)
{
	const struct gpa_ocsp_opts *o = rn->o;

	for (size_t i = 0; i < rn->nq; i++) {
		struct question *qn = &rn->qs[i];
		struct gpa_err ce;
		if (!qn->any_valid)
			continue;
		if (o->cache != NULL && qn->src == GPA_OCSP_FROM_RESPONDER)
			(void)cache_ocsp_put(o->cache, qn->q.key, qn->der, qn->len, &ce);
		if (o->record != NULL && bundle_add_ocsp(o->record, qn->q.key, qn->der, qn->len, e) != 0)
			return -1;
	}
	return 0;
}

static void aggregate(struct gpa_ocsp_chain *c)
{
	bool any_err = false, any_nc = false, any_unk = false, any_rev = false, all_held = true;
	bool reason_is_hold = false;

	if (c->ncerts == 0) {
		if (c->status != GPA_OCSP_ERROR)
			c->status = GPA_OCSP_NOT_CHECKED;
		return;
	}
	c->nonce_matches = c->response_valid = c->passed = true;
	for (int k = 0; k < c->ncerts; k++) {
		struct gpa_ocsp_cert *r = &c->certs[k];
		c->nonce_matches &= r->nonce_matches;
		c->response_valid &= r->response_valid;
		c->passed &= r->response_valid && (r->status == GPA_OCSP_GOOD ||
		    (r->status == GPA_OCSP_REVOKED && r->hold_allowed));
		switch (r->status) {
		case GPA_OCSP_REVOKED:
			/* Root-most wins, but a real revocation beats an allowed hold. */
			if (!any_rev || (reason_is_hold && !r->hold_allowed)) {
				c->revocation_reason = r->reason_name;
				reason_is_hold = r->hold_allowed;
			}
			any_rev = true;
			all_held &= r->hold_allowed;
			break;
		case GPA_OCSP_ERROR: any_err = true; break;
		case GPA_OCSP_NOT_CHECKED: any_nc = true; break;
		case GPA_OCSP_UNKNOWN: any_unk = true; break;
		case GPA_OCSP_GOOD: break;
		}
		if (c->detail[0] == 0 && r->status != GPA_OCSP_GOOD)
			str_printf(c->detail, sizeof(c->detail), "certificate %d (%s): %s", r->index,
			    r->subject_cn, r->detail);
	}
	c->status = any_rev ? GPA_OCSP_REVOKED : any_err ? GPA_OCSP_ERROR :
	    any_nc ? GPA_OCSP_NOT_CHECKED : any_unk ? GPA_OCSP_UNKNOWN : GPA_OCSP_GOOD;
	c->hold_allowed = any_rev && all_held;
}

static int check_jobs(const struct gpa_ocsp_job *jobs, size_t njobs, size_t *ncerts,
    struct gpa_err *e)
{
	*ncerts = 0;
	if (njobs > 1024) {
		gpa_err_set(e, "OCSP: too many chains (%zu)", njobs);
		return -1;
	}
	for (size_t i = 0; i < njobs; i++) {
		int n = jobs[i].chain ? sk_X509_num(jobs[i].chain) : 0;
		if (!ocsp_anchors_usable(jobs[i].anchors, jobs[i].use)) {
			gpa_err_set(e, "OCSP: %s: no trust anchors", jobs[i].name ? jobs[i].name : "chain");
			return -1;
		}
		if (n > 1 && n <= GPA_OCSP_MAX_CHAIN)
			*ncerts += (size_t)n;
	}
	return 0;
}

int ocsp_check_all(const struct gpa_ocsp_opts *o, struct gpa_ocsp_job *jobs, size_t njobs,
    time_t at, struct gpa_err *e)
{
	struct run rn;
	size_t ncerts;
	int rc = -1;

	memset(&rn, 0, sizeof(rn));
	rn.o = o;
	rn.at = at;
	if (o->http)
		rn.http = *o->http;
	else
		http_opts_default(&rn.http);
	if (check_jobs(jobs, njobs, &ncerts, e) != 0)
		return -1;
	rn.qs = calloc(ncerts + 1, sizeof(*rn.qs));
	rn.slots = calloc(ncerts + 1, sizeof(*rn.slots));
	if (rn.qs == NULL || rn.slots == NULL) {
		gpa_err_set(e, "OCSP: out of memory");
		goto out;
	}
	for (size_t i = 0; i < njobs; i++)
		if (plan_job(&rn, &jobs[i], e) != 0)
			goto out;
	parallel_for(rn.nq, 0, offline_one, &rn);
	if (!o->offline && ask_responder(&rn, e) != 0)
		goto out;
	parallel_for(rn.nq, 0, judge_one, &rn);
	judge_rest(&rn);
	if (keep_answers(&rn, e) != 0)
		goto out;
	for (size_t i = 0; i < njobs; i++)
		aggregate(&jobs[i].result);
	rc = 0;
out:
	for (size_t i = 0; i < rn.nq; i++) {
		ocsp_query_clear(&rn.qs[i].q);
		OCSP_BASICRESP_free(rn.qs[i].bs);
		free(rn.qs[i].der);
	}
	free(rn.qs);
	free(rn.slots);
	return rc;
}
