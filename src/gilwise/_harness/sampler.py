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

- per-core CPU: ``pread`` of ``/proc/stat`` at 10 Hz, only the cores of this process's affinity
  set (other cores' load cannot slow the cells);
- the tree: the processes of the worker's session (it starts in its own; children inherit it),
  found among the pids at or above the worker's own (a pid is handed out in increasing order
  until it wraps; near the wrap every pid is checked), each pid's session read once;
- memory: each member's peak RSS (``VmHWM`` of ``/proc/PID/status``: the kernel keeps the
  high-water mark, so no peak is missed between reads), PSS and USS from
  ``/proc/PID/smaps_rollup`` (PSS shares a page among the processes mapping it, so fork's
  copy-on-write pages count once; USS is what a process alone holds); a read's cost grows with
  the tree and the memory it walks (2 ms for 300 MiB), so reads are paced by their own measured
  cost to spend at most ``MEMORY_CPU_SHARE`` of a core, and at most every
  ``MIN_MEMORY_INTERVAL_S``. The harness runner watches with ``root_shares=False``: the
  harness worker reads its own PSS and USS after its clock stops, and a cell whose model starts
  no process is not watched for memory at all. Each read's CPU is charged whole to the cell
  window it lies in (not spread over the sample interval around it).

The kernel's files are read by ``_system`` (``CoreBusyCounters``, ``ProcessTree``,
``peak_rss``, ``pss_uss``); this module decides when to read, what, and how to charge it.
"""

from __future__ import annotations

import itertools
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

from .._system import CoreBusyCounters, ProcessTree, affinity_cores, peak_rss, pss_uss, tree_rss_without_proc

DEFAULT_INTERVAL_S = 0.1
"""10 Hz. A sample costs ~130 µs of CPU here when its caches are cold (the thread's wake-up
and the kernel generating /proc/stat; 30 µs hot), so 20 Hz cost 0.27 % of a core: half of the
orchestrator's budget for the sampler alone. Busy seconds are interpolated to a cell's exact
window, so the rate only sets the per-core timeline's resolution."""
MEMORY_CPU_SHARE = 0.002
"""Memory reads are paced to cost at most this fraction of one core (0.2 %)."""
MIN_MEMORY_INTERVAL_S = 0.2
FIRST_MEMORY_READ_S = 0.1
"""The first read of a watched tree when the caller cannot say when its pool will be up."""
SHARE_READS_PER_TREE = 4
"""A read looks at the root and at most 3 other members (rotating from read to read): a pool's
workers are alike, so the others' RSS, PSS and USS are their mean times their number, and a
read of a 33-process tree costs what one of a 4-process tree does."""


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
    """None where the kernel has no smaps_rollup (non-Linux, very old kernels)."""
    uss: int | None
    others: int = 0
    """Members besides the root (the processes the harness worker started: a pool's workers,
    plus a spawn pool's resource tracker or the forkserver)."""
    others_rss: int = 0
    others_pss: int | None = None
    others_uss: int | None = None


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
    started_processes: int = 0
    """The most processes the watched worker had started at any read (0: threads, one process)."""
    peak_started_rss: int = 0
    peak_started_pss: int | None = None
    peak_started_uss: int | None = None

    @property
    def busy_cores_mean(self) -> float:
        """Mean over samples of the summed per-core busy fraction (1.0 = one core busy)."""
        if not self.per_core:
            return 0.0
        return sum(sum(row) for row in self.per_core) / len(self.per_core)

    @property
    def orchestrator_cpu_cores(self) -> float:
        return self.orchestrator_cpu_s / self.seconds if self.seconds > 0 else 0.0

    def other_cpu_cores(self, measured_cpu_s: float) -> float:
        """The noise guard's one figure: cores used by other processes in the window, i.e. the
        busy core-seconds less the measured tree's CPU (``measured_cpu_s``) and this
        orchestrator's, per second. The bench, advise and audit all read it here."""
        own = measured_cpu_s + self.orchestrator_cpu_s
        return max(0.0, self.busy_core_seconds - own) / self.seconds if self.seconds > 0 else 0.0


