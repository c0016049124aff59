#!/usr/bin/env bash
# NVSwitch (LS10) and Protected PCIe (PPCIe) acceptance through the CLI:
#   1. real recorded NVIDIA switch evidence (../shared): pass in the RIM's
#      validity window, "expired" after it, a report paired with another
#      switch's chain fails its signature; inspect / JSON claims name the PDI;
#   2. a SIMULATED 8-GPU + 4-switch PPCIe system, verified live through the
#      simulator's NVML and NSCQ libraries (dlopen by --nvml-lib/--nscq-lib
#      paths, by GPUATTEST_*_LIB, and by the default sonames on
#      LD_LIBRARY_PATH): every topology fault must fail with the device and
#      the PDI in the message, every NSCQ failure must exit 3;
#   3. 'collect -o' of that system, verified offline, and the same files
#      mutated (a switch or a GPU dropped, an entry duplicated, the switch
#      file left out).
#
# Owns: files under $TMP only. Never trusts NVIDIA's anchors for simulated
# devices (only the test PKI made in $TMP), never uses the network (--offline
# or --rim-dir + --no-ocsp everywhere). Asserts the behaviour the checks
# promise, so a case that fails here is a bug to report, not to loosen.
#
# Sanitizers: BUILD=build-san GPUATTEST=$PWD/build-san/gpuattest; every run
# is also checked for a signal exit or a sanitizer report.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) BDIR=$BUILD ;; *) BDIR=$ROOT/$BUILD ;; esac
NVML=$BDIR/sim/libnvidia-ml-sim.so
NSCQ=$BDIR/sim/libnvidia-nscq-sim.so
D=$TMP/sim
SW55=$V/switch/ls10_96.10.55.00.01
SW52=$V/switch/ls10_96.10.52.00.00_invalid_signature
SW_RIM_ID=NV_SWITCH_BIOS_5612_0002_890_9610550001
SIM_TRUST=(--no-pinned-anchors --trust-anchor "$D/root.pem" --trust-anchor "$D/rim/root.pem"
	--rim-dir "$D/rims" --no-ocsp)
export GPUATTEST_CACHE_DIR=${GPUATTEST_CACHE_DIR:-$TMP/cache}
unset GPUATTEST_NVML_LIB GPUATTEST_NSCQ_LIB

# run_env VAR=VALUE... -- ARGS...: the CLI under extra environment.
run_env() {
	local vars=()
	while [ "$1" != "--" ]; do vars+=("$1"); shift; done
	shift
	out=$(env "${vars[@]}" "$GPUATTEST" "$@" 2>&1)
	rc=$?
	no_crash "$*"
}

# ---------------------------------------------------------------- real vectors

real_vectors() {
	local rims=$TMP/swrims ev=$SW55/evidence.json at=(--at 2025-06-01T00:00:00Z)
	mkdir -p "$rims"
	cp "$V/rim/switch/${SW_RIM_ID}__signed_2024-05.xml" "$rims/$SW_RIM_ID.xml"

	# A recorded file: its own nonce accepted explicitly (the verifier did not ask for it).
	run_safe verify --switch-evidence "$ev" --rim-dir "$rims" --no-ocsp --offline "${at[@]}" --insecure-accept-evidence-nonce
	expect_rc 0 "real switch in the RIM's window"
	expect_out "31 BIOS active measurements match" "real switch: measurements"
	expect_out "1 genuine NVIDIA NVSwitch" "real switch: summary"
	expect_out "NVSwitches verified alone" "real switch: topology skipped, not passed"

	run_safe verify --switch-evidence "$ev" --rim-dir "$rims" --no-ocsp --offline --at 2026-11-28T00:00:00Z
	expect_rc 1 "real switch after the RIM leaf expired"
	expect_out "expired" "real switch 2026-11-28: says expired"
	expect_out "NVSwitch 0" "real switch 2026-11-28: names the switch"

	run_safe verify --switch-evidence "$ev" --rim-dir "$rims" --no-ocsp --offline "${at[@]}" --format json \
	    --insecure-accept-evidence-nonce
	expect_rc 0 "real switch json"
	expect_json 'd["claims"][0]["x-nvidia-device-type"]' nvswitch "claims: device type"
	expect_json 'd["claims"][0]["x-nvidia-switch-pdi"]' 203EB31AD9ED0008 "claims: switch PDI"
	expect_json 'd["claims"][0]["x-nvidia-version"]' 3.0 "claims: version"
	expect_json 'd["claims"][0]["measres"]' success "claims: measres"
	expect_json 'd["genuine_switches"]' 1 "json: genuine_switches"

	# The 96.10.52 report with the 96.10.55 switch's chain, as NVIDIA pairs them.
	python3 - "$SW52" "$TMP/sw52.json" <<-'EOF' || { out="" rc=1; bad "cannot build the 96.10.52 evidence JSON"; }
	import base64, json, sys
	d = sys.argv[1]
	report = bytes.fromhex("".join(open(d + "/attestation_report.hex.txt").read().split()))
	pem = open(d + "/cert_chain_paired.pem.txt", "rb").read()
	# The request nonce: SPDM 1.1 GET_MEASUREMENTS, 4-byte header then 32 bytes.
	json.dump([{"arch": "LS10", "nonce": report[4:36].hex(),
	            "evidence": base64.b64encode(report).decode(),
	            "certificate": base64.b64encode(pem).decode()}], open(sys.argv[2], "w"))
	EOF
	run_safe verify --switch-evidence "$TMP/sw52.json" --rim-dir "$rims" --no-ocsp --offline "${at[@]}"
	expect_rc 1 "report paired with another switch's chain"
	expect_out "signature INVALID" "paired chain: signature"
	expect_out "VERIFICATION FAILED" "paired chain: verdict"

	run_safe inspect --switch "$ev"
	expect_rc 0 "inspect --switch"
	expect_out "DEVICE_PDI: 203eb31ad9ed0008" "inspect text: DEVICE_PDI"
	run_safe inspect --switch "$ev" --format json
	expect_rc 0 "inspect --switch --format json"
	expect_json 'd["devices"][0]["response"]["OpaqueData"]["DEVICE_PDI"]' 203eb31ad9ed0008 "inspect json: DEVICE_PDI"
	expect_json 'd["devices"][0]["kind"]' switch "inspect json: kind"
}

