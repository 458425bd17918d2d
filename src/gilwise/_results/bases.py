"""What a row is judged on, its basis, and from which of its rounds.

One basis per row, fixed before any value is looked at (so the family counts rows, not rows ×
fallbacks): a parallel row's wall time over the serial cell of the same round ("relative to
serial"); else a serial row of a ``bench --anchor`` run, its wall time over the anchor loop of
the same round ("relative to anchor"); else its wall time per unit of work ("wall"). Ratios
within a round cancel the machine's speed phases (DESIGN.md, "Measuring on a noisy machine");
wall times do not.

Only *quiet* rounds are used: those in which the row's noise guard (and, for a ratio, the
reference cell's) measured at most ``OTHER_LOAD_WARN_CORES`` of other processes. On the 2-core
machine of issue 28's stored runs, over half of the parallel rounds ran beside ≥ 0.4 cores of
other load: their ratio to serial sat at 0.86–0.90 instead of 0.51–0.53 and spread ±27 % (one
sd of the log) instead of ±3–5 %, so a same-code pair moved by ±40 % and no test could see a
25 % slowdown through them. Which rounds are quiet is measured outside the worker tree, not
from the times tested, so dropping the others biases nothing. Rows that mostly wait (``kind``
"io") are not slowed by other processes' CPU and keep every round; documents without per-round
load figures keep every round too.
"""

from __future__ import annotations

from dataclasses import dataclass

from .causes import work_per_cell
from .document import ResultRow
from .significance import TOLERANCE
from .stats import OTHER_LOAD_WARN_CORES, join_by_round

BASES = ("relative to serial", "relative to anchor", "wall")
"""Every basis, in the order a row is given the first both runs allow."""


@dataclass(frozen=True)
class RoundValues:
    """One run's values of a row on a basis, from its quiet rounds."""

    values: list[float]
    rounds: int
    """How many rounds the row was measured in, quiet or not (``len(values)`` of them quiet)."""


def measured(rec: ResultRow) -> bool:
    return rec["status"] == "ok" and bool(rec["wall_s"]["values"])


def quiet_rounds(rec: ResultRow) -> set[int] | None:
    """The round ids in which other processes used at most ``OTHER_LOAD_WARN_CORES`` beside the
    row; None when every round counts (a row that waits, or no per-round load recorded)."""
    ids, load = rec.get("round_ids"), rec.get("other_cpu_cores")
    if rec.get("kind") == "io" or not ids or not load or len(load["values"]) != len(ids):
        return None
    return {
        r for r, cores in zip(ids, load["values"], strict=True) if cores <= OTHER_LOAD_WARN_CORES + TOLERANCE
    }


def _kept(round_id: int, *quiet: set[int] | None) -> bool:
    return all(q is None or round_id in q for q in quiet)


def _round_ids(rec: ResultRow) -> list[int]:
    """The row's round ids, or one per repeat in order for documents from before they were kept."""
    ids = rec.get("round_ids")
    return list(ids) if ids else list(range(len(rec["wall_s"]["values"])))


def values_on(rec: ResultRow, serial: ResultRow | None, basis: str) -> RoundValues | None:
    """The row's values on ``basis`` from its quiet rounds, or None where this run cannot give
    that basis (no serial row or round ids, no anchor)."""
    if not measured(rec):
        return None
    walls = [float(v) for v in rec["wall_s"]["values"]]
    quiet = quiet_rounds(rec)
    if basis == "relative to serial":
        if serial is None or not measured(serial) or rec["model"] == "serial" or not rec.get("round_ids"):
            return None
        reference = serial.get("round_ids") or []
        joined = join_by_round(rec["round_ids"], walls, reference, serial["wall_s"]["values"])
        both = quiet_rounds(serial)
        ratios = [v / s for r, v, s in joined if s > 0 and _kept(r, quiet, both)]
        return RoundValues(ratios, len(joined)) if joined else None
    if basis == "relative to anchor":
        anchor, anchor_ids = rec.get("anchor_s"), rec.get("anchor_round_ids")
        if not anchor or not anchor_ids or not rec.get("round_ids"):
            return None
        joined = join_by_round(rec["round_ids"], walls, anchor_ids, anchor["values"])
        work = work_per_cell(rec)
        ratios = [v / t / work for r, v, t in joined if t > 0 and _kept(r, quiet)]
        return RoundValues(ratios, len(joined)) if joined else None
    work = work_per_cell(rec)
    kept = [v / work for r, v in zip(_round_ids(rec), walls, strict=True) if _kept(r, quiet)]
    return RoundValues(kept, len(walls))


@dataclass(frozen=True)
class TestedValues:
    """Both runs' values of a row on the basis it is judged on, and what to say about it."""

    before: RoundValues
    after: RoundValues
    basis: str
    note: str = ""


def tested_values(
    a: ResultRow, b: ResultRow, serial_a: ResultRow | None, serial_b: ResultRow | None
) -> TestedValues:
    """The row's values in both runs on the first of ``BASES`` both allow ("wall" always does)."""
    for basis in BASES:
        before, after = values_on(a, serial_a, basis), values_on(b, serial_b, basis)
        if before is not None and after is not None:
            break
    assert before is not None and after is not None  # "wall" exists for every measured row
    note = ""
    if basis == "wall" and work_per_cell(a) != work_per_cell(b):
        # Calibration sizes cells to this machine's speed at the time: the same row can do more
        # work in one run than in the other. Compared per unit of work, and said so.
        note = (
            f"different work per cell (A {a.get('tasks')}×{a.get('size')}, "
            f"B {b.get('tasks')}×{b.get('size')} "
            f"{a.get('size_unit', 'units')}): compared per unit of work; pin --size for like-for-like runs"
        )
    return TestedValues(before, after, basis, note)


def dropped_rounds_note(tested: TestedValues) -> str:
    """Which rounds the row was judged on, where other load left some out ("" where none)."""
    a, b = tested.before, tested.after
    if len(a.values) == a.rounds and len(b.values) == b.rounds:
        return ""
    return (
        f"judged on the {len(a.values)} of A's {a.rounds} and {len(b.values)} of B's {b.rounds} "
        f"rounds run beside ≤ {OTHER_LOAD_WARN_CORES:g} cores of other processes"
    )
