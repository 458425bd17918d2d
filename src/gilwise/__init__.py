"""gilwise: make CPython's concurrency trade-offs measurable, then apply them."""

from __future__ import annotations

from ._exceptions import GilwiseError as GilwiseError
from ._exceptions import HarnessError as HarnessError
from ._exceptions import OffloadError as OffloadError
from ._exceptions import OffloadTimeout as OffloadTimeout
from ._exceptions import Overloaded as Overloaded
from ._exceptions import Unpicklable as Unpicklable
from ._exceptions import UsageError as UsageError
from ._exceptions import WorkerCrashed as WorkerCrashed
from ._exceptions import WorkloadFailed as WorkloadFailed
from ._offload import Executor as Executor
from ._offload import Offloader as Offloader
from ._offload import OffloadStatistics as OffloadStatistics
from ._offload import cpu_bound as cpu_bound
from ._offload import io_bound as io_bound
from ._offload import offload as offload

__version__ = "0.1.0"

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
