"""``gilwise load``: drive a running ``gilwise serve`` from separate client processes."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .._exceptions import UsageError
from .._extras import require_module
from .._loadgen.mix import parse_weighted_mix
from .._loadgen.schedule import ARRIVALS
from .._report.columns import TableColumn, dropped_note, fit_columns, fitted_table
from .._results.files import check_output_target, write_output_json
from .._service.loadgen import (
    DEFAULT_INTERVALS,
    ROUTES,
    LoadReport,
    parse_intervals,
    parse_mix,
    plans,
    run_load,
)
from .._service.loadgen import wait_ready as wait_for_server
from .console import stderr_console, stdout_console
from .options import SERVE_TOKEN_ENV_VAR, positive_float, positive_int

if TYPE_CHECKING:
    from .._loadgen.coordinator import OpenLoopReport

MAX_CLIENTS = 256


def add_load_parser(sub: Any) -> None:
    p = sub.add_parser(
        "load",
        description="Run a loopback load against `gilwise serve` or any HTTP app. With --rate, "
        "open loop: requests leave on a precomputed schedule at R per second whatever the server "
        "does, latency counts from the scheduled send time (a stall shows in every request due "
        "during it), late sends are counted, percentiles come from HdrHistograms merged across "
        "the client processes, and --mix takes any app's paths with weights "
        "(/health=1,/analytics/sessions=1). Without --rate, the closed-loop clients of "
        "`gilwise serve` (one process per client, each on one route and one keep-alive "
        "connection; a slow answer delays that client's next request).",
    )
    p.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000/")
    p.add_argument("--duration", type=float, default=10.0, metavar="S", help="seconds of load (default 10)")
    p.add_argument("--clients", type=int, metavar="N", help="client processes (default: one per --mix entry)")
    p.add_argument(
        "--mix",
        help="with --rate: PATH=WEIGHT,... (default /health=1,/analytics/sessions=1; health, "
        "sessions, summary, count stand for gilwise serve's paths); without: routes, client i "
        f"takes entry i mod len, ROUTE:N repeats it N times ({', '.join(ROUTES)}; default all)",
    )
    p.add_argument(
        "--rate", type=float, metavar="R", help="open loop: R requests per second over the whole mix"
    )
    p.add_argument(
        "--arrivals",
        choices=ARRIVALS,
        default="constant",
        help="with --rate: evenly spaced sends, or Poisson (independent users; default constant)",
    )
    p.add_argument(
        "--interval",
        action="append",
        default=[],
        metavar="ROUTE=S",
        help="pause between a client's request starts; 0 = closed loop "
        f"(defaults: {', '.join(f'{k}={v:g}' for k, v in DEFAULT_INTERVALS.items())})",
    )
    p.add_argument(
        "--requests", type=int, default=1_000_000, metavar="N", help="at most N requests per client"
    )
    p.add_argument(
        "--batch", type=int, default=1000, metavar="N", help="events per ingest batch (default 1000)"
    )
    p.add_argument("--window", type=float, metavar="S", help="window= of the analytics requests")
    p.add_argument(
        "--token", metavar="T", help=f"bearer token (the server's; default ${SERVE_TOKEN_ENV_VAR})"
    )
    p.add_argument(
        "--json", metavar="PATH", help="write the percentiles as JSON (gilwise.load/2 with --rate, else /1)"
    )
    p.add_argument("--wait-ready", type=float, default=0.0, metavar="S", help="wait up to S s for /health")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    p.set_defaults(handler=run_load_command)


def run_load_command(args: argparse.Namespace) -> int:
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise UsageError(f"--url {args.url!r}: the load generator only targets loopback http:// servers")
    positive_float("--duration", args.duration)
    if args.duration > 3600:
        raise UsageError(f"--duration {args.duration:g} is over the 3600 s bound of one run")
    positive_int("--requests", args.requests)
    positive_int("--batch", args.batch, maximum=100_000)
    positive_float("--window", args.window)
    if args.rate is not None:
        return run_open_loop_command(args)
    slots = parse_mix(args.mix or ",".join(ROUTES))
    clients = len(slots) if args.clients is None else args.clients
    if not len(slots) <= clients <= MAX_CLIENTS:
        raise UsageError(f"--clients {clients}: use {len(slots)} (one per --mix entry) to {MAX_CLIENTS}")
    if args.json:
        check_output_target("--json", args.json)
    if args.wait_ready:
        wait_for_server(args.url, args.wait_ready)
    client_plans = plans(
        args.url if args.url.endswith("/") else args.url + "/",
        slots,
        clients,
        duration_s=args.duration,
        max_requests=args.requests,
        intervals=parse_intervals(args.interval),
        batch=args.batch,
        window_s=args.window,
        token=args.token or os.environ.get(SERVE_TOKEN_ENV_VAR) or None,  # serve --demo passes it there
    )
    if args.quiet:
        report = run_load(client_plans)
    else:
        with Progress(
            TextColumn("load"),
            BarColumn(),
            TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
            TextColumn("{task.fields[requests]} requests"),
            TimeElapsedColumn(),
            console=stderr_console(),
            transient=True,
        ) as bar:
            task = bar.add_task("load", total=args.duration, requests=0)

            def progress(elapsed: float, requests: int) -> None:
                bar.update(task, completed=min(elapsed, args.duration), requests=requests)

            report = run_load(client_plans, progress)
    if args.json:
        write_output_json("--json", args.json, report.as_json())
    if not args.quiet:
        stdout_console().print(render(report))
    # Any failed request fails the run: the table names which routes and how.
    return 1 if any(r.errors for r in report.routes) else 0


def render(report: LoadReport) -> Table:
    table = Table(
        title=f"gilwise load: {report.url}, {report.clients} clients, {report.duration_s:.1f} s",
        title_justify="left",
        header_style="bold",
    )
    for column in (
        "route",
        "clients",
        "requests",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "events/s",
    ):
        table.add_column(column, justify="left" if column == "route" else "right")
    table.add_column("errors")

    for r in report.routes:
        errors = ", ".join(f"{k}: {n}" for k, n in sorted(r.errors.items())) or "none"
        table.add_row(
            r.route,
            str(r.clients),
            str(r.requests),
            f"{r.requests_per_s:.1f}",
            ms(r.p50_ms),
            ms(r.p90_ms),
            ms(r.p99_ms),
            ms(r.max_ms),
            f"{r.events_per_s:,.0f}" if r.route == "ingest" else "—",
            errors if errors == "none" else f"[red]{errors}[/red]",
        )
    return table


DEFAULT_OPEN_MIX = "/health=1,/analytics/sessions=1"
MAX_RATE = 100_000.0


def run_open_loop_command(args: argparse.Namespace) -> int:
    if not 0 < args.rate <= MAX_RATE:
        raise UsageError(
            f"--rate {args.rate:g}: use a number of requests per second above 0, up to {MAX_RATE:g}"
        )
    require_module("servers", "hdrh", "gilwise load --rate")
    from .._loadgen.coordinator import LoadSettings, run_open_loop  # hdrh: the servers extra

    mix = parse_weighted_mix(args.mix or DEFAULT_OPEN_MIX)
    if args.json:
        check_output_target("--json", args.json)
    if args.wait_ready:
        wait_for_server(args.url, args.wait_ready)
    positive_int("--clients", args.clients, maximum=64)
    settings = LoadSettings(args.url, mix, args.rate, args.duration, args.arrivals, processes=args.clients)
    with stderr_console().status(f"open loop: {args.rate:g} requests/s for {args.duration:g} s"):
        report = run_open_loop(settings)
    if args.json:
        write_output_json("--json", args.json, report.as_json())
    if not args.quiet:
        print_open_loop(report)
    return 1 if report.errors else 0


def print_open_loop(report: OpenLoopReport) -> None:
    console = stdout_console()
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
    for path, r in report.routes.items():
        errors = ", ".join(f"{k}: {n}" for k, n in sorted(r["errors_by_kind"].items())) or "none"
        rows.append(
            [
                path,
                f"{r['throughput_rps']:.1f}",
                ms(r["p50_ms"]),
                ms(r["p90_ms"]),
                ms(r["p99_ms"]),
                ms(r["p999_ms"]),
                ms(r["max_ms"]),
                errors if errors == "none" else f"[red]{errors}[/red]",
                str(r["count"]),
            ]
        )
    console.print(
        f"gilwise load: {report.url}, open loop at {report.offered_rps:g} requests/s offered, "
        f"{report.throughput_rps:.1f} answered/s, {report.late_sends} of {report.sent} sends late, "
        f"{report.client_processes} client process(es); {report.cores.describe()}"
    )
    fitted = fit_columns(registry, rows, console.width)
    console.print(fitted_table(registry, rows, fitted))
    if fitted.dropped:
        console.print(dropped_note(fitted.dropped, also="the JSON has them"))


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}" if value >= 10 else f"{value:.2f}"
