#!/usr/bin/env python3
# The flow of NVIDIA's sample attestation script (nv_attestation_sdk's
# LocalGPUTest), written for gpuattest's tests: name, nonce, one local GPU
# verifier, evidence, attest, token, the relying party's policy, decode.
# It uses only NVIDIA's API; the tests run it with its import changed.
#
# usage: verify_gpu_sample.py NONCE EVIDENCE POLICY...   (EVIDENCE "" = this machine)
import json
import sys

from nv_attestation_sdk import attestation

nonce, evidence, policies = sys.argv[1], sys.argv[2], sys.argv[3:]

client = attestation.Attestation()
client.set_name("thisNode1")
client.set_nonce(nonce)
print("[sample] node name :", client.get_name())

client.add_verifier(attestation.Devices.GPU, attestation.Environment.LOCAL, "", evidence)
print("[sample] verifiers :", [v[0] for v in client.get_verifiers()])

evidence_list = client.get_evidence()
print("[sample] evidence entries :", len(evidence_list))

result = client.attest(evidence_list)
print("[sample] attest() :", result)
token = client.get_token()
print("[sample] token type :", json.loads(token)[0][0])

for path in policies:
    with open(path) as f:
        policy = json.dumps(json.load(f))
    print("[sample] validate_token(%s) :" % path.rsplit("/", 1)[-1], client.validate_token(policy))

decoded = client.decode_token(token)
print("[sample] overall result :", decoded["LOCAL_GPU_CLAIMS"]["overall"]["x-nvidia-overall-att-result"])
sys.exit(0 if result else 1)
