/* appraisal_weaken: the list of weakenings, its JSON and its text block. */
#include "appraise/appraise.h"
#include "../../tests/harness.h"

static void test_empty_list_is_an_empty_array(void)
{
	struct gpa_appraisal a;
	json_t *w;

	memset(&a, 0, sizeof(a));
	w = appraisal_weakened_json(&a);
	CHECK(json_is_array(w));
	CHECK_INT(json_array_size(w), 0);
	json_decref(w);
}

static void test_entries_kept_in_order_once(void)
{
	struct gpa_appraisal a;
	json_t *w;

	memset(&a, 0, sizeof(a));
	appraisal_weaken(&a, "no-ocsp", "revocation not checked");
	appraisal_weaken(&a, "at", "as of %d", 2024);
	appraisal_weaken(&a, "no-ocsp", "revocation not checked");	/* the same again: once */
	appraisal_weaken(&a, "max-ocsp-age", "answer A");
	appraisal_weaken(&a, "max-ocsp-age", "answer B");		/* same id, other answer: kept */
	CHECK_INT(a.nweak, 4);
	w = appraisal_weakened_json(&a);
	CHECK_INT(json_array_size(w), 4);
	CHECK_STREQ(json_string_value(json_object_get(json_array_get(w, 0), "id")), "no-ocsp");
	CHECK_STREQ(json_string_value(json_object_get(json_array_get(w, 1), "detail")), "as of 2024");
	CHECK_STREQ(json_string_value(json_object_get(json_array_get(w, 3), "detail")), "answer B");
	json_decref(w);
}

static void test_overflow_is_said(void)
{
	struct gpa_appraisal a;

	memset(&a, 0, sizeof(a));
	for (int i = 0; i < GPA_MAX_WEAK + 5; i++)
		appraisal_weaken(&a, "x", "entry %d", i);
	CHECK_INT(a.nweak, GPA_MAX_WEAK);
	CHECK_STREQ(a.weak[GPA_MAX_WEAK - 1].id, "more");
	CHECK_CONTAINS(a.weak[GPA_MAX_WEAK - 1].detail, "6 more");
}

static void test_text_block_before_verdict(void)
{
	struct gpa_appraisal a;
	char *t;

	memset(&a, 0, sizeof(a));
	a.verdict = GPA_PASS;
	appraisal_weaken(&a, "dev-tools", "developer tools accepted");
	t = appraisal_text(&a, false);
	CHECK(t != NULL);
	CHECK_CONTAINS(t, "WARNING: this verification was WEAKENED");
	CHECK_CONTAINS(t, "  - [dev-tools] developer tools accepted\n");
	CHECK(t != NULL && strstr(t, "WEAKENED") < strstr(t, "VERIFICATION SUCCESSFUL"));
	free(t);
}

int main(void)
{
	RUN(test_empty_list_is_an_empty_array);
	RUN(test_entries_kept_in_order_once);
	RUN(test_overflow_is_said);
	RUN(test_text_block_before_verdict);
	return harness_done("weaken");
}
