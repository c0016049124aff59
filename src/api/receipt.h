/*
 * Audit receipts: one self-contained file per verification that an auditor
 * can re-verify later, offline, without trusting the machine that wrote it.
 *
 * A receipt (format "gpuattest-receipt", version 1; docs/receipts.md) holds
 * the evidence exactly as verified (reports, chains, and for a live run what
 * the driver said), every RIM and OCSP answer used (a collateral bundle),
 * the anchors' fingerprints, the options and weakenings in force, the
 * verification time and nonce, the result document (verdict, checks,
 * claims) and the signed result token when one was made. It is written
 * atomically, in one canonical serialization (sorted keys, ASCII), with a
 * SHA-256 over its content: any changed byte is seen.
 *
 * Re-verification runs the whole verification again on what the receipt
 * carries, at its recorded time, with no network, trusting only NVIDIA's
 * pinned roots and the anchors the auditor names (never one inside the
 * receipt), and compares the outcome check by check.
 */
#ifndef GPA_API_RECEIPT_H
#define GPA_API_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gpuattest.h"

#define GPA_RECEIPT_FORMAT "gpuattest-receipt"
#define GPA_RECEIPT_VERSION 1
#define GPA_RECEIPT_MAX_BYTES (96u << 20)

/* Before the verification: makes c keep every RIM and OCSP answer it uses. */
int api_receipt_prepare(gpuattest_config *c);
/* After it: writes the receipt of res (token: the compact JWS made for it,
 * or NULL). 0, or -1 with the reason in gpuattest_config_error(c). */
int api_receipt_write(gpuattest_config *c, const gpuattest_result *res, const char *token,
    const char *path);

/* Sets doc's "integrity" digest and returns its canonical text (malloc'd),
 * as a receipt is written; NULL out of memory. */
char *api_receipt_seal(json_t *doc);

struct gpa_receipt_check {
	int recorded_verdict;		/* what the receipt says */
	int verdict;			/* what re-verification found, -1 if it could not run */
	bool reproduced;
	char written[21], verified_at[21];
	json_t *differences;		/* array of strings */
	json_t *result;			/* the re-verification's result document */
	json_t *not_reverified;		/* checks that cannot be re-run (none today) */
};

/* Reads and re-verifies a receipt with the auditor's configuration c
 * (anchors; everything else comes from the receipt). Returns 0 with out
 * filled (look at out->reproduced), 2 for a file that is not a readable
 * receipt of a version we read, 3 when re-verification could not run (an
 * anchor the receipt names was not given), or 1 when the receipt was
 * changed after it was written; the reason in gpuattest_config_error(c). */
int api_receipt_check(gpuattest_config *c, const char *path, struct gpa_receipt_check *out);
/* The same for a receipt in memory; name is used in messages. */
int api_receipt_check_buffer(gpuattest_config *c, const char *name, const uint8_t *buf, size_t len,
    struct gpa_receipt_check *out);
void api_receipt_check_clear(struct gpa_receipt_check *out);

#endif
