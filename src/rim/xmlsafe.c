/*
 * rim/xmlsafe: the first diagnostic of libxml2 / xmlsec captured per load,
 * the one-time library init (no file, URL or external entity ever opened) and
 * the safe parse of a RIM document (bounded, strict UTF-8, no DTD).
 * Policy: rim.c and rim.h.
 */
#include "rim/rim.h"
#include "rim/rim_internal.h"
#include "rim/xmllib.h"

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlIO.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>

/* ---- error capture ------------------------------------------------------ */

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

void rim_capture_begin(struct err_guard *g, struct err_sink *s)
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

void rim_capture_end(const struct err_guard *g)
{
	xmlSetStructuredErrorFunc(g->sctx, g->sfunc);
	xmlSetGenericErrorFunc(g->gctx, g->gfunc);
	t_sink = g->prev_sink;
}

/* ---- global init -------------------------------------------------------- */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static char g_init_error[256];
static int g_init_rc = -1;

/* libxml2's entity loader before ours: the host program's, when it uses
 * libxml2 too (the loader is one per process). */
static xmlExternalEntityLoader g_host_loader;

/* Nothing a RIM contains may make libxml2 open a file or a URL. A RIM is
 * only ever parsed and verified between rim_capture_begin and _end (t_sink
 * set, on that thread); every other parse in the process is the host's own,
 * and goes to the loader it had, so that our init does not change its
 * libxml2's behaviour. */
static xmlParserInputPtr refuse_external_entity(const char *url, const char *id,
    xmlParserCtxtPtr ctxt)
{
	if (t_sink == NULL && g_host_loader != NULL)
		return g_host_loader(url, id, ctxt);
	sink_put("external resource refused");
	return NULL;
}

static void global_init_once(void)
{
	if (xmllib_load(g_init_error, sizeof(g_init_error)) != 0)
		return;
	xmlInitParser();
	g_host_loader = xmlGetExternalEntityLoader();
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
	/* xmlSecInit (1.2.35 and later) installs a loader of its own that
	 * refuses every external entity in the process, the host's too: ours
	 * goes back in front, refusing them in RIM loads only. */
	xmlSetExternalEntityLoader(refuse_external_entity);
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

xmlDocPtr rim_parse_xml_safely(const uint8_t *buf, size_t len, const struct err_sink *sink,
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

