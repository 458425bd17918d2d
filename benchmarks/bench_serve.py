"""``gilwise serve`` under load, all modes in one run: the story's numbers, measured.

1. Ingest: ``--ingest-clients`` closed-loop clients (one by default) post batches of 1,000
   events (a JSON array) for ``--ingest-s`` seconds; events/s = events in acknowledged batches
   / time, then ``GET /events/count`` must equal exactly the acknowledged events. The floor is
   measured before and after in the same run: the same kind of rows (the load client's
   generator) bulk-inserted into a file-backed DuckDB without HTTP, 150 batches of 1,000, one
   transaction each, two ways (``json.loads`` + NumPy columns + a replacement scan, and
   DuckDB's own ``read_json`` of each batch); the ingest is judged against the faster way.
2. Hammer: per round, for each mode (order rotating between rounds): ``PUT /admin/offload``,
   a 1 s warm-up, then 4 closed-loop clients on ``/analytics/sessions`` and one ``/health``
   probe every 10 ms for ``--mode-s`` seconds. Figures per mode and round: ``/health`` p50 / p99
   (client side), sessions reports/s, and CPU in cores over exactly that window, from outside:
   the server process (its threads, DuckDB's included), its offload workers, and the machine.

The load clients are separate processes (``gilwise._service.load_client``); this process only
starts them and reads ``/proc``. Ratios (a mode's /health p99 over processes') are paired within
a round; the table shows medians with [min-max] over rounds.

Run: ``uv run python benchmarks/bench_serve.py [--rounds 3] [--mode-s 6] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import psutil

from _common import RESULTS, machine_summary, table
from _common import stats as summarize
from gilwise._service.load_client import ingest_bodies
from gilwise._service.loadgen import DEFAULT_INTERVALS, LoadReport, RouteStats, plans, run_load

SRC = Path(__file__).resolve().parents[1] / "src"
MODES = ("inline", "threads", "processes")
SESSION_CLIENTS = 4
HEALTH_INTERVAL_S = 0.010
BARE_BATCHES = 150
INGEST_EVENTS_PER_S = 250_000  # the issue's bounds: events/s, and the share of the bare floor
INGEST_SHARE_OF_BARE = 0.5
HEALTH_P99_MS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(method: str, url: str, body: bytes | None = None) -> bytes:
    req = urllib.request.Request(url, data=body, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as response:
        return bytes(response.read())


@contextlib.contextmanager
def server(db: Path, workers: int, *options: str) -> Any:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "gilwise.cli", "serve", "--port", str(port), "--db", str(db)]
    proc = subprocess.Popen([*cmd, "--workers", str(workers), *options], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request("GET", url + "health")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        yield url, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class CpuWindow:
    """CPU seconds of the server, of its offload workers and of the machine over one window."""

    def __init__(self, pid: int) -> None:
        self.server = psutil.Process(pid)

    def _read(self) -> tuple[float, float, float, float]:
        def cpu(p: psutil.Process) -> float:
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                return float(t.user + t.system)
            return 0.0

        workers = sum(cpu(p) for p in self.server.children(recursive=True))
        machine = psutil.cpu_times()
        busy = machine.user + machine.nice + machine.system + machine.irq + machine.softirq + machine.steal
        return time.monotonic(), cpu(self.server), workers, busy

    def __enter__(self) -> CpuWindow:
        self.start = self._read()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._read()
        wall = end[0] - self.start[0]
        self.server_cores, self.worker_cores, self.machine_cores = (
            (end[i] - self.start[i]) / wall for i in (1, 2, 3)
        )


def route(report: LoadReport, name: str) -> RouteStats:
    return next(r for r in report.routes if r.route == name)


def ingest(url: str, clients: int, seconds: float) -> dict[str, Any]:
    before = int(request("GET", url + "events/count").split(b":")[1].strip(b"}"))
    report = run_load(
        plans(url, ["ingest"], clients, duration_s=seconds, max_requests=10**9, intervals=DEFAULT_INTERVALS)
    )
    stats = route(report, "ingest")
    count = int(request("GET", url + "events/count").split(b":")[1].strip(b"}"))
    return {
        "clients": clients,
        "batch": 1000,
        "events_per_s": stats.events_per_s,
        "acknowledged_events": stats.events,
        "count_after": count - before,
        "count_exact": count - before == stats.events,
        "errors": stats.errors,
        "batch_p50_ms": stats.p50_ms,
        "batch_p99_ms": stats.p99_ms,
    }


def bare_duckdb_ingest(folder: Path) -> dict[str, float]:
    """Events/s of the bare bulk insert, both ways, each into a fresh file-backed database."""
    batches = ingest_bodies(1000, 0, time.time())
    bodies = [batches[i % len(batches)] for i in range(BARE_BATCHES)]
    paths = []
    for i, body in enumerate(bodies):
        paths.append(folder / f"batch-{i}.json")
        paths[-1].write_bytes(body)
    schema = (
        "CREATE TABLE events (batch_id BIGINT, seq INTEGER, ts DOUBLE, user_name VARCHAR, "
        "event VARCHAR, value DOUBLE)"
    )
    json_columns = "{ts: 'DOUBLE', user: 'VARCHAR', event: 'VARCHAR', value: 'DOUBLE'}"

    def numpy_columns(con: duckdb.DuckDBPyConnection) -> None:
        for i, body in enumerate(bodies):
            rows = json.loads(body)
            incoming = {  # noqa: F841 - read by DuckDB's replacement scan
                "seq": np.arange(len(rows), dtype=np.int32),
                "ts": np.array([r["ts"] for r in rows], dtype=np.float64),
                "user_name": np.array([r["user"] for r in rows], dtype=object),
                "event": np.array([r["event"] for r in rows], dtype=object),
                "value": np.array([r["value"] for r in rows], dtype=np.float64),
            }
            con.execute("BEGIN TRANSACTION")
            con.execute("INSERT INTO events SELECT ?, seq, ts, user_name, event, value FROM incoming", [i])
            con.execute("COMMIT")

    def read_json(con: duckdb.DuckDBPyConnection) -> None:
        for i, path in enumerate(paths):
            con.execute("BEGIN TRANSACTION")
            con.execute(
                f"INSERT INTO events SELECT {i}, 0, ts, user, event, value "
                f"FROM read_json('{path}', columns = {json_columns})"
            )
            con.execute("COMMIT")

    rates = {}
    for name, insert in (("numpy_events_per_s", numpy_columns), ("read_json_events_per_s", read_json)):
        db = folder / f"bare-{name}.duckdb"
        with duckdb.connect(str(db)) as con:
            con.execute(schema)
            started = time.perf_counter()
            insert(con)
            rates[name] = BARE_BATCHES * 1000 / (time.perf_counter() - started)
        db.unlink()
    for path in paths:
        path.unlink()
    return rates


def hammer(url: str, pid: int, mode: str, seconds: float) -> dict[str, Any]:
    request("PUT", url + "admin/offload", f'{{"mode": "{mode}"}}'.encode())
    intervals = {**DEFAULT_INTERVALS, "health": HEALTH_INTERVAL_S}
    slots = ["sessions"] * SESSION_CLIENTS + ["health"]

    def load(duration: float) -> LoadReport:
        return run_load(
            plans(url, slots, len(slots), duration_s=duration, max_requests=10**9, intervals=intervals)
        )

    load(1.0)  # warm-up: the first reports of a mode (and the clients' start) are not measured
    with CpuWindow(pid) as cpu:
        report = load(seconds)
    health, sessions = route(report, "health"), route(report, "sessions")
    return {
        "health_p50_ms": health.p50_ms,
        "health_p99_ms": health.p99_ms,
        "health_requests": health.requests,
        "sessions_per_s": sessions.requests_per_s,
        "sessions_p50_ms": sessions.p50_ms,
        "errors": {**health.errors, **sessions.errors},
        "server_cores": cpu.server_cores,
        "worker_cores": cpu.worker_cores,
        "tree_cores": cpu.server_cores + cpu.worker_cores,
        "machine_cores": cpu.machine_cores,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    with (
        tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp,
        server(Path(tmp) / "bench.duckdb", 2) as (
            url,
            proc,
        ),
    ):
        bare = [bare_duckdb_ingest(Path(tmp))]
        ingested = ingest(url, args.ingest_clients, args.ingest_s)
        bare.append(bare_duckdb_ingest(Path(tmp)))
        floor = statistics.mean(max(b.values()) for b in bare)
        ingested |= {
            "bare_duckdb": bare,
            "bare_floor_events_per_s": floor,
            "share_of_bare": ingested["events_per_s"] / floor,
        }
        print(
            f"ingest: {ingested['events_per_s']:,.0f} events/s "
            f"({ingested['share_of_bare']:.2f}x the bare DuckDB insert, {floor:,.0f} events/s), "
            f"count exact: {ingested['count_exact']}"
        )
        rounds: list[dict[str, dict[str, Any]]] = []
        for r in range(args.rounds):
            order = MODES[r % len(MODES) :] + MODES[: r % len(MODES)]
            measured = {}
            for mode in order:
                measured[mode] = hammer(url, proc.pid, mode, args.mode_s)
                m = measured[mode]
                print(
                    f"round {r + 1} {mode:>9}: /health p99 {m['health_p99_ms']:7.1f} ms, "
                    f"{m['sessions_per_s']:.1f} reports/s, server {m['server_cores']:.2f} + workers "
                    f"{m['worker_cores']:.2f} cores, machine {m['machine_cores']:.2f}"
                )
            rounds.append(measured)
    figures = {
        mode: {
            key: summarize([rnd[mode][key] for rnd in rounds]) for key in rounds[0][mode] if key != "errors"
        }
        for mode in MODES
    }
    ratios = {
        mode: summarize([rnd[mode]["health_p99_ms"] / rnd["processes"]["health_p99_ms"] for rnd in rounds])
        for mode in ("inline", "threads")
    }
    return {
        "machine": {**machine_summary(), "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "config": {k: v for k, v in vars(args).items() if k != "json"}
        | {"session_clients": SESSION_CLIENTS, "health_interval_s": HEALTH_INTERVAL_S},
        "ingest": ingested,
        "rounds": rounds,
        "figures": figures,
        "health_p99_ratio_over_processes": ratios,
        "checks": issue_checks(ingested, rounds),
    }


def issue_checks(ingested: dict[str, Any], rounds: list[dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The serve issue's bounds, each with the measured figure and whether it holds."""
    worst_health = max(rnd["processes"]["health_p99_ms"] for rnd in rounds)
    return [
        {
            "check": "ingest events/s (one client)" if ingested["clients"] == 1 else "ingest events/s",
            "value": ingested["events_per_s"],
            "bound": f">= {INGEST_EVENTS_PER_S:,}",
            "holds": ingested["events_per_s"] >= INGEST_EVENTS_PER_S,
        },
        {
            "check": "ingest / bare DuckDB insert",
            "value": ingested["share_of_bare"],
            "bound": f">= {INGEST_SHARE_OF_BARE}",
            "holds": ingested["share_of_bare"] >= INGEST_SHARE_OF_BARE,
        },
        {
            "check": "processes: /health p99 ms, worst round",
            "value": worst_health,
            "bound": f"<= {HEALTH_P99_MS}",
            "holds": worst_health <= HEALTH_P99_MS,
        },
    ]


