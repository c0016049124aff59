/*
 * x509/ocsp: OCSP requests and the judgement of one answer (policy in
 * ocsp.h). Fetching, bundles and the cache are net/ocspfetch.c's.
 *
 * Must never: call a certificate good on an unverified, unauthorised, stale
 * or missing answer; let a trust setting on an anchor stand in for the
 * responder-authority check (OCSP_NOEXPLICIT); trust a cached or bundled
 * answer's nonce.
 */
#include "x509/ocsp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "x509/x509_internal.h"

const char *ocsp_status_name(enum gpa_ocsp_status s)
{
	switch (s) {
	case GPA_OCSP_GOOD: return "good";
	case GPA_OCSP_REVOKED: return "revoked";
	case GPA_OCSP_UNKNOWN: return "unknown";
	case GPA_OCSP_NOT_CHECKED: return "not-checked";
	case GPA_OCSP_ERROR: return "error";
	}
	return "error";
}

const char *ocsp_source_name(enum gpa_ocsp_source s)
{
	switch (s) {
	case GPA_OCSP_FROM_NONE: return "none";
	case GPA_OCSP_FROM_RESPONDER: return "responder";
	case GPA_OCSP_FROM_CACHE: return "cache";
	case GPA_OCSP_FROM_BUNDLE: return "bundle";
	}
	return "none";
}

void ocsp_opts_default(struct gpa_ocsp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->skew_s = GPA_OCSP_DEFAULT_SKEW_S;
}

int ocsp_certid_key(const OCSP_CERTID *id, char out[65])
{
	unsigned char *der = NULL;
	int n = i2d_OCSP_CERTID(id, &der);

	out[0] = 0;
	if (n <= 0)
		return -1;
	x509_sha256_hex(der, (size_t)n, out);
	OPENSSL_free(der);
	return out[0] != 0 ? 0 : -1;
}

/* The SHA-1 CertID of cert and its cache / bundle key. */
OCSP_CERTID *ocsp_certid_new(X509 *cert, X509 *issuer, char key[65], struct gpa_err *e)
{
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);

	if (id == NULL || ocsp_certid_key(id, key) != 0) {
		OCSP_CERTID_free(id);
		gpa_err_openssl(e, "OCSP: cannot build a request");
		return NULL;
	}
	return id;
}

/* A query around an id from ocsp_certid_new() (owned by q from here on). */
int ocsp_query_from_id(struct gpa_ocsp_query *q, X509 *cert, X509 *issuer, OCSP_CERTID *id,
    const char key[65], struct gpa_err *e)
{
	OCSP_CERTID *copy = NULL;

	memset(q, 0, sizeof(*q));
	q->cert = cert;
	q->issuer = issuer;
	q->id = id;
	memcpy(q->key, key, sizeof(q->key));
	if ((q->req = OCSP_REQUEST_new()) == NULL ||
	    (copy = OCSP_CERTID_dup(q->id)) == NULL ||
	    OCSP_request_add0_id(q->req, copy) == NULL) {
		OCSP_CERTID_free(copy);
		gpa_err_openssl(e, "OCSP: cannot build a request");
		ocsp_query_clear(q);
		return -1;
	}
	if (OCSP_request_add1_nonce(q->req, NULL, GPA_OCSP_NONCE_LEN) != 1) {
		gpa_err_openssl(e, "OCSP: cannot add a nonce");
		ocsp_query_clear(q);
		return -1;
	}
	return 0;
}

int ocsp_query_init(struct gpa_ocsp_query *q, X509 *cert, X509 *issuer, struct gpa_err *e)
{
	char key[65];
	OCSP_CERTID *id;

	memset(q, 0, sizeof(*q));
	if ((id = ocsp_certid_new(cert, issuer, key, e)) == NULL)
		return -1;
	return ocsp_query_from_id(q, cert, issuer, id, key, e);
}

void ocsp_query_clear(struct gpa_ocsp_query *q)
{
	OCSP_CERTID_free(q->id);
	OCSP_REQUEST_free(q->req);
	memset(q, 0, sizeof(*q));
}

int ocsp_query_der(const struct gpa_ocsp_query *q, uint8_t **der, size_t *len, struct gpa_err *e)
{
	unsigned char *p = NULL;
	int n = i2d_OCSP_REQUEST(q->req, &p);

	if (n <= 0) {
		gpa_err_openssl(e, "OCSP: cannot encode the request");
		return -1;
	}
	*der = malloc((size_t)n);
	if (*der == NULL) {
		OPENSSL_free(p);
		gpa_err_set(e, "OCSP: out of memory");
		return -1;
	}
	memcpy(*der, p, (size_t)n);
	OPENSSL_free(p);
	*len = (size_t)n;
	return 0;
}

