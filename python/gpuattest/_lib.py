"""Loading libgpuattest.so.0 and declaring the C API (include/gpuattest.h).

Where the library is looked for, first found wins:

1. ``GPUATTEST_LIB``: the path of the shared library (a build tree's
   ``build/lib/libgpuattest.so.0``, or a copy installed elsewhere);
2. ``libgpuattest.so.0`` through the dynamic loader (the installed package:
   ``/usr/lib/<triplet>``, or ``/usr/local/lib`` after ``make install``);
3. ``../build/lib/libgpuattest.so.0`` next to this package, when it is run
   from a source checkout (``python/gpuattest`` in the repository).

The library is loaded on first use, so that ``import gpuattest`` works (and
``help(gpuattest)`` reads) on a machine without it.
"""
import ctypes
import os
import threading

SONAME = "libgpuattest.so.0"

_lock = threading.Lock()
_lib = None
_libc = None


class Closing:
    """For objects that own a library handle and free it in close(): usable
    in a with statement, and closed when garbage collected."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class LibraryNotFound(ImportError):
    """libgpuattest.so.0 could not be loaded (the message says where it looked)."""


def _candidates():
    env = os.environ.get("GPUATTEST_LIB")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    return [SONAME, os.path.join(here, "..", "..", "build", "lib", SONAME)]


c_int, c_long, c_size_t, c_char_p, c_void_p = (ctypes.c_int, ctypes.c_long, ctypes.c_size_t,
                                               ctypes.c_char_p, ctypes.c_void_p)
P = ctypes.POINTER

# name: (restype, argtypes). Strings the library returns malloc'd are
# declared c_void_p so that they can be copied and then freed (lib.take).
_API = {
    "gpuattest_version": (c_char_p, []),
    "gpuattest_config_new": (c_void_p, []),
    "gpuattest_config_free": (None, [c_void_p]),
    "gpuattest_config_error": (c_char_p, [c_void_p]),
    "gpuattest_config_error_verdict": (c_int, [c_void_p]),
    "gpuattest_config_add_device_anchor_file": (c_int, [c_void_p, c_char_p]),
    "gpuattest_config_add_rim_anchor_file": (c_int, [c_void_p, c_char_p]),
    "gpuattest_config_add_trust_anchor_file": (c_int, [c_void_p, c_char_p]),
    "gpuattest_config_no_pinned_anchors": (c_int, [c_void_p]),
    "gpuattest_config_set_time": (c_int, [c_void_p, ctypes.c_int64]),
    "gpuattest_config_set_nonce": (c_int, [c_void_p, c_char_p, c_size_t]),
    "gpuattest_config_insecure_accept_evidence_nonce": (c_int, [c_void_p]),
    "gpuattest_config_add_rim_dir": (c_int, [c_void_p, c_char_p]),
    "gpuattest_config_insecure_skip_revocation": (c_int, [c_void_p]),
    "gpuattest_config_set_ocsp_url": (c_int, [c_void_p, c_char_p]),
    "gpuattest_config_set_rim_url": (c_int, [c_void_p, c_char_p]),
    "gpuattest_config_set_service_key": (c_int, [c_void_p, c_char_p]),
    "gpuattest_config_set_http": (c_int, [c_void_p, c_long, c_long, c_int]),
    "gpuattest_config_set_cache_dir": (c_int, [c_void_p, c_char_p]),
    "gpuattest_config_no_cache": (c_int, [c_void_p]),
    "gpuattest_config_offline": (c_int, [c_void_p]),
    "gpuattest_config_set_collateral": (c_int, [c_void_p, c_char_p]),
    "gpuattest_config_set_max_ocsp_age": (c_int, [c_void_p, c_long]),
    "gpuattest_config_allow_rim_cert_hold": (c_int, [c_void_p]),
    "gpuattest_config_insecure_accept_cached_ocsp": (c_int, [c_void_p]),
    "gpuattest_config_set_claims_version": (c_int, [c_void_p, c_int]),
    "gpuattest_config_expect_gpus": (c_int, [c_void_p, c_int]),
    "gpuattest_config_expect_switches": (c_int, [c_void_p, c_int]),
    "gpuattest_config_insecure_allow_dev_tools": (c_int, [c_void_p]),
    "gpuattest_config_set_nvml_lib": (c_int, [c_void_p, c_char_p]),
    "gpuattest_config_set_nscq_lib": (c_int, [c_void_p, c_char_p]),
    "gpuattest_config_select_gpus": (c_int, [c_void_p, c_char_p]),
    "gpuattest_verify_evidence_file": (c_int, [c_void_p, c_char_p, P(c_void_p)]),
    "gpuattest_verify_evidence_buffer": (c_int, [c_void_p, c_char_p, c_size_t, P(c_void_p)]),
    "gpuattest_verify_report_buffer": (c_int, [c_void_p, c_char_p, c_size_t, c_char_p, c_size_t,
                                               P(c_void_p)]),
    "gpuattest_verify_system_buffers": (c_int, [c_void_p, c_char_p, c_size_t, c_char_p, c_size_t,
                                                P(c_void_p)]),
    "gpuattest_verify_live": (c_int, [c_void_p, P(c_void_p)]),
    "gpuattest_collect_evidence": (c_int, [c_void_p, P(c_void_p), P(c_void_p)]),
    "gpuattest_result_free": (None, [c_void_p]),
    "gpuattest_result_verdict": (c_int, [c_void_p]),
    "gpuattest_result_genuine_gpus": (c_int, [c_void_p]),
    "gpuattest_result_genuine_switches": (c_int, [c_void_p]),
    "gpuattest_result_json": (c_void_p, [c_void_p]),
    "gpuattest_result_text": (c_void_p, [c_void_p, c_int]),
    "gpuattest_result_nonce": (c_char_p, [c_void_p]),
    "gpuattest_result_device_count": (c_int, [c_void_p]),
    "gpuattest_result_device_kind": (c_int, [c_void_p, c_int]),
    "gpuattest_result_device_label": (c_char_p, [c_void_p, c_int]),
    "gpuattest_result_device_uuid": (c_char_p, [c_void_p, c_int]),
    "gpuattest_result_device_verdict": (c_int, [c_void_p, c_int]),
    "gpuattest_result_device_claims_json": (c_void_p, [c_void_p, c_int]),
    "gpuattest_result_device_check_count": (c_int, [c_void_p, c_int]),
    "gpuattest_result_device_check": (c_int, [c_void_p, c_int, c_int, P(c_char_p), P(c_int),
                                              P(c_char_p)]),
    "gpuattest_signer_new": (c_int, [c_void_p, c_char_p, c_size_t, c_char_p, c_char_p, P(c_void_p)]),
    "gpuattest_signer_free": (None, [c_void_p]),
    "gpuattest_signer_kid": (c_char_p, [c_void_p]),
    "gpuattest_signer_jwks": (c_void_p, [c_void_p]),
    "gpuattest_result_sign_ear": (c_int, [c_void_p, c_void_p, c_void_p, P(c_void_p)]),
    "gpuattest_result_sign_detached_eat": (c_int, [c_void_p, c_void_p, c_void_p, P(c_void_p)]),
    "gpuattest_signer_sign_jwt": (c_int, [c_void_p, c_void_p, c_char_p, P(c_void_p)]),
    "gpuattest_verify_token": (c_int, [c_void_p, c_char_p, c_size_t, c_int, c_char_p, c_size_t,
                                       c_char_p, P(c_void_p)]),
}

# Calls a library may lack (an older libgpuattest.so.0): declared when
# present, and the Python call that needs one raises Unsupported otherwise.
_OPTIONAL = {
    "gpuattest_config_set_policy_file": (c_int, [c_void_p, c_char_p]),
    "gpuattest_config_set_policy": (c_int, [c_void_p, c_char_p, c_size_t, c_char_p]),
}


def _load():
    tried = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise LibraryNotFound("gpuattest: libgpuattest.so.0 could not be loaded; tried: " + "; ".join(tried) +
                          ". Install the library (make install, or the libgpuattest0 package) or set "
                          "GPUATTEST_LIB to its path.")


def lib():
    """The loaded library, its functions declared."""
    global _lib, _libc
    with _lock:
        if _lib is None:
            handle, _ = _load()
            for name, (res, args) in _API.items():
                f = getattr(handle, name)
                f.restype, f.argtypes = res, args
            for name, (res, args) in _OPTIONAL.items():
                f = getattr(handle, name, None)
                if f is not None:
                    f.restype, f.argtypes = res, args
            _libc = ctypes.CDLL(None)
            _libc.free.argtypes, _libc.free.restype = [c_void_p], None
            _lib = handle
        return _lib


def has(name):
    """Whether the loaded library has the function name."""
    return getattr(lib(), name, None) is not None


def take(ptr):
    """Copies a malloc'd NUL-terminated string from the library and frees it."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        _libc.free(ptr)


def text(b):
    """A C string the library owns, as str ('' for NULL)."""
    return b.decode("utf-8", "replace") if b else ""
