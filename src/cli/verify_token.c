/*
 * gpuattest verify-token: a relying party's check of a signed result, an
 * NRAS detached EAT or one of our EARs (rules in src/token/token.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "net/cache.h"
#include "net/jwks.h"
#include "token/token.h"

#define DEFAULT_NRAS_URL "https://nras.attestation.nvidia.com"

void cli_usage_verify_token(FILE *f)
{
	fprintf(f,
"usage: gpuattest verify-token [options] [TOKEN_FILE]\n"
"\n"
"Verifies a signed attestation result and prints its verified claims:\n"
"  - an NRAS detached EAT ([[\"JWT\", overall], {\"GPU-0\": jwt, ...}]), as NVIDIA's\n"
"    Remote Attestation Service returns it, against NRAS's JWKS;\n"
"  - an EAR made by 'gpuattest verify --result-token', against its JWKS or key.\n"
"TOKEN_FILE '-' or absent: standard input.\n"
"\n"
"Every token must be a compact JWS with alg ES384 (none, HS256 and every other\n"
"alg are refused), a kid found in the keys, iss byte-equal to the expected\n"
"issuer, an exp not past and nbf/iat not ahead (with the leeway below), and a\n"
"signature that verifies. A detached EAT must also have: every submod's token\n"
"valid and its SHA-256 equal to the overall token's digest, the same labels on\n"
"both sides, an eat_nonce (equal to --nonce when given, in every submod too),\n"
"x-nvidia-overall-att-result true AND every device passing NVIDIA's policy\n"
"(measres success, every certificate chain valid with OCSP good, no error\n"
"details): a failing device fails the token even when the overall result\n"
"says true. An EAR must have ear_status affirming, and in every submod.\n"
"\n"
"  --type detached-eat|ear   what the token is (default: detected, a detached\n"
"                       EAT starts with '[')\n"
"  --nras-url URL       NRAS base (default " DEFAULT_NRAS_URL ";\n"
"                       env GPUATTEST_NRAS_URL). A detached EAT's expected issuer\n"
"                       is this URL without a trailing '/', its keys come from\n"
"                       URL/.well-known/jwks.json\n"
"  --issuer ISS         the expected iss instead (an EAR's default: \"" TOKEN_DEFAULT_ISSUER "\", the\n"
"                       default of 'verify --sign-issuer')\n"
"  --jwks FILE          the keys, from a JWKS file ('gpuattest jwks' prints one)\n"
"  --key FILE           the key, from a PEM public key or certificate; its kid is\n"
"                       --kid, or else the key's RFC 7638 thumbprint\n"
"  --kid KID            with --key: the kid that key answers to\n"
"  --jwks-url URL       the keys, fetched from this URL (https, or http to\n"
"                       loopback). Fetched keys are kept %d s in the cache\n"
"                       directory and fetched again when a token names a kid they\n"
"                       lack (a rotated key); redirects are never followed.\n"
"  --nonce HEX          the nonce the token must carry (hex; an EAR carries it in\n"
"                       base64url, which is compared as bytes)\n"
"  --leeway SECS        clock skew allowed on exp, nbf and iat (default %d; 0 is\n"
"                       exact). Also --clock-skew-leeway-seconds.\n"
"  --at TIME            judge the times as of TIME (RFC 3339) instead of now\n"
"  --format text|json   text (default): the verdict, each device, the reason;\n"
"                       json: {result, exit_code, type, issuer, message, claims}\n"
"                       with claims the verified payloads (detached EAT:\n"
"                       {overall, submods: {GPU-0: ...}}), null when a signature\n"
"                       did not verify\n"
"  --quiet              print nothing; the exit code is the answer\n"
"  --cache-dir DIR, --no-cache, --connect-timeout MS, --timeout MS, --retries N\n"
"                       as for 'gpuattest verify'\n"
"\n"
"Exit codes: 0 verified (and the result says genuine); 1 the token is not\n"
"trustworthy (signature, alg, kid unknown, issuer, expired, digest, nonce) or\n"
"says the devices are not genuine; 2 bad usage or a token / JWKS that cannot be\n"
"decoded; 3 could not complete (the JWKS could not be fetched).\n"
"\n"
"Examples:\n"
"  gpuattest verify-token --nonce HEX nras-answer.json\n"
"  gpuattest verify-token --type ear --jwks jwks.json --issuer me ear.jwt\n",
	    GPA_JWKS_MAX_AGE, TOKEN_DEFAULT_LEEWAY);
}

enum {
	VT_TYPE = 256, VT_NRAS_URL, VT_ISSUER, VT_JWKS, VT_KEY, VT_KID, VT_JWKS_URL, VT_NONCE, VT_LEEWAY,
	VT_AT, VT_FORMAT, VT_QUIET, VT_CACHE_DIR, VT_NO_CACHE, VT_CONNECT_TIMEOUT, VT_TIMEOUT, VT_RETRIES,
	VT_HELP, VT_TOKEN_FILE,
};

static const struct option vt_opts[] = {
	{"type", required_argument, NULL, VT_TYPE},
	{"token-type", required_argument, NULL, VT_TYPE},
	{"token-file", required_argument, NULL, VT_TOKEN_FILE},
	{"nras-url", required_argument, NULL, VT_NRAS_URL},
	{"issuer", required_argument, NULL, VT_ISSUER},
	{"jwks", required_argument, NULL, VT_JWKS},
	{"key", required_argument, NULL, VT_KEY},
	{"kid", required_argument, NULL, VT_KID},
	{"jwks-url", required_argument, NULL, VT_JWKS_URL},
	{"nonce", required_argument, NULL, VT_NONCE},
	{"leeway", required_argument, NULL, VT_LEEWAY},
	{"clock-skew-leeway-seconds", required_argument, NULL, VT_LEEWAY},
	{"at", required_argument, NULL, VT_AT},
	{"format", required_argument, NULL, VT_FORMAT},
	{"quiet", no_argument, NULL, VT_QUIET},
	{"cache-dir", required_argument, NULL, VT_CACHE_DIR},
	{"no-cache", no_argument, NULL, VT_NO_CACHE},
	{"connect-timeout", required_argument, NULL, VT_CONNECT_TIMEOUT},
	{"timeout", required_argument, NULL, VT_TIMEOUT},
	{"retries", required_argument, NULL, VT_RETRIES},
	{"help", no_argument, NULL, VT_HELP},
	{NULL, 0, NULL, 0},
};

struct vt_args {
	const char *type, *nras_url, *issuer, *jwks, *key, *kid, *jwks_url, *format, *cache_dir, *file;
	bool quiet, no_cache, json, have_at;
	time_t at;
	long leeway, connect_timeout, timeout, retries;
	bool have_nonce;
	uint8_t nonce[64];
	size_t nonce_len;
};

static int vt_bad(const char *msg)
{
	fprintf(stderr, "gpuattest verify-token: %s (see 'gpuattest help verify-token')\n", msg);
	return GPUATTEST_BAD_INPUT;
}

static long vt_number(const char *arg, long max)
{
	char *end;
	long n = strtol(arg, &end, 10);

	return *arg == '\0' || *end != '\0' || n < 0 || n > max ? -1 : n;
}

static int vt_option(struct vt_args *a, int c, const char *arg)
{
	long hl;

	switch (c) {
	case VT_TYPE: a->type = arg; break;
	case VT_TOKEN_FILE: a->file = arg; break;
	case VT_NRAS_URL: a->nras_url = arg; break;
	case VT_ISSUER: a->issuer = arg; break;
	case VT_JWKS: a->jwks = arg; break;
	case VT_KEY: a->key = arg; break;
	case VT_KID: a->kid = arg; break;
	case VT_JWKS_URL: a->jwks_url = arg; break;
	case VT_FORMAT: a->format = arg; break;
	case VT_QUIET: a->quiet = true; break;
	case VT_CACHE_DIR: a->cache_dir = arg; break;
	case VT_NO_CACHE: a->no_cache = true; break;
	case VT_AT:
		if (cli_parse_time(arg, &a->at) != 0)
			return GPUATTEST_BAD_INPUT;
		a->have_at = true;
		break;
	case VT_NONCE:
		hl = hex_decode(arg, strlen(arg), a->nonce, sizeof(a->nonce), false);
		if (hl <= 0)
			return vt_bad("--nonce must be hex digits (at most 64 bytes)");
		a->nonce_len = (size_t)hl;
		a->have_nonce = true;
		break;
	case VT_LEEWAY:
		if ((a->leeway = vt_number(arg, 86400)) < 0)
			return vt_bad("--leeway must be 0 to 86400 seconds");
		break;
	case VT_CONNECT_TIMEOUT:
	case VT_TIMEOUT:
		if ((hl = vt_number(arg, 100000000)) < 0)
			return vt_bad("a timeout must be a non-negative number of ms");
		*(c == VT_TIMEOUT ? &a->timeout : &a->connect_timeout) = hl;
		break;
	case VT_RETRIES:
		if ((a->retries = vt_number(arg, 20)) < 0)
			return vt_bad("--retries must be 0 to 20");
		break;
	default:
		return vt_bad("unknown option");
	}
	return 0;
}

static int vt_parse(int argc, char **argv, struct vt_args *a)
{
	int c, rc;

	memset(a, 0, sizeof(*a));
	a->format = "text";
	a->leeway = TOKEN_DEFAULT_LEEWAY;
	a->connect_timeout = a->timeout = a->retries = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", vt_opts, NULL)) != -1) {
		if (c == VT_HELP) {
			cli_usage_verify_token(stdout);
			return -1;
		}
		if ((rc = vt_option(a, c, optarg)) != 0)
			return rc;
	}
	if (optind < argc) {
		if (a->file != NULL || optind + 1 < argc)
			return vt_bad("one token file at most");
		a->file = argv[optind];
	}
	if (a->type != NULL && strcmp(a->type, "detached-eat") != 0 && strcmp(a->type, "ear") != 0)
		return vt_bad("--type must be detached-eat or ear");
	if (strcmp(a->format, "text") != 0 && strcmp(a->format, "json") != 0)
		return vt_bad("--format must be text or json");
	a->json = strcmp(a->format, "json") == 0;
	if ((a->jwks != NULL) + (a->key != NULL) + (a->jwks_url != NULL) > 1)
		return vt_bad("give one of --jwks, --key and --jwks-url");
	if (a->kid != NULL && a->key == NULL)
		return vt_bad("--kid goes with --key");
	if (a->nras_url == NULL)
		a->nras_url = getenv("GPUATTEST_NRAS_URL");
	if (a->nras_url == NULL || *a->nras_url == '\0')
		a->nras_url = DEFAULT_NRAS_URL;
	return 0;
}

/* The whole token: a file, or standard input. */
static int read_token(const char *path, uint8_t **buf, size_t *len, struct gpa_err *e)
{
	size_t cap = 4096, n = 0, r;
	uint8_t *b;

	if (path != NULL && strcmp(path, "-") != 0)
		return file_read(path, TOKEN_MAX_LEN, buf, len, e);
	if ((b = malloc(cap)) == NULL) {
		gpa_err_set(e, "out of memory");
		return -1;
	}
	while ((r = fread(b + n, 1, cap - n - 1, stdin)) > 0) {
		n += r;
		if (n > TOKEN_MAX_LEN) {
			free(b);
			gpa_err_set(e, "standard input: more than %u bytes", TOKEN_MAX_LEN);
			return -1;
		}
		if (cap - n - 1 == 0) {
			uint8_t *g = realloc(b, cap * 2);
			if (g == NULL) {
				free(b);
				gpa_err_set(e, "out of memory");
				return -1;
			}
			b = g;
			cap *= 2;
		}
	}
	b[n] = 0;
	*buf = b;
	*len = n;
	return 0;
}

