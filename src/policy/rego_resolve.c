/*
 * Name resolution and safety, after parsing: every name becomes a local
 * variable (a frame slot), a rule, input, or a builtin; data.policy.x
 * becomes rule x. A variable must be bound before it is used (OPA's safety
 * rule, checked in textual order: we do not reorder), except where it
 * iterates (x[i] with i new binds i). Constant collections are built once.
 * Then rules that depend on themselves are refused (OPA refuses them too).
 */
#include "policy/rego_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SCOPE_MAX 128

struct scope_ent {
	const char *name;
	int slot;
	bool bound;
};

struct scope {
	struct scope_ent ent[SCOPE_MAX];
	int n;
	struct scope *up;
};

struct rctx {
	struct rego_policy *p;
	struct gpa_err *e;
	int nslots;
	bool failed;
};

static void rerr(struct rctx *rc, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void rerr(struct rctx *rc, int line, int col, const char *fmt, ...)
{
	char msg[700];
	va_list ap;

	if (rc->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gpa_err_set(rc->e, "%s:%d:%d: %s", rc->p->name, line, col, msg);
	rc->failed = true;
}

static struct scope_ent *lookup(struct scope *sc, const char *name, bool *local)
{
	for (struct scope *s = sc; s != NULL; s = s->up)
		for (int i = s->n - 1; i >= 0; i--)
			if (strcmp(s->ent[i].name, name) == 0) {
				if (local)
					*local = s == sc;
				return &s->ent[i];
			}
	return NULL;
}

static struct scope_ent *declare(struct rctx *rc, struct scope *sc, const struct node *n, bool bound)
{
	if (sc->n == SCOPE_MAX || rc->nslots == REGO_MAX_SLOTS) {
		rerr(rc, n->line, n->col, "too many variables (at most %d in a scope, %d in a rule)", SCOPE_MAX,
		    REGO_MAX_SLOTS);
		return NULL;
	}
	if (strcmp(n->text, "input") == 0 || strcmp(n->text, "data") == 0) {
		rerr(rc, n->line, n->col, "%s cannot be a variable", n->text);
		return NULL;
	}
	sc->ent[sc->n] = (struct scope_ent){n->text, rc->nslots++, bound};
	return &sc->ent[sc->n++];
}

static void resolve_body(struct rctx *rc, struct scope *sc, struct body *b);
static void resolve_expr(struct rctx *rc, struct scope *sc, struct node *n);

static void to_var(struct node *n, int slot)
{
	n->k = N_VAR;
	n->slot = slot;
}

static bool all_const(struct node **kids, int n)
{
	for (int i = 0; i < n; i++)
		if (kids[i]->k != N_CONST)
			return false;
	return true;
}

/* [1, 2], {"a", "b"}, {"k": 1} with constants only: built once, here. */
static void fold(struct rctx *rc, struct node *n)
{
	struct arena *a = &rc->p->mem;
	struct rval **vals;
	bool conflict = false;

	if (!all_const(n->kids, n->n))
		return;
	if ((vals = arena_alloc(a, (size_t)(n->n + 1) * sizeof(*vals))) == NULL)
		return;
	for (int i = 0; i < n->n; i++)
		vals[i] = n->kids[i]->val;
	if (n->k == N_ARRAY) {
		n->val = rv_array(a, vals, (size_t)n->n);
	} else if (n->k == N_SET) {
		n->val = rv_set(a, vals, (size_t)n->n);
	} else {
		struct rval **keys = arena_alloc(a, (size_t)(n->n / 2 + 1) * sizeof(*keys));
		struct rval **vs = arena_alloc(a, (size_t)(n->n / 2 + 1) * sizeof(*vs));
		if (keys == NULL || vs == NULL)
			return;
		for (int i = 0; i < n->n / 2; i++) {
			keys[i] = vals[2 * i];
			vs[i] = vals[2 * i + 1];
		}
		n->val = rv_object(a, keys, vs, (size_t)n->n / 2, &conflict);
		if (conflict) {
			rerr(rc, n->line, n->col, "object literal with two values for one key");
			return;
		}
	}
	if (n->val != NULL)
		n->k = N_CONST;
}

static void resolve_name(struct rctx *rc, struct scope *sc, struct node *n, bool iterate)
{
	struct scope_ent *v = lookup(sc, n->text, NULL);
	struct rule *r;

	if (strcmp(n->text, "input") == 0) {
		n->k = N_INPUT;
		return;
	}
	if (v != NULL && (v->bound || iterate)) {
		v->bound = true;
		to_var(n, v->slot);
		return;
	}
	if (v == NULL && (r = rego_find_rule(rc->p, n->text)) != NULL) {
		if (r->kind == R_FUNC) {
			rerr(rc, n->line, n->col, "function %s used without arguments", n->text);
			return;
		}
		n->k = N_RULE;
		n->rule = r;
		return;
	}
	if (strcmp(n->text, "data") == 0) {
		rerr(rc, n->line, n->col, "data: only data.%s.<rule> can be referenced", rc->p->package);
		return;
	}
	if (iterate) {
		/* x[i] with i new: i iterates over the keys. */
		if ((v = declare(rc, sc, n, true)) != NULL)
			to_var(n, v->slot);
		return;
	}
	rerr(rc, n->line, n->col, "variable %s is unsafe: it is not assigned before this use (and no rule has that name)",
	    n->text);
}

/* data.policy.rule[...] becomes rule[...]. */
static bool resolve_data_ref(struct rctx *rc, struct node *n)
{
	struct rule *r;

	if (n->a->k != N_NAME || strcmp(n->a->text, "data") != 0)
		return false;
	if (n->n < 2 || n->kids[0]->k != N_CONST || n->kids[0]->val->k != RV_STR ||
	    strcmp(n->kids[0]->val->s, rc->p->package) != 0 || n->kids[1]->k != N_CONST ||
	    n->kids[1]->val->k != RV_STR) {
		rerr(rc, n->line, n->col, "data: only data.%s.<rule> can be referenced", rc->p->package);
		return true;
	}
	if ((r = rego_find_rule(rc->p, n->kids[1]->val->s)) == NULL || r->kind == R_FUNC) {
		rerr(rc, n->line, n->col, "data.%s.%s: no such rule", rc->p->package, n->kids[1]->val->s);
		return true;
	}
	n->a->k = N_RULE;
	n->a->rule = r;
	n->kids += 2;
	n->n -= 2;
	if (n->n == 0)
		*n = *n->a;
	return true;
}

static void resolve_ref(struct rctx *rc, struct scope *sc, struct node *n)
{
	if (!resolve_data_ref(rc, n))
		resolve_expr(rc, sc, n->a);
	if (n->k != N_REF)
		return;
	for (int i = 0; i < n->n && !rc->failed; i++) {
		struct node *el = n->kids[i];
		if (el->k == N_NAME && strcmp(el->text, "input") != 0)
			resolve_name(rc, sc, el, true);
		else if (el->k != N_WILD)
			resolve_expr(rc, sc, el);
	}
}

static void resolve_call(struct rctx *rc, struct scope *sc, struct node *n)
{
	const char *name = n->text;
	struct rule *r;
	int want;
	char pkg[300];

	snprintf(pkg, sizeof(pkg), "data.%s.", rc->p->package);
	if (strncmp(name, pkg, strlen(pkg)) == 0)
		name += strlen(pkg);
	if ((r = rego_find_rule(rc->p, name)) != NULL) {
		if (r->kind != R_FUNC)
			rerr(rc, n->line, n->col, "%s is a rule, not a function", name);
		else if (r->nargs != n->n)
			rerr(rc, n->line, n->col, "%s takes %d argument(s), not %d", name, r->nargs, n->n);
		n->rule = r;
		n->bi = -1;
	} else if ((n->bi = rego_builtin_find(name, n->n, &want)) == -2) {
		rerr(rc, n->line, n->col, "%s takes %d argument(s), not %d", name, want, n->n);
	} else if (n->bi < 0) {
		rerr(rc, n->line, n->col, "function %s is not supported (not a rule of this policy nor a builtin of the subset)",
		    name);
	}
	for (int i = 0; i < n->n && !rc->failed; i++)
		resolve_expr(rc, sc, n->kids[i]);
}

static void resolve_comprehension(struct rctx *rc, struct scope *sc, struct node *n)
{
	struct scope inner = {.up = sc};

	resolve_body(rc, &inner, n->body);
	resolve_expr(rc, &inner, n->a);
	if (n->b != NULL)
		resolve_expr(rc, &inner, n->b);
}

static void resolve_expr(struct rctx *rc, struct scope *sc, struct node *n)
{
	if (rc->failed)
		return;
	switch (n->k) {
	case N_NAME:
		resolve_name(rc, sc, n, false);
		return;
	case N_WILD:
		rerr(rc, n->line, n->col, "_ can only iterate (x[_]) or stand for an ignored variable");
		return;
	case N_REF:
		resolve_ref(rc, sc, n);
		return;
	case N_CALL:
		resolve_call(rc, sc, n);
		return;
	case N_ARRAY:
	case N_SET:
	case N_OBJECT:
		for (int i = 0; i < n->n; i++)
			resolve_expr(rc, sc, n->kids[i]);
		if (!rc->failed)
			fold(rc, n);
		return;
	case N_ACOMP:
	case N_SCOMP:
	case N_OCOMP:
		resolve_comprehension(rc, sc, n);
		return;
	case N_IN:
		if (n->c != NULL)
			resolve_expr(rc, sc, n->c);
		/* fall through */
	case N_BINOP:
		resolve_expr(rc, sc, n->a);
		resolve_expr(rc, sc, n->b);
		return;
	case N_NEG:
		resolve_expr(rc, sc, n->a);
		return;
	default:
		return;
	}
}

/* A new variable for := / some / every (shadowing outer ones). */
static void bind_new(struct rctx *rc, struct scope *sc, struct node *n, bool may_redeclare)
{
	bool local = false;
	struct scope_ent *v;

	if (n == NULL || n->k == N_WILD)
		return;
	v = lookup(sc, n->text, &local);
	if (v != NULL && local && !v->bound) {
		/* some x; x := ...: the declared variable gets its value. */
		v->bound = true;
		to_var(n, v->slot);
		return;
	}
	if (v != NULL && local && !may_redeclare) {
		rerr(rc, n->line, n->col, "variable %s is assigned twice (':=' declares a new variable)", n->text);
		return;
	}
	if ((v = declare(rc, sc, n, true)) != NULL)
		to_var(n, v->slot);
}

/* A name that '=' may bind: not a bound variable, not a rule, not input. */
static bool unbound_name(struct scope *sc, struct rctx *rc, const struct node *n)
{
	struct scope_ent *v;

	if (n->k != N_NAME || strcmp(n->text, "input") == 0 || strcmp(n->text, "data") == 0)
		return false;
	v = lookup(sc, n->text, NULL);
	return v != NULL ? !v->bound : rego_find_rule(rc->p, n->text) == NULL;
}

static void resolve_unify(struct rctx *rc, struct scope *sc, struct lit *l)
{
	struct node *tmp;

	if (unbound_name(sc, rc, l->e) && !unbound_name(sc, rc, l->lhs)) {
		tmp = l->lhs;
		l->lhs = l->e;
		l->e = tmp;
	}
	if (unbound_name(sc, rc, l->lhs)) {
		resolve_expr(rc, sc, l->e);
		bind_new(rc, sc, l->lhs, false);
		l->k = L_ASSIGN;
		return;
	}
	if (l->lhs->k == N_ARRAY || l->lhs->k == N_OBJECT || l->e->k == N_ARRAY || l->e->k == N_OBJECT) {
		/* [a, b] = x unifies patterns: not in the subset unless both sides are ground. */
		struct gpa_err saved = *rc->e;
		resolve_expr(rc, sc, l->lhs);
		resolve_expr(rc, sc, l->e);
		if (rc->failed) {
			*rc->e = saved;
			rc->failed = false;
			rerr(rc, l->line, l->col, "unification of patterns ([a, b] = x) is not supported");
			return;
		}
	} else {
		resolve_expr(rc, sc, l->lhs);
		resolve_expr(rc, sc, l->e);
	}
	/* Both sides known: '=' compares. */
	struct node *eq = arena_alloc(&rc->p->mem, sizeof(*eq));
	if (eq == NULL) {
		rerr(rc, l->line, l->col, "policy too large");
		return;
	}
	*eq = (struct node){.k = N_BINOP, .line = l->line, .col = l->col, .op = OP_EQ, .a = l->lhs, .b = l->e};
	l->k = L_EXPR;
	l->e = eq;
	l->lhs = NULL;
}

static bool same_names(const struct node *a, const struct node *b)
{
	return a != NULL && b != NULL && a->k == N_NAME && b->k == N_NAME && strcmp(a->text, b->text) == 0;
}

static void resolve_lit(struct rctx *rc, struct scope *sc, struct lit *l)
{
	struct scope inner = {.up = sc};

	switch (l->k) {
	case L_EXPR:
		resolve_expr(rc, sc, l->e);
		break;
	case L_NOT:
		/* What a negated expression iterates stays inside it. */
		resolve_expr(rc, &inner, l->e);
		break;
	case L_ASSIGN:
		resolve_expr(rc, sc, l->e);
		bind_new(rc, sc, l->lhs, false);
		break;
	case L_UNIFY:
		resolve_unify(rc, sc, l);
		break;
	case L_SOME_DECL:
		for (int i = 0; i < l->ndecl && !rc->failed; i++) {
			struct scope_ent *v = declare(rc, sc, l->decl[i], false);
			if (v != NULL)
				to_var(l->decl[i], v->slot);
		}
		break;
	case L_SOME_IN:
		if (same_names(l->key, l->val)) {
			rerr(rc, l->line, l->col, "some: key and value must be different variables");
			break;
		}
		resolve_expr(rc, sc, l->e);
		bind_new(rc, sc, l->key, true);
		bind_new(rc, sc, l->val, true);
		break;
	case L_EVERY:
		if (same_names(l->key, l->val)) {
			rerr(rc, l->line, l->col, "every: key and value must be different variables");
			break;
		}
		resolve_expr(rc, sc, l->e);
		bind_new(rc, &inner, l->key, true);
		bind_new(rc, &inner, l->val, true);
		resolve_body(rc, &inner, l->body);
		break;
	}
}

static void resolve_body(struct rctx *rc, struct scope *sc, struct body *b)
{
	for (int i = 0; b != NULL && i < b->n && !rc->failed; i++)
		resolve_lit(rc, sc, &b->lits[i]);
}

/* Function arguments: variables, _ or constants (matched by equality). */
static void resolve_args(struct rctx *rc, struct scope *sc, struct rdef *d)
{
	for (int i = 0; i < d->nargs && !rc->failed; i++) {
		struct node *a = d->args[i];
		if (a->k == N_NAME) {
			bool local;
			if (lookup(sc, a->text, &local) != NULL) {
				rerr(rc, a->line, a->col, "argument %s appears twice", a->text);
				return;
			}
			bind_new(rc, sc, a, false);
		} else if (a->k != N_WILD) {
			resolve_expr(rc, sc, a);
			if (rc->failed || a->k != N_CONST) {
				rc->failed = false;
				rerr(rc, a->line, a->col, "function arguments must be variables or constants (patterns are not supported)");
			}
		}
	}
}

static void resolve_def(struct rctx *rc, struct rdef *d)
{
	struct scope args = {0};
	struct rdef *head = d;

	rc->nslots = 0;
	for (; d != NULL && !rc->failed; d = d->els) {
		/* Each else branch sees the arguments, not the other branches' variables. */
		struct scope sc = {.up = &args};
		if (d == head)
			resolve_args(rc, &args, d);
		resolve_body(rc, &sc, d->body);
		if (d->key != NULL)
			resolve_expr(rc, &sc, d->key);
		if (d->value != NULL)
			resolve_expr(rc, &sc, d->value);
	}
	for (d = head; d != NULL; d = d->els)
		d->nslots = rc->nslots;
}

/* ---- recursion ---------------------------------------------------------- */

static void visit_rule(struct rctx *rc, struct rule *r, int line, int col);
static void walk_body(struct rctx *rc, const struct body *b);

static void walk_node(struct rctx *rc, const struct node *n)
{
	if (n == NULL || rc->failed)
		return;
	if ((n->k == N_RULE || (n->k == N_CALL && n->bi < 0)) && n->rule != NULL)
		visit_rule(rc, n->rule, n->line, n->col);
	walk_node(rc, n->a);
	walk_node(rc, n->b);
	walk_node(rc, n->c);
	for (int i = 0; i < n->n && n->k != N_CONST; i++)
		walk_node(rc, n->kids[i]);
	walk_body(rc, n->body);
}

static void walk_body(struct rctx *rc, const struct body *b)
{
	for (int i = 0; b != NULL && i < b->n; i++) {
		const struct lit *l = &b->lits[i];
		walk_node(rc, l->e);
		walk_node(rc, l->lhs);
		walk_body(rc, l->body);
	}
}

static void visit_rule(struct rctx *rc, struct rule *r, int line, int col)
{
	if (r->checked)
		return;
	if (r->visiting) {
		rerr(rc, line, col, "rule %s depends on itself: recursion is not supported (nor allowed in Rego)", r->name);
		return;
	}
	r->visiting = true;
	for (int i = 0; i < r->ndefs && !rc->failed; i++)
		for (const struct rdef *d = r->defs[i]; d != NULL; d = d->els) {
			walk_body(rc, d->body);
			walk_node(rc, d->key);
			walk_node(rc, d->value);
		}
	r->visiting = false;
	r->checked = true;
}

static void check_default(struct rctx *rc, struct rule *r)
{
	struct scope none = {0};

	if (r->dflt == NULL)
		return;
	resolve_expr(rc, &none, r->dflt);
	if (!rc->failed && r->dflt->k != N_CONST)
		rerr(rc, r->dflt->line, r->dflt->col, "default %s: the value must be a constant", r->name);
	if (!rc->failed && r->ndefs == 0 && r->kind == R_FUNC)
		rerr(rc, r->line, r->col, "default %s: the function has no definition", r->name);
}

int rego_resolve(struct rego_policy *p, struct gpa_err *e)
{
	struct rctx rc = {.p = p, .e = e};

	for (int i = 0; i < p->nrules && !rc.failed; i++) {
		check_default(&rc, p->rules[i]);
		for (int k = 0; k < p->rules[i]->ndefs && !rc.failed; k++)
			resolve_def(&rc, p->rules[i]->defs[k]);
	}
	for (int i = 0; i < p->nrules && !rc.failed; i++)
		visit_rule(&rc, p->rules[i], p->rules[i]->line, p->rules[i]->col);
	return rc.failed ? -1 : 0;
}

/* What NVIDIA's SDK asks of a policy: a complete rule nv_match. */
int rego_check_decision(const struct rego_policy *p, struct gpa_err *e)
{
	const struct rule *nv = rego_find_rule(p, "nv_match");

	if (nv == NULL) {
		gpa_err_set(e, "%s: no rule nv_match: NVIDIA's engine decides by data.policy.nv_match", p->name);
		return -1;
	}
	if (nv->kind != R_COMPLETE) {
		gpa_err_set(e, "%s:%d:%d: nv_match must be a complete rule (a boolean), not %s", p->name, nv->line,
		    nv->col, nv->kind == R_FUNC ? "a function" : "a partial rule");
		return -1;
	}
	return 0;
}
