"""Predict each model's speedup for a batch of calls, from the probes alone.

One call of the target (wall ``c``) is split, from the call probe, into time holding the GIL
(``g = h·c``, h from the probe thread), CPU time without it (``a``) and off-CPU waiting
(``w``). A batch of ``K`` calls then takes, with ``n`` workers on ``P`` usable cores:

* serial: ``K·c``;
* threads: ``n·t_start + max(K·(g + s), K·(g + a)·κn / min(n, P), ⌈K/n⌉·(g + a·κn + w + l) + s)``:
  the GIL serialises ``g``, the cores bound the CPU work, each thread runs its share in turn;
  ``s`` is the caller's submit cost per call and ``l`` the rest of the pool's per-call
  dispatch (waking a worker; threads×1 probe), ``κn`` the slowdown of one call
  when n run at once (memory bandwidth, shared caches: processes×n probe's in-task times);
  then scaled by how far the threads×n probe itself was from this formula (GIL hand-offs);
* processes: ``S(n) + X(n) + max(K·p, ⌈K/n⌉·(c·κn + q)) + p``: pool start-up and shutdown
  (pool probe), the parent's serial share per call ``p`` (pickling the arguments, unpickling
  the result) and each worker's ``q`` (unpickling, the pipe, pickling the result back);
* asyncio: a coroutine function overlaps its waits on one thread, ``K·(g + a) + w``; a
  blocking one goes through ``asyncio.to_thread``, i.e. threads at the default executor size;
* free-threaded threads: the threads formula with that build's own call probe and scaling
  runs (no GIL: ``g = 0``, ``κn`` includes contention on shared objects), against the
  baseline's serial time.
"""

from __future__ import annotations

import dataclasses
import math
import os
import statistics
from dataclasses import dataclass

from .._pythons.discovery import InterpreterInfo
from .probes import InterpreterProbes
from .protocol import CellModel, CellReport

WAITING_SHARE = 0.25
"""Calls waiting off-CPU at least this share of their time are offered many threads."""
MANY_THREADS = (8, 16, 32, 64)
CHUNK_OVERHEAD_SHARE = 0.05
"""Chunk calls for ``pool.map`` until the per-message cost is at most this share of the work."""


@dataclass(frozen=True)
class CallShape:
    """One call split into its parts, from one interpreter's probes."""

    call_s: float
    cpu_s: float
    gil_held: float
    gil_assumed: bool
    """The GIL probe was inconclusive (a busy machine): ``gil_held`` is the CPU share."""
    gil_s: float
    free_cpu_s: float
    wait_s: float
    dispatch_s: float
    """Per call on a thread pool besides the call: submitting it and waking a worker."""
    submit_s: float
    """The caller's serial share of ``dispatch_s`` (the rest overlaps across workers)."""
    thread_start_s: float
    contention: dict[int, float]
    threads_correction: dict[int, float]
    processes_correction: dict[int, float] = dataclasses.field(default_factory=dict)

    @property
    def wait_share(self) -> float:
        return self.wait_s / self.call_s if self.call_s > 0 else 0.0


@dataclass(frozen=True)
class ProcessCosts:
    start_method: str
    startup_s: dict[int, float]
    shutdown_s: dict[int, float]
    message_s: float
    parent_s: float
    """Per call, serial in the parent (without the message cost, which depends on chunking)."""
    child_s: float
    args_bytes: int
    result_bytes: int

    def at(self, table: dict[int, float], n: int) -> float:
        if n in table:
            return table[n]
        known = sorted(table)
        lo = max((k for k in known if k <= n), default=known[0])
        hi = min((k for k in known if k >= n), default=known[-1])
        if lo == hi:
            return table[lo] * n / lo
        return table[lo] + (table[hi] - table[lo]) * (n - lo) / (hi - lo)


@dataclass(frozen=True)
class Prediction:
    model: str
    """serial, threads, processes, asyncio, free-threaded-threads, interpreters."""
    workers: int
    interpreter: InterpreterInfo
    cell_model: CellModel
    chunksize: int
    predicted_s: float
    predicted_speedup: float
    basis: str