/* Where the keys come from; keeps what it made in the two holders. */
struct vt_keys {
	struct token_jwks *fixed;
	struct gpa_jwks_client client;
	bool have_client;
	struct gpa_http_opts http;
	char cache_dir[1024];
};

static int vt_keyring(const struct vt_args *a, const char *base, struct vt_keys *k, struct token_keyring *kr,
    struct gpa_err *e)
{
	const char *path = a->jwks ? a->jwks : a->key;
	char url[1100];
	uint8_t *buf;
	size_t len;
	enum gpa_verdict v;

	if (path != NULL) {
		if (file_read(path, TOKEN_JWKS_MAX_LEN, &buf, &len, e) != 0)
			return GPUATTEST_BAD_INPUT;
		v = a->jwks ? token_jwks_parse(buf, len, &k->fixed, e) : token_jwks_from_pem(buf, len, a->kid, &k->fixed, e);
		free(buf);
		if (v != GPA_PASS) {
			gpa_err_prefix(e, "%s", path);
			return v;
		}
		token_keyring_of_jwks(kr, k->fixed);
		return 0;
	}
	if (http_opts_from_env(&k->http, e) != 0)
		return GPUATTEST_BAD_INPUT;
	if (a->connect_timeout >= 0)
		k->http.connect_timeout_ms = a->connect_timeout;
	if (a->timeout >= 0)
		k->http.timeout_ms = a->timeout;
	if (a->retries >= 0)
		k->http.max_retries = (int)a->retries;
	if (!a->no_cache) {
		if (a->cache_dir != NULL)
			snprintf(k->cache_dir, sizeof(k->cache_dir), "%s", a->cache_dir);
		else if (cache_default_dir(k->cache_dir, sizeof(k->cache_dir), e) != 0)
			k->cache_dir[0] = '\0';
	}
	snprintf(url, sizeof(url), "%s/.well-known/jwks.json", base);
	if (jwks_client_init(&k->client, &k->http, a->jwks_url ? a->jwks_url : url,
	    k->cache_dir[0] ? k->cache_dir : NULL, e) != 0)
		return GPUATTEST_BAD_INPUT;
	k->have_client = true;
	jwks_client_keyring(&k->client, kr);
	return 0;
}

