"""Run the probes of one function in fresh advise workers, under each interpreter, within budget.

Each probe is its own worker process (``python -m gilwise._advise.worker``), started by
:mod:`.launch` (own session, its own pipes, killed with its whole process group on timeout).
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from .._exceptions import HarnessError, UsageError, WorkloadFailed
from .._pythons.discovery import InterpreterInfo
from .launch import run_advise_worker
from .memory import MemoryCheck, check_memory
from .protocol import (
    AdviseFailure,
    AdviseSpec,
    CallReport,
    CellModel,
    CellReport,
    PoolReport,
    TargetSpec,
)

STARTUP_ALLOWANCE_S = 2.0
"""A worker's interpreter start and the target's import, on top of what it is asked to run."""
SCALING_CELL_S = 0.25
"""A scaling probe runs at least two waves of calls, or about this long."""
SHORT_PROBE_S = 0.8
REPEAT_SHORT_PROBES = 3
WAITING_CALL_SHARE = 0.5
"""A call whose CPU demand is under this share of its wall time mostly waits."""
MANY_THREADS_PROBE = 32
REFERENCE_S = 0.1
"""Each scaling probe first times serial calls for this long: the machine's speed drifts in
phases of seconds, so a probe is compared with the serial speed of its own moment."""


class Unavailable(Exception):
    """This interpreter cannot run the target (missing module there, say); not an error."""


class BudgetExhausted(Exception):
    """Not enough of ``--budget`` is left to run the next probe."""


@dataclass
class Budget:
    """The hard bound on the whole advise run (``--budget``)."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.started)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _printed(failure: AdviseFailure) -> str:
    """The tail of what the function printed, for a message about its failure."""
    output = failure.get("output", "")
    if not output:
        return ""
    return "\nits output ended with:\n" + "\n".join(f"  | {line}" for line in output.splitlines())


def raise_for(failure: AdviseFailure, target: str, interpreter: InterpreterInfo) -> None:
    kind, error = failure["kind"], failure["error"]
    if kind == "usage":
        raise UsageError(error)
    if kind == "raised":
        trace = failure.get("traceback", "").rstrip()
        raise WorkloadFailed(f"the target failed: {error}\n{trace}".rstrip() + _printed(failure))
    if kind == "crash":
        # The process running the user's function died: its code (or a library it called) is
        # by far the likeliest cause, and the message names the signal and its frame.
        raise WorkloadFailed(
            f"{target} under {interpreter.label} crashed the process running it: {error}" + _printed(failure)
        )
    if kind == "unavailable":
        raise Unavailable(error)
    if kind == "timeout":
        raise BudgetExhausted(error)
    raise HarnessError(
        f"advise worker for {target} under {interpreter.label} failed: {error}" + _printed(failure)
    )


def run_probe(
    interpreter: InterpreterInfo,
    spec: AdviseSpec,
    budget: Budget,
    on_start: object | None = None,
    environment: Mapping[str, str | None] | None = None,
) -> CallReport | PoolReport | CellReport:
    """One worker to completion; a failure raises (usage, raised, unavailable, budget).
    ``environment``: variables set (or removed, None) in the worker's environment."""
    left = budget.left()
    if left < 0.5:
        raise BudgetExhausted(f"{left:.1f} s of the budget left")
    spec = {**spec, "deadline_s": max(0.1, min(spec["deadline_s"], left - STARTUP_ALLOWANCE_S))}
    watch = on_start if callable(on_start) else None
    scratch = os.path.dirname(spec["target"]["args_path"])  # the run's own folder (arguments)
    result = run_advise_worker(interpreter.path, spec, left, scratch, on_start=watch, environment=environment)
    if not result["ok"]:
        failure = result
        if failure["kind"] == "timeout":
            raise BudgetExhausted(f"the {spec['mode']} probe ran out of the budget")
        raise_for(failure, spec["target"]["target"], interpreter)
    return cast(CallReport | PoolReport | CellReport, result)


@dataclass
class InterpreterProbes:
    """Everything measured for one interpreter; absent parts carry the reason in ``notes``."""

    interpreter: InterpreterInfo
    call: CallReport
    pool: PoolReport | None = None
    cells: dict[tuple[CellModel, int], CellReport] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    relative_speed: float | None = None
    """Another build's serial call time over the baseline's, timed in alternation (paired)."""
    memory: MemoryCheck = field(default_factory=lambda: MemoryCheck(None, None, None, ""))
    """One call's peak memory against what is available: the cap on worker counts."""

    @property
    def call_s(self) -> float:
        return statistics.median(self.call["wall_s"]) if self.call["wall_s"] else self.call["first_call_s"]

    @property
    def cpu_s(self) -> float:
        return statistics.median(self.call["cpu_s"]) if self.call["cpu_s"] else self.call_s


def call_probe(
    interpreter: InterpreterInfo,
    target: TargetSpec,
    budget: Budget,
    min_time_s: float,
    environment: Mapping[str, str | None] | None = None,
) -> CallReport:
    spec: AdviseSpec = {
        "mode": "call",
        "target": target,
        "deadline_s": budget.left(),
        "min_time_s": min_time_s,
    }
    return cast(CallReport, run_probe(interpreter, spec, budget, environment=environment))


def scaling_calls(call_s: float, workers: int) -> int:
    """Two waves of calls, or enough for about SCALING_CELL_S."""
    waves = max(2, math.ceil(SCALING_CELL_S / max(call_s, 1e-6) / workers))
    return min(workers * waves, 20_000)


