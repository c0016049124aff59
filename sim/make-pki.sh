#!/usr/bin/env bash
# make-pki.sh OUTDIR NGPUS NSWITCHES
#
# Builds the SIMULATION test PKI for the simulated confidential GPU system
# (sim/nvml_sim.c, sim/nscq_sim.c) with the openssl CLI only: P-384 keys,
# ecdsa-with-SHA384, every subject carries O=gpuattest SIMULATION so nothing
# here can be mistaken for NVIDIA material. No network. Idempotent: files
# that already exist are kept, so re-running is a no-op and running with a
# larger count only adds devices under the same CAs.
# SIM_GPU_CHIP=GR100 names the GPU certificates as Rubin GPUs ("GR100 A01 GSP
# BROM", "GR100 A01 GSP FMC LF"); default GH100 (Hopper).
#
# Owns: creating files under OUTDIR. Must never touch anything else, and
# never reuse NVIDIA's names without the SIM marker.
#
# Layout written:
#   root.pem                         device identity trust anchor (= ca/root/ca.crt)
#   openssl.cnf                      the `openssl ca` config used (dir = $GPA_CADIR)
#   ca/<name>/{ca.key,ca.crt,index.txt,serial,newcerts/,ocsp.key,ocsp.crt}
#       name = root, identity, prov-gh100, prov-ls10, rim-root, rim-ca, rim-l3
#       index.txt is the `openssl ca` database of everything that CA issued;
#       ocsp.{key,crt} is a delegated responder (EKU id-kp-OCSPSigning).
#   gpuN/{leaf.key,leaf.crt,brom.key,brom.crt,chain.pem,pdi,fwid,ca/}
#   switchN/{...same...}
#       chain.pem = leaf, BROM, provisioner ICA, identity CA, root (5 PEM certs)
#       pdi  = 16 uppercase hex digits (8 random bytes); BROM subject
#              serialNumber = "41"+pdi (GPU) / "50"+pdi (switch)
#       fwid = 96 lowercase hex digits (48 random bytes), also the last 48
#              bytes of the leaf's 2.23.133.5.4.1 extension
#   rim/{signer.key,signer.crt,chain.pem,root.pem}
#       chain.pem = L4 signer, L3, CA, root (4 certs, leaf first); the signer
#       is valid for 2 years from its creation.
#
# OCSP (for tests): one responder per issuing CA, e.g.
#   openssl ocsp -port 8901 -index OUT/ca/prov-gh100/index.txt \
#       -CA OUT/ca/prov-gh100/ca.crt -rsigner OUT/ca/prov-gh100/ocsp.crt \
#       -rkey OUT/ca/prov-gh100/ocsp.key -nmin 60
# and to revoke a BROM cert (then restart the responder):
#   GPA_CADIR=OUT/ca/prov-gh100 GPA_FWID_DER=00 openssl ca -config OUT/openssl.cnf \
#       -revoke OUT/gpu0/brom.crt -crl_reason keyCompromise
set -euo pipefail

