/*
 * NVML collection. Loads libnvidia-ml.so.1 (or --nvml-lib / GPUATTEST_NVML_LIB)
 * with dlopen and resolves only the symbols of docs/attestation-formats.md
 * §9.1, declared in nvml_abi.h.
 */
#include "collect/collect.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "collect/nvml_abi.h"

#define NVML_DEFAULT_LIB "libnvidia-ml.so.1"

static const char *nvml_lib_path(const char *opt)
{
	const char *env = getenv("GPUATTEST_NVML_LIB");

	if (opt != NULL)
		return opt;
	if (env != NULL && *env != '\0')
		return env;
	return NVML_DEFAULT_LIB;
}

int collect_verify_live(gpuattest_config *cfg, const char *nvml_lib, bool quiet,
    gpuattest_result **res)
{
	const char *path = nvml_lib_path(nvml_lib);
	void *h;

	(void)cfg;
	*res = NULL;
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		fprintf(stderr,
		    "gpuattest: no NVIDIA driver: %s could not be loaded (%s).\n"
		    "This machine has no NVIDIA GPU driver, so there is nothing to attest live.\n"
		    "To verify recorded evidence instead:\n"
		    "  gpuattest verify --evidence FILE --rim-dir DIR [--nonce HEX]\n"
		    "  gpuattest verify --report REPORT --cert-chain CHAIN.pem --rim-dir DIR\n"
		    "(see 'gpuattest help verify').\n", path, dlerror());
		return -1;
	}
	(void)quiet;
	dlclose(h);
	fprintf(stderr, "gpuattest: live collection is not implemented yet\n");
	return -1;
}
