/*
 * Tests for the opaque-data comparison (src/appraise/opaque_cmp.c, §16.2)
 * and its claims 4.0 records, on NVIDIA's real NVDAOD transcript (its FSP
 * ucode SVN, id 37, set to 3 here) against reference values built in
 * memory. End to end with signed RIMs: tests/cli/test_sim_nvdaod.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "appraise/appraise.h"
#include "evidence/evidence.h"

#define TRANSCRIPT "vectors/nvidia-2.0/gpu/sample_nvdaod_transcript.txt"
#define LEGACY "vectors/nvidia/gpu/hopper_550.90.07/attestation_report.hex.txt"

struct fx {
	uint8_t *buf;
	size_t len;
	struct gpa_appraisal a;
	struct gpa_device_result d;
};

static int fx_load(struct fx *f, const char *rel, int svn)
{
	const char *p = shared_path(rel);
	struct gpa_err e = {{0}};
	uint8_t *raw;
	size_t rawlen;
	const struct opaque_field *sf;

	memset(f, 0, sizeof(*f));
	if (p == NULL || file_read(p, 1 << 16, &raw, &rawlen, &e) != 0)
		return -1;
	if (report_bytes_decode(raw, rawlen, &f->buf, &f->len, &e) != 0) {
		free(raw);
		return -1;
	}
	free(raw);
	f->d.kind = GPA_DEV_GPU;
	if (spdm_parse_report(f->buf, f->len, GPA_DEV_GPU, &f->d.report, &e) != 0)
		return -1;
	sf = opaque_get(&f->d.report, OPQ_FSP_UCODE_SVN);
	if (svn >= 0 && sf != NULL) {
		/* The views point into buf: write the SVN there. */
		f->buf[sf->value - f->buf] = (uint8_t)svn;
		f->buf[sf->value - f->buf + 1] = (uint8_t)(svn >> 8);
	}
	f->d.measres = "success";
	f->a.n = 1;
	f->a.dev = &f->d;
	f->a.claims_version = 4;
	return 0;
}

static void fx_free(struct fx *f)
{
	free(f->d.opaque_mismatch);
	free(f->d.attester);
	free(f->buf);
}

static struct rim one_rim(struct rim_opaque_ref *refs, int n)
{
	struct rim r;

	memset(&r, 0, sizeof(r));
	r.opaque = refs;
	r.nopaque = n;
	return r;
}

#define FX_OR_SKIP(f, rel, svn) \
	struct fx f; \
	if (shared_path(rel) == NULL) SKIP("shared vectors not found: " rel); \
	if (fx_load(&f, rel, svn) != 0) { CHECK(!"load " rel); return; }

static void test_svn_met(void)
{
	FX_OR_SKIP(f, TRANSCRIPT, 3);
	struct rim_opaque_ref refs[] = {
		{ .id = 37, .index = 4133, .name = "fsp_ucode_svn", .min_svn = 3, .include_in_result = true },
	};
	struct rim vb = one_rim(refs, 1);

	CHECK_INT(appraise_opaque_refs(&f.d, NULL, &vb), 0);
	CHECK(f.d.opaque_done);
	CHECK(!f.d.opaque_conflict);
	CHECK_INT(f.d.nopaque_refs, 1);
	CHECK_INT(f.d.nopaque_mismatch, 0);
	CHECK_INT(f.d.nattester, 1);
	CHECK_STREQ(f.d.attester[0].name, "fsp_ucode_svn");
	CHECK_INT(f.d.attester[0].value, 3);
	fx_free(&f);
}

