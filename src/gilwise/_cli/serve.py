"""``gilwise serve``: the analytics backend under uvicorn; ``--demo`` adds a built-in load."""

from __future__ import annotations

import argparse
import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from .._exceptions import UsageError
from .._results.history import resolve_history_path
from .._service.modes import MODES, check_mode
from .._service.settings import (
    DB_ENV_VAR,
    DEFAULT_BODY_LIMIT,
    DEFAULT_PORT,
    ServiceSettings,
    check_exposure,
    check_token,
    default_db_path,
    is_loopback,
)
from .._system.lifetime import owned_temp_dir
from .console import stderr_console
from .options import SERVE_TOKEN_ENV_VAR, positive_int, scheduler_address

DEMO_CYCLE_S = 20.0
DEMO_LOAD_S = 900.0
DEMO_MIX = "/analytics/sessions=3,/analytics/summary=1,/health=4"
DEMO_RATE = "8"
"""Requests per second of the demo's open-loop load: enough reports to keep the cores busy in
each offload mode, few enough that the processes mode keeps up on 2 cores."""
DEMO_INGEST_RATE = "10"


def add_serve_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        description="Run the analytics backend (FastAPI under uvicorn, events in an embedded DuckDB "
        "file) and its dashboard at http://HOST:PORT/. --offload chooses how the CPU-heavy "
        "/analytics/sessions runs; PUT /admin/offload (or the dashboard) switches it at run time.",
    )
    # Plain functions rather than argparse groups: a group would add a heading to --help.
    _add_address_and_database(p)
    _add_offload(p)
    _add_request_handling(p)
    _add_dashboard(p)
    p.set_defaults(handler=run_serve_command)


def _add_address_and_database(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free)"
    )
    p.add_argument(
        "--db", metavar="PATH", help=f"DuckDB file (default: ${DB_ENV_VAR} or the XDG data folder)"
    )


def _add_offload(p: argparse.ArgumentParser) -> None:
    """Where the CPU-heavy sessions analytics runs, and with how many workers."""
    p.add_argument(
        "--offload",
        default="processes",
        metavar="MODE",
        help=f"how the sessions analytics runs: {', '.join(MODES)} (default processes)",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="offload worker processes (default: usable cores); also the size of the dask mode's "
        "LocalCluster when no --dask-scheduler is given",
    )
    p.add_argument(
        "--dask-scheduler",
        metavar="ADDR",
        help="the running Dask cluster (e.g. tcp://10.0.0.5:8786) the dask mode runs the analytics "
        "on; its scheduler and workers must import gilwise (the same environment) and run with "
        "allowed-failures 0. Without it, --offload dask starts a LocalCluster of --workers processes",
    )
    p.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        metavar="N",
        help="lower the offload workers' CPU priority by N (default 10; 0 = same as the server)",
    )


def _add_request_handling(p: argparse.ArgumentParser) -> None:
    """Who may call which route, how large a batch may be, and how hard a report is retried."""
    p.add_argument(
        "--token",
        metavar="T",
        help="require 'Authorization: Bearer T' (≥ 16 characters) for ingest and admin, and off "
        "loopback for every route but /health; `ps` shows it: prefer --token-file or "
        f"${SERVE_TOKEN_ENV_VAR}",
    )
    p.add_argument("--token-file", metavar="PATH", help="read the token from this file (its first line)")
    p.add_argument(
        "--body-limit", type=int, default=DEFAULT_BODY_LIMIT, metavar="BYTES", help="largest batch"
    )
    p.add_argument(
        "--retries",
        type=int,
        default=1,
        metavar="N",
        help="re-run a sessions report whose worker died N times before answering 503 (default 1)",
    )


def _add_dashboard(p: argparse.ArgumentParser) -> None:
    """What the dashboard has to show besides live traffic: a bench history, a built-in load."""
    p.add_argument("--history", metavar="PATH", help="bench history shown on the dashboard")
    p.add_argument(
        "--demo",
        action="store_true",
        help="also run a built-in load and switch modes every 20 s: open the printed URL and watch",
    )


