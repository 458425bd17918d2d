"""Whether n calls at once fit in memory: a call's peak (the call probe) against what the
machine can allocate now (``MemAvailable``, :func:`gilwise._system.mem_available`).

n workers, threads or processes, run n calls at once, so they need about n times one call's
peak; beyond what is available the machine swaps or the kernel kills a worker, and a scaling
probe would measure that (or die of it). The worker counts probed and verified are capped at
what fits, and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from .._system import mem_available
from .fmt import bytes_text

HEADROOM = 0.8
"""Share of the available memory the calls may take: the interpreters, pools' pipes and the
rest of the machine need some too."""


class MemoryEntry(TypedDict):
    """The ``memory`` field of a ``gilwise.advise/1`` document."""

    peak_call_bytes: int | None
    """What one call added to its process's resident memory at its peak (None: not measured)."""
    available_bytes: int | None
    """MemAvailable (capped by the cgroup's limit) when measured; None where the kernel does not say."""
    workers_cap: int | None
    """The most workers probed and verified so that their calls fit (None: no cap)."""
    note: str


@dataclass(frozen=True)
class MemoryCheck:
    peak_call_bytes: int | None
    available_bytes: int | None
    workers_cap: int | None
    note: str

    def allows(self, workers: int) -> bool:
        return self.workers_cap is None or workers <= self.workers_cap

    def to_json(self) -> MemoryEntry:
        return {
            "peak_call_bytes": self.peak_call_bytes,
            "available_bytes": self.available_bytes,
            "workers_cap": self.workers_cap,
            "note": self.note,
        }


def check_memory(peak_call_bytes: int | None, cores: int) -> MemoryCheck:
    """The cap on workers for calls peaking at ``peak_call_bytes``, with ``cores`` usable."""
    available = mem_available()
    if peak_call_bytes is None or available is None or peak_call_bytes <= 0:
        return MemoryCheck(peak_call_bytes, available, None, "")
    fits = int(available * HEADROOM // peak_call_bytes)
    if fits >= cores:
        return MemoryCheck(peak_call_bytes, available, None, "")
    peak, free = bytes_text(peak_call_bytes), bytes_text(available)
    if fits < 1:
        note = (
            f"memory: one call peaks at {peak} and only {free} is available: even serial may swap; "
            "verified with 1 worker (free memory or pass smaller arguments)"
        )
    else:
        note = (
            f"memory: one call peaks at {peak}; {cores} at once would need "
            f"{bytes_text(cores * peak_call_bytes)} but {free} is available: probed and verified "
            f"with at most {fits} worker{'s' if fits > 1 else ''}"
        )
    return MemoryCheck(peak_call_bytes, available, max(1, fits), note)
