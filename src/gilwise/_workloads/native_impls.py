"""``sqrt_log`` task functions backed by the native kernels (see gilwise._native).

An implementation the current interpreter cannot run raises NativeKernelUnavailable with the reason;
the harness shows that row as unavailable with the reason, never runs another impl instead.
"""

from __future__ import annotations

from .. import _native
from ._base import Params


def sqrt_log_native(size: int, params: Params) -> float:
    return _native.sqrt_log_native(size)


def sqrt_log_native_gil(size: int, params: Params) -> float:
    return _native.sqrt_log_native_gil(size)


def sqrt_log_ctypes(size: int, params: Params) -> float:
    return _native.sqrt_log_ctypes(size)


def sqrt_log_numpy(size: int, params: Params) -> float:
    return _native.sqrt_log_numpy(size)


def sqrt_log_jvm(size: int, params: Params) -> float:
    """SqrtLog.java on one JVM thread, in a JVM this process starts on first use (untimed warm-up)."""
    return _native.sqrt_log_jvm(size)


def sqrt_log_cpp_threads(size: int, params: Params, threads: int) -> float:
    """One native call: range(size) split over ``threads`` std::threads."""
    return _native.sqrt_log_cpp_threads(size, threads)
