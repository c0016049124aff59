/*
 * Tests for evidence/: both JSON shapes from the recorded vectors, the
 * writer (round trip to the same bytes), the common nonce, raw report
 * files, and hostile JSON, each failure checked for a message that names
 * the problem.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "evidence/evidence.h"

#define NV "vectors/nvidia/"

static struct evidence_set *new_set(void)
{
	return calloc(1, sizeof(struct evidence_set));
}

static int parse_str(const char *json, enum gpa_device_kind kind, struct evidence_set *set,
    struct gpa_err *e)
{
	e->msg[0] = '\0';
	return evidence_parse_json((const uint8_t *)json, strlen(json), kind, set, e);
}

static int read_shared(const char *rel, uint8_t **buf, size_t *len)
{
	const char *p = shared_path(rel);
	struct gpa_err e = {{0}};

	if (p == NULL)
		return -1;
	return file_read(p, 1 << 20, buf, len, &e);
}

/* ---- the recorded shapes ---- */

static void test_nras_shape(void)
{
	SHARED_OR_SKIP(p, NV "gpu/hopper_595.71.05_azure/gpu-evidence.json");
	struct evidence_set *set = new_set();
	struct gpa_err e = {{0}};
	uint8_t *bin, *pem;
	size_t binlen, pemlen;
	char hex[65];

	CHECK(evidence_load_json_file(p, GPA_DEV_GPU, set, &e) == 0);
	CHECK_INT(set->n, 1);
	/* arch and nonce come from the outer object. */
	CHECK_STREQ(set->items[0].arch, "HOPPER");
	CHECK(set->items[0].has_nonce);
	hex_encode(set->items[0].nonce, 32, hex);
	CHECK_STREQ(hex, "690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a");
	CHECK_INT(set->items[0].kind, GPA_DEV_GPU);
	CHECK_STREQ(set->items[0].uuid, "");
	/* The two "derived" files are the decoded fields (MANIFEST file table). */
	CHECK(read_shared(NV "gpu/hopper_595.71.05_azure/attestation_report.bin", &bin, &binlen) == 0);
	CHECK(read_shared(NV "gpu/hopper_595.71.05_azure/cert_chain.pem", &pem, &pemlen) == 0);
	CHECK_INT(set->items[0].report_len, binlen);
	CHECK(memcmp(set->items[0].report, bin, binlen) == 0);
	CHECK_INT(set->items[0].chain_len, pemlen);
	CHECK(memcmp(set->items[0].chain_pem, pem, pemlen) == 0);
	CHECK_INT(strlen(set->items[0].chain_pem), pemlen);
	free(bin);
	free(pem);
	evidence_set_clear(set);
	CHECK_INT(set->n, 0);
	free(set);
}

/* The array shape: extra keys ignored; the report equals the hex file. */
static void check_array_file(const char *json_rel, const char *hex_rel, enum gpa_device_kind kind,
    const char *arch)
{
	struct evidence_set *set = new_set();
	struct gpa_err e = {{0}};
	uint8_t *raw, *rep;
	size_t rawlen, replen;
	const char *p = shared_path(json_rel);
	char path[4096];

	snprintf(path, sizeof(path), "%s", p);
	CHECK(evidence_load_json_file(path, kind, set, &e) == 0);
	CHECK_INT(set->n, 1);
	CHECK_STREQ(set->items[0].arch, arch);
	CHECK(set->items[0].has_nonce);
	CHECK(memcmp(set->items[0].nonce, set->items[0].report + 4, 32) == 0);
	CHECK_CONTAINS(set->items[0].chain_pem, "-----BEGIN CERTIFICATE-----");
	if (hex_rel != NULL) {
		CHECK(read_shared(hex_rel, &raw, &rawlen) == 0);
		CHECK(report_bytes_decode(raw, rawlen, &rep, &replen, &e) == 0);
		CHECK_INT(set->items[0].report_len, replen);
		CHECK(memcmp(set->items[0].report, rep, replen) == 0);
		free(raw);
		free(rep);
	}
	evidence_set_clear(set);
	free(set);
}

