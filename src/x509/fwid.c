/*
 * x509/fwid: the firmware digest (FWID) a device leaf certificate carries in
 * its TCG DICE extension, parsed as real DER.
 *
 *   Hopper, LS10  2.23.133.5.4.1    SEQUENCE { INTEGER, SubjectPublicKeyInfo,
 *                                              SEQUENCE { OID sha384, OCTET STRING(48) } }
 *   Blackwell     2.23.133.5.4.1.1  DiceTcbInfo SEQUENCE { [0]..[9] optional,
 *                                   [6] IMPLICIT SEQUENCE OF FWID { OID, OCTET STRING } }
 *
 * Never: takes "the last 48 bytes" or skips by assumed one-byte lengths;
 * accepts indefinite or non-minimal lengths, high tag numbers, trailing
 * bytes, a hash other than SHA-384, or a digest that is not 48 bytes.
 */
#include "x509/x509_internal.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <string.h>

#define FWID_LEN 48

#define TAG_INTEGER	0x02
#define TAG_OCTETS	0x04
#define TAG_OID		0x06
#define TAG_SEQUENCE	0x30
#define TAG_CTX_CONS(n)	(0xa0 | (n))
#define TAG_CTX_CLASS	0x80	/* context-specific, primitive or constructed */

static const char OID_HOPPER[] = "2.23.133.5.4.1";
static const char OID_BLACKWELL[] = "2.23.133.5.4.1.1";
/* 2.16.840.1.101.3.4.2.2 (sha384), content octets. */
static const uint8_t OID_SHA384[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02 };

/* One DER TLV read from a bounded span. */
struct tlv {
	uint8_t tag;
	const uint8_t *val;
	size_t len;
};

/* Reads one TLV at *p within [*p, end): single-byte tag (no high tag
 * numbers), definite minimal length. Advances *p past it. */
static bool der_next(const uint8_t **p, const uint8_t *end, struct tlv *t)
{
	const uint8_t *q = *p;
	size_t len;

	if (end - q < 2)
		return false;
	t->tag = *q++;
	if ((t->tag & 0x1f) == 0x1f)
		return false;
	len = *q++;
	if (len & 0x80) {
		size_t n = len & 0x7f;

		/* 0x80 is indefinite (BER only); more than 4 octets is absurd here. */
		if (n == 0 || n > 4 || (size_t)(end - q) < n || q[0] == 0)
			return false;
		len = 0;
		for (size_t i = 0; i < n; i++)
			len = len << 8 | *q++;
		if (len < 0x80)
			return false;	/* should have used the short form */
	}
	if ((size_t)(end - q) < len)
		return false;
	t->val = q;
	t->len = len;
	*p = q + len;
	return true;
}

/* Reads one TLV that must have the given tag. */
static bool der_expect(const uint8_t **p, const uint8_t *end, uint8_t tag, struct tlv *t)
{
	return der_next(p, end, t) && t->tag == tag;
}

/* A whole span that is exactly one TLV with this tag. */
static bool der_only(const uint8_t *buf, size_t len, uint8_t tag, struct tlv *t)
{
	const uint8_t *p = buf;

	return der_expect(&p, buf + len, tag, t) && p == buf + len;
}

/* FWID ::= SEQUENCE { hashAlg OID, digest OCTET STRING }, nothing more.
 * When out is given, the hash must be SHA-384 and the digest 48 bytes. */
static bool parse_fwid_entry(const struct tlv *seq, uint8_t out[FWID_LEN], struct gpa_err *e)
{
	const uint8_t *p = seq->val, *end = seq->val + seq->len;
	struct tlv oid, dig;

	if (!der_expect(&p, end, TAG_OID, &oid) || !der_expect(&p, end, TAG_OCTETS, &dig) ||
	    p != end) {
		gpa_err_set(e, "FWID entry is not SEQUENCE { OID, OCTET STRING }");
		return false;
	}
	if (oid.len == 0 || (oid.val[oid.len - 1] & 0x80) != 0) {
		gpa_err_set(e, "FWID hash algorithm is not a valid OID");
		return false;
	}
	if (out == NULL)
		return true;
	if (oid.len != sizeof(OID_SHA384) || memcmp(oid.val, OID_SHA384, oid.len) != 0) {
		gpa_err_set(e, "FWID hash algorithm is not SHA-384");
		return false;
	}
	if (dig.len != FWID_LEN) {
		gpa_err_set(e, "FWID digest is %zu bytes, expected %d", dig.len, FWID_LEN);
		return false;
	}
	memcpy(out, dig.val, FWID_LEN);
	return true;
}

/* Hopper/LS10: SEQUENCE { INTEGER, SubjectPublicKeyInfo, FWID }. */
static bool parse_hopper(const uint8_t *buf, size_t len, uint8_t out[FWID_LEN], struct gpa_err *e)
{
	struct tlv top, ver, spki, fwid;
	const uint8_t *p, *end;

	if (!der_only(buf, len, TAG_SEQUENCE, &top)) {
		gpa_err_set(e, "extension %s is not one DER SEQUENCE", OID_HOPPER);
		return false;
	}
	p = top.val;
	end = top.val + top.len;
	if (!der_expect(&p, end, TAG_INTEGER, &ver) || ver.len == 0 ||
	    !der_expect(&p, end, TAG_SEQUENCE, &spki) ||
	    !der_expect(&p, end, TAG_SEQUENCE, &fwid) || p != end) {
		gpa_err_set(e, "extension %s is not SEQUENCE { INTEGER, SubjectPublicKeyInfo, "
		    "FWID }", OID_HOPPER);
		return false;
	}
	if (!parse_fwid_entry(&fwid, out, e)) {
		gpa_err_prefix(e, "extension %s", OID_HOPPER);
		return false;
	}
	return true;
}

