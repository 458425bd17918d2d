"""SIGKILL of an offload worker while it computes a sessions report: the service keeps
answering, that request gets a clear 503 (or, with --retries, the same answer from a fresh
worker), and /live shows the restart."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest
from service_process import Service, make_events, running_service

pytestmark = pytest.mark.timeout(240)
ATTEMPTS = 5


def fill(svc: Service) -> None:
    for tag in range(50):  # 250,000 events, of which a report reads the newest 200,000 (~0.1 s)
        response = svc.client.post("/events", json=make_events(5000, users=2000, tag=tag))
        assert response.status_code == 201


def offload_workers(svc: Service) -> list[psutil.Process]:
    """The worker processes: the server's grandchildren (the zygote is the child)."""
    server = psutil.Process(svc.proc.pid)
    return [p for child in server.children() for p in child.children()]


def cpu(p: psutil.Process) -> float:
    try:
        t = p.cpu_times()
    except psutil.Error:
        return 0.0
    return float(t.user + t.system)


def report_with_a_kill(svc: Service) -> tuple[httpx.Response, int]:
    """One sessions request, and SIGKILL of the worker once it has computed for 20 ms."""
    for _ in range(ATTEMPTS):
        workers = offload_workers(svc)
        base = {p.pid: cpu(p) for p in workers}
        answer: list[httpx.Response] = []
        request = threading.Thread(
            target=lambda out=answer: out.append(svc.client.get("/analytics/sessions"))
        )
        request.start()
        killed = 0
        deadline = time.monotonic() + 10
        while not killed and request.is_alive() and time.monotonic() < deadline:
            for p in workers:
                if cpu(p) - base[p.pid] > 0.02:
                    os.kill(p.pid, signal.SIGKILL)
                    killed = p.pid
                    break
            time.sleep(0.002)
        request.join(timeout=60)
        if killed:
            return answer[0], killed
    raise AssertionError(f"no worker was caught computing in {ATTEMPTS} attempts")


def live_offload(svc: Service) -> dict[str, int]:
    with httpx.stream("GET", svc.url + "live", params={"count": 2}, timeout=10) as stream:
        lines = [line for line in stream.iter_lines() if line.startswith("data: ")]
    return json.loads(lines[-1][len("data: ") :])["offload"]  # type: ignore[no-any-return]


def test_killed_worker_fails_only_its_request_with_a_clear_503(tmp_path: Path) -> None:
    with running_service(tmp_path, "--retries", "0") as svc:
        fill(svc)
        assert svc.client.get("/analytics/sessions").status_code == 200
        response, pid = report_with_a_kill(svc)
        assert response.status_code == 503, response.text
        detail = response.json()["detail"]
        assert "the analytics could not run" in detail and "SIGKILL" in detail and str(pid) in detail
        assert response.headers["retry-after"] == "1"
        assert svc.client.get("/health").status_code == 200
        again = svc.client.get("/analytics/sessions")
        assert again.status_code == 200 and again.json()["report"]["events"] == 200_000
        offload = live_offload(svc)
        assert offload["restarts"] >= 1 and offload["crashes"] >= 1 and offload["workers"] == 2


def test_with_retries_the_request_gets_the_same_answer_from_a_fresh_worker(tmp_path: Path) -> None:
    with running_service(tmp_path) as svc:  # --retries 1 by default: the report is idempotent
        fill(svc)
        reference = svc.client.get("/analytics/sessions").json()["report"]
        response, _ = report_with_a_kill(svc)
        assert response.status_code == 200, response.text
        assert response.json()["report"] == reference
        assert live_offload(svc)["restarts"] >= 1
