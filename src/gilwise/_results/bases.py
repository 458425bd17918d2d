"""What a row is judged on, its basis: the per-round values compare tests, in both runs.

A parallel row: its wall time over the serial cell of the same round ("relative to serial").
A serial row of a ``bench --anchor`` run: its wall time over the anchor loop of the same round
("relative to anchor"). Else wall times ("wall"), per unit of work where calibration gave the
runs different work. A CPU-bound parallel row is also judged on its wall time per CPU second of
its workers ("per CPU second"). Ratios within a round cancel the machine's speed drift between
runs (DESIGN.md, "Measuring on a noisy machine"); wall times do not.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from .causes import work_per_cell
from .document import ResultRow


@dataclass(frozen=True)
class TestedValues:
    """The per-round values a row is judged on, what they are, and what to say about it."""

    before: list[float]
    after: list[float]
    basis: str
    note: str = ""


def measured(rec: ResultRow) -> bool:
    return rec["status"] == "ok" and bool(rec["wall_s"]["values"])


def relative_to_serial(rec: ResultRow, serial: ResultRow | None) -> list[float] | None:
    """Each round's wall time over the serial cell's of the same round (rounds both measured).

    None without a measured serial row or round ids (documents from before they were kept)."""
    if serial is None or not measured(serial) or rec["model"] == "serial":
        return None
    ids, values = rec.get("round_ids"), rec["wall_s"]["values"]
    serial_ids = serial.get("round_ids")
    if not ids or not serial_ids or len(ids) != len(values):
        return None
    if len(serial_ids) != len(serial["wall_s"]["values"]):
        return None
    by_round = dict(zip(serial_ids, serial["wall_s"]["values"], strict=True))
    out = [float(v) / by_round[r] for r, v in zip(ids, values, strict=True) if by_round.get(r, 0) > 0]
    return out or None


def relative_to_anchor(rec: ResultRow) -> list[float] | None:
    """A serial row's wall time per unit of work over the anchor loop's time in the same round
    (rounds both measured); None without an anchor (runs without ``bench --anchor``)."""
    anchor, ids = rec.get("anchor_s"), rec.get("round_ids")
    anchor_ids, values = rec.get("anchor_round_ids"), rec["wall_s"]["values"]
    if not anchor or not ids or not anchor_ids or len(ids) != len(values):
        return None
    if len(anchor_ids) != len(anchor["values"]):
        return None
    by_round = dict(zip(anchor_ids, anchor["values"], strict=True))
    work = work_per_cell(rec)
    out = [float(v) / by_round[r] / work for r, v in zip(ids, values, strict=True) if by_round.get(r, 0) > 0]
    return out or None


def tested_values(
    a: ResultRow, b: ResultRow, serial_a: ResultRow | None, serial_b: ResultRow | None
) -> TestedValues:
    """Each round relative to its serial cell (a serial row: to the anchor loop) where both runs
    allow, else wall times (per unit of work where the runs' calibration gave the cells
    different work)."""
    relative_a, relative_b = relative_to_serial(a, serial_a), relative_to_serial(b, serial_b)
    if relative_a and relative_b:
        # Dimensionless, so also fair when calibration gave the runs different work per cell.
        return TestedValues(relative_a, relative_b, "relative to serial")
    anchored_a, anchored_b = relative_to_anchor(a), relative_to_anchor(b)
    if anchored_a and anchored_b:
        # The machine's speed in the same round, measured by a loop that never changes: what it
        # cannot tell apart is a change that slows that loop too (another interpreter, say).
        return TestedValues(anchored_a, anchored_b, "relative to anchor")
    before = [float(v) for v in a["wall_s"]["values"]]
    after = [float(v) for v in b["wall_s"]["values"]]
    work_a, work_b = work_per_cell(a), work_per_cell(b)
    if work_a == work_b:
        return TestedValues(before, after, "wall")
    # Calibration sizes cells to this machine's speed at the time: the same row can do more
    # work in one run than in the other. Compare time per unit of work, and say so.
    note = (
        f"different work per cell (A {a.get('tasks')}×{a.get('size')}, "
        f"B {b.get('tasks')}×{b.get('size')} "
        f"{a.get('size_unit', 'units')}): compared per unit of work; pin --size for like-for-like runs"
    )
    return TestedValues([v / work_a for v in before], [v / work_b for v in after], "wall", note)


CPU_BOUND_CORES = 0.8
"""A cell is CPU-bound (its wall time per CPU second means something) when its workers kept at
least this many cores busy on average."""


def per_cpu_values(a: ResultRow, b: ResultRow) -> TestedValues | None:
    """A CPU-bound parallel row's wall time per CPU second of its workers, round by round, in
    both runs; None for serial rows, rows without CPU times or cells that mostly wait."""
    if a["model"] == "serial" or "cpu_s" not in a or "cpu_s" not in b:
        return None

    def per_round(rec: ResultRow) -> list[float] | None:
        walls, cpus = rec["wall_s"]["values"], rec["cpu_s"]["values"]
        if len(walls) != len(cpus) or not walls or min(cpus) <= 0:
            return None
        if statistics.median(cpus) / statistics.median(walls) < CPU_BOUND_CORES:
            return None
        return [float(w) / float(c) for w, c in zip(walls, cpus, strict=True)]

    before, after = per_round(a), per_round(b)
    if before is None or after is None:
        return None
    return TestedValues(before, after, "per CPU second")
