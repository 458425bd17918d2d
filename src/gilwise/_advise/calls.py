"""Functions that pools run in their workers (processes, sub-interpreters): importable by name,
stdlib only, so a spawned child or a sub-interpreter finds them through ``PYTHONPATH``."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any


def timed_call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, float]:
    """The call's result (shipped back, as the user's pool would) and its own duration."""
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t0


def timed_packed(packed: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]) -> tuple[Any, float]:
    """``timed_call`` for ``pool.map``, which passes one item per call."""
    return timed_call(*packed)


def ready(target: str, sys_path: list[str], hold_s: float) -> int:
    """A worker is up once it has imported the target (spawned children import it here)."""
    for folder in reversed(sys_path):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    from .target import resolve

    resolve(target)
    time.sleep(hold_s)  # so that n tasks land on n distinct workers
    return os.getpid()


def noop() -> None:
    return None


def accept(*args: Any, **kwargs: Any) -> None:
    """Receives arguments and returns nothing: a round trip of the arguments alone."""
    return
