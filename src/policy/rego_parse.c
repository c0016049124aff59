/*
 * Rego parser: tokens into rules. The grammar is OPA's for the subset:
 * package, future.keywords / rego.v1 imports, default, complete rules,
 * functions, partial sets and objects in v0 (`name { }`, `name[x] { }`) and
 * v1 (`name if { }`, `name contains x if { }`) syntax, else, and bodies of
 * expressions, not, :=, =, some, every. Whatever else is refused here, with
 * its position and the construct named. Names are resolved afterwards
 * (rego_resolve.c), when every rule is known.
 */
#include "policy/rego_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>


void ps_err(struct parser *ps, const struct token *t, const char *fmt, ...)
{
	char msg[700];
	va_list ap;

	if (ps->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gpa_err_set(ps->e, "%s:%d:%d: %s", ps->p->name, t->line, t->col, msg);
	ps->failed = true;
}

struct token *ps_peek(struct parser *ps)
{
	return &ps->t[ps->i];
}

struct token *ps_next(struct parser *ps)
{
	struct token *t = &ps->t[ps->i];

	if (t->k != TK_EOF)
		ps->i++;
	return t;
}

bool ps_is_kw(const struct token *t, const char *kw)
{
	return t->k == TK_IDENT && strcmp(t->text, kw) == 0;
}

static const char *const keywords[] = {
	"package", "import", "default", "not", "some", "every", "in", "if", "else", "contains",
	"with", "as", "true", "false", "null",
};

bool ps_is_keyword(const struct token *t)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (ps_is_kw(t, keywords[i]))
			return true;
	return false;
}

const char *ps_tok_desc(const struct token *t)
{
	static char buf[80];

	switch (t->k) {
	case TK_EOF: return "end of file";
	case TK_IDENT: snprintf(buf, sizeof(buf), "'%.60s'", t->text); return buf;
	case TK_STRING: return "a string";
	case TK_NUMBER: return "a number";
	default: break;
	}
	static const char *const sym[] = {
		[TK_LBRACE] = "'{'", [TK_RBRACE] = "'}'", [TK_LBRACK] = "'['", [TK_RBRACK] = "']'",
		[TK_LPAREN] = "'('", [TK_RPAREN] = "')'", [TK_DOT] = "'.'", [TK_COMMA] = "','",
		[TK_SEMI] = "';'", [TK_COLON] = "':'", [TK_ASSIGN] = "':='", [TK_UNIFY] = "'='",
		[TK_EQ] = "'=='", [TK_NE] = "'!='", [TK_LT] = "'<'", [TK_LE] = "'<='", [TK_GT] = "'>'",
		[TK_GE] = "'>='", [TK_PLUS] = "'+'", [TK_MINUS] = "'-'", [TK_STAR] = "'*'",
		[TK_SLASH] = "'/'", [TK_PERCENT] = "'%'", [TK_BAR] = "'|'", [TK_AMP] = "'&'",
	};
	return sym[t->k];
}

bool ps_expect(struct parser *ps, enum tok_kind k, const char *what)
{
	struct token *t = ps_peek(ps);

	if (t->k != k) {
		ps_err(ps, t, "expected %s, found %s", what, ps_tok_desc(t));
		return false;
	}
	ps_next(ps);
	return true;
}

struct node *ps_new_node(struct parser *ps, enum node_kind k, const struct token *t)
{
	struct node *n = arena_alloc(ps->a, sizeof(*n));

	if (n == NULL) {
		ps_err(ps, t, "policy too large");
		return NULL;
	}
	n->k = k;
	n->line = t->line;
	n->col = t->col;
	return n;
}

/* A growable list of node pointers in the arena. */
struct nlist {
	struct node **v;
	int n, cap;
};

