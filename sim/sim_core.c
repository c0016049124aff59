/*
 * sim_core: configuration, faults, simulated devices, golden values and
 * SPDM report framing shared by the simulated NVML and NSCQ libraries.
 * See sim_core.h. Simulation only: never linked into the verifier.
 */
#include "sim_core.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#define SIM_MAX_FILE (1u << 20)

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---------------- small helpers ---------------- */

void sim_hex(const uint8_t *in, size_t n, char *out, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 2*n hex digits. */
static int unhex_exact(const char *s, size_t slen, uint8_t *out, size_t n)
{
	if (slen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int sim_random(void *buf, size_t n)
{
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

int sim_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *p;

	*buf = NULL;
	*len = 0;
	if (f == NULL)
		return -1;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (unsigned long long)st.st_size > max) {
		fclose(f);
		errno = EINVAL;
		return -1;
	}
	p = malloc((size_t)st.st_size + 1);
	if (p == NULL) {
		fclose(f);
		return -1;
	}
	if (fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size || fgetc(f) != EOF) {
		free(p);
		fclose(f);
		errno = EIO;
		return -1;
	}
	fclose(f);
	p[st.st_size] = '\0';
	*buf = p;
	*len = (size_t)st.st_size;
	return 0;
}

static size_t trim_trailing_space(const uint8_t *p, size_t n)
{
	while (n > 0 && isspace(p[n - 1]))
		n--;
	return n;
}

int sim_read_report(const char *path, uint8_t **buf, size_t *len)
{
	uint8_t *raw;
	size_t n, t;
	bool is_hex = true;

	if (sim_read_file(path, SIM_MAX_FILE, &raw, &n) != 0)
		return -1;
	t = trim_trailing_space(raw, n);
	for (size_t i = 0; i < t && is_hex; i++)
		is_hex = hexval(raw[i]) >= 0;
	if (!is_hex || t == 0 || t % 2 != 0) {
		*buf = raw;
		*len = n;
		return 0;
	}
	/* Hex text decodes in place: the output never outruns the input. */
	if (unhex_exact((const char *)raw, t, raw, t / 2) != 0) {
		free(raw);
		return -1;
	}
	*buf = raw;
	*len = t / 2;
	return 0;
}

/* ---------------- byte buffer ---------------- */

void buf_put(struct sim_buf *b, const void *data, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

void buf_u8(struct sim_buf *b, uint8_t v)
{
	buf_put(b, &v, 1);
}

void buf_u16le(struct sim_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	buf_put(b, x, 2);
}

void buf_u32le(struct sim_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	buf_put(b, x, 4);
}

void buf_entry(struct sim_buf *b, bool nvdaod, uint16_t type, uint16_t value_type,
    const void *data, size_t n)
{
	if (n > 0xffff) {
		b->failed = true;
		return;
	}
	buf_u16le(b, type);
	if (nvdaod)
		buf_u16le(b, value_type);
	buf_u16le(b, (uint16_t)n);
	buf_put(b, data, n);
}

void buf_tlv(struct sim_buf *b, uint16_t type, const void *data, size_t n)
{
	if (n > 0xffff) {
		b->failed = true;
		return;
	}
	buf_u16le(b, type);
	buf_u16le(b, (uint16_t)n);
	buf_put(b, data, n);
}

void buf_free(struct sim_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---------------- golden values ---------------- */

unsigned sim_alternatives(const char *component, unsigned i)
{
	if (strcmp(component, "driver") == 0) {
		if (i == 35)
			return 2;
		return (i == 7 || (i >= 21 && i <= 40)) ? 1 : 0;
	}
	if (strcmp(component, "vbios") == 0) {
		if (i == 12)
			return 4;
		return (i <= 12 && i != 7) ? 1 : 0;
	}
	if (strcmp(component, "switch") == 0) {
		if (i >= 9 && i <= 25)
			return 4;
		return i <= 30 ? 1 : 0;
	}
	return 0;
}

void sim_sha384_str(const char *s, uint8_t out[SIM_DIGEST_LEN])
{
	SHA384((const unsigned char *)s, strlen(s), out);
}

void sim_golden(const char *component, const char *version, unsigned index, unsigned alt,
    uint8_t out[SIM_DIGEST_LEN])
{
	char s[256];

	snprintf(s, sizeof(s), "gpuattest-sim|%s|%s|%u|%u", component, version, index, alt);
	sim_sha384_str(s, out);
}

/* ---------------- SPDM framing ---------------- */

static int sign_raw_rs(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t out[SIM_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t der[160];
	size_t derlen = sizeof(der);
	const unsigned char *p = der;
	ECDSA_SIG *sig = NULL;
	const BIGNUM *r, *s;
	int rc = -1;

	if (ctx == NULL)
		return -1;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha384(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, der, &derlen, msg, len) != 1)
		goto out;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	if (sig == NULL)
		goto out;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, out, 48) != 48 || BN_bn2binpad(s, out + 48, 48) != 48)
		goto out;
	rc = 0;
out:
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	return rc;
}

int sim_spdm_build(const struct sim_spdm *s, struct sim_buf *out)
{
	static const uint8_t req_head[4] = { 0x11, 0xE0, 0x01, 0xFF };
	static const uint8_t resp_head[4] = { 0x11, 0x60, 0x00, 0x00 };
	uint8_t responder_nonce[SIM_NONCE_LEN], sig[SIM_SIG_LEN];
	uint32_t record_len = s->nblocks * (4u + 3u + SIM_DIGEST_LEN);

	out->len = 0;
	if (s->nblocks == 0 || s->nblocks > 255 || s->opaque_len > 0xffff ||
	    sim_random(responder_nonce, sizeof(responder_nonce)) != 0)
		return -1;
	buf_put(out, req_head, sizeof(req_head));
	buf_put(out, s->request_nonce, SIM_NONCE_LEN);
	buf_u8(out, 0x00); /* SlotIDParam */
	buf_put(out, resp_head, sizeof(resp_head));
	buf_u8(out, (uint8_t)s->nblocks);
	buf_u8(out, (uint8_t)record_len);
	buf_u8(out, (uint8_t)(record_len >> 8));
	buf_u8(out, (uint8_t)(record_len >> 16));
	for (unsigned i = 0; i < s->nblocks; i++) {
		buf_u8(out, (uint8_t)(i + 1));   /* SPDM block indices are 1-based */
		buf_u8(out, 0x01);               /* DMTF measurement specification */
		buf_u16le(out, 3 + SIM_DIGEST_LEN);
		buf_u8(out, 0x01);               /* value type as in NVIDIA's reports */
		buf_u16le(out, SIM_DIGEST_LEN);
		buf_put(out, s->values[i], SIM_DIGEST_LEN);
	}
	buf_put(out, responder_nonce, sizeof(responder_nonce));
	buf_u16le(out, (uint16_t)s->opaque_len);
	buf_put(out, s->opaque, s->opaque_len);
	if (out->failed || sign_raw_rs(s->key, out->p, out->len, sig) != 0)
		return -1;
	if (s->corrupt_signature)
		sig[20] ^= 0x01; /* still 96 well-formed bytes, but no longer valid */
	buf_put(out, sig, sizeof(sig));
	return out->failed ? -1 : 0;
}

/* ---------------- devices ---------------- */

static int read_hex_file(const char *path, uint8_t *out, size_t n)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (sim_read_file(path, 4096, &buf, &len) != 0)
		return -1;
	rc = unhex_exact((const char *)buf, trim_trailing_space(buf, len), out, n);
	free(buf);
	return rc;
}

int sim_pdi_load(const char *pki, const char *kind, unsigned n, uint8_t pdi[SIM_PDI_LEN],
    char *err, size_t errlen)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s%u/pdi", pki, kind, n);
	if (read_hex_file(path, pdi, SIM_PDI_LEN) != 0) {
		seterr(err, errlen, "%s: missing or not 16 hex digits (run sim/make-pki.sh)", path);
		return -1;
	}
	return 0;
}

