#!/usr/bin/env bash
# Acceptance of the live path: 'gpuattest verify' and 'gpuattest collect'
# without --evidence, through a real dlopen of the SIMULATED NVML library
# ($BUILD/sim/libnvidia-ml-sim.so, see sim/README.md). Every injected fault
# must fail with its own message and exit code; the ready state must move
# only as --set-ready promises; real recorded NVIDIA evidence replayed
# through the simulator must verify against the real pinned anchors.
#
# The simulated devices chain to a test PKI made at run time in $TMP
# (sim/make-sim-env.sh), so these cases trust only its roots
# (--no-pinned-anchors --trust-anchor ...), never NVIDIA's. Only the replay
# case uses NVIDIA's anchors, because its evidence is NVIDIA's.
#
# Under the ASan+UBSan build (BUILD=build-san GPUATTEST=$PWD/build-san/gpuattest)
# the simulator of the same build dir is sanitized too, and a leak or
# sanitizer report changes the exit code, which the exit code checks catch.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) BDIR=$BUILD ;; *) BDIR=$ROOT/$BUILD ;; esac
SIMLIB=$BDIR/sim/libnvidia-ml-sim.so
D=$TMP/sim
AZ=$V/gpu/hopper_595.71.05_azure
AZ_NONCE=690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
SIM_TRUST=(--no-pinned-anchors --trust-anchor "$D/root.pem" --trust-anchor "$D/rim/root.pem"
	--rim-dir "$D/rims" --no-ocsp)

# live ARGS...: verify the simulated system, trusting only the test PKI.
live() { run_cli verify --nvml-lib "$SIMLIB" "${SIM_TRUST[@]}" "$@"; }

setup() {
	if [ ! -f "$SIMLIB" ]; then
		out="" rc=1
		bad "simulator not built: $SIMLIB (make BUILD=$BUILD)"
		return 1
	fi
	if ! out=$("$ROOT/sim/make-sim-env.sh" "$D" 8 4 2>&1); then
		rc=1
		bad "sim/make-sim-env.sh failed"
		return 1
	fi
	eval "$out"
}

pass_one_and_eight() {
	local n1 n2
	cfg one '{"gpus": 1}'
	live
	expect_rc 0 "1 GPU"
	expect_out "VERIFICATION SUCCESSFUL" "1 GPU: verdict"
	# The test PKI is named as such: never "genuine NVIDIA" under it.
	expect_out "This system has 1 GPU(s) verified under test anchor CN=gpuattest SIM Device Identity CA (sha256 " \
	    "1 GPU: summary names the test anchor"
	expect_out "(not NVIDIA's root) with Confidential Computing features enabled and operational." \
	    "1 GPU: summary says it is not NVIDIA's root"
	expect_no_out "genuine NVIDIA" "1 GPU under the test PKI: never 'genuine NVIDIA'"
	expect_out "[non-nvidia-anchor] device identity chains were validated under anchor CN=gpuattest SIM Device Identity CA" \
	    "1 GPU: the test device anchor is a weakening"
	expect_out "[non-nvidia-anchor] RIM signing chains were validated under anchor CN=gpuattest SIM CoRIM signing Root CA" \
	    "1 GPU: the test RIM anchor is a weakening"

	cfg eight '{}'
	live
	expect_rc 0 "8 GPUs"
	expect_out "VERIFICATION SUCCESSFUL" "8 GPUs: verdict"
	expect_out "This system has 8 GPU(s) verified under test anchor CN=gpuattest SIM Device Identity CA" \
	    "8 GPUs: summary"
	expect_out "(fresh, from the OS random source)" "8 GPUs: nonce origin shown"
	expect_no_out "[FAIL]" "8 GPUs: no failed check"

	live --format json
	expect_rc 0 "8 GPUs, json"
	expect_json 'd["result"]' pass "json: result"
	expect_json 'd["exit_code"]' 0 "json: exit_code"
	expect_json 'len(d["devices"])' 8 "json: devices"
	expect_json 'd["genuine_gpus"]' 8 "json: genuine_gpus"
	expect_json 'd["nonce_source"]' generated "json: nonce_source"
	expect_json 'd["system"]["cc_mode"]' True "json: system.cc_mode"
	expect_json 'd["system"]["protected_pcie"]' False "json: system.protected_pcie"
	expect_json 'd["system"]["gpus"]' 8 "json: system.gpus"
	expect_json 'sorted({c["outcome"] for x in d["devices"] for c in x["checks"]})' "['pass', 'skipped']" \
	    "json: every device check passed (revocation skipped)"
	n1=$(json_get 'd["nonce"]')
	live --format json
	n2=$(json_get 'd["nonce"]')
	if [[ "$n1" =~ ^[0-9a-f]{64}$ ]] && [[ "$n2" =~ ^[0-9a-f]{64}$ ]] && [ "$n1" != "$n2" ]; then ok; else
		bad "two runs: nonces '$n1' and '$n2' should be two different 64-hex-digit values"
	fi

	live --nonce "$AZ_NONCE" --format json
	expect_rc 0 "--nonce on the live path"
	expect_json 'd["nonce"]' "$AZ_NONCE" "--nonce: used"
	expect_json 'd["nonce_source"] != "generated"' True "--nonce: not reported as generated"

	live --quiet
	expect_rc 0 "--quiet pass"
	if [ -z "$out" ]; then ok; else bad "--quiet printed something"; fi
}

