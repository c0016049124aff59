/*
 * The Rego subset, construct by construct: each with a case that is true,
 * one that is false and one that is undefined (as OPA decides them), then
 * every refusal (file, line, column, the construct named) and every bound.
 */
#include "harness.h"

#include "policy/rego.h"

/* Evaluates rule r of "package policy\n" + src on input (JSON text, or NULL
 * for no input): "undefined", "error: ...", "load: ..." or the compact JSON. */
static const char *eval_src(const char *src, const char *input, const char *r)
{
	static char out[1200];
	char text[8192];
	struct gpa_err e = {{0}};
	struct rego_policy *p;
	json_t *in = NULL, *v = NULL;
	int res;

	snprintf(text, sizeof(text), "package policy\n%s\n", src);
	if ((p = rego_load(text, strlen(text), "t.rego", &e)) == NULL) {
		snprintf(out, sizeof(out), "load: %s", e.msg);
		return out;
	}
	if (input != NULL && (in = json_loads(input, JSON_DECODE_ANY, NULL)) == NULL) {
		rego_free(p);
		return "bad test input";
	}
	res = rego_eval_rule(p, r, in, 1767225600, &v, &e);	/* 2026-01-01T00:00:00Z */
	if (res < 0) {
		snprintf(out, sizeof(out), "error: %s", e.msg);
	} else if (res == 0) {
		snprintf(out, sizeof(out), "undefined");
	} else {
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII);
		snprintf(out, sizeof(out), "%s", s ? s : "?");
		free(s);
	}
	json_decref(v);
	json_decref(in);
	rego_free(p);
	return out;
}

struct row {
	const char *src, *input, *want;
};

/* Rule x of each source. The three inputs of a construct are its true,
 * false and undefined cases. */
