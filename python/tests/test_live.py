"""The live path through a real dlopen of the SIMULATED NVML library
(build/sim/libnvidia-ml-sim.so; devices under a test PKI made at run time,
trusted by name, never NVIDIA's roots): verify_live, collect_evidence then
verify, an injected bad signature, a driver that is not there, and the
nv_attestation_sdk flow collecting evidence from the (simulated) GPUs."""
import pytest

import gpuattest
from conftest import save_json, sim_config, sim_options
from gpuattest.compat import attestation

NONCE = "5a" * 32


def test_live_verifies(sim, monkeypatch):
    monkeypatch.setenv("GPUATTEST_SIM_CONFIG", sim_config(sim, "two"))
    res = gpuattest.Verifier(**sim_options(sim, expect_gpus=2)).verify_live()
    save_json(res.to_json(), "live")
    assert res.verdict == gpuattest.Verdict.VERIFIED, res.text()
    assert res.genuine_gpus == 2 and [d.label for d in res.devices] == ["GPU 0", "GPU 1"]
    assert all(d.uuid for d in res.devices)
    assert "not NVIDIA's root" in res.document["summary"]      # the test PKI says so
    assert len(res.nonce) == 64


def test_collect_then_verify(sim, monkeypatch):
    monkeypatch.setenv("GPUATTEST_SIM_CONFIG", sim_config(sim, "two"))
    v = gpuattest.Verifier(**sim_options(sim, nonce=NONCE))
    gpus, switches = v.collect_evidence()
    assert len(gpus) == 2 and switches is None
    res = v.verify_evidence(gpus)
    save_json(res.to_json(), "collected")
    assert res.ok and res.nonce == NONCE
    other = gpuattest.Verifier(**sim_options(sim, nonce="a5" * 32)).verify_evidence(gpus)
    assert other.verdict == gpuattest.Verdict.FAILED           # not the nonce it was made for


def test_live_bad_signature_fails(sim, monkeypatch):
    monkeypatch.setenv("GPUATTEST_SIM_CONFIG",
                       sim_config(sim, "badsig", faults=[{"kind": "bad_signature", "gpu": 1}]))
    res = gpuattest.Verifier(**sim_options(sim)).verify_live()
    save_json(res.to_json(), "live-badsig")
    assert res.verdict == gpuattest.Verdict.FAILED
    assert [d.verdict for d in res.devices] == [gpuattest.Verdict.VERIFIED, gpuattest.Verdict.FAILED]
    assert [c.id for c in res.devices[1].failed_checks() if c.outcome == gpuattest.Outcome.FAIL] == \
        ["report-signature"]


def test_no_driver_is_incomplete(tmp_path):
    with pytest.raises(gpuattest.Incomplete) as e:
        gpuattest.verify_live(nvml_lib=str(tmp_path / "libnvidia-ml.so.1"))
    assert e.value.verdict == gpuattest.Verdict.INCOMPLETE
    assert "libnvidia-ml.so.1" in str(e.value)


def test_compat_flow_on_the_live_system(sim, monkeypatch):
    monkeypatch.setenv("GPUATTEST_SIM_CONFIG", sim_config(sim, "two"))
    attestation.Attestation.reset()
    try:
        client = attestation.Attestation()
        client.set_name("live")
        client.set_verifier_options(**sim_options(sim))
        client.add_verifier(attestation.Devices.GPU, attestation.Environment.LOCAL, "", "")
        evidence = client.get_evidence()           # a fresh nonce, made here
        assert len(evidence) == 2 and len(client.get_nonce()) == 64
        assert client.attest(evidence) is True
        decoded = client.decode_token(client.get_token())
        assert sorted(decoded["LOCAL_GPU_CLAIMS"]["submods"]) == ["GPU-0", "GPU-1"]
        assert decoded["LOCAL_GPU_CLAIMS"]["overall"]["eat_nonce"] == client.get_nonce()
    finally:
        attestation.Attestation.reset()
