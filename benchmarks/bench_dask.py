"""The price of a cluster: gilwise's offload on Dask distributed against its process pool.

Backends, each an ``Offloader`` with 2 workers: ``processes`` (the process pool), ``dask
LocalCluster`` (``backend="dask"``: gilwise starts the cluster), and ``dask tcp`` (a running
cluster: ``dask scheduler`` + 2 ``dask worker`` processes this script starts, as on real
machines, configured as docs/offload.md recommends). Figures, per backend and round:

- ``startup_ms``: ``async with Offloader(...)`` until the workers are ready;
- ``round_trip_us``: warm round trip of a tiny task (mean of 200 sequential calls);
- ``per_task_us``: a 20k-item ``map`` of a tiny task, wall / 20k (automatic chunks);
- ``raw_dask_round_trip_us``: the same round trip with a bare ``distributed.Client``;
- ``array_first_ms`` / ``array_again_ms``: a 128 MiB NumPy array to a task that sums it, the
  first time (the Dask backend scatters it) and again (only its hash travels; processes use
  shared memory every time).

Rounds rotate the backend order; ratios dask / processes are paired within a round. At the
end, the SIGKILL of a worker during a 200-task batch on each backend (without and with
``retries=1``), then the next call. Run: ``uv run python benchmarks/bench_dask.py
[--rounds N]``; writes ``benchmarks/results/bench_dask.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import distributed
import numpy as np

from _common import machine_summary, save, table
from _common import stats as summarize
from _tasks import array_total, kill_once, nap, square
from bench_offload import ARRAY_BYTES, per_task_us, round_trip_us
from gilwise import Offloader, WorkerCrashed

WORKERS = 2
HERE = Path(__file__).resolve().parent
BACKENDS = ("processes", "dask LocalCluster", "dask tcp")
FIGURES = ("startup_ms", "round_trip_us", "per_task_us", "array_first_ms", "array_again_ms")


class Cluster:
    """``dask scheduler`` + ``dask worker`` × 2 as separate processes on 127.0.0.1."""

    def __init__(self, folder: Path) -> None:
        env = dict(os.environ)
        src = HERE.parent / "src"
        env["PYTHONPATH"] = os.pathsep.join([str(src), str(HERE), env.get("PYTHONPATH", "")])
        env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "0"
        env["DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION"] = "1.0"
        info = folder / "scheduler.json"
        py = sys.executable
        self.procs = [
            subprocess.Popen(
                [
                    py,
                    "-m",
                    "distributed.cli.dask_scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--dashboard-address",
                    "127.0.0.1:0",
                    "--scheduler-file",
                    str(info),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        ]
        deadline = time.monotonic() + 60
        while not (info.exists() and '"address"' in info.read_text()):
            if time.monotonic() > deadline:
                raise RuntimeError("the dask scheduler did not start")
            time.sleep(0.05)
        self.address = __import__("json").loads(info.read_text())["address"]
        for i in range(WORKERS):
            self.procs.append(
                subprocess.Popen(
                    [
                        py,
                        "-m",
                        "distributed.cli.dask_worker",
                        self.address,
                        "--host",
                        "127.0.0.1",
                        "--nworkers",
                        "1",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--name",
                        f"w{i}",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )

    def stop(self) -> None:
        for proc in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def offloader(backend: str, address: str) -> Offloader:
    if backend == "processes":
        return Offloader(workers=WORKERS)
    if backend == "dask LocalCluster":
        return Offloader(workers=WORKERS, backend="dask")
    return Offloader(backend="dask", address=address)


async def wait_for_workers(off: Offloader, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while off.statistics().workers_alive < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {off.statistics().workers_alive} of {count} workers")
        await asyncio.sleep(0.1)


class Via:
    """The bench_offload figures' peer interface on an open Offloader."""

    chunked_map = True

    def __init__(self, off: Offloader, name: str) -> None:
        self.off, self.name = off, name

    async def call(self, fn: Any, *args: Any) -> Any:
        return await self.off.run(fn, *args, route="cpu")

    async def map(self, fn: Any, items: range) -> list[Any]:
        return [r async for r in self.off.map(fn, items, route="cpu")]


def raw_round_trip_us(address: str, calls: int = 200) -> float:
    """Dask's own floor: ``Client.submit(...).result()`` in a loop, on the running cluster."""
    with distributed.Client(address, set_as_default=False) as client:  # type: ignore[no-untyped-call]
        for _ in range(20):
            client.submit(square, 3, pure=False).result()
        start = time.perf_counter()
        for _ in range(calls):
            client.submit(square, 3, pure=False).result()
        return (time.perf_counter() - start) / calls * 1e6


