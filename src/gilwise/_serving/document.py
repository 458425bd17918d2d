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
    """Median over rounds of (this model's p99 / the baseline's p99 in the same round)."""


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
    max_rate_held_rps: float | None
    """``--rate sweep``: the highest rate at which the cheap route's p99 stayed under the bound."""
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
