/*
 * gpuattest preflight: will this system still attest after an upgrade?
 * Users' most common failure is "NVIDIA has not published a RIM for this
 * driver/VBIOS"; this says so before the upgrade, for the RIM ids the
 * upgraded system will need, with each RIM judged as verification judges it.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "api/preflight.h"
#include "collect/collect.h"
#include "evidence/evidence.h"
#include "spdm/spdm.h"
#include "x509/x509.h"

void cli_usage_preflight(FILE *f)
{
	fputs(
	    "usage: gpuattest preflight --driver VERSION [--vbios VERSION] [--switch-bios VERSION]\n"
	    "                           (--gpu-arch ARCH [--chip CHIP] [--board BOARD] |\n"
	    "                            --this-system | --evidence FILE) [OPTIONS]\n"
	    "\n"
	    "Before an upgrade, says whether the reference manifests (RIMs) attestation will\n"
	    "need afterwards are published, signed by NVIDIA's RIM signing chain, of the\n"
	    "right version, unexpired and not revoked: e.g.\n"
	    "  driver 610.43.02 on GH100: RIM NV_GPU_DRIVER_GH100_610.43.02 published, signed,\n"
	    "  valid until 2027-05-01T00:00:00Z\n"
	    "or \"not published: attestation will fail after this upgrade\".\n"
	    "\n"
	    "What the upgraded system runs:\n"
	    "  --driver VERSION      the new driver version (e.g. 610.43.02)\n"
	    "  --vbios VERSION       the new VBIOS version (e.g. 96.00.9F.00.04); without it,\n"
	    "                        with --this-system/--evidence, the VBIOS each GPU has now\n"
	    "  --switch-bios VERSION the new NVSwitch BIOS version (LS10)\n"
	    "Which GPUs (one of):\n"
	    "  --this-system         this machine's GPUs, asked through the NVIDIA driver\n"
	    "                        (--nvml-lib PATH for another NVML library); NVSwitches\n"
	    "                        are not asked for: name --switch-bios for them\n"
	    "  --evidence FILE       the GPUs described by recorded evidence (NVIDIA's JSON,\n"
	    "                        as 'gpuattest collect' writes it); '-' reads stdin\n"
	    "  --gpu-arch ARCH       hopper, blackwell or rubin; with --chip CHIP for\n"
	    "                        Blackwell's CHIP_INFO (default GB100, as NVIDIA's) and\n"
	    "                        --board PROJECT_PROJECTSKU_CHIPSKU (e.g. G520_0200_885)\n"
	    "                        to check a VBIOS\n"
	    "Where RIMs are looked for (in this order), and how they are judged:\n"
	    "  --rim-dir DIR (up to 3), --collateral BUNDLE, the cache (--cache-dir DIR,\n"
	    "  --no-cache), the RIM service (--rim-url URL, --service-key KEY; not with\n"
	    "  --offline); --ocsp-url URL, --no-ocsp (revocation not checked: said);\n"
	    "  --rim-anchor FILE (or --trust-anchor FILE), --no-pinned-anchors;\n"
	    "  --at TIME (judge validity at TIME instead of now, e.g. the planned date);\n"
	    "  --timeout MS (per HTTP attempt), --retries N (0..20)\n"
	    "Output:\n"
	    "  --format text|json, --quiet (only the exit code and a one-line reason)\n"
	    "\n"
	    "Exit: 0 every RIM needed is published and valid; 1 one is not published or not\n"
	    "usable (bad signature, expired or revoked chain, other version); 2 bad usage;\n"
	    "3 could not complete (network, revocation unknown, or a GPU NVIDIA defines no\n"
	    "RIM scheme for, such as Rubin).\n", f);
}

struct pf_args {
	const char *driver, *vbios, *switch_bios, *arch, *chip, *board, *evidence, *nvml_lib;
	bool this_system, json, quiet;
};

static int pf_usage(const char *msg)
{
	fprintf(stderr, "gpuattest preflight: %s (see 'gpuattest help preflight')\n", msg);
	return GPUATTEST_BAD_INPUT;
}

static bool dotted_version(const char *v, bool hex, int min_parts, int max_parts)
{
	int parts = 1, run = 0;

	for (const char *p = v; *p; p++) {
		if (*p == '.') {
			if (run == 0)
				return false;
			parts++;
			run = 0;
		} else if ((*p >= '0' && *p <= '9') ||
		    (hex && ((*p >= 'A' && *p <= 'F') || (*p >= 'a' && *p <= 'f')))) {
			if (++run > 8)
				return false;
		} else {
			return false;
		}
	}
	return run > 0 && parts >= min_parts && parts <= max_parts;
}

static bool board_valid(const char *b)
{
	int parts = 1;

	for (const char *p = b; *p; p++) {
		if (*p == '_')
			parts++;
		else if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
			return false;
	}
	return parts == 3 && b[0] != '_' && b[strlen(b) - 1] != '_' && strstr(b, "__") == NULL;
}

enum {
	P_DRIVER = 256, P_VBIOS, P_SWITCH_BIOS, P_ARCH, P_CHIP, P_BOARD, P_THIS, P_EVIDENCE, P_NVML,
	P_RIM_DIR, P_COLLATERAL, P_CACHE_DIR, P_NO_CACHE, P_RIM_URL, P_SERVICE_KEY, P_OFFLINE,
	P_OCSP_URL, P_NO_OCSP, P_ANCHOR, P_RIM_ANCHOR, P_NO_PINNED, P_AT, P_FORMAT, P_QUIET, P_HELP,
	P_TIMEOUT, P_RETRIES,
};

static int pf_config_option(gpuattest_config *cfg, int c, const char *arg)
{
	time_t at;

	switch (c) {
	case P_RIM_DIR:
		if (access(arg, R_OK | X_OK) != 0) {
			fprintf(stderr, "gpuattest preflight: --rim-dir %s: not a readable directory\n", arg);
			return GPUATTEST_BAD_INPUT;
		}
		return gpuattest_config_add_rim_dir(cfg, arg) == 0 ? 0 : pf_usage(gpuattest_config_error(cfg));
	case P_COLLATERAL: gpuattest_config_set_collateral(cfg, arg); return 0;
	case P_CACHE_DIR: gpuattest_config_set_cache_dir(cfg, arg); return 0;
	case P_NO_CACHE: gpuattest_config_no_cache(cfg); return 0;
	case P_RIM_URL: gpuattest_config_set_rim_url(cfg, arg); return 0;
	case P_SERVICE_KEY: gpuattest_config_set_service_key(cfg, arg); return 0;
	case P_OFFLINE: gpuattest_config_offline(cfg); return 0;
	case P_OCSP_URL: gpuattest_config_set_ocsp_url(cfg, arg); return 0;
	case P_NO_OCSP: gpuattest_config_insecure_skip_revocation(cfg); return 0;
	case P_ANCHOR:
	case P_RIM_ANCHOR:
		/* Only RIM chains are judged here: an anchor serves RIM signing. */
		return (c == P_ANCHOR ? gpuattest_config_add_trust_anchor_file(cfg, arg) :
		    gpuattest_config_add_rim_anchor_file(cfg, arg)) == 0 ? 0 :
		    pf_usage(gpuattest_config_error(cfg));
	case P_NO_PINNED: gpuattest_config_no_pinned_anchors(cfg); return 0;
	case P_TIMEOUT:
	case P_RETRIES: {
		char *end;
		long v = strtol(arg, &end, 10);

		if (*arg == '\0' || *end != '\0' || v < 0 || v > (c == P_RETRIES ? 20 : 600000))
			return pf_usage(c == P_RETRIES ? "--retries needs 0..20" : "--timeout needs milliseconds, 0..600000");
		if (c == P_RETRIES)
			cfg->retries = (int)v;
		else
			cfg->timeout_ms = v;
		return 0;
	}
	case P_AT:
		if (cli_parse_time(arg, &at) != 0)
			return GPUATTEST_BAD_INPUT;
		gpuattest_config_set_time(cfg, at);
		return 0;
	}
	return pf_usage("unknown option");
}

