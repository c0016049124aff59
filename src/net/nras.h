/*
 * net/nras: NVIDIA's Remote Attestation Service, v4 (§12, §16.5): the
 * evidence of one device kind POSTed to {base}/v4/attest/gpu or
 * /v4/attest/switch, the answer (a detached EAT) handed back as bytes for
 * token/ to judge. Over the one HTTP client: its timeouts, retries (429 and
 * 5xx with backoff), size limit, Bearer service key, no redirects.
 *
 * Never: judges the answer (token_eat_verify does), or sends evidence over
 * plain http to anything but loopback.
 */
#ifndef GPA_NET_NRAS_H
#define GPA_NET_NRAS_H

#include "evidence/evidence.h"
#include "net/http.h"
#include "token/token.h"

#define GPA_NRAS_DEFAULT_URL "https://nras.attestation.nvidia.com"

/* The request body: {nonce, arch, claims_version, evidence_list: [{evidence:
 * base64 report, certificate: base64 of the PEM chain}]} for the items of
 * kind (arch from the first such item, else HOPPER / LS10). malloc'd, NULL
 * when no item is of that kind or out of memory. */
char *nras_request_json(const struct evidence_set *set, enum gpa_device_kind kind, const char *nonce_hex,
    const char *claims_version, size_t *ndevices);

/* POSTs it. GPA_PASS with the 200 answer's body (malloc'd); otherwise
 * GPA_INCOMPLETE (network, timeout, a body over TOKEN_MAX_LEN, HTTP 401/403
 * with a word about the service key, any other status after the retries),
 * the message naming the URL and the cause. */
enum gpa_verdict nras_attest(const struct gpa_http_opts *o, const char *base, enum gpa_device_kind kind,
    const char *body, uint8_t **answer, size_t *len, struct gpa_err *e);

#endif
