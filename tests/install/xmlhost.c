/*
 * A host program that uses libxml2 itself and gpuattest next to it (built
 * with `pkg-config --cflags --libs libxml-2.0 gpuattest`). It must keep
 * libxml2's own functions and behaviour while gpuattest loads and uses
 * libxml2 + xmlsec1 for the RIMs:
 *   - xmlCtxtReadMemory, xmlFreeDoc, xmlSetExternalEntityLoader resolve
 *     into libxml2, not into anything of ours (xmlFree is a variable: the
 *     executable holds its copy-relocated instance whoever defines it, so
 *     test_install's nm check covers it), and xmlFree frees what libxml2
 *     allocated;
 *   - its parses work before and after a verification, including one that
 *     loads an external entity (our RIM parses refuse those; the host's own
 *     may use them);
 *   - the verification of the recorded evidence still passes.
 *
 *	xmlhost EVIDENCE RIMDIR EPOCH ENTITY_FILE
 *
 * Prints one "ok ..." or "FAIL ..." line per check; exits 0 only if all hold.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <gpuattest.h>

static int failures;

static void check(int cond, const char *what, const char *detail)
{
	printf("%s %s%s%s\n", cond ? "ok" : "FAIL", what, detail ? ": " : "", detail ? detail : "");
	if (!cond)
		failures++;
}

/* The definition the program's global scope finds for name. */
static void resolves_into_libxml2(const char *name)
{
	Dl_info info;
	void *p = dlsym(RTLD_DEFAULT, name);
	char what[128];

	snprintf(what, sizeof(what), "%s resolves into libxml2", name);
	check(p != NULL && dladdr(p, &info) != 0 && info.dli_fname != NULL &&
	    strstr(info.dli_fname, "libxml2.so") != NULL, what,
	    p != NULL && dladdr(p, &info) != 0 ? info.dli_fname : "not found");
}

/* Parses doc with options; returns the root element's text (malloc'd by
 * libxml2, freed here with the host's xmlFree) compared with want. */
static void parse(const char *label, const char *doc, int options, const char *want)
{
	xmlDocPtr d = xmlReadMemory(doc, (int)strlen(doc), "host.xml", NULL, options);
	xmlChar *text = NULL;

	if (d != NULL)
		text = xmlNodeGetContent(xmlDocGetRootElement(d));
	check(text != NULL && strcmp((const char *)text, want) == 0, label,
	    text != NULL ? (const char *)text : "parse failed");
	xmlFree(text);
	xmlFreeDoc(d);
}

static void host_parses(const char *when, const char *entity_file)
{
	char doc[4096], label[128];

	snprintf(label, sizeof(label), "host parse %s", when);
	parse(label, "<host><x>hello</x></host>", 0, "hello");
	snprintf(doc, sizeof(doc),
	    "<!DOCTYPE r [<!ENTITY e SYSTEM \"file://%s\">]><r>&e;</r>", entity_file);
	snprintf(label, sizeof(label), "host parse with an external entity %s", when);
	parse(label, doc, XML_PARSE_NOENT, "from the entity file");
}

static void verify(const char *evidence, const char *rims, const char *epoch)
{
	gpuattest_config *cfg = gpuattest_config_new();
	gpuattest_result *res = NULL;
	char detail[256];
	int rc;

	gpuattest_config_add_rim_dir(cfg, rims);
	gpuattest_config_insecure_skip_revocation(cfg);
	/* a recorded file whose nonce this program did not choose */
	gpuattest_config_insecure_accept_evidence_nonce(cfg);
	gpuattest_config_set_time(cfg, (time_t)strtoll(epoch, NULL, 10));
	rc = gpuattest_verify_evidence_file(cfg, evidence, &res);
	snprintf(detail, sizeof(detail), "rc %d verdict %d %s", rc,
	    rc == 0 ? (int)gpuattest_result_verdict(res) : -1, rc == 0 ? "" : gpuattest_config_error(cfg));
	check(rc == 0 && gpuattest_result_verdict(res) == GPUATTEST_VERIFIED,
	    "gpuattest verifies the recorded evidence in a libxml2 host", detail);
	gpuattest_result_free(res);
	gpuattest_config_free(cfg);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: xmlhost EVIDENCE RIMDIR EPOCH ENTITY_FILE\n");
		return 2;
	}
	xmlInitParser();
	resolves_into_libxml2("xmlCtxtReadMemory");
	resolves_into_libxml2("xmlFreeDoc");
	resolves_into_libxml2("xmlSetExternalEntityLoader");
	host_parses("before gpuattest", argv[4]);
	verify(argv[1], argv[2], argv[3]);
	host_parses("after gpuattest", argv[4]);
	verify(argv[1], argv[2], argv[3]);
	return failures == 0 ? 0 : 1;
}
