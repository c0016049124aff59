/*
 * Tests of x509/ocsp against a real OpenSSL OCSP responder on 127.0.0.1
 * (tests/servers/ocspd.py running `openssl ocsp` per request) over a PKI
 * made here by tests/servers/mkpki.sh. No other network.
 */
#include "harness.h"
#include "servers/spawn.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "net/bundle.h"
#include "net/cache.h"
#include "x509/ocsp.h"
#include "x509/x509_internal.h"

static char pki[512];
static int port = -1;
static struct gpa_anchors *anchors;
static time_t now;

static X509 *load(const char *name)
{
	return spawn_pki_cert(pki, name);
}

/* leaf, ica, root */
static STACK_OF(X509) *chain3(const char *leaf)
{
	STACK_OF(X509) *s = sk_X509_new_null();

	sk_X509_push(s, load(leaf));
	sk_X509_push(s, load("ica"));
	sk_X509_push(s, load("root"));
	return s;
}

static void read_line(const char *name, char *out, size_t len)
{
	char p[700];
	FILE *f;

	out[0] = 0;
	snprintf(p, sizeof(p), "%s/%s", pki, name);
	if ((f = fopen(p, "r")) != NULL) {
		if (fgets(out, (int)len, f) == NULL)
			out[0] = 0;
		fclose(f);
	}
	out[strcspn(out, "\n")] = 0;
}

static void setup(void)
{
	char cmd[800], ica_hash[80], root_hash[80];
	char r1[1400], r2[1400], s1[900], s2[900];
	struct gpa_err e;

	now = time(NULL);
	if (spawn_mkpki(pki, sizeof(pki)) != 0)
		return;
	read_line("ica.keyhash", ica_hash, sizeof(ica_hash));
	read_line("root.keyhash", root_hash, sizeof(root_hash));
	snprintf(r1, sizeof(r1), "%s=%s/db_ica/index.txt,%s/ica.pem,%s/ocsp_ica.pem,%s/ocsp_ica.key",
	    ica_hash, pki, pki, pki, pki);
	snprintf(r2, sizeof(r2), "%s=%s/db_root/index.txt,%s/root.pem,%s/root.pem,%s/root.key",
	    root_hash, pki, pki, pki, pki);
	snprintf(s1, sizeof(s1), "rogue=%s/rogue.pem,%s/rogue.key", pki, pki);
	snprintf(s2, sizeof(s2), "self=%s/selfsigned.pem,%s/selfsigned.key", pki, pki);
	{
		char *argv[] = { "python3", "tests/servers/ocspd.py", "--route", r1, "--route", r2,
		    "--signer", s1, "--signer", s2, "--lifetime", "180", NULL };
		port = spawn_server(argv, "ocspd");
	}
	snprintf(cmd, sizeof(cmd), "%s/root.pem", pki);
	if ((anchors = anchors_new(false, &e)) == NULL || anchors_add_pem_file(anchors, cmd, &e) != 0) {
		fprintf(stderr, "anchors: %s\n", e.msg);
		port = -1;
	}
}

#define NEED() do { if (port < 0) SKIP("PKI or ocspd.py could not be set up (openssl, python3?)"); } while (0)

static void fast_http(struct gpa_http_opts *h)
{
	http_opts_default(h);
	h->connect_timeout_ms = 1000;
	h->timeout_ms = 5000;
	h->total_timeout_ms = 10000;
	h->backoff_base_ms = 10;
	h->backoff_max_ms = 50;
}

struct fx {
	struct gpa_http_opts http;
	struct gpa_ocsp_opts o;
	char url[256];
};

static void fx_init(struct fx *f, const char *modes)
{
	fast_http(&f->http);
	ocsp_opts_default(&f->o);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/%s", port, modes);
	f->o.url = f->url;
	f->o.http = &f->http;
}

/* One chain checked RIM-style (leaf and ica) at `at`; returns the result. */
static struct gpa_ocsp_chain run1(struct fx *f, const char *leaf, int first, bool allow_hold,
    time_t at)
{
	struct gpa_ocsp_job j;
	struct gpa_err e;

	memset(&j, 0, sizeof(j));
	j.name = leaf;
	j.chain = chain3(leaf);
	j.anchors = anchors;
	j.use = GPA_ANCHOR_RIM;
	j.first = first;
	j.allow_hold = allow_hold;
	if (ocsp_check_all(&f->o, &j, 1, at, &e) != 0) {
		fprintf(stderr, "ocsp_check_all: %s\n", e.msg);
		j.result.status = (enum gpa_ocsp_status)-1;
	}
	sk_X509_pop_free(j.chain, X509_free);
	return j.result;
}