static bool nlist_add(struct parser *ps, struct nlist *l, struct node *x)
{
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 4;
		struct node **v = arena_alloc(ps->a, (size_t)cap * sizeof(*v));
		if (v == NULL) {
			ps_err(ps, ps_peek(ps), "policy too large");
			return false;
		}
		if (l->n)
			memcpy(v, l->v, (size_t)l->n * sizeof(*v));
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = x;
	return true;
}


/* Line breaks end statements, except inside brackets. */
static bool continues(struct parser *ps)
{
	return ps->nl_ok || !ps_peek(ps)->nl_before;
}

static bool enter(struct parser *ps)
{
	if (++ps->depth > REGO_MAX_PARSE_DEPTH) {
		ps_err(ps, ps_peek(ps), "nested more than %d levels deep", REGO_MAX_PARSE_DEPTH);
		return false;
	}
	return true;
}

/* Parses an element of a collection with the flags for its position. */
struct node *parse_inner(struct parser *ps, bool no_bar)
{
	bool nl = ps->nl_ok, nb = ps->no_bar;
	struct node *x;

	ps->nl_ok = true;
	ps->no_bar = no_bar;
	x = parse_expr(ps);
	ps->nl_ok = nl;
	ps->no_bar = nb;
	return x;
}

static struct node *comprehension(struct parser *ps, enum node_kind k, const struct token *t,
    struct node *head, struct node *val, enum tok_kind close)
{
	struct node *c = ps_new_node(ps, k, t);
	bool nl = ps->nl_ok;

	if (c == NULL)
		return NULL;
	c->a = head;
	c->b = val;
	ps->nl_ok = false;
	c->body = parse_body_until(ps, close, "a comprehension");
	ps->nl_ok = nl;
	return c->body ? c : NULL;
}

/* Elements after the first, up to the closing bracket (a trailing comma is allowed). */
static bool more_elements(struct parser *ps, struct nlist *l, enum tok_kind close, bool pairs)
{
	while (!ps->failed && ps_peek(ps)->k == TK_COMMA) {
		ps_next(ps);
		if (ps_peek(ps)->k == close)
			break;
		if (!nlist_add(ps, l, parse_inner(ps, false)) || l->v[l->n - 1] == NULL)
			return false;
		if (pairs) {
			if (!ps_expect(ps, TK_COLON, "':' in an object"))
				return false;
			if (!nlist_add(ps, l, parse_inner(ps, false)) || l->v[l->n - 1] == NULL)
				return false;
		}
	}
	return !ps->failed && ps_expect(ps, close, close == TK_RBRACK ? "']'" : "'}'");
}

static struct node *parse_array(struct parser *ps, const struct token *t)
{
	struct nlist l = {0};
	struct node *first, *arr;

	if (ps_peek(ps)->k == TK_RBRACK) {
		ps_next(ps);
		return ps_new_node(ps, N_ARRAY, t);
	}
	if ((first = parse_inner(ps, true)) == NULL)
		return NULL;
	if (ps_peek(ps)->k == TK_BAR) {
		ps_next(ps);
		return comprehension(ps, N_ACOMP, t, first, NULL, TK_RBRACK);
	}
	if (!nlist_add(ps, &l, first) || !more_elements(ps, &l, TK_RBRACK, false))
		return NULL;
	if ((arr = ps_new_node(ps, N_ARRAY, t)) != NULL) {
		arr->kids = l.v;
		arr->n = l.n;
	}
	return arr;
}

static struct node *parse_braces(struct parser *ps, const struct token *t)
{
	struct nlist l = {0};
	struct node *first, *val = NULL, *res;
	bool object;

