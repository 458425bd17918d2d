"""gilwise.Offloader against its peers, all measured in one run, round-robin.

Peers: ``loop.run_in_executor(ProcessPoolExecutor)``, loky, mpire, ``anyio.to_process``,
``asyncio.to_thread``. Figures:

- ``round_trip_us``: warm round trip of a tiny task (mean of a burst of sequential calls);
  ``round_trip_p50_us`` and ``round_trip_p99_us``: the percentiles of that burst's calls;
- ``per_task_us``: wall time of a 20k-item ``map`` of a tiny task divided by 20k, chunked the
  way each peer chunks (ProcessPoolExecutor and loky get the same chunk size as gilwise; anyio
  and to_thread have no map: their figure is per single call, on fewer items);
- ``array_ms``: a 128 MiB NumPy array sent to a worker, which returns its sum;
- ``lag_p99_ms``: 99th percentile of event-loop lag while CPU-bound Python saturates 2 workers;
- ``cpu_map_s`` (gilwise only, with and without the worker's spin after a reply): a map of
  ~1 ms CPU-bound tasks, one per message, on 2 workers; the spin must not slow it down.

``gilwise (no spin)`` is gilwise with ``PoolConfig(spin_us=0)``: its round trip shows what the
spin buys, its ``cpu_map_s`` that the spin gate keeps the spin off a core real work needs. That
map is compared with ``gilwise (spin twin)``, the default configuration in a pool started like the
no-spin one: the first pool (``gilwise``) is forked from this single-threaded process, the later
ones from fresh interpreters, and the same map measured 4-9 % apart between two such pools with
the same settings here, which would otherwise be read as the spin's cost.

Each round measures every peer once per figure, the peer order rotating between rounds; each
ratio is gilwise / peer within the same round, and the table shows the median ratio and its
spread over rounds. Run: ``uv run python benchmarks/bench_offload.py [--rounds N] [--json P]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import anyio.to_process
import loky
import mpire
import numpy as np

import gilwise
from _common import machine_summary
from _common import stats as summarize
from _tasks import nap, square, wait_to_be_killed
from gilwise import Offloader, PoolConfig, WorkerCrashed

WORKERS = 2
MAP_ITEMS = 20_000
SLOW_MAP_ITEMS = 2_000  # anyio.to_process and to_thread: one message per item
CPU_MAP_ITEMS = 400  # tasks of ~1 ms each for cpu_map_s: >= 0.2 s on 2 workers
ROUND_TRIP_CALLS = 200
SPIN_TWIN = "gilwise (spin twin)"
ARRAY_BYTES = 128 << 20


def spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def array_sum(arr: Any) -> float:
    return float(arr.sum())


class Peer:
    """One way to run a blocking call from asyncio, with the same three verbs for all."""

    name = ""
    chunked_map = True

    async def start(self) -> None: ...
    async def call(self, fn: Callable[..., Any], *args: Any) -> Any: ...
    async def close(self) -> None: ...

    async def map(self, fn: Callable[[int], Any], items: range) -> list[Any]:
        return list(await asyncio.gather(*(self.call(fn, i) for i in items)))


class Gilwise(Peer):
    def __init__(self, name: str = "gilwise", **options: Any) -> None:
        self.name, self.options = name, options

    async def start(self) -> None:
        self.off = Offloader(config=PoolConfig(workers=WORKERS, **self.options))
        await self.off.__aenter__()

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self.off.run(fn, *args, route="cpu")

    async def map(self, fn: Callable[[int], Any], items: range) -> list[Any]:
        return [r async for r in self.off.map(fn, items, route="cpu")]

    async def close(self) -> None:
        await self.off.aclose()


class Executor(Peer):
    def __init__(self, name: str, make: Callable[[], Any]) -> None:
        self.name, self.make = name, make

    async def start(self) -> None:
        self.ex = self.make()

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.ex, fn, *args)

    async def map(self, fn: Callable[[int], Any], items: range) -> list[Any]:
        chunk = max(1, len(items) // (4 * WORKERS))  # the chunk size gilwise picks
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: list(self.ex.map(fn, items, chunksize=chunk)))

    async def close(self) -> None:
        self.ex.shutdown(wait=True)


class Mpire(Peer):
    name = "mpire"

    async def start(self) -> None:
        # Two warm pools: mpire 2.10 mis-dispatches a map() on a keep_alive pool that served
        # apply() before (TypeError: square() takes 1 positional argument but 2 were given).
        self.pool = mpire.WorkerPool(n_jobs=WORKERS, keep_alive=True)
        self.map_pool = mpire.WorkerPool(n_jobs=WORKERS, keep_alive=True)
        await self.call(square, 1)

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        # apply_async from the loop's thread only: concurrent apply() calls from several
        # threads corrupt mpire 2.10's task queue (its workers die unpacking a task).
        pending = self.pool.apply_async(fn, args)
        return await asyncio.get_running_loop().run_in_executor(None, pending.get)

    async def map(self, fn: Callable[[int], Any], items: range) -> list[Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: self.map_pool.map(fn, items))

    async def close(self) -> None:
        self.pool.terminate()
        self.map_pool.terminate()


class AnyioToProcess(Peer):
    name = "anyio.to_process"
    chunked_map = False

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_process.run_sync(fn, *args)


class ToThread(Peer):
    name = "asyncio.to_thread"
    chunked_map = False

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)


def make_peers() -> list[Peer]:
    return [
        Gilwise(),
        Executor("ProcessPoolExecutor", lambda: ProcessPoolExecutor(WORKERS)),
        Executor("loky", lambda: loky.get_reusable_executor(WORKERS)),
        Mpire(),
        AnyioToProcess(),
        ToThread(),
    ]


# -- figures -----------------------------------------------------------------------------
async def round_trips_us(peer: Peer, calls: int = ROUND_TRIP_CALLS) -> list[float]:
    """The latency of each of ``calls`` sequential warm calls, in µs."""
    for _ in range(20):
        await peer.call(square, 3)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        await peer.call(square, 3)
        times.append((time.perf_counter() - start) * 1e6)
    return times


async def cpu_map_s(peer: Gilwise, spin_n: int) -> float:
    """A map of ~1 ms CPU-bound tasks, one task per message (chunksize=1), on the pool."""
    start = time.perf_counter()
    out = [r async for r in peer.off.map(spin, [spin_n] * CPU_MAP_ITEMS, route="cpu", chunksize=1)]
    elapsed = time.perf_counter() - start
    assert len(out) == CPU_MAP_ITEMS, peer.name
    return elapsed


async def per_task_us(peer: Peer) -> float:
    n = MAP_ITEMS if peer.chunked_map else SLOW_MAP_ITEMS
    items = range(n)
    start = time.perf_counter()
    out = await peer.map(square, items)
    elapsed = time.perf_counter() - start
    assert out[-1] == (n - 1) ** 2, peer.name
    return elapsed / n * 1e6


async def array_ms(peer: Peer, arr: Any) -> float:
    start = time.perf_counter()
    total = await peer.call(array_sum, arr)
    elapsed = time.perf_counter() - start
    assert total == float(arr.size), peer.name
    return elapsed * 1e3


async def lag_p99_ms(peer: Peer, spin_n: int, seconds: float = 1.0) -> float:
    stop = time.perf_counter() + seconds
    lags: list[float] = []

    async def saturate() -> None:
        while time.perf_counter() < stop:
            await peer.call(spin, spin_n)

    async def probe() -> None:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - t0 - 0.001)

    await asyncio.gather(probe(), *(saturate() for _ in range(2 * WORKERS)))
    return float(np.percentile(lags, 99) * 1e3)


async def crash_batch(peer: Peer, tmp: Path) -> dict[str, int]:
    """200 tasks, one of whose workers is SIGKILLed from outside while it runs."""
    started = tmp / f"started-{peer.name}"
    started.unlink(missing_ok=True)
    calls = [peer.call(nap, 0.005) for _ in range(199)]
    calls.insert(10, peer.call(wait_to_be_killed, str(started)))
    batch = asyncio.ensure_future(asyncio.gather(*calls, return_exceptions=True))
    while not started.exists() or not started.read_text():
        await asyncio.sleep(0.01)
    os.kill(int(started.read_text()), signal.SIGKILL)
    results = await batch
    return {
        "results": sum(r == 0.005 for r in results),
        "WorkerCrashed": sum(isinstance(r, WorkerCrashed) for r in results),
        "BrokenProcessPool": sum(
            isinstance(r, BrokenProcessPool) and not isinstance(r, WorkerCrashed) for r in results
        ),
        "other_errors": sum(
            isinstance(r, BaseException) and not isinstance(r, BrokenProcessPool) for r in results
        ),
    }


def calibrate_spin(target_s: float = 0.02) -> int:
    n = 100_000
    start = time.perf_counter()
    spin(n)
    return max(10_000, int(n * target_s / (time.perf_counter() - start)))


def _record_round_trips(figures: dict[str, dict[str, list[float]]], name: str, times: list[float]) -> None:
    for figure, value in (
        ("round_trip_us", float(np.mean(times))),
        ("round_trip_p50_us", float(np.percentile(times, 50))),
        ("round_trip_p99_us", float(np.percentile(times, 99))),
    ):
        figures[figure].setdefault(name, []).append(value)


async def run(rounds: int, out: Path) -> dict[str, Any]:
    peers = make_peers()
    pickle_path = Gilwise("gilwise (pickle path)", shm_threshold=1 << 62)
    no_spin = Gilwise("gilwise (no spin)", spin_us=0)
    spin_twin = Gilwise(SPIN_TWIN)
    variants = [pickle_path, no_spin, spin_twin]
    for peer in [*peers, *variants]:
        await peer.start()
    arr = np.ones(ARRAY_BYTES // 8)
    spin_n = calibrate_spin()
    task_n = calibrate_spin(0.001)
    figures: dict[str, dict[str, list[float]]] = {
        f: {}
        for f in (
            "round_trip_us",
            "round_trip_p50_us",
            "round_trip_p99_us",
            "per_task_us",
            "array_ms",
            "lag_p99_ms",
            "cpu_map_s",
        )
    }
    load_before = os.getloadavg()
    try:
        for peer in [*peers, *variants]:  # warm-up: imports, page faults, pool threads
            await peer.call(array_sum, arr)
            await peer.map(square, range(100))
        for r in range(rounds):
            order = peers[r % len(peers) :] + peers[: r % len(peers)]
            for peer in [*order, no_spin]:
                _record_round_trips(figures, peer.name, await round_trips_us(peer))
            map_pools = [peers[0], no_spin, spin_twin]
            for gilwise_peer in map_pools[r % 3 :] + map_pools[: r % 3]:
                assert isinstance(gilwise_peer, Gilwise)
                figures["cpu_map_s"].setdefault(gilwise_peer.name, []).append(
                    await cpu_map_s(gilwise_peer, task_n)
                )
            for peer in order:
                figures["per_task_us"].setdefault(peer.name, []).append(await per_task_us(peer))
            for peer in [*order, pickle_path]:
                figures["array_ms"].setdefault(peer.name, []).append(await array_ms(peer, arr))
            for peer in [*order, no_spin]:
                figures["lag_p99_ms"].setdefault(peer.name, []).append(await lag_p99_ms(peer, spin_n))
            print(f"round {r + 1}/{rounds} done", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="gilwise-bench-offload-") as scratch:
            # the killed worker's marker file lives there, not beside the committed results
            crash = {p.name: await crash_batch(p, Path(scratch)) for p in peers[:2]}
    finally:
        for peer in [*peers, *variants]:
            await peer.close()
    ratios = {
        fig: {
            peer: summarize([g / v for g, v in zip(vals["gilwise"], pvals, strict=True)])
            for peer, pvals in vals.items()
            if peer != "gilwise"
        }
        for fig, vals in figures.items()
    }
    return {
        "schema": "gilwise.bench_offload/1",
        "machine": {**machine_summary(), "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "config": {
            "workers": WORKERS,
            "rounds": rounds,
            "map_items": MAP_ITEMS,
            "slow_map_items": SLOW_MAP_ITEMS,
            "array_bytes": ARRAY_BYTES,
            "spin_n": spin_n,
            "cpu_map_task_n": task_n,
            "cpu_map_items": CPU_MAP_ITEMS,
            "round_trip_calls": ROUND_TRIP_CALLS,
            "gilwise": gilwise.__version__,
        },
        "figures": {f: {p: summarize(v) for p, v in vals.items()} for f, vals in figures.items()},
        "ratios_gilwise_over_peer": ratios,
        "checks": issue_checks(
            figures, ratios, _paired(figures["cpu_map_s"], SPIN_TWIN, "gilwise (no spin)")
        ),
        "crash_batch": crash,
    }


def _paired(values: dict[str, list[float]], a: str, b: str) -> dict[str, Any]:
    """``a / b`` within each round, summarised over rounds."""
    return summarize([x / y for x, y in zip(values[a], values[b], strict=True)])


def issue_checks(
    figures: dict[str, dict[str, list[float]]], ratios: dict[str, Any], spin_cost: dict[str, Any]
) -> list[dict[str, Any]]:
    """The figures the offload issue asks for, each with its bound and whether it holds (the
    median over rounds of the paired ratio, or of the figure); ``spin_cost`` is the cpu map's
    spin / no-spin ratio between two pools started alike."""
    checks = []
    for pct in ("p50", "p99"):
        fig = f"round_trip_{pct}_us"
        checks.append(_check(f"round trip {pct} / anyio.to_process", ratios[fig]["anyio.to_process"], 0.5))
        checks.append(_check(f"round trip {pct} / asyncio.to_thread", ratios[fig]["asyncio.to_thread"], 1.0))
    checks.append(_check("chunked per-task overhead, µs", summarize(figures["per_task_us"]["gilwise"]), 0.46))
    checks.append(
        _check("event-loop lag p99, ms (cores saturated)", summarize(figures["lag_p99_ms"]["gilwise"]), 2.0)
    )
    checks.append(_check("cpu map, spin / no spin (pools started alike)", spin_cost, 1.0))
    return checks


def _check(name: str, summary: dict[str, Any], bound: float) -> dict[str, Any]:
    return {
        "check": name,
        "median": summary["median"],
        "min": summary["min"],
        "max": summary["max"],
        "bound": bound,
        "holds": summary["median"] <= bound,
    }


def print_table(result: dict[str, Any]) -> None:
    figs = result["figures"]
    names = [*list(figs["round_trip_us"]), "gilwise (pickle path)"]
    shown = [f for f in figs if f != "cpu_map_s"]
    head = f"{'peer':<24}" + "".join(f"{f:>22}" for f in shown)
    print(head)
    print("-" * len(head))
    for name in names:
        row = f"{name:<24}"
        for vals in (figs[f] for f in shown):
            s = vals.get(name)
            row += (
                f"{'':>22}"
                if s is None
                else f"{s['median']:>10.2f} [{s['min']:.1f}-{s['max']:.1f}]".rjust(22)
            )
        print(row)
    print("\nratio gilwise / peer (median [min-max] over rounds; < 1 means gilwise is faster)")
    for fig, peers in result["ratios_gilwise_over_peer"].items():
        cells = ", ".join(f"{p}: {s['median']:.2f} [{s['min']:.2f}-{s['max']:.2f}]" for p, s in peers.items())
        print(f"  {fig}: {cells}")
    print("\nthe issue's bounds (median over rounds [min-max]):")
    for c in result["checks"]:
        verdict = "holds" if c["holds"] else "MISSED"
        spread = f"[{c['min']:.3f}-{c['max']:.3f}]"
        print(f"  {c['check']:<42} {c['median']:7.3f} {spread}  <= {c['bound']}: {verdict}")
    machine = result["machine"]
    print(
        f"  load average before {machine['loadavg_before'][0]:.2f}, after {machine['loadavg_after'][0]:.2f}"
    )
    print("\nSIGKILL of one worker during a 200-task batch:")
    for name, counts in result["crash_batch"].items():
        print(f"  {name}: {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=Path("artifacts/bench_offload.json"))
    args = parser.parse_args()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(run(args.rounds, args.json))
    args.json.write_text(json.dumps(result, indent=2))
    print_table(result)
    print(f"\nJSON: {args.json}")


if __name__ == "__main__":
    main()
