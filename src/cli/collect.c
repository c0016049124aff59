/* gpuattest collect: evidence from the live GPUs into NVIDIA's JSON format. */
#include <stdio.h>

#include "cli/cli.h"

void cli_usage_collect(FILE *f)
{
	fprintf(f,
"usage: gpuattest collect -o FILE [--nonce HEX] [--nvml-lib PATH]\n"
"\n"
"Collects a fresh attestation report and certificate chain from every GPU and\n"
"writes them in NVIDIA's serialized evidence JSON, which 'gpuattest verify\n"
"--evidence FILE' (and NVIDIA's own tools) can verify elsewhere.\n");
}

int cli_collect(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "gpuattest collect: not implemented yet\n");
	return GPUATTEST_INCOMPLETE;
}
