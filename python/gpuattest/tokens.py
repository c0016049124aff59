"""Signed results: a Signer (ES384 key, kid, issuer) and a relying party's
check of a token (verify_token), over gpuattest_signer_* and
gpuattest_verify_token. The rules are those of ``gpuattest verify-token``:
ES384 only, kid required and found, iss byte-equal to the expected issuer,
exp / nbf / iat with 60 s leeway, the expected nonce; an EAR must say
ear_status affirming everywhere, a detached EAT must have every submod
digest right, a true overall result and every device passing NVIDIA's
per-device policy (a failing device fails the token)."""
import ctypes
import enum
import json
import os

from . import _lib
from ._verify import BadInput, Verdict, Verifier, _b


class TokenType(enum.IntEnum):
    DETECT = 0         #: '[' first: a detached EAT, else an EAR
    EAR = 1
    DETACHED_EAT = 2
    JWT = 3            #: any JWT: signature, header, iss and times only


class Signer:
    """What signs results: an EC P-384 key, the kid in each token's header
    and the issuer (iss, default "gpuattest").

    ``key``: an unencrypted PEM private key (bytes or text), a path to one,
    or None for a fresh key made now and kept only in memory: relying
    parties then need this signer's ``jwks``. Make a lasting key with
    ``openssl ecparam -name secp384r1 -genkey -noout -out KEY.pem``.
    """

    def __init__(self, key=None, kid=None, issuer=None):
        self._v = Verifier()
        pem = None
        if key is not None:
            if isinstance(key, (bytes, bytearray)):
                pem = bytes(key)
            elif isinstance(key, str) and "-----BEGIN" in key:
                pem = key.encode("ascii")
            else:
                with open(key, "rb") as f:
                    pem = f.read()
        out = ctypes.c_void_p()
        if _lib.lib().gpuattest_signer_new(self._v._cfg, pem, len(pem) if pem else 0, _b(kid), _b(issuer),
                                           ctypes.byref(out)) != 0:
            self._v._raise()
        self._h = out.value
        self.issuer = issuer or "gpuattest"

    def _handle(self):
        if not self._h:
            raise BadInput("the signer was closed")
        return self._h

    @property
    def kid(self):
        """The kid its tokens carry (default: the key's RFC 7638 thumbprint)."""
        return _lib.text(_lib.lib().gpuattest_signer_kid(self._handle()))

    @property
    def jwks(self):
        """The public JSON Web Key Set (text) relying parties verify with."""
        return _lib.take(_lib.lib().gpuattest_signer_jwks(self._handle()))

    def sign_jwt(self, claims):
        """Any claims (a dict) signed as a JWT: iss, iat, nbf, exp (one hour)
        and a fresh jti are added. Compact JWS text."""
        return self._v._sign(lambda cfg, s, c, out: _lib.lib().gpuattest_signer_sign_jwt(cfg, s, c, out),
                             self, json.dumps(claims).encode("utf-8"))

    def close(self):
        if getattr(self, "_h", None):
            _lib.lib().gpuattest_signer_free(self._h)
            self._h = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class TokenResult:
    """What verify_token found: ``verdict`` (VERIFIED, FAILED: not
    trustworthy or says not genuine, BAD_INPUT: undecodable), ``ok``,
    ``message`` (why, when not verified) and ``claims``: the verified
    payloads (an EAR's payload; a detached EAT's {"overall": ...,
    "submods": {"GPU-0": ...}}), None unless every signature verified."""

    def __init__(self, verdict, message, claims):
        self.verdict, self.message, self.claims = Verdict(verdict), message, claims

    @property
    def ok(self):
        return self.verdict == Verdict.VERIFIED

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return "TokenResult(%s, %r)" % (self.verdict.name, self.message)


def _keys_bytes(keys):
    if isinstance(keys, Signer):
        return keys.jwks.encode("utf-8")
    if isinstance(keys, dict):
        return json.dumps(keys).encode("utf-8")
    if isinstance(keys, (bytes, bytearray)):
        return bytes(keys)
    if isinstance(keys, str) and (keys.lstrip().startswith("{") or "-----BEGIN" in keys):
        return keys.encode("utf-8")
    if isinstance(keys, (str, os.PathLike)):
        with open(keys, "rb") as f:
            return f.read()
    raise BadInput("keys: give a JWKS (text, dict or file), a PEM public key or certificate, or a Signer")


def verify_token(token, keys, issuer=None, type=TokenType.DETECT, nonce=None, at=None):
    """Verifies a token (text or bytes: an EAR, a detached EAT, or with
    type JWT any JWT) against ``keys``: a JWKS (text, dict or a file path),
    a PEM public key or certificate (its kid: the key's thumbprint), or a
    Signer. ``issuer``: the expected iss (default "gpuattest"; an NRAS
    token's is the NRAS base URL). ``nonce`` (hex or bytes): the nonce the
    token must carry. ``at``: judge the times as of then (default now).
    Returns a TokenResult; never raises for a bad token."""
    if isinstance(type, str):
        type = {"detect": TokenType.DETECT, "ear": TokenType.EAR, "detached-eat": TokenType.DETACHED_EAT,
                "jwt": TokenType.JWT}[type]
    data = token.encode("utf-8") if isinstance(token, str) else bytes(token)
    k = _keys_bytes(keys)
    with Verifier(nonce=nonce, at=at) as v:
        out = ctypes.c_void_p()
        verdict = _lib.lib().gpuattest_verify_token(v._cfg, data, len(data), int(type), k, len(k), _b(issuer),
                                                    ctypes.byref(out))
        claims = _lib.take(out.value)
        msg = _lib.text(_lib.lib().gpuattest_config_error(v._cfg))
    return TokenResult(verdict, msg if verdict else "verified", json.loads(claims) if claims else None)
