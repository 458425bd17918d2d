"""advise under misbehaving user code: its own channel to the workers, crashes named, memory
measured and respected. (The busy machine is ``test_advise_busy.py``.)"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from fault_injection import run_gilwise, survivors
from gilwise._advise import AdviseSettings
from gilwise._system import root

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

pytestmark = pytest.mark.slow


def test_a_function_printing_dots_without_a_newline_gets_a_verdict(
    tmp_path: Path, fault_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES)
    out = tmp_path / "verdict.json"
    done = run_gilwise(
        fault_env, "advise", "advise_faulty:progress_dots", "--budget", "20", "--json", str(out), timeout_s=90
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert json.loads(out.read_text())["recommended"]["model"]
    assert not survivors(fault_env["GILWISE_FAULT_RUN"])


def test_a_segfault_names_the_signal_and_the_users_frame(
    fault_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES)
    done = run_gilwise(fault_env, "advise", "advise_faulty:segfault", "--budget", "20", timeout_s=60)
    err = " ".join(done.stderr.split())
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "SIGSEGV" in err
    # faulthandler's dump, past ctypes' own Python frame: the user's line and function.
    assert "advise_faulty.py:22 in segfault" in err, err
    assert "about to read address 0" in err, "the output it printed before the crash is shown"
    assert not survivors(fault_env["GILWISE_FAULT_RUN"])


def test_calls_that_do_not_fit_in_memory_together_cap_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 MiB per call, 300 MiB available (a fake /proc/meminfo): two calls at once would not
    fit, so no model with two workers is probed or verified, and the report says why."""
    monkeypatch.syspath_prepend(str(FIXTURES))
    hungry = importlib.import_module("advise_faulty").hungry
    fake = tmp_path / "root"
    (fake / "proc").mkdir(parents=True)
    (fake / "proc/meminfo").write_text("MemTotal: 1048576 kB\nMemAvailable: 307200 kB\n")
    monkeypatch.setattr(root, "HOST_ROOT", fake)
    report = AdviseSettings(budget_s=25, find_free_threaded=False).advise(hungry, 200)
    memory = report.to_json()["memory"]
    assert memory["peak_call_bytes"] is not None and memory["peak_call_bytes"] >= 190 << 20, memory
    assert memory["available_bytes"] == 307200 * 1024
    assert memory["workers_cap"] == 1
    assert "peaks at" in memory["note"] and memory["note"] in report.notes
    assert report.recommended.workers == 1
    assert all(p.measured_speedup is None for p in report.predictions if p.workers > 1)
