/*
 * The verification of one evidence set: evidence checks per device, then
 * the RIMs for all devices at once (so sources can fetch concurrently),
 * then revocation for every chain at once, then the policy.
 * Order and rules: docs/attestation-formats.md §1, §8; our departures from
 * NVIDIA's behaviour are listed in docs/decisions.md.
 */
#include "appraise/appraise.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/pool.h"

#define MAX_CHAIN_CERTS 8

/* Which anchor closed the path, so that the output can name it. */
static void chain_claims_anchor(struct gpa_chain_claims *c, const struct gpa_chain_result *r,
    enum gpa_anchor_use use)
{
	X509 *anchor;
	uint8_t md[32];
	char *cn;

	if (r->path == NULL || sk_X509_num(r->path) < 1)
		return;
	anchor = sk_X509_value(r->path, sk_X509_num(r->path) - 1);
	if (x509_der_sha256(anchor, md) != 0)
		return;
	hex_encode(md, sizeof(md), c->anchor_sha256);
	cn = cert_subject_cn(anchor);
	snprintf(c->anchor_cn, sizeof(c->anchor_cn), "%s", cn ? cn : "(no CN)");
	free(cn);
	c->anchor_nvidia = strcmp(c->anchor_sha256, use == GPA_ANCHOR_DEVICE ?
	    GPA_NVIDIA_DEVICE_ROOT_SHA256 : GPA_NVIDIA_CORIM_ROOT_SHA256) == 0;
}

static void chain_claims_from_result(struct gpa_chain_claims *c, const struct gpa_chain_result *r,
    enum gpa_anchor_use use)
{
	chain_claims_anchor(c, r, use);
	c->present = true;
	c->status = r->status;
	snprintf(c->expiration, sizeof(c->expiration), "%s", r->expiry);
	snprintf(c->detail, sizeof(c->detail), "%s", r->detail);
	snprintf(c->ocsp_status, sizeof(c->ocsp_status), "not-checked");
}

static void check_signature(struct gpa_device_result *d, const struct evidence_item *it)
{
	EVP_PKEY *key;

	/* Like NVIDIA, the signature is the last 96 bytes whatever the parse
	 * found, so a forged report fails here even when it is also malformed. */
	if (d->chain == NULL || sk_X509_num(d->chain) < 1 || it->report_len <= SPDM_SIG_LEN)
		return;
	key = X509_get0_pubkey(sk_X509_value(d->chain, 0));
	if (key == NULL)
		return;
	d->sig_done = true;
	d->sig_verified = ecdsa_verify_raw_sha384(key, it->report, it->report_len - SPDM_SIG_LEN,
	    it->report + it->report_len - SPDM_SIG_LEN, SPDM_SIG_LEN) == 1;
}

static void check_identity(struct gpa_device_result *d, const struct evidence_item *it)
{
	char *cn = NULL, *serial = NULL;
	enum gpa_arch claimed = arch_from_string(it->arch);

	if (sk_X509_num(d->chain) >= 2)
		cn = cert_subject_cn(sk_X509_value(d->chain, 1));
	serial = cert_serial_decimal(sk_X509_value(d->chain, 0));
	snprintf(d->hwmodel, sizeof(d->hwmodel), "%s", cn ? cn : "");
	snprintf(d->ueid, sizeof(d->ueid), "%s", serial ? serial : "");
	free(cn);
	free(serial);

	/* The BROM certificate names the device's PDI: one prefix byte (0x41
	 * GPU, 0x50 NVSwitch) and 8 bytes, in hex. */
	if (sk_X509_num(d->chain) >= 2) {
		char *sn = cert_subject_serial_number(sk_X509_value(d->chain, 1));
		uint8_t raw[1 + GPA_PDI_LEN];
		if (sn != NULL && hex_decode(sn, strlen(sn), raw, sizeof(raw), false) == (long)sizeof(raw)) {
			d->has_pdi = true;
			memcpy(d->pdi, raw + 1, GPA_PDI_LEN);
		}
		free(sn);
	}
	d->arch = arch_from_hwmodel(d->hwmodel);
	if (d->arch == GPA_ARCH_UNKNOWN) {
		snprintf(d->arch_detail, sizeof(d->arch_detail),
		    "hwmodel \"%s\" is not a GPU or NVSwitch this verifier supports", d->hwmodel);
	} else if ((d->kind == GPA_DEV_SWITCH) != (d->arch == GPA_ARCH_LS10)) {
		snprintf(d->arch_detail, sizeof(d->arch_detail), "a %s certificate chain in %s evidence",
		    arch_name(d->arch), d->kind == GPA_DEV_GPU ? "GPU" : "NVSwitch");
	} else if (it->arch[0] != '\0' && claimed != d->arch) {
		snprintf(d->arch_detail, sizeof(d->arch_detail),
		    "evidence says arch \"%s\" but the certificate chain is %s", it->arch, arch_name(d->arch));
	} else {
		d->arch_check = true;
	}
}

