/*
 * Rego lexer: identifiers, JSON-style strings and numbers, raw strings in
 * back quotes, operators, '#' comments. Records line breaks between tokens,
 * which end statements in Rego. Any other character is refused with its
 * position; so are control characters and bytes outside ASCII except inside
 * strings and comments (where they must be valid UTF-8).
 */
#include "policy/rego_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lexer {
	struct arena *a;
	const char *src, *name;
	size_t len, pos;
	int line, col;
	struct gpa_err *e;
};

static int lex_error(struct lexer *lx, int line, int col, const char *what)
{
	gpa_err_set(lx->e, "%s:%d:%d: %s", lx->name, line, col, what);
	return -1;
}

static void advance(struct lexer *lx)
{
	if (lx->src[lx->pos] == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->pos++;
}

/* Length of the UTF-8 sequence at p (strict: shortest form, no surrogates,
 * at most U+10FFFF), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	unsigned c = p[0], cp;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hex4(const char *p, size_t left, unsigned *out)
{
	unsigned v = 0;

	if (left < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* \uXXXX, with a surrogate pair when it takes two. Consumes what it reads. */
static int lex_unicode(struct lexer *lx, char *out, size_t *w)
{
	unsigned cp, lo;

	if (hex4(lx->src + lx->pos, lx->len - lx->pos, &cp) != 0)
		return -1;
	for (int i = 0; i < 4; i++)
		advance(lx);
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (lx->len - lx->pos < 6 || lx->src[lx->pos] != '\\' || lx->src[lx->pos + 1] != 'u' ||
		    hex4(lx->src + lx->pos + 2, lx->len - lx->pos - 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
			return -1;
		for (int i = 0; i < 6; i++)
			advance(lx);
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	*w += put_utf8(out + *w, cp);
	return 0;
}

static int lex_escape(struct lexer *lx, char *out, size_t *w)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	char c = lx->src[lx->pos];
	const char *hit = c ? strchr(from, c) : NULL;

	advance(lx);
	if (hit != NULL) {
		out[(*w)++] = to[hit - from];
		return 0;
	}
	if (c == 'u')
		return lex_unicode(lx, out, w);
	return -1;
}

static int lex_string(struct lexer *lx, struct token *t)
{
	size_t end = lx->pos + 1, w = 0;
	char *out;

	/* The decoded text is never longer than the quoted one. */
	while (end < lx->len && lx->src[end] != '"' && lx->src[end] != '\n')
		end += lx->src[end] == '\\' ? 2 : 1;
	out = arena_alloc(lx->a, end - lx->pos + 4);

	if (out == NULL)
		return lex_error(lx, t->line, t->col, "policy too large");
	advance(lx);	/* " */
	for (;;) {
		unsigned char c;
		size_t n;

		if (lx->pos >= lx->len || lx->src[lx->pos] == '\n')
			return lex_error(lx, t->line, t->col, "string not terminated on its line");
		c = (unsigned char)lx->src[lx->pos];
		if (c == '"')
			break;
		if (c < 0x20)
			return lex_error(lx, lx->line, lx->col, "control character in a string");
		if (c == '\\') {
			int line = lx->line, col = lx->col;
			advance(lx);
			if (lx->pos >= lx->len || lex_escape(lx, out, &w) != 0)
				return lex_error(lx, line, col, "invalid escape in a string");
			continue;
		}
		if ((n = utf8_len((const unsigned char *)lx->src + lx->pos, lx->len - lx->pos)) == 0)
			return lex_error(lx, lx->line, lx->col, "invalid UTF-8 in a string");
		memcpy(out + w, lx->src + lx->pos, n);
		w += n;
		for (size_t i = 0; i < n; i++)
			advance(lx);
	}
	advance(lx);	/* " */
	out[w] = '\0';
	t->k = TK_STRING;
	t->text = out;
	t->len = w;
	return 0;
}

static int lex_raw_string(struct lexer *lx, struct token *t)
{
	size_t start;
	char *out;

	advance(lx);
	start = lx->pos;
	while (lx->pos < lx->len && lx->src[lx->pos] != '`') {
		size_t n = utf8_len((const unsigned char *)lx->src + lx->pos, lx->len - lx->pos);
		if (n == 0 || (n == 1 && (unsigned char)lx->src[lx->pos] < 0x20 && lx->src[lx->pos] != '\n' &&
		    lx->src[lx->pos] != '\t'))
			return lex_error(lx, lx->line, lx->col, "invalid character in a raw string");
		for (size_t i = 0; i < n; i++)
			advance(lx);
	}
	if (lx->pos >= lx->len)
		return lex_error(lx, t->line, t->col, "raw string not terminated");
	if ((out = arena_alloc(lx->a, lx->pos - start + 1)) == NULL)
		return lex_error(lx, t->line, t->col, "policy too large");
	memcpy(out, lx->src + start, lx->pos - start);
	advance(lx);
	t->k = TK_STRING;
	t->text = out;
	t->len = strlen(out);
	return 0;
}

/* JSON number grammar without the sign (a minus is an operator). */
static int lex_number(struct lexer *lx, struct token *t)
{
	const char *s = lx->src;
	size_t p = lx->pos, start = p;
	char buf[64];

	if (s[p] == '0' && p + 1 < lx->len && isdigit((unsigned char)s[p + 1]))
		return lex_error(lx, t->line, t->col, "number with a leading zero");
	while (p < lx->len && isdigit((unsigned char)s[p]))
		p++;
	if (p < lx->len && s[p] == '.') {
		if (p + 1 >= lx->len || !isdigit((unsigned char)s[p + 1]))
			return lex_error(lx, t->line, t->col, "number: digits must follow the decimal point");
		for (p++; p < lx->len && isdigit((unsigned char)s[p]); p++)
			;
	}
	if (p < lx->len && (s[p] == 'e' || s[p] == 'E')) {
		p++;
		if (p < lx->len && (s[p] == '+' || s[p] == '-'))
			p++;
		if (p >= lx->len || !isdigit((unsigned char)s[p]))
			return lex_error(lx, t->line, t->col, "number: digits must follow the exponent");
		while (p < lx->len && isdigit((unsigned char)s[p]))
			p++;
	}
	if (p < lx->len && (isalpha((unsigned char)s[p]) || s[p] == '_'))
		return lex_error(lx, t->line, t->col, "number followed by a letter");
	if (p - start >= sizeof(buf))
		return lex_error(lx, t->line, t->col, "number too long (at most 63 characters)");
	memcpy(buf, s + start, p - start);
	buf[p - start] = '\0';
	t->k = TK_NUMBER;
	t->num = strtod(buf, NULL);
	while (lx->pos < p)
		advance(lx);
	return 0;
}

static int lex_ident(struct lexer *lx, struct token *t)
{
	size_t start = lx->pos;
	char *out;

	while (lx->pos < lx->len && (isalnum((unsigned char)lx->src[lx->pos]) || lx->src[lx->pos] == '_'))
		advance(lx);
	if ((out = arena_alloc(lx->a, lx->pos - start + 1)) == NULL)
		return lex_error(lx, t->line, t->col, "policy too large");
	memcpy(out, lx->src + start, lx->pos - start);
	t->k = TK_IDENT;
	t->text = out;
	t->len = lx->pos - start;
	return 0;
}

struct op {
	const char *text;
	enum tok_kind k;
};

/* Two-character operators first. */
static const struct op ops[] = {
	{":=", TK_ASSIGN}, {"==", TK_EQ}, {"!=", TK_NE}, {"<=", TK_LE}, {">=", TK_GE},
	{"{", TK_LBRACE}, {"}", TK_RBRACE}, {"[", TK_LBRACK}, {"]", TK_RBRACK}, {"(", TK_LPAREN},
	{")", TK_RPAREN}, {".", TK_DOT}, {",", TK_COMMA}, {";", TK_SEMI}, {":", TK_COLON},
	{"=", TK_UNIFY}, {"<", TK_LT}, {">", TK_GT}, {"+", TK_PLUS}, {"-", TK_MINUS}, {"*", TK_STAR},
	{"/", TK_SLASH}, {"%", TK_PERCENT}, {"|", TK_BAR}, {"&", TK_AMP},
};

static int lex_op(struct lexer *lx, struct token *t)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].text);
		if (lx->len - lx->pos >= n && memcmp(lx->src + lx->pos, ops[i].text, n) == 0) {
			t->k = ops[i].k;
			for (size_t k = 0; k < n; k++)
				advance(lx);
			return 0;
		}
	}
	char what[64];
	unsigned char c = (unsigned char)lx->src[lx->pos];
	if (c >= 0x21 && c < 0x7f)
		snprintf(what, sizeof(what), "unexpected character '%c'", c);
	else
		snprintf(what, sizeof(what), "unexpected byte 0x%02x", c);
	return lex_error(lx, lx->line, lx->col, what);
}

