/*
 * rim/xmllib: libxml2 and xmlsec1, loaded on first use (see xmllib.c).
 *
 * The RIM code calls libxml2 and xmlsec by their usual names, but through
 * this header those names are macros for pointers in one table of ours,
 * gpa_xl, filled by xmllib_load from the libraries dlopen gives. The library
 * therefore defines none of libxml2's or xmlsec's symbols: a host program
 * that links libxml2 itself keeps its own xmlFree, xmlCtxtReadMemory, ...
 *
 * Include this header after every libxml2 / xmlsec header the file needs
 * (it includes the ones the RIM layer uses itself; rim_internal.h includes
 * it last). A libxml2 header included after it fails to compile, because its
 * declarations would be rewritten by the macros: that is the guard.
 *
 * Never: a call through the table before xmllib_load returned 0 (its
 * pointers are NULL until then; rim_global_init loads first and reports the
 * load error before any RIM is read).
 */
#ifndef GPA_RIM_XMLLIB_H
#define GPA_RIM_XMLLIB_H

#include <stddef.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlIO.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/keys.h>
#include <xmlsec/list.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/evp.h>

/* Loads the libraries once; 0, or -1 with the reason in err. Every other
 * use of libxml2 or xmlsec in this process must come after a 0 from here. */
int xmllib_load(char *err, size_t len);
/* Loads them and says which versions they are: xmlsec1 from the file the
 * loader found (libxmlsec1.so.1 -> libxmlsec1.so.1.2.37; the headers'
 * version when the name does not say), libxml2 from xmlParserVersion. 0, or
 * -1 with the load error in err. */
int xmllib_versions(char *xmlsec, size_t xlen, char *libxml, size_t llen, char *err,
    size_t elen);

/* Every function the RIM layer calls, by its library's name. */
#define GPA_XL_FUNCS(X) \
	X(__xmlGenericError) X(__xmlGenericErrorContext) X(__xmlStructuredError) \
	X(__xmlStructuredErrorContext) X(xmlCtxtReadMemory) X(xmlDocGetRootElement) \
	X(xmlFreeDoc) X(xmlFreeParserCtxt) X(xmlGetNoNsProp) X(xmlGetNsProp) X(xmlInitParser) \
	X(xmlNewParserCtxt) X(xmlNodeGetContent) X(xmlGetExternalEntityLoader) X(xmlSetExternalEntityLoader) \
	X(xmlSetGenericErrorFunc) X(xmlSetStructuredErrorFunc) X(xmlSecCheckVersionExt) \
	X(xmlSecDSigCtxCreate) X(xmlSecDSigCtxDestroy) X(xmlSecDSigCtxEnableReferenceTransform) \
	X(xmlSecDSigCtxEnableSignatureTransform) X(xmlSecDSigCtxVerify) X(xmlSecErrorsSetCallback) \
	X(xmlSecIOCleanupCallbacks) X(xmlSecInit) X(xmlSecKeyCreate) X(xmlSecKeyDataDestroy) \
	X(xmlSecKeyDestroy) X(xmlSecKeySetValue) X(xmlSecOpenSSLAppInit) X(xmlSecOpenSSLEvpKeyAdopt) \
	X(xmlSecOpenSSLInit) X(xmlSecOpenSSLTransformEcdsaSha384GetKlass) \
	X(xmlSecOpenSSLTransformSha384GetKlass) X(xmlSecPtrListGetItem) X(xmlSecPtrListGetSize) \
	X(xmlSecTransformEnvelopedGetKlass) X(xmlSecTransformInclC14N11GetKlass)

/* One pointer per function, typed from the library header's own
 * declaration, so a call through it is checked as a direct call would be. */
#define GPA_XL_FIELD(f) __typeof__(f) *f;
struct gpa_xmllib {
	GPA_XL_FUNCS(GPA_XL_FIELD)
	xmlFreeFunc *xmlFree;		/* libxml2's variable xmlFree, by address */
};
#undef GPA_XL_FIELD
extern struct gpa_xmllib gpa_xl;

/* From here on the names mean the table's pointers. A macro is not expanded
 * again inside its own expansion, so gpa_xl.xmlFreeDoc names the field.
 * xmllib.c, which fills the table, needs the names as they are. */