def _mean_in_task(probes: InterpreterProbes, model: CellModel, n: int) -> float | None:
    cell = probes.cells.get((model, n))
    return statistics.fmean(cell["in_task_s"]) if cell and cell["in_task_s"] else None


def _contention(probes: InterpreterProbes, cores: int, source: CellModel) -> dict[int, float]:
    base = _mean_in_task(probes, source, 1)
    kappa = {1: 1.0}
    for n in range(2, cores + 1):
        mean = _mean_in_task(probes, source, n)
        if base and mean:
            kappa[n] = max(1.0, mean / base)
    return kappa


def kappa_at(shape: CallShape, n: int, cores: int) -> float:
    known = [k for k in shape.contention if k <= min(n, cores)]
    return shape.contention[max(known)] if known else 1.0


def shape_of(probes: InterpreterProbes, cores: int) -> CallShape:
    c, u = probes.call_s, probes.cpu_s
    held = probes.call["gil"]["held_fraction"]
    assumed = held is None and probes.interpreter.gil_enabled
    if held is None:
        held = min(1.0, u / c) if assumed and c > 0 else 0.0
    # Time spent queued for a core is CPU demand, not a wait that threads could overlap.
    on_cpu = min(c, u + probes.call["runqueue_s"])
    g = held * c
    a = max(0.0, on_cpu - g)
    w = max(0.0, c - g - a)
    one = probes.cells.get(("threads", 1))
    dispatch = max(0.0, (one["wall_s"] - sum(one["in_task_s"])) / one["calls"]) if one else 0.0
    submit = min(dispatch, one["submit_s"] / one["calls"]) if one else 0.0
    # Hardware contention is what a call suffers beside n others with no GIL between them:
    # processes' in-task times; without them (unpicklable), threads' when they barely hold it.
    source: CellModel = "processes" if ("processes", 1) in probes.cells else "threads"
    kappa = _contention(probes, cores, source) if source == "processes" or held < 0.2 else {1: 1.0}
    start = probes.call["thread_start_s"]
    shape = CallShape(c, u, held, assumed, g, a, w, dispatch, submit, start, kappa, {})
    correction: dict[int, float] = {}
    for (model, n), cell in probes.cells.items():
        if model == "threads":
            formula = threads_time(shape, n, cell["calls"], cores, raw=True)
            correction[n] = _correction(cell, formula, c)
    return CallShape(c, u, held, assumed, g, a, w, dispatch, submit, start, kappa, correction)


def _correction(cell: CellReport, formula_s: float, call_s: float) -> float:
    """How far a scaling probe was from the formula, at the machine's speed of that moment
    (its reference calls over the call probe's), within [0.25, 4]."""
    drift = (cell["reference_call_s"] or call_s) / call_s if call_s > 0 else 1.0
    return min(4.0, max(0.25, cell["wall_s"] / (formula_s * drift)))


def threads_time(shape: CallShape, n: int, calls: int, cores: int, raw: bool = False) -> float:
    kappa = kappa_at(shape, n, cores)
    g, a, w, s = shape.gil_s, shape.free_cpu_s, shape.wait_s, shape.submit_s
    latency = shape.dispatch_s - s
    t = n * shape.thread_start_s + max(
        calls * (g + s),
        calls * (g + a) * kappa / min(n, cores),
        math.ceil(calls / n) * (g + a * kappa + w + latency) + s,
    )
    if raw or not shape.threads_correction:
        return t
    return t * log_interpolated(shape.threads_correction, n)


