"""The workload registry: one table, one line per workload (see the package docstring).

Loaded on first use of a registry name through the package (``gilwise._workloads.WORKLOADS``,
``get_workload``, ...), never by a sub-interpreter that only runs a task function."""

from __future__ import annotations

from ._base import (
    Workload,
    close_enough,
    equal,
)

_CPU = "gilwise._workloads.cpu"
_IO = "gilwise._workloads.io"
_NATIVE = "gilwise._workloads.native_impls"

WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            name="sqrt_log",
            kind="cpu",
            summary="pure-Python loop: result += sqrt(i) * log(i + 1)",
            size_unit="iterations",
            default_size=1_000_000,
            impls={
                "python": f"{_CPU}:sqrt_log_python",
                "native": f"{_NATIVE}:sqrt_log_native",
                "native-gil": f"{_NATIVE}:sqrt_log_native_gil",
                "ctypes": f"{_NATIVE}:sqrt_log_ctypes",
                "numpy": f"{_NATIVE}:sqrt_log_numpy",
                "jvm": f"{_NATIVE}:sqrt_log_jvm",
            },
            threaded_impls={
                "native": f"{_NATIVE}:sqrt_log_cpp_threads",
                "ctypes": f"{_NATIVE}:sqrt_log_cpp_threads",
            },
            verify=close_enough,
            iterations_per_size=1,
        ),
        Workload(
            name="sqrt_log_local",
            kind="cpu",
            summary="sqrt_log with math.sqrt / math.log bound to locals first (no shared lookups)",
            size_unit="iterations",
            default_size=1_000_000,
            impls={"python": f"{_CPU}:sqrt_log_local_python"},
            verify=close_enough,
            iterations_per_size=1,
        ),
        Workload(
            name="json",
            kind="cpu",
            summary="json.dumps + json.loads of a nested order document (holds the GIL)",
            size_unit="records",
            default_size=2_000,
            impls={"python": f"{_CPU}:json_roundtrip"},
            verify=equal,
            prepare=f"{_CPU}:build_document",
            iterations_per_size=0,
        ),
        Workload(
            name="sha256",
            kind="cpu",
            summary="hashlib.sha256 over 1 MiB blocks (releases the GIL above 2 KiB)",
            size_unit="MiB",
            default_size=64,
            impls={"python": f"{_CPU}:sha256_blocks"},
            verify=equal,
            prepare=f"{_CPU}:build_blocks",
            iterations_per_size=0,
        ),
        Workload(
            name="zlib",
            kind="cpu",
            summary="zlib.compress of 256 KiB text-like blocks, level 6 (releases the GIL)",
            size_unit="blocks",
            default_size=40,
            impls={"python": f"{_CPU}:zlib_blocks"},
            verify=equal,
            prepare=f"{_CPU}:build_blocks",
            iterations_per_size=0,
        ),
        Workload(
            name="http",
            kind="io",
            summary="HTTP GETs to a loopback server with 20 ms service latency",
            size_unit="requests",
            default_size=1,
            impls={"python": f"{_IO}:http_blocking"},
            async_impls={"python": f"{_IO}:http_async"},
            verify=equal,
            tasks_per_worker=1,
            calibrate=False,
            resource=f"{_IO}:http_server",
            iterations_per_size=0,
        ),
        Workload(
            name="sleep",
            kind="io",
            summary="time.sleep / asyncio.sleep of `size` ms (a pure wait)",
            size_unit="ms",
            default_size=20,
            impls={"python": f"{_IO}:sleep_blocking"},
            async_impls={"python": f"{_IO}:sleep_async"},
            verify=equal,
            tasks_per_worker=1,
            calibrate=False,
            iterations_per_size=0,
        ),
        Workload(
            name="sqlite",
            kind="mixed",
            summary="aggregate queries on a SQLite file (sqlite3 releases the GIL while stepping)",
            size_unit="queries",
            default_size=8,
            impls={"python": f"{_IO}:sqlite_queries"},
            verify=equal,
            resource=f"{_IO}:sqlite_database",
            iterations_per_size=0,
        ),
    )
}


def get_workload(name: str) -> Workload:
    return WORKLOADS[name]


def impl_names() -> list[str]:
    names: list[str] = []
    for workload in WORKLOADS.values():
        names.extend(n for n in workload.impls if n not in names)
    return names


__all__ = ["WORKLOADS", "get_workload", "impl_names"]
