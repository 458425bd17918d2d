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
    done = load(service.url, "--duration", "2", "--batch", "200", "--json", str(out))
    assert done.returncode == 0, done.stderr
    for column in ("route", "p50 ms", "p99 ms", "errors"):
        assert column in done.stdout
    report = json.loads(out.read_text())
    assert report["schema"] == "gilwise.load/1" and report["clients"] == 4
    routes = {r["route"]: r for r in report["routes"]}
    assert set(routes) == {"ingest", "sessions", "summary", "health"}
    for r in routes.values():
        assert r["errors"] == {} and r["ok"] == r["requests"] > 0
        assert r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"] <= r["max_ms"]
    # health is a probe paced at 20 ms: about 100 requests in 2 s, never a flood.
    assert routes["health"]["requests"] <= 2 / 0.02 + 5
    assert routes["ingest"]["events"] == 200 * routes["ingest"]["requests"]
    assert service.client.get("/events/count").json()["count"] == routes["ingest"]["events"]


def test_load_is_bounded_by_requests_and_fails_on_errors(tmp_path: Path) -> None:
    with running_service(tmp_path, "--token", "t0k-long-enough-16") as svc:
        capped_json = tmp_path / "capped.json"
        capped = load(svc.url, "--duration", "30", "--mix", "health", "--interval", "health=0",
                      "--requests", "7", "--json", str(capped_json))  # fmt: skip
        assert capped.returncode == 0, capped.stderr
        assert json.loads(capped_json.read_text())["routes"][0]["requests"] == 7
        refused = load(svc.url, "--duration", "1", "--mix", "ingest", "--requests", "3")
        assert refused.returncode == 1
        assert "401: 3" in refused.stdout
        allowed = load(
            svc.url, "--duration", "1", "--mix", "ingest", "--requests", "3", "--token", "t0k-long-enough-16"
        )
        assert allowed.returncode == 0, allowed.stdout
        assert svc.client.get("/events/count").json()["count"] == 3000


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
        assert any("load_client" in " ".join(c.cmdline()) for c in descendants)
    finally:
        code = stop(proc, stop_signal)
    assert code == 0, log.read_text()
    assert scratch and not scratch[0].parent.exists(), "the demo's scratch database should be removed"
    # Ctrl-C or a service manager's SIGTERM: the load generator and its clients stop with it.
    _, alive = psutil.wait_procs(descendants, timeout=10)
    assert not alive, [" ".join(p.cmdline()) for p in alive]
