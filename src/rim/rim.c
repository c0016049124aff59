/*
 * rim: loads an NVIDIA reference integrity manifest (TCG RIM as an ISO
 * 19770-2 SWID tag, raw XML or the RIM service's JSON envelope), checks its
 * enveloped XMLDSig with xmlsec1 against the first embedded certificate,
 * validates the embedded chain through the x509 layer, and extracts the
 * golden measurements.
 *
 * Owns: the safe libxml2 parse (bounded size, UTF-8 only, no DTD, no entity
 * expansion, no network or file access of any kind), the anti-wrapping shape
 * check of the signature, the measurement schema rules and the RIM service
 * JSON envelope.
 *
 * Must never: read content from a document whose shape does not guarantee
 * that the single Reference (URI="", enveloped + C14N 1.1) covers it; take
 * the verification key from anywhere but the first X509Certificate (whose
 * chain x509 judges against the caller's anchors); let libxml2 or xmlsec
 * print to stderr or fetch anything.
 *
 * Only C14N 1.1 (http://www.w3.org/2006/12/xml-c14n11) is accepted, both as
 * CanonicalizationMethod and as the Reference's second transform: it is what
 * every NVIDIA RIM uses, and accepting C14N 1.0 / exclusive C14N would only
 * widen what an attacker may present.
 */
#include "rim/rim.h"
#include "rim/xmllib.h"

#include <jansson.h>
#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlversion.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/keys.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/evp.h>

#define NS_SWID		"http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
#define NS_DSIG		"http://www.w3.org/2000/09/xmldsig#"
#define NS_TCG		"https://trustedcomputinggroup.org/resource/tcg-reference-integrity-manifest-rim-information-model/"
#define NS_SHA384	"http://www.w3.org/2001/04/xmlenc#sha384"

#define ALG_C14N11	"http://www.w3.org/2006/12/xml-c14n11"
#define ALG_ECDSA384	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
#define ALG_ENVELOPED	"http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define ALG_SHA384	"http://www.w3.org/2001/04/xmldsig-more#sha384"

#define RIM_MAX_CERTS	8	/* real RIMs embed 4 */
#define RIM_MAX_MEAS	1024	/* real RIMs carry 64 Resource entries */
#define RIM_MAX_TEXT	256	/* metadata attribute strings */

#if LIBXML_VERSION >= 21200
typedef const xmlError *gpa_xml_error_t;
#else
typedef xmlErrorPtr gpa_xml_error_t;
#endif

/* ---- error capture ------------------------------------------------------ */

/* First diagnostic of libxml2 / xmlsec during one rim_load on this thread.
 * The first one is kept because the later ones are the same failure seen
 * again by each caller on the way out. */
struct err_sink {
	char msg[256];
	bool have;
};

static _Thread_local struct err_sink *t_sink;

static void sink_put(const char *text)
{
	struct err_sink *s = t_sink;
	size_t n;

	if (s == NULL || s->have)
		return;
	snprintf(s->msg, sizeof(s->msg), "%s", text);
	n = strlen(s->msg);
	while (n > 0 && (s->msg[n - 1] == '\n' || s->msg[n - 1] == ' '))
		s->msg[--n] = '\0';
	s->have = true;
}

static void xml_structured_error(void *ctx, gpa_xml_error_t err)
{
	char text[256];

	(void)ctx;
	if (err == NULL || err->level < XML_ERR_ERROR)
		return;
	snprintf(text, sizeof(text), "line %d: %s", err->line,
	    err->message ? err->message : "error");
	sink_put(text);
}

