"""Closed-loop clients in separate processes: how ``gilwise serving`` seeds its database and how
``benchmarks/bench_serve.py`` hammers a server, never a measurement a user reads.

Each client (``load_client``) runs one route on one keep-alive connection, closed-loop (the next
request when the answer is in) or paced; the coordinator here only starts them, reads their
progress lines, and merges what they measured into per-route percentiles. Bounded twice: by
``duration_s`` and by ``max_requests`` per client. A closed loop samples a server stall once
(coordinated omission): ``gilwise load`` is the open loop of ``_loadgen``.
"""

from __future__ import annotations

import json
import selectors
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .._exceptions import GilwiseError, UsageError
from .._loadgen.processes import sigterm_interrupts, started_clients
from .._results.stats import nearest_rank
from .load_client import ClientPlan, ClientResult

ROUTES = ("ingest", "sessions", "summary", "health")
DEFAULT_INTERVALS = {"ingest": 0.0, "sessions": 0.0, "summary": 0.25, "health": 0.02}
"""health and summary are probes, paced like a monitor would; ingest and sessions hammer."""
GRACE_S = 90.0
"""How long past the duration a client may take to finish its last request (a slow report)."""


@dataclass(frozen=True)
class RouteStats:
    route: str
    clients: int
    requests: int
    ok: int
    errors: dict[str, int]
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    requests_per_s: float
    events: int
    events_per_s: float


@dataclass(frozen=True)
class LoadReport:
    url: str
    duration_s: float
    clients: int
    routes: list[RouteStats] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "schema": "gilwise.load/1",
            "url": self.url,
            "duration_s": self.duration_s,
            "clients": self.clients,
            "routes": [vars(r) for r in self.routes],
        }


def plans(
    url: str,
    slots: Sequence[str],
    clients: int,
    *,
    duration_s: float,
    max_requests: int,
    intervals: dict[str, float],
    batch: int = 1000,
    window_s: float | None = None,
    token: str | None = None,
) -> list[ClientPlan]:
    """``clients`` plans, client i on ``slots[i % len(slots)]``."""
    return [
        {
            "url": url,
            "route": slots[i % len(slots)],
            "duration_s": duration_s,
            "max_requests": max_requests,
            "interval_s": intervals[slots[i % len(slots)]],
            "batch": batch,
            "window_s": window_s,
            "token": token,
            "seed": i,
        }
        for i in range(clients)
    ]


def wait_ready(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise GilwiseError(
                f"{url} did not answer /health within {timeout_s:g} s; is `gilwise serve` running there?"
            )
        time.sleep(0.1)


def run_load(
    plans_: Sequence[ClientPlan], on_progress: Callable[[float, int], None] | None = None
) -> LoadReport:
    """Start one process per plan, start them together, wait, merge. Kills them all on error."""
    if not plans_:
        raise UsageError("no clients to run")
    with sigterm_interrupts(), started_clients("gilwise._service.load_client", plans_) as procs:
        results = _collect(procs, plans_, on_progress)
    return merge(plans_[0]["url"], plans_, results)


def _collect(
    procs: list[subprocess.Popen[str]],
    plans_: Sequence[ClientPlan],
    on_progress: Callable[[float, int], None] | None,
) -> list[ClientResult]:
    start = time.monotonic()
    deadline = start + max(p["duration_s"] for p in plans_) + GRACE_S
    counts = [0] * len(procs)
    results: dict[int, ClientResult] = {}
    with selectors.DefaultSelector() as sel:
        for i, proc in enumerate(procs):
            assert proc.stdout is not None
            sel.register(proc.stdout, selectors.EVENT_READ, i)
        while len(results) < len(procs):
            if time.monotonic() > deadline:
                raise GilwiseError(f"load clients were still running {GRACE_S:g} s after --duration")
            for key, _ in sel.select(0.25):
                i = key.data
                line = procs[i].stdout.readline()
                if line.startswith("progress "):
                    counts[i] = int(line.split()[1])
                elif line.startswith("result "):
                    results[i] = json.loads(line[len("result ") :])
                    counts[i] = results[i]["requests"]
                    sel.unregister(key.fileobj)
                elif not line:
                    raise GilwiseError(f"a load client died (exit {procs[i].wait()}) before reporting")
            if on_progress is not None:
                on_progress(time.monotonic() - start, sum(counts))
    return [results[i] for i in range(len(procs))]


def merge(url: str, plans_: Sequence[ClientPlan], results: Sequence[ClientResult]) -> LoadReport:
    routes: list[RouteStats] = []
    elapsed = max((r["elapsed_s"] for r in results), default=0.0) or 1e-9
    for route in ROUTES:
        mine = [r for r in results if r["route"] == route]
        if not mine:
            continue
        latencies = sorted(v for r in mine for v in r["latencies_ms"])
        errors: dict[str, int] = {}
        for r in mine:
            for key, n in r["errors"].items():
                errors[key] = errors.get(key, 0) + n
        requests = sum(r["requests"] for r in mine)
        events = sum(r["events"] for r in mine)
        routes.append(
            RouteStats(
                route=route,
                clients=len(mine),
                requests=requests,
                ok=requests - sum(errors.values()),
                errors=errors,
                p50_ms=nearest_rank(latencies, 0.50) if latencies else None,
                p90_ms=nearest_rank(latencies, 0.90) if latencies else None,
                p99_ms=nearest_rank(latencies, 0.99) if latencies else None,
                max_ms=latencies[-1] if latencies else None,
                requests_per_s=requests / elapsed,
                events=events,
                events_per_s=events / elapsed,
            )
        )
    return LoadReport(url=url, duration_s=elapsed, clients=len(plans_), routes=routes)
