#!/usr/bin/env python3
"""An NVIDIA-shaped NRAS client, for testing `gpuattest serve`.

It uses only what attestation-formats.md §12 says a client sends and checks:
POST {base}/v4/attest/{gpu|switch} with {"nonce", "arch", "claims_version",
"evidence_list": [{"evidence", "certificate"}]} (and "Authorization: Bearer
KEY" when given), a detached EAT back, keys from {base}/.well-known/jwks.json
taken from x5c[0], and NVIDIA's C++ checks (§12.4, §16.5): ES384 only, kid
present and found, iss equal to the base URL, exp/nbf/iat with 60 s leeway,
eat_nonce equal to the request's nonce, every submod token present and its
SHA-256 equal to the overall token's digest, as many tokens as submods.

    nras_client.py BASE EVIDENCE.json [--kind gpu|switch] [--key KEY] [--nonce HEX]
                   [--ear]   (our /v1/attest EAR instead)
                   [--save FILE]   (the answer's body as received, e.g. for verify-token)

Prints one JSON line: {"status": HTTP status, "request_id", "overall": bool,
"submods": [...], "error": ...}. Exit 0 when the tokens verified (whatever
the verdict), 1 when they did not, 2 when the request failed.
"""
import argparse
import base64
import hashlib
import json
import sys
import urllib.error
import urllib.request

import jwt
from cryptography import x509


def post(url, body, key):
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    if key:
        req.add_header("Authorization", "Bearer " + key)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers.get("X-Request-Id"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("X-Request-Id"), e.read()


def jwks_keys(base):
    with urllib.request.urlopen(base + "/.well-known/jwks.json", timeout=30) as r:
        doc = json.loads(r.read())
    keys = {}
    for k in doc["keys"]:
        # NVIDIA's verifiers skip entries without kid or x5c; the key is x5c[0]'s.
        if isinstance(k.get("kid"), str) and k.get("x5c"):
            cert = x509.load_der_x509_certificate(base64.b64decode(k["x5c"][0]))
            keys[k["kid"]] = cert.public_key()
    return keys


def check(token, keys, issuer):
    kid = jwt.get_unverified_header(token).get("kid")
    if not kid or kid not in keys:
        raise ValueError("kid %r not in the JWKS" % kid)
    return jwt.decode(token, keys[kid], algorithms=["ES384"], issuer=issuer, leeway=60,
                      options={"require": ["exp", "iss"]})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("evidence")
    ap.add_argument("--kind", default="gpu")
    ap.add_argument("--key")
    ap.add_argument("--nonce")
    ap.add_argument("--ear", action="store_true")
    ap.add_argument("--save")
    a = ap.parse_args()
    ev = json.load(open(a.evidence))
    items = ev["evidence_list"] if isinstance(ev, dict) else ev
    nonce = a.nonce or (ev["nonce"] if isinstance(ev, dict) else items[0]["nonce"])
    arch = ev["arch"] if isinstance(ev, dict) else items[0]["arch"]
    body = json.dumps({"nonce": nonce, "arch": arch, "claims_version": "3.0",
                       "evidence_list": [{"evidence": i["evidence"], "certificate": i["certificate"]}
                                         for i in items]}).encode()
    path = ("/v1/attest/" if a.ear else "/v4/attest/") + a.kind
    status, rid, raw = post(a.base + path, body, a.key)
    out = {"status": status, "request_id": rid}
    if a.save:
        with open(a.save, "wb") as f:
            f.write(raw)
    if status != 200:
        out["error"] = json.loads(raw) if raw[:1] == b"{" else raw.decode(errors="replace")
        print(json.dumps(out))
        return 2
    try:
        keys = jwks_keys(a.base)
        if a.ear:
            doc = json.loads(raw)
            p = check(doc["ear"], keys, a.base)
            want = base64.urlsafe_b64encode(bytes.fromhex(nonce)).rstrip(b"=").decode()
            if p.get("eat_nonce") != want:
                raise ValueError("EAR eat_nonce is not the request's nonce")
            out.update(overall=p["ear_status"] == "affirming", submods=sorted(p["submods"]),
                       verdict=doc["verdict"], ear_status=p["ear_status"])
        else:
            eat = json.loads(raw)
            if eat[0][0] != "JWT":
                raise ValueError("not a detached EAT")
            overall = check(eat[0][1], keys, a.base)
            if overall.get("eat_nonce") != nonce:
                raise ValueError("eat_nonce %r is not the request's nonce" % overall.get("eat_nonce"))
            subs = overall["submods"]
            if len(subs) != len(eat[1]):
                raise ValueError("%d submods, %d tokens" % (len(subs), len(eat[1])))
            for label, digest in subs.items():
                tok = eat[1][label]
                check(tok, keys, a.base)
                if hashlib.sha256(tok.encode()).hexdigest() != digest[1][1]:
                    raise ValueError("digest of %s differs" % label)
            out.update(overall=overall["x-nvidia-overall-att-result"], submods=sorted(subs))
    except Exception as e:  # any failure of the tokens is the answer
        out["error"] = "token: %s: %s" % (type(e).__name__, e)
        print(json.dumps(out))
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
