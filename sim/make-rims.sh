#!/usr/bin/env bash
# make-rims.sh OUTDIR DRIVER_VERSION VBIOS_VERSION PROJECT PROJECT_SKU CHIP_SKU [SWITCH_BIOS_VERSION]
#
# Writes SIMULATION reference integrity manifests (RIMs) for the simulated
# GPUs/switches into OUTDIR/rims/<RIM id>.xml, in the shape of NVIDIA's SWID
# tags (fact sheet §7.3) with an enveloped XMLDSig made by `xmlsec1 --sign`
# (§7.4), signed by the RIM signer of the PKI that sim/make-pki.sh built in
# the same OUTDIR.
#
# Owns: OUTDIR/rims/. Must never need the network or NVIDIA material.
#
# Golden values are a pure function of (component, version, index, alt):
#   Hash<alt> = SHA-384("gpuattest-sim|<component>|<version>|<index>|<alt>")
# with component driver (version = driver version as given), vbios (version =
# VBIOS version upper-cased, dotted) or switch (BIOS version as given). The
# simulator libraries compute the same values, so they never read RIMs.
# Active indices (0-based RIM index = SPDM block index - 1):
#   driver: 7, 21..40      (35 has 2 alternatives)
#   vbios:  0..6, 8..12    (12 has 4 alternatives)
#   switch: 0..30          (9..25 have 4 alternatives)
# Every RIM has 64 Resource entries (inactive ones carry a zero Hash0), as
# NVIDIA's GPU and LS10 RIMs do. With SIM_RIM_CONFLICT=1 in the environment
# the VBIOS RIM also marks index 7 active, which the driver RIM already
# does: an index conflict, for testing that check.
#
# Opaque-data reference values (NVIDIA's "ns3" records, fact sheet §16.2):
# SIM_VBIOS_OPAQUE and SIM_DRIVER_OPAQUE, each a space-separated list of
# ID:MINSVN:NAME[:INCLUDE] (INCLUDE True or False, default True), add to the
# VBIOS / driver RIM one active record per item: index 4096+ID,
# ns3:minSvn=MINSVN, name=NAME, ns3:includeInResult=INCLUDE. E.g.
#   SIM_VBIOS_OPAQUE="37:1:fsp_ucode_svn" sim/make-rims.sh ...
# (the simulator's NVDAOD reports carry FSP_UCODE_SVN, id 37).
set -euo pipefail

if [ $# -lt 6 ] || [ $# -gt 7 ]; then
	echo "usage: $0 OUTDIR DRIVER_VERSION VBIOS_VERSION PROJECT PROJECT_SKU CHIP_SKU [SWITCH_BIOS_VERSION]" >&2
	exit 2
fi
OUT=$1 DRV=$2 VBIOS=$(printf '%s' "$3" | tr 'a-f' 'A-F') PROJ=$4 PSKU=$5 CSKU=$6 SWBIOS=${7:-}

die() { echo "$0: $*" >&2; exit 1; }
[[ $DRV =~ ^[0-9]+(\.[0-9]+)+$ ]] || die "bad driver version '$DRV'"
[[ $VBIOS =~ ^[0-9A-F]{2}(\.[0-9A-F]{2}){4}$ ]] || die "bad VBIOS version '$VBIOS' (want 96.00.9F.00.04 form)"
[[ $PROJ =~ ^[A-Za-z0-9]{1,4}$ ]] || die "bad PROJECT '$PROJ' (1-4 alphanumerics)"
[[ $PSKU =~ ^[A-Za-z0-9]{1,4}$ ]] || die "bad PROJECT_SKU '$PSKU' (1-4 alphanumerics)"
[[ $CSKU =~ ^[A-Za-z0-9]{1,8}$ ]] || die "bad CHIP_SKU '$CSKU' (1-8 alphanumerics)"
[ -z "$SWBIOS" ] || [[ $SWBIOS =~ ^[0-9A-Fa-f]{2}(\.[0-9A-Fa-f]{2}){4}$ ]] || die "bad switch BIOS version '$SWBIOS'"

RIMPKI=$OUT/rim
for f in "$RIMPKI/signer.key" "$RIMPKI/signer.crt" "$OUT/ca/rim-l3/ca.crt" "$OUT/ca/rim-ca/ca.crt" \
	"$OUT/ca/rim-root/ca.crt"; do
	[ -s "$f" ] || die "missing $f (run sim/make-pki.sh $OUT first)"
done
mkdir -p "$OUT/rims"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

golden() { printf 'gpuattest-sim|%s|%s|%s|%s' "$1" "$2" "$3" "$4" | sha384sum | cut -d' ' -f1; }
ZERO=$(printf '0%.0s' $(seq 1 96))

# alternatives COMPONENT INDEX -> 0 (inactive) or the number of golden values.
alternatives() {
	local c=$1 i=$2
	case $c in
	driver)
		if [ "$i" -eq 35 ]; then echo 2
		elif [ "$i" -eq 7 ] || { [ "$i" -ge 21 ] && [ "$i" -le 40 ]; }; then echo 1
		else echo 0; fi ;;
	vbios)
		if [ "$i" -eq 12 ]; then echo 4
		elif [ "$i" -le 12 ] && { [ "$i" -ne 7 ] || [ "${SIM_RIM_CONFLICT:-0}" = 1 ]; }; then echo 1
		else echo 0; fi ;;
	switch)
		if [ "$i" -ge 9 ] && [ "$i" -le 25 ]; then echo 4
		elif [ "$i" -le 30 ]; then echo 1
		else echo 0; fi ;;
	esac
}

NS3=https://docs.nvidia.com/attestation/specs/latest/opaque-data.html