static EVP_PKEY *load_p384_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (f == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k != NULL && (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC || EVP_PKEY_get_bits(k) != 384)) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	return k;
}

int sim_device_load(const char *pki, const char *kind, unsigned n, struct sim_device *d,
    char *err, size_t errlen)
{
	char path[PATH_MAX + 64];
	uint8_t *chain;
	size_t chain_len;

	memset(d, 0, sizeof(*d));
	if (sim_pdi_load(pki, kind, n, d->pdi, err, errlen) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s%u/fwid", pki, kind, n);
	if (read_hex_file(path, d->fwid, SIM_FWID_LEN) != 0) {
		seterr(err, errlen, "%s: missing or not 96 hex digits", path);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s%u/leaf.key", pki, kind, n);
	d->key = load_p384_key(path);
	if (d->key == NULL) {
		seterr(err, errlen, "%s: not a P-384 private key", path);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s%u/chain.pem", pki, kind, n);
	if (sim_read_file(path, SIM_MAX_FILE, &chain, &chain_len) != 0) {
		seterr(err, errlen, "%s: cannot read", path);
		sim_device_free(d);
		return -1;
	}
	d->chain = (char *)chain;
	d->chain_len = chain_len;
	return 0;
}

void sim_device_free(struct sim_device *d)
{
	EVP_PKEY_free(d->key);
	free(d->chain);
	memset(d, 0, sizeof(*d));
}

/* ---------------- configuration ---------------- */

struct kindname {
	const char *name;
	enum sim_fault_kind kind;
};

static const struct kindname fault_kinds[] = {
	{ "tampered_measurement", SIM_FAULT_TAMPERED_MEASUREMENT },
	{ "ignore_nonce", SIM_FAULT_IGNORE_NONCE },
	{ "bad_signature", SIM_FAULT_BAD_SIGNATURE },
	{ "swapped_chain", SIM_FAULT_SWAPPED_CHAIN },
	{ "nvml_error", SIM_FAULT_NVML_ERROR },
	{ "no_fwid", SIM_FAULT_NO_FWID },
	{ "report_driver_version", SIM_FAULT_REPORT_DRIVER_VERSION },
	{ "nvml_arch", SIM_FAULT_NVML_ARCH },
	{ "missing_switch", SIM_FAULT_MISSING_SWITCH },
	{ "foreign_switch", SIM_FAULT_FOREIGN_SWITCH },
	{ "gpu_wired_elsewhere", SIM_FAULT_GPU_WIRED_ELSEWHERE },
	{ "duplicate_pdi", SIM_FAULT_DUPLICATE_PDI },
	{ "lock_off", SIM_FAULT_LOCK_OFF },
	{ "tampered_switch_measurement", SIM_FAULT_TAMPERED_SWITCH_MEASUREMENT },
	{ "nscq_error", SIM_FAULT_NSCQ_ERROR },
};

/* Resolves a config path relative to the config file's directory. */
static int resolve_path(const char *base_dir, const char *p, char *out, size_t outlen)
{
	int n;

	if (p[0] == '/' || base_dir[0] == '\0')
		n = snprintf(out, outlen, "%s", p);
	else
		n = snprintf(out, outlen, "%s/%s", base_dir, p);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

static int get_string(json_t *root, const char *key, char *out, size_t outlen, bool required,
    char *err, size_t errlen)
{
	json_t *v = json_object_get(root, key);

	if (v == NULL) {
		if (required) {
			seterr(err, errlen, "\"%s\" is required", key);
			return -1;
		}
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= outlen ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		seterr(err, errlen, "\"%s\" must be a non-empty string shorter than %zu bytes", key, outlen);
		return -1;
	}
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int get_uint(json_t *root, const char *key, unsigned *out, unsigned max, char *err, size_t errlen)
{
	json_t *v = json_object_get(root, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (json_int_t)max) {
		seterr(err, errlen, "\"%s\" must be an integer 0..%u", key, max);
		return -1;
	}
	*out = (unsigned)json_integer_value(v);
	return 0;
}

static bool only_keys(json_t *obj, const char *const *allowed, const char **bad)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		bool ok = false;
		for (size_t i = 0; allowed[i] != NULL && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			*bad = key;
			return false;
		}
	}
	return true;
}

static int parse_fault_int(json_t *f, const char *key, int *out, int min, int max, char *err, size_t errlen)
{
	json_t *v = json_object_get(f, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		seterr(err, errlen, "fault \"%s\" must be an integer %d..%d", key, min, max);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

/* Which optional/required members each kind takes. */
static int check_fault_members(const struct sim_fault *f, json_t *obj, const char *kind,
    char *err, size_t errlen)
{
	bool need_index = f->kind == SIM_FAULT_TAMPERED_MEASUREMENT ||
	    f->kind == SIM_FAULT_TAMPERED_SWITCH_MEASUREMENT;
	bool need_function = f->kind == SIM_FAULT_NVML_ERROR || f->kind == SIM_FAULT_NSCQ_ERROR;
	bool need_value = f->kind == SIM_FAULT_REPORT_DRIVER_VERSION || f->kind == SIM_FAULT_NVML_ARCH;
	bool need_gpu = f->kind == SIM_FAULT_GPU_WIRED_ELSEWHERE;

	if (need_index != (json_object_get(obj, "index") != NULL) ||
	    need_function != (json_object_get(obj, "function") != NULL) ||
	    need_function != (json_object_get(obj, "code") != NULL) ||
	    need_value != (json_object_get(obj, "value") != NULL) || (need_gpu && f->gpu < 0)) {
		seterr(err, errlen, "fault \"%s\": %s%s%s%swrong members", kind,
		    need_index ? "needs \"index\"; " : "", need_function ? "needs \"function\" and \"code\"; " : "",
		    need_value ? "needs \"value\"; " : "", need_gpu ? "needs \"gpu\"; " : "");
		return -1;
	}
	if (need_function && f->code == 0) {
		seterr(err, errlen, "fault \"%s\": \"code\" must be non-zero", kind);
		return -1;
	}
	if (f->gpu >= 0 && f->sw >= 0) {
		seterr(err, errlen, "fault \"%s\": give \"gpu\" or \"switch\", not both", kind);
		return -1;
	}
	if (f->index >= 0 && f->index >= (f->kind == SIM_FAULT_TAMPERED_MEASUREMENT ? SIM_GPU_BLOCKS
	    : SIM_SWITCH_BLOCKS)) {
		seterr(err, errlen, "fault \"%s\": index %d out of range", kind, f->index);
		return -1;
	}
	return 0;
}

static int parse_fault(json_t *obj, struct sim_fault *f, char *err, size_t errlen)
{
	static const char *const allowed[] = { "kind", "gpu", "switch", "index", "function", "code",
		"value", NULL };
	const char *bad = NULL, *kind;
	json_t *k = json_object_get(obj, "kind");
	size_t i;

	memset(f, 0, sizeof(*f));
	f->gpu = f->sw = f->index = -1;
	if (!json_is_object(obj) || !json_is_string(k)) {
		seterr(err, errlen, "each fault must be an object with a string \"kind\"");
		return -1;
	}
	if (!only_keys(obj, allowed, &bad)) {
		seterr(err, errlen, "fault: unknown member \"%s\"", bad);
		return -1;
	}
	kind = json_string_value(k);
	for (i = 0; i < sizeof(fault_kinds) / sizeof(fault_kinds[0]); i++)
		if (strcmp(kind, fault_kinds[i].name) == 0)
			break;
	if (i == sizeof(fault_kinds) / sizeof(fault_kinds[0])) {
		seterr(err, errlen, "unknown fault kind \"%s\"", kind);
		return -1;
	}
	f->kind = fault_kinds[i].kind;
	if (parse_fault_int(obj, "gpu", &f->gpu, 0, SIM_MAX_DEVICES - 1, err, errlen) != 0 ||
	    parse_fault_int(obj, "switch", &f->sw, 0, SIM_MAX_DEVICES - 1, err, errlen) != 0 ||
	    parse_fault_int(obj, "index", &f->index, 0, 63, err, errlen) != 0 ||
	    parse_fault_int(obj, "code", &f->code, -128, 0x7fffffff, err, errlen) != 0 ||
	    get_string(obj, "function", f->function, sizeof(f->function), false, err, errlen) != 0 ||
	    get_string(obj, "value", f->value, sizeof(f->value), false, err, errlen) != 0)
		return -1;
	return check_fault_members(f, obj, kind, err, errlen);
}

static int parse_faults(json_t *root, struct sim_config *c, char *err, size_t errlen)
{
	json_t *arr = json_object_get(root, "faults"), *v;
	size_t i;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr)) {
		seterr(err, errlen, "\"faults\" must be an array");
		return -1;
	}
	if (json_array_size(arr) == 0)
		return 0;
	c->faults = calloc(json_array_size(arr), sizeof(*c->faults));
	if (c->faults == NULL)
		return -1;
	json_array_foreach(arr, i, v) {
		if (parse_fault(v, &c->faults[i], err, errlen) != 0)
			return -1;
		c->nfaults++;
	}
	return 0;
}

static int parse_replay_entry(json_t *obj, const char *dir, struct sim_replay *r, char *err, size_t errlen)
{
	char rep[PATH_MAX], chain[PATH_MAX], path[PATH_MAX];
	uint8_t *buf;
	size_t len;

	rep[0] = chain[0] = '\0';
	if (!json_is_object(obj) || json_object_size(obj) != 2 ||
	    get_string(obj, "report", rep, sizeof(rep), true, err, errlen) != 0 ||
	    get_string(obj, "chain", chain, sizeof(chain), true, err, errlen) != 0) {
		seterr(err, errlen, "each replay entry must be {\"report\": PATH, \"chain\": PATH}");
		return -1;
	}
	if (resolve_path(dir, rep, path, sizeof(path)) != 0 || sim_read_report(path, &r->report, &r->report_len) != 0) {
		seterr(err, errlen, "replay report %s: cannot read", rep);
		return -1;
	}
	if (r->report_len == 0 || r->report_len > 0x2000) {
		seterr(err, errlen, "replay report %s: %zu bytes does not fit NVML's 8192-byte buffer", rep,
		    r->report_len);
		return -1;
	}
	if (resolve_path(dir, chain, path, sizeof(path)) != 0 || sim_read_file(path, 0x1400, &buf, &len) != 0) {
		seterr(err, errlen, "replay chain %s: cannot read, or larger than 5120 bytes", chain);
		return -1;
	}
	r->chain = (char *)buf;
	r->chain_len = len;
	return 0;
}

static int parse_replay(json_t *root, const char *dir, struct sim_config *c, char *err, size_t errlen)
{
	json_t *arr = json_object_get(root, "replay"), *v;
	size_t i;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > SIM_MAX_DEVICES) {
		seterr(err, errlen, "\"replay\" must be a non-empty array of at most %d entries", SIM_MAX_DEVICES);
		return -1;
	}
	c->replay = calloc(json_array_size(arr), sizeof(*c->replay));
	if (c->replay == NULL)
		return -1;
	json_array_foreach(arr, i, v) {
		c->nreplay++;
		if (parse_replay_entry(v, dir, &c->replay[i], err, errlen) != 0)
			return -1;
	}
	return 0;
}

static bool valid_vbios(const char *v)
{
	/* "96.00.9F.00.04": five hex pairs separated by dots. */
	if (strlen(v) != 14)
		return false;
	for (int i = 0; i < 14; i++) {
		if (i % 3 == 2 ? v[i] != '.' : hexval((unsigned char)v[i]) < 0)
			return false;
	}
	return true;
}

static bool valid_ascii_id(const char *s, size_t maxlen)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return n >= 1 && n <= maxlen;
}

static void set_defaults(struct sim_config *c)
{
	memset(c, 0, sizeof(*c));
	c->gpus = 1;
	snprintf(c->driver_version, sizeof(c->driver_version), "595.71.05");
	snprintf(c->vbios_version, sizeof(c->vbios_version), "96.00.9F.00.04");
	snprintf(c->project, sizeof(c->project), "1010");
	snprintf(c->project_sku, sizeof(c->project_sku), "0210");
	snprintf(c->chip_sku, sizeof(c->chip_sku), "886");
	snprintf(c->switch_bios_version, sizeof(c->switch_bios_version), "96.10.55.00.01");
	c->opaque_version = 2;
	c->fsp_ucode_svn = 1;
	c->unknown_opaque_id = 38;
	c->cc_feature = 1;
	c->environment = 2;
	c->cpu_caps = 2;
	c->gpus_caps = 1;
}

static int parse_scalars(json_t *root, const char *dir, struct sim_config *c, char *err, size_t errlen)
{
	char pki[PATH_MAX] = "", ready[PATH_MAX] = "", layout[16] = "legacy";

	if (get_string(root, "pki", pki, sizeof(pki), false, err, errlen) != 0 ||
	    get_uint(root, "gpus", &c->gpus, SIM_MAX_DEVICES, err, errlen) != 0 ||
	    get_uint(root, "switches", &c->switches, SIM_MAX_DEVICES, err, errlen) != 0 ||
	    get_string(root, "driver_version", c->driver_version, sizeof(c->driver_version), false, err, errlen) ||
	    get_string(root, "nvml_driver_version", c->nvml_driver_version, sizeof(c->nvml_driver_version),
		false, err, errlen) ||
	    get_string(root, "vbios_version", c->vbios_version, sizeof(c->vbios_version), false, err, errlen) ||
	    get_string(root, "nvml_vbios_version", c->nvml_vbios_version, sizeof(c->nvml_vbios_version),
		false, err, errlen) ||
	    get_string(root, "project", c->project, sizeof(c->project), false, err, errlen) ||
	    get_string(root, "project_sku", c->project_sku, sizeof(c->project_sku), false, err, errlen) ||
	    get_string(root, "chip_sku", c->chip_sku, sizeof(c->chip_sku), false, err, errlen) ||
	    get_string(root, "switch_bios_version", c->switch_bios_version, sizeof(c->switch_bios_version),
		false, err, errlen) ||
	    get_string(root, "ready_state_file", ready, sizeof(ready), false, err, errlen) ||
	    get_uint(root, "cc_feature", &c->cc_feature, 1, err, errlen) ||
	    get_uint(root, "multi_gpu_mode", &c->multi_gpu_mode, 2, err, errlen) ||
	    get_uint(root, "dev_tools", &c->dev_tools, 1, err, errlen) ||
	    get_uint(root, "environment", &c->environment, 2, err, errlen) ||
	    get_uint(root, "cpu_caps", &c->cpu_caps, 4, err, errlen) ||
	    get_uint(root, "gpus_caps", &c->gpus_caps, 1, err, errlen) ||
	    get_string(root, "opaque_layout", layout, sizeof(layout), false, err, errlen) ||
	    get_uint(root, "opaque_version", &c->opaque_version, 255, err, errlen) ||
	    get_uint(root, "fsp_ucode_svn", &c->fsp_ucode_svn, 65535, err, errlen) ||
	    get_uint(root, "unknown_opaque_id", &c->unknown_opaque_id, 65535, err, errlen))
		return -1;
	if (strcmp(layout, "legacy") != 0 && strcmp(layout, "nvdaod") != 0) {
		seterr(err, errlen, "\"opaque_layout\" must be \"legacy\" or \"nvdaod\"");
		return -1;
	}
	c->nvdaod = strcmp(layout, "nvdaod") == 0;
	if (pki[0] != '\0' && resolve_path(dir, pki, c->pki, sizeof(c->pki)) != 0) {
		seterr(err, errlen, "\"pki\" path too long");
		return -1;
	}
	if (ready[0] != '\0' && resolve_path(dir, ready, c->ready_state_file, sizeof(c->ready_state_file)) != 0) {
		seterr(err, errlen, "\"ready_state_file\" path too long");
		return -1;
	}
	for (char *p = c->vbios_version; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (!valid_vbios(c->vbios_version) || !valid_vbios(c->switch_bios_version)) {
		seterr(err, errlen, "\"vbios_version\"/\"switch_bios_version\" must look like 96.00.9F.00.04");
		return -1;
	}
	if (!valid_ascii_id(c->project, 4) || !valid_ascii_id(c->project_sku, 4) || !valid_ascii_id(c->chip_sku, 8)) {
		seterr(err, errlen, "\"project\"/\"project_sku\" must be 1-4 and \"chip_sku\" 1-8 alphanumerics");
		return -1;
	}
	return 0;
}

static int parse_config(json_t *root, const char *dir, struct sim_config *c, char *err, size_t errlen)
{
	static const char *const allowed[] = { "pki", "gpus", "switches", "driver_version",
		"nvml_driver_version", "vbios_version", "nvml_vbios_version", "project", "project_sku", "chip_sku",
		"switch_bios_version", "cc_feature", "multi_gpu_mode", "dev_tools", "environment",
		"cpu_caps", "gpus_caps", "ready_state_file", "faults", "replay", "opaque_layout",
		"opaque_version", "fsp_ucode_svn", "unknown_opaque_id", NULL };
	const char *bad = NULL;

	if (!json_is_object(root)) {
		seterr(err, errlen, "top level must be an object");
		return -1;
	}
	if (!only_keys(root, allowed, &bad)) {
		seterr(err, errlen, "unknown key \"%s\"", bad);
		return -1;
	}
	if (parse_scalars(root, dir, c, err, errlen) != 0 || parse_faults(root, c, err, errlen) != 0 ||
	    parse_replay(root, dir, c, err, errlen) != 0)
		return -1;
	if (c->nreplay > 0) {
		if (json_object_get(root, "gpus") != NULL && c->gpus != c->nreplay) {
			seterr(err, errlen, "\"gpus\" disagrees with the number of replay entries");
			return -1;
		}
		c->gpus = (unsigned)c->nreplay;
	} else if (c->pki[0] == '\0' && (c->gpus > 0 || c->switches > 0)) {
		seterr(err, errlen, "\"pki\" is required unless \"replay\" is given");
		return -1;
	}
	if (c->nreplay > 0 && c->switches > 0 && c->pki[0] == '\0') {
		seterr(err, errlen, "\"pki\" is required for switches");
		return -1;
	}
	/* A fault aimed at a device that does not exist would silently do
	 * nothing and make a negative test pass for the wrong reason. */
	for (size_t i = 0; i < c->nfaults; i++) {
		if (c->faults[i].gpu >= (int)c->gpus || c->faults[i].sw >= (int)c->switches) {
			seterr(err, errlen, "fault %zu names a device beyond \"gpus\": %u / \"switches\": %u", i,
			    c->gpus, c->switches);
			return -1;
		}
	}
	return 0;
}

int sim_config_load(struct sim_config *c, char *err, size_t errlen)
{
	const char *path = getenv(SIM_CONFIG_ENV);
	char dir[PATH_MAX];
	const char *slash;
	json_error_t jerr;
	json_t *root;
	uint8_t *text;
	size_t len;
	int rc;

	set_defaults(c);
	if (path == NULL || path[0] == '\0') {
		seterr(err, errlen, "%s is not set", SIM_CONFIG_ENV);
		return -1;
	}
	slash = strrchr(path, '/');
	if (slash == NULL)
		dir[0] = '\0';
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
	if (sim_read_file(path, SIM_MAX_FILE, &text, &len) != 0) {
		seterr(err, errlen, "%s: cannot read", path);
		return -2;
	}
	root = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (root == NULL) {
		seterr(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
		return -2;
	}
	rc = parse_config(root, dir, c, err, errlen);
	json_decref(root);
	if (rc != 0) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", err);
		seterr(err, errlen, "%s: %s", path, msg);
		sim_config_free(c);
		return -2;
	}
	return 0;
}

void sim_config_free(struct sim_config *c)
{
	for (size_t i = 0; i < c->nreplay; i++) {
		free(c->replay[i].report);
		free(c->replay[i].chain);
	}
	free(c->replay);
	free(c->faults);
	c->replay = NULL;
	c->faults = NULL;
	c->nreplay = c->nfaults = 0;
}

/* ---------------- fault lookup ---------------- */

const struct sim_fault *sim_fault_for_gpu(const struct sim_config *c, enum sim_fault_kind k, unsigned g)
{
	for (size_t i = 0; i < c->nfaults; i++) {
		const struct sim_fault *f = &c->faults[i];
		if (f->kind == k && (f->gpu == (int)g || (f->gpu < 0 && f->sw < 0)))
			return f;
	}
	return NULL;
}

const struct sim_fault *sim_fault_for_switch(const struct sim_config *c, enum sim_fault_kind k,
    unsigned s, bool absent_matches)
{
	for (size_t i = 0; i < c->nfaults; i++) {
		const struct sim_fault *f = &c->faults[i];
		if (f->kind == k && (f->sw == (int)s || (absent_matches && f->sw < 0 && f->gpu < 0)))
			return f;
	}
	return NULL;
}

int sim_fault_error_code(const struct sim_config *c, enum sim_fault_kind k, const char *function, int device)
{
	for (size_t i = 0; i < c->nfaults; i++) {
		const struct sim_fault *f = &c->faults[i];
		int target = k == SIM_FAULT_NVML_ERROR ? f->gpu : f->sw;
		if (f->kind == k && strcmp(f->function, function) == 0 && (target < 0 || target == device))
			return f->code;
	}
	return 0;
}
