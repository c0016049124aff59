/*
 * net/http: many requests at once over one curl multi handle, each with its
 * own retry schedule, all under one deadline (see http.h for the policy).
 *
 * Must never: retry a non-transient failure, keep more than max_body bytes
 * of a response, follow a redirect, or let a service key containing control
 * characters reach a header.
 */
#include "net/http.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <dlfcn.h>

/* libcurl is loaded when the first request is made, not at start-up: its
 * dependencies (LDAP, GnuTLS, IDN, ...) cost about 8 ms of every process
 * start, and most runs (offline, cached, --no-ocsp) make no request. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#define LIBCURL_NAME "libcurl.so.4"

static struct {
	void *h;
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
} cu;

static bool load_libcurl(void)
{
	cu.h = dlopen(LIBCURL_NAME, RTLD_NOW | RTLD_LOCAL);
	if (cu.h == NULL)
		return false;
#define SYM(f, name) (*(void **)&cu.f = dlsym(cu.h, name)) != NULL
	return SYM(global_init, "curl_global_init") && SYM(easy_init, "curl_easy_init") &&
	    SYM(easy_cleanup, "curl_easy_cleanup") && SYM(easy_setopt, "curl_easy_setopt") &&
	    SYM(easy_getinfo, "curl_easy_getinfo") && SYM(easy_strerror, "curl_easy_strerror") &&
	    SYM(slist_append, "curl_slist_append") && SYM(slist_free_all, "curl_slist_free_all") &&
	    SYM(multi_init, "curl_multi_init") && SYM(multi_cleanup, "curl_multi_cleanup") &&
	    SYM(multi_add_handle, "curl_multi_add_handle") &&
	    SYM(multi_remove_handle, "curl_multi_remove_handle") &&
	    SYM(multi_perform, "curl_multi_perform") && SYM(multi_poll, "curl_multi_poll") &&
	    SYM(multi_info_read, "curl_multi_info_read");
#undef SYM
}

struct xfer {
	const struct gpa_http_req *req;
	struct gpa_http_resp *resp;
	CURL *easy;
	struct curl_slist *hdrs;
	size_t max_body;
	bool too_large;
	bool running;
	bool done;
	long long next_start_ms;
	long long first_start_ms;
	uint8_t *buf;
	size_t len, cap;
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
	curl_init_rc = load_libcurl() ? cu.global_init(CURL_GLOBAL_DEFAULT) : CURLE_FAILED_INIT;
}

const char *http_curl_version(void)
{
	char *(*version)(void);

	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK || (*(void **)&version = dlsym(cu.h, "curl_version")) == NULL)
		return NULL;
	return version();
}

const char *http_curl_soname(void)
{
	return LIBCURL_NAME;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void http_opts_default(struct gpa_http_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout_ms = 5000;
	o->timeout_ms = 30000;
	o->total_timeout_ms = 60000;
	o->max_retries = 3;
	o->backoff_base_ms = 250;
	o->backoff_max_ms = 8000;
	o->max_body = GPA_HTTP_DEFAULT_MAX_BODY;
	snprintf(o->user_agent, sizeof(o->user_agent), "gpuattest/%s", GPA_VERSION);
}

/* A set variable must be a plain decimal in [min, max]; unset leaves *out. */
static int env_long(const char *name, long min, long max, long *out, struct gpa_err *e)
{
	const char *v = getenv(name);
	char *end;
	long x;

	if (v == NULL || *v == '\0')
		return 0;
	if (!isdigit((unsigned char)v[0])) {
		gpa_err_set(e, "%s=\"%s\": not a decimal number", name, v);
		return -1;
	}
	errno = 0;
	x = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || x < min || x > max) {
		gpa_err_set(e, "%s=\"%s\": expected a whole number from %ld to %ld", name, v, min, max);
		return -1;
	}
	*out = x;
	return 0;
}