def run_serve_command(args: argparse.Namespace) -> int:
    from .._service.server import serve  # FastAPI and uvicorn load only for this command

    token = _token(args)
    if args.token is not None:
        stderr_console().print(
            f"gilwise serve: warning: --token is visible to every user of this machine (`ps`); pass it "
            f"in ${SERVE_TOKEN_ENV_VAR} or a file (--token-file) instead",
            highlight=False,
        )
    _check_serve_flags(args, token)
    bound = listen(args.host, args.port)  # a busy port fails here, before any file exists
    os.umask(0o077)  # the events database and its folder are the server's alone (0600 / 0700)
    scratch = owned_temp_dir("gilwise-demo-") if args.demo and not args.db else None
    db = (
        Path(args.db).expanduser()
        if args.db
        else (Path(scratch) / "demo.duckdb" if scratch else default_db_path())
    )
    settings = ServiceSettings(
        db_path=db,
        history_path=resolve_history_path(args.history),
        offload="threads" if args.demo and args.offload == "processes" else args.offload,
        workers=args.workers,
        dask_scheduler=args.dask_scheduler,
        worker_nice=args.worker_nice,
        token=token,
        protect_reads=not is_loopback(args.host),
        body_limit=args.body_limit,
        analytics_retries=args.retries,
        demo_cycle_s=DEMO_CYCLE_S if args.demo else None,
    )
    err = stderr_console()
    port = bound.getsockname()[1]  # --port 0: the port the kernel chose
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{port}/"
    err.print(f"gilwise serve: {url}  (database {db}, offload {settings.offload}; Ctrl-C stops)")
    load: subprocess.Popen[bytes] | None = None
    # SIGTERM takes Ctrl-C's way out: uvicorn handles it, then raises it again once the server
    # is down, and the default action would end this process before the finally below stops
    # the demo's load generator (its clients orphaned) and removes the scratch database.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if args.demo:
            err.print(
                f"[bold]demo:[/bold] open {url} — the analytics start in 'threads' mode (the story's "
                f"mistake: one core busy, /health slow), then switch every {DEMO_CYCLE_S:.0f} s to "
                "'processes' (the fix) and 'inline' (the bug); click a mode to stay on it."
            )
            load = _start_demo_load(url, token)
        try:
            serve(settings, args.host, port, bound)
        except KeyboardInterrupt:
            # uvicorn re-raises the SIGINT it handled; the shutdown was clean by then.
            err.print("gilwise serve: stopped")
    finally:
        signal.signal(signal.SIGTERM, previous)
        if load is not None:
            load.terminate()
            load.wait(timeout=10)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


def _check_serve_flags(args: argparse.Namespace, token: str | None) -> None:
    """Every flag refused before anything starts, so a typo costs no scratch folder or server."""
    check_mode(args.offload)
    check_token(token)
    check_exposure(args.host, token)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is out of range: use 0 to 65535")
    positive_int("--workers", args.workers, maximum=1024)
    if args.dask_scheduler is not None:
        scheduler_address(args.dask_scheduler)
    positive_int("--body-limit", args.body_limit)
    if not 0 <= args.worker_nice <= 19:
        raise UsageError(f"--worker-nice {args.worker_nice} is out of range: use 0 to 19")
    if not 0 <= args.retries <= 10:
        raise UsageError(f"--retries {args.retries} is out of range: use 0 to 10")


def _token(args: argparse.Namespace) -> str | None:
    """--token, else --token-file's first line, else $GILWISE_SERVE_TOKEN (None: no token)."""
    if args.token is not None:
        return str(args.token)
    if args.token_file is not None:
        try:
            return Path(args.token_file).expanduser().read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, UnicodeDecodeError, IndexError) as exc:
            why = "it is empty" if isinstance(exc, IndexError) else str(exc)
            raise UsageError(f"--token-file {args.token_file}: cannot read a token: {why}") from exc
    return os.environ.get(SERVE_TOKEN_ENV_VAR) or None


def listen(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound now: a busy port is exit 2 before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    # connections whose socket says TCP, and with it on every response waited ~40 ms for the
    # client's delayed ACK (measured: /health 44 ms, a 1,000-event batch 48 ms; 0.4 / 3.5 ms after).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} is in use on {host}; stop what listens there or pick another --port"
            ) from exc
        raise UsageError(f"--host {host} --port {port}: cannot listen there: {exc.strerror or exc}") from exc
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _start_demo_load(url: str, token: str | None) -> subprocess.Popen[bytes]:
    """``gilwise load`` in its own process, started once the server answers /health."""
    cmd = [
        sys.executable, "-m", "gilwise.cli", "load", "--url", url, "--duration", str(DEMO_LOAD_S),
        "--mix", DEMO_MIX, "--rate", DEMO_RATE, "--ingest-rate", DEMO_INGEST_RATE, "--wait-ready", "30",
        "--quiet",
    ]  # fmt: skip
    env = dict(os.environ)
    if token:
        env[SERVE_TOKEN_ENV_VAR] = token  # not on the command line, where `ps` shows it
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, env=env)
