/*
 * Rego bodies and rules: literals in order (expressions, not, :=, some,
 * every), rule values (complete rules memoised for the evaluation; partial
 * sets and objects; else chains; defaults), function calls, and the entry
 * points. OPA semantics: an expression succeeds for every value other than
 * false; undefined propagates (a body with an undefined expression has no
 * solution, a rule with no solution is undefined or takes its default).
 */
#include "policy/rego_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool truthy(const struct rval *v)
{
	return !(v->k == RV_BOOL && !v->b);
}

struct bodyc {
	const struct body *b;
	int i;
	bk k;
	void *c;
	const struct lit *l;
	bool found;
	struct rval *coll;
};

static int next_lit(struct rego_ev *ev, frame_t *f, struct bodyc *bc)
{
	return rg_body(ev, f, bc->b, bc->i + 1, bc->k, bc->c);
}

static int expr_lit_k(struct rego_ev *ev, frame_t *f, struct rval *v, void *c)
{
	return truthy(v) ? next_lit(ev, f, c) : 0;
}

static int not_k(struct rego_ev *ev, frame_t *f, struct rval *v, void *c)
{
	struct bodyc *bc = c;

	(void)ev;
	(void)f;
	if (!truthy(v))
		return 0;
	bc->found = true;
	return 1;
}

static int assign_k(struct rego_ev *ev, frame_t *f, struct rval *v, void *c)
{
	struct bodyc *bc = c;
	const struct node *x = bc->l->lhs;
	int r;

	if (x->k != N_VAR)
		return next_lit(ev, f, bc);
	f[x->slot] = v;
	r = next_lit(ev, f, bc);
	f[x->slot] = NULL;
	return r;
}

static void bind(frame_t *f, const struct node *var, struct rval *v)
{
	if (var != NULL && var->k == N_VAR)
		f[var->slot] = v;
}

static int some_member_k(struct rego_ev *ev, frame_t *f, struct rval *key, struct rval *val, void *c)
{
	struct bodyc *bc = c;
	int r;

	bind(f, bc->l->key, key);
	bind(f, bc->l->val, val);
	r = next_lit(ev, f, bc);
	bind(f, bc->l->key, NULL);
	bind(f, bc->l->val, NULL);
	return r;
}

static int some_coll_k(struct rego_ev *ev, frame_t *f, struct rval *coll, void *c)
{
	return rg_each(ev, f, coll, ((struct bodyc *)c)->l->e, some_member_k, c);
}

static int every_found_bk(struct rego_ev *ev, frame_t *f, void *c)
{
	(void)ev;
	(void)f;
	((struct bodyc *)c)->found = true;
	return 1;
}

/* One member of an every domain: its body must have a solution. */
static int every_member_k(struct rego_ev *ev, frame_t *f, struct rval *key, struct rval *val, void *c)
{
	struct bodyc *bc = c;
	struct bodyc inner = {.l = bc->l};
	int r;

	bind(f, bc->l->key, key);
	bind(f, bc->l->val, val);
	r = rg_body(ev, f, bc->l->body, 0, every_found_bk, &inner);
	bind(f, bc->l->key, NULL);
	bind(f, bc->l->val, NULL);
	if (r < 0)
		return -1;
	if (!inner.found) {
		bc->found = false;
		return 1;
	}
	return 0;
}

static int every_coll_k(struct rego_ev *ev, frame_t *f, struct rval *coll, void *c)
{
	struct bodyc *bc = c;
	int r;

	/* A domain that is not a collection has no members to hold for: OPA
	 * iterates nothing; we fail closed and make the literal fail. */
	if (coll->k != RV_ARR && coll->k != RV_OBJ && coll->k != RV_SET)
		return 0;
	bc->found = true;
	if ((r = rg_each(ev, f, coll, bc->l->e, every_member_k, bc)) < 0)
		return -1;
	if (!bc->found)
		return 0;
	return next_lit(ev, f, bc);
}

