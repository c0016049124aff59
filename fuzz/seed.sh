#!/usr/bin/env bash
# Builds fuzzing seed directories from the recorded vectors in ../shared
# (never copied into the repository): decoded reports for fuzz_spdm and the
# evidence JSON files for fuzz_evidence, plus the small generated seeds kept
# in fuzz/corpus/, plus OCSP responses for fuzz_ocsp made here by a real
# `openssl ocsp` over a throw-away PKI (tests/servers/mkpki.sh: not the fuzz
# fixture's keys, so they exercise the decoder and the CertID match; the
# fuzzer mutates its way from there). Usage: fuzz/seed.sh [OUTDIR]
# (default build-fuzz/seeds)
set -eu
cd "$(dirname "$0")/.."
out=${1:-build-fuzz/seeds}
shared=${GPUATTEST_SHARED:-../shared}/vectors/nvidia
mkdir -p "$out/spdm" "$out/evidence"
out=$(cd "$out" && pwd)
cp fuzz/corpus/spdm/* "$out/spdm/"
cp fuzz/corpus/evidence/* "$out/evidence/"
# fuzz_receipt: a real receipt of NVIDIA's Azure evidence, made here by the
# tool itself (never stored: it carries the recorded evidence and RIMs).
mkdir -p "$out/receipt"
cp fuzz/corpus/receipt/* "$out/receipt/" 2>/dev/null || true
if [ -x build/gpuattest ] && [ -d "$shared/gpu/hopper_595.71.05_azure" ]; then
	r=$(mktemp -d)
	cp "$shared/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml" \
	    "$shared/rim/vbios/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml" "$r/"
	build/gpuattest verify --evidence "$shared/gpu/hopper_595.71.05_azure/gpu-evidence.json" \
	    --nonce 690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a --rim-dir "$r" \
	    --no-ocsp --no-cache --at 2026-11-28T00:00:00Z --quiet --receipt "$out/receipt/azure.json" \
	    >/dev/null 2>&1 || true
	rm -rf "$r"
fi
# fuzz_reqparse: NVIDIA's Azure H100 evidence is an NRAS request body as it
# is; the target takes an even-sized input as a GPU request, so a newline
# (JSON whitespace) evens it out when needed.
mkdir -p "$out/reqparse"
if [ -f "$shared/gpu/hopper_595.71.05_azure/gpu-evidence.json" ]; then
	cat "$shared/gpu/hopper_595.71.05_azure/gpu-evidence.json" >"$out/reqparse/azure-gpu.json"
	[ $(($(wc -c <"$out/reqparse/azure-gpu.json") % 2)) = 0 ] || echo >>"$out/reqparse/azure-gpu.json"
fi
if command -v openssl >/dev/null; then
	mkdir -p "$out/ocsp"
	pki=$(mktemp -d)
	if bash tests/servers/mkpki.sh "$pki/p" >/dev/null 2>&1; then
		(
			cd "$pki/p"
			openssl ocsp -issuer ica.pem -cert leaf_good.pem -cert leaf_revoked.pem \
			    -cert leaf_unknown.pem -reqout multi.req >/dev/null 2>&1
			openssl ocsp -issuer ica.pem -cert leaf_good.pem -reqout one.req >/dev/null 2>&1
			for r in one multi; do
				openssl ocsp -index db_ica/index.txt -CA ica.pem -rsigner ocsp_ica.pem \
				    -rkey ocsp_ica.key -reqin $r.req -respout "$out/ocsp/$r.der" \
				    -ndays 1 >/dev/null 2>&1
				openssl ocsp -index db_ica/index.txt -CA ica.pem -rsigner ocsp_ica.pem \
				    -rkey ocsp_ica.key -reqin $r.req -resp_no_certs \
				    -respout "$out/ocsp/$r-nocerts.der" >/dev/null 2>&1
			done
		) || true
	fi
	rm -rf "$pki"
	# fuzz_p384: point || SHA-384 digest || DER signature, all valid.
	mkdir -p "$out/p384"
	k=$(mktemp -d)
	for i in 1 2 3; do
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$k/key.pem" 2>/dev/null &&
		    openssl pkey -in "$k/key.pem" -pubout -outform DER 2>/dev/null | tail -c 97 >"$k/point" &&
		    printf 'seed %s' "$i" | openssl dgst -sha384 -binary >"$k/digest" &&
		    openssl pkeyutl -sign -inkey "$k/key.pem" -in "$k/digest" -out "$k/sig" 2>/dev/null &&
		    cat "$k/point" "$k/digest" "$k/sig" >"$out/p384/seed$i" || true
	done
	rm -rf "$k"
fi
# fuzz_rego: the shipped policies (policies/), constructs and a policy with
# an input (fuzz/corpus/rego), and NVIDIA's Rego policies as they are in
# ../shared.
mkdir -p "$out/rego"
cp fuzz/corpus/rego/* policies/*.rego "$out/rego/"
cp "$shared"/../nvidia-2.0/policies/*.rego "$out/rego/" 2>/dev/null || true
if [ ! -d "$shared" ]; then
	echo "seed.sh: $shared not found; only the generated seeds are used" >&2
	exit 0
fi
n=0
for f in "$shared"/gpu/*/* "$shared"/switch/*/*; do
	name=$(basename "$(dirname "$f")")_$(basename "$f")
	case "$f" in
	*.hex.txt) python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(open(sys.argv[1]).read().strip()))' "$f" >"$out/spdm/$name.bin" ;;
	*.bin) cp "$f" "$out/spdm/$name" ;;
	*.json) cp "$f" "$out/evidence/$name" ;;
	*) continue ;;
	esac
	n=$((n + 1))
done
# fuzz_opaque: the opaque data of NVIDIA's NVDAOD transcript (bytes 3599..4081).
t=$shared/../nvidia-2.0/gpu/sample_nvdaod_transcript.txt
mkdir -p "$out/opaque"
if [ -f "$t" ]; then
	python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(open(sys.argv[1]).read().strip())[3599:4082])' "$t" >"$out/opaque/nvdaod_transcript.bin"
	python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(open(sys.argv[1]).read().strip()))' "$t" >"$out/spdm/nvdaod_transcript.bin"
	n=$((n + 1))
fi
# fuzz_token: the first byte says what follows (see fuzz/fuzz_token.c):
# NRAS's recorded detached EATs (2), their decoded claims as one claim set
# (4) and as an array of sets (5), and a JWKS our own tool prints (0).
mkdir -p "$out/token"
for f in "$shared"/expected/nras/*_detached_eat.json; do
	[ -f "$f" ] || continue
	{ printf '\002'; cat "$f"; } >"$out/token/eat-$(basename "$f")"
	n=$((n + 1))
done
for f in "$shared"/expected/nras/*_decoded.json; do
	[ -f "$f" ] || continue
	python3 - "$f" "$out/token/claims-$(basename "$f")" "$out/token/sets-$(basename "$f")" <<-'PY' || true
	import json, sys
	d = json.load(open(sys.argv[1]))
	sets = [v for v in d.values() if isinstance(v, dict)]
	if sets:
	    open(sys.argv[2], "wb").write(b"\x04" + json.dumps(sets[0]).encode())
	    open(sys.argv[3], "wb").write(b"\x05" + json.dumps(sets).encode())
	PY
done
if [ -x build/gpuattest ] && command -v openssl >/dev/null; then
	k=$(mktemp -d)
	if openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$k/key.pem" 2>/dev/null; then
		{ printf '\000'; build/gpuattest jwks --key "$k/key.pem" --kid fuzz-kid 2>/dev/null; } \
		    >"$out/token/jwks.json" || true
	fi
	rm -rf "$k"
fi
echo "seed.sh: $n files from $shared into $out"
