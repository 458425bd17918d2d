"""``gilwise load`` and ``gilwise serve --demo`` end to end, each in its own processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from service_process import Service, free_port, running_service, service_env, stop, wait_ready

pytestmark = pytest.mark.timeout(120)


def load(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gilwise.cli", "load", "--url", url, *args],
        capture_output=True,
        text=True,
        timeout=90,
        env=service_env() | {"COLUMNS": "200"},
    )


def test_load_reports_percentiles_per_route_and_its_ingest_matches_the_count(
    service: Service, tmp_path: Path
) -> None:
    out = tmp_path / "load.json"
    done = load(service.url, "--duration", "2", "--rate", "20", "--mix", "health:3,summary,count",
                "--ingest-rate", "5", "--batch", "200", "--json", str(out))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    for column in ("route", "p50 ms", "p99 ms", "errors", "POST /events"):
        assert column in done.stdout
    report = json.loads(out.read_text())
    assert report["schema"] == "gilwise.load/2" and report["offered_rps"] == 20
    assert set(report["routes"]) == {"/health", "/analytics/summary", "/events/count"}
    for r in [*report["routes"].values(), *report["paced"].values()]:
        assert r["errors"] == 0 and r["count"] > 0
        assert r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"] <= r["max_ms"]
    # open loop: the schedule, not the answers, sets what is sent (40 requests in 2 s at 20/s)
    assert report["scheduled"] == report["sent"] == 40 + 10
    ingest = report["paced"]["/events"]
    assert ingest["offered_rps"] == 5 and ingest["count"] == 10
    assert service.client.get("/events/count").json()["count"] == 200 * ingest["count"]


def test_load_sends_the_token_and_fails_on_errors(tmp_path: Path) -> None:
    with running_service(tmp_path, "--token", "t0k-long-enough-16") as svc:
        args = ("--duration", "1", "--rate", "5", "--mix", "health", "--ingest-rate", "3", "--batch", "100")
        refused = load(svc.url, *args)
        assert refused.returncode == 1
        assert "status 401: 3" in refused.stdout
        allowed = load(svc.url, *args, "--token", "t0k-long-enough-16")
        assert allowed.returncode == 0, allowed.stdout
        assert svc.client.get("/events/count").json()["count"] == 300


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_demo_serves_with_its_own_load_and_cycles_modes_until_one_is_picked(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gilwise.cli", "serve", "--demo", "--port", str(port), "--workers", "2"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=service_env(),
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_ready(url, proc, log)
        state = httpx.get(url + "admin/offload").json()
        assert state["mode"] == "threads" and state["demo_cycling"] is True
        deadline = time.monotonic() + 30
        while httpx.get(url + "events/count").json()["count"] == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert httpx.get(url + "events/count").json()["count"] > 0, log.read_text()
        picked = httpx.put(url + "admin/offload", json={"mode": "processes"}).json()
        assert picked["mode"] == "processes" and picked["demo_cycling"] is False
        text = log.read_text()
        assert url in text and "demo:" in text
        scratch = [Path(p.path) for p in psutil.Process(proc.pid).open_files() if "gilwise-demo-" in p.path]
        descendants = psutil.Process(proc.pid).children(recursive=True)
        assert any("_loadgen.client" in " ".join(c.cmdline()) for c in descendants)
    finally:
        code = stop(proc, stop_signal)
    assert code == 0, log.read_text()
    assert scratch and not scratch[0].parent.exists(), "the demo's scratch database should be removed"
    # Ctrl-C or a service manager's SIGTERM: the load generator and its clients stop with it.
    _, alive = psutil.wait_procs(descendants, timeout=10)
    assert not alive, [" ".join(p.cmdline()) for p in alive]
