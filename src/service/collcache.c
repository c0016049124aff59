/*
 * The service's collateral memory, per process: RIM documents and OCSP
 * results, each key fetched at most once at a time (single flight: the
 * first request that misses fetches, the others that need the same key
 * meanwhile wait for its outcome), so a burst of verifications of one
 * fleet costs NVIDIA's services one request per RIM and per certificate.
 *
 * What is remembered is bytes and findings, never trust:
 *   - a RIM document is handed to the appraisal as if just fetched, and its
 *     XML signature, chain and version are judged on every use (the
 *     signature memory makes the repeat cheap);
 *   - an OCSP result is kept only when every certificate's answer verified,
 *     carried the nonce it was asked with and said "good", until the
 *     earliest nextUpdate among them or the TTL (--ocsp-ttl), whichever is
 *     first; a reused result keeps the nonce check of the fetch that got it
 *     (as NVIDIA's caching OCSP client does, attestation-formats.md §6.6)
 *     and says how old it is. Revoked or failed results are never kept.
 *     See docs/decisions.md, "Verifier service".
 */
#include "service/service.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "x509/ocsp.h"

#define MEMO_MAX 1024

enum memo_state { MEMO_EMPTY, MEMO_LOADING, MEMO_READY, MEMO_FAILED };

/* ---- RIM documents ---- */

struct rim_entry {
	char id[128];
	enum memo_state state;
	uint8_t *buf;
	size_t len;
	char note[256];		/* where it came from, or why it could not be had */
};

struct svc_rim_memo {
	struct gpa_rim_provider inner;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t n;
	struct rim_entry e[MEMO_MAX];
};

struct svc_rim_memo *svc_rim_memo_new(const struct gpa_rim_provider *inner)
{
	struct svc_rim_memo *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->inner = *inner;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	return m;
}

void svc_rim_memo_free(struct svc_rim_memo *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].buf);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m);
}

static struct rim_entry *rim_find(struct svc_rim_memo *m, const char *id, bool create)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].id, id) == 0)
			return &m->e[i];
	if (!create || m->n == MEMO_MAX || strlen(id) >= sizeof(m->e[0].id))
		return NULL;
	struct rim_entry *e = &m->e[m->n++];
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->state = MEMO_EMPTY;
	return e;
}

static int copy_out(const struct rim_entry *e, uint8_t **buf, size_t *len)
{
	if ((*buf = malloc(e->len + 1)) == NULL)
		return -1;
	memcpy(*buf, e->buf, e->len);
	(*buf)[e->len] = '\0';
	*len = e->len;
	return 0;
}

/* The ids this call must fetch itself (mine), and those another call is
 * fetching (wait); the others are answered from memory now. */
enum rim_role { ROLE_DONE, ROLE_MINE, ROLE_WAIT, ROLE_PASS };

static void rim_claim(struct svc_rim_memo *m, const char *const *ids, size_t n, uint8_t **bufs,
    size_t *lens, enum gpa_fetch_status *st, char (*errs)[GPA_FETCH_ERR_LEN], enum rim_role *role)
{
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < n; i++) {
		struct rim_entry *e = rim_find(m, ids[i], true);
		if (e == NULL)
			role[i] = ROLE_PASS;	/* memory full: fetched, not kept */
		else if (e->state == MEMO_READY && copy_out(e, &bufs[i], &lens[i]) == 0) {
			role[i] = ROLE_DONE;
			st[i] = GPA_FETCH_OK;
			snprintf(errs[i], 256, "service memory (%.200s)", e->note);
			svc_metrics_cache("rim", true);
		} else if (e->state == MEMO_LOADING)
			role[i] = ROLE_WAIT;
		else {
			e->state = MEMO_LOADING;
			role[i] = ROLE_MINE;
			svc_metrics_cache("rim", false);
		}
	}
	pthread_mutex_unlock(&m->mu);
}

