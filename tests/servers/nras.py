#!/usr/bin/env python3
"""Loopback NRAS emulator (NVIDIA Remote Attestation Service, v4 API).

POST {base}/v4/attest/gpu and {base}/v4/attest/switch take NRAS's request
({nonce, arch, claims_version, evidence_list: [{evidence, certificate}]},
base64 fields checked) and answer a detached EAT
[["JWT", overall], {"GPU-0": jwt, ...}] signed ES384 with this server's own
key; GET {base}/.well-known/jwks.json serves its JWKS (x5c-less EC JWKs, and
with --x5c a self-signed certificate in x5c). The issuer is the base URL the
client used: http://127.0.0.1:PORT plus any mode segments, so a client
configured with --nras-url http://127.0.0.1:PORT/expired gets iss equal to
that and its JWKS from there too. The claims of each device come from
--claims (a JSON array of device claim sets, e.g. gpuattest verify's
"claims"), device i taking entry i (the last one repeated), or a built-in
GPU / switch set that passes NVIDIA's policy; eat_nonce is the request's.

Fault modes, as path segments before "v4" / ".well-known" (several may be
combined: /fail=2/status=429/v4/attest/gpu):
  badsig         signed by another key under the served kid
  alg=none       unsigned token (alg none, empty signature); alg=HS256: HMAC "secret"
  nokid          no kid in the header
  rotate         a key rotation: the first attest answer on this path is signed
                 by the served key, later ones by a second key (kid
                 "<kid>-rotated"); the first JWKS GET serves the old key only,
                 later ones both (a client must fetch again on the new kid)
  kid=VALUE      that kid in the header (a key the JWKS does not have)
  expired        exp an hour ago;  notyet: nbf and iat an hour ahead
  iss=VALUE      that issuer instead of the base URL
  nonce=wrong    eat_nonce not the request's
  digest         the overall token's digest of GPU-0 altered
  devfail        overall result true, GPU-0 measres "fail"
  overallfalse   overall result false
  claim=K:V      GPU-0's claim K set to V (JSON if it parses, else a string)
  fail=N         the first N attest requests on this path answer `status`
                 (default 503), then normally; status=CODE alone: always CODE
  hang           never answer (the connection stays open)
  big=BYTES      a body of BYTES bytes
  jwks=CODE      the JWKS answers HTTP CODE (302 with a Location to /)
  auth=KEY       401 unless "Authorization: Bearer KEY"
GET /stats answers {"attest": n, "jwks": n} for all paths.
"""
import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
from http.server import BaseHTTPRequestHandler

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography import x509
from cryptography.x509.oid import NameOID
import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

MAX_REQUEST = 4 << 20


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def load_key(path):
    if path and os.path.exists(path):
        with open(path, "rb") as f:
            return serialization.load_pem_private_key(f.read(), None)
    return ec.generate_private_key(ec.SECP384R1())


def jwk_of(key, kid, with_x5c):
    n = key.public_key().public_numbers()
    j = {"kty": "EC", "crv": "P-384", "kid": kid, "alg": "ES384", "use": "sig",
         "x": b64u(n.x.to_bytes(48, "big")), "y": b64u(n.y.to_bytes(48, "big"))}
    if with_x5c:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "NRAS emulator " + kid)])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA384()))
        j["x5c"] = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    return j


def sign(key, header, payload, alg="ES384"):
    h = b64u(json.dumps(header, separators=(",", ":")).encode())
    p = b64u(json.dumps(payload, separators=(",", ":")).encode())
    msg = (h + "." + p).encode()
    if alg == "none":
        return h + "." + p + "."
    if alg == "HS256":
        return h + "." + p + "." + b64u(hmac.new(b"secret", msg, hashlib.sha256).digest())
    r, s = decode_dss_signature(key.sign(msg, ec.ECDSA(hashes.SHA384())))
    return h + "." + p + "." + b64u(r.to_bytes(48, "big") + s.to_bytes(48, "big"))


def chain_ok():
    return {"x-nvidia-cert-status": "valid", "x-nvidia-cert-ocsp-status": "good",
            "x-nvidia-cert-expiration-date": "9999-12-31T23:59:59Z",
            "x-nvidia-cert-revocation-reason": None}


