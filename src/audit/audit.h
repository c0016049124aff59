/*
 * audit: the verifier service's audit trail. One row per verification:
 * request id, time, client, the devices' identities, the SHA-256 of the
 * evidence as received, the verdict, the claims and the token handed back.
 *
 * Owns: the store interface and its two back ends, SQLite (one file, WAL;
 * the embedded default) and PostgreSQL (libpq; several replicas share one
 * database), their versioned schema migrations, and reading rows back with
 * filters (time, device, verdict) for `gpuattest audit`.
 *
 * Never: answers for a row it has not committed. audit_record returns 0
 * only after the row's transaction committed; the service answers a
 * verification only then (a store that is down is a 503, never a verdict
 * without its record). A row is written in one INSERT inside one
 * transaction, so a process killed at any moment leaves it whole or absent.
 */
#ifndef GPA_AUDIT_H
#define GPA_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "util/util.h"

/* The schema version this code writes; migrations bring older stores up to
 * it, a newer store is refused (an older binary must not write to it). */
#define GPA_AUDIT_SCHEMA_VERSION 2

struct audit_row {
	char request_id[64];
	int64_t time_ms;		/* milliseconds since the epoch, UTC */
	char client[128];		/* API key name, certificate subject, or address */
	char replica[96];		/* host:pid of the serve process that answered */
	char endpoint[32];		/* "gpu", "switch", "ear-gpu", ... */
	char verdict[16];		/* "pass", "fail", "bad-input", "incomplete" */
	char evidence_sha256[65];	/* hex, of the request body as received */
	char *devices;			/* JSON array text: [{label, uuid, ueid, hwmodel}] */
	char *claims;			/* JSON text */
	char *token;			/* what the client was handed ("" when none) */
};
void audit_row_clear(struct audit_row *r);
/* Copies text into a fixed field of a row, cut to fit ("" for NULL). */
void audit_copy(char *dst, size_t cap, const char *src);

struct audit_filter {
	int64_t since_ms, until_ms;	/* 0: open */
	const char *device;		/* substring of the devices JSON (UUID, UEID), or NULL */
	const char *verdict;		/* exact, or NULL */
	const char *request_id;		/* exact, or NULL */
	const char *client;		/* exact, or NULL */
	long limit;			/* 0: no limit */
};

struct audit_store;

/* Opens a store and brings its schema up to date. url:
 *   postgresql://... or postgres://...   PostgreSQL (libpq conninfo URI)
 *   sqlite:PATH or a plain PATH           SQLite file (created, WAL)
 * NULL or "": sqlite under the state directory (audit_default_path). */
struct audit_store *audit_open(const char *url, struct gpa_err *e);
void audit_close(struct audit_store *s);
/* "sqlite PATH" or "postgresql HOST/DB", for messages (no password). */
const char *audit_describe(const struct audit_store *s);
/* Commits one row. 0 committed, -1 not (the store is down: e says why).
 * Safe to call from many threads at once. */
int audit_record(struct audit_store *s, const struct audit_row *r, struct gpa_err *e);
/* Rows matching f, oldest first; fn returns non-zero to stop. -1 on error. */
int audit_query(struct audit_store *s, const struct audit_filter *f,
    int (*fn)(void *arg, const struct audit_row *r), void *arg, struct gpa_err *e);
/* Whether the store answers now (for /health). */
bool audit_ping(struct audit_store *s);
/* The schema version the store is at. */
int audit_schema_version(struct audit_store *s);

/* The state directory: $GPUATTEST_STATE_DIR, $STATE_DIRECTORY (systemd),
 * $XDG_STATE_HOME/gpuattest, ~/.local/state/gpuattest; /var/lib/gpuattest
 * for root. Created (0700) when absent. */
int audit_state_dir(char *out, size_t len, struct gpa_err *e);
int audit_default_path(char *out, size_t len, struct gpa_err *e);

/* One row as a JSON object (the export line of `gpuattest audit`). */
json_t *audit_row_json(const struct audit_row *r);
/* "2026-12-03T09:00:00.123Z". */
void audit_format_time(int64_t ms, char out[32]);
/* Accepts the same form (milliseconds optional) or a plain date. */
int audit_parse_time(const char *s, int64_t *ms);

#endif
