"""Start the client processes, pin them, start them together, merge what they measured."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from .._exceptions import GilwiseError, UsageError
from .._system import affinity_cores
from .client import ClientPlan, ClientResult
from .histogram import curve_ms, merged, percentile_ms
from .processes import START_TIMEOUT_S, read_line, sigterm_interrupts, started_clients
from .schedule import Arrivals

LOAD_SCHEMA = "gilwise.load/2"
MIN_CORES_TO_PIN = 4
"""Below this, giving the client a core of its own would take a large share of the server's:
the client then shares every core with the server, and the report says so."""
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_CONNECTIONS = 256


class RouteFigures(TypedDict):
    """One route's latencies, from the scheduled send time (the JSON of load/2 and serving/1)."""

    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    p999_ms: float | None
    max_ms: float | None
    count: int
    errors: int
    errors_by_kind: dict[str, int]
    throughput_rps: float
    """Answers with a 2xx status per second."""
    curve_ms: list[tuple[float, float]]
    """(percentile, ms): the latency-percentile curve of the HTML report."""


class PacedFigures(RouteFigures):
    offered_rps: float
    items_per_s: float
    """Items (events) in acknowledged requests per second."""


@dataclass(frozen=True)
class CoreSplit:
    """Which cores the server and the load client run on."""

    server: list[int]
    client: list[int]
    pinned: bool

    def describe(self) -> str:
        if self.pinned:
            return f"client pinned to core(s) {_cores(self.client)}, server to {_cores(self.server)}"
        return (
            f"client shares the server's {len(self.server)} core(s): pinning it away needs "
            f"at least {MIN_CORES_TO_PIN} usable cores"
        )


def _cores(cores: Sequence[int]) -> str:
    return ",".join(str(c) for c in cores)


