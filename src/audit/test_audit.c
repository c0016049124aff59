/* The audit store on SQLite: rows in and out whole, filters, migrations,
 * many writer threads. (PostgreSQL: tests/cli/test_serve_pg.sh, against a
 * real server.) With GPUATTEST_TEST_PG_URL set, the same checks also run on
 * that PostgreSQL database. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "harness.h"

static char dir[] = "/tmp/gpa-audit-XXXXXX";

static void make_row(struct audit_row *r, int i, const char *verdict, int64_t t)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->request_id, sizeof(r->request_id), "req-%06d", i);
	r->time_ms = t;
	snprintf(r->client, sizeof(r->client), "key:alice");
	snprintf(r->replica, sizeof(r->replica), "host:1");
	snprintf(r->endpoint, sizeof(r->endpoint), "gpu");
	snprintf(r->verdict, sizeof(r->verdict), "%s", verdict);
	snprintf(r->evidence_sha256, sizeof(r->evidence_sha256), "%064d", i);
	r->devices = malloc(128);
	snprintf(r->devices, 128, "[{\"label\":\"GPU 0\",\"ueid\":\"UEID%d\",\"hwmodel\":\"GH100 100%%_x\"}]", i);
	r->claims = strdup("{\"x-nvidia-overall-att-result\":true,\"quote\":\"it's\"}");
	r->token = strdup("[[\"JWT\",\"a.b.c\"],{}]");
}

struct collect {
	int n;
	char ids[64][64];
	char last_claims[256];
};

static int collect(void *arg, const struct audit_row *r)
{
	struct collect *c = arg;

	if (c->n < 64)
		snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s", r->request_id);
	snprintf(c->last_claims, sizeof(c->last_claims), "%s", r->claims);
	c->n++;
	return 0;
}

static void check_store(struct audit_store *s)
{
	struct gpa_err e = {{0}};
	struct audit_row r;
	struct collect c;
	struct audit_filter f;

	for (int i = 0; i < 6; i++) {
		make_row(&r, i, i % 3 == 0 ? "fail" : "pass", 1000000 + i * 1000);
		CHECK_INT(audit_record(s, &r, &e), 0);
		audit_row_clear(&r);
	}
	/* A request id is recorded once. */
	make_row(&r, 0, "pass", 5);
	CHECK_INT(audit_record(s, &r, &e), -1);
	audit_row_clear(&r);
	/* An incomplete row is refused before the store. */
	memset(&r, 0, sizeof(r));
	CHECK_INT(audit_record(s, &r, &e), -1);
	CHECK_CONTAINS(e.msg, "incomplete row");

	memset(&f, 0, sizeof(f));
	memset(&c, 0, sizeof(c));
	CHECK_INT(audit_query(s, &f, collect, &c, &e), 0);
	CHECK_INT(c.n, 6);
	CHECK_STREQ(c.ids[0], "req-000000");
	CHECK_STREQ(c.last_claims, "{\"x-nvidia-overall-att-result\":true,\"quote\":\"it's\"}");

	f.verdict = "fail";
	memset(&c, 0, sizeof(c));
	CHECK_INT(audit_query(s, &f, collect, &c, &e), 0);
	CHECK_INT(c.n, 2);
	CHECK_STREQ(c.ids[1], "req-000003");

	memset(&f, 0, sizeof(f));
	f.since_ms = 1002000;
	f.until_ms = 1004000;
	memset(&c, 0, sizeof(c));
	CHECK_INT(audit_query(s, &f, collect, &c, &e), 0);
	CHECK_INT(c.n, 2);
	CHECK_STREQ(c.ids[0], "req-000002");

	memset(&f, 0, sizeof(f));
	f.device = "UEID4";
	memset(&c, 0, sizeof(c));
	CHECK_INT(audit_query(s, &f, collect, &c, &e), 0);
	CHECK_INT(c.n, 1);
	CHECK_STREQ(c.ids[0], "req-000004");
	/* '%' and '_' in a device filter are plain characters, not patterns. */
	f.device = "100%_x";
	memset(&c, 0, sizeof(c));
	CHECK_INT(audit_query(s, &f, collect, &c, &e), 0);
	CHECK_INT(c.n, 6);
	f.device = "1%0";
	memset(&c, 0, sizeof(c));
	CHECK_INT(audit_query(s, &f, collect, &c, &e), 0);
	CHECK_INT(c.n, 0);

	memset(&f, 0, sizeof(f));
	f.request_id = "req-000005";
	memset(&c, 0, sizeof(c));
	CHECK_INT(audit_query(s, &f, collect, &c, &e), 0);
	CHECK_INT(c.n, 1);
	f.request_id = "x' OR '1'='1";
	memset(&c, 0, sizeof(c));
	CHECK_INT(audit_query(s, &f, collect, &c, &e), 0);
	CHECK_INT(c.n, 0);

	memset(&f, 0, sizeof(f));
	f.limit = 4;
	memset(&c, 0, sizeof(c));
	CHECK_INT(audit_query(s, &f, collect, &c, &e), 0);
	CHECK_INT(c.n, 4);
	CHECK(audit_ping(s));
	CHECK_INT(audit_schema_version(s), GPA_AUDIT_SCHEMA_VERSION);
}

static void test_sqlite_rows(void)
{
	char path[128];
	struct gpa_err e = {{0}};
	struct audit_store *s;

	snprintf(path, sizeof(path), "sqlite:%s/rows.db", dir);
	s = audit_open(path, &e);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_CONTAINS(audit_describe(s), "rows.db");
	check_store(s);
	audit_close(s);
	/* Reopened: the rows are there, the schema is not migrated twice. */
	s = audit_open(path, &e);
	CHECK(s != NULL);
	struct collect c = {0};
	struct audit_filter f = {0};
	CHECK_INT(audit_query(s, &f, collect, &c, &e), 0);
	CHECK_INT(c.n, 6);
	audit_close(s);
}

