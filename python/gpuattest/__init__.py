"""gpuattest: verify that NVIDIA GPUs and NVSwitches are genuine, run the
firmware NVIDIA signed, and are in the expected confidential-computing
mode, from Python, through the gpuattest library (libgpuattest.so.0).

Recorded evidence::

    import gpuattest
    v = gpuattest.Verifier(nonce="690bb51b...", rim_dirs=["rims/driver", "rims/vbios"])
    res = v.verify_evidence("gpu-evidence.json")       # a path, bytes, JSON text or list
    if not res.ok:
        for d in res.devices:
            for c in d.failed_checks():
                print(d.label, c.id, c.outcome.name, c.detail)
    res.document      # the result document (gpuattest verify --format json)
    res.claims        # each device's NVIDIA claims

This machine (NVML, and NSCQ in Protected PCIe mode)::

    res = gpuattest.Verifier(expect_gpus=8).verify_live()

Signed results (ES384)::

    signer = gpuattest.Signer(key="ear.pem")            # or Signer() for a fresh key
    token = res.sign_ear(signer)
    gpuattest.verify_token(token, signer.jwks).ok

NVIDIA's Python SDK shape (``nv_attestation_sdk``), for existing scripts::

    from gpuattest.compat import attestation    # instead of: from nv_attestation_sdk import attestation

Verdicts are gpuattest.Verdict (VERIFIED 0, FAILED 1, BAD_INPUT 2,
INCOMPLETE 3: the tool's exit codes). A call that cannot produce a result
raises gpuattest.BadInput or gpuattest.Incomplete with the library's
message; a check that could not run is NOT_DONE and the verdict is
INCOMPLETE, never VERIFIED. Where the library is found: gpuattest._lib.
"""
from ._lib import LibraryNotFound
from ._verify import (BadInput, Check, Device, Error, Incomplete, Outcome, Result, Unsupported, Verdict,
                      Verifier)
from .tokens import Signer, TokenResult, TokenType, verify_token

__all__ = [
    "BadInput", "Check", "Device", "Error", "Incomplete", "LibraryNotFound", "Outcome", "Result", "Signer",
    "TokenResult", "TokenType", "Unsupported", "Verdict", "Verifier", "library_version", "verify_evidence",
    "verify_live", "verify_token", "__version__",
]

__version__ = "0.1.0"


def library_version():
    """The version of the libgpuattest.so.0 in use ("0.1.0")."""
    from . import _lib
    return _lib.text(_lib.lib().gpuattest_version())


def verify_evidence(evidence, **options):
    """Verifies recorded GPU evidence (path, bytes, JSON text or list) with
    Verifier(**options); returns the Result."""
    return Verifier(**options).verify_evidence(evidence)


def verify_live(**options):
    """Collects and verifies this machine's GPUs with Verifier(**options)."""
    return Verifier(**options).verify_live()
