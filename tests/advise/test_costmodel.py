"""The cost model and the choice on probes of known shape (no measuring: numbers given here)."""

from __future__ import annotations

from typing import Any

import pytest

from gilwise._advise.choose import choose
from gilwise._advise.costmodel import (
    break_even_call_s,
    chunksize_for,
    inputs_from,
    predict,
    processes_time,
    shape_of,
    threads_time,
)
from gilwise._advise.probes import InterpreterProbes
from gilwise._advise.protocol import CallReport, CellModel, CellReport, PoolReport
from gilwise._pythons.discovery import InterpreterInfo

CORES = 2
GIL = InterpreterInfo("/py/3.11", "3.11.7", (3, 11, 7), "CPython", False, True, "", ("fork",), "fork", None)
FREE = InterpreterInfo("/py/3.13t", "3.13.5", (3, 13, 5), "CPython", True, False, "", ("fork",), "fork", None)


def call_report(
    call_s: float, cpu_s: float, held: float | None, args_bytes: int = 30, ship_s: float = 2e-6
) -> CallReport:
    return {
        "ok": True,
        "python": "/py",
        "version": "3.11.7",
        "gil_enabled": held is not None,
        "free_threaded": held is None,
        "coroutine": False,
        "first_call_s": call_s,
        "wall_s": [call_s] * 5,
        "cpu_s": [cpu_s] * 5,
        "runqueue_s": 0.0,
        "gil": {
            "held_fraction": held,
            "samples": 100,
            "late_during_call": 0,
            "baseline_samples": 50,
            "late_baseline": 0,
            "threshold_s": 0.0025,
            "switch_interval_s": 0.005,
            "median_delay_s": 0.0,
            "note": "",
        },
        "thread_start_s": 60e-6,
        "transfer": {
            "picklable": True,
            "reason": "",
            "args_bytes": args_bytes,
            "result_bytes": 20,
            "args_dumps_s": ship_s,
            "args_loads_s": ship_s,
            "result_dumps_s": 1e-6,
            "result_loads_s": 1e-6,
        },
        "result_type": "builtins.float",
        "peak_call_bytes": 1 << 20,
        "notes": [],
    }


def pool_report(ship_s: float = 0.0) -> PoolReport:
    return {
        "ok": True,
        "start_method": "fork",
        "startup_s": [[1, 0.01], [2, 0.015]],
        "shutdown_s": [[1, 0.005], [2, 0.006]],
        "message_s": 120e-6,
        "args_roundtrip_s": 120e-6 + ship_s,
        "pipe_bytes_per_s": 1.5e9,
        "notes": [],
    }


def cell_report(model: CellModel, n: int, calls: int, in_task: float, wall: float) -> CellReport:
    return {
        "ok": True,
        "model": model,
        "workers": n,
        "calls": calls,
        "chunksize": 1,
        "wall_s": wall,
        "in_task_s": [in_task] * calls,
        "submit_s": calls * 10e-6,
        "reference_call_s": None,
        "window": [0.0, wall],
        "cpu_self_s": 0.0,
        "cpu_children_s": 0.0,
        "notes": [],
    }


def probes(call_s: float, cpu_s: float, held: float | None, **kw: Any) -> InterpreterProbes:
    """Probes as they would come out for a call of this shape, scaling runs that match."""
    interp = FREE if held is None else GIL
    result = InterpreterProbes(interp, call_report(call_s, cpu_s, held, **kw))
    result.pool = pool_report(kw.get("ship_s", 2e-6) * 2)
    calls = 8
    serialised = (held or 0.0) * call_s
    for n in (1, 2):
        wall = calls * max(serialised, call_s / n) + calls * 30e-6
        result.cells[("threads", n)] = cell_report("threads", n, calls, call_s, wall)
        # Start-up and shutdown (pool_report) on top of the work, as a real pool pays them.
        startup = {1: 0.015, 2: 0.021}[n]
        result.cells[("processes", n)] = cell_report(
            "processes", n, calls, call_s, startup + calls * call_s / n
        )
    return result


def verdict(
    p: InterpreterProbes, calls: int = 40, others: tuple[InterpreterProbes, ...] = ()
) -> tuple[str, float]:
    inputs = inputs_from(p, list(others), CORES)
    predictions = predict(inputs, calls)
    choice = choose(predictions, GIL.path)
    return choice.recommended.model, choice.recommended.predicted_speedup


def test_pure_python_goes_to_processes() -> None:
    model, speedup = verdict(probes(0.05, 0.05, held=1.0))
    assert model == "processes"
    assert 1.8 < speedup <= 2.0


