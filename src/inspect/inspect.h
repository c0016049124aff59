/*
 * inspect: a human- and machine-readable dump of one attestation report
 * (request, response, every measurement block, every opaque field raw and
 * decoded, what the verifier derives from it) and of its certificate chain.
 * This is what `gpuattest inspect` prints.
 *
 * Owns: turning already-parsed structures into a jansson document and that
 * document into text.
 *
 * Never: verifies anything (no signature, chain, nonce or RIM check) or
 * parses report bytes itself; the spdm/ and x509/ layers do that. Nothing
 * printed here is a verdict.
 */
#ifndef GPA_INSPECT_H
#define GPA_INSPECT_H

#include <jansson.h>
#include <openssl/x509.h>

#include "evidence/evidence.h"
#include "spdm/spdm.h"
#include "util/util.h"

/* The JSON document for one parsed report:
 *   {"kind", "request": {...}, "response": {..., "MeasurementBlocks": {"1": ...},
 *    "OpaqueData": {NAME: hex}, "OpaqueDataDecoded": {...}},
 *    "derived": {...}, "hwmodel", "ueid", "certificates": [...]}
 * Hex is lowercase without "0x". info may be NULL when report_info_derive
 * failed (derive_error then says why, and "derived" carries it); chain may
 * be NULL. RIM ids are built for the architecture named by the chain's
 * hwmodel, else the evidence "arch" string, else Hopper (GPU) / LS10
 * (switch); "derived.arch_source" says which. NULL only on allocation
 * failure. */
json_t *inspect_report_json(const struct spdm_report *r, const struct report_info *info,
    STACK_OF(X509) *chain, const char *derive_error);
/* The same, with the evidence file's "arch" string (may be NULL). */
json_t *inspect_report_json_arch(const struct spdm_report *r, const struct report_info *info,
    STACK_OF(X509) *chain, const char *derive_error, const char *evidence_arch);

/* Convenience for the CLI: parses the item's report, derives what it can,
 * parses the chain when present (a chain error goes into "chain_error"
 * rather than failing), and builds the document. NULL with a message when
 * the report itself does not parse. */
json_t *inspect_item_json(const struct evidence_item *it, struct gpa_err *e);

/* Adds "OpaqueDataLayout" ("legacy" / "NVDAOD"), "OpaqueDataVersion",
 * "OpaqueDataHeader" (NVDAOD) and "OpaqueDataEntries" (every entry in order:
 * id, name or TYPE_<n>, value_type, size, offset, value hex) to the
 * response object (entries.c). -1 on allocation failure. */
int inspect_put_opaque_entries(json_t *resp, const struct spdm_report *r);

/* Readable text of a document from inspect_report_json: one field per
 * line, grouped by section, nested sections indented. Long lists of
 * numbers stay on one line. malloc'd; NULL on allocation failure. */
char *inspect_text(const json_t *doc);

#endif
