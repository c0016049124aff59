/*
 * The opaque data of an attestation report, in its two layouts, chosen by
 * the magic as NVIDIA 2.0 chooses (docs/attestation-formats.md §3.1, §16.1):
 *   legacy:  entries of type (u16 LE), size (u16 LE), value;
 *   NVDAOD:  "NVDAOD", profile (u16 LE, must be 0), major, minor, patch,
 *            padding; then entries of type, value type, size (u16 LE each),
 *            value.
 * Both are packed and must be consumed exactly. Ids are unique (NVIDIA
 * keeps the last of a repeated id; we refuse it), unknown ids are kept raw
 * with their value type, and in NVDAOD data the known ids must carry the
 * value type NVIDIA's drivers give them (docs/decisions.md).
 */
#include "spdm/spdm.h"

#include <stdio.h>
#include <string.h>

const char *opaque_layout_name(enum opaque_layout l)
{
	return l == OPAQUE_NVDAOD ? "NVDAOD" : "legacy";
}

/* The value types of the known GPU ids in both real NVDAOD samples (§16.1
 * table); an id not listed accepts any value type (none seen yet). */
int opaque_required_value_type(enum gpa_device_kind kind, uint16_t type)
{
	static const uint16_t gpu[] = {
		[OPQ_DRIVER_VERSION] = 0x86, [OPQ_GPU_INFO] = 0x82, [OPQ_VBIOS_VERSION] = 0x86,
		[OPQ_NVDEC0_STATUS] = 0x82, [OPQ_MSRSCNT] = 0x84, [OPQ_CPRINFO] = 0x83,
		[OPQ_BOARD_ID] = 0x82, [OPQ_CHIP_SKU] = 0x82, [OPQ_CHIP_SKU_MOD] = 0x82,
		[OPQ_PROJECT] = 0x82, [OPQ_PROJECT_SKU] = 0x82, [OPQ_PROJECT_SKU_MOD] = 0x82,
		[OPQ_FWID] = 0x01, [OPQ_PROTECTED_PCIE_STATUS] = 0x85,
		[OPQ_SYS_ENABLE_STATUS] = 0x82, [OPQ_OPAQUE_DATA_VERSION] = 0x86,
		[OPQ_CHIP_INFO] = 0x82, [OPQ_FEATURE_FLAG] = 0x85,
		[OPQ_FSP_UCODE_SVN] = OPAQUE_VT_MIN_SVN,
	};

	if (kind != GPA_DEV_GPU || type >= sizeof(gpu) / sizeof(gpu[0]) || gpu[type] == 0)
		return -1;
	return gpu[type];
}

const char *opaque_value_type_name(uint16_t vt)
{
	/* Only 0x87 is defined by NVIDIA's code; the others are what the
	 * drivers use them for (§16.1, inferred), shown as a hint. */
	switch (vt) {
	case 0x0000: return "none (legacy)";
	case 0x0001: return "digest";
	case 0x0082: return "bytes";
	case 0x0083: return "bit field";
	case 0x0084: return "u32 array";
	case 0x0085: return "status";
	case 0x0086: return "version";
	case 0x0087: return "min-svn u16";
	default: return "unknown";
	}
}

static int nvdaod_header(struct spdm_report *r, struct gpa_rd *rd, struct gpa_err *e)
{
	size_t off = r->opaque_offset;

	if (r->opaque_len < NVDAOD_HEADER_LEN) {
		gpa_err_set(e, "opaque data: NVDAOD header at offset %zu needs %d bytes, OpaqueLength is %u",
		    off, NVDAOD_HEADER_LEN, r->opaque_len);
		return -1;
	}
	rd_bytes(rd, 6);
	r->od_profile = rd_u16le(rd);
	r->od_major = rd_u8(rd);
	r->od_minor = rd_u8(rd);
	r->od_patch = rd_u8(rd);
	r->od_pad = rd_u8(rd);
	if (r->od_profile != 0) {
		gpa_err_set(e, "opaque data: NVDAOD profile %u at offset %zu; only profile 0 is defined",
		    r->od_profile, off + 6);
		return -1;
	}
	r->opaque_version = r->od_major;
	if (r->opaque_version > OPAQUE_MAX_VERSION) {
		gpa_err_set(e, "opaque data version %d is newer than this verifier supports (max %d): NVDAOD header at offset %zu says %u.%u.%u; a newer gpuattest is needed",
		    r->opaque_version, OPAQUE_MAX_VERSION, off, r->od_major, r->od_minor, r->od_patch);
		return SPDM_ERR_UNSUPPORTED;
	}
	return 0;
}

