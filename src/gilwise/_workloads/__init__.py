"""Workloads: what is measured (cpu | io | mixed), each implementation, and its own answer check.

One registry table (``registry``), one line per workload; adding a workload = its task
functions in a module + one entry there. A workload does not know how it is run: it imports no
model, harness or report. Imported in harness workers and sub-interpreters, so stdlib-only (plus ``_native``).
"""

from __future__ import annotations

import importlib as _importlib

# The registry (and ``_base``, whose dataclasses import inspect and ast) loads on first use of
# one of its names, not on import of the package: a sub-interpreter that runs
# ``gilwise._workloads.cpu:sqrt_log_python`` imports this package too, and the bare program it
# is compared with imports nothing (bench_fidelity's interpreters case). Not
# ``typing.TYPE_CHECKING``: mypy treats any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .registry import WORKLOADS as WORKLOADS
    from .registry import Kind as Kind
    from .registry import ResourceHandle as ResourceHandle
    from .registry import TaskOutcome as TaskOutcome
    from .registry import TaskRef as TaskRef
    from .registry import Workload as Workload
    from .registry import close_enough as close_enough
    from .registry import equal as equal
    from .registry import get_workload as get_workload
    from .registry import impl_names as impl_names
    from .registry import load_object as load_object
    from .registry import run_task as run_task
    from .registry import warm_task as warm_task

__all__ = [
    "WORKLOADS",
    "Kind",
    "ResourceHandle",
    "TaskOutcome",
    "TaskRef",
    "Workload",
    "close_enough",
    "equal",
    "get_workload",
    "impl_names",
    "load_object",
    "run_task",
    "warm_task",
]


def __getattr__(name: str) -> object:
    if name in __all__:
        value = getattr(_importlib.import_module(f"{__name__}.registry"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
