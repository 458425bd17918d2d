"""The harness worker's own memory, read by itself after the window (no read during the cell)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from gilwise._harness.protocol import MeasureReport
from gilwise._harness.runner import _tree_memory
from gilwise._harness.sampler import CpuWindow

MIB = 2**20


@pytest.mark.timeout(60)
def test_own_memory_keeps_the_peak_of_memory_already_freed() -> None:
    # A fresh process: allocate and touch 200 MiB, free it, then read as the worker does.
    script = (
        "import json; from gilwise._harness.worker import _own_memory\n"
        "block = bytearray(200 * 2**20); block[::4096] = b'x' * len(block[::4096]); del block\n"
        "print(json.dumps(_own_memory()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=50, check=True
    )
    mine = json.loads(out.stdout)
    assert mine["peak_rss"] - mine["rss"] >= 190 * MIB  # freed: VmHWM still has it
    assert 0 < mine["uss"] <= mine["pss"] <= mine["rss"]


def _report(own: dict[str, Any] | None) -> MeasureReport:
    report: dict[str, Any] = {"maxrss_self_bytes": 50 * MIB, "maxrss_children_bytes": 0}
    if own is not None:
        report["own_memory"] = own
    return report  # type: ignore[return-value]


def test_tree_memory_of_a_one_process_cell_comes_from_the_worker_alone() -> None:
    own = {"peak_rss": 300 * MIB, "rss": 100 * MIB, "pss": 90 * MIB, "uss": 80 * MIB}
    rss, pss, uss = _tree_memory(_report(own), CpuWindow(interval_s=0.1), reading_others=False)
    # What was freed since the peak was the worker's own pages, so it adds to PSS and USS.
    assert (rss, pss, uss) == (300 * MIB, 290 * MIB, 280 * MIB)


def test_tree_memory_of_a_pool_adds_its_processes_read_mid_compute() -> None:
    own = {"peak_rss": 100 * MIB, "rss": 100 * MIB, "pss": 90 * MIB, "uss": 80 * MIB}
    window = CpuWindow(interval_s=0.1)
    # A round that read no pool process says nothing of the tree's PSS or USS...
    assert _tree_memory(_report(own), window, reading_others=True)[1:] == (None, None)
    # ...one that did adds them to the worker's own.
    window.memory_reads, window.peak_started_rss = 1, 60 * MIB
    window.peak_started_pss, window.peak_started_uss = 40 * MIB, 30 * MIB
    rss, pss, uss = _tree_memory(_report(own), window, reading_others=True)
    assert (rss, pss, uss) == (160 * MIB, 130 * MIB, 110 * MIB)


def test_without_own_memory_the_tree_is_what_the_sampler_read() -> None:
    window = CpuWindow(interval_s=0.1)
    window.peak_tree_rss, window.peak_tree_pss, window.peak_tree_uss = 70 * MIB, 60 * MIB, 50 * MIB
    assert _tree_memory(_report(None), window, reading_others=True) == (70 * MIB, 60 * MIB, 50 * MIB)


def test_a_memory_read_is_charged_whole_to_the_window_it_lies_in() -> None:
    from gilwise._harness.sampler import CpuSample, CpuSampler

    sampler = CpuSampler()  # not started: fed by hand below
    trickle = 0.001  # cores: the sampler's ticks
    samples = []
    cpu = 0.0
    for i in range(11):
        t = i * 0.1
        samples.append(CpuSample(t=t, busy=(0.0,), steal=0.0, orchestrator_cpu=cpu))
        cpu += trickle * 0.1 + (0.003 if i == 4 else 0.0)  # a 3 ms read at t = 0.4
    sampler._read_costs = [(0.4, 0.003)]
    # A cell over [0.25, 0.55]: the read lies in it, whole (3 ms over 0.3 s), beside the trickle.
    assert sampler._orchestrator_rate(samples, 0.25, 0.55) == pytest.approx(trickle + 0.003 / 0.3)
    # A cell beside it pays none of it.
    assert sampler._orchestrator_rate(samples, 0.55, 0.95) == pytest.approx(trickle)
