/*
 * x509/chain: strict PEM chain parsing and path validation to an anchor at a
 * given time.
 *
 * Owns: what a "chain" in evidence may look like (PEM CERTIFICATE blocks and
 * whitespace, nothing else), the rule that the validated path must be the
 * input chain itself, in order, and the validity (expiry) verdict.
 *
 * Never: trusts a certificate from the chain (the root that arrives with the
 * evidence is only an untrusted copy; it counts only if it is byte-identical
 * to an anchor), accepts a partial chain, or lets OpenSSL's clock decide
 * expiry (time checks are off during path building and computed here
 * against the caller's `at`).
 */
#include "x509/x509_internal.h"

#include <openssl/err.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

static const char PEM_BEGIN[] = "-----BEGIN CERTIFICATE-----";
static const char PEM_END[] = "-----END CERTIFICATE-----";
static const char PEM_BEGIN_ANY[] = "-----BEGIN ";

static bool is_pem_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t skip_ws(const char *s, size_t len, size_t pos)
{
	while (pos < len && is_pem_ws(s[pos]))
		pos++;
	return pos;
}

static bool has_at(const char *s, size_t len, size_t pos, const char *lit)
{
	size_t n = strlen(lit);

	return pos <= len && len - pos >= n && memcmp(s + pos, lit, n) == 0;
}

/* Offset of lit at or after from; (size_t)-1 when absent. */
static size_t find_lit(const char *s, size_t len, size_t from, const char *lit)
{
	size_t i = from <= len ? bytes_find(s + from, len - from, lit) : SIZE_MAX;

	return i == SIZE_MAX ? (size_t)-1 : from + i;
}

/* Decodes one PEM body (base64 between the marker lines) into a certificate
 * whose DER must be consumed exactly. */
static X509 *decode_body(const char *body, size_t blen, int idx, struct gpa_err *e)
{
	uint8_t *der;
	size_t derlen;
	const unsigned char *p;
	X509 *x;

	if (b64_decode(body, blen, true, &der, &derlen) != 0) {
		gpa_err_set(e, "certificate %d: invalid base64 in PEM body", idx);
		return NULL;
	}
	x = x509_from_der(der, derlen);
	if (x == NULL) {
		/* Decode again only to say precisely what is wrong. */
		p = der;
		x = derlen > 0 && derlen <= (size_t)LONG_MAX ? d2i_X509(NULL, &p, (long)derlen) : NULL;
		if (x == NULL)
			gpa_err_openssl(e, "certificate %d: not a valid X.509 certificate", idx);
		else
			gpa_err_set(e, "certificate %d: %zu bytes after the certificate's DER", idx,
			    (size_t)(der + derlen - p));
		X509_free(x);
		free(der);
		return NULL;
	}
	free(der);
	return x;
}

/* Parses the block starting at *pos (a BEGIN marker). Advances *pos past the
 * END marker. */
static X509 *parse_block(const char *pem, size_t len, size_t *pos, int idx, struct gpa_err *e)
{
	size_t p = *pos, end;

	if (!has_at(pem, len, p, PEM_BEGIN)) {
		gpa_err_set(e, "certificate %d: PEM block is not a CERTIFICATE", idx);
		return NULL;
	}
	p += strlen(PEM_BEGIN);
	/* The marker is a line by itself. */
	if (has_at(pem, len, p, "\r\n"))
		p += 2;
	else if (has_at(pem, len, p, "\n"))
		p += 1;
	else {
		gpa_err_set(e, "certificate %d: BEGIN marker not followed by a line break", idx);
		return NULL;
	}
	end = find_lit(pem, len, p, PEM_END);
	if (end == (size_t)-1) {
		gpa_err_set(e, "certificate %d: no END CERTIFICATE marker (truncated PEM?)", idx);
		return NULL;
	}
	if (end == p || pem[end - 1] != '\n') {
		gpa_err_set(e, "certificate %d: END marker not at the start of a line", idx);
		return NULL;
	}
	if (end + strlen(PEM_END) < len && !is_pem_ws(pem[end + strlen(PEM_END)])) {
		gpa_err_set(e, "certificate %d: unexpected data right after the END marker", idx);
		return NULL;
	}
	*pos = end + strlen(PEM_END);
	return decode_body(pem + p, end - p, idx, e);
}

