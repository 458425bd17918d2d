"""The sub-interpreter runner, exercised under 3.12, 3.13 and 3.13t as subprocesses.

Each case runs a small script in the chosen interpreter (stdlib + PYTHONPATH=src, as a harness
worker does) that prints one JSON line; leftovers (threads, interpreters, file descriptors) are
checked inside that process after the run.
"""

from __future__ import annotations

import json
import math
import sys
import textwrap
from typing import Any

import pytest

from _pythons import free_threaded_python, gil_python, run_python
from gilwise import UsageError
from gilwise._pythons.discovery import InterpreterInfo, probe, survey
from gilwise._subinterp.runner import Task, run_tasks, unavailable_reason

pytestmark = pytest.mark.timeout(300)

# Runs inside the interpreter under test. RESULT is filled by the case's own lines.
_HARNESS = """
import gc, json, os, sys, threading
from gilwise._subinterp.runner import Task, run_tasks
from gilwise import WorkloadFailed
def _fds():
    return len(os.listdir("/proc/self/fd"))
def _interps():
    try:
        import _interpreters as m
    except ImportError:
        import _xxsubinterpreters as m
    return len(m.list_all())
fds_before = _fds()
RESULT = {}
try:
{body}
finally:
    gc.collect()
    RESULT["leftover_threads"] = [t.name for t in threading.enumerate()
                                  if t is not threading.main_thread()]
    RESULT["leftover_fds"] = _fds() - fds_before
    RESULT["interpreters_after"] = _interps()
    print(json.dumps(RESULT, default=repr))
"""


def _run_case(python: InterpreterInfo, body: str) -> dict[str, Any]:
    code = _HARNESS.replace("{body}", textwrap.indent(textwrap.dedent(body), "    "))
    proc = run_python(python.path, code)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["leftover_threads"] == []
    assert result["leftover_fds"] == 0
    assert result["interpreters_after"] == 1, "only the main interpreter may remain"
    return result


def _subinterpreter_pythons() -> list[Any]:
    return [
        pytest.param(lambda: gil_python(12), id="3.12"),
        pytest.param(lambda: gil_python(13), id="3.13"),
        pytest.param(free_threaded_python, id="3.13t"),
        # InterpreterPoolExecutor (concurrent.interpreters, PEP 734): 3.14 and later.
        pytest.param(lambda: gil_python(14), id="3.14"),
        pytest.param(lambda: gil_python(15), id="3.15"),
    ]


def _expected_sqrt_log(n: int) -> float:
    return sum(math.sqrt(i) * math.log(i) for i in range(1, n))


@pytest.mark.parametrize("get_python", _subinterpreter_pythons())
def test_two_tasks_run_in_two_fresh_interpreters_on_two_threads(get_python: Any) -> None:
    python = get_python()
    assert unavailable_reason(python) is None
    result = _run_case(
        python,
        """
        tasks = [Task("subinterp_tasks", "sqrt_log_sum", (20_000,)),
                 Task("subinterp_tasks", "sqrt_log_sum", (30_000,)),
                 Task("subinterp_tasks", "where_am_i"), Task("subinterp_tasks", "where_am_i"),
                 Task("subinterp_tasks", "bump"), Task("subinterp_tasks", "bump")]
        run = run_tasks(tasks)
        RESULT.update(backend=run.backend, values=run.values, startup_s=run.startup_s,
                      compute_wall_s=run.compute_wall_s, teardown_s=run.teardown_s,
                      compute_s=[o.compute_s for o in run.outcomes],
                      spans=[(o.started_at, o.finished_at) for o in run.outcomes],
                      main_thread=threading.get_ident())
        """,
    )
    backends = {(3, 12): "_xxsubinterpreters", (3, 13): "_interpreters"}
    assert result["backend"] == backends.get(tuple(python.version_info[:2]), "InterpreterPoolExecutor")
    values = result["values"]
    assert values[0] == pytest.approx(_expected_sqrt_log(20_000), rel=1e-12)
    assert values[1] == pytest.approx(_expected_sqrt_log(30_000), rel=1e-12)
    here_a, here_b = values[2], values[3]
    assert here_a["interp"] != here_b["interp"]
    assert 0 not in (here_a["interp"], here_b["interp"]), "the main interpreter has id 0"
    assert len({here_a["thread"], here_b["thread"], result["main_thread"]}) == 3
    if python.version_info[:2] >= (3, 13):
        assert here_a["gil"] == here_b["gil"] == "own"
    assert values[4:] == [1, 1], "each interpreter imports its own copy of the module"
    assert result["startup_s"] > 0
    assert result["teardown_s"] > 0
    assert all(c > 0 for c in result["compute_s"])
    for started, finished in result["spans"]:
        assert 0 <= started <= finished <= result["compute_wall_s"]


