"""Small, exact statistics for a handful of repeats (no numpy: medians of 3–20 values).

Also the stability thresholds a run is judged by: the harness raises the warnings, the report
marks the cells, both read the same numbers from here.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from .document import Summary

SPREAD_WARN = 0.10
"""Repeats whose (max - min) / median reaches this are called unstable."""
OTHER_LOAD_WARN_CORES = 0.2
"""CPU used by other processes (or stolen) during a cell above this many cores is warned about."""


def summary(values: Sequence[float]) -> Summary:
    """``{"median", "min", "max", "values"}`` as the result JSON stores them."""
    if not values:
        return {"median": None, "min": None, "max": None, "values": []}
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "values": list(values),
    }


def relative_spread(values: Sequence[float]) -> float:
    """(max - min) / median: 0.1 means the repeats disagree by 10 % of the median."""
    if len(values) < 2:
        return 0.0
    mid = statistics.median(values)
    return (max(values) - min(values)) / mid if mid else 0.0


def paired_ratios(baseline: Sequence[float | None], other: Sequence[float | None]) -> list[float]:
    """baseline[i] / other[i] for each round where both were measured (paired by round)."""
    return [b / o for b, o in zip(baseline, other, strict=False) if b and o]


def nearest_rank(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values by the nearest-rank method: a value that occurred (a
    latency p99 is never interpolated between two requests)."""
    if not ordered:
        raise ValueError("nearest_rank of no values")
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]