device_faults() {
	# RIMs that both claim index 7 (validly signed by the test PKI).
	cp -r "$D" "$TMP/conflict"
	if SIM_RIM_CONFLICT=1 "$ROOT/sim/make-rims.sh" "$TMP/conflict" 595.71.05 96.00.9F.00.04 1010 0210 886 \
	    >/dev/null 2>&1; then
		cfg base '{}'
		run_cli verify --nvml-lib "$SIMLIB" --no-pinned-anchors --trust-anchor "$D/root.pem" \
		    --trust-anchor "$D/rim/root.pem" --rim-dir "$TMP/conflict/rims" --no-ocsp
		expect_rc 1 "index active in both RIMs"
		expect_out "index 7 is active in both the driver and the VBIOS RIM" "index conflict: message"
	else
		bad "make-rims.sh with SIM_RIM_CONFLICT=1 failed"
	fi

	fault tamper '{"kind": "tampered_measurement", "index": 22, "gpu": 3}'
	live
	expect_rc 1 "tampered_measurement"
	expect_out "VERIFICATION FAILED" "tampered_measurement: verdict"
	expect_out "1 measurement(s) do not match the RIMs: index driver 22" "tampered_measurement: index named"
	live --format json
	expect_json '[x["verdict"] for x in d["devices"]].count("pass")' 7 "tampered_measurement: the 7 others pass"
	expect_json 'd["devices"][3]["verdict"]' fail "tampered_measurement: GPU 3 fails"
	expect_json 'd["genuine_gpus"]' 7 "tampered_measurement: 7 genuine"

	fault tamper_vbios '{"kind": "tampered_measurement", "index": 12, "gpu": 0}'
	live
	expect_rc 1 "tampered VBIOS measurement"
	expect_out "do not match the RIMs: index VBIOS 12" "tampered VBIOS measurement: index named"

	fault nonce '{"kind": "ignore_nonce", "gpu": 5}'
	live
	expect_rc 1 "ignore_nonce"
	expect_out "report nonce does not match: expected " "ignore_nonce: message (both values)"

	fault badsig '{"kind": "bad_signature", "gpu": 1}'
	live
	expect_rc 1 "bad_signature"
	expect_out "report signature INVALID" "bad_signature: message"

	fault swapped '{"kind": "swapped_chain", "gpu": 2}'
	live
	expect_rc 1 "swapped_chain"
	expect_out "report signature INVALID" "swapped_chain: signature fails under GPU 3's key"
	expect_out "report FWID differs from the leaf certificate's FWID" "swapped_chain: FWID differs"

	# A report without FWID from a leaf that carries the FWID extension:
	# NVIDIA's verifier skips the comparison, and so do we (the signature
	# still binds the report to the leaf). Asserts the current behaviour.
	fault nofwid '{"kind": "no_fwid", "gpu": 4}'
	live
	expect_rc 0 "no_fwid (current behaviour: passes, like NVIDIA)"
	expect_out "report carries no FWID; nothing to compare" "no_fwid: said"

	fault drvrep '{"kind": "report_driver_version", "value": "595.71.99", "gpu": 6}'
	live
	expect_rc 1 "report_driver_version"
	expect_out "the loaded driver is 595.71.05 but the report says 595.71.99" "report_driver_version: message"

	# NVML's architecture against the authenticated chain: a known other one
	# fails through the evidence arch string made from it, an unknown one
	# (8, Ampere) through the NVML check itself.
	fault nvmlarch '{"kind": "nvml_arch", "value": "10", "gpu": 5}'
	live
	expect_rc 1 "nvml_arch Blackwell for a Hopper chain"
	expect_out 'evidence says arch "BLACKWELL" but the certificate chain is HOPPER' "nvml_arch 10: message"
	fault nvmlarch8 '{"kind": "nvml_arch", "value": "8", "gpu": 5}'
	live
	expect_rc 1 "nvml_arch 8 for a Hopper chain"
	expect_out "NVML reports architecture 8 but the certificate chain is HOPPER" "nvml_arch 8: message"

	cfg nvmlvbios '{"nvml_vbios_version": "96.00.9F.00.05"}'
	live
	expect_rc 1 "NVML's VBIOS differs from the report's"
	expect_out "NVML reports VBIOS 96.00.9F.00.05 but the report says 96.00.9F.00.04" "nvml_vbios_version: message"

	cfg nvmldrv '{"nvml_driver_version": "595.71.99"}'
	live
	expect_rc 1 "nvml_driver_version differs"
	expect_out "the loaded driver is 595.71.99 but the report says 595.71.05" "nvml_driver_version: message"

	fault nvmlerr '{"kind": "nvml_error", "function": "nvmlDeviceGetConfComputeGpuAttestationReport", "code": 999, "gpu": 2}'
	live
	expect_rc 3 "nvml_error on the report"
	expect_out "GPU 2: getting the attestation report: NVML error 999" "nvml_error: message names GPU, call, code"
	expect_no_out "VERIFICATION SUCCESSFUL" "nvml_error: no verdict of success"

	fault nvmlperm '{"kind": "nvml_error", "function": "nvmlDeviceGetConfComputeGpuCertificate", "code": 4}'
	live
	expect_rc 3 "nvml_error NO_PERMISSION on the certificate"
	expect_out "NVML error 4: no permission" "nvml_error 4: says what is wrong"
	expect_out "run as root" "nvml_error 4: says what to do"

	fault nvmlinit '{"kind": "nvml_error", "function": "nvmlInit_v2", "code": 9}'
	live
	expect_rc 3 "nvml_error on nvmlInit_v2"
	expect_out "starting NVML: NVML error 9" "nvmlInit error: message"

	out=$(env -u GPUATTEST_SIM_CONFIG "$GPUATTEST" verify --nvml-lib "$SIMLIB" "${SIM_TRUST[@]}" 2>&1); rc=$?
	expect_rc 3 "driver not loaded"
	expect_out "kernel driver is not loaded" "driver not loaded: message"
}

