"""The ``gilwise`` argument parser and the exit-code contract shared by every command.

Exit codes: 0 ok, 1 a run failed, 2 bad usage (the message lists the valid choices),
130 interrupted (finished results are kept).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rich.markup import escape

from .._exceptions import GilwiseError, UsageError
from .advise import add_advise_parser
from .bench import add_bench_parser
from .compare import add_compare_parser
from .console import stderr_console
from .doctor import add_doctor_parser
from .flags import usage_message
from .history import add_history_parser
from .load import add_load_parser
from .report import add_report_parser
from .serve import add_serve_parser

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

COMMANDS: tuple[Callable[[Any], None], ...] = (
    add_doctor_parser,
    add_bench_parser,
    add_report_parser,
    add_history_parser,
    add_compare_parser,
    add_serve_parser,
    add_load_parser,
    add_advise_parser,
)
"""One line per subcommand, in the order ``gilwise --help`` lists them."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gilwise",
        description="Measure CPython's concurrency trade-offs on this machine, then apply them.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for add_parser in COMMANDS:
        add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    err = stderr_console()
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except UsageError as exc:
        # escape: a message may hold brackets (pip install 'gilwise[dask]') that are not markup
        err.print(f"[red]gilwise: error:[/red] {escape(usage_message(exc))}", highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.print("[yellow]gilwise: interrupted[/yellow]")
        return EXIT_INTERRUPTED
    except GilwiseError as exc:
        err.print(f"[red]gilwise: {escape(str(exc))}[/red]", highlight=False)
        return EXIT_FAILED
