/*
 * Tests for util/: the strict base64 and hex codecs, RFC 3339 time, the
 * bounds-checked reader, error prefixes and capped file reads. Every
 * refusal the codecs make has a case here. The work pool runs every task
 * exactly once, those added by tasks included, on one thread or many; the
 * memory of successes makes a second thread wait for work already started.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "util/pool.h"
#include "util/util.h"

#include <pthread.h>

static int b64(const char *s, bool ws, uint8_t **out, size_t *n)
{
	return b64_decode(s, strlen(s), ws, out, n);
}

#define B64_OK(in, ws, want, wantlen) do { \
	uint8_t *h_o; size_t h_n; \
	CHECK(b64((in), (ws), &h_o, &h_n) == 0); \
	CHECK_INT(h_n, (wantlen)); \
	CHECK(h_o != NULL && memcmp(h_o, (want), (wantlen)) == 0); \
	CHECK(h_o != NULL && h_o[h_n] == 0); \
	free(h_o); \
} while (0)

#define B64_BAD(in, ws) do { \
	uint8_t *h_o = (uint8_t *)1; size_t h_n = 99; \
	if (b64((in), (ws), &h_o, &h_n) != -1) { \
		fprintf(stderr, "FAIL %s: base64 \"%s\" accepted\n", h_cur, (in)); \
		h_cur_failed = 1; \
	} \
	CHECK(h_o == NULL); \
	CHECK_INT(h_n, 0); \
	free(h_o); \
} while (0)

static void test_b64_decode(void)
{
	/* RFC 4648 §10 vectors. */
	B64_OK("", false, "", 0);
	B64_OK("Zg==", false, "f", 1);
	B64_OK("Zm8=", false, "fo", 2);
	B64_OK("Zm9v", false, "foo", 3);
	B64_OK("Zm9vYg==", false, "foob", 4);
	B64_OK("Zm9vYmE=", false, "fooba", 5);
	B64_OK("Zm9vYmFy", false, "foobar", 6);
	B64_OK("+/+/", false, "\xfb\xff\xbf", 3);
	B64_OK("AAA=", false, "\0\0", 2);
	/* Whitespace only where allowed. */
	B64_OK("Zm9v\nYmFy\r\n", true, "foobar", 6);
	B64_OK(" Zg = = ", true, "f", 1);
	B64_BAD("Zm9v\nYmFy", false);
	B64_BAD("Zm9v YmFy", false);
	/* Bad characters: URL-safe alphabet, punctuation, NUL-free junk. */
	B64_BAD("Zm9-", false);
	B64_BAD("Zm9_", false);
	B64_BAD("Zm9*", false);
	B64_BAD("Zm9\x80", false);
	/* Padding. */
	B64_BAD("Zg", false);
	B64_BAD("Zg=", false);
	B64_BAD("Zm9", false);
	B64_BAD("Z===", false);
	B64_BAD("====", false);
	B64_BAD("Zg===", false);
	B64_BAD("Zg==Zg==", false);
	B64_BAD("Zg=a", false);
	B64_BAD("Z=g=", false);
	B64_BAD("Zm9vYg==\n", false);
	B64_BAD("Zm9vYg== x", true);
	B64_BAD("Zm9vY", false);
	/* Non-canonical: bits under the padding must be zero. */
	B64_BAD("Zh==", false);
	B64_BAD("Zm9=", false);
	B64_OK("Zm8=", false, "fo", 2);
}

static void test_b64_encode_round_trip(void)
{
	uint8_t all[256], *back;
	size_t n;
	char *s;

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	for (size_t len = 0; len <= 256; len += (len < 8 ? 1 : 31)) {
		s = b64_encode(all, len);
		CHECK(s != NULL);
		CHECK_INT(strlen(s), (len + 2) / 3 * 4);
		CHECK(b64_decode(s, strlen(s), false, &back, &n) == 0);
		CHECK_INT(n, len);
		CHECK(memcmp(back, all, len) == 0);
		free(back);
		free(s);
	}
	s = b64_encode((const uint8_t *)"foobar", 4);
	CHECK_STREQ(s, "Zm9vYg==");
	free(s);
}

