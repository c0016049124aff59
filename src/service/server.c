/*
 * The HTTP side of `gpuattest serve`, over GNU libmicrohttpd (a thread pool
 * of --threads, epoll). Endpoints:
 *
 *   POST /v4/attest/gpu, /v4/attest/switch   NRAS v4: detached EAT
 *   POST /v1/attest/gpu, /v1/attest/switch   ours: {request_id, verdict, ear, result}
 *   GET  /.well-known/jwks.json              the signing key set
 *   GET  /health                             store and signer state
 *   GET  /metrics                            Prometheus text
 *
 * Every answer carries X-Request-Id; every error is JSON {"request_id",
 * "error", "message"}. Order of a verification: authenticate and rate-limit
 * on the headers (before a byte of the body is read), bound and time the
 * body, parse, appraise, sign, record in the audit store, answer. The
 * answer goes out only after the row committed: no store, no verdict (503).
 */
#include "service/service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/sha.h>

#include "audit/audit.h"
#include "gpuattest.h"
#include "util/pool.h"

struct server {
	const struct svc_opts *o;
	struct svc_engine *engine;
	struct audit_store *store;
	struct svc_signer *signer;
	struct svc_keys *keys;
	struct svc_ratelimit *rl;
	char replica[96];
	char issuer[300];
};

struct req_ctx {
	double start;
	char id[33];
	enum svc_endpoint ep;
	char client[128];
	uint8_t *body;
	size_t len, cap;
	bool refused;		/* an error answer is queued or decided: the body is discarded */
	int pending;		/* the status of an error to answer once the body is in */
	int status;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void svc_request_id(char out[33])
{
	uint8_t r[16];

	if (random_bytes(r, sizeof(r)) != 0) {
		/* No randomness: a time-based id, still unique in practice. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(out, 33, "%016llx%08lx%08x", (unsigned long long)ts.tv_sec,
		    (unsigned long)ts.tv_nsec, (unsigned)getpid());
		return;
	}
	hex_encode(r, sizeof(r), out);
}

/* ---- answers ---- */

static enum MHD_Result send_body(struct MHD_Connection *c, struct req_ctx *r, int status,
    const char *type, char *body, const char *retry_after)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "X-Request-Id", r->id);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (retry_after != NULL)
		MHD_add_response_header(resp, "Retry-After", retry_after);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"gpuattest\"");
	r->status = status;
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, struct req_ctx *r, int status, json_t *doc)
{
	char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	if (s == NULL)
		return MHD_NO;
	return send_body(c, r, status, "application/json", s, NULL);
}

static enum MHD_Result send_error(struct MHD_Connection *c, struct req_ctx *r, int status,
    const char *code, const char *retry_after, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static enum MHD_Result send_error(struct MHD_Connection *c, struct req_ctx *r, int status,
    const char *code, const char *retry_after, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	json_t *o = json_object();
	char *s;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->refused = true;
	json_object_set_new(o, "request_id", json_string(r->id));
	json_object_set_new(o, "error", json_string(code));
	/* Messages quote the client's input: json_string refuses invalid
	 * UTF-8, so fall back to a message without the quote. */
	json_t *m = json_string(msg);
	json_object_set_new(o, "message", m ? m : json_string("the request could not be processed"));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return MHD_NO;
	return send_body(c, r, status, "application/json", s, retry_after);
}

/* ---- authentication, limits ---- */

static void peer_address(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[INET6_ADDRSTRLEN] = "?";

	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, host, sizeof(host));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, host, sizeof(host));
	}
	snprintf(out, len, "addr:%s", host);
}