int http_opts_from_env(struct gpa_http_opts *o, struct gpa_err *e)
{
	long retries;
	const char *key;

	http_opts_default(o);
	retries = o->max_retries;
	if (env_long("GPUATTEST_HTTP_CONNECT_TIMEOUT_MS", 1, 600000, &o->connect_timeout_ms, e) != 0 ||
	    env_long("GPUATTEST_HTTP_TIMEOUT_MS", 1, 3600000, &o->timeout_ms, e) != 0 ||
	    env_long("GPUATTEST_HTTP_TOTAL_TIMEOUT_MS", 1, 3600000, &o->total_timeout_ms, e) != 0 ||
	    env_long("GPUATTEST_HTTP_RETRIES", 0, 20, &retries, e) != 0)
		return -1;
	o->max_retries = (int)retries;
	key = getenv("GPUATTEST_SERVICE_KEY");
	if (key != NULL && *key != '\0') {
		if (strlen(key) >= sizeof(o->service_key)) {
			gpa_err_set(e, "GPUATTEST_SERVICE_KEY: longer than %zu bytes",
			    sizeof(o->service_key) - 1);
			return -1;
		}
		snprintf(o->service_key, sizeof(o->service_key), "%s", key);
	}
	return 0;
}

/* Whether an HTTP status is retried (408, 429, 500, 502, 503, 504). */
static bool http_status_transient(long status)
{
	return status == 408 || status == 429 || status == 500 || status == 502 ||
	    status == 503 || status == 504;
}

static bool curl_code_transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return true;
	default:
		return false;
	}
}

/* Header injection guard: a token of visible ASCII only. */
static bool service_key_ok(const char *k)
{
	for (; *k; k++)
		if (*k < 0x21 || *k > 0x7e)
			return false;
	return true;
}

static int check_opts(const struct gpa_http_opts *o, struct gpa_err *e)
{
	if (o->connect_timeout_ms <= 0 || o->timeout_ms <= 0 || o->total_timeout_ms <= 0 ||
	    o->max_retries < 0 || o->max_retries > 20 || o->backoff_base_ms < 0 ||
	    o->backoff_max_ms < o->backoff_base_ms || o->max_body == 0) {
		gpa_err_set(e, "HTTP options out of range");
		return -1;
	}
	if (memchr(o->service_key, '\0', sizeof(o->service_key)) == NULL ||
	    !service_key_ok(o->service_key)) {
		gpa_err_set(e, "service key: only visible ASCII characters are allowed");
		return -1;
	}
	if (memchr(o->user_agent, '\0', sizeof(o->user_agent)) == NULL ||
	    strpbrk(o->user_agent, "\r\n") != NULL) {
		gpa_err_set(e, "user agent: bad characters");
		return -1;
	}
	return 0;
}

