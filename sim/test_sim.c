/*
 * test_sim: drives the simulated NVML and NSCQ libraries exactly as a client
 * would (dlopen + dlsym through the nvml_abi.h / nscq_abi.h types) and checks
 * the evidence they produce with OpenSSL and libxml2 directly, independent
 * of the verifier: report framing, nonce placement, signature with the
 * leaf key of the returned chain, chain to the SIMULATION root, FWID and PDI
 * bindings, measurements equal to the signed RIMs, and every fault kind.
 *
 * Owns: testing the simulator only. Must never need NVIDIA hardware or
 * the network; the PKI and RIMs are made by sim/make-pki.sh and
 * sim/make-rims.sh under $(BUILD)/sim-pki (kept between runs).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "collect/nscq_abi.h"
#include "collect/nvml_abi.h"
#include "harness.h"

#ifndef SIM_LIBDIR
#define SIM_LIBDIR "build/sim"
#endif
#ifndef SIM_BUILD_DIR
#define SIM_BUILD_DIR "build"
#endif

#define NGPU 8
#define NSW 4
#define DRIVER "595.71.05"
#define VBIOS "96.00.9F.00.04"
#define SWBIOS "96.10.55.00.01"
#define SHA384_NS "http://www.w3.org/2001/04/xmlenc#sha384"

static char g_pki[1024];
static char g_tmp[256];
static char g_cfg[512];
static bool g_setup_ok;

/* ================= setup ================= */

static int run_cmd(const char *cmd)
{
	int rc = system(cmd);

	return (rc != -1 && WIFEXITED(rc)) ? WEXITSTATUS(rc) : -1;
}

static bool file_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static void setup(void)
{
	char cmd[4096], rim[1200];

	snprintf(g_pki, sizeof(g_pki), "%s/sim-pki", SIM_BUILD_DIR);
	snprintf(cmd, sizeof(cmd), "sim/make-pki.sh '%s' %d %d", g_pki, NGPU, NSW);
	if (run_cmd(cmd) != 0)
		return;
	/* The simulator resolves relative config paths against the config's
	 * directory (a temp dir), so hand it an absolute one. */
	if (realpath(g_pki, rim) == NULL)
		return;
	snprintf(g_pki, sizeof(g_pki), "%s", rim);
	snprintf(rim, sizeof(rim), "%s/rims/NV_SWITCH_BIOS_5612_0002_890_9610550001.xml", g_pki);
	if (!file_exists(rim)) {
		snprintf(cmd, sizeof(cmd), "sim/make-rims.sh '%s' %s %s 1010 0210 886 %s", g_pki, DRIVER, VBIOS,
		    SWBIOS);
		if (run_cmd(cmd) != 0)
			return;
	}
	snprintf(g_tmp, sizeof(g_tmp), "/tmp/gpa-sim-test-XXXXXX");
	if (mkdtemp(g_tmp) == NULL)
		return;
	snprintf(g_cfg, sizeof(g_cfg), "%s/config.json", g_tmp);
	g_setup_ok = true;
}

static void teardown(void)
{
	char cmd[512];

	if (g_tmp[0] != '\0' && strncmp(g_tmp, "/tmp/gpa-sim-test-", 18) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_tmp);
		run_cmd(cmd);
	}
}

/* Writes the config: the base keys plus `extra` (JSON members, may be ""). */
static void write_config_sw(int nsw, const char *extra)
{
	FILE *f = fopen(g_cfg, "w");

	if (f == NULL)
		return;
	fprintf(f, "{\"pki\": \"%s\", \"gpus\": %d, \"switches\": %d, \"driver_version\": \"%s\", "
	    "\"vbios_version\": \"%s\", \"project\": \"1010\", \"project_sku\": \"0210\", \"chip_sku\": \"886\", "
	    "\"switch_bios_version\": \"%s\", \"ready_state_file\": \"%s/ready\"%s%s}\n",
	    g_pki, NGPU, nsw, DRIVER, VBIOS, SWBIOS, g_tmp, extra[0] ? ", " : "", extra);
	fclose(f);
	setenv("GPUATTEST_SIM_CONFIG", g_cfg, 1);
}