static int parse_pf_args(int argc, char **argv, gpuattest_config *cfg, struct pf_args *a)
{
	static const struct option opts[] = {
		{"driver", required_argument, NULL, P_DRIVER},
		{"vbios", required_argument, NULL, P_VBIOS},
		{"switch-bios", required_argument, NULL, P_SWITCH_BIOS},
		{"gpu-arch", required_argument, NULL, P_ARCH},
		{"chip", required_argument, NULL, P_CHIP},
		{"board", required_argument, NULL, P_BOARD},
		{"this-system", no_argument, NULL, P_THIS},
		{"evidence", required_argument, NULL, P_EVIDENCE},
		{"nvml-lib", required_argument, NULL, P_NVML},
		{"rim-dir", required_argument, NULL, P_RIM_DIR},
		{"collateral", required_argument, NULL, P_COLLATERAL},
		{"cache-dir", required_argument, NULL, P_CACHE_DIR},
		{"no-cache", no_argument, NULL, P_NO_CACHE},
		{"rim-url", required_argument, NULL, P_RIM_URL},
		{"service-key", required_argument, NULL, P_SERVICE_KEY},
		{"offline", no_argument, NULL, P_OFFLINE},
		{"ocsp-url", required_argument, NULL, P_OCSP_URL},
		{"no-ocsp", no_argument, NULL, P_NO_OCSP},
		{"trust-anchor", required_argument, NULL, P_ANCHOR},
		{"rim-anchor", required_argument, NULL, P_RIM_ANCHOR},
		{"no-pinned-anchors", no_argument, NULL, P_NO_PINNED},
		{"at", required_argument, NULL, P_AT},
		{"timeout", required_argument, NULL, P_TIMEOUT},
		{"retries", required_argument, NULL, P_RETRIES},
		{"format", required_argument, NULL, P_FORMAT},
		{"quiet", no_argument, NULL, P_QUIET},
		{"help", no_argument, NULL, P_HELP},
		{NULL, 0, NULL, 0},
	};
	const char *format = "text";
	int c, rc, sources;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case P_DRIVER: a->driver = optarg; break;
		case P_VBIOS: a->vbios = optarg; break;
		case P_SWITCH_BIOS: a->switch_bios = optarg; break;
		case P_ARCH: a->arch = optarg; break;
		case P_CHIP: a->chip = optarg; break;
		case P_BOARD: a->board = optarg; break;
		case P_THIS: a->this_system = true; break;
		case P_EVIDENCE: a->evidence = optarg; break;
		case P_NVML: a->nvml_lib = optarg; break;
		case P_FORMAT: format = optarg; break;
		case P_QUIET: a->quiet = true; break;
		case 'h':
		case P_HELP: cli_usage_preflight(stdout); return -1;
		case '?': return pf_usage("unknown option or missing argument");
		default:
			if ((rc = pf_config_option(cfg, c, optarg)) != 0)
				return rc;
		}
	}
	if (optind < argc)
		return pf_usage("unexpected argument");
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
		return pf_usage("--format must be text or json");
	a->json = strcmp(format, "json") == 0;
	sources = (a->arch != NULL) + a->this_system + (a->evidence != NULL);
	if (a->driver == NULL && a->vbios == NULL && a->switch_bios == NULL)
		return pf_usage("name what the upgrade brings: --driver VERSION, --vbios VERSION or --switch-bios VERSION");
	if ((a->driver != NULL || a->vbios != NULL) && sources != 1)
		return pf_usage("say which GPUs: exactly one of --gpu-arch ARCH, --this-system, --evidence FILE");
	if (a->driver != NULL && !dotted_version(a->driver, false, 2, 4))
		return pf_usage("--driver needs a version such as 610.43.02");
	if (a->vbios != NULL && !dotted_version(a->vbios, true, 5, 5))
		return pf_usage("--vbios needs a version such as 96.00.9F.00.04");
	if (a->switch_bios != NULL && !dotted_version(a->switch_bios, true, 5, 5))
		return pf_usage("--switch-bios needs a version such as 96.10.55.00.01");
	if (a->board != NULL && !board_valid(a->board))
		return pf_usage("--board needs PROJECT_PROJECTSKU_CHIPSKU, e.g. G520_0200_885");
	if (a->vbios != NULL && a->arch != NULL && a->board == NULL)
		return pf_usage("--vbios with --gpu-arch needs --board PROJECT_PROJECTSKU_CHIPSKU (the VBIOS RIM id names the board)");
	if ((a->chip != NULL || a->board != NULL) && a->arch == NULL)
		return pf_usage("--chip and --board go with --gpu-arch");
	if (a->nvml_lib != NULL && !a->this_system)
		return pf_usage("--nvml-lib goes with --this-system");
	return 0;
}

