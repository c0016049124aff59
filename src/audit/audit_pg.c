/*
 * The PostgreSQL audit store (libpq): several `gpuattest serve` replicas
 * share one database. Each thread takes a connection from a small pool;
 * a connection that broke is reset and the statement tried once more on
 * it, so a database restart costs the requests in flight at that moment a
 * 503, not the service.
 *
 * Every row is one INSERT in autocommit mode: PostgreSQL commits it (WAL
 * flushed, synchronous_commit as the server is configured) before the
 * command completes, and the service answers only then. A replica killed
 * in the middle leaves either the whole row or nothing.
 *
 * Migrations run in one transaction under an advisory lock, so replicas
 * starting together migrate a new database once.
 */
#include "audit/audit_internal.h"
#include "audit/migrations.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define PG_POOL_MAX 64
/* pg_advisory_xact_lock key of the migration step ("gpuattest" in ASCII, cut). */
#define PG_MIGRATE_LOCK 0x6770756174746573LL

struct pg {
	char *conninfo;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n, nfree;
	PGconn *conns[PG_POOL_MAX];
	bool busy[PG_POOL_MAX];
	int version;
};

static int64_t now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The message of a failed connection or result, one line. */
static void pg_error(struct gpa_err *e, const char *what, PGconn *c, PGresult *r)
{
	const char *m = r ? PQresultErrorMessage(r) : c ? PQerrorMessage(c) : "out of memory";
	size_t n = strcspn(m, "\n");

	gpa_err_set(e, "%s: %.*s", what, (int)(n > 900 ? 900 : n), m);
}

static void pg_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;	/* NOTICEs (e.g. "relation already exists") are not errors */
}

static PGconn *pg_connect(struct pg *p, struct gpa_err *e)
{
	PGconn *c = PQconnectdb(p->conninfo);

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		pg_error(e, "cannot connect", c, NULL);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, pg_quiet, NULL);
	return c;
}

static int pg_exec(PGconn *c, const char *sql, struct gpa_err *e)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		pg_error(e, "PostgreSQL", c, r);
	PQclear(r);
	return ok ? 0 : -1;
}

static int pg_migrate(struct pg *p, PGconn *c, struct gpa_err *e)
{
	char sql[256];
	PGresult *r;
	int v;

	if (pg_exec(c, "BEGIN", e) != 0)
		return -1;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)", (long long)PG_MIGRATE_LOCK);
	if (pg_exec(c, sql, e) != 0 ||
	    pg_exec(c, "CREATE TABLE IF NOT EXISTS gpuattest_schema (version INTEGER PRIMARY KEY,"
	    " applied_ms BIGINT NOT NULL, description TEXT NOT NULL)", e) != 0)
		goto fail;
	r = PQexec(c, "SELECT COALESCE(MAX(version), 0) FROM gpuattest_schema");
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		pg_error(e, "PostgreSQL", c, r);
		PQclear(r);
		goto fail;
	}
	v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (v > GPA_AUDIT_SCHEMA_VERSION) {
		gpa_err_set(e, "schema version %d is newer than this gpuattest knows (%d): upgrade gpuattest",
		    v, GPA_AUDIT_SCHEMA_VERSION);
		goto fail;
	}
	for (size_t i = 0; i < AUDIT_NMIGRATIONS; i++) {
		const struct audit_migration *m = &audit_migrations[i];
		if (m->version <= v)
			continue;
		if (pg_exec(c, m->sql, e) != 0) {
			gpa_err_prefix(e, "migration %d (%s)", m->version, m->description);
			goto fail;
		}
		snprintf(sql, sizeof(sql), "INSERT INTO gpuattest_schema VALUES (%d, %lld, '%s')",
		    m->version, (long long)now_ms(), m->description);
		if (pg_exec(c, sql, e) != 0)
			goto fail;
		v = m->version;
	}
	if (pg_exec(c, "COMMIT", e) != 0)
		goto fail;
	p->version = v;
	return 0;
fail:
	pg_exec(c, "ROLLBACK", &(struct gpa_err){{0}});
	return -1;
}

/* A connection of the pool (opened on first need), or NULL when the
 * database cannot be reached. */
static int pg_take(struct pg *p, struct gpa_err *e)
{
	int slot = -1;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		for (int i = 0; i < p->n; i++)
			if (!p->busy[i]) {
				slot = i;
				break;
			}
		if (slot >= 0 || p->n < PG_POOL_MAX)
			break;
		pthread_cond_wait(&p->cv, &p->mu);
	}
	if (slot < 0)
		slot = p->n++;
	p->busy[slot] = true;
	pthread_mutex_unlock(&p->mu);
	if (p->conns[slot] == NULL && (p->conns[slot] = pg_connect(p, e)) == NULL) {
		pthread_mutex_lock(&p->mu);
		p->busy[slot] = false;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	return slot;
}

static void pg_give(struct pg *p, int slot)
{
	pthread_mutex_lock(&p->mu);
	p->busy[slot] = false;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Runs a parameterised statement, resetting a broken connection once. */
static PGresult *pg_run(struct pg *p, int slot, const char *sql, int n, const char *const *vals,
    ExecStatusType want, struct gpa_err *e)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		PGconn *c = p->conns[slot];
		PGresult *r = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
		if (r != NULL && PQresultStatus(r) == want)
			return r;
		pg_error(e, "PostgreSQL", c, r);
		PQclear(r);
		if (PQstatus(c) == CONNECTION_OK)
			return NULL;	/* the statement failed, not the connection */
		PQreset(c);
		if (PQstatus(c) != CONNECTION_OK) {
			pg_error(e, "PostgreSQL: connection lost", c, NULL);
			return NULL;
		}
	}
	return NULL;
}