static void test_array_shapes(void)
{
	SHARED_OR_SKIP(p, NV "gpu/hopper_590.12/evidence_with_metadata.json");
	(void)p;
	check_array_file(NV "gpu/hopper_590.12/evidence_with_metadata.json", NULL, GPA_DEV_GPU, "HOPPER");
	check_array_file(NV "gpu/hopper_550.90.07/evidence_with_metadata.json",
	    NV "gpu/hopper_550.90.07/attestation_report.hex.txt", GPA_DEV_GPU, "HOPPER");
	check_array_file(NV "switch/ls10_96.10.55.00.01/evidence.json",
	    NV "switch/ls10_96.10.55.00.01/attestation_report.hex.txt", GPA_DEV_SWITCH, "LS10");
}

static bool same_items(const struct evidence_set *a, const struct evidence_set *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct evidence_item *x = &a->items[i], *y = &b->items[i];
		if (x->report_len != y->report_len || memcmp(x->report, y->report, x->report_len) ||
		    x->chain_len != y->chain_len || memcmp(x->chain_pem, y->chain_pem, x->chain_len) ||
		    x->has_nonce != y->has_nonce || memcmp(x->nonce, y->nonce, 32) ||
		    strcmp(x->arch, y->arch) || strcmp(x->uuid, y->uuid) || x->kind != y->kind)
			return false;
	}
	return true;
}

/* write -> read -> write gives the same bytes and the same items. */
static void round_trip(const char *rel, enum gpa_device_kind kind)
{
	struct evidence_set *a = new_set(), *b = new_set();
	struct gpa_err e = {{0}};
	const char *p = shared_path(rel);
	char path[4096], *j1, *j2;

	snprintf(path, sizeof(path), "%s", p);
	CHECK(evidence_load_json_file(path, kind, a, &e) == 0);
	j1 = evidence_to_json(a);
	CHECK(j1 != NULL);
	CHECK(j1 && parse_str(j1, kind, b, &e) == 0);
	CHECK(same_items(a, b));
	j2 = evidence_to_json(b);
	CHECK(j1 && j2 && strcmp(j1, j2) == 0);
	free(j1);
	free(j2);
	evidence_set_clear(a);
	evidence_set_clear(b);
	free(a);
	free(b);
}

/* nvattest collect-evidence prints {"result_code", "result_message",
 * "evidences": [...]}: the same items as the bare array. */
static void test_nvattest_output_shape(void)
{
	struct evidence_set *a = new_set(), *b = new_set();
	struct gpa_err e = {{0}};
	const char *p = shared_path(NV "gpu/hopper_590.12/evidence_with_metadata.json");
	char path[4096], *arr, *wrapped;

	if (p == NULL) {
		free(a);
		free(b);
		SKIP("shared vectors not found");
	}
	snprintf(path, sizeof(path), "%s", p);
	CHECK(evidence_load_json_file(path, GPA_DEV_GPU, a, &e) == 0);
	arr = evidence_to_json(a);
	wrapped = malloc(strlen(arr) + 128);
	sprintf(wrapped, "{\"result_code\": 0, \"result_message\": \"Ok\", \"evidences\": %s}", arr);
	CHECK(parse_str(wrapped, GPA_DEV_GPU, b, &e) == 0);
	CHECK(same_items(a, b));
	free(arr);
	free(wrapped);
	evidence_set_clear(a);
	evidence_set_clear(b);
	free(a);
	free(b);
}

