/*
 * Audit receipts (receipt.h, docs/receipts.md): written after a
 * verification, re-verified offline at their recorded time.
 */
#include "api/receipt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_internal.h"
#include "net/bundle.h"
#include "policy/rppolicy.h"
#include "x509/x509.h"

/* ---- pieces of the receipt ----------------------------------------------- */

static json_t *jstr_or_null(const char *s)
{
	return s != NULL && *s ? json_string(s) : json_null();
}

static json_t *item_json(const struct evidence_item *it)
{
	json_t *o = json_object(), *live = json_object();
	char *rep = b64_encode(it->report, it->report_len);
	char *pem = b64_encode((const uint8_t *)it->chain_pem, it->chain_len);
	char nonce[2 * SPDM_NONCE_LEN + 1];

	if (o == NULL || live == NULL || rep == NULL || pem == NULL) {
		json_decref(o);
		json_decref(live);
		free(rep);
		free(pem);
		return NULL;
	}
	hex_encode(it->nonce, SPDM_NONCE_LEN, nonce);
	json_object_set_new(o, "kind", json_string(it->kind == GPA_DEV_SWITCH ? "switch" : "gpu"));
	json_object_set_new(o, "arch", json_string(it->arch));
	json_object_set_new(o, "nonce", it->has_nonce ? json_string(nonce) : json_null());
	json_object_set_new(o, "evidence", json_string(rep));
	json_object_set_new(o, "certificate", json_string(pem));
	json_object_set_new(o, "uuid", json_string(it->uuid));
	/* What the driver said about the device, when collected live. */
	json_object_set_new(live, "live", json_boolean(it->live));
	json_object_set_new(live, "not_cc", json_boolean(it->not_cc));
	json_object_set_new(live, "tnvl", json_integer(it->tnvl));
	json_object_set_new(live, "have_tnvl", json_boolean(it->have_tnvl));
	json_object_set_new(live, "name", json_string(it->name));
	json_object_set_new(live, "nvml_vbios", json_string(it->nvml_vbios));
	json_object_set_new(live, "nvml_arch", json_integer(it->nvml_arch));
	json_object_set_new(live, "nvml_index", json_integer(it->nvml_index));
	json_object_set_new(o, "driver", live);
	free(rep);
	free(pem);
	return o;
}

static json_t *system_raw_json(const struct gpa_system_info *s)
{
	json_t *o;

	if (!s->present)
		return json_null();
	o = json_object();
	json_object_set_new(o, "environment", json_integer(s->environment));
	json_object_set_new(o, "cc_feature", json_integer(s->cc_feature));
	json_object_set_new(o, "dev_tools", json_integer(s->dev_tools));
	json_object_set_new(o, "multi_gpu_mode", json_integer(s->multi_gpu_mode));
	json_object_set_new(o, "have_caps", json_boolean(s->have_caps));
	json_object_set_new(o, "cpu_caps", json_integer(s->cpu_caps));
	json_object_set_new(o, "gpus_caps", json_integer(s->gpus_caps));
	json_object_set_new(o, "have_ready_state", json_boolean(s->have_ready_state));
	json_object_set_new(o, "ready_state", json_integer(s->ready_state));
	json_object_set_new(o, "driver_version", json_string(s->driver_version));
	json_object_set_new(o, "gpus_total", json_integer(s->gpus_total));
	return o;
}

/* SHA-256 fingerprints of every certificate in the named anchor files. */
static int anchor_fingerprints(const gpuattest_config *c, json_t *arr, struct gpa_err *e)
{
	for (int i = 0; i < c->nanchor_files; i++) {
		uint8_t *buf;
		size_t len;
		STACK_OF(X509) *st;

		if (file_read(c->anchor_files[i], 1u << 20, &buf, &len, e) != 0)
			return -1;
		st = chain_from_pem((const char *)buf, len, 64, e);
		free(buf);
		if (st == NULL)
			return -1;
		for (int k = 0; k < sk_X509_num(st); k++) {
			uint8_t d[32];
			char hex[65];

			if (x509_der_sha256(sk_X509_value(st, k), d) == 0) {
				hex_encode(d, sizeof(d), hex);
				json_array_append_new(arr, json_string(hex));
			}
		}
		sk_X509_pop_free(st, X509_free);
	}
	return 0;
}

