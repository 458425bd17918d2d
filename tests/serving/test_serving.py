"""``gilwise serving`` starts real servers of each installed kind on loopback, loads them, and
leaves nothing behind: every model's whole process tree is gone once it is stopped."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from gilwise._loadgen.coordinator import CoreSplit, OpenLoopReport
from gilwise._serving.models import GILWISE_APP, MODEL_NAMED, MODELS
from gilwise._serving.run import Measurement, ServingConfig, _baseline_pairs, _Sweep, run_serving
from gilwise._serving.server import ServerProcess
from load_figures import assert_clean_route

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SRC = Path(__file__).resolve().parents[2] / "src"
PLAIN_APP = "plain_app:app"
SERVER_MODELS = [m.name for m in MODELS if m.offload is None]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("name", SERVER_MODELS)
def test_each_installed_server_starts_answers_and_stops_with_its_whole_tree(
    name: str, tmp_path: Path
) -> None:
    model = MODEL_NAMED[name]
    if model.available(PLAIN_APP) is not None:
        pytest.skip(str(model.available(PLAIN_APP)))
    port = _port()
    metrics_port = _port() if model.reports_gil_wait else None
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), str(FIXTURES)]))
    server = ServerProcess(
        model.argv(PLAIN_APP, "127.0.0.1", port, 2, tmp_path, metrics_port),
        env,
        tmp_path / "log",
        None,
        None if metrics_port is None else f"http://127.0.0.1:{metrics_port}/metrics",
    )
    try:
        assert server.wait_ready(f"http://127.0.0.1:{port}/health") > 0
        if metrics_port is None:
            assert server.gil_wait_s() is None
        else:  # Granian's exporter scrapes its workers once a second
            for _ in range(20):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5).read()
            deadline = time.monotonic() + 10
            while (waited := server.gil_wait_s()) is None and time.monotonic() < deadline:
                time.sleep(0.2)
            assert waited is not None and 0 <= waited < 10
        # a master and its workers, all in the session the server leads
        members = server.wait_members(model.processes(2), timeout_s=60)
        assert len(members) >= (3 if model.multi_process else 1), members
        uss, pss = server.memory() or (0, 0)
        assert 0 < uss <= pss * 2 and pss > 0
    finally:
        left = server.stop()
    assert left == []
    assert [
        pid for pid in members if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"
    ] == []


def test_a_server_that_is_not_installed_is_a_row_with_its_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "granian" else real(name, *a)
    )
    assert MODEL_NAMED["granian"].available(PLAIN_APP) == (
        "granian is not installed: pip install 'gilwise[servers]'"
    )
    assert "offload" in str(MODEL_NAMED["offload-processes"].available(PLAIN_APP))
    assert MODEL_NAMED["offload-processes"].available(GILWISE_APP) is None


def test_serving_writes_the_contract_and_a_verdict_for_a_users_app(tmp_path: Path) -> None:
    out, html = tmp_path / "serving.json", tmp_path / "serving.html"
    done = subprocess.run(
        [sys.executable, "-m", "gilwise.cli", "serving", PLAIN_APP, "--model", "uvicorn,uvicorn-workers",
         "--model", "offload-threads", "--workers", "2", "--mix", "/health=1,/=1", "--rate", "40",
         "--duration", "1.5", "--warmup", "0.5", "--repeats", "2", "--json", str(out), "--html", str(html)],
        cwd=FIXTURES, capture_output=True, text=True, timeout=200,
        env=dict(os.environ, PYTHONPATH=str(SRC), COLUMNS="80"),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    assert "Verdict: Run this app with" in done.stdout
    document = json.loads(out.read_text())
    assert document["schema"] == "gilwise.serving/1" and document["app"] == PLAIN_APP
    rows = {r["model"]: r for r in document["results"]}
    assert rows["offload-threads"]["status"] == "unavailable" and rows["offload-threads"]["reason"]
    for name in ("uvicorn", "uvicorn-workers"):
        row = rows[name]
        assert row["status"] == "ok" and row["server"] == "uvicorn" and row["offload"] is None
        assert row["workers"] == (2 if name == "uvicorn-workers" else 1)
        assert row["offered_rps"] == 40 and row["throughput_rps"] > 30
        assert row["busy_cores"] is not None and row["uss_bytes"] > 0 and row["pss_bytes"] > 0
        assert row["startup_s"] > 0
        # the load's own CPU and everyone else's, measured so that noise is named, not hidden
        assert 0 < row["client_cores"] < 2 and row["other_cores"] is not None and row["other_cores"] >= 0
        for route in ("/health", "/"):
            figures = row["routes"][route]
            assert_clean_route(figures)
            assert len(figures["p99_ms_values"]) == 2
    # paired by round at the same offered rate: recomputed from the rounds' own p99s
    base, multi = rows["uvicorn"]["routes"]["/health"], rows["uvicorn-workers"]["routes"]["/health"]
    paired = [m / b for m, b in zip(multi["p99_ms_values"], base["p99_ms_values"], strict=True)]
    assert multi["p99_ratio_vs_baseline"] == pytest.approx(statistics.median(paired))
    assert multi["p99_ratio_at_rps"] == base["p99_ratio_at_rps"] == 40
    assert rows["uvicorn"]["gil_wait_s_per_s"] is None
    assert "uvicorn reports no GIL wait" in rows["uvicorn"]["gil_wait_source"]
    assert rows["uvicorn"]["ingest"] is None  # a user's app gets no gilwise ingest feed
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "Verdict" in page


def _measured(rate: float, p99_ms: float) -> Measurement:
    route = {
        **dict.fromkeys(("p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"), p99_ms),
        "count": 10,
        "errors": 0,
        "errors_by_kind": {},
        "throughput_rps": rate,
        "curve_ms": [],
    }
    report = OpenLoopReport("http://127.0.0.1:1/", rate, 1.0, 10, 10, 0, 1, CoreSplit([0], [0], False), 0.0,
                            {"/health": route})  # type: ignore[dict-item]  # fmt: skip
    return Measurement(report, [], None, None, None, None)


def test_a_sweep_compares_p99s_at_one_offered_rate() -> None:
    """The baseline held 10 and 20 requests/s (and failed at 40), the other model held 10 to 80:
    their ratio is taken at 40, the highest rate both ran, never the row's 80 over 20."""
    base = _Sweep({10.0: _measured(10, 2.0), 20.0: _measured(20, 4.0), 40.0: _measured(40, 400.0)}, 20.0)
    other = _Sweep({r: _measured(r, 1.0) for r in (10.0, 20.0, 40.0, 80.0, 160.0)}, 80.0)
    runs = {"uvicorn": [base.steps[20.0]], "gunicorn": [other.steps[80.0]]}
    pairs, rate = _baseline_pairs("gunicorn", runs, {"uvicorn": base, "gunicorn": other})
    assert rate == 40.0  # the highest rate both were measured at: the row's 80 has no baseline
    assert [(m.report.offered_rps, b.report.offered_rps) for m, b in pairs] == [(40.0, 40.0)]
    same = _Sweep({10.0: _measured(10, 1.0), 20.0: _measured(20, 1.0), 40.0: _measured(40, 90.0)}, 20.0)
    pairs, rate = _baseline_pairs("granian", runs, {"uvicorn": base, "granian": same})
    assert rate == 20.0 and pairs == [(same.steps[20.0], base.steps[20.0])]  # the row's own rate