static void check_fwid(struct gpa_device_result *d)
{
	uint8_t leaf_fwid[GPA_FWID_LEN];
	struct gpa_err e = {{0}};
	int rc;

	d->fwid_done = true;
	if (!d->info.has_fwid) {
		/* 2023-era reports and switch reports carry no FWID (§5.3). */
		d->fwid_match = true;
		snprintf(d->fwid_detail, sizeof(d->fwid_detail), "report carries no FWID; nothing to compare");
		return;
	}
	rc = cert_fwid(sk_X509_value(d->chain, 0), leaf_fwid, &e);
	if (rc == 1 && memcmp(leaf_fwid, d->info.fwid, GPA_FWID_LEN) == 0) {
		d->fwid_match = true;
		snprintf(d->fwid_detail, sizeof(d->fwid_detail), "FWID matches the leaf certificate");
	} else if (rc == 1) {
		snprintf(d->fwid_detail, sizeof(d->fwid_detail),
		    "report FWID differs from the leaf certificate's FWID");
	} else if (rc == 0) {
		snprintf(d->fwid_detail, sizeof(d->fwid_detail),
		    "report has an FWID but the leaf certificate has no FWID extension");
	} else {
		snprintf(d->fwid_detail, sizeof(d->fwid_detail), "leaf FWID extension: %.120s", e.msg);
	}
}

static void check_nonce(struct gpa_device_result *d, const struct evidence_item *it,
    const uint8_t expected[SPDM_NONCE_LEN])
{
	char want[2 * SPDM_NONCE_LEN + 1], got[2 * SPDM_NONCE_LEN + 1];

	d->nonce_done = true;
	d->nonce_match = memcmp(d->report.req.nonce, expected, SPDM_NONCE_LEN) == 0 &&
	    (!it->has_nonce || memcmp(it->nonce, expected, SPDM_NONCE_LEN) == 0);
	if (d->nonce_match)
		return;
	/* Both values, so that a wrong --nonce and a replayed report can be
	 * told apart at a glance. */
	hex_encode(expected, SPDM_NONCE_LEN, want);
	if (memcmp(d->report.req.nonce, expected, SPDM_NONCE_LEN) != 0) {
		hex_encode(d->report.req.nonce, SPDM_NONCE_LEN, got);
		snprintf(d->nonce_detail, sizeof(d->nonce_detail),
		    "report nonce does not match: expected %s, the report has %s", want, got);
	} else {
		hex_encode(it->nonce, SPDM_NONCE_LEN, got);
		snprintf(d->nonce_detail, sizeof(d->nonce_detail),
		    "evidence nonce does not match: expected %s, the evidence file says %s (the report itself has the expected one)",
		    want, got);
	}
}

/* The cheap part of a device's checks: parsing, identity, nonce, FWID, RIM
 * ids. The expensive part (signatures) is device_crypto, run on threads
 * while the RIMs are loaded. */
