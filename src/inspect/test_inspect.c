/*
 * Tests for inspect/: the document built from real reports is compared,
 * value by value, with NVIDIA's own parser output and Trustee's claims
 * (both read from ../shared at run time, never typed in here), then the
 * derived section, the certificate section and the text rendering.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"
#include "evidence/evidence.h"
#include "inspect/inspect.h"
#include "spdm/spdm.h"
#include "x509/x509.h"

#define NV "vectors/nvidia/"

/* A report, parsed and derived, and optionally its chain. */
struct fixture {
	uint8_t *buf;
	size_t len;
	struct spdm_report *r;
	struct report_info info;
	STACK_OF(X509) *chain;
};

static int fixture_load(struct fixture *fx, const char *report_path, const char *chain_path,
    enum gpa_device_kind kind)
{
	struct gpa_err e = {{0}};
	uint8_t *raw, *pem;
	size_t rawlen, pemlen;

	memset(fx, 0, sizeof(*fx));
	if (file_read(report_path, 1 << 16, &raw, &rawlen, &e) != 0)
		goto bad;
	if (report_bytes_decode(raw, rawlen, &fx->buf, &fx->len, &e) != 0) {
		free(raw);
		goto bad;
	}
	free(raw);
	fx->r = malloc(sizeof(*fx->r));
	if (fx->r == NULL || spdm_parse_report(fx->buf, fx->len, kind, fx->r, &e) != 0 ||
	    report_info_derive(fx->r, &fx->info, &e) != 0)
		goto bad;
	if (chain_path != NULL) {
		if (file_read(chain_path, 1 << 16, &pem, &pemlen, &e) != 0)
			goto bad;
		fx->chain = chain_from_pem((const char *)pem, pemlen, 16, &e);
		free(pem);
		if (fx->chain == NULL)
			goto bad;
	}
	return 0;
bad:
	fprintf(stderr, "fixture %s: %s\n", report_path, e.msg);
	return -1;
}

static void fixture_free(struct fixture *fx)
{
	free(fx->buf);
	free(fx->r);
	sk_X509_pop_free(fx->chain, X509_free);
	memset(fx, 0, sizeof(*fx));
}

static json_t *load_json(const char *path)
{
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);

	if (j == NULL)
		fprintf(stderr, "cannot load %s: %s\n", path, err.text);
	return j;
}

static const char *strip0x(const char *s)
{
	return (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? s + 2 : s;
}

/* NVIDIA writes "0x"-prefixed hex where we write bare lowercase hex; an
 * integer in one may be a hex string in the other (port bytes). */
static bool same_value(const json_t *expected, const json_t *ours)
{
	if (json_is_string(expected) && json_is_string(ours))
		return strcasecmp(strip0x(json_string_value(expected)), strip0x(json_string_value(ours))) == 0;
	if (json_is_integer(expected) && json_is_integer(ours))
		return json_integer_value(expected) == json_integer_value(ours);
	if (json_is_string(expected) && json_is_integer(ours))
		return strtoll(strip0x(json_string_value(expected)), NULL, 16) == json_integer_value(ours);
	if (json_is_array(expected) && json_is_array(ours)) {
		if (json_array_size(expected) != json_array_size(ours))
			return false;
		for (size_t i = 0; i < json_array_size(expected); i++)
			if (!same_value(json_array_get(expected, i), json_array_get(ours, i)))
				return false;
		return true;
	}
	return false;
}

#define CHECK_SAME(exp, ours, what) do { \
	if (!same_value((exp), (ours))) { \
		char *h_e = json_dumps((exp), JSON_ENCODE_ANY | JSON_COMPACT); \
		char *h_o = (ours) ? json_dumps((ours), JSON_ENCODE_ANY | JSON_COMPACT) : NULL; \
		fprintf(stderr, "FAIL %s (%s:%d): %s: expected %.200s, got %.200s\n", h_cur, \
		    __FILE__, __LINE__, (what), h_e ? h_e : "?", h_o ? h_o : "(missing)"); \
		free(h_e); free(h_o); h_cur_failed = 1; \
	} \
} while (0)

static json_t *path_get(json_t *j, const char *a, const char *b)
{
	json_t *v = json_object_get(j, a);
	return b ? json_object_get(v, b) : v;
}