static const struct row rows[] = {
	/* complete rules, v0 and v1, default */
	{"x { input.a == 1 }", "{\"a\": 1}", "true"},
	{"x { input.a == 1 }", "{\"a\": 2}", "undefined"},
	{"x { input.a == 1 }", "{}", "undefined"},
	{"import rego.v1\nx if input.a == 1", "{\"a\": 1}", "true"},
	{"import rego.v1\nx if { input.a == 1 }", "{\"a\": 2}", "undefined"},
	{"import future.keywords.if\nx if { input.a == 1 }", "{}", "undefined"},
	{"default x := false\nx { input.a == 1 }", "{\"a\": 1}", "true"},
	{"default x := false\nx { input.a == 1 }", "{\"a\": 2}", "false"},
	{"default x = false\nx { input.a == 1 }", NULL, "false"},
	{"x := 7 { input.a }", "{\"a\": true}", "7"},
	{"x = \"v\" if { input.a }", "{\"a\": false}", "undefined"},
	{"x := {\"k\": [1, 2]}", NULL, "{\"k\":[1,2]}"},
	/* several definitions: OR; two different values: an error */
	{"x { input.a == 1 }\nx { input.b == 1 }", "{\"b\": 1}", "true"},
	{"default x := false\nx { input.a == 1 }\nx { input.b == 1 }", "{\"a\": 2, \"b\": 2}", "false"},
	{"x { input.a == 1 }\nx { input.b == 1 }", "{\"c\": 1}", "undefined"},
	{"x := 1 { input.a }\nx := 2 { input.b }", "{\"a\": true, \"b\": true}", "error: t.rego:3:1: evaluation: x has two different values: a complete rule must have one"},
	{"x := input.l[_]", "{\"l\": [1, 1]}", "1"},
	{"x := input.l[_]", "{\"l\": [1, 2]}", "error: t.rego:2:1: evaluation: x has two different values: a complete rule must have one"},
	/* else */
	{"x := 1 { input.a == 1 } else := 2 { input.a == 2 } else := 3", "{\"a\": 1}", "1"},
	{"x := 1 { input.a == 1 } else := 2 { input.a == 2 } else := 3", "{\"a\": 2}", "2"},
	{"x := 1 { input.a == 1 } else := 2 { input.a == 2 }", "{\"a\": 3}", "undefined"},
	{"x := 1 { input.a == 1 } else := 2 { input.a == 2 } else := 3", "{}", "3"},
	{"import rego.v1\nx := \"a\" if input.a\nelse := \"b\"", "{\"a\": false}", "\"b\""},
	/* not */
	{"x { not input.a }", "{\"a\": false}", "true"},
	{"x { not input.a }", "{\"a\": 0}", "undefined"},
	{"x { not input.a }", "{}", "true"},
	{"x { not input.l[_] == 3 }", "{\"l\": [1, 2]}", "true"},
	{"x { not input.l[_] == 3 }", "{\"l\": [1, 3]}", "undefined"},
	/* truthiness: anything but false succeeds */
	{"x { input.a }", "{\"a\": 0}", "true"},
	{"x { input.a }", "{\"a\": false}", "undefined"},
	{"x { input.a }", "{\"a\": null}", "true"},
	/* some ... in */
	{"x { some v in input.l; v > 2 }", "{\"l\": [1, 3]}", "true"},
	{"x { some v in input.l; v > 5 }", "{\"l\": [1, 3]}", "undefined"},
	{"x { some v in input.l; v > 5 }", "{\"l\": 4}", "undefined"},
	{"x { some k, v in input.o; k == \"b\"; v == 2 }", "{\"o\": {\"a\": 1, \"b\": 2}}", "true"},
	{"x { some k, v in input.o; k == \"b\"; v == 1 }", "{\"o\": {\"a\": 1, \"b\": 2}}", "undefined"},
	{"x { some i, v in input.l; i == 1; v == \"b\" }", "{\"l\": [\"a\", \"b\"]}", "true"},
	{"x { some i; input.l[i] == \"b\"; i == 1 }", "{\"l\": [\"a\", \"b\"]}", "true"},
	/* every */
	{"x { every v in input.l { v > 0 } }", "{\"l\": [1, 2]}", "true"},
	{"x { every v in input.l { v > 1 } }", "{\"l\": [1, 2]}", "undefined"},
	{"x { every v in input.l { v > 1 } }", "{}", "undefined"},
	{"x { every v in input.l { v > 1 } }", "{\"l\": []}", "true"},
	{"x { every k, v in input.o { startswith(k, \"x-\"); v == true } }", "{\"o\": {\"x-a\": true}}", "true"},
	{"x { every k, v in input.o { startswith(k, \"x-\"); v == true } }", "{\"o\": {\"y\": true}}", "undefined"},
	{"x { every _, v in input.o { v.s == \"ok\" } }", "{\"o\": {\"a\": {\"s\": \"ok\"}, \"b\": {\"s\": \"ok\"}}}", "true"},
	{"x { every v in input.l { v.missing } }", "{\"l\": [{}]}", "undefined"},
	/* in */
	{"x { input.s in {\"good\", \"revoked\"} }", "{\"s\": \"good\"}", "true"},
	{"x := input.s in {\"good\", \"revoked\"}", "{\"s\": \"unknown\"}", "false"},
	{"x := input.s in {\"good\", \"revoked\"}", "{}", "undefined"},
	{"x := 2 in [1, 2]", NULL, "true"},
	{"x := 1 in {\"a\": 1}", NULL, "true"},
	{"x { \"a\", 1 in {\"a\": 1} }", NULL, "true"},
	{"x { 0, 2 in [1, 2] }", NULL, "undefined"},
	/* := and = */
	{"x { y := input.a; y == 1 }", "{\"a\": 1}", "true"},
	{"x { y := input.a; y == 1 }", "{\"a\": 2}", "undefined"},
	{"x { y := input.a; y == 1 }", "{}", "undefined"},
	{"x { y = input.a; y == 1 }", "{\"a\": 1}", "true"},
	{"x { input.a = 1 }", "{\"a\": 2}", "undefined"},
	{"x { input.a = input.b }", "{\"a\": 1, \"b\": 1}", "true"},
	/* comparisons on numbers and strings; total order across types */
	{"x := [1 < 2, 2 <= 2, 3 > 2, 2 >= 3, 1 == 1.0, 1 != 2]", NULL, "[true,true,true,false,true,true]"},
	{"x := [\"570\" < \"580\", \"a\" > \"B\", \"x\" == \"x\"]", NULL, "[true,true,true]"},
	{"x := [null < false, false < 0, 0 < \"\", \"\" < [], [] < {}, 1 == \"1\"]", NULL, "[true,true,true,true,true,false]"},
	{"x := input.a < 3", "{}", "undefined"},
	/* arithmetic */
	{"x := [1 + 2, 7 - 10, 2 * 3, 7 / 2, 7 % 3, -input.a]", "{\"a\": 4}", "[3,-3,6,3.5,1,-4]"},
	{"x := 1 / 0", NULL, "undefined"},
	{"x := \"a\" + 1", NULL, "undefined"},
	{"x := 1.5 % 1", NULL, "undefined"},
	{"x := ({1, 2} | {3}) - {1}", NULL, "[2,3]"},
	{"x := {1, 2} & {2, 3}", NULL, "[2]"},
	/* arrays, objects, sets, [_], keys with dashes */
	{"x := input[\"key-with-dashes\"]", "{\"key-with-dashes\": 5}", "5"},
	{"x := input[\"key-with-dashes\"]", "{\"key\": 5}", "undefined"},
	{"x := input.l[1]", "{\"l\": [\"a\", \"b\"]}", "\"b\""},
	{"x := input.l[2]", "{\"l\": [\"a\", \"b\"]}", "undefined"},
	{"x := input.l[\"1\"]", "{\"l\": [\"a\", \"b\"]}", "undefined"},
	{"x { input[_].t == \"gpu\" }", "[{\"t\": \"nvswitch\"}, {\"t\": \"gpu\"}]", "true"},
	{"x { input[_].t == \"gpu\" }", "[{\"t\": \"nvswitch\"}]", "undefined"},
	{"x := {\"a\": input.a, \"b\": [input.a, 2]}", "{\"a\": 1}", "{\"a\":1,\"b\":[1,2]}"},
	{"x := {input.a, 1, 1}", "{\"a\": 2}", "[1,2]"},
	{"x := [input.a]", "{}", "undefined"},
	{"x := {\"good\"}[\"good\"]", NULL, "\"good\""},
	{"x := count(set())", NULL, "0"},
	/* comprehensions */
	{"x := [v | v := input.l[_]; v > 1]", "{\"l\": [1, 2, 3]}", "[2,3]"},
	{"x := {v | some v in input.l}", "{\"l\": [2, 1, 2]}", "[1,2]"},
	{"x := {k: v | some k, v in input.o; v > 1}", "{\"o\": {\"a\": 1, \"b\": 2}}", "{\"b\":2}"},
	{"x { count([c | c := input[_]; c.measres != \"success\"]) == 0 }", "[{\"measres\": \"success\"}]", "true"},
	{"x { count([c | c := input[_]; c.measres != \"success\"]) == 0 }", "[{\"measres\": \"fail\"}]", "undefined"},
	{"x := [v | v := input.l[_]]", "{}", "[]"},
	/* functions (v0, as NVIDIA's 2.0 policies write them), OR of definitions */
	{"f(c) { c.t == \"gpu\" }\nf(c) { c.t == \"nvswitch\" }\nx { every c in input { f(c) } }", "[{\"t\": \"gpu\"}, {\"t\": \"nvswitch\"}]", "true"},
	{"f(c) { c.t == \"gpu\" }\nf(c) { c.t == \"nvswitch\" }\nx { every c in input { f(c) } }", "[{\"t\": \"cpu\"}]", "undefined"},
	{"f(c) { c.t == \"gpu\" }\nx { f(input) }", "{}", "undefined"},
	{"import rego.v1\ndouble(n) := n * 2\nx := double(input.n)", "{\"n\": 4}", "8"},
	{"f(\"gpu\") := 1\nf(\"nvswitch\") := 2\nx := f(input.t)", "{\"t\": \"nvswitch\"}", "2"},
	{"default f(_) := false\nf(v) { v > 1 }\nx := [f(0), f(2)]", NULL, "[false,true]"},
	{"f(v) := 1 { v }\nf(v) := 2 { v }\nx := f(true)", NULL, "error: t.rego:3:1: evaluation: f has two different values: a function call must have one"},
	/* partial sets and objects */
	{"import rego.v1\nd contains m if { some c in input; c.bad; m := c.id }\nx := d", "[{\"id\": 1, \"bad\": true}, {\"id\": 2, \"bad\": false}]", "[1]"},
	{"d[m] { m := input[_].id }\nx { count(d) == 2 }", "[{\"id\": 1}, {\"id\": 2}]", "true"},
	{"d[m] { m := input[_].id }\nx := d", "[]", "[]"},
	{"o[k] := v { some k, v in input; v > 1 }\nx := o", "{\"a\": 1, \"b\": 2}", "{\"b\":2}"},
	/* data.policy references */
	{"y := 3\nx := data.policy.y + 1", NULL, "4"},
	/* builtins */
	{"x := [count([1, 2]), count({\"a\": 1}), count(\"h\\u00e9\"), count({1})]", NULL, "[2,1,2,1]"},
	{"x := count(5)", NULL, "undefined"},
	{"x := [object.get({\"a\": 1}, \"a\", 0), object.get({\"a\": 1}, \"b\", 0), object.get({\"a\": {\"b\": 2}}, [\"a\", \"b\"], 0)]", NULL, "[1,0,2]"},
	{"x := object.get(input, \"k\", null) == null", "{\"k\": null}", "true"},
	{"x := object.get([1], 0, null)", NULL, "undefined"},
	{"x := [is_object({}), is_array([]), is_string(\"\"), is_number(1), is_boolean(false), is_null(null), is_set(set())]", NULL, "[true,true,true,true,true,true,true]"},
	{"x := [is_object([]), is_array({}), is_string(1), is_number(\"1\"), is_boolean(null), is_null(0), is_set([])]", NULL, "[false,false,false,false,false,false,false]"},
	{"x := is_object(input.nothing)", "{}", "undefined"},
	{"x := [startswith(\"GH100 A01\", \"GH100\"), endswith(\"a.xml\", \".xml\"), contains(\"abc\", \"bc\")]", NULL, "[true,true,true]"},
	{"x := [startswith(\"a\", \"ab\"), endswith(\"a\", \"b\"), contains(\"abc\", \"cb\")]", NULL, "[false,false,false]"},
	{"x := startswith(1, \"a\")", NULL, "undefined"},
	{"x := [lower(\"GH100\"), upper(\"ppcie\")]", NULL, "[\"gh100\",\"PPCIE\"]"},
	{"x := lower(1)", NULL, "undefined"},
	{"x := [split(\"595.71.05\", \".\"), split(\"\", \".\"), split(\"ab\", \"\")]", NULL, "[[\"595\",\"71\",\"05\"],[\"\"],[\"a\",\"b\"]]"},
	{"x := split(\"a\", 1)", NULL, "undefined"},
	{"x := [concat(\".\", [\"595\", \"71\"]), concat(\"\", {\"b\", \"a\"}), concat(\",\", [])]", NULL, "[\"595.71\",\"ab\",\"\"]"},
	{"x := concat(\",\", [\"a\"]) == \"b\"", NULL, "false"},
	{"x := concat(\",\", [\"a\", 1])", NULL, "undefined"},
	{"x := [to_number(\"595\"), to_number(\"-1.5e1\"), to_number(true), to_number(null), to_number(3)]", NULL, "[595,-15,1,0,3]"},
	{"x := to_number(\"0x10\")", NULL, "undefined"},
	{"x := to_number(\"inf\")", NULL, "undefined"},
	{"x := [semver.compare(\"595.71.05\", \"580.0.0\"), semver.compare(\"1.0.0\", \"1.0.0\"), semver.compare(\"1.0.0-rc.1\", \"1.0.0\"), semver.compare(\"1.0.0-alpha\", \"1.0.0-alpha.1\"), semver.compare(\"1.0.0-2\", \"1.0.0-10\")]", NULL, "[1,0,-1,-1,-1]"},
	{"x := semver.compare(\"570.124\", \"1.0.0\")", NULL, "undefined"},
	{"x := [semver.is_valid(\"1.2.3+build\"), semver.is_valid(\"1.2\")]", NULL, "[true,false]"},
	{"x := time.now_ns()", NULL, "1767225600000000000"},
	{"x { time.now_ns() < 1798761600000000000 }", NULL, "true"},
	{"x { time.now_ns() < 1700000000000000000 }", NULL, "undefined"},
	/* strings: escapes, raw strings, unicode */
	{"x := \"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\"", NULL, "\"a\\\"b\\\\c\\u00E9\\uD83D\\uDE00\""},
	{"x := `raw\\n`", NULL, "\"raw\\\\n\""},
	/* comments and line structure */
	{"# comment\nx {\n\tinput.a == 1 # trailing\n\tinput.b == 2; input.c == 3\n}", "{\"a\": 1, \"b\": 2, \"c\": 3}", "true"},
	{"x {\n\tcount([1,\n\t\t2]) == 2\n}", NULL, "true"},
};

