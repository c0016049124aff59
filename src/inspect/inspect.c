/*
 * inspect: builds the `gpuattest inspect` document (jansson) from a parsed
 * report, what report_info_derive got out of it and the device chain, and
 * renders that document as text.
 *
 * Must never: verify or judge anything (a dump is not a verdict), read
 * report bytes other than through the spdm_report views, or put bytes from
 * the device into the output unescaped: every string from the report or a
 * certificate is printable ASCII or valid UTF-8 before jansson sees it.
 */
#include "inspect/inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/err.h>

#include "x509/x509.h"

#define MAX_CHAIN_CERTS 16

/* Tracks allocation failure across the many small jansson calls, so the
 * builders stay linear and the caller checks once. */
struct jb {
	bool oom;
};

static void put(struct jb *b, json_t *obj, const char *key, json_t *v)
{
	if (v == NULL || obj == NULL || json_object_set_new(obj, key, v) != 0)
		b->oom = true;
}

static void push(struct jb *b, json_t *arr, json_t *v)
{
	if (v == NULL || arr == NULL || json_array_append_new(arr, v) != 0)
		b->oom = true;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *s = hex_dup(p, n);
	json_t *v = s ? json_string(s) : NULL;

	free(s);
	return v;
}

static json_t *hex_upper_json(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	json_t *v = NULL;

	if (s != NULL) {
		hex_encode_upper(p, n, s);
		v = json_string(s);
	}
	free(s);
	return v;
}

static json_t *byte_hex_json(uint8_t b)
{
	char s[3];

	hex_encode(&b, 1, s);
	return json_string(s);
}

/* Device-supplied text: printable ASCII kept, anything else as \xNN, so a
 * hostile field can neither break the JSON nor drive a terminal. */
static json_t *ascii_json(const uint8_t *p, size_t n)
{
	char *s = malloc(4 * n + 1), *o = s;
	json_t *v;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			*o++ = (char)p[i];
		else
			o += snprintf(o, 5, "\\x%02x", p[i]);
	}
	*o = '\0';
	v = json_string(s);
	free(s);
	return v;
}

/* An opaque string field up to its first NUL. */
static json_t *cstr_field_json(const struct opaque_field *f)
{
	const uint8_t *nul = memchr(f->value, 0, f->len);

	return ascii_json(f->value, nul ? (size_t)(nul - f->value) : f->len);
}

/* Text from OpenSSL (certificate names): used as is when it is valid UTF-8,
 * escaped otherwise. */
static json_t *text_json(const char *s)
{
	json_t *v;

	if (s == NULL)
		return json_null();
	v = json_string(s);
	return v ? v : ascii_json((const uint8_t *)s, strlen(s));
}

/* Little-endian unsigned of up to 7 bytes (always fits a json_int_t). */
static json_t *le_uint_json(const uint8_t *p, size_t n)
{
	unsigned long long v = 0;

	if (n == 0 || n > 7)
		return NULL;
	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return json_integer((json_int_t)v);
}

static const char *aa55_name(uint8_t b)
{
	return b == NVDEC0_ENABLED ? "enabled" : b == NVDEC0_DISABLED ? "disabled" : "invalid";
}

static json_t *req_json(struct jb *b, const struct spdm_report *r)
{
	json_t *o = json_object();

	put(b, o, "SPDMVersion", byte_hex_json(r->req.version));
	put(b, o, "RequestResponseCode", byte_hex_json(r->req.code));
	put(b, o, "Param1", byte_hex_json(r->req.param1));
	put(b, o, "Param2", byte_hex_json(r->req.param2));
	put(b, o, "Nonce", hex_json(r->req.nonce, SPDM_NONCE_LEN));
	put(b, o, "SlotIDParam", byte_hex_json(r->req.slot_id));
	return o;
}

