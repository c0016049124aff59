/*
 * SPDM 1.1 GET_MEASUREMENTS request + MEASUREMENTS response parser, and the
 * opaque data inside it (opaque.c). Layout: docs/attestation-formats.md §2–3.
 * Every read goes through the bounds-checked reader; every error names the
 * field and the byte offset where it starts.
 */
#include "spdm/spdm.h"

#include <stdio.h>
#include <string.h>

/* Checks the reader after a run of reads: a short read means the field
 * at `off` was truncated. */
static int truncated(struct gpa_rd *rd, struct gpa_err *e, const char *field, size_t off)
{
	if (!rd->failed)
		return 0;
	gpa_err_set(e, "report truncated: %s at offset %zu needs more than the %zu bytes left",
	    field, off, rd->len > off ? rd->len - off : 0);
	return -1;
}

static int parse_request(struct gpa_rd *rd, struct spdm_report *r, struct gpa_err *e)
{
	r->req.version = rd_u8(rd);
	r->req.code = rd_u8(rd);
	r->req.param1 = rd_u8(rd);
	r->req.param2 = rd_u8(rd);
	r->req.nonce = rd_bytes(rd, SPDM_NONCE_LEN);
	r->req.slot_id = rd_u8(rd);
	if (truncated(rd, e, "GET_MEASUREMENTS request", 0))
		return -1;
	if (r->req.version != SPDM_VERSION_11) {
		gpa_err_set(e, "request SPDMVersion at offset 0 is 0x%02x, only 0x11 (SPDM 1.1) is supported",
		    r->req.version);
		return -1;
	}
	if (r->req.code != SPDM_GET_MEASUREMENTS) {
		gpa_err_set(e, "request RequestResponseCode at offset 1 is 0x%02x, expected 0xe0 (GET_MEASUREMENTS)",
		    r->req.code);
		return -1;
	}
	return 0;
}

/* base: offset of the measurement record in the report, so that messages
 * name absolute offsets like every other message of this parser. */
static int parse_block(struct gpa_rd *rd, size_t base, struct spdm_block *b, int n,
    struct gpa_err *e)
{
	size_t start = base + rd->off;
	struct gpa_rd inner;
	const uint8_t *body;

	b->index = rd_u8(rd);
	b->spec = rd_u8(rd);
	b->size = rd_u16le(rd);
	if (rd->failed) {
		gpa_err_set(e, "measurement block %d at offset %zu: its 4-byte header runs past the measurement record (%zu bytes left)",
		    n, start, rd->len - (start - base));
		return -1;
	}
	body = rd_bytes(rd, b->size);
	if (body == NULL) {
		gpa_err_set(e, "measurement block %d at offset %zu: MeasurementSize %u runs past the measurement record",
		    n, start, b->size);
		return -1;
	}
	if (b->index == 0) {
		gpa_err_set(e, "measurement block %d at offset %zu: index 0 is not a valid SPDM block index", n, start);
		return -1;
	}
	if (b->spec != SPDM_DMTF_SPEC) {
		gpa_err_set(e, "measurement block %d (index %u) at offset %zu: MeasurementSpecification 0x%02x, expected 0x01 (DMTF)",
		    n, b->index, start + 1, b->spec);
		return -1;
	}
	rd_init(&inner, body, b->size);
	b->value_type = rd_u8(&inner);
	b->value_size = rd_u16le(&inner);
	b->value = rd_bytes(&inner, b->value_size);
	if (inner.failed || rd_left(&inner) != 0) {
		gpa_err_set(e, "measurement block %d (index %u) at offset %zu: DMTF value size %u does not fill MeasurementSize %u",
		    n, b->index, start, b->value_size, b->size);
		return -1;
	}
	return 0;
}

