#!/usr/bin/env bash
# Hostile input through the gpuattest CLI: every malformed evidence file,
# report, certificate field, option value and RIM must end in exit 2 (or 1
# for a well-formed RIM whose signature no longer verifies) with a message
# that names the file and the problem, and must never crash or hang.
#
# Every hostile file is derived at run time, in $TMP, from the real recorded
# vectors under ../shared (nothing is committed). Never asserts on anything
# but exit codes and message fragments.
#
# Sanitizers: the same inputs are meant to be run once under the ASan+UBSan
# build, e.g.
#     make SAN=1 BUILD=build-san && GPUATTEST=$PWD/build-san/gpuattest bash tests/cli/test_cli_input.sh
# Every case also checks that the output holds no sanitizer report and that
# the exit code is not a signal, so a crash, overflow or leak (LeakSanitizer
# turns a clean exit into exit 1 plus a report) fails the case there.
. "$(dirname "$0")/lib.sh"

AZ=$V/gpu/hopper_595.71.05_azure
DRV_ID=NV_GPU_DRIVER_GH100_595.71.05
VB_ID=NV_GPU_VBIOS_1010_0210_886_96009F0004

# gen.py MODE IN OUT ARGS: writes one hostile variant of an evidence JSON
# (IN) or of a RIM.
write_generator() {
	cat >"$TMP/gen.py" <<'EOF'
import base64, json, re, sys

mode, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]

def load():
    with open(src) as f:
        return json.load(f)

def save(doc):
    with open(dst, "w") as f:
        json.dump(doc, f)

if mode == "field":            # field KEY JSONVALUE: replace evidence_list[0][KEY]
    doc = load()
    doc["evidence_list"][0][args[0]] = json.loads(args[1])
    save(doc)
elif mode == "outer":          # outer KEY JSONVALUE: replace a top-level key
    doc = load()
    doc[args[0]] = json.loads(args[1])
    save(doc)
elif mode == "rawfield":       # rawfield KEY TEXT: evidence_list[0][KEY] = TEXT as is
    doc = load()
    doc["evidence_list"][0][args[0]] = args[1]
    save(doc)
elif mode == "report":         # report OP...: change the decoded report bytes
    doc = load()
    rep = bytearray(base64.b64decode(doc["evidence_list"][0]["evidence"]))
    op = args[0]
    if op == "cut":
        rep = rep[:int(args[1])]
    elif op == "set":
        off = int(args[1])
        val = bytes.fromhex(args[2])
        rep[off:off + len(val)] = val
    elif op == "append":
        rep += bytes.fromhex(args[1])
    doc["evidence_list"][0]["evidence"] = base64.b64encode(bytes(rep)).decode()
    save(doc)
elif mode == "cert":           # cert TEXT: the certificate field is base64(TEXT)
    doc = load()
    doc["evidence_list"][0]["certificate"] = base64.b64encode(args[0].encode()).decode()
    save(doc)
