/*
 * nvml_abi: the slice of NVIDIA's NVML C ABI that attestation needs (types,
 * constants, struct layouts and one function type per symbol), declared once
 * for both the verifier (which dlopens libnvidia-ml.so.1) and the simulator
 * (which exports these symbols). Values and layouts are NVIDIA's public ones
 * (fact sheet §9.1); the _Static_asserts pin the struct sizes so a layout
 * slip fails the build instead of corrupting a caller's stack.
 *
 * Owns: declarations only. Must never contain function definitions or
 * declarations of the NVML symbols themselves (a client resolves them with
 * dlsym into the pointer types below; the simulator declares its own).
 */
#ifndef GPA_NVML_ABI_H
#define GPA_NVML_ABI_H

/* ---- return codes (an int-sized enum in NVIDIA's header) ---- */
typedef enum nvmlReturn_enum {
	NVML_SUCCESS = 0,
	NVML_ERROR_UNINITIALIZED = 1,
	NVML_ERROR_INVALID_ARGUMENT = 2,
	NVML_ERROR_NOT_SUPPORTED = 3,
	NVML_ERROR_NO_PERMISSION = 4,
	NVML_ERROR_ALREADY_INITIALIZED = 5,
	NVML_ERROR_NOT_FOUND = 6,
	NVML_ERROR_INSUFFICIENT_SIZE = 7,
	NVML_ERROR_INSUFFICIENT_POWER = 8,
	NVML_ERROR_DRIVER_NOT_LOADED = 9,
	NVML_ERROR_TIMEOUT = 10,
	NVML_ERROR_IRQ_ISSUE = 11,
	NVML_ERROR_LIBRARY_NOT_FOUND = 12,
	NVML_ERROR_FUNCTION_NOT_FOUND = 13,
	NVML_ERROR_CORRUPTED_INFOROM = 14,
	NVML_ERROR_GPU_IS_LOST = 15,
	NVML_ERROR_RESET_REQUIRED = 16,
	NVML_ERROR_OPERATING_SYSTEM = 17,
	NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
	NVML_ERROR_IN_USE = 19,
	NVML_ERROR_MEMORY = 20,
	NVML_ERROR_NO_DATA = 21,
	NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
	NVML_ERROR_UNKNOWN = 999
} nvmlReturn_t;

_Static_assert(sizeof(nvmlReturn_t) == sizeof(int), "nvmlReturn_t must be int-sized");

/* Opaque device handle; only the library knows what it points to. */
typedef struct nvmlDevice_st *nvmlDevice_t;

/* ---- confidential-computing constants ---- */
#define NVML_CC_SYSTEM_FEATURE_DISABLED 0
#define NVML_CC_SYSTEM_FEATURE_ENABLED 1
#define NVML_CC_SYSTEM_DEVTOOLS_MODE_OFF 0
#define NVML_CC_SYSTEM_DEVTOOLS_MODE_ON 1
#define NVML_CC_SYSTEM_ENVIRONMENT_UNAVAILABLE 0
#define NVML_CC_SYSTEM_ENVIRONMENT_SIM 1
#define NVML_CC_SYSTEM_ENVIRONMENT_PROD 2
#define NVML_CC_SYSTEM_MULTIGPU_NONE 0
#define NVML_CC_SYSTEM_MULTIGPU_PROTECTED_PCIE 1
#define NVML_CC_SYSTEM_MULTIGPU_NVLE 2
#define NVML_CC_SYSTEM_CPU_CAPS_NONE 0
#define NVML_CC_SYSTEM_CPU_CAPS_AMD_SEV 1
#define NVML_CC_SYSTEM_CPU_CAPS_INTEL_TDX 2
#define NVML_CC_SYSTEM_CPU_CAPS_AMD_SEV_SNP 3
#define NVML_CC_SYSTEM_CPU_CAPS_AMD_SNP_VTOM 4
#define NVML_CC_SYSTEM_GPUS_CC_NOT_CAPABLE 0
#define NVML_CC_SYSTEM_GPUS_CC_CAPABLE 1
#define NVML_CC_ACCEPTING_CLIENT_REQUESTS_FALSE 0
#define NVML_CC_ACCEPTING_CLIENT_REQUESTS_TRUE 1
#define NVML_CC_CEC_ATTESTATION_REPORT_NOT_PRESENT 0
#define NVML_CC_CEC_ATTESTATION_REPORT_PRESENT 1