system_faults() {
	cfg cc00 '{"cc_feature": 0, "multi_gpu_mode": 0}'
	live
	expect_rc 1 "cc_feature 0, multi_gpu_mode 0"
	expect_out "neither in CC mode nor in Protected PCIe" "CC off: message"
	expect_out "not attested: the GPU is not in confidential-computing mode" "CC off: each GPU says so"

	cfg cc11 '{"cc_feature": 1, "multi_gpu_mode": 1}'
	live
	expect_rc 1 "cc_feature 1, multi_gpu_mode 1"
	expect_out "CC mode and Protected PCIe are both on" "CC + PPCIe: message"

	cfg devtools '{"dev_tools": 1}'
	live
	expect_rc 1 "dev_tools 1"
	expect_out "developer tools mode is on" "dev_tools: message"
	live --insecure-allow-dev-tools
	expect_rc 0 "dev_tools 1 with --insecure-allow-dev-tools"
	expect_out "developer tools mode ON (debugging possible: not confidential), accepted by --insecure-allow-dev-tools" \
	    "--insecure-allow-dev-tools: warning line"
	expect_out "VERIFICATION SUCCESSFUL" "--insecure-allow-dev-tools: verdict"

	cfg simenv '{"environment": 1}'
	live
	expect_rc 1 "environment 1"
	expect_out "the driver reports a simulation environment, not production" "environment: message"

	cfg nocpu '{"cpu_caps": 0}'
	live
	expect_rc 1 "cpu_caps 0"
	expect_out "the CPU is not running a confidential VM" "cpu_caps 0: message"

	cfg nogpucaps '{"gpus_caps": 0}'
	live
	expect_rc 1 "gpus_caps 0"
	expect_out "do not support confidential computing" "gpus_caps 0: message"
}

