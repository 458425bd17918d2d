"""Run every serving model round-robin, repeat by repeat, and fill the ``gilwise.serving/1`` document.

Round-robin (every model once, then again) because this machine's speed drifts over tens of
seconds: a model measured in minute 1 against one measured in minute 3 compares phases, not
models. Each model's p99 is then divided by the baseline's of the same round (paired ratios)."""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .._exceptions import GilwiseError
from .._harness.machine import describe_machine
from .._loadgen.coordinator import CoreSplit, LoadSettings, OpenLoopReport, run_open_loop, split_cores
from .._results.stats import median_interval
from .._service.asgi_settings import DIR_ENV_VAR, OFFLOAD_ENV_VAR, SEED_ENV_VAR, WORKERS_ENV_VAR
from .._service.loadgen import plans, run_load
from .._system import usable_cores
from .document import SERVING_SCHEMA, ModelResult, RouteResult, ServingDocument
from .models import BASELINE, GILWISE_APP, MODEL_NAMED, MODELS, ServingModel
from .server import ServerProcess
from .verdict import ENOUGH_THROUGHPUT, verdict

HOST = "127.0.0.1"
SWEEP_FIRST_RPS = 10.0
SWEEP_LAST_RPS = 5120.0
SEED_BATCH = 1000
SEED_TIMEOUT_S = 300.0
INGEST_INTERVAL_S = 0.1
"""gilwise's app with ingest running: a batch every 100 ms, a steady event stream."""
GIL_WAIT_NOTE = "not sampled: Granian's metrics and gilwise's sampler do not expose it per server yet"


@dataclass(frozen=True)
class ServingConfig:
    """One ``gilwise serving`` run, built once from the command line."""

    mix: Mapping[str, float]
    rate: float | None
    """Offered requests per second; None: the sweep."""
    app: str = GILWISE_APP
    models: tuple[str, ...] = tuple(m.name for m in MODELS)
    workers: int = field(default_factory=usable_cores)
    duration_s: float = 10.0
    warmup_s: float = 2.0
    repeats: int = 3
    p99_bound_ms: float = 50.0
    cheap_route: str | None = None
    ingest: bool = True
    """gilwise's own app: a steady ingest stream runs through warm-up and measurement."""
    ingest_batch: int = 500
    """Events per ingest batch (10 batches a second) while the load runs."""
    seed_events: int = 100_000
    """gilwise's own app: events every server (every worker) starts with, so that the sessions
    report reads the same data whichever worker runs it."""
    app_dir: str | None = None
    """Where the app's module is imported from (the server's working directory)."""

    @property
    def cheap(self) -> str:
        if self.cheap_route is not None:
            return self.cheap_route
        return "/health" if "/health" in self.mix else next(iter(self.mix))


@dataclass(frozen=True)
class _Run:
    """What every server of one run shares."""

    config: ServingConfig
    split: CoreSplit
    scratch: Path
    warnings: list[str]
    seed: Path | None = None


@dataclass
class Measurement:
    report: OpenLoopReport
    busy_cores: list[tuple[float, float]]
    memory: tuple[int, int] | None
    startup_s: float | None