def cell(
    interpreter: InterpreterInfo,
    target: TargetSpec,
    budget: Budget,
    model: CellModel,
    workers: int,
    calls: int,
    chunksize: int = 1,
    on_start: object | None = None,
    reference_s: float = 0.0,
    environment: Mapping[str, str | None] | None = None,
) -> CellReport:
    spec: AdviseSpec = {
        "mode": "cell",
        "target": target,
        "deadline_s": budget.left(),
        "model": model,
        "workers": workers,
        "calls": calls,
        "chunksize": chunksize,
        "reference_s": reference_s,
    }
    return cast(CellReport, run_probe(interpreter, spec, budget, on_start, environment))


def probe_interpreter(
    interpreter: InterpreterInfo,
    target: TargetSpec,
    budget: Budget,
    cores: int,
    *,
    processes: bool,
    min_time_s: float = 0.4,
    paired_with: InterpreterProbes | None = None,
) -> InterpreterProbes:
    """The call probe, then the pool probe and the scaling runs as far as the budget allows.

    ``paired_with``: the baseline's probes, whose serial speed this build's is paired with
    first (cheap, and what every cross-build prediction rests on).
    Raises Unavailable when the target cannot run there at all, WorkloadFailed when it raised.
    """
    probes = InterpreterProbes(interpreter, call_probe(interpreter, target, budget, min_time_s))
    probes.memory = check_memory(probes.call["peak_call_bytes"], cores)
    if paired_with is not None:
        probes.relative_speed = pair_speed(paired_with, probes, target, budget)
        if probes.relative_speed is None:
            probes.notes.append(f"speed not paired with {paired_with.interpreter.label}: the budget ran out")
    counts = [n for n in range(1, cores + 1) if probes.memory.allows(n)]
    transfer = probes.call["transfer"]
    models: list[CellModel] = ["threads"]
    if interpreter.version_info >= INTERPRETER_POOL_VERSION and transfer["picklable"]:
        models.append("interpreters")
    if processes and transfer["picklable"]:
        spec: AdviseSpec = {
            "mode": "pool",
            "target": target,
            "deadline_s": budget.left(),
            "pool_workers": counts,
        }
        try:
            probes.pool = cast(PoolReport, run_probe(interpreter, spec, budget))
            models.append("processes")
        except BudgetExhausted as exc:
            probes.notes.append(f"pool probe skipped: {exc}")
    elif processes:
        probes.notes.append(f"processes: the call cannot be pickled ({transfer['reason']})")
    plan = [(m, n) for m in models for n in counts]
    waiting = probes.cpu_s + probes.call["runqueue_s"] < WAITING_CALL_SHARE * probes.call_s
    if probes.call["cpu_s"] and waiting and probes.memory.allows(MANY_THREADS_PROBE):
        # Waiting work is offered many threads: measure a pool that size (thread start-up, and
        # the hand-overs of many threads waking at once, grow with it).
        plan.append(("threads", MANY_THREADS_PROBE))
    for model, n in plan:
        # A pool call costs more than the call: dispatch, and for processes the arguments'
        # round trip. The one-worker probe of the same model says how much; before it, guess.
        one = probes.cells.get((model, 1))
        if one is not None:
            per_call = one["wall_s"] / one["calls"]
        else:
            shipping = probes.pool["args_roundtrip_s"] if probes.pool and model == "processes" else 0.0
            per_call = probes.call_s + shipping
        calls = scaling_calls(per_call, n)
        expected = calls * per_call / n + 0.5
        if expected > budget.left() * 0.5:
            probes.notes.append(
                f"{model}×{n} scaling probe skipped: about {expected:.1f} s, budget too short"
            )
            continue
        try:
            probes.cells[(model, n)] = _median_cell(interpreter, target, budget, model, n, calls, expected)
        except BudgetExhausted as exc:
            probes.notes.append(f"{model}×{n} scaling probe skipped: {exc}")
    return probes


PAIRINGS = 3
INTERPRETER_POOL_VERSION = (3, 14, 0)
"""concurrent.futures.InterpreterPoolExecutor: one GIL per sub-interpreter, arguments pickled."""


def pair_speed(
    baseline: InterpreterProbes, other: InterpreterProbes, target: TargetSpec, budget: Budget
) -> float | None:
    """Serial calls under the two builds in alternation, three times: the median ratio of the
    other's call time to the baseline's (the call probes ran seconds apart, in other phases of
    the machine's speed)."""
    ratios = []
    calls = max(2, math.ceil(REFERENCE_S / max(baseline.call_s, 1e-7)))
    for _ in range(PAIRINGS):
        try:
            times = [
                statistics.fmean(cell(p.interpreter, target, budget, "serial", 1, calls)["in_task_s"])
                for p in (baseline, other)
            ]
        except BudgetExhausted:
            break
        ratios.append(times[1] / times[0])
    return statistics.median(ratios) if ratios else None


def _median_cell(
    interpreter: InterpreterInfo,
    target: TargetSpec,
    budget: Budget,
    model: CellModel,
    n: int,
    calls: int,
    expected_s: float,
) -> CellReport:
    """Short cells vary most (GIL hand-overs, scheduling): those run three times, median kept."""
    reps = REPEAT_SHORT_PROBES if expected_s <= SHORT_PROBE_S else 1
    runs: list[CellReport] = []
    for _ in range(reps):
        try:
            runs.append(cell(interpreter, target, budget, model, n, calls, reference_s=REFERENCE_S))
        except BudgetExhausted:
            if not runs:
                raise
            break
    runs.sort(key=lambda r: r["wall_s"])
    return runs[len(runs) // 2]
