/*
 * rim/xmllib: libxml2 and xmlsec1 are loaded with dlopen, on first use, not
 * at process start.
 *
 * Linked normally they cost every process about 2.5 ms before main (xmlsec,
 * libxml2, libxslt, ICU, libstdc++), on one core, even for runs that never
 * read a RIM (bench/bench_start.sh measures it). Loaded here, that happens in
 * rim_global_init, which the API calls on a thread while the evidence is
 * read and parsed.
 *
 * The functions are reached through gpa_xl, a table of pointers of ours
 * (xmllib.h maps the libraries' names onto it), filled once from dlsym. No
 * symbol of libxml2 or xmlsec is defined here or anywhere in libgpuattest, so
 * a program that uses libxml2 itself, next to us, is not affected; and the
 * libraries are opened RTLD_LOCAL, so nothing of theirs leaks into the
 * program's global scope either.
 */
#define _GNU_SOURCE		/* dladdr */
#define GPA_XMLLIB_FILL	/* the libraries' own names, not the macros */
#include "rim/xmllib.h"

#include <stdbool.h>

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Its dependencies (libxmlsec1, libxml2) come with it. */
static void *xl_handle;
#define XMLSEC_OPENSSL_NAME "libxmlsec1-openssl.so.1"

struct gpa_xmllib gpa_xl;

static pthread_once_t xl_once = PTHREAD_ONCE_INIT;
static bool xl_ok;
static char xl_error[300];

static void xl_load(void)
{
	void *h = dlopen(XMLSEC_OPENSSL_NAME, RTLD_LAZY | RTLD_LOCAL);
	const char *missing = NULL;
	struct gpa_xmllib t;

	if (h == NULL) {
		snprintf(xl_error, sizeof(xl_error), "cannot load %s: %s", XMLSEC_OPENSSL_NAME, dlerror());
		return;
	}
	memset(&t, 0, sizeof(t));
#define XL_RESOLVE(f) \
	if (missing == NULL && (*(void **)&t.f = dlsym(h, #f)) == NULL) \
		missing = #f;
	XL_RESOLVE(xmlFree)
	GPA_XL_FUNCS(XL_RESOLVE)
#undef XL_RESOLVE
	if (missing != NULL) {
		snprintf(xl_error, sizeof(xl_error), "%s (or a library it needs) lacks %s",
		    XMLSEC_OPENSSL_NAME, missing);
		return;
	}
	gpa_xl = t;
	xl_handle = h;
	xl_ok = true;
}

int xmllib_load(char *err, size_t len)
{
	pthread_once(&xl_once, xl_load);
	if (xl_ok)
		return 0;
	snprintf(err, len, "%s", xl_error);
	return -1;
}

/* "1.2.37" from the real name of the file that holds fn ("libxmlsec1.so.1.2.37"). */
static int version_from_file(void *fn, const char *stem, char *out, size_t len)
{
	Dl_info info;
	char real[PATH_MAX];
	const char *base, *v;

	if (dladdr(fn, &info) == 0 || info.dli_fname == NULL || realpath(info.dli_fname, real) == NULL)
		return -1;
	base = strrchr(real, '/');
	base = base != NULL ? base + 1 : real;
	if (strncmp(base, stem, strlen(stem)) != 0)
		return -1;
	v = base + strlen(stem);
	if (*v == '\0' || strchr(v, '.') == NULL)
		return -1;
	snprintf(out, len, "%s", v);
	return 0;
}

int xmllib_versions(char *xmlsec, size_t xlen, char *libxml, size_t llen, char *err,
    size_t elen)
{
	const char *const *pv;
	long n;

	if (xmllib_load(err, elen) != 0)
		return -1;
	if (version_from_file(*(void **)&gpa_xl.xmlSecInit, "libxmlsec1.so.", xmlsec, xlen) != 0)
		snprintf(xmlsec, xlen, "%s (compiled against; the loaded file does not say)", XMLSEC_VERSION);
	pv = dlsym(xl_handle, "xmlParserVersion");
	n = pv != NULL && *pv != NULL ? strtol(*pv, NULL, 10) : 0;
	if (n > 0)
		snprintf(libxml, llen, "%ld.%ld.%ld", n / 10000, n / 100 % 100, n % 100);
	else
		snprintf(libxml, llen, "unknown");
	return 0;
}
