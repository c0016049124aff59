# NVIDIA's default policy, and every GPU's VBIOS must be one of a list you
# have qualified (edit allowed; versions as gpuattest and NVIDIA's claims
# write them, x-nvidia-gpu-vbios-version, upper-case hex).
#
#   gpuattest verify --policy policies/allowed-vbios-versions.rego ...
package policy

import rego.v1

allowed := {"96.00.9F.00.04", "96.00.9F.00.01"}

default nv_match := false

nv_match if {
	count(input) > 0
	every device in input {
		device_ok(device)
	}
}

device_ok(c) if {
	c["x-nvidia-device-type"] == "gpu"
	upper(c["x-nvidia-gpu-vbios-version"]) in allowed
	c.measres == "success"
	object.get(c, "x-nvidia-mismatch-opaque-data-records", null) == null
	chain_ok(c["x-nvidia-gpu-attestation-report-cert-chain"])
	chain_ok(c["x-nvidia-gpu-driver-rim-cert-chain"])
	chain_ok(c["x-nvidia-gpu-vbios-rim-cert-chain"])
}

device_ok(c) if {
	c["x-nvidia-device-type"] == "nvswitch"
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
