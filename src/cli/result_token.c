/*
 * Signed results: verify's --result-token / --format ear / --sign-*
 * options, and 'gpuattest jwks', which prints the public keys a relying
 * party verifies them with.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "api/api_internal.h"
#include "token/token.h"

#include <openssl/crypto.h>

#define KEY_FILE_MAX (64u << 10)

void cli_usage_verify_tokens(FILE *f)
{
	fprintf(f,
"Signed result (an EAR: IETF RATS EAT Attestation Result, signed ES384):\n"
"  --result-token FILE  also write the result as a signed EAR (compact JWS) to\n"
"                       FILE: ear_status affirming only when verified, per-device\n"
"                       submods (GPU-0, SWITCH-0, ...) with their NVIDIA claims,\n"
"                       the nonce (eat_nonce, base64url). Written for every\n"
"                       verdict: a failure is signed as contraindicated.\n"
"  --format ear         print that token on stdout instead of the report\n"
"  --sign-key KEY.pem   the EC P-384 private key that signs it (needed by the two\n"
"                       options above). Make one with\n"
"                       openssl ecparam -name secp384r1 -genkey -noout -out KEY.pem\n"
"                       and give relying parties 'gpuattest jwks --key KEY.pem'.\n"
"  --sign-kid KID       the key id in the token header (default: the key's RFC 7638\n"
"                       thumbprint, which 'gpuattest jwks' also uses by default)\n"
"  --sign-issuer ISS    the token's iss (default \"" TOKEN_DEFAULT_ISSUER "\"), which relying\n"
"                       parties require to be exactly this ('gpuattest help jwks')\n"
"\n");
}

static int load_key(const char *path, struct token_key **out)
{
	struct gpa_err e = {{0}};
	uint8_t *buf;
	size_t len;

	if (file_read(path, KEY_FILE_MAX, &buf, &len, &e) != 0) {
		fprintf(stderr, "gpuattest: %s\n", e.msg);
		return GPUATTEST_BAD_INPUT;
	}
	*out = token_key_from_pem(buf, len, &e);
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (*out == NULL) {
		fprintf(stderr, "gpuattest: %s: %s\n", path, e.msg);
		return GPUATTEST_BAD_INPUT;
	}
	return 0;
}

int cli_sign_option(struct cli_sign_opts *o, int which, const char *arg)
{
	switch (which) {
	case CLI_SIGN_RESULT_TOKEN: o->result_token = arg; break;
	case CLI_SIGN_KEY:
		token_key_free(o->key);
		o->key = NULL;
		o->key_path = arg;
		return load_key(arg, &o->key);
	case CLI_SIGN_KID:
		if (*arg == '\0' || strlen(arg) > TOKEN_KID_MAX) {
			fprintf(stderr, "gpuattest: --sign-kid must be 1 to %d bytes\n", TOKEN_KID_MAX);
			return GPUATTEST_BAD_INPUT;
		}
		o->kid = arg;
		break;
	case CLI_SIGN_ISSUER:
		if (*arg == '\0') {
			fprintf(stderr, "gpuattest: --sign-issuer must not be empty\n");
			return GPUATTEST_BAD_INPUT;
		}
		o->issuer = arg;
		break;
	}
	return 0;
}

int cli_sign_check(const struct cli_sign_opts *o)
{
	bool wanted = o->result_token != NULL || o->ear_format;

	if (wanted && o->key == NULL) {
		fprintf(stderr, "gpuattest verify: --result-token and --format ear need --sign-key KEY.pem "
		    "(see 'gpuattest help verify')\n");
		return GPUATTEST_BAD_INPUT;
	}
	if (!wanted && (o->key != NULL || o->kid != NULL || o->issuer != NULL)) {
		fprintf(stderr, "gpuattest verify: --sign-key, --sign-kid and --sign-issuer go with "
		    "--result-token FILE or --format ear (see 'gpuattest help verify')\n");
		return GPUATTEST_BAD_INPUT;
	}
	return 0;
}

int cli_sign_emit(const struct cli_sign_opts *o, const gpuattest_result *res)
{
	struct token_signer s = {.key = o->key, .kid = o->kid, .issuer = o->issuer, .now = time(NULL)};
	struct gpa_err e = {{0}};
	char *t;
	int rc = 0;

	if (o->key == NULL)
		return 0;
	if ((t = token_ear_sign(&s, &res->a, &e)) == NULL) {
		fprintf(stderr, "gpuattest: the signed result could not be made: %s\n", e.msg);
		return GPUATTEST_INCOMPLETE;
	}
	/* The file holds the token exactly, without a line end: JOSE tools
	 * (jose jws ver -i FILE) take every byte as part of it. */
	if (o->result_token != NULL && file_write_atomic(o->result_token, t, strlen(t), &e) != 0) {
		fprintf(stderr, "gpuattest: --result-token: %s\n", e.msg);
		rc = GPUATTEST_INCOMPLETE;
	}
	if (o->ear_format)
		printf("%s\n", t);
	free(t);
	return rc;
}

