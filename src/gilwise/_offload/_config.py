"""``PoolConfig``: the settings of one offload pool, checked once, passed whole.

``Offloader``, ``Executor``, ``Runtime``, ``WorkerPool`` and ``DaskPool`` all read this one
object; the two public front ends still take the same settings as keywords and build it once
(``PoolConfig.from_keywords``). How callers queue onto a pool stays with the front end that
offers it: ``max_pending`` and ``overload`` (``Offloader``), the default ``route`` and
``mp_context`` (``Executor``).

There is no start method to choose: every worker is a fork of the pool's single-threaded
zygote (see ``_zygote``), and ``python=`` picks the interpreter that zygote runs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .._exceptions import UsageError
from . import _worker

Backend = Literal["process", "dask"]
BACKENDS: tuple[str, ...] = ("process", "dask")


@dataclass(frozen=True)
class PoolConfig:
    """What a pool of workers is: how many, which interpreter, what each runs first, how long
    a worker lives, and the defaults each task gets. Frozen: change one with
    ``dataclasses.replace(config, workers=4)``; checked on construction.

    >>> config = PoolConfig(workers=4, timeout=30, retries=1)      # doctest: +SKIP
    >>> async with Offloader(config=config) as off: ...             # doctest: +SKIP
    >>> with Executor(config=config) as executor: ...               # doctest: +SKIP
    """

    workers: int | None = None
    """Worker processes (Dask: LocalCluster workers); None = one per usable core, or with
    ``address`` the running cluster's worker threads."""
    timeout: float | None = None
    """Seconds a task may run before its worker is killed (None or ``math.inf``: no limit);
    a call's own ``timeout=`` overrides it."""
    retries: int = 0
    """Times a task is run again when its worker dies under it; a call's ``retries=`` overrides it."""
    initializer: Callable[..., object] | None = None
    """Called with ``initargs`` once in each new worker process (not in threads)."""
    initargs: Sequence[Any] = ()
    max_tasks_per_child: int | None = None
    """A worker is replaced after this many tasks (None: it lives as long as the pool)."""
    python: str | None = None
    """The interpreter the workers run (None: this one)."""
    io_threads: int = 32
    """Threads of the ``io`` route."""
    native_threads: int | None = None
    """Threads of the ``native`` route (None: one per usable core)."""
    shm_threshold: int = _worker.DEFAULT_THRESHOLD
    """Bytes from which a NumPy array or bytes argument travels in shared memory (Dask:
    is scattered to the cluster once)."""
    shm_cache_bytes: int = 256 << 20
    """Shared-memory segments kept for reuse between tasks."""
    backend: Backend = "process"
    """``process``: worker processes on this machine; ``dask``: a Dask cluster."""
    address: str | None = None
    """With ``backend="dask"``: a running scheduler (``tcp://HOST:PORT``); None: a LocalCluster."""
    cluster_reruns: bool = False
    """With ``address``: accept a scheduler that re-runs a dead worker's task (idempotent work only)."""
    spin_us: int = 40
    """Microseconds a worker keeps polling for its next task after a reply, and an attached
    event loop for the reply after a call, while a core is free for it (0: both block at
    once). It saves the wake-up of a halted CPU on the next message."""

    def __post_init__(self) -> None:
        self._check_numbers()
        self._check_backend()
        if self.initializer is not None and not callable(self.initializer):
            raise TypeError(f"initializer must be a callable, got {self.initializer!r}")
        object.__setattr__(self, "initargs", tuple(self.initargs))
        if self.timeout == math.inf:
            object.__setattr__(self, "timeout", None)

    def _check_numbers(self) -> None:
        for name, least in (("workers", 1), ("max_tasks_per_child", 1), ("native_threads", 1)):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an integer or None, got {value!r}")
            if value < least:
                raise UsageError(f"must be at least {least}", parameter=name, value=value)
        counts = (
            ("retries", 0),
            ("io_threads", 1),
            ("shm_threshold", 0),
            ("shm_cache_bytes", 0),
            ("spin_us", 0),
        )
        for name, least in counts:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an integer, got {value!r}")
            if value < least:
                raise UsageError(f"must be at least {least}", parameter=name, value=value)
        if self.timeout is not None and (
            not isinstance(self.timeout, int | float) or isinstance(self.timeout, bool)
        ):
            raise TypeError(f"timeout must be a number of seconds or None, got {self.timeout!r}")
        if self.timeout is not None and not self.timeout > 0:  # also refuses NaN
            raise UsageError(
                "must be a positive number of seconds (None or math.inf: no limit)",
                parameter="timeout",
                value=self.timeout,
            )

    def _check_backend(self) -> None:
        if self.backend not in BACKENDS:
            raise UsageError(
                f"valid backends are {', '.join(map(repr, BACKENDS))}",
                parameter="backend",
                value=self.backend,
            )
        if self.backend == "process":
            if self.address is not None:
                raise UsageError(
                    "is for backend='dask'; the process backend runs here",
                    parameter="address",
                    value=self.address,
                )
            return
        for name in ("python", "max_tasks_per_child"):
            if getattr(self, name) is not None:
                raise UsageError(
                    "does not apply to backend='dask': the cluster's workers run the interpreter and "
                    "lifetime their `dask worker` command gives them.",
                    parameter=name,
                    value=getattr(self, name),
                )
        if self.address is not None and self.workers is not None:
            raise UsageError(
                f"with address={self.address!r}: a running cluster has the workers it has. Fix: "
                "start more `dask worker` processes, or drop workers= (or address= for a "
                "LocalCluster of that size).",
                parameter="workers",
                value=self.workers,
            )

    @classmethod
    def from_keywords(
        cls, config: PoolConfig | None, arguments: Mapping[str, Any], *, workers: str = "workers"
    ) -> PoolConfig:
        """The front ends' one way in: their keyword arguments, or ``config`` whole.

        ``arguments`` is the front end's ``locals()`` at the top of its ``__init__``: its
        signature is then the one list of its keywords, and the names that are settings are
        taken from it (``workers`` names the keyword that sets the worker count: ``Executor``
        calls it ``max_workers``). Given both, a keyword left at its default defers to
        ``config``; one set to anything else is refused, since the caller said two things
        about the same setting.
        """
        keywords = {name: arguments[name] for name in _DEFAULTS if name in arguments}
        keywords["workers"] = arguments[workers]
        if config is None:
            return cls(**keywords)
        conflicting = {name: value for name, value in keywords.items() if not _is_default(name, value)}
        if conflicting:
            as_fields = ", ".join(f"{name}={value!r}" for name, value in conflicting.items())
            as_given = as_fields if workers == "workers" else as_fields.replace("workers=", f"{workers}=", 1)
            raise UsageError(
                f"{as_given} given beside config=: say each setting once. Fix: "
                f"dataclasses.replace(config, {as_fields}), or drop config=."
            )
        return config

    def sized(self, workers: int) -> PoolConfig:
        """This configuration with ``workers`` filled in where it was left to the default."""
        return self if self.workers is not None else dataclasses.replace(self, workers=workers)


_DEFAULTS: Mapping[str, object] = {field.name: field.default for field in dataclasses.fields(PoolConfig)}


def _is_default(name: str, value: object) -> bool:
    default = _DEFAULTS[name]
    # () and [] are the same "no initargs"; otherwise identity or equality with the default.
    return (
        value is default
        or (type(value) is type(default) and value == default)
        or (name == "initargs" and not value)
    )