static void test_svn_below(void)
{
	FX_OR_SKIP(f, TRANSCRIPT, 3);
	struct rim_opaque_ref refs[] = {
		{ .id = 37, .index = 4133, .name = "fsp_ucode_svn", .min_svn = 5, .include_in_result = true },
		{ .id = 999, .index = 5095, .name = "future_svn", .min_svn = 1 },
		{ .id = 36, .index = 4132, .name = "flag_as_svn", .min_svn = 0 },
	};
	struct rim vb = one_rim(refs, 3);
	json_t *c, *recs;
	char *s;

	CHECK_INT(appraise_opaque_refs(&f.d, NULL, &vb), 0);
	CHECK_INT(f.d.nopaque_mismatch, 3);
	/* Below the floor: both values. Absent (999) or not of value type
	 * 0x87 (36, FEATURE_FLAG): no runtime value. */
	CHECK(f.d.opaque_mismatch[0].has_runtime && f.d.opaque_mismatch[0].runtime == 3);
	CHECK(!f.d.opaque_mismatch[1].has_runtime);
	CHECK(!f.d.opaque_mismatch[2].has_runtime);
	/* Shown in the attester claims even when below (as NVIDIA). */
	CHECK_INT(f.d.nattester, 1);
	f.d.measres = "fail";
	c = claims_device_json(&f.a, &f.d);
	recs = json_object_get(c, "x-nvidia-mismatch-opaque-data-records");
	CHECK(json_is_array(recs) && json_array_size(recs) == 3);
	s = json_dumps(json_array_get(recs, 0), JSON_SORT_KEYS | JSON_COMPACT);
	CHECK_STREQ(s, "{\"goldenType\":\"MIN_SVN\",\"goldenValue\":5,\"id\":37,\"name\":\"fsp_ucode_svn\",\"runtimeType\":\"MIN_SVN\",\"runtimeValue\":3}");
	free(s);
	s = json_dumps(json_array_get(recs, 1), JSON_SORT_KEYS | JSON_COMPACT);
	CHECK_STREQ(s, "{\"goldenType\":\"MIN_SVN\",\"goldenValue\":1,\"id\":999,\"name\":\"future_svn\"}");
	free(s);
	s = json_dumps(json_object_get(c, "x-nvidia-attester-claims"), JSON_COMPACT);
	CHECK_STREQ(s, "{\"fsp_ucode_svn\":3}");
	free(s);
	CHECK_STREQ(json_string_value(json_object_get(c, "measres")), "fail");
	json_decref(c);
	fx_free(&f);
}

static void test_conflicts(void)
{
	FX_OR_SKIP(f, TRANSCRIPT, 3);
	struct rim_opaque_ref d1[] = { { .id = 37, .name = "a", .min_svn = 1 } };
	struct rim_opaque_ref v1[] = { { .id = 37, .name = "b", .min_svn = 1 } };
	struct rim_opaque_ref v2[] = { { .id = 38, .name = "a", .min_svn = 1 } };
	struct rim drv = one_rim(d1, 1), vb = one_rim(v1, 1), vb2 = one_rim(v2, 1);

	CHECK_INT(appraise_opaque_refs(&f.d, &drv, &vb), 0);
	CHECK(f.d.opaque_conflict);
	CHECK_CONTAINS(f.d.opaque_conflict_detail, "driver RIM record \"a\" (opaque id 37) and VBIOS RIM record \"b\" (opaque id 37) name the same id");
	fx_free(&f);
	if (fx_load(&f, TRANSCRIPT, 3) != 0)
		return;
	CHECK_INT(appraise_opaque_refs(&f.d, &drv, &vb2), 0);
	CHECK(f.d.opaque_conflict);
	CHECK_CONTAINS(f.d.opaque_conflict_detail, "name the same name");
	fx_free(&f);
	/* No records anywhere: nothing done, the claim stays null. */
	if (fx_load(&f, TRANSCRIPT, 3) != 0)
		return;
	drv = one_rim(NULL, 0);
	CHECK_INT(appraise_opaque_refs(&f.d, &drv, NULL), 0);
	CHECK(!f.d.opaque_done);
	{
		json_t *c = claims_device_json(&f.a, &f.d);
		CHECK(json_is_null(json_object_get(c, "x-nvidia-mismatch-opaque-data-records")));
		json_decref(c);
	}
	fx_free(&f);
}

/* Legacy opaque data has no value types: a record can never be met. */
static void test_legacy_report(void)
{
	FX_OR_SKIP(f, LEGACY, -1);
	struct rim_opaque_ref refs[] = { { .id = 37, .name = "fsp_ucode_svn", .min_svn = 0 } };
	struct rim vb = one_rim(refs, 1);

	CHECK_INT(f.d.report.layout, OPAQUE_LEGACY);
	CHECK_INT(appraise_opaque_refs(&f.d, NULL, &vb), 0);
	CHECK_INT(f.d.nopaque_mismatch, 1);
	CHECK(!f.d.opaque_mismatch[0].has_runtime);
	fx_free(&f);
}

int main(void)
{
	RUN(test_svn_met);
	RUN(test_svn_below);
	RUN(test_conflicts);
	RUN(test_legacy_report);
	return harness_done("opaque_cmp");
}
