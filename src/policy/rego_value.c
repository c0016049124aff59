/*
 * Rego values: immutable, in an arena that is freed all at once, with a cap
 * that bounds the memory one evaluation (or one policy) may take. Sets and
 * objects are kept sorted in OPA's total order, so equality, membership and
 * iteration order are those of OPA.
 */
#include "policy/rego_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct arena_blk {
	struct arena_blk *next;
	size_t size, off;
	max_align_t data[];
};

#define ARENA_BLOCK (64u * 1024u)

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_blk *b = a->head;
	size_t need = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);

	if (a->failed || n > a->cap || a->used + need > a->cap) {
		a->failed = true;
		return NULL;
	}
	if (b == NULL || b->size - b->off < need) {
		size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;
		b = malloc(sizeof(*b) + size);
		if (b == NULL) {
			a->failed = true;
			return NULL;
		}
		b->size = size;
		b->off = 0;
		b->next = a->head;
		a->head = b;
	}
	void *p = (char *)b->data + b->off;
	b->off += need;
	a->used += need;
	memset(p, 0, n);
	return p;
}

void arena_free(struct arena *a)
{
	struct arena_blk *b = a->head;

	while (b != NULL) {
		struct arena_blk *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->used = 0;
}

struct rval rv_null = {.k = RV_NULL};
struct rval rv_true = {.k = RV_BOOL, .b = true};
struct rval rv_false = {.k = RV_BOOL, .b = false};

struct rval *rv_bool(bool b)
{
	return b ? &rv_true : &rv_false;
}

struct rval *rv_num(struct arena *a, double n)
{
	struct rval *v = arena_alloc(a, sizeof(*v));

	if (v != NULL) {
		v->k = RV_NUM;
		v->n = n == 0 ? 0 : n;	/* no negative zero */
	}
	return v;
}

struct rval *rv_str(struct arena *a, const char *s, size_t len)
{
	struct rval *v = arena_alloc(a, sizeof(*v));
	char *copy = arena_alloc(a, len + 1);

	if (v == NULL || copy == NULL)
		return NULL;
	memcpy(copy, s, len);
	v->k = RV_STR;
	v->s = copy;
	v->len = len;
	return v;
}

const char *rv_kind_name(enum rv_kind k)
{
	static const char *const names[] = {"null", "boolean", "number", "string", "array", "object", "set"};
	return names[k];
}

static int cmp_num(double x, double y)
{
	return x < y ? -1 : x > y ? 1 : 0;
}

static int cmp_str(const struct rval *x, const struct rval *y)
{
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);

	if (c != 0)
		return c < 0 ? -1 : 1;
	return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

static int cmp_list(struct rval *const *x, size_t nx, struct rval *const *y, size_t ny)
{
	for (size_t i = 0; i < nx && i < ny; i++) {
		int c = rv_cmp(x[i], y[i]);
		if (c != 0)
			return c;
	}
	return nx < ny ? -1 : nx > ny ? 1 : 0;
}

int rv_cmp(const struct rval *x, const struct rval *y)
{
	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	switch (x->k) {
	case RV_NULL: return 0;
	case RV_BOOL: return (int)x->b - (int)y->b;
	case RV_NUM: return cmp_num(x->n, y->n);
	case RV_STR: return cmp_str(x, y);
	case RV_ARR:
	case RV_SET: return cmp_list(x->v, x->len, y->v, y->len);
	case RV_OBJ: {
		/* Key by key, then value by value, as OPA orders objects. */
		for (size_t i = 0; i < x->len && i < y->len; i++) {
			int c = rv_cmp(x->keys[i], y->keys[i]);
			if (c == 0)
				c = rv_cmp(x->v[i], y->v[i]);
			if (c != 0)
				return c;
		}
		return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
	}
	}
	return 0;
}

bool rv_eq(const struct rval *x, const struct rval *y)
{
	return rv_cmp(x, y) == 0;
}

static struct rval *rv_list(struct arena *a, enum rv_kind k, struct rval **el, size_t n)
{
	struct rval *v = arena_alloc(a, sizeof(*v));
	struct rval **copy = n ? arena_alloc(a, n * sizeof(*copy)) : NULL;

	if (v == NULL || (n && copy == NULL))
		return NULL;
	if (n)
		memcpy(copy, el, n * sizeof(*copy));
	v->k = k;
	v->v = copy;
	v->len = n;
	return v;
}

struct rval *rv_array(struct arena *a, struct rval **el, size_t n)
{
	return rv_list(a, RV_ARR, el, n);
}

static int qcmp(const void *x, const void *y)
{
	return rv_cmp(*(struct rval *const *)x, *(struct rval *const *)y);
}

struct rval *rv_set(struct arena *a, struct rval **el, size_t n)
{
	struct rval *v = rv_list(a, RV_SET, el, n);
	size_t w = 0;

	if (v == NULL || n == 0)
		return v;
	qsort(v->v, n, sizeof(*v->v), qcmp);
	for (size_t i = 0; i < n; i++)
		if (w == 0 || !rv_eq(v->v[w - 1], v->v[i]))
			v->v[w++] = v->v[i];
	v->len = w;
	return v;
}

struct kv {
	struct rval *k, *v;
};

static int kvcmp(const void *x, const void *y)
{
	return rv_cmp(((const struct kv *)x)->k, ((const struct kv *)y)->k);
}

struct rval *rv_object(struct arena *a, struct rval **keys, struct rval **vals, size_t n, bool *conflict)
{
	struct rval *o = arena_alloc(a, sizeof(*o));
	struct kv *kv = n ? arena_alloc(a, n * sizeof(*kv)) : NULL;
	size_t w = 0;

	*conflict = false;
	if (o == NULL || (n && kv == NULL))
		return NULL;
	o->k = RV_OBJ;
	if (n == 0)
		return o;
	for (size_t i = 0; i < n; i++)
		kv[i] = (struct kv){keys[i], vals[i]};
	qsort(kv, n, sizeof(*kv), kvcmp);
	o->keys = arena_alloc(a, n * sizeof(*o->keys));
	o->v = arena_alloc(a, n * sizeof(*o->v));
	if (o->keys == NULL || o->v == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (w > 0 && rv_eq(o->keys[w - 1], kv[i].k)) {
			if (!rv_eq(o->v[w - 1], kv[i].v)) {
				*conflict = true;
				return NULL;
			}
			continue;
		}
		o->keys[w] = kv[i].k;
		o->v[w++] = kv[i].v;
	}
	o->len = w;
	return o;
}

/* Binary search in a sorted list; index or -1. */
static long find_sorted(struct rval *const *list, size_t n, const struct rval *x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = rv_cmp(list[mid], x);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

struct rval *rv_obj_get(const struct rval *o, const struct rval *key)
{
	long i = find_sorted(o->keys, o->len, key);
	return i < 0 ? NULL : o->v[i];
}

struct rval *rv_obj_get_str(const struct rval *o, const char *key)
{
	struct rval k = {.k = RV_STR, .s = key, .len = strlen(key)};
	return rv_obj_get(o, &k);
}

bool rv_set_has(const struct rval *s, const struct rval *x)
{
	return find_sorted(s->v, s->len, x) >= 0;
}

static struct rval *from_json_list(struct arena *a, const json_t *j, long *budget, int depth, struct gpa_err *e)
{
	size_t n = json_array_size(j);
	struct rval **el = n ? arena_alloc(a, n * sizeof(*el)) : NULL;

	if (n && el == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		if ((el[i] = rv_from_json(a, json_array_get(j, i), budget, depth + 1, e)) == NULL)
			return NULL;
	struct rval *v = rv_array(a, el, n);
	if (v == NULL)
		goto nomem;
	return v;
nomem:
	gpa_err_set(e, "input: more than the %u bytes of memory allowed", REGO_MAX_MEMORY);
	return NULL;
}

static struct rval *from_json_obj(struct arena *a, const json_t *j, long *budget, int depth, struct gpa_err *e)
{
	size_t n = json_object_size(j), i = 0;
	struct rval **keys = n ? arena_alloc(a, n * sizeof(*keys)) : NULL;
	struct rval **vals = n ? arena_alloc(a, n * sizeof(*vals)) : NULL;
	const char *k;
	json_t *v;
	bool conflict;

	if (n && (keys == NULL || vals == NULL))
		goto nomem;
	json_object_foreach((json_t *)j, k, v) {
		if ((keys[i] = rv_str(a, k, strlen(k))) == NULL)
			goto nomem;
		if ((vals[i] = rv_from_json(a, v, budget, depth + 1, e)) == NULL)
			return NULL;
		i++;
	}
	struct rval *o = rv_object(a, keys, vals, n, &conflict);
	if (o == NULL)
		goto nomem;
	return o;
nomem:
	gpa_err_set(e, "input: more than the %u bytes of memory allowed", REGO_MAX_MEMORY);
	return NULL;
}

struct rval *rv_from_json(struct arena *a, const json_t *j, long *budget, int depth, struct gpa_err *e)
{
	struct rval *v = NULL;

	if (--*budget < 0) {
		gpa_err_set(e, "input: more than %d JSON values", REGO_MAX_INPUT_NODES);
		return NULL;
	}
	if (depth > REGO_MAX_INPUT_DEPTH) {
		gpa_err_set(e, "input: nested deeper than %d levels", REGO_MAX_INPUT_DEPTH);
		return NULL;
	}
	switch (json_typeof(j)) {
	case JSON_NULL: return &rv_null;
	case JSON_TRUE: return &rv_true;
	case JSON_FALSE: return &rv_false;
	case JSON_INTEGER: v = rv_num(a, (double)json_integer_value(j)); break;
	case JSON_REAL: v = rv_num(a, json_real_value(j)); break;
	case JSON_STRING: v = rv_str(a, json_string_value(j), json_string_length(j)); break;
	case JSON_ARRAY: return from_json_list(a, j, budget, depth, e);
	case JSON_OBJECT: return from_json_obj(a, j, budget, depth, e);
	}
	if (v == NULL)
		gpa_err_set(e, "input: more than the %u bytes of memory allowed", REGO_MAX_MEMORY);
	return v;
}

static json_t *num_json(double n)
{
	if (n == floor(n) && fabs(n) < 9.2e18)
		return json_integer((json_int_t)n);
	return json_real(n);
}

/* Object keys that are not strings are written as their JSON text, as OPA
 * does when it serialises such an object. */
static char *key_text(const struct rval *k)
{
	json_t *j;
	char *s;

	if (k->k == RV_STR)
		return strdup(k->s);
	j = rv_to_json(k);
	s = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

json_t *rv_to_json(const struct rval *v)
{
	json_t *j;

	switch (v->k) {
	case RV_NULL: return json_null();
	case RV_BOOL: return json_boolean(v->b);
	case RV_NUM: return num_json(v->n);
	case RV_STR: return json_stringn_nocheck(v->s, v->len);
	case RV_ARR:
	case RV_SET:
		j = json_array();
		for (size_t i = 0; i < v->len; i++)
			json_array_append_new(j, rv_to_json(v->v[i]));
		return j;
	case RV_OBJ:
		j = json_object();
		for (size_t i = 0; i < v->len; i++) {
			char *k = key_text(v->keys[i]);
			if (k != NULL)
				json_object_set_new_nocheck(j, k, rv_to_json(v->v[i]));
			free(k);
		}
		return j;
	}
	return NULL;
}