def print_table(result: dict[str, Any]) -> None:
    def cell(s: dict[str, Any], digits: int = 1) -> str:
        return f"{s['median']:.{digits}f} [{s['min']:.{digits}f}-{s['max']:.{digits}f}]"

    rows = []
    for mode in MODES:
        f = result["figures"][mode]
        ratio = result["health_p99_ratio_over_processes"].get(mode)
        rows.append(
            [
                mode,
                cell(f["health_p50_ms"], 2),
                cell(f["health_p99_ms"]),
                cell(ratio) if ratio else "1 (reference)",
                cell(f["sessions_per_s"]),
                cell(f["server_cores"], 2),
                cell(f["worker_cores"], 2),
                cell(f["tree_cores"], 2),
                cell(f["machine_cores"], 2),
            ]
        )
    headers = ["mode", "/health p50 ms", "/health p99 ms", "p99 / processes", "reports/s", "server cores",
               "worker cores", "server+workers", "machine busy"]  # fmt: skip
    print(table(headers, rows))
    i = result["ingest"]
    print(
        f"\ningest: {i['events_per_s']:,.0f} events/s ({i['clients']} clients, batches of 1,000, "
        f"batch p50 {i['batch_p50_ms']:.1f} ms / p99 {i['batch_p99_ms']:.1f} ms); "
        f"count after = {i['count_after']:,}, acknowledged = {i['acknowledged_events']:,}, "
        f"exact: {i['count_exact']}"
    )
    bare = ", ".join(
        f"{b['numpy_events_per_s']:,.0f} / {b['read_json_events_per_s']:,.0f}" for b in i["bare_duckdb"]
    )
    print(f"bare DuckDB insert, json.loads+NumPy / read_json, before and after: {bare} events/s")
    print("\nthe issue's bounds:")
    for c in result["checks"]:
        print(f"  {c['check']:<40} {c['value']:>12,.2f}  {c['bound']}: {'holds' if c['holds'] else 'MISSED'}")
    machine = result["machine"]
    print(
        f"  load average before {machine['loadavg_before'][0]:.2f}, after {machine['loadavg_after'][0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mode-s", type=float, default=6.0)
    parser.add_argument("--ingest-s", type=float, default=10.0)
    parser.add_argument("--ingest-clients", type=int, default=1)
    parser.add_argument("--json", type=Path, default=RESULTS / "bench_serve.json")
    args = parser.parse_args()
    result = run(args)
    print()
    print_table(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(f"\nJSON: {args.json}")


if __name__ == "__main__":
    main()
