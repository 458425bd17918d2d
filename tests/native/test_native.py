"""The sqrt_log kernels: same results everywhere, the GIL really released (or not), clear errors."""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable

import pytest

from gilwise import _native
from gilwise._exceptions import GilwiseError
from gilwise._native import _capi

SIZES = [0, 1, 2, 3, 10, 1000, _native.NUMPY_CHUNK - 1, _native.NUMPY_CHUNK + 7, 250_000]


def test_every_impl_is_usable_in_the_project_environment() -> None:
    # The build is part of `uv sync`: in the project's own environment nothing may be missing.
    assert {impl: _native.unavailable_reason(impl) for impl in _native.IMPLS} == dict.fromkeys(_native.IMPLS)


@pytest.mark.parametrize("n", SIZES)
def test_all_impls_agree_with_the_python_reference(n: int) -> None:
    expected = _native.sqrt_log_python(n)
    results = {name: fn(n) for name, fn in _native.SERIAL_IMPLS.items()}
    for threads in (1, 2, 3, 8):
        results[f"cpp-threads/{threads}"] = _native.sqrt_log_cpp_threads(n, threads)
    for name, value in results.items():
        assert math.isclose(value, expected, rel_tol=1e-9, abs_tol=0.0), (name, value, expected)
    if n <= 1:
        assert set(results.values()) == {0.0}


@pytest.mark.parametrize("n", SIZES)
def test_serial_c_gives_the_very_same_double_as_python(n: int) -> None:
    # Same operations in the same order (no -ffast-math, no FMA contraction): bit-identical.
    expected = _native.sqrt_log_python(n)
    assert _native.sqrt_log_native(n) == expected
    assert _native.sqrt_log_native_gil(n) == expected
    assert _native.sqrt_log_ctypes(n) == expected
    assert _native.sqrt_log_cpp_threads(n, 1) == expected


def test_cpp_threads_result_does_not_depend_on_the_thread_count() -> None:
    n = 1_000_003
    serial = _native.sqrt_log_native(n)
    for threads in (1, 2, 3, 4, 7, 16, 64, _native.MAX_THREADS):
        assert math.isclose(_native.sqrt_log_cpp_threads(n, threads), serial, rel_tol=1e-12)
    # More threads than indices: the empty ranges contribute nothing.
    assert _native.sqrt_log_cpp_threads(3, 8) == _native.sqrt_log_python(3)


ALL_ENTRY_POINTS: list[Callable[[int], float]] = [
    *_native.SERIAL_IMPLS.values(),
    lambda n: _native.sqrt_log_cpp_threads(n, 2),
]


@pytest.mark.parametrize("fn", ALL_ENTRY_POINTS)
@pytest.mark.parametrize("n", [-1, -(2**70), 2**53 + 1, 2**64])
def test_out_of_range_n_raises_a_value_error_that_says_why(fn: Callable[[int], float], n: int) -> None:
    with pytest.raises(ValueError, match=r"n=.*between 0 and 2\*\*53") as info:
        fn(n)
    assert isinstance(info.value, GilwiseError)


@pytest.mark.parametrize("fn", ALL_ENTRY_POINTS)
def test_non_integer_n_raises_type_error(fn: Callable[[int], float]) -> None:
    with pytest.raises(TypeError):
        fn(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("threads", [0, -1, _native.MAX_THREADS + 1])
def test_bad_thread_counts_raise_a_value_error_that_says_why(threads: int) -> None:
    with pytest.raises(ValueError, match=rf"threads={threads}: it must be between 1 and"):
        _native.sqrt_log_cpp_threads(10, threads)


def test_the_extension_checks_its_own_arguments() -> None:
    # Called directly (as the lead's harness may), not only through the Python wrappers.
    for entry in (_capi.sqrt_log, _capi.sqrt_log_gil):
        with pytest.raises(ValueError, match="between 0 and 2"):
            entry(-1)
        with pytest.raises(ValueError, match="between 0 and 2"):
            entry(2**64)
        with pytest.raises(TypeError, match="must be an int, not float"):
            entry(2.0)  # type: ignore[arg-type]
        assert entry(10) == _native.sqrt_log_python(10)
    assert _capi.noop() is None  # type: ignore[func-returns-value]


def test_unknown_impl_names_the_valid_choices() -> None:
    with pytest.raises(ValueError, match="unknown sqrt_log impl 'cython'; valid choices: python"):
        _native.unavailable_reason("cython")


# --- is the GIL really released? -----------------------------------------------------------


def _size_for(seconds: float) -> int:
    """An n for which the C loop runs about `seconds` (the CPU speed here drifts 2x)."""
    n = 2_000_000
    start = time.perf_counter()
    _native.sqrt_log_native(n)
    per_iteration = (time.perf_counter() - start) / n
    return max(n, int(seconds / per_iteration))


def _counter_progress_during(call: Callable[[], object]) -> float:
    """How much of its solo pace a counting Python thread keeps while `call` runs in main.

    ~1.0: the counter ran all along (the call released the GIL); ~0: it was frozen.
    """
    counts = [0]
    running = [True]

    def count() -> None:
        while running[0]:
            counts[0] += 1

    counter = threading.Thread(target=count, name="gil-probe-counter", daemon=True)
    counter.start()
    try:
        deadline = time.monotonic() + 10
        while counts[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.001)
        solo_start, solo_t0 = counts[0], time.perf_counter()
        time.sleep(0.2)
        solo_rate = (counts[0] - solo_start) / (time.perf_counter() - solo_t0)

        before, t0 = counts[0], time.perf_counter()
        call()
        elapsed, during = time.perf_counter() - t0, counts[0] - before
    finally:
        running[0] = False
        counter.join(timeout=10)
    assert not counter.is_alive()
    assert solo_rate > 0
    return during / (solo_rate * elapsed)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("impl", "releases_gil"),
    [("native", True), ("ctypes", True), ("cpp-threads", True), ("native-gil", False)],
)
def test_a_python_thread_keeps_running_only_while_the_gil_is_released(impl: str, releases_gil: bool) -> None:
    threads_before = threading.active_count()
    n = _size_for(0.4)
    kernel: Callable[[], float]
    if impl == "cpp-threads":
        kernel = lambda: _native.sqrt_log_cpp_threads(n, 1)  # noqa: E731
    else:
        kernel = lambda: _native.SERIAL_IMPLS[impl](n)  # noqa: E731
    progress = _counter_progress_during(kernel)
    # On a free-threaded build with the GIL off there is no GIL to hold: everything "releases".
    if releases_gil or not getattr(sys, "_is_gil_enabled", lambda: True)():
        # The counter keeps ~100 % of its pace on an idle 2-core machine; 25 % leaves room
        # for other load. A call holding the GIL leaves it ~1 % (one 5 ms switch interval).
        assert progress > 0.25, f"{impl}: counter kept only {progress:.1%} of its pace"
    else:
        assert progress < 0.10, f"{impl}: counter kept {progress:.1%} of its pace"
    assert threading.active_count() == threads_before


def test_numpy_impl_memory_stays_bounded_for_large_n() -> None:
    # NumPy reports its array buffers to tracemalloc; unchunked, n=4M would need 3 x 32 MB.
    import tracemalloc

    _native.sqrt_log_numpy(10)  # imports NumPy outside the traced window
    tracemalloc.start()
    try:
        _native.sqrt_log_numpy(4_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 8 * _native.NUMPY_CHUNK + 256 * 1024, peak