static void test_round_trip(void)
{
	SHARED_OR_SKIP(p, NV "gpu/hopper_595.71.05_azure/gpu-evidence.json");
	(void)p;
	round_trip(NV "gpu/hopper_595.71.05_azure/gpu-evidence.json", GPA_DEV_GPU);
	round_trip(NV "gpu/hopper_590.12/evidence_with_metadata.json", GPA_DEV_GPU);
	round_trip(NV "switch/ls10_96.10.55.00.01/evidence.json", GPA_DEV_SWITCH);
}

/* The writer's shape: NVIDIA's four keys, plus uuid only when known, and
 * no invented nonce for an item that has none. */
static void test_writer_keys(void)
{
	struct evidence_set *set = new_set(), *back = new_set();
	struct gpa_err e = {{0}};
	char *j;

	set->n = 1;
	set->items[0].report = (uint8_t *)strdup("\x11\xe0\x01");
	set->items[0].report_len = 3;
	set->items[0].chain_pem = strdup("PEM");
	set->items[0].chain_len = 3;
	strcpy(set->items[0].arch, "HOPPER");
	j = evidence_to_json(set);
	CHECK_CONTAINS(j, "\"arch\": \"HOPPER\"");
	CHECK_CONTAINS(j, "\"evidence\": \"EeAB\"");
	CHECK_CONTAINS(j, "\"certificate\": \"UEVN\"");
	CHECK(j && strstr(j, "nonce") == NULL);
	CHECK(j && strstr(j, "uuid") == NULL);
	CHECK(j && parse_str(j, GPA_DEV_GPU, back, &e) == 0);
	CHECK(!back->items[0].has_nonce);
	free(j);
	set->items[0].has_nonce = true;
	memset(set->items[0].nonce, 0xab, 32);
	strcpy(set->items[0].uuid, "GPU-1");
	j = evidence_to_json(set);
	CHECK_CONTAINS(j, "\"nonce\": \"abababababababababababababababababababababababababababababababab\"");
	CHECK_CONTAINS(j, "\"uuid\": \"GPU-1\"");
	free(j);
	evidence_set_clear(set);
	evidence_set_clear(back);
	free(set);
	free(back);
}

/* ---- common nonce ---- */

static char *item_json(const char *nonce_hex)
{
	char *s = malloc(256);
	if (nonce_hex)
		snprintf(s, 256, "{\"evidence\":\"EeAB\",\"certificate\":\"UEVN\",\"nonce\":\"%s\"}", nonce_hex);
	else
		snprintf(s, 256, "{\"evidence\":\"EeAB\",\"certificate\":\"UEVN\"}");
	return s;
}

static int nonce_of(const char *a, const char *b, const char *c, uint8_t out[32], struct gpa_err *e)
{
	struct evidence_set *set = new_set();
	char *ia = item_json(a), *ib = item_json(b), *ic = item_json(c), json[1024];
	int rc;

	snprintf(json, sizeof(json), "[%s,%s,%s]", ia, ib, ic);
	if (parse_str(json, GPA_DEV_GPU, set, e) != 0)
		rc = -2;
	else
		rc = evidence_common_nonce(set, out, e);
	free(ia);
	free(ib);
	free(ic);
	evidence_set_clear(set);
	free(set);
	return rc;
}

#define NA "11111111111111111111111111111111111111111111111111111111111111aa"
#define NB "11111111111111111111111111111111111111111111111111111111111111bb"

static void test_common_nonce(void)
{
	uint8_t n[32];
	struct gpa_err e = {{0}};
	char hex[65];

	CHECK_INT(nonce_of(NA, NA, NA, n, &e), 1);
	hex_encode(n, 32, hex);
	CHECK_STREQ(hex, NA);
	CHECK_INT(nonce_of(NULL, NA, NULL, n, &e), 1);
	CHECK_INT(nonce_of(NULL, NULL, NULL, n, &e), 0);
	CHECK_INT(nonce_of(NA, NA, NB, n, &e), -1);
	CHECK_CONTAINS(e.msg, "evidence entry 2 has a different nonce from entry 0");
	CHECK_INT(nonce_of(NULL, NA, NB, n, &e), -1);
	CHECK_CONTAINS(e.msg, "evidence entry 2 has a different nonce from entry 1");
	/* "0x" accepted, uppercase accepted: same nonce. */
	CHECK_INT(nonce_of("0x" NA, NA, "11111111111111111111111111111111111111111111111111111111111111AA", n, &e), 1);
}