static json_t *options_json(const gpuattest_config *c, struct gpa_err *e)
{
	json_t *o = json_object(), *fp = json_array();

	if (anchor_fingerprints(c, fp, e) != 0) {
		json_decref(o);
		json_decref(fp);
		return NULL;
	}
	json_object_set_new(o, "pinned_anchors", json_boolean(c->pinned));
	json_object_set_new(o, "anchor_sha256", fp);
	json_object_set_new(o, "no_ocsp", json_boolean(c->insecure_no_ocsp));
	json_object_set_new(o, "ocsp_cache_ok", json_boolean(c->ocsp_cache_ok));
	json_object_set_new(o, "allow_rim_cert_hold", json_boolean(c->allow_hold_rim));
	json_object_set_new(o, "allow_dev_tools", json_boolean(c->allow_dev_tools));
	json_object_set_new(o, "max_ocsp_age", json_integer(c->max_ocsp_age));
	json_object_set_new(o, "expect_gpus", json_integer(c->expect_gpus));
	json_object_set_new(o, "expect_switches", json_integer(c->expect_switches));
	json_object_set_new(o, "offline", json_boolean(c->offline));
	json_object_set_new(o, "collateral_bundle", json_boolean(c->collateral_path != NULL));
	if (c->rp != NULL) {
		/* The policy itself: re-verification applies the same bytes. */
		size_t len;
		const char *text = rp_policy_text(c->rp, &len);
		json_object_set_new(o, "policy", json_pack("{s:s, s:s, s:s%}", "name", rp_policy_name(c->rp),
		    "sha256", rp_policy_sha256(c->rp), "text", text, len));
	}
	return o;
}

/* The canonical text, and the digest over the content without "integrity". */
static char *canonical_text(const json_t *doc)
{
	return json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(1) | JSON_ENSURE_ASCII);
}

static int content_digest(json_t *doc, char out[65])
{
	json_t *copy = json_copy(doc);
	char *s;

	if (copy == NULL)
		return -1;
	json_object_del(copy, "integrity");
	s = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(copy);
	if (s == NULL)
		return -1;
	x509_sha256_hex(s, strlen(s), out);
	free(s);
	return 0;
}

/* ---- writing -------------------------------------------------------------- */

int api_receipt_prepare(gpuattest_config *c)
{
	if (c->record == NULL && (c->record = bundle_new()) == NULL) {
		gpa_err_set(&c->err, "out of memory");
		return -1;
	}
	return 0;
}

static json_t *receipt_doc(gpuattest_config *c, const gpuattest_result *r, const char *token)
{
	const struct gpa_appraisal *a = &r->a;
	json_t *doc = json_object(), *items = json_array(), *opts, *result, *coll;
	char now[21], at[21];

	opts = options_json(c, &c->err);
	result = appraisal_json(a);
	coll = bundle_to_json(c->record);
	if (doc == NULL || items == NULL || opts == NULL || result == NULL || coll == NULL)
		goto fail;
	for (size_t i = 0; i < r->set.n; i++) {
		json_t *it = item_json(&r->set.items[i]);

		if (it == NULL || json_array_append_new(items, it) != 0)
			goto fail;
	}
	time_format_rfc3339(time(NULL), now);
	time_format_rfc3339(a->at, at);
	json_object_set_new(doc, "format", json_string(GPA_RECEIPT_FORMAT));
	json_object_set_new(doc, "version", json_integer(GPA_RECEIPT_VERSION));
	json_object_set_new(doc, "written", json_string(now));
	json_object_set_new(doc, "tool", json_string("gpuattest " GPUATTEST_VERSION));
	json_object_set_new(doc, "verified_at", json_string(at));
	json_object_set_new(doc, "nonce", json_string(a->nonce_hex));
	json_object_set_new(doc, "nonce_source", json_string(a->nonce_generated ? "generated" :
	    a->nonce_from_caller ? "caller" : "evidence"));
	json_object_set_new(doc, "options", opts);
	json_object_set(doc, "weakened", json_object_get(result, "weakened") ?
	    json_object_get(result, "weakened") : json_array());
	json_object_set_new(doc, "evidence", items);
	json_object_set_new(doc, "system", system_raw_json(&a->sys));
	json_object_set_new(doc, "collateral", coll);
	json_object_set_new(doc, "result", result);
	json_object_set_new(doc, "token", jstr_or_null(token));
	return doc;
fail:
	if (c->err.msg[0] == '\0')
		gpa_err_set(&c->err, "receipt: out of memory");
	json_decref(doc);
	json_decref(items);
	json_decref(opts);
	json_decref(result);
	json_decref(coll);
	return NULL;
}

