/*
 * The builtins of the subset, with OPA's results. An operand of the wrong
 * type makes the call undefined (OPA without strict builtin errors), never
 * a guess. Strings are UTF-8; lower/upper change ASCII letters only (the
 * claims are ASCII).
 */
#include "policy/rego_int.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef int (*bi_fn)(struct rego_ev *ev, struct rval **a, struct rval **out);

static int bi_bool(struct rval **out, bool b)
{
	*out = rv_bool(b);
	return 1;
}

static int bi_num(struct rego_ev *ev, struct rval **out, double n)
{
	return (*out = rv_num(rego_ev_arena(ev), n)) == NULL ? -1 : 1;
}

static size_t utf8_count(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

static int f_count(struct rego_ev *ev, struct rval **a, struct rval **out)
{
	switch (a[0]->k) {
	case RV_ARR:
	case RV_OBJ:
	case RV_SET: return bi_num(ev, out, (double)a[0]->len);
	case RV_STR: return bi_num(ev, out, (double)utf8_count(a[0]->s, a[0]->len));
	default: return 0;
	}
}

/* object.get(obj, key, default); key may be an array: a path into nested objects. */
static int f_object_get(struct rego_ev *ev, struct rval **a, struct rval **out)
{
	struct rval *o = a[0];

	(void)ev;
	if (o->k != RV_OBJ)
		return 0;
	if (a[1]->k != RV_ARR) {
		struct rval *v = rv_obj_get(o, a[1]);
		*out = v ? v : a[2];
		return 1;
	}
	for (size_t i = 0; i < a[1]->len; i++) {
		if (o->k != RV_OBJ || (o = rv_obj_get(o, a[1]->v[i])) == NULL) {
			*out = a[2];
			return 1;
		}
	}
	*out = o;
	return 1;
}

static int f_is_object(struct rego_ev *ev, struct rval **a, struct rval **out) { (void)ev; return bi_bool(out, a[0]->k == RV_OBJ); }
static int f_is_array(struct rego_ev *ev, struct rval **a, struct rval **out) { (void)ev; return bi_bool(out, a[0]->k == RV_ARR); }
static int f_is_set(struct rego_ev *ev, struct rval **a, struct rval **out) { (void)ev; return bi_bool(out, a[0]->k == RV_SET); }
static int f_is_string(struct rego_ev *ev, struct rval **a, struct rval **out) { (void)ev; return bi_bool(out, a[0]->k == RV_STR); }
static int f_is_number(struct rego_ev *ev, struct rval **a, struct rval **out) { (void)ev; return bi_bool(out, a[0]->k == RV_NUM); }
static int f_is_boolean(struct rego_ev *ev, struct rval **a, struct rval **out) { (void)ev; return bi_bool(out, a[0]->k == RV_BOOL); }
static int f_is_null(struct rego_ev *ev, struct rval **a, struct rval **out) { (void)ev; return bi_bool(out, a[0]->k == RV_NULL); }

static bool two_strings(struct rval **a)
{
	return a[0]->k == RV_STR && a[1]->k == RV_STR;
}

static int f_startswith(struct rego_ev *ev, struct rval **a, struct rval **out)
{
	(void)ev;
	if (!two_strings(a))
		return 0;
	return bi_bool(out, a[1]->len <= a[0]->len && memcmp(a[0]->s, a[1]->s, a[1]->len) == 0);
}

static int f_endswith(struct rego_ev *ev, struct rval **a, struct rval **out)
{
	(void)ev;
	if (!two_strings(a))
		return 0;
	return bi_bool(out, a[1]->len <= a[0]->len &&
	    memcmp(a[0]->s + a[0]->len - a[1]->len, a[1]->s, a[1]->len) == 0);
}

static long find_sub(const struct rval *s, size_t from, const struct rval *sub)
{
	if (sub->len == 0)
		return (long)from;
	for (size_t i = from; i + sub->len <= s->len; i++)
		if (memcmp(s->s + i, sub->s, sub->len) == 0)
			return (long)i;
	return -1;
}

static int f_contains(struct rego_ev *ev, struct rval **a, struct rval **out)
{
	(void)ev;
	if (!two_strings(a))
		return 0;
	return bi_bool(out, find_sub(a[0], 0, a[1]) >= 0);
}

static int change_case(struct rego_ev *ev, struct rval **a, struct rval **out, bool up)
{
	char *s;

	if (a[0]->k != RV_STR)
		return 0;
	if ((*out = rv_str(rego_ev_arena(ev), a[0]->s, a[0]->len)) == NULL)
		return -1;
	s = (char *)(*out)->s;
	for (size_t i = 0; i < a[0]->len; i++)
		if ((unsigned char)s[i] < 0x80)
			s[i] = (char)(up ? toupper((unsigned char)s[i]) : tolower((unsigned char)s[i]));
	return 1;
}

static int f_lower(struct rego_ev *ev, struct rval **a, struct rval **out) { return change_case(ev, a, out, false); }
static int f_upper(struct rego_ev *ev, struct rval **a, struct rval **out) { return change_case(ev, a, out, true); }

/* concat(delimiter, array or set of strings): the strings joined, a set's in
 * its sorted order. Anything not a string: undefined (a type error). */
static int f_concat(struct rego_ev *ev, struct rval **a, struct rval **out)
{
	struct arena *m = rego_ev_arena(ev);
	const struct rval *d = a[0], *c = a[1];
	size_t len = 0, pos = 0;
	char *buf;

	if (d->k != RV_STR || (c->k != RV_ARR && c->k != RV_SET))
		return 0;
	for (size_t i = 0; i < c->len; i++) {
		if (c->v[i]->k != RV_STR)
			return 0;
		len += c->v[i]->len + (i ? d->len : 0);
	}
	if ((buf = arena_alloc(m, len + 1)) == NULL)
		return -1;
	for (size_t i = 0; i < c->len; i++) {
		if (i) {
			memcpy(buf + pos, d->s, d->len);
			pos += d->len;
		}
		memcpy(buf + pos, c->v[i]->s, c->v[i]->len);
		pos += c->v[i]->len;
	}
	return (*out = rv_str(m, buf, len)) != NULL ? 1 : -1;
}

/* split as Go's strings.Split: an empty separator splits into characters. */
static int f_split(struct rego_ev *ev, struct rval **a, struct rval **out)
{
	struct arena *m = rego_ev_arena(ev);
	const struct rval *s = a[0], *sep = a[1];
	struct rval **parts;
	size_t n = 0, pos = 0;

	if (!two_strings(a))
		return 0;
	if ((parts = arena_alloc(m, (s->len + 2) * sizeof(*parts))) == NULL)
		return -1;
	if (sep->len == 0) {
		for (size_t i = 0; i < s->len; i = pos) {
			for (pos = i + 1; pos < s->len && ((unsigned char)s->s[pos] & 0xc0) == 0x80; pos++)
				;
			if ((parts[n++] = rv_str(m, s->s + i, pos - i)) == NULL)
				return -1;
		}
	} else {
		long at;
		while ((at = find_sub(s, pos, sep)) >= 0) {
			if ((parts[n++] = rv_str(m, s->s + pos, (size_t)at - pos)) == NULL)
				return -1;
			pos = (size_t)at + sep->len;
		}
		if ((parts[n++] = rv_str(m, s->s + pos, s->len - pos)) == NULL)
			return -1;
	}
	return (*out = rv_array(m, parts, n)) == NULL ? -1 : 1;
}

/* Decimal text only: [+-] digits [. digits] [e [+-] digits]; no inf, nan, hex. */
static bool decimal_text(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < len && isdigit((unsigned char)s[i]); i++)
		digits++;
	if (i < len && s[i] == '.')
		for (i++; i < len && isdigit((unsigned char)s[i]); i++)
			digits++;
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp = 0;
		if (++i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (; i < len && isdigit((unsigned char)s[i]); i++)
			exp++;
		if (exp == 0)
			return false;
	}
	return i == len && len < 64;
}