#define NVML_GPU_CERT_CHAIN_SIZE 0x1000
#define NVML_GPU_ATTESTATION_CERT_CHAIN_SIZE 0x1400
#define NVML_CC_GPU_CEC_NONCE_SIZE 0x20
#define NVML_CC_GPU_ATTESTATION_REPORT_SIZE 0x2000
#define NVML_CC_GPU_CEC_ATTESTATION_REPORT_SIZE 0x1000

#define NVML_DEVICE_ARCH_AMPERE 7
#define NVML_DEVICE_ARCH_HOPPER 9
#define NVML_DEVICE_ARCH_BLACKWELL 10
#define NVML_DEVICE_ARCH_UNKNOWN 0xffffffffu

/* Buffer sizes NVIDIA's clients pass (fact sheet §9.1). */
#define NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE 80
#define NVML_DEVICE_UUID_V2_BUFFER_SIZE 96
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96
#define NVML_DEVICE_VBIOS_VERSION_BUFFER_SIZE 32

/* ---- structs (natural alignment, no packing) ---- */
typedef struct nvmlConfComputeSystemState_st {
	unsigned int environment;
	unsigned int ccFeature;
	unsigned int devToolsMode;
} nvmlConfComputeSystemState_t;

typedef struct {
	unsigned int version;
	unsigned int environment;
	unsigned int ccFeature;
	unsigned int devToolsMode;
	unsigned int multiGpuMode;
} nvmlSystemConfComputeSettings_v1_t;
typedef nvmlSystemConfComputeSettings_v1_t nvmlSystemConfComputeSettings_t;

/* NVML_STRUCT_VERSION(SystemConfComputeSettings, 1): size | (1 << 24). */
#define nvmlSystemConfComputeSettings_v1 \
	((unsigned int)(sizeof(nvmlSystemConfComputeSettings_v1_t) | (1u << 24)))

typedef struct nvmlConfComputeSystemCaps_st {
	unsigned int cpuCaps;
	unsigned int gpusCaps;
} nvmlConfComputeSystemCaps_t;

typedef struct nvmlConfComputeGpuCertificate_st {
	unsigned int certChainSize;
	unsigned int attestationCertChainSize;
	unsigned char certChain[NVML_GPU_CERT_CHAIN_SIZE];
	unsigned char attestationCertChain[NVML_GPU_ATTESTATION_CERT_CHAIN_SIZE];
} nvmlConfComputeGpuCertificate_t;

typedef struct nvmlConfComputeGpuAttestationReport_st {
	unsigned int isCecAttestationReportPresent;
	unsigned int attestationReportSize;
	unsigned int cecAttestationReportSize;
	unsigned char nonce[NVML_CC_GPU_CEC_NONCE_SIZE];
	unsigned char attestationReport[NVML_CC_GPU_ATTESTATION_REPORT_SIZE];
	unsigned char cecAttestationReport[NVML_CC_GPU_CEC_ATTESTATION_REPORT_SIZE];
} nvmlConfComputeGpuAttestationReport_t;

_Static_assert(sizeof(nvmlConfComputeSystemState_t) == 12, "NVML ABI: CC state");
_Static_assert(sizeof(nvmlSystemConfComputeSettings_t) == 20, "NVML ABI: CC settings");
_Static_assert(sizeof(nvmlConfComputeSystemCaps_t) == 8, "NVML ABI: CC caps");
_Static_assert(sizeof(nvmlConfComputeGpuCertificate_t) == 9224, "NVML ABI: certificate");
_Static_assert(sizeof(nvmlConfComputeGpuAttestationReport_t) == 12332, "NVML ABI: report");
_Static_assert(nvmlSystemConfComputeSettings_v1 == 0x01000014u, "NVML ABI: settings version");

/*
 * One function type per symbol (…_ft) and its pointer (…_fn), so a client
 * writes `nvmlInit_v2_fn init = (nvmlInit_v2_fn)dlsym(h, "nvmlInit_v2");`
 * and the simulator can declare `nvmlInit_v2_ft nvmlInit_v2;` to have the
 * compiler check its definitions against the same ABI.
 */
