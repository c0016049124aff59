/*
 * One ECDSA P-384 / SHA-384 verification, timed two ways on this machine:
 * OpenSSL (EVP_DigestVerify, what gpuattest used before x509/p384.c) and
 * the Nettle path gpuattest uses now (p384_sig_of_der + p384_verify_digest
 * from a certificate-style DER signature). Prints verifications per second
 * on one core for each, and their ratio, in the lines
 *   bench_p384: openssl N/s, nettle M/s (xR)
 * bench_net.sh reads the Nettle figure to print a warm run's floor.
 *
 *   bench_p384 [SECONDS_EACH]     (default 1; the two alternate in batches)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/evp.h>

#include "x509/x509_internal.h"

#define BATCH 20

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0, t0;
	unsigned char msg[256] = "bench_p384", der[128];
	uint8_t point[P384_POINT_LEN], digest[48], r[48], s[48];
	unsigned int dl = 0;
	size_t dlen = sizeof(der);
	EVP_PKEY *key = EVP_EC_gen("P-384");
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	long n_ossl = 0, n_nettle = 0;
	double t_ossl = 0, t_nettle = 0;

	if (secs <= 0 || key == NULL || c == NULL ||
	    EVP_DigestSignInit(c, NULL, EVP_sha384(), NULL, key) != 1 ||
	    EVP_DigestSign(c, der, &dlen, msg, sizeof(msg)) != 1 ||
	    p384_point_of_pkey(key, point) != 0 ||
	    EVP_Digest(msg, sizeof(msg), digest, &dl, EVP_sha384(), NULL) != 1) {
		fprintf(stderr, "bench_p384: cannot make a P-384 key and signature\n");
		return 2;
	}
	EVP_MD_CTX_free(c);
	/* Alternating batches, so that a shared VM's drifting speed weighs on
	 * both the same. */
	for (double end = now_s() + 2 * secs; now_s() < end;) {
		t0 = now_s();
		for (int i = 0; i < BATCH; i++, n_ossl++) {
			c = EVP_MD_CTX_new();
			if (c == NULL || EVP_DigestVerifyInit(c, NULL, EVP_sha384(), NULL, key) != 1 ||
			    EVP_DigestVerify(c, der, dlen, msg, sizeof(msg)) != 1)
				return fprintf(stderr, "bench_p384: OpenSSL refused a good signature\n"), 1;
			EVP_MD_CTX_free(c);
		}
		t_ossl += now_s() - t0;
		t0 = now_s();
		for (int i = 0; i < BATCH; i++, n_nettle++) {
			if (EVP_Digest(msg, sizeof(msg), digest, &dl, EVP_sha384(), NULL) != 1 ||
			    p384_sig_of_der(der, dlen, r, s) != 0 ||
			    p384_verify_digest(point, digest, 48, r, s) != 1)
				return fprintf(stderr, "bench_p384: Nettle refused a good signature\n"), 1;
		}
		t_nettle += now_s() - t0;
	}
	double ossl = n_ossl / t_ossl, nettle = n_nettle / t_nettle;
	printf("bench_p384: one core, P-384/SHA-384 verifications: openssl %.0f/s, nettle %.0f/s (x%.2f)\n",
	    ossl, nettle, nettle / ossl);
	EVP_PKEY_free(key);
	return 0;
}
