"""One open-loop client process: sends on a precomputed schedule over keep-alive connections.

Reads its plan (one JSON line) from stdin, builds the schedule, says ``ready``, starts its
clock on ``go`` and prints one ``result {...}`` line. Open loop: a send never waits for an
earlier answer (a new connection opens when every open one is busy, up to
``max_connections``); a response's latency runs from its *scheduled* send time, so a server
stall shows in every request that was due during it. Besides the weighted GET mix, a plan may
carry paced POST streams (an ingest feed: batches at a fixed rate, whatever the mix's rate),
on their own schedules in the same event loop. Standard library and ``hdrh`` only; started as
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
IDLE_REUSE_S = 1.0
"""An idle keep-alive connection is reused only this long: servers close idle ones on their own
clock (Gunicorn after 2 s), and a request sent as the server closes is lost on the way."""


class PacedPlan(TypedDict):
    """A POST stream at a fixed rate, apart from the mix (e.g. ingest batches)."""

    path: str
    rate: float
    """This client's share, requests per second (constant arrivals)."""
    bodies: list[str]
    """Sent in turn (JSON; built before the clock starts)."""
    phase_s: float


class ClientPlan(TypedDict):
    url: str
    paths: list[str]
    weights: list[float]
    rate: float
    """This client's requests per second over the mix."""
    paced: list[PacedPlan]
    token: str | None
    """Sent as ``Authorization: Bearer``: a server with a token refuses writes (and, off
    loopback, reads) without it."""
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
    cpu_s: float
    """CPU seconds this client used while it ran: what the load took from the machine's cores."""


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class _Connections:
    """Idle keep-alive connections to one server, reused last-in first-out while fresh."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[Connection, float]] = []
        """(connection, when it became idle)."""

    async def take(self) -> tuple[Connection, bool]:
        """A connection, and whether it was reused (a reused one may have been closed by the
        server in the meantime: nothing of the request reached the app then)."""
        now = asyncio.get_running_loop().time()
        while self.idle:
            conn, since = self.idle.pop()
            if now - since <= IDLE_REUSE_S:
                return conn, True
            conn[1].close()
        return await asyncio.open_connection(self.host, self.port), False

    def give_back(self, conn: Connection) -> None:
        self.idle.append((conn, asyncio.get_running_loop().time()))

    def close_all(self) -> None:
        for (_, writer), _ in self.idle:
            writer.close()
        self.idle.clear()


def _closed_before_answering(exc: BaseException) -> bool:
    """The server had closed the connection: no byte of an answer came back."""
    if isinstance(exc, asyncio.IncompleteReadError):
        return not exc.partial
    return isinstance(exc, (ConnectionResetError, BrokenPipeError))


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
        head = f"Host: {self.host}:{self.port}\r\nUser-Agent: gilwise-load\r\n"
        if plan["token"]:
            head += f"Authorization: Bearer {plan['token']}\r\n"
        # per route, the requests it sends in turn: one GET, or a paced stream's bodies
        self.requests: list[list[bytes]] = [
            [f"GET {path} HTTP/1.1\r\n{head}\r\n".encode()] for path in plan["paths"]
        ]
        for paced in plan["paced"]:
            self.requests.append([
                f"POST {paced['path']} HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
                f"Content-Length: {len(body.encode())}\r\n\r\n{body}".encode()
                for body in paced["bodies"]
            ])  # fmt: skip
        self.names = [*plan["paths"], *(p["path"] for p in plan["paced"])]
        self.histograms: list[HdrHistogram] = [new_histogram() for _ in self.names]
        self.counts = [0] * len(self.names)
        self.errors: list[dict[str, int]] = [{} for _ in self.names]
        self.turns = [0] * len(self.names)
        self.sent = 0
        self.late = 0

    def _next_request(self, route: int) -> bytes:
        choices = self.requests[route]
        self.turns[route] += 1
        return choices[self.turns[route] % len(choices)]

    def _error(self, route: int, kind: str) -> None:
        self.errors[route][kind] = self.errors[route].get(kind, 0) + 1

    async def one(self, pool: _Connections, route: int, scheduled: float) -> None:
        loop = asyncio.get_running_loop()
        conn = None
        request = self._next_request(route)
        try:
            async with asyncio.timeout(self.plan["timeout_s"]):
                conn, reused = await pool.take()
                try:
                    status, reusable = await _exchange(*conn, request)
                except (OSError, asyncio.IncompleteReadError) as exc:
                    if not (reused and _closed_before_answering(exc)):
                        raise
                    # a keep-alive connection the server closed as the request left: send it
                    # once more on a new one (its latency still runs from the scheduled time)
                    conn[1].close()
                    conn = await asyncio.open_connection(self.host, self.port)
                    status, reusable = await _exchange(*conn, request)
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

    def result(self, scheduled: int, elapsed_s: float, cpu_s: float = 0.0) -> ClientResult:
        return {
            "routes": {
                path: {"histogram": encode(h), "count": n, "errors": e}
                for path, h, n, e in zip(self.names, self.histograms, self.counts, self.errors, strict=True)
            },
            "scheduled": scheduled,
            "sent": self.sent,
            "late_sends": self.late,
            "elapsed_s": elapsed_s,
            "cpu_s": cpu_s,
        }


def schedule(plan: ClientPlan) -> list[tuple[float, int]]:
    """(offset, route) of every send, in time order: the mix's at its rate, each paced stream's
    at its own (route indices after the mix's)."""
    offsets = send_times(
        plan["rate"], plan["duration_s"], plan["arrivals"], seed=plan["seed"], phase_s=plan["phase_s"]
    )
    routes = route_sequence(plan["weights"], len(offsets), seed=plan["seed"])
    sends = list(zip(offsets, routes, strict=True))
    for k, paced in enumerate(plan["paced"]):
        paced_times = send_times(
            paced["rate"], plan["duration_s"], "constant", seed=plan["seed"], phase_s=paced["phase_s"]
        )
        sends += [(t, len(plan["paths"]) + k) for t in paced_times]
    return sorted(sends)


def run(plan: ClientPlan) -> ClientResult:
    sends = schedule(plan)
    runner = _Run(plan)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":  # every client starts its clock together
        return runner.result(0, 0.0)
    started, cpu_started = time.perf_counter(), time.process_time()
    asyncio.run(runner.open_loop([t for t, _ in sends], [r for _, r in sends]))
    return runner.result(len(sends), time.perf_counter() - started, time.process_time() - cpu_started)


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
