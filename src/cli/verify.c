/* gpuattest verify: live system or recorded evidence. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "api/receipt.h"
#include "api/api_internal.h"
#include "collect/collect.h"
#include "util/util.h"

void cli_usage_verify(FILE *f)
{
	fprintf(f,
"usage: gpuattest verify [options]\n"
"\n"
"Verifies GPU attestation evidence and prints VERIFICATION SUCCESSFUL (exit 0)\n"
"or VERIFICATION FAILED with every failed check (exit 1). Without --evidence or\n"
"--report it attests this machine's GPUs through the NVIDIA driver (NVML).\n"
"\n"
"Evidence:\n"
"  --evidence FILE      recorded GPU evidence: NVIDIA's serialized JSON (an array of\n"
"                       {arch, nonce, evidence, certificate}) or an NRAS request\n"
"                       ({nonce, arch, evidence_list: [...]}); one entry per GPU.\n"
"                       - reads it from standard input, e.g.\n"
"                       ssh gpu-host gpuattest collect -o - | gpuattest verify --evidence -\n"
"                       A PEM chain or a raw report given here is refused with the\n"
"                       option that fits (--report / --cert-chain).\n"
"  --switch-evidence FILE\n"
"                       recorded NVSwitch evidence (NVIDIA's JSON, arch LS10). With\n"
"                       --evidence, GPUs and switches of one Protected PCIe system\n"
"                       are verified together, NVLink topology included: every\n"
"                       GPU must list exactly the attested switches' PDIs and every\n"
"                       switch exactly the attested GPUs' PDIs, no PDI twice, every\n"
"                       switch locked. Alone, the switches are verified alone.\n"
"  --report FILE        one raw attestation report (binary, or hex text; - for\n"
"                       standard input; JSON evidence belongs to --evidence) ...\n"
"  --cert-chain FILE    ... and its PEM device certificate chain (leaf first)\n"
"  --nonce HEX          the 32-byte nonce (64 hex digits) the evidence must carry.\n"
"                       Live: use this nonce instead of a fresh random one.\n"
"                       Recorded: give the nonce you asked for when the evidence\n"
"                       was collected ('gpuattest collect --nonce HEX' uses yours\n"
"                       and prints it); without it the verdict is 3, freshness not\n"
"                       proven, since an old or replayed file looks the same.\n"
"  --insecure-accept-evidence-nonce\n"
"                       INSECURE: without --nonce, accept the nonce the evidence\n"
"                       carries. A possibly replayed file then passes; the output\n"
"                       lists this as a weakening.\n"
"\n"
"Reference manifests (RIMs):\n"
"  --rim-dir DIR        read RIMs from DIR/<RIM id>.xml (SWID XML as NVIDIA\n"
"                       publishes it) or DIR/<RIM id>.json (a RIM service reply).\n"
"                       RIM ids look like NV_GPU_DRIVER_GH100_595.71.05 and\n"
"                       NV_GPU_VBIOS_1010_0210_886_96009F0004; 'gpuattest inspect'\n"
"                       prints the ids a report needs. May be given up to 3\n"
"                       times; searched in the order given (a 4th is an error).\n"
"                       Also found under NVIDIA's file names: DIR/<RIM id>.swidtag\n"
"                       and, for VBIOS RIMs, the names of NVIDIA's published files\n"
"                       (e.g. 1010_0210_886_96009F0004_PROD.swidtag, lower-case\n"
"                       project g520_...). A RIM not found names every file looked for.\n"
"  --driver-rim FILE    the driver RIM in one file (SWID XML or RIM service JSON),\n"
"                       used for every GPU before any directory or service; e.g.\n"
"                       --driver-rim NV_GPU_DRIVER_GH100_595.71.05.xml. Its version\n"
"                       must still be the report's, and its signature verify.\n"
"  --vbios-rim FILE     the same for the VBIOS RIM (the BIOS RIM of NVSwitches);\n"
"                       GPUs with different VBIOS versions need --rim-dir instead.\n"
"\n"
"Trust (each anchor serves one use: a RIM-signing CA never vouches for a device):\n"
"  --device-anchor FILE also trust the CA certificates in this PEM file for device\n"
"                       identity chains (GPUs, NVSwitches) only: a test PKI.\n"
"  --rim-anchor FILE    also trust them for RIM signing chains only (a private RIM\n"
"                       mirror that re-signs, a test PKI).\n"
"  --trust-anchor FILE  both at once (deprecated: prefer the two above; kept for a\n"
"                       test PKI whose one file holds both roots). All three may be\n"
"                       repeated. The output names the anchor every chain ended at\n"
"                       (CN and SHA-256); 'genuine NVIDIA' is said only for devices\n"
"                       under NVIDIA's pinned Device Identity CA, and any other\n"
"                       anchor is listed as a weakening.\n"
"  --no-pinned-anchors  do not trust NVIDIA's two pinned roots (Device Identity CA\n"
"                       102bf659...7b48, CoRIM signing Root CA 12977b51...f5d1);\n"
"                       trust only the anchors named above.\n"
"                       A root certificate that arrives inside the evidence or a\n"
"                       RIM is never trusted because it is there.\n"
"\n"
"Revocation (OCSP) and the RIM service:\n"
"  Revocation is checked by default for every certificate NVIDIA checks: device\n"
"  chain certificates 1..n-2, RIM chain certificates 0..n-2, all at once. Each\n"
"  answer must be signed by an authorised responder, carry our nonce, name our\n"
"  certificate and be current (thisUpdate/nextUpdate, 300 s of clock skew).\n"
"  RIMs are looked for in --rim-dir, then the collateral bundle, then the cache,\n"
"  then the RIM service.\n"
"  --no-ocsp            INSECURE: do not check certificate revocation. Verification\n"
"                       can then pass, and the output says revocation was NOT\n"
"                       checked. Without this option revocation must be checked,\n"
"                       and verification cannot pass while it cannot be.\n"
"  --ocsp-url URL       OCSP responder (default https://ocsp.ndis.nvidia.com;\n"
"                       environment GPUATTEST_OCSP_URL)\n"
"  --rim-url URL        RIM service base, GET URL/v1/rim/<id> (default\n"
"                       https://rim.attestation.nvidia.com; env GPUATTEST_RIM_URL)\n"
"  --service-key KEY    sent as 'Authorization: Bearer KEY' to both services\n"
"                       (environment GPUATTEST_SERVICE_KEY)\n"
"  --allow-hold-cert    accept a RIM signing certificate that is on hold\n"
"                       (certificateHold); the output says so. Never for devices.\n"
"  --ocsp-cache-ok      accept OCSP answers from the cache, which cannot carry this\n"
"                       run's nonce (default: only fresh answers count)\n"
"  --cache-dir DIR      cache of RIMs and OCSP answers (default\n"
"                       $XDG_CACHE_HOME/gpuattest, /var/cache/gpuattest for root;\n"
"                       env GPUATTEST_CACHE_DIR). RIMs are re-verified on use; OCSP\n"
"                       answers are never used past their nextUpdate.\n"
"  --no-cache           neither read nor write the cache\n"
"  --collateral FILE    a bundle made by 'gpuattest fetch-collateral': its RIMs and\n"
"                       OCSP answers are used (and re-verified); each answer's age\n"
"                       is reported and none is used past its nextUpdate\n"
"  --offline            never use the network (with --collateral, --rim-dir)\n"
"  --max-ocsp-age SECS  accept OCSP answers up to SECS past their nextUpdate\n"
"                       (explicitly widening the window; default 0)\n"
"  --connect-timeout MS, --timeout MS, --retries N\n"
"                       HTTP limits (defaults 5000 ms, 30000 ms per attempt, 3\n"
"                       retries on transient failures with jittered backoff; env\n"
"                       GPUATTEST_HTTP_CONNECT_TIMEOUT_MS, GPUATTEST_HTTP_TIMEOUT_MS,\n"
"                       GPUATTEST_HTTP_RETRIES). Proxies: http_proxy, https_proxy,\n"
"                       no_proxy.\n"
"  --total-timeout MS   one deadline for all the network time of the verification,\n"
"                       RIM service and OCSP phases together, retries and backoff\n"
"                       included (default 60000; env GPUATTEST_HTTP_TOTAL_TIMEOUT_MS).\n"
"                       What is not answered by then is 'not done' (exit 3), and\n"
"                       the check says the deadline was reached. E.g. a gate that\n"
"                       must decide within 20 s: --total-timeout 15000.\n"
"  On a terminal a waiting line on stderr says what is awaited and from where\n"
"  (not with --quiet or --format json).\n"
"\n"
"Time:\n"
"  --at TIME            verify as of TIME (RFC 3339, e.g. 2024-01-01T00:00:00Z)\n"
"                       instead of now: certificate validity is judged then.\n"
"\n"
"Output:\n"
"  --format text|json   text (default): each device and each check, then the\n"
"                       verdict. json: {result, exit_code, devices: [{checks,\n"
"                       claims}], claims: [NVIDIA claims, one per device]}.\n"
"  --claims-version 3|4 NVIDIA GPU claims version (default 4, as NVIDIA's\n"
"                       attestation SDK 2.0: adds x-nvidia-attester-claims and\n"
"                       x-nvidia-mismatch-opaque-data-records). 3 keeps the 3.0\n"
"                       claim set for relying-party policies written for the\n"
"                       1.x SDK. The verdict is the same, and measres counts the\n"
"                       opaque-data reference values (e.g. a minimum SVN) in\n"
"                       both. NVSwitch claims are 3.0 either way.\n"
"  --policy FILE        a relying-party policy decides the verdict, as in NVIDIA's\n"
"                       SDK (also --relying-party-policy FILE, NVIDIA's name). A\n"
"                       Rego policy (package policy; the decision nv_match, on the\n"
"                       JSON array of the devices' claims; shipped examples in\n"
"                       policies/) or a JSON policy of NVIDIA's Python SDK\n"
"                       ({\"authorization-rules\": {...}}), told apart by content.\n"
"                       Rego outside the supported subset is refused naming file,\n"
"                       line, column and construct (exit 2). nv_match false fails\n"
"                       (exit 1); true accepts the failed checks NVIDIA's claims\n"
"                       describe (expired or not-yet-valid chain, RIM certificate\n"
"                       revoked or unknown, OCSP answer without our nonce, a\n"
"                       measurement or opaque-data mismatch), each listed as a\n"
"                       weakening; never a bad signature, an untrusted chain, a\n"
"                       revoked device, a wrong nonce or a check not done.\n"
"  --quiet              print no result; the exit code is the answer, and a run\n"
"                       that does not pass (exit 1, 2, 3) still writes one line\n"
"                       to stderr saying why (for a gate's journal); stdout\n"
"                       stays empty\n"
"  -v, --verbose        also say, on stderr, where each RIM and OCSP answer came\n"
"                       from: the --rim-dir file, the --collateral bundle, the\n"
"                       cache file, or the RIM service / OCSP responder URL (JSON\n"
"                       always has them under \"collateral\")\n"
"  --color / --no-color (default: color when stdout is a terminal)\n"
"\n"
"Live system (no --evidence / --report):\n"
"  --gpu LIST           attest only these GPUs (NVML indices, e.g. 0,3; default all)\n"
"  --expect-gpus N      fail unless at least N GPUs are genuine (also offline)\n"
"  --expect-switches N  fail unless at least N NVSwitches are genuine\n"
"  --nscq-lib PATH      NSCQ library for the NVSwitches in Protected PCIe mode\n"
"                       (default libnvidia-nscq.so.2; env GPUATTEST_NSCQ_LIB)\n"
"  --set-ready          after, and only after, everything passed, mark the GPUs\n"
"                       ready to accept work; on any other outcome (a failure, a\n"
"                       check not done, an error once the driver answered) mark\n"
"                       them NOT ready (needs root). Without it the ready state\n"
"                       is not touched. The ready state is one flag for the whole\n"
"                       system, so --set-ready attests every GPU: with --gpu it is\n"
"                       refused (exit 2).\n"
"  --insecure-allow-dev-tools\n"
"                       accept a driver in developer-tools (debug) mode, which is\n"
"                       NOT confidential (default: such a system fails)\n"
"  --nvml-lib PATH      NVML library to load (default libnvidia-ml.so.1;\n"
"                       environment: GPUATTEST_NVML_LIB)\n"
"  A fresh 32-byte nonce is drawn from the OS random source for each run unless\n"
"  --nonce is given. The driver's CC configuration is checked: CC mode on with\n"
"  Protected PCIe off (GPUs passed through alone), or CC off with Protected PCIe\n"
"  on (NVLink systems), never both; production environment; developer tools\n"
"  off; a confidential CPU (TDX / SEV-SNP); driver and VBIOS versions from NVML\n"
"  equal to the signed report's.\n"
"\n");
	cli_usage_verify_tokens(f);
	cli_usage_verify_receipts(f);
	cli_usage_verify_remote(f);
	fprintf(f,
"Exit codes: 0 verified; 1 the evidence does not satisfy the policy; 2 bad\n"
"usage or unreadable input; 3 could not complete (RIM not available, network,\n"
"driver). A definite failure wins over something missing: a bad signature\n"
"exits 1 even when a RIM is also unavailable.\n"
"\n"
"Examples:\n"
"  gpuattest verify --evidence gpu-evidence.json --rim-dir rims/ --no-ocsp\n"
"  gpuattest verify --report report.hex --cert-chain chain.pem \\\n"
"                   --rim-dir rims/ --at 2024-01-01T00:00:00Z --no-ocsp\n");
}

int cli_parse_time(const char *s, time_t *out)
{
	if (time_parse_rfc3339(s, out) != 0) {
		cli_err("--at: '%s' is not an RFC 3339 time such as 2024-01-01T00:00:00Z", s);
		return -1;
	}
	return 0;
}

int cli_parse_nonce(const char *s, unsigned char out[32])
{
	if (hex_decode(s, strlen(s), out, 32, true) != 32) {
		cli_err("--nonce must be 64 hex digits (32 bytes)");
		return -1;
	}
	return 0;
}

enum {
	OPT_EVIDENCE = 256, OPT_REPORT, OPT_CHAIN, OPT_NONCE, OPT_RIM_DIR, OPT_ANCHOR,
	OPT_NO_PINNED, OPT_NO_OCSP, OPT_AT, OPT_FORMAT, OPT_QUIET, OPT_COLOR, OPT_NO_COLOR,
	OPT_NVML_LIB, OPT_HELP, OPT_GPU, OPT_EXPECT_GPUS, OPT_SET_READY, OPT_ALLOW_DEV_TOOLS,
	OPT_OCSP_URL, OPT_RIM_URL, OPT_SERVICE_KEY, OPT_ALLOW_HOLD, OPT_OCSP_CACHE_OK, OPT_CACHE_DIR,
	OPT_NO_CACHE, OPT_COLLATERAL, OPT_OFFLINE, OPT_MAX_OCSP_AGE, OPT_CONNECT_TIMEOUT, OPT_TIMEOUT,
	OPT_RETRIES, OPT_OUTPUT, OPT_SWITCH_EVIDENCE, OPT_EXPECT_SWITCHES, OPT_NSCQ_LIB,
	/* cli_sign_option's, in the order of its enum */
	OPT_RESULT_TOKEN, OPT_SIGN_KEY, OPT_SIGN_KID, OPT_SIGN_ISSUER,
	/* cli_remote_option's, in the order of its enum */
	OPT_VERIFIER, OPT_NRAS_URL,
	OPT_ACCEPT_EVIDENCE_NONCE,
	OPT_CLAIMS_VERSION,
	OPT_RECEIPT, OPT_CHECK_RECEIPT,
	OPT_DEVICE_ANCHOR, OPT_RIM_ANCHOR,
	OPT_POLICY,
	OPT_TOTAL_TIMEOUT, OPT_DRIVER_RIM, OPT_VBIOS_RIM,
};