static int check_req(const struct gpa_http_req *r, size_t i, struct gpa_err *e)
{
	if (r->url == NULL || (strncasecmp(r->url, "http://", 7) != 0 &&
	    strncasecmp(r->url, "https://", 8) != 0)) {
		gpa_err_set(e, "request %zu: URL must start with http:// or https://", i);
		return -1;
	}
	if (strpbrk(r->url, " \r\n\t") != NULL) {
		gpa_err_set(e, "request %zu: URL contains whitespace", i);
		return -1;
	}
	if (r->method == NULL || (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0)) {
		gpa_err_set(e, "request %zu: method must be GET or POST", i);
		return -1;
	}
	if ((r->content_type && strpbrk(r->content_type, "\r\n")) ||
	    (r->accept && strpbrk(r->accept, "\r\n"))) {
		gpa_err_set(e, "request %zu: bad header value", i);
		return -1;
	}
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (n > x->max_body - x->len) {
		x->too_large = true;
		return 0;	/* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (x->len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 4096;
		uint8_t *nb;
		while (cap < x->len + n + 1)
			cap *= 2;
		if ((nb = realloc(x->buf, cap)) == NULL)
			return 0;
		x->buf = nb;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, data, n);
	x->len += n;
	x->buf[x->len] = 0;
	return n;
}

static struct curl_slist *add_header(struct curl_slist *l, bool *ok, const char *name, const char *v)
{
	char line[700];
	struct curl_slist *nl;

	snprintf(line, sizeof(line), "%s:%s%s", name, *v ? " " : "", v);
	if ((nl = cu.slist_append(l, line)) == NULL)
		*ok = false;
	return nl ? nl : l;
}

static struct curl_slist *build_headers(const struct gpa_http_opts *o, const struct gpa_http_req *r)
{
	struct curl_slist *l = NULL;
	bool ok = true;

	if (r->accept)
		l = add_header(l, &ok, "Accept", r->accept);
	if (r->content_type)
		l = add_header(l, &ok, "Content-Type", r->content_type);
	if (o->service_key[0]) {
		char auth[sizeof(o->service_key) + 8];
		snprintf(auth, sizeof(auth), "Bearer %s", o->service_key);
		l = add_header(l, &ok, "Authorization", auth);
	}
	/* No "Expect: 100-continue" round trip for small POST bodies. */
	l = add_header(l, &ok, "Expect", "");
	if (!ok) {
		cu.slist_free_all(l);
		return NULL;
	}
	return l;
}

static void end_attempt(CURLM *m, struct xfer *x)
{
	if (x->easy) {
		cu.multi_remove_handle(m, x->easy);
		cu.easy_cleanup(x->easy);
		x->easy = NULL;
	}
	cu.slist_free_all(x->hdrs);
	x->hdrs = NULL;
	x->running = false;
}

static void finish(struct xfer *x, long long t, bool ok)
{
	struct gpa_http_resp *r = x->resp;

	r->ok = ok;
	r->elapsed_ms = (long)(t - x->first_start_ms);
	if (ok) {
		r->body = x->buf;
		r->len = x->len;
		x->buf = NULL;
	} else {
		free(x->buf);
		x->buf = NULL;
	}
	x->len = x->cap = 0;
	x->done = true;
}

/* Why a transfer stopped at the deadline. The verification's one deadline
 * (RIM and OCSP phases together) replaces what the attempt said (it only
 * ran out of the time the deadline left it); a call's own deadline is
 * appended to the attempt's error when there is one. */
static void deadline_note(const struct gpa_http_opts *o, char *buf, size_t len, bool appended)
{
	size_t used = appended ? strlen(buf) : 0;

	if (o->deadline_at_ms > 0)
		snprintf(buf, len, "total deadline of %ld ms for the whole verification reached (RIM and OCSP "
		    "together) before an answer came", o->total_timeout_ms);
	else if (used < len)
		snprintf(buf + used, len - used, "%stotal deadline of %ld ms reached%s", appended ? " (" : "",
		    o->total_timeout_ms, appended ? ")" : "");
}

static int start_attempt(const struct gpa_http_opts *o, CURLM *m, struct xfer *x,
    long long t, long long deadline)
{
	const struct gpa_http_req *r = x->req;
	long left = (long)(deadline - t);
	CURL *c;

	free(x->buf);
	x->buf = NULL;
	x->len = x->cap = 0;
	x->too_large = false;
	x->errbuf[0] = 0;
	if ((c = cu.easy_init()) == NULL)
		return -1;
	x->easy = c;
	if ((x->hdrs = build_headers(o, r)) == NULL)
		return -1;
	cu.easy_setopt(c, CURLOPT_URL, r->url);
	cu.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cu.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	cu.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	cu.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms < left ? o->connect_timeout_ms : left);
	cu.easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms < left ? o->timeout_ms : left);
	cu.easy_setopt(c, CURLOPT_USERAGENT, o->user_agent);
	cu.easy_setopt(c, CURLOPT_HTTPHEADER, x->hdrs);
	cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	cu.easy_setopt(c, CURLOPT_WRITEDATA, x);
	cu.easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body);
	cu.easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	cu.easy_setopt(c, CURLOPT_PRIVATE, x);
	if (strcmp(r->method, "POST") == 0) {
		cu.easy_setopt(c, CURLOPT_POST, 1L);
		cu.easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "");
		cu.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	} else {
		cu.easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	if (cu.multi_add_handle(m, c) != CURLM_OK)
		return -1;
	x->running = true;
	x->resp->attempts++;
	return 0;
}

