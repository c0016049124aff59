/*
 * sim_core: what the simulated NVML and NSCQ libraries share. The JSON
 * configuration (env GPUATTEST_SIM_CONFIG) and its fault list, loading a
 * simulated device (key, chain, PDI, FWID) from the PKI that
 * sim/make-pki.sh wrote, the golden measurement values that
 * sim/make-rims.sh also computes, and SPDM 1.1 GET_MEASUREMENTS report
 * framing + signing.
 *
 * Owns: simulation only. Must never be linked into the verifier, and must
 * never produce anything that could pass as NVIDIA-signed evidence (every
 * key comes from the SIMULATION PKI).
 *
 * Everything here is hidden from the libraries' dynamic symbol tables (the
 * libraries are built with -fvisibility=hidden), so a verifier that
 * dlopens a simulator cannot bind to these names by accident.
 */
#ifndef GPA_SIM_CORE_H
#define GPA_SIM_CORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define SIM_EXPORT __attribute__((visibility("default")))
#define SIM_CONFIG_ENV "GPUATTEST_SIM_CONFIG"
#define SIM_MAX_DEVICES 64
#define SIM_PDI_LEN 8
#define SIM_FWID_LEN 48
#define SIM_DIGEST_LEN 48
#define SIM_NONCE_LEN 32
#define SIM_SIG_LEN 96
#define SIM_GPU_BLOCKS 64
#define SIM_SWITCH_BLOCKS 31
#define SIM_GPU_PDI_SLOTS 18 /* NVLinks per Hopper GPU: SWITCH_PDI has one entry each */
#define SIM_SWITCH_GPU_SLOTS 8

enum sim_fault_kind {
	SIM_FAULT_TAMPERED_MEASUREMENT,
	SIM_FAULT_IGNORE_NONCE,
	SIM_FAULT_BAD_SIGNATURE,
	SIM_FAULT_SWAPPED_CHAIN,
	SIM_FAULT_NVML_ERROR,
	SIM_FAULT_NO_FWID,
	SIM_FAULT_REPORT_DRIVER_VERSION,
	SIM_FAULT_NVML_ARCH,
	SIM_FAULT_MISSING_SWITCH,
	SIM_FAULT_FOREIGN_SWITCH,
	SIM_FAULT_GPU_WIRED_ELSEWHERE,
	SIM_FAULT_DUPLICATE_PDI,
	SIM_FAULT_LOCK_OFF,
	SIM_FAULT_TAMPERED_SWITCH_MEASUREMENT,
	SIM_FAULT_NSCQ_ERROR,
};

struct sim_fault {
	enum sim_fault_kind kind;
	int gpu;    /* -1: not given */
	int sw;     /* -1: not given */
	int index;  /* RIM index (0-based) for tampered_*; -1: not given */
	int code;   /* nvml_error / nscq_error return code */
	char function[64];
	char value[64];
};

struct sim_replay {
	uint8_t *report;
	size_t report_len;
	char *chain;
	size_t chain_len;
};

struct sim_config {
	char pki[PATH_MAX];
	unsigned gpus, switches;
	char driver_version[64];
	char nvml_driver_version[80];
	char vbios_version[32];   /* upper-cased "96.00.9F.00.04" */
	char nvml_vbios_version[32];	/* what NVML says, when not vbios_version */
	char project[8], project_sku[8], chip_sku[16];
	char switch_bios_version[32];
	/* GPU opaque data: legacy TLVs (default) or NVDAOD (drivers of CUDA
	 * 13.5 on): its header version, the FSP ucode SVN (id 37, value type
	 * 0x87) and one id nobody has named (value type 0x85), or 0 for none. */
	bool nvdaod;
	unsigned opaque_version, fsp_ucode_svn, unknown_opaque_id;
	unsigned cc_feature, multi_gpu_mode, dev_tools, environment, cpu_caps, gpus_caps;
	char ready_state_file[PATH_MAX];
	struct sim_fault *faults;
	size_t nfaults;
	struct sim_replay *replay;
	size_t nreplay;
};