# ------------------------------------------------------- simulated PPCIe system

live() { run_safe verify --nvml-lib "$NVML" --nscq-lib "$NSCQ" "${SIM_TRUST[@]}" "$@"; }

# The PDI of simulated device KIND N (gpu/switch), as the messages print it.
pdi() { tr -d ' \n' <"$D/$1$2/pdi" | tr a-f A-F; }

# Each byte XOR X: the made-up PDIs the simulator's topology faults use.
pdi_xor() { python3 -c 'import sys; print(bytes(b ^ int(sys.argv[2], 0) for b in bytes.fromhex(sys.argv[1])).hex().upper())' "$1" "$2"; }

setup_sim() {
	if [ ! -f "$NVML" ] || [ ! -f "$NSCQ" ]; then
		out="" rc=1
		bad "simulator not built: $NVML / $NSCQ (make BUILD=$BUILD)"
		return 1
	fi
	if ! out=$("$ROOT/sim/make-sim-env.sh" "$D" 8 4 1 2>&1); then
		rc=1
		bad "sim/make-sim-env.sh $D 8 4 1 failed"
		return 1
	fi
	eval "$out"
}

expect_ppcie_pass() {
	expect_rc 0 "$1"
	expect_out "VERIFICATION SUCCESSFUL" "$1: verdict"
	expect_out "8 GPU(s) verified under test anchor CN=gpuattest SIM Device Identity CA" "$1: GPUs"
	expect_out "4 NVSwitch(es) verified under test anchor CN=gpuattest SIM Device Identity CA" "$1: switches"
	expect_no_out "genuine NVIDIA" "$1: the test PKI is never 'genuine NVIDIA'"
	expect_out "Protected PCIe topology: 8 GPU(s) and 4 NVSwitch(es) name each other exactly" "$1: topology"
	expect_no_out "[FAIL]" "$1: no failed check"
}