static void test_good_chain(void)
{
	struct fx f;
	struct gpa_ocsp_chain c;

	NEED();
	fx_init(&f, "");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK_STREQ(ocsp_status_name(c.status), "good");
	CHECK(c.response_valid);
	CHECK(c.nonce_matches);
	CHECK(c.passed);
	CHECK(c.revocation_reason == NULL);
	CHECK_INT(c.ncerts, 2);
	/* Root-most first: the intermediate (answered by the root itself),
	 * then the leaf (answered by ica's delegated responder). */
	CHECK_INT(c.certs[0].index, 1);
	CHECK_STREQ(c.certs[0].subject_cn, "Test Intermediate CA");
	CHECK_INT(c.certs[1].index, 0);
	CHECK_INT(c.certs[1].source, GPA_OCSP_FROM_RESPONDER);
	CHECK(c.certs[1].next_update - c.certs[1].this_update == 86400);
	CHECK(c.certs[1].age_s >= -5 && c.certs[1].age_s < 60);
	/* Device style: the leaf is not checked. */
	c = run1(&f, "leaf_revoked", GPA_OCSP_FIRST_DEVICE, false, now);
	CHECK_INT(c.ncerts, 1);
	CHECK_STREQ(ocsp_status_name(c.status), "good");
}

static void test_revoked(void)
{
	struct fx f;
	struct gpa_ocsp_chain c;

	NEED();
	fx_init(&f, "");
	c = run1(&f, "leaf_revoked", GPA_OCSP_FIRST_RIM, true, now);
	CHECK_STREQ(ocsp_status_name(c.status), "revoked");
	CHECK_STREQ(c.revocation_reason, "keyCompromise");
	CHECK(c.response_valid);
	CHECK(!c.passed);
	CHECK(!c.hold_allowed);
}

static void test_certificate_hold(void)
{
	struct fx f;
	struct gpa_ocsp_chain c;

	NEED();
	fx_init(&f, "");
	c = run1(&f, "leaf_hold", GPA_OCSP_FIRST_RIM, false, now);
	CHECK_STREQ(ocsp_status_name(c.status), "revoked");
	CHECK_STREQ(c.revocation_reason, "certificateHold");
	CHECK(!c.passed);
	CHECK(!c.hold_allowed);
	c = run1(&f, "leaf_hold", GPA_OCSP_FIRST_RIM, true, now);
	CHECK_STREQ(ocsp_status_name(c.status), "revoked");
	CHECK_STREQ(c.revocation_reason, "certificateHold");
	CHECK(c.passed);
	CHECK(c.hold_allowed);
	CHECK_CONTAINS(c.certs[1].detail, "certificate hold accepted");
}

static void test_unknown(void)
{
	struct fx f;
	struct gpa_ocsp_chain c;

	NEED();
	fx_init(&f, "");
	c = run1(&f, "leaf_unknown", GPA_OCSP_FIRST_RIM, false, now);
	CHECK_STREQ(ocsp_status_name(c.status), "unknown");
	CHECK(c.response_valid);
	CHECK(!c.passed);
}

static void test_unauthorised_responders(void)
{
	struct fx f;
	struct gpa_ocsp_chain c;

	NEED();
	/* rogue is a responder delegated by the root: it may answer for ica
	 * (issued by root) but not for the leaf (issued by ica). */
	fx_init(&f, "signer=rogue");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK(c.certs[0].response_valid);
	CHECK_STREQ(ocsp_status_name(c.certs[0].status), "good");
	CHECK(!c.certs[1].response_valid);
	CHECK_STREQ(ocsp_status_name(c.certs[1].status), "error");
	CHECK_STREQ(ocsp_status_name(c.status), "error");
	CHECK(!c.response_valid);
	CHECK(!c.passed);
	CHECK_CONTAINS(c.certs[1].detail, "not valid");
	CHECK_CONTAINS(c.certs[1].detail, "it says good");
	fx_init(&f, "signer=self");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK(!c.certs[0].response_valid && !c.certs[1].response_valid);
	CHECK(!c.passed);
	fx_init(&f, "badsig");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK(!c.response_valid);
	CHECK_STREQ(ocsp_status_name(c.status), "error");
}

/* Answers signed with a P-384 key are checked by Nettle (x509/p384.c),
 * whatever the digest; OpenSSL still judges the responder, and a damaged
 * signature is still refused (by OpenSSL, which has the last word). */
