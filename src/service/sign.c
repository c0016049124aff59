/*
 * Signing the service's answers. The JWS and EAT/EAR construction is
 * src/token's (ES384, kid, JWKS); until that layer is in the tree there is
 * no signing here at all, and the service refuses the token endpoints with
 * 503 "signing unavailable" rather than hand out an unsigned token.
 */
#include "service/service.h"

#include <stdio.h>
#include <stdlib.h>

struct svc_signer {
	int unused;
};

struct svc_signer *svc_signer_open(const char *key_path, struct gpa_err *e)
{
	(void)key_path;
	gpa_err_set(e, "signing unavailable: this build has no token signer (src/token)");
	return NULL;
}

void svc_signer_free(struct svc_signer *s)
{
	free(s);
}

char *svc_sign_detached_eat(struct svc_signer *s, const char *issuer, const struct gpa_appraisal *a,
    const struct svc_request *req, struct gpa_err *e)
{
	(void)issuer;
	(void)s;
	(void)a;
	(void)req;
	gpa_err_set(e, "signing unavailable");
	return NULL;
}

char *svc_sign_ear(struct svc_signer *s, const char *issuer, const struct gpa_appraisal *a,
    const struct svc_request *req, struct gpa_err *e)
{
	(void)issuer;
	(void)s;
	(void)a;
	(void)req;
	gpa_err_set(e, "signing unavailable");
	return NULL;
}

char *svc_signer_jwks(struct svc_signer *s)
{
	(void)s;
	return NULL;
}