gpu_selection() {
	cfg eight '{}'
	live --expect-gpus 8
	expect_rc 0 "--expect-gpus 8 with 8"
	expect_out "8 genuine GPU(s), 8 expected (--expect-gpus)" "--expect-gpus 8: check shown"
	live --expect-gpus 9
	expect_rc 1 "--expect-gpus 9 with 8"
	expect_out "8 genuine GPU(s), 9 expected (--expect-gpus)" "--expect-gpus 9: message"

	fault tamper '{"kind": "tampered_measurement", "index": 22, "gpu": 3}'
	live --gpu 0,4 --format json
	expect_rc 0 "--gpu 0,4 skips the tampered GPU 3"
	expect_json 'len(d["devices"])' 2 "--gpu 0,4: 2 devices"
	live --gpu 0,3
	expect_rc 1 "--gpu 0,3 includes the tampered GPU 3"
	live --gpu 0,3 --format json
	expect_json 'len(d["devices"])' 2 "--gpu 0,3: 2 devices"
	expect_json '[x["verdict"] for x in d["devices"]]' "['pass', 'fail']" "--gpu 0,3: GPU 3 fails, GPU 0 passes"
	expect_json 'd["genuine_gpus"]' 1 "--gpu 0,3: 1 genuine"

	cfg eight '{}'
	live --gpu 9
	expect_rc 2 "--gpu 9 with 8 GPUs (bad usage)"
	expect_out "GPU indices must be between 0 and 7" "--gpu 9: names the range"
	live --gpu 1,x
	expect_rc 2 "--gpu 1,x (bad usage)"
	expect_out "GPU indices must be between 0 and 7" "--gpu 1,x: names the range"
}

