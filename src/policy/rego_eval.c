/*
 * Rego evaluator: top-down, by continuations. An expression produces zero
 * (undefined), one, or several values (iteration: x[_], some, refs with new
 * variables); each value is handed to a continuation, which goes on with the
 * rest of the body. Variables live in frame slots, bound while their
 * continuation runs and unbound after, so backtracking costs nothing.
 *
 * Continuations return 0 to ask for more values, 1 to stop (enough found)
 * and -1 on an evaluation error, which always ends the whole evaluation.
 * Complete rules and functions enumerate every solution, as OPA does, so
 * that two different values are an error and never a silent pick.
 */
#include "policy/rego_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena *rego_ev_arena(struct rego_ev *ev)
{
	return &ev->mem;
}

int64_t rego_ev_now_ns(struct rego_ev *ev)
{
	return ev->now_ns;
}

int rg_err(struct rego_ev *ev, int line, int col, const char *fmt, ...)
{
	char msg[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gpa_err_set(ev->e, "%s:%d:%d: evaluation: %s", ev->p->name, line, col, msg);
	return -1;
}

int rg_nomem(struct rego_ev *ev, int line, int col)
{
	return rg_err(ev, line, col, "more than the %u bytes of memory an evaluation may use", REGO_MAX_MEMORY);
}

/* Every literal, expression and iteration step counts; so does depth. */
int rg_step(struct rego_ev *ev, int line, int col)
{
	if (++ev->steps > REGO_MAX_STEPS)
		return rg_err(ev, line, col, "more than %ld steps", REGO_MAX_STEPS);
	if (ev->depth >= REGO_MAX_DEPTH)
		return rg_err(ev, line, col, "nested more than %d levels deep", REGO_MAX_DEPTH);
	return 0;
}

/* ---- iteration over collections ---------------------------------------- */

/* Calls k for each (key, value) of coll; scalars have none. */
int rg_each(struct rego_ev *ev, frame_t *f, struct rval *coll, const struct node *at, kvk k, void *c)
{
	for (size_t i = 0; i < coll->len && (coll->k == RV_ARR || coll->k == RV_OBJ || coll->k == RV_SET); i++) {
		struct rval *key, *val = coll->v[i];
		int r;

		if (rg_step(ev, at->line, at->col) != 0)
			return -1;
		if (coll->k == RV_ARR) {
			if ((key = rv_num(&ev->mem, (double)i)) == NULL)
				return rg_nomem(ev, at->line, at->col);
		} else {
			key = coll->k == RV_OBJ ? coll->keys[i] : val;
		}
		if ((r = k(ev, f, key, val, c)) != 0)
			return r;
	}
	return 0;
}

/* x[key]: the member, or NULL when there is none. */
static struct rval *member(struct rval *coll, struct rval *key)
{
	switch (coll->k) {
	case RV_ARR:
		if (key->k != RV_NUM || key->n < 0 || key->n != floor(key->n) || key->n >= (double)coll->len)
			return NULL;
		return coll->v[(size_t)key->n];
	case RV_OBJ:
		return rv_obj_get(coll, key);
	case RV_SET:
		return rv_set_has(coll, key) ? key : NULL;
	default:
		return NULL;
	}
}

/* ---- references: base, then each path element -------------------------- */

struct refc {
	const struct node *n;
	int i;
	struct rval *coll;
	vk k;
	void *c;
};

static int ref_walk(struct rego_ev *ev, frame_t *f, struct rval *v, const struct node *n, int i, vk k, void *c);

static int ref_iter_k(struct rego_ev *ev, frame_t *f, struct rval *key, struct rval *val, void *c)
{
	struct refc *rc = c;
	const struct node *el = rc->n->kids[rc->i];
	int r;

	if (el->k == N_VAR)
		f[el->slot] = key;
	r = ref_walk(ev, f, val, rc->n, rc->i + 1, rc->k, rc->c);
	if (el->k == N_VAR)
		f[el->slot] = NULL;
	return r;
}

static int ref_key_k(struct rego_ev *ev, frame_t *f, struct rval *key, void *c)
{
	struct refc *rc = c;
	struct rval *m = member(rc->coll, key);

	return m == NULL ? 0 : ref_walk(ev, f, m, rc->n, rc->i + 1, rc->k, rc->c);
}

static int ref_walk(struct rego_ev *ev, frame_t *f, struct rval *v, const struct node *n, int i, vk k, void *c)
{
	struct refc rc = {n, i, v, k, c};
	const struct node *el;

	if (i == n->n)
		return k(ev, f, v, c);
	el = n->kids[i];
	if (el->k == N_WILD || (el->k == N_VAR && f[el->slot] == NULL))
		return rg_each(ev, f, v, el, ref_iter_k, &rc);
	if (el->k == N_CONST) {
		struct rval *m = member(v, el->val);
		return m == NULL ? 0 : ref_walk(ev, f, m, n, i + 1, k, c);
	}
	return rg_expr(ev, f, el, ref_key_k, &rc);
}

static int ref_base_k(struct rego_ev *ev, frame_t *f, struct rval *v, void *c)
{
	struct refc *rc = c;

	return ref_walk(ev, f, v, rc->n, 0, rc->k, rc->c);
}

/* ---- lists of expressions: arguments and collection elements ----------- */

struct listc {
	const struct node *n;
	int i;
	struct rval **vals;
	int (*fin)(struct rego_ev *ev, frame_t *f, struct listc *lc);
	vk k;
	void *c;
};

static int eval_list(struct rego_ev *ev, frame_t *f, struct listc *lc);

static int list_k(struct rego_ev *ev, frame_t *f, struct rval *v, void *c)
{
	struct listc *lc = c;
	int r;

	lc->vals[lc->i++] = v;
	r = eval_list(ev, f, lc);
	lc->i--;
	return r;
}

static int eval_list(struct rego_ev *ev, frame_t *f, struct listc *lc)
{
	if (lc->i == lc->n->n)
		return lc->fin(ev, f, lc);
	return rg_expr(ev, f, lc->n->kids[lc->i], list_k, lc);
}

static int run_list(struct rego_ev *ev, frame_t *f, const struct node *n,
    int (*fin)(struct rego_ev *, frame_t *, struct listc *), vk k, void *c)
{
	struct rval *small[8];
	struct listc lc = {n, 0, small, fin, k, c};

	if (n->n > 8 && (lc.vals = arena_alloc(&ev->mem, (size_t)n->n * sizeof(*lc.vals))) == NULL)
		return rg_nomem(ev, n->line, n->col);
	return eval_list(ev, f, &lc);
}

static int fin_call(struct rego_ev *ev, frame_t *f, struct listc *lc)
{
	const struct node *n = lc->n;
	struct rval *out = NULL;
	int r;

	if (n->bi >= 0) {
		r = rego_builtin_call(ev, n->bi, lc->vals, &out);
		if (r < 0)
			return ev->e->msg[0] ? -1 : rg_nomem(ev, n->line, n->col);
	} else {
		r = rg_call(ev, n->rule, lc->vals, n, &out);
		if (r < 0)
			return -1;
	}
	return r == 0 ? 0 : lc->k(ev, f, out, lc->c);
}

static int fin_collection(struct rego_ev *ev, frame_t *f, struct listc *lc)
{
	const struct node *n = lc->n;
	size_t cnt = (size_t)n->n;
	struct rval *v = NULL;
	bool conflict = false;

	if (n->k == N_ARRAY) {
		v = rv_array(&ev->mem, lc->vals, cnt);
	} else if (n->k == N_SET) {
		v = rv_set(&ev->mem, lc->vals, cnt);
	} else {
		struct rval **keys = arena_alloc(&ev->mem, (cnt / 2 + 1) * sizeof(*keys));
		struct rval **vals = arena_alloc(&ev->mem, (cnt / 2 + 1) * sizeof(*vals));
		if (keys == NULL || vals == NULL)
			return rg_nomem(ev, n->line, n->col);
		for (size_t i = 0; i < cnt / 2; i++) {
			keys[i] = lc->vals[2 * i];
			vals[i] = lc->vals[2 * i + 1];
		}
		v = rv_object(&ev->mem, keys, vals, cnt / 2, &conflict);
		if (conflict)
			return rg_err(ev, n->line, n->col, "object with two different values for one key");
	}
	if (v == NULL)
		return rg_nomem(ev, n->line, n->col);
	return lc->k(ev, f, v, lc->c);
}

/* ---- comprehensions ----------------------------------------------------- */

struct growc {
	struct rval **v;
	size_t n, cap;
	const struct node *n_at;
	const struct node *head, *val;	/* value expression of an object comprehension */
	struct rval *key;
};

static int grow_add(struct rego_ev *ev, struct growc *g, struct rval *x)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		struct rval **v = arena_alloc(&ev->mem, cap * sizeof(*v));
		if (v == NULL)
			return rg_nomem(ev, g->n_at->line, g->n_at->col);
		if (g->n)
			memcpy(v, g->v, g->n * sizeof(*v));
		g->v = v;
		g->cap = cap;
	}
	g->v[g->n++] = x;
	return 0;
}

