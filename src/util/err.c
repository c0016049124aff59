/* Error messages: one fixed buffer per error, never allocated, so a failure
 * to allocate can still be reported. */
#include "util/util.h"

#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

void gpa_err_set(struct gpa_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

void gpa_err_prefix(struct gpa_err *e, const char *fmt, ...)
{
	char prefix[256];
	size_t pl, keep;
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	strcat(prefix, ": ");
	pl = strlen(prefix);
	/* Shift the old message right, truncating its end if needed. */
	keep = strnlen(e->msg, sizeof(e->msg) - 1);
	if (keep > sizeof(e->msg) - 1 - pl)
		keep = sizeof(e->msg) - 1 - pl;
	memmove(e->msg + pl, e->msg, keep);
	memcpy(e->msg, prefix, pl);
	e->msg[pl + keep] = '\0';
}

void gpa_err_openssl(struct gpa_err *e, const char *fmt, ...)
{
	char what[512];
	unsigned long code;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	code = ERR_get_error();
	if (code != 0) {
		char reason[256];
		ERR_error_string_n(code, reason, sizeof(reason));
		gpa_err_set(e, "%s (%s)", what, reason);
	} else {
		gpa_err_set(e, "%s", what);
	}
	ERR_clear_error();
}

void str_printf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}
