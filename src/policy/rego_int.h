/* The Rego engine's insides, shared by its files only. */
#ifndef GPA_REGO_INT_H
#define GPA_REGO_INT_H

#include "policy/rego.h"

/* ---- memory: one arena per loaded policy and per evaluation ------------- */

struct arena {
	struct arena_blk *head;
	size_t used, cap;		/* bytes handed out, limit */
	bool failed;
};
void *arena_alloc(struct arena *a, size_t n);	/* zeroed; NULL past the cap */
void arena_free(struct arena *a);

/* ---- values ------------------------------------------------------------ */

enum rv_kind { RV_NULL, RV_BOOL, RV_NUM, RV_STR, RV_ARR, RV_OBJ, RV_SET };

struct rval {
	enum rv_kind k;
	bool b;
	double n;
	const char *s;			/* NUL-terminated; len excludes the NUL */
	size_t len;			/* string length, or element count */
	struct rval **v;		/* array / set elements; object values */
	struct rval **keys;		/* object keys (sorted, unique) */
};

extern struct rval rv_null, rv_true, rv_false;
struct rval *rv_num(struct arena *a, double n);
struct rval *rv_str(struct arena *a, const char *s, size_t len);
struct rval *rv_bool(bool b);
/* Takes n elements (copied); sets and objects are sorted, duplicates
 * dropped (sets) or refused (objects with two values for one key: NULL
 * and *conflict set). */
struct rval *rv_array(struct arena *a, struct rval **el, size_t n);
struct rval *rv_set(struct arena *a, struct rval **el, size_t n);
struct rval *rv_object(struct arena *a, struct rval **keys, struct rval **vals, size_t n, bool *conflict);
/* Total order of OPA: null < booleans < numbers < strings < arrays < objects < sets. */
int rv_cmp(const struct rval *x, const struct rval *y);
bool rv_eq(const struct rval *x, const struct rval *y);
/* Object lookup by key; NULL when absent. */
struct rval *rv_obj_get(const struct rval *o, const struct rval *key);
struct rval *rv_obj_get_str(const struct rval *o, const char *key);
/* Set membership. */
bool rv_set_has(const struct rval *s, const struct rval *x);
/* JSON conversions. from_json counts nodes against *budget and fails
 * (NULL, e) past it or past REGO_MAX_INPUT_DEPTH. */
struct rval *rv_from_json(struct arena *a, const json_t *j, long *budget, int depth, struct gpa_err *e);
json_t *rv_to_json(const struct rval *v);
const char *rv_kind_name(enum rv_kind k);

/* ---- tokens ------------------------------------------------------------ */

enum tok_kind {
	TK_EOF, TK_IDENT, TK_STRING, TK_NUMBER,
	TK_LBRACE, TK_RBRACE, TK_LBRACK, TK_RBRACK, TK_LPAREN, TK_RPAREN,
	TK_DOT, TK_COMMA, TK_SEMI, TK_COLON, TK_ASSIGN, TK_UNIFY,
	TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE,
	TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_PERCENT, TK_BAR, TK_AMP,
};

struct token {
	enum tok_kind k;
	int line, col;
	bool nl_before;			/* a line break since the previous token */
	const char *text;		/* identifier or decoded string (arena) */
	size_t len;
	double num;
};

/* Splits src into tokens (arena); the last is TK_EOF. -1 with e
 * ("NAME:LINE:COL: ...") on a character or literal outside the language. */
int rego_lex(struct arena *a, const char *src, size_t len, const char *name, struct token **toks,
    size_t *ntoks, struct gpa_err *e);

/* ---- syntax tree ------------------------------------------------------- */

enum node_kind {
	N_CONST,	/* val */
	N_NAME,		/* text: before resolution only */
	N_VAR,		/* slot */
	N_WILD,		/* _ */
	N_INPUT,
	N_RULE,		/* rule */
	N_REF,		/* a (base), then kids[0..n): path elements */
	N_CALL,		/* builtin (bi) or function (rule); kids: arguments */
	N_ARRAY, N_SET, N_OBJECT,	/* kids; objects: key, value, key, value... */
	N_ACOMP, N_SCOMP, N_OCOMP,	/* a (head), b (object value), body */
	N_BINOP,	/* op, a, b */
	N_NEG,		/* a */
	N_IN,		/* a in b; with c: c, a in b (key, value) */
};

enum binop {
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_OR, OP_AND,
};

struct body;
struct rule;

struct node {
	enum node_kind k;
	int line, col;
	bool dot;		/* a path element written .name */
	struct rval *val;
	const char *text;
	int slot;
	struct rule *rule;
	int bi;			/* builtin index */
	enum binop op;
	struct node *a, *b, *c;
	struct node **kids;
	int n;
	struct body *body;
};

enum lit_kind {
	L_EXPR,		/* e */
	L_NOT,		/* not e */
	L_ASSIGN,	/* lhs (a variable) := e */
	L_UNIFY,	/* lhs = e: resolved into L_ASSIGN or an equality */
	L_SOME_DECL,	/* some x, y */
	L_SOME_IN,	/* some [key,] val in e */
	L_EVERY,	/* every [key,] val in e { body } */
};

