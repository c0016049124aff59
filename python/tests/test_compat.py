"""The nv_attestation_sdk-shaped layer: NVIDIA's sample flow, unchanged but
for its import, on NVIDIA's recorded evidence; the token it makes verifies,
a one-byte change or another key does not; what gpuattest does not do
(REMOTE, claims 2.0) is refused, not faked."""
import base64
import json
import os
import subprocess
import sys

import pytest

import gpuattest
from conftest import AZ_NONCE, HERE, PYDIR, azure_options, vector
from gpuattest.compat import attestation

DATA = os.path.join(HERE, "data")
SAMPLE = os.path.join(DATA, "verify_gpu_sample.py")
POLICY_OFFLINE = os.path.join(DATA, "policy-local-offline.json")
POLICY_REVOCATION = os.path.join(DATA, "policy-local-revocation.json")
NV_IMPORT = "from nv_attestation_sdk import attestation"
OUR_IMPORT = "from gpuattest.compat import attestation"


@pytest.fixture(autouse=True)
def fresh_client():
    attestation.Attestation.reset()
    yield
    attestation.Attestation.reset()


def offline_options():
    o = azure_options()
    del o["nonce"]
    return o


def run_sample(tmp_path, nonce, evidence, *policies, options=None):
    """NVIDIA's flow with only its import changed, in its own process."""
    with open(SAMPLE) as f:
        text = f.read()
    ours = text.replace(NV_IMPORT, OUR_IMPORT)
    changed = [a for a, b in zip(text.splitlines(), ours.splitlines()) if a != b]
    assert changed == [NV_IMPORT], "the script must differ by its import only"
    script = tmp_path / "verify_gpu.py"
    script.write_text(ours)
    env = dict(os.environ, PYTHONPATH=PYDIR,
               GPUATTEST_COMPAT_OPTIONS=json.dumps(options if options is not None else offline_options()))
    return subprocess.run([sys.executable, str(script), nonce, evidence] + list(policies), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)


def test_sample_script_on_recorded_evidence(tmp_path):
    p = run_sample(tmp_path, AZ_NONCE, vector("gpu", "hopper_595.71.05_azure", "gpu-evidence.json"),
                   POLICY_OFFLINE, POLICY_REVOCATION)
    assert p.returncode == 0, p.stdout
    assert "[sample] attest() : True" in p.stdout
    assert "[sample] evidence entries : 1" in p.stdout
    assert "[sample] validate_token(policy-local-offline.json) : True" in p.stdout
    # revocation was not checked offline: a policy that wants OCSP "good" says no
    assert "[sample] validate_token(policy-local-revocation.json) : False" in p.stdout
    assert 'ocsp-status: "not-checked", the policy wants "good"' in p.stdout
    assert "[sample] overall result : True" in p.stdout


def test_sample_script_on_tampered_evidence(tmp_path):
    with open(vector("gpu", "hopper_595.71.05_azure", "gpu-evidence.json")) as f:
        ev = json.load(f)
    report = bytearray(base64.b64decode(ev["evidence_list"][0]["evidence"]))
    report[-1] ^= 0x80
    ev["evidence_list"][0]["evidence"] = base64.b64encode(bytes(report)).decode()
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(ev))
    p = run_sample(tmp_path, AZ_NONCE, str(path), POLICY_OFFLINE)
    assert p.returncode == 1, p.stdout
    assert "[sample] attest() : False" in p.stdout
    assert "[sample] validate_token(policy-local-offline.json) : False" in p.stdout
    assert "[sample] overall result : False" in p.stdout


def attested_client():
    client = attestation.Attestation()
    client.set_name("node1")
    client.set_nonce(AZ_NONCE)
    client.set_verifier_options(**offline_options())
    client.add_verifier(attestation.Devices.GPU, attestation.Environment.LOCAL, "",
                        vector("gpu", "hopper_595.71.05_azure", "gpu-evidence.json"))
    assert client.attest(client.get_evidence()) is True
    return client


def policy_text(path=POLICY_OFFLINE):
    with open(path) as f:
        return f.read()