static const struct option verify_opts[] = {
	{"evidence", required_argument, NULL, OPT_EVIDENCE},
	{"report", required_argument, NULL, OPT_REPORT},
	{"cert-chain", required_argument, NULL, OPT_CHAIN},
	{"nonce", required_argument, NULL, OPT_NONCE},
	{"rim-dir", required_argument, NULL, OPT_RIM_DIR},
	{"driver-rim", required_argument, NULL, OPT_DRIVER_RIM},
	{"vbios-rim", required_argument, NULL, OPT_VBIOS_RIM},
	{"trust-anchor", required_argument, NULL, OPT_ANCHOR},
	{"no-pinned-anchors", no_argument, NULL, OPT_NO_PINNED},
	{"no-ocsp", no_argument, NULL, OPT_NO_OCSP},
	{"at", required_argument, NULL, OPT_AT},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"verbose", no_argument, NULL, 'v'},
	{"color", no_argument, NULL, OPT_COLOR},
	{"no-color", no_argument, NULL, OPT_NO_COLOR},
	{"nvml-lib", required_argument, NULL, OPT_NVML_LIB},
	{"gpu", required_argument, NULL, OPT_GPU},
	{"expect-gpus", required_argument, NULL, OPT_EXPECT_GPUS},
	{"set-ready", no_argument, NULL, OPT_SET_READY},
	{"insecure-allow-dev-tools", no_argument, NULL, OPT_ALLOW_DEV_TOOLS},
	{"ocsp-url", required_argument, NULL, OPT_OCSP_URL},
	{"rim-url", required_argument, NULL, OPT_RIM_URL},
	{"service-key", required_argument, NULL, OPT_SERVICE_KEY},
	{"allow-hold-cert", no_argument, NULL, OPT_ALLOW_HOLD},
	{"ocsp-cache-ok", no_argument, NULL, OPT_OCSP_CACHE_OK},
	{"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
	{"no-cache", no_argument, NULL, OPT_NO_CACHE},
	{"collateral", required_argument, NULL, OPT_COLLATERAL},
	{"offline", no_argument, NULL, OPT_OFFLINE},
	{"max-ocsp-age", required_argument, NULL, OPT_MAX_OCSP_AGE},
	{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"total-timeout", required_argument, NULL, OPT_TOTAL_TIMEOUT},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"switch-evidence", required_argument, NULL, OPT_SWITCH_EVIDENCE},
	{"expect-switches", required_argument, NULL, OPT_EXPECT_SWITCHES},
	{"nscq-lib", required_argument, NULL, OPT_NSCQ_LIB},
	{"result-token", required_argument, NULL, OPT_RESULT_TOKEN},
	{"receipt", required_argument, NULL, OPT_RECEIPT},
	{"check-receipt", required_argument, NULL, OPT_CHECK_RECEIPT},
	{"sign-key", required_argument, NULL, OPT_SIGN_KEY},
	{"sign-kid", required_argument, NULL, OPT_SIGN_KID},
	{"sign-issuer", required_argument, NULL, OPT_SIGN_ISSUER},
	{"verifier", required_argument, NULL, OPT_VERIFIER},
	{"nras-url", required_argument, NULL, OPT_NRAS_URL},
	{"insecure-accept-evidence-nonce", no_argument, NULL, OPT_ACCEPT_EVIDENCE_NONCE},
	{"device-anchor", required_argument, NULL, OPT_DEVICE_ANCHOR},
	{"rim-anchor", required_argument, NULL, OPT_RIM_ANCHOR},
	{"claims-version", required_argument, NULL, OPT_CLAIMS_VERSION},
	{"policy", required_argument, NULL, OPT_POLICY},
	{"relying-party-policy", required_argument, NULL, OPT_POLICY},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

