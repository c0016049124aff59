"""Verification: the options (Verifier), the verdict and what was found
(Result, Device, Check), over gpuattest_config / gpuattest_result."""
import calendar
import ctypes
import datetime
import enum
import json
import os
import threading

from . import _lib


class Verdict(enum.IntEnum):
    """The verdict of a verification; also the gpuattest tool's exit code."""
    VERIFIED = 0      #: every check ran and passed
    FAILED = 1        #: the evidence does not satisfy the policy
    BAD_INPUT = 2     #: bad usage, or unreadable / malformed input
    INCOMPLETE = 3    #: could not complete (driver, RIM unavailable, network)


class Outcome(enum.IntEnum):
    """The outcome of one check. NOT_DONE keeps a result from passing."""
    PASS = 0
    FAIL = 1
    BAD_INPUT = 2
    NOT_DONE = 3
    SKIPPED = 4       #: the caller chose to skip it (e.g. revocation)


class Error(Exception):
    """A call that could not produce a result; ``verdict`` says which kind
    (BAD_INPUT or INCOMPLETE), the message what and where."""

    def __init__(self, message, verdict=Verdict.BAD_INPUT):
        super().__init__(message)
        self.verdict = Verdict(verdict)


class BadInput(Error, ValueError):
    """Bad usage, or unreadable / malformed evidence (verdict BAD_INPUT)."""

    def __init__(self, message):
        super().__init__(message, Verdict.BAD_INPUT)


class Incomplete(Error):
    """The driver, a library or the machine could not be used (verdict INCOMPLETE)."""

    def __init__(self, message):
        super().__init__(message, Verdict.INCOMPLETE)


class Unsupported(Error, NotImplementedError):
    """What was asked is not available (the loaded library lacks it, or
    gpuattest does not do it); never a silent pass."""

    def __init__(self, message):
        super().__init__(message, Verdict.INCOMPLETE)


def _b(s):
    return None if s is None else os.fsencode(s) if isinstance(s, os.PathLike) else s.encode("utf-8")


def nonce_bytes(nonce):
    """A 32-byte nonce from bytes or hex text."""
    if isinstance(nonce, (bytes, bytearray)):
        b = bytes(nonce)
    else:
        try:
            b = bytes.fromhex(str(nonce).strip())
        except ValueError:
            raise BadInput("nonce: not hex digits: %r" % (nonce,)) from None
    if len(b) != 32:
        raise BadInput("nonce: %d bytes, a nonce is 32 (64 hex digits)" % len(b))
    return b


def epoch_of(at):
    """Seconds since 1970 from a datetime (naive = UTC), a number, or
    RFC 3339 text ("2024-01-01T00:00:00Z")."""
    if isinstance(at, (int, float)):
        return int(at)
    if isinstance(at, str):
        try:
            at = datetime.datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            raise BadInput("time: not RFC 3339 (e.g. 2024-01-01T00:00:00Z): %r" % at) from None
    if isinstance(at, datetime.datetime):
        if at.tzinfo is not None:
            at = at.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return calendar.timegm(at.timetuple())
    raise BadInput("time: give a datetime, seconds since 1970 or RFC 3339 text, not %r" % (at,))


def _as_list(x):
    if x is None:
        return []
    return [x] if isinstance(x, (str, os.PathLike)) else list(x)


class Check:
    """One check of one device: ``id`` (stable: "report-signature", ...),
    ``outcome`` (an Outcome) and ``detail``, a sentence saying what was found."""
    __slots__ = ("id", "outcome", "detail")

    def __init__(self, id, outcome, detail):
        self.id, self.outcome, self.detail = id, Outcome(outcome), detail

    @property
    def passed(self):
        return self.outcome == Outcome.PASS

    def __repr__(self):
        return "Check(%r, %s, %r)" % (self.id, self.outcome.name, self.detail)


class Device:
    """One GPU or NVSwitch of a result: ``index``, ``kind`` ("gpu" or
    "switch"), ``label`` ("GPU 0"), ``uuid`` ("" when unknown), ``verdict``,
    ``claims`` (NVIDIA's claims of this device, a dict) and ``checks``."""

    def __init__(self, index, kind, label, uuid, verdict, claims, checks):
        self.index, self.kind, self.label, self.uuid = index, kind, label, uuid
        self.verdict, self.claims, self.checks = Verdict(verdict), claims, checks

    @property
    def ok(self):
        """True when every check of this device ran and passed."""
        return self.verdict == Verdict.VERIFIED

    def failed_checks(self):
        """The checks that did not pass (skipped ones included)."""
        return [c for c in self.checks if not c.passed]

    def __repr__(self):
        return "Device(%r, %s, %d checks)" % (self.label, self.verdict.name, len(self.checks))