	if (ps_peek(ps)->k == TK_RBRACE) {
		ps_next(ps);
		return ps_new_node(ps, N_OBJECT, t);
	}
	if ((first = parse_inner(ps, true)) == NULL)
		return NULL;
	object = ps_peek(ps)->k == TK_COLON;
	if (object) {
		ps_next(ps);
		if ((val = parse_inner(ps, true)) == NULL)
			return NULL;
	}
	if (ps_peek(ps)->k == TK_BAR) {
		ps_next(ps);
		return comprehension(ps, object ? N_OCOMP : N_SCOMP, t, first, val, TK_RBRACE);
	}
	if (!nlist_add(ps, &l, first) || (object && !nlist_add(ps, &l, val)) ||
	    !more_elements(ps, &l, TK_RBRACE, object))
		return NULL;
	if ((res = ps_new_node(ps, object ? N_OBJECT : N_SET, t)) != NULL) {
		res->kids = l.v;
		res->n = l.n;
	}
	return res;
}

static struct node *parse_primary(struct parser *ps)
{
	struct token *t = ps_next(ps);
	struct node *x;

	switch (t->k) {
	case TK_NUMBER:
		if ((x = ps_new_node(ps, N_CONST, t)) != NULL && (x->val = rv_num(ps->a, t->num)) == NULL)
			ps_err(ps, t, "policy too large");
		return ps->failed ? NULL : x;
	case TK_STRING:
		if ((x = ps_new_node(ps, N_CONST, t)) != NULL && (x->val = rv_str(ps->a, t->text, t->len)) == NULL)
			ps_err(ps, t, "policy too large");
		return ps->failed ? NULL : x;
	case TK_LPAREN:
		x = parse_inner(ps, false);
		return x != NULL && ps_expect(ps, TK_RPAREN, "')'") ? x : NULL;
	case TK_LBRACK:
		return parse_array(ps, t);
	case TK_LBRACE:
		return parse_braces(ps, t);
	case TK_IDENT:
		break;
	default:
		ps_err(ps, t, "expected a term, found %s", ps_tok_desc(t));
		return NULL;
	}
	if (ps_is_kw(t, "true") || ps_is_kw(t, "false") || ps_is_kw(t, "null")) {
		if ((x = ps_new_node(ps, N_CONST, t)) != NULL)
			x->val = t->text[0] == 't' ? &rv_true : t->text[0] == 'f' ? &rv_false : &rv_null;
		return x;
	}
	/* contains(...) and set() are calls; other keywords are not terms. */
	if (ps_is_keyword(t) && !(ps_is_kw(t, "contains") && ps_peek(ps)->k == TK_LPAREN)) {
		ps_err(ps, t, "unexpected keyword '%s'", t->text);
		return NULL;
	}
	if ((x = ps_new_node(ps, strcmp(t->text, "_") == 0 ? N_WILD : N_NAME, t)) != NULL)
		x->text = t->text;
	return x;
}

/* The dotted name of a callee (object.get), or NULL when it is not one. */
static const char *callee_name(struct parser *ps, const struct node *f)
{
	char buf[256];
	size_t len;

	if (f->k == N_NAME)
		return f->text;
	if (f->k != N_REF || f->a->k != N_NAME)
		return NULL;
	len = (size_t)snprintf(buf, sizeof(buf), "%s", f->a->text);
	for (int i = 0; i < f->n; i++) {
		const struct node *el = f->kids[i];
		if (!el->dot || len >= sizeof(buf))
			return NULL;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, ".%s", el->val->s);
	}
	if (len >= sizeof(buf))
		return NULL;
	char *s = arena_alloc(ps->a, len + 1);
	if (s != NULL)
		memcpy(s, buf, len + 1);
	return s;
}

static struct node *parse_call(struct parser *ps, struct node *f, const struct token *t)
{
	struct nlist args = {0};
	const char *name = callee_name(ps, f);
	struct node *c;