/* 0 authenticated (r->client set), else an answer was queued. */
static int authenticate(struct server *s, struct MHD_Connection *c, struct req_ctx *r, enum MHD_Result *ret)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *name;
	char why[300];

	if (s->o->client_ca != NULL) {
		if (svc_mtls_client(c, r->client, sizeof(r->client), why, sizeof(why)) == 0)
			return 0;
		*ret = send_error(c, r, MHD_HTTP_UNAUTHORIZED, "unauthorized", NULL, "%s", why);
		svc_metrics_error("auth");
		return -1;
	}
	if (s->keys == NULL) {
		peer_address(c, r->client, sizeof(r->client));
		return 0;
	}
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		*ret = send_error(c, r, MHD_HTTP_UNAUTHORIZED, "unauthorized", NULL,
		    "an API key is required: Authorization: Bearer <key>");
		svc_metrics_error("auth");
		return -1;
	}
	h += 7;
	while (*h == ' ')
		h++;
	if ((name = svc_keys_check(s->keys, h)) == NULL) {
		*ret = send_error(c, r, MHD_HTTP_UNAUTHORIZED, "unauthorized", NULL, "the API key is not valid");
		svc_metrics_error("auth");
		return -1;
	}
	snprintf(r->client, sizeof(r->client), "key:%s", name);
	return 0;
}

static int rate_limit(struct server *s, struct MHD_Connection *c, struct req_ctx *r, enum MHD_Result *ret)
{
	int after;
	char hdr[16];

	if (svc_ratelimit_take(s->rl, r->client, now_s(), &after))
		return 0;
	snprintf(hdr, sizeof(hdr), "%d", after);
	*ret = send_error(c, r, MHD_HTTP_TOO_MANY_REQUESTS, "rate-limited", hdr,
	    "too many requests from %s: retry in %d s", r->client, after);
	svc_metrics_error("rate-limit");
	return -1;
}

/* ---- verification ---- */

static const char *verdict_name(enum gpa_verdict v)
{
	switch (v) {
	case GPA_PASS: return "pass";
	case GPA_FAIL: return "fail";
	case GPA_BAD_INPUT: return "bad-input";
	default: return "incomplete";
	}
}