static json_t *blocks_json(struct jb *b, const struct spdm_report *r)
{
	json_t *o = json_object();

	for (int i = 0; i < r->nblocks; i++) {
		const struct spdm_block *blk = &r->blocks[i];
		json_t *m = json_object();
		char key[8];

		put(b, m, "Index", json_integer(blk->index));
		put(b, m, "MeasurementSpecification", json_integer(blk->spec));
		put(b, m, "MeasurementSize", json_integer(blk->size));
		put(b, m, "DMTFSpecMeasurementValueType", json_integer(blk->value_type));
		put(b, m, "DMTFSpecMeasurementValueSize", json_integer(blk->value_size));
		put(b, m, "DMTFSpecMeasurementValue", hex_json(blk->value, blk->value_size));
		snprintf(key, sizeof(key), "%u", blk->index);
		put(b, o, key, m);
	}
	return o;
}

static void field_key(const struct spdm_report *r, uint16_t type, char *key, size_t n)
{
	const char *name = opaque_field_name(r->kind, type);

	if (name != NULL)
		snprintf(key, n, "%s", name);
	else
		snprintf(key, n, "TYPE_%u", type);
}

static json_t *opaque_raw_json(struct jb *b, const struct spdm_report *r)
{
	json_t *o = json_object();

	for (int i = 0; i < r->nfields; i++) {
		char key[48];

		field_key(r, r->fields[i].type, key, sizeof(key));
		put(b, o, key, hex_json(r->fields[i].value, r->fields[i].len));
	}
	return o;
}

static json_t *u32_list_json(struct jb *b, const struct opaque_field *f)
{
	json_t *a = json_array();

	for (size_t i = 0; i + 4 <= f->len; i += 4)
		push(b, a, le_uint_json(f->value + i, 4));
	return a;
}

/* NVIDIA's C++ expansion: every bit, MSB first within each byte, becomes
 * four entries (1 = disabled). Leading zero bits are kept (§3.3). */
static json_t *disabled_ports_json(struct jb *b, const struct opaque_field *f)
{
	json_t *a = json_array();

	for (size_t i = 0; i < f->len; i++)
		for (int bit = 7; bit >= 0; bit--)
			for (int k = 0; k < 4; k++)
				push(b, a, json_integer((f->value[i] >> bit) & 1));
	return a;
}

/* GPU type 22: each 8-byte entry reversed, uppercase, as the claim shows it. */
static json_t *gpu_switch_pdis_json(struct jb *b, const struct opaque_field *f)
{
	json_t *a = json_array();

	for (size_t i = 0; i + GPA_PDI_LEN <= f->len; i += GPA_PDI_LEN) {
		uint8_t rev[GPA_PDI_LEN];

		for (int j = 0; j < GPA_PDI_LEN; j++)
			rev[j] = f->value[i + GPA_PDI_LEN - 1 - (size_t)j];
		push(b, a, hex_upper_json(rev, GPA_PDI_LEN));
	}
	return a;
}

/* Switch type 26: eight GPU PDIs as stored, then one byte per port. */
static void switch_gpu_pdis_decode(struct jb *b, json_t *o, const struct opaque_field *f)
{
	json_t *pdis = json_array(), *ports = json_array();

	for (size_t i = 0; i + GPA_PDI_LEN <= f->len && i < 8 * GPA_PDI_LEN; i += GPA_PDI_LEN)
		push(b, pdis, hex_json(f->value + i, GPA_PDI_LEN));
	for (size_t i = 8 * GPA_PDI_LEN; i < f->len; i++)
		push(b, ports, json_integer(f->value[i]));
	put(b, o, "SWITCH_GPU_PDIS", pdis);
	put(b, o, "SWITCH_PORTS", ports);
}

static json_t *vbios_json(const struct spdm_report *r, const struct opaque_field *f)
{
	char v[32];

	if (r->kind == GPA_DEV_SWITCH)
		return cstr_field_json(f);
	if (vbios_version_format(f->value, f->len, v, sizeof(v)) != 0)
		return NULL;
	return json_string(v);
}

/* The decoded form of one field, or NULL when it has none (or its length
 * does not fit the decoding; the raw hex is always there). */
