/*
 * Tests for spdm/: every recorded report in ../shared is parsed and its
 * sizes, nonce, versions, opaque fields and RIM ids are checked against
 * MANIFEST.md §3–4; then every way a report can be malformed (truncation
 * at each length, bad headers, bad blocks, bad opaque TLVs, bad derived
 * fields) must fail with a message naming the field and its offset.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "evidence/evidence.h"
#include "spdm/spdm.h"

#define NV "vectors/nvidia/"

/* Offsets of the 64-block GPU reports (MANIFEST §2.1: 37 + 8 + 3520 ...). */
#define G_RESP		37
#define G_RECORD	45
#define G_NONCE		(45 + 3520)
#define G_OLEN		(G_NONCE + 32)
#define G_OPAQUE	(G_OLEN + 2)

/* ---- loading ---- */

static int load_report(const char *path, uint8_t **buf, size_t *len)
{
	struct gpa_err e = {{0}};
	uint8_t *raw;
	size_t rawlen;
	int rc;

	if (file_read(path, 1 << 16, &raw, &rawlen, &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	rc = report_bytes_decode(raw, rawlen, buf, len, &e);
	free(raw);
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", path, e.msg);
	return rc;
}

/* A copy of a shared report with room to grow, for mutation. */
struct mut {
	uint8_t *buf;
	size_t len;
	struct spdm_report *r;
	struct gpa_err e;
};

static int mut_load(struct mut *m, const char *rel)
{
	const char *p = shared_path(rel);
	uint8_t *b;

	memset(m, 0, sizeof(*m));
	if (p == NULL || load_report(p, &b, &m->len) != 0)
		return -1;
	m->buf = malloc(m->len + 1024);
	m->r = malloc(sizeof(*m->r));
	if (m->buf == NULL || m->r == NULL) {
		free(b);
		return -1;
	}
	memcpy(m->buf, b, m->len);
	free(b);
	return 0;
}

static void mut_free(struct mut *m)
{
	free(m->buf);
	free(m->r);
}

static int mparse(struct mut *m, enum gpa_device_kind kind)
{
	m->e.msg[0] = '\0';
	return spdm_parse_report(m->buf, m->len, kind, m->r, &m->e);
}

/* Parses then derives; returns the derive result (parse must succeed). */
static int mderive(struct mut *m, enum gpa_device_kind kind, struct report_info *info)
{
	if (mparse(m, kind) != 0) {
		fprintf(stderr, "unexpected parse failure: %s\n", m->e.msg);
		return 99;
	}
	return report_info_derive(m->r, info, &m->e);
}

static void put_u16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Rewrites the report's opaque data with the field of `type` replaced by
 * val/vlen (vlen < 0 removes it; appended when absent), the other fields
 * kept in order, OpaqueLength fixed up and the signature moved. */
static void replace_field(struct mut *m, enum gpa_device_kind kind, uint16_t type,
    const uint8_t *val, int vlen)
{
	uint8_t *out = malloc(m->len + 1024), *o;
	bool done = false;

	if (mparse(m, kind) != 0 || out == NULL) {
		fprintf(stderr, "replace_field: %s\n", m->e.msg);
		free(out);
		return;
	}
	memcpy(out, m->buf, m->r->opaque_offset);
	o = out + m->r->opaque_offset;
	for (int i = 0; i <= m->r->nfields; i++) {
		const struct opaque_field *f = i < m->r->nfields ? &m->r->fields[i] : NULL;
		const uint8_t *v = f ? f->value : NULL;
		size_t n = f ? f->len : 0;

		if (f == NULL && done)
			break;
		if (f == NULL || f->type == type) {
			done = true;
			if (vlen < 0)
				continue;
			v = val;
			n = (size_t)vlen;
		}
		put_u16(o, f ? f->type : type);
		put_u16(o + 2, (unsigned)n);
		memcpy(o + 4, v, n);
		o += 4 + n;
	}
	put_u16(out + m->r->opaque_offset - 2, (unsigned)(o - out - m->r->opaque_offset));
	memcpy(o, m->r->signature, SPDM_SIG_LEN);
	o += SPDM_SIG_LEN;
	memcpy(m->buf, out, (size_t)(o - out));
	m->len = (size_t)(o - out);
	free(out);
}

/* Offset of the TLV header of the field of this type in the unmodified report. */
static size_t field_off(struct mut *m, enum gpa_device_kind kind, uint16_t type)
{
	const struct opaque_field *f;

	if (mparse(m, kind) != 0 || (f = opaque_get(m->r, type)) == NULL)
		return 0;
	return f->offset;
}

/* ---- every recorded report against MANIFEST §3–4 ---- */

struct vec {
	const char *rel;		/* file; JSON files: every item's "evidence" */
	enum gpa_device_kind kind;
	enum gpa_arch arch;
	size_t len;			/* 0: unknown */
	const char *nonce;
	int opaque_len;			/* -1: not stated in the manifest */
	const char *types;		/* opaque type order, NULL: not stated */
	const char *version;		/* driver (GPU) */
	const char *vbios;		/* formatted VBIOS / switch BIOS */
	const char *driver_rim, *vbios_rim;
	const char *fwid_head, *fwid_tail;	/* NULL: no FWID field; "": value not in the manifest */
	int opq_version, feature_flag;	/* -1: absent */
	int npdis;			/* GPU SWITCH_PDI entries */
	const char *device_pdi;		/* switch */
};

#define N931 "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"
#define N590 "e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576"
#define N595 "690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a"
#define T595 "6,14,15,16,17,18,19,3,4,12,13,11,20,21,34,36"
#define TSW "6,22,12,26,23,24,25"

static const struct vec VECS[] = {
	{ NV "gpu/hopper_545.00_2023/attestation_report.hex.txt", GPA_DEV_GPU, GPA_ARCH_HOPPER, 4049,
	  "4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e", 354,
	  "6,14,15,16,17,18,19,3,4,12,13,11", "545.00", "96.00.5E.00.01",
	  "NV_GPU_DRIVER_GH100_545.00", "NV_GPU_VBIOS_1010_0200_882_96005E0001", NULL, NULL, 0, -1, 0, NULL },
	{ NV "gpu/hopper_550.90.07/attestation_report.hex.txt", GPA_DEV_GPU, GPA_ARCH_HOPPER, 4117,
	  N931, 422, NULL, "550.90.07", "96.00.9F.00.01",
	  "NV_GPU_DRIVER_GH100_550.90.07", "NV_GPU_VBIOS_1010_0200_882_96009F0001", "f5c384ae", "62b1f75d", 0, -1, 0, NULL },
	{ NV "gpu/hopper_550.90.07/evidence_with_metadata.json", GPA_DEV_GPU, GPA_ARCH_HOPPER, 4117,
	  N931, 422, NULL, "550.90.07", "96.00.9F.00.01",
	  "NV_GPU_DRIVER_GH100_550.90.07", "NV_GPU_VBIOS_1010_0200_882_96009F0001", "f5c384ae", "62b1f75d", 0, -1, 0, NULL },
	{ NV "gpu/hopper_535.86.09/attestation_report.hex.txt", GPA_DEV_GPU, GPA_ARCH_HOPPER, 4052,
	  "27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66", 357, NULL, "535.86.09", "96.00.5E.00.01",
	  "NV_GPU_DRIVER_GH100_535.86.09", "NV_GPU_VBIOS_1010_0200_882_96005E0001", NULL, NULL, 0, -1, 0, NULL },
	{ NV "gpu/hopper_570.124.03/attestation_report.hex.txt", GPA_DEV_GPU, GPA_ARCH_HOPPER, 4118,
	  N931, -1, NULL, "570.124.03", "96.00.5E.00.04",
	  "NV_GPU_DRIVER_GH100_570.124.03", "NV_GPU_VBIOS_1010_0205_862_96005E0004", "e9960d6a", "e7775033", 0, -1, 0, NULL },
	{ NV "gpu/hopper_560.00_invalid_signature/attestation_report.hex.txt", GPA_DEV_GPU, GPA_ARCH_HOPPER, 4262,
	  N931, -1, NULL, "560.00", "96.00.A5.00.01",
	  "NV_GPU_DRIVER_GH100_560.00", "NV_GPU_VBIOS_G520_0200_885_9600A50001", "", "", 0, -1, 18, NULL },
	{ NV "gpu/hopper_580.159.03/attestation_report.hex.txt", GPA_DEV_GPU, GPA_ARCH_HOPPER, 4130,
	  "5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca", 435, NULL, "580.159.03", "96.00.74.00.20",
	  "NV_GPU_DRIVER_GH100_580.159.03", "NV_GPU_VBIOS_1010_0205_862_9600740020", "f1ae7d00", "921f7b2d", 1, 0, 0, NULL },
	{ NV "gpu/hopper_590.12/evidence.json", GPA_DEV_GPU, GPA_ARCH_HOPPER, 4274,
	  N590, 579, NULL, "590.12", "96.00.A5.00.01",
	  "NV_GPU_DRIVER_GH100_590.12", "NV_GPU_VBIOS_G520_0200_885_9600A50001", "956ecf09", "2036211d", 1, 2, 18, NULL },
	{ NV "gpu/hopper_590.12/evidence_with_metadata.json", GPA_DEV_GPU, GPA_ARCH_HOPPER, 4274,
	  N590, 579, NULL, "590.12", "96.00.A5.00.01",
	  "NV_GPU_DRIVER_GH100_590.12", "NV_GPU_VBIOS_G520_0200_885_9600A50001", "956ecf09", "2036211d", 1, 2, 18, NULL },
	{ NV "gpu/hopper_590.12/evidence_other_gpu.json", GPA_DEV_GPU, GPA_ARCH_HOPPER, 4274,
	  N590, 579, NULL, "590.12", "96.00.A5.00.01",
	  "NV_GPU_DRIVER_GH100_590.12", "NV_GPU_VBIOS_G520_0200_885_9600A50001", "956ecf09", "2036211d", 1, 2, 18, NULL },
	{ NV "gpu/hopper_570.86.10_cert_hold/evidence.json", GPA_DEV_GPU, GPA_ARCH_HOPPER, 0,
	  N931, -1, NULL, "570.86.10", "96.00.AF.00.01",
	  "NV_GPU_DRIVER_GH100_570.86.10", "NV_GPU_VBIOS_1010_0200_882_9600AF0001", "", "", 0, -1, 0, NULL },
	{ NV "gpu/hopper_595.71.05_azure/attestation_report.bin", GPA_DEV_GPU, GPA_ARCH_HOPPER, 4129,
	  N595, 434, T595, "595.71.05", "96.00.9F.00.04",
	  "NV_GPU_DRIVER_GH100_595.71.05", "NV_GPU_VBIOS_1010_0210_886_96009F0004", "209ce00c", "fb9836e4", 1, 0, 0, NULL },
	{ NV "gpu/hopper_595.71.05_azure/gpu-evidence.json", GPA_DEV_GPU, GPA_ARCH_HOPPER, 4129,
	  N595, 434, T595, "595.71.05", "96.00.9F.00.04",
	  "NV_GPU_DRIVER_GH100_595.71.05", "NV_GPU_VBIOS_1010_0210_886_96009F0004", "209ce00c", "fb9836e4", 1, 0, 0, NULL },
	{ NV "gpu/blackwell_gb100_575.32/attestation_report.hex.txt", GPA_DEV_GPU, GPA_ARCH_BLACKWELL, 4121,
	  N931, 426, NULL, "575.32", "97.00.88.00.0F",
	  "NV_GPU_CC_DRIVER_GB100_575.32", "NV_GPU_VBIOS_G525_0220_886_970088000F", "d090cab1", "ccf77502", 0, -1, 0, NULL },
	{ NV "switch/ls10_96.10.55.00.01/attestation_report.hex.txt", GPA_DEV_SWITCH, GPA_ARCH_LS10, 2168,
	  N931, 288, TSW, NULL, "96.10.55.00.01",
	  NULL, "NV_SWITCH_BIOS_5612_0002_890_9610550001", NULL, NULL, 0, -1, 0, "203eb31ad9ed0008" },
	{ NV "switch/ls10_96.10.55.00.01/evidence.json", GPA_DEV_SWITCH, GPA_ARCH_LS10, 2168,
	  N931, 288, TSW, NULL, "96.10.55.00.01",
	  NULL, "NV_SWITCH_BIOS_5612_0002_890_9610550001", NULL, NULL, 0, -1, 0, "203eb31ad9ed0008" },
	{ NV "switch/ls10_96.10.52.00.00_invalid_signature/attestation_report.hex.txt", GPA_DEV_SWITCH, GPA_ARCH_LS10, 0,
	  "ea038ed507a451e005bae91186bc9403150a3cb8971fdebd05ffed65eeb6a997", -1, NULL, NULL, "96.10.52.00.00",
	  NULL, "NV_SWITCH_BIOS_5612_0002_890_9610520000", NULL, NULL, 0, -1, 0, "c3bb8fd8376414ca" },
};
#define NVECS (sizeof(VECS) / sizeof(VECS[0]))

static void types_string(const struct spdm_report *r, char *out, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < r->nfields && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%u", i ? "," : "", r->fields[i].type);
}

static void check_one(const struct vec *v, const uint8_t *buf, size_t len, const char *where)
{
	struct spdm_report *r = malloc(sizeof(*r));
	struct report_info info;
	struct gpa_err e = {{0}};
	char hex[2 * SPDM_NONCE_LEN + 1], types[256];
	bool gpu = v->kind == GPA_DEV_GPU;
	int nblocks = gpu ? 64 : 31;

	if (r == NULL || spdm_parse_report(buf, len, v->kind, r, &e) != 0) {
		fprintf(stderr, "FAIL %s: %s: %s\n", h_cur, where, e.msg);
		h_cur_failed = 1;
		free(r);
		return;
	}
	if (v->len)
		CHECK_INT(len, v->len);
	/* Request and response header (MANIFEST §2.1, same in every file). */
	CHECK_INT(r->req.version, 0x11);
	CHECK_INT(r->req.code, 0xE0);
	CHECK_INT(r->req.param1, 0x01);
	CHECK_INT(r->req.param2, 0xFF);
	CHECK_INT(r->req.slot_id, 0);
	CHECK_INT(r->version, 0x11);
	CHECK_INT(r->code, 0x60);
	CHECK_INT(r->param1, 0);
	CHECK_INT(r->param2, 0);
	CHECK_INT(r->nblocks, nblocks);
	CHECK_INT(r->record_len, nblocks * 55);
	for (int i = 0; i < r->nblocks; i++) {
		CHECK_INT(r->blocks[i].index, i + 1);
		CHECK_INT(r->blocks[i].spec, 1);
		CHECK_INT(r->blocks[i].size, 51);
		CHECK_INT(r->blocks[i].value_type, 1);
		CHECK_INT(r->blocks[i].value_size, 48);
		CHECK(spdm_block_by_index(r, i + 1) == &r->blocks[i]);
	}
	CHECK(spdm_block_by_index(r, nblocks + 1) == NULL);
	CHECK(spdm_block_by_index(r, 0) == NULL);
	hex_encode(r->req.nonce, SPDM_NONCE_LEN, hex);
	CHECK_STREQ(hex, v->nonce);
	if (v->opaque_len >= 0)
		CHECK_INT(r->opaque_len, v->opaque_len);
	CHECK_INT(len, 37 + 8 + r->record_len + 32 + 2 + r->opaque_len + 96);
	CHECK_INT(r->signed_len, len - 96);
	CHECK(r->signature == buf + len - 96);
	CHECK_INT(r->opaque_offset, 37 + 8 + r->record_len + 32 + 2);
	types_string(r, types, sizeof(types));
	if (v->types)
		CHECK_STREQ(types, v->types);

	if (report_info_derive(r, &info, &e) != 0) {
		fprintf(stderr, "FAIL %s: %s: derive: %s\n", h_cur, where, e.msg);
		h_cur_failed = 1;
		free(r);
		return;
	}
	CHECK_STREQ(info.vbios_version, v->vbios);
	CHECK(report_rim_ids(&info, v->arch, &e) == 0);
	CHECK_STREQ(info.vbios_rim_id, v->vbios_rim);
	if (gpu) {
		CHECK_STREQ(info.driver_version, v->version);
		CHECK_STREQ(info.driver_rim_id, v->driver_rim);
		CHECK_INT(info.nvdec0, NVDEC0_DISABLED);
		CHECK_INT(info.opaque_version, v->opq_version);
		CHECK_INT(info.feature_flag, v->feature_flag);
		CHECK_INT(info.npdis, v->npdis);
		CHECK_INT(info.ppcie_status, opaque_get(r, OPQ_PROTECTED_PCIE_STATUS) == NULL ? -1 :
		    v->npdis > 0 ? 0xAA : 0x55);	/* the NVLink (HGX) captures run PPCIe */
	} else {
		CHECK_STREQ(info.driver_rim_id, "");
		CHECK(info.has_device_pdi);
		hex_encode(info.device_pdi, GPA_PDI_LEN, hex);
		CHECK_STREQ(hex, v->device_pdi);
	}
	CHECK(info.has_fwid == (v->fwid_head != NULL));
	if (v->fwid_head && v->fwid_head[0]) {
		char fw[2 * GPA_FWID_LEN + 1];
		hex_encode(info.fwid, GPA_FWID_LEN, fw);
		CHECK(strncmp(fw, v->fwid_head, 8) == 0);
		CHECK_STREQ(fw + 88, v->fwid_tail);
	}
	free(r);
}

static int check_vec(const struct vec *v)
{
	const char *p = shared_path(v->rel);
	char path[4096];
	int n = 0;

	if (p == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s", p);
	if (str_endswith(path, ".json")) {
		struct evidence_set *set = malloc(sizeof(*set));
		struct gpa_err e = {{0}};

		if (set == NULL || evidence_load_json_file(path, v->kind, set, &e) != 0) {
			fprintf(stderr, "FAIL %s: %s\n", h_cur, e.msg);
			h_cur_failed = 1;
			free(set);
			return 0;
		}
		for (size_t i = 0; i < set->n; i++, n++) {
			check_one(v, set->items[i].report, set->items[i].report_len, v->rel);
			/* The JSON nonce is the request nonce in every file here. */
			CHECK(set->items[i].has_nonce);
			CHECK(memcmp(set->items[i].nonce, set->items[i].report + 4, SPDM_NONCE_LEN) == 0);
		}
		evidence_set_clear(set);
		free(set);
	} else {
		uint8_t *buf;
		size_t len;

		if (load_report(path, &buf, &len) != 0) {
			CHECK(!"load");
			return 0;
		}
		check_one(v, buf, len, v->rel);
		free(buf);
		n = 1;
	}
	return n;
}

static void test_all_vectors(void)
{
	int n = 0;

	if (shared_path(NV "MANIFEST.md") == NULL)
		SKIP("shared vectors not found (../shared or $GPUATTEST_SHARED)");
	for (size_t i = 0; i < NVECS; i++)
		n += check_vec(&VECS[i]);
	CHECK_INT(n, (int)NVECS);
}

static bool is_report_file(const char *name)
{
	return str_endswith(name, ".hex.txt") || str_endswith(name, ".bin") || str_endswith(name, ".json");
}

/* Every report file in gpu/ and switch/ has a row above, so a vector
 * added to the corpus cannot go unchecked silently. */
static void test_every_file_listed(void)
{
	static const char *const tops[] = { "gpu", "switch" };
	int seen = 0;

	if (shared_path(NV "MANIFEST.md") == NULL)
		SKIP("shared vectors not found (../shared or $GPUATTEST_SHARED)");
	for (int t = 0; t < 2; t++) {
		char top[4096];
		DIR *d;
		struct dirent *de;

		snprintf(top, sizeof(top), "%s", shared_path(tops[t][0] == 'g' ? NV "gpu" : NV "switch"));
		d = opendir(top);
		CHECK(d != NULL);
		while (d && (de = readdir(d)) != NULL) {
			char sub[4096 + 256];
			DIR *d2;
			struct dirent *f;

			if (de->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", top, de->d_name);
			d2 = opendir(sub);
			while (d2 && (f = readdir(d2)) != NULL) {
				char rel[1024];
				bool found = false;

				if (!is_report_file(f->d_name))
					continue;
				snprintf(rel, sizeof(rel), NV "%s/%s/%s", tops[t], de->d_name, f->d_name);
				for (size_t i = 0; i < NVECS; i++)
					found |= strcmp(VECS[i].rel, rel) == 0;
				if (!found)
					fprintf(stderr, "FAIL %s: %s has no row\n", h_cur, rel);
				CHECK(found);
				seen++;
			}
			if (d2)
				closedir(d2);
		}
		if (d)
			closedir(d);
	}
	CHECK_INT(seen, (int)NVECS);
}

/* 590.12: the GPU stores each switch PDI byte-reversed (MANIFEST §2.4). */
static void test_switch_pdis_reversed(void)
{
	SHARED_OR_SKIP(p, NV "gpu/hopper_590.12/evidence.json");
	struct evidence_set *set = malloc(sizeof(*set));
	struct spdm_report *r = malloc(sizeof(*r));
	struct report_info info;
	struct gpa_err e = {{0}};
	const struct opaque_field *f;

	CHECK(set && r && evidence_load_json_file(p, GPA_DEV_GPU, set, &e) == 0);
	CHECK(spdm_parse_report(set->items[0].report, set->items[0].report_len, GPA_DEV_GPU, r, &e) == 0);
	CHECK(report_info_derive(r, &info, &e) == 0);
	f = opaque_get(r, OPQ_SWITCH_PDI);
	CHECK(f != NULL && f->len == 144);
	CHECK_INT(info.npdis, 18);
	for (int i = 0; f && i < info.npdis; i++)
		for (int j = 0; j < 8; j++)
			CHECK_INT(info.pdis[i][j], f->value[i * 8 + 7 - j]);
	/* A concrete one: first entry stored 77e911d843b7533a. */
	char hex[17];
	hex_encode(info.pdis[0], 8, hex);
	CHECK_STREQ(hex, "3a53b743d811e977");
	evidence_set_clear(set);
	free(set);
	free(r);
}

/* ---- pure functions ---- */

static void test_vbios_format(void)
{
	static const struct { const char *raw, *want; } cases[] = {
		{ "00a5009601000000", "96.00.A5.00.01" },	/* §4.2 */
		{ "00af009601000000", "96.00.AF.00.01" },
		{ "008800970f000000", "97.00.88.00.0F" },
		{ "005e009601000000", "96.00.5E.00.01" },	/* MANIFEST §2.3 */
		{ "0081029801000000", "98.02.81.00.01" },
		{ "009f009604ffffff", "96.00.9F.00.04" },	/* bytes 5..7 ignored */
	};
	uint8_t b[8];
	char out[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(hex_decode(cases[i].raw, 16, b, 8, false) == 8);
		CHECK(vbios_version_format(b, 8, out, sizeof(out)) == 0);
		CHECK_STREQ(out, cases[i].want);
	}
	CHECK(vbios_version_format(b, 7, out, sizeof(out)) == -1);
	CHECK(vbios_version_format(b, 9, out, sizeof(out)) == -1);
	CHECK(vbios_version_format(b, 8, out, 14) == -1);
	CHECK(vbios_version_format(b, 8, out, 15) == 0);
}

static void test_names_and_arch(void)
{
	CHECK_STREQ(opaque_field_name(GPA_DEV_GPU, 3), "DRIVER_VERSION");
	CHECK_STREQ(opaque_field_name(GPA_DEV_SWITCH, 3), "DRIVER_VERSION");
	CHECK_STREQ(opaque_field_name(GPA_DEV_GPU, 22), "SWITCH_PDI");
	CHECK_STREQ(opaque_field_name(GPA_DEV_SWITCH, 22), "DEVICE_PDI");
	CHECK_STREQ(opaque_field_name(GPA_DEV_SWITCH, 23), "DISABLED_PORTS");
	CHECK_STREQ(opaque_field_name(GPA_DEV_SWITCH, 27), "SWITCH_PORTS");
	CHECK_STREQ(opaque_field_name(GPA_DEV_GPU, 36), "FEATURE_FLAG");
	CHECK(opaque_field_name(GPA_DEV_GPU, 26) == NULL);
	CHECK(opaque_field_name(GPA_DEV_GPU, 0) == NULL);
	CHECK_STREQ(opaque_field_name(GPA_DEV_GPU, 37), "FSP_UCODE_SVN");
	CHECK(opaque_field_name(GPA_DEV_GPU, 38) == NULL);
	CHECK(opaque_field_name(GPA_DEV_SWITCH, 34) == NULL);
	CHECK(opaque_field_name(GPA_DEV_GPU, 0xffff) == NULL);

	CHECK_INT(arch_from_hwmodel("GH100 A01 GSP BROM"), GPA_ARCH_HOPPER);
	CHECK_INT(arch_from_hwmodel("GB100 A01 GSP BROM"), GPA_ARCH_BLACKWELL);
	CHECK_INT(arch_from_hwmodel("GB202 A01 GSP BROM"), GPA_ARCH_BLACKWELL);
	CHECK_INT(arch_from_hwmodel("LS_10 A01 FSP BROM"), GPA_ARCH_LS10);
	CHECK_INT(arch_from_hwmodel("GH1000"), GPA_ARCH_UNKNOWN);
	CHECK_INT(arch_from_hwmodel("GBX"), GPA_ARCH_UNKNOWN);
	CHECK_INT(arch_from_hwmodel(""), GPA_ARCH_UNKNOWN);
	CHECK_INT(arch_from_hwmodel(NULL), GPA_ARCH_UNKNOWN);
	CHECK_INT(arch_from_string("hopper"), GPA_ARCH_HOPPER);
	CHECK_INT(arch_from_string("Blackwell"), GPA_ARCH_BLACKWELL);
	CHECK_INT(arch_from_string("LS10"), GPA_ARCH_LS10);
	CHECK_INT(arch_from_string("AMPERE"), GPA_ARCH_UNKNOWN);
	CHECK_INT(arch_from_string(NULL), GPA_ARCH_UNKNOWN);
	CHECK_STREQ(arch_name(GPA_ARCH_LS10), "LS10");
	CHECK_STREQ(arch_name(GPA_ARCH_UNKNOWN), "UNKNOWN");

	CHECK_STREQ(feature_flag_mode(-1), "none");
	CHECK_STREQ(feature_flag_mode(0), "cc");
	CHECK_STREQ(feature_flag_mode(1), "cc");
	CHECK_STREQ(feature_flag_mode(2), "ppcie");
	CHECK_STREQ(feature_flag_mode(3), "invalid");
}

static void test_rim_ids_unsupported_and_chip_info(void)
{
	struct report_info info;
	struct gpa_err e = {{0}};

	memset(&info, 0, sizeof(info));
	info.kind = GPA_DEV_GPU;
	strcpy(info.driver_version, "575.32");
	strcpy(info.vbios_version, "97.00.88.00.0f");
	strcpy(info.project, "G525");
	strcpy(info.project_sku, "0220");
	strcpy(info.chip_sku, "886");
	CHECK(report_rim_ids(&info, GPA_ARCH_UNKNOWN, &e) == -1);
	CHECK_CONTAINS(e.msg, "unsupported architecture UNKNOWN");
	strcpy(info.chip_info, "GB202");
	CHECK(report_rim_ids(&info, GPA_ARCH_BLACKWELL, &e) == 0);
	CHECK_STREQ(info.driver_rim_id, "NV_GPU_CC_DRIVER_GB202_575.32");
	/* Version digits are uppercased in the id. */
	CHECK_STREQ(info.vbios_rim_id, "NV_GPU_VBIOS_G525_0220_886_970088000F");
}

/* ---- hostile reports ---- */

#define R550 NV "gpu/hopper_550.90.07/attestation_report.hex.txt"
#define R580 NV "gpu/hopper_580.159.03/attestation_report.hex.txt"
#define RSW NV "switch/ls10_96.10.55.00.01/attestation_report.hex.txt"

#define MUT_OR_SKIP(m, rel) \
	struct mut m; \
	if (shared_path(rel) == NULL) SKIP("shared vectors not found: " rel); \
	if (mut_load(&m, rel) != 0) { CHECK(!"load " rel); return; }

static void test_every_truncation(void)
{
	MUT_OR_SKIP(m, R550);
	size_t full = m.len;
	char want[256];

	CHECK_INT(full, 4117);
	for (size_t n = 0; n < full; n++) {
		m.len = n;
		if (mparse(&m, GPA_DEV_GPU) == 0 || m.e.msg[0] == '\0') {
			fprintf(stderr, "FAIL %s: length %zu accepted or no message\n", h_cur, n);
			h_cur_failed = 1;
			break;
		}
		if (n == 0)
			snprintf(want, sizeof(want), "report is empty");
		else if (n < 37)
			snprintf(want, sizeof(want), "report truncated: GET_MEASUREMENTS request at offset 0 needs more than the %zu bytes left", n);
		else if (n < G_RECORD)
			snprintf(want, sizeof(want), "report truncated: MEASUREMENTS response header at offset 37 needs more than the %zu bytes left", n - 37);
		else if (n < G_NONCE)
			snprintf(want, sizeof(want), "MeasurementRecordLength 3520 at offset 42 runs past the end of the report (%zu bytes left)", n - G_RECORD);
		else if (n < G_OLEN)
			snprintf(want, sizeof(want), "report truncated: response Nonce at offset %d needs more than the %zu bytes left", G_NONCE, n - G_NONCE);
		else if (n < G_OPAQUE)
			snprintf(want, sizeof(want), "report truncated: OpaqueLength at offset %d needs more than the %zu bytes left", G_OLEN, n - G_OLEN);
		else if (n < G_OPAQUE + 422)
			snprintf(want, sizeof(want), "OpaqueLength 422 at offset %d runs past the end of the report (%zu bytes left)", G_OLEN, n - G_OPAQUE);
		else
			snprintf(want, sizeof(want), "Signature at offset %d: 96 bytes expected, %zu left", G_OPAQUE + 422, n - G_OPAQUE - 422);
		if (strcmp(m.e.msg, want) != 0) {
			fprintf(stderr, "FAIL %s: length %zu: \"%s\", expected \"%s\"\n", h_cur, n, m.e.msg, want);
			h_cur_failed = 1;
			break;
		}
	}
	m.len = full;
	CHECK(mparse(&m, GPA_DEV_GPU) == 0);
	mut_free(&m);
}

static void test_trailing_byte(void)
{
	MUT_OR_SKIP(m, R550);
	m.buf[m.len++] = 0;
	CHECK(mparse(&m, GPA_DEV_GPU) != 0);
	CHECK_CONTAINS(m.e.msg, "1 trailing bytes after the signature (offset 4117)");
	mut_free(&m);
}

/* Sets one byte, expects the parse to fail with `want`, restores it. */
static void byte_case(struct mut *m, enum gpa_device_kind kind, size_t off, uint8_t v, const char *want)
{
	uint8_t old = m->buf[off];

	m->buf[off] = v;
	if (mparse(m, kind) == 0) {
		fprintf(stderr, "FAIL %s: byte %zu = 0x%02x accepted\n", h_cur, off, v);
		h_cur_failed = 1;
	} else {
		CHECK_CONTAINS(m->e.msg, want);
	}
	m->buf[off] = old;
}

static void test_header_fields(void)
{
	MUT_OR_SKIP(m, R550);
	byte_case(&m, GPA_DEV_GPU, 0, 0x10, "request SPDMVersion at offset 0 is 0x10");
	byte_case(&m, GPA_DEV_GPU, 0, 0x12, "request SPDMVersion at offset 0 is 0x12");
	byte_case(&m, GPA_DEV_GPU, 1, 0xE1, "request RequestResponseCode at offset 1 is 0xe1");
	byte_case(&m, GPA_DEV_GPU, 1, 0x60, "expected 0xe0 (GET_MEASUREMENTS)");
	byte_case(&m, GPA_DEV_GPU, G_RESP, 0x10, "response SPDMVersion at offset 37 is 0x10");
	byte_case(&m, GPA_DEV_GPU, G_RESP + 1, 0xE0, "response RequestResponseCode at offset 38 is 0xe0");
	byte_case(&m, GPA_DEV_GPU, G_RESP + 4, 0, "response NumberOfBlocks at offset 41 is 0");
	/* Params and slot are not checked (§2.1). */
	m.buf[2] = 0; m.buf[3] = 0; m.buf[36] = 7; m.buf[G_RESP + 2] = 9;
	CHECK(mparse(&m, GPA_DEV_GPU) == 0);
	mut_free(&m);
}

static void set_u24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
}

static void test_record_lengths(void)
{
	MUT_OR_SKIP(m, R550);
	uint8_t *rl = m.buf + G_RESP + 5;
	char want[200];

	set_u24(rl, 0xffffff);
	CHECK(mparse(&m, GPA_DEV_GPU) != 0);
	CHECK_CONTAINS(m.e.msg, "MeasurementRecordLength 16777215 at offset 42 runs past the end of the report (4072 bytes left)");
	/* One byte too many: the record swallows a nonce byte, left over. */
	set_u24(rl, 3521);
	CHECK(mparse(&m, GPA_DEV_GPU) != 0);
	CHECK_CONTAINS(m.e.msg, "measurement record at offset 45: 1 bytes left over after 64 blocks (MeasurementRecordLength 3521)");
	/* One too few: the last block runs past the record. */
	set_u24(rl, 3519);
	CHECK(mparse(&m, GPA_DEV_GPU) != 0);
	snprintf(want, sizeof(want), "measurement block 63 at offset %d: MeasurementSize 51 runs past", G_RECORD + 63 * 55);
	CHECK_CONTAINS(m.e.msg, want);
	/* Too few for the last header: 63 blocks and 2 bytes. */
	set_u24(rl, 63 * 55 + 2);
	CHECK(mparse(&m, GPA_DEV_GPU) != 0);
	snprintf(want, sizeof(want), "measurement block 63 at offset %d: its 4-byte header runs past the measurement record (2 bytes left)", G_RECORD + 63 * 55);
	CHECK_CONTAINS(m.e.msg, want);
	/* Fewer blocks than the record holds. */
	set_u24(rl, 3520);
	m.buf[G_RESP + 4] = 63;
	CHECK(mparse(&m, GPA_DEV_GPU) != 0);
	CHECK_CONTAINS(m.e.msg, "55 bytes left over after 63 blocks");
	m.buf[G_RESP + 4] = 64;
	CHECK(mparse(&m, GPA_DEV_GPU) == 0);
	mut_free(&m);
}

static void test_block_fields(void)
{
	MUT_OR_SKIP(m, R550);
	size_t b1 = G_RECORD + 55;	/* second block */
	char want[200];

	/* MeasurementSize overflow. */
	m.buf[G_RECORD + 2] = 0xff;
	m.buf[G_RECORD + 3] = 0xff;
	CHECK(mparse(&m, GPA_DEV_GPU) != 0);
	CHECK_CONTAINS(m.e.msg, "measurement block 0 at offset 45: MeasurementSize 65535 runs past the measurement record");
	m.buf[G_RECORD + 2] = 51;
	m.buf[G_RECORD + 3] = 0;
	snprintf(want, sizeof(want), "measurement block 1 (index 2) at offset %zu: MeasurementSpecification 0x02, expected 0x01", b1 + 1);
	byte_case(&m, GPA_DEV_GPU, b1 + 1, 0x02, want);
	byte_case(&m, GPA_DEV_GPU, G_RECORD + 1, 0x00, "measurement block 0 (index 1) at offset 46: MeasurementSpecification 0x00");
	/* DMTF value size smaller / larger than the block. */
	snprintf(want, sizeof(want), "measurement block 1 (index 2) at offset %zu: DMTF value size 47 does not fill MeasurementSize 51", b1);
	byte_case(&m, GPA_DEV_GPU, b1 + 5, 47, want);
	snprintf(want, sizeof(want), "measurement block 1 (index 2) at offset %zu: DMTF value size 49 does not fill MeasurementSize 51", b1);
	byte_case(&m, GPA_DEV_GPU, b1 + 5, 49, want);
	byte_case(&m, GPA_DEV_GPU, b1 + 6, 1, "DMTF value size 304 does not fill");
	/* Duplicate and zero index. */
	byte_case(&m, GPA_DEV_GPU, b1, 1, "measurement record at offset 45: block index 1 appears twice");
	byte_case(&m, GPA_DEV_GPU, b1 + 55 * 62, 5, "block index 5 appears twice");
	snprintf(want, sizeof(want), "measurement block 1 at offset %zu: index 0 is not a valid SPDM block index", b1);
	byte_case(&m, GPA_DEV_GPU, b1, 0, want);
	/* Value type is not checked (§2.3); an out-of-order index is fine. */
	m.buf[b1 + 4] = 7;
	m.buf[b1] = 200;
	CHECK(mparse(&m, GPA_DEV_GPU) == 0);
	CHECK(spdm_block_by_index(m.r, 200) == &m.r->blocks[1]);
	CHECK(spdm_block_by_index(m.r, 2) == NULL);
	mut_free(&m);
}

static void test_opaque_container(void)
{
	MUT_OR_SKIP(m, R550);
	char want[200];
	size_t second;

	m.buf[G_OLEN] = 0;
	m.buf[G_OLEN + 1] = 0;
	CHECK(mparse(&m, GPA_DEV_GPU) != 0);
	snprintf(want, sizeof(want), "OpaqueLength at offset %d is 0", G_OLEN);
	CHECK_CONTAINS(m.e.msg, want);
	m.buf[G_OLEN] = 0xff;
	m.buf[G_OLEN + 1] = 0xff;
	CHECK(mparse(&m, GPA_DEV_GPU) != 0);
	snprintf(want, sizeof(want), "OpaqueLength 65535 at offset %d runs past the end of the report (518 bytes left)", G_OLEN);
	CHECK_CONTAINS(m.e.msg, want);
	/* One more than the data: eats a signature byte. */
	put_u16(m.buf + G_OLEN, 423);
	CHECK(mparse(&m, GPA_DEV_GPU) != 0);
	snprintf(want, sizeof(want), "Signature at offset %d: 96 bytes expected, 95 left", G_OPAQUE + 423);
	CHECK_CONTAINS(m.e.msg, want);
	/* One less: the signature starts a byte early, one byte is left over. */
	put_u16(m.buf + G_OLEN, 421);
	CHECK(mparse(&m, GPA_DEV_GPU) != 0);
	CHECK_CONTAINS(m.e.msg, "1 trailing bytes after the signature");
	put_u16(m.buf + G_OLEN, 422);
	CHECK(mparse(&m, GPA_DEV_GPU) == 0);
	CHECK_INT(m.r->fields[0].type, OPQ_VBIOS_VERSION);
	CHECK_INT(m.r->fields[0].offset, G_OPAQUE);
	second = G_OPAQUE + 4 + m.r->fields[0].len;
	CHECK_INT(m.r->fields[1].offset, second);

	/* Field length overflow: the first TLV claims 0xffff bytes. */
	put_u16(m.buf + G_OPAQUE + 2, 0xffff);
	CHECK(mparse(&m, GPA_DEV_GPU) != 0);
	snprintf(want, sizeof(want), "opaque data: entry 0 (type 6) at offset %d has size 65535 but only 418 bytes remain in OpaqueLength", G_OPAQUE);
	CHECK_CONTAINS(m.e.msg, want);
	put_u16(m.buf + G_OPAQUE + 2, 8);

	/* Unknown ids are kept raw, as NVIDIA 2.0 keeps them: 0, 37 in legacy
	 * data (no value type there, so not the SVN), 255, 270. */
	{
		static const uint8_t ids[] = { 0, 37, 255 };
		for (size_t k = 0; k < sizeof(ids); k++) {
			uint8_t old = m.buf[second];
			m.buf[second] = ids[k];
			CHECK(mparse(&m, GPA_DEV_GPU) == 0);
			CHECK_INT(m.r->fields[1].type, ids[k]);
			CHECK_INT(m.r->fields[1].value_type, 0);
			m.buf[second] = old;
		}
		m.buf[second + 1] = 1;
		CHECK(mparse(&m, GPA_DEV_GPU) == 0);
		CHECK(opaque_get(m.r, 270) == &m.r->fields[1]);
		m.buf[second + 1] = 0;
	}
	/* Duplicate type: the second field becomes a second VBIOS_VERSION. */
	snprintf(want, sizeof(want), "opaque data: entry 1 (type 6) at offset %zu repeats the entry at offset %d; an id may appear once",
	    second, G_OPAQUE);
	byte_case(&m, GPA_DEV_GPU, second, 6, want);
	/* 26..31 are unnamed but accepted for GPUs; 36 is the top. */
	m.buf[second] = 31;
	CHECK(mparse(&m, GPA_DEV_GPU) == 0);
	m.buf[second] = 36;
	CHECK(mparse(&m, GPA_DEV_GPU) == 0);
	/* Read as a switch report: its types (all <= 21) are switch types too. */
	m.buf[second] = 14;
	CHECK(mparse(&m, GPA_DEV_SWITCH) == 0);

	/* A truncated TLV header: OpaqueLength ends 2 bytes into a header. */
	replace_field(&m, GPA_DEV_GPU, OPQ_PROTECTED_PCIE_STATUS, NULL, -1);
	CHECK(mparse(&m, GPA_DEV_GPU) == 0);
	{
		size_t olen = m.r->opaque_len, end = G_OPAQUE + olen;
		memmove(m.buf + end + 2, m.buf + end, 96);
		m.buf[end] = 21;
		m.buf[end + 1] = 0;
		m.len += 2;
		put_u16(m.buf + G_OLEN, (unsigned)olen + 2);
		CHECK(mparse(&m, GPA_DEV_GPU) != 0);
		snprintf(want, sizeof(want), "opaque data: entry 13: its 4-byte legacy entry header at offset %zu is truncated (2 bytes left in OpaqueLength)", end);
		CHECK_CONTAINS(m.e.msg, want);
	}
	mut_free(&m);
}

static void test_switch_types(void)
{
	MUT_OR_SKIP(m, RSW);
	size_t op = 37 + 8 + 1705 + 32 + 2, second;
	char want[200];

	CHECK(mparse(&m, GPA_DEV_SWITCH) == 0);
	CHECK_INT(m.r->opaque_offset, op);
	second = op + 4 + m.r->fields[0].len;
	/* Ids the switch table does not name are kept raw. */
	m.buf[second] = 28;
	CHECK(mparse(&m, GPA_DEV_SWITCH) == 0);
	CHECK(opaque_get(m.r, 28) != NULL && opaque_field_name(GPA_DEV_SWITCH, 28) == NULL);
	m.buf[second] = 36;
	CHECK(mparse(&m, GPA_DEV_SWITCH) == 0);
	/* A repeated id is refused for switches too. */
	snprintf(want, sizeof(want), "opaque data: entry 1 (type 6) at offset %zu repeats the entry at offset %zu", second, op);
	byte_case(&m, GPA_DEV_SWITCH, second, 6, want);
	m.buf[second] = 27;	/* a literal SWITCH_PORTS is accepted */
	CHECK(mparse(&m, GPA_DEV_SWITCH) == 0);
	mut_free(&m);
}

/* Derive expects failure with this message part. */
#define DERIVE_FAILS(m, kind, want) do { \
	struct report_info h_info; \
	CHECK(mderive(&(m), (kind), &h_info) == -1); \
	CHECK_CONTAINS((m).e.msg, (want)); \
} while (0)

static void test_derive_strings(void)
{
	MUT_OR_SKIP(m, R550);
	size_t dv = field_off(&m, GPA_DEV_GPU, OPQ_DRIVER_VERSION), sku;
	char want[200];

	CHECK(dv > 0);
	/* "550.90.07\0": a '/' would end up in a RIM id, i.e. a path. */
	m.buf[dv + 4 + 3] = '/';
	snprintf(want, sizeof(want), "field DRIVER_VERSION (type 3) at offset %zu contains byte 0x2f", dv);
	DERIVE_FAILS(m, GPA_DEV_GPU, want);
	m.buf[dv + 4 + 3] = '.';
	/* NUL then non-NUL: "550.90\0" + "07\0". */
	m.buf[dv + 4 + 6] = 0;
	snprintf(want, sizeof(want), "field DRIVER_VERSION (type 3) at offset %zu has bytes after its NUL terminator", dv);
	DERIVE_FAILS(m, GPA_DEV_GPU, want);
	m.buf[dv + 4 + 6] = '.';
	/* Empty. */
	m.buf[dv + 4] = 0;
	DERIVE_FAILS(m, GPA_DEV_GPU, "field DRIVER_VERSION (type 3)");
	m.buf[dv + 4] = '5';
	/* CHIP_SKU "882" + NULs with a stray byte in the padding. */
	sku = field_off(&m, GPA_DEV_GPU, OPQ_CHIP_SKU);
	m.buf[sku + 4 + 8] = 'A';
	snprintf(want, sizeof(want), "field CHIP_SKU (type 15) at offset %zu has bytes after its NUL terminator", sku);
	DERIVE_FAILS(m, GPA_DEV_GPU, want);
	m.buf[sku + 4 + 8] = 0;
	{
		struct report_info info;
		CHECK(mderive(&m, GPA_DEV_GPU, &info) == 0);
	}
	/* Required strings missing. */
	replace_field(&m, GPA_DEV_GPU, OPQ_PROJECT, NULL, -1);
	DERIVE_FAILS(m, GPA_DEV_GPU, "required field PROJECT (type 17) is missing");
	mut_free(&m);
	if (mut_load(&m, R550) != 0)
		return;
	replace_field(&m, GPA_DEV_GPU, OPQ_DRIVER_VERSION, NULL, -1);
	DERIVE_FAILS(m, GPA_DEV_GPU, "required field DRIVER_VERSION (type 3) is missing");
	mut_free(&m);
}

static void test_derive_nvdec_vbios_fwid(void)
{
	MUT_OR_SKIP(m, R550);
	size_t nv = field_off(&m, GPA_DEV_GPU, OPQ_NVDEC0_STATUS), vb;
	static const uint8_t fw47[47], vb7[7] = { 0, 0x9f, 0, 0x96, 1, 0, 0 };
	static const uint8_t two[2] = { 0xaa, 0x55 };
	char want[200];

	m.buf[nv + 4] = 0x00;
	DERIVE_FAILS(m, GPA_DEV_GPU, "NVDEC0_STATUS is 0x00, expected 0x55 or 0xaa");
	m.buf[nv + 4] = 0xAA;
	{
		struct report_info info;
		CHECK(mderive(&m, GPA_DEV_GPU, &info) == 0);
		CHECK_INT(info.nvdec0, 0xAA);
	}
	replace_field(&m, GPA_DEV_GPU, OPQ_NVDEC0_STATUS, two, 2);
	snprintf(want, sizeof(want), "field NVDEC0_STATUS (type 11) at offset %zu has length 2, expected 1", nv);
	DERIVE_FAILS(m, GPA_DEV_GPU, want);
	replace_field(&m, GPA_DEV_GPU, OPQ_NVDEC0_STATUS, NULL, -1);
	DERIVE_FAILS(m, GPA_DEV_GPU, "required field NVDEC0_STATUS (type 11) is missing");
	mut_free(&m);

	if (mut_load(&m, R550) != 0)
		return;
	replace_field(&m, GPA_DEV_GPU, OPQ_FWID, fw47, 47);
	DERIVE_FAILS(m, GPA_DEV_GPU, "FWID (type 20) at offset");
	CHECK_CONTAINS(m.e.msg, "has length 47, expected 48");
	mut_free(&m);

	if (mut_load(&m, R550) != 0)
		return;
	vb = field_off(&m, GPA_DEV_GPU, OPQ_VBIOS_VERSION);
	CHECK_INT(vb, G_OPAQUE);
	replace_field(&m, GPA_DEV_GPU, OPQ_VBIOS_VERSION, vb7, 7);
	snprintf(want, sizeof(want), "field VBIOS_VERSION (type 6) at offset %d has length 7, expected 8", G_OPAQUE);
	DERIVE_FAILS(m, GPA_DEV_GPU, want);
	replace_field(&m, GPA_DEV_GPU, OPQ_VBIOS_VERSION, NULL, -1);
	DERIVE_FAILS(m, GPA_DEV_GPU, "required field VBIOS_VERSION (type 6) is missing");
	mut_free(&m);
}

static void test_derive_versions(void)
{
	MUT_OR_SKIP(m, R580);
	size_t ov = field_off(&m, GPA_DEV_GPU, OPQ_OPAQUE_DATA_VERSION);
	size_t ff = field_off(&m, GPA_DEV_GPU, OPQ_FEATURE_FLAG);
	static const uint8_t one3[3] = { 1, 0, 0 };
	static const uint8_t pdis15[15];
	char want[240];

	CHECK(ov > 0 && ff > 0);
	/* 2 is NVIDIA 2.0's maximum, in either layout; above it the parse
	 * says a newer verifier is needed (SPDM_ERR_UNSUPPORTED). */
	m.buf[ov + 4] = 2;
	{
		struct report_info info;
		CHECK(mderive(&m, GPA_DEV_GPU, &info) == 0);
		CHECK_INT(info.opaque_version, 2);
	}
	m.buf[ov + 4] = 3;
	CHECK_INT(mparse(&m, GPA_DEV_GPU), SPDM_ERR_UNSUPPORTED);
	snprintf(want, sizeof(want), "opaque data version 3 is newer than this verifier supports (max 2): OPAQUE_DATA_VERSION (type 34) at offset %zu", ov);
	CHECK_CONTAINS(m.e.msg, want);
	m.buf[ov + 4] = 0;
	m.buf[ov + 5] = 1;	/* 256, little-endian */
	CHECK_INT(mparse(&m, GPA_DEV_GPU), SPDM_ERR_UNSUPPORTED);
	CHECK_CONTAINS(m.e.msg, "opaque data version 256 is newer than this verifier supports (max 2)");
	/* Switches have no version entry: 34 is just an unnamed id there. */
	CHECK(mparse(&m, GPA_DEV_SWITCH) == 0);
	m.buf[ov + 4] = 1;
	m.buf[ov + 5] = 0;
	/* Version 1 without FEATURE_FLAG: retype 36 to the unnamed 27. */
	m.buf[ff] = 27;
	DERIVE_FAILS(m, GPA_DEV_GPU, "legacy version 1 requires FEATURE_FLAG (type 36), which is missing");
	m.buf[ff] = 36;
	/* Version 0 without FEATURE_FLAG is the older format: fine. */
	m.buf[ov + 4] = 0;
	m.buf[ff] = 27;
	{
		struct report_info info;
		CHECK(mderive(&m, GPA_DEV_GPU, &info) == 0);
		CHECK_INT(info.opaque_version, 0);
		CHECK_INT(info.feature_flag, -1);
	}
	m.buf[ov + 4] = 1;
	m.buf[ff] = 36;
	replace_field(&m, GPA_DEV_GPU, OPQ_OPAQUE_DATA_VERSION, one3, 3);
	DERIVE_FAILS(m, GPA_DEV_GPU, "field OPAQUE_DATA_VERSION (type 34) at offset");
	CHECK_CONTAINS(m.e.msg, "has length 3, expected 2");
	mut_free(&m);

	/* GPU SWITCH_PDI must be whole 8-byte entries. */
	if (mut_load(&m, R580) != 0)
		return;
	replace_field(&m, GPA_DEV_GPU, OPQ_SWITCH_PDI, pdis15, 15);
	CHECK(mparse(&m, GPA_DEV_GPU) != 0);
	CHECK_CONTAINS(m.e.msg, "(SWITCH_PDI) at offset");
	CHECK_CONTAINS(m.e.msg, "has size 15, not a multiple of 8");
	mut_free(&m);
}

static void test_derive_switch(void)
{
	MUT_OR_SKIP(m, RSW);
	size_t bios = field_off(&m, GPA_DEV_SWITCH, OPQ_VBIOS_VERSION);
	static const uint8_t pdi7[7], gpus63[63];
	char want[200];

	CHECK(bios > 0);
	m.buf[bios + 4 + 3] = 'G';	/* "96.G0..." */
	snprintf(want, sizeof(want), "VBIOS_VERSION (type 6) at offset %zu is not a dotted hex version", bios);
	DERIVE_FAILS(m, GPA_DEV_SWITCH, want);
	m.buf[bios + 4 + 3] = '/';
	DERIVE_FAILS(m, GPA_DEV_SWITCH, "is not a dotted hex version");
	m.buf[bios + 4 + 3] = '1';
	m.buf[bios + 4] = 0;
	snprintf(want, sizeof(want), "VBIOS_VERSION (type 6) at offset %zu is empty or too long", bios);
	DERIVE_FAILS(m, GPA_DEV_SWITCH, want);
	m.buf[bios + 4] = '9';
	{
		struct report_info info;
		CHECK(mderive(&m, GPA_DEV_SWITCH, &info) == 0);
		CHECK_INT(info.ngpu_pdis, 8);
		CHECK_INT(info.nports, 64);
		CHECK_INT(info.lock_status, 1);
	}
	replace_field(&m, GPA_DEV_SWITCH, OPQ_SWITCH_PDI, pdi7, 7);
	DERIVE_FAILS(m, GPA_DEV_SWITCH, "DEVICE_PDI (type 22) at offset");
	CHECK_CONTAINS(m.e.msg, "has length 7, expected 8");
	mut_free(&m);

	if (mut_load(&m, RSW) != 0)
		return;
	replace_field(&m, GPA_DEV_SWITCH, OPQ_SWITCH_GPU_PDIS, gpus63, 63);
	DERIVE_FAILS(m, GPA_DEV_SWITCH, "SWITCH_GPU_PDIS (type 26) at offset");
	CHECK_CONTAINS(m.e.msg, "has length 63, expected at least 64");
	replace_field(&m, GPA_DEV_SWITCH, OPQ_VBIOS_VERSION, NULL, -1);
	DERIVE_FAILS(m, GPA_DEV_SWITCH, "required field VBIOS_VERSION (type 6) is missing");
	mut_free(&m);

	/* A switch report read as a GPU parses (types 1..27 are GPU types
	 * too) but has no driver version; a GPU report read as a switch has
	 * binary VBIOS bytes, not a BIOS string. */
	if (mut_load(&m, RSW) != 0)
		return;
	DERIVE_FAILS(m, GPA_DEV_GPU, "required field DRIVER_VERSION (type 3) is missing");
	mut_free(&m);
	if (mut_load(&m, R550) != 0)
		return;
	DERIVE_FAILS(m, GPA_DEV_SWITCH, "VBIOS_VERSION (type 6) at offset");
	mut_free(&m);
}

int main(void)
{
	RUN(test_all_vectors);
	RUN(test_every_file_listed);
	RUN(test_switch_pdis_reversed);
	RUN(test_vbios_format);
	RUN(test_names_and_arch);
	RUN(test_rim_ids_unsupported_and_chip_info);
	RUN(test_every_truncation);
	RUN(test_trailing_byte);
	RUN(test_header_fields);
	RUN(test_record_lengths);
	RUN(test_block_fields);
	RUN(test_opaque_container);
	RUN(test_switch_types);
	RUN(test_derive_strings);
	RUN(test_derive_nvdec_vbios_fwid);
	RUN(test_derive_versions);
	RUN(test_derive_switch);
	return harness_done("spdm");
}
