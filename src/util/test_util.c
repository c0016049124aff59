/*
 * Tests for util/: the strict base64 and hex codecs, RFC 3339 time, the
 * bounds-checked reader, error prefixes and capped file reads. Every
 * refusal the codecs make has a case here.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "util/util.h"

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

int main(void)
{
	RUN(test_b64_decode);
	RUN(test_b64_encode_round_trip);
	RUN(test_hex);
	RUN(test_time_parse);
	RUN(test_reader);
	RUN(test_err_and_strings);
	RUN(test_file_read);
	return harness_done("util");
}
