"""``gilwise audit``: does this environment really run without the GIL on a free-threaded build?"""

from __future__ import annotations

import argparse
from typing import Any

from .._audit.api import AuditSettings, audit
from .._audit.document import exit_code
from .._audit.measure import check_measure_counts, measure_gil_cost
from .._report.audit import render_audit
from .._results.files import check_output_target, write_output_json
from .console import add_wide_flag, stderr_console, stdout_console
from .options import split_values

_DESCRIPTION = (
    "Import every installed distribution (direct or transitive) in a fresh free-threaded "
    "interpreter, one child each, and report whether the GIL stayed off, which module turned it "
    "back on, or how the import failed; then what to do about it. Exit 0 ready, 1 a distribution "
    "re-enables the GIL or fails to import, 3 unknown, 2 usage."
)


def add_audit_parser(sub: Any) -> None:
    p = sub.add_parser("audit", description=_DESCRIPTION)
    p.add_argument(
        "--python",
        metavar="PATH",
        help="the interpreter or venv folder to audit (default: the one running gilwise; with "
        "--requirement, the newest free-threaded build found)",
    )
    p.add_argument(
        "-r",
        "--requirement",
        action="append",
        metavar="SPEC",
        help="install this requirement (a specifier such as 'numpy==2.2.6', or a requirements "
        "file) into a scratch venv of --python and audit it and its dependencies (repeatable)",
    )
    p.add_argument(
        "--only", action="append", metavar="NAME", help="audit these distributions and their dependencies"
    )
    p.add_argument("--timeout", type=float, default=30.0, metavar="S", help="per distribution (default 30)")
    p.add_argument("--offline", action="store_true", help="do not ask the package index for fixes")
    p.add_argument(
        "--measure",
        metavar="MODULE:FUNC",
        help="also time FUNC() under --threads threads on the GIL build, the free-threaded build, "
        "and the free-threaded build with PYTHON_GIL=1 (what a re-enabling dependency does)",
    )
    p.add_argument("--threads", type=int, default=2, metavar="N", help="threads for --measure (default 2)")
    p.add_argument(
        "--rounds", type=int, default=5, metavar="N", help="paired rounds for --measure (default 5)"
    )
    p.add_argument("--json", metavar="PATH", help="write the audit document to PATH")
    add_wide_flag(p)
    p.set_defaults(handler=run_audit_command)


def run_audit_command(args: argparse.Namespace) -> int:
    err = stderr_console()
    if args.json:
        check_output_target("--json", args.json)
    if args.measure:
        check_measure_counts(args.threads, args.rounds)
    requirements = tuple(args.requirement or ())
    settings = AuditSettings(
        python=args.python,
        requirements=requirements,
        only=tuple(split_values(args.only)),
        timeout_s=args.timeout,
        offline=args.offline,
    )
    document = audit(settings, progress=lambda message: err.print(f"[dim]{message}[/dim]", highlight=False))
    if args.measure:
        document["measure"] = measure_gil_cost(
            args.measure,
            document["target"]["path"],
            threads=args.threads,
            rounds=args.rounds,
            progress=lambda message: err.print(f"[dim]{message}[/dim]", highlight=False),
        )
    if args.json:
        write_output_json("--json", args.json, document)
    render_audit(stdout_console(args.wide), document)
    return exit_code(document)