struct verify_args {
	const char *switch_evidence;
	bool recorded;			/* evidence from files, not the live system */
	const char *evidence, *report, *chain, *format, *nvml_lib, *nscq_lib, *gpus, *output;
	bool fetch_mode;
	bool quiet, json, set_ready, have_nonce;
	bool verbose;			/* -v: where each RIM and OCSP answer came from */
	unsigned char nonce[32];
	int color;
	struct cli_sign_opts sign;
	const char *receipt, *check_receipt;	/* receipt.c */
	struct cli_remote_opts remote;
};

static int bad_usage(const char *msg)
{
	fprintf(stderr, "gpuattest verify: %s (see 'gpuattest help verify')\n", msg);
	cli_remember_error(msg);
	return GPUATTEST_BAD_INPUT;
}

/* Plain decimal in 0..max; -1 when it is not one. */
static long parse_decimal(const char *arg, long max)
{
	char *end;
	long n = strtol(arg, &end, 10);

	return *arg == '\0' || *end != '\0' || n < 0 || n > max ? -1 : n;
}

/* A device count: 0..1024; -1 when it is not one. */
static int parse_count(const char *arg)
{
	return (int)parse_decimal(arg, 1024);
}

static int parse_number_option(gpuattest_config *cfg, int opt, const char *arg)
{
	long v = parse_decimal(arg, 100000000);

	if (v < 0) {
		cli_err("'%s' is not a non-negative number", arg);
		return -1;
	}
	switch (opt) {
	case OPT_MAX_OCSP_AGE: return gpuattest_config_set_max_ocsp_age(cfg, v);
	case OPT_CONNECT_TIMEOUT: cfg->connect_timeout_ms = v; break;
	case OPT_TIMEOUT: cfg->timeout_ms = v; break;
	case OPT_TOTAL_TIMEOUT:
		if (v < 1 || v > 3600000) {
			cli_err("--total-timeout needs 1..3600000 milliseconds");
			return -1;
		}
		cfg->total_timeout_ms = v;
		break;
	case OPT_RETRIES:
		if (v > 20) {
			cli_err("--retries is at most 20");
			return -1;
		}
		cfg->retries = (int)v;
		break;
	}
	return 0;
}

