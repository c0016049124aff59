/*
 * Rego modules: the package line, imports, and rules (default values,
 * complete rules, functions, partial sets and objects, else chains), then
 * loading as a whole: lexing, parsing, name resolution.
 */
#include "policy/rego_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rule *rego_find_rule(const struct rego_policy *p, const char *name)
{
	for (int i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i]->name, name) == 0)
			return p->rules[i];
	return NULL;
}

/* a.b.c as text; NULL (and an error) when it is not a dotted name. */
static char *dotted_path(struct parser *ps, const char *what)
{
	char buf[256];
	size_t len = 0;

	for (;;) {
		struct token *t = ps_next(ps);
		if (t->k != TK_IDENT || len + t->len + 2 > sizeof(buf)) {
			ps_err(ps, t, "%s: expected a dotted name, found %s", what, ps_tok_desc(t));
			return NULL;
		}
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? "." : "", t->text);
		if (ps_peek(ps)->k != TK_DOT || ps_peek(ps)->nl_before)
			break;
		ps_next(ps);
	}
	char *s = arena_alloc(ps->a, len + 1);
	if (s != NULL)
		memcpy(s, buf, len + 1);
	return s;
}

static bool parse_package(struct parser *ps)
{
	struct token *t = ps_peek(ps);

	if (!ps_is_kw(t, "package")) {
		ps_err(ps, t, "a policy starts with 'package policy'");
		return false;
	}
	ps_next(ps);
	if ((ps->p->package = dotted_path(ps, "package")) == NULL)
		return false;
	if (strcmp(ps->p->package, "policy") != 0) {
		ps_err(ps, t, "package %s: the decision is data.policy.nv_match, so the package must be 'policy'",
		    ps->p->package);
		return false;
	}
	return true;
}

/* Only the imports that change the syntax: the future keywords and rego.v1. */
static bool parse_import(struct parser *ps)
{
	static const char *const ok[] = {
		"future.keywords", "future.keywords.in", "future.keywords.every", "future.keywords.if",
		"future.keywords.contains", "rego.v1",
	};
	struct token *t = ps_next(ps);
	char *path = dotted_path(ps, "import");

	if (path == NULL)
		return false;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(path, ok[i]) == 0) {
			if (strcmp(path, "rego.v1") == 0)
				ps->p->v1 = true;
			return true;
		}
	ps_err(ps, t, "import %s is not supported (only future.keywords[.in|every|if|contains] and rego.v1)", path);
	return false;
}

static const char *kind_name(enum rule_kind k)
{
	switch (k) {
	case R_COMPLETE: return "a complete rule";
	case R_FUNC: return "a function";
	case R_PSET: return "a partial set rule";
	case R_POBJ: return "a partial object rule";
	}
	return "?";
}

/* The rule a definition belongs to, created at its first definition. */
static struct rule *rule_for(struct parser *ps, const struct token *t, enum rule_kind kind, int nargs)
{
	struct rule *r = rego_find_rule(ps->p, t->text);
	int want;

	if (r != NULL) {
		if (r->kind != kind || r->nargs != nargs) {
			ps_err(ps, t, "%s is defined as %s (line %d) and here as %s", t->text, kind_name(r->kind),
			    r->line, kind_name(kind));
			return NULL;
		}
		return r;
	}
	if (strcmp(t->text, "input") == 0 || strcmp(t->text, "data") == 0 ||
	    rego_builtin_find(t->text, nargs, &want) != -1 || strchr(t->text, '.') != NULL) {
		ps_err(ps, t, "a rule cannot be named %s (a built-in name)", t->text);
		return NULL;
	}
	if (ps->p->nrules == REGO_MAX_RULES) {
		ps_err(ps, t, "more than %d rules", REGO_MAX_RULES);
		return NULL;
	}
	if ((r = arena_alloc(ps->a, sizeof(*r))) == NULL) {
		ps_err(ps, t, "policy too large");
		return NULL;
	}
	r->name = t->text;
	r->kind = kind;
	r->nargs = nargs;
	r->line = t->line;
	r->col = t->col;
	r->index = ps->p->nrules;
	ps->p->rules[ps->p->nrules++] = r;
	return r;
}

static bool add_def(struct parser *ps, struct rule *r, struct rdef *d)
{
	if (r->ndefs % 8 == 0) {
		struct rdef **grown = arena_alloc(ps->a, (size_t)(r->ndefs + 8) * sizeof(*grown));
		if (grown == NULL) {
			ps_err(ps, ps_peek(ps), "policy too large");
			return false;
		}
		if (r->ndefs)
			memcpy(grown, r->defs, (size_t)r->ndefs * sizeof(*grown));
		r->defs = grown;
	}
	r->defs[r->ndefs++] = d;
	return true;
}

