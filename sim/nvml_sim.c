/*
 * nvml_sim: a SIMULATED libnvidia-ml exporting the NVML symbols a
 * confidential-computing attestation client uses (fact sheet §9.1), with
 * NVIDIA's exact ABI (src/collect/nvml_abi.h). It emulates N Hopper GPUs in
 * CC mode, each with its own key and chain from the SIMULATION PKI, and
 * answers attestation-report requests with an SPDM 1.1 GET_MEASUREMENTS
 * request ‖ response signed by that GPU's leaf key over the caller's nonce.
 * Configured at nvmlInit from $GPUATTEST_SIM_CONFIG (see sim_core.h and
 * sim/README in the report); faults in that file make it misbehave on
 * purpose so the verifier's checks can be tested.
 *
 * Owns: simulation only. Must never be installed where a real driver is
 * expected; everything it signs chains to the SIMULATION root.
 *
 * Threads: the report and certificate calls may run concurrently; shared
 * state is only read under a read lock, init/shutdown/ready-state take the
 * write lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/nvml_abi.h"
#include "sim_core.h"

/* Our definitions are checked against the ABI's function types. */
SIM_EXPORT nvmlInit_v2_ft nvmlInit_v2;
SIM_EXPORT nvmlInit_ft nvmlInit;
SIM_EXPORT nvmlShutdown_ft nvmlShutdown;
SIM_EXPORT nvmlErrorString_ft nvmlErrorString;
SIM_EXPORT nvmlSystemGetConfComputeState_ft nvmlSystemGetConfComputeState;
SIM_EXPORT nvmlSystemGetConfComputeSettings_ft nvmlSystemGetConfComputeSettings;
SIM_EXPORT nvmlSystemGetConfComputeCapabilities_ft nvmlSystemGetConfComputeCapabilities;
SIM_EXPORT nvmlSystemGetConfComputeGpusReadyState_ft nvmlSystemGetConfComputeGpusReadyState;
SIM_EXPORT nvmlSystemSetConfComputeGpusReadyState_ft nvmlSystemSetConfComputeGpusReadyState;
SIM_EXPORT nvmlSystemGetDriverVersion_ft nvmlSystemGetDriverVersion;
SIM_EXPORT nvmlDeviceGetCount_ft nvmlDeviceGetCount;
SIM_EXPORT nvmlDeviceGetCount_v2_ft nvmlDeviceGetCount_v2;
SIM_EXPORT nvmlDeviceGetHandleByIndex_ft nvmlDeviceGetHandleByIndex;
SIM_EXPORT nvmlDeviceGetHandleByIndex_v2_ft nvmlDeviceGetHandleByIndex_v2;
SIM_EXPORT nvmlDeviceGetArchitecture_ft nvmlDeviceGetArchitecture;
SIM_EXPORT nvmlDeviceGetBoardId_ft nvmlDeviceGetBoardId;
SIM_EXPORT nvmlDeviceGetUUID_ft nvmlDeviceGetUUID;
SIM_EXPORT nvmlDeviceGetName_ft nvmlDeviceGetName;
SIM_EXPORT nvmlDeviceGetVbiosVersion_ft nvmlDeviceGetVbiosVersion;
SIM_EXPORT nvmlDeviceGetConfComputeGpuCertificate_ft nvmlDeviceGetConfComputeGpuCertificate;
SIM_EXPORT nvmlDeviceGetConfComputeGpuAttestationReport_ft nvmlDeviceGetConfComputeGpuAttestationReport;

#define GPU_NAME "NVIDIA H100 80GB HBM3"
#define OPAQUE_BOARD_ID 0x0508u
#define GPU_INFO_HOPPER 0x180u

struct nvmlDevice_st {
	unsigned index;
};

static pthread_rwlock_t g_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct {
	unsigned refs;
	struct sim_config cfg;
	struct sim_device *gpu;     /* cfg.gpus entries; unused in replay mode */
	uint8_t (*sw_pdi)[SIM_PDI_LEN];
	unsigned nsw;
	struct nvmlDevice_st handles[SIM_MAX_DEVICES];
	unsigned ready_in_memory;
} g;