static void write_config(const char *extra)
{
	write_config_sw(NSW, extra);
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = 0;
			*len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static bool write_all(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	bool ok;

	if (f == NULL)
		return false;
	ok = fwrite(p, 1, n, f) == n;
	return (fclose(f) == 0) && ok;
}

/* PDI of <pki>/<kind><n>/pdi as 8 bytes. */
static bool pki_pdi(const char *kind, int n, uint8_t out[8])
{
	char path[1200];
	size_t len;
	uint8_t *t;
	bool ok = true;

	snprintf(path, sizeof(path), "%s/%s%d/pdi", g_pki, kind, n);
	t = read_all(path, &len);
	if (t == NULL || len < 16)
		ok = false;
	for (int i = 0; ok && i < 8; i++) {
		unsigned v;
		ok = sscanf((char *)t + 2 * i, "%2x", &v) == 1;
		out[i] = (uint8_t)v;
	}
	free(t);
	return ok;
}

/* ================= NVML client ================= */

static struct {
	void *h;
	nvmlInit_v2_fn Init_v2;
	nvmlInit_fn Init;
	nvmlShutdown_fn Shutdown;
	nvmlErrorString_fn ErrorString;
	nvmlSystemGetConfComputeState_fn GetCCState;
	nvmlSystemGetConfComputeSettings_fn GetCCSettings;
	nvmlSystemGetConfComputeCapabilities_fn GetCCCaps;
	nvmlSystemGetConfComputeGpusReadyState_fn GetReady;
	nvmlSystemSetConfComputeGpusReadyState_fn SetReady;
	nvmlSystemGetDriverVersion_fn GetDriverVersion;
	nvmlDeviceGetCount_fn GetCount;
	nvmlDeviceGetCount_v2_fn GetCount_v2;
	nvmlDeviceGetHandleByIndex_fn GetHandle;
	nvmlDeviceGetHandleByIndex_v2_fn GetHandle_v2;
	nvmlDeviceGetArchitecture_fn GetArch;
	nvmlDeviceGetBoardId_fn GetBoardId;
	nvmlDeviceGetUUID_fn GetUUID;
	nvmlDeviceGetName_fn GetName;
	nvmlDeviceGetVbiosVersion_fn GetVbios;
	nvmlDeviceGetConfComputeGpuCertificate_fn GetCert;
	nvmlDeviceGetConfComputeGpuAttestationReport_fn GetReport;
} N;

#define SYM(field, name) (N.field = (__typeof__(N.field))dlsym(N.h, name)) != NULL

static bool nvml_load(void)
{
	if (N.h != NULL)
		return true;
	N.h = dlopen(SIM_LIBDIR "/libnvidia-ml-sim.so", RTLD_LAZY | RTLD_LOCAL);
	if (N.h == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return false;
	}
	return SYM(Init_v2, "nvmlInit_v2") && SYM(Init, "nvmlInit") && SYM(Shutdown, "nvmlShutdown") &&
	    SYM(ErrorString, "nvmlErrorString") && SYM(GetCCState, "nvmlSystemGetConfComputeState") &&
	    SYM(GetCCSettings, "nvmlSystemGetConfComputeSettings") &&
	    SYM(GetCCCaps, "nvmlSystemGetConfComputeCapabilities") &&
	    SYM(GetReady, "nvmlSystemGetConfComputeGpusReadyState") &&
	    SYM(SetReady, "nvmlSystemSetConfComputeGpusReadyState") &&
	    SYM(GetDriverVersion, "nvmlSystemGetDriverVersion") && SYM(GetCount, "nvmlDeviceGetCount") &&
	    SYM(GetCount_v2, "nvmlDeviceGetCount_v2") && SYM(GetHandle, "nvmlDeviceGetHandleByIndex") &&
	    SYM(GetHandle_v2, "nvmlDeviceGetHandleByIndex_v2") && SYM(GetArch, "nvmlDeviceGetArchitecture") &&
	    SYM(GetBoardId, "nvmlDeviceGetBoardId") && SYM(GetUUID, "nvmlDeviceGetUUID") &&
	    SYM(GetName, "nvmlDeviceGetName") && SYM(GetVbios, "nvmlDeviceGetVbiosVersion") &&
	    SYM(GetCert, "nvmlDeviceGetConfComputeGpuCertificate") &&
	    SYM(GetReport, "nvmlDeviceGetConfComputeGpuAttestationReport");
}

/* ================= evidence checks ================= */

struct report {
	const uint8_t *p;
	size_t len;
	const uint8_t *req_nonce;
	unsigned nblocks;
	const uint8_t *value[64];  /* value[k] = RIM index k = block k+1 */
	const uint8_t *opaque;
	size_t opaque_len;
};

/* Strict framing check: every length must add up, nothing may trail. */
static bool parse_report(const uint8_t *p, size_t len, unsigned want_blocks, struct report *r)
{
	size_t off = 37 + 8, l1, l2;

	memset(r, 0, sizeof(*r));
	r->p = p;
	r->len = len;
	if (len < off || p[0] != 0x11 || p[1] != 0xE0 || p[2] != 0x01 || p[3] != 0xFF || p[36] != 0)
		return false;
	r->req_nonce = p + 4;
	if (p[37] != 0x11 || p[38] != 0x60 || p[41] != want_blocks)
		return false;
	r->nblocks = p[41];
	l1 = p[42] | (size_t)p[43] << 8 | (size_t)p[44] << 16;
	if (l1 != want_blocks * 55u || len < off + l1 + 32 + 2)
		return false;
	for (unsigned i = 0; i < want_blocks; i++) {
		const uint8_t *b = p + off + 55 * i;
		if (b[0] != i + 1 || b[1] != 1 || b[2] != 51 || b[3] != 0 || b[4] != 1 || b[5] != 48 || b[6] != 0)
			return false;
		r->value[i] = b + 7;
	}
	off += l1 + 32;
	l2 = p[off] | (size_t)p[off + 1] << 8;
	off += 2;
	if (len != off + l2 + 96)
		return false;
	r->opaque = p + off;
	r->opaque_len = l2;
	/* The TLV list must consume the opaque length exactly. */
	for (size_t o = 0; o < l2;) {
		size_t n;
		if (l2 - o < 4)
			return false;
		n = r->opaque[o + 2] | (size_t)r->opaque[o + 3] << 8;
		if (l2 - o - 4 < n)
			return false;
		o += 4 + n;
	}
	return true;
}

static const uint8_t *tlv(const struct report *r, unsigned type, size_t *n)
{
	for (size_t o = 0; o + 4 <= r->opaque_len;) {
		unsigned t = r->opaque[o] | r->opaque[o + 1] << 8;
		size_t len = r->opaque[o + 2] | (size_t)r->opaque[o + 3] << 8;
		if (t == type) {
			*n = len;
			return r->opaque + o + 4;
		}
		o += 4 + len;
	}
	*n = 0;
	return NULL;
}

struct chain {
	X509 *c[8];
	int n;
};

static void chain_free(struct chain *ch)
{
	for (int i = 0; i < ch->n; i++)
		X509_free(ch->c[i]);
	ch->n = 0;
}

static bool chain_parse(const void *pem, size_t len, struct chain *ch)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x;

	ch->n = 0;
	while (b != NULL && ch->n < 8 && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		ch->c[ch->n++] = x;
	ERR_clear_error();
	BIO_free(b);
	return ch->n == 5;
}

/* Raw r‖s over everything but the last 96 bytes, with the leaf's key. */
static bool signature_ok(const struct report *r, X509 *leaf)
{
	EVP_PKEY *pub = X509_get0_pubkey(leaf);
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(r->p + r->len - 96, 48, NULL), *bs = BN_bin2bn(r->p + r->len - 48, 48, NULL);
	unsigned char *der = NULL;
	int derlen;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = false;

	if (pub != NULL && sig != NULL && br != NULL && bs != NULL && ctx != NULL && ECDSA_SIG_set0(sig, br, bs)) {
		br = bs = NULL;
		derlen = i2d_ECDSA_SIG(sig, &der);
		ok = derlen > 0 && EVP_DigestVerifyInit(ctx, NULL, EVP_sha384(), NULL, pub) == 1 &&
		    EVP_DigestVerify(ctx, der, (size_t)derlen, r->p, r->len - 96) == 1;
	}
	ERR_clear_error();
	OPENSSL_free(der);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* Chain validates up to the SIMULATION device root of our PKI. */
static bool chain_ok(struct chain *ch)
{
	char root[1200];
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	bool ok = false;

	snprintf(root, sizeof(root), "%s/root.pem", g_pki);
	if (st && ctx && untrusted && X509_STORE_load_file(st, root) == 1) {
		for (int i = 1; i < ch->n; i++)
			sk_X509_push(untrusted, ch->c[i]);
		ok = X509_STORE_CTX_init(ctx, st, ch->c[0], untrusted) == 1 && X509_verify_cert(ctx) == 1;
	}
	ERR_clear_error();
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return ok;
}

/* Last 48 bytes of the leaf's 2.23.133.5.4.1 extension value. */
static bool leaf_fwid(X509 *leaf, uint8_t out[48])
{
	ASN1_OBJECT *oid = OBJ_txt2obj("2.23.133.5.4.1", 1);
	int idx = oid ? X509_get_ext_by_OBJ(leaf, oid, -1) : -1;
	ASN1_OCTET_STRING *v;
	bool ok = false;

	if (idx >= 0) {
		v = X509_EXTENSION_get_data(X509_get_ext(leaf, idx));
		if (v != NULL && ASN1_STRING_length(v) >= 48) {
			memcpy(out, ASN1_STRING_get0_data(v) + ASN1_STRING_length(v) - 48, 48);
			ok = true;
		}
	}
	ASN1_OBJECT_free(oid);
	return ok;
}

static bool subject_field(X509 *x, int nid, char *out, size_t outlen)
{
	X509_NAME *n = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(n, nid, -1);
	ASN1_STRING *s;

	if (i < 0)
		return false;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
	snprintf(out, outlen, "%.*s", ASN1_STRING_length(s), (const char *)ASN1_STRING_get0_data(s));
	return true;
}

/* ================= RIM reference values ================= */

struct rim {
	bool loaded;
	bool active[64];
	int nalt[64];
	uint8_t hash[64][4][48];
};

static struct rim g_rim_driver, g_rim_vbios, g_rim_switch;

static bool unhex48(const char *s, uint8_t out[48])
{
	if (s == NULL || strlen(s) != 96)
		return false;
	for (int i = 0; i < 48; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return false;
		out[i] = (uint8_t)v;
	}
	return true;
}

static bool rim_resource(xmlNode *n, struct rim *r)
{
	xmlChar *idx = xmlGetProp(n, BAD_CAST "index"), *act = xmlGetProp(n, BAD_CAST "active"),
		*alt = xmlGetProp(n, BAD_CAST "alternatives");
	bool ok = idx && act && alt;
	int i = ok ? atoi((char *)idx) : -1, a = ok ? atoi((char *)alt) : 0;

	if (ok && i >= 0 && i < 64 && a >= 1 && a <= 4) {
		r->active[i] = strcmp((char *)act, "True") == 0;
		r->nalt[i] = a;
		for (int k = 0; k < a && ok; k++) {
			char name[8];
			xmlChar *h;
			snprintf(name, sizeof(name), "Hash%d", k);
			h = xmlGetNsProp(n, BAD_CAST name, BAD_CAST SHA384_NS);
			ok = unhex48((char *)h, r->hash[i][k]);
			xmlFree(h);
		}
	} else {
		ok = false;
	}
	xmlFree(idx);
	xmlFree(act);
	xmlFree(alt);
	return ok;
}

static bool rim_load(const char *id, struct rim *r)
{
	char path[1400];
	xmlDoc *doc;
	xmlNode *root, *payload, *n;
	int count = 0;
	bool ok = true;

	if (r->loaded)
		return true;
	snprintf(path, sizeof(path), "%s/rims/%s.xml", g_pki, id);
	doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	if (doc == NULL)
		return false;
	root = xmlDocGetRootElement(doc);
	for (payload = root ? root->children : NULL; payload; payload = payload->next)
		if (payload->type == XML_ELEMENT_NODE && strcmp((const char *)payload->name, "Payload") == 0)
			break;
	for (n = payload ? payload->children : NULL; n && ok; n = n->next) {
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "Resource") == 0) {
			ok = rim_resource(n, r);
			count++;
		}
	}
	xmlFreeDoc(doc);
	r->loaded = ok && count == 64;
	return r->loaded;
}

