/*
 * x509/certinfo: the few certificate fields the claims need (subject CN,
 * subject serialNumber, serial number in decimal, one-line subject,
 * validity) as plain malloc'd strings.
 *
 * Never: returns text with an embedded NUL (a CN "A\0B" must not read as
 * "A"), or decides anything about trust.
 */
#include "x509/x509_internal.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

/* Copies n bytes into a NUL-terminated malloc'd string, refusing inner NULs. */
static char *dup_text(const unsigned char *p, size_t n)
{
	char *s;

	if (memchr(p, '\0', n) != NULL)
		return NULL;
	s = malloc(n + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* The value of the one subject attribute with this NID, as UTF-8. NULL
 * when absent or when the attribute occurs more than once (ambiguous). */
static char *subject_attr(X509 *c, int nid)
{
	const X509_NAME *name = c ? X509_get_subject_name(c) : NULL;
	unsigned char *utf8 = NULL;
	char *out;
	int idx, len;

	if (name == NULL)
		return NULL;
	idx = X509_NAME_get_index_by_NID(name, nid, -1);
	if (idx < 0 || X509_NAME_get_index_by_NID(name, nid, idx) >= 0)
		return NULL;
	len = ASN1_STRING_to_UTF8(&utf8,
	    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
	if (len < 0) {
		ERR_clear_error();
		return NULL;
	}
	out = dup_text(utf8, (size_t)len);
	OPENSSL_free(utf8);
	return out;
}

char *cert_subject_cn(X509 *c)
{
	return subject_attr(c, NID_commonName);
}

char *cert_subject_serial_number(X509 *c)
{
	return subject_attr(c, NID_serialNumber);
}

char *cert_serial_decimal(X509 *c)
{
	BIGNUM *bn;
	char *dec, *out;

	if (c == NULL)
		return NULL;
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), NULL);
	if (bn == NULL) {
		ERR_clear_error();
		return NULL;
	}
	dec = BN_bn2dec(bn);
	BN_free(bn);
	if (dec == NULL)
		return NULL;
	out = strdup(dec);
	OPENSSL_free(dec);
	return out;
}

char *cert_subject_line(X509 *c)
{
	BIO *b;
	BUF_MEM *mem;
	char *out = NULL;

	if (c == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	/* ONELINE escapes control and non-ASCII bytes, so the line is printable. */
	if (X509_NAME_print_ex(b, X509_get_subject_name(c), 0,
	    XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    BIO_get_mem_ptr(b, &mem) == 1)
		out = dup_text((const unsigned char *)mem->data, mem->length);
	BIO_free(b);
	ERR_clear_error();
	return out;
}

int asn1_time_to_unix(const ASN1_TIME *t, time_t *out, char rfc3339[21])
{
	struct tm tm;
	char buf[80];

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return -1;
	}
	if (snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) != 20 ||
	    time_parse_rfc3339(buf, out) != 0)
		return -1;
	memcpy(rfc3339, buf, 21);
	rfc3339[20] = '\0';
	return 0;
}

void cert_validity(X509 *c, char not_before[21], char not_after[21])
{
	time_t t;

	not_before[0] = not_after[0] = '\0';
	if (c == NULL)
		return;
	if (asn1_time_to_unix(X509_get0_notBefore(c), &t, not_before) != 0)
		not_before[0] = '\0';
	if (asn1_time_to_unix(X509_get0_notAfter(c), &t, not_after) != 0)
		not_after[0] = '\0';
}
