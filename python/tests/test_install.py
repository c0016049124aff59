"""The package installs offline with Debian's pip and setuptools
(pip install --no-build-isolation --no-index --target DIR), and the
installed copy, imported from elsewhere, verifies recorded evidence."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import AZ_NONCE, PYDIR, vector


def test_pip_install_offline(tmp_path):
    if subprocess.run([sys.executable, "-m", "pip", "--version"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        pytest.skip("pip is not installed for %s (apt-get install python3-pip)" % sys.executable)
    src = tmp_path / "src"                  # setuptools writes build/ and egg-info next to the sources
    shutil.copytree(PYDIR, src, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    target = tmp_path / "site"
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-index",
                        "--no-cache-dir", "--disable-pip-version-check", "--target", str(target), str(src)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
                       env=dict(os.environ, PIP_NO_INPUT="1"))
    assert p.returncode == 0, p.stdout
    for mod in ("__init__.py", "_lib.py", "compat/attestation.py", "nv_attestation_sdk/__init__.py"):
        assert (target / "gpuattest" / mod).is_file(), mod
    evidence = vector("gpu", "hopper_595.71.05_azure", "gpu-evidence.json")
    code = (
        "import gpuattest, sys\n"
        "from gpuattest.compat import attestation\n"
        "assert gpuattest.__file__.startswith(sys.argv[1]), gpuattest.__file__\n"
        "r = gpuattest.verify_evidence(sys.argv[2], nonce=sys.argv[3], rim_dirs=sys.argv[4:6],\n"
        "    skip_revocation=True, offline=True, no_cache=True)\n"
        "print(r.verdict.name, r.genuine_gpus)\n")
    env = dict(os.environ, PYTHONPATH=str(target))
    p = subprocess.run([sys.executable, "-c", code, str(target), evidence, AZ_NONCE,
                        vector("rim", "driver"), vector("rim", "vbios")], cwd=str(tmp_path), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == "VERIFIED 1", p.stdout