static bool parse_args(struct parser *ps, struct rdef *d)
{
	struct node *args[64];

	ps_next(ps);	/* ( */
	while (ps_peek(ps)->k != TK_RPAREN) {
		if (d->nargs == 64) {
			ps_err(ps, ps_peek(ps), "more than 64 arguments");
			return false;
		}
		if ((args[d->nargs++] = parse_inner(ps, false)) == NULL)
			return false;
		if (ps_peek(ps)->k != TK_COMMA)
			break;
		ps_next(ps);
	}
	if (!ps_expect(ps, TK_RPAREN, "')' after the arguments"))
		return false;
	if (d->nargs == 0) {
		ps_err(ps, ps_peek(ps), "a function needs at least one argument");
		return false;
	}
	d->args = arena_alloc(ps->a, (size_t)d->nargs * sizeof(*d->args));
	if (d->args == NULL)
		return false;
	memcpy(d->args, args, (size_t)d->nargs * sizeof(*args));
	return true;
}

/* `default name := value` and `default f(_) := value`. */
static bool parse_default(struct parser *ps)
{
	struct token *t = ps_next(ps);
	struct rdef d = {0};
	struct rule *r;

	t = ps_next(ps);
	if (t->k != TK_IDENT || ps_is_keyword(t)) {
		ps_err(ps, t, "default: expected a rule name, found %s", ps_tok_desc(t));
		return false;
	}
	if (ps_peek(ps)->k == TK_LPAREN && !parse_args(ps, &d))
		return false;
	if (ps_peek(ps)->k != TK_ASSIGN && ps_peek(ps)->k != TK_UNIFY) {
		ps_err(ps, ps_peek(ps), "default %s: expected ':=' or '=' and a value", t->text);
		return false;
	}
	ps_next(ps);
	if ((r = rule_for(ps, t, d.nargs ? R_FUNC : R_COMPLETE, d.nargs)) == NULL)
		return false;
	if (r->dflt != NULL) {
		ps_err(ps, t, "%s has two default values", t->text);
		return false;
	}
	return (r->dflt = parse_expr(ps)) != NULL;
}

/* `if { body }`, `if expr`, `{ body }` (v0), or nothing (a constant). */
static bool parse_rule_body(struct parser *ps, struct rdef *d, const struct token *name, bool need)
{
	struct token *t = ps_peek(ps);
	bool has_if = ps_is_kw(t, "if") && !t->nl_before;

	if (has_if) {
		ps_next(ps);
		t = ps_peek(ps);
	}
	if (t->k == TK_LBRACE && (has_if || !t->nl_before)) {
		if (!has_if && ps->p->v1) {
			ps_err(ps, t, "%s: with import rego.v1 a rule body needs 'if'", name->text);
			return false;
		}
		ps_next(ps);
		d->body = parse_body_until(ps, TK_RBRACE, name->text);
		return d->body != NULL;
	}
	if (has_if) {
		/* v1: one expression after if, without braces. */
		d->body = arena_alloc(ps->a, sizeof(*d->body));
		if (d->body == NULL || (d->body->lits = arena_alloc(ps->a, sizeof(struct lit))) == NULL)
			return false;
		d->body->n = 1;
		return parse_literal(ps, &d->body->lits[0]);
	}
	if (need) {
		ps_err(ps, t, "%s: expected a value or a body, found %s", name->text, ps_tok_desc(t));
		return false;
	}
	return true;
}

static bool parse_else(struct parser *ps, struct rdef *d, const struct token *name)
{
	while (!ps->failed && ps_is_kw(ps_peek(ps), "else")) {
		struct token *t = ps_next(ps);
		struct rdef *e = arena_alloc(ps->a, sizeof(*e));
		if (e == NULL)
			return false;
		e->line = t->line;
		e->col = t->col;
		e->args = d->args;
		e->nargs = d->nargs;
		if (ps_peek(ps)->k == TK_ASSIGN || ps_peek(ps)->k == TK_UNIFY) {
			ps_next(ps);
			if ((e->value = parse_expr(ps)) == NULL)
				return false;
		}
		if (!parse_rule_body(ps, e, name, false))
			return false;
		d->els = e;
		d = e;
	}
	return !ps->failed;
}

