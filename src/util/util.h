/*
 * util: the small pieces every layer shares. Error messages, a bounds-checked
 * byte reader, strict hex and base64, whole-file reads with a size cap, and
 * RFC 3339 time. Nothing here knows about GPUs.
 */
#ifndef GPA_UTIL_H
#define GPA_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* One error message, filled by the first layer that notices a problem and
 * prefixed by the layers above it ("evidence.json: GPU 0: report: ..."). */
struct gpa_err {
	char msg[1024];
};

void gpa_err_set(struct gpa_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prepend "prefix: " to the message already in e. */
void gpa_err_prefix(struct gpa_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append the OpenSSL error queue (and clear it) to the message. */
void gpa_err_openssl(struct gpa_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A cursor over untrusted bytes. Every read checks the remaining length;
 * after the first failure the reader stays failed, so a parser can read a
 * run of fields and check once. */
struct gpa_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool failed;
};

void rd_init(struct gpa_rd *r, const uint8_t *p, size_t len);
size_t rd_left(const struct gpa_rd *r);
uint8_t rd_u8(struct gpa_rd *r);
uint16_t rd_u16le(struct gpa_rd *r);
uint32_t rd_u24le(struct gpa_rd *r);
uint32_t rd_u32le(struct gpa_rd *r);
/* Returns a pointer into the buffer, or NULL (and fails) if n bytes are not there. */
const uint8_t *rd_bytes(struct gpa_rd *r, size_t n);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);
/* Exactly 64 lowercase hex digits (a SHA-256 in hex: cache and bundle keys). */
bool hex64_lower_valid(const char *s);
/* Offset of the first lit (a C string, not empty) in n bytes that may hold
 * NULs; SIZE_MAX when absent. */
size_t bytes_find(const void *p, size_t n, const char *lit);
void hex_encode_upper(const uint8_t *in, size_t n, char *out);
/* malloc'd lowercase hex; NULL on allocation failure. */
char *hex_dup(const uint8_t *in, size_t n);
/* Strict: only [0-9a-fA-F], even length, optional "0x"/"0X" prefix when
 * allow_prefix. Returns decoded length or -1. out must hold len/2 bytes. */
long hex_decode(const char *in, size_t len, uint8_t *out, size_t outcap, bool allow_prefix);

/* Strict RFC 4648 base64 (standard alphabet, '=' padding required, no
 * whitespace unless allow_ws, no trailing garbage). malloc'd output, NUL
 * terminated for convenience (the NUL is not counted). 0 ok, -1 bad input. */
int b64_decode(const char *in, size_t len, bool allow_ws, uint8_t **out, size_t *outlen);
/* malloc'd NUL-terminated base64. */
char *b64_encode(const uint8_t *in, size_t len);

/* Reads a whole regular file of at most max bytes. The buffer is NUL
 * terminated (not counted in *len). 0 ok, -1 with a message naming the file. */
int file_read(const char *path, size_t max, uint8_t **buf, size_t *len, struct gpa_err *e);
/* Writes atomically: temp file in the same directory, fsync, rename. */
int file_write_atomic(const char *path, const void *buf, size_t len, struct gpa_err *e);

/* RFC 3339 / ISO 8601 UTC ("2024-01-01T00:00:00Z", offsets "+01:00" accepted,
 * fractional seconds ignored). 0 ok, -1 bad. */
int time_parse_rfc3339(const char *s, time_t *out);
/* "YYYY-MM-DDTHH:MM:SSZ" into out[21]. */
void time_format_rfc3339(time_t t, char out[21]);

/* Fills buf from the OS CSPRNG (getrandom). 0 ok, -1 failure. */
int random_bytes(void *buf, size_t n);

/* Memory of successful computations (memo.c), keyed by a SHA-256 that binds
 * all their inputs, in separate kinds. Turning it off also forgets. */
enum { MEMO_CERT_SIGNATURE = 1, MEMO_RIM_SIGNATURE = 2 };
bool memo_has(uint8_t kind, const uint8_t key[32]);
void memo_add(uint8_t kind, const uint8_t key[32]);
/* The same for work several threads may start at once (the intermediates
 * every GPU chain shares): true when the key is known; false when the
 * caller must do the work and then call memo_settle with its outcome. A
 * caller whose key another thread is working on waits for that outcome
 * first, so the work is done once. */
bool memo_claim(uint8_t kind, const uint8_t key[32]);
void memo_settle(uint8_t kind, const uint8_t key[32], bool ok);
void memo_set_enabled(bool on);
void memo_stats(unsigned long *hits, unsigned long *misses);

/* snprintf into a message buffer, where truncation is acceptable. */
void str_printf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Case-sensitive check that s ends with suffix. */
bool str_endswith(const char *s, const char *suffix);

#endif