static char *devices_json(const struct gpa_appraisal *a)
{
	json_t *arr = json_array();
	char pdi[2 * GPA_PDI_LEN + 1];

	for (size_t i = 0; i < a->n; i++) {
		const struct gpa_device_result *d = &a->dev[i];
		json_t *o = json_object();
		json_object_set_new(o, "label", json_string(d->label));
		json_object_set_new(o, "ueid", json_string(d->ueid));
		json_object_set_new(o, "hwmodel", json_string(d->hwmodel));
		if (d->has_pdi) {
			hex_encode(d->pdi, GPA_PDI_LEN, pdi);
			json_object_set_new(o, "pdi", json_string(pdi));
		}
		json_object_set_new(o, "verdict", json_string(verdict_name(d->verdict)));
		json_array_append_new(arr, o);
	}
	char *s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

static char *claims_text(const struct gpa_appraisal *a)
{
	json_t *doc = appraisal_json(a);
	char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	return s;
}

struct verification {
	struct svc_request req;
	struct evidence_set held;
	struct gpa_appraisal a;
	bool appraised;
	char *token;		/* the detached EAT text, or the EAR */
	struct audit_row row;
};

static void verification_clear(struct verification *v)
{
	if (v->appraised)
		appraisal_clear(&v->a);
	evidence_set_clear(&v->held);
	svc_request_clear(&v->req);
	free(v->token);
	audit_row_clear(&v->row);
}

static bool is_ear(enum svc_endpoint ep)
{
	return ep == SVC_EP_EAR_GPU || ep == SVC_EP_EAR_SWITCH;
}

static int fill_row(struct server *s, struct req_ctx *r, struct verification *v)
{
	uint8_t d[32];

	audit_copy(v->row.request_id, sizeof(v->row.request_id), r->id);
	v->row.time_ms = wall_ms();
	audit_copy(v->row.client, sizeof(v->row.client), r->client);
	audit_copy(v->row.replica, sizeof(v->row.replica), s->replica);
	audit_copy(v->row.endpoint, sizeof(v->row.endpoint), svc_endpoint_name(r->ep));
	audit_copy(v->row.verdict, sizeof(v->row.verdict), verdict_name(v->a.verdict));
	SHA256(r->body ? r->body : (const uint8_t *)"", r->len, d);
	hex_encode(d, sizeof(d), v->row.evidence_sha256);
	v->row.devices = devices_json(&v->a);
	v->row.claims = claims_text(&v->a);
	v->row.token = strdup(v->token);
	return v->row.devices && v->row.claims && v->row.token ? 0 : -1;
}

static enum MHD_Result answer_verification(struct MHD_Connection *c, struct req_ctx *r,
    struct verification *v)
{
	if (!is_ear(r->ep))
		return send_body(c, r, MHD_HTTP_OK, "application/json", strdup(v->token), NULL);
	json_t *o = json_object();
	json_object_set_new(o, "request_id", json_string(r->id));
	json_object_set_new(o, "verdict", json_string(verdict_name(v->a.verdict)));
	json_object_set_new(o, "ear", json_string(v->token));
	json_t *res = appraisal_json(&v->a);
	json_object_set_new(o, "result", res ? res : json_null());
	return send_json(c, r, MHD_HTTP_OK, o);
}

static enum MHD_Result do_verify(struct server *s, struct MHD_Connection *c, struct req_ctx *r)
{
	enum gpa_device_kind kind = r->ep == SVC_EP_SWITCH || r->ep == SVC_EP_EAR_SWITCH ?
	    GPA_DEV_SWITCH : GPA_DEV_GPU;
	struct verification *v = calloc(1, sizeof(*v));
	struct gpa_err e = {{0}};
	enum MHD_Result ret;

	if (v == NULL)
		return send_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "out-of-memory", NULL, "out of memory");
	if (svc_parse_request(r->body, r->len, kind, &v->req, &e) != 0) {
		svc_metrics_error("parse");
		ret = send_error(c, r, MHD_HTTP_BAD_REQUEST, "bad-request", NULL, "%s", e.msg);
		goto out;
	}
	if (s->signer == NULL) {
		ret = send_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "signing-unavailable", NULL,
		    "signing unavailable: this service has no signing key, and hands out no unsigned token");
		svc_metrics_error("signing");
		goto out;
	}
	if (svc_engine_verify(s->engine, &v->req, &v->held, &v->a, &e) != 0) {
		svc_metrics_error("appraisal");
		ret = send_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "appraisal-failed", NULL, "%s", e.msg);
		goto out;
	}
	v->appraised = true;
	v->token = is_ear(r->ep) ? svc_sign_ear(s->signer, s->issuer, &v->a, &v->req, &e) :
	    svc_sign_detached_eat(s->signer, s->issuer, &v->a, &v->req, &e);
	if (v->token == NULL) {
		svc_metrics_error("signing");
		ret = send_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "signing-unavailable", NULL, "%s", e.msg);
		goto out;
	}
	if (fill_row(s, r, v) != 0) {
		ret = send_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "out-of-memory", NULL, "out of memory");
		goto out;
	}
	/* The verdict exists for the client only once it is on record. */
	if (audit_record(s->store, &v->row, &e) != 0) {
		svc_metrics_error("audit");
		fprintf(stderr, "gpuattest serve: %s: %s\n", r->id, e.msg);
		ret = send_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "audit-unavailable", "5",
		    "the audit store cannot record this verification, so no result is given; retry later");
		goto out;
	}
	svc_metrics_verdict(v->a.verdict);
	ret = answer_verification(c, r, v);
out:
	verification_clear(v);
	free(v);
	return ret;
}

/* ---- small endpoints ---- */

static enum MHD_Result do_health(struct server *s, struct MHD_Connection *c, struct req_ctx *r)
{
	bool store_ok = audit_ping(s->store);
	json_t *o = json_object();