/* [6] fwids: IMPLICIT SEQUENCE OF FWID, at least one; every entry must be
 * well formed, the first one is the FWID. */
static bool parse_fwid_list(const struct tlv *list, uint8_t out[FWID_LEN], struct gpa_err *e)
{
	const uint8_t *p = list->val, *end = list->val + list->len;
	int n = 0;

	while (p < end) {
		struct tlv entry;

		if (!der_expect(&p, end, TAG_SEQUENCE, &entry)) {
			gpa_err_set(e, "fwids entry %d is not a SEQUENCE", n);
			return false;
		}
		if (!parse_fwid_entry(&entry, n == 0 ? out : NULL, e)) {
			gpa_err_prefix(e, "fwids entry %d", n);
			return false;
		}
		n++;
	}
	if (n == 0) {
		gpa_err_set(e, "fwids list is empty");
		return false;
	}
	return true;
}

/* Blackwell: DiceTcbInfo, fields [0]..[9] each at most once, in order. */
static bool parse_dice_tcb_info(const uint8_t *buf, size_t len, uint8_t out[FWID_LEN],
    struct gpa_err *e)
{
	struct tlv top;
	const uint8_t *p, *end;
	int last = -1;
	bool have_fwids = false;

	if (!der_only(buf, len, TAG_SEQUENCE, &top)) {
		gpa_err_set(e, "extension %s is not one DER SEQUENCE", OID_BLACKWELL);
		return false;
	}
	p = top.val;
	end = top.val + top.len;
	while (p < end) {
		struct tlv f;
		int num;

		if (!der_next(&p, end, &f) || (f.tag & 0xc0) != TAG_CTX_CLASS) {
			gpa_err_set(e, "extension %s: DiceTcbInfo field is not a context tag",
			    OID_BLACKWELL);
			return false;
		}
		num = f.tag & 0x1f;
		if (num <= last || num > 9) {
			gpa_err_set(e, "extension %s: DiceTcbInfo field [%d] out of order or unknown",
			    OID_BLACKWELL, num);
			return false;
		}
		last = num;
		if (num != 6)
			continue;
		if (f.tag != TAG_CTX_CONS(6)) {
			gpa_err_set(e, "extension %s: fwids [6] is not constructed", OID_BLACKWELL);
			return false;
		}
		if (!parse_fwid_list(&f, out, e)) {
			gpa_err_prefix(e, "extension %s", OID_BLACKWELL);
			return false;
		}
		have_fwids = true;
	}
	if (!have_fwids) {
		gpa_err_set(e, "extension %s: DiceTcbInfo has no fwids [6]", OID_BLACKWELL);
		return false;
	}
	return true;
}

/* Finds the one extension with this OID. 1 found, 0 absent, -1 duplicated. */
static int find_ext(X509 *c, const char *oid_txt, const ASN1_OCTET_STRING **val,
    struct gpa_err *e)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid_txt, 1);
	int idx, rc = 0;

	if (obj == NULL) {
		gpa_err_openssl(e, "internal: OID %s", oid_txt);
		return -1;
	}
	idx = X509_get_ext_by_OBJ(c, obj, -1);
	if (idx >= 0) {
		if (X509_get_ext_by_OBJ(c, obj, idx) >= 0) {
			gpa_err_set(e, "extension %s occurs more than once", oid_txt);
			rc = -1;
		} else {
			*val = X509_EXTENSION_get_data(X509_get_ext(c, idx));
			rc = *val != NULL ? 1 : -1;
		}
	}
	ASN1_OBJECT_free(obj);
	return rc;
}

int cert_fwid(X509 *leaf, uint8_t out[48], struct gpa_err *e)
{
	const ASN1_OCTET_STRING *hv = NULL, *bv = NULL;
	uint8_t hop[FWID_LEN], bw[FWID_LEN];
	int h, b;

	if (leaf == NULL || out == NULL) {
		gpa_err_set(e, "internal: cert_fwid without certificate");
		return -1;
	}
	h = find_ext(leaf, OID_HOPPER, &hv, e);
	if (h < 0)
		return -1;
	b = find_ext(leaf, OID_BLACKWELL, &bv, e);
	if (b < 0)
		return -1;
	if (h == 1 && !parse_hopper(ASN1_STRING_get0_data(hv), (size_t)ASN1_STRING_length(hv),
	    hop, e))
		return -1;
	if (b == 1 && !parse_dice_tcb_info(ASN1_STRING_get0_data(bv),
	    (size_t)ASN1_STRING_length(bv), bw, e))
		return -1;
	/* Two FWIDs that disagree cannot both describe the firmware. */
	if (h == 1 && b == 1 && memcmp(hop, bw, FWID_LEN) != 0) {
		gpa_err_set(e, "extensions %s and %s carry different FWIDs", OID_HOPPER,
		    OID_BLACKWELL);
		return -1;
	}
	if (h == 0 && b == 0)
		return 0;
	memcpy(out, b == 1 ? bw : hop, FWID_LEN);
	return 1;
}
