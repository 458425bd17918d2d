"""Number formatting shared by the renderers."""

from __future__ import annotations

from .._results.document import ConfidenceInterval, ResultRow, Summary
from .._results.headline import headline_efficiency, headline_interval, headline_speedup, headline_uncertain


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} µs"


MIB = 1 << 20


def milliseconds(value: float | None) -> str:
    """A latency in ms, as many decimals as its size deserves (``—`` for none)."""
    if value is None:
        return "—"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def mebibytes(value: float | None) -> str:
    """Bytes as whole MiB, without the unit (the column header carries it)."""
    return "—" if value is None else f"{value / MIB:.0f}"


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


def spread(summary: Summary) -> str:
    """``median ±x %`` where x is half the min–max range relative to the median."""
    med, lo, hi = summary["median"], summary["min"], summary["max"]
    if med is None or lo is None or hi is None:
        return "—"
    half = (hi - lo) / 2 / med * 100 if med else 0.0
    return f"{seconds(med)} ±{half:.0f}%"


def paired(summary: Summary | None) -> str:
    if not summary:
        return "—"
    med, lo, hi = summary["median"], summary["min"], summary["max"]
    if med is None or lo is None or hi is None:
        return "—"
    return f"{med:.2f}× [{lo:.2f}–{hi:.2f}]"


def speedup_ci(rec: ResultRow) -> str:
    """``1.78× [1.70–1.85]``: the headline speedup and its interval (``_results.headline``)."""
    return speedup_text(headline_speedup(rec), headline_interval(rec), headline_uncertain(rec))


def interval_text(rec: ResultRow) -> str:
    """The part of ``speedup_ci`` after the figure (for a page that sets the figure in bold)."""
    return _interval_part(headline_interval(rec), headline_uncertain(rec))


def speedup_text(speedup: float | None, interval: ConfidenceInterval | None, uncertain: bool) -> str:
    """``1.78× [1.70–1.85]``, `` ?`` added when the interval stayed wider than ±10 %; ``1.78× ?``
    for a single round; ``1.00×`` for a serial row (the baseline has no interval)."""
    if speedup is None:
        return "—"
    rest = _interval_part(interval, uncertain)
    return f"{speedup:.2f}×" + (f" {rest}" if rest else "")


def _interval_part(interval: ConfidenceInterval | None, uncertain: bool) -> str:
    mark = "?" if uncertain else ""
    if interval is None:
        return mark
    text = f"[{interval['low']:.2f}–{interval['high']:.2f}]"
    return f"{text} {mark}" if mark else text


def efficiency(rec: ResultRow) -> str:
    """The headline per worker, as a percentage."""
    value = headline_efficiency(rec)
    return "—" if value is None else f"{value:.0%}"


def worker_memory(rec: ResultRow) -> str:
    """USS added per worker (what each worker alone holds); older files had only RSS."""
    figures = rec.get("memory_per_worker")
    if figures is not None and figures["uss_bytes"] is not None:
        return size_bytes(figures["uss_bytes"])
    rss = rec.get("memory_per_worker_bytes")
    return "—" if rss is None else f"{size_bytes(rss)} RSS"


def other_load(rec: ResultRow) -> str:
    """The worst other-process CPU of the rounds long enough to judge it, in cores."""
    load = rec.get("other_cpu_cores")
    if not load or load["max"] is None:
        return "n/a" if rec.get("other_cpu_note") else "—"
    return f"{load['max']:.2f}"
