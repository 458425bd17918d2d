"""The ``gilwise`` command: one subcommand per verb.

Exit codes: 0 ok, 1 a run failed, 2 bad usage (the message lists the valid choices),
130 interrupted (finished results are kept).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console

from ._bench_command import add_bench_parser
from ._compare_command import add_compare_parser
from ._exceptions import GilwiseError, UsageError
from ._history_command import add_history_parser
from ._report_command import add_report_parser

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    from ._doctor_command import add_doctor_parser  # here: keeps the top imports merge-friendly

    parser = _Parser(
        prog="gilwise",
        description="Measure CPython's concurrency trade-offs on this machine, then apply them.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    add_doctor_parser(sub)
    add_bench_parser(sub)
    add_report_parser(sub)
    add_history_parser(sub)
    add_compare_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    err = Console(stderr=True)
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except UsageError as exc:
        err.print(f"[red]gilwise: error:[/red] {exc}", highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.print("[yellow]gilwise: interrupted[/yellow]")
        return EXIT_INTERRUPTED
    except GilwiseError as exc:
        err.print(f"[red]gilwise: {exc}[/red]", highlight=False)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
