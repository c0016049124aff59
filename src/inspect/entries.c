/*
 * inspect: the opaque data's layout (legacy or NVDAOD), its version, and
 * every entry in report order with its id, NVIDIA's name (TYPE_<n> for ids
 * nobody has named), value type, size, offset and raw bytes. The decoded
 * values stay in "OpaqueDataDecoded" (inspect.c); this is the view that
 * shows what the device sent, unknown ids included.
 */
#include "inspect/inspect.h"

#include <stdio.h>
#include <stdlib.h>

/* Allocation failure across the small jansson calls of one build. */
static _Thread_local bool g_oom;

static void put(json_t *o, const char *key, json_t *v)
{
	if (v == NULL || o == NULL || json_object_set_new(o, key, v) != 0)
		g_oom = true;
}

static json_t *hex(const uint8_t *p, size_t n)
{
	char *s = hex_dup(p, n);
	json_t *v = s ? json_string(s) : NULL;

	free(s);
	return v;
}

static json_t *vt_string(uint16_t vt)
{
	char s[8];

	snprintf(s, sizeof(s), "0x%02x", vt);
	return json_string(s);
}

/* Why an entry is not what its id suggests, when it is not (shown, not
 * judged: the parser already refused what it must). */
static const char *entry_note(const struct spdm_report *r, const struct opaque_field *f)
{
	if (opaque_field_name(r->kind, f->type) == NULL)
		return "unknown id, kept raw";
	if (r->layout == OPAQUE_NVDAOD && r->kind == GPA_DEV_GPU && f->type == OPQ_OPAQUE_DATA_VERSION)
		return "ignored in NVDAOD data: the header's major is the version";
	if (r->layout == OPAQUE_LEGACY && r->kind == GPA_DEV_GPU && f->type == OPQ_FSP_UCODE_SVN)
		return "legacy data has no value type: not comparable as an SVN";
	return NULL;
}

static json_t *entry_json(const struct spdm_report *r, const struct opaque_field *f)
{
	json_t *o = json_object();
	const char *name = opaque_field_name(r->kind, f->type), *note = entry_note(r, f);
	char key[16];

	snprintf(key, sizeof(key), "TYPE_%u", f->type);
	put(o, "id", json_integer(f->type));
	put(o, "name", json_string(name ? name : key));
	if (r->layout == OPAQUE_NVDAOD) {
		put(o, "value_type", vt_string(f->value_type));
		put(o, "value_type_meaning", json_string(opaque_value_type_name(f->value_type)));
	}
	put(o, "size", json_integer(f->len));
	put(o, "offset", json_integer((json_int_t)f->offset));
	put(o, "value", hex(f->value, f->len));
	if (r->layout == OPAQUE_NVDAOD && f->value_type == OPAQUE_VT_MIN_SVN && f->len == 2)
		put(o, "svn", json_integer(f->value[0] | f->value[1] << 8));
	if (note != NULL)
		put(o, "note", json_string(note));
	return o;
}

static json_t *header_json(const struct spdm_report *r)
{
	json_t *o = json_object();
	char v[16];

	snprintf(v, sizeof(v), "%u.%u.%u", r->od_major, r->od_minor, r->od_patch);
	put(o, "magic", json_string(NVDAOD_MAGIC));
	put(o, "profile", json_integer(r->od_profile));
	put(o, "version", json_string(v));
	put(o, "major", json_integer(r->od_major));
	put(o, "minor", json_integer(r->od_minor));
	put(o, "patch", json_integer(r->od_patch));
	put(o, "padding", json_integer(r->od_pad));
	return o;
}

int inspect_put_opaque_entries(json_t *resp, const struct spdm_report *r)
{
	json_t *arr = json_array();

	g_oom = false;
	put(resp, "OpaqueDataLayout", json_string(opaque_layout_name(r->layout)));
	put(resp, "OpaqueDataVersion", json_integer(r->opaque_version));
	if (r->layout == OPAQUE_NVDAOD)
		put(resp, "OpaqueDataHeader", header_json(r));
	for (int i = 0; i < r->nfields; i++)
		if (json_array_append_new(arr, entry_json(r, &r->fields[i])) != 0)
			g_oom = true;
	put(resp, "OpaqueDataEntries", arr);
	return g_oom ? -1 : 0;
}
