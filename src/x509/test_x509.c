/*
 * Tests of the x509 layer on the real NVIDIA chains and reports under
 * ../shared/vectors/nvidia, on Wycheproof ECDSA P-384 vectors, and on
 * certificates generated here (expiry, malformed FWID extensions, non-CA
 * anchors). Never writes into the repository or the shared vectors.
 */
#include "x509/x509.h"
#include "x509/x509_internal.h"

#include "harness.h"

#include <dirent.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define MAX_CHAIN 16
#define AT_2026 "2026-11-28T00:00:00Z"

static time_t when(const char *s)
{
	time_t t = 0;

	if (time_parse_rfc3339(s, &t) != 0)
		abort();
	return t;
}

/* ---------------------------------------------------------------- loading */

static uint8_t *slurp(const char *path, size_t *len)
{
	struct gpa_err e = { { 0 } };
	uint8_t *buf = NULL;

	if (file_read(path, 16 * 1024 * 1024, &buf, len, &e) != 0) {
		fprintf(stderr, "cannot read %s: %s\n", path, e.msg);
		return NULL;
	}
	return buf;
}

/* Path join that reports truncation instead of silently cutting. */
static bool pjoin(char *out, size_t n, const char *a, const char *b)
{
	int r = snprintf(out, n, "%s/%s", a, b);

	return r >= 0 && (size_t)r < n;
}

static STACK_OF(X509) *chain_file(const char *path)
{
	struct gpa_err e = { { 0 } };
	size_t len;
	uint8_t *buf = slurp(path, &len);
	STACK_OF(X509) *sk;

	if (buf == NULL)
		return NULL;
	sk = chain_from_pem((const char *)buf, len, MAX_CHAIN, &e);
	if (sk == NULL)
		fprintf(stderr, "%s: %s\n", path, e.msg);
	free(buf);
	return sk;
}

static STACK_OF(X509) *shared_chain(const char *rel)
{
	const char *p = shared_path(rel);

	return p ? chain_file(p) : NULL;
}

static uint8_t *hex_file(const char *path, size_t *len)
{
	size_t tlen;
	uint8_t *txt = slurp(path, &tlen), *out;
	long n;

	if (txt == NULL)
		return NULL;
	while (tlen > 0 && (txt[tlen - 1] == '\n' || txt[tlen - 1] == '\r'))
		tlen--;
	out = malloc(tlen / 2 + 1);
	n = out ? hex_decode((const char *)txt, tlen, out, tlen / 2 + 1, false) : -1;
	free(txt);
	if (n < 0) {
		free(out);
		return NULL;
	}
	*len = (size_t)n;
	return out;
}

/* One piece of evidence: a report and the chain it came with. */
struct evcase {
	char name[4096];
	STACK_OF(X509) *chain;
	uint8_t *report;
	size_t rlen;
	bool bad_signature;
};

static struct evcase cases[64];
static int ncases;
static bool cases_loaded;

static STACK_OF(X509) *chain_b64(const char *b64)
{
	struct gpa_err e = { { 0 } };
	uint8_t *pem;
	size_t len;
	STACK_OF(X509) *sk;

	if (b64_decode(b64, strlen(b64), true, &pem, &len) != 0)
		return NULL;
	sk = chain_from_pem((const char *)pem, len, MAX_CHAIN, &e);
	if (sk == NULL)
		fprintf(stderr, "embedded chain: %s\n", e.msg);
	free(pem);
	return sk;
}

static void add_json_entry(const char *name, json_t *ent)
{
	const char *cert = json_string_value(json_object_get(ent, "certificate"));
	const char *ev = json_string_value(json_object_get(ent, "evidence"));
	struct evcase *c;

	if (cert == NULL || ncases >= (int)(sizeof(cases) / sizeof(cases[0])))
		return;
	c = &cases[ncases];
	memset(c, 0, sizeof(*c));
	memcpy(c->name, name, strlen(name) + 1);
	c->chain = chain_b64(cert);
	if (ev != NULL && b64_decode(ev, strlen(ev), true, &c->report, &c->rlen) != 0)
		c->report = NULL;
	if (c->chain != NULL)
		ncases++;
	else
		free(c->report);
}

static void add_json_file(const char *path)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je), *list;
	size_t i;
	json_t *ent;

	if (root == NULL)
		return;
	list = json_is_array(root) ? root : json_object_get(root, "evidence_list");
	json_array_foreach(list, i, ent) {
		char name[4096];
		int r = snprintf(name, sizeof(name), "%s[%zu]", path, i);
		if (r > 0 && (size_t)r < sizeof(name))
			add_json_entry(name, ent);
	}
	json_decref(root);
}

static void add_dir_case(const char *dir)
{
	static const char *chains[] = { "cert_chain.pem", "cert_chain.pem.txt",
	    "cert_chain_paired.pem.txt" };
	char p[4096];
	struct evcase *c = &cases[ncases];

	if (ncases >= (int)(sizeof(cases) / sizeof(cases[0])))
		return;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < 3 && c->chain == NULL; i++) {
		if (pjoin(p, sizeof(p), dir, chains[i]) && access(p, R_OK) == 0 &&
		    pjoin(c->name, sizeof(c->name), dir, chains[i]))
			c->chain = chain_file(p);
	}
	if (c->chain == NULL)
		return;
	if (pjoin(p, sizeof(p), dir, "attestation_report.bin") && access(p, R_OK) == 0)
		c->report = slurp(p, &c->rlen);
	if (c->report == NULL && pjoin(p, sizeof(p), dir, "attestation_report.hex.txt") &&
	    access(p, R_OK) == 0)
		c->report = hex_file(p, &c->rlen);
	c->bad_signature = strstr(dir, "invalid_signature") != NULL;
	ncases++;
}

static void load_cases(void)
{
	static const char *tops[] = { "vectors/nvidia/gpu", "vectors/nvidia/switch" };

	if (cases_loaded)
		return;
	cases_loaded = true;
	for (size_t t = 0; t < 2; t++) {
		const char *base = shared_path(tops[t]);
		char top[4096];
		DIR *d;
		struct dirent *de;

		if (base == NULL)
			continue;
		snprintf(top, sizeof(top), "%s", base);
		d = opendir(top);
		while (d != NULL && (de = readdir(d)) != NULL) {
			char dir[4096];
			DIR *d2;
			struct dirent *f;

			if (de->d_name[0] == '.')
				continue;
			if (!pjoin(dir, sizeof(dir), top, de->d_name))
				continue;
			add_dir_case(dir);
			d2 = opendir(dir);
			while (d2 != NULL && (f = readdir(d2)) != NULL) {
				char jp[4096];
				if (str_endswith(f->d_name, ".json") && pjoin(jp, sizeof(jp), dir, f->d_name))
					add_json_file(jp);
			}
			if (d2)
				closedir(d2);
		}
		if (d)
			closedir(d);
	}
}

static void free_cases(void)
{
	for (int i = 0; i < ncases; i++) {
		sk_X509_pop_free(cases[i].chain, X509_free);
		free(cases[i].report);
	}
	ncases = 0;
}

static STACK_OF(X509) *chain_copy(STACK_OF(X509) *sk)
{
	STACK_OF(X509) *c = sk_X509_dup(sk);

	for (int i = 0; c && i < sk_X509_num(c); i++)
		X509_up_ref(sk_X509_value(c, i));
	return c;
}

static enum gpa_cert_status validate(const struct gpa_anchors *a, enum gpa_anchor_use use,
    STACK_OF(X509) *chain, time_t at, char *detail, size_t dlen)
{
	struct gpa_chain_result r;
	struct gpa_err e = { { 0 } };
	enum gpa_cert_status st;

	if (chain_validate(a, use, chain, at, &r, &e) != 0) {
		fprintf(stderr, "chain_validate error: %s\n", e.msg);
		return (enum gpa_cert_status)-1;
	}
	st = r.status;
	if (detail)
		snprintf(detail, dlen, "%s", r.detail);
	chain_result_clear(&r);
	return st;
}

/* ---------------------------------------------------------------- anchors */

static void test_pinned_anchors(void)
{
	struct gpa_err e = { { 0 } };
	struct gpa_anchors *a = anchors_new(true, &e), *b = anchors_new(false, &e);

	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL)
		return;
	CHECK_INT(anchors_count(a, GPA_ANCHOR_DEVICE), 1);
	CHECK_INT(anchors_count(a, GPA_ANCHOR_RIM), 1);
	CHECK_INT(anchors_count(b, GPA_ANCHOR_DEVICE), 0);
	CHECK_INT(anchors_count(b, GPA_ANCHOR_RIM), 0);
	CHECK_INT(anchors_count(a, (enum gpa_anchor_use)7), 0);
	anchors_free(a);
	anchors_free(b);
}