static void test_signature_by_nettle(void)
{
	static const char *const modes[] = { "", "rmd=sha256", "rmd=sha512" };
	struct fx f;
	struct gpa_ocsp_chain c;
	unsigned long before;

	NEED();
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		fx_init(&f, modes[i]);
		/* The second run finds the responders' certificates already
		 * checked (signature memory): only the two answers are left. */
		(void)run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
		before = p384_accepted();
		c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
		CHECK(c.passed && c.response_valid);
		CHECK_INT(p384_accepted() - before, 2);
	}
	/* A valid signature by a key that may not answer for the leaf. */
	fx_init(&f, "rmd=sha512/signer=rogue");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK(c.certs[0].response_valid && !c.certs[1].response_valid && !c.passed);
	fx_init(&f, "rmd=sha384/badsig");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK(!c.response_valid && !c.passed);
	CHECK_STREQ(ocsp_status_name(c.status), "error");
	CHECK_CONTAINS(c.certs[0].detail, "signature");
}

/* One answer judged directly (ocsp_process_response), as for leaf_good
 * issued by ica under root: the query, the anchors (root), the untrusted
 * chain (ica) and the answer `openssl ocsp` wrote in the PKI directory. */
struct direct {
	X509 *leaf, *ica, *root;
	struct gpa_ocsp_query q;
	struct gpa_ocsp_opts o;
	X509_STORE *st;
	STACK_OF(X509) *chain;
	uint8_t *resp;
	size_t resplen;
};

static void direct_init(struct direct *d)
{
	struct gpa_err e;

	memset(d, 0, sizeof(*d));
	d->leaf = load("leaf_good");
	d->ica = load("ica");
	d->root = load("root");
	CHECK_INT(ocsp_query_init(&d->q, d->leaf, d->ica, &e), 0);
	d->st = X509_STORE_new();
	X509_STORE_add_cert(d->st, d->root);
	d->chain = sk_X509_new_null();
	sk_X509_push(d->chain, d->ica);
	ocsp_opts_default(&d->o);
}

/* Runs `cd PKI && <cmd>` and reads the answer it wrote to PKI/<out>. */
static void direct_respond(struct direct *d, const char *cmd, const char *out)
{
	char p[700], sh[3000];
	struct gpa_err e;

	snprintf(sh, sizeof(sh), "cd '%s' && %s", pki, cmd);
	CHECK_INT(spawn_sh(sh), 0);
	snprintf(p, sizeof(p), "%s/%s", pki, out);
	CHECK_INT(file_read(p, 100000, &d->resp, &d->resplen, &e), 0);
}

/* ocsp_process_response of bytes for the fixture's query, chain and anchors. */
static void direct_judge(struct direct *d, const uint8_t *der, size_t len, struct gpa_ocsp_query *q,
    enum gpa_ocsp_source from, struct gpa_ocsp_cert *r)
{
	memset(r, 0, sizeof(*r));
	ocsp_process_response(der, len, q ? q : &d->q, from, d->chain, d->st, now, &d->o, false, r);
}

static void direct_clear(struct direct *d)
{
	free(d->resp);
	sk_X509_free(d->chain);
	X509_STORE_free(d->st);
	ocsp_query_clear(&d->q);
	X509_free(d->leaf);
	X509_free(d->ica);
	X509_free(d->root);
}

/* Why OCSP_NOEXPLICIT: an anchor marked trusted for OCSP signing would
 * otherwise let any certificate under it answer for anyone. */