async def measure(backend: str, address: str, arr: Any) -> dict[str, float]:
    t0 = time.perf_counter()
    async with offloader(backend, address) as off:
        await wait_for_workers(off, WORKERS)
        startup = (time.perf_counter() - t0) * 1e3
        peer = Via(off, backend)
        out = {"startup_ms": startup}
        out["round_trip_us"] = await round_trip_us(peer)
        out["per_task_us"] = await per_task_us(peer)
        for name in ("array_first_ms", "array_again_ms"):
            t1 = time.perf_counter()
            assert await off.run(array_total, arr, route="cpu") == float(arr.size)
            out[name] = (time.perf_counter() - t1) * 1e3
    return out


async def crash_batch(backend: str, address: str, retries: int, tmp: Path) -> dict[str, Any]:
    marker = tmp / f"victim-{backend.replace(' ', '-')}-{retries}"
    async with offloader(backend, address) as off:
        await wait_for_workers(off, WORKERS)
        calls = [off.run(nap, 0.005, route="cpu") for _ in range(199)]
        calls.insert(100, off.run(kill_once, str(marker), route="cpu", retries=retries))
        batch = asyncio.ensure_future(asyncio.gather(*calls, return_exceptions=True))
        while not (marker.exists() and marker.read_text()):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # mid-task, as tests/dask/test_dask_crash.py (SETTLE_S) says why
        os.kill(int(marker.read_text()), signal.SIGKILL)
        t0 = time.perf_counter()
        results = await batch
        after_kill = time.perf_counter() - t0
        next_call = await off.run(square, 5, route="cpu") == 25
    return {
        "results": sum(r in (0.005, "retried") for r in results),
        "WorkerCrashed": sum(isinstance(r, WorkerCrashed) for r in results),
        "other_errors": sum(
            isinstance(r, BaseException) and not isinstance(r, WorkerCrashed) for r in results
        ),
        "next_call_ok": next_call,
        "batch_after_kill_s": round(after_kill, 3),
    }


async def run(rounds: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    cluster = Cluster(tmp)
    try:
        arr = np.ones(ARRAY_BYTES // 8)
        per: dict[str, dict[str, list[float]]] = {b: {f: [] for f in FIGURES} for b in BACKENDS}
        raw: list[float] = []
        for r in range(rounds):
            order = BACKENDS[r % len(BACKENDS) :] + BACKENDS[: r % len(BACKENDS)]
            for backend in order:
                for figure, value in (await measure(backend, cluster.address, arr)).items():
                    per[backend][figure].append(value)
            raw.append(await asyncio.to_thread(raw_round_trip_us, cluster.address))
            print(f"round {r + 1}/{rounds} done", file=sys.stderr)
        crashes = {
            f"{backend}, retries={retries}": await crash_batch(backend, cluster.address, retries, tmp)
            for backend in BACKENDS
            for retries in (0, 1)
        }
    finally:
        cluster.stop()
    ratios = {
        f"{backend} / processes": {
            figure: summarize(
                [d / p for d, p in zip(per[backend][figure], per["processes"][figure], strict=True)]
            )
            for figure in FIGURES
        }
        for backend in BACKENDS[1:]
    }
    return {
        "machine": machine_summary(),
        "rounds": rounds,
        "workers": WORKERS,
        "figures": {b: {f: summarize(v) for f, v in figs.items()} for b, figs in per.items()},
        "values": per,
        "ratios_paired": ratios,
        "raw_dask_round_trip_us": summarize(raw),
        "sigkill_200_tasks": crashes,
    }


def fmt(s: dict[str, Any]) -> str:
    return f"{s['median']:.3g} [{s['min']:.3g}–{s['max']:.3g}]"


def print_tables(result: dict[str, Any]) -> None:
    rows = [[b] + [fmt(result["figures"][b][f]) for f in FIGURES] for b in BACKENDS]
    rows += [[name] + [fmt(r[f]) + "×" for f in FIGURES] for name, r in result["ratios_paired"].items()]
    print(table(["backend", *FIGURES], rows))
    print(
        f"Dask's own round trip on the tcp cluster (Client.submit().result()): "
        f"{fmt(result['raw_dask_round_trip_us'])} µs"
    )
    print()
    crash_rows = [[name, *d.values()] for name, d in result["sigkill_200_tasks"].items()]
    first = next(iter(result["sigkill_200_tasks"].values()))
    print(table(["SIGKILL during 200 tasks", *first.keys()], crash_rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = asyncio.run(run(args.rounds))
    print_tables(result)
    print(f"written to {save('bench_dask', result)}")


if __name__ == "__main__":
    main()