static void sim_log(const char *msg)
{
	fprintf(stderr, "gpuattest nvml simulator: %s\n", msg);
}

/* ---------------- init / shutdown ---------------- */

static void release_state(void)
{
	if (g.gpu != NULL)
		for (unsigned i = 0; i < g.cfg.gpus; i++)
			sim_device_free(&g.gpu[i]);
	free(g.gpu);
	free(g.sw_pdi);
	sim_config_free(&g.cfg);
	g.gpu = NULL;
	g.sw_pdi = NULL;
	g.nsw = 0;
}

static int load_devices(char *err, size_t errlen)
{
	const struct sim_config *c = &g.cfg;

	if (c->nreplay == 0 && c->gpus > 0) {
		g.gpu = calloc(c->gpus, sizeof(*g.gpu));
		if (g.gpu == NULL)
			return -1;
		for (unsigned i = 0; i < c->gpus; i++)
			if (sim_device_load(c->pki, "gpu", i, &g.gpu[i], err, errlen) != 0)
				return -1;
		if (c->gpus < 2 && sim_fault_for_gpu(c, SIM_FAULT_SWAPPED_CHAIN, 0) != NULL) {
			snprintf(err, errlen, "fault swapped_chain needs at least 2 GPUs");
			return -1;
		}
	}
	if (c->switches > 0 && c->nreplay == 0) {
		g.sw_pdi = calloc(c->switches, sizeof(*g.sw_pdi));
		if (g.sw_pdi == NULL)
			return -1;
		for (unsigned i = 0; i < c->switches; i++)
			if (sim_pdi_load(c->pki, "switch", i, g.sw_pdi[i], err, errlen) != 0)
				return -1;
		g.nsw = c->switches;
	}
	for (unsigned i = 0; i < SIM_MAX_DEVICES; i++)
		g.handles[i].index = i;
	return 0;
}