def test_token_shape_and_library_check():
    client = attested_client()
    assert attestation.Attestation() is client            # one client per process, as NVIDIA's
    token = json.loads(client.get_token())
    assert token[0][0] == "JWT" and list(token[1]) == ["LOCAL_GPU_CLAIMS"]
    inner = token[1]["LOCAL_GPU_CLAIMS"]
    assert list(inner[1]) == ["GPU-0"]
    # the inner detached EAT under the whole of gpuattest's token rules:
    # signatures and digests hold, and the unchecked revocation is named
    r = gpuattest.verify_token(json.dumps(inner), client.get_jwks(), issuer="LOCAL_GPU_VERIFIER",
                               nonce=AZ_NONCE)
    assert r.verdict == gpuattest.Verdict.FAILED and 'ocsp-status is "not-checked"' in r.message
    assert r.claims["overall"]["x-nvidia-overall-att-result"] is True
    res = client.get_results()["LOCAL_GPU_CLAIMS"]
    assert res.ok and res.devices[0].claims["x-nvidia-gpu-claims-version"] == "3.0"
    decoded = client.decode_token(client.get_token())
    assert decoded["LOCAL_GPU_CLAIMS"]["submods"]["GPU-0"]["x-nvidia-gpu-driver-rim-schema-validated"] is True


def test_changed_token_fails_validation():
    client = attested_client()
    policy = policy_text()
    assert client.validate_token(policy) is True
    token = json.loads(client.get_token())
    jwt = token[1]["LOCAL_GPU_CLAIMS"][1]["GPU-0"]
    mid = jwt.index(".") + 10
    token[1]["LOCAL_GPU_CLAIMS"][1]["GPU-0"] = jwt[:mid] + ("A" if jwt[mid] != "A" else "B") + jwt[mid + 1:]
    assert client.validate_token(policy, json.dumps(token)) is False
    assert client.validate_token(policy, {"a": client.get_token(), "b": json.dumps(token)}) == {"a": True,
                                                                                               "b": False}


def test_token_of_another_key_fails():
    client = attested_client()
    token = client.get_token()
    attestation.Attestation.reset()
    client = attested_client()                 # a fresh key
    assert client.validate_token(policy_text()) is True
    assert client.validate_token(policy_text(), token) is False


def test_policy_mismatch_and_bad_policy():
    client = attested_client()
    p = json.loads(policy_text())
    p["authorization-rules"]["detached-claims"]["x-nvidia-gpu-arch-check"] = 1    # JSON: 1 is not true
    assert client.validate_token(json.dumps(p)) is False
    assert client.validate_token("not json") is False
    assert client.validate_token(policy_text(), "") is False


def test_signing_key_and_claims_version(tmp_path):
    key = tmp_path / "k.pem"
    subprocess.run(["openssl", "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", str(key)], check=True)
    client = attestation.Attestation()
    client.set_signing_key(str(key), kid="k1")
    client.set_claims_version("4.0")
    client = attested_client()
    assert json.loads(client.get_jwks())["keys"][0]["kid"] == "k1"
    decoded = client.decode_token(client.get_token())
    assert decoded["LOCAL_GPU_CLAIMS"]["overall"]["x-nvidia-ver"] == "4.0"
    assert decoded["LOCAL_GPU_CLAIMS"]["submods"]["GPU-0"]["x-nvidia-gpu-claims-version"] == "4.0"
    with pytest.raises(gpuattest.Unsupported):
        client.set_claims_version("2.0")


def test_unsupported_is_refused():
    client = attestation.Attestation()
    with pytest.raises(gpuattest.Unsupported) as e:
        client.add_verifier(attestation.Devices.GPU, attestation.Environment.REMOTE,
                            "https://nras.attestation.nvidia.com/v3/attest/gpu", "")
    assert "--verifier nras" in str(e.value)
    with pytest.raises(gpuattest.Unsupported):
        client.add_verifier(attestation.Devices.CPU, attestation.Environment.TEST, "", "")
    assert client.get_verifiers() == []
    assert client.attest([]) is False


def test_nvidia_package_name():
    from gpuattest.nv_attestation_sdk import attestation as alias
    assert alias is attestation
