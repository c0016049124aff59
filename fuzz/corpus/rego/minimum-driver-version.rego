# NVIDIA's default policy, and every GPU must run driver 580.0 or newer.
# Change minimum below. Versions are compared number by number
# ("595.71.05" is [595, 71, 5]), not as text ("1000.0" < "580.0" as text)
# and not as strict semver, which refuses NVIDIA's leading zeros ("05").
#
#   gpuattest verify --policy policies/minimum-driver-version.rego ...
package policy

import rego.v1

minimum := [580, 0, 0]

default nv_match := false

nv_match if {
	count(input) > 0
	every device in input {
		device_ok(device)
	}
}

version_numbers(v) := [to_number(part) | some part in split(v, ".")]

device_ok(c) if {
	c["x-nvidia-device-type"] == "gpu"
	version_numbers(c["x-nvidia-gpu-driver-version"]) >= minimum
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
