"""The statistics the offload front ends report."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class OffloadStatistics:
    """A snapshot of one ``Offloader`` (or ``Executor``); every count is since it started."""

    workers: int
    """Worker processes configured."""
    workers_alive: int
    """Worker processes running now (replacements included)."""
    submitted: int
    """Tasks (or ``map`` chunks) sent to worker processes."""
    completed: int
    failed: int
    """Tasks that raised, crashed, timed out or could not be pickled."""
    cancelled: int
    crashes: int
    """Tasks that failed with ``WorkerCrashed``."""
    restarts: int
    """Worker processes started to replace dead ones."""
    retries: int
    timeouts: int
    pending: int
    """Tasks queued or running in worker processes right now."""
    rejected: int
    """Calls refused with ``Overloaded``."""
    thread_calls: int
    """Calls that ran in threads (routes ``io`` and ``native``)."""
    routes: MappingProxyType[str, int] = field(default_factory=lambda: MappingProxyType({}))
    """Calls per resolved route: ``cpu``, ``io``, ``native``."""

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["routes"] = dict(self.routes)
        return out


class PoolCounters:
    """Running totals; read by the statistics of the front ends."""

    __slots__ = (
        "_lock",
        "cancelled",
        "completed",
        "crashes",
        "failed",
        "restarts",
        "retries",
        "submitted",
        "timeouts",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.submitted = self.completed = self.failed = self.cancelled = 0
        self.crashes = self.restarts = self.retries = self.timeouts = 0

    def bump(self, *names: str) -> None:
        """Add one to each named count (replies and deaths are handled in two threads)."""
        with self._lock:
            for name in names:
                setattr(self, name, getattr(self, name) + 1)
