/*
 * x509/anchors: the trust anchor sets. Owns the two pinned NVIDIA roots
 * (embedded below and checked against their SHA-256 fingerprints every time
 * they are loaded) and the anchors a user names on the command line.
 *
 * Never: adds a certificate that arrived with evidence, adds a non-CA
 * certificate, or puts the device root in the RIM store (or the reverse):
 * a RIM signed under the device hierarchy must not verify, nor a device
 * chain under the CoRIM hierarchy.
 */
#include "x509/x509_internal.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

/* Largest anchor file we read; real anchor files are a few kilobytes. */
#define ANCHOR_FILE_MAX (1024 * 1024)
/* A user anchor file with more roots than this is a mistake. */
#define ANCHOR_FILE_MAX_CERTS 256

/* Public certificate of NVIDIA's device identity root (fact sheet Appendix A). */
static const char nvidia_device_root_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICCzCCAZCgAwIBAgIQLTZwscoQBBHB/sDoKgZbVDAKBggqhkjOPQQDAzA1MSIw\n"
    "IAYDVQQDDBlOVklESUEgRGV2aWNlIElkZW50aXR5IENBMQ8wDQYDVQQKDAZOVklE\n"
    "SUEwIBcNMjExMTA1MDAwMDAwWhgPOTk5OTEyMzEyMzU5NTlaMDUxIjAgBgNVBAMM\n"
    "GU5WSURJQSBEZXZpY2UgSWRlbnRpdHkgQ0ExDzANBgNVBAoMBk5WSURJQTB2MBAG\n"
    "ByqGSM49AgEGBSuBBAAiA2IABA5MFKM7+KViZljbQSlgfky/RRnEQScW9NDZF8SX\n"
    "gAW96r6u/Ve8ZggtcYpPi2BS4VFu6KfEIrhN6FcHG7WP05W+oM+hxj7nyA1r1jkB\n"
    "2Ry70YfThX3Ba1zOryOP+MJ9vaNjMGEwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8B\n"
    "Af8EBAMCAQYwHQYDVR0OBBYEFFeF/4PyY8xlfWi3Olv0jUrL+0lfMB8GA1UdIwQY\n"
    "MBaAFFeF/4PyY8xlfWi3Olv0jUrL+0lfMAoGCCqGSM49BAMDA2kAMGYCMQCPeFM3\n"
    "TASsKQVaT+8S0sO9u97PVGCpE9d/I42IT7k3UUOLSR/qvJynVOD1vQKVXf0CMQC+\n"
    "EY55WYoDBvs2wPAH1Gw4LbcwUN8QCff8bFmV4ZxjCRr4WXTLFHBKjbfneGSBWwA=\n"
    "-----END CERTIFICATE-----\n";

/* Public certificate of NVIDIA's CoRIM (RIM signing) root (Appendix A). */
static const char nvidia_corim_root_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICKTCCAbCgAwIBAgIQRdrjoA5QN73fh1N17LXicDAKBggqhkjOPQQDAzBFMQsw\n"
    "CQYDVQQGEwJVUzEPMA0GA1UECgwGTlZJRElBMSUwIwYDVQQDDBxOVklESUEgQ29S\n"
    "SU0gc2lnbmluZyBSb290IENBMCAXDTIzMDMxNjE1MzczNFoYDzIwNTMwMzA4MTUz\n"
    "NzM0WjBFMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGTlZJRElBMSUwIwYDVQQDDBxO\n"
    "VklESUEgQ29SSU0gc2lnbmluZyBSb290IENBMHYwEAYHKoZIzj0CAQYFK4EEACID\n"
    "YgAEuECyi9vNM+Iw2lfUzyBldHAwaC1HF7TCgp12QcEyUTm3Tagxwr48d55+K2VI\n"
    "lWYIDk7NlAIQdcV/Ff7euGLI+Qauj93HsSI4WX298PpW54RTgz9tC+Q684caR/BX\n"
    "WEeZo2MwYTAdBgNVHQ4EFgQUpaXrOPK4ZDAk08DBskn594zeZjAwHwYDVR0jBBgw\n"
    "FoAUpaXrOPK4ZDAk08DBskn594zeZjAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8B\n"
    "Af8EBAMCAQYwCgYIKoZIzj0EAwMDZwAwZAIwHGDyscDP6ihHqRvZlI3eqZ4YkvjE\n"
    "1duaN84tAHRVgxVMvNrp5Tnom3idHYGW/dskAjATvjIx6VzHm/4e2GiZAyZEIUBD\n"
    "OKPzp5ei/A0iUZpdvngenDwV8Qa/wGdiTmJ7Bp4=\n"
    "-----END CERTIFICATE-----\n";