/* Two recorded GPUs of one machine share a nonce (MANIFEST §3, 590.12). */
static void test_common_nonce_recorded(void)
{
	SHARED_OR_SKIP(p1, NV "gpu/hopper_590.12/evidence.json");
	SHARED_OR_SKIP(p2, NV "gpu/hopper_590.12/evidence_other_gpu.json");
	struct evidence_set *a = new_set(), *b = new_set();
	struct gpa_err e = {{0}};
	uint8_t n[32];
	char hex[65];

	CHECK(evidence_load_json_file(p1, GPA_DEV_GPU, a, &e) == 0);
	CHECK(evidence_load_json_file(p2, GPA_DEV_GPU, b, &e) == 0);
	/* Merge b's item into a (ownership moves). */
	a->items[1] = b->items[0];
	a->n = 2;
	b->n = 0;
	CHECK_INT(evidence_common_nonce(a, n, &e), 1);
	hex_encode(n, 32, hex);
	CHECK_STREQ(hex, "e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576");
	a->items[1].nonce[31] ^= 1;
	CHECK_INT(evidence_common_nonce(a, n, &e), -1);
	CHECK_CONTAINS(e.msg, "evidence entry 1 has a different nonce");
	evidence_set_clear(a);
	free(a);
	free(b);
}

/* ---- raw reports ---- */

static void test_report_bytes_decode(void)
{
	struct gpa_err e = {{0}};
	uint8_t *out;
	size_t n;
	static const uint8_t bin[] = { 0x11, 0xe0, 0x01, 0xff, '\n' };

	CHECK(report_bytes_decode((const uint8_t *)"11e0 01ff\r\n\tAB\n", 15, &out, &n, &e) == 0);
	CHECK_INT(n, 5);
	CHECK(memcmp(out, "\x11\xe0\x01\xff\xab", 5) == 0);
	free(out);
	CHECK(report_bytes_decode((const uint8_t *)"11e0f", 5, &out, &n, &e) == -1);
	CHECK_CONTAINS(e.msg, "odd number of digits");
	CHECK(report_bytes_decode((const uint8_t *)"1 1e 0f", 7, &out, &n, &e) == -1);
	CHECK_CONTAINS(e.msg, "odd number of digits");
	CHECK(report_bytes_decode((const uint8_t *)"", 0, &out, &n, &e) == -1);
	CHECK_CONTAINS(e.msg, "report is empty");
	/* Not only hex and whitespace: binary, copied as is. */
	CHECK(report_bytes_decode(bin, sizeof(bin), &out, &n, &e) == 0);
	CHECK_INT(n, sizeof(bin));
	CHECK(memcmp(out, bin, sizeof(bin)) == 0);
	free(out);
	CHECK(report_bytes_decode((const uint8_t *)"0x11e0", 6, &out, &n, &e) == 0);
	CHECK_INT(n, 6);	/* "0x" is not hex text: binary */
	free(out);
}