def log_interpolated(table: dict[int, float], n: int) -> float:
    """``table`` at ``n``, linear in log(n) between the measured counts, flat beyond them."""
    known = sorted(table)
    lo = max((k for k in known if k <= n), default=known[0])
    hi = min((k for k in known if k >= n), default=known[-1])
    if lo >= hi:
        return table[lo if n <= lo else hi]
    share = (math.log(n) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return table[lo] + (table[hi] - table[lo]) * share


def process_costs(probes: InterpreterProbes) -> ProcessCosts | None:
    pool, transfer = probes.pool, probes.call["transfer"]
    if pool is None or not transfer["picklable"]:
        return None
    ship_args = max(transfer["args_dumps_s"], pool["args_roundtrip_s"] - pool["message_s"])
    pipe_result = transfer["result_bytes"] / max(pool["pipe_bytes_per_s"], 1.0)
    return ProcessCosts(
        start_method=pool["start_method"],
        startup_s={int(n): s for n, s in pool["startup_s"]},
        shutdown_s={int(n): s for n, s in pool["shutdown_s"]},
        message_s=pool["message_s"],
        parent_s=transfer["args_dumps_s"] + transfer["result_loads_s"],
        child_s=ship_args - transfer["args_dumps_s"] + transfer["result_dumps_s"] + pipe_result,
        args_bytes=transfer["args_bytes"],
        result_bytes=transfer["result_bytes"],
    )


def processes_time(
    shape: CallShape,
    costs: ProcessCosts,
    n: int,
    calls: int,
    cores: int,
    chunk: int,
    call_s: float | None = None,
    raw: bool = False,
) -> float:
    c = shape.call_s if call_s is None else call_s
    per_message = costs.message_s / (2 * chunk)
    parent = costs.parent_s + per_message
    child = costs.child_s + per_message
    work = math.ceil(calls / n) * (c * kappa_at(shape, n, cores) + child)
    t = costs.at(costs.startup_s, n) + costs.at(costs.shutdown_s, n) + max(calls * parent, work) + parent
    if raw or not shape.processes_correction:
        return t
    return t * log_interpolated(shape.processes_correction, n)


def chunksize_for(costs: ProcessCosts, call_s: float, calls: int, workers: int) -> int:
    """Calls per message so that a message's fixed cost is at most 5 % of the work it carries."""
    wanted = math.ceil(costs.message_s / max(CHUNK_OVERHEAD_SHARE * call_s, 1e-9))
    return max(1, min(wanted, calls // (4 * workers) or 1))


def break_even_call_s(shape: CallShape, costs: ProcessCosts, calls: int, cores: int) -> float | None:
    """The shortest call (same arguments, same batch) for which processes×cores beat serial."""

    def gain(c: float) -> float:
        chunk = chunksize_for(costs, c, calls, cores)
        return calls * c - processes_time(shape, costs, cores, calls, cores, chunk, call_s=c)

    lo, hi = 1e-7, 1e4
    if gain(hi) <= 0:
        return None
    for _ in range(80):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if gain(mid) <= 0 else (lo, mid)
    return hi


def thread_counts(shape: CallShape, cores: int, calls: int) -> list[int]:
    counts = set(range(1, cores + 1))
    if shape.wait_share >= WAITING_SHARE:
        counts |= {k for k in (2 * cores, 4 * cores, *MANY_THREADS) if k <= calls}
        if calls <= max(MANY_THREADS):
            counts.add(calls)
    return sorted(k for k in counts if k <= max(calls, 1))


def _scale(probes: InterpreterProbes, baseline: CallShape, own: CallShape) -> float:
    """Another build's times scaled to the paired speed ratio against the baseline's."""
    return probes.relative_speed * baseline.call_s / own.call_s if probes.relative_speed else 1.0


def interpreters_time(probes: InterpreterProbes, n: int, calls: int, call_s: float) -> float | None:
    """From the sub-interpreter pool probe at n: its start-up (wall less its waves of calls),
    then ⌈K/n⌉ waves at its in-task call time, at the machine's speed of the probe."""
    cell = probes.cells.get(("interpreters", n))
    if cell is None or not cell["in_task_s"]:
        return None
    per_call = statistics.fmean(cell["in_task_s"])
    waves = math.ceil(cell["calls"] / n)
    startup = max(0.0, cell["wall_s"] - waves * per_call)
    drift = (cell["reference_call_s"] or call_s) / call_s if call_s > 0 else 1.0
    return (startup + math.ceil(calls / n) * per_call) / drift


def default_executor_threads() -> int:
    """``asyncio.to_thread``'s default executor size (ThreadPoolExecutor's default)."""
    return min(32, (os.cpu_count() or 1) + 4)


@dataclass(frozen=True)
class ModelInputs:
    """The probes turned into model parameters, for the baseline and the other builds."""

    baseline: InterpreterProbes
    shape: CallShape
    costs: ProcessCosts | None
    others: tuple[tuple[InterpreterProbes, CallShape], ...]
    cores: int


def inputs_from(baseline: InterpreterProbes, others: list[InterpreterProbes], cores: int) -> ModelInputs:
    shape, costs = shape_of(baseline, cores), process_costs(baseline)
    if costs is not None:
        correction = {
            n: _correction(
                cell, processes_time(shape, costs, n, cell["calls"], cores, 1, raw=True), shape.call_s
            )
            for (model, n), cell in baseline.cells.items()
            if model == "processes"
        }
        shape = dataclasses.replace(shape, processes_correction=correction)
    return ModelInputs(baseline, shape, costs, tuple((p, shape_of(p, cores)) for p in others), cores)


def predict(inputs: ModelInputs, calls: int) -> list[Prediction]:
    """Every model and worker count worth showing, for a batch of ``calls`` calls."""
    shape, cores, base = inputs.shape, inputs.cores, inputs.baseline.interpreter
    serial_s = calls * shape.call_s
    out = [Prediction("serial", 1, base, "serial", 1, serial_s, 1.0, "K × the call probe's median")]

    def add(
        model: str, n: int, who: InterpreterInfo, cell: CellModel, chunk: int, t: float, basis: str
    ) -> None:
        out.append(Prediction(model, n, who, cell, chunk, t, serial_s / t if t > 0 else math.inf, basis))

    gil = "assumed = CPU share (GIL probe inconclusive)" if shape.gil_assumed else "probe thread"
    for n in thread_counts(shape, cores, calls):
        basis = f"GIL held {shape.gil_held:.0%} ({gil}), {shape.wait_share:.0%} waiting, dispatch, κ"
        add("threads", n, base, "threads", 1, threads_time(shape, n, calls, cores), basis)
    if inputs.baseline.call["coroutine"]:
        t = calls * (shape.gil_s + shape.free_cpu_s) + shape.wait_s
        add("asyncio", calls, base, "asyncio", 1, t, "one loop: CPU parts in turn, waits overlap")
    else:
        n = min(default_executor_threads(), calls)
        add(
            "asyncio",
            n,
            base,
            "asyncio",
            1,
            threads_time(shape, n, calls, cores),
            "asyncio.to_thread: threads",
        )
    if inputs.costs is not None:
        for n in range(1, cores + 1):
            chunk = chunksize_for(inputs.costs, shape.call_s, calls, n)
            t = processes_time(shape, inputs.costs, n, calls, cores, chunk)
            add("processes", n, base, "processes", chunk, t, "pool start-up, pickling both ways, κ")
    for probes, other in ((inputs.baseline, shape), *inputs.others):
        scale = 1.0 if probes is inputs.baseline else _scale(probes, shape, other)
        for n in range(1, cores + 1):
            pool_s = interpreters_time(probes, n, calls, other.call_s)
            if pool_s is not None:
                basis = f"{probes.interpreter.label} interpreters probe: start-up, then waves of calls"
                add("interpreters", n, probes.interpreter, "interpreters", 1, pool_s * scale, basis)
    for probes, other in inputs.others:
        who = probes.interpreter
        if not who.free_threaded:
            continue
        name = "free-threaded-threads" if not who.gil_enabled else "threads"
        scale = _scale(probes, shape, other)
        paired = "paired" if probes.relative_speed else "unpaired"
        for n in thread_counts(other, cores, calls):
            if n > 1 and not any(k > 1 for k in other.threads_correction):
                continue  # no scaling probe ran on that build (probes.notes says why)
            t = threads_time(other, n, calls, cores) * scale
            basis = f"{who.label} call and threads probes, {paired} with {base.label} serial"
            add(name, n, who, "threads", 1, t, basis)
    return out