	json_object_set_new(o, "status", json_string(store_ok && s->signer ? "ok" : "degraded"));
	json_object_set_new(o, "store", json_string(store_ok ? "ok" : "unavailable"));
	json_object_set_new(o, "signing", json_string(s->signer ? "ok" : "unavailable"));
	json_object_set_new(o, "replica", json_string(s->replica));
	json_object_set_new(o, "version", json_string(GPUATTEST_VERSION));
	return send_json(c, r, store_ok && s->signer ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, o);
}

static enum MHD_Result do_jwks(struct server *s, struct MHD_Connection *c, struct req_ctx *r)
{
	char *j = s->signer ? svc_signer_jwks(s->signer) : NULL;

	if (j == NULL)
		return send_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "signing-unavailable", NULL,
		    "signing unavailable: no key set to publish");
	return send_body(c, r, MHD_HTTP_OK, "application/json", j, NULL);
}

static enum MHD_Result do_metrics(struct MHD_Connection *c, struct req_ctx *r)
{
	char *t = svc_metrics_text();

	if (t == NULL)
		return send_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "out-of-memory", NULL, "out of memory");
	return send_body(c, r, MHD_HTTP_OK, "text/plain; version=0.0.4", t, NULL);
}

/* ---- routing ---- */

static const struct route {
	const char *method, *path;
	enum svc_endpoint ep;
} routes[] = {
	{ "POST", "/v4/attest/gpu", SVC_EP_GPU },
	{ "POST", "/v4/attest/switch", SVC_EP_SWITCH },
	{ "POST", "/v1/attest/gpu", SVC_EP_EAR_GPU },
	{ "POST", "/v1/attest/switch", SVC_EP_EAR_SWITCH },
	{ "GET", "/.well-known/jwks.json", SVC_EP_JWKS },
	{ "GET", "/health", SVC_EP_HEALTH },
	{ "GET", "/metrics", SVC_EP_METRICS },
};

/* The route for the path, or NULL; *wrong_method when only the method differs. */
static const struct route *route_find(const char *method, const char *url, bool *wrong_method)
{
	*wrong_method = false;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(url, routes[i].path) != 0)
			continue;
		if (strcmp(method, routes[i].method) == 0 ||
		    (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0))
			return &routes[i];
		*wrong_method = true;
	}
	return NULL;
}

static bool is_post(enum svc_endpoint ep)
{
	return ep == SVC_EP_GPU || ep == SVC_EP_SWITCH || ep == SVC_EP_EAR_GPU || ep == SVC_EP_EAR_SWITCH;
}

/* The first call for a request: headers only. Routes, authenticates and
 * rate-limits, and refuses a declared body over the limit, so nothing
 * unwanted is read. 0: go on reading the body. */
static int first_call(struct server *s, struct MHD_Connection *c, struct req_ctx *r, const char *url,
    const char *method, enum MHD_Result *ret)
{
	bool wrong;
	const struct route *rt = route_find(method, url, &wrong);
	const char *cl;

	if (rt == NULL) {
		r->ep = SVC_EP_OTHER;
		*ret = wrong ? send_error(c, r, MHD_HTTP_METHOD_NOT_ALLOWED, "method-not-allowed", NULL,
		    "%s is not allowed here", method) : send_error(c, r, MHD_HTTP_NOT_FOUND, "not-found", NULL,
		    "no such endpoint");
		return -1;
	}
	r->ep = rt->ep;
	if (!is_post(r->ep))
		return 0;
	if (authenticate(s, c, r, ret) != 0 || rate_limit(s, c, r, ret) != 0)
		return -1;
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && strtoull(cl, NULL, 10) > s->o->max_body) {
		*ret = send_error(c, r, MHD_HTTP_CONTENT_TOO_LARGE, "too-large", NULL,
		    "the body is over the limit of %zu bytes", s->o->max_body);
		svc_metrics_error("too-large");
		return -1;
	}
	return 0;
}

