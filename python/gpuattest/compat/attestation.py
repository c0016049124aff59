"""The part of NVIDIA's Python attestation SDK (``nv_attestation_sdk``) that
its users call, over gpuattest. An existing script runs by changing only
its import::

    from gpuattest.compat import attestation     # was: from nv_attestation_sdk import attestation

    client = attestation.Attestation()
    client.set_name("thisNode1")
    client.set_nonce("931d8dd0...")
    client.add_verifier(attestation.Devices.GPU, attestation.Environment.LOCAL, "", "")
    evidence_list = client.get_evidence()
    client.attest(evidence_list)                 # True only when every check passed
    token = client.get_token()
    client.validate_token(policy_json_text)      # NVIDIA's JSON appraisal policy
    client.decode_token(token)

What it does:

* ``Environment.LOCAL`` is gpuattest's own verifier (libgpuattest): the
  evidence is the live system's (NVML; NSCQ for ``Devices.SWITCH``) unless
  ``add_verifier``'s fourth argument names a recorded evidence file (or is
  its JSON text). Verification runs the whole of gpuattest's policy
  (pinned NVIDIA roots, OCSP, RIMs from NVIDIA's RIM service); options
  beyond NVIDIA's (RIM directories, offline collateral, time, anchors, ...)
  are given with ``Attestation.set_verifier_options(**gpuattest options)``
  (the keywords of gpuattest.Verifier) or, without touching the script, as
  a JSON object in the environment variable ``GPUATTEST_COMPAT_OPTIONS``.
* ``Environment.REMOTE`` (NVIDIA's Remote Attestation Service) is not
  available through this layer: ``add_verifier`` raises
  gpuattest.Unsupported. Use ``gpuattest verify --verifier nras`` (the
  tool), which sends the evidence to NRAS and judges its answer.
* ``get_token()`` is NVIDIA's shape,
  ``[["JWT", sdk_jwt], {"LOCAL_GPU_CLAIMS": [["JWT", overall_jwt], {"GPU-0": jwt, ...}]}]``,
  but every JWT is signed ES384 (NVIDIA's local SDK signs HS256 with a
  published key, which proves nothing). The issuers are NVIDIA's
  (``NV-Attestation-SDK`` outside, ``LOCAL_GPU_VERIFIER`` /
  ``LOCAL_SWITCH_VERIFIER`` inside), ``x-nvidia-ver`` is the claims
  version, the device JWTs carry gpuattest's NVIDIA claims (3.0 set by
  default, ``set_claims_version("4.0")`` for 4.0) and the overall JWT
  carries ``submods`` SHA-256 digests of them and ``eat_nonce``.
  The key is made fresh per process unless ``set_signing_key(pem)`` gives
  one; ``get_jwks()`` is what a relying party verifies with
  (``gpuattest.verify_token(inner_token, jwks, issuer="LOCAL_GPU_VERIFIER")``
  applies the whole of gpuattest's token rules to the inner detached EAT).
* ``validate_token(policy)`` first verifies every signature, issuer,
  expiry, submod digest and the nonce with the library, then matches the
  policy's ``overall-claims`` and ``detached-claims`` as NVIDIA's SDK does
  (gpuattest.policy). A token that was not signed by this client's key, or
  was changed by one byte, is False whatever the policy says.

Claims of NVIDIA's Python verifier that gpuattest's claims do not carry are
added to the device JWTs so that NVIDIA's policy files keep matching:
``x-nvidia-gpu-driver-rim-schema-validated`` and
``x-nvidia-gpu-vbios-rim-schema-validated`` (switch:
``x-nvidia-switch-bios-rim-schema-validated``): true when that RIM was
fetched, its signature verified and its measurements read, since gpuattest
parses every RIM strictly against the SWID structure it uses (not an XSD).

Claims version "2.0" (the 1.x SDK's older set) is not produced: use "3.0"
or "4.0"; ``set_claims_version("2.0")`` raises gpuattest.Unsupported.
"""
import enum
import hashlib
import json
import logging
import os
import secrets

from .. import policy as _policy
from .._verify import BadInput, Error, Unsupported, Verifier, nonce_bytes
from ..tokens import Signer, TokenType, verify_token

logger = logging.getLogger("gpuattest.compat")

SDK_ISSUER = "NV-Attestation-SDK"
OVERALL_SUB = "NVIDIA-PLATFORM-ATTESTATION"


