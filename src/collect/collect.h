/*
 * collect: evidence from the live system through the NVIDIA driver (NVML
 * for GPUs, NSCQ for NVSwitches), both loaded at run time with dlopen.
 * No build-time dependency on CUDA or the driver.
 */
#ifndef GPA_COLLECT_H
#define GPA_COLLECT_H

#include <stdbool.h>

#include "gpuattest.h"

/* Attests the live system: collects from every GPU with one nonce and
 * verifies. On failure to collect, prints why (and what to do instead) on
 * stderr and returns -1: the caller exits "could not complete". */
int collect_verify_live(gpuattest_config *cfg, const char *nvml_lib, bool quiet,
    gpuattest_result **res);

#endif