void cli_sign_clear(struct cli_sign_opts *o)
{
	token_key_free(o->key);
	o->key = NULL;
}

/* ---- gpuattest jwks ----------------------------------------------------- */

void cli_usage_jwks(FILE *f)
{
	fprintf(f,
"usage: gpuattest jwks --key KEY.pem [--kid KID] [--cert CERTS.pem]\n"
"\n"
"Prints the JSON Web Key Set (RFC 7517) of the key that signs results\n"
"('gpuattest verify --sign-key KEY.pem'): only the public part, with \"kid\",\n"
"\"alg\": \"ES384\" and \"use\": \"sig\". Publish it, or hand it to relying parties:\n"
"\n"
"  gpuattest jwks --key ear.pem > jwks.json\n"
"  gpuattest verify --evidence gpus.json --sign-key ear.pem --result-token ear.jwt ...\n"
"  gpuattest verify-token --type ear --jwks jwks.json --issuer gpuattest ear.jwt\n"
"\n"
"  --key KEY.pem      the EC P-384 private key (PEM, unencrypted)\n"
"  --kid KID          the key id (default: the key's RFC 7638 thumbprint, which is\n"
"                     also verify's default --sign-kid). --sign-kid is accepted too.\n"
"  --cert CERTS.pem   add \"x5c\": this certificate of the key, then its issuers.\n"
"                     NVIDIA's verifiers take the key from x5c[0] and skip\n"
"                     entries without x5c; gpuattest accepts either.\n"
"\n"
"Exit codes: 0 printed; 2 bad usage or an unreadable / unsuitable key or\n"
"certificate.\n");
}

int cli_jwks(int argc, char **argv)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'k'},
		{"kid", required_argument, NULL, 'i'},
		{"sign-kid", required_argument, NULL, 'i'},
		{"cert", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *key_path = NULL, *kid = NULL, *cert_path = NULL;
	struct token_key *key = NULL;
	struct gpa_err e = {{0}};
	uint8_t *certs = NULL;
	size_t clen;
	json_t *jwks;
	char *txt;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': key_path = optarg; break;
		case 'i': kid = optarg; break;
		case 'c': cert_path = optarg; break;
		case 'h': cli_usage_jwks(stdout); return 0;
		default:
			fprintf(stderr, "gpuattest jwks: unknown option (see 'gpuattest help jwks')\n");
			return GPUATTEST_BAD_INPUT;
		}
	}
	if (optind < argc || key_path == NULL || (kid != NULL && (*kid == '\0' || strlen(kid) > TOKEN_KID_MAX))) {
		fprintf(stderr, "gpuattest jwks: %s (see 'gpuattest help jwks')\n",
		    key_path == NULL ? "--key KEY.pem is required" : optind < argc ? "unexpected argument" :
		    "--kid must be 1 to 256 bytes");
		return GPUATTEST_BAD_INPUT;
	}
	if ((rc = load_key(key_path, &key)) != 0)
		return rc;
	if (cert_path != NULL && file_read(cert_path, KEY_FILE_MAX, &certs, &clen, &e) != 0) {
		fprintf(stderr, "gpuattest: %s\n", e.msg);
		token_key_free(key);
		return GPUATTEST_BAD_INPUT;
	}
	jwks = token_key_jwks(key, kid, (const char *)certs, &e);
	token_key_free(key);
	free(certs);
	if (jwks == NULL) {
		fprintf(stderr, "gpuattest: %s: %s\n", cert_path ? cert_path : key_path, e.msg);
		return GPUATTEST_BAD_INPUT;
	}
	txt = json_dumps(jwks, JSON_INDENT(2));
	json_decref(jwks);
	if (txt == NULL) {
		fprintf(stderr, "gpuattest: out of memory\n");
		return GPUATTEST_INCOMPLETE;
	}
	printf("%s\n", txt);
	free(txt);
	return 0;
}
