/*
 * spdm: the attestation report a GPU or NVSwitch returns, i.e. an SPDM 1.1
 * GET_MEASUREMENTS request (37 bytes) followed by the MEASUREMENTS response,
 * and the NVIDIA opaque data (TLV list) inside the response.
 *
 * Owns: parsing those bytes into views (pointers into the caller's buffer),
 * and deriving the identifiers NVIDIA builds from them (driver and VBIOS
 * versions, RIM ids, PDIs).
 *
 * Never: allocates while parsing, trusts a length field it has not checked
 * against the bytes that remain, or accepts bytes after the signature. The
 * caller's buffer must outlive the parsed structures.
 */
#ifndef GPA_SPDM_H
#define GPA_SPDM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define SPDM_VERSION_11		0x11
#define SPDM_GET_MEASUREMENTS	0xE0
#define SPDM_MEASUREMENTS	0x60
#define SPDM_REQUEST_LEN	37
#define SPDM_NONCE_LEN		32
#define SPDM_SIG_LEN		96	/* ECDSA P-384 raw r||s */
#define SPDM_MAX_BLOCKS		255
#define SPDM_DMTF_SPEC		0x01
#define GPA_FWID_LEN		48

enum gpa_device_kind {
	GPA_DEV_GPU,
	GPA_DEV_SWITCH,
};

struct spdm_request {
	uint8_t version;
	uint8_t code;
	uint8_t param1;
	uint8_t param2;
	const uint8_t *nonce;		/* 32 bytes */
	uint8_t slot_id;
};

struct spdm_block {
	uint8_t index;			/* SPDM index, 1-based */
	uint8_t spec;			/* MeasurementSpecification (0x01 DMTF) */
	uint16_t size;			/* MeasurementSize */
	uint8_t value_type;		/* DMTFSpecMeasurementValueType */
	uint16_t value_size;
	const uint8_t *value;
};

struct opaque_field {
	uint16_t type;
	uint16_t value_type;		/* NVDAOD value type; 0 in the legacy layout */
	uint16_t len;
	const uint8_t *value;
	size_t offset;			/* offset of the entry header in the report */
};

/* At most this many entries (ids are unique, so legacy data has at most
 * 36 known ones; NVDAOD may carry ids we do not know). */
#define OPAQUE_MAX_FIELDS 256

/* The two opaque-data layouts (§3.1 legacy TLVs, §16.1 versioned NVDAOD),
 * chosen by the magic, and the highest opaque-data version we read (NVIDIA
 * 2.0's MAX_OPAQUE_DATA_VERSION). */
enum opaque_layout {
	OPAQUE_LEGACY,
	OPAQUE_NVDAOD,
};
#define NVDAOD_MAGIC		"NVDAOD"
#define NVDAOD_HEADER_LEN	12
#define OPAQUE_MAX_VERSION	2
/* NVDAOD value type of a minimum-SVN-comparable u16 (§16.1). */
#define OPAQUE_VT_MIN_SVN	0x87

/* spdm_parse_report's return when the report is well formed up to an
 * opaque-data version newer than OPAQUE_MAX_VERSION: a verifier update is
 * needed, the evidence is not known to be bad. */
#define SPDM_ERR_UNSUPPORTED	(-2)

struct spdm_report {
	enum gpa_device_kind kind;
	size_t raw_len;

	struct spdm_request req;

	/* Response header. */
	uint8_t version;
	uint8_t code;
	uint8_t param1;
	uint8_t param2;
	uint8_t nblocks;
	uint32_t record_len;
	struct spdm_block blocks[SPDM_MAX_BLOCKS];
	const uint8_t *resp_nonce;	/* 32 bytes; not checked by anyone (see docs) */
	uint16_t opaque_len;
	const uint8_t *opaque;
	size_t opaque_offset;		/* offset of the opaque data in the report */
	const uint8_t *signature;	/* SPDM_SIG_LEN bytes */
	size_t signed_len;		/* raw_len - SPDM_SIG_LEN */

