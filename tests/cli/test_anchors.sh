#!/usr/bin/env bash
# Trust anchors per use (issue 10 point 3) and honest summaries (point 7):
# --device-anchor validates device identity chains only, --rim-anchor RIM
# signing chains only (a RIM-signing CA must never mint devices, nor the
# reverse); every chain names the anchor it ended at (CN, SHA-256) in text
# and JSON; "genuine NVIDIA" only under NVIDIA's pinned Device Identity CA;
# "This system has" only for a live run, "The evidence shows" for files.
# The simulated system (sim/, a test PKI made here in $TMP) and NVIDIA's
# recorded Azure H100 evidence.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) BDIR=$BUILD ;; *) BDIR=$ROOT/$BUILD ;; esac
SIMLIB=$BDIR/sim/libnvidia-ml-sim.so
D=$TMP/sim
AZ=$V/gpu/hopper_595.71.05_azure
AZ_NONCE=690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
NV_DEV_SHA=102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48
NV_RIM_SHA=12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1
CHAIN='d["claims"][0]["x-nvidia-gpu-attestation-report-cert-chain"]["x-gpuattest-anchor"]'
DRV_CHAIN='d["claims"][0]["x-nvidia-gpu-driver-rim-cert-chain"]["x-gpuattest-anchor"]'

live() { run_cli verify --nvml-lib "$SIMLIB" --rim-dir "$D/rims" --no-ocsp "$@"; }
sha256_of() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

setup() {
	if [ ! -f "$SIMLIB" ]; then
		out="" rc=1
		bad "simulator not built: $SIMLIB"
		return 1
	fi
	if ! out=$("$ROOT/sim/make-sim-env.sh" "$D" 2 0 2>&1); then
		rc=1
		bad "sim/make-sim-env.sh failed"
		return 1
	fi
	eval "$out"
}

per_use_anchors() {
	local dev_sha rim_sha
	dev_sha=$(sha256_of "$D/root.pem")
	rim_sha=$(sha256_of "$D/rim/root.pem")

	live --no-pinned-anchors --device-anchor "$D/root.pem" --rim-anchor "$D/rim/root.pem" --format json
	expect_rc 0 "each test root for its own use"
	expect_json "$CHAIN[\"cn\"]" "gpuattest SIM Device Identity CA" "json: the device chain's anchor CN"
	expect_json "$CHAIN[\"sha256\"]" "$dev_sha" "json: the device chain's anchor SHA-256"
	expect_json "$CHAIN[\"nvidia\"]" False "json: the device anchor is not NVIDIA's"
	expect_json "$DRV_CHAIN[\"cn\"]" "gpuattest SIM CoRIM signing Root CA" "json: the RIM chain's anchor CN"
	expect_json "$DRV_CHAIN[\"sha256\"]" "$rim_sha" "json: the RIM chain's anchor SHA-256"
	expect_json '"genuine NVIDIA" in d["summary"]' False "json: summary never 'genuine NVIDIA' under a test anchor"
	expect_json '"not NVIDIA'"'"'s root" in d["summary"]' True "json: summary says not NVIDIA's root"
	expect_json '[w["id"] for w in d["weakened"]].count("non-nvidia-anchor")' 2 \
	    "json: one weakening per non-NVIDIA anchor (device, RIM), not per GPU"

	live --no-pinned-anchors --device-anchor "$D/root.pem" --rim-anchor "$D/rim/root.pem"
	expect_out "2 GPU(s) verified under test anchor CN=gpuattest SIM Device Identity CA (sha256 $dev_sha) (not NVIDIA's root)" \
	    "text: the summary names the test anchor"
	expect_out "device certificate chain valid, expires" "text: device chain valid"
	expect_out "anchor CN=gpuattest SIM Device Identity CA (sha256 $dev_sha), not NVIDIA's root" \
	    "text: the device chain's anchor named"
	expect_out "anchor CN=gpuattest SIM CoRIM signing Root CA (sha256 $rim_sha), not NVIDIA's root" \
	    "text: the RIM chain's anchor named"
	expect_no_out "genuine NVIDIA" "text: never 'genuine NVIDIA' under a test anchor"

	# A private CA named for RIM signing signs a device chain: refused,
	# with NVIDIA's pinned roots kept or not.
	live --rim-anchor "$D/root.pem" --rim-anchor "$D/rim/root.pem"
	expect_rc 1 "a device CA given as --rim-anchor does not validate devices"
	expect_out "device certificate chain does not lead to a trusted anchor" "--rim-anchor device CA: says why"
	expect_no_out "VERIFICATION SUCCESSFUL" "--rim-anchor device CA: no success"
	live --no-pinned-anchors --rim-anchor "$D/root.pem" --rim-anchor "$D/rim/root.pem"
	expect_rc 1 "a device CA given as --rim-anchor, no pinned roots"
	# ... and a RIM-signing CA given as --device-anchor does not sign RIMs.
	live --no-pinned-anchors --device-anchor "$D/root.pem" --device-anchor "$D/rim/root.pem"
	expect_rc 1 "a RIM CA given as --device-anchor does not validate RIMs"
	expect_out "RIM NV_GPU_DRIVER_GH100_595.71.05 certificate chain does not lead to a trusted anchor" \
	    "--device-anchor RIM CA: says why"

	# --trust-anchor still means both uses.
	live --no-pinned-anchors --trust-anchor "$D/root.pem" --trust-anchor "$D/rim/root.pem"
	expect_rc 0 "--trust-anchor: both uses"
	run_cli help verify
	expect_out "--device-anchor FILE" "help documents --device-anchor"
	expect_out "--rim-anchor FILE" "help documents --rim-anchor"
	expect_out "--trust-anchor FILE  both at once" "help documents --trust-anchor as both"
}