def run_serving(config: ServingConfig, progress: Callable[[str], None] = lambda _: None) -> ServingDocument:
    split = split_cores()
    runs: dict[str, list[Measurement]] = {name: [] for name in config.models}
    failures: dict[str, str] = {}
    held: dict[str, float | None] = {}
    warnings: list[str] = []
    models = [MODEL_NAMED[name] for name in config.models]
    runnable = [m for m in models if m.available(config.app) is None]
    repeats = 1 if config.rate is None else config.repeats
    with tempfile.TemporaryDirectory(prefix="gilwise-serving-") as scratch:
        run = _Run(config, split, Path(scratch), warnings)
        if runnable and config.app == GILWISE_APP and config.seed_events:
            progress(f"seeding {config.seed_events:,} events")
            run = _Run(config, split, Path(scratch), warnings, _seed(run))
        for repeat in range(repeats):
            for model in runnable:
                if model.name in failures:
                    continue
                progress(f"{model.name} (repeat {repeat + 1} of {repeats})")
                try:
                    if config.rate is None:
                        rate, measured = _sweep(model, run)
                        held[model.name] = rate
                    else:
                        measured = _measure(model, run, config.rate)
                except GilwiseError as exc:
                    failures[model.name] = str(exc)
                    continue
                runs[model.name].append(measured)
    results = [_result(m, config, runs, failures, held) for m in models]
    document: ServingDocument = {
        "schema": SERVING_SCHEMA,
        "app": config.app,
        "machine": describe_machine(),
        "mix": dict(config.mix),
        "duration_s": config.duration_s,
        "repeats": repeats,
        "workers": config.workers,
        "cheap_route": config.cheap,
        "client": split.describe(),
        "gil_wait": GIL_WAIT_NOTE,
        "results": results,
        "verdict": "",
        "warnings": warnings,
    }
    document["verdict"] = verdict(document)
    return document


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _environment(model: ServingModel, run: _Run, folder: Path) -> dict[str, str]:
    config = run.config
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])
    path = [src, *([config.app_dir] if config.app_dir else []), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in path if p)
    if config.app == GILWISE_APP:
        env[DIR_ENV_VAR] = str(folder)
        if run.seed is not None:
            env[SEED_ENV_VAR] = str(run.seed)
        env[OFFLOAD_ENV_VAR] = model.offload or "inline"
        env[WORKERS_ENV_VAR] = str(config.workers)
    return env


@contextlib.contextmanager
def _server(model: ServingModel, run: _Run) -> Iterator[tuple[ServerProcess, str, Path]]:
    """The model's server, up with every worker; stopped whole when the block ends. Yields the
    server, its URL and its own scratch folder (where gilwise's app keeps its databases)."""
    config, port = run.config, _free_port()
    url = f"http://{HOST}:{port}/"
    folder = run.scratch / f"{model.name}-{port}"
    folder.mkdir()
    server = ServerProcess(
        model.argv(config.app, HOST, port, config.workers, folder),
        _environment(model, run, folder),
        folder / "server.log",
        run.split.server if run.split.pinned else None,
    )
    try:
        server.wait_ready(url + config.cheap.lstrip("/"))
        server.wait_members(model.processes(config.workers))
        yield server, url, folder
    finally:
        left = server.stop()
        if left:
            run.warnings.append(f"{model.name}: processes {left} outlived the server's process group")