static int parse_verify_args(int argc, char **argv, gpuattest_config *cfg, struct verify_args *va)
{
	unsigned char nonce[32];
	time_t at;
	int c;

	bool fetch_mode = va->fetch_mode;

	memset(va, 0, sizeof(*va));
	va->fetch_mode = fetch_mode;
	va->format = "text";
	va->color = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, fetch_mode ? ":o:v" : ":v", verify_opts, NULL)) != -1) {
		/* "--evidence --format json": the next option is not a file name
		 * (a file really called so can be given as ./--name). */
		if (optarg != NULL && optind >= 2 && optarg == argv[optind - 1] &&
		    strncmp(optarg, "--", 2) == 0 && optarg[2] != '\0')
			return cli_option_as_argument(fetch_mode ? "fetch-collateral" : "verify", argv);
		switch (c) {
		case 'o':
		case OPT_OUTPUT:
			if (!fetch_mode)
				return bad_usage("--output belongs to fetch-collateral");
			va->output = optarg;
			break;
		case OPT_EVIDENCE: va->evidence = optarg; break;
		case OPT_SWITCH_EVIDENCE: va->switch_evidence = optarg; break;
		case OPT_NSCQ_LIB: va->nscq_lib = optarg; break;
		case OPT_EXPECT_SWITCHES:
			if ((cfg->expect_switches = parse_count(optarg)) < 0)
				return bad_usage("--expect-switches needs a number");
			break;
		case OPT_REPORT: va->report = optarg; break;
		case OPT_CHAIN: va->chain = optarg; break;
		case OPT_NONCE:
			if (cli_parse_nonce(optarg, nonce) != 0)
				return GPUATTEST_BAD_INPUT;
			gpuattest_config_set_nonce(cfg, nonce, 32);
			memcpy(va->nonce, nonce, 32);
			va->have_nonce = true;
			break;
		case OPT_RIM_DIR:
			if (access(optarg, R_OK | X_OK) != 0) {
				cli_err("--rim-dir %s: not a readable directory", optarg);
				return GPUATTEST_BAD_INPUT;
			}
			if (gpuattest_config_add_rim_dir(cfg, optarg) != 0)
				return bad_usage(gpuattest_config_error(cfg));
			break;
		case OPT_DRIVER_RIM:
		case OPT_VBIOS_RIM:
			if (access(optarg, R_OK) != 0) {
				cli_err("%s %s: cannot read it", c == OPT_DRIVER_RIM ? "--driver-rim" : "--vbios-rim",
				    optarg);
				return GPUATTEST_BAD_INPUT;
			}
			*(c == OPT_DRIVER_RIM ? &cfg->driver_rim : &cfg->vbios_rim) = optarg;
			break;
		case OPT_ANCHOR:
			if (gpuattest_config_add_trust_anchor_file(cfg, optarg) != 0)
				return bad_usage(gpuattest_config_error(cfg));
			break;
		case OPT_DEVICE_ANCHOR:
			if (gpuattest_config_add_device_anchor_file(cfg, optarg) != 0)
				return bad_usage(gpuattest_config_error(cfg));
			break;
		case OPT_RIM_ANCHOR:
			if (gpuattest_config_add_rim_anchor_file(cfg, optarg) != 0)
				return bad_usage(gpuattest_config_error(cfg));
			break;
		case OPT_NO_PINNED: gpuattest_config_no_pinned_anchors(cfg); break;
		case OPT_NO_OCSP: gpuattest_config_insecure_skip_revocation(cfg); break;
		case OPT_AT:
			if (cli_parse_time(optarg, &at) != 0)
				return GPUATTEST_BAD_INPUT;
			gpuattest_config_set_time(cfg, at);
			break;
		case OPT_FORMAT: va->format = optarg; break;
		case OPT_QUIET: va->quiet = true; break;
		case 'v': va->verbose = true; break;
		case OPT_COLOR: va->color = 1; break;
		case OPT_NO_COLOR: va->color = 0; break;
		case OPT_NVML_LIB: va->nvml_lib = optarg; break;
		case OPT_GPU: va->gpus = optarg; break;
		case OPT_EXPECT_GPUS:
			if ((cfg->expect_gpus = parse_count(optarg)) < 0)
				return bad_usage("--expect-gpus needs a number");
			break;
		case OPT_SET_READY: va->set_ready = true; break;
		case OPT_OCSP_URL: gpuattest_config_set_ocsp_url(cfg, optarg); break;
		case OPT_RIM_URL: gpuattest_config_set_rim_url(cfg, optarg); break;
		case OPT_SERVICE_KEY: gpuattest_config_set_service_key(cfg, optarg); break;
		case OPT_ALLOW_HOLD: gpuattest_config_allow_rim_cert_hold(cfg); break;
		case OPT_OCSP_CACHE_OK: gpuattest_config_insecure_accept_cached_ocsp(cfg); break;
		case OPT_CACHE_DIR: gpuattest_config_set_cache_dir(cfg, optarg); break;
		case OPT_NO_CACHE: gpuattest_config_no_cache(cfg); break;
		case OPT_COLLATERAL: gpuattest_config_set_collateral(cfg, optarg); break;
		case OPT_OFFLINE: gpuattest_config_offline(cfg); break;
		case OPT_MAX_OCSP_AGE:
		case OPT_CONNECT_TIMEOUT:
		case OPT_TIMEOUT:
		case OPT_TOTAL_TIMEOUT:
		case OPT_RETRIES:
			if (parse_number_option(cfg, c, optarg) != 0)
				return GPUATTEST_BAD_INPUT;
			break;
		case OPT_ALLOW_DEV_TOOLS: gpuattest_config_insecure_allow_dev_tools(cfg); break;
		case OPT_RECEIPT: va->receipt = optarg; break;
		case OPT_CHECK_RECEIPT: va->check_receipt = optarg; break;
		case OPT_RESULT_TOKEN:
		case OPT_SIGN_KEY:
		case OPT_SIGN_KID:
		case OPT_SIGN_ISSUER:
			if (cli_sign_option(&va->sign, c - OPT_RESULT_TOKEN, optarg) != 0)
				return GPUATTEST_BAD_INPUT;
			break;
		case OPT_VERIFIER:
		case OPT_NRAS_URL:
			if (cli_remote_option(&va->remote, c - OPT_VERIFIER, optarg) != 0)
				return GPUATTEST_BAD_INPUT;
			break;
		case OPT_ACCEPT_EVIDENCE_NONCE: gpuattest_config_insecure_accept_evidence_nonce(cfg); break;
		case OPT_CLAIMS_VERSION:
			if ((strcmp(optarg, "3") != 0 && strcmp(optarg, "4") != 0) ||
			    gpuattest_config_set_claims_version(cfg, optarg[0] - '0') != 0)
				return bad_usage("--claims-version must be 3 or 4");
			break;
		case OPT_POLICY:
			if (gpuattest_config_set_policy_file(cfg, optarg) != 0) {
				cli_err("%s", gpuattest_config_error(cfg));
				return GPUATTEST_BAD_INPUT;
			}
			break;
		case OPT_HELP:
			fetch_mode ? cli_usage_fetch(stdout) : cli_usage_verify(stdout);
			return -1;
		default: return cli_bad_option(fetch_mode ? "fetch-collateral" : "verify", c, argv);
		}
	}
	if (optind < argc) {
		char msg[512];
		snprintf(msg, sizeof(msg), "unexpected argument '%s'", argv[optind]);
		return bad_usage(msg);
	}
	va->recorded = va->evidence != NULL || va->report != NULL || va->switch_evidence != NULL;
	if (fetch_mode && (va->output == NULL || !va->recorded))
		return bad_usage("fetch-collateral needs --evidence FILE (or --report/--cert-chain) and -o BUNDLE");
	if (strcmp(va->format, "ear") == 0 && !fetch_mode) {
		va->sign.ear_format = true;	/* the token is the output */
		va->quiet = true;
	}
	if (strcmp(va->format, "text") != 0 && strcmp(va->format, "json") != 0 && !va->sign.ear_format)
		return bad_usage("--format must be text, json or ear");
	if (cli_sign_check(&va->sign) != 0)
		return GPUATTEST_BAD_INPUT;
	if (va->remote.mode != CLI_VERIFIER_LOCAL && (va->set_ready || fetch_mode))
		return bad_usage("--set-ready and fetch-collateral go with the local verifier only");
	if (va->remote.mode == CLI_VERIFIER_NRAS && cfg->rp != NULL)
		return bad_usage("--policy decides on the local verifier's claims: use --verifier both or local");
	if (va->remote.mode == CLI_VERIFIER_NRAS && va->sign.key != NULL)
		return bad_usage("--result-token signs the local verdict: use --verifier both or local");
	va->json = strcmp(va->format, "json") == 0;
	if (va->evidence != NULL && va->report != NULL)
		return bad_usage("give either --evidence or --report, not both");
	if (va->evidence != NULL && va->switch_evidence != NULL && strcmp(va->evidence, "-") == 0 &&
	    strcmp(va->switch_evidence, "-") == 0)
		return bad_usage("standard input (-) can hold only one of --evidence and --switch-evidence");
	if (va->switch_evidence != NULL && va->report != NULL)
		return bad_usage("--switch-evidence goes with --evidence (JSON), not --report");
	if ((va->report != NULL) != (va->chain != NULL))
		return bad_usage("--report and --cert-chain go together");
	if (va->recorded && (va->set_ready || va->gpus != NULL))
		return bad_usage("--set-ready and --gpu apply to the live system, not to recorded evidence");
	/* The ready state is one flag for the whole system: attesting some
	 * GPUs cannot vouch for the others. */
	if (va->set_ready && va->gpus != NULL)
		return bad_usage("--set-ready marks every GPU of the system ready, so it needs every GPU "
		    "attested: drop --gpu (nothing was attested and the ready state was not changed)");
	if (va->color < 0)
		va->color = cli_color_default(STDOUT_FILENO);
	return 0;
}

