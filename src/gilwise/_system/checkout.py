"""Where this gilwise runs from: a source checkout, or an installed wheel or sdist.

Hints name commands the user has where they run gilwise (STYLE.md, habit 18): a checkout has
``uv sync``, ``scripts/`` and ``native/``; an installed gilwise has pip and none of those.
Every hint that differs between the two asks ``source_checkout()`` here, so "is this a
checkout?" is decided once. Stdlib only: harness workers import it under any CPython.
"""

from __future__ import annotations

import functools
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""``.../gilwise``: ``src/gilwise`` in a checkout, ``site-packages/gilwise`` once installed."""


@functools.cache
def source_checkout() -> Path | None:
    """The root of the gilwise source tree this gilwise is imported from, or None when installed.

    A checkout (or an unpacked sdist) imports gilwise from ``ROOT/src/gilwise`` (``uv sync``
    installs it editable, in place) next to ``ROOT/pyproject.toml`` and ``ROOT/native/``; a
    wheel puts the package in ``site-packages`` with neither beside it.
    """
    root = PACKAGE_DIR.parent.parent
    if (
        PACKAGE_DIR.parent.name == "src"
        and (root / "pyproject.toml").is_file()
        and (root / "native" / "CMakeLists.txt").is_file()
    ):
        return root
    return None