static bool parse_rule(struct parser *ps)
{
	struct token *t = ps_next(ps);
	struct rdef *d = arena_alloc(ps->a, sizeof(*d));
	enum rule_kind kind = R_COMPLETE;
	struct rule *r;

	if (d == NULL)
		return false;
	if (t->k != TK_IDENT || ps_is_keyword(t)) {
		ps_err(ps, t, "expected a rule, found %s", ps_tok_desc(t));
		return false;
	}
	d->line = t->line;
	d->col = t->col;
	if (ps_peek(ps)->k == TK_DOT) {
		ps_err(ps, ps_peek(ps), "rule heads with references (%s.x) are not supported", t->text);
		return false;
	}
	if (ps_peek(ps)->k == TK_LPAREN) {
		kind = R_FUNC;
		if (!parse_args(ps, d))
			return false;
	} else if (ps_peek(ps)->k == TK_LBRACK) {
		ps_next(ps);
		if ((d->key = parse_inner(ps, false)) == NULL || !ps_expect(ps, TK_RBRACK, "']'"))
			return false;
		kind = ps_peek(ps)->k == TK_ASSIGN || ps_peek(ps)->k == TK_UNIFY ? R_POBJ : R_PSET;
	} else if (ps_is_kw(ps_peek(ps), "contains")) {
		ps_next(ps);
		kind = R_PSET;
		if ((d->key = parse_expr(ps)) == NULL)
			return false;
	}
	if (ps_peek(ps)->k == TK_ASSIGN || ps_peek(ps)->k == TK_UNIFY) {
		if (kind == R_PSET) {
			ps_err(ps, ps_peek(ps), "%s contains ...: a partial set rule has no value", t->text);
			return false;
		}
		ps_next(ps);
		if ((d->value = parse_expr(ps)) == NULL)
			return false;
	}
	if ((r = rule_for(ps, t, kind, d->nargs)) == NULL)
		return false;
	if (!parse_rule_body(ps, d, t, d->value == NULL && d->key == NULL))
		return false;
	if (ps_peek(ps)->k == TK_LBRACE && !ps_peek(ps)->nl_before) {
		ps_err(ps, ps_peek(ps), "%s: several bodies on one rule are not supported (write the rule twice)", t->text);
		return false;
	}
	if (ps_is_kw(ps_peek(ps), "else") && (kind == R_PSET || kind == R_POBJ)) {
		ps_err(ps, ps_peek(ps), "else on a partial rule is not allowed");
		return false;
	}
	return parse_else(ps, d, t) && add_def(ps, r, d);
}

int rego_parse(struct rego_policy *p, struct token *t, size_t n, struct gpa_err *e)
{
	struct parser ps = {.p = p, .a = &p->mem, .t = t, .n = n, .e = e};

	if ((p->rules = arena_alloc(&p->mem, REGO_MAX_RULES * sizeof(*p->rules))) == NULL) {
		gpa_err_set(e, "%s: out of memory", p->name);
		return -1;
	}
	if (!parse_package(&ps))
		return -1;
	while (ps_is_kw(ps_peek(&ps), "import"))
		if (!parse_import(&ps))
			return -1;
	while (ps_peek(&ps)->k != TK_EOF) {
		struct token *t0 = ps_peek(&ps);
		if (!t0->nl_before) {
			ps_err(&ps, t0, "unexpected %s: a rule starts on a new line", ps_tok_desc(t0));
			return -1;
		}
		if (ps_is_kw(t0, "import")) {
			ps_err(&ps, t0, "imports come before the rules");
			return -1;
		}
		if (ps_is_kw(t0, "package")) {
			ps_err(&ps, t0, "one package per policy");
			return -1;
		}
		if (!(ps_is_kw(t0, "default") ? parse_default(&ps) : parse_rule(&ps))) {
			if (!ps.failed)
				ps_err(&ps, ps_peek(&ps), "policy too large");
			return -1;
		}
	}
	return 0;
}

void rego_free(struct rego_policy *p)
{
	if (p == NULL)
		return;
	arena_free(&p->mem);
	free(p);
}

struct rego_policy *rego_load(const char *src, size_t len, const char *name, struct gpa_err *e)
{
	struct rego_policy *p = calloc(1, sizeof(*p));
	struct token *toks;
	size_t ntoks;

	if (p == NULL) {
		gpa_err_set(e, "%s: out of memory", name);
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	/* Tokens, tree and constants of a policy of the largest size fit. */
	p->mem.cap = 64 * REGO_MAX_POLICY_BYTES;
	if (len > REGO_MAX_POLICY_BYTES) {
		gpa_err_set(e, "%s: %zu bytes, more than the %u a policy may have", name, len, REGO_MAX_POLICY_BYTES);
		goto fail;
	}
	if (memchr(src, '\0', len) != NULL) {
		gpa_err_set(e, "%s: a NUL byte: not a policy text", name);
		goto fail;
	}
	if (rego_lex(&p->mem, src, len, p->name, &toks, &ntoks, e) != 0 || rego_parse(p, toks, ntoks, e) != 0 ||
	    rego_resolve(p, e) != 0)
		goto fail;
	return p;
fail:
	rego_free(p);
	return NULL;
}
