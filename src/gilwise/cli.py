"""The ``gilwise`` console script: the entry point only; the commands live in ``gilwise._cli``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ._cli.exit_codes import EXIT_INTERRUPTED

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. The commands load here rather than at import, so a Ctrl-C while they
    load (a second or so on a cold disk) exits 130 quietly like one at any later moment."""
    try:
        from ._cli.app import main as run_command
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return run_command(argv)


if __name__ == "__main__":
    sys.exit(main())
