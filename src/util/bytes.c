/* The byte reader and the hex / base64 codecs. Parsers of device data go
 * through rd_*; nothing here trusts a length it did not check. */
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

void rd_init(struct gpa_rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->failed = false;
}

size_t rd_left(const struct gpa_rd *r)
{
	return r->failed ? 0 : r->len - r->off;
}

const uint8_t *rd_bytes(struct gpa_rd *r, size_t n)
{
	const uint8_t *p;

	if (r->failed || n > r->len - r->off) {
		r->failed = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t rd_u8(struct gpa_rd *r)
{
	const uint8_t *p = rd_bytes(r, 1);
	return p ? p[0] : 0;
}

uint16_t rd_u16le(struct gpa_rd *r)
{
	const uint8_t *p = rd_bytes(r, 2);
	return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t rd_u24le(struct gpa_rd *r)
{
	const uint8_t *p = rd_bytes(r, 3);
	return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 : 0;
}

uint32_t rd_u32le(struct gpa_rd *r)
{
	const uint8_t *p = rd_bytes(r, 4);
	return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24 : 0;
}

static void hex_encode_with(const uint8_t *in, size_t n, char *out, const char *digits)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	hex_encode_with(in, n, out, "0123456789abcdef");
}

void hex_encode_upper(const uint8_t *in, size_t n, char *out)
{
	hex_encode_with(in, n, out, "0123456789ABCDEF");
}

char *hex_dup(const uint8_t *in, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (s != NULL)
		hex_encode(in, n, s);
	return s;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long hex_decode(const char *in, size_t len, uint8_t *out, size_t outcap, bool allow_prefix)
{
	if (allow_prefix && len >= 2 && in[0] == '0' && (in[1] == 'x' || in[1] == 'X')) {
		in += 2;
		len -= 2;
	}
	if (len % 2 != 0 || len / 2 > outcap)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_nibble(in[2 * i]), lo = hex_nibble(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(len / 2);
}

/* Each base64 digit's value plus one; 0 for every other byte. A table
 * because evidence files carry tens of kilobytes of base64. */
static const uint8_t b64_digit[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
	['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
	['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23,
	['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37,
	['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44,
	['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50, ['y'] = 51,
	['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58,
	['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

static int b64_value(unsigned char c)
{
	return (int)b64_digit[c] - 1;
}

static bool is_b64_ws(char c)
{
	return c == '\n' || c == '\r' || c == ' ' || c == '\t';
}

int b64_decode(const char *in, size_t len, bool allow_ws, uint8_t **out, size_t *outlen)
{
	uint8_t *buf;
	size_t n = 0, q = 0, pad = 0;
	uint32_t acc = 0;

	*out = NULL;
	*outlen = 0;
	buf = malloc(len / 4 * 3 + 4);
	if (buf == NULL)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v;

		if (allow_ws && is_b64_ws((char)c))
			continue;
		if (c == '=') {
			/* Padding only in the last quantum, at most two. */
			if (q < 2 || ++pad > 2)
				goto bad;
			acc <<= 6;
			if (++q == 4)
				goto quantum;
			continue;
		}
		if (pad > 0 || (v = b64_value(c)) < 0)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		if (++q < 4)
			continue;
quantum:
		buf[n++] = (uint8_t)(acc >> 16);
		if (pad < 2)
			buf[n++] = (uint8_t)(acc >> 8);
		if (pad < 1)
			buf[n++] = (uint8_t)acc;
		/* Non-canonical encodings (stray bits under the padding) are refused. */
		if ((pad == 1 && (acc & 0xff) != 0) || (pad == 2 && (acc & 0xffff) != 0))
			goto bad;
		q = 0;
		acc = 0;
		if (pad > 0) {
			/* Nothing but whitespace may follow the padding. */
			for (i++; i < len; i++)
				if (!(allow_ws && is_b64_ws(in[i])))
					goto bad;
			break;
		}
	}
	if (q != 0)
		goto bad;
	buf[n] = 0;
	*out = buf;
	*outlen = n;
	return 0;
bad:
	free(buf);
	return -1;
}

char *b64_encode(const uint8_t *in, size_t len)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = tbl[v >> 18 & 63];
		*o++ = tbl[v >> 12 & 63];
		*o++ = i + 1 < len ? tbl[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? tbl[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

bool str_endswith(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lf = strlen(suffix);
	return ls >= lf && memcmp(s + ls - lf, suffix, lf) == 0;
}

bool hex64_lower_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 64;
}

size_t bytes_find(const void *p, size_t n, const char *lit)
{
	const uint8_t *b = p;
	size_t m = strlen(lit);

	for (size_t i = 0; m <= n && i <= n - m; i++)
		if (b[i] == (uint8_t)lit[0] && memcmp(b + i, lit, m) == 0)
			return i;
	return SIZE_MAX;
}