static void test_explicit_trust_does_not_authorise(void)
{
	struct direct d;
	struct gpa_ocsp_cert r;
	struct gpa_err e;
	uint8_t *req;
	size_t reqlen;
	char p[700];
	FILE *f;

	NEED();
	direct_init(&d);
	CHECK_INT(ocsp_query_der(&d.q, &req, &reqlen, &e), 0);
	snprintf(p, sizeof(p), "%s/rogue-req.der", pki);
	f = fopen(p, "wb");
	fwrite(req, 1, reqlen, f);
	fclose(f);
	free(req);
	direct_respond(&d, "openssl ocsp -index db_ica/index.txt -CA ica.pem -rsigner rogue.pem "
	    "-rkey rogue.key -reqin rogue-req.der -respout rogue-resp.der -ndays 1 >/dev/null 2>&1",
	    "rogue-resp.der");
	X509_add1_trust_object(d.root, OBJ_nid2obj(NID_OCSP_sign));
	{
		/* Without the flag OpenSSL accepts this response. */
		const unsigned char *b = d.resp;
		OCSP_RESPONSE *or = d2i_OCSP_RESPONSE(NULL, &b, (long)d.resplen);
		OCSP_BASICRESP *bs = or ? OCSP_response_get1_basic(or) : NULL;
		CHECK(bs != NULL && OCSP_basic_verify(bs, d.chain, d.st, 0) == 1);
		OCSP_BASICRESP_free(bs);
		OCSP_RESPONSE_free(or);
		ERR_clear_error();
	}
	direct_judge(&d, d.resp, d.resplen, NULL, GPA_OCSP_FROM_RESPONDER, &r);
	CHECK(!r.response_valid);
	CHECK_INT(r.status, GPA_OCSP_ERROR);
	CHECK(r.nonce_matches);		/* the nonce is fine; authority is not */
	/* A byte appended: not accepted. */
	{
		uint8_t *longer = malloc(d.resplen + 1);
		memcpy(longer, d.resp, d.resplen);
		longer[d.resplen] = 0;
		direct_judge(&d, longer, d.resplen + 1, NULL, GPA_OCSP_FROM_RESPONDER, &r);
		CHECK_CONTAINS(r.detail, "trailing bytes");
		direct_judge(&d, longer, d.resplen / 2, NULL, GPA_OCSP_FROM_RESPONDER, &r);
		CHECK_CONTAINS(r.detail, "not a DER OCSP response");
		free(longer);
	}
	/* The answer is for leaf_good: asked about another certificate, it is no answer. */
	{
		struct gpa_ocsp_query q2;
		X509 *other = load("leaf_revoked");
		CHECK_INT(ocsp_query_init(&q2, other, d.ica, &e), 0);
		direct_judge(&d, d.resp, d.resplen, &q2, GPA_OCSP_FROM_RESPONDER, &r);
		CHECK_CONTAINS(r.detail, "no answer for this certificate");
		ocsp_query_clear(&q2);
		X509_free(other);
	}
	direct_clear(&d);
}

/* ---- the shape of a response -------------------------------------------- */

/* Appends tag + DER length + content to out (which has room). */
static size_t put_tlv(uint8_t *out, uint8_t tag, const uint8_t *content, size_t n)
{
	size_t k = 0;

	out[k++] = tag;
	if (n < 0x80) {
		out[k++] = (uint8_t)n;
	} else if (n < 0x100) {
		out[k++] = 0x81;
		out[k++] = (uint8_t)n;
	} else {
		out[k++] = 0x82;
		out[k++] = (uint8_t)(n >> 8);
		out[k++] = (uint8_t)n;
	}
	memmove(out + k, content, n);
	return k + n;
}

/* The element at *p: moves *p past it; its content in (*c, *n). */
static size_t get_tlv(const uint8_t **p, const uint8_t **c, size_t *n)
{
	const unsigned char *q = *p, *start = *p;
	long len;
	int tag, cls;

	if (ASN1_get_object(&q, &len, &tag, &cls, 65536) & 0x80)
		return 0;
	*c = q;
	*n = (size_t)len;
	*p = q + len;
	return (size_t)(*p - start);
}

struct resp_parts {
	const uint8_t *tbs, *alg, *sig, *certs;	/* whole elements; certs: the SEQUENCE OF content */
	size_t tbs_n, alg_n, sig_n, certs_n;
};

static bool split_response(const uint8_t *der, struct resp_parts *rp)
{
	const uint8_t *p = der, *c, *basic;
	size_t n, bn;

	/* OCSPResponse > [0] > ResponseBytes > (type, OCTET STRING) > Basic */
	if (!get_tlv(&p, &c, &n))
		return false;
	p = c;
	get_tlv(&p, &c, &n);			/* status */
	get_tlv(&p, &c, &n);			/* [0] */
	p = c;
	get_tlv(&p, &c, &n);			/* ResponseBytes */
	p = c;
	get_tlv(&p, &c, &n);			/* responseType */
	get_tlv(&p, &basic, &bn);		/* response */
	p = basic;
	get_tlv(&p, &c, &n);			/* BasicOCSPResponse */
	p = c;
	rp->tbs = p;
	rp->tbs_n = get_tlv(&p, &c, &n);
	rp->alg = p;
	rp->alg_n = get_tlv(&p, &c, &n);
	rp->sig = p;
	rp->sig_n = get_tlv(&p, &c, &n);
	get_tlv(&p, &c, &n);			/* [0] certs */
	p = c;
	get_tlv(&p, &rp->certs, &rp->certs_n);	/* SEQUENCE OF Certificate */
	return rp->tbs_n && rp->alg_n && rp->sig_n && rp->certs_n;
}

/* An OCSPResponse around a BasicOCSPResponse made of the parts, with the
 * given certs content (NULL: no certs field), extra bytes after it, and
 * the response type's last OID byte. Returns its length in out. */