set_ready() {
	RS=$D/ready_for_test
	printf '0\n' >"$RS"
	cfg ready "{\"ready_state_file\": \"$RS\"}"
	live
	expect_rc 0 "ready: pass without --set-ready"
	ready_is 0 "a pass without --set-ready leaves it"
	live --set-ready
	expect_rc 0 "ready: pass with --set-ready"
	expect_out "GPUs ready state set to READY (accepting work)." "ready: said"
	ready_is 1 "a pass with --set-ready"
	live
	expect_rc 0 "ready: pass without --set-ready, ready already"
	ready_is 1 "a pass without --set-ready leaves it (1)"
	cfg ready_err "{\"ready_state_file\": \"$RS\", \"faults\": [{\"kind\": \"nvml_error\", \"function\": \"nvmlDeviceGetConfComputeGpuAttestationReport\", \"code\": 999}]}"
	live
	expect_rc 3 "ready: collection fails without --set-ready"
	ready_is 1 "a run that cannot collect, without --set-ready, leaves it"
	# --set-ready fails closed: a run that stops with an error is no pass.
	live --set-ready
	expect_rc 3 "ready: collection fails with --set-ready"
	expect_out "GPUs ready state set to NOT READY" "ready: collection fails: NOT READY said"
	ready_is 0 "a run that cannot collect, with --set-ready, marks NOT ready"
	printf '1\n' >"$RS"
	cfg ready_bad "{\"ready_state_file\": \"$RS\", \"faults\": [{\"kind\": \"bad_signature\", \"gpu\": 7}]}"
	live
	expect_rc 1 "ready: failing run without --set-ready"
	ready_is 1 "a failing run without --set-ready leaves it"
	live --set-ready
	expect_rc 1 "ready: failing run with --set-ready"
	expect_out "GPUs ready state set to NOT READY." "ready: NOT READY said"
	ready_is 0 "a failing run with --set-ready marks NOT ready"
	cfg ready_devtools "{\"ready_state_file\": \"$RS\", \"dev_tools\": 1}"
	live --set-ready
	expect_rc 1 "ready: system check fails with --set-ready"
	ready_is 0 "a system-check failure with --set-ready stays NOT ready"
	cfg ready "{\"ready_state_file\": \"$RS\"}"
	live --set-ready --format json
	expect_rc 0 "ready: pass again with --set-ready"
	ready_is 1 "ready again after a pass"
	expect_json 'd["system"]["ready_state_before"]' False "json: ready_state_before"
	expect_json 'd.get("ready_state_set")' True "json: ready_state_set"

	# An error after the evidence was collected (an anchor file that is not
	# PEM, read only once the appraisal starts) is no pass either.
	printf 'not a certificate\n' >"$TMP/not-pem.pem"
	live --trust-anchor "$TMP/not-pem.pem"
	expect_rc 3 "ready: appraisal error without --set-ready"
	expect_out "$TMP/not-pem.pem" "ready: appraisal error: names the file"
	ready_is 1 "an appraisal error without --set-ready leaves it"
	live --set-ready --trust-anchor "$TMP/not-pem.pem"
	expect_rc 3 "ready: appraisal error with --set-ready"
	expect_out "GPUs ready state set to NOT READY" "ready: appraisal error: NOT READY said"
	expect_no_out "VERIFICATION SUCCESSFUL" "ready: appraisal error: no success"
	ready_is 0 "an appraisal error with --set-ready marks NOT ready"
	# The ready state is system-wide: a subset of the GPUs cannot set it.
	# 2 GPUs, GPU 1 tampered: '--gpu 0 --set-ready' must not mark READY.
	printf '0\n' >"$RS"
	cfg ready_subset "{\"ready_state_file\": \"$RS\", \"gpus\": 2, \"faults\": [{\"kind\": \"bad_signature\", \"gpu\": 1}]}"
	live --gpu 0
	expect_rc 0 "ready: GPU 0 alone passes (GPU 1 is the tampered one)"
	live --gpu 0 --set-ready
	expect_rc 2 "ready: --gpu 0 --set-ready refused"
	expect_out "--set-ready marks every GPU of the system ready" "ready: --gpu with --set-ready: says why"
	expect_no_out "VERIFICATION SUCCESSFUL" "ready: --gpu with --set-ready: nothing attested"
	ready_is 0 "--gpu 0 --set-ready with GPU 1 tampered does not mark READY"
	live --gpu 0,1 --set-ready --quiet
	expect_rc 2 "ready: --gpu 0,1 --set-ready refused too"
	ready_is 0 "--gpu 0,1 --set-ready leaves it"
	live --set-ready
	expect_rc 1 "ready: all GPUs with --set-ready, GPU 1 tampered"
	ready_is 0 "the whole system with GPU 1 tampered stays NOT ready"
	cfg ready "{\"ready_state_file\": \"$RS\"}"
	# ... and when the driver refuses even that, the run says so.
	printf '1\n' >"$RS"
	cfg ready_err_locked "{\"ready_state_file\": \"$RS\", \"faults\": [{\"kind\": \"nvml_error\", \"function\": \"nvmlDeviceGetConfComputeGpuAttestationReport\", \"code\": 999}, {\"kind\": \"nvml_error\", \"function\": \"nvmlSystemSetConfComputeGpusReadyState\", \"code\": 4}]}"
	live --set-ready
	expect_rc 3 "ready: collection fails, NOT ready refused"
	expect_out "WARNING: --set-ready: the run did not pass and the GPUs could not be marked NOT ready: setting the GPUs not ready: NVML error 4" \
	    "ready: collection fails, NOT ready refused: warning"
	ready_is 1 "a refused NOT ready leaves it (and says so)"
	cfg ready "{\"ready_state_file\": \"$RS\"}"

	# The driver refuses the change (not root, or locked until reboot): the
	# evidence passed, but the gate could not do what it was asked, so the
	# run exits 3 ("could not complete") and the state does not move.
	printf '0\n' >"$RS"
	cfg ready_locked "{\"ready_state_file\": \"$RS\", \"faults\": [{\"kind\": \"nvml_error\", \"function\": \"nvmlSystemSetConfComputeGpusReadyState\", \"code\": 2}]}"
	live --set-ready
	expect_rc 3 "ready: the driver refuses the change: could not complete"
	expect_out "WARNING: the ready state can no longer change until a reboot" "ready locked: warning"
	ready_is 0 "a refused change leaves it"
	cfg ready_perm "{\"ready_state_file\": \"$RS\", \"faults\": [{\"kind\": \"nvml_error\", \"function\": \"nvmlSystemSetConfComputeGpusReadyState\", \"code\": 4}]}"
	live --set-ready
	expect_out "WARNING: setting the GPUs ready: NVML error 4" "ready, no permission: warning"
	expect_out "run as root" "ready, no permission: what to do"
	ready_is 0 "a change without permission leaves it"
	live --set-ready --format json
	expect_json 'd["result"], d["exit_code"]' "('incomplete', 3)" "ready, no permission, json: could not complete"
	expect_json '"NVML error 4" in d.get("ready_state_error", "")' True "ready, no permission, json: ready_state_error"
	expect_json '"ready_state_set" in d and d["ready_state_set"]' False "ready, no permission, json: not set"
}