struct lit {
	enum lit_kind k;
	int line, col;
	struct node *e, *lhs;
	struct node *key, *val;		/* some / every: variables or _ */
	struct node **decl;		/* some x, y */
	int ndecl;
	struct body *body;		/* every */
};

struct body {
	struct lit *lits;
	int n;
};

enum rule_kind { R_COMPLETE, R_FUNC, R_PSET, R_POBJ };

/* One definition; an else chain hangs off it. */
struct rdef {
	int line, col;
	struct node **args;		/* functions */
	int nargs;
	struct node *key;		/* partial set element / object key */
	struct node *value;		/* NULL: true */
	struct body *body;		/* NULL: always true */
	struct rdef *els;
	int nslots;			/* frame size (the whole else chain) */
};

struct rule {
	const char *name;
	enum rule_kind kind;
	int nargs;
	int line, col;
	struct rdef **defs;
	int ndefs;
	struct node *dflt;		/* default value, or NULL */
	int index;			/* in the module's list, for memos */
	bool visiting, checked;		/* recursion check */
};

#define REGO_MAX_RULES 2000
#define REGO_MAX_SLOTS 1000		/* variables in one rule */

struct rego_policy {
	struct arena mem;
	char name[256];
	const char *package;		/* "policy" */
	struct rule **rules;
	int nrules;
	bool v1;			/* import rego.v1 */
};

/* The parser's state and pieces, shared by rego_parse.c (expressions and
 * bodies) and rego_module.c (package, imports, rules). */
struct parser {
	struct rego_policy *p;
	struct arena *a;
	struct token *t;
	size_t n, i;
	struct gpa_err *e;
	bool nl_ok;		/* inside ( ) or [ ] / { } collections: line breaks are blanks */
	bool no_bar;		/* first element of a collection: '|' starts a comprehension */
	int depth;
	bool failed;
};
void ps_err(struct parser *ps, const struct token *t, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
struct token *ps_peek(struct parser *ps);
struct token *ps_next(struct parser *ps);
bool ps_is_kw(const struct token *t, const char *kw);
bool ps_is_keyword(const struct token *t);
const char *ps_tok_desc(const struct token *t);
bool ps_expect(struct parser *ps, enum tok_kind k, const char *what);
struct node *ps_new_node(struct parser *ps, enum node_kind k, const struct token *t);
struct node *parse_expr(struct parser *ps);
struct node *parse_inner(struct parser *ps, bool no_bar);
bool parse_literal(struct parser *ps, struct lit *l);
struct body *parse_body_until(struct parser *ps, enum tok_kind close, const char *what);

/* Parses tokens into p's rules, then resolves names (rego_parse.c,
 * rego_resolve.c). -1 with e. */
int rego_parse(struct rego_policy *p, struct token *t, size_t n, struct gpa_err *e);
int rego_resolve(struct rego_policy *p, struct gpa_err *e);
struct rule *rego_find_rule(const struct rego_policy *p, const char *name);

/* ---- evaluation (rego_eval.c: expressions; rego_body.c: bodies, rules) -- */

#define FRAME_STACK_SLOTS 65536

struct memo {
	int state;		/* 0 not evaluated, 1 evaluating, 2 done */
	struct rval *val;	/* NULL: undefined */
};

struct rego_ev {
	const struct rego_policy *p;
	struct arena mem;
	struct rval *input;	/* NULL: undefined */
	int64_t now_ns;
	long steps;
	int depth;
	struct memo *memo;
	struct rval **fstack;
	size_t ftop;
	struct gpa_err *e;
};

typedef struct rval *frame_t;
typedef int (*vk)(struct rego_ev *ev, frame_t *f, struct rval *v, void *c);
typedef int (*bk)(struct rego_ev *ev, frame_t *f, void *c);

typedef int (*kvk)(struct rego_ev *ev, frame_t *f, struct rval *key, struct rval *val, void *c);

int rg_err(struct rego_ev *ev, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int rg_nomem(struct rego_ev *ev, int line, int col);
int rg_step(struct rego_ev *ev, int line, int col);
/* Calls k for each (key, value) of coll; scalars have none. */
int rg_each(struct rego_ev *ev, frame_t *f, struct rval *coll, const struct node *at, kvk k, void *c);
int rg_expr(struct rego_ev *ev, frame_t *f, const struct node *n, vk k, void *c);
int rg_body(struct rego_ev *ev, frame_t *f, const struct body *b, int i, bk k, void *c);
/* 1 with *out, 0 undefined, -1 error. */
int rg_rule_value(struct rego_ev *ev, struct rule *r, const struct node *at, struct rval **out);
int rg_call(struct rego_ev *ev, struct rule *r, struct rval **args, const struct node *at, struct rval **out);

/* ---- builtins ---------------------------------------------------------- */

/* Index of a builtin by its dotted name and arity; -1 unknown, -2 known
 * name with another arity (*want set). */
int rego_builtin_find(const char *name, int nargs, int *want);
/* 1 with *out, 0 undefined (a type error, as OPA without strict errors),
 * -1 evaluation error (memory). */
int rego_builtin_call(struct rego_ev *ev, int bi, struct rval **args, struct rval **out);
struct arena *rego_ev_arena(struct rego_ev *ev);
int64_t rego_ev_now_ns(struct rego_ev *ev);

#endif
