"""The ``gilwise.serving/1`` document: what scripts read (add fields freely, keep these)."""

from __future__ import annotations

from typing import TypedDict

from .._loadgen.coordinator import RouteFigures
from .._results.document import Machine

SERVING_SCHEMA = "gilwise.serving/1"


class RouteResult(RouteFigures):
    """Medians over the repeats (counts and errors: sums, max: the largest); ``p99_ms_interval``
    the sign-test interval of the median p99."""

    p99_ms_values: list[float]
    p99_ms_interval: list[float] | None
    p99_ratio_vs_baseline: float | None
    """Median over rounds of (this model's p99 / the baseline's p99 in the same round), both at
    the same offered rate (``p99_ratio_at_rps``; a sweep picks the rate, see ``run``)."""
    p99_ratio_at_rps: float | None


class IngestResult(TypedDict):
    """gilwise's app: the ingest stream the load's clients posted beside the mix (medians)."""

    offered_batches_per_s: float
    batches_per_s: float
    events_per_s: float
    p99_ms: float | None
    errors: int


class SweepStep(TypedDict):
    """One rate of ``--rate sweep``: what the model did there, and whether it held."""

    offered_rps: float
    throughput_rps: float
    cheap_p99_ms: float | None
    errors: int
    held: bool


class ModelResult(TypedDict):
    model: str
    server: str
    workers: int
    offload: str | None
    status: str
    """ok | unavailable | failed"""
    reason: str | None
    offered_rps: float | None
    throughput_rps: float | None
    busy_cores: float | None
    """Mean busy cores of the server's whole tree while the load ran (1.0 = one core)."""
    busy_cores_over_time: list[tuple[float, float]]
    uss_bytes: int | None
    pss_bytes: int | None
    startup_s: float | None
    late_sends: int
    client_cores: float | None
    """Cores the load's client processes kept busy (shared with the server when not pinned)."""
    other_cores: float | None
    """Busy cores of the rest of the machine (neither server nor load): noise when above 0.2."""
    gil_wait_s_per_s: float | None
    """Seconds the server's threads waited for the GIL per second of load, summed over workers."""
    gil_wait_source: str
    """Where ``gil_wait_s_per_s`` comes from, or why it is null for this model."""
    ingest: IngestResult | None
    max_rate_held_rps: float | None
    """``--rate sweep``: the highest rate at which the cheap route's p99 stayed under the bound."""
    sweep: list[SweepStep]
    routes: dict[str, RouteResult]


class ServingDocument(TypedDict):
    schema: str
    app: str
    machine: Machine
    mix: dict[str, float]
    duration_s: float
    repeats: int
    workers: int
    cheap_route: str
    client: str
    """Where the load client ran (pinned cores, or shared with the server and why)."""
    gil_wait: str
    results: list[ModelResult]
    verdict: str
    warnings: list[str]