char *api_receipt_seal(json_t *doc)
{
	json_t *integ = json_object();
	char digest[65];

	if (integ == NULL || content_digest(doc, digest) != 0) {
		json_decref(integ);
		return NULL;
	}
	json_object_set_new(integ, "alg", json_string("sha-256"));
	json_object_set_new(integ, "value", json_string(digest));
	if (json_object_set_new(doc, "integrity", integ) != 0)
		return NULL;
	return canonical_text(doc);
}

int api_receipt_write(gpuattest_config *c, const gpuattest_result *res, const char *token, const char *path)
{
	json_t *doc;
	char *text;
	int rc = -1;

	c->err.msg[0] = '\0';
	if (c->record == NULL) {
		gpa_err_set(&c->err, "receipt: api_receipt_prepare was not called before the verification");
		return -1;
	}
	if ((doc = receipt_doc(c, res, token)) == NULL)
		return -1;
	if ((text = api_receipt_seal(doc)) == NULL)
		gpa_err_set(&c->err, "receipt: out of memory");
	else if (file_write_atomic(path, text, strlen(text), &c->err) != 0)
		gpa_err_prefix(&c->err, "receipt %s", path);
	else
		rc = 0;
	json_decref(doc);
	free(text);
	return rc;
}

/* ---- reading --------------------------------------------------------------- */

static const char *get_str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int copy_str(json_t *o, const char *k, char *dst, size_t n)
{
	const char *s = get_str(o, k);

	if (s == NULL || strlen(s) >= n)
		return -1;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int get_int(json_t *o, const char *k, long long min, long long max, long long *out)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

static int get_bool(json_t *o, const char *k, bool *out)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_boolean(v))
		return -1;
	*out = json_is_true(v);
	return 0;
}

static int item_driver_from_json(json_t *d, struct evidence_item *it)
{
	long long tnvl, arch, idx;

	if (!json_is_object(d) || get_bool(d, "live", &it->live) != 0 ||
	    get_bool(d, "not_cc", &it->not_cc) != 0 || get_bool(d, "have_tnvl", &it->have_tnvl) != 0 ||
	    get_int(d, "tnvl", -1, 255, &tnvl) != 0 || get_int(d, "nvml_arch", 0, 1 << 30, &arch) != 0 ||
	    get_int(d, "nvml_index", -1, 1 << 20, &idx) != 0 ||
	    copy_str(d, "name", it->name, sizeof(it->name)) != 0 ||
	    copy_str(d, "nvml_vbios", it->nvml_vbios, sizeof(it->nvml_vbios)) != 0)
		return -1;
	it->tnvl = (int)tnvl;
	it->nvml_arch = (unsigned)arch;
	it->nvml_index = (int)idx;
	return 0;
}

static int item_from_json(json_t *o, struct evidence_item *it, struct gpa_err *e)
{
	const char *kind = get_str(o, "kind"), *rep = get_str(o, "evidence"), *pem = get_str(o, "certificate");
	json_t *nonce = json_object_get(o, "nonce");
	uint8_t *chain = NULL;
	size_t chain_len = 0;

	memset(it, 0, sizeof(*it));
	if (!json_is_object(o) || kind == NULL || rep == NULL || pem == NULL ||
	    (strcmp(kind, "gpu") != 0 && strcmp(kind, "switch") != 0) ||
	    copy_str(o, "arch", it->arch, sizeof(it->arch)) != 0 ||
	    copy_str(o, "uuid", it->uuid, sizeof(it->uuid)) != 0 ||
	    item_driver_from_json(json_object_get(o, "driver"), it) != 0)
		goto bad;
	it->kind = strcmp(kind, "switch") == 0 ? GPA_DEV_SWITCH : GPA_DEV_GPU;
	if (json_is_string(nonce)) {
		if (hex_decode(json_string_value(nonce), json_string_length(nonce), it->nonce,
		    sizeof(it->nonce), false) != SPDM_NONCE_LEN)
			goto bad;
		it->has_nonce = true;
	} else if (!json_is_null(nonce)) {
		goto bad;
	}
	if (b64_decode(rep, strlen(rep), false, &it->report, &it->report_len) != 0 ||
	    b64_decode(pem, strlen(pem), false, &chain, &chain_len) != 0 ||
	    evidence_item_copy_chain(it, chain, chain_len) != 0)
		goto bad;
	free(chain);
	return 0;
bad:
	free(chain);
	free(it->report);
	free(it->chain_pem);
	memset(it, 0, sizeof(*it));
	gpa_err_set(e, "its evidence is malformed");
	return -1;
}

