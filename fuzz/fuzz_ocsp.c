/*
 * libFuzzer target for ocsp_process_response: arbitrary bytes as the DER
 * OCSPResponse answering a fixed request (a leaf issued by a test
 * intermediate, under a test root; certificates generated once by
 * tests/servers/mkpki.sh and embedded below). Owns nothing but the harness;
 * the only state kept between inputs is the fixed query, chain and store.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "x509/ocsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char PEM_LEAF[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBwDCCAUagAwIBAgICIAEwCgYIKoZIzj0EAwMwHzEdMBsGA1UEAwwUVGVzdCBJ\n"
	"bnRlcm1lZGlhdGUgQ0EwHhcNMjAwMTAxMDAwMDAwWhcNNDkxMjMxMjM1OTU5WjAU\n"
	"MRIwEAYDVQQDDAlMZWFmIGdvb2QwdjAQBgcqhkjOPQIBBgUrgQQAIgNiAATyYNY2\n"
	"v3m5GQd6sO+Ctf6dAQJ/WfV6Hd/YeFg5uSVF9f9jdGaQzvazaEbmH7KzogyvnuS7\n"
	"b2PEPz1MzfoQ4KRd/JDcM6Ord066F678luMoEjUTo5Z59vtTh7KqV7nRW7CjYDBe\n"
	"MAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMB0GA1UdDgQWBBRmmlq9hPSs\n"
	"46T8HkYxK+SUYIG7rDAfBgNVHSMEGDAWgBRODNA7bCznWw2S1GguEeuBAbkcgDAK\n"
	"BggqhkjOPQQDAwNoADBlAjEAsX0lLVS/ljdLypAuwIjycDat9ZPSe/tYJPfWbFgW\n"
	"GPtdB17FoGCWv8K+d0KPH1MbAjAX+iJxR3j0DiJVOesbVVitU3zWtE4eAixM9z98\n"
	"QKna2h3l3wCVBUvZKC7zfSPxKk0=\n"
	"-----END CERTIFICATE-----\n"
	;

static const char PEM_ICA[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBxjCCAUygAwIBAgICEAEwCgYIKoZIzj0EAwMwFzEVMBMGA1UEAwwMVGVzdCBS\n"
	"b290IENBMB4XDTIwMDEwMTAwMDAwMFoXDTQ5MTIzMTIzNTk1OVowHzEdMBsGA1UE\n"
	"AwwUVGVzdCBJbnRlcm1lZGlhdGUgQ0EwdjAQBgcqhkjOPQIBBgUrgQQAIgNiAARX\n"
	"f1GqNqLeONLJYbtvESkVJDWKXmFUfTWM0NJtoJ6dRiWoCld5xcEqI2XLBiTVqOIF\n"
	"3dhxCeVskn1hP/rDqVSUcxc3BzyKjdk1jequ/z9EqEwV1FpCFCDZv4HYncC0Sqqj\n"
	"YzBhMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBRO\n"
	"DNA7bCznWw2S1GguEeuBAbkcgDAfBgNVHSMEGDAWgBRnm/4uz1Tuf7fwie8niJw9\n"
	"qi1PrjAKBggqhkjOPQQDAwNoADBlAjAYTds498Mf1YddOGTAM+w5y8Y6l4cYeRQS\n"
	"yZFd3yvu7wBY6xAFbo+DGWYT7RS0/dECMQCFU0Gha9Z/jODtQ5CxnWRJDKcutYNt\n"
	"9uEgNHWI9kTcJ0OQVY6BcAwjqmbkCmmca44=\n"
	"-----END CERTIFICATE-----\n"
	;

static const char PEM_ROOT[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBnTCCASOgAwIBAgICEAAwCgYIKoZIzj0EAwMwFzEVMBMGA1UEAwwMVGVzdCBS\n"
	"b290IENBMB4XDTIwMDEwMTAwMDAwMFoXDTQ5MTIzMTIzNTk1OVowFzEVMBMGA1UE\n"
	"AwwMVGVzdCBSb290IENBMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEWUlbopRK0LLW\n"
	"CTcjJxTYZgIdzpQwtXuN6xy2mMVLxZ67ZENrgd2fzW21pCQVXPh/ENfaOXzDARrR\n"
	"4dczyC1BL3mh6weRf8HXPYMVaIW0RKWXHplC2HsmTJjbIvfQLanCo0IwQDAPBgNV\n"
	"HRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUZ5v+Ls9U7n+3\n"
	"8InvJ4icPaotT64wCgYIKoZIzj0EAwMDaAAwZQIxAPtkBKxQPdkfC70jB1zbK0WD\n"
	"jalY6qynfgG5JcumjpsP8MR81C4wjEweuEGoBM9quwIwfgGCK334kYPrIFzFM05w\n"
	"5P8TNFdNA6aZLKlNHI3l95DynsG6bGzRvu3jYmdxhyW6\n"
	"-----END CERTIFICATE-----\n"
	;

struct fixture {
	struct gpa_ocsp_query q;
	STACK_OF(X509) *chain;
	X509_STORE *store;
	struct gpa_ocsp_opts o;
};

static X509 *pem_cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	if (x == NULL)
		abort();
	return x;
}

static struct fixture *fixture(void)
{
	static struct fixture f;
	static int ready;

	if (!ready) {
		struct gpa_err e = { { 0 } };
		X509 *leaf = pem_cert(PEM_LEAF), *ica = pem_cert(PEM_ICA), *root = pem_cert(PEM_ROOT);

		f.chain = sk_X509_new_null();
		f.store = X509_STORE_new();
		if (f.chain == NULL || f.store == NULL || !sk_X509_push(f.chain, leaf) ||
		    !sk_X509_push(f.chain, ica) || X509_STORE_add_cert(f.store, root) != 1 ||
		    ocsp_query_init(&f.q, leaf, ica, &e) != 0)
			abort();
		X509_free(root);
		ocsp_opts_default(&f.o);
		ready = 1;
	}
	return &f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fixture *f = fixture();
	struct gpa_ocsp_cert r;
	const time_t at = 1795824000;	/* 2026-11-28T00:00:00Z */

	memset(&r, 0, sizeof(r));
	ocsp_process_response(data, size, &f->q, (size & 1) ? GPA_OCSP_FROM_RESPONDER : GPA_OCSP_FROM_CACHE,
	    f->chain, f->store, at, &f->o, (size & 2) != 0, &r);
	/* What a caller reads must be consistent whatever the input. */
	if (r.status == GPA_OCSP_GOOD && !r.response_valid)
		abort();
	if (r.detail[sizeof(r.detail) - 1] != '\0' && strnlen(r.detail, sizeof(r.detail)) == sizeof(r.detail))
		abort();
	(void)ocsp_status_name(r.status);
	ERR_clear_error();
	return 0;
}
