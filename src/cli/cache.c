/* gpuattest cache: look at and tidy the cache of RIMs and OCSP answers. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "net/cache.h"

void cli_usage_cache(FILE *f)
{
	fprintf(f,
"usage: gpuattest cache list|prune|clear [--cache-dir DIR]\n"
"\n"
"The cache holds RIMs (by content hash, re-verified every time they are used,\n"
"kept until their signing certificate expires) and OCSP answers (never used\n"
"past their nextUpdate). Default location: $GPUATTEST_CACHE_DIR, else\n"
"$XDG_CACHE_HOME/gpuattest (~/.cache/gpuattest), or /var/cache/gpuattest for root.\n"
"\n"
"  list    every entry, its size and when it expires\n"
"  prune   remove expired entries\n"
"  clear   remove everything\n"
"\n"
"prune and clear never leave the cache: they refuse (exit 2, nothing removed) a\n"
"cache directory that is a symbolic link, is not owned by you or root, or is\n"
"writable by group or others; they follow no link inside it, and remove only\n"
"regular files named as the cache names them (rims/<sha256>.xml,\n"
"rims/by-id/<RIM id>, ocsp/<key>.der, jwks/<sha256>.json). Anything else is\n"
"left in place and listed.\n");
}

static void report_left(void *arg, const char *dir, const char *name, const char *why)
{
	const char *root = arg;

	printf("  left in place: %s/%s%s%s (%s)\n", root, dir, dir[0] ? "/" : "", name, why);
}

/* clear or prune: never outside the cache (net/cache_tidy.c). */
static int tidy(struct gpa_cache *c, const char *what)
{
	struct gpa_cache_tidy t = { .report = report_left, .report_arg = (void *)cache_root(c) };
	bool clear = strcmp(what, "clear") == 0;
	int rc = clear ? cache_tidy_clear(c, &t) : cache_tidy_prune(c, time(NULL), &t);

	if (rc != 0) {
		fprintf(stderr, "gpuattest cache %s: refused, nothing removed: %s\n", what, t.refused);
		return GPUATTEST_BAD_INPUT;
	}
	printf("cache %s: removed %ld file(s)", cache_root(c), t.removed);
	if (t.nleft > 0)
		printf("; %ld entr%s not of this cache's making left in place (listed above)", t.nleft,
		    t.nleft == 1 ? "y" : "ies");
	printf("\n");
	return 0;
}

static int list(struct gpa_cache *c)
{
	struct gpa_cache_entry *ents = NULL;
	struct gpa_err e = {{0}};
	size_t n = 0;

	if (cache_list(c, time(NULL), &ents, &n, &e) != 0) {
		fprintf(stderr, "gpuattest: %s\n", e.msg);
		return GPUATTEST_INCOMPLETE;
	}
	printf("cache %s: %zu entr%s\n", cache_root(c), n, n == 1 ? "y" : "ies");
	for (size_t i = 0; i < n; i++) {
		char exp[21] = "unknown";
		if (ents[i].expires != 0)
			time_format_rfc3339(ents[i].expires, exp);
		printf("%-4s  %-60s  %8zu bytes  expires %s%s\n", ents[i].kind == GPA_CACHE_RIM ? "RIM" : "OCSP",
		    ents[i].name, ents[i].size, exp, ents[i].expired ? " (EXPIRED)" : "");
	}
	free(ents);
	return 0;
}

int cli_cache(int argc, char **argv)
{
	static const struct option opts[] = {
		{"cache-dir", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL;		/* cache_open(NULL) reads $GPUATTEST_CACHE_DIR */
	struct gpa_err e = {{0}};
	struct gpa_cache *c;
	const char *what;
	int ch, rc = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'h': cli_usage_cache(stdout); return 0;
		default: cli_usage_cache(stderr); return GPUATTEST_BAD_INPUT;
		}
	}
	if (optind + 1 != argc) {
		cli_usage_cache(stderr);
		return GPUATTEST_BAD_INPUT;
	}
	what = argv[optind];
	if (strcmp(what, "list") != 0 && strcmp(what, "prune") != 0 && strcmp(what, "clear") != 0) {
		fprintf(stderr, "gpuattest cache: '%s' is not list, prune or clear\n", what);
		return GPUATTEST_BAD_INPUT;
	}
	c = cache_open_existing(dir != NULL && *dir != '\0' ? dir : NULL, &e);
	if (c == NULL) {
		fprintf(stderr, "gpuattest: %s\n", e.msg);
		return GPUATTEST_INCOMPLETE;
	}
	rc = strcmp(what, "list") == 0 ? list(c) : tidy(c, what);
	cache_close(c);
	return rc;
}
