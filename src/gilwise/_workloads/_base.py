"""What a workload is: a named task family with implementations and its own answer check.

Everything here runs inside harness worker processes, under any CPython: stdlib only.
A workload does not know how it is run; models call ``running.run_task`` with a
:class:`TaskRef`. Below ``registry`` (which builds these types) and ``running``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["cpu", "io", "mixed"]
Params = Mapping[str, Any]
TaskFn = Callable[[int, Params], Any]
VerifyFn = Callable[[Any, Any], "str | None"]


@dataclass(frozen=True)
class Workload:
    """A task family: ``impls`` maps an implementation name to ``"module:function"``.

    A task function takes ``(size, params)`` and returns a small, checkable value. ``verify``
    compares a task's result with the expected one and returns None or the reason it is wrong.
    """

    name: str
    kind: Kind
    summary: str
    size_unit: str
    default_size: int
    impls: Mapping[str, str]
    verify: VerifyFn
    tasks_per_worker: int = 2
    calibrate: bool = True
    """Scale ``size`` so the serial cell takes the target time (CPU work); fixed-latency I/O does not."""
    async_impls: Mapping[str, str] = field(default_factory=dict)
    """impl name -> ``"module:coroutine_function"`` for the asyncio model (else it uses to_thread)."""
    prepare: str | None = None
    """``"module:function(size, params)"`` building inputs once per process (not timed)."""
    resource: str | None = None
    """``"module:function()"`` -> context manager yielding extra params (a server, a database)."""
    iterations_per_size: int = 1
    """Inner-loop iterations per unit of size, for a cost-per-iteration figure (0: none)."""
    reference_impl: str = "python"
    threaded_impls: Mapping[str, str] = field(default_factory=dict)
    """impl name -> ``"module:function(size, params, threads)"``: one native call that runs
    the task on N native threads (the ``cpp-threads`` model)."""


@dataclass(frozen=True)
class TaskRef:
    """Picklable reference to one task: resolved by name in whichever process runs it."""

    workload: str
    impl: str
    size: int
    params: Mapping[str, Any]


@dataclass(frozen=True)
class TaskOutcome:
    result: Any
    start: float
    end: float
    worker: str


def load_object(path: str) -> Any:
    """Import ``"package.module:attr"``."""
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def close_enough(result: Any, expected: Any, rel: float = 1e-9) -> str | None:
    """Float check used by numeric kernels: None when equal within ``rel``."""
    if not isinstance(result, float):
        return f"expected a float, got {type(result).__name__}"
    scale = max(abs(float(expected)), 1e-300)
    if abs(result - float(expected)) / scale > rel:
        return f"got {result!r}, expected {expected!r} (relative error > {rel:g})"
    return None


def equal(result: Any, expected: Any) -> str | None:
    if result != expected:
        return f"got {result!r}, expected {expected!r}"
    return None


@dataclass(frozen=True)
class ResourceHandle:
    """A live resource a workload needs (a server, a database file), started by the harness.

    ``pids`` are processes of the resource, so their CPU is not blamed on "other load".
    """

    params: Mapping[str, Any]
    pids: tuple[int, ...] = ()
    description: str = ""
