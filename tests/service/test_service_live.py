"""GET /live (Server-Sent Events) and the serve command's own checks."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from service_process import Service, make_events, running_service, service_env

from gilwise._system import usable_cores
from gilwise.cli import main


def messages(svc: Service, count: int) -> tuple[list[dict[str, object]], float]:
    start = time.monotonic()
    with httpx.stream("GET", svc.url + "live", params={"count": count}, timeout=10) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in stream.iter_lines() if line.startswith("data: ")]
    return [json.loads(line[len("data: ") :]) for line in lines], time.monotonic() - start


@pytest.mark.timeout(60)
def test_live_sends_a_message_every_second_with_every_series(service: Service) -> None:
    service.client.post("/events", json=make_events(1000))
    service.client.get("/health")
    service.client.get("/analytics/sessions")
    got, elapsed = messages(service, 3)
    assert len(got) == 3 and elapsed < 4.5
    last = got[-1]
    cores = last["cpu_per_core"]
    assert isinstance(cores, list) and len(cores) >= 1 and all(0 <= c <= 1 for c in cores)
    lag = last["loop_lag_ms"]
    assert isinstance(lag, dict) and lag["count"] > 20 and 0 <= lag["p50"] <= lag["p99"]
    assert last["offload"] == {
        "mode": "processes",
        "workers": 2,
        "queue_depth": 0,
        "restarts": 0,
        "crashes": 0,
        "cluster_workers": [],
        "cluster_error": None,
    }
    assert set(last) >= {"t", "busy_cores", "server_cores", "worker_cores", "events_per_s", "latency_ms"}
    assert last["usable_cores"] == usable_cores()  # the server counts cores as the rest of gilwise
    times = [m["t"] for m in got]
    assert times == sorted(times) and all(0.5 < float(m["interval_s"]) < 2.5 for m in got[1:])  # type: ignore[arg-type]


@pytest.mark.timeout(60)
def test_live_shows_ingest_rate_and_route_latency_while_traffic_flows(service: Service) -> None:
    with httpx.stream("GET", service.url + "live", params={"count": 3}, timeout=10) as stream:
        lines = stream.iter_lines()
        next(line for line in lines if line.startswith("data: "))
        for _ in range(20):
            service.client.post("/events", json=make_events(100))
            service.client.get("/health")
        rest = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert max(m["events_per_s"] for m in rest) >= 500
    latency = [m["latency_ms"] for m in rest if "GET /health" in m["latency_ms"]]
    assert latency and latency[0]["GET /health"]["count"] >= 1
    assert latency[0]["GET /health"]["p99"] < 1000


def test_mode_switch_is_reported_by_health_admin_and_live(service: Service) -> None:
    state = service.client.get("/admin/offload").json()
    assert state["mode"] == "processes"
    assert list(state["modes"]) == ["inline", "threads", "processes", "auto", "dask"]
    assert state["token_required"] is False and state["demo_cycling"] is False
    assert service.client.put("/admin/offload", json={"mode": "threads"}).json()["mode"] == "threads"
    assert service.client.get("/health").json()["offload"] == "threads"
    got, _ = messages(service, 2)
    assert got[-1]["offload"]["mode"] == "threads"  # type: ignore[index]
    extra = service.client.put("/admin/offload", json={"mode": "inline", "now": True})
    assert extra.status_code == 422


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["serve", "--host", "0.0.0.0"], "without authentication; pass --token"),
        (["serve", "--offload", "gpu"], "valid choices: inline, threads, processes, auto"),
        (["serve", "--port", "70000"], "out of range"),
        (["serve", "--workers", "0"], "out of range"),
        (["serve", "--dask-scheduler", "10.0.0.5:8786"], "give PROTOCOL://HOST:PORT"),
        (["load", "--url", "http://example.com/"], "loopback"),
        (["load", "--url", "http://127.0.0.1:1/", "--mix", "health,bogus"], "neither a path (/health) nor"),
        (["load", "--url", "http://127.0.0.1:1/", "--mix", "ingest,sessions:4"], "pass --ingest-rate B"),
        (["load", "--url", "http://127.0.0.1:1/", "--clients", "0"], "--clients"),
        (["load", "--url", "http://127.0.0.1:1/", "--rate", "0"], "--rate 0: use a number"),
        (["load", "--url", "http://127.0.0.1:1/", "--duration", "0"], "positive"),
    ],
)
def test_bad_serve_and_load_options_exit_2_naming_the_fix(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert needle in " ".join(capsys.readouterr().err.split())


@pytest.mark.timeout(60)
def test_a_database_in_use_is_a_clear_usage_error(tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    with running_service(tmp_path, db=db):
        second = subprocess.run(
            [sys.executable, "-m", "gilwise.cli", "serve", "--port", "0", "--db", str(db), "--workers", "1"],
            capture_output=True,
            text=True,
            timeout=40,
            env=service_env(),
        )
    assert second.returncode == 2, second.stderr
    assert "cannot open the event database" in second.stderr and "--db" in second.stderr
    assert "Traceback" not in second.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_a_database_of_another_layout_is_refused_not_misread(tmp_path: Path) -> None:
    from gilwise._exceptions import UsageError
    from gilwise._service.store import EventStore

    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:
        con.execute('CREATE TABLE events (ts DOUBLE, "user" VARCHAR)')
    with pytest.raises(UsageError, match="has an older layout, this gilwise reads layout 1; pass `db_path`"):
        EventStore(old)
    fresh = EventStore(tmp_path / "new.duckdb")
    fresh.close()
    again = EventStore(tmp_path / "new.duckdb")  # its own layout opens again
    again.close()
