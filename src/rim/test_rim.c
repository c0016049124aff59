/*
 * Tests for rim: real NVIDIA RIMs from ../shared (signature, chain, counts),
 * the RIM service JSON envelope, and hostile documents made in memory from a
 * genuine RIM (signature wrapping shapes, DTD/entity attacks, schema errors).
 * Never writes into ../shared.
 */
#include "rim/rim.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define DRIVER_595	"vectors/nvidia/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml"
#define DRIVER_595_JSON	"vectors/nvidia/rim/driver/rim-service-response_NV_GPU_DRIVER_GH100_595.71.05.json"
#define DRIVER_545	"vectors/nvidia/rim/driver/NV_GPU_DRIVER_GH100_545.00__Driver_RIM_test_no_gpu.swidtag"
#define VBIOS_9F	"vectors/nvidia/rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml"
#define VBIOS_9F_JSON	"vectors/nvidia/rim/vbios/rim-service-response_NV_GPU_VBIOS_1010_0210_886_96009F0004.json"
#define VBIOS_5E	"vectors/nvidia/rim/vbios/1010_0200_882_96005E0001_test_no_gpu.swidtag"
#define VBIOS_B64	"vectors/nvidia/rim/vbios/NV_GPU_VBIOS_1010_0200_882_960074001C__reissued_2023-12.swidtag.b64"
#define SWITCH_RIM	"vectors/nvidia/rim/switch/NV_SWITCH_BIOS_5612_0002_890_9610550001__signed_2024-05.xml"
#define NEG_SIG		"vectors/nvidia/rim/negative/incorrect_signature_driver_rim_550.144.03.xml"
#define NEG_535		"vectors/nvidia/rim/negative/NV_GPU_DRIVER_GH100_535.86.09_measurement_mismatch.xml"
#define NEG_570		"vectors/nvidia/rim/negative/NV_GPU_DRIVER_GH100_570.124.03_expired.xml"
#define WRONG_ROOT	"vectors/nvidia/roots/negative_wrong_rim_root_debug_l4_signer.crt"
#define DEVICE_ROOT	"vectors/nvidia/roots/nvidia_device_identity_ca.pem"

#define T_2024		"2024-01-01T00:00:00Z"
#define T_2025		"2025-06-01T00:00:00Z"
#define T_2026		"2026-11-28T00:00:00Z"

static struct gpa_anchors *pinned;

static time_t at(const char *s)
{
	time_t t = 0;

	if (time_parse_rfc3339(s, &t) != 0)
		abort();
	return t;
}

static uint8_t *read_all(const char *path, size_t *len)
{
	struct gpa_err e = { { 0 } };
	uint8_t *buf = NULL;

	if (file_read(path, 16u << 20, &buf, len, &e) != 0) {
		fprintf(stderr, "read %s: %s\n", path, e.msg);
		return NULL;
	}
	return buf;
}

static int count_active(const struct rim *r)
{
	int n = 0;

	for (int i = 0; i < r->nmeas; i++)
		n += r->meas[i].active;
	return n;
}

/* Loads with the pinned anchors; returns rim_load's result. */
static int load_at(const uint8_t *buf, size_t len, const char *id, const char *when,
    struct rim **r, struct gpa_err *e)
{
	memset(e, 0, sizeof(*e));
	return rim_load(buf, len, id, pinned, at(when), r, e);
}

/* Genuine 595.71.05 driver RIM, the base of every in-memory mutation. */
static uint8_t *genuine(size_t *len)
{
	const char *p = shared_path(DRIVER_595);

	return p ? read_all(p, len) : NULL;
}

/* Copy of buf with the first occurrence of old replaced (old must occur). */
static uint8_t *replace_once(const uint8_t *buf, size_t len, const char *old, const char *rep,
    size_t *out_len)
{
	size_t ol = strlen(old), rl = strlen(rep);
	uint8_t *out;

	for (size_t i = 0; ol <= len && i <= len - ol; i++) {
		if (memcmp(buf + i, old, ol) != 0)
			continue;
		out = malloc(len - ol + rl + 1);
		memcpy(out, buf, i);
		memcpy(out + i, rep, rl);
		memcpy(out + i + rl, buf + i + ol, len - i - ol);
		*out_len = len - ol + rl;
		out[*out_len] = 0;
		return out;
	}
	fprintf(stderr, "mutation anchor not found: %.60s\n", old);
	abort();
}

/* Applies one textual mutation to the genuine RIM and expects -1 + msg. */
static void expect_mutation_refused(const char *old, const char *rep, const char *msg)
{
	struct gpa_err e;
	struct rim *r = NULL;
	size_t len, mlen;
	uint8_t *g = genuine(&len), *m;

	if (g == NULL) {
		CHECK(g != NULL);
		return;
	}
	m = replace_once(g, len, old, rep, &mlen);
	CHECK_INT(load_at(m, mlen, NULL, T_2026, &r, &e), -1);
	CHECK(r == NULL);
	CHECK_CONTAINS(e.msg, msg);
	if (getenv("RIM_TEST_VERBOSE") != NULL)
		printf("  refused: %s\n", e.msg);
	free(m);
	free(g);
}

static void expect_bytes_refused(const uint8_t *buf, size_t len, const char *msg)
{
	struct gpa_err e;
	struct rim *r = NULL;

	CHECK_INT(load_at(buf, len, NULL, T_2026, &r, &e), -1);
	CHECK(r == NULL);
	CHECK_CONTAINS(e.msg, msg);
	if (getenv("RIM_TEST_VERBOSE") != NULL)
		printf("  refused: %s\n", e.msg);
}

/* ---- genuine documents ------------------------------------------------- */

static void check_genuine_595(const struct rim *r)
{
	const struct rim_measurement *m;

	CHECK(r->signature_checked);
	CHECK(r->signature_valid);
	CHECK_INT(r->chain.status, GPA_CERT_VALID);
	CHECK_INT(count_active(r), 22);
	CHECK_INT(r->nmeas, 64);
	CHECK_STREQ(r->colloquial_version, "595.71.05");
	CHECK_STREQ(r->firmware_manufacturer_id, "5703");
	CHECK_STREQ(r->name, "GH100");
	CHECK_STREQ(r->edition, "GPU");
	CHECK_STREQ(r->tag_id, "cbdbe766e0cd26894380d3976331a801f1cb0b77ee607ef4315da96e6ce52655b071cae3587925aba19acf2159e8a6f7");
	CHECK_INT(sk_X509_num(r->certs), 4);
	m = rim_active(r, 7);
	CHECK(m != NULL);
	if (m != NULL) {
		CHECK_INT(m->nalts, 1);
		CHECK_INT(m->hash_len[0], 48);
		CHECK_INT(m->size, 48);
		CHECK_STREQ(m->name, "Measurement_7");
		CHECK_INT(m->hash[0][0], 0x0b);
		CHECK_INT(m->hash[0][47], 0xa1);
	}
	m = rim_active(r, 35);
	CHECK(m != NULL && m->nalts == 4);
	CHECK(rim_active(r, 0) == NULL);	/* present but inactive */
	CHECK(rim_active(r, 64) == NULL);
}