sim_pass() {
	cfg base '{}'
	live
	expect_ppcie_pass "PPCIe, --nvml-lib/--nscq-lib"
	expect_out "Protected PCIe on, CC mode off" "PPCIe: mode shown"

	run_env GPUATTEST_NVML_LIB="$NVML" GPUATTEST_NSCQ_LIB="$NSCQ" -- verify "${SIM_TRUST[@]}"
	expect_ppcie_pass "PPCIe, GPUATTEST_NVML_LIB/GPUATTEST_NSCQ_LIB"

	# Default sonames (libnvidia-ml.so.1, libnvidia-nscq.so.2) found by the loader.
	run_env LD_LIBRARY_PATH="$BDIR/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" -- verify "${SIM_TRUST[@]}"
	expect_ppcie_pass "PPCIe, default library names on LD_LIBRARY_PATH"

	live --format json
	expect_rc 0 "PPCIe json"
	expect_json 'd["genuine_gpus"]' 8 "json: genuine_gpus"
	expect_json 'd["genuine_switches"]' 4 "json: genuine_switches"
	expect_json 'd["system"]["protected_pcie"]' True "json: protected_pcie"
	expect_json '[c["x-nvidia-device-type"] for c in d["claims"]].count("nvswitch")' 4 "json: 4 switch claims"
	expect_json '[c["x-nvidia-switch-pdi"] for c in d["claims"] if c["x-nvidia-device-type"] == "nvswitch"]' \
	    "['$(pdi switch 0)', '$(pdi switch 1)', '$(pdi switch 2)', '$(pdi switch 3)']" "json: switch PDIs"
	expect_json 'len({c["eat_nonce"] for c in d["claims"]})' 1 "json: GPUs and switches on one nonce"

	live --expect-switches 4
	expect_rc 0 "--expect-switches 4"
	live --expect-switches 5
	expect_rc 1 "--expect-switches 5"
	expect_out "--expect-switches" "--expect-switches 5: says why"
}

sim_topology_faults() {
	local sw0 sw1 sw3 gpu1
	sw0=$(pdi switch 0) sw1=$(pdi switch 1) sw3=$(pdi switch 3) gpu1=$(pdi gpu 1)

	fault missing '{"kind": "missing_switch"}'
	live
	expect_rc 1 "missing_switch"
	expect_out "GPU 0 is connected to NVSwitch PDI $sw3, which is not among the attested switches" \
	    "missing_switch: GPU and the unattested switch's PDI"
	live --format json
	expect_json 'd["genuine_switches"]' 3 "missing_switch: the 3 others are genuine"

	fault foreign '{"kind": "foreign_switch"}'
	live
	expect_rc 1 "foreign_switch"
	expect_out "GPU 0 is connected to NVSwitch PDI $(pdi_xor "$sw3" 0x5A), which is not among the attested switches" \
	    "foreign_switch: the made-up PDI"
	expect_out "GPU 7 is not connected to NVSwitch 3 (PDI $sw3)" "foreign_switch: the unlisted switch"

	fault elsewhere '{"kind": "gpu_wired_elsewhere", "gpu": 5}'
	live
	expect_rc 1 "gpu_wired_elsewhere"
	expect_out "GPU 5 is connected to NVSwitch PDI $(pdi_xor "$sw0" 0xA5), which is not among the attested switches" \
	    "gpu_wired_elsewhere: GPU 5 and the foreign PDI"
	expect_out "GPU 5 is not connected to NVSwitch 0 (PDI $sw0)" "gpu_wired_elsewhere: the missing link"
	expect_no_out "GPU 4 is" "gpu_wired_elsewhere: only GPU 5 blamed"

	# Switch 2 lists GPU 0 twice, in GPU 1's slot.
	fault dup '{"kind": "duplicate_pdi", "switch": 2}'
	live
	expect_rc 1 "duplicate_pdi"
	expect_out "NVSwitch 2 is not connected to GPU 1 (PDI $gpu1)" "duplicate_pdi: switch and the GPU it lost"

	fault lock '{"kind": "lock_off", "switch": 1}'
	live
	expect_rc 1 "lock_off"
	expect_out "NVSwitch 1 is not locked" "lock_off: says not locked"
	expect_out "$sw1" "lock_off: names the switch's PDI"
	expect_no_out "NVSwitch 0 is not locked" "lock_off: only switch 1"

	fault tamper '{"kind": "tampered_switch_measurement", "switch": 2, "index": 12}'
	live
	expect_rc 1 "tampered_switch_measurement"
	expect_out "NVSwitch 2: 1 measurement(s) do not match the RIMs: index BIOS 12" \
	    "tampered_switch_measurement: switch and index"
	live --format json
	expect_json '[x["device"] for x in d["devices"] if x["verdict"] != "pass"]' "['NVSwitch 2']" \
	    "tampered_switch_measurement: only switch 2 fails"
	expect_json '[c["x-nvidia-switch-pdi"] for c in d["claims"] if c["measres"] != "success"]' "['$(pdi switch 2)']" \
	    "tampered_switch_measurement: its claims carry its PDI"

	fault badsig '{"kind": "bad_signature", "switch": 3}'
	live
	expect_rc 1 "bad_signature on a switch"
	expect_out "NVSwitch 3: report signature INVALID" "bad_signature: switch named"
	expect_out "GPU 0 is connected to NVSwitch PDI $sw3, which is not among the attested switches" \
	    "bad_signature: an unverified switch does not count in the topology"
	live --format json
	expect_json 'd["genuine_switches"]' 3 "bad_signature: 3 genuine"
	expect_json '[x["device"] for x in d["devices"] if x["verdict"] != "pass"]' "['NVSwitch 3']" \
	    "bad_signature: only switch 3 fails"

	# Many topology failures must not crowd out the system checks after them:
	# a developer-tools (debug) driver must still be reported as such.
	local many='{"kind": "foreign_switch"}' g
	for g in 0 1 2 3 4 5 6 7; do many+=", {\"kind\": \"gpu_wired_elsewhere\", \"gpu\": $g}"; done
	fault many "$many" '"dev_tools": 1'
	live
	expect_rc 1 "many topology failures + developer tools on"
	expect_out "developer tools mode is on" "many topology failures: the developer-tools failure is still reported"
	expect_out "Protected PCIe on, CC mode off" "many topology failures: the CC mode check is still reported"

	fault nonce '{"kind": "ignore_nonce", "switch": 0}'
	live
	expect_rc 1 "ignore_nonce on a switch"
	expect_out "NVSwitch 0: report nonce does not match" "ignore_nonce: switch named"
}

