/*
 * Client certificates (--client-ca): mutual TLS as the alternative to
 * Bearer API keys. libmicrohttpd runs the TLS (GnuTLS) and, given the CA
 * (MHD_OPTION_HTTPS_MEM_TRUST), asks every client for a certificate; it does
 * not refuse a client that sends none or a bad one, so every request is
 * judged here, on the connection's GnuTLS session: the chain must verify to
 * the CA (GnuTLS checks the signatures, the validity times and the key
 * usage) and the leaf must allow TLS client authentication (extended key
 * usage clientAuth, when it has one). The client is then named by its
 * certificate: "cert:" + subject DN (RFC 4514, as GnuTLS writes it) and the
 * first 16 hex digits of the certificate's SHA-256, so that two CAs' "CN=a"
 * stay apart in the audit trail and the rate limits.
 */
#include "service/service.h"

#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

static int leaf_identity(const gnutls_datum_t *der, char *out, size_t len, char *why, size_t wlen)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = { NULL, 0 };
	uint8_t fp[32];
	size_t fplen = sizeof(fp);
	char hex[17];
	int rc = -1;

	if (gnutls_x509_crt_init(&crt) != 0)
		return -1;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) != 0 ||
	    gnutls_x509_crt_get_dn3(crt, &dn, 0) != 0 ||
	    gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fplen) != 0 || fplen != 32) {
		snprintf(why, wlen, "the client certificate cannot be read");
	} else {
		hex_encode(fp, 8, hex);
		/* The DN is escaped text (RFC 4514); cut to fit, the digest stays. */
		snprintf(out, len, "cert:%.*s sha256:%s", (int)(len - 30 < dn.size ? len - 30 : dn.size),
		    (const char *)dn.data, hex);
		rc = 0;
	}
	gnutls_free(dn.data);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

int svc_mtls_client(struct MHD_Connection *c, char *out, size_t len, char *why, size_t wlen)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t s = ci != NULL ? (gnutls_session_t)ci->tls_session : NULL;
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID, .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
	};
	const gnutls_datum_t *peers;
	unsigned int status = 0, n = 0;
	gnutls_datum_t text = { NULL, 0 };

	if (len < 64)
		return -1;
	if (s == NULL) {
		snprintf(why, wlen, "a client certificate is required (HTTPS with --client-ca)");
		return -1;
	}
	if ((peers = gnutls_certificate_get_peers(s, &n)) == NULL || n == 0) {
		snprintf(why, wlen, "a client certificate is required: none was presented");
		return -1;
	}
	if (gnutls_certificate_verify_peers(s, &purpose, 1, &status) != 0) {
		snprintf(why, wlen, "the client certificate could not be checked");
		return -1;
	}
	if (status != 0) {
		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == 0)
			snprintf(why, wlen, "the client certificate is not valid: %.200s", (const char *)text.data);
		else
			snprintf(why, wlen, "the client certificate is not valid");
		gnutls_free(text.data);
		return -1;
	}
	return leaf_identity(&peers[0], out, len, why, wlen);
}