static json_t *decode_field(const struct spdm_report *r, const struct opaque_field *f)
{
	bool gpu = r->kind == GPA_DEV_GPU;

	switch (f->type) {
	case OPQ_DRIVER_VERSION: case OPQ_CHIP_SKU: case OPQ_CHIP_SKU_MOD:
	case OPQ_PROJECT: case OPQ_PROJECT_SKU: case OPQ_PROJECT_SKU_MOD:
		return cstr_field_json(f);
	case OPQ_CHIP_INFO:
		return gpu ? cstr_field_json(f) : NULL;
	case OPQ_VBIOS_VERSION:
		return vbios_json(r, f);
	case OPQ_NVDEC0_STATUS: case OPQ_PROTECTED_PCIE_STATUS:
		return f->len == 1 ? json_string(aa55_name(f->value[0])) : NULL;
	case OPQ_FWID:
		return hex_json(f->value, f->len);
	case OPQ_GPU_INFO: case OPQ_BOARD_ID:
		return le_uint_json(f->value, f->len);
	case OPQ_OPAQUE_DATA_VERSION:
		/* In NVDAOD data the header is the version (entries.c says so). */
		return gpu && f->len == 2 && r->layout == OPAQUE_LEGACY ? le_uint_json(f->value, f->len) : NULL;
	case OPQ_FEATURE_FLAG:
		return gpu && f->len == 2 ? le_uint_json(f->value, f->len) : NULL;
	case OPQ_FSP_UCODE_SVN:
		return gpu && r->layout == OPAQUE_NVDAOD && f->len == 2 ? le_uint_json(f->value, f->len) : NULL;
	case OPQ_POSITION_ID: case OPQ_LOCK_SWITCH_STATUS:
		return !gpu && f->len == 2 ? le_uint_json(f->value, f->len) : NULL;
	case OPQ_SWITCH_PDI:
		if (gpu)
			return NULL;	/* a list; built by the caller */
		return f->len == GPA_PDI_LEN ? hex_upper_json(f->value, f->len) : NULL;
	default:
		return NULL;
	}
}

/* Fields whose decoding is a list or several keys. */
static void decode_list_field(struct jb *b, json_t *o, const struct spdm_report *r,
    const struct opaque_field *f)
{
	bool gpu = r->kind == GPA_DEV_GPU;

	if (f->type == OPQ_MSRSCNT && f->len % 4 == 0)
		put(b, o, "MSRSCNT", u32_list_json(b, f));
	else if (gpu && f->type == OPQ_SWITCH_PDI && f->len % GPA_PDI_LEN == 0)
		put(b, o, "SWITCH_PDI", gpu_switch_pdis_json(b, f));
	else if (!gpu && f->type == OPQ_FLOORSWEPT_PORTS)
		put(b, o, "DISABLED_PORTS", disabled_ports_json(b, f));
	else if (!gpu && f->type == OPQ_SWITCH_GPU_PDIS && f->len >= 8 * GPA_PDI_LEN)
		switch_gpu_pdis_decode(b, o, f);
}

static json_t *opaque_decoded_json(struct jb *b, const struct spdm_report *r)
{
	json_t *o = json_object();

	for (int i = 0; i < r->nfields; i++) {
		const struct opaque_field *f = &r->fields[i];
		json_t *v = decode_field(r, f);
		char key[48];

		if (v != NULL) {
			field_key(r, f->type, key, sizeof(key));
			put(b, o, key, v);
			if (f->type == OPQ_FEATURE_FLAG)
				put(b, o, "FEATURE_FLAG_MODE",
				    json_string(feature_flag_mode((int)json_integer_value(v))));
		} else {
			decode_list_field(b, o, r, f);
		}
	}
	/* A literal type 27 only when type 26 did not already give the ports. */
	const struct opaque_field *p27 = opaque_get(r, OPQ_SWITCH_PORTS);
	if (r->kind == GPA_DEV_SWITCH && p27 != NULL && json_object_get(o, "SWITCH_PORTS") == NULL) {
		json_t *a = json_array();
		for (size_t i = 0; i < p27->len; i++)
			push(b, a, json_integer(p27->value[i]));
		put(b, o, "SWITCH_PORTS", a);
	}
	return o;
}

