"""The ``call`` probe (inside a fresh worker): wall and CPU time of single calls, the GIL-held
fraction while they run, and what shipping the arguments and the result to a process costs.

Stdlib only. The GIL probe follows gil_load's idea without its C extension: a probe thread
sleeps random short intervals; waking, it needs the GIL, so while another thread holds it the
probe runs only after the holder drops it (after ``sys.getswitchinterval()`` for Python code,
later for C code that keeps it). Random wake-ups see time averages, so the share of late ones,
less the share that are late with no call running (the machine's own scheduling delay),
estimates the fraction of the call's time the GIL is held.
"""

from __future__ import annotations

import platform
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler
from typing import Any

from .._system import current_rss, peak_rss, reset_peak_rss, runqueue_wait_s
from .protocol import CallReport, GilProbe, TransferProbe
from .target import call, is_coroutine

LATE_SHARE_OF_SWITCH = 0.5
"""A wake-up is late beyond half the switch interval: a GIL handover takes a whole interval."""
PROBE_SWITCH_INTERVAL_S = 0.02
"""The switch interval while the GIL probe runs (default 5 ms). Each late wake-up forces the
call's thread to hand the GIL over; on a busy machine that thread then waits for a core with
the GIL free, which the probe would count as "not held". A longer interval makes those
hand-overs rarer (and puts the lateness threshold far above scheduling noise)."""


def _gil_enabled() -> bool:
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


class _WakeProbe(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="gilwise-gil-probe", daemon=True)
        self.delays: list[float] = []
        self.stop = threading.Event()
        self._rng = random.Random(1234)

    def run(self) -> None:
        clock, sleep, uniform = time.perf_counter, time.sleep, self._rng.uniform
        late = LATE_SHARE_OF_SWITCH * sys.getswitchinterval()
        while not self.stop.is_set():
            pause = uniform(0.0005, 0.002)
            t0 = clock()
            sleep(pause)
            delay = clock() - t0 - pause
            self.delays.append(delay)
            if delay > late:
                # This wake-up forced the call's thread to hand the GIL over; on a busy machine
                # it then waits for a core with the GIL free. Sampling again at once would see
                # that gap the probe caused, so let the call get going first (not sampled).
                sleep(uniform(0.005, 0.015))


def _late(delays: list[float], threshold: float) -> int:
    return sum(1 for d in delays if d > threshold)


GROUP_S = 1e-3
MAX_GROUP = 1 << 16
MIN_GIL_SAMPLES = 60
MAX_GIL_PHASE_S = 1.5


def probe_gil(run_calls: Callable[[Callable[[], bool]], None], min_time_s: float) -> GilProbe:
    """``run_calls(enough)`` calls the target until ``enough()`` (at least one call)."""
    switch = PROBE_SWITCH_INTERVAL_S
    threshold = LATE_SHARE_OF_SWITCH * switch
    empty: GilProbe = {
        "held_fraction": None,
        "samples": 0,
        "late_during_call": 0,
        "baseline_samples": 0,
        "late_baseline": 0,
        "threshold_s": threshold,
        "switch_interval_s": switch,
        "median_delay_s": 0.0,
        "note": "",
    }
    if not _gil_enabled():
        return {**empty, "note": "this build runs without a GIL"}
    previous = sys.getswitchinterval()
    sys.setswitchinterval(switch)
    try:
        baseline = _WakeProbe()
        baseline.start()
        baseline.stop.wait(min(0.25, max(0.1, min_time_s / 2)))
        baseline.stop.set()
        baseline.join()
        probe = _WakeProbe()
        started = time.perf_counter()

        def enough() -> bool:
            elapsed = time.perf_counter() - started
            return elapsed >= MAX_GIL_PHASE_S or (
                elapsed >= min_time_s and len(probe.delays) >= MIN_GIL_SAMPLES
            )

        probe.start()
        try:
            run_calls(enough)
        finally:
            probe.stop.set()
            probe.join()
    finally:
        sys.setswitchinterval(previous)
    base_late = _late(baseline.delays, threshold) / max(1, len(baseline.delays))
    late = _late(probe.delays, threshold)
    share = late / max(1, len(probe.delays))
    note = ""
    if base_late > 0.5:
        note = (
            f"{base_late:.0%} of wake-ups were late with no call running: the machine is too busy "
            "for the GIL probe to tell; quiet it and run again"
        )
    held = None if base_late > 0.5 else max(0.0, min(1.0, (share - base_late) / (1.0 - base_late)))
    return {
        **empty,
        "held_fraction": held,
        "samples": len(probe.delays),
        "late_during_call": late,
        "baseline_samples": len(baseline.delays),
        "late_baseline": _late(baseline.delays, threshold),
        "median_delay_s": statistics.median(probe.delays) if probe.delays else 0.0,
        "note": note,
    }


