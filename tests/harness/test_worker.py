"""The worker protocol, run for real: fresh processes, real pools."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from gilwise._harness.launch import run_worker


def spec(**over: Any) -> dict[str, Any]:
    base = {
        "mode": "measure",
        "workload": "sqrt_log",
        "impl": "python",
        "model": "serial",
        "workers": 1,
        "tasks": 2,
        "size": 20_000,
        "params": {},
    }
    return {**base, **over}


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("model", "workers"),
    [
        ("serial", 1),
        ("threads", 2),
        ("processes-fork", 2),
        ("processes-spawn", 2),
        ("processes-forkserver", 2),
        ("asyncio", 2),
    ],
)
def test_models_measure_and_report(model: str, workers: int) -> None:
    report = run_worker(sys.executable, spec(model=model, workers=workers, tasks=4), 60)
    assert report["ok"], report
    assert report["wall_s"] > 0
    assert report["startup_s"] + report["compute_s"] + report["shutdown_s"] <= report["wall_s"] * 1.01
    assert len(report["spans"]) == 4
    assert report["cpu_self_s"] + report["cpu_children_s"] > 0
    if model.startswith("processes"):
        assert report["distinct_workers"] == workers  # both processes really ran tasks
        assert report["cpu_children_s"] > 0  # children's CPU is counted, forkserver included


@pytest.mark.timeout(60)
def test_wrong_answer_fails_the_cell() -> None:
    report = run_worker(sys.executable, spec(expected=123.0), 60)
    assert not report["ok"]
    assert report["kind"] == "wrong_answer"
    assert "wrong answer" in report["error"]


@pytest.mark.timeout(60)
def test_calibrate_returns_time_and_result() -> None:
    report = run_worker(sys.executable, spec(mode="calibrate"), 60)
    assert report["ok"] and report["task_s"] > 0 and isinstance(report["result"], float)


@pytest.mark.timeout(60)
def test_timeout_kills_the_whole_worker_tree() -> None:
    report = run_worker(
        sys.executable, spec(model="processes-fork", workers=2, tasks=4, size=10**9), timeout_s=3
    )
    assert not report["ok"] and report["kind"] == "timeout"


@pytest.mark.timeout(60)
def test_unknown_names_are_reported_not_raised() -> None:
    report = run_worker(sys.executable, spec(model="nope"), 60)
    assert not report["ok"] and "nope" in report["error"]