static int pg_record(struct audit_store *s, const struct audit_row *row, struct gpa_err *e)
{
	struct pg *p = s->impl;
	char t[24];
	const char *vals[10];
	PGresult *r;
	int slot;

	if ((slot = pg_take(p, e)) < 0) {
		gpa_err_prefix(e, "audit store %s", s->describe);
		return -1;
	}
	snprintf(t, sizeof(t), "%lld", (long long)row->time_ms);
	vals[0] = row->request_id;
	vals[1] = t;
	vals[2] = row->client;
	vals[3] = row->replica;
	vals[4] = row->endpoint;
	vals[5] = row->verdict;
	vals[6] = row->evidence_sha256;
	vals[7] = row->devices;
	vals[8] = row->claims;
	vals[9] = row->token;
	r = pg_run(p, slot, "INSERT INTO gpuattest_verifications (" AUDIT_COLUMNS
	    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", 10, vals, PGRES_COMMAND_OK, e);
	pg_give(p, slot);
	if (r == NULL) {
		gpa_err_prefix(e, "audit store %s", s->describe);
		return -1;
	}
	PQclear(r);
	return 0;
}

static int pg_query(struct audit_store *s, const struct audit_filter *f,
    int (*fn)(void *arg, const struct audit_row *r), void *arg, struct gpa_err *e)
{
	struct pg *p = s->impl;
	struct audit_param prm[AUDIT_MAX_PARAMS];
	char sql[1024], ints[AUDIT_MAX_PARAMS][24];
	const char *vals[AUDIT_MAX_PARAMS];
	PGresult *r;
	int np, slot;

	audit_build_select(f, false, sql, sizeof(sql), prm, &np);
	for (int i = 0; i < np; i++) {
		if (prm[i].is_int) {
			snprintf(ints[i], sizeof(ints[i]), "%lld", (long long)prm[i].i);
			vals[i] = ints[i];
		} else
			vals[i] = prm[i].s;
	}
	if ((slot = pg_take(p, e)) < 0)
		return -1;
	r = pg_run(p, slot, sql, np, vals, PGRES_TUPLES_OK, e);
	pg_give(p, slot);
	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		struct audit_row row;
		memset(&row, 0, sizeof(row));
		audit_copy(row.request_id, sizeof(row.request_id), PQgetvalue(r, i, 0));
		row.time_ms = strtoll(PQgetvalue(r, i, 1), NULL, 10);
		audit_copy(row.client, sizeof(row.client), PQgetvalue(r, i, 2));
		audit_copy(row.replica, sizeof(row.replica), PQgetvalue(r, i, 3));
		audit_copy(row.endpoint, sizeof(row.endpoint), PQgetvalue(r, i, 4));
		audit_copy(row.verdict, sizeof(row.verdict), PQgetvalue(r, i, 5));
		audit_copy(row.evidence_sha256, sizeof(row.evidence_sha256), PQgetvalue(r, i, 6));
		row.devices = strdup(PQgetvalue(r, i, 7));
		row.claims = strdup(PQgetvalue(r, i, 8));
		row.token = strdup(PQgetvalue(r, i, 9));
		int stop = fn(arg, &row);
		audit_row_clear(&row);
		if (stop)
			break;
	}
	PQclear(r);
	return 0;
}

static bool pg_ping(struct audit_store *s)
{
	struct pg *p = s->impl;
	struct gpa_err e;
	PGresult *r;
	int slot;

	if ((slot = pg_take(p, &e)) < 0)
		return false;
	r = pg_run(p, slot, "SELECT 1", 0, NULL, PGRES_TUPLES_OK, &e);
	pg_give(p, slot);
	PQclear(r);
	return r != NULL;
}

static int pg_version(struct audit_store *s)
{
	return ((struct pg *)s->impl)->version;
}

static void pg_close(struct audit_store *s)
{
	struct pg *p = s->impl;

	if (p != NULL) {
		for (int i = 0; i < p->n; i++)
			PQfinish(p->conns[i]);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		free(p->conninfo);
		free(p);
	}
	free(s);
}

static const struct audit_ops pg_ops = {
	.record = pg_record, .query = pg_query, .ping = pg_ping, .version = pg_version, .close = pg_close,
};

/* "postgresql HOST:PORT/DB" from the connection itself: never the password. */
static void pg_describe(struct audit_store *s, PGconn *c)
{
	const char *h = PQhost(c), *port = PQport(c), *db = PQdb(c);

	snprintf(s->describe, sizeof(s->describe), "postgresql %.80s:%.8s/%.80s", h ? h : "?",
	    port ? port : "?", db ? db : "?");
}

struct audit_store *audit_pg_open(const char *conninfo, struct gpa_err *e)
{
	struct audit_store *s = calloc(1, sizeof(*s));
	struct pg *p = calloc(1, sizeof(*p));

	if (s == NULL || p == NULL || (p->conninfo = strdup(conninfo)) == NULL) {
		free(s);
		if (p)
			free(p->conninfo);
		free(p);
		gpa_err_set(e, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	s->ops = &pg_ops;
	s->impl = p;
	snprintf(s->describe, sizeof(s->describe), "postgresql");
	p->conns[0] = pg_connect(p, e);
	if (p->conns[0] == NULL) {
		gpa_err_prefix(e, "audit store postgresql");
		pg_close(s);
		return NULL;
	}
	p->n = 1;
	pg_describe(s, p->conns[0]);
	if (pg_migrate(p, p->conns[0], e) != 0) {
		gpa_err_prefix(e, "audit store %s", s->describe);
		pg_close(s);
		return NULL;
	}
	return s;
}