static int append_body(struct server *s, struct req_ctx *r, const char *data, size_t n)
{
	if (r->len + n > s->o->max_body)
		return -1;
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 16384;
		while (cap < r->len + n + 1)
			cap *= 2;
		if (cap > s->o->max_body + 1)
			cap = s->o->max_body + 1;
		uint8_t *nb = realloc(r->body, cap);
		if (nb == NULL)
			return -1;
		r->body = nb;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return 0;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct req_ctx *r = *con_cls;
	enum MHD_Result ret = MHD_YES;

	(void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		r->start = now_s();
		svc_request_id(r->id);
		*con_cls = r;
		if (first_call(s, c, r, url, method, &ret) != 0)
			return ret;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* libmicrohttpd takes an answer only before the body or after
		 * all of it: a body still arriving past the time limit gets the
		 * connection closed, the only answer possible then. */
		if (now_s() - r->start > s->o->request_timeout_s) {
			svc_metrics_error("timeout");
			r->status = MHD_HTTP_REQUEST_TIMEOUT;
			return MHD_NO;
		}
		if (!r->refused && append_body(s, r, upload_data, *upload_size) != 0) {
			/* Over the limit without a Content-Length (chunked): the
			 * rest is read and dropped, within the time limit, then 413. */
			svc_metrics_error("too-large");
			r->refused = true;
			r->pending = MHD_HTTP_CONTENT_TOO_LARGE;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->pending != 0)
		return send_error(c, r, r->pending, "too-large", NULL, "the body is over the limit of %zu bytes",
		    s->o->max_body);
	if (r->refused)
		return MHD_YES;	/* answered on the first call */
	switch (r->ep) {
	case SVC_EP_HEALTH: return do_health(s, c, r);
	case SVC_EP_JWKS: return do_jwks(s, c, r);
	case SVC_EP_METRICS: return do_metrics(c, r);
	default: return do_verify(s, c, r);
	}
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req_ctx *r = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (r == NULL)
		return;
	if (r->status != 0)
		svc_metrics_request(r->ep, r->status, now_s() - r->start);
	free(r->body);
	free(r);
	*con_cls = NULL;
}

/* ---- start-up ---- */

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr);
	return false;
}

static int parse_listen(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	return -1;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("gpuattest serve: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static char *read_text(const char *path, struct gpa_err *e)
{
	uint8_t *buf;
	size_t len;

	if (file_read(path, 1u << 20, &buf, &len, e) != 0)
		return NULL;
	return (char *)buf;
}

static struct MHD_Daemon *start_daemon(struct server *s, const struct sockaddr_storage *ss,
    char *cert, char *key, char *trust)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_EPOLL;
	int threads = s->o->threads > 0 ? s->o->threads : (int)cpu_count() * 2;

	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cert != NULL)
		flags |= MHD_USE_TLS;
	return MHD_start_daemon(flags, 0, NULL, NULL, handler, s,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)(s->o->max_connections > 0 ? s->o->max_connections : 256),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(s->o->conn_timeout_s > 0 ? s->o->conn_timeout_s : 15),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    trust ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, trust,
	    MHD_OPTION_END);
}

static void wait_for_signal(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigwait(&set, &sig);
}

int svc_serve(const struct svc_opts *o, struct svc_engine *g, struct audit_store *store,
    struct svc_signer *signer)
{
	struct server s = { .o = o, .engine = g, .store = store, .signer = signer };
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct gpa_err e = {{0}};
	char *cert = NULL, *key = NULL, *trust = NULL, host[64];
	struct MHD_Daemon *d;
	sigset_t set;
	int port = o->port;

