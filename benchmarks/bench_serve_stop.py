"""How long ``gilwise serve`` takes to stop when a stop signal reaches its whole process group.

A container stop or a service manager signals every process of the server at once (uvicorn,
the offload zygote and workers, a LocalCluster's workers, the demo's load generator and its
clients). Per offload mode (and ``--demo``) and per signal (SIGTERM, SIGINT, each sent to the
group), each repeat starts ``gilwise serve --workers 2`` in a session of its own, waits for
``/health`` and for its process tree to settle, signals the group and measures until the
server has exited:

- ``stop_s``: signal to exit (median and spread over the repeats);
- ``started_after_signal``: processes of the tree seen after the signal that were not there
  before (a respawned worker), summed over the repeats;
- ``survivors``: processes of its session still alive once it has exited (none expected);
- ``exit_codes``: the server's exit statuses (0: a requested stop).

``tests/service/test_service_stop.py`` runs this script once per mode and asserts on its JSON
(stop within 2 s, exit 0, nothing started after the signal, nothing left): one definition of
how a stop is measured.

Modes rotate within each round, so a slow minute of the machine does not land on one mode.
``--src DIR`` measures another source tree (e.g. ``git archive main src | tar -x -C /tmp/m``
then ``--src /tmp/m/src``), run with ``python -S`` and the environment's site-packages, so
the checkout's editable install does not redirect the import. Run: ``uv run python
benchmarks/bench_serve_stop.py [--repeats N] [--modes a,b] [--src DIR] [--name NAME]
[--json PATH]``; writes ``benchmarks/results/NAME.json`` (default ``bench_serve_stop``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

from _common import machine_summary, save, table
from gilwise._system import ProcessTree

HERE = Path(__file__).resolve().parent
MODES = {
    "processes": ["--offload", "processes"],
    "auto": ["--offload", "auto"],
    "threads": ["--offload", "threads"],
    "inline": ["--offload", "inline"],
    "dask": ["--offload", "dask"],
    "demo": ["--demo"],
}
SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGINT": signal.SIGINT}
START_TIMEOUT_S = 60.0
GIVE_UP_S = 30.0
"""A server still running this long after the signal is killed and recorded as such."""


def _settled(tree: ProcessTree, still_s: float = 0.5, limit_s: float = 30.0) -> set[int]:
    """The tree once it has not changed for ``still_s`` (workers warm, demo clients started):
    a process still starting then is not one started after the signal."""
    members, since, deadline = set(tree.members()), time.monotonic(), time.monotonic() + limit_s
    while time.monotonic() - since < still_s and time.monotonic() < deadline:
        time.sleep(0.05)
        if (now := set(tree.members())) != members:
            members, since = now, time.monotonic()
    return members


def _survivors(tree: ProcessTree, wait_s: float = 2.0) -> list[str]:
    """Command lines of the session's live members once the server has exited (an exited one
    not yet reaped by init, a zombie, is gone), after ``wait_s`` or as soon as none is left."""
    deadline = time.monotonic() + wait_s
    while True:
        alive = []
        for pid in tree.members():
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(pid)
                if process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(" ".join(process.cmdline()))
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before answering /health")
        with contextlib.suppress(OSError), urllib.request.urlopen(url + "health", timeout=1.0) as answer:
            if answer.status == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the server did not answer /health within {START_TIMEOUT_S} s")


def _command(src: Path | None) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if src is None:
        env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent / "src"), env.get("PYTHONPATH", "")])
        return [sys.executable, "-m", "gilwise.cli"], env
    env["PYTHONPATH"] = os.pathsep.join([str(src), sysconfig.get_paths()["purelib"]])
    return [sys.executable, "-S", "-m", "gilwise.cli"], env


def stop_once(mode: str, sig: signal.Signals, folder: Path, src: Path | None) -> dict[str, Any]:
    with socket.socket() as probe:  # a free port: the demo's load generator needs a fixed one
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    cli, env = _command(src)
    cmd = [*cli, "serve", "--port", str(port), "--workers", "2", "--db", str(folder / f"{port}.duckdb")]
    with (folder / f"{port}.log").open("wb") as log:
        proc = subprocess.Popen(
            [*cmd, *MODES[mode]], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    tree = ProcessTree(proc.pid)  # the server leads its session; everything it starts is in it
    try:
        _wait_ready(f"http://127.0.0.1:{port}/", proc)
        before = _settled(tree)
        started = time.monotonic()
        os.killpg(proc.pid, sig)
        seen: set[int] = set()
        while proc.poll() is None and time.monotonic() - started < GIVE_UP_S:
            seen.update(tree.members())
            time.sleep(0.01)
        stop_s = time.monotonic() - started
        code = proc.poll()
        survivors = _survivors(tree)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    return {
        "stop_s": stop_s,
        "exit_code": code,
        "started_after_signal": sorted(seen - before),
        "survivors": survivors,
        "log_tail": (folder / f"{port}.log").read_text(errors="replace")[-2000:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--src", type=Path, help="another source tree's src/ folder to measure")
    parser.add_argument("--name", default="bench_serve_stop")
    parser.add_argument("--json", type=Path, help="write the JSON here instead of benchmarks/results/")
    args = parser.parse_args()
    # Stopped itself (a test's timeout, `kill`): the finally of the run in progress kills its server.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    modes = [m for m in args.modes.split(",") if m]
    if "dask" in modes and importlib.util.find_spec("distributed") is None:
        modes.remove("dask")
        print("dask: skipped (the dask extra is not installed)")
    cases = [(mode, name) for mode in modes for name in SIGNALS]
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {case: [] for case in cases}
    with tempfile.TemporaryDirectory(prefix="bench-serve-stop-") as tmp:
        for round_no in range(args.repeats):
            shift = round_no % len(cases)
            for mode, name in cases[shift:] + cases[:shift]:
                runs[mode, name].append(stop_once(mode, SIGNALS[name], Path(tmp), args.src))
            print(f"round {round_no + 1}/{args.repeats} done", flush=True)
    rows, results = [], []
    for (mode, name), found in runs.items():
        times = [r["stop_s"] for r in found]
        entry = {
            "mode": mode,
            "signal": name,
            "target": "process group",
            "stop_s": {
                "median": statistics.median(times),
                "min": min(times),
                "max": max(times),
                "values": times,
            },
            "started_after_signal": sum(len(r["started_after_signal"]) for r in found),
            "survivors": [line for r in found for line in r["survivors"]],
            "exit_codes": sorted({r["exit_code"] for r in found}, key=lambda c: (c is None, c)),
            "log_tail": found[-1]["log_tail"],
        }
        results.append(entry)
        rows.append(
            [mode, name, f"{entry['stop_s']['median']:.2f}", f"{min(times):.2f}–{max(times):.2f}",
             entry["started_after_signal"], len(entry["survivors"]), ",".join(map(str, entry["exit_codes"]))]
        )  # fmt: skip
    headers = ["mode", "signal to group", "stop s (median)", "min–max", "started after", "left", "exit"]
    print(table(headers, rows))
    source = str(args.src) if args.src else "this checkout"
    document = {
        "schema": "gilwise.bench_serve_stop/1",
        "source": source,
        "repeats": args.repeats,
        "workers": 2,
        "machine": machine_summary(),
        "results": results,
    }
    if args.json:
        args.json.write_text(json.dumps(document, indent=1) + "\n")
        path = args.json
    else:
        path = save(args.name, document)
    print(f"source: {source}; wrote {path}")


if __name__ == "__main__":
    main()
