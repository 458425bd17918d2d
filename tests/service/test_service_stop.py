"""``gilwise serve`` stops within 2 s of a stop signal sent to its whole process group.

A container stop or a service manager (``kill -TERM -PGID``, systemd's control-group kill)
signals every process of the server at once: uvicorn, the offload zygote and workers, a
LocalCluster's worker processes, the demo's load generator and its clients. The pool once saw
its workers die of that signal before its own shutdown began and started replacements, and
the server took ~11 s to stop. Each case here starts the server as a real process in a session
of its own, signals the group, and checks the bound, the exit status (0: a requested stop,
like Ctrl-C), that no process of the group survives, and that none was started after the
signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from service_process import free_port, service_env, wait_ready

from gilwise._exceptions import OffloadError
from gilwise._service.modes import OffloadSwitch, PoolOptions

pytestmark = pytest.mark.timeout(120)

STOP_BOUND_S = 2.0

CASES = [
    pytest.param(["--offload", "processes"], id="processes"),
    pytest.param(["--offload", "auto"], id="auto"),
    pytest.param(["--offload", "threads"], id="threads"),
    pytest.param(["--offload", "inline"], id="inline"),
    pytest.param(
        ["--offload", "dask"],
        id="dask",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("distributed") is None, reason="the dask extra is not installed"
        ),
    ),
    pytest.param(["--demo"], id="demo"),
]


def _group(proc: subprocess.Popen[bytes]) -> set[int]:
    """The server and every process under it (all in its process group)."""
    with contextlib.suppress(psutil.Error):
        return {proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))}
    return set()


def _settled_group(proc: subprocess.Popen[bytes], still_s: float = 0.5, limit_s: float = 20.0) -> set[int]:
    """The group once it has stopped changing for ``still_s``: the pools' workers are warm and
    the demo's load clients started (a process still starting is not one started after the
    signal)."""
    members, since, deadline = _group(proc), time.monotonic(), time.monotonic() + limit_s
    while time.monotonic() - since < still_s and time.monotonic() < deadline:
        time.sleep(0.05)
        now = _group(proc)
        if now != members:
            members, since = now, time.monotonic()
    return members


def _survivors(pgid: int, wait_s: float = 2.0) -> list[str]:
    """The command lines of the group's live members (an exited one not yet reaped by init,
    a zombie, is gone), once ``wait_s`` has passed or none is left."""
    deadline = time.monotonic() + wait_s
    while True:
        members = []
        for process in psutil.process_iter():
            with contextlib.suppress(psutil.Error, ProcessLookupError):
                if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                    members.append(" ".join(process.cmdline()))
        if not members or time.monotonic() > deadline:
            return members
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("args", CASES)
def test_serve_stops_within_2_s_of_a_signal_to_its_group_and_starts_no_worker(
    tmp_path: Path, args: list[str], stop_signal: signal.Signals
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    cmd = [sys.executable, "-m", "gilwise.cli", "serve", "--port", str(port), "--workers", "2"]
    cmd += ["--db", str(tmp_path / "events.duckdb"), *args]
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            cmd, stdout=sink, stderr=subprocess.STDOUT, env=service_env(), start_new_session=True
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}/", proc, log)
        before = _settled_group(proc)
        started = time.monotonic()
        os.killpg(proc.pid, stop_signal)
        seen_while_stopping: set[int] = set()
        while proc.poll() is None and time.monotonic() - started < 3 * STOP_BOUND_S:
            seen_while_stopping |= _group(proc)
            time.sleep(0.01)
        stop_s = time.monotonic() - started
        code = proc.wait(timeout=20)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # only what the assertions below report as left
        proc.wait(timeout=10)
    output = log.read_text(errors="replace")
    assert stop_s <= STOP_BOUND_S, f"stopped in {stop_s:.2f} s, over {STOP_BOUND_S} s:\n{output}"
    assert code == 0, output
    assert not seen_while_stopping - before, f"processes started after the signal:\n{output}"
    survivors = _survivors(proc.pid)
    assert not survivors, survivors


def test_after_a_stop_signal_a_request_in_flight_starts_no_pool() -> None:
    # uvicorn's signal handler (ServiceServer.handle_exit) tells the switch first.
    switch = OffloadSwitch("inline", PoolOptions(workers=1, nice=0), retries=0)
    switch.refuse_new_pools()
    with pytest.raises(OffloadError, match="the server is stopping"):
        asyncio.run(switch.pool("processes"))
    assert switch.worker_pids() == []