def builtin_claims(kind):
    if kind == "switch":
        p = "x-nvidia-switch"
        c = {"x-nvidia-device-type": "nvswitch", "hwmodel": "LS10 A01 FSP BROM", "x-nvidia-version": "3.0",
             p + "-bios-rim-cert-chain": chain_ok(), p + "-bios-version": "96.10.55.00.01"}
    else:
        p = "x-nvidia-gpu"
        c = {"x-nvidia-device-type": "gpu", "hwmodel": "GH100 A01 GSP BROM", "oemid": "5703",
             p + "-driver-rim-cert-chain": chain_ok(), p + "-vbios-rim-cert-chain": chain_ok(),
             p + "-driver-version": "550.90.07", p + "-vbios-version": "96.00.9F.00.01",
             p + "-claims-version": "3.0"}
    c.update({"measres": "success", "secboot": True, "dbgstat": "disabled", "ueid": "1234",
              p + "-attestation-report-cert-chain": chain_ok(), p + "-arch-check": True,
              p + "-attestation-report-parsed": True, p + "-attestation-report-nonce-match": True,
              p + "-attestation-report-signature-verified": True,
              "x-nvidia-mismatch-measurement-records": None})
    return c


class State:
    key = None
    key2 = None
    other = None
    kid = "nras-emu"
    x5c = False
    claims = None
    counter = common.Counter()