	/* Opaque-data layout. NVDAOD: the header's fields; the version is the
	 * header's major. Legacy: the version is OPAQUE_DATA_VERSION (GPU,
	 * absent: 0); switches have none (0). */
	enum opaque_layout layout;
	uint16_t od_profile;
	uint8_t od_major, od_minor, od_patch, od_pad;
	int opaque_version;

	int nfields;
	struct opaque_field fields[OPAQUE_MAX_FIELDS];
};

/* Parses a whole report, its opaque data in either layout. kind selects the
 * names and rules of the known opaque ids; unknown ids are kept raw (NVIDIA
 * 2.0). Returns 0; -1 with a message naming the field and its byte offset;
 * or SPDM_ERR_UNSUPPORTED, with a message, when everything up to the
 * opaque-data version parsed but that version is above OPAQUE_MAX_VERSION
 * (r then holds the header, and no entries when the layout is NVDAOD). */
int spdm_parse_report(const uint8_t *buf, size_t len, enum gpa_device_kind kind,
    struct spdm_report *r, struct gpa_err *e);

/* Block with SPDM index idx (1-based), or NULL. */
const struct spdm_block *spdm_block_by_index(const struct spdm_report *r, int idx);

/* Last opaque field of that type (NVIDIA keeps the last when a type
 * repeats; we refuse repeats at parse time, so it is also the only one). */
const struct opaque_field *opaque_get(const struct spdm_report *r, uint16_t type);

/* NVIDIA's name for an opaque type, e.g. "DRIVER_VERSION"; NULL for the
 * types NVIDIA has not named (callers print "TYPE_<n>"). */
const char *opaque_field_name(enum gpa_device_kind kind, uint16_t type);

/* "legacy" or "NVDAOD". */
const char *opaque_layout_name(enum opaque_layout l);
/* The NVDAOD value type a known id must carry (GPU, docs/decisions.md), or
 * -1 when any is accepted (unknown ids, ids not yet seen in NVDAOD data). */
int opaque_required_value_type(enum gpa_device_kind kind, uint16_t type);
/* A short description of a value type, e.g. "version", "min-svn u16". */
const char *opaque_value_type_name(uint16_t vt);

/* Parses the opaque data of r (r->opaque, r->opaque_len, r->opaque_offset
 * set) into r->fields; spdm_parse_report's last step (opaque.c). */
int opaque_parse(struct spdm_report *r, struct gpa_err *e);

/* Opaque type ids. GPU and NVSwitch share 1..21; 22..27 differ. */
enum {
	OPQ_CERT_ISSUER_NAME = 1,
	OPQ_CERT_AUTHORITY_KEY_IDENTIFIER = 2,
	OPQ_DRIVER_VERSION = 3,
	OPQ_GPU_INFO = 4,
	OPQ_SKU = 5,
	OPQ_VBIOS_VERSION = 6,
	OPQ_MANUFACTURER_ID = 7,
	OPQ_TAMPER_DETECTION = 8,
	OPQ_SMC = 9,
	OPQ_VPR = 10,
	OPQ_NVDEC0_STATUS = 11,
	OPQ_MSRSCNT = 12,
	OPQ_CPRINFO = 13,
	OPQ_BOARD_ID = 14,
	OPQ_CHIP_SKU = 15,
	OPQ_CHIP_SKU_MOD = 16,
	OPQ_PROJECT = 17,
	OPQ_PROJECT_SKU = 18,
	OPQ_PROJECT_SKU_MOD = 19,
	OPQ_FWID = 20,
	OPQ_PROTECTED_PCIE_STATUS = 21,
	OPQ_SWITCH_PDI = 22,		/* GPU: PDIs of the switches; switch: DEVICE_PDI */
	OPQ_FLOORSWEPT_PORTS = 23,	/* switch: DISABLED_PORTS */
	OPQ_POSITION_ID = 24,
	OPQ_LOCK_SWITCH_STATUS = 25,
	OPQ_SWITCH_GPU_PDIS = 26,	/* switch only */
	OPQ_SWITCH_PORTS = 27,
	OPQ_GPU_LINK_CONN = 32,
	OPQ_SYS_ENABLE_STATUS = 33,
	OPQ_OPAQUE_DATA_VERSION = 34,
	OPQ_CHIP_INFO = 35,
	OPQ_FEATURE_FLAG = 36,
	OPQ_FSP_UCODE_SVN = 37,		/* NVDAOD, value type 0x87, u16 LE */
};

