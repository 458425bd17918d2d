"""The sqrt_log kernel in every implementation gilwise compares, behind one plain-function API.

    impl          where the loop runs                                  GIL during the loop
    python        CPython bytecode (the reference)                     held
    native        C-API extension gilwise._native._capi                released
    native-gil    the same extension, same loop                        held (contrast case)
    ctypes        libgilwise_native.so through ctypes                  released by ctypes
    numpy         vectorised NumPy, in bounded chunks                  released inside ufuncs
    cpp-threads   libgilwise_native.so: one call, N std::threads       released by ctypes
    jvm           SqrtLog.java on a JVM child process (``_jvm``)        not involved (waits on a pipe)

All compute ``sum(sqrt(i) * log(i + 1) for i in range(n))`` and agree within 1e-9 relative
error (serial C gives the very same double as Python). Importing this module needs only the
stdlib: the extension is tried at import and NumPy only when its impl runs, so harness workers
under any interpreter can import it and ask `unavailable_reason()` what they can use.

May import ``_exceptions``, ``_extras`` (install commands) and ``_pythons.builds`` (gilwise's
cache folder, where the JVM kernel is compiled); ``_workloads`` and ``_models`` import it.
"""

from __future__ import annotations

import math
import operator
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

from .._exceptions import NativeKernelUnavailable, UsageError
from .._extras import install_command
from . import _library

IMPLS = ("python", "native", "native-gil", "ctypes", "numpy", "cpp-threads", "jvm")
# Every index must convert exactly to a double for all impls to compute the same thing.
MAX_N = 2**53
MAX_THREADS = 1024
# 64 Ki float64 = 512 KiB per buffer: two buffers stay in L2 cache and memory stays bounded
# however big n is, while the per-chunk Python overhead stays < 2 % of the chunk's work.
NUMPY_CHUNK = 1 << 16


def _describe_capi_failure(exc: ImportError) -> str:
    here = Path(__file__).parent
    built = sorted(p.name for p in here.glob("_capi.*.so"))
    soabi = sysconfig.get_config_var("SOABI") or sys.implementation.cache_tag
    this = f"CPython {sys.version.split()[0]} ({soabi}, {sys.executable})"
    if not built:
        return f"the C extension gilwise._native._capi is not built in {here}; {_library.REBUILD_HINT}."
    if not any(f".{soabi}." in name for name in built):
        return (
            f"the C extension gilwise._native._capi is built only as {', '.join(built)}, and "
            f"{this} cannot load it: a C-API extension is tied to one CPython version and build "
            "(GIL or free-threaded). Build it for this interpreter from the gilwise checkout "
            f"with `uv run python -m gilwise._native._build {sys.executable}`, or use the "
            "`ctypes` impl, which runs the same loop in any interpreter."
        )
    return (
        f"the C extension gilwise._native._capi failed to import in {this}: {exc}; {_library.REBUILD_HINT}."
    )


try:
    from . import _capi
except ImportError as _exc:
    _CAPI_REASON: str | None = _describe_capi_failure(_exc)
else:
    _CAPI_REASON = (
        None
        if _capi.ABI_VERSION == _library.ABI_VERSION
        else (
            f"the C extension {_capi.__file__} has ABI version {_capi.ABI_VERSION}, this "
            f"gilwise expects {_library.ABI_VERSION}: it is stale; {_library.REBUILD_HINT} (for "
            "another interpreter, in the checkout: "
            f"`uv run python -m gilwise._native._build {sys.executable}`)."
        )
    )


def _check_n(n: int) -> int:
    n = operator.index(n)
    if not 0 <= n <= MAX_N:
        raise UsageError(
            f"sqrt_log got n={n}: n is the loop count and must be between 0 and 2**53 "
            "(beyond that indices are no longer exact doubles); pass a smaller non-negative int."
        )
    return n


def _check_threads(threads: int) -> int:
    threads = operator.index(threads)
    if not 1 <= threads <= MAX_THREADS:
        raise UsageError(
            f"sqrt_log_cpp_threads got threads={threads}: it must be between 1 and "
            f"{MAX_THREADS}; pass the number of std::threads to split the range over."
        )
    return threads


def _require_capi() -> None:
    if _CAPI_REASON is not None:
        raise NativeKernelUnavailable(_CAPI_REASON)