static int evidence_from_json(json_t *arr, struct evidence_set *set, struct gpa_err *e)
{
	size_t i;
	json_t *v;

	memset(set, 0, sizeof(*set));
	if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > GPA_EVIDENCE_MAX_ITEMS) {
		gpa_err_set(e, "it carries no evidence");
		return -1;
	}
	json_array_foreach(arr, i, v) {
		if (item_from_json(v, &set->items[i], e) != 0) {
			gpa_err_prefix(e, "evidence item %zu", i);
			evidence_set_clear(set);
			return -1;
		}
		set->n++;
	}
	return 0;
}

static int system_from_json(json_t *o, struct gpa_system_info *s)
{
	long long v[8];

	memset(s, 0, sizeof(*s));
	if (json_is_null(o))
		return 0;
	if (!json_is_object(o) || get_int(o, "environment", 0, 255, &v[0]) != 0 ||
	    get_int(o, "cc_feature", 0, 255, &v[1]) != 0 || get_int(o, "dev_tools", 0, 255, &v[2]) != 0 ||
	    get_int(o, "multi_gpu_mode", 0, 255, &v[3]) != 0 || get_int(o, "cpu_caps", 0, 1LL << 32, &v[4]) != 0 ||
	    get_int(o, "gpus_caps", 0, 1LL << 32, &v[5]) != 0 || get_int(o, "ready_state", 0, 255, &v[6]) != 0 ||
	    get_int(o, "gpus_total", 0, 1 << 20, &v[7]) != 0 || get_bool(o, "have_caps", &s->have_caps) != 0 ||
	    get_bool(o, "have_ready_state", &s->have_ready_state) != 0 ||
	    copy_str(o, "driver_version", s->driver_version, sizeof(s->driver_version)) != 0)
		return -1;
	s->environment = (unsigned)v[0];
	s->cc_feature = (unsigned)v[1];
	s->dev_tools = (unsigned)v[2];
	s->multi_gpu_mode = (unsigned)v[3];
	s->cpu_caps = (unsigned)v[4];
	s->gpus_caps = (unsigned)v[5];
	s->ready_state = (unsigned)v[6];
	s->gpus_total = (int)v[7];
	s->present = true;
	return 0;
}

/* Reads the file into a document whose bytes are exactly what we write. 0,
 * or the exit code (2 unreadable or unsupported, 1 changed). */