STACK_OF(X509) *chain_from_pem(const char *pem, size_t len, int max_certs, struct gpa_err *e)
{
	STACK_OF(X509) *sk;
	size_t pos;

	if (pem == NULL || max_certs <= 0) {
		gpa_err_set(e, "internal: chain_from_pem called without input or limit");
		return NULL;
	}
	pos = skip_ws(pem, len, 0);
	if (pos == len) {
		gpa_err_set(e, "not a PEM certificate chain: no certificate (empty input)");
		return NULL;
	}
	if (!has_at(pem, len, pos, PEM_BEGIN_ANY)) {
		gpa_err_set(e, "not a PEM certificate chain: input does not start with "
		    "\"-----BEGIN CERTIFICATE-----\"");
		return NULL;
	}
	sk = sk_X509_new_null();
	if (sk == NULL) {
		gpa_err_set(e, "out of memory");
		return NULL;
	}
	while (pos < len) {
		int idx = sk_X509_num(sk) + 1;
		X509 *x;

		if (!has_at(pem, len, pos, PEM_BEGIN_ANY)) {
			gpa_err_set(e, "not a PEM certificate chain: unexpected data after "
			    "certificate %d (only whitespace may separate or follow PEM blocks)",
			    idx - 1);
			goto fail;
		}
		if (idx > max_certs) {
			gpa_err_set(e, "more than %d certificates in the chain", max_certs);
			goto fail;
		}
		x = parse_block(pem, len, &pos, idx, e);
		if (x == NULL)
			goto fail;
		if (sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			gpa_err_set(e, "out of memory");
			goto fail;
		}
		pos = skip_ws(pem, len, pos);
	}
	return sk;
fail:
	sk_X509_pop_free(sk, X509_free);
	return NULL;
}

const char *cert_status_name(enum gpa_cert_status s)
{
	switch (s) {
	case GPA_CERT_VALID:
		return "valid";
	case GPA_CERT_EXPIRED:
		return "expired";
	case GPA_CERT_NOT_YET_VALID:
		return "not-yet-valid";
	case GPA_CERT_INVALID:
		return "invalid";
	}
	return "invalid";
}

void chain_result_clear(struct gpa_chain_result *res)
{
	if (res == NULL)
		return;
	sk_X509_pop_free(res->path, X509_free);
	memset(res, 0, sizeof(*res));
	res->status = GPA_CERT_INVALID;
}

static void set_invalid(struct gpa_chain_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_invalid(struct gpa_chain_result *res, const char *fmt, ...)
{
	va_list ap;

	res->status = GPA_CERT_INVALID;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
}

/* Sets an INVALID detail naming certificate idx of the input chain. */
static void invalid_at(struct gpa_chain_result *res, STACK_OF(X509) *chain, int idx,
    const char *why)
{
	char *cn = cert_subject_cn(sk_X509_value(chain, idx));

	set_invalid(res, "certificate %d (CN=%s): %s", idx, cn ? cn : "?", why);
	free(cn);
}

/*
 * The path OpenSSL built must be the input chain: path[i] == chain[i] for
 * every certificate below the anchor, then either nothing (the device left
 * its root out) or a byte-identical copy of the anchor and nothing after it.
 * This refuses chains in the wrong order, with unrelated extra
 * certificates, or with anything after the root, even though OpenSSL
 * treats the untrusted certificates as an unordered pool.
 */
static bool path_matches_input(STACK_OF(X509) *path, STACK_OF(X509) *chain,
    struct gpa_chain_result *res)
{
	int np = sk_X509_num(path), nc = sk_X509_num(chain);

	for (int i = 0; i < np - 1; i++) {
		if (i >= nc) {
			set_invalid(res, "chain has %d certificates but the validated path needs %d",
			    nc, np);
			return false;
		}
		if (X509_cmp(sk_X509_value(path, i), sk_X509_value(chain, i)) != 0) {
			invalid_at(res, chain, i, "not the next certificate of the validated "
			    "path (chain out of order or not a chain)");
			return false;
		}
	}
	if (nc == np - 1)
		return true;
	if (X509_cmp(sk_X509_value(path, np - 1), sk_X509_value(chain, np - 1)) != 0) {
		invalid_at(res, chain, np - 1, "not the trust anchor that closes the path");
		return false;
	}
	if (nc > np) {
		invalid_at(res, chain, np, "unexpected certificate after the trust anchor");
		return false;
	}
	return true;
}

/* Earliest notAfter and latest notBefore over the validated path, and the
 * resulting validity verdict naming the offending certificate. */
static int apply_validity(struct gpa_chain_result *res, time_t at, struct gpa_err *e)
{
	time_t min_na = 0, max_nb = 0;
	int min_i = -1, max_i = -1;

	for (int i = 0; i < sk_X509_num(res->path); i++) {
		X509 *c = sk_X509_value(res->path, i);
		time_t nb, na;
		char s[21];

		if (asn1_time_to_unix(X509_get0_notBefore(c), &nb, s) != 0 ||
		    asn1_time_to_unix(X509_get0_notAfter(c), &na, s) != 0) {
			gpa_err_set(e, "certificate %d: unparsable validity time", i);
			return -1;
		}
		if (min_i < 0 || na < min_na) {
			min_na = na;
			min_i = i;
		}
		if (max_i < 0 || nb > max_nb) {
			max_nb = nb;
			max_i = i;
		}
	}
	res->min_not_after = min_na;
	time_format_rfc3339(min_na, res->expiry);
	if (min_na < at || max_nb > at) {
		bool expired = min_na < at;
		int idx = expired ? min_i : max_i;
		char *cn = cert_subject_cn(sk_X509_value(res->path, idx));
		char when[21];

		time_format_rfc3339(expired ? min_na : max_nb, when);
		res->status = expired ? GPA_CERT_EXPIRED : GPA_CERT_NOT_YET_VALID;
		snprintf(res->detail, sizeof(res->detail), "certificate %d (CN=%s) %s %s", idx,
		    cn ? cn : "?", expired ? "expired at" : "is not valid before", when);
		free(cn);
	} else {
		res->status = GPA_CERT_VALID;
	}
	return 0;
}

static void describe_verify_failure(X509_STORE_CTX *ctx, struct gpa_chain_result *res)
{
	int err = X509_STORE_CTX_get_error(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	char *cn = cur ? cert_subject_cn(cur) : NULL;

	set_invalid(res, "%s at depth %d (CN=%s)", X509_verify_cert_error_string(err),
	    X509_STORE_CTX_get_error_depth(ctx), cn ? cn : "?");
	free(cn);
}

static X509_STORE_CTX *make_ctx(X509_STORE *store, STACK_OF(X509) *chain,
    STACK_OF(X509) **untrusted, struct gpa_err *e)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();

	*untrusted = sk_X509_new_null();
	if (ctx == NULL || *untrusted == NULL)
		goto oom;
	for (int i = 1; i < sk_X509_num(chain); i++)
		if (sk_X509_push(*untrusted, sk_X509_value(chain, i)) <= 0)
			goto oom;
	if (X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), *untrusted) != 1) {
		gpa_err_openssl(e, "cannot set up certificate verification");
		goto fail;
	}
	/*
	 * NO_CHECK_TIME: validity is judged against the caller's time below, not
	 * OpenSSL's clock. X509_STRICT: every real NVIDIA device and RIM chain in
	 * the test corpus verifies with it, so malformed certificates that
	 * OpenSSL would otherwise tolerate are refused. PARTIAL_CHAIN is never
	 * set: the path must end in a self-signed anchor.
	 */
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx),
	    X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_X509_STRICT);
	X509_STORE_CTX_set_verify(ctx, sigcache_chain_verify_cb);
	return ctx;