static void device_parse(const struct evidence_item *it, const uint8_t expected_nonce[SPDM_NONCE_LEN],
    struct gpa_device_result *d)
{
	struct gpa_err e = {{0}};
	int rc;

	snprintf(d->uuid, sizeof(d->uuid), "%s", it->uuid);
	d->live = it->live;
	snprintf(d->name, sizeof(d->name), "%s", it->name);
	snprintf(d->nvml_vbios, sizeof(d->nvml_vbios), "%s", it->nvml_vbios);
	d->nvml_arch = it->nvml_arch;
	d->not_cc = it->not_cc;
	d->tnvl = it->have_tnvl ? it->tnvl : -1;
	d->measres = "not-run";
	if (d->not_cc)
		return;
	if (it->chain_pem == NULL) {
		snprintf(d->parse_error, sizeof(d->parse_error), "no certificate chain");
		return;
	}
	d->chain = chain_from_pem(it->chain_pem, it->chain_len, MAX_CHAIN_CERTS, &e);
	if (d->chain == NULL) {
		snprintf(d->parse_error, sizeof(d->parse_error), "certificate chain: %s", e.msg);
		return;
	}
	d->chain_parsed = true;
	check_identity(d, it);
	rc = spdm_parse_report(it->report, it->report_len, d->kind, &d->report, &e);
	if (rc != 0) {
		d->unsupported = rc == SPDM_ERR_UNSUPPORTED;
		snprintf(d->parse_error, sizeof(d->parse_error), "report: %s", e.msg);
		return;
	}
	if (report_info_derive(&d->report, &d->info, &e) != 0) {
		snprintf(d->parse_error, sizeof(d->parse_error), "report: %s", e.msg);
		return;
	}
	d->parsed = true;
	check_nonce(d, it, expected_nonce);
	check_fwid(d);
	if (d->arch_check && (rc = report_rim_ids(&d->info, d->arch, &e)) != 0) {
		if (rc == SPDM_ERR_UNSUPPORTED) {
			d->no_rim_scheme = true;
		} else {
			d->arch_check = false;
			snprintf(d->arch_detail, sizeof(d->arch_detail), "%.120s", e.msg);
		}
	}
}

/* The ECDSA work of a device, in two parts so that they can run on two
 * threads: its certificate chain, and its report's signature. */
static int device_chain(const struct gpa_appraise_cfg *cfg, struct gpa_device_result *d)
{
	struct gpa_err e = {{0}};
	struct gpa_chain_result cr;

	if (!d->chain_parsed)
		return 0;
	memset(&cr, 0, sizeof(cr));
	if (chain_validate(cfg->anchors, GPA_ANCHOR_DEVICE, d->chain, cfg->at, &cr, &e) != 0)
		return -1;
	chain_claims_from_result(&d->dev_chain, &cr, GPA_ANCHOR_DEVICE);
	/* Revocation is asked for the path OpenSSL built, not for what the
	 * evidence carried: a chain sent without its root still has the CA
	 * under the root checked. */
	d->dev_path = cr.path;
	cr.path = NULL;
	chain_result_clear(&cr);
	return 0;
}

static void device_report_signature(const struct evidence_item *it, struct gpa_device_result *d)
{
	if (d->chain_parsed)
		check_signature(d, it);
}

/* ---- RIMs ---------------------------------------------------------------- */

struct rim_slot {
	char id[128];
	uint8_t *buf;
	size_t len;
	enum gpa_fetch_status st;
	char err[GPA_FETCH_ERR_LEN + 200];
	char source[128];
	bool loaded;
	struct rim *rim;
	char load_error[512];
	struct gpa_chain_claims chain;
	const struct gpa_appraise_cfg *cfg;	/* what it is loaded with (rim_load_task) */
};

struct rim_table {
	size_t n;
	struct rim_slot slot[2 * GPA_EVIDENCE_MAX_ITEMS];
};


static struct rim_slot *rim_table_find(struct rim_table *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->slot[i].id, id) == 0)
			return &t->slot[i];
	return NULL;
}