static void test_load_raw(void)
{
	SHARED_OR_SKIP(hex, NV "gpu/hopper_550.90.07/attestation_report.hex.txt");
	SHARED_OR_SKIP(pem, NV "gpu/hopper_550.90.07/cert_chain.pem.txt");
	SHARED_OR_SKIP(bin, NV "gpu/hopper_595.71.05_azure/attestation_report.bin");
	struct evidence_set *set = new_set();
	struct gpa_err e = {{0}};

	CHECK(evidence_load_raw(hex, pem, GPA_DEV_GPU, set, &e) == 0);
	CHECK_INT(set->n, 1);
	CHECK_INT(set->items[0].report_len, 4117);
	CHECK(!set->items[0].has_nonce);
	CHECK_INT(set->items[0].chain_len, 4825);
	CHECK_CONTAINS(set->items[0].chain_pem, "-----END CERTIFICATE-----");
	evidence_set_clear(set);
	CHECK(evidence_load_raw(bin, NULL, GPA_DEV_GPU, set, &e) == 0);
	CHECK_INT(set->items[0].report_len, 4129);
	CHECK_INT(set->items[0].report[0], 0x11);
	CHECK(set->items[0].chain_pem == NULL);
	evidence_set_clear(set);
	CHECK(evidence_load_raw("/nonexistent/report.hex", NULL, GPA_DEV_GPU, set, &e) == -1);
	CHECK_CONTAINS(e.msg, "/nonexistent/report.hex");
	CHECK(evidence_load_raw(hex, "/nonexistent/chain.pem", GPA_DEV_GPU, set, &e) == -1);
	CHECK_CONTAINS(e.msg, "/nonexistent/chain.pem");
	CHECK_INT(set->n, 0);
	free(set);
}

/* ---- hostile JSON ---- */

#define EV "\"evidence\":\"EeAB\""
#define CE "\"certificate\":\"UEVN\""

static void bad(const char *json, const char *want)
{
	struct evidence_set *set = new_set();
	struct gpa_err e = {{0}};

	if (parse_str(json, GPA_DEV_GPU, set, &e) == 0) {
		fprintf(stderr, "FAIL %s: accepted: %.120s\n", h_cur, json);
		h_cur_failed = 1;
	} else {
		CHECK_CONTAINS(e.msg, want);
	}
	/* A failed parse leaves nothing allocated and n == 0. */
	CHECK_INT(set->n, 0);
	free(set);
}

static void test_hostile_structure(void)
{
	bad("", "not valid JSON");
	bad("{", "not valid JSON");
	bad("[{" EV "," CE "}] x", "not valid JSON");
	bad("[]", "the evidence list is empty");
	bad("{\"evidence_list\":[]}", "the evidence list is empty");
	/* jansson itself wants an array or object at the top. */
	bad("5", "not valid JSON");
	bad("\"x\"", "not valid JSON");
	bad("{\"evidence_list\":{}}", "or an object with an \"evidence_list\" (NRAS request)");
	bad("{\"evidence_list\":\"x\"}", "an \"evidence_list\" (NRAS request) or \"evidences\"");
	bad("{\"nonce\":\"" NA "\"}", "an \"evidence_list\" (NRAS request) or \"evidences\"");
	bad("{\"result_code\":0,\"evidences\":null}", "\"evidences\" (nvattest output) array");
	bad("{\"evidences\":[]}", "the evidence list is empty");
	bad("[5]", "evidence entry 0: must be an object");
	bad("[{" EV "," CE "},[]]", "evidence entry 1: must be an object");
	bad("[{" CE "}]", "evidence entry 0: missing \"evidence\"");
	bad("[{" EV "}]", "evidence entry 0: missing \"certificate\"");
	bad("[{\"evidence\":null," CE "}]", "missing \"evidence\"");
	bad("[{\"evidence\":5," CE "}]", "evidence entry 0: \"evidence\" must be a string");
	bad("[{" EV ",\"certificate\":[]}]", "\"certificate\" must be a string");
	bad("[{" EV "," CE ",\"nonce\":{}}]", "evidence entry 0: \"nonce\" must be a string");
	bad("[{" EV "," CE ",\"arch\":1}]", "\"arch\" must be a string");
	bad("{\"nonce\":{},\"evidence_list\":[{" EV "," CE "}]}", "evidence: \"nonce\" must be a string");
	bad("{\"arch\":[],\"evidence_list\":[{" EV "," CE "}]}", "evidence: \"arch\" must be a string");
	/* Duplicate keys: which one wins is ambiguous, so none does. */
	bad("[{" EV "," EV "," CE "}]", "duplicate object key");
	bad("{\"nonce\":\"" NA "\",\"nonce\":\"" NB "\",\"evidence_list\":[{" EV "," CE "}]}", "duplicate");
	/* NUL inside a JSON string. */
	bad("[{\"evidence\":\"Ee\\u0000AB\"," CE "}]", "not valid JSON");
	bad("[{" EV "," CE ",\"arch\":\"HOPPERHOPPERHOPPE\"}]", "evidence entry 0: \"arch\" is longer than 15 bytes");
}

