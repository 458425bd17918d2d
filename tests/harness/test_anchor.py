"""`bench --anchor`: the pinned loop runs in every round of every group, round-robin, and lands
on the serial rows only; without it nothing is planned."""

from __future__ import annotations

import statistics

import pytest

from gilwise._harness import BenchSettings, run_bench
from gilwise._harness.anchor import ANCHOR_MODEL, ANCHOR_SIZE, anchor_spec
from gilwise._harness.runner import plan_groups
from gilwise._pythons.discovery import current
from gilwise._workloads import get_workload


def test_the_anchor_is_planned_only_when_asked() -> None:
    sleep = get_workload("sleep")
    plain = plan_groups([sleep], ["python"], ["serial", "threads"], lambda _: [2], [current()])
    assert all(c.key.model != ANCHOR_MODEL for g in plain for c in g.cells)
    anchored = plan_groups(
        [sleep], ["python"], ["serial", "threads"], lambda _: [2], [current()], anchor=True
    )
    for group in anchored:
        # One more cell of the round-robin, after the group's own.
        assert [c.key.model for c in group.cells] == ["serial", "threads", ANCHOR_MODEL]
    # The same pinned loop whatever the group measures: never calibrated, never the group's size.
    spec = anchor_spec()
    assert (spec["workload"], spec["impl"], spec["size"], spec["model"]) == (
        "sqrt_log",
        "python",
        ANCHOR_SIZE,
        "serial",
    )


@pytest.mark.timeout(120)
def test_anchor_times_are_on_the_serial_row_paired_by_round() -> None:
    sleep = get_workload("sleep")
    settings = BenchSettings(repeats=2, target_cell_s=0.05, anchor=True)
    run = run_bench([sleep], ["python"], ["serial", "threads"], lambda _: [2], [current()], settings)
    rows = run.to_json()["results"]
    assert [r["model"] for r in rows] == ["serial", "threads"]  # no row of its own
    serial, threads = rows
    assert serial["anchor_round_ids"] == serial["round_ids"] == [0, 1]
    assert len(serial["anchor_s"]["values"]) == 2 and min(serial["anchor_s"]["values"]) > 0
    assert "anchor_s" not in threads
    # The headline speedup is the threads cell's against serial, untouched by the anchor.
    serial_by_round = dict(zip(serial["round_ids"], serial["wall_s"]["values"], strict=True))
    paired = [
        serial_by_round[r] / v for r, v in zip(threads["round_ids"], threads["wall_s"]["values"], strict=True)
    ]
    assert threads["speedup"] == pytest.approx(statistics.median(paired))
