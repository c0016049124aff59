/*
 * cli/statusline: the lines on stderr that are no result.
 *
 * While the network is awaited, one line on a terminal's
 * stderr says what and from where ("waiting for the RIM service at URL (RIM
 * NV_GPU_DRIVER_...)"), so that a slow service is not mistaken for a hang.
 * A terminal that can redraw has the line cleared when the answer comes; a
 * dumb one has it finished with "done". Never with --quiet or --format json,
 * and never to a pipe or a file (scripts and journals read only results).
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "appraise/appraise.h"
#include "api/api_internal.h"
#include "net/http.h"

static bool redraw;

/* Columns of the terminal; a line longer than that would wrap, and a wrapped
 * line cannot be cleared with one carriage return. */
static size_t columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	return 0;	/* unknown: not cut */
}

static void wait_begin(void *arg, const char *what)
{
	char line[640];
	size_t max = columns();

	(void)arg;
	snprintf(line, sizeof(line), "gpuattest: waiting for %s ...", what);
	if (redraw && max > 0 && strlen(line) > --max && max < sizeof(line))
		memcpy(line + max - 4, " ...", 5);
	fputs(line, stderr);
	fflush(stderr);
}

static void wait_end(void *arg)
{
	(void)arg;
	fputs(redraw ? "\r\033[K" : " done\n", stderr);
	fflush(stderr);
}

static const struct gpa_http_wait cli_wait = {wait_begin, wait_end, NULL};

void cli_waitline_attach(gpuattest_config *cfg, bool quiet, bool json)
{
	if (quiet || json || !isatty(STDERR_FILENO))
		return;
	redraw = cli_progress_default(STDERR_FILENO);
	cfg->http_wait = &cli_wait;
}

/* --quiet prints no result, but a run that did not pass still says why on
 * stderr, in one line, so that a gate's journal shows it. */
void cli_quiet_reason(const gpuattest_result *res)
{
	char line[1024];

	if (res->a.verdict == GPA_PASS)
		return;
	appraisal_reason(&res->a, line, sizeof(line));
	fprintf(stderr, "gpuattest: %s\n", line);
}
