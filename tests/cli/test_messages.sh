#!/usr/bin/env bash
# Messages that say what to do (issue 14.6), on NVIDIA's recorded vectors:
#   - a JSON evidence file given to --report stops as unreadable input
#     (exit 2) naming the file and --evidence, never "signature INVALID";
#   - a PEM chain or a raw report (binary or hex) given to --evidence says
#     which options fit (--report / --cert-chain), exit 2; a JSON file given
#     to --cert-chain likewise;
#   - --evidence - and inspect - read standard input;
#   - a wrong nonce shows both values, expected and found;
#   - inspect recognises NVSwitch evidence without --switch;
#   - --rim-dir finds RIMs under NVIDIA's file names (<id>.swidtag, NVIDIA's
#     VBIOS file names), --driver-rim / --vbios-rim take one file each, and
#     a RIM not found names every file name looked for.
. "$(dirname "$0")/lib.sh"

AZ=$V/gpu/hopper_595.71.05_azure
AZ_NONCE=690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
DRV_ID=NV_GPU_DRIVER_GH100_595.71.05
VB_ID=NV_GPU_VBIOS_1010_0210_886_96009F0004
SW=$V/switch/ls10_96.10.55.00.01
H590=$V/gpu/hopper_590.12

# az ARGS...: NVIDIA's Azure evidence with its nonce, RIMs as ARGS say.
az() { run_cli verify --nonce "$AZ_NONCE" --no-ocsp "$@"; }

wrong_option() {
	run_safe verify --report "$AZ/gpu-evidence.json" --cert-chain "$AZ/cert_chain.pem" --no-ocsp
	expect_rc 2 "JSON evidence given to --report"
	expect_out "$AZ/gpu-evidence.json is JSON evidence: use --evidence $AZ/gpu-evidence.json" \
		"JSON to --report: the file and the option that fits"
	expect_no_out "signature INVALID" "JSON to --report: not judged as a report"
	expect_no_out "VERIFICATION FAILED" "JSON to --report: no verdict"
	run_safe verify --report "$AZ/attestation_report.bin" --cert-chain "$AZ/gpu-evidence.json" --no-ocsp
	expect_rc 2 "JSON evidence given to --cert-chain"
	expect_out "$AZ/gpu-evidence.json is JSON evidence, not a PEM certificate chain: use --evidence" \
		"JSON to --cert-chain: says so"
	run_safe verify --report "$AZ/cert_chain.pem" --cert-chain "$AZ/cert_chain.pem" --no-ocsp
	expect_rc 2 "a PEM chain given to --report"
	expect_out "$AZ/cert_chain.pem is a PEM file, not a report: give the certificate chain with --cert-chain" \
		"PEM to --report: says so"

	run_safe verify --evidence "$AZ/cert_chain.pem" --no-ocsp
	expect_rc 2 "a PEM chain given to --evidence"
	expect_out "$AZ/cert_chain.pem is a PEM file (a certificate chain?), not JSON evidence: a raw report and its chain go with --report REPORT --cert-chain $AZ/cert_chain.pem" \
		"PEM to --evidence: the options that fit"
	run_safe verify --evidence "$AZ/attestation_report.bin" --no-ocsp
	expect_rc 2 "a raw binary report given to --evidence"
	expect_out "$AZ/attestation_report.bin is a raw attestation report (binary), not JSON evidence: use --report $AZ/attestation_report.bin --cert-chain CHAIN.pem" \
		"binary report to --evidence: the options that fit"
	run_safe verify --evidence "$SW/attestation_report.hex.txt" --no-ocsp
	expect_rc 2 "a hex report given to --evidence"
	expect_out "is a raw attestation report (hex text), not JSON evidence: use --report" \
		"hex report to --evidence: the options that fit"
	run_safe verify --switch-evidence "$SW/cert_chain.pem.txt" --no-ocsp
	expect_rc 2 "a PEM chain given to --switch-evidence"
	expect_out "not JSON evidence" "PEM to --switch-evidence: says so"
}

from_stdin() {
	out=$("$GPUATTEST" verify --evidence - --nonce "$AZ_NONCE" --no-ocsp --rim-dir "$TMP/rims" \
		<"$AZ/gpu-evidence.json" 2>&1); rc=$?
	expect_rc 0 "--evidence - reads standard input"
	expect_out "VERIFICATION SUCCESSFUL" "--evidence -: verified"
	out=$("$GPUATTEST" verify --evidence - --nonce "$AZ_NONCE" --no-ocsp <"$AZ/cert_chain.pem" 2>&1); rc=$?
	expect_rc 2 "--evidence - with a PEM chain on standard input"
	expect_out "standard input is a PEM file" "--evidence - with a PEM chain: named as standard input"
	out=$("$GPUATTEST" verify --report - --cert-chain "$AZ/cert_chain.pem" --nonce "$AZ_NONCE" --no-ocsp \
		--rim-dir "$TMP/rims" <"$AZ/attestation_report.bin" 2>&1); rc=$?
	expect_rc 0 "--report - reads the report from standard input"
	run_cli verify --evidence - --switch-evidence - --no-ocsp
	expect_rc 2 "--evidence - and --switch-evidence - together"
	expect_out "standard input (-) can hold only one" "both from standard input: refused"
	out=$("$GPUATTEST" inspect - <"$AZ/gpu-evidence.json" 2>&1); rc=$?
	expect_rc 0 "inspect - reads evidence JSON from standard input"
	expect_out "$DRV_ID" "inspect -: the driver RIM id"
	out=$("$GPUATTEST" inspect - --format json <"$SW/attestation_report.hex.txt" 2>&1); rc=$?
	expect_rc 0 "inspect - reads a hex report from standard input"
	expect_json 'd["devices"][0]["kind"]' switch "inspect - of a switch report: recognised as a switch"
}

