/*
 * Upgrade pre-flight: before a driver or VBIOS upgrade, are the reference
 * manifests (RIMs) that attestation will need afterwards published, signed
 * by NVIDIA's RIM signing chain, valid and not revoked?
 *
 * The caller builds the RIM ids with verification's own rules
 * (report_rim_ids, spdm/derive.c) from what the system will run; they are
 * looked up through the same ordered sources (RIM directories,
 * collateral bundle, cache, RIM service) and judged by the same code
 * (rim_load: XML signature and chain; the OCSP stage; the version match).
 * Nothing is guessed: an architecture without a RIM id scheme is reported
 * as such.
 */
#include "api/preflight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "rim/rim.h"

const char *preflight_status_name(enum gpa_pf_status s)
{
	switch (s) {
	case GPA_PF_READY: return "ready";
	case GPA_PF_NOT_PUBLISHED: return "not-published";
	case GPA_PF_INVALID: return "invalid";
	case GPA_PF_UNAVAILABLE: return "unavailable";
	case GPA_PF_NO_SCHEME: return "no-scheme";
	}
	return "?";
}

/* Looks every id up, source after source, until each is found or every
 * source said no. errs: why not (last error of a failing source). */
static void fetch_all(const struct gpa_appraise_cfg *ac, struct gpa_pf_item *items, size_t n,
    uint8_t **bufs, size_t *lens)
{
	for (int s = 0; s < ac->nsources; s++) {
		const char *ids[GPA_PF_MAX_ITEMS];
		size_t map[GPA_PF_MAX_ITEMS], k = 0;
		uint8_t *b[GPA_PF_MAX_ITEMS] = {0};
		size_t l[GPA_PF_MAX_ITEMS] = {0};
		enum gpa_fetch_status st[GPA_PF_MAX_ITEMS];
		char errs[GPA_PF_MAX_ITEMS][GPA_FETCH_ERR_LEN];

		for (size_t i = 0; i < n; i++)
			if (items[i].rim_id[0] && bufs[i] == NULL) {
				map[k] = i;
				ids[k++] = items[i].rim_id;
			}
		if (k == 0)
			return;
		memset(errs, 0, sizeof(errs));
		ac->sources[s].fetch(ac->sources[s].ctx, ids, k, b, l, NULL, st, errs);
		for (size_t j = 0; j < k; j++) {
			struct gpa_pf_item *it = &items[map[j]];

			if (st[j] == GPA_FETCH_OK) {
				bufs[map[j]] = b[j];
				lens[map[j]] = l[j];
				snprintf(it->source, sizeof(it->source), "%s", errs[j][0] ? errs[j] :
				    ac->sources[s].name);
				it->fetch_error[0] = '\0';
				continue;
			}
			free(b[j]);
			if (st[j] == GPA_FETCH_ERROR) {
				it->fetch_failed = true;
				snprintf(it->fetch_error, sizeof(it->fetch_error), "%s: %s", ac->sources[s].name,
				    errs[j]);
			}
		}
	}
}

static void judge_loaded(struct gpa_pf_item *it, const struct rim *r)
{
	it->signature_verified = r->signature_valid;
	it->chain_status = r->chain.status;
	snprintf(it->valid_until, sizeof(it->valid_until), "%s", r->chain.expiry);
	snprintf(it->rim_version, sizeof(it->rim_version), "%s",
	    r->colloquial_version != NULL ? r->colloquial_version : "");
	if (!r->signature_valid) {
		it->status = GPA_PF_INVALID;
		snprintf(it->detail, sizeof(it->detail), "published, but its signature does not verify: %s",
		    r->signature_detail);
	} else if (r->chain.status != GPA_CERT_VALID) {
		it->status = GPA_PF_INVALID;
		snprintf(it->detail, sizeof(it->detail), "published and signed, but its signing chain is %s%s%s",
		    cert_status_name(r->chain.status), r->chain.detail[0] ? ": " : "", r->chain.detail);
	} else if (r->colloquial_version == NULL || strcmp(r->colloquial_version, it->version) != 0) {
		it->status = GPA_PF_INVALID;
		snprintf(it->detail, sizeof(it->detail), "published and signed, but for version '%s', not '%s'",
		    it->rim_version, it->version);
	} else {
		it->status = GPA_PF_READY;
		snprintf(it->detail, sizeof(it->detail), "published, signed, valid until %s", it->valid_until);
	}
}

