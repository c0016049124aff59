/*
 * NVML collection. Loads libnvidia-ml.so.1 (or --nvml-lib /
 * GPUATTEST_NVML_LIB) with dlopen and resolves only the symbols of
 * docs/attestation-formats.md §9.1 that it calls (nvmlErrorString is not:
 * nvml_explain says what to do instead), whose types are declared once in
 * nvml_abi.h. Every NVML failure becomes a sentence that says what to do.
 */
#include "collect/collect.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/nvml_abi.h"

struct nvml_api {
	void *h;
	nvmlInit_v2_fn init;
	nvmlShutdown_fn shutdown;
	nvmlSystemGetConfComputeState_fn cc_state;
	nvmlSystemGetConfComputeSettings_fn cc_settings;
	nvmlSystemGetConfComputeCapabilities_fn cc_caps;	/* optional */
	nvmlSystemGetConfComputeGpusReadyState_fn get_ready;
	nvmlSystemSetConfComputeGpusReadyState_fn set_ready;
	nvmlSystemGetDriverVersion_fn driver_version;
	nvmlDeviceGetCount_fn count;
	nvmlDeviceGetHandleByIndex_fn handle;
	nvmlDeviceGetArchitecture_fn arch;
	nvmlDeviceGetUUID_fn uuid;
	nvmlDeviceGetName_fn name;				/* optional */
	nvmlDeviceGetVbiosVersion_fn vbios;
	nvmlDeviceGetConfComputeGpuCertificate_fn certificate;
	nvmlDeviceGetConfComputeGpuAttestationReport_fn report;
	bool initialised;
};

const char *nvml_explain(int rc)
{
	switch (rc) {
	case NVML_ERROR_UNINITIALIZED: return "NVML was not initialised";
	case NVML_ERROR_INVALID_ARGUMENT: return "invalid argument";
	case NVML_ERROR_NOT_SUPPORTED:
		return "not supported by this GPU or driver (confidential computing needs an H100, H200 or "
		    "Blackwell GPU and a CC-capable driver)";
	case NVML_ERROR_NO_PERMISSION:
		return "no permission to use the GPU device files (/dev/nvidia*): run as root";
	case NVML_ERROR_DRIVER_NOT_LOADED:
		return "the NVIDIA kernel driver is not loaded (is nvidia.ko loaded? see 'lsmod | grep nvidia')";
	case NVML_ERROR_TIMEOUT: return "the GPU did not answer in time";
	case NVML_ERROR_GPU_IS_LOST: return "the GPU has fallen off the bus or is otherwise inaccessible";
	case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
		return "the NVML library and the kernel driver have different versions (reboot after a driver update)";
	case NVML_ERROR_INSUFFICIENT_SIZE: return "a buffer was too small";
	case NVML_ERROR_ARGUMENT_VERSION_MISMATCH: return "this driver does not know the structure version we use";
	case NVML_ERROR_NOT_FOUND: return "not found";
	default: return "unknown NVML error";
	}
}

static void nvml_fail(struct gpa_err *e, const char *what, nvmlReturn_t rc)
{
	gpa_err_set(e, "%s: NVML error %d: %s", what, (int)rc, nvml_explain((int)rc));
}

#define RESOLVE(field, sym, required) do { \
	*(void **)&api->field = dlsym(api->h, sym); \
	if (api->field == NULL && (required)) { \
		gpa_err_set(e, "%s has no %s: this driver is too old for confidential-computing attestation", \
		    path, sym); \
		return -1; \
	} \
} while (0)

static int resolve(struct nvml_api *api, const char *path, struct gpa_err *e)
{
	RESOLVE(init, "nvmlInit_v2", true);
	RESOLVE(shutdown, "nvmlShutdown", true);
	RESOLVE(cc_state, "nvmlSystemGetConfComputeState", true);
	RESOLVE(cc_settings, "nvmlSystemGetConfComputeSettings", true);
	RESOLVE(cc_caps, "nvmlSystemGetConfComputeCapabilities", false);
	/* Only needed for the ready state (--set-ready reports their absence). */
	RESOLVE(get_ready, "nvmlSystemGetConfComputeGpusReadyState", false);
	RESOLVE(set_ready, "nvmlSystemSetConfComputeGpusReadyState", false);
	RESOLVE(driver_version, "nvmlSystemGetDriverVersion", true);
	/* NVIDIA's C++ SDK resolves the unversioned names, pynvml the _v2 ones;
	 * drivers export both, other NVML-ABI libraries may export either. */
	RESOLVE(count, "nvmlDeviceGetCount_v2", false);
	if (api->count == NULL)
		RESOLVE(count, "nvmlDeviceGetCount", true);
	RESOLVE(handle, "nvmlDeviceGetHandleByIndex_v2", false);
	if (api->handle == NULL)
		RESOLVE(handle, "nvmlDeviceGetHandleByIndex", true);
	RESOLVE(arch, "nvmlDeviceGetArchitecture", true);
	RESOLVE(uuid, "nvmlDeviceGetUUID", true);
	RESOLVE(name, "nvmlDeviceGetName", false);
	RESOLVE(vbios, "nvmlDeviceGetVbiosVersion", true);
	RESOLVE(certificate, "nvmlDeviceGetConfComputeGpuCertificate", true);
	RESOLVE(report, "nvmlDeviceGetConfComputeGpuAttestationReport", true);
	return 0;
}