/* ---- what the upgraded system will need -------------------------------- */

struct pf_list {
	size_t n;
	struct gpa_pf_item it[GPA_PF_MAX_ITEMS];
};

static char *upper(char *s)
{
	for (char *p = s; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	return s;
}

/* Adds an item unless the same RIM id is already listed. */
static int add_item(struct pf_list *l, const char *kind, const char *target, const char *version,
    const char *rim_id)
{
	struct gpa_pf_item *it;

	for (size_t i = 0; i < l->n; i++)
		if (rim_id[0] && strcmp(l->it[i].rim_id, rim_id) == 0)
			return 0;
		else if (!rim_id[0] && strcmp(l->it[i].target, target) == 0 && strcmp(l->it[i].kind, kind) == 0)
			return 0;
	if (l->n >= GPA_PF_MAX_ITEMS) {
		fprintf(stderr, "gpuattest preflight: more than %d reference manifests to check\n", GPA_PF_MAX_ITEMS);
		return -1;
	}
	it = &l->it[l->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	snprintf(it->target, sizeof(it->target), "%s", target);
	snprintf(it->version, sizeof(it->version), "%s", version);
	snprintf(it->rim_id, sizeof(it->rim_id), "%s", rim_id);
	if (!rim_id[0]) {
		it->status = GPA_PF_NO_SCHEME;
		snprintf(it->detail, sizeof(it->detail), "no reference manifest scheme for %s in this version: "
		    "NVIDIA defines no RIM id for it, so it cannot be attested by RIMs", target);
	}
	return 0;
}

/* A VBIOS or switch BIOS version NVIDIA names RIMs by: 10 hex digits once
 * the dots are gone (96.00.9F.00.04). */
static bool bios_version_usable(const char *v)
{
	size_t n = 0;

	for (const char *p = v; *p; p++)
		n += *p != '.';
	return n == 10;
}

/* The RIM ids verification would ask for (report_rim_ids, spdm/derive.c)
 * once the upgrade is in: the device's board and chip as now, the versions
 * the upgrade brings. false when the architecture has no RIM id scheme. */
static bool upgraded_rim_ids(enum gpa_arch arch, const struct report_info *now, const char *driver,
    const char *vbios, struct report_info *ri)
{
	struct gpa_err e;

	if (now != NULL)
		*ri = *now;
	else
		memset(ri, 0, sizeof(*ri));
	snprintf(ri->driver_version, sizeof(ri->driver_version), "%s", driver != NULL ? driver : "");
	snprintf(ri->vbios_version, sizeof(ri->vbios_version), "%s", vbios != NULL ? vbios : "");
	return report_rim_ids(ri, arch, &e) == 0;
}

/* One GPU (or an architecture): its driver RIM and, when its board is
 * known (now: its report, or --board), its VBIOS RIM. */
static int add_gpu(struct pf_list *l, const struct pf_args *a, enum gpa_arch arch, const char *arch_label,
    const struct report_info *now)
{
	const char *vbios = a->vbios != NULL ? a->vbios : now != NULL ? now->vbios_version : NULL;
	const char *chip = now != NULL && now->chip_info[0] ? now->chip_info : NULL;
	bool board = now != NULL && now->project[0];
	char target[64], vb[64] = "";
	struct report_info ri;

	if (vbios != NULL) {
		snprintf(vb, sizeof(vb), "%s", vbios);
		upper(vb);
	}
	if (!upgraded_rim_ids(arch, now, a->driver, vb, &ri))
		ri.driver_rim_id[0] = ri.vbios_rim_id[0] = '\0';
	if (a->driver != NULL) {
		snprintf(target, sizeof(target), "%s", arch == GPA_ARCH_BLACKWELL ? (chip != NULL ? chip : "GB100") :
		    arch == GPA_ARCH_HOPPER ? "GH100" : arch_label);
		if (add_item(l, "driver", target, a->driver, ri.driver_rim_id) != 0)
			return -1;
	}
	if (vb[0] && board) {
		const char *id = bios_version_usable(vb) ? ri.vbios_rim_id : "";

		if (id[0])
			snprintf(target, sizeof(target), "%s_%s_%s", now->project, now->project_sku, now->chip_sku);
		else
			snprintf(target, sizeof(target), "%s", arch_label);
		if (add_item(l, "VBIOS", target, vb, id) != 0)
			return -1;
	}
	return 0;
}

/* --board PROJECT_PROJECTSKU_CHIPSKU and --chip as the fields of a report. */
static void board_info(const char *board, const char *chip, struct report_info *ri)
{
	const char *p = board;
	char *fields[3];
	size_t sizes[3];

	memset(ri, 0, sizeof(*ri));
	snprintf(ri->chip_info, sizeof(ri->chip_info), "%s", chip != NULL ? chip : "");
	if (board == NULL)
		return;
	fields[0] = ri->project, fields[1] = ri->project_sku, fields[2] = ri->chip_sku;
	sizes[0] = sizeof(ri->project), sizes[1] = sizeof(ri->project_sku), sizes[2] = sizeof(ri->chip_sku);
	for (int i = 0; i < 3 && *p; i++) {
		size_t n = strcspn(p, "_");

		snprintf(fields[i], sizes[i], "%.*s", (int)n, p);
		p += n + (p[n] == '_');
	}
}

static enum gpa_arch arch_option(const char *s, const char **label)
{
	if (strcasecmp(s, "hopper") == 0) {
		*label = "GH100";
		return GPA_ARCH_HOPPER;
	}
	if (strcasecmp(s, "blackwell") == 0) {
		*label = "Blackwell";
		return GPA_ARCH_BLACKWELL;
	}
	if (strcasecmp(s, "rubin") == 0) {
		*label = "Rubin";
		return GPA_ARCH_RUBIN;
	}
	*label = NULL;
	return GPA_ARCH_UNKNOWN;
}

/* What one collected or recorded GPU runs now: architecture (from its
 * BROM certificate's CN), board and VBIOS (from its report). This only
 * decides which RIMs to look for; nothing here is trusted. */
static int describe_gpu(const struct evidence_item *it, struct pf_list *l, const struct pf_args *a)
{
	struct spdm_report *r = calloc(1, sizeof(*r));
	struct report_info info;
	struct gpa_err e = {{0}};
	STACK_OF(X509) *chain = NULL;
	char *cn = NULL, label[64];
	enum gpa_arch arch = GPA_ARCH_UNKNOWN;
	int rc = -1;

	memset(&info, 0, sizeof(info));
	if (r == NULL)
		return -1;
	if (spdm_parse_report(it->report, it->report_len, GPA_DEV_GPU, r, &e) != 0 ||
	    report_info_derive(r, &info, &e) != 0) {
		fprintf(stderr, "gpuattest preflight: a GPU's report cannot be read: %s\n", e.msg);
		goto out;
	}
	chain = chain_from_pem(it->chain_pem, it->chain_len, 8, &e);
	if (chain == NULL) {
		fprintf(stderr, "gpuattest preflight: a GPU's certificate chain cannot be read: %s\n", e.msg);
		goto out;
	}
	if (sk_X509_num(chain) >= 2)
		cn = cert_subject_cn(sk_X509_value(chain, 1));
	arch = arch_from_hwmodel(cn != NULL ? cn : "");
	snprintf(label, sizeof(label), "%s", cn != NULL && *cn ? cn : "an unknown GPU");
	if (cn != NULL && strchr(label, ' ') != NULL)
		*strchr(label, ' ') = '\0';	/* "GH100 A01 GSP BROM" -> "GH100" */
	rc = add_gpu(l, a, arch, label, &info);
out:
	free(cn);
	sk_X509_pop_free(chain, X509_free);
	free(r);
	return rc;
}

static int describe_set(const struct evidence_set *set, struct pf_list *l, const struct pf_args *a)
{
	if (set->n == 0) {
		fprintf(stderr, "gpuattest preflight: no GPU to check\n");
		return -1;
	}
	for (size_t i = 0; i < set->n; i++)
		if (!set->items[i].not_cc && describe_gpu(&set->items[i], l, a) != 0)
			return -1;
	return 0;
}

/* 0, or an exit code. */
static int build_list(const struct pf_args *a, struct pf_list *l)
{
	struct gpa_err e = {{0}};
	int rc;

	l->n = 0;
	if (a->arch != NULL) {
		const char *label;
		enum gpa_arch arch = arch_option(a->arch, &label);

		if (label == NULL)
			return pf_usage("--gpu-arch must be hopper, blackwell or rubin");
		struct report_info now;

		board_info(a->board, a->chip, &now);
		if (add_gpu(l, a, arch, label, &now) != 0)
			return GPUATTEST_BAD_INPUT;
	} else if (a->evidence != NULL) {
		struct evidence_set set;

		if (evidence_load_json_file(a->evidence, GPA_DEV_GPU, &set, &e) != 0) {
			fprintf(stderr, "gpuattest preflight: %s\n", e.msg);
			return GPUATTEST_BAD_INPUT;
		}
		rc = describe_set(&set, l, a);
		evidence_set_clear(&set);
		if (rc != 0)
			return GPUATTEST_BAD_INPUT;
	} else if (a->this_system) {
		struct gpa_live_opts o = {.nvml_lib = a->nvml_lib};
		struct gpa_live live;

		if (live_open(&live, &o, &e) != 0 || live_collect(&live, &o, &e) != 0) {
			fprintf(stderr, "gpuattest preflight: this system's GPUs cannot be asked: %s\n", e.msg);
			live_close(&live);
			return GPUATTEST_INCOMPLETE;
		}
		rc = describe_set(&live.set, l, a);
		live_close(&live);
		if (rc != 0)
			return GPUATTEST_INCOMPLETE;
	}
	if (a->switch_bios != NULL) {
		struct report_info ri;
		char v[64];

		snprintf(v, sizeof(v), "%s", a->switch_bios);
		upper(v);
		if (!bios_version_usable(v) || !upgraded_rim_ids(GPA_ARCH_LS10, NULL, NULL, v, &ri) ||
		    add_item(l, "switch BIOS", "LS10", v, ri.vbios_rim_id) != 0)
			return GPUATTEST_BAD_INPUT;
	}
	return 0;
}

/* ---- output --------------------------------------------------------------- */

static int exit_code(const struct pf_list *l)
{
	bool incomplete = false;

	for (size_t i = 0; i < l->n; i++) {
		if (l->it[i].status == GPA_PF_NOT_PUBLISHED || l->it[i].status == GPA_PF_INVALID)
			return GPUATTEST_FAILED;
		if (l->it[i].status != GPA_PF_READY)
			incomplete = true;
	}
	return incomplete ? GPUATTEST_INCOMPLETE : GPUATTEST_VERIFIED;
}

static size_t count_status(const struct pf_list *l, enum gpa_pf_status s)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->it[i].status == s;
	return n;
}

static void print_text(const struct pf_list *l, int rc, bool no_ocsp)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct gpa_pf_item *it = &l->it[i];

		printf("%s %s on %s: ", it->kind, it->version, it->target);
		if (it->rim_id[0])
			printf("RIM %s ", it->rim_id);
		printf("%s", it->detail);
		if (it->status == GPA_PF_READY && it->ocsp_status[0])
			printf("; revocation: %s", it->ocsp_status);
		if (it->source[0])
			printf(" [from %s]", it->source);
		putchar('\n');
	}
	if (no_ocsp)
		printf("WARNING: revocation was not checked (--no-ocsp).\n");
	if (rc == GPUATTEST_VERIFIED)
		printf("PREFLIGHT OK: all %zu reference manifest(s) this upgrade needs are published and valid.\n", l->n);
	else if (rc == GPUATTEST_FAILED)
		printf("PREFLIGHT FAILED: %zu of %zu reference manifest(s) this upgrade needs are not published "
		    "or not usable: attestation will fail after this upgrade.\n",
		    count_status(l, GPA_PF_NOT_PUBLISHED) + count_status(l, GPA_PF_INVALID), l->n);
	else
		printf("PREFLIGHT INCOMPLETE: %zu of %zu reference manifest(s) could not be checked.\n",
		    l->n - count_status(l, GPA_PF_READY), l->n);
}

