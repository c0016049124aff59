/*
 * libFuzzer target for the x509 layer's parsers of hostile bytes: PEM chain
 * parsing (chain_from_pem) and, on whatever parses, the FWID extension
 * walker and the subject/serial accessors of the first certificate.
 * Never: validates against anchors or touches the network or files.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpa_err e;
	STACK_OF(X509) *sk = chain_from_pem((const char *)data, size, 8, &e);
	uint8_t fwid[48];
	char nb[21], na[21];
	X509 *leaf;

	if (sk == NULL)
		return 0;
	leaf = sk_X509_value(sk, 0);
	(void)cert_fwid(leaf, fwid, &e);
	free(cert_subject_cn(leaf));
	free(cert_serial_decimal(leaf));
	free(cert_subject_line(leaf));
	free(cert_subject_serial_number(leaf));
	cert_validity(leaf, nb, na);
	sk_X509_pop_free(sk, X509_free);
	return 0;
}
