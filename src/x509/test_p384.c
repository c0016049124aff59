/*
 * Tests of x509/p384 (P-384 signatures by Nettle): Wycheproof's P-384
 * vectors straight into Nettle, the DER signature rules against OpenSSL's on
 * signatures made here and re-encoded every way DER forbids, and the
 * certificate path on NVIDIA's real chains. The property that matters: the
 * Nettle path never accepts what OpenSSL refuses, and it does accept the
 * real signatures (else it would be a slow no-op).
 */
#include "x509/x509.h"
#include "x509/x509_internal.h"

#include "harness.h"

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>

/* ------------------------------------------------------------ Wycheproof */

static bool has_flag(json_t *tc, const char *flag)
{
	size_t i;
	json_t *f;

	json_array_foreach(json_object_get(tc, "flags"), i, f)
		if (json_is_string(f) && strcmp(json_string_value(f), flag) == 0)
			return true;
	return false;
}

/* Every vector straight into Nettle: no invalid one accepted, every valid
 * one accepted but for the point-duplication corner Nettle refuses (which
 * OpenSSL then accepts: test_x509's Wycheproof test goes through both). */
static void test_wycheproof_nettle(void)
{
	SHARED_OR_SKIP(p, "vectors/wycheproof/ecdsa_secp384r1_sha384_p1363_test.json");
	json_error_t je;
	json_t *root = json_load_file(p, 0, &je), *grp, *tc;
	int total = 0, accepted_invalid = 0, refused_valid = 0, refused_dup = 0;
	size_t gi, ti;

	CHECK(root != NULL);
	if (root == NULL)
		return;
	json_array_foreach(json_object_get(root, "testGroups"), gi, grp) {
		const char *ph = json_string_value(json_object_get(json_object_get(grp, "publicKey"),
		    "uncompressed"));
		uint8_t point[P384_POINT_LEN];

		CHECK(ph != NULL && hex_decode(ph, strlen(ph), point, sizeof(point), false) ==
		    P384_POINT_LEN);
		json_array_foreach(json_object_get(grp, "tests"), ti, tc) {
			const char *mh = json_string_value(json_object_get(tc, "msg"));
			const char *sh = json_string_value(json_object_get(tc, "sig"));
			const char *res = json_string_value(json_object_get(tc, "result"));
			size_t ml = strlen(mh);
			uint8_t *msg = malloc(ml / 2 + 1), sig[96], md[48];
			long mn = hex_decode(mh, ml, msg, ml / 2 + 1, false);
			unsigned int mdlen = 0;
			int v = 0;

			CHECK(mn >= 0 && EVP_Digest(msg, (size_t)mn, md, &mdlen, EVP_sha384(), NULL) == 1);
			if (hex_decode(sh, strlen(sh), sig, sizeof(sig), false) == 96)
				v = p384_verify_digest(point, md, 48, sig, sig + 48);
			total++;
			if (v == 1 && strcmp(res, "valid") != 0) {
				accepted_invalid++;
				fprintf(stderr, "tcId %lld: Nettle accepts a %s signature\n",
				    json_integer_value(json_object_get(tc, "tcId")), res);
			}
			if (v != 1 && strcmp(res, "valid") == 0) {
				if (has_flag(tc, "PointDuplication"))
					refused_dup++;
				else
					refused_valid++;
			}
			free(msg);
		}
	}
	fprintf(stderr, "  wycheproof via Nettle: %d tests, %d point-duplication refusals\n", total,
	    refused_dup);
	CHECK_INT(total, 280);
	CHECK_INT(accepted_invalid, 0);
	CHECK_INT(refused_valid, 0);
	json_decref(root);
}

/* -------------------------------------------------------- DER signatures */

struct signed_msg {
	EVP_PKEY *key;
	uint8_t point[P384_POINT_LEN];
	uint8_t digest[48];
	uint8_t r[48], s[48];
	unsigned char msg[64];
};

static bool make_signed(struct signed_msg *m)
{
	unsigned char der[128];
	size_t len = sizeof(der);
	unsigned int dl = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok;

	memset(m, 0, sizeof(*m));
	memset(m->msg, 'm', sizeof(m->msg));
	m->key = EVP_EC_gen("P-384");
	ok = m->key != NULL && c != NULL &&
	    EVP_DigestSignInit(c, NULL, EVP_sha384(), NULL, m->key) == 1 &&
	    EVP_DigestSign(c, der, &len, m->msg, sizeof(m->msg)) == 1 &&
	    p384_point_of_pkey(m->key, m->point) == 0 &&
	    EVP_Digest(m->msg, sizeof(m->msg), m->digest, &dl, EVP_sha384(), NULL) == 1 &&
	    p384_sig_of_der(der, len, m->r, m->s) == 0;
	EVP_MD_CTX_free(c);
	return ok;
}