static void test_hex(void)
{
	uint8_t out[8];
	char s[17];
	char k[66];

	/* Cache and bundle keys: 64 lowercase hex digits, nothing else. */
	memset(k, 'a', 64);
	k[64] = 0;
	CHECK(hex64_lower_valid(k));
	k[10] = 'A';
	CHECK(!hex64_lower_valid(k));
	k[10] = 'g';
	CHECK(!hex64_lower_valid(k));
	k[10] = '0';
	k[63] = 0;
	CHECK(!hex64_lower_valid(k));
	k[63] = '9';
	k[64] = '9';
	k[65] = 0;
	CHECK(!hex64_lower_valid(k));
	CHECK(!hex64_lower_valid(""));

	/* Byte search through NULs; SIZE_MAX when absent. */
	CHECK(bytes_find("abc\0-----END", 12, "-----END") == 4);
	CHECK(bytes_find("-----END", 8, "-----END") == 0);
	CHECK(bytes_find("-----EN", 7, "-----END") == SIZE_MAX);
	CHECK(bytes_find("xx-----ENx", 10, "-----END") == SIZE_MAX);
	CHECK(bytes_find("", 0, "a") == SIZE_MAX);

	CHECK_INT(hex_decode("00ff7Fa0", 8, out, sizeof(out), false), 4);
	CHECK(memcmp(out, "\x00\xff\x7f\xa0", 4) == 0);
	CHECK_INT(hex_decode("0x00ff", 6, out, sizeof(out), true), 2);
	CHECK_INT(hex_decode("0XAB", 4, out, sizeof(out), true), 1);
	CHECK_INT(out[0], 0xab);
	CHECK_INT(hex_decode("0x00ff", 6, out, sizeof(out), false), -1);	/* prefix not allowed */
	CHECK_INT(hex_decode("", 0, out, sizeof(out), false), 0);
	CHECK_INT(hex_decode("0x", 2, out, sizeof(out), true), 0);
	CHECK_INT(hex_decode("abc", 3, out, sizeof(out), false), -1);		/* odd */
	CHECK_INT(hex_decode("0xabc", 5, out, sizeof(out), true), -1);
	CHECK_INT(hex_decode("zz", 2, out, sizeof(out), false), -1);
	CHECK_INT(hex_decode("a g", 3, out, sizeof(out), false), -1);
	CHECK_INT(hex_decode("0g", 2, out, sizeof(out), false), -1);
	CHECK_INT(hex_decode(" 0", 2, out, sizeof(out), false), -1);
	CHECK_INT(hex_decode("00x0", 4, out, sizeof(out), true), -1);
	CHECK_INT(hex_decode("000000000000000000", 18, out, sizeof(out), false), -1);	/* 9 > 8 */
	CHECK_INT(hex_decode("0000000000000000", 16, out, sizeof(out), false), 8);
	/* Length is explicit: a NUL inside the span is not a terminator. */
	CHECK_INT(hex_decode("ab\0d", 4, out, sizeof(out), false), -1);
	CHECK_INT(hex_decode("abcd", 2, out, sizeof(out), false), 1);

	hex_encode((const uint8_t *)"\x01\xab\xff", 3, s);
	CHECK_STREQ(s, "01abff");
	hex_encode_upper((const uint8_t *)"\x01\xab\xff", 3, s);
	CHECK_STREQ(s, "01ABFF");
	hex_encode(NULL, 0, s);
	CHECK_STREQ(s, "");
	char *d = hex_dup((const uint8_t *)"\xde\xad", 2);
	CHECK_STREQ(d, "dead");
	free(d);
}

