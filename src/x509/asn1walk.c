/*
 * x509/asn1walk: one step of a walk over encoded ASN.1, with OpenSSL's own
 * ASN1_get_object, for the places that re-split bytes OpenSSL has decoded
 * and must see exactly what it saw (ocsp.c: a BasicOCSPResponse without its
 * certificates; p384.c: the signed part of a certificate, a signature's BIT
 * STRING). Definite lengths only. fwid.c has a stricter reader of its own
 * (minimal lengths, no high tags): it parses a device's extension that no
 * OpenSSL decoder has looked at.
 */
#include "x509/x509_internal.h"

int asn1_next(const unsigned char **p, const unsigned char *end, struct asn1_elem *el)
{
	const unsigned char *q = *p;
	int ret;

	if (q >= end)
		return -1;
	el->start = q;
	ret = ASN1_get_object(&q, &el->len, &el->tag, &el->cls, end - q);
	if ((ret & 0x80) || (ret & 0x01))	/* error, or indefinite length */
		return -1;
	el->constructed = (ret & V_ASN1_CONSTRUCTED) != 0;
	el->content = q;
	*p = q + el->len;
	return 0;
}

bool asn1_is(const struct asn1_elem *el, int cls, int tag, bool constructed)
{
	return el->cls == cls && el->tag == tag && el->constructed == constructed;
}
