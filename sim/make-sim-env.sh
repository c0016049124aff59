#!/usr/bin/env bash
# make-sim-env.sh OUTDIR [NGPUS] [NSWITCHES] [MULTI_GPU_MODE]
#
# One step to a working SIMULATED confidential GPU system: the test PKI
# (make-pki.sh), matching signed RIMs (make-rims.sh) and OUTDIR/config.json
# for the simulator libraries. Prints the environment to use, e.g.
#   eval "$(sim/make-sim-env.sh /tmp/gpa-sim 8 4 1)"
# then dlopen build/sim/libnvidia-ml-sim.so / libnvidia-nscq-sim.so (or put
# build/sim on LD_LIBRARY_PATH and load libnvidia-ml.so.1 / libnvidia-nscq.so.2).
# Trust anchors: OUTDIR/root.pem (devices), OUTDIR/rim/root.pem (RIMs);
# RIMs: OUTDIR/rims/<RIM id>.xml.
#
# Owns: files under OUTDIR. Defaults: 8 GPUs, 4 switches, multi_gpu_mode 0
# (set 1 for protected PCIe), driver 595.71.05, VBIOS 96.00.9F.00.04,
# project 1010 / SKU 0210 / chip SKU 886, switch BIOS 96.10.55.00.01.
#
# SIM_OPAQUE_LAYOUT=nvdaod: the GPUs send versioned opaque data (NVDAOD, as
# drivers of CUDA 13.5 on) with driver 620.12, FSP_UCODE_SVN (id 37) 1 and an
# unknown id 38, and the VBIOS RIM carries the reference value
# "37:1:fsp_ucode_svn" (SIM_VBIOS_OPAQUE / SIM_DRIVER_OPAQUE override it;
# see make-rims.sh). Default: legacy opaque data, RIMs without such records.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 4 ]; then
	echo "usage: $0 OUTDIR [NGPUS] [NSWITCHES] [MULTI_GPU_MODE]" >&2
	exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$1 NGPUS=${2:-8} NSW=${3:-4} MGM=${4:-0}
case "$MGM" in 0|1|2) ;; *) echo "$0: MULTI_GPU_MODE must be 0, 1 or 2" >&2; exit 2 ;; esac
DRIVER=595.71.05 VBIOS=96.00.9F.00.04 SWBIOS=96.10.55.00.01
LAYOUT=${SIM_OPAQUE_LAYOUT:-legacy}
case "$LAYOUT" in
legacy) ;;
nvdaod)
	DRIVER=620.12
	export SIM_VBIOS_OPAQUE=${SIM_VBIOS_OPAQUE-37:1:fsp_ucode_svn} ;;
*) echo "$0: SIM_OPAQUE_LAYOUT must be legacy or nvdaod" >&2; exit 2 ;;
esac

"$HERE/make-pki.sh" "$OUT" "$NGPUS" "$NSW"
OUT=$(cd "$OUT" && pwd)
"$HERE/make-rims.sh" "$OUT" "$DRIVER" "$VBIOS" 1010 0210 886 "$SWBIOS"
cat >"$OUT/config.json" <<EOF
{
  "pki": "$OUT",
  "gpus": $NGPUS,
  "switches": $NSW,
  "driver_version": "$DRIVER",
  "vbios_version": "$VBIOS",
  "project": "1010",
  "project_sku": "0210",
  "chip_sku": "886",
  "switch_bios_version": "$SWBIOS",
  "cc_feature": $([ "$MGM" = 0 ] && echo 1 || echo 0),
  "multi_gpu_mode": $MGM,
  "dev_tools": 0,
  "environment": 2,
  "cpu_caps": 2,
  "gpus_caps": 1,
  "ready_state_file": "$OUT/ready_state",
  "opaque_layout": "$LAYOUT",
  "faults": []
}
EOF
echo "export GPUATTEST_SIM_CONFIG='$OUT/config.json'"