static void test_driver_595_xml(void)
{
	SHARED_OR_SKIP(p, DRIVER_595);
	struct gpa_err e;
	struct rim *r = NULL;
	size_t len;
	uint8_t *buf = read_all(p, &len);

	CHECK_INT(load_at(buf, len, NULL, T_2026, &r, &e), 0);
	if (r != NULL)
		check_genuine_595(r);
	rim_free(r);
	free(buf);
}

static void test_driver_595_service_json(void)
{
	SHARED_OR_SKIP(p, DRIVER_595_JSON);
	struct gpa_err e;
	struct rim *r = NULL;
	size_t len;
	uint8_t *buf = read_all(p, &len);

	CHECK_INT(load_at(buf, len, "NV_GPU_DRIVER_GH100_595.71.05", T_2026, &r, &e), 0);
	if (r != NULL)
		check_genuine_595(r);
	rim_free(r);
	r = NULL;
	CHECK_INT(load_at(buf, len, NULL, T_2026, &r, &e), 0);
	rim_free(r);
	r = NULL;
	CHECK_INT(load_at(buf, len, "NV_GPU_DRIVER_GH100_595.71.06", T_2026, &r, &e), -1);
	CHECK(r == NULL);
	CHECK_CONTAINS(e.msg, "RIM service body: id \"NV_GPU_DRIVER_GH100_595.71.05\" is not the "
	    "one asked for (\"NV_GPU_DRIVER_GH100_595.71.06\")");
	free(buf);
}

static void check_vbios_9f(const struct rim *r)
{
	CHECK(r->signature_valid);
	CHECK_INT(r->chain.status, GPA_CERT_VALID);
	CHECK_INT(count_active(r), 12);
	CHECK_STREQ(r->colloquial_version, "96.00.9F.00.04");
	CHECK_STREQ(r->firmware_manufacturer_id, "5703");
	CHECK(rim_active(r, 12) != NULL && rim_active(r, 12)->nalts == 4);
}

static void test_vbios_9f(void)
{
	SHARED_OR_SKIP(px, VBIOS_9F);
	SHARED_OR_SKIP(pj, VBIOS_9F_JSON);
	struct gpa_err e;
	struct rim *r = NULL;
	size_t lx, lj;
	uint8_t *x = read_all(px, &lx), *j = read_all(pj, &lj);

	CHECK_INT(load_at(x, lx, NULL, T_2026, &r, &e), 0);
	if (r != NULL)
		check_vbios_9f(r);
	rim_free(r);
	r = NULL;
	CHECK_INT(load_at(j, lj, "NV_GPU_VBIOS_1010_0210_886_96009F0004", T_2026, &r, &e), 0);
	if (r != NULL)
		check_vbios_9f(r);
	rim_free(r);
	r = NULL;
	CHECK_INT(load_at(j, lj, "NV_GPU_DRIVER_GH100_595.71.05", T_2026, &r, &e), -1);
	CHECK_CONTAINS(e.msg, "RIM service body: id \"NV_GPU_VBIOS_1010_0210_886_96009F0004\" is not "
	    "the one asked for (\"NV_GPU_DRIVER_GH100_595.71.05\")");
	free(x);
	free(j);
}

/* The 2023 test RIMs: valid when pinned to 2024, expired (but still
 * correctly signed) at 2026-11-28. */
static void check_time_behaviour(const char *path, int active, const char *version)
{
	struct gpa_err e;
	struct rim *r = NULL;
	size_t len;
	uint8_t *buf = read_all(path, &len);

	CHECK_INT(load_at(buf, len, NULL, T_2024, &r, &e), 0);
	if (r != NULL) {
		CHECK(r->signature_valid);
		CHECK_INT(r->chain.status, GPA_CERT_VALID);
		CHECK_INT(count_active(r), active);
		CHECK_STREQ(r->colloquial_version, version);
	}
	rim_free(r);
	r = NULL;
	CHECK_INT(load_at(buf, len, NULL, T_2026, &r, &e), 0);
	if (r != NULL) {
		CHECK(r->signature_valid);
		CHECK_INT(r->chain.status, GPA_CERT_EXPIRED);
	}
	rim_free(r);
	free(buf);
}

static void test_no_gpu_rims_valid_then_expired(void)
{
	SHARED_OR_SKIP(d, DRIVER_545);
	SHARED_OR_SKIP(v, VBIOS_5E);

	check_time_behaviour(d, 21, "545.00");
	check_time_behaviour(v, 12, "96.00.5E.00.01");
}

static void test_switch_rim(void)
{
	SHARED_OR_SKIP(p, SWITCH_RIM);
	struct gpa_err e;
	struct rim *r = NULL;
	size_t len;
	uint8_t *buf = read_all(p, &len);

	CHECK_INT(load_at(buf, len, NULL, T_2025, &r, &e), 0);
	if (r != NULL) {
		CHECK(r->signature_valid);
		CHECK_INT(r->chain.status, GPA_CERT_VALID);
		CHECK_INT(count_active(r), 31);
		CHECK_STREQ(r->edition, "SWITCH");
		CHECK_STREQ(r->name, "LS10");
		CHECK_STREQ(r->colloquial_version, "96.10.55.00.01");
	}
	rim_free(r);
	free(buf);
}

/* ---- NVIDIA's negative RIMs -------------------------------------------- */

static void test_incorrect_signature_value(void)
{
	SHARED_OR_SKIP(p, NEG_SIG);
	struct gpa_err e;
	struct rim *r = NULL;
	size_t len;
	uint8_t *buf = read_all(p, &len);

	CHECK_INT(load_at(buf, len, NULL, T_2026, &r, &e), 0);
	if (r != NULL) {
		CHECK(r->signature_checked);
		CHECK(!r->signature_valid);
		CHECK_CONTAINS(r->signature_detail, "SignatureValue");
		CHECK_INT(r->chain.status, GPA_CERT_VALID);
		CHECK_INT(count_active(r), 21);
	}
	rim_free(r);
	free(buf);
}

static void expect_digest_failure(const char *path, enum gpa_cert_status chain)
{
	struct gpa_err e;
	struct rim *r = NULL;
	size_t len;
	uint8_t *buf = read_all(path, &len);

	CHECK_INT(load_at(buf, len, NULL, T_2026, &r, &e), 0);
	if (r != NULL) {
		CHECK(r->signature_checked);
		CHECK(!r->signature_valid);
		CHECK_CONTAINS(r->signature_detail, "digest");
		CHECK_INT(r->chain.status, chain);
	}
	rim_free(r);
	free(buf);
}

static void test_altered_content_rims(void)
{
	SHARED_OR_SKIP(a, NEG_535);
	SHARED_OR_SKIP(b, NEG_570);

	expect_digest_failure(a, GPA_CERT_VALID);
	expect_digest_failure(b, GPA_CERT_EXPIRED);
}