def _timed(action: Callable[[], Any], min_total_s: float = 0.02, max_reps: int = 20) -> float:
    """Mean seconds of ``action`` over at least 3 runs (or ``min_total_s``)."""
    reps, total = 0, 0.0
    while reps < 3 or (total < min_total_s and reps < max_reps):
        t0 = time.perf_counter()
        action()
        total += time.perf_counter() - t0
        reps += 1
    return total / reps


def probe_transfer(fn: Callable[..., Any], args: Any, kwargs: Any, result: Any) -> TransferProbe:
    """What a process pool pays per call: pickling (its own pickler) both ways, and the sizes."""
    try:
        ForkingPickler.dumps(fn)
        blob = bytes(ForkingPickler.dumps((args, kwargs)))
        out = bytes(ForkingPickler.dumps(result))
    except Exception as exc:  # any pickling failure makes processes unusable, with this reason
        return {
            "picklable": False,
            "reason": f"{type(exc).__name__}: {exc}",
            "args_bytes": 0,
            "result_bytes": 0,
            "args_dumps_s": 0.0,
            "args_loads_s": 0.0,
            "result_dumps_s": 0.0,
            "result_loads_s": 0.0,
        }
    return {
        "picklable": True,
        "reason": "",
        "args_bytes": len(blob),
        "result_bytes": len(out),
        "args_dumps_s": _timed(lambda: ForkingPickler.dumps((args, kwargs))),
        "args_loads_s": _timed(lambda: ForkingPickler.loads(blob)),
        "result_dumps_s": _timed(lambda: ForkingPickler.dumps(result)),
        "result_loads_s": _timed(lambda: ForkingPickler.loads(out)),
    }


def probe_thread_start(count: int = 16) -> float:
    """Seconds to start (and finish) one thread: a pool of n threads pays it n times."""
    t0 = time.perf_counter()
    threads = [threading.Thread(target=int) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (time.perf_counter() - t0) / count


def probe_call(
    python: str,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    min_time_s: float,
    deadline: float,
) -> CallReport:
    """Run the call: once (its first-call cost and its peak memory), then timed, then under
    the GIL probe."""
    notes: list[str] = []
    clock, cpu = time.perf_counter, time.process_time
    reset, before = reset_peak_rss(), current_rss()
    t0 = clock()
    result = call(fn, args, kwargs)
    first = clock() - t0
    peak = _peak_since(reset, before, notes)
    walls: list[float] = []
    cpus: list[float] = []

    def keep_calling(enough: Callable[[], bool], record: bool) -> None:
        """Calls in groups timed together: one call, doubling while a group lasts < 1 ms (so
        the clock reads cost nothing next to microsecond calls); per-call means recorded."""
        nonlocal result
        done, group, typical = 0, 1, first
        while not (done >= 3 and enough()):
            if done >= 1 and clock() + typical * group > deadline:
                notes.append(f"stopped after {done} calls: the time budget ran out")
                break
            w0, c0 = clock(), cpu()
            for _ in range(group):
                result = call(fn, args, kwargs)
            wall = clock() - w0
            typical = wall / group
            if record:
                walls.append(typical)
                cpus.append((cpu() - c0) / group)
            done += group
            if wall < GROUP_S:
                group = min(2 * group, MAX_GROUP)

    q0, timed0 = runqueue_wait_s(), clock()
    phase_end = timed0 + min_time_s
    keep_calling(lambda: clock() >= phase_end, record=True)
    # Queued time per second of calls, scaled to one call (the phase is all calls).
    queued = (runqueue_wait_s() - q0) / max(clock() - timed0, 1e-9) * statistics.median(walls)
    gil = probe_gil(lambda enough: keep_calling(enough, record=False), min_time_s)
    free_threaded = "t" in getattr(sys, "abiflags", "")
    return {
        "ok": True,
        "python": python,
        "version": platform.python_version() + ("t" if free_threaded else ""),
        "gil_enabled": _gil_enabled(),
        "free_threaded": free_threaded,
        "coroutine": is_coroutine(fn),
        "first_call_s": first,
        "wall_s": walls,
        "cpu_s": cpus,
        "runqueue_s": queued,
        "gil": gil,
        "thread_start_s": probe_thread_start(),
        "transfer": probe_transfer(fn, args, kwargs, result),
        "result_type": f"{type(result).__module__}.{type(result).__qualname__}",
        "peak_call_bytes": peak,
        "notes": notes,
    }


def _peak_since(reset: bool, before: int | None, notes: list[str]) -> int | None:
    """What one call added to the process's resident memory at its peak: the high-water mark
    (reset to the resident size just before the call) less that size."""
    high = peak_rss("self")
    if not reset or before is None or high is None:
        notes.append("peak memory per call not measured: this kernel cannot reset the high-water mark")
        return None
    return max(0, high - before)
