"""The ``interpreters`` model: sub-interpreters with their own GIL, run by the bench harness.

Runs in subprocesses under 3.12 / 3.13 / 3.13t and 3.14 / 3.15 (InterpreterPoolExecutor; skipped
with the reason where absent); the project's own 3.11 must say why it cannot.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from _pythons import build_gil_test_extension, free_threaded_python, gil_python, run_python
from gilwise import _models
from gilwise._models.subinterpreters import split_tasks
from gilwise._pythons.discovery import current

pytestmark = pytest.mark.timeout(300)


def test_unavailable_on_3_11_with_the_reason() -> None:
    here = current()
    if here.version_info[:2] != (3, 11):
        pytest.skip("the project interpreter is not 3.11")
    reason = _models.get_model("interpreters").available(here)
    assert reason is not None
    assert "sub-interpreters with their own GIL need CPython >= 3.12" in reason
    assert here.version in reason and "--python" in reason


def test_registered_after_asyncio_with_what_it_needs() -> None:
    model = _models.get_model("interpreters")
    assert model.family == "interpreters" and "3.12" in model.needs
    assert "interpreters" not in _models.DEFAULT_MODELS  # opt-in: it needs another CPython


@pytest.mark.parametrize(
    ("tasks", "workers", "expected"),
    [(4, 2, [2, 2]), (5, 2, [3, 2]), (1, 2, [1]), (6, 4, [2, 2, 1, 1]), (3, 3, [1, 1, 1])],
)
def test_tasks_are_spread_evenly_over_the_interpreters(tasks: int, workers: int, expected: list[int]) -> None:
    assert split_tasks(tasks, workers) == expected
    assert sum(split_tasks(tasks, workers)) == tasks


_EXECUTE = """
import json, threading
from gilwise._models import Job, get_model
from gilwise._workloads import TaskRef
from gilwise._workloads.cpu import sqrt_log_python
job = Job(task=TaskRef("sqrt_log_local", "python", 20000, {}), tasks=4, workers=2)
ex = get_model("interpreters").execute(job)
expected = sqrt_log_python(20000, {})
print(json.dumps({
    "results": [o.result for o in ex.outcomes],
    "expected": expected,
    "workers": sorted({o.worker for o in ex.outcomes}),
    "spans_ok": all(o.end > o.start for o in ex.outcomes),
    "startup_s": ex.startup_s, "compute_s": ex.compute_s, "shutdown_s": ex.shutdown_s,
    "notes": ex.notes,
    "threads_left": [t.name for t in threading.enumerate() if t is not threading.main_thread()],
}))
"""


@pytest.mark.parametrize(
    "get_python",
    [
        pytest.param(lambda: gil_python(12), id="3.12"),
        pytest.param(lambda: gil_python(13), id="3.13"),
        pytest.param(free_threaded_python, id="3.13t"),
        pytest.param(lambda: gil_python(14), id="3.14"),
        pytest.param(lambda: gil_python(15), id="3.15"),
    ],
)
def test_execute_runs_every_task_in_two_interpreters_with_phases(get_python: Any) -> None:
    python = get_python()
    proc = run_python(python.path, _EXECUTE)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert data["results"] == [data["expected"]] * 4  # the very same float as sqrt_log
    assert len(data["workers"]) == 2 and all(w.endswith(":subinterpreter") for w in data["workers"])
    assert data["spans_ok"] and data["startup_s"] > 0 and data["compute_s"] > 0
    backends = {(3, 12): "_xxsubinterpreters", (3, 13): "_interpreters"}
    assert data["notes"] == [backends.get(tuple(python.version_info[:2]), "InterpreterPoolExecutor")]
    assert data["threads_left"] == []


def _bench(args: list[str], out: Path, env: dict[str, str], cmd: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [*cmd, "bench", *args, "--json", str(out)], capture_output=True, text=True, timeout=280, env=env
    )
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    doc: dict[str, Any] = json.loads(out.read_text())
    doc["_stdout"], doc["_returncode"] = proc.stdout, proc.returncode
    return doc


@pytest.mark.slow
def test_bench_compares_a_free_threaded_and_a_gil_build_in_one_run(
    tmp_path: Path, gilwise_cmd: list[str], subprocess_env: dict[str, str]
) -> None:
    free, gil = free_threaded_python(), gil_python(12)
    doc = _bench(
        [
            *("--python", free.path, "--python", gil.path),
            *("--workload", "sqrt_log_local", "--model", "serial,threads,interpreters"),
            *("--workers", "2", "--size", "20000", "--repeats", "2"),
        ],
        tmp_path / "run.json",
        subprocess_env,
        gilwise_cmd,
    )
    assert doc["_returncode"] == 0, [r["reason"] for r in doc["results"] if r["status"] != "ok"]
    assert {i["path"] for i in doc["interpreters"]} == {free.path, gil.path}
    rows = {(r["interpreter"]["path"], r["model"]): r for r in doc["results"]}
    assert len(rows) == 6
    for (path, model), row in rows.items():
        info = free if path == free.path else gil
        assert row["status"] == "ok", row["reason"]
        assert row["interpreter"]["version"] == info.version
        assert row["interpreter"]["free_threaded"] is info.free_threaded
        assert row["interpreter"]["gil_enabled"] is (not info.free_threaded)
        assert row["size"] == 20000 and row["round_ids"] == [0, 1]
        if model == "interpreters":
            assert row["distinct_workers"] == 2 and row["startup_s"]["median"] > 0
    out = doc["_stdout"]
    assert f"[{free.label}] sqrt_log_local" in out and f"[{gil.label}] sqrt_log_local" in out
    assert "Interpreters compared" in out and "single-thread penalty" in out
    assert f"{free.label} serial / {gil.label} serial" in out


@pytest.mark.slow
def test_bench_on_3_14_runs_interpreter_pool_beside_processes(
    tmp_path: Path, gilwise_cmd: list[str], subprocess_env: dict[str, str]
) -> None:
    """PEP 734's InterpreterPoolExecutor under the real harness, its start-up beside processes'."""
    py314 = gil_python(14)
    doc = _bench(
        [
            *("--python", py314.path, "--workload", "sqrt_log_local"),
            *("--model", "serial,interpreters,processes", "--workers", "2", "--size", "20000"),
            *("--repeats", "2"),
        ],
        tmp_path / "run.json",
        subprocess_env,
        gilwise_cmd,
    )
    assert doc["_returncode"] == 0, [r["reason"] for r in doc["results"] if r["status"] != "ok"]
    rows = {r["model"]: r for r in doc["results"]}
    assert set(rows) == {"serial", "interpreters", "processes"}
    pool = rows["interpreters"]
    assert pool["status"] == "ok" and pool["notes"] == ["InterpreterPoolExecutor"]
    assert pool["distinct_workers"] == 2 and pool["startup_s"]["median"] > 0
    assert rows["processes"]["startup_s"]["median"] > 0
    assert f"Python {py314.label} (GIL build)" in doc["_stdout"]


@pytest.mark.slow
def test_the_project_3_11_row_is_unavailable_with_the_reason(
    tmp_path: Path, gilwise_cmd: list[str], subprocess_env: dict[str, str]
) -> None:
    doc = _bench(
        [
            "--workload",
            "sqrt_log_local",
            "--model",
            "serial,interpreters",
            "--size",
            "2000",
            "--repeats",
            "1",
        ],
        tmp_path / "run.json",
        subprocess_env,
        gilwise_cmd,
    )
    row = next(r for r in doc["results"] if r["model"] == "interpreters")
    if current().version_info[:2] >= (3, 12):
        pytest.skip("the project interpreter supports sub-interpreters")
    assert row["status"] == "unavailable" and "need CPython >= 3.12" in row["reason"]
    assert doc["_returncode"] == 0


@pytest.mark.slow
def test_an_extension_that_cannot_load_in_a_subinterpreter_makes_the_row_unavailable(
    tmp_path: Path, gilwise_cmd: list[str], subprocess_env: dict[str, str]
) -> None:
    """On 3.12 `_ctypes` is single-phase init: the ctypes impl cannot run in a sub-interpreter."""
    py312 = gil_python(12)
    doc = _bench(
        [
            *("--python", py312.path, "--workload", "sqrt_log", "--impl", "ctypes"),
            *("--model", "serial,interpreters", "--workers", "2", "--size", "20000", "--repeats", "1"),
        ],
        tmp_path / "run.json",
        subprocess_env,
        gilwise_cmd,
    )
    rows = {r["model"]: r for r in doc["results"]}
    assert rows["serial"]["status"] == "ok"
    assert rows["interpreters"]["status"] == "unavailable"
    reason = rows["interpreters"]["reason"]
    assert "cannot run in a sub-interpreter" in reason and "_ctypes" in reason
    assert doc["_returncode"] == 0


@pytest.mark.slow
def test_a_free_threaded_build_whose_gil_an_extension_re_enabled_is_flagged(
    tmp_path: Path, gilwise_cmd: list[str], subprocess_env: dict[str, str]
) -> None:
    """sitecustomize imports an extension without Py_mod_gil in every worker of the 3.13t."""
    free = free_threaded_python()
    site = tmp_path / "site"
    site.mkdir()
    build_gil_test_extension(free.path, "gilstate_plain", site, declare_nogil=False)
    (site / "sitecustomize.py").write_text(
        "import sys, warnings\n"
        f"if sys.executable == {free.path!r}:  # the 3.13t workers only, not the orchestrator\n"
        "    warnings.simplefilter('ignore')\n"
        "    import gilstate_plain\n"
    )
    env = {**subprocess_env, "PYTHONPATH": f"{site}:{subprocess_env['PYTHONPATH']}"}
    doc = _bench(
        [
            *("--python", free.path, "--workload", "sqrt_log_local", "--model", "serial,threads"),
            *("--workers", "2", "--size", "2000", "--repeats", "1"),
        ],
        tmp_path / "run.json",
        env,
        gilwise_cmd,
    )
    assert free.gil_enabled is False  # the probe (isolated mode) saw the build's default
    for row in doc["results"]:
        assert row["status"] == "ok"
        assert row["interpreter"]["free_threaded"] is True and row["interpreter"]["gil_enabled"] is True
    text = " ".join(doc["_stdout"].split())
    assert "free-threaded build, ⚠ GIL re-enabled at run time" in text
    assert "Py_mod_gil" in text