static size_t build_response(const struct resp_parts *rp, const uint8_t *certs, size_t certs_n,
    const uint8_t *extra, size_t extra_n, uint8_t oid_last, uint8_t *out)
{
	static uint8_t a[8192], b[8192];
	const uint8_t status[] = { 0x0a, 0x01, 0x00 };
	uint8_t oid[] = { 0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, oid_last };
	size_t n = 0, m;

	memcpy(a, rp->tbs, rp->tbs_n);
	n = rp->tbs_n;
	memcpy(a + n, rp->alg, rp->alg_n);
	n += rp->alg_n;
	memcpy(a + n, rp->sig, rp->sig_n);
	n += rp->sig_n;
	if (certs != NULL) {
		m = put_tlv(b, 0x30, certs, certs_n);
		n += put_tlv(a + n, 0xa0, b, m);
	}
	if (extra_n > 0)
		memcpy(a + n, extra, extra_n);
	n += extra_n;
	m = put_tlv(b, 0x30, a, n);			/* BasicOCSPResponse */
	n = put_tlv(a, 0x04, b, m);			/* OCTET STRING */
	memmove(a + sizeof(oid), a, n);
	memcpy(a, oid, sizeof(oid));
	m = put_tlv(b, 0x30, a, n + sizeof(oid));	/* ResponseBytes */
	n = put_tlv(a, 0xa0, b, m);			/* [0] */
	memmove(a + sizeof(status), a, n);
	memcpy(a, status, sizeof(status));
	return put_tlv(out, 0x30, a, n + sizeof(status));
}

/* The answer is decoded with its certificates taken through the shared
 * certificate cache (ocsp.c decode_basic): every shape OpenSSL's own decoder
 * would refuse is refused, and what it would accept means the same. */
