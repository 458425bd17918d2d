"""The checks every route's latency figures pass, in ``gilwise.load/2`` and ``gilwise.serving/1``."""

from __future__ import annotations

from collections.abc import Mapping

PERCENTILES = ("p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms")


def assert_clean_route(figures: Mapping[str, object]) -> None:
    """Answered without an error, and its percentiles in order (p50 <= ... <= max)."""
    assert figures["errors"] == 0 and figures["count"] > 0, figures  # type: ignore[operator]
    values = [figures[name] for name in PERCENTILES]
    assert values == sorted(values), values  # type: ignore[type-var]