static int f_to_number(struct rego_ev *ev, struct rval **a, struct rval **out)
{
	char buf[64];
	double n;

	switch (a[0]->k) {
	case RV_NULL: return bi_num(ev, out, 0);
	case RV_BOOL: return bi_num(ev, out, a[0]->b ? 1 : 0);
	case RV_NUM: *out = a[0]; return 1;
	case RV_STR:
		if (!decimal_text(a[0]->s, a[0]->len))
			return 0;
		memcpy(buf, a[0]->s, a[0]->len);
		buf[a[0]->len] = '\0';
		n = strtod(buf, NULL);
		return isfinite(n) ? bi_num(ev, out, n) : 0;
	default: return 0;
	}
}

/* SemVer as OPA reads it (go-semver): MAJOR.MINOR.PATCH, each decimal
 * digits (leading zeros accepted, so NVIDIA's "595.71.05" is 595.71.5),
 * an optional -prerelease of dot-separated [0-9A-Za-z-] identifiers and an
 * optional +metadata, which does not take part in comparisons. */
struct semver {
	unsigned long long v[3];
	const char *pre;
	size_t prelen;
};

static bool ident_ok(const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (i == start)
				return false;
			start = i + 1;
		} else if (!isalnum((unsigned char)s[i]) && s[i] != '-') {
			return false;
		}
	}
	return true;
}

