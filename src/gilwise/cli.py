"""The ``gilwise`` console script: the entry point only; the commands live in ``gilwise._cli``."""

from __future__ import annotations

import sys

from ._cli.app import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
