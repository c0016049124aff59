#!/usr/bin/env bash
# `gpuattest inspect` on versioned opaque data (NVDAOD, issue 11 points 1
# and 6): NVIDIA's real transcript (driver 620.12, 17 entries) and mutations
# of it: an unknown id (shown), a newer version (exit 3, said), a non-zero
# profile and a wrong value type (exit 2, entry and offset named).
. "$(dirname "$0")/lib.sh"

NVDAOD=$SHARED/vectors/nvidia-2.0/gpu/sample_nvdaod_transcript.txt
OPQ=3599	# offset of the opaque data in the transcript
OLEN=483

# mutate OUT PYTHON: the transcript's opaque data as bytearray `o`, changed by
# PYTHON, written back (length fixed up, signature bytes kept) as hex to OUT.
mutate() {
	python3 - "$NVDAOD" "$1" "$2" <<-'EOF'
	import sys
	b = bytearray.fromhex(open(sys.argv[1]).read())
	o = bytearray(b[3599:3599 + 483])
	exec(sys.argv[3])
	b = b[:3597] + len(o).to_bytes(2, "little") + o + b[3599 + 483:]
	open(sys.argv[2], "w").write(b.hex())
	EOF
}

transcript_shown() {
	run_cli inspect "$NVDAOD" --format json
	expect_rc 0 "inspect the NVDAOD transcript"
	expect_json 'd["devices"][0]["response"]["OpaqueDataLayout"]' NVDAOD "layout"
	expect_json 'd["devices"][0]["response"]["OpaqueDataHeader"]["version"]' 2.0.0 "header version"
	expect_json 'd["devices"][0]["response"]["OpaqueDataVersion"]' 2 "opaque data version"
	expect_json 'len(d["devices"][0]["response"]["OpaqueDataEntries"])' 17 "17 entries"
	expect_json '" ".join("%d:%s/%d" % (e["id"], e["value_type"][2:], e["size"]) for e in d["devices"][0]["response"]["OpaqueDataEntries"])' \
		"6:86/8 14:82/4 15:82/9 16:82/5 17:82/5 18:82/5 19:82/2 3:86/7 4:82/8 12:84/256 13:83/4 11:82/1 37:87/2 20:01/48 21:85/1 34:86/2 36:85/2" \
		"every entry with its value type and size, in order"
	expect_json 'd["devices"][0]["derived"]["driver_version"]' 620.12 "driver 620.12"
	expect_json 'd["devices"][0]["derived"]["vbios_version"]' 96.00.D9.00.0F "VBIOS"
	expect_json 'd["devices"][0]["derived"]["driver_rim_id"]' NV_GPU_DRIVER_GH100_620.12 "driver RIM id"
	expect_json 'd["devices"][0]["response"]["OpaqueDataDecoded"]["FSP_UCODE_SVN"]' 0 "FSP ucode SVN"
	expect_json '[e["note"] for e in d["devices"][0]["response"]["OpaqueDataEntries"] if e["id"] == 34][0].startswith("ignored")' True \
		"the stray legacy version entry is marked ignored"
	run_cli inspect "$NVDAOD"
	expect_rc 0 "text"
	expect_out "OpaqueDataLayout: NVDAOD" "text: layout"
	expect_out "version: 2.0.0" "text: version"
	expect_out "name: FSP_UCODE_SVN" "text: entry names"
	expect_out "value_type: 0x87" "text: value types"
}

unknown_id_shown() {
	mutate "$TMP/unknown.hex" 'o += bytes.fromhex("e70334120300616263") + bytes.fromhex("260085000200aa00")'
	run_cli inspect "$TMP/unknown.hex" --format json
	expect_rc 0 "unknown ids are not rejected"
	expect_json '[(e["name"], e["value_type"], e["value"], e["note"]) for e in d["devices"][0]["response"]["OpaqueDataEntries"] if e["id"] == 999][0]' \
		"('TYPE_999', '0x1234', '616263', 'unknown id, kept raw')" "id 999 shown raw with its value type"
	expect_json '[e["name"] for e in d["devices"][0]["response"]["OpaqueDataEntries"] if e["id"] == 38][0]' TYPE_38 "id 38 shown"
	expect_json 'd["devices"][0]["response"]["OpaqueData"]["TYPE_999"]' 616263 "in OpaqueData too"
}