static int eval_lit(struct rego_ev *ev, frame_t *f, struct bodyc *bc)
{
	const struct lit *l = bc->l;
	int r;

	switch (l->k) {
	case L_EXPR:
		return rg_expr(ev, f, l->e, expr_lit_k, bc);
	case L_NOT:
		if ((r = rg_expr(ev, f, l->e, not_k, bc)) < 0)
			return -1;
		return bc->found ? 0 : next_lit(ev, f, bc);
	case L_ASSIGN:
		return rg_expr(ev, f, l->e, assign_k, bc);
	case L_SOME_DECL:
		return next_lit(ev, f, bc);
	case L_SOME_IN:
		return rg_expr(ev, f, l->e, some_coll_k, bc);
	case L_EVERY:
		return rg_expr(ev, f, l->e, every_coll_k, bc);
	case L_UNIFY:
		break;
	}
	return rg_err(ev, l->line, l->col, "internal: unresolved literal");
}

int rg_body(struct rego_ev *ev, frame_t *f, const struct body *b, int i, bk k, void *c)
{
	struct bodyc bc = {b, i, k, c, NULL, false, NULL};
	int r;

	if (b == NULL || i == b->n)
		return k(ev, f, c);
	bc.l = &b->lits[i];
	if (rg_step(ev, bc.l->line, bc.l->col) != 0)
		return -1;
	ev->depth++;
	r = eval_lit(ev, f, &bc);
	ev->depth--;
	return r;
}

/* ---- rules ----------------------------------------------------------------- */

/* What the solutions of a rule's bodies produced. */
struct rulec {
	const struct rule *r;
	const struct rdef *d;
	struct rval *val;		/* complete rules and functions */
	struct rval **v;		/* partial rules: elements, or key/value pairs */
	size_t n, cap;
	struct rval *key;
	bool produced;			/* this branch had a solution */
	int line, col;
};

static int rule_add(struct rego_ev *ev, struct rulec *rc, struct rval *x)
{
	if (rc->n == rc->cap) {
		size_t cap = rc->cap ? 2 * rc->cap : 16;
		struct rval **v = arena_alloc(&ev->mem, cap * sizeof(*v));
		if (v == NULL)
			return rg_nomem(ev, rc->line, rc->col);
		if (rc->n)
			memcpy(v, rc->v, rc->n * sizeof(*v));
		rc->v = v;
		rc->cap = cap;
	}
	rc->v[rc->n++] = x;
	return 0;
}

static int complete_value_k(struct rego_ev *ev, frame_t *f, struct rval *v, void *c)
{
	struct rulec *rc = c;

	(void)f;
	if (rc->val != NULL && !rv_eq(rc->val, v))
		return rg_err(ev, rc->d->line, rc->d->col, "%s has two different values: %s must have one",
		    rc->r->name, rc->r->kind == R_FUNC ? "a function call" : "a complete rule");
	rc->val = v;
	rc->produced = true;
	return 0;
}

static int pobj_value_k(struct rego_ev *ev, frame_t *f, struct rval *v, void *c)
{
	struct rulec *rc = c;

	(void)f;
	rc->produced = true;
	return rule_add(ev, rc, rc->key) != 0 || rule_add(ev, rc, v) != 0 ? -1 : 0;
}

static int pobj_key_k(struct rego_ev *ev, frame_t *f, struct rval *key, void *c)
{
	struct rulec *rc = c;

	rc->key = key;
	return rg_expr(ev, f, rc->d->value, pobj_value_k, rc);
}

static int pset_key_k(struct rego_ev *ev, frame_t *f, struct rval *key, void *c)
{
	(void)f;
	((struct rulec *)c)->produced = true;
	return rule_add(ev, c, key) != 0 ? -1 : 0;
}