/* NVIDIA's "wrong anchor" is a leaf, so the x509 layer refuses it as an
 * anchor; a genuine but unrelated root must then not validate the chain. */
static void test_wrong_anchor(void)
{
	SHARED_OR_SKIP(p, DRIVER_595);
	SHARED_OR_SKIP(wrong, WRONG_ROOT);
	SHARED_OR_SKIP(dev, DEVICE_ROOT);
	struct gpa_err e = { { 0 } };
	struct gpa_anchors *a = anchors_new(false, &e);
	struct rim *r = NULL;
	size_t len;
	uint8_t *buf = read_all(p, &len);

	CHECK(a != NULL);
	if (a == NULL) {
		free(buf);
		return;
	}
	CHECK_INT(anchors_add_pem_file(a, wrong, &e), -1);
	CHECK(e.msg[0] != '\0');
	CHECK_INT(anchors_add_pem_file(a, dev, &e), 0);
	CHECK_INT(rim_load(buf, len, NULL, a, at(T_2026), &r, &e), 0);
	if (r != NULL) {
		CHECK_INT(r->chain.status, GPA_CERT_INVALID);
		CHECK(r->signature_valid);	/* the signature itself is genuine */
	}
	rim_free(r);
	anchors_free(a);
	free(buf);
}

static void test_b64_text_refused(void)
{
	SHARED_OR_SKIP(p, VBIOS_B64);
	size_t len;
	uint8_t *buf = read_all(p, &len);

	expect_bytes_refused(buf, len, "not well-formed XML");
	free(buf);
}

/* ---- in-memory mutations of a genuine RIM ------------------------------ */

#define SIG_OPEN "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"
#define PAYLOAD_END "</ns0:Payload>"
#define ENVELOPED_T "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>"
#define RES7 "index=\"7\" active=\"True\""
#define RES23 "<ns0:Resource type=\"Measurement\" index=\"23\""

static void test_hash_change_breaks_signature(void)
{
	SHARED_OR_SKIP(p, DRIVER_595);
	struct gpa_err e;
	struct rim *r = NULL;
	size_t len, mlen;
	uint8_t *g = read_all(p, &len);
	uint8_t *m = replace_once(g, len, "ns2:Hash0=\"0bb141b2", "ns2:Hash0=\"1bb141b2", &mlen);

	CHECK_INT(load_at(m, mlen, NULL, T_2026, &r, &e), 0);
	if (r != NULL) {
		CHECK(r->signature_checked);
		CHECK(!r->signature_valid);
		CHECK_CONTAINS(r->signature_detail, "digest");
		CHECK_INT(r->chain.status, GPA_CERT_VALID);
	}
	rim_free(r);
	free(m);
	free(g);
}

/* A SignatureValue of the wrong size or encoding is a failed verification
 * with xmlsec's reason, not a parse error. */
static void test_malformed_signature_value(void)
{
	SHARED_OR_SKIP(p, DRIVER_595);
	static const char *const vals[] = { "AAAA", "!!", "" };
	size_t len;
	uint8_t *g = read_all(p, &len);

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		const char *s = strstr((const char *)g, "<ds:SignatureValue>");
		const char *end = s ? strstr(s, "</ds:SignatureValue>") : NULL;
		char *old, rep[128];
		struct gpa_err e;
		struct rim *r = NULL;
		size_t mlen;
		uint8_t *m;

		CHECK(s != NULL && end != NULL);
		if (s == NULL || end == NULL)
			break;
		old = strndup(s, (size_t)(end - s));
		snprintf(rep, sizeof(rep), "<ds:SignatureValue>%s", vals[i]);
		m = replace_once(g, len, old, rep, &mlen);
		CHECK_INT(load_at(m, mlen, NULL, T_2026, &r, &e), 0);
		if (r != NULL) {
			CHECK(r->signature_checked);
			CHECK(!r->signature_valid);
			/* xmlsec's own reason, captured instead of printed */
			CHECK_CONTAINS(r->signature_detail, "xmlsec ");
			if (getenv("RIM_TEST_VERBOSE") != NULL)
				printf("  detail: %s\n", r->signature_detail);
		}
		rim_free(r);
		free(m);
		free(old);
	}
	free(g);
}

/* The key is the first certificate: drop it and the L3 CA's key is tried. */
static void test_signer_must_be_first_certificate(void)
{
	SHARED_OR_SKIP(p, DRIVER_595);
	struct gpa_err e;
	struct rim *r = NULL;
	size_t len, mlen;
	uint8_t *g = read_all(p, &len), *m;
	const char *start = strstr((const char *)g, "<ds:X509Certificate>");
	const char *end = start ? strstr(start, "</ds:X509Certificate>") : NULL;
	char *leaf;

	CHECK(start != NULL && end != NULL);
	if (start == NULL || end == NULL) {
		free(g);
		return;
	}
	end += strlen("</ds:X509Certificate>");
	leaf = strndup(start, (size_t)(end - start));
	m = replace_once(g, len, leaf, "", &mlen);
	CHECK_INT(load_at(m, mlen, NULL, T_2026, &r, &e), 0);
	if (r != NULL) {
		CHECK_INT(sk_X509_num(r->certs), 3);
		CHECK(!r->signature_valid);
		CHECK_CONTAINS(r->signature_detail, "SignatureValue");
	}
	rim_free(r);
	free(leaf);
	free(m);
	free(g);
}

static void test_wrapping_shapes_refused(void)
{
	SHARED_OR_SKIP(p, DRIVER_595);

	expect_mutation_refused(PAYLOAD_END, SIG_OPEN "</ds:Signature>" PAYLOAD_END,
	    "2 ds:Signature elements");
	expect_mutation_refused("<ns0:Meta ",
	    "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/><ns0:Meta ",
	    "2 ds:Signature elements");
	expect_mutation_refused("</ds:SignedInfo>",
	    "<ds:Reference URI=\"\"/></ds:SignedInfo>", "2 Reference elements");
	expect_mutation_refused("<ds:Reference URI=\"\">", "<ds:Reference URI=\"#x\">",
	    "Reference URI \"#x\"");
	expect_mutation_refused("<ds:Reference URI=\"\">", "<ds:Reference>", "Reference URI");
	expect_mutation_refused("<ds:Reference URI=\"\">", "<ds:Reference URI=\"\" Type=\"t\">",
	    "Reference attribute Type");
	expect_mutation_refused(ENVELOPED_T, ENVELOPED_T
	    "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\">"
	    "<ds:XPath>1</ds:XPath></ds:Transform>", "Transforms must be exactly");
	expect_mutation_refused(ENVELOPED_T,
	    "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\">"
	    "<ds:XPath>1</ds:XPath></ds:Transform>", "Transform 1 Algorithm");
	expect_mutation_refused("<ds:Transform Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\"/>",
	    "<ds:Transform Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\"><ds:X/></ds:Transform>",
	    "Transform 2 has child elements");
	expect_mutation_refused("<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\"/>",
	    "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>",
	    "CanonicalizationMethod Algorithm");
	expect_mutation_refused("xmldsig-more#ecdsa-sha384", "xmldsig-more#ecdsa-sha256",
	    "SignatureMethod Algorithm");
	expect_mutation_refused("xmldsig-more#sha384", "xmlenc#sha256", "DigestMethod Algorithm");
	expect_mutation_refused("</ds:KeyInfo>",
	    "</ds:KeyInfo><ds:Object>x</ds:Object>", "Signature must hold");
	expect_mutation_refused("<ds:SignatureValue>", "<!-- c --><ds:SignatureValue>",
	    "Signature holds non-element content");
	expect_mutation_refused("<ds:X509Data>", "<ds:X509Data><ds:X509SubjectName>x</ds:X509SubjectName>",
	    "X509Data element 1 is X509SubjectName");
	expect_mutation_refused("</ds:X509Data>", "</ds:X509Data><ds:KeyName>k</ds:KeyName>",
	    "KeyInfo must hold one X509Data");
	expect_mutation_refused("<ds:X509Certificate>MIIC", "<ds:X509Certificate>!IIC",
	    "X509Certificate 1 is not base64");
}

