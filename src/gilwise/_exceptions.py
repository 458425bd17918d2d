"""The exceptions gilwise raises.

Every message says what happened, the likely cause and the fix.

    GilwiseError
    ├── UsageError            bad names or numbers given by the user (CLI exit code 2)
    ├── WorkloadFailed        a workload returned a wrong answer or raised
    ├── HarnessError          a measurement could not be taken (worker died, timed out)
    └── NativeKernelError     a native kernel (C extension, ctypes library, NumPy) cannot
                              be loaded in this interpreter or failed to run
"""

from __future__ import annotations


class GilwiseError(Exception):
    """Base class of every error gilwise raises on purpose."""


class UsageError(GilwiseError, ValueError):
    """The user asked for something that does not exist or is out of range."""


class WorkloadFailed(GilwiseError):
    """A workload raised or returned a result its own check rejected."""


class HarnessError(GilwiseError):
    """A measurement could not be taken: the worker process died, hung or spoke garbage."""


class NativeKernelError(GilwiseError):
    """A native kernel cannot be loaded in this interpreter (not built, other ABI) or failed."""
