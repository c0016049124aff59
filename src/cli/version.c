/*
 * gpuattest version (also --version): this build and the libraries it runs
 * with, as loaded now: OpenSSL, Nettle and jansson (linked), xmlsec1 with
 * libxml2, and libcurl (loaded on first use; this command loads them to say
 * which). Exit 0, or 3 when a library that verification needs cannot be
 * loaded, naming it: the check a package's smoke test wants.
 */
#include <jansson.h>
#include <nettle/version.h>
#include <openssl/crypto.h>
#include <stdio.h>

#include "cli/cli.h"
#include "net/http.h"
#include "rim/xmllib.h"

void cli_usage_version(FILE *f)
{
	fprintf(f,
"usage: gpuattest version    (or gpuattest --version)\n"
"\n"
"Prints the version of gpuattest and of the libraries it uses, as loaded at\n"
"run time: OpenSSL, Nettle, jansson, xmlsec1 and libxml2 (RIM signatures),\n"
"libcurl (RIM service, OCSP). The XML libraries and libcurl are otherwise\n"
"loaded only when first needed; this command loads them, so it also shows\n"
"that they can be.\n"
"\n"
"Exit: 0; 3 when xmlsec1/libxml2 or libcurl cannot be loaded (the line says\n"
"why); 2 for any argument.\n");
}

int cli_version(int argc, char **argv)
{
	char xmlsec[64], libxml[64], err[300];
	const char *curl;
	int rc = 0;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "gpuattest version: takes no arguments (see 'gpuattest help version')\n");
		return GPUATTEST_BAD_INPUT;
	}
	printf("gpuattest %s (library %s)\n", GPUATTEST_VERSION, gpuattest_version());
	printf("OpenSSL   %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("Nettle    %d.%d\n", nettle_version_major(), nettle_version_minor());
	printf("jansson   %s\n", jansson_version_str());
	if (xmllib_versions(xmlsec, sizeof(xmlsec), libxml, sizeof(libxml), err, sizeof(err)) == 0) {
		printf("xmlsec1   %s\n", xmlsec);
		printf("libxml2   %s\n", libxml);
	} else {
		printf("xmlsec1   NOT AVAILABLE: %s\n", err);
		rc = GPUATTEST_INCOMPLETE;
	}
	if ((curl = http_curl_version()) != NULL) {
		printf("libcurl   %s\n", curl);
	} else {
		printf("libcurl   NOT AVAILABLE: cannot load %s\n", http_curl_soname());
		rc = GPUATTEST_INCOMPLETE;
	}
	return rc;
}
