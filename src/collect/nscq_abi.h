/*
 * nscq_abi: the slice of NVIDIA's NSCQ (NVSwitch Configuration and Query,
 * libnvidia-nscq.so.2, API 2.0.0) C ABI that switch attestation needs:
 * return codes, handles, value structs, the callback shape of every path
 * used, and the path strings (fact sheet §9.3). Shared by the verifier
 * (dlopen client) and the simulator (exporter).
 *
 * Owns: declarations only. Must never contain function definitions or
 * declarations of the NSCQ symbols themselves.
 *
 * ABI notes that are easy to get wrong: nscq_rc_t is int8_t, the session
 * result is returned BY VALUE, and the certificate and report structs are
 * passed to callbacks BY VALUE with DIFFERENT field orders (report: size
 * first; certificate: buffer first).
 */
#ifndef GPA_NSCQ_ABI_H
#define GPA_NSCQ_ABI_H

#include <stdint.h>

typedef int8_t nscq_rc_t;

#define NSCQ_RC_SUCCESS ((nscq_rc_t)0)
#define NSCQ_RC_WARNING_RDT_INIT_FAILURE ((nscq_rc_t)1)
#define NSCQ_RC_ERROR_NOT_IMPLEMENTED ((nscq_rc_t)-1)
#define NSCQ_RC_ERROR_INVALID_UUID ((nscq_rc_t)-2)
#define NSCQ_RC_ERROR_RESOURCE_NOT_MOUNTABLE ((nscq_rc_t)-3)
#define NSCQ_RC_ERROR_OVERFLOW ((nscq_rc_t)-4)
#define NSCQ_RC_ERROR_UNEXPECTED_VALUE ((nscq_rc_t)-5)
#define NSCQ_RC_ERROR_UNSUPPORTED_DRV ((nscq_rc_t)-6)
#define NSCQ_RC_ERROR_DRV ((nscq_rc_t)-7)
#define NSCQ_RC_ERROR_TIMEOUT ((nscq_rc_t)-8)
#define NSCQ_RC_ERROR_EXT ((nscq_rc_t)-127)
#define NSCQ_RC_ERROR_UNSPECIFIED ((nscq_rc_t)-128)
#define NSCQ_SUCCESS(rc) ((rc) == NSCQ_RC_SUCCESS)
#define NSCQ_WARNING(rc) ((rc) > 0)
#define NSCQ_ERROR(rc) ((rc) < 0)

typedef struct nscq_session_st *nscq_session_t;

typedef struct {
	nscq_rc_t rc;
	nscq_session_t session;
} nscq_session_result_t;

typedef struct {
	uint8_t bytes[16];
} nscq_uuid_t;

typedef struct {
	char data[64];
} nscq_label_t;

typedef int8_t nscq_arch_t;
#define NSCQ_ARCH_SV10 ((nscq_arch_t)0)
#define NSCQ_ARCH_LR10 ((nscq_arch_t)1)
#define NSCQ_ARCH_LS10 ((nscq_arch_t)2)

typedef int8_t nscq_tnvl_status_t;
#define NSCQ_DEVICE_TNVL_MODE_UNKNOWN ((nscq_tnvl_status_t)-1)
#define NSCQ_DEVICE_TNVL_MODE_DISABLED ((nscq_tnvl_status_t)0)
#define NSCQ_DEVICE_TNVL_MODE_ENABLED ((nscq_tnvl_status_t)1)
#define NSCQ_DEVICE_TNVL_MODE_FAILURE ((nscq_tnvl_status_t)2)
#define NSCQ_DEVICE_TNVL_MODE_LOCKED ((nscq_tnvl_status_t)3)

#define NSCQ_ATTESTATION_REPORT_NONCE_SIZE 0x20
#define NSCQ_ATTESTATION_REPORT_SIZE 0x2000
#define NSCQ_CERTIFICATE_CERT_CHAIN_MAX_SIZE 0x1400

typedef struct {
	uint32_t report_size;
	uint8_t report[NSCQ_ATTESTATION_REPORT_SIZE];
} nscq_attestation_report_t;

typedef struct {
	uint8_t cert_chain[NSCQ_CERTIFICATE_CERT_CHAIN_MAX_SIZE];
	uint32_t cert_chain_size;
} nscq_attestation_certificate_t;