@pytest.mark.parametrize("get_python", _subinterpreter_pythons())
def test_task_failures_name_the_task_and_carry_the_remote_traceback(get_python: Any) -> None:
    python = get_python()
    result = _run_case(
        python,
        """
        def attempt(tasks):
            try:
                run_tasks(tasks)
            except WorkloadFailed as exc:
                return str(exc)
            return None
        RESULT["raised"] = attempt([Task("subinterp_tasks", "fail", ("kaboom",)),
                                    Task("subinterp_tasks", "sqrt_log_sum", (10,))])
        RESULT["missing_module"] = attempt([Task("no_such_module_gw", "f")])
        RESULT["missing_function"] = attempt([Task("subinterp_tasks", "no_such_function")])
        RESULT["unpicklable"] = attempt([Task("subinterp_tasks", "unpicklable")])
        RESULT["big"] = len(run_tasks([Task("subinterp_tasks", "big", (3_000_000,))]).values[0])
        from fractions import Fraction
        RESULT["rich"] = str(run_tasks([Task("subinterp_tasks", "rich", (Fraction(7, 2),))]).values[0])
        """,
    )
    assert "1 of 2 sub-interpreter tasks failed" in result["raised"]
    assert "subinterp_tasks.fail('kaboom',)" in result["raised"]
    assert "ValueError: kaboom" in result["raised"]
    assert "No module named 'no_such_module_gw'" in result["missing_module"]
    assert "no_such_function" in result["missing_function"]
    assert "could not be pickled" in result["unpicklable"]
    assert result["big"] == 3_000_000, "results larger than a pipe buffer come back whole"
    assert result["rich"] == "7/6", "values marshal cannot carry travel pickled, both ways"


def test_single_phase_extension_is_refused_inside_an_isolated_interpreter() -> None:
    python = gil_python(13)
    result = _run_case(
        python,
        """
        try:
            import _testsinglephase
        except ImportError:
            RESULT["skip"] = "this build has no _testsinglephase module"
        else:
            try:
                run_tasks([Task("_testsinglephase", "sum", (1, 2))])
            except WorkloadFailed as exc:
                RESULT["error"] = str(exc)
        """,
    )
    if "skip" in result:
        pytest.skip(result["skip"])
    assert "does not support loading in subinterpreters" in result["error"]


def test_unavailable_reason_on_3_11_names_the_version_needed() -> None:
    py311 = next((i for i in survey().interpreters if i.version_info[:2] == (3, 11)), None)
    if py311 is None:
        pytest.skip("no CPython 3.11 found")
    reason = unavailable_reason(py311)
    assert reason is not None
    assert "sub-interpreters with their own GIL need CPython >= 3.12" in reason


def test_run_tasks_refuses_cpython_3_11_in_process() -> None:
    if sys.version_info >= (3, 12):
        pytest.skip("the test process itself is 3.12+")
    with pytest.raises(UsageError, match=r">= 3\.12"):
        run_tasks([Task("math", "sqrt", (4.0,))])


def test_run_tasks_rejects_an_empty_list_and_an_unknown_backend() -> None:
    with pytest.raises(UsageError, match="no tasks"):
        run_tasks([])
    python = gil_python(13)
    proc = run_python(
        python.path,
        "from gilwise._subinterp.runner import Task, run_tasks\n"
        "try:\n    run_tasks([Task('math', 'sqrt', (4.0,))], backend='greenlets')\n"
        "except ValueError as exc:\n    print(exc)\n",
    )
    assert "unknown backend 'greenlets'" in proc.stdout, proc.stderr


def test_executor_backend_on_3_14_or_later() -> None:
    newer = [i for i in survey().interpreters if i.version_info[:2] >= (3, 14)]
    if not newer:
        pytest.skip(
            "no CPython 3.14+ found on PATH, pyenv, uv or the gilwise cache: the "
            "InterpreterPoolExecutor backend cannot be exercised on this machine"
        )
    result = _run_case(
        newer[0],
        """
        import time
        cpu0 = time.thread_time()
        run = run_tasks([Task("subinterp_tasks", "sqrt_log_sum", (20_000,)),
                         Task("subinterp_tasks", "bump"), Task("subinterp_tasks", "bump")])
        RESULT.update(backend=run.backend, values=run.values, startup_s=run.startup_s,
                      main_thread_cpu_s=time.thread_time() - cpu0)
        """,
    )
    assert result["backend"] == "InterpreterPoolExecutor"
    # The calling thread waits for the interpreters to start; it must not spin a core meanwhile
    # (a sub-second Queue.get timeout truncates to 0 and did: 0.1 s of CPU in a 1 s start-up,
    # against 2-4 ms when it sleeps in get()).
    assert result["main_thread_cpu_s"] < 0.05
    assert result["values"][0] == pytest.approx(_expected_sqrt_log(20_000), rel=1e-12)
    assert result["values"][1:] == [1, 1]


def test_probe_of_each_build_reports_a_subinterpreter_module() -> None:
    for info in (gil_python(12), gil_python(13), free_threaded_python()):
        again = probe(info.path)
        assert again.subinterpreters_module in ("_xxsubinterpreters", "_interpreters")
        assert unavailable_reason(again) is None