struct gpa_anchors {
	X509_STORE *store[2];		/* indexed by enum gpa_anchor_use */
	STACK_OF(X509) *certs[2];	/* the same certificates, for counting and comparison */
};

static bool use_ok(enum gpa_anchor_use use)
{
	return use == GPA_ANCHOR_DEVICE || use == GPA_ANCHOR_RIM;
}

static bool anchor_present(const struct gpa_anchors *a, enum gpa_anchor_use use, X509 *c)
{
	for (int i = 0; i < sk_X509_num(a->certs[use]); i++)
		if (X509_cmp(sk_X509_value(a->certs[use], i), c) == 0)
			return true;
	return false;
}

/* Adds one certificate to one store; a certificate already there is not
 * added twice (so anchors_count counts distinct anchors). */
static int anchor_add_one(struct gpa_anchors *a, enum gpa_anchor_use use, X509 *c,
    struct gpa_err *e)
{
	if (anchor_present(a, use, c))
		return 0;
	if (X509_STORE_add_cert(a->store[use], c) != 1) {
		gpa_err_openssl(e, "cannot add trust anchor");
		return -1;
	}
	if (!X509_up_ref(c)) {
		gpa_err_set(e, "cannot reference trust anchor");
		return -1;
	}
	if (sk_X509_push(a->certs[use], c) <= 0) {
		X509_free(c);
		gpa_err_set(e, "out of memory");
		return -1;
	}
	return 0;
}

static int sha256_matches(X509 *c, const char *want_hex)
{
	uint8_t md[32];
	char hex[65];

	if (x509_der_sha256(c, md) != 0)
		return 0;
	hex_encode(md, sizeof(md), hex);
	return strcmp(hex, want_hex) == 0;
}

/* Loads one embedded root, refusing it unless its DER hashes to the pinned
 * value: a corrupted or edited binary must not silently trust another key. */
int anchors_add_pinned(struct gpa_anchors *a, enum gpa_anchor_use use, const char *pem,
    const char *sha256_hex, const char *name, struct gpa_err *e)
{
	STACK_OF(X509) *sk;
	int rc;

	if (a == NULL || !use_ok(use) || pem == NULL || sha256_hex == NULL) {
		gpa_err_set(e, "internal: bad pinned anchor arguments");
		return -1;
	}
	sk = chain_from_pem(pem, strlen(pem), 1, e);
	if (sk == NULL) {
		gpa_err_prefix(e, "embedded %s", name);
		return -1;
	}
	if (!sha256_matches(sk_X509_value(sk, 0), sha256_hex)) {
		gpa_err_set(e, "embedded %s does not match its pinned SHA-256 %s", name, sha256_hex);
		sk_X509_pop_free(sk, X509_free);
		return -1;
	}
	rc = anchor_add_one(a, use, sk_X509_value(sk, 0), e);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

struct gpa_anchors *anchors_new(bool with_pinned, struct gpa_err *e)
{
	struct gpa_anchors *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		gpa_err_set(e, "out of memory");
		return NULL;
	}
	for (int u = 0; u < 2; u++) {
		a->store[u] = X509_STORE_new();
		a->certs[u] = sk_X509_new_null();
		if (a->store[u] == NULL || a->certs[u] == NULL) {
			gpa_err_set(e, "out of memory");
			anchors_free(a);
			return NULL;
		}
	}
	if (with_pinned &&
	    (anchors_add_pinned(a, GPA_ANCHOR_DEVICE, nvidia_device_root_pem,
		GPA_NVIDIA_DEVICE_ROOT_SHA256, "NVIDIA Device Identity CA", e) != 0 ||
	     anchors_add_pinned(a, GPA_ANCHOR_RIM, nvidia_corim_root_pem,
		GPA_NVIDIA_CORIM_ROOT_SHA256, "NVIDIA CoRIM signing Root CA", e) != 0)) {
		anchors_free(a);
		return NULL;
	}
	return a;
}