static int parse_record(struct gpa_rd *rd, struct spdm_report *r, struct gpa_err *e)
{
	size_t rec_off = rd->off;
	const uint8_t *rec = rd_bytes(rd, r->record_len);
	struct gpa_rd rr;
	uint8_t seen[SPDM_MAX_BLOCKS + 1] = {0};

	if (rec == NULL) {
		gpa_err_set(e, "MeasurementRecordLength %u at offset %d runs past the end of the report (%zu bytes left)",
		    r->record_len, SPDM_REQUEST_LEN + 5, rd->len - rec_off);
		return -1;
	}
	rd_init(&rr, rec, r->record_len);
	for (int i = 0; i < r->nblocks; i++) {
		if (parse_block(&rr, rec_off, &r->blocks[i], i, e) != 0) {
			gpa_err_prefix(e, "measurement record at offset %zu", rec_off);
			return -1;
		}
		if (seen[r->blocks[i].index]++) {
			gpa_err_set(e, "measurement record at offset %zu: block index %u appears twice",
			    rec_off, r->blocks[i].index);
			return -1;
		}
	}
	if (rd_left(&rr) != 0) {
		gpa_err_set(e, "measurement record at offset %zu: %zu bytes left over after %u blocks (MeasurementRecordLength %u)",
		    rec_off, rd_left(&rr), r->nblocks, r->record_len);
		return -1;
	}
	return 0;
}

int spdm_parse_report(const uint8_t *buf, size_t len, enum gpa_device_kind kind,
    struct spdm_report *r, struct gpa_err *e)
{
	struct gpa_rd rd;
	size_t hdr = SPDM_REQUEST_LEN;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->raw_len = len;
	if (len == 0) {
		gpa_err_set(e, "report is empty");
		return -1;
	}
	rd_init(&rd, buf, len);
	if (parse_request(&rd, r, e) != 0)
		return -1;

	r->version = rd_u8(&rd);
	r->code = rd_u8(&rd);
	r->param1 = rd_u8(&rd);
	r->param2 = rd_u8(&rd);
	r->nblocks = rd_u8(&rd);
	r->record_len = rd_u24le(&rd);
	if (truncated(&rd, e, "MEASUREMENTS response header", hdr))
		return -1;
	if (r->version != SPDM_VERSION_11) {
		gpa_err_set(e, "response SPDMVersion at offset %zu is 0x%02x, only 0x11 (SPDM 1.1) is supported",
		    hdr, r->version);
		return -1;
	}
	if (r->code != SPDM_MEASUREMENTS) {
		gpa_err_set(e, "response RequestResponseCode at offset %zu is 0x%02x, expected 0x60 (MEASUREMENTS)",
		    hdr + 1, r->code);
		return -1;
	}
	if (r->nblocks == 0) {
		gpa_err_set(e, "response NumberOfBlocks at offset %zu is 0", hdr + 4);
		return -1;
	}
	if (parse_record(&rd, r, e) != 0)
		return -1;

	size_t nonce_off = rd.off;
	r->resp_nonce = rd_bytes(&rd, SPDM_NONCE_LEN);
	if (truncated(&rd, e, "response Nonce", nonce_off))
		return -1;
	size_t olen_off = rd.off;
	r->opaque_len = rd_u16le(&rd);
	if (truncated(&rd, e, "OpaqueLength", olen_off))
		return -1;
	r->opaque_offset = rd.off;
	if (r->opaque_len == 0) {
		gpa_err_set(e, "OpaqueLength at offset %zu is 0; NVIDIA devices always send opaque data", olen_off);
		return -1;
	}
	r->opaque = rd_bytes(&rd, r->opaque_len);
	if (r->opaque == NULL) {
		gpa_err_set(e, "OpaqueLength %u at offset %zu runs past the end of the report (%zu bytes left)",
		    r->opaque_len, olen_off, len - r->opaque_offset);
		return -1;
	}
	size_t sig_off = rd.off;
	r->signature = rd_bytes(&rd, SPDM_SIG_LEN);
	if (r->signature == NULL) {
		gpa_err_set(e, "Signature at offset %zu: %d bytes expected, %zu left", sig_off,
		    SPDM_SIG_LEN, len - sig_off);
		return -1;
	}
	if (rd_left(&rd) != 0) {
		gpa_err_set(e, "%zu trailing bytes after the signature (offset %zu)", rd_left(&rd), rd.off);
		return -1;
	}
	r->signed_len = sig_off;
	return opaque_parse(r, e);
}

const struct spdm_block *spdm_block_by_index(const struct spdm_report *r, int idx)
{
	for (int i = 0; i < r->nblocks; i++)
		if (r->blocks[i].index == idx)
			return &r->blocks[i];
	return NULL;
}