class Result(_lib.Closing):
    """The outcome of one verification.

    ``verdict`` (a Verdict) and ``ok``; ``nonce`` (hex) the evidence was
    judged against; ``genuine_gpus`` / ``genuine_switches``; ``devices``
    (Device, in evidence order: GPUs then NVSwitches); ``claims`` (each
    device's NVIDIA claims); ``document`` (the result document, the same as
    ``gpuattest verify --format json`` prints, schema_version "1.0"),
    ``to_json()`` its text, ``text()`` the readable report. Signed forms:
    ``sign_ear(signer)`` and ``sign_detached_eat(signer)`` (see
    gpuattest.Signer).
    """

    def __init__(self, verifier, handle):
        self._verifier = verifier
        self._h = handle
        L = _lib.lib()
        self.verdict = Verdict(L.gpuattest_result_verdict(handle))
        self.nonce = _lib.text(L.gpuattest_result_nonce(handle))
        self.genuine_gpus = L.gpuattest_result_genuine_gpus(handle)
        self.genuine_switches = L.gpuattest_result_genuine_switches(handle)
        self._json = _lib.take(L.gpuattest_result_json(handle))
        self.devices = [self._device(L, i) for i in range(L.gpuattest_result_device_count(handle))]

    def _device(self, L, i):
        h = self._h
        checks = []
        for k in range(L.gpuattest_result_device_check_count(h, i)):
            cid, detail, outcome = ctypes.c_char_p(), ctypes.c_char_p(), ctypes.c_int()
            if L.gpuattest_result_device_check(h, i, k, ctypes.byref(cid), ctypes.byref(outcome),
                                               ctypes.byref(detail)) == 0:
                checks.append(Check(_lib.text(cid.value), outcome.value, _lib.text(detail.value)))
        claims = _lib.take(L.gpuattest_result_device_claims_json(h, i))
        return Device(i, "switch" if L.gpuattest_result_device_kind(h, i) == 1 else "gpu",
                      _lib.text(L.gpuattest_result_device_label(h, i)),
                      _lib.text(L.gpuattest_result_device_uuid(h, i)),
                      L.gpuattest_result_device_verdict(h, i),
                      json.loads(claims) if claims else {}, checks)

    @property
    def ok(self):
        """True only when every check of every device ran and passed."""
        return self.verdict == Verdict.VERIFIED

    @property
    def claims(self):
        """Each device's NVIDIA claims (GPU claims 4.0 by default, or 3.0), in device order."""
        return [d.claims for d in self.devices]

    @property
    def document(self):
        """The result document as a dict (a fresh copy each time)."""
        return json.loads(self._json)

    def to_json(self):
        """The result document's JSON text."""
        return self._json

    def text(self, color=False):
        """The readable report, as ``gpuattest verify`` prints it."""
        return _lib.take(_lib.lib().gpuattest_result_text(self._handle(), 1 if color else 0))

    def sign_ear(self, signer):
        """This result as a signed EAR (compact JWS text), as ``verify
        --result-token`` writes it: ear_status affirming only when verified."""
        return self._verifier._sign(_lib.lib().gpuattest_result_sign_ear, signer, self._handle())

    def sign_detached_eat(self, signer):
        """This result as an NRAS-shaped detached EAT, JSON text
        ``[["JWT", overall], {"GPU-0": jwt, ...}]``."""
        return self._verifier._sign(_lib.lib().gpuattest_result_sign_detached_eat, signer, self._handle())

    def _handle(self):
        if not self._h:
            raise BadInput("the result was closed")
        return self._h

    def close(self):
        """Frees the library's result now (also done when garbage collected)."""
        if self._h:
            _lib.lib().gpuattest_result_free(self._h)
            self._h = None

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return "Result(%s, %d device(s), %d genuine GPU(s))" % (self.verdict.name, len(self.devices),
                                                                self.genuine_gpus)


