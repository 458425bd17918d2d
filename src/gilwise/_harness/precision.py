"""Which speedups are still uncertain after the minimum rounds, and what another round costs.

After ``BenchSettings.repeats`` rounds the runner may add rounds, within ``budget_s``, to the
comparisons whose paired speedup is known to no better than ±``precision`` (its sign-test
interval, ``_results.headline.paired_interval``). An added round measures the serial cell and the
uncertain cells only: every speedup stays paired within its round.
"""

from __future__ import annotations

from .._results.headline import paired_interval
from .._results.stats import join_by_round, paired_ratios, uncertain
from .anchor import is_anchor
from .cells import Cell, Group

MAX_ROUNDS_PER_REPEAT = 4
"""Added rounds stop at 4 × --repeats per cell, whatever the budget (a cell that never settles
is shown as uncertain rather than measured forever)."""


def serial_cell(group: Group) -> Cell | None:
    return next((c for c in group.cells if c.key.model == "serial"), None)


def paired_speedups(group: Group, cell: Cell) -> list[float]:
    """Serial time / this cell's time, per round both were measured in."""
    serial = serial_cell(group)
    if serial is None:
        return []
    joined = join_by_round(
        [r.round for r in cell.rounds],
        [float(r.raw["wall_s"]) for r in cell.rounds],
        [r.round for r in serial.rounds],
        [float(r.raw["wall_s"]) for r in serial.rounds],
    )
    joined.sort()
    return paired_ratios([base for _, _, base in joined], [mine for _, mine, _ in joined])


def uncertain_cells(group: Group, precision: float, repeats: int) -> list[Cell]:
    """Measured parallel cells whose speedup interval is wider than ±precision, under the cap."""
    serial = serial_cell(group)
    if serial is None or serial.status != "ok" or not serial.rounds:
        return []
    cap = MAX_ROUNDS_PER_REPEAT * repeats
    return [
        cell
        for cell in group.cells
        if cell is not serial
        and not is_anchor(cell)
        and cell.status == "ok"
        and cell.rounds
        and len(cell.rounds) < cap
        and uncertain(paired_interval(paired_speedups(group, cell)), precision)
    ]


def round_cost_s(cells: list[Cell]) -> float:
    """What one more round of these cells takes, from their last round (worker start included)."""
    return sum(cell.elapsed_s for cell in cells)
