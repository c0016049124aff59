/*
 * Files given to the wrong option: a JSON evidence file given as a raw
 * report, a PEM chain or a raw report given as JSON evidence. Each is told
 * apart by its first bytes and refused with the option that fits (exit 2),
 * rather than parsed as what it is not ("signature INVALID" for a JSON file
 * read as report bytes). And "-" for standard input.
 */
#include "evidence/evidence.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t skip_space(const uint8_t *buf, size_t len)
{
	size_t i = 0;

	while (i < len && isspace(buf[i]))
		i++;
	return i;
}

/* SPDM 1.1 GET_MEASUREMENTS request, the first bytes of every report. */
static bool report_bytes(const uint8_t *b, size_t len)
{
	return len >= 2 && b[0] == 0x11 && b[1] == 0xe0;
}

static bool report_hex(const uint8_t *b, size_t len)
{
	return len >= 4 && b[0] == '1' && b[1] == '1' && (b[2] == 'e' || b[2] == 'E') && b[3] == '0';
}

enum evidence_looks evidence_looks_like(const uint8_t *buf, size_t len)
{
	size_t i = skip_space(buf, len);

	if (i < len && (buf[i] == '{' || buf[i] == '['))
		return EVIDENCE_LOOKS_JSON;
	if (len - i >= 11 && memcmp(buf + i, "-----BEGIN ", 11) == 0)
		return EVIDENCE_LOOKS_PEM;
	if (report_bytes(buf, len))
		return EVIDENCE_LOOKS_REPORT;
	if (report_hex(buf + i, len - i))
		return EVIDENCE_LOOKS_REPORT_HEX;
	return EVIDENCE_LOOKS_OTHER;
}

int evidence_refuse_misfit(const char *path, const uint8_t *buf, size_t len, enum evidence_option opt,
    struct gpa_err *e)
{
	enum evidence_looks l = evidence_looks_like(buf, len);

	switch (opt) {
	case EVIDENCE_OPT_REPORT:
		if (l == EVIDENCE_LOOKS_JSON) {
			gpa_err_set(e, "%s is JSON evidence: use --evidence %s (--switch-evidence for NVSwitches); "
			    "--report takes one raw report, binary or hex", path, path);
			return -1;
		}
		if (l == EVIDENCE_LOOKS_PEM) {
			gpa_err_set(e, "%s is a PEM file, not a report: give the certificate chain with --cert-chain "
			    "and the raw report with --report", path);
			return -1;
		}
		return 0;
	case EVIDENCE_OPT_CHAIN:
		if (l == EVIDENCE_LOOKS_JSON) {
			gpa_err_set(e, "%s is JSON evidence, not a PEM certificate chain: use --evidence %s alone",
			    path, path);
			return -1;
		}
		if (l == EVIDENCE_LOOKS_REPORT || l == EVIDENCE_LOOKS_REPORT_HEX) {
			gpa_err_set(e, "%s is an attestation report, not a PEM certificate chain: give it with "
			    "--report, and the chain with --cert-chain", path);
			return -1;
		}
		return 0;
	case EVIDENCE_OPT_JSON:
		if (l == EVIDENCE_LOOKS_PEM) {
			gpa_err_set(e, "%s is a PEM file (a certificate chain?), not JSON evidence: a raw report and "
			    "its chain go with --report REPORT --cert-chain %s", path, path);
			return -1;
		}
		if (l == EVIDENCE_LOOKS_REPORT || l == EVIDENCE_LOOKS_REPORT_HEX) {
			gpa_err_set(e, "%s is a raw attestation report (%s), not JSON evidence: use --report %s "
			    "--cert-chain CHAIN.pem", path, l == EVIDENCE_LOOKS_REPORT ? "binary" : "hex text", path);
			return -1;
		}
		return 0;
	}
	return 0;
}

int evidence_read_input(const char *path, size_t max, uint8_t **buf, size_t *len, struct gpa_err *e)
{
	uint8_t *b;
	size_t n = 0, cap = 65536 < max ? 65536 : max;

	if (strcmp(path, "-") != 0)
		return file_read(path, max, buf, len, e);
	*buf = NULL;
	*len = 0;
	if ((b = malloc(cap + 1)) == NULL) {
		gpa_err_set(e, "standard input: out of memory");
		return -1;
	}
	for (;;) {
		ssize_t r;
		if (n == cap && cap < max) {
			size_t ncap = cap * 2 < max ? cap * 2 : max;
			uint8_t *nb = realloc(b, ncap + 1);
			if (nb == NULL) {
				free(b);
				gpa_err_set(e, "standard input: out of memory");
				return -1;
			}
			b = nb;
			cap = ncap;
		}
		/* At the limit one more byte is read: EOF there is still fine. */
		r = read(STDIN_FILENO, b + n, n == cap ? 1 : cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			gpa_err_set(e, "standard input: read error: %s", strerror(errno));
			return -1;
		}
		if (r == 0)
			break;
		if (n == cap) {
			free(b);
			gpa_err_set(e, "standard input: more than the %zu bytes allowed", max);
			return -1;
		}
		n += (size_t)r;
	}
	b[n] = 0;
	*buf = b;
	*len = n;
	return 0;
}
