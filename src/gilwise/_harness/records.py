"""Turn measured groups into result records (the result document's JSON rows) and warnings."""

from __future__ import annotations

import statistics
from typing import Literal

from .._results.document import MemoryFigures, ResultRow, RunWarning
from .._results.headline import paired_headline, paired_interval
from .._results.stats import (
    ORCHESTRATOR_WARN_CORES,
    OTHER_LOAD_WARN_CORES,
    SPREAD_WARN,
    relative_spread,
    summary,
    uncertain,
)
from .anchor import is_anchor
from .cells import Cell, Group, RoundMeasurement
from .precision import paired_speedups

MIN_LOAD_WINDOW_S = 0.2


PhaseField = Literal["wall_s", "startup_s", "compute_s", "shutdown_s", "task_s_total"]


def _field(rounds: list[RoundMeasurement], name: PhaseField) -> list[float]:
    return [float(r.raw[name]) for r in rounds]


def _median_round(rounds: list[RoundMeasurement]) -> RoundMeasurement:
    ordered = sorted(rounds, key=lambda r: float(r.raw["wall_s"]))
    return ordered[(len(ordered) - 1) // 2]


def _gil_enabled(cell: Cell, group: Group) -> bool:
    reported = [bool(r.raw["gil_enabled"]) for r in cell.rounds if "gil_enabled" in r.raw]
    if reported:
        return any(reported)
    return group.interpreter.gil_enabled if group.gil_enabled is None else group.gil_enabled


def _overhead_per_task(measured: RoundMeasurement) -> float:
    """Dispatch per task on the critical path: the compute phase beyond the busiest worker's
    in-task time, over the tasks that worker ran (submit, scheduling, (de)serialising and
    returning each; not the idling of the other workers while it finishes)."""
    by_worker: dict[str, list[float]] = {}
    for worker, start, end in measured.raw["spans"]:
        by_worker.setdefault(str(worker), []).append(float(end) - float(start))
    busiest = max(by_worker.values(), key=sum)
    return max(0.0, float(measured.raw["compute_s"]) - sum(busiest)) / len(busiest)


def cell_record(group: Group, cell: Cell, serial: Cell | None, interval_s: float) -> ResultRow:
    """The result row of one cell; ``serial``: the serial cell of its group (the speedup's base)."""
    record = _unmeasured_record(group, cell)
    if not cell.rounds:
        return record
    _add_speedup(record, group, cell, serial)
    _add_cpu(record, cell.rounds, interval_s)
    _add_memory(record, cell, serial)
    _add_phases(record, cell)
    iterations = group.tasks * group.size * group.workload.iterations_per_size
    median_wall = record["wall_s"]["median"]
    record["ns_per_iteration"] = (
        median_wall / iterations * 1e9 if iterations and median_wall is not None else None
    )
    _add_other_load(record, cell.rounds)
    record["notes"] = sorted({n for r in cell.rounds for n in r.raw.get("notes", [])})
    return record


def _unmeasured_record(group: Group, cell: Cell) -> ResultRow:
    """The fields every row carries, measured or not (the whole row of an unmeasured cell)."""
    workload = group.workload
    interp = group.interpreter
    rounds = cell.rounds
    return {
        "workload": workload.name,
        "kind": workload.kind,
        "impl": group.impl,
        "model": cell.key.model,
        "interpreter": {
            "path": interp.path,
            "version": interp.version,
            # What the workers reported at run time (an extension without Py_mod_gil turns a
            # free-threaded build's GIL back on), else what the interpreter said when probed.
            "gil_enabled": _gil_enabled(cell, group),
            "free_threaded": interp.free_threaded,
        },
        "workers": cell.key.workers,
        "tasks": group.tasks,
        "size": group.size,
        "size_unit": workload.size_unit,
        "status": cell.status,
        "reason": cell.reason,
        "rounds": len(rounds),
        "wall_s": summary(_field(rounds, "wall_s")),
        # The round of each value: cells of one round ran seconds apart, across interpreters too.
        "round_ids": [r.round for r in rounds],
        "speedup": None,
        "efficiency": None,
        "cpu_busy_cores_mean": None,
        "cpu_per_core": {"interval_s": None, "samples": []},
        "peak_rss_bytes": None,
    }


def _add_speedup(record: ResultRow, group: Group, cell: Cell, serial: Cell | None) -> None:
    """The headline (median paired ratio), its interval, efficiency, and the ratio of medians."""
    ratios = paired_speedups(group, cell)
    speedup = paired_headline(ratios)
    record["speedup"] = speedup
    record["efficiency"] = speedup / cell.key.workers if speedup is not None else None
    record["speedup_paired"] = summary(ratios)
    if cell.key.model != "serial":
        interval = paired_interval(ratios)
        record["speedup_ci"] = interval
        record["speedup_uncertain"] = uncertain(interval)
    serial_walls = _field(serial.rounds, "wall_s") if serial and serial.rounds else []
    median_wall = statistics.median(_field(cell.rounds, "wall_s"))
    record["speedup_of_medians"] = (
        statistics.median(serial_walls) / median_wall if serial_walls and median_wall > 0 else None
    )


def _add_cpu(record: ResultRow, rounds: list[RoundMeasurement], interval_s: float) -> None:
    """Busy cores over the cells' windows, the median round's per-core picture, CPU seconds."""
    # Time-weighted over the cells' exact windows (counters interpolated at both ends): whole
    # sample rows would also count the idle edges before and after a short cell.
    window_s = sum(r.raw["window"][1] - r.raw["window"][0] for r in rounds)
    record["cpu_busy_cores_mean"] = (
        sum(r.busy_core_seconds for r in rounds) / window_s if window_s > 0 else None
    )
    median_round = _median_round(rounds)
    record["cpu_per_core"] = {
        "interval_s": interval_s,
        "samples": [[round(v, 3) for v in row] for row in median_round.per_core],
        "round": median_round.round,
    }
    cpu_s = [r.raw["cpu_self_s"] + r.raw["cpu_children_s"] for r in rounds]
    record["cpu_s"] = summary(cpu_s)
    record["worker_cpu_cores_mean"] = statistics.median(
        c / float(r.raw["wall_s"]) for c, r in zip(cpu_s, rounds, strict=True)
    )
    record["orchestrator_cpu_cores"] = summary([r.orchestrator_cpu_cores for r in rounds])


def _add_memory(record: ResultRow, cell: Cell, serial: Cell | None) -> None:
    """Peak memory of the worker tree, and what each worker adds (see ``memory_basis``)."""
    rounds = cell.rounds
    peaks = _peaks(rounds)
    record["peak_rss_bytes"] = int(peaks["rss_bytes"] or 0)
    record["peak_memory"] = peaks
    record["memory_reads"] = sum(r.memory_reads for r in rounds)
    record["memory_per_worker"] = None
    record["memory_per_worker_bytes"] = None
    if serial is None or not serial.rounds or cell.key.model == "serial":
        return
    extra = _extra_per_worker(peaks, _peaks(serial.rounds), cell.key.workers)
    record["memory_per_worker_bytes"] = extra["rss_bytes"]
    started = [r for r in rounds if r.started_processes]
    if started:
        # Worker processes: what they hold themselves. After fork the harness worker's own
        # pages turn shared, so its USS drops: growth over serial would read below zero.
        record["memory_per_worker"] = _started_per_worker(started, cell.key.workers)
        record["memory_basis"] = "processes started by the cell, per worker"
    else:
        record["memory_per_worker"] = extra
        record["memory_basis"] = "growth of the one process over the serial cell, per worker"


def _add_phases(record: ResultRow, cell: Cell) -> None:
    """Where the wall time went: start-up, compute, shutdown, dispatch, the critical path."""
    rounds = cell.rounds
    record["startup_s"] = summary(_field(rounds, "startup_s"))
    record["compute_s"] = summary(_field(rounds, "compute_s"))
    record["shutdown_s"] = summary(_field(rounds, "shutdown_s"))
    dispatch = [max(0.0, r.raw["compute_s"] - r.raw["critical_path_s"]) for r in rounds]
    record["dispatch_s"] = summary(dispatch)
    if cell.key.model != "serial" and all(r.raw["spans"] for r in rounds):
        record["overhead_per_task_s"] = summary([_overhead_per_task(r) for r in rounds])
    if any(r.raw.get("wall_excludes_startup") for r in rounds):
        record["wall_excludes_startup"] = True
    record["task_s_total"] = summary(_field(rounds, "task_s_total"))
    record["critical_path_s"] = summary([float(r.raw["critical_path_s"]) for r in rounds])
    record["distinct_workers"] = max(int(r.raw["distinct_workers"]) for r in rounds)


def _add_other_load(record: ResultRow, rounds: list[RoundMeasurement]) -> None:
    """CPU other processes used, and steal, during the rounds long enough to judge it."""
    # The kernel accounts CPU in 10 ms ticks per core: in a 30 ms window that alone can look
    # like a whole core of "other load", so only windows long enough to resolve it count.
    judged = [r for r in rounds if r.raw["window"][1] - r.raw["window"][0] >= MIN_LOAD_WINDOW_S]
    record["other_cpu_cores"] = summary([r.other_cpu_cores for r in judged])
    if len(judged) < len(rounds):
        record["other_cpu_note"] = (
            f"{len(rounds) - len(judged)} of {len(rounds)} rounds shorter than {MIN_LOAD_WINDOW_S} s: "
            "too short to tell other load from the kernel's 10 ms CPU accounting"
        )
    record["steal_cores"] = summary(
        [r.steal_core_seconds / max(float(r.raw["wall_s"]), 1e-9) for r in judged]
    )
    record["resource_cpu_s"] = summary([r.resource_cpu_s for r in rounds])


def _peaks(rounds: list[RoundMeasurement]) -> MemoryFigures:
    """Each measure's peak over the rounds (None where no round could read it)."""
    pss = [r.peak_tree_pss for r in rounds if r.peak_tree_pss is not None]
    uss = [r.peak_tree_uss for r in rounds if r.peak_tree_uss is not None]
    return {
        "rss_bytes": max(r.peak_tree_rss for r in rounds),
        "pss_bytes": max(pss) if pss else None,
        "uss_bytes": max(uss) if uss else None,
    }


def _extra_per_worker(peaks: MemoryFigures, serial: MemoryFigures, workers: int) -> MemoryFigures:
    """What each worker adds over the serial cell's tree, per measure."""

    def extra(mine: float | None, base: float | None) -> float | None:
        return None if mine is None or base is None else max(0.0, mine - base) / workers

    return {
        "rss_bytes": extra(peaks["rss_bytes"], serial["rss_bytes"]),
        "pss_bytes": extra(peaks["pss_bytes"], serial["pss_bytes"]),
        "uss_bytes": extra(peaks["uss_bytes"], serial["uss_bytes"]),
    }


def _started_per_worker(rounds: list[RoundMeasurement], workers: int) -> MemoryFigures:
    pss = [r.peak_started_pss for r in rounds if r.peak_started_pss is not None]
    uss = [r.peak_started_uss for r in rounds if r.peak_started_uss is not None]
    return {
        "rss_bytes": max(r.peak_started_rss for r in rounds) / workers,
        "pss_bytes": max(pss) / workers if pss else None,
        "uss_bytes": max(uss) / workers if uss else None,
    }


def group_records(group: Group, interval_s: float) -> list[ResultRow]:
    serial = next((c for c in group.cells if c.key.model == "serial"), None)
    records = [cell_record(group, cell, serial, interval_s) for cell in group.cells if not is_anchor(cell)]
    anchor = next((c for c in group.cells if is_anchor(c)), None)
    if anchor is not None and anchor.rounds:
        # On the serial row, not a row of its own: no table, speedup or plot sees the anchor.
        for record in records:
            if record["model"] == "serial":
                record["anchor_s"] = summary(_field(anchor.rounds, "wall_s"))
                record["anchor_round_ids"] = [r.round for r in anchor.rounds]
    return records


REMEDIES = {
    "busy": "other processes used up to {worst:.2f} cores during {n} cell(s) ({names}): "
    "their times are inflated. Stop the other load (see `top`) and rerun.",
    "steal": "the hypervisor took up to {worst:.2f} cores (steal time) during {n} cell(s) "
    "({names}): this VM shares its CPUs. Rerun when it is quiet.",
    "orchestrator": "gilwise's own orchestrator used up to {worst:.1%} of a core in a typical round "
    "of {n} cell(s) ({names}), above the 1 % it is built to stay under: on a machine with few "
    "cores that slows the parallel cells, not the serial one, so those speedups read low. "
    "Rerun; if it persists, report it with the --json file.",
    "spread": "repeats spread up to {worst:.0%} of the median (≥ 10 %) in {n} cell(s) "
    "({names}). Trust the paired speedups over single times; for tighter numbers close other "
    "programs and rerun with more --repeats.",
}
"""Each stability warning's message, in the order they are listed ({worst}: the worst cell's
figure, {n}: how many cells, {names}: the worst few)."""


def warnings_for(records: list[ResultRow]) -> list[RunWarning]:
    """Stability warnings with their remedy (pyperf style), one per kind listing the cells."""
    failed: list[str] = []
    flagged: dict[str, list[tuple[str, float]]] = {kind: [] for kind in REMEDIES}
    for rec in records:
        where = f"{rec['workload']}[{rec['impl']}] {rec['model']}×{rec['workers']}"
        if rec["status"] == "failed":
            failed.append(f"{where}: {rec['reason']}")
        if rec["status"] != "ok" or not rec.get("rounds"):
            continue
        # The typical round (median), as for the speedup: the memory-read rounds cost more
        # (their maximum is in the JSON), and the median paired speedup discounts them too.
        own_cpu = rec.get("orchestrator_cpu_cores")
        figures = {
            "busy": (rec["other_cpu_cores"]["max"] or 0.0, OTHER_LOAD_WARN_CORES),
            "steal": (rec["steal_cores"]["max"] or 0.0, OTHER_LOAD_WARN_CORES),
            "orchestrator": ((own_cpu["median"] if own_cpu else None) or 0.0, ORCHESTRATOR_WARN_CORES),
        }
        for kind, (value, limit) in figures.items():
            if value > limit:
                flagged[kind].append((where, value))
        spread = relative_spread(rec["wall_s"]["values"])
        if spread >= SPREAD_WARN:
            flagged["spread"].append((where, spread))
    found: list[RunWarning] = [
        {"kind": "failed", "cells": [item.split(":")[0]], "message": f"failed: {item}"} for item in failed
    ]
    for kind, template in REMEDIES.items():
        items = flagged[kind]
        if items:
            message = template.format(worst=max(v for _, v in items), n=len(items), names=_names(items))
            found.append({"kind": kind, "cells": [w for w, _ in items], "message": message})
    return found


def _names(items: list[tuple[str, float]], most: int = 4) -> str:
    names = [w for w, _ in sorted(items, key=lambda x: -x[1])]
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")
