"""Compatibility with NVIDIA's Python attestation SDK: ``attestation`` is
shaped like ``nv_attestation_sdk.attestation`` (see its documentation)."""
from . import attestation

__all__ = ["attestation"]