/* One solution of a body: the rule's value (or element) from it. */
static int solution_bk(struct rego_ev *ev, frame_t *f, void *c)
{
	struct rulec *rc = c;
	const struct rdef *d = rc->d;

	switch (rc->r->kind) {
	case R_PSET: return rg_expr(ev, f, d->key, pset_key_k, rc);
	case R_POBJ: return rg_expr(ev, f, d->key, pobj_key_k, rc);
	default:
		if (d->value == NULL)
			return complete_value_k(ev, f, &rv_true, rc);
		return rg_expr(ev, f, d->value, complete_value_k, rc);
	}
}

static frame_t *frame_push(struct rego_ev *ev, const struct rdef *d)
{
	frame_t *f;

	if (ev->ftop + (size_t)d->nslots + 1 > FRAME_STACK_SLOTS) {
		rg_err(ev, d->line, d->col, "more than %d variables live at once", FRAME_STACK_SLOTS);
		return NULL;
	}
	f = &ev->fstack[ev->ftop];
	memset(f, 0, ((size_t)d->nslots + 1) * sizeof(*f));
	ev->ftop += (size_t)d->nslots + 1;
	return f;
}

/* Function arguments: constants must equal, variables take the value. */
static bool bind_args(frame_t *f, const struct rdef *d, struct rval **args)
{
	for (int i = 0; i < d->nargs; i++) {
		const struct node *a = d->args[i];
		if (a->k == N_VAR)
			f[a->slot] = args[i];
		else if (a->k == N_CONST && !rv_eq(a->val, args[i]))
			return false;
	}
	return true;
}

/* A definition and its else chain: the first branch with a solution wins. */
static int eval_def(struct rego_ev *ev, struct rulec *rc, const struct rdef *head, struct rval **args)
{
	size_t mark = ev->ftop;
	frame_t *f = frame_push(ev, head);
	int r = 0;

	if (f == NULL)
		return -1;
	if (args == NULL || bind_args(f, head, args)) {
		for (const struct rdef *d = head; d != NULL; d = d->els) {
			rc->d = d;
			rc->produced = false;
			if ((r = rg_body(ev, f, d->body, 0, solution_bk, rc)) < 0 || rc->produced)
				break;
		}
	}
	ev->ftop = mark;
	return r < 0 ? -1 : 0;
}

static int finish_rule(struct rego_ev *ev, struct rulec *rc, struct rval **out)
{
	bool conflict = false;

	switch (rc->r->kind) {
	case R_PSET:
		*out = rv_set(&ev->mem, rc->v, rc->n);
		return *out ? 1 : rg_nomem(ev, rc->line, rc->col);
	case R_POBJ: {
		struct rval **keys = arena_alloc(&ev->mem, (rc->n / 2 + 1) * sizeof(*keys));
		struct rval **vals = arena_alloc(&ev->mem, (rc->n / 2 + 1) * sizeof(*vals));
		if (keys == NULL || vals == NULL)
			return rg_nomem(ev, rc->line, rc->col);
		for (size_t i = 0; i < rc->n / 2; i++) {
			keys[i] = rc->v[2 * i];
			vals[i] = rc->v[2 * i + 1];
		}
		*out = rv_object(&ev->mem, keys, vals, rc->n / 2, &conflict);
		if (conflict)
			return rg_err(ev, rc->line, rc->col, "%s has two different values for one key", rc->r->name);
		return *out ? 1 : rg_nomem(ev, rc->line, rc->col);
	}
	default:
		if (rc->val == NULL && rc->r->dflt != NULL)
			rc->val = rc->r->dflt->val;
		*out = rc->val;
		return rc->val != NULL;
	}
}

static int eval_rule(struct rego_ev *ev, struct rule *r, struct rval **args, const struct node *at,
    struct rval **out)
{
	struct rulec rc = {.r = r, .line = at->line, .col = at->col};

	for (int i = 0; i < r->ndefs; i++)
		if (eval_def(ev, &rc, r->defs[i], args) != 0)
			return -1;
	return finish_rule(ev, &rc, out);
}