/* Every key of NVIDIA's request JSON against our "request". */
static int compare_request(json_t *ours, json_t *exp)
{
	const char *k;
	json_t *v;
	int n = 0;

	json_object_foreach(exp, k, v) {
		CHECK_SAME(v, json_object_get(ours, k), k);
		n++;
	}
	CHECK_INT(json_object_size(ours), n);
	return n;
}

/* Response header fields and every measurement block. */
static int compare_response(json_t *resp, json_t *exp)
{
	static const char *const hdr[] = { "SPDMVersion", "RequestResponseCode", "Param1", "Param2",
		"NumberOfBlocks", "MeasurementRecordLength", "Nonce", "OpaqueLength", "Signature" };
	json_t *eblocks = path_get(exp, "MeasurementRecord", "MeasurementBlocks");
	json_t *oblocks = json_object_get(resp, "MeasurementBlocks");
	const char *k;
	json_t *eb;
	int n = 0;

	for (size_t i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
		CHECK(json_object_get(exp, hdr[i]) != NULL);
		CHECK_SAME(json_object_get(exp, hdr[i]), json_object_get(resp, hdr[i]), hdr[i]);
	}
	CHECK_SAME(path_get(exp, "MeasurementRecord", "NumberOfBlocks"),
	    json_object_get(resp, "NumberOfBlocks"), "MeasurementRecord.NumberOfBlocks");
	CHECK(eblocks != NULL && json_object_size(eblocks) > 0);
	CHECK_INT(json_object_size(oblocks), json_object_size(eblocks));
	json_object_foreach(eblocks, k, eb) {
		json_t *ob = json_object_get(oblocks, k);
		const char *f;
		json_t *ev;

		CHECK(ob != NULL);
		json_object_foreach(eb, f, ev) {
			char what[80];
			snprintf(what, sizeof(what), "block %s %s", k, f);
			CHECK_SAME(ev, json_object_get(ob, f), what);
			n++;
		}
		CHECK_INT(json_integer_value(json_object_get(ob, "Index")), atoi(k));
	}
	return n;
}

/* NVIDIA's key for our field name (their SWITCH_PORT is our SWITCH_PORTS). */
static const char *our_name(const char *nvidia_key)
{
	const char *n = nvidia_key + strlen("OPAQUE_FIELD_ID_");
	return strcmp(n, "SWITCH_PORT") == 0 ? "SWITCH_PORTS" : n;
}

/* Every opaque field NVIDIA lists: raw hex against our "OpaqueData", list
 * forms against "OpaqueDataDecoded". Then every raw field of ours must be
 * one NVIDIA listed, or named in extra[] (fields NVIDIA's JSON omits). */
static int compare_opaque(json_t *resp, json_t *exp, const char *const *extra)
{
	json_t *efields = path_get(exp, "OpaqueData", "OpaqueDataField");
	json_t *raw = json_object_get(resp, "OpaqueData");
	json_t *dec = json_object_get(resp, "OpaqueDataDecoded");
	const char *k;
	json_t *ev;
	int n = 0;

	CHECK(efields != NULL && json_object_size(efields) > 0);
	json_object_foreach(efields, k, ev) {
		const char *name = our_name(k);
		json_t *ours = json_is_array(ev) ? json_object_get(dec, name) : json_object_get(raw, name);
		CHECK(strncmp(k, "OPAQUE_FIELD_ID_", 16) == 0);
		CHECK_SAME(ev, ours, k);
		n++;
	}
	json_object_foreach(raw, k, ev) {
		char nk[64];
		bool listed, is_extra = false;

		snprintf(nk, sizeof(nk), "OPAQUE_FIELD_ID_%s", k);
		listed = json_object_get(efields, nk) != NULL;
		for (int i = 0; extra && extra[i]; i++)
			is_extra |= strcmp(extra[i], k) == 0;
		if (listed == is_extra)
			fprintf(stderr, "FAIL %s: field %s listed=%d extra=%d\n", h_cur, k, listed, is_extra);
		CHECK(listed != is_extra);
	}
	return n;
}

static void compare_with_nvidia(const char *report_rel, const char *parsed_rel, const char *req_rel,
    enum gpa_device_kind kind, const char *const *extra, int min_compared)
{
	const char *rp = shared_path(report_rel);
	char rpath[4096], ppath[4096], qpath[4096];
	struct fixture fx;
	json_t *doc, *exp, *req;
	int n;

