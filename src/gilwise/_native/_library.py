"""Loading libgilwise_native.so, the plain shared library behind the ctypes and cpp-threads impls.

Stdlib only: harness workers import this under any CPython (3.11-3.14, GIL or free-threaded)
with nothing but PYTHONPATH=src. The library has no Python headers, so one build serves them all.
"""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

from .._exceptions import NativeKernelError, NativeKernelUnavailable

# Must match GILWISE_NATIVE_ABI_VERSION in native/sqrt_log.h.
ABI_VERSION = 1
LIBRARY_NAME = "libgilwise_native.so"
LIBRARY_PATH = Path(__file__).with_name(LIBRARY_NAME)

# Return codes of gilwise_sqrt_log_threads (native/ctypes_exports.h).
OK, EINVAL, ETHREAD = 0, 1, 2
ERROR_BUFFER_BYTES = 256


@functools.cache
def load() -> ctypes.CDLL:
    """The loaded library with its signatures declared; NativeKernelError says why not."""
    # _install only on the failure paths: a library that loads costs no import of its helpers.
    if not LIBRARY_PATH.is_file():
        from . import _install

        raise NativeKernelUnavailable(f"{_install.missing_reason(LIBRARY_NAME, LIBRARY_PATH)}.")
    try:
        library = ctypes.CDLL(str(LIBRARY_PATH))
    except OSError as exc:
        from . import _install

        raise NativeKernelUnavailable(
            f"{LIBRARY_PATH} exists but cannot be loaded ({exc}); it was probably built on "
            f"another platform or is damaged: {_install.rebuild_hint()}."
        ) from exc
    library.gilwise_native_abi_version.argtypes = []
    library.gilwise_native_abi_version.restype = ctypes.c_int
    found = library.gilwise_native_abi_version()
    if found != ABI_VERSION:
        from . import _install

        raise NativeKernelUnavailable(
            f"{LIBRARY_PATH} has ABI version {found}, this gilwise expects {ABI_VERSION}: the "
            f"library is stale; {_install.rebuild_hint()}."
        )
    library.gilwise_sqrt_log.argtypes = [ctypes.c_uint64]
    library.gilwise_sqrt_log.restype = ctypes.c_double
    library.gilwise_noop.argtypes = []
    library.gilwise_noop.restype = None
    library.gilwise_sqrt_log_threads.argtypes = [
        ctypes.c_uint64,
        ctypes.c_uint32,
        ctypes.POINTER(ctypes.c_double),
        ctypes.c_char_p,
        ctypes.c_size_t,
    ]
    library.gilwise_sqrt_log_threads.restype = ctypes.c_int
    return library


def unavailable_reason() -> str | None:
    """None when the library loads and matches this code, else the human reason and fix."""
    try:
        load()
    except NativeKernelError as exc:
        return str(exc)
    return None


def sqrt_log_threads(n: int, threads: int) -> float:
    """Run gilwise_sqrt_log_threads; n and threads must already be validated."""
    out = ctypes.c_double()
    error = ctypes.create_string_buffer(ERROR_BUFFER_BYTES)
    status = load().gilwise_sqrt_log_threads(n, threads, ctypes.byref(out), error, len(error))
    if status != OK:
        detail = error.value.decode(errors="replace")
        raise NativeKernelError(
            f"gilwise_sqrt_log_threads(n={n}, threads={threads}) failed with code {status} "
            f"({detail}). "
            + (
                "The likely cause is a limit on threads per process or low memory; use fewer threads."
                if status == ETHREAD
                else "The Python wrapper should have rejected these arguments; report a bug."
            )
        )
    return out.value
