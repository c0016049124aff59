#!/usr/bin/env bash
# Builds a throw-away PKI for the OCSP tests with the openssl CLI:
#
#   root.pem/key        self-signed root CA (the trust anchor)
#   ica.pem/key         intermediate CA issued by root
#   leaf_good.pem       issued by ica, status good
#   leaf_revoked.pem    issued by ica, revoked (keyCompromise)
#   leaf_hold.pem       issued by ica, revoked (certificateHold)
#   leaf_unknown.pem    issued by ica, absent from ica's index (responder says unknown)
#   leaf_gpu0..7.pem    issued by ica, good (eight distinct questions for concurrency)
#   ocsp_ica.pem/key    delegated responder for ica (id-kp-OCSPSigning, issued by ica)
#   rogue.pem/key       "responder" issued by root with id-kp-OCSPSigning: NOT authorised
#                       for certificates issued by ica (wrong issuer)
#   selfsigned.pem/key  self-signed responder, chains to nothing
#   db_root/index.txt   openssl ca database of root (ica, rogue)
#   db_ica/index.txt    openssl ca database of ica (leaves, ocsp_ica)
#   root.keyhash, ica.keyhash   hex SHA-1 of each CA's public key (issuerKeyHash)
#
# Every certificate is valid 2020-01-01 .. 2049-12-31 so tests may pin any
# verification time in between.
#
# Usage: mkpki.sh DIR      (DIR is created; nothing outside it is touched)
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
start=20200101000000Z
end=20491231235959Z
export CADB=db_root	# ca.cnf needs it defined even for req

cat > ca.cnf <<'CNF'
[ca]
default_ca = ca_default
[ca_default]
dir = $ENV::CADB
database = $dir/index.txt
new_certs_dir = $dir/new
serial = $dir/serial
default_md = sha384
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[v3_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_ocsp]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

newdb() { mkdir -p "$1/new"; : > "$1/index.txt"; echo "$2" > "$1/serial"; }
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1.key" 2>/dev/null; }
csr() { openssl req -new -config ca.cnf -key "$1.key" -subj "/CN=$2" -out "$1.csr"; }
# sign NAME CADB CACERT CAKEY EXT
sign() {
	CADB=$2 openssl ca -batch -notext -config ca.cnf -cert "$3" -keyfile "$4" \
	    -startdate $start -enddate $end -extensions "$5" -in "$1.csr" -out "$1.pem" 2>/dev/null
}
keyhash() {
	# issuerKeyHash = SHA-1 of the subjectPublicKey BIT STRING contents: for
	# an EC key that is the last 97 bytes (P-384 uncompressed point).
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
	    tail -c 97 | openssl dgst -sha1 -r | cut -d' ' -f1
}

newdb db_root 1000
newdb db_ica 2000

newkey root
CADB=db_root openssl ca -batch -notext -config ca.cnf -selfsign -keyfile root.key \
    -startdate $start -enddate $end -extensions v3_ca \
    -in <(openssl req -new -config ca.cnf -key root.key -subj "/CN=Test Root CA") \
    -out root.pem 2>/dev/null

newkey ica;    csr ica "Test Intermediate CA"; sign ica db_root root.pem root.key v3_ca
newkey rogue;  csr rogue "Rogue OCSP Responder"; sign rogue db_root root.pem root.key v3_ocsp
newkey ocsp_ica; csr ocsp_ica "Test ICA OCSP Responder"; sign ocsp_ica db_ica ica.pem ica.key v3_ocsp
for n in good revoked hold gpu0 gpu1 gpu2 gpu3 gpu4 gpu5 gpu6 gpu7; do
	newkey "leaf_$n"; csr "leaf_$n" "Leaf $n"; sign "leaf_$n" db_ica ica.pem ica.key v3_leaf
done
# leaf_unknown: issued by ica but left out of its database.
cp db_ica/index.txt db_ica/index.keep
newkey leaf_unknown; csr leaf_unknown "Leaf unknown"; sign leaf_unknown db_ica ica.pem ica.key v3_leaf
cp db_ica/index.keep db_ica/index.txt

CADB=db_ica openssl ca -config ca.cnf -cert ica.pem -keyfile ica.key \
    -revoke leaf_revoked.pem -crl_reason keyCompromise 2>/dev/null
CADB=db_ica openssl ca -config ca.cnf -cert ica.pem -keyfile ica.key \
    -revoke leaf_hold.pem -crl_hold holdInstructionReject 2>/dev/null

newkey selfsigned
openssl req -new -x509 -config ca.cnf -key selfsigned.key -subj "/CN=Self-signed Responder" \
    -days 10000 -addext extendedKeyUsage=OCSPSigning -out selfsigned.pem

keyhash root.pem > root.keyhash
keyhash ica.pem > ica.keyhash
rm -f ./*.csr