/* Skips blanks and comments; returns whether a line break was crossed. */
static bool skip_space(struct lexer *lx, int *bad)
{
	bool nl = false;

	while (lx->pos < lx->len) {
		char c = lx->src[lx->pos];
		if (c == '\n') {
			nl = true;
			advance(lx);
		} else if (c == ' ' || c == '\t' || c == '\r') {
			advance(lx);
		} else if (c == '#') {
			while (lx->pos < lx->len && lx->src[lx->pos] != '\n') {
				size_t n = utf8_len((const unsigned char *)lx->src + lx->pos, lx->len - lx->pos);
				if (n == 0) {
					*bad = 1;
					return nl;
				}
				for (size_t i = 0; i < n; i++)
					advance(lx);
			}
		} else {
			break;
		}
	}
	return nl;
}

static int lex_one(struct lexer *lx, struct token *t)
{
	char c = lx->src[lx->pos];

	if (c == '"')
		return lex_string(lx, t);
	if (c == '`')
		return lex_raw_string(lx, t);
	if (isdigit((unsigned char)c))
		return lex_number(lx, t);
	if (isalpha((unsigned char)c) || c == '_')
		return lex_ident(lx, t);
	return lex_op(lx, t);
}

int rego_lex(struct arena *a, const char *src, size_t len, const char *name, struct token **toks,
    size_t *ntoks, struct gpa_err *e)
{
	struct lexer lx = {.a = a, .src = src, .name = name, .len = len, .line = 1, .col = 1, .e = e};
	size_t cap = 64, n = 0;
	struct token *t = malloc(cap * sizeof(*t));

	if (t == NULL) {
		gpa_err_set(e, "%s: out of memory", name);
		return -1;
	}
	for (;;) {
		int bad = 0;
		bool nl = skip_space(&lx, &bad);

		if (bad) {
			lex_error(&lx, lx.line, lx.col, "invalid UTF-8 in a comment");
			goto fail;
		}
		if (n == cap) {
			struct token *grown = realloc(t, 2 * cap * sizeof(*t));
			if (grown == NULL) {
				gpa_err_set(e, "%s: out of memory", name);
				goto fail;
			}
			t = grown;
			cap *= 2;
		}
		memset(&t[n], 0, sizeof(t[n]));
		t[n].line = lx.line;
		t[n].col = lx.col;
		t[n].nl_before = nl || n == 0;
		if (lx.pos >= len) {
			t[n++].k = TK_EOF;
			break;
		}
		if (lex_one(&lx, &t[n]) != 0)
			goto fail;
		n++;
	}
	/* The tokens live in the arena with the rest of the policy. */
	*toks = arena_alloc(a, n * sizeof(*t));
	if (*toks == NULL) {
		gpa_err_set(e, "%s: policy too large", name);
		goto fail;
	}
	memcpy(*toks, t, n * sizeof(*t));
	*ntoks = n;
	free(t);
	return 0;
fail:
	free(t);
	return -1;
}