collect_then_verify() {
	local ev=$TMP/evidence.json nonce
	cfg eight '{}'
	run_cli collect -o "$ev" --nvml-lib "$SIMLIB"
	expect_rc 0 "collect -o FILE"
	expect_out "wrote evidence of 8 GPU(s)" "collect: says what it wrote"
	nonce=$(sed -nE 's/.*\(nonce ([0-9a-f]{64})\).*/\1/p' <<<"$out")
	if [ -n "$nonce" ]; then ok; else bad "collect: no nonce printed"; fi
	run_cli verify --evidence "$ev" --nonce "${nonce:-00}" "${SIM_TRUST[@]}"
	expect_rc 0 "verify --evidence of collected evidence, with the printed nonce"
	expect_out "The evidence shows 8 GPU(s) verified under test anchor CN=gpuattest SIM Device Identity CA" \
	    "collected evidence: what the evidence shows, under which anchor"
	expect_out "the Confidential Computing configuration was not read from a driver" \
	    "collected evidence: CC configuration not read"
	expect_no_out "This system has" "collected evidence: no claim about this system"
	run_cli verify --evidence "$ev" --nonce "$AZ_NONCE" "${SIM_TRUST[@]}"
	expect_rc 1 "verify --evidence of collected evidence, another nonce"
	expect_out "report nonce does not match" "collected evidence, another nonce: message"

	run_cli collect -o - --gpu 1,2 --nonce "$AZ_NONCE" --nvml-lib "$SIMLIB"
	expect_rc 0 "collect -o -"
	expect_json 'len(d)' 2 "collect -o -: 2 entries"
	expect_json 'sorted(d[0].keys())' "['arch', 'certificate', 'evidence', 'nonce', 'uuid']" "collect -o -: entry keys"
	expect_json 'd[1]["nonce"].lower()' "$AZ_NONCE" "collect -o -: the given nonce"
	expect_json 'd[0]["arch"]' HOPPER "collect -o -: arch"
	printf '%s\n' "$out" >"$TMP/two.json"
	run_cli verify --evidence "$TMP/two.json" --nonce "$AZ_NONCE" "${SIM_TRUST[@]}"
	expect_rc 0 "verify of collect -o - output"

	fault nvmlerr '{"kind": "nvml_error", "function": "nvmlDeviceGetConfComputeGpuAttestationReport", "code": 999}'
	run_cli collect -o "$TMP/err.json" --nvml-lib "$SIMLIB"
	expect_rc 3 "collect with nvml_error"
	expect_out "NVML error 999" "collect with nvml_error: message"
	if [ ! -e "$TMP/err.json" ]; then ok; else bad "collect with nvml_error wrote a file"; fi
}

