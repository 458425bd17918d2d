"""Number formatting shared by the renderers."""

from __future__ import annotations

from typing import Any


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} µs"


def ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def size_bytes(value: float | None) -> str:
    if value is None:
        return "—"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def spread(summary: dict[str, Any]) -> str:
    """``median ±x %`` where x is half the min–max range relative to the median."""
    med, lo, hi = summary.get("median"), summary.get("min"), summary.get("max")
    if med is None or lo is None or hi is None:
        return "—"
    half = (hi - lo) / 2 / med * 100 if med else 0.0
    return f"{seconds(med)} ±{half:.0f}%"


def paired(summary: dict[str, Any] | None) -> str:
    if not summary or summary.get("median") is None:
        return "—"
    return f"{summary['median']:.2f}× [{summary['min']:.2f}–{summary['max']:.2f}]"


def shown_speedup(rec: dict[str, Any]) -> float | None:
    """The speedup people read: the median of the per-round paired ratios (DESIGN, "Measuring on
    a noisy machine"); the JSON's ``speedup`` (ratio of medians) only when no pairs exist."""
    paired = (rec.get("speedup_paired") or {}).get("median")
    return float(paired) if paired is not None else rec.get("speedup")
