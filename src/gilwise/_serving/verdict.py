"""The verdict line: which model to run this app with on this machine, and why, in the
article's words (one core busy while the others idle, or every core at work)."""

from __future__ import annotations

from .document import ModelResult, ServingDocument
from .models import BASELINE

ENOUGH_THROUGHPUT = 0.95
"""A model that answers less than this share of the offered rate is falling behind: excluded."""


def _cheap_p99(result: ModelResult, route: str) -> float | None:
    figures = result["routes"].get(route)
    return None if figures is None else figures["p99_ms"]


def _keeps_up(result: ModelResult) -> bool:
    offered, achieved = result["offered_rps"], result["throughput_rps"]
    return (
        result["status"] == "ok"
        and offered is not None
        and achieved is not None
        and achieved >= ENOUGH_THROUGHPUT * offered
        and not any(r["errors"] for r in result["routes"].values())
    )


def verdict(document: ServingDocument) -> str:
    route = document["cheap_route"]
    cores = document["machine"]["usable_cores"]
    measured = [r for r in document["results"] if r["status"] == "ok" and _cheap_p99(r, route) is not None]
    if not measured:
        return "No verdict: no model was measured (see each row's reason)."
    candidates = [r for r in measured if _keeps_up(r)] or measured
    best = min(candidates, key=lambda r: _cheap_p99(r, route) or float("inf"))
    best_p99 = _cheap_p99(best, route)
    assert best_p99 is not None
    busy = best["busy_cores"] or 0.0
    spread = "every core at work" if busy >= 0.75 * cores else f"{busy:.1f} of {cores} cores busy"
    line = f"Run this app with {best['model']} on this machine: {route} p99 {best_p99:.1f} ms with {spread}"
    baseline = next((r for r in measured if r["model"] == BASELINE), None)
    if baseline is not None and baseline is not best:
        base_p99 = _cheap_p99(baseline, route)
        base_busy = baseline["busy_cores"] or 0.0
        if base_p99:
            line += (
                f", against {base_p99:.1f} ms ({base_p99 / best_p99:.1f}x worse) for one uvicorn "
                f"process, where {base_busy:.1f} core{'s' if round(base_busy, 1) != 1 else ''} did the work"
            )
    if not _keeps_up(best):
        line += "; no model kept up with the offered rate: lower --rate or use --rate sweep"
    multi = [r for r in measured if r["workers"] > 1 and r is not best and _cheap_p99(r, route)]
    if multi:
        worst = max(multi, key=lambda r: _cheap_p99(r, route) or 0.0)
        line += (
            f". Multi-process {worst['model']}: {route} p99 {_cheap_p99(worst, route):.1f} ms, "
            "since a worker busy with a heavy request still delays the cheap one that lands on it"
        )
    return line + "."
