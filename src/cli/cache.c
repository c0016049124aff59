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
"  clear   remove everything\n");
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
	long n;
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
	c = cache_open(dir != NULL && *dir != '\0' ? dir : NULL, &e);
	if (c == NULL) {
		fprintf(stderr, "gpuattest: %s\n", e.msg);
		return GPUATTEST_INCOMPLETE;
	}
	if (strcmp(what, "list") == 0) {
		rc = list(c);
	} else {
		n = strcmp(what, "clear") == 0 ? cache_clear(c, &e) : cache_prune(c, time(NULL), &e);
		if (n < 0) {
			fprintf(stderr, "gpuattest: %s\n", e.msg);
			rc = GPUATTEST_INCOMPLETE;
		} else {
			printf("cache %s: removed %ld file(s)\n", cache_root(c), n);
		}
	}
	cache_close(c);
	return rc;
}