	if (port < 0)
		port = o->tls_cert ? 8443 : 8080;
	if (parse_listen(o->listen, port, &ss, &sslen) != 0) {
		fprintf(stderr, "gpuattest serve: --listen %s: not an IPv4 or IPv6 address\n", o->listen);
		return 2;
	}
	if (o->api_keys != NULL && (s.keys = svc_keys_load(o->api_keys, &e)) == NULL) {
		fprintf(stderr, "gpuattest serve: --api-keys: %s\n", e.msg);
		return 2;
	}
	if (s.keys == NULL && o->client_ca == NULL && !is_loopback(&ss) && !o->insecure_no_auth) {
		fprintf(stderr, "gpuattest serve: --listen %s is not a loopback address: give --api-keys FILE "
		    "or --client-ca PEM (or, behind an authenticating proxy, --insecure-no-auth)\n", o->listen);
		svc_keys_free(s.keys);
		return 2;
	}
	if (o->client_ca != NULL && (o->tls_cert == NULL || o->api_keys != NULL)) {
		fprintf(stderr, "gpuattest serve: --client-ca %s\n", o->tls_cert == NULL ?
		    "needs --tls-cert and --tls-key (client certificates are part of TLS)" :
		    "and --api-keys are alternatives: clients authenticate with one or the other");
		svc_keys_free(s.keys);
		return 2;
	}
	if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
		fprintf(stderr, "gpuattest serve: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (o->tls_cert != NULL) {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
			fprintf(stderr, "gpuattest serve: this libmicrohttpd has no TLS: serve plain HTTP behind a TLS proxy\n");
			return 2;
		}
		if ((cert = read_text(o->tls_cert, &e)) == NULL || (key = read_text(o->tls_key, &e)) == NULL ||
		    (o->client_ca != NULL && (trust = read_text(o->client_ca, &e)) == NULL)) {
			fprintf(stderr, "gpuattest serve: %s\n", e.msg);
			free(cert);
			free(key);
			return 2;
		}
	}
	s.rl = svc_ratelimit_new(o->rate, o->burst);
	if (o->replica != NULL)
		snprintf(s.replica, sizeof(s.replica), "%s", o->replica);
	else {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(s.replica, sizeof(s.replica), "%s:%d", host, (int)getpid());
	}
	/* Signals go to the waiting thread only, never to MHD's threads. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = start_daemon(&s, &ss, cert, key, trust);
	if (d == NULL) {
		fprintf(stderr, "gpuattest serve: cannot listen on %s port %d: %s\n", o->listen, port, strerror(errno));
		free(cert);
		free(key);
		free(trust);
		svc_ratelimit_free(s.rl);
		svc_keys_free(s.keys);
		return 3;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	int bound = di ? di->port : port;
	if (o->issuer != NULL)
		snprintf(s.issuer, sizeof(s.issuer), "%s", o->issuer);
	else
		snprintf(s.issuer, sizeof(s.issuer), "%s://%s%s%s:%d", cert ? "https" : "http",
		    ss.ss_family == AF_INET6 ? "[" : "", o->listen, ss.ss_family == AF_INET6 ? "]" : "", bound);
	fprintf(stderr, "gpuattest serve: listening on %s://%s%s%s:%d (issuer %s; audit: %s; signing: %s; %s)\n",
	    cert ? "https" : "http", ss.ss_family == AF_INET6 ? "[" : "", o->listen,
	    ss.ss_family == AF_INET6 ? "]" : "", bound, s.issuer, audit_describe(store),
	    signer ? "ES384" : "UNAVAILABLE, token endpoints answer 503",
	    trust ? "client certificates required" : s.keys ? "API keys required" : "no API keys");
	if (o->port_file != NULL) {
		char pb[16];
		int n = snprintf(pb, sizeof(pb), "%d\n", bound);
		if (file_write_atomic(o->port_file, pb, (size_t)n, &e) != 0)
			fprintf(stderr, "gpuattest serve: %s\n", e.msg);
	}
	wait_for_signal();
	fprintf(stderr, "gpuattest serve: stopping\n");
	MHD_stop_daemon(d);
	free(cert);
	free(key);
	free(trust);
	svc_ratelimit_free(s.rl);
	svc_keys_free(s.keys);
	return 0;
}