/* Full jitter: uniform in [0, min(max, base * 2^(attempt-1))]. */
static long backoff_ms(const struct gpa_http_opts *o, int attempt)
{
	long cap = o->backoff_base_ms;
	uint64_t rnd = 0;

	for (int i = 1; i < attempt && cap < o->backoff_max_ms; i++)
		cap *= 2;
	if (cap > o->backoff_max_ms)
		cap = o->backoff_max_ms;
	if (cap <= 0)
		return 0;
	if (random_bytes(&rnd, sizeof(rnd)) != 0)
		return cap;
	return (long)(rnd % ((uint64_t)cap + 1));
}

static void copy_content_type(CURL *c, struct gpa_http_resp *r)
{
	char *ct = NULL;
	size_t i = 0;

	r->content_type[0] = 0;
	if (cu.easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK || ct == NULL)
		return;
	while (*ct == ' ')
		ct++;
	for (; ct[i] && ct[i] != ';' && ct[i] != ' ' && i + 1 < sizeof(r->content_type); i++)
		r->content_type[i] = (char)tolower((unsigned char)ct[i]);
	r->content_type[i] = 0;
}

/* One attempt ended: final outcome, or a retry scheduled. */
static void attempt_done(const struct gpa_http_opts *o, CURLM *m, struct xfer *x, CURLcode rc,
    long long deadline)
{
	struct gpa_http_resp *r = x->resp;
	bool transient = false;
	long long t = now_ms();
	long delay;

	if (rc == CURLE_OK) {
		cu.easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->status);
		copy_content_type(x->easy, r);
		if (http_status_transient(r->status)) {
			transient = true;
			snprintf(r->error, sizeof(r->error), "HTTP %ld", r->status);
		}
	} else if (x->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(r->error, sizeof(r->error), "response body larger than the %zu bytes allowed",
		    x->max_body);
	} else {
		transient = curl_code_transient(rc);
		str_printf(r->error, sizeof(r->error), "%s%s%s", cu.easy_strerror(rc),
		    x->errbuf[0] ? ": " : "", x->errbuf);
	}
	end_attempt(m, x);
	if (!transient) {
		finish(x, t, rc == CURLE_OK);
		return;
	}
	/* An attempt cut short by the deadline failed because of it. */
	if (t >= deadline) {
		finish(x, t, rc == CURLE_OK);
		if (rc != CURLE_OK)
			deadline_note(o, r->error, sizeof(r->error), true);
		return;
	}
	if (r->attempts > o->max_retries) {
		finish(x, t, rc == CURLE_OK);
		if (rc != CURLE_OK)
			snprintf(r->error + strlen(r->error), sizeof(r->error) - strlen(r->error),
			    " (after %d attempts)", r->attempts);
		return;
	}
	delay = backoff_ms(o, r->attempts);
	if (t + delay >= deadline) {
		finish(x, t, rc == CURLE_OK);
		if (rc != CURLE_OK)
			deadline_note(o, r->error, sizeof(r->error), true);
		return;
	}
	x->next_start_ms = t + delay;
}

static void drain_messages(const struct gpa_http_opts *o, CURLM *m, long long deadline)
{
	CURLMsg *msg;
	int left;

	while ((msg = cu.multi_info_read(m, &left)) != NULL) {
		char *p = NULL;
		if (msg->msg != CURLMSG_DONE)
			continue;
		cu.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
		if (p != NULL)
			attempt_done(o, m, (struct xfer *)(void *)p, msg->data.result, deadline);
	}
}

/* Starts every due attempt; returns how long to wait (ms) for the next
 * scheduled one, or -1 when none is waiting; < -1 on setup failure. */
static long start_due(const struct gpa_http_opts *o, CURLM *m, struct xfer *xs, size_t n,
    long long deadline)
{
	long long t = now_ms();
	long wait = -1;

	for (size_t i = 0; i < n; i++) {
		struct xfer *x = &xs[i];
		if (x->done || x->running)
			continue;
		if (x->next_start_ms <= t) {
			if (t >= deadline) {
				deadline_note(o, x->resp->error, sizeof(x->resp->error), false);
				finish(x, t, false);
				continue;
			}
			if (start_attempt(o, m, x, t, deadline) != 0) {
				end_attempt(m, x);
				return -2;
			}
		} else if (wait < 0 || x->next_start_ms - t < wait) {
			wait = (long)(x->next_start_ms - t);
		}
	}
	return wait;
}