live_versus_recorded() {
	local ev=$TMP/ev.json nonce=1111111111111111111111111111111111111111111111111111111111111111
	live --no-pinned-anchors --device-anchor "$D/root.pem" --rim-anchor "$D/rim/root.pem"
	expect_out "This system has 2 GPU(s) verified under test anchor" "live: 'This system has'"
	expect_out "with Confidential Computing features enabled and operational." "live: CC operational"
	run_cli collect -o "$ev" --nonce "$nonce" --nvml-lib "$SIMLIB"
	expect_rc 0 "collect"
	run_cli verify --evidence "$ev" --nonce "$nonce" --rim-dir "$D/rims" --no-ocsp --no-pinned-anchors \
	    --device-anchor "$D/root.pem" --rim-anchor "$D/rim/root.pem"
	expect_rc 0 "recorded: verifies"
	expect_out "The evidence shows 2 GPU(s) verified under test anchor" "recorded: 'The evidence shows'"
	expect_out "not read from a driver" "recorded: CC configuration not read from a driver"
	expect_no_out "This system has" "recorded: no claim about this system"
	expect_no_out "enabled and operational" "recorded: no claim of CC operational"
}

nvidia_evidence() {
	need_shared || return 0
	mkdir -p "$TMP/rims"
	cp "$V/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml" "$V/rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml" "$TMP/rims/"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --nonce "$AZ_NONCE" --rim-dir "$TMP/rims" --no-ocsp --format json
	expect_rc 0 "Azure H100 under NVIDIA's roots"
	expect_json "$CHAIN[\"sha256\"]" "$NV_DEV_SHA" "Azure: the device chain ends at the pinned Device Identity CA"
	expect_json "$CHAIN[\"nvidia\"]" True "Azure: the device anchor is NVIDIA's"
	expect_json "$CHAIN[\"cn\"]" "NVIDIA Device Identity CA" "Azure: its CN"
	expect_json "$DRV_CHAIN[\"sha256\"]" "$NV_RIM_SHA" "Azure: the RIM chain ends at the pinned CoRIM root"
	expect_json '"non-nvidia-anchor" in [w["id"] for w in d["weakened"]]' False "Azure: NVIDIA's roots weaken nothing"
	run_cli verify --evidence "$AZ/gpu-evidence.json" --nonce "$AZ_NONCE" --rim-dir "$TMP/rims" --no-ocsp
	expect_out "The evidence shows 1 genuine NVIDIA GPU(s)." "Azure: genuine NVIDIA, as the evidence shows"
	expect_out "anchor CN=NVIDIA Device Identity CA (sha256 $NV_DEV_SHA)" "Azure: the pinned anchor named"
	expect_no_out "This system has" "Azure: recorded, no claim about this system"
}

main() {
	nvidia_evidence
	setup || return 0
	per_use_anchors
	live_versus_recorded
}

main
finish
