/*
 * The audit store's front: choosing a back end from the URL, the state
 * directory, rows as JSON, times.
 */
#include "audit/audit_internal.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void audit_row_clear(struct audit_row *r)
{
	free(r->devices);
	free(r->claims);
	free(r->token);
	memset(r, 0, sizeof(*r));
}

void audit_copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src != NULL ? src : "");
}

int audit_row_valid(const struct audit_row *r, struct gpa_err *e)
{
	if (r->request_id[0] == '\0' || r->verdict[0] == '\0' || r->endpoint[0] == '\0' ||
	    r->time_ms <= 0) {
		gpa_err_set(e, "audit: incomplete row (request id, time, endpoint and verdict are required)");
		return -1;
	}
	if (r->devices == NULL || r->claims == NULL || r->token == NULL) {
		gpa_err_set(e, "audit: row %s has no devices, claims or token field", r->request_id);
		return -1;
	}
	return 0;
}

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

struct audit_store *audit_open(const char *url, struct gpa_err *e)
{
	char path[4096];

	if (url == NULL || *url == '\0') {
		if (audit_default_path(path, sizeof(path), e) != 0)
			return NULL;
		return audit_sqlite_open(path, e);
	}
	if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://"))
		return audit_pg_open(url, e);
	if (has_prefix(url, "sqlite:"))
		url += strlen("sqlite:");
	if (*url == '\0') {
		gpa_err_set(e, "audit: 'sqlite:' names no file");
		return NULL;
	}
	return audit_sqlite_open(url, e);
}