/* GPUs of the appraisal that passed. */
static int gpus_attested(const struct gpa_appraisal *a)
{
	int n = 0;

	for (size_t i = 0; i < a->n; i++)
		n += a->dev[i].kind == GPA_DEV_GPU && a->dev[i].live;
	return n;
}

/* Marks the GPUs ready only after a pass of every GPU the driver reports,
 * not ready otherwise. */
static void apply_ready_state(struct gpa_live *l, gpuattest_result *res)
{
	bool ready = res->a.verdict == GPA_PASS;
	struct gpa_err e = {{0}};

	if (ready && gpus_attested(&res->a) != l->sys.gpus_total) {
		/* Never READY for a part of the system (cannot happen without
		 * --gpu, which is refused; kept so that it stays impossible). */
		appraisal_sys_add(&res->a, "ready-scope", GPA_CHECK_FAIL,
		    "--set-ready: %d of the driver's %d GPU(s) were attested; the ready state covers all of them",
		    gpus_attested(&res->a), l->sys.gpus_total);
		res->a.verdict = GPA_FAIL;
		ready = false;
	}

	if (live_set_ready(l, ready, &e) == 0) {
		res->a.ready_state_after = ready;
		return;
	}
	snprintf(res->a.ready_state_error, sizeof(res->a.ready_state_error), "%s", e.msg);
	/* A gate asked for the GPUs to be marked ready and they could not be:
	 * the run did not complete what it was asked to do. */
	if (res->a.verdict == GPA_PASS)
		res->a.verdict = GPA_INCOMPLETE;
}

