"""The two consoles every command prints to: results on stdout, progress and messages on stderr."""

from __future__ import annotations

import argparse
import os
import sys

from rich.console import Console

DEFAULT_WIDTH = 80
"""Width when stdout is not a terminal and ``COLUMNS`` is unset, as ``git``, ``pip`` and ``ls`` do."""
WIDE_WIDTH = 10_000
"""``--wide``: a width no table reaches, so every column shows at its natural width, uncut; a
terminal then wraps the long lines itself."""


def output_width() -> int:
    """``COLUMNS`` when it holds a positive number, else 80: the width of piped output."""
    value = os.environ.get("COLUMNS", "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_WIDTH


def stdout_console(wide: bool = False) -> Console:
    """Tables and reports: a terminal's own width (rich reads it, and ``COLUMNS`` when set),
    ``COLUMNS`` or 80 when piped; with ``wide``, no limit (every column of every table)."""
    if wide:
        return Console(width=WIDE_WIDTH)
    return Console() if sys.stdout.isatty() else Console(width=output_width())


def add_wide_flag(parser: argparse.ArgumentParser) -> None:
    """``--wide``, for a command whose tables leave columns out when the width is short."""
    parser.add_argument(
        "--wide",
        action="store_true",
        help="print every table column, however wide (by default: the columns that fit the "
        "terminal, or $COLUMNS when piped, 80 when unset)",
    )


def stderr_console() -> Console:
    """Progress bars, warnings and error messages."""
    return Console(stderr=True)
