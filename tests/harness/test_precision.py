"""Rounds added after the repeats narrow uncertain speedups, within the budget, and only those."""

from __future__ import annotations

from typing import cast

import pytest

from gilwise._harness import BenchSettings, run_bench
from gilwise._harness.cells import Cell, CellKey, Group, RoundMeasurement
from gilwise._harness.precision import MAX_ROUNDS_PER_REPEAT, paired_speedups, uncertain_cells
from gilwise._harness.protocol import MeasureReport
from gilwise._pythons.discovery import current
from gilwise._workloads import get_workload


def _round(index: int, wall: float, memory_reads: int = 0, compute_reads: int = 0) -> RoundMeasurement:
    raw = cast(MeasureReport, {"wall_s": wall})
    return RoundMeasurement(
        index, raw, 0.0, 0.0, 0.0, [], 0, 0.0, memory_reads=memory_reads, compute_reads=compute_reads
    )


def _cell(model: str, walls: list[float]) -> Cell:
    rounds = [_round(i, w) for i, w in enumerate(walls)]
    return Cell(CellKey(model, 1 if model == "serial" else 2), rounds=rounds)


def _group(*cells: Cell) -> Group:
    return Group(get_workload("sqrt_log"), "python", current(), list(cells), tasks=4)


def test_only_cells_with_a_wide_interval_are_uncertain() -> None:
    serial = _cell("serial", [1.0, 1.0, 1.0, 1.0, 1.0])
    steady = _cell("processes", [0.55, 0.54, 0.56, 0.55, 0.55])
    noisy = _cell("threads", [1.0, 0.7, 1.3, 1.0, 1.0])
    group = _group(serial, steady, noisy)
    assert paired_speedups(group, steady) == pytest.approx([1 / 0.55, 1 / 0.54, 1 / 0.56, 1 / 0.55, 1 / 0.55])
    assert uncertain_cells(group, 0.10, repeats=5) == [noisy]
    assert uncertain_cells(group, 0.50, repeats=5) == []


def test_added_rounds_stop_at_the_cap() -> None:
    walls = [1.0, 0.5] * MAX_ROUNDS_PER_REPEAT  # 8 hopelessly noisy rounds: the cap for --repeats 2
    group = _group(_cell("serial", [1.0] * len(walls)), _cell("threads", walls))
    assert uncertain_cells(group, 0.10, repeats=2) == []
    assert len(uncertain_cells(group, 0.10, repeats=3)) == 1


@pytest.mark.timeout(120)
def test_budget_adds_paired_rounds_to_uncertain_cells_only() -> None:
    """precision=0 calls every interval too wide: rounds are added until the budget or the cap,
    each measuring serial with the parallel cells so every ratio stays paired."""
    sleep = get_workload("sleep")
    settings = BenchSettings(repeats=2, target_cell_s=0.05, size=5, budget_s=4.0, precision=0.0)
    run = run_bench([sleep], ["python"], ["serial", "threads"], lambda _: [2], [current()], settings)
    document = run.to_json()
    rows = {r["model"]: r for r in document["results"]}
    group = document["groups"][0]
    assert group.get("extra_rounds", 0) >= 1
    assert rows["serial"]["rounds"] == rows["threads"]["rounds"] == 2 + group.get("extra_rounds", 0)
    assert rows["threads"]["rounds"] <= MAX_ROUNDS_PER_REPEAT * 2
    assert rows["threads"]["round_ids"] == rows["serial"]["round_ids"]
    interval = rows["threads"].get("speedup_ci")
    assert interval is not None and interval["rounds"] == rows["threads"]["rounds"]
    assert document.get("settings", {}).get("budget_s") == 4.0


@pytest.mark.timeout(120)
def test_no_budget_means_exactly_the_repeats() -> None:
    sleep = get_workload("sleep")
    settings = BenchSettings(repeats=2, target_cell_s=0.05, size=5, precision=0.0)
    run = run_bench([sleep], ["python"], ["serial", "threads"], lambda _: [2], [current()], settings)
    document = run.to_json()
    assert {r["rounds"] for r in document["results"]} == {2}
    assert document["groups"][0].get("extra_rounds") == 0


def test_memory_is_read_in_every_kth_round_by_its_cost() -> None:
    """A 6 ms read in a 0.6 s cell would cost 1 % of a core: it is made every 5th round only
    (0.2 % on average), while a cheap read is made every round."""
    from gilwise._harness.runner import _memory_due

    cell = _cell("processes", [])
    assert _memory_due(cell)  # nothing read yet
    cell.elapsed_s, cell.memory_cost_s = 0.6, 0.006
    cell.rounds = [_round(0, 0.5, memory_reads=1)]
    # A reading before the pool computed (the first round's is timed blind) is not enough...
    assert _memory_due(cell)
    cell.rounds = [_round(0, 0.5, memory_reads=1), _round(1, 0.5, memory_reads=1, compute_reads=1)]
    assert not _memory_due(cell)  # ...one of the processes while they computed is
    due = []
    for count in range(2, 12):
        cell.rounds = [_round(i, 0.6, memory_reads=1, compute_reads=1 if i == 1 else 0) for i in range(count)]
        due.append(_memory_due(cell))
    assert due == [False, False, False, True, False] * 2
    cell.memory_cost_s = 0.0005
    assert _memory_due(cell)
    # A compute phase too short to aim at: two rounds that read the pool at all are enough.
    cell.memory_cost_s = 0.006
    cell.rounds = [_round(0, 0.6, memory_reads=1)]
    cell.rounds[0].started_processes = 2
    assert _memory_due(cell)
    cell.rounds.append(_round(1, 0.6, memory_reads=1))
    cell.rounds[1].started_processes = 2
    assert not _memory_due(cell)