static void print_json(const struct pf_list *l, int rc, bool no_ocsp)
{
	json_t *doc = json_object(), *arr = json_array();
	char *s;

	for (size_t i = 0; i < l->n; i++) {
		const struct gpa_pf_item *it = &l->it[i];
		json_t *o = json_object();

		json_object_set_new(o, "kind", json_string(it->kind));
		json_object_set_new(o, "target", json_string(it->target));
		json_object_set_new(o, "version", json_string(it->version));
		json_object_set_new(o, "rim_id", it->rim_id[0] ? json_string(it->rim_id) : json_null());
		json_object_set_new(o, "status", json_string(preflight_status_name(it->status)));
		json_object_set_new(o, "published", json_boolean(it->status != GPA_PF_NOT_PUBLISHED &&
		    it->status != GPA_PF_NO_SCHEME && it->source[0] != '\0'));
		json_object_set_new(o, "detail", json_string(it->detail));
		json_object_set_new(o, "source", it->source[0] ? json_string(it->source) : json_null());
		json_object_set_new(o, "signature_verified", json_boolean(it->signature_verified));
		json_object_set_new(o, "chain_status", it->source[0] ?
		    json_string(cert_status_name(it->chain_status)) : json_null());
		json_object_set_new(o, "valid_until", it->valid_until[0] ? json_string(it->valid_until) : json_null());
		json_object_set_new(o, "ocsp_status", it->ocsp_status[0] ? json_string(it->ocsp_status) : json_null());
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "result", json_string(rc == 0 ? "ready" : rc == 1 ? "not-ready" : "incomplete"));
	json_object_set_new(doc, "exit_code", json_integer(rc));
	json_object_set_new(doc, "revocation_checked", json_boolean(!no_ocsp));
	json_object_set_new(doc, "manifests", arr);
	s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(doc);
}