@contextlib.contextmanager
def _ingest(config: ServingConfig, url: str, seconds: float) -> Iterator[None]:
    """A steady stream of ingest batches into gilwise's app while the block runs."""
    if config.app != GILWISE_APP or not config.ingest:
        yield
        return
    client = plans(url, ["ingest"], 1, duration_s=seconds, max_requests=10**9,
                   intervals={"ingest": INGEST_INTERVAL_S}, batch=config.ingest_batch)  # fmt: skip
    thread = threading.Thread(target=run_load, args=(client,), name="gilwise-serving-ingest", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join(timeout=seconds + 120)


def _seed(run: _Run) -> Path:
    """A database of ``seed_events`` events, written through one server of gilwise's app."""
    batches = -(-run.config.seed_events // SEED_BATCH)
    with _server(MODEL_NAMED[BASELINE], run) as (_, url, folder):
        run_load(plans(url, ["ingest"], 1, duration_s=SEED_TIMEOUT_S, max_requests=batches,
                       intervals={"ingest": 0.0}, batch=SEED_BATCH))  # fmt: skip
    found = sorted(folder.glob("events-*.duckdb"))
    if not found:
        raise GilwiseError(f"seeding wrote no database under {folder}")
    return found[0]


def _measure(model: ServingModel, run: _Run, rate: float) -> Measurement:
    config, split = run.config, run.split
    with _server(model, run) as (server, url, _):
        with _ingest(config, url, config.warmup_s + config.duration_s):
            run_open_loop(LoadSettings(url, config.mix, rate, config.warmup_s), split)
            server.start_sampling()
            report = run_open_loop(LoadSettings(url, config.mix, rate, config.duration_s), split)
            server.stop_sampling()
            memory = server.memory()
        return Measurement(report, list(server.busy_cores), memory, server.startup_s)


def _holds(report: OpenLoopReport, config: ServingConfig, rate: float) -> bool:
    cheap = report.routes[config.cheap]["p99_ms"]
    return (
        cheap is not None
        and cheap <= config.p99_bound_ms
        and report.errors == 0
        and report.throughput_rps >= ENOUGH_THROUGHPUT * rate  # the verdict's own bar
    )


def _sweep(model: ServingModel, run: _Run) -> tuple[float | None, Measurement]:
    """Double the rate until the cheap route's p99 passes the bound; the last rate that held."""
    rate, best_rate, best = SWEEP_FIRST_RPS, None, None
    while rate <= SWEEP_LAST_RPS:
        measured = _measure(model, run, rate)
        if not _holds(measured.report, run.config, rate):
            return best_rate, best or measured
        best_rate, best = rate, measured
        rate *= 2
    assert best is not None
    return best_rate, best


def _result(
    model: ServingModel,
    config: ServingConfig,
    runs: Mapping[str, Sequence[Measurement]],
    failures: Mapping[str, str],
    held: Mapping[str, float | None],
) -> ModelResult:
    reason = model.available(config.app) or failures.get(model.name)
    mine = runs[model.name]
    gilwise_app = config.app == GILWISE_APP
    result: ModelResult = {
        "model": model.name,
        "server": model.server,
        "workers": model.workers(config.workers),
        "offload": (model.offload or "inline") if gilwise_app else None,
        "status": "ok"
        if mine and reason is None
        else "unavailable"
        if model.available(config.app)
        else "failed",
        "reason": reason,
        "offered_rps": mine[0].report.offered_rps if mine else config.rate,
        "throughput_rps": _median([m.report.throughput_rps for m in mine]),
        "busy_cores": _median([statistics.fmean(b for _, b in m.busy_cores) for m in mine if m.busy_cores]),
        "busy_cores_over_time": mine[-1].busy_cores if mine else [],
        "uss_bytes": _median_int([m.memory[0] for m in mine if m.memory]),
        "pss_bytes": _median_int([m.memory[1] for m in mine if m.memory]),
        "startup_s": _median([m.startup_s for m in mine if m.startup_s is not None]),
        "late_sends": sum(m.report.late_sends for m in mine),
        "max_rate_held_rps": held.get(model.name),
        "routes": {path: _route(path, mine, runs.get(BASELINE, [])) for path in config.mix} if mine else {},
    }
    return result


def _route(path: str, mine: Sequence[Measurement], baseline: Sequence[Measurement]) -> RouteResult:
    figures = [m.report.routes[path] for m in mine]
    p99s = [f["p99_ms"] for f in figures if f["p99_ms"] is not None]
    interval = median_interval(p99s)
    ratios = [
        f["p99_ms"] / b.report.routes[path]["p99_ms"]  # type: ignore[operator]
        for f, b in zip(figures, baseline, strict=False)
        if f["p99_ms"] and b.report.routes[path]["p99_ms"]
    ]
    by_kind: dict[str, int] = {}
    for f in figures:
        for kind, n in f["errors_by_kind"].items():
            by_kind[kind] = by_kind.get(kind, 0) + n
    return {
        "p50_ms": _median([f["p50_ms"] for f in figures if f["p50_ms"] is not None]),
        "p90_ms": _median([f["p90_ms"] for f in figures if f["p90_ms"] is not None]),
        "p99_ms": _median(p99s),
        "p999_ms": _median([f["p999_ms"] for f in figures if f["p999_ms"] is not None]),
        "max_ms": max((f["max_ms"] for f in figures if f["max_ms"] is not None), default=None),
        "count": sum(f["count"] for f in figures),
        "errors": sum(by_kind.values()),
        "errors_by_kind": by_kind,
        "throughput_rps": statistics.median(f["throughput_rps"] for f in figures),
        "p99_ms_values": p99s,
        "p99_ms_interval": None if interval is None else [interval["low"], interval["high"]],
        "p99_ratio_vs_baseline": _median(ratios),
        "curve_ms": _median_curve([f["curve_ms"] for f in figures]),
    }


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _median_int(values: Sequence[int]) -> int | None:
    return round(statistics.median(values)) if values else None


def _median_curve(curves: Sequence[Sequence[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Point by point, the median latency at each percentile over the repeats."""
    if not curves:
        return []
    points = min(len(c) for c in curves)
    return [(curves[0][i][0], statistics.median(c[i][1] for c in curves)) for i in range(points)]
