/*
 * rim/rimsig: the one signature shape we trust (anti-wrapping), the
 * embedded certificates and the XMLDSig check with xmlsec1. Policy: rim.c and
 * rim.h.
 */
#include "rim/rim.h"
#include "rim/rim_internal.h"

#include <libxml/tree.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlsec/crypto.h>
#include <xmlsec/keys.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/openssl/evp.h>

/* ---- tree helpers ------------------------------------------------------- */

static bool is_blank_text(const xmlNode *n)
{
	if (n->type != XML_TEXT_NODE)
		return false;
	for (const xmlChar *c = n->content; c != NULL && *c != '\0'; c++)
		if (*c != ' ' && *c != '\t' && *c != '\n' && *c != '\r')
			return false;
	return true;
}

/* Collects the element children of a signature part. Only whitespace may
 * sit between them: text, comments or PIs inside the Signature would be
 * content no one checks. Returns the number of elements (at most max are
 * stored; more is reported as max + 1) or -1. */
static int sig_children(const xmlNode *parent, xmlNodePtr *out, int max, const char *where,
    struct gpa_err *e)
{
	int n = 0;

	for (xmlNodePtr c = parent->children; c != NULL; c = c->next) {
		if (is_blank_text(c))
			continue;
		if (c->type != XML_ELEMENT_NODE) {
			gpa_err_set(e, "RIM: unsupported signature shape: %s holds non-element content",
			    where);
			return -1;
		}
		if (n == max)
			return max + 1;
		out[n++] = c;
	}
	return n;
}