static void test_constructs(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got = eval_src(rows[i].src, rows[i].input, "x");
		if (strcmp(got, rows[i].want) != 0) {
			fprintf(stderr, "FAIL row %zu: %s\n  input %s\n  got  %s\n  want %s\n", i, rows[i].src,
			    rows[i].input ? rows[i].input : "(none)", got, rows[i].want);
			h_cur_failed = 1;
		}
	}
}

/* Refused at load: the message names the file, line, column and construct. */
static const struct row refusals[] = {
	{"x { input.a with input as {} }", NULL, "t.rego:2:13: 'with' (replacing input or data) is not supported"},
	{"import data.lib\nx := 1", NULL, "t.rego:2:1: import data.lib is not supported"},
	{"import future.keywords.every\nimport input.foo\nx := 1", NULL, "t.rego:3:1: import input.foo is not supported"},
	{"a.b := 1", NULL, "t.rego:2:2: rule heads with references (a.x) are not supported"},
	{"x { [a, b] := input }", NULL, "t.rego:2:12: destructuring assignment (a pattern before ':=') is not supported"},
	{"x { [a, 1] = input }", NULL, "t.rego:2:5: unification of patterns ([a, b] = x) is not supported"},
	{"x { y == 1 }", NULL, "t.rego:2:5: variable y is unsafe: it is not assigned before this use"},
	{"x { y := 1; y := 2 }", NULL, "t.rego:2:13: variable y is assigned twice"},
	{"x { sprintf(\"%d\", [1]) }", NULL, "t.rego:2:5: function sprintf is not supported"},
	{"x { regex.match(\"a\", \"b\") }", NULL, "t.rego:2:5: function regex.match is not supported"},
	{"x { count(1, 2) }", NULL, "t.rego:2:5: count takes 1 argument(s), not 2"},
	{"x { f(1) }", NULL, "t.rego:2:5: function f is not supported"},
	{"f(x) { x }\nx { f }", NULL, "t.rego:3:5: function f used without arguments"},
	{"x { y }\ny { x }", NULL, "depends on itself: recursion is not supported"},
	{"f(v) { f(v) }\nx { f(1) }", NULL, "t.rego:2:8: rule f depends on itself"},
	{"x { data.other.y }", NULL, "t.rego:2:5: data: only data.policy.<rule> can be referenced"},
	{"x { data.policy.nope }", NULL, "t.rego:2:5: data.policy.nope: no such rule"},
	{"x := 1\nx(a) := a", NULL, "t.rego:3:1: x is defined as a complete rule (line 2) and here as a function"},
	{"default x := input.a", NULL, "t.rego:2:14: default x: the value must be a constant"},
	{"default x := 1\ndefault x := 2", NULL, "t.rego:3:9: x has two default values"},
	{"x { }", NULL, "t.rego:2:5: x: empty body"},
	{"x { input.a", NULL, "t.rego:3:1: x: body not closed"},
	{"x { input.a input.b }", NULL, "t.rego:2:13: unexpected 'input': expected ';', a line break or the end of the body"},
	{"x { input.a == }", NULL, "t.rego:2:16: expected a term, found '}'"},
	{"x { input.a ! 1 }", NULL, "t.rego:2:13: unexpected character '!'"},
	{"x { input.a == \"open }", NULL, "t.rego:2:16: string not terminated on its line"},
	{"x { input.a == \"\\q\" }", NULL, "t.rego:2:17: invalid escape in a string"},
	{"x { input.a == 01 }", NULL, "t.rego:2:16: number with a leading zero"},
	{"x { input.a == 1.e5 }", NULL, "t.rego:2:16: number: digits must follow the decimal point"},
	{"x { _ == 1 }", NULL, "t.rego:2:5: _ can only iterate"},
	{"count := 1", NULL, "t.rego:2:1: a rule cannot be named count"},
	{"x { input } { input }", NULL, "t.rego:2:13: x: several bodies on one rule are not supported"},
	{"import rego.v1\nx { input }", NULL, "t.rego:3:3: x: with import rego.v1 a rule body needs 'if'"},
	{"x { every a, a in input { true } }", NULL, "every: key and value must be different variables"},
	{"x { some [a] in input }", NULL, "some: only variables are supported before 'in'"},
	{"f([a]) { a }\nx { f([1]) }", NULL, "t.rego:2:3: function arguments must be variables or constants"},
	{"x := {\"a\": 1, \"a\": 2}", NULL, "t.rego:2:6: object literal with two values for one key"},
	{"d contains m := 1", NULL, "a partial set rule has no value"},
	{"d[m] { m := 1 } else { true }", NULL, "else on a partial rule is not allowed"},
	{"x { input.a }\nimport future.keywords", NULL, "t.rego:3:1: imports come before the rules"},
	{"x { input.a }\npackage other", NULL, "t.rego:3:1: one package per policy"},
	{"x { input.a } y { input.b }", NULL, "t.rego:2:15: unexpected 'y': a rule starts on a new line"},
	{"x { \xff }", NULL, "t.rego:2:5: unexpected byte 0xff"},
	{"x { input.a == \"\xc3\x28\" }", NULL, "t.rego:2:17: invalid UTF-8 in a string"},
};

