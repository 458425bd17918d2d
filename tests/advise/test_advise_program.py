"""``gilwise advise --pid`` on a real FastAPI app under load, and ``advise -- COMMAND``."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CLIENTS = 4
LOAD_LIMIT_S = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str, timeout: float = 10.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@contextlib.contextmanager
def running_app(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "advise_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=FIXTURES,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                if _get(port, "/health", timeout=1) == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the app did not start: {proc.stderr.read() if proc.stderr else ''!r}")
            time.sleep(0.1)
        yield proc, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


@contextlib.contextmanager
def load(port: int) -> Iterator[list[int]]:
    """CLIENTS clients calling /work back to back (bounded in time), stopped on exit."""
    stop = threading.Event()
    done: list[int] = []
    started = time.monotonic()

    def client() -> None:
        while not stop.is_set() and time.monotonic() - started < LOAD_LIMIT_S:
            with contextlib.suppress(OSError):
                done.append(_get(port, "/work?n=100000"))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    try:
        yield done
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=15)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_pid_of_a_fastapi_app_doing_cpu_work_in_to_thread(
    tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    out = tmp_path / "program.json"
    with running_app(subprocess_env) as (app, port), load(port) as done:
        time.sleep(1.0)  # the to_thread pool fills up
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "gilwise.cli",
                "advise",
                "--pid",
                str(app.pid),
                "--duration",
                "3",
                "--json",
                str(out),
            ],
            env=subprocess_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr
    assert len(done) > 0 and set(done) == {200}
    doc = json.loads(out.read_text())
    assert doc["schema"] == "gilwise.advise-program/1"
    assert doc["sampler"] is not None, doc["sampler_note"]
    verdict = doc["verdict"]
    assert verdict["gil_bound"] is True, verdict["reason"]
    assert verdict["model"] == "processes"
    assert "crunch" in verdict["functions"][0]["function"], verdict["functions"]
    # The to_thread workers take turns on the GIL (the event loop's thread may too).
    workers = [name for name in verdict["serialising_threads"] if name.startswith("asyncio_")]
    assert len(workers) >= 2, verdict
    assert doc["gil_busy"] > 0.7
    assert doc["busy_cores"] < doc["usable_cores"]
    assert "crunch" in proc.stdout and "GIL-bound" in proc.stdout


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_command_mode_starts_samples_and_stops_the_program(subprocess_env: dict[str, str]) -> None:
    script = "import time\nwhile True:\n    time.sleep(0.01)\n"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gilwise.cli",
            "advise",
            "--duration",
            "1",
            "--",
            sys.executable,
            "-c",
            script,
        ],
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert proc.returncode == 0, proc.stderr
    assert "not GIL-bound" in proc.stdout


def test_command_that_exits_at_once_is_a_failed_run(subprocess_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gilwise.cli",
            "advise",
            "--duration",
            "1",
            "--",
            sys.executable,
            "-c",
            "raise SystemExit(3)",
        ],
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert proc.returncode == 1
    assert "exited with code 3 before it could be sampled" in " ".join(proc.stderr.split())