_Static_assert(sizeof(nscq_rc_t) == 1, "NSCQ ABI: rc");
_Static_assert(sizeof(nscq_uuid_t) == 16, "NSCQ ABI: uuid");
_Static_assert(sizeof(nscq_label_t) == 64, "NSCQ ABI: label");
_Static_assert(sizeof(nscq_attestation_report_t) == 4 + 0x2000, "NSCQ ABI: report");
_Static_assert(sizeof(nscq_attestation_certificate_t) == 0x1400 + 4, "NSCQ ABI: certificate");

#define NSCQ_SESSION_CREATE_MOUNT_DEVICES 0x1u

/* Generic callback pointer that path_observe takes; the real shape depends
 * on the path (below) and is restored by the library before calling. */
typedef void (*nscq_fn_t)(void);
#define NSCQ_FN(fn) ((nscq_fn_t)(void (*)(void))(fn))

/* Callback shapes: (device, rc, value, user_data), invoked synchronously. */
typedef void (*nscq_uuid_cb_t)(const nscq_uuid_t *device, nscq_rc_t rc,
    const nscq_uuid_t *uuid, void *user_data);
typedef void (*nscq_arch_cb_t)(const nscq_uuid_t *device, nscq_rc_t rc,
    nscq_arch_t arch, void *user_data);
typedef void (*nscq_tnvl_cb_t)(const nscq_uuid_t *device, nscq_rc_t rc,
    nscq_tnvl_status_t status, void *user_data);
typedef void (*nscq_cert_cb_t)(const nscq_uuid_t *device, nscq_rc_t rc,
    nscq_attestation_certificate_t cert, void *user_data);
typedef void (*nscq_report_cb_t)(const nscq_uuid_t *device, nscq_rc_t rc,
    nscq_attestation_report_t report, void *user_data);

/* Paths. "{device}"/"{nvswitch}" are wildcards meaning every switch; a
 * client may instead put a device label (from nscq_uuid_to_label) in that
 * position, e.g. "/" label "/config/attestation_report". */
#define NSCQ_PATH_DRV_NVSWITCH_DEVICE_UUID "/drv/nvswitch/{device}/uuid"
#define NSCQ_PATH_DRV_NVSWITCH_VERSION "/drv/nvswitch/version"
#define NSCQ_PATH_NVSWITCH_ARCH "/{nvswitch}/id/arch"
#define NSCQ_PATH_NVSWITCH_PCIE_MODE "/{nvswitch}/config/pcie_mode"
#define NSCQ_PATH_NVSWITCH_CERTIFICATE "/{nvswitch}/config/certificate"
#define NSCQ_PATH_NVSWITCH_ATTESTATION_REPORT "/{nvswitch}/config/attestation_report"
/* Suffixes appended to "/<label>" for per-device paths. */
#define NSCQ_SUFFIX_ARCH "/id/arch"
#define NSCQ_SUFFIX_PCIE_MODE "/config/pcie_mode"
#define NSCQ_SUFFIX_CERTIFICATE "/config/certificate"
#define NSCQ_SUFFIX_ATTESTATION_REPORT "/config/attestation_report"

/* Function types (…_ft) and pointers (…_fn) for dlsym. */
typedef nscq_session_result_t nscq_session_create_ft(uint32_t flags);
typedef void nscq_session_destroy_ft(nscq_session_t session);
typedef nscq_rc_t nscq_session_path_observe_ft(nscq_session_t session, const char *path,
    nscq_fn_t callback, void *data, uint32_t flags);
typedef nscq_rc_t nscq_session_set_input_ft(nscq_session_t session, uint32_t flags,
    void *input_arg, uint32_t input_size);
typedef nscq_rc_t nscq_uuid_to_label_ft(const nscq_uuid_t *uuid, nscq_label_t *label, uint32_t flags);

typedef nscq_session_create_ft *nscq_session_create_fn;
typedef nscq_session_destroy_ft *nscq_session_destroy_fn;
typedef nscq_session_path_observe_ft *nscq_session_path_observe_fn;
typedef nscq_session_set_input_ft *nscq_session_set_input_fn;
typedef nscq_uuid_to_label_ft *nscq_uuid_to_label_fn;

#define NSCQ_LIBRARY_NAME "libnvidia-nscq.so.2"

#endif