int rg_rule_value(struct rego_ev *ev, struct rule *r, const struct node *at, struct rval **out)
{
	struct memo *m = &ev->memo[r->index];
	int res;

	if (m->state == 2) {
		*out = m->val;
		return m->val != NULL;
	}
	if (m->state == 1)
		return rg_err(ev, at->line, at->col, "internal: %s depends on itself", r->name);
	m->state = 1;
	ev->depth++;
	res = eval_rule(ev, r, NULL, at, out);
	ev->depth--;
	if (res < 0)
		return -1;
	m->state = 2;
	m->val = res ? *out : NULL;
	return res;
}

int rg_call(struct rego_ev *ev, struct rule *r, struct rval **args, const struct node *at, struct rval **out)
{
	int res;

	if (rg_step(ev, at->line, at->col) != 0)
		return -1;
	ev->depth++;
	res = eval_rule(ev, r, args, at, out);
	ev->depth--;
	return res;
}

/* ---- entry points ---------------------------------------------------------- */

static int ev_init(struct rego_ev *ev, const struct rego_policy *p, const json_t *input, int64_t now_s,
    struct gpa_err *e)
{
	long budget = REGO_MAX_INPUT_NODES;

	memset(ev, 0, sizeof(*ev));
	ev->p = p;
	ev->e = e;
	ev->mem.cap = REGO_MAX_MEMORY;
	ev->now_ns = now_s * 1000000000LL;
	ev->memo = calloc((size_t)p->nrules + 1, sizeof(*ev->memo));
	ev->fstack = malloc(FRAME_STACK_SLOTS * sizeof(*ev->fstack));
	if (ev->memo == NULL || ev->fstack == NULL) {
		gpa_err_set(e, "%s: out of memory", p->name);
		return -1;
	}
	if (input != NULL && (ev->input = rv_from_json(&ev->mem, input, &budget, 0, e)) == NULL) {
		gpa_err_prefix(e, "%s", p->name);
		return -1;
	}
	return 0;
}

static void ev_clear(struct rego_ev *ev)
{
	free(ev->memo);
	free(ev->fstack);
	arena_free(&ev->mem);
}

int rego_eval_rule(const struct rego_policy *p, const char *name, const json_t *input, int64_t now_s,
    json_t **value, struct gpa_err *e)
{
	struct rule *r = rego_find_rule(p, name);
	struct rego_ev ev;
	struct node at = {0};
	struct rval *v = NULL;
	int res;

	*value = NULL;
	if (r == NULL || r->kind == R_FUNC) {
		gpa_err_set(e, "%s: no rule %s", p->name, name);
		return -1;
	}
	at.line = r->line;
	at.col = r->col;
	if (ev_init(&ev, p, input, now_s, e) != 0) {
		ev_clear(&ev);
		return -1;
	}
	res = rg_rule_value(&ev, r, &at, &v);
	if (res == 1 && (*value = rv_to_json(v)) == NULL) {
		gpa_err_set(e, "%s: out of memory", p->name);
		res = -1;
	}
	ev_clear(&ev);
	return res;
}

int rego_decide(const struct rego_policy *p, const json_t *input, int64_t now_s, bool *match, struct gpa_err *e)
{
	json_t *v = NULL;
	int res = rego_eval_rule(p, "nv_match", input, now_s, &v, e);

	*match = false;
	if (res < 0)
		return -1;
	/* Undefined (no body holds, no default) is no match, as NVIDIA's SDK
	 * reads an empty result and as OPA's deny-by-default has it. */
	if (res == 0)
		return 0;
	if (!json_is_boolean(v)) {
		gpa_err_set(e, "%s: nv_match is a %s, not a boolean", p->name,
		    json_is_string(v) ? "string" : json_is_number(v) ? "number" : json_is_null(v) ? "null" :
		    json_is_array(v) ? "array or set" : "object");
		json_decref(v);
		return -1;
	}
	*match = json_is_true(v);
	json_decref(v);
	return 0;
}