static void test_refusals(void)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const char *got = eval_src(refusals[i].src, NULL, "x");
		if (strncmp(got, "load: ", 6) != 0 || strstr(got, refusals[i].want) == NULL) {
			fprintf(stderr, "FAIL refusal %zu: %s\n  got  %s\n  want %s\n", i, refusals[i].src, got,
			    refusals[i].want);
			h_cur_failed = 1;
		}
	}
}

static void test_package_and_decision(void)
{
	struct gpa_err e = {{0}};
	const char *other = "package foo\nnv_match := true\n";
	const char *none = "package policy\nx := true\n";
	const char *fn = "package policy\nnv_match(x) := true\n";
	const char *num = "package policy\nnv_match := 1\n";
	const char *undef = "package policy\nnv_match { input.a }\n";
	struct rego_policy *p;
	bool m = true;

	CHECK(rego_load(other, strlen(other), "p.rego", &e) == NULL);
	CHECK_CONTAINS(e.msg, "p.rego:1:1: package foo: the decision is data.policy.nv_match, so the package must be 'policy'");
	CHECK(rego_load("", 0, "p.rego", &e) == NULL);
	CHECK_CONTAINS(e.msg, "p.rego:1:1: a policy starts with 'package policy'");
	p = rego_load(none, strlen(none), "p.rego", &e);
	CHECK(p != NULL && rego_check_decision(p, &e) == -1);
	CHECK_CONTAINS(e.msg, "p.rego: no rule nv_match");
	rego_free(p);
	p = rego_load(fn, strlen(fn), "p.rego", &e);
	CHECK(p != NULL && rego_check_decision(p, &e) == -1);
	CHECK_CONTAINS(e.msg, "p.rego:2:1: nv_match must be a complete rule (a boolean), not a function");
	rego_free(p);
	p = rego_load(num, strlen(num), "p.rego", &e);
	CHECK(p != NULL && rego_check_decision(p, &e) == 0);
	CHECK(rego_decide(p, NULL, 0, &m, &e) == -1);
	CHECK_CONTAINS(e.msg, "nv_match is a number, not a boolean");
	rego_free(p);
	p = rego_load(undef, strlen(undef), "p.rego", &e);
	json_t *empty = json_object();
	m = true;
	CHECK(p != NULL && rego_decide(p, empty, 0, &m, &e) == 0);
	CHECK(!m);
	json_decref(empty);
	rego_free(p);
}