	if (rp == NULL)
		SKIP("shared vectors not found");
	snprintf(rpath, sizeof(rpath), "%s", rp);
	snprintf(ppath, sizeof(ppath), "%s", shared_path(parsed_rel));
	snprintf(qpath, sizeof(qpath), "%s", shared_path(req_rel));
	if (fixture_load(&fx, rpath, NULL, kind) != 0) {
		CHECK(!"fixture");
		return;
	}
	doc = inspect_report_json(fx.r, &fx.info, NULL, NULL);
	exp = load_json(ppath);
	req = load_json(qpath);
	CHECK(doc != NULL && exp != NULL && req != NULL);
	if (doc && exp && req) {
		n = compare_request(json_object_get(doc, "request"), req);
		n += compare_response(json_object_get(doc, "response"), exp);
		n += compare_opaque(json_object_get(doc, "response"), exp, extra);
		/* Guards against comparing two empty sets and calling it a match. */
		CHECK(n >= min_compared);
	}
	json_decref(doc);
	json_decref(exp);
	json_decref(req);
	fixture_free(&fx);
}

static void test_nvidia_550(void)
{
	compare_with_nvidia(NV "gpu/hopper_550.90.07/attestation_report.hex.txt",
	    NV "expected/nvidia_sdk/spdm_parsed_output__550.90.07.json",
	    NV "expected/nvidia_sdk/spdm_req_parsed_output__550.90.07.json", GPA_DEV_GPU, NULL,
	    6 + 64 * 3 + 14);
}

static void test_nvidia_580(void)
{
	/* MANIFEST §8: NVIDIA's JSON leaves these two out; the report has them. */
	static const char *const extra[] = { "OPAQUE_DATA_VERSION", "FEATURE_FLAG", NULL };
	const char *rp = shared_path(NV "gpu/hopper_580.159.03/attestation_report.hex.txt");
	char path[4096];
	struct fixture fx;

	/* shared_path() returns a static buffer: copy before the next call. */
	snprintf(path, sizeof(path), "%s", rp ? rp : "");
	compare_with_nvidia(NV "gpu/hopper_580.159.03/attestation_report.hex.txt",
	    NV "expected/nvidia_sdk/spdm_parsed_output__580.159.03.json",
	    NV "expected/nvidia_sdk/spdm_req_parsed_output__580.159.03.json", GPA_DEV_GPU, extra,
	    6 + 64 * 3 + 14);
	if (rp == NULL)
		return;
	if (fixture_load(&fx, path, NULL, GPA_DEV_GPU) == 0) {
		json_t *doc = inspect_report_json(fx.r, &fx.info, NULL, NULL);
		json_t *raw = path_get(json_object_get(doc, "response"), "OpaqueData", NULL);
		json_t *dec = path_get(json_object_get(doc, "response"), "OpaqueDataDecoded", NULL);
		/* MANIFEST §3: OPAQUE_DATA_VERSION=1 and FEATURE_FLAG=0 in this report. */
		CHECK_STREQ(json_string_value(json_object_get(raw, "OPAQUE_DATA_VERSION")), "0100");
		CHECK_STREQ(json_string_value(json_object_get(raw, "FEATURE_FLAG")), "0000");
		CHECK_INT(json_integer_value(json_object_get(dec, "OPAQUE_DATA_VERSION")), 1);
		CHECK_INT(json_integer_value(json_object_get(dec, "FEATURE_FLAG")), 0);
		CHECK_STREQ(json_string_value(json_object_get(dec, "FEATURE_FLAG_MODE")), "cc");
		CHECK_INT(json_integer_value(path_get(doc, "derived", "opaque_data_version")), 1);
		json_decref(doc);
		fixture_free(&fx);
	} else {
		CHECK(!"fixture");
	}
}

static void test_nvidia_switch(void)
{
	compare_with_nvidia(NV "switch/ls10_96.10.55.00.01/attestation_report.hex.txt",
	    NV "expected/nvidia_sdk/switch_spdm_parsed_output__96.10.55.00.01.json",
	    NV "expected/nvidia_sdk/switch_spdm_req_parsed_output__96.10.55.00.01.json",
	    GPA_DEV_SWITCH, NULL, 6 + 31 * 3 + 8);
}