static json_t *resp_json(struct jb *b, const struct spdm_report *r)
{
	json_t *o = json_object();

	put(b, o, "SPDMVersion", byte_hex_json(r->version));
	put(b, o, "RequestResponseCode", byte_hex_json(r->code));
	put(b, o, "Param1", byte_hex_json(r->param1));
	put(b, o, "Param2", byte_hex_json(r->param2));
	put(b, o, "NumberOfBlocks", json_integer(r->nblocks));
	put(b, o, "MeasurementRecordLength", json_integer(r->record_len));
	put(b, o, "Nonce", hex_json(r->resp_nonce, SPDM_NONCE_LEN));
	put(b, o, "OpaqueLength", json_integer(r->opaque_len));
	put(b, o, "Signature", hex_json(r->signature, SPDM_SIG_LEN));
	put(b, o, "MeasurementBlocks", blocks_json(b, r));
	put(b, o, "OpaqueData", opaque_raw_json(b, r));
	put(b, o, "OpaqueDataDecoded", opaque_decoded_json(b, r));
	if (o != NULL && inspect_put_opaque_entries(o, r) != 0)
		b->oom = true;
	return o;
}

static X509 *chain_cert(STACK_OF(X509) *chain, int i)
{
	return chain != NULL && i < sk_X509_num(chain) ? sk_X509_value(chain, i) : NULL;
}

static bool arch_fits_kind(enum gpa_arch a, enum gpa_device_kind kind)
{
	if (kind == GPA_DEV_SWITCH)
		return a == GPA_ARCH_LS10;
	return a == GPA_ARCH_HOPPER || a == GPA_ARCH_BLACKWELL || a == GPA_ARCH_RUBIN;
}

/* Which architecture the RIM ids are built for, and why: the chain's
 * hwmodel first (it is what verification will use), then the evidence
 * file's word for it, then the only architecture of that kind we had
 * before Blackwell. */
static enum gpa_arch pick_arch(enum gpa_device_kind kind, STACK_OF(X509) *chain,
    const char *evidence_arch, const char **source)
{
	X509 *brom = chain_cert(chain, 1);
	enum gpa_arch a;

	if (brom != NULL) {
		char *hw = cert_subject_cn(brom);
		a = arch_from_hwmodel(hw);
		free(hw);
		if (arch_fits_kind(a, kind)) {
			*source = "chain hwmodel";
			return a;
		}
	}
	a = arch_from_string(evidence_arch);
	if (arch_fits_kind(a, kind)) {
		*source = "evidence arch";
		return a;
	}
	*source = "default";
	return kind == GPA_DEV_SWITCH ? GPA_ARCH_LS10 : GPA_ARCH_HOPPER;
}

static json_t *pdi_list_json(struct jb *b, const uint8_t (*pdis)[GPA_PDI_LEN], int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		push(b, a, hex_upper_json(pdis[i], GPA_PDI_LEN));
	return a;
}

static void derived_gpu(struct jb *b, json_t *o, const struct report_info *in)
{
	put(b, o, "driver_version", json_string(in->driver_version));
	put(b, o, "vbios_version", json_string(in->vbios_version));
	put(b, o, "project", json_string(in->project));
	put(b, o, "project_sku", json_string(in->project_sku));
	put(b, o, "chip_sku", json_string(in->chip_sku));
	if (in->chip_info[0])
		put(b, o, "chip_info", json_string(in->chip_info));
	put(b, o, "opaque_data_version", json_integer(in->opaque_version));
	put(b, o, "feature_flag", in->feature_flag < 0 ? json_null() : json_integer(in->feature_flag));
	put(b, o, "feature_flag_mode", json_string(feature_flag_mode(in->feature_flag)));
	put(b, o, "nvdec0", json_string(aa55_name((uint8_t)in->nvdec0)));
	if (in->ppcie_status >= 0)
		put(b, o, "protected_pcie", json_string(aa55_name((uint8_t)in->ppcie_status)));
	if (in->npdis > 0)
		put(b, o, "switch_pdis", pdi_list_json(b, (const uint8_t (*)[GPA_PDI_LEN])in->pdis, in->npdis));
}