def test_a_rate_sweep_against_real_servers_reports_each_step_and_same_rate_ratios() -> None:
    config = ServingConfig(mix={"/health": 1.0}, rate=None, app=PLAIN_APP,
                           models=("uvicorn", "uvicorn-workers"), workers=2, duration_s=1.0, warmup_s=0.3,
                           p99_bound_ms=500.0, sweep_rates=(10.0, 40.0), app_dir=str(FIXTURES))  # fmt: skip
    document = run_serving(config)
    for row in document["results"]:
        assert row["status"] == "ok", row["reason"]
        steps = row["sweep"]
        assert [s["offered_rps"] for s in steps] == [10.0, 20.0, 40.0][: len(steps)]
        held = [s["offered_rps"] for s in steps if s["held"]]
        assert row["max_rate_held_rps"] == (max(held) if held else None)
        # the row is the step at the rate held, and the ratio compares that rate's p99s
        assert row["offered_rps"] == (row["max_rate_held_rps"] or 10.0)
        figures = row["routes"]["/health"]
        assert figures["p99_ms"] == next(
            s["cheap_p99_ms"] for s in steps if s["offered_rps"] == row["offered_rps"]
        )
        at = figures["p99_ratio_at_rps"]
        base_steps = {s["offered_rps"]: s["cheap_p99_ms"] for s in document["results"][0]["sweep"]}
        mine = {s["offered_rps"]: s["cheap_p99_ms"] for s in steps}
        assert at in base_steps and at in mine
        assert figures["p99_ratio_vs_baseline"] == pytest.approx(mine[at] / base_steps[at])
