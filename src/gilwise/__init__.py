"""gilwise: make CPython's concurrency trade-offs measurable, then apply them.

How data flows (one way; each arrow is a package boundary):

    _workloads (what)  +  _models (how: threads, processes, ...)  +  _pythons (which CPython)
        -> _harness: a fresh worker process per cell, round-robin rounds, outside sampling
        -> _results: the typed ``gilwise.bench/1`` document (stats, compare, SQLite history)
        -> _report (tables, HTML)  |  _advise (a verdict on user code)  |  _service (live dashboard)
    _offload (Offloader, Executor) is the runtime library the service and users run work on;
    _native (C/C++ kernels), _subinterp (PEP 684/734 runner) serve models; _cli is the top.

The offload runtime is imported on first use (PEP 562): harness workers and sub-interpreters
import this package too, and must load only the standard library (``faulthandler``, which the
runtime uses, cannot even load in a sub-interpreter with its own GIL).
"""

from __future__ import annotations

import importlib as _importlib

from . import _exceptions
from ._exceptions import GilwiseError as GilwiseError
from ._exceptions import HarnessError as HarnessError
from ._exceptions import OffloadError as OffloadError
from ._exceptions import OffloadTimeout as OffloadTimeout
from ._exceptions import Overloaded as Overloaded
from ._exceptions import UsageError as UsageError
from ._exceptions import WorkloadFailed as WorkloadFailed

# Not ``typing.TYPE_CHECKING``: importing typing costs every sub-interpreter ~5 ms (mypy treats
# any name TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._advise import AdviseReport as AdviseReport
    from ._advise import AdviseSettings as AdviseSettings
    from ._advise import ProgramReport as ProgramReport
    from ._advise import advise as advise
    from ._exceptions import Unpicklable as Unpicklable
    from ._exceptions import WorkerCrashed as WorkerCrashed
    from ._offload import Executor as Executor
    from ._offload import Offloader as Offloader
    from ._offload import OffloadStatistics as OffloadStatistics
    from ._offload import PoolConfig as PoolConfig
    from ._offload import cpu_bound as cpu_bound
    from ._offload import io_bound as io_bound
    from ._offload import offload as offload
del TYPE_CHECKING  # not a public name

__version__ = "0.1.0"

_LAZY = {"Executor", "OffloadStatistics", "Offloader", "PoolConfig", "cpu_bound", "io_bound", "offload"}
_LAZY_ADVISE = {"AdviseReport", "AdviseSettings", "ProgramReport", "advise"}
"""Loaded on first use like the offload names: advise pulls in the harness and psutil."""
_LAZY_ERRORS = {"Unpicklable", "WorkerCrashed"}
"""Their bases import ``concurrent.futures.process`` (multiprocessing, logging): see
``_exceptions._LAZY``."""


def _public(value: Any) -> Any:
    # Reprs, tracebacks and docs show the public path (``gilwise.WorkerCrashed``), as httpx does;
    # pickling by reference keeps working because each name is an attribute of this module.
    value.__module__ = __name__
    return value


for _name in (
    "GilwiseError",
    "HarnessError",
    "OffloadError",
    "OffloadTimeout",
    "Overloaded",
    "UsageError",
    "WorkloadFailed",
):
    _public(globals()[_name])


def __getattr__(name: str) -> Any:
    if name in _LAZY_ERRORS:
        value = getattr(_exceptions, name)
        globals()[name] = value
        return value
    if name in _LAZY or name in _LAZY_ADVISE:
        where = "._offload" if name in _LAZY else "._advise"
        value = _public(getattr(_importlib.import_module(where, __name__), name))
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY | _LAZY_ADVISE | _LAZY_ERRORS)


__all__ = [
    "AdviseReport",
    "AdviseSettings",
    "Executor",
    "GilwiseError",
    "HarnessError",
    "OffloadError",
    "OffloadStatistics",
    "OffloadTimeout",
    "Offloader",
    "Overloaded",
    "PoolConfig",
    "ProgramReport",
    "Unpicklable",
    "UsageError",
    "WorkerCrashed",
    "WorkloadFailed",
    "__version__",
    "advise",
    "cpu_bound",
    "io_bound",
    "offload",
]
