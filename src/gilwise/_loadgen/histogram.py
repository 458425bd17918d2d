"""Latency histograms: HdrHistogram in microseconds, encoded to cross a pipe, merged per route.

A histogram keeps every value within 0.1 % at a fixed memory cost, so a client records each
response without keeping a list, and the coordinator merges clients exactly (percentiles of
merged histograms, never an average of percentiles)."""

from __future__ import annotations

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 600_000_000
"""Ten minutes: above any request timeout, so no response is out of range."""
SIGNIFICANT_DIGITS = 3
CURVE_PERCENTILES = (0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 100.0)
"""The points of a latency-percentile curve (the HdrHistogram plot's x axis)."""


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def record_seconds(histogram: HdrHistogram, seconds: float) -> None:
    histogram.record_value(min(HIGHEST_US, max(LOWEST_US, round(seconds * 1e6))))


def encode(histogram: HdrHistogram) -> str:
    return bytes(histogram.encode()).decode("ascii")


def merged(encoded: list[str]) -> HdrHistogram:
    total = new_histogram()
    for text in encoded:
        total.decode_and_add(text.encode("ascii"))
    return total


def percentile_ms(histogram: HdrHistogram, percentile: float) -> float | None:
    if histogram.get_total_count() == 0:
        return None
    if percentile >= 100.0:
        return float(histogram.get_max_value()) / 1000
    return float(histogram.get_value_at_percentile(percentile)) / 1000


def curve_ms(histogram: HdrHistogram) -> list[tuple[float, float]]:
    """(percentile, latency ms) at ``CURVE_PERCENTILES``; empty for an empty histogram."""
    points = []
    for p in CURVE_PERCENTILES:
        value = percentile_ms(histogram, p)
        if value is not None:
            points.append((p, value))
    return points