#ifndef GPA_XMLLIB_FILL
#define __xmlGenericError			(*gpa_xl.__xmlGenericError)
#define __xmlGenericErrorContext		(*gpa_xl.__xmlGenericErrorContext)
#define __xmlStructuredError			(*gpa_xl.__xmlStructuredError)
#define __xmlStructuredErrorContext		(*gpa_xl.__xmlStructuredErrorContext)
#define xmlCtxtReadMemory			(*gpa_xl.xmlCtxtReadMemory)
#define xmlDocGetRootElement			(*gpa_xl.xmlDocGetRootElement)
#define xmlFreeDoc				(*gpa_xl.xmlFreeDoc)
#define xmlFreeParserCtxt			(*gpa_xl.xmlFreeParserCtxt)
#define xmlGetNoNsProp				(*gpa_xl.xmlGetNoNsProp)
#define xmlGetNsProp				(*gpa_xl.xmlGetNsProp)
#define xmlInitParser				(*gpa_xl.xmlInitParser)
#define xmlNewParserCtxt			(*gpa_xl.xmlNewParserCtxt)
#define xmlNodeGetContent			(*gpa_xl.xmlNodeGetContent)
#define xmlGetExternalEntityLoader		(*gpa_xl.xmlGetExternalEntityLoader)
#define xmlSetExternalEntityLoader		(*gpa_xl.xmlSetExternalEntityLoader)
#define xmlSetGenericErrorFunc			(*gpa_xl.xmlSetGenericErrorFunc)
#define xmlSetStructuredErrorFunc		(*gpa_xl.xmlSetStructuredErrorFunc)
#define xmlSecCheckVersionExt			(*gpa_xl.xmlSecCheckVersionExt)
#define xmlSecDSigCtxCreate			(*gpa_xl.xmlSecDSigCtxCreate)
#define xmlSecDSigCtxDestroy			(*gpa_xl.xmlSecDSigCtxDestroy)
#define xmlSecDSigCtxEnableReferenceTransform	(*gpa_xl.xmlSecDSigCtxEnableReferenceTransform)
#define xmlSecDSigCtxEnableSignatureTransform	(*gpa_xl.xmlSecDSigCtxEnableSignatureTransform)
#define xmlSecDSigCtxVerify			(*gpa_xl.xmlSecDSigCtxVerify)
#define xmlSecErrorsSetCallback			(*gpa_xl.xmlSecErrorsSetCallback)
#define xmlSecIOCleanupCallbacks		(*gpa_xl.xmlSecIOCleanupCallbacks)
#define xmlSecInit				(*gpa_xl.xmlSecInit)
#define xmlSecKeyCreate				(*gpa_xl.xmlSecKeyCreate)
#define xmlSecKeyDataDestroy			(*gpa_xl.xmlSecKeyDataDestroy)
#define xmlSecKeyDestroy			(*gpa_xl.xmlSecKeyDestroy)
#define xmlSecKeySetValue			(*gpa_xl.xmlSecKeySetValue)
#define xmlSecOpenSSLAppInit			(*gpa_xl.xmlSecOpenSSLAppInit)
#define xmlSecOpenSSLEvpKeyAdopt		(*gpa_xl.xmlSecOpenSSLEvpKeyAdopt)
#define xmlSecOpenSSLInit			(*gpa_xl.xmlSecOpenSSLInit)
#define xmlSecOpenSSLTransformEcdsaSha384GetKlass (*gpa_xl.xmlSecOpenSSLTransformEcdsaSha384GetKlass)
#define xmlSecOpenSSLTransformSha384GetKlass	(*gpa_xl.xmlSecOpenSSLTransformSha384GetKlass)
#define xmlSecPtrListGetItem			(*gpa_xl.xmlSecPtrListGetItem)
#define xmlSecPtrListGetSize			(*gpa_xl.xmlSecPtrListGetSize)
#define xmlSecTransformEnvelopedGetKlass	(*gpa_xl.xmlSecTransformEnvelopedGetKlass)
#define xmlSecTransformInclC14N11GetKlass	(*gpa_xl.xmlSecTransformInclC14N11GetKlass)
#undef xmlFree
#define xmlFree					(*(*gpa_xl.xmlFree))
#endif

#endif
