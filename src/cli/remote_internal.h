/* Shared by cli/remote.c (--verifier nras) and cli/crosscheck.c (both). */
#ifndef GPA_CLI_REMOTE_INTERNAL_H
#define GPA_CLI_REMOTE_INTERNAL_H

#include "api/api_internal.h"
#include "cli/cli.h"
#include "net/http.h"
#include "token/token.h"

/* NRAS's answer for one kind of device. */
struct remote_part {
	bool asked;
	size_t ndevices;
	enum gpa_verdict v;
	char msg[1024];
	struct token_result res;
};

struct remote {
	char base[1024];
	struct gpa_http_opts http;
	char cache_dir[1024];
	struct remote_part part[2];	/* GPUs, switches */
	enum gpa_verdict v;
};

int remote_setup(gpuattest_config *cfg, const struct cli_remote_opts *o, struct remote *r, struct gpa_err *e);
/* Both kinds of device of set to NRAS, each answer judged. */
void remote_run(struct remote *r, const struct evidence_set *set, const uint8_t nonce[SPDM_NONCE_LEN],
    int claims_version);
void remote_clear(struct remote *r);
json_t *remote_json(const struct remote *r);
void remote_text(const struct remote *r);
/* Precedence as everywhere: unreadable, then failed, then incomplete. */
enum gpa_verdict worst(enum gpa_verdict a, enum gpa_verdict b);

#endif
