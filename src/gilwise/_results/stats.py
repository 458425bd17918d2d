"""Small, exact statistics for a handful of repeats (no numpy: medians of 3–20 values).

Also the stability thresholds a run is judged by: the harness raises the warnings, the report
marks the cells, both read the same numbers from here.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from .document import ConfidenceInterval, Summary

SPREAD_WARN = 0.10
"""Repeats whose (max - min) / median reaches this are called unstable."""
OTHER_LOAD_WARN_CORES = 0.2
"""CPU used by other processes (or stolen) during a cell above this many cores is warned about."""
ORCHESTRATOR_WARN_CORES = 0.01
"""gilwise's own orchestrator above 1 % of a core during a cell is warned about: on 2 cores it
slows the parallel cells only, so it would bias every speedup downwards."""
CI_LEVEL = 0.95
"""The confidence asked of each paired speedup's interval."""
PRECISION = 0.10
"""A speedup whose interval reaches further than ±10 % of it is called uncertain."""
CI_METHOD = "sign test: order statistics of the paired ratios (distribution-free)"


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


def join_by_round(
    ids: Sequence[int], values: Sequence[float], other_ids: Sequence[int], other_values: Sequence[float]
) -> list[tuple[int, float, float]]:
    """(round, value, other value) for each round both cells were measured in, in ``ids``'
    order: the one way two cells' per-round figures are paired (speedups, ratios to the serial
    cell or the anchor loop). Empty when either side's ids do not match its values one to one
    (a document from before round ids were kept)."""
    if len(ids) != len(values) or len(other_ids) != len(other_values):
        return []
    other = dict(zip(other_ids, other_values, strict=True))
    return [(r, float(v), float(other[r])) for r, v in zip(ids, values, strict=True) if r in other]


def paired_ratios(baseline: Sequence[float | None], other: Sequence[float | None]) -> list[float]:
    """baseline[i] / other[i] for each round where both were measured (paired by round)."""
    return [b / o for b, o in zip(baseline, other, strict=False) if b and o]


def median_interval(values: Sequence[float], level: float = CI_LEVEL) -> ConfidenceInterval | None:
    """A distribution-free confidence interval for the median of ``values``.

    The sign-test (binomial) interval: [x(k), x(n-k+1)] of the sorted values covers the true
    median with probability 1 - 2 P(Binomial(n, 1/2) < k), whatever the distribution, so it
    holds for skewed, outlier-prone timings. The widest such k reaching ``level`` is used;
    below 6 values even [min, max] falls short of 95 % (n = 5: 93.75 %, n = 3: 75 %) and the
    interval says so in ``level``. None for fewer than 2 values.
    """
    n = len(values)
    if n < 2:
        return None
    ordered = sorted(values)
    k, achieved = 1, 1 - 2 * 0.5**n
    for candidate in range(2, n // 2 + 1):
        coverage = 1 - 2 * sum(math.comb(n, i) for i in range(candidate)) / 2**n
        if coverage < level:
            break
        k, achieved = candidate, coverage
    low, high = ordered[k - 1], ordered[n - k]
    mid = statistics.median(ordered)
    half = max(mid - low, high - mid) / mid if mid else math.inf
    return {
        "low": low,
        "high": high,
        "level": achieved,
        "target_level": level,
        "rounds": n,
        "half_width": half,
        "method": CI_METHOD,
    }


def uncertain(interval: ConfidenceInterval | None, precision: float = PRECISION) -> bool:
    """No interval (one round), or one reaching further than ``precision`` from the median."""
    return interval is None or interval["half_width"] > precision


def nearest_rank(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values by the nearest-rank method: a value that occurred (a
    latency p99 is never interpolated between two requests)."""
    if not ordered:
        raise ValueError("nearest_rank of no values")
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]
