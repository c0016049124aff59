/*
 * Tests for the versioned opaque data (NVDAOD, docs/attestation-formats.md
 * §16.1): NVIDIA's real transcript (vectors/nvidia-2.0, captured from a
 * GPU with a 620.12 driver) parsed and decoded as its MANIFEST says, then
 * every way the header and entries can be wrong, each refused with a
 * message naming the entry and its offset, and the cases NVIDIA 2.0
 * accepts (unknown ids, a stray legacy version entry) accepted.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "evidence/evidence.h"
#include "spdm/spdm.h"

#define TRANSCRIPT "vectors/nvidia-2.0/gpu/sample_nvdaod_transcript.txt"
/* 37 request + 8 response header + 3520 record + 32 nonce + 2 length. */
#define T_OPAQUE	3599
#define T_OLEN		483

struct rep {
	uint8_t *buf;		/* the report, rebuilt by with_opaque */
	size_t len;
	uint8_t *orig;
	size_t orig_len;
	struct spdm_report *r;
	struct gpa_err e;
};

static int rep_load(struct rep *t)
{
	const char *p = shared_path(TRANSCRIPT);
	struct gpa_err e = {{0}};
	uint8_t *raw;
	size_t rawlen;
	int rc;

	memset(t, 0, sizeof(*t));
	if (p == NULL || file_read(p, 1 << 16, &raw, &rawlen, &e) != 0)
		return -1;
	rc = report_bytes_decode(raw, rawlen, &t->orig, &t->orig_len, &e);
	free(raw);
	t->buf = malloc(t->orig_len + 70000);
	t->r = malloc(sizeof(*t->r));
	if (rc != 0 || t->buf == NULL || t->r == NULL)
		return -1;
	memcpy(t->buf, t->orig, t->orig_len);
	t->len = t->orig_len;
	return 0;
}

static void rep_free(struct rep *t)
{
	free(t->buf);
	free(t->orig);
	free(t->r);
}

static int rparse(struct rep *t)
{
	t->e.msg[0] = '\0';
	return spdm_parse_report(t->buf, t->len, GPA_DEV_GPU, t->r, &t->e);
}

/* The transcript with its opaque data replaced by op[0..n) (length field
 * fixed up, the signature bytes kept after it). */
static void with_opaque(struct rep *t, const uint8_t *op, size_t n)
{
	memcpy(t->buf, t->orig, T_OPAQUE);
	t->buf[T_OPAQUE - 2] = (uint8_t)n;
	t->buf[T_OPAQUE - 1] = (uint8_t)(n >> 8);
	memmove(t->buf + T_OPAQUE, op, n);
	memcpy(t->buf + T_OPAQUE + n, t->orig + T_OPAQUE + T_OLEN, SPDM_SIG_LEN);
	t->len = T_OPAQUE + n + SPDM_SIG_LEN;
}

/* A copy of the original opaque data, to mutate. */
static uint8_t *orig_opaque(const struct rep *t)
{
	uint8_t *p = malloc(T_OLEN + 64);

	if (p != NULL)
		memcpy(p, t->orig + T_OPAQUE, T_OLEN);
	return p;
}

#define REP_OR_SKIP(t) \
	struct rep t; \
	if (shared_path(TRANSCRIPT) == NULL) SKIP("shared vectors not found: " TRANSCRIPT); \
	if (rep_load(&t) != 0) { CHECK(!"load " TRANSCRIPT); rep_free(&t); return; }

/* Offset (inside the opaque data) of the entry of this id in the original. */
static size_t entry_at(struct rep *t, uint16_t id)
{
	const struct opaque_field *f;

	memcpy(t->buf, t->orig, t->orig_len);
	t->len = t->orig_len;
	if (rparse(t) != 0 || (f = opaque_get(t->r, id)) == NULL)
		return 0;
	return f->offset - T_OPAQUE;
}