newer_version_said() {
	mutate "$TMP/v3.hex" 'o[8] = 3'
	run_cli inspect "$TMP/v3.hex"
	expect_rc 3 "version 3: could not complete"
	expect_out "opaque data version 3 is newer than this verifier supports (max 2)" "version 3 said"
	expect_out "version: 3.0.0" "the header is still shown"
}

malformed_named() {
	mutate "$TMP/profile.hex" 'o[6] = 1'
	run_cli inspect "$TMP/profile.hex"
	expect_rc 2 "profile 1"
	expect_out "NVDAOD profile 1 at offset 3605; only profile 0 is defined" "profile named with its offset"
	# id 37 is the 13th entry; its value type bytes follow its id.
	mutate "$TMP/vt.hex" 'i = o.find(bytes.fromhex("2500870002")); o[i + 2] = 0x82'
	run_cli inspect "$TMP/vt.hex"
	expect_rc 2 "SVN with another value type"
	expect_out "entry 37 (FSP_UCODE_SVN) at offset" "entry named"
	expect_out "has value type 0x82, expected 0x87" "value types named"
	mutate "$TMP/trail.hex" 'o += b"\x00"'
	run_cli inspect "$TMP/trail.hex"
	expect_rc 2 "a byte after the last entry"
	expect_out "entry header at offset 4082 is truncated" "the leftover byte named"
	mutate "$TMP/dup.hex" 'o += bytes.fromhex("0300860007003632302e313200")'
	run_cli inspect "$TMP/dup.hex"
	expect_rc 2 "a repeated id"
	expect_out "repeats the entry at offset" "the repeat named"
}

# Claims 4.0 by default, 3.0 on request, on NVIDIA's recorded Azure H100.
claims_versions() {
	local az=$V/gpu/hopper_595.71.05_azure
	local nonce=690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
	[ -d "$az" ] || { skip "legacy vectors not found"; return 0; }
	mkdir -p "$TMP/rims"
	cp "$V"/rim/driver/NV_GPU_DRIVER_GH100_595.71.05.xml "$TMP/rims/"
	cp "$V"/rim/vbios/*96009F0004*.xml "$TMP/rims/NV_GPU_VBIOS_1010_0210_886_96009F0004.xml" 2>/dev/null
	run_cli verify --evidence "$az/gpu-evidence.json" --nonce "$nonce" --rim-dir "$TMP/rims" --no-ocsp \
		--at 2026-06-01T00:00:00Z --format json
	expect_rc 0 "Azure H100 verifies"
	expect_json 'd["claims"][0]["x-nvidia-gpu-claims-version"]' 4.0 "default claims 4.0"
	expect_json 'd["claims"][0]["x-nvidia-attester-claims"]' "{}" "attester claims present, empty"
	expect_json 'd["claims"][0]["x-nvidia-mismatch-opaque-data-records"]' None "no opaque mismatch records"
	run_cli verify --evidence "$az/gpu-evidence.json" --nonce "$nonce" --rim-dir "$TMP/rims" --no-ocsp \
		--at 2026-06-01T00:00:00Z --format json --claims-version 3
	expect_rc 0 "Azure H100 verifies with claims 3"
	expect_json 'd["claims"][0]["x-nvidia-gpu-claims-version"]' 3.0 "--claims-version 3"
	expect_json '"x-nvidia-attester-claims" in d["claims"][0] or "x-nvidia-mismatch-opaque-data-records" in d["claims"][0]' \
		False "claims 3.0 carry no 4.0 key"
	run_cli verify --evidence "$az/gpu-evidence.json" --claims-version 5
	expect_rc 2 "--claims-version 5"
	expect_out "--claims-version must be 3 or 4" "--claims-version 5 said"
}

main() {
	claims_versions
	if [ ! -f "$NVDAOD" ]; then
		skip "NVIDIA 2.0 vectors not found at $NVDAOD"
		return 0
	fi
	transcript_shown
	unknown_id_shown
	newer_version_said
	malformed_named
}
main
finish