static bool all_done(const struct xfer *xs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!xs[i].done)
			return false;
	return true;
}

static int run_loop(const struct gpa_http_opts *o, CURLM *m, struct xfer *xs, size_t n,
    long long deadline, struct gpa_err *e)
{
	while (!all_done(xs, n)) {
		int still = 0;
		long wait = start_due(o, m, xs, n, deadline);

		if (wait < -1) {
			gpa_err_set(e, "HTTP: cannot set up a transfer (out of memory?)");
			return -1;
		}
		if (cu.multi_perform(m, &still) != CURLM_OK) {
			gpa_err_set(e, "HTTP: curl_multi_perform failed");
			return -1;
		}
		drain_messages(o, m, deadline);
		if (all_done(xs, n))
			break;
		/* Wake for socket activity, the next scheduled retry, or at
		 * least every 100 ms so curl's own timers run. */
		if (wait < 0 || wait > 100)
			wait = 100;
		if (cu.multi_poll(m, NULL, 0, (int)wait, NULL) != CURLM_OK) {
			gpa_err_set(e, "HTTP: curl_multi_poll failed");
			return -1;
		}
	}
	return 0;
}

int http_perform_all(const struct gpa_http_opts *o, const struct gpa_http_req *reqs,
    struct gpa_http_resp *resps, size_t n, struct gpa_err *e)
{
	struct xfer *xs;
	CURLM *m;
	long long t0, deadline;
	int rc;

	for (size_t i = 0; i < n; i++)
		memset(&resps[i], 0, sizeof(resps[i]));
	if (n == 0)
		return 0;
	if (n > GPA_HTTP_MAX_REQUESTS) {
		gpa_err_set(e, "HTTP: %zu requests at once, more than %d", n, GPA_HTTP_MAX_REQUESTS);
		return -1;
	}
	if (check_opts(o, e) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (check_req(&reqs[i], i, e) != 0)
			return -1;
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK) {
		gpa_err_set(e, "HTTP: cannot load or start %s (is libcurl installed?)", LIBCURL_NAME);
		return -1;
	}
	if ((xs = calloc(n, sizeof(*xs))) == NULL || (m = cu.multi_init()) == NULL) {
		free(xs);
		gpa_err_set(e, "HTTP: out of memory");
		return -1;
	}
	t0 = now_ms();
	deadline = t0 + o->total_timeout_ms;
	if (o->deadline_at_ms > 0 && o->deadline_at_ms < deadline)
		deadline = o->deadline_at_ms;
	for (size_t i = 0; i < n; i++) {
		xs[i].req = &reqs[i];
		xs[i].resp = &resps[i];
		xs[i].max_body = reqs[i].max_body ? reqs[i].max_body : o->max_body;
		xs[i].next_start_ms = t0;
		xs[i].first_start_ms = t0;
	}
	rc = run_loop(o, m, xs, n, deadline, e);
	for (size_t i = 0; i < n; i++) {
		end_attempt(m, &xs[i]);
		free(xs[i].buf);
		if (rc != 0)
			http_resp_clear(&resps[i]);
	}
	cu.multi_cleanup(m);
	free(xs);
	return rc;
}

void http_resp_clear(struct gpa_http_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

void http_opts_start_deadline(struct gpa_http_opts *o)
{
	o->deadline_at_ms = now_ms() + o->total_timeout_ms;
}

void http_wait_begin(const struct gpa_http_opts *o, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	if (o == NULL || o->wait == NULL || o->wait->begin == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	o->wait->begin(o->wait->arg, what);
}

void http_wait_end(const struct gpa_http_opts *o)
{
	if (o != NULL && o->wait != NULL && o->wait->end != NULL)
		o->wait->end(o->wait->arg);
}
