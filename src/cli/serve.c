/* gpuattest serve: the verifier service (src/service) from the command line. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "service/service.h"

void cli_usage_serve(FILE *f)
{
	fprintf(f,
"usage: gpuattest serve [OPTIONS]\n"
"       gpuattest serve --add-key NAME [--api-keys FILE]\n"
"\n"
"A verifier service for fleets: NRAS v4-compatible HTTP endpoints, every\n"
"verification recorded in an audit store before it is answered. With no\n"
"options it listens on 127.0.0.1:8080, records in SQLite under the state\n"
"directory ($GPUATTEST_STATE_DIR, $STATE_DIRECTORY, ~/.local/state/gpuattest,\n"
"/var/lib/gpuattest for root) and signs with a key generated there.\n"
"\n"
"Endpoints:\n"
"  POST /v4/attest/gpu, /v4/attest/switch  NRAS request body; answer: detached EAT\n"
"  POST /v1/attest/gpu, /v1/attest/switch  same body; answer: {request_id, verdict, ear, result}\n"
"  GET  /.well-known/jwks.json             the public key of the tokens\n"
"  GET  /health                            200 when the store and the signer work, else 503\n"
"  GET  /metrics                           Prometheus text\n"
"\n"
"Listening:\n"
"  --listen ADDR          IPv4 or IPv6 address (default 127.0.0.1). A non-loopback\n"
"                         address needs --api-keys or --client-ca (or --insecure-no-auth)\n"
"  --port N               default 8080, 8443 with TLS; 0 picks a free port\n"
"  --port-file FILE       write the port listened on to FILE (for scripts)\n"
"  --tls-cert PEM --tls-key PEM   serve HTTPS directly (else put a TLS proxy in front)\n""  --client-ca PEM        with --tls-cert: mutual TLS instead of API keys. Every POST\n"
"                         needs a client certificate that verifies to a CA in PEM\n"
"                         (and allows clientAuth); the audit trail names the client\n"
"                         'cert:SUBJECT-DN sha256:FINGERPRINT'. Else 401\n"
"Clients and limits:\n"
"  --api-keys FILE        require 'Authorization: Bearer KEY'; FILE holds 'NAME SHA256'\n"
"                         lines (default with --add-key: STATE_DIR/api-keys)\n"
"  --add-key NAME         make a key, append its hash to the key file, print the key once\n"
"  --insecure-no-auth     no keys on a non-loopback address (an authenticating proxy in front)\n"
"  --max-body BYTES       largest request body (default %u); larger: 413\n"
"  --threads N            verifications at once (default 2 per CPU)\n"
"  --max-connections N    open connections (default 256)\n"
"  --conn-timeout S       idle connection closed after S s (default 15)\n"
"  --request-timeout S    a body that takes longer to arrive: 408 (default 30)\n"
"  --rate R --burst B     per client (API key or address): R requests/s, bursts of B\n"
"                         (default unlimited); over it: 429 with Retry-After\n"
"Results and records:\n"
"  --db URL               postgresql://USER@HOST:PORT/DB (replicas share it), or\n"
"                         sqlite:PATH (default STATE_DIR/audit.db, WAL)\n"
"  --db-sync normal|full  SQLite: normal (default) survives a killed process; full also\n"
"                         a power loss, one fsync per verification\n"
"  --signing-key PEM      the ES384 key of the tokens (default STATE_DIR/signing-key.pem,\n"
"                         generated on first start)\n"
"  --issuer URL           'iss' of the tokens (default http(s)://LISTEN:PORT); clients\n"
"                         compare it to the URL they call\n"
"  --replica NAME         this process's name in the audit trail (default host:pid)\n"
"Verification (as 'gpuattest verify'):\n"
"  --trust-anchor PEM, --no-pinned-anchors, --rim-dir DIR (up to 3), --rim-url URL,\n"
"  --ocsp-url URL, --service-key KEY, --cache-dir DIR, --no-cache, --offline,\n"
"  --allow-hold-cert, --no-ocsp (revocation NOT checked; every result says so),\n"
"  --ocsp-ttl S           how long one verified OCSP result serves other requests,\n"
"                         never past its nextUpdate (default 300)\n"
"  --at TIME              verify as of TIME (recorded evidence, tests)\n"
"\n"
"Stops on SIGTERM or SIGINT. Exit: 0 stopped, 2 bad usage, 3 could not start.\n",
	    SVC_MAX_BODY_DEFAULT);
}

enum {
	O_LISTEN = 256, O_PORT, O_PORT_FILE, O_TLS_CERT, O_TLS_KEY, O_API_KEYS, O_ADD_KEY, O_NO_AUTH,
	O_MAX_BODY, O_THREADS, O_MAX_CONN, O_CONN_TIMEOUT, O_REQ_TIMEOUT, O_RATE, O_BURST, O_DB,
	O_DB_SYNC, O_SIGNING_KEY, O_ISSUER, O_REPLICA, O_ANCHOR, O_NO_PINNED, O_RIM_DIR, O_RIM_URL,
	O_OCSP_URL, O_SERVICE_KEY, O_CACHE_DIR, O_NO_CACHE, O_OFFLINE, O_HOLD, O_NO_OCSP, O_OCSP_TTL,
	O_AT, O_HELP, O_CLIENT_CA,
};

static const struct option serve_opts[] = {
	{"listen", required_argument, NULL, O_LISTEN},
	{"port", required_argument, NULL, O_PORT},
	{"port-file", required_argument, NULL, O_PORT_FILE},
	{"tls-cert", required_argument, NULL, O_TLS_CERT},
	{"tls-key", required_argument, NULL, O_TLS_KEY},
	{"client-ca", required_argument, NULL, O_CLIENT_CA},
	{"api-keys", required_argument, NULL, O_API_KEYS},
	{"add-key", required_argument, NULL, O_ADD_KEY},
	{"insecure-no-auth", no_argument, NULL, O_NO_AUTH},
	{"max-body", required_argument, NULL, O_MAX_BODY},
	{"threads", required_argument, NULL, O_THREADS},
	{"max-connections", required_argument, NULL, O_MAX_CONN},
	{"conn-timeout", required_argument, NULL, O_CONN_TIMEOUT},
	{"request-timeout", required_argument, NULL, O_REQ_TIMEOUT},
	{"rate", required_argument, NULL, O_RATE},
	{"burst", required_argument, NULL, O_BURST},
	{"db", required_argument, NULL, O_DB},
	{"db-sync", required_argument, NULL, O_DB_SYNC},
	{"signing-key", required_argument, NULL, O_SIGNING_KEY},
	{"issuer", required_argument, NULL, O_ISSUER},
	{"replica", required_argument, NULL, O_REPLICA},
	{"trust-anchor", required_argument, NULL, O_ANCHOR},
	{"no-pinned-anchors", no_argument, NULL, O_NO_PINNED},
	{"rim-dir", required_argument, NULL, O_RIM_DIR},
	{"rim-url", required_argument, NULL, O_RIM_URL},
	{"ocsp-url", required_argument, NULL, O_OCSP_URL},
	{"service-key", required_argument, NULL, O_SERVICE_KEY},
	{"cache-dir", required_argument, NULL, O_CACHE_DIR},
	{"no-cache", no_argument, NULL, O_NO_CACHE},
	{"offline", no_argument, NULL, O_OFFLINE},
	{"allow-hold-cert", no_argument, NULL, O_HOLD},
	{"no-ocsp", no_argument, NULL, O_NO_OCSP},
	{"ocsp-ttl", required_argument, NULL, O_OCSP_TTL},
	{"at", required_argument, NULL, O_AT},
	{"help", no_argument, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

/* A whole decimal number in [lo, hi], else a message naming the option. */
static int number(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "gpuattest serve: --%s %s: expected a whole number from %ld to %ld\n", opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int positive_real(const char *opt, const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v > 0) || v > 1e6) {
		fprintf(stderr, "gpuattest serve: --%s %s: expected a number above 0\n", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

struct serve_cli {
	struct svc_opts so;
	struct svc_engine_opts eo;
	const char *anchors[16];
	const char *db, *db_sync, *signing_key, *add_key;
};

static int add_key(const char *file, const char *name)
{
	char path[4096], dir[3900], key[80];
	struct gpa_err e = {{0}};

	if (file == NULL) {
		if (audit_state_dir(dir, sizeof(dir), &e) != 0) {
			fprintf(stderr, "gpuattest serve: %s\n", e.msg);
			return GPUATTEST_INCOMPLETE;
		}
		snprintf(path, sizeof(path), "%s/api-keys", dir);
		file = path;
	}
	if (svc_keys_add(file, name, key, &e) != 0) {
		fprintf(stderr, "gpuattest serve: %s\n", e.msg);
		return GPUATTEST_BAD_INPUT;
	}
	printf("%s\n", key);
	fprintf(stderr, "gpuattest serve: key '%s' added to %s (only its SHA-256 is stored: keep this key now)\n",
	    name, file);
	return 0;
}

static int parse_one(struct serve_cli *c, int ch)
{
	long v;

	switch (ch) {
	case O_LISTEN: c->so.listen = optarg; return 0;
	case O_PORT: if (number("port", optarg, 0, 65535, &v)) return -1; c->so.port = (int)v; return 0;
	case O_PORT_FILE: c->so.port_file = optarg; return 0;
	case O_TLS_CERT: c->so.tls_cert = optarg; return 0;
	case O_TLS_KEY: c->so.tls_key = optarg; return 0;
	case O_CLIENT_CA: c->so.client_ca = optarg; return 0;
	case O_API_KEYS: c->so.api_keys = optarg; return 0;
	case O_ADD_KEY: c->add_key = optarg; return 0;
	case O_NO_AUTH: c->so.insecure_no_auth = true; return 0;
	case O_MAX_BODY:
		if (number("max-body", optarg, 1024, 64L << 20, &v)) return -1;
		c->so.max_body = (size_t)v;
		return 0;
	case O_THREADS: if (number("threads", optarg, 1, 256, &v)) return -1; c->so.threads = (int)v; return 0;
	case O_MAX_CONN:
		if (number("max-connections", optarg, 1, 65536, &v)) return -1;
		c->so.max_connections = (int)v;
		return 0;
	case O_CONN_TIMEOUT:
		if (number("conn-timeout", optarg, 1, 3600, &v)) return -1;
		c->so.conn_timeout_s = (int)v;
		return 0;
	case O_REQ_TIMEOUT:
		if (number("request-timeout", optarg, 1, 3600, &v)) return -1;
		c->so.request_timeout_s = (int)v;
		return 0;
	case O_RATE: return positive_real("rate", optarg, &c->so.rate);
	case O_BURST: return positive_real("burst", optarg, &c->so.burst);
	case O_DB: c->db = optarg; return 0;
	case O_DB_SYNC:
		if (strcmp(optarg, "normal") != 0 && strcmp(optarg, "full") != 0) {
			fprintf(stderr, "gpuattest serve: --db-sync %s: expected normal or full\n", optarg);
			return -1;
		}
		c->db_sync = optarg;
		return 0;
	case O_SIGNING_KEY: c->signing_key = optarg; return 0;
	case O_ISSUER: c->so.issuer = optarg; return 0;
	case O_REPLICA: c->so.replica = optarg; return 0;
	case O_ANCHOR:
		if (c->eo.nanchor_files == 16) {
			fprintf(stderr, "gpuattest serve: at most 16 --trust-anchor files\n");
			return -1;
		}
		c->anchors[c->eo.nanchor_files++] = optarg;
		return 0;
	case O_NO_PINNED: c->eo.no_pinned = true; return 0;
	case O_RIM_DIR:
		if (c->eo.nrim_dirs == 3) {
			fprintf(stderr, "gpuattest serve: at most 3 --rim-dir directories\n");
			return -1;
		}
		c->eo.rim_dirs[c->eo.nrim_dirs++] = optarg;
		return 0;
	case O_RIM_URL: c->eo.rim_url = optarg; return 0;
	case O_OCSP_URL: c->eo.ocsp_url = optarg; return 0;
	case O_SERVICE_KEY: c->eo.service_key = optarg; return 0;
	case O_CACHE_DIR: c->eo.cache_dir = optarg; return 0;
	case O_NO_CACHE: c->eo.no_cache = true; return 0;
	case O_OFFLINE: c->eo.offline = true; return 0;
	case O_HOLD: c->eo.allow_hold_rim = true; return 0;
	case O_NO_OCSP: c->eo.no_ocsp = true; return 0;
	case O_OCSP_TTL:
		if (number("ocsp-ttl", optarg, 1, 86400, &v)) return -1;
		c->eo.ocsp_ttl_s = v;
		return 0;
	case O_AT:
		if (cli_parse_time(optarg, &c->eo.at) != 0) {
			fprintf(stderr, "gpuattest serve: --at %s: expected RFC 3339, e.g. 2025-01-01T00:00:00Z\n", optarg);
			return -1;
		}
		c->eo.fixed_time = true;
		return 0;
	default: return -1;
	}
}

static void defaults(struct serve_cli *c)
{
	memset(c, 0, sizeof(*c));
	c->so.listen = "127.0.0.1";
	c->so.port = -1;
	c->so.max_body = SVC_MAX_BODY_DEFAULT;
	c->so.request_timeout_s = 30;
	c->so.conn_timeout_s = 15;
	c->eo.anchor_files = c->anchors;
}

static int run(struct serve_cli *c)
{
	struct gpa_err e = {{0}};
	struct audit_store *store;
	struct svc_engine *g;
	struct svc_signer *signer;
	int rc;

	if (c->db_sync != NULL)
		setenv("GPUATTEST_DB_SYNC", c->db_sync, 1);
	if ((store = audit_open(c->db, &e)) == NULL) {
		fprintf(stderr, "gpuattest serve: %s\n", e.msg);
		return GPUATTEST_INCOMPLETE;
	}
	if ((g = svc_engine_new(&c->eo, &e)) == NULL) {
		fprintf(stderr, "gpuattest serve: %s\n", e.msg);
		audit_close(store);
		return GPUATTEST_BAD_INPUT;
	}
	signer = svc_signer_open(c->signing_key, &e);
	if (signer == NULL)
		fprintf(stderr, "gpuattest serve: %s: the token endpoints answer 503\n", e.msg);
	rc = svc_serve(&c->so, g, store, signer);
	svc_signer_free(signer);
	svc_engine_free(g);
	audit_close(store);
	return rc;
}

int cli_serve(int argc, char **argv)
{
	struct serve_cli c;
	int ch;

	defaults(&c);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", serve_opts, NULL)) != -1) {
		if (ch == O_HELP) {
			cli_usage_serve(stdout);
			return 0;
		}
		if (ch == '?' || parse_one(&c, ch) != 0) {
			fprintf(stderr, "gpuattest serve: see 'gpuattest help serve'\n");
			return GPUATTEST_BAD_INPUT;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "gpuattest serve: unexpected argument '%s'\n", argv[optind]);
		return GPUATTEST_BAD_INPUT;
	}
	if (c.add_key != NULL)
		return add_key(c.so.api_keys, c.add_key);
	return run(&c);
}