static const char *nvml_lib_path(const char *opt)
{
	const char *env = getenv("GPUATTEST_NVML_LIB");

	if (opt != NULL)
		return opt;
	if (env != NULL && *env != '\0')
		return env;
	return NVML_LIBRARY_NAME;
}

static int read_system(struct gpa_live *l, struct gpa_err *e)
{
	struct nvml_api *api = l->api;
	struct gpa_system_info *s = &l->sys;
	nvmlConfComputeSystemState_t st;
	nvmlSystemConfComputeSettings_t set;
	nvmlConfComputeSystemCaps_t caps;
	unsigned int n = 0, ready = 0;
	nvmlReturn_t rc;

	if ((rc = api->driver_version(s->driver_version, sizeof(s->driver_version))) != NVML_SUCCESS) {
		nvml_fail(e, "reading the driver version", rc);
		return -1;
	}
	s->driver_version[sizeof(s->driver_version) - 1] = '\0';
	if ((rc = api->cc_state(&st)) != NVML_SUCCESS) {
		nvml_fail(e, "reading the confidential-computing state", rc);
		return -1;
	}
	memset(&set, 0, sizeof(set));
	set.version = nvmlSystemConfComputeSettings_v1;
	if ((rc = api->cc_settings(&set)) != NVML_SUCCESS) {
		nvml_fail(e, "reading the confidential-computing settings", rc);
		return -1;
	}
	s->environment = st.environment;
	s->cc_feature = st.ccFeature;
	s->dev_tools = st.devToolsMode;
	s->multi_gpu_mode = set.multiGpuMode;
	if (api->cc_caps != NULL && api->cc_caps(&caps) == NVML_SUCCESS) {
		s->have_caps = true;
		s->cpu_caps = caps.cpuCaps;
		s->gpus_caps = caps.gpusCaps;
	}
	if (api->get_ready != NULL && api->get_ready(&ready) == NVML_SUCCESS) {
		s->have_ready_state = true;
		s->ready_state = ready;
	}
	if ((rc = api->count(&n)) != NVML_SUCCESS) {
		nvml_fail(e, "counting GPUs", rc);
		return -1;
	}
	s->gpus_total = (int)n;
	s->present = true;
	return 0;
}

int live_open(struct gpa_live *l, const struct gpa_live_opts *o, struct gpa_err *e)
{
	const char *path = nvml_lib_path(o->nvml_lib);
	nvmlReturn_t rc;

	memset(l, 0, sizeof(*l));
	l->sys.expect_gpus = l->sys.expect_switches = -1;
	l->api = calloc(1, sizeof(*l->api));
	if (l->api == NULL) {
		gpa_err_set(e, "out of memory");
		return -1;
	}
	l->api->h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (l->api->h == NULL) {
		gpa_err_set(e, "no NVIDIA driver: %s could not be loaded (%s)", path, dlerror());
		return -1;
	}
	if (resolve(l->api, path, e) != 0)
		return -1;
	if ((rc = l->api->init()) != NVML_SUCCESS) {
		nvml_fail(e, "starting NVML", rc);
		return -1;
	}
	l->api->initialised = true;
	return read_system(l, e);
}

/* "0,3" into a selection mask over n GPUs. */
static int parse_selection(const char *spec, int n, bool *sel, struct gpa_err *e)
{
	const char *p = spec;

	if (spec == NULL) {
		for (int i = 0; i < n; i++)
			sel[i] = true;
		return 0;
	}
	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 0 || v >= n || (*end != ',' && *end != '\0')) {
			gpa_err_set(e, "--gpu %s: GPU indices must be between 0 and %d, separated by commas", spec, n - 1);
			return -1;
		}
		sel[v] = true;
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