sim_collection_failures() {
	# Aimed at switch 1, the simulator fails every path of that switch, the
	# listing included (it cannot fail the attestation-report path alone).
	fault nscq_sw '{"kind": "nscq_error", "function": "nscq_session_path_observe", "code": -5, "switch": 1}'
	live
	expect_rc 3 "nscq_error on switch 1's paths"
	expect_out "NSCQ error -5" "nscq_error on switch 1: the code"
	expect_no_out "VERIFICATION SUCCESSFUL" "nscq_error on switch 1: no verdict"

	fault nscq_all '{"kind": "nscq_error", "function": "nscq_session_path_observe", "code": -5}'
	live
	expect_rc 3 "nscq_error on every path"
	expect_out "NSCQ error -5" "nscq_error on every path: the driver's code, not 0"

	fault nscq_input '{"kind": "nscq_error", "function": "nscq_session_set_input", "code": -5}'
	live
	expect_rc 3 "nscq_error setting the nonce"
	expect_out "setting the nonce: NSCQ error -5" "set_input: says what failed"
	expect_out "SWX-" "set_input: names the switch"

	fault nscq_session '{"kind": "nscq_error", "function": "nscq_session_create", "code": -9}'
	live
	expect_rc 3 "nscq_error opening the session"
	expect_out "cannot open an NSCQ session" "session: says what failed"

	cfg base '{}'
	run_safe verify --nvml-lib "$NVML" --nscq-lib /nonexistent "${SIM_TRUST[@]}"
	expect_rc 3 "PPCIe without the NSCQ library"
	expect_out "NVSwitch library" "no NSCQ: says what is missing"
	expect_out "/nonexistent" "no NSCQ: names the path"
}


sim_ready_state() {
	RS=$D/ready_for_switch_test
	printf '0\n' >"$RS"
	cfg ready "{\"ready_state_file\": \"$RS\"}"
	live --set-ready
	expect_rc 0 "ready: PPCIe pass with --set-ready"
	ready_is 1 "ready: a pass marks ready"

	fault ready_topo '{"kind": "gpu_wired_elsewhere", "gpu": 2}' "\"ready_state_file\": \"$RS\""
	live --set-ready
	expect_rc 1 "ready: topology failure with --set-ready"
	ready_is 0 "ready: a topology failure marks NOT ready"

	cfg ready "{\"ready_state_file\": \"$RS\"}"
	live --set-ready
	ready_is 1 "ready: ready again after a pass"
	fault ready_lock '{"kind": "lock_off", "switch": 3}' "\"ready_state_file\": \"$RS\""
	live --set-ready
	expect_rc 1 "ready: unlocked switch with --set-ready"
	ready_is 0 "ready: an unlocked switch marks NOT ready"

	cfg ready "{\"ready_state_file\": \"$RS\"}"
	live --set-ready
	ready_is 1 "ready: ready again"
	run_safe verify --nvml-lib "$NVML" --nscq-lib /nonexistent "${SIM_TRUST[@]}" --set-ready
	expect_rc 3 "ready: switches cannot be collected, --set-ready"
	ready_is 0 "ready: switches that cannot be attested mark NOT ready"
}

# ------------------------------------------------------ collect, then offline

