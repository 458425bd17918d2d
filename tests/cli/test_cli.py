"""The bench command end to end, in a subprocess: exits, JSON contract, interruption."""

from __future__ import annotations

import io
import json
import signal
import statistics
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest

from gilwise._results.history import History
from gilwise.cli import main


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["bench", "--workload", "nope"], "valid choices: sqrt_log"),
        (["bench", "--model", "threads,bogus"], "valid choices: serial, threads"),
        (["bench", "--model", "all,bogus"], "unknown model 'bogus'"),
        (["bench", "--impl", "fortran"], "valid choices: python"),
        (["bench", "--workers", "two"], "not a whole number"),
        (["bench", "--workers", "0"], "out of range"),
        (["bench", "--repeats", "0"], "out of range"),
        (["bench", "--cell-timeout", "-1"], "positive"),
        (["bench", "--budget", "-5"], "out of range: give seconds"),
        (["bench", "--python", "/nonexistent/python"], "cannot run it"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_naming_valid_choices(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert needle in capsys.readouterr().err.replace("\n", " ")


REQUIRED = {
    "workload",
    "kind",
    "impl",
    "model",
    "interpreter",
    "workers",
    "tasks",
    "size",
    "wall_s",
    "speedup",
    "efficiency",
    "cpu_busy_cores_mean",
    "cpu_per_core",
    "peak_rss_bytes",
    "status",
    "reason",
}


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_json_contract_round_trip(
    tmp_path: Path, gilwise_cmd: list[str], subprocess_env: dict[str, str]
) -> None:
    out = tmp_path / "run.json"
    proc = subprocess.run(
        [
            *gilwise_cmd,
            "bench",
            "--workload",
            "sleep",
            "--model",
            "serial,threads,processes-spawn",
            "--workers",
            "2",
            "--repeats",
            "2",
            "--size",
            "100",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=170,
        env=subprocess_env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Python threads" in proc.stdout and "sleep" in proc.stdout
    doc = json.loads(out.read_text())
    assert doc["schema"] == "gilwise.bench/1" and doc["complete"] is True
    assert doc["machine"]["usable_cores"] >= 1
    assert isinstance(doc["warnings"], list)
    rows = {r["model"]: r for r in doc["results"]}
    assert set(rows) == {"serial", "threads", "processes-spawn"}
    for row in rows.values():
        assert set(row) >= REQUIRED, REQUIRED - set(row)
        assert row["status"] == "ok" and row["tasks"] == 2 and row["size"] == 100
        assert set(row["wall_s"]) == {"median", "min", "max", "values"}
        assert len(row["wall_s"]["values"]) == 2
        assert {"path", "version", "gil_enabled", "free_threaded"} <= set(row["interpreter"])
        assert row["cpu_per_core"]["interval_s"] == 0.1
    serial = rows["serial"]["wall_s"]["median"]
    threads = rows["threads"]
    # The headline is the median of the per-round paired ratios; the ratio of medians keeps its
    # own name (they differ whenever the machine's speed drifts between rounds).
    serial_by_round = dict(zip(rows["serial"]["round_ids"], rows["serial"]["wall_s"]["values"], strict=True))
    paired = [
        serial_by_round[r] / v for r, v in zip(threads["round_ids"], threads["wall_s"]["values"], strict=True)
    ]
    assert threads["speedup"] == pytest.approx(statistics.median(paired))
    assert threads["speedup"] == pytest.approx(threads["speedup_paired"]["median"])
    assert threads["speedup_of_medians"] == pytest.approx(serial / threads["wall_s"]["median"])
    assert threads["efficiency"] == pytest.approx(threads["speedup"] / 2)
    # Two 100 ms sleeps on two threads overlap (behaviour, with a wide margin: ideal is 2).
    assert threads["speedup"] > 1.3
    # Added fields (gilwise.bench/1 only grows): how sure, what the orchestrator cost, memory.
    for name in ("threads", "processes-spawn"):
        row = rows[name]
        interval = row["speedup_ci"]
        assert interval["low"] <= row["speedup_paired"]["median"] <= interval["high"]
        assert interval["rounds"] == 2 and interval["level"] == pytest.approx(0.5)
        assert isinstance(row["speedup_uncertain"], bool)
        assert len(row["orchestrator_cpu_cores"]["values"]) == 2
        assert set(row["memory_per_worker"]) == {"rss_bytes", "pss_bytes", "uss_bytes"}
    assert rows["processes-spawn"]["memory_basis"].startswith("processes started by the cell")
    spawned = rows["processes-spawn"]["memory_per_worker"]
    # A spawned worker is a fresh interpreter: it holds megabytes of its own.
    assert spawned["uss_bytes"] is not None and spawned["uss_bytes"] > 2**20
    assert rows["threads"]["memory_basis"].startswith("growth of the one process")
    # A one-process cell is never read while it runs (the worker reports its own memory after
    # the clock stops); a pool's processes are.
    assert rows["threads"]["memory_reads"] == 0 and rows["serial"]["memory_reads"] == 0
    assert rows["threads"]["peak_memory"]["uss_bytes"] > 2**20
    assert rows["processes-spawn"]["memory_reads"] >= 1
    assert doc["settings"]["budget_s"] == 0.0  # --repeats given: exactly that many rounds


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_ctrl_c_keeps_finished_results_and_kills_workers(
    tmp_path: Path, gilwise_cmd: list[str], subprocess_env: dict[str, str], isolated_history: Path
) -> None:
    out = tmp_path / "run.json"
    proc = subprocess.Popen(
        [
            *gilwise_cmd,
            "bench",
            "--workload",
            "sleep,sqrt_log",
            "--model",
            "serial,processes-fork",
            "--workers",
            "2",
            "--repeats",
            "50",
            "--size",
            "50",
            "--json",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if out.exists() and any(r.get("rounds") for r in json.loads(out.read_text())["results"]):
                break
            time.sleep(0.2)
        else:
            pytest.fail("no round finished in time")
        time.sleep(0.3)
        descendants = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    doc = json.loads(out.read_text())
    assert doc["interrupted"] is True and doc["complete"] is False
    finished = [r for r in doc["results"] if r["rounds"]]
    assert finished and all(r["wall_s"]["median"] > 0 for r in finished)
    [recorded] = History(isolated_history).runs()
    assert recorded.status == "interrupted" and History(isolated_history).load(recorded.id) == doc
    gone, alive = psutil.wait_procs(descendants, timeout=10)
    assert not alive, [p.pid for p in alive]


def test_progress_redraws_only_between_cells() -> None:
    """No refresh thread: a redraw while a cell runs would cost the orchestrator CPU that the
    parallel cells pay for on a machine with few cores."""
    from rich.console import Console

    from gilwise._cli.bench import make_progress

    progress = make_progress(Console(file=io.StringIO()))
    assert progress.live.auto_refresh is False
    with progress:
        assert not any(type(t).__name__ == "_RefreshThread" for t in threading.enumerate())
