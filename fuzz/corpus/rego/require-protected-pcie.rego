# NVIDIA's default policy, and the system must be in Protected PCIe mode:
# at least one NVSwitch attested, every GPU naming the switches it is wired
# to (x-nvidia-gpu-switch-pdis) and every switch the GPUs
# (x-nvidia-switch-gpu-pdis). A GPU passed through alone in CC mode has
# neither. gpuattest itself checks that the PDIs name each other exactly
# (verify --evidence GPUS --switch-evidence SWITCHES).
#
#   gpuattest verify --policy policies/require-protected-pcie.rego ...
package policy

import future.keywords.every
import future.keywords.if
import future.keywords.in

default nv_match := false

nv_match if {
	count(input) > 0
	count([c | some c in input; c["x-nvidia-device-type"] == "nvswitch"]) > 0
	every device in input {
		device_ok(device)
	}
}

device_ok(c) if {
	c["x-nvidia-device-type"] == "gpu"
	count(object.get(c, "x-nvidia-gpu-switch-pdis", [])) > 0
	c.measres == "success"
	object.get(c, "x-nvidia-mismatch-opaque-data-records", null) == null
	chain_ok(c["x-nvidia-gpu-attestation-report-cert-chain"])
	chain_ok(c["x-nvidia-gpu-driver-rim-cert-chain"])
	chain_ok(c["x-nvidia-gpu-vbios-rim-cert-chain"])
}

device_ok(c) if {
	c["x-nvidia-device-type"] == "nvswitch"
	count(object.get(c, "x-nvidia-switch-gpu-pdis", [])) > 0
	c.measres == "success"
	chain_ok(c["x-nvidia-switch-attestation-report-cert-chain"])
	chain_ok(c["x-nvidia-switch-bios-rim-cert-chain"])
}

chain_ok(ch) if {
	ch["x-nvidia-cert-status"] == "valid"
	ch["x-nvidia-cert-ocsp-status"] == "good"
	ch["x-nvidia-cert-ocsp-nonce-matches"] == true
	ch["x-nvidia-cert-ocsp-response-valid"] == true
}