static void test_transcript_parses(void)
{
	REP_OR_SKIP(t);
	/* MANIFEST: id:value-type/size in order. */
	static const uint16_t want[17][3] = {
		{6, 0x86, 8}, {14, 0x82, 4}, {15, 0x82, 9}, {16, 0x82, 5}, {17, 0x82, 5},
		{18, 0x82, 5}, {19, 0x82, 2}, {3, 0x86, 7}, {4, 0x82, 8}, {12, 0x84, 256},
		{13, 0x83, 4}, {11, 0x82, 1}, {37, 0x87, 2}, {20, 0x01, 48}, {21, 0x85, 1},
		{34, 0x86, 2}, {36, 0x85, 2},
	};
	struct report_info info;
	char fwid[2 * GPA_FWID_LEN + 1];

	CHECK_INT(t.len, 4178);
	CHECK(rparse(&t) == 0);
	CHECK_INT(t.r->opaque_len, T_OLEN);
	CHECK_INT(t.r->opaque_offset, T_OPAQUE);
	CHECK_INT(t.r->layout, OPAQUE_NVDAOD);
	CHECK_STREQ(opaque_layout_name(t.r->layout), "NVDAOD");
	CHECK_INT(t.r->od_profile, 0);
	CHECK_INT(t.r->od_major, 2);
	CHECK_INT(t.r->od_minor, 0);
	CHECK_INT(t.r->od_patch, 0);
	CHECK_INT(t.r->opaque_version, 2);
	CHECK_INT(t.r->nfields, 17);
	for (int i = 0; i < 17 && i < t.r->nfields; i++) {
		CHECK_INT(t.r->fields[i].type, want[i][0]);
		CHECK_INT(t.r->fields[i].value_type, want[i][1]);
		CHECK_INT(t.r->fields[i].len, want[i][2]);
	}
	/* The first entry right after the 12-byte header; each 6 + size on. */
	CHECK_INT(t.r->fields[0].offset, T_OPAQUE + 12);
	CHECK_INT(t.r->fields[1].offset, T_OPAQUE + 12 + 6 + 8);

	CHECK(report_info_derive(t.r, &info, &t.e) == 0);
	CHECK_STREQ(info.driver_version, "620.12");
	CHECK_STREQ(info.vbios_version, "96.00.D9.00.0F");
	CHECK_STREQ(info.project, "G520");
	CHECK_STREQ(info.project_sku, "0201");
	CHECK_STREQ(info.chip_sku, "884");
	CHECK_INT(info.nvdec0, NVDEC0_ENABLED);
	CHECK_INT(info.ppcie_status, NVDEC0_DISABLED);
	CHECK_INT(info.feature_flag, 0);
	CHECK_INT(info.fsp_ucode_svn, 0);
	/* The stray type-34 entry (00 02, 512 as LE) is ignored. */
	CHECK_INT(info.opaque_version, 2);
	CHECK(info.has_fwid);
	hex_encode(info.fwid, GPA_FWID_LEN, fwid);
	CHECK_STREQ(fwid, "0d7cde10dab1dd6dea10fed9a4a5e833111f8bf80104b557e51c9987f996b5f76a6c57969dbf080c10a36f69029b5d16");
	CHECK(report_rim_ids(&info, GPA_ARCH_HOPPER, &t.e) == 0);
	CHECK_STREQ(info.driver_rim_id, "NV_GPU_DRIVER_GH100_620.12");
	CHECK_STREQ(info.vbios_rim_id, "NV_GPU_VBIOS_G520_0201_884_9600D9000F");
	rep_free(&t);
}

/* A legacy reader of these bytes sees type 0x564E size 0x4144 (§16.1):
 * only the magic chooses the layout, and one wrong magic byte makes it
 * legacy data that overruns. */
static void test_magic_chooses_layout(void)
{
	REP_OR_SKIP(t);
	uint8_t *op = orig_opaque(&t);

	op[5] = 'E';
	with_opaque(&t, op, T_OLEN);
	CHECK(rparse(&t) == -1);
	CHECK_CONTAINS(t.e.msg, "opaque data: entry 0 (type 22094) at offset 3599 has size 16708");
	free(op);
	rep_free(&t);
}

