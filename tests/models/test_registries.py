from __future__ import annotations

import dataclasses

import pytest

from gilwise import _models, _workloads
from gilwise._pythons.discovery import current


def test_workload_names_are_unique_and_described() -> None:
    for name, workload in _workloads.WORKLOADS.items():
        assert workload.name == name
        assert workload.kind in ("cpu", "io", "mixed")
        assert workload.summary and workload.size_unit
        assert workload.reference_impl in workload.impls
        for impl, path in {**workload.impls, **workload.async_impls}.items():
            assert callable(_workloads.load_object(path)), (name, impl)


def test_required_names_exist() -> None:
    assert {"sqrt_log", "sqrt_log_local", "json", "sha256", "zlib", "http", "sleep", "sqlite"} <= set(
        _workloads.WORKLOADS
    )
    assert {
        "serial",
        "threads",
        "processes",
        "processes-fork",
        "processes-forkserver",
        "processes-spawn",
        "asyncio",
        "interpreters",
    } <= set(_models.MODELS)
    assert set(_models.DEFAULT_MODELS) <= set(_models.MODELS)
    assert list(_models.MODELS)[0] == "serial"


def test_every_model_is_available_here_or_says_why() -> None:
    here = current()
    for model in _models.MODELS.values():
        assert model.name and model.summary and model.family
        reason = model.available(here)
        assert reason is None or (isinstance(reason, str) and reason)


def test_missing_start_method_gives_a_reason() -> None:
    only_spawn = dataclasses.replace(current(), start_methods=("spawn",))
    reason = _models.get_model("processes-fork").available(only_spawn)
    assert reason is not None and "fork" in reason and "spawn" in reason
    assert _models.get_model("processes-spawn").available(only_spawn) is None


@pytest.mark.parametrize("name", ["sqrt_log", "json", "sha256", "zlib", "sleep"])
def test_each_workload_checks_its_own_answer(name: str) -> None:
    workload = _workloads.get_workload(name)
    size = 3 if workload.calibrate else workload.default_size
    ref = _workloads.TaskRef(name, "python", size, {})
    outcome = _workloads.run_task(ref)
    again = _workloads.run_task(ref).result
    assert workload.verify(again, outcome.result) is None
    wrong: object = "not the answer" if not isinstance(outcome.result, float) else outcome.result * 1.01
    assert workload.verify(wrong, outcome.result) is not None
    assert outcome.end >= outcome.start


def test_sqrt_log_is_the_classic_loop() -> None:
    import math

    expected = sum(math.sqrt(i) * math.log(i + 1) for i in range(1000))
    result = _workloads.run_task(_workloads.TaskRef("sqrt_log", "python", 1000, {})).result
    assert _workloads.close_enough(result, expected) is None


def test_sqrt_log_local_gives_the_very_same_float_as_sqrt_log() -> None:
    for n in (0, 1, 2, 1000, 54321):
        classic = _workloads.run_task(_workloads.TaskRef("sqrt_log", "python", n, {})).result
        local = _workloads.run_task(_workloads.TaskRef("sqrt_log_local", "python", n, {})).result
        assert local == classic  # same operations in the same order: bit-identical
    workload = _workloads.get_workload("sqrt_log_local")
    assert list(workload.impls) == ["python"] and workload.kind == "cpu"
    assert workload.iterations_per_size == 1


def test_sqrt_log_local_binds_math_functions_to_locals() -> None:
    import dis

    from gilwise._workloads.cpu import sqrt_log_local_python, sqrt_log_python

    def globals_in_loop(fn: object) -> list[str]:
        return [i.argval for i in dis.get_instructions(fn) if i.opname == "LOAD_GLOBAL"]

    assert globals_in_loop(sqrt_log_python).count("math") == 2  # looked up on every iteration
    assert globals_in_loop(sqrt_log_local_python) == ["math", "math", "range"]  # once, before it