void audit_close(struct audit_store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

const char *audit_describe(const struct audit_store *s)
{
	return s->describe;
}

int audit_record(struct audit_store *s, const struct audit_row *r, struct gpa_err *e)
{
	if (audit_row_valid(r, e) != 0)
		return -1;
	return s->ops->record(s, r, e);
}

int audit_query(struct audit_store *s, const struct audit_filter *f,
    int (*fn)(void *arg, const struct audit_row *r), void *arg, struct gpa_err *e)
{
	return s->ops->query(s, f, fn, arg, e);
}

bool audit_ping(struct audit_store *s)
{
	return s->ops->ping(s);
}

int audit_schema_version(struct audit_store *s)
{
	return s->ops->version(s);
}

static int mkdir_p(char *path, struct gpa_err *e)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			gpa_err_set(e, "state directory: cannot create %s: %s", path, strerror(errno));
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		gpa_err_set(e, "state directory: cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int audit_state_dir(char *out, size_t len, struct gpa_err *e)
{
	const char *v;
	int n;

	if ((v = getenv("GPUATTEST_STATE_DIR")) != NULL && v[0] == '/')
		n = snprintf(out, len, "%s", v);
	else if ((v = getenv("STATE_DIRECTORY")) != NULL && v[0] == '/')
		n = snprintf(out, len, "%.*s", (int)strcspn(v, ":"), v);	/* systemd: first of a list */
	else if (geteuid() == 0)
		n = snprintf(out, len, "/var/lib/gpuattest");
	else if ((v = getenv("XDG_STATE_HOME")) != NULL && v[0] == '/')
		n = snprintf(out, len, "%s/gpuattest", v);
	else if ((v = getenv("HOME")) != NULL && v[0] == '/')
		n = snprintf(out, len, "%s/.local/state/gpuattest", v);
	else {
		gpa_err_set(e, "state directory: none (set GPUATTEST_STATE_DIR, XDG_STATE_HOME or HOME)");
		return -1;
	}
	if (n < 0 || (size_t)n >= len) {
		gpa_err_set(e, "state directory: path too long");
		return -1;
	}
	return mkdir_p(out, e);
}

int audit_default_path(char *out, size_t len, struct gpa_err *e)
{
	char dir[3800];

	if (audit_state_dir(dir, sizeof(dir), e) != 0)
		return -1;
	if ((size_t)snprintf(out, len, "%s/audit.db", dir) >= len) {
		gpa_err_set(e, "state directory: path too long");
		return -1;
	}
	return 0;
}

void audit_format_time(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int audit_parse_time(const char *s, int64_t *ms)
{
	char buf[64];
	time_t t;
	long frac = 0;

	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {	/* a date: its midnight, UTC */
		snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
		s = buf;
	}
	if (time_parse_rfc3339(s, &t) != 0)
		return -1;
	const char *dot = strchr(s, '.');
	if (dot != NULL) {
		int digits = 0;
		for (const char *p = dot + 1; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
			frac = frac * 10 + (*p - '0');
		for (; digits < 3; digits++)
			frac *= 10;
	}
	*ms = (int64_t)t * 1000 + frac;
	return 0;
}

/* A JSON column back as JSON; text that does not parse is kept as a string
 * (the export shows what the store holds, never drops it). */
static json_t *column_json(const char *text)
{
	json_t *v = text && *text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;

	return v != NULL ? v : json_string(text ? text : "");
}

json_t *audit_row_json(const struct audit_row *r)
{
	char t[32];
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	audit_format_time(r->time_ms, t);
	json_object_set_new(o, "request_id", json_string(r->request_id));
	json_object_set_new(o, "time", json_string(t));
	json_object_set_new(o, "client", json_string(r->client));
	json_object_set_new(o, "replica", json_string(r->replica));
	json_object_set_new(o, "endpoint", json_string(r->endpoint));
	json_object_set_new(o, "verdict", json_string(r->verdict));
	json_object_set_new(o, "evidence_sha256", json_string(r->evidence_sha256));
	json_object_set_new(o, "devices", column_json(r->devices));
	json_object_set_new(o, "claims", column_json(r->claims));
	json_object_set_new(o, "token", json_string(r->token ? r->token : ""));
	return o;
}

/* Appends " WHERE|AND <before>$N<after>", N the next parameter's number. */
static void add_cond(char *sql, size_t cap, int *np, const char *before, const char *after)
{
	size_t l = strlen(sql);

	snprintf(sql + l, cap - l, "%s%s$%d%s", *np == 0 ? " WHERE " : " AND ", before, *np + 1, after);
}

int audit_build_select(const struct audit_filter *f, bool sqlite, char *sql, size_t cap,
    struct audit_param *p, int *np)
{
	*np = 0;
	snprintf(sql, cap, "SELECT " AUDIT_COLUMNS " FROM gpuattest_verifications");
	if (f->since_ms > 0) {
		add_cond(sql, cap, np, "time_ms >= ", "");
		p[(*np)++] = (struct audit_param){.is_int = true, .i = f->since_ms};
	}
	if (f->until_ms > 0) {
		add_cond(sql, cap, np, "time_ms < ", "");
		p[(*np)++] = (struct audit_param){.is_int = true, .i = f->until_ms};
	}
	if (f->verdict != NULL) {
		add_cond(sql, cap, np, "verdict = ", "");
		p[(*np)++] = (struct audit_param){.s = f->verdict};
	}
	if (f->request_id != NULL) {
		add_cond(sql, cap, np, "request_id = ", "");
		p[(*np)++] = (struct audit_param){.s = f->request_id};
	}
	if (f->client != NULL) {
		add_cond(sql, cap, np, "client = ", "");
		p[(*np)++] = (struct audit_param){.s = f->client};
	}
	if (f->device != NULL) {
		/* A substring, not a LIKE pattern: '%' and '_' in it mean themselves. */
		add_cond(sql, cap, np, sqlite ? "instr(devices, " : "strpos(devices, ", ") > 0");
		p[(*np)++] = (struct audit_param){.s = f->device};
	}
	size_t l = strlen(sql);
	snprintf(sql + l, cap - l, " ORDER BY time_ms, request_id");
	if (f->limit > 0) {
		l = strlen(sql);
		snprintf(sql + l, cap - l, " LIMIT %ld", f->limit);
	}
	return 0;
}
