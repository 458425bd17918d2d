"""Per-core CPU, the orchestrator's own CPU and the worker tree's memory, sampled from outside.

A thread of the orchestrator (which is otherwise idle while a worker measures) reads the kernel's
per-core counters every ``interval`` seconds. Cells slice the shared timeline by their monotonic
window, so the measured process never runs a sampler of its own.

What the sampler costs is itself measured: every sample records the orchestrator's CPU time
(``time.process_time``, all its threads), and a cell's ``orchestrator_cpu_cores`` is that
counter over the cell's window. On 2 cores whatever the orchestrator spends lands on the
parallel cells only (the serial one leaves a core idle), so it must stay negligible. Measured
here (µs of CPU per call, a 3-process worker tree): walking the whole
process table with ``psutil.Process.children(recursive=True)`` 1,700 µs, finding the same tree
among the pids above the worker's 116 µs, ``smaps_rollup`` 160 µs per process, ``/proc/stat``
through a kept-open descriptor 11 µs (``benchmarks/bench_harness_overhead.py --sampler``
measures them again). Hence:

- per-core CPU: ``pread`` of ``/proc/stat`` at 20 Hz, only the cores of this process's affinity
  set (other cores' load cannot slow the cells);
- the tree: the processes of the worker's session (it starts in its own; children inherit it),
  found among the pids at or above the worker's own (a pid is handed out in increasing order
  until it wraps; near the wrap every pid is checked), each pid's session read once;
- memory, every ``MIN_MEMORY_INTERVAL_S``: each member's peak RSS (``VmHWM`` of
  ``/proc/PID/status``, 17 µs: the kernel keeps the high-water mark, so no peak is missed
  between reads); PSS and USS from ``/proc/PID/smaps_rollup`` (PSS shares a page among the
  processes mapping it, so fork's copy-on-write pages count once; USS is what a process alone
  holds), whose cost grows with the memory it walks (2 ms for 300 MiB), paced so those reads
  spend at most ``MEMORY_CPU_SHARE`` of a core.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_INTERVAL_S = 0.05
"""20 Hz: several samples even in a 0.2 s cell, at ~20 µs of CPU each (0.04 % of a core)."""
MEMORY_CPU_SHARE = 0.002
"""Memory reads are paced to cost at most this fraction of one core (0.2 %)."""
MIN_MEMORY_INTERVAL_S = 0.2
FIRST_MEMORY_READ_S = 0.1
"""The first read of a watched tree, after the worker has started its pool."""
_PID_WRAP_MARGIN = 4096


@dataclass(frozen=True)
class CpuSample:
    t: float
    """time.monotonic() when read (CLOCK_MONOTONIC: the same clock the workers use)."""
    busy: tuple[float, ...]
    """Cumulative busy seconds per core of the affinity set (user+nice+system+irq+softirq)."""
    steal: float
    """Cumulative seconds stolen by the hypervisor, those cores."""
    orchestrator_cpu: float
    """Cumulative CPU seconds of the orchestrating process (every thread, this sampler's too)."""


@dataclass(frozen=True)
class MemorySample:
    """The watched tree's memory at one instant, summed over its processes."""

    t: float
    processes: int
    rss: int
    """Summed peak RSS (each member's high-water mark so far)."""
    pss: int | None
    """None in the reads between the paced share reads, and where the kernel has no
    smaps_rollup (non-Linux, very old kernels)."""
    uss: int | None


@dataclass
class CpuWindow:
    """What the sampler saw between two instants."""

    interval_s: float
    per_core: list[list[float]] = field(default_factory=list)
    """One row per sample interval: busy fraction of each core (0..1)."""
    busy_core_seconds: float = 0.0
    steal_core_seconds: float = 0.0
    orchestrator_cpu_s: float = 0.0
    seconds: float = 0.0
    peak_tree_rss: int = 0
    peak_tree_pss: int | None = None
    peak_tree_uss: int | None = None
    memory_reads: int = 0

    @property
    def busy_cores_mean(self) -> float:
        """Mean over samples of the summed per-core busy fraction (1.0 = one core busy)."""
        if not self.per_core:
            return 0.0
        return sum(sum(row) for row in self.per_core) / len(self.per_core)

    @property
    def orchestrator_cpu_cores(self) -> float:
        return self.orchestrator_cpu_s / self.seconds if self.seconds > 0 else 0.0


def affinity_cores() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # no affinity API (macOS): every core
        return list(range(os.cpu_count() or 1))


class _CoreCounters:
    """Cumulative busy and steal seconds of the given cores: /proc/stat, else psutil."""

    def __init__(self, cores: list[int]) -> None:
        self.cores = cores
        self._names = {f"cpu{c}".encode(): i for i, c in enumerate(cores)}
        self._tick = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
        try:
            self._fd: int | None = os.open("/proc/stat", os.O_RDONLY)
        except OSError:
            self._fd = None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def read(self) -> tuple[tuple[float, ...], float]:
        if self._fd is None:
            return self._read_psutil()
        busy = [0.0] * len(self.cores)
        steal = 0
        for line in os.pread(self._fd, 1 << 16, 0).split(b"\n"):
            index = self._names.get(line.split(b" ", 1)[0])
            if index is None:
                continue
            # cpuN user nice system idle iowait irq softirq steal ...
            v = line.split()
            busy[index] = (int(v[1]) + int(v[2]) + int(v[3]) + int(v[6]) + int(v[7])) * self._tick
            steal += int(v[8]) if len(v) > 8 else 0
        return tuple(busy), steal * self._tick

    def _read_psutil(self) -> tuple[tuple[float, ...], float]:
        import psutil  # the orchestrator only: harness workers import this package with the stdlib

        per_core = psutil.cpu_times(percpu=True)
        chosen = [per_core[c] for c in self.cores if c < len(per_core)]
        fields = ("user", "nice", "system", "irq", "softirq")
        busy = tuple(float(sum(getattr(t, name, 0.0) for name in fields)) for t in chosen)
        return busy, float(sum(getattr(t, "steal", 0.0) for t in chosen))


def _parent_and_session(pid: int) -> tuple[int, int] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    # pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses.
    fields = data[data.rindex(b")") + 2 :].split()
    return int(fields[1]), int(fields[3])


_ROLLUP_FIELDS = {b"Pss:": "pss", b"Private_Clean:": "uss", b"Private_Dirty:": "uss"}


def _shares(pid: int) -> tuple[int, int] | None:
    """(PSS, USS) of one process in bytes, from smaps_rollup (its cost grows with its memory)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    found = {"pss": 0, "uss": 0}
    for line in data.split(b"\n")[1:]:
        key = _ROLLUP_FIELDS.get(line.split(b" ", 1)[0])
        if key is not None:
            found[key] += int(line.split()[1]) * 1024
    return found["pss"], found["uss"]


def _peak_rss(pid: int) -> int | None:
    """The kernel's high-water mark of one process's RSS (VmHWM): no peak falls between reads."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            data = fh.read()
        at = data.index(b"VmHWM:")
    except (OSError, ValueError):
        return None
    return int(data[at + 6 : data.index(b"\n", at)].split()[0]) * 1024


class TreeMemory:
    """Memory of one worker's process tree: the root, the processes of the session it leads
    (harness workers start in their own), and its descendants by parent (any other root)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self._seen: dict[int, tuple[int, int] | None] = {}
        self._proc = os.path.isdir(f"/proc/{root}")
        try:
            pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
        except (OSError, ValueError):
            pid_max = 0
        self._check_all = pid_max - root < _PID_WRAP_MARGIN

    def members(self) -> list[int]:
        parents: dict[int, int] = {}
        found = {self.root}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            if pid < self.root and not self._check_all:
                continue
            if pid not in self._seen:  # a pid's parent and session are read once per cell
                self._seen[pid] = _parent_and_session(pid)
            known = self._seen[pid]
            if known is None:
                continue
            parents[pid] = known[0]
            if known[1] == self.root:
                found.add(pid)
        grew = True
        while grew:  # descendants by parent, for a root that does not lead its own session
            before = len(found)
            found.update(pid for pid, parent in parents.items() if parent in found)
            grew = len(found) > before
        return sorted(pid for pid in found if pid in parents)

    def read(self, now: float, shares: bool) -> MemorySample | None:
        """Summed peak RSS of the members; with ``shares``, their PSS and USS too (dearer)."""
        if not self._proc:
            return self._read_psutil(now)
        members = self.members()
        peaks = [rss for pid in members if (rss := _peak_rss(pid)) is not None]
        if not peaks:
            return None
        pss = uss = None
        if shares:
            found = [figures for pid in members if (figures := _shares(pid)) is not None]
            if found:
                pss, uss = sum(f[0] for f in found), sum(f[1] for f in found)
        return MemorySample(now, len(peaks), sum(peaks), pss, uss)

    def _read_psutil(self, now: float) -> MemorySample | None:
        import psutil

        try:
            root = psutil.Process(self.root)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return None
        rss = 0
        for proc in procs:
            try:
                rss += proc.memory_info().rss
            except psutil.Error:
                continue
        return MemorySample(now, len(procs), rss, None, None)


class CpuSampler:
    """Background sampler; ``watch(pid)`` adds that process tree's memory to the timeline."""

    def __init__(self, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self.cores = affinity_cores()
        self._counters = _CoreCounters(self.cores)
        self._samples: list[CpuSample] = []
        self._memory: list[MemorySample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._tree: TreeMemory | None = None
        self._next_memory_at = self._next_shares_at = 0.0
        self._thread = threading.Thread(target=self._loop, name="gilwise-cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self._take()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._counters.close()

    def watch(self, pid: int | None) -> None:
        self._next_memory_at = self._next_shares_at = time.monotonic() + FIRST_MEMORY_READ_S
        self._tree = None if pid is None else TreeMemory(pid)

    def _take(self) -> None:
        busy, steal = self._counters.read()
        now = time.monotonic()
        sample = CpuSample(t=now, busy=busy, steal=steal, orchestrator_cpu=time.process_time())
        with self._lock:
            self._samples.append(sample)
        tree = self._tree
        if tree is None or now < self._next_memory_at:
            return
        shares = now >= self._next_shares_at
        spent = time.thread_time()
        reading = tree.read(now, shares)
        spent = time.thread_time() - spent
        self._next_memory_at = now + MIN_MEMORY_INTERVAL_S
        if shares:
            self._next_shares_at = now + max(MIN_MEMORY_INTERVAL_S, spent / MEMORY_CPU_SHARE)
        if reading is not None:
            with self._lock:
                self._memory.append(reading)

    def _loop(self) -> None:
        # time.sleep, not Event.wait: a wake-up from sleep costs this thread ~15 µs of CPU, one
        # from Event.wait ~25 µs (it allocates and releases a lock each time); stopping waits
        # at most one interval.
        next_at = time.monotonic()
        while not self._stop.is_set():
            next_at += self.interval_s
            time.sleep(max(0.0, next_at - time.monotonic()))
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
        """What happened in [start, end]: per-interval rows, and counters interpolated to the
        exact instants (so a 0.3 s cell is not charged for a neighbouring 50 ms)."""
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
            result.orchestrator_cpu_s = _orchestrator_rate(chosen, start, end) * result.seconds
        with self._lock:
            memory = [m for m in self._memory if start <= m.t <= end]
        if memory:
            result.memory_reads = len(memory)
            result.peak_tree_rss = max(m.rss for m in memory)
            pss = [m.pss for m in memory if m.pss is not None]
            uss = [m.uss for m in memory if m.uss is not None]
            result.peak_tree_pss = max(pss) if pss else None
            result.peak_tree_uss = max(uss) if uss else None
        return result


def _total_busy(sample: CpuSample) -> float:
    return sum(sample.busy)


def _steal(sample: CpuSample) -> float:
    return sample.steal


def _orchestrator(sample: CpuSample) -> float:
    return sample.orchestrator_cpu


def _orchestrator_rate(samples: list[CpuSample], start: float, end: float) -> float:
    """The orchestrator's CPU rate (cores) over the sample intervals wholly inside [start, end].

    Its CPU comes in bursts at the edges of a cell (starting the worker before ``start``,
    reading its report after ``end``); spread evenly over a boundary interval, a 3 ms burst
    would be charged to the cell in part. Between the edges it only samples. Cells shorter
    than two intervals fall back to the interpolated counter.
    """
    inner = [s for s in samples if start <= s.t <= end]
    if len(inner) >= 2 and inner[-1].t > inner[0].t:
        return (inner[-1].orchestrator_cpu - inner[0].orchestrator_cpu) / (inner[-1].t - inner[0].t)
    spent = _at(samples, end, _orchestrator) - _at(samples, start, _orchestrator)
    return spent / (end - start) if end > start else 0.0


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
