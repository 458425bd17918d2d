"""The jvm-threads model through the real worker protocol: its own JVM, checked answers."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from gilwise import _models, _workloads
from gilwise._harness.launch import run_worker
from gilwise._native import _jvm
from gilwise._pythons.discovery import current

needs_jdk = pytest.mark.skipif(_jvm.unavailable_reason() is not None, reason=str(_jvm.unavailable_reason()))


def spec(**over: Any) -> dict[str, Any]:
    base = {
        "mode": "measure",
        "workload": "sqrt_log",
        "impl": "jvm",
        "model": "jvm-threads",
        "workers": 2,
        "tasks": 3,
        "size": 400_000,
        "params": {},
    }
    return {**base, **over}


def test_it_runs_only_the_java_kernel_and_says_how_to_get_it() -> None:
    model = _models.get_model("jvm-threads")
    sqrt_log = _workloads.get_workload("sqrt_log")
    assert model.supports(sqrt_log, "jvm") is None
    assert model.supports(sqrt_log, "python") == "it runs sqrt_log's Java kernel: add --impl jvm"
    assert model.supports(_workloads.get_workload("json"), "python") == "json has no Java kernel"
    assert model.family == "jvm-threads"
    assert model.available(current()) == _jvm.unavailable_reason()
    # C++ threads never take the Java kernel (it is no C kernel).
    assert _models.get_model("cpp-threads").supports(sqrt_log, "jvm") is not None


@needs_jdk
@pytest.mark.timeout(120)
def test_start_up_is_apart_from_compute_and_answers_are_checked() -> None:
    expected = _workloads.run_task(_workloads.TaskRef("sqrt_log", "python", 400_000, {})).result
    report = run_worker(sys.executable, spec(expected=expected), 90)
    assert report["ok"], report
    assert report["startup_s"] > 0.01  # a real JVM started in this cell
    assert 0 < report["compute_s"] <= report["wall_s"]
    assert report["startup_s"] + report["compute_s"] + report["shutdown_s"] <= report["wall_s"] * 1.01
    assert len(report["spans"]) == 3 and report["distinct_workers"] == 1
    assert report["notes"] == ["2 JVM platform threads per task"]


@needs_jdk
@pytest.mark.timeout(120)
def test_a_wrong_answer_fails_the_cell() -> None:
    report = run_worker(sys.executable, spec(expected=123.0), 90)
    assert not report["ok"] and report["kind"] == "wrong_answer"


@needs_jdk
@pytest.mark.timeout(120)
@pytest.mark.parametrize(("model", "workers"), [("serial", 1), ("threads", 2), ("processes-fork", 2)])
def test_the_jvm_impl_under_python_models(model: str, workers: int) -> None:
    # The serial row is jvm-threads' baseline; Python threads share this process's JVM, forked
    # processes each start their own (the parent's pipes are never reused in a child).
    expected = _workloads.run_task(_workloads.TaskRef("sqrt_log", "python", 200_000, {})).result
    report = run_worker(
        sys.executable, spec(model=model, workers=workers, tasks=4, size=200_000, expected=expected), 90
    )
    assert report["ok"], report
    assert len(report["spans"]) == 4