/* The fingerprint check refuses a root whose DER does not hash to the pin:
 * the device root offered under the CoRIM fingerprint. */
static void test_pinned_fingerprint_mismatch(void)
{
	struct gpa_err e = { { 0 } };
	struct gpa_anchors *a = anchors_new(false, &e);
	SHARED_OR_SKIP(root, "vectors/nvidia/roots/nvidia_device_identity_ca.pem");
	size_t len;
	char *pem = (char *)slurp(root, &len);

	CHECK(pem != NULL);
	CHECK_INT(anchors_add_pinned(a, GPA_ANCHOR_RIM, pem, GPA_NVIDIA_CORIM_ROOT_SHA256, "x", &e), -1);
	CHECK_CONTAINS(e.msg, "does not match its pinned SHA-256");
	CHECK_INT(anchors_count(a, GPA_ANCHOR_RIM), 0);
	CHECK_INT(anchors_add_pinned(a, GPA_ANCHOR_DEVICE, pem, GPA_NVIDIA_DEVICE_ROOT_SHA256, "x", &e), 0);
	CHECK_INT(anchors_count(a, GPA_ANCHOR_DEVICE), 1);
	CHECK_INT(anchors_count(a, GPA_ANCHOR_RIM), 0);
	free(pem);
	anchors_free(a);
}

static void test_user_anchor_non_ca_rejected(void)
{
	struct gpa_err e = { { 0 } };
	struct gpa_anchors *a = anchors_new(false, &e);
	SHARED_OR_SKIP(neg, "vectors/nvidia/roots/negative_wrong_rim_root_debug_l4_signer.crt");

	CHECK_INT(anchors_add_pem_file(a, neg, &e), -1);
	CHECK_CONTAINS(e.msg, "negative_wrong_rim_root_debug_l4_signer.crt");
	CHECK_CONTAINS(e.msg, "not a CA certificate");
	CHECK_INT(anchors_count(a, GPA_ANCHOR_DEVICE), 0);
	CHECK_INT(anchors_count(a, GPA_ANCHOR_RIM), 0);
	CHECK_INT(anchors_add_pem_file(a, "/nonexistent/anchor.pem", &e), -1);
	CHECK_CONTAINS(e.msg, "/nonexistent/anchor.pem");
	CHECK_INT(anchors_add_pem(a, "garbage", 7, "cli-anchor", &e), -1);
	CHECK_CONTAINS(e.msg, "cli-anchor");
	anchors_free(a);
}

/* ---------------------------------------------------------------- real chains */

static void test_real_chains_valid(void)
{
	struct gpa_err e = { { 0 } };
	struct gpa_anchors *pinned = anchors_new(true, &e), *none = anchors_new(false, &e);
	struct gpa_anchors *user = anchors_new(false, &e), *corim_only = anchors_new(false, &e);
	const char *dev = shared_path("vectors/nvidia/roots/nvidia_device_identity_ca.pem");
	char devp[4096], detail[256];
	const char *cor;
	time_t at = when(AT_2026);
	int checked = 0;

	if (dev == NULL)
		SKIP("shared vectors not found");
	snprintf(devp, sizeof(devp), "%s", dev);
	CHECK_INT(anchors_add_pem_file(user, devp, &e), 0);
	cor = shared_path("vectors/nvidia/roots/nvidia_corim_signing_root_ca.pem");
	CHECK(cor != NULL && anchors_add_pem_file(corim_only, cor, &e) == 0);
	load_cases();
	for (int i = 0; i < ncases; i++) {
		STACK_OF(X509) *ch = cases[i].chain;
		struct gpa_chain_result r;

		CHECK_INT(sk_X509_num(ch), 5);
		CHECK_INT(chain_validate(pinned, GPA_ANCHOR_DEVICE, ch, at, &r, &e), 0);
		if (r.status != GPA_CERT_VALID)
			fprintf(stderr, "%s: %s\n", cases[i].name, r.detail);
		CHECK_INT(r.status, GPA_CERT_VALID);
		CHECK_STREQ(r.expiry, "9999-12-31T23:59:59Z");
		CHECK(r.path != NULL && sk_X509_num(r.path) == 5);
		CHECK_STREQ(cert_status_name(r.status), "valid");
		chain_result_clear(&r);
		CHECK(r.path == NULL);

		CHECK_INT(validate(user, GPA_ANCHOR_DEVICE, ch, at, NULL, 0), GPA_CERT_VALID);
		CHECK_INT(validate(user, GPA_ANCHOR_RIM, ch, at, NULL, 0), GPA_CERT_VALID);
		/* The root inside the evidence is not trusted by itself. */
		CHECK_INT(validate(none, GPA_ANCHOR_DEVICE, ch, at, detail, sizeof(detail)),
		    GPA_CERT_INVALID);
		CHECK_CONTAINS(detail, "depth");
		/* Device chains never verify under the RIM hierarchy. */
		CHECK_INT(validate(pinned, GPA_ANCHOR_RIM, ch, at, NULL, 0), GPA_CERT_INVALID);
		CHECK_INT(validate(corim_only, GPA_ANCHOR_DEVICE, ch, at, NULL, 0), GPA_CERT_INVALID);
		checked++;
	}
	fprintf(stderr, "  %d real device chains checked\n", checked);
	CHECK(checked >= 14);
	anchors_free(pinned);
	anchors_free(none);
	anchors_free(user);
	anchors_free(corim_only);
}

static void test_real_chain_mutations(void)
{
	struct gpa_err e = { { 0 } };
	struct gpa_anchors *a = anchors_new(true, &e);
	STACK_OF(X509) *ch = shared_chain("vectors/nvidia/gpu/hopper_595.71.05_azure/cert_chain.pem");
	STACK_OF(X509) *bw = shared_chain("vectors/nvidia/gpu/blackwell_gb100_575.32/cert_chain.pem.txt");
	STACK_OF(X509) *m;
	char d[256];
	time_t at = when(AT_2026);

	if (ch == NULL || bw == NULL)
		SKIP("shared vectors not found");
	/* Root left out: the anchor completes the path. */
	m = chain_copy(ch);
	X509_free(sk_X509_pop(m));
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, m, at, d, sizeof(d)), GPA_CERT_VALID);
	sk_X509_pop_free(m, X509_free);
	/* Missing intermediate. */
	m = chain_copy(ch);
	X509_free(sk_X509_delete(m, 2));
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, m, at, d, sizeof(d)), GPA_CERT_INVALID);
	CHECK_CONTAINS(d, "unable to get local issuer certificate");
	sk_X509_pop_free(m, X509_free);
	/* Intermediates swapped: OpenSSL alone would accept the unordered pool. */
	m = chain_copy(ch);
	{
		X509 *t = sk_X509_value(m, 1);
		sk_X509_set(m, 1, sk_X509_value(m, 2));
		sk_X509_set(m, 2, t);
	}
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, m, at, d, sizeof(d)), GPA_CERT_INVALID);
	CHECK_CONTAINS(d, "certificate 1 (CN=NVIDIA GH100 Provisioner ICA 1): not the next");
	sk_X509_pop_free(m, X509_free);
	/* A certificate after the root. */
	m = chain_copy(ch);
	X509_up_ref(sk_X509_value(ch, 1));
	sk_X509_push(m, sk_X509_value(ch, 1));
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, m, at, d, sizeof(d)), GPA_CERT_INVALID);
	CHECK_CONTAINS(d, "unexpected certificate after the trust anchor");
	sk_X509_pop_free(m, X509_free);
	/* An unrelated certificate in the middle. */
	m = chain_copy(ch);
	X509_up_ref(sk_X509_value(bw, 1));
	sk_X509_insert(m, sk_X509_value(bw, 1), 2);
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, m, at, d, sizeof(d)), GPA_CERT_INVALID);
	CHECK_CONTAINS(d, "not the next certificate");
	sk_X509_pop_free(m, X509_free);
	/* Leaf of one chain with the intermediates of another. */
	m = chain_copy(ch);
	X509_free(sk_X509_value(m, 0));
	X509_up_ref(sk_X509_value(bw, 0));
	sk_X509_set(m, 0, sk_X509_value(bw, 0));
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, m, at, d, sizeof(d)), GPA_CERT_INVALID);
	sk_X509_pop_free(m, X509_free);
	/* Only the leaf. */
	m = sk_X509_new_null();
	X509_up_ref(sk_X509_value(ch, 0));
	sk_X509_push(m, sk_X509_value(ch, 0));
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, m, at, d, sizeof(d)), GPA_CERT_INVALID);
	sk_X509_pop_free(m, X509_free);
	/* Empty chain is a finding, not a crash. */
	m = sk_X509_new_null();
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, m, at, d, sizeof(d)), GPA_CERT_INVALID);
	sk_X509_free(m);
	sk_X509_pop_free(ch, X509_free);
	sk_X509_pop_free(bw, X509_free);
	anchors_free(a);
}