/* The Signature moved inside Payload: still one Signature, wrong place. */
static void test_signature_moved_into_payload(void)
{
	SHARED_OR_SKIP(p, DRIVER_595);
	size_t len, l1, l2;
	uint8_t *g = read_all(p, &len), *m1, *m2;
	const char *s = strstr((const char *)g, SIG_OPEN);
	const char *end = strstr((const char *)g, "</ds:Signature>");
	char *sig;

	CHECK(s != NULL && end != NULL);
	if (s == NULL || end == NULL) {
		free(g);
		return;
	}
	end += strlen("</ds:Signature>");
	sig = strndup(s, (size_t)(end - s));
	m1 = replace_once(g, len, sig, "", &l1);
	{
		char *rep = malloc(strlen(sig) + sizeof(PAYLOAD_END));
		strcpy(rep, sig);
		strcat(rep, PAYLOAD_END);
		m2 = replace_once(m1, l1, PAYLOAD_END, rep, &l2);
		free(rep);
	}
	expect_bytes_refused(m2, l2, "ds:Signature is not the last child element");
	/* No signature at all is refused the same way. */
	expect_bytes_refused(m1, l1, "0 ds:Signature elements");
	free(sig);
	free(m1);
	free(m2);
	free(g);
}

static void test_dtd_and_entities_refused(void)
{
	static const char xxe[] =
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE SoftwareIdentity [\n"
	    "<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
	    "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\">&x;"
	    "</SoftwareIdentity>";
	char bomb[4096];
	struct timespec t0, t1;
	int n;

	n = snprintf(bomb, sizeof(bomb), "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
	    "<!ENTITY lol0 \"lol\">\n");
	for (int i = 1; i < 10; i++) {
		n += snprintf(bomb + n, sizeof(bomb) - (size_t)n, "<!ENTITY lol%d \"", i);
		for (int k = 0; k < 10; k++)
			n += snprintf(bomb + n, sizeof(bomb) - (size_t)n, "&lol%d;", i - 1);
		n += snprintf(bomb + n, sizeof(bomb) - (size_t)n, "\">\n");
	}
	n += snprintf(bomb + n, sizeof(bomb) - (size_t)n, "]>\n<lolz>&lol9;</lolz>");
	expect_bytes_refused((const uint8_t *)xxe, strlen(xxe), "DOCTYPE");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_bytes_refused((const uint8_t *)bomb, (size_t)n, "DOCTYPE");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 100000000L);
	/* An entity declaration smuggled without a DOCTYPE keyword is refused too. */
	expect_bytes_refused((const uint8_t *)"<a><!ENTITY x \"y\"></a>", 22, "ENTITY");
}

static void test_not_xml_empty_truncated(void)
{
	SHARED_OR_SKIP(p, DRIVER_595);
	size_t len;
	uint8_t *g = read_all(p, &len);
	const size_t cuts[] = { 1, 100, len / 2, len - 40, len - 3 };

	expect_bytes_refused((const uint8_t *)"hello", 5, "not well-formed XML");
	expect_bytes_refused((const uint8_t *)"", 0, "empty document");
	expect_bytes_refused((const uint8_t *)"  \n", 3, "not well-formed XML");
	expect_bytes_refused((const uint8_t *)"{\"id\":1}", 8, "\"id\" missing or not a string");
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		expect_bytes_refused(g, cuts[i], "not well-formed XML");
	/* Trailing junk after the root element. */
	{
		size_t mlen;
		uint8_t *m = replace_once(g, len, "</SoftwareIdentity>", "</SoftwareIdentity><x/>", &mlen);
		expect_bytes_refused(m, mlen, "not well-formed XML");
		free(m);
	}
	free(g);
}

static void test_encoding_and_size_limits(void)
{
	SHARED_OR_SKIP(p, DRIVER_595);
	size_t len;
	uint8_t *g = read_all(p, &len), *big;

	expect_mutation_refused("<SoftwareIdentity ",
	    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><SoftwareIdentity ",
	    "declared encoding \"ISO-8859-1\" is not UTF-8");
	expect_mutation_refused("name=\"GH100\"", "name=\"GH\xff" "00\"", "not UTF-8 text");
	expect_mutation_refused("name=\"GH100\"", "name=\"GH\xc0\xaf" "00\"", "not UTF-8 text");
	expect_mutation_refused("name=\"GH100\"", "name=\"GH\xed\xa0\x80" "00\"", "not UTF-8 text");
	{
		size_t mlen;
		uint8_t *m = replace_once(g, len, "GH100", "GH1X0", &mlen);
		m[100] = 0;	/* a NUL byte in the middle */
		expect_bytes_refused(m, mlen, "not UTF-8 text (byte offset 100)");
		free(m);
	}
	big = calloc(1, GPA_RIM_MAX_BYTES + 1);
	memcpy(big, g, len);
	memset(big + len, ' ', GPA_RIM_MAX_BYTES + 1 - len);
	expect_bytes_refused(big, GPA_RIM_MAX_BYTES + 1, "exceeds the");
	free(big);
	/* A 1 MiB attribute value is parsed but refused by the name rule. */
	{
		size_t hl = 1u << 20;
		char *huge = malloc(hl + 32);
		strcpy(huge, "name=\"");
		memset(huge + 6, 'A', hl);
		strcpy(huge + 6 + hl, "\"");
		expect_mutation_refused("name=\"Measurement_7\"", huge, "name length 1048576");
		free(huge);
	}
	free(g);
}