	if (name == NULL) {
		ps_err(ps, t, "only named functions can be called");
		return NULL;
	}
	while (ps_peek(ps)->k != TK_RPAREN) {
		if (!nlist_add(ps, &args, parse_inner(ps, false)) || args.v[args.n - 1] == NULL)
			return NULL;
		if (ps_peek(ps)->k != TK_COMMA)
			break;
		ps_next(ps);
	}
	if (!ps_expect(ps, TK_RPAREN, "')' after the arguments") || (c = ps_new_node(ps, N_CALL, t)) == NULL)
		return NULL;
	c->line = f->line;
	c->col = f->col;
	c->text = name;
	c->kids = args.v;
	c->n = args.n;
	return c;
}

/* x.y, x[e], f(args), in any sequence. */
static struct node *parse_postfix(struct parser *ps)
{
	struct node *x = parse_primary(ps);
	struct nlist path = {0};

	while (x != NULL && !ps->failed && continues(ps)) {
		struct token *t = ps_peek(ps);
		struct node *el;

		if (t->k == TK_LPAREN) {
			ps_next(ps);
			x = parse_call(ps, x, t);
			continue;
		}
		if (t->k != TK_DOT && t->k != TK_LBRACK)
			break;
		ps_next(ps);
		if (t->k == TK_DOT) {
			struct token *id = ps_next(ps);
			if (id->k != TK_IDENT) {
				ps_err(ps, id, "expected a name after '.', found %s", ps_tok_desc(id));
				return NULL;
			}
			if ((el = ps_new_node(ps, N_CONST, id)) == NULL || (el->val = rv_str(ps->a, id->text, id->len)) == NULL)
				return NULL;
			el->dot = true;
		} else {
			el = parse_inner(ps, false);
			if (el == NULL || !ps_expect(ps, TK_RBRACK, "']'"))
				return NULL;
		}
		if (x->k != N_REF) {
			struct node *r = ps_new_node(ps, N_REF, t);
			if (r == NULL)
				return NULL;
			r->line = x->line;
			r->col = x->col;
			r->a = x;
			x = r;
			path = (struct nlist){0};
		}
		if (!nlist_add(ps, &path, el))
			return NULL;
		x->kids = path.v;
		x->n = path.n;
	}
	return ps->failed ? NULL : x;
}

static struct node *parse_unary(struct parser *ps)
{
	struct token *t = ps_peek(ps);
	struct node *x;

	if (t->k != TK_MINUS)
		return parse_postfix(ps);
	ps_next(ps);
	if (!enter(ps))
		return NULL;
	x = parse_unary(ps);
	ps->depth--;
	if (x != NULL && x->k == N_CONST && x->val->k == RV_NUM) {
		x->val = rv_num(ps->a, -x->val->n);
		return x->val ? x : NULL;
	}
	struct node *neg = x ? ps_new_node(ps, N_NEG, t) : NULL;
	if (neg != NULL)
		neg->a = x;
	return neg;
}

struct level {
	enum tok_kind tk[6];
	enum binop op[6];
	int n;
};

static const struct level levels[] = {
	{{TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE}, {OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE}, 6},
	{{TK_BAR}, {OP_OR}, 1},
	{{TK_AMP}, {OP_AND}, 1},
	{{TK_PLUS, TK_MINUS}, {OP_ADD, OP_SUB}, 2},
	{{TK_STAR, TK_SLASH, TK_PERCENT}, {OP_MUL, OP_DIV, OP_MOD}, 3},
};

static struct node *parse_level(struct parser *ps, int lv)
{
	struct node *l;

	if (lv == (int)(sizeof(levels) / sizeof(levels[0])))
		return parse_unary(ps);
	l = parse_level(ps, lv + 1);
	while (l != NULL && !ps->failed && continues(ps)) {
		struct token *t = ps_peek(ps);
		int k;

		for (k = 0; k < levels[lv].n && levels[lv].tk[k] != t->k; k++)
			;
		if (k == levels[lv].n || (t->k == TK_BAR && ps->no_bar))
			break;
		ps_next(ps);
		struct node *r = parse_level(ps, lv + 1), *b;
		if (r == NULL || (b = ps_new_node(ps, N_BINOP, t)) == NULL)
			return NULL;
		b->op = levels[lv].op[k];
		b->a = l;
		b->b = r;
		l = b;
	}
	return ps->failed ? NULL : l;
}

