"""``from gpuattest.nv_attestation_sdk import attestation``: the same module
as gpuattest.compat.attestation, under NVIDIA's package name."""
from ..compat import attestation

__all__ = ["attestation"]
