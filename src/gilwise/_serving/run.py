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
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .._exceptions import GilwiseError
from .._harness.machine import describe_machine
from .._loadgen.coordinator import (
    CoreSplit,
    LoadSettings,
    OpenLoopReport,
    PacedRoute,
    run_open_loop,
    split_cores,
)
from .._results.stats import median_interval
from .._service.asgi_settings import DIR_ENV_VAR, OFFLOAD_ENV_VAR, SEED_ENV_VAR, WORKERS_ENV_VAR
from .._service.load_client import ingest_bodies
from .._service.loadgen import plans, run_load
from .._system import usable_cores
from .document import SERVING_SCHEMA, IngestResult, ModelResult, RouteResult, ServingDocument, SweepStep
from .models import BASELINE, GILWISE_APP, MODEL_NAMED, MODELS, ServingModel
from .server import ServerProcess
from .verdict import ENOUGH_THROUGHPUT, verdict

HOST = "127.0.0.1"
SWEEP_FIRST_RPS = 10.0
SWEEP_LAST_RPS = 5120.0
OTHER_LOAD_CORES = 0.2
"""Busy cores of other processes above which a measurement is called noisy (as ``bench``)."""
SEED_BATCH = 1000
SEED_TIMEOUT_S = 300.0
INGEST_PATH = "/events"
GIL_WAIT_NOTE = (
    "per model: Granian's own metric (py_wait: time its threads waited to take the GIL), in "
    "seconds of wait per second of load, summed over workers; the other servers report none"
)
NO_GIL_WAIT = (
    "{server} reports no GIL wait, and sampling it from outside (py-spy) would take CPU from the "
    "cores the server is measured on"
)


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
    ingest_batch: int = 500
    """gilwise's own app: events per ingest batch, posted open-loop at ``ingest_rate`` by the
    load's own client processes through warm-up and measurement (0: no ingest)."""
    ingest_rate: float = 10.0
    """Ingest batches per second, apart from ``rate`` (the mix's)."""
    sweep_rates: tuple[float, float] = (SWEEP_FIRST_RPS, SWEEP_LAST_RPS)
    """``--rate sweep``: the first rate tried and the highest (each step doubles)."""
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
    gil_wait: float | None
    """Seconds the server's threads waited for the GIL per second of load (Granian only)."""
    other_cores: float | None
    """Busy cores of the machine that were neither the server's tree nor the load's clients."""


@dataclass
class _Sweep:
    """One model's sweep: the measurement at each rate tried, and the highest rate it held."""

    steps: dict[float, Measurement] = field(default_factory=dict)
    held_rps: float | None = None


def run_serving(config: ServingConfig, progress: Callable[[str], None] = lambda _: None) -> ServingDocument:
    split = split_cores()
    runs: dict[str, list[Measurement]] = {name: [] for name in config.models}
    failures: dict[str, str] = {}
    sweeps: dict[str, _Sweep] = {}
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
                        sweeps[model.name] = _sweep(model, run)
                        measured = _reported(sweeps[model.name])
                    else:
                        measured = _measure(model, run, config.rate)
                except GilwiseError as exc:
                    failures[model.name] = str(exc)
                    continue
                runs[model.name].append(measured)
    results = [_result(m, config, runs, failures, sweeps) for m in models]
    warnings += _noise_warnings(results, split)
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