def parse_value(v):
    try:
        return json.loads(v)
    except ValueError:
        return v


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("nras: " + (fmt % args)[:200] + "\n")

    def send(self, code, body, ctype="application/json", extra=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def split(self):
        segs = [s for s in self.path.split("?")[0].split("/") if s]
        modes, rest, prefix = {}, [], []
        for i, s in enumerate(segs):
            if s in ("v4", ".well-known", "stats"):
                rest = segs[i:]
                break
            prefix.append(s)
            k, _, v = s.partition("=")
            modes[k] = v
        host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        base = "http://" + host + "".join("/" + p for p in prefix)
        return modes, rest, base, "/".join(prefix)

    def do_GET(self):
        modes, rest, base, prefix = self.split()
        if rest == ["stats"]:
            c = State.counter.counts
            return self.send(200, json.dumps({
                "attest": sum(v for k, v in c.items() if k.startswith("attest:")),
                "jwks": sum(v for k, v in c.items() if k.startswith("jwks:"))}))
        if rest != [".well-known", "jwks.json"]:
            return self.send(404, '{"error": "not found"}')
        n = State.counter.bump("jwks:" + prefix)
        if "jwks" in modes:
            code = int(modes["jwks"])
            return self.send(code, "{}", extra={"Location": "/"} if 300 <= code < 400 else None)
        keys = [jwk_of(State.key, State.kid, State.x5c)]
        if "rotate" in modes and n > 1:
            keys.append(jwk_of(State.key2, State.kid + "-rotated", State.x5c))
        self.send(200, json.dumps({"keys": keys}))

    def bad(self, why):
        self.send(400, json.dumps({"code": 4000, "message": why}))

    def read_body(self):
        # Always read the whole body first, whatever is answered, so that a
        # kept-alive connection's next request starts where it should.
        n = int(self.headers.get("Content-Length") or 0)
        if n <= 0 or n > MAX_REQUEST:
            self.close_connection = True
            return None
        return self.rfile.read(n)

    def read_request(self, body):
        if body is None:
            return None, "no body or too large"
        try:
            req = json.loads(body)
        except ValueError:
            return None, "not JSON"
        if not isinstance(req, dict) or not isinstance(req.get("nonce"), str) or \
                not isinstance(req.get("arch"), str) or req.get("claims_version") not in ("2.0", "3.0", "4.0") or \
                not isinstance(req.get("evidence_list"), list) or not req["evidence_list"]:
            return None, "not an NRAS v4 request"
        try:
            binascii.unhexlify(req["nonce"])
            for ev in req["evidence_list"]:
                base64.b64decode(ev["evidence"], validate=True)
                pem = base64.b64decode(ev["certificate"], validate=True)
                if b"-----BEGIN CERTIFICATE-----" not in pem:
                    return None, "certificate is not base64 PEM text"
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None, "bad nonce, evidence or certificate encoding"
        return req, None

    def do_POST(self):
        modes, rest, base, prefix = self.split()
        if len(rest) != 3 or rest[:2] != ["v4", "attest"] or rest[2] not in ("gpu", "switch"):
            return self.send(404, '{"error": "not found"}')
        kind = rest[2]
        body = self.read_body()
        n = self.attest_n = State.counter.bump("attest:" + prefix)
        if "hang" in modes:
            time.sleep(3600)
            return
        if "auth" in modes and self.headers.get("Authorization") != "Bearer " + modes["auth"]:
            return self.send(401, '{"code": 4001, "message": "unauthorized"}')
        if "fail" in modes and n <= int(modes["fail"]):
            return self.send(int(modes.get("status", "503")), '{"message": "try again"}')
        if "status" in modes and "fail" not in modes:
            return self.send(int(modes["status"]), '{"message": "status mode"}')
        req, why = self.read_request(body)
        if req is None:
            return self.bad(why)
        if "big" in modes:
            return self.send(200, b"[" + b" " * int(modes["big"]) + b"]")
        self.send(200, json.dumps(self.answer(modes, base, kind, req)))

    def answer(self, modes, base, kind, req):
        now = int(time.time())
        times = {"iat": now, "nbf": now, "exp": now + 3600}
        if "expired" in modes:
            times = {"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}
        if "notyet" in modes:
            times = {"iat": now + 3600, "nbf": now + 3600, "exp": now + 7200}
        iss = modes.get("iss", base)
        nonce = req["nonce"] if modes.get("nonce") != "wrong" else secrets.token_hex(32)
        key, kid = State.key, State.kid
        if "rotate" in modes and self.attest_n > 1:
            key, kid = State.key2, State.kid + "-rotated"
        if "kid" in modes:
            kid = modes["kid"]
        if "badsig" in modes:
            key = State.other
        alg = modes.get("alg", "ES384")
        header = {"alg": alg} if "nokid" in modes else {"kid": kid, "alg": alg}
        label = "SWITCH" if kind == "switch" else "GPU"
        detached, submods, overall = {}, {}, "overallfalse" not in modes
        for i, _ in enumerate(req["evidence_list"]):
            src = State.claims or [builtin_claims(kind)]
            c = dict(src[min(i, len(src) - 1)])
            c.update(times)
            c.update({"iss": iss, "jti": secrets.token_hex(16), "eat_nonce": nonce})
            if i == 0 and "devfail" in modes:
                c["measres"] = "fail"
            if i == 0 and "claim" in modes:
                k, _, v = modes["claim"].partition(":")
                c[k] = parse_value(v)
            t = sign(key, header, c, alg)
            digest = hashlib.sha256(t.encode()).hexdigest()
            if i == 0 and "digest" in modes:
                digest = ("0" if digest[0] != "0" else "1") + digest[1:]
            detached["%s-%d" % (label, i)] = t
            submods["%s-%d" % (label, i)] = ["DIGEST", ["SHA-256", digest]]
        top = {"sub": "NVIDIA-PLATFORM-ATTESTATION", "x-nvidia-ver": "3.0", "iss": iss,
               "x-nvidia-overall-att-result": overall, "eat_nonce": nonce, "submods": submods,
               "jti": secrets.token_hex(16)}
        top.update(times)
        return [["JWT", sign(key, header, top, alg)], detached]


def main():
    p = common.base_args("loopback NRAS emulator")
    p.add_argument("--key", help="ES384 (P-384) private key PEM; default: a fresh one")
    p.add_argument("--kid", default="nras-emu")
    p.add_argument("--claims", help="JSON array of device claim sets to answer with")
    p.add_argument("--x5c", action="store_true", help="serve a self-signed certificate in x5c")
    args = p.parse_args()
    State.key = load_key(args.key)
    State.key2 = ec.generate_private_key(ec.SECP384R1())
    State.other = ec.generate_private_key(ec.SECP384R1())
    State.kid = args.kid
    State.x5c = args.x5c
    if args.claims:
        with open(args.claims) as f:
            State.claims = json.load(f)
    common.serve(Handler, args)


if __name__ == "__main__":
    main()