# opaque_records COMPONENT: the ns3 records of that RIM, one per line.
opaque_records() {
	local list item id min name inc
	case $1 in vbios) list=${SIM_VBIOS_OPAQUE:-} ;; driver) list=${SIM_DRIVER_OPAQUE:-} ;; *) list= ;; esac
	for item in $list; do
		IFS=: read -r id min name inc <<<"$item"
		[[ $id =~ ^[0-9]+$ && $id -le 65535 && $min =~ ^[0-9]+$ && $name =~ ^[A-Za-z0-9_.-]+$ ]] ||
			die "bad opaque record '$item' (want ID:MINSVN:NAME[:True|False])"
		printf '        <ns0:Resource type="Measurement" index="%d" active="True" name="%s" ns3:minSvn="%s" ns3:includeInResult="%s"/>\n' \
			$((4096 + id)) "$name" "$min" "${inc:-True}"
	done
}

resource_name() {
	local c=$1 i=$2
	if { [ "$c" = vbios ] && [ "$i" -ge 1 ] && [ "$i" -le 6 ]; } ||
		{ [ "$c" = switch ] && { [ "$i" -le 3 ] || [ "$i" -eq 27 ]; }; }; then
		echo "HashedMeasurement_${i}_FSP"
	else
		echo "Measurement_$i"
	fi
}

# write_template FILE ID COMPONENT VERSION PRODUCT EDITION
write_template() {
	local f=$1 id=$2 comp=$3 ver=$4 product=$5 edition=$6 tag i n a hashes active recs
	tag=$(printf 'gpuattest-sim|tag|%s' "$id" | sha384sum | cut -d' ' -f1)
	{
		printf '<SoftwareIdentity xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd" xmlns:ns0="http://standards.iso.org/iso/19770/-2/2015/schema.xsd" xmlns:ns2="http://www.w3.org/2001/04/xmlenc#sha384" corpus="false" name="%s" patch="false" supplemental="false" tagId="%s" version="1.0" tagVersion="0">\n' "$product" "$tag"
		printf '    <ns0:Entity name="gpuattest SIMULATION" role="softwareCreator tagCreator"/>\n'
		printf '    <ns0:Meta xmlns:ns1="https://trustedcomputinggroup.org/resource/tcg-reference-integrity-manifest-rim-information-model/" colloquialVersion="%s" edition="%s" product="%s" revision="r1" PayloadType="direct" ns1:BindingSpec="RIMIM" ns1:BindingSpecVersion="1.01" ns1:PlatformManufacturerId="5703" ns1:PlatformManufacturerStr="gpuattest SIMULATION" ns1:PlatformModel="%s" ns1:FirmwareManufacturer="gpuattest SIMULATION" ns1:FirmwareManufacturerId="5703"/>\n' "$ver" "$edition" "$product" "$product"
		recs=$(opaque_records "$comp")
		printf '    <ns0:Payload xmlns:SHA384="http://www.w3.org/2001/04/xmlenc#sha384"%s>\n' \
			"${recs:+ xmlns:ns3=\"$NS3\"}"
		for ((i = 0; i < 64; i++)); do
			n=$(alternatives "$comp" "$i")
			if [ "$n" -eq 0 ]; then
				active=False hashes=" ns2:Hash0=\"$ZERO\"" n=1
			else
				active=True hashes=""
				for ((a = 0; a < n; a++)); do
					hashes+=" ns2:Hash$a=\"$(golden "$comp" "$ver" "$i" "$a")\""
				done
			fi
			printf '        <ns0:Resource type="Measurement" index="%d" active="%s" alternatives="%d"%s name="%s" size="48"/>\n' \
				"$i" "$active" "$n" "$hashes" "$(resource_name "$comp" "$i")"
		done
		[ -z "$recs" ] || printf '%s\n' "$recs"
		printf '    </ns0:Payload>\n'
		printf '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2006/12/xml-c14n11"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"/><ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2006/12/xml-c14n11"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#sha384"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data></ds:X509Data></ds:KeyInfo></ds:Signature></SoftwareIdentity>\n'
	} >"$f"
}

# make_rim ID COMPONENT VERSION PRODUCT EDITION
make_rim() {
	local id=$1 tmpl=$TMP/$1.tmpl.xml out=$OUT/rims/$1.xml
	write_template "$tmpl" "$@"
	xmlsec1 --sign --privkey-pem \
		"$RIMPKI/signer.key,$RIMPKI/signer.crt,$OUT/ca/rim-l3/ca.crt,$OUT/ca/rim-ca/ca.crt,$OUT/ca/rim-root/ca.crt" \
		--output "$TMP/$id.signed" "$tmpl" 2>"$TMP/err" || { cat "$TMP/err" >&2; die "signing $id failed"; }
	# NVIDIA's RIMs start directly with <SoftwareIdentity>; the declaration is
	# outside the signed canonical form, so dropping it keeps the signature.
	sed '1{/^<?xml/d;}' "$TMP/$id.signed" >"$TMP/$id.xml"
	xmlsec1 --verify --trusted-pem "$OUT/ca/rim-root/ca.crt" --enabled-key-data x509 \
		"$TMP/$id.xml" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; die "verifying $id failed"; }
	mv "$TMP/$id.xml" "$out"
}

make_rim "NV_GPU_DRIVER_GH100_$DRV" driver "$DRV" GH100 GPU
make_rim "NV_GPU_VBIOS_${PROJ}_${PSKU}_${CSKU}_${VBIOS//./}" vbios "$VBIOS" GH100 GPU
if [ -n "$SWBIOS" ]; then
	SWU=$(printf '%s' "$SWBIOS" | tr 'a-f' 'A-F')
	make_rim "NV_SWITCH_BIOS_5612_0002_890_${SWU//./}" switch "$SWBIOS" LS10 SWITCH
fi
