"""What ``/live`` streams: per-core CPU, event-loop lag, handler latency per route, ingest rate
and the offload pool's state, one snapshot a second.

Everything is measured in the server process, cheaply: the loop-lag probe wakes every 10 ms,
latencies are recorded by a pure ASGI middleware (no per-request task), CPU comes from
``_system`` once a second: per core of this server's affinity set (``/proc/stat``), and per
process for the server and its offload workers; ``usable_cores`` (the affinity set capped by a
container's CPU quota) is what the dashboard scales its busy cores against. A Dask cluster (the
``dask`` mode) is asked about its workers in a thread, since that is a round trip to its
scheduler; their CPU is what their heartbeats report (they may run on other hosts, out of this
machine's ``/proc``).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._offload import OffloadStatistics
from .._results.stats import nearest_rank
from .._system import CoreBusyCounters, affinity_cores, process_cpu_s, usable_cores
from .models import ClusterWorkerLive, Live, OffloadLive, Percentiles
from .modes import OffloadSwitch

WINDOW_S = 1.0
LAG_PROBE_S = 0.010
CLUSTER_TIMEOUT_S = 5.0
TRACKED = frozenset({"/health", "/events", "/events/count", "/analytics/summary", "/analytics/sessions"})
"""The API routes whose latency the dashboard plots (not /live, whose "latency" is a stream's
lifetime, nor the dashboard's own page and assets)."""


def percentiles(values: list[float]) -> Percentiles:
    """p50 / p99 by the nearest-rank method (no interpolation: a p99 is a value that occurred)."""
    if not values:
        return Percentiles(p50=0.0, p99=0.0, count=0)
    ordered = sorted(values)
    return Percentiles(p50=nearest_rank(ordered, 0.50), p99=nearest_rank(ordered, 0.99), count=len(ordered))


@dataclass(frozen=True)
class PoolView:
    """The offload pools as one snapshot shows them."""

    statistics: OffloadStatistics | None
    cluster: list[ClusterWorkerLive] = field(default_factory=list)
    cluster_error: str | None = None


class Recent:
    """Values with the time they were recorded; keeps the last ``horizon_s`` seconds."""

    def __init__(self, horizon_s: float = 5.0) -> None:
        self.horizon_s = horizon_s
        self._items: deque[tuple[float, float]] = deque()

    def add(self, value: float, now: float | None = None) -> None:
        self._items.append((time.monotonic() if now is None else now, value))

    def since(self, start: float) -> list[float]:
        items = self._items
        while items and items[0][0] < start - self.horizon_s:
            items.popleft()
        return [v for t, v in items if t >= start]


class LiveMetrics:
    def __init__(self, switch: OffloadSwitch) -> None:
        self.switch = switch
        self.latency: dict[str, Recent] = {}
        self.lag = Recent()
        self.ingested = Recent()
        self.latest: Live | None = None
        self._changed = asyncio.Condition()
        self.usable_cores = usable_cores()
        self._cores = CoreBusyCounters(affinity_cores())
        self._last_busy = self._cores.read()[0]
        self._last_cpu: dict[int | str, float] = {}
        self._last_tick = time.monotonic()
        self._tasks: list[asyncio.Task[None]] = []
        self._asking: asyncio.Future[PoolView] | None = None

    # -- recording ------------------------------------------------------------------------
    def record_latency(self, route: str, ms: float) -> None:
        recent = self.latency.get(route)
        if recent is None:
            recent = self.latency[route] = Recent()
        recent.add(ms)

    def record_ingest(self, events: int) -> None:
        self.ingested.add(float(events))

    # -- background tasks -----------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._probe_lag()), asyncio.create_task(self._tick())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._cores.close()
        if self._asking is not None:  # its thread ends with the cluster's client
            self._asking.cancel()
            await asyncio.gather(self._asking, return_exceptions=True)

    async def _probe_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            planned = loop.time() + LAG_PROBE_S
            await asyncio.sleep(LAG_PROBE_S)
            self.lag.add(max(0.0, (loop.time() - planned) * 1000))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(WINDOW_S)
            snapshot = self.snapshot(await self.pool_view())
            async with self._changed:
                self.latest = snapshot
                self._changed.notify_all()

    async def next_message(self, after: Live | None, timeout: float) -> Live | None:
        """The first snapshot newer than ``after`` (None after ``timeout`` seconds)."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.latest is not after), timeout)
            except TimeoutError:
                return None
            return self.latest

    async def pool_view(self) -> PoolView:
        """The pools' state; a cluster is asked in a thread (one question at a time: a slow
        scheduler delays its workers' figures, never the event loop or a pile of threads)."""
        if not self.switch.blocks():
            return PoolView(self.switch.statistics())
        if self._asking is None or self._asking.done():
            self._asking = asyncio.ensure_future(asyncio.to_thread(self._ask_cluster))
        try:
            return await asyncio.wait_for(asyncio.shield(self._asking), CLUSTER_TIMEOUT_S)
        except TimeoutError:
            error = f"the Dask scheduler did not answer within {CLUSTER_TIMEOUT_S:.0f} s"
        except Exception as exc:  # a lost scheduler must not stop /live
            error = f"the Dask scheduler could not be asked: {exc!r}"
        stats = None if self.switch.mode.pool == "dask" else self.switch.statistics()
        return PoolView(stats, cluster_error=error)

    def _ask_cluster(self) -> PoolView:
        workers = [ClusterWorkerLive(**asdict(w)) for w in self.switch.cluster_workers()]
        return PoolView(self.switch.statistics(), workers)

    # -- one snapshot ---------------------------------------------------------------------
    def snapshot(self, view: PoolView | None = None) -> Live:
        """This second's message; ``view`` from ``pool_view`` (asked here when None, which is
        only right without a cluster: asking one blocks)."""
        if view is None:
            view = PoolView(self.switch.statistics())
        now = time.monotonic()
        interval = max(1e-3, now - self._last_tick)
        self._last_tick = now
        start = now - WINDOW_S
        cores = self._core_busy(interval)
        server_cores, worker_cores = self._process_cores(interval)
        worker_cores = round(worker_cores + sum(w.cpu_percent for w in view.cluster) / 100, 4)
        stats = view.statistics
        return Live(
            t=time.time(),
            interval_s=interval,
            cpu_per_core=cores,
            busy_cores=round(sum(cores), 4),
            usable_cores=self.usable_cores,
            server_cores=server_cores,
            worker_cores=worker_cores,
            loop_lag_ms=percentiles(self.lag.since(start)),
            events_per_s=sum(self.ingested.since(start)) / WINDOW_S,
            latency_ms={
                route: percentiles(values)
                for route, recent in sorted(self.latency.items())
                if (values := recent.since(start))
            },
            offload=OffloadLive(
                mode=self.switch.mode.name,
                workers=stats.workers_alive if stats else 0,
                queue_depth=self.switch.in_flight,
                restarts=stats.restarts if stats else 0,
                crashes=stats.crashes if stats else 0,
                cluster_workers=view.cluster,
                cluster_error=view.cluster_error,
            ),
        )

    def _core_busy(self, interval: float) -> list[float]:
        """Busy fraction (0..1) of each core of the affinity set since the last snapshot."""
        busy = self._cores.read()[0]
        last, self._last_busy = self._last_busy, busy
        return [round(max(0.0, min(1.0, (b - a) / interval)), 4) for a, b in zip(last, busy, strict=True)]

    def _process_cores(self, interval: float) -> tuple[float, float]:
        """CPU cores used since the last snapshot by this process and by the offload workers on
        this machine (``worker_pids`` leaves a cluster's workers out)."""
        pids = set(self.switch.worker_pids())
        for gone in [pid for pid in self._last_cpu if pid != "self" and pid not in pids]:
            del self._last_cpu[gone]
        server = self._cpu_delta("self")
        workers = sum(self._cpu_delta(pid) for pid in sorted(pids))
        return round(server / interval, 4), round(workers / interval, 4)

    def _cpu_delta(self, pid: int | str) -> float:
        total = process_cpu_s(pid)
        if total is None:
            self._last_cpu.pop(pid, None)
            return 0.0
        previous = self._last_cpu.get(pid)
        self._last_cpu[pid] = total
        return 0.0 if previous is None else max(0.0, total - previous)


class LatencyMiddleware:
    """Handler time per route: from the app being called to the last byte of the response."""

    def __init__(self, app: ASGIApp, metrics: Callable[[], LiveMetrics | None]) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in TRACKED:
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                metrics = self.metrics()
                if metrics is not None:
                    ms = (time.perf_counter() - start) * 1000
                    metrics.record_latency(f"{scope['method']} {scope['path']}", ms)

        await self.app(scope, receive, timed_send)