class TreeMemory:
    """Memory of one worker's process tree: the root, the processes of the session it leads
    (harness workers start in their own), and its descendants by parent (any other root)."""

    def __init__(self, root: int, root_shares: bool = True) -> None:
        self.root = root
        self.root_shares = root_shares
        """False: the root's PSS and USS are not read (a harness worker reports its own after
        the window, so the read costs no cell); a reading's tree PSS and USS are then None and
        only the other members' are given."""
        self._tree = ProcessTree(root)
        self._rotation = 0

    def members(self) -> list[int]:
        return self._tree.members()

    def read(self, now: float) -> MemorySample | None:
        """The members' summed peak RSS, PSS and USS (the latter two sampled in big trees)."""
        if not self._tree.has_proc:
            return self._read_psutil(now)
        members = self.members()
        if not members:
            return None
        others = [pid for pid in members if pid != self.root]
        take = SHARE_READS_PER_TREE - 1
        if len(others) > take:
            start = self._rotation % len(others)
            self._rotation += take
            chosen = (others[start:] + others[:start])[:take]
        else:
            chosen = others
        root_rss = peak_rss(self.root) if self.root in members else None
        root = pss_uss(self.root) if root_rss is not None and self.root_shares else None
        read = [(rss, pss_uss(pid)) for pid in chosen if (rss := peak_rss(pid)) is not None]
        if root_rss is None and not read:
            return None
        scale = len(others) / len(read) if read else 0.0
        others_rss = round(sum(rss for rss, _ in read) * scale)
        shares = [f for _, f in read if f is not None]
        if len(shares) < len(read) or (root_rss is not None and root is None and self.root_shares):
            return MemorySample(
                now, len(members), (root_rss or 0) + others_rss, None, None, len(others), others_rss
            )
        others_pss = round(sum(f[0] for f in shares) * scale)
        others_uss = round(sum(f[1] for f in shares) * scale)
        if not self.root_shares:
            rss = (root_rss or 0) + others_rss
            return MemorySample(
                now, len(members), rss, None, None, len(others), others_rss, others_pss, others_uss
            )
        pss = (root[0] if root else 0) + others_pss
        uss = (root[1] if root else 0) + others_uss
        rss = (root_rss or 0) + others_rss
        return MemorySample(now, len(members), rss, pss, uss, len(others), others_rss, others_pss, others_uss)

    def _read_psutil(self, now: float) -> MemorySample | None:
        found = tree_rss_without_proc(self.root)
        return None if found is None else MemorySample(now, found[0], found[1], None, None)