/* Reads and validates the file named by $GPUATTEST_SIM_CONFIG. Returns 0,
 * -1 when the variable is unset or empty, -2 on any other error (message in
 * err). Relative paths in the file are taken relative to its directory. */
int sim_config_load(struct sim_config *c, char *err, size_t errlen);
void sim_config_free(struct sim_config *c);

/* First fault of this kind aimed at GPU g: "gpu" equal to g, or neither
 * "gpu" nor "switch" given (= every GPU). NULL if none. */
const struct sim_fault *sim_fault_for_gpu(const struct sim_config *c, enum sim_fault_kind k, unsigned g);
/* First fault of this kind aimed at switch s: "switch" equal to s, or (when
 * absent_matches) no "switch" given. */
const struct sim_fault *sim_fault_for_switch(const struct sim_config *c, enum sim_fault_kind k,
    unsigned s, bool absent_matches);
/* The injected return code for (function, device), or 0. device -1 = a
 * system-level call; a fault without "gpu"/"switch" hits every device. */
int sim_fault_error_code(const struct sim_config *c, enum sim_fault_kind k, const char *function,
    int device);

struct sim_device {
	EVP_PKEY *key;
	char *chain;
	size_t chain_len;
	uint8_t pdi[SIM_PDI_LEN];
	uint8_t fwid[SIM_FWID_LEN];
};

/* Loads <pki>/<kind><n>/{leaf.key,chain.pem,pdi,fwid}. 0 or -1 with err. */
int sim_device_load(const char *pki, const char *kind, unsigned n, struct sim_device *d,
    char *err, size_t errlen);
void sim_device_free(struct sim_device *d);
/* Reads only the PDI of <pki>/<kind><n>. */
int sim_pdi_load(const char *pki, const char *kind, unsigned n, uint8_t pdi[SIM_PDI_LEN],
    char *err, size_t errlen);

/* Golden values shared with sim/make-rims.sh. */
unsigned sim_alternatives(const char *component, unsigned index);
void sim_golden(const char *component, const char *version, unsigned index, unsigned alt,
    uint8_t out[SIM_DIGEST_LEN]);
void sim_sha384_str(const char *s, uint8_t out[SIM_DIGEST_LEN]);

/* Growable byte buffer; after an allocation failure it stays failed. */
struct sim_buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};
void buf_put(struct sim_buf *b, const void *data, size_t n);
void buf_u8(struct sim_buf *b, uint8_t v);
void buf_u16le(struct sim_buf *b, uint16_t v);
void buf_u32le(struct sim_buf *b, uint32_t v);
/* One opaque-data record: type, length (LE u16 each), value. */
void buf_tlv(struct sim_buf *b, uint16_t type, const void *data, size_t n);
/* One opaque entry: a legacy TLV, or with nvdaod an NVDAOD entry (type,
 * value type, size, data). */
void buf_entry(struct sim_buf *b, bool nvdaod, uint16_t type, uint16_t value_type,
    const void *data, size_t n);
void buf_free(struct sim_buf *b);

struct sim_spdm {
	const uint8_t *request_nonce;          /* 32 bytes, copied into the request */
	const uint8_t (*values)[SIM_DIGEST_LEN]; /* nblocks measurement values */
	unsigned nblocks;
	const uint8_t *opaque;
	size_t opaque_len;
	EVP_PKEY *key;
	bool corrupt_signature;
};
/* Request ‖ response ‖ signature into out (reset first). 0 or -1. */
int sim_spdm_build(const struct sim_spdm *s, struct sim_buf *out);

/* Whole regular file, at most max bytes, NUL-terminated (not counted). */
int sim_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);
/* Reads a recorded report: raw bytes, or one line of hex text. */
int sim_read_report(const char *path, uint8_t **buf, size_t *len);

void sim_hex(const uint8_t *in, size_t n, char *out, bool upper);
int sim_random(void *buf, size_t n);

#endif
