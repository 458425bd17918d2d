"""The offload-mode registry: how ``/analytics/sessions`` runs its pure-Python report.

One entry per mode. ``inline`` and ``threads`` are the two wrong ways the story is about, kept
on purpose so the dashboard can show them; ``processes`` and ``auto`` run on a warm
``gilwise.Offloader``; ``dask`` runs on ``Offloader(backend="dask")``: the Dask cluster at
``--dask-scheduler``, or a LocalCluster of ``--workers`` processes. A mode that needs a pool
names it in ``POOLS``; a further backend is one ``POOLS`` entry and one ``MODES`` entry.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from .._exceptions import OffloadError, UsageError
from .._extras import install_command
from .._offload import Offloader, OffloadStatistics, PoolConfig

if TYPE_CHECKING:
    # For the annotations only: `gilwise serve` reads MODES to build its parser and check its
    # flags, which then import neither NumPy nor DuckDB; the server loads them as it starts.
    import numpy as np
    import numpy.typing as npt

    from .._offload._dask import ClusterWorker
    from .analytics import SessionsReport
    from .store import SessionColumns

Runner = Callable[["OffloadSwitch", "SessionColumns"], Awaitable["SessionsReport"]]


@dataclass(frozen=True)
class OffloadMode:
    name: str
    runs_in: str
    """What the report runs in, as the dashboard and ``GET /admin/offload`` say it."""
    run: Runner
    pool: str | None = None
    """The ``POOLS`` entry this mode needs, or None."""


@dataclass(frozen=True)
class PoolOptions:
    workers: int | None
    """Worker processes; None = one per usable core."""
    nice: int
    """Added to the workers' nice value: they soak up idle cores, and the event loop, which
    answers every request, preempts them as soon as it has something to do."""
    dask_scheduler: str | None = None
    """The running Dask cluster of the ``dask`` mode; None = a LocalCluster of ``workers``."""


@dataclass(frozen=True)
class PoolSpec:
    make: Callable[[PoolOptions], Offloader]
    start_at_boot: bool
    """Started with the server (warm when first chosen); otherwise on first use."""
    cluster: bool = False
    """Its workers are a Dask cluster's: asking about them is a network round trip (done off
    the event loop) and their pids may be on other hosts (never looked up in this machine's
    ``/proc``)."""
    needs: str | None = None
    """A module it needs; without it the mode is not offered (``unavailable`` says why)."""
    install: str = ""
    """How to get ``needs``."""


def _niced(options: PoolOptions) -> PoolConfig:
    """``options.workers`` processes whose initializer lowers their priority by ``options.nice``
    (none for 0)."""
    if not options.nice:
        return PoolConfig(workers=options.workers)
    return PoolConfig(workers=options.workers, initializer=os.nice, initargs=(options.nice,))


def _process_pool(options: PoolOptions) -> Offloader:
    return Offloader(config=_niced(options))


def _dask_pool(options: PoolOptions) -> Offloader:
    if options.dask_scheduler is not None:  # someone else's cluster: its workers, its priorities
        return Offloader(config=PoolConfig(backend="dask", address=options.dask_scheduler))
    return Offloader(config=replace(_niced(options), backend="dask"))


def _args(
    cols: SessionColumns,
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int8], npt.NDArray[np.float64],
    npt.NDArray[np.int64],
]:  # fmt: skip
    return (cols.user, cols.ts, cols.event, cols.value, cols.received)


def _sessions_report() -> Callable[..., SessionsReport]:
    """The report function, imported when a request runs: `analytics` needs typing_extensions
    (the serve extra), and `gilwise serve --help` builds its choices from MODES on a core-only
    install."""
    from .analytics import sessions_report

    return sessions_report


async def _inline(switch: OffloadSwitch, cols: SessionColumns) -> SessionsReport:
    return _sessions_report()(*_args(cols))  # the bug: every other request waits for this


async def _threads(switch: OffloadSwitch, cols: SessionColumns) -> SessionsReport:
    return await asyncio.to_thread(_sessions_report(), *_args(cols))  # the GIL: one core at a time


def _on_pool(route: Literal["cpu", "auto"], pool: str = "processes") -> Runner:
    async def run(switch: OffloadSwitch, cols: SessionColumns) -> SessionsReport:
        off = await switch.pool(pool)
        return await off.run(_sessions_report(), *_args(cols), route=route, retries=switch.retries)

    return run


POOLS: dict[str, PoolSpec] = {
    "processes": PoolSpec(make=_process_pool, start_at_boot=True),
    # After "processes" (start() keeps this order): a LocalCluster leaves distributed's threads
    # behind, and a process with threads makes a later process pool spawn its zygote instead
    # of forking it.
    "dask": PoolSpec(
        make=_dask_pool,
        start_at_boot=False,
        cluster=True,
        needs="distributed",
        install=install_command("dask"),
    ),
}

MODES: dict[str, OffloadMode] = {
    m.name: m
    for m in (
        OffloadMode("inline", "the event loop itself: every request waits (the bug)", _inline),
        OffloadMode("threads", "asyncio.to_thread: the GIL lets one thread run (one core busy)", _threads),
        OffloadMode(
            "processes", "gilwise.Offloader worker processes (the fix)", _on_pool("cpu"), "processes"
        ),
        OffloadMode(
            "auto",
            "gilwise.Offloader, route='auto': measured, then processes or threads",
            _on_pool("auto"),
            "processes",
        ),
        OffloadMode(
            "dask",
            "gilwise.Offloader(backend='dask'): the Dask cluster's worker processes",
            _on_pool("cpu", pool="dask"),
            "dask",
        ),
    )
}


def unavailable(mode: OffloadMode) -> str | None:
    """Why ``mode`` cannot run in this environment (None: it can)."""
    spec = POOLS.get(mode.pool) if mode.pool else None
    if spec is None or spec.needs is None:
        return None
    try:
        found = importlib.util.find_spec(spec.needs) is not None
    except (ImportError, ValueError):
        found = False
    if found:
        return None
    return (
        f"offload mode {mode.name!r} needs the {spec.needs!r} package, which is not installed. "
        f"Fix: {spec.install}"
    )


def available_modes() -> dict[str, OffloadMode]:
    return {name: mode for name, mode in MODES.items() if unavailable(mode) is None}


def check_mode(name: str) -> OffloadMode:
    mode = MODES.get(name)
    if mode is None:
        raise UsageError(f"unknown offload mode {name!r}; valid choices: {', '.join(MODES)}")
    why = unavailable(mode)
    if why is not None:
        raise UsageError(why)
    return mode


class OffloadSwitch:
    """The current mode, the pools the modes run on, and what is in flight."""

    def __init__(self, mode: str, options: PoolOptions, retries: int) -> None:
        self.mode = check_mode(mode)
        self.options, self.retries = options, retries
        self.in_flight = 0
        self.pinned = False
        """Someone chose a mode through ``PUT /admin/offload`` (stops the demo's cycling)."""
        self._pools: dict[str, Offloader] = {}
        self._lock = asyncio.Lock()
        self._stopping = False

    def refuse_new_pools(self) -> None:
        """The server got a stop signal: a request still in flight may use a running pool but
        starts none (a LocalCluster started now would only delay the shutdown that stops it)."""
        self._stopping = True

    async def start(self) -> None:
        """Start the pools that should be warm before the first request (and the current mode's)."""
        for name, spec in POOLS.items():
            if spec.start_at_boot or self.mode.pool == name:
                await self.pool(name)

    async def pool(self, name: str) -> Offloader:
        off = self._pools.get(name)
        if off is not None:
            return off
        async with self._lock:
            if name not in self._pools:
                if self._stopping:
                    raise OffloadError(f"the server is stopping: the {name!r} pool is not started any more")
                off = POOLS[name].make(self.options)
                await off.__aenter__()
                self._pools[name] = off
            return self._pools[name]

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for off in pools:
            await off.aclose(cancel=True)

    def set_mode(self, name: str) -> OffloadMode:
        self.mode = check_mode(name)
        return self.mode

    async def run(self, cols: SessionColumns) -> tuple[SessionsReport, str, float]:
        """The report under the current mode: (report, mode name, compute ms)."""
        mode = self.mode
        self.in_flight += 1
        start = time.perf_counter()
        try:
            report = await mode.run(self, cols)
        finally:
            self.in_flight -= 1
        return report, mode.name, (time.perf_counter() - start) * 1000

    def worker_pids(self) -> list[int]:
        """This machine's offload worker processes (a cluster's workers are not among them)."""
        return [
            pid for name, off in self._pools.items() if not POOLS[name].cluster for pid in off.worker_pids()
        ]

    def blocks(self) -> bool:
        """Whether ``statistics`` or ``cluster_workers`` ask a cluster (run them in a thread)."""
        return any(POOLS[name].cluster for name in self._pools)

    def statistics(self) -> OffloadStatistics | None:
        """The statistics of the current mode's pool (or of the process pool for the others)."""
        off = self._pools.get(self.mode.pool or "processes")
        return off.statistics() if off is not None else None

    def cluster_workers(self) -> list[ClusterWorker]:
        """The workers of the running cluster pools, as their schedulers last heard from them."""
        return [w for name, off in self._pools.items() if POOLS[name].cluster for w in off.cluster_workers()]