static void xml_generic_error(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void xmlsec_error(const char *file, int line, const char *func, const char *obj,
    const char *subject, int reason, const char *msg)
{
	char text[256];

	(void)file;
	(void)line;
	(void)obj;
	(void)reason;
	snprintf(text, sizeof(text), "xmlsec %s: %s%s%s", func ? func : "?",
	    subject ? subject : "", subject ? ": " : "", msg ? msg : "error");
	sink_put(text);
}

/* libxml2 keeps its error handlers per thread; install ours for the
 * duration of one load and give the caller's back afterwards. */
struct err_guard {
	xmlStructuredErrorFunc sfunc;
	void *sctx;
	xmlGenericErrorFunc gfunc;
	void *gctx;
	struct err_sink *prev_sink;
};

static void capture_begin(struct err_guard *g, struct err_sink *s)
{
	g->sfunc = xmlStructuredError;
	g->sctx = xmlStructuredErrorContext;
	g->gfunc = xmlGenericError;
	g->gctx = xmlGenericErrorContext;
	g->prev_sink = t_sink;
	memset(s, 0, sizeof(*s));
	t_sink = s;
	xmlSetStructuredErrorFunc(NULL, xml_structured_error);
	xmlSetGenericErrorFunc(NULL, xml_generic_error);
}

static void capture_end(const struct err_guard *g)
{
	xmlSetStructuredErrorFunc(g->sctx, g->sfunc);
	xmlSetGenericErrorFunc(g->gctx, g->gfunc);
	t_sink = g->prev_sink;
}

/* ---- global init -------------------------------------------------------- */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static char g_init_error[256];
static int g_init_rc = -1;

/* Nothing a RIM contains may make libxml2 open a file or a URL. */
static xmlParserInputPtr refuse_external_entity(const char *url, const char *id,
    xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	sink_put("external resource refused");
	return NULL;
}

static void global_init_once(void)
{
	if (xmllib_load(g_init_error, sizeof(g_init_error)) != 0)
		return;
	xmlInitParser();
	xmlSetExternalEntityLoader(refuse_external_entity);
	/* Quiet from the start; set again below because backend init resets it. */
	xmlSecErrorsSetCallback(xmlsec_error);
	if (xmlSecCheckVersion() != 1) {
		snprintf(g_init_error, sizeof(g_init_error),
		    "xmlsec library version is not compatible with the headers");
		return;
	}
	if (xmlSecInit() < 0) {
		snprintf(g_init_error, sizeof(g_init_error), "xmlSecInit failed");
		return;
	}
	/* xmlsec registers http/ftp/file readers for external References; a
	 * RIM's only Reference is URI="", so none is ever needed. */
	xmlSecIOCleanupCallbacks();
	if (xmlSecOpenSSLAppInit(NULL) < 0 || xmlSecOpenSSLInit() < 0) {
		snprintf(g_init_error, sizeof(g_init_error), "xmlsec OpenSSL backend init failed");
		return;
	}
	xmlSecErrorsSetCallback(xmlsec_error);
	g_init_rc = 0;
}

int rim_global_init(struct gpa_err *e)
{
	pthread_once(&g_once, global_init_once);
	if (g_init_rc != 0)
		gpa_err_set(e, "RIM: %s", g_init_error);
	return g_init_rc;
}

/* ---- raw-byte checks and the safe parse --------------------------------- */

static bool bytes_contain(const uint8_t *p, size_t n, const char *needle)
{
	return bytes_find(p, n, needle) != SIZE_MAX;
}

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF) without NUL.
 * Returns the offset of the first bad byte, or n when all is well. */
static size_t utf8_bad_offset(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i];
		size_t k;
		uint32_t cp, min;

		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1; cp = c & 0x1f; min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2; cp = c & 0x0f; min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return i;
		}
		if (n - i <= k)
			return i;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += k + 1;
	}
	return n;
}

static int check_raw_bytes(const uint8_t *buf, size_t len, struct gpa_err *e)
{
	size_t bad;

	if (len == 0) {
		gpa_err_set(e, "RIM: empty document");
		return -1;
	}
	if (len > GPA_RIM_MAX_BYTES) {
		gpa_err_set(e, "RIM: document of %zu bytes exceeds the %u byte limit", len,
		    GPA_RIM_MAX_BYTES);
		return -1;
	}
	bad = utf8_bad_offset(buf, len);
	if (bad != len) {
		gpa_err_set(e, "RIM: not UTF-8 text (byte offset %zu)", bad);
		return -1;
	}
	/* Refused before libxml2 sees them: a DTD is the door to entity
	 * expansion bombs and external fetches, and no RIM has one. */
	if (bytes_contain(buf, len, "<!DOCTYPE") || bytes_contain(buf, len, "<!ENTITY")) {
		gpa_err_set(e, "RIM: document type declarations (DOCTYPE/ENTITY) are not allowed");
		return -1;
	}
	return 0;
}