class Devices(enum.IntFlag):
    """Kinds of device, as NVIDIA's SDK numbers them."""
    CPU = 1
    GPU = 2
    SWITCH = 4
    OS = 8
    DPU = 16


class Environment(enum.IntEnum):
    """Where attestation is done, as NVIDIA's SDK numbers them. gpuattest
    does LOCAL; REMOTE raises Unsupported; the others are unknown here too."""
    TEST = 1
    LOCAL = 2
    AZURE = 3
    GCP = 4
    REMOTE = 5


class VerifierFields(enum.IntEnum):
    """Positions in a verifier entry (get_verifiers()), as NVIDIA's SDK."""
    NAME = 0
    DEVICE = 1
    ENVIRONMENT = 2
    URL = 3
    POLICY = 4
    JWT_TOKEN = 5
    OCSP_URL = 6
    RIM_URL = 7


_NAMES = {
    (Devices.GPU, Environment.LOCAL): "LOCAL_GPU_CLAIMS",
    (Devices.SWITCH, Environment.LOCAL): "LOCAL_SWITCH_CLAIMS",
    (Devices.GPU, Environment.REMOTE): "REMOTE_GPU_CLAIMS",
    (Devices.SWITCH, Environment.REMOTE): "REMOTE_SWITCH_CLAIMS",
}
_ISSUERS = {"LOCAL_GPU_CLAIMS": "LOCAL_GPU_VERIFIER", "LOCAL_SWITCH_CLAIMS": "LOCAL_SWITCH_VERIFIER"}
_CLAIMS_VERSIONS = {"3.0": 3, "4.0": 4}
# NVIDIA's Python verifier's claims that gpuattest's sets lack: name -> the
# gpuattest claims that together stand for it.
_PY_LGV_CLAIMS = {
    "x-nvidia-gpu-driver-rim-schema-validated": ("x-nvidia-gpu-driver-rim-fetched",
                                                 "x-nvidia-gpu-driver-rim-signature-verified",
                                                 "x-nvidia-gpu-driver-rim-measurements-available"),
    "x-nvidia-gpu-vbios-rim-schema-validated": ("x-nvidia-gpu-vbios-rim-fetched",
                                                "x-nvidia-gpu-vbios-rim-signature-verified",
                                                "x-nvidia-gpu-vbios-rim-measurements-available"),
    "x-nvidia-switch-bios-rim-schema-validated": ("x-nvidia-switch-bios-rim-fetched",
                                                  "x-nvidia-switch-bios-rim-signature-verified",
                                                  "x-nvidia-switch-bios-rim-measurements-available"),
}


def _sha256_hex(text):
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _with_py_lgv_claims(claims):
    out = dict(claims)
    for name, parts in _PY_LGV_CLAIMS.items():
        if parts[0] in claims and name not in claims:
            out[name] = all(claims.get(p) is True for p in parts)
    return out