static void rim_fetch_mine(struct svc_rim_memo *m, const char *const *ids, size_t n, uint8_t **bufs,
    size_t *lens, enum gpa_fetch_status *st, char (*errs)[GPA_FETCH_ERR_LEN], const enum rim_role *role)
{
	const char **sub = calloc(n, sizeof(*sub));
	size_t *map = calloc(n, sizeof(*map)), k = 0;
	uint8_t **sb = calloc(n, sizeof(*sb));
	size_t *sl = calloc(n, sizeof(*sl));
	enum gpa_fetch_status *ss = calloc(n, sizeof(*ss));
	char (*se)[GPA_FETCH_ERR_LEN] = calloc(n, sizeof(*se));

	if (sub && map && sb && sl && ss && se) {
		for (size_t i = 0; i < n; i++)
			if (role[i] == ROLE_MINE || role[i] == ROLE_PASS) {
				map[k] = i;
				sub[k++] = ids[i];
			}
		if (k > 0)
			m->inner.fetch(m->inner.ctx, sub, k, sb, sl, NULL, ss, se);
	} else {
		for (size_t j = 0; j < n; j++) {
			map[j] = j;
			ss[j] = GPA_FETCH_ERROR;
			snprintf(se[j], 256, "out of memory");
		}
		k = 0;
		for (size_t i = 0; i < n; i++)
			if (role[i] == ROLE_MINE || role[i] == ROLE_PASS)
				k++;
	}
	pthread_mutex_lock(&m->mu);
	for (size_t j = 0; j < k && sub && map && sb && sl && ss && se; j++) {
		size_t i = map[j];
		bufs[i] = sb[j];
		lens[i] = sl[j];
		st[i] = ss[j];
		memcpy(errs[i], se[j], 256);
		if (role[i] != ROLE_MINE)
			continue;
		struct rim_entry *e = rim_find(m, ids[i], false);
		snprintf(e->note, sizeof(e->note), "%s", se[j]);
		e->state = MEMO_FAILED;
		if (ss[j] == GPA_FETCH_OK && (e->buf = malloc(sl[j] + 1)) != NULL) {
			memcpy(e->buf, sb[j], sl[j]);
			e->len = sl[j];
			e->state = MEMO_READY;
		}
	}
	/* An allocation failure above leaves entries LOADING: release them. */
	for (size_t i = 0; i < n; i++) {
		struct rim_entry *e = role[i] == ROLE_MINE ? rim_find(m, ids[i], false) : NULL;
		if (e != NULL && e->state == MEMO_LOADING) {
			e->state = MEMO_FAILED;
			snprintf(e->note, sizeof(e->note), "out of memory");
			st[i] = GPA_FETCH_ERROR;
			snprintf(errs[i], 256, "out of memory");
		}
	}
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	free(sub);
	free(map);
	free(sb);
	free(sl);
	free(ss);
	free(se);
}

static void rim_wait(struct svc_rim_memo *m, const char *const *ids, size_t n, uint8_t **bufs,
    size_t *lens, enum gpa_fetch_status *st, char (*errs)[GPA_FETCH_ERR_LEN], const enum rim_role *role)
{
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < n; i++) {
		if (role[i] != ROLE_WAIT)
			continue;
		struct rim_entry *e = rim_find(m, ids[i], false);
		while (e->state == MEMO_LOADING)
			pthread_cond_wait(&m->cv, &m->mu);
		if (e->state == MEMO_READY && copy_out(e, &bufs[i], &lens[i]) == 0) {
			st[i] = GPA_FETCH_OK;
			snprintf(errs[i], 256, "service memory (%.200s)", e->note);
			svc_metrics_cache("rim", true);
		} else {
			/* The fetch this request waited for failed: its reason,
			 * not a second request at once (the next request tries). */
			st[i] = GPA_FETCH_ERROR;
			snprintf(errs[i], 256, "%.250s", e->note);
		}
	}
	pthread_mutex_unlock(&m->mu);
}