/* --quiet: the reason for a non-zero exit, one line on stderr. */
static void print_reason(const struct pf_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->it[i].status != GPA_PF_READY) {
			fprintf(stderr, "gpuattest preflight: %s %s on %s: %s\n", l->it[i].kind, l->it[i].version,
			    l->it[i].target, l->it[i].detail);
			return;
		}
}

int cli_preflight(int argc, char **argv)
{
	gpuattest_config *cfg = gpuattest_config_new();
	struct pf_list *l = calloc(1, sizeof(*l));
	struct pf_args a;
	int rc;

	if (cfg == NULL || l == NULL) {
		fprintf(stderr, "gpuattest: out of memory\n");
		gpuattest_config_free(cfg);
		free(l);
		return GPUATTEST_INCOMPLETE;
	}
	rc = parse_pf_args(argc, argv, cfg, &a);
	if (rc == 0)
		rc = build_list(&a, l);
	if (rc == 0 && api_preflight(cfg, l->it, l->n) != 0) {
		fprintf(stderr, "gpuattest preflight: %s\n", gpuattest_config_error(cfg));
		rc = GPUATTEST_BAD_INPUT;
	} else if (rc == 0) {
		rc = exit_code(l);
		if (a.json)
			print_json(l, rc, cfg->insecure_no_ocsp);
		else if (!a.quiet)
			print_text(l, rc, cfg->insecure_no_ocsp);
		if (a.quiet && rc != 0)
			print_reason(l);
	}
	gpuattest_config_free(cfg);
	free(l);
	return rc < 0 ? 0 : rc;
}