if [ $# -ne 3 ]; then
	echo "usage: $0 OUTDIR NGPUS NSWITCHES" >&2
	exit 2
fi
OUT=$1 NGPUS=$2 NSW=$3
case "$NGPUS$NSW" in *[!0-9]*) echo "$0: counts must be decimal" >&2; exit 2 ;; esac
[ "$NGPUS" -le 64 ] && [ "$NSW" -le 64 ] || { echo "$0: at most 64 devices each" >&2; exit 2; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CNF=$OUT/openssl.cnf
ORG="gpuattest SIMULATION"
DEV_START=20230101000000Z
DEV_END=99991231235959Z
export GPA_FWID_DER=00   # every config load expands these; real values are set per call
export GPA_CADIR=$OUT

randhex() { head -c "$1" /dev/urandom | od -An -v -tx1 | tr -d ' \n'; }
upper() { tr 'a-f' 'A-F'; }

write_cnf() {
	[ -s "$CNF" ] && return 0
	cat >"$CNF" <<'EOF'
# openssl ca configuration for the gpuattest SIMULATION PKI (sim/make-pki.sh).
# Select the CA with the environment: GPA_CADIR=<OUT>/ca/<name>.
[ ca ]
default_ca = sim_ca
[ sim_ca ]
dir = $ENV::GPA_CADIR
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
default_md = sha384
default_days = 3650
policy = sim_policy
unique_subject = no
preserve = yes
copy_extensions = none
email_in_dn = no
[ sim_policy ]
serialNumber = optional
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = req_dn
[ req_dn ]
[ ext_root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ext_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_brom ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
2.23.133.5.4.1 = DER:$ENV::GPA_FWID_DER
[ ext_rim_signer ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_ocsp ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,OCSPSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
}

genkey() { [ -s "$1" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1" 2>/dev/null; }

# ca_db DIR: an empty `openssl ca` database.
ca_db() {
	mkdir -p "$1/newcerts"
	[ -e "$1/index.txt" ] || : >"$1/index.txt"
	[ -e "$1/index.txt.attr" ] || echo "unique_subject = no" >"$1/index.txt.attr"
}

# issue CADIR KEY SUBJ EXT OUTCRT SERIALHEX DATEARGS...
# Signs a fresh request for KEY with the CA in CADIR (recorded in its index.txt).
issue() {
	local cadir=$1 key=$2 subj=$3 ext=$4 out=$5 serial=$6
	shift 6
	echo "$serial" >"$cadir/serial"
	openssl req -new -key "$key" -subj "$subj" -config "$CNF" 2>/dev/null |
		GPA_CADIR=$cadir openssl ca -batch -notext -preserveDN -config "$CNF" -extensions "$ext" \
			-in /dev/stdin -out "$out" "$@" 2>/dev/null ||
		{ echo "$0: signing $subj failed" >&2; exit 1; }
}

serial16() { echo "4$(randhex 16 | cut -c2-)"; }

# make_root NAME SUBJ ENDDATE
make_root() {
	local d=$OUT/ca/$1
	ca_db "$d"
	genkey "$d/ca.key"
	[ -s "$d/ca.crt" ] && return 0
	echo "$(serial16)" >"$d/serial"
	openssl req -new -key "$d/ca.key" -subj "$2" -config "$CNF" 2>/dev/null |
		GPA_CADIR=$d openssl ca -batch -notext -preserveDN -selfsign -keyfile "$d/ca.key" -config "$CNF" \
			-extensions ext_root -startdate "$DEV_START" -enddate "$3" \
			-in /dev/stdin -out "$d/ca.crt.tmp" 2>/dev/null ||
		{ echo "$0: self-signing $2 failed" >&2; exit 1; }
	mv "$d/ca.crt.tmp" "$d/ca.crt"
}

# make_ca NAME PARENT SUBJ DATEARGS...
make_ca() {
	local d=$OUT/ca/$1 parent=$OUT/ca/$2 subj=$3
	shift 3
	ca_db "$d"
	genkey "$d/ca.key"
	[ -s "$d/ca.crt" ] && return 0
	issue "$parent" "$d/ca.key" "$subj" ext_ca "$d/ca.crt.tmp" "$(serial16)" "$@"
	mv "$d/ca.crt.tmp" "$d/ca.crt"
}

# make_ocsp NAME: delegated OCSP responder cert issued by that CA.
make_ocsp() {
	local d=$OUT/ca/$1
	genkey "$d/ocsp.key"
	[ -s "$d/ocsp.crt" ] && return 0
	issue "$d" "$d/ocsp.key" "/CN=gpuattest SIM OCSP responder $1/O=$ORG" ext_ocsp \
		"$d/ocsp.crt.tmp" "$(serial16)" -days 3650
	mv "$d/ocsp.crt.tmp" "$d/ocsp.crt"
}

# fwid_ext_der LEAFKEY FWIDHEX: hex DER of SEQUENCE { INTEGER 1, SPKI, SEQUENCE { sha384, OCTET STRING fwid } }
fwid_ext_der() {
	local spki
	spki=$(openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
	# A P-384 SPKI is always 120 bytes (30 76 ...), so every length below is fixed.
	[ "${#spki}" -eq 240 ] || { echo "$0: unexpected SPKI length for $1" >&2; exit 1; }
	echo "3081ba020101${spki}303d06096086480165030402020430$2"
}

# make_device DIR CHIP PREFIX PROVISIONER
make_device() {
	local dir=$1 chip=$2 prefix=$3 prov=$OUT/ca/$4
	local cn_brom cn_leaf pdi fwid leafser
	if [ "$chip" = GH100 ] || [ "$chip" = GR100 ]; then
		cn_brom="$chip A01 GSP BROM" cn_leaf="$chip A01 GSP FMC LF"
	else
		cn_brom="LS_10 A01 FSP BROM" cn_leaf="LS_10 A01 FSP FMC LF"
	fi
	[ -s "$dir/chain.pem" ] && return 0
	mkdir -p "$dir"
	[ -s "$dir/pdi" ] || randhex 8 | upper >"$dir/pdi"
	[ -s "$dir/fwid" ] || randhex 48 >"$dir/fwid"
	pdi=$(cat "$dir/pdi") fwid=$(cat "$dir/fwid")
	genkey "$dir/brom.key"
	genkey "$dir/leaf.key"
	issue "$prov" "$dir/brom.key" "/serialNumber=$prefix$pdi/C=US/O=$ORG/CN=$cn_brom" ext_brom \
		"$dir/brom.crt" "$(serial16)" -startdate "$DEV_START" -enddate "$DEV_END"
	ca_db "$dir/ca"
	cp "$dir/brom.crt" "$dir/ca/ca.crt"
	cp "$dir/brom.key" "$dir/ca/ca.key"
	leafser="$(echo "$(( (RANDOM % 7) + 1 ))")$(randhex 20 | cut -c2- | upper)"
	GPA_FWID_DER=$(fwid_ext_der "$dir/leaf.key" "$fwid") \
		issue "$dir/ca" "$dir/leaf.key" "/serialNumber=$leafser/C=US/O=$ORG/CN=$cn_leaf" ext_leaf \
		"$dir/leaf.crt" "$leafser" -startdate "$DEV_START" -enddate "$DEV_END"
	cat "$dir/leaf.crt" "$dir/brom.crt" "$prov/ca.crt" "$OUT/ca/identity/ca.crt" \
		"$OUT/ca/root/ca.crt" >"$dir/chain.pem.tmp"
	mv "$dir/chain.pem.tmp" "$dir/chain.pem"
}

make_rim_pki() {
	local d=$OUT/rim
	mkdir -p "$d"
	make_root rim-root "/C=US/O=$ORG/CN=gpuattest SIM CoRIM signing Root CA" 20530101000000Z
	make_ca rim-ca rim-root "/CN=gpuattest SIM Reference Value GH100 CA/O=$ORG" \
		-startdate "$DEV_START" -enddate 20501231235959Z
	make_ca rim-l3 rim-ca "/CN=gpuattest SIM Reference Value L3 GH100 001/O=$ORG" \
		-startdate "$DEV_START" -enddate 20451231235959Z
	genkey "$d/signer.key"
	if [ ! -s "$d/chain.pem" ]; then
		issue "$OUT/ca/rim-l3" "$d/signer.key" \
			"/C=US/ST=CA/L=Santa Clara/O=$ORG/CN=gpuattest SIM HCC RIM L4 Signer" ext_rim_signer \
			"$d/signer.crt" "$(serial16)" -days 730
		cp "$OUT/ca/rim-root/ca.crt" "$d/root.pem"
		cat "$d/signer.crt" "$OUT/ca/rim-l3/ca.crt" "$OUT/ca/rim-ca/ca.crt" \
			"$OUT/ca/rim-root/ca.crt" >"$d/chain.pem.tmp"
		mv "$d/chain.pem.tmp" "$d/chain.pem"
	fi
}

write_cnf
make_root root "/CN=gpuattest SIM Device Identity CA/O=$ORG" "$DEV_END"
make_ca identity root "/CN=gpuattest SIM GH100 Identity/O=$ORG" -startdate "$DEV_START" -enddate "$DEV_END"
make_ca prov-gh100 identity "/CN=gpuattest SIM GH100 Provisioner ICA 1/O=$ORG/C=US" \
	-startdate "$DEV_START" -enddate "$DEV_END"
make_ca prov-ls10 identity "/CN=gpuattest SIM LS_10 Provisioner ICA 1/O=$ORG/C=US" \
	-startdate "$DEV_START" -enddate "$DEV_END"
cp "$OUT/ca/root/ca.crt" "$OUT/root.pem"
make_rim_pki
for ca in root identity prov-gh100 prov-ls10 rim-root rim-ca rim-l3; do
	make_ocsp "$ca"
done
for ((i = 0; i < NGPUS; i++)); do
	make_device "$OUT/gpu$i" "${SIM_GPU_CHIP:-GH100}" 41 prov-gh100
done
for ((i = 0; i < NSW; i++)); do
	make_device "$OUT/switch$i" LS_10 50 prov-ls10
done
