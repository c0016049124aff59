/*
 * gpuattest: the command-line tool. A thin layer over the library: it
 * parses options, reads files, calls the library and prints. Exit codes are
 * the verdicts: 0 verified, 1 failed, 2 bad usage or unreadable input,
 * 3 could not complete.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli.h"

static void usage_main(FILE *f)
{
	fprintf(f,
"usage: gpuattest <command> [options]\n"
"\n"
"Proves that the NVIDIA GPUs (and NVSwitches) of this machine are genuine, run\n"
"firmware NVIDIA signed, and are in the expected confidential-computing mode.\n"
"\n"
"Commands:\n"
"  verify     verify the live system or recorded evidence (the main job)\n"
"  inspect    print every field of a recorded report and its certificates\n"
"  collect    collect evidence from the GPUs into a file\n"
"  fetch-collateral\n"
"             download the RIMs and OCSP answers evidence needs, for offline use\n"
"  cache      list, prune or clear the cache of RIMs and OCSP answers\n"
"  version    print the version\n"
"  help CMD   explain a command and all its options\n"
"\n"
"Exit codes (all commands):\n"
"  0  verified / done\n"
"  1  the evidence does not satisfy the policy (something is not genuine,\n"
"     not signed, revoked, expired, or does not match its reference)\n"
"  2  bad usage, or unreadable / malformed input\n"
"  3  could not complete (no driver, RIM not available, network failure)\n"
"\n"
"Run 'gpuattest help verify' to start.\n");
}

static void usage_version(FILE *f)
{
	fprintf(f, "usage: gpuattest version\n");
}

int main(int argc, char **argv)
{
	const char *cmd;

	/* A command runs once and exits: freeing OpenSSL's tables at exit
	 * would only delay the exit status a script is waiting for. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	if (argc < 2) {
		usage_main(stderr);
		return GPUATTEST_BAD_INPUT;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		usage_main(stdout);
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		if (argc < 3) {
			usage_main(stdout);
			return 0;
		}
		if (strcmp(argv[2], "verify") == 0)
			cli_usage_verify(stdout);
		else if (strcmp(argv[2], "inspect") == 0)
			cli_usage_inspect(stdout);
		else if (strcmp(argv[2], "collect") == 0)
			cli_usage_collect(stdout);
		else if (strcmp(argv[2], "fetch-collateral") == 0)
			cli_usage_fetch(stdout);
		else if (strcmp(argv[2], "cache") == 0)
			cli_usage_cache(stdout);
		else if (strcmp(argv[2], "version") == 0)
			usage_version(stdout);
		else {
			fprintf(stderr, "gpuattest: no command '%s'\n", argv[2]);
			return GPUATTEST_BAD_INPUT;
		}
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("gpuattest %s\n", GPUATTEST_VERSION);
		return 0;
	}
	if (strcmp(cmd, "verify") == 0)
		return cli_verify(argc - 1, argv + 1);
	if (strcmp(cmd, "inspect") == 0)
		return cli_inspect(argc - 1, argv + 1);
	if (strcmp(cmd, "collect") == 0)
		return cli_collect(argc - 1, argv + 1);
	if (strcmp(cmd, "fetch-collateral") == 0)
		return cli_fetch_collateral(argc - 1, argv + 1);
	if (strcmp(cmd, "cache") == 0)
		return cli_cache(argc - 1, argv + 1);
	fprintf(stderr, "gpuattest: unknown command '%s' (try 'gpuattest --help')\n", cmd);
	return GPUATTEST_BAD_INPUT;
}
