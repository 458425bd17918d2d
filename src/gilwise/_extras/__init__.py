"""The optional parts of gilwise: which extra brings which modules, and the exact command that
installs a missing one.

``pip install gilwise`` brings the core (rich, psutil): ``bench``, ``report``, ``compare``,
``history``, ``doctor``, ``advise``, ``audit``, ``load`` and the offload API. The rest comes with an extra
of ``pyproject.toml`` (``[project.optional-dependencies]``, which tests/test_extras.py checks
against ``EXTRAS``): a command whose extra is missing calls :func:`require_extra` and exits 2
with the install command; an implementation or model that needs one shows its bench row as
"unavailable" with :func:`install_command` in the reason. A checkout's ``uv sync`` installs
every extra, so only an installed wheel meets these messages.

Imports only the standard library and ``_exceptions``: any package may ask it, harness workers
and sub-interpreters included.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from types import MappingProxyType

from .._exceptions import UsageError

EXTRAS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "serve": ("fastapi", "uvicorn", "duckdb", "pydantic", "numpy", "plotly", "msgspec"),
        "numpy": ("numpy",),
        "dask": ("dask", "distributed"),
        "profile": (),  # py-spy is a program, looked for on PATH, not a module
        # ``gilwise serving``'s servers (each one missing is its row's "unavailable" reason) and
        # the HdrHistogram of the open-loop load generator
        "servers": ("gunicorn", "uvicorn_worker", "granian", "hypercorn", "hdrh"),
    }
)
"""Each extra and the top-level modules gilwise imports from it (``all`` is every one)."""


def install_command(extra: str) -> str:
    """``pip install 'gilwise[EXTRA]'``: quoted, since a shell would expand the brackets."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; gilwise has {', '.join(EXTRAS)}")
    return f"pip install 'gilwise[{extra}]'"


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that this interpreter cannot import (found, not imported: cheap)."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; gilwise has {', '.join(EXTRAS)}")
    return [name for name in EXTRAS[extra] if not _importable(name)]


def require_extra(extra: str, needed_by: str) -> None:
    """Raise ``UsageError`` (the CLI's exit 2) naming the install command when ``extra`` is
    missing here; ``needed_by`` says who asks (``gilwise serve``)."""
    missing = missing_modules(extra)
    if missing:
        modules = ", ".join(missing)
        raise UsageError(
            f"{needed_by} needs the optional dependencies of the {extra!r} extra, and "
            f"{modules} {'is' if len(missing) == 1 else 'are'} not installed. "
            f"Fix: {install_command(extra)}"
        )


def require_module(extra: str, module: str, needed_by: str) -> None:
    """Like :func:`require_extra` for one module of ``extra``, where the extra's other modules
    are optional to ``needed_by`` (``gilwise serving`` shows a missing server as a row)."""
    if module not in EXTRAS.get(extra, ()):
        raise ValueError(f"{module!r} is not a module of the {extra!r} extra")
    if not _importable(module):
        raise UsageError(
            f"{needed_by} needs {module}, from the optional dependencies of the {extra!r} extra, "
            f"and it is not installed. Fix: {install_command(extra)}"
        )


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken parent package, or a module without a spec
        return False
