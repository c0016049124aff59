/*
 * net/jwks: the verification keys of a token issuer, fetched from its JWKS
 * URL (NRAS: {base}/.well-known/jwks.json) over the one HTTP client, kept
 * 15 minutes in the cache directory, and fetched again when a token names
 * a kid the kept set does not have (a rotated key), at most once per run.
 *
 * Never: follows a redirect (the HTTP layer refuses them: a 3xx is an
 * error), reads a JWKS over plain http from anything but loopback, or keeps
 * a set that does not parse. What the set holds is judged by token/ (the
 * x5c rule, P-384 only, duplicate kids dropped).
 *
 * The cached copy: <cache>/jwks/<sha256 of the URL>.json, written
 * atomically; older than GPA_JWKS_MAX_AGE (by its modification time) or
 * not parsing, it is fetched again.
 */
#ifndef GPA_NET_JWKS_H
#define GPA_NET_JWKS_H

#include <stdbool.h>
#include <time.h>

#include "net/http.h"
#include "token/token.h"

#define GPA_JWKS_MAX_AGE 900	/* seconds, as NVIDIA's JwkStore */

struct gpa_jwks_client {
	const struct gpa_http_opts *http;
	char url[1024];
	char cache_path[1200];		/* "" when not cached on disk */
	struct token_jwks *jwks;
	bool from_network;		/* jwks was fetched in this run */
	int fetches;
	char source[64];		/* "cache" or "network", for messages */
};

/* url must be https://, or http:// to a loopback host (tests, a local
 * verifier); -1 with a message otherwise. cache_dir NULL: no disk cache. */
int jwks_client_init(struct gpa_jwks_client *c, const struct gpa_http_opts *http, const char *url,
    const char *cache_dir, struct gpa_err *e);
void jwks_client_keyring(struct gpa_jwks_client *c, struct token_keyring *kr);
void jwks_client_clear(struct gpa_jwks_client *c);

/* A service URL we may send evidence to or take keys from: https, or http
 * to 127.0.0.1, [::1] or localhost. */
bool net_url_trusted_scheme(const char *url);

#endif
