"""The ``gilwise`` argument parser and the exit-code contract shared by every command.

Exit codes: the rule in ``exit_codes`` (0 ok, 1 the result says no, 2 usage or file trouble,
3 inconclusive, 130 interrupted). An error of gilwise's own (a bug) is one line naming the
file its full traceback was written to, never the traceback itself.

Start-up costs only what the command run needs: ``COMMANDS`` holds each command's name and
summary, which is all ``gilwise --help`` shows, and only the module of the command being run is
imported (``_cli/NAME.py``, whose ``add_NAME_parser`` adds its parser). Its own parser parses
its arguments, so a bad flag prints that command's usage, not the top level's.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from .._exceptions import GilwiseError, UsageError
from .._extras import require_extra
from .exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from .flags import usage_message

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class Command:
    name: str
    """Also the module that adds its parser: ``gilwise._cli.NAME.add_NAME_parser``."""
    summary: str
    """The line ``gilwise --help`` shows for it."""
    extra: str | None = None
    """The extra it cannot run without (``gilwise._extras``), checked once its arguments are
    parsed: ``--help`` reads without it, running the command needs it."""


COMMANDS: tuple[Command, ...] = (
    Command("doctor", "show cores, CPython builds, native kernels and which models can run here"),
    Command("bench", "run workloads under every concurrency model, side by side"),
    Command("report", "render a result JSON file or a history run as tables or a self-contained HTML page"),
    Command("history", "list the recorded bench runs"),
    Command(
        "compare", "compare two runs row by row; exit 1 when a row got slower beyond noise, 3 inconclusive"
    ),
    Command("serve", "run the real-time analytics backend with its live dashboard", extra="serve"),
    Command("load", "load a running `gilwise serve` and print latency percentiles per route"),
    Command(
        "serving",
        "your ASGI app under uvicorn, Gunicorn, Granian, Hypercorn and offload, loaded open-loop",
        extra="serve",
    ),
    Command("advise", "which concurrency model suits your function or program, predicted then verified"),
    Command("audit", "will these distributions really run without the GIL on a free-threaded build?"),
)
"""One line per subcommand, in the order ``gilwise --help`` lists them."""

_COMMAND_NAMED = {command.name: command for command in COMMANDS}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError(message)


class _PrintVersion(argparse.Action):
    """``--version``: ``gilwise X.Y.Z`` on stdout, exit 0 (the version is read only when asked)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print gilwise's version and exit", **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> NoReturn:
        from .._results.document import GILWISE_VERSION

        print(f"gilwise {GILWISE_VERSION}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The top level: ``--help``, ``--version`` and the commands by name and summary (a
    command's own parser is :func:`command_parser`)."""
    parser = _Parser(
        prog="gilwise",
        description="Measure CPython's concurrency trade-offs on this machine, then apply them.",
    )
    parser.add_argument("--version", action=_PrintVersion, default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for command in COMMANDS:
        sub.add_parser(command.name, help=command.summary, add_help=False)
    return parser


def command_parser(name: str) -> argparse.ArgumentParser:
    """``gilwise NAME``'s own parser (its usage reads ``gilwise NAME [...]``)."""
    module = importlib.import_module(f"{__package__}.{name}")
    add_parser: Callable[[Any], None] = getattr(module, f"add_{name}_parser")
    sub = argparse.ArgumentParser(prog="gilwise").add_subparsers(parser_class=_Parser)
    add_parser(sub)
    own: argparse.ArgumentParser = sub.choices[name]
    return own


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    try:
        if not arguments or arguments[0] not in _COMMAND_NAMED:
            # No command: --help, --version, or the error that lists the commands.
            build_parser().parse_args(arguments)
            raise UsageError(f"give a command: {', '.join(_COMMAND_NAMED)}")
        args = command_parser(arguments[0]).parse_args(arguments[1:])
        # After parsing: `--help` reads without the extra; running the command needs it.
        extra = _COMMAND_NAMED[arguments[0]].extra
        if extra is not None:
            require_extra(extra, f"gilwise {arguments[0]}")
        return int(args.handler(args))
    except UsageError as exc:
        err, escape = _error_console()
        err.print(f"[red]gilwise: error:[/red] {escape(usage_message(exc))}", highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        err, _ = _error_console()
        err.print("[yellow]gilwise: interrupted[/yellow]")
        return EXIT_INTERRUPTED
    except GilwiseError as exc:
        err, escape = _error_console()
        err.print(f"[red]gilwise: {escape(str(exc))}[/red]", highlight=False)
        return EXIT_FAILED
    except Exception as exc:  # a bug of gilwise's own: one line, the trace in a file
        where = _write_trace()
        err, escape = _error_console()
        err.print(
            f"[red]gilwise: internal error ({escape(type(exc).__name__)}: {escape(str(exc)[:200])}); "
            f"the full trace is in {escape(where)}: please attach it to an issue[/red]",
            highlight=False,
        )
        return EXIT_FAILED


def _write_trace() -> str:
    """The current exception's traceback in a new file of the temp folder; its path."""
    import tempfile
    import traceback

    try:
        with tempfile.NamedTemporaryFile(
            "w", prefix="gilwise-trace-", suffix=".txt", delete=False, encoding="utf-8"
        ) as handle:
            traceback.print_exc(file=handle)
            return handle.name
    except OSError:
        return "(nowhere: the temp folder is not writable; rerun with PYTHONFAULTHANDLER=1)"


def _error_console() -> tuple[Console, Callable[[str], str]]:
    """The console for the final message, and the escape that keeps a message's brackets
    (pip install 'gilwise[dask]') from reading as markup. rich loads only here and in the
    commands that print: ``gilwise --help`` never pays for it."""
    from rich.markup import escape

    from .console import stderr_console

    return stderr_console(), escape