# One physical GPU answering for two NVML indices (a hostile driver can
# forward both requests to it: one nonce for all GPUs) must not count as two
# genuine GPUs. Evidence of simulated GPU 0 is replayed for indices 0 and 1.
duplicate_identity() {
	local dup=$TMP/dup
	mkdir -p "$dup"
	cfg eight '{}'
	run_cli_stdout collect -o - --gpu 0 --nonce "$AZ_NONCE" --nvml-lib "$SIMLIB"
	expect_rc 0 "duplicate: collect GPU 0"
	printf '%s\n' "$out" >"$dup/evidence.json"
	python3 - "$dup" <<-'EOF' || { bad "duplicate: cannot decode collected evidence"; return; }
	import base64, json, sys
	e = json.load(open(sys.argv[1] + "/evidence.json"))[0]
	open(sys.argv[1] + "/report.bin", "wb").write(base64.b64decode(e["evidence"]))
	open(sys.argv[1] + "/chain.pem", "wb").write(base64.b64decode(e["certificate"]))
	EOF
	cat >"$D/dup.json" <<-EOF
	{"gpus": 2, "replay": [{"report": "$dup/report.bin", "chain": "$dup/chain.pem"},
	                       {"report": "$dup/report.bin", "chain": "$dup/chain.pem"}]}
	EOF
	export GPUATTEST_SIM_CONFIG=$D/dup.json
	live --nonce "$AZ_NONCE" --expect-gpus 2
	expect_rc 1 "one GPU's evidence for two NVML indices"
	expect_out "one device's evidence presented twice" "duplicate identity: said"
	expect_no_out "This system has 2 genuine" "duplicate identity: not 2 genuine GPUs"
	live --nonce "$AZ_NONCE" --gpu 0
	expect_rc 0 "duplicate identity: either index alone passes"
}

