"""``gilwise report RESULT``: render a result file (or a history run) again, as tables or HTML."""

from __future__ import annotations

import argparse
from typing import Any

from .._report import render_classic, render_group_tables, render_warnings
from .._report.html import write_html
from .._results.files import write_output_json
from .._results.history import ENV_VAR, load_result, resolve_history_path
from .console import add_wide_flag, stderr_console, stdout_console


def add_report_parser(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        description="Render an existing result (a file written by `gilwise bench --json`, a history "
        "id, or 'latest') as terminal tables, or with --html as one self-contained HTML file.",
    )
    p.add_argument("result", metavar="RESULT", help="result JSON file, history id, or 'latest'")
    p.add_argument("--html", metavar="PATH", help="write the HTML report here instead of printing tables")
    p.add_argument(
        "--json",
        metavar="PATH",
        help="write the result JSON here (as `bench --json` wrote it): a history run back as a file",
    )
    p.add_argument("--history", metavar="PATH", help=f"history file for ids (default: ${ENV_VAR} or XDG)")
    add_wide_flag(p)
    p.set_defaults(handler=run_report_command)


def run_report_command(args: argparse.Namespace) -> int:
    label, document = load_result(args.result, resolve_history_path(args.history))
    err = stderr_console()
    if args.json:
        write_output_json("--json", args.json, document)
        err.print(f"result JSON of {label} written to {args.json}", highlight=False)
    if args.html:
        write_html(args.html, document)
        err.print(f"HTML report of {label} written to {args.html}", highlight=False)
    if args.json or args.html:
        return 0
    out = stdout_console(args.wide)
    render_group_tables(out, document)
    render_classic(out, document)
    render_warnings(err, document)
    return 0
