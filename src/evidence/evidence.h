/*
 * evidence: reading and writing evidence files.
 *
 * Owns: NVIDIA's serialized evidence JSON (an array of {arch, nonce,
 * evidence, certificate}, extra keys ignored), the NRAS request shape
 * ({nonce, arch, evidence_list: [{evidence, certificate}]}), nvattest's
 * collect-evidence output ({result_code, result_message, evidences: [...]}),
 * a raw report
 * (binary or hex text) with a PEM chain, and writing NVIDIA's format back.
 *
 * Never: interprets the report or the chain (that is spdm/ and x509/), or
 * trusts the "arch" string for anything but a cross-check.
 */
#ifndef GPA_EVIDENCE_H
#define GPA_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spdm/spdm.h"
#include "util/util.h"

#define GPA_EVIDENCE_MAX_ITEMS	64
#define GPA_EVIDENCE_MAX_FILE	(16u << 20)
#define GPA_REPORT_MAX		0x2000		/* NVML / NSCQ report buffer size */
#define GPA_CHAIN_MAX		0x8000		/* PEM text */

struct evidence_item {
	enum gpa_device_kind kind;
	char arch[16];			/* as written in the file, "" when absent */
	bool has_nonce;
	uint8_t nonce[SPDM_NONCE_LEN];
	uint8_t *report;
	size_t report_len;
	char *chain_pem;		/* NUL terminated */
	size_t chain_len;
	char uuid[96];			/* optional metadata ("uuid"), "" when absent */

	/* What NVML said about this GPU, when collected live. */
	bool live;
	bool not_cc;			/* not in CC mode: no report was asked for */
	int tnvl;			/* switch, live: NSCQ pcie_mode (0 when not read) */
	bool have_tnvl;
	char name[96];
	char nvml_vbios[32];
	unsigned nvml_arch;
	int nvml_index;
};

struct evidence_set {
	size_t n;
	struct evidence_item items[GPA_EVIDENCE_MAX_ITEMS];
};

/* Parses either JSON shape. Every item must have evidence and certificate
 * (strings, strict base64). Wrong types, empty arrays, bad hex nonces, too
 * many items and oversized fields are errors naming the item and key. */
int evidence_parse_json(const uint8_t *buf, size_t len, enum gpa_device_kind kind,
    struct evidence_set *set, struct gpa_err *e);
int evidence_load_json_file(const char *path, enum gpa_device_kind kind,
    struct evidence_set *set, struct gpa_err *e);

/* A raw report (binary, or hex text with optional whitespace) and a PEM
 * chain file as a one-item set. */
int evidence_load_raw(const char *report_path, const char *chain_path,
    enum gpa_device_kind kind, struct evidence_set *set, struct gpa_err *e);
/* Decodes a report file's bytes: hex text when it is only hex digits and
 * whitespace, otherwise taken as binary. malloc'd. */
int report_bytes_decode(const uint8_t *buf, size_t len, uint8_t **out, size_t *outlen,
    struct gpa_err *e);

/* The common nonce of the set: every item that has one must agree.
 * Returns 1 found, 0 none, -1 items disagree. */
int evidence_common_nonce(const struct evidence_set *set, uint8_t nonce[SPDM_NONCE_LEN],
    struct gpa_err *e);

/* NVIDIA's serialized evidence JSON (array of {arch, nonce, evidence,
 * certificate} plus "uuid" when known). malloc'd text. */
char *evidence_to_json(const struct evidence_set *set);

void evidence_set_clear(struct evidence_set *set);

/* misfit.c: what a file looks like by its first bytes, so that one given to
 * the wrong option is refused with the option that fits (exit 2) instead of
 * being parsed as what it is not. */
enum evidence_looks {
	EVIDENCE_LOOKS_JSON, EVIDENCE_LOOKS_PEM, EVIDENCE_LOOKS_REPORT, EVIDENCE_LOOKS_REPORT_HEX,
	EVIDENCE_LOOKS_OTHER,
};
enum evidence_option { EVIDENCE_OPT_JSON, EVIDENCE_OPT_REPORT, EVIDENCE_OPT_CHAIN };
enum evidence_looks evidence_looks_like(const uint8_t *buf, size_t len);
/* 0 when buf may be what opt wants; -1 with "PATH is JSON evidence: use
 * --evidence PATH ..." and the like. */
int evidence_refuse_misfit(const char *path, const uint8_t *buf, size_t len, enum evidence_option opt,
    struct gpa_err *e);
/* file_read, or for "-" the whole of standard input (at most max bytes). */
int evidence_read_input(const char *path, size_t max, uint8_t **buf, size_t *len, struct gpa_err *e);
/* A raw report already read (NAME says where from) and a PEM chain file. */
int evidence_load_raw_buffer(const char *name, const uint8_t *buf, size_t len, const char *chain_path,
    enum gpa_device_kind kind, struct evidence_set *set, struct gpa_err *e);

/* What a live device returned, copied into its item (replacing what was
 * there): the report as is; the PEM chain NUL-terminated, its length up to
 * the first NUL (drivers' sizes may count the C terminator). 0, or -1 out
 * of memory. */
int evidence_item_copy_report(struct evidence_item *it, const void *report, size_t len);
int evidence_item_copy_chain(struct evidence_item *it, const void *chain, size_t len);

#endif
