"""gpuattest.Verifier on NVIDIA's real recorded evidence: the verdict, the
devices, their checks and claims, the result document; a changed byte, a
wrong or missing nonce and malformed input each give their own answer."""
import base64
import json
import os

import pytest

import gpuattest
from conftest import AZ_NONCE, ROOT, azure_options, save_json, vector


def evidence_list():
    """The recorded evidence entries (the file is an NRAS request)."""
    with open(vector("gpu", "hopper_595.71.05_azure", "gpu-evidence.json")) as f:
        return json.load(f)["evidence_list"]


def test_library_version():
    assert gpuattest.library_version() == gpuattest.__version__


def test_recorded_evidence_verifies():
    res = gpuattest.verify_evidence(vector("gpu", "hopper_595.71.05_azure", "gpu-evidence.json"),
                                    **azure_options())
    save_json(res.to_json(), "recorded")
    assert res.verdict == gpuattest.Verdict.VERIFIED and res.ok and bool(res)
    assert res.nonce == AZ_NONCE
    assert res.genuine_gpus == 1 and res.genuine_switches == 0
    [d] = res.devices
    assert (d.kind, d.label, d.verdict) == ("gpu", "GPU 0", gpuattest.Verdict.VERIFIED)
    ids = {c.id: c for c in d.checks}
    assert ids["report-signature"].outcome == gpuattest.Outcome.PASS
    # revocation was skipped on request: said so, never "passed"
    assert [c.outcome for c in d.failed_checks()] == [gpuattest.Outcome.SKIPPED] * len(d.failed_checks())
    assert d.failed_checks(), "the skipped revocation check must show"
    assert d.claims["measres"] == "success"
    assert d.claims["x-nvidia-gpu-claims-version"] == "4.0"
    doc = res.document
    assert doc["schema_version"] == "1.0" and doc["result"] == "pass" and doc["exit_code"] == 0
    assert doc["revocation_checked"] is False and doc["weakened"]
    assert "VERIFICATION SUCCESSFUL" in res.text()


def test_file_bytes_text_and_list_agree():
    path = vector("gpu", "hopper_595.71.05_azure", "gpu-evidence.json")
    v = gpuattest.Verifier(**azure_options())
    with open(path, "rb") as f:
        data = f.read()
    verdicts = {v.verify_evidence_file(path).verdict, v.verify_evidence_bytes(data).verdict,
                v.verify_evidence(data.decode()).verdict, v.verify_evidence(json.loads(data)).verdict}
    assert verdicts == {gpuattest.Verdict.VERIFIED}


def test_report_and_chain():
    res = gpuattest.Verifier(**azure_options()).verify_report(
        vector("gpu", "hopper_595.71.05_azure", "attestation_report.bin"),
        vector("gpu", "hopper_595.71.05_azure", "cert_chain.pem"))
    save_json(res.to_json(), "report")
    assert res.ok and res.genuine_gpus == 1


def test_claims_version_3():
    res = gpuattest.verify_evidence(evidence_list(), **azure_options(claims_version=3))
    assert res.claims[0]["x-nvidia-gpu-claims-version"] == "3.0"
    assert "x-nvidia-attester-claims" not in res.claims[0]


def test_tampered_signature_fails():
    ev = evidence_list()
    report = bytearray(base64.b64decode(ev[0]["evidence"]))
    report[-1] ^= 0x01                      # one bit of the report's signature
    ev[0]["evidence"] = base64.b64encode(bytes(report)).decode()
    res = gpuattest.verify_evidence(ev, **azure_options())
    save_json(res.to_json(), "tampered")
    assert res.verdict == gpuattest.Verdict.FAILED and not res
    [d] = res.devices
    sig = [c for c in d.checks if c.id == "report-signature"][0]
    assert sig.outcome == gpuattest.Outcome.FAIL
    assert res.document["result"] == "fail"


def test_other_nonce_fails_and_none_is_incomplete():
    res = gpuattest.verify_evidence(evidence_list(), **azure_options(nonce="00" * 32))
    save_json(res.to_json(), "wrong-nonce")
    assert res.verdict == gpuattest.Verdict.FAILED
    opts = azure_options()
    del opts["nonce"]
    res = gpuattest.verify_evidence(evidence_list(), **opts)
    save_json(res.to_json(), "no-nonce")
    assert res.verdict == gpuattest.Verdict.INCOMPLETE      # freshness not proven


def test_malformed_input_raises_bad_input(tmp_path):
    v = gpuattest.Verifier(**azure_options())
    with pytest.raises(gpuattest.BadInput) as e:
        v.verify_evidence('[{"evidence": 5}]')
    assert e.value.verdict == gpuattest.Verdict.BAD_INPUT
    assert "evidence" in str(e.value)
    missing = str(tmp_path / "nonexistent.json")
    with pytest.raises(gpuattest.BadInput) as e:
        v.verify_evidence_file(missing)
    assert "nonexistent.json" in str(e.value)


def test_options_are_checked():
    with pytest.raises(TypeError):
        gpuattest.Verifier(no_such_option=True)
    with pytest.raises(gpuattest.BadInput):
        gpuattest.Verifier(nonce="abcd")
    with pytest.raises(gpuattest.BadInput) as e:
        gpuattest.Verifier(claims_version=2)
    assert "claims" in str(e.value).lower()
    with pytest.raises(gpuattest.BadInput):
        gpuattest.Verifier(rim_dirs=["a", "b", "c", "d"])       # at most 3, never dropped


def test_relying_party_policy(tmp_path):
    from gpuattest import _lib
    if not _lib.has("gpuattest_config_set_policy_file"):
        pytest.skip("this libgpuattest has no gpuattest_config_set_policy_file (relying-party policies)")
    deny = tmp_path / "deny.rego"
    deny.write_text("package policy\n\nimport rego.v1\n\ndefault nv_match := false\n")
    res = gpuattest.verify_evidence(evidence_list(), **azure_options(policy_file=str(deny)))
    save_json(res.to_json(), "policy-deny")
    assert res.verdict == gpuattest.Verdict.FAILED
    assert "deny.rego" in json.dumps(res.document["policy"])
    allow = "package policy\n\nimport rego.v1\n\nnv_match if {\n\tcount(input) > 0\n}\n"
    res = gpuattest.verify_evidence(evidence_list(), **azure_options(policy=allow))
    save_json(res.to_json(), "policy-allow")
    assert res.verdict == gpuattest.Verdict.VERIFIED
    # NVIDIA's default policy wants OCSP "good": offline it says no
    res = gpuattest.verify_evidence(evidence_list(), **azure_options(
        policy_file=os.path.join(ROOT, "policies", "nvidia-default.rego")))
    assert res.verdict == gpuattest.Verdict.FAILED and res.document["policy"]["decision"] is False
    with pytest.raises(gpuattest.BadInput) as e:
        gpuattest.Verifier(policy="package policy\nnv_match if { input[0].x = }\n")
    assert "policy" in str(e.value)
