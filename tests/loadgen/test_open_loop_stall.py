"""The open-loop generator against a server with a known stall: 200 ms of blocked event loop
once a second. A closed loop (send, wait, send: the classic client, kept here only as the
comparison) sends one request into each stall; the open loop keeps its schedule, so every
request due in those 200 ms waits, and its p99 shows it."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from gilwise._loadgen.coordinator import LOAD_SCHEMA, LoadSettings, run_open_loop
from gilwise._results.stats import nearest_rank
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


def closed_loop_latencies_ms(url: str, path: str, duration_s: float) -> list[float]:
    """The classic client: one keep-alive connection, the next request once the answer is in,
    latency from the actual send. What coordinated omission looks like."""
    parts = url.removeprefix("http://").rstrip("/").split(":")
    conn = http.client.HTTPConnection(parts[0], int(parts[1]), timeout=10)
    latencies = []
    deadline = time.perf_counter() + duration_s
    try:
        while (sent := time.perf_counter()) < deadline:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            latencies.append((time.perf_counter() - sent) * 1000)
    finally:
        conn.close()
    return sorted(latencies)


def test_the_open_loop_p99_shows_the_stall_that_the_closed_loop_hides(stalling_server: str) -> None:
    closed = closed_loop_latencies_ms(stalling_server, "/health", 4.0)
    opened = run_open_loop(
        LoadSettings(url=stalling_server, mix={"/health": 1.0}, rate=100.0, duration_s=4.0)
    )
    closed_p99 = nearest_rank(closed, 0.99)
    open_p99 = opened.routes["/health"]["p99_ms"]
    print(f"closed loop: {len(closed)} requests, p99 {closed_p99:.2f} ms; "
          f"open loop at 100/s: {opened.routes['/health']['count']} requests, p99 {open_p99} ms, "
          f"{opened.late_sends} late sends")  # fmt: skip
    assert closed_p99 < 20.0
    assert open_p99 is not None and open_p99 >= 150.0
    assert opened.errors == 0
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


@pytest.fixture
def server_closing_idle_connections() -> Iterator[str]:
    """Answers each request, then closes the connection without saying so (no
    ``Connection: close``): what a server does to a keep-alive connection whose idle timeout
    ran out just as the client reused it."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    data = b""
                    while b"\r\n\r\n" not in data and (chunk := conn.recv(4096)):
                        data += chunk
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stopping.set()
        thread.join(timeout=5)
        listener.close()


def test_a_keep_alive_connection_the_server_closed_is_not_an_error(
    server_closing_idle_connections: str,
) -> None:
    report = run_open_loop(
        LoadSettings(url=server_closing_idle_connections, mix={"/x": 1.0}, rate=50.0, duration_s=1.0)
    )
    assert report.routes["/x"]["errors_by_kind"] == {}
    assert report.routes["/x"]["count"] == report.sent == 50
