/* The audit schema, as versioned steps. Each step runs once, in order, in
 * the transaction that records it; both back ends run the same SQL (it is
 * written in the subset SQLite and PostgreSQL share). Never edit a step
 * that has shipped: add one. */
#ifndef GPA_AUDIT_MIGRATIONS_H
#define GPA_AUDIT_MIGRATIONS_H

struct audit_migration {
	int version;
	const char *description;
	const char *sql;	/* statements separated by ';' */
};

static const struct audit_migration audit_migrations[] = {
	{ 1, "verifications table",
	  "CREATE TABLE gpuattest_verifications ("
	  " request_id TEXT PRIMARY KEY,"
	  " time_ms BIGINT NOT NULL,"
	  " client TEXT NOT NULL,"
	  " replica TEXT NOT NULL,"
	  " endpoint TEXT NOT NULL,"
	  " verdict TEXT NOT NULL,"
	  " evidence_sha256 TEXT NOT NULL,"
	  " devices TEXT NOT NULL,"
	  " claims TEXT NOT NULL,"
	  " token TEXT NOT NULL)" },
	{ 2, "indexes by time and verdict",
	  "CREATE INDEX gpuattest_verifications_time ON gpuattest_verifications (time_ms);"
	  "CREATE INDEX gpuattest_verifications_verdict ON gpuattest_verifications (verdict, time_ms)" },
};
#define AUDIT_NMIGRATIONS (sizeof(audit_migrations) / sizeof(audit_migrations[0]))

#endif
