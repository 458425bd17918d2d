"""``gilwise history``: the recorded bench runs, newest first."""

from __future__ import annotations

import argparse
from typing import Any

from rich.markup import escape

from .._report.columns import TableColumn, dropped_note, fit_columns, fitted_table
from .._results.history import ENV_VAR, History, resolve_history_path
from .console import add_wide_flag, stdout_console
from .options import positive_int


def add_history_parser(sub: Any) -> None:
    p = sub.add_parser(
        "history",
        description="List the bench runs recorded in the history (newest first). Use an id with "
        "`gilwise report ID --html PATH` or `gilwise compare A B`.",
    )
    p.add_argument("--history", metavar="PATH", help=f"history file (default: ${ENV_VAR} or XDG data folder)")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="show the newest N runs (default 20)")
    add_wide_flag(p)
    p.set_defaults(handler=run_history_command)


HISTORY_COLUMNS = (
    TableColumn("id", 0),
    TableColumn("started (UTC)", 0, wraps=True, justify="left"),
    TableColumn("workloads", 0, wraps=True, justify="left"),
    TableColumn("models", 0, wraps=True, justify="left"),
    TableColumn("Python", 1, wraps=True, justify="left"),
    TableColumn("cells", 0),
    TableColumn("status", 0, wraps=True, justify="left"),
)
"""The history table: every column but the interpreters always (``--wide``: all)."""


def run_history_command(args: argparse.Namespace) -> int:
    limit = positive_int("--limit", args.limit)
    path = resolve_history_path(args.history)
    out = stdout_console(args.wide)
    if not path.exists():
        out.print(f"no bench runs recorded yet: {path} does not exist (`gilwise bench` records each run).")
        return 0
    runs = History.for_reading(path).runs(limit)
    if not runs:
        out.print(f"no bench runs recorded yet in {path}.")
        return 0
    rows = []
    for run in runs:
        status = run.status if run.status == "complete" else f"[yellow]{escape(run.status)}[/yellow]"
        rows.append(
            [
                str(run.id),
                (run.started or "—").replace("T", " ").removesuffix("+00:00"),
                escape(", ".join(run.workloads)),
                escape(", ".join(run.models)),
                escape(", ".join(run.interpreters)),
                f"{run.cells_measured}/{run.cells_total}",
                status,
            ]
        )
    out.print(escape(f"bench history: {path}"), highlight=False)
    fitted = fit_columns(HISTORY_COLUMNS, rows, out.width)
    out.print(fitted_table(HISTORY_COLUMNS, rows, fitted))
    if fitted.dropped:
        out.print(f"[dim]{escape(dropped_note(fitted.dropped, also='`gilwise report ID` has them'))}[/dim]")
    return 0