static xmlNodePtr last_element_child(const xmlNode *parent)
{
	xmlNodePtr last = NULL;

	for (xmlNodePtr c = parent->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			last = c;
	return last;
}

static int count_signature_elements(xmlNodePtr root, xmlNodePtr *first)
{
	int count = 0;

	*first = NULL;
	for (xmlNodePtr n = root; n != NULL; n = next_in_tree(n, root)) {
		if (is_elem(n, NS_DSIG, "Signature") && count++ == 0)
			*first = n;
	}
	return count;
}

/* The element's Algorithm must be exactly alg and it must have no children
 * (no HMACOutputLength, InclusiveNamespaces, XPath, ...). */
static int check_algorithm(const xmlNode *n, const char *alg, const char *where,
    struct gpa_err *e)
{
	xmlChar *v = xmlGetNoNsProp(n, BAD_CAST "Algorithm");
	bool ok = v != NULL && strcmp((const char *)v, alg) == 0;
	xmlNodePtr kids[1];

	if (!ok) {
		gpa_err_set(e, "RIM: unsupported signature shape: %s Algorithm \"%.120s\" (expected %s)",
		    where, v ? (const char *)v : "(none)", alg);
		xmlFree(v);
		return -1;
	}
	xmlFree(v);
	if (sig_children(n, kids, 0, where, e) != 0) {
		gpa_err_set(e, "RIM: unsupported signature shape: %s has child elements", where);
		return -1;
	}
	return 0;
}

/* ---- signature shape (anti-wrapping) ------------------------------------ */

static int check_transforms(const xmlNode *transforms, struct gpa_err *e)
{
	xmlNodePtr t[2];
	int n = sig_children(transforms, t, 2, "Transforms", e);

	if (n < 0)
		return -1;
	if (n != 2 || !is_elem(t[0], NS_DSIG, "Transform") || !is_elem(t[1], NS_DSIG, "Transform")) {
		gpa_err_set(e, "RIM: unsupported signature shape: Transforms must be exactly "
		    "enveloped-signature then C14N 1.1");
		return -1;
	}
	if (check_algorithm(t[0], ALG_ENVELOPED, "Transform 1", e) != 0 ||
	    check_algorithm(t[1], ALG_C14N11, "Transform 2", e) != 0)
		return -1;
	return 0;
}

static int check_reference(const xmlNode *ref, struct gpa_err *e)
{
	xmlNodePtr k[3];
	xmlChar *uri;
	int n;

	for (xmlAttrPtr a = ref->properties; a != NULL; a = a->next) {
		if (a->ns != NULL || strcmp((const char *)a->name, "URI") != 0) {
			gpa_err_set(e, "RIM: unsupported signature shape: Reference attribute %.40s",
			    (const char *)a->name);
			return -1;
		}
	}
	uri = xmlGetNoNsProp(ref, BAD_CAST "URI");
	if (uri == NULL || uri[0] != '\0') {
		gpa_err_set(e, "RIM: unsupported signature shape: Reference URI \"%.80s\" "
		    "(only URI=\"\", the whole document, is accepted)",
		    uri ? (const char *)uri : "(none)");
		xmlFree(uri);
		return -1;
	}
	xmlFree(uri);
	n = sig_children(ref, k, 3, "Reference", e);
	if (n < 0)
		return -1;
	if (n != 3 || !is_elem(k[0], NS_DSIG, "Transforms") ||
	    !is_elem(k[1], NS_DSIG, "DigestMethod") || !is_elem(k[2], NS_DSIG, "DigestValue")) {
		gpa_err_set(e, "RIM: unsupported signature shape: Reference must hold "
		    "Transforms, DigestMethod, DigestValue");
		return -1;
	}
	if (check_transforms(k[0], e) != 0)
		return -1;
	return check_algorithm(k[1], ALG_SHA384, "DigestMethod", e);
}

static int check_signed_info(const xmlNode *si, struct gpa_err *e)
{
	xmlNodePtr k[3];
	int n = sig_children(si, k, 3, "SignedInfo", e), refs = 0;

	if (n < 0)
		return -1;
	for (xmlNodePtr c = si->children; c != NULL; c = c->next)
		if (is_elem(c, NS_DSIG, "Reference"))
			refs++;
	if (refs != 1) {
		gpa_err_set(e, "RIM: unsupported signature shape: %d Reference elements "
		    "(expected exactly one)", refs);
		return -1;
	}
	if (n != 3 || !is_elem(k[0], NS_DSIG, "CanonicalizationMethod") ||
	    !is_elem(k[1], NS_DSIG, "SignatureMethod") || !is_elem(k[2], NS_DSIG, "Reference")) {
		gpa_err_set(e, "RIM: unsupported signature shape: SignedInfo must hold "
		    "CanonicalizationMethod, SignatureMethod, Reference");
		return -1;
	}
	if (check_algorithm(k[0], ALG_C14N11, "CanonicalizationMethod", e) != 0 ||
	    check_algorithm(k[1], ALG_ECDSA384, "SignatureMethod", e) != 0)
		return -1;
	return check_reference(k[2], e);
}

static int check_key_info(const xmlNode *ki, xmlNodePtr *x509data, struct gpa_err *e)
{
	xmlNodePtr k[1], certs[RIM_MAX_CERTS];
	int n = sig_children(ki, k, 1, "KeyInfo", e);

	if (n < 0)
		return -1;
	if (n != 1 || !is_elem(k[0], NS_DSIG, "X509Data")) {
		gpa_err_set(e, "RIM: unsupported signature shape: KeyInfo must hold one X509Data");
		return -1;
	}
	n = sig_children(k[0], certs, RIM_MAX_CERTS, "X509Data", e);
	if (n < 0)
		return -1;
	if (n < 1 || n > RIM_MAX_CERTS) {
		gpa_err_set(e, "RIM: unsupported signature shape: X509Data holds %s%d elements "
		    "(expected 1..%d X509Certificate)", n > RIM_MAX_CERTS ? "more than " : "",
		    n > RIM_MAX_CERTS ? RIM_MAX_CERTS : n, RIM_MAX_CERTS);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (!is_elem(certs[i], NS_DSIG, "X509Certificate")) {
			gpa_err_set(e, "RIM: unsupported signature shape: X509Data element %d is "
			    "%.40s, not X509Certificate", i + 1, (const char *)certs[i]->name);
			return -1;
		}
	}
	*x509data = k[0];
	return 0;
}

/* Decides whether the document has the one shape we trust (see rim.h); on
 * success everything outside *sig is covered by the signature. */
int rim_check_document_shape(xmlDocPtr doc, xmlNodePtr *sig_out, xmlNodePtr *x509data,
    struct gpa_err *e)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), sig, k[3];
	int count, n;

	if (!is_elem(root, NS_SWID, "SoftwareIdentity")) {
		gpa_err_set(e, "RIM: root element is not SoftwareIdentity in the ISO 19770-2 namespace");
		return -1;
	}
	count = count_signature_elements(root, &sig);
	if (count != 1) {
		gpa_err_set(e, "RIM: unsupported signature shape: %d ds:Signature elements "
		    "(expected exactly one)", count);
		return -1;
	}
	if (sig->parent != root || last_element_child(root) != sig) {
		gpa_err_set(e, "RIM: unsupported signature shape: ds:Signature is not the last "
		    "child element of SoftwareIdentity");
		return -1;
	}
	n = sig_children(sig, k, 3, "Signature", e);
	if (n < 0)
		return -1;
	if (n != 3 || !is_elem(k[0], NS_DSIG, "SignedInfo") ||
	    !is_elem(k[1], NS_DSIG, "SignatureValue") || !is_elem(k[2], NS_DSIG, "KeyInfo")) {
		gpa_err_set(e, "RIM: unsupported signature shape: Signature must hold "
		    "SignedInfo, SignatureValue, KeyInfo");
		return -1;
	}
	if (check_signed_info(k[0], e) != 0 || check_key_info(k[2], x509data, e) != 0)
		return -1;
	*sig_out = sig;
	return 0;
}

/* ---- certificates and signature ----------------------------------------- */

