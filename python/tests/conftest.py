"""Shared set-up of the Python tests: the library of this build
(GPUATTEST_LIB, default $BUILD/lib/libgpuattest.so.0), the package from this
tree, the recorded NVIDIA vectors (../shared, skipped visibly when absent),
the simulated GPUs (sim/make-sim-env.sh) and where JSON result documents
are kept for tests/check_json_schema.py (GPUATTEST_JSON_DIR)."""
import json
import os
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
ROOT = os.path.dirname(PYDIR)
BUILD = os.environ.get("BUILD", "build")
BDIR = BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD)
os.environ.setdefault("GPUATTEST_LIB", os.path.join(BDIR, "lib", "libgpuattest.so.0"))
if PYDIR not in sys.path:
    sys.path.insert(0, PYDIR)
SHARED = os.environ.get("GPUATTEST_SHARED") or os.path.join(ROOT, "..", "shared")
VECTORS = os.path.join(SHARED, "vectors", "nvidia")
AZ = os.path.join(VECTORS, "gpu", "hopper_595.71.05_azure")
# The nonce NVIDIA's recorded Azure H100 evidence was collected with.
AZ_NONCE = "690bb51b904351e28100a0610fe60624255c26d7d38c53fb1285ecfed1cab17a"
SIMLIB = os.path.join(BDIR, "sim", "libnvidia-ml-sim.so")


def vector(*parts):
    """A file of the recorded NVIDIA vectors, or a visible skip."""
    p = os.path.join(VECTORS, *parts)
    if not os.path.exists(p):
        pytest.skip("recorded NVIDIA vectors not found: %s (../shared absent)" % p)
    return p


def azure_options(**more):
    """Offline verification of the Azure evidence: its RIMs, no revocation check."""
    opts = dict(nonce=AZ_NONCE, rim_dirs=[vector("rim", "driver"), vector("rim", "vbios")],
                skip_revocation=True, offline=True, no_cache=True)
    opts.update(more)
    return opts


def save_json(text, suite):
    """Keeps a result document (the --format json shape) for the schema check."""
    d = os.environ.get("GPUATTEST_JSON_DIR")
    if not d or not text:
        return
    fd, _ = tempfile.mkstemp(prefix="verify.python-%s." % suite, dir=d)
    with os.fdopen(fd, "w") as f:
        f.write(text)


@pytest.fixture(scope="session")
def sim(tmp_path_factory):
    """A simulated 2-GPU confidential system (test PKI: never NVIDIA's)."""
    if not os.path.exists(SIMLIB):
        pytest.fail("simulator not built: %s (make BUILD=%s)" % (SIMLIB, BUILD))
    d = str(tmp_path_factory.mktemp("sim"))
    subprocess.run([os.path.join(ROOT, "sim", "make-sim-env.sh"), d, "2", "0"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return d


def sim_config(sim, name, **overrides):
    """A simulator config file: the base one with overrides (faults, ...)."""
    with open(os.path.join(sim, "config.json")) as f:
        c = json.load(f)
    c.update(overrides)
    path = os.path.join(sim, name + ".json")
    with open(path, "w") as f:
        json.dump(c, f)
    return path


def sim_options(sim, **more):
    """Verifier options that trust only the simulation's test PKI."""
    opts = dict(nvml_lib=SIMLIB, no_pinned_anchors=True, device_anchors=[os.path.join(sim, "root.pem")],
                rim_anchors=[os.path.join(sim, "rim", "root.pem")], rim_dirs=[os.path.join(sim, "rims")],
                no_cache=True, offline=True, skip_revocation=True)
    opts.update(more)
    return opts