static int receipt_parse(gpuattest_config *c, const char *path, const uint8_t *buf, size_t len,
    json_t **out)
{
	json_error_t je;
	json_t *doc, *ver;
	char *canon, digest[65];
	const char *fmt, *want;

	*out = NULL;
	if (len > GPA_RECEIPT_MAX_BYTES) {
		gpa_err_set(&c->err, "%s is larger than a receipt may be (%u bytes)", path, GPA_RECEIPT_MAX_BYTES);
		return 2;
	}
	doc = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL || !json_is_object(doc)) {
		gpa_err_set(&c->err, "%s is not a gpuattest receipt (not a JSON object%s%s)", path,
		    doc == NULL ? ": " : "", doc == NULL ? je.text : "");
		goto unreadable;
	}
	fmt = get_str(doc, "format");
	ver = json_object_get(doc, "version");
	if (fmt == NULL || strcmp(fmt, GPA_RECEIPT_FORMAT) != 0) {
		gpa_err_set(&c->err, "%s is not a gpuattest receipt (\"format\" is not \"%s\")", path,
		    GPA_RECEIPT_FORMAT);
		goto unreadable;
	}
	if (!json_is_integer(ver) || json_integer_value(ver) != GPA_RECEIPT_VERSION) {
		gpa_err_set(&c->err, "%s: receipt format version %s is not supported: this gpuattest reads "
		    "version %d only (re-verify it with the gpuattest release that wrote it)", path,
		    json_is_integer(ver) ? "" : "(missing)", GPA_RECEIPT_VERSION);
		if (json_is_integer(ver))
			gpa_err_set(&c->err, "%s: receipt format version %lld is not supported: this gpuattest "
			    "reads version %d only (re-verify it with the gpuattest release that wrote it)", path,
			    (long long)json_integer_value(ver), GPA_RECEIPT_VERSION);
		goto unreadable;
	}
	canon = canonical_text(doc);
	want = get_str(json_object_get(doc, "integrity"), "value");
	if (canon == NULL || strlen(canon) != len || memcmp(canon, buf, len) != 0 || want == NULL ||
	    content_digest(doc, digest) != 0 || strcmp(digest, want) != 0) {
		gpa_err_set(&c->err, "%s was changed after it was written: %s", path,
		    want == NULL ? "it has no integrity digest" : canon == NULL || strlen(canon) != len ||
		    memcmp(canon, buf, len) != 0 ? "its bytes are not those gpuattest wrote" :
		    "its content does not match its SHA-256 digest");
		free(canon);
		json_decref(doc);
		return 1;
	}
	free(canon);
	*out = doc;
	return 0;
unreadable:
	json_decref(doc);
	return 2;
}

/* The policy a receipt recorded, loaded again from its bytes (which must
 * still have the recorded SHA-256). */
static int apply_policy(gpuattest_config *c, json_t *o)
{
	json_t *pol = json_object_get(o, "policy");
	const char *name = get_str(pol, "name"), *sha = get_str(pol, "sha256"), *text = get_str(pol, "text");

	if (pol == NULL)
		return 0;
	if (name == NULL || sha == NULL || text == NULL) {
		gpa_err_set(&c->err, "the receipt's policy is malformed");
		return -1;
	}
	if (gpuattest_config_set_policy(c, text, json_string_length(json_object_get(pol, "text")), name) != 0) {
		gpa_err_prefix(&c->err, "the receipt's policy");
		return -1;
	}
	if (strcmp(rp_policy_sha256(c->rp), sha) != 0) {
		gpa_err_set(&c->err, "the receipt's policy %s does not have its recorded SHA-256", name);
		return -1;
	}
	return 0;
}

/* The receipt's options, applied to the auditor's configuration. */
static int apply_options(gpuattest_config *c, json_t *doc)
{
	json_t *o = json_object_get(doc, "options");
	bool pinned, no_ocsp, cache_ok, hold, devtools;
	long long age, eg, es;
	time_t at;
	uint8_t nonce[SPDM_NONCE_LEN];
	const char *at_s = get_str(doc, "verified_at"), *nonce_s = get_str(doc, "nonce");

	if (!json_is_object(o) || get_bool(o, "pinned_anchors", &pinned) != 0 ||
	    get_bool(o, "no_ocsp", &no_ocsp) != 0 || get_bool(o, "ocsp_cache_ok", &cache_ok) != 0 ||
	    get_bool(o, "allow_rim_cert_hold", &hold) != 0 || get_bool(o, "allow_dev_tools", &devtools) != 0 ||
	    get_int(o, "max_ocsp_age", -1, 1LL << 40, &age) != 0 ||
	    get_int(o, "expect_gpus", -1, 1024, &eg) != 0 || get_int(o, "expect_switches", -1, 1024, &es) != 0 ||
	    at_s == NULL || time_parse_rfc3339(at_s, &at) != 0 || nonce_s == NULL ||
	    hex_decode(nonce_s, strlen(nonce_s), nonce, sizeof(nonce), false) != SPDM_NONCE_LEN) {
		gpa_err_set(&c->err, "the receipt's options, time or nonce are malformed");
		return -1;
	}
	if (!pinned)
		gpuattest_config_no_pinned_anchors(c);
	if (no_ocsp)
		gpuattest_config_insecure_skip_revocation(c);
	if (cache_ok)
		gpuattest_config_insecure_accept_cached_ocsp(c);
	if (hold)
		gpuattest_config_allow_rim_cert_hold(c);
	if (devtools)
		gpuattest_config_insecure_allow_dev_tools(c);
	if (age >= 0)
		c->max_ocsp_age = (long)age;
	c->expect_gpus = (int)eg;
	c->expect_switches = (int)es;
	gpuattest_config_set_time(c, at);
	gpuattest_config_set_nonce(c, nonce, sizeof(nonce));
	gpuattest_config_offline(c);
	gpuattest_config_no_cache(c);
	return apply_policy(c, o);
}

