"""Where this gilwise runs from: a source checkout, or an install (a wheel, an sdist).

A hint names a command the user has where they run it (STYLE.md, habit 18): a checkout has
``scripts/``, ``native/`` and ``uv sync``; an installed gilwise has none of them. This module
is the one place that tells the two apart, so every message asks the same question.

A checkout runs gilwise from ``<root>/src/gilwise`` (``uv sync`` installs it in place) and
``<root>/pyproject.toml`` names the project ``gilwise``; an install runs it from
``site-packages/gilwise``. Stdlib only: harness and offload workers import it under any CPython.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
"""``.../gilwise``: the package this module belongs to (read at each call: tests replace it)."""


def checkout_root(package_dir: Path | None = None) -> Path | None:
    """The root of the gilwise checkout ``package_dir`` (default: this gilwise) runs from, or
    None for an install."""
    return _checkout_root((PACKAGE_DIR if package_dir is None else package_dir).resolve())


@functools.cache
def _checkout_root(package_dir: Path) -> Path | None:
    # Read once per process: hints ask on every unavailable row.
    if package_dir.parent.name != "src":
        return None
    root = package_dir.parent.parent
    try:
        with (root / "pyproject.toml").open("rb") as file:
            project = tomllib.load(file).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return root if isinstance(project, dict) and project.get("name") == "gilwise" else None


def running_from_checkout() -> bool:
    """Whether this gilwise runs from a source checkout (``uv sync``, ``scripts/`` exist)."""
    return checkout_root() is not None


def checkout_hint(command: str) -> str:
    """`` (in this gilwise checkout: `command`)`` when running from one, else nothing: the
    tail of a hint whose main part names what an installed gilwise's user can run."""
    return f" (in this gilwise checkout: `{command}`)" if running_from_checkout() else ""