static void test_schema_rules(void)
{
	SHARED_OR_SKIP(p, DRIVER_595);

	expect_mutation_refused(RES7, "index=\"07x\" active=\"True\"", "index \"07x\" is not a decimal");
	expect_mutation_refused(RES7, "index=\"07\" active=\"True\"", "index \"07\" is not a decimal");
	expect_mutation_refused(RES7, "index=\"256\" active=\"True\"", "index \"256\" is not a decimal");
	expect_mutation_refused(RES7, "index=\"-1\" active=\"True\"", "index \"-1\"");
	expect_mutation_refused(RES7, "index=\"7\" active=\"true\"", "active \"true\" is not");
	expect_mutation_refused("index=\"7\" active=\"True\" alternatives=\"1\"",
	    "index=\"7\" active=\"True\" alternatives=\"0\"", "(index 7): alternatives \"0\"");
	expect_mutation_refused("index=\"7\" active=\"True\" alternatives=\"1\"",
	    "index=\"7\" active=\"True\" alternatives=\"17\"", "alternatives \"17\"");
	expect_mutation_refused("index=\"7\" active=\"True\" alternatives=\"1\"",
	    "index=\"7\" active=\"True\" alternatives=\"2\"", "(index 7): Hash1 missing (alternatives=2)");
	expect_mutation_refused("ns2:Hash0=\"0bb141b2", "ns2:Hash0=\"0gb141b2", "(index 7): Hash0 is not hex");
	expect_mutation_refused("ns2:Hash0=\"0bb141b2", "ns2:Hash0=\"0bb141b", "Hash0 is not hex");
	expect_mutation_refused("ns2:Hash0=\"0bb141b2", "Hash0=\"0bb141b2", "(index 7): Hash0 missing");
	expect_mutation_refused("name=\"Measurement_7\" size=\"48\"", "name=\"Measurement_7\"",
	    "Resource[8]: attribute size missing");
	expect_mutation_refused("name=\"Measurement_7\" size=\"48\"",
	    "name=\"Measurement_7\" size=\"4x\"", "size \"4x\"");
	expect_mutation_refused("name=\"Measurement_7\"", "name=\"\"", "name length 0");
	expect_mutation_refused(RES7, "active=\"True\"", "attribute index missing");
	expect_mutation_refused("index=\"21\" active=\"True\"", "index=\"7\" active=\"True\"",
	    "index 7 is active more than once");
	expect_mutation_refused("colloquialVersion=\"595.71.05\"", "colloquialversion=\"595.71.05\"",
	    "Meta: attribute colloquialVersion missing");
	expect_mutation_refused("colloquialVersion=\"595.71.05\"", "colloquialVersion=\"595&#10;71\"",
	    "Meta/@colloquialVersion: control character");
	expect_mutation_refused("edition=\"GPU\"", "", "attribute edition missing");
	expect_mutation_refused("tagId=\"", "tagid=\"", "attribute tagId missing");
	expect_mutation_refused("<ns0:Meta ", "<ns0:Meta colloquialVersion=\"1\"/><ns0:Meta ",
	    "2 Meta elements");
	expect_mutation_refused("<ns0:Payload ", "<ns0:Payload/><ns0:Payload ", "2 Payload elements");
	expect_mutation_refused(PAYLOAD_END, PAYLOAD_END "<ns0:Resource type=\"Measurement\"/>",
	    "1 Measurement Resource elements outside SoftwareIdentity/Payload");
	expect_mutation_refused("role=\"softwareCreator tagCreator\"/>",
	    "role=\"softwareCreator tagCreator\"><ns0:Resource type=\"Measurement\"/></ns0:Entity>",
	    "1 Measurement Resource elements outside");
	expect_mutation_refused("xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\"",
	    "xmlns=\"urn:x\"", "root element is not SoftwareIdentity");
}

/* An inactive entry with a duplicate index is allowed (never compared),
 * and an entry whose type is not Measurement is ignored. */
static void test_inactive_duplicates_and_other_types(void)
{
	SHARED_OR_SKIP(p, DRIVER_595);
	struct gpa_err e;
	struct rim *r = NULL;
	size_t len, l1, l2;
	uint8_t *g = read_all(p, &len), *m1, *m2;

	m1 = replace_once(g, len, "index=\"0\" active=\"False\"", "index=\"7\" active=\"False\"", &l1);
	m2 = replace_once(m1, l1, RES23, "<ns0:Resource type=\"Other\" index=\"23\"", &l2);
	CHECK_INT(load_at(m2, l2, NULL, T_2026, &r, &e), 0);
	if (r != NULL) {
		CHECK_INT(r->nmeas, 63);
		CHECK_INT(count_active(r), 21);
		CHECK(!r->signature_valid);
	}
	rim_free(r);
	free(m1);
	free(m2);
	free(g);
}

/* A tiny RIM signed here with a self-made P-384 key (fuzz seed): xmlsec
 * accepts the signature, but the self-signed certificate is not an anchor.
 * Needs no shared vectors. */
static void test_self_signed_minimal(void)
{
	struct gpa_err e;
	struct rim *r = NULL;
	size_t len, mlen;
	uint8_t *buf = read_all("fuzz/corpus/rim/self_signed_min.xml", &len), *m;

	CHECK(buf != NULL);
	if (buf == NULL)
		return;
	CHECK_INT(load_at(buf, len, NULL, T_2026, &r, &e), 0);
	if (r != NULL) {
		CHECK(r->signature_valid);
		CHECK_INT(r->chain.status, GPA_CERT_INVALID);
		CHECK_INT(r->nmeas, 2);
		CHECK(rim_active(r, 0) != NULL && rim_active(r, 0)->nalts == 2);
		CHECK(rim_active(r, 0) != NULL && rim_active(r, 0)->hash_len[1] == 1);
		CHECK(rim_active(r, 1) == NULL);
		CHECK_STREQ(r->colloquial_version, "1.0");
	}
	rim_free(r);
	r = NULL;
	/* Whitespace between elements of the signed content is signed too. */
	m = replace_once(buf, len, "<ns0:Payload>", "<ns0:Payload> ", &mlen);
	CHECK_INT(load_at(m, mlen, NULL, T_2026, &r, &e), 0);
	CHECK(r != NULL && !r->signature_valid);
	rim_free(r);
	r = NULL;
	free(m);
	/* A point that is not on the curve: the certificate parses, its key does
	 * not (found by the fuzzer). A finding, not a crash. */
	m = replace_once(buf, len, "S1iJ96237peJRVUAbOkhi4RA", "S1i36p7Je92JRVUAbOkhi4RA", &mlen);
	CHECK_INT(load_at(m, mlen, NULL, T_2026, &r, &e), 0);
	if (r != NULL) {
		CHECK(!r->signature_valid);
		CHECK_CONTAINS(r->signature_detail, "not a usable EC key");
		CHECK_INT(r->chain.status, GPA_CERT_INVALID);
	}
	rim_free(r);
	free(m);
	free(buf);
}

static char *service_json(const char *id, const uint8_t *xml, size_t len, const char *sha)
{
	char *b64 = b64_encode(xml, len), *out;
	size_t n = strlen(b64) + 256;

	out = malloc(n);
	snprintf(out, n, "  {\"id\":\"%s\",\"rim\":\"%s\",\"sha256\":\"%s\",\"request_id\":\"r\"}\n",
	    id, b64, sha);
	free(b64);
	return out;
}