/* Evidence from files: a GPU set with switches, a GPU set, or one raw report. */
static int verify_recorded(gpuattest_config *cfg, const struct verify_args *va, gpuattest_result **res)
{
	if (va->switch_evidence != NULL)
		return gpuattest_verify_system_files(cfg, va->evidence, va->switch_evidence, res);
	if (va->evidence != NULL)
		return gpuattest_verify_evidence_file(cfg, va->evidence, res);
	return gpuattest_verify_report_files(cfg, va->report, va->chain, res);
}

/* --set-ready fails closed: a live run that stopped with an error is no
 * pass, so the GPUs must not stay ready. There is no result to carry the
 * outcome, so it is said on stderr. */
static void ready_after_error(struct gpa_live *l)
{
	struct gpa_err e = {{0}};

	if (!l->sys.present) {
		fprintf(stderr, "gpuattest: --set-ready: the driver could not be used, so the GPUs' "
		    "ready state was not changed\n");
		return;
	}
	if (live_set_ready(l, false, &e) == 0)
		fprintf(stderr, "gpuattest: --set-ready: the run did not pass: "
		    "GPUs ready state set to NOT READY.\n");
	else
		fprintf(stderr, "gpuattest: WARNING: --set-ready: the run did not pass and the GPUs "
		    "could not be marked NOT ready: %s\n", e.msg);
}