/* OpenSSL's verdict on a DER signature over m->msg. */
static int openssl_verdict(const struct signed_msg *m, const unsigned char *der, size_t len)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int v = c != NULL && EVP_DigestVerifyInit(c, NULL, EVP_sha384(), NULL, m->key) == 1 &&
	    EVP_DigestVerify(c, der, len, m->msg, sizeof(m->msg)) == 1;

	EVP_MD_CTX_free(c);
	ERR_clear_error();
	return v;
}

static int nettle_verdict(const struct signed_msg *m, const unsigned char *der, size_t len)
{
	uint8_t r[48], s[48];

	if (p384_sig_of_der(der, len, r, s) != 0)
		return 0;
	return p384_verify_digest(m->point, m->digest, 48, r, s);
}

/* An INTEGER of n big-endian bytes, minimal unless pad extra zero bytes. */
static size_t put_int(unsigned char *out, const uint8_t *v, size_t n, size_t pad)
{
	size_t i = 0, k = 0;

	while (k < n - 1 && v[k] == 0)
		k++;
	out[i++] = 0x02;
	out[i++] = (unsigned char)(n - k + pad + ((v[k] & 0x80) ? 1 : 0));
	for (size_t z = 0; z < pad + ((v[k] & 0x80) ? 1 : 0); z++)
		out[i++] = 0;
	memcpy(out + i, v + k, n - k);
	return i + n - k;
}

enum form { DER, PAD_R, LONG_LEN, TRAILING, NEG_S, EXTRA_INT, SHORT_SEQ, INDEFINITE, N_FORMS };

static size_t encode(unsigned char *out, const uint8_t r[48], const uint8_t s[48], enum form f)
{
	unsigned char body[160];
	size_t b = put_int(body, r, 48, f == PAD_R ? 1 : 0), o = 0;

	b += put_int(body + b, s, 48, 0);
	if (f == NEG_S) {
		/* s with its sign bit set and no leading zero: negative */
		size_t at = body[1] + 2;
		if (body[at + 2] == 0)
			memmove(body + at + 2, body + at + 3, b - at - 3), body[at + 1]--, b--;
		body[at + 2] |= 0x80;
	}
	if (f == EXTRA_INT)
		body[b++] = 0x02, body[b++] = 0x01, body[b++] = 0x01;
	if (f == INDEFINITE) {
		out[o++] = 0x30, out[o++] = 0x80;
		memcpy(out + o, body, b);
		o += b;
		out[o++] = 0, out[o++] = 0;
		return o;
	}
	out[o++] = 0x30;
	if (f == LONG_LEN || b > 127)
		out[o++] = 0x81;
	out[o++] = (unsigned char)(f == SHORT_SEQ ? b - 1 : b);
	memcpy(out + o, body, b);
	o += b;
	if (f == TRAILING)
		out[o++] = 0;
	return o;
}

static void test_der_rules_match_openssl(void)
{
	static const char *const names[N_FORMS] = { "DER", "zero-padded r", "long-form length",
		"trailing byte", "negative s", "third INTEGER", "length one short", "indefinite length" };
	struct signed_msg m;
	int agreed = 0;

	CHECK(make_signed(&m));
	for (int round = 0; round < 2; round++) {
		uint8_t s2[48];
		/* (r, n - s) verifies as well (ECDSA is malleable); both libraries
		 * accept it, which the second round shows. */
		if (round == 1) {
			BIGNUM *n = BN_new(), *s = BN_bin2bn(m.s, 48, NULL);
			EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_secp384r1);
			CHECK(g && n && s && BN_sub(s, EC_GROUP_get0_order(g), s) == 1 &&
			    BN_bn2binpad(s, s2, 48) == 48);
			memcpy(m.s, s2, 48);
			BN_free(n);
			BN_free(s);
			EC_GROUP_free(g);
		}
		for (int f = 0; f < N_FORMS; f++) {
			unsigned char der[200];
			size_t len = encode(der, m.r, m.s, (enum form)f);
			int o = openssl_verdict(&m, der, len), ne = nettle_verdict(&m, der, len);

			if (o != (f == DER) || ne != (f == DER))
				fprintf(stderr, "round %d, %s: OpenSSL %d, Nettle %d\n", round, names[f], o, ne);
			CHECK_INT(o, f == DER);
			CHECK_INT(ne, o);
			agreed += ne == o;
		}
	}
	/* One byte of the digest or of r changed: both refuse. */
	m.digest[0] ^= 1;
	CHECK_INT(p384_verify_digest(m.point, m.digest, 48, m.r, m.s), 0);
	m.digest[0] ^= 1;
	CHECK_INT(p384_verify_digest(m.point, m.digest, 48, m.r, m.s), 1);
	m.r[47] ^= 1;
	CHECK_INT(p384_verify_digest(m.point, m.digest, 48, m.r, m.s), 0);
	m.r[47] ^= 1;
	/* A point off the curve, a compressed point: not Nettle's to accept. */
	m.point[96] ^= 1;
	CHECK_INT(p384_verify_digest(m.point, m.digest, 48, m.r, m.s), 0);
	m.point[96] ^= 1;
	m.point[0] = 0x02;
	CHECK_INT(p384_verify_digest(m.point, m.digest, 48, m.r, m.s), 0);
	fprintf(stderr, "  %d encodings judged alike by Nettle and OpenSSL\n", agreed);
	EVP_PKEY_free(m.key);
}