def _read_evidence(spec):
    """add_verifier's evidence argument: JSON text, or a file holding it."""
    text = spec
    if not spec.lstrip().startswith(("[", "{")):
        try:
            with open(spec, "r", encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise BadInput("evidence %s: %s" % (spec, e.strerror)) from None
    try:
        ev = json.loads(text)
    except ValueError as e:
        raise BadInput("evidence %s: not JSON: %s" % (spec if text is not spec else "text", e)) from None
    # An NRAS request ({"nonce", "evidence_list": [...]}) or the bare list.
    return ev.get("evidence_list", ev) if isinstance(ev, dict) else ev


class Attestation:
    """NVIDIA's Attestation client: one per process (every Attestation()
    is the same object, as in NVIDIA's SDK; ``reset()`` starts over)."""

    _instance = None
    _name = ""
    _nonce = ""
    _service_key = None
    _nonce_server = ""
    _claims_version = "3.0"
    _ocsp_nonce_disabled = False
    _verifiers = []
    _tokens = {}
    _options = None
    _signer = None
    _results = {}

    def __new__(cls, name=None):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
            cls._name = name if isinstance(name, str) else ""
        return cls._instance

    # ---- NVIDIA's setters and getters ---------------------------------------

    @classmethod
    def set_name(cls, name):
        cls._name = name

    @classmethod
    def get_name(cls):
        return cls._name

    @classmethod
    def set_nonce(cls, nonce):
        """The nonce (64 hex digits) the evidence must carry."""
        cls._nonce = nonce

    @classmethod
    def get_nonce(cls):
        return cls._nonce

    @classmethod
    def set_service_key(cls, service_key):
        """Sent as Bearer to NVIDIA's RIM service (and OCSP)."""
        cls._service_key = service_key

    @classmethod
    def get_service_key(cls):
        return cls._service_key

    @classmethod
    def set_nonce_server(cls, url):
        cls._nonce_server = url

    @classmethod
    def get_nonce_server(cls):
        return cls._nonce_server

    @classmethod
    def set_ocsp_nonce_disabled(cls, disabled):
        """Accepted for compatibility. gpuattest always sends an OCSP nonce
        and accepts an answer without one only as the library's OCSP rules
        allow; it never weakens revocation because of this flag."""
        if not isinstance(disabled, bool):
            raise ValueError("Incorrect data type for ocsp_nonce_disabled.")
        cls._ocsp_nonce_disabled = disabled

    @classmethod
    def get_ocsp_nonce_disabled(cls):
        return cls._ocsp_nonce_disabled

    @classmethod
    def set_claims_version(cls, claims_version):
        """"3.0" (default here) or "4.0": the NVIDIA GPU claims set in the
        token. "2.0" is not produced by gpuattest: Unsupported."""
        v = str(claims_version)
        if v not in _CLAIMS_VERSIONS:
            raise Unsupported("claims version %r: gpuattest produces NVIDIA's claims 3.0 and 4.0" % v)
        cls._claims_version = v

    @classmethod
    def get_claims_version(cls):
        return cls._claims_version

    # ---- gpuattest's additions ------------------------------------------------

    @classmethod
    def set_verifier_options(cls, **options):
        """gpuattest.Verifier options for LOCAL verification beyond NVIDIA's
        settings (rim_dirs, collateral, offline, at, device_anchors,
        nvml_lib, skip_revocation, ...). Checked now: an unknown one raises
        TypeError."""
        Verifier(**options).close()
        cls._options = dict(options)

    @classmethod
    def set_signing_key(cls, key, kid=None):
        """The EC P-384 private key (PEM text, bytes or a path) that signs
        tokens, instead of a fresh per-process key."""
        Signer(key, kid)              # refused now if it is no such key
        cls._signer = (key, kid)

    @classmethod
    def get_jwks(cls):
        """The public keys (JWKS text) that this client's tokens verify with."""
        return cls._signer_for(SDK_ISSUER).jwks

    @classmethod
    def get_results(cls):
        """The gpuattest.Result of each verifier of the last attest(), by
        verifier name: per-device checks, claims, the result document."""
        return dict(cls._results)

    @classmethod
    def _signer_for(cls, issuer):
        if cls._signer is None:
            cls._signer = (Signer(), None)
        key, kid = cls._signer
        if isinstance(key, Signer):
            return key
        return Signer(key, kid, issuer)

    # ---- verifiers --------------------------------------------------------------

    @classmethod
    def add_verifier(cls, dev, env, url, evidence, ocsp_url=None, rim_url=None):
        """Adds a verifier: dev Devices.GPU or Devices.SWITCH, env
        Environment.LOCAL; url unused locally; evidence "" for the live
        system, or a recorded evidence file (or its JSON text); ocsp_url /
        rim_url override NVIDIA's services."""
        name = _NAMES.get((dev, env))
        if name is None or env != Environment.LOCAL:
            raise Unsupported("verifier %s / %s: gpuattest's Python layer attests GPUs and NVSwitches "
                              "locally only (Environment.LOCAL); for NVIDIA's Remote Attestation Service "
                              "use 'gpuattest verify --verifier nras --nras-url URL'" % (_enum_name(Devices, dev),
                                                                                         _enum_name(Environment, env)))
        cls._verifiers.append([name, dev, env, url, evidence, "", ocsp_url, rim_url])

    @classmethod
    def clear_verifiers(cls):
        cls._verifiers.clear()

    @classmethod
    def get_verifiers(cls):
        return cls._verifiers

    @classmethod
    def get_verifier_by_name(cls, name):
        return next((v for v in cls._verifiers if v[VerifierFields.NAME] == name), None)

    @classmethod
    def _verifier_for(cls, entry):
        opts = dict(cls._options if cls._options is not None else _env_options())
        opts.setdefault("claims_version", _CLAIMS_VERSIONS[cls._claims_version])
        if entry[VerifierFields.OCSP_URL]:
            opts.setdefault("ocsp_url", entry[VerifierFields.OCSP_URL])
        if entry[VerifierFields.RIM_URL]:
            opts.setdefault("rim_url", entry[VerifierFields.RIM_URL])
        if cls._service_key:
            opts.setdefault("service_key", cls._service_key)
        if cls._nonce:
            opts["nonce"] = cls._nonce
        return Verifier(**opts)

    @classmethod
    def get_evidence(cls, options=None):
        """The first verifier's evidence, a list of NVIDIA's evidence
        entries: the recorded file's, or the live devices' over this
        client's nonce (made now when none was set)."""
        if not cls._verifiers:
            logger.error("no verifier: add_verifier first")
            return []
        entry = cls._verifiers[0]
        if entry[VerifierFields.POLICY]:
            return _read_evidence(entry[VerifierFields.POLICY])
        if not cls._nonce:
            cls._nonce = secrets.token_bytes(32).hex()
        with cls._verifier_for(entry) as v:
            gpus, switches = v.collect_evidence()
        return (switches or []) if entry[VerifierFields.DEVICE] == Devices.SWITCH else gpus

    @classmethod
    def attest(cls, evidence_list):
        """Verifies evidence_list with every verifier; True only when each
        verdict is VERIFIED. Makes this client's token (get_token), also
        for a failure (its claims say what failed). Raises gpuattest.Error
        when the evidence cannot be read at all."""
        if not evidence_list:
            logger.info("evidence is empty: nothing attested")
            return False
        if not cls._nonce:
            raise BadInput("attest: no nonce: set_nonce(the nonce the evidence was collected with)")
        ok = True
        cls._results = {}
        for entry in cls._verifiers:
            v = cls._verifier_for(entry)
            if entry[VerifierFields.DEVICE] == Devices.SWITCH:
                res = v.verify_system(None, evidence_list)
            else:
                res = v.verify_evidence(evidence_list)
            cls._results[entry[VerifierFields.NAME]] = res
            entry[VerifierFields.JWT_TOKEN] = cls._verifier_token(entry[VerifierFields.NAME], res)
            if not res.ok:
                logger.error("%s: %s", entry[VerifierFields.NAME], res.document.get("summary", res.verdict.name))
            ok = ok and res.ok
        cls._tokens[cls._name] = cls._sdk_token()
        return ok

    # ---- tokens -----------------------------------------------------------------

    @classmethod
    def _verifier_token(cls, name, res):
        """NVIDIA's detached EAT of one verifier, signed ES384."""
        iss = _ISSUERS[name]
        signer = cls._signer_for(iss)
        jwts, counts = {}, {"gpu": 0, "switch": 0}
        for d in res.devices:
            label = "%s-%d" % ("SWITCH" if d.kind == "switch" else "GPU", counts[d.kind])
            counts[d.kind] += 1
            jwts[label] = signer.sign_jwt(dict(_with_py_lgv_claims(d.claims), iss=iss))
        overall = signer.sign_jwt({
            "iss": iss, "sub": OVERALL_SUB, "x-nvidia-ver": cls._claims_version,
            "x-nvidia-overall-att-result": res.ok, "eat_nonce": res.nonce,
            "submods": {label: ["DIGEST", ["SHA-256", _sha256_hex(t)]] for label, t in jwts.items()},
        })
        return [["JWT", overall], jwts]

    @classmethod
    def _sdk_token(cls):
        claims = {e[VerifierFields.NAME]: e[VerifierFields.JWT_TOKEN] for e in cls._verifiers
                  if e[VerifierFields.JWT_TOKEN]}
        outer = cls._signer_for(SDK_ISSUER).sign_jwt({"iss": SDK_ISSUER, "x-gpuattest-node": cls._name})
        return json.dumps([["JWT", outer], claims])

    @classmethod
    def set_token(cls, name, eat_token):
        cls._tokens[name] = eat_token

    @classmethod
    def get_token(cls, x=None):
        """This client's token (JSON text; "" before attest)."""
        name = cls._name if x is None else x if isinstance(x, str) else ""
        return cls._tokens.get(name, "") if name != "" else ""

    @classmethod
    def decode_token(cls, token):
        """The token's claims, decoded without checking anything (use
        validate_token for that): {"JWT": sdk claims, verifier name:
        {"overall": ..., "submods": {label: claims}}}. Also logged."""
        if not token:
            logger.info("token is empty")
            return {}
        outer = json.loads(token)
        out = {"JWT": _jwt_payload(outer[0][1])}
        for name, eat in outer[1].items():
            out[name] = {"overall": _jwt_payload(eat[0][1]),
                         "submods": {k: _jwt_payload(v) for k, v in eat[1].items()}}
            logger.debug("%s: %s", name, json.dumps(out[name], indent=2))
        return out

    @classmethod
    def validate_token(cls, policy, x=None):
        """Applies an appraisal policy (NVIDIA's JSON format, text) to a
        token: this client's (x None), the token x (text), or each of a
        {name: token} dict (then a {name: bool} dict is returned). True
        only when every signature, issuer, expiry, digest and the nonce
        verify under this client's keys and the policy matches."""
        if isinstance(x, dict):
            return {n: bool(t) and cls._validate(policy, t) for n, t in x.items() if n}
        token = x if isinstance(x, str) and x else cls._tokens.get(cls._name, "") if x is None else ""
        return bool(token) and cls._validate(policy, token)

    @classmethod
    def _validate(cls, policy, token):
        try:
            rules = _policy.load(policy)
            why = cls._token_problem(rules, token)
        except (Error, ValueError, KeyError, IndexError, TypeError) as e:
            why = "the token or policy cannot be read: %s" % e
        if why:
            logger.error("validate_token: %s", why)
            return False
        return True

    @classmethod
    def _token_problem(cls, rules, token):
        outer = json.loads(token)
        jwks = cls.get_jwks()
        if not (isinstance(outer, list) and len(outer) == 2 and outer[0][0] == rules.get("type", "JWT")):
            return "not a token of type %s" % rules.get("type", "JWT")
        r = verify_token(outer[0][1], jwks, issuer=SDK_ISSUER, type=TokenType.JWT)
        if not r.ok:
            return "the token's own JWT: " + r.message
        if not outer[1]:
            return "no verifier claims in the token"
        for name, eat in outer[1].items():
            if name not in _ISSUERS or cls.get_verifier_by_name(name) is None:
                return "%s: not a verifier of this client" % name
            why = cls._eat_problem(name, eat, jwks, rules)
            if why:
                return "%s: %s" % (name, why)
        return None

    @classmethod
    def _eat_problem(cls, name, eat, jwks, rules):
        iss = _ISSUERS[name]
        r = verify_token(eat[0][1], jwks, issuer=iss, type=TokenType.JWT)
        if not r.ok:
            return "overall JWT: " + r.message
        overall, subs = r.claims, {}
        digests = overall.get("submods")
        if not isinstance(digests, dict) or set(digests) != set(eat[1]):
            return "the submods of the overall JWT and the device tokens differ"
        for label, jwt in eat[1].items():
            d = verify_token(jwt, jwks, issuer=iss, type=TokenType.JWT)
            if not d.ok:
                return "%s: %s" % (label, d.message)
            if digests[label] != ["DIGEST", ["SHA-256", _sha256_hex(jwt)]]:
                return "%s: its SHA-256 is not the overall JWT's digest" % label
            subs[label] = d.claims
        if cls._nonce and overall.get("eat_nonce") != nonce_bytes(cls._nonce).hex():
            return "eat_nonce %r is not this client's nonce" % overall.get("eat_nonce")
        return _policy.check(rules, overall, subs)

    @classmethod
    def reset(cls):
        """Forgets verifiers, nonce, tokens, options and key."""
        cls._nonce_server = ""
        cls._nonce = ""
        cls._verifiers = []
        cls._tokens = {}
        cls._options = None
        cls._signer = None
        cls._results = {}
        cls._claims_version = "3.0"


def _env_options():
    """GPUATTEST_COMPAT_OPTIONS: a JSON object of gpuattest.Verifier options,
    so that a script written for NVIDIA's SDK is configured without a change
    (e.g. {"rim_dirs": ["/srv/rims"], "collateral": "/srv/collateral.json"})."""
    text = os.environ.get("GPUATTEST_COMPAT_OPTIONS", "")
    if not text:
        return {}
    try:
        opts = json.loads(text)
    except ValueError as e:
        raise BadInput("GPUATTEST_COMPAT_OPTIONS: not JSON: %s" % e) from None
    if not isinstance(opts, dict):
        raise BadInput("GPUATTEST_COMPAT_OPTIONS: not a JSON object of gpuattest.Verifier options")
    return opts


def _enum_name(cls, v):
    try:
        return cls(v).name
    except ValueError:
        return repr(v)


def _jwt_payload(jwt):
    """A JWT's payload, decoded without verification (decode_token only)."""
    import base64
    part = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


__all__ = ["Attestation", "Devices", "Environment", "VerifierFields"]