def sqrt_log_python(n: int) -> float:
    """The reference: the loop in CPython bytecode."""
    n = _check_n(n)
    result = 0.0
    for i in range(n):
        result += math.sqrt(i) * math.log(i + 1)
    return result


def sqrt_log_native(n: int) -> float:
    """The loop in C inside a C-API extension call that releases the GIL."""
    n = _check_n(n)
    _require_capi()
    return _capi.sqrt_log(n)


def sqrt_log_native_gil(n: int) -> float:
    """The same C loop keeping the GIL: the contrast case, it cannot scale under threads."""
    n = _check_n(n)
    _require_capi()
    return _capi.sqrt_log_gil(n)


def sqrt_log_ctypes(n: int) -> float:
    """The same C loop in a plain shared library called through ctypes (GIL released)."""
    n = _check_n(n)
    library = _library.load()
    result: float = library.gilwise_sqrt_log(n)
    return result


def sqrt_log_numpy(n: int) -> float:
    """Vectorised NumPy over chunks of NUMPY_CHUNK indices, so memory stays bounded."""
    n = _check_n(n)
    reason = _numpy_reason()
    if reason is not None:
        raise NativeKernelUnavailable(reason)
    import numpy as np

    offsets = np.arange(min(n, NUMPY_CHUNK), dtype=np.float64)
    values = np.empty_like(offsets)
    roots = np.empty_like(offsets)
    result = 0.0
    for start in range(0, n, NUMPY_CHUNK):
        size = min(NUMPY_CHUNK, n - start)
        x, r = values[:size], roots[:size]
        np.add(offsets[:size], float(start), out=x)  # exact: x < 2**53
        np.sqrt(x, out=r)
        np.add(x, 1.0, out=x)
        np.log(x, out=x)
        np.multiply(r, x, out=x)
        # ndarray.sum (pairwise, single-threaded), not np.dot, which may use BLAS threads.
        result += float(x.sum())
    return result


def sqrt_log_cpp_threads(n: int, threads: int) -> float:
    """One native call that splits range(n) over `threads` std::threads (GIL released)."""
    n = _check_n(n)
    threads = _check_threads(threads)
    return _library.sqrt_log_threads(n, threads)


def sqrt_log_jvm(n: int) -> float:
    """The loop in Java on one JVM thread, in this process's JVM (started on first use)."""
    from . import _jvm

    return _jvm.sqrt_log_jvm(_check_n(n))


def _numpy_reason() -> str | None:
    try:
        import numpy  # noqa: F401
    except ImportError as exc:
        return (
            f"NumPy cannot be imported in CPython {sys.version.split()[0]} ({sys.executable}): "
            f"{exc}. Install it for that interpreter (`{sys.executable} -m pip install numpy`; "
            f"where gilwise itself is installed, its numpy extra: `{install_command('numpy')}`)."
        )
    return None


def unavailable_reasons(*impls: str) -> dict[str, str | None]:
    """``unavailable_reason`` of each impl (what ``gilwise doctor`` asks every interpreter)."""
    return {impl: unavailable_reason(impl) for impl in impls}


def unavailable_reason(impl: str) -> str | None:
    """None when `impl` can run in this interpreter, else the human reason and the fix."""
    if impl == "python":
        return None
    if impl in ("native", "native-gil"):
        return _CAPI_REASON
    if impl in ("ctypes", "cpp-threads"):
        return _library.unavailable_reason()
    if impl == "numpy":
        return _numpy_reason()
    if impl == "jvm":
        # Imported here, not at the top: this package is imported inside sub-interpreters, and
        # _jvm brings hashlib, which CPython 3.12.1 cannot unload from two of them (cpu.py).
        from . import _jvm

        return _jvm.unavailable_reason()
    raise UsageError(f"unknown sqrt_log impl {impl!r}; valid choices: {', '.join(IMPLS)}")


# The serial in-process impls by name (cpp-threads takes a thread count, so it is called on its
# own; jvm runs in a child JVM that lives as long as this process, see _jvm.shared_session).
SERIAL_IMPLS: dict[str, Callable[[int], float]] = {
    "python": sqrt_log_python,
    "native": sqrt_log_native,
    "native-gil": sqrt_log_native_gil,
    "ctypes": sqrt_log_ctypes,
    "numpy": sqrt_log_numpy,
}