static void derived_switch(struct jb *b, json_t *o, const struct report_info *in)
{
	json_t *ports;

	put(b, o, "vbios_version", json_string(in->vbios_version));
	if (in->has_device_pdi)
		put(b, o, "device_pdi", hex_upper_json(in->device_pdi, GPA_PDI_LEN));
	if (in->ngpu_pdis > 0) {
		put(b, o, "gpu_pdis", pdi_list_json(b, (const uint8_t (*)[GPA_PDI_LEN])in->gpu_pdis, in->ngpu_pdis));
		ports = json_array();
		for (int i = 0; i < in->nports; i++)
			push(b, ports, json_integer(in->ports[i]));
		put(b, o, "ports", ports);
	}
	if (in->lock_status >= 0)
		put(b, o, "lock_status", json_integer(in->lock_status));
}

static json_t *derived_json(struct jb *b, const struct spdm_report *r, const struct report_info *info,
    STACK_OF(X509) *chain, const char *derive_error, const char *evidence_arch)
{
	json_t *o = json_object();
	struct report_info tmp;
	struct gpa_err e = {{0}};
	const char *source;
	enum gpa_arch arch = pick_arch(r->kind, chain, evidence_arch, &source);

	put(b, o, "arch", json_string(arch_name(arch)));
	put(b, o, "arch_source", json_string(source));
	if (info == NULL) {
		put(b, o, "error", text_json(derive_error ? derive_error : "report_info_derive failed"));
		return o;
	}
	tmp = *info;
	if (report_rim_ids(&tmp, arch, &e) == 0) {
		if (tmp.kind == GPA_DEV_GPU)
			put(b, o, "driver_rim_id", json_string(tmp.driver_rim_id));
		put(b, o, "vbios_rim_id", json_string(tmp.vbios_rim_id));
	} else {
		put(b, o, "rim_id_error", text_json(e.msg));
	}
	if (info->has_fwid)
		put(b, o, "fwid", hex_json(info->fwid, GPA_FWID_LEN));
	if (info->kind == GPA_DEV_GPU)
		derived_gpu(b, o, info);
	else
		derived_switch(b, o, info);
	return o;
}

static char *issuer_line(X509 *c)
{
	BIO *bio = BIO_new(BIO_s_mem());
	BUF_MEM *mem;
	char *out = NULL;

	if (bio == NULL)
		return NULL;
	if (X509_NAME_print_ex(bio, X509_get_issuer_name(c), 0, XN_FLAG_ONELINE) >= 0 &&
	    BIO_get_mem_ptr(bio, &mem) == 1 && memchr(mem->data, 0, mem->length) == NULL) {
		out = malloc(mem->length + 1);
		if (out != NULL) {
			memcpy(out, mem->data, mem->length);
			out[mem->length] = '\0';
		}
	}
	BIO_free(bio);
	ERR_clear_error();
	return out;
}

/* Moves a malloc'd string into the object (null when the x509 layer had
 * nothing to say). */
static void put_owned(struct jb *b, json_t *o, const char *key, char *s)
{
	put(b, o, key, text_json(s));
	free(s);
}