static void rim_memo_fetch(void *ctx, const char *const *ids, size_t n, uint8_t **bufs, size_t *lens,
    struct rim **loaded, enum gpa_fetch_status *st, char (*errs)[GPA_FETCH_ERR_LEN])
{
	struct svc_rim_memo *m = ctx;
	enum rim_role *role = calloc(n ? n : 1, sizeof(*role));

	(void)loaded;	/* the memory hands out bytes, judged again on every use */

	if (role == NULL) {
		m->inner.fetch(m->inner.ctx, ids, n, bufs, lens, NULL, st, errs);
		return;
	}
	rim_claim(m, ids, n, bufs, lens, st, errs, role);
	rim_fetch_mine(m, ids, n, bufs, lens, st, errs, role);
	rim_wait(m, ids, n, bufs, lens, st, errs, role);
	free(role);
}

void svc_rim_memo_provider(struct svc_rim_memo *m, struct gpa_rim_provider *out)
{
	out->name = "service memory, then collateral bundle / cache / RIM service";
	out->fetch = rim_memo_fetch;
	out->ctx = m;
}

/* ---- OCSP results ---- */

struct ocsp_entry {
	uint8_t key[32];
	enum memo_state state;
	time_t fetched, expires;
	struct gpa_chain_claims claims;	/* the ocsp_* fields */
};

struct svc_ocsp_memo {
	struct gpa_ocsp_opts opts;
	const struct gpa_anchors *anchors;
	bool allow_hold_rim;
	long ttl_s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t n;
	struct ocsp_entry e[MEMO_MAX];
};

struct svc_ocsp_memo *svc_ocsp_memo_new(const struct gpa_ocsp_opts *o, const struct gpa_anchors *a,
    bool allow_hold_rim, long ttl_s)
{
	struct svc_ocsp_memo *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->opts = *o;
	m->anchors = a;
	m->allow_hold_rim = allow_hold_rim;
	m->ttl_s = ttl_s;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	return m;
}

void svc_ocsp_memo_free(struct svc_ocsp_memo *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m);
}

/* The key binds every certificate of the chain as presented, the use and
 * whether a hold is allowed: the inputs of the result. */
static bool chain_key(STACK_OF(X509) *chain, enum gpa_anchor_use use, bool hold, uint8_t key[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t hdr[2] = { (uint8_t)use, hold };

	memset(key, 0, 32);
	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		return false;	/* not remembered: fetched for this request alone */
	}
	EVP_DigestUpdate(c, hdr, sizeof(hdr));
	for (int i = 0; i < sk_X509_num(chain); i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(sk_X509_value(chain, i), &der);
		uint8_t l4[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };
		EVP_DigestUpdate(c, l4, 4);
		if (len > 0)
			EVP_DigestUpdate(c, der, (size_t)len);
		OPENSSL_free(der);
	}
	bool ok = EVP_DigestFinal_ex(c, key, NULL) == 1;
	EVP_MD_CTX_free(c);
	return ok;
}

static struct ocsp_entry *ocsp_find(struct svc_ocsp_memo *m, const uint8_t key[32], time_t at, bool create)
{
	struct ocsp_entry *victim = NULL;

	for (size_t i = 0; i < m->n; i++) {
		if (memcmp(m->e[i].key, key, 32) == 0)
			return &m->e[i];
		/* An expired result's slot is reused before the table grows. */
		if (victim == NULL && m->e[i].state != MEMO_LOADING &&
		    (m->e[i].state != MEMO_READY || m->e[i].expires < at))
			victim = &m->e[i];
	}
	if (!create)
		return NULL;
	if (victim == NULL) {
		if (m->n == MEMO_MAX)
			return NULL;
		victim = &m->e[m->n++];
	}
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->key, key, 32);
	return victim;
}

static void copy_ocsp(struct gpa_chain_claims *dst, const struct gpa_chain_claims *src)
{
	memcpy(dst->ocsp_status, src->ocsp_status, sizeof(dst->ocsp_status));
	memcpy(dst->revocation_reason, src->revocation_reason, sizeof(dst->revocation_reason));
	dst->ocsp_nonce_matches = src->ocsp_nonce_matches;
	dst->ocsp_response_valid = src->ocsp_response_valid;
	dst->hold_allowed = src->hold_allowed;
	memcpy(dst->ocsp_detail, src->ocsp_detail, sizeof(dst->ocsp_detail));
}

