"""``gilwise serve`` stops within 2 s of a stop signal sent to its whole process group.

A container stop or a service manager (``kill -TERM -PGID``, systemd's control-group kill)
signals every process of the server at once: uvicorn, the offload zygote and workers, a
LocalCluster's worker processes, the demo's load generator and its clients. The pool once saw
its workers die of that signal before its own shutdown began and started replacements, and
the server took ~11 s to stop.

Each case runs ``benchmarks/bench_serve_stop.py`` for one mode (one definition of how a stop
is measured): it starts the server as a real process leading its own session, waits for its
process tree to settle, signals the group (SIGTERM, then in a fresh server SIGINT) and records
the stop time, the exit status, the processes started after the signal and those left alive.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from service_process import service_env

from gilwise._exceptions import OffloadError
from gilwise._service.modes import OffloadSwitch, PoolOptions

pytestmark = pytest.mark.timeout(180)

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_serve_stop.py"
STOP_BOUND_S = 2.0
MODES = [
    "processes",
    "auto",
    "threads",
    "inline",
    pytest.param(
        "dask",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("distributed") is None, reason="the dask extra is not installed"
        ),
    ),
    "demo",
]


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_serve_stops_within_2_s_of_a_signal_to_its_group_and_starts_no_worker(
    tmp_path: Path, mode: str
) -> None:
    out = tmp_path / "stop.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--modes", mode, "--repeats", "1", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=170,
        env=service_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results: list[dict[str, Any]] = json.loads(out.read_text())["results"]
    assert {r["signal"] for r in results} == {"SIGTERM", "SIGINT"}
    for r in results:
        case = f"{mode}, {r['signal']} to the group; the server's log ends:\n{r['log_tail']}"
        assert r["stop_s"]["max"] <= STOP_BOUND_S, f"stopped in {r['stop_s']['max']:.2f} s: {case}"
        assert r["exit_codes"] == [0], f"exit {r['exit_codes']}: {case}"
        assert r["started_after_signal"] == 0, f"processes started after the signal: {case}"
        assert r["survivors"] == [], f"left alive: {r['survivors']}: {case}"


def test_after_a_stop_signal_a_request_in_flight_starts_no_pool() -> None:
    # uvicorn's signal handler (ServiceServer.handle_exit) tells the switch first.
    switch = OffloadSwitch("inline", PoolOptions(workers=1, nice=0), retries=0)
    switch.refuse_new_pools()
    with pytest.raises(OffloadError, match="the server is stopping"):
        asyncio.run(switch.pool("processes"))
    assert switch.worker_pids() == []