static bool matches_any(const struct rim *r, unsigned k, const uint8_t v[48])
{
	for (int a = 0; a < r->nalt[k]; a++)
		if (memcmp(r->hash[k][a], v, 48) == 0)
			return true;
	return false;
}

/* Count of active RIM indices whose runtime value matches no alternative. */
static int gpu_mismatches(const struct report *r, int *first_bad)
{
	int bad = 0;

	*first_bad = -1;
	if (r->nblocks != 64)
		return -1;
	for (unsigned k = 0; k < 64; k++) {
		const struct rim *rim = g_rim_driver.active[k] ? &g_rim_driver
		    : g_rim_vbios.active[k] ? &g_rim_vbios : NULL;
		if (rim != NULL && !matches_any(rim, k, r->value[k])) {
			if (*first_bad < 0)
				*first_bad = (int)k;
			bad++;
		}
	}
	return bad;
}

/* ================= NVML helpers ================= */

struct gpu_evidence {
	nvmlReturn_t rc_report, rc_cert;
	nvmlConfComputeGpuAttestationReport_t rep;
	nvmlConfComputeGpuCertificate_t cert;
	uint8_t nonce[32];
	struct report r;
	bool parsed;
	struct chain ch;
};

static struct gpu_evidence *collect_gpu(unsigned i)
{
	struct gpu_evidence *e = calloc(1, sizeof(*e));
	nvmlDevice_t d;

	if (e == NULL)
		return NULL;
	RAND_bytes(e->nonce, 32);
	if (N.GetHandle(i, &d) != NVML_SUCCESS) {
		e->rc_report = e->rc_cert = NVML_ERROR_INVALID_ARGUMENT;
		return e;
	}
	memcpy(e->rep.nonce, e->nonce, 32);
	e->rc_report = N.GetReport(d, &e->rep);
	e->rc_cert = N.GetCert(d, &e->cert);
	if (e->rc_report == NVML_SUCCESS)
		e->parsed = parse_report(e->rep.attestationReport, e->rep.attestationReportSize, 64, &e->r);
	if (e->rc_cert == NVML_SUCCESS)
		chain_parse(e->cert.attestationCertChain, e->cert.attestationCertChainSize, &e->ch);
	return e;
}

static void evidence_free(struct gpu_evidence *e)
{
	if (e != NULL)
		chain_free(&e->ch);
	free(e);
}

static bool sig_ok(struct gpu_evidence *e)
{
	return e->parsed && e->ch.n == 5 && signature_ok(&e->r, e->ch.c[0]);
}

/* Set of switch PDIs a GPU lists (reversed back to switch order), sorted. */
static int gpu_switch_set(const struct report *r, uint8_t out[18][8])
{
	size_t n;
	const uint8_t *p = tlv(r, 22, &n);
	int k = 0;

	for (size_t i = 0; p && i + 8 <= n; i += 8) {
		uint8_t v[8];
		bool dup = false;
		for (int j = 0; j < 8; j++)
			v[j] = p[i + 7 - j];
		for (int j = 0; j < k && !dup; j++)
			dup = memcmp(out[j], v, 8) == 0;
		if (!dup)
			memcpy(out[k++], v, 8);
	}
	return k;
}

static bool set_has(uint8_t set[][8], int n, const uint8_t v[8])
{
	for (int i = 0; i < n; i++)
		if (memcmp(set[i], v, 8) == 0)
			return true;
	return false;
}

/* ================= NVML tests ================= */

static void test_nvml_symbols_and_no_config(void)
{
	unsigned n = 0;

	if (!g_setup_ok)
		SKIP("setup failed (make-pki.sh / make-rims.sh)");
	CHECK(nvml_load());
	if (N.h == NULL)
		return;
	unsetenv("GPUATTEST_SIM_CONFIG");
	CHECK_INT(N.GetCount(&n), NVML_ERROR_UNINITIALIZED);
	CHECK_INT(N.Init_v2(), NVML_ERROR_DRIVER_NOT_LOADED);
	CHECK_INT(N.Shutdown(), NVML_ERROR_UNINITIALIZED);
	CHECK_STREQ(N.ErrorString(NVML_ERROR_DRIVER_NOT_LOADED), "Driver Not Loaded");
	/* A broken config is an error too, never a silent default. */
	write_config("\"no_such_key\": 1");
	CHECK_INT(N.Init_v2(), NVML_ERROR_UNKNOWN);
	write_config("\"faults\": [{\"kind\": \"tampered_measurement\", \"gpu\": 0}]");
	CHECK_INT(N.Init_v2(), NVML_ERROR_UNKNOWN);
	write_config("\"faults\": [{\"kind\": \"bad_signature\", \"gpu\": 8}]");
	CHECK_INT(N.Init_v2(), NVML_ERROR_UNKNOWN);
	write_config("\"faults\": [{\"kind\": \"nvml_error\", \"function\": \"nvmlInit_v2\", \"code\": 0}]");
	CHECK_INT(N.Init_v2(), NVML_ERROR_UNKNOWN);
	write_config("\"cc_feature\": 5");
	CHECK_INT(N.Init_v2(), NVML_ERROR_UNKNOWN);
}