/* Trustee's parse of the 550.90.07 report: measurements, config, ueid. */
static void test_trustee_550(void)
{
	SHARED_OR_SKIP(rp, NV "gpu/hopper_550.90.07/attestation_report.hex.txt");
	SHARED_OR_SKIP(cp, NV "gpu/hopper_550.90.07/cert_chain.pem.txt");
	SHARED_OR_SKIP(tp, NV "expected/trustee/hopper_550.90.07_trustee_claims.json");
	struct fixture fx;
	json_t *doc, *tr, *resp, *dec, *raw, *cfg, *cnt, *v;
	const char *k;
	int nmeas = 0;

	if (fixture_load(&fx, rp, cp, GPA_DEV_GPU) != 0) {
		CHECK(!"fixture");
		return;
	}
	doc = inspect_report_json(fx.r, &fx.info, fx.chain, NULL);
	tr = load_json(tp);
	CHECK(doc != NULL && tr != NULL);
	if (doc == NULL || tr == NULL)
		goto out;
	resp = json_object_get(doc, "response");
	dec = json_object_get(resp, "OpaqueDataDecoded");
	raw = json_object_get(resp, "OpaqueData");
	cfg = json_object_get(tr, "config");
	json_object_foreach(json_object_get(tr, "measurements"), k, v) {
		CHECK_SAME(v, path_get(json_object_get(resp, "MeasurementBlocks"), k, "DMTFSpecMeasurementValue"), k);
		nmeas++;
	}
	CHECK_INT(nmeas, 64);
	/* Trustee's measurement_count is MSRSCNT keyed by SPDM index. */
	cnt = json_object_get(cfg, "measurement_count");
	CHECK_INT(json_object_size(cnt), json_array_size(json_object_get(dec, "MSRSCNT")));
	json_object_foreach(cnt, k, v)
		CHECK_SAME(v, json_array_get(json_object_get(dec, "MSRSCNT"), (size_t)atoi(k) - 1), k);
	CHECK_SAME(json_object_get(cfg, "driver_version"), json_object_get(dec, "DRIVER_VERSION"), "driver");
	CHECK_SAME(json_object_get(cfg, "driver_version"), path_get(doc, "derived", "driver_version"), "driver");
	/* Trustee lowercases the VBIOS version; same_value compares strings caselessly. */
	CHECK_SAME(json_object_get(cfg, "vbios_version"), path_get(doc, "derived", "vbios_version"), "vbios");
	CHECK_SAME(json_object_get(cfg, "fwid"), path_get(doc, "derived", "fwid"), "fwid");
	CHECK_SAME(json_object_get(cfg, "chip_sku"), json_object_get(dec, "CHIP_SKU"), "chip_sku");
	CHECK_SAME(json_object_get(cfg, "chip_sku_mod"), json_object_get(dec, "CHIP_SKU_MOD"), "chip_sku_mod");
	CHECK_SAME(json_object_get(cfg, "project"), json_object_get(dec, "PROJECT"), "project");
	CHECK_SAME(json_object_get(cfg, "project_sku"), json_object_get(dec, "PROJECT_SKU"), "project_sku");
	CHECK_SAME(json_object_get(cfg, "project_sku_mod"), json_object_get(raw, "PROJECT_SKU_MOD"), "psm");
	CHECK_SAME(json_object_get(cfg, "board_id"), json_object_get(raw, "BOARD_ID"), "board_id");
	CHECK_SAME(json_object_get(cfg, "gpu_info"), json_object_get(raw, "GPU_INFO"), "gpu_info");
	CHECK_SAME(json_object_get(cfg, "cpr_info"), json_object_get(raw, "CPRINFO"), "cpr_info");
	CHECK_SAME(json_object_get(cfg, "protected_pcie_status"), json_object_get(raw, "PROTECTED_PCIE_STATUS"), "ppcie");
	CHECK_SAME(json_object_get(cfg, "nvdec0_status"), json_object_get(dec, "NVDEC0_STATUS"), "nvdec0");
	CHECK_SAME(json_object_get(cfg, "nvdec0_status"), path_get(doc, "derived", "nvdec0"), "nvdec0");
	CHECK_SAME(json_object_get(tr, "ueid"), json_object_get(doc, "ueid"), "ueid");
	CHECK(strcasecmp(json_string_value(json_object_get(tr, "arch")),
	    json_string_value(path_get(doc, "derived", "arch"))) == 0);
out:
	json_decref(doc);
	json_decref(tr);
	fixture_free(&fx);
}

