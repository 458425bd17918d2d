"""gilwise: make CPython's concurrency trade-offs measurable, then apply them.

The offload runtime is imported on first use (PEP 562): harness workers and sub-interpreters
import this package too, and must load only the standard library (``faulthandler``, which the
runtime uses, cannot even load in a sub-interpreter with its own GIL).
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from ._exceptions import GilwiseError as GilwiseError
from ._exceptions import HarnessError as HarnessError
from ._exceptions import OffloadError as OffloadError
from ._exceptions import OffloadTimeout as OffloadTimeout
from ._exceptions import Overloaded as Overloaded
from ._exceptions import Unpicklable as Unpicklable
from ._exceptions import UsageError as UsageError
from ._exceptions import WorkerCrashed as WorkerCrashed
from ._exceptions import WorkloadFailed as WorkloadFailed

if _typing.TYPE_CHECKING:
    from ._offload import Executor as Executor
    from ._offload import Offloader as Offloader
    from ._offload import OffloadStatistics as OffloadStatistics
    from ._offload import cpu_bound as cpu_bound
    from ._offload import io_bound as io_bound
    from ._offload import offload as offload

__version__ = "0.1.0"

_LAZY = {"Executor", "OffloadStatistics", "Offloader", "cpu_bound", "io_bound", "offload"}


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        value = getattr(_importlib.import_module("._offload", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY)


__all__ = [
    "Executor",
    "GilwiseError",
    "HarnessError",
    "OffloadError",
    "OffloadStatistics",
    "OffloadTimeout",
    "Offloader",
    "Overloaded",
    "Unpicklable",
    "UsageError",
    "WorkerCrashed",
    "WorkloadFailed",
    "__version__",
    "cpu_bound",
    "io_bound",
    "offload",
]