static void reuse(const struct ocsp_entry *e, struct gpa_chain_claims *c, time_t at)
{
	/* ocsp_nonce_matches is the fetch's, always true here (only such
	 * results are kept); the detail says the answer is not this request's. */
	copy_ocsp(c, &e->claims);
	snprintf(c->ocsp_detail, sizeof(c->ocsp_detail),
	    "answers verified by this service %ld s ago, kept until %ld s from now (nextUpdate or --ocsp-ttl)",
	    (long)(at - e->fetched), (long)(e->expires - at));
}

/* The earliest nextUpdate of the chain's answers, capped by the TTL. */
static time_t result_expiry(const struct gpa_ocsp_chain *r, time_t at, long ttl_s)
{
	time_t exp = at + ttl_s;

	for (int i = 0; i < r->ncerts; i++) {
		time_t nu = r->certs[i].next_update;
		if (nu == 0)
			nu = r->certs[i].this_update + GPA_OCSP_NO_NEXT_UPDATE_S;
		if (nu < exp)
			exp = nu;
	}
	return exp;
}

static void fill_claims(const struct gpa_ocsp_chain *r, struct gpa_chain_claims *c)
{
	snprintf(c->ocsp_status, sizeof(c->ocsp_status), "%s", ocsp_status_name(r->status));
	snprintf(c->revocation_reason, sizeof(c->revocation_reason), "%s",
	    r->revocation_reason ? r->revocation_reason : "");
	c->ocsp_nonce_matches = r->nonce_matches;
	c->ocsp_response_valid = r->response_valid;
	c->hold_allowed = r->hold_allowed;
	snprintf(c->ocsp_detail, sizeof(c->ocsp_detail), "%d answer(s) from the responder%s%.200s",
	    r->ncerts, r->detail[0] ? "; " : "", r->detail);
}

static void ocsp_fetch_mine(struct svc_ocsp_memo *m, STACK_OF(X509) *const *chains,
    const enum gpa_anchor_use *uses, struct gpa_chain_claims *const *claims, size_t n, time_t at,
    const uint8_t (*keys)[32], const enum rim_role *role)
{
	struct gpa_ocsp_job *jobs = calloc(n ? n : 1, sizeof(*jobs));
	size_t *map = calloc(n ? n : 1, sizeof(*map)), k = 0;
	struct gpa_err e = {{0}};
	int rc = -1;

	if (jobs != NULL && map != NULL) {
		for (size_t i = 0; i < n; i++) {
			if (role[i] != ROLE_MINE && role[i] != ROLE_PASS)
				continue;
			struct gpa_ocsp_job *j = &jobs[k];
			map[k++] = i;
			j->name = uses[i] == GPA_ANCHOR_RIM ? "RIM chain" : "device chain";
			j->chain = chains[i];
			j->anchors = m->anchors;
			j->use = uses[i];
			j->first = uses[i] == GPA_ANCHOR_RIM ? GPA_OCSP_FIRST_RIM : GPA_OCSP_FIRST_DEVICE;
			j->allow_hold = uses[i] == GPA_ANCHOR_RIM && m->allow_hold_rim;
		}
		rc = k > 0 ? ocsp_check_all(&m->opts, jobs, k, at, &e) : 0;
		if (rc != 0)
			svc_metrics_error("ocsp");
	} else
		snprintf(e.msg, sizeof(e.msg), "out of memory");
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0, j = 0; i < n; i++) {
		if (role[i] != ROLE_MINE && role[i] != ROLE_PASS)
			continue;
		struct gpa_chain_claims *c = claims[i];
		const struct gpa_ocsp_chain *r = rc == 0 && map ? &jobs[j].result : NULL;
		j++;
		if (r != NULL)
			fill_claims(r, c);
		else {
			snprintf(c->ocsp_status, sizeof(c->ocsp_status), "error");
			snprintf(c->ocsp_detail, sizeof(c->ocsp_detail), "%.250s", e.msg);
		}
		struct ocsp_entry *en = role[i] == ROLE_MINE ? ocsp_find(m, keys[i], at, false) : NULL;
		if (en == NULL)
			continue;
		copy_ocsp(&en->claims, c);
		en->fetched = at;
		en->state = MEMO_FAILED;
		if (r != NULL && r->passed && r->status == GPA_OCSP_GOOD && r->response_valid &&
		    r->nonce_matches) {
			en->expires = result_expiry(r, at, m->ttl_s);
			if (en->expires > at)
				en->state = MEMO_READY;
		}
	}
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	free(jobs);
	free(map);
}