static void vt_keys_clear(struct vt_keys *k)
{
	token_jwks_free(k->fixed);
	if (k->have_client)
		jwks_client_clear(&k->client);
}

static const char *vt_result_word(enum gpa_verdict v)
{
	return v == GPA_PASS ? "pass" : v == GPA_FAIL ? "fail" : v == GPA_BAD_INPUT ? "bad-input" : "incomplete";
}

/* Each device's line: its label and whether its claims pass. */
static void print_devices(const json_t *claims, bool ear)
{
	const json_t *subs = ear ? json_object_get(claims, "submods") : json_object_get(claims, "submods"), *c;
	const char *label;

	json_object_foreach((json_t *)subs, label, c) {
		struct gpa_err de = {{0}};
		const char *st = json_string_value(json_object_get(c, "ear_status"));
		bool pass = ear ? st != NULL && strcmp(st, "affirming") == 0 : token_device_claims_pass(c, &de) == GPA_PASS;
		if (ear)
			printf("  %-10s ear_status %s\n", label, st ? st : "(missing)");
		else
			printf("  %-10s %s%s%s\n", label, pass ? "pass" : "FAIL", pass ? "" : ": ", de.msg);
	}
}

static void vt_print(const struct vt_args *a, bool ear, const char *issuer, enum gpa_verdict v,
    const struct token_result *r, const char *msg)
{
	if (a->quiet)
		return;
	if (a->json) {
		json_t *o = json_pack("{s:s,s:i,s:s,s:s,s:s,s:O}", "result", vt_result_word(v), "exit_code", (int)v,
		    "type", ear ? "ear" : "detached-eat", "issuer", issuer, "message", v == GPA_PASS ? "verified" : msg,
		    "claims", r->claims ? r->claims : json_null());
		char *t = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
		if (t != NULL)
			printf("%s\n", t);
		free(t);
		json_decref(o);
		return;
	}
	printf("%s from %s\n", ear ? "EAR" : "Detached EAT", issuer);
	if (r->claims != NULL)
		print_devices(r->claims, ear);
	if (v == GPA_PASS)
		printf("TOKEN VERIFIED: signatures, issuer, times%s and every device's result hold\n",
		    a->have_nonce ? ", nonce" : "");
	else
		printf("TOKEN %s: %s\n", v == GPA_INCOMPLETE ? "NOT VERIFIED (could not complete)" : "REJECTED", msg);
}