wrong_nonce() {
	local want
	want=$(printf '%064d' 7)
	az --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --nonce "$want"
	expect_rc 1 "a wrong nonce"
	expect_out "report nonce does not match: expected $want, the report has $AZ_NONCE" \
		"a wrong nonce: both values"
	# The evidence file's own nonce field disagreeing with the report's.
	python3 - "$AZ/gpu-evidence.json" "$TMP/othernonce.json" "$want" <<-'EOF'
	import json, sys
	d = json.load(open(sys.argv[1]))
	d["nonce"] = sys.argv[3]
	json.dump(d, open(sys.argv[2], "w"))
	EOF
	az --evidence "$TMP/othernonce.json" --rim-dir "$TMP/rims"
	expect_rc 1 "the evidence file's nonce is not the expected one"
	expect_out "evidence nonce does not match: expected $AZ_NONCE, the evidence file says $want" \
		"the evidence file's nonce: both values"
}

inspect_switch() {
	run_cli inspect "$SW/evidence.json"
	expect_rc 0 "inspect of NVSwitch evidence without --switch"
	expect_out "== NVSwitch 0 ==" "inspect: switch evidence recognised (arch LS10)"
	expect_out "NV_SWITCH_BIOS_5612_0002_890_9610550001" "inspect: the switch BIOS RIM id"
	expect_no_out "DRIVER_VERSION (type 3) is missing" "inspect: not read as a GPU"
	run_cli inspect "$SW/attestation_report.hex.txt" --cert-chain "$SW/cert_chain.pem.txt"
	expect_rc 0 "inspect of a raw switch report with its chain"
	expect_out "== NVSwitch 0 ==" "inspect: raw switch report recognised by its BROM certificate"
	run_cli inspect "$SW/attestation_report.hex.txt" --format json
	expect_json 'd["devices"][0]["kind"]' switch "inspect: raw switch report alone recognised by its opaque data"
	run_cli inspect "$AZ/gpu-evidence.json"
	expect_out "== GPU 0 ==" "inspect: GPU evidence stays GPU"
	run_cli inspect "$SW/evidence.json" --switch
	expect_out "== NVSwitch 0 ==" "inspect --switch still works"
}

rim_names() {
	local nv=$TMP/nvnames
	mkdir -p "$nv"
	cp "$V/rim/driver/$DRV_ID.xml" "$nv/$DRV_ID.swidtag"
	cp "$V/rim/vbios/$VB_ID.xml" "$nv/1010_0210_886_96009F0004_PROD.swidtag"
	# --offline, and no other directory: a pass means both were found there.
	az --evidence "$AZ/gpu-evidence.json" --rim-dir "$nv" --offline
	expect_rc 0 "--rim-dir with NVIDIA's file names"
	expect_out "all 22 driver and 12 VBIOS active measurements match" "NVIDIA's names: both RIMs used"

	mkdir -p "$TMP/empty"
	run_cli verify --evidence "$H590/evidence.json" --insecure-accept-evidence-nonce --no-ocsp --offline \
		--rim-dir "$TMP/empty"
	expect_rc 3 "RIMs not found"
	expect_out "none of NV_GPU_DRIVER_GH100_590.12.xml, NV_GPU_DRIVER_GH100_590.12.json, NV_GPU_DRIVER_GH100_590.12.swidtag" \
		"driver RIM not found: every file name looked for"
	expect_out "none of NV_GPU_VBIOS_G520_0200_885_9600A50001.xml, NV_GPU_VBIOS_G520_0200_885_9600A50001.json, NV_GPU_VBIOS_G520_0200_885_9600A50001.swidtag, g520_0200_885_9600A50001_PROD.swidtag, G520_0200_885_9600A50001_PROD.swidtag" \
		"VBIOS RIM not found: every file name looked for, NVIDIA's included"
	expect_out ".swidtag in $TMP/empty; not in" "RIMs not found: the directory named"

	az --evidence "$AZ/gpu-evidence.json" --driver-rim "$V/rim/driver/$DRV_ID.xml" \
		--vbios-rim "$V/rim/vbios/$VB_ID.xml" --offline
	expect_rc 0 "--driver-rim and --vbios-rim (offline, no directory: the files were used)"
	az --evidence "$AZ/gpu-evidence.json" --driver-rim "$V/rim/driver/NV_GPU_DRIVER_GH100_550.144.03.xml" \
		--rim-dir "$TMP/rims" --offline
	expect_rc 1 "--driver-rim of another driver version"
	expect_out "550.144.03" "--driver-rim of another version: the version named"
	az --evidence "$AZ/gpu-evidence.json" --vbios-rim "$V/rim/vbios/$VB_ID.xml" --rim-dir "$TMP/rims" --offline
	expect_rc 0 "--vbios-rim with the driver RIM from --rim-dir"
	az --evidence "$AZ/gpu-evidence.json" --driver-rim "$TMP/nonexistent.xml"
	expect_rc 2 "--driver-rim that cannot be read"
	expect_out "--driver-rim $TMP/nonexistent.xml: cannot read it" "--driver-rim unreadable: the message"
}

if need_shared; then
	mkdir -p "$TMP/rims"
	cp "$V/rim/driver/$DRV_ID.xml" "$V/rim/vbios/$VB_ID.xml" "$TMP/rims/"
	wrong_option
	from_stdin
	wrong_nonce
	inspect_switch
	rim_names
fi
finish
