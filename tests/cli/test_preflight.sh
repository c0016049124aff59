#!/usr/bin/env bash
# `gpuattest preflight` against a loopback RIM service (tests/servers/rimsvc.py)
# and OCSP responder (ocspd.py over the real `openssl ocsp`): a RIM that is
# published and valid, one that is missing, one badly signed, one whose
# signing chain expired, one of another version, one whose signer is
# revoked, a service that fails; each answer named, each exit code right.
# NVIDIA's real RIMs (../shared) are judged under NVIDIA's pinned CoRIM
# root; the simulated system's under its test PKI.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SIMLIB=${GPUATTEST_SIM_LIB:-$(dirname "$GPUATTEST")/sim/libnvidia-ml-sim.so}
D=$TMP/sim
R=$V/rim
AT=2026-11-28T00:00:00Z
URL_rim="" URL_ocsp=""

# pf ARGS: preflight against the loopback service only (no cache, no NVIDIA network).
pf() { run_cli preflight --rim-url "$URL_rim" --no-cache "$@"; }

real_rims() {
	need_shared || return 0
	mkdir -p "$TMP/real"
	cp "$R/driver/NV_GPU_DRIVER_GH100_595.71.05.xml" "$TMP/real/"
	cp "$R/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml" "$TMP/real/"
	cp "$R/negative/incorrect_signature_driver_rim_550.144.03.xml" "$TMP/real/NV_GPU_DRIVER_GH100_550.144.03.xml"
	cp "$R/driver/NV_GPU_DRIVER_GH100_545.00__Driver_RIM_test_no_gpu.swidtag" "$TMP/real/NV_GPU_DRIVER_GH100_545.00.xml"
	# NVIDIA's 595.71.05 RIM served under another version's id.
	cp "$R/driver/NV_GPU_DRIVER_GH100_595.71.05.xml" "$TMP/real/NV_GPU_DRIVER_GH100_600.10.01.xml"
	start_server rim rimsvc.py --dir "$TMP/real" || return 0

	pf --driver 595.71.05 --gpu-arch hopper --no-ocsp --at "$AT"
	expect_rc 0 "real driver RIM published and valid"
	expect_out "driver 595.71.05 on GH100: RIM NV_GPU_DRIVER_GH100_595.71.05 published, signed, valid until 2028-" \
	    "published: named with its validity"
	expect_out "[from " "published: says where it came from"
	expect_out "WARNING: revocation was not checked (--no-ocsp)." "--no-ocsp said"
	expect_out "PREFLIGHT OK" "published: verdict"

	pf --driver 595.71.05 --gpu-arch hopper --no-ocsp --at "$AT" --no-pinned-anchors --rim-anchor "$V/roots/nvidia_device_identity_ca.pem"
	expect_rc 1 "a RIM whose chain does not end at the RIM anchor given"
	expect_out "signing chain is invalid" "wrong anchor: said"

	pf --driver 999.1.1 --gpu-arch hopper --no-ocsp --at "$AT"
	expect_rc 1 "missing driver RIM"
	expect_out "RIM NV_GPU_DRIVER_GH100_999.1.1 not published: attestation will fail after this upgrade" "missing: said"
	expect_out "PREFLIGHT FAILED" "missing: verdict"

	pf --driver 550.144.03 --gpu-arch hopper --no-ocsp --at "$AT"
	expect_rc 1 "badly signed RIM"
	expect_out "published, but its signature does not verify" "badly signed: said"

	pf --driver 545.00 --gpu-arch hopper --no-ocsp --at "$AT"
	expect_rc 1 "RIM whose signing certificate expired"
	expect_out "signing chain is expired" "expired: said"
	pf --driver 545.00 --gpu-arch hopper --no-ocsp --at 2024-01-01T00:00:00Z
	expect_rc 0 "the same RIM before it expired (--at)"

	pf --driver 600.10.01 --gpu-arch hopper --no-ocsp --at "$AT"
	expect_rc 1 "a RIM of another version under the id"
	expect_out "not '600.10.01'" "other version: said"

	# The upgraded system described by NVIDIA's recorded Azure evidence: driver and VBIOS RIMs.
	pf --driver 595.71.05 --evidence "$V/gpu/hopper_595.71.05_azure/gpu-evidence.json" --no-ocsp --at "$AT" --format json
	expect_rc 0 "recorded evidence: both RIMs the system needs"
	expect_json '[m["rim_id"] for m in d["manifests"]]' \
	    "['NV_GPU_DRIVER_GH100_595.71.05', 'NV_GPU_VBIOS_1010_0210_886_96009F0004']" "recorded evidence: ids"
	expect_json '[m["status"] for m in d["manifests"]]' "['ready', 'ready']" "recorded evidence: json status"
	expect_json 'd["revocation_checked"]' False "json: revocation not checked said"
	pf --driver 610.43.02 --evidence "$V/gpu/hopper_595.71.05_azure/gpu-evidence.json" --no-ocsp --at "$AT" --format json
	expect_rc 1 "recorded evidence, unpublished driver"
	expect_json '[(m["kind"], m["status"]) for m in d["manifests"]]' "[('driver', 'not-published'), ('VBIOS', 'ready')]" \
	    "unpublished driver, VBIOS still fine"
	stop_all
}

