/*
 * The SQLite audit store: one file, WAL journal, one connection shared by
 * the service's threads under a mutex (SQLite serialises writers anyway).
 *
 * Durability: WAL with synchronous=NORMAL. A committed transaction is in the
 * WAL file before sqlite3_step returns, so a process killed at any point
 * (SIGKILL, a crash) keeps every row it committed and none torn; only an
 * operating-system crash or power loss can take back the last commits
 * (synchronous=FULL, --db-sync full, closes that too at the cost of an
 * fsync per verification). Other processes (`gpuattest audit`, a second
 * service on the same file) wait up to 5 s for a busy database.
 */
#include "audit/audit_internal.h"
#include "audit/migrations.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct sq {
	sqlite3 *db;
	pthread_mutex_t mu;
	sqlite3_stmt *insert;
	int version;
};

static int sq_exec(sqlite3 *db, const char *sql, struct gpa_err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		gpa_err_set(e, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int sq_current_version(sqlite3 *db, int *v, struct gpa_err *e)
{
	sqlite3_stmt *st;

	*v = 0;
	if (sq_exec(db, "CREATE TABLE IF NOT EXISTS gpuattest_schema (version INTEGER PRIMARY KEY,"
	    " applied_ms BIGINT NOT NULL, description TEXT NOT NULL)", e) != 0)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(version), 0) FROM gpuattest_schema", -1, &st,
	    NULL) != SQLITE_OK) {
		gpa_err_set(e, "%s", sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int64_t now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Every missing step in one IMMEDIATE transaction: two processes opening a
 * new file at once migrate it once (the second waits, then sees it done). */
static int sq_migrate(struct sq *q, struct gpa_err *e)
{
	char sql[256];
	int v;

	if (sq_exec(q->db, "BEGIN IMMEDIATE", e) != 0)
		return -1;
	if (sq_current_version(q->db, &v, e) != 0)
		goto fail;
	if (v > GPA_AUDIT_SCHEMA_VERSION) {
		gpa_err_set(e, "schema version %d is newer than this gpuattest knows (%d): upgrade gpuattest",
		    v, GPA_AUDIT_SCHEMA_VERSION);
		goto fail;
	}
	for (size_t i = 0; i < AUDIT_NMIGRATIONS; i++) {
		const struct audit_migration *m = &audit_migrations[i];
		if (m->version <= v)
			continue;
		if (sq_exec(q->db, m->sql, e) != 0) {
			gpa_err_prefix(e, "migration %d (%s)", m->version, m->description);
			goto fail;
		}
		snprintf(sql, sizeof(sql), "INSERT INTO gpuattest_schema VALUES (%d, %lld, '%s')",
		    m->version, (long long)now_ms(), m->description);
		if (sq_exec(q->db, sql, e) != 0)
			goto fail;
		v = m->version;
	}
	if (sq_exec(q->db, "COMMIT", e) != 0)
		goto fail;
	q->version = v;
	return 0;
fail:
	sq_exec(q->db, "ROLLBACK", &(struct gpa_err){{0}});
	return -1;
}

static void sq_close(struct audit_store *s)
{
	struct sq *q = s->impl;

	if (q != NULL) {
		sqlite3_finalize(q->insert);
		sqlite3_close(q->db);
		pthread_mutex_destroy(&q->mu);
		free(q);
	}
	free(s);
}

static int sq_record(struct audit_store *s, const struct audit_row *r, struct gpa_err *e)
{
	struct sq *q = s->impl;
	sqlite3_stmt *st = q->insert;
	int rc;

	pthread_mutex_lock(&q->mu);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_text(st, 1, r->request_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->time_ms);
	sqlite3_bind_text(st, 3, r->client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->replica, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->verdict, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->evidence_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, r->devices, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, r->claims, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, r->token, -1, SQLITE_STATIC);
	/* Autocommit: the one INSERT is its own transaction, committed (in the
	 * WAL) when step returns DONE. */
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		gpa_err_set(e, "audit store %s: %s", s->describe, sqlite3_errmsg(q->db));
	sqlite3_reset(st);
	pthread_mutex_unlock(&q->mu);
	return rc == SQLITE_DONE ? 0 : -1;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return strdup(t ? (const char *)t : "");
}

static int sq_query(struct audit_store *s, const struct audit_filter *f,
    int (*fn)(void *arg, const struct audit_row *r), void *arg, struct gpa_err *e)
{
	struct sq *q = s->impl;
	struct audit_param p[AUDIT_MAX_PARAMS];
	char sql[1024];
	sqlite3_stmt *st;
	int np, rc, ret = 0;

	audit_build_select(f, true, sql, sizeof(sql), p, &np);
	pthread_mutex_lock(&q->mu);
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK) {
		gpa_err_set(e, "audit store %s: %s", s->describe, sqlite3_errmsg(q->db));
		pthread_mutex_unlock(&q->mu);
		return -1;
	}
	for (int i = 0; i < np; i++) {
		if (p[i].is_int)
			sqlite3_bind_int64(st, i + 1, p[i].i);
		else
			sqlite3_bind_text(st, i + 1, p[i].s, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_row r;
		memset(&r, 0, sizeof(r));
		audit_copy(r.request_id, sizeof(r.request_id), (const char *)sqlite3_column_text(st, 0));
		r.time_ms = sqlite3_column_int64(st, 1);
		audit_copy(r.client, sizeof(r.client), (const char *)sqlite3_column_text(st, 2));
		audit_copy(r.replica, sizeof(r.replica), (const char *)sqlite3_column_text(st, 3));
		audit_copy(r.endpoint, sizeof(r.endpoint), (const char *)sqlite3_column_text(st, 4));
		audit_copy(r.verdict, sizeof(r.verdict), (const char *)sqlite3_column_text(st, 5));
		audit_copy(r.evidence_sha256, sizeof(r.evidence_sha256),
		    (const char *)sqlite3_column_text(st, 6));
		r.devices = col_dup(st, 7);
		r.claims = col_dup(st, 8);
		r.token = col_dup(st, 9);
		int stop = fn(arg, &r);
		audit_row_clear(&r);
		if (stop)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		gpa_err_set(e, "audit store %s: %s", s->describe, sqlite3_errmsg(q->db));
		ret = -1;
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&q->mu);
	return ret;
}

static bool sq_ping(struct audit_store *s)
{
	struct sq *q = s->impl;
	int v;
	struct gpa_err e;
	bool ok;

	pthread_mutex_lock(&q->mu);
	ok = sq_current_version(q->db, &v, &e) == 0 && v == q->version;
	pthread_mutex_unlock(&q->mu);
	return ok;
}

static int sq_version(struct audit_store *s)
{
	return ((struct sq *)s->impl)->version;
}

static const struct audit_ops sq_ops = {
	.record = sq_record, .query = sq_query, .ping = sq_ping, .version = sq_version, .close = sq_close,
};

struct audit_store *audit_sqlite_open(const char *path, struct gpa_err *e)
{
	struct audit_store *s = calloc(1, sizeof(*s));
	struct sq *q = calloc(1, sizeof(*q));
	const char *sync = getenv("GPUATTEST_DB_SYNC");
	char pragma[64];

	if (s == NULL || q == NULL) {
		free(s);
		free(q);
		gpa_err_set(e, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&q->mu, NULL);
	s->ops = &sq_ops;
	s->impl = q;
	snprintf(s->describe, sizeof(s->describe), "sqlite %.240s", path);
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		gpa_err_set(e, "audit store %s: cannot open: %s", path,
		    q->db ? sqlite3_errmsg(q->db) : "out of memory");
		sq_close(s);
		return NULL;
	}
	sqlite3_busy_timeout(q->db, 5000);
	if (sync == NULL || (strcmp(sync, "full") != 0 && strcmp(sync, "normal") != 0))
		sync = "normal";
	snprintf(pragma, sizeof(pragma), "PRAGMA synchronous=%s", sync);
	if (sq_exec(q->db, "PRAGMA journal_mode=WAL", e) != 0 || sq_exec(q->db, pragma, e) != 0 ||
	    sq_migrate(q, e) != 0) {
		gpa_err_prefix(e, "audit store %s", path);
		sq_close(s);
		return NULL;
	}
	if (sqlite3_prepare_v2(q->db, "INSERT INTO gpuattest_verifications (" AUDIT_COLUMNS
	    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", -1, &q->insert, NULL) != SQLITE_OK) {
		gpa_err_set(e, "audit store %s: %s", path, sqlite3_errmsg(q->db));
		sq_close(s);
		return NULL;
	}
	return s;
}
