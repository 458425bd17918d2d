"""Small, exact statistics for a handful of repeats (no numpy: medians of 3–20 values)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any


def summary(values: Sequence[float]) -> dict[str, Any]:
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