static int comp_val_k(struct rego_ev *ev, frame_t *f, struct rval *v, void *c)
{
	struct growc *g = c;

	(void)f;
	if (g->val != NULL && (grow_add(ev, g, g->key) != 0))
		return -1;
	return grow_add(ev, g, v);
}

static int comp_key_k(struct rego_ev *ev, frame_t *f, struct rval *v, void *c)
{
	struct growc *g = c;

	g->key = v;
	return rg_expr(ev, f, g->val, comp_val_k, g);
}

static int comp_bk(struct rego_ev *ev, frame_t *f, void *c)
{
	struct growc *g = c;

	return rg_expr(ev, f, g->head, g->val ? comp_key_k : comp_val_k, g);
}

static int eval_comprehension(struct rego_ev *ev, frame_t *f, const struct node *n, vk k, void *c)
{
	struct growc g = {.n_at = n, .head = n->a, .val = n->b};
	struct rval *v;
	bool conflict = false;

	if (rg_body(ev, f, n->body, 0, comp_bk, &g) < 0)
		return -1;
	if (n->k == N_ACOMP) {
		v = rv_array(&ev->mem, g.v, g.n);
	} else if (n->k == N_SCOMP) {
		v = rv_set(&ev->mem, g.v, g.n);
	} else {
		struct rval **keys = arena_alloc(&ev->mem, (g.n / 2 + 1) * sizeof(*keys));
		struct rval **vals = arena_alloc(&ev->mem, (g.n / 2 + 1) * sizeof(*vals));
		if (keys == NULL || vals == NULL)
			return rg_nomem(ev, n->line, n->col);
		for (size_t i = 0; i < g.n / 2; i++) {
			keys[i] = g.v[2 * i];
			vals[i] = g.v[2 * i + 1];
		}
		v = rv_object(&ev->mem, keys, vals, g.n / 2, &conflict);
		if (conflict)
			return rg_err(ev, n->line, n->col, "object comprehension with two different values for one key");
	}
	if (v == NULL)
		return rg_nomem(ev, n->line, n->col);
	return k(ev, f, v, c);
}