static void expect_fail(struct rep *t, const uint8_t *op, size_t n, const char *want)
{
	with_opaque(t, op, n);
	CHECK(rparse(t) == -1);
	CHECK_CONTAINS(t->e.msg, want);
}

static void test_header_rules(void)
{
	REP_OR_SKIP(t);
	uint8_t *op = orig_opaque(&t);
	char want[200];

	/* Profile must be 0. */
	op[6] = 1;
	expect_fail(&t, op, T_OLEN, "opaque data: NVDAOD profile 1 at offset 3605; only profile 0 is defined");
	op[6] = 0;
	op[7] = 0x80;
	expect_fail(&t, op, T_OLEN, "NVDAOD profile 32768");
	op[7] = 0;
	/* Version 3 and 255: newer than we read, said, and the entries are
	 * not interpreted (their layout may have changed). */
	op[8] = 3;
	with_opaque(&t, op, T_OLEN);
	CHECK_INT(rparse(&t), SPDM_ERR_UNSUPPORTED);
	CHECK_CONTAINS(t.e.msg, "opaque data version 3 is newer than this verifier supports (max 2)");
	CHECK_CONTAINS(t.e.msg, "3.0.0");
	CHECK_INT(t.r->nfields, 0);
	CHECK_INT(t.r->layout, OPAQUE_NVDAOD);
	op[8] = 255;
	with_opaque(&t, op, 20);	/* even with garbage after the header */
	CHECK_INT(rparse(&t), SPDM_ERR_UNSUPPORTED);
	CHECK_CONTAINS(t.e.msg, "opaque data version 255 is newer");
	/* 1 and 0 are older versions: parsed; minor and patch are not read. */
	op[8] = 1;
	op[9] = 7;
	op[10] = 9;
	op[11] = 0xff;
	with_opaque(&t, op, T_OLEN);
	CHECK(rparse(&t) == 0);
	CHECK_INT(t.r->opaque_version, 1);
	CHECK_INT(t.r->od_minor, 7);
	op[8] = 2;
	/* A header cut short: every length from the magic to 11 bytes. */
	for (size_t n = 6; n < 12; n++) {
		snprintf(want, sizeof(want), "opaque data: NVDAOD header at offset 3599 needs 12 bytes, OpaqueLength is %zu", n);
		expect_fail(&t, op, n, want);
	}
	/* The header alone: no entries, so the required fields are missing. */
	with_opaque(&t, op, 12);
	CHECK(rparse(&t) == 0);
	CHECK_INT(t.r->nfields, 0);
	{
		struct report_info info;
		CHECK(report_info_derive(t.r, &info, &t.e) == -1);
		CHECK_CONTAINS(t.e.msg, "required field DRIVER_VERSION (type 3) is missing");
	}
	free(op);
	rep_free(&t);
}

/* Every cut of the entries: between entries it parses (and a required
 * field may be missing); anywhere else it is refused naming the entry. */
static void test_every_truncation(void)
{
	REP_OR_SKIP(t);
	uint8_t *op = orig_opaque(&t);
	size_t boundaries[18], nb = 0, at = 12;

	while (at < T_OLEN && nb < 18) {
		boundaries[nb++] = at;
		at += 6 + (size_t)(op[at + 4] | op[at + 5] << 8);
	}
	CHECK_INT(at, T_OLEN);
	for (size_t n = 12; n < T_OLEN; n++) {
		bool boundary = false;
		for (size_t k = 0; k < nb; k++)
			boundary |= boundaries[k] == n;
		with_opaque(&t, op, n);
		if (boundary) {
			CHECK(rparse(&t) == 0);
		} else {
			CHECK(rparse(&t) == -1);
			CHECK_CONTAINS(t.e.msg, "opaque data: entry ");
			CHECK(strstr(t.e.msg, "is truncated") != NULL || strstr(t.e.msg, "remain in OpaqueLength") != NULL);
		}
	}
	/* One byte too many after the last entry. */
	op[T_OLEN] = 0;
	expect_fail(&t, op, T_OLEN + 1, "opaque data: entry 17: its 6-byte NVDAOD entry header at offset 4082 is truncated (1 bytes left in OpaqueLength)");
	free(op);
	rep_free(&t);
}