class Verifier(_lib.Closing):
    """A verification configuration (one gpuattest_config); every option
    has the meaning of the ``gpuattest verify`` option of the same name.

    Trust and freshness:
      ``nonce`` (hex or 32 bytes: the one you asked the GPUs to sign;
      recorded evidence without it is INCOMPLETE), ``accept_evidence_nonce``
      (insecure: the evidence's own nonce), ``at`` (verify as of a datetime,
      seconds or RFC 3339 text), ``device_anchors``, ``rim_anchors``,
      ``trust_anchors`` (PEM files), ``no_pinned_anchors``.
    Collateral:
      ``rim_dirs`` (at most 3), ``collateral`` (fetch-collateral's file),
      ``offline``, ``skip_revocation`` (insecure: the result says so),
      ``ocsp_url``, ``rim_url``, ``service_key``, ``cache_dir``,
      ``no_cache``, ``allow_rim_cert_hold``, ``accept_cached_ocsp``,
      ``max_ocsp_age``, ``http`` ((connect_ms, timeout_ms, retries)).
    Judgement:
      ``claims_version`` (4 or 3), ``expect_gpus``, ``expect_switches``,
      ``allow_dev_tools`` (insecure), ``policy_file`` / ``policy`` (a
      relying-party policy, Rego or JSON; needs a library that has
      gpuattest_config_set_policy*).
    Live system:
      ``nvml_lib``, ``nscq_lib`` (default: the driver's, or
      GPUATTEST_NVML_LIB / GPUATTEST_NSCQ_LIB), ``gpus`` ("0,3" or [0, 3]).

    A Verifier is not to be used from two threads at once (calls on one
    are serialised by a lock); make one per thread for parallel work.
    Unknown options raise TypeError; a refused value raises BadInput.
    """

    _FLAGS = {
        "accept_evidence_nonce": "gpuattest_config_insecure_accept_evidence_nonce",
        "no_pinned_anchors": "gpuattest_config_no_pinned_anchors",
        "skip_revocation": "gpuattest_config_insecure_skip_revocation",
        "no_cache": "gpuattest_config_no_cache",
        "offline": "gpuattest_config_offline",
        "allow_rim_cert_hold": "gpuattest_config_allow_rim_cert_hold",
        "accept_cached_ocsp": "gpuattest_config_insecure_accept_cached_ocsp",
        "allow_dev_tools": "gpuattest_config_insecure_allow_dev_tools",
    }
    _STRINGS = {
        "ocsp_url": "gpuattest_config_set_ocsp_url",
        "rim_url": "gpuattest_config_set_rim_url",
        "service_key": "gpuattest_config_set_service_key",
        "cache_dir": "gpuattest_config_set_cache_dir",
        "collateral": "gpuattest_config_set_collateral",
        "nvml_lib": "gpuattest_config_set_nvml_lib",
        "nscq_lib": "gpuattest_config_set_nscq_lib",
        "policy_file": "gpuattest_config_set_policy_file",
    }
    _INTS = {
        "claims_version": "gpuattest_config_set_claims_version",
        "expect_gpus": "gpuattest_config_expect_gpus",
        "expect_switches": "gpuattest_config_expect_switches",
        "max_ocsp_age": "gpuattest_config_set_max_ocsp_age",
    }
    _LISTS = {
        "rim_dirs": "gpuattest_config_add_rim_dir",
        "device_anchors": "gpuattest_config_add_device_anchor_file",
        "rim_anchors": "gpuattest_config_add_rim_anchor_file",
        "trust_anchors": "gpuattest_config_add_trust_anchor_file",
    }

    def __init__(self, **options):
        self._lock = threading.RLock()
        L = _lib.lib()
        self._cfg = L.gpuattest_config_new()
        if not self._cfg:
            raise MemoryError("gpuattest_config_new")
        self.options = dict(options)
        try:
            for name, value in options.items():
                self._apply(L, name, value)
        except BaseException:
            self.close()
            raise

    def _call(self, fname, *args):
        f = getattr(_lib.lib(), fname, None)
        if f is None:
            raise Unsupported("%s: the loaded libgpuattest has no %s" % (self._option_of(fname), fname))
        if f(self._cfg, *args) != 0:
            self._raise()

    @classmethod
    def _option_of(cls, fname):
        for table in (cls._FLAGS, cls._STRINGS, cls._INTS, cls._LISTS):
            for k, v in table.items():
                if v == fname:
                    return k
        return fname

    def _apply(self, L, name, value):
        if name in self._FLAGS:
            if value:
                self._call(self._FLAGS[name])
        elif name in self._STRINGS:
            if value is not None:
                self._call(self._STRINGS[name], _b(value))
        elif name in self._INTS:
            if value is not None:
                self._call(self._INTS[name], int(value))
        elif name in self._LISTS:
            for v in _as_list(value):
                self._call(self._LISTS[name], _b(v))
        elif name == "nonce":
            if value is not None:
                n = nonce_bytes(value)
                self._call("gpuattest_config_set_nonce", n, len(n))
        elif name == "at":
            if value is not None:
                self._call("gpuattest_config_set_time", epoch_of(value))
        elif name == "gpus":
            if value is not None:
                sel = value if isinstance(value, str) else ",".join(str(int(g)) for g in value)
                self._call("gpuattest_config_select_gpus", _b(sel))
        elif name == "http":
            if value is not None:
                connect_ms, timeout_ms, retries = value
                self._call("gpuattest_config_set_http", int(connect_ms), int(timeout_ms), int(retries))
        elif name == "policy":
            if value is not None:
                data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
                self._call("gpuattest_config_set_policy", data, len(data), b"policy")
        else:
            raise TypeError("gpuattest.Verifier: unknown option %r" % name)

    def _raise(self):
        L = _lib.lib()
        msg = _lib.text(L.gpuattest_config_error(self._cfg)) or "gpuattest: the call failed"
        if L.gpuattest_config_error_verdict(self._cfg) == Verdict.INCOMPLETE:
            raise Incomplete(msg)
        raise BadInput(msg)

    def _result(self, fname, *args):
        with self._lock:
            res = ctypes.c_void_p()
            if getattr(_lib.lib(), fname)(self._config(), *args, ctypes.byref(res)) != 0:
                self._raise()
            return Result(self, res.value)

    def _config(self):
        if not self._cfg:
            raise BadInput("the verifier was closed")
        return self._cfg

    def _sign(self, f, signer, handle):
        with self._lock:
            out = ctypes.c_void_p()
            if f(self._config(), signer._handle(), handle, ctypes.byref(out)) != 0:
                self._raise()
            return _lib.take(out.value)

    # ---- recorded evidence -------------------------------------------------

    def verify_evidence_file(self, path):
        """Verifies GPU evidence in NVIDIA's JSON format (an array, or an
        NRAS request) from a file."""
        return self._result("gpuattest_verify_evidence_file", _b(path))

    def verify_evidence_bytes(self, data):
        """The same from bytes (or text) in memory."""
        data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        return self._result("gpuattest_verify_evidence_buffer", data, len(data))

    def verify_evidence(self, evidence):
        """Verifies GPU evidence given as a path, bytes, JSON text, or the
        decoded JSON (a list of {"evidence", "certificate", ...} as
        get_evidence / collect_evidence return it)."""
        if isinstance(evidence, (list, dict)):
            return self.verify_evidence_bytes(json.dumps(evidence))
        if isinstance(evidence, (bytes, bytearray, memoryview)):
            return self.verify_evidence_bytes(evidence)
        if isinstance(evidence, str) and evidence.lstrip()[:1] in ("[", "{"):
            return self.verify_evidence_bytes(evidence)
        return self.verify_evidence_file(evidence)

    def verify_report(self, report, chain):
        """One GPU report (binary or hex text; bytes or a path) and its PEM
        chain, leaf first (text, bytes or a path)."""
        r, c = _bytes_or_file(report), _bytes_or_file(chain, pem=True)
        return self._result("gpuattest_verify_report_buffer", r, len(r), c, len(c))

    def verify_system(self, gpu_evidence, switch_evidence):
        """A whole Protected PCIe system: GPU evidence (may be None) and
        NVSwitch evidence (paths, bytes or decoded JSON), one verdict
        including the NVLink topology."""
        g = None if gpu_evidence is None else _evidence_bytes(gpu_evidence)
        s = _evidence_bytes(switch_evidence)
        return self._result("gpuattest_verify_system_buffers", g, len(g) if g else 0, s, len(s))

    # ---- the live system ---------------------------------------------------

    def verify_live(self):
        """Collects a report from every selected GPU (and NVSwitch in
        Protected PCIe mode) over one fresh nonce (or ``nonce``) and verifies
        them with the driver's view of the system. Raises Incomplete when the
        driver cannot be used. The GPUs' ready state is never changed."""
        return self._result("gpuattest_verify_live")

    def collect_evidence(self):
        """Collects evidence without verifying it: (gpu_evidence,
        switch_evidence), NVIDIA's serialized JSON decoded (switch_evidence
        None when not in Protected PCIe mode)."""
        with self._lock:
            g, s = ctypes.c_void_p(), ctypes.c_void_p()
            if _lib.lib().gpuattest_collect_evidence(self._config(), ctypes.byref(g), ctypes.byref(s)) != 0:
                self._raise()
            gj, sj = _lib.take(g.value), _lib.take(s.value)
            return json.loads(gj) if gj else [], json.loads(sj) if sj else None

    def close(self):
        """Frees the configuration now (also done when garbage collected)."""
        if getattr(self, "_cfg", None):
            _lib.lib().gpuattest_config_free(self._cfg)
            self._cfg = None


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _bytes_or_file(x, pem=False):
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    if isinstance(x, str) and pem and "-----BEGIN" in x:
        return x.encode("ascii")
    return _read(x)


def _evidence_bytes(x):
    if isinstance(x, (list, dict)):
        return json.dumps(x).encode("utf-8")
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    if isinstance(x, str) and x.lstrip()[:1] in ("[", "{"):
        return x.encode("utf-8")
    return _read(x)