/* derived + certificates for 550.90.07 with its chain (MANIFEST §3). */
static void test_derived_and_certs_gpu(void)
{
	SHARED_OR_SKIP(rp, NV "gpu/hopper_550.90.07/attestation_report.hex.txt");
	SHARED_OR_SKIP(cp, NV "gpu/hopper_550.90.07/cert_chain.pem.txt");
	struct fixture fx;
	json_t *doc, *d, *certs, *c0, *c1;

	if (fixture_load(&fx, rp, cp, GPA_DEV_GPU) != 0) {
		CHECK(!"fixture");
		return;
	}
	doc = inspect_report_json(fx.r, &fx.info, fx.chain, NULL);
	CHECK(doc != NULL);
	d = json_object_get(doc, "derived");
	CHECK_STREQ(json_string_value(json_object_get(doc, "kind")), "gpu");
	CHECK_STREQ(json_string_value(json_object_get(d, "arch")), "HOPPER");
	CHECK_STREQ(json_string_value(json_object_get(d, "arch_source")), "chain hwmodel");
	CHECK_STREQ(json_string_value(json_object_get(d, "driver_rim_id")), "NV_GPU_DRIVER_GH100_550.90.07");
	CHECK_STREQ(json_string_value(json_object_get(d, "vbios_rim_id")), "NV_GPU_VBIOS_1010_0200_882_96009F0001");
	CHECK_STREQ(json_string_value(json_object_get(d, "vbios_version")), "96.00.9F.00.01");
	CHECK_STREQ(json_string_value(json_object_get(d, "nvdec0")), "disabled");
	CHECK_STREQ(json_string_value(json_object_get(d, "protected_pcie")), "disabled");
	CHECK_INT(json_integer_value(json_object_get(d, "opaque_data_version")), 0);
	CHECK(json_is_null(json_object_get(d, "feature_flag")));
	CHECK_STREQ(json_string_value(json_object_get(d, "feature_flag_mode")), "none");
	CHECK(json_object_get(d, "switch_pdis") == NULL);
	CHECK_STREQ(json_string_value(json_object_get(doc, "hwmodel")), "GH100 A01 GSP BROM");
	CHECK_STREQ(json_string_value(json_object_get(doc, "ueid")),
	    "478176379286082186618948445787393647364802107249");
	certs = json_object_get(doc, "certificates");
	CHECK_INT(json_array_size(certs), 5);
	c0 = json_array_get(certs, 0);
	c1 = json_array_get(certs, 1);
	CHECK_INT(json_integer_value(json_object_get(c0, "index")), 0);
	CHECK_STREQ(json_string_value(json_object_get(c0, "subject_cn")), "GH100 A01 GSP FMC LF");
	CHECK_CONTAINS(json_string_value(json_object_get(c0, "issuer")), "GH100 A01 GSP BROM");
	CHECK_CONTAINS(json_string_value(json_object_get(c0, "subject")), "GH100 A01 GSP FMC LF");
	CHECK_STREQ(json_string_value(json_object_get(c0, "serial_decimal")),
	    json_string_value(json_object_get(doc, "ueid")));
	CHECK_STREQ(json_string_value(json_object_get(c0, "fwid")), json_string_value(json_object_get(d, "fwid")));
	CHECK(json_is_true(json_object_get(c0, "fwid_equals_report")));
	CHECK_STREQ(json_string_value(json_object_get(c0, "not_after")), "9999-12-31T23:59:59Z");
	CHECK_STREQ(json_string_value(json_object_get(c1, "subject_cn")), "GH100 A01 GSP BROM");
	CHECK(json_object_get(c1, "fwid") == NULL);
	CHECK_STREQ(json_string_value(json_object_get(json_array_get(certs, 4), "subject_cn")),
	    "NVIDIA Device Identity CA");
	json_decref(doc);
	fixture_free(&fx);
}

