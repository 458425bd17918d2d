"""Finding the interpreters the tests run as subprocesses (skip with the reason when absent)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gilwise._pythons.discovery import (
    InterpreterInfo,
    discover,
    free_threaded_build_path,
    gil_twin_build_path,
    probe,
)

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
FIXTURES = ROOT / "tests" / "fixtures"
PYENV = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"


def free_threaded_python() -> InterpreterInfo:
    path = free_threaded_build_path()
    if not os.path.exists(path):
        pytest.skip(
            f"no free-threaded CPython at {path}: run scripts/build-free-threaded-python.sh "
            "(CI does) or set GILWISE_FREE_THREADED_PYTHON"
        )
    return probe(path)


def gil_twin_python() -> InterpreterInfo:
    path = gil_twin_build_path()
    if not os.path.exists(path):
        pytest.skip(
            f"no GIL twin of the free-threaded build at {path}: run "
            "scripts/build-free-threaded-python.sh --gil (CI does) or set GILWISE_GIL_TWIN_PYTHON"
        )
    return probe(path)


def gil_python(minor: int) -> InterpreterInfo:
    """A GIL build of CPython 3.<minor>: from discovery (PATH, pyenv, uv, cache)."""
    for info in discover():
        if info.version_info[:2] == (3, minor) and not info.free_threaded:
            return info
    pytest.skip(f"no CPython 3.{minor} (GIL build) found on PATH, in pyenv or uv's folders")


def run_python(
    python: str, code: str, *, timeout: float = 120.0, extra_path: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_GIL", "PYTHONHOME")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), str(FIXTURES), extra_path]))
    return subprocess.run(
        [python, "-c", code], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