class CpuSampler:
    """Background sampler; ``watch(pid)`` adds that process tree's memory to the timeline."""

    def __init__(self, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self.cores = affinity_cores()
        self._counters = CoreBusyCounters(self.cores)
        self._samples: list[CpuSample] = []
        self._memory: list[MemorySample] = []
        self._read_costs: list[tuple[float, float]] = []
        """(when, CPU seconds) of every memory read: each is charged to the window it lies in."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._tree: TreeMemory | None = None
        self._next_memory_at = 0.0
        self.last_memory_cost_s: float | None = None
        self._watch_began: tuple[float, float] | None = None
        self._watches: list[tuple[float, float, float, float]] = []
        """(t_on, cpu_on, t_off, cpu_off) of each watched worker: the orchestrator's CPU counter
        read exactly when the worker started and when it was reaped."""
        self._thread = threading.Thread(target=self._loop, name="gilwise-cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self._take()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._counters.close()

    def watch(
        self,
        pid: int | None,
        first_read_s: float | None = None,
        memory: bool = True,
        root_shares: bool = True,
    ) -> None:
        """Follow the tree of ``pid`` (a worker just started), or stop (it has been reaped).

        ``first_read_s``: when, after its start, the worker's pool should be up and computing
        (the runner knows it from the cell's previous round); the first memory read waits for it.
        ``memory=False``: mark the worker's life (for its orchestrator CPU) but read no memory.
        ``root_shares=False``: read the root's peak RSS but not its PSS and USS (see TreeMemory).
        ``last_memory_cost_s`` is then the CPU the last read of this worker took (None: none).
        """
        now, cpu = time.monotonic(), time.process_time()
        if pid is None and self._watch_began is not None:
            with self._lock:
                self._watches.append((*self._watch_began, now, cpu))
        self._watch_began = None if pid is None else (now, cpu)
        self._next_memory_at = now + (FIRST_MEMORY_READ_S if first_read_s is None else first_read_s)
        self._tree = TreeMemory(pid, root_shares) if pid is not None and memory else None
        if pid is not None:
            self.last_memory_cost_s = None

    def _take(self) -> None:
        busy, steal = self._counters.read()
        now = time.monotonic()
        sample = CpuSample(t=now, busy=busy, steal=steal, orchestrator_cpu=time.process_time())
        with self._lock:
            self._samples.append(sample)
        self._read_memory(now)

    def _read_memory(self, now: float) -> None:
        tree = self._tree
        if tree is None or now < self._next_memory_at:
            return
        spent = time.thread_time()
        reading = tree.read(now)
        spent = time.thread_time() - spent
        self.last_memory_cost_s = spent
        with self._lock:
            self._read_costs.append((now, spent))
        self._next_memory_at = now + max(MIN_MEMORY_INTERVAL_S, spent / MEMORY_CPU_SHARE)
        if reading is not None:
            with self._lock:
                self._memory.append(reading)

    def _loop(self) -> None:
        # time.sleep, not Event.wait: a wake-up from sleep costs this thread ~15 µs of CPU, one
        # from Event.wait ~25 µs (it allocates and releases a lock each time); stopping waits
        # at most one interval.
        # A memory read due between two ticks wakes the thread exactly then, not at the next
        # tick: it is aimed at the middle of a compute phase that may last only 100 ms (a
        # spawn pool's workers exit right after it).
        next_at = time.monotonic() + self.interval_s
        while not self._stop.is_set():
            memory_at = self._next_memory_at if self._tree is not None else next_at
            if memory_at < next_at:
                time.sleep(max(0.0, memory_at - time.monotonic()))
                self._read_memory(time.monotonic())
                continue
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += self.interval_s
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

    def _orchestrator_rate(self, samples: list[CpuSample], start: float, end: float) -> float:
        """The orchestrator's CPU rate (cores) while [start, end] was measured.

        Its CPU comes in bursts just outside a measured window (starting the worker, writing
        its spec; reading its report, reaping it) and a steady trickle inside (this sampler).
        Spreading a boundary interval's counter evenly would charge a short cell part of those
        bursts, so the rate is taken over the sample intervals wholly inside the window; for a
        window too short to hold two samples, over those strictly between the watch marks of
        the worker that measured it (its start and reaping); failing both, mark to mark.

        Memory reads are not a trickle: each one's CPU (measured by the reading thread) is
        taken out of the span it fell in and charged to the window it lies in, whole, so a
        read inside a short cell is neither spread over its neighbours nor counted once per
        fraction of the window that the sample span covers.
        """
        with self._lock:
            reads = list(self._read_costs)
            enclosing = [w for w in self._watches if w[0] <= start and end <= w[2]]

        def reads_in(lo: float, hi: float) -> float:
            # Half-open: a tick's read runs after that tick's counter was taken.
            return sum(cost for t, cost in reads if lo <= t < hi)

        in_window = reads_in(start, end) / (end - start) if end > start else 0.0
        inner = [s for s in samples if start <= s.t <= end]
        if len(inner) < 2 and enclosing:
            t_on, cpu_on, t_off, cpu_off = enclosing[-1]
            inner = [s for s in samples if t_on < s.t < t_off]
            if len(inner) < 2:
                if t_off <= t_on:
                    return in_window
                trickle = (cpu_off - cpu_on - reads_in(t_on, t_off)) / (t_off - t_on)
                return max(0.0, trickle) + in_window
        if len(inner) >= 2 and inner[-1].t > inner[0].t:
            lo, hi = inner[0], inner[-1]
            trickle = (hi.orchestrator_cpu - lo.orchestrator_cpu - reads_in(lo.t, hi.t)) / (hi.t - lo.t)
            return max(0.0, trickle) + in_window
        spent = _at(samples, end, _orchestrator) - _at(samples, start, _orchestrator)
        return spent / (end - start) if end > start else 0.0

    def pool_reads_between(self, start: float, end: float) -> int:
        """Memory reads in [start, end] that found processes besides the root."""
        with self._lock:
            return sum(1 for m in self._memory if start <= m.t <= end and m.others)

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
            result.orchestrator_cpu_s = self._orchestrator_rate(chosen, start, end) * result.seconds
        with self._lock:
            memory = [m for m in self._memory if start <= m.t <= end]
        if memory:
            result.memory_reads = len(memory)
            result.peak_tree_rss = max(m.rss for m in memory)
            pss = [m.pss for m in memory if m.pss is not None]
            uss = [m.uss for m in memory if m.uss is not None]
            result.peak_tree_pss = max(pss) if pss else None
            result.peak_tree_uss = max(uss) if uss else None
            result.started_processes = max(m.others for m in memory)
            result.peak_started_rss = max(m.others_rss for m in memory)
            started_pss = [m.others_pss for m in memory if m.others_pss is not None]
            started_uss = [m.others_uss for m in memory if m.others_uss is not None]
            result.peak_started_pss = max(started_pss) if started_pss else None
            result.peak_started_uss = max(started_uss) if started_uss else None
        return result


def _total_busy(sample: CpuSample) -> float:
    return sum(sample.busy)


def _steal(sample: CpuSample) -> float:
    return sample.steal


def _orchestrator(sample: CpuSample) -> float:
    return sample.orchestrator_cpu


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
