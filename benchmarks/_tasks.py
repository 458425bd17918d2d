"""Task functions the offload and executor benchmarks send to worker processes.

A module of their own (not the scripts' ``__main__``), so every start method and every peer
pickles them by the same importable reference.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def square(x: int) -> int:
    return x * x


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def wait_to_be_killed(path: str) -> None:
    """Announce this worker's pid in ``path``, then wait for the benchmark to SIGKILL it."""
    Path(path).write_text(str(os.getpid()))
    time.sleep(60)


def kill_once(marker: str) -> str:
    """Announce this worker's pid in ``marker`` and wait for the SIGKILL; a retry returns."""
    path = Path(marker)
    if path.exists():
        return "retried"
    path.write_text(str(os.getpid()))
    time.sleep(60)
    return "not killed"


def array_total(arr: Any) -> float:
    return float(arr.sum())