static void test_service_json_rules(void)
{
	SHARED_OR_SKIP(p, DRIVER_595);
	static const char good_sha[] =
	    "143005C060A5EB2866F7DB046C234D27F87AE386CAB20AB40D9DAA706BE46EA4";
	struct gpa_err e;
	struct rim *r = NULL;
	size_t len;
	uint8_t *g = read_all(p, &len);
	char *j;

	j = service_json("X", g, len, good_sha);	/* upper-case hex is accepted */
	CHECK_INT(load_at((uint8_t *)j, strlen(j), "X", T_2026, &r, &e), 0);
	CHECK(r != NULL && r->signature_valid);
	rim_free(r);
	free(j);
	j = service_json("X", g, len,
	    "143005c060a5eb2866f7db046c234d27f87ae386cab20ab40d9daa706be46ea5");
	expect_bytes_refused((uint8_t *)j, strlen(j),
	    "RIM service body: the RIM's SHA-256 does not match");
	free(j);
	j = service_json("X", g, len, "143005c0");
	expect_bytes_refused((uint8_t *)j, strlen(j), "sha256 is not 64 hex digits");
	free(j);
	j = service_json("X\\n", g, len, good_sha);
	expect_bytes_refused((uint8_t *)j, strlen(j), "id is not a printable identifier");
	free(j);
	j = service_json("X", g, len - 1, good_sha);
	expect_bytes_refused((uint8_t *)j, strlen(j), "SHA-256 does not match");
	free(j);
	free(g);
}

/* ---- rim_service_json_decode: every rule, one table --------------------- */

/* A small document and its answer fields (checked in the test). */
#define SVC_DOC		"<?xml version=\"1.0\"?><SoftwareIdentity/>"
#define SVC_B64_A	"PD94bWwgdmVyc2lvbj0i"
#define SVC_B64_B	"MS4wIj8+PFNvZnR3YXJlSWRlbnRpdHkvPg=="
#define SVC_B64		SVC_B64_A SVC_B64_B
#define SVC_SHA		"40ecda757a85d26a0018c572369790c80b317d1db8689c60012833585088a3f4"
#define SVC_SHA_UP	"40ECDA757A85D26A0018C572369790C80B317D1DB8689C60012833585088A3F4"
#define EMPTY_SHA	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define Q(s)		"\"" s "\""
/* A body from JSON values (quoted where strings), in the service's order. */
#define SVC(id, rim, sha)	"{\"id\":" id ",\"rim\":" rim ",\"sha256\":" sha "}"
#define GOOD		SVC(Q("NV_A"), Q(SVC_B64), Q(SVC_SHA))
#define ID128		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
			"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct svc_case {
	const char *what;
	const char *expected_id;	/* NULL: any id */
	const char *body;
	const char *msg;		/* NULL: accepted (the document is SVC_DOC) */
};