def _noise_warnings(results: Sequence[ModelResult], split: CoreSplit) -> list[str]:
    """Say when the load or someone else took cores the servers were measured on."""
    said = []
    noisy = [r for r in results if (r["other_cores"] or 0.0) > OTHER_LOAD_CORES]
    if noisy:
        worst = max(noisy, key=lambda r: r["other_cores"] or 0.0)
        said.append(
            f"other processes kept {worst['other_cores']:.2f} cores busy while {worst['model']} was "
            f"measured ({len(noisy)} model(s) above {OTHER_LOAD_CORES:g}): their latencies include "
            "that noise; rerun on a quieter machine, or with more --repeats"
        )
    client = max((r["client_cores"] or 0.0 for r in results), default=0.0)
    if not split.pinned and client > OTHER_LOAD_CORES:
        said.append(
            f"the load's own clients used up to {client:.2f} cores on the server's cores "
            "(too few cores to pin them apart)"
        )
    return said


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
    metrics_port = _free_port() if model.reports_gil_wait else None
    url = f"http://{HOST}:{port}/"
    folder = run.scratch / f"{model.name}-{port}"
    folder.mkdir()
    server = ServerProcess(
        model.argv(config.app, HOST, port, config.workers, folder, metrics_port),
        _environment(model, run, folder),
        folder / "server.log",
        run.split.server if run.split.pinned else None,
        None if metrics_port is None else f"http://{HOST}:{metrics_port}/metrics",
    )
    try:
        server.wait_ready(url + config.cheap.lstrip("/"))
        server.wait_members(model.processes(config.workers))
        yield server, url, folder
    finally:
        left = server.stop()
        if left:
            run.warnings.append(f"{model.name}: processes {left} outlived the server's process group")


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


def _ingest(config: ServingConfig) -> tuple[PacedRoute, ...]:
    """gilwise's app with ingest running: batches at a fixed rate, sent by the load's client
    processes (pinned with them), open loop like the mix."""
    if config.app != GILWISE_APP or not config.ingest_batch or not config.ingest_rate:
        return ()
    bodies = ingest_bodies(config.ingest_batch, seed=0, now=time.time())
    return (
        PacedRoute(INGEST_PATH, config.ingest_rate, tuple(b.decode() for b in bodies), config.ingest_batch),
    )


def _measure(model: ServingModel, run: _Run, rate: float) -> Measurement:
    config, split = run.config, run.split
    ingest = _ingest(config)
    with _server(model, run) as (server, url, _):
        run_open_loop(LoadSettings(url, config.mix, rate, config.warmup_s, paced=ingest), split)
        gil_before = server.gil_wait_s()
        server.start_sampling()
        report = run_open_loop(LoadSettings(url, config.mix, rate, config.duration_s, paced=ingest), split)
        server.stop_sampling()
        gil_after = server.gil_wait_s()
        memory = server.memory()
        gil_wait = (
            None if gil_before is None or gil_after is None else (gil_after - gil_before) / report.duration_s
        )
        other = _other_cores(server, report)
        return Measurement(report, list(server.busy_cores), memory, server.startup_s, gil_wait, other)


def _other_cores(server: ServerProcess, report: OpenLoopReport) -> float | None:
    machine = server.machine_busy_cores
    if machine is None or not server.busy_cores:
        return None
    return max(0.0, machine - statistics.fmean(b for _, b in server.busy_cores) - report.client_cores)


def _holds(report: OpenLoopReport, config: ServingConfig, rate: float) -> bool:
    cheap = report.routes[config.cheap]["p99_ms"]
    return (
        cheap is not None
        and cheap <= config.p99_bound_ms
        and report.errors == 0
        and report.throughput_rps >= ENOUGH_THROUGHPUT * rate  # the verdict's own bar
    )


def _sweep(model: ServingModel, run: _Run) -> _Sweep:
    """Double the rate until the cheap route's p99 passes the bound (or the model falls
    behind); every step is kept, so that models are compared at the same offered rate."""
    first, last = run.config.sweep_rates
    sweep, rate = _Sweep(), first
    while rate <= last:
        measured = _measure(model, run, rate)
        sweep.steps[rate] = measured
        if not _holds(measured.report, run.config, rate):
            break
        sweep.held_rps = rate
        rate *= 2
    return sweep


def _reported(sweep: _Sweep) -> Measurement:
    """The row a sweep shows: the step at the highest rate held, else its first step."""
    return sweep.steps[sweep.held_rps if sweep.held_rps is not None else min(sweep.steps)]


