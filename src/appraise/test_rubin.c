/*
 * Rubin (attestation-formats.md §16.4, issue 11 point 4): NVIDIA's real
 * Rubin device chain (vectors/nvidia-2.0/gpu/rubinCertChain.txt) validates
 * to the pinned NVIDIA Device Identity CA and yields the hwmodel, ueid and
 * FWID its MANIFEST states; "RUBIN" is accepted as an evidence arch in any
 * case; and there is no SWID RIM id for Rubin, said, never guessed. The
 * verdict for Rubin evidence (exit 3) is tested end to end with a
 * simulated Rubin chain in tests/cli/test_sim_nvdaod.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "spdm/spdm.h"
#include "x509/x509.h"

#define RUBIN_CHAIN "vectors/nvidia-2.0/gpu/rubinCertChain.txt"

static void test_rubin_chain(void)
{
	SHARED_OR_SKIP(p, RUBIN_CHAIN);
	struct gpa_err e = {{0}};
	struct gpa_anchors *pinned = anchors_new(true, &e);
	struct gpa_chain_result cr;
	uint8_t *pem, fwid[GPA_FWID_LEN];
	size_t len;
	STACK_OF(X509) *chain;
	char *cn, *ueid, hex[2 * GPA_FWID_LEN + 1];
	time_t at = 1795824000;	/* 2026-11-28, the MANIFEST's reference date */

	CHECK(pinned != NULL);
	CHECK(file_read(p, 1 << 16, &pem, &len, &e) == 0);
	chain = chain_from_pem((const char *)pem, len, 8, &e);
	CHECK(chain != NULL);
	if (chain == NULL || pinned == NULL) {
		free(pem);
		anchors_free(pinned);
		return;
	}
	CHECK_INT(sk_X509_num(chain), 5);
	memset(&cr, 0, sizeof(cr));
	CHECK_INT(chain_validate(pinned, GPA_ANCHOR_DEVICE, chain, at, &cr, &e), 0);
	CHECK_INT(cr.status, GPA_CERT_VALID);
	chain_result_clear(&cr);
	/* Not a RIM chain: the CoRIM root does not sign it. */
	memset(&cr, 0, sizeof(cr));
	CHECK_INT(chain_validate(pinned, GPA_ANCHOR_RIM, chain, at, &cr, &e), 0);
	CHECK_INT(cr.status, GPA_CERT_INVALID);
	chain_result_clear(&cr);

	cn = cert_subject_cn(sk_X509_value(chain, 1));
	CHECK_STREQ(cn, "GR100 A01 GSP BROM");
	CHECK_INT(arch_from_hwmodel(cn), GPA_ARCH_RUBIN);
	free(cn);
	ueid = cert_serial_decimal(sk_X509_value(chain, 0));
	CHECK_STREQ(ueid, "508711946183602197516942600271989702448219599912");
	free(ueid);
	/* FWID as Blackwell: the first FWID of the leaf's DiceTcbInfo. */
	CHECK_INT(cert_fwid(sk_X509_value(chain, 0), fwid, &e), 1);
	hex_encode(fwid, GPA_FWID_LEN, hex);
	CHECK_STREQ(hex, "eaa28818139fb5d67e4d1b5c86e45ba257176ad309d905b9ef7fb30716919bdae88624edd7df0e6f671e648e36c22cf5");
	sk_X509_pop_free(chain, X509_free);
	free(pem);
	anchors_free(pinned);
}

static void test_rubin_names(void)
{
	struct report_info info;
	struct gpa_err e = {{0}};

	CHECK_INT(arch_from_string("RUBIN"), GPA_ARCH_RUBIN);
	CHECK_INT(arch_from_string("Rubin"), GPA_ARCH_RUBIN);
	CHECK_INT(arch_from_string("rubin"), GPA_ARCH_RUBIN);
	CHECK_INT(arch_from_string("RUBIN "), GPA_ARCH_UNKNOWN);
	CHECK_STREQ(arch_name(GPA_ARCH_RUBIN), "RUBIN");
	CHECK_INT(arch_from_hwmodel("GR100 A01 GSP BROM"), GPA_ARCH_RUBIN);
	CHECK_INT(arch_from_hwmodel("GRX00 A01 GSP BROM"), GPA_ARCH_UNKNOWN);
	/* NVML's architecture number for Rubin is not known: not guessed. */
	CHECK_INT(arch_from_nvml(11), GPA_ARCH_UNKNOWN);
	memset(&info, 0, sizeof(info));
	info.kind = GPA_DEV_GPU;
	strcpy(info.driver_version, "620.54");
	strcpy(info.vbios_version, "99.00.23.00.00");
	strcpy(info.project, "G550");
	strcpy(info.project_sku, "0200");
	strcpy(info.chip_sku, "887");
	strcpy(info.chip_info, "GR100");
	CHECK_INT(report_rim_ids(&info, GPA_ARCH_RUBIN, &e), SPDM_ERR_UNSUPPORTED);
	CHECK_STREQ(e.msg, "no reference manifest scheme for Rubin in this version");
	CHECK_STREQ(info.driver_rim_id, "");
	CHECK_STREQ(info.vbios_rim_id, "");
}

int main(void)
{
	RUN(test_rubin_chain);
	RUN(test_rubin_names);
	return harness_done("rubin");
}
