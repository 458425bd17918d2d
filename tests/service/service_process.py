"""Start and stop a real ``gilwise serve`` (uvicorn, DuckDB file, offload workers) on a free loopback port.

Every server a test starts is stopped when the test ends (SIGINT, then SIGKILL after 20 s), so
the shared guard in tests/conftest.py sees no process or shared-memory segment left behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

SRC = Path(__file__).resolve().parents[2] / "src"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@dataclass
class Service:
    """One running server: its URL, database, process, and an HTTP client bound to it."""

    url: str
    db: Path
    proc: subprocess.Popen[bytes]
    log: Path
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=30.0)

    def worker_pids(self) -> list[int]:
        return [p.pid for p in psutil.Process(self.proc.pid).children(recursive=True)]

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}: {log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "health", timeout=1.0).status_code == 200:
                return
        time.sleep(0.05)
    raise AssertionError(f"the server did not answer /health within {START_TIMEOUT_S} s: {log.read_text()}")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            return proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
            raise AssertionError("the server did not stop within 20 s of SIGINT") from None
    return proc.returncode


@contextlib.contextmanager
def running_service(
    tmp: Path, *args: str, db: Path | None = None, port: int | None = None
) -> Iterator[Service]:
    port = port or free_port()
    db = db or tmp / "events.duckdb"
    log = tmp / f"server-{port}-{time.monotonic_ns()}.log"
    cmd = [sys.executable, "-m", "gilwise.cli", "serve", "--port", str(port), "--db", str(db)]
    cmd += ["--workers", "2", *args]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=service_env())
    url = f"http://127.0.0.1:{port}/"
    service = Service(url=url, db=db, proc=proc, log=log)
    try:
        wait_ready(url, proc, log)
        yield service
    finally:
        service.client.close()
        children = []
        with contextlib.suppress(psutil.Error):
            children = psutil.Process(proc.pid).children(recursive=True)
        stop(proc)
        _, alive = psutil.wait_procs(children, timeout=10)
        for child in alive:  # never leave a worker behind, even when the server died badly
            child.kill()


def make_events(
    n: int, *, start: float | None = None, users: int = 20, tag: int = 0
) -> list[dict[str, object]]:
    """``n`` events over the last hour, cycling through the funnel, with an extra property."""
    now = time.time() if start is None else start
    kinds = ("view", "click", "add_to_cart", "checkout", "search")
    return [
        {
            "ts": now - 3600 + (i * 3600.0 / max(1, n)),
            "user": f"user-{i % users}",
            "event": kinds[(i // users) % len(kinds)],
            "value": float(i % 97),
            "tag": tag,
            "seq": i,
        }
        for i in range(n)
    ]