#define NVDEC0_ENABLED	0xAA
#define NVDEC0_DISABLED	0x55
#define GPA_PDI_LEN	8
#define GPA_MAX_PDIS	64

/* Architecture, from the hwmodel of the device chain (authenticated), never
 * from the evidence file's "arch" string alone. */
enum gpa_arch {
	GPA_ARCH_UNKNOWN,
	GPA_ARCH_HOPPER,
	GPA_ARCH_BLACKWELL,
	GPA_ARCH_LS10,
	GPA_ARCH_RUBIN,		/* GR100 (NVIDIA 2.0): chain and FWID as Blackwell, no SWID RIM id */
};
const char *arch_name(enum gpa_arch a);	/* "HOPPER", "BLACKWELL", "RUBIN", "LS10", "UNKNOWN" */
/* From the evidence arch string (case-insensitive). */
enum gpa_arch arch_from_string(const char *s);
/* From NVML's architecture number (9 Hopper, 10 Blackwell; others unknown). */
enum gpa_arch arch_from_nvml(unsigned nvml_arch);
/* From the chain's hwmodel (CN of the BROM certificate), e.g. "GH100 A01 GSP BROM". */
enum gpa_arch arch_from_hwmodel(const char *hwmodel);

/* What the verifier derives from a parsed report (views and small strings). */
struct report_info {
	enum gpa_device_kind kind;
	char driver_version[64];	/* GPU; "" when absent */
	char vbios_version[64];		/* GPU: "96.00.9F.00.04"; switch: BIOS ASCII */
	char project[16], project_sku[16], chip_sku[16], chip_info[32];
	char driver_rim_id[128];	/* GPU only */
	char vbios_rim_id[128];		/* GPU VBIOS or switch BIOS RIM id */
	bool has_fwid;
	uint8_t fwid[GPA_FWID_LEN];
	int nvdec0;			/* -1 absent, else the byte */
	int ppcie_status;		/* -1 absent, else the byte */
	int opaque_version;		/* NVDAOD: header major; legacy: type 34, 0 when absent */
	int feature_flag;		/* -1 absent */
	enum opaque_layout layout;
	int fsp_ucode_svn;		/* id 37 (NVDAOD, 0x87), -1 absent */
	/* GPU: switch PDIs from type 22, byte-reversed to the switch's own
	 * order. Switch: own PDI (type 22) and GPU PDIs (type 26). */
	int npdis;
	uint8_t pdis[GPA_MAX_PDIS][GPA_PDI_LEN];
	bool has_device_pdi;
	uint8_t device_pdi[GPA_PDI_LEN];
	int ngpu_pdis;
	uint8_t gpu_pdis[8][GPA_PDI_LEN];
	int nports;
	const uint8_t *ports;
	int lock_status;		/* switch; -1 absent */
};

/* Fills info from a parsed report. Fails (with a message) when a field the
 * verifier needs is missing or malformed: GPU driver version, VBIOS
 * version, project / SKU / chip SKU, NVDEC0 status; switch BIOS version. */
int report_info_derive(const struct spdm_report *r, struct report_info *info, struct gpa_err *e);

/* Builds driver_rim_id / vbios_rim_id for an architecture (§4). Returns -1
 * when the architecture is not one we can verify, SPDM_ERR_UNSUPPORTED
 * (message "no reference manifest scheme for Rubin in this version") for
 * Rubin, for which NVIDIA defines no SWID RIM id (§16.4): never guessed. */
int report_rim_ids(struct report_info *info, enum gpa_arch arch, struct gpa_err *e);

/* NVIDIA's VBIOS version formatting of the 8-byte opaque field. */
int vbios_version_format(const uint8_t *b, size_t n, char *out, size_t outsz);

/* GPU mode from FEATURE_FLAG. NVIDIA's two implementations disagree about
 * 0 and 1 (see docs/decisions.md): we report "ppcie" for 2 and "cc" for 0/1
 * without guessing SPT vs MPT. */
const char *feature_flag_mode(int flag);

#endif
