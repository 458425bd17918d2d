"""``gilwise doctor``: the interpreters it lists are real, their flags right, its reasons useful."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from _pythons import free_threaded_python, gil_python
from gilwise import _models
from gilwise._harness.doctor import native_status
from gilwise._pythons.builds import free_threaded_build_path
from gilwise._pythons.discovery import current
from gilwise.cli import main

pytestmark = pytest.mark.timeout(120)


def _doctor(cmd: list[str], env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cmd, "doctor", *extra], capture_output=True, text=True, timeout=110, env=env)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    from pathlib import Path

    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2] / "src")
    proc = _doctor([sys.executable, "-m", "gilwise.cli"], env, "--json")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def test_json_lists_at_least_two_interpreters_with_correct_free_threaded_flags(
    document: dict[str, Any],
) -> None:
    assert document["schema"] == "gilwise.doctor/1"
    entries = {e["path"]: e for e in document["interpreters"]}
    for entry in entries.values():
        assert {"path", "version", "free_threaded", "gil_enabled"} <= set(entry)
    here = current()
    assert entries[here.path]["free_threaded"] is False and entries[here.path]["source"] == "current"
    free = free_threaded_python()
    assert len(entries) >= 2
    assert entries[free.path]["free_threaded"] is True
    assert entries[free.path]["gil_enabled"] is False  # at start-up, nothing imported yet
    assert entries[free.path]["version"] == free.version
    twin = [e for e in entries.values() if e["version"] == free.version and not e["free_threaded"]]
    assert all(e["gil_enabled"] for e in twin)


def test_json_machine_and_skipped(document: dict[str, Any]) -> None:
    machine = document["machine"]
    assert machine["usable_cores"] >= 1 and machine["cpu_model"]
    assert len(machine["load_average"]) == 3 and "cgroup_cpu_limit" in machine
    for skipped in document["skipped"]:
        assert skipped["path"] and skipped["reason"]


def test_json_models_say_what_they_need_and_why_not(document: dict[str, Any]) -> None:
    models = {m["name"]: m for m in document["models"]}
    assert list(models) == list(_models.MODELS)
    labels = {e["path"]: e for e in document["interpreters"]}
    interp = models["interpreters"]
    for path, reason in interp["unavailable"].items():
        assert labels[path]["version"].startswith("3.11") and "3.12" in reason
    assert all(not labels[p]["version"].startswith("3.11") for p in interp["available_on"])
    for entry in document["interpreters"]:
        assert set(entry["models"]) == set(models)
        assert all(isinstance(m["needs"], str) and m["needs"] for m in models.values())


def test_native_status_of_the_project_interpreter_loads_every_kernel(document: dict[str, Any]) -> None:
    here = next(e for e in document["interpreters"] if e["source"] == "current")
    native = here["native"]
    assert native["capi_built"] is True and native["capi_file"].endswith("_capi.abi3.so")
    assert native["impls"] == {"native": None, "ctypes": None, "numpy": None}


def test_native_status_of_another_gil_build_loads_the_stable_abi_extension() -> None:
    status = native_status(gil_python(13))
    assert status["capi_built"] is True and status["capi_file"].endswith("_capi.abi3.so")
    assert status["impls"]["native"] is None and status["impls"]["ctypes"] is None
    assert status["gil_reenabled_by_import"] is False


def test_native_status_of_a_free_threaded_build_says_how_to_build_the_extension() -> None:
    free = free_threaded_python()
    status = native_status(free)
    if status["capi_built"]:
        pytest.skip(f"the C-API extension was built for {free.path} too ({status['capi_file']})")
    assert status["capi_build_command"] == f"uv run python -m gilwise._native._build {free.path}"
    assert status["capi_build_command"] in status["impls"]["native"]
    assert status["impls"]["ctypes"] is None  # one library serves every interpreter
    assert status["gil_reenabled_by_import"] is False


def test_text_output_and_bad_python(gilwise_cmd: list[str], subprocess_env: dict[str, str]) -> None:
    proc = _doctor(gilwise_cmd, subprocess_env)
    assert proc.returncode == 0, proc.stderr
    for needle in ("Machine", "usable cores", "CPython builds", "Concurrency models", "interpreters"):
        assert needle in proc.stdout


def test_an_unusable_python_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--python", "/nonexistent/python3"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_every_build_has_its_jit_state_and_how_it_was_read(document: dict[str, Any]) -> None:
    for entry in document["interpreters"]:
        assert entry["jit"] in ("on", "off", "not built"), entry
        newer = tuple(int(p) for p in entry["version"].split(".")[:2]) >= (3, 14)
        assert entry["jit_source"] == ("sys._jit" if newer else "CONFIG_ARGS")
    free = free_threaded_python()
    ours = next(e for e in document["interpreters"] if e["path"] == free.path)
    assert ours["jit"] == "not built"  # the build script never passes --enable-experimental-jit


def test_the_jit_state_comes_from_the_running_314() -> None:
    py314 = gil_python(14)
    proc = subprocess.run(
        [py314.path, "-I", "-c", "import sys; print(sys._jit.is_available(), sys._jit.is_enabled())"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    available, enabled = proc.stdout.split()
    expected = "on" if enabled == "True" else ("off" if available == "True" else "not built")
    assert py314.jit == expected and py314.jit_source == "sys._jit"


def test_missing_builds_of_the_script_are_listed_with_their_command(document: dict[str, Any]) -> None:
    builds = {b["label"]: b for b in document["cached_builds"]}
    assert set(builds) == {"3.13.5t", "3.13.5", "3.14.10t", "3.14.10", "3.15.2t", "3.15.2"}
    assert builds["3.14.10t"]["build_command"] == "scripts/build-free-threaded-python.sh 3.14"
    assert builds["3.13.5t"]["path"] == free_threaded_build_path()
    assert builds["3.13.5t"]["present"] is os.path.exists(free_threaded_build_path())


def test_text_output_has_a_jit_column(gilwise_cmd: list[str], subprocess_env: dict[str, str]) -> None:
    proc = _doctor(gilwise_cmd, {**subprocess_env, "COLUMNS": "250"})
    assert proc.returncode == 0, proc.stderr
    header = next(line for line in proc.stdout.splitlines() if "build" in line and "GIL" in line)
    assert "JIT" in header
    assert "not built" in proc.stdout