static void test_nvml_system_and_devices(void)
{
	nvmlConfComputeSystemState_t st;
	nvmlSystemConfComputeSettings_t set;
	nvmlConfComputeSystemCaps_t caps;
	unsigned n = 0, arch = 0, board = 0;
	char buf[96], uuid0[96];
	nvmlDevice_t d0, d1, bogus = (nvmlDevice_t)&n;

	if (!g_setup_ok || !nvml_load())
		SKIP("setup failed");
	write_config("");
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	CHECK_INT(N.Init(), NVML_SUCCESS); /* reference counted */
	CHECK_INT(N.GetCCState(&st), NVML_SUCCESS);
	CHECK_INT(st.ccFeature, 1);
	CHECK_INT(st.environment, NVML_CC_SYSTEM_ENVIRONMENT_PROD);
	CHECK_INT(st.devToolsMode, 0);
	memset(&set, 0, sizeof(set));
	CHECK_INT(N.GetCCSettings(&set), NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
	set.version = nvmlSystemConfComputeSettings_v1;
	CHECK_INT(N.GetCCSettings(&set), NVML_SUCCESS);
	CHECK_INT(set.version, 0x01000014);
	CHECK_INT(set.multiGpuMode, 0);
	CHECK_INT(set.ccFeature, 1);
	CHECK_INT(N.GetCCCaps(&caps), NVML_SUCCESS);
	CHECK_INT(caps.gpusCaps, 1);
	CHECK_INT(N.GetDriverVersion(buf, 80), NVML_SUCCESS);
	CHECK_STREQ(buf, DRIVER);
	CHECK_INT(N.GetDriverVersion(buf, 5), NVML_ERROR_INSUFFICIENT_SIZE);
	CHECK_INT(N.GetCount(&n), NVML_SUCCESS);
	CHECK_INT(n, NGPU);
	CHECK_INT(N.GetCount_v2(&n), NVML_SUCCESS);
	CHECK_INT(n, NGPU);
	CHECK_INT(N.GetHandle(NGPU, &d0), NVML_ERROR_INVALID_ARGUMENT);
	CHECK_INT(N.GetHandle_v2(0, &d0), NVML_SUCCESS);
	CHECK_INT(N.GetHandle(1, &d1), NVML_SUCCESS);
	CHECK(d0 != d1);
	CHECK_INT(N.GetArch(d0, &arch), NVML_SUCCESS);
	CHECK_INT(arch, NVML_DEVICE_ARCH_HOPPER);
	CHECK_INT(N.GetBoardId(d0, &board), NVML_SUCCESS);
	CHECK_INT(N.GetArch(bogus, &arch), NVML_ERROR_INVALID_ARGUMENT);
	CHECK_INT(N.GetUUID(d0, uuid0, sizeof(uuid0)), NVML_SUCCESS);
	CHECK(strncmp(uuid0, "GPU-", 4) == 0 && strlen(uuid0) == 40);
	CHECK_INT(N.GetUUID(d1, buf, sizeof(buf)), NVML_SUCCESS);
	CHECK(strcmp(uuid0, buf) != 0);
	CHECK_INT(N.GetUUID(d1, buf, 10), NVML_ERROR_INSUFFICIENT_SIZE);
	CHECK_INT(N.GetName(d0, buf, sizeof(buf)), NVML_SUCCESS);
	CHECK_CONTAINS(buf, "H100");
	CHECK_INT(N.GetVbios(d0, buf, 32), NVML_SUCCESS);
	CHECK_STREQ(buf, VBIOS);
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
	CHECK_INT(N.GetCount(&n), NVML_SUCCESS); /* still one reference */
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
	CHECK_INT(N.GetCount(&n), NVML_ERROR_UNINITIALIZED);
}

/* Everything a verifier checks, on every simulated GPU. */
static void test_nvml_reports_verify(void)
{
	uint8_t sw_pdi[NSW][8];

	if (!g_setup_ok || !nvml_load())
		SKIP("setup failed");
	CHECK(rim_load("NV_GPU_DRIVER_GH100_" DRIVER, &g_rim_driver));
	CHECK(rim_load("NV_GPU_VBIOS_1010_0210_886_96009F0004", &g_rim_vbios));
	for (int s = 0; s < NSW; s++)
		CHECK(pki_pdi("switch", s, sw_pdi[s]));
	for (int k = 0; k < 64; k++)
		CHECK(!(g_rim_driver.active[k] && g_rim_vbios.active[k]));
	write_config("");
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	for (unsigned i = 0; i < NGPU; i++) {
		struct gpu_evidence *e = collect_gpu(i);
		uint8_t fwid[48], pdi[8], set[18][8];
		char serial[64], cn[64], want[64];
		const uint8_t *v;
		size_t n;
		int first_bad;

		CHECK(e != NULL);
		if (e == NULL)
			continue;
		CHECK_INT(e->rc_report, NVML_SUCCESS);
		CHECK_INT(e->rc_cert, NVML_SUCCESS);
		CHECK(e->parsed);
		CHECK_INT(e->ch.n, 5);
		if (!e->parsed || e->ch.n != 5) {
			evidence_free(e);
			continue;
		}
		CHECK(memcmp(e->r.req_nonce, e->nonce, 32) == 0);
		CHECK(sig_ok(e));
		CHECK(chain_ok(&e->ch));
		CHECK(leaf_fwid(e->ch.c[0], fwid));
		v = tlv(&e->r, 20, &n);
		CHECK(v != NULL && n == 48 && memcmp(v, fwid, 48) == 0);
		CHECK(subject_field(e->ch.c[1], NID_commonName, cn, sizeof(cn)));
		CHECK_STREQ(cn, "GH100 A01 GSP BROM");
		CHECK(subject_field(e->ch.c[1], NID_serialNumber, serial, sizeof(serial)));
		CHECK(pki_pdi("gpu", (int)i, pdi));
		snprintf(want, sizeof(want), "41%02X%02X%02X%02X%02X%02X%02X%02X", pdi[0], pdi[1], pdi[2], pdi[3],
		    pdi[4], pdi[5], pdi[6], pdi[7]);
		CHECK_STREQ(serial, want);
		CHECK(subject_field(e->ch.c[0], NID_organizationName, cn, sizeof(cn)));
		CHECK_STREQ(cn, "gpuattest SIMULATION");
		CHECK_INT(gpu_mismatches(&e->r, &first_bad), 0);
		v = tlv(&e->r, 3, &n);
		CHECK(v != NULL && n == sizeof(DRIVER) && memcmp(v, DRIVER, sizeof(DRIVER)) == 0);
		v = tlv(&e->r, 6, &n);
		CHECK(v != NULL && n == 8 && v[3] == 0x96 && v[2] == 0x00 && v[1] == 0x9F && v[0] == 0 && v[4] == 4);
		v = tlv(&e->r, 17, &n);
		CHECK(v != NULL && n == 5 && memcmp(v, "1010", 5) == 0);
		v = tlv(&e->r, 18, &n);
		CHECK(v != NULL && n == 5 && memcmp(v, "0210", 5) == 0);
		v = tlv(&e->r, 15, &n);
		CHECK(v != NULL && n == 9 && strcmp((const char *)v, "886") == 0);
		v = tlv(&e->r, 11, &n);
		CHECK(v != NULL && n == 1 && v[0] == 0x55);
		v = tlv(&e->r, 21, &n);
		CHECK(v != NULL && n == 1 && v[0] == 0x55);
		v = tlv(&e->r, 34, &n);
		CHECK(v != NULL && n == 2 && v[0] == 1 && v[1] == 0);
		v = tlv(&e->r, 36, &n);
		CHECK(v != NULL && n == 2 && v[0] == 0 && v[1] == 0);
		v = tlv(&e->r, 22, &n);
		CHECK(v != NULL && n == 144);
		CHECK_INT(gpu_switch_set(&e->r, set), NSW);
		for (int s = 0; s < NSW; s++)
			CHECK(set_has(set, NSW, sw_pdi[s]));
		evidence_free(e);
	}
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
}

/* The checks above must be able to fail: flip one byte and see them do so. */
static void test_nvml_checks_detect_tampering(void)
{
	struct gpu_evidence *e;
	int first_bad;

	if (!g_setup_ok || !nvml_load())
		SKIP("setup failed");
	write_config("");
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	e = collect_gpu(0);
	CHECK(e != NULL && sig_ok(e));
	if (e != NULL && e->parsed) {
		e->rep.attestationReport[60] ^= 1; /* inside block 1 = RIM index 0 */
		CHECK(!sig_ok(e));
		CHECK_INT(gpu_mismatches(&e->r, &first_bad), 1);
		CHECK(!parse_report(e->rep.attestationReport, e->rep.attestationReportSize - 1, 64, &e->r));
	}
	evidence_free(e);
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
}

static void test_nvml_ppcie_mode(void)
{
	nvmlSystemConfComputeSettings_t set = { .version = nvmlSystemConfComputeSettings_v1 };
	struct gpu_evidence *e;
	const uint8_t *v;
	size_t n;

	if (!g_setup_ok || !nvml_load())
		SKIP("setup failed");
	write_config("\"multi_gpu_mode\": 1, \"cc_feature\": 0");
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	CHECK_INT(N.GetCCSettings(&set), NVML_SUCCESS);
	CHECK_INT(set.multiGpuMode, NVML_CC_SYSTEM_MULTIGPU_PROTECTED_PCIE);
	CHECK_INT(set.ccFeature, 0);
	e = collect_gpu(2);
	CHECK(e != NULL && e->parsed && sig_ok(e));
	if (e != NULL && e->parsed) {
		v = tlv(&e->r, 21, &n);
		CHECK(v != NULL && n == 1 && v[0] == 0xAA);
		v = tlv(&e->r, 36, &n);
		CHECK(v != NULL && n == 2 && v[0] == 2);
	}
	evidence_free(e);
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
}

static void test_nvml_ready_state_persists(void)
{
	unsigned st = 9;
	char path[512];
	size_t len;
	uint8_t *t;
	pid_t pid;
	int status;

	if (!g_setup_ok || !nvml_load())
		SKIP("setup failed");
	snprintf(path, sizeof(path), "%s/ready", g_tmp);
	unlink(path);
	write_config("");
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	CHECK_INT(N.GetReady(&st), NVML_SUCCESS);
	CHECK_INT(st, 0);
	CHECK_INT(N.SetReady(2), NVML_ERROR_INVALID_ARGUMENT);
	CHECK_INT(N.SetReady(1), NVML_SUCCESS);
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
	t = read_all(path, &len);
	CHECK(t != NULL && len == 2 && memcmp(t, "1\n", 2) == 0);
	free(t);
	/* Another process sees it, and can clear it for us. */
	pid = fork();
	if (pid == 0) {
		unsigned s2 = 9;
		int ok = N.Init_v2() == NVML_SUCCESS && N.GetReady(&s2) == NVML_SUCCESS && s2 == 1 &&
		    N.SetReady(0) == NVML_SUCCESS && N.Shutdown() == NVML_SUCCESS;
		_exit(ok ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	CHECK_INT(N.GetReady(&st), NVML_SUCCESS);
	CHECK_INT(st, 0);
	CHECK_INT(N.SetReady(1), NVML_SUCCESS);
	CHECK_INT(N.GetReady(&st), NVML_SUCCESS);
	CHECK_INT(st, 1);
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
	write_all(path, "x\n", 2); /* garbage in the state file is an error, not "0" */
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	CHECK_INT(N.GetReady(&st), NVML_ERROR_UNKNOWN);
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
}

static void test_nvml_fault_measurement_nonce_signature(void)
{
	struct gpu_evidence *e[4];
	int first_bad;

	if (!g_setup_ok || !nvml_load())
		SKIP("setup failed");
	write_config("\"faults\": [{\"gpu\": 3, \"kind\": \"tampered_measurement\", \"index\": 22}, "
	    "{\"gpu\": 1, \"kind\": \"ignore_nonce\"}, {\"gpu\": 0, \"kind\": \"bad_signature\"}, "
	    "{\"gpu\": 2, \"kind\": \"swapped_chain\"}]");
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	for (unsigned i = 0; i < 4; i++)
		e[i] = collect_gpu(i);
	if (e[0] && e[1] && e[2] && e[3]) {
		/* GPU 0: framing and nonce fine, signature not. */
		CHECK(e[0]->parsed && memcmp(e[0]->r.req_nonce, e[0]->nonce, 32) == 0);
		CHECK(!sig_ok(e[0]));
		CHECK_INT(gpu_mismatches(&e[0]->r, &first_bad), 0);
		/* GPU 1: validly signed, but over a nonce that is not ours. */
		CHECK(sig_ok(e[1]));
		CHECK(memcmp(e[1]->r.req_nonce, e[1]->nonce, 32) != 0);
		/* GPU 2: chain of GPU 3, so the report no longer verifies with it. */
		CHECK(!sig_ok(e[2]));
		CHECK(chain_ok(&e[2]->ch));
		CHECK(e[2]->cert.attestationCertChainSize == e[3]->cert.attestationCertChainSize &&
		    memcmp(e[2]->cert.attestationCertChain, e[3]->cert.attestationCertChain,
			e[3]->cert.attestationCertChainSize) == 0);
		/* GPU 3: signed and fresh, one measurement (RIM index 22) off. */
		CHECK(sig_ok(e[3]));
		CHECK_INT(gpu_mismatches(&e[3]->r, &first_bad), 1);
		CHECK_INT(first_bad, 22);
	}
	for (unsigned i = 0; i < 4; i++)
		evidence_free(e[i]);
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
}

static void test_nvml_fault_errors_fwid_driver(void)
{
	struct gpu_evidence *e0, *e1;
	nvmlDevice_t d;
	char buf[80];
	const uint8_t *v;
	size_t n;

	if (!g_setup_ok || !nvml_load())
		SKIP("setup failed");
	write_config("\"nvml_driver_version\": \"595.71.99\", \"faults\": [{\"kind\": \"nvml_error\", "
	    "\"function\": \"nvmlDeviceGetConfComputeGpuAttestationReport\", \"code\": 999, \"gpu\": 1}, "
	    "{\"kind\": \"nvml_error\", \"function\": \"nvmlDeviceGetUUID\", \"code\": 15}, "
	    "{\"kind\": \"no_fwid\", \"gpu\": 0}, {\"gpu\": 0, \"kind\": \"report_driver_version\", "
	    "\"value\": \"595.71.06\"}]");
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	CHECK_INT(N.GetDriverVersion(buf, sizeof(buf)), NVML_SUCCESS);
	CHECK_STREQ(buf, "595.71.99");
	CHECK_INT(N.GetHandle(2, &d), NVML_SUCCESS);
	CHECK_INT(N.GetUUID(d, buf, sizeof(buf)), NVML_ERROR_GPU_IS_LOST);
	e0 = collect_gpu(0);
	e1 = collect_gpu(1);
	if (e0 && e1) {
		CHECK_INT(e1->rc_report, NVML_ERROR_UNKNOWN);
		CHECK_INT(e1->rc_cert, NVML_SUCCESS);
		CHECK_INT(e0->rc_report, NVML_SUCCESS);
		CHECK(sig_ok(e0));
		CHECK(tlv(&e0->r, 20, &n) == NULL);
		v = tlv(&e0->r, 3, &n);
		CHECK(v != NULL && n == 10 && memcmp(v, "595.71.06", 10) == 0);
	}
	evidence_free(e0);
	evidence_free(e1);
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
	write_config("\"faults\": [{\"kind\": \"nvml_error\", \"function\": \"nvmlInit_v2\", \"code\": 9}]");
	CHECK_INT(N.Init_v2(), NVML_ERROR_DRIVER_NOT_LOADED);
	CHECK_INT(N.Shutdown(), NVML_ERROR_UNINITIALIZED);
}

static void test_nvml_fault_topology(void)
{
	uint8_t sw_pdi[NSW][8], set[18][8];
	struct gpu_evidence *e;

	if (!g_setup_ok || !nvml_load())
		SKIP("setup failed");
	for (int s = 0; s < NSW; s++)
		CHECK(pki_pdi("switch", s, sw_pdi[s]));
	write_config("\"faults\": [{\"kind\": \"gpu_wired_elsewhere\", \"gpu\": 5}]");
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	e = collect_gpu(5);
	CHECK(e != NULL && sig_ok(e));
	if (e != NULL && e->parsed) {
		CHECK_INT(gpu_switch_set(&e->r, set), NSW);
		CHECK(!set_has(set, NSW, sw_pdi[0]));
		CHECK(set_has(set, NSW, sw_pdi[1]));
	}
	evidence_free(e);
	e = collect_gpu(4);
	if (e != NULL && e->parsed) {
		CHECK_INT(gpu_switch_set(&e->r, set), NSW);
		CHECK(set_has(set, NSW, sw_pdi[0]));
	}
	evidence_free(e);
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);

	write_config("\"faults\": [{\"kind\": \"foreign_switch\"}]");
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	for (unsigned i = 0; i < NGPU; i += 7) {
		e = collect_gpu(i);
		if (e != NULL && e->parsed) {
			CHECK_INT(gpu_switch_set(&e->r, set), NSW);
			CHECK(!set_has(set, NSW, sw_pdi[NSW - 1]));
			CHECK(set_has(set, NSW, sw_pdi[0]));
		}
		evidence_free(e);
	}
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);

	write_config_sw(0, "");
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	e = collect_gpu(0);
	if (e != NULL && e->parsed) {
		const uint8_t *v;
		size_t n;
		static const uint8_t zero[144];
		v = tlv(&e->r, 22, &n);
		CHECK(v != NULL && n == 144 && memcmp(v, zero, 144) == 0);
	}
	evidence_free(e);
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
}

static void test_nvml_replay(void)
{
	struct gpu_evidence *orig, *e;
	char rep_path[600], hex_path[600], chain_path[600], extra[2400];
	char *hex;

	if (!g_setup_ok || !nvml_load())
		SKIP("setup failed");
	write_config("");
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	orig = collect_gpu(6);
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
	if (orig == NULL || !orig->parsed)
		return;
	snprintf(rep_path, sizeof(rep_path), "%s/rep.bin", g_tmp);
	snprintf(hex_path, sizeof(hex_path), "%s/rep.hex.txt", g_tmp);
	snprintf(chain_path, sizeof(chain_path), "%s/chain.pem", g_tmp);
	CHECK(write_all(rep_path, orig->rep.attestationReport, orig->rep.attestationReportSize));
	CHECK(write_all(chain_path, orig->cert.attestationCertChain, orig->cert.attestationCertChainSize));
	hex = malloc(2 * orig->rep.attestationReportSize + 2);
	for (unsigned i = 0; hex && i < orig->rep.attestationReportSize; i++)
		snprintf(hex + 2 * i, 3, "%02x", orig->rep.attestationReport[i]);
	if (hex != NULL) {
		strcat(hex, "\n");
		CHECK(write_all(hex_path, hex, strlen(hex)));
	}
	free(hex);
	snprintf(extra, sizeof(extra), "\"gpus\": 2, \"replay\": [{\"report\": \"%s\", \"chain\": \"%s\"}, "
	    "{\"report\": \"%s\", \"chain\": \"%s\"}]", rep_path, chain_path, hex_path, chain_path);
	/* write_config puts "gpus": 8 first; a replay config must agree with it. */
	write_config(extra);
	CHECK_INT(N.Init_v2(), NVML_ERROR_UNKNOWN);
	{
		FILE *f = fopen(g_cfg, "w");
		if (f != NULL) {
			fprintf(f, "{%s}\n", extra);
			fclose(f);
		}
	}
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	for (unsigned i = 0; i < 2; i++) {
		e = collect_gpu(i);
		CHECK(e != NULL && e->rc_report == NVML_SUCCESS);
		if (e == NULL)
			continue;
		CHECK(e->rep.attestationReportSize == orig->rep.attestationReportSize &&
		    memcmp(e->rep.attestationReport, orig->rep.attestationReport, orig->rep.attestationReportSize) == 0);
		CHECK(sig_ok(e)); /* verbatim, so still valid, over the recorded nonce */
		CHECK(memcmp(e->r.req_nonce, orig->nonce, 32) == 0);
		evidence_free(e);
	}
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
	evidence_free(orig);
}

static void test_nvml_replay_nvidia_vector(void)
{
	SHARED_OR_SKIP(rep, "vectors/nvidia/gpu/hopper_595.71.05_azure/attestation_report.bin");
	SHARED_OR_SKIP(chain, "vectors/nvidia/gpu/hopper_595.71.05_azure/cert_chain.pem");
	struct gpu_evidence *e;
	FILE *f;
	size_t len;
	uint8_t *want;

	if (!g_setup_ok || !nvml_load())
		SKIP("setup failed");
	f = fopen(g_cfg, "w");
	if (f == NULL)
		return;
	{
		char arep[4096], achain[4096];
		if (realpath(rep, arep) == NULL || realpath(chain, achain) == NULL) {
			fclose(f);
			return;
		}
		fprintf(f, "{\"replay\": [{\"report\": \"%s\", \"chain\": \"%s\"}]}\n", arep, achain);
	}
	fclose(f);
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	e = collect_gpu(0);
	want = read_all(rep, &len);
	CHECK(e != NULL && want != NULL && e->rep.attestationReportSize == len &&
	    memcmp(e->rep.attestationReport, want, len) == 0);
	CHECK(e != NULL && e->parsed && e->ch.n == 5 && signature_ok(&e->r, e->ch.c[0]));
	free(want);
	evidence_free(e);
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
}

static void *report_worker(void *arg)
{
	unsigned gpu = (unsigned)(uintptr_t)arg;
	uintptr_t bad = 0;

	for (int k = 0; k < 6; k++) {
		struct gpu_evidence *e = collect_gpu(gpu);
		if (e == NULL || !sig_ok(e) || memcmp(e->r.req_nonce, e->nonce, 32) != 0)
			bad++;
		evidence_free(e);
	}
	return (void *)bad;
}

static void test_nvml_concurrent_reports(void)
{
	pthread_t t[NGPU];
	void *bad;

	if (!g_setup_ok || !nvml_load())
		SKIP("setup failed");
	write_config("");
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	for (unsigned i = 0; i < NGPU; i++)
		CHECK(pthread_create(&t[i], NULL, report_worker, (void *)(uintptr_t)(i % 3)) == 0);
	for (unsigned i = 0; i < NGPU; i++) {
		CHECK(pthread_join(t[i], &bad) == 0);
		CHECK(bad == NULL);
	}
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
}

/* ================= NSCQ client ================= */

static struct {
	void *h;
	nscq_session_create_fn create;
	nscq_session_destroy_fn destroy;
	nscq_session_path_observe_fn observe;
	nscq_session_set_input_fn set_input;
	nscq_uuid_to_label_fn to_label;
} Q;

static bool nscq_load(void)
{
	if (Q.h != NULL)
		return true;
	Q.h = dlopen(SIM_LIBDIR "/libnvidia-nscq-sim.so", RTLD_LAZY | RTLD_LOCAL);
	if (Q.h == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return false;
	}
	Q.create = (nscq_session_create_fn)dlsym(Q.h, "nscq_session_create");
	Q.destroy = (nscq_session_destroy_fn)dlsym(Q.h, "nscq_session_destroy");
	Q.observe = (nscq_session_path_observe_fn)dlsym(Q.h, "nscq_session_path_observe");
	Q.set_input = (nscq_session_set_input_fn)dlsym(Q.h, "nscq_session_set_input");
	Q.to_label = (nscq_uuid_to_label_fn)dlsym(Q.h, "nscq_uuid_to_label");
	return Q.create && Q.destroy && Q.observe && Q.set_input && Q.to_label;
}

struct sw_collect {
	int n;
	nscq_uuid_t uuid[8];
	nscq_rc_t rc[8];
	nscq_arch_t arch[8];
	nscq_tnvl_status_t tnvl[8];
	nscq_attestation_certificate_t cert[8];
	nscq_attestation_report_t report[8];
};

static void cb_uuid(const nscq_uuid_t *dev, nscq_rc_t rc, const nscq_uuid_t *uuid, void *data)
{
	struct sw_collect *c = data;

	if (c->n < 8) {
		c->uuid[c->n] = *uuid;
		c->rc[c->n++] = rc;
	}
	(void)dev;
}

static void cb_arch(const nscq_uuid_t *dev, nscq_rc_t rc, nscq_arch_t arch, void *data)
{
	struct sw_collect *c = data;

	if (c->n < 8) {
		c->arch[c->n] = arch;
		c->rc[c->n++] = rc;
	}
	(void)dev;
}

static void cb_tnvl(const nscq_uuid_t *dev, nscq_rc_t rc, nscq_tnvl_status_t st, void *data)
{
	struct sw_collect *c = data;

	if (c->n < 8) {
		c->tnvl[c->n] = st;
		c->rc[c->n++] = rc;
	}
	(void)dev;
}

static void cb_cert(const nscq_uuid_t *dev, nscq_rc_t rc, nscq_attestation_certificate_t cert, void *data)
{
	struct sw_collect *c = data;

	if (c->n < 8) {
		c->cert[c->n] = cert;
		c->rc[c->n++] = rc;
	}
	(void)dev;
}

static void cb_report(const nscq_uuid_t *dev, nscq_rc_t rc, nscq_attestation_report_t rep, void *data)
{
	struct sw_collect *c = data;

	if (c->n < 8) {
		c->report[c->n] = rep;
		c->rc[c->n++] = rc;
	}
	(void)dev;
}

/* One switch's report + chain, collected by label like NVIDIA's client. */
struct sw_evidence {
	nscq_rc_t rc;
	uint8_t nonce[32];
	nscq_attestation_report_t rep;
	nscq_attestation_certificate_t cert;
	nscq_tnvl_status_t tnvl;
	struct report r;
	bool parsed;
	struct chain ch;
};

static bool collect_switch(nscq_session_t s, const nscq_uuid_t *uuid, struct sw_evidence *e)
{
	struct sw_collect *c = calloc(1, sizeof(*c));
	nscq_label_t label;
	char path[128];
	bool ok;

	memset(e, 0, sizeof(*e));
	if (c == NULL)
		return false;
	RAND_bytes(e->nonce, 32);
	ok = Q.to_label(uuid, &label, 0) == NSCQ_RC_SUCCESS && Q.set_input(s, 0, e->nonce, 32) == NSCQ_RC_SUCCESS;
	snprintf(path, sizeof(path), "/%s/config/attestation_report", label.data);
	ok = ok && Q.observe(s, path, NSCQ_FN(cb_report), c, 0) == NSCQ_RC_SUCCESS && c->n == 1;
	if (ok) {
		e->rc = c->rc[0];
		e->rep = c->report[0];
	}
	c->n = 0;
	snprintf(path, sizeof(path), "/%s/config/certificate", label.data);
	ok = ok && Q.observe(s, path, NSCQ_FN(cb_cert), c, 0) == NSCQ_RC_SUCCESS && c->n == 1 && c->rc[0] == 0;
	if (ok)
		e->cert = c->cert[0];
	c->n = 0;
	snprintf(path, sizeof(path), "/%s/config/pcie_mode", label.data);
	ok = ok && Q.observe(s, path, NSCQ_FN(cb_tnvl), c, 0) == NSCQ_RC_SUCCESS && c->n == 1;
	if (ok)
		e->tnvl = c->tnvl[0];
	free(c);
	if (ok && e->rc == NSCQ_RC_SUCCESS)
		e->parsed = parse_report(e->rep.report, e->rep.report_size, 31, &e->r);
	if (ok)
		chain_parse(e->cert.cert_chain, e->cert.cert_chain_size, &e->ch);
	return ok;
}

static int enumerate(nscq_session_t s, struct sw_collect *c)
{
	memset(c, 0, sizeof(*c));
	if (Q.observe(s, NSCQ_PATH_DRV_NVSWITCH_DEVICE_UUID, NSCQ_FN(cb_uuid), c, 0) != NSCQ_RC_SUCCESS)
		return -1;
	return c->n;
}

static nscq_session_t open_session(void)
{
	nscq_session_result_t r = Q.create(NSCQ_SESSION_CREATE_MOUNT_DEVICES);

	return r.rc == NSCQ_RC_SUCCESS ? r.session : NULL;
}

/* GPU-PDI set a switch reports (first 8 entries of type 26), distinct count. */
static int switch_gpu_set(const struct report *r, uint8_t out[8][8])
{
	size_t n;
	const uint8_t *p = tlv(r, 26, &n);
	int k = 0;

	for (int i = 0; p && n == 128 && i < 8; i++) {
		if (!set_has(out, k, p + 8 * i))
			memcpy(out[k++], p + 8 * i, 8);
	}
	return k;
}

/* ================= NSCQ tests ================= */

static void test_nscq_no_config_and_paths(void)
{
	nscq_session_result_t r;
	nscq_session_t s;
	struct sw_collect *c;
	uint8_t nonce[32] = { 0 };

	if (!g_setup_ok || !nscq_load())
		SKIP("setup failed");
	unsetenv("GPUATTEST_SIM_CONFIG");
	r = Q.create(NSCQ_SESSION_CREATE_MOUNT_DEVICES);
	CHECK(r.rc < 0 && r.session == NULL);
	write_config("");
	s = open_session();
	CHECK(s != NULL);
	if (s == NULL)
		return;
	c = calloc(1, sizeof(*c));
	CHECK_INT(enumerate(s, c), NSW);
	c->n = 0;
	CHECK_INT(Q.observe(s, NSCQ_PATH_NVSWITCH_ARCH, NSCQ_FN(cb_arch), c, 0), NSCQ_RC_SUCCESS);
	CHECK_INT(c->n, NSW);
	CHECK_INT(c->arch[0], NSCQ_ARCH_LS10);
	c->n = 0;
	CHECK_INT(Q.observe(s, NSCQ_PATH_NVSWITCH_PCIE_MODE, NSCQ_FN(cb_tnvl), c, 0), NSCQ_RC_SUCCESS);
	CHECK_INT(c->n, NSW);
	CHECK_INT(c->tnvl[NSW - 1], NSCQ_DEVICE_TNVL_MODE_LOCKED);
	/* No nonce yet: each device answers with an error, not a report. */
	c->n = 0;
	CHECK_INT(Q.observe(s, NSCQ_PATH_NVSWITCH_ATTESTATION_REPORT, NSCQ_FN(cb_report), c, 0), NSCQ_RC_SUCCESS);
	CHECK_INT(c->n, NSW);
	CHECK(c->rc[0] < 0);
	CHECK(Q.set_input(s, 0, nonce, 16) < 0);
	CHECK(Q.observe(s, "/SWX-nope/config/certificate", NSCQ_FN(cb_cert), c, 0) == NSCQ_RC_ERROR_INVALID_UUID);
	CHECK(Q.observe(s, "/drv/nvswitch/version/extra", NSCQ_FN(cb_cert), c, 0) < 0);
	free(c);
	Q.destroy(s);
}

static void test_nscq_reports_verify(void)
{
	struct sw_collect *c = calloc(1, sizeof(*c));
	struct sw_evidence *e = calloc(1, sizeof(*e));
	uint8_t gpu_pdi[NGPU][8];
	nscq_session_t s;

	if (!g_setup_ok || !nscq_load() || c == NULL || e == NULL) {
		free(c);
		free(e);
		SKIP("setup failed");
	}
	CHECK(rim_load("NV_SWITCH_BIOS_5612_0002_890_9610550001", &g_rim_switch));
	for (int i = 0; i < NGPU; i++)
		CHECK(pki_pdi("gpu", i, gpu_pdi[i]));
	write_config("");
	s = open_session();
	CHECK(s != NULL);
	if (s != NULL && enumerate(s, c) == NSW) {
		for (int i = 0; i < NSW; i++) {
			uint8_t pdi[8], set[8][8];
			char serial[64], want[64];
			const uint8_t *v;
			size_t n;
			int bad = 0;

			CHECK(collect_switch(s, &c->uuid[i], e));
			CHECK_INT(e->rc, NSCQ_RC_SUCCESS);
			CHECK(e->parsed);
			CHECK_INT(e->ch.n, 5);
			if (!e->parsed || e->ch.n != 5) {
				chain_free(&e->ch);
				continue;
			}
			CHECK(memcmp(e->r.req_nonce, e->nonce, 32) == 0);
			CHECK(signature_ok(&e->r, e->ch.c[0]));
			CHECK(chain_ok(&e->ch));
			CHECK_INT(e->tnvl, NSCQ_DEVICE_TNVL_MODE_LOCKED);
			CHECK(subject_field(e->ch.c[1], NID_commonName, want, sizeof(want)));
			CHECK_STREQ(want, "LS_10 A01 FSP BROM");
			CHECK(subject_field(e->ch.c[1], NID_serialNumber, serial, sizeof(serial)));
			CHECK(pki_pdi("switch", i, pdi));
			snprintf(want, sizeof(want), "50%02X%02X%02X%02X%02X%02X%02X%02X", pdi[0], pdi[1], pdi[2],
			    pdi[3], pdi[4], pdi[5], pdi[6], pdi[7]);
			CHECK_STREQ(serial, want);
			v = tlv(&e->r, 22, &n);
			CHECK(v != NULL && n == 8 && memcmp(v, pdi, 8) == 0);
			v = tlv(&e->r, 6, &n);
			CHECK(v != NULL && n == 14 && memcmp(v, SWBIOS, 14) == 0);
			v = tlv(&e->r, 25, &n);
			CHECK(v != NULL && n == 2 && v[0] == 1);
			v = tlv(&e->r, 26, &n);
			CHECK(v != NULL && n == 128 && memcmp(v, gpu_pdi, 64) == 0);
			CHECK_INT(switch_gpu_set(&e->r, set), 8);
			for (unsigned k = 0; k < 31; k++)
				bad += !(g_rim_switch.active[k] && matches_any(&g_rim_switch, k, e->r.value[k]));
			CHECK_INT(bad, 0);
			chain_free(&e->ch);
		}
	}
	if (s != NULL)
		Q.destroy(s);
	free(c);
	free(e);
}

/* GPUs list exactly the switches NSCQ enumerates (PPCIe topology rule). */
static void test_topology_consistent(void)
{
	struct sw_collect *c = calloc(1, sizeof(*c));
	struct sw_evidence *se = calloc(1, sizeof(*se));
	struct gpu_evidence *ge;
	uint8_t set[18][8];
	nscq_session_t s;
	int nset = 0;

	if (!g_setup_ok || !nscq_load() || !nvml_load() || c == NULL || se == NULL) {
		free(c);
		free(se);
		SKIP("setup failed");
	}
	write_config("");
	CHECK_INT(N.Init_v2(), NVML_SUCCESS);
	ge = collect_gpu(3);
	if (ge != NULL && ge->parsed)
		nset = gpu_switch_set(&ge->r, set);
	evidence_free(ge);
	CHECK_INT(N.Shutdown(), NVML_SUCCESS);
	CHECK_INT(nset, NSW);
	s = open_session();
	if (s != NULL && enumerate(s, c) == NSW) {
		for (int i = 0; i < NSW; i++) {
			const uint8_t *v;
			size_t n;
			CHECK(collect_switch(s, &c->uuid[i], se));
			v = se->parsed ? tlv(&se->r, 22, &n) : NULL;
			CHECK(v != NULL && n == 8 && set_has(set, nset, v));
			chain_free(&se->ch);
		}
	}
	if (s != NULL)
		Q.destroy(s);
	free(c);
	free(se);
}

static void test_nscq_faults(void)
{
	struct sw_collect *c = calloc(1, sizeof(*c));
	struct sw_evidence *e = calloc(1, sizeof(*e));
	uint8_t set[8][8];
	nscq_session_result_t r;
	nscq_session_t s;

	if (!g_setup_ok || !nscq_load() || c == NULL || e == NULL) {
		free(c);
		free(e);
		SKIP("setup failed");
	}
	CHECK(rim_load("NV_SWITCH_BIOS_5612_0002_890_9610550001", &g_rim_switch));
	write_config("\"faults\": [{\"kind\": \"missing_switch\"}, {\"kind\": \"duplicate_pdi\", \"switch\": 2}, "
	    "{\"kind\": \"lock_off\", \"switch\": 1}, {\"kind\": \"tampered_switch_measurement\", \"switch\": 0, "
	    "\"index\": 5}, {\"kind\": \"bad_signature\", \"switch\": 2}, {\"kind\": \"ignore_nonce\", \"switch\": 1}]");
	s = open_session();
	CHECK(s != NULL);
	if (s != NULL && enumerate(s, c) == NSW - 1) {
		/* switch 0: validly signed, block 6 (RIM index 5) differs from the RIM */
		CHECK(collect_switch(s, &c->uuid[0], e));
		CHECK(e->parsed && e->ch.n == 5 && signature_ok(&e->r, e->ch.c[0]));
		CHECK(e->parsed && !matches_any(&g_rim_switch, 5, e->r.value[5]));
		CHECK(e->parsed && matches_any(&g_rim_switch, 4, e->r.value[4]));
		CHECK_INT(e->tnvl, NSCQ_DEVICE_TNVL_MODE_LOCKED);
		chain_free(&e->ch);
		/* switch 1: lock off (pcie_mode and opaque), own nonce */
		CHECK(collect_switch(s, &c->uuid[1], e));
		CHECK_INT(e->tnvl, NSCQ_DEVICE_TNVL_MODE_ENABLED);
		if (e->parsed) {
			const uint8_t *v;
			size_t n;
			v = tlv(&e->r, 25, &n);
			CHECK(v != NULL && n == 2 && v[0] == 0);
			CHECK(memcmp(e->r.req_nonce, e->nonce, 32) != 0);
			CHECK(e->ch.n == 5 && signature_ok(&e->r, e->ch.c[0]));
		}
		chain_free(&e->ch);
		/* switch 2: 7 distinct GPU PDIs, bad signature */
		CHECK(collect_switch(s, &c->uuid[2], e));
		CHECK(e->parsed && switch_gpu_set(&e->r, set) == 7);
		CHECK(e->parsed && e->ch.n == 5 && !signature_ok(&e->r, e->ch.c[0]));
		chain_free(&e->ch);
	} else {
		CHECK(!"missing_switch: expected NSW-1 switches");
	}
	if (s != NULL)
		Q.destroy(s);
	write_config("\"faults\": [{\"kind\": \"nscq_error\", \"function\": \"nscq_session_create\", \"code\": -7}]");
	r = Q.create(1);
	CHECK_INT(r.rc, NSCQ_RC_ERROR_DRV);
	CHECK(r.session == NULL);
	write_config("\"faults\": [{\"kind\": \"swapped_chain\", \"switch\": 0}, {\"kind\": \"nscq_error\", "
	    "\"function\": \"nscq_session_path_observe\", \"code\": -8, \"switch\": 3}]");
	s = open_session();
	if (s != NULL && enumerate(s, c) == NSW) {
		CHECK(c->rc[3] == NSCQ_RC_ERROR_TIMEOUT && c->rc[2] == NSCQ_RC_SUCCESS);
		CHECK(collect_switch(s, &c->uuid[0], e));
		CHECK(e->parsed && e->ch.n == 5 && !signature_ok(&e->r, e->ch.c[0]) && chain_ok(&e->ch));
		chain_free(&e->ch);
	} else {
		CHECK(!"nscq_error on one switch: enumeration failed");
	}
	if (s != NULL)
		Q.destroy(s);
	free(c);
	free(e);
}

int main(void)
{
	setup();
	RUN(test_nvml_symbols_and_no_config);
	RUN(test_nvml_system_and_devices);
	RUN(test_nvml_reports_verify);
	RUN(test_nvml_checks_detect_tampering);
	RUN(test_nvml_ppcie_mode);
	RUN(test_nvml_ready_state_persists);
	RUN(test_nvml_fault_measurement_nonce_signature);
	RUN(test_nvml_fault_errors_fwid_driver);
	RUN(test_nvml_fault_topology);
	RUN(test_nvml_replay);
	RUN(test_nvml_replay_nvidia_vector);
	RUN(test_nvml_concurrent_reports);
	RUN(test_nscq_no_config_and_paths);
	RUN(test_nscq_reports_verify);
	RUN(test_topology_consistent);
	RUN(test_nscq_faults);
	/* Libraries stay loaded: unloading them would only hide leaks from LSan. */
	teardown();
	return harness_done("sim");
}