# A library with only the NVML symbols NVIDIA's C++ SDK resolves (no _v2
# variants, no capabilities, no device name): an independent or older NVML
# must still verify; the CPU capability is then said to be unreported.
minimal_nvml() {
	local min=${SIMLIB%/*}/libnvidia-ml-sim-min.so
	cfg minimal '{"gpus": 2}'
	run_cli verify --nvml-lib "$min" "${SIM_TRUST[@]}"
	expect_rc 0 "minimal NVML symbol set: verifies"
	expect_out "does not report the CPU's confidential-computing capability" "minimal NVML: caps unreported, said so"
	expect_out "This system has 2 GPU(s) verified under test anchor" "minimal NVML: 2 GPUs"
	run_cli verify --nvml-lib "$min" "${SIM_TRUST[@]}" --set-ready
	expect_rc 0 "minimal NVML: ready state settable"
	# The capabilities call failing (NOT_SUPPORTED) is the same as it missing.
	fault caps_unsupported '{"kind": "nvml_error", "function": "nvmlSystemGetConfComputeCapabilities", "code": 3}'
	live
	expect_rc 0 "capabilities NOT_SUPPORTED: verifies"
	expect_out "relying on the GPUs' CC mode" "capabilities NOT_SUPPORTED: said so"
	# A driver that does not report its environment, with CC on.
	cfg env_unavailable '{"environment": 0}'
	live
	expect_rc 0 "environment unavailable with CC on: verifies"
	expect_out "does not report the CC environment" "environment unavailable: said so"
	# ... and with CC off too (nothing attested vouches for it): a failure.
	cfg env_unavailable_cc_off '{"environment": 0, "cc_feature": 0}'
	live
	expect_rc 1 "environment unavailable, CC off"
	expect_out "the driver reports no CC environment (unavailable), not production" \
	    "environment unavailable, CC off: message"
}

no_driver() {
	cfg nogpu '{"gpus": 0}'
	live
	expect_rc 3 "a driver that sees no GPU"
	expect_out "the NVIDIA driver sees no GPU" "no GPU: message"
	expect_no_out "VERIFICATION SUCCESSFUL" "no GPU: no success"
	run_cli verify --nvml-lib /nonexistent/libnvidia-ml.so.1 "${SIM_TRUST[@]}"
	expect_rc 3 "no NVML library"
	expect_out "no NVIDIA driver" "no NVML library: message"
	expect_out "/nonexistent/libnvidia-ml.so.1" "no NVML library: names the library"
	expect_out "gpuattest verify --evidence FILE" "no NVML library: hint about --evidence"
	run_cli verify --nvml-lib /nonexistent/libnvidia-ml.so.1 "${SIM_TRUST[@]}" --set-ready
	expect_rc 3 "no NVML library, --set-ready"
	expect_out "ready state was not changed" "no NVML library, --set-ready: says the state is untouched"
	run_cli collect -o "$TMP/none.json" --nvml-lib /nonexistent/libnvidia-ml.so.1
	expect_rc 3 "collect, no NVML library"
	expect_out "no NVIDIA driver" "collect, no NVML library: message"
}

# Real evidence recorded on an Azure H100, served by the simulator's NVML:
# the full live path against NVIDIA's real anchors and RIMs.
replay_recorded() {
	need_shared || return 0
	local rims=$TMP/real-rims
	mkdir -p "$rims"
	cp "$V/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml" \
	    "$V/rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml" "$rims/" || { bad "replay: RIMs missing"; return; }
	cat >"$D/replay.json" <<-EOF
	{"replay": [{"report": "$AZ/attestation_report.bin", "chain": "$AZ/cert_chain.pem"}],
	 "gpus": 1, "driver_version": "595.71.05", "vbios_version": "96.00.9F.00.04"}
	EOF
	export GPUATTEST_SIM_CONFIG=$D/replay.json
	run_cli verify --nvml-lib "$SIMLIB" --rim-dir "$rims" --nonce "$AZ_NONCE" --at 2026-11-28T00:00:00Z --no-ocsp
	expect_rc 0 "replay of real evidence, its nonce, NVIDIA anchors"
	expect_out "This system has 1 genuine NVIDIA GPU(s)" "replay: 1 genuine"
	expect_out "FWID matches the leaf certificate" "replay: FWID"
	run_cli verify --nvml-lib "$SIMLIB" --rim-dir "$rims" --at 2026-11-28T00:00:00Z --no-ocsp
	expect_rc 1 "replay with a fresh nonce"
	expect_out "report nonce does not match: expected " "replay, fresh nonce: message (both values)"
	run_cli verify --nvml-lib "$SIMLIB" "${SIM_TRUST[@]}" --nonce "$AZ_NONCE" --at 2026-11-28T00:00:00Z
	expect_rc 1 "replay of NVIDIA evidence trusting only the test PKI"
	expect_out "does not lead to a trusted anchor" "replay, test PKI only: chain untrusted"
}

main() {
	setup || return 0
	pass_one_and_eight
	device_faults
	system_faults
	gpu_selection
	set_ready
	collect_then_verify
	duplicate_identity
	minimal_nvml
	no_driver
	replay_recorded
}

main
finish