def _result(
    model: ServingModel,
    config: ServingConfig,
    runs: Mapping[str, Sequence[Measurement]],
    failures: Mapping[str, str],
    sweeps: Mapping[str, _Sweep],
) -> ModelResult:
    reason = model.available(config.app) or failures.get(model.name)
    mine = runs[model.name]
    gilwise_app = config.app == GILWISE_APP
    pairs, ratio_rate = _baseline_pairs(model.name, runs, sweeps)
    gil_waits = [m.gil_wait for m in mine if m.gil_wait is not None]
    sweep = sweeps.get(model.name)
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
        "client_cores": _median([m.report.client_cores for m in mine]),
        "other_cores": _median([m.other_cores for m in mine if m.other_cores is not None]),
        "gil_wait_s_per_s": _median(gil_waits),
        "gil_wait_source": "Granian's metrics (granian_py_wait_cumulative)"
        if model.reports_gil_wait and gil_waits
        else "Granian's metrics exporter did not answer"
        if model.reports_gil_wait
        else NO_GIL_WAIT.format(server=model.server),
        "ingest": _ingest_result(mine),
        "max_rate_held_rps": None if sweep is None else sweep.held_rps,
        "sweep": [] if sweep is None else [_step(rate, m, config) for rate, m in sorted(sweep.steps.items())],
        "routes": {path: _route(path, mine, pairs, ratio_rate) for path in config.mix} if mine else {},
    }
    return result


def _baseline_pairs(
    name: str, runs: Mapping[str, Sequence[Measurement]], sweeps: Mapping[str, _Sweep]
) -> tuple[list[tuple[Measurement, Measurement]], float | None]:
    """(this model's, the baseline's) measurements to divide, at one offered rate, and that rate.

    A fixed rate: round by round. A sweep: the rate of this model's row when the baseline was
    measured there too, else the highest rate both were measured at (a p99 at 80 requests/s over
    one at 10 would compare rates, not models)."""
    if name not in sweeps:
        pairs = list(zip(runs[name], runs.get(BASELINE, []), strict=False))
        rates = {m.report.offered_rps for m, _ in pairs}
        return pairs, next(iter(rates)) if len(rates) == 1 else None
    mine, base = sweeps[name], sweeps.get(BASELINE)
    common = set(mine.steps) & set(base.steps) if base is not None else set()
    if not common:
        return [], None
    shown = _reported(mine).report.offered_rps
    rate = shown if shown in common else max(common)
    return [(mine.steps[rate], base.steps[rate])], rate  # type: ignore[union-attr]


def _step(rate: float, measured: Measurement, config: ServingConfig) -> SweepStep:
    cheap = measured.report.routes[config.cheap]
    return {
        "offered_rps": rate,
        "throughput_rps": measured.report.throughput_rps,
        "cheap_p99_ms": cheap["p99_ms"],
        "errors": measured.report.errors,
        "held": _holds(measured.report, config, rate),
    }


def _ingest_result(mine: Sequence[Measurement]) -> IngestResult | None:
    streams = [m.report.paced[INGEST_PATH] for m in mine if INGEST_PATH in m.report.paced]
    if not streams:
        return None
    return {
        "offered_batches_per_s": streams[0]["offered_rps"],
        "batches_per_s": statistics.median(s["throughput_rps"] for s in streams),
        "events_per_s": statistics.median(s["items_per_s"] for s in streams),
        "p99_ms": _median([s["p99_ms"] for s in streams if s["p99_ms"] is not None]),
        "errors": sum(s["errors"] for s in streams),
    }


def _route(
    path: str,
    mine: Sequence[Measurement],
    pairs: Sequence[tuple[Measurement, Measurement]],
    rate: float | None,
) -> RouteResult:
    figures = [m.report.routes[path] for m in mine]
    p99s = [f["p99_ms"] for f in figures if f["p99_ms"] is not None]
    interval = median_interval(p99s)
    ratios = []
    for m, b in pairs:
        p99, base_p99 = m.report.routes[path]["p99_ms"], b.report.routes[path]["p99_ms"]
        if p99 and base_p99:
            ratios.append(p99 / base_p99)
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
        "p99_ratio_at_rps": rate if ratios else None,
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
