# NVIDIA's default policy with one relaxation: the driver RIM's signing
# certificate may have expired (NVIDIA publishes driver RIMs signed by
# certificates that expire before the driver is retired). Everything else,
# the VBIOS RIM's certificate included, is as in nvidia-default.rego.
#
#   gpuattest verify --policy policies/accept-expired-driver-rim-cert.rego ...
#
# gpuattest lists the accepted expiry as a weakening ("driver RIM
# certificate expired: accepted by policy ...").
package policy

import rego.v1

default nv_match := false

nv_match if {
	count(input) > 0
	every device in input {
		device_ok(device)
	}
}

device_ok(c) if {
	c["x-nvidia-device-type"] == "gpu"
	c.measres == "success"
	object.get(c, "x-nvidia-mismatch-opaque-data-records", null) == null
	chain_ok(c["x-nvidia-gpu-attestation-report-cert-chain"], {"valid"})
	chain_ok(c["x-nvidia-gpu-driver-rim-cert-chain"], {"valid", "expired"})
	chain_ok(c["x-nvidia-gpu-vbios-rim-cert-chain"], {"valid"})
}

device_ok(c) if {
	c["x-nvidia-device-type"] == "nvswitch"
	c.measres == "success"
	chain_ok(c["x-nvidia-switch-attestation-report-cert-chain"], {"valid"})
	chain_ok(c["x-nvidia-switch-bios-rim-cert-chain"], {"valid"})
}

chain_ok(ch, statuses) if {
	ch["x-nvidia-cert-status"] in statuses
	ch["x-nvidia-cert-ocsp-status"] == "good"
	ch["x-nvidia-cert-ocsp-nonce-matches"] == true
	ch["x-nvidia-cert-ocsp-response-valid"] == true
}