static struct rim_slot *rim_table_add(struct rim_table *t, const char *id)
{
	struct rim_slot *s = rim_table_find(t, id);

	if (s != NULL)
		return s;
	s = &t->slot[t->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->st = GPA_FETCH_NOT_FOUND;
	return s;
}

/* Asks each source in order for the ids still missing. A source error is
 * remembered but does not stop the next source from being tried. */
static int fetch_rims(const struct gpa_appraise_cfg *cfg, struct rim_table *t)
{
	const char *ids[2 * GPA_EVIDENCE_MAX_ITEMS];
	size_t idx[2 * GPA_EVIDENCE_MAX_ITEMS];
	uint8_t *bufs[2 * GPA_EVIDENCE_MAX_ITEMS];
	size_t lens[2 * GPA_EVIDENCE_MAX_ITEMS];
	enum gpa_fetch_status st[2 * GPA_EVIDENCE_MAX_ITEMS];
	struct rim *loaded[2 * GPA_EVIDENCE_MAX_ITEMS];
	char (*errs)[GPA_FETCH_ERR_LEN] = calloc(2 * GPA_EVIDENCE_MAX_ITEMS, GPA_FETCH_ERR_LEN);

	if (errs == NULL)
		return -1;
	for (int s = 0; s < cfg->nsources; s++) {
		size_t n = 0;
		for (size_t i = 0; i < t->n; i++)
			if (t->slot[i].buf == NULL) {
				idx[n] = i;
				ids[n++] = t->slot[i].id;
			}
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			bufs[i] = NULL;
			lens[i] = 0;
			loaded[i] = NULL;
			st[i] = GPA_FETCH_NOT_FOUND;
			errs[i][0] = '\0';
		}
		cfg->sources[s].fetch(cfg->sources[s].ctx, ids, n, bufs, lens, loaded, st, errs);
		for (size_t i = 0; i < n; i++) {
			struct rim_slot *sl = &t->slot[idx[i]];
			if (st[i] == GPA_FETCH_OK && bufs[i] != NULL) {
				sl->buf = bufs[i];
				sl->len = lens[i];
				sl->st = GPA_FETCH_OK;
				snprintf(sl->source, sizeof(sl->source), "%s",
				    errs[i][0] ? errs[i] : cfg->sources[s].name);
				if (loaded[i] != NULL) {
					sl->rim = loaded[i];
					sl->loaded = true;
					chain_claims_from_result(&sl->chain, &sl->rim->chain, GPA_ANCHOR_RIM);
				}
				continue;
			}
			rim_free(loaded[i]);
			free(bufs[i]);
			/* An error from any source outranks "not found" from another:
			 * the RIM may exist where we could not look. */
			/* Every place looked in is named, in order (a file name
			 * the user expected to be found, the service's answer). */
			if (st[i] == GPA_FETCH_ERROR || sl->st != GPA_FETCH_ERROR) {
				size_t used = strlen(sl->err);
				sl->st = st[i];
				snprintf(sl->err + used, sizeof(sl->err) - used, "%s%s: %s", used ? "; " : "",
				    cfg->sources[s].name, errs[i][0] ? errs[i] : "not found");
			}
		}
	}
	free(errs);
	return 0;
}

static void load_rim(const struct gpa_appraise_cfg *cfg, struct rim_slot *s)
{
	struct gpa_err e = {{0}};

	if (s->buf == NULL || s->loaded)	/* loaded (and verified) by its source */
		return;
	if (rim_load(s->buf, s->len, s->id, cfg->anchors, cfg->at, &s->rim, &e) != 0) {
		snprintf(s->load_error, sizeof(s->load_error), "%s", e.msg);
		return;
	}
	s->loaded = true;
	chain_claims_from_result(&s->chain, &s->rim->chain, GPA_ANCHOR_RIM);
}