static void test_hostile_values(void)
{
	char *big;
	size_t n;

	bad("[{\"evidence\":\"EeA*\"," CE "}]", "evidence entry 0: \"evidence\" is not valid base64");
	bad("[{\"evidence\":\"EeA\"," CE "}]", "\"evidence\" is not valid base64");		/* no padding */
	bad("[{\"evidence\":\"Ee=A\"," CE "}]", "\"evidence\" is not valid base64");	/* pad inside */
	bad("[{\"evidence\":\"E===\"," CE "}]", "\"evidence\" is not valid base64");
	bad("[{\"evidence\":\"EeAB====\"," CE "}]", "\"evidence\" is not valid base64");
	bad("[{\"evidence\":\"EQ==EeAB\"," CE "}]", "\"evidence\" is not valid base64");
	bad("[{\"evidence\":\"ER==\"," CE "}]", "\"evidence\" is not valid base64");	/* stray bits */
	bad("[{\"evidence\":\"EeB=\"," CE "}]", "\"evidence\" is not valid base64");	/* stray bits */
	bad("[{\"evidence\":\"EeAB\\n\"," CE "}]", "\"evidence\" is not valid base64");	/* no line breaks */
	bad("[{\"evidence\":\"\"," CE "}]", "evidence entry 0: \"evidence\" is empty");
	bad("[{" EV ",\"certificate\":\"U*VN\"}]", "\"certificate\" is not valid base64");
	bad("[{" EV ",\"certificate\":\"\"}]", "\"certificate\" is empty");
	/* "AAAA" is three NUL bytes: nothing is left once the terminators go
	 * (found by fuzz_reqparse: such an item was accepted with no chain). */
	bad("[{" EV ",\"certificate\":\"AAAA\"}]", "\"certificate\" is empty (only NUL bytes)");
	/* base64 of "PEM\n\0\0": a C string copied with its terminator is
	 * accepted, without the NULs. */
	{
		struct evidence_set *set = new_set();
		struct gpa_err e2 = {{0}};
		CHECK_INT(parse_str("[{" EV ",\"certificate\":\"UEVNCgAA\"}]", GPA_DEV_GPU, set, &e2), 0);
		CHECK_INT(set->items[0].chain_len, 4);
		CHECK_STREQ(set->items[0].chain_pem, "PEM\n");
		evidence_set_clear(set);
		free(set);
	}
	/* base64 of "PE\0M": a chain with a NUL byte inside. */
	bad("[{" EV ",\"certificate\":\"UEUATQ==\"}]", "\"certificate\" must decode to PEM text (it contains NUL bytes)");
	bad("[{" EV "," CE ",\"nonce\":\"zz" NA "\"}]", "nonce must be 64 hex digits (32 bytes)");
	bad("[{" EV "," CE ",\"nonce\":\"" "g111111111111111111111111111111111111111111111111111111111111111" "\"}]", "nonce must be 64 hex digits");
	bad("[{" EV "," CE ",\"nonce\":\"" "11111111111111111111111111111111111111111111111111111111111111" "\"}]", "nonce must be 64 hex digits");	/* 31 bytes */
	bad("[{" EV "," CE ",\"nonce\":\"" NA "11\"}]", "nonce must be 64 hex digits");	/* 33 bytes */
	bad("[{" EV "," CE ",\"nonce\":\"" NA "1\"}]", "nonce must be 64 hex digits");	/* odd */
	bad("[{" EV "," CE ",\"nonce\":\"\"}]", "nonce must be 64 hex digits");
	bad("{\"nonce\":\"abc\",\"evidence_list\":[{" EV "," CE "}]}", "evidence entry 0: nonce must be 64 hex digits");

	/* Oversized evidence: more base64 than a device report buffer. */
	n = (GPA_REPORT_MAX / 3 + 2) * 4;
	big = malloc(n + 64);
	memcpy(big, "[{\"evidence\":\"", 14);
	memset(big + 14, 'A', n);
	strcpy(big + 14 + n, "\"," CE "}]");
	bad(big, "evidence entry 0: \"evidence\" is 10928 base64 characters, more than a device can produce");
	free(big);
	n = (GPA_CHAIN_MAX / 3 + 2) * 4;
	big = malloc(n + 64);
	memcpy(big, "[{" EV ",\"certificate\":\"", 2 + strlen(EV) + 16);
	memset(big + 2 + strlen(EV) + 16, 'A', n);
	strcpy(big + 2 + strlen(EV) + 16 + n, "\"}]");
	bad(big, "\"certificate\" is");
	free(big);
}