def test_gil_releasing_native_work_goes_to_threads() -> None:
    model, speedup = verdict(probes(0.05, 0.05, held=0.02))
    assert model == "threads"
    assert speedup > 1.8


def test_blocking_waits_get_many_threads() -> None:
    p = probes(0.02, 0.0002, held=0.0)
    inputs = inputs_from(p, [], CORES)
    choice = choose(predict(inputs, 64), GIL.path)
    assert choice.recommended.model == "threads"
    assert choice.recommended.workers >= 32
    assert choice.recommended.predicted_speedup > 20


def test_tiny_work_on_a_large_argument_stays_serial() -> None:
    # 20 µs of work; 16 MiB of arguments at ~4 ms to pickle and as long to load.
    p = probes(20e-6, 20e-6, held=1.0, args_bytes=16 << 20, ship_s=4e-3)
    model, speedup = verdict(p, calls=1000)
    assert model == "serial"
    assert speedup == 1.0
    inputs = inputs_from(p, [], CORES)
    processes = [q for q in predict(inputs, 1000) if q.model == "processes"]
    assert max(q.predicted_speedup for q in processes) < 0.05


def test_free_threaded_build_is_what_would_change_not_the_verdict() -> None:
    base = probes(0.05, 0.05, held=1.0)
    free = probes(0.06, 0.06, held=None)
    inputs = inputs_from(base, [free], CORES)
    predictions = predict(inputs, 40)
    ft = [p for p in predictions if p.model == "free-threaded-threads"]
    assert ft and max(p.predicted_speedup for p in ft) == pytest.approx(2 * 0.05 / 0.06, rel=0.1)
    assert choose(predictions, GIL.path).recommended.interpreter.path == GIL.path


def test_threads_formula_terms() -> None:
    shape = shape_of(probes(0.01, 0.01, held=0.5), CORES)
    assert shape.gil_s == pytest.approx(0.005)
    assert shape.free_cpu_s == pytest.approx(0.005)
    assert shape.wait_s == pytest.approx(0.0)
    assert shape.dispatch_s == pytest.approx(30e-6)
    assert shape.submit_s == pytest.approx(10e-6)
    # Half of each call holds the GIL and the other half runs beside it: two threads each run
    # 50 calls in turn (each with the wake-up latency), after starting; the GIL's bound,
    # 100 × (5 ms + submitting), is just under that.
    t = threads_time(shape, 2, 100, CORES, raw=True)
    assert t == pytest.approx(2 * 60e-6 + 50 * (0.01 + 20e-6) + 10e-6)
    assert t > 100 * (0.005 + 10e-6)


def test_processes_break_even_and_chunking() -> None:
    p = probes(1e-3, 1e-3, held=1.0)
    inputs = inputs_from(p, [], CORES)
    assert inputs.costs is not None
    chunk = chunksize_for(inputs.costs, 1e-4, 10_000, 2)
    assert chunk > 1, "a 100 µs call with a 120 µs message is worth chunking"
    assert chunksize_for(inputs.costs, 0.1, 100, 2) == 1
    be = break_even_call_s(inputs.shape, inputs.costs, 1000, CORES)
    assert be is not None
    slow = processes_time(inputs.shape, inputs.costs, 2, 1000, CORES, 1, call_s=be * 0.5)
    assert slow > 1000 * be * 0.5, "below the break-even size processes lose to serial"


def test_a_one_worker_pool_is_never_the_verdict() -> None:
    # A noisy threads×1 probe that ran faster than the formula must not make "threads×1" win.
    p = probes(0.05, 0.05, held=1.0)
    p.cells[("threads", 1)]["wall_s"] *= 0.5
    p.cells.pop(("processes", 1))
    p.cells.pop(("processes", 2))
    p.pool = None
    inputs = inputs_from(p, [], CORES)
    predictions = predict(inputs, 40)
    assert max(q.predicted_speedup for q in predictions if q.model == "threads" and q.workers == 1) > 1.15
    assert choose(predictions, GIL.path).recommended.model == "serial"


def test_sub_interpreter_pool_predicted_from_its_probe() -> None:
    p = probes(0.05, 0.05, held=1.0)
    for n in (1, 2):
        # 20 ms start-up, then waves of 50 ms calls; two waves of n calls.
        p.cells[("interpreters", n)] = cell_report("interpreters", n, 2 * n, 0.05, 0.02 + 2 * 0.05)
    predictions = predict(inputs_from(p, [], CORES), 40)
    rows = {q.workers: q for q in predictions if q.model == "interpreters"}
    assert rows[2].predicted_s == pytest.approx(0.02 + 20 * 0.05)
    assert rows[2].predicted_speedup == pytest.approx(40 * 0.05 / (0.02 + 20 * 0.05))
