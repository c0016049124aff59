/*
 * The service's signing key and tokens. The JWS, EAR and detached-EAT
 * construction is src/token's; this file owns the key's life: the key file
 * (default STATE_DIR/signing-key.pem, an EC P-384 key generated on first
 * start, 0600), its certificate (STATE_DIR/signing-key.crt, self-signed,
 * made with the key when absent) and the JWKS that publishes both.
 *
 * The certificate is there because NVIDIA's verifiers take a token key from
 * x5c[0] of the JWKS and skip entries without one (attestation-formats.md
 * §12.4, §16.5); it proves nothing by itself (self-signed), as NRAS's does
 * not for NVIDIA's clients either: the relying party trusts the key it
 * fetched from the URL it chose to call.
 */
#include "service/service.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit/audit.h"
#include "token/token.h"

struct svc_signer {
	struct token_key *key;
	char *jwks;		/* compact JSON text, made once */
};

/* Publishes a new file, mode 0600, whole or not at all: written under a
 * temporary name, then linked to its name. When the name exists already
 * (replicas starting together on one state directory) the one there wins
 * and is what everyone reads. */
static int write_new(const char *path, const char *text, size_t len, struct gpa_err *e)
{
	char tmp[4200];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		gpa_err_set(e, "%s: cannot create: %s", tmp, strerror(errno));
		return -1;
	}
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		gpa_err_set(e, "%s: cannot write: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (link(tmp, path) != 0 && errno != EEXIST) {
		gpa_err_set(e, "%s: cannot create: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	unlink(tmp);
	return 0;
}

static char *bio_text(BIO *b, size_t *len)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *out = n > 0 ? malloc((size_t)n + 1) : NULL;

	if (out != NULL) {
		memcpy(out, p, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	return out;
}

static int generate_key(const char *path, struct gpa_err *e)
{
	EVP_PKEY *k = EVP_EC_gen("P-384");
	BIO *b = BIO_new(BIO_s_mem());
	char *pem = NULL;
	size_t len = 0;
	int rc = -1;

	if (k != NULL && b != NULL && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (pem = bio_text(b, &len)) != NULL)
		rc = write_new(path, pem, len, e);
	else
		gpa_err_openssl(e, "cannot generate a P-384 signing key");
	if (pem != NULL)
		OPENSSL_cleanse(pem, len);
	free(pem);
	BIO_free(b);
	EVP_PKEY_free(k);
	if (rc == 0)
		fprintf(stderr, "gpuattest serve: generated a new signing key %s\n", path);
	return rc;
}

/* A self-signed certificate for the key: CN "gpuattest serve", 10 years. */
static int make_certificate(const char *key_path, const char *cert_path, struct gpa_err *e)
{
	FILE *f = fopen(key_path, "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	BIO *b = BIO_new(BIO_s_mem());
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	char *pem = NULL;
	size_t len = 0;
	int rc = -1;

	if (f != NULL)
		fclose(f);
	if (k == NULL || x == NULL || n == NULL || b == NULL || random_bytes(serial, sizeof(serial)) != 0)
		goto out;
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL || X509_set_version(x, 2) != 1 ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"gpuattest serve", -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, n) != 1 || X509_set_issuer_name(x, n) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400) == NULL ||
	    X509_set_pubkey(x, k) != 1 || X509_sign(x, k, EVP_sha384()) == 0 ||
	    PEM_write_bio_X509(b, x) != 1 || (pem = bio_text(b, &len)) == NULL)
		goto out;
	rc = write_new(cert_path, pem, len, e);
	if (rc == 0)
		fprintf(stderr, "gpuattest serve: made a self-signed certificate %s for the signing key\n", cert_path);
out:
	if (rc != 0 && e->msg[0] == '\0')
		gpa_err_openssl(e, "%s: cannot make a certificate for the signing key", cert_path);
	free(pem);
	BN_free(bn);
	BIO_free(b);
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int key_paths(const char *key_path, char *key, size_t klen, char *cert, size_t clen,
    bool *generated_ok, struct gpa_err *e)
{
	char dir[3800];

	*generated_ok = key_path == NULL;
	if (key_path == NULL) {
		if (audit_state_dir(dir, sizeof(dir), e) != 0)
			return -1;
		snprintf(key, klen, "%s/signing-key.pem", dir);
	} else
		snprintf(key, klen, "%s", key_path);
	/* KEY.pem -> KEY.crt; any other name: NAME.crt beside it. */
	size_t l = strlen(key);
	if (l > 4 && strcmp(key + l - 4, ".pem") == 0)
		snprintf(cert, clen, "%.*s.crt", (int)(l - 4), key);
	else
		snprintf(cert, clen, "%s.crt", key);
	return 0;
}

struct svc_signer *svc_signer_open(const char *key_path, struct gpa_err *e)
{
	char key[4096], cert[4100];
	uint8_t *pem = NULL, *cpem = NULL;
	size_t len, clen;
	bool may_generate;
	struct svc_signer *s = calloc(1, sizeof(*s));
	json_t *jwks = NULL;

	if (s == NULL) {
		gpa_err_set(e, "out of memory");
		return NULL;
	}
	if (key_paths(key_path, key, sizeof(key), cert, sizeof(cert), &may_generate, e) != 0)
		goto fail;
	/* A key named on the command line must exist; only the default is made. */
	if (!exists(key) && (!may_generate || generate_key(key, e) != 0))
		goto fail;
	if (!exists(cert) && make_certificate(key, cert, e) != 0)
		goto fail;
	if (file_read(key, 64 * 1024, &pem, &len, e) != 0 ||
	    (s->key = token_key_from_pem(pem, len, e)) == NULL) {
		gpa_err_prefix(e, "signing key %s", key);
		goto fail;
	}
	if (file_read(cert, 64 * 1024, &cpem, &clen, e) != 0 ||
	    (jwks = token_key_jwks(s->key, NULL, (const char *)cpem, e)) == NULL) {
		gpa_err_prefix(e, "signing certificate %s", cert);
		goto fail;
	}
	if ((s->jwks = json_dumps(jwks, JSON_COMPACT)) == NULL) {
		gpa_err_set(e, "out of memory");
		goto fail;
	}
	json_decref(jwks);
	OPENSSL_cleanse(pem, len);
	free(pem);
	free(cpem);
	return s;
fail:
	json_decref(jwks);
	if (pem != NULL)
		OPENSSL_cleanse(pem, len);
	free(pem);
	free(cpem);
	svc_signer_free(s);
	return NULL;
}

void svc_signer_free(struct svc_signer *s)
{
	if (s == NULL)
		return;
	token_key_free(s->key);
	free(s->jwks);
	free(s);
}

static void signer_for(const struct svc_signer *s, const char *issuer, struct token_signer *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->key = s->key;
	ts->issuer = issuer;
	ts->now = time(NULL);
}

char *svc_sign_detached_eat(struct svc_signer *s, const char *issuer, const struct gpa_appraisal *a,
    const struct svc_request *req, struct gpa_err *e)
{
	struct token_signer ts;
	json_t *eat;
	char *text;

	(void)req;
	signer_for(s, issuer, &ts);
	if ((eat = token_detached_eat_from_appraisal(&ts, a, e)) == NULL)
		return NULL;
	text = json_dumps(eat, JSON_COMPACT);
	json_decref(eat);
	if (text == NULL)
		gpa_err_set(e, "out of memory");
	return text;
}

char *svc_sign_ear(struct svc_signer *s, const char *issuer, const struct gpa_appraisal *a,
    const struct svc_request *req, struct gpa_err *e)
{
	struct token_signer ts;

	(void)req;
	signer_for(s, issuer, &ts);
	return token_ear_sign(&ts, a, e);
}

char *svc_signer_jwks(struct svc_signer *s)
{
	return s && s->jwks ? strdup(s->jwks) : NULL;
}
