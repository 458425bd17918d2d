"""``serve`` off loopback is no open door: every route but /health needs the token, which is at
least 16 characters and need not be on the command line; its data is the server's alone; a
busy port is exit 2 before any file exists; ``--port 0`` says which port it got."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import re
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import httpx
import psutil
import pytest
from fastapi import HTTPException
from starlette.requests import Request

from fault_injection import gilwise_command, reaped, run_gilwise
from gilwise._service import state as service_state
from gilwise._service.settings import ServiceSettings

pytestmark = pytest.mark.slow

TOKEN = "a-token-of-24-characters"


def test_a_short_token_is_refused(tmp_path: Path, fault_env: dict[str, str]) -> None:
    env = {**fault_env, "GILWISE_SERVE_TOKEN": "short"}
    done = run_gilwise(
        env, "serve", "--host", "0.0.0.0", "--port", "0", "--db", str(tmp_path / "d" / "e.duckdb")
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "--token …: is 5 characters long; use at least 16" in " ".join(done.stderr.split())
    assert not (tmp_path / "d").exists()


def test_a_busy_port_is_exit_2_before_any_file(tmp_path: Path, fault_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_gilwise(fault_env, "serve", "--port", str(port), "--db", str(tmp_path / "d" / "e.duckdb"))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"port {port} is in use" in done.stderr
    assert not (tmp_path / "d").exists()


def test_the_token_flag_warns_that_ps_shows_it(fault_env: dict[str, str]) -> None:
    with socket.socket() as taken:  # a busy port: the run stops right after its flags are read
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_gilwise(fault_env, "serve", "--host", "0.0.0.0", "--port", str(port), "--token", TOKEN)
    err = " ".join(done.stderr.split())
    assert done.returncode == 2 and "Traceback" not in err, err
    assert "--token is visible to every user of this machine (`ps`); pass it in $GILWISE_SERVE_TOKEN" in err


def test_the_demo_keeps_the_token_out_of_every_command_line(
    tmp_path: Path, fault_env: dict[str, str]
) -> None:
    """``serve --demo`` off loopback starts its load generator with the server's token: in its
    environment, never its arguments, where any user's ``ps`` would read it (on port 0 too)."""
    env = {**fault_env, "GILWISE_SERVE_TOKEN": TOKEN}
    argv = ["serve", "--demo", "--host", "0.0.0.0", "--port", "0", "--db", str(tmp_path / "e.duckdb")]
    proc = subprocess.Popen(
        [*gilwise_command(), *argv], stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    with reaped(proc):
        assert proc.stderr is not None
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", proc.stderr.readline())
        assert found and found.group(1) != "0"
        server = psutil.Process(proc.pid)
        deadline = time.monotonic() + 30
        while not (loads := [p for p in server.children(recursive=True) if "load" in p.cmdline()]):
            assert time.monotonic() < deadline, "the demo's load generator did not start"
            time.sleep(0.1)
        assert loads[0].environ().get("GILWISE_SERVE_TOKEN") == TOKEN, "the load got the token"
        for member in [server, *server.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                assert TOKEN not in " ".join(member.cmdline()), member.cmdline()
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "Traceback" not in stderr, stderr


def test_off_loopback_a_write_checks_the_token_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write route off loopback meets the app's read guard, then its own ``Authorized``, on
    one request (FastAPI runs the app's dependencies first): one comparison, not two."""
    compared: list[bytes] = []
    compare = hmac.compare_digest

    def counting(given: bytes, expected: bytes) -> bool:
        compared.append(given)
        return compare(given, expected)

    monkeypatch.setattr(service_state.hmac, "compare_digest", counting)
    settings = ServiceSettings(tmp_path / "e.duckdb", tmp_path / "h.sqlite", token=TOKEN, protect_reads=True)
    state = cast(service_state.ServiceState, SimpleNamespace(settings=settings))

    def request(token: str) -> Request:
        headers = [(b"authorization", f"Bearer {token}".encode())]
        return Request({"type": "http", "method": "PUT", "path": "/admin/offload", "headers": headers})

    write = request(TOKEN)
    asyncio.run(service_state.require_token_for_reads(write, state))
    asyncio.run(service_state.require_token(write, state))
    assert len(compared) == 1, compared
    with pytest.raises(HTTPException):
        asyncio.run(service_state.require_token_for_reads(request("wrong-" + TOKEN), state))


def test_off_loopback_reads_need_the_token_and_the_data_is_private(
    tmp_path: Path, fault_env: dict[str, str]
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    db = tmp_path / "data" / "events.duckdb"
    argv = ["serve", "--host", "0.0.0.0", "--port", "0", "--token-file", str(token_file), "--db", str(db)]
    argv += ["--offload", "inline"]
    proc = subprocess.Popen(
        [*gilwise_command(), *argv], stderr=subprocess.PIPE, text=True, env=fault_env, start_new_session=True
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
        assert found and found.group(1) != "0", first
        url = f"http://127.0.0.1:{found.group(1)}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{url}/health", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.1)
        assert health.status_code == 200
        for path in ("/analytics/sessions", "/events/count", "/bench/latest", "/admin/offload", "/"):
            assert httpx.get(url + path, timeout=30).status_code == 401, path
        good = {"authorization": f"Bearer {TOKEN}"}
        assert httpx.get(f"{url}/events/count", headers=good, timeout=30).status_code == 200
        assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "Traceback" not in stderr, stderr


def test_sigterm_with_a_live_stream_open_stops_within_2_s(tmp_path: Path, fault_env: dict[str, str]) -> None:
    """A dashboard left open holds ``/live``: the stop must end the stream, not wait it out."""
    argv = ["serve", "--port", "0", "--db", str(tmp_path / "e.duckdb"), "--offload", "inline"]
    proc = subprocess.Popen(
        [*gilwise_command(), *argv], stderr=subprocess.PIPE, text=True, env=fault_env, start_new_session=True
    )
    with reaped(proc):
        assert proc.stderr is not None
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", proc.stderr.readline())
        assert found
        url = f"http://127.0.0.1:{found.group(1)}"
        deadline = time.monotonic() + 30
        with httpx.Client(timeout=30) as client:
            while True:
                try:
                    client.get(f"{url}/health")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the server did not answer"
                    time.sleep(0.1)
            with client.stream("GET", f"{url}/live") as live:
                next(live.iter_lines())  # the dashboard's stream is open and flowing
                os.killpg(proc.pid, signal.SIGTERM)
                sent = time.monotonic()
                _, stderr = proc.communicate(timeout=2)
                took = time.monotonic() - sent
    assert proc.returncode == 0 and "Traceback" not in stderr, stderr
    assert took < 2, took