static bool semver_parse(const struct rval *x, struct semver *sv)
{
	const char *s = x->s, *end = x->s + x->len, *plus, *dash;
	int part = 0;

	if (x->k != RV_STR || x->len == 0 || x->len > 256)
		return false;
	plus = memchr(s, '+', x->len);
	if (plus != NULL && !ident_ok(plus + 1, (size_t)(end - plus - 1)))
		return false;
	if (plus != NULL)
		end = plus;
	dash = memchr(s, '-', (size_t)(end - s));
	sv->pre = dash ? dash + 1 : NULL;
	sv->prelen = dash ? (size_t)(end - dash - 1) : 0;
	if (dash != NULL && !ident_ok(sv->pre, sv->prelen))
		return false;
	if (dash != NULL)
		end = dash;
	memset(sv->v, 0, sizeof(sv->v));
	for (const char *p = s; part < 3; part++) {
		const char *q = p;
		while (q < end && isdigit((unsigned char)*q)) {
			if (sv->v[part] > 100000000000000ULL)
				return false;
			sv->v[part] = sv->v[part] * 10 + (unsigned)(*q - '0');
			q++;
		}
		if (q == p || (part < 2 && (q == end || *q != '.')) || (part == 2 && q != end))
			return false;
		p = q + 1;
	}
	return true;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* SemVer 2.0 precedence of pre-release identifiers. */
static int pre_cmp(const struct semver *x, const struct semver *y)
{
	size_t i = 0, j = 0;

	if (x->pre == NULL || y->pre == NULL)
		return x->pre == y->pre ? 0 : x->pre == NULL ? 1 : -1;
	while (i < x->prelen && j < y->prelen) {
		size_t ei = i, ej = j;
		while (ei < x->prelen && x->pre[ei] != '.')
			ei++;
		while (ej < y->prelen && y->pre[ej] != '.')
			ej++;
		bool nx = all_digits(x->pre + i, ei - i), ny = all_digits(y->pre + j, ej - j);
		int c;
		if (nx && ny) {
			double a = strtod(x->pre + i, NULL), b = strtod(y->pre + j, NULL);
			c = a < b ? -1 : a > b;
		} else if (nx != ny) {
			c = nx ? -1 : 1;
		} else {
			size_t la = ei - i, lb = ej - j;
			c = memcmp(x->pre + i, y->pre + j, la < lb ? la : lb);
			if (c == 0)
				c = la < lb ? -1 : la > lb;
		}
		if (c != 0)
			return c < 0 ? -1 : 1;
		i = ei + 1;
		j = ej + 1;
	}
	return i < x->prelen ? 1 : j < y->prelen ? -1 : 0;
}

static int f_semver_compare(struct rego_ev *ev, struct rval **a, struct rval **out)
{
	struct semver x, y;

	if (!semver_parse(a[0], &x) || !semver_parse(a[1], &y))
		return 0;
	for (int i = 0; i < 3; i++)
		if (x.v[i] != y.v[i])
			return bi_num(ev, out, x.v[i] < y.v[i] ? -1 : 1);
	return bi_num(ev, out, pre_cmp(&x, &y));
}

static int f_semver_is_valid(struct rego_ev *ev, struct rval **a, struct rval **out)
{
	struct semver x;

	(void)ev;
	return bi_bool(out, semver_parse(a[0], &x));
}

static int f_now_ns(struct rego_ev *ev, struct rval **a, struct rval **out)
{
	(void)a;
	return bi_num(ev, out, (double)rego_ev_now_ns(ev));
}

static int f_set(struct rego_ev *ev, struct rval **a, struct rval **out)
{
	(void)a;
	return (*out = rv_set(rego_ev_arena(ev), NULL, 0)) == NULL ? -1 : 1;
}

static const struct builtin {
	const char *name;
	int nargs;
	bi_fn fn;
} builtins[] = {
	{"count", 1, f_count},
	{"object.get", 3, f_object_get},
	{"is_object", 1, f_is_object},
	{"is_array", 1, f_is_array},
	{"is_set", 1, f_is_set},
	{"is_string", 1, f_is_string},
	{"is_number", 1, f_is_number},
	{"is_boolean", 1, f_is_boolean},
	{"is_null", 1, f_is_null},
	{"startswith", 2, f_startswith},
	{"endswith", 2, f_endswith},
	{"contains", 2, f_contains},
	{"lower", 1, f_lower},
	{"upper", 1, f_upper},
	{"split", 2, f_split},
	{"concat", 2, f_concat},
	{"to_number", 1, f_to_number},
	{"semver.compare", 2, f_semver_compare},
	{"semver.is_valid", 1, f_semver_is_valid},
	{"time.now_ns", 0, f_now_ns},
	{"set", 0, f_set},
};

int rego_builtin_find(const char *name, int nargs, int *want)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(builtins[i].name, name) == 0) {
			if (builtins[i].nargs == nargs)
				return (int)i;
			*want = builtins[i].nargs;
			return -2;
		}
	return -1;
}

int rego_builtin_call(struct rego_ev *ev, int bi, struct rval **args, struct rval **out)
{
	return builtins[bi].fn(ev, args, out);
}