/* ---- operators ----------------------------------------------------------- */

/* 1 with *out, 0 undefined (operands of the wrong type), -1 memory. */
static int arith(struct rego_ev *ev, enum binop op, struct rval *x, struct rval *y, struct rval **out)
{
	double r;

	if (x->k == RV_SET && y->k == RV_SET && (op == OP_SUB || op == OP_OR || op == OP_AND)) {
		struct rval **el = arena_alloc(&ev->mem, (x->len + y->len + 1) * sizeof(*el));
		size_t n = 0;
		if (el == NULL)
			return -1;
		for (size_t i = 0; i < x->len; i++)
			if (op == OP_OR || (op == OP_SUB) != rv_set_has(y, x->v[i]))
				el[n++] = x->v[i];
		for (size_t i = 0; op == OP_OR && i < y->len; i++)
			el[n++] = y->v[i];
		return (*out = rv_set(&ev->mem, el, n)) == NULL ? -1 : 1;
	}
	if (x->k != RV_NUM || y->k != RV_NUM || op == OP_OR || op == OP_AND)
		return 0;
	switch (op) {
	case OP_ADD: r = x->n + y->n; break;
	case OP_SUB: r = x->n - y->n; break;
	case OP_MUL: r = x->n * y->n; break;
	case OP_DIV:
		if (y->n == 0)
			return 0;	/* OPA: "divide by zero", an undefined result */
		r = x->n / y->n;
		break;
	case OP_MOD:
		if (y->n == 0 || x->n != floor(x->n) || y->n != floor(y->n) || fabs(x->n) > 9007199254740992.0 ||
		    fabs(y->n) > 9007199254740992.0)
			return 0;	/* OPA: modulo of non-integers is an error */
		r = (double)((long long)x->n % (long long)y->n);
		break;
	default: return 0;
	}
	if (!isfinite(r))
		return 0;
	return (*out = rv_num(&ev->mem, r)) == NULL ? -1 : 1;
}

static struct rval *compare(enum binop op, struct rval *x, struct rval *y)
{
	int c = rv_cmp(x, y);

	switch (op) {
	case OP_EQ: return rv_bool(c == 0);
	case OP_NE: return rv_bool(c != 0);
	case OP_LT: return rv_bool(c < 0);
	case OP_LE: return rv_bool(c <= 0);
	case OP_GT: return rv_bool(c > 0);
	case OP_GE: return rv_bool(c >= 0);
	default: return NULL;
	}
}

struct binc {
	const struct node *n;
	struct rval *left, *key;
	vk k;
	void *c;
};