static void test_derived_switch(void)
{
	SHARED_OR_SKIP(rp, NV "switch/ls10_96.10.55.00.01/attestation_report.hex.txt");
	SHARED_OR_SKIP(cp, NV "switch/ls10_96.10.55.00.01/cert_chain.pem.txt");
	SHARED_OR_SKIP(ep, NV "expected/nvidia_sdk/switch_spdm_parsed_output__96.10.55.00.01.json");
	struct fixture fx;
	json_t *doc, *d, *exp, *ef, *dec;

	if (fixture_load(&fx, rp, cp, GPA_DEV_SWITCH) != 0) {
		CHECK(!"fixture");
		return;
	}
	doc = inspect_report_json(fx.r, &fx.info, fx.chain, NULL);
	exp = load_json(ep);
	d = json_object_get(doc, "derived");
	dec = path_get(doc, "response", "OpaqueDataDecoded");
	ef = path_get(exp, "OpaqueData", "OpaqueDataField");
	CHECK_STREQ(json_string_value(json_object_get(doc, "kind")), "switch");
	CHECK_STREQ(json_string_value(json_object_get(d, "arch")), "LS10");
	CHECK_STREQ(json_string_value(json_object_get(d, "arch_source")), "chain hwmodel");
	CHECK_STREQ(json_string_value(json_object_get(d, "vbios_rim_id")), "NV_SWITCH_BIOS_5612_0002_890_9610550001");
	CHECK(json_object_get(d, "driver_rim_id") == NULL);
	CHECK_STREQ(json_string_value(json_object_get(d, "vbios_version")), "96.10.55.00.01");
	CHECK_STREQ(json_string_value(json_object_get(dec, "VBIOS_VERSION")), "96.10.55.00.01");
	CHECK_STREQ(json_string_value(json_object_get(d, "device_pdi")), "203EB31AD9ED0008");
	/* Claims use the stored order in uppercase: NVIDIA's values, case-folded. */
	CHECK_SAME(json_object_get(ef, "OPAQUE_FIELD_ID_DEVICE_PDI"), json_object_get(d, "device_pdi"), "pdi");
	CHECK_SAME(json_object_get(ef, "OPAQUE_FIELD_ID_SWITCH_GPU_PDIS"), json_object_get(d, "gpu_pdis"), "gpu_pdis");
	CHECK_SAME(json_object_get(ef, "OPAQUE_FIELD_ID_SWITCH_PORT"), json_object_get(d, "ports"), "ports");
	CHECK_INT(json_array_size(json_object_get(dec, "DISABLED_PORTS")), 64);
	CHECK_INT(json_integer_value(json_object_get(d, "lock_status")), 1);
	CHECK_INT(json_integer_value(json_object_get(dec, "SWITCH_POSITION_ID")), 2);
	CHECK_STREQ(json_string_value(json_object_get(doc, "hwmodel")), "LS_10 A01 FSP BROM");
	CHECK_STREQ(json_string_value(json_object_get(doc, "ueid")),
	    "694931143880983876767046803400974855445978836716");
	json_decref(doc);
	json_decref(exp);
	fixture_free(&fx);
}

/* Arch source without a chain: evidence arch first, else the default. */
static void test_arch_sources(void)
{
	SHARED_OR_SKIP(rp, NV "gpu/blackwell_gb100_575.32/attestation_report.hex.txt");
	SHARED_OR_SKIP(cp, NV "gpu/blackwell_gb100_575.32/cert_chain.pem.txt");
	struct fixture fx;
	json_t *doc;

	if (fixture_load(&fx, rp, cp, GPA_DEV_GPU) != 0) {
		CHECK(!"fixture");
		return;
	}
	doc = inspect_report_json(fx.r, &fx.info, fx.chain, NULL);
	CHECK_STREQ(json_string_value(path_get(doc, "derived", "arch_source")), "chain hwmodel");
	CHECK_STREQ(json_string_value(path_get(doc, "derived", "driver_rim_id")), "NV_GPU_CC_DRIVER_GB100_575.32");
	CHECK_STREQ(json_string_value(path_get(doc, "derived", "vbios_rim_id")), "NV_GPU_VBIOS_G525_0220_886_970088000F");
	json_decref(doc);
	/* The chain wins over a contradicting evidence arch. */
	doc = inspect_report_json_arch(fx.r, &fx.info, fx.chain, NULL, "HOPPER");
	CHECK_STREQ(json_string_value(path_get(doc, "derived", "arch")), "BLACKWELL");
	json_decref(doc);
	doc = inspect_report_json_arch(fx.r, &fx.info, NULL, NULL, "blackwell");
	CHECK_STREQ(json_string_value(path_get(doc, "derived", "arch_source")), "evidence arch");
	CHECK_STREQ(json_string_value(path_get(doc, "derived", "driver_rim_id")), "NV_GPU_CC_DRIVER_GB100_575.32");
	json_decref(doc);
	/* A switch arch for a GPU report is not usable: falls to the default. */
	doc = inspect_report_json_arch(fx.r, &fx.info, NULL, NULL, "LS10");
	CHECK_STREQ(json_string_value(path_get(doc, "derived", "arch_source")), "default");
	CHECK_STREQ(json_string_value(path_get(doc, "derived", "driver_rim_id")), "NV_GPU_DRIVER_GH100_575.32");
	json_decref(doc);
	doc = inspect_report_json(fx.r, &fx.info, NULL, NULL);
	CHECK_STREQ(json_string_value(path_get(doc, "derived", "arch_source")), "default");
	CHECK_STREQ(json_string_value(path_get(doc, "derived", "arch")), "HOPPER");
	CHECK(json_object_get(doc, "certificates") == NULL);
	CHECK(json_object_get(doc, "ueid") == NULL);
	json_decref(doc);
	fixture_free(&fx);
}