service_faults() {
	start_server rim rimsvc.py --dir "$TMP" || return 0
	run_cli preflight --rim-url "$URL_rim/status=500" --no-cache --retries 0 --driver 595.71.05 --gpu-arch hopper --no-ocsp
	expect_rc 3 "a failing RIM service: could not complete"
	expect_out "could not be looked up" "failing service: said"
	run_cli preflight --rim-url "http://127.0.0.1:$(closed_port)" --no-cache --driver 595.71.05 --gpu-arch hopper --no-ocsp --quiet
	expect_rc 3 "no RIM service"
	expect_out "gpuattest preflight: driver 595.71.05 on GH100: could not be looked up" "--quiet: the reason on stderr"
	run_cli preflight --offline --no-cache --driver 595.71.05 --gpu-arch hopper --no-ocsp
	expect_rc 1 "offline, nothing local: not published anywhere it may look"
	run_cli preflight --driver 595.71.05 --gpu-arch rubin --no-ocsp --offline
	expect_rc 3 "Rubin: no RIM scheme"
	expect_out "no reference manifest scheme for Rubin in this version" "Rubin: said, no id guessed"
	expect_no_out "NV_GPU_DRIVER_GR100" "Rubin: no id guessed"
	stop_all
}

usage() {
	run_cli preflight --gpu-arch hopper
	expect_rc 2 "nothing to check"
	run_cli preflight --driver 1.2 
	expect_rc 2 "no GPUs named"
	run_cli preflight --driver 'x;y' --gpu-arch hopper
	expect_rc 2 "a driver version that is not one"
	run_cli preflight --driver 600.1 --vbios 96.00.9F.00.04 --gpu-arch hopper
	expect_rc 2 "--vbios with --gpu-arch needs --board"
	expect_out "needs --board" "--board asked for"
	run_cli preflight --driver 600.1 --gpu-arch ampere
	expect_rc 2 "unknown architecture"
	run_cli preflight --help
	expect_rc 0 "--help"
	expect_out "not published" "--help says what it answers"
}

# The simulated system, with its test PKI's RIM chain checked for revocation.
sim_system() {
	if [ ! -f "$SIMLIB" ]; then bad "simulator not built: $SIMLIB"; return; fi
	if ! out=$("$ROOT/sim/make-sim-env.sh" "$D" 2 0 2>&1); then rc=1; bad "make-sim-env.sh failed"; return; fi
	eval "$out"
	"$ROOT/sim/make-rims.sh" "$D" 600.10.01 96.00.9F.00.04 1010 0210 886 >/dev/null 2>&1 ||
		{ rc=1; out=""; bad "make-rims.sh failed"; return; }
	start_ocspd && start_server rim rimsvc.py --dir "$D/rims" || return
	local P=(--no-pinned-anchors --rim-anchor "$D/rim/root.pem" --ocsp-url "$URL_ocsp" --nvml-lib "$SIMLIB" --this-system)
	pf --driver 600.10.01 "${P[@]}"
	expect_rc 0 "this system: the new driver's RIM and today's VBIOS RIM, revocation good"
	expect_out "driver 600.10.01 on GH100: RIM NV_GPU_DRIVER_GH100_600.10.01 published, signed" "this system: driver"
	expect_out "VBIOS 96.00.9F.00.04 on 1010_0210_886: RIM NV_GPU_VBIOS_1010_0210_886_96009F0004 published" "this system: VBIOS"
	expect_out "revocation: good" "this system: OCSP asked"
	revoke rim-l3 "$D/rim/signer.crt" -crl_reason keyCompromise
	pf --driver 600.10.01 "${P[@]}"
	expect_rc 1 "a revoked RIM signer"
	expect_out "signing certificate is revoked" "revoked: said"
	restore_databases
	pf --driver 600.20.01 "${P[@]}" --format json
	expect_rc 1 "this system: a driver with no RIM"
	expect_json 'd["manifests"][0]["detail"]' "not published: attestation will fail after this upgrade" "json detail"
	stop_all
}

real_rims
service_faults
usage
sim_system
finish