/* The OpenSSL error queue as one short line (and cleared). */
static void openssl_reason(char *buf, size_t len)
{
	const char *data = NULL;
	int flags = 0;
	unsigned long code;
	size_t used = 0;

	buf[0] = 0;
	while ((code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		const char *why = ERR_reason_error_string(code);
		int w = snprintf(buf + used, len - used, "%s%s%s%s", used ? "; " : "",
		    why ? why : "error", (flags & ERR_TXT_STRING) && data && *data ? ": " : "",
		    (flags & ERR_TXT_STRING) && data ? data : "");
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
	ERR_clear_error();
}

/* A private copy of the anchors with the verification time set to `at`,
 * so the caller's store is never modified (and may be shared). */
static X509_STORE *store_at(X509_STORE *trust, time_t at)
{
	X509_STORE *s = X509_STORE_new();
	STACK_OF(X509_OBJECT) *objs;
	int ok = 1;

	if (s == NULL || !X509_STORE_lock(trust)) {
		X509_STORE_free(s);
		return NULL;
	}
	objs = X509_STORE_get0_objects(trust);
	for (int i = 0; i < sk_X509_OBJECT_num(objs) && ok; i++) {
		X509 *c = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		if (c != NULL && X509_STORE_add_cert(s, c) != 1)
			ok = 0;
	}
	X509_STORE_unlock(trust);
	if (!ok) {
		X509_STORE_free(s);
		return NULL;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(s), at);
	/* Responder chains go through the same signature memory as every
	 * other chain (times are still checked: see sigcache.c). */
	X509_STORE_set_verify(s, sigcache_chain_verify_cb);
	return s;
}

/*
 * OCSP_basic_verify, with the response signature checked by p384.c when it
 * is by a P-384 key and Nettle accepts it. OpenSSL then checks all
 * the rest (signer's path, its authority) with OCSP_NOSIGS; the signer whose
 * key we checked is first in its list and the only place it looks for one
 * (OCSP_NOINTERN), so it judges that very certificate. Any other signature,
 * or one Nettle refuses, is left to OpenSSL entirely. 1 valid.
 */
static int basic_verify(OCSP_BASICRESP *bs, STACK_OF(X509) *untrusted, X509_STORE *st)
{
	STACK_OF(X509) *certs;
	X509 *signer = NULL;
	int v = 0;

	if (OCSP_resp_get0_signer(bs, &signer, untrusted) != 1 || p384_ocsp_signed_by(bs, signer) != 1) {
		ERR_clear_error();
		return OCSP_basic_verify(bs, untrusted, st, OCSP_NOEXPLICIT);
	}
	certs = sk_X509_new_null();
	if (certs != NULL && sk_X509_push(certs, signer) > 0 &&
	    X509_add_certs(certs, untrusted, X509_ADD_FLAG_DEFAULT) == 1)
		v = OCSP_basic_verify(bs, certs, st, OCSP_NOEXPLICIT | OCSP_NOSIGS | OCSP_NOINTERN);
	sk_X509_free(certs);
	return v;
}

static bool verify_response(OCSP_BASICRESP *bs, STACK_OF(X509) *untrusted, X509_STORE *trust,
    time_t at, struct gpa_ocsp_cert *r)
{
	X509_STORE *st = store_at(trust, at);
	char why[200];
	int v;

	if (st == NULL) {
		snprintf(r->detail, sizeof(r->detail), "cannot copy the trust anchors");
		return false;
	}
	v = basic_verify(bs, untrusted, st);
	X509_STORE_free(st);
	if (v == 1) {
		ERR_clear_error();
		return true;
	}
	openssl_reason(why, sizeof(why));
	snprintf(r->detail, sizeof(r->detail), "response signature or responder not valid: %s", why);
	return false;
}

/* Exactly one SingleResponse for our CertID. */
static OCSP_SINGLERESP *find_single(OCSP_BASICRESP *bs, OCSP_CERTID *id, struct gpa_ocsp_cert *r)
{
	int i = OCSP_resp_find(bs, id, -1);

	if (i < 0) {
		snprintf(r->detail, sizeof(r->detail), "the response has no answer for this certificate");
		return NULL;
	}
	if (OCSP_resp_find(bs, id, i) >= 0) {
		snprintf(r->detail, sizeof(r->detail), "the response answers for this certificate twice");
		return NULL;
	}
	return OCSP_resp_get0(bs, i);
}

static bool read_times(OCSP_SINGLERESP *sr, int *status, int *reason, struct gpa_ocsp_cert *r,
    time_t at)
{
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	char s[21];

	*status = OCSP_single_get0_status(sr, reason, &rev, &thisupd, &nextupd);
	if (*status < 0 || asn1_time_to_unix(thisupd, &r->this_update, s) != 0) {
		snprintf(r->detail, sizeof(r->detail), "unreadable status or thisUpdate");
		return false;
	}
	if (nextupd == NULL)
		r->next_update = r->this_update + GPA_OCSP_NO_NEXT_UPDATE_S;
	else if (asn1_time_to_unix(nextupd, &r->next_update, s) != 0) {
		snprintf(r->detail, sizeof(r->detail), "unreadable nextUpdate");
		return false;
	}
	r->age_s = (long)(at - r->this_update);
	return true;
}

static bool check_fresh(struct gpa_ocsp_cert *r, time_t at, const struct gpa_ocsp_opts *o)
{
	char a[21], t[21];

	time_format_rfc3339(at, a);
	if (r->this_update > at + o->skew_s) {
		time_format_rfc3339(r->this_update, t);
		snprintf(r->detail, sizeof(r->detail),
		    "response thisUpdate %s is after the verification time %s", t, a);
		return false;
	}
	if (at > r->next_update + o->skew_s) {
		/* --max-ocsp-age widens the window past nextUpdate, explicitly. */
		if (o->max_age_s > 0 && at <= r->next_update + o->skew_s + o->max_age_s) {
			r->stale_accepted = true;
			return true;
		}
		time_format_rfc3339(r->next_update, t);
		snprintf(r->detail, sizeof(r->detail),
		    "response expired: nextUpdate %s is before the verification time %s", t, a);
		return false;
	}
	return true;
}

static void set_status(struct gpa_ocsp_cert *r, int status, int reason, bool allow_hold)
{
	switch (status) {
	case V_OCSP_CERTSTATUS_GOOD:
		r->status = GPA_OCSP_GOOD;
		break;
	case V_OCSP_CERTSTATUS_REVOKED:
		r->status = GPA_OCSP_REVOKED;
		r->reason = reason;
		r->reason_name = reason >= 0 ? OCSP_crl_reason_str(reason) : NULL;
		r->hold_allowed = allow_hold && reason == OCSP_REVOKED_STATUS_CERTIFICATEHOLD;
		snprintf(r->detail, sizeof(r->detail), "revoked (%s)%s",
		    r->reason_name ? r->reason_name : "no reason given",
		    r->hold_allowed ? ": certificate hold accepted by option" : "");
		break;
	default:
		r->status = GPA_OCSP_UNKNOWN;
		snprintf(r->detail, sizeof(r->detail), "the responder does not know this certificate");
		break;
	}
}

/* The BasicOCSPResponse inside a DER OCSPResponse whose status is
 * successful: the OCTET STRING of ResponseBytes, whose type must be
 * id-pkix-ocsp-basic. d2i_OCSP_RESPONSE has already accepted the whole. */
static int basic_bytes(const uint8_t *der, size_t len, const unsigned char **b, long *blen)
{
	static const unsigned char basic_oid[] = {
		0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01	/* 1.3.6.1.5.5.7.48.1.1 */
	};
	const unsigned char *p = der, *end = der + len;
	struct asn1_elem resp, status, wrap, rb, type, octets;

	if (asn1_next(&p, end, &resp) != 0 || !asn1_is(&resp, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, true) ||
	    p != end)
		return -1;
	p = resp.content;
	end = resp.content + resp.len;
	if (asn1_next(&p, end, &status) != 0 || asn1_next(&p, end, &wrap) != 0 || p != end ||
	    !asn1_is(&wrap, V_ASN1_CONTEXT_SPECIFIC, 0, true))
		return -1;
	p = wrap.content;
	end = wrap.content + wrap.len;
	if (asn1_next(&p, end, &rb) != 0 || p != end ||
	    !asn1_is(&rb, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, true))
		return -1;
	p = rb.content;
	end = rb.content + rb.len;
	if (asn1_next(&p, end, &type) != 0 || asn1_next(&p, end, &octets) != 0 || p != end ||
	    !asn1_is(&type, V_ASN1_UNIVERSAL, V_ASN1_OBJECT, false) ||
	    type.len != (long)sizeof(basic_oid) || memcmp(type.content, basic_oid, sizeof(basic_oid)) != 0 ||
	    !asn1_is(&octets, V_ASN1_UNIVERSAL, V_ASN1_OCTET_STRING, false))
		return -1;
	*b = octets.content;
	*blen = octets.len;
	return 0;
}

/* Decodes a BasicOCSPResponse with its certs field taken out and its
 * certificates decoded through the shared certificate cache, then put back
 * (OCSP_basic_add1_cert): a responder puts the same certificate in every
 * answer, and with OpenSSL 3.0 decoding a certificate is most of the cost
 * of decoding an answer. The result is the response OpenSSL would have
 * decoded: the signature covers tbsResponseData only, and OCSP_basic_verify
 * finds the same certificates in the same place. */
static OCSP_BASICRESP *decode_basic(const unsigned char *b, long blen)
{
	const unsigned char *p = b, *end = b + blen, *head_end, *certs_end = NULL;
	struct asn1_elem seq, tbs, alg, sig, wrap, list;
	unsigned char *rebuilt = NULL, *w;
	OCSP_BASICRESP *bs = NULL;
	long body;
	int hdr;

	if (asn1_next(&p, end, &seq) != 0 || p != end || !asn1_is(&seq, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, true))
		return NULL;
	p = seq.content;
	end = seq.content + seq.len;
	if (asn1_next(&p, end, &tbs) != 0 || asn1_next(&p, end, &alg) != 0 || asn1_next(&p, end, &sig) != 0)
		return NULL;
	head_end = p;
	if (p != end) {
		const unsigned char *q;
		if (asn1_next(&p, end, &wrap) != 0 || p != end || !asn1_is(&wrap, V_ASN1_CONTEXT_SPECIFIC, 0, true))
			return NULL;
		q = wrap.content;
		if (asn1_next(&q, wrap.content + wrap.len, &list) != 0 || q != wrap.content + wrap.len ||
		    !asn1_is(&list, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE, true))
			return NULL;
		certs_end = list.content + list.len;
	}
	body = (long)(head_end - tbs.start);
	if ((hdr = ASN1_object_size(1, body, V_ASN1_SEQUENCE)) <= 0 ||
	    (rebuilt = malloc((size_t)hdr)) == NULL)
		return NULL;
	w = rebuilt;
	ASN1_put_object(&w, 1, body, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(w, tbs.start, (size_t)body);
	p = rebuilt;
	bs = d2i_OCSP_BASICRESP(NULL, &p, hdr);
	if (bs == NULL || p != rebuilt + hdr)
		goto bad;
	for (p = certs_end ? list.content : NULL; p != NULL && p < certs_end;) {
		struct asn1_elem c;
		X509 *x;
		int ok;
		if (asn1_next(&p, certs_end, &c) != 0 ||
		    (x = x509_from_der(c.start, (size_t)(p - c.start))) == NULL)
			goto bad;
		ok = OCSP_basic_add1_cert(bs, x);
		X509_free(x);
		if (ok != 1)
			goto bad;
	}
	free(rebuilt);
	return bs;
bad:
	OCSP_BASICRESP_free(bs);
	free(rebuilt);
	return NULL;
}

static OCSP_BASICRESP *parse_basic(const uint8_t *der, size_t len, struct gpa_ocsp_cert *r)
{
	const unsigned char *p = der, *b;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	long blen;
	int st;

	if (len == 0 || len > GPA_OCSP_MAX_RESPONSE) {
		snprintf(r->detail, sizeof(r->detail), "response of %zu bytes", len);
		return NULL;
	}
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (resp == NULL || p != der + len) {
		snprintf(r->detail, sizeof(r->detail), "not a DER OCSP response%s",
		    resp ? " (trailing bytes)" : "");
		goto out;
	}
	st = OCSP_response_status(resp);
	if (st != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(r->detail, sizeof(r->detail), "responder answered \"%s\"",
		    OCSP_response_status_str(st));
		goto out;
	}
	if (basic_bytes(der, len, &b, &blen) != 0 || (bs = decode_basic(b, blen)) == NULL)
		snprintf(r->detail, sizeof(r->detail), "not a basic OCSP response");
out:
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return bs;
}

/* The judgement of one answer, parsed (bs) or not (der, len). */
static void process(OCSP_BASICRESP *parsed, const uint8_t *der, size_t len,
    const struct gpa_ocsp_query *q, enum gpa_ocsp_source source, STACK_OF(X509) *untrusted,
    X509_STORE *trust, time_t at, const struct gpa_ocsp_opts *o, bool allow_hold,
    struct gpa_ocsp_cert *r)
{
	OCSP_BASICRESP *bs = parsed;
	OCSP_SINGLERESP *sr;
	int status = -1, reason = -1;
	bool sig_ok, fresh;
	char said[300];

	r->source = source;
	r->status = GPA_OCSP_ERROR;
	r->reason = -1;
	r->reason_name = NULL;
	r->response_valid = r->nonce_matches = r->hold_allowed = r->stale_accepted = false;
	r->this_update = r->next_update = 0;
	r->age_s = 0;
	r->detail[0] = 0;
	if (bs == NULL && (bs = parse_basic(der, len, r)) == NULL)
		return;
	if ((sr = find_single(bs, q->id, r)) == NULL || !read_times(sr, &status, &reason, r, at))
		goto out;
	sig_ok = verify_response(bs, untrusted, trust, at, r);
	if (source == GPA_OCSP_FROM_RESPONDER && q->req != NULL)
		r->nonce_matches = OCSP_check_nonce(q->req, bs) == 1;
	fresh = sig_ok && check_fresh(r, at, o);
	r->response_valid = sig_ok && fresh;
	if (!r->response_valid) {
		/* Keep what the unusable answer claimed, for the message only. */
		snprintf(said, sizeof(said), "%s", r->detail);
		str_printf(r->detail, sizeof(r->detail), "%s (it says %s)", said,
		    status == V_OCSP_CERTSTATUS_GOOD ? "good" :
		    status == V_OCSP_CERTSTATUS_REVOKED ? "revoked" : "unknown");
		goto out;
	}
	set_status(r, status, reason, allow_hold);
out:
	if (bs != parsed)
		OCSP_BASICRESP_free(bs);
	ERR_clear_error();
}

void ocsp_process_response(const uint8_t *der, size_t len, const struct gpa_ocsp_query *q,
    enum gpa_ocsp_source source, STACK_OF(X509) *untrusted, X509_STORE *trust, time_t at,
    const struct gpa_ocsp_opts *o, bool allow_hold, struct gpa_ocsp_cert *r)
{
	process(NULL, der, len, q, source, untrusted, trust, at, o, allow_hold, r);
}

OCSP_BASICRESP *ocsp_response_parse(const uint8_t *der, size_t len, const char *key,
    time_t *next_update)
{
	struct gpa_ocsp_cert r;
	OCSP_BASICRESP *bs;
	int found = -1;

	memset(&r, 0, sizeof(r));
	if ((bs = parse_basic(der, len, &r)) == NULL)
		return NULL;
	for (int i = 0; i < OCSP_resp_count(bs); i++) {
		OCSP_SINGLERESP *sr = OCSP_resp_get0(bs, i);
		const OCSP_CERTID *id = OCSP_SINGLERESP_get0_id(sr);
		char k[65];
		int st, reason;
		if (ocsp_certid_key(id, k) != 0 || strcmp(k, key) != 0)
			continue;
		if (found >= 0 || !read_times(sr, &st, &reason, &r, 0)) {
			found = -1;	/* twice, or unreadable */
			break;
		}
		found = i;
	}
	ERR_clear_error();
	if (found < 0) {
		OCSP_BASICRESP_free(bs);
		return NULL;
	}
	*next_update = r.next_update;
	return bs;
}

int ocsp_response_next_update(const uint8_t *der, size_t len, const char *key, time_t *next_update)
{
	OCSP_BASICRESP *bs = ocsp_response_parse(der, len, key, next_update);

	OCSP_BASICRESP_free(bs);
	return bs != NULL ? 0 : -1;
}

void ocsp_judge(OCSP_BASICRESP *parsed, const uint8_t *der, size_t len,
    const struct gpa_ocsp_query *q, enum gpa_ocsp_source source, STACK_OF(X509) *untrusted,
    const struct gpa_anchors *anchors, enum gpa_anchor_use use, time_t at,
    const struct gpa_ocsp_opts *o, bool allow_hold, struct gpa_ocsp_cert *r)
{
	process(parsed, der, len, q, source, untrusted, anchors_store(anchors, use), at, o,
	    allow_hold, r);
}

bool ocsp_anchors_usable(const struct gpa_anchors *a, enum gpa_anchor_use use)
{
	return a != NULL && anchors_store(a, use) != NULL;
}