static const struct svc_case svc_cases[] = {
	/* Accepted. */
	{ "good answer", "NV_A", GOOD, NULL },
	{ "no id expected", NULL, GOOD, NULL },
	{ "upper-case sha256", "NV_A", SVC(Q("NV_A"), Q(SVC_B64), Q(SVC_SHA_UP)), NULL },
	{ "other keys ignored", "NV_A", "{\"request_id\":\"00000000-0000-0000-0000-000000000000\","
	    "\"id\":\"NV_A\",\"rim\":\"" SVC_B64 "\",\"sha256\":\"" SVC_SHA "\",\"rim_format\":\"TCG\","
	    "\"last_updated\":\"2025-01-01T00:00:00.000Z\"}", NULL },
	{ "JSON blanks around and between tokens", "NV_A", " \r\n{ \"id\" : \"NV_A\" ,\t\"rim\":\""
	    SVC_B64 "\",\n\"sha256\":\"" SVC_SHA "\" }\n", NULL },
	{ "id of 128 printable characters", NULL, SVC(Q(ID128), Q(SVC_B64), Q(SVC_SHA)), NULL },
	{ "id with printable punctuation", NULL, SVC(Q("NV_A:{}~!"), Q(SVC_B64), Q(SVC_SHA)), NULL },
	/* JSON object, nothing after it. */
	{ "truncated", "NV_A", "{\"id\":\"NV_A\",\"rim\":\"" SVC_B64 "\"", "not JSON" },
	{ "bytes after the object", "NV_A", GOOD " x", "not JSON" },
	{ "two objects", "NV_A", GOOD GOOD, "not JSON" },
	{ "empty", "NV_A", "", "not JSON" },
	{ "an array", "NV_A", "[" GOOD "]", "not a JSON object" },
	{ "\\u0000 in a string", NULL, SVC(Q("NV_\\u0000A"), Q(SVC_B64), Q(SVC_SHA)), "not JSON" },
	/* Duplicate keys, even when the last one would be right. */
	{ "duplicate id", "NV_A", "{\"id\":\"NV_B\",\"id\":\"NV_A\",\"rim\":\"" SVC_B64 "\","
	    "\"sha256\":\"" SVC_SHA "\"}", "duplicate object key" },
	{ "duplicate sha256", "NV_A", "{\"id\":\"NV_A\",\"rim\":\"" SVC_B64 "\",\"sha256\":\""
	    EMPTY_SHA "\",\"sha256\":\"" SVC_SHA "\"}", "duplicate object key" },
	/* id, rim, sha256: present, strings. */
	{ "no id", "NV_A", "{\"rim\":\"" SVC_B64 "\",\"sha256\":\"" SVC_SHA "\"}",
	    "\"id\" missing or not a string" },
	{ "id a number", NULL, SVC("7", Q(SVC_B64), Q(SVC_SHA)), "\"id\" missing or not a string" },
	{ "id null", NULL, SVC("null", Q(SVC_B64), Q(SVC_SHA)), "\"id\" missing or not a string" },
	{ "no rim", "NV_A", "{\"id\":\"NV_A\",\"sha256\":\"" SVC_SHA "\"}",
	    "\"rim\" missing or not a string" },
	{ "rim an array", "NV_A", SVC(Q("NV_A"), "[\"" SVC_B64 "\"]", Q(SVC_SHA)),
	    "\"rim\" missing or not a string" },
	{ "no sha256", "NV_A", "{\"id\":\"NV_A\",\"rim\":\"" SVC_B64 "\"}",
	    "\"sha256\" missing or not a string" },
	{ "sha256 an object", "NV_A", SVC(Q("NV_A"), Q(SVC_B64), "{}"),
	    "\"sha256\" missing or not a string" },
	/* id printable ASCII, 1..128 characters (checked with no id expected). */
	{ "empty id", NULL, SVC(Q(""), Q(SVC_B64), Q(SVC_SHA)), "id is not a printable identifier" },
	{ "BEL in id", NULL, SVC(Q("NV_\\u0007A"), Q(SVC_B64), Q(SVC_SHA)),
	    "id is not a printable identifier" },
	{ "escape sequence in id", "NV_A", SVC(Q("NV_A\\u001b[2J"), Q(SVC_B64), Q(SVC_SHA)),
	    "id is not a printable identifier" },
	{ "space in id", NULL, SVC(Q("NV A"), Q(SVC_B64), Q(SVC_SHA)),
	    "id is not a printable identifier" },
	{ "DEL in id", NULL, SVC(Q("NV_\\u007f"), Q(SVC_B64), Q(SVC_SHA)),
	    "id is not a printable identifier" },
	{ "non-ASCII id", NULL, SVC(Q("NV_\\u00e9"), Q(SVC_B64), Q(SVC_SHA)),
	    "id is not a printable identifier" },
	{ "id of 129 characters", NULL, SVC(Q(ID128 "x"), Q(SVC_B64), Q(SVC_SHA)),
	    "id is not a printable identifier" },
	/* id = the one asked for. */
	{ "another id", "NV_A", SVC(Q("NV_B"), Q(SVC_B64), Q(SVC_SHA)),
	    "id \"NV_B\" is not the one asked for (\"NV_A\")" },
	{ "id in other case", "NV_A", SVC(Q("nv_a"), Q(SVC_B64), Q(SVC_SHA)),
	    "is not the one asked for" },
	{ "id with a suffix", "NV_A", SVC(Q("NV_A_"), Q(SVC_B64), Q(SVC_SHA)),
	    "is not the one asked for" },
	/* sha256: exactly 64 hex digits. */
	{ "sha256 of 63 digits", "NV_A", SVC(Q("NV_A"), Q(SVC_B64),
	    Q("40ecda757a85d26a0018c572369790c80b317d1db8689c60012833585088a3f")),
	    "sha256 is not 64 hex digits" },
	{ "sha256 of 65 digits", "NV_A", SVC(Q("NV_A"), Q(SVC_B64), Q(SVC_SHA "4")),
	    "sha256 is not 64 hex digits" },
	{ "sha256 with 0x", "NV_A", SVC(Q("NV_A"), Q(SVC_B64), Q("0x" SVC_SHA)),
	    "sha256 is not 64 hex digits" },
	{ "sha256 not hex", "NV_A", SVC(Q("NV_A"), Q(SVC_B64),
	    Q("40ecda757a85d26a0018c572369790c80b317d1db8689c60012833585088a3fg")),
	    "sha256 is not 64 hex digits" },
	{ "sha256 empty", "NV_A", SVC(Q("NV_A"), Q(SVC_B64), Q("")), "sha256 is not 64 hex digits" },
	/* rim: strict base64; whitespace between characters is skipped. */
	{ "line break in rim", "NV_A", SVC(Q("NV_A"), Q(SVC_B64_A "\\n" SVC_B64_B), Q(SVC_SHA)),
	    NULL },
	{ "CR LF after rim", "NV_A", SVC(Q("NV_A"), Q(SVC_B64 "\\r\\n"), Q(SVC_SHA)), NULL },
	{ "space in rim", "NV_A", SVC(Q("NV_A"), Q(SVC_B64_A " " SVC_B64_B), Q(SVC_SHA)), NULL },
	{ "tab before rim", "NV_A", SVC(Q("NV_A"), Q("\\t" SVC_B64), Q(SVC_SHA)), NULL },
	{ "line break inside padding", "NV_A", SVC(Q("NV_A"),
	    Q("PD94bWwgdmVyc2lvbj0iMS4wIj8+PFNvZnR3YXJlSWRlbnRpdHkvPg=\\n="), Q(SVC_SHA)), NULL },
	{ "vertical tab in rim", "NV_A", SVC(Q("NV_A"), Q(SVC_B64_A "\\u000b" SVC_B64_B), Q(SVC_SHA)),
	    "rim is not valid base64" },
	{ "URL-safe alphabet", "NV_A", SVC(Q("NV_A"),
	    Q("PD94bWwgdmVyc2lvbj0iMS4wIj8-PFNvZnR3YXJlSWRlbnRpdHkvPg=="), Q(SVC_SHA)),
	    "rim is not valid base64" },
	{ "no padding", "NV_A", SVC(Q("NV_A"),
	    Q("PD94bWwgdmVyc2lvbj0iMS4wIj8+PFNvZnR3YXJlSWRlbnRpdHkvPg"), Q(SVC_SHA)),
	    "rim is not valid base64" },
	{ "bits under the padding", "NV_A", SVC(Q("NV_A"),
	    Q("PD94bWwgdmVyc2lvbj0iMS4wIj8+PFNvZnR3YXJlSWRlbnRpdHkvPh=="), Q(SVC_SHA)),
	    "rim is not valid base64" },
	{ "padding inside", "NV_A", SVC(Q("NV_A"), Q("PD==" SVC_B64), Q(SVC_SHA)),
	    "rim is not valid base64" },
	{ "not base64 at all", "NV_A", SVC(Q("NV_A"), Q("!!not*base64"), Q(SVC_SHA)),
	    "rim is not valid base64" },
	/* The RIM is not empty. */
	{ "empty rim", "NV_A", SVC(Q("NV_A"), Q(""), Q(EMPTY_SHA)), "rim is empty" },
	/* Its SHA-256 is the answer's sha256. */
	{ "sha256 of another document", "NV_A", SVC(Q("NV_A"), Q(SVC_B64), Q(EMPTY_SHA)),
	    "the RIM's SHA-256 does not match the answer's sha256" },
	{ "sha256 one digit off", "NV_A", SVC(Q("NV_A"), Q(SVC_B64),
	    Q("40ecda757a85d26a0018c572369790c80b317d1db8689c60012833585088a3f5")),
	    "the RIM's SHA-256 does not match the answer's sha256" },
};

/* Checks one answer through the decoder and through rim_load: the decoder
 * accepts (and returns doc) or refuses with msg; rim_load refuses with
 * exactly the decoder's message behind "RIM service body: ", or, when the
 * decoder accepted, gets past the JSON (its error is about the XML). */
static void check_svc_answer(const char *what, const char *expected_id, const uint8_t *body,
    size_t len, const char *msg, const uint8_t *doc, size_t doc_len)
{
	struct gpa_err e, le;
	struct rim *r = NULL;
	uint8_t *xml = (uint8_t *)"stale";
	size_t xml_len = 99;
	int rc;
	char want[sizeof(e.msg) + 32];

	memset(&e, 0, sizeof(e));
	rc = rim_service_json_decode(body, len, expected_id, &xml, &xml_len, &e);
	if (getenv("RIM_TEST_VERBOSE") != NULL)
		printf("  %-40s %s\n", what, rc == 0 ? "accepted" : e.msg);
	if (msg == NULL) {
		if (rc != 0)
			fprintf(stderr, "  case \"%s\": refused: %s\n", what, e.msg);
		CHECK_INT(rc, 0);
		CHECK(rc != 0 || (xml_len == doc_len && memcmp(xml, doc, doc_len) == 0 &&
		    xml[xml_len] == 0));
	} else {
		if (rc == 0 || strstr(e.msg, msg) == NULL)
			fprintf(stderr, "  case \"%s\": rc %d, \"%s\"\n", what, rc, e.msg);
		CHECK_INT(rc, -1);
		CHECK_CONTAINS(e.msg, msg);
		CHECK(xml == NULL && xml_len == 0);
	}
	if (rc == 0)
		free(xml);
	/* rim_load decodes a document that starts with '{' with the same rules. */
	{
		size_t i = 0;
		while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r'))
			i++;
		if (i == len || body[i] != '{')
			return;
	}
	CHECK_INT(load_at(body, len, expected_id, T_2026, &r, &le), -1);
	CHECK(r == NULL);
	rim_free(r);
	if (rc != 0) {
		snprintf(want, sizeof(want), "RIM service body: %s", e.msg);
		CHECK_STREQ(le.msg, want);
	} else {
		CHECK(strncmp(le.msg, "RIM service body", 16) != 0);
	}
}