static json_t *cert_json(struct jb *b, X509 *c, int idx, const struct report_info *info)
{
	json_t *o = json_object();
	char nb[21], na[21];
	uint8_t fwid[GPA_FWID_LEN];
	struct gpa_err e = {{0}};
	int rc;

	put(b, o, "index", json_integer(idx));
	put_owned(b, o, "subject", cert_subject_line(c));
	put_owned(b, o, "subject_cn", cert_subject_cn(c));
	put_owned(b, o, "issuer", issuer_line(c));
	put_owned(b, o, "serial_decimal", cert_serial_decimal(c));
	char *sn = cert_subject_serial_number(c);
	if (sn != NULL)
		put_owned(b, o, "subject_serial_number", sn);
	cert_validity(c, nb, na);
	put(b, o, "not_before", json_string(nb));
	put(b, o, "not_after", json_string(na));
	rc = cert_fwid(c, fwid, &e);
	if (rc == 1) {
		put(b, o, "fwid", hex_json(fwid, GPA_FWID_LEN));
		if (idx == 0 && info != NULL && info->has_fwid)
			put(b, o, "fwid_equals_report", json_boolean(memcmp(fwid, info->fwid, GPA_FWID_LEN) == 0));
	} else if (rc < 0) {
		put(b, o, "fwid_error", text_json(e.msg));
	}
	ERR_clear_error();
	return o;
}

static void chain_json(struct jb *b, json_t *doc, STACK_OF(X509) *chain,
    const struct report_info *info)
{
	json_t *certs = json_array();
	X509 *leaf = chain_cert(chain, 0), *brom = chain_cert(chain, 1);

	if (brom != NULL)
		put_owned(b, doc, "hwmodel", cert_subject_cn(brom));
	if (leaf != NULL)
		put_owned(b, doc, "ueid", cert_serial_decimal(leaf));
	for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++)
		push(b, certs, cert_json(b, sk_X509_value(chain, i), i, info));
	put(b, doc, "certificates", certs);
}

json_t *inspect_report_json_arch(const struct spdm_report *r, const struct report_info *info,
    STACK_OF(X509) *chain, const char *derive_error, const char *evidence_arch)
{
	struct jb b = { false };
	json_t *doc = json_object();

	put(&b, doc, "kind", json_string(r->kind == GPA_DEV_GPU ? "gpu" : "switch"));
	put(&b, doc, "report_length", json_integer((json_int_t)r->raw_len));
	put(&b, doc, "request", req_json(&b, r));
	put(&b, doc, "response", resp_json(&b, r));
	put(&b, doc, "derived", derived_json(&b, r, info, chain, derive_error, evidence_arch));
	if (chain != NULL)
		chain_json(&b, doc, chain, info);
	if (b.oom) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

json_t *inspect_report_json(const struct spdm_report *r, const struct report_info *info,
    STACK_OF(X509) *chain, const char *derive_error)
{
	return inspect_report_json_arch(r, info, chain, derive_error, NULL);
}

static void add_evidence_meta(json_t *doc, const struct evidence_item *it,
    const struct spdm_report *r)
{
	struct jb b = { false };
	json_t *o = json_object();

	if (it->arch[0])
		put(&b, o, "arch", ascii_json((const uint8_t *)it->arch, strlen(it->arch)));
	if (it->uuid[0])
		put(&b, o, "uuid", ascii_json((const uint8_t *)it->uuid, strlen(it->uuid)));
	if (it->has_nonce) {
		put(&b, o, "nonce", hex_json(it->nonce, SPDM_NONCE_LEN));
		/* Shown, not judged: the verifier compares against its own nonce. */
		put(&b, o, "nonce_equals_request",
		    json_boolean(memcmp(it->nonce, r->req.nonce, SPDM_NONCE_LEN) == 0));
	}
	put(&b, doc, "evidence", o);
}

json_t *inspect_item_json(const struct evidence_item *it, struct gpa_err *e)
{
	struct spdm_report *r = malloc(sizeof(*r));
	struct report_info info;
	struct gpa_err derr = {{0}}, cerr = {{0}};
	STACK_OF(X509) *chain = NULL;
	bool derived;
	json_t *doc = NULL;
	int rc;

	if (r == NULL) {
		gpa_err_set(e, "out of memory");
		return NULL;
	}
	rc = spdm_parse_report(it->report, it->report_len, it->kind, r, e);
	if (rc != 0 && rc != SPDM_ERR_UNSUPPORTED) {
		free(r);
		return NULL;
	}
	/* A version newer than we read: the header is shown, and why the
	 * entries are not. */
	if (rc == SPDM_ERR_UNSUPPORTED)
		derr = *e;
	derived = rc == 0 && report_info_derive(r, &info, &derr) == 0;
	if (it->chain_pem != NULL)
		chain = chain_from_pem(it->chain_pem, it->chain_len, MAX_CHAIN_CERTS, &cerr);
	doc = inspect_report_json_arch(r, derived ? &info : NULL, chain,
	    derived ? NULL : derr.msg, it->arch[0] ? it->arch : NULL);
	if (doc != NULL) {
		add_evidence_meta(doc, it, r);
		if (it->chain_pem != NULL && chain == NULL)
			json_object_set_new(doc, "chain_error", text_json(cerr.msg));
		if (rc == SPDM_ERR_UNSUPPORTED)
			json_object_set_new(doc, "unsupported", text_json(derr.msg));
	} else {
		gpa_err_set(e, "out of memory building the inspect document");
	}
	sk_X509_pop_free(chain, X509_free);
	free(r);
	return doc;
}

/* ---- text rendering ---- */

static void print_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f)
			fputc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
}