/* GPU SWITCH_PDI: decoded entries are the stored ones reversed. */
static void test_gpu_switch_pdis(void)
{
	SHARED_OR_SKIP(ep, NV "gpu/hopper_590.12/evidence.json");
	struct evidence_set *set = malloc(sizeof(*set));
	struct gpa_err e = {{0}};
	json_t *doc, *raw, *list;
	const char *hex;

	CHECK(set != NULL && evidence_load_json_file(ep, GPA_DEV_GPU, set, &e) == 0);
	doc = inspect_item_json(&set->items[0], &e);
	CHECK(doc != NULL);
	raw = path_get(path_get(doc, "response", "OpaqueData"), "SWITCH_PDI", NULL);
	list = path_get(path_get(doc, "response", "OpaqueDataDecoded"), "SWITCH_PDI", NULL);
	hex = json_string_value(raw);
	CHECK(hex != NULL && strlen(hex) == 18 * 16);
	CHECK_INT(json_array_size(list), 18);
	for (size_t i = 0; hex && i < json_array_size(list); i++) {
		const char *s = json_string_value(json_array_get(list, i));
		for (int j = 0; s && j < 8; j++) {
			/* byte j of the decoded PDI is stored byte 7-j of entry i */
			CHECK(toupper((unsigned char)hex[i * 16 + (size_t)(7 - j) * 2]) == s[j * 2]);
			CHECK(toupper((unsigned char)hex[i * 16 + (size_t)(7 - j) * 2 + 1]) == s[j * 2 + 1]);
		}
	}
	CHECK(same_value(list, path_get(doc, "derived", "switch_pdis")));
	CHECK_STREQ(json_string_value(path_get(doc, "derived", "feature_flag_mode")), "ppcie");
	CHECK_STREQ(json_string_value(path_get(doc, "derived", "protected_pcie")), "enabled");
	CHECK_STREQ(json_string_value(path_get(doc, "evidence", "arch")), "HOPPER");
	CHECK(json_is_true(path_get(doc, "evidence", "nonce_equals_request")));
	CHECK(json_object_get(doc, "chain_error") == NULL);
	CHECK_INT(json_array_size(json_object_get(doc, "certificates")), 5);
	json_decref(doc);
	evidence_set_clear(set);
	free(set);
}

/* The item helper: a broken chain is reported, not fatal; a broken report is. */
static void test_item_errors(void)
{
	SHARED_OR_SKIP(ep, NV "gpu/hopper_550.90.07/evidence_with_metadata.json");
	struct evidence_set *set = malloc(sizeof(*set));
	struct gpa_err e = {{0}};
	struct evidence_item *it;
	json_t *doc;

	CHECK(set != NULL && evidence_load_json_file(ep, GPA_DEV_GPU, set, &e) == 0);
	it = &set->items[0];
	it->chain_pem[30] = '!';	/* inside the first PEM body */
	doc = inspect_item_json(it, &e);
	CHECK(doc != NULL);
	CHECK(json_is_string(json_object_get(doc, "chain_error")));
	CHECK(json_object_get(doc, "certificates") == NULL);
	CHECK_STREQ(json_string_value(path_get(doc, "derived", "arch_source")), "evidence arch");
	json_decref(doc);
	it->nonce[0] ^= 1;
	it->report_len -= 1;
	doc = inspect_item_json(it, &e);
	CHECK(doc == NULL);
	CHECK_CONTAINS(e.msg, "Signature");
	it->report_len += 1;
	doc = inspect_item_json(it, &e);
	CHECK(json_is_false(path_get(doc, "evidence", "nonce_equals_request")));
	json_decref(doc);
	evidence_set_clear(set);
	free(set);
}