static nvmlReturn_t init_locked(void)
{
	char err[1024] = "";
	int rc, code;

	if (g.refs > 0) {
		g.refs++;
		return NVML_SUCCESS;
	}
	rc = sim_config_load(&g.cfg, err, sizeof(err));
	if (rc == -1)
		return NVML_ERROR_DRIVER_NOT_LOADED;
	if (rc != 0) {
		sim_log(err);
		return NVML_ERROR_UNKNOWN;
	}
	code = sim_fault_error_code(&g.cfg, SIM_FAULT_NVML_ERROR, "nvmlInit_v2", -1);
	if (code == 0)
		code = sim_fault_error_code(&g.cfg, SIM_FAULT_NVML_ERROR, "nvmlInit", -1);
	if (code != 0) {
		release_state();
		return (nvmlReturn_t)code;
	}
	if (load_devices(err, sizeof(err)) != 0) {
		sim_log(err[0] ? err : "out of memory");
		release_state();
		return NVML_ERROR_UNKNOWN;
	}
	g.refs = 1;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlInit_v2(void)
{
	nvmlReturn_t rc;

	pthread_rwlock_wrlock(&g_lock);
	rc = init_locked();
	pthread_rwlock_unlock(&g_lock);
	return rc;
}

nvmlReturn_t nvmlInit(void)
{
	return nvmlInit_v2();
}

nvmlReturn_t nvmlShutdown(void)
{
	nvmlReturn_t rc = NVML_SUCCESS;

	pthread_rwlock_wrlock(&g_lock);
	if (g.refs == 0)
		rc = NVML_ERROR_UNINITIALIZED;
	else if (--g.refs == 0)
		release_state();
	pthread_rwlock_unlock(&g_lock);
	return rc;
}

const char *nvmlErrorString(nvmlReturn_t result)
{
	switch (result) {
	case NVML_SUCCESS: return "Success";
	case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
	case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
	case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
	case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
	case NVML_ERROR_ALREADY_INITIALIZED: return "Already Initialized";
	case NVML_ERROR_NOT_FOUND: return "Not Found";
	case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
	case NVML_ERROR_INSUFFICIENT_POWER: return "Insufficient External Power";
	case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
	case NVML_ERROR_TIMEOUT: return "Timeout";
	case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
	case NVML_ERROR_MEMORY: return "Insufficient Memory";
	case NVML_ERROR_ARGUMENT_VERSION_MISMATCH: return "Argument version mismatch";
	case NVML_ERROR_UNKNOWN: return "Unknown Error";
	default: return "Unknown Error";
	}
}

/* ---------------- entry guards ---------------- */

/* Takes the read lock; fails (and releases it) when not initialised or when a
 * fault injects an error for this function. device -1 = system call. */
static nvmlReturn_t enter(const char *function, int device)
{
	int code;

	pthread_rwlock_rdlock(&g_lock);
	if (g.refs == 0) {
		pthread_rwlock_unlock(&g_lock);
		return NVML_ERROR_UNINITIALIZED;
	}
	code = sim_fault_error_code(&g.cfg, SIM_FAULT_NVML_ERROR, function, device);
	if (code != 0) {
		pthread_rwlock_unlock(&g_lock);
		return (nvmlReturn_t)code;
	}
	return NVML_SUCCESS;
}

static nvmlReturn_t leave(nvmlReturn_t rc)
{
	pthread_rwlock_unlock(&g_lock);
	return rc;
}

/* A handle is valid only if it is one of ours and names a configured GPU. */
static int device_index(nvmlDevice_t d)
{
	for (unsigned i = 0; i < g.cfg.gpus; i++)
		if (d == &g.handles[i])
			return (int)i;
	return -1;
}

/* enter() for device calls: validates the handle, then looks up faults
 * aimed at this GPU (or at every GPU). */
static nvmlReturn_t enter_device(const char *function, nvmlDevice_t d, int *idx)
{
	int code;

	pthread_rwlock_rdlock(&g_lock);
	if (g.refs == 0)
		return leave(NVML_ERROR_UNINITIALIZED);
	*idx = device_index(d);
	if (*idx < 0)
		return leave(NVML_ERROR_INVALID_ARGUMENT);
	code = sim_fault_error_code(&g.cfg, SIM_FAULT_NVML_ERROR, function, *idx);
	if (code != 0)
		return leave((nvmlReturn_t)code);
	return NVML_SUCCESS;
}

static nvmlReturn_t copy_string(const char *s, char *out, unsigned int length)
{
	size_t n = strlen(s);

	if (out == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (length < n + 1)
		return NVML_ERROR_INSUFFICIENT_SIZE;
	memcpy(out, s, n + 1);
	return NVML_SUCCESS;
}

/* ---------------- system calls ---------------- */

nvmlReturn_t nvmlSystemGetConfComputeState(nvmlConfComputeSystemState_t *state)
{
	nvmlReturn_t rc = enter(__func__, -1);

	if (rc != NVML_SUCCESS)
		return rc;
	if (state == NULL)
		return leave(NVML_ERROR_INVALID_ARGUMENT);
	state->environment = g.cfg.environment;
	state->ccFeature = g.cfg.cc_feature;
	state->devToolsMode = g.cfg.dev_tools;
	return leave(NVML_SUCCESS);
}

nvmlReturn_t nvmlSystemGetConfComputeSettings(nvmlSystemConfComputeSettings_t *settings)
{
	nvmlReturn_t rc = enter(__func__, -1);

	if (rc != NVML_SUCCESS)
		return rc;
	if (settings == NULL)
		return leave(NVML_ERROR_INVALID_ARGUMENT);
	if (settings->version != nvmlSystemConfComputeSettings_v1)
		return leave(NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
	settings->environment = g.cfg.environment;
	settings->ccFeature = g.cfg.cc_feature;
	settings->devToolsMode = g.cfg.dev_tools;
	settings->multiGpuMode = g.cfg.multi_gpu_mode;
	return leave(NVML_SUCCESS);
}

nvmlReturn_t nvmlSystemGetConfComputeCapabilities(nvmlConfComputeSystemCaps_t *caps)
{
	nvmlReturn_t rc = enter(__func__, -1);

	if (rc != NVML_SUCCESS)
		return rc;
	if (caps == NULL)
		return leave(NVML_ERROR_INVALID_ARGUMENT);
	caps->cpuCaps = g.cfg.cpu_caps;
	caps->gpusCaps = g.cfg.gpus_caps;
	return leave(NVML_SUCCESS);
}

/* Ready state lives in a file so that separate processes (attest, then a
 * later check) see the same value, as they would on a real host. */
static nvmlReturn_t read_ready_state(unsigned *state)
{
	uint8_t *buf;
	size_t len;

	if (g.cfg.ready_state_file[0] == '\0') {
		*state = g.ready_in_memory;
		return NVML_SUCCESS;
	}
	if (access(g.cfg.ready_state_file, F_OK) != 0) {
		*state = NVML_CC_ACCEPTING_CLIENT_REQUESTS_FALSE;
		return NVML_SUCCESS;
	}
	if (sim_read_file(g.cfg.ready_state_file, 16, &buf, &len) != 0)
		return NVML_ERROR_UNKNOWN;
	if (len >= 1 && (buf[0] == '0' || buf[0] == '1') && (len == 1 || (len == 2 && buf[1] == '\n'))) {
		*state = (unsigned)(buf[0] - '0');
		free(buf);
		return NVML_SUCCESS;
	}
	free(buf);
	return NVML_ERROR_UNKNOWN;
}

static nvmlReturn_t write_ready_state(unsigned state)
{
	char tmp[PATH_MAX + 32];
	FILE *f;

	if (g.cfg.ready_state_file[0] == '\0') {
		g.ready_in_memory = state;
		return NVML_SUCCESS;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", g.cfg.ready_state_file, (long)getpid());
	f = fopen(tmp, "w");
	if (f == NULL)
		return NVML_ERROR_NO_PERMISSION;
	if (fprintf(f, "%u\n", state) < 0 || fclose(f) != 0 || rename(tmp, g.cfg.ready_state_file) != 0) {
		unlink(tmp);
		return NVML_ERROR_UNKNOWN;
	}
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlSystemGetConfComputeGpusReadyState(unsigned int *isAcceptingWork)
{
	nvmlReturn_t rc = enter(__func__, -1);

	if (rc != NVML_SUCCESS)
		return rc;
	if (isAcceptingWork == NULL)
		return leave(NVML_ERROR_INVALID_ARGUMENT);
	return leave(read_ready_state(isAcceptingWork));
}

nvmlReturn_t nvmlSystemSetConfComputeGpusReadyState(unsigned int isAcceptingWork)
{
	nvmlReturn_t rc = enter(__func__, -1);

	if (rc != NVML_SUCCESS)
		return rc;
	if (isAcceptingWork > NVML_CC_ACCEPTING_CLIENT_REQUESTS_TRUE)
		return leave(NVML_ERROR_INVALID_ARGUMENT);
	/* Upgrade to the write lock: ready state is the one mutable thing. */
	pthread_rwlock_unlock(&g_lock);
	pthread_rwlock_wrlock(&g_lock);
	if (g.refs == 0)
		return leave(NVML_ERROR_UNINITIALIZED);
	return leave(write_ready_state(isAcceptingWork));
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
	nvmlReturn_t rc = enter(__func__, -1);

	if (rc != NVML_SUCCESS)
		return rc;
	return leave(copy_string(g.cfg.nvml_driver_version[0] ? g.cfg.nvml_driver_version
	    : g.cfg.driver_version, version, length));
}

static nvmlReturn_t device_count(const char *function, unsigned int *deviceCount)
{
	nvmlReturn_t rc = enter(function, -1);

	if (rc != NVML_SUCCESS)
		return rc;
	if (deviceCount == NULL)
		return leave(NVML_ERROR_INVALID_ARGUMENT);
	*deviceCount = g.cfg.gpus;
	return leave(NVML_SUCCESS);
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount)
{
	return device_count("nvmlDeviceGetCount_v2", deviceCount);
}

nvmlReturn_t nvmlDeviceGetCount(unsigned int *deviceCount)
{
	return device_count("nvmlDeviceGetCount", deviceCount);
}

static nvmlReturn_t handle_by_index(const char *function, unsigned int index, nvmlDevice_t *device)
{
	nvmlReturn_t rc = enter(function, -1);
	int code;

	if (rc != NVML_SUCCESS)
		return rc;
	if (device == NULL || index >= g.cfg.gpus)
		return leave(NVML_ERROR_INVALID_ARGUMENT);
	code = sim_fault_error_code(&g.cfg, SIM_FAULT_NVML_ERROR, function, (int)index);
	if (code != 0)
		return leave((nvmlReturn_t)code);
	*device = &g.handles[index];
	return leave(NVML_SUCCESS);
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
	return handle_by_index("nvmlDeviceGetHandleByIndex_v2", index, device);
}

nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device)
{
	return handle_by_index("nvmlDeviceGetHandleByIndex", index, device);
}

/* ---------------- device calls ---------------- */

nvmlReturn_t nvmlDeviceGetArchitecture(nvmlDevice_t device, unsigned int *arch)
{
	int i;
	nvmlReturn_t rc = enter_device(__func__, device, &i);

	if (rc != NVML_SUCCESS)
		return rc;
	if (arch == NULL)
		return leave(NVML_ERROR_INVALID_ARGUMENT);
	const struct sim_fault *f = sim_fault_for_gpu(&g.cfg, SIM_FAULT_NVML_ARCH, (unsigned)i);
	*arch = f != NULL ? (unsigned)strtoul(f->value, NULL, 10) : NVML_DEVICE_ARCH_HOPPER;
	return leave(NVML_SUCCESS);
}

nvmlReturn_t nvmlDeviceGetBoardId(nvmlDevice_t device, unsigned int *boardId)
{
	int i;
	nvmlReturn_t rc = enter_device(__func__, device, &i);

	if (rc != NVML_SUCCESS)
		return rc;
	if (boardId == NULL)
		return leave(NVML_ERROR_INVALID_ARGUMENT);
	*boardId = 0x100u * (unsigned)(i + 1);
	return leave(NVML_SUCCESS);
}

/* "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", stable per simulated GPU. */
static void gpu_uuid(unsigned i, char out[48])
{
	uint8_t h[SIM_DIGEST_LEN];
	char seed[96], x[33];

	if (g.cfg.nreplay == 0) {
		char pdi[17];
		sim_hex(g.gpu[i].pdi, SIM_PDI_LEN, pdi, true);
		snprintf(seed, sizeof(seed), "gpuattest-sim|uuid|%s", pdi);
	} else {
		snprintf(seed, sizeof(seed), "gpuattest-sim|uuid|replay|%u", i);
	}
	sim_sha384_str(seed, h);
	sim_hex(h, 16, x, false);
	snprintf(out, 48, "GPU-%.8s-%.4s-%.4s-%.4s-%.12s", x, x + 8, x + 12, x + 16, x + 20);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length)
{
	char s[48];
	int i;
	nvmlReturn_t rc = enter_device(__func__, device, &i);

	if (rc != NVML_SUCCESS)
		return rc;
	gpu_uuid((unsigned)i, s);
	return leave(copy_string(s, uuid, length));
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length)
{
	int i;
	nvmlReturn_t rc = enter_device(__func__, device, &i);

	if (rc != NVML_SUCCESS)
		return rc;
	return leave(copy_string(GPU_NAME, name, length));
}

nvmlReturn_t nvmlDeviceGetVbiosVersion(nvmlDevice_t device, char *version, unsigned int length)
{
	int i;
	nvmlReturn_t rc = enter_device(__func__, device, &i);

	if (rc != NVML_SUCCESS)
		return rc;
	return leave(copy_string(g.cfg.nvml_vbios_version[0] ? g.cfg.nvml_vbios_version : g.cfg.vbios_version,
	    version, length));
}

static const struct sim_device *chain_source(unsigned i)
{
	if (sim_fault_for_gpu(&g.cfg, SIM_FAULT_SWAPPED_CHAIN, i) != NULL)
		return &g.gpu[(i + 1) % g.cfg.gpus];
	return &g.gpu[i];
}

nvmlReturn_t nvmlDeviceGetConfComputeGpuCertificate(nvmlDevice_t device, nvmlConfComputeGpuCertificate_t *cert)
{
	const char *chain;
	size_t len;
	int i;
	nvmlReturn_t rc = enter_device(__func__, device, &i);

	if (rc != NVML_SUCCESS)
		return rc;
	if (cert == NULL)
		return leave(NVML_ERROR_INVALID_ARGUMENT);
	if (g.cfg.nreplay > 0) {
		chain = g.cfg.replay[i].chain;
		len = g.cfg.replay[i].chain_len;
	} else {
		chain = chain_source((unsigned)i)->chain;
		len = chain_source((unsigned)i)->chain_len;
	}
	if (len > sizeof(cert->attestationCertChain))
		return leave(NVML_ERROR_INSUFFICIENT_SIZE);
	memset(cert, 0, sizeof(*cert));
	memcpy(cert->attestationCertChain, chain, len);
	cert->attestationCertChainSize = (unsigned)len;
	return leave(NVML_SUCCESS);
}

/* ---------------- the attestation report ---------------- */

/* RIM index k -> block k+1. Active indices carry the golden value of the RIM
 * that covers them (alternative gpu % n, so different GPUs exercise
 * different alternatives); 13..20 carry stable junk; the rest are zero. */
static void gpu_measurements(unsigned gpu, uint8_t values[SIM_GPU_BLOCKS][SIM_DIGEST_LEN], uint32_t counts[])
{
	for (unsigned k = 0; k < SIM_GPU_BLOCKS; k++) {
		unsigned nd = sim_alternatives("driver", k), nv = sim_alternatives("vbios", k);
		char seed[64];

		counts[k] = 1;
		if (nd > 0) {
			sim_golden("driver", g.cfg.driver_version, k, gpu % nd, values[k]);
		} else if (nv > 0) {
			sim_golden("vbios", g.cfg.vbios_version, k, gpu % nv, values[k]);
		} else if (k >= 13 && k <= 20) {
			snprintf(seed, sizeof(seed), "gpuattest-sim|unmeasured|%u", k);
			sim_sha384_str(seed, values[k]);
		} else {
			memset(values[k], 0, SIM_DIGEST_LEN);
			counts[k] = 0;
		}
	}
	for (size_t f = 0; f < g.cfg.nfaults; f++) {
		const struct sim_fault *ft = &g.cfg.faults[f];
		if (ft->kind == SIM_FAULT_TAMPERED_MEASUREMENT && (ft->gpu < 0 || ft->gpu == (int)gpu))
			values[ft->index][0] ^= 0xFF;
	}
}

/* "96.00.9F.00.04" -> b3.b2.b1.b0.b4 (fact sheet §4.2, inverted). */
static void vbios_bytes(const char *v, uint8_t out[8])
{
	unsigned x[5] = { 0 };

	sscanf(v, "%2x.%2x.%2x.%2x.%2x", &x[0], &x[1], &x[2], &x[3], &x[4]);
	memset(out, 0, 8);
	out[3] = (uint8_t)x[0];
	out[2] = (uint8_t)x[1];
	out[1] = (uint8_t)x[2];
	out[0] = (uint8_t)x[3];
	out[4] = (uint8_t)x[4];
}

/* An entry of the configured layout; value types as NVIDIA's drivers send
 * them in NVDAOD data (attestation-formats.md §16.1). */
static void ent(struct sim_buf *b, uint16_t type, uint16_t vt, const void *data, size_t n)
{
	buf_entry(b, g.cfg.nvdaod, type, vt, data, n);
}

static void put_padded(struct sim_buf *b, uint16_t type, const char *s, size_t width)
{
	char tmp[16] = { 0 };

	memcpy(tmp, s, strlen(s) < width ? strlen(s) : width - 1);
	ent(b, type, 0x82, tmp, width);
}

/* 18 NVLink slots, each the PDI of a switch byte-reversed, as a Hopper GPU
 * reports them. Topology faults swap in a PDI no real switch has. */
static void switch_pdis(unsigned gpu, uint8_t out[SIM_GPU_PDI_SLOTS * SIM_PDI_LEN])
{
	bool foreign_last = sim_fault_for_gpu(&g.cfg, SIM_FAULT_FOREIGN_SWITCH, gpu) != NULL;
	const struct sim_fault *elsewhere = sim_fault_for_gpu(&g.cfg, SIM_FAULT_GPU_WIRED_ELSEWHERE, gpu);

	memset(out, 0, SIM_GPU_PDI_SLOTS * SIM_PDI_LEN);
	if (g.nsw == 0)
		return;
	for (unsigned slot = 0; slot < SIM_GPU_PDI_SLOTS; slot++) {
		unsigned s = slot % g.nsw;
		uint8_t pdi[SIM_PDI_LEN];

		memcpy(pdi, g.sw_pdi[s], SIM_PDI_LEN);
		if (foreign_last && s == g.nsw - 1)
			for (unsigned j = 0; j < SIM_PDI_LEN; j++)
				pdi[j] ^= 0x5A;
		if (elsewhere != NULL && elsewhere->gpu == (int)gpu && s == 0)
			for (unsigned j = 0; j < SIM_PDI_LEN; j++)
				pdi[j] ^= 0xA5;
		for (unsigned j = 0; j < SIM_PDI_LEN; j++)
			out[slot * SIM_PDI_LEN + j] = pdi[SIM_PDI_LEN - 1 - j];
	}
}

/* NVDAOD: "NVDAOD", profile 0, version major.0.0, padding. */
static void nvdaod_header(struct sim_buf *b)
{
	uint8_t h[12] = { 'N', 'V', 'D', 'A', 'O', 'D', 0, 0, (uint8_t)g.cfg.opaque_version, 0, 0, 0 };

	buf_put(b, h, sizeof(h));
}

static void gpu_opaque(unsigned gpu, const uint32_t counts[SIM_GPU_BLOCKS], struct sim_buf *b)
{
	const struct sim_fault *drv = sim_fault_for_gpu(&g.cfg, SIM_FAULT_REPORT_DRIVER_VERSION, gpu);
	const char *driver = drv ? drv->value : g.cfg.driver_version;
	uint8_t vb[8], pdis[SIM_GPU_PDI_SLOTS * SIM_PDI_LEN];
	uint8_t u32[4] = { OPAQUE_BOARD_ID & 0xff, OPAQUE_BOARD_ID >> 8, 0, 0 };
	uint8_t info[8] = { GPU_INFO_HOPPER & 0xff, GPU_INFO_HOPPER >> 8, 0, 0, 0, 0, 0, 0 };
	static const uint8_t cprinfo[4] = { 0x00, 0xc0, 0x01, 0x00 }, zero2[2] = { 0, 0 };
	static const uint8_t nvle[2] = { 0xAA, 0x00 };
	bool ppcie = g.cfg.multi_gpu_mode == NVML_CC_SYSTEM_MULTIGPU_PROTECTED_PCIE;
	uint8_t nvdec = 0x55, ppcie_status = ppcie ? 0xAA : 0x55;
	/* NVDAOD drivers send 00 02 in the (ignored) legacy version entry. */
	uint8_t version[2] = { g.cfg.nvdaod ? 0 : 1, g.cfg.nvdaod ? 2 : 0 }, feature[2] = { ppcie ? 2 : 0, 0 };
	uint8_t svn[2] = { (uint8_t)g.cfg.fsp_ucode_svn, (uint8_t)(g.cfg.fsp_ucode_svn >> 8) };
	struct sim_buf cnt = { 0 };

	if (g.cfg.nvdaod)
		nvdaod_header(b);
	vbios_bytes(g.cfg.vbios_version, vb);
	ent(b, 6, 0x86, vb, sizeof(vb));
	ent(b, 14, 0x82, u32, sizeof(u32));
	put_padded(b, 15, g.cfg.chip_sku, 9);
	put_padded(b, 16, "0", 5);
	put_padded(b, 17, g.cfg.project, 5);
	put_padded(b, 18, g.cfg.project_sku, 5);
	ent(b, 19, 0x82, zero2, sizeof(zero2));
	ent(b, 3, 0x86, driver, strlen(driver) + 1);
	ent(b, 4, 0x82, info, sizeof(info));
	for (unsigned k = 0; k < SIM_GPU_BLOCKS; k++)
		buf_u32le(&cnt, counts[k]);
	ent(b, 12, 0x84, cnt.p, cnt.len);
	b->failed |= cnt.failed;
	buf_free(&cnt);
	ent(b, 13, 0x83, cprinfo, sizeof(cprinfo));
	ent(b, 11, 0x82, &nvdec, 1);
	if (g.cfg.nvdaod)
		ent(b, 37, 0x87, svn, sizeof(svn));
	if (sim_fault_for_gpu(&g.cfg, SIM_FAULT_NO_FWID, gpu) == NULL)
		ent(b, 20, 0x01, g.gpu[gpu].fwid, SIM_FWID_LEN);
	ent(b, 21, 0x85, &ppcie_status, 1);
	switch_pdis(gpu, pdis);
	ent(b, 22, 0x82, pdis, sizeof(pdis));
	ent(b, 34, 0x86, version, sizeof(version));
	ent(b, 36, 0x85, feature, sizeof(feature));
	if (g.cfg.nvdaod && g.cfg.unknown_opaque_id != 0)
		ent(b, (uint16_t)g.cfg.unknown_opaque_id, 0x85, nvle, sizeof(nvle));
}

static int build_gpu_report(unsigned gpu, const uint8_t nonce[SIM_NONCE_LEN], struct sim_buf *out)
{
	uint8_t values[SIM_GPU_BLOCKS][SIM_DIGEST_LEN], other_nonce[SIM_NONCE_LEN];
	uint32_t counts[SIM_GPU_BLOCKS];
	struct sim_buf opaque = { 0 };
	struct sim_spdm s;
	int rc;

	if (sim_fault_for_gpu(&g.cfg, SIM_FAULT_IGNORE_NONCE, gpu) != NULL) {
		/* A device that ignores the caller signs a nonce of its own. */
		if (sim_random(other_nonce, sizeof(other_nonce)) != 0)
			return -1;
		nonce = other_nonce;
	}
	gpu_measurements(gpu, values, counts);
	gpu_opaque(gpu, counts, &opaque);
	if (opaque.failed) {
		buf_free(&opaque);
		return -1;
	}
	s.request_nonce = nonce;
	s.values = (const uint8_t (*)[SIM_DIGEST_LEN])values;
	s.nblocks = SIM_GPU_BLOCKS;
	s.opaque = opaque.p;
	s.opaque_len = opaque.len;
	s.key = g.gpu[gpu].key;
	s.corrupt_signature = sim_fault_for_gpu(&g.cfg, SIM_FAULT_BAD_SIGNATURE, gpu) != NULL;
	rc = sim_spdm_build(&s, out);
	buf_free(&opaque);
	return rc;
}

nvmlReturn_t nvmlDeviceGetConfComputeGpuAttestationReport(nvmlDevice_t device,
    nvmlConfComputeGpuAttestationReport_t *report)
{
	uint8_t nonce[SIM_NONCE_LEN];
	struct sim_buf out = { 0 };
	int i;
	nvmlReturn_t rc = enter_device(__func__, device, &i);

	if (rc != NVML_SUCCESS)
		return rc;
	if (report == NULL)
		return leave(NVML_ERROR_INVALID_ARGUMENT);
	memcpy(nonce, report->nonce, sizeof(nonce));
	if (g.cfg.nreplay > 0) {
		buf_put(&out, g.cfg.replay[i].report, g.cfg.replay[i].report_len);
	} else if (build_gpu_report((unsigned)i, nonce, &out) != 0) {
		buf_free(&out);
		return leave(NVML_ERROR_UNKNOWN);
	}
	if (out.failed || out.len > sizeof(report->attestationReport)) {
		buf_free(&out);
		return leave(out.failed ? NVML_ERROR_MEMORY : NVML_ERROR_INSUFFICIENT_SIZE);
	}
	report->isCecAttestationReportPresent = NVML_CC_CEC_ATTESTATION_REPORT_NOT_PRESENT;
	report->cecAttestationReportSize = 0;
	memset(report->cecAttestationReport, 0, sizeof(report->cecAttestationReport));
	memset(report->attestationReport, 0, sizeof(report->attestationReport));
	memcpy(report->attestationReport, out.p, out.len);
	report->attestationReportSize = (unsigned)out.len;
	buf_free(&out);
	return leave(NVML_SUCCESS);
}
