/*
 * rim internals shared by the files of the RIM layer (not an API):
 * xmlsafe.c (error capture, library init, the safe parse), rimsig.c (the
 * signature shape and the XMLDSig check), rimmeas.c (identity and
 * measurements) and rim.c (document, service envelope, rim_load).
 */
#ifndef GPA_RIM_INTERNAL_H
#define GPA_RIM_INTERNAL_H

#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>
#include <openssl/x509.h>
#include <string.h>

#include "rim/rim.h"
/* Last: the libxml2 / xmlsec names become our table's (xmllib.h). */
#include "rim/xmllib.h"

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
/* opaque_ref.c: a Measurement resource whose index is 4096 or more is an
 * opaque-data record; rim_parse_opaque_ref reads it into r->opaque (active
 * ones only), r->opaque having room for every resource of the Payload. */
bool rim_is_opaque_ref(const xmlNode *res);
int rim_parse_opaque_ref(const xmlNode *res, int pos, struct rim *r, struct gpa_err *e);

#endif

/* First diagnostic of libxml2 / xmlsec during one rim_load on this thread.
 * The first one is kept because the later ones are the same failure seen
 * again by each caller on the way out. */
struct err_sink {
	char msg[256];
	bool have;
};

/* libxml2 keeps its error handlers per thread; install ours for the
 * duration of one load and give the caller's back afterwards. */
struct err_guard {
	xmlStructuredErrorFunc sfunc;
	void *sctx;
	xmlGenericErrorFunc gfunc;
	void *gctx;
	struct err_sink *prev_sink;
};

void rim_capture_begin(struct err_guard *g, struct err_sink *s);
void rim_capture_end(const struct err_guard *g);
/* Parses with every external access refused; NULL with the problem in e. */
xmlDocPtr rim_parse_xml_safely(const uint8_t *buf, size_t len, const struct err_sink *sink,
    struct gpa_err *e);

static inline bool is_elem(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL && n->ns->href != NULL &&
	    strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

/* Next node after n in document order within root's subtree, or NULL.
 * Iterative, so a hostile nesting depth costs no stack. */
static inline xmlNodePtr next_in_tree(xmlNodePtr n, xmlNodePtr root)
{
	if (n->type == XML_ELEMENT_NODE && n->children != NULL)
		return n->children;
	while (n != root && n->next == NULL)
		n = n->parent;
	return n == root ? NULL : n->next;
}

/* rimsig.c */
int rim_check_document_shape(xmlDocPtr doc, xmlNodePtr *sig_out, xmlNodePtr *x509data,
    struct gpa_err *e);
int rim_load_certs(const xmlNode *x509data, STACK_OF(X509) **out, struct gpa_err *e);
int rim_verify_signature(xmlNodePtr sig, X509 *leaf, struct err_sink *sink, struct rim *r,
    const uint8_t doc_hash[32], struct gpa_err *e);

/* rimmeas.c */
xmlNodePtr rim_single_swid_child(xmlNodePtr root, const char *name, struct gpa_err *e);
int rim_parse_identity(xmlNodePtr root, xmlNodePtr meta, struct rim *r, struct gpa_err *e);
int rim_parse_measurements(xmlNodePtr root, xmlNodePtr payload, struct rim *r,
    struct gpa_err *e);

#endif
