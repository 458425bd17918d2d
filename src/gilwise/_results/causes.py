"""Why a slowdown may be the machine's, not the code's: the explanations compare checks first.

On this 2-vCPU VM a row can get slower with the code unchanged: other processes beside B's
rounds (each run's own noise guard measures them), both vCPUs slowing together when the host is
busy (the workers' CPU per task rises with the wall time), or one of the two slowing (the
busiest worker's tasks take longer while the serial cell's do not). Each function here returns
the sentence that says so, or None; compare then calls the row inconclusive instead of slower.
Also the two small facts the notes and the gate share: ``percent_text`` and ``work_per_cell``.
"""

from __future__ import annotations

import statistics

from .document import ResultRow
from .significance import TOLERANCE
from .stats import OTHER_LOAD_WARN_CORES


def percent_text(value: float) -> str:
    """One decimal below 10 %: "5.3 %" must not read as the 5 % threshold it exceeds."""
    return f"{value:.1%}" if value < 0.1 else f"{value:.0%}"


def work_per_cell(rec: ResultRow) -> float:
    return float(rec.get("tasks") or 1) * float(rec.get("size") or 1)


def other_load_note(a: ResultRow, b: ResultRow) -> str | None:
    """Why B's slowdown may be the machine's: its own noise guard measured more other processes
    beside its rounds than A's did (on few cores that alone slows a cell, a parallel one most),
    so the code is not to blame on this evidence; nor is it cleared. None when not so."""
    # Only CPU work is slowed by other processes' CPU: a sleep or a socket wait is not.
    if b.get("kind") == "io" or other_load(b) - other_load(a) <= OTHER_LOAD_WARN_CORES:
        return None
    return (
        f"B ran beside {other_load(b):.2f} cores of other processes (A {other_load(a):.2f}): "
        "its slowdown may be the machine's; rerun B on a quiet machine"
    )


def other_load(rec: ResultRow) -> float:
    """The median CPU other processes used during the row's rounds, in cores (0 if unknown)."""
    load = rec.get("other_cpu_cores")
    return float((load["median"] if load else None) or 0.0)


def extra_cpu_note(a: ResultRow, b: ResultRow, threshold: float) -> str | None:
    """Why a parallel row's slowdown is explained by the extra CPU its workers used, or None.

    B's wall time less the part its extra CPU accounts for (spread over the cores the cell kept
    busy in A, at least one: extra CPU on one core lengthens the wall time 1:1) must still be
    ``threshold`` slower than A's, all per unit of work (medians); else it is explained. Serial
    rows are judged as they are (their CPU *is* their wall time)."""
    if a["model"] == "serial" or "cpu_s" not in a or "cpu_s" not in b:
        return None
    cpu_a, cpu_b = a["cpu_s"]["median"], b["cpu_s"]["median"]
    wall_a, wall_b = a["wall_s"]["median"], b["wall_s"]["median"]
    if cpu_a is None or cpu_b is None or wall_a is None or wall_b is None:
        return None
    if min(cpu_a, cpu_b, wall_a, wall_b) <= 0:
        return None
    scale = work_per_cell(a) / work_per_cell(b)  # B's figures per A's amount of work
    cpu_b, wall_b = cpu_b * scale, wall_b * scale
    extra_cpu = cpu_b - cpu_a
    explained = max(0.0, extra_cpu) / max(1.0, cpu_a / wall_a)
    unexplained = (wall_b - explained) / wall_a - 1
    if extra_cpu / cpu_a < threshold - TOLERANCE or unexplained >= threshold - TOLERANCE:
        return None
    rest = round(unexplained, 3) + 0.0  # no "-0.0 %"
    return (
        f"its workers used {percent_text(extra_cpu / cpu_a)} more CPU for the same work, which "
        f"accounts for the slowdown (wall {wall_b / wall_a - 1:+.1%}, {rest:+.1%} without "
        "it): the machine's parallel speed changed, or the code does more work in parallel "
        "only; rerun both to tell"
    )


def critical_path(rec: ResultRow) -> float | None:
    """Median over rounds of the busiest worker's summed task time (``critical_path_s``; in
    older documents compute minus dispatch, which is the same figure)."""
    direct = rec.get("critical_path_s")
    if direct and (median := direct.get("median")) is not None:
        return float(median)
    compute, dispatch = rec.get("compute_s"), rec.get("dispatch_s")
    if not compute or not dispatch or len(compute["values"]) != len(dispatch["values"]):
        return None
    paths = [float(c) - float(d) for c, d in zip(compute["values"], dispatch["values"], strict=True)]
    return statistics.median(paths) if paths else None


def slower_tasks_note(a: ResultRow, b: ResultRow, threshold: float) -> str | None:
    """Why a parallel row's slowdown is its tasks running longer on its busiest worker, or None.

    The busiest worker's summed task time (the critical path) grew by as much as the wall time:
    what got slower is the tasks' own execution inside the parallel cell, while the serial cell
    of the same rounds ran them as fast as before (else the row's ratio to it had not moved).
    On this 2-vCPU VM that is what a host busy on one of the two cores looks like (measured:
    same code back to back, B's processes cells 50 % slower, their tasks 33 % longer, serial
    cells unchanged, no steal reported); code whose tasks contend when run side by side looks
    the same, so the row is neither blamed nor cleared. A slowdown of the parallel machinery
    itself (start-up, dispatch, pickling, waiting) adds wall time off the critical path and
    stays slower."""
    if a["model"] == "serial":
        return None
    path_a, path_b = critical_path(a), critical_path(b)
    wall_a, wall_b = a["wall_s"]["median"], b["wall_s"]["median"]
    if path_a is None or path_b is None or wall_a is None or wall_b is None:
        return None
    if min(path_a, path_b, wall_a, wall_b) <= 0:
        return None
    scale = work_per_cell(a) / work_per_cell(b)
    path_b, wall_b = path_b * scale, wall_b * scale
    rise = path_b - path_a
    unexplained = (wall_b - max(0.0, rise)) / wall_a - 1
    if rise / path_a < threshold - TOLERANCE or unexplained >= threshold - TOLERANCE:
        return None
    rest = round(unexplained, 3) + 0.0
    return (
        f"its busiest worker's tasks took {percent_text(rise / path_a)} longer, which accounts for the "
        f"slowdown (wall {wall_b / wall_a - 1:+.1%}, {rest:+.1%} without it) while the serial cell's "
        "did not: the machine's parallel speed changed, or the tasks contend when run side by side; "
        "rerun both to tell"
    )