int rim_load_certs(const xmlNode *x509data, STACK_OF(X509) **out, struct gpa_err *e)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	int pos = 0;

	if (sk == NULL) {
		gpa_err_set(e, "RIM: out of memory");
		return -1;
	}
	for (xmlNodePtr c = x509data->children; c != NULL; c = c->next) {
		xmlChar *text;
		uint8_t *der = NULL;
		size_t der_len = 0;
		X509 *x;
		int b64;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		pos++;
		text = xmlNodeGetContent(c);
		b64 = text ? b64_decode((const char *)text, strlen((const char *)text), true, &der,
		    &der_len) : -1;
		xmlFree(text);
		if (b64 != 0 || der_len == 0) {
			gpa_err_set(e, "RIM: X509Certificate %d is not base64", pos);
			goto fail_der;
		}
		x = x509_from_der(der, der_len);
		if (x == NULL) {
			gpa_err_openssl(e, "RIM: X509Certificate %d is not a DER certificate", pos);
			goto fail_der;
		}
		free(der);
		if (sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			gpa_err_set(e, "RIM: out of memory");
			goto fail;
		}
		continue;
fail_der:
		free(der);
		goto fail;
	}
	*out = sk;
	return 0;
fail:
	sk_X509_pop_free(sk, X509_free);
	return -1;
}

static int enable_transforms(xmlSecDSigCtxPtr ctx)
{
	/* Exactly what the fixed shape names; anything else fails inside xmlsec
	 * as well as in check_document_shape. */
	if (xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformEnvelopedId) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformInclC14N11Id) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformSha384Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformInclC14N11Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformEcdsaSha384Id) < 0)
		return -1;
	ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
	return 0;
}

/* The leaf's public key as an xmlsec key; KeyInfo is never consulted. */
static xmlSecKeyPtr leaf_key(X509 *leaf)
{
	EVP_PKEY *pk = X509_get_pubkey(leaf);
	xmlSecKeyDataPtr data;
	xmlSecKeyPtr key;

	if (pk == NULL)
		return NULL;
	data = xmlSecOpenSSLEvpKeyAdopt(pk);
	if (data == NULL) {
		EVP_PKEY_free(pk);
		return NULL;
	}
	key = xmlSecKeyCreate();
	if (key == NULL || xmlSecKeySetValue(key, data) < 0) {
		xmlSecKeyDataDestroy(data);
		if (key != NULL)
			xmlSecKeyDestroy(key);
		return NULL;
	}
	return key;
}

static const char *failed_reference_reason(xmlSecDSigCtxPtr ctx)
{
	xmlSecDSigReferenceCtxPtr ref;

	if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) < 1)
		return NULL;
	ref = (xmlSecDSigReferenceCtxPtr)xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0);
	if (ref != NULL && ref->status != xmlSecDSigStatusSucceeded)
		return "Reference digest does not match the document (content altered)";
	return NULL;
}

/* Runs xmlsec. A failure to verify is a finding (signature_valid false with
 * signature_detail), not an error; only setup failures return -1. */
int rim_verify_signature(xmlNodePtr sig, X509 *leaf, struct err_sink *sink, struct rim *r,
    const uint8_t doc_hash[32], struct gpa_err *e)
{
	xmlSecDSigCtxPtr ctx;
	xmlSecKeyPtr key;
	const char *why;
	int rc;
	EVP_PKEY *pub = X509_get0_pubkey(leaf);	/* NULL when the key does not decode */

	if (pub == NULL || EVP_PKEY_base_id(pub) != EVP_PKEY_EC) {
		snprintf(r->signature_detail, sizeof(r->signature_detail),
		    "signer certificate key is not a usable EC key");
		return 0;
	}
	/* The document's bytes fix the signature, its key (the first
	 * X509Certificate) and what it covers, so one success is enough. */
	if (memo_has(MEMO_RIM_SIGNATURE, doc_hash)) {
		r->signature_checked = true;
		r->signature_valid = true;
		return 0;
	}
	key = leaf_key(leaf);
	ctx = key ? xmlSecDSigCtxCreate(NULL) : NULL;
	if (ctx == NULL) {
		if (key != NULL)
			xmlSecKeyDestroy(key);
		gpa_err_set(e, "RIM: cannot set up signature verification");
		return -1;
	}
	ctx->signKey = key;	/* owned by ctx from here */
	if (enable_transforms(ctx) != 0) {
		xmlSecDSigCtxDestroy(ctx);
		gpa_err_set(e, "RIM: cannot set up signature verification");
		return -1;
	}
	memset(sink, 0, sizeof(*sink));
	rc = xmlSecDSigCtxVerify(ctx, sig);
	r->signature_checked = true;
	r->signature_valid = rc == 0 && ctx->status == xmlSecDSigStatusSucceeded;
	if (!r->signature_valid) {
		why = failed_reference_reason(ctx);
		if (why == NULL && rc == 0)
			why = "SignatureValue does not verify with the signer certificate's key";
		snprintf(r->signature_detail, sizeof(r->signature_detail), "%s",
		    why ? why : sink->have ? sink->msg : "xmlsec verification failed");
	} else {
		memo_add(MEMO_RIM_SIGNATURE, doc_hash);
	}
	xmlSecDSigCtxDestroy(ctx);
	ERR_clear_error();
	return 0;
}

