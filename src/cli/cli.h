/* The gpuattest commands. Each returns the process exit code. */
#ifndef GPA_CLI_H
#define GPA_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "gpuattest.h"

int cli_verify(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_collect(int argc, char **argv);
void cli_usage_verify(FILE *f);
void cli_usage_inspect(FILE *f);
void cli_usage_collect(FILE *f);
int cli_fetch_collateral(int argc, char **argv);
void cli_usage_fetch(FILE *f);
int cli_cache(int argc, char **argv);
void cli_usage_cache(FILE *f);
int cli_watch(int argc, char **argv);
void cli_usage_watch(FILE *f);
int cli_preflight(int argc, char **argv);
void cli_usage_preflight(FILE *f);

/* Signed results (result_token.c): verify's --result-token, --format ear,
 * --sign-key, --sign-kid, --sign-issuer, and 'gpuattest jwks'. */
struct token_key;
enum { CLI_SIGN_RESULT_TOKEN, CLI_SIGN_KEY, CLI_SIGN_KID, CLI_SIGN_ISSUER };
struct cli_sign_opts {
	const char *result_token, *key_path, *kid, *issuer;
	bool ear_format;
	struct token_key *key;
};
/* One option; 0, or the exit code (2: bad value, unreadable key). */
int cli_sign_option(struct cli_sign_opts *o, int which, const char *arg);
/* After parsing: the options make sense together. 0 or 2. */
int cli_sign_check(const struct cli_sign_opts *o);
/* After verification: the signed EAR to --result-token and/or stdout. 0 or 3. */
int cli_sign_emit(const struct cli_sign_opts *o, const gpuattest_result *res);
void cli_sign_clear(struct cli_sign_opts *o);
void cli_usage_verify_tokens(FILE *f);
/* Audit receipts (receipt.c): write after a verification, or re-verify one. */
int cli_receipt_emit(gpuattest_config *cfg, const gpuattest_result *res, const char *path,
    const char *token_path);
int cli_receipt_check(gpuattest_config *cfg, const char *path, bool json, bool quiet);
void cli_usage_verify_receipts(FILE *f);
int cli_jwks(int argc, char **argv);
void cli_usage_jwks(FILE *f);
int cli_verify_token(int argc, char **argv);
void cli_usage_verify_token(FILE *f);
int cli_serve(int argc, char **argv);
void cli_usage_serve(FILE *f);
int cli_audit(int argc, char **argv);
void cli_usage_audit(FILE *f);

int cli_version(int argc, char **argv);
void cli_usage_version(FILE *f);

/* term.c: colour by default only to a terminal, without NO_COLOR, not
 * TERM=dumb; progress lines only to a terminal that is not dumb. */
bool cli_color_default(int fd);
bool cli_progress_default(int fd);
/* statusline.c: a waiting line on stderr for each network wait, when stderr is
 * a terminal and neither --quiet nor --format json was given. */
void cli_waitline_attach(gpuattest_config *cfg, bool quiet, bool json);

/* Remote verification (remote.c, crosscheck.c): verify --verifier, --nras-url. */
enum { CLI_VERIFIER_LOCAL, CLI_VERIFIER_NRAS, CLI_VERIFIER_BOTH };
enum { CLI_REMOTE_VERIFIER, CLI_REMOTE_NRAS_URL };
struct cli_remote_opts {
	int mode;
	const char *nras_url;
};
struct cli_remote_input {
	const char *evidence, *switch_evidence, *report, *chain;	/* all NULL: live */
	bool quiet, json, color;
};
int cli_remote_option(struct cli_remote_opts *o, int which, const char *arg);
/* --verifier nras: NRAS alone; the exit code. */
int cli_remote_only(gpuattest_config *cfg, const struct cli_remote_opts *o, const struct cli_remote_input *in);
/* --verifier both: prints the local result, NRAS's, and the cross-check; the exit code. */
int cli_remote_both(gpuattest_config *cfg, const struct cli_remote_opts *o, gpuattest_result *res,
    const struct cli_remote_input *in);
void cli_usage_verify_remote(FILE *f);
/* Errors (report.c): cli_err says "gpuattest: MSG" on stderr and remembers
 * it; cli_print_error_json prints the JSON result of a run that ended
 * without a verdict (exit 2 or 3) with the last error remembered. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_remember_error(const char *msg);
bool cli_wants_json(int argc, char **argv);
void cli_print_error_json(int exit_code);
/* A bad option (getopt_long returned c, its option string began with
 * ':'): says which, in one line. Returns 2. */
int cli_bad_option(const char *cmd, int c, char **argv);
/* "--evidence --format": an option taken as the previous one's argument. */
int cli_option_as_argument(const char *cmd, char **argv);

/* -v (collateral_log.c): one line per RIM and OCSP answer, its source and
 * where exactly it came from, and any stored copy dropped on the way. */
struct gpa_appraisal;
void cli_print_collateral(FILE *f, const struct gpa_appraisal *a);
/* statusline.c: under --quiet, the one line on stderr that says why a run did
 * not pass (nothing when it passed). */
void cli_quiet_reason(const gpuattest_result *res);

/* Shared option helpers. */
int cli_parse_time(const char *s, time_t *out);
int cli_parse_nonce(const char *s, unsigned char out[32]);

#endif