static int bin_right_k(struct rego_ev *ev, frame_t *f, struct rval *y, void *c)
{
	struct binc *bc = c;
	struct rval *out = compare(bc->n->op, bc->left, y);
	int r;

	if (out == NULL) {
		r = arith(ev, bc->n->op, bc->left, y, &out);
		if (r < 0)
			return rg_nomem(ev, bc->n->line, bc->n->col);
		if (r == 0)
			return 0;
	}
	return bc->k(ev, f, out, bc->c);
}

static int bin_left_k(struct rego_ev *ev, frame_t *f, struct rval *x, void *c)
{
	struct binc *bc = c;
	struct binc right = *bc;

	right.left = x;
	return rg_expr(ev, f, bc->n->b, bin_right_k, &right);
}

/* x in coll: members of arrays and sets, values of objects; k, x in coll
 * also needs the key (array index, object key, the set element itself). */
static bool contains_member(struct rval *coll, struct rval *key, struct rval *x)
{
	if (coll->k == RV_SET)
		return rv_set_has(coll, x) && (key == NULL || rv_eq(key, x));
	if (coll->k != RV_ARR && coll->k != RV_OBJ)
		return false;
	if (key != NULL) {
		struct rval *m = member(coll, key);
		return m != NULL && rv_eq(m, x);
	}
	for (size_t i = 0; i < coll->len; i++)
		if (rv_eq(coll->v[i], x))
			return true;
	return false;
}

static int in_coll_k(struct rego_ev *ev, frame_t *f, struct rval *coll, void *c)
{
	struct binc *bc = c;

	return bc->k(ev, f, rv_bool(contains_member(coll, bc->key, bc->left)), bc->c);
}

static int in_val_k(struct rego_ev *ev, frame_t *f, struct rval *x, void *c)
{
	struct binc next = *(struct binc *)c;

	next.left = x;
	return rg_expr(ev, f, next.n->b, in_coll_k, &next);
}

static int in_key_k(struct rego_ev *ev, frame_t *f, struct rval *key, void *c)
{
	struct binc next = *(struct binc *)c;

	next.key = key;
	return rg_expr(ev, f, next.n->a, in_val_k, &next);
}

static int neg_k(struct rego_ev *ev, frame_t *f, struct rval *x, void *c)
{
	struct binc *bc = c;
	struct rval *out;

	if (x->k != RV_NUM)
		return 0;
	if ((out = rv_num(&ev->mem, -x->n)) == NULL)
		return rg_nomem(ev, bc->n->line, bc->n->col);
	return bc->k(ev, f, out, bc->c);
}

/* ---- expressions ---------------------------------------------------------- */

static int eval_expr_in(struct rego_ev *ev, frame_t *f, const struct node *n, vk k, void *c)
{
	struct binc bc = {n, NULL, NULL, k, c};
	struct refc rc = {n, 0, NULL, k, c};
	struct rval *v;
	int r;

	switch (n->k) {
	case N_CONST: return k(ev, f, n->val, c);
	case N_INPUT: return ev->input ? k(ev, f, ev->input, c) : 0;
	case N_VAR:
		if (f[n->slot] == NULL)
			return rg_err(ev, n->line, n->col, "variable used before it has a value");
		return k(ev, f, f[n->slot], c);
	case N_RULE:
		if ((r = rg_rule_value(ev, n->rule, n, &v)) <= 0)
			return r;
		return k(ev, f, v, c);
	case N_REF: return rg_expr(ev, f, n->a, ref_base_k, &rc);
	case N_CALL: return run_list(ev, f, n, fin_call, k, c);
	case N_ARRAY:
	case N_SET:
	case N_OBJECT: return run_list(ev, f, n, fin_collection, k, c);
	case N_ACOMP:
	case N_SCOMP:
	case N_OCOMP: return eval_comprehension(ev, f, n, k, c);
	case N_BINOP: return rg_expr(ev, f, n->a, bin_left_k, &bc);
	case N_NEG: return rg_expr(ev, f, n->a, neg_k, &bc);
	case N_IN:
		if (n->c != NULL)
			return rg_expr(ev, f, n->c, in_key_k, &bc);
		return rg_expr(ev, f, n->a, in_val_k, &bc);
	default:
		return rg_err(ev, n->line, n->col, "internal: unresolved expression");
	}
}

int rg_expr(struct rego_ev *ev, frame_t *f, const struct node *n, vk k, void *c)
{
	int r;

	if (rg_step(ev, n->line, n->col) != 0)
		return -1;
	ev->depth++;
	r = eval_expr_in(ev, f, n, k, c);
	ev->depth--;
	return r;
}

