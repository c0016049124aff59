/*
 * A minimal test harness. Each test file is one binary:
 *
 *   static void test_something(void) { CHECK(x == 1); CHECK_STREQ(s, "a"); }
 *   int main(void) { RUN(test_something); return harness_done("spdm"); }
 *
 * A test that needs ../shared calls shared_path() and SKIP()s visibly when
 * the vectors are absent. harness_done() prints "<name>: N passed, N failed,
 * N skipped" which tests/run-all.sh adds up.
 */
#ifndef GPA_HARNESS_H
#define GPA_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int h_passed, h_failed, h_skipped, h_cur_failed, h_cur_skipped;
static const char *h_cur;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "FAIL %s (%s:%d): %s\n", h_cur, __FILE__, __LINE__, #cond); \
		h_cur_failed = 1; \
	} \
} while (0)

#define CHECK_INT(a, b) do { \
	long long h_a = (long long)(a), h_b = (long long)(b); \
	if (h_a != h_b) { \
		fprintf(stderr, "FAIL %s (%s:%d): %s == %lld, expected %lld\n", \
		    h_cur, __FILE__, __LINE__, #a, h_a, h_b); \
		h_cur_failed = 1; \
	} \
} while (0)

#define CHECK_STREQ(a, b) do { \
	const char *h_a = (a), *h_b = (b); \
	if (h_a == NULL || h_b == NULL || strcmp(h_a, h_b) != 0) { \
		fprintf(stderr, "FAIL %s (%s:%d): %s == \"%s\", expected \"%s\"\n", \
		    h_cur, __FILE__, __LINE__, #a, h_a ? h_a : "(null)", h_b ? h_b : "(null)"); \
		h_cur_failed = 1; \
	} \
} while (0)

/* Substring check, for error messages. */
#define CHECK_CONTAINS(hay, needle) do { \
	const char *h_h = (hay), *h_n = (needle); \
	if (h_h == NULL || strstr(h_h, h_n) == NULL) { \
		fprintf(stderr, "FAIL %s (%s:%d): \"%s\" does not contain \"%s\"\n", \
		    h_cur, __FILE__, __LINE__, h_h ? h_h : "(null)", h_n); \
		h_cur_failed = 1; \
	} \
} while (0)

#define SKIP(why) do { \
	fprintf(stderr, "SKIP %s: %s\n", h_cur, why); \
	h_cur_skipped = 1; \
	return; \
} while (0)

#define RUN(fn) do { \
	h_cur = #fn; h_cur_failed = 0; h_cur_skipped = 0; \
	fn(); \
	if (h_cur_failed) h_failed++; \
	else if (h_cur_skipped) h_skipped++; \
	else h_passed++; \
} while (0)

static inline int harness_done(const char *suite)
{
	printf("%s: %d passed, %d failed, %d skipped\n", suite, h_passed, h_failed, h_skipped);
	return h_failed ? 1 : 0;
}

/* Path of a file under the shared vectors ("vectors/nvidia/..."), or NULL
 * when ../shared (or $GPUATTEST_SHARED) is not there. Static buffer. */
static inline const char *shared_path(const char *rel)
{
	static char buf[4096];
	const char *root = getenv("GPUATTEST_SHARED");
	struct stat st;

	if (root == NULL || *root == '\0')
		root = "../shared";
	snprintf(buf, sizeof(buf), "%s/%s", root, rel);
	if (stat(buf, &st) != 0)
		return NULL;
	return buf;
}

#define SHARED_OR_SKIP(var, rel) \
	const char *var = shared_path(rel); \
	if (var == NULL) SKIP("shared vectors not found (../shared or $GPUATTEST_SHARED): " rel); \
	char var##_buf[4096]; snprintf(var##_buf, sizeof(var##_buf), "%s", var); var = var##_buf

#endif