struct gpu_job {
	struct nvml_api *api;
	unsigned index;
	const uint8_t *nonce;
	struct evidence_item *it;
	char err[512];
};

static void *collect_one(void *arg)
{
	struct gpu_job *j = arg;
	struct nvml_api *api = j->api;
	struct evidence_item *it = j->it;
	nvmlConfComputeGpuAttestationReport_t *rep = calloc(1, sizeof(*rep));
	nvmlConfComputeGpuCertificate_t *cert = calloc(1, sizeof(*cert));
	nvmlDevice_t dev;
	nvmlReturn_t rc;
	const char *what = "";

	if (rep == NULL || cert == NULL) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		goto out;
	}
	if ((rc = api->handle(j->index, &dev)) != NVML_SUCCESS) {
		what = "getting the device handle";
		goto nvml;
	}
	if ((rc = api->arch(dev, &it->nvml_arch)) != NVML_SUCCESS) {
		what = "reading the architecture";
		goto nvml;
	}
	if ((rc = api->uuid(dev, it->uuid, sizeof(it->uuid))) != NVML_SUCCESS) {
		what = "reading the UUID";
		goto nvml;
	}
	if (api->name != NULL && api->name(dev, it->name, sizeof(it->name)) != NVML_SUCCESS)
		it->name[0] = '\0';
	if ((rc = api->vbios(dev, it->nvml_vbios, sizeof(it->nvml_vbios))) != NVML_SUCCESS) {
		what = "reading the VBIOS version";
		goto nvml;
	}
	it->uuid[sizeof(it->uuid) - 1] = it->name[sizeof(it->name) - 1] = '\0';
	it->nvml_vbios[sizeof(it->nvml_vbios) - 1] = '\0';
	if (it->not_cc)
		goto out;	/* no CC mode: identify the GPU, ask for no evidence */
	if ((rc = api->certificate(dev, cert)) != NVML_SUCCESS) {
		what = "reading the attestation certificate chain";
		goto nvml;
	}
	memcpy(rep->nonce, j->nonce, SPDM_NONCE_LEN);
	if ((rc = api->report(dev, rep)) != NVML_SUCCESS) {
		what = "getting the attestation report";
		goto nvml;
	}
	if (rep->attestationReportSize == 0 || rep->attestationReportSize > sizeof(rep->attestationReport) ||
	    cert->attestationCertChainSize == 0 ||
	    cert->attestationCertChainSize > sizeof(cert->attestationCertChain)) {
		snprintf(j->err, sizeof(j->err), "GPU %u: the driver returned a report of %u bytes and a chain of %u bytes",
		    j->index, rep->attestationReportSize, cert->attestationCertChainSize);
		goto out;
	}
	if (evidence_item_copy_report(it, rep->attestationReport, rep->attestationReportSize) != 0 ||
	    evidence_item_copy_chain(it, cert->attestationCertChain, cert->attestationCertChainSize) != 0)
		snprintf(j->err, sizeof(j->err), "out of memory");
	goto out;
nvml:
	snprintf(j->err, sizeof(j->err), "GPU %u: %s: NVML error %d: %s", j->index, what, (int)rc,
	    nvml_explain((int)rc));
out:
	free(rep);
	free(cert);
	return NULL;
}

static void fill_item_meta(struct evidence_item *it, unsigned index, const uint8_t *nonce)
{
	it->kind = GPA_DEV_GPU;
	it->live = true;
	it->nvml_index = (int)index;
	it->has_nonce = true;
	memcpy(it->nonce, nonce, SPDM_NONCE_LEN);
}

