"""What a type checker sees of the offload API (mypy --strict on a small user program)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(180)

PROGRAM = """
import functools
from concurrent.futures import Future
from gilwise import Executor, Offloader, offload

def score(x: int, label: str = "") -> float:
    return float(x)

def keyword_only(*, n: int) -> int:
    return n

async def main() -> None:
    async with Offloader(workers=1) as off:
        a: float = await off.run(score, 1)
        b: float = await off.run(score, 1, route="cpu", timeout=2.0, retries=1, label="x")
        c: int = await off.run(functools.partial(keyword_only, n=3))
        d: float = await offload(score, 2, route="io")
        await off.run(score, "not an int")  # line 18: wrong argument type
        await off.run(score, 1, route="gpu")  # line 19: not a route
    with Executor(2) as ex:
        f: Future[float] = ex.submit(score, 1, label="y")
        ex.submit(score, "not an int")  # line 22: wrong argument type
"""


def test_mypy_checks_arguments_routes_and_results(tmp_path: Path) -> None:
    program = tmp_path / "program.py"
    program.write_text(PROGRAM)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(program),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    lines = sorted(int(line.split(":")[1]) for line in errors)
    assert lines == [18, 19, 22], done.stdout