/* x in coll (the loosest operator). */
struct node *parse_expr(struct parser *ps)
{
	struct node *l;

	if (!enter(ps))
		return NULL;
	l = parse_level(ps, 0);
	while (l != NULL && !ps->failed && continues(ps) && ps_is_kw(ps_peek(ps), "in")) {
		struct token *t = ps_next(ps);
		struct node *r = parse_level(ps, 0), *in;
		if (r == NULL || (in = ps_new_node(ps, N_IN, t)) == NULL)
			return NULL;
		in->a = l;
		in->b = r;
		l = in;
	}
	ps->depth--;
	return ps->failed ? NULL : l;
}

/* some / every variables: one or two names. */
static bool parse_vars(struct parser *ps, struct node **key, struct node **val, const char *what)
{
	struct node *first = parse_primary(ps), *second = NULL;

	if (first == NULL)
		return false;
	if (ps_peek(ps)->k == TK_COMMA) {
		ps_next(ps);
		if ((second = parse_primary(ps)) == NULL)
			return false;
	}
	if ((first->k != N_NAME && first->k != N_WILD) || (second && second->k != N_NAME && second->k != N_WILD)) {
		ps_err(ps, ps_peek(ps), "%s: only variables are supported before 'in'", what);
		return false;
	}
	*key = second ? first : NULL;
	*val = second ? second : first;
	return true;
}

static bool parse_some(struct parser *ps, struct lit *l)
{
	struct nlist names = {0};

	/* some x in coll / some k, v in coll */
	size_t save = ps->i;
	struct node *key, *val;
	if (parse_vars(ps, &key, &val, "some") && ps_is_kw(ps_peek(ps), "in")) {
		ps_next(ps);
		l->k = L_SOME_IN;
		l->key = key;
		l->val = val;
		return (l->e = parse_expr(ps)) != NULL;
	}
	if (ps->failed)
		return false;
	/* some x, y, z: declarations */
	ps->i = save;
	do {
		if (ps_peek(ps)->k == TK_COMMA)
			ps_next(ps);
		struct token *t = ps_next(ps);
		struct node *n;
		if (t->k != TK_IDENT || ps_is_keyword(t)) {
			ps_err(ps, t, "some: expected a variable name, found %s", ps_tok_desc(t));
			return false;
		}
		if ((n = ps_new_node(ps, N_NAME, t)) == NULL)
			return false;
		n->text = t->text;
		if (!nlist_add(ps, &names, n))
			return false;
	} while (ps_peek(ps)->k == TK_COMMA);
	l->k = L_SOME_DECL;
	l->decl = names.v;
	l->ndecl = names.n;
	return true;
}

static bool parse_every(struct parser *ps, struct lit *l)
{
	bool nl = ps->nl_ok;

	l->k = L_EVERY;
	if (!parse_vars(ps, &l->key, &l->val, "every"))
		return false;
	if (!ps_is_kw(ps_peek(ps), "in")) {
		ps_err(ps, ps_peek(ps), "every: expected 'in', found %s", ps_tok_desc(ps_peek(ps)));
		return false;
	}
	ps_next(ps);
	if ((l->e = parse_expr(ps)) == NULL || !ps_expect(ps, TK_LBRACE, "'{' after every ... in"))
		return false;
	ps->nl_ok = false;
	l->body = parse_body_until(ps, TK_RBRACE, "every");
	ps->nl_ok = nl;
	return l->body != NULL;
}