static void test_response_encodings(void)
{
	static uint8_t out[16384], twice[8192];
	struct direct d;
	struct gpa_ocsp_cert r;
	struct resp_parts rp;
	X509 *responder;
	OCSP_BASICRESP *bs;
	size_t n;
	const uint8_t junk_cert[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	const uint8_t extra[] = { 0x05, 0x00 };
	time_t nu;

	NEED();
	direct_init(&d);
	responder = load("ocsp_ica");
	direct_respond(&d, "openssl ocsp -issuer ica.pem -cert leaf_good.pem -no_nonce "
	    "-reqout enc-req.der >/dev/null 2>&1 && openssl ocsp -index db_ica/index.txt -CA ica.pem "
	    "-rsigner ocsp_ica.pem -rkey ocsp_ica.key -reqin enc-req.der -respout enc-resp.der "
	    "-ndays 1 >/dev/null 2>&1", "enc-resp.der");
	if (d.resp == NULL || !split_response(d.resp, &rp)) {
		CHECK(!"the responder's answer could not be split");
		goto out;
	}
	/* As the responder sent it: valid, and the responder's certificate is
	 * in the decoded response. */
	direct_judge(&d, d.resp, d.resplen, NULL, GPA_OCSP_FROM_CACHE, &r);
	CHECK(r.response_valid);
	CHECK_INT(r.status, GPA_OCSP_GOOD);
	bs = ocsp_response_parse(d.resp, d.resplen, d.q.key, &nu);
	CHECK(bs != NULL && sk_X509_num(OCSP_resp_get0_certs(bs)) == 1 &&
	    X509_cmp(sk_X509_value(OCSP_resp_get0_certs(bs), 0), responder) == 0);
	OCSP_BASICRESP_free(bs);
	/* The test's own encoder reproduces it byte for byte. */
	n = build_response(&rp, rp.certs, rp.certs_n, NULL, 0, 0x01, out);
	CHECK(n == d.resplen && memcmp(out, d.resp, n) == 0);
	/* The responder's certificate twice: the same answer. */
	memcpy(twice, rp.certs, rp.certs_n);
	memcpy(twice + rp.certs_n, rp.certs, rp.certs_n);
	n = build_response(&rp, twice, 2 * rp.certs_n, NULL, 0, 0x01, out);
	direct_judge(&d, out, n, NULL, GPA_OCSP_FROM_CACHE, &r);
	CHECK(r.response_valid);
	/* No certificates: the signer cannot be found, so not valid. */
	n = build_response(&rp, NULL, 0, NULL, 0, 0x01, out);
	direct_judge(&d, out, n, NULL, GPA_OCSP_FROM_CACHE, &r);
	CHECK(!r.response_valid);
	CHECK_INT(r.status, GPA_OCSP_ERROR);
	CHECK_CONTAINS(r.detail, "response signature or responder not valid");
	/* ... unless the caller's untrusted certificates hold it. */
	sk_X509_push(d.chain, responder);
	direct_judge(&d, out, n, NULL, GPA_OCSP_FROM_CACHE, &r);
	CHECK(r.response_valid);
	(void)sk_X509_pop(d.chain);
	/* Refused shapes. */
	n = build_response(&rp, junk_cert, sizeof(junk_cert), NULL, 0, 0x01, out);
	direct_judge(&d, out, n, NULL, GPA_OCSP_FROM_CACHE, &r);
	CHECK_CONTAINS(r.detail, "not a");
	CHECK(!r.response_valid);
	n = build_response(&rp, rp.certs, rp.certs_n, extra, sizeof(extra), 0x01, out);
	direct_judge(&d, out, n, NULL, GPA_OCSP_FROM_CACHE, &r);
	CHECK_CONTAINS(r.detail, "not a");
	CHECK(!r.response_valid);
	n = build_response(&rp, rp.certs, rp.certs_n, NULL, 0, 0x02, out);	/* type: nonce OID */
	direct_judge(&d, out, n, NULL, GPA_OCSP_FROM_CACHE, &r);
	CHECK_CONTAINS(r.detail, "not a basic OCSP response");
	CHECK(!r.response_valid);
	CHECK(ocsp_response_parse(out, n, d.q.key, &nu) == NULL);
	/* The outer SEQUENCE with an indefinite length (BER, not DER). */
	n = build_response(&rp, rp.certs, rp.certs_n, NULL, 0, 0x01, out);
	{
		const uint8_t *c, *pp = out;
		size_t cn;
		uint8_t *ber = malloc(n + 4);
		get_tlv(&pp, &c, &cn);
		ber[0] = 0x30;
		ber[1] = 0x80;
		memcpy(ber + 2, c, cn);
		ber[2 + cn] = ber[3 + cn] = 0;
		direct_judge(&d, ber, cn + 4, NULL, GPA_OCSP_FROM_CACHE, &r);
		CHECK_CONTAINS(r.detail, "not a");
		CHECK(!r.response_valid);
		free(ber);
	}
out:
	direct_clear(&d);
	X509_free(responder);
}

/* Two SingleResponses for our CertID (a request naming it twice): which
 * one counts would be the responder's choice, so neither does. */
static void test_duplicate_answer_refused(void)
{
	struct direct d;
	struct gpa_ocsp_cert r;
	time_t nu;

	NEED();
	direct_init(&d);
	direct_respond(&d, "openssl ocsp -issuer ica.pem -cert leaf_good.pem -cert leaf_good.pem "
	    "-no_nonce -reqout dup-req.der >/dev/null 2>&1 && openssl ocsp -index db_ica/index.txt "
	    "-CA ica.pem -rsigner ocsp_ica.pem -rkey ocsp_ica.key -reqin dup-req.der "
	    "-respout dup-resp.der -ndays 1 >/dev/null 2>&1", "dup-resp.der");
	direct_judge(&d, d.resp, d.resplen, NULL, GPA_OCSP_FROM_RESPONDER, &r);
	CHECK_CONTAINS(r.detail, "twice");
	CHECK(!r.response_valid);
	CHECK_INT(r.status, GPA_OCSP_ERROR);
	CHECK_INT(ocsp_response_next_update(d.resp, d.resplen, d.q.key, &nu), -1);
	direct_clear(&d);
}

static void test_freshness(void)
{
	struct fx f;
	struct gpa_ocsp_chain c;

	NEED();
	/* nextUpdate = now + 1 min. */
	fx_init(&f, "nmin=1");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now + 60 + 200);
	CHECK(c.passed);			/* within the 300 s skew */
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now + 86400);
	CHECK(!c.response_valid);
	CHECK(!c.passed);
	CHECK_STREQ(ocsp_status_name(c.status), "error");
	CHECK_CONTAINS(c.detail, "expired");
	f.o.max_age_s = 2 * 86400;
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now + 86400);
	CHECK(c.passed);
	CHECK(c.certs[1].stale_accepted);
	f.o.max_age_s = 3600;
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now + 86400);
	CHECK(!c.passed);
	/* No nextUpdate: one hour. */
	fx_init(&f, "nonext");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now + 1800);
	CHECK(c.passed);
	CHECK(c.certs[1].next_update == c.certs[1].this_update + 3600);
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now + 7200);
	CHECK(!c.passed);
	/* thisUpdate after the verification time. */
	fx_init(&f, "");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now - 3600);
	CHECK(!c.passed);
	CHECK_CONTAINS(c.detail, "after the verification time");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now - 200);
	CHECK(c.passed);
}

