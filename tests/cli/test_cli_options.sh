#!/usr/bin/env bash
# Every option of 'gpuattest help verify' and 'gpuattest help inspect' used
# for real on the recorded NVIDIA vectors: the exit code and the words that
# prove the option took effect. The first case checks that each option the
# help texts list is exercised somewhere in this file, so a new option
# without a test fails here.
#
# The RIM directories are built at run time in $TMP from ../shared; nothing
# is committed. The live-system cases expect a machine without an NVIDIA
# driver and are skipped where libnvidia-ml.so.1 can be loaded.
#
# Under the ASan+UBSan build (GPUATTEST=$PWD/build-san/gpuattest) a leak or
# sanitizer report changes the exit code, so the exit code checks catch it.
. "$(dirname "$0")/lib.sh"

AZ=$V/gpu/hopper_595.71.05_azure
OLD=$V/gpu/hopper_545.00_2023
AZ_NONCE=690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
DRV_ID=NV_GPU_DRIVER_GH100_595.71.05
VB_ID=NV_GPU_VBIOS_1010_0210_886_96009F0004
ROOT_DEV=$V/roots/nvidia_device_identity_ca.pem
ROOT_RIM=$V/roots/nvidia_corim_signing_root_ca.pem
ESC=$(printf '\033')

every_option_is_tested() {
	local cmd opt self
	# Only command lines count, not the messages that name an option.
	# Every CLI test script counts: the live and network options are exercised
	# by test_live_sim.sh and test_net_cli.sh.
	self=$(cat "$(dirname "$0")"/test_*.sh | grep -E '^[[:space:]]*(run_cli|azure|live|net_verify|--)|"\$GPUATTEST" [a-z]|--[a-z]')
	for cmd in verify inspect; do
		for opt in $("$GPUATTEST" help "$cmd" | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
			if grep -qE -- "(^|[^a-z-])$opt([^a-z-]|\$)" <<<"$self"; then ok; else
				bad "help $cmd lists $opt but no case uses it"
			fi
		done
	done
}

help_and_version() {
	local w
	run_cli --help
	expect_rc 0 "--help"
	for w in "usage: gpuattest" verify inspect version "0  verified" "1  the evidence does not satisfy" \
	    "2  bad usage" "3  could not complete"; do
		expect_out "$w" "--help mentions '$w'"
	done
	run_cli help
	expect_rc 0 "help"
	expect_out "Exit codes" "help: exit codes"
	run_cli help verify
	expect_rc 0 "help verify"
	expect_out "usage: gpuattest verify" "help verify: usage"
	for w in "0 verified" "1 the evidence does not satisfy" "2 bad" "3 could not complete"; do
		expect_out "$w" "help verify mentions exit code '$w'"
	done
	run_cli verify --help
	expect_rc 0 "verify --help"
	expect_out "usage: gpuattest verify" "verify --help: usage"
	run_cli help inspect
	expect_rc 0 "help inspect"
	expect_out "usage: gpuattest inspect" "help inspect: usage"
	run_cli inspect --help
	expect_rc 0 "inspect --help"
	expect_out "usage: gpuattest inspect" "inspect --help: usage"
	run_cli help no-such-command
	expect_rc 2 "help of an unknown command"
	expect_out "no-such-command" "help of an unknown command: names it"
	run_cli no-such-command
	expect_rc 2 "unknown command"
	expect_out "no-such-command" "unknown command: names it"

	# No arguments at all: the usage goes to stderr, stdout stays empty.
	local err
	out=$("$GPUATTEST" 2>/dev/null); rc=$?
	expect_rc 2 "no arguments"
	if [ -z "$out" ]; then ok; else bad "no arguments: stdout is not empty"; fi
	err=$("$GPUATTEST" 2>&1 >/dev/null)
	out=$err
	expect_out "usage: gpuattest" "no arguments: usage on stderr"

	local want
	want=$(sed -nE 's/^#define GPUATTEST_VERSION "(.*)"/\1/p' "$(dirname "$0")/../../include/gpuattest.h")
	run_cli version
	expect_rc 0 "version"
	expect_out "gpuattest $want" "version prints $want"
	run_cli --version
	expect_rc 0 "--version"
	expect_out "$want" "--version prints $want"
}

make_rim_dirs() {
	mkdir -p "$TMP/rims" "$TMP/rims-json" "$TMP/rims-545"
	cp "$V/rim/driver/$DRV_ID.xml" "$V/rim/vbios/$VB_ID.xml" "$TMP/rims/"
	# The RIM service's JSON reply, named as the RIM id, instead of the XML.
	cp "$V/rim/driver/rim-service-response_$DRV_ID.json" "$TMP/rims-json/$DRV_ID.json"
	cp "$V/rim/vbios/$VB_ID.xml" "$TMP/rims-json/"
	cp "$V/rim/driver/NV_GPU_DRIVER_GH100_545.00__Driver_RIM_test_no_gpu.swidtag" \
	    "$TMP/rims-545/NV_GPU_DRIVER_GH100_545.00.xml"
	cp "$V/rim/vbios/1010_0200_882_96005E0001_test_no_gpu.swidtag" \
	    "$TMP/rims-545/NV_GPU_VBIOS_1010_0200_882_96005E0001.xml"
}

# The nonce the Azure evidence was collected with, as a verifier passes it.
azure() { run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --nonce "$AZ_NONCE" "$@"; }

output_options() {
	azure --no-ocsp --format json
	expect_rc 0 "--format json"
	if python3 -m json.tool <<<"$out" >/dev/null 2>&1; then ok; else bad "--format json: not valid JSON"; fi
	expect_json 'd["result"]' pass "--format json"
	expect_json 'd["exit_code"]' 0 "--format json"
	expect_json 'd["revocation_checked"]' False "--format json"
	expect_json 'd["claims"][0]["x-nvidia-gpu-driver-version"]' 595.71.05 "--format json"
	expect_json 'd["claims"][0]["measres"]' success "--format json"
	expect_json 'd["claims"][0]["x-nvidia-gpu-attestation-report-cert-chain"]["x-nvidia-cert-ocsp-status"]' \
	    not-checked "--format json"
	azure --no-ocsp --format json --nonce 00"${AZ_NONCE:2}"
	expect_rc 1 "--format json on a failure"
	expect_json 'd["result"]' fail "--format json on a failure"
	expect_json 'd["exit_code"]' 1 "--format json on a failure"
	azure --no-ocsp --format text
	expect_rc 0 "--format text"
	expect_out "VERIFICATION SUCCESSFUL" "--format text"

	azure --no-ocsp --quiet
	expect_rc 0 "--quiet on success"
	if [ -z "$out" ]; then ok; else bad "--quiet on success printed something"; fi
	# A run that does not pass says why in one line on stderr, nothing on
	# stdout (issue 10.9; tests/cli/test_deadline.sh has every exit code).
	azure --no-ocsp --quiet --nonce 00"${AZ_NONCE:2}"
	expect_rc 1 "--quiet on failure"
	if [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]; then ok; else bad "--quiet on failure: not one line"; fi
	expect_out "gpuattest: VERIFICATION FAILED: GPU 0: " "--quiet on failure: the reason"
	azure --quiet
	expect_rc 3 "--quiet when revocation cannot be checked"
	if [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]; then ok; else bad "--quiet on incomplete: not one line"; fi
	expect_out "gpuattest: VERIFICATION INCOMPLETE: GPU 0: device certificate revocation could not be checked" \
		"--quiet on incomplete: the reason"
	run_cli_stdout verify --evidence "$AZ/gpu-evidence.json" --nonce "$AZ_NONCE" --quiet
	if [ -z "$out" ]; then ok; else bad "--quiet on incomplete: stdout not empty"; fi

	azure --no-ocsp --no-color
	expect_rc 0 "--no-color"
	expect_no_out "$ESC" "--no-color: no escape bytes"
	azure --no-ocsp --color
	expect_rc 0 "--color"
	expect_out "${ESC}[" "--color: escape sequences"
	expect_out "VERIFICATION SUCCESSFUL" "--color"
	# The last one wins.
	azure --no-ocsp --color --no-color
	expect_no_out "$ESC" "--color --no-color: no escape bytes"
}

time_and_nonce() {
	azure --no-ocsp --at 2024-01-01T00:00:00Z
	expect_rc 1 "--at before the RIM certificates"
	expect_out "Verification time 2024-01-01T00:00:00Z" "--at: the time used"
	expect_out "not yet valid" "--at: RIM certificates not yet valid"

	azure --no-ocsp --nonce "$AZ_NONCE"
	expect_rc 0 "--nonce equal to the evidence nonce"
	expect_no_out "freshness NOT proven" "--nonce: freshness proven"
	expect_no_out "freshness not proven" "--nonce: freshness proven (check line)"
	expect_out "report nonce matches" "--nonce: nonce check"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp
	expect_rc 3 "without --nonce: could not complete"
	expect_out "freshness NOT proven" "without --nonce: freshness not proven"

	azure --no-ocsp --nonce 00"${AZ_NONCE:2}"
	expect_rc 1 "--nonce with another value"
	expect_out "nonce does not match" "--nonce with another value: message"
}

revocation_and_trust() {
	azure
	expect_rc 3 "without --no-ocsp"
	expect_out "revocation could not be checked" "without --no-ocsp: message"
	expect_no_out "VERIFICATION SUCCESSFUL" "without --no-ocsp: no success"
	azure --no-ocsp
	expect_rc 0 "--no-ocsp"
	expect_out "revocation NOT checked" "--no-ocsp: says so"

	azure --no-ocsp --no-pinned-anchors
	expect_rc 2 "--no-pinned-anchors alone"
	expect_out "no trust anchors" "--no-pinned-anchors alone: message"
	azure --no-ocsp --no-pinned-anchors --trust-anchor "$ROOT_DEV" --trust-anchor "$ROOT_RIM"
	expect_rc 0 "--no-pinned-anchors with both roots as --trust-anchor"
	expect_out "VERIFICATION SUCCESSFUL" "--trust-anchor both roots"
	azure --no-ocsp --no-pinned-anchors --trust-anchor "$ROOT_DEV"
	expect_rc 1 "--no-pinned-anchors with the device root only"
	expect_out "RIM $DRV_ID certificate chain does not lead to a trusted anchor" \
	    "device root only: driver RIM chain untrusted"
	expect_out "RIM $VB_ID certificate chain does not lead to a trusted anchor" \
	    "device root only: VBIOS RIM chain untrusted"
	expect_out "device certificate chain valid" "device root only: device chain still valid"
	azure --no-ocsp --trust-anchor "$TMP/no-such-anchor.pem"
	expect_rc 2 "--trust-anchor that does not exist"
	expect_out "$TMP/no-such-anchor.pem" "--trust-anchor missing: names the file"
}

# Every --rim-dir given is searched, or the run refuses to start: the last
# accepted directory is used, and one more than the limit is bad usage
# (it used to be dropped without a word).
rim_dir_limit() {
	mkdir -p "$TMP/empty-1" "$TMP/empty-2"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/empty-1" --rim-dir "$TMP/only-vbios" \
	    --rim-dir "$TMP/only-driver" --no-ocsp --offline --nonce "$AZ_NONCE"
	expect_rc 0 "3 x --rim-dir, the driver RIM only in the 3rd"
	expect_out "$DRV_ID signature verified" "3 x --rim-dir: the driver RIM from the 3rd verified"
	local four=(--evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/empty-1" --rim-dir "$TMP/empty-2"
	    --rim-dir "$TMP/only-vbios" --rim-dir "$TMP/only-driver") cmd
	# fetch-collateral shares the option; loopback URLs that refuse keep a
	# run that went ahead short.
	for cmd in "verify --no-ocsp --offline" \
	    "fetch-collateral -o $TMP/limit-bundle.json --rim-url http://127.0.0.1:9 --ocsp-url http://127.0.0.1:9 --retries 0"; do
		# shellcheck disable=SC2086 # the command and its options split on purpose
		run_cli $cmd "${four[@]}"
		expect_rc 2 "$cmd: 4 x --rim-dir is bad usage, not a 4th directory ignored"
		expect_out "at most 3 RIM directories" "$cmd: 4 x --rim-dir: names the limit"
		expect_out "$TMP/only-driver" "$cmd: 4 x --rim-dir: names the directory refused"
		expect_no_out "VERIFICATION" "$cmd: 4 x --rim-dir: nothing verified"
	done
	if [ ! -e "$TMP/limit-bundle.json" ]; then ok; else bad "fetch-collateral, 4 x --rim-dir: wrote a bundle"; fi
}

report_and_rims() {
	run_cli verify --report "$OLD/attestation_report.hex.txt" --cert-chain "$OLD/cert_chain.pem.txt" \
	    --rim-dir "$TMP/rims-545" --no-ocsp --at 2024-01-01T00:00:00Z --insecure-accept-evidence-nonce
	expect_rc 0 "--report/--cert-chain 545.00 at 2024-01-01"
	expect_out "NV_GPU_DRIVER_GH100_545.00 signature verified" "--report 545.00: driver RIM"
	expect_out "VERIFICATION SUCCESSFUL" "--report 545.00 at 2024-01-01"
	run_cli verify --report "$OLD/attestation_report.hex.txt" --cert-chain "$OLD/cert_chain.pem.txt" \
	    --rim-dir "$TMP/rims-545" --no-ocsp
	expect_rc 1 "--report 545.00 now"
	expect_out "expired" "--report 545.00 now: RIM certificates expired"

	run_cli verify --report "$OLD/attestation_report.hex.txt" --evidence "$AZ/gpu-evidence.json"
	expect_rc 2 "--report with --evidence"

	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims-json" --no-ocsp --nonce "$AZ_NONCE"
	expect_rc 0 "--rim-dir with the RIM service JSON"
	expect_out "$DRV_ID signature verified" "RIM service JSON: driver RIM"
	expect_out "VERIFICATION SUCCESSFUL" "RIM service JSON"

	# Repeated --rim-dir: the driver RIM only in the second directory.
	mkdir -p "$TMP/only-vbios"
	cp "$V/rim/vbios/$VB_ID.xml" "$TMP/only-vbios/"
	mkdir -p "$TMP/only-driver"
	cp "$V/rim/driver/$DRV_ID.xml" "$TMP/only-driver/"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/only-vbios" --rim-dir "$TMP/only-driver" --no-ocsp --nonce "$AZ_NONCE"
	expect_rc 0 "--rim-dir repeated"
	rim_dir_limit
	run_cli verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/only-vbios" --no-ocsp
	expect_rc 3 "a RIM not in --rim-dir"
	expect_out "$DRV_ID is not available" "a RIM not in --rim-dir: message"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --no-ocsp
	expect_rc 3 "no --rim-dir"
	expect_out "--rim-dir" "no --rim-dir: hint"
}

inspect_cases() {
	run_cli inspect "$AZ/gpu-evidence.json"
	expect_rc 0 "inspect evidence (text)"
	expect_out "== GPU 0 ==" "inspect text: device header"
	expect_out "driver_rim_id: $DRV_ID" "inspect text: driver RIM id"
	expect_out "vbios_rim_id: $VB_ID" "inspect text: VBIOS RIM id"
	run_cli_stdout inspect "$AZ/gpu-evidence.json" --format json
	expect_rc 0 "inspect --format json"
	if python3 -m json.tool <<<"$out" >/dev/null 2>&1; then ok; else bad "inspect --format json: not valid JSON"; fi
	expect_json 'd["devices"][0]["derived"]["driver_rim_id"]' "$DRV_ID" "inspect --format json"
	expect_json 'd["devices"][0]["derived"]["vbios_rim_id"]' "$VB_ID" "inspect --format json"
	expect_json 'len(d["devices"])' 1 "inspect --format json"

	run_cli inspect "$OLD/attestation_report.hex.txt" --cert-chain "$OLD/cert_chain.pem.txt"
	expect_rc 0 "inspect raw hex report --cert-chain"
	expect_out "driver_rim_id: NV_GPU_DRIVER_GH100_545.00" "inspect raw report: driver RIM id"
	expect_out "vbios_rim_id: NV_GPU_VBIOS_1010_0200_882_96005E0001" "inspect raw report: VBIOS RIM id"
	expect_out "GH100 A01 GSP FMC LF" "inspect raw report --cert-chain: leaf certificate"
	run_cli inspect "$OLD/attestation_report.hex.txt"
	expect_rc 0 "inspect raw hex report without --cert-chain"
	expect_no_out "GH100 A01 GSP FMC LF" "inspect without --cert-chain: no certificate"

	run_cli inspect --switch "$V/switch/ls10_96.10.55.00.01/evidence.json"
	expect_rc 0 "inspect --switch"
	expect_out "== NVSwitch 0 ==" "inspect --switch: device header"
	expect_out "NV_SWITCH_BIOS_5612_0002_890_9610550001" "inspect --switch: BIOS RIM id"
	expect_out "96.10.55.00.01" "inspect --switch: BIOS version"
	expect_out "LS_10" "inspect --switch: switch certificate"
}

http_options() {
	# The RIMs come from the directory and revocation is skipped, so nothing
	# goes to the network: the options must be accepted and change nothing.
	azure --no-ocsp --service-key test-key --connect-timeout 1000 --timeout 2000 --retries 0
	expect_rc 0 "HTTP options accepted"
	azure --no-ocsp --retries 99
	expect_rc 2 "--retries 99 is refused"
	expect_out "--retries is at most 20" "--retries: says the limit"
	azure --no-ocsp --timeout abc
	expect_rc 2 "--timeout abc is refused"
	expect_out "not a non-negative number" "--timeout: says why"
	azure --no-ocsp --connect-timeout -5
	expect_rc 2 "--connect-timeout -5 is refused"
	GPUATTEST_HTTP_RETRIES=lots azure
	expect_rc 2 "a malformed GPUATTEST_HTTP_RETRIES is an error, not ignored"
}

live_system() {
	if ldconfig -p 2>/dev/null | grep -q 'libnvidia-ml\.so\.1'; then
		skip "an NVIDIA driver is installed: the no-driver cases do not apply"
		return
	fi
	out=$(env -u GPUATTEST_NVML_LIB "$GPUATTEST" verify 2>&1); rc=$?
	expect_rc 3 "verify with no driver"
	expect_out "no NVIDIA driver" "verify with no driver: message"
	expect_out "--evidence" "verify with no driver: hint"
	run_cli verify --nvml-lib /nonexistent.so
	expect_rc 3 "verify --nvml-lib /nonexistent.so"
	expect_out "/nonexistent.so" "--nvml-lib: names the library"
	out=$(GPUATTEST_NVML_LIB=/nonexistent.so "$GPUATTEST" verify 2>&1); rc=$?
	expect_rc 3 "GPUATTEST_NVML_LIB=/nonexistent.so"
	expect_out "/nonexistent.so" "GPUATTEST_NVML_LIB: names the library"
}

main() {
	every_option_is_tested
	help_and_version
	live_system
	need_shared || return 0
	make_rim_dirs
	output_options
	time_and_nonce
	revocation_and_trust
	report_and_rims
	inspect_cases
	http_options
}

main
finish