/* Rules for a known id whatever the layout (NVIDIA 2.0 checks these two). */
static int check_known_size(const struct spdm_report *r, const struct opaque_field *f,
    struct gpa_err *e)
{
	const char *name = opaque_field_name(r->kind, f->type);

	if (f->type == OPQ_MSRSCNT && f->len % 4 != 0) {
		gpa_err_set(e, "opaque data: entry %u (MSRSCNT) at offset %zu has size %u, not a multiple of 4",
		    f->type, f->offset, f->len);
		return -1;
	}
	if (r->kind == GPA_DEV_GPU && f->type == OPQ_SWITCH_PDI && f->len % GPA_PDI_LEN != 0) {
		gpa_err_set(e, "opaque data: entry %u (SWITCH_PDI) at offset %zu has size %u, not a multiple of 8",
		    f->type, f->offset, f->len);
		return -1;
	}
	if (r->layout == OPAQUE_NVDAOD && r->kind == GPA_DEV_GPU && f->type == OPQ_FSP_UCODE_SVN &&
	    f->len != 2) {
		gpa_err_set(e, "opaque data: entry %u (%s) at offset %zu has size %u, expected 2 (u16)",
		    f->type, name, f->offset, f->len);
		return -1;
	}
	return 0;
}

static int check_value_type(const struct spdm_report *r, const struct opaque_field *f,
    struct gpa_err *e)
{
	int want = opaque_required_value_type(r->kind, f->type);

	if (r->layout != OPAQUE_NVDAOD || want < 0 || f->value_type == want)
		return 0;
	gpa_err_set(e, "opaque data: entry %u (%s) at offset %zu has value type 0x%02x, expected 0x%02x (%s)",
	    f->type, opaque_field_name(r->kind, f->type), f->offset, f->value_type, (unsigned)want,
	    opaque_value_type_name((uint16_t)want));
	return -1;
}

/* One entry header and value; the message names the entry's offset. */
static int read_entry(struct spdm_report *r, struct gpa_rd *rd, struct opaque_field *f,
    struct gpa_err *e)
{
	bool v2 = r->layout == OPAQUE_NVDAOD;
	size_t hdr = v2 ? 6 : 4, left;

	f->offset = r->opaque_offset + rd->off;
	f->type = rd_u16le(rd);
	f->value_type = v2 ? rd_u16le(rd) : 0;
	f->len = rd_u16le(rd);
	if (rd->failed) {
		gpa_err_set(e, "opaque data: entry %d: its %zu-byte %s entry header at offset %zu is truncated (%zu bytes left in OpaqueLength)",
		    r->nfields, hdr, opaque_layout_name(r->layout), f->offset,
		    r->opaque_len - (f->offset - r->opaque_offset));
		return -1;
	}
	left = rd_left(rd);
	f->value = rd_bytes(rd, f->len);
	if (f->value == NULL) {
		gpa_err_set(e, "opaque data: entry %d (type %u) at offset %zu has size %u but only %zu bytes remain in OpaqueLength",
		    r->nfields, f->type, f->offset, f->len, left);
		return -1;
	}
	return 0;
}

/* The legacy version entry (GPU only): LE, at most 8 bytes, absent 0; the
 * size the verifier reads is checked by report_info_derive. */
static int legacy_version(struct spdm_report *r, struct gpa_err *e)
{
	const struct opaque_field *f = opaque_get(r, OPQ_OPAQUE_DATA_VERSION);
	unsigned long long v = 0;

	r->opaque_version = 0;
	if (r->kind != GPA_DEV_GPU || f == NULL || f->len == 0 || f->len > 8)
		return 0;
	for (size_t i = f->len; i-- > 0;)
		v = v << 8 | f->value[i];
	if (v > OPAQUE_MAX_VERSION) {
		gpa_err_set(e, "opaque data version %llu is newer than this verifier supports (max %d): OPAQUE_DATA_VERSION (type 34) at offset %zu; a newer gpuattest is needed",
		    v, OPAQUE_MAX_VERSION, f->offset);
		return SPDM_ERR_UNSUPPORTED;
	}
	r->opaque_version = (int)v;
	return 0;
}