void anchors_free(struct gpa_anchors *a)
{
	if (a == NULL)
		return;
	for (int u = 0; u < 2; u++) {
		X509_STORE_free(a->store[u]);
		sk_X509_pop_free(a->certs[u], X509_free);
	}
	free(a);
}

/* basicConstraints cA=TRUE, nothing less: a v1 certificate or one with only
 * keyCertSign is not accepted as an anchor. */
static bool is_ca_cert(X509 *c)
{
	uint32_t fl = X509_get_extension_flags(c);

	return (fl & EXFLAG_INVALID) == 0 && (fl & EXFLAG_BCONS) != 0 && (fl & EXFLAG_CA) != 0;
}

int anchors_add_pem(struct gpa_anchors *a, const char *pem, size_t len, const char *what,
    struct gpa_err *e)
{
	return anchors_add_pem_for(a, pem, len, what, GPA_ANCHOR_USES_BOTH, e);
}

int anchors_add_pem_for(struct gpa_anchors *a, const char *pem, size_t len, const char *what,
    unsigned uses, struct gpa_err *e)
{
	STACK_OF(X509) *sk;
	int rc = 0;

	if (what == NULL)
		what = "anchor";
	sk = chain_from_pem(pem, len, ANCHOR_FILE_MAX_CERTS, e);
	if (sk == NULL) {
		gpa_err_prefix(e, "%s", what);
		return -1;
	}
	for (int i = 0; i < sk_X509_num(sk); i++) {
		if (!is_ca_cert(sk_X509_value(sk, i))) {
			char *cn = cert_subject_cn(sk_X509_value(sk, i));
			gpa_err_set(e, "%s: certificate %d (CN=%s) is not a CA certificate "
			    "(basicConstraints cA is not TRUE); refusing it as a trust anchor",
			    what, i + 1, cn ? cn : "?");
			free(cn);
			sk_X509_pop_free(sk, X509_free);
			return -1;
		}
	}
	/* All checked before any is added, so a bad file leaves the set unchanged. */
	for (int i = 0; i < sk_X509_num(sk) && rc == 0; i++)
		for (int u = 0; u < 2 && rc == 0; u++)
			if (uses & (1u << u))
				rc = anchor_add_one(a, (enum gpa_anchor_use)u, sk_X509_value(sk, i), e);
	if (rc != 0)
		gpa_err_prefix(e, "%s", what);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

int anchors_add_pem_file(struct gpa_anchors *a, const char *path, struct gpa_err *e)
{
	return anchors_add_pem_file_for(a, path, GPA_ANCHOR_USES_BOTH, e);
}

int anchors_add_pem_file_for(struct gpa_anchors *a, const char *path, unsigned uses, struct gpa_err *e)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (file_read(path, ANCHOR_FILE_MAX, &buf, &len, e) != 0)
		return -1;
	rc = anchors_add_pem_for(a, (const char *)buf, len, path, uses, e);
	free(buf);
	return rc;
}

int anchors_count(const struct gpa_anchors *a, enum gpa_anchor_use use)
{
	if (a == NULL || !use_ok(use))
		return 0;
	return sk_X509_num(a->certs[use]);
}

X509_STORE *anchors_store(const struct gpa_anchors *a, enum gpa_anchor_use use)
{
	if (a == NULL || !use_ok(use))
		return NULL;
	return a->store[use];
}

bool anchors_contains(const struct gpa_anchors *a, enum gpa_anchor_use use, X509 *c)
{
	if (a == NULL || !use_ok(use))
		return false;
	return anchor_present(a, use, c);
}
