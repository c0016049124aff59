#!/usr/bin/env bash
# The --format json contract: stdout is always one JSON document with
# schema_version, also when a run stops without a verdict (exit 2 bad usage
# or unreadable input, exit 3 no driver), carrying the error; --quiet still
# prints nothing. Every document printed here is also validated against
# schema/gpuattest-result.schema.json by tests/check_json_schema.py.
. "$(dirname "$0")/lib.sh"

# error_doc RC RESULT TEXT WHAT: stdout alone is the error document.
error_doc() {
	expect_rc "$1" "$4: exit"
	expect_json 'd["schema_version"]' 1.0 "$4: schema_version"
	expect_json 'd["result"]' "$2" "$4: result"
	expect_json 'd["exit_code"]' "$1" "$4: exit_code"
	expect_json '"devices" in d' False "$4: no devices"
	local err
	err=$(json_get 'd["error"]')
	if grep -qF -- "$3" <<<"$err"; then ok; else bad "$4: error is '$err', lacks '$3'"; fi
}

errors() {
	run_cli_stdout verify --format json --evidence
	error_doc 2 bad-input "--evidence needs an argument" "missing argument"
	run_cli_stdout verify --evidence --format json
	error_doc 2 bad-input "--evidence" "missing argument, --format json taken as the file"
	run_cli_stdout verify --bogus --format=json
	error_doc 2 bad-input "unknown option --bogus" "unknown option before --format=json"
	run_cli_stdout verify --format json --evidence "$TMP/absent.json"
	error_doc 2 bad-input "$TMP/absent.json" "unreadable evidence"
	printf '[{"evidence": 5}]' >"$TMP/bad.json"
	run_cli_stdout verify --format json --evidence "$TMP/bad.json" --no-ocsp
	error_doc 2 bad-input "$TMP/bad.json" "malformed evidence"
	run_cli_stdout verify --format json --nvml-lib "$TMP/no-libnvidia-ml.so.1"
	error_doc 3 incomplete "no-libnvidia-ml.so.1" "no driver"
	run_cli_stdout verify --format json --nonce 12
	error_doc 2 bad-input "--nonce must be 64 hex digits" "bad nonce"
}

quiet_and_text() {
	run_cli_stdout verify --quiet --format json --evidence "$TMP/absent.json"
	expect_rc 2 "--quiet: exit"
	if [ -z "$out" ]; then ok; else bad "--quiet printed '$out'"; fi
	run_cli_stdout verify --evidence "$TMP/absent.json"
	expect_rc 2 "text: exit"
	if [ -z "$out" ]; then ok; else bad "text mode: an error document on stdout: '$out'"; fi
}

verdicts() {
	need_shared || return
	local az=$V/gpu/hopper_595.71.05_azure
	run_cli_stdout verify --format json --evidence "$az/gpu-evidence.json" --rim-dir "$V/rim/driver" \
	    --rim-dir "$V/rim/vbios" --no-ocsp \
	    --nonce 690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
	expect_rc 0 "pass: exit"
	expect_json 'd["schema_version"]' 1.0 "pass: schema_version"
	expect_json 'list(d)[0]' schema_version "pass: schema_version first"
	run_cli_stdout verify --format json --evidence "$az/gpu-evidence.json" --no-ocsp --offline --no-cache
	expect_rc 3 "no RIMs: exit"
	expect_json 'd["result"]' incomplete "no RIMs: a verdict document, not an error"
	expect_json '"error" in d' False "no RIMs: no error key"
}

errors
quiet_and_text
verdicts
finish