/* The RIM store with a real RIM's X509Certificate chain (extracted here by
 * a plain scan; the RIM layer owns real XML parsing). */
static STACK_OF(X509) *rim_chain(const char *rel)
{
	const char *p = shared_path(rel);
	size_t len;
	char *xml = p ? (char *)slurp(p, &len) : NULL, *cur;
	STACK_OF(X509) *sk = sk_X509_new_null();

	if (xml == NULL) {
		sk_X509_free(sk);
		return NULL;
	}
	cur = xml;
	while ((cur = strstr(cur, "X509Certificate>")) != NULL) {
		char *end = strstr(cur, "</");
		uint8_t *der;
		size_t dlen;
		const unsigned char *q;

		cur += strlen("X509Certificate>");
		if (end == NULL || end < cur)
			break;
		if (end > cur && b64_decode(cur, (size_t)(end - cur), true, &der, &dlen) == 0) {
			q = der;
			X509 *x = d2i_X509(NULL, &q, (long)dlen);
			if (x)
				sk_X509_push(sk, x);
			free(der);
		}
		cur = strchr(end, '>');
		if (cur == NULL)
			break;
	}
	free(xml);
	return sk;
}

static void test_rim_chains(void)
{
	struct gpa_err e = { { 0 } };
	struct gpa_anchors *a = anchors_new(true, &e);
	STACK_OF(X509) *r595 = rim_chain("vectors/nvidia/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml");
	STACK_OF(X509) *r545 = rim_chain(
	    "vectors/nvidia/rim/driver/NV_GPU_DRIVER_GH100_545.00__Driver_RIM_test_no_gpu.swidtag");
	char d[256];
	struct gpa_chain_result r;

	if (r595 == NULL || r545 == NULL)
		SKIP("shared vectors not found");
	CHECK_INT(sk_X509_num(r595), 4);
	CHECK_INT(validate(a, GPA_ANCHOR_RIM, r595, when(AT_2026), d, sizeof(d)), GPA_CERT_VALID);
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, r595, when(AT_2026), d, sizeof(d)), GPA_CERT_INVALID);
	CHECK_INT(validate(a, GPA_ANCHOR_RIM, r545, when("2024-01-01T00:00:00Z"), d, sizeof(d)),
	    GPA_CERT_VALID);
	CHECK_INT(chain_validate(a, GPA_ANCHOR_RIM, r545, when(AT_2026), &r, &e), 0);
	CHECK_INT(r.status, GPA_CERT_EXPIRED);
	CHECK_STREQ(r.expiry, "2025-06-26T06:10:12Z");
	CHECK_CONTAINS(r.detail, "certificate 0 (CN=HCC RIM L4 Signer) expired at 2025-06-26T06:10:12Z");
	CHECK_CONTAINS(r.detail, "expired at 2025-06-26");
	CHECK(r.path != NULL);
	chain_result_clear(&r);
	/* Before the leaf was issued. */
	CHECK_INT(validate(a, GPA_ANCHOR_RIM, r545, when("2023-01-01T00:00:00Z"), d, sizeof(d)),
	    GPA_CERT_NOT_YET_VALID);
	CHECK_CONTAINS(d, "is not valid before");
	sk_X509_pop_free(r595, X509_free);
	sk_X509_pop_free(r545, X509_free);
	anchors_free(a);
}

/* ---------------------------------------------------------------- generated chains */

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&v, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v, nid, value);
	if (ext == NULL || X509_add_ext(x, ext, -1) != 1)
		abort();
	X509_EXTENSION_free(ext);
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, bool ca,
    time_t nb, time_t na)
{
	static long serial = 1000;
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_NAME_free(n);
	ASN1_TIME_set(X509_getm_notBefore(x), nb);
	ASN1_TIME_set(X509_getm_notAfter(x), na);
	X509_set_pubkey(x, key);
	add_ext(x, issuer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, issuer, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	add_ext(x, issuer, NID_subject_key_identifier, "hash");
	add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	if (X509_sign(x, ikey ? ikey : key, EVP_sha384()) <= 0)
		abort();
	return x;
}

static char *cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	char *s;

	PEM_write_bio_X509(b, x);
	BIO_get_mem_ptr(b, &m);
	s = strndup(m->data, m->length);
	BIO_free(b);
	return s;
}

static STACK_OF(X509) *stack_of(X509 *a, X509 *b, X509 *c)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *v[3] = { a, b, c };

	for (int i = 0; i < 3; i++)
		if (v[i]) {
			X509_up_ref(v[i]);
			sk_X509_push(sk, v[i]);
		}
	return sk;
}

/* The signature memory replaces OpenSSL's internal_verify; where time is
 * checked (OCSP responder chains), it must still catch an expired or future
 * certificate, and a bad signature, memory or not. */
static int verify_with_memory(X509 *root, X509 *leaf, time_t at, bool check_time)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok, err;

	X509_STORE_add_cert(st, root);
	X509_STORE_set_verify(st, sigcache_chain_verify_cb);
	X509_STORE_CTX_init(ctx, st, leaf, NULL);
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), at);
	if (!check_time)
		X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_NO_CHECK_TIME);
	ok = X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	ERR_clear_error();
	return ok == 1 ? 0 : err;
}

static void test_signature_memory_keeps_checks(void)
{
	EVP_PKEY *rk = EVP_EC_gen("P-384"), *lk = EVP_EC_gen("P-384"), *other = EVP_EC_gen("P-384");
	time_t y2020 = when("2020-01-01T00:00:00Z"), y2040 = when("2040-01-01T00:00:00Z");
	time_t now = when("2026-11-28T00:00:00Z");
	X509 *root = make_cert("Memo Root", rk, NULL, NULL, true, y2020, y2040);
	X509 *good = make_cert("Memo Leaf", lk, root, rk, false, y2020, y2040);
	X509 *expired = make_cert("Memo Expired", lk, root, rk, false, y2020, when("2021-01-01T00:00:00Z"));
	X509 *forged = make_cert("Memo Forged", lk, root, other, false, y2020, y2040);

	CHECK_INT(verify_with_memory(root, good, now, true), 0);
	CHECK_INT(verify_with_memory(root, good, now, true), 0);	/* from memory */
	CHECK_INT(verify_with_memory(root, good, when("2019-01-01T00:00:00Z"), true), X509_V_ERR_CERT_NOT_YET_VALID);
	CHECK_INT(verify_with_memory(root, expired, now, true), X509_V_ERR_CERT_HAS_EXPIRED);
	CHECK_INT(verify_with_memory(root, expired, now, false), 0);	/* times left to the caller */
	CHECK_INT(verify_with_memory(root, forged, now, true), X509_V_ERR_CERT_SIGNATURE_FAILURE);
	CHECK_INT(verify_with_memory(root, forged, now, true), X509_V_ERR_CERT_SIGNATURE_FAILURE);
	X509_free(root);
	X509_free(good);
	X509_free(expired);
	X509_free(forged);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(lk);
	EVP_PKEY_free(other);
}

