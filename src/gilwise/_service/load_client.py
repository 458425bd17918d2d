"""One load-generator client: its own process (so its GIL never delays the server's or another
client's timing), one keep-alive HTTP connection, one route, closed-loop or paced.

Standard library only. Reads its plan (one JSON line) from stdin, prepares, says ``ready``,
starts on ``go``; writes ``progress N`` lines while it runs and one ``result {...}`` line at the
end. Started by ``loadgen`` as ``python -m gilwise._service.load_client``.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import sys
import time
import urllib.parse
from typing import TypedDict

FUNNEL = ("view", "click", "add_to_cart", "checkout")
PREBUILT_BATCHES = 16
"""Distinct ingest bodies per client, built before the clock starts and sent in turn, so that
building JSON never slows the client down while it measures."""
USERS = 2000
PROGRESS_EVERY_S = 0.25
RETRY_PAUSE_S = 0.1


class ClientPlan(TypedDict):
    url: str
    route: str
    duration_s: float
    max_requests: int
    interval_s: float
    """Pause between request starts; 0 = the next request as soon as the answer is in."""
    batch: int
    window_s: float | None
    token: str | None
    seed: int


class ClientResult(TypedDict):
    route: str
    requests: int
    latencies_ms: list[float]
    errors: dict[str, int]
    events: int
    """Events in acknowledged (2xx) ingest batches."""
    elapsed_s: float


def request_for(plan: ClientPlan) -> tuple[str, str]:
    window = plan["window_s"]
    query = f"?window={window:g}" if window else ""
    route = plan["route"]
    if route == "health":
        return "GET", "/health"
    if route == "summary":
        return "GET", "/analytics/summary" + query
    if route == "sessions":
        return "GET", "/analytics/sessions" + query
    if route == "ingest":
        return "POST", "/events"
    raise ValueError(f"unknown route {route!r}")


def ingest_bodies(batch: int, seed: int, now: float) -> list[bytes]:
    """Batches of visits: a user arrives at a random moment of the last six hours and goes some
    way down the funnel, 5-60 s per step, browsing (``search``) in between."""
    rng = random.Random(seed)
    bodies = []
    for _ in range(PREBUILT_BATCHES):
        events: list[dict[str, object]] = []
        while len(events) < batch:
            user = f"user-{rng.randrange(USERS)}"
            t = now - rng.uniform(0, 6 * 3600)
            for step, name in enumerate(FUNNEL):
                if step and rng.random() > 0.55:
                    break
                for kind in ("search",) * rng.randrange(3) + (name,):
                    t += rng.uniform(5, 60)
                    value = round(rng.uniform(5, 200), 2) if name == "checkout" else round(rng.random(), 4)
                    events.append({"ts": min(t, now), "user": user, "event": kind, "value": value})
        bodies.append(json.dumps(events[:batch]).encode())
    return bodies


def run(plan: ClientPlan) -> ClientResult:
    parts = urllib.parse.urlsplit(plan["url"])
    method, path = request_for(plan)
    headers = {"content-type": "application/json"}
    if plan["token"]:
        headers["authorization"] = f"Bearer {plan['token']}"
    bodies = ingest_bodies(plan["batch"], plan["seed"], time.time()) if plan["route"] == "ingest" else [b""]
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=60)
    coordinator = os.getppid()
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":  # every client starts its clock at the same moment
        return {"route": plan["route"], "requests": 0, "latencies_ms": [], "errors": {}, "events": 0,
                "elapsed_s": 0.0}  # fmt: skip
    latencies: list[float] = []
    errors: dict[str, int] = {}
    events = 0
    start = time.perf_counter()
    deadline = start + plan["duration_s"]
    next_start = start
    last_progress = start
    n = 0
    while n < plan["max_requests"]:
        now = time.perf_counter()
        if plan["interval_s"] and next_start > now:
            time.sleep(max(0.0, min(next_start, deadline) - now))
            now = time.perf_counter()
        if now >= deadline:
            break
        next_start = max(next_start + plan["interval_s"], now) if plan["interval_s"] else now
        body = bodies[n % len(bodies)]
        t0 = time.perf_counter()
        try:
            conn.request(method, path, body=body if method == "POST" else None, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            conn.close()  # reconnects on the next request
            time.sleep(RETRY_PAUSE_S)  # a server that is down must not make this spin
        else:
            latencies.append((time.perf_counter() - t0) * 1000)
            if 200 <= response.status < 300:
                events += plan["batch"] if method == "POST" else 0
            else:
                errors[str(response.status)] = errors.get(str(response.status), 0) + 1
        n += 1
        if t0 - last_progress >= PROGRESS_EVERY_S:
            last_progress = t0
            if os.getppid() != coordinator:
                break  # the coordinator is gone: nobody will read the result
            print(f"progress {n}", flush=True)
    conn.close()
    return {
        "route": plan["route"],
        "requests": n,
        "latencies_ms": latencies,
        "errors": errors,
        "events": events,
        "elapsed_s": time.perf_counter() - start,
    }


def main() -> None:
    # Ctrl-C reaches the whole process group; the coordinator decides what stops, and a
    # coordinator that died closes the pipe: then there is no one to report to.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    plan: ClientPlan = json.loads(sys.stdin.readline())
    try:
        result = run(plan)
        print("result " + json.dumps(result), flush=True)
    except BrokenPipeError:
        os._exit(0)


if __name__ == "__main__":
    main()
