/*
 * net/http: the one HTTP client of the library, over libcurl's multi
 * interface.
 *
 * Owns: timeouts (connect, per attempt, total deadline), bounded retries with
 * full-jitter exponential backoff on transient failures only, response size
 * limits, the user agent, the optional service key (Authorization: Bearer,
 * sent on every request, GETs included), and running many requests at once.
 *
 * Never: follows redirects, speaks anything but http/https, interprets a
 * body, or retries a request whose failure is not transient (a 404, a TLS
 * failure, a body over the limit).
 *
 * Proxies: libcurl's standard environment handling is kept: http_proxy,
 * https_proxy (or HTTPS_PROXY), all_proxy and no_proxy. (libcurl ignores an
 * upper-case HTTP_PROXY on purpose.) TLS peers are verified against the
 * system CA store.
 *
 * Defaults and their environment variables (read by http_opts_from_env;
 * a command-line option set afterwards overrides both):
 *
 *   connect_timeout_ms  5000    GPUATTEST_HTTP_CONNECT_TIMEOUT_MS
 *   timeout_ms         30000    GPUATTEST_HTTP_TIMEOUT_MS        (one attempt)
 *   total_timeout_ms   60000    GPUATTEST_HTTP_TOTAL_TIMEOUT_MS  (all attempts)
 *   max_retries            3    GPUATTEST_HTTP_RETRIES           (4 attempts)
 *   backoff_base_ms      250    wait before retry k (k = 1, 2, ...) is uniform
 *   backoff_max_ms      8000      in [0, min(max, base * 2^(k-1))]
 *   max_body       8 MiB       (per request override in gpa_http_req)
 *   service_key         none    GPUATTEST_SERVICE_KEY
 *   user_agent  "gpuattest/" GPA_VERSION
 *
 * Transient (retried): DNS failure (host or proxy), connect failure,
 * timeout, connection reset / empty reply, HTTP 408, 429, 500, 502, 503, 504.
 * A retry is not started when the total deadline would leave it no time.
 */
#ifndef GPA_NET_HTTP_H
#define GPA_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#ifndef GPA_VERSION
#define GPA_VERSION "0.1.0"
#endif

#define GPA_HTTP_DEFAULT_MAX_BODY	(8u << 20)
#define GPA_HTTP_MAX_REQUESTS		1024	/* per http_perform_all call */

/* Told when the network is about to be waited for, and when the answers
 * came (a terminal's waiting line). */
struct gpa_http_wait {
	void (*begin)(void *arg, const char *what);	/* "the RIM service at URL (RIM ...)" */
	void (*end)(void *arg);
	void *arg;
};

struct gpa_http_opts {
	long connect_timeout_ms;
	long timeout_ms;		/* one attempt, connect included */
	long total_timeout_ms;		/* every attempt and backoff together */
	/* One deadline for a whole verification (every http_perform_all of
	 * it: RIM and OCSP phases together), on the monotonic clock in ms;
	 * 0: each call has its own total_timeout_ms. http_opts_start_deadline
	 * sets it to now + total_timeout_ms. */
	long long deadline_at_ms;
	const struct gpa_http_wait *wait;	/* NULL: nobody is told */
	int max_retries;
	long backoff_base_ms;
	long backoff_max_ms;
	size_t max_body;
	char service_key[512];		/* empty: no Authorization header */
	char user_agent[128];
};

/* From now on every call with these options shares one deadline,
 * total_timeout_ms from now. */
void http_opts_start_deadline(struct gpa_http_opts *o);
/* Says (to o->wait, if any) what is about to be waited for: printf-style,
 * e.g. "the OCSP responder at %s (%zu certificates)"; http_wait_end when the
 * answers came. */
void http_wait_begin(const struct gpa_http_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void http_wait_end(const struct gpa_http_opts *o);

/* Fills opts with the defaults above. */
void http_opts_default(struct gpa_http_opts *o);
/* Defaults, then the environment variables above. A variable that is set
 * but not a plain decimal number in range is an error (not ignored). */
int http_opts_from_env(struct gpa_http_opts *o, struct gpa_err *e);

struct gpa_http_req {
	const char *method;		/* "GET" or "POST" */
	const char *url;		/* http:// or https:// only */
	const uint8_t *body;		/* POST body (may be NULL for GET) */
	size_t body_len;
	const char *content_type;	/* of the body, or NULL */
	const char *accept;		/* Accept header, or NULL */
	size_t max_body;		/* 0: opts->max_body */
};

struct gpa_http_resp {
	bool ok;			/* a final HTTP response arrived (any status) */
	long status;			/* HTTP status when ok */
	uint8_t *body;			/* malloc'd, NUL terminated (not counted); may be NULL when len 0 */
	size_t len;
	char content_type[128];		/* lower-cased media type without parameters, "" if none */
	int attempts;			/* how many were made */
	long elapsed_ms;		/* from start to the final outcome */
	char error[256];		/* why !ok (or the last transient failure) */
};

/* Runs the n requests concurrently (one curl multi handle), each retried on
 * transient failures as described above, all bounded by the total deadline.
 * Returns 0 when every request ran to an outcome (look at resps[i].ok and
 * .status), -1 when the requests could not be set up (bad options, bad
 * service key, out of memory) with a message in e. resps[i] must be freed
 * with http_resp_clear whatever the result. */
int http_perform_all(const struct gpa_http_opts *o, const struct gpa_http_req *reqs,
    struct gpa_http_resp *resps, size_t n, struct gpa_err *e);
void http_resp_clear(struct gpa_http_resp *r);
/* libcurl's version line ("libcurl/7.88.1 OpenSSL/3.0.19 ..."), loading it
 * if need be; NULL when it cannot be loaded (http_curl_soname: its name). */
const char *http_curl_version(void);
const char *http_curl_soname(void);

#endif
