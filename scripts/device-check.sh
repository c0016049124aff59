#!/usr/bin/env bash
# The real-GPU check: runs gpuattest against the real NVML of a machine with
# an NVIDIA GPU and driver, and records what the driver itself says (through
# nvidia-smi and NVIDIA's Python NVML bindings when present) so the two can
# be compared. Writes everything under $OUT (default ./device-check-out).
#
#   GPUATTEST="build/gpuattest" scripts/device-check.sh
# A binary built elsewhere can be run with its own loader and libraries:
#   GPUATTEST=".devlibs/ld-linux-x86-64.so.2 --library-path .devlibs build/gpuattest"
set -u
OUT=${OUT:-device-check-out}
mkdir -p "$OUT"
G=${GPUATTEST:-build/gpuattest}
log=$OUT/device-check.log
exec > >(tee "$log") 2>&1

echo "== machine"
uname -a
nvidia-smi -L
nvidia-smi --query-gpu=index,name,uuid,driver_version,vbios_version --format=csv
nvidia-smi conf-compute -f 2>&1 || true
nvidia-smi conf-compute -grs 2>&1 || true

NVML=$(ldconfig -p 2>/dev/null | awk '/libnvidia-ml.so.1 / {print $NF; exit}')
[ -n "$NVML" ] || NVML=$(find / -name 'libnvidia-ml.so.1' -not -path '*/proc/*' 2>/dev/null | head -n 1)
echo "== NVML library: ${NVML:-not found}"

echo "== NVIDIA's own bindings (pynvml), for comparison"
python3 - <<'PY' 2>&1 || true
import pynvml as n
n.nvmlInit()
print("driver", n.nvmlSystemGetDriverVersion())
try:
    s = n.nvmlSystemGetConfComputeState()
    print("cc state: environment", s.environment, "ccFeature", s.ccFeature, "devToolsMode", s.devToolsMode)
except Exception as e:
    print("cc state:", e)
try:
    c = n.nvmlSystemGetConfComputeCapabilities()
    print("cc caps: cpu", c.cpuCaps, "gpus", c.gpusCaps)
except Exception as e:
    print("cc caps:", e)
for i in range(n.nvmlDeviceGetCount()):
    h = n.nvmlDeviceGetHandleByIndex(i)
    print(i, n.nvmlDeviceGetName(h), n.nvmlDeviceGetUUID(h), n.nvmlDeviceGetVbiosVersion(h),
          "arch", n.nvmlDeviceGetArchitecture(h))
PY

echo "== gpuattest version"
$G version
echo "== gpuattest verify (live, real NVML)"
$G verify --nvml-lib "$NVML" --no-ocsp --no-color > "$OUT/verify.txt" 2>&1
echo "exit $?"; cat "$OUT/verify.txt"
$G verify --nvml-lib "$NVML" --no-ocsp --format json > "$OUT/verify.json" 2>"$OUT/verify-json.err"
echo "json exit $?"; cat "$OUT/verify-json.err"
echo "== gpuattest collect (live, real NVML)"
$G collect -o "$OUT/evidence.json" --nvml-lib "$NVML"
echo "exit $?"
echo "== gpuattest verify with the default library name (ldconfig lookup)"
$G verify --no-ocsp --quiet
echo "exit $?"
