/*
 * cli/term: what the terminal may be sent. Colour only to a terminal, and
 * never when NO_COLOR is set to anything (https://no-color.org) or TERM is
 * "dumb"; progress lines (redrawn with \r) only to a terminal that can
 * redraw. An explicit --color still wins: the user asked for it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static bool term_is_dumb(void)
{
	const char *t = getenv("TERM");

	return t != NULL && strcmp(t, "dumb") == 0;
}

bool cli_color_default(int fd)
{
	const char *nc = getenv("NO_COLOR");

	if (nc != NULL && nc[0] != '\0')
		return false;
	return isatty(fd) && !term_is_dumb();
}

bool cli_progress_default(int fd)
{
	return isatty(fd) && !term_is_dumb();
}
