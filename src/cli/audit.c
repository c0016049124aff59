/* gpuattest audit: read the verifier service's audit trail. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"

void cli_usage_audit(FILE *f)
{
	fprintf(f,
"usage: gpuattest audit list|export [FILTERS] [--db URL]\n"
"       gpuattest audit show REQUEST-ID [--db URL]\n"
"\n"
"The verifications 'gpuattest serve' recorded, oldest first.\n"
"  list     one line each: time, request id, verdict, endpoint, client, devices\n"
"  export   one JSON object per line (JSON lines): every field, with the claims\n"
"           and the token handed to the client\n"
"  show     one verification as indented JSON\n"
"\n"
"  --db URL          postgresql://... or sqlite:PATH (default: the state directory's\n"
"                    audit.db, as 'serve' uses)\n"
"  --since TIME      from TIME on (RFC 3339, e.g. 2026-12-03T09:00:00Z, or a date)\n"
"  --until TIME      before TIME\n"
"  --device TEXT     devices whose UEID, hardware model or PDI contains TEXT\n"
"  --verdict V       pass, fail, bad-input or incomplete\n"
"  --client NAME     as recorded: key:NAME, cert:SUBJECT-DN sha256:HEX or addr:ADDRESS\n"
"  --limit N         at most N rows\n"
"\n"
"Exit: 0 (also when nothing matched), 2 bad usage or no such request id, 3 the store\n"
"cannot be read.\n");
}

static int print_line(void *arg, const struct audit_row *r)
{
	char t[32];
	json_t *dev = json_loads(r->devices, 0, NULL);
	size_t n = json_is_array(dev) ? json_array_size(dev) : 0;
	const char *first = n ? json_string_value(json_object_get(json_array_get(dev, 0), "ueid")) : NULL;

	(void)arg;
	audit_format_time(r->time_ms, t);
	printf("%s  %s  %-10s  %-10s  %-24s  %zu device%s%s%s\n", t, r->request_id, r->verdict, r->endpoint,
	    r->client, n, n == 1 ? "" : "s", first ? ", first UEID " : "", first ? first : "");
	json_decref(dev);
	return 0;
}

struct out_ctx {
	size_t flags;
	int rows;
};

static int print_json(void *arg, const struct audit_row *r)
{
	struct out_ctx *o = arg;
	json_t *j = audit_row_json(r);
	char *s = j ? json_dumps(j, o->flags) : NULL;

	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(j);
	o->rows++;
	return 0;
}

static const struct option audit_opts[] = {
	{"db", required_argument, NULL, 'd'},
	{"since", required_argument, NULL, 's'},
	{"until", required_argument, NULL, 'u'},
	{"device", required_argument, NULL, 'D'},
	{"verdict", required_argument, NULL, 'v'},
	{"client", required_argument, NULL, 'c'},
	{"limit", required_argument, NULL, 'l'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int parse_filter(int ch, struct audit_filter *f, const char **db)
{
	char *end;

	switch (ch) {
	case 'd': *db = optarg; return 0;
	case 's':
	case 'u':
		if (audit_parse_time(optarg, ch == 's' ? &f->since_ms : &f->until_ms) != 0) {
			fprintf(stderr, "gpuattest audit: --%s %s: expected RFC 3339 (2026-12-03T09:00:00Z) or a date\n",
			    ch == 's' ? "since" : "until", optarg);
			return -1;
		}
		return 0;
	case 'D': f->device = optarg; return 0;
	case 'v':
		if (strcmp(optarg, "pass") && strcmp(optarg, "fail") && strcmp(optarg, "bad-input") &&
		    strcmp(optarg, "incomplete")) {
			fprintf(stderr, "gpuattest audit: --verdict %s: expected pass, fail, bad-input or incomplete\n", optarg);
			return -1;
		}
		f->verdict = optarg;
		return 0;
	case 'c': f->client = optarg; return 0;
	case 'l':
		f->limit = strtol(optarg, &end, 10);
		if (*optarg == '\0' || *end != '\0' || f->limit < 1) {
			fprintf(stderr, "gpuattest audit: --limit %s: expected a whole number above 0\n", optarg);
			return -1;
		}
		return 0;
	default: return -1;
	}
}

int cli_audit(int argc, char **argv)
{
	struct audit_filter f;
	struct gpa_err e = {{0}};
	struct audit_store *s;
	struct out_ctx o = {0};
	const char *db = NULL, *what;
	int ch, rc;

	memset(&f, 0, sizeof(f));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", audit_opts, NULL)) != -1) {
		if (ch == 'h') {
			cli_usage_audit(stdout);
			return 0;
		}
		if (ch == '?' || parse_filter(ch, &f, &db) != 0) {
			fprintf(stderr, "gpuattest audit: see 'gpuattest help audit'\n");
			return GPUATTEST_BAD_INPUT;
		}
	}
	if (optind >= argc) {
		cli_usage_audit(stderr);
		return GPUATTEST_BAD_INPUT;
	}
	what = argv[optind];
	if (strcmp(what, "show") == 0) {
		if (optind + 2 != argc) {
			fprintf(stderr, "gpuattest audit show: give exactly one request id\n");
			return GPUATTEST_BAD_INPUT;
		}
		f.request_id = argv[optind + 1];
	} else if ((strcmp(what, "list") != 0 && strcmp(what, "export") != 0) || optind + 1 != argc) {
		fprintf(stderr, "gpuattest audit: expected list, export or show REQUEST-ID\n");
		return GPUATTEST_BAD_INPUT;
	}
	if ((s = audit_open(db, &e)) == NULL) {
		fprintf(stderr, "gpuattest audit: %s\n", e.msg);
		return GPUATTEST_INCOMPLETE;
	}
	o.flags = strcmp(what, "show") == 0 ? (JSON_INDENT(2) | JSON_PRESERVE_ORDER) :
	    (JSON_COMPACT | JSON_PRESERVE_ORDER);
	rc = audit_query(s, &f, strcmp(what, "list") == 0 ? print_line : print_json, &o, &e);
	audit_close(s);
	if (rc != 0) {
		fprintf(stderr, "gpuattest audit: %s\n", e.msg);
		return GPUATTEST_INCOMPLETE;
	}
	if (strcmp(what, "show") == 0 && o.rows == 0) {
		fprintf(stderr, "gpuattest audit: no verification with request id %s\n", f.request_id);
		return GPUATTEST_BAD_INPUT;
	}
	return 0;
}
