"""``python -m gilwise``: the ``gilwise`` command, for an environment whose scripts folder is not
on PATH (or to pick the interpreter: ``python3.13t -m gilwise doctor``)."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