static void test_time_parse(void)
{
	time_t t;
	char out[21];

	CHECK(time_parse_rfc3339("1970-01-01T00:00:00Z", &t) == 0);
	CHECK_INT(t, 0);
	CHECK(time_parse_rfc3339("2026-11-28T00:00:00Z", &t) == 0);
	CHECK_INT(t, 1795824000);
	CHECK(time_parse_rfc3339("2024-02-29T12:34:56Z", &t) == 0);
	CHECK_INT(t, 1709210096);
	CHECK(time_parse_rfc3339("2000-02-29T00:00:00Z", &t) == 0);
	CHECK(time_parse_rfc3339("9999-12-31T23:59:59Z", &t) == 0);
	CHECK_INT(t, 253402300799LL);
	time_format_rfc3339(t, out);
	CHECK_STREQ(out, "9999-12-31T23:59:59Z");
	CHECK(time_parse_rfc3339("1969-12-31T23:59:59Z", &t) == 0);
	CHECK_INT(t, -1);
	/* Fractions ignored, offsets applied, lowercase t/z accepted. */
	CHECK(time_parse_rfc3339("2026-11-28T00:00:00.999Z", &t) == 0);
	CHECK_INT(t, 1795824000);
	CHECK(time_parse_rfc3339("2026-11-28T01:30:00+01:30", &t) == 0);
	CHECK_INT(t, 1795824000);
	CHECK(time_parse_rfc3339("2026-11-27T22:00:00-02:00", &t) == 0);
	CHECK_INT(t, 1795824000);
	CHECK(time_parse_rfc3339("2026-11-28t00:00:00z", &t) == 0);
	CHECK_INT(t, 1795824000);
	/* A leap second reads as :59. */
	CHECK(time_parse_rfc3339("2016-12-31T23:59:60Z", &t) == 0);
	CHECK_INT(t, 1483228799);
	time_format_rfc3339(1795824000, out);
	CHECK_STREQ(out, "2026-11-28T00:00:00Z");

	static const char *const bad[] = {
		"", "2026-11-28", "2026-11-28T00:00:00", "2026-11-28 00:00:00Z",
		"2026-11-28T00:00Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
		"2026-11-31T00:00:00Z", "2026-11-00T00:00:00Z", "2023-02-29T00:00:00Z",
		"1900-02-29T00:00:00Z", "2026-11-28T24:00:00Z", "2026-11-28T00:60:00Z",
		"2026-11-28T00:00:61Z", "2026-11-28T00:00:00.Z", "2026-11-28T00:00:00ZZ",
		"2026-11-28T00:00:00+0100", "2026-11-28T00:00:00+24:00", "2026-11-28T00:00:00+01:60",
		"2026-11-28T00:00:00+01:00x", "+026-11-28T00:00:00Z", "2026-1a-28T00:00:00Z",
		"2026-11-28T00:00:00 Z", "2026/11/28T00:00:00Z", "2026-11-28T0 :00:00Z",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (time_parse_rfc3339(bad[i], &t) != -1) {
			fprintf(stderr, "FAIL %s: \"%s\" accepted\n", h_cur, bad[i]);
			h_cur_failed = 1;
		}
	}
}

static void test_reader(void)
{
	static const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct gpa_rd r;

	rd_init(&r, b, sizeof(b));
	CHECK_INT(rd_u8(&r), 1);
	CHECK_INT(rd_u16le(&r), 0x0302);
	CHECK_INT(rd_u24le(&r), 0x060504);
	CHECK_INT(rd_left(&r), 4);
	CHECK_INT(rd_u32le(&r), 0x0a090807);
	CHECK_INT(rd_left(&r), 0);
	CHECK(!r.failed);
	CHECK_INT(rd_u8(&r), 0);
	CHECK(r.failed);
	rd_init(&r, b, sizeof(b));
	CHECK(rd_bytes(&r, 11) == NULL);
	CHECK(r.failed);
	/* Once failed, stays failed even for reads that would fit. */
	CHECK(rd_bytes(&r, 1) == NULL);
	CHECK_INT(rd_left(&r), 0);
	rd_init(&r, b, sizeof(b));
	CHECK(rd_bytes(&r, 9) == b);
	CHECK_INT(rd_u16le(&r), 0);
	CHECK(r.failed);
	rd_init(&r, b, sizeof(b));
	CHECK(rd_bytes(&r, SIZE_MAX) == NULL);
	rd_init(&r, b, sizeof(b));
	CHECK(rd_bytes(&r, 10) == b);
	CHECK(rd_bytes(&r, 0) == b + 10);
	CHECK(!r.failed);
}

static void test_err_and_strings(void)
{
	struct gpa_err e;
	char longmsg[2000];

	gpa_err_set(&e, "inner %d", 7);
	gpa_err_prefix(&e, "GPU %d", 0);
	gpa_err_prefix(&e, "%s", "file.json");
	CHECK_STREQ(e.msg, "file.json: GPU 0: inner 7");
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	gpa_err_set(&e, "%s", longmsg);
	CHECK_INT(strlen(e.msg), sizeof(e.msg) - 1);
	gpa_err_prefix(&e, "p");
	CHECK_INT(strlen(e.msg), sizeof(e.msg) - 1);
	CHECK(strncmp(e.msg, "p: xxx", 6) == 0);
	gpa_err_set(NULL, "ignored");
	CHECK(str_endswith("report.hex.txt", ".hex.txt"));
	CHECK(!str_endswith("txt", ".hex.txt"));
	CHECK(str_endswith("a", ""));
}

