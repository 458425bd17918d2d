"""The two consoles every command prints to: results on stdout, progress and messages on stderr."""

from __future__ import annotations

import sys

from rich.console import Console

PIPED_WIDTH = 160
"""Width used when stdout is not a terminal: wide tables stay one row per line in logs and files."""


def stdout_console() -> Console:
    """Tables and reports; a fixed, generous width when piped so rows are not wrapped."""
    return Console() if sys.stdout.isatty() else Console(width=PIPED_WIDTH)


def stderr_console() -> Console:
    """Progress bars, warnings and error messages."""
    return Console(stderr=True)