typedef nvmlReturn_t nvmlInit_v2_ft(void);
typedef nvmlReturn_t nvmlInit_ft(void);
typedef nvmlReturn_t nvmlShutdown_ft(void);
typedef const char *nvmlErrorString_ft(nvmlReturn_t result);
typedef nvmlReturn_t nvmlSystemGetConfComputeState_ft(nvmlConfComputeSystemState_t *state);
typedef nvmlReturn_t nvmlSystemGetConfComputeSettings_ft(nvmlSystemConfComputeSettings_t *settings);
typedef nvmlReturn_t nvmlSystemGetConfComputeCapabilities_ft(nvmlConfComputeSystemCaps_t *caps);
typedef nvmlReturn_t nvmlSystemGetConfComputeGpusReadyState_ft(unsigned int *isAcceptingWork);
typedef nvmlReturn_t nvmlSystemSetConfComputeGpusReadyState_ft(unsigned int isAcceptingWork);
typedef nvmlReturn_t nvmlSystemGetDriverVersion_ft(char *version, unsigned int length);
typedef nvmlReturn_t nvmlDeviceGetCount_ft(unsigned int *deviceCount);
typedef nvmlReturn_t nvmlDeviceGetCount_v2_ft(unsigned int *deviceCount);
typedef nvmlReturn_t nvmlDeviceGetHandleByIndex_ft(unsigned int index, nvmlDevice_t *device);
typedef nvmlReturn_t nvmlDeviceGetHandleByIndex_v2_ft(unsigned int index, nvmlDevice_t *device);
typedef nvmlReturn_t nvmlDeviceGetArchitecture_ft(nvmlDevice_t device, unsigned int *arch);
typedef nvmlReturn_t nvmlDeviceGetBoardId_ft(nvmlDevice_t device, unsigned int *boardId);
typedef nvmlReturn_t nvmlDeviceGetUUID_ft(nvmlDevice_t device, char *uuid, unsigned int length);
typedef nvmlReturn_t nvmlDeviceGetName_ft(nvmlDevice_t device, char *name, unsigned int length);
typedef nvmlReturn_t nvmlDeviceGetVbiosVersion_ft(nvmlDevice_t device, char *version, unsigned int length);
typedef nvmlReturn_t nvmlDeviceGetConfComputeGpuCertificate_ft(nvmlDevice_t device,
    nvmlConfComputeGpuCertificate_t *gpuCert);
typedef nvmlReturn_t nvmlDeviceGetConfComputeGpuAttestationReport_ft(nvmlDevice_t device,
    nvmlConfComputeGpuAttestationReport_t *gpuAtstReport);

typedef nvmlInit_v2_ft *nvmlInit_v2_fn;
typedef nvmlInit_ft *nvmlInit_fn;
typedef nvmlShutdown_ft *nvmlShutdown_fn;
typedef nvmlErrorString_ft *nvmlErrorString_fn;
typedef nvmlSystemGetConfComputeState_ft *nvmlSystemGetConfComputeState_fn;
typedef nvmlSystemGetConfComputeSettings_ft *nvmlSystemGetConfComputeSettings_fn;
typedef nvmlSystemGetConfComputeCapabilities_ft *nvmlSystemGetConfComputeCapabilities_fn;
typedef nvmlSystemGetConfComputeGpusReadyState_ft *nvmlSystemGetConfComputeGpusReadyState_fn;
typedef nvmlSystemSetConfComputeGpusReadyState_ft *nvmlSystemSetConfComputeGpusReadyState_fn;
typedef nvmlSystemGetDriverVersion_ft *nvmlSystemGetDriverVersion_fn;
typedef nvmlDeviceGetCount_ft *nvmlDeviceGetCount_fn;
typedef nvmlDeviceGetCount_v2_ft *nvmlDeviceGetCount_v2_fn;
typedef nvmlDeviceGetHandleByIndex_ft *nvmlDeviceGetHandleByIndex_fn;
typedef nvmlDeviceGetHandleByIndex_v2_ft *nvmlDeviceGetHandleByIndex_v2_fn;
typedef nvmlDeviceGetArchitecture_ft *nvmlDeviceGetArchitecture_fn;
typedef nvmlDeviceGetBoardId_ft *nvmlDeviceGetBoardId_fn;
typedef nvmlDeviceGetUUID_ft *nvmlDeviceGetUUID_fn;
typedef nvmlDeviceGetName_ft *nvmlDeviceGetName_fn;
typedef nvmlDeviceGetVbiosVersion_ft *nvmlDeviceGetVbiosVersion_fn;
typedef nvmlDeviceGetConfComputeGpuCertificate_ft *nvmlDeviceGetConfComputeGpuCertificate_fn;
typedef nvmlDeviceGetConfComputeGpuAttestationReport_ft *nvmlDeviceGetConfComputeGpuAttestationReport_fn;

/* The library names a client dlopens. */
#define NVML_LIBRARY_NAME "libnvidia-ml.so.1"

#endif
