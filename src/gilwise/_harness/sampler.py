"""Per-core CPU and process-tree memory, sampled from outside the measured process.

A thread of the orchestrator (which is idle while a worker measures) reads the kernel's per-core
counters every ``interval`` seconds. Cells slice the shared timeline by their monotonic window, so
the measured process never runs a sampler of its own.
"""

from __future__ import annotations

import itertools
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Imported where used: harness workers import this package under any CPython, with only
    # the stdlib (and gilwise on PYTHONPATH); psutil serves the orchestrator alone.
    import psutil

DEFAULT_INTERVAL_S = 0.05
"""20 Hz: several samples even in a 0.2 s cell, and negligible cost (one /proc/stat read)."""


@dataclass(frozen=True)
class CpuSample:
    t: float
    """time.monotonic() when read (CLOCK_MONOTONIC: the same clock the workers use)."""
    busy: tuple[float, ...]
    """Cumulative busy seconds per core (user+nice+system+irq+softirq)."""
    steal: float
    """Cumulative seconds stolen by the hypervisor, all cores."""
    tree_rss: int
    """Summed RSS of the watched process tree (0 when nothing is watched)."""


@dataclass
class CpuWindow:
    """What the sampler saw between two instants."""

    interval_s: float
    per_core: list[list[float]] = field(default_factory=list)
    """One row per sample interval: busy fraction of each core (0..1)."""
    busy_core_seconds: float = 0.0
    steal_core_seconds: float = 0.0
    seconds: float = 0.0
    peak_tree_rss: int = 0

    @property
    def busy_cores_mean(self) -> float:
        """Mean over samples of the summed per-core busy fraction (1.0 = one core busy)."""
        if not self.per_core:
            return 0.0
        return sum(sum(row) for row in self.per_core) / len(self.per_core)


def _busy(times: psutil._common.pcputimes) -> float:  # type: ignore[name-defined]
    fields = ("user", "nice", "system", "irq", "softirq")
    return float(sum(getattr(times, name, 0.0) for name in fields))


def tree_rss(pid: int) -> int:
    """RSS of a process and all its descendants; 0 once it has gone."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


class CpuSampler:
    """Background sampler; ``watch(pid)`` adds the RSS of that process tree to each sample."""

    def __init__(self, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._samples: list[CpuSample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watched: int | None = None
        self._thread = threading.Thread(target=self._loop, name="gilwise-cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self._take()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def watch(self, pid: int | None) -> None:
        self._watched = pid

    def _take(self) -> None:
        import psutil

        per_core = psutil.cpu_times(percpu=True)
        watched = self._watched
        sample = CpuSample(
            t=time.monotonic(),
            busy=tuple(_busy(c) for c in per_core),
            steal=float(sum(getattr(c, "steal", 0.0) for c in per_core)),
            tree_rss=tree_rss(watched) if watched is not None else 0,
        )
        with self._lock:
            self._samples.append(sample)

    def _loop(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            next_at += self.interval_s
            self._stop.wait(max(0.0, next_at - time.monotonic()))
            self._take()

    def _settled(self, end: float) -> list[CpuSample]:
        """All samples, once one was taken after ``end`` (waits at most a few intervals)."""
        deadline = time.monotonic() + 4 * self.interval_s
        while True:
            with self._lock:
                samples = list(self._samples)
            if (samples and samples[-1].t >= end) or time.monotonic() > deadline:
                return samples
            time.sleep(self.interval_s / 4)

    def window(self, start: float, end: float) -> CpuWindow:
        """What happened in [start, end]: per-interval rows, and busy seconds interpolated to
        the exact instants (so a 0.3 s cell is not charged for a neighbouring 50 ms)."""
        samples = self._settled(end)
        times = [s.t for s in samples]
        lo = max(0, bisect_right(times, start) - 1)
        hi = min(len(samples), bisect_left(times, end) + 1)
        chosen = samples[lo:hi]
        result = CpuWindow(interval_s=self.interval_s)
        for before, after in itertools.pairwise(chosen):
            dt = after.t - before.t
            if dt <= 0:
                continue
            row = [max(0.0, min(1.0, (b - a) / dt)) for a, b in zip(before.busy, after.busy, strict=True)]
            result.per_core.append(row)
        if len(chosen) >= 2:
            result.seconds = end - start
            result.busy_core_seconds = _at(chosen, end, _total_busy) - _at(chosen, start, _total_busy)
            result.steal_core_seconds = _at(chosen, end, _steal) - _at(chosen, start, _steal)
        result.peak_tree_rss = max((s.tree_rss for s in chosen), default=0)
        return result


def _total_busy(sample: CpuSample) -> float:
    return sum(sample.busy)


def _steal(sample: CpuSample) -> float:
    return sample.steal


def _at(samples: list[CpuSample], t: float, value: Callable[[CpuSample], float]) -> float:
    """A cumulative counter linearly interpolated at instant ``t``."""
    if t <= samples[0].t:
        return value(samples[0])
    for before, after in itertools.pairwise(samples):
        if before.t <= t <= after.t:
            span = after.t - before.t
            frac = (t - before.t) / span if span > 0 else 1.0
            return value(before) + frac * (value(after) - value(before))
    return value(samples[-1])