def split_cores(cores: Sequence[int] | None = None) -> CoreSplit:
    """A quarter of the cores (at least one) for the client where there are enough, else none."""
    available = list(affinity_cores() if cores is None else cores)
    if len(available) < MIN_CORES_TO_PIN:
        return CoreSplit(server=available, client=available, pinned=False)
    take = max(1, len(available) // 4)
    return CoreSplit(server=available[:-take], client=available[-take:], pinned=True)


@dataclass(frozen=True)
class PacedRoute:
    """A POST stream at a fixed rate beside the mix, e.g. an ingest feed of event batches."""

    path: str
    rate: float
    """Requests per second over all client processes."""
    bodies: tuple[str, ...]
    """JSON bodies, sent in turn."""
    items_per_body: int = 1
    """What one body carries (events in a batch): the report gives items per second."""


@dataclass(frozen=True)
class LoadSettings:
    """One open-loop run: shared by ``gilwise load`` and each model of ``gilwise serving``."""

    url: str
    mix: Mapping[str, float]
    rate: float
    """Offered requests per second over the mix's routes."""
    duration_s: float
    arrivals: Arrivals = "constant"
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    processes: int | None = None
    """Client processes (None: one per client core)."""
    paced: tuple[PacedRoute, ...] = ()
    token: str | None = None
    """Bearer token sent with every request."""


@dataclass(frozen=True)
class OpenLoopReport:
    url: str
    offered_rps: float
    duration_s: float
    scheduled: int
    sent: int
    late_sends: int
    client_processes: int
    cores: CoreSplit
    client_cpu_s: float
    """CPU seconds of every client process together, while they ran."""
    routes: dict[str, RouteFigures] = field(default_factory=dict)
    paced: dict[str, PacedFigures] = field(default_factory=dict)
    """The paced streams (not in ``throughput_rps``, which is about the mix)."""

    @property
    def throughput_rps(self) -> float:
        return sum(r["throughput_rps"] for r in self.routes.values())

    @property
    def client_cores(self) -> float:
        """Cores the load itself kept busy (1.0 = one core): on a machine too small to pin the
        client apart, this much was taken from the server."""
        return self.client_cpu_s / self.duration_s

    @property
    def errors(self) -> int:
        return sum(r["errors"] for r in self.routes.values())

    def as_json(self) -> dict[str, object]:
        return {
            "schema": LOAD_SCHEMA,
            "url": self.url,
            "offered_rps": self.offered_rps,
            "throughput_rps": self.throughput_rps,
            "duration_s": self.duration_s,
            "scheduled": self.scheduled,
            "sent": self.sent,
            "late_sends": self.late_sends,
            "client_processes": self.client_processes,
            "client_cores": self.cores.client,
            "client_pinned": self.cores.pinned,
            "client_busy_cores": self.client_cores,
            "routes": self.routes,
            "paced": self.paced,
        }


def run_open_loop(settings: LoadSettings, split: CoreSplit | None = None) -> OpenLoopReport:
    """Run the clients to the end of their schedule and merge them; kills them all on error."""
    if not settings.mix:
        raise UsageError("the route mix is empty")
    clash = {p.path for p in settings.paced} & set(settings.mix)
    if clash:
        raise UsageError(f"{', '.join(sorted(clash))} is both in the mix and paced apart; pick one")
    split = split_cores() if split is None else split
    count = settings.processes or (len(split.client) if split.pinned else 1)
    paths = list(settings.mix)
    plans: list[ClientPlan] = [
        {
            "url": settings.url,
            "paths": paths,
            "weights": [settings.mix[p] for p in paths],
            "rate": settings.rate / count,
            "paced": [
                {
                    "path": p.path,
                    "rate": p.rate / count,
                    "bodies": list(p.bodies[i::count] or p.bodies),
                    "phase_s": i / p.rate,
                }
                for p in settings.paced
                if p.rate > 0
            ],
            "token": settings.token,
            "arrivals": settings.arrivals,
            "duration_s": settings.duration_s,
            "timeout_s": settings.timeout_s,
            "max_connections": settings.max_connections,
            "seed": i,
            "phase_s": i / settings.rate,
        }
        for i in range(count)
    ]
    results: list[ClientResult] = []
    bound = settings.duration_s + settings.timeout_s + START_TIMEOUT_S
    cores = split.client if split.pinned else None
    with sigterm_interrupts(), started_clients("gilwise._loadgen.client", plans, cores) as procs:
        for proc in procs:
            line = read_line(proc, bound)
            if not line.startswith("result "):
                raise GilwiseError(f"a load client died (exit {proc.poll()}) before reporting")
            results.append(json.loads(line[len("result ") :]))
    return merge(settings, split, results)


def merge(settings: LoadSettings, split: CoreSplit, results: Sequence[ClientResult]) -> OpenLoopReport:
    elapsed = max((r["elapsed_s"] for r in results), default=0.0) or 1e-9
    routes = {path: _route_figures(path, results, elapsed, settings.duration_s) for path in settings.mix}
    paced: dict[str, PacedFigures] = {}
    for stream in settings.paced:
        if stream.rate > 0:
            figures = _route_figures(stream.path, results, elapsed, settings.duration_s)
            paced[stream.path] = {
                **figures,
                "offered_rps": stream.rate,
                "items_per_s": figures["throughput_rps"] * stream.items_per_body,
            }
    return OpenLoopReport(
        url=settings.url,
        offered_rps=settings.rate,
        duration_s=elapsed,
        scheduled=sum(r["scheduled"] for r in results),
        sent=sum(r["sent"] for r in results),
        late_sends=sum(r["late_sends"] for r in results),
        client_processes=len(results),
        cores=split,
        client_cpu_s=sum(r["cpu_s"] for r in results),
        routes=routes,
        paced=paced,
    )


def _route_figures(
    path: str, results: Sequence[ClientResult], elapsed: float, duration_s: float
) -> RouteFigures:
    """One route's figures over every client: merged histograms, summed counts."""
    mine = [r["routes"][path] for r in results]
    histogram = merged([m["histogram"] for m in mine])
    by_kind: dict[str, int] = {}
    for m in mine:
        for kind, n in m["errors"].items():
            by_kind[kind] = by_kind.get(kind, 0) + n
    count = sum(m["count"] for m in mine)
    refused = sum(n for kind, n in by_kind.items() if kind.startswith("status "))
    return {
        "p50_ms": percentile_ms(histogram, 50.0),
        "p90_ms": percentile_ms(histogram, 90.0),
        "p99_ms": percentile_ms(histogram, 99.0),
        "p999_ms": percentile_ms(histogram, 99.9),
        "max_ms": percentile_ms(histogram, 100.0),
        "count": count,
        "errors": sum(by_kind.values()),
        "errors_by_kind": by_kind,
        "throughput_rps": (count - refused) / max(elapsed, duration_s),
        "curve_ms": curve_ms(histogram),
    }