static bool encoding_is_utf8(const xmlChar *enc)
{
	const char *s = (const char *)enc;

	return s == NULL || strcasecmp(s, "UTF-8") == 0 || strcasecmp(s, "UTF8") == 0;
}

static xmlDocPtr parse_xml_safely(const uint8_t *buf, size_t len, const struct err_sink *sink,
    struct gpa_err *e)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;

	if (check_raw_bytes(buf, len, e) != 0)
		return NULL;
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		gpa_err_set(e, "RIM: out of memory");
		return NULL;
	}
	/* Deliberately without NOENT, DTDLOAD, DTDATTR, XINCLUDE or HUGE:
	 * no substitution, no loading, and libxml2's default size limits. */
	doc = xmlCtxtReadMemory(ctxt, (const char *)buf, (int)len, NULL, NULL, XML_PARSE_NONET);
	if (doc == NULL || !ctxt->wellFormed) {
		gpa_err_set(e, "RIM: not well-formed XML: %s",
		    sink->have ? sink->msg : "parse failed");
		xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		return NULL;
	}
	xmlFreeParserCtxt(ctxt);
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		gpa_err_set(e, "RIM: document type declarations are not allowed");
		xmlFreeDoc(doc);
		return NULL;
	}
	if (!encoding_is_utf8(doc->encoding)) {
		gpa_err_set(e, "RIM: declared encoding \"%.40s\" is not UTF-8",
		    (const char *)doc->encoding);
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/* ---- tree helpers ------------------------------------------------------- */

static bool is_elem(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL && n->ns->href != NULL &&
	    strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

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

/* Next node after n in document order within root's subtree, or NULL.
 * Iterative, so a hostile nesting depth costs no stack. */
static xmlNodePtr next_in_tree(xmlNodePtr n, xmlNodePtr root)
{
	if (n->type == XML_ELEMENT_NODE && n->children != NULL)
		return n->children;
	while (n != root && n->next == NULL)
		n = n->parent;
	return n == root ? NULL : n->next;
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
static int check_document_shape(xmlDocPtr doc, xmlNodePtr *sig_out, xmlNodePtr *x509data,
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

/* ---- identity and measurements ----------------------------------------- */

/* Exactly one child element of root with that SWID name. */
static xmlNodePtr single_swid_child(xmlNodePtr root, const char *name, struct gpa_err *e)
{
	xmlNodePtr found = NULL;
	int n = 0;

	for (xmlNodePtr c = root->children; c != NULL; c = c->next) {
		if (is_elem(c, NS_SWID, name)) {
			found = c;
			n++;
		}
	}
	if (n != 1) {
		gpa_err_set(e, "RIM: SoftwareIdentity holds %d %s elements (expected one)", n, name);
		return NULL;
	}
	return found;
}

/* Copies a printable metadata attribute; these end up in claims and logs. */
static int text_attr(const xmlNode *n, const char *ns, const char *name, bool required,
    const char *where, char **out, struct gpa_err *e)
{
	xmlChar *v = ns ? xmlGetNsProp(n, BAD_CAST name, BAD_CAST ns) :
	    xmlGetNoNsProp(n, BAD_CAST name);
	size_t len;

	*out = NULL;
	if (v == NULL) {
		if (!required)
			return 0;
		gpa_err_set(e, "RIM: %s: attribute %s missing", where, name);
		return -1;
	}
	len = strlen((const char *)v);
	if (len == 0 || len > RIM_MAX_TEXT) {
		gpa_err_set(e, "RIM: %s/@%s: length %zu (expected 1..%d)", where, name, len,
		    RIM_MAX_TEXT);
		xmlFree(v);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (v[i] < 0x20 || v[i] == 0x7f) {
			gpa_err_set(e, "RIM: %s/@%s: control character", where, name);
			xmlFree(v);
			return -1;
		}
	}
	*out = strdup((const char *)v);
	xmlFree(v);
	if (*out == NULL) {
		gpa_err_set(e, "RIM: out of memory");
		return -1;
	}
	return 0;
}

static int parse_identity(xmlNodePtr root, xmlNodePtr meta, struct rim *r, struct gpa_err *e)
{
	if (text_attr(root, NULL, "tagId", true, "SoftwareIdentity", &r->tag_id, e) != 0 ||
	    text_attr(root, NULL, "name", true, "SoftwareIdentity", &r->name, e) != 0 ||
	    text_attr(meta, NULL, "colloquialVersion", true, "Meta", &r->colloquial_version, e) != 0 ||
	    text_attr(meta, NULL, "edition", true, "Meta", &r->edition, e) != 0 ||
	    text_attr(meta, NS_TCG, "FirmwareManufacturerId", false, "Meta",
		&r->firmware_manufacturer_id, e) != 0)
		return -1;
	return 0;
}

/* Canonical decimal: digits only, no sign, no leading zero, <= max. */
static bool parse_decimal(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* The five attributes every Measurement needs, as malloc'd libxml2 strings. */
struct meas_attrs {
	xmlChar *index, *active, *alternatives, *name, *size;
};

static void meas_attrs_free(struct meas_attrs *a)
{
	xmlFree(a->index);
	xmlFree(a->active);
	xmlFree(a->alternatives);
	xmlFree(a->name);
	xmlFree(a->size);
}

static int read_meas_attrs(const xmlNode *res, int pos, struct meas_attrs *a, struct gpa_err *e)
{
	static const char *const names[] = { "index", "active", "alternatives", "name", "size" };
	xmlChar **slots[] = { &a->index, &a->active, &a->alternatives, &a->name, &a->size };

	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		*slots[i] = xmlGetNoNsProp(res, BAD_CAST names[i]);
		if (*slots[i] == NULL) {
			gpa_err_set(e, "RIM: Payload/Resource[%d]: attribute %s missing", pos, names[i]);
			return -1;
		}
	}
	return 0;
}

static int read_hashes(const xmlNode *res, int pos, struct rim_measurement *m, struct gpa_err *e)
{
	for (int k = 0; k < m->nalts; k++) {
		char attr[16];
		xmlChar *v;
		long n;

		snprintf(attr, sizeof(attr), "Hash%d", k);
		v = xmlGetNsProp(res, BAD_CAST attr, BAD_CAST NS_SHA384);
		if (v == NULL) {
			gpa_err_set(e, "RIM: Payload/Resource[%d] (index %d): %s missing "
			    "(alternatives=%d)", pos, m->index, attr, m->nalts);
			return -1;
		}
		n = hex_decode((const char *)v, strlen((const char *)v), m->hash[k],
		    GPA_RIM_HASH_MAX, false);
		xmlFree(v);
		if (n <= 0) {
			gpa_err_set(e, "RIM: Payload/Resource[%d] (index %d): %s is not hex of "
			    "1..%d bytes", pos, m->index, attr, GPA_RIM_HASH_MAX);
			return -1;
		}
		m->hash_len[k] = (size_t)n;
	}
	return 0;
}

static int parse_measurement(const xmlNode *res, int pos, struct rim_measurement *m,
    struct gpa_err *e)
{
	struct meas_attrs a;
	unsigned long v;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (read_meas_attrs(res, pos, &a, e) != 0)
		goto out;
	if (!parse_decimal((const char *)a.index, GPA_RIM_MAX_INDEX, &v)) {
		gpa_err_set(e, "RIM: Payload/Resource[%d]: index \"%.20s\" is not a decimal "
		    "0..%d", pos, (const char *)a.index, GPA_RIM_MAX_INDEX);
		goto out;
	}
	m->index = (int)v;
	if (strcmp((const char *)a.active, "True") == 0) {
		m->active = true;
	} else if (strcmp((const char *)a.active, "False") != 0) {
		gpa_err_set(e, "RIM: Payload/Resource[%d] (index %d): active \"%.20s\" is not "
		    "\"True\" or \"False\"", pos, m->index, (const char *)a.active);
		goto out;
	}
	if (!parse_decimal((const char *)a.alternatives, GPA_RIM_MAX_ALTS, &v) || v < 1) {
		gpa_err_set(e, "RIM: Payload/Resource[%d] (index %d): alternatives \"%.20s\" is "
		    "not 1..%d", pos, m->index, (const char *)a.alternatives, GPA_RIM_MAX_ALTS);
		goto out;
	}
	m->nalts = (int)v;
	if (!parse_decimal((const char *)a.size, 1ul << 30, &v)) {
		gpa_err_set(e, "RIM: Payload/Resource[%d] (index %d): size \"%.20s\" is not a "
		    "decimal byte count", pos, m->index, (const char *)a.size);
		goto out;
	}
	m->size = (size_t)v;
	if (a.name[0] == '\0' || strlen((const char *)a.name) >= sizeof(m->name)) {
		gpa_err_set(e, "RIM: Payload/Resource[%d] (index %d): name length %zu "
		    "(expected 1..%zu)", pos, m->index, strlen((const char *)a.name),
		    sizeof(m->name) - 1);
		goto out;
	}
	memcpy(m->name, a.name, strlen((const char *)a.name) + 1);
	/* Inactive entries are never compared, and carry placeholder hashes. */
	rc = m->active ? read_hashes(res, pos, m, e) : 0;
out:
	meas_attrs_free(&a);
	return rc;
}

static bool is_measurement(const xmlNode *n)
{
	xmlChar *type;
	bool yes;

	if (!is_elem(n, NS_SWID, "Resource"))
		return false;
	type = xmlGetNoNsProp(n, BAD_CAST "type");
	yes = type != NULL && strcmp((const char *)type, "Measurement") == 0;
	xmlFree(type);
	return yes;
}

static int check_duplicate_active(const struct rim *r, struct gpa_err *e)
{
	bool seen[GPA_RIM_MAX_INDEX + 1] = { false };

	for (int i = 0; i < r->nmeas; i++) {
		const struct rim_measurement *m = &r->meas[i];

		if (!m->active)
			continue;
		if (seen[m->index]) {
			gpa_err_set(e, "RIM: Payload: index %d is active more than once", m->index);
			return -1;
		}
		seen[m->index] = true;
	}
	return 0;
}

/* NVIDIA's verifier takes Measurement resources from anywhere in the
 * document; we read only Payload's children, so one elsewhere would be a
 * golden value silently dropped. Refuse such documents instead. */
static int check_no_stray_measurements(xmlNodePtr root, int count, struct gpa_err *e)
{
	int all = 0;

	for (xmlNodePtr n = root; n != NULL; n = next_in_tree(n, root))
		all += is_measurement(n);
	if (all != count) {
		gpa_err_set(e, "RIM: %d Measurement Resource elements outside SoftwareIdentity/Payload",
		    all - count);
		return -1;
	}
	return 0;
}

static int parse_measurements(xmlNodePtr root, xmlNodePtr payload, struct rim *r,
    struct gpa_err *e)
{
	int count = 0, pos = 0;

	for (xmlNodePtr c = payload->children; c != NULL; c = c->next)
		if (is_measurement(c))
			count++;
	if (check_no_stray_measurements(root, count, e) != 0)
		return -1;
	if (count == 0) {
		gpa_err_set(e, "RIM: Payload holds no Measurement resources");
		return -1;
	}
	if (count > RIM_MAX_MEAS) {
		gpa_err_set(e, "RIM: Payload holds %d Measurement resources (limit %d)", count,
		    RIM_MAX_MEAS);
		return -1;
	}
	r->meas = calloc((size_t)count, sizeof(*r->meas));
	if (r->meas == NULL) {
		gpa_err_set(e, "RIM: out of memory");
		return -1;
	}
	for (xmlNodePtr c = payload->children; c != NULL; c = c->next) {
		if (!is_measurement(c))
			continue;
		if (parse_measurement(c, pos + 1, &r->meas[pos], e) != 0)
			return -1;
		pos++;
		r->nmeas = pos;
	}
	return check_duplicate_active(r, e);
}

/* ---- certificates and signature ----------------------------------------- */

static int load_certs(const xmlNode *x509data, STACK_OF(X509) **out, struct gpa_err *e)
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
static int verify_signature(xmlNodePtr sig, X509 *leaf, struct err_sink *sink, struct rim *r,
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

/* ---- document and envelope --------------------------------------------- */

static int load_document(xmlDocPtr doc, const uint8_t doc_hash[32], const struct gpa_anchors *anchors,
    time_t at, struct err_sink *sink, struct rim *r, struct gpa_err *e)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), sig = NULL, x509data = NULL, meta, payload;

	if (check_document_shape(doc, &sig, &x509data, e) != 0)
		return -1;
	meta = single_swid_child(root, "Meta", e);
	payload = meta ? single_swid_child(root, "Payload", e) : NULL;
	if (payload == NULL)
		return -1;
	if (parse_identity(root, meta, r, e) != 0 || parse_measurements(root, payload, r, e) != 0)
		return -1;
	if (load_certs(x509data, &r->certs, e) != 0)
		return -1;
	if (chain_validate(anchors, GPA_ANCHOR_RIM, r->certs, at, &r->chain, e) != 0) {
		gpa_err_prefix(e, "RIM certificate chain");
		return -1;
	}
	return verify_signature(sig, sk_X509_value(r->certs, 0), sink, r, doc_hash, e);
}

static int load_xml(const uint8_t *buf, size_t len, const struct gpa_anchors *anchors,
    time_t at, struct rim **out, struct gpa_err *e)
{
	struct err_guard guard;
	struct err_sink sink;
	struct rim *r = NULL;
	xmlDocPtr doc;
	int rc = -1;

	capture_begin(&guard, &sink);
	doc = parse_xml_safely(buf, len, &sink, e);
	if (doc == NULL)
		goto out;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		gpa_err_set(e, "RIM: out of memory");
		goto out;
	}
	uint8_t doc_hash[32];
	unsigned int hlen = 0;
	if (EVP_Digest(buf, len, doc_hash, &hlen, EVP_sha256(), NULL) != 1) {
		gpa_err_set(e, "RIM: cannot hash the document");
		goto out;
	}
	rc = load_document(doc, doc_hash, anchors, at, &sink, r, e);
out:
	xmlFreeDoc(doc);
	capture_end(&guard);
	if (rc != 0) {
		rim_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

/* ---- the RIM service's JSON answer ---------------------------------------
 *
 * One decoder for every place such an answer comes from: the network client
 * (net/rimsvc.c) and rim_load (a saved answer, e.g. DIR/<id>.json in a RIM
 * directory). The rules, the strict union of what the two earlier decoders
 * enforced (docs/decisions.md, "RIMs"):
 *   - at most GPA_RIM_JSON_MAX bytes, checked before parsing;
 *   - one JSON object, nothing after it, no duplicate keys, no \u0000;
 *   - "id", "rim" and "sha256" present and strings; other keys (request_id,
 *     rim_format, last_updated) are ignored;
 *   - id: 1..128 printable ASCII characters ('!'..'~'), and equal to
 *     expected_id when one is given (it is shown in messages);
 *   - sha256: exactly 64 hex digits, either case;
 *   - rim: RFC 4648 base64, standard alphabet, '=' padding, canonical;
 *     spaces, tabs and line breaks between characters are skipped (NVIDIA's
 *     answers carry one unbroken line, but a server or a saved file that
 *     wraps its base64 as MIME does says the same bytes, and the SHA-256
 *     below and the XML signature judge those bytes, not their layout);
 *   - the decoded RIM is not empty and at most GPA_RIM_MAX_BYTES;
 *   - the SHA-256 of the decoded bytes equals sha256.
 * sha256 is only a transport check (it travels in the same answer); the RIM's
 * XML signature is what makes a RIM trustworthy. */

#define RIM_ID_MAX	128	/* the longest id rim_id_valid accepts */

static const char *service_str(json_t *obj, const char *key, size_t *len, struct gpa_err *e)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v)) {
		gpa_err_set(e, "\"%s\" missing or not a string", key);
		return NULL;
	}
	*len = json_string_length(v);
	return json_string_value(v);
}

static bool printable_id(const char *s, size_t len)
{
	if (len == 0 || len > RIM_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static int check_service_fields(json_t *root, const char *expected_id, uint8_t **xml,
    size_t *xml_len, struct gpa_err *e)
{
	const char *id, *b64, *hex;
	size_t id_len, b64_len, hex_len;
	uint8_t want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];

	if ((id = service_str(root, "id", &id_len, e)) == NULL ||
	    (b64 = service_str(root, "rim", &b64_len, e)) == NULL ||
	    (hex = service_str(root, "sha256", &hex_len, e)) == NULL)
		return -1;
	if (!printable_id(id, id_len)) {
		gpa_err_set(e, "id is not a printable identifier (1 to %d characters '!' to '~')",
		    RIM_ID_MAX);
		return -1;
	}
	if (expected_id != NULL && strcmp(id, expected_id) != 0) {
		gpa_err_set(e, "id \"%s\" is not the one asked for (\"%.128s\")", id, expected_id);
		return -1;
	}
	if (hex_len != 2 * SHA256_DIGEST_LENGTH ||
	    hex_decode(hex, hex_len, want, sizeof(want), false) != SHA256_DIGEST_LENGTH) {
		gpa_err_set(e, "sha256 is not 64 hex digits");
		return -1;
	}
	if (b64_decode(b64, b64_len, true, xml, xml_len) != 0) {
		gpa_err_set(e, "rim is not valid base64 (standard alphabet, '=' padding)");
		return -1;
	}
	if (*xml_len == 0) {
		gpa_err_set(e, "rim is empty");
		return -1;
	}
	if (*xml_len > GPA_RIM_MAX_BYTES) {
		gpa_err_set(e, "rim decodes to %zu bytes, more than the %zu byte limit", *xml_len,
		    (size_t)GPA_RIM_MAX_BYTES);
		return -1;
	}
	SHA256(*xml, *xml_len, got);
	if (memcmp(want, got, sizeof(got)) != 0) {
		gpa_err_set(e, "the RIM's SHA-256 does not match the answer's sha256");
		return -1;
	}
	return 0;
}

int rim_service_json_decode(const uint8_t *buf, size_t len, const char *expected_id,
    uint8_t **xml, size_t *xml_len, struct gpa_err *e)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	*xml = NULL;
	*xml_len = 0;
	if (buf == NULL) {
		gpa_err_set(e, "no answer");
		return -1;
	}
	if (len > GPA_RIM_JSON_MAX) {
		gpa_err_set(e, "%zu bytes, more than the %zu bytes a RIM service answer may have",
		    len, (size_t)GPA_RIM_JSON_MAX);
		return -1;
	}
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		gpa_err_set(e, "not JSON: %s (line %d)", jerr.text, jerr.line);
		return -1;
	}
	if (!json_is_object(root)) {
		gpa_err_set(e, "not a JSON object");
		json_decref(root);
		return -1;
	}
	rc = check_service_fields(root, expected_id, xml, xml_len, e);
	json_decref(root);
	if (rc != 0) {
		free(*xml);
		*xml = NULL;
		*xml_len = 0;
	}
	return rc;
}

