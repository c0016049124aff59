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

/* Every command, once: what runs it, what explains it, its line in the
 * overview. */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *f);
	const char *summary;
} commands[] = {
	{ "verify", cli_verify, cli_usage_verify,
	  "verify the live system or recorded evidence (the main job)" },
	{ "inspect", cli_inspect, cli_usage_inspect,
	  "print every field of a recorded report and its certificates" },
	{ "collect", cli_collect, cli_usage_collect, "collect evidence from the GPUs into a file" },
	{ "fetch-collateral", cli_fetch_collateral, cli_usage_fetch,
	  "download the RIMs and OCSP answers evidence needs, for offline use" },
	{ "cache", cli_cache, cli_usage_cache, "list, prune or clear the cache of RIMs and OCSP answers" },
	{ "watch", cli_watch, cli_usage_watch, "keep re-attesting and withdraw the ready state on any failure" },
	{ "verify-token", cli_verify_token, cli_usage_verify_token,
	  "check a signed result: an NRAS detached EAT or a gpuattest EAR" },
	{ "jwks", cli_jwks, cli_usage_jwks, "print the public keys (JWKS) that check signed results" },
	{ "preflight", cli_preflight, cli_usage_preflight,
	  "before an upgrade: are the RIMs it will need published and valid?" },
	{ "serve", cli_serve, cli_usage_serve, "run the verifier service (NRAS-compatible HTTP, audit trail)" },
	{ "audit", cli_audit, cli_usage_audit, "list, show or export the verifier service's audit trail" },
	{ "version", cli_version, cli_usage_version,
	  "print the versions of gpuattest and of the libraries in use" },
};

/* -h or --help anywhere among a command's own arguments (before a "--",
 * after which they belong to another program, as for watch). */
static bool asks_for_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* "  name       summary", or the name on a line of its own when too long. */
static void usage_line(FILE *f, const char *name, const char *summary)
{
	if (strlen(name) > 10)
		fprintf(f, "  %s\n  %-10s %s\n", name, "", summary);
	else
		fprintf(f, "  %-10s %s\n", name, summary);
}

static void usage_main(FILE *f)
{
	fprintf(f,
"usage: gpuattest <command> [options]\n"
"\n"
"Proves that the NVIDIA GPUs (and NVSwitches) of this machine are genuine, run\n"
"firmware NVIDIA signed, and are in the expected confidential-computing mode.\n"
"\n"
"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		usage_line(f, commands[i].name, commands[i].summary);
	usage_line(f, "help CMD", "explain a command and all its options");
	fprintf(f,
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

int main(int argc, char **argv)
{
	const struct command *c;
	const char *cmd;

	/* A command runs once and exits: freeing OpenSSL's tables at exit
	 * would only delay the exit status a script is waiting for. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	if (argc < 2) {
		usage_main(stderr);
		return GPUATTEST_BAD_INPUT;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    (strcmp(cmd, "help") == 0 && argc < 3)) {
		usage_main(stdout);
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		if ((c = find_command(argv[2])) == NULL) {
			fprintf(stderr, "gpuattest: no command '%s'\n", argv[2]);
			return GPUATTEST_BAD_INPUT;
		}
		c->usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0)
		cmd = "version";
	if ((c = find_command(cmd)) != NULL) {
		if (asks_for_help(argc - 1, argv + 1)) {
			c->usage(stdout);
			return 0;
		}
		return c->run(argc - 1, argv + 1);
	}
	fprintf(stderr, "gpuattest: unknown command '%s' (try 'gpuattest --help')\n", cmd);
	return GPUATTEST_BAD_INPUT;
}
