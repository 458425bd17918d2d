"""``gilwise advise`` end to end: bad input exits with a clear message, a real verdict in JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gilwise.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def in_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the folder holding the target module, as a user would."""
    monkeypatch.chdir(FIXTURES)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["advise"], "give MODULE:FUNC"),
        (["advise", "no_such_module_here:f"], "cannot import module 'no_such_module_here'"),
        (["advise", "advise_fixtures:nope"], "has no attribute 'nope'; callables there: Holder"),
        (["advise", "advise_fixtures:NOT_A_FUNCTION"], "is a int, not a function"),
        (["advise", "advise_fixtures:Holder.nope"], "'Holder' has no attribute 'nope'"),
        (["advise", "advise_fixtures:python_loop", "--args", "[1,"], "--args is not valid JSON"),
        (["advise", "advise_fixtures:python_loop", "--args", "{}"], "must be a JSON an array"),
        (["advise", "advise_fixtures:python_loop", "--kwargs", "[]"], "must be a JSON an object"),
        (["advise", "advise_fixtures:python_loop", "--budget", "0"], "--budget 0.0 must be a positive"),
        (["advise", "--pid", "999999999"], "no process with PID 999999999"),
        (["advise", "--pid", "0"], "--pid 0: not a process id"),
        (["advise", "--pid", "1", "--args", "[1]"], "are for MODULE:FUNC"),
        (["advise", "--", "/no/such/program"], "cannot start '/no/such/program'"),
        (["advise", "advise_fixtures:python_loop", "--python", "/no/python"], "No such file or directory"),
    ],
)
@pytest.mark.usefixtures("in_fixtures")
def test_bad_input_exits_2_with_a_clear_message(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert needle in " ".join(capsys.readouterr().err.split())


@pytest.mark.usefixtures("in_fixtures")
def test_a_function_that_raises_exits_1_with_its_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", "advise_fixtures:fails", "--args", "[3]", "--budget", "20"]) == 1
    err = capsys.readouterr().err
    assert "the target failed" in err
    assert "ValueError: advise fixture failure for n=3" in err
    assert "_inner_failure" in err, "the traceback shows the user's frames"
    assert "gilwise/_advise" not in err, "not the worker's own frames"


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_verdict_json_for_a_pure_python_loop(tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    out = tmp_path / "advice.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gilwise.cli",
            "advise",
            "advise_fixtures:python_loop",
            "--args",
            "[60000]",
            "--budget",
            "45",
            "--json",
            str(out),
        ],
        cwd=FIXTURES,
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["schema"] == "gilwise.advise/1"
    assert doc["target"] == "advise_fixtures:python_loop"
    assert set(doc["recommended"]) >= {"model", "workers", "reason", "code"}
    assert doc["gil_held_fraction"] is not None and doc["gil_held_fraction"] > 0.6
    assert 0.0 < doc["cpu_wall_ratio"] <= 1.2
    assert doc["transfer"]["picklable"] and doc["transfer"]["args_bytes"] > 0
    assert doc["machine"]["usable_cores"] >= 1
    measured = [p for p in doc["predictions"] if p["measured_speedup"] is not None]
    assert {p["model"] for p in measured} >= {"serial", doc["recommended"]["model"]}
    assert len(measured) >= 2, "the recommended model and the runner-up are benched against serial"
    for p in doc["predictions"]:
        assert set(p) >= {"model", "workers", "predicted_speedup", "measured_speedup"}
        assert p["predicted_speedup"] > 0
    assert doc["elapsed_s"] <= 45
    assert "Verdict:" in proc.stdout and "predicted" in proc.stdout