static void fill_rim_result(struct gpa_rim_result *r, struct rim_slot *s, const char *want_version)
{
	r->fetch_status = s->st;
	snprintf(r->source, sizeof(r->source), "%s", s->source);
	snprintf(r->fetch_error, sizeof(r->fetch_error), "%s", s->err);
	r->fetched = s->st == GPA_FETCH_OK;
	if (!r->fetched)
		return;
	r->load_ok = s->loaded;
	snprintf(r->load_error, sizeof(r->load_error), "%s", s->load_error);
	if (!s->loaded)
		return;
	r->rim = s->rim;
	r->chain = s->chain;
	r->signature_verified = s->rim->signature_valid;
	snprintf(r->signature_detail, sizeof(r->signature_detail), "%s", s->rim->signature_detail);
	snprintf(r->version, sizeof(r->version), "%s", s->rim->colloquial_version);
	if (s->rim->firmware_manufacturer_id != NULL)
		snprintf(r->oemid, sizeof(r->oemid), "%s", s->rim->firmware_manufacturer_id);
	r->version_match = strcmp(s->rim->colloquial_version, want_version) == 0;
	for (int i = 0; i < s->rim->nmeas; i++)
		r->nactive += s->rim->meas[i].active;
}

/* A RIM's golden values are used only when its signature verified and its
 * chain leads to an anchor (expired or not: expiry is reported separately). */
static bool rim_usable(const struct gpa_rim_result *r)
{
	return r->load_ok && r->signature_verified && r->chain.status != GPA_CERT_INVALID &&
	    r->version_match;
}

