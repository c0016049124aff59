/*
 * rim/xmllib: libxml2 and xmlsec1 are loaded with dlopen, on first use, not
 * at process start.
 *
 * Linked normally they cost every process about 2.5 ms before main (xmlsec,
 * libxml2, libxslt, ICU, libstdc++), on one core, even for runs that never
 * read a RIM. Loaded here, that happens in rim_global_init, which the API
 * calls on a thread while the evidence is read and parsed.
 *
 * Each function rim.c uses is defined below with the exact prototype its
 * header declares (the compiler checks the two agree) and forwards to the
 * library's own. Nothing is exported: the executable does not link these
 * libraries, so no library ever binds to these definitions.
 *
 * Never: calls a forwarder into an unloaded library (they return the
 * function's failure value instead; rim_global_init reports the load error
 * before any RIM is read).
 */
#include "rim/xmllib.h"

#include <stdbool.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlIO.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/keys.h>
#include <xmlsec/list.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/evp.h>

/* Its dependencies (libxmlsec1, libxml2) come with it. */
#define XMLSEC_OPENSSL_NAME "libxmlsec1-openssl.so.1"

/* One pointer per function, typed from the header's own declaration. */
#define XL_FUNCS(X) \
	X(__xmlGenericError) X(__xmlGenericErrorContext) X(__xmlStructuredError) \
	X(__xmlStructuredErrorContext) X(xmlCtxtReadMemory) X(xmlDocGetRootElement) \
	X(xmlFreeDoc) X(xmlFreeParserCtxt) X(xmlGetNoNsProp) X(xmlGetNsProp) X(xmlInitParser) \
	X(xmlNewParserCtxt) X(xmlNodeGetContent) X(xmlSetExternalEntityLoader) \
	X(xmlSetGenericErrorFunc) X(xmlSetStructuredErrorFunc) X(xmlSecCheckVersionExt) \
	X(xmlSecDSigCtxCreate) X(xmlSecDSigCtxDestroy) X(xmlSecDSigCtxEnableReferenceTransform) \
	X(xmlSecDSigCtxEnableSignatureTransform) X(xmlSecDSigCtxVerify) X(xmlSecErrorsSetCallback) \
	X(xmlSecIOCleanupCallbacks) X(xmlSecInit) X(xmlSecKeyCreate) X(xmlSecKeyDataDestroy) \
	X(xmlSecKeyDestroy) X(xmlSecKeySetValue) X(xmlSecOpenSSLAppInit) X(xmlSecOpenSSLEvpKeyAdopt) \
	X(xmlSecOpenSSLInit) X(xmlSecOpenSSLTransformEcdsaSha384GetKlass) \
	X(xmlSecOpenSSLTransformSha384GetKlass) X(xmlSecPtrListGetItem) X(xmlSecPtrListGetSize) \
	X(xmlSecTransformEnvelopedGetKlass) X(xmlSecTransformInclC14N11GetKlass)

#define XL_FIELD(f) __typeof__(f) *f;
static struct {
	XL_FUNCS(XL_FIELD)
	xmlFreeFunc *free_fn;		/* libxml2's variable xmlFree */
} xl;

static pthread_once_t xl_once = PTHREAD_ONCE_INIT;
static bool xl_ok;
static char xl_error[300];

