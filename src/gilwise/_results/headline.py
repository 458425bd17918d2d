"""The headline speedup of a result row: the one figure every renderer prints, defined once.

The headline is the median of the per-round paired ratios (the serial cell's wall time ÷ this
cell's, in the same round), with the sign-test interval of that median beside it (DESIGN,
"Measuring on a noisy machine": a serial time from minute 1 over a parallel time from minute 3
is noise). The harness writes it as the row's ``speedup``, its interval as ``speedup_ci`` and
``efficiency`` = ``speedup`` / workers; the ratio of the two medians is kept, under the name
``speedup_of_medians``, for readers of the raw JSON only.

Documents written before this contract stored the ratio of medians as ``speedup``; they are
told apart by the absence of ``speedup_of_medians``. For them the headline is read from
``speedup_paired`` (the same per-round ratios) and its interval computed from those ratios with
the harness's own function, so an old file renders the figure a new one would have stored.

Renderers (terminal, HTML, plots, classic table, compare, interpreters, dashboard) read a row's
speedup, interval, uncertainty and efficiency only through the accessors below.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from .document import ConfidenceInterval, ResultRow
from .stats import median_interval, uncertain

CURRENT_MARKER = "speedup_of_medians"
"""The field whose presence says ``speedup`` already is the headline (rows written since)."""


def paired_headline(ratios: Sequence[float]) -> float | None:
    """The headline from a cell's paired ratios: their median (None without any)."""
    return statistics.median(ratios) if ratios else None


def paired_interval(ratios: Sequence[float]) -> ConfidenceInterval | None:
    """The interval printed beside the headline: the sign-test interval of the ratios' median."""
    return median_interval(ratios)


def _is_serial(row: ResultRow) -> bool:
    return row["model"] == "serial"


def headline_speedup(row: ResultRow) -> float | None:
    """The row's speedup over the serial cell of its group, as every renderer prints it."""
    if CURRENT_MARKER in row:
        return row["speedup"]
    pairs = row.get("speedup_paired")
    if pairs and pairs["median"] is not None:
        return pairs["median"]
    # Older still: no per-round ratios were kept, the ratio of medians is all there is.
    return row.get("speedup")


def headline_interval(row: ResultRow) -> ConfidenceInterval | None:
    """Where the headline lies (it always lies inside); None for serial rows and single rounds."""
    if _is_serial(row) or headline_speedup(row) is None:
        return None
    if "speedup_ci" in row:
        return row["speedup_ci"]
    pairs = row.get("speedup_paired")
    return paired_interval(pairs["values"]) if pairs else None


def headline_uncertain(row: ResultRow) -> bool:
    """The interval reaches further than ±10 % (``stats.PRECISION``), or there is none."""
    if _is_serial(row) or headline_speedup(row) is None:
        return False
    stored = row.get("speedup_uncertain")
    return stored if stored is not None else uncertain(headline_interval(row))


def headline_efficiency(row: ResultRow) -> float | None:
    """The headline per worker (1.0 = every worker as fast as the serial cell)."""
    speedup = headline_speedup(row)
    return None if speedup is None or not row["workers"] else speedup / row["workers"]
