/*
 * Errors of the CLI, said on stderr and remembered, so that --format json
 * can still print one document when a run ends without a verdict (exit 2
 * or 3): automation then never parses an empty stdout.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"

static char last_error[1024];

void cli_remember_error(const char *msg)
{
	snprintf(last_error, sizeof(last_error), "%s", msg);
}

void cli_err(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "gpuattest: %s\n", msg);
	cli_remember_error(msg);
}

/* Looks ahead for --format json (or --format=json) before the options are
 * parsed, so that a usage error found first is also answered in JSON.
 * --quiet anywhere means no output at all. */
bool cli_wants_json(int argc, char **argv)
{
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--quiet") == 0)
			return false;	/* nothing at all, as promised */
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			json = strcmp(argv[++i], "json") == 0;
		else if (strncmp(argv[i], "--format=", 9) == 0)
			json = strcmp(argv[i] + 9, "json") == 0;
	}
	return json;
}

/* {"schema_version", "result", "exit_code", "error"}: the result document
 * of a run that reached no verdict (schema/gpuattest-result.schema.json). */
void cli_print_error_json(int exit_code)
{
	json_t *doc = json_object();
	char *s;

	json_object_set_new(doc, "schema_version", json_string(GPUATTEST_SCHEMA_VERSION));
	json_object_set_new(doc, "result", json_string(exit_code == GPUATTEST_INCOMPLETE ?
	    "incomplete" : "bad-input"));
	json_object_set_new(doc, "exit_code", json_integer(exit_code));
	json_object_set_new(doc, "error", json_string(last_error[0] ? last_error :
	    "stopped without a verdict (see the messages on stderr)"));
	s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (s != NULL) {
		puts(s);
		free(s);
	}
}

/* What getopt_long returned for a bad option, in one line naming it (the
 * option string starts with ':', so getopt itself says nothing and a
 * missing argument comes back as ':'). Returns the exit code, 2. */
int cli_bad_option(const char *cmd, int c, char **argv)
{
	const char *opt = optind > 0 ? argv[optind - 1] : "?";
	char msg[512];

	if (c == ':')
		snprintf(msg, sizeof(msg), "%s needs an argument", opt);
	else
		snprintf(msg, sizeof(msg), "unknown option %s", opt);
	fprintf(stderr, "gpuattest %s: %s (see 'gpuattest help %s')\n", cmd, msg, cmd);
	cli_remember_error(msg);
	return GPUATTEST_BAD_INPUT;
}

/* An option's argument that is itself an option ("--evidence --format"):
 * getopt took the next word. Says so in one line; returns 2. */
int cli_option_as_argument(const char *cmd, char **argv)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s needs an argument (got the option %s)", argv[optind - 2],
	    argv[optind - 1]);
	fprintf(stderr, "gpuattest %s: %s (see 'gpuattest help %s')\n", cmd, msg, cmd);
	cli_remember_error(msg);
	return GPUATTEST_BAD_INPUT;
}