int opaque_parse(struct spdm_report *r, struct gpa_err *e)
{
	struct gpa_rd rd;
	int rc;

	rd_init(&rd, r->opaque, r->opaque_len);
	r->nfields = 0;
	r->layout = r->opaque_len >= 6 && memcmp(r->opaque, NVDAOD_MAGIC, 6) == 0 ?
	    OPAQUE_NVDAOD : OPAQUE_LEGACY;
	if (r->layout == OPAQUE_NVDAOD && (rc = nvdaod_header(r, &rd, e)) != 0)
		return rc;
	while (rd_left(&rd) > 0) {
		struct opaque_field f;
		const struct opaque_field *prev;

		if (read_entry(r, &rd, &f, e) != 0)
			return -1;
		if ((prev = opaque_get(r, f.type)) != NULL) {
			gpa_err_set(e, "opaque data: entry %d (type %u) at offset %zu repeats the entry at offset %zu; an id may appear once",
			    r->nfields, f.type, f.offset, prev->offset);
			return -1;
		}
		if (r->nfields == OPAQUE_MAX_FIELDS) {
			gpa_err_set(e, "opaque data: more than %d entries (entry at offset %zu)",
			    OPAQUE_MAX_FIELDS, f.offset);
			return -1;
		}
		if (check_known_size(r, &f, e) != 0 || check_value_type(r, &f, e) != 0)
			return -1;
		r->fields[r->nfields++] = f;
	}
	if (r->layout == OPAQUE_LEGACY)
		return legacy_version(r, e);
	return 0;
}

const struct opaque_field *opaque_get(const struct spdm_report *r, uint16_t type)
{
	for (int i = r->nfields - 1; i >= 0; i--)
		if (r->fields[i].type == type)
			return &r->fields[i];
	return NULL;
}

const char *opaque_field_name(enum gpa_device_kind kind, uint16_t type)
{
	static const char *const common[] = {
		[1] = "CERT_ISSUER_NAME", [2] = "CERT_AUTHORITY_KEY_IDENTIFIER",
		[3] = "DRIVER_VERSION", [4] = "GPU_INFO", [5] = "SKU",
		[6] = "VBIOS_VERSION", [7] = "MANUFACTURER_ID", [8] = "TAMPER_DETECTION",
		[9] = "SMC", [10] = "VPR", [11] = "NVDEC0_STATUS", [12] = "MSRSCNT",
		[13] = "CPRINFO", [14] = "BOARD_ID", [15] = "CHIP_SKU", [16] = "CHIP_SKU_MOD",
		[17] = "PROJECT", [18] = "PROJECT_SKU", [19] = "PROJECT_SKU_MOD", [20] = "FWID",
		[21] = "PROTECTED_PCIE_STATUS",
	};
	static const char *const gpu[] = {
		[22] = "SWITCH_PDI", [23] = "FLOORSWEPT_PORTS", [24] = "POSITION_ID",
		[25] = "LOCK_SWITCH_STATUS", [32] = "GPU_LINK_CONN", [33] = "SYS_ENABLE_STATUS",
		[34] = "OPAQUE_DATA_VERSION", [35] = "CHIP_INFO", [36] = "FEATURE_FLAG",
		[37] = "FSP_UCODE_SVN",
	};
	static const char *const sw[] = {
		[22] = "DEVICE_PDI", [23] = "DISABLED_PORTS", [24] = "SWITCH_POSITION_ID",
		[25] = "SWITCH_LOCK_STATUS", [26] = "SWITCH_GPU_PDIS", [27] = "SWITCH_PORTS",
	};
	if (type < sizeof(common) / sizeof(common[0]) && common[type] != NULL)
		return common[type];
	if (kind == GPA_DEV_GPU && type < sizeof(gpu) / sizeof(gpu[0]) && gpu[type] != NULL)
		return gpu[type];
	if (kind == GPA_DEV_SWITCH && type < sizeof(sw) / sizeof(sw[0]) && sw[type] != NULL)
		return sw[type];
	return NULL;
}
