"""The open-loop generator against a server with a known stall: 200 ms of blocked event loop
once a second. The closed loop (send, wait, send) sends one request into each stall; the open
loop keeps its schedule, so every request due in those 200 ms waits, and its p99 shows it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from gilwise._loadgen.coordinator import LOAD_SCHEMA, LoadSettings, run_open_loop
from load_figures import assert_clean_route

pytestmark = [pytest.mark.timeout(90), pytest.mark.slow]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stalling_server() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "stall_app:app", "--port", str(port), "--log-level", "warning"],
        cwd=FIXTURES,
        start_new_session=True,
        env=dict(os.environ, PYTHONPATH=str(FIXTURES)),
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url + "health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert not psutil.pid_exists(proc.pid) or psutil.Process(proc.pid).status() == psutil.STATUS_ZOMBIE


def test_the_open_loop_p99_shows_the_stall_that_the_closed_loop_hides(stalling_server: str) -> None:
    mix = {"/health": 1.0}
    closed = run_open_loop(LoadSettings(url=stalling_server, mix=mix, rate=None, duration_s=4.0))
    opened = run_open_loop(LoadSettings(url=stalling_server, mix=mix, rate=100.0, duration_s=4.0))
    closed_p99 = closed.routes["/health"]["p99_ms"]
    open_p99 = opened.routes["/health"]["p99_ms"]
    print(f"closed loop: {closed.routes['/health']['count']} requests, p99 {closed_p99} ms; "
          f"open loop at 100/s: {opened.routes['/health']['count']} requests, p99 {open_p99} ms, "
          f"{opened.late_sends} late sends")  # fmt: skip
    assert closed_p99 is not None and closed_p99 < 20.0
    assert open_p99 is not None and open_p99 >= 150.0
    assert closed.errors == opened.errors == 0
    # a second's stall lands in every second of the run: the worst request waited most of it
    assert opened.routes["/health"]["max_ms"] >= 180.0  # type: ignore[operator]
    assert opened.as_json()["schema"] == LOAD_SCHEMA
    assert opened.scheduled == opened.sent == 400


def test_load_with_a_rate_takes_any_paths_and_writes_load_2(stalling_server: str, tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    done = subprocess.run(
        [sys.executable, "-m", "gilwise.cli", "load", "--url", stalling_server, "--rate", "50",
         "--mix", "/health=3,/anything=1", "--duration", "2", "--arrivals", "poisson", "--json", str(out)],
        capture_output=True, text=True, timeout=60, env=dict(os.environ, COLUMNS="80"),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    assert "open loop at 50 requests/s" in done.stdout and "p99 ms" in done.stdout
    report = json.loads(out.read_text())
    assert report["schema"] == "gilwise.load/2" and report["offered_rps"] == 50
    assert set(report["routes"]) == {"/health", "/anything"}
    for figures in report["routes"].values():
        assert_clean_route(figures)
    assert isinstance(report["late_sends"], int) and report["client_processes"] == 1