static char *big_answer(const char *id, size_t doc_len, size_t pad_to, uint8_t **doc, size_t *len)
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1], *b64, *body;
	size_t cap, n;

	*doc = malloc(doc_len + 1);
	memset(*doc, 'A', doc_len);
	SHA256(*doc, doc_len, md);
	hex_encode(md, sizeof(md), hex);
	b64 = b64_encode(*doc, doc_len);
	cap = strlen(b64) + 256 + pad_to;
	body = malloc(cap);
	n = (size_t)snprintf(body, cap, "{\"id\":\"%s\",\"rim\":\"%s\",\"sha256\":\"%s\"}", id, b64, hex);
	while (n < pad_to)
		body[n++] = ' ';
	body[n] = 0;
	*len = n;
	free(b64);
	return body;
}

static void test_service_json_decode_table(void)
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1], *b64 = b64_encode((const uint8_t *)SVC_DOC,
	    strlen(SVC_DOC));

	/* The table's constants are what they claim to be. */
	CHECK_STREQ(b64, SVC_B64);
	free(b64);
	SHA256((const uint8_t *)SVC_DOC, strlen(SVC_DOC), md);
	hex_encode(md, sizeof(md), hex);
	CHECK_STREQ(hex, SVC_SHA);
	for (size_t i = 0; i < sizeof(svc_cases) / sizeof(svc_cases[0]); i++) {
		const struct svc_case *c = &svc_cases[i];
		check_svc_answer(c->what, c->expected_id, (const uint8_t *)c->body, strlen(c->body),
		    c->msg, (const uint8_t *)SVC_DOC, strlen(SVC_DOC));
	}
	/* Sizes: the decoded RIM at most GPA_RIM_MAX_BYTES, the answer at most
	 * GPA_RIM_JSON_MAX, both limits met exactly and passed by one. */
	{
		static const struct { const char *what; size_t doc, pad; const char *msg; } big[] = {
			{ "RIM of GPA_RIM_MAX_BYTES", GPA_RIM_MAX_BYTES, 0, NULL },
			{ "RIM of GPA_RIM_MAX_BYTES + 1", GPA_RIM_MAX_BYTES + 1, 0,
			    "rim decodes to 4194305 bytes, more than the 4194304 byte limit" },
			{ "answer of GPA_RIM_JSON_MAX bytes", 1000, GPA_RIM_JSON_MAX, NULL },
			{ "answer of GPA_RIM_JSON_MAX + 1 bytes", 1000, GPA_RIM_JSON_MAX + 1,
			    "bytes a RIM service answer may have" },
		};
		for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
			uint8_t *doc;
			size_t len;
			char *body = big_answer("NV_BIG", big[i].doc, big[i].pad, &doc, &len);
			CHECK(big[i].pad == 0 || len == big[i].pad);
			check_svc_answer(big[i].what, "NV_BIG", (const uint8_t *)body, len, big[i].msg,
			    doc, big[i].doc);
			free(body);
			free(doc);
		}
	}
}

/* libxml2 and xmlsec must not print: the messages belong in gpa_err. */
static void test_quiet(void)
{
	SHARED_OR_SKIP(p, NEG_535);
	char tmpl[] = "/tmp/test_rim_stderr_XXXXXX";
	int fd = mkstemp(tmpl), saved;
	struct gpa_err e;
	struct rim *r = NULL;
	size_t len;
	uint8_t *buf = read_all(p, &len);
	off_t size;

	CHECK(fd >= 0);
	if (fd < 0) {
		free(buf);
		return;
	}
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	load_at((const uint8_t *)"<a><b></a>", 10, NULL, T_2026, &r, &e);
	load_at(buf, len, NULL, T_2026, &r, &e);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	size = lseek(fd, 0, SEEK_END);
	CHECK_INT(size, 0);
	CHECK(r != NULL && !r->signature_valid);
	rim_free(r);
	close(fd);
	unlink(tmpl);
	free(buf);
}

static void test_perf_note(void)
{
	SHARED_OR_SKIP(p, DRIVER_595);
	struct timespec t0, t1;
	struct gpa_err e;
	size_t len;
	uint8_t *buf = read_all(p, &len);
	const int n = 50;
	int ok = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		struct rim *r = NULL;
		ok += load_at(buf, len, NULL, T_2026, &r, &e) == 0 && r->signature_valid;
		rim_free(r);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_INT(ok, n);
	printf("NOTE rim_load(595.71.05 driver RIM): %.3f ms each over %d runs\n",
	    ((double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6) / n, n);
	free(buf);
}

int main(void)
{
	struct gpa_err e = { { 0 } };

	if (rim_global_init(&e) != 0) {
		fprintf(stderr, "rim_global_init: %s\n", e.msg);
		return 1;
	}
	pinned = anchors_new(true, &e);
	if (pinned == NULL) {
		fprintf(stderr, "anchors_new: %s\n", e.msg);
		return 1;
	}
	RUN(test_driver_595_xml);
	RUN(test_driver_595_service_json);
	RUN(test_vbios_9f);
	RUN(test_no_gpu_rims_valid_then_expired);
	RUN(test_switch_rim);
	RUN(test_incorrect_signature_value);
	RUN(test_altered_content_rims);
	RUN(test_wrong_anchor);
	RUN(test_b64_text_refused);
	RUN(test_hash_change_breaks_signature);
	RUN(test_malformed_signature_value);
	RUN(test_signer_must_be_first_certificate);
	RUN(test_wrapping_shapes_refused);
	RUN(test_signature_moved_into_payload);
	RUN(test_dtd_and_entities_refused);
	RUN(test_not_xml_empty_truncated);
	RUN(test_encoding_and_size_limits);
	RUN(test_schema_rules);
	RUN(test_inactive_duplicates_and_other_types);
	RUN(test_self_signed_minimal);
	RUN(test_service_json_rules);
	RUN(test_service_json_decode_table);
	RUN(test_quiet);
	RUN(test_perf_note);
	anchors_free(pinned);
	return harness_done("rim");
}