static void ocsp_memo_check(void *ctx, STACK_OF(X509) *const *chains, const enum gpa_anchor_use *uses,
    struct gpa_chain_claims *const *claims, size_t n, time_t at)
{
	struct svc_ocsp_memo *m = ctx;
	uint8_t (*keys)[32] = calloc(n ? n : 1, 32);
	enum rim_role *role = calloc(n ? n : 1, sizeof(*role));

	if (keys == NULL || role == NULL) {
		for (size_t i = 0; i < n; i++) {
			snprintf(claims[i]->ocsp_status, sizeof(claims[i]->ocsp_status), "error");
			snprintf(claims[i]->ocsp_detail, sizeof(claims[i]->ocsp_detail), "out of memory");
		}
		free(keys);
		free(role);
		return;
	}
	bool *keyed = calloc(n ? n : 1, sizeof(*keyed));
	for (size_t i = 0; i < n && keyed; i++)
		keyed[i] = chain_key(chains[i], uses[i], uses[i] == GPA_ANCHOR_RIM && m->allow_hold_rim, keys[i]);
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < n; i++) {
		struct ocsp_entry *e = keyed && keyed[i] ? ocsp_find(m, keys[i], at, true) : NULL;
		if (e == NULL)
			role[i] = ROLE_PASS;
		else if (e->state == MEMO_READY && at >= e->fetched && at <= e->expires) {
			reuse(e, claims[i], at);
			role[i] = ROLE_DONE;
			svc_metrics_cache("ocsp", true);
		} else if (e->state == MEMO_LOADING)
			role[i] = ROLE_WAIT;
		else {
			e->state = MEMO_LOADING;
			role[i] = ROLE_MINE;
			svc_metrics_cache("ocsp", false);
		}
	}
	pthread_mutex_unlock(&m->mu);
	free(keyed);
	ocsp_fetch_mine(m, chains, uses, claims, n, at, (const uint8_t (*)[32])keys, role);
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < n; i++) {
		if (role[i] != ROLE_WAIT)
			continue;
		struct ocsp_entry *e = ocsp_find(m, keys[i], at, false);
		while (e != NULL && e->state == MEMO_LOADING)
			pthread_cond_wait(&m->cv, &m->mu);
		if (e != NULL && e->state == MEMO_READY) {
			reuse(e, claims[i], at);
			svc_metrics_cache("ocsp", true);
		} else if (e != NULL) {
			/* What the fetch this request waited for found (revoked,
			 * unreachable responder ...), at this same moment. */
			copy_ocsp(claims[i], &e->claims);
			claims[i]->ocsp_nonce_matches = false;
		} else {
			snprintf(claims[i]->ocsp_status, sizeof(claims[i]->ocsp_status), "error");
			snprintf(claims[i]->ocsp_detail, sizeof(claims[i]->ocsp_detail), "OCSP memory lost the entry");
		}
	}
	pthread_mutex_unlock(&m->mu);
	free(keys);
	free(role);
}

void svc_ocsp_memo_stage(struct svc_ocsp_memo *m, struct gpa_ocsp_stage *out)
{
	out->check = ocsp_memo_check;
	out->ctx = m;
}