static void test_nonce(void)
{
	struct fx f;
	struct gpa_ocsp_chain c;

	NEED();
	fx_init(&f, "stripnonce");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK(c.response_valid);
	CHECK(!c.nonce_matches);
	CHECK_STREQ(ocsp_status_name(c.status), "good");
	fx_init(&f, "replay");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK(c.nonce_matches);
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK(c.response_valid);
	CHECK(!c.nonce_matches);
}

static void test_transport_failures(void)
{
	struct fx f;
	struct gpa_ocsp_chain c;
	long long t0;

	NEED();
	fx_init(&f, "");
	snprintf(f.url, sizeof(f.url), "http://127.0.0.1:%d/", spawn_closed_port());
	f.http.max_retries = 1;
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK_STREQ(ocsp_status_name(c.status), "error");
	CHECK(!c.passed && !c.response_valid && !c.nonce_matches);
	CHECK_CONTAINS(c.detail, "OCSP responder");
	/* Never answers: bounded by the timeouts. */
	fx_init(&f, "hang");
	f.http.timeout_ms = 300;
	f.http.max_retries = 1;
	t0 = spawn_now_ms();
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK(spawn_now_ms() - t0 < 2000);
	CHECK_STREQ(ocsp_status_name(c.status), "error");
	CHECK_CONTAINS(c.detail, "imeout");
	/* 500 once, then an answer. */
	fx_init(&f, "fail=1");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK(c.passed);
	fx_init(&f, "status=403");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK_CONTAINS(c.detail, "access refused");
	CHECK(!c.passed);
	fx_init(&f, "garbage");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK_CONTAINS(c.detail, "not a DER OCSP response");
	CHECK(!c.passed);
	fx_init(&f, "ctype=text_plain");
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK_CONTAINS(c.detail, "Content-Type");
	CHECK(!c.passed);
}

static void test_cache(void)
{
	struct fx f;
	struct gpa_ocsp_chain c;
	struct gpa_cache *cache;
	struct gpa_err e;
	char d[600];

	NEED();
	snprintf(d, sizeof(d), "%s/ocsp-cache", spawn_tmpdir());
	cache = cache_open(d, &e);
	CHECK(cache != NULL);
	if (!cache)
		return;
	fx_init(&f, "");
	f.o.cache = cache;
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK(c.passed && c.nonce_matches);
	/* Responder gone. */
	snprintf(f.url, sizeof(f.url), "http://127.0.0.1:%d/", spawn_closed_port());
	f.http.max_retries = 0;
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK_STREQ(ocsp_status_name(c.status), "error");	/* cache not allowed */
	f.o.cache_ok = true;
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK_STREQ(ocsp_status_name(c.status), "good");
	CHECK(c.passed && c.response_valid);
	CHECK(!c.nonce_matches);
	CHECK_INT(c.certs[1].source, GPA_OCSP_FROM_CACHE);
	/* Past nextUpdate the cache has nothing. */
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now + 2 * 86400);
	CHECK_STREQ(ocsp_status_name(c.status), "error");
	cache_close(cache);
}

static void test_bundle_offline(void)
{
	struct fx f;
	struct gpa_ocsp_chain c;
	struct gpa_bundle *rec = bundle_new(), *b;
	struct gpa_err e;
	char path[600];

	NEED();
	fx_init(&f, "");
	f.o.record = rec;
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK(c.passed);
	CHECK_INT(rec->nocsp, 2);
	snprintf(path, sizeof(path), "%s/collateral.json", spawn_tmpdir());
	CHECK_INT(bundle_write(rec, path, &e), 0);
	b = bundle_read(path, &e);
	CHECK(b != NULL);
	if (b == NULL) {
		bundle_free(rec);
		return;
	}
	fx_init(&f, "");
	snprintf(f.url, sizeof(f.url), "http://127.0.0.1:%d/", spawn_closed_port());
	f.o.offline = true;
	f.o.bundle = b;
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now + 600);
	CHECK(c.passed);
	CHECK(!c.nonce_matches);
	CHECK_INT(c.certs[0].source, GPA_OCSP_FROM_BUNDLE);
	CHECK(c.certs[0].age_s == (long)(now + 600 - c.certs[0].this_update));
	CHECK(c.certs[0].age_s > 500 && c.certs[0].age_s <= 600);
	/* Not in the bundle, offline: not checked (and never "good"). */
	c = run1(&f, "leaf_gpu0", GPA_OCSP_FIRST_RIM, false, now);
	CHECK_STREQ(ocsp_status_name(c.certs[1].status), "not-checked");
	CHECK_STREQ(ocsp_status_name(c.status), "not-checked");
	CHECK(!c.passed);
	/* Stale unless widened explicitly. */
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now + 3 * 86400);
	CHECK(!c.passed);
	f.o.max_age_s = 4 * 86400;
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now + 3 * 86400);
	CHECK(c.passed);
	f.o.max_age_s = 0;
	/* Online, a stale bundled answer gives way to the responder's. */
	fx_init(&f, "");
	f.o.bundle = b;
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now + 3 * 86400);
	CHECK_INT(c.certs[1].source, GPA_OCSP_FROM_RESPONDER);
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK_INT(c.certs[1].source, GPA_OCSP_FROM_BUNDLE);
	f.o.offline = true;
	/* Tampered: a byte of each response's signature flipped. */
	for (size_t i = 0; i < b->nocsp; i++)
		b->ocsp[i].data[b->ocsp[i].len - 3] ^= 1;
	c = run1(&f, "leaf_good", GPA_OCSP_FIRST_RIM, false, now);
	CHECK(!c.passed);
	CHECK(!c.response_valid);
	bundle_free(b);
	bundle_free(rec);
}