static void print_scalar(FILE *f, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING: print_escaped(f, json_string_value(v)); break;
	case JSON_INTEGER: fprintf(f, "%lld", (long long)json_integer_value(v)); break;
	case JSON_REAL: fprintf(f, "%g", json_real_value(v)); break;
	case JSON_TRUE: fputs("true", f); break;
	case JSON_FALSE: fputs("false", f); break;
	default: fputs("-", f); break;
	}
}

static bool all_scalars(const json_t *a)
{
	size_t i;
	const json_t *v;

	json_array_foreach(a, i, v)
		if (json_is_object(v) || json_is_array(v))
			return false;
	return true;
}

static void render(FILE *f, const json_t *v, const char *key, int depth);

static void render_array(FILE *f, const json_t *a, const char *key, int depth)
{
	size_t i;
	const json_t *v;

	fprintf(f, "%*s", 2 * depth, "");
	print_escaped(f, key);
	if (all_scalars(a)) {
		fputs(": [", f);
		json_array_foreach(a, i, v) {
			if (i > 0)
				fputs(", ", f);
			print_scalar(f, v);
		}
		fputs("]\n", f);
		return;
	}
	fputs(":\n", f);
	json_array_foreach(a, i, v) {
		char k[24];
		snprintf(k, sizeof(k), "[%zu]", i);
		render(f, v, k, depth + 1);
	}
}

static void render(FILE *f, const json_t *v, const char *key, int depth)
{
	const char *k;
	json_t *child;

	if (json_is_array(v)) {
		render_array(f, v, key, depth);
		return;
	}
	fprintf(f, "%*s", 2 * depth, "");
	print_escaped(f, key);
	if (!json_is_object(v)) {
		fputs(": ", f);
		print_scalar(f, v);
		fputc('\n', f);
		return;
	}
	fputs(":\n", f);
	json_object_foreach((json_t *)v, k, child)
		render(f, child, k, depth + 1);
}

char *inspect_text(const json_t *doc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *k;
	json_t *v;

	if (f == NULL)
		return NULL;
	json_object_foreach((json_t *)doc, k, v) {
		if (json_is_object(v) || (json_is_array(v) && !all_scalars(v))) {
			fprintf(f, "[%s]\n", k);
			if (json_is_object(v)) {
				const char *k2;
				json_t *c;
				json_object_foreach(v, k2, c)
					render(f, c, k2, 1);
			} else {
				size_t i;
				json_t *c;
				json_array_foreach(v, i, c) {
					char ik[24];
					snprintf(ik, sizeof(ik), "[%zu]", i);
					render(f, c, ik, 1);
				}
			}
		} else {
			render(f, v, k, 0);
		}
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
