#!/usr/bin/env python3
"""A loopback OCSP responder: each request is answered by the real
`openssl ocsp` responder code run on that one request
(openssl ocsp -index ... -CA ... -rsigner ... -reqin REQ -respout RESP),
so no openssl process ever listens on a socket; this server binds 127.0.0.1.

Start:  python3 tests/servers/ocspd.py --port-file /tmp/ocsp.port \
            --route KEYHASH=INDEX,CA,RSIGNER,RKEY [--route ...] \
            [--signer NAME=CERT,KEY ...]
Stop:   kill <pid>   (it also exits when its parent dies, or after --lifetime s)

A request goes to the route whose KEYHASH (hex SHA-1 of the issuer's public
key, the CertID issuerKeyHash) occurs in it, else to the first route; so one
URL serves certificates of several issuers, each answered by its own CA
database and responder key (mkpki.sh writes the key hashes).

Modes are path segments of the URL the client POSTs to, e.g.
http://127.0.0.1:PORT/nmin=1/badsig :
  ndays=N      nextUpdate = now + N days (default ndays=1)
  nmin=N       nextUpdate = now + N minutes
  nonext       no nextUpdate at all
  rmd=NAME     sign with digest NAME (default sha384, as NVIDIA's responder)
  badsig       corrupt the response signature (openssl -badsig)
  signer=NAME  sign with the --signer NAME key instead of the route's own
  stripnonce   drop the request's extensions first, so no nonce is echoed
  replay       answer every later request for the same certificate with the
               first response produced (a stale cache: nonce mismatch)
  delay=MS     wait MS ms first
  hang         never answer
  status=CODE  answer HTTP CODE, empty body
  fail=N       the first N requests for this (modes, certificate) get 500
  ctype=TYPE   send Content-Type TYPE (a/b written a_b)
  garbage      200 application/ocsp-response with bytes that are not DER
"""
import os
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler

import common

ARGS = None
ROUTES = []
SIGNERS = {}
COUNTS = common.Counter()
REPLAY = {}
REPLAY_LOCK = threading.Lock()


def der_len(b, i):
    n = b[i]
    i += 1
    if n < 0x80:
        return n, i
    k = n & 0x7F
    return int.from_bytes(b[i:i + k], "big"), i + k


def der_enc(tag, content):
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    lb = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(lb)]) + lb + content


def strip_extensions(req):
    """OCSPRequest { TBSRequest { ..., [2] requestExtensions } }: drop [2]."""
    n, i = der_len(req, 1)
    tbs = req[i:i + n]
    m, j = der_len(tbs, 1)
    body, k, kept = tbs[j:j + m], 0, b""
    while k < len(body):
        tag = body[k]
        ln, c = der_len(body, k + 1)
        if tag != 0xA2:
            kept += body[k:c + ln]
        k = c + ln
    return der_enc(0x30, der_enc(0x30, kept) + req[i + n:])


def route_for(req):
    for r in ROUTES:
        if r[0] in req:
            return r
    return ROUTES[0]


def respond(req, modes):
    _, index, ca, rsigner, rkey = route_for(req)
    if "signer" in modes:
        rsigner, rkey = SIGNERS[modes["signer"]]
    with tempfile.TemporaryDirectory() as d:
        qin, qout = os.path.join(d, "req.der"), os.path.join(d, "resp.der")
        with open(qin, "wb") as f:
            f.write(req)
        cmd = ["openssl", "ocsp", "-index", index, "-CA", ca, "-rsigner", rsigner,
               "-rkey", rkey, "-rmd", modes.get("rmd", "sha384"),
               "-reqin", qin, "-respout", qout]
        if "nmin" in modes:
            cmd += ["-nmin", modes["nmin"]]
        elif "nonext" not in modes:
            cmd += ["-ndays", modes.get("ndays", "1")]
        if "badsig" in modes:
            cmd += ["-badsig"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=30)
        with open(qout, "rb") as f:
            return f.read()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def send(self, code, body, ctype="application/ocsp-response"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        if n <= 0 or n > 65536:
            return self.send(400, b"", "text/plain")
        req = self.rfile.read(n)
        modes, _ = common.parse_modes(self.path, "\0")
        if "delay" in modes:
            time.sleep(int(modes["delay"]) / 1000.0)
        if "hang" in modes:
            time.sleep(ARGS.lifetime)
            return
        if "status" in modes:
            return self.send(int(modes["status"]), b"", "text/plain")
        try:
            plain = strip_extensions(req)
        except (IndexError, ValueError):
            return self.send(400, b"", "text/plain")
        if "fail" in modes and COUNTS.bump((self.path, plain)) <= int(modes["fail"]):
            return self.send(500, b"", "text/plain")
        if "garbage" in modes:
            return self.send(200, b"\x30\x03\x0a\x01")
        if "stripnonce" in modes:
            req = plain
        key = (self.path, plain)
        with REPLAY_LOCK:
            old = REPLAY.get(key) if "replay" in modes else None
        if old is not None:
            resp = old
        else:
            resp = respond(req, modes)
            if "replay" in modes:
                with REPLAY_LOCK:
                    REPLAY.setdefault(key, resp)
        ctype = modes.get("ctype", "application_ocsp-response").replace("_", "/")
        self.send(200, resp, ctype)


def main():
    global ARGS
    p = common.base_args("loopback OCSP responder")
    p.add_argument("--route", action="append", required=True,
                   help="KEYHASH=INDEX,CA,RSIGNER,RKEY")
    p.add_argument("--signer", action="append", default=[], help="NAME=CERT,KEY")
    ARGS = p.parse_args()
    for r in ARGS.route:
        h, _, rest = r.partition("=")
        ROUTES.append((bytes.fromhex(h),) + tuple(rest.split(",")))
    for s in ARGS.signer:
        name, _, rest = s.partition("=")
        SIGNERS[name] = tuple(rest.split(","))
    common.serve(Handler, ARGS)


if __name__ == "__main__":
    main()