static void test_file_read(void)
{
	char path[] = "/tmp/gpa_test_util_XXXXXX";
	int fd = mkstemp(path);
	struct gpa_err e = {{0}};
	uint8_t *buf;
	size_t len;

	CHECK(fd >= 0);
	CHECK(write(fd, "hello\0world", 11) == 11);
	close(fd);
	CHECK(file_read(path, 11, &buf, &len, &e) == 0);
	CHECK_INT(len, 11);
	CHECK(memcmp(buf, "hello\0world", 11) == 0 && buf[11] == 0);
	free(buf);
	CHECK(file_read(path, 10, &buf, &len, &e) == -1);
	CHECK_CONTAINS(e.msg, "file is 11 bytes, more than the 10 allowed");
	CHECK(buf == NULL);
	unlink(path);
	CHECK(file_read(path, 10, &buf, &len, &e) == -1);
	CHECK_CONTAINS(e.msg, "cannot open");
	CHECK(file_read("/tmp", 10, &buf, &len, &e) == -1);
	CHECK_CONTAINS(e.msg, "not a regular file");
}

/* ---- memory of successes --------------------------------------------------- */

struct claimer {
	uint8_t key[32];
	bool hit;
	int order;		/* when it returned, from a shared counter */
};

static pthread_mutex_t claim_lock = PTHREAD_MUTEX_INITIALIZER;
static int claim_counter;

static void *claim_run(void *arg)
{
	struct claimer *c = arg;

	c->hit = memo_claim(MEMO_CERT_SIGNATURE, c->key);
	pthread_mutex_lock(&claim_lock);
	c->order = ++claim_counter;
	pthread_mutex_unlock(&claim_lock);
	return NULL;
}

static void test_memo(void)
{
	uint8_t k1[32], k2[32];
	struct claimer c;
	pthread_t th;

	memset(k1, 0x11, sizeof(k1));
	memset(k2, 0x22, sizeof(k2));
	memo_set_enabled(true);
	CHECK(!memo_has(MEMO_CERT_SIGNATURE, k1));
	memo_add(MEMO_CERT_SIGNATURE, k1);
	CHECK(memo_has(MEMO_CERT_SIGNATURE, k1));
	CHECK(!memo_has(MEMO_RIM_SIGNATURE, k1));	/* kinds are separate */
	CHECK(memo_claim(MEMO_CERT_SIGNATURE, k1));

	/* k2 is claimed here; another thread asking for it waits until it is
	 * settled, then finds it known. */
	CHECK(!memo_claim(MEMO_CERT_SIGNATURE, k2));
	memcpy(c.key, k2, sizeof(k2));
	claim_counter = 0;
	CHECK_INT(pthread_create(&th, NULL, claim_run, &c), 0);
	usleep(50000);
	pthread_mutex_lock(&claim_lock);
	CHECK_INT(claim_counter, 0);		/* still waiting */
	claim_counter = 1;			/* the settle comes first */
	pthread_mutex_unlock(&claim_lock);
	memo_settle(MEMO_CERT_SIGNATURE, k2, true);
	pthread_join(th, NULL);
	CHECK(c.hit);
	CHECK_INT(c.order, 2);

	/* A failure is not remembered: the waiting thread must do the work. */
	memset(k2, 0x33, sizeof(k2));
	CHECK(!memo_claim(MEMO_CERT_SIGNATURE, k2));
	memcpy(c.key, k2, sizeof(k2));
	CHECK_INT(pthread_create(&th, NULL, claim_run, &c), 0);
	usleep(20000);
	memo_settle(MEMO_CERT_SIGNATURE, k2, false);
	pthread_join(th, NULL);
	CHECK(!c.hit);
	memo_settle(MEMO_CERT_SIGNATURE, k2, false);	/* the second thread's outcome */
	CHECK(!memo_has(MEMO_CERT_SIGNATURE, k2));

	/* Turned off: nothing is known, nothing waits, and it forgets. */
	memo_set_enabled(false);
	CHECK(!memo_claim(MEMO_CERT_SIGNATURE, k1));
	CHECK(!memo_claim(MEMO_CERT_SIGNATURE, k1));
	memo_settle(MEMO_CERT_SIGNATURE, k1, true);
	CHECK(!memo_has(MEMO_CERT_SIGNATURE, k1));
	memo_set_enabled(true);
	CHECK(!memo_has(MEMO_CERT_SIGNATURE, k1));
}

/* ---- work pool ----------------------------------------------------------- */

struct pool_probe {
	pthread_mutex_t lock;
	struct gpa_pool *p;
	int runs[64];
	int order[64];
	int norder;
	pthread_t seen[64];
	int nseen;
};

