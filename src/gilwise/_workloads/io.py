"""I/O-bound and mixed workloads: real waits (sleep), a real loopback HTTP server with a set
service latency, and queries on a real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import selectors
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

from .._exceptions import HarnessError
from .._system.lifetime import owned_temp_directory, owner_environment
from ._base import Params, ResourceHandle

# ---- sleep --------------------------------------------------------------------------------


def sleep_blocking(size: int, params: Params) -> int:
    time.sleep(size / 1000)
    return size


async def sleep_async(size: int, params: Params) -> int:
    await asyncio.sleep(size / 1000)
    return size


# ---- http: requests to a loopback server the harness starts ------------------------------


def expected_body(index: int) -> bytes:
    return f'{{"item": {index}, "ok": true}}'.encode()


def http_blocking(size: int, params: Params) -> int:
    received = 0
    for k in range(size):
        conn = http.client.HTTPConnection(params["host"], params["port"], timeout=30)
        try:
            conn.request("GET", f"/item/{k}")
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status != 200 or body != expected_body(k):
            raise RuntimeError(f"bad response {response.status}: {body[:80]!r}")
        received += len(body)
    return received


async def http_async(size: int, params: Params) -> int:
    received = 0
    for k in range(size):
        reader, writer = await asyncio.open_connection(params["host"], params["port"])
        try:
            writer.write(f"GET /item/{k} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        head, _, body = raw.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200") or body != expected_body(k):
            raise RuntimeError(f"bad response: {raw[:80]!r}")
        received += len(body)
    return received


@contextlib.contextmanager
def http_server(latency_ms: float = 20.0) -> Iterator[ResourceHandle]:
    """Start the loopback server in its own process (so its CPU is not the worker's)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gilwise._workloads.http_server", "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": _package_parent(), **owner_environment()},
    )
    try:
        assert proc.stdout is not None
        line = _first_line(proc.stdout, SERVER_START_TIMEOUT_S)
        if not line.startswith("LISTENING "):
            raise HarnessError(
                f"the loopback HTTP server did not start within {SERVER_START_TIMEOUT_S:g} s "
                f"(it said {line!r}, exit code {proc.poll()}); check that 127.0.0.1 accepts listening "
                "sockets here"
            )
        port = int(line.split()[1])
        yield ResourceHandle(
            params={"host": "127.0.0.1", "port": port, "latency_ms": latency_ms},
            pids=(proc.pid,),
            description=f"HTTP server on 127.0.0.1:{port}, {latency_ms:g} ms service latency",
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


SERVER_START_TIMEOUT_S = 30.0


def _first_line(stream: IO[str], timeout: float) -> str:
    """The stream's first line, or "" if none came within ``timeout`` (never blocks forever)."""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return stream.readline()


def _package_parent() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---- sqlite: aggregate queries on a file database -----------------------------------------

SQLITE_ROWS = 200_000
SQLITE_QUERY = (
    "SELECT category, count(*), round(sum(amount), 2) FROM orders "
    "WHERE amount > ? GROUP BY category ORDER BY category"
)


def sqlite_queries(size: int, params: Params) -> list[Any]:
    conn = sqlite3.connect(params["path"], check_same_thread=False)
    try:
        rows: list[Any] = []
        for k in range(size):
            rows = conn.execute(SQLITE_QUERY, (float(k % 7),)).fetchall()
        return [list(r) for r in rows]
    finally:
        conn.close()


@contextlib.contextmanager
def sqlite_database() -> Iterator[ResourceHandle]:
    with owned_temp_directory("gilwise-sqlite-") as folder:
        path = os.path.join(folder, "orders.db")
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, category TEXT, amount REAL)")
        conn.executemany(
            "INSERT INTO orders (category, amount) VALUES (?, ?)",
            ((f"cat{i % 17}", (i * 7919 % 10_000) / 100) for i in range(SQLITE_ROWS)),
        )
        conn.commit()
        conn.close()
        yield ResourceHandle(
            params={"path": path},
            pids=(),
            description=f"SQLite file with {SQLITE_ROWS:,} rows",
        )