static void sql(const char *path, const char *stmt)
{
	sqlite3 *db;

	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, stmt, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

static void test_sqlite_migrates_version_1(void)
{
	char path[128];
	struct gpa_err e = {{0}};

	/* A store written by the first schema (no indexes yet), with a row. */
	snprintf(path, sizeof(path), "%s/v1.db", dir);
	sql(path, "CREATE TABLE gpuattest_schema (version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL,"
	    " description TEXT NOT NULL);"
	    "INSERT INTO gpuattest_schema VALUES (1, 1, 'verifications table');"
	    "CREATE TABLE gpuattest_verifications (request_id TEXT PRIMARY KEY, time_ms BIGINT NOT NULL,"
	    " client TEXT NOT NULL, replica TEXT NOT NULL, endpoint TEXT NOT NULL, verdict TEXT NOT NULL,"
	    " evidence_sha256 TEXT NOT NULL, devices TEXT NOT NULL, claims TEXT NOT NULL, token TEXT NOT NULL);"
	    "INSERT INTO gpuattest_verifications VALUES ('old', 7, 'c', 'r', 'gpu', 'pass', 'h', '[]', '{}', 't');");
	struct audit_store *s = audit_open(path, &e);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(audit_schema_version(s), 2);
	struct collect c = {0};
	struct audit_filter f = {0};
	CHECK_INT(audit_query(s, &f, collect, &c, &e), 0);
	CHECK_INT(c.n, 1);
	CHECK_STREQ(c.ids[0], "old");
	audit_close(s);
	/* The index of step 2 exists now. */
	sqlite3 *db;
	sqlite3_stmt *st;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = "
	    "'gpuattest_verifications_time'", -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_sqlite_refuses_newer_schema(void)
{
	char path[128];
	struct gpa_err e = {{0}};

	snprintf(path, sizeof(path), "%s/new.db", dir);
	sql(path, "CREATE TABLE gpuattest_schema (version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL,"
	    " description TEXT NOT NULL); INSERT INTO gpuattest_schema VALUES (99, 1, 'future');");
	CHECK(audit_open(path, &e) == NULL);
	CHECK_CONTAINS(e.msg, "newer than this gpuattest knows");
	CHECK_CONTAINS(e.msg, "new.db");
}

static void test_unopenable_store(void)
{
	struct gpa_err e = {{0}};

	CHECK(audit_open("sqlite:/nonexistent-dir/x/audit.db", &e) == NULL);
	CHECK_CONTAINS(e.msg, "/nonexistent-dir/x/audit.db");
	CHECK(audit_open("sqlite:", &e) == NULL);
	/* Nothing listens on port 1: the store cannot be reached. */
	CHECK(audit_open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", &e) == NULL);
	CHECK_CONTAINS(e.msg, "cannot connect");
}

struct writer {
	struct audit_store *s;
	int base, ok;
};

static void *write_many(void *arg)
{
	struct writer *w = arg;
	struct gpa_err e;

	for (int i = 0; i < 50; i++) {
		struct audit_row r;
		make_row(&r, w->base + i, "pass", 2000000 + w->base + i);
		if (audit_record(w->s, &r, &e) == 0)
			w->ok++;
		audit_row_clear(&r);
	}
	return NULL;
}

static void test_sqlite_threads(void)
{
	char path[128];
	struct gpa_err e = {{0}};
	struct writer w[4];
	pthread_t th[4];

	snprintf(path, sizeof(path), "%s/threads.db", dir);
	struct audit_store *s = audit_open(path, &e);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	for (int i = 0; i < 4; i++) {
		w[i] = (struct writer){ .s = s, .base = i * 1000 };
		pthread_create(&th[i], NULL, write_many, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(w[i].ok, 50);
	}
	struct collect c = {0};
	struct audit_filter f = {0};
	CHECK_INT(audit_query(s, &f, collect, &c, &e), 0);
	CHECK_INT(c.n, 200);
	audit_close(s);
}

static void test_postgresql_rows(void)
{
	const char *url = getenv("GPUATTEST_TEST_PG_URL");
	struct gpa_err e = {{0}};

	if (url == NULL || *url == '\0')
		SKIP("GPUATTEST_TEST_PG_URL not set (tests/cli/test_serve_pg.sh runs this against a real server)");
	struct audit_store *s = audit_open(url, &e);
	CHECK(s != NULL);
	if (s == NULL) {
		fprintf(stderr, "%s\n", e.msg);
		return;
	}
	CHECK_CONTAINS(audit_describe(s), "postgresql 127.0.0.1");
	check_store(s);
	audit_close(s);
}

static void test_time_format(void)
{
	char t[32];
	int64_t ms;

	audit_format_time(1796291744671LL, t);
	CHECK_STREQ(t, "2026-12-03T09:55:44.671Z");
	CHECK_INT(audit_parse_time(t, &ms), 0);
	CHECK_INT(ms, 1796291744671LL);
	CHECK_INT(audit_parse_time("2026-12-03", &ms), 0);
	CHECK_INT(ms, 1796256000000LL);
	CHECK_INT(audit_parse_time("yesterday", &ms), -1);
}

int main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_sqlite_rows);
	RUN(test_sqlite_migrates_version_1);
	RUN(test_sqlite_refuses_newer_schema);
	RUN(test_unopenable_store);
	RUN(test_sqlite_threads);
	RUN(test_postgresql_rows);
	RUN(test_time_format);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return harness_done("audit");
}