/* Hostile policies and inputs end in an error, never in a decision or a hang. */
static void test_bounds(void)
{
	char *big = malloc(300 * 1024), *deep = malloc(4096);
	struct gpa_err e = {{0}};
	json_t *in, *nested;
	size_t n;

	memset(big, ' ', 300 * 1024);
	memcpy(big, "package policy", 14);
	CHECK(rego_load(big, 300 * 1024, "big.rego", &e) == NULL);
	CHECK_CONTAINS(e.msg, "big.rego: 307200 bytes, more than the 262144 a policy may have");
	free(big);

	/* Steps: a cross product over 200^3 elements. */
	CHECK_CONTAINS(eval_src("x { input[a] == input[b]; input[c] == 0; false }",
	    "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
	    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
	    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
	    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]",
	    "x"), "evaluation: more than 2000000 steps");

	/* Parse depth. */
	n = 0;
	n += (size_t)snprintf(deep + n, 4096 - n, "x := ");
	for (int i = 0; i < 150; i++)
		deep[n++] = '[';
	deep[n++] = '1';
	for (int i = 0; i < 150; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	CHECK_CONTAINS(eval_src(deep, NULL, "x"), "nested more than 100 levels deep");
	free(deep);

	/* Input depth and size. */
	nested = json_array();
	in = nested;
	for (int i = 0; i < 70; i++) {
		json_t *inner = json_array();
		json_array_append_new(nested, inner);
		nested = inner;
	}
	{
		const char *src = "package policy\nnv_match := true\n";
		struct rego_policy *p = rego_load(src, strlen(src), "p.rego", &e);
		bool m;
		CHECK(p != NULL && rego_decide(p, in, 0, &m, &e) == -1);
		CHECK_CONTAINS(e.msg, "p.rego: input: nested deeper than 64 levels");
		json_decref(in);
		in = json_array();
		for (int i = 0; i < 200001; i++)
			json_array_append_new(in, json_true());
		CHECK(rego_decide(p, in, 0, &m, &e) == -1);
		CHECK_CONTAINS(e.msg, "input: more than 200000 JSON values");
		json_decref(in);
		rego_free(p);
	}
}