static void xl_load(void)
{
	void *h = dlopen(XMLSEC_OPENSSL_NAME, RTLD_LAZY | RTLD_LOCAL);
	const char *missing = NULL;

	if (h == NULL) {
		snprintf(xl_error, sizeof(xl_error), "cannot load %s: %s", XMLSEC_OPENSSL_NAME, dlerror());
		return;
	}
#define XL_RESOLVE(f) \
	if (missing == NULL && (*(void **)&xl.f = dlsym(h, #f)) == NULL) \
		missing = #f;
	XL_FUNCS(XL_RESOLVE)
#undef XL_RESOLVE
	if (missing == NULL && (xl.free_fn = dlsym(h, "xmlFree")) == NULL)
		missing = "xmlFree";
	if (missing != NULL) {
		snprintf(xl_error, sizeof(xl_error), "%s (or a library it needs) lacks %s",
		    XMLSEC_OPENSSL_NAME, missing);
		return;
	}
	xl_ok = true;
}

static bool ready(void)
{
	pthread_once(&xl_once, xl_load);
	return xl_ok;
}

int xmllib_load(char *err, size_t len)
{
	if (ready())
		return 0;
	snprintf(err, len, "%s", xl_error);
	return -1;
}

/* ---- libxml2 ------------------------------------------------------------ */

static void free_forward(void *p)
{
	if (ready())
		(*xl.free_fn)(p);
}

xmlFreeFunc xmlFree = free_forward;

xmlGenericErrorFunc *__xmlGenericError(void)
{
	return ready() ? xl.__xmlGenericError() : NULL;
}

void **__xmlGenericErrorContext(void)
{
	return ready() ? xl.__xmlGenericErrorContext() : NULL;
}

xmlStructuredErrorFunc *__xmlStructuredError(void)
{
	return ready() ? xl.__xmlStructuredError() : NULL;
}

void **__xmlStructuredErrorContext(void)
{
	return ready() ? xl.__xmlStructuredErrorContext() : NULL;
}

xmlDocPtr xmlCtxtReadMemory(xmlParserCtxtPtr ctxt, const char *buffer, int size, const char *URL,
    const char *encoding, int options)
{
	return ready() ? xl.xmlCtxtReadMemory(ctxt, buffer, size, URL, encoding, options) : NULL;
}

xmlNodePtr xmlDocGetRootElement(const xmlDoc *doc)
{
	return ready() ? xl.xmlDocGetRootElement(doc) : NULL;
}

void xmlFreeDoc(xmlDocPtr cur)
{
	if (ready())
		xl.xmlFreeDoc(cur);
}

void xmlFreeParserCtxt(xmlParserCtxtPtr ctxt)
{
	if (ready())
		xl.xmlFreeParserCtxt(ctxt);
}

xmlChar *xmlGetNoNsProp(const xmlNode *node, const xmlChar *name)
{
	return ready() ? xl.xmlGetNoNsProp(node, name) : NULL;
}

xmlChar *xmlGetNsProp(const xmlNode *node, const xmlChar *name, const xmlChar *nameSpace)
{
	return ready() ? xl.xmlGetNsProp(node, name, nameSpace) : NULL;
}

void xmlInitParser(void)
{
	if (ready())
		xl.xmlInitParser();
}

xmlParserCtxtPtr xmlNewParserCtxt(void)
{
	return ready() ? xl.xmlNewParserCtxt() : NULL;
}

xmlChar *xmlNodeGetContent(const xmlNode *cur)
{
	return ready() ? xl.xmlNodeGetContent(cur) : NULL;
}

void xmlSetExternalEntityLoader(xmlExternalEntityLoader f)
{
	if (ready())
		xl.xmlSetExternalEntityLoader(f);
}

void xmlSetGenericErrorFunc(void *ctx, xmlGenericErrorFunc handler)
{
	if (ready())
		xl.xmlSetGenericErrorFunc(ctx, handler);
}

void xmlSetStructuredErrorFunc(void *ctx, xmlStructuredErrorFunc handler)
{
	if (ready())
		xl.xmlSetStructuredErrorFunc(ctx, handler);
}

/* ---- xmlsec ------------------------------------------------------------- */

int xmlSecCheckVersionExt(int major, int minor, int subminor, xmlSecCheckVersionMode mode)
{
	return ready() ? xl.xmlSecCheckVersionExt(major, minor, subminor, mode) : -1;
}

xmlSecDSigCtxPtr xmlSecDSigCtxCreate(xmlSecKeysMngrPtr keysMngr)
{
	return ready() ? xl.xmlSecDSigCtxCreate(keysMngr) : NULL;
}

void xmlSecDSigCtxDestroy(xmlSecDSigCtxPtr dsigCtx)
{
	if (ready())
		xl.xmlSecDSigCtxDestroy(dsigCtx);
}

int xmlSecDSigCtxEnableReferenceTransform(xmlSecDSigCtxPtr dsigCtx, xmlSecTransformId transformId)
{
	return ready() ? xl.xmlSecDSigCtxEnableReferenceTransform(dsigCtx, transformId) : -1;
}

int xmlSecDSigCtxEnableSignatureTransform(xmlSecDSigCtxPtr dsigCtx, xmlSecTransformId transformId)
{
	return ready() ? xl.xmlSecDSigCtxEnableSignatureTransform(dsigCtx, transformId) : -1;
}

int xmlSecDSigCtxVerify(xmlSecDSigCtxPtr dsigCtx, xmlNodePtr node)
{
	return ready() ? xl.xmlSecDSigCtxVerify(dsigCtx, node) : -1;
}

void xmlSecErrorsSetCallback(xmlSecErrorsCallback callback)
{
	if (ready())
		xl.xmlSecErrorsSetCallback(callback);
}

void xmlSecIOCleanupCallbacks(void)
{
	if (ready())
		xl.xmlSecIOCleanupCallbacks();
}

int xmlSecInit(void)
{
	return ready() ? xl.xmlSecInit() : -1;
}

xmlSecKeyPtr xmlSecKeyCreate(void)
{
	return ready() ? xl.xmlSecKeyCreate() : NULL;
}

void xmlSecKeyDataDestroy(xmlSecKeyDataPtr data)
{
	if (ready())
		xl.xmlSecKeyDataDestroy(data);
}

void xmlSecKeyDestroy(xmlSecKeyPtr key)
{
	if (ready())
		xl.xmlSecKeyDestroy(key);
}

int xmlSecKeySetValue(xmlSecKeyPtr key, xmlSecKeyDataPtr value)
{
	return ready() ? xl.xmlSecKeySetValue(key, value) : -1;
}

int xmlSecOpenSSLAppInit(const char *config)
{
	return ready() ? xl.xmlSecOpenSSLAppInit(config) : -1;
}

xmlSecKeyDataPtr xmlSecOpenSSLEvpKeyAdopt(EVP_PKEY *pKey)
{
	return ready() ? xl.xmlSecOpenSSLEvpKeyAdopt(pKey) : NULL;
}

int xmlSecOpenSSLInit(void)
{
	return ready() ? xl.xmlSecOpenSSLInit() : -1;
}

xmlSecTransformId xmlSecOpenSSLTransformEcdsaSha384GetKlass(void)
{
	return ready() ? xl.xmlSecOpenSSLTransformEcdsaSha384GetKlass() : NULL;
}

xmlSecTransformId xmlSecOpenSSLTransformSha384GetKlass(void)
{
	return ready() ? xl.xmlSecOpenSSLTransformSha384GetKlass() : NULL;
}

xmlSecPtr xmlSecPtrListGetItem(xmlSecPtrListPtr list, xmlSecSize pos)
{
	return ready() ? xl.xmlSecPtrListGetItem(list, pos) : NULL;
}

xmlSecSize xmlSecPtrListGetSize(xmlSecPtrListPtr list)
{
	return ready() ? xl.xmlSecPtrListGetSize(list) : 0;
}

xmlSecTransformId xmlSecTransformEnvelopedGetKlass(void)
{
	return ready() ? xl.xmlSecTransformEnvelopedGetKlass() : NULL;
}

xmlSecTransformId xmlSecTransformInclC14N11GetKlass(void)
{
	return ready() ? xl.xmlSecTransformInclC14N11GetKlass() : NULL;
}
