"""``gilwise load``: an open-loop load against `gilwise serve` or any loopback HTTP app."""

from __future__ import annotations

import argparse
import os
import re
import time
from typing import TYPE_CHECKING, Any

from .._exceptions import UsageError
from .._extras import require_module
from .._loadgen.mix import GILWISE_SERVE_MIX, SHORTHANDS, parse_weighted_mix
from .._loadgen.schedule import ARRIVALS, DEFAULT_RATE_RPS
from .._report.columns import TableColumn, dropped_note, fit_columns, fitted_table
from .._report.fmt import milliseconds
from .._results.files import check_output_target, write_output_json
from .._service.load_client import ingest_bodies
from .._service.loadgen import wait_ready as wait_for_server
from .console import add_wide_flag, stderr_console, stdout_console
from .options import SERVE_TOKEN_ENV_VAR, positive_float, positive_int

if TYPE_CHECKING:
    from .._loadgen.coordinator import OpenLoopReport

MAX_RATE = 100_000.0
MAX_INGEST_RATE = 1000.0
MAX_CLIENTS = 64
INGEST_PATH = "/events"
WINDOWED = ("/analytics/sessions", "/analytics/summary")
"""gilwise serve's paths that take ``?window=`` (``--window``)."""
_COUNTED = re.compile(r"^([^=]+):(\d+)$")


def add_load_parser(sub: Any) -> None:
    p = sub.add_parser(
        "load",
        description="Run an open-loop load against `gilwise serve` or any loopback HTTP app: "
        "requests leave on a precomputed schedule at --rate per second whatever the server does, "
        "latency counts from the scheduled send time (a stall shows in every request due during "
        "it, which a send-wait-send client would sample once), late sends are counted, and "
        "percentiles come from HdrHistograms merged across the client processes. --mix takes "
        "any app's paths with weights; --ingest-rate adds gilwise serve's event feed.",
    )
    p.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000/")
    p.add_argument("--duration", type=float, default=10.0, metavar="S", help="seconds of load (default 10)")
    p.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE_RPS,
        metavar="R",
        help=f"requests per second over the whole --mix (default {DEFAULT_RATE_RPS:g}: gilwise serve "
        "answers it on 2 cores in its processes mode)",
    )
    p.add_argument(
        "--mix",
        help=f"PATH=WEIGHT,... (default {GILWISE_SERVE_MIX}; {', '.join(SHORTHANDS)} stand for "
        "gilwise serve's paths; ROUTE:N is ROUTE=N)",
    )
    p.add_argument(
        "--arrivals",
        choices=ARRIVALS,
        default="constant",
        help="evenly spaced sends, or Poisson (independent users; default constant)",
    )
    p.add_argument(
        "--ingest-rate",
        type=float,
        default=0.0,
        metavar="B",
        help=f"gilwise serve: also POST B batches of --batch events per second to {INGEST_PATH} "
        "(open loop, apart from --rate; default 0)",
    )
    p.add_argument(
        "--batch", type=int, default=1000, metavar="N", help="events per ingest batch (default 1000)"
    )
    p.add_argument("--window", type=float, metavar="S", help="window= of the analytics requests")
    p.add_argument(
        "--clients", type=int, metavar="N", help="client processes (default: one per core set aside for them)"
    )
    p.add_argument(
        "--token", metavar="T", help=f"bearer token (the server's; default ${SERVE_TOKEN_ENV_VAR})"
    )
    p.add_argument("--json", metavar="PATH", help="write the gilwise.load/2 document")
    p.add_argument("--wait-ready", type=float, default=0.0, metavar="S", help="wait up to S s for /health")
    p.add_argument("--quiet", action="store_true", help="no status line and no table")
    add_wide_flag(p)
    p.set_defaults(handler=run_load_command)


def _mix(args: argparse.Namespace) -> dict[str, float]:
    # the closed-loop generator's ROUTE:N (N clients on ROUTE) reads as weight N
    items = [_COUNTED.sub(r"\1=\2", item.strip()) for item in (args.mix or GILWISE_SERVE_MIX).split(",")]
    text = ",".join(items)
    if "ingest" in {item.partition("=")[0] for item in items}:
        raise UsageError(
            f"ingest is a POST feed paced apart from the mix: drop it from --mix {args.mix} and "
            "pass --ingest-rate B (batches per second) with --batch N (events per batch)"
        )
    mix = parse_weighted_mix(text)
    if args.window is None:
        return mix
    return {f"{p}?window={args.window:g}" if p in WINDOWED else p: w for p, w in mix.items()}


