/* The audit store's back ends behind audit.h. */
#ifndef GPA_AUDIT_INTERNAL_H
#define GPA_AUDIT_INTERNAL_H

#include "audit/audit.h"

struct audit_ops {
	int (*record)(struct audit_store *s, const struct audit_row *r, struct gpa_err *e);
	int (*query)(struct audit_store *s, const struct audit_filter *f,
	    int (*fn)(void *arg, const struct audit_row *r), void *arg, struct gpa_err *e);
	bool (*ping)(struct audit_store *s);
	int (*version)(struct audit_store *s);
	void (*close)(struct audit_store *s);
};

struct audit_store {
	const struct audit_ops *ops;
	char describe[256];
	void *impl;
};

struct audit_store *audit_sqlite_open(const char *path, struct gpa_err *e);
struct audit_store *audit_pg_open(const char *conninfo, struct gpa_err *e);

/* The columns, in the order both back ends use them. */
#define AUDIT_COLUMNS "request_id, time_ms, client, replica, endpoint, verdict, " \
	"evidence_sha256, devices, claims, token"

/* Whether a row is whole enough to store (every field set and in bounds). */
int audit_row_valid(const struct audit_row *r, struct gpa_err *e);

/* A query's SELECT with $1..$n placeholders (both back ends accept that
 * form), and its parameters in order. */
struct audit_param {
	bool is_int;
	int64_t i;
	const char *s;
};
#define AUDIT_MAX_PARAMS 8
int audit_build_select(const struct audit_filter *f, bool sqlite, char *sql, size_t cap,
    struct audit_param *p, int *np);

#endif
