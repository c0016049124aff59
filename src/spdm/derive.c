/*
 * What the verifier derives from a parsed report: versions, RIM ids, PDIs,
 * FWID, NVDEC0 and mode flags (docs/attestation-formats.md §3.4, §4).
 * Strings that end up in RIM ids are restricted to a small alphabet, since
 * RIM ids become file names and URL path segments.
 */
#include "spdm/spdm.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool id_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

/* NUL-terminated (or NUL-padded) ASCII field into out. The padding after the
 * first NUL must be NULs; every character must be safe in an identifier. */
static int ascii_field(const struct spdm_report *r, uint16_t type, bool required,
    char *out, size_t outsz, struct gpa_err *e)
{
	const struct opaque_field *f = opaque_get(r, type);
	const char *name = opaque_field_name(GPA_DEV_GPU, type);
	size_t n = 0;

	out[0] = '\0';
	if (f == NULL) {
		if (required)
			gpa_err_set(e, "opaque data: required field %s (type %u) is missing", name, type);
		return required ? -1 : 0;
	}
	while (n < f->len && f->value[n] != 0)
		n++;
	for (size_t i = n; i < f->len; i++)
		if (f->value[i] != 0) {
			gpa_err_set(e, "opaque data: field %s (type %u) at offset %zu has bytes after its NUL terminator",
			    name, type, f->offset);
			return -1;
		}
	if (n == 0 || n >= outsz) {
		gpa_err_set(e, "opaque data: field %s (type %u) at offset %zu has length %zu, expected 1..%zu characters",
		    name, type, f->offset, n, outsz - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!id_char((char)f->value[i])) {
			gpa_err_set(e, "opaque data: field %s (type %u) at offset %zu contains byte 0x%02x, not a version/identifier character",
			    name, type, f->offset, f->value[i]);
			return -1;
		}
	memcpy(out, f->value, n);
	out[n] = '\0';
	return 0;
}

/* A fixed-size little-endian unsigned field; -1 in *out when absent. */
static int uint_field(const struct spdm_report *r, enum gpa_device_kind kind, uint16_t type,
    size_t want_len, int *out, struct gpa_err *e)
{
	const struct opaque_field *f = opaque_get(r, type);
	unsigned v = 0;

	*out = -1;
	if (f == NULL)
		return 0;
	if (f->len != want_len) {
		gpa_err_set(e, "opaque data: field %s (type %u) at offset %zu has length %u, expected %zu",
		    opaque_field_name(kind, type), type, f->offset, f->len, want_len);
		return -1;
	}
	for (size_t i = want_len; i-- > 0;)
		v = v << 8 | f->value[i];
	*out = (int)v;
	return 0;
}

int vbios_version_format(const uint8_t *b, size_t n, char *out, size_t outsz)
{
	/* NVIDIA prints bytes 3,2,1,0 then 4 of the 8-byte field (§4.2). */
	if (n != 8 || outsz < 15)
		return -1;
	snprintf(out, outsz, "%02X.%02X.%02X.%02X.%02X", b[3], b[2], b[1], b[0], b[4]);
	return 0;
}

const char *feature_flag_mode(int flag)
{
	switch (flag) {
	case -1: return "none";
	case 0: case 1: return "cc";
	case 2: return "ppcie";
	default: return "invalid";
	}
}

const char *arch_name(enum gpa_arch a)
{
	switch (a) {
	case GPA_ARCH_HOPPER: return "HOPPER";
	case GPA_ARCH_BLACKWELL: return "BLACKWELL";
	case GPA_ARCH_LS10: return "LS10";
	case GPA_ARCH_RUBIN: return "RUBIN";
	default: return "UNKNOWN";
	}
}

enum gpa_arch arch_from_nvml(unsigned nvml_arch)
{
	return nvml_arch == 9 ? GPA_ARCH_HOPPER : nvml_arch == 10 ? GPA_ARCH_BLACKWELL : GPA_ARCH_UNKNOWN;
}

enum gpa_arch arch_from_string(const char *s)
{
	if (s == NULL)
		return GPA_ARCH_UNKNOWN;
	if (strcasecmp(s, "HOPPER") == 0)
		return GPA_ARCH_HOPPER;
	if (strcasecmp(s, "BLACKWELL") == 0)
		return GPA_ARCH_BLACKWELL;
	if (strcasecmp(s, "LS10") == 0)
		return GPA_ARCH_LS10;
	if (strcasecmp(s, "RUBIN") == 0)
		return GPA_ARCH_RUBIN;
	return GPA_ARCH_UNKNOWN;
}

enum gpa_arch arch_from_hwmodel(const char *hw)
{
	if (hw == NULL)
		return GPA_ARCH_UNKNOWN;
	if (strncmp(hw, "GH100 ", 6) == 0)
		return GPA_ARCH_HOPPER;
	if (strncmp(hw, "GB", 2) == 0 && isdigit((unsigned char)hw[2]))
		return GPA_ARCH_BLACKWELL;
	if (strncmp(hw, "LS_10 ", 6) == 0)
		return GPA_ARCH_LS10;
	/* GR100 A01 GSP BROM: Rubin (§16.4). */
	if (strncmp(hw, "GR", 2) == 0 && isdigit((unsigned char)hw[2]))
		return GPA_ARCH_RUBIN;
	return GPA_ARCH_UNKNOWN;
}

static int derive_gpu(const struct spdm_report *r, struct report_info *in, struct gpa_err *e)
{
	const struct opaque_field *f;
	int v;

	if (ascii_field(r, OPQ_DRIVER_VERSION, true, in->driver_version, sizeof(in->driver_version), e) ||
	    ascii_field(r, OPQ_PROJECT, true, in->project, sizeof(in->project), e) ||
	    ascii_field(r, OPQ_PROJECT_SKU, true, in->project_sku, sizeof(in->project_sku), e) ||
	    ascii_field(r, OPQ_CHIP_SKU, true, in->chip_sku, sizeof(in->chip_sku), e) ||
	    ascii_field(r, OPQ_CHIP_INFO, false, in->chip_info, sizeof(in->chip_info), e))
		return -1;
	f = opaque_get(r, OPQ_VBIOS_VERSION);
	if (f == NULL) {
		gpa_err_set(e, "opaque data: required field VBIOS_VERSION (type 6) is missing");
		return -1;
	}
	if (vbios_version_format(f->value, f->len, in->vbios_version, sizeof(in->vbios_version)) != 0) {
		gpa_err_set(e, "opaque data: field VBIOS_VERSION (type 6) at offset %zu has length %u, expected 8",
		    f->offset, f->len);
		return -1;
	}
	if (uint_field(r, GPA_DEV_GPU, OPQ_NVDEC0_STATUS, 1, &in->nvdec0, e) ||
	    uint_field(r, GPA_DEV_GPU, OPQ_PROTECTED_PCIE_STATUS, 1, &in->ppcie_status, e) ||
	    uint_field(r, GPA_DEV_GPU, OPQ_FEATURE_FLAG, 2, &in->feature_flag, e))
		return -1;
	/* Id 37 is the FSP ucode SVN only in NVDAOD data, where the parser
	 * checked its value type (0x87) and size (2). */
	if (r->layout == OPAQUE_NVDAOD &&
	    uint_field(r, GPA_DEV_GPU, OPQ_FSP_UCODE_SVN, 2, &in->fsp_ucode_svn, e))
		return -1;
	/* Legacy: the version entry, whose size we check here (its value was
	 * gated by the parser). NVDAOD: the header's major is the version and
	 * a type-34 entry is ignored, as NVIDIA 2.0 ignores it (real drivers
	 * send 00 02 there, 512 read as LE). */
	if (r->layout == OPAQUE_LEGACY && uint_field(r, GPA_DEV_GPU, OPQ_OPAQUE_DATA_VERSION, 2, &v, e))
		return -1;
	in->opaque_version = r->opaque_version;
	if (in->nvdec0 != NVDEC0_ENABLED && in->nvdec0 != NVDEC0_DISABLED) {
		if (in->nvdec0 < 0)
			gpa_err_set(e, "opaque data: required field NVDEC0_STATUS (type 11) is missing");
		else
			gpa_err_set(e, "opaque data: NVDEC0_STATUS is 0x%02x, expected 0x55 or 0xaa", in->nvdec0);
		return -1;
	}
	if (in->opaque_version >= 1 && in->feature_flag < 0) {
		gpa_err_set(e, "opaque data: %s version %d requires FEATURE_FLAG (type 36), which is missing",
		    opaque_layout_name(r->layout), in->opaque_version);
		return -1;
	}
	f = opaque_get(r, OPQ_SWITCH_PDI);
	if (f != NULL) {
		if (f->len % GPA_PDI_LEN != 0 || f->len / GPA_PDI_LEN > GPA_MAX_PDIS) {
			gpa_err_set(e, "opaque data: SWITCH_PDI (type 22) at offset %zu has length %u, not a multiple of 8 (at most %d entries)",
			    f->offset, f->len, GPA_MAX_PDIS);
			return -1;
		}
		/* The GPU stores each switch PDI byte-reversed. */
		in->npdis = f->len / GPA_PDI_LEN;
		for (int i = 0; i < in->npdis; i++)
			for (int j = 0; j < GPA_PDI_LEN; j++)
				in->pdis[i][j] = f->value[i * GPA_PDI_LEN + GPA_PDI_LEN - 1 - j];
	}
	return 0;
}

static int derive_switch(const struct spdm_report *r, struct report_info *in, struct gpa_err *e)
{
	const struct opaque_field *f = opaque_get(r, OPQ_VBIOS_VERSION);
	size_t n = 0;

	if (f == NULL) {
		gpa_err_set(e, "opaque data: required field VBIOS_VERSION (type 6) is missing");
		return -1;
	}
	while (n < f->len && f->value[n] != 0)
		n++;
	if (n == 0 || n >= sizeof(in->vbios_version)) {
		gpa_err_set(e, "opaque data: VBIOS_VERSION (type 6) at offset %zu is empty or too long", f->offset);
		return -1;
	}
	for (size_t i = 0; i < f->len; i++) {
		uint8_t c = f->value[i];
		if (i < n ? !(isxdigit(c) || c == '.') : c != 0) {
			gpa_err_set(e, "opaque data: VBIOS_VERSION (type 6) at offset %zu is not a dotted hex version", f->offset);
			return -1;
		}
	}
	memcpy(in->vbios_version, f->value, n);
	in->vbios_version[n] = '\0';

	f = opaque_get(r, OPQ_SWITCH_PDI);
	if (f != NULL) {
		if (f->len != GPA_PDI_LEN) {
			gpa_err_set(e, "opaque data: DEVICE_PDI (type 22) at offset %zu has length %u, expected 8",
			    f->offset, f->len);
			return -1;
		}
		in->has_device_pdi = true;
		memcpy(in->device_pdi, f->value, GPA_PDI_LEN);
	}
	f = opaque_get(r, OPQ_SWITCH_GPU_PDIS);
	if (f != NULL) {
		if (f->len < 8 * GPA_PDI_LEN) {
			gpa_err_set(e, "opaque data: SWITCH_GPU_PDIS (type 26) at offset %zu has length %u, expected at least 64",
			    f->offset, f->len);
			return -1;
		}
		in->ngpu_pdis = 8;
		memcpy(in->gpu_pdis, f->value, 8 * GPA_PDI_LEN);
		in->nports = f->len - 8 * GPA_PDI_LEN;
		in->ports = f->value + 8 * GPA_PDI_LEN;
	}
	return uint_field(r, GPA_DEV_SWITCH, OPQ_LOCK_SWITCH_STATUS, 2, &in->lock_status, e);
}

int report_info_derive(const struct spdm_report *r, struct report_info *in, struct gpa_err *e)
{
	const struct opaque_field *f;

	memset(in, 0, sizeof(*in));
	in->kind = r->kind;
	in->nvdec0 = in->ppcie_status = in->feature_flag = in->lock_status = in->fsp_ucode_svn = -1;
	in->layout = r->layout;
	f = opaque_get(r, OPQ_FWID);
	if (f != NULL) {
		if (f->len != GPA_FWID_LEN) {
			gpa_err_set(e, "opaque data: FWID (type 20) at offset %zu has length %u, expected 48",
			    f->offset, f->len);
			return -1;
		}
		in->has_fwid = true;
		memcpy(in->fwid, f->value, GPA_FWID_LEN);
	}
	return in->kind == GPA_DEV_GPU ? derive_gpu(r, in, e) : derive_switch(r, in, e);
}

int report_rim_ids(struct report_info *in, enum gpa_arch arch, struct gpa_err *e)
{
	char vb[32];
	size_t j = 0;

	for (const char *p = in->vbios_version; *p && j + 1 < sizeof(vb); p++)
		if (*p != '.')
			vb[j++] = (char)toupper((unsigned char)*p);
	vb[j] = '\0';
	switch (arch) {
	case GPA_ARCH_HOPPER:
		snprintf(in->driver_rim_id, sizeof(in->driver_rim_id), "NV_GPU_DRIVER_GH100_%s",
		    in->driver_version);
		break;
	case GPA_ARCH_BLACKWELL:
		/* NVIDIA falls back to GB100 when CHIP_INFO is absent. */
		snprintf(in->driver_rim_id, sizeof(in->driver_rim_id), "NV_GPU_CC_DRIVER_%s_%s",
		    in->chip_info[0] ? in->chip_info : "GB100", in->driver_version);
		break;
	case GPA_ARCH_LS10:
		/* 5612/0002/890 are NVIDIA's constants for LS10, not read from the report. */
		snprintf(in->vbios_rim_id, sizeof(in->vbios_rim_id), "NV_SWITCH_BIOS_5612_0002_890_%s", vb);
		return 0;
	case GPA_ARCH_RUBIN:
		/* NVIDIA 2.0 has no SWID RIM id for Rubin (its CoRIM ids are
		 * another scheme): an id made up here would fetch nothing, or
		 * worse, something else. */
		gpa_err_set(e, "no reference manifest scheme for Rubin in this version");
		return SPDM_ERR_UNSUPPORTED;
	default:
		gpa_err_set(e, "unsupported architecture %s", arch_name(arch));
		return -1;
	}
	snprintf(in->vbios_rim_id, sizeof(in->vbios_rim_id), "NV_GPU_VBIOS_%s_%s_%s_%s",
	    in->project, in->project_sku, in->chip_sku, vb);
	return 0;
}