def run_load_command(args: argparse.Namespace) -> int:
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise UsageError(f"--url {args.url!r}: the load generator only targets loopback http:// servers")
    positive_float("--duration", args.duration)
    if args.duration > 3600:
        raise UsageError(f"--duration {args.duration:g} is over the 3600 s bound of one run")
    if not 0 < args.rate <= MAX_RATE:
        raise UsageError(
            f"--rate {args.rate:g}: use a number of requests per second above 0, up to {MAX_RATE:g}"
        )
    if not 0 <= args.ingest_rate <= MAX_INGEST_RATE:
        raise UsageError(f"--ingest-rate {args.ingest_rate:g}: use 0 (none) to {MAX_INGEST_RATE:g} batches/s")
    positive_int("--batch", args.batch, maximum=100_000)
    positive_float("--window", args.window)
    positive_int("--clients", args.clients, maximum=MAX_CLIENTS)
    mix = _mix(args)
    require_module("servers", "hdrh", "gilwise load")
    from .._loadgen.coordinator import LoadSettings, PacedRoute, run_open_loop  # hdrh: the servers extra

    if args.json:
        check_output_target("--json", args.json)
    if args.wait_ready:
        wait_for_server(args.url, args.wait_ready)
    paced: tuple[PacedRoute, ...] = ()
    if args.ingest_rate:
        bodies = tuple(b.decode() for b in ingest_bodies(args.batch, seed=0, now=time.time()))
        paced = (PacedRoute(INGEST_PATH, args.ingest_rate, bodies, args.batch),)
    settings = LoadSettings(
        args.url,
        mix,
        args.rate,
        args.duration,
        args.arrivals,
        processes=args.clients,
        paced=paced,
        token=args.token or os.environ.get(SERVE_TOKEN_ENV_VAR) or None,  # serve --demo passes it there
    )
    if args.quiet:
        report = run_open_loop(settings)
    else:
        with stderr_console().status(f"open loop: {args.rate:g} requests/s for {args.duration:g} s"):
            report = run_open_loop(settings)
    if args.json:
        write_output_json("--json", args.json, report.as_json())
    if not args.quiet:
        print_open_loop(report, args.wide)
    # Any failed request fails the run: the table names which routes and how.
    return 1 if report.errors or any(p["errors"] for p in report.paced.values()) else 0


def print_open_loop(report: OpenLoopReport, wide: bool = False) -> None:
    console = stdout_console(wide)
    registry = (
        TableColumn("route", 0, wraps=True, justify="left"),
        TableColumn("req/s", 0),
        TableColumn("p50 ms", 2),
        TableColumn("p90 ms", 3),
        TableColumn("p99 ms", 0),
        TableColumn("p99.9 ms", 1),
        TableColumn("max ms", 0),
        TableColumn("errors", 0),
        TableColumn("count", 4),
    )
    rows = []
    streams = [*report.routes.items(), *((f"POST {p}", r) for p, r in report.paced.items())]
    for path, r in streams:
        errors = ", ".join(f"{k}: {n}" for k, n in sorted(r["errors_by_kind"].items())) or "none"
        rows.append(
            [
                path,
                f"{r['throughput_rps']:.1f}",
                milliseconds(r["p50_ms"]),
                milliseconds(r["p90_ms"]),
                milliseconds(r["p99_ms"]),
                milliseconds(r["p999_ms"]),
                milliseconds(r["max_ms"]),
                errors if errors == "none" else f"[red]{errors}[/red]",
                str(r["count"]),
            ]
        )
    ingest = "".join(
        f", {p['items_per_s']:,.0f} events/s acknowledged at {p['offered_rps']:g} batches/s"
        for p in report.paced.values()
    )
    console.print(
        f"gilwise load: {report.url}, open loop at {report.offered_rps:g} requests/s offered, "
        f"{report.throughput_rps:.1f} answered/s{ingest}, {report.late_sends} of {report.sent} sends "
        f"late, {report.client_processes} client process(es) using {report.client_cores:.2f} cores; "
        f"{report.cores.describe()}"
    )
    fitted = fit_columns(registry, rows, console.width)
    console.print(fitted_table(registry, rows, fitted))
    if fitted.dropped:
        console.print(dropped_note(fitted.dropped, also="the JSON has them"))
