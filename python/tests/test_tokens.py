"""Signed results: an EAR of a verified result verifies with its signer's
keys (JWKS text, dict, file, PEM public key); one changed byte, another
key, another issuer, another nonce or a past expiry fail it; a detached EAT
of a result whose revocation was not checked is refused, naming why."""
import json
import subprocess
import time

import pytest

import gpuattest
from conftest import AZ_NONCE, azure_options, vector


@pytest.fixture(scope="module")
def verified():
    return gpuattest.verify_evidence(vector("gpu", "hopper_595.71.05_azure", "gpu-evidence.json"),
                                     **azure_options())


@pytest.fixture(scope="module")
def signer():
    return gpuattest.Signer(kid="test-key", issuer="me")


def flip(token, pos):
    """The token with one character changed (still base64url)."""
    c = token[pos]
    return token[:pos] + ("A" if c != "A" else "B") + token[pos + 1:]


def test_ear_verifies_and_names_its_devices(verified, signer):
    ear = verified.sign_ear(signer)
    r = gpuattest.verify_token(ear, signer.jwks, issuer="me", nonce=AZ_NONCE)
    assert r.ok and r.verdict == gpuattest.Verdict.VERIFIED, r.message
    assert r.claims["ear_status"] == "affirming"
    assert r.claims["submods"]["GPU-0"]["ear_attester_claims"]["measres"] == "success"
    jwks = json.loads(signer.jwks)
    assert jwks["keys"][0]["kid"] == "test-key" and "d" not in jwks["keys"][0]
    assert gpuattest.verify_token(ear, jwks, issuer="me").ok             # a dict
    assert gpuattest.verify_token(ear, signer, issuer="me").ok           # the signer itself


def test_one_byte_changed_fails(verified, signer):
    ear = verified.sign_ear(signer)
    header_end, payload_end = ear.index("."), ear.rindex(".")
    for pos in (payload_end - 5, len(ear) - 3):          # in the payload, in the signature
        r = gpuattest.verify_token(flip(ear, pos), signer.jwks, issuer="me")
        assert r.verdict in (gpuattest.Verdict.FAILED, gpuattest.Verdict.BAD_INPUT), pos
        assert not r.ok and r.claims is None
    assert not gpuattest.verify_token(flip(ear, header_end - 2), signer.jwks, issuer="me").ok


def test_wrong_key_issuer_nonce(verified, signer):
    ear = verified.sign_ear(signer)
    other = gpuattest.Signer(kid="test-key", issuer="me")        # same kid, another key
    r = gpuattest.verify_token(ear, other.jwks, issuer="me")
    assert r.verdict == gpuattest.Verdict.FAILED and "signature" in r.message
    r = gpuattest.verify_token(ear, signer.jwks)                  # expects "gpuattest"
    assert r.verdict == gpuattest.Verdict.FAILED and "iss" in r.message
    r = gpuattest.verify_token(ear, signer.jwks, issuer="me", nonce="11" * 32)
    assert r.verdict == gpuattest.Verdict.FAILED and "nonce" in r.message
    r = gpuattest.verify_token(ear, signer.jwks, issuer="me", at=time.time() + 2 * 3600)
    assert r.verdict == gpuattest.Verdict.FAILED and "exp" in r.message


def test_failed_result_is_signed_contraindicated(signer):
    with open(vector("gpu", "hopper_595.71.05_azure", "gpu-evidence.json")) as f:
        ev = json.load(f)
    res = gpuattest.verify_evidence(ev, **azure_options(nonce="00" * 32))
    assert res.verdict == gpuattest.Verdict.FAILED
    r = gpuattest.verify_token(res.sign_ear(signer), signer.jwks, issuer="me")
    assert r.verdict == gpuattest.Verdict.FAILED
    assert r.claims["ear_status"] == "contraindicated"       # verified, and says not genuine


def test_detached_eat_refused_without_revocation(verified, signer):
    eat = verified.sign_detached_eat(signer)
    assert json.loads(eat)[0][0] == "JWT"
    r = gpuattest.verify_token(eat, signer.jwks, issuer="me")
    assert r.verdict == gpuattest.Verdict.FAILED
    assert 'ocsp-status is "not-checked"' in r.message
    assert r.claims["overall"]["x-nvidia-overall-att-result"] is True


def test_key_files(tmp_path, verified):
    key, pub = tmp_path / "ear.pem", tmp_path / "ear.pub.pem"
    subprocess.run(["openssl", "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", str(key)], check=True)
    subprocess.run(["openssl", "ec", "-in", str(key), "-pubout", "-out", str(pub)], check=True,
                   stderr=subprocess.DEVNULL)
    s = gpuattest.Signer(str(key))                 # default kid: the thumbprint, issuer "gpuattest"
    ear = verified.sign_ear(s)
    assert gpuattest.verify_token(ear, str(pub)).ok              # PEM public key: kid = thumbprint
    (tmp_path / "jwks.json").write_text(s.jwks)
    assert gpuattest.verify_token(ear, str(tmp_path / "jwks.json")).ok
    with pytest.raises(gpuattest.BadInput) as e:
        gpuattest.Signer(str(pub))                 # a public key cannot sign
    assert "private key" in str(e.value)


def test_any_claims_as_jwt(signer):
    jwt = signer.sign_jwt({"node": "n1", "iss": "LOCAL_GPU_VERIFIER"})
    r = gpuattest.verify_token(jwt, signer.jwks, issuer="LOCAL_GPU_VERIFIER", type="jwt")
    assert r.ok and r.claims["node"] == "n1" and r.claims["exp"] > r.claims["iat"]
    assert not gpuattest.verify_token(jwt, signer.jwks, issuer="me", type="jwt").ok
    r = gpuattest.verify_token("not a token", signer.jwks, type="jwt")
    assert r.verdict == gpuattest.Verdict.BAD_INPUT