static void test_generated_validity(void)
{
	struct gpa_err e = { { 0 } };
	EVP_PKEY *rk = EVP_EC_gen("P-384"), *lk = EVP_EC_gen("P-384"), *ok = EVP_EC_gen("P-384");
	time_t y2020 = when("2020-01-01T00:00:00Z"), y2040 = when("2040-01-01T00:00:00Z");
	X509 *root = make_cert("Test Root", rk, NULL, NULL, true, y2020, y2040);
	X509 *old_root = make_cert("Old Root", ok, NULL, NULL, true, y2020,
	    when("2024-05-05T00:00:00Z"));
	X509 *expired = make_cert("Expired Leaf", lk, root, rk, false, y2020,
	    when("2021-02-03T04:05:06Z"));
	X509 *future = make_cert("Future Leaf", lk, root, rk, false, when("2030-01-01T00:00:00Z"), y2040);
	X509 *good = make_cert("Good Leaf", lk, root, rk, false, y2020, y2040);
	X509 *under_old = make_cert("Leaf Under Old Root", lk, old_root, ok, false, y2020, y2040);
	X509 *leaf_ca = make_cert("Not A Root", lk, root, rk, true, y2020, y2040);
	char *pem = cert_pem(root), *old_pem = cert_pem(old_root), *leaf_pem = cert_pem(good);
	char *both = malloc(strlen(pem) + strlen(old_pem) + 1);
	struct gpa_anchors *a = anchors_new(false, &e);
	struct gpa_chain_result r;
	STACK_OF(X509) *sk;
	time_t at = when(AT_2026);
	char d[256];

	strcpy(both, pem);
	strcat(both, old_pem);
	CHECK_INT(anchors_add_pem(a, leaf_pem, strlen(leaf_pem), "leaf.pem", &e), -1);
	CHECK_CONTAINS(e.msg, "leaf.pem: certificate 1 (CN=Good Leaf) is not a CA");
	CHECK_INT(anchors_add_pem(a, both, strlen(both), "roots.pem", &e), 0);
	CHECK_INT(anchors_count(a, GPA_ANCHOR_DEVICE), 2);
	CHECK_INT(anchors_count(a, GPA_ANCHOR_RIM), 2);
	/* The same file again adds nothing. */
	CHECK_INT(anchors_add_pem(a, both, strlen(both), "roots.pem", &e), 0);
	CHECK_INT(anchors_count(a, GPA_ANCHOR_DEVICE), 2);

	sk = stack_of(good, NULL, NULL);
	CHECK_INT(chain_validate(a, GPA_ANCHOR_DEVICE, sk, at, &r, &e), 0);
	CHECK_INT(r.status, GPA_CERT_VALID);
	CHECK_STREQ(r.expiry, "2040-01-01T00:00:00Z");
	CHECK(r.min_not_after == y2040);
	chain_result_clear(&r);
	sk_X509_pop_free(sk, X509_free);

	sk = stack_of(good, root, NULL);
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, sk, at, d, sizeof(d)), GPA_CERT_VALID);
	sk_X509_pop_free(sk, X509_free);
	sk = stack_of(good, root, root);
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, sk, at, d, sizeof(d)), GPA_CERT_INVALID);
	CHECK_CONTAINS(d, "certificate 2 (CN=Test Root): unexpected certificate after the trust anchor");
	sk_X509_pop_free(sk, X509_free);
	/* Path ends at Test Root, but the chain names another root there. */
	sk = stack_of(good, old_root, NULL);
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, sk, at, d, sizeof(d)), GPA_CERT_INVALID);
	CHECK_CONTAINS(d, "not the trust anchor that closes the path");
	sk_X509_pop_free(sk, X509_free);

	sk = stack_of(expired, root, NULL);
	CHECK_INT(chain_validate(a, GPA_ANCHOR_DEVICE, sk, at, &r, &e), 0);
	CHECK_INT(r.status, GPA_CERT_EXPIRED);
	CHECK_STREQ(r.expiry, "2021-02-03T04:05:06Z");
	CHECK_CONTAINS(r.detail, "CN=Expired Leaf");
	CHECK_CONTAINS(r.detail, "expired at 2021-02-03T04:05:06Z");
	CHECK_STREQ(cert_status_name(r.status), "expired");
	chain_result_clear(&r);
	/* Valid at a time inside its window. */
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, sk, when("2020-06-01T00:00:00Z"), d, sizeof(d)),
	    GPA_CERT_VALID);
	/* One second past notAfter / exactly notAfter. */
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, sk, when("2021-02-03T04:05:07Z"), d, sizeof(d)),
	    GPA_CERT_EXPIRED);
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, sk, when("2021-02-03T04:05:06Z"), d, sizeof(d)),
	    GPA_CERT_VALID);
	sk_X509_pop_free(sk, X509_free);

	sk = stack_of(future, NULL, NULL);
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, sk, at, d, sizeof(d)), GPA_CERT_NOT_YET_VALID);
	CHECK_CONTAINS(d, "CN=Future Leaf");
	CHECK_CONTAINS(d, "not valid before 2030-01-01T00:00:00Z");
	CHECK_STREQ(cert_status_name(GPA_CERT_NOT_YET_VALID), "not-yet-valid");
	sk_X509_pop_free(sk, X509_free);

	/* The anchor's own expiry counts. */
	sk = stack_of(under_old, NULL, NULL);
	CHECK_INT(validate(a, GPA_ANCHOR_DEVICE, sk, at, d, sizeof(d)), GPA_CERT_EXPIRED);
	CHECK_CONTAINS(d, "certificate 1 (CN=Old Root) expired");
	sk_X509_pop_free(sk, X509_free);

	/* A CA that is not self-signed is never a path end (no partial chains). */
	{
		struct gpa_anchors *b = anchors_new(false, &e);
		char *ica = cert_pem(leaf_ca);
		X509 *below = make_cert("Below ICA", ok, leaf_ca, lk, false, y2020, y2040);

		CHECK_INT(anchors_add_pem(b, ica, strlen(ica), "ica.pem", &e), 0);
		sk = stack_of(below, NULL, NULL);
		CHECK_INT(validate(b, GPA_ANCHOR_DEVICE, sk, at, d, sizeof(d)), GPA_CERT_INVALID);
		/* With its root trusted too, the path runs through the trusted ICA,
		 * but the chain must still carry every certificate below the root. */
		CHECK_INT(anchors_add_pem(b, pem, strlen(pem), "root.pem", &e), 0);
		CHECK_INT(validate(b, GPA_ANCHOR_DEVICE, sk, at, d, sizeof(d)), GPA_CERT_INVALID);
		CHECK_CONTAINS(d, "chain has 1 certificates but the validated path needs 3");
		sk_X509_pop_free(sk, X509_free);
		sk = stack_of(below, leaf_ca, NULL);
		CHECK_INT(validate(b, GPA_ANCHOR_DEVICE, sk, at, d, sizeof(d)), GPA_CERT_VALID);
		sk_X509_pop_free(sk, X509_free);
		X509_free(below);
		free(ica);
		anchors_free(b);
	}
	/* Nothing trusted at all. */
	{
		struct gpa_anchors *b = anchors_new(false, &e);
		sk = stack_of(good, root, NULL);
		CHECK_INT(validate(b, GPA_ANCHOR_DEVICE, sk, at, d, sizeof(d)), GPA_CERT_INVALID);
		CHECK_CONTAINS(d, "self-signed certificate in certificate chain");
		sk_X509_pop_free(sk, X509_free);
		anchors_free(b);
	}
	CHECK_STREQ(cert_status_name(GPA_CERT_INVALID), "invalid");
	{
		char nb[21], na[21];
		cert_validity(expired, nb, na);
		CHECK_STREQ(nb, "2020-01-01T00:00:00Z");
		CHECK_STREQ(na, "2021-02-03T04:05:06Z");
	}

	free(pem);
	free(old_pem);
	free(leaf_pem);
	free(both);
	anchors_free(a);
	X509_free(root);
	X509_free(old_root);
	X509_free(expired);
	X509_free(future);
	X509_free(good);
	X509_free(under_old);
	X509_free(leaf_ca);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(lk);
	EVP_PKEY_free(ok);
}

/* ---------------------------------------------------------------- PEM parsing */

static int pem_count(const char *s, size_t len, int max, char *msg, size_t mlen)
{
	struct gpa_err e = { { 0 } };
	STACK_OF(X509) *sk = chain_from_pem(s, len, max, &e);
	int n;

	if (msg)
		snprintf(msg, mlen, "%s", e.msg);
	if (sk == NULL)
		return -1;
	n = sk_X509_num(sk);
	sk_X509_pop_free(sk, X509_free);
	return n;
}