oom:
	gpa_err_set(e, "out of memory");
fail:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(*untrusted);
	*untrusted = NULL;
	return NULL;
}

int chain_validate(const struct gpa_anchors *a, enum gpa_anchor_use use, STACK_OF(X509) *chain,
    time_t at, struct gpa_chain_result *res, struct gpa_err *e)
{
	X509_STORE *store = anchors_store(a, use);
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx;
	int rc = -1;

	if (res == NULL || store == NULL) {
		gpa_err_set(e, "internal: chain_validate without anchors or result");
		return -1;
	}
	/* res is overwritten, not freed: callers clear it before reusing it. */
	memset(res, 0, sizeof(*res));
	res->status = GPA_CERT_INVALID;
	if (chain == NULL || sk_X509_num(chain) == 0) {
		snprintf(res->detail, sizeof(res->detail), "no certificates");
		return 0;
	}
	ctx = make_ctx(store, chain, &untrusted, e);
	if (ctx == NULL)
		return -1;
	if (X509_verify_cert(ctx) != 1) {
		describe_verify_failure(ctx, res);
		rc = 0;
		goto out;
	}
	res->path = X509_STORE_CTX_get1_chain(ctx);
	if (res->path == NULL) {
		gpa_err_set(e, "out of memory");
		goto out;
	}
	/* The anchor closing the path must really be one of ours for this use. */
	if (!anchors_contains(a, use, sk_X509_value(res->path, sk_X509_num(res->path) - 1)) ||
	    !path_matches_input(res->path, chain, res)) {
		if (res->detail[0] == '\0')
			snprintf(res->detail, sizeof(res->detail), "path does not end at a trust anchor");
		sk_X509_pop_free(res->path, X509_free);
		res->path = NULL;
		res->status = GPA_CERT_INVALID;
		rc = 0;
		goto out;
	}
	rc = apply_validity(res, at, e);
	if (rc != 0) {
		sk_X509_pop_free(res->path, X509_free);
		res->path = NULL;
		res->status = GPA_CERT_INVALID;
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	return rc;
}