int cli_verify_token(int argc, char **argv)
{
	struct vt_args a;
	struct vt_keys keys;
	struct token_keyring kr;
	struct token_rules rules = {0};
	struct token_result res = {0};
	struct gpa_err e = {{0}};
	char base[1024];
	uint8_t *buf = NULL;
	size_t len, n;
	bool ear;
	int rc;
	enum gpa_verdict v;

	memset(&keys, 0, sizeof(keys));
	if ((rc = vt_parse(argc, argv, &a)) != 0)
		return rc < 0 ? 0 : rc;
	if (read_token(a.file, &buf, &len, &e) != 0) {
		fprintf(stderr, "gpuattest: %s\n", e.msg);
		return GPUATTEST_BAD_INPUT;
	}
	for (n = 0; n < len && (buf[n] == ' ' || buf[n] == '\n' || buf[n] == '\r' || buf[n] == '\t'); n++)
		;
	ear = a.type ? strcmp(a.type, "ear") == 0 : !(n < len && buf[n] == '[');
	/* NVIDIA's expected issuer: the base URL without a trailing '/'. */
	snprintf(base, sizeof(base), "%s", a.nras_url);
	for (n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
		base[n - 1] = '\0';
	if (ear && a.jwks == NULL && a.key == NULL && a.jwks_url == NULL) {
		free(buf);
		return vt_bad("an EAR needs its keys: --jwks FILE, --key FILE or --jwks-url URL");
	}
	rules.issuer = a.issuer ? a.issuer : ear ? TOKEN_DEFAULT_ISSUER : base;
	rules.now = a.have_at ? a.at : time(NULL);
	rules.leeway_s = a.leeway;
	rules.have_nonce = a.have_nonce;
	memcpy(rules.nonce, a.nonce, sizeof(rules.nonce));
	rules.nonce_len = a.nonce_len;
	if ((rc = vt_keyring(&a, base, &keys, &kr, &e)) != 0) {
		fprintf(stderr, "gpuattest: %s\n", e.msg);
		vt_keys_clear(&keys);
		free(buf);
		return rc;
	}
	v = ear ? token_ear_verify(buf, len, &rules, &kr, &res, &e) : token_eat_verify(buf, len, &rules, &kr, &res, &e);
	if (v != GPA_PASS && !a.quiet && !a.json)
		fprintf(stderr, "gpuattest: %s: %s\n", a.file && strcmp(a.file, "-") ? a.file : "standard input", e.msg);
	vt_print(&a, ear, rules.issuer, v, &res, e.msg);
	token_result_clear(&res);
	vt_keys_clear(&keys);
	free(buf);
	return (int)v;
}
