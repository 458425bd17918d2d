"""Module-level task functions for the Dask tests: the cluster's workers import them by name
(``tests/dask`` is on their PYTHONPATH, as the same environment must be on a real cluster)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any


def square(x: int) -> int:
    return x * x


def fail(message: str) -> None:
    raise ValueError(message)


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def pid() -> int:
    return os.getpid()


def total(array: Any) -> float:
    return float(array.sum())


def make_lock() -> Any:
    return threading.Lock()


def wait_to_be_killed_once(marker: str) -> str:
    """First attempt: say where it runs, then wait for the SIGKILL; a retry returns at once."""
    path = Path(marker)
    if path.exists():
        return "retried"
    path.write_text(str(os.getpid()))
    time.sleep(60)
    return "not killed"


_initialized: list[str] = []


def remember(tag: str) -> None:
    _initialized.append(tag)


def initialized() -> list[str]:
    return list(_initialized)