offline() {
	local sys=$TMP/sys.json sw=$TMP/sys.nvswitch.json nonce
	cfg base '{}'
	run_safe collect -o "$sys" --nvml-lib "$NVML" --nscq-lib "$NSCQ"
	expect_rc 0 "collect in PPCIe mode"
	if [ -s "$sys" ] && [ -s "$sw" ]; then ok; else bad "collect: $sys and $sw should both be written"; fi
	expect_out "wrote evidence of 8 GPU(s)" "collect: GPUs"
	expect_out "wrote evidence of 4 NVSwitch(es) to $sw" "collect: switches beside it"
	nonce=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["nonce"])' "$sys" 2>/dev/null)
	if [[ "$nonce" =~ ^[0-9a-f]{64}$ ]]; then ok; else bad "collect: no nonce in $sys ('$nonce')"; return; fi
	out=$(python3 -c 'import json, sys; print(sorted({e["arch"] for e in json.load(open(sys.argv[1]))}), sorted({e["nonce"] for e in json.load(open(sys.argv[1]))}) == [sys.argv[2]])' "$sw" "$nonce" 2>&1)
	if [ "$out" = "['LS10'] True" ]; then ok; else bad "collect: switch file should be LS10 on the GPUs' nonce ($out)"; fi

	local ver=(verify --nonce "$nonce" "${SIM_TRUST[@]}")
	run_safe "${ver[@]}" --evidence "$sys" --switch-evidence "$sw"
	expect_ppcie_pass "offline PPCIe"
	expect_out "(supplied by the caller)" "offline: nonce from --nonce"

	python3 - "$sys" "$sw" "$TMP" <<-'EOF' || { out="" rc=1; bad "cannot write the mutated files"; }
	import json, sys
	g, s, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
	json.dump(s[:3], open(t + "/sw-3.json", "w"))          # switch 3 dropped
	json.dump(g[:7], open(t + "/gpu-7.json", "w"))         # GPU 7 dropped
	json.dump(s + [s[1]], open(t + "/sw-dup.json", "w"))   # switch 1 twice
	EOF

	run_safe "${ver[@]}" --evidence "$sys" --switch-evidence "$TMP/sw-3.json"
	expect_rc 1 "offline: a switch dropped"
	expect_out "GPU 0 is connected to NVSwitch PDI $(pdi switch 3), which is not among the attested switches" \
	    "offline: switch dropped: the GPUs name it"

	run_safe "${ver[@]}" --evidence "$TMP/gpu-7.json" --switch-evidence "$sw"
	expect_rc 1 "offline: a GPU dropped"
	expect_out "NVSwitch 0 is connected to GPU PDI $(pdi gpu 7), which is not among the attested GPUs" \
	    "offline: GPU dropped: the switches name it"

	run_safe "${ver[@]}" --evidence "$sys" --switch-evidence "$TMP/sw-dup.json"
	expect_rc 1 "offline: a switch entry duplicated"
	expect_out "have the same PDI $(pdi switch 1)" "offline: duplicate: the PDI named"

	run_safe "${ver[@]}" --evidence "$sys"
	expect_rc 3 "offline: PPCIe GPUs without their switches"
	expect_out "--switch-evidence" "offline: GPUs alone: says what to give"
	expect_no_out "VERIFICATION SUCCESSFUL" "offline: GPUs alone: no pass"

	run_safe "${ver[@]}" --evidence "$sys" --switch-evidence "$sys"
	expect_rc 2 "offline: GPU evidence given as the switch file"
	run_safe "${ver[@]}" --switch-evidence "$sw"
	expect_rc 0 "offline: the simulated switches alone"
	expect_out "NVSwitches verified alone" "offline: switches alone: topology not claimed"

	run_safe "${ver[@]}" --evidence "$sys" --switch-evidence "$sw" --format json
	expect_json 'd["genuine_switches"]' 4 "offline json: genuine_switches"
	expect_json '"name each other exactly" in json.dumps(d)' True "offline json: the topology pass is shown"

	# A failure must be explained in JSON too, not only by "result": "fail".
	run_safe "${ver[@]}" --evidence "$sys" --switch-evidence "$TMP/sw-3.json" --format json
	expect_rc 1 "offline json: a switch dropped"
	expect_json '"which is not among the attested switches" in json.dumps(d)' True \
	    "offline json: the topology failure is shown"

	run_safe "${ver[@]}" --evidence "$sys" --switch-evidence "$sw" --expect-switches 5
	expect_rc 1 "offline: --expect-switches 5"
}

if need_shared; then real_vectors; fi
if setup_sim; then
	sim_pass
	sim_topology_faults
	sim_collection_failures
	sim_ready_state
	offline
fi
finish