int live_collect(struct gpa_live *l, const struct gpa_live_opts *o, struct gpa_err *e)
{
	bool sel[GPA_EVIDENCE_MAX_ITEMS] = {false};
	struct gpu_job jobs[GPA_EVIDENCE_MAX_ITEMS];
	pthread_t th[GPA_EVIDENCE_MAX_ITEMS];
	bool started[GPA_EVIDENCE_MAX_ITEMS] = {false};
	int n = l->sys.gpus_total, njobs = 0, rc = 0;

	if (n <= 0) {
		gpa_err_set(e, "the NVIDIA driver sees no GPU");
		return -1;
	}
	if (n > GPA_EVIDENCE_MAX_ITEMS)
		n = GPA_EVIDENCE_MAX_ITEMS;
	if (parse_selection(o->gpus, n, sel, e) != 0) {
		l->bad_selection = true;
		return -1;
	}
	if (o->have_nonce) {
		memcpy(l->nonce, o->nonce, SPDM_NONCE_LEN);
	} else {
		if (random_bytes(l->nonce, SPDM_NONCE_LEN) != 0) {
			gpa_err_set(e, "cannot read the operating system's random source");
			return -1;
		}
		l->nonce_generated = true;
	}
	evidence_set_clear(&l->set);
	for (int i = 0; i < n; i++) {
		if (!sel[i])
			continue;
		struct evidence_item *it = &l->set.items[njobs];
		fill_item_meta(it, (unsigned)i, l->nonce);
		it->not_cc = l->sys.cc_feature != 1 && l->sys.multi_gpu_mode != 1;
		jobs[njobs] = (struct gpu_job){.api = l->api, .index = (unsigned)i, .nonce = l->nonce, .it = it};
		njobs++;
	}
	l->set.n = (size_t)njobs;
	if (o->progress)
		fprintf(stderr, "gpuattest: collecting evidence from %d GPU(s)...\n", njobs);
	/* All GPUs at once, a thread each: each report takes the GPU tens of
	 * milliseconds during which the thread only waits, so the CPU-sized
	 * work pool (util/pool.c) would queue them in waves. */
	for (int i = 0; i < njobs; i++)
		started[i] = pthread_create(&th[i], NULL, collect_one, &jobs[i]) == 0;
	for (int i = 0; i < njobs; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			collect_one(&jobs[i]);
	}
	for (int i = 0; i < njobs; i++)
		if (jobs[i].err[0] != '\0') {
			gpa_err_set(e, "%s", jobs[i].err);
			rc = -1;
			break;
		}
	/* The evidence arch string is what NVIDIA's format carries. */
	for (int i = 0; i < njobs && rc == 0; i++) {
		enum gpa_arch a = arch_from_nvml(l->set.items[i].nvml_arch);
		snprintf(l->set.items[i].arch, sizeof(l->set.items[i].arch), "%s",
		    a != GPA_ARCH_UNKNOWN ? arch_name(a) : "");
	}
	return rc;
}

/* What identifies the GPU set now: driver version, count and every UUID,
 * one line. `gpuattest watch` compares two of these to notice a driver
 * reload or a GPU that appeared or went away. */
int live_fingerprint(struct gpa_live *l, char *out, size_t len, struct gpa_err *e)
{
	size_t used;
	int n;

	n = snprintf(out, len, "driver %s, %d GPU(s):", l->sys.driver_version, l->sys.gpus_total);
	if (n < 0 || (size_t)n >= len)
		goto too_long;
	used = (size_t)n;
	for (int i = 0; i < l->sys.gpus_total; i++) {
		nvmlDevice_t dev;
		char uuid[96] = "";
		nvmlReturn_t rc = l->api->handle((unsigned)i, &dev);

		if (rc == NVML_SUCCESS)
			rc = l->api->uuid(dev, uuid, sizeof(uuid));
		if (rc != NVML_SUCCESS) {
			nvml_fail(e, "reading a GPU's UUID", rc);
			return -1;
		}
		uuid[sizeof(uuid) - 1] = '\0';
		n = snprintf(out + used, len - used, " %s", uuid);
		if (n < 0 || (size_t)n >= len - used)
			goto too_long;
		used += (size_t)n;
	}
	return 0;
too_long:
	gpa_err_set(e, "too many GPUs to list");
	return -1;
}

int live_set_ready(struct gpa_live *l, bool ready, struct gpa_err *e)
{
	nvmlReturn_t rc;

	if (l->api->set_ready == NULL) {
		gpa_err_set(e, "this NVML library has no nvmlSystemSetConfComputeGpusReadyState: the ready state cannot be set");
		return -1;
	}
	rc = l->api->set_ready(ready ? NVML_CC_ACCEPTING_CLIENT_REQUESTS_TRUE :
	    NVML_CC_ACCEPTING_CLIENT_REQUESTS_FALSE);

	if (rc != NVML_SUCCESS) {
		nvml_fail(e, ready ? "setting the GPUs ready" : "setting the GPUs not ready", rc);
		if (rc == NVML_ERROR_INVALID_ARGUMENT)
			gpa_err_prefix(e, "the ready state can no longer change until a reboot");
		return -1;
	}
	return 0;
}

void live_close(struct gpa_live *l)
{
	if (l->api != NULL) {
		if (l->api->initialised)
			l->api->shutdown();
		if (l->api->h != NULL)
			dlclose(l->api->h);
		free(l->api);
	}
	evidence_set_clear(&l->set);
	memset(l, 0, sizeof(*l));
}
