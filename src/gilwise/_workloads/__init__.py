"""Workloads: what is measured (cpu | io | mixed), each implementation, and its own answer check.

One registry table (``registry``), one line per workload; adding a workload = its task
functions in a module + one entry there. ``_base`` holds the types, ``registry`` the table,
``running`` runs one task where it is called (the models call it).

May import ``_exceptions``, ``_native`` (the kernels some implementations call) and ``_system``
(its helper servers die with their parent; their temp folders name their owner). A workload
does not know how it is run: it imports no model, harness or report. Imported in harness
workers and sub-interpreters, so stdlib-only.
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
    from ._base import Kind as Kind
    from ._base import ResourceHandle as ResourceHandle
    from ._base import TaskOutcome as TaskOutcome
    from ._base import TaskRef as TaskRef
    from ._base import Workload as Workload
    from ._base import close_enough as close_enough
    from ._base import equal as equal
    from ._base import load_object as load_object
    from .registry import WORKLOADS as WORKLOADS
    from .registry import get_workload as get_workload
    from .registry import impl_names as impl_names
    from .running import run_task as run_task
    from .running import warm_task as warm_task

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
_IN_REGISTRY = ("WORKLOADS", "get_workload", "impl_names")
_IN_RUNNING = ("run_task", "warm_task")
"""The names ``registry`` and ``running`` define; the others are ``_base``'s."""


def __getattr__(name: str) -> object:
    if name in __all__:
        home = "registry" if name in _IN_REGISTRY else "running" if name in _IN_RUNNING else "_base"
        value = getattr(_importlib.import_module(f"{__name__}.{home}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
