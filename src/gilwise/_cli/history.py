"""``gilwise history``: the recorded bench runs, newest first."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from .._results.history import ENV_VAR, History, resolve_history_path
from .console import stdout_console
from .options import positive_int


def add_history_parser(sub: Any) -> None:
    p = sub.add_parser(
        "history",
        description="List the bench runs recorded in the history (newest first). Use an id with "
        "`gilwise report ID --html PATH` or `gilwise compare A B`.",
    )
    p.add_argument("--history", metavar="PATH", help=f"history file (default: ${ENV_VAR} or XDG data folder)")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="show the newest N runs (default 20)")
    p.set_defaults(handler=run_history_command)


def run_history_command(args: argparse.Namespace) -> int:
    limit = positive_int("--limit", args.limit)
    path = resolve_history_path(args.history)
    out = stdout_console()
    if not path.exists():
        out.print(f"no bench runs recorded yet: {path} does not exist (`gilwise bench` records each run).")
        return 0
    runs = History(path).runs(limit)
    if not runs:
        out.print(f"no bench runs recorded yet in {path}.")
        return 0
    table = Table(title=f"bench history: {path}", title_justify="left", header_style="bold")
    for column in ("id", "started (UTC)", "workloads", "models", "Python", "cells", "status"):
        table.add_column(column, justify="right" if column in ("id", "cells") else "left")
    for run in runs:
        status = run.status
        if status != "complete":
            status = f"[yellow]{status}[/yellow]"
        table.add_row(
            str(run.id),
            (run.started or "—").replace("T", " ").removesuffix("+00:00"),
            ", ".join(run.workloads),
            ", ".join(run.models),
            ", ".join(run.interpreters),
            f"{run.cells_measured}/{run.cells_total}",
            status,
        )
    out.print(table)
    return 0
