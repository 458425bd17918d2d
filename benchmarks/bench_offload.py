"""gilwise.Offloader against its peers, all measured in one run, round-robin.

Peers: ``loop.run_in_executor(ProcessPoolExecutor)``, loky, mpire, ``anyio.to_process``,
``asyncio.to_thread``. Figures:

- ``round_trip_us``: warm round trip of a tiny task (mean of a burst of sequential calls);
- ``per_task_us``: wall time of a 20k-item ``map`` of a tiny task divided by 20k, chunked the
  way each peer chunks (ProcessPoolExecutor and loky get the same chunk size as gilwise; anyio
  and to_thread have no map: their figure is per single call, on fewer items);
- ``array_ms``: a 128 MiB NumPy array sent to a worker, which returns its sum;
- ``lag_p99_ms``: 99th percentile of event-loop lag while CPU-bound Python saturates 2 workers.

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
from gilwise import Offloader, WorkerCrashed

WORKERS = 2
MAP_ITEMS = 20_000
SLOW_MAP_ITEMS = 2_000  # anyio.to_process and to_thread: one message per item
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
        self.off = Offloader(workers=WORKERS, **self.options)
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
async def round_trip_us(peer: Peer, calls: int = 200) -> float:
    for _ in range(20):
        await peer.call(square, 3)
    start = time.perf_counter()
    for _ in range(calls):
        await peer.call(square, 3)
    return (time.perf_counter() - start) / calls * 1e6


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


async def run(rounds: int, out: Path) -> dict[str, Any]:
    peers = make_peers()
    pickle_path = Gilwise("gilwise (pickle path)", shm_threshold=1 << 62)
    for peer in [*peers, pickle_path]:
        await peer.start()
    arr = np.ones(ARRAY_BYTES // 8)
    spin_n = calibrate_spin()
    figures: dict[str, dict[str, list[float]]] = {
        f: {} for f in ("round_trip_us", "per_task_us", "array_ms", "lag_p99_ms")
    }
    load_before = os.getloadavg()
    try:
        for peer in [*peers, pickle_path]:  # warm-up: imports, page faults, pool threads
            await peer.call(array_sum, arr)
            await peer.map(square, range(100))
        for r in range(rounds):
            order = peers[r % len(peers) :] + peers[: r % len(peers)]
            for peer in order:
                figures["round_trip_us"].setdefault(peer.name, []).append(await round_trip_us(peer))
            for peer in order:
                figures["per_task_us"].setdefault(peer.name, []).append(await per_task_us(peer))
            for peer in [*order, pickle_path]:
                figures["array_ms"].setdefault(peer.name, []).append(await array_ms(peer, arr))
            for peer in order:
                figures["lag_p99_ms"].setdefault(peer.name, []).append(await lag_p99_ms(peer, spin_n))
            print(f"round {r + 1}/{rounds} done", file=sys.stderr)
        crash = {p.name: await crash_batch(p, out.parent) for p in peers[:2]}
    finally:
        for peer in [*peers, pickle_path]:
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
        "machine": {**machine_summary(), "loadavg_before": load_before},
        "config": {
            "workers": WORKERS,
            "rounds": rounds,
            "map_items": MAP_ITEMS,
            "slow_map_items": SLOW_MAP_ITEMS,
            "array_bytes": ARRAY_BYTES,
            "spin_n": spin_n,
            "gilwise": gilwise.__version__,
        },
        "figures": {f: {p: summarize(v) for p, v in vals.items()} for f, vals in figures.items()},
        "ratios_gilwise_over_peer": ratios,
        "crash_batch": crash,
    }


def print_table(result: dict[str, Any]) -> None:
    figs = result["figures"]
    names = [*list(figs["round_trip_us"]), "gilwise (pickle path)"]
    head = f"{'peer':<24}" + "".join(f"{f:>22}" for f in figs)
    print(head)
    print("-" * len(head))
    for name in names:
        row = f"{name:<24}"
        for vals in figs.values():
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
