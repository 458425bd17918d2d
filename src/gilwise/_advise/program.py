"""``gilwise advise --pid PID`` / ``-- python SCRIPT``: a verdict on a whole running program.

Per thread: CPU time over wall time from ``/proc/PID/task/*`` and, from py-spy's samples, the
share of time it held the GIL and its hottest functions. The GIL is the bottleneck when it is
held almost all the time by two or more threads while the process gets about one core of the
machine's several: those threads take turns, and that work belongs in processes.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter

from .._exceptions import UsageError, WorkloadFailed
from .._system import command_line, thread_times, usable_cores
from .procstat import check_pid
from .program_report import HotFunction, ProgramReport, ProgramVerdict, ThreadReport
from .sampler import Sampled, sample

GIL_SATURATED = 0.7
"""Share of ticks at which some thread holds the GIL, above which the GIL is the limit."""
GIL_USER_SHARE = 0.05
"""A thread holding the GIL at least this share of ticks is one of its users."""
TOP_FUNCTIONS = 5


def _threads(pid: int, before: dict[int, float], wall: float, sampled: Sampled | None) -> list[ThreadReport]:
    after = thread_times(pid)
    out = []
    for tid, times in after.items():
        stacks = sampled.threads.get(tid) if sampled else None
        ticks = sampled.ticks if sampled else 0
        cpu = times.cpu_s - before.get(tid, 0.0)
        top = stacks.gil_leaves.most_common(3) if stacks else []
        out.append(
            ThreadReport(
                tid=tid,
                name=(stacks.name if stacks and stacks.name else times.comm),
                cpu_cores=cpu / wall,
                gil_share=(stacks.gil_samples / ticks) if stacks and ticks else (0.0 if sampled else None),
                hottest=tuple(HotFunction(name, count / ticks) for name, count in top) if ticks else (),
            )
        )
    return sorted(out, key=lambda t: -(t.gil_share or 0.0) - t.cpu_cores)


def _hot(sampled: Sampled, users: list[ThreadReport]) -> tuple[HotFunction, ...]:
    total: Counter[str] = Counter()
    for t in users:
        stacks = sampled.threads.get(t.tid)
        if stacks:
            total.update(stacks.gil_leaves)
    ticks = max(sampled.ticks, 1)
    return tuple(HotFunction(name, count / ticks) for name, count in total.most_common(TOP_FUNCTIONS))


def verdict(threads: list[ThreadReport], busy: float, cores: int, sampled: Sampled | None) -> ProgramVerdict:
    if sampled is None:
        return _verdict_from_proc(threads, busy, cores)
    gil_busy = sum(t.gil_share or 0.0 for t in threads)
    users = [t for t in threads if (t.gil_share or 0.0) >= GIL_USER_SHARE]
    hot = _hot(sampled, users)
    names = ", ".join(t.name or str(t.tid) for t in users)
    functions = ", ".join(h.function for h in hot[:3])
    several = len(users) >= 2 and busy < min(cores, len(users)) - 0.3
    if gil_busy >= GIL_SATURATED and (several or busy < 1.3):
        workers = min(cores, len(users)) if several else cores
        if several:
            reason = (
                f"the GIL is held {gil_busy:.0%} of the time by {len(users)} threads ({names}) while the "
                f"process uses {busy:.2f} of {cores} cores: they take turns on the GIL in {functions}; run "
                f"that work in {workers} processes (up to {workers}× its throughput, if nothing else "
                "limits it)"
            )
        else:
            reason = (
                f"one thread ({names}) holds the GIL {gil_busy:.0%} of the time and the process uses "
                f"{busy:.2f} of {cores} cores: its work in {functions} is serial Python; split it "
                "across processes"
            )
        return ProgramVerdict(
            gil_bound=True,
            model="processes",
            workers=workers,
            reason=reason,
            serialising_threads=tuple(t.name or str(t.tid) for t in users),
            functions=hot,
            code=_code(hot),
        )
    model = "threads" if busy < 0.5 else "as-is"
    reason = (
        f"the GIL is held only {gil_busy:.0%} of the time and the process uses {busy:.2f} of {cores} cores: "
        + (
            "it mostly waits, so threads or asyncio serve it well"
            if busy < 0.5
            else "the GIL is not what limits it"
        )
    )
    return ProgramVerdict(False, model, 0, reason, (), hot, "")


def _verdict_from_proc(threads: list[ThreadReport], busy: float, cores: int) -> ProgramVerdict:
    running = [t for t in threads if t.cpu_cores >= 0.05]
    if len(running) >= 2 and 0.7 <= busy <= 1.3 and cores >= 2:
        names = ", ".join(t.name or str(t.tid) for t in running)
        return ProgramVerdict(
            gil_bound=True,
            model="processes",
            workers=min(cores, len(running)),
            reason=(
                f"{len(running)} threads ({names}) share {busy:.2f} core of {cores}: the signature "
                "of threads "
                "taking turns on the GIL (inferred from /proc without GIL samples, so not certain)"
            ),
            serialising_threads=tuple(t.name or str(t.tid) for t in running),
            functions=(),
            code=_code(()),
        )
    return ProgramVerdict(False, "as-is", 0, f"the process uses {busy:.2f} of {cores} cores", (), (), "")


def _code(hot: tuple[HotFunction, ...]) -> str:
    fn = hot[0].function.split(" (")[0] if hot else "work"
    return (
        f"# move {fn} out of the threads, onto processes:\n"
        "offloader = gilwise.Offloader()      # once, in the app's lifespan\n"
        f'result = await offloader.run({fn}, *args, route="cpu")\n'
        "# or: await loop.run_in_executor(concurrent.futures.ProcessPoolExecutor(), "
        f"{fn}, *args)"
    )


def advise_pid(pid: int, duration_s: float = 5.0, budget_s: float = 60.0) -> ProgramReport:
    if duration_s <= 0 or duration_s > budget_s - 2:
        raise UsageError(
            f"must be positive and leave 2 s of the {budget_s:g} s `budget_s` for the set-up",
            parameter="duration_s",
            value=duration_s,
        )
    check_pid(pid)
    cores = usable_cores()
    command = command_line(pid)
    before = {tid: t.cpu_s for tid, t in thread_times(pid).items()}
    t0 = time.monotonic()
    result = sample(pid, duration_s)
    if isinstance(result, str):
        time.sleep(max(0.0, duration_s - (time.monotonic() - t0)))
    wall = time.monotonic() - t0
    sampled = None if isinstance(result, str) else result
    threads = _threads(pid, before, wall, sampled)
    if not threads:
        raise WorkloadFailed(f"process {pid} exited while it was sampled")
    busy = sum(t.cpu_cores for t in threads)
    return ProgramReport(
        pid=pid,
        command=command,
        duration_s=wall,
        usable_cores=cores,
        busy_cores=busy,
        gil_busy=sum(t.gil_share or 0.0 for t in threads) if sampled else None,
        sampler=sampled.tool if sampled else None,
        sampler_note=result if isinstance(result, str) else "",
        threads=tuple(threads),
        verdict=verdict(threads, busy, cores, sampled),
    )


def advise_command(
    argv: list[str], duration_s: float = 5.0, budget_s: float = 60.0, warmup_s: float = 1.0
) -> ProgramReport:
    """Start ``argv``, let it warm up, sample it for ``duration_s``, then stop it."""
    if not argv:
        raise UsageError("nothing to run after --: give a command, e.g. -- python app.py")
    try:
        proc = subprocess.Popen(argv, start_new_session=True)
    except OSError as exc:
        raise UsageError(f"cannot start {argv[0]!r}: {exc.strerror}") from None
    try:
        time.sleep(warmup_s)
        if proc.poll() is not None:
            raise WorkloadFailed(
                f"{' '.join(argv)} exited with code {proc.returncode} before it could be sampled"
            )
        return advise_pid(proc.pid, min(duration_s, budget_s - warmup_s - 2), budget_s - warmup_s)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
