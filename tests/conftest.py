"""Shared test guards: no test may leave a child process or a /dev/shm segment behind."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _shm() -> set[str]:
    folder = Path("/dev/shm")
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


_OWNER = re.compile(r"(?:gilwise|(?:sem\.)?loky)-(\d+)-")
"""Segments named after the pid that made them: gilwise's own, and loky's semaphores."""


def _someone_elses(segment: str) -> bool:
    """A gilwise or loky segment (named after the pid that made it) of a live process outside
    this test run's tree: another program on a shared machine, not a leak of this test."""
    found = _OWNER.match(segment)
    if found is None:
        return False
    pid = int(found.group(1))
    mine = {os.getpid()} | {p.pid for p in psutil.Process().children(recursive=True)}
    return pid not in mine and psutil.pid_exists(pid)


def _alive(proc: psutil.Process) -> bool:
    """Running and not a zombie; a process that exits between the listing and this look is not."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:  # NoSuchProcess, or ZombieProcess for a child reaped meanwhile
        return False


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    """Fail a test that leaves child processes or new shared-memory segments behind."""
    me = psutil.Process()
    before_children = {p.pid for p in me.children(recursive=True)}
    before_shm = _shm()
    yield
    deadline = time.monotonic() + 5
    leftovers: list[psutil.Process] = []
    while time.monotonic() < deadline:
        leftovers = [p for p in me.children(recursive=True) if p.pid not in before_children]
        leftovers = [p for p in leftovers if _alive(p)]
        if not leftovers:
            break
        time.sleep(0.05)
    for proc in leftovers:
        proc.kill()
    assert not leftovers, f"test left child processes: {[p.cmdline() for p in leftovers]}"
    new_shm = {n for n in _shm() - before_shm if not n.startswith("sem.mp-") and not _someone_elses(n)}
    assert not new_shm, f"test left shared-memory segments: {sorted(new_shm)}"


@pytest.fixture(autouse=True)
def isolated_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Bench runs made by tests go to a throw-away history, never the user's own."""
    path = tmp_path / "history.sqlite"
    monkeypatch.setenv("GILWISE_HISTORY", str(path))
    return path


@pytest.fixture
def gilwise_cmd() -> list[str]:
    """The CLI as a subprocess of this interpreter (the installed console script's code)."""
    return [sys.executable, "-m", "gilwise.cli"]


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env["COLUMNS"] = "200"
    return env
