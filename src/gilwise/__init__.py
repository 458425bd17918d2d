"""gilwise: make CPython's concurrency trade-offs measurable, then apply them."""

from __future__ import annotations

from ._exceptions import GilwiseError as GilwiseError
from ._exceptions import HarnessError as HarnessError
from ._exceptions import UsageError as UsageError
from ._exceptions import WorkloadFailed as WorkloadFailed

__version__ = "0.1.0"

__all__ = [
    "GilwiseError",
    "HarnessError",
    "UsageError",
    "WorkloadFailed",
    "__version__",
]
