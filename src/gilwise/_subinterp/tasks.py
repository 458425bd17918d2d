"""What the ``interpreters`` model runs inside each sub-interpreter: a share of the job's tasks.

Imported by name in every fresh sub-interpreter, so it imports nothing but the standard
library: the parent resolves the workload's ``"module:function"`` names (the registry) and the
interpreter imports only the task's own module. On CPython 3.12, ``_ctypes`` cannot load in a
sub-interpreter with its own GIL, and the registry (through ``_workloads._base``: dataclasses,
hence inspect and ast) costs each fresh interpreter ~15 ms that the cell would measure.
"""

from __future__ import annotations

import _thread
import importlib
import os
import time

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs each interpreter ~5 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def _load(path: str) -> Callable[..., Any]:
    # _workloads.load_object does the same, but importing it would load _base (see above).
    module, _, attr = path.partition(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    return fn


def prepare_share(task: str, prepare: str | None, size: int, params: dict[str, Any]) -> None:
    """Start-up, once per interpreter: build the workload's inputs and load its task function.

    ``task`` and ``prepare`` are ``"module:function"`` names. Loading the function imports the
    implementation's modules, so an extension that does not support sub-interpreters fails
    here, before any compute is timed.
    """
    if prepare is not None:
        _load(prepare)(size, params)
    _load(task)


def run_share(
    task: str, size: int, params: dict[str, Any], count: int
) -> tuple[str, list[tuple[Any, float, float]]]:
    """Run ``count`` tasks one after another; returns this interpreter's name and, per task,
    ``(result, start, end)`` on the process-wide ``perf_counter`` clock."""
    fn = _load(task)
    done = []
    for _ in range(count):
        start = time.perf_counter()
        result = fn(size, params)
        done.append((result, start, time.perf_counter()))
    return f"{os.getpid()}:{_thread.get_ident()}:subinterpreter", done