/* Every non-pinned anchor the receipt was made under must be one the
 * auditor named: a receipt never brings its own trust. */
static int anchors_named(gpuattest_config *c, json_t *doc)
{
	json_t *want = json_object_get(json_object_get(doc, "options"), "anchor_sha256"), *have = json_array(), *v;
	size_t i, k;
	json_t *h;
	int rc = 0;

	if (!json_is_array(want) || have == NULL || anchor_fingerprints(c, have, &c->err) != 0) {
		json_decref(have);
		if (c->err.msg[0] == '\0')
			gpa_err_set(&c->err, "the receipt's anchor list is malformed");
		return -1;
	}
	json_array_foreach(want, i, v) {
		bool found = false;

		json_array_foreach(have, k, h)
			found = found || json_equal(v, h);
		if (!found) {
			gpa_err_set(&c->err, "the receipt was made under an anchor you did not name (SHA-256 %s): "
			    "pass its certificate with --trust-anchor to re-verify; a receipt's own word is not trusted",
			    json_is_string(v) ? json_string_value(v) : "?");
			rc = 1;
			break;
		}
	}
	json_decref(have);
	return rc;
}

/* ---- comparing ----------------------------------------------------------------- */

static void add_diff(json_t *diffs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_diff(json_t *diffs, const char *fmt, ...)
{
	char buf[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(diffs, json_string(buf));
}

static json_t *find_check(json_t *checks, const char *id)
{
	size_t i;
	json_t *c;

	json_array_foreach(checks, i, c) {
		const char *cid = get_str(c, "check");

		if (cid != NULL && strcmp(cid, id) == 0)
			return c;
	}
	return NULL;
}

static void compare_checks(json_t *diffs, const char *where, json_t *was, json_t *now)
{
	size_t i;
	json_t *c;

	json_array_foreach(was, i, c) {
		const char *id = get_str(c, "check"), *o = get_str(c, "outcome");
		json_t *n = id != NULL ? find_check(now, id) : NULL;
		const char *no = n != NULL ? get_str(n, "outcome") : NULL;

		if (id == NULL || o == NULL)
			continue;
		if (no == NULL)
			add_diff(diffs, "%s: check %s was %s, and is missing now", where, id, o);
		else if (strcmp(o, no) != 0)
			add_diff(diffs, "%s: check %s was %s, now %s (%s)", where, id, o, no,
			    get_str(n, "detail") ? get_str(n, "detail") : "");
	}
	json_array_foreach(now, i, c) {
		const char *id = get_str(c, "check");

		if (id != NULL && find_check(was, id) == NULL)
			add_diff(diffs, "%s: check %s is new: %s", where, id, get_str(c, "outcome") ?
			    get_str(c, "outcome") : "?");
	}
}

static void compare_results(json_t *diffs, json_t *was, json_t *now)
{
	json_t *dw = json_object_get(was, "devices"), *dn = json_object_get(now, "devices");
	const char *rw = get_str(was, "result"), *rn = get_str(now, "result");

	if (rw == NULL || rn == NULL || strcmp(rw, rn) != 0)
		add_diff(diffs, "verdict: recorded %s, re-verified %s", rw ? rw : "?", rn ? rn : "?");
	compare_checks(diffs, "system", json_object_get(json_object_get(was, "system"), "checks"),
	    json_object_get(json_object_get(now, "system"), "checks"));
	if (json_array_size(dw) != json_array_size(dn)) {
		add_diff(diffs, "devices: recorded %zu, re-verified %zu", json_array_size(dw), json_array_size(dn));
		return;
	}
	for (size_t i = 0; i < json_array_size(dw); i++) {
		json_t *a = json_array_get(dw, i), *b = json_array_get(dn, i);
		const char *label = get_str(a, "device") ? get_str(a, "device") : "device";
		const char *va = get_str(a, "verdict"), *vb = get_str(b, "verdict");

		if (va == NULL || vb == NULL || strcmp(va, vb) != 0)
			add_diff(diffs, "%s: verdict recorded %s, re-verified %s", label, va ? va : "?", vb ? vb : "?");
		compare_checks(diffs, label, json_object_get(a, "checks"), json_object_get(b, "checks"));
	}
}

static int verdict_code(json_t *result)
{
	json_t *v = json_object_get(result, "exit_code");

	return json_is_integer(v) ? (int)json_integer_value(v) : -1;
}

/* ---- re-verification ---------------------------------------------------------- */

static int reverify(gpuattest_config *c, json_t *doc, struct gpa_receipt_check *out)
{
	struct evidence_set set;
	struct gpa_system_info sys;
	gpuattest_result *res = NULL;
	char *coll = json_dumps(json_object_get(doc, "collateral"), JSON_COMPACT);
	int rc;

	if (coll == NULL) {
		gpa_err_set(&c->err, "the receipt carries no collateral");
		return 2;
	}
	bundle_free(c->bundle);
	c->bundle = bundle_parse((const uint8_t *)coll, strlen(coll), &c->err);
	free(coll);
	if (c->bundle == NULL) {
		gpa_err_prefix(&c->err, "the receipt's collateral");
		return 2;
	}
	/* Marks the OCSP answers as coming from offline collateral (no nonce of ours). */
	free(c->collateral_path);
	c->collateral_path = strdup("(receipt)");
	if (evidence_from_json(json_object_get(doc, "evidence"), &set, &c->err) != 0) {
		gpa_err_prefix(&c->err, "the receipt");
		return 2;
	}
	if (system_from_json(json_object_get(doc, "system"), &sys) != 0) {
		/* The evidence parsed: its buffers are ours until api_run takes them. */
		evidence_set_clear(&set);
		gpa_err_set(&c->err, "its driver information is malformed");
		gpa_err_prefix(&c->err, "the receipt");
		return 2;
	}
	rc = api_run(c, &set, sys.present ? &sys : NULL, &res);
	if (rc != 0)
		return 2;
	out->result = appraisal_json(&res->a);
	out->verdict = res->a.verdict;
	gpuattest_result_free(res);
	return out->result != NULL ? 0 : 2;
}

int api_receipt_check(gpuattest_config *c, const char *path, struct gpa_receipt_check *out)
{
	uint8_t *buf;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	out->verdict = -1;
	if (file_read(path, GPA_RECEIPT_MAX_BYTES, &buf, &len, &c->err) != 0)
		return 2;
	rc = api_receipt_check_buffer(c, path, buf, len, out);
	free(buf);
	return rc;
}

int api_receipt_check_buffer(gpuattest_config *c, const char *name, const uint8_t *buf, size_t len,
    struct gpa_receipt_check *out)
{
	const char *path = name;
	json_t *doc = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->verdict = -1;
	c->err.msg[0] = '\0';
	if ((rc = receipt_parse(c, path, buf, len, &doc)) != 0)
		return rc;
	if (copy_str(doc, "written", out->written, sizeof(out->written)) != 0 ||
	    copy_str(doc, "verified_at", out->verified_at, sizeof(out->verified_at)) != 0 ||
	    !json_is_object(json_object_get(doc, "result"))) {
		gpa_err_set(&c->err, "%s: the receipt lacks its times or its result", path);
		json_decref(doc);
		return 2;
	}
	out->recorded_verdict = verdict_code(json_object_get(doc, "result"));
	if (apply_options(c, doc) != 0) {
		json_decref(doc);
		return 2;
	}
	if ((rc = anchors_named(c, doc)) != 0) {
		json_decref(doc);
		return rc < 0 ? 2 : 3;
	}
	if ((rc = reverify(c, doc, out)) != 0) {
		json_decref(doc);
		return rc;
	}
	out->differences = json_array();
	out->not_reverified = json_array();
	compare_results(out->differences, json_object_get(doc, "result"), out->result);
	out->reproduced = json_array_size(out->differences) == 0 && out->verdict == out->recorded_verdict;
	json_decref(doc);
	return 0;
}

void api_receipt_check_clear(struct gpa_receipt_check *out)
{
	json_decref(out->differences);
	json_decref(out->result);
	json_decref(out->not_reverified);
	memset(out, 0, sizeof(*out));
}
