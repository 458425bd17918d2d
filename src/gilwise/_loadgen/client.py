"""One open-loop client process: sends on a precomputed schedule over keep-alive connections.

Reads its plan (one JSON line) from stdin, builds the schedule, says ``ready``, starts its
clock on ``go`` and prints one ``result {...}`` line. Open loop: a send never waits for an
earlier answer (a new connection opens when every open one is busy, up to
``max_connections``); a response's latency runs from its *scheduled* send time, so a server
stall shows in every request that was due during it. ``rate`` None is the closed loop (one
connection, the next send when the answer is in) kept for comparison: it is what a stall
hides from. Standard library and ``hdrh`` only; started as
``python -m gilwise._loadgen.client``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import urllib.parse
from typing import TypedDict

from hdrh.histogram import HdrHistogram

from .histogram import encode, new_histogram, record_seconds
from .schedule import Arrivals, route_sequence, send_times

LATE_AFTER_S = 0.005
"""A send leaving this long after its scheduled time counts as late (the client fell behind:
its figures then understate what the server could take, and the report says so)."""
PARENT_CHECK_S = 0.25


class ClientPlan(TypedDict):
    url: str
    paths: list[str]
    weights: list[float]
    rate: float | None
    """This client's requests per second; None: closed loop."""
    arrivals: Arrivals
    duration_s: float
    timeout_s: float
    max_connections: int
    seed: int
    phase_s: float


class RouteResult(TypedDict):
    histogram: str
    count: int
    """Answered requests (any status); their latencies are in the histogram."""
    errors: dict[str, int]
    """By kind: ``timeout``, ``status 503``, ``ConnectionResetError``, ..."""


class ClientResult(TypedDict):
    routes: dict[str, RouteResult]
    scheduled: int
    sent: int
    late_sends: int
    elapsed_s: float


class _Connections:
    """Idle keep-alive connections to one server, reused last-in first-out."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.idle:
            return self.idle.pop()
        return await asyncio.open_connection(self.host, self.port)

    def give_back(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        self.idle.append(conn)

    def close_all(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bool]:
    """Send one request, read its whole response: (status, connection reusable)."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:  # no length: the body ends with the connection
        await reader.read()
        return status, False
    return status, headers.get("connection") != "close"


class _Run:
    def __init__(self, plan: ClientPlan) -> None:
        parts = urllib.parse.urlsplit(plan["url"])
        self.plan = plan
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.requests = [
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: gilwise-load\r\n\r\n".encode()
            for path, host in ((p, f"{self.host}:{self.port}") for p in plan["paths"])
        ]
        self.histograms: list[HdrHistogram] = [new_histogram() for _ in plan["paths"]]
        self.counts = [0] * len(plan["paths"])
        self.errors: list[dict[str, int]] = [{} for _ in plan["paths"]]
        self.sent = 0
        self.late = 0

    def _error(self, route: int, kind: str) -> None:
        self.errors[route][kind] = self.errors[route].get(kind, 0) + 1

    async def one(self, pool: _Connections, route: int, scheduled: float) -> None:
        loop = asyncio.get_running_loop()
        conn = None
        try:
            async with asyncio.timeout(self.plan["timeout_s"]):
                conn = await pool.take()
                status, reusable = await _exchange(*conn, self.requests[route])
        except TimeoutError:
            self._error(route, "timeout")
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            self._error(route, type(exc).__name__)
        else:
            record_seconds(self.histograms[route], loop.time() - scheduled)
            self.counts[route] += 1
            if not 200 <= status < 300:
                self._error(route, f"status {status}")
            if reusable:
                pool.give_back(conn)
                return
        if conn is not None:
            conn[1].close()

    async def open_loop(self, offsets: list[float], routes: list[int]) -> None:
        loop = asyncio.get_running_loop()
        pool = _Connections(self.host, self.port)
        slots = asyncio.Semaphore(self.plan["max_connections"])
        parent = os.getppid()
        tasks: set[asyncio.Task[None]] = set()

        async def bounded(route: int, scheduled: float) -> None:
            async with slots:  # waiting here is latency too: it runs from the scheduled time
                await self.one(pool, route, scheduled)

        start = loop.time()
        last_check = start
        for offset, route in zip(offsets, routes, strict=True):
            scheduled = start + offset
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = loop.time()
            if now - scheduled > LATE_AFTER_S:
                self.late += 1
            if now - last_check > PARENT_CHECK_S:
                last_check = now
                if os.getppid() != parent:
                    break  # the coordinator is gone: nobody will read the result
            task = asyncio.create_task(bounded(route, scheduled))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            self.sent += 1
        if tasks:
            await asyncio.wait(tasks)
        pool.close_all()

    async def closed_loop(self, routes: list[int]) -> None:
        loop = asyncio.get_running_loop()
        pool = _Connections(self.host, self.port)
        deadline = loop.time() + self.plan["duration_s"]
        n = 0
        while loop.time() < deadline:
            route = routes[n % len(routes)]
            self.sent += 1
            await self.one(pool, route, loop.time())
            n += 1
        pool.close_all()

    def result(self, scheduled: int, elapsed_s: float) -> ClientResult:
        return {
            "routes": {
                path: {"histogram": encode(h), "count": n, "errors": e}
                for path, h, n, e in zip(
                    self.plan["paths"], self.histograms, self.counts, self.errors, strict=True
                )
            },
            "scheduled": scheduled,
            "sent": self.sent,
            "late_sends": self.late,
            "elapsed_s": elapsed_s,
        }


def run(plan: ClientPlan, wait_for_go: bool = True) -> ClientResult:
    rate = plan["rate"]
    offsets = (
        send_times(rate, plan["duration_s"], plan["arrivals"], seed=plan["seed"], phase_s=plan["phase_s"])
        if rate is not None
        else []
    )
    routes = route_sequence(plan["weights"], max(len(offsets), 10_000), seed=plan["seed"])
    runner = _Run(plan)
    if wait_for_go:
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":  # every client starts its clock together
            return runner.result(0, 0.0)
    started = time.perf_counter()
    if rate is None:
        asyncio.run(runner.closed_loop(routes))
    else:
        asyncio.run(runner.open_loop(offsets, routes[: len(offsets)]))
    return runner.result(len(offsets), time.perf_counter() - started)


def main() -> None:
    # Ctrl-C reaches the whole process group; the coordinator decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    plan: ClientPlan = json.loads(sys.stdin.readline())
    try:
        print("result " + json.dumps(run(plan)), flush=True)
    except BrokenPipeError:
        os._exit(0)


if __name__ == "__main__":
    main()
