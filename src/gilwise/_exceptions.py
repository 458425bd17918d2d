"""The exceptions gilwise raises.

Every message says what happened, the likely cause and the fix.

    GilwiseError
    ├── UsageError            bad names or numbers given by the user (CLI exit code 2)
    ├── WorkloadFailed        a workload returned a wrong answer or raised
    ├── HarnessError          a measurement could not be taken (worker died, timed out)
    ├── NativeKernelError     a native kernel (C extension, ctypes library, NumPy) failed
    │   └── NativeKernelUnavailable   it cannot be loaded in this interpreter at all
    └── OffloadError          the offload runtime could not run a task
        ├── WorkerCrashed     the worker process running the task died (also BrokenProcessPool)*
        ├── OffloadTimeout    the task ran past its timeout= (also TimeoutError)
        ├── Overloaded        too much work is pending and the policy says refuse
        └── Unpicklable       a function, argument or result cannot cross to a process*

* defined in ``gilwise._offload._errors``, the only package that raises them: their bases
  (``concurrent.futures.process``, ``pickle``) would load multiprocessing, logging and more
  into every harness worker and sub-interpreter that imports this module (~20 ms each).
  ``gilwise.WorkerCrashed`` and ``gilwise.Unpicklable`` load them on first use.
"""

from __future__ import annotations


class GilwiseError(Exception):
    """Base class of every error gilwise raises on purpose."""


class UsageError(GilwiseError, ValueError):
    """The user asked for something that does not exist or is out of range.

    ``parameter`` names the argument at fault in library terms (``workers``, ``budget_s``)
    and ``value`` what it was given; ``problem`` is the rest of the message. The library
    prints ``workers=0: must be at least 1``; the CLI looks the parameter up in its one table
    of flags and prints ``--workers 0: must be at least 1`` (see ``_cli/flags``).
    """

    def __init__(self, problem: str, *, parameter: str | None = None, value: object = None) -> None:
        super().__init__(problem)
        self.problem, self.parameter, self.value = problem, parameter, value

    def __str__(self) -> str:
        if self.parameter is None:
            return self.problem
        # A path reads '/a/b', not PosixPath('/a/b').
        value = str(self.value) if hasattr(self.value, "__fspath__") else self.value
        name = self.parameter if value is None else f"{self.parameter}={value!r}"
        return f"{name}: {self.problem}"


class WorkloadFailed(GilwiseError):
    """A workload raised or returned a result its own check rejected."""


class HarnessError(GilwiseError):
    """A measurement could not be taken: the worker process died, hung or spoke garbage."""


class NativeKernelError(GilwiseError):
    """A native kernel cannot be loaded in this interpreter (not built, other ABI) or failed."""


class NativeKernelUnavailable(NativeKernelError):
    """This interpreter cannot run the implementation at all (not built for its ABI, no NumPy,
    an extension that refuses sub-interpreters): the bench shows the row as unavailable. Any
    other NativeKernelError is a failure of a kernel that did run."""


class OffloadError(GilwiseError):
    """The offload runtime could not run a task to completion."""


class OffloadTimeout(OffloadError, TimeoutError):
    """The task ran past its ``timeout=``; the worker running it was killed and replaced."""


class Overloaded(OffloadError):
    """More work is pending than ``max_pending`` allows and the policy is to refuse."""
