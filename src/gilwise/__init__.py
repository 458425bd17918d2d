"""gilwise: make CPython's concurrency trade-offs measurable, then apply them.

How data flows (one way; each arrow is a package boundary):

    _workloads (what)  +  _models (how: threads, processes, ...)  +  _pythons (which CPython)
        -> _harness: a fresh worker process per cell, round-robin rounds, outside sampling
        -> _results: the typed result document, ``SCHEMA`` (stats, compare, SQLite history)
        -> _report (tables, HTML)  |  _advise (a verdict on user code)  |  _service (live dashboard)
    _offload (Offloader, Executor) is the runtime library the service and users run work on;
    _native (C/C++ kernels), _subinterp (PEP 684/734 runner) serve models; _cli is the top.

The top of the import graph: it imports ``_exceptions`` and, on first use of a public name (PEP
562), ``_offload`` or ``_advise``; no package imports it back (``tests/test_import_graph.py``).
Lazy because harness workers and sub-interpreters import this package too, and must load only
the standard library (``faulthandler``, which the runtime uses, cannot even load in a
sub-interpreter with its own GIL).
"""

from __future__ import annotations

import importlib as _importlib

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
    from ._offload import Executor as Executor
    from ._offload import Offloader as Offloader
    from ._offload import OffloadStatistics as OffloadStatistics
    from ._offload import PoolConfig as PoolConfig
    from ._offload import cpu_bound as cpu_bound
    from ._offload import io_bound as io_bound
    from ._offload import offload as offload
    from ._offload._errors import Unpicklable as Unpicklable
    from ._offload._errors import WorkerCrashed as WorkerCrashed
    from ._results.document import GILWISE_VERSION as __version__
del TYPE_CHECKING  # not a public name

_LAZY = {"Executor", "OffloadStatistics", "Offloader", "PoolConfig", "cpu_bound", "io_bound", "offload"}
_LAZY_ADVISE = {"AdviseReport", "AdviseSettings", "ProgramReport", "advise"}
"""Loaded on first use like the offload names: advise pulls in the harness and psutil."""
_LAZY_ERRORS = {"Unpicklable", "WorkerCrashed"}
"""The offload runtime's errors whose bases import ``concurrent.futures.process``
(multiprocessing, logging): see ``_offload._errors``."""
_LAZY_HOMES = {
    **dict.fromkeys(_LAZY, "._offload"),
    **dict.fromkeys(_LAZY_ADVISE, "._advise"),
    **dict.fromkeys(_LAZY_ERRORS, "._offload._errors"),
}


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
    if name == "__version__":  # where the documents get it; loading it costs workers nothing
        version: str = _importlib.import_module("._results.document", __name__).GILWISE_VERSION
        globals()[name] = version
        return version
    home = _LAZY_HOMES.get(name)
    if home is not None:
        value = _public(getattr(_importlib.import_module(home, __name__), name))
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY | _LAZY_ADVISE | _LAZY_ERRORS | {"__version__"})


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