/* The rest of a literal that began with an expression. */
static bool parse_expr_literal(struct parser *ps, struct lit *l)
{
	struct token *t = ps_peek(ps);

	if ((l->e = parse_expr(ps)) == NULL)
		return false;
	t = ps_peek(ps);
	if (t->k == TK_COMMA && continues(ps)) {
		/* k, v in coll */
		struct node *in;
		ps_next(ps);
		struct node *v = parse_level(ps, 0);
		if (v == NULL || !ps_is_kw(ps_peek(ps), "in")) {
			ps_err(ps, ps_peek(ps), "expected 'in' after 'key, value'");
			return false;
		}
		if ((in = ps_new_node(ps, N_IN, ps_next(ps))) == NULL || (in->b = parse_level(ps, 0)) == NULL)
			return false;
		in->c = l->e;
		in->a = v;
		l->e = in;
		return true;
	}
	if (t->k == TK_ASSIGN || t->k == TK_UNIFY) {
		ps_next(ps);
		l->k = t->k == TK_ASSIGN ? L_ASSIGN : L_UNIFY;
		l->lhs = l->e;
		if (t->k == TK_ASSIGN && l->lhs->k != N_NAME && l->lhs->k != N_WILD) {
			ps_err(ps, t, l->lhs->k == N_ARRAY || l->lhs->k == N_OBJECT ?
			    "destructuring assignment (a pattern before ':=') is not supported" :
			    "':=' assigns to a variable only");
			return false;
		}
		return (l->e = parse_expr(ps)) != NULL;
	}
	return true;
}

bool parse_literal(struct parser *ps, struct lit *l)
{
	struct token *t = ps_peek(ps);

	l->line = t->line;
	l->col = t->col;
	l->k = L_EXPR;
	if (ps_is_kw(t, "some")) {
		ps_next(ps);
		if (!parse_some(ps, l))
			return false;
	} else if (ps_is_kw(t, "every")) {
		ps_next(ps);
		if (!parse_every(ps, l))
			return false;
	} else if (ps_is_kw(t, "not")) {
		ps_next(ps);
		l->k = L_NOT;
		if ((l->e = parse_expr(ps)) == NULL)
			return false;
	} else if (!parse_expr_literal(ps, l)) {
		return false;
	}
	if (ps_is_kw(ps_peek(ps), "with") && continues(ps)) {
		ps_err(ps, ps_peek(ps), "'with' (replacing input or data) is not supported");
		return false;
	}
	return true;
}

/* Literals separated by ';' or line breaks, up to close (consumed). */
struct body *parse_body_until(struct parser *ps, enum tok_kind close, const char *what)
{
	struct body *b = arena_alloc(ps->a, sizeof(*b));
	int cap = 0;

	if (b == NULL || !enter(ps))
		return NULL;
	while (!ps->failed) {
		struct token *t = ps_peek(ps);
		if (t->k == close) {
			ps_next(ps);
			break;
		}
		if (t->k == TK_SEMI) {
			ps_next(ps);
			continue;
		}
		if (t->k == TK_EOF) {
			ps_err(ps, t, "%s: body not closed", what);
			return NULL;
		}
		if (b->n > 0 && !t->nl_before && ps->t[ps->i - 1].k != TK_SEMI) {
			ps_err(ps, t, "unexpected %s: expected ';', a line break or the end of the body", ps_tok_desc(t));
			return NULL;
		}
		if (b->n == cap) {
			cap = cap ? 2 * cap : 8;
			struct lit *grown = arena_alloc(ps->a, (size_t)cap * sizeof(*grown));
			if (grown == NULL) {
				ps_err(ps, t, "policy too large");
				return NULL;
			}
			if (b->n)
				memcpy(grown, b->lits, (size_t)b->n * sizeof(*grown));
			b->lits = grown;
		}
		if (!parse_literal(ps, &b->lits[b->n]))
			return NULL;
		b->n++;
	}
	ps->depth--;
	if (!ps->failed && b->n == 0) {
		ps_err(ps, &ps->t[ps->i - 1], "%s: empty body", what);
		return NULL;
	}
	return ps->failed ? NULL : b;
}