static int add_mismatch(struct gpa_device_result *d, const struct rim_measurement *m,
    const char *source, const struct spdm_block *b)
{
	struct gpa_mismatch *mm, *grown;

	grown = realloc(d->mismatch, (size_t)(d->nmismatch + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	d->mismatch = grown;
	mm = &d->mismatch[d->nmismatch++];
	memset(mm, 0, sizeof(*mm));
	mm->index = m->index;
	mm->source = source;
	mm->golden_size = m->size;
	mm->nalts = m->nalts;
	for (int a = 0; a < m->nalts; a++)
		hex_encode(m->hash[a], m->hash_len[a], mm->golden[a]);
	if (b == NULL) {
		snprintf(mm->runtime, sizeof(mm->runtime), "NA");
	} else {
		size_t n = b->value_size > 255 ? 255 : b->value_size;
		mm->runtime_size = b->value_size;
		hex_encode(b->value, n, mm->runtime);
	}
	return 0;
}

static bool measurement_matches(const struct rim_measurement *m, const struct spdm_block *b)
{
	for (int a = 0; b != NULL && a < m->nalts; a++)
		if (m->hash_len[a] == b->value_size && memcmp(m->hash[a], b->value, b->value_size) == 0)
			return true;
	return false;
}

static int compare_rim(struct gpa_device_result *d, struct gpa_rim_result *r, const char *source)
{
	const struct rim *rim = r->rim;

	for (int i = 0; i < rim->nmeas; i++) {
		const struct rim_measurement *m = &rim->meas[i];
		const struct spdm_block *b;

		if (!m->active)
			continue;
		/* NVDEC0 disabled: index 35 is not measured meaningfully (§8). */
		if (d->kind == GPA_DEV_GPU && m->index == 35 && d->info.nvdec0 == NVDEC0_DISABLED) {
			d->nvdec0_skip = true;
			r->nmatched++;
			continue;
		}
		b = spdm_block_by_index(&d->report, m->index + 1);
		if (measurement_matches(m, b))
			r->nmatched++;
		else if (add_mismatch(d, m, source, b) != 0)
			return -1;
	}
	return 0;
}

static void check_index_conflict(struct gpa_device_result *d)
{
	d->conflict_done = true;
	d->index_no_conflict = true;
	for (int i = 0; i < d->driver.rim->nmeas; i++) {
		const struct rim_measurement *m = &d->driver.rim->meas[i];
		if (m->active && rim_active(d->vbios.rim, m->index) != NULL) {
			d->index_no_conflict = false;
			d->conflict_index = m->index;
			return;
		}
	}
}

static int appraise_measurements(struct gpa_device_result *d)
{
	bool gpu = d->kind == GPA_DEV_GPU;
	bool driver_ok = gpu && rim_usable(&d->driver), vbios_ok = rim_usable(&d->vbios);

	if (driver_ok && vbios_ok)
		check_index_conflict(d);
	if (d->conflict_done && !d->index_no_conflict) {
		d->measres = "fail";
		return 0;
	}
	if (driver_ok && compare_rim(d, &d->driver, "Driver") != 0)
		return -1;
	if (vbios_ok && compare_rim(d, &d->vbios, "Firmware") != 0)
		return -1;
	if (appraise_opaque_refs(d, driver_ok ? d->driver.rim : NULL, vbios_ok ? d->vbios.rim : NULL) != 0)
		return -1;
	d->measurements_done = (!gpu || driver_ok) && vbios_ok;
	if (d->nmismatch > 0 || d->nopaque_mismatch > 0 || d->opaque_conflict)
		d->measres = "fail";
	else if (d->measurements_done)
		d->measres = "success";
	else
		d->measres = "not-run";
	return 0;
}

/* ---- revocation ---------------------------------------------------------- */

static void run_ocsp(const struct gpa_appraise_cfg *cfg, struct gpa_appraisal *a, struct rim_table *t)
{
	size_t max = a->n + t->n, n = 0;
	STACK_OF(X509) **chains = calloc(max, sizeof(*chains));
	enum gpa_anchor_use *uses = calloc(max, sizeof(*uses));
	struct gpa_chain_claims **claims = calloc(max, sizeof(*claims));

	if (chains != NULL && uses != NULL && claims != NULL) {
		for (size_t i = 0; i < a->n; i++)
			if (a->dev[i].dev_chain.present && a->dev[i].dev_path != NULL) {
				chains[n] = a->dev[i].dev_path;
				uses[n] = GPA_ANCHOR_DEVICE;
				claims[n++] = &a->dev[i].dev_chain;
			}
		for (size_t i = 0; i < t->n; i++)
			if (t->slot[i].loaded && t->slot[i].rim->chain.path != NULL) {
				chains[n] = t->slot[i].rim->chain.path;
				uses[n] = GPA_ANCHOR_RIM;
				claims[n++] = &t->slot[i].chain;
			}
		cfg->ocsp->check(cfg->ocsp->ctx, chains, uses, claims, n, cfg->at);
	}
	free(chains);
	free(uses);
	free(claims);
}

/* ---- the whole set ------------------------------------------------------- */

/* The work of one verification runs on a pool (util/pool.h): first every
 * device's parse, then its signatures and chain while one task gets the RIMs
 * and queues their loading at the head of the pool (each RIM is a large
 * document and signature: started last, it would finish last). */
struct device_job {
	const struct gpa_appraise_cfg *cfg;
	const struct evidence_item *it;
	struct gpa_device_result *d;
	const uint8_t *nonce;
	int rc;
};

static void device_parse_one(void *arg, size_t i)
{
	struct device_job *j = &((struct device_job *)arg)[i];

	device_parse(j->it, j->nonce, j->d);
}

static void device_chain_task(void *arg)
{
	struct device_job *j = arg;

	j->rc = device_chain(j->cfg, j->d);
}

static void device_signature_task(void *arg)
{
	struct device_job *j = arg;

	device_report_signature(j->it, j->d);
}

struct rim_work {
	const struct gpa_appraise_cfg *cfg;
	struct rim_table *t;
	struct gpa_pool *pool;
	int rc;
};

static void rim_load_task(void *arg)
{
	struct rim_slot *s = arg;

	load_rim(s->cfg, s);
}

static void rim_fetch_task(void *arg)
{
	struct rim_work *w = arg;

	if (fetch_rims(w->cfg, w->t) != 0) {
		w->rc = -1;
		return;
	}
	for (size_t i = 0; i < w->t->n; i++) {
		struct rim_slot *s = &w->t->slot[i];
		s->cfg = w->cfg;
		if (s->buf != NULL && pool_add_first(w->pool, rim_load_task, s) != 0)
			rim_load_task(s);
	}
}

/* Parses every device, then registers the RIMs the parsed ones name. */
static void devices_parse(const struct gpa_appraise_cfg *cfg, const struct evidence_set *set,
    struct gpa_appraisal *a, const uint8_t *nonce, struct device_job *jobs, struct rim_table *t)
{
	for (size_t i = 0; i < set->n; i++)
		jobs[i] = (struct device_job){.cfg = cfg, .it = &set->items[i], .d = &a->dev[i],
		    .nonce = nonce};
	parallel_for(set->n, 0, device_parse_one, jobs);
	for (size_t i = 0; i < set->n; i++) {
		struct gpa_device_result *d = &a->dev[i];
		if (d->parsed && d->arch_check && !d->no_rim_scheme) {
			if (d->kind == GPA_DEV_GPU)
				rim_table_add(t, d->info.driver_rim_id);
			rim_table_add(t, d->info.vbios_rim_id);
		}
	}
}

static int devices_crypto_and_rims(const struct gpa_appraise_cfg *cfg, size_t n,
    struct device_job *jobs, struct rim_table *t)
{
	struct gpa_pool *pool = pool_new(0);
	struct rim_work rw = {.cfg = cfg, .t = t, .pool = pool};
	int rc = 0;

	if (pool == NULL)
		return -1;
	/* The RIMs first: from a cache they come at once, from the network they
	 * take a round trip the signature checks can fill. Then the longer
	 * tasks before the shorter (chains check two or more signatures, a
	 * report one), so that the last to finish is a short one. */
	if (pool_add(pool, rim_fetch_task, &rw) != 0)
		rim_fetch_task(&rw);
	for (size_t i = 0; i < n; i++)
		if (pool_add(pool, device_chain_task, &jobs[i]) != 0)
			device_chain_task(&jobs[i]);
	for (size_t i = 0; i < n; i++)
		if (pool_add(pool, device_signature_task, &jobs[i]) != 0)
			device_signature_task(&jobs[i]);
	pool_run(pool);
	pool_free(pool);
	for (size_t i = 0; i < n; i++)
		if (jobs[i].rc != 0)
			rc = -1;
	return rw.rc != 0 ? -1 : rc;
}

static void expected_nonce(const struct gpa_appraise_cfg *cfg, const struct evidence_set *set,
    struct gpa_appraisal *a, uint8_t nonce[SPDM_NONCE_LEN])
{
	struct gpa_err e = {{0}};

	a->nonce_from_caller = cfg->have_nonce;
	a->nonce_generated = cfg->nonce_generated;
	if (cfg->have_nonce) {
		memcpy(nonce, cfg->nonce, SPDM_NONCE_LEN);
	} else if (evidence_common_nonce(set, nonce, &e) != 1) {
		/* No nonce anywhere but in the report: take the first report's, so
		 * that the reports at least agree with each other. */
		memset(nonce, 0, SPDM_NONCE_LEN);
		if (set->n > 0 && set->items[0].report_len >= SPDM_REQUEST_LEN)
			memcpy(nonce, set->items[0].report + 4, SPDM_NONCE_LEN);
	}
	hex_encode(nonce, SPDM_NONCE_LEN, a->nonce_hex);
}

int appraise_evidence(const struct gpa_appraise_cfg *cfg, const struct evidence_set *set,
    struct gpa_appraisal *a, struct gpa_err *e)
{
	uint8_t nonce[SPDM_NONCE_LEN];
	struct device_job *jobs = NULL;
	struct rim_table *t;
	int gpus = 0, switches = 0, rc = -1;

	memset(a, 0, sizeof(*a));
	a->at = cfg->at;
	a->claims_version = cfg->claims_version ? cfg->claims_version : GPA_CLAIMS_DEFAULT;
	a->ready_state_after = -1;
	a->sys.expect_gpus = a->sys.expect_switches = -1;
	if (cfg->sys != NULL)
		a->sys = *cfg->sys;
	a->dev = calloc(set->n ? set->n : 1, sizeof(*a->dev));
	jobs = calloc(set->n ? set->n : 1, sizeof(*jobs));
	t = calloc(1, sizeof(*t));
	if (a->dev == NULL || jobs == NULL || t == NULL) {
		gpa_err_set(e, "out of memory");
		goto out;
	}
	a->n = set->n;
	expected_nonce(cfg, set, a, nonce);

	for (size_t i = 0; i < set->n; i++) {
		struct gpa_device_result *d = &a->dev[i];
		d->kind = set->items[i].kind;
		d->index = d->kind == GPA_DEV_GPU ? gpus++ : switches++;
		if (set->items[i].live && d->kind == GPA_DEV_GPU)
			d->index = set->items[i].nvml_index;
		snprintf(d->label, sizeof(d->label), "%s %d", d->kind == GPA_DEV_GPU ? "GPU" : "NVSwitch", d->index);
	}
	devices_parse(cfg, set, a, nonce, jobs, t);
	if (cfg->complete != NULL && (cfg = cfg->complete(cfg->complete_ctx, e)) == NULL)
		goto out;
	a->no_ocsp = cfg->ocsp == NULL;
	for (size_t i = 0; i < set->n; i++)
		jobs[i].cfg = cfg;
	if (devices_crypto_and_rims(cfg, set->n, jobs, t) != 0) {
		gpa_err_set(e, "internal error in certificate validation, or out of memory");
		goto out;
	}
	if (cfg->ocsp != NULL)
		run_ocsp(cfg, a, t);

	for (size_t i = 0; i < a->n; i++) {
		struct gpa_device_result *d = &a->dev[i];
		struct rim_slot *s;

		d->driver.kind = "driver";
		d->vbios.kind = d->kind == GPA_DEV_GPU ? "VBIOS" : "switch BIOS";
		if (!d->parsed || !d->arch_check || d->no_rim_scheme)
			continue;
		if (d->kind == GPA_DEV_GPU && (s = rim_table_find(t, d->info.driver_rim_id)) != NULL) {
			snprintf(d->driver.id, sizeof(d->driver.id), "%s", s->id);
			fill_rim_result(&d->driver, s, d->info.driver_version);
		}
		if ((s = rim_table_find(t, d->info.vbios_rim_id)) != NULL) {
			snprintf(d->vbios.id, sizeof(d->vbios.id), "%s", s->id);
			fill_rim_result(&d->vbios, s, d->info.vbios_version);
		}
		if (appraise_measurements(d) != 0) {
			gpa_err_set(e, "out of memory");
			goto out;
		}
	}
	/* The appraisal now owns the loaded RIMs. */
	a->rims = calloc(t->n ? t->n : 1, sizeof(*a->rims));
	if (a->rims == NULL) {
		gpa_err_set(e, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < t->n; i++) {
		a->rims[a->nrims++] = t->slot[i].rim;
		t->slot[i].rim = NULL;
	}
	policy_evaluate(cfg, a);
	rc = 0;
out:
	if (t != NULL) {
		for (size_t i = 0; i < t->n; i++) {
			free(t->slot[i].buf);
			rim_free(t->slot[i].rim);
		}
		free(t);
	}
	free(jobs);
	return rc;
}

void appraisal_clear(struct gpa_appraisal *a)
{
	for (size_t i = 0; i < a->n; i++) {
		sk_X509_pop_free(a->dev[i].chain, X509_free);
		sk_X509_pop_free(a->dev[i].dev_path, X509_free);
		free(a->dev[i].mismatch);
		free(a->dev[i].opaque_mismatch);
		free(a->dev[i].attester);
	}
	for (size_t i = 0; i < a->nrims; i++)
		rim_free(a->rims[i]);
	free(a->rims);
	free(a->dev);
	free(a->collateral);
	memset(a, 0, sizeof(*a));
}