static void test_entry_rules(void)
{
	REP_OR_SKIP(t);
	size_t svn = entry_at(&t, OPQ_FSP_UCODE_SVN), drv = entry_at(&t, OPQ_DRIVER_VERSION);
	size_t fw = entry_at(&t, OPQ_FWID);
	uint8_t *op = orig_opaque(&t);
	char want[240];

	CHECK(svn > 0 && drv > 0 && fw > 0);
	/* An entry's size running past the data. */
	op[drv + 4] = 0xff;
	op[drv + 5] = 0xff;
	snprintf(want, sizeof(want), "opaque data: entry 7 (type 3) at offset %zu has size 65535 but only", T_OPAQUE + drv);
	expect_fail(&t, op, T_OLEN, want);
	op[drv + 4] = 7;
	op[drv + 5] = 0;
	/* Known ids keep their value type: SVN must be 0x87, the driver
	 * version 0x86, the FWID 0x01. */
	op[svn + 2] = 0x82;
	snprintf(want, sizeof(want), "opaque data: entry 37 (FSP_UCODE_SVN) at offset %zu has value type 0x82, expected 0x87", T_OPAQUE + svn);
	expect_fail(&t, op, T_OLEN, want);
	op[svn + 2] = 0x87;
	op[svn + 3] = 0x01;
	expect_fail(&t, op, T_OLEN, "has value type 0x187, expected 0x87");
	op[svn + 3] = 0;
	op[drv + 2] = 0x82;
	snprintf(want, sizeof(want), "opaque data: entry 3 (DRIVER_VERSION) at offset %zu has value type 0x82, expected 0x86 (version)", T_OPAQUE + drv);
	expect_fail(&t, op, T_OLEN, want);
	op[drv + 2] = 0x86;
	op[fw + 2] = 0x86;
	expect_fail(&t, op, T_OLEN, "entry 20 (FWID)");
	op[fw + 2] = 0x01;
	/* The SVN is exactly 2 bytes: grow it to 3 (one byte borrowed from
	 * the next entry header makes everything after it shift). */
	{
		uint8_t *g = malloc(T_OLEN + 1);
		memcpy(g, op, svn + 8);
		g[svn + 4] = 3;
		g[svn + 8] = 0;
		memcpy(g + svn + 9, op + svn + 8, T_OLEN - svn - 8);
		snprintf(want, sizeof(want), "opaque data: entry 37 (FSP_UCODE_SVN) at offset %zu has size 3, expected 2 (u16)", T_OPAQUE + svn);
		expect_fail(&t, g, T_OLEN + 1, want);
		free(g);
	}
	/* A repeated id: the SVN entry retyped as the driver version. */
	op[svn] = 3;
	op[svn + 2] = 0x86;
	snprintf(want, sizeof(want), "opaque data: entry 12 (type 3) at offset %zu repeats the entry at offset %zu", T_OPAQUE + svn, T_OPAQUE + drv);
	expect_fail(&t, op, T_OLEN, want);
	op[svn] = 37;
	op[svn + 2] = 0x87;
	free(op);
	rep_free(&t);
}

