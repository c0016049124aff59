/* net/nras: NRAS v4 requests (policy in nras.h). */
#include "net/nras.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/jwks.h"

static const char *default_arch(enum gpa_device_kind kind)
{
	return kind == GPA_DEV_SWITCH ? "LS10" : "HOPPER";
}

char *nras_request_json(const struct evidence_set *set, enum gpa_device_kind kind, const char *nonce_hex,
    const char *claims_version, size_t *ndevices)
{
	json_t *list = json_array(), *req = NULL;
	const char *arch = NULL;
	char *out = NULL;

	*ndevices = 0;
	if (list == NULL)
		return NULL;
	for (size_t i = 0; i < set->n; i++) {
		const struct evidence_item *it = &set->items[i];
		char *ev, *cert;

		if (it->kind != kind || it->report == NULL || it->chain_pem == NULL)
			continue;
		if (arch == NULL)
			arch = it->arch[0] ? it->arch : default_arch(kind);
		ev = b64_encode(it->report, it->report_len);
		cert = b64_encode((const uint8_t *)it->chain_pem, it->chain_len);
		if (ev == NULL || cert == NULL ||
		    json_array_append_new(list, json_pack("{s:s,s:s}", "evidence", ev, "certificate", cert)) != 0) {
			free(ev);
			free(cert);
			json_decref(list);
			return NULL;
		}
		free(ev);
		free(cert);
		(*ndevices)++;
	}
	if (*ndevices > 0 && (req = json_pack("{s:s,s:s,s:s,s:O}", "nonce", nonce_hex, "arch", arch,
	    "claims_version", claims_version, "evidence_list", list)) != NULL)
		out = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	json_decref(list);
	return out;
}

enum gpa_verdict nras_attest(const struct gpa_http_opts *o, const char *base, enum gpa_device_kind kind,
    const char *body, uint8_t **answer, size_t *len, struct gpa_err *e)
{
	char url[1200];
	struct gpa_http_req req = {.method = "POST", .url = url, .body = (const uint8_t *)body,
	    .body_len = strlen(body), .content_type = "application/json", .accept = "application/json",
	    .max_body = TOKEN_MAX_LEN};
	struct gpa_http_resp r = {0};

	*answer = NULL;
	*len = 0;
	if (!net_url_trusted_scheme(base) || strlen(base) > 1100) {
		gpa_err_set(e, "NRAS URL %.200s: must be https:// (or http:// to 127.0.0.1, [::1] or localhost)", base);
		return GPA_BAD_INPUT;
	}
	snprintf(url, sizeof(url), "%s/v4/attest/%s", base, kind == GPA_DEV_SWITCH ? "switch" : "gpu");
	if (http_perform_all(o, &req, &r, 1, e) != 0) {
		http_resp_clear(&r);
		gpa_err_prefix(e, "NRAS %s", url);
		return GPA_INCOMPLETE;
	}
	if (!r.ok) {
		gpa_err_set(e, "NRAS %s: no answer after %d attempt(s): %s", url, r.attempts, r.error);
		http_resp_clear(&r);
		return GPA_INCOMPLETE;
	}
	if (r.status != 200) {
		gpa_err_set(e, "NRAS %s: HTTP %ld after %d attempt(s)%s", url, r.status, r.attempts,
		    r.status == 401 || r.status == 403 ? " (the service key was refused or is missing: --service-key, "
		    "GPUATTEST_SERVICE_KEY)" : r.status == 429 ? " (rate limited)" : r.status >= 300 && r.status < 400 ?
		    " (a redirect: not followed)" : "");
		http_resp_clear(&r);
		return GPA_INCOMPLETE;
	}
	*answer = r.body;
	*len = r.len;
	r.body = NULL;
	http_resp_clear(&r);
	if (*answer == NULL) {
		gpa_err_set(e, "NRAS %s: an empty answer", url);
		return GPA_INCOMPLETE;
	}
	return GPA_PASS;
}