static void probe_note(struct pool_probe *pp, int id)
{
	pthread_t me = pthread_self();
	bool known = false;

	pthread_mutex_lock(&pp->lock);
	pp->runs[id]++;
	pp->order[pp->norder++] = id;
	for (int i = 0; i < pp->nseen; i++)
		known |= pthread_equal(pp->seen[i], me) != 0;
	if (!known && pp->nseen < 64)
		pp->seen[pp->nseen++] = me;
	pthread_mutex_unlock(&pp->lock);
	usleep(2000);	/* long enough for the other threads to take tasks */
}

struct probe_task {
	struct pool_probe *pp;
	int id;
	int spawn;	/* tasks this one adds when it runs: ids id+1 .. id+spawn */
};

static struct probe_task probe_tasks[64];

static void probe_run(void *arg)
{
	struct probe_task *t = arg;

	probe_note(t->pp, t->id);
	for (int k = 1; k <= t->spawn; k++)
		CHECK_INT(pool_add_first(t->pp->p, probe_run, &probe_tasks[t->id + k]), 0);
}

static void test_pool(void)
{
	static struct pool_probe pp;

	/* Four threads, ten tasks; task 9 adds three more while it runs. */
	memset(&pp, 0, sizeof(pp));
	pthread_mutex_init(&pp.lock, NULL);
	pp.p = pool_new(4);
	CHECK(pp.p != NULL);
	if (pp.p == NULL)
		return;
	for (int i = 0; i < 13; i++)
		probe_tasks[i] = (struct probe_task){&pp, i, 0};
	probe_tasks[9].spawn = 3;	/* task 9 adds 10, 11, 12 while it runs */
	for (int i = 0; i < 10; i++)
		CHECK_INT(pool_add(pp.p, probe_run, &probe_tasks[i]), 0);
	pool_run(pp.p);
	for (int i = 0; i < 13; i++)
		CHECK_INT(pp.runs[i], 1);
	CHECK_INT(pp.norder, 13);
	CHECK(pp.nseen > 1);
	CHECK(pp.nseen <= 4);

	/* One thread: FIFO, and pool_add_first goes to the head. The pool is
	 * used a second time. */
	pool_free(pp.p);
	memset(pp.runs, 0, sizeof(pp.runs));
	pp.norder = 0;
	pp.nseen = 0;
	pp.p = pool_new(1);
	for (int i = 20; i < 24; i++) {
		probe_tasks[i] = (struct probe_task){&pp, i, 0};
		CHECK_INT(pool_add(pp.p, probe_run, &probe_tasks[i]), 0);
	}
	probe_tasks[30] = (struct probe_task){&pp, 30, 0};
	CHECK_INT(pool_add_first(pp.p, probe_run, &probe_tasks[30]), 0);
	pool_run(pp.p);
	CHECK_INT(pp.norder, 5);
	CHECK_INT(pp.order[0], 30);
	for (int i = 1; i < 5; i++)
		CHECK_INT(pp.order[i], 19 + i);
	CHECK_INT(pp.nseen, 1);
	CHECK(pthread_equal(pp.seen[0], pthread_self()) != 0);
	pool_run(pp.p);		/* nothing queued: returns at once */
	CHECK_INT(pp.norder, 5);
	pool_free(pp.p);
	pthread_mutex_destroy(&pp.lock);
}

static void add_square(void *arg, size_t i)
{
	long *out = arg;

	out[i] = (long)(i * i);
}

static void test_parallel_for(void)
{
	static long out[1000];
	long sum = 0;

	for (size_t i = 0; i < 1000; i++)
		out[i] = -1;
	parallel_for(1000, 0, add_square, out);
	for (size_t i = 0; i < 1000; i++) {
		CHECK(out[i] == (long)(i * i));
		sum += out[i];
	}
	CHECK(sum == 332833500L);
	parallel_for(0, 0, add_square, out);	/* nothing to do */
	out[0] = -1;
	parallel_for(1, 3, add_square, out);
	CHECK(out[0] == 0);
	CHECK(cpu_count() >= 1);
}

int main(void)
{
	RUN(test_b64_decode);
	RUN(test_b64_encode_round_trip);
	RUN(test_hex);
	RUN(test_time_parse);
	RUN(test_reader);
	RUN(test_err_and_strings);
	RUN(test_file_read);
	RUN(test_memo);
	RUN(test_pool);
	RUN(test_parallel_for);
	return harness_done("util");
}