/* Unknown ids, whatever their value type, are kept raw (NVIDIA 2.0). */
static void test_unknown_ids_kept(void)
{
	REP_OR_SKIP(t);
	uint8_t *op = orig_opaque(&t);
	static const uint8_t extra[] = {
		0xe7, 0x03, 0x34, 0x12, 0x03, 0x00, 'a', 'b', 'c',	/* id 999, vt 0x1234 */
		0x26, 0x00, 0x85, 0x00, 0x02, 0x00, 0xaa, 0x00,		/* 38 NVLE status */
		0xff, 0x00, 0x00, 0x00, 0x00, 0x00,			/* 255, empty */
	};
	const struct opaque_field *f;
	struct report_info info;

	memcpy(op + T_OLEN, extra, sizeof(extra));
	with_opaque(&t, op, T_OLEN + sizeof(extra));
	CHECK(rparse(&t) == 0);
	CHECK_INT(t.r->nfields, 20);
	f = opaque_get(t.r, 999);
	CHECK(f != NULL && f->value_type == 0x1234 && f->len == 3 && memcmp(f->value, "abc", 3) == 0);
	CHECK(f != NULL && f->offset == T_OPAQUE + T_OLEN);
	f = opaque_get(t.r, 38);
	CHECK(f != NULL && f->value_type == 0x85 && f->len == 2);
	f = opaque_get(t.r, 255);
	CHECK(f != NULL && f->len == 0);
	CHECK(opaque_field_name(GPA_DEV_GPU, 999) == NULL);
	CHECK(report_info_derive(t.r, &info, &t.e) == 0);
	CHECK_STREQ(info.driver_version, "620.12");
	free(op);
	rep_free(&t);
}

/* NVDAOD is version 2, which requires FEATURE_FLAG (§16.1). */
static void test_feature_flag_required(void)
{
	REP_OR_SKIP(t);
	size_t ff = entry_at(&t, OPQ_FEATURE_FLAG);
	uint8_t *op = orig_opaque(&t);
	struct report_info info;

	CHECK(ff > 0);
	op[ff] = 200;		/* now an unknown id */
	with_opaque(&t, op, T_OLEN);
	CHECK(rparse(&t) == 0);
	CHECK(report_info_derive(t.r, &info, &t.e) == -1);
	CHECK_CONTAINS(t.e.msg, "NVDAOD version 2 requires FEATURE_FLAG (type 36), which is missing");
	free(op);
	rep_free(&t);
}

static void test_value_type_table(void)
{
	CHECK_INT(opaque_required_value_type(GPA_DEV_GPU, OPQ_FSP_UCODE_SVN), 0x87);
	CHECK_INT(opaque_required_value_type(GPA_DEV_GPU, OPQ_DRIVER_VERSION), 0x86);
	CHECK_INT(opaque_required_value_type(GPA_DEV_GPU, OPQ_FWID), 0x01);
	CHECK_INT(opaque_required_value_type(GPA_DEV_GPU, OPQ_SWITCH_PDI), -1);
	CHECK_INT(opaque_required_value_type(GPA_DEV_GPU, 38), -1);
	CHECK_INT(opaque_required_value_type(GPA_DEV_GPU, 0xffff), -1);
	CHECK_INT(opaque_required_value_type(GPA_DEV_SWITCH, OPQ_DRIVER_VERSION), -1);
	CHECK_STREQ(opaque_value_type_name(0x87), "min-svn u16");
	CHECK_STREQ(opaque_value_type_name(0x4242), "unknown");
	CHECK_STREQ(opaque_layout_name(OPAQUE_LEGACY), "legacy");
}

/* Every single-byte change of the opaque data either parses or is refused
 * with an opaque-data message; none crashes (run under SAN=1). */
static void test_every_byte_flip(void)
{
	REP_OR_SKIP(t);
	uint8_t *op = orig_opaque(&t);

	for (size_t i = 0; i < T_OLEN; i++) {
		uint8_t old = op[i];
		static const uint8_t vals[] = { 0x00, 0x01, 0x80, 0xff };
		for (size_t k = 0; k < sizeof(vals); k++) {
			int rc;
			op[i] = vals[k];
			with_opaque(&t, op, T_OLEN);
			rc = rparse(&t);
			if (rc != 0)
				CHECK(strstr(t.e.msg, "opaque data") != NULL);
		}
		op[i] = old;
	}
	free(op);
	rep_free(&t);
}

int main(void)
{
	RUN(test_transcript_parses);
	RUN(test_magic_chooses_layout);
	RUN(test_header_rules);
	RUN(test_every_truncation);
	RUN(test_entry_rules);
	RUN(test_unknown_ids_kept);
	RUN(test_feature_flag_required);
	RUN(test_value_type_table);
	RUN(test_every_byte_flip);
	return harness_done("nvdaod");
}
