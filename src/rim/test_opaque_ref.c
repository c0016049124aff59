/*
 * Tests for the opaque-data reference values in RIMs (src/rim/opaque_ref.c,
 * attestation-formats.md §16.2). NVIDIA's 2.0 data holds no RIM with ns3
 * attributes, so records are added to NVIDIA's real 595.71.05 driver RIM:
 * the signature no longer verifies (a finding, reported separately), but
 * the document is parsed, which is what is tested here. Signed RIMs with
 * such records come from the simulator (tests/cli/test_sim_nvdaod.sh).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "rim/rim.h"

#define DRIVER_595	"vectors/nvidia/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml"
#define NS3		"xmlns:ns3=\"" GPA_RIM_OPAQUE_NS "\" "
/* The last Resource of the real RIM, after which records are inserted. */
#define ANCHOR		"<ns0:Payload xmlns:SHA384=\"http://www.w3.org/2001/04/xmlenc#sha384\">"

static struct gpa_anchors *pinned;

static uint8_t *doc_with(const char *records, size_t *out_len)
{
	const char *p = shared_path(DRIVER_595);
	struct gpa_err e = {{0}};
	uint8_t *buf, *out;
	size_t len, rl = strlen(records) + strlen(ANCHOR), al = strlen(ANCHOR);
	char *rep;
	uint8_t *hit;

	if (p == NULL || file_read(p, 16u << 20, &buf, &len, &e) != 0)
		return NULL;
	hit = memmem(buf, len, ANCHOR, al);
	if (hit == NULL) {
		free(buf);
		return NULL;
	}
	rep = malloc(rl + 1);
	snprintf(rep, rl + 1, "%s%s", ANCHOR, records);
	out = malloc(len + rl + 1);
	memcpy(out, buf, (size_t)(hit - buf));
	memcpy(out + (hit - buf), rep, rl);
	memcpy(out + (hit - buf) + rl, hit + al, len - (size_t)(hit - buf) - al);
	*out_len = len - al + rl;
	out[*out_len] = 0;
	free(rep);
	free(buf);
	return out;
}

/* Loads the real RIM with these records in its Payload; returns rim_load's rc. */
static int load_with(const char *records, struct rim **r, struct gpa_err *e)
{
	size_t len;
	uint8_t *doc = doc_with(records, &len);
	time_t at = 1795824000;	/* 2026-11-28 */
	int rc;

	*r = NULL;
	memset(e, 0, sizeof(*e));
	if (doc == NULL)
		return 99;
	rc = rim_load(doc, len, NULL, pinned, at, r, e);
	free(doc);
	return rc;
}

#define REC(attrs) "<ns0:Resource " NS3 "type=\"Measurement\" " attrs "/>"
#define SVN37 REC("index=\"4133\" active=\"True\" name=\"fsp_ucode_svn\" ns3:minSvn=\"5\" ns3:includeInResult=\"True\"")

static void test_record_read(void)
{
	struct gpa_err e;
	struct rim *r;

	if (shared_path(DRIVER_595) == NULL)
		SKIP("shared vectors not found: " DRIVER_595);
	CHECK_INT(load_with(SVN37 REC("index=\"69631\" active=\"True\" name=\"top\" ns3:minSvn=\"0\""), &r, &e), 0);
	if (r != NULL) {
		CHECK_INT(r->nopaque, 2);
		CHECK_INT(r->opaque[0].id, 37);
		CHECK_INT(r->opaque[0].index, 4133);
		CHECK_STREQ(r->opaque[0].name, "fsp_ucode_svn");
		CHECK_INT(r->opaque[0].min_svn, 5);
		CHECK(r->opaque[0].include_in_result);
		CHECK_INT(r->opaque[1].id, 65535);
		CHECK(!r->opaque[1].include_in_result);
		/* Not measurements: the 64 hash entries are as before. */
		CHECK_INT(r->nmeas, 64);
		CHECK(!r->signature_valid);	/* the document was changed */
	}
	rim_free(r);
	/* Inactive records are skipped; the real RIM alone has none. */
	CHECK_INT(load_with(REC("index=\"4133\" active=\"False\" name=\"x\""), &r, &e), 0);
	CHECK(r != NULL && r->nopaque == 0);
	rim_free(r);
	CHECK_INT(load_with("", &r, &e), 0);
	CHECK(r != NULL && r->nopaque == 0 && r->signature_valid);
	rim_free(r);
	/* The largest minSvn a JSON integer holds. */
	CHECK_INT(load_with(REC("index=\"4133\" active=\"True\" name=\"a\" ns3:minSvn=\"9223372036854775807\""), &r, &e), 0);
	CHECK(r != NULL && r->nopaque == 1 && r->opaque[0].min_svn == 9223372036854775807ull);
	rim_free(r);
}