int rim_load(const uint8_t *buf, size_t len, const char *expected_id,
    const struct gpa_anchors *anchors, time_t at, struct rim **out, struct gpa_err *e)
{
	uint8_t *xml = NULL;
	size_t xml_len = 0, i = 0;
	int rc;

	*out = NULL;
	if (rim_global_init(e) != 0)
		return -1;
	if (buf == NULL || anchors == NULL) {
		gpa_err_set(e, "RIM: no document or no trust anchors");
		return -1;
	}
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	if (i == len || buf[i] != '{')
		return load_xml(buf, len, anchors, at, out, e);
	if (rim_service_json_decode(buf, len, expected_id, &xml, &xml_len, e) != 0) {
		gpa_err_prefix(e, "RIM service body");
		return -1;
	}
	rc = load_xml(xml, xml_len, anchors, at, out, e);
	free(xml);
	return rc;
}

void rim_free(struct rim *r)
{
	if (r == NULL)
		return;
	free(r->colloquial_version);
	free(r->firmware_manufacturer_id);
	free(r->tag_id);
	free(r->name);
	free(r->edition);
	free(r->meas);
	chain_result_clear(&r->chain);
	sk_X509_pop_free(r->certs, X509_free);
	free(r);
}

const struct rim_measurement *rim_active(const struct rim *r, int index)
{
	if (r == NULL)
		return NULL;
	for (int i = 0; i < r->nmeas; i++)
		if (r->meas[i].active && r->meas[i].index == index)
			return &r->meas[i];
	return NULL;
}
