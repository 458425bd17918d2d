"""Module-level task functions for the offload tests (workers import them by name)."""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any


def square(x: int) -> int:
    return x * x


def add(a: int, b: int = 0) -> int:
    return a + b


def spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def segfault() -> None:
    ctypes.string_at(0)


def exit_now(code: int) -> None:
    os._exit(code)


def wait_to_be_killed(started: str) -> None:
    Path(started).write_text(str(os.getpid()))
    time.sleep(60)


def kill_self_once(marker: str) -> str:
    """Dies the first time (no marker yet), succeeds when retried."""
    path = Path(marker)
    if not path.exists():
        path.write_text("attempted")
        os.kill(os.getpid(), signal.SIGKILL)
    return "second attempt"


def touch(path: str) -> str:
    Path(path).write_text("ran")
    return path


def return_lock() -> Any:
    return threading.Lock()


def raise_value_error(text: str) -> None:
    raise ValueError(text)


def array_info(arr: Any) -> tuple[bool, bool, float]:
    """(writeable, owns its memory, sum): a zero-copy argument is a read-only borrowed view."""
    return bool(arr.flags.writeable), bool(arr.flags.owndata), float(arr.sum())


def bytes_len(data: bytes) -> tuple[str, int]:
    return type(data).__name__, len(data)


def make_array(n: int) -> Any:
    import numpy as np

    return np.arange(n, dtype=np.float64)


def pid() -> int:
    return os.getpid()


def failing_initializer() -> None:
    raise RuntimeError("initializer refuses")


def sleep_and_print(seconds: float, message: str) -> None:
    time.sleep(seconds)
    print(message, flush=True)


def version() -> tuple[int, int]:
    import sys

    return sys.version_info[:2]