static void test_item_count(void)
{
	size_t one = strlen("{" EV "," CE "},");
	char *json = malloc(2 + 66 * one + 2);
	struct evidence_set *set = new_set();
	struct gpa_err e = {{0}};
	char *p = json;

	*p++ = '[';
	for (int i = 0; i < 64; i++) {
		memcpy(p, "{" EV "," CE "},", one);
		p += one;
	}
	p[-1] = ']';
	*p = '\0';
	CHECK(parse_str(json, GPA_DEV_GPU, set, &e) == 0);
	CHECK_INT(set->n, 64);
	evidence_set_clear(set);
	p[-1] = ',';
	memcpy(p, "{" EV "," CE "}]", one + 1);
	bad(json, "65 evidence entries, at most 64 supported");
	free(json);
	free(set);
}

/* A failure in a later item frees the earlier ones (run under ASan). */
static void test_partial_failure_frees(void)
{
	bad("[{" EV "," CE "},{" EV "," CE "},{" EV ",\"certificate\":\"UEUATQ==\"}]",
	    "evidence entry 2: \"certificate\" must decode to PEM text");
	bad("[{" EV "," CE "},{\"evidence\":\"EeAB\",\"certificate\":\"**\"}]", "evidence entry 1");
}

static void test_load_file_errors(void)
{
	struct evidence_set *set = new_set();
	struct gpa_err e = {{0}};
	char path[] = "/tmp/gpa_test_evidence_XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, "[]", 2) == 2);
	close(fd);
	CHECK(evidence_load_json_file(path, GPA_DEV_GPU, set, &e) == -1);
	CHECK_CONTAINS(e.msg, path);
	CHECK_CONTAINS(e.msg, "the evidence list is empty");
	unlink(path);
	CHECK(evidence_load_json_file(path, GPA_DEV_GPU, set, &e) == -1);
	CHECK_CONTAINS(e.msg, path);
	free(set);
}

int main(void)
{
	RUN(test_nras_shape);
	RUN(test_array_shapes);
	RUN(test_round_trip);
	RUN(test_nvattest_output_shape);
	RUN(test_writer_keys);
	RUN(test_common_nonce);
	RUN(test_common_nonce_recorded);
	RUN(test_report_bytes_decode);
	RUN(test_load_raw);
	RUN(test_hostile_structure);
	RUN(test_hostile_values);
	RUN(test_item_count);
	RUN(test_partial_failure_frees);
	RUN(test_load_file_errors);
	return harness_done("evidence");
}
