"""The anchor cell of ``bench --anchor``: a fixed pure-Python loop in every round of every group.

A serial row's wall time from one run against another's measures the machine as much as the
code: this machine's speed moves 10–20 % between runs (DESIGN.md, "Measuring on a noisy
machine"). Parallel rows cancel it against the serial cell of the same round; the anchor gives
serial rows the same: a loop whose work never changes (``sqrt_log`` in pure Python, one task of
``ANCHOR_SIZE`` iterations, never recalibrated) runs as one more cell of the round-robin, so
``compare`` can judge a serial row relative to the machine's speed in that round. Its times are
stored on the group's serial row (``anchor_s``, ``anchor_round_ids``), not as a row of their own:
no table, speedup or plot sees them. Runs without ``--anchor`` plan no such cell and pay nothing.

What it cannot tell apart: anything that slows the anchor loop itself, above all another
interpreter (a build with a slower bytecode loop makes the anchor as slow as the code, and a
real slowdown then reads as no change). Compare runs of one interpreter with it.
"""

from __future__ import annotations

from .cells import Cell, CellKey
from .protocol import WorkerSpec

ANCHOR_MODEL = "anchor"
"""The anchor cell's key; no model of the registry has this name, and none may take it."""
ANCHOR_WORKLOAD = "sqrt_log"
ANCHOR_IMPL = "python"
ANCHOR_SIZE = 2_000_000
"""Pinned, never calibrated: a calibrated size would follow the machine's speed and cancel the
very drift the anchor measures. Calibrated once on the shared 2-core dev VM (CPython 3.11,
2026-12-07: 1.5 M iterations took 0.13–0.19 s, 88–128 ns each), so the cell lasts about
0.2–0.3 s, the ≥ 0.2 s a cell needs."""


def anchor_cell() -> Cell:
    # One process, nothing started: the sampler never reads memory for it.
    return Cell(CellKey(ANCHOR_MODEL, 1), reads_others=False)


def is_anchor(cell: Cell) -> bool:
    return cell.key.model == ANCHOR_MODEL


def anchor_spec() -> WorkerSpec:
    """What the anchor's fresh worker runs: the same loop, whatever the group measures."""
    return {
        "mode": "measure",
        "workload": ANCHOR_WORKLOAD,
        "impl": ANCHOR_IMPL,
        "size": ANCHOR_SIZE,
        "params": {},
        "model": "serial",
        "workers": 1,
        "tasks": 1,
        "expected": None,
    }