elif mode == "cert-cut":       # the first PEM body cut in half, END line kept
    doc = load()
    pem = base64.b64decode(doc["evidence_list"][0]["certificate"]).decode()
    begin = "-----BEGIN CERTIFICATE-----\n"
    end = "-----END CERTIFICATE-----"
    body = pem[pem.index(begin) + len(begin):pem.index(end)]
    cut = begin + body[:len(body) // 2].rstrip("\n") + "\n" + end + "\n"
    doc["evidence_list"][0]["certificate"] = base64.b64encode(cut.encode()).decode()
    save(doc)
elif mode == "cert-noend":     # the PEM text stops in the middle of the first body
    doc = load()
    pem = base64.b64decode(doc["evidence_list"][0]["certificate"]).decode()
    cut = pem[:len(pem.split("-----END")[0]) // 2]
    doc["evidence_list"][0]["certificate"] = base64.b64encode(cut.encode()).decode()
    save(doc)
elif mode == "hexodd":         # hex text of the report with its last digit removed
    doc = load()
    rep = base64.b64decode(doc["evidence_list"][0]["evidence"])
    with open(dst, "w") as f:
        f.write(rep.hex()[:-1] + "\n")
elif mode == "rim-cut":        # first half of the RIM
    data = open(src, "rb").read()
    open(dst, "wb").write(data[:len(data) // 2])
elif mode == "rim-xxe":        # a DOCTYPE with an external entity used in the document
    text = open(src).read()
    decl_end = text.index("?>") + 2 if text.startswith("<?xml") else 0
    dtd = '\n<!DOCTYPE SoftwareIdentity [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
    text = text[:decl_end] + dtd + text[decl_end:]
    i = text.index("<SoftwareIdentity")
    j = text.index(">", i)
    text = text[:j + 1] + "&xxe;" + text[j + 1:]
    open(dst, "w").write(text)
elif mode == "rim-laughs":     # billion laughs: 10^9 expansions if ever expanded
    ents = ['<!ENTITY lol0 "lol">']
    for k in range(1, 10):
        ents.append('<!ENTITY lol%d "%s">' % (k, ("&lol%d;" % (k - 1)) * 10))
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE SoftwareIdentity [\n'
            + "\n".join(ents) + '\n]>\n<SoftwareIdentity xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd">&lol9;</SoftwareIdentity>\n')
    open(dst, "w").write(text)
elif mode == "rim-extra-sig":  # a second, copied ds:Signature after the first
    text = open(src).read()
    i = text.index("<ds:Signature")
    j = text.index("</ds:Signature>") + len("</ds:Signature>")
    text = text[:j] + text[i:j] + text[j:]
    open(dst, "w").write(text)
elif mode == "rim-sig-in-payload":  # the ds:Signature moved inside Payload
    text = open(src).read()
    i = text.index("<ds:Signature")
    j = text.index("</ds:Signature>") + len("</ds:Signature>")
    sig = text[i:j]
    text = text[:i] + text[j:]
    k = re.search(r"</(\w+:)?Payload>", text).start()
    text = text[:k] + sig + text[k:]
    open(dst, "w").write(text)
elif mode == "rim-hash":       # one Hash attribute's first digit changed
    text = open(src).read()
    key = "Hash0="
    if key not in text:
        key = ":Hash0="
    i = text.index(key) + len(key) + 1
    digit = text[i]
    text = text[:i] + ("1" if digit != "1" else "2") + text[i + 1:]
    open(dst, "w").write(text)
else:
    sys.exit("unknown mode " + mode)
EOF
}

gen() { python3 "$TMP/gen.py" "$@"; }

make_rim_dir() {
	mkdir -p "$TMP/rims"
	cp "$V/rim/driver/$DRV_ID.xml" "$V/rim/vbios/$VB_ID.xml" "$TMP/rims/"
}

# A rim dir with the good VBIOS RIM and the given file as the driver RIM.
rim_dir_with_driver() {
	local name=$1 file=$2
	mkdir -p "$TMP/r-$name"
	cp "$V/rim/vbios/$VB_ID.xml" "$TMP/r-$name/"
	cp "$file" "$TMP/r-$name/$DRV_ID.xml"
	echo "$TMP/r-$name"
}

control() {
	run_safe verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$TMP/rims" --no-ocsp \
	    --nonce 690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
	expect_rc 0 "control: Azure evidence with its RIMs"
	expect_out "VERIFICATION SUCCESSFUL" "control: verdict"
}

# bad_file NAME PATH FRAGMENT [INSPECT_FRAGMENT]: verify and inspect must
# both exit 2 and name the file and the problem. inspect also takes raw
# reports, so what it says about a file that is not JSON can differ.
bad_file() {
	local what=$1 path=$2 frag=$3 ifrag=${4:-$3}
	run_safe verify --evidence "$path" --rim-dir "$TMP/rims" --no-ocsp
	expect_rc 2 "verify $what"
	expect_out "$path" "verify $what: names the file"
	expect_out "$frag" "verify $what: says the problem"
	run_safe inspect "$path"
	expect_rc 2 "inspect $what"
	expect_out "$path" "inspect $what: names the file"
	expect_out "$ifrag" "inspect $what: says the problem"
}

# bad_report NAME PATH FRAGMENT: a well-formed file whose report is broken:
# verify must exit 2 with the problem; inspect must also exit 2.
bad_report() {
	local what=$1 path=$2 frag=$3
	run_safe verify --evidence "$path" --rim-dir "$TMP/rims" --no-ocsp
	expect_rc 2 "verify $what"
	expect_out "$frag" "verify $what: says the problem"
	expect_no_out "VERIFICATION SUCCESSFUL" "verify $what: no success"
	run_safe inspect "$path"
	expect_rc 2 "inspect $what"
	expect_out "$path" "inspect $what: names the file"
	expect_out "$frag" "inspect $what: says the problem"
}

file_level_cases() {
	local ev=$AZ/gpu-evidence.json
	bad_file "missing file" "$TMP/no-such-evidence.json" "cannot open"
	mkdir -p "$TMP/a-directory.json"
	bad_file "a directory" "$TMP/a-directory.json" "not a regular file"
	: >"$TMP/empty.json"
	bad_file "empty file" "$TMP/empty.json" "not valid JSON" "report is empty"
	printf 'hello, not json\n' >"$TMP/notjson.json"
	bad_file "not JSON" "$TMP/notjson.json" "not valid JSON" "report truncated"
	printf '{"nonce": "00", "arch": "HOPPER"}\n' >"$TMP/no-list.json"
	bad_file "object without evidence_list" "$TMP/no-list.json" "evidence_list"
	printf '42\n' >"$TMP/number.json"
	bad_file "a number" "$TMP/number.json" "not valid JSON" "report truncated"
	printf '[]\n' >"$TMP/empty-array.json"
	bad_file "empty array" "$TMP/empty-array.json" "empty"

	gen field "$ev" "$TMP/ev-number.json" evidence 12345
	bad_file "evidence as number" "$TMP/ev-number.json" '"evidence" must be a string'
	gen outer "$ev" "$TMP/nonce-object.json" nonce '{"a": 1}'
	bad_file "nonce as object" "$TMP/nonce-object.json" '"nonce" must be a string'
	gen field "$ev" "$TMP/cert-array.json" certificate '["a", "b"]'
	bad_file "certificate as array" "$TMP/cert-array.json" '"certificate" must be a string'
	gen rawfield "$ev" "$TMP/ev-badb64.json" evidence 'EQAB!!!*not~base64'
	bad_file "bad base64 in evidence" "$TMP/ev-badb64.json" '"evidence" is not valid base64'
	gen rawfield "$ev" "$TMP/ev-badpad.json" evidence 'EeABAQ='
	bad_file "bad base64 padding" "$TMP/ev-badpad.json" '"evidence" is not valid base64'
	gen rawfield "$ev" "$TMP/ev-midpad.json" evidence 'EeA=BAQA'
	bad_file "padding in the middle" "$TMP/ev-midpad.json" '"evidence" is not valid base64'
}

report_cases() {
	local ev=$AZ/gpu-evidence.json n field
	# Cut inside the request, the response header, the measurement record
	# and the opaque data: the message says "truncated" or names the field
	# that runs past the end.
	for n in 10:truncated 37:truncated 45:MeasurementRecordLength 100:MeasurementRecordLength 4000:OpaqueLength; do
		field=${n#*:} n=${n%%:*}
		gen report "$ev" "$TMP/cut-$n.json" cut "$n"
		bad_report "report cut at $n bytes" "$TMP/cut-$n.json" "$field"
	done
	# Shorter than its own signature: said besides the parse error.
	run_safe verify --evidence "$TMP/cut-37.json" --rim-dir "$TMP/rims" --no-ocsp
	expect_out "report too short to carry a signature" "report cut at 37 bytes: no signature"
	# MeasurementRecordLength is the 3 bytes at 37+5 = 42..44.
	gen report "$ev" "$TMP/mrl.json" set 42 ffffff
	bad_report "MeasurementRecordLength ffffff" "$TMP/mrl.json" "MeasurementRecordLength"
	# OpaqueLength follows the record (3520) and the 32-byte nonce: 37+8+3520+32.
	gen report "$ev" "$TMP/olen.json" set 3597 ffff
	bad_report "OpaqueLength ffff" "$TMP/olen.json" "OpaqueLength"
	gen report "$ev" "$TMP/trailing.json" append 00112233
	bad_report "trailing bytes" "$TMP/trailing.json" "trailing"
}

cert_cases() {
	local ev=$AZ/gpu-evidence.json
	gen cert "$ev" "$TMP/cert-hello.json" hello
	run_safe verify --evidence "$TMP/cert-hello.json" --rim-dir "$TMP/rims" --no-ocsp
	expect_rc 2 "non-PEM certificate"
	expect_out "certificate" "non-PEM certificate: names the field"
	expect_no_out "VERIFICATION SUCCESSFUL" "non-PEM certificate: no success"
	run_safe inspect "$TMP/cert-hello.json"
	expect_rc 2 "inspect non-PEM certificate"
	expect_out "certificate" "inspect non-PEM certificate: names the field"

	gen cert-cut "$ev" "$TMP/cert-cut.json"
	run_safe verify --evidence "$TMP/cert-cut.json" --rim-dir "$TMP/rims" --no-ocsp
	expect_rc 2 "certificate with a truncated PEM body"
	expect_out "certificate" "truncated PEM body: names the field"
	expect_no_out "VERIFICATION SUCCESSFUL" "truncated PEM body: no success"

	gen cert-noend "$ev" "$TMP/cert-noend.json"
	run_safe verify --evidence "$TMP/cert-noend.json" --rim-dir "$TMP/rims" --no-ocsp
	expect_rc 2 "certificate PEM without END line"
	expect_out "certificate" "PEM without END: names the field"
}

report_file_cases() {
	local ev=$AZ/gpu-evidence.json
	gen hexodd "$ev" "$TMP/odd.hex"
	run_safe verify --report "$TMP/odd.hex" --cert-chain "$AZ/cert_chain.pem" --rim-dir "$TMP/rims" --no-ocsp
	expect_rc 2 "--report with an odd number of hex digits"
	expect_out "$TMP/odd.hex" "odd hex: names the file"
	expect_out "odd number of digits" "odd hex: says the problem"
	run_safe inspect "$TMP/odd.hex" --cert-chain "$AZ/cert_chain.pem"
	expect_rc 2 "inspect odd hex"
	expect_out "odd number of digits" "inspect odd hex: says the problem"

	run_safe verify --report "$AZ/attestation_report.bin" --cert-chain "$TMP/no-such-chain.pem" --no-ocsp
	expect_rc 2 "--cert-chain that does not exist"
	expect_out "$TMP/no-such-chain.pem" "missing chain: names the file"

	run_safe verify --report "$AZ/attestation_report.bin" --no-ocsp
	expect_rc 2 "--report without --cert-chain"
	expect_out "--cert-chain" "--report without --cert-chain: says so"
}

option_cases() {
	local ev=$AZ/gpu-evidence.json
	run_safe verify --evidence "$ev" --no-such-option
	expect_rc 2 "unknown option"
	expect_out "unknown option" "unknown option: message"
	run_safe inspect "$ev" --no-such-option
	expect_rc 2 "inspect unknown option"
	run_safe verify --evidence "$ev" --format xml
	expect_rc 2 "--format xml"
	expect_out "--format" "--format xml: message"
	run_safe inspect "$ev" --format xml
	expect_rc 2 "inspect --format xml"
	run_safe verify --evidence "$ev" --at garbage
	expect_rc 2 "--at garbage"
	expect_out "garbage" "--at garbage: quotes the value"
	expect_out "RFC 3339" "--at garbage: says the format"
	run_safe verify --evidence "$ev" --nonce 690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab1
	expect_rc 2 "--nonce of 31 bytes"
	expect_out "64 hex digits" "--nonce of 31 bytes: message"
	run_safe verify --evidence "$ev" --nonce zz0bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a
	expect_rc 2 "--nonce not hex"
	expect_out "64 hex digits" "--nonce not hex: message"
	run_safe verify --evidence "$ev" --rim-dir "$TMP/no-such-rim-dir" --no-ocsp
	expect_rc 2 "--rim-dir that does not exist"
	expect_out "$TMP/no-such-rim-dir" "--rim-dir missing: names the directory"
}

# bad_rim NAME FILE RC FRAGMENT...: FILE serves as the driver RIM. An
# unreadable RIM (exit 2) must be named by its file: the directory may hold
# both <id>.xml and <id>.json.
bad_rim() {
	local what=$1 file=$2 want=$3 dir
	shift 3
	dir=$(rim_dir_with_driver "$(basename "$file" .xml)" "$file")
	run_safe verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$dir" --no-ocsp
	expect_rc "$want" "RIM $what"
	expect_out "$DRV_ID" "RIM $what: names the RIM"
	if [ "$want" -eq 2 ]; then
		expect_out "$DRV_ID.xml" "RIM $what: names the file"
	fi
	expect_no_out "VERIFICATION SUCCESSFUL" "RIM $what: no success"
	while [ $# -gt 0 ]; do
		expect_out "$1" "RIM $what: message"
		shift
	done
}

rim_cases() {
	local drv=$V/rim/driver/$DRV_ID.xml t0 t1
	: >"$TMP/rim-empty.xml"
	bad_rim "empty" "$TMP/rim-empty.xml" 2 "empty"
	printf 'this is not XML at all\n' >"$TMP/rim-text.xml"
	bad_rim "not XML" "$TMP/rim-text.xml" 2 "not well-formed XML"
	gen rim-cut "$drv" "$TMP/rim-cut.xml"
	bad_rim "truncated XML" "$TMP/rim-cut.xml" 2 "not well-formed XML"
	gen rim-xxe "$drv" "$TMP/rim-xxe.xml"
	bad_rim "DOCTYPE with external entity" "$TMP/rim-xxe.xml" 2 "DOCTYPE"
	expect_no_out "root:" "RIM external entity: /etc/passwd never read into output"
	gen rim-extra-sig "$drv" "$TMP/rim-2sig.xml"
	bad_rim "extra ds:Signature" "$TMP/rim-2sig.xml" 2 "ds:Signature"
	gen rim-sig-in-payload "$drv" "$TMP/rim-sigpayload.xml"
	bad_rim "signature inside Payload" "$TMP/rim-sigpayload.xml" 2 "unsupported signature shape"
	gen rim-hash "$drv" "$TMP/rim-hash.xml"
	bad_rim "one Hash changed" "$TMP/rim-hash.xml" 1 "signature INVALID"

	gen rim-laughs "$drv" "$TMP/rim-laughs.xml"
	local dir
	dir=$(rim_dir_with_driver rim-laughs "$TMP/rim-laughs.xml")
	t0=$(date +%s%N)
	out=$(timeout 20 "$GPUATTEST" verify --evidence "$AZ/gpu-evidence.json" --rim-dir "$dir" --no-ocsp 2>&1)
	rc=$?
	t1=$(date +%s%N)
	no_crash "RIM billion laughs"
	expect_rc 2 "RIM billion laughs"
	expect_out "DOCTYPE" "RIM billion laughs: message"
	expect_out "$DRV_ID.xml" "RIM billion laughs: names the file"
	if [ $(((t1 - t0) / 1000000)) -lt 5000 ]; then ok; else
		bad "RIM billion laughs took $(((t1 - t0) / 1000000)) ms (limit 5000)"
	fi
}

# libxml2 and xmlsec1 are loaded when the first RIM is read (src/rim/xmllib.c):
# one that cannot be loaded is an error that names it, never a verdict, and
# commands that read no RIM do not need it.
library_cases() {
	mkdir -p "$TMP/badlib"
	echo "not a library" >"$TMP/badlib/libxmlsec1-openssl.so.1"
	out=$(LD_LIBRARY_PATH="$TMP/badlib" "$GPUATTEST" verify --evidence "$AZ/gpu-evidence.json" \
	    --rim-dir "$TMP/rims" --no-ocsp 2>&1)
	rc=$?
	no_crash "unloadable xmlsec"
	expect_rc 2 "unloadable xmlsec"
	expect_out "cannot load libxmlsec1-openssl.so.1" "unloadable xmlsec: message"
	expect_no_out "VERIFICATION SUCCESSFUL" "unloadable xmlsec: no verdict"
	out=$(LD_LIBRARY_PATH="$TMP/badlib" "$GPUATTEST" inspect "$AZ/attestation_report.bin" 2>&1)
	rc=$?
	expect_rc 0 "unloadable xmlsec: inspect does not need it"
}

main() {
	need_shared || return 0
	write_generator
	make_rim_dir
	control
	file_level_cases
	report_cases
	cert_cases
	report_file_cases
	option_cases
	rim_cases
	library_cases
}

main
finish
