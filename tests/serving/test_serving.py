"""``gilwise serving`` starts real servers of each installed kind on loopback, loads them, and
leaves nothing behind: every model's whole process tree is gone once it is stopped."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from gilwise._serving.models import GILWISE_APP, MODEL_NAMED, MODELS
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
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), str(FIXTURES)]))
    server = ServerProcess(model.argv(PLAIN_APP, "127.0.0.1", port, 2, tmp_path), env, tmp_path / "log", None)
    try:
        assert server.wait_ready(f"http://127.0.0.1:{port}/health") > 0
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
        for route in ("/health", "/"):
            figures = row["routes"][route]
            assert_clean_route(figures)
            assert len(figures["p99_ms_values"]) == 2
    assert rows["uvicorn"]["routes"]["/health"]["p99_ratio_vs_baseline"] == 1.0
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "Verdict" in page