/* Ends a live run that stopped with an error; returns rc. */
static int live_error(struct gpa_live *l, const struct verify_args *va, int rc)
{
	if (va->set_ready)
		ready_after_error(l);
	live_close(l);
	return rc;
}

static int verify_live(gpuattest_config *cfg, const struct verify_args *va, gpuattest_result **res)
{
	struct gpa_live_opts o = {.nvml_lib = va->nvml_lib, .gpus = va->gpus, .have_nonce = va->have_nonce,
	    .progress = !va->quiet && cli_progress_default(STDERR_FILENO)};
	struct gpa_live l;
	struct gpa_err e = {{0}};

	memcpy(o.nonce, va->nonce, sizeof(o.nonce));
	/* Anchors and crypto libraries get ready while the devices answer. */
	api_warmup_start(cfg);
	if (live_open(&l, &o, &e) != 0 || live_collect(&l, &o, &e) != 0) {
		cli_err("%s", e.msg);
		if (l.bad_selection)
			return live_error(&l, va, -2);
		if (l.api == NULL || !l.sys.present)
			fprintf(stderr,
			    "Nothing could be attested on this machine.\n"
			    "To verify recorded evidence instead:\n"
			    "  gpuattest verify --evidence FILE --rim-dir DIR [--nonce HEX]\n"
			    "  gpuattest verify --report REPORT --cert-chain CHAIN.pem --rim-dir DIR\n"
			    "(see 'gpuattest help verify').\n");
		return live_error(&l, va, -1);
	}
	/* Protected PCIe: the switches are part of what must be trusted, on
	 * the same nonce, in the same verdict. */
	if (l.sys.multi_gpu_mode == 1 && l.sys.cc_feature != 1 &&
	    live_collect_switches(&l, va->nscq_lib, &e) != 0) {
		cli_err("%s", e.msg);
		return live_error(&l, va, -1);
	}
	gpuattest_config_set_nonce(cfg, l.nonce, sizeof(l.nonce));
	cfg->nonce_generated = l.nonce_generated;
	if (o.progress)
		fprintf(stderr, "gpuattest: verifying...\n");
	/* An error here (an unreadable anchor or bundle, evidence that cannot
	 * be appraised) comes after collection and yields no verdict. */
	if (api_run(cfg, &l.set, &l.sys, res) != 0) {
		cli_err("%s", gpuattest_config_error(cfg));
		return live_error(&l, va, -1);
	}
	if (va->set_ready)
		apply_ready_state(&l, *res);
	live_close(&l);
	return 0;
}

static int print_result(const struct verify_args *va, gpuattest_result *res)
{
	int verdict = gpuattest_result_verdict(res);
	char *out;

	if (va->quiet) {
		cli_quiet_reason(res);
		return verdict;
	}
	if (va->verbose)
		cli_print_collateral(stderr, &res->a);
	out = va->json ? gpuattest_result_json(res) : gpuattest_result_text(res, va->color);
	if (out == NULL) {
		fprintf(stderr, "gpuattest: out of memory\n");
		return GPUATTEST_INCOMPLETE;
	}
	fputs(out, stdout);
	if (va->json)
		fputc('\n', stdout);
	free(out);
	return verdict;
}

/* The whole verify command; *printed says whether a result went to stdout. */
static int run_verify(int argc, char **argv, bool *printed)
{
	gpuattest_config *cfg = gpuattest_config_new();
	gpuattest_result *res = NULL;
	struct verify_args va = {0};
	int rc;

	if (cfg == NULL) {
		fprintf(stderr, "gpuattest: out of memory\n");
		return GPUATTEST_INCOMPLETE;
	}
	rc = parse_verify_args(argc, argv, cfg, &va);
	if (rc != 0) {
		cli_sign_clear(&va.sign);
		gpuattest_config_free(cfg);
		return rc < 0 ? 0 : rc;
	}
	cli_waitline_attach(cfg, va.quiet, va.json);
	if (va.check_receipt != NULL) {
		rc = va.recorded || va.receipt != NULL || va.set_ready || va.sign.key != NULL ?
		    bad_usage("--check-receipt re-verifies a receipt on its own: no evidence, --receipt, "
		    "--set-ready or --sign options with it") : (*printed = true,
		    cli_receipt_check(cfg, va.check_receipt, va.json, va.quiet));
		cli_sign_clear(&va.sign);
		gpuattest_config_free(cfg);
		return rc;
	}
	if (va.receipt != NULL && api_receipt_prepare(cfg) != 0) {
		cli_sign_clear(&va.sign);
		gpuattest_config_free(cfg);
		return GPUATTEST_INCOMPLETE;
	}
	if (va.remote.mode == CLI_VERIFIER_NRAS) {
		struct cli_remote_input in = {va.evidence, va.switch_evidence, va.report, va.chain, va.quiet, va.json,
		    va.color};
		rc = cli_remote_only(cfg, &va.remote, &in);
		gpuattest_config_free(cfg);
		return rc;
	}
	rc = va.recorded ? verify_recorded(cfg, &va, &res) : verify_live(cfg, &va, &res);
	if (rc == -2) {
		cli_sign_clear(&va.sign);
		gpuattest_config_free(cfg);
		return GPUATTEST_BAD_INPUT;
	}
	if (rc != 0) {
		/* Live collection reports its own "could not complete" errors. */
		if (!va.recorded) {
			cli_sign_clear(&va.sign);
			gpuattest_config_free(cfg);
			return GPUATTEST_INCOMPLETE;
		}
		cli_err("%s", gpuattest_config_error(cfg));
		cli_sign_clear(&va.sign);
		gpuattest_config_free(cfg);
		return GPUATTEST_BAD_INPUT;
	}
	*printed = va.quiet || va.json;
	if (va.remote.mode == CLI_VERIFIER_BOTH) {
		struct cli_remote_input in = {.quiet = va.quiet, .json = va.json, .color = va.color};
		rc = cli_remote_both(cfg, &va.remote, res, &in);
	} else {
		rc = print_result(&va, res);
	}
	if (cli_sign_emit(&va.sign, res) != 0 && rc == 0)
		rc = GPUATTEST_INCOMPLETE;
	if (va.receipt != NULL && cli_receipt_emit(cfg, res, va.receipt, va.sign.result_token) != 0 && rc == 0)
		rc = GPUATTEST_INCOMPLETE;
	cli_sign_clear(&va.sign);
	gpuattest_result_free(res);
	gpuattest_config_free(cfg);
	return rc;
}