static void test_chain_from_pem_strict(void)
{
	SHARED_OR_SKIP(p, "vectors/nvidia/gpu/hopper_595.71.05_azure/cert_chain.pem");
	size_t len;
	char *pem = (char *)slurp(p, &len);
	char *buf = malloc(2 * len + 64), m[1024];
	const char *begin = "-----BEGIN CERTIFICATE-----";
	size_t first_end = (size_t)(strstr(pem, "-----END CERTIFICATE-----") - pem) +
	    strlen("-----END CERTIFICATE-----") + 1;

	CHECK_INT(pem_count(pem, len, 16, m, sizeof(m)), 5);
	CHECK_INT(pem_count(pem, len, 5, m, sizeof(m)), 5);
	CHECK_INT(pem_count(pem, len, 4, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "more than 4 certificates");
	CHECK_INT(pem_count("", 0, 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "not a PEM certificate chain");
	CHECK_INT(pem_count(" \n\t\r\n", 5, 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "not a PEM certificate chain");
	CHECK_INT(pem_count("hello world", 11, 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "not a PEM certificate chain");
	CHECK_INT(pem_count(pem, 0, 16, m, sizeof(m)), -1);
	/* Surrounding whitespace and no final newline are fine. */
	snprintf(buf, 2 * len + 64, "\n  \n%.*s", (int)(len - 1), pem);
	CHECK_INT(pem_count(buf, strlen(buf), 16, m, sizeof(m)), 5);
	/* Trailing garbage. */
	snprintf(buf, 2 * len + 64, "%sxyz\n", pem);
	CHECK_INT(pem_count(buf, strlen(buf), 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "unexpected data after certificate 5");
	/* Leading garbage. */
	snprintf(buf, 2 * len + 64, "junk\n%s", pem);
	CHECK_INT(pem_count(buf, strlen(buf), 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "not a PEM certificate chain");
	/* Garbage between blocks. */
	memcpy(buf, pem, first_end);
	snprintf(buf + first_end, 2 * len + 64 - first_end, "# comment\n%s", pem + first_end);
	CHECK_INT(pem_count(buf, strlen(buf), 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "unexpected data after certificate 1");
	/* Garbage glued to an END marker. */
	memcpy(buf, pem, first_end - 1);
	snprintf(buf + first_end - 1, 2 * len + 64 - first_end, "x\n%s", pem + first_end);
	CHECK_INT(pem_count(buf, strlen(buf), 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "certificate 1: unexpected data right after the END marker");
	/* Truncated: cut inside the third certificate, and right before an END marker. */
	CHECK_INT(pem_count(pem, len / 2, 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "certificate 3: no END CERTIFICATE marker");
	CHECK_INT(pem_count(pem, first_end - 3, 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "certificate 1: no END CERTIFICATE marker");
	/* A base64 line dropped: the DER is cut short. */
	{
		const char *l2 = strchr(pem + strlen(begin) + 1, '\n') + 1;
		const char *l3 = strchr(l2, '\n') + 1;
		size_t head = (size_t)(l2 - pem);
		memcpy(buf, pem, head);
		strcpy(buf + head, l3);
		CHECK_INT(pem_count(buf, strlen(buf), 16, m, sizeof(m)), -1);
		CHECK_CONTAINS(m, "certificate 1: not a valid X.509 certificate");
	}
	/* Invalid base64 character. */
	strcpy(buf, pem);
	buf[strlen(begin) + 5] = '*';
	CHECK_INT(pem_count(buf, strlen(buf), 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "certificate 1: invalid base64");
	/* Another PEM type. */
	snprintf(buf, 2 * len + 64, "%s-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", pem);
	CHECK_INT(pem_count(buf, strlen(buf), 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "certificate 6: PEM block is not a CERTIFICATE");
	/* PEM headers are not base64. */
	snprintf(buf, 2 * len + 64, "%s\nProc-Type: 4,ENCRYPTED\n%s", begin, pem + strlen(begin) + 1);
	CHECK_INT(pem_count(buf, strlen(buf), 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "certificate 1: invalid base64");
	/* BEGIN marker not on its own line. */
	snprintf(buf, 2 * len + 64, "%s%s", begin, pem + strlen(begin) + 1);
	CHECK_INT(pem_count(buf, strlen(buf), 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "certificate 1: BEGIN marker not followed by a line break");
	/* A NUL byte inside. */
	memcpy(buf, pem, len);
	buf[first_end] = '\0';
	CHECK_INT(pem_count(buf, len, 16, m, sizeof(m)), -1);
	/* CRLF line ends are accepted. */
	{
		size_t o = 0;
		for (size_t i = 0; i < len; i++) {
			if (pem[i] == '\n')
				buf[o++] = '\r';
			buf[o++] = pem[i];
		}
		CHECK_INT(pem_count(buf, o, 16, m, sizeof(m)), 5);
	}
	/* Bytes after the certificate's DER inside one PEM block. */
	{
		STACK_OF(X509) *sk = chain_from_pem(pem, len, 16, NULL);
		unsigned char *der = NULL;
		int dl = i2d_X509(sk_X509_value(sk, 0), &der);
		uint8_t *ext = malloc((size_t)dl + 2);
		char *b64, *pb;

		memcpy(ext, der, (size_t)dl);
		ext[dl] = 0x05;
		ext[dl + 1] = 0x00;
		b64 = b64_encode(ext, (size_t)dl + 2);
		pb = malloc(strlen(b64) + 100);
		sprintf(pb, "%s\n%s\n-----END CERTIFICATE-----\n", begin, b64);
		CHECK_INT(pem_count(pb, strlen(pb), 16, m, sizeof(m)), -1);
		CHECK_CONTAINS(m, "certificate 1: 2 bytes after the certificate's DER");
		/* The same without the extra bytes is fine (b64 on one long line). */
		free(b64);
		b64 = b64_encode(der, (size_t)dl);
		sprintf(pb, "%s\n%s\n-----END CERTIFICATE-----\n", begin, b64);
		CHECK_INT(pem_count(pb, strlen(pb), 16, m, sizeof(m)), 1);
		free(b64);
		free(pb);
		free(ext);
		OPENSSL_free(der);
		sk_X509_pop_free(sk, X509_free);
	}
	CHECK_INT(pem_count(pem, len, 0, m, sizeof(m)), -1);
	/* Empty body; END marker glued to the base64. */
	snprintf(buf, 2 * len + 64, "%s\n\n-----END CERTIFICATE-----\n", begin);
	CHECK_INT(pem_count(buf, strlen(buf), 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "certificate 1: not a valid X.509 certificate");
	snprintf(buf, 2 * len + 64, "%s\nAAAA-----END CERTIFICATE-----\n", begin);
	CHECK_INT(pem_count(buf, strlen(buf), 16, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "certificate 1: END marker not at the start of a line");
	free(buf);
	free(pem);
}

/* ---------------------------------------------------------------- reports */

/* Opaque FWID (type 20) of a report, parsed just enough for the test. */
static bool report_fwid(const uint8_t *r, size_t n, uint8_t out[48])
{
	size_t l1, off, olen;

	if (n < 37 + 8 + 96)
		return false;
	l1 = (size_t)r[42] | (size_t)r[43] << 8 | (size_t)r[44] << 16;
	off = 37 + 8 + l1 + 32;
	if (off + 2 > n)
		return false;
	olen = (size_t)r[off] | (size_t)r[off + 1] << 8;
	off += 2;
	if (off + olen > n)
		return false;
	for (size_t p = off; p + 4 <= off + olen;) {
		unsigned type = r[p] | r[p + 1] << 8, l = r[p + 2] | r[p + 3] << 8;
		if (p + 4 + l > off + olen)
			return false;
		if (type == 20 && l == 48) {
			memcpy(out, r + p + 4, 48);
			return true;
		}
		p += 4 + l;
	}
	return false;
}

static void test_report_signatures(void)
{
	int good = 0, bad = 0;

	load_cases();
	if (ncases == 0)
		SKIP("shared vectors not found");
	for (int i = 0; i < ncases; i++) {
		struct evcase *c = &cases[i];
		EVP_PKEY *k;
		int v;

		if (c->report == NULL || c->rlen <= 96)
			continue;
		k = X509_get0_pubkey(sk_X509_value(c->chain, 0));
		v = ecdsa_verify_raw_sha384(k, c->report, c->rlen - 96, c->report + c->rlen - 96, 96);
		if (v != (c->bad_signature ? 0 : 1))
			fprintf(stderr, "%s: signature result %d\n", c->name, v);
		CHECK_INT(v, c->bad_signature ? 0 : 1);
		if (c->bad_signature)
			bad++;
		else
			good++;
		/* The wrong width is refused, never trimmed. */
		CHECK_INT(ecdsa_verify_raw_sha384(k, c->report, c->rlen - 97, c->report + c->rlen - 97, 97), 0);
		CHECK_INT(ecdsa_verify_raw_sha384(k, c->report, c->rlen - 95, c->report + c->rlen - 95, 95), 0);
	}
	fprintf(stderr, "  %d genuine and %d invalid-signature reports checked\n", good, bad);
	CHECK(good >= 13);
	CHECK_INT(bad, 2);
}

static void test_report_signature_bitflips(void)
{
	SHARED_OR_SKIP(rp, "vectors/nvidia/gpu/hopper_595.71.05_azure/attestation_report.bin");
	STACK_OF(X509) *ch = shared_chain("vectors/nvidia/gpu/hopper_595.71.05_azure/cert_chain.pem");
	size_t n;
	uint8_t *r = slurp(rp, &n);
	EVP_PKEY *k;
	int ones = 0;

	CHECK(r != NULL && ch != NULL && n == 4129);
	if (r == NULL || ch == NULL || n != 4129)
		return;
	k = X509_get0_pubkey(sk_X509_value(ch, 0));
	CHECK_INT(ecdsa_verify_raw_sha384(k, r, n - 96, r + n - 96, 96), 1);
	for (size_t i = 0; i < n; i++) {
		r[i] ^= 0x01;
		if (ecdsa_verify_raw_sha384(k, r, n - 96, r + n - 96, 96) != 0)
			ones++;
		r[i] ^= 0x01;
	}
	CHECK_INT(ones, 0);
	/* Another device's key. */
	{
		STACK_OF(X509) *o = shared_chain("vectors/nvidia/gpu/hopper_550.90.07/cert_chain.pem.txt");
		CHECK(o != NULL);
		if (o)
			CHECK_INT(ecdsa_verify_raw_sha384(X509_get0_pubkey(sk_X509_value(o, 0)), r,
			    n - 96, r + n - 96, 96), 0);
		sk_X509_pop_free(o, X509_free);
	}
	/* r = 0 and s = 0 are invalid, not errors. */
	{
		uint8_t z[96] = { 0 };
		CHECK_INT(ecdsa_verify_raw_sha384(k, r, n - 96, z, 96), 0);
	}
	/* Not an EC key: internal error, never "valid". */
	{
		EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		CHECK(ed != NULL);
		CHECK_INT(ecdsa_verify_raw_sha384(ed, r, n - 96, r + n - 96, 96), -1);
		EVP_PKEY_free(ed);
	}
	CHECK_INT(ecdsa_verify_raw_sha384(NULL, r, n - 96, r + n - 96, 96), -1);
	free(r);
	sk_X509_pop_free(ch, X509_free);
}

/* ---------------------------------------------------------------- FWID */

static void test_fwid_real(void)
{
	static const struct {
		const char *dir;
		const char *hex;
	} known[] = {
		{ "hopper_550.90.07", "f5c384aebb579217a2c66b17ed0f28e6a9b8d639041acd7b4721cec004f7275494ba94bb5cdfdb3055ee051762b1f75d" },
		{ "hopper_595.71.05_azure", "209ce00c" },
		{ "blackwell_gb100_575.32", "d090cab1" },
		{ "hopper_570.124.03", "e9960d6a" },
		{ "hopper_580.159.03", "f1ae7d00" },
	};
	int matched = 0;

	load_cases();
	if (ncases == 0)
		SKIP("shared vectors not found");
	for (int i = 0; i < ncases; i++) {
		struct evcase *c = &cases[i];
		struct gpa_err e = { { 0 } };
		uint8_t cf[48], rf[48];
		char hex[97];
		int rc = cert_fwid(sk_X509_value(c->chain, 0), cf, &e);

		CHECK_INT(rc, 1);	/* every leaf in the corpus carries one */
		if (rc != 1) {
			fprintf(stderr, "%s: %s\n", c->name, e.msg);
			continue;
		}
		hex_encode(cf, 48, hex);
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strstr(c->name, known[k].dir) && strstr(c->name, "/cert_chain"))
				CHECK(strncmp(hex, known[k].hex, strlen(known[k].hex)) == 0);
		if (c->report == NULL || !report_fwid(c->report, c->rlen, rf))
			continue;
		if (c->bad_signature) {
			CHECK(memcmp(cf, rf, 48) != 0);	/* report of another GPU */
			continue;
		}
		CHECK(memcmp(cf, rf, 48) == 0);
		matched++;
	}
	fprintf(stderr, "  %d report FWIDs equal their leaf FWID\n", matched);
	CHECK(matched >= 9);
	/* Blackwell: full value from the report bytes, and the digest ends as documented. */
	{
		STACK_OF(X509) *bw = shared_chain("vectors/nvidia/gpu/blackwell_gb100_575.32/cert_chain.pem.txt");
		uint8_t f[48];
		char hex[97];
		CHECK(bw != NULL && cert_fwid(sk_X509_value(bw, 0), f, NULL) == 1);
		hex_encode(f, 48, hex);
		CHECK(str_endswith(hex, "ccf77502"));
		sk_X509_pop_free(bw, X509_free);
	}
	/* A certificate without either extension. */
	{
		STACK_OF(X509) *ch = shared_chain("vectors/nvidia/gpu/hopper_595.71.05_azure/cert_chain.pem");
		uint8_t f[48];
		CHECK(ch != NULL && cert_fwid(sk_X509_value(ch, 4), f, NULL) == 0);
		CHECK(ch != NULL && cert_fwid(sk_X509_value(ch, 1), f, NULL) == 0);
		sk_X509_pop_free(ch, X509_free);
	}
}

/* A copy of leaf with its DICE extension replaced by (oid, der). */
static X509 *with_ext(X509 *leaf, const char *oid, const uint8_t *der, size_t len, bool keep_old)
{
	X509 *x = X509_dup(leaf);
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext;
	int idx;

	if (!keep_old) {
		const char *olds[] = { "2.23.133.5.4.1", "2.23.133.5.4.1.1" };
		for (int i = 0; i < 2; i++) {
			ASN1_OBJECT *oo = OBJ_txt2obj(olds[i], 1);
			while ((idx = X509_get_ext_by_OBJ(x, oo, -1)) >= 0)
				X509_EXTENSION_free(X509_delete_ext(x, idx));
			ASN1_OBJECT_free(oo);
		}
	}
	ASN1_OCTET_STRING_set(os, der, (int)len);
	ext = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
	return x;
}

static int fwid_of(X509 *leaf, const char *oid, const uint8_t *der, size_t len, uint8_t out[48],
    char *msg, size_t mlen)
{
	struct gpa_err e = { { 0 } };
	X509 *x = with_ext(leaf, oid, der, len, false);
	int rc = cert_fwid(x, out, &e);

	if (msg)
		snprintf(msg, mlen, "%s", e.msg);
	X509_free(x);
	return rc;
}

/* The extension value of oid in c (borrowed). */
static const ASN1_OCTET_STRING *ext_value(X509 *c, const char *oid)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	int idx = X509_get_ext_by_OBJ(c, o, -1);

	ASN1_OBJECT_free(o);
	return idx < 0 ? NULL : X509_EXTENSION_get_data(X509_get_ext(c, idx));
}

/* SEQUENCE { a, b, c } with a minimal length (content under 256 bytes). */
static size_t dice_with(uint8_t *out, const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
    const uint8_t *c, size_t cl)
{
	size_t n = al + bl + cl, h;

	out[0] = 0x30;
	if (n < 0x80) {
		out[1] = (uint8_t)n;
		h = 2;
	} else {
		out[1] = 0x81;
		out[2] = (uint8_t)n;
		h = 3;
	}
	memcpy(out + h, a, al);
	if (bl)
		memcpy(out + h + al, b, bl);
	memcpy(out + h + al + bl, c, cl);
	return h + n;
}

static void test_fwid_malformed(void)
{
	STACK_OF(X509) *hc = shared_chain("vectors/nvidia/gpu/hopper_595.71.05_azure/cert_chain.pem");
	STACK_OF(X509) *bc = shared_chain("vectors/nvidia/gpu/blackwell_gb100_575.32/cert_chain.pem.txt");
	const char *H = "2.23.133.5.4.1", *B = "2.23.133.5.4.1.1";
	const ASN1_OCTET_STRING *hv, *bv;
	uint8_t hbuf[512], bbuf[512], t[600], f[48], ref_h[48], ref_b[48];
	size_t hl, bl;
	char m[1024];
	X509 *hleaf, *bleaf;
	int neg = 0;

	if (hc == NULL || bc == NULL)
		SKIP("shared vectors not found");
	hleaf = sk_X509_value(hc, 0);
	bleaf = sk_X509_value(bc, 0);
	hv = ext_value(hleaf, H);
	bv = ext_value(bleaf, B);
	CHECK(hv != NULL && bv != NULL);
	hl = (size_t)ASN1_STRING_length(hv);
	bl = (size_t)ASN1_STRING_length(bv);
	memcpy(hbuf, ASN1_STRING_get0_data(hv), hl);
	memcpy(bbuf, ASN1_STRING_get0_data(bv), bl);
	CHECK_INT(cert_fwid(hleaf, ref_h, NULL), 1);
	CHECK_INT(cert_fwid(bleaf, ref_b, NULL), 1);

	/* Re-inserted unchanged: same answer. */
	CHECK_INT(fwid_of(hleaf, H, hbuf, hl, f, m, sizeof(m)), 1);
	CHECK(memcmp(f, ref_h, 48) == 0);
	CHECK_INT(fwid_of(bleaf, B, bbuf, bl, f, m, sizeof(m)), 1);
	CHECK(memcmp(f, ref_b, 48) == 0);
	/* No extension at all. */
	CHECK_INT(fwid_of(hleaf, "1.2.3.4", hbuf, hl, f, m, sizeof(m)), 0);

	/* Every truncation of either value is refused. */
	for (size_t n = 0; n < hl; n++)
		neg += fwid_of(hleaf, H, hbuf, n, f, NULL, 0) == -1;
	CHECK_INT(neg, (int)hl);
	neg = 0;
	for (size_t n = 0; n < bl; n++)
		neg += fwid_of(bleaf, B, bbuf, n, f, NULL, 0) == -1;
	CHECK_INT(neg, (int)bl);
	/* Trailing byte after the SEQUENCE. */
	memcpy(t, hbuf, hl);
	t[hl] = 0;
	CHECK_INT(fwid_of(hleaf, H, t, hl + 1, f, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "not one DER SEQUENCE");
	memcpy(t, bbuf, bl);
	t[bl] = 0;
	CHECK_INT(fwid_of(bleaf, B, t, bl + 1, f, m, sizeof(m)), -1);
	/* Hopper value is 30 81 BA ...: a non-minimal long form 30 82 00 BA. */
	CHECK(hbuf[0] == 0x30 && hbuf[1] == 0x81);
	t[0] = 0x30; t[1] = 0x82; t[2] = 0x00;
	memcpy(t + 3, hbuf + 2, hl - 2);
	CHECK_INT(fwid_of(hleaf, H, t, hl + 1, f, m, sizeof(m)), -1);
	/* Indefinite length. */
	t[0] = 0x30; t[1] = 0x80;
	memcpy(t + 2, hbuf + 3, hl - 3);
	t[hl - 1] = 0; t[hl] = 0;
	CHECK_INT(fwid_of(hleaf, H, t, hl + 1, f, m, sizeof(m)), -1);
	/* Hash OID changed from sha384 (..02 02) to sha256 (..02 01). The hash
	 * OID sits right before the final 04 30 <48 bytes>. */
	memcpy(t, hbuf, hl);
	CHECK(t[hl - 50] == 0x04 && t[hl - 49] == 0x30 && t[hl - 51] == 0x02);
	t[hl - 51] = 0x01;
	CHECK_INT(fwid_of(hleaf, H, t, hl, f, m, sizeof(m)), -1);
	CHECK_CONTAINS(m, "not SHA-384");
	/* Digest OCTET STRING of 47 bytes (lengths fixed up all the way up). */
	{
		size_t n = 0;
		uint8_t in[300];
		/* Rebuild: SEQUENCE { INTEGER 1, SPKI, SEQUENCE { OID, OCTET STRING(47) } } */
		const uint8_t *spki = hbuf + 3 + 3;	/* after 30 81 BA, 02 01 01 */
		size_t spki_len = 2 + spki[1];
		uint8_t fw[100];
		size_t fl = 0;
		fw[fl++] = 0x30; fw[fl++] = 11 + 2 + 47;
		fw[fl++] = 0x06; fw[fl++] = 9;
		memcpy(fw + fl, (const uint8_t[]){ 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02 }, 9);
		fl += 9;
		fw[fl++] = 0x04; fw[fl++] = 47;
		memset(fw + fl, 0xab, 47);
		fl += 47;
		CHECK(spki[0] == 0x30 && spki[1] == 0x76);
		in[n++] = 0x30; in[n++] = 0x81; in[n++] = (uint8_t)(3 + spki_len + fl);
		in[n++] = 0x02; in[n++] = 0x01; in[n++] = 0x01;
		memcpy(in + n, spki, spki_len);
		n += spki_len;
		memcpy(in + n, fw, fl);
		n += fl;
		CHECK_INT(fwid_of(hleaf, H, in, n, f, m, sizeof(m)), -1);
		CHECK_CONTAINS(m, "47 bytes, expected 48");
		/* The same with 48 bytes parses, and yields those bytes. */
		in[2] += 1;
		fw[1] += 1;
		fw[14] = 48;
		memset(fw + 15, 0xcd, 48);
		memcpy(in + 6 + spki_len, fw, fl + 1);
		CHECK_INT(fwid_of(hleaf, H, in, n + 1, f, m, sizeof(m)), 1);
		CHECK(f[0] == 0xcd && f[47] == 0xcd);
		/* Fourth element. */
		in[2] += 2;
		in[n + 1] = 0x05;
		in[n + 2] = 0x00;
		CHECK_INT(fwid_of(hleaf, H, in, n + 3, f, m, sizeof(m)), -1);
		CHECK_CONTAINS(m, "not SEQUENCE { INTEGER, SubjectPublicKeyInfo, FWID }");
	}

	/* Blackwell: 30 81 B1 | 80 06 .. | 81 0D .. | 82 02 .. | 83 01 .. | 84 01 .. |
	 * 85 01 .. | A6 7E ... | 87 .. | 88 .. | 89 ..  */
	{
		size_t a6 = 3;
		while (a6 < bl && bbuf[a6] != 0xa6)
			a6 += 2 + bbuf[a6 + 1];
		CHECK(a6 < bl && bbuf[a6 + 1] == 0x7e);
		/* [6] primitive instead of constructed. */
		memcpy(t, bbuf, bl);
		t[a6] = 0x86;
		CHECK_INT(fwid_of(bleaf, B, t, bl, f, m, sizeof(m)), -1);
		CHECK_CONTAINS(m, "not constructed");
		/* [6] renamed [7] -> [7] appears twice / out of order. */
		t[a6] = 0xa7;
		CHECK_INT(fwid_of(bleaf, B, t, bl, f, m, sizeof(m)), -1);
		CHECK_CONTAINS(m, "out of order");
		/* Universal tag in place of a context field. */
		t[a6] = 0x30;
		CHECK_INT(fwid_of(bleaf, B, t, bl, f, m, sizeof(m)), -1);
		CHECK_CONTAINS(m, "not a context tag");
		/* First FWID's hash OID changed. */
		memcpy(t, bbuf, bl);
		CHECK(t[a6 + 4] == 0x06 && t[a6 + 14] == 0x02);
		t[a6 + 14] = 0x03;
		CHECK_INT(fwid_of(bleaf, B, t, bl, f, m, sizeof(m)), -1);
		CHECK_CONTAINS(m, "fwids entry 0");
		/* Second entry broken (OID tag made an INTEGER). */
		memcpy(t, bbuf, bl);
		CHECK(t[a6 + 2 + 63 + 2] == 0x06);
		t[a6 + 2 + 63 + 2] = 0x02;
		CHECK_INT(fwid_of(bleaf, B, t, bl, f, m, sizeof(m)), -1);
		CHECK_CONTAINS(m, "fwids entry 1");
		/* Second entry's OID ends inside a sub-identifier. */
		memcpy(t, bbuf, bl);
		CHECK(t[a6 + 2 + 63 + 4 + 8] == 0x02);
		t[a6 + 2 + 63 + 4 + 8] = 0x82;
		CHECK_INT(fwid_of(bleaf, B, t, bl, f, m, sizeof(m)), -1);
		CHECK_CONTAINS(m, "fwids entry 1: FWID hash algorithm is not a valid OID");
		/* Without [6], with an empty [6], with only the first FWID entry. */
		{
			const uint8_t *before = bbuf + 3, *after = bbuf + a6 + 2 + 0x7e;
			size_t nbefore = a6 - 3, nafter = bl - (a6 + 2 + 0x7e);
			uint8_t empty6[2] = { 0xa6, 0x00 }, one6[2 + 0x3f];
			size_t n;

			one6[0] = 0xa6;
			one6[1] = 0x3f;
			memcpy(one6 + 2, bbuf + a6 + 2, 0x3f);
			n = dice_with(t, before, nbefore, NULL, 0, after, nafter);
			CHECK_INT(fwid_of(bleaf, B, t, n, f, m, sizeof(m)), -1);
			CHECK_CONTAINS(m, "no fwids [6]");
			n = dice_with(t, before, nbefore, empty6, 2, after, nafter);
			CHECK_INT(fwid_of(bleaf, B, t, n, f, m, sizeof(m)), -1);
			CHECK_CONTAINS(m, "fwids list is empty");
			n = dice_with(t, before, nbefore, one6, sizeof(one6), after, nafter);
			CHECK_INT(fwid_of(bleaf, B, t, n, f, m, sizeof(m)), 1);
			CHECK(memcmp(f, ref_b, 48) == 0);
			/* The same with the outer length in a needless long form. */
			CHECK(t[1] < 0x80);
			memmove(t + 3, t + 2, n - 2);
			t[2] = t[1];
			t[1] = 0x81;
			CHECK_INT(fwid_of(bleaf, B, t, n + 1, f, m, sizeof(m)), -1);
		}
		/* High tag number form. */
		memcpy(t, bbuf, bl);
		t[3] = 0x9f;
		CHECK_INT(fwid_of(bleaf, B, t, bl, f, m, sizeof(m)), -1);
	}
	/* Both extensions on one leaf: equal is fine, different is refused. */
	{
		X509 *x = with_ext(bleaf, H, hbuf, hl, true);
		struct gpa_err e = { { 0 } };
		CHECK_INT(cert_fwid(x, f, &e), -1);
		CHECK_CONTAINS(e.msg, "carry different FWIDs");
		X509_free(x);
	}
	/* The same extension twice. */
	{
		X509 *x = with_ext(hleaf, H, hbuf, hl, true);
		struct gpa_err e = { { 0 } };
		CHECK_INT(cert_fwid(x, f, &e), -1);
		CHECK_CONTAINS(e.msg, "more than once");
		X509_free(x);
	}
	/* Every single-byte change: a clean answer, never a crash (ASan run). */
	for (size_t i = 0; i < hl; i++) {
		memcpy(t, hbuf, hl);
		t[i] ^= 0x80;
		int rc = fwid_of(hleaf, H, t, hl, f, NULL, 0);
		CHECK(rc == -1 || rc == 1);
	}
	for (size_t i = 0; i < bl; i++) {
		memcpy(t, bbuf, bl);
		t[i] ^= 0x80;
		int rc = fwid_of(bleaf, B, t, bl, f, NULL, 0);
		CHECK(rc == -1 || rc == 1);
	}
	sk_X509_pop_free(hc, X509_free);
	sk_X509_pop_free(bc, X509_free);
}

/* ---------------------------------------------------------------- certinfo */

static void test_certinfo(void)
{
	STACK_OF(X509) *ch = shared_chain("vectors/nvidia/gpu/hopper_595.71.05_azure/cert_chain.pem");
	STACK_OF(X509) *sw = shared_chain("vectors/nvidia/switch/ls10_96.10.55.00.01/cert_chain.pem.txt");
	STACK_OF(X509) *bw = shared_chain("vectors/nvidia/gpu/blackwell_gb100_575.32/cert_chain.pem.txt");
	char *s, nb[21], na[21];

	if (ch == NULL || sw == NULL || bw == NULL)
		SKIP("shared vectors not found");
	s = cert_serial_decimal(sk_X509_value(ch, 0));
	CHECK_STREQ(s, "670675190330701367605337753580860420643006460535");
	free(s);
	s = cert_serial_decimal(sk_X509_value(sw, 0));
	CHECK_STREQ(s, "694931143880983876767046803400974855445978836716");
	free(s);
	s = cert_serial_decimal(sk_X509_value(bw, 0));
	CHECK_STREQ(s, "474146966256510137525212816567191319424869109849");
	free(s);
	s = cert_subject_cn(sk_X509_value(ch, 0));
	CHECK_STREQ(s, "GH100 A01 GSP FMC LF");
	free(s);
	s = cert_subject_cn(sk_X509_value(ch, 1));
	CHECK_STREQ(s, "GH100 A01 GSP BROM");
	free(s);
	s = cert_subject_cn(sk_X509_value(sw, 1));
	CHECK_STREQ(s, "LS_10 A01 FSP BROM");
	free(s);
	s = cert_subject_serial_number(sk_X509_value(ch, 1));
	CHECK_STREQ(s, "4199685C89DEA86009");
	free(s);
	s = cert_subject_serial_number(sk_X509_value(sw, 1));
	CHECK(s != NULL && strncmp(s, "50", 2) == 0 && strlen(s) == 18);
	free(s);
	CHECK(cert_subject_serial_number(sk_X509_value(ch, 4)) == NULL);
	s = cert_subject_line(sk_X509_value(ch, 0));
	CHECK_STREQ(s, "serialNumber = 757A1D9BAD0EA68CB31B8418822D41A42C003277, C = US, "
	    "O = NVIDIA Corporation, CN = GH100 A01 GSP FMC LF");
	free(s);
	cert_validity(sk_X509_value(ch, 0), nb, na);
	CHECK_STREQ(nb, "2020-10-17T00:00:00Z");
	CHECK_STREQ(na, "9999-12-31T23:59:59Z");
	CHECK(cert_subject_cn(NULL) == NULL);
	CHECK(cert_serial_decimal(NULL) == NULL);
	/* A CN with an embedded NUL is refused rather than cut short. */
	{
		X509 *x = X509_new();
		X509_NAME *n = X509_NAME_new();
		X509_NAME_add_entry_by_txt(n, "CN", V_ASN1_UTF8STRING, (const unsigned char *)"A\0B", 3, -1, 0);
		X509_set_subject_name(x, n);
		CHECK(cert_subject_cn(x) == NULL);
		/* Two CNs are ambiguous. */
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"one", -1, -1, 0);
		X509_NAME_ENTRY_free(X509_NAME_delete_entry(n, 0));
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"two", -1, -1, 0);
		X509_set_subject_name(x, n);
		CHECK(cert_subject_cn(x) == NULL);
		X509_NAME_free(n);
		X509_free(x);
	}
	sk_X509_pop_free(ch, X509_free);
	sk_X509_pop_free(sw, X509_free);
	sk_X509_pop_free(bw, X509_free);
}

/* ---------------------------------------------------------------- Wycheproof */

static void test_wycheproof_p384_p1363(void)
{
	SHARED_OR_SKIP(p, "vectors/wycheproof/ecdsa_secp384r1_sha384_p1363_test.json");
	json_error_t je;
	json_t *root = json_load_file(p, 0, &je), *grp, *tc;
	size_t gi, ti;
	int total = 0, valid = 0, invalid = 0, acceptable = 0, wrong = 0;

	CHECK(root != NULL);
	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "testGroups"), gi, grp) {
		const char *kd = json_string_value(json_object_get(grp, "publicKeyDer"));
		uint8_t kder[256];
		long kl = kd ? hex_decode(kd, strlen(kd), kder, sizeof(kder), false) : -1;
		const unsigned char *q = kder;
		EVP_PKEY *k = kl > 0 ? d2i_PUBKEY(NULL, &q, kl) : NULL;

		CHECK(k != NULL);
		if (k == NULL)
			continue;
		json_array_foreach(json_object_get(grp, "tests"), ti, tc) {
			const char *mh = json_string_value(json_object_get(tc, "msg"));
			const char *sh = json_string_value(json_object_get(tc, "sig"));
			const char *res = json_string_value(json_object_get(tc, "result"));
			size_t ml = strlen(mh), sl = strlen(sh);
			uint8_t *msg = malloc(ml / 2 + 1), *sig = malloc(sl / 2 + 1);
			long mn = hex_decode(mh, ml, msg, ml / 2 + 1, false);
			long sn = hex_decode(sh, sl, sig, sl / 2 + 1, false);
			int v = ecdsa_verify_raw_sha384(k, msg, (size_t)mn, sig, (size_t)sn);

			CHECK(mn >= 0 && sn >= 0);
			total++;
			if (strcmp(res, "valid") == 0) {
				valid++;
				if (v != 1)
					wrong++, fprintf(stderr, "tcId %lld: expected valid, got %d\n",
					    json_integer_value(json_object_get(tc, "tcId")), v);
			} else if (strcmp(res, "invalid") == 0) {
				invalid++;
				if (v != 0)
					wrong++, fprintf(stderr, "tcId %lld: expected invalid, got %d\n",
					    json_integer_value(json_object_get(tc, "tcId")), v);
			} else {
				acceptable++;
				CHECK(v == 0 || v == 1);
			}
			free(msg);
			free(sig);
		}
		EVP_PKEY_free(k);
	}
	fprintf(stderr, "  wycheproof: %d tests (%d valid, %d invalid, %d acceptable)\n", total,
	    valid, invalid, acceptable);
	CHECK_INT(total, 280);
	CHECK_INT(wrong, 0);
	json_decref(root);
}

int main(void)
{
	RUN(test_pinned_anchors);
	RUN(test_pinned_fingerprint_mismatch);
	RUN(test_user_anchor_non_ca_rejected);
	RUN(test_real_chains_valid);
	RUN(test_real_chain_mutations);
	RUN(test_rim_chains);
	RUN(test_generated_validity);
	RUN(test_signature_memory_keeps_checks);
	RUN(test_chain_from_pem_strict);
	RUN(test_report_signatures);
	RUN(test_report_signature_bitflips);
	RUN(test_fwid_real);
	RUN(test_fwid_malformed);
	RUN(test_certinfo);
	RUN(test_wycheproof_p384_p1363);
	free_cases();
	return harness_done("x509");
}