static void refused(const char *records, const char *want)
{
	struct gpa_err e;
	struct rim *r;

	CHECK_INT(load_with(records, &r, &e), -1);
	CHECK(r == NULL);
	CHECK_CONTAINS(e.msg, want);
	rim_free(r);
}

static void test_record_rules(void)
{
	if (shared_path(DRIVER_595) == NULL)
		SKIP("shared vectors not found: " DRIVER_595);
	refused(REC("index=\"4133\" active=\"True\" name=\"a\""),
	    "RIM: Payload/Resource 1 (opaque-data record, index 4133): ns3:minSvn missing");
	/* minSvn in another namespace is not NVIDIA's attribute. */
	refused("<ns0:Resource type=\"Measurement\" index=\"4133\" active=\"True\" name=\"a\" ns2:minSvn=\"1\"/>",
	    "ns3:minSvn missing");
	refused(REC("index=\"4133\" active=\"True\" name=\"a\" ns3:minSvn=\"5a\""), "ns3:minSvn \"5a\" is not a decimal");
	refused(REC("index=\"4133\" active=\"True\" name=\"a\" ns3:minSvn=\"05\""), "ns3:minSvn \"05\"");
	refused(REC("index=\"4133\" active=\"True\" name=\"a\" ns3:minSvn=\"-1\""), "ns3:minSvn \"-1\"");
	refused(REC("index=\"4133\" active=\"True\" name=\"a\" ns3:minSvn=\"9223372036854775808\""), "is not a decimal 0..");
	refused(REC("index=\"4133\" active=\"True\" ns3:minSvn=\"1\""), "attribute name missing");
	refused(REC("index=\"4133\" active=\"True\" name=\"\" ns3:minSvn=\"1\""), "name length 0");
	refused(REC("index=\"4133\" active=\"True\" name=\"a\" ns3:minSvn=\"1\" ns3:includeInResult=\"true\""),
	    "ns3:includeInResult \"true\" is not \"True\" or \"False\"");
	refused(REC("index=\"4133\" active=\"yes\" name=\"a\" ns3:minSvn=\"1\""), "active \"yes\"");
	refused(REC("index=\"4133\" name=\"a\" ns3:minSvn=\"1\""), "active \"(missing)\"");
	refused(REC("index=\"69632\" active=\"True\" name=\"a\" ns3:minSvn=\"1\""), "index \"69632\" is not a decimal 4096..69631");
	refused(REC("index=\"69632\" active=\"False\" name=\"a\""), "index \"69632\" is not a decimal 4096..69631");
	/* 256..4095 and a leading zero stay measurement-index errors. */
	refused(REC("index=\"4095\" active=\"True\" alternatives=\"1\" size=\"48\" name=\"a\" ns3:minSvn=\"1\""), "index \"4095\" is not a decimal 0..255");
	refused(REC("index=\"04133\" active=\"True\" alternatives=\"1\" size=\"48\" name=\"a\" ns3:minSvn=\"1\""), "index \"04133\" is not a decimal 0..255");
	refused(REC("index=\"4133\" active=\"True\" name=\"a\" ns3:minSvn=\"1\" ns2:Hash0=\"00\""),
	    "a hash attribute on an opaque-data record");
	refused(SVN37 REC("index=\"4133\" active=\"True\" name=\"b\" ns3:minSvn=\"1\""),
	    "opaque id 37 (index 4133) is active more than once");
	refused(SVN37 REC("index=\"4134\" active=\"True\" name=\"fsp_ucode_svn\" ns3:minSvn=\"1\""),
	    "name \"fsp_ucode_svn\" is used by two opaque-data records");
	refused(REC("index=\"4133\" active=\"True\" name=\"a&#10;b\" ns3:minSvn=\"1\""), "name has byte 0x0a");
}

int main(void)
{
	struct gpa_err e;

	if (rim_global_init(&e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	pinned = anchors_new(true, &e);
	RUN(test_record_read);
	RUN(test_record_rules);
	anchors_free(pinned);
	return harness_done("opaque_ref");
}
