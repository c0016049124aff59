# NVIDIA's built-in overall-result policy (attestation SDK 2.0,
# src/claims_evaluator.cpp), reproduced: what gpuattest's claims must say for
# NVIDIA's SDK to report an overall success. Every device claim set must pass
# the rule of its type, and there must be at least one.
#
#   gpuattest verify --policy policies/nvidia-default.rego ...
#
# Revocation must have been checked: with --no-ocsp the chains say
# "not-checked" and this policy says no.
package policy

import future.keywords.every
import future.keywords.in

default nv_match := false

nv_match {
	count(input) > 0
	every device in input {
		device_ok(device)
	}
}

device_ok(c) {
	c["x-nvidia-device-type"] == "gpu"
	c.measres == "success"
	object.get(c, "x-nvidia-mismatch-opaque-data-records", null) == null
	chain_ok(c["x-nvidia-gpu-attestation-report-cert-chain"])
	chain_ok(c["x-nvidia-gpu-driver-rim-cert-chain"])
	chain_ok(c["x-nvidia-gpu-vbios-rim-cert-chain"])
}

device_ok(c) {
	c["x-nvidia-device-type"] == "nvswitch"
	c.measres == "success"
	chain_ok(c["x-nvidia-switch-attestation-report-cert-chain"])
	chain_ok(c["x-nvidia-switch-bios-rim-cert-chain"])
}

# A chain: in its validity period, not revoked, and the OCSP answer fresh
# (our nonce) and validly signed.
chain_ok(ch) {
	ch["x-nvidia-cert-status"] == "valid"
	ch["x-nvidia-cert-ocsp-status"] == "good"
	ch["x-nvidia-cert-ocsp-nonce-matches"] == true
	ch["x-nvidia-cert-ocsp-response-valid"] == true
}
