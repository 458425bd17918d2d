"""Verification: bench the models the prediction favours for real, against serial
(:mod:`.decide` then makes the best measured one the verdict).

As the harness does it: each cell in a fresh worker, every cell once per round in a rotated
order, each speedup paired with the serial time of its own round (this machine's speed
drifts in phases of seconds), CPU used by other processes taken from the harness's sampler.
A round during which other processes kept a core busy is retried while the budget allows and
left out of the ratios (:mod:`.load`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from .._harness.sampler import CpuSampler
from .._results.document import ConfidenceInterval
from .._results.stats import OTHER_LOAD_WARN_CORES, median_interval, paired_ratios
from .costmodel import Prediction
from .load import BUSY_ROUND_CORES, LoadSeen, is_busy
from .probes import Budget, BudgetExhausted, cell
from .protocol import CellReport, TargetSpec

WORKER_OVERHEAD_S = 0.4
"""Per cell: a fresh interpreter, gilwise and the target imported, the arguments loaded."""
MAX_ROUNDS = 5
BUSY_RETRIES = 5
"""Rounds run beyond ``MAX_ROUNDS`` in place of busy ones, while the budget allows."""


@dataclass(frozen=True)
class Measured:
    """One verified prediction: its wall time per round and its paired speedups."""

    prediction: Prediction
    walls: tuple[float, ...]
    ratios: tuple[float, ...]
    other_cpu_cores: float
    """Highest CPU use by other processes during one of its cells (cores)."""

    @property
    def speedup(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None

    @property
    def spread(self) -> tuple[float, float] | None:
        return (min(self.ratios), max(self.ratios)) if self.ratios else None

    @property
    def interval(self) -> ConfidenceInterval | None:
        """The harness's distribution-free interval for the median paired speedup."""
        return (
            median_interval(self.ratios)
            if len(self.ratios) >= 2 and self.prediction.model != "serial"
            else None
        )


def round_seconds(cells: list[Prediction]) -> float:
    return sum(p.predicted_s + WORKER_OVERHEAD_S for p in cells)


def verify(
    target: TargetSpec, cells: list[Prediction], calls: int, budget: Budget, reserve_s: float = 1.0
) -> tuple[list[Measured], list[str], LoadSeen]:
    """``cells[0]`` must be serial. Runs up to 5 quiet rounds as the budget allows, retrying
    busy ones (:mod:`.load`); the ratios come from the quiet rounds where there are any."""
    walls: dict[int, list[float | None]] = {i: [] for i in range(len(cells))}
    other: dict[int, float] = dict.fromkeys(range(len(cells)), 0.0)
    notes: list[str] = []
    per_round: list[float] = []
    with CpuSampler() as sampler:
        round_index = 0
        while round_index < MAX_ROUNDS + BUSY_RETRIES:
            quiet = sum(1 for cores in per_round if not is_busy(cores))
            if quiet >= MAX_ROUNDS:
                break
            needed = round_seconds(cells) * 1.3
            if round_index > 0 and budget.left() - reserve_s < needed:
                if quiet < 3:
                    notes.append(f"verified with {quiet} quiet round(s): the budget allowed no more")
                break
            order = list(range(len(cells)))
            shift = round_index % len(order)
            busiest = 0.0
            for i in order[shift:] + order[:shift]:
                p = cells[i]
                try:
                    report = cell(
                        p.interpreter,
                        target,
                        budget,
                        p.cell_model,
                        p.workers,
                        calls,
                        p.chunksize,
                        on_start=sampler.watch,
                    )
                except BudgetExhausted as exc:
                    notes.append(f"round {round_index + 1} of {p.model}×{p.workers} cut short: {exc}")
                    walls[i].append(None)
                    continue
                finally:
                    sampler.watch(None)
                walls[i].append(report["wall_s"])
                load = other_process_cores(sampler, report)
                busiest = max(busiest, load)
                other[i] = max(other[i], load)
                notes.extend(f"{p.model}×{p.workers}: {n}" for n in report["notes"] if n not in notes)
            per_round.append(busiest)
            round_index += 1
    seen = LoadSeen(tuple(per_round))
    if seen.busy_rounds and seen.quiet_rounds:
        # Busy rounds were retried: the ratios come from the quiet ones alone.
        for r, cores in enumerate(per_round):
            if is_busy(cores):
                for cell_walls in walls.values():
                    cell_walls[r] = None
        notes.append(
            f"{seen.busy_rounds} round(s) retried and left out: other processes used more than "
            f"{BUSY_ROUND_CORES:g} cores (up to {max(per_round):.2f}) during them"
        )
    serial = walls[0]
    measured = []
    for i, p in enumerate(cells):
        ratios = paired_ratios(serial, walls[i]) if i else [1.0 for w in serial if w]
        measured.append(Measured(p, tuple(w for w in walls[i] if w), tuple(ratios), other[i]))
        if other[i] > OTHER_LOAD_WARN_CORES:
            notes.append(
                f"{p.model}×{p.workers}: other processes used up to {other[i]:.2f} cores during its "
                "cells; the measured speedup is less certain (quiet the machine and run again)"
            )
    return measured, notes, seen


def other_process_cores(sampler: CpuSampler, report: CellReport) -> float:
    """Cores used by processes other than the cell's worker tree during its window."""
    start, end = report["window"]
    return sampler.window(start, end).other_cpu_cores(report["cpu_self_s"] + report["cpu_children_s"])