/* Keys that are not P-384 are left to OpenSSL. */
static void test_other_keys_not_taken(void)
{
	EVP_PKEY *p256 = EVP_EC_gen("P-256"), *rsa = EVP_RSA_gen(2048);
	uint8_t point[P384_POINT_LEN];

	CHECK(p256 != NULL && rsa != NULL);
	CHECK_INT(p384_point_of_pkey(p256, point), -1);
	CHECK_INT(p384_point_of_pkey(rsa, point), -1);
	CHECK_INT(p384_point_of_pkey(NULL, point), -1);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(rsa);
}

/* ----------------------------------------------------- real certificates */

static STACK_OF(X509) *real_chain(const char *rel)
{
	const char *p = shared_path(rel);
	struct gpa_err e = { { 0 } };
	uint8_t *buf = NULL;
	size_t len = 0;
	STACK_OF(X509) *sk = NULL;

	if (p != NULL && file_read(p, 1 << 20, &buf, &len, &e) == 0)
		sk = chain_from_pem((const char *)buf, len, 16, &e);
	free(buf);
	return sk;
}

/* A certificate decoded from its DER with one byte changed at `at` (from
 * the end when negative), or NULL when that no longer decodes. */
static X509 *changed(X509 *x, long at)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int n = i2d_X509(x, &der);
	X509 *y = NULL;

	if (n > 0) {
		long i = at < 0 ? n + at : at;
		der[i] ^= 0x01;
		p = der;
		y = d2i_X509(NULL, &p, n);
	}
	OPENSSL_free(der);
	return y;
}

static void test_real_certificates(void)
{
	STACK_OF(X509) *ch = real_chain("vectors/nvidia/gpu/hopper_595.71.05_azure/cert_chain.pem");
	STACK_OF(X509) *bw = real_chain("vectors/nvidia/gpu/blackwell_gb100_575.32/cert_chain.pem.txt");
	struct gpa_err e = { { 0 } };
	struct gpa_anchors *a;
	struct gpa_chain_result r;
	unsigned long before;
	int n;

	if (ch == NULL || bw == NULL)
		SKIP("shared vectors not found");
	n = sk_X509_num(ch);
	for (int i = 0; i + 1 < n; i++) {
		X509 *x = sk_X509_value(ch, i), *issuer = sk_X509_value(ch, i + 1), *y;

		CHECK_INT(p384_cert_signed_by(x, issuer), 1);
		CHECK_INT(X509_verify(x, X509_get0_pubkey(issuer)), 1);
		/* The wrong issuer. */
		CHECK_INT(p384_cert_signed_by(x, sk_X509_value(ch, (i + 2) % n)), 0);
		CHECK_INT(x509_signed_by(x, sk_X509_value(ch, (i + 2) % n)), 0);
		/* A changed signature (last byte of s), a changed serial number. */
		y = changed(x, -1);
		CHECK(y != NULL);
		CHECK_INT(p384_cert_signed_by(y, issuer), 0);
		CHECK_INT(x509_signed_by(y, issuer), 0);
		X509_free(y);
		y = changed(x, 16);
		if (y != NULL) {
			CHECK_INT(p384_cert_signed_by(y, issuer), 0);
			CHECK_INT(X509_verify(y, X509_get0_pubkey(issuer)), 0);
		}
		X509_free(y);
	}
	/* A whole path: every link but the anchor's own signature by Nettle. */
	a = anchors_new(true, &e);
	sigcache_set_enabled(false);
	before = p384_accepted();
	CHECK_INT(chain_validate(a, GPA_ANCHOR_DEVICE, bw, time(NULL), &r, &e), 0);
	CHECK_INT(r.status, GPA_CERT_VALID);
	CHECK_INT(p384_accepted() - before, sk_X509_num(bw) - 1);
	chain_result_clear(&r);
	sigcache_set_enabled(true);
	anchors_free(a);
	sk_X509_pop_free(ch, X509_free);
	sk_X509_pop_free(bw, X509_free);
}

int main(void)
{
	RUN(test_wycheproof_nettle);
	RUN(test_der_rules_match_openssl);
	RUN(test_other_keys_not_taken);
	RUN(test_real_certificates);
	return harness_done("p384");
}
