from __future__ import annotations

import glob
import os
import tempfile
import threading
from collections.abc import Iterator

import psutil
import pytest


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def _segments() -> set[str]:
    return {n for n in os.listdir("/dev/shm") if n.startswith(f"gilwise-{os.getpid()}-")}


def _fault_dirs() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), f"gilwise-{os.getpid()}-*")))


def _threads() -> set[int]:
    return {t.ident or 0 for t in threading.enumerate()}


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Fails the test if it leaves a child process, a thread or a shared-memory segment."""
    before = (_children(), _threads(), _segments(), _fault_dirs())
    yield
    # Checked at once: when the runtime's close returns, everything must already be gone.
    after = (
        _children() - before[0],
        _threads() - before[1],
        _segments() - before[2],
        _fault_dirs() - before[3],
    )
    assert not after[0], f"child processes left behind: {after[0]}"
    assert not after[1], (
        f"threads left behind: {[t.name for t in threading.enumerate() if t.ident in after[1]]}"
    )
    assert not after[2], f"shared-memory segments left behind: {after[2]}"
    assert not after[3], f"fault-log directories left behind: {after[3]}"