/* Evaluation depth: a chain of functions deeper than the bound. */
static void test_depth(void)
{
	size_t cap = 200000, n = 0;
	char *src = malloc(cap);
	struct gpa_err e = {{0}};
	struct rego_policy *p;
	json_t *v = NULL;

	n += (size_t)snprintf(src + n, cap - n, "package policy\nf0(v) := v\n");
	for (int i = 1; i < 1200; i++)
		n += (size_t)snprintf(src + n, cap - n, "f%d(v) := f%d(v)\n", i, i - 1);
	n += (size_t)snprintf(src + n, cap - n, "x := f1199(1)\ny := f10(2)\n");
	p = rego_load(src, n, "deep.rego", &e);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK_INT(rego_eval_rule(p, "y", NULL, 0, &v, &e), 1);
		CHECK(json_integer_value(v) == 2);
		json_decref(v);
		CHECK_INT(rego_eval_rule(p, "x", NULL, 0, &v, &e), -1);
		CHECK_CONTAINS(e.msg, "nested more than 1500 levels deep");
	}
	rego_free(p);
	free(src);
}

int main(void)
{
	RUN(test_constructs);
	RUN(test_refusals);
	RUN(test_package_and_decision);
	RUN(test_bounds);
	RUN(test_depth);
	return harness_done("rego");
}