/* Hostile bytes in a string field: derive fails, the document says why,
 * and neither the JSON nor the text carries the raw control byte. */
static void test_hostile_strings_and_text(void)
{
	SHARED_OR_SKIP(rp, NV "gpu/hopper_550.90.07/attestation_report.hex.txt");
	struct fixture fx;
	const struct opaque_field *dv;
	struct report_info info;
	struct gpa_err e = {{0}};
	json_t *doc;
	char *text, *dump;

	if (fixture_load(&fx, rp, NULL, GPA_DEV_GPU) != 0) {
		CHECK(!"fixture");
		return;
	}
	dv = opaque_get(fx.r, OPQ_DRIVER_VERSION);
	CHECK(dv != NULL);
	fx.buf[dv->offset + 4] = 0x1b;		/* ESC, first character of "550.90.07" */
	fx.buf[dv->offset + 5] = 0xc3;		/* half a UTF-8 sequence */
	CHECK(spdm_parse_report(fx.buf, fx.len, GPA_DEV_GPU, fx.r, &e) == 0);
	CHECK(report_info_derive(fx.r, &info, &e) != 0);
	doc = inspect_report_json(fx.r, NULL, NULL, e.msg);
	CHECK(doc != NULL);
	CHECK_CONTAINS(json_string_value(path_get(doc, "derived", "error")), "DRIVER_VERSION");
	CHECK(path_get(doc, "derived", "driver_rim_id") == NULL);
	CHECK_STREQ(json_string_value(path_get(path_get(doc, "response", "OpaqueDataDecoded"), "DRIVER_VERSION", NULL)),
	    "\\x1b\\xc30.90.07");
	text = inspect_text(doc);
	dump = json_dumps(doc, 0);
	CHECK(text != NULL && dump != NULL);
	CHECK(strchr(text, 0x1b) == NULL && strchr(text, (char)0xc3) == NULL);
	CHECK_CONTAINS(text, "[request]\n");
	CHECK_CONTAINS(text, "[response]\n");
	CHECK_CONTAINS(text, "\n  Nonce: 931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb\n");
	CHECK_CONTAINS(text, "\n  MeasurementBlocks:\n    1:\n      Index: 1\n");
	CHECK_CONTAINS(text, "\n    DRIVER_VERSION: \\x1b\\xc30.90.07\n");
	CHECK_CONTAINS(text, "\n    MSRSCNT: [0, 1, 4, 1,");
	CHECK_CONTAINS(text, "\n[derived]\n  arch: HOPPER\n  arch_source: default\n  error: opaque data:");
	CHECK_CONTAINS(text, "kind: gpu\n");
	free(text);
	free(dump);
	json_decref(doc);
	fixture_free(&fx);
}

static void test_text_certificates(void)
{
	SHARED_OR_SKIP(rp, NV "switch/ls10_96.10.55.00.01/attestation_report.hex.txt");
	SHARED_OR_SKIP(cp, NV "switch/ls10_96.10.55.00.01/cert_chain.pem.txt");
	struct fixture fx;
	json_t *doc;
	char *text;

	if (fixture_load(&fx, rp, cp, GPA_DEV_SWITCH) != 0) {
		CHECK(!"fixture");
		return;
	}
	doc = inspect_report_json(fx.r, &fx.info, fx.chain, NULL);
	text = inspect_text(doc);
	CHECK_CONTAINS(text, "\n[certificates]\n  [0]:\n    index: 0\n");
	CHECK_CONTAINS(text, "\n    subject_cn: LS_10 A01 FSP FMC LF\n");
	CHECK_CONTAINS(text, "\nhwmodel: LS_10 A01 FSP BROM\n");
	CHECK_CONTAINS(text, "\n    DISABLED_PORTS: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,");
	CHECK_CONTAINS(text, "\n  vbios_rim_id: NV_SWITCH_BIOS_5612_0002_890_9610550001\n");
	free(text);
	json_decref(doc);
	fixture_free(&fx);
}

int main(void)
{
	RUN(test_nvidia_550);
	RUN(test_nvidia_580);
	RUN(test_nvidia_switch);
	RUN(test_trustee_550);
	RUN(test_derived_and_certs_gpu);
	RUN(test_derived_switch);
	RUN(test_arch_sources);
	RUN(test_gpu_switch_pdis);
	RUN(test_item_errors);
	RUN(test_hostile_strings_and_text);
	RUN(test_text_certificates);
	return harness_done("inspect");
}