/* 8 GPUs' chains: 8 leaves + the shared intermediate = 9 questions, each
 * answered after 100 ms, asked at once. */
static void test_concurrency(void)
{
	struct fx f;
	struct gpa_ocsp_job j[8];
	struct gpa_err e;
	long long t0, par, seq;

	NEED();
	fx_init(&f, "delay=100");
	memset(j, 0, sizeof(j));
	for (int i = 0; i < 8; i++) {
		char name[32];
		snprintf(name, sizeof(name), "leaf_gpu%d", i);
		j[i].name = "gpu";
		j[i].chain = chain3(name);
		j[i].anchors = anchors;
		j[i].use = GPA_ANCHOR_DEVICE;
		j[i].first = GPA_OCSP_FIRST_RIM;
	}
	t0 = spawn_now_ms();
	CHECK_INT(ocsp_check_all(&f.o, j, 8, now, &e), 0);
	par = spawn_now_ms() - t0;
	for (int i = 0; i < 8; i++)
		CHECK(j[i].result.passed && j[i].result.nonce_matches);
	t0 = spawn_now_ms();
	for (int i = 0; i < 8; i++)
		CHECK_INT(ocsp_check_all(&f.o, &j[i], 1, now, &e), 0);
	seq = spawn_now_ms() - t0;
	fprintf(stderr, "timing: OCSP for 8 chains (9 distinct certificates, 100 ms responder delay): "
	    "concurrent %lld ms, one chain at a time %lld ms\n", par, seq);
	CHECK(par < 700);
	CHECK(par * 2 < seq);
	CHECK(seq >= 800);
	for (int i = 0; i < 8; i++)
		sk_X509_pop_free(j[i].chain, X509_free);
}

static void test_bad_jobs(void)
{
	struct gpa_ocsp_opts o;
	struct gpa_ocsp_job j;
	struct gpa_err e;

	NEED();
	ocsp_opts_default(&o);
	o.offline = true;
	memset(&j, 0, sizeof(j));
	j.chain = sk_X509_new_null();
	j.anchors = anchors;
	sk_X509_push(j.chain, load("root"));
	CHECK_INT(ocsp_check_all(&o, &j, 1, now, &e), 0);
	CHECK_STREQ(ocsp_status_name(j.result.status), "not-checked");
	CHECK(!j.result.passed);
	sk_X509_pop_free(j.chain, X509_free);
	j.anchors = NULL;
	CHECK_INT(ocsp_check_all(&o, &j, 1, now, &e), -1);
}

int main(void)
{
	/* Loopback only, whatever proxy the environment names. */
	unsetenv("http_proxy");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	setup();
	RUN(test_good_chain);
	RUN(test_revoked);
	RUN(test_certificate_hold);
	RUN(test_unknown);
	RUN(test_unauthorised_responders);
	RUN(test_explicit_trust_does_not_authorise);
	RUN(test_signature_by_nettle);
	RUN(test_duplicate_answer_refused);
	RUN(test_response_encodings);
	RUN(test_freshness);
	RUN(test_nonce);
	RUN(test_transport_failures);
	RUN(test_cache);
	RUN(test_bundle_offline);
	RUN(test_concurrency);
	RUN(test_bad_jobs);
	anchors_free(anchors);
	return harness_done("ocsp");
}