/* With --format json a document is printed whatever happens: the result,
 * or for a run stopped without a verdict (exit 2, 3) the error. --quiet
 * still prints nothing. */
int cli_verify(int argc, char **argv)
{
	bool printed = false;
	int rc = run_verify(argc, argv, &printed);

	if (!printed && (rc == GPUATTEST_BAD_INPUT || rc == GPUATTEST_INCOMPLETE) &&
	    cli_wants_json(argc, argv))
		cli_print_error_json(rc);
	return rc;
}

void cli_usage_fetch(FILE *f)
{
	fprintf(f,
"usage: gpuattest fetch-collateral --evidence FILE -o BUNDLE [options]\n"
"\n"
"Downloads every RIM and OCSP answer that the evidence needs (all at once) into\n"
"one file, for verifying later on a machine without network access:\n"
"\n"
"  gpuattest fetch-collateral --evidence gpus.json -o collateral.json\n"
"  gpuattest verify --evidence gpus.json --collateral collateral.json --offline\n"
"\n"
"Everything in the bundle is verified again when it is used: RIM signatures and\n"
"chains, OCSP signatures, responders and nextUpdate, so a tampered bundle fails.\n"
"\n"
"  -o, --output BUNDLE  where to write it (atomically)\n"
"  --evidence FILE, --report FILE --cert-chain FILE, --rim-dir DIR,\n"
"  --device-anchor FILE, --rim-anchor FILE, --trust-anchor FILE,\n"
"  --no-pinned-anchors, --ocsp-url URL, --rim-url URL,\n"
"  --service-key KEY, --cache-dir DIR, --no-cache, --connect-timeout MS,\n"
"  --timeout MS, --total-timeout MS, --retries N, --at TIME\n"
"                       as for 'gpuattest verify'\n"
"\n"
"Exit codes: 0 every RIM and OCSP answer was fetched and written; 2 bad usage or\n"
"unreadable evidence; 3 something could not be fetched (the bundle is still\n"
"written with what was found, and what is missing is listed).\n");
}

/* Lists what the bundle lacks: RIMs not found, chains without an answer. */
static int report_missing(const gpuattest_result *res)
{
	int missing = 0;

	for (size_t i = 0; i < res->a.n; i++)
		for (int k = 0; k < res->a.dev[i].nchecks; k++) {
			const struct gpa_check *c = &res->a.dev[i].checks[k];
			if (c->outcome != GPA_CHECK_NOT_DONE || strcmp(c->id, "measurements") == 0)
				continue;
			fprintf(stderr, "gpuattest: missing for %s: %s\n", res->a.dev[i].label, c->detail);
			missing++;
		}
	return missing;
}

int cli_fetch_collateral(int argc, char **argv)
{
	gpuattest_config *cfg = gpuattest_config_new();
	gpuattest_result *res = NULL;
	struct verify_args va = {.fetch_mode = true};
	struct gpa_err e = {{0}};
	int rc, missing;

	if (cfg == NULL || (cfg->record = bundle_new()) == NULL) {
		fprintf(stderr, "gpuattest: out of memory\n");
		gpuattest_config_free(cfg);
		return GPUATTEST_INCOMPLETE;
	}
	rc = parse_verify_args(argc, argv, cfg, &va);
	if (rc != 0) {
		gpuattest_config_free(cfg);
		return rc < 0 ? 0 : rc;
	}
	/* No verdict here: freshness is judged by the verify that uses the bundle. */
	gpuattest_config_insecure_accept_evidence_nonce(cfg);
	if (cfg->offline || cfg->insecure_no_ocsp || cfg->collateral_path != NULL ||
	    va.sign.key != NULL || va.sign.result_token != NULL) {
		cli_sign_clear(&va.sign);
		gpuattest_config_free(cfg);
		return bad_usage("fetch-collateral fetches: --offline, --no-ocsp, --collateral and the --sign "
		    "options do not apply");
	}
	cli_waitline_attach(cfg, false, false);
	rc = verify_recorded(cfg, &va, &res);
	if (rc != 0) {
		fprintf(stderr, "gpuattest: %s\n", gpuattest_config_error(cfg));
		gpuattest_config_free(cfg);
		return GPUATTEST_BAD_INPUT;
	}
	missing = report_missing(res);
	if (bundle_write(cfg->record, va.output, &e) != 0) {
		fprintf(stderr, "gpuattest: %s\n", e.msg);
		rc = GPUATTEST_INCOMPLETE;
	} else {
		fprintf(stderr, "gpuattest: wrote %s: %zu RIM(s), %zu OCSP answer(s)%s\n", va.output,
		    cfg->record->nrims, cfg->record->nocsp, missing ? "; INCOMPLETE, see above" : "");
		rc = missing ? GPUATTEST_INCOMPLETE : 0;
	}
	gpuattest_result_free(res);
	gpuattest_config_free(cfg);
	return rc;
}