/* Revocation of every RIM signing chain that verified, all at once. */
static void check_revocation(const struct gpa_appraise_cfg *ac, struct gpa_pf_item *items, size_t n,
    struct rim **rims)
{
	STACK_OF(X509) *chains[GPA_PF_MAX_ITEMS];
	enum gpa_anchor_use uses[GPA_PF_MAX_ITEMS];
	struct gpa_chain_claims cl[GPA_PF_MAX_ITEMS], *clp[GPA_PF_MAX_ITEMS];
	size_t map[GPA_PF_MAX_ITEMS], k = 0;

	for (size_t i = 0; i < n; i++) {
		if (items[i].status != GPA_PF_READY)
			continue;
		if (ac->ocsp == NULL) {
			snprintf(items[i].ocsp_status, sizeof(items[i].ocsp_status), "not-checked");
			continue;
		}
		memset(&cl[k], 0, sizeof(cl[k]));
		cl[k].present = true;
		cl[k].status = rims[i]->chain.status;
		chains[k] = rims[i]->chain.path != NULL ? rims[i]->chain.path : rims[i]->certs;
		uses[k] = GPA_ANCHOR_RIM;
		clp[k] = &cl[k];
		map[k++] = i;
	}
	if (k == 0)
		return;
	ac->ocsp->check(ac->ocsp->ctx, chains, uses, clp, k, ac->at);
	for (size_t j = 0; j < k; j++) {
		struct gpa_pf_item *it = &items[map[j]];

		snprintf(it->ocsp_status, sizeof(it->ocsp_status), "%s", cl[j].ocsp_status);
		if (strcmp(cl[j].ocsp_status, "good") == 0)
			continue;
		if (strcmp(cl[j].ocsp_status, "revoked") == 0) {
			it->status = GPA_PF_INVALID;
			snprintf(it->detail, sizeof(it->detail), "published and signed, but its signing certificate "
			    "is revoked%s%s", cl[j].revocation_reason[0] ? ": " : "", cl[j].revocation_reason);
		} else {
			it->status = GPA_PF_UNAVAILABLE;
			snprintf(it->detail, sizeof(it->detail), "published and signed, but its revocation could "
			    "not be checked (%s%s%s)", cl[j].ocsp_status, cl[j].ocsp_detail[0] ? ": " : "",
			    cl[j].ocsp_detail);
		}
	}
}

static void judge_missing(struct gpa_pf_item *it)
{
	if (it->fetch_failed) {
		it->status = GPA_PF_UNAVAILABLE;
		snprintf(it->detail, sizeof(it->detail), "could not be looked up (%s)", it->fetch_error);
	} else {
		it->status = GPA_PF_NOT_PUBLISHED;
		snprintf(it->detail, sizeof(it->detail), "not published: attestation will fail after this upgrade");
	}
}

int api_preflight(gpuattest_config *c, struct gpa_pf_item *items, size_t n)
{
	struct gpa_appraise_cfg ac;
	uint8_t *bufs[GPA_PF_MAX_ITEMS] = {0};
	size_t lens[GPA_PF_MAX_ITEMS] = {0};
	struct rim *rims[GPA_PF_MAX_ITEMS] = {0};

	if (n > GPA_PF_MAX_ITEMS) {
		gpa_err_set(&c->err, "at most %d reference manifests at once", GPA_PF_MAX_ITEMS);
		return -1;
	}
	if (api_appraise_cfg_full(c, &ac) != 0)
		return -1;
	fetch_all(&ac, items, n, bufs, lens);
	for (size_t i = 0; i < n; i++) {
		struct gpa_pf_item *it = &items[i];
		struct gpa_err e = {{0}};

		if (it->rim_id[0] == '\0')
			continue;		/* GPA_PF_NO_SCHEME, set by the caller */
		if (bufs[i] == NULL) {
			judge_missing(it);
			continue;
		}
		if (rim_load(bufs[i], lens[i], it->rim_id, ac.anchors, ac.at, &rims[i], &e) != 0) {
			it->status = GPA_PF_INVALID;
			snprintf(it->detail, sizeof(it->detail), "published, but unreadable: %s", e.msg);
			continue;
		}
		judge_loaded(it, rims[i]);
	}
	check_revocation(&ac, items, n, rims);
	for (size_t i = 0; i < n; i++) {
		rim_free(rims[i]);
		free(bufs[i]);
	}
	return 0;
}
