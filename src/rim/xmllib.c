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
#define GPA_XMLLIB_FILL	/* the libraries' own names, not the macros */
#include "rim/xmllib.h"

#include <stdbool.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Its dependencies (libxmlsec1, libxml2) come with it. */
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
